/*
 * engine/dist_segments.c — the segment step's pieces over processes (engine/dist_segments.h).
 */
#include "engine/dist_segments.h"

#include "engine/dist_blocks.h"
#include "engine/dist_select.h"
#include "kernels/features.h"
#include "kernels/kmeans.h"
#include "kernels/kmeans_blocks.h"
#include "kernels/order_keys.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Order statistics ---------------------------------------------------------------------- */

/* The value of a selected key among values holding n_neg zeros -0 and n_pos zeros +0 (counts
 * over every process): -0 when there are only negative zeros, as the kernels return them. */
static double key_value(uint64_t key, int64_t n_neg, int64_t n_pos)
{
    double v = sgs_order_key_value(key);
    return v == 0 && n_neg > 0 && n_pos == 0 ? -0.0 : v;
}

/* zeros[0] += the -0 among v[0..n), zeros[1] += the +0. */
static void count_zeros(const double *v, size_t n, int64_t *zeros)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == 0)
            zeros[signbit(v[i]) ? 0 : 1]++;
}

/* ---- Feature quantiles and robust scaling -------------------------------------------------- */

/* The first non-finite row (global index) of each column over every process, INT64_MAX for
 * none, into first[0..dims); then, on the process holding the first of the first such column,
 * the kernel's error. @return that error, agreed. */
static int check_finite(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                        uint64_t offset, int64_t *first, sgs_error_t *err)
{
    for (size_t f = 0; f < dims; f++) {
        first[f] = INT64_MAX;
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[i * dims + f])) {
                first[f] = (int64_t)(offset + i);
                break;
            }
    }
    sgs_dist_reduce_i64(d, first, dims, SGS_DIST_MIN);
    int rc = SGS_OK;
    for (size_t f = 0; f < dims; f++) {
        if (first[f] == INT64_MAX)
            continue;
        uint64_t row = (uint64_t)first[f];
        if (row >= offset && row < offset + n) {
            double v = x[(row - offset) * dims + f];
            rc = sgs_error_set(err, SGS_EDATA, "row %zu column %zu is %s", (size_t)row, f,
                               isnan(v) ? "NaN" : "infinite");
        }
        break; /* the first bad column */
    }
    return sgs_dist_agree(d, rc, err);
}

int sgs_dist_features_quantiles(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                                double tail, double *lo, double *median, double *hi,
                                sgs_error_t *err)
{
    int64_t n_all = (int64_t)n;
    sgs_dist_reduce_i64(d, &n_all, 1, SGS_DIST_SUM);
    if (n_all == 0 || dims == 0)
        return sgs_error_set(err, SGS_EINVAL, "quantiles: empty matrix (%lld x %zu)",
                             (long long)n_all, dims);
    if (!(tail >= 0 && tail < 0.5))
        return sgs_error_set(err, SGS_EINVAL, "quantiles: tail must be in [0, 0.5), got %g", tail);
    uint64_t offset = sgs_dist_offset(d, n);
    double *col = sgs_alloc_array(n ? n : 1, sizeof *col);
    uint64_t *keys = sgs_alloc_array(n ? n : 1, sizeof *keys);
    int64_t *first = sgs_alloc_array(dims, sizeof *first);
    int rc = col && keys && first
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "quantiles: no memory for %zu values", n);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK)
        rc = check_finite(d, x, n, dims, offset, first, err);
    /* m = floor(tail N) set aside at each end: ranks m, N - 1 - m and the middle one or two,
     * as the kernel selects them */
    uint64_t all = (uint64_t)n_all, m = (uint64_t)floor(tail * (double)n_all);
    uint64_t rank[4] = {m, (all - 1) / 2, all / 2, all - 1 - m}, key[4];
    for (size_t f = 0; rc == SGS_OK && f < dims; f++) {
        for (size_t i = 0; i < n; i++)
            col[i] = x[i * dims + f];
        int64_t zeros[2] = {0, 0};
        count_zeros(col, n, zeros);
        sgs_dist_reduce_i64(d, zeros, 2, SGS_DIST_SUM);
        size_t mine = sgs_order_keys_sorted(col, NULL, n, keys);
        sgs_dist_select_keys(d, keys, mine, rank, 4, key);
        lo[f] = key_value(key[0], zeros[0], zeros[1]);
        double a = key_value(key[1], zeros[0], zeros[1]);
        median[f] = all % 2 ? a : 0.5 * (a + key_value(key[2], zeros[0], zeros[1]));
        hi[f] = key_value(key[3], zeros[0], zeros[1]);
    }
    sgs_free(col);
    sgs_free(keys);
    sgs_free(first);
    return rc;
}

