/*
 * kernels/radix_select.c — order statistics by a radix select on the doubles' ordered keys.
 * See radix_select.h for the contracts.
 */
#include "kernels/radix_select.h"

#include "kernels/order_keys.h"
#include "kernels/order_stats.h"

#include <math.h>
#include <string.h>

/* 2^11 buckets a pass: the histograms stay in the first-level cache. A range of up to
 * SMALL_N values is finished by introselect, cheaper there than clearing a histogram. */
#define DIGIT_BITS 11
#define N_BUCKETS (1u << DIGIT_BITS)
#define SMALL_N 2048
/* Consecutive values counted in separate histograms (summed afterwards): runs of equal
 * values would otherwise wait on the previous increment of the same counter. */
#define N_HIST 4

typedef struct {
    uint32_t count[N_HIST][N_BUCKETS];
    uint8_t target[N_BUCKETS]; /* 1 + index of a bucket kept by this pass, 0: not kept */
} workspace_t;

static inline void swap_d(double *x, size_t i, size_t j)
{
    double t = x[i];
    x[i] = x[j];
    x[j] = t;
}

int sgs_radix_value_range(const double *x, size_t n, double *min, double *max)
{
    double lo = x[0], hi = x[0];
    int neg = 0, pos = 0;
    for (size_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
        uint64_t u;
        memcpy(&u, &x[i], sizeof u);
        neg |= u == UINT64_C(0x8000000000000000);
        pos |= u == 0;
    }
    *min = lo;
    *max = hi;
    return neg && pos;
}

/* The digit of a value in one pass: a monotone map of the values in [min, max] onto
 * 0..nb-1, so that each bucket holds a range of values and the buckets are in order. Either
 * the keys' bits from shift up, counted from base (suits values spread over many scales), or
 * linear in the value, (v - min) * scale truncated (suits values of one scale with a few far
 * smaller, such as zeros among values around 5, which take most of the key bits' range);
 * subtraction, multiplication by a positive constant and truncation never reverse an
 * order. */
typedef struct {
    int linear;
    double min, scale;
    unsigned shift;
    uint64_t base;
    size_t nb;
} digits_t;

static inline size_t digit_of(const digits_t *g, double v)
{
    if (g->linear) {
        size_t d = (size_t)((v - g->min) * g->scale);
        return d < g->nb - 1 ? d : g->nb - 1;
    }
    return (size_t)((sgs_order_bits_key(v) >> g->shift) - g->base);
}

/* The digits of keys in [kmin, kmax] (kmin < kmax): the smallest shift that keeps them below
 * N_BUCKETS; or linear when that is finite and enabled. */
static digits_t digits_for(uint64_t kmin, uint64_t kmax, int linear)
{
    digits_t g = {0};
    double min = sgs_order_bits_value(kmin), span = sgs_order_bits_value(kmax) - min;
    g.scale = (double)N_BUCKETS / span;
    if (linear && isfinite(span) && isfinite(g.scale) && g.scale > 0) {
        g.linear = 1;
        g.min = min;
        g.nb = N_BUCKETS;
        return g;
    }
    unsigned bits = 64 - (unsigned)__builtin_clzll(kmax - kmin);
    g.shift = bits > DIGIT_BITS ? bits - DIGIT_BITS : 0;
    while ((kmax >> g.shift) - (kmin >> g.shift) >= N_BUCKETS)
        g.shift++;
    g.base = kmin >> g.shift;
    g.nb = (size_t)((kmax >> g.shift) - g.base) + 1;
    return g;
}

/* How many of SAMPLE_N values spread over x share a bucket of g with the sample's value at
 * each rank: an estimate of the values a pass with g keeps (smaller is better). */
#define SAMPLE_N 1024
static size_t sample_kept(const double *x, size_t n, const digits_t *g, const size_t *rank,
                          size_t n_ranks, uint32_t *count)
{
    memset(count, 0, g->nb * sizeof *count);
    for (size_t s = 0; s < SAMPLE_N; s++)
        count[digit_of(g, x[s * (n / SAMPLE_N)])]++;
    size_t kept = 0, below = 0, r = 0;
    for (size_t b = 0; b < g->nb && r < n_ranks; b++) {
        while (r < n_ranks && rank[r] / (n / SAMPLE_N + 1) < below + count[b]) {
            kept += count[b];
            r++;
        }
        below += count[b];
    }
    return kept;
}

/* One kept bucket of a pass: its digit, the count of values below it and in it, the range
 * [first, first + n) of x it is moved to, its smallest and largest key, its ranks. */
