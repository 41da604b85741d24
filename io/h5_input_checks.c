/*
 * io/h5_input_checks.c — what the HDF5 input reader checks and computes over the rows of a
 * chunk once it is read: the content hash, the row checks, and the fused pass that runs
 * both with the order, time-range and as-of scans. See h5_input.h.
 */
#include "io/h5_input.h"

#include "io/h5_reader_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- Content hash (h5_input.h, SGS_INPUT_HASH_BLOCK_ROWS) -------------------------------
 * One multiply-rotate-multiply round per 64-bit value (the accumulate round of xxHash64,
 * Y. Collet, with its primes), so a row costs three short dependency chains; byte-wise
 * FNV-1a cost eight multiplications per value and was most of the reading time. */
#define HASH_SEED UINT64_C(0x27d4eb2f165667c5)
#define HASH_P1 UINT64_C(0x9e3779b185ebca87)
#define HASH_P2 UINT64_C(0xc2b2ae3d27d4eb4f)
#define HASH_P3 UINT64_C(0x165667b19e3779f9)

static inline uint64_t hash_round(uint64_t acc, uint64_t v)
{
    acc += v * HASH_P2;
    acc = (acc << 31) | (acc >> 33);
    return acc * HASH_P1;
}

/* The final avalanche, so that every input bit reaches every output bit. */
static inline uint64_t hash_finish(uint64_t h)
{
    h ^= h >> 33;
    h *= HASH_P2;
    h ^= h >> 29;
    h *= HASH_P3;
    return h ^ (h >> 32);
}

/* Continue the lanes over memory rows [lo, hi). The three chains are independent, so the
 * processor overlaps their multiplications. */
static hash_lanes_t hash_rows(const reader_t *r, hash_lanes_t s, size_t lo, size_t hi)
{
    uint64_t h0 = s.h[0], h1 = s.h[1], h2 = s.h[2];
    if (r->hash_kind == 1) {
        for (size_t i = lo; i < hi; i++) {
            uint64_t bits;
            memcpy(&bits, &r->amount[i], sizeof bits);
            h0 = hash_round(h0, (uint64_t)r->id[i]);
            h1 = hash_round(h1, (uint64_t)r->time[i]);
            h2 = hash_round(h2, bits);
        }
    } else if (r->hash_kind == 2) {
        for (size_t i = lo; i < hi; i++) {
            h0 = hash_round(h0, (uint64_t)r->id[i]);
            h1 = hash_round(h1, (uint64_t)r->time[i]);
            h2 = hash_round(h2, r->kind[i]);
        }
    }
    return (hash_lanes_t){{h0, h1, h2}};
}

/* The content fingerprint (h5_input.h) of the rows the pass has seen. */
uint64_t sgs__reader_content_hash(const reader_t *r)
{
    return hash_finish(r->hash_total);
}

uint64_t sgs_input_fingerprint_of_blocks(const uint64_t *block_hash, size_t n_blocks)
{
    uint64_t total = HASH_SEED;
    for (size_t b = 0; b < n_blocks; b++)
        total = hash_round(total, block_hash[b]);
    return hash_finish(total);
}

/* ---- Row checks ----------------------------------------------------------------------- */

enum {
    BIT_TIME_NEGATIVE = 1u,
    BIT_TIME_FUTURE = 2u,
    BIT_AMOUNT_NAN = 4u,
    BIT_AMOUNT_INF = 8u,
    BIT_KIND = 16u,
    BIT_SIGNUP_NEGATIVE = 32u
};

/* Problems of memory row i as bits (0 when the row is fine). */
static inline unsigned row_bits(const reader_t *r, size_t i)
{
    unsigned bits = 0;
    if (r->time) {
        int64_t t = r->time[i];
        if (t < 0)
            bits |= BIT_TIME_NEGATIVE;
        else if (!r->has_as_of && t > r->future_limit_s)
            bits |= BIT_TIME_FUTURE;
    }
    if (r->amount) {
        double a = r->amount[i];
        if (isnan(a))
            bits |= BIT_AMOUNT_NAN;
        else if (isinf(a))
            bits |= BIT_AMOUNT_INF;
    }
    if (r->kind && (r->kind[i] < 1 || r->kind[i] > 8))
        bits |= BIT_KIND;
    if (r->signup && r->signup[i] < 0)
        bits |= BIT_SIGNUP_NEGATIVE;
    return bits;
}

