/*
 * kernels/features.c — column transforms, standardization and PCA. See features.h.
 */
#include "kernels/features.h"

#include "kernels/linalg.h"

#include "kernels/order_stats.h"
#include "kernels/radix_select.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdlib.h>
#include <string.h>

static void block_range(size_t b, size_t n, size_t *r0, size_t *r1)
{
    *r0 = b * SGS_BLOCK_ROWS;
    *r1 = *r0 + SGS_BLOCK_ROWS < n ? *r0 + SGS_BLOCK_ROWS : n;
}

/* ---- Transforms ------------------------------------------------------------------------------ */

/* y of one value (kinds as in features.h): the one place the transforms are computed, so that
 * a value looked up in a table is the value computed in place, bit for bit. */
static inline double transform_value(sgs_feature_transform_t kind, double v)
{
    if (kind == SGS_FEATURE_LOG1P)
        return log1p(v);
    if (kind == SGS_FEATURE_SIGNED_LOG1P)
        return v < 0 ? -log1p(-v) : log1p(v);
    return v;
}

/* sgs_features_transform, except that column f with table[f] != NULL takes
 * table[f][src[f][i] - lo[f]] (its transform, computed once per distinct value). */
static int transform_loop(double *x, size_t n, size_t d, const sgs_feature_transform_t *kinds,
                          double *const *table, const int32_t *const *src, const int32_t *lo,
                          const sgs_exec_t *exec, sgs_error_t *err)
{
    for (size_t f = 0; f < d; f++)
        if ((unsigned)kinds[f] > SGS_FEATURE_SIGNED_LOG1P)
            return sgs_error_set(err, SGS_EINVAL, "column %zu: unknown transform %d", f,
                                 (int)kinds[f]);
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t bad = SIZE_MAX; /* first bad flat index (integer min: exact in any order) */
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static) reduction(min : bad)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        for (size_t i = r0; i < r1 && bad == SIZE_MAX; i++)
            for (size_t f = 0; f < d; f++) {
                if (table && table[f]) { /* no bad value: see sgs_features_transform_ints */
                    x[i * d + f] = table[f][(int64_t)src[f][i] - lo[f]];
                    continue;
                }
                double v = x[i * d + f];
                if (!isfinite(v) || (kinds[f] == SGS_FEATURE_LOG1P && v <= -1)) {
                    bad = i * d + f;
                    break;
                }
                x[i * d + f] = transform_value(kinds[f], v);
            }
    }
    if (bad == SIZE_MAX)
        return SGS_OK;
    /* The flat index above is the first bad one of its block; report the smallest. */
    double v = x[bad];
    if (!isfinite(v))
        return sgs_error_set(err, SGS_EDATA, "row %zu column %zu is %s", bad / d, bad % d,
                             isnan(v) ? "NaN" : "infinite");
    return sgs_error_set(err, SGS_EDATA, "row %zu column %zu is %g: log1p needs values > -1",
                         bad / d, bad % d, v);
}

int sgs_features_transform(double *x, size_t n, size_t d, const sgs_feature_transform_t *kinds,
                           const sgs_exec_t *exec, sgs_error_t *err)
{
    return transform_loop(x, n, d, kinds, NULL, NULL, NULL, exec, err);
}

/* Distinct values of an int column above which a table is not worth it (or too large). */
#define TABLE_MAX ((size_t)1 << 20)

