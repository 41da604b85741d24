/*
 * kernels/features.h — turning a customer feature matrix into something k-means can use:
 * per-column transforms (log1p for counts and money), column quantiles (to judge a
 * column's spread), robust scaling (winsorized, median and central range) or
 * standardization, and an optional principal component analysis (a Jacobi eigen-decomposition of
 * the covariance matrix), with the explained variance of each component. And the inverses,
 * to show centroids in original units.
 *
 * Data: x is n rows by d columns, row-major (x[i*d + f]), caller-owned. Column
 * statistics are formed per block of SGS_BLOCK_ROWS rows and combined in block order, so
 * results are bitwise identical whatever exec->n_threads.
 */
#ifndef SGS_FEATURES_H
#define SGS_FEATURES_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

typedef enum sgs_feature_transform {
    SGS_FEATURE_IDENTITY = 0,    /* y = x */
    SGS_FEATURE_LOG1P = 1,       /* y = log(1 + x), x > -1: counts, non-negative money */
    SGS_FEATURE_SIGNED_LOG1P = 2 /* y = sign(x) log(1 + |x|): money that can be negative */
} sgs_feature_transform_t;

/* Apply kinds[f] to column f of x, in place (log1p from the C library, accurate near 0).
 * @return 0; SGS_EDATA for a non-finite value or, with LOG1P, a value <= -1 (message
 * names the row and column); SGS_EINVAL for an unknown kind. On error x is partly
 * transformed. */
int sgs_features_transform(double *x, size_t n, size_t d, const sgs_feature_transform_t *kinds,
                           const sgs_exec_t *exec, sgs_error_t *err);

/* sgs_features_transform of a matrix whose column f, where src[f] is not NULL, was gathered
 * from int32 values: x[i d + f] = src[f][i] (divided by divisor[f] unless that is 1, as
 * kernels/segment_profile.h's sgs_feature_column_value computes it; precondition). Such a
 * column (days, counts) holds few distinct values: each one's transform is computed once, in a
 * table over the column's range, and looked up, instead of one log1p per row; when the range
 * is too wide (over n / 4 or 2^20 values) or holds a value log1p refuses, the column is
 * transformed in place as usual. The same bits, codes and messages as sgs_features_transform
 * (SGS_ENOMEM besides, for a table). Tables are used when d <= 8. */
int sgs_features_transform_ints(double *x, size_t n, size_t d, const sgs_feature_transform_t *kinds,
                                const int32_t *const *src, const double *divisor,
                                const sgs_exec_t *exec, sgs_error_t *err);

/* Inverse of sgs_features_transform (expm1; sign(y) expm1(|y|)), in place, n rows. */
void sgs_features_untransform(double *x, size_t n, size_t d, const sgs_feature_transform_t *kinds);

/* Column means mean_f = (1/n) sum_i x_if and population variances var_f = (1/n) sum_i
 * (x_if - mean_f)^2 (two passes, block partials combined in block order: bitwise the same
 * whatever exec->n_threads). mean and var (d each) are written. @return 0 or SGS_ENOMEM. */
int sgs_features_column_moments(const double *x, size_t n, size_t d, const sgs_exec_t *exec,
                                double *mean, double *var);

/* The block partials behind sgs_features_column_moments: for each block b of SGS_BLOCK_ROWS
 * rows from row 0 (nb = sgs_block_count(n, SGS_BLOCK_ROWS)), part[b d + f] = the sum over its
 * rows, in row order, of x_if (center NULL: the means' pass) or of (x_if - center_f)^2 (the
 * variances' pass). The moments are these partials added in block order from 0, divided by n;
 * rows spread over processes in whole blocks make the same partials there
 * (engine/dist_segments.h). part: nb x d, written. Parallel over blocks; the same bits for any
 * thread count. */
void sgs_features_column_block_sums(const double *x, size_t n, size_t d, const double *center,
                                    const sgs_exec_t *exec, double *part);

/* x_if = (x_if - mean_f) / scale_f for every row, in place: the last step of
 * sgs_features_standardize (each row alone, so the same bits wherever the row is). */
void sgs_features_standardize_apply(double *x, size_t n, size_t d, const double *mean,
                                    const double *scale, const sgs_exec_t *exec);

/* Standardize the columns of x in place: mean_f = (1/n) sum_i x_if, var_f = (1/n) sum_i
 * (x_if - mean_f)^2 (two passes; population variance, as scikit-learn's StandardScaler),
 * scale_f = sqrt(var_f), or 1 when var_f == 0 (a constant column becomes 0, as sklearn);
 * then x_if = (x_if - mean_f) / scale_f. mean and scale (d each) are written.
 * @return 0; SGS_EINVAL when n == 0 or d == 0; SGS_ENOMEM. */
