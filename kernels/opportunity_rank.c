/*
 * kernels/opportunity_rank.c — ranking the candidates the detection found (priority, value
 * at stake, customer, kind) and assigning channels within per-channel capacity. See
 * opportunities.h for the definitions.
 */
#include "kernels/opportunities.h"
#include "kernels/opportunity_rank_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- Ranking --------------------------------------------------------------------------- */

typedef sgs__opp_cand_t cand_t;
typedef sgs__opp_route_t route_t;
#define cand_before sgs__opp_before

/* Merge the sorted runs x[0..na) and x[na..na + nb) into x with the shorter run copied to
 * s first (min(na, nb) entries): the left one merged from the front, the right one from the
 * back, so that the writes never pass the other run's next unread entry. */
static void merge_in_place(cand_t *x, size_t na, size_t nb, cand_t *s)
{
    if (na <= nb) {
        memcpy(s, x, na * sizeof *x);
        size_t i = 0, j = na, k = 0, n = na + nb;
        while (i < na && j < n)
            x[k++] = cand_before(&x[j], &s[i]) ? x[j++] : s[i++];
        while (i < na)
            x[k++] = s[i++]; /* what is left of the right run is in its place */
        return;
    }
    memcpy(s, x + na, nb * sizeof *x);
    size_t i = na, j = nb, k = na + nb;
    while (i > 0 && j > 0)
        x[--k] = cand_before(&s[j - 1], &x[i - 1]) ? x[--i] : s[--j];
    while (j > 0)
        x[--k] = s[--j]; /* what is left of the left run is in its place */
}

/* Serial merge sort of a[0..n), with scratch s of n / 2 entries. */
static void sort_serial(cand_t *a, cand_t *s, size_t n)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            cand_t x = a[i];
            size_t j = i;
            while (j > 0 && cand_before(&x, &a[j - 1])) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_serial(a, s, h);
    sort_serial(a + h, s, n - h);
    merge_in_place(a, h, n - h, s);
}

/* Parallel merge sort: fixed runs sorted in parallel, then merged pairwise level by level,
 * each merge in place with its shorter run copied aside: the merge of a[lo..hi) uses
 * tmp[lo / 2 .. hi / 2), so half the entries of scratch serve every merge of a level at once
 * (the sort is the opportunity step's peak of memory). The order is total, so the result is
 * unique. */
cand_t *sgs__opportunity_sort(cand_t *a, cand_t *tmp, size_t m, int n_threads)
{
    const size_t run = 8192;
    long n_runs = (long)((m + run - 1) / run);
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (long r = 0; r < n_runs; r++) {
        size_t lo = (size_t)r * run, len = m - lo < run ? m - lo : run;
        sort_serial(a + lo, tmp + lo / 2, len);
    }
    for (size_t width = run; width < m; width *= 2) {
        long n_pairs = (long)((m + 2 * width - 1) / (2 * width));
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
        for (long p = 0; p < n_pairs; p++) {
            size_t lo = (size_t)p * 2 * width;
            size_t mid = lo + width < m ? lo + width : m;
            size_t hi = lo + 2 * width < m ? lo + 2 * width : m;
            if (mid < hi)
                merge_in_place(a + lo, mid - lo, hi - mid, tmp + lo / 2);
        }
    }
    return a;
}

/* The key of a value, descending: sgs_order_key (kernels/order_keys.h) of it, every bit flipped.
 * Inline here, as the sort below takes it afresh on every pass instead of storing it. */
static inline uint64_t value_key_desc(double v)
{
    v += 0.0; /* -0 to +0: both zeros one key */
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    uint64_t up = u >> 63 ? ~u : u ^ ((uint64_t)1 << 63);
    return ~up;
}

/* Byte d of a's key, (priority desc, value desc): bytes 0..7 the value's, 8..11 the
 * priority's (sign flipped, then every bit: descending). */
static inline unsigned key_byte(const cand_t *a, int d)
{
    if (d < 8)
        return (unsigned)(value_key_desc(a->value) >> (8 * d)) & 0xFFu;
    uint32_t p = ~((uint32_t)a->priority ^ 0x80000000u);
    return (p >> (8 * (d - 8))) & 0xFFu;
}

enum { KEY_BYTES = 12 };

/* a[0..m), in (index, kind) order, sorted by sgs__opp_before with the tmp[0..m) as the other
 * buffer of a stable LSD radix sort by (priority desc, value desc). Returns a or tmp, whichever
 * holds the result. */
