/*
 * kernels/rfm.c — equal-frequency RFM scores and the segment table (kernels/rfm.h).
 *
 * Scores need each customer's count of strictly worse customers. Small integer values (days,
 * purchase counts) are counted in a histogram. Other values are sorted
 * with their customer index (LSD radix sort on an order-preserving 64-bit image of the
 * double, 16-bit digits, skipping digits where every key agrees, so counts and day numbers
 * take one pass), then each run of equal values gets the score of its first position.
 */
#include "kernels/rfm.h"

#include <math.h>
#include <string.h>

#define DIGITS ((size_t)1 << 16) /* radix sort: 16-bit digits */

typedef struct keyed_index {
    uint64_t key;
    uint32_t index;
} keyed_index_t;

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
    if (sgs_size_mul(n, 2 * sizeof(keyed_index_t), &bytes) != SGS_OK ||
        sgs_size_add(bytes, DIGITS * sizeof(size_t), &bytes) != SGS_OK)
        return SIZE_MAX;
    return bytes;
}

/* Order-preserving image of a double: unsigned comparison of images equals numeric
 * comparison of values (no NaN). -0.0 is folded onto 0.0 so that they tie. */
static uint64_t ordered_bits(double v)
{
    v += 0.0;
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : (u | (UINT64_C(1) << 63));
}

/* Stable LSD radix sort of a[0..n) by key, through tmp and a DIGITS-entry histogram;
 * returns whichever of a and tmp holds the result. */
static keyed_index_t *radix_sort(keyed_index_t *a, keyed_index_t *tmp, size_t *count, size_t n)
{
    keyed_index_t *from = a, *to = tmp;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, DIGITS * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(from[i].key >> shift) & 0xFFFF]++;
        if (count[(from[0].key >> shift) & 0xFFFF] == n)
            continue; /* every key has this digit */
        size_t next = 0;
        for (size_t d = 0; d < DIGITS; d++) {
            size_t c = count[d];
            count[d] = next;
            next += c;
        }
        for (size_t i = 0; i < n; i++)
            to[count[(from[i].key >> shift) & 0xFFFF]++] = from[i];
        keyed_index_t *t = from;
        from = to;
        to = t;
    }
    return from;
}

/* Scores of integer values spanning at most `span` + 1 counters that fit the workspace
 * (day counts, purchase counts): a histogram instead of a sort. */
static void score_small_integers(int n_threads, const double *values, size_t n,
                                 int higher_is_better, int n_bins, double min_value, size_t span,
                                 uint32_t *worse, uint8_t *score)
{
    memset(worse, 0, (span + 1) * sizeof *worse);
    for (size_t i = 0; i < n; i++)
        worse[(size_t)(values[i] - min_value)]++;
    /* counts -> customers strictly worse than each value */
    uint32_t running = 0;
    for (size_t j = 0; j <= span; j++) {
        size_t slot = higher_is_better ? j : span - j;
        uint32_t c = worse[slot];
        worse[slot] = running;
        running += c;
    }
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t i = 0; i < n; i++)
        score[i] = (uint8_t)(1 + (size_t)n_bins * worse[(size_t)(values[i] - min_value)] / n);
}

int sgs_rfm_score(const sgs_exec_t *exec, const double *values, size_t n, int higher_is_better,
                  int n_bins, void *workspace, uint8_t *score, sgs_error_t *err)
{
    if (n_bins < 2 || n_bins > 9)
        return sgs_error_set(err, SGS_EINVAL, "rfm: %d bins (must be 2..9)", n_bins);
    if (n == 0)
        return SGS_OK;
    if (n > UINT32_MAX)
        return sgs_error_set(err, SGS_EINVAL, "rfm: more than %u customers", UINT32_MAX);
    keyed_index_t *pairs = workspace, *tmp = pairs + n;
    size_t n_nan = 0, n_fraction = 0;
    int n_threads = sgs_exec_threads(exec);
    double lo = values[0], hi = values[0];
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(+ : n_nan, n_fraction) \
    reduction(min : lo) reduction(max : hi)
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        n_nan += isnan(v);
        n_fraction += v != floor(v);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (n_nan > 0)
        return sgs_error_set(err, SGS_EINVAL, "rfm: %zu values are NaN", n_nan);
    size_t counters = sgs_rfm_workspace_size(n) / sizeof(uint32_t);
    if (n_fraction == 0 && hi - lo < (double)counters && hi - lo < 16777216.0) {
        score_small_integers(n_threads, values, n, higher_is_better, n_bins, lo, (size_t)(hi - lo),
                             workspace, score);
        return SGS_OK;
    }
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t i = 0; i < n; i++) {
        pairs[i].key = ordered_bits(higher_is_better ? values[i] : -values[i]);
        pairs[i].index = (uint32_t)i;
    }

    keyed_index_t *sorted = radix_sort(pairs, tmp, (size_t *)(void *)(tmp + n), n);

    size_t run_start = 0;
    for (size_t i = 0; i < n; i++) {
        if (sorted[i].key != sorted[run_start].key)
            run_start = i;
        score[sorted[i].index] = (uint8_t)(1 + (size_t)n_bins * run_start / n);
    }
    return SGS_OK;
}

void sgs_rfm_segments(const sgs_exec_t *exec, const uint8_t *r, const uint8_t *f, const uint8_t *m,
                      size_t n, int n_bins, uint8_t *segment, uint16_t *cell, uint8_t *total)
{
    int n_threads = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t i = 0; i < n; i++) {
        segment[i] = sgs_rfm_segment_of(r[i], f[i], n_bins);
        cell[i] = (uint16_t)(100 * r[i] + 10 * f[i] + m[i]);
        total[i] = (uint8_t)(r[i] + f[i] + m[i]);
    }
}