int sgs_features_transform_ints(double *x, size_t n, size_t d, const sgs_feature_transform_t *kinds,
                                const int32_t *const *src, const double *divisor,
                                const sgs_exec_t *exec, sgs_error_t *err)
{
    if (d > 8)
        return transform_loop(x, n, d, kinds, NULL, NULL, NULL, exec, err);
    double *table[8] = {NULL};
    int32_t lo[8] = {0};
    int nt = sgs_exec_threads(exec);
    int rc = SGS_OK;
    for (size_t f = 0; f < d && n > 0; f++) {
        if (!src[f] || (unsigned)kinds[f] > SGS_FEATURE_SIGNED_LOG1P ||
            kinds[f] == SGS_FEATURE_IDENTITY)
            continue;
        int32_t mn = INT32_MAX, mx = INT32_MIN; /* integer min and max: exact in any order */
        const int32_t *col = src[f];
#pragma omp parallel for num_threads(nt) schedule(static) reduction(min : mn) reduction(max : mx)
        for (size_t i = 0; i < n; i++) {
            mn = col[i] < mn ? col[i] : mn;
            mx = col[i] > mx ? col[i] : mx;
        }
        size_t range = (size_t)((int64_t)mx - (int64_t)mn) + 1;
        double v_min = divisor[f] == 1.0 ? (double)mn : (double)mn / divisor[f];
        /* a table pays when it holds far fewer values than the column; a column with a
         * value log1p refuses keeps the generic path, which reports it */
        if (range > TABLE_MAX || range > n / 4 || (kinds[f] == SGS_FEATURE_LOG1P && v_min <= -1))
            continue;
        table[f] = sgs_alloc_array(range, sizeof *table[f]);
        if (!table[f]) {
            rc = sgs_error_set(err, SGS_ENOMEM, "transform: no memory for a table of %zu values",
                               range);
            goto cleanup;
        }
        lo[f] = mn;
        double *t = table[f];
        double div = divisor[f];
        sgs_feature_transform_t kind = kinds[f];
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t j = 0; j < range; j++) {
            /* the value as sgs_feature_column_value computes it */
            double v = (double)(int32_t)((int64_t)mn + (int64_t)j);
            t[j] = transform_value(kind, div == 1.0 ? v : v / div);
        }
    }
    rc = transform_loop(x, n, d, kinds, table, src, lo, exec, err);
cleanup:
    for (size_t f = 0; f < 8; f++)
        sgs_free(table[f]);
    return rc;
}

void sgs_features_untransform(double *x, size_t n, size_t d, const sgs_feature_transform_t *kinds)
{
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++) {
            double y = x[i * d + f];
            if (kinds[f] == SGS_FEATURE_LOG1P)
                x[i * d + f] = expm1(y);
            else if (kinds[f] == SGS_FEATURE_SIGNED_LOG1P)
                x[i * d + f] = y < 0 ? -expm1(-y) : expm1(y);
        }
}

/* ---- Column means and second moments ----------------------------------------------------------
 */

void sgs_features_column_block_sums(const double *x, size_t n, size_t d, const double *center,
                                    const sgs_exec_t *exec, double *part)
{
    int nt = sgs_exec_threads(exec);
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        double *p = part + b * d;
        for (size_t f = 0; f < d; f++)
            p[f] = 0;
        if (!center) {
            for (size_t i = r0; i < r1; i++)
                for (size_t f = 0; f < d; f++)
                    p[f] += x[i * d + f];
            continue;
        }
        for (size_t i = r0; i < r1; i++)
            for (size_t f = 0; f < d; f++) {
                double t = x[i * d + f] - center[f];
                p[f] += t * t;
            }
    }
}

/* out[f] = (sum of part[b d + f] over the nb blocks, in block order) / n. */
static void blocks_over_n(const double *part, size_t nb, size_t n, size_t d, double *out)
{
    for (size_t f = 0; f < d; f++) {
        double s = 0;
        for (size_t b = 0; b < nb; b++)
            s += part[b * d + f];
        out[f] = s / (double)n;
    }
}

/* mean[f] of the columns: per-block sums combined in block order. */
static int column_means(const double *x, size_t n, size_t d, int nt, double *mean)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    double *part = sgs_alloc_array(nb, d * sizeof *part);
    if (!part)
        return SGS_ENOMEM;
    sgs_exec_t exec = {.n_threads = nt};
    sgs_features_column_block_sums(x, n, d, NULL, &exec, part);
    blocks_over_n(part, nb, n, d, mean);
    sgs_free(part);
    return SGS_OK;
}

