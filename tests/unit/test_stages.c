/*
 * tests/unit/test_stages.c — order statistics, purchase cycle sources, every stage rule at
 * the edges of its thresholds, transitions, time in stage, errors, and identical bits for
 * 1, 2 and 3 threads.
 *
 * Most cases use as_of = 1000 and a model rate of 1/8 per day, so the cycle is exactly 8
 * days and every threshold edge is an exact integer day.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/order_stats.h"
#include "kernels/stages.h"
#include "kernels/tables.h"
#include "tests/support/test_support.h"
#include "tests/unit/history_builder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AS_OF 1000

/* Outputs of one sgs_stages_compute call over a builder. */
typedef struct run {
    uint8_t stage[HB_MAX_CUSTOMERS];
    double cycle[HB_MAX_CUSTOMERS];
    double overdue[HB_MAX_CUSTOMERS];
    uint8_t source[HB_MAX_CUSTOMERS];
    double gap[HB_MAX_CUSTOMERS];
    int32_t n_days[HB_MAX_CUSTOMERS];
    double seg_cycle[4];
    sgs_stage_summary_t summary;
} run_t;

static void run_stages(const hb_t *h, const sgs_stage_input_t *in, int32_t as_of,
                       const sgs_stage_rules_t *rules, run_t *r)
{
    (void)h;
    memset(r, 0xAB, sizeof *r);
    sgs_stage_output_t out = {r->stage, r->cycle,  r->overdue,   r->source,
                              r->gap,   r->n_days, r->seg_cycle, 4};
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    int rc = sgs_stages_compute(in, as_of, rules, &exec, &out, &r->summary, &err);
    if (rc)
        fail_msg("sgs_stages_compute: %s", err.message);
}

static void assert_stage(const run_t *r, size_t i, int expected)
{
    if (r->stage[i] != expected)
        fail_msg("customer %zu: stage %s, expected %s", i, sgs_stage_name(r->stage[i]),
                 sgs_stage_name(expected));
}

/* ---- order statistics ---------------------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_select_matches_sorting(void **state)
{
    (void)state;
    enum { N = 2001 };
    static double x[N], sorted[N], work[N];
    uint64_t seed = 12345;
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < N; i++) {
            /* rounds 2 and 3: many ties */
            double u = sgs_rng_uniform(seed, (uint64_t)round, i);
            x[i] = round >= 2 ? floor(u * 7.0) : u * 100.0;
        }
        memcpy(sorted, x, sizeof x);
        qsort(sorted, N, sizeof *sorted, cmp_d);
        size_t ks[] = {0, 1, N / 2, N - 2, N - 1, 777};
        for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
            memcpy(work, x, sizeof x);
            double got = sgs_select_kth(work, N, ks[t]);
            if (got != sorted[ks[t]])
                fail_msg("seed %llu round %d k %zu: got %g expected %g", (unsigned long long)seed,
                         round, ks[t], got, sorted[ks[t]]);
        }
    }
    /* already sorted and reversed inputs */
    for (size_t i = 0; i < N; i++)
        x[i] = (double)i;
    sgs_assert_cmp(sgs_select_kth(x, N, 1000), ==, 1000.0);
    for (size_t i = 0; i < N; i++)
        x[i] = (double)(N - i);
    sgs_assert_cmp(sgs_select_kth(x, N, 0), ==, 1.0);
}

static void test_median_and_quantile(void **state)
{
    (void)state;
    double a[] = {5, 1, 4, 2, 3};
    sgs_assert_cmp(sgs_median_inplace(a, 5), ==, 3.0);
    double b[] = {8, 1, 2, 16};
    sgs_assert_cmp(sgs_median_inplace(b, 4), ==, 5.0); /* (2 + 8) / 2 */
    sgs_assert_nan(sgs_median_inplace(b, 0));
    double c[] = {10, 50, 30, 20, 40};
    /* nearest rank: ceil(0.8*5) = 4th smallest = 40; ceil(0.81*5) = 5th = 50 */
    sgs_assert_cmp(sgs_quantile_nearest_rank_inplace(c, 5, 0.8), ==, 40.0);
    sgs_assert_cmp(sgs_quantile_nearest_rank_inplace(c, 5, 0.81), ==, 50.0);
    sgs_assert_cmp(sgs_quantile_nearest_rank_inplace(c, 5, 0.0), ==, 10.0);
    sgs_assert_cmp(sgs_quantile_nearest_rank_inplace(c, 5, 1.0), ==, 50.0);
    sgs_assert_nan(sgs_quantile_nearest_rank_inplace(c, 5, (double)NAN));
    double v[] = {1, NAN, 3, 100, 7, 9, INFINITY};
    uint8_t keep[] = {1, 1, 1, 0, 1, 1, 1};
    double q = 0;
    assert_int_equal(sgs_quantile_of(7, v, keep, 0.5, &q, NULL), 0);
    sgs_assert_cmp(q, ==, 3.0); /* of {1, 3, 7, 9}: rank ceil(2) = 2 -> 3 */
    assert_int_equal(sgs_quantile_of(7, v, keep, (double)NAN, &q, NULL), 0);
    sgs_assert_nan(q);
}

