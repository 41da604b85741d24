/*
 * tests/unit/test_summary_rfm.c — per-customer summary on hand-built histories (same-day
 * purchases, refunds, zero amounts, one-time and refund-only customers) and RFM scores on
 * ties, with the segment table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/rfm.h"
#include "kernels/summary.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Seven customers, rows already grouped and in day order (docs/spend.md):
 *  0: day 10 (50 + 30 same day), day 12 (0, free item), day 20 (40 and a -15 refund: net 25)
 *  1: day 5 (100) only: a one-time buyer
 *  2: day 7 refund only (-20)
 *  3: day 1 (10), day 4 (-10 refund on a non-purchase day: returns day 1), day 9 (20)
 *  4: day 3 (500, cancelled the same day: -500), day 8 (30): one occasion, day 8
 *  5: day 2 (80, -80 the same day) only: no occasion at all
 *  6: day 1 (40), day 5 (60), day 6 (-100 refund-only day: 60 returns day 5, 40 is left),
 *     day 9 (30, -5): net 25 */
static void test_summary_of_hand_built_histories(void **state)
{
    (void)state;
    int64_t ids[] = {1, 2, 3, 4, 5, 6, 7};
    size_t offsets[] = {0, 5, 6, 7, 10, 13, 15, 21};
    int32_t day[] = {10, 10, 12, 20, 20, 5, 7, 1, 4, 9, 3, 3, 8, 2, 2, 1, 5, 6, 9, 9, 9};
    double amount[] = {50,   30, 0,  40,  -15, 100, -20,  10, -10, 20, 500,
                       -500, 30, 80, -80, 40,  60,  -100, 30, -5,  0};
    uint8_t channel[] = {2, 2, 1, 1, 0, 3, 1, 4, 4, 5, 6, 6, 2, 1, 1, 7, 7, 7, 3, 3, 3};
    sgs_grouped_t g = {7, 21, ids, offsets, day, amount, channel};
    sgs_summary_t s;
    assert_int_equal(sgs_summary_alloc(&s, 7), 0);
    sgs_exec_t exec = {.n_threads = 2};
    assert_int_equal(sgs_summarize(&exec, &g, 30, &s, NULL), 0);

    assert_int_equal(s.has_purchase[0], 1);
    assert_int_equal(s.n_purchase_days[0], 3);
    assert_int_equal(s.frequency[0], 2);
    assert_int_equal(s.first_day[0], 10);
    assert_int_equal(s.recency_days[0], 10);
    assert_int_equal(s.age_days[0], 20);
    assert_int_equal(s.days_since_last[0], 10);
    sgs_assert_close(s.total_spend[0], 105.0, 1e-12, 0);
    sgs_assert_close(s.mean_spend[0], 35.0, 1e-12, 0);
    /* repeat occasions: day 12 net 0, day 20 net 40 - 15 = 25 */
    sgs_assert_close(s.monetary[0], 12.5, 1e-12, 0);
    sgs_assert_close(s.refund_total[0], 15.0, 1e-12, 0);
    assert_int_equal(s.n_refunds[0], 1);
    assert_int_equal(s.n_cancelled_days[0], 0);
    sgs_assert_close(s.gap_mean_days[0], 5.0, 1e-12, 0); /* gaps 2 and 8 */
    sgs_assert_close(s.gap_sd_days[0], 3.0, 1e-12, 0);
    assert_int_equal(s.main_channel[0], 1); /* channels 2,2,1,1: tie -> lowest code */

    assert_int_equal(s.frequency[1], 0);
    assert_int_equal(s.recency_days[1], 0);
    assert_int_equal(s.age_days[1], 25);
    sgs_assert_cmp(s.monetary[1], ==, 0.0);
    sgs_assert_nan(s.gap_mean_days[1]);
    sgs_assert_nan(s.gap_sd_days[1]);
    assert_int_equal(s.main_channel[1], 3);

    assert_int_equal(s.has_purchase[2], 0);
    sgs_assert_close(s.refund_total[2], 20.0, 1e-12, 0);
    sgs_assert_close(s.total_spend[2], -20.0, 1e-12, 0);

    assert_int_equal(s.frequency[3], 1);
    sgs_assert_close(s.total_spend[3], 20.0, 1e-12, 0);
    sgs_assert_close(s.monetary[3], 20.0, 1e-12, 0); /* the day-4 refund returns day 1 */
    sgs_assert_close(s.gap_mean_days[3], 8.0, 1e-12, 0);
    sgs_assert_nan(s.gap_sd_days[3]);

    /* a purchase cancelled the same day is not an occasion, nor is its channel counted */
    assert_int_equal(s.has_purchase[4], 1);
    assert_int_equal(s.n_purchase_days[4], 1);
    assert_int_equal(s.frequency[4], 0);
    assert_int_equal(s.first_day[4], 8);
    assert_int_equal(s.age_days[4], 22);
    assert_int_equal(s.n_cancelled_days[4], 1);
    sgs_assert_close(s.total_spend[4], 30.0, 1e-12, 0);
    sgs_assert_close(s.refund_total[4], 500.0, 1e-12, 0);
    assert_int_equal(s.main_channel[4], 2);

    assert_int_equal(s.has_purchase[5], 0); /* only a cancelled order */
    assert_int_equal(s.n_cancelled_days[5], 1);
    sgs_assert_close(s.total_spend[5], 0.0, 1e-12, 0);

    /* occasions days 1, 5, 9; the day-6 refund takes day 5 down to 0, 40 is left over */
    assert_int_equal(s.frequency[6], 2);
    assert_int_equal(s.recency_days[6], 8);
    sgs_assert_close(s.total_spend[6], 25.0, 1e-12, 0);
    sgs_assert_close(s.monetary[6], (0.0 + 25.0) / 2, 1e-12, 0);
    sgs_assert_close(s.refund_total[6], 105.0, 1e-12, 0);
    assert_int_equal(s.n_refunds[6], 2);

    /* Lines of 0.1 and 0.2 cancelled by one row of -0.3: no purchase, whatever the rounding. */
    {
        int64_t id1[] = {9};
        size_t off1[] = {0, 3};
        int32_t day1[] = {4, 4, 4};
        double amount1[] = {0.1, 0.2, -0.3};
        sgs_grouped_t g1 = {1, 3, id1, off1, day1, amount1, NULL};
        sgs_summary_t s1;
        assert_int_equal(sgs_summary_alloc(&s1, 1), 0);
        assert_int_equal(sgs_summarize(&exec, &g1, 10, &s1, NULL), 0);
        assert_int_equal(s1.has_purchase[0], 0);
        assert_int_equal(s1.n_cancelled_days[0], 1);
        sgs_summary_free(&s1);
    }

    /* Purchases of 0.1 and 0.2 on two days, all returned by a refund of 0.3 later: the net is
     * 5.6e-17 in floating point, which is no spend (worth 0, as every full return). */
    {
        int64_t id1[] = {9};
        size_t off1[] = {0, 3};
        int32_t day1[] = {1, 3, 5};
        double amount1[] = {0.1, 0.2, -0.3};
        sgs_grouped_t g1 = {1, 3, id1, off1, day1, amount1, NULL};
        sgs_summary_t s1;
        assert_int_equal(sgs_summary_alloc(&s1, 1), 0);
        assert_int_equal(sgs_summarize(&exec, &g1, 10, &s1, NULL), 0);
        assert_int_equal(s1.n_purchase_days[0], 2);
        sgs_assert_cmp(0.1 + 0.2 - 0.3, >, 0.0); /* the rounding this is about */
        sgs_assert_cmp(s1.total_spend[0], ==, 0.0);
        sgs_assert_cmp(s1.monetary[0], ==, 0.0);
        sgs_assert_close(s1.refund_total[0], 0.3, 0, 0);
        sgs_summary_free(&s1);
    }

    /* The history as of day 8, from the same rows (the backtest's calibration period): only
     * the columns of a purchase history are allocated and written. */
    {
        sgs_summary_t h;
        assert_int_equal(sgs_summary_alloc_history(&h, 7), 0);
        assert_null(h.frequency);
        assert_int_equal(sgs_summarize_until(&exec, &g, 8, &h, NULL), 0);
        assert_int_equal(h.has_purchase[0], 0); /* first buys on day 10 */
        assert_int_equal(h.age_days[1], 3);
        assert_int_equal(h.n_purchase_days[3], 1); /* day 1, its day-4 refund */
        sgs_assert_close(h.total_spend[3], 0.0, 1e-12, 0);
        assert_int_equal(h.has_purchase[4], 1);         /* day 8 */
        assert_int_equal(h.has_purchase[5], 0);         /* cancelled */
        assert_int_equal(h.n_purchase_days[6], 2);      /* days 1 and 5 */
        sgs_assert_close(h.monetary[6], 0.0, 1e-12, 0); /* day 5 refunded on day 6 */
        /* some customers only, in any order: slot j is customer which[j], the same values */
        size_t which[] = {6, 1, 3, 4};
        sgs_summary_t part;
        assert_int_equal(sgs_summary_alloc_history(&part, 4), 0);
        sgs_exec_t ex2 = {.n_threads = 2, .grain = 1};
        assert_int_equal(sgs_summarize_until_subset(&ex2, &g, 8, which, 4, &part, NULL), 0);
        for (size_t j = 0; j < 4; j++) {
            size_t c = which[j];
            assert_int_equal(part.has_purchase[j], h.has_purchase[c]);
            assert_int_equal(part.n_purchase_days[j], h.n_purchase_days[c]);
            assert_int_equal(part.recency_days[j], h.recency_days[c]);
            assert_int_equal(part.age_days[j], h.age_days[c]);
            sgs_assert_cmp(part.total_spend[j], ==, h.total_spend[c]);
            sgs_assert_cmp(part.monetary[j], ==, h.monetary[c]);
        }
        size_t bad[] = {7};
        sgs_summary_t one;
        assert_int_equal(sgs_summary_alloc_history(&one, 1), 0);
        assert_int_equal(sgs_summarize_until_subset(&exec, &g, 8, bad, 1, &one, NULL), SGS_EINVAL);
        assert_int_equal(sgs_summarize_until_subset(&exec, &g, 8, which, 4, &one, NULL),
                         SGS_EINVAL);
        sgs_summary_free(&one);
        sgs_summary_free(&part);
        sgs_summary_free(&h);
    }

    /* A row after the as-of day is a caller error. */
    sgs_error_t err = {0};
    assert_int_equal(sgs_summarize(&exec, &g, 15, &s, &err), SGS_EINVAL);
    sgs_summary_free(&s);
}