int sgs_features_standardize(double *x, size_t n, size_t d, const sgs_exec_t *exec, double *mean,
                             double *scale, sgs_error_t *err);

/* x_if = x_if * scale_f + mean_f, in place (centroids back to transformed units). */
void sgs_features_unstandardize(double *x, size_t n, size_t d, const double *mean,
                                const double *scale);

/* ---- Robust scaling ------------------------------------------------------------------ */

/* Per column f, three order statistics of x_0f..x_(n-1)f: with m = floor(tail * n) values set
 * aside at each end, lo[f] is the (m+1)-th smallest, hi[f] the (m+1)-th largest, and
 * median[f] the median (the middle value; the mean of the two middle ones for even n).
 * Example: n = 1000, tail = 0.01: m = 10, lo is the 11th smallest and hi the 11th largest,
 * so up to 10 outliers at either end cannot move them. Exact (introselect on a copy of the
 * column, kernels/order_stats.h), so the results do not depend on row order or threads.
 * tail in [0, 0.5); tail = 0 gives the minimum and maximum. lo, median, hi: d each, written.
 * Columns are processed in parallel, each whole by one thread, with one scratch copy of a
 * column (n doubles) per thread at work: min(exec->n_threads, d) x n doubles, allocated per
 * call. O(n) expected per column.
 * @return 0; SGS_EINVAL when n == 0 or tail is out of range; SGS_EDATA for a non-finite
 * value (the message names the first such row of the first such column); SGS_ENOMEM. */
int sgs_features_quantiles(const double *x, size_t n, size_t d, double tail, const sgs_exec_t *exec,
                           double *lo, double *median, double *hi, sgs_error_t *err);

/* Keep the columns f with keep[f] != 0, in their order: x (n x d, row-major) becomes
 * n x d_kept in place (serial: rows move towards the front). @return d_kept. */
size_t sgs_features_keep_columns(double *x, size_t n, size_t d, const unsigned char *keep);

/* Robust scaling, in place: each value is first winsorized to [lo_f, hi_f] (a value below
 * lo_f becomes lo_f, above hi_f becomes hi_f), then x_if = (x_if - center_f) / scale_f.
 * n_clipped[f] (d entries, written) counts the rows of column f that were pulled in. The
 * caller chooses the bounds, center and scale (segments: the quantiles of
 * sgs_features_quantiles with tail 0.01, the median, and the central range over
 * 2 Phi^-1(0.99), see engine/run_segments.c); lo_f <= hi_f, scale_f > 0. Rows are independent
 * and the counts are integers, so the result does not depend on the thread count. Inverse
 * (for centres, which are means of rows and so inside the bounds):
 * sgs_features_unstandardize with the same center and scale. */
void sgs_features_robust_scale(double *x, size_t n, size_t d, const double *lo, const double *hi,
                               const double *center, const double *scale, const sgs_exec_t *exec,
                               size_t *n_clipped);

/* Robust scale = central 98% range / (2 Phi^-1(0.99)): for normally distributed values it is
 * the standard deviation (Phi^-1(0.99) = 2.3263478740408408). */
#define SGS_FEATURES_RANGE98_PER_SD 4.6526957480816815

/* The centre and scale of robust scaling from the quantiles of sgs_features_quantiles (tail
 * 0.01): center_f = median_f, scale_f = (hi_f - lo_f) / SGS_FEATURES_RANGE98_PER_SD, or 1 when
 * hi_f <= lo_f (a column whose range is 0). d entries each; center and scale written. Pure. */
static inline void sgs_features_robust_params(size_t d, const double *lo, const double *median,
                                              const double *hi, double *center, double *scale)
{
    for (size_t f = 0; f < d; f++) {
        center[f] = median[f];
        scale[f] = hi[f] > lo[f] ? (hi[f] - lo[f]) / SGS_FEATURES_RANGE98_PER_SD : 1.0;
    }
}

/* ---- Principal components ------------------------------------------------------------ */

/* A fitted PCA (owned; sgs_pca_destroy frees it). */
typedef struct sgs_pca {
    size_t d;                         /* input columns */
    size_t n_components;              /* kept components, 1..d */
    double *mean;                     /* d: column means removed before projecting */
    double *components;               /* n_components x d: unit principal axes, by
                                         decreasing variance; sign: the entry of largest
                                         magnitude (first such) is positive */
    double *explained_variance;       /* n_components: eigenvalues of the covariance
                                         (divisor n - 1, as scikit-learn), >= 0 */
    double *explained_variance_ratio; /* n_components: explained_variance / total_variance */
    double total_variance;            /* trace of the covariance = sum of all d eigenvalues */
} sgs_pca_t;

