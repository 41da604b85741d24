/*
 * tests/mpi/test_dist_opportunities.c — the opportunity list over customers spread over
 * processes (engine/dist_opportunities.h), under mpirun with 1 to 4 processes: every process
 * builds the same base, ranks its own slice of it over the processes, and its stretch of the
 * list must be, byte for byte, the rows of sgs_opportunities_rank over the whole base at its
 * ranks, with the same summary; random and crafted bases, capacities tight enough that rows
 * spill and are left out with the channel counts crossing processes, blocked and avoided
 * channels, all_opportunities on and off, ties on priority and value across processes,
 * processes without candidates or customers; a failure on one process (bad counts, each
 * allocation in turn) is every process's.
 */
#include "engine/dist_opportunities.h"
#include "kernels/opportunities.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- A base of customers, the same on every process ------------------------------------- */

typedef struct base {
    size_t n;
    int64_t *id;
    double *clv, *p_buy, *p_model, *network;
    int32_t *segment;
    uint8_t *pref, *main_ch, *blocked, *rfm;
    uint16_t *fired;
} base_t;

enum { TIES_NONE, TIES_SOME, TIES_ALL };

/* n customers (ids 3 i + 7) with what ranking reads: CLV, P(buy), the model's P(buy), network
 * value, segment, channels, blocked channels, RFM segment, and the masks of fired kinds (about
 * 40% none). ties: TIES_SOME draws values from a handful (many equal values at equal
 * priority), TIES_ALL gives every customer only onboarding at CLV 10 (one value: the order is
 * the customers' alone). */
static void base_make(base_t *b, size_t n, uint64_t seed, int ties)
{
    uint64_t s = seed;
    b->n = n;
    b->id = calloc(n + 1, sizeof *b->id);
    b->clv = calloc(n + 1, sizeof *b->clv);
    b->p_buy = calloc(n + 1, sizeof *b->p_buy);
    b->p_model = calloc(n + 1, sizeof *b->p_model);
    b->network = calloc(n + 1, sizeof *b->network);
    b->segment = calloc(n + 1, sizeof *b->segment);
    b->pref = calloc(n + 1, 1);
    b->main_ch = calloc(n + 1, 1);
    b->blocked = calloc(n + 1, 1);
    b->rfm = calloc(n + 1, 1);
    b->fired = calloc(n + 1, sizeof *b->fired);
    assert_non_null(b->fired);
    static const double clvs[] = {(double)NAN, 0.0, 10.0, 20.0, 40.0, 100.0};
    static const double probs[] = {(double)NAN, 0.25, 0.5, 1.0};
    for (size_t i = 0; i < n; i++) {
        b->id[i] = 3 * (int64_t)i + 7;
        if (ties == TIES_NONE) {
            double u = sgs_test_uniform(&s);
            b->clv[i] = u < 0.05 ? (double)NAN : 500.0 * sgs_test_uniform(&s);
            b->p_buy[i] = u < 0.2 ? (double)NAN : sgs_test_uniform(&s);
            b->p_model[i] = u < 0.1 ? (double)NAN : sgs_test_uniform(&s);
            b->network[i] = b->clv[i] + 50.0 * sgs_test_uniform(&s);
        } else {
            b->clv[i] = ties == TIES_ALL ? 10.0 : clvs[sgs_test_next(&s) % 6];
            b->p_buy[i] = probs[sgs_test_next(&s) % 3];
            b->p_model[i] = probs[sgs_test_next(&s) % 4];
            b->network[i] = b->clv[i] + 10.0 * (double)(sgs_test_next(&s) % 3);
        }
        b->segment[i] = (int32_t)(sgs_test_next(&s) % 4) - 1;
        b->pref[i] = sgs_test_next(&s) % 3 ? 0 : (uint8_t)(sgs_test_next(&s) % SGS_CHANNEL_COUNT);
        b->main_ch[i] = (uint8_t)(sgs_test_next(&s) % SGS_CHANNEL_COUNT);
        b->blocked[i] = sgs_test_next(&s) % 5 ? 0 : (uint8_t)(sgs_test_next(&s) & 0xFE);
        b->rfm[i] = (uint8_t)(sgs_test_next(&s) % (SGS_RFM_SEGMENT_COUNT + 1));
        if (ties == TIES_ALL)
            b->fired[i] = sgs_test_next(&s) % 4 ? 1u << SGS_OPP_ONBOARDING : 0;
        else
            b->fired[i] = sgs_test_next(&s) % 5 < 2 ? 0 : (uint16_t)(sgs_test_next(&s) & 0x3FE);
    }
}