int sgs_features_column_moments(const double *x, size_t n, size_t d, const sgs_exec_t *exec,
                                double *mean, double *var)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    double *part = sgs_alloc_array(nb, d * sizeof *part);
    if (!part)
        return SGS_ENOMEM;
    sgs_features_column_block_sums(x, n, d, NULL, exec, part);
    blocks_over_n(part, nb, n, d, mean);
    sgs_features_column_block_sums(x, n, d, mean, exec, part);
    blocks_over_n(part, nb, n, d, var);
    sgs_free(part);
    return SGS_OK;
}

int sgs_features_standardize(double *x, size_t n, size_t d, const sgs_exec_t *exec, double *mean,
                             double *scale, sgs_error_t *err)
{
    if (n == 0 || d == 0)
        return sgs_error_set(err, SGS_EINVAL, "standardize: empty matrix (%zu x %zu)", n, d);
    if (sgs_features_column_moments(x, n, d, exec, mean, scale))
        return sgs_error_set(err, SGS_ENOMEM, "standardize: out of memory");
    for (size_t f = 0; f < d; f++) {
        double sd = sqrt(scale[f]); /* scale held the variance */
        scale[f] = sd > 0 ? sd : 1.0;
    }
    sgs_features_standardize_apply(x, n, d, mean, scale, exec);
    return SGS_OK;
}

void sgs_features_standardize_apply(double *x, size_t n, size_t d, const double *mean,
                                    const double *scale, const sgs_exec_t *exec)
{
    int nt = sgs_exec_threads(exec);
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        for (size_t i = r0; i < r1; i++)
            for (size_t f = 0; f < d; f++)
                x[i * d + f] = (x[i * d + f] - mean[f]) / scale[f];
    }
}

void sgs_features_unstandardize(double *x, size_t n, size_t d, const double *mean,
                                const double *scale)
{
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++)
            x[i * d + f] = x[i * d + f] * scale[f] + mean[f];
}

/* ---- Robust scaling ----------------------------------------------------------------------------
 */

/* The quantiles of one column, gathered into col (n entries); *bad = the first row that is
 * not finite (SIZE_MAX when all are). */
static void column_quantiles(const double *x, size_t n, size_t d, size_t f, size_t m, double *col,
                             double *lo, double *median, double *hi, size_t *bad)
{
    *bad = SIZE_MAX;
    int neg_zero = 0, pos_zero = 0; /* sgs_has_both_zeros, in the same pass */
    double min = x[f], max = x[f];  /* for the radix select */
    for (size_t i = 0; i < n; i++) {
        col[i] = x[i * d + f];
        if (!isfinite(col[i])) {
            *bad = i;
            return;
        }
        if (col[i] == 0) {
            neg_zero |= signbit(col[i]) != 0;
            pos_zero |= signbit(col[i]) == 0;
        }
        min = col[i] < min ? col[i] : min;
        max = col[i] > max ? col[i] : max;
    }
    size_t k = (n - 1) / 2;
    if (neg_zero && pos_zero) {
        /* After selecting the middle order statistic k, col[0..k] holds the k+1 smallest
         * values and col[k..n) the n-k largest (order_stats.h), so lo and hi are selected
         * within those halves. With both zeros in the column only sgs_select_kth's order
         * gives its zeros. */
        *median = sgs_median_inplace(col, n);
        *lo = sgs_select_kth(col, k + 1, m);
        *hi = sgs_select_kth(col + k, n - k, n - 1 - m - k);
        return;
    }
    /* Otherwise every selection gives the same bits: the four ranks (m <= k < n/2 <= n-1-m)
     * share the radix select's passes. */
    size_t rank[4] = {m, k, n / 2, n - 1 - m};
    double v[4];
    sgs_radix_select(col, n, min, max, rank, 4, v);
    *lo = v[0];
    *median = n % 2 ? v[1] : 0.5 * (v[1] + v[2]);
    *hi = v[3];
}

