/*
 * tests/unit/test_contact_policy.c — the contact policy (kernels/contact_policy.h): a recent
 * campaign contact holds back the kinds below the priority bar, at the edge of the window
 * and with the rule off; a channel with enough unanswered contacts is blocked, unless the
 * customer answered through it or through an unknown channel, and never without the channel
 * column; the ranking moves a row off a blocked channel or leaves it out, and counts both;
 * and the same masks and counts for 1, 2 and 3 threads and the serial twin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/contact_policy.h"
#include "tests/support/test_support.h"
#include "tests/unit/history_builder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T 1000 /* the as-of day */
#define BIT(k) ((uint16_t)(1u << (k)))

typedef struct fx {
    hb_t h;
    uint16_t fired[HB_MAX_CUSTOMERS];
    uint8_t blocked[HB_MAX_CUSTOMERS];
    uint8_t stage[HB_MAX_CUSTOMERS];
    double cycle[HB_MAX_CUSTOMERS], overdue[HB_MAX_CUSTOMERS];
    sgs_stage_input_t cu;
    sgs_opportunity_input_t in;
    sgs_opportunity_config_t cfg;
    sgs_opportunity_stats_t st;
    sgs_contact_policy_stats_t policy;
} fx_t;

static fx_t *fx_new(void)
{
    fx_t *f = calloc(1, sizeof *f);
    hb_init(&f->h);
    sgs_opportunity_config_default(&f->cfg);
    return f;
}

static size_t fx_customer(fx_t *f, int64_t id, uint16_t fired)
{
    size_t i = hb_customer(&f->h, id);
    f->fired[i] = fired;
    f->stage[i] = SGS_STAGE_ACTIVE;
    f->cycle[i] = 30.0;
    f->overdue[i] = 0.0;
    return i;
}

/* n contacts of the current customer through channel c, days before the as-of day. */
static void contacts(fx_t *f, int n, uint8_t c)
{
    for (int k = 0; k < n; k++)
        hb_event_via(&f->h, 500 + 10 * k, SGS_EVENT_CAMPAIGN_CONTACT, c);
}

static void fx_apply(fx_t *f)
{
    f->cu = hb_input(&f->h);
    memset(&f->in, 0, sizeof f->in);
    f->in.customers = &f->cu;
    f->in.as_of_day = T;
    f->in.stage = f->stage;
    f->in.cycle_days = f->cycle;
    f->in.days_overdue = f->overdue;
    memset(&f->st, 0, sizeof f->st);
    f->st.save_clv_threshold = f->st.advocate_value_threshold = f->st.global_clv_median = NAN;
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    if (sgs_contact_policy_apply(&f->in, &f->cfg, &exec, f->fired, f->blocked, &f->st, &f->policy,
                                 &err))
        fail_msg("policy: %s", err.message);
    f->in.blocked_channels = f->blocked;
}

