/*
 * kernels/segment_profile.h — the per-customer and per-segment numbers around a k-means
 * segmentation: the feature matrix gathered from typed columns, each customer's distance to
 * the centre of its segment, and per-segment column sums and cross counts for the profiles.
 *
 * Columns are views (sgs_feature_column_t): a double column with a stride (so that a column
 * of a row-major matrix is one too) or an int32 column, each value divided by a divisor
 * (1 leaves it exactly as it is: recency in days / 7 is weeks). Labels are 0..k-1.
 *
 * Determinism: the gather and the distances are per customer (a pure function of the row:
 * the same bits for any thread count); each column's sums are added by one thread in customer
 * order, so they are the same bits as a plain loop; counts are integers. Each parallel kernel
 * has a serial reference twin (suffix _ref) or a test against a plain loop, bit for bit. No
 * I/O, no globals.
 */
#ifndef SGS_SEGMENT_PROFILE_H
#define SGS_SEGMENT_PROFILE_H

#include "kernels/core.h"

#include <stdint.h>

/* A column of n values (borrowed). */
typedef struct sgs_feature_column {
    const double *f64;  /* element c at f64[c * stride], or NULL for an int32 column */
    size_t stride;      /* of f64, in doubles; 0 means 1 */
    const int32_t *i32; /* element c at i32[c] when f64 is NULL */
    double divisor;     /* the value is element / divisor; exactly the element when 1 */
} sgs_feature_column_t;

/* Value c of a column (above). */
static inline double sgs_feature_column_value(const sgs_feature_column_t *col, size_t c)
{
    double v = col->f64 ? col->f64[c * (col->stride ? col->stride : 1)] : (double)col->i32[c];
    return col->divisor == 1.0 ? v : v / col->divisor;
}

/* x[c * d + f] = sgs_feature_column_value(&cols[f], c) for c < n, f < d: the n x d row-major
 * feature matrix (x caller-owned). Not finite values are copied as they are. Parallel over
 * rows. @return 0 or SGS_EINVAL (d == 0 or a NULL array). */
int sgs_features_gather(const sgs_feature_column_t *cols, size_t d, size_t n,
                        const sgs_exec_t *exec, double *x, sgs_error_t *err);

/* Serial reference twin. */
int sgs_features_gather_ref(const sgs_feature_column_t *cols, size_t d, size_t n, double *x,
                            sgs_error_t *err);

/* dist[c] = sqrt(Σ_f (x_cf - m_f)²), the Euclidean distance of row c of x (n x d) to the centre
 * m = centers[labels[c]] (k x d), the squares added in column order. Parallel over rows.
 * @return 0; SGS_EINVAL (a NULL array, d == 0, a label outside 0..k-1: err names the row). */
int sgs_segment_distances(const double *x, size_t n, size_t d, const double *centers, size_t k,
                          const int32_t *labels, const sgs_exec_t *exec, double *dist,
                          sgs_error_t *err);

/* Serial reference twin. */
int sgs_segment_distances_ref(const double *x, size_t n, size_t d, const double *centers, size_t k,
                              const int32_t *labels, double *dist, sgs_error_t *err);

/* sums[j * d + f] = Σ_{c: labels[c] = j} sgs_feature_column_value(&cols[f], c), added in
 * customer order (sums [k x d], overwritten, 0 for an empty segment). Parallel over columns,
 * each column summed in customer order: the same bits whatever the thread count.
 * @return 0 or SGS_EINVAL (a NULL array, a label outside 0..k-1: the first is named; sums
 * untouched). */
int sgs_segment_sums(const sgs_feature_column_t *cols, size_t d, size_t n, const int32_t *labels,
                     size_t k, const sgs_exec_t *exec, double *sums, sgs_error_t *err);

/* sgs_segment_sums without the zeroing: sums[j * d + f] += each value, in customer order,
 * continuing the sums already there (a caller whose customers are spread over processes
 * continues the sums of the customers before them: engine/dist_segments.h). The same checks and
 * codes; the same bits as sgs_segment_sums over the customers before and these together. */
int sgs_segment_sums_add(const sgs_feature_column_t *cols, size_t d, size_t n,
                         const int32_t *labels, size_t k, const sgs_exec_t *exec, double *sums,
                         sgs_error_t *err);

/* counts[j * n_codes + code[c]] = customers c of segment j = labels[c] with that code; with
 * code NULL, counts[j] = customers of segment j (n_codes ignored). counts [k x n_codes] or
 * [k], overwritten. Integer counts, exact; parallel over blocks of customers.
 * @return 0, SGS_EINVAL (a NULL array, a label or code out of range: the first such customer
 * is named) or SGS_ENOMEM; counts untouched on error. */
int sgs_segment_counts(size_t n, const int32_t *labels, size_t k, const uint8_t *code,
                       size_t n_codes, const sgs_exec_t *exec, size_t *counts, sgs_error_t *err);

/* The profiles from the sums of sgs_segment_sums, in place, for k segments of size[j]
 * customers and d columns ([k x d], row-major): mean[j d + f] = mean[j d + f] / size[j] (NaN
 * for an empty segment), the segment's mean; deviation[j d + f] =
 * (deviation[j d + f] / size[j] - base_mean[f]) / sqrt(base_var[f]), the segment's mean of a
 * column in base standard deviations from the base's mean (0 for an empty segment or a column
 * without variance). base_mean, base_var: [d] (sgs_features_column_moments). */
void sgs_segment_profile_means(size_t k, size_t d, const size_t *size, const double *base_mean,
                               const double *base_var, double *mean, double *deviation);

/* share[j] = sum[j] / total for j < k; NaN when total is 0. */
void sgs_segment_shares(size_t k, const double *sum, double total, double *share);

#endif /* SGS_SEGMENT_PROFILE_H */