int sgs_features_quantiles(const double *x, size_t n, size_t d, double tail, const sgs_exec_t *exec,
                           double *lo, double *median, double *hi, sgs_error_t *err)
{
    if (n == 0 || d == 0)
        return sgs_error_set(err, SGS_EINVAL, "quantiles: empty matrix (%zu x %zu)", n, d);
    if (!(tail >= 0 && tail < 0.5))
        return sgs_error_set(err, SGS_EINVAL, "quantiles: tail must be in [0, 0.5), got %g", tail);
    size_t m = (size_t)floor(tail * (double)n); /* < n / 2 */
    /* One scratch column per thread at work: columns are independent, so each is computed
     * whole by one thread and the results do not depend on the thread count. */
    int nt = sgs_exec_threads(exec);
    size_t n_scratch = (size_t)nt < d ? (size_t)nt : d;
    double *scratch = sgs_alloc_array(n_scratch, n * sizeof *scratch);
    size_t *bad = sgs_alloc_array(d, sizeof *bad);
    if (!scratch || !bad) {
        sgs_free(scratch);
        sgs_free(bad);
        return sgs_error_set(err, SGS_ENOMEM, "quantiles: no memory for %zu x %zu values",
                             n_scratch, n);
    }
#pragma omp parallel num_threads((int)n_scratch)
    {
#ifdef _OPENMP
        double *col = scratch + (size_t)omp_get_thread_num() * n;
#else
        double *col = scratch;
#endif
#pragma omp for schedule(dynamic, 1)
        for (size_t f = 0; f < d; f++)
            column_quantiles(x, n, d, f, m, col, &lo[f], &median[f], &hi[f], &bad[f]);
    }
    int rc = SGS_OK;
    for (size_t f = 0; f < d && rc == SGS_OK; f++)
        if (bad[f] != SIZE_MAX) {
            double v = x[bad[f] * d + f];
            /* the first bad column; name its first bad row */
            rc = sgs_error_set(err, SGS_EDATA, "row %zu column %zu is %s", bad[f], f,
                               isnan(v) ? "NaN" : "infinite");
        }
    sgs_free(scratch);
    sgs_free(bad);
    return rc;
}

size_t sgs_features_keep_columns(double *x, size_t n, size_t d, const unsigned char *keep)
{
    size_t kept = 0;
    for (size_t f = 0; f < d; f++)
        kept += keep[f] != 0;
    if (kept == d)
        return d;
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++)
            if (keep[f])
                x[out++] = x[i * d + f]; /* out <= i * d + f: never overwrites unread data */
    return kept;
}

void sgs_features_robust_scale(double *x, size_t n, size_t d, const double *lo, const double *hi,
                               const double *center, const double *scale, const sgs_exec_t *exec,
                               size_t *n_clipped)
{
    for (size_t f = 0; f < d; f++)
        n_clipped[f] = 0;
    int nt = sgs_exec_threads(exec);
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    /* integer counts: the reduction is exact in any order */
#pragma omp parallel for num_threads(nt) schedule(static) reduction(+ : n_clipped[:d])
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        for (size_t i = r0; i < r1; i++)
            for (size_t f = 0; f < d; f++) {
                double v = x[i * d + f];
                if (v < lo[f] || v > hi[f]) {
                    v = v < lo[f] ? lo[f] : hi[f];
                    n_clipped[f]++;
                }
                x[i * d + f] = (v - center[f]) / scale[f];
            }
    }
}

/* ---- PCA ----------------------------------------------------------------------------------------
 */

void sgs_pca_destroy(sgs_pca_t *pca)
{
    if (!pca)
        return;
    sgs_free(pca->mean);
    sgs_free(pca->components);
    sgs_free(pca->explained_variance);
    sgs_free(pca->explained_variance_ratio);
    sgs_free(pca);
}

void sgs_pca_block_partials(const double *x, size_t n, size_t d, const double *mean,
                            const sgs_exec_t *exec, double *part)
{
    int nt = sgs_exec_threads(exec);
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t tri = d * (d + 1) / 2;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        double *q = part + b * tri;
        for (size_t e = 0; e < tri; e++)
            q[e] = 0;
        for (size_t i = r0; i < r1; i++) {
            size_t e = 0;
            for (size_t a = 0; a < d; a++) {
                double ta = x[i * d + a] - mean[a];
                for (size_t c = a; c < d; c++)
                    q[e++] += ta * (x[i * d + c] - mean[c]);
            }
        }
    }
}