static void base_free(base_t *b)
{
    free(b->id);
    free(b->clv);
    free(b->p_buy);
    free(b->p_model);
    free(b->network);
    free(b->segment);
    free(b->pref);
    free(b->main_ch);
    free(b->blocked);
    free(b->rfm);
    free(b->fired);
}

/* The view of customers [lo, hi) of b: in and its customers (the caller's). */
static void base_view(const base_t *b, size_t lo, size_t hi, sgs_stage_input_t *cu,
                      sgs_opportunity_input_t *in)
{
    *cu = (sgs_stage_input_t){.n = hi - lo,
                              .customer_id = b->id + lo,
                              .p_buy = b->p_buy + lo,
                              .p_buy_model = b->p_model + lo,
                              .clv = b->clv + lo,
                              .segment = b->segment + lo,
                              .preferred_channel = b->pref + lo,
                              .main_channel = b->main_ch + lo};
    *in = (sgs_opportunity_input_t){.customers = cu,
                                    .as_of_day = 19000,
                                    .network_value = b->network + lo,
                                    .blocked_channels = b->blocked + lo,
                                    .rfm_segment = b->rfm + lo};
}

static double segment_median[3] = {25.0, (double)NAN, 60.0};

/* Stats with the base-wide thresholds, counting the candidates of customers [lo, hi). */
static sgs_opportunity_stats_t stats_of(const base_t *b, size_t lo, size_t hi, int all)
{
    sgs_opportunity_stats_t st = {0};
    st.all_opportunities = all;
    st.global_clv_median = 30.0;
    st.n_segments = 3;
    st.segment_clv_median = segment_median;
    st.save_clv_threshold = st.advocate_value_threshold = 0.0;
    for (size_t i = lo; i < hi; i++) {
        unsigned m = b->fired[i] & 0x3FEu;
        st.n_candidates += all ? __builtin_popcount(m) : m != 0;
    }
    return st;
}

/* ---- Configurations -------------------------------------------------------------------- */

enum { CAP_TIGHT, CAP_SPILL, CAP_DEFAULT, CAP_NONE_BUT_WEB, N_CAPS };

/* Priorities with ties between kinds, a control group, avoided channels, and capacities of
 * a kind: CAP_TIGHT every channel limited to a share of the candidates (rows spill, and are
 * left out once all are full, the counts crossing processes on the way), CAP_SPILL the same
 * with mail unlimited and a short spill order, CAP_DEFAULT the defaults, CAP_NONE_BUT_WEB one
 * channel of 7 rows. */
static sgs_opportunity_config_t config_of(int caps, int64_t candidates)
{
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    cfg.priority[SGS_OPP_WIN_BACK] = 60;
    cfg.priority[SGS_OPP_SAVE_HIGH_VALUE] = 60;
    cfg.priority[SGS_OPP_OVERDUE_REMINDER] = 60;
    cfg.priority[SGS_OPP_DETRACTOR_FOLLOW_UP] = 90;
    cfg.control_share = 0.3;
    cfg.avoid_channels[SGS_OPP_WIN_BACK] = 1u << SGS_CHANNEL_EMAIL;
    cfg.avoid_channels_by_rfm[SGS_OPP_GROW][2] = 1u << SGS_CHANNEL_PHONE | 1u << SGS_CHANNEL_SMS;
    const int64_t c = candidates;
    switch (caps) {
    case CAP_TIGHT:
    case CAP_SPILL: {
        const int64_t cap[SGS_CHANNEL_COUNT] = {0, c / 9, c / 7, 0, 5, c / 6, c / 11, c / 8};
        memcpy(cfg.channel_capacity, cap, sizeof cap);
        if (caps == CAP_SPILL) {
            cfg.channel_capacity[SGS_CHANNEL_MAIL] = -1;
            const uint8_t order[SGS_CHANNEL_COUNT] = {SGS_CHANNEL_PHONE, SGS_CHANNEL_EMAIL,
                                                      SGS_CHANNEL_MAIL, 0};
            memcpy(cfg.spill_order, order, sizeof order);
        }
        break;
    }
    case CAP_NONE_BUT_WEB:
        for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++)
            cfg.channel_capacity[ch] = ch == SGS_CHANNEL_WEB ? 7 : 0;
        break;
    default:
        break;
    }
    return cfg;
}

/* ---- The comparison ---------------------------------------------------------------------- */

/* Process p's customers: [bound(p), bound(p + 1)), growing with p (process 0 the fewest);
 * with empty_last the last process has none. */