static void score(const double *v, size_t n, int higher_is_better, int bins, uint8_t *out)
{
    void *ws = malloc(sgs_rfm_workspace_size(n));
    sgs_exec_t exec = {.n_threads = 1};
    assert_int_equal(sgs_rfm_score(&exec, v, n, higher_is_better, bins, ws, out, NULL), 0);
    free(ws);
}

/* 10 customers, 5 bins: score = 1 + floor(5 * below / 10), ties share the lowest. */
/* Finite amounts whose sum overflows: an error naming the customer (the first by index,
 * whatever the thread count), never an infinite spend. Refunds overflow too (the sum of a
 * day's refunds, and -inf + inf on one day), as does the sum of occasions. */
static void test_spend_that_overflows_names_the_customer(void **state)
{
    (void)state;
    const double big = 1.5e308;
    int64_t ids[] = {11, 22, 33, 44, 55};
    size_t offsets[] = {0, 2, 4, 6, 8, 10};
    int32_t day[] = {1, 2, 1, 2, 1, 2, 3, 3, 5, 9};
    double amount[] = {10, 20, big, big, 5, 6, -big, -big, big, -big / 2};
    sgs_grouped_t g = {5, 10, ids, offsets, day, amount, NULL};
    for (int t = 1; t <= 3; t++) {
        sgs_summary_t s;
        assert_int_equal(sgs_summary_alloc(&s, 5), 0);
        sgs_exec_t exec = {.n_threads = t, .grain = 1};
        sgs_error_t err = {0};
        assert_int_equal(sgs_summarize(&exec, &g, 30, &s, &err), SGS_EDATA);
        sgs_assert_contains(err.message, "customer 22: its 2 amounts");
        sgs_assert_contains(err.message, "first of several");
        sgs_summary_free(&s);

        /* the calibration-period summary says the same; before day 2 nobody overflows */
        sgs_summary_t h;
        assert_int_equal(sgs_summary_alloc_history(&h, 5), 0);
        assert_int_equal(sgs_summarize_until(&exec, &g, 1, &h, NULL), 0);
        assert_int_equal(sgs_summarize_until(&exec, &g, 3, &h, &err), SGS_EDATA);
        sgs_assert_contains(err.message, "customer 22");
        sgs_summary_free(&h);
    }
    /* refunds alone: customer 44's two refunds on one day */
    sgs_grouped_t refunds = {1, 2, ids + 3, (size_t[]){0, 2}, day + 6, amount + 6, NULL};
    sgs_summary_t s;
    assert_int_equal(sgs_summary_alloc(&s, 1), 0);
    sgs_error_t err = {0};
    assert_int_equal(sgs_summarize(NULL, &refunds, 30, &s, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "customer 44");
    /* big and -big/2 on separate days are fine: 7.5e307 */
    sgs_grouped_t fine = {1, 2, ids + 4, (size_t[]){0, 2}, day + 8, amount + 8, NULL};
    assert_int_equal(sgs_summarize(NULL, &fine, 30, &s, NULL), 0);
    sgs_assert_cmp(s.total_spend[0], ==, big - big / 2);
    sgs_summary_free(&s);
}

static void test_scores_by_equal_frequency_ranks_with_ties(void **state)
{
    (void)state;
    const double freq[] = {0, 0, 0, 0, 0, 0, 1, 1, 2, 7};
    uint8_t f[10];
    score(freq, 10, 1, 5, f);
    const uint8_t expected_f[] = {1, 1, 1, 1, 1, 1, 4, 4, 5, 5};
    assert_memory_equal(f, expected_f, 10);

    const double days_since[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    uint8_t r[10];
    score(days_since, 10, 0, 5, r); /* fewer days is better: 10 is worst */
    const uint8_t expected_r[] = {5, 5, 4, 4, 3, 3, 2, 2, 1, 1};
    assert_memory_equal(r, expected_r, 10);

    const double spend[] = {-5, 3.5, -0.0, 0.0, 1e300, 3.5, 2, 2, 2, 100};
    uint8_t m[10];
    score(spend, 10, 1, 3, m); /* -0 and 0 tie */
    const uint8_t expected_m[] = {1, 2, 1, 1, 3, 2, 1, 1, 1, 3};
    assert_memory_equal(m, expected_m, 10);

    uint8_t one;
    const double single = 42;
    score(&single, 1, 1, 5, &one);
    assert_int_equal(one, 1);

    sgs_error_t err = {0};
    const double with_nan[] = {1, NAN};
    void *ws = malloc(sgs_rfm_workspace_size(2));
    sgs_exec_t exec = {.n_threads = 1};
    assert_int_equal(sgs_rfm_score(&exec, with_nan, 2, 1, 5, ws, &one, &err), SGS_EINVAL);
    assert_int_equal(sgs_rfm_score(&exec, freq, 2, 1, 10, ws, &one, &err), SGS_EINVAL);
    free(ws);
}

/* Large random values: 1, 2 and 3 threads give the same scores, and every score's count is
 * within the equal-frequency share when values are distinct. */
static void test_scores_are_thread_independent_and_balanced(void **state)
{
    (void)state;
    const size_t n = 100000;
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = sgs_rng_uniform(5, 0, i) * 1000.0;
    uint8_t *s[3];
    void *ws = malloc(sgs_rfm_workspace_size(n));
    for (int k = 0; k < 3; k++) {
        s[k] = malloc(n);
        sgs_exec_t exec = {.n_threads = k + 1, .grain = 1}; /* grain 1: every thread works */
        assert_int_equal(sgs_rfm_score(&exec, v, n, 1, 5, ws, s[k], NULL), 0);
    }
    assert_memory_equal(s[0], s[1], n);
    assert_memory_equal(s[0], s[2], n);
    size_t count[6] = {0};
    for (size_t i = 0; i < n; i++)
        count[s[0][i]]++;
    for (int b = 1; b <= 5; b++)
        assert_int_equal(count[b], n / 5);
    for (int k = 0; k < 3; k++)
        sgs_free(s[k]);
    free(ws);
    sgs_free(v);
}

/* Shifting every value by one half keeps the order, so the scores must not change. */
static void test_order_preserving_shift_keeps_scores(void **state)
{
    (void)state;
    const size_t n = 50000;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint8_t *sa = malloc(n), *sb = malloc(n);
    void *ws = malloc(sgs_rfm_workspace_size(n));
    sgs_exec_t exec = {.n_threads = 2};
    for (int direction = 0; direction < 2; direction++) {
        for (size_t i = 0; i < n; i++) {
            a[i] = (double)(sgs_rng_u64(8, 0, i) % 700) - 100.0; /* many ties */
            b[i] = a[i] + 0.5;
        }
        assert_int_equal(sgs_rfm_score(&exec, a, n, direction, 5, ws, sa, NULL), 0);
        assert_int_equal(sgs_rfm_score(&exec, b, n, direction, 5, ws, sb, NULL), 0);
        assert_memory_equal(sa, sb, n);
    }
    free(a);
    free(b);
    free(sa);
    free(sb);
    free(ws);
}

/* Every bin count from 2 to 9 on data with many ties, one dominant value, all values equal,
 * and distinct values against the definition counted directly: score = 1 + floor(B * below
 * / n), below = customers with a strictly worse value. */
static void test_scores_match_the_definition(void **state)
{
    (void)state;
    const size_t n = 1500;
    double *v = malloc(n * sizeof *v);
    uint8_t *got = malloc(n);
    for (int shape = 0; shape < 4; shape++) {
        for (size_t i = 0; i < n; i++) {
            uint64_t r = sgs_rng_u64(21, (uint64_t)shape, i);
            v[i] = shape == 0   ? (double)(r % 13)                       /* many ties */
                   : shape == 1 ? (r % 10 == 0 ? (double)(r % 97) : 5.0) /* one dominant value */
                   : shape == 2 ? -2.5                                   /* all equal */
                                : sgs_rng_uniform(21, 9, i) * 200.0 - 100.0; /* distinct */
        }
        for (int bins = 2; bins <= 9; bins++)
            for (int higher = 0; higher < 2; higher++) {
                score(v, n, higher, bins, got);
                for (size_t i = 0; i < n; i++) {
                    size_t below = 0;
                    for (size_t j = 0; j < n; j++)
                        below += higher ? v[j] < v[i] : v[j] > v[i];
                    assert_int_equal(got[i], 1 + (size_t)bins * below / n);
                }
            }
    }
    sgs_free(v);
    free(got);
}

static void test_segment_table(void **state)
{
    (void)state;
    assert_int_equal(sgs_rfm_segment_of(5, 5, 5), SGS_RFM_CHAMPIONS);
    assert_int_equal(sgs_rfm_segment_of(5, 4, 5), SGS_RFM_CHAMPIONS);
    assert_int_equal(sgs_rfm_segment_of(3, 5, 5), SGS_RFM_LOYAL);
    assert_int_equal(sgs_rfm_segment_of(4, 4, 5), SGS_RFM_LOYAL);
    assert_int_equal(sgs_rfm_segment_of(4, 2, 5), SGS_RFM_POTENTIAL_LOYALIST);
    assert_int_equal(sgs_rfm_segment_of(5, 3, 5), SGS_RFM_POTENTIAL_LOYALIST);
    assert_int_equal(sgs_rfm_segment_of(5, 1, 5), SGS_RFM_NEW);
    assert_int_equal(sgs_rfm_segment_of(4, 1, 5), SGS_RFM_PROMISING);
    assert_int_equal(sgs_rfm_segment_of(3, 3, 5), SGS_RFM_NEED_ATTENTION);
    assert_int_equal(sgs_rfm_segment_of(3, 2, 5), SGS_RFM_ABOUT_TO_SLEEP);
    assert_int_equal(sgs_rfm_segment_of(2, 5, 5), SGS_RFM_CANNOT_LOSE);
    assert_int_equal(sgs_rfm_segment_of(1, 3, 5), SGS_RFM_AT_RISK);
    assert_int_equal(sgs_rfm_segment_of(2, 2, 5), SGS_RFM_HIBERNATING);
    assert_int_equal(sgs_rfm_segment_of(1, 2, 5), SGS_RFM_HIBERNATING);
    assert_int_equal(sgs_rfm_segment_of(1, 1, 5), SGS_RFM_LOST);
    /* 3 bins scale up: 3 -> 5, 2 -> 4 (ceil(10/3)), 1 -> 2 (ceil(5/3)) */
    assert_int_equal(sgs_rfm_segment_of(3, 3, 3), SGS_RFM_CHAMPIONS);
    assert_int_equal(sgs_rfm_segment_of(1, 1, 3), SGS_RFM_HIBERNATING);
    assert_string_equal(sgs_rfm_segment_name(SGS_RFM_CANNOT_LOSE), "Cannot lose them");

    uint8_t r[] = {5, 1}, f[] = {4, 1}, m[] = {3, 2}, seg[2], tot[2];
    uint16_t cell[2];
    sgs_exec_t exec = {.n_threads = 1};
    sgs_rfm_segments(&exec, r, f, m, 2, 5, seg, cell, tot);
    assert_int_equal(cell[0], 543);
    assert_int_equal(tot[0], 12);
    assert_int_equal(seg[1], SGS_RFM_LOST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_of_hand_built_histories),
        cmocka_unit_test(test_spend_that_overflows_names_the_customer),
        cmocka_unit_test(test_scores_by_equal_frequency_ranks_with_ties),
        cmocka_unit_test(test_scores_are_thread_independent_and_balanced),
        cmocka_unit_test(test_order_preserving_shift_keeps_scores),
        cmocka_unit_test(test_scores_match_the_definition),
        cmocka_unit_test(test_segment_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
