/*
 * tests/unit/test_opportunities.c — every trigger at the edges of its thresholds on
 * hand-built histories, values at stake, the facts behind a reason (the kernel) and the reason
 * worded from them (engine/opportunity_reason.h), one opportunity per customer, the
 * ranking order and its tie breaks, channel capacity with spilling, and identical bits
 * for 1, 2 and 3 threads against a plain serial reference of the ranking.
 *
 * Stage, cycle and days overdue are set by hand (they are inputs of the kernel), so each
 * trigger is tested on its own definition; one test runs the stage kernel first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/opportunity_reason.h"
#include "kernels/influence.h"
#include "kernels/opportunities.h"
#include "kernels/opportunity_rank_internal.h"
#include "kernels/stages.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"
#include "tests/unit/history_builder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T 1000 /* the as-of day */

typedef struct fx {
    hb_t h;
    uint8_t stage[HB_MAX_CUSTOMERS], stage_cmp[HB_MAX_CUSTOMERS];
    double cycle[HB_MAX_CUSTOMERS], overdue[HB_MAX_CUSTOMERS];
    int64_t direct[HB_MAX_CUSTOMERS], indirect[HB_MAX_CUSTOMERS];
    double nv[HB_MAX_CUSTOMERS];
    sgs_stage_input_t cu;
    sgs_opportunity_input_t in;
    sgs_opportunity_config_t cfg;
    uint16_t mask[HB_MAX_CUSTOMERS];
    sgs_opportunity_stats_t st;
    /* list */
    int64_t r_index[HB_MAX_CUSTOMERS * 9], r_rank[HB_MAX_CUSTOMERS * 9];
    uint8_t r_kind[HB_MAX_CUSTOMERS * 9], r_channel[HB_MAX_CUSTOMERS * 9];
    uint8_t r_control[HB_MAX_CUSTOMERS * 9];
    int32_t r_priority[HB_MAX_CUSTOMERS * 9];
    double r_value[HB_MAX_CUSTOMERS * 9];
    size_t n_rows;
    sgs_opportunity_list_summary_t sum;
} fx_t;

static fx_t *fx_new(void)
{
    fx_t *f = calloc(1, sizeof *f);
    hb_init(&f->h);
    sgs_opportunity_config_default(&f->cfg);
    return f;
}

/* Add a customer in stage `stage` with cycle 8 and the given days overdue. */
static size_t fx_customer(fx_t *f, int64_t id, uint8_t stage, double overdue)
{
    size_t i = hb_customer(&f->h, id);
    f->stage[i] = stage;
    f->stage_cmp[i] = stage;
    f->cycle[i] = 8.0;
    f->overdue[i] = overdue;
    f->direct[i] = f->indirect[i] = 0;
    f->nv[i] = 0.0;
    return i;
}

static void fx_detect(fx_t *f, int with_compare, int with_referrals)
{
    f->cu = hb_input(&f->h);
    memset(&f->in, 0, sizeof f->in);
    f->in.customers = &f->cu;
    f->in.as_of_day = T;
    f->in.stage = f->stage;
    f->in.cycle_days = f->cycle;
    f->in.days_overdue = f->overdue;
    f->in.stage_compare = with_compare ? f->stage_cmp : NULL;
    f->in.compare_day = T - 30;
    if (with_referrals) {
        f->in.n_direct_referrals = f->direct;
        f->in.n_indirect_referrals = f->indirect;
        f->in.network_value = f->nv;
    }
    sgs_opportunity_stats_free(&f->st);
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    if (sgs_opportunities_detect(&f->in, &f->cfg, &exec, f->mask, &f->st, &err))
        fail_msg("detect: %s", err.message);
}

static void fx_rank(fx_t *f)
{
    sgs_opportunity_rows_t rows = {f->r_index,   f->r_kind, f->r_priority, f->r_value,
                                   f->r_channel, f->r_rank, f->r_control};
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    if (sgs_opportunities_rank(&f->in, &f->cfg, &f->st, f->mask, &exec, &rows, HB_MAX_CUSTOMERS * 9,
                               &f->n_rows, &f->sum, &err))
        fail_msg("rank: %s", err.message);
}

static void fx_free(fx_t *f)
{
    sgs_opportunity_stats_free(&f->st);
    sgs_free(f);
}

/* Fail unless the last detection counted `kind` among the kinds whose input was missing. */
static void expect_without_input(const fx_t *f, int kind)
{
    if (!(f->st.kinds_without_input & (1u << kind)))
        fail_msg("%s is not among kinds_without_input = %#x", sgs_opportunity_kind_name(kind),
                 (unsigned)f->st.kinds_without_input);
}

static int has(const fx_t *f, size_t i, int kind)
{
    return (f->mask[i] >> kind) & 1;
}

static void assert_fires(const fx_t *f, size_t i, int kind, int expected)
{
    if (has(f, i, kind) != expected)
        fail_msg("customer %zu (id %lld): %s %s, expected %s", i, (long long)f->h.id[i],
                 sgs_opportunity_kind_name(kind), has(f, i, kind) ? "fired" : "did not fire",
                 expected ? "to fire" : "not to fire");
}

static void assert_reason(const fx_t *f, size_t i, int kind, const char *expected)
{
    char buf[SGS_OPPORTUNITY_REASON_MAX];
    sgs_opportunity_reason(&f->in, &f->cfg, &f->st, i, kind, buf, sizeof buf);
    assert_string_equal(buf, expected);
    assert_null(strchr(buf, ','));
}

/* ---- triggers ---------------------------------------------------------------------------- */

