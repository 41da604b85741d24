/*
 * kernels/order_stats.c — k-th smallest, medians, quantiles, medians per group.
 * See order_stats.h for the contracts.
 */
#include "kernels/order_stats.h"

#include "kernels/radix_select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Selection --------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void swap_d(double *x, size_t i, size_t j)
{
    double t = x[i];
    x[i] = x[j];
    x[j] = t;
}

/* Introselect (Musser 1997): Hoare-style quickselect with a median-of-three pivot; after
 * 2*log2(n) partition rounds the remaining range is sorted, bounding the worst case. */
double sgs_select_kth(double *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1; /* inclusive range that contains the k-th */
    int budget = 2;
    for (size_t m = n; m > 1; m >>= 1)
        budget += 2;
    while (hi > lo) {
        if (budget-- == 0 || hi - lo < 16) {
            qsort(x + lo, hi - lo + 1, sizeof *x, cmp_double);
            return x[k];
        }
        size_t mid = lo + (hi - lo) / 2;
        /* order x[lo], x[mid], x[hi]; the median lands in x[mid] */
        if (x[mid] < x[lo])
            swap_d(x, mid, lo);
        if (x[hi] < x[lo])
            swap_d(x, hi, lo);
        if (x[hi] < x[mid])
            swap_d(x, hi, mid);
        double pivot = x[mid];
        size_t i = lo, j = hi;
        /* Hoare partition: afterwards x[lo..j] <= pivot <= x[i..hi], j < i */
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                swap_d(x, i, j);
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return x[k]; /* j < k < i: x[k] == pivot */
    }
    return x[k];
}

/* Smallest of x[0..n-1] (n >= 1). */
static double min_of(const double *x, size_t n)
{
    double m = x[0];
    for (size_t i = 1; i < n; i++)
        if (x[i] < m)
            m = x[i];
    return m;
}

double sgs_median_inplace(double *x, size_t n)
{
    if (n == 0)
        return (double)NAN;
    size_t k = (n - 1) / 2;
    double a = sgs_select_kth(x, n, k);
    if (n % 2 == 1)
        return a;
    /* after selection everything right of k is >= x[k]; the next order statistic is the
     * smallest of them */
    double b = min_of(x + k + 1, n - k - 1);
    return 0.5 * (a + b);
}

int sgs_has_both_zeros(const double *x, size_t n)
{
    int neg = 0, pos = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] == 0) {
            neg |= signbit(x[i]) != 0;
            pos |= signbit(x[i]) == 0;
        }
    return neg && pos;
}

/* ---- Floyd-Rivest selection ------------------------------------------------------------- */

/* Floyd and Rivest's SELECT on x[left..right] (inclusive) for rank k, as in their Algorithm
 * 489 with 0-based indices; *budget rounds, then sgs_select_kth on what remains. */
static void fr_select(double *x, size_t left, size_t right, size_t k, int *budget)
{
    while (right > left) {
        if ((*budget)-- <= 0) {
            sgs_select_kth(x + left, right - left + 1, k - left);
            return;
        }
        if (right - left > 600) {
            /* select k within a sample range of about n^(2/3) values around its expected
             * position, so that x[k] is a pivot close to the k-th value */
            double n = (double)(right - left + 1), i = (double)(k - left + 1);
            double z = log(n), s = 0.5 * exp(2 * z / 3);
            double sd = 0.5 * sqrt(z * s * (n - s) / n) * (i < n / 2 ? -1.0 : 1.0);
            double nl = (double)k - i * s / n + sd, nr = (double)k + (n - i) * s / n + sd;
            size_t new_left = nl > (double)left ? (size_t)nl : left;
            size_t new_right = nr < (double)right ? (size_t)nr : right;
            if (new_left <= k && k <= new_right && new_right - new_left < right - left)
                fr_select(x, new_left, new_right, k, budget);
        }
        double t = x[k];
        size_t i = left, j = right;
        swap_d(x, left, k);
        if (x[right] > t)
            swap_d(x, right, left);
        /* x[left] and x[right] are sentinels: the scans stop at t or beyond */
        while (i < j) {
            swap_d(x, i, j);
            i++;
            j--;
            while (x[i] < t)
                i++;
            while (x[j] > t)
                j--;
        }
        if (x[left] == t) {
            swap_d(x, left, j);
        } else {
            j++;
            swap_d(x, j, right);
        }
        /* now x[left..j) <= t = x[j] <= x(j..right] */
        size_t before = right - left + 1;
        if (j <= k)
            left = j + 1;
        if (k <= j) {
            if (j == 0)
                break;
            right = j - 1;
        }
        /* A pivot from the sample leaves about n^(2/3) values; keeping half of them or more
         * means many values equal the pivot (a count that is mostly 0), which this two-way
         * partition only halves round after round: introselect finishes faster. */
        if (right > left && right - left + 1 > 600 && 2 * (right - left + 1) > before) {
            sgs_select_kth(x + left, right - left + 1, k - left);
            return;
        }
    }
}