int sgs_pca_check(size_t n, size_t d, size_t n_components, double min_ratio, sgs_error_t *err)
{
    if (n < 2 || d == 0)
        return sgs_error_set(err, SGS_EINVAL,
                             "PCA needs at least 2 rows and 1 column (got %zu x %zu)", n, d);
    if (n_components == 0 && !(min_ratio > 0 && min_ratio <= 1))
        return sgs_error_set(err, SGS_EINVAL, "PCA: min_ratio must be in (0, 1], got %g",
                             min_ratio);
    if (d > 46340)
        return sgs_error_set(err, SGS_EINVAL, "PCA: %zu columns is too many", d);
    return SGS_OK;
}

int sgs_pca_fit(const double *x, size_t n, size_t d, size_t n_components, double min_ratio,
                const sgs_exec_t *exec, sgs_pca_t **out, sgs_error_t *err)
{
    *out = NULL;
    int rc = sgs_pca_check(n, d, n_components, min_ratio, err);
    if (rc != SGS_OK)
        return rc;
    int nt = sgs_exec_threads(exec);
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t tri = d * (d + 1) / 2;
    double *mean = sgs_alloc_array(d, sizeof *mean);
    double *part = sgs_alloc_array(nb, tri * sizeof *part);
    double *sum = sgs_alloc_array(tri, sizeof *sum);
    if (!mean || !part || !sum || column_means(x, n, d, nt, mean)) {
        rc = sgs_error_set(err, SGS_ENOMEM, "PCA: out of memory");
        goto cleanup;
    }
    /* Upper triangle of sum (x - mean)(x - mean)^T per block, added in block order. */
    sgs_pca_block_partials(x, n, d, mean, exec, part);
    for (size_t e = 0; e < tri; e++) {
        double s = 0;
        for (size_t b = 0; b < nb; b++)
            s += part[b * tri + e];
        sum[e] = s;
    }
    rc = sgs_pca_from_sums(sum, mean, n, d, n_components, min_ratio, out, err);
cleanup:
    sgs_free(mean);
    sgs_free(part);
    sgs_free(sum);
    return rc;
}