void sgs_dist_features_robust_scale(const sgs_dist_t *d, double *x, size_t n, size_t dims,
                                    const double *lo, const double *hi, const double *center,
                                    const double *scale, const sgs_exec_t *exec, size_t *n_clipped)
{
    sgs_features_robust_scale(x, n, dims, lo, hi, center, scale, exec, n_clipped);
    int64_t counts[64];
    for (size_t f0 = 0; f0 < dims; f0 += 64) { /* 64 columns per sum */
        size_t c = dims - f0 < 64 ? dims - f0 : 64;
        for (size_t f = 0; f < c; f++)
            counts[f] = (int64_t)n_clipped[f0 + f];
        sgs_dist_reduce_i64(d, counts, c, SGS_DIST_SUM);
        for (size_t f = 0; f < c; f++)
            n_clipped[f0 + f] = (size_t)counts[f];
    }
}

/* ---- Standard scaling ---------------------------------------------------------------------- */

/* The kernel's moments of rows realigned into whole blocks (al): the means, then (var not NULL)
 * the variances about them, each pass's block partials added over every process in block
 * order. */
static int aligned_moments(const sgs_dist_t *d, const sgs_dist_align_t *al, const double *rows,
                           size_t dims, const sgs_exec_t *exec, double *mean, double *var,
                           sgs_error_t *err)
{
    size_t nb = sgs_block_count(al->n, SGS_BLOCK_ROWS);
    double *part = sgs_alloc_array(nb ? nb : 1, dims * sizeof *part);
    double *sum = sgs_alloc_array(dims ? dims : 1, sizeof *sum);
    int rc = sgs_dist_agree(
        d, part && sum ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "moments: out of memory"), err);
    /* the kernel's two passes: the sums, then the squares about the mean, each over blocks */
    for (int pass = 0; rc == SGS_OK && pass < (var ? 2 : 1); pass++) {
        sgs_features_column_block_sums(rows, al->n, dims, pass ? mean : NULL, exec, part);
        rc = sgs_dist_blocks_sum(d, part, nb, dims, sum, err);
        for (size_t f = 0; rc == SGS_OK && f < dims; f++)
            (pass ? var : mean)[f] = sum[f] / (double)al->n_all;
    }
    sgs_free(part);
    sgs_free(sum);
    return rc;
}

int sgs_dist_features_column_moments(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                                     const sgs_exec_t *exec, double *mean, double *var,
                                     sgs_error_t *err)
{
    sgs_dist_align_t al;
    int rc = sgs_dist_align_init(d, n, &al, err);
    void *rows = NULL;
    if (rc == SGS_OK)
        rc = sgs_dist_align_move(d, &al, x, dims, 0, &rows, err);
    if (rc == SGS_OK)
        rc = aligned_moments(d, &al, rows, dims, exec, mean, var, err);
    sgs_free(rows);
    sgs_dist_align_free(&al);
    return rc;
}

int sgs_dist_features_standardize(const sgs_dist_t *d, double *x, size_t n, size_t dims,
                                  const sgs_exec_t *exec, double *mean, double *scale,
                                  sgs_error_t *err)
{
    int64_t n_all = (int64_t)n;
    sgs_dist_reduce_i64(d, &n_all, 1, SGS_DIST_SUM);
    if (n_all == 0 || dims == 0)
        return sgs_error_set(err, SGS_EINVAL, "standardize: empty matrix (%lld x %zu)",
                             (long long)n_all, dims);
    int rc = sgs_dist_features_column_moments(d, x, n, dims, exec, mean, scale, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t f = 0; f < dims; f++) { /* as the kernel: scale held the variance */
        double sd = sqrt(scale[f]);
        scale[f] = sd > 0 ? sd : 1.0;
    }
    sgs_features_standardize_apply(x, n, dims, mean, scale, exec);
    return SGS_OK;
}