double sgs_select_kth_fr(double *x, size_t n, size_t k)
{
    int budget = 2;
    for (size_t m = n; m > 1; m >>= 1)
        budget += 2;
    fr_select(x, 0, n - 1, k, &budget);
    return x[k];
}

double sgs_median_inplace_fr(double *x, size_t n)
{
    if (n == 0)
        return (double)NAN;
    size_t k = (n - 1) / 2;
    double a = sgs_select_kth_fr(x, n, k);
    if (n % 2 == 1)
        return a;
    double b = min_of(x + k + 1, n - k - 1); /* as sgs_median_inplace */
    return 0.5 * (a + b);
}

/* The 0-based index of the nearest-rank quantile q of n values (n > 0, q not NaN). */
static size_t nearest_rank_index(double q, size_t n)
{
    double r = ceil(q * (double)n);
    return (r < 1.0 ? 1 : (r > (double)n ? n : (size_t)r)) - 1;
}

double sgs_quantile_nearest_rank_inplace(double *x, size_t n, double q)
{
    if (n == 0 || isnan(q))
        return (double)NAN;
    return sgs_select_kth(x, n, nearest_rank_index(q, n));
}

/* ---- Per group ---------------------------------------------------------------------- */

/* Bucket of row i in group_medians: 0 for a label < 0, g + 1 for label g, SIZE_MAX for a
 * value that is not finite (left out). */
static size_t bucket_of(const double *value, const int32_t *group, size_t i)
{
    if (!isfinite(value[i]))
        return SIZE_MAX;
    int32_t g = group ? group[i] : -1;
    return g < 0 ? 0 : (size_t)g + 1;
}

static size_t block_end(size_t b, size_t n)
{
    return (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
}

/* Counts per block of rows and bucket into at (n_blocks x n_buckets), then each block's
 * first place in each bucket (the bucket's start plus the rows of the blocks before it) and
 * start[b], the first place of bucket b (start[n_buckets]: the values kept). Returns the
 * first row whose finite value has a label not below n_buckets - 1, or n. */
static size_t count_by_group(size_t n, const double *value, const int32_t *group, size_t n_buckets,
                             int n_threads, size_t *at, size_t *start)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS), bad = n;
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(min : bad)
    for (size_t b = 0; b < nb; b++) {
        size_t *c = at + b * n_buckets;
        for (size_t e = 0; e < n_buckets; e++)
            c[e] = 0;
        for (size_t i = b * SGS_BLOCK_ROWS; i < block_end(b, n); i++) {
            size_t e = bucket_of(value, group, i);
            if (e < n_buckets)
                c[e]++;
            else if (e != SIZE_MAX && i < bad)
                bad = i;
        }
    }
    start[0] = 0;
    for (size_t e = 0; e < n_buckets; e++) {
        size_t next = start[e];
        for (size_t b = 0; b < nb; b++) {
            size_t c = at[b * n_buckets + e];
            at[b * n_buckets + e] = next;
            next += c;
        }
        start[e + 1] = next;
    }
    return bad;
}

/* The finite values of each bucket in row order, one bucket after another, at the places
 * count_by_group gave: the serial layout whatever the thread count. */
static void copy_by_group(size_t n, const double *value, const int32_t *group, size_t n_buckets,
                          int n_threads, size_t *at, double *out)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t *next = at + b * n_buckets;
        for (size_t i = b * SGS_BLOCK_ROWS; i < block_end(b, n); i++) {
            size_t e = bucket_of(value, group, i);
            if (e < n_buckets)
                out[next[e]++] = value[i];
        }
    }
}

