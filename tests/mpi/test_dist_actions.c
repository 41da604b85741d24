/*
 * tests/mpi/test_dist_actions.c — the actions step over customers spread over processes
 * (engine/dist_actions.h), under mpirun with 1 to 4 processes: every process builds the same
 * base and passes its share; the results equal, byte for byte, the single-process kernels on
 * the whole base:
 *   stages     every output column of each process's customers, the segments' cycles and the
 *              summary (sgs_stages_compute), with and without p_buy, rates and segments;
 *              the transitions to an earlier day and the mean time in stage; the stages
 *              checked on the backtest (sgs_stage_came_back);
 *   influence  every output (referrer_index as the global index) and the report
 *              (sgs_influence_compute) on referral forests whose chains cross processes,
 *              with cycles (one crossing every process), self-referrals, referrers that are
 *              no customer (ids between and beyond the processes' ranges), NaN CLV, without
 *              CLV;
 *   audit      the rows per group and the untapped counts (sgs_audit_compute), survey sums of
 *              non-integer scores, the processes cut at the blocks of 16,384 customers, within
 *              them and inside one block;
 *   the opportunity step end to end (sgs_dist_actions_opportunities on the spread stages and
 *              influence): every process's masks and blocked channels, detection's and the
 *              policy's counts, the audit, its stretch of the list, every row's reason, the
 *              summary and the value listed per kind, against engine/run_opportunities.c's
 *              order of kernels and the CSV writer's reasons; the bytes the influence and the
 *              reasons send equal to the documented counts (printed);
 * shares uneven, processes without customers; failures (a bad segment label or group on the
 * last process, ids not ascending across processes, every allocation failing in turn on the
 * last process) are every process's error.
 */
#include "engine/dist_actions.h"
#include "engine/opportunity_reason.h"
#include "kernels/base_totals.h"
#include "kernels/stage_columns.h"
#include "tests/support/stage_cols.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AS_OF 3000

/* The whole base every process builds: customers with purchase and event days, model columns,
 * segments, referrers. */
typedef struct world {
    size_t n;
    int64_t *id, *referrer;
    int32_t *signup, *segment, *purchase_day, *event_day;
    size_t *purchase_offset, *event_offset;
    uint8_t *event_kind, *event_channel, *group, *preferred, *main_channel, *rfm;
    double *p_buy, *rate, *clv, *event_value;
    sgs_sparse_values_t event_values; /* event_value as the kernels take it */
    uint16_t *fired;
} world_t;

#define NEW(p, count) assert_non_null((p) = calloc((count) + 1, sizeof *(p)))

static void world_make(world_t *w, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    memset(w, 0, sizeof *w);
    w->n = n;
    NEW(w->id, n);
    NEW(w->referrer, n);
    NEW(w->signup, n);
    NEW(w->segment, n);
    NEW(w->purchase_offset, n + 1);
    NEW(w->event_offset, n + 1);
    NEW(w->p_buy, n);
    NEW(w->rate, n);
    NEW(w->clv, n);
    NEW(w->group, n);
    NEW(w->preferred, n);
    NEW(w->main_channel, n);
    NEW(w->rfm, n);
    NEW(w->fired, n);
    NEW(w->purchase_day, 9 * n);
    NEW(w->event_day, 7 * n);
    NEW(w->event_kind, 7 * n);
    NEW(w->event_channel, 7 * n);
    NEW(w->event_value, 7 * n);
    size_t np = 0, ne = 0;
    int64_t id = 10;
    for (size_t i = 0; i < n; i++) {
        id += 1 + (int64_t)(sgs_test_next(&s) % 3);
        w->id[i] = id;
        w->signup[i] = sgs_test_next(&s) % 5 == 0 ? AS_OF + 10 : SGS_DAY_NONE;
        w->segment[i] = (int32_t)(sgs_test_next(&s) % 6) - 1; /* -1..4, 3 left empty */
        if (w->segment[i] == 3)
            w->segment[i] = -1;
        w->p_buy[i] = sgs_test_next(&s) % 9 == 0 ? (double)NAN : sgs_test_uniform(&s);
        w->rate[i] = sgs_test_next(&s) % 4 == 0 ? (double)NAN : 0.002 + 0.05 * sgs_test_uniform(&s);
        w->clv[i] = sgs_test_next(&s) % 11 == 0 ? (double)NAN : 500.0 * sgs_test_uniform(&s);
        w->group[i] = (uint8_t)(sgs_test_next(&s) % 5);
        w->preferred[i] = (uint8_t)(sgs_test_next(&s) % SGS_CHANNEL_COUNT);
        w->main_channel[i] = (uint8_t)(sgs_test_next(&s) % SGS_CHANNEL_COUNT);
        w->rfm[i] = (uint8_t)(sgs_test_next(&s) % (SGS_RFM_SEGMENT_COUNT + 1));
        w->fired[i] = (uint16_t)(sgs_test_next(&s) % 3 == 0 ? sgs_test_next(&s) & 0x3FEu : 0);
        int purchases = (int)(sgs_test_next(&s) % 9);
        int32_t day = AS_OF - 1200 + (int32_t)(sgs_test_next(&s) % 900);
        for (int k = 0; k < purchases; k++) {
            w->purchase_day[np++] = day;
            day += (int32_t)(sgs_test_next(&s) % 160); /* the same day twice, now and then */
        }
        w->purchase_offset[i + 1] = np;
        int events = (int)(sgs_test_next(&s) % 7);
        day = AS_OF - 150 + (int32_t)(sgs_test_next(&s) % 60);
        for (int k = 0; k < events; k++) {
            w->event_day[ne] = day;
            w->event_kind[ne] = (uint8_t)(1 + sgs_test_next(&s) % 8);
            w->event_channel[ne] = (uint8_t)(sgs_test_next(&s) % 8);
            w->event_value[ne] = w->event_kind[ne] == SGS_EVENT_SURVEY
                                     ? 10.0 * sgs_test_uniform(&s) /* not integers: order shows */
                                     : (double)NAN;
            day += (int32_t)(sgs_test_next(&s) % 40);
            ne++;
        }
        w->event_offset[i + 1] = ne;
    }
    /* referrals: chains of any length, mostly to an earlier or later customer far away (so
     * that they cross the processes), self-referrals, ids that are no customer */
    for (size_t i = 0; i < n; i++) {
        uint64_t r = sgs_test_next(&s) % 100;
        if (r < 45)
            w->referrer[i] = -1;
        else if (r < 85)
            w->referrer[i] = w->id[sgs_test_next(&s) % n];
        else if (r < 90)
            w->referrer[i] = w->id[i]; /* itself: a cycle of one */
        else if (r < 95)
            w->referrer[i] = w->id[sgs_test_next(&s) % n] + 1; /* often between two ids */
        else
            w->referrer[i] = (int64_t)(r % 2 ? 3 : id + 7); /* below and beyond every id */
        if (w->referrer[i] > 0 && w->referrer[i] != w->id[i] && r >= 90 && r < 95) {
            /* keep it no customer only when it falls between two ids */
            int64_t at = sgs_customer_index_of(w->id, n, w->referrer[i]);
            if (at >= 0)
                w->referrer[i] = -1;
        }
    }
    if (n >= 8) { /* a cycle through the first, a middle and the last customer */
        w->referrer[0] = w->id[n - 1];
        w->referrer[n - 1] = w->id[n / 2];
        w->referrer[n / 2] = w->id[0];
    }
    sgs_exec_t one = {.n_threads = 1};
    assert_int_equal(
        sgs_sparse_values_build(&one, w->event_value, w->event_offset[n], &w->event_values, NULL),
        SGS_OK);
}

