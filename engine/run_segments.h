/*
 * engine/run_segments.h — the segment step's result (engine/run_segments.c): k-means on the
 * standardized features, the segment of every customer of the summary and a profile of
 * each segment. Internal to engine/.
 */
#ifndef SGS_RUN_SEGMENTS_H
#define SGS_RUN_SEGMENTS_H

#include "kernels/kchoice.h"
#include "kernels/kmeans.h"
#include "kernels/rfm.h"
#include "kernels/segment_merge.h"

#include <stddef.h>
#include <stdint.h>

#define SGS_SEGMENTS_MAX_K 256

/* How one feature of segments.features fared in the segment step (docs/segments.md): clustered, or
 * dropped and why, with the numbers the decision was made on. */
typedef struct sgs_segment_feature_check {
    char name[16];
    const char *units;   /* units its spread is measured in: "log1p", "signed log1p",
                            "probability" */
    const char *dropped; /* NULL when clustered; else why: "value step off", "not identified by the
                            fit" or "negligible spread" */
    double q01, median, q99; /* original units: the 11th smallest value of 1,000 (1% set aside
                                at each end), the median, the 11th largest; NaN when the
                                feature could not be computed */
    double spread;           /* (q99 - q01) in `units`: the central 98% range */
    double center, scale;    /* clustered value = (working value - center) / scale */
    size_t n_clipped;        /* robust scaling: customers pulled in to q01 or q99 */
} sgs_segment_feature_check_t;

typedef struct sgs_run_segments {
    int ran;                   /* 0 when segments.enabled is false (or before the step) */
    size_t n_features;         /* d */
    char feature_names[8][16]; /* the features, in matrix column order */
    size_t n_dims;             /* columns clustered: d, or the PCA components */
    size_t k;                  /* segments */
    char k_chosen_by[32];      /* "config", or "silhouette" / "calinski_harabasz" */
    sgs_kchoice_row_t k_table[SGS_SEGMENTS_MAX_K]; /* when k was chosen */
    size_t n_k_table;
    sgs_kmeans_result_t kmeans;
    double explained_variance_ratio[8]; /* PCA, n_dims entries */
    /* owned arrays (NULL before the step) */
    int32_t *segment;                      /* n_customers: 0..k-1 */
    double *segment_distance;              /* n_customers: distance to the centre
                                              (clustered space) */
    double *centroids;                     /* k x n_dims, clustered space */
    double *centroids_original;            /* k x d: centres in original units */
    double *profile_mean, *profile_median; /* k x d, original units */
    double *profile_deviation; /* k x d: (segment mean - base mean) / base standard deviation of
                                  each clustered (transformed, scaled) feature; the labels'
                                  basis */
    size_t *profile_size;      /* k */
    double *profile_revenue_share, *profile_clv_share; /* k (clv: NaN without value step) */
    size_t *profile_rfm_mix;                           /* k x SGS_RFM_SEGMENT_COUNT */
    char (*profile_label)[96];                         /* k readable labels */
    sgs_segment_feature_check_t feature_check[8]; /* every feature asked for, in config order */
    size_t n_feature_check;
    size_t k_fitted;                                /* k of the k-means fit, before merging */
    sgs_segment_merge_t merges[SGS_SEGMENTS_MAX_K]; /* segments under segments.min_share */
    size_t n_merges;
    double inertia; /* sum of squared distances to the final (merged) centres */
} sgs_run_segments_t;

/* An empty result (nothing owned, ran = 0). */
void sgs_run_segments_init(sgs_run_segments_t *s);

/* Free what *s owns and leave it empty. NULL-safe. */
void sgs_run_segments_free(sgs_run_segments_t *s);

#endif
