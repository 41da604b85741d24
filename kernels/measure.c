/*
 * kernels/measure.c — outcomes per listed customer, per-arm sums and the intervals of
 * `segscore measure` (contracts and formulas in kernels/measure.h).
 */
#include "kernels/measure.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_SLOT UINT32_MAX

/* ---- the id hash ------------------------------------------------------------------------ */

/* SplitMix64's finalizer: a bijection of the id whose bits are all mixed, so that the low
 * bits pick a slot and the high bits a thread. */
static inline uint64_t mix_id(int64_t id)
{
    uint64_t z = (uint64_t)id + UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

size_t sgs_measure_index_slots(size_t n_customers)
{
    size_t slots = 16;
    while (slots < 2 * n_customers && slots < ((size_t)1 << 62))
        slots <<= 1;
    return slots;
}

/* Linear probing: the index of `id` in ids, or EMPTY_SLOT when it is not listed. */
static inline uint32_t index_find(const uint32_t *index, size_t mask, const int64_t *ids,
                                  int64_t id, uint64_t h)
{
    for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
        uint32_t v = index[s];
        if (v == EMPTY_SLOT || ids[v] == id)
            return v;
    }
}

/* ---- batched look-ups ------------------------------------------------------------------------
 * A look-up is two dependent random reads (the slot, then the id it points to) and the update a
 * third: on 10M customers each misses the caches and the TLB. Rows are therefore taken in
 * batches: every slot of the batch is prefetched, then every id, then every outcome, so that the
 * misses of a batch overlap instead of following each other. Rows are still applied in file
 * order. */

#define BATCH 32

typedef struct lookup {
    const uint32_t *index;
    size_t mask;
    const int64_t *ids;
} lookup_t;

typedef struct batch {
    size_t n;
    size_t row[BATCH];
    uint64_t h[BATCH];
    uint8_t in_window[BATCH]; /* events */
    uint32_t c[BATCH];
} batch_t;

static inline void batch_push(batch_t *b, const lookup_t *lk, size_t r, uint64_t h)
{
    b->row[b->n] = r;
    b->h[b->n++] = h;
    __builtin_prefetch(&lk->index[h & lk->mask]);
}

/* Resolve the customers of the batch (EMPTY_SLOT: not listed), prefetching as above. */
static void batch_resolve(batch_t *b, const lookup_t *lk, const int64_t *key)
{
    for (size_t i = 0; i < b->n; i++) {
        uint32_t v = lk->index[b->h[i] & lk->mask];
        if (v != EMPTY_SLOT)
            __builtin_prefetch(&lk->ids[v]);
    }
    for (size_t i = 0; i < b->n; i++)
        b->c[i] = index_find(lk->index, lk->mask, lk->ids, key[b->row[i]], b->h[i]);
}

static void apply_tx(batch_t *b, const lookup_t *lk, const int64_t *customer, const double *amount,
                     sgs_measure_outcomes_t *o, sgs_measure_counts_t *k)
{
    batch_resolve(b, lk, customer);
    for (size_t i = 0; i < b->n; i++)
        if (b->c[i] != EMPTY_SLOT)
            __builtin_prefetch(&o->revenue[b->c[i]], 1);
    for (size_t i = 0; i < b->n; i++) {
        uint32_t c = b->c[i];
        if (c == EMPTY_SLOT)
            continue;
        double a = amount[b->row[i]];
        k->tx_listed++;
        o->revenue[c] += a;
        if (a > 0)
            o->bought[c] = 1;
    }
    b->n = 0;
}

