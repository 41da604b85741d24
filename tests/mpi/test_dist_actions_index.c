/*
 * tests/mpi/test_dist_actions_index.c — the actions step's combined customer index, its stages
 * step and its opportunity step in a run spread over the processes (engine/run_events.c,
 * engine/run_stages.c, engine/run_opportunities.c, docs/mpi.md), under
 * mpirun with 1 to 4 processes: on a generated base of 40,000 buyers with prospects, events
 * and referrals (cut at multiples of 16,384 customers: with 4 processes one at least owns
 * none), each process builds the index over its own customers from the spread reads of
 * /transactions, /events and /customers, and every process checks it against the entries of
 * the single-process index (built by this process alone from the whole file) in its range of
 * ids: the same customers in the same order, with the same purchase and event days, event
 * kinds, channels and values, signup days, preferred channels, referrers, main channels and
 * RFM segments, and buyer rows shifted by the buyers of the processes before; the whole
 * index's counts (customers, buyers, event and customer rows, customers known only from
 * /events or /customers) the same on every process as one process's. Then the stages step on
 * it (a segment per buyer, stages.compare_as_of set; without the value step: no p_buy, CLV or
 * backtest): every process's stage columns at the as-of and the compare day and influence
 * columns are the single-process step's in its range (memcmp), the stage summaries, the
 * transitions, the mean days in stage and the influence report the same. Then the opportunity
 * step (engine/run_opportunities.c): every process's masks and blocked channels are the
 * single-process step's in its range, its rows the single-process list's after the rows of the
 * processes before it (global customer index and rank), the audit rows, the policy's counts, the
 * list's summary, the value listed per kind, detection's thresholds and counts (the whole base's)
 * and the list's first rows with their reasons (the reports') the same. The three steps again
 * after the run's own summarize, RFM, value (with its backtest) and segment steps: the model
 * columns, the segments, every column and figure above and the stages checked on the backtest
 * (counts per stage) the single-process steps'. Every allocation of the three steps failing in
 * turn on the last process fails every process.
 */
#include "engine/dist_run.h"
#include "engine/run_actions.h"
#include "kernels/dates.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CUSTOMERS 40000

static char dir[512], input[700];