static void world_free(world_t *w)
{
    void *owned[] = {
        w->id,        w->referrer,        w->signup,       w->segment,    w->purchase_day,
        w->event_day, w->purchase_offset, w->event_offset, w->event_kind, w->event_channel,
        w->group,     w->p_buy,           w->rate,         w->clv,        w->event_value,
        w->fired,     w->preferred,       w->main_channel, w->rfm};
    for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++)
        free(owned[k]);
    sgs_sparse_values_free(&w->event_values);
}

/* The view of customers [lo, hi): columns from lo, the offsets into the whole rows. Without
 * `model`, no p_buy, rate or segments. */
static sgs_stage_input_t view(const world_t *w, size_t lo, size_t hi, int model)
{
    sgs_stage_input_t in;
    memset(&in, 0, sizeof in);
    in.n = hi - lo;
    in.customer_id = w->id + lo;
    in.signup_day = w->signup + lo;
    in.purchase_offset = w->purchase_offset + lo;
    in.purchase_day = w->purchase_day;
    in.event_offset = w->event_offset + lo;
    in.event_day = w->event_day;
    in.event_kind = w->event_kind;
    in.event_value = &w->event_values;
    in.event_channel = w->event_channel;
    if (model) {
        in.p_buy = w->p_buy + lo;
        in.rate_per_day = w->rate + lo;
        in.segment = w->segment + lo;
        in.clv = w->clv + lo;
        in.p_buy_model = w->p_buy + lo;
        in.preferred_channel = w->preferred + lo;
        in.main_channel = w->main_channel + lo;
    }
    return in;
}

/* Process p's share of n: uneven, the last process none when there are 3 or more. */
static void share_of(size_t n, size_t p, size_t *lo, size_t *hi)
{
    size_t size = (size_t)sgs_test_world.size;
    size_t with = size >= 3 ? size - 1 : size; /* processes holding customers */
    size_t total = with * (with + 1) / 2;      /* process p holds p + 1 parts */
    *lo = p >= with ? n : n * (p * (p + 1) / 2) / total;
    *hi = p + 1 >= with ? n : n * ((p + 1) * (p + 2) / 2) / total;
}

static void share(size_t n, size_t *lo, size_t *hi)
{
    share_of(n, (size_t)sgs_test_world.rank, lo, hi);
}

/* ---- Stages ------------------------------------------------------------------------------ */

/* this process's rows [lo, hi) of the whole columns `all` against its own `mine` */
static void cols_equal(const stage_cols_t *mine, const stage_cols_t *all, size_t lo, size_t hi)
{
    size_t k = hi - lo;
    if (k > 0) {
        assert_memory_equal(mine->stage, all->stage + lo, k);
        assert_memory_equal(mine->source, all->source + lo, k);
        assert_memory_equal(mine->cycle, all->cycle + lo, k * sizeof(double));
        assert_memory_equal(mine->overdue, all->overdue + lo, k * sizeof(double));
        assert_memory_equal(mine->gap, all->gap + lo, k * sizeof(double));
        assert_memory_equal(mine->n_days, all->n_days + lo, k * sizeof(int32_t));
    }
    assert_memory_equal(mine->seg_cycle, all->seg_cycle, sizeof all->seg_cycle);
}

static void summary_equal(const sgs_stage_summary_t *a, const sgs_stage_summary_t *b)
{
    assert_memory_equal(a->n_per_stage, b->n_per_stage, sizeof a->n_per_stage);
    assert_memory_equal(a->n_per_cycle_source, b->n_per_cycle_source, sizeof a->n_per_cycle_source);
    assert_int_equal(a->n_segments, b->n_segments);
    assert_memory_equal(&a->global_cycle_days, &b->global_cycle_days, sizeof(double));
}