static size_t bound(size_t n, int p, int size, int empty_last)
{
    if (empty_last && size > 1) {
        if (p >= size - 1)
            return n;
        size = size - 1;
    }
    return n * (size_t)p * (size_t)(p + 1) / ((size_t)size * (size_t)(size + 1));
}

typedef struct ref {
    sgs_opportunity_rows_t rows;
    size_t n_rows;
    sgs_opportunity_list_summary_t summary;
} ref_t;

static void ref_alloc(ref_t *r, size_t m)
{
    size_t k = m + 1;
    r->rows = (sgs_opportunity_rows_t){calloc(k, 8), calloc(k, 1), calloc(k, 4), calloc(k, 8),
                                       calloc(k, 1), calloc(k, 8), calloc(k, 1)};
    assert_non_null(r->rows.control);
}

static void ref_free(ref_t *r)
{
    free(r->rows.customer_index);
    free(r->rows.kind);
    free(r->rows.priority);
    free(r->rows.value_at_stake);
    free(r->rows.channel);
    free(r->rows.rank);
    free(r->rows.control);
}

/* The list of base b over the processes (slices by bound) against one process's list of the
 * whole base; returns the whole list's summary. what names the case in failures. */
static sgs_opportunity_list_summary_t compare(const base_t *b, int all, int caps, int empty_last,
                                              const char *what)
{
    const sgs_dist_t *d = &sgs_test_world;
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    sgs_stage_input_t cu_all, cu;
    sgs_opportunity_input_t in_all, in;
    base_view(b, 0, b->n, &cu_all, &in_all);
    sgs_opportunity_stats_t st_all = stats_of(b, 0, b->n, all);
    sgs_opportunity_config_t cfg = config_of(caps, st_all.n_candidates);
    ref_t ref;
    ref_alloc(&ref, (size_t)st_all.n_candidates);
    if (sgs_opportunities_rank(&in_all, &cfg, &st_all, b->fired, &exec, &ref.rows,
                               (size_t)st_all.n_candidates, &ref.n_rows, &ref.summary,
                               &err) != SGS_OK)
        fail_msg("%s: one process: %s", what, err.message);

    size_t lo = bound(b->n, d->rank, d->size, empty_last),
           hi = bound(b->n, d->rank + 1, d->size, empty_last);
    base_view(b, lo, hi, &cu, &in);
    sgs_opportunity_stats_t st = stats_of(b, lo, hi, all);
    sgs_dist_opportunity_list_t list;
    uint64_t sent = sgs_dist_bytes_sent();
    int rc = sgs_dist_opportunities_rank(d, &in, &cfg, &st, b->fired + lo, &exec, &list, &err);
    sent = sgs_dist_bytes_sent() - sent;
    if (rc != SGS_OK)
        fail_msg("%s: %d processes: %s", what, d->size, err.message);

    /* the stretches one after another are the list */
    if (memcmp(&list.summary, &ref.summary, sizeof ref.summary) != 0)
        fail_msg("%s: process %d: the summary differs from one process's", what, d->rank);
    sgs_assert_cmp(list.first_rank, ==, 1 + (int64_t)sgs_dist_offset(d, list.n_rows));
    int64_t counts[2] = {(int64_t)list.n_rows, list.n_candidates};
    sgs_dist_reduce_i64(d, counts, 2, SGS_DIST_SUM);
    sgs_assert_cmp(counts[0], ==, (int64_t)ref.n_rows);
    sgs_assert_cmp(counts[1], ==, st_all.n_candidates);
    const size_t at = (size_t)list.first_rank - 1, k = list.n_rows;
#define SAME(col)                                                                                  \
    do {                                                                                           \
        if (k && memcmp(list.rows.col, ref.rows.col + at, k * sizeof *ref.rows.col) != 0)          \
            fail_msg("%s: process %d of %d: " #col " of ranks %zu.. differs from one process's",   \
                     what, d->rank, d->size, at + 1);                                              \
    } while (0)
    SAME(customer_index);
    SAME(kind);
    SAME(priority);
    SAME(value_at_stake);
    SAME(channel);
    SAME(rank);
    SAME(control);
#undef SAME
    for (size_t r = 0; r < k; r++)
        sgs_assert_cmp(list.customer_id[r], ==, b->id[ref.rows.customer_index[at + r]]);
    /* what went out: a record per candidate at most, and the samples */
    sgs_assert_cmp(sent, <=,
                   (uint64_t)st.n_candidates * SGS_DIST_OPPORTUNITY_RECORD_BYTES *
                       (uint64_t)d->size);
    sgs_dist_opportunity_list_free(&list);
    sgs_dist_opportunity_list_free(&list); /* safe twice */
    ref_free(&ref);
    return ref.summary;
}