static cand_t *radix_sort(cand_t *a, cand_t *tmp, size_t m)
{
    /* every byte's counts in one pass; a byte the same for all is no pass of its own */
    size_t count[KEY_BYTES][256];
    memset(count, 0, sizeof count);
    for (size_t k = 0; k < m; k++) {
        const uint64_t v = value_key_desc(a[k].value);
        const uint32_t p = ~((uint32_t)a[k].priority ^ 0x80000000u);
        for (int d = 0; d < 8; d++)
            count[d][(v >> (8 * d)) & 0xFFu]++;
        for (int d = 0; d < 4; d++)
            count[8 + d][(p >> (8 * d)) & 0xFFu]++;
    }
    cand_t *from = a, *to = tmp;
    for (int d = 0; d < KEY_BYTES; d++) {
        size_t start[256], at = 0;
        int one = 0;
        for (int b = 0; b < 256; b++) {
            one |= count[d][b] == m;
            start[b] = at;
            at += count[d][b];
        }
        if (one)
            continue;
        for (size_t k = 0; k < m; k++) /* in order: each byte's pass keeps the ties' order */
            to[start[key_byte(&from[k], d)]++] = from[k];
        cand_t *t = from;
        from = to;
        to = t;
    }
    return from;
}

/* Four quarters radix sorted, two at a time side by side with tmp (m / 2 + 1 entries) as
 * their other buffers, then merged in place in pairs, side by side, and the halves merged: the
 * scratch of the merge sort (half the candidates), not a second copy of them all, which would
 * raise the run's peak of memory. The order is total, so the result is the same whatever the
 * thread count. */
cand_t *sgs__opportunity_sort_made(cand_t *a, cand_t *tmp, size_t m, int n_threads)
{
    const size_t h = m / 2;
    const size_t at[5] = {0, h / 2, h, h + (m - h) / 2, m}; /* quarter q: a[at[q]..at[q + 1]) */
    for (int pair = 0; pair < 2; pair++) {
        /* the pair's quarters: together m - h <= m / 2 + 1 entries of tmp */
#pragma omp parallel for num_threads(n_threads > 1 ? 2 : 1) schedule(static, 1)
        for (int q = 2 * pair; q < 2 * pair + 2; q++) {
            size_t len = at[q + 1] - at[q];
            cand_t *buf = tmp + (at[q] - at[2 * pair]);
            if (radix_sort(a + at[q], buf, len) == buf)
                memcpy(a + at[q], buf, len * sizeof *a);
        }
    }
    /* merging quarters q and q + 1 copies the shorter aside: at most at[1] and
     * (m - h) / 2 entries, which fit tmp side by side */
#pragma omp parallel for num_threads(n_threads > 1 ? 2 : 1) schedule(static, 1)
    for (int q = 0; q < 4; q += 2)
        if (at[q + 1] > at[q])
            merge_in_place(a + at[q], at[q + 1] - at[q], at[q + 2] - at[q + 1],
                           q == 0 ? tmp : tmp + at[1]);
    if (h > 0)
        merge_in_place(a, h, m - h, tmp);
    return a;
}

uint8_t sgs_opportunity_channel_of(const sgs_opportunity_input_t *in,
                                   const sgs_opportunity_config_t *cfg, size_t i)
{
    const sgs_stage_input_t *cu = in->customers;
    uint8_t pref = cu->preferred_channel ? cu->preferred_channel[i] : 0;
    if (pref > 0 && pref < SGS_CHANNEL_COUNT)
        return pref;
    uint8_t main = cu->main_channel ? cu->main_channel[i] : 0;
    if (main > 0 && main < SGS_CHANNEL_COUNT)
        return main;
    return cfg->fallback_channel;
}

/* The candidate (customer i, kind k), its route not yet packed (zero). */
static cand_t cand_of(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                      const sgs_opportunity_stats_t *st, size_t i, int k)
{
    return (cand_t){.value = sgs_opportunity_value(in, cfg, st, i, k),
                    .index = (int64_t)i,
                    .priority = cfg->priority[k],
                    .kind = (uint8_t)k};
}

/* The best kind of a mask for customer i: priority desc, value desc, code asc. */
static void best_kind(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                      const sgs_opportunity_stats_t *st, size_t i, uint16_t mask, cand_t *out)
{
    int have = 0;
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        if (!(mask & (1u << k)))
            continue;
        cand_t c = cand_of(in, cfg, st, i, k);
        if (!have || cand_before(&c, out))
            *out = c;
        have = 1;
    }
}