static void stages_equal_one_process(size_t n, uint64_t seed, int model)
{
    world_t w;
    world_make(&w, n, seed);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    sgs_stage_rules_t rules;
    sgs_stage_rules_default(&rules);
    /* one process, every customer; at the as-of day and 120 days before */
    stage_cols_t all, all_then, mine, mine_then;
    stage_cols_alloc(&all, n);
    stage_cols_alloc(&all_then, n);
    sgs_stage_summary_t one, one_then, spread, spread_then;
    sgs_stage_input_t in = view(&w, 0, n, model);
    assert_int_equal(sgs_stages_compute(&in, AS_OF, &rules, &exec, &all.out, &one, &err), SGS_OK);
    sgs_stage_input_t then = in;
    then.p_buy = NULL;
    then.rate_per_day = NULL;
    assert_int_equal(
        sgs_stages_compute(&then, AS_OF - 120, &rules, &exec, &all_then.out, &one_then, &err),
        SGS_OK);
    int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT],
        spread_counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT];
    double mean_days[SGS_STAGE_COUNT], spread_mean[SGS_STAGE_COUNT];
    assert_int_equal(sgs_stage_transitions(n, all_then.stage, all.stage, &exec, counts, &err),
                     SGS_OK);
    assert_int_equal(sgs_stage_mean_days(counts, 120, mean_days, &err), SGS_OK);
    /* this process's share */
    size_t lo, hi;
    share(n, &lo, &hi);
    stage_cols_alloc(&mine, hi - lo);
    stage_cols_alloc(&mine_then, hi - lo);
    in = view(&w, lo, hi, model);
    then = in;
    then.p_buy = NULL;
    then.rate_per_day = NULL;
    if (hi == lo && model) /* a process without customers may pass no segments */
        in.segment = then.segment = NULL;
    assert_int_equal(sgs_dist_stages_compute(&sgs_test_world, &in, AS_OF, &rules, &exec, &mine.out,
                                             &spread, &err),
                     SGS_OK);
    assert_int_equal(sgs_dist_stages_compute(&sgs_test_world, &then, AS_OF - 120, &rules, &exec,
                                             &mine_then.out, &spread_then, &err),
                     SGS_OK);
    cols_equal(&mine, &all, lo, hi);
    cols_equal(&mine_then, &all_then, lo, hi);
    summary_equal(&spread, &one);
    summary_equal(&spread_then, &one_then);
    assert_int_equal(sgs_dist_stage_transitions(&sgs_test_world, hi - lo, mine_then.stage,
                                                mine.stage, 120, &exec, spread_counts, spread_mean,
                                                &err),
                     SGS_OK);
    assert_memory_equal(spread_counts, counts, sizeof counts);
    assert_memory_equal(spread_mean, mean_days, sizeof mean_days);
    /* the stages checked on the backtest: staged 120 days before, came back since (p_buy NaN for
     * some: not counted) */
    int64_t came[2][SGS_STAGE_COUNT], spread_came[2][SGS_STAGE_COUNT];
    sgs_stage_input_t whole = view(&w, 0, n, model);
    assert_int_equal(sgs_stage_came_back(&whole, all_then.stage, w.p_buy, AS_OF - 120, AS_OF, NULL,
                                         came[0], came[1], &err),
                     SGS_OK);
    assert_int_equal(sgs_dist_stage_came_back(&sgs_test_world, &then, mine_then.stage, w.p_buy + lo,
                                              AS_OF - 120, AS_OF, spread_came[0], spread_came[1],
                                              &err),
                     SGS_OK);
    assert_memory_equal(spread_came, came, sizeof came);
    if (n >= 1000)
        sgs_assert_cmp(came[1][SGS_STAGE_ACTIVE] + came[1][SGS_STAGE_NEW], >, 0);
    /* the base exercises the rules: several stages, cycles from every source but default */
    int stages_seen = 0;
    for (int s = 0; s < SGS_STAGE_COUNT; s++)
        stages_seen += one.n_per_stage[s] > 0;
    if (n >= 1000) {
        sgs_assert_cmp(stages_seen, >=, 6);
        sgs_assert_cmp(one.n_per_cycle_source[SGS_CYCLE_OBSERVED], >, 0);
        if (model) {
            sgs_assert_cmp(one.n_per_cycle_source[SGS_CYCLE_MODEL], >, 0);
            sgs_assert_cmp(one.n_per_cycle_source[SGS_CYCLE_SEGMENT], >, 0);
            sgs_assert_finite(all.seg_cycle[0]);
            sgs_assert_nan(all.seg_cycle[3]); /* the empty segment */
        }
    }
    stage_cols_free(&all);
    stage_cols_free(&all_then);
    stage_cols_free(&mine);
    stage_cols_free(&mine_then);
    world_free(&w);
}

static void stages(void **state)
{
    (void)state;
    stages_equal_one_process(6000, 1, 1);
    stages_equal_one_process(4001, 2, 0);
    stages_equal_one_process(5, 3, 1);
}

static void a_bad_label_is_everyones_error(void **state)
{
    (void)state;
    const size_t n = 700;
    world_t w;
    world_make(&w, n, 4);
    w.segment[n - 1] = (int32_t)n; /* not below the customer count: the last customer's */
    size_t lo, hi;
    share(n, &lo, &hi);
    stage_cols_t mine;
    stage_cols_alloc(&mine, hi - lo);
    sgs_stage_input_t in = view(&w, lo, hi, 1);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    assert_int_equal(
        sgs_dist_stages_compute(&sgs_test_world, &in, AS_OF, NULL, &exec, &mine.out, NULL, &err),
        SGS_EDATA);
    char who[96];
    snprintf(who, sizeof who,
             "customer_id %lld: segment label 700 is not below the customer count 700",
             (long long)w.id[n - 1]);
    sgs_assert_contains(err.message, who);
    stage_cols_free(&mine);
    world_free(&w);
}

/* ---- Influence --------------------------------------------------------------------------- */

typedef struct infl_cols {
    int64_t *direct, *indirect, *ref_index;
    double *nv;
    int32_t *depth;
    uint8_t *status;
    sgs_influence_output_t out;
} infl_cols_t;

static void infl_make(infl_cols_t *c, size_t n)
{
    NEW(c->direct, n);
    NEW(c->indirect, n);
    NEW(c->ref_index, n);
    NEW(c->nv, n);
    NEW(c->depth, n);
    NEW(c->status, n);
    c->out =
        (sgs_influence_output_t){c->direct, c->indirect, c->nv, c->ref_index, c->depth, c->status};
}