static void test_service_recovery(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* window of 30 days ending on 1000: days 971..1000 */
    size_t in30 = fx_customer(f, 1, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 971, SGS_EVENT_SUPPORT, NAN);
    hb_event(&f->h, 985, SGS_EVENT_SUPPORT, NAN);
    hb_event(&f->h, 1000, SGS_EVENT_SUPPORT, NAN);
    size_t in31 = fx_customer(f, 2, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 970, SGS_EVENT_SUPPORT, NAN);
    hb_event(&f->h, 985, SGS_EVENT_SUPPORT, NAN);
    hb_event(&f->h, 1000, SGS_EVENT_SUPPORT, NAN);
    size_t mixed = fx_customer(f, 3, SGS_STAGE_LAPSED, 0);
    hb_event(&f->h, 980, SGS_EVENT_SUPPORT, NAN);
    hb_event(&f->h, 981, SGS_EVENT_SURVEY, 9);
    hb_event(&f->h, 990, SGS_EVENT_COMPLAINT, NAN);
    hb_event(&f->h, 995, SGS_EVENT_SUPPORT, NAN);
    size_t future = fx_customer(f, 4, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 990, SGS_EVENT_SUPPORT, NAN);
    hb_event(&f->h, 995, SGS_EVENT_SUPPORT, NAN);
    hb_event(&f->h, 1001, SGS_EVENT_SUPPORT, NAN);
    size_t unknown = fx_customer(f, 5, SGS_STAGE_NONE, 0);
    hb_event(&f->h, 990, SGS_EVENT_SUPPORT, NAN);
    hb_event(&f->h, 991, SGS_EVENT_SUPPORT, NAN);
    hb_event(&f->h, 992, SGS_EVENT_SUPPORT, NAN);
    fx_detect(f, 0, 0);
    assert_fires(f, in30, SGS_OPP_SERVICE_RECOVERY, 1);
    assert_fires(f, in31, SGS_OPP_SERVICE_RECOVERY, 0);
    assert_fires(f, mixed, SGS_OPP_SERVICE_RECOVERY, 1);
    assert_fires(f, future, SGS_OPP_SERVICE_RECOVERY, 0);
    assert_fires(f, unknown, SGS_OPP_SERVICE_RECOVERY, 0);
    assert_int_equal(f->st.n_fired[SGS_OPP_SERVICE_RECOVERY], 2);
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, in30, 1), 50.0, 0, 0);
    assert_reason(f, mixed, SGS_OPP_SERVICE_RECOVERY,
                  "3 support contacts/complaints in the last 30 days (2 support; 1 complaints; "
                  "threshold 3)");
    /* the numbers behind it, from the kernel */
    sgs_opportunity_facts_t facts;
    sgs_opportunity_facts(&f->in, &f->cfg, &f->st, mixed, SGS_OPP_SERVICE_RECOVERY, &facts);
    sgs_assert_cmp(facts.kind, ==, SGS_OPP_SERVICE_RECOVERY);
    sgs_assert_cmp(facts.n_support, ==, 2);
    sgs_assert_cmp(facts.n_complaints, ==, 1);
    sgs_assert_cmp(facts.as_of_day, ==, T);
    sgs_assert_cmp(facts.days_since_last, ==, -1); /* no purchase */
    sgs_assert_cmp(facts.first_purchase_day, ==, SGS_DAY_NONE);
    sgs_assert_cmp(facts.stage_then, ==, -1); /* no compare day */
    sgs_assert_cmp(facts.event_day, ==, SGS_DAY_NONE);
    sgs_assert_close(facts.overdue_margin_days, 0.25 * 8.0, 0, 0);
    sgs_assert_close(facts.lapse_overdue_days, 3.0 * 8.0, 0, 0);
    /* the wording is a function of the facts alone */
    char worded[SGS_OPPORTUNITY_REASON_MAX];
    facts.n_support = 7;
    sgs_opportunity_reason_text(&facts, &f->cfg, worded, sizeof worded);
    assert_string_equal(worded, "8 support contacts/complaints in the last 30 days (7 support; 1 "
                                "complaints; threshold 3)");
    /* 31-day window: customer 2 fires too; off switch: nobody */
    f->cfg.service_window_days = 31;
    fx_detect(f, 0, 0);
    assert_fires(f, in31, SGS_OPP_SERVICE_RECOVERY, 1);
    f->cfg.enabled[SGS_OPP_SERVICE_RECOVERY] = 0;
    fx_detect(f, 0, 0);
    assert_int_equal(f->st.n_fired[SGS_OPP_SERVICE_RECOVERY], 0);
    assert_fires(f, in30, SGS_OPP_SERVICE_RECOVERY, 0);
    fx_free(f);
}

static void test_renewal_at_risk(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* grace 14: due 986 (14 days ago) waits, due 985 (15 days ago) fires */
    size_t age14 = fx_customer(f, 1, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 986, SGS_EVENT_RENEWAL_DUE, NAN);
    size_t age15 = fx_customer(f, 2, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 985, SGS_EVENT_RENEWAL_DUE, NAN);
    /* renewed 30 days before the due date counts, 31 days before does not */
    size_t early30 = fx_customer(f, 3, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 955, SGS_EVENT_RENEWED, NAN);
    hb_event(&f->h, 985, SGS_EVENT_RENEWAL_DUE, NAN);
    size_t early31 = fx_customer(f, 4, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 954, SGS_EVENT_RENEWED, NAN);
    hb_event(&f->h, 985, SGS_EVENT_RENEWAL_DUE, NAN);
    size_t late_renewal = fx_customer(f, 5, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 985, SGS_EVENT_RENEWAL_DUE, NAN);
    hb_event(&f->h, 999, SGS_EVENT_RENEWED, NAN);
    /* lookback 90: due 910 fires, 909 is too old */
    size_t age90 = fx_customer(f, 6, SGS_STAGE_AT_RISK, 0);
    hb_event(&f->h, 910, SGS_EVENT_RENEWAL_DUE, NAN);
    size_t age91 = fx_customer(f, 7, SGS_STAGE_AT_RISK, 0);
    hb_event(&f->h, 909, SGS_EVENT_RENEWAL_DUE, NAN);
    size_t cancelled = fx_customer(f, 8, SGS_STAGE_CANCELLED, 0);
    hb_event(&f->h, 950, SGS_EVENT_RENEWAL_DUE, NAN);
    /* an old missed renewal does not matter once the latest due date was renewed */
    size_t latest_ok = fx_customer(f, 9, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 920, SGS_EVENT_RENEWAL_DUE, NAN);
    hb_event(&f->h, 980, SGS_EVENT_RENEWAL_DUE, NAN);
    hb_event(&f->h, 981, SGS_EVENT_RENEWED, NAN);
    fx_detect(f, 0, 0);
    assert_fires(f, age14, SGS_OPP_RENEWAL_AT_RISK, 0);
    assert_fires(f, age15, SGS_OPP_RENEWAL_AT_RISK, 1);
    assert_fires(f, early30, SGS_OPP_RENEWAL_AT_RISK, 0);
    assert_fires(f, early31, SGS_OPP_RENEWAL_AT_RISK, 1);
    assert_fires(f, late_renewal, SGS_OPP_RENEWAL_AT_RISK, 0);
    assert_fires(f, age90, SGS_OPP_RENEWAL_AT_RISK, 1);
    assert_fires(f, age91, SGS_OPP_RENEWAL_AT_RISK, 0);
    assert_fires(f, cancelled, SGS_OPP_RENEWAL_AT_RISK, 0);
    assert_fires(f, latest_ok, SGS_OPP_RENEWAL_AT_RISK, 0);
    assert_reason(f, age15, SGS_OPP_RENEWAL_AT_RISK,
                  "renewal due 1972-09-12 (15 days ago) not renewed within the 14-day grace "
                  "period");
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, age15, 2), 50.0, 0, 0);
    fx_free(f);
}

static void test_win_back(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* p_buy unknown: cycle 8, lapse after 3 cycles = 24 days overdue, so the crossing was
     * overdue - 24 days ago; recent when at most 30 days */
    size_t recent = fx_customer(f, 1, SGS_STAGE_LAPSED, 54.0); /* crossed 30 days ago */
    size_t older = fx_customer(f, 2, SGS_STAGE_LAPSED, 55.0);  /* 31 days ago */
    size_t by_p = fx_customer(f, 3, SGS_STAGE_LAPSED, 2.0);    /* lapsed by p_buy */
    size_t active = fx_customer(f, 4, SGS_STAGE_ACTIVE, 54.0);
    f->h.p_buy[recent] = NAN;
    f->h.p_buy[older] = NAN;
    f->h.p_buy[by_p] = 0.1;
    f->h.p_buy_model[by_p] = 0.25;
    f->h.p_buy_model[older] = 0.02;
    f->stage_cmp[recent] = SGS_STAGE_ACTIVE; /* with the compare day: became lapsed */
    f->stage_cmp[older] = SGS_STAGE_AT_RISK;
    f->stage_cmp[by_p] = SGS_STAGE_LAPSED; /* already lapsed then */
    fx_detect(f, 0, 0);
    assert_fires(f, recent, SGS_OPP_WIN_BACK, 1);
    assert_fires(f, older, SGS_OPP_WIN_BACK, 0);
    assert_fires(f, by_p, SGS_OPP_WIN_BACK, 1); /* lapsed by p_buy: always a candidate */
    assert_fires(f, active, SGS_OPP_WIN_BACK, 0);
    /* value if back (CLV / the model's P(buy), CLV when unknown) x (1 - p_buy, 0.5 when
     * unknown): 100 x 0.5; 100 / 0.02 x 0.5; 100 / 0.25 x 0.9 */
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, recent, 3), 50.0, 1e-12, 0);
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, older, 3), 2500.0, 1e-12, 0);
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, by_p, 3), 360.0, 1e-12, 0);
    assert_reason(f, by_p, SGS_OPP_WIN_BACK,
                  "lapsed: p_buy 0.10 (below 0.20); -1 days since last purchase (cycle 8.0 "
                  "days); worth 400.00 if they buy again");
    fx_detect(f, 1, 0);
    assert_fires(f, recent, SGS_OPP_WIN_BACK, 1);
    assert_fires(f, older, SGS_OPP_WIN_BACK, 1);
    assert_fires(f, by_p, SGS_OPP_WIN_BACK, 0);
    fx_free(f);
}