/* ---- Channels ------------------------------------------------------------------------- */

/* What routes a candidate (route_t): a pure function of it and its customer's columns. */
route_t sgs__opportunity_route(const sgs_opportunity_input_t *in,
                               const sgs_opportunity_config_t *cfg, const cand_t *cd)
{
    route_t r;
    r.own = sgs_opportunity_channel_of(in, cfg, (size_t)cd->index);
    const unsigned unanswered = in->blocked_channels ? in->blocked_channels[cd->index] : 0u;
    const uint8_t rfm = in->rfm_segment ? in->rfm_segment[cd->index] : 0;
    r.blocked = (uint16_t)(unanswered | cfg->avoid_channels[cd->kind] |
                           (in->rfm_segment && rfm <= SGS_RFM_SEGMENT_COUNT
                                ? cfg->avoid_channels_by_rfm[cd->kind][rfm]
                                : 0u));
    r.own_unanswered = (unanswered & 1u << r.own) != 0;
    r.control = (uint8_t)sgs_opportunity_is_control(cfg, in->customers->customer_id[cd->index],
                                                    cd->kind, in->as_of_day);
    return r;
}

void sgs__opportunity_route_pack(cand_t *cd, route_t r)
{
    cd->route_own = r.own;
    cd->route_blocked = (uint8_t)r.blocked;
    cd->route_flags = (uint8_t)((r.own_unanswered ? 1u : 0u) | (r.control ? 2u : 0u));
}

route_t sgs__opportunity_route_unpack(const cand_t *cd)
{
    route_t r;
    r.own = cd->route_own;
    r.blocked = cd->route_blocked;
    r.own_unanswered = cd->route_flags & 1u;
    r.control = (cd->route_flags >> 1) & 1u;
    return r;
}

/* The capacity walk (opportunity_rank_internal.h): each row takes what the rows before it
 * left in used[]. */
size_t sgs__opportunity_walk(const sgs_opportunity_config_t *cfg, const cand_t *sorted, size_t m,
                             int64_t used[SGS_CHANNEL_COUNT], int64_t first_rank,
                             sgs_opportunity_rows_t *rows, sgs_opportunity_list_summary_t *sum)
{
    sum->n_candidates += (int64_t)m;
    const int64_t *cap = cfg->channel_capacity;
    size_t w = 0;
    for (size_t k = 0; k < m; k++) {
        const cand_t *cd = &sorted[k];
        const route_t r = sgs__opportunity_route_unpack(cd);
        const uint8_t own = r.own;
        const unsigned blocked = r.blocked;
        uint8_t ch = 0;
        if (!(blocked & 1u << own) && cap[own] != 0 && (cap[own] < 0 || used[own] < cap[own])) {
            ch = own;
        } else {
            int s = 0;
            for (int q = 0; q < SGS_CHANNEL_COUNT && cfg->spill_order[q]; q++)
                if (cfg->spill_order[q] == own)
                    s = q + 1;
            for (; s < SGS_CHANNEL_COUNT && cfg->spill_order[s]; s++) {
                uint8_t c = cfg->spill_order[s];
                if (!(blocked & 1u << c) && cap[c] != 0 && (cap[c] < 0 || used[c] < cap[c])) {
                    ch = c;
                    break;
                }
            }
        }
        const int own_unanswered = r.own_unanswered,
                  own_avoided = !own_unanswered && (blocked & 1u << own) != 0;
        sum->n_unanswered_moved += own_unanswered && ch;
        sum->n_unanswered_left_out += own_unanswered && !ch;
        sum->n_avoided_moved += own_avoided && ch;
        sum->n_avoided_left_out += own_avoided && !ch;
        if (!ch) {
            sum->n_left_out++;
            sum->n_left_out_per_kind[cd->kind]++;
            sum->n_left_out_per_channel[own]++;
            continue;
        }
        used[ch]++;
        sum->n_spilled += ch != own;
        sum->n_listed_per_kind[cd->kind]++;
        sum->n_listed_per_channel[ch]++;
        rows->customer_index[w] = cd->index;
        rows->kind[w] = cd->kind;
        rows->priority[w] = cd->priority;
        rows->value_at_stake[w] = cd->value;
        rows->channel[w] = ch;
        rows->rank[w] = first_rank + (int64_t)w;
        rows->control[w] = r.control;
        sum->n_control += rows->control[w];
        sum->n_control_per_kind[cd->kind] += rows->control[w];
        w++;
    }
    sum->n_listed += (int64_t)w;
    return w;
}