typedef struct {
    size_t digit, below, n, first;
    uint64_t kmin, kmax;
    size_t rank0, n_ranks; /* rank[rank0 .. rank0 + n_ranks) fall in it */
    int moved;
} kept_t;

/* The smallest and largest key of each kept bucket, reading x only: when buckets are large
 * they often hold one value (ties), which then needs no moving. */
static void measure_kept(const double *x, size_t n, const digits_t *g, kept_t *kept, size_t n_kept)
{
    size_t digit[SGS_RADIX_SELECT_MAX_RANKS];
    uint64_t lo[SGS_RADIX_SELECT_MAX_RANKS], hi[SGS_RADIX_SELECT_MAX_RANKS];
    for (size_t t = 0; t < SGS_RADIX_SELECT_MAX_RANKS; t++) {
        digit[t] = kept[t < n_kept ? t : 0].digit; /* spare slots repeat the first */
        lo[t] = UINT64_MAX;
        hi[t] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t key = sgs_order_bits_key(x[i]);
        size_t d = digit_of(g, x[i]);
        for (size_t t = 0; t < SGS_RADIX_SELECT_MAX_RANKS; t++) {
            uint64_t in = d == digit[t], mask = 0 - in;
            uint64_t as_lo = key | ~mask, as_hi = key & mask; /* others: no effect */
            lo[t] = as_lo < lo[t] ? as_lo : lo[t];
            hi[t] = as_hi > hi[t] ? as_hi : hi[t];
        }
    }
    for (size_t t = 0; t < n_kept; t++) {
        kept[t].kmin = lo[t];
        kept[t].kmax = hi[t];
    }
}

/* The values of the kept buckets that must move (moved != 0) put at the front of x, one
 * bucket after the other from x + first, their key ranges noted; x's other values may be
 * lost. Kept values are mostly few, so the branch is mostly not taken. */
static void move_kept(double *x, size_t n, const digits_t *g, kept_t *kept, size_t n_kept,
                      workspace_t *w)
{
    size_t front = 0, n_moved = 0, only = 0;
    for (size_t t = 0; t < n_kept; t++)
        if (kept[t].moved) {
            kept[t].kmin = UINT64_MAX;
            kept[t].kmax = 0;
            w->target[kept[t].digit] = (uint8_t)(t + 1);
            only = t;
            n_moved++;
        }
    if (n_moved == 1) { /* a comparison instead of the table */
        kept_t *k = &kept[only];
        size_t digit = k->digit;
        uint64_t lo = UINT64_MAX, hi = 0;
        if (k->n <= n / 16) {
            for (size_t i = 0; i < n; i++) {
                if (digit_of(g, x[i]) == digit) {
                    uint64_t key = sgs_order_bits_key(x[i]);
                    lo = key < lo ? key : lo;
                    hi = key > hi ? key : hi;
                    swap_d(x, i, front++);
                }
            }
        } else {
            /* many (ties): the branch would be mispredicted; every value is copied to the
             * front, which moves past members only (x's other values are lost) */
            for (size_t i = 0; i < n; i++) {
                double v = x[i];
                uint64_t key = sgs_order_bits_key(v);
                uint64_t in = digit_of(g, v) == digit, mask = 0 - in;
                uint64_t as_lo = key | ~mask, as_hi = key & mask; /* others: no effect */
                lo = as_lo < lo ? as_lo : lo;
                hi = as_hi > hi ? as_hi : hi;
                x[front] = v;
                front += (size_t)in;
            }
        }
        k->kmin = lo;
        k->kmax = hi;
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned t = w->target[digit_of(g, x[i])];
            if (t) {
                kept_t *k = &kept[t - 1];
                uint64_t key = sgs_order_bits_key(x[i]);
                k->kmin = key < k->kmin ? key : k->kmin;
                k->kmax = key > k->kmax ? key : k->kmax;
                swap_d(x, i, front++);
            }
        }
    }
    for (size_t t = 0; t < n_kept; t++)
        w->target[kept[t].digit] = 0; /* clean for the next pass */
    /* several buckets: sorted within the front (a short range), one after the other */
    size_t first = 0;
    for (size_t t = 0; t < n_kept; t++) {
        if (!kept[t].moved)
            continue;
        kept[t].first = first;
        if (--n_moved > 0)
            for (size_t j = first; j < front; j++)
                if (digit_of(g, x[j]) == kept[t].digit)
                    swap_d(x, j, first++);
        first = kept[t].first + kept[t].n;
    }
}