static void infl_free(infl_cols_t *c)
{
    sgs_free(c->direct);
    sgs_free(c->indirect);
    sgs_free(c->ref_index);
    sgs_free(c->nv);
    sgs_free(c->depth);
    sgs_free(c->status);
}

/* The process whose id range holds id (share()'s ranges), or -1. */
static int id_owner(const world_t *w, int64_t id)
{
    for (size_t p = 0; p < (size_t)sgs_test_world.size; p++) {
        size_t lo, hi;
        share_of(w->n, p, &lo, &hi);
        if (hi > lo && w->id[lo] <= id && id <= w->id[hi - 1])
            return (int)p;
    }
    return -1;
}

/* What sgs_dist_influence_compute sends from this process is what engine/dist_actions.h says:
 * 8 bytes per referrer owned elsewhere, 32 (N - 1) per customer on a chain, and the 24 bytes of
 * its id range to every other process. Printed per customer on a chain. */
static void influence_bytes(const world_t *w, size_t lo, size_t hi, const double *clv)
{
    const size_t n = w->n, others = (size_t)sgs_test_world.size - 1;
    uint8_t *named = calloc(n + 1, 1);
    assert_non_null(named);
    for (size_t i = 0; i < n; i++) {
        int64_t j = w->referrer[i] == -1 ? -1 : sgs_customer_index_of(w->id, n, w->referrer[i]);
        if (j >= 0)
            named[j] = 1;
    }
    uint64_t expected = 24 * others, on_chain = 0;
    for (size_t i = lo; i < hi; i++) {
        if (w->referrer[i] != -1) {
            int p = id_owner(w, w->referrer[i]);
            expected += p >= 0 && p != sgs_test_world.rank ? 8 : 0;
        }
        on_chain += w->referrer[i] != -1 || named[i];
    }
    expected += SGS_DIST_REFERRAL_RECORD_BYTES * others * on_chain;
    free(named);
    infl_cols_t c;
    infl_make(&c, hi - lo);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    uint64_t before = sgs_dist_bytes_sent();
    assert_int_equal(sgs_dist_influence_compute(&sgs_test_world, hi - lo, w->id + lo,
                                                w->referrer + lo, clv ? clv + lo : NULL, NULL,
                                                &exec, &c.out, NULL, &err),
                     SGS_OK);
    uint64_t sent = sgs_dist_bytes_sent() - before;
    assert_int_equal(sent, expected);
    if (on_chain > 1000)
        print_message("influence, process %d of %d: %.1f bytes sent per customer on a chain "
                      "(%llu of its %zu customers)\n",
                      sgs_test_world.rank, sgs_test_world.size, (double)sent / (double)on_chain,
                      (unsigned long long)on_chain, hi - lo);
    infl_free(&c);
}

static void influence_equal_one_process(size_t n, uint64_t seed, int with_clv)
{
    world_t w;
    world_make(&w, n, seed);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    infl_cols_t all, mine;
    infl_make(&all, n);
    sgs_influence_report_t one, spread;
    const double *clv = with_clv ? w.clv : NULL;
    assert_int_equal(
        sgs_influence_compute(n, w.id, w.referrer, clv, NULL, &exec, &all.out, &one, &err), SGS_OK);
    size_t lo, hi;
    share(n, &lo, &hi);
    infl_make(&mine, hi - lo);
    memset(&spread, 0xA5, sizeof spread);
    assert_int_equal(sgs_dist_influence_compute(&sgs_test_world, hi - lo, w.id + lo,
                                                w.referrer + lo, clv ? clv + lo : NULL, NULL, &exec,
                                                &mine.out, &spread, &err),
                     SGS_OK);
    size_t k = hi - lo;
    if (k > 0) {
        assert_memory_equal(mine.direct, all.direct + lo, k * sizeof(int64_t));
        assert_memory_equal(mine.indirect, all.indirect + lo, k * sizeof(int64_t));
        assert_memory_equal(mine.ref_index, all.ref_index + lo, k * sizeof(int64_t));
        assert_memory_equal(mine.nv, all.nv + lo, k * sizeof(double));
        assert_memory_equal(mine.depth, all.depth + lo, k * sizeof(int32_t));
        assert_memory_equal(mine.status, all.status + lo, k);
    }
    assert_memory_equal(&spread, &one, sizeof one);
    influence_bytes(&w, lo, hi, clv);
    if (n >= 1000) { /* the base has every case */
        sgs_assert_cmp(one.n_cycles, >=, 2);
        sgs_assert_cmp(one.n_unknown_referrers, >, 0);
        sgs_assert_cmp(one.max_depth, >=, 3);
    }
    infl_free(&all);
    infl_free(&mine);
    world_free(&w);
}

static void influence(void **state)
{
    (void)state;
    influence_equal_one_process(5000, 5, 1);
    influence_equal_one_process(3001, 6, 0);
    influence_equal_one_process(9, 7, 1);
    influence_equal_one_process(0, 8, 1);
}

/* Process 1's first customer with the id of process 0's last: not ascending at the cut, the
 * global row named. */
static void ids_not_ascending_across_processes(void **state)
{
    (void)state;
    if (sgs_test_world.size < 2)
        skip();
    const size_t n = 300;
    world_t w;
    world_make(&w, n, 9);
    size_t lo, hi;
    share(n, &lo, &hi);
    size_t lo1, hi1; /* process 1's first customer gets the id of process 0's last */
    share_of(n, 1, &lo1, &hi1);
    w.id[lo1] = w.id[lo1 - 1];
    infl_cols_t mine;
    infl_make(&mine, hi - lo);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    assert_int_equal(sgs_dist_influence_compute(&sgs_test_world, hi - lo, w.id + lo,
                                                w.referrer + lo, w.clv + lo, NULL, &exec, &mine.out,
                                                NULL, &err),
                     SGS_EDATA);
    char what[96];
    snprintf(what, sizeof what, "not strictly ascending at row %zu", lo1);
    sgs_assert_contains(err.message, what);
    infl_free(&mine);
    world_free(&w);
}

