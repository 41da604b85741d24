/*
 * kernels/rfm.c — equal-frequency RFM scores and the segment table (kernels/rfm.h).
 *
 * A score only depends on which of B - 1 order statistics (the cuts) a value exceeds, so
 * no sort is needed: the cuts are found by radix select on an order-preserving 64-bit image
 * of each value, then every customer is scored against them in parallel.
 */
#include "kernels/rfm.h"

#include "kernels/order_keys.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define DIGITS ((size_t)1 << 16) /* radix select: 16-bit digits */

const char *sgs_rfm_segment_name(int code)
{
    static const char *const names[SGS_RFM_SEGMENT_COUNT] = {"Champions",
                                                             "Loyal",
                                                             "Potential loyalist",
                                                             "New",
                                                             "Promising",
                                                             "Need attention",
                                                             "About to sleep",
                                                             "Cannot lose them",
                                                             "At risk",
                                                             "Hibernating",
                                                             "Lost"};
    return (code >= 0 && code < SGS_RFM_SEGMENT_COUNT) ? names[code] : "unknown";
}

/* Score on 1..n_bins scaled to 1..5, rounding up (s5 = ceil(5 s / B)). */
static int to_five(int score, int n_bins)
{
    return (5 * score + n_bins - 1) / n_bins;
}

uint8_t sgs_rfm_segment_of(int r_score, int f_score, int n_bins)
{
    int r = to_five(r_score, n_bins), f = to_five(f_score, n_bins);
    if (r == 5 && f >= 4)
        return SGS_RFM_CHAMPIONS;
    if (r >= 3 && f >= 4)
        return SGS_RFM_LOYAL;
    if (r >= 4 && f >= 2)
        return SGS_RFM_POTENTIAL_LOYALIST;
    if (r == 5)
        return SGS_RFM_NEW;
    if (r == 4)
        return SGS_RFM_PROMISING;
    if (r == 3)
        return f == 3 ? SGS_RFM_NEED_ATTENTION : SGS_RFM_ABOUT_TO_SLEEP;
    if (f == 5)
        return SGS_RFM_CANNOT_LOSE;
    if (f >= 3)
        return SGS_RFM_AT_RISK;
    return (r == 1 && f == 1) ? SGS_RFM_LOST : SGS_RFM_HIBERNATING;
}

size_t sgs_rfm_workspace_size(size_t n)
{
    size_t bytes;
    return sgs_size_mul(n, sizeof(uint64_t), &bytes) == SGS_OK ? bytes : SIZE_MAX;
}

/* Ascending order of keys (kernels/order_keys.h sgs_order_key: unsigned comparison of keys is
 * numeric comparison of values, -0.0 and 0.0 tie). */