int sgs_dist_pca_fit(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                     size_t n_components, double min_ratio, const sgs_exec_t *exec, sgs_pca_t **out,
                     sgs_error_t *err)
{
    *out = NULL;
    int64_t n_all = (int64_t)n;
    sgs_dist_reduce_i64(d, &n_all, 1, SGS_DIST_SUM);
    int rc = sgs_pca_check((size_t)n_all, dims, n_components, min_ratio, err);
    if (rc != SGS_OK)
        return rc;
    size_t tri = dims * (dims + 1) / 2;
    sgs_dist_align_t al;
    void *rows = NULL;
    double *mean = NULL, *part = NULL, *sum = NULL;
    rc = sgs_dist_align_init(d, n, &al, err);
    if (rc == SGS_OK)
        rc = sgs_dist_align_move(d, &al, x, dims, 0, &rows, err);
    size_t nb = rc == SGS_OK ? sgs_block_count(al.n, SGS_BLOCK_ROWS) : 0;
    if (rc == SGS_OK) {
        mean = sgs_alloc_array(dims, sizeof *mean);
        part = sgs_alloc_array(nb ? nb : 1, tri * sizeof *part);
        sum = sgs_alloc_array(tri, sizeof *sum);
        rc = sgs_dist_agree(
            d, mean && part && sum ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "PCA: out of memory"),
            err);
    }
    if (rc == SGS_OK)
        rc = aligned_moments(d, &al, rows, dims, exec, mean, NULL, err);
    if (rc == SGS_OK) {
        sgs_pca_block_partials(rows, al.n, dims, mean, exec, part);
        rc = sgs_dist_blocks_sum(d, part, nb, tri, sum, err);
    }
    if (rc == SGS_OK) /* the same fit on every process from the same sums */
        rc = sgs_dist_agree(
            d, sgs_pca_from_sums(sum, mean, (size_t)n_all, dims, n_components, min_ratio, out, err),
            err);
    if (rc != SGS_OK) {
        sgs_pca_destroy(*out);
        *out = NULL;
    }
    sgs_free(mean);
    sgs_free(part);
    sgs_free(sum);
    sgs_free(rows);
    sgs_dist_align_free(&al);
    return rc;
}

/* ---- The choice of k ----------------------------------------------------------------------- */

/* The first sample index j whose row floor(j all / m) is at least `row`: ceil(row m / all), at
 * most m (row m fits as j all does in the kernel). */
static size_t first_sample_at(uint64_t row, size_t all, size_t m)
{
    if (all == 0)
        return 0;
    uint64_t j = ((uint64_t)row * m + all - 1) / all;
    return j < m ? (size_t)j : m;
}

int sgs_dist_kchoice_sample(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                            size_t choice_sample, double **sample, size_t *m, sgs_error_t *err)
{
    *sample = NULL;
    int64_t n_all = (int64_t)n;
    sgs_dist_reduce_i64(d, &n_all, 1, SGS_DIST_SUM);
    uint64_t offset = sgs_dist_offset(d, n);
    size_t all = (size_t)n_all;
    *m = sgs_kchoice_sample_size(all, choice_sample);
    /* this process's sample rows: j with offset <= floor(j all / m) < offset + n, a range of j
     * since the row grows with j */
    size_t j0 = first_sample_at(offset, all, *m), j1 = first_sample_at(offset + n, all, *m);
    double *mine = sgs_alloc_array(j1 > j0 ? (j1 - j0) * dims : 1, sizeof *mine);
    int rc =
        mine ? SGS_OK
             : sgs_error_set(err, SGS_ENOMEM, "segments: no memory for %zu sample rows", j1 - j0);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK) {
        for (size_t j = j0; j < j1; j++)
            memcpy(mine + (j - j0) * dims, x + (sgs_kchoice_sample_row(j, all, *m) - offset) * dims,
                   dims * sizeof *mine);
        void *got = NULL;
        rc = sgs_dist_gather_all(d, mine, (j1 - j0) * dims * sizeof *mine, &got, NULL, err);
        *sample = got;
    }
    sgs_free(mine);
    return rc;
}

int sgs_dist_kchoice_run(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                         size_t choice_sample, size_t k_min, size_t k_max,
                         const sgs_kmeans_options_t *base, size_t silhouette_sample,
                         const sgs_exec_t *exec, sgs_kchoice_row_t *rows, size_t *n_rows,
                         size_t *chosen_k, sgs_error_t *err)
{
    *n_rows = 0;
    double *sample = NULL;
    size_t m = 0;
    int rc = sgs_dist_kchoice_sample(d, x, n, dims, choice_sample, &sample, &m, err);
    if (rc != SGS_OK)
        return rc;
    if (k_max > m)
        k_max = m;
    *n_rows = k_max >= k_min ? k_max - k_min + 1 : 0;
    rc = sgs_kchoice_run(sample, m, dims, NULL, k_min, k_max, base, silhouette_sample, exec, rows,
                         chosen_k, err);
    sgs_free(sample);
    return sgs_dist_agree(d, rc, err);
}

