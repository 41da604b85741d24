/*
 * tests/unit/test_audit.c — the interaction audit kernel (kernels/audit.h): every count on
 * hand-built histories at the edges of its windows (an event 29, 30, 89, 90 days before the
 * as-of day, after it), channels (known, unknown, out of range, no column), the latest
 * survey, untapped opportunities per group and kind; bad groups and windows; and the same
 * bits for 1, 2 and 3 threads and the serial twin on a random base of several blocks; the two
 * groupings of one pass against two calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/audit.h"
#include "tests/support/test_support.h"
#include "tests/unit/history_builder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T 1000 /* the as-of day */
#define BIT(k) ((uint16_t)(1u << (k)))

/* Four customers: A and D in group 0, B and C in group 1 (comments give each event's age). */
static void build(hb_t *h, uint8_t group[4], uint16_t fired[4])
{
    hb_init(h);
    hb_customer(h, 10);                                                /* A */
    hb_event(h, 920, SGS_EVENT_COMPLAINT, NAN);                        /* 80: long only */
    hb_event(h, 930, SGS_EVENT_SURVEY, 8.0);                           /* 70 */
    hb_event_via(h, 950, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_SMS); /* 50: long only */
    hb_event(h, 960, SGS_EVENT_SURVEY, 4.0);                           /* 40: the latest */
    hb_event_via(h, 995, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_EMAIL);
    hb_event_via(h, 998, SGS_EVENT_CAMPAIGN_RESPONSE, SGS_CHANNEL_EMAIL);
    hb_event(h, 999, SGS_EVENT_SUPPORT, NAN);
    hb_event_via(h, 1001, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_EMAIL); /* after: ignored */
    hb_event(h, 1005, SGS_EVENT_SURVEY, 10.0);                            /* after: ignored */
    hb_customer(h, 11);                                                   /* B: nothing */
    hb_customer(h, 12);                                                   /* C */
    hb_event_via(h, 900, SGS_EVENT_CAMPAIGN_CONTACT, 0);                  /* 100: outside both */
    hb_event(h, 905, SGS_EVENT_SURVEY, 2.0);              /* 95: outside the long window */
    hb_event_via(h, 990, SGS_EVENT_CAMPAIGN_RESPONSE, 9); /* 10: channel 9 is unknown */
    hb_customer(h, 13);                                   /* D */
    hb_event_via(h, 910, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_WEB); /* 90: outside */
    hb_event_via(h, 911, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_WEB); /* 89: long only */
    hb_event_via(h, 970, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_WEB); /* 30: long only */
    hb_event_via(h, 971, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_WEB); /* 29: both */
    const uint8_t g[4] = {0, 1, 1, 0};
    const uint16_t f[4] = {BIT(3), BIT(5) | BIT(8), BIT(5), 0};
    memcpy(group, g, sizeof g);
    memcpy(fired, f, sizeof f);
}

static void compute(const sgs_stage_input_t *in, const uint8_t *group, size_t n_groups,
                    const uint16_t *fired, sgs_audit_row_t *rows,
                    int64_t (*untapped)[SGS_AUDIT_WINDOWS])
{
    sgs_audit_config_t cfg;
    sgs_audit_config_default(&cfg);
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    if (sgs_audit_compute(in, T, &cfg, group, n_groups, fired, &exec, rows, untapped, &err))
        fail_msg("audit: %s", err.message);
}