static void apply_ev(batch_t *b, const lookup_t *lk, const int64_t *customer, const int64_t *time_s,
                     const uint8_t *kind_col, const double *value, sgs_measure_outcomes_t *o,
                     sgs_measure_counts_t *k)
{
    batch_resolve(b, lk, customer);
    for (size_t i = 0; i < b->n; i++) {
        uint32_t c = b->c[i];
        if (c == EMPTY_SLOT)
            continue;
        size_t r = b->row[i];
        int in_window = b->in_window[i];
        uint8_t kind = kind_col[r];
        k->ev_listed += in_window;
        if (kind == SGS_EVENT_SURVEY && value && !isnan(value[r])) {
            int64_t *t = in_window ? &o->survey_after_time[c] : &o->survey_before_time[c];
            double *v = in_window ? &o->survey_after[c] : &o->survey_before[c];
            if (time_s[r] >= *t) { /* equal times: the later file row */
                *t = time_s[r];
                *v = value[r];
            }
        } else if (in_window && kind == SGS_EVENT_CAMPAIGN_RESPONSE) {
            o->responded[c] = 1;
        } else if (in_window && kind == SGS_EVENT_RENEWED) {
            o->renewed[c] = 1;
        }
    }
    b->n = 0;
}

/* ---- 1. outcomes ------------------------------------------------------------------------ */

/* Where a row's time falls: in the window (as_of_day + 1 .. end_day), in the history (on or
 * before the as-of day) or after the end; counted in the matching counter. */
enum { IN_HISTORY, IN_WINDOW, AFTER_END };

static int day_place(int64_t time_s, int32_t as_of_day, int32_t end_day, int64_t *in_window,
                     int64_t *history, int64_t *after)
{
    int64_t day = sgs_day_of(time_s);
    if (day > end_day) {
        ++*after;
        return AFTER_END;
    }
    if (day <= as_of_day) {
        ++*history;
        return IN_HISTORY;
    }
    ++*in_window;
    return IN_WINDOW;
}

int sgs_measure_outcomes(const int64_t *ids, size_t n_customers, const int64_t *tx_customer,
                         const int64_t *tx_time_s, const double *tx_amount, size_t n_tx,
                         const int64_t *ev_customer, const int64_t *ev_time_s,
                         const uint8_t *ev_kind, const double *ev_value, size_t n_ev,
                         int32_t as_of_day, int32_t end_day, uint32_t *index,
                         const sgs_exec_t *exec, sgs_measure_outcomes_t *o,
                         sgs_measure_counts_t *counts, sgs_error_t *err)
{
    if ((n_customers && !ids) || !index || !o || !o->responded || !o->bought || !o->renewed ||
        !o->revenue || !o->survey_before || !o->survey_after || !o->survey_before_time ||
        !o->survey_after_time || (n_tx && (!tx_customer || !tx_time_s || !tx_amount)) ||
        (n_ev && (!ev_customer || !ev_time_s || !ev_kind)))
        return sgs_error_set(err, SGS_EINVAL, "sgs_measure_outcomes: a NULL array");
    if (n_customers >= EMPTY_SLOT || end_day <= as_of_day)
        return sgs_error_set(err, SGS_EINVAL, "sgs_measure_outcomes: %zu customers, window %d..%d",
                             n_customers, (int)as_of_day + 1, (int)end_day);
    size_t n_slots = sgs_measure_index_slots(n_customers), mask = n_slots - 1;
    int nt = sgs_exec_threads_for(exec, n_tx + n_ev + n_customers);
    nt = nt > 256 ? 256 : nt; /* the partial counts below */
    /* the index (serial: one insert per customer) and the outcome columns (touched in
     * parallel: first touch of fresh pages is the slow part, DESIGN.md "Scale") */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t s = 0; s < n_slots; s++)
        index[s] = EMPTY_SLOT;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t c = 0; c < n_customers; c++) {
        o->responded[c] = o->bought[c] = o->renewed[c] = 0;
        o->revenue[c] = 0.0;
        o->survey_before[c] = o->survey_after[c] = NAN;
        o->survey_before_time[c] = o->survey_after_time[c] = INT64_MIN;
    }
    for (size_t c = 0; c < n_customers; c++) {
        size_t s = (size_t)mix_id(ids[c]) & mask;
        while (index[s] != EMPTY_SLOT)
            s = (s + 1) & mask;
        index[s] = (uint32_t)c;
    }

    /* Every thread scans every row and takes the rows of the customers it owns, in file
     * order: a customer's sums are the same sequence of additions for any thread count. */
    sgs_measure_counts_t part[256];
    memset(part, 0, sizeof part);
    const lookup_t lk = {index, mask, ids};