/* ---- The merge of small segments ----------------------------------------------------------- */

int sgs_dist_segments_merge_small(const sgs_dist_t *d, int32_t *labels, size_t n, double *centers,
                                  size_t k, size_t dims, double min_share, const sgs_exec_t *exec,
                                  size_t *k_out, sgs_segment_merge_t *merges, size_t *n_merges,
                                  size_t *sizes, sgs_error_t *err)
{
    if (k == 0 || dims == 0 || k > INT32_MAX)
        return sgs_error_set(err, SGS_EINVAL, "merge segments: k = %zu, d = %zu", k, dims);
    if (!(min_share >= 0 && min_share < 1))
        return sgs_error_set(err, SGS_EINVAL, "merge segments: min_share must be in [0, 1), got %g",
                             min_share);
    uint64_t offset = sgs_dist_offset(d, n);
    int64_t *count = sgs_calloc_array(k + 1, sizeof *count); /* k sizes, then the rows */
    size_t *size = sgs_alloc_array(k, sizeof *size);
    int32_t *final = sgs_alloc_array(k, sizeof *final);
    int rc = count && size && final
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "merge segments: out of memory");
    for (size_t i = 0; rc == SGS_OK && i < n; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= k)
            rc = sgs_error_set(err, SGS_EDATA, "merge segments: row %zu has label %d (k = %zu)",
                               (size_t)(offset + i), (int)labels[i], k);
        else
            count[labels[i]]++;
    }
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK) {
        count[k] = (int64_t)n;
        sgs_dist_reduce_i64(d, count, k + 1, SGS_DIST_SUM);
        for (size_t j = 0; j < k; j++)
            size[j] = (size_t)count[j];
        /* the same plan on every process: the same sizes and centres */
        rc = sgs_segments_merge_plan(size, (size_t)count[k], centers, k, dims, min_share, k_out,
                                     merges, n_merges, sizes, final, err);
        rc = sgs_dist_agree(d, rc, err);
    }
    if (rc == SGS_OK)
        sgs_segments_merge_relabel(labels, n, final, exec);
    sgs_free(count);
    sgs_free(size);
    sgs_free(final);
    return rc;
}

/* ---- The inertia after the merge ----------------------------------------------------------- */

int sgs_dist_kmeans_inertia(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                            const double *centers, size_t k, const int32_t *labels,
                            const sgs_exec_t *exec, double *inertia, sgs_error_t *err)
{
    uint64_t offset = sgs_dist_offset(d, n);
    int rc = SGS_OK;
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= k) { /* the kernel's words, the global row */
            rc = sgs_error_set(err, SGS_EINVAL, "label %d of row %zu is not in 0..%zu",
                               (int)labels[i], (size_t)(offset + i), k - 1);
            break;
        }
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        return rc;
    /* Each row as its dims values and its label, realigned into whole blocks. */
    size_t words = dims + 1;
    sgs_dist_align_t al = {0};
    double *packed = sgs_alloc_array(n ? n : 1, words * sizeof *packed), *part = NULL;
    double *rows = NULL;
    int32_t *lab = NULL;
    rc = sgs_dist_agree(
        d, packed ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "inertia: out of memory"), err);
    if (rc == SGS_OK) {
        for (size_t i = 0; i < n; i++) {
            memcpy(packed + i * words, x + i * dims, dims * sizeof *x);
            packed[i * words + dims] = (double)labels[i];
        }
        rc = sgs_dist_align_init(d, n, &al, err);
    }
    void *moved = NULL;
    if (rc == SGS_OK)
        rc = sgs_dist_align_move(d, &al, packed, words, 0, &moved, err);
    sgs_free(packed);
    size_t m = rc == SGS_OK ? al.n : 0, nb = sgs_block_count(m, SGS_BLOCK_ROWS);
    if (rc == SGS_OK) {
        rows = sgs_alloc_array(m ? m : 1, dims * sizeof *rows);
        lab = sgs_alloc_array(m ? m : 1, sizeof *lab);
        part = sgs_alloc_array(nb ? nb : 1, sizeof *part);
        rc = sgs_dist_agree(
            d,
            rows && lab && part ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "inertia: out of memory"),
            err);
    }
    if (rc == SGS_OK) {
        const double *r = moved;
        for (size_t i = 0; i < m; i++) {
            memcpy(rows + i * dims, r + i * words, dims * sizeof *rows);
            lab[i] = (int32_t)r[i * words + dims];
        }
        sgs_kmeans_block_inertia(rows, m, dims, NULL, centers, lab, exec, part);
        rc = sgs_dist_blocks_sum(d, part, nb, 1, inertia, err);
    }
    sgs_free(moved);
    sgs_free(rows);
    sgs_free(lab);
    sgs_free(part);
    sgs_dist_align_free(&al);
    return rc;
}