/* ---- Tests --------------------------------------------------------------------------------- */

static void random_bases_every_capacity(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        base_t b;
        base_make(&b, 1500 + 700 * (size_t)seed, seed, seed % 2 ? TIES_SOME : TIES_NONE);
        for (int all = 0; all <= 1; all++)
            for (int caps = 0; caps < N_CAPS; caps++) {
                char what[128];
                snprintf(what, sizeof what, "seed %llu, all %d, capacities %d",
                         (unsigned long long)seed, all, caps);
                sgs_opportunity_list_summary_t s = compare(&b, all, caps, 0, what);
                if (caps == CAP_TIGHT) { /* what the capacities were chosen to make happen */
                    sgs_assert_cmp(s.n_left_out, >, 0);
                    sgs_assert_cmp(s.n_spilled, >, 0);
                    sgs_assert_cmp(s.n_unanswered_moved, >, 0);
                    sgs_assert_cmp(s.n_avoided_moved + s.n_avoided_left_out, >, 0);
                    sgs_assert_cmp(s.n_control, >, 0);
                }
            }
        base_free(&b);
    }
}

/* One kind at one value for every customer: the order is the customers' (global index), and
 * every cut between processes falls among equal priorities and values. */
static void ties_across_processes(void **state)
{
    (void)state;
    base_t b;
    base_make(&b, 3000, 11, TIES_ALL);
    for (int all = 0; all <= 1; all++)
        for (int caps = 0; caps < N_CAPS; caps++)
            compare(&b, all, caps, 0, "one value for all");
    base_free(&b);
    base_make(&b, 2500, 12, TIES_SOME);
    for (int all = 0; all <= 1; all++)
        compare(&b, all, CAP_TIGHT, 0, "a handful of values");
    base_free(&b);
}

/* Processes without candidates: the second process's customers fire nothing; the last
 * process holds no customer; a base with no candidate at all; a tiny base (fewer candidates
 * than processes). */
static void processes_without_candidates(void **state)
{
    (void)state;
    const sgs_dist_t *d = &sgs_test_world;
    base_t b;
    base_make(&b, 2000, 21, TIES_SOME);
    if (d->size > 1)
        for (size_t i = bound(b.n, 1, d->size, 0); i < bound(b.n, 2, d->size, 0); i++)
            b.fired[i] = 0;
    for (int all = 0; all <= 1; all++) {
        compare(&b, all, CAP_TIGHT, 0, "the second process fires nothing");
        compare(&b, all, CAP_SPILL, 1, "the last process has no customer");
    }
    memset(b.fired, 0, b.n * sizeof *b.fired);
    sgs_opportunity_list_summary_t s = compare(&b, 1, CAP_TIGHT, 0, "no candidates");
    sgs_assert_cmp(s.n_candidates, ==, 0);
    base_free(&b);
    base_make(&b, 3, 22, TIES_NONE);
    for (int all = 0; all <= 1; all++)
        for (int caps = 0; caps < N_CAPS; caps++)
            compare(&b, all, caps, 0, "three customers");
    base_free(&b);
}

/* Masks and stats that disagree on the last process: every process fails with its message. */
static void failure_on_one_process_is_everyones(void **state)
{
    (void)state;
    const sgs_dist_t *d = &sgs_test_world;
    base_t b;
    base_make(&b, 1000, 31, TIES_NONE);
    size_t lo = bound(b.n, d->rank, d->size, 0), hi = bound(b.n, d->rank + 1, d->size, 0);
    sgs_stage_input_t cu;
    sgs_opportunity_input_t in;
    base_view(&b, lo, hi, &cu, &in);
    sgs_opportunity_stats_t st = stats_of(&b, lo, hi, 0);
    if (d->rank == d->size - 1)
        st.n_candidates += 1;
    sgs_opportunity_config_t cfg = config_of(CAP_TIGHT, 100);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    sgs_dist_opportunity_list_t list;
    sgs_assert_cmp(sgs_dist_opportunities_rank(d, &in, &cfg, &st, b.fired + lo, &exec, &list, &err),
                   ==, SGS_EINVAL);
    sgs_assert_contains(err.message, "detection counted");
    if (d->size > 1) {
        char who[64];
        snprintf(who, sizeof who, "process %d of %d: ", d->size - 1, d->size);
        sgs_assert_contains(err.message, who);
    }
    sgs_assert_cmp(list.n_rows, ==, 0);
    sgs_dist_opportunity_list_free(&list);
    /* a configuration error on every process, then a call that works again */
    cfg.channel_capacity[SGS_CHANNEL_PHONE] = -2;
    st = stats_of(&b, lo, hi, 0);
    sgs_assert_cmp(sgs_dist_opportunities_rank(d, &in, &cfg, &st, b.fired + lo, &exec, &list, &err),
                   ==, SGS_ECONFIG);
    compare(&b, 0, CAP_TIGHT, 0, "after a failure");
    base_free(&b);
}