int sgs_pca_from_sums(const double *sum, const double *mean, size_t n, size_t d,
                      size_t n_components, double min_ratio, sgs_pca_t **out, sgs_error_t *err)
{
    *out = NULL;
    sgs_pca_t *p = sgs_calloc_array(1, sizeof *p);
    double *cov = sgs_alloc_array(d * d, sizeof *cov);
    double *w = sgs_alloc_array(d, sizeof *w);
    double *eig_work = sgs_alloc_array(d * d, sizeof *eig_work);
    int rc = SGS_OK;
    if (!p || !cov || !w || !eig_work || !(p->mean = sgs_alloc_array(d, sizeof(double)))) {
        rc = sgs_error_set(err, SGS_ENOMEM, "PCA: out of memory");
        goto cleanup;
    }
    p->d = d;
    memcpy(p->mean, mean, d * sizeof *mean);
    size_t e = 0;
    for (size_t a = 0; a < d; a++)
        for (size_t c = a; c < d; c++, e++)
            cov[a * d + c] = cov[c * d + a] = sum[e] / (double)(n - 1);
    double trace = 0;
    for (size_t a = 0; a < d; a++)
        trace += cov[a * d + a];
    /* Eigenvalues ascending in w; eigenvector of w[j] in column j of cov (row-major). */
    if (sgs_linalg_symmetric_eigen(cov, d, w, eig_work) != SGS_OK) {
        rc = sgs_error_set(err, SGS_EDATA,
                           "PCA: the covariance matrix has no eigen-decomposition; is the "
                           "input finite?");
        goto cleanup;
    }
    size_t m = n_components > d ? d : n_components;
    if (m == 0) {
        double cum = 0;
        for (m = 0; m < d;) {
            double lam = w[d - 1 - m] > 0 ? w[d - 1 - m] : 0;
            cum += lam;
            m++;
            if (trace <= 0 || cum / trace >= min_ratio * (1 - 1e-12))
                break;
        }
    }
    p->n_components = m;
    p->total_variance = trace;
    p->components = sgs_alloc_array(m, d * sizeof(double));
    p->explained_variance = sgs_alloc_array(m, sizeof(double));
    p->explained_variance_ratio = sgs_alloc_array(m, sizeof(double));
    if (!p->components || !p->explained_variance || !p->explained_variance_ratio) {
        rc = sgs_error_set(err, SGS_ENOMEM, "PCA: out of memory");
        goto cleanup;
    }
    for (size_t c = 0; c < m; c++) {
        size_t col = d - 1 - c;
        double lam = w[col] > 0 ? w[col] : 0;
        p->explained_variance[c] = lam;
        p->explained_variance_ratio[c] = trace > 0 ? lam / trace : 0;
        /* Sign convention: the entry of largest magnitude (the first of equals) positive. */
        size_t arg = 0;
        for (size_t a = 1; a < d; a++)
            if (fabs(cov[a * d + col]) > fabs(cov[arg * d + col]))
                arg = a;
        double sign = cov[arg * d + col] < 0 ? -1.0 : 1.0;
        for (size_t a = 0; a < d; a++)
            p->components[c * d + a] = sign * cov[a * d + col];
    }
    *out = p;
    p = NULL;
cleanup:
    sgs_pca_destroy(p);
    sgs_free(cov);
    sgs_free(w);
    sgs_free(eig_work);
    return rc;
}

void sgs_pca_transform(const sgs_pca_t *pca, const double *x, size_t n, const sgs_exec_t *exec,
                       double *out)
{
    size_t d = pca->d, m = pca->n_components;
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < m; c++) {
            double s = 0;
            for (size_t a = 0; a < d; a++)
                s += (x[i * d + a] - pca->mean[a]) * pca->components[c * d + a];
            out[i * m + c] = s;
        }
}

void sgs_pca_inverse(const sgs_pca_t *pca, const double *y, size_t n, double *x)
{
    size_t d = pca->d, m = pca->n_components;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < d; a++) {
            double s = pca->mean[a];
            for (size_t c = 0; c < m; c++)
                s += y[i * m + c] * pca->components[c * d + a];
            x[i * d + a] = s;
        }
}

/* ---- Serial reference twins -------------------------------------------------------------- */

int sgs_features_transform_ref(double *x, size_t n, size_t d, const sgs_feature_transform_t *kinds,
                               sgs_error_t *err)
{
    for (size_t f = 0; f < d; f++)
        if ((unsigned)kinds[f] > SGS_FEATURE_SIGNED_LOG1P)
            return sgs_error_set(err, SGS_EINVAL, "column %zu: unknown transform %d", f,
                                 (int)kinds[f]);
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++) {
            double v = x[i * d + f];
            if (!isfinite(v))
                return sgs_error_set(err, SGS_EDATA, "row %zu column %zu is %s", i, f,
                                     isnan(v) ? "NaN" : "infinite");
            if (kinds[f] == SGS_FEATURE_LOG1P && v <= -1)
                return sgs_error_set(err, SGS_EDATA,
                                     "row %zu column %zu is %g: log1p needs values > -1", i, f, v);
            if (kinds[f] == SGS_FEATURE_LOG1P)
                x[i * d + f] = log1p(v);
            else if (kinds[f] == SGS_FEATURE_SIGNED_LOG1P)
                x[i * d + f] = v < 0 ? -log1p(-v) : log1p(v);
        }
    return SGS_OK;
}

/* Σ_i g(x_if) for column f in the kernels' order: the rows of each block of SGS_BLOCK_ROWS
 * summed from 0, the block sums added in block order. centre NULL: g(v) = v, else
 * g(v) = (v - centre)^2. */