static void test_save_high_value(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* buyers' CLV 100..500: nearest-rank 0.8 quantile = 4th of 5 = 400 */
    size_t c100 = fx_customer(f, 1, SGS_STAGE_AT_RISK, 10);
    size_t c200 = fx_customer(f, 2, SGS_STAGE_ACTIVE, 0);
    size_t c300 = fx_customer(f, 3, SGS_STAGE_AT_RISK, 10);
    size_t c400 = fx_customer(f, 4, SGS_STAGE_AT_RISK, 10);
    size_t c500 = fx_customer(f, 5, SGS_STAGE_LAPSED, 40);
    size_t prospect = fx_customer(f, 6, SGS_STAGE_PROSPECT, NAN); /* not a buyer */
    f->h.clv[c100] = 100;
    f->h.clv[c200] = 200;
    f->h.clv[c300] = 300;
    f->h.clv[c400] = 400;
    f->h.clv[c500] = 500;
    f->h.clv[prospect] = 1e6;
    f->h.p_buy[c400] = 0.75;
    fx_detect(f, 0, 0);
    sgs_assert_cmp(f->st.save_clv_threshold, ==, 400.0);
    assert_fires(f, c400, SGS_OPP_SAVE_HIGH_VALUE, 1);
    assert_fires(f, c300, SGS_OPP_SAVE_HIGH_VALUE, 0);
    assert_fires(f, c500, SGS_OPP_SAVE_HIGH_VALUE, 0); /* lapsed, not at risk */
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, c400, 4), 100.0, 0, 0);
    f->cfg.save_min_clv = 450;
    fx_detect(f, 0, 0);
    sgs_assert_cmp(f->st.save_clv_threshold, ==, 450.0);
    assert_fires(f, c400, SGS_OPP_SAVE_HIGH_VALUE, 0);
    /* no CLV column: cannot fire, and says so */
    f->cfg.save_min_clv = 0;
    f->cu = hb_input(&f->h);
    f->cu.clv = NULL;
    sgs_opportunity_stats_free(&f->st);
    assert_int_equal(sgs_opportunities_detect(&f->in, &f->cfg, NULL, f->mask, &f->st, NULL), 0);
    assert_int_equal(f->st.n_fired[SGS_OPP_SAVE_HIGH_VALUE], 0);
    expect_without_input(f, SGS_OPP_SAVE_HIGH_VALUE);
    expect_without_input(f, SGS_OPP_GROW);
    fx_free(f);
}

static void test_overdue_reminder(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* margin 0.25 cycles = 2 days overdue; p_buy >= 0.5 */
    size_t o2 = fx_customer(f, 1, SGS_STAGE_ACTIVE, 2.0);
    size_t o3 = fx_customer(f, 2, SGS_STAGE_LOYAL, 3.0);
    size_t p50 = fx_customer(f, 3, SGS_STAGE_ACTIVE, 3.0);
    size_t p49 = fx_customer(f, 4, SGS_STAGE_ACTIVE, 3.0);
    size_t risk = fx_customer(f, 5, SGS_STAGE_AT_RISK, 9.0);
    size_t pnan = fx_customer(f, 6, SGS_STAGE_REACTIVATED, 3.0);
    f->h.p_buy[p50] = 0.5;
    f->h.p_buy[p49] = 0.49;
    f->h.p_buy[pnan] = NAN;
    f->h.p_buy[o3] = 0.75;
    fx_detect(f, 0, 0);
    assert_fires(f, o2, SGS_OPP_OVERDUE_REMINDER, 0);
    assert_fires(f, o3, SGS_OPP_OVERDUE_REMINDER, 1);
    assert_fires(f, p50, SGS_OPP_OVERDUE_REMINDER, 1);
    assert_fires(f, p49, SGS_OPP_OVERDUE_REMINDER, 0);
    assert_fires(f, risk, SGS_OPP_OVERDUE_REMINDER, 0);
    assert_fires(f, pnan, SGS_OPP_OVERDUE_REMINDER, 1);
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, o3, 5), 25.0, 0, 0);
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, pnan, 5), 50.0, 0, 0);
    assert_reason(f, o3, SGS_OPP_OVERDUE_REMINDER,
                  "overdue by 3.0 days (cycle 8.0 days; margin 2.0); p_buy 0.75");
    fx_free(f);
}

static void test_onboarding(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    size_t one = fx_customer(f, 1, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 995);
    hb_buy(&f->h, 995); /* same day twice: one purchase day */
    size_t two = fx_customer(f, 2, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 993);
    hb_buy(&f->h, 995);
    size_t later = fx_customer(f, 3, SGS_STAGE_NEW, -3); /* second purchase after as_of */
    hb_buy(&f->h, 995);
    hb_buy(&f->h, 1003);
    size_t active = fx_customer(f, 4, SGS_STAGE_ACTIVE, -3);
    hb_buy(&f->h, 995);
    fx_detect(f, 0, 0);
    assert_fires(f, one, SGS_OPP_ONBOARDING, 1);
    assert_fires(f, two, SGS_OPP_ONBOARDING, 0);
    assert_fires(f, later, SGS_OPP_ONBOARDING, 1);
    assert_fires(f, active, SGS_OPP_ONBOARDING, 0);
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, one, 6), 100.0, 0, 0);
    assert_reason(f, one, SGS_OPP_ONBOARDING,
                  "first purchase 1972-09-22 (5 days ago); 1 purchase day(s); cycle 8.0 days");
    fx_free(f);
}

static void test_detractor(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* window of 90 days ending on 1000: days 911..1000 */
    size_t s6 = fx_customer(f, 1, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 911, SGS_EVENT_SURVEY, 6);
    size_t s7 = fx_customer(f, 2, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 990, SGS_EVENT_SURVEY, 7);
    size_t old = fx_customer(f, 3, SGS_STAGE_ACTIVE, 0);
    hb_event(&f->h, 910, SGS_EVENT_SURVEY, 6);
    size_t better = fx_customer(f, 4, SGS_STAGE_ACTIVE, 0); /* latest answer counts */
    hb_event(&f->h, 950, SGS_EVENT_SURVEY, 3);
    hb_event(&f->h, 990, SGS_EVENT_SURVEY, 9);
    size_t nan_last = fx_customer(f, 5, SGS_STAGE_LAPSED, 0); /* answer without a score */
    hb_event(&f->h, 950, SGS_EVENT_SURVEY, 0);
    hb_event(&f->h, 990, SGS_EVENT_SURVEY, NAN);
    fx_detect(f, 0, 0);
    assert_fires(f, s6, SGS_OPP_DETRACTOR_FOLLOW_UP, 1);
    assert_fires(f, s7, SGS_OPP_DETRACTOR_FOLLOW_UP, 0);
    assert_fires(f, old, SGS_OPP_DETRACTOR_FOLLOW_UP, 0);
    assert_fires(f, better, SGS_OPP_DETRACTOR_FOLLOW_UP, 0);
    assert_fires(f, nan_last, SGS_OPP_DETRACTOR_FOLLOW_UP, 1);
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, s6, 7), 30.0, 1e-12, 0);
    assert_reason(f, s6, SGS_OPP_DETRACTOR_FOLLOW_UP,
                  "survey score 6 on 1972-06-30 (89 days ago); detractor at <= 6");
    fx_free(f);
}