static void test_counts_by_window_and_channel(void **state)
{
    (void)state;
    hb_t *h = malloc(sizeof *h);
    uint8_t group[4];
    uint16_t fired[4];
    build(h, group, fired);
    sgs_stage_input_t in = hb_input(h);
    sgs_audit_row_t rows[3];
    int64_t untapped[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];
    compute(&in, group, 2, fired, rows, untapped);

    const sgs_audit_row_t *g0 = &rows[0], *g1 = &rows[1], *all = &rows[2];
    assert_int_equal(g0->customers, 2);
    assert_int_equal(g0->with_opportunity, 1);
    assert_int_equal(g0->contacted[0], 2); /* A on day 995, D on day 971 */
    assert_int_equal(g0->contacted[1], 2);
    assert_int_equal(g0->contacts[0][SGS_CHANNEL_EMAIL], 1);
    assert_int_equal(g0->contacts[0][SGS_CHANNEL_WEB], 1);
    assert_int_equal(g0->contacts[0][SGS_CHANNEL_SMS], 0);
    assert_int_equal(g0->contacts[1][SGS_CHANNEL_EMAIL], 1);
    assert_int_equal(g0->contacts[1][SGS_CHANNEL_SMS], 1);
    assert_int_equal(g0->contacts[1][SGS_CHANNEL_WEB], 3);      /* ages 89, 30, 29; not 90 */
    assert_int_equal(g0->contacted_via[1][SGS_CHANNEL_WEB], 1); /* one customer */
    assert_int_equal(g0->contacted_via[1][SGS_CHANNEL_SMS], 1);
    assert_int_equal(g0->contacted_via[0][SGS_CHANNEL_SMS], 0);
    assert_int_equal(g0->responses[0][SGS_CHANNEL_EMAIL], 1);
    assert_int_equal(g0->responses[1][SGS_CHANNEL_EMAIL], 1);
    assert_int_equal(g0->responders[0], 1);
    assert_int_equal(g0->support[0], 1);
    assert_int_equal(g0->complaints[0], 0);
    assert_int_equal(g0->complaints[1], 1);
    assert_int_equal(g0->untapped[0], 0); /* A was contacted */
    assert_int_equal(g0->surveyed, 1);
    sgs_assert_cmp(g0->survey_sum, ==, 4.0); /* the latest in the window, not the later one */

    assert_int_equal(g1->customers, 2);
    assert_int_equal(g1->with_opportunity, 2);
    assert_int_equal(g1->contacted[1], 0);    /* C's contact is 100 days old */
    assert_int_equal(g1->responses[0][0], 1); /* channel 9 counts as unknown */
    assert_int_equal(g1->responders[1], 1);
    assert_int_equal(g1->untapped[0], 2);
    assert_int_equal(g1->untapped[1], 2);
    assert_int_equal(g1->surveyed, 0); /* C's survey is 95 days old */

    assert_int_equal(all->customers, 4);
    assert_int_equal(all->contacts[1][SGS_CHANNEL_WEB], 3);
    assert_int_equal(all->untapped[0], 2);
    assert_int_equal(untapped[5][0], 2);
    assert_int_equal(untapped[8][1], 1);
    assert_int_equal(untapped[3][0], 0);

    /* without the channel column every contact and response is on channel unknown */
    in.event_channel = NULL;
    compute(&in, group, 2, fired, rows, untapped);
    assert_int_equal(rows[0].contacts[1][0], 5);
    assert_int_equal(rows[0].contacts[1][SGS_CHANNEL_WEB], 0);
    assert_int_equal(rows[0].responses[0][0], 1);

    /* without events: customers and opportunities only */
    in.event_offset = NULL;
    compute(&in, group, 2, fired, rows, untapped);
    assert_int_equal(rows[2].customers, 4);
    assert_int_equal(rows[2].with_opportunity, 3);
    assert_int_equal(rows[2].contacted[1], 0);
    assert_int_equal(rows[2].untapped[1], 3);
    free(h);
}

static void test_bad_group_and_windows(void **state)
{
    (void)state;
    hb_t *h = malloc(sizeof *h);
    uint8_t group[4];
    uint16_t fired[4];
    build(h, group, fired);
    sgs_stage_input_t in = hb_input(h);
    sgs_audit_row_t rows[3];
    sgs_audit_config_t cfg;
    sgs_audit_config_default(&cfg);
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    group[2] = 2; /* customer 12 outside 0..1 */
    assert_int_equal(sgs_audit_compute(&in, T, &cfg, group, 2, fired, &exec, rows, NULL, &err),
                     SGS_EDATA);
    sgs_assert_contains(err.message, "customer 12 has group 2");
    assert_int_equal(sgs_audit_compute_ref(&in, T, &cfg, group, 2, fired, rows, NULL, &err),
                     SGS_EDATA);
    group[2] = 1;
    cfg.window_days[1] = cfg.window_days[0];
    assert_int_equal(sgs_audit_compute(&in, T, &cfg, group, 2, fired, &exec, rows, NULL, &err),
                     SGS_ECONFIG);
    sgs_assert_contains(err.message, "windows of 30 and 30 days");
    cfg.window_days[0] = 0;
    assert_int_equal(sgs_audit_config_check(&cfg, &err), SGS_ECONFIG);
    free(h);
}

/* Two surveys on the latest day: the later row counts (the kernel walks newest first and stops
 * at the first event older than the long window; the twin reads every row in order). */
