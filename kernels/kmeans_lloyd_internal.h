/*
 * kernels/kmeans_lloyd_internal.h — what one k-means run (kernels/kmeans_lloyd.c), the
 * relocation of empty clusters (kernels/kmeans_empty.c) and the restarts of sgs_kmeans_fit
 * (kernels/kmeans.c) share: the run's workspace. Not a public contract; see kernels/kmeans.h.
 */
#ifndef SGS_KMEANS_LLOYD_INTERNAL_H
#define SGS_KMEANS_LLOYD_INTERNAL_H

#include "kernels/kmeans.h"
#include "kernels/kmeans_dist_internal.h"

/* A relocation candidate: a row and its squared distance to its own center. */
typedef struct sgs__kmeans_far_row {
    double dist;
    size_t row;
} sgs__kmeans_far_row_t;

/* The workspace of one run, sized for (n, d, k, algorithm) by sgs__kmeans_ws_alloc. */
typedef struct sgs__kmeans_ws {
    size_t n, d, k, nb, stride;
    double *centers_new; /* k x d */
    double *part;        /* nb x 4 x stride: per-block sub-partials (kmeans_dist_internal.h) */
    double *part_total;  /* stride: folded partials combined in block order */
    double *wsum;        /* k, combined weights */
    size_t *changed;     /* nb */
    uint64_t *ndist;     /* nb */
    uint64_t *rechecked; /* nb */
    double *shift;       /* k, sqrt of squared shift of each center (sklearn center_shift) */
    double *sigma;       /* k, shift inflated to an upper bound of the exact shift */
    double *sigma_other; /* k, max over the other centers of sigma */
    double *half;        /* k, lower bound of half the distance to the nearest other center */
    double *halfcc;      /* k x k (Elkan), lower bound of half the center-center distance */
    double *upper;       /* n (Hamerly/Elkan) */
    double *lower;       /* n (Hamerly) or n x k (Elkan) */
    struct sgs__kmeans_far_row
        *far;                /* (nb + 1) x k: relocation candidates per block, then merged */
    int32_t *empty;          /* k */
    uint8_t *lab8;           /* n (Lloyd, k <= 255): labels of the iterations, 255 = none */
    double *prep_ws;         /* sgs__kmeans_prep_size(k, d) */
    sgs__kmeans_prep_t prep; /* the current centers prepared for the labels kernel */
} sgs__kmeans_ws_t;

/* Allocate *w for runs over n rows, d columns and k clusters with `algorithm` (bounds for
 * Hamerly and Elkan, byte labels for Lloyd when k <= 255). @return 0 or SGS_ENOMEM (nothing
 * left allocated). */
int sgs__kmeans_ws_alloc(sgs__kmeans_ws_t *w, size_t n, size_t d, size_t k, int algorithm);

/* Free what *w holds and zero it; a zeroed workspace is accepted. */
void sgs__kmeans_ws_free(sgs__kmeans_ws_t *w);

/* One run of sgs_kmeans_single (contract in kernels/kmeans.h) from `centers`, in the
 * workspace ws allocated for (n, d, opt->k, opt->algorithm): every run sets all of it before
 * reading it, so that restarts share one workspace. Writes centers, labels and *result. */
int sgs__kmeans_run(const double *x, size_t n, size_t d, const double *weights,
                    const sgs_kmeans_options_t *opt, double tol_abs, const sgs_exec_t *exec,
                    double *centers, int32_t *labels, sgs_kmeans_result_t *result,
                    sgs__kmeans_ws_t *ws, sgs_error_t *err);

/* scikit-learn's _relocate_empty_clusters_dense on the combined sums (`sums`, k x d) and
 * weights (ws->wsum) of an update step, with nt threads: each cluster of zero weight takes,
 * in cluster order, the row farthest from its center in centers_old (ties: the lower row),
 * whose contribution moves from its cluster's sums to the empty one's. Uses ws->empty and
 * ws->far. Returns the number relocated (0 also when every row sits on its center). */
size_t sgs__kmeans_relocate_empty(const double *x, size_t n, size_t d, const double *weights,
                                  const double *centers_old, const int32_t *labels, double *sums,
                                  sgs__kmeans_ws_t *ws, int nt);

#endif
