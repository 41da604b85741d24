/*
 * tests/unit/test_cohort_outcomes.c — the numeric steps moved out of engine/ into kernels:
 * a holdout cohort's outcomes by frequency bin, per history and per birth day, the cumulative
 * tracking curve (kernels/holdout.h); the checks of value scores and finite columns
 * (kernels/base_totals.h); segment profile means, deviations and shares
 * (kernels/segment_profile.h). Hand-computed cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/base_totals.h"
#include "kernels/holdout.h"
#include "kernels/segment_profile.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <string.h>

/* Bins 0, 1, 2+ of x: customers, mean holdout purchases, totals; an empty bin takes the given
 * value. */
static void test_actual_by_bin(void **state)
{
    (void)state;
    const double x[] = {0, 5, 1, 0, 7, 2, 0};
    const int32_t actual[] = {0, 4, 1, 2, 3, 0, 1};
    int64_t count[8], x_total = -1, actual_total = -1;
    double mean[8];
    assert_int_equal(
        sgs_holdout_actual_by_bin(7, x, actual, 4, NAN, count, mean, &x_total, &actual_total, NULL),
        0);
    /* bins: x = 0 -> 0 (3 customers: 0 + 2 + 1), 1 -> 1 (1), 2 -> 2 (1), >= 3 -> 3 (5, 7) */
    const int64_t want_count[] = {3, 1, 1, 2};
    const double want_mean[] = {1.0, 1.0, 0.0, 3.5};
    for (int b = 0; b < 4; b++) {
        sgs_assert_cmp(count[b], ==, want_count[b]);
        sgs_assert_cmp(mean[b], ==, want_mean[b]);
    }
    sgs_assert_cmp(x_total, ==, 15);
    sgs_assert_cmp(actual_total, ==, 11);
    /* an empty bin: the given value; totals optional */
    assert_int_equal(sgs_holdout_actual_by_bin(3, x, actual, 8, NAN, count, mean, NULL, NULL, NULL),
                     0);
    sgs_assert_nan(mean[7]);
    assert_int_equal(sgs_holdout_actual_by_bin(3, x, actual, 8, 0.0, count, mean, NULL, NULL, NULL),
                     0);
    sgs_assert_cmp(mean[7], ==, 0.0);
    sgs_assert_cmp(count[5], ==, 1);
    sgs_assert_cmp(mean[5], ==, 4.0);
    assert_int_equal(sgs_holdout_actual_by_bin(3, x, actual, 0, 0.0, count, mean, NULL, NULL, NULL),
                     SGS_EINVAL);
    assert_int_equal(sgs_holdout_actual_by_bin(3, x, actual, SGS_HOLDOUT_MAX_BINS + 1, 0.0, count,
                                               mean, NULL, NULL, NULL),
                     SGS_EINVAL);
    assert_int_equal(
        sgs_holdout_actual_by_bin(3, NULL, actual, 4, 0.0, count, mean, NULL, NULL, NULL),
        SGS_EINVAL);
}

static void test_history_outcomes_and_births(void **state)
{
    (void)state;
    const uint32_t history_of[] = {2, 0, 2, 1, 2, 0};
    const int32_t occasions[] = {1, 0, 0, 3, 2, 0};
    double weight[4] = {9, 9, 9, 9}, bought[4] = {9, 9, 9, 9};
    size_t n_bought = 99;
    sgs_holdout_history_outcomes(6, history_of, occasions, 4, weight, bought, &n_bought);
    const double want_w[] = {2, 1, 3, 0}, want_b[] = {0, 1, 2, 0};
    for (int h = 0; h < 4; h++) {
        sgs_assert_cmp(weight[h], ==, want_w[h]);
        sgs_assert_cmp(bought[h], ==, want_b[h]);
    }
    sgs_assert_cmp(n_bought, ==, 3);

    const int32_t first_day[] = {103, 100, 103, 101};
    int64_t births[5] = {7, 7, 7, 7, 7};
    assert_int_equal(sgs_holdout_births(4, first_day, 100, 5, births, NULL), 0);
    const int64_t want_births[] = {1, 1, 0, 2, 0};
    assert_memory_equal(births, want_births, sizeof births);
    sgs_error_t err = {0};
    assert_int_equal(sgs_holdout_births(4, first_day, 101, 5, births, &err), SGS_EINVAL);
    sgs_assert_contains(err.message, "customer 1");
    assert_int_equal(sgs_holdout_births(4, first_day, 100, 3, births, NULL), SGS_EINVAL);
}

/* Cumulative repeat purchase days at points, from day 0 and from a later day. */
static void test_cumulative_at_points(void **state)
{
    (void)state;
    const int64_t per_day[] = {5, 1, 2, 0, 4, 3, 1};
    const int32_t points[] = {10, 12, 16}; /* d0 = 10: days 0, 2, 6 */
    double cum[3];
    sgs_holdout_cumulative(per_day, 0, 10, points, 3, cum);
    sgs_assert_cmp(cum[0], ==, 5.0);
    sgs_assert_cmp(cum[1], ==, 8.0);
    sgs_assert_cmp(cum[2], ==, 16.0);
    const int32_t later[] = {13, 15}; /* from day 2: days 2..3, then 4..5 */
    sgs_holdout_cumulative(per_day, 2, 10, later, 2, cum);
    sgs_assert_cmp(cum[0], ==, 2.0);
    sgs_assert_cmp(cum[1], ==, 9.0);
    const int32_t none[] = {11}; /* from day 2, a point at day 1: nothing yet */
    sgs_holdout_cumulative(per_day, 2, 10, none, 1, cum);
    sgs_assert_cmp(cum[0], ==, 0.0);

    const int32_t days[] = {30, 12, 40, 12};
    sgs_assert_cmp(sgs_day_min(4, days, 100), ==, 12);
    sgs_assert_cmp(sgs_day_min(4, days, 5), ==, 5);
    sgs_assert_cmp(sgs_day_min(0, days, 77), ==, 77);
}