static void test_grow(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* segment 0, alive CLVs 100 125 250 300 400: median 250, grow below 125 */
    double v[] = {100, 125, 250, 300, 400};
    size_t idx[5];
    for (int k = 0; k < 5; k++) {
        idx[k] = fx_customer(f, k + 1, k == 4 ? SGS_STAGE_LOYAL : SGS_STAGE_ACTIVE, 0);
        f->h.clv[idx[k]] = v[k];
        f->h.segment[idx[k]] = 0;
    }
    size_t lapsed = fx_customer(f, 6, SGS_STAGE_LAPSED, 40); /* not in the median */
    f->h.clv[lapsed] = 1;
    f->h.segment[lapsed] = 0;
    size_t loner = fx_customer(f, 7, SGS_STAGE_NEW, 0); /* no segment: global median */
    f->h.clv[loner] = 50;
    fx_detect(f, 0, 0);
    sgs_assert_close(f->st.segment_clv_median[0], 250.0, 0, 0);
    assert_fires(f, idx[0], SGS_OPP_GROW, 1);
    assert_fires(f, idx[1], SGS_OPP_GROW, 0); /* 125 is not below 125 */
    assert_fires(f, lapsed, SGS_OPP_GROW, 0);
    /* global median of alive {50, 100, 125, 250, 300, 400} = 187.5; 50 < 93.75 */
    sgs_assert_close(f->st.global_clv_median, 187.5, 0, 0);
    assert_fires(f, loner, SGS_OPP_GROW, 1);
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, idx[0], 8), 150.0, 0, 0);
    assert_reason(f, idx[0], SGS_OPP_GROW,
                  "CLV 100.00 below 0.5 x 250.00 (median CLV of segment 0)");
    assert_reason(f, loner, SGS_OPP_GROW,
                  "CLV 50.00 below 0.5 x 187.50 (median CLV of all customers)");
    fx_free(f);
}

static void test_advocate(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* brought in (NV - own CLV 100) 50..250 for customers with a referral: the 0.8
     * quantile is 200 */
    size_t idx[5];
    for (int k = 0; k < 5; k++) {
        idx[k] = fx_customer(f, k + 1, k == 4 ? SGS_STAGE_LAPSED : SGS_STAGE_ACTIVE, 0);
        f->direct[idx[k]] = 1 + k;
        f->indirect[idx[k]] = k;
        f->nv[idx[k]] = 100.0 + 50.0 * (k + 1);
    }
    size_t none = fx_customer(f, 6, SGS_STAGE_ACTIVE, 0); /* no referrals */
    f->nv[none] = 100.0;
    fx_detect(f, 0, 0);
    assert_int_equal(f->st.n_fired[SGS_OPP_ADVOCATE], 0);
    expect_without_input(f, SGS_OPP_ADVOCATE);
    fx_detect(f, 0, 1);
    sgs_assert_cmp(f->st.kinds_without_input, ==, 0);
    sgs_assert_close(f->st.advocate_value_threshold, 200.0, 0, 0);
    assert_fires(f, idx[3], SGS_OPP_ADVOCATE, 1);
    assert_fires(f, idx[2], SGS_OPP_ADVOCATE, 0);
    assert_fires(f, idx[4], SGS_OPP_ADVOCATE, 0); /* lapsed */
    assert_fires(f, none, SGS_OPP_ADVOCATE, 0);
    sgs_assert_close(sgs_opportunity_value(&f->in, &f->cfg, &f->st, idx[3], 9), 200.0, 0, 0);
    assert_reason(f, idx[3], SGS_OPP_ADVOCATE,
                  "4 direct and 3 indirect referrals brought in 200.00 (network value 300.00; "
                  "threshold 200.00)");
    /* at least 5 direct referrals: only customer 5 qualifies, and is lapsed */
    f->cfg.advocate_min_referrals = 5;
    fx_detect(f, 0, 1);
    assert_int_equal(f->st.n_fired[SGS_OPP_ADVOCATE], 0);
    fx_free(f);
}

/* ---- the list ------------------------------------------------------------------------------- */

static void test_one_per_customer_and_ranking(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* customer 1: service recovery (90) and onboarding (40): listed once, as service */
    size_t both = fx_customer(f, 1, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 995);
    for (int k = 0; k < 3; k++)
        hb_event(&f->h, 990 + k, SGS_EVENT_COMPLAINT, NAN);
    /* customers 2 and 3: onboarding with equal value: id order; customer 4 more value */
    size_t on2 = fx_customer(f, 2, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 996);
    size_t on3 = fx_customer(f, 3, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 996);
    size_t on4 = fx_customer(f, 4, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 996);
    f->h.clv[on4] = 300;
    size_t nothing = fx_customer(f, 5, SGS_STAGE_ACTIVE, 0);
    (void)nothing;
    fx_detect(f, 0, 0);
    assert_int_equal(f->st.n_customers, 4);
    assert_int_equal(f->st.n_candidates, 4);
    fx_rank(f);
    assert_int_equal(f->n_rows, 4);
    int64_t expect_idx[] = {(int64_t)both, (int64_t)on4, (int64_t)on2, (int64_t)on3};
    uint8_t expect_kind[] = {SGS_OPP_SERVICE_RECOVERY, SGS_OPP_ONBOARDING, SGS_OPP_ONBOARDING,
                             SGS_OPP_ONBOARDING};
    for (int r = 0; r < 4; r++) {
        assert_int_equal(f->r_index[r], expect_idx[r]);
        assert_int_equal(f->r_kind[r], expect_kind[r]);
        assert_int_equal(f->r_rank[r], r + 1);
    }
    assert_int_equal(f->r_priority[0], 90);
    sgs_assert_close(f->r_value[1], 300.0, 0, 0);
    /* all opportunities: customer 1 twice, onboarding rows by value then id */
    f->cfg.all_opportunities = 1;
    fx_detect(f, 0, 0);
    assert_int_equal(f->st.n_candidates, 5);
    fx_rank(f);
    assert_int_equal(f->n_rows, 5);
    int64_t expect_all[] = {(int64_t)both, (int64_t)on4, (int64_t)both, (int64_t)on2, (int64_t)on3};
    for (int r = 0; r < 5; r++)
        assert_int_equal(f->r_index[r], expect_all[r]);
    assert_int_equal(f->r_kind[2], SGS_OPP_ONBOARDING);
    assert_int_equal(f->sum.n_listed_per_kind[SGS_OPP_ONBOARDING], 4);
    /* equal priorities: the higher value wins for the customer; then the lower code */
    f->cfg.all_opportunities = 0;
    f->cfg.priority[SGS_OPP_ONBOARDING] = 90;
    fx_detect(f, 0, 0);
    fx_rank(f);
    assert_int_equal(f->r_index[1], (int64_t)both);
    assert_int_equal(f->r_kind[1], SGS_OPP_ONBOARDING); /* 100 beats 50 */
    fx_free(f);
}