/* Report each problem of memory row i (file row `row`). */
static int report_row(reader_t *r, size_t i, size_t row, unsigned bits)
{
    reporter_t *rep = &r->rep;
    int rc = SGS_OK;
    char when[48], now[48];
    if (bits & BIT_TIME_NEGATIVE)
        rc = sgs__reader_report(rep, SGS_CHECK_TIME_NEGATIVE, SGS_EDATA,
                                sgs__reader_col_path(r, "time"), row,
                                "time %lld is before 1970-01-01", (long long)r->time[i]);
    if (!rc && (bits & BIT_TIME_FUTURE)) {
        sgs__reader_format_iso(r->time[i], when, sizeof when);
        sgs__reader_format_iso(r->now_s, now, sizeof now);
        rc = sgs__reader_report(
            rep, SGS_CHECK_TIME_FUTURE, SGS_EDATA, sgs__reader_col_path(r, "time"), row,
            "time %s is more than one day after now (%s); give an as-of date or fix "
            "the data",
            when, now);
    }
    if (!rc && (bits & BIT_AMOUNT_NAN))
        rc = sgs__reader_report(rep, SGS_CHECK_AMOUNT_NAN, SGS_EDATA,
                                sgs__reader_col_path(r, "amount"), row, "amount is NaN");
    if (!rc && (bits & BIT_AMOUNT_INF))
        rc = sgs__reader_report(rep, SGS_CHECK_AMOUNT_INF, SGS_EDATA,
                                sgs__reader_col_path(r, "amount"), row,
                                "amount is infinite (%cinf)", r->amount[i] < 0 ? '-' : '+');
    if (!rc && (bits & BIT_KIND))
        rc = sgs__reader_report(rep, SGS_CHECK_KIND, SGS_EDATA, sgs__reader_col_path(r, "kind"),
                                row, "kind %u is not an event kind (1..8)", (unsigned)r->kind[i]);
    if (!rc && (bits & BIT_SIGNUP_NEGATIVE))
        rc = sgs__reader_report(rep, SGS_CHECK_TIME_NEGATIVE, SGS_EDATA,
                                sgs__reader_col_path(r, "signup_time"), row,
                                "signup_time %lld is before 1970-01-01", (long long)r->signup[i]);
    return rc;
}

/* Report the problems of memory rows [first, end) = file rows from start + (first - dst),
 * in order. */
int sgs__reader_report_rows(reader_t *r, size_t start, size_t dst, size_t first, size_t end)
{
    for (size_t i = first; i < end; i++) {
        unsigned bits = row_bits(r, i);
        if (bits) {
            int rc = report_row(r, i, start + (i - dst), bits);
            if (rc)
                return rc;
        }
    }
    return SGS_OK;
}

/* ---- The fused pass over a chunk ---------------------------------------------------------
 * After a chunk is read, one parallel loop over its hash blocks finds the first bad row,
 * advances the fingerprint lanes, counts the rows after the as-of end, and checks order
 * and time range; the blocks' results are combined in block order (integers only, so the
 * outcome is the same for any thread count). Few forks per chunk matter: on a shared
 * machine every barrier may wait for a descheduled thread. */

typedef struct block_scan {
    hash_lanes_t lanes; /* fingerprint lanes after this block's rows of the chunk */
    size_t first_bad;   /* first memory row with a problem, SIZE_MAX when none */
    size_t n_late;      /* rows at or after the as-of end */
    int unsorted;       /* some row precedes its predecessor in (customer_id, time) */
    int64_t min_time_s; /* INT64_MAX when the block has no time */
    int64_t max_time_s; /* INT64_MIN when the block has no time */
} block_scan_t;

/* Start the fused pass over chunks of at most `chunk` rows: the fingerprint's total from its
 * seed, room for the results of a chunk's blocks. SGS_ENOMEM. */
int sgs__reader_scan_begin(reader_t *r, size_t chunk)
{
    r->hash_total = HASH_SEED;
    r->blocks = sgs_alloc_array(chunk / SGS_INPUT_HASH_BLOCK_ROWS + 2, sizeof *r->blocks);
    if (!r->blocks)
        return sgs_error_set(r->rep.err, SGS_ENOMEM, "%s: out of memory", r->rep.file);
    return SGS_OK;
}

/* Scan memory rows [lo, hi); b->lanes holds the lane states to continue from. Row lo is
 * compared with row lo - 1 (the previous block, or the last kept row of the previous
 * chunk), which is right as long as no row of this chunk is excluded. */
static void scan_block(const reader_t *r, size_t lo, size_t hi, block_scan_t *b)
{
    b->first_bad = SIZE_MAX;
    for (size_t i = lo; i < hi; i++) {
        if (row_bits(r, i)) {
            b->first_bad = i;
            break;
        }
    }
    if (r->hash_kind)
        b->lanes = hash_rows(r, b->lanes, lo, hi);
    const int64_t *id = r->id, *time = r->time;
    size_t n_late = 0;
    int unsorted = 0;
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    if (time) {
        const int as_of = r->has_as_of;
        const int64_t end_s = r->as_of_end_s;
        for (size_t i = lo; i < hi; i++) {
            int64_t t = time[i];
            tmin = t < tmin ? t : tmin;
            tmax = t > tmax ? t : tmax;
            n_late += as_of && t >= end_s;
            if (i > 0)
                unsorted |= id[i - 1] > id[i] || (id[i - 1] == id[i] && time[i - 1] > t);
        }
    } else {
        for (size_t i = lo > 0 ? lo : 1; i < hi; i++)
            unsorted |= id[i - 1] > id[i];
    }
    b->n_late = n_late;
    b->unsorted = unsorted;
    b->min_time_s = tmin;
    b->max_time_s = tmax;
}