/* Every allocation of the call failing in turn on the last process: every process returns
 * SGS_ENOMEM with the last process's message (none waits for another), nothing is left in
 * the list, and the call works again afterwards. */
static void out_of_memory_on_one_process(void **state)
{
    (void)state;
    const sgs_dist_t *d = &sgs_test_world;
    const int last = d->rank == d->size - 1;
    base_t b;
    base_make(&b, 400, 51, TIES_SOME);
    size_t lo = bound(b.n, d->rank, d->size, 0), hi = bound(b.n, d->rank + 1, d->size, 0);
    sgs_stage_input_t cu;
    sgs_opportunity_input_t in;
    base_view(&b, lo, hi, &cu, &in);
    sgs_opportunity_stats_t st = stats_of(&b, lo, hi, 1);
    sgs_opportunity_config_t cfg = config_of(CAP_TIGHT, 300);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    sgs_dist_opportunity_list_t list;
    sgs_test_fail_alloc_after(last ? 1L << 30 : -1);
    sgs_assert_cmp(sgs_dist_opportunities_rank(d, &in, &cfg, &st, b.fired + lo, &exec, &list, &err),
                   ==, SGS_OK);
    sgs_dist_opportunity_list_free(&list);
    int64_t granted = last ? sgs_test_allocations_granted() : 0;
    sgs_dist_reduce_i64(d, &granted, 1, SGS_DIST_MAX);
    sgs_assert_cmp(granted, >, 5);
    for (int64_t n = 0; n < granted; n++) {
        sgs_test_fail_alloc_after(last ? (long)n : -1);
        int rc = sgs_dist_opportunities_rank(d, &in, &cfg, &st, b.fired + lo, &exec, &list, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc != SGS_ENOMEM)
            fail_msg("allocation %lld failing on the last process: code %d", (long long)n, rc);
        if (d->size > 1) {
            char who[64];
            snprintf(who, sizeof who, "process %d of %d: ", d->size - 1, d->size);
            sgs_assert_contains(err.message, who);
        }
        sgs_assert_cmp(list.n_rows, ==, 0);
        sgs_assert_cmp(list.rows.rank == NULL, ==, 1);
    }
    compare(&b, 1, CAP_TIGHT, 0, "after the failures");
    base_free(&b);
}

/* The bytes a process sends per candidate on a larger base (printed for docs/mpi.md). */
static void bytes_per_candidate(void **state)
{
    (void)state;
    const sgs_dist_t *d = &sgs_test_world;
    base_t b;
    base_make(&b, 200000, 41, TIES_NONE);
    size_t lo = bound(b.n, d->rank, d->size, 0), hi = bound(b.n, d->rank + 1, d->size, 0);
    sgs_stage_input_t cu;
    sgs_opportunity_input_t in;
    base_view(&b, lo, hi, &cu, &in);
    sgs_opportunity_stats_t st = stats_of(&b, lo, hi, 1);
    sgs_opportunity_config_t cfg = config_of(CAP_TIGHT, 200000);
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    sgs_dist_opportunity_list_t list;
    uint64_t sent = sgs_dist_bytes_sent();
    sgs_assert_cmp(sgs_dist_opportunities_rank(d, &in, &cfg, &st, b.fired + lo, &exec, &list, &err),
                   ==, SGS_OK);
    sent = sgs_dist_bytes_sent() - sent;
    print_message("process %d of %d: %lld own candidates, %lld in its range, sent %llu bytes "
                  "(%.2f per own candidate)\n",
                  d->rank, d->size, (long long)st.n_candidates, (long long)list.n_candidates,
                  (unsigned long long)sent,
                  st.n_candidates ? (double)sent / (double)st.n_candidates : 0.0);
    sgs_dist_opportunity_list_free(&list);
    base_free(&b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_bases_every_capacity),
        cmocka_unit_test(ties_across_processes),
        cmocka_unit_test(processes_without_candidates),
        cmocka_unit_test(failure_on_one_process_is_everyones),
        cmocka_unit_test(out_of_memory_on_one_process),
        cmocka_unit_test(bytes_per_candidate),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