static void test_first_not_finite(void **state)
{
    (void)state;
    const double v[] = {1.0, -2.0, 0.0, INFINITY, NAN};
    sgs_assert_cmp(sgs_first_not_finite(5, v), ==, 3);
    sgs_assert_cmp(sgs_first_not_finite(3, v), ==, 3);
    sgs_assert_cmp(sgs_first_not_finite(0, v), ==, 0);
    sgs_assert_cmp(sgs_first_not_finite(1, v + 4), ==, 0);
}

/* Each score's range, the rounding allowance, NaN, and which customer and score is named. */
static void test_value_scores_check(void **state)
{
    (void)state;
    enum { N = 8 };
    double pa[N], e[N], pn[N], m[N], clv[N], pb[N];
    for (int c = 0; c < N; c++) {
        pa[c] = 0.5;
        e[c] = 1.2;
        pn[c] = 0.3;
        m[c] = 40.0;
        clv[c] = -3.0; /* CLV may be negative (a margin < 0) */
        pb[c] = 0.7;
    }
    pa[0] = 1.0 + 1e-13; /* within the rounding allowance */
    pn[1] = -1e-13;
    size_t first = 99;
    const char *what = NULL;
    double value = 0.0;
    sgs_assert_cmp(sgs_value_scores_check(N, pa, e, pn, m, clv, pb, &first, &what, &value), ==, 0);
    sgs_assert_cmp(first, ==, 99); /* untouched */
    pb[6] = 1.0 + 1e-13;           /* p_buy has no allowance */
    e[3] = NAN;
    pa[3] = 1.5; /* the first failed check of customer 3 is P(alive) */
    m[5] = -1.0;
    sgs_assert_cmp(sgs_value_scores_check(N, pa, e, pn, m, clv, pb, &first, &what, &value), ==, 3);
    sgs_assert_cmp(first, ==, 3);
    assert_string_equal(what, "P(alive)");
    sgs_assert_cmp(value, ==, 1.5);
    pa[3] = 0.5;
    sgs_assert_cmp(sgs_value_scores_check(N, pa, e, pn, m, clv, pb, &first, &what, &value), ==, 3);
    assert_string_equal(what, "expected purchases");
    sgs_assert_nan(value);
    e[3] = 1.0;
    clv[2] = INFINITY;
    sgs_assert_cmp(sgs_value_scores_check(N, pa, e, pn, m, clv, pb, &first, &what, &value), ==, 3);
    sgs_assert_cmp(first, ==, 2);
    assert_string_equal(what, "CLV");
    clv[2] = 0.0;
    pn[2] = 1.1;
    sgs_assert_cmp(sgs_value_scores_check(N, pa, e, pn, m, clv, pb, &first, &what, &value), ==, 3);
    assert_string_equal(what, "P(no purchase)");
    pn[2] = 0.0;
    sgs_assert_cmp(sgs_value_scores_check(N, pa, e, pn, m, clv, pb, &first, &what, &value), ==, 2);
    sgs_assert_cmp(first, ==, 5);
    assert_string_equal(what, "expected spend");
    m[5] = 0.0;
    sgs_assert_cmp(sgs_value_scores_check(N, pa, e, pn, m, clv, pb, &first, &what, &value), ==, 1);
    assert_string_equal(what, "p_buy");
}

/* Two segments and an empty one over two columns; the second column has no variance. */
static void test_segment_profile_means_and_shares(void **state)
{
    (void)state;
    const size_t size[] = {2, 4, 0};
    const double base_mean[] = {1.0, 5.0}, base_var[] = {4.0, 0.0};
    double mean[] = {6.0, 10.0, 8.0, 20.0, 0.0, 0.0};
    double dev[] = {4.0, 10.0, 2.0, 20.0, 0.0, 0.0};
    sgs_segment_profile_means(3, 2, size, base_mean, base_var, mean, dev);
    sgs_assert_cmp(mean[0], ==, 3.0);
    sgs_assert_cmp(mean[1], ==, 5.0);
    sgs_assert_cmp(mean[2], ==, 2.0);
    sgs_assert_cmp(mean[3], ==, 5.0);
    sgs_assert_nan(mean[4]);
    sgs_assert_nan(mean[5]);
    sgs_assert_cmp(dev[0], ==, 0.5);   /* (4/2 - 1) / 2 */
    sgs_assert_cmp(dev[2], ==, -0.25); /* (2/4 - 1) / 2 */
    sgs_assert_cmp(dev[1], ==, 0.0);   /* no variance */
    sgs_assert_cmp(dev[4], ==, 0.0);   /* empty segment */

    const double sums[] = {30.0, -10.0, 0.0};
    double share[3];
    sgs_segment_shares(3, sums, 20.0, share);
    sgs_assert_cmp(share[0], ==, 1.5);
    sgs_assert_cmp(share[1], ==, -0.5);
    sgs_assert_cmp(share[2], ==, 0.0);
    sgs_segment_shares(3, sums, 0.0, share);
    for (int j = 0; j < 3; j++)
        sgs_assert_nan(share[j]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_actual_by_bin),
        cmocka_unit_test(test_history_outcomes_and_births),
        cmocka_unit_test(test_cumulative_at_points),
        cmocka_unit_test(test_first_not_finite),
        cmocka_unit_test(test_value_scores_check),
        cmocka_unit_test(test_segment_profile_means_and_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