/* The fused pass over file rows [start, start + m) at memory rows [dst, dst + m). Folds
 * finished blocks into the fingerprint and carries a cut block's lanes; *first_bad gets
 * the first memory row with a problem (SIZE_MAX when none), *n_late the rows after the
 * as-of end. Order and time range are applied to the reader only when n_late is 0 (else
 * the caller compacts and rescans). */
void sgs__reader_scan_chunk(reader_t *r, size_t start, size_t m, size_t dst, size_t *first_bad,
                            size_t *n_late)
{
    const size_t B = SGS_INPUT_HASH_BLOCK_ROWS;
    size_t b0 = start / B, b1 = (start + m - 1) / B, nb = b1 - b0 + 1;
    block_scan_t *bs = r->blocks;
    const hash_lanes_t carry = r->hash_carry;
    const hash_lanes_t fresh = {{HASH_SEED, HASH_SEED, HASH_SEED}};
#pragma omp parallel for num_threads(r->nt) schedule(static) if (nb > 1)
    for (size_t k = 0; k < nb; k++) {
        size_t lo = (b0 + k) * B, hi = lo + B;
        bs[k].lanes = fresh;
        if (lo < start) {
            lo = start;
            bs[k].lanes = carry;
        }
        if (hi > start + m)
            hi = start + m;
        scan_block(r, dst + (lo - start), dst + (hi - start), &bs[k]);
    }
    size_t first = SIZE_MAX, late = 0;
    int unsorted = 0;
    int64_t tmin = r->min_time_s, tmax = r->max_time_s;
    for (size_t k = 0; k < nb; k++) {
        if (first == SIZE_MAX)
            first = bs[k].first_bad;
        late += bs[k].n_late;
        unsorted |= bs[k].unsorted;
        tmin = bs[k].min_time_s < tmin ? bs[k].min_time_s : tmin;
        tmax = bs[k].max_time_s > tmax ? bs[k].max_time_s : tmax;
        size_t block_end = (b0 + k + 1) * B;
        if (block_end > r->row_end)
            block_end = r->row_end;
        if (start + m < block_end) {
            r->hash_carry = bs[k].lanes;
            continue;
        }
        uint64_t block = HASH_SEED;
        for (int lane = 0; lane < 3; lane++)
            block = hash_round(block, bs[k].lanes.h[lane]);
        r->hash_total = hash_round(r->hash_total, block);
        if (r->block_hash)
            r->block_hash[b0 + k - r->row_begin / B] = block;
    }
    if (late == 0) {
        r->sorted &= !unsorted;
        r->min_time_s = tmin;
        r->max_time_s = tmax;
    }
    *first_bad = first;
    *n_late = late;
}

/* Keep, in every column, the memory rows [dst, dst + m) whose time is before the as-of
 * end, in order (the time column last, since it decides). Returns the number kept. */
size_t sgs__reader_exclude_after_as_of(reader_t *r, size_t m, size_t dst)
{
    const int64_t *time = r->time;
    const int64_t end_s = r->as_of_end_s;
    column_t *time_col = NULL;
    size_t w = dst;
    for (size_t k = 0; k <= r->n_cols; k++) {
        column_t *c = k < r->n_cols ? &r->cols[k] : time_col;
        if (!c || !c->data)
            continue;
        if (k < r->n_cols && (const void *)c->data == (const void *)time) {
            time_col = c;
            continue;
        }
        w = dst;
        switch (c->elem) { /* typed loops: a memcpy call per value is slow */
        case 8: {
            uint64_t *v = (uint64_t *)(void *)c->data;
            for (size_t i = dst; i < dst + m; i++)
                if (time[i] < end_s)
                    v[w++] = v[i];
            break;
        }
        case 4: {
            uint32_t *v = (uint32_t *)(void *)c->data;
            for (size_t i = dst; i < dst + m; i++)
                if (time[i] < end_s)
                    v[w++] = v[i];
            break;
        }
        default: {
            uint8_t *v = c->data;
            for (size_t i = dst; i < dst + m; i++)
                if (time[i] < end_s)
                    v[w++] = v[i];
            break;
        }
        }
    }
    return w - dst;
}

/* Order and time range over the kept memory rows [lo, hi), which follow the kept rows
 * [0, lo) (used only for chunks where the as-of dropped rows). */
void sgs__reader_scan_kept(reader_t *r, size_t lo, size_t hi)
{
    if (hi <= lo)
        return;
    const int64_t *id = r->id, *time = r->time;
    int unsorted = 0;
    int64_t tmin = r->min_time_s, tmax = r->max_time_s;
    size_t from = lo > 0 ? lo : 1;
    // clang-format off
#pragma omp parallel for num_threads(r->nt) schedule(static) if (hi - lo > 32768) \
    reduction(| : unsorted) reduction(min : tmin) reduction(max : tmax)
    // clang-format on
    for (size_t i = lo; i < hi; i++) {
        tmin = time[i] < tmin ? time[i] : tmin;
        tmax = time[i] > tmax ? time[i] : tmax;
        if (i >= from)
            unsorted |= id[i - 1] > id[i] || (id[i - 1] == id[i] && time[i - 1] > time[i]);
    }
    r->sorted &= !unsorted;
    r->min_time_s = tmin;
    r->max_time_s = tmax;
}