static void test_capacity_and_spill(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* six onboarding customers, values 600..100 in id order, all preferring phone */
    for (int k = 0; k < 6; k++) {
        size_t i = fx_customer(f, k + 1, SGS_STAGE_NEW, -3);
        hb_buy(&f->h, 996);
        f->h.clv[i] = 600.0 - 100.0 * k;
        f->h.preferred[i] = SGS_CHANNEL_PHONE;
    }
    /* customer 7: no preference, buys on the web; customer 8: nothing known */
    size_t web = fx_customer(f, 7, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 996);
    f->h.clv[web] = 50;
    f->h.main_channel[web] = SGS_CHANNEL_WEB;
    size_t unknown = fx_customer(f, 8, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 996);
    f->h.clv[unknown] = 40;
    /* phone 2, then sms 1, email not allowed, app 1, then web ... not allowed */
    for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++)
        f->cfg.channel_capacity[ch] = 0;
    f->cfg.channel_capacity[SGS_CHANNEL_PHONE] = 2;
    f->cfg.channel_capacity[SGS_CHANNEL_SMS] = 1;
    f->cfg.channel_capacity[SGS_CHANNEL_APP] = 1;
    f->cfg.channel_capacity[SGS_CHANNEL_WEB] = -1;
    uint8_t order[] = {SGS_CHANNEL_PHONE, SGS_CHANNEL_SMS, SGS_CHANNEL_EMAIL, SGS_CHANNEL_APP, 0};
    memset(f->cfg.spill_order, 0, sizeof f->cfg.spill_order);
    memcpy(f->cfg.spill_order, order, sizeof order);
    fx_detect(f, 0, 0);
    fx_rank(f);
    /* ranks: 1 phone, 2 phone, 3 sms, 4 app, 5 and 6 left out (web is not after phone in
     * the spill order), 7 web (own), 8 email (fallback) not allowed -> spills to the
     * channels after email: app is full -> left out */
    assert_int_equal(f->n_rows, 5);
    uint8_t expect_ch[] = {SGS_CHANNEL_PHONE, SGS_CHANNEL_PHONE, SGS_CHANNEL_SMS, SGS_CHANNEL_APP,
                           SGS_CHANNEL_WEB};
    int64_t expect_idx[] = {0, 1, 2, 3, 6};
    for (int r = 0; r < 5; r++) {
        assert_int_equal(f->r_channel[r], expect_ch[r]);
        assert_int_equal(f->r_index[r], expect_idx[r]);
        assert_int_equal(f->r_rank[r], r + 1);
    }
    assert_int_equal(f->sum.n_candidates, 8);
    assert_int_equal(f->sum.n_listed, 5);
    assert_int_equal(f->sum.n_spilled, 2);
    assert_int_equal(f->sum.n_left_out, 3);
    assert_int_equal(f->sum.n_left_out_per_channel[SGS_CHANNEL_PHONE], 2);
    assert_int_equal(f->sum.n_left_out_per_channel[SGS_CHANNEL_EMAIL], 1);
    assert_int_equal(f->sum.n_listed_per_channel[SGS_CHANNEL_PHONE], 2);
    assert_int_equal(f->sum.n_left_out_per_kind[SGS_OPP_ONBOARDING], 3);
    assert_int_equal(sgs_opportunity_channel_of(&f->in, &f->cfg, unknown), SGS_CHANNEL_EMAIL);
    assert_int_equal(sgs_opportunity_channel_of(&f->in, &f->cfg, web), SGS_CHANNEL_WEB);
    /* with unlimited email the fallback customer is listed on email */
    f->cfg.channel_capacity[SGS_CHANNEL_EMAIL] = -1;
    fx_rank(f);
    assert_int_equal(f->n_rows, 8);
    assert_int_equal(f->r_channel[4], SGS_CHANNEL_EMAIL); /* customer 5 spills to email */
    assert_int_equal(f->r_channel[7], SGS_CHANNEL_EMAIL);
    fx_free(f);
}

/* Learned from a measurement: the kind's value at stake scaled (the order within the kind
 * kept, below another kind after a negative scale), and a channel avoided for one kind only. */