/* ---- The audit --------------------------------------------------------------------------- */

/* This process's blocks of n: blocks [nb p / N, nb (p + 1) / N) of 16,384 customers. */
static void block_share(size_t n, size_t *lo, size_t *hi)
{
    size_t nb = (n + SGS_BLOCK_ROWS - 1) / SGS_BLOCK_ROWS;
    size_t p = (size_t)sgs_test_world.rank, size = (size_t)sgs_test_world.size;
    *lo = nb * p / size * SGS_BLOCK_ROWS;
    *hi = nb * (p + 1) / size * SGS_BLOCK_ROWS;
    *lo = *lo < n ? *lo : n;
    *hi = *hi < n ? *hi : n;
}

/* The audit over the processes with their customers cut by `cut` (share or block_share). */
static void audit_equal_one_process(size_t n, uint64_t seed,
                                    void (*cut)(size_t n, size_t *lo, size_t *hi))
{
    const size_t n_groups = 5;
    world_t w;
    world_make(&w, n, seed);
    sgs_audit_config_t cfg;
    sgs_audit_config_default(&cfg);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    sgs_audit_row_t one[6], spread[6];
    int64_t one_kinds[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];
    int64_t spread_kinds[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];
    sgs_stage_input_t in = view(&w, 0, n, 0);
    assert_int_equal(sgs_audit_compute(&in, AS_OF, &cfg, w.group, n_groups, w.fired, &exec, one,
                                       one_kinds, &err),
                     SGS_OK);
    size_t lo, hi;
    cut(n, &lo, &hi);
    in = view(&w, lo, hi, 0);
    memset(spread, 0xA5, sizeof spread);
    assert_int_equal(sgs_dist_audit_compute(&sgs_test_world, &in, AS_OF, &cfg, w.group + lo,
                                            n_groups, w.fired + lo, &exec, spread, spread_kinds,
                                            &err),
                     SGS_OK);
    assert_memory_equal(spread, one, sizeof one);
    assert_memory_equal(spread_kinds, one_kinds, sizeof one_kinds);
    if (n > 1000) {
        sgs_assert_cmp(one[n_groups].surveyed, >, n / 10);
        sgs_assert_cmp(one[n_groups].untapped[0], >, 0);
    }
    world_free(&w);
}

static void audit(void **state)
{
    (void)state;
    audit_equal_one_process(3 * SGS_BLOCK_ROWS + 5000, 10, block_share); /* at the blocks */
    audit_equal_one_process(3 * SGS_BLOCK_ROWS + 5000, 11, share);       /* within blocks */
    audit_equal_one_process(SGS_BLOCK_ROWS + 3, 12, share); /* a process inside one block */
    audit_equal_one_process(9, 13, share);
    audit_equal_one_process(0, 14, share);
}

/* A group label out of range on the last process holding customers: every process's error,
 * naming the customer. */
static void audit_bad_label(void **state)
{
    (void)state;
    const size_t n = 2000;
    world_t w;
    world_make(&w, n, 15);
    w.group[n - 2] = 5;
    size_t lo, hi;
    share(n, &lo, &hi);
    sgs_stage_input_t in = view(&w, lo, hi, 0);
    sgs_audit_config_t cfg;
    sgs_audit_config_default(&cfg);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    sgs_audit_row_t rows[6];
    assert_int_equal(sgs_dist_audit_compute(&sgs_test_world, &in, AS_OF, &cfg, w.group + lo, 5,
                                            w.fired + lo, &exec, rows, NULL, &err),
                     SGS_EDATA);
    char who[64];
    snprintf(who, sizeof who, "customer %lld has group 5", (long long)w.id[n - 2]);
    sgs_assert_contains(err.message, who);
    world_free(&w);
}

/* ---- Opportunities, end to end ---------------------------------------------------------- */

/* The compare day of the opportunity step (--compare-as-of). */
#define COMPARE_DAY (AS_OF - 120)

/* The stages at the compare day: the model columns left out (engine/run_stages.c passes those of
 * that day). */
static sgs_stage_input_t at_compare_day(const sgs_stage_input_t *cu)
{
    sgs_stage_input_t then = *cu;
    then.p_buy = NULL;
    then.p_buy_model = NULL;
    then.rate_per_day = NULL;
    return then;
}

/* The columns the opportunity step reads besides the histories: stages, referrals. */
typedef struct act_cols {
    stage_cols_t stages, then; /* at the as-of day, at the compare day */
    infl_cols_t infl;
    uint16_t *fired;
    uint8_t *blocked;
    sgs_stage_input_t cu;
    sgs_opportunity_input_t in;
} act_cols_t;

static void act_make(act_cols_t *a, const world_t *w, size_t lo, size_t hi,
                     const sgs_stage_rules_t *rules)
{
    size_t n = hi - lo;
    stage_cols_alloc(&a->stages, n);
    stage_cols_alloc(&a->then, n);
    infl_make(&a->infl, n);
    NEW(a->fired, n);
    NEW(a->blocked, n);
    a->cu = view(w, lo, hi, 1);
    memset(&a->in, 0, sizeof a->in);
    a->in.customers = &a->cu;
    a->in.as_of_day = AS_OF;
    a->in.stage = a->stages.stage;
    a->in.cycle_days = a->stages.cycle;
    a->in.days_overdue = a->stages.overdue;
    a->in.stage_rules = rules;
    a->in.stage_compare = a->then.stage;
    a->in.compare_day = COMPARE_DAY;
    a->in.n_direct_referrals = a->infl.direct;
    a->in.n_indirect_referrals = a->infl.indirect;
    a->in.network_value = a->infl.nv;
    a->in.rfm_segment = w->rfm + lo;
}

static void act_free(act_cols_t *a)
{
    stage_cols_free(&a->stages);
    stage_cols_free(&a->then);
    infl_free(&a->infl);
    sgs_free(a->fired);
    sgs_free(a->blocked);
}