/* ---- Medians per segment ------------------------------------------------------------------- */

/* The median of `total` values over every process, `mine` of them here as ascending keys,
 * with n_neg -0 and n_pos +0 among all: the middle one, or the mean of the two middle ones. */
static double median_of_keys(const sgs_dist_t *d, const uint64_t *keys, size_t mine, uint64_t total,
                             int64_t n_neg, int64_t n_pos)
{
    if (total == 0)
        return (double)NAN;
    uint64_t rank[2] = {(total - 1) / 2, total / 2}, key[2];
    sgs_dist_select_keys(d, keys, mine, rank, total % 2 ? 1 : 2, key);
    double a = key_value(key[0], n_neg, n_pos);
    return total % 2 ? a : 0.5 * (a + key_value(key[1], n_neg, n_pos));
}

int sgs_dist_group_medians(const sgs_dist_t *d, size_t n, const double *value, const int32_t *group,
                           int32_t n_groups, double *median, double *overall, sgs_error_t *err)
{
    if (n_groups < 0)
        return sgs_error_set(err, SGS_EINVAL, "group medians: n_groups %d < 0", (int)n_groups);
    size_t k = (size_t)n_groups;
    uint64_t offset = sgs_dist_offset(d, n);
    uint64_t *keys = sgs_alloc_array(n ? n : 1, sizeof *keys);
    size_t *at = sgs_calloc_array(k + 1, sizeof *at);
    int64_t *count = sgs_calloc_array(3 * k + 3, sizeof *count); /* [total, -0, +0] per group,
                                                                    then over all */
    int rc = keys && at && count ? SGS_OK
                                 : sgs_error_set(err, SGS_ENOMEM, "group medians: out of memory");
    /* the kernel's check: a finite value's label below n_groups */
    for (size_t i = 0; rc == SGS_OK && i < n; i++)
        if (isfinite(value[i]) && group && group[i] >= n_groups)
            rc = sgs_error_set(err, SGS_EDATA,
                               "row %zu: segment label %d is not below the segment count %d",
                               (size_t)(offset + i), (int)group[i], (int)n_groups);
    rc = sgs_dist_agree(d, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    if (overall) { /* every finite value, whatever its label */
        int64_t *all = count + 3 * k;
        size_t mine = sgs_order_keys_sorted(value, NULL, n, keys);
        all[0] = (int64_t)mine;
        count_zeros(value, n, all + 1);
        sgs_dist_reduce_i64(d, all, 3, SGS_DIST_SUM);
        *overall = median_of_keys(d, keys, mine, (uint64_t)all[0], all[1], all[2]);
    }
    if (k == 0)
        goto cleanup;
    /* this process's keys by group: counted, placed, each group's sorted */
    for (size_t i = 0; group && i < n; i++) /* no labels: every row in group -1 */
        if (isfinite(value[i]) && group[i] >= 0) {
            size_t g = (size_t)group[i];
            at[g + 1]++;
            count[3 * g]++;
            if (value[i] == 0)
                count[3 * g + (signbit(value[i]) ? 1 : 2)]++;
        }
    for (size_t g = 0; g < k; g++)
        at[g + 1] += at[g];
    for (size_t i = 0; group && i < n; i++)
        if (isfinite(value[i]) && group[i] >= 0)
            keys[at[group[i]]++] = sgs_order_key(value[i]);
    for (size_t g = k; g > 0; g--) /* at[g] is now the end of g: shift back */
        at[g] = at[g - 1];
    at[0] = 0;
    sgs_dist_reduce_i64(d, count, 3 * k, SGS_DIST_SUM);
    for (size_t g = 0; g < k; g++) {
        size_t mine = at[g + 1] - at[g];
        sgs_order_keys_sort(keys + at[g], mine);
        median[g] = median_of_keys(d, keys + at[g], mine, (uint64_t)count[3 * g], count[3 * g + 1],
                                   count[3 * g + 2]);
    }
cleanup:
    sgs_free(keys);
    sgs_free(at);
    sgs_free(count);
    return rc;
}

/* ---- Profile sums and counts --------------------------------------------------------------- */

/* The kernels' label check (kernels/segment_profile.c) naming the global row. */
static int check_labels_global(size_t n, const int32_t *labels, size_t k, uint64_t offset,
                               sgs_error_t *err)
{
    for (size_t c = 0; c < n; c++)
        if (labels[c] < 0 || (size_t)labels[c] >= k)
            return sgs_error_set(err, SGS_EINVAL, "segments: row %zu has label %d, not 0..%zu",
                                 (size_t)(offset + c), (int)labels[c], k - 1);
    return SGS_OK;
}

typedef struct sums_step {
    const sgs_feature_column_t *cols;
    size_t dims, n, k;
    const int32_t *labels;
    int rc;
    sgs_error_t *err;
} sums_step_t;

static void continue_sums(double *state, void *ctx)
{
    sums_step_t *s = ctx;
    s->rc = sgs_segment_sums_add(s->cols, s->dims, s->n, s->labels, s->k, NULL, state, s->err);
}

int sgs_dist_segment_sums(const sgs_dist_t *d, const sgs_feature_column_t *cols, size_t dims,
                          size_t n, const int32_t *labels, size_t k, double *sums, sgs_error_t *err)
{
    uint64_t offset = sgs_dist_offset(d, n);
    int rc = SGS_OK;
    if (dims == 0 || !cols)
        rc = sgs_error_set(err, SGS_EINVAL, "features: no column");
    for (size_t f = 0; rc == SGS_OK && f < dims && n > 0; f++)
        if (!cols[f].f64 && !cols[f].i32)
            rc = sgs_error_set(err, SGS_EINVAL, "features: column %zu has no values", f);
    if (rc == SGS_OK && (!sums || k == 0 || (n > 0 && !labels)))
        rc = sgs_error_set(err, SGS_EINVAL, "segment sums: a NULL array or no segment");
    if (rc == SGS_OK)
        rc = check_labels_global(n, labels, k, offset, err);
    rc = sgs_dist_agree(d, rc, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t e = 0; e < k * dims; e++)
        sums[e] = 0.0;
    sums_step_t step = {cols, dims, n, k, labels, SGS_OK, err};
    sgs_dist_chain(d, sums, k * dims, continue_sums, &step);
    return sgs_dist_agree(d, step.rc, err); /* checked above: never fails */
}

int sgs_dist_segment_counts(const sgs_dist_t *d, size_t n, const int32_t *labels, size_t k,
                            const uint8_t *code, size_t n_codes, size_t *counts, sgs_error_t *err)
{
    uint64_t offset = sgs_dist_offset(d, n);
    size_t width = code ? n_codes : 1;
    int rc = SGS_OK;
    if (!counts || k == 0 || (n > 0 && !labels) || (code && n_codes == 0))
        rc = sgs_error_set(err, SGS_EINVAL, "segment counts: a NULL array or no segment");
    if (rc == SGS_OK)
        rc = check_labels_global(n, labels, k, offset, err);
    for (size_t c = 0; rc == SGS_OK && code && c < n; c++)
        if (code[c] >= width)
            rc = sgs_error_set(err, SGS_EINVAL, "segment counts: row %zu has code %zu, not 0..%zu",
                               (size_t)(offset + c), (size_t)code[c], width - 1);
    int64_t *all = rc == SGS_OK ? sgs_alloc_array(k, width * sizeof *all) : NULL;
    if (rc == SGS_OK && !all)
        rc = sgs_error_set(err, SGS_ENOMEM, "segment counts: out of memory");
    if (rc == SGS_OK)
        rc = sgs_segment_counts(n, labels, k, code, n_codes, NULL, counts, err);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK) {
        for (size_t e = 0; e < k * width; e++)
            all[e] = (int64_t)counts[e];
        sgs_dist_reduce_i64(d, all, k * width, SGS_DIST_SUM);
        for (size_t e = 0; e < k * width; e++)
            counts[e] = (size_t)all[e];
    }
    sgs_free(all);
    return rc;
}