static int compare_keys(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Key of customer i: larger is better. */
static inline uint64_t key_of(const double *values, size_t i, int higher_is_better)
{
    return sgs_order_key(higher_is_better ? values[i] : -values[i]);
}

size_t sgs_rfm_cut_rank(size_t n, int n_bins, int s)
{
    return ((size_t)s * n + (size_t)n_bins - 1) / (size_t)n_bins - 1;
}

/* The k-th smallest (0-based) of a[0..n), k < n, reordering a: quickselect with a
 * three-way partition, so that runs of equal keys (ties are common) end it at once. */
static uint64_t select_kth(uint64_t *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        uint64_t x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
        uint64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            uint64_t v = a[i];
            if (v < pivot) {
                a[i++] = a[lt];
                a[lt++] = v;
            } else if (v > pivot) {
                a[i] = a[--gt];
                a[gt] = v;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return pivot;
    }
    return a[lo];
}

/* cut[s-1] = the key of rank ceil(s n / B) - 1 (0-based, ascending), s = 1..B-1. Radix
 * select: a histogram of the top 16 key bits finds each rank's bin; the keys of those bins
 * (few, unless many customers tie) are gathered into the workspace, and the rank is
 * selected among them. The rows are cut into n_parts ranges, each with a histogram of its
 * own, so that each range gathers its keys to a place of its own (ranges go round-robin
 * to whatever threads OpenMP gives). */
static int find_cuts(int n_threads, const double *values, size_t n, int higher_is_better,
                     int n_bins, uint64_t *workspace, uint64_t *cut)
{
    enum { NONE = 0xFFFF };
    const size_t n_parts = (size_t)n_threads;
    size_t *hist = sgs_calloc_array(n_parts * DIGITS, sizeof *hist); /* [part][bin] */
    size_t *total = sgs_calloc_array(DIGITS, sizeof *total);
    uint16_t *slot_of = sgs_alloc_array(DIGITS, sizeof *slot_of); /* bin -> gathered slot */
    if (!hist || !total || !slot_of) {
        sgs_free(hist);
        sgs_free(total);
        sgs_free(slot_of);
        return SGS_ENOMEM;
    }
    size_t bin[8], rank_in_bin[8], slot_start[8];
#pragma omp parallel num_threads(n_threads)
    {
        size_t tid = (size_t)omp_get_thread_num(), step = (size_t)omp_get_num_threads();
        for (size_t p = tid; p < n_parts; p += step) {
            size_t *h = hist + p * DIGITS;
            for (size_t i = n * p / n_parts; i < n * (p + 1) / n_parts; i++)
                h[key_of(values, i, higher_is_better) >> 48]++;
        }
#pragma omp barrier
#pragma omp single
        {
            /* hist[p][d] becomes the keys of bin d in the parts before p */
            for (size_t p = 0; p < n_parts; p++)
                for (size_t d = 0; d < DIGITS; d++) {
                    size_t c = hist[p * DIGITS + d];
                    hist[p * DIGITS + d] = total[d];
                    total[d] += c;
                }
            for (size_t d = 0; d < DIGITS; d++)
                slot_of[d] = NONE;
            size_t below_bin = 0, d = 0, gathered = 0, n_slots = 0;
            for (int s = 1; s < n_bins; s++) {
                size_t rank = sgs_rfm_cut_rank(n, n_bins, s);
                while (below_bin + total[d] <= rank) /* ranks ascend with s */
                    below_bin += total[d++];
                bin[s - 1] = d;
                rank_in_bin[s - 1] = rank - below_bin;
                if (slot_of[d] == NONE) {
                    slot_of[d] = (uint16_t)n_slots;
                    slot_start[n_slots++] = gathered;
                    gathered += total[d];
                }
            }
        }
        for (size_t p = tid; p < n_parts; p += step) {
            size_t *before = hist + p * DIGITS;
            for (size_t i = n * p / n_parts; i < n * (p + 1) / n_parts; i++) {
                uint64_t key = key_of(values, i, higher_is_better);
                size_t b = (size_t)(key >> 48);
                if (slot_of[b] != NONE)
                    workspace[slot_start[slot_of[b]] + before[b]++] = key;
            }
        }
    }
    for (int s = 1; s < n_bins; s++) {
        size_t first = slot_start[slot_of[bin[s - 1]]];
        cut[s - 1] = select_kth(workspace + first, total[bin[s - 1]], rank_in_bin[s - 1]);
    }
    sgs_free(hist);
    sgs_free(total);
    sgs_free(slot_of);
    return SGS_OK;
}

/* below >= ceil(s n / B) exactly when the key exceeds the key of rank ceil(s n / B) - 1, so
 * score = 1 + floor(B below / n) = 1 + the number of cuts the key exceeds. */
int sgs_rfm_score(const sgs_exec_t *exec, const double *values, size_t n, int higher_is_better,
                  int n_bins, void *workspace, uint8_t *score, sgs_error_t *err)
{
    if (n_bins < SGS_RFM_MIN_BINS || n_bins > SGS_RFM_MAX_BINS)
        return sgs_error_set(err, SGS_EINVAL, "rfm: %d bins (must be %d..%d)", n_bins,
                             SGS_RFM_MIN_BINS, SGS_RFM_MAX_BINS);
    if (n == 0)
        return SGS_OK;
    int n_threads = sgs_exec_threads_for(exec, n);
    size_t n_nan = 0;
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(+ : n_nan)
    for (size_t i = 0; i < n; i++)
        n_nan += isnan(values[i]);
    if (n_nan > 0)
        return sgs_error_set(err, SGS_EINVAL, "rfm: %zu values are NaN", n_nan);
    uint64_t cut[8];
    if (find_cuts(n_threads, values, n, higher_is_better, n_bins, workspace, cut) != SGS_OK)
        return sgs_error_set(err, SGS_ENOMEM, "rfm: no memory for the score histogram");
    sgs_rfm_score_from_cuts(exec, values, n, higher_is_better, cut, n_bins, score);
    return SGS_OK;
}

void sgs_rfm_score_from_cuts(const sgs_exec_t *exec, const double *values, size_t n,
                             int higher_is_better, const uint64_t *cut, int n_bins, uint8_t *score)
{
    int n_threads = sgs_exec_threads_for(exec, n);
    const int n_cuts = n_bins - 1;
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t i = 0; i < n; i++) {
        uint64_t key = key_of(values, i, higher_is_better);
        int above = 0;
        for (int c = 0; c < n_cuts; c++)
            above += key > cut[c];
        score[i] = (uint8_t)(1 + above);
    }
}