static void test_recent_contact_holds_back_below_the_bar(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    size_t a = fx_customer(f, 1, BIT(SGS_OPP_WIN_BACK) | BIT(SGS_OPP_SERVICE_RECOVERY));
    hb_event_via(&f->h, T - 13, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_EMAIL); /* in the 14 */
    size_t b = fx_customer(f, 2, BIT(SGS_OPP_WIN_BACK));
    hb_event_via(&f->h, T - 14, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_EMAIL); /* just out */
    size_t c = fx_customer(f, 3, BIT(SGS_OPP_OVERDUE_REMINDER));
    hb_event_via(&f->h, T, SGS_EVENT_CAMPAIGN_CONTACT, 0); /* today, channel unknown */
    size_t d = fx_customer(f, 4, BIT(SGS_OPP_GROW));
    hb_event_via(&f->h, T + 1, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_EMAIL); /* after: none */
    size_t e = fx_customer(f, 5, BIT(SGS_OPP_SAVE_HIGH_VALUE)); /* priority 80: at the bar */
    hb_event(&f->h, T - 1, SGS_EVENT_CAMPAIGN_CONTACT, NAN);
    fx_apply(f);
    assert_int_equal(f->fired[a], BIT(SGS_OPP_SERVICE_RECOVERY));
    assert_int_equal(f->fired[b], BIT(SGS_OPP_WIN_BACK));
    assert_int_equal(f->fired[c], 0);
    assert_int_equal(f->fired[d], BIT(SGS_OPP_GROW));
    assert_int_equal(f->fired[e], BIT(SGS_OPP_SAVE_HIGH_VALUE));
    assert_int_equal(f->policy.n_recently_contacted, 3); /* a, c, e */
    assert_int_equal(f->policy.n_held_back, 1);          /* c */
    assert_int_equal(f->policy.n_held_back_per_kind[SGS_OPP_WIN_BACK], 1);
    assert_int_equal(f->policy.n_held_back_per_kind[SGS_OPP_OVERDUE_REMINDER], 1);
    assert_int_equal(f->st.n_customers, 4);
    assert_int_equal(f->st.n_candidates, 4);
    assert_int_equal(f->policy.n_with_blocked_channel, 0);

    /* a higher bar holds e back too; the rule off holds nobody */
    f->fired[a] = BIT(SGS_OPP_WIN_BACK) | BIT(SGS_OPP_SERVICE_RECOVERY);
    f->fired[c] = BIT(SGS_OPP_OVERDUE_REMINDER);
    f->cfg.contact_override_priority = 81;
    fx_apply(f);
    assert_int_equal(f->fired[e], 0);
    assert_int_equal(f->policy.n_held_back, 2);
    f->fired[a] = BIT(SGS_OPP_WIN_BACK) | BIT(SGS_OPP_SERVICE_RECOVERY);
    f->fired[c] = BIT(SGS_OPP_OVERDUE_REMINDER);
    f->fired[e] = BIT(SGS_OPP_SAVE_HIGH_VALUE);
    f->cfg.min_days_between_contacts = 0;
    fx_apply(f);
    assert_int_equal(f->policy.n_recently_contacted, 0);
    assert_int_equal(f->policy.n_held_back, 0);
    assert_int_equal(f->st.n_candidates, 5);
    /* every fired kind counts as a candidate with all_opportunities */
    f->st.all_opportunities = 1;
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    assert_int_equal(sgs_contact_policy_apply(&f->in, &f->cfg, &exec, f->fired, f->blocked, &f->st,
                                              &f->policy, &err),
                     SGS_OK);
    assert_int_equal(f->st.n_candidates, 6);
    sgs_free(f);
}

static void test_unanswered_channels_are_blocked(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    size_t e = fx_customer(f, 1, BIT(SGS_OPP_WIN_BACK));
    contacts(f, 3, SGS_CHANNEL_EMAIL);
    contacts(f, 2, SGS_CHANNEL_SMS);
    size_t g = fx_customer(f, 2, BIT(SGS_OPP_WIN_BACK));
    contacts(f, 4, SGS_CHANNEL_EMAIL);
    hb_event_via(&f->h, 900, SGS_EVENT_CAMPAIGN_RESPONSE, SGS_CHANNEL_EMAIL);
    size_t u = fx_customer(f, 3, BIT(SGS_OPP_WIN_BACK));
    contacts(f, 4, SGS_CHANNEL_EMAIL);
    hb_event_via(&f->h, 900, SGS_EVENT_CAMPAIGN_RESPONSE, 0); /* to which channel? unknown */
    size_t all = fx_customer(f, 4, BIT(SGS_OPP_WIN_BACK));
    for (uint8_t c = 1; c < SGS_CHANNEL_COUNT; c++)
        contacts(f, 3, c);
    size_t later = fx_customer(f, 5, BIT(SGS_OPP_WIN_BACK));
    contacts(f, 2, SGS_CHANNEL_EMAIL);
    hb_event_via(&f->h, T + 5, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_EMAIL); /* after as-of */
    fx_apply(f);
    assert_int_equal(f->blocked[e], 1u << SGS_CHANNEL_EMAIL);
    assert_int_equal(f->blocked[g], 0);
    assert_int_equal(f->blocked[u], 0);
    assert_int_equal(f->blocked[all], 0xFE);
    assert_int_equal(f->blocked[later], 0);
    assert_int_equal(f->policy.n_with_blocked_channel, 2);
    assert_int_equal(f->policy.n_blocked_per_channel[SGS_CHANNEL_EMAIL], 2);
    assert_int_equal(f->policy.n_blocked_per_channel[SGS_CHANNEL_STORE], 1);

    /* the ranking: e prefers email, spills past it; `all` has no channel left */
    f->h.preferred[e] = f->h.preferred[all] = SGS_CHANNEL_EMAIL;
    f->h.preferred[g] = f->h.preferred[u] = f->h.preferred[later] = SGS_CHANNEL_EMAIL;
    fx_apply(f);
    int64_t idx[8], rank[8];
    uint8_t kind[8], channel[8], control[8];
    int32_t prio[8];
    double value[8];
    sgs_opportunity_rows_t rows = {idx, kind, prio, value, channel, rank, control};
    size_t n_rows = 0;
    sgs_opportunity_list_summary_t sum;
    f->cfg.control_share = 0;
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    assert_int_equal(sgs_opportunities_rank(&f->in, &f->cfg, &f->st, f->fired, &exec, &rows, 8,
                                            &n_rows, &sum, &err),
                     SGS_OK);
    assert_int_equal(n_rows, 4);
    assert_int_equal(sum.n_unanswered_moved, 1);
    assert_int_equal(sum.n_unanswered_left_out, 1);
    assert_int_equal(sum.n_left_out, 1);
    for (size_t r = 0; r < n_rows; r++)
        assert_int_equal(channel[r], (size_t)idx[r] == e ? SGS_CHANNEL_APP : SGS_CHANNEL_EMAIL);

    /* without the channel column, or with the rule off, nothing is blocked */
    f->cfg.max_unanswered_contacts = 0;
    fx_apply(f);
    assert_int_equal(f->policy.n_with_blocked_channel, 0);
    f->cfg.max_unanswered_contacts = 3;
    f->cu = hb_input(&f->h);
    f->cu.event_channel = NULL;
    sgs_assert_cmp(sgs_contact_policy_apply(&f->in, &f->cfg, &exec, f->fired, f->blocked, &f->st,
                                            &f->policy, &err),
                   ==, SGS_OK);
    assert_int_equal(f->policy.n_with_blocked_channel, 0);
    sgs_free(f);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    fx_customer(f, 1, BIT(SGS_OPP_WIN_BACK));
    fx_apply(f);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    assert_int_equal(
        sgs_contact_policy_apply(&f->in, &f->cfg, &exec, f->fired, NULL, &f->st, &f->policy, &err),
        SGS_EINVAL);
    f->cfg.max_unanswered_contacts = -1;
    assert_int_equal(sgs_contact_policy_apply(&f->in, &f->cfg, &exec, f->fired, f->blocked, &f->st,
                                              &f->policy, &err),
                     SGS_ECONFIG);
    sgs_assert_contains(err.message, "max_unanswered_contacts");
    sgs_free(f);
}