static int setup(void **state)
{
    (void)state;
    sgs_test_mpi_tmpdir("dist_actions_index", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/input.h5", dir);
    sgs_test_mpi_generate(input, N_CUSTOMERS, 20261207, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_mpi_rmdir(dir);
    return 0;
}

/* A run's state as the actions step finds it, without the value and segment steps: the rows
 * grouped (this process's customers when spread, all otherwise), the buyers' summary and ids,
 * an RFM segment per buyer made from its id (the same in both). */
typedef struct index_run {
    sgs_config_t cfg;
    sgs_run_request_t req;
    sgs_progress_t progress;
    sgs_run_state_t st;
    sgs_run_actions_t *A;
} index_run_t;

static void state_prepare(index_run_t *r, int spread)
{
    memset(r, 0, sizeof *r);
    sgs_error_t err = {0};
    sgs_config_defaults(&r->cfg);
    /* stages also at a day 120 days before the last transaction's (2024-06-30) */
    sgs_assert_cmp(sgs_config_set(&r->cfg, "stages.compare_as_of", "2024-03-02", &err), ==, SGS_OK);
    r->req.config = &r->cfg;
    sgs_progress_init(&r->progress, stderr, 1);
    r->req.input_path = input;
    r->req.progress = &r->progress;
    r->req.now_s = 1900000000;
    sgs_run_state_t *st = &r->st;
    st->req = &r->req;
    st->exec.n_threads = 1;
    st->dist = spread ? sgs_test_world : (sgs_dist_t){0, 1};
    sgs_read_options_t opt = sgs_test_mpi_read_options();
    sgs_grouped_t *g = &st->group.rows;
    sgs_read_stats_t stats;
    if (spread)
        sgs_test_mpi_read_grouped(input, &opt, g, &stats, &st->owners);
    else
        sgs_test_read_grouped(input, &opt, g, &stats);
    st->read.as_of_day = (int32_t)sgs_day_of(stats.max_time_s);
    sgs_summary_t *s = &st->summary.columns;
    size_t n = g->n_customers;
    sgs_assert_cmp(sgs_summary_alloc(s, n ? n : 1), ==, SGS_OK);
    s->n_customers = n;
    if (n)
        sgs_assert_cmp(sgs_summarize(&st->exec, g, st->read.as_of_day, s, &err), ==, SGS_OK);
    st->summary.customer_id = sgs_alloc_array(n ? n : 1, sizeof(int64_t));
    st->rfm.rfm_segment = sgs_alloc_array(n ? n : 1, 1);
    st->segments.segment = sgs_alloc_array(n ? n : 1, sizeof(int32_t));
    st->segments.ran = 1;
    assert_non_null(st->summary.customer_id);
    assert_non_null(st->rfm.rfm_segment);
    assert_non_null(st->segments.segment);
    size_t k = 0;
    for (size_t c = 0; c < n; c++) {
        if (!s->has_purchase[c])
            continue;
        sgs_summary_copy_row(s, k, c);
        st->summary.customer_id[k] = g->customer_id[c];
        st->rfm.rfm_segment[k] = (uint8_t)(g->customer_id[c] % SGS_RFM_SEGMENT_COUNT);
        st->segments.segment[k] = (int32_t)(g->customer_id[c] % 4);
        k++;
    }
    s->n_customers = k;
    st->summary.n_customers = k;
}

/* A run's state as the actions step finds it after the run's own summarize, RFM, value (with
 * its backtest) and segment steps, spread or by this process alone. */
static void state_prepare_run(index_run_t *r, int spread)
{
    state_prepare(r, spread);
    sgs_run_state_t *st = &r->st;
    sgs_run_summary_free(&st->summary);
    sgs_run_rfm_free(&st->rfm);
    sgs_run_segments_free(&st->segments);
    sgs_run_summary_init(&st->summary);
    sgs_run_rfm_init(&st->rfm);
    sgs_run_value_init(&st->value);
    sgs_run_segments_init(&st->segments);
    st->days_per_unit = sgs_config_days_per_unit(&r->cfg);
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_run_summarize(st, &err), ==, SGS_OK);
    sgs_assert_cmp(sgs_run_rfm(st, &err), ==, SGS_OK);
    sgs_assert_cmp(sgs_run_value(st, &err), ==, SGS_OK);
    sgs_assert_cmp(sgs_run_segments(st, &err), ==, SGS_OK);
}

static void state_free(index_run_t *r)
{
    sgs_run_actions_free(r->A);
    r->A = NULL;
    sgs_run_summary_free(&r->st.summary);
    sgs_run_rfm_free(&r->st.rfm);
    sgs_run_segments_free(&r->st.segments);
    sgs_run_value_free(&r->st.value);
    sgs_run_group_free(&r->st.group);
    sgs_dist_owners_free(&r->st.owners);
}

static int build_index(index_run_t *r, sgs_error_t *err)
{
    r->A = calloc(1, sizeof *r->A);
    assert_non_null(r->A);
    sgs_assert_cmp(
        sgs_actions_kernel_config(&r->cfg, &r->A->rules, &r->A->opp_cfg, &r->A->infl_cfg, err), ==,
        SGS_OK);
    return sgs__run_actions_events(&r->st, r->A, err);
}

/* The index, then the stages step (stages at the as-of and the compare day, transitions,
 * influence) and the opportunity step (detection, the audit, the policy, the list). */
static int index_and_stages(index_run_t *r, sgs_error_t *err)
{
    int rc = build_index(r, err);
    if (rc == SGS_OK)
        rc = sgs__run_actions_stages(&r->st, r->A, err);
    return rc == SGS_OK ? sgs__run_actions_opportunities(&r->st, r->A, err) : rc;
}

/* The events of entry u of a and entry v of b: the same days, kinds, channels and values. */
static void check_events(const sgs_run_actions_t *a, size_t u, const sgs_run_actions_t *b, size_t v)
{
    size_t na = a->event_offset ? a->event_offset[u + 1] - a->event_offset[u] : 0;
    size_t nb = b->event_offset ? b->event_offset[v + 1] - b->event_offset[v] : 0;
    sgs_assert_cmp(na, ==, nb);
    for (size_t j = 0; j < na; j++) {
        size_t ea = a->event_offset[u] + j, eb = b->event_offset[v] + j;
        sgs_assert_cmp(a->event_day[ea], ==, b->event_day[eb]);
        sgs_assert_cmp(a->event_kind[ea], ==, b->event_kind[eb]);
        if (a->event_channel)
            sgs_assert_cmp(a->event_channel[ea], ==, b->event_channel[eb]);
        double x = sgs_sparse_value(&a->event_values, ea),
               y = sgs_sparse_value(&b->event_values, eb);
        assert_memory_equal(&x, &y, sizeof x);
    }
}

#define SAME_SLICE(col, type)                                                                      \
    do {                                                                                           \
        assert_true((a->col == NULL) == (b->col == NULL));                                         \
        if (b->n && a->col)                                                                        \
            assert_memory_equal(b->col, a->col + first, b->n * sizeof(type));                      \
    } while (0)

static void check_stage_summary(const sgs_stage_summary_t *a, const sgs_stage_summary_t *b)
{
    assert_memory_equal(a->n_per_stage, b->n_per_stage, sizeof a->n_per_stage);
    assert_memory_equal(a->n_per_cycle_source, b->n_per_cycle_source, sizeof a->n_per_cycle_source);
    sgs_assert_cmp(a->n_segments, ==, b->n_segments);
    assert_memory_equal(&a->global_cycle_days, &b->global_cycle_days, sizeof(double));
}

/* The stages step's columns of b (this process's entries) are those of a from entry first on;
 * its summaries, transitions and influence report the same. */
static void check_stages(const sgs_run_actions_t *a, size_t first, const sgs_run_actions_t *b,
                         int32_t n_segments)
{
    SAME_SLICE(stage, uint8_t);
    SAME_SLICE(cycle_source, uint8_t);
    SAME_SLICE(cycle_days, double);
    SAME_SLICE(days_overdue, double);
    SAME_SLICE(observed_gap_days, double);
    SAME_SLICE(n_purchase_days, int32_t);
    check_stage_summary(&a->stage_summary, &b->stage_summary);
    /* what the test's state has, so that segments and the compare day are compared */
    if (n_segments > 0)
        sgs_assert_cmp(a->stage_summary.n_segments, ==, n_segments);
    else
        sgs_assert_cmp(a->stage_summary.n_segments, >, 1);
    assert_true(a->has_compare && b->has_compare);
    SAME_SLICE(stage_compare, uint8_t);
    check_stage_summary(&a->compare_summary, &b->compare_summary);
    assert_memory_equal(a->transitions, b->transitions, sizeof a->transitions);
    assert_memory_equal(a->mean_days_in_stage, b->mean_days_in_stage, sizeof a->mean_days_in_stage);
    assert_true(a->influence_ran && b->influence_ran);
    SAME_SLICE(n_direct, int64_t);
    SAME_SLICE(n_indirect, int64_t);
    SAME_SLICE(referrer_index, int64_t);
    SAME_SLICE(network_value, double);
    SAME_SLICE(depth, int32_t);
    SAME_SLICE(referral_status, uint8_t);
    const sgs_influence_report_t *x = &a->influence, *y = &b->influence;
    sgs_assert_cmp(x->n_with_referrer, ==, y->n_with_referrer);
    sgs_assert_cmp(x->n_with_referrer, >, 0);
    sgs_assert_cmp(x->n_unknown_referrers, ==, y->n_unknown_referrers);
    sgs_assert_cmp(x->n_cycles, ==, y->n_cycles);
    sgs_assert_cmp(x->n_in_cycles, ==, y->n_in_cycles);
    sgs_assert_cmp(x->n_referrers, ==, y->n_referrers);
    sgs_assert_cmp(x->max_depth, ==, y->max_depth);
    sgs_assert_cmp(x->n_unknown_examples, ==, y->n_unknown_examples);
    sgs_assert_cmp(x->n_cycle_examples, ==, y->n_cycle_examples);
    assert_memory_equal(x->unknown_customer_id, y->unknown_customer_id,
                        (size_t)x->n_unknown_examples * sizeof(int64_t));
    assert_memory_equal(x->unknown_referrer_id, y->unknown_referrer_id,
                        (size_t)x->n_unknown_examples * sizeof(int64_t));
    assert_memory_equal(x->cycle_customer_id, y->cycle_customer_id,
                        (size_t)x->n_cycle_examples * sizeof(int64_t));
    assert_memory_equal(x->cycle_length, y->cycle_length,
                        (size_t)x->n_cycle_examples * sizeof(int64_t));
}

/* The opportunity step's masks and blocked channels of b are a's from entry first on; the
 * audit, the policy's counts, the list's summary, the value listed, detection's thresholds and
 * counts (the whole base's once the step is done) and the list's first rows with their reasons
 * (what the reports print) the same; b's rows the stretch of a's list after the processes before
 * it (customer index global, rank). */
static void check_opportunities(const sgs_run_actions_t *a, size_t first,
                                const sgs_run_actions_t *b)
{
    const sgs_dist_t *d = &sgs_test_world;
    SAME_SLICE(fired, uint16_t);
    SAME_SLICE(blocked_channels, uint8_t);
    assert_true(a->audit_ran && b->audit_ran);
    assert_memory_equal(a->audit_stage, b->audit_stage, sizeof a->audit_stage);
    assert_memory_equal(a->audit_rfm, b->audit_rfm, sizeof a->audit_rfm);
    assert_memory_equal(a->audit_untapped_per_kind, b->audit_untapped_per_kind,
                        sizeof a->audit_untapped_per_kind);
    assert_memory_equal(&a->policy, &b->policy, sizeof a->policy);
    assert_memory_equal(&a->list, &b->list, sizeof a->list);
    assert_memory_equal(a->value_listed_per_kind, b->value_listed_per_kind,
                        sizeof a->value_listed_per_kind);
    const sgs_opportunity_stats_t *s = &a->opp_stats, *t = &b->opp_stats;
    assert_memory_equal(s->n_fired, t->n_fired, sizeof s->n_fired);
    sgs_assert_cmp(s->n_customers, ==, t->n_customers);
    sgs_assert_cmp(s->n_candidates, ==, t->n_candidates);
    sgs_assert_cmp(s->kinds_without_input, ==, t->kinds_without_input);
    double th[] = {s->save_clv_threshold, s->advocate_value_threshold, s->global_clv_median},
           tt[] = {t->save_clv_threshold, t->advocate_value_threshold, t->global_clv_median};
    assert_memory_equal(th, tt, sizeof th);
    sgs_assert_cmp(a->n_top, ==, SGS_RUN_TOP_ROWS); /* the list is longer */
    sgs_assert_cmp(b->n_top, ==, a->n_top);
    assert_memory_equal(a->top, b->top, a->n_top * sizeof a->top[0]);
    for (size_t r = 0; r < a->n_top; r++) { /* a row of the list, worded */
        sgs_assert_cmp(a->top[r].rank, ==, (int64_t)r + 1);
        sgs_assert_cmp(strlen(a->top[r].reason), >, 10);
    }
    sgs_assert_cmp(a->n_rows, >, 0);
    size_t before = (size_t)sgs_dist_offset(d, b->n_rows), all = b->n_rows;
    sgs_dist_run_sum_sizes(d, &all, 1);
    sgs_assert_cmp(all, ==, a->n_rows);
    const sgs_opportunity_rows_t *x = &a->rows, *y = &b->rows;
    if (b->n_rows == 0)
        return;
    size_t k = b->n_rows;
    assert_memory_equal(y->customer_index, x->customer_index + before, k * sizeof(int64_t));
    assert_memory_equal(y->kind, x->kind + before, k);
    assert_memory_equal(y->priority, x->priority + before, k * sizeof(int32_t));
    assert_memory_equal(y->value_at_stake, x->value_at_stake + before, k * sizeof(double));
    assert_memory_equal(y->channel, x->channel + before, k);
    assert_memory_equal(y->rank, x->rank + before, k * sizeof(int64_t));
    assert_memory_equal(y->control, x->control + before, k);
}

static void index_is_the_single_process_index_in_the_range(void **state)
{
    (void)state;
    const sgs_dist_t *d = &sgs_test_world;
    index_run_t one, spread;
    sgs_error_t err = {0};
    state_prepare(&one, 0);
    sgs_assert_cmp(index_and_stages(&one, &err), ==, SGS_OK);
    state_prepare(&spread, 1);
    sgs_assert_cmp(index_and_stages(&spread, &err), ==, SGS_OK);
    const sgs_run_actions_t *a = one.A, *b = spread.A;
    const sgs_dist_owners_t *own = &spread.st.owners;

    /* the whole index's figures */
    sgs_assert_cmp(b->n_all, ==, a->n);
    sgs_assert_cmp(a->n_all, ==, a->n);
    sgs_assert_cmp(b->n_buyers_all, ==, a->n_buyers);
    sgs_assert_cmp(b->n_event_rows, ==, a->n_event_rows);
    sgs_assert_cmp(b->n_event_rows_after, ==, a->n_event_rows_after);
    sgs_assert_cmp(b->n_customer_rows, ==, a->n_customer_rows);
    sgs_assert_cmp(b->n_only_in_events, ==, a->n_only_in_events);
    sgs_assert_cmp(b->n_only_in_customers, ==, a->n_only_in_customers);
    sgs_assert_cmp(b->events_present, ==, a->events_present);
    sgs_assert_cmp(b->customers_present, ==, a->customers_present);
    sgs_assert_cmp(b->referrers_present, ==, a->referrers_present);
    sgs_assert_cmp(b->event_channels_present, ==, a->event_channels_present);
    /* what the generated file has, so that every column below is compared */
    sgs_assert_cmp(a->n_only_in_customers, >, 0);
    sgs_assert_cmp(a->n_event_rows, >, 0);
    assert_true(a->referrers_present && a->signup_day && a->preferred_channel);

    /* this process's entries: those of the whole index in its range of ids, one stretch */
    size_t first = a->n, n_mine = 0;
    for (size_t u = 0; u < a->n; u++)
        if (sgs_dist_owner_of(own, a->customer_id[u]) == d->rank) {
            if (first == a->n)
                first = u;
            sgs_assert_cmp(u, ==, first + n_mine);
            n_mine++;
        }
    sgs_assert_cmp(b->n, ==, n_mine);
    if (n_mine)
        sgs_assert_cmp(b->first, ==, first);
    sgs_assert_cmp(b->input.n, ==, b->n);
    int64_t buyers_before = (int64_t)sgs_dist_offset(d, b->n_buyers);
    for (size_t v = 0; v < b->n; v++) {
        size_t u = first + v;
        sgs_assert_cmp(b->customer_id[v], ==, a->customer_id[u]);
        sgs_assert_cmp(b->buyer_row[v] >= 0, ==, a->buyer_row[u] >= 0);
        if (b->buyer_row[v] >= 0)
            sgs_assert_cmp(b->buyer_row[v] + buyers_before, ==, a->buyer_row[u]);
        sgs_assert_cmp(b->signup_day[v], ==, a->signup_day[u]);
        sgs_assert_cmp(b->preferred_channel[v], ==, a->preferred_channel[u]);
        sgs_assert_cmp(b->referrer_id[v], ==, a->referrer_id[u]);
        sgs_assert_cmp(b->main_channel[v], ==, a->main_channel[u]);
        sgs_assert_cmp(b->rfm_segment[v], ==, a->rfm_segment[u]);
        size_t pa = a->purchase_offset[u + 1] - a->purchase_offset[u];
        sgs_assert_cmp(b->purchase_offset[v + 1] - b->purchase_offset[v], ==, pa);
        if (pa)
            assert_memory_equal(b->purchase_day + b->purchase_offset[v],
                                a->purchase_day + a->purchase_offset[u], pa * sizeof(int32_t));
        check_events(a, u, b, v);
    }
    check_stages(a, first, b, 4);
    check_opportunities(a, first, b);
    state_free(&one);
    state_free(&spread);
}

/* The same three steps after the run's own earlier steps: p_buy, the model's P(buy), CLV and
 * the rate while buying per customer, the model columns at the compare day, the stages checked
 * on the backtest (p_buy at the calibration end, each process its own customers'), the
 * segments found by k-means. */
static void after_the_run_steps_the_same_as_one_process(void **state)
{
    (void)state;
    index_run_t one, spread;
    sgs_error_t err = {0};
    state_prepare_run(&one, 0);
    sgs_assert_cmp(index_and_stages(&one, &err), ==, SGS_OK);
    state_prepare_run(&spread, 1);
    sgs_assert_cmp(index_and_stages(&spread, &err), ==, SGS_OK);
    const sgs_run_actions_t *a = one.A, *b = spread.A;
    sgs_assert_cmp(b->n_all, ==, a->n);
    size_t first = b->first;
    assert_true(a->p_buy && a->clv && b->p_buy && b->clv);
    SAME_SLICE(p_buy, double);
    SAME_SLICE(p_buy_model, double);
    SAME_SLICE(clv, double);
    SAME_SLICE(rate_per_day, double);
    SAME_SLICE(segment, int32_t);
    check_stages(a, first, b, 0);
    check_opportunities(a, first, b);
    const sgs_backtest_t *x = &one.st.value.backtest, *y = &spread.st.value.backtest;
    assert_true(x->stages_ran && y->stages_ran);
    assert_memory_equal(x->stage_customers, y->stage_customers, sizeof x->stage_customers);
    assert_memory_equal(x->stage_bought, y->stage_bought, sizeof x->stage_bought);
    int64_t checked = 0;
    for (int k = 0; k < SGS_STAGE_COUNT; k++)
        checked += x->stage_customers[k];
    sgs_assert_cmp(checked, >, 0);
    state_free(&one);
    state_free(&spread);
}

/* The spread index with its state made again before each try: every allocation of the step
 * failing in turn on the last process (kernels/core.h sgs_test_fail_alloc_after) fails every
 * process with SGS_ENOMEM and the last process's message, none waiting for another. */
static void a_failing_allocation_on_the_last_process_fails_every_process(void **state)
{
    (void)state;
    const sgs_dist_t *d = &sgs_test_world;
    const int last = d->rank == d->size - 1;
    index_run_t r;
    sgs_error_t err = {0};
    state_prepare(&r, 1);
    sgs_test_fail_alloc_after(last ? 1L << 30 : -1);
    int rc = index_and_stages(&r, &err);
    int64_t granted = last ? sgs_test_allocations_granted() : 0;
    sgs_test_fail_alloc_after(-1);
    sgs_assert_cmp(rc, ==, SGS_OK);
    state_free(&r);
    sgs_dist_reduce_i64(d, &granted, 1, SGS_DIST_MAX);
    sgs_assert_cmp(granted, >=, 10);
    for (int64_t k = 0; k < granted; k++) {
        state_prepare(&r, 1);
        sgs_test_fail_alloc_after(last ? (long)k : -1);
        rc = index_and_stages(&r, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc != SGS_ENOMEM)
            fail_msg("allocation %lld failing on the last process: code %d (%s)", (long long)k, rc,
                     err.message);
        if (d->size > 1) {
            char who[64];
            snprintf(who, sizeof who, "process %d of %d: ", d->size - 1, d->size);
            sgs_assert_contains(err.message, who);
        }
        state_free(&r);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_is_the_single_process_index_in_the_range),
        cmocka_unit_test(after_the_run_steps_the_same_as_one_process),
        cmocka_unit_test(a_failing_allocation_on_the_last_process_fails_every_process),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, setup, teardown);
}