/* One process's whole step, as engine/run_opportunities.c and the CSV writer make it. */
typedef struct one_list {
    sgs_opportunity_stats_t stats;
    int64_t n_fired[SGS_OPP_KIND_COUNT], n_customers, n_candidates; /* before the policy */
    sgs_audit_row_t audit_stage[SGS_STAGE_COUNT + 1], audit_rfm[SGS_RFM_SEGMENT_COUNT + 2];
    int64_t untapped[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];
    sgs_contact_policy_stats_t policy;
    sgs_opportunity_rows_t rows;
    size_t n_rows;
    sgs_opportunity_list_summary_t summary;
    char (*reason)[SGS_OPPORTUNITY_REASON_MAX];
    double value_listed[SGS_OPP_KIND_COUNT];
} one_list_t;

static void one_process_list(act_cols_t *a, const sgs_opportunity_config_t *cfg,
                             const sgs_audit_config_t *audit_cfg, one_list_t *o)
{
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    size_t n = a->cu.n;
    assert_int_equal(sgs_opportunities_detect(&a->in, cfg, &exec, a->fired, &o->stats, &err),
                     SGS_OK);
    memcpy(o->n_fired, o->stats.n_fired, sizeof o->n_fired);
    o->n_customers = o->stats.n_customers;
    o->n_candidates = o->stats.n_candidates;
    assert_int_equal(sgs_audit_compute(&a->cu, AS_OF, audit_cfg, a->stages.stage, SGS_STAGE_COUNT,
                                       a->fired, &exec, o->audit_stage, o->untapped, &err),
                     SGS_OK);
    assert_int_equal(sgs_audit_compute(&a->cu, AS_OF, audit_cfg, a->in.rfm_segment,
                                       SGS_RFM_SEGMENT_COUNT + 1, a->fired, &exec, o->audit_rfm,
                                       NULL, &err),
                     SGS_OK);
    assert_int_equal(sgs_contact_policy_apply(&a->in, cfg, &exec, a->fired, a->blocked, &o->stats,
                                              &o->policy, &err),
                     SGS_OK);
    a->in.blocked_channels = a->blocked;
    size_t cap = (size_t)o->stats.n_candidates + 1;
    NEW(o->rows.customer_index, cap);
    NEW(o->rows.kind, cap);
    NEW(o->rows.priority, cap);
    NEW(o->rows.value_at_stake, cap);
    NEW(o->rows.channel, cap);
    NEW(o->rows.rank, cap);
    NEW(o->rows.control, cap);
    assert_int_equal(sgs_opportunities_rank(&a->in, cfg, &o->stats, a->fired, &exec, &o->rows, cap,
                                            &o->n_rows, &o->summary, &err),
                     SGS_OK);
    NEW(o->reason, o->n_rows);
    for (size_t r = 0; r < o->n_rows; r++) {
        int len = sgs_opportunity_reason(&a->in, cfg, &o->stats, (size_t)o->rows.customer_index[r],
                                         o->rows.kind[r], o->reason[r], SGS_OPPORTUNITY_REASON_MAX);
        sgs_assert_cmp(len, >, 0);
    }
    size_t count[SGS_OPP_KIND_COUNT];
    assert_int_equal(sgs_category_totals(o->n_rows, o->rows.kind, SGS_OPP_KIND_COUNT,
                                         o->rows.value_at_stake, count, o->value_listed, &err),
                     SGS_OK);
    (void)n;
}

static void one_list_free(one_list_t *o)
{
    sgs_opportunity_stats_free(&o->stats);
    sgs_free(o->rows.customer_index);
    sgs_free(o->rows.kind);
    sgs_free(o->rows.priority);
    sgs_free(o->rows.value_at_stake);
    sgs_free(o->rows.channel);
    sgs_free(o->rows.rank);
    sgs_free(o->rows.control);
    sgs_free(o->reason);
}

/* this process's stretch against the rows of the whole list it holds */
static void stretch_equal(const sgs_dist_actions_list_t *l, const one_list_t *o,
                          const act_cols_t *all)
{
    const sgs_dist_opportunity_list_t *s = &l->list;
    size_t at = (size_t)s->first_rank - 1, k = s->n_rows;
    sgs_assert_cmp(at + k, <=, o->n_rows);
    if (k > 0) {
        assert_memory_equal(s->rows.customer_index, o->rows.customer_index + at, k * 8);
        assert_memory_equal(s->rows.kind, o->rows.kind + at, k);
        assert_memory_equal(s->rows.priority, o->rows.priority + at, k * 4);
        assert_memory_equal(s->rows.value_at_stake, o->rows.value_at_stake + at, k * 8);
        assert_memory_equal(s->rows.channel, o->rows.channel + at, k);
        assert_memory_equal(s->rows.rank, o->rows.rank + at, k * 8);
        assert_memory_equal(s->rows.control, o->rows.control + at, k);
    }
    const sgs_dist_row_facts_t *f = &l->facts;
    for (size_t r = 0; r < k; r++) {
        size_t len = f->reason_offset[r + 1] - f->reason_offset[r];
        const char *want = o->reason[at + r];
        if (len != strlen(want) || memcmp(f->reason_text + f->reason_offset[r], want, len) != 0)
            fail_msg("row %zu: reason \"%.*s\" over the processes, \"%s\" in one", at + r, (int)len,
                     f->reason_text + f->reason_offset[r], want);
        /* the customer's columns the CSV prints, from its owner */
        size_t i = (size_t)o->rows.customer_index[at + r];
        assert_int_equal(f->stage[r], all->stages.stage[i]);
        assert_int_equal(f->segment[r], all->cu.segment[i]);
        assert_int_equal(f->rfm_segment[r], all->in.rfm_segment[i]);
    }
    int64_t listed = (int64_t)k;
    sgs_dist_reduce_i64(&sgs_test_world, &listed, 1, SGS_DIST_SUM);
    assert_int_equal(listed, (int64_t)o->n_rows); /* the stretches make the whole list */
}