static void test_value_scale_and_avoided_channels(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    for (int k = 0; k < 3; k++) { /* onboarding, values 300, 200, 100, all on phone */
        size_t i = fx_customer(f, k + 1, SGS_STAGE_NEW, -3);
        hb_buy(&f->h, 996);
        f->h.clv[i] = 300.0 - 100.0 * k;
        f->h.preferred[i] = SGS_CHANNEL_PHONE;
    }
    f->cfg.all_opportunities = 1;
    fx_detect(f, 0, 0);
    double before[3];
    for (size_t i = 0; i < 3; i++)
        before[i] = sgs_opportunity_value(&f->in, &f->cfg, &f->st, i, SGS_OPP_ONBOARDING);
    f->cfg.value_scale[SGS_OPP_ONBOARDING] = 0.25;
    for (size_t i = 0; i < 3; i++)
        sgs_assert_cmp(sgs_opportunity_value(&f->in, &f->cfg, &f->st, i, SGS_OPP_ONBOARDING), ==,
                       0.25 * before[i]);
    f->cfg.value_scale[SGS_OPP_ONBOARDING] = -1.0;
    fx_rank(f);
    assert_int_equal(f->n_rows, 3);
    assert_int_equal(f->r_index[0], 2); /* -100 ranks above -300 */
    sgs_assert_cmp(f->r_value[0], ==, -100.0);
    f->cfg.value_scale[SGS_OPP_ONBOARDING] = 1.0;
    /* phone avoided for onboarding: the rows spill to sms */
    f->cfg.avoid_channels[SGS_OPP_ONBOARDING] = 1u << SGS_CHANNEL_PHONE;
    fx_rank(f);
    for (size_t r = 0; r < f->n_rows; r++)
        assert_int_equal(f->r_channel[r], SGS_CHANNEL_SMS);
    assert_int_equal(f->sum.n_avoided_moved, 3);
    assert_int_equal(f->sum.n_unanswered_moved, 0);
    /* every channel avoided: left out and counted */
    f->cfg.avoid_channels[SGS_OPP_ONBOARDING] = 0xFE;
    fx_rank(f);
    assert_int_equal(f->n_rows, 0);
    assert_int_equal(f->sum.n_avoided_left_out, 3);
    /* phone avoided for onboarding customers of one RFM segment only */
    f->cfg.avoid_channels[SGS_OPP_ONBOARDING] = 0;
    uint8_t rfm[3] = {SGS_RFM_NEW, SGS_RFM_PROMISING, SGS_RFM_SEGMENT_COUNT};
    f->in.rfm_segment = rfm;
    f->cfg.avoid_channels_by_rfm[SGS_OPP_ONBOARDING][SGS_RFM_PROMISING] = 1u << SGS_CHANNEL_PHONE;
    fx_rank(f);
    assert_int_equal(f->n_rows, 3);
    for (size_t r = 0; r < f->n_rows; r++)
        assert_int_equal(f->r_channel[r], f->r_index[r] == 1 ? SGS_CHANNEL_SMS : SGS_CHANNEL_PHONE);
    assert_int_equal(f->sum.n_avoided_moved, 1);
    f->in.rfm_segment = NULL; /* without the column the segment's row is not used */
    fx_rank(f);
    assert_int_equal(f->sum.n_avoided_moved, 0);
    f->cfg.value_scale[SGS_OPP_GROW] = NAN;
    sgs_error_t err = {0};
    assert_int_equal(sgs_opportunity_config_check(&f->cfg, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "value_scale of grow");
    fx_free(f);
}

static void test_errors(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    fx_customer(f, 1, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 996);
    fx_customer(f, 2, SGS_STAGE_NEW, -3);
    hb_buy(&f->h, 996);
    sgs_error_t err = {0};
    f->cfg.save_clv_quantile = 1.5;
    f->cu = hb_input(&f->h);
    f->in.customers = &f->cu;
    f->in.stage = f->stage;
    f->in.cycle_days = f->cycle;
    f->in.days_overdue = f->overdue;
    f->in.as_of_day = T;
    assert_int_equal(sgs_opportunities_detect(&f->in, &f->cfg, NULL, f->mask, &f->st, &err),
                     SGS_ECONFIG);
    sgs_assert_contains(err.message, "save_clv_quantile");
    sgs_opportunity_config_default(&f->cfg);
    f->cfg.spill_order[1] = SGS_CHANNEL_PHONE; /* repeated */
    assert_int_equal(sgs_opportunity_config_check(&f->cfg, &err), SGS_ECONFIG);
    sgs_opportunity_config_default(&f->cfg);
    f->cfg.channel_capacity[SGS_CHANNEL_SMS] = -2;
    assert_int_equal(sgs_opportunity_config_check(&f->cfg, &err), SGS_ECONFIG);
    sgs_opportunity_config_default(&f->cfg);
    f->h.segment[1] = 2;
    assert_int_equal(sgs_opportunities_detect(&f->in, &f->cfg, NULL, f->mask, &f->st, &err),
                     SGS_EDATA);
    sgs_assert_contains(err.message, "customer_id 2");
    f->h.segment[1] = -1;
    assert_int_equal(sgs_opportunities_detect(&f->in, &f->cfg, NULL, f->mask, &f->st, &err), 0);
    assert_int_equal(f->st.n_candidates, 2);
    sgs_opportunity_rows_t rows = {f->r_index,   f->r_kind, f->r_priority, f->r_value,
                                   f->r_channel, f->r_rank, f->r_control};
    size_t n_rows = 0;
    assert_int_equal(sgs_opportunities_rank(&f->in, &f->cfg, &f->st, f->mask, NULL, &rows, 1,
                                            &n_rows, NULL, &err),
                     SGS_EINVAL);
    f->mask[0] = 0; /* masks that do not match the stats */
    assert_int_equal(sgs_opportunities_rank(&f->in, &f->cfg, &f->st, f->mask, NULL, &rows, 9,
                                            &n_rows, NULL, &err),
                     SGS_EINVAL);
    sgs_opportunity_stats_free(&f->st);
    /* an empty base gives an empty list */
    sgs_stage_input_t empty_cu = {0};
    sgs_opportunity_input_t empty = {0};
    empty.customers = &empty_cu;
    sgs_opportunity_stats_t empty_st;
    assert_int_equal(sgs_opportunities_detect(&empty, &f->cfg, NULL, f->mask, &empty_st, &err), 0);
    assert_int_equal(empty_st.n_candidates, 0);
    assert_int_equal(sgs_opportunities_rank(&empty, &f->cfg, &empty_st, NULL, NULL, &rows, 0,
                                            &n_rows, NULL, &err),
                     0);
    assert_int_equal(n_rows, 0);
    sgs_opportunity_stats_free(&empty_st);
    for (long k = 0; k < 12; k++) {
        sgs_test_fail_alloc_after(k);
        int rc1 = sgs_opportunities_detect(&f->in, &f->cfg, NULL, f->mask, &f->st, &err);
        int rc2 = rc1 ? rc1
                      : sgs_opportunities_rank(&f->in, &f->cfg, &f->st, f->mask, NULL, &rows, 9,
                                               &n_rows, NULL, &err);
        sgs_test_fail_alloc_after(-1);
        sgs_opportunity_stats_free(&f->st);
        if (rc2 != SGS_OK && rc2 != SGS_ENOMEM)
            fail_msg("allocation %ld failing: %d (%s)", k, rc2, err.message);
    }
    fx_free(f);
}

/* ---- the stage kernel feeding the triggers --------------------------------------------------- */

static void test_with_stage_kernel(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* a lapsed customer (cycle 8, 40 days since the last purchase) and a new one */
    size_t lapsed = fx_customer(f, 1, 0, 0);
    hb_buy(&f->h, 952);
    hb_buy(&f->h, 960);
    f->h.rate[lapsed] = 0.125;
    f->h.p_buy[lapsed] = NAN; /* unknown: the overdue rules decide */
    size_t fresh = fx_customer(f, 2, 0, 0);
    hb_buy(&f->h, 998);
    sgs_stage_input_t cu = hb_input(&f->h);
    sgs_stage_output_t out = {f->stage, f->cycle, f->overdue, NULL, NULL, NULL, NULL, 0};
    assert_int_equal(sgs_stages_compute(&cu, T, NULL, NULL, &out, NULL, NULL), 0);
    assert_int_equal(f->stage[lapsed], SGS_STAGE_LAPSED);
    assert_int_equal(f->stage[fresh], SGS_STAGE_NEW);
    fx_detect(f, 0, 0);
    /* overdue 32, lapse at 24: crossed 8 days ago -> recent */
    assert_fires(f, lapsed, SGS_OPP_WIN_BACK, 1);
    assert_fires(f, fresh, SGS_OPP_ONBOARDING, 1);
    assert_reason(f, lapsed, SGS_OPP_WIN_BACK,
                  "lapsed: 40 days since last purchase (cycle 8.0 days; lapse after 24.0 days "
                  "overdue); p_buy unknown");
    fx_free(f);
}

/* ---- threads and the serial reference -------------------------------------------------------- */

typedef struct ref_row {
    double value;
    int64_t index;
    int32_t priority;
    int kind;
} ref_row_t;

static int ref_cmp(const void *pa, const void *pb)
{
    const ref_row_t *a = pa, *b = pb;
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    if (a->value != b->value)
        return a->value > b->value ? -1 : 1;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    return a->kind - b->kind;
}

/* The control draw: off at share 0; a different seed, kind or day is a new draw; the
 * share is kept over many customers. */
static void test_control_draw(void **state)
{
    (void)state;
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    sgs_assert_close(cfg.control_share, 0.1, 0, 0);
    int64_t n = 200000, n_ctl = 0, same_next_day = 0, same_other_kind = 0, same_other_seed = 0;
    sgs_opportunity_config_t other = cfg;
    other.control_seed = cfg.control_seed + 1;
    for (int64_t id = 1; id <= n; id++) {
        int c = sgs_opportunity_is_control(&cfg, id * 7919, SGS_OPP_WIN_BACK, 20000);
        n_ctl += c;
        same_next_day += c && sgs_opportunity_is_control(&cfg, id * 7919, SGS_OPP_WIN_BACK, 20001);
        same_other_kind += c && sgs_opportunity_is_control(&cfg, id * 7919, SGS_OPP_GROW, 20000);
        same_other_seed +=
            c && sgs_opportunity_is_control(&other, id * 7919, SGS_OPP_WIN_BACK, 20000);
    }
    /* 0.1 of 200,000: sd 134 */
    sgs_assert_cmp(llabs(n_ctl - n / 10), <, 600);
    /* independent draws: about 0.1 of the control customers are control again (sd 42) */
    sgs_assert_cmp(llabs(same_next_day - n / 100), <, 250);
    sgs_assert_cmp(llabs(same_other_kind - n / 100), <, 250);
    sgs_assert_cmp(llabs(same_other_seed - n / 100), <, 250);
    cfg.control_share = 0;
    for (int64_t id = 1; id <= 1000; id++)
        assert_int_equal(sgs_opportunity_is_control(&cfg, id, SGS_OPP_GROW, 20000), 0);
    cfg.control_share = 0.6;
    sgs_error_t err = {0};
    assert_int_equal(sgs_opportunity_config_check(&cfg, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "control_share");
}

static void test_threads_identical_and_reference(void **state)
{
    (void)state;
    const size_t n = 50000;
    big_t b;
    big_make(&b, n, 99);
    sgs_stage_input_t cu = big_input(&b);
    const int32_t as_of = 900;
    uint8_t *stage = malloc(n), *stage_cmp = malloc(n);
    double *cycle = malloc(n * sizeof *cycle), *overdue = malloc(n * sizeof *overdue);
    double *c2 = malloc(n * sizeof *c2), *o2 = malloc(n * sizeof *o2);
    sgs_stage_output_t so = {stage, cycle, overdue, NULL, NULL, NULL, NULL, 0};
    assert_int_equal(sgs_stages_compute(&cu, as_of, NULL, NULL, &so, NULL, NULL), 0);
    sgs_stage_input_t cu_then = cu;
    cu_then.p_buy = NULL;
    sgs_stage_output_t so2 = {stage_cmp, c2, o2, NULL, NULL, NULL, NULL, 0};
    assert_int_equal(sgs_stages_compute(&cu_then, as_of - 60, NULL, NULL, &so2, NULL, NULL), 0);
    int64_t *direct = malloc(n * sizeof *direct), *indirect = malloc(n * sizeof *indirect);
    double *nv = malloc(n * sizeof *nv);
    sgs_influence_output_t io = {direct, indirect, nv, NULL, NULL, NULL};
    assert_int_equal(sgs_influence_compute(n, b.id, b.referrer, b.clv, NULL, NULL, &io, NULL, NULL),
                     0);
    sgs_opportunity_input_t in = {&cu,        as_of,  stage,    cycle, overdue, NULL, stage_cmp,
                                  as_of - 60, direct, indirect, nv,    NULL,    NULL};
    for (int all = 0; all <= 1; all++) {
        sgs_opportunity_config_t cfg;
        sgs_opportunity_config_default(&cfg);
        cfg.all_opportunities = all;
        cfg.channel_capacity[SGS_CHANNEL_SMS] = 300;
        cfg.channel_capacity[SGS_CHANNEL_EMAIL] = 2000;
        uint16_t *mask[3];
        sgs_opportunity_stats_t st[3];
        size_t cap = n * 9, n_rows[3];
        sgs_opportunity_list_summary_t sum[3];
        int64_t *ci[3], *rk[3];
        uint8_t *kd[3], *ch[3], *ctl[3];
        int32_t *pr[3];
        double *val[3];
        for (int t = 0; t < 3; t++) {
            sgs_exec_t exec = {.n_threads = t + 1, .grain = 1}; /* grain 1: every thread works */
            mask[t] = malloc(n * sizeof(uint16_t));
            ci[t] = malloc(cap * sizeof(int64_t));
            rk[t] = malloc(cap * sizeof(int64_t));
            kd[t] = malloc(cap);
            ch[t] = malloc(cap);
            ctl[t] = malloc(cap);
            pr[t] = malloc(cap * sizeof(int32_t));
            val[t] = malloc(cap * sizeof(double));
            sgs_error_t err = {0};
            if (sgs_opportunities_detect(&in, &cfg, &exec, mask[t], &st[t], &err))
                fail_msg("%s", err.message);
            sgs_opportunity_rows_t rows = {ci[t], kd[t], pr[t], val[t], ch[t], rk[t], ctl[t]};
            if (sgs_opportunities_rank(&in, &cfg, &st[t], mask[t], &exec, &rows, cap, &n_rows[t],
                                       &sum[t], &err))
                fail_msg("%s", err.message);
        }
        for (int t = 1; t < 3; t++) {
            assert_memory_equal(mask[0], mask[t], n * sizeof(uint16_t));
            assert_memory_equal(st[0].n_fired, st[t].n_fired, sizeof st[0].n_fired);
            sgs_assert_cmp(st[0].save_clv_threshold, ==, st[t].save_clv_threshold);
            assert_memory_equal(st[0].segment_clv_median, st[t].segment_clv_median,
                                (size_t)st[0].n_segments * sizeof(double));
            assert_int_equal(n_rows[0], n_rows[t]);
            assert_memory_equal(ci[0], ci[t], n_rows[0] * sizeof(int64_t));
            assert_memory_equal(kd[0], kd[t], n_rows[0]);
            assert_memory_equal(ch[0], ch[t], n_rows[0]);
            assert_memory_equal(val[0], val[t], n_rows[0] * sizeof(double));
            assert_memory_equal(rk[0], rk[t], n_rows[0] * sizeof(int64_t));
            assert_memory_equal(ctl[0], ctl[t], n_rows[0]);
            assert_memory_equal(&sum[0], &sum[t], sizeof sum[0]);
        }
        /* every kind fires somewhere in this base */
        for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
            if (st[0].n_fired[k] == 0)
                fail_msg("all=%d: %s never fired", all, sgs_opportunity_kind_name(k));
        /* reference: every candidate, qsort, greedy capacity */
        ref_row_t *ref = malloc(cap * sizeof *ref);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            ref_row_t best = {0};
            int have = 0;
            for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
                if (!((mask[0][i] >> k) & 1))
                    continue;
                ref_row_t r = {sgs_opportunity_value(&in, &cfg, &st[0], i, k), (int64_t)i,
                               cfg.priority[k], k};
                if (all)
                    ref[m++] = r;
                else if (!have || ref_cmp(&r, &best) < 0)
                    best = r;
                have = 1;
            }
            if (!all && have)
                ref[m++] = best;
        }
        assert_int_equal(m, (size_t)st[0].n_candidates);
        qsort(ref, m, sizeof *ref, ref_cmp);
        size_t w = 0;
        for (size_t k = 0; k < m && w < n_rows[0]; k++) {
            if (ref[k].index != ci[0][w] || ref[k].kind != kd[0][w])
                continue; /* left out for capacity */
            sgs_assert_cmp(ref[k].value, ==, val[0][w]);
            w++;
        }
        assert_int_equal(w, n_rows[0]);
        assert_int_equal((int64_t)m, sum[0].n_listed + sum[0].n_left_out);
        sgs_assert_cmp(sum[0].n_listed_per_channel[SGS_CHANNEL_SMS], <=, 300);
        sgs_assert_cmp(sum[0].n_listed_per_channel[SGS_CHANNEL_PHONE], ==, 500);
        sgs_assert_cmp(sum[0].n_spilled, >, 0);
        /* every reason formats and has no comma */
        char buf[SGS_OPPORTUNITY_REASON_MAX];
        for (size_t r = 0; r < n_rows[0]; r += 97) {
            int len = sgs_opportunity_reason(&in, &cfg, &st[0], (size_t)ci[0][r], kd[0][r], buf,
                                             sizeof buf);
            if (!(len > 0 && len < SGS_OPPORTUNITY_REASON_MAX))
                fail_msg("reason of %d chars: %s", len, buf);
            assert_null(strchr(buf, ','));
        }
        free(ref);
        /* control groups: each row's draw is its own (customer id, kind, day, seed); about
         * control_share of every kind, within 4 binomial standard deviations */
        int64_t n_ctl = 0;
        for (size_t r = 0; r < n_rows[0]; r++) {
            int want = sgs_opportunity_is_control(&cfg, b.id[ci[0][r]], kd[0][r], as_of);
            if (ctl[0][r] != want)
                fail_msg("row %zu: control %d, its draw says %d", r, ctl[0][r], want);
            n_ctl += ctl[0][r];
        }
        assert_int_equal(n_ctl, sum[0].n_control);
        for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
            double listed = (double)sum[0].n_listed_per_kind[k], c = cfg.control_share;
            double got = (double)sum[0].n_control_per_kind[k];
            if (fabs(got - c * listed) > 4.0 * sqrt(listed * c * (1 - c)) + 1.0)
                fail_msg("all=%d: %s: %.0f control of %.0f listed, expected about %.0f", all,
                         sgs_opportunity_kind_name(k), got, listed, c * listed);
        }
        for (int t = 0; t < 3; t++) {
            free(ctl[t]);
            sgs_opportunity_stats_free(&st[t]);
            free(mask[t]);
            free(ci[t]);
            free(rk[t]);
            free(kd[t]);
            free(ch[t]);
            free(pr[t]);
            free(val[t]);
        }
    }
    free(stage);
    free(stage_cmp);
    free(cycle);
    free(overdue);
    free(c2);
    free(o2);
    free(direct);
    free(indirect);
    free(nv);
    big_free(&b);
}