/* 50,000 random customers (four blocks): 1, 2, 3 threads against the serial twin. */
static void test_threads_and_twin(void **state)
{
    (void)state;
    big_t b;
    const size_t n = 50000;
    big_make(&b, n, 9);
    sgs_stage_input_t cu = big_input(&b);
    sgs_opportunity_input_t in = {0};
    in.customers = &cu;
    in.as_of_day = 800; /* events run 700..~1000: recent contacts, later ones ignored */
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    cfg.max_unanswered_contacts = 1; /* the base has few contacts per customer */
    cfg.min_days_between_contacts = 60;
    uint16_t *fired0 = malloc(n * sizeof *fired0), *ref = malloc(n * sizeof *ref),
             *got = malloc(n * sizeof *got);
    uint8_t *ref_b = malloc(n), *got_b = malloc(n);
    for (size_t i = 0; i < n; i++)
        fired0[i] = (uint16_t)(((uint64_t)b.id[i] * 2654435761u >> 9) & 0x3FEu);
    sgs_opportunity_stats_t st_ref = {0}, st_got = {0};
    sgs_contact_policy_stats_t p_ref, p_got;
    sgs_error_t err = {0};
    memcpy(ref, fired0, n * sizeof *ref);
    assert_int_equal(sgs_contact_policy_apply_ref(&in, &cfg, ref, ref_b, &st_ref, &p_ref, &err), 0);
    sgs_assert_cmp(p_ref.n_held_back, >, 100);
    sgs_assert_cmp(p_ref.n_with_blocked_channel, >, 100);
    for (int threads = 1; threads <= 3; threads++) {
        sgs_exec_t exec = {.n_threads = threads, .grain = 1};
        memcpy(got, fired0, n * sizeof *got);
        memset(&st_got, 0, sizeof st_got);
        assert_int_equal(
            sgs_contact_policy_apply(&in, &cfg, &exec, got, got_b, &st_got, &p_got, &err), 0);
        assert_memory_equal(got, ref, n * sizeof *got);
        assert_memory_equal(got_b, ref_b, n);
        assert_memory_equal(&p_got, &p_ref, sizeof p_got);
        assert_int_equal(st_got.n_candidates, st_ref.n_candidates);
        assert_int_equal(st_got.n_customers, st_ref.n_customers);
    }
    free(fired0);
    free(ref);
    free(got);
    free(ref_b);
    free(got_b);
    big_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recent_contact_holds_back_below_the_bar),
        cmocka_unit_test(test_unanswered_channels_are_blocked),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_threads_and_twin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