/* The medians of sgs_group_medians_into; scratch NULL: allocated here (m doubles). */
static int group_medians(size_t n, const double *value, const int32_t *group, int32_t n_groups,
                         double *group_median, double *overall_median, double *scratch,
                         const sgs_exec_t *exec, sgs_error_t *err)
{
    if (n_groups < 0)
        return sgs_error_set(err, SGS_EINVAL, "group medians: n_groups %d < 0", (int)n_groups);
    size_t n_buckets = (size_t)n_groups + 1; /* bucket 0 holds labels < 0 */
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t *start = sgs_calloc_array(n_buckets + 1, sizeof *start);
    size_t *at = sgs_alloc_array(nb ? nb : 1, n_buckets * sizeof *at);
    double *owned = NULL;
    int rc = SGS_OK;
    if (!start || !at) {
        rc = sgs_error_set(err, SGS_ENOMEM, "group medians: out of memory");
        goto cleanup;
    }
    int scan_threads = sgs_exec_threads_for(exec, n);
    size_t bad = count_by_group(n, value, group, n_buckets, scan_threads, at, start);
    if (bad < n) {
        rc = sgs_error_set(err, SGS_EDATA,
                           "row %zu: segment label %d is not below the segment count %d", bad,
                           (int)group[bad], (int)n_groups);
        goto cleanup;
    }
    size_t m = start[n_buckets];
    if (!scratch)
        scratch = owned = sgs_alloc_array(m, sizeof *scratch);
    if (!scratch) {
        rc = sgs_error_set(err, SGS_ENOMEM, "group medians: out of memory for %zu values", m);
        goto cleanup;
    }
    copy_by_group(n, value, group, n_buckets, scan_threads, at, scratch);
    int n_threads = sgs_exec_threads_for(exec, m);
    long ng = (long)n_groups;
    /* The overall median is selected from what the groups' selections left: with both zeros
     * in it, its zero depends on that order, so every group then takes sgs_median_inplace. */
    int both_zeros = overall_median && sgs_has_both_zeros(scratch, m);
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (long g = 0; g < ng; g++) {
        size_t b = (size_t)g + 1;
        double *v = scratch + start[b];
        size_t m_g = start[b + 1] - start[b];
        /* Without both zeros any selection gives the median's bits: the radix select, which
         * leaves other values in v (overwritten), so not when the overall median is still to
         * be selected from scratch (then Floyd-Rivest, which only reorders v). With both
         * zeros, which zero is the median depends on the algorithm: sgs_median_inplace's, as
         * always. */
        double min, max;
        if (both_zeros || m_g == 0)
            group_median[g] = sgs_median_inplace(v, m_g);
        else if (overall_median)
            group_median[g] = sgs_has_both_zeros(v, m_g) ? sgs_median_inplace(v, m_g)
                                                         : sgs_median_inplace_fr(v, m_g);
        else
            group_median[g] = sgs_radix_value_range(v, m_g, &min, &max)
                                  ? sgs_median_inplace(v, m_g)
                                  : sgs_radix_median(v, m_g, min, max);
    }
    if (overall_median)
        *overall_median = sgs_median_inplace(scratch, m);

cleanup:
    sgs_free(start);
    sgs_free(at);
    sgs_free(owned);
    return rc;
}

int sgs_group_medians(size_t n, const double *value, const int32_t *group, int32_t n_groups,
                      double *group_median, double *overall_median, const sgs_exec_t *exec,
                      sgs_error_t *err)
{
    return group_medians(n, value, group, n_groups, group_median, overall_median, NULL, exec, err);
}

int sgs_group_medians_into(size_t n, const double *value, const int32_t *group, int32_t n_groups,
                           double *group_median, double *overall_median, double *scratch,
                           const sgs_exec_t *exec, sgs_error_t *err)
{
    if (!scratch && n > 0)
        return sgs_error_set(err, SGS_EINVAL, "group medians: NULL scratch");
    return group_medians(n, value, group, n_groups, group_median, overall_median, scratch, exec,
                         err);
}

int sgs_quantile_of(size_t n, const double *value, const uint8_t *keep, double q, double *out,
                    sgs_error_t *err)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += (!keep || keep[i]) && isfinite(value[i]);
    double *scratch = sgs_alloc_array(m, sizeof *scratch);
    if (!scratch)
        return sgs_error_set(err, SGS_ENOMEM, "quantile: out of memory for %zu values", m);
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if ((!keep || keep[i]) && isfinite(value[i]))
            scratch[j++] = value[i];
    double min, max;
    if (m == 0 || isnan(q) || sgs_radix_value_range(scratch, m, &min, &max))
        *out = sgs_quantile_nearest_rank_inplace(scratch, m, q); /* NaN; or both zeros */
    else {
        /* the rank of sgs_quantile_nearest_rank_inplace; any selection gives its bits */
        size_t rank = nearest_rank_index(q, m);
        sgs_radix_select(scratch, m, min, max, &rank, 1, out);
    }
    sgs_free(scratch);
    return SGS_OK;
}

/* ---- Serial reference twin ------------------------------------------------------------ */

static int compare_doubles(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Median of the m values of v by sorting them (v is sorted in place); NaN for m == 0. */
static double median_by_sort(double *v, size_t m)
{
    if (m == 0)
        return (double)NAN;
    qsort(v, m, sizeof *v, compare_doubles);
    size_t k = (m - 1) / 2;
    return m % 2 ? v[k] : 0.5 * (v[k] + v[k + 1]);
}

int sgs_group_medians_ref(size_t n, const double *value, const int32_t *group, int32_t n_groups,
                          double *group_median, double *overall_median, sgs_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        int32_t g = group ? group[i] : -1;
        if (isfinite(value[i]) && g >= n_groups)
            return sgs_error_set(err, SGS_EDATA,
                                 "row %zu: segment label %d is not below the segment count %d", i,
                                 (int)g, (int)n_groups);
    }
    double *v = sgs_alloc_array(n ? n : 1, sizeof *v);
    if (!v)
        return sgs_error_set(err, SGS_ENOMEM, "group medians: out of memory");
    for (int32_t g = 0; g < n_groups; g++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (isfinite(value[i]) && group && group[i] == g)
                v[m++] = value[i];
        group_median[g] = median_by_sort(v, m);
    }
    if (overall_median) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (isfinite(value[i]))
                v[m++] = value[i];
        *overall_median = median_by_sort(v, m);
    }
    sgs_free(v);
    return SGS_OK;
}