/* What sgs_dist_opportunity_reasons sends from this process is what engine/dist_actions.h
 * says: 8 bytes per row of its stretch whose customer is another process's, 6 bytes, the text
 * and a NUL per row of its customers in another's stretch, and its first customer's index (8 bytes)
 * to every other process; the texts again equal to the first call's. Printed per listed row, over
 * all processes. */
static void reason_bytes(const act_cols_t *mine, const sgs_opportunity_config_t *cfg,
                         const sgs_dist_actions_list_t *l, const one_list_t *o, size_t lo,
                         size_t hi)
{
    const sgs_dist_opportunity_list_t *s = &l->list;
    int64_t span[2] = {s->first_rank - 1, (int64_t)s->n_rows}, *spans = NULL;
    sgs_error_t err = {0};
    assert_int_equal(
        sgs_dist_gather_all(&sgs_test_world, span, sizeof span, (void **)&spans, NULL, &err),
        SGS_OK);
    uint64_t expected = 8 * (uint64_t)(sgs_test_world.size - 1);
    for (size_t r = 0; r < o->n_rows; r++) {
        size_t i = (size_t)o->rows.customer_index[r];
        int holder = 0;
        while (!(span[0] = spans[2 * holder],
                 (int64_t)r >= span[0] && (int64_t)r < span[0] + spans[2 * holder + 1]))
            holder++;
        int mine_row = holder == sgs_test_world.rank, my_customer = i >= lo && i < hi;
        if (mine_row && !my_customer)
            expected += SGS_DIST_REASON_REQUEST_BYTES;
        if (my_customer && !mine_row)
            expected += SGS_DIST_ROW_FACTS_BYTES + strlen(o->reason[r]) + 1;
    }
    sgs_free(spans);
    sgs_dist_row_facts_t f;
    uint64_t before = sgs_dist_bytes_sent();
    assert_int_equal(
        sgs_dist_opportunity_reasons(&sgs_test_world, &mine->in, cfg, &l->stats, s, &f, &err),
        SGS_OK);
    uint64_t sent = sgs_dist_bytes_sent() - before;
    assert_int_equal(sent, expected);
    const sgs_dist_row_facts_t *g = &l->facts;
    assert_memory_equal(f.reason_offset, g->reason_offset,
                        (s->n_rows + 1) * sizeof *f.reason_offset);
    if (f.reason_offset[s->n_rows] > 0)
        assert_memory_equal(f.reason_text, g->reason_text, f.reason_offset[s->n_rows]);
    sgs_dist_row_facts_free(&f);
    int64_t total[2] = {(int64_t)sent, (int64_t)s->n_rows};
    sgs_dist_reduce_i64(&sgs_test_world, total, 2, SGS_DIST_SUM);
    if (sgs_test_world.rank == 0 && total[1] > 0)
        print_message("reasons, %d processes: %.1f bytes sent per listed row (%lld rows)\n",
                      sgs_test_world.size, (double)total[0] / (double)total[1],
                      (long long)total[1]);
}

static void opportunities_equal_one_process(uint64_t seed, int all_opportunities)
{
    const size_t n = 3 * SGS_BLOCK_ROWS + 777;
    world_t w;
    world_make(&w, n, seed);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    sgs_stage_rules_t rules;
    sgs_stage_rules_default(&rules);
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    cfg.all_opportunities = all_opportunities;
    for (int c = 1; c < SGS_CHANNEL_COUNT; c++) /* rows spill and are left out */
        cfg.channel_capacity[c] = 300 * c;
    sgs_audit_config_t audit_cfg;
    sgs_audit_config_default(&audit_cfg);
    /* one process: the kernels on the whole base */
    act_cols_t all;
    act_make(&all, &w, 0, n, &rules);
    assert_int_equal(sgs_stages_compute(&all.cu, AS_OF, &rules, &exec, &all.stages.out, NULL, &err),
                     SGS_OK);
    sgs_stage_input_t then = at_compare_day(&all.cu);
    assert_int_equal(
        sgs_stages_compute(&then, COMPARE_DAY, &rules, &exec, &all.then.out, NULL, &err), SGS_OK);
    assert_int_equal(
        sgs_influence_compute(n, w.id, w.referrer, w.clv, NULL, &exec, &all.infl.out, NULL, &err),
        SGS_OK);
    one_list_t one;
    memset(&one, 0, sizeof one);
    one_process_list(&all, &cfg, &audit_cfg, &one);
    /* this process's share: stages, influence and the step over the processes */
    size_t lo, hi;
    share(n, &lo, &hi);
    act_cols_t mine;
    act_make(&mine, &w, lo, hi, &rules);
    assert_int_equal(sgs_dist_stages_compute(&sgs_test_world, &mine.cu, AS_OF, &rules, &exec,
                                             &mine.stages.out, NULL, &err),
                     SGS_OK);
    then = at_compare_day(&mine.cu);
    assert_int_equal(sgs_dist_stages_compute(&sgs_test_world, &then, COMPARE_DAY, &rules, &exec,
                                             &mine.then.out, NULL, &err),
                     SGS_OK);
    assert_int_equal(sgs_dist_influence_compute(&sgs_test_world, hi - lo, w.id + lo,
                                                w.referrer + lo, w.clv + lo, NULL, &exec,
                                                &mine.infl.out, NULL, &err),
                     SGS_OK);
    sgs_dist_actions_list_t l;
    assert_int_equal(sgs_dist_actions_opportunities(&sgs_test_world, &mine.in, &cfg, &audit_cfg,
                                                    &exec, mine.fired, mine.blocked, &l, &err),
                     SGS_OK);
    /* every process's part against the single-process step */
    if (hi > lo) {
        assert_memory_equal(mine.fired, all.fired + lo, (hi - lo) * sizeof *mine.fired);
        assert_memory_equal(mine.blocked, all.blocked + lo, hi - lo);
    }
    assert_memory_equal(l.detected.n_fired, one.n_fired, sizeof one.n_fired);
    assert_int_equal(l.detected.n_customers, one.n_customers);
    assert_int_equal(l.detected.n_candidates, one.n_candidates);
    assert_memory_equal(&l.policy, &one.policy, sizeof one.policy);
    assert_true(l.audit_ran);
    assert_memory_equal(l.audit_stage, one.audit_stage, sizeof one.audit_stage);
    assert_memory_equal(l.audit_rfm, one.audit_rfm, sizeof one.audit_rfm);
    assert_memory_equal(l.audit_untapped_per_kind, one.untapped, sizeof one.untapped);
    assert_memory_equal(&l.list.summary, &one.summary, sizeof one.summary);
    stretch_equal(&l, &one, &all);
    reason_bytes(&mine, &cfg, &l, &one, lo, hi);
    assert_memory_equal(l.value_listed_per_kind, one.value_listed, sizeof one.value_listed);
    /* the base exercises the step: rows left out, held back, blocked, control rows */
    sgs_assert_cmp(one.summary.n_left_out, >, 0);
    sgs_assert_cmp(one.summary.n_spilled, >, 0);
    sgs_assert_cmp(one.summary.n_control, >, 0);
    sgs_assert_cmp(one.policy.n_held_back, >, 0);
    sgs_assert_cmp(one.policy.n_with_blocked_channel, >, 0);
    sgs_assert_cmp(one.n_rows, >, 1000);
    size_t worded_with_compare = 0; /* win back's reason names the stage at the compare day */
    for (size_t r = 0; r < one.n_rows; r++)
        worded_with_compare += strstr(one.reason[r], "lapsed since") != NULL;
    sgs_assert_cmp(worded_with_compare, >, 0);
    sgs_dist_actions_list_free(&l);
    one_list_free(&one);
    act_free(&all);
    act_free(&mine);
    world_free(&w);
}

