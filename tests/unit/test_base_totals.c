/*
 * tests/unit/test_base_totals.c — per-customer inputs and whole-base totals
 * (kernels/base_totals.h): spend totals, amount signs, RFM measures with the money key, the
 * value models' inputs, the zeroing of customers without net spend, a column's total and
 * per-category totals, by hand; the parallel kernels against their serial twins bit for bit on
 * 1, 2 and 3 threads (grain 1) on random summaries whose seed is printed on failure, and the
 * exact totals split between 1 to 4 threads against the serial ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/base_totals.h"
#include "kernels/exact_sum.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A summary of n customers with random columns (the ones this file's kernels read). */
static void random_summary(sgs_summary_t *s, size_t n, uint64_t seed)
{
    sgs_assert_cmp(sgs_summary_alloc(s, n), ==, SGS_OK);
    for (size_t c = 0; c < n; c++) {
        s->n_purchase_days[c] = 1 + (int32_t)(sgs_rng_u64(seed, 0, c) % 20);
        s->frequency[c] = s->n_purchase_days[c] - 1;
        s->age_days[c] = (int32_t)(sgs_rng_u64(seed, 1, c) % 1000);
        s->recency_days[c] = s->frequency[c] ? (int32_t)(sgs_rng_u64(seed, 2, c) % 500) : 0;
        s->days_since_last[c] = s->age_days[c] - s->recency_days[c];
        s->total_spend[c] = sgs_rng_uniform(seed, 3, c) * 300.0 - 20.0;
        s->mean_spend[c] = s->total_spend[c] / s->n_purchase_days[c];
        s->monetary[c] = s->frequency[c] ? sgs_rng_uniform(seed, 4, c) * 50.0 : 0.0;
        s->n_cancelled_days[c] = (int32_t)(sgs_rng_u64(seed, 5, c) % 3);
    }
}

static void test_totals_by_hand(void **state)
{
    (void)state;
    sgs_summary_t s;
    sgs_assert_cmp(sgs_summary_alloc(&s, 4), ==, SGS_OK);
    const double spend[4] = {10.5, -2.0, 0.0, 7.25};
    const int32_t cancelled[4] = {0, 2, 1, 0};
    for (size_t c = 0; c < 4; c++) {
        s.total_spend[c] = spend[c];
        s.n_cancelled_days[c] = cancelled[c];
    }
    sgs_spend_totals_t t;
    sgs_spend_totals(&s, 4, &t);
    sgs_assert_cmp(t.revenue, ==, 15.75);
    sgs_assert_cmp(t.magnitude, ==, 19.75);
    sgs_assert_cmp(t.n_cancelled_days, ==, 3);
    sgs_assert_cmp(t.n_nonpositive, ==, 2);
    sgs_spend_totals(&s, 1, &t); /* the first customer only */
    sgs_assert_cmp(t.revenue, ==, 10.5);
    sgs_assert_cmp(t.n_nonpositive, ==, 0);

    const double amount[6] = {5, -1, 0, 0, -0.5, 3};
    size_t neg, zero;
    sgs_exec_t ex = {.n_threads = 3, .grain = 1};
    sgs_amount_signs(6, amount, &ex, &neg, &zero);
    sgs_assert_cmp(neg, ==, 2);
    sgs_assert_cmp(zero, ==, 2);
    sgs_amount_signs_ref(6, amount, &neg, &zero);
    sgs_assert_cmp(neg, ==, 2);
    sgs_assert_cmp(zero, ==, 2);

    double sum, sum_abs;
    sgs_column_total(4, spend, &sum, &sum_abs);
    sgs_assert_cmp(sum, ==, 15.75);
    sgs_assert_cmp(sum_abs, ==, 19.75);

    double es[4] = {1, 2, 3, 4}, clv[4] = {5, 6, 7, 8};
    sgs_value_zero_without_spend(4, spend, es, clv);
    sgs_assert_cmp(es[0], ==, 1.0);
    sgs_assert_cmp(es[1] + es[2] + clv[1] + clv[2], ==, 0.0);
    sgs_assert_cmp(clv[3], ==, 8.0);

    const uint8_t cat[4] = {2, 0, 2, 1};
    size_t count[3];
    double by_cat[3];
    sgs_assert_cmp(sgs_category_totals(4, cat, 3, spend, count, by_cat, NULL), ==, SGS_OK);
    sgs_assert_cmp(count[0], ==, 1);
    sgs_assert_cmp(count[2], ==, 2);
    sgs_assert_cmp(by_cat[2], ==, 10.5);
    sgs_assert_cmp(by_cat[1], ==, 7.25);
    sgs_assert_cmp(sgs_category_totals(4, cat, 3, NULL, count, NULL, NULL), ==, SGS_OK);
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_category_totals(4, cat, 2, spend, count, by_cat, &err), ==, SGS_EINVAL);
    sgs_assert_contains(err.message, "row 0 ");
    sgs_summary_free(&s);
}