/* The rows of the m ranked candidates sorted[] within the channel capacities (the rules in
 * opportunities.h), written to rows in rank order, each candidate's route the one packed in
 * it; *sum gets the counts. Serial: each row takes what the rows before it left. Returns the number
 * of rows written. */
static size_t assign_channels(const sgs_opportunity_config_t *cfg, const cand_t *sorted, size_t m,
                              sgs_opportunity_rows_t *rows, sgs_opportunity_list_summary_t *sum)
{
    memset(sum, 0, sizeof *sum);
    int64_t used[SGS_CHANNEL_COUNT] = {0};
    return sgs__opportunity_walk(cfg, sorted, m, used, 1, rows, sum);
}

/* The checks of ranking and its twin: the configuration, the arrays, and room for every
 * candidate detection counted. */
static int rank_check(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                      const sgs_opportunity_stats_t *st, const uint16_t *fired,
                      const sgs_opportunity_rows_t *rows, size_t capacity, const size_t *n_rows,
                      sgs_error_t *err)
{
    int rc = sgs_opportunity_config_check(cfg, err);
    if (rc)
        return rc;
    if (!in || !in->customers || !st || !n_rows || !rows || !rows->customer_index || !rows->kind ||
        !rows->priority || !rows->value_at_stake || !rows->channel || !rows->rank ||
        !rows->control || (in->customers->n > 0 && !fired))
        return sgs_error_set(err, SGS_EINVAL, "opportunities: a required array is NULL");
    if (st->n_candidates < 0 || capacity < (size_t)st->n_candidates)
        return sgs_error_set(err, SGS_EINVAL,
                             "opportunities: room for %zu rows but %lld candidates", capacity,
                             (long long)st->n_candidates);
    return SGS_OK;
}

/* The candidates, in customer order (opportunity_rank_internal.h): counted per block, then
 * each block writes its own at its place. */
int sgs__opportunity_candidates(const sgs_opportunity_input_t *in,
                                const sgs_opportunity_config_t *cfg,
                                const sgs_opportunity_stats_t *st, const uint16_t *fired,
                                const sgs_exec_t *exec, cand_t **out, size_t *n_out,
                                sgs_error_t *err)
{
    *out = NULL;
    *n_out = 0;
    int rc = SGS_OK;
    const size_t n = in->customers->n;
    const int all = st->all_opportunities;
    const int n_threads = sgs_exec_threads_for(exec, n);
    const size_t n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t *block_start = sgs_calloc_array(n_blocks + 1, sizeof *block_start);
    cand_t *cand = NULL;
    if (!block_start) {
        rc = sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory");
        goto cleanup;
    }
    /* candidates per block, then their places: the candidate array is in customer order */
    long nb = (long)n_blocks;
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (long b = 0; b < nb; b++) {
        size_t lo = (size_t)b * SGS_BLOCK_ROWS,
               hi = lo + SGS_BLOCK_ROWS < n ? lo + SGS_BLOCK_ROWS : n;
        size_t count = 0;
        for (size_t i = lo; i < hi; i++) {
            uint16_t m = (uint16_t)(fired[i] & 0x3FEu); /* kinds 1..9 */
            count += all ? (size_t)__builtin_popcount(m) : (m != 0);
        }
        block_start[b + 1] = count;
    }
    for (size_t b = 0; b < n_blocks; b++)
        block_start[b + 1] += block_start[b];
    const size_t m = block_start[n_blocks];
    if (m != (size_t)st->n_candidates) {
        rc = sgs_error_set(err, SGS_EINVAL,
                           "opportunities: the masks give %zu candidates, detection counted "
                           "%lld (masks and stats from different calls?)",
                           m, (long long)st->n_candidates);
        goto cleanup;
    }
    cand = sgs_alloc_array(m, sizeof *cand);
    if (!cand) {
        rc = sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for %zu candidates", m);
        goto cleanup;
    }
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (long b = 0; b < nb; b++) {
        size_t lo = (size_t)b * SGS_BLOCK_ROWS,
               hi = lo + SGS_BLOCK_ROWS < n ? lo + SGS_BLOCK_ROWS : n;
        size_t w = block_start[b], w0 = w;
        for (size_t i = lo; i < hi; i++) {
            uint16_t mask = (uint16_t)(fired[i] & 0x3FEu);
            if (!mask)
                continue;
            if (!all) {
                best_kind(in, cfg, st, i, mask, &cand[w++]);
                continue;
            }
            for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
                if (mask & (1u << k))
                    cand[w++] = cand_of(in, cfg, st, i, k);
        }
        /* the routes, while the block's customers are at hand in order */
        for (size_t k = w0; k < w; k++)
            sgs__opportunity_route_pack(&cand[k], sgs__opportunity_route(in, cfg, &cand[k]));
    }
    *out = cand;
    *n_out = m;
    cand = NULL;

cleanup:
    sgs_free(block_start);
    sgs_free(cand);
    return rc;
}