/* Fit a PCA: covariance C = (1/(n-1)) sum_i (x_i - mean)(x_i - mean)^T (block partials in
 * order), eigen-decomposition by cyclic Jacobi (kernels/linalg.h; eigenvalues clamped
 * at 0 against rounding), components sorted by decreasing eigenvalue. n_components = 0
 * keeps the smallest number whose cumulative ratio reaches min_ratio (in (0, 1]; ignored
 * when n_components > 0); otherwise min(n_components, d).
 * @return 0; SGS_EINVAL when n < 2, d == 0 or min_ratio is out of range; SGS_EDATA when
 * the decomposition fails (non-finite input); SGS_ENOMEM. *out is NULL on error. */
int sgs_pca_fit(const double *x, size_t n, size_t d, size_t n_components, double min_ratio,
                const sgs_exec_t *exec, sgs_pca_t **out, sgs_error_t *err);

/* The pieces of sgs_pca_fit, for rows spread over processes (engine/dist_segments.h):
 * sgs_pca_check is its argument check (the same codes and messages, n counting every row);
 * sgs_pca_block_partials writes, for each block b of SGS_BLOCK_ROWS rows from row 0, the upper
 * triangle (row by row: (0,0), (0,1) .. (0,d-1), (1,1) ..; d (d + 1) / 2 values) of
 * sum_i (x_i - mean)(x_i - mean)^T over its rows in order into part[b * d (d + 1) / 2 ..]
 * (parallel over blocks); sgs_pca_from_sums fits from those partials added in block order from
 * 0 (sum) and the column means (as sgs_features_column_moments'), with n every row: the same
 * *out as sgs_pca_fit, which is these three in turn. @return as sgs_pca_fit. */
int sgs_pca_check(size_t n, size_t d, size_t n_components, double min_ratio, sgs_error_t *err);
void sgs_pca_block_partials(const double *x, size_t n, size_t d, const double *mean,
                            const sgs_exec_t *exec, double *part);
int sgs_pca_from_sums(const double *sum, const double *mean, size_t n, size_t d,
                      size_t n_components, double min_ratio, sgs_pca_t **out, sgs_error_t *err);

/* out_i (n_components values) = components (x_i - mean): the projection of each row.
 * out is n x n_components, caller-owned. */
void sgs_pca_transform(const sgs_pca_t *pca, const double *x, size_t n, const sgs_exec_t *exec,
                       double *out);

/* x_i = mean + components^T y_i: rows of y (n x n_components) back to the d input columns. */
void sgs_pca_inverse(const sgs_pca_t *pca, const double *y, size_t n, double *x);

/* Free a PCA (NULL is fine). */
void sgs_pca_destroy(sgs_pca_t *pca);

/* ---- Serial reference twins ------------------------------------------------------------
 * One plain loop each, no threads; tests compare them with the kernels above on 1, 2 and 3
 * threads. All give the kernels' bits: the sums are taken in the kernels' order (the rows of
 * each block of SGS_BLOCK_ROWS from 0, the block sums in block order), which is what makes the
 * kernels thread-count independent; the order statistics are properties of the multiset. */

/* Twin of sgs_features_transform: row by row, stopping at the first bad value (the same code
 * and message). */
int sgs_features_transform_ref(double *x, size_t n, size_t d, const sgs_feature_transform_t *kinds,
                               sgs_error_t *err);

/* Twin of sgs_features_column_moments (never fails: @return 0). */
int sgs_features_column_moments_ref(const double *x, size_t n, size_t d, double *mean, double *var);

/* Twin of sgs_features_standardize. */
int sgs_features_standardize_ref(double *x, size_t n, size_t d, double *mean, double *scale,
                                 sgs_error_t *err);

/* Twin of sgs_features_quantiles: each column copied and sorted (qsort), lo the (m+1)-th,
 * hi the (n-m)-th value, the median the middle one or the mean of the two middle ones; the
 * same bits (values -0 and +0 are equal for the order and either may be returned where both
 * occur), codes and messages (but for SGS_ENOMEM's). */
int sgs_features_quantiles_ref(const double *x, size_t n, size_t d, double tail, double *lo,
                               double *median, double *hi, sgs_error_t *err);

/* Twin of sgs_features_robust_scale. */
void sgs_features_robust_scale_ref(double *x, size_t n, size_t d, const double *lo,
                                   const double *hi, const double *center, const double *scale,
                                   size_t *n_clipped);

/* Twin of sgs_pca_transform. */
void sgs_pca_transform_ref(const sgs_pca_t *pca, const double *x, size_t n, double *out);

#endif