static int cand_compare(const void *pa, const void *pb)
{
    const sgs__opp_cand_t *a = pa, *b = pb;
    return sgs__opp_before(a, b) ? -1 : sgs__opp_before(b, a) ? 1 : 0;
}

/* The ranking's sort (in place, scratch of half the entries) against qsort, on sizes that give
 * merges whose left run is the longer one (an odd number of 8,192-entry runs), on 1 to 3
 * threads; priorities and values with many ties, so that the index decides. */
static void test_sort_in_place(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 17, 8191, 8192, 8193, 3 * 8192 + 5, 5 * 8192, 70001};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t m = sizes[z];
        sgs__opp_cand_t *want = malloc((m + 1) * sizeof *want), *a = malloc((m + 1) * sizeof *a);
        sgs__opp_cand_t *tmp = malloc((m / 2 + 1) * sizeof *tmp);
        assert_true(want && a && tmp);
        uint64_t s = 7 + z;
        for (size_t k = 0; k < m; k++) /* distinct (index, kind): k itself */
            want[k] = (sgs__opp_cand_t){.value = (double)(sgs_test_next(&s) % 50),
                                        .index = (int64_t)(k / 3),
                                        .priority = (int32_t)(sgs_test_next(&s) % 4),
                                        .kind = (uint8_t)(k % 3)};
        for (size_t k = m; k-- > 1;) { /* shuffled */
            size_t j = (size_t)(sgs_test_next(&s) % (k + 1));
            sgs__opp_cand_t t = want[k];
            want[k] = want[j];
            want[j] = t;
        }
        for (int threads = 1; threads <= 3; threads++) {
            memcpy(a, want, m * sizeof *a);
            assert_ptr_equal(sgs__opportunity_sort(a, tmp, m, threads), a);
            if (threads == 1)
                qsort(want, m, sizeof *want, cand_compare);
            for (size_t k = 0; k < m; k++) /* field by field: the padding is anything */
                if (a[k].index != want[k].index || a[k].kind != want[k].kind)
                    fail_msg("%zu candidates, %d threads: entry %zu is (%lld, %d), expected "
                             "(%lld, %d)",
                             m, threads, k, (long long)a[k].index, a[k].kind,
                             (long long)want[k].index, want[k].kind);
        }
        sgs_free(want);
        free(a);
        free(tmp);
    }
}