static void opportunities(void **state)
{
    (void)state;
    opportunities_equal_one_process(21, 0);
    opportunities_equal_one_process(22, 1);
}

/* ---- Out of memory on one process ------------------------------------------------------- */

/* One of the spread calls on the last process's share of a small base (block_share: the last
 * process holds every customer of fewer than 16,384, the others none). */
typedef int (*spread_call_t)(act_cols_t *a, const world_t *w, size_t lo, size_t hi,
                             sgs_error_t *err);

static int call_stages(act_cols_t *a, const world_t *w, size_t lo, size_t hi, sgs_error_t *err)
{
    (void)w, (void)lo, (void)hi;
    sgs_exec_t exec = {.n_threads = 1};
    return sgs_dist_stages_compute(&sgs_test_world, &a->cu, AS_OF, a->in.stage_rules, &exec,
                                   &a->stages.out, NULL, err);
}

static int call_influence(act_cols_t *a, const world_t *w, size_t lo, size_t hi, sgs_error_t *err)
{
    sgs_exec_t exec = {.n_threads = 1};
    sgs_influence_report_t report;
    return sgs_dist_influence_compute(&sgs_test_world, hi - lo, w->id + lo, w->referrer + lo,
                                      w->clv + lo, NULL, &exec, &a->infl.out, &report, err);
}

static int call_opportunities(act_cols_t *a, const world_t *w, size_t lo, size_t hi,
                              sgs_error_t *err)
{
    (void)w, (void)lo, (void)hi;
    sgs_exec_t exec = {.n_threads = 1};
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    cfg.channel_capacity[SGS_CHANNEL_PHONE] = 20;
    sgs_audit_config_t audit_cfg;
    sgs_audit_config_default(&audit_cfg);
    sgs_dist_actions_list_t l;
    int rc = sgs_dist_actions_opportunities(&sgs_test_world, &a->in, &cfg, &audit_cfg, &exec,
                                            a->fired, a->blocked, &l, err);
    if (rc == SGS_OK)
        sgs_assert_cmp(l.list.summary.n_listed, >, 20);
    else
        assert_true(!l.facts.reason_text && !l.facts.stage && !l.list.rows.rank &&
                    !l.stats.segment_clv_median);
    sgs_dist_actions_list_free(&l);
    return rc;
}

typedef struct sweep_ctx {
    spread_call_t call;
    act_cols_t *a;
    const world_t *w;
    size_t lo, hi;
} sweep_ctx_t;

static int sweep_call(void *ctx, sgs_error_t *err)
{
    sweep_ctx_t *c = ctx;
    return c->call(c->a, c->w, c->lo, c->hi, err);
}

/* Every allocation of the call failing in turn on the last process: every process returns
 * SGS_ENOMEM with the last process's message (none waits for another), and the call works
 * again afterwards (tests/support/test_mpi.h sgs_test_mpi_alloc_sweep). */
static void sweep(spread_call_t call, const char *name)
{
    const size_t n = 600;
    world_t w;
    world_make(&w, n, 31);
    size_t lo, hi;
    block_share(n, &lo, &hi);
    sgs_stage_rules_t rules;
    sgs_stage_rules_default(&rules);
    act_cols_t a;
    act_make(&a, &w, lo, hi, &rules);
    sgs_error_t err = {0};
    assert_int_equal(call_stages(&a, &w, lo, hi, &err), SGS_OK); /* the step's inputs */
    assert_int_equal(call_influence(&a, &w, lo, hi, &err), SGS_OK);
    sweep_ctx_t c = {call, &a, &w, lo, hi};
    sgs_test_mpi_alloc_sweep(sweep_call, &c, name, 3);
    act_free(&a);
    world_free(&w);
}

static void out_of_memory_on_one_process(void **state)
{
    (void)state;
    sweep(call_stages, "stages");
    sweep(call_influence, "influence");
    sweep(call_opportunities, "opportunities");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stages),        cmocka_unit_test(a_bad_label_is_everyones_error),
        cmocka_unit_test(influence),     cmocka_unit_test(ids_not_ascending_across_processes),
        cmocka_unit_test(audit),         cmocka_unit_test(audit_bad_label),
        cmocka_unit_test(opportunities), cmocka_unit_test(out_of_memory_on_one_process),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