int sgs_opportunities_rank(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                           const sgs_opportunity_stats_t *st, const uint16_t *fired,
                           const sgs_exec_t *exec, sgs_opportunity_rows_t *rows, size_t capacity,
                           size_t *n_rows, sgs_opportunity_list_summary_t *summary,
                           sgs_error_t *err)
{
    int rc = rank_check(in, cfg, st, fired, rows, capacity, n_rows, err);
    if (rc)
        return rc;
    cand_t *cand = NULL, *tmp = NULL;
    size_t m = 0;
    rc = sgs__opportunity_candidates(in, cfg, st, fired, exec, &cand, &m, err);
    if (rc)
        goto cleanup;
    tmp = sgs_alloc_array(m / 2 + 1, sizeof *tmp);
    if (!tmp) {
        rc = sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for %zu candidates", m);
        goto cleanup;
    }
    /* the candidates are made in (customer, kind) order: a stable radix sort by priority and
     * value ranks them, in a fraction of the comparisons' time */
    const cand_t *sorted = sgs__opportunity_sort_made(cand, tmp, m, sgs_exec_threads_for(exec, m));

    /* channels within capacity, in rank order, each candidate's route packed in it */
    sgs_opportunity_list_summary_t sum;
    size_t w = assign_channels(cfg, sorted, m, rows, &sum);
    *n_rows = w;
    if (summary)
        *summary = sum;

cleanup:
    sgs_free(cand);
    sgs_free(tmp);
    return rc;
}

/* ---- Serial reference twin ------------------------------------------------------------- */

static int cand_compare(const void *pa, const void *pb)
{
    const cand_t *a = pa, *b = pb;
    return cand_before(a, b) ? -1 : cand_before(b, a) ? 1 : 0;
}

int sgs_opportunities_rank_ref(const sgs_opportunity_input_t *in,
                               const sgs_opportunity_config_t *cfg,
                               const sgs_opportunity_stats_t *st, const uint16_t *fired,
                               sgs_opportunity_rows_t *rows, size_t capacity, size_t *n_rows,
                               sgs_opportunity_list_summary_t *summary, sgs_error_t *err)
{
    int rc = rank_check(in, cfg, st, fired, rows, capacity, n_rows, err);
    if (rc)
        return rc;
    const size_t n = in->customers->n;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
            m += (fired[i] & 1u << k) != 0;
    cand_t *cand = sgs_alloc_array(m, sizeof *cand);
    if (!cand)
        return sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for %zu candidates", m);
    /* every fired (customer, kind); without all_opportunities only each customer's best, the
     * first of its candidates in the ranking order */
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        size_t first = w;
        for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
            if (!(fired[i] & 1u << k))
                continue;
            cand_t c = cand_of(in, cfg, st, i, k);
            sgs__opportunity_route_pack(&c, sgs__opportunity_route(in, cfg, &c));
            if (st->all_opportunities || w == first)
                cand[w++] = c;
            else if (cand_before(&c, &cand[first]))
                cand[first] = c;
        }
    }
    if (w != (size_t)st->n_candidates) {
        rc = sgs_error_set(err, SGS_EINVAL,
                           "opportunities: the masks give %zu candidates, detection counted "
                           "%lld (masks and stats from different calls?)",
                           w, (long long)st->n_candidates);
        goto cleanup;
    }
    qsort(cand, w, sizeof *cand, cand_compare);
    sgs_opportunity_list_summary_t sum;
    *n_rows = assign_channels(cfg, cand, w, rows, &sum);
    if (summary)
        *summary = sum;

cleanup:
    sgs_free(cand);
    return rc;
}