static void test_latest_survey_of_a_day_and_old_history(void **state)
{
    (void)state;
    hb_t *h = malloc(sizeof *h);
    hb_init(h);
    hb_customer(h, 10);
    hb_event_via(h, 500, SGS_EVENT_CAMPAIGN_CONTACT, SGS_CHANNEL_EMAIL); /* years before */
    hb_event(h, 600, SGS_EVENT_SURVEY, 1.0);
    hb_event(h, 940, SGS_EVENT_SURVEY, 3.0);
    hb_event(h, 960, SGS_EVENT_SURVEY, 5.0);
    hb_event(h, 960, SGS_EVENT_SURVEY, 9.0);  /* the same day, a later row: this one */
    hb_event(h, 980, SGS_EVENT_SURVEY, NAN);  /* no score: not a survey answer */
    hb_event(h, 1002, SGS_EVENT_SURVEY, 2.0); /* after the as-of day */
    sgs_stage_input_t in = hb_input(h);
    const uint8_t group[1] = {0};
    const uint16_t fired[1] = {0};
    sgs_audit_row_t rows[2], ref[2];
    int64_t untapped[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS],
        ref_untapped[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];
    compute(&in, group, 1, fired, rows, untapped);
    assert_int_equal(rows[0].surveyed, 1);
    sgs_assert_cmp(rows[0].survey_sum, ==, 9.0);
    assert_int_equal(rows[0].contacted[1], 0); /* the contact 500 days back is outside */
    sgs_audit_config_t cfg;
    sgs_audit_config_default(&cfg);
    assert_int_equal(sgs_audit_compute_ref(&in, T, &cfg, group, 1, fired, ref, ref_untapped, NULL),
                     SGS_OK);
    assert_memory_equal(rows, ref, sizeof rows);
    assert_memory_equal(untapped, ref_untapped, sizeof untapped);
    free(h);
}

/* A random base of 50,000 customers (four blocks): 1, 2, 3 threads and the serial twin. */
static void test_threads_and_twin(void **state)
{
    (void)state;
    big_t b;
    const size_t n = 50000;
    big_make(&b, n, 5);
    sgs_stage_input_t in = big_input(&b);
    uint8_t *group = malloc(n);
    uint16_t *fired = malloc(n * sizeof *fired);
    for (size_t i = 0; i < n; i++) {
        group[i] = (uint8_t)((b.id[i] / 3) % SGS_STAGE_COUNT);
        fired[i] = (uint16_t)(((uint64_t)b.id[i] * 2654435761u >> 7) & 0x3FEu);
    }
    sgs_audit_config_t cfg;
    sgs_audit_config_default(&cfg);
    sgs_error_t err = {0};
    sgs_audit_row_t ref[SGS_STAGE_COUNT + 1], got[SGS_STAGE_COUNT + 1];
    int64_t ref_kind[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS],
        got_kind[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];
    const int32_t t = 900; /* events run from 700 to about 1000: some after */
    assert_int_equal(
        sgs_audit_compute_ref(&in, t, &cfg, group, SGS_STAGE_COUNT, fired, ref, ref_kind, &err),
        SGS_OK);
    sgs_assert_cmp(ref[SGS_STAGE_COUNT].contacted[1], >, 1000); /* the base exercises the counts */
    sgs_assert_cmp(ref[SGS_STAGE_COUNT].surveyed, >, 1000);
    sgs_assert_cmp(ref[SGS_STAGE_COUNT].responses[1][0], >, ref[SGS_STAGE_COUNT].responses[1][1]);
    for (int threads = 1; threads <= 3; threads++) {
        sgs_exec_t exec = {.n_threads = threads, .grain = 1};
        memset(got, 0xAB, sizeof got);
        assert_int_equal(sgs_audit_compute(&in, t, &cfg, group, SGS_STAGE_COUNT, fired, &exec, got,
                                           got_kind, &err),
                         SGS_OK);
        /* scores are whole numbers, so even the sums of the twin agree to the bit */
        assert_memory_equal(got, ref, sizeof got);
        assert_memory_equal(got_kind, ref_kind, sizeof got_kind);
    }
    free(group);
    free(fired);
    big_free(&b);
}

/* Two groupings in one pass (sgs_audit_compute_two) against two calls of sgs_audit_compute and
 * of the twin: the same bits for 1, 2 and 3 threads; with no customers; and the errors of the
 * two calls, the first grouping's first. */