#pragma omp parallel num_threads(nt)
    {
        int tid = omp_get_thread_num(), nthr = omp_get_num_threads();
        sgs_measure_counts_t k = {0};
        batch_t b = {0};
        for (size_t r = 0; r < n_tx; r++) {
            uint64_t h = mix_id(tx_customer[r]);
            if ((int)((h >> 32) % (uint64_t)nthr) != tid)
                continue;
            if (day_place(tx_time_s[r], as_of_day, end_day, &k.tx_in_window, &k.tx_history,
                          &k.tx_after) != IN_WINDOW)
                continue;
            batch_push(&b, &lk, r, h);
            if (b.n == BATCH)
                apply_tx(&b, &lk, tx_customer, tx_amount, o, &k);
        }
        apply_tx(&b, &lk, tx_customer, tx_amount, o, &k);
        for (size_t r = 0; r < n_ev; r++) {
            uint64_t h = mix_id(ev_customer[r]);
            if ((int)((h >> 32) % (uint64_t)nthr) != tid)
                continue;
            int place = day_place(ev_time_s[r], as_of_day, end_day, &k.ev_in_window, &k.ev_history,
                                  &k.ev_after);
            if (place == AFTER_END)
                continue;
            int in_window = place == IN_WINDOW;
            /* only kinds 4, 6 and 8 matter, and before the window only a survey score: most
             * rows need no look-up, the memory-latency-bound part */
            uint8_t kind = ev_kind[r];
            int survey = kind == SGS_EVENT_SURVEY && ev_value && !isnan(ev_value[r]);
            if (!survey &&
                (!in_window || (kind != SGS_EVENT_CAMPAIGN_RESPONSE && kind != SGS_EVENT_RENEWED)))
                continue;
            b.in_window[b.n] = (uint8_t)in_window;
            batch_push(&b, &lk, r, h);
            if (b.n == BATCH)
                apply_ev(&b, &lk, ev_customer, ev_time_s, ev_kind, ev_value, o, &k);
        }
        apply_ev(&b, &lk, ev_customer, ev_time_s, ev_kind, ev_value, o, &k);
        part[tid] = k;
    }
    if (counts) {
        memset(counts, 0, sizeof *counts);
        for (int t = 0; t < nt; t++) { /* integers: exact in any order */
            counts->tx_in_window += part[t].tx_in_window;
            counts->tx_history += part[t].tx_history;
            counts->tx_after += part[t].tx_after;
            counts->tx_listed += part[t].tx_listed;
            counts->ev_in_window += part[t].ev_in_window;
            counts->ev_history += part[t].ev_history;
            counts->ev_after += part[t].ev_after;
            counts->ev_listed += part[t].ev_listed;
        }
    }
    return SGS_OK;
}