static void test_measures_and_inputs_by_hand(void **state)
{
    (void)state;
    sgs_summary_t s;
    sgs_assert_cmp(sgs_summary_alloc(&s, 2), ==, SGS_OK);
    s.days_since_last[0] = 12;
    s.n_purchase_days[0] = 3;
    s.frequency[0] = 2;
    s.recency_days[0] = 14;
    s.age_days[0] = 28;
    s.total_spend[0] = 0.1 + 0.2; /* 0.30000000000000004: the same millionths as 0.3 */
    s.mean_spend[0] = 0.1;
    s.monetary[0] = 4.0;
    s.days_since_last[1] = 0;
    s.n_purchase_days[1] = 1;
    s.frequency[1] = 0;
    s.recency_days[1] = 0;
    s.age_days[1] = 7;
    s.total_spend[1] = -1.0; /* a net refund */
    s.mean_spend[1] = -1.0;
    s.monetary[1] = 0.0;
    double v[2];
    sgs_assert_cmp(sgs_rfm_measure_values(&s, 2, SGS_RFM_RECENCY, NULL, v, NULL), ==, SGS_OK);
    sgs_assert_cmp(v[0], ==, 12.0);
    sgs_assert_cmp(sgs_rfm_measure_values(&s, 2, SGS_RFM_FREQUENCY, NULL, v, NULL), ==, SGS_OK);
    sgs_assert_cmp(v[0], ==, 3.0);
    sgs_assert_cmp(sgs_rfm_measure_values(&s, 2, SGS_RFM_MONETARY_TOTAL, NULL, v, NULL), ==,
                   SGS_OK);
    sgs_assert_cmp(v[0], ==, 300000.0);
    sgs_assert_cmp(v[0], ==, sgs_money_key(0.3));
    sgs_assert_cmp(v[1], ==, -1000000.0);
    sgs_assert_cmp(sgs_rfm_measure_values(&s, 2, SGS_RFM_MONETARY_MEAN, NULL, v, NULL), ==, SGS_OK);
    sgs_assert_cmp(v[0], ==, 100000.0);
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_rfm_measure_values(&s, 2, 9, NULL, v, &err), ==, SGS_EINVAL);

    double x[2], t_x[2], T[2], m[2];
    sgs_assert_cmp(sgs_value_inputs(&s, 2, 7.0, NULL, x, t_x, T, m, NULL), ==, SGS_OK);
    sgs_assert_cmp(x[0], ==, 2.0);
    sgs_assert_cmp(t_x[0], ==, 2.0);
    sgs_assert_cmp(T[0], ==, 4.0);
    sgs_assert_cmp(m[0], ==, 4.0);
    sgs_assert_cmp(T[1], ==, 1.0);
    sgs_assert_cmp(m[1], ==, 0.0); /* net spend <= 0 */
    sgs_assert_cmp(sgs_value_inputs(&s, 2, 0.0, NULL, x, t_x, T, m, &err), ==, SGS_EINVAL);
    sgs_summary_free(&s);
}

static void test_threads_and_twins(void **state)
{
    (void)state;
    enum { n = 3 * 16384 + 5 };
    const uint64_t seed = 61;
    sgs_summary_t s;
    random_summary(&s, n, seed);
    static double ref[5][n], got[5][n];
    for (int measure = SGS_RFM_RECENCY; measure <= SGS_RFM_MONETARY_MEAN; measure++) {
        sgs_assert_cmp(sgs_rfm_measure_values_ref(&s, n, measure, ref[0], NULL), ==, SGS_OK);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            sgs_assert_cmp(sgs_rfm_measure_values(&s, n, measure, &ex, got[0], NULL), ==, SGS_OK);
            if (memcmp(got[0], ref[0], sizeof got[0]) != 0)
                fail_msg("seed %llu, measure %d, %d threads: not the reference's bits",
                         (unsigned long long)seed, measure, t);
        }
    }
    sgs_assert_cmp(sgs_value_inputs_ref(&s, n, 7.0, ref[1], ref[2], ref[3], ref[4], NULL), ==,
                   SGS_OK);
    size_t neg_ref, zero_ref;
    sgs_amount_signs_ref(n, s.total_spend, &neg_ref, &zero_ref);
    sgs_assert_cmp(neg_ref, >, 0);
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_assert_cmp(sgs_value_inputs(&s, n, 7.0, &ex, got[1], got[2], got[3], got[4], NULL), ==,
                       SGS_OK);
        if (memcmp(got[1], ref[1], 4 * sizeof got[0]) != 0)
            fail_msg("seed %llu, %d threads: value inputs not the reference's bits",
                     (unsigned long long)seed, t);
        size_t neg, zero;
        sgs_amount_signs(n, s.total_spend, &ex, &neg, &zero);
        sgs_assert_cmp(neg, ==, neg_ref);
        sgs_assert_cmp(zero, ==, zero_ref);
    }
    /* exact sums split between threads: the serial totals' bits */
    sgs_spend_totals_t totals_ref, totals;
    sgs_spend_totals(&s, n, &totals_ref);
    double sum_ref, abs_ref;
    sgs_column_total(n, ref[3], &sum_ref, &abs_ref);
    for (int t = 1; t <= 4; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_exact_sum_t a, b;
        sgs_spend_sums(&s, n, &ex, &a, &b, &totals);
        if (sgs_exact_sum_value(&a) != totals_ref.revenue ||
            sgs_exact_sum_value(&b) != totals_ref.magnitude ||
            totals.n_cancelled_days != totals_ref.n_cancelled_days ||
            totals.n_nonpositive != totals_ref.n_nonpositive)
            fail_msg("seed %llu, %d threads: spend sums not the serial totals",
                     (unsigned long long)seed, t);
        sgs_column_sums(n, ref[3], &ex, &a, &b);
        if (sgs_exact_sum_value(&a) != sum_ref || sgs_exact_sum_value(&b) != abs_ref)
            fail_msg("seed %llu, %d threads: column sums not the serial totals",
                     (unsigned long long)seed, t);
    }
    sgs_assert_cmp(totals_ref.n_nonpositive, >, 0);
    sgs_summary_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totals_by_hand),
        cmocka_unit_test(test_measures_and_inputs_by_hand),
        cmocka_unit_test(test_threads_and_twins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