static void test_two_groupings(void **state)
{
    (void)state;
    big_t b;
    const size_t n = 50000;
    big_make(&b, n, 7);
    sgs_stage_input_t in = big_input(&b);
    enum { NG = SGS_STAGE_COUNT, NG2 = 12 };
    uint8_t *group = malloc(n), *group2 = malloc(n);
    uint16_t *fired = malloc(n * sizeof *fired);
    for (size_t i = 0; i < n; i++) {
        group[i] = (uint8_t)((b.id[i] / 3) % NG);
        group2[i] = (uint8_t)(((uint64_t)b.id[i] * 40503u >> 5) % NG2);
        fired[i] = (uint16_t)(((uint64_t)b.id[i] * 2654435761u >> 7) & 0x3FFu);
    }
    sgs_audit_config_t cfg;
    sgs_audit_config_default(&cfg);
    sgs_error_t err = {0};
    sgs_audit_row_t ref[NG + 1], ref2[NG2 + 1], got[NG + 1], got2[NG2 + 1];
    int64_t ref_kind[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS],
        got_kind[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];
    const int32_t t = 900;
    sgs_exec_t exec2 = {.n_threads = 2, .grain = 1};
    assert_int_equal(sgs_audit_compute(&in, t, &cfg, group, NG, fired, &exec2, ref, ref_kind, &err),
                     SGS_OK);
    assert_int_equal(sgs_audit_compute(&in, t, &cfg, group2, NG2, fired, &exec2, ref2, NULL, &err),
                     SGS_OK);
    sgs_audit_row_t twin[NG + 1], twin2[NG2 + 1];
    assert_int_equal(sgs_audit_compute_ref(&in, t, &cfg, group, NG, fired, twin, NULL, &err),
                     SGS_OK);
    assert_int_equal(sgs_audit_compute_ref(&in, t, &cfg, group2, NG2, fired, twin2, NULL, &err),
                     SGS_OK);
    assert_memory_equal(ref, twin, sizeof ref);
    assert_memory_equal(ref2, twin2, sizeof ref2);
    sgs_assert_cmp(ref2[NG2].contacted[1], >, 1000);
    for (int threads = 1; threads <= 3; threads++) {
        sgs_exec_t exec = {.n_threads = threads, .grain = 1};
        memset(got, 0xAB, sizeof got);
        memset(got2, 0xAB, sizeof got2);
        memset(got_kind, 0xAB, sizeof got_kind);
        assert_int_equal(sgs_audit_compute_two(&in, t, &cfg, group, NG, group2, NG2, fired, &exec,
                                               got, got2, got_kind, &err),
                         SGS_OK);
        assert_memory_equal(got, ref, sizeof got);
        assert_memory_equal(got2, ref2, sizeof got2);
        assert_memory_equal(got_kind, ref_kind, sizeof got_kind);
    }
    /* the untapped counts may be left out; no customers gives zero rows */
    assert_int_equal(sgs_audit_compute_two(&in, t, &cfg, group, NG, group2, NG2, fired, &exec2, got,
                                           got2, NULL, &err),
                     SGS_OK);
    assert_memory_equal(got2, ref2, sizeof got2);
    sgs_stage_input_t none = in;
    none.n = 0;
    memset(got, 0xAB, sizeof got);
    memset(got2, 0xAB, sizeof got2);
    assert_int_equal(sgs_audit_compute_two(&none, t, &cfg, group, NG, group2, NG2, fired, &exec2,
                                           got, got2, got_kind, &err),
                     SGS_OK);
    assert_int_equal(
        sgs_audit_compute(&none, t, &cfg, group, NG, fired, &exec2, ref, ref_kind, &err), SGS_OK);
    assert_int_equal(
        sgs_audit_compute(&none, t, &cfg, group2, NG2, fired, &exec2, ref2, NULL, &err), SGS_OK);
    assert_memory_equal(got, ref, sizeof got);
    assert_memory_equal(got2, ref2, sizeof got2);
    assert_memory_equal(got_kind, ref_kind, sizeof got_kind);
    /* errors: a bad label of the second grouping early, of the first late: the first's */
    group2[100] = NG2;
    group[40000] = NG;
    char want[128];
    sgs_error_t e1 = {0}, e2 = {0};
    assert_int_equal(sgs_audit_compute(&in, t, &cfg, group, NG, fired, &exec2, ref, NULL, &e1),
                     SGS_EDATA);
    assert_int_equal(sgs_audit_compute_two(&in, t, &cfg, group, NG, group2, NG2, fired, &exec2, got,
                                           got2, NULL, &e2),
                     SGS_EDATA);
    assert_string_equal(e2.message, e1.message);
    group[40000] = 0; /* now only the second's */
    assert_int_equal(sgs_audit_compute(&in, t, &cfg, group2, NG2, fired, &exec2, ref2, NULL, &e1),
                     SGS_EDATA);
    assert_int_equal(sgs_audit_compute_two(&in, t, &cfg, group, NG, group2, NG2, fired, &exec2, got,
                                           got2, NULL, &e2),
                     SGS_EDATA);
    assert_string_equal(e2.message, e1.message);
    snprintf(want, sizeof want, "customer %lld has group %d", (long long)b.id[100], NG2);
    sgs_assert_contains(e2.message, want);
    free(group);
    free(group2);
    free(fired);
    big_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_by_window_and_channel),
        cmocka_unit_test(test_bad_group_and_windows),
        cmocka_unit_test(test_latest_survey_of_a_day_and_old_history),
        cmocka_unit_test(test_threads_and_twin),
        cmocka_unit_test(test_two_groupings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