size_t sgs_rfm_sorted_keys(const double *values, size_t n, int higher_is_better, uint64_t *keys)
{
    size_t n_nan = 0;
    for (size_t i = 0; i < n; i++) {
        n_nan += isnan(values[i]);
        keys[i] = key_of(values, i, higher_is_better);
    }
    sgs_order_keys_sort(keys, n);
    return n_nan;
}

size_t sgs_keys_below(const uint64_t *sorted, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n; /* first index with sorted[.] >= key */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void sgs_rfm_segments(const sgs_exec_t *exec, const uint8_t *r, const uint8_t *f, const uint8_t *m,
                      size_t n, int n_bins, uint8_t *segment, uint16_t *cell, uint8_t *total)
{
    int n_threads = sgs_exec_threads_for(exec, n);
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t i = 0; i < n; i++) {
        segment[i] = sgs_rfm_segment_of(r[i], f[i], n_bins);
        cell[i] = (uint16_t)(100 * r[i] + 10 * f[i] + m[i]);
        total[i] = (uint8_t)(r[i] + f[i] + m[i]);
    }
}

/* ---- Serial reference twins --------------------------------------------------------- */

/* The definition itself: the keys sorted, `below` = the keys strictly smaller (a binary search
 * for the first key >= the customer's), score = 1 + floor(B below / n). */
int sgs_rfm_score_ref(const double *values, size_t n, int higher_is_better, int n_bins,
                      void *workspace, uint8_t *score, sgs_error_t *err)
{
    if (n_bins < 2 || n_bins > 9)
        return sgs_error_set(err, SGS_EINVAL, "rfm: %d bins (must be 2..9)", n_bins);
    if (n == 0)
        return SGS_OK;
    size_t n_nan = 0;
    for (size_t i = 0; i < n; i++)
        n_nan += isnan(values[i]);
    if (n_nan > 0)
        return sgs_error_set(err, SGS_EINVAL, "rfm: %zu values are NaN", n_nan);
    uint64_t *sorted = workspace;
    for (size_t i = 0; i < n; i++)
        sorted[i] = key_of(values, i, higher_is_better);
    qsort(sorted, n, sizeof *sorted, compare_keys);
    for (size_t i = 0; i < n; i++) {
        size_t below = sgs_keys_below(sorted, n, key_of(values, i, higher_is_better));
        score[i] = (uint8_t)(1 + (size_t)n_bins * below / n);
    }
    return SGS_OK;
}

void sgs_rfm_segments_ref(const uint8_t *r, const uint8_t *f, const uint8_t *m, size_t n,
                          int n_bins, uint8_t *segment, uint16_t *cell, uint8_t *total)
{
    for (size_t i = 0; i < n; i++) {
        segment[i] = sgs_rfm_segment_of(r[i], f[i], n_bins);
        cell[i] = (uint16_t)(100 * r[i] + 10 * f[i] + m[i]);
        total[i] = (uint8_t)(r[i] + f[i] + m[i]);
    }
}