/* The radix sort of candidates as made (sgs__opportunity_sort_made) against qsort: inputs in
 * (index, kind) order, one to three kinds per customer; values with many ties, both zeros,
 * negatives, huge and tiny magnitudes; priorities with ties, negative, INT32_MIN and
 * INT32_MAX (every byte of the key busy), or all one (passes skipped); sizes 0, 1, 2 and
 * larger; on 1, 2 and 3 threads. Every candidate comes out whole, its bits and route
 * unchanged. */
static void test_sort_made(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 3, 17, 256, 70001, 70002};
    static const double special[] = {0.0,    -0.0,   1.0,     -1.0,  1e300, -1e300,
                                     1e-300, 5e-324, -5e-324, 0.125, 123.45};
    static const int32_t prio[] = {INT32_MIN, -7, 0, 3, 3, 90, 256, 65536, INT32_MAX};
    for (int mode = 0; mode < 3; mode++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            size_t m = sizes[z];
            sgs__opp_cand_t *want = malloc((m + 1) * sizeof *want),
                            *a = malloc((m + 1) * sizeof *a),
                            *tmp = malloc((m / 2 + 1) * sizeof *tmp);
            assert_true(want && a && tmp);
            uint64_t s = 1000 + 10 * (uint64_t)z + (uint64_t)mode;
            int64_t index = 0;
            uint8_t kind = 1;
            for (size_t k = 0; k < m; k++) {
                if (sgs_test_next(&s) % 3 == 0 || kind >= 9) { /* a new customer */
                    index += 1 + (int64_t)(sgs_test_next(&s) % 3);
                    kind = (uint8_t)(1 + sgs_test_next(&s) % 3);
                } else {
                    kind = (uint8_t)(kind + 1 + sgs_test_next(&s) % 2);
                }
                uint64_t r = sgs_test_next(&s);
                double v = r % 4 == 0  ? special[r / 4 % (sizeof special / sizeof *special)]
                           : mode == 2 ? (double)(int64_t)(r % 2001) - 1000.0
                                       : (double)(r % 40) * 0.5;
                int32_t p = mode == 0 ? 50 : prio[sgs_test_next(&s) % (sizeof prio / sizeof *prio)];
                want[k] = (sgs__opp_cand_t){.value = v,
                                            .index = index,
                                            .priority = p,
                                            .kind = kind,
                                            .route_own = (uint8_t)(r >> 8),
                                            .route_blocked = (uint8_t)(r >> 16),
                                            .route_flags = (uint8_t)(r >> 24 & 3u)};
            }
            sgs__opp_cand_t *made = malloc((m + 1) * sizeof *made);
            assert_true(made != NULL);
            memcpy(made, want, m * sizeof *made);
            qsort(want, m, sizeof *want, cand_compare);
            for (int threads = 1; threads <= 3; threads++) {
                memcpy(a, made, m * sizeof *a);
                sgs__opp_cand_t *got = sgs__opportunity_sort_made(a, tmp, m, threads);
                assert_ptr_equal(got, a);
                for (size_t k = 0; k < m; k++)
                    if (memcmp(&got[k].value, &want[k].value, sizeof(double)) != 0 ||
                        got[k].index != want[k].index || got[k].kind != want[k].kind ||
                        got[k].priority != want[k].priority ||
                        got[k].route_own != want[k].route_own ||
                        got[k].route_blocked != want[k].route_blocked ||
                        got[k].route_flags != want[k].route_flags)
                        fail_msg(
                            "mode %d, %zu candidates: entry %zu is (%lld, %d), expected (%lld, %d)",
                            mode, m, k, (long long)got[k].index, got[k].kind,
                            (long long)want[k].index, want[k].kind);
            }
            free(made);
            sgs_free(want);
            free(a);
            free(tmp);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_recovery),
        cmocka_unit_test(test_renewal_at_risk),
        cmocka_unit_test(test_win_back),
        cmocka_unit_test(test_save_high_value),
        cmocka_unit_test(test_overdue_reminder),
        cmocka_unit_test(test_onboarding),
        cmocka_unit_test(test_detractor),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_advocate),
        cmocka_unit_test(test_one_per_customer_and_ranking),
        cmocka_unit_test(test_capacity_and_spill),
        cmocka_unit_test(test_value_scale_and_avoided_channels),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_with_stage_kernel),
        cmocka_unit_test(test_control_draw),
        cmocka_unit_test(test_threads_identical_and_reference),
        cmocka_unit_test(test_sort_in_place),
        cmocka_unit_test(test_sort_made),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