static void test_group_medians(void **state)
{
    (void)state;
    double v[] = {1, 2, 3, 10, 20, NAN, 7, 100};
    int32_t g[] = {0, 0, 0, 1, 1, 1, -1, 2};
    double med[4];
    double overall = 0;
    sgs_exec_t exec = {.n_threads = 3};
    assert_int_equal(sgs_group_medians(8, v, g, 4, med, &overall, &exec, NULL), 0);
    sgs_assert_cmp(med[0], ==, 2.0);
    sgs_assert_cmp(med[1], ==, 15.0);
    sgs_assert_cmp(med[2], ==, 100.0);
    sgs_assert_nan(med[3]);
    sgs_assert_cmp(overall, ==, 7.0); /* of {1,2,3,7,10,20,100} */
    sgs_error_t err = {0};
    assert_int_equal(sgs_group_medians(8, v, g, 2, med, &overall, &exec, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "row 7");
}

/* ---- cycle ---------------------------------------------------------------------------- */

static void test_cycle_sources(void **state)
{
    (void)state;
    hb_t h;
    hb_init(&h);
    /* 0: model, 2 purchase days, rate 1/8 */
    hb_customer(&h, 1);
    hb_buy(&h, 990);
    hb_buy(&h, 995);
    h.rate[0] = 0.125;
    /* 1: observed (rate NaN), days 900, 910, 930 (+ a duplicate day): mean gap 15 */
    hb_customer(&h, 2);
    hb_buy(&h, 900);
    hb_buy(&h, 910);
    hb_buy(&h, 910);
    hb_buy(&h, 930);
    h.segment[1] = 0;
    /* 2..4: segment 0 members with 3 purchase days and model cycles 16, 32 (and 15 from
     * customer 1): segment median of {15, 16, 32} = 16 */
    hb_customer(&h, 3);
    hb_buy_every(&h, 950, 10, 3);
    h.rate[2] = 1.0 / 16.0;
    h.segment[2] = 0;
    hb_customer(&h, 4);
    hb_buy_every(&h, 950, 10, 3);
    h.rate[3] = 1.0 / 32.0;
    h.segment[3] = 0;
    /* 4: one purchase day in segment 0 -> segment cycle 16 */
    hb_customer(&h, 5);
    hb_buy(&h, 999);
    h.segment[4] = 0;
    /* 5: one purchase day, no segment -> global median of {15, 16, 32} (customer 0 has
     * only 2 purchase days and does not count) = 16 */
    hb_customer(&h, 6);
    hb_buy(&h, 999);
    /* 6: one purchase day, segment 1 nobody qualifies for -> global */
    hb_customer(&h, 7);
    hb_buy(&h, 999);
    h.segment[6] = 1;
    /* 7: purchases after as_of only count as not-yet: 1 day before as_of */
    hb_customer(&h, 8);
    hb_buy(&h, 980);
    hb_buy(&h, 1005);
    h.rate[7] = 0.5; /* ignored: only 1 purchase day on or before as_of */
    sgs_stage_input_t in = hb_input(&h);
    run_t r;
    run_stages(&h, &in, AS_OF, NULL, &r);
    sgs_assert_cmp(r.cycle[0], ==, 8.0);
    assert_int_equal(r.source[0], SGS_CYCLE_MODEL);
    sgs_assert_cmp(r.cycle[1], ==, 15.0);
    assert_int_equal(r.source[1], SGS_CYCLE_OBSERVED);
    sgs_assert_cmp(r.gap[1], ==, 15.0);
    assert_int_equal(r.n_days[1], 3);
    sgs_assert_cmp(r.cycle[2], ==, 16.0);
    sgs_assert_cmp(r.gap[2], ==, 10.0); /* observed gap beside the model cycle */
    sgs_assert_cmp(r.cycle[4], ==, 16.0);
    assert_int_equal(r.source[4], SGS_CYCLE_SEGMENT);
    sgs_assert_nan(r.gap[4]);
    sgs_assert_cmp(r.cycle[5], ==, 16.0);
    assert_int_equal(r.source[5], SGS_CYCLE_GLOBAL);
    assert_int_equal(r.source[6], SGS_CYCLE_GLOBAL);
    assert_int_equal(r.source[7], SGS_CYCLE_GLOBAL);
    assert_int_equal(r.n_days[7], 1);
    sgs_assert_cmp(r.overdue[7], ==, 20.0 - 16.0);
    sgs_assert_cmp(r.seg_cycle[0], ==, 16.0);
    sgs_assert_nan(r.seg_cycle[1]);
    sgs_assert_nan(r.seg_cycle[2]);
    assert_int_equal(r.summary.n_segments, 2);
    sgs_assert_cmp(r.summary.global_cycle_days, ==, 16.0);
    assert_int_equal(r.summary.n_per_cycle_source[SGS_CYCLE_MODEL], 3);
    assert_int_equal(r.summary.n_per_cycle_source[SGS_CYCLE_OBSERVED], 1);
    assert_int_equal(r.summary.n_per_cycle_source[SGS_CYCLE_SEGMENT], 1);
    assert_int_equal(r.summary.n_per_cycle_source[SGS_CYCLE_GLOBAL], 3);

    /* Without a model: own cycles come from observed gaps; nobody with 3 days -> default */
    hb_init(&h);
    hb_customer(&h, 1);
    hb_buy(&h, 990);
    hb_buy(&h, 996);
    hb_customer(&h, 2);
    hb_buy(&h, 999);
    in = hb_input(&h);
    in.rate_per_day = NULL;
    in.p_buy = NULL;
    run_stages(&h, &in, AS_OF, NULL, &r);
    sgs_assert_cmp(r.cycle[0], ==, 6.0);
    assert_int_equal(r.source[0], SGS_CYCLE_OBSERVED);
    sgs_assert_cmp(r.cycle[1], ==, 90.0);
    assert_int_equal(r.source[1], SGS_CYCLE_DEFAULT);
    sgs_assert_cmp(r.summary.global_cycle_days, ==, 90.0);
}

/* ---- stages: none, prospect, cancelled ------------------------------------------------- */

static void test_none_prospect_cancelled(void **state)
{
    (void)state;
    hb_t h;
    hb_init(&h);
    size_t plain = hb_customer(&h, 1); /* known, nothing at all: prospect */
    size_t later = hb_customer(&h, 2); /* first purchase after as_of, no signup: none */
    hb_buy(&h, 1001);
    size_t later_ev = hb_customer(&h, 3); /* same but an event before: known, prospect */
    hb_buy(&h, 1001);
    hb_event(&h, 1000, SGS_EVENT_SUPPORT, NAN);
    size_t signup_late = hb_customer(&h, 4); /* signup after as_of: none */
    h.signup[signup_late] = 1001;
    size_t signup_edge = hb_customer(&h, 5); /* signup on as_of: prospect */
    h.signup[signup_edge] = 1000;
    size_t cancel = hb_customer(&h, 6); /* bought 990, cancelled 995: cancelled */
    hb_buy(&h, 990);
    hb_event(&h, 995, SGS_EVENT_CANCELLED, NAN);
    size_t cancel_same = hb_customer(&h, 7); /* purchase on the cancellation day: cancelled */
    hb_buy(&h, 995);
    hb_event(&h, 995, SGS_EVENT_CANCELLED, NAN);
    size_t cancel_buy = hb_customer(&h, 8); /* purchase the day after: not cancelled */
    hb_buy(&h, 990);
    hb_event(&h, 995, SGS_EVENT_CANCELLED, NAN);
    hb_buy(&h, 996);
    size_t cancel_renew = hb_customer(&h, 9); /* renewed after: not cancelled */
    hb_buy(&h, 990);
    hb_event(&h, 995, SGS_EVENT_CANCELLED, NAN);
    hb_event(&h, 996, SGS_EVENT_RENEWED, NAN);
    size_t cancel_future = hb_customer(&h, 10); /* cancellation after as_of: ignored */
    hb_buy(&h, 990);
    hb_event(&h, 1001, SGS_EVENT_CANCELLED, NAN);
    size_t cancel_prospect = hb_customer(&h, 11); /* never bought, cancelled */
    hb_event(&h, 900, SGS_EVENT_CANCELLED, NAN);
    for (size_t i = 0; i < h.n; i++)
        h.rate[i] = 0.125;
    sgs_stage_input_t in = hb_input(&h);
    run_t r;
    run_stages(&h, &in, AS_OF, NULL, &r);
    assert_stage(&r, plain, SGS_STAGE_PROSPECT);
    sgs_assert_nan(r.overdue[plain]);
    assert_stage(&r, later, SGS_STAGE_NONE);
    assert_stage(&r, later_ev, SGS_STAGE_PROSPECT);
    assert_stage(&r, signup_late, SGS_STAGE_NONE);
    assert_stage(&r, signup_edge, SGS_STAGE_PROSPECT);
    assert_stage(&r, cancel, SGS_STAGE_CANCELLED);
    assert_stage(&r, cancel_same, SGS_STAGE_CANCELLED);
    /* days 990 and 996 (cycle 8): the purchase on 996 is the first after the cancellation
     * of 995, 4 days ago: reactivated */
    assert_stage(&r, cancel_buy, SGS_STAGE_REACTIVATED);
    /* one purchase day, so the cycle is the default 90 (nobody has 3 days): new */
    assert_stage(&r, cancel_renew, SGS_STAGE_NEW);
    assert_stage(&r, cancel_future, SGS_STAGE_NEW);
    assert_stage(&r, cancel_prospect, SGS_STAGE_CANCELLED);
    assert_int_equal(r.summary.n_per_stage[SGS_STAGE_CANCELLED], 3);
    assert_int_equal(r.summary.n_per_stage[SGS_STAGE_NONE], 2);
    assert_int_equal(r.summary.n_per_stage[SGS_STAGE_PROSPECT], 3);
    assert_int_equal(r.summary.n_per_stage[SGS_STAGE_NEW], 2);
    assert_int_equal(r.summary.n_per_stage[SGS_STAGE_REACTIVATED], 1);

    /* with no signup column at all, customer 4 and 5 are prospects (known, no purchase) */
    in.signup_day = NULL;
    run_stages(&h, &in, AS_OF, NULL, &r);
    assert_stage(&r, signup_late, SGS_STAGE_PROSPECT);
    assert_stage(&r, later, SGS_STAGE_NONE);
}

/* ---- stages: at risk and lapsed edges --------------------------------------------------- */

/* A customer with a model cycle of 8 days: purchases at last-8 and last. */
static size_t cycle8_customer(hb_t *h, int64_t id, int32_t last, double p_buy)
{
    size_t i = hb_customer(h, id);
    hb_buy(h, last - 8);
    hb_buy(h, last);
    h->rate[i] = 0.125;
    h->p_buy[i] = p_buy;
    return i;
}

static void test_at_risk_and_lapsed_edges(void **state)
{
    (void)state;
    hb_t h;
    hb_init(&h);
    /* p_buy unknown: at risk when days overdue > 1 cycle (8), i.e. days since last > 16;
     * lapsed when days overdue > 3 cycles (24), i.e. days since last > 32 */
    size_t since16 = cycle8_customer(&h, 1, AS_OF - 16, NAN);
    size_t since17 = cycle8_customer(&h, 2, AS_OF - 17, NAN);
    size_t since32 = cycle8_customer(&h, 3, AS_OF - 32, NAN);
    size_t since33 = cycle8_customer(&h, 4, AS_OF - 33, NAN);
    /* p_buy known: it alone decides, at risk below 0.5, lapsed below 0.2 */
    size_t p50 = cycle8_customer(&h, 5, AS_OF - 1, 0.5);
    size_t p49 = cycle8_customer(&h, 6, AS_OF - 1, 0.4999);
    size_t p20 = cycle8_customer(&h, 7, AS_OF - 1, 0.2);
    size_t p19 = cycle8_customer(&h, 8, AS_OF - 1, 0.1999);
    size_t silent_likely = cycle8_customer(&h, 9, AS_OF - 60, 0.9); /* 6.5 cycles overdue */
    /* new comes first: first purchase 5 days ago (<= 1 cycle), p_buy 0.1 */
    size_t new_unlikely = hb_customer(&h, 10);
    hb_buy(&h, AS_OF - 5);
    hb_buy(&h, AS_OF - 1);
    h.rate[new_unlikely] = 0.125;
    h.p_buy[new_unlikely] = 0.1;
    sgs_stage_input_t in = hb_input(&h);
    run_t r;
    run_stages(&h, &in, AS_OF, NULL, &r);
    sgs_assert_cmp(r.overdue[since16], ==, 8.0);
    assert_stage(&r, since16, SGS_STAGE_ACTIVE);
    sgs_assert_cmp(r.overdue[since17], ==, 9.0);
    assert_stage(&r, since17, SGS_STAGE_AT_RISK);
    assert_stage(&r, since32, SGS_STAGE_AT_RISK);
    assert_stage(&r, since33, SGS_STAGE_LAPSED);
    sgs_assert_cmp(r.overdue[p50], ==, -7.0);
    assert_stage(&r, p50, SGS_STAGE_ACTIVE);
    assert_stage(&r, p49, SGS_STAGE_AT_RISK);
    assert_stage(&r, p20, SGS_STAGE_AT_RISK);
    assert_stage(&r, p19, SGS_STAGE_LAPSED);
    assert_stage(&r, silent_likely, SGS_STAGE_ACTIVE);
    assert_stage(&r, new_unlikely, SGS_STAGE_NEW);

    /* the rule table is configurable: at risk after 0.5 cycles overdue (> 4 days) */
    sgs_stage_rules_t rules;
    sgs_stage_rules_default(&rules);
    rules.at_risk_overdue_cycles = 0.5;
    rules.at_risk_p_buy = 0.3;
    run_stages(&h, &in, AS_OF, &rules, &r);
    assert_stage(&r, since16, SGS_STAGE_AT_RISK);
    assert_stage(&r, p49, SGS_STAGE_ACTIVE);

    /* without p_buy the overdue rules decide for everyone */
    in.p_buy = NULL;
    run_stages(&h, &in, AS_OF, NULL, &r);
    assert_stage(&r, p19, SGS_STAGE_ACTIVE);
    assert_stage(&r, since33, SGS_STAGE_LAPSED);
    assert_stage(&r, silent_likely, SGS_STAGE_LAPSED);
}

/* ---- stages: new, reactivated, loyal ----------------------------------------------------- */

static void test_new_edges(void **state)
{
    (void)state;
    hb_t h;
    hb_init(&h);
    /* new while days since first purchase <= 1 cycle (8) */
    size_t first8 = hb_customer(&h, 1);
    hb_buy(&h, AS_OF - 8);
    hb_buy(&h, AS_OF - 2);
    h.rate[first8] = 0.125;
    size_t first9 = hb_customer(&h, 2);
    hb_buy(&h, AS_OF - 9);
    hb_buy(&h, AS_OF - 2);
    h.rate[first9] = 0.125;
    /* a single purchase: the cycle is the global median (default 90 here) */
    size_t single = hb_customer(&h, 3);
    hb_buy(&h, AS_OF - 90);
    size_t single91 = hb_customer(&h, 4);
    hb_buy(&h, AS_OF - 91);
    sgs_stage_input_t in = hb_input(&h);
    run_t r;
    run_stages(&h, &in, AS_OF, NULL, &r);
    assert_stage(&r, first8, SGS_STAGE_NEW);
    assert_stage(&r, first9, SGS_STAGE_ACTIVE);
    assert_stage(&r, single, SGS_STAGE_NEW);
    sgs_assert_cmp(r.cycle[single], ==, 90.0);
    assert_stage(&r, single91, SGS_STAGE_ACTIVE);
    sgs_assert_cmp(r.overdue[single91], ==, 1.0);
}

static void test_reactivated_edges(void **state)
{
    (void)state;
    hb_t h;
    hb_init(&h);
    /* lapse gap > (1 + 3) * 8 = 32 days; reactivated while the return is <= 8 days ago */
    size_t gap33 = hb_customer(&h, 1);
    hb_buy(&h, 900);
    hb_buy(&h, 959);
    hb_buy(&h, 992); /* gap 33 */
    h.rate[gap33] = 0.125;
    size_t gap32 = hb_customer(&h, 2);
    hb_buy(&h, 900);
    hb_buy(&h, 960);
    hb_buy(&h, 992); /* gap 32: no lapse */
    h.rate[gap32] = 0.125;
    size_t back9 = hb_customer(&h, 3);
    hb_buy(&h, 900);
    hb_buy(&h, 958);
    hb_buy(&h, 991); /* gap 33, but the return was 9 days ago: no longer reactivated */
    hb_buy(&h, 995);
    h.rate[back9] = 0.125;
    size_t after_cancel = hb_customer(&h, 4); /* first purchase after a cancellation */
    hb_buy(&h, 980);
    hb_buy(&h, 988);
    hb_event(&h, 989, SGS_EVENT_CANCELLED, NAN);
    hb_buy(&h, 996);
    h.rate[after_cancel] = 0.125;
    size_t cancel_same_day = hb_customer(&h, 5); /* cancel on day 988 after buying on 988 */
    hb_buy(&h, 980);
    hb_event(&h, 988, SGS_EVENT_CANCELLED, NAN);
    hb_buy(&h, 988);
    hb_buy(&h, 996);
    h.rate[cancel_same_day] = 0.125;
    sgs_stage_input_t in = hb_input(&h);
    run_t r;
    run_stages(&h, &in, AS_OF, NULL, &r);
    assert_stage(&r, gap33, SGS_STAGE_REACTIVATED);
    assert_stage(&r, gap32, SGS_STAGE_ACTIVE);
    assert_stage(&r, back9, SGS_STAGE_ACTIVE);
    assert_stage(&r, after_cancel, SGS_STAGE_REACTIVATED);
    /* the purchase on 996 is the first after the cancellation of 988 */
    assert_stage(&r, cancel_same_day, SGS_STAGE_REACTIVATED);
    /* as of 1001 the return of gap33 is 9 days old */
    run_stages(&h, &in, AS_OF + 1, NULL, &r);
    assert_stage(&r, gap33, SGS_STAGE_ACTIVE);
    /* reactivated_cycles = 2 keeps them reactivated 16 days */
    sgs_stage_rules_t rules;
    sgs_stage_rules_default(&rules);
    rules.reactivated_cycles = 2.0;
    run_stages(&h, &in, AS_OF + 8, &rules, &r);
    assert_stage(&r, gap33, SGS_STAGE_REACTIVATED);
}

static void test_loyal_edges(void **state)
{
    (void)state;
    /* Observed cycles only (no model) so the cycles are exact: segment 0 holds cycles 8
     * (4 purchase days), 12 and 16 (3 days each): median 12; 8 * 1.5 = 12 <= 12: loyal. */
    for (int variant = 0; variant < 2; variant++) {
        hb_t h;
        hb_init(&h);
        size_t fast = hb_customer(&h, 1);
        hb_buy_every(&h, 968, 8, 4); /* 968 .. 992: cycle 8, 4 purchase days */
        /* variant 0: 976, 988, 1000 (cycle 12); variant 1: 978, 989, 1000 (cycle 11) */
        int32_t step = variant == 0 ? 12 : 11;
        size_t mid = hb_customer(&h, 2);
        hb_buy_every(&h, 1000 - 2 * step, step, 3);
        size_t slow = hb_customer(&h, 3);
        hb_buy_every(&h, 968, 16, 3);
        h.segment[fast] = h.segment[mid] = h.segment[slow] = 0;
        sgs_stage_input_t in = hb_input(&h);
        in.rate_per_day = NULL;
        run_t r;
        run_stages(&h, &in, AS_OF, NULL, &r);
        sgs_assert_cmp(r.cycle[fast], ==, 8.0);
        if (variant == 0) {
            sgs_assert_cmp(r.seg_cycle[0], ==, 12.0);
            assert_stage(&r, fast, SGS_STAGE_LOYAL);
            assert_stage(&r, mid, SGS_STAGE_ACTIVE);
        } else {
            /* median 11: 8 * 1.5 = 12 > 11, not loyal */
            sgs_assert_cmp(r.seg_cycle[0], ==, 11.0);
            assert_stage(&r, fast, SGS_STAGE_ACTIVE);
        }
    }
    /* loyal_min_purchases: 3 purchase days at cycle 8 is not enough (default 4) */
    hb_t h;
    hb_init(&h);
    size_t fast3 = hb_customer(&h, 1);
    hb_buy_every(&h, 976, 8, 3);
    size_t mid = hb_customer(&h, 2);
    hb_buy_every(&h, 976, 12, 3);
    size_t slow = hb_customer(&h, 3);
    hb_buy_every(&h, 968, 16, 3);
    h.segment[fast3] = h.segment[mid] = h.segment[slow] = 0;
    sgs_stage_input_t in = hb_input(&h);
    in.rate_per_day = NULL;
    run_t r;
    run_stages(&h, &in, AS_OF, NULL, &r);
    sgs_assert_cmp(r.seg_cycle[0], ==, 12.0);
    assert_stage(&r, fast3, SGS_STAGE_ACTIVE);
    sgs_stage_rules_t rules;
    sgs_stage_rules_default(&rules);
    rules.loyal_min_purchases = 3;
    run_stages(&h, &in, AS_OF, &rules, &r);
    assert_stage(&r, fast3, SGS_STAGE_LOYAL);
}

/* ---- transitions, time in stage ---------------------------------------------------------- */

static void test_transitions_and_mean_days(void **state)
{
    (void)state;
    /* 10 customers: 4 active -> active, 2 active -> at_risk, 1 at_risk -> lapsed,
     * 1 at_risk -> at_risk, 1 new -> active, 1 none -> new */
    uint8_t before[10] = {3, 3, 3, 3, 3, 3, 5, 5, 2, 0};
    uint8_t after[10] = {3, 3, 3, 3, 5, 5, 6, 5, 3, 2};
    int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT];
    sgs_exec_t exec = {.n_threads = 3};
    assert_int_equal(sgs_stage_transitions(10, before, after, &exec, counts, NULL), 0);
    assert_int_equal(counts[3 * SGS_STAGE_COUNT + 3], 4);
    assert_int_equal(counts[3 * SGS_STAGE_COUNT + 5], 2);
    assert_int_equal(counts[5 * SGS_STAGE_COUNT + 6], 1);
    assert_int_equal(counts[5 * SGS_STAGE_COUNT + 5], 1);
    assert_int_equal(counts[2 * SGS_STAGE_COUNT + 3], 1);
    assert_int_equal(counts[0 * SGS_STAGE_COUNT + 2], 1);
    int64_t total = 0;
    for (int k = 0; k < SGS_STAGE_COUNT * SGS_STAGE_COUNT; k++)
        total += counts[k];
    assert_int_equal(total, 10);
    double mean[SGS_STAGE_COUNT];
    assert_int_equal(sgs_stage_mean_days(counts, 30, mean, NULL), 0);
    /* active: before 6, after 5, exits 2, entries 1: 30 * 11 / 3 = 110 */
    sgs_assert_close(mean[SGS_STAGE_ACTIVE], 110.0, 1e-12, 0);
    /* at_risk: before 2, after 3, exits 1, entries 2: 30 * 5 / 3 = 50 */
    sgs_assert_close(mean[SGS_STAGE_AT_RISK], 50.0, 1e-12, 0);
    /* new: before 1, after 1, exits 1, entries 1: 30 */
    sgs_assert_close(mean[SGS_STAGE_NEW], 30.0, 1e-12, 0);
    /* lapsed: before 0, after 1, entries 1: 30 * 1 / 1 */
    sgs_assert_close(mean[SGS_STAGE_LAPSED], 30.0, 1e-12, 0);
    sgs_assert_nan(mean[SGS_STAGE_LOYAL]);
    /* a stage nobody leaves or enters: infinite */
    int64_t still[SGS_STAGE_COUNT * SGS_STAGE_COUNT] = {0};
    still[4 * SGS_STAGE_COUNT + 4] = 5;
    assert_int_equal(sgs_stage_mean_days(still, 30, mean, NULL), 0);
    if (!isinf(mean[SGS_STAGE_LOYAL]))
        fail_msg("mean days in loyal: expected infinity, got %.17g", mean[SGS_STAGE_LOYAL]);
    assert_int_equal(sgs_stage_mean_days(still, 0, mean, NULL), SGS_EINVAL);
    before[3] = 9;
    sgs_error_t err = {0};
    assert_int_equal(sgs_stage_transitions(10, before, after, &exec, counts, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "row 3");
}

/* Transitions over the same customers at two as-of days, from the stage kernel. */
static void test_stages_at_two_days(void **state)
{
    (void)state;
    hb_t h;
    hb_init(&h);
    size_t a = cycle8_customer(&h, 1, 980, 0.9); /* as of 990: active; 1000: at risk (20) */
    size_t b = hb_customer(&h, 2);               /* first purchase 995: none, then new */
    hb_buy(&h, 995);
    sgs_stage_input_t in = hb_input(&h);
    in.p_buy = NULL; /* model columns describe neither day here */
    run_t r0, r1;
    run_stages(&h, &in, 990, NULL, &r0);
    run_stages(&h, &in, 1000, NULL, &r1);
    assert_stage(&r0, a, SGS_STAGE_ACTIVE);
    assert_stage(&r1, a, SGS_STAGE_AT_RISK);
    assert_stage(&r0, b, SGS_STAGE_NONE);
    assert_stage(&r1, b, SGS_STAGE_NEW);
    int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT];
    assert_int_equal(sgs_stage_transitions(h.n, r0.stage, r1.stage, NULL, counts, NULL), 0);
    assert_int_equal(counts[SGS_STAGE_ACTIVE * SGS_STAGE_COUNT + SGS_STAGE_AT_RISK], 1);
    assert_int_equal(counts[SGS_STAGE_NONE * SGS_STAGE_COUNT + SGS_STAGE_NEW], 1);
}