/* Serial reference twin: each row in file order, its customer found by binary search. */
static int compare_ids(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

int sgs_measure_outcomes_ref(const int64_t *ids, size_t n_customers, const int64_t *tx_customer,
                             const int64_t *tx_time_s, const double *tx_amount, size_t n_tx,
                             const int64_t *ev_customer, const int64_t *ev_time_s,
                             const uint8_t *ev_kind, const double *ev_value, size_t n_ev,
                             int32_t as_of_day, int32_t end_day, sgs_measure_outcomes_t *o,
                             sgs_measure_counts_t *counts, sgs_error_t *err)
{
    if ((n_customers && !ids) || !o || !o->responded || !o->bought || !o->renewed || !o->revenue ||
        !o->survey_before || !o->survey_after || !o->survey_before_time || !o->survey_after_time ||
        (n_tx && (!tx_customer || !tx_time_s || !tx_amount)) ||
        (n_ev && (!ev_customer || !ev_time_s || !ev_kind)))
        return sgs_error_set(err, SGS_EINVAL, "sgs_measure_outcomes: a NULL array");
    if (n_customers >= EMPTY_SLOT || end_day <= as_of_day)
        return sgs_error_set(err, SGS_EINVAL, "sgs_measure_outcomes: %zu customers, window %d..%d",
                             n_customers, (int)as_of_day + 1, (int)end_day);
    sgs_measure_counts_t k = {0};
    for (size_t c = 0; c < n_customers; c++) {
        o->responded[c] = o->bought[c] = o->renewed[c] = 0;
        o->revenue[c] = 0.0;
        o->survey_before[c] = o->survey_after[c] = NAN;
        o->survey_before_time[c] = o->survey_after_time[c] = INT64_MIN;
    }
    for (size_t r = 0; r < n_tx; r++) {
        if (day_place(tx_time_s[r], as_of_day, end_day, &k.tx_in_window, &k.tx_history,
                      &k.tx_after) != IN_WINDOW)
            continue;
        const int64_t *at =
            n_customers ? bsearch(&tx_customer[r], ids, n_customers, sizeof *ids, compare_ids)
                        : NULL;
        if (!at)
            continue;
        size_t c = (size_t)(at - ids);
        k.tx_listed++;
        o->revenue[c] += tx_amount[r];
        if (tx_amount[r] > 0)
            o->bought[c] = 1;
    }
    for (size_t r = 0; r < n_ev; r++) {
        int place = day_place(ev_time_s[r], as_of_day, end_day, &k.ev_in_window, &k.ev_history,
                              &k.ev_after);
        if (place == AFTER_END)
            continue;
        int in_window = place == IN_WINDOW;
        const int64_t *at =
            n_customers ? bsearch(&ev_customer[r], ids, n_customers, sizeof *ids, compare_ids)
                        : NULL;
        if (!at)
            continue;
        size_t c = (size_t)(at - ids);
        uint8_t kind = ev_kind[r];
        if (kind == SGS_EVENT_SURVEY && ev_value && !isnan(ev_value[r])) {
            k.ev_listed += in_window;
            int64_t *t = in_window ? &o->survey_after_time[c] : &o->survey_before_time[c];
            double *v = in_window ? &o->survey_after[c] : &o->survey_before[c];
            if (ev_time_s[r] >= *t) { /* equal times: the later file row */
                *t = ev_time_s[r];
                *v = ev_value[r];
            }
        } else if (in_window && kind == SGS_EVENT_CAMPAIGN_RESPONSE) {
            k.ev_listed++;
            o->responded[c] = 1;
        } else if (in_window && kind == SGS_EVENT_RENEWED) {
            k.ev_listed++;
            o->renewed[c] = 1;
        }
    }
    if (counts)
        *counts = k;
    return SGS_OK;
}

/* ---- 2. per-arm sums -------------------------------------------------------------------- */

size_t sgs_measure_arms_workspace(size_t n_rows)
{
    size_t n = sgs_block_count(n_rows, SGS_BLOCK_ROWS);
    return n ? n : 1;
}

static double survey_change(const sgs_measure_outcomes_t *o, uint32_t c)
{
    return o->survey_after[c] - o->survey_before[c]; /* NaN unless both */
}

/* Pass 1 (counts and sums) or pass 2 (sums of squares about the means in *means) of one
 * block of rows into *t (zeroed first). */
static void block_pass(int pass, size_t r0, size_t r1, const uint32_t *row_customer,
                       const uint8_t *kind, const uint8_t *channel, const uint8_t *group,
                       const sgs_measure_outcomes_t *o, const sgs_measure_table_t *means,
                       sgs_measure_table_t *t)
{
    memset(t, 0, sizeof *t);
    for (size_t r = r0; r < r1; r++) {
        uint32_t c = row_customer[r];
        sgs_measure_arm_t *cells[2] = {&t->arm[kind[r]][channel[r]][group[r]],
                                       &t->arm[kind[r]][SGS_MEASURE_ALL_CHANNELS][group[r]]};
        double change = survey_change(o, c);
        for (int j = 0; j < 2; j++) {
            sgs_measure_arm_t *a = cells[j];
            if (pass == 1) {
                a->n++;
                a->n_responded += o->responded[c];
                a->n_bought += o->bought[c];
                a->n_renewed += o->renewed[c];
                a->revenue_sum += o->revenue[c];
                if (!isnan(change)) {
                    a->n_survey++;
                    a->survey_sum += change;
                }
            } else {
                const sgs_measure_arm_t *m =
                    j == 0 ? &means->arm[kind[r]][channel[r]][group[r]]
                           : &means->arm[kind[r]][SGS_MEASURE_ALL_CHANNELS][group[r]];
                double dr = o->revenue[c] - m->revenue_sum; /* revenue_sum holds the mean */
                a->revenue_ss += dr * dr;
                if (!isnan(change)) {
                    double ds = change - m->survey_sum; /* survey_sum holds the mean */
                    a->survey_ss += ds * ds;
                }
            }
        }
    }
}

/* Both passes over the blocks, partials combined in block order. */
static void arms_passes(int nt, size_t n_blocks, size_t n_rows, const uint32_t *row_customer,
                        const uint8_t *kind, const uint8_t *channel, const uint8_t *group,
                        const sgs_measure_outcomes_t *o, sgs_measure_table_t *ws,
                        sgs_measure_table_t *out)
{
    sgs_measure_table_t means;
    memset(out, 0, sizeof *out);
    for (int pass = 1; pass <= 2; pass++) {
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (size_t b = 0; b < n_blocks; b++) {
            size_t r0 = b * SGS_BLOCK_ROWS;
            size_t r1 = r0 + SGS_BLOCK_ROWS < n_rows ? r0 + SGS_BLOCK_ROWS : n_rows;
            block_pass(pass, r0, r1, row_customer, kind, channel, group, o, &means, &ws[b]);
        }
        for (size_t b = 0; b < n_blocks; b++)
            for (int k = 0; k < SGS_OPP_KIND_COUNT; k++)
                for (int ch = 0; ch <= SGS_CHANNEL_COUNT; ch++)
                    for (int g = 0; g < 2; g++) {
                        const sgs_measure_arm_t *p = &ws[b].arm[k][ch][g];
                        sgs_measure_arm_t *a = &out->arm[k][ch][g];
                        if (pass == 1) {
                            a->n += p->n;
                            a->n_responded += p->n_responded;
                            a->n_bought += p->n_bought;
                            a->n_renewed += p->n_renewed;
                            a->revenue_sum += p->revenue_sum;
                            a->n_survey += p->n_survey;
                            a->survey_sum += p->survey_sum;
                        } else {
                            a->revenue_ss += p->revenue_ss;
                            a->survey_ss += p->survey_ss;
                        }
                    }
        if (pass == 1) { /* the means, for the centred second pass */
            memset(&means, 0, sizeof means);
            for (int k = 0; k < SGS_OPP_KIND_COUNT; k++)
                for (int ch = 0; ch <= SGS_CHANNEL_COUNT; ch++)
                    for (int g = 0; g < 2; g++) {
                        const sgs_measure_arm_t *a = &out->arm[k][ch][g];
                        sgs_measure_arm_t *m = &means.arm[k][ch][g];
                        m->revenue_sum = a->n ? a->revenue_sum / (double)a->n : 0.0;
                        m->survey_sum = a->n_survey ? a->survey_sum / (double)a->n_survey : 0.0;
                    }
        }
    }
}

int sgs_measure_arms(const uint32_t *row_customer, const uint8_t *kind, const uint8_t *channel,
                     const uint8_t *group, size_t n_rows, const sgs_measure_outcomes_t *o,
                     const sgs_exec_t *exec, sgs_measure_table_t *workspace,
                     sgs_measure_table_t *out, sgs_error_t *err)
{
    if (!out || !workspace || !o || (n_rows && (!row_customer || !kind || !channel || !group)))
        return sgs_error_set(err, SGS_EINVAL, "sgs_measure_arms: a NULL array");
    for (size_t r = 0; r < n_rows; r++) {
        if (kind[r] < 1 || kind[r] >= SGS_OPP_KIND_COUNT)
            return sgs_error_set(err, SGS_EDATA, "row %zu: opportunity kind %u is not 1..%d", r,
                                 (unsigned)kind[r], SGS_OPP_KIND_COUNT - 1);
        if (channel[r] >= SGS_CHANNEL_COUNT)
            return sgs_error_set(err, SGS_EDATA, "row %zu: channel %u is not 0..%d", r,
                                 (unsigned)channel[r], SGS_CHANNEL_COUNT - 1);
        if (group[r] > 1)
            return sgs_error_set(err, SGS_EDATA,
                                 "row %zu: group %u is not 0 (treated) or 1 (control)", r,
                                 (unsigned)group[r]);
    }
    size_t n_blocks = sgs_block_count(n_rows, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads_for(exec, n_rows);
    arms_passes(nt, n_blocks, n_rows, row_customer, kind, channel, group, o, workspace, out);
    return SGS_OK;
}

/* ---- 3. differences and intervals --------------------------------------------------------- */

const char *sgs_measure_metric_name(sgs_measure_metric_t m)
{
    static const char *const names[SGS_MEASURE_METRIC_COUNT] = {
        "response_rate", "bought_share", "revenue_per_customer", "renewal_kept", "survey_change"};
    return (unsigned)m < SGS_MEASURE_METRIC_COUNT ? names[m] : "?";
}

const char *sgs_measure_reason_name(sgs_measure_reason_t r)
{
    static const char *const names[SGS_MEASURE_REASON_COUNT] = {
        "conclusive", "no_control", "no_treated", "small_treated", "small_control", "no_variance"};
    return (unsigned)r < SGS_MEASURE_REASON_COUNT ? names[r] : "?";
}

void sgs_measure_wilson(int64_t x, int64_t n, double z, double *lo, double *hi)
{
    double nn = (double)n, p = (double)x / nn, z2 = z * z;
    double centre = p + z2 / (2 * nn), denom = 1 + z2 / nn;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    *lo = (centre - half) / denom;
    *hi = (centre + half) / denom;
    /* exactly 0 and 1 at the ends: rounding may leave a tiny residue */
    if (x == 0)
        *lo = 0.0;
    if (x == n)
        *hi = 1.0;
}

void sgs_measure_newcombe(int64_t x_t, int64_t n_t, int64_t x_c, int64_t n_c, double z,
                          double *diff, double *lo, double *hi)
{
    double p_t = (double)x_t / (double)n_t, p_c = (double)x_c / (double)n_c;
    double l_t, u_t, l_c, u_c;
    sgs_measure_wilson(x_t, n_t, z, &l_t, &u_t);
    sgs_measure_wilson(x_c, n_c, z, &l_c, &u_c);
    double d = p_t - p_c;
    *diff = d;
    *lo = d - sqrt((p_t - l_t) * (p_t - l_t) + (u_c - p_c) * (u_c - p_c));
    *hi = d + sqrt((u_t - p_t) * (u_t - p_t) + (p_c - l_c) * (p_c - l_c));
}

/* The reason from the arm sizes alone (the first that applies, in the enum's order). */
static sgs_measure_reason_t size_reason(int64_t n_t, int64_t n_c, int64_t min_arm)
{
    if (n_c == 0)
        return SGS_MEASURE_NO_CONTROL;
    if (n_t == 0)
        return SGS_MEASURE_NO_TREATED;
    if (n_t < min_arm)
        return SGS_MEASURE_SMALL_TREATED;
    if (n_c < min_arm)
        return SGS_MEASURE_SMALL_CONTROL;
    return SGS_MEASURE_CONCLUSIVE;
}

void sgs_measure_compare(const sgs_measure_arm_t *t, const sgs_measure_arm_t *c,
                         sgs_measure_metric_t m, int64_t min_arm, sgs_measure_diff_t *out)
{
    out->treated = out->control = out->diff = out->lo = out->hi = out->variance = NAN;
    if (m == SGS_MEASURE_REVENUE || m == SGS_MEASURE_SURVEY) {
        int revenue = m == SGS_MEASURE_REVENUE;
        int64_t n_t = revenue ? t->n : t->n_survey, n_c = revenue ? c->n : c->n_survey;
        double sum_t = revenue ? t->revenue_sum : t->survey_sum;
        double sum_c = revenue ? c->revenue_sum : c->survey_sum;
        double ss_t = revenue ? t->revenue_ss : t->survey_ss;
        double ss_c = revenue ? c->revenue_ss : c->survey_ss;
        out->n_treated = n_t;
        out->n_control = n_c;
        out->reason = size_reason(n_t, n_c, min_arm < 2 ? 2 : min_arm);
        if (n_t > 0)
            out->treated = sum_t / (double)n_t;
        if (n_c > 0)
            out->control = sum_c / (double)n_c;
        if (n_t > 0 && n_c > 0)
            out->diff = out->treated - out->control;
        if (n_t >= 2 && n_c >= 2) {
            double v_t = ss_t / (double)(n_t - 1), v_c = ss_c / (double)(n_c - 1);
            out->variance = v_t / (double)n_t + v_c / (double)n_c;
            double half = SGS_MEASURE_Z95 * sqrt(out->variance);
            out->lo = out->diff - half;
            out->hi = out->diff + half;
            if (out->reason == SGS_MEASURE_CONCLUSIVE && v_t == 0 && v_c == 0)
                out->reason = SGS_MEASURE_NO_VARIANCE;
        }
        return;
    }
    int64_t x_t = m == SGS_MEASURE_RESPONSE ? t->n_responded
                  : m == SGS_MEASURE_BOUGHT ? t->n_bought
                                            : t->n_renewed;
    int64_t x_c = m == SGS_MEASURE_RESPONSE ? c->n_responded
                  : m == SGS_MEASURE_BOUGHT ? c->n_bought
                                            : c->n_renewed;
    out->n_treated = t->n;
    out->n_control = c->n;
    out->reason = size_reason(t->n, c->n, min_arm);
    if (t->n > 0)
        out->treated = (double)x_t / (double)t->n;
    if (c->n > 0)
        out->control = (double)x_c / (double)c->n;
    if (t->n > 0 && c->n > 0) {
        sgs_measure_newcombe(x_t, t->n, x_c, c->n, SGS_MEASURE_Z95, &out->diff, &out->lo, &out->hi);
        out->variance = out->treated * (1 - out->treated) / (double)t->n +
                        out->control * (1 - out->control) / (double)c->n;
    }
}

void sgs_measure_incremental(const sgs_measure_diff_t *revenue, sgs_measure_diff_t *out)
{
    double n_t = (double)revenue->n_treated;
    *out = *revenue;
    out->diff = revenue->diff * n_t;
    out->lo = revenue->lo * n_t;
    out->hi = revenue->hi * n_t;
    out->variance = revenue->variance * n_t * n_t;
}

void sgs_measure_cumulative(const sgs_measure_diff_t *kinds, size_t n, sgs_measure_diff_t *out,
                            size_t *n_included, size_t *n_left_out)
{
    double sum = 0, var = 0;
    int64_t n_t = 0, n_c = 0;
    size_t in = 0, left = 0;
    sgs_measure_reason_t reason = SGS_MEASURE_CONCLUSIVE;
    for (size_t k = 0; k < n; k++) {
        const sgs_measure_diff_t *d = &kinds[k];
        if (isnan(d->diff) || isnan(d->variance)) {
            left += d->n_treated + d->n_control > 0;
            continue;
        }
        in++;
        sum += d->diff;
        var += d->variance;
        n_t += d->n_treated;
        n_c += d->n_control;
        if (reason == SGS_MEASURE_CONCLUSIVE && d->reason != SGS_MEASURE_CONCLUSIVE)
            reason = d->reason;
    }
    out->n_treated = n_t;
    out->n_control = n_c;
    out->treated = out->control = NAN;
    out->reason = in == 0 ? SGS_MEASURE_NO_CONTROL : reason;
    out->diff = in ? sum : (double)NAN;
    out->variance = in ? var : (double)NAN;
    double half = SGS_MEASURE_Z95 * sqrt(var);
    out->lo = in ? sum - half : (double)NAN;
    out->hi = in ? sum + half : (double)NAN;
    *n_included = in;
    *n_left_out = left;
}