/* Ranks rank[0..n_ranks-1] of x[0..n-1], whose keys lie in [kmin, kmax]. */
static void select_ranks(double *x, size_t n, uint64_t kmin, uint64_t kmax, const size_t *rank,
                         size_t n_ranks, double *out, workspace_t *w)
{
    if (kmin == kmax) { /* every value has the same bits */
        for (size_t r = 0; r < n_ranks; r++)
            out[r] = sgs_order_bits_value(kmin);
        return;
    }
    if (n <= SMALL_N || n > UINT32_MAX) {
        /* each call leaves the same values in x: the next one selects among them again */
        for (size_t r = 0; r < n_ranks; r++)
            out[r] = sgs_select_kth(x, n, rank[r]);
        return;
    }
    /* The digits that keep fewer of a sample's values, linear ones on a tie. */
    digits_t g = digits_for(kmin, kmax, 0), linear = digits_for(kmin, kmax, 1);
    if (linear.linear && sample_kept(x, n, &linear, rank, n_ranks, w->count[0]) <=
                             sample_kept(x, n, &g, rank, n_ranks, w->count[0]))
        g = linear;
    for (int h = 0; h < N_HIST; h++)
        memset(w->count[h], 0, g.nb * sizeof w->count[h][0]);
    size_t i = 0;
    for (; i + N_HIST <= n; i += N_HIST) {
        w->count[0][digit_of(&g, x[i])]++;
        w->count[1][digit_of(&g, x[i + 1])]++;
        w->count[2][digit_of(&g, x[i + 2])]++;
        w->count[3][digit_of(&g, x[i + 3])]++;
    }
    for (; i < n; i++)
        w->count[0][digit_of(&g, x[i])]++;

    /* The bucket of each rank; ranks in one bucket share it. */
    kept_t kept[SGS_RADIX_SELECT_MAX_RANKS];
    size_t n_kept = 0, below = 0, r = 0, n_in_kept = 0;
    for (size_t b = 0; b < g.nb && r < n_ranks; b++) {
        size_t c = 0;
        for (int h = 0; h < N_HIST; h++)
            c += w->count[h][b];
        if (rank[r] < below + c) {
            kept[n_kept] = (kept_t){.digit = b, .below = below, .n = c, .rank0 = r, .moved = 1};
            while (r < n_ranks && rank[r] < below + c)
                r++;
            kept[n_kept].n_ranks = r - kept[n_kept].rank0;
            n_in_kept += c;
            n_kept++;
        }
        below += c;
    }
    /* Several buckets with many values: first their key ranges, without moving them; a
     * bucket of one value (ties) gives its ranks at once. */
    if (n_kept > 1 && n_in_kept > n / 16) {
        measure_kept(x, n, &g, kept, n_kept);
        for (size_t t = 0; t < n_kept; t++)
            kept[t].moved = kept[t].kmin != kept[t].kmax;
    }
    size_t n_moved = 0;
    for (size_t t = 0; t < n_kept; t++)
        n_moved += (size_t)kept[t].moved;
    if (n_moved > 0)
        move_kept(x, n, &g, kept, n_kept, w);
    for (size_t t = 0; t < n_kept; t++) {
        size_t sub[SGS_RADIX_SELECT_MAX_RANKS];
        for (size_t q = 0; q < kept[t].n_ranks; q++)
            sub[q] = rank[kept[t].rank0 + q] - kept[t].below;
        if (kept[t].moved)
            select_ranks(x + kept[t].first, kept[t].n, kept[t].kmin, kept[t].kmax, sub,
                         kept[t].n_ranks, out + kept[t].rank0, w);
        else
            for (size_t q = 0; q < kept[t].n_ranks; q++)
                out[kept[t].rank0 + q] = sgs_order_bits_value(kept[t].kmin);
    }
}

void sgs_radix_select(double *x, size_t n, double min, double max, const size_t *rank,
                      size_t n_ranks, double *out)
{
    workspace_t w;
    memset(w.target, 0, sizeof w.target);
    select_ranks(x, n, sgs_order_bits_key(min), sgs_order_bits_key(max), rank, n_ranks, out, &w);
}

double sgs_radix_median(double *x, size_t n, double min, double max)
{
    if (n == 0)
        return (double)NAN;
    size_t rank[2] = {(n - 1) / 2, n / 2};
    double v[2];
    if (n % 2 == 1) {
        sgs_radix_select(x, n, min, max, rank, 1, v);
        return v[0];
    }
    sgs_radix_select(x, n, min, max, rank, 2, v);
    return 0.5 * (v[0] + v[1]);
}