/* ---- errors --------------------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    hb_t h;
    hb_init(&h);
    hb_customer(&h, 41);
    hb_buy(&h, 990);
    hb_customer(&h, 42);
    hb_buy(&h, 995);
    hb_buy(&h, 990); /* not sorted */
    sgs_stage_input_t in = hb_input(&h);
    run_t r;
    sgs_stage_output_t out = {r.stage, r.cycle, r.overdue, NULL, NULL, NULL, NULL, 0};
    sgs_error_t err = {0};
    assert_int_equal(sgs_stages_compute(&in, AS_OF, NULL, NULL, &out, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "customer_id 42");
    h.pday[2] = 999;
    h.segment[0] = 2; /* >= n */
    assert_int_equal(sgs_stages_compute(&in, AS_OF, NULL, NULL, &out, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "customer_id 41");
    h.segment[0] = 1;
    assert_int_equal(sgs_stages_compute(&in, AS_OF, NULL, NULL, &out, NULL, &err), SGS_OK);
    sgs_stage_rules_t rules;
    sgs_stage_rules_default(&rules);
    rules.lapsed_overdue_cycles = 0.5;
    assert_int_equal(sgs_stages_compute(&in, AS_OF, &rules, NULL, &out, NULL, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "lapsed_overdue_cycles");
    sgs_stage_rules_default(&rules);
    rules.at_risk_p_buy = NAN;
    assert_int_equal(sgs_stage_rules_check(&rules, &err), SGS_ECONFIG);
    out.stage = NULL;
    assert_int_equal(sgs_stages_compute(&in, AS_OF, NULL, NULL, &out, NULL, &err), SGS_EINVAL);
    /* empty input */
    sgs_stage_input_t empty = {0};
    out.stage = r.stage;
    sgs_stage_summary_t sum;
    assert_int_equal(sgs_stages_compute(&empty, AS_OF, NULL, NULL, &out, &sum, &err), SGS_OK);
    assert_int_equal(sum.n_per_stage[SGS_STAGE_ACTIVE], 0);
    /* out of memory on each allocation in turn: ENOMEM until every allocation succeeds
     * (and nothing leaks: the sanitizer build checks) */
    int n_nomem = 0, ok_seen = 0;
    for (long k = 0; k < 12; k++) {
        sgs_test_fail_alloc_after(k);
        int rc = sgs_stages_compute(&in, AS_OF, NULL, NULL, &out, NULL, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc == SGS_ENOMEM && !ok_seen)
            n_nomem++;
        else if (rc == SGS_OK)
            ok_seen = 1;
        else
            fail_msg("allocation %ld failing gave %d", k, rc);
    }
    sgs_assert_cmp(n_nomem, >=, 3);
    if (!ok_seen)
        fail_msg("no call succeeded, failing allocation 0 to 11 (%d gave SGS_ENOMEM)", n_nomem);
}

/* ---- thread counts ---------------------------------------------------------------------- */

static void test_threads_identical(void **state)
{
    (void)state;
    const size_t n = 60000; /* several SGS_BLOCK_ROWS blocks */
    big_t b;
    big_make(&b, n, 2024);
    sgs_stage_input_t in = big_input(&b);
    uint8_t *stage[3], *source[3];
    double *cycle[3], *overdue[3], *gap[3];
    sgs_stage_summary_t sum[3];
    for (int t = 0; t < 3; t++) {
        stage[t] = malloc(n);
        source[t] = malloc(n);
        cycle[t] = malloc(n * sizeof(double));
        overdue[t] = malloc(n * sizeof(double));
        gap[t] = malloc(n * sizeof(double));
        double seg[8];
        sgs_stage_output_t out = {stage[t], cycle[t], overdue[t], source[t], gap[t], NULL, seg, 8};
        sgs_exec_t exec = {.n_threads = t + 1, .grain = 1}; /* grain 1: every thread works */
        sgs_error_t err = {0};
        if (sgs_stages_compute(&in, 900, NULL, &exec, &out, &sum[t], &err))
            fail_msg("%s", err.message);
    }
    for (int t = 1; t < 3; t++) {
        assert_memory_equal(stage[0], stage[t], n);
        assert_memory_equal(source[0], source[t], n);
        assert_memory_equal(cycle[0], cycle[t], n * sizeof(double));
        assert_memory_equal(overdue[0], overdue[t], n * sizeof(double));
        assert_memory_equal(gap[0], gap[t], n * sizeof(double));
        assert_memory_equal(sum[0].n_per_stage, sum[t].n_per_stage, sizeof sum[0].n_per_stage);
        assert_memory_equal(sum[0].n_per_cycle_source, sum[t].n_per_cycle_source,
                            sizeof sum[0].n_per_cycle_source);
        assert_int_equal(sum[0].n_segments, sum[t].n_segments);
        sgs_assert_cmp(sum[0].global_cycle_days, ==, sum[t].global_cycle_days);
    }
    /* every stage occurs in this base, and the counts sum to n */
    int64_t total = 0;
    for (int s = 0; s < SGS_STAGE_COUNT; s++) {
        if (sum[0].n_per_stage[s] == 0)
            fail_msg("no customer in stage %s", sgs_stage_name(s));
        total += sum[0].n_per_stage[s];
    }
    assert_int_equal(total, (int64_t)n);
    for (int t = 0; t < 3; t++) {
        free(stage[t]);
        free(source[t]);
        free(cycle[t]);
        free(overdue[t]);
        free(gap[t]);
    }
    big_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_matches_sorting),
        cmocka_unit_test(test_median_and_quantile),
        cmocka_unit_test(test_group_medians),
        cmocka_unit_test(test_cycle_sources),
        cmocka_unit_test(test_none_prospect_cancelled),
        cmocka_unit_test(test_at_risk_and_lapsed_edges),
        cmocka_unit_test(test_new_edges),
        cmocka_unit_test(test_reactivated_edges),
        cmocka_unit_test(test_loyal_edges),
        cmocka_unit_test(test_transitions_and_mean_days),
        cmocka_unit_test(test_stages_at_two_days),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_threads_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