static double column_sum_ref(const double *x, size_t n, size_t d, size_t f, const double *centre)
{
    double s = 0;
    for (size_t r0 = 0; r0 < n; r0 += SGS_BLOCK_ROWS) {
        double p = 0;
        for (size_t i = r0; i < n && i < r0 + SGS_BLOCK_ROWS; i++) {
            double t = centre ? x[i * d + f] - *centre : x[i * d + f];
            p += centre ? t * t : t;
        }
        s += p;
    }
    return s;
}

int sgs_features_column_moments_ref(const double *x, size_t n, size_t d, double *mean, double *var)
{
    for (size_t f = 0; f < d; f++) {
        mean[f] = column_sum_ref(x, n, d, f, NULL) / (double)n;
        var[f] = column_sum_ref(x, n, d, f, &mean[f]) / (double)n;
    }
    return SGS_OK;
}

int sgs_features_standardize_ref(double *x, size_t n, size_t d, double *mean, double *scale,
                                 sgs_error_t *err)
{
    if (n == 0 || d == 0)
        return sgs_error_set(err, SGS_EINVAL, "standardize: empty matrix (%zu x %zu)", n, d);
    sgs_features_column_moments_ref(x, n, d, mean, scale);
    for (size_t f = 0; f < d; f++) {
        double sd = sqrt(scale[f]);
        scale[f] = sd > 0 ? sd : 1.0;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++)
            x[i * d + f] = (x[i * d + f] - mean[f]) / scale[f];
    return SGS_OK;
}

static int compare_doubles(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

int sgs_features_quantiles_ref(const double *x, size_t n, size_t d, double tail, double *lo,
                               double *median, double *hi, sgs_error_t *err)
{
    if (n == 0 || d == 0)
        return sgs_error_set(err, SGS_EINVAL, "quantiles: empty matrix (%zu x %zu)", n, d);
    if (!(tail >= 0 && tail < 0.5))
        return sgs_error_set(err, SGS_EINVAL, "quantiles: tail must be in [0, 0.5), got %g", tail);
    size_t m = (size_t)floor(tail * (double)n);
    for (size_t f = 0; f < d; f++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[i * d + f]))
                return sgs_error_set(err, SGS_EDATA, "row %zu column %zu is %s", i, f,
                                     isnan(x[i * d + f]) ? "NaN" : "infinite");
    double *col = sgs_alloc_array(n, sizeof *col);
    if (!col)
        return sgs_error_set(err, SGS_ENOMEM, "quantiles: no memory for %zu values", n);
    for (size_t f = 0; f < d; f++) {
        for (size_t i = 0; i < n; i++)
            col[i] = x[i * d + f];
        qsort(col, n, sizeof *col, compare_doubles);
        size_t k = (n - 1) / 2;
        median[f] = n % 2 ? col[k] : 0.5 * (col[k] + col[k + 1]);
        lo[f] = col[m];
        hi[f] = col[n - 1 - m];
    }
    sgs_free(col);
    return SGS_OK;
}

void sgs_features_robust_scale_ref(double *x, size_t n, size_t d, const double *lo,
                                   const double *hi, const double *center, const double *scale,
                                   size_t *n_clipped)
{
    for (size_t f = 0; f < d; f++)
        n_clipped[f] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++) {
            double v = x[i * d + f];
            if (v < lo[f]) {
                v = lo[f];
                n_clipped[f]++;
            } else if (v > hi[f]) {
                v = hi[f];
                n_clipped[f]++;
            }
            x[i * d + f] = (v - center[f]) / scale[f];
        }
}

void sgs_pca_transform_ref(const sgs_pca_t *pca, const double *x, size_t n, double *out)
{
    size_t d = pca->d, m = pca->n_components;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < m; c++) {
            double s = 0;
            for (size_t a = 0; a < d; a++)
                s += (x[i * d + a] - pca->mean[a]) * pca->components[c * d + a];
            out[i * m + c] = s;
        }
}
