/*
 * tests/unit/test_value_concentration.c — kernels/value_concentration.h: shares of the top x%
 * against a sort of the same values (exact at bin boundaries, within the documented 0.55% of
 * the boundary bin otherwise), the input order changing only rounding, and the edges (zeros, NaN,
 * no value).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/value_concentration.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int descending(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Hand-computed: 10 customers, values 1..10 (far apart: each its own bin). */
static void test_hand_computed(void **state)
{
    (void)state;
    double v[10], total;
    for (int i = 0; i < 10; i++)
        v[i] = (double)(10 - i) * 7; /* 70, 63, ..., 7: sum 385 */
    const double f[] = {0, 0.1, 0.3, 1};
    double share[4];
    assert_int_equal(sgs_value_top_shares(v, 10, f, 4, share, &total, NULL), SGS_OK);
    sgs_assert_cmp(total, ==, 385);
    sgs_assert_cmp(share[0], ==, 0);
    sgs_assert_cmp(fabs(share[1] - 70.0 / 385), <, 1e-15);
    sgs_assert_cmp(fabs(share[2] - (70.0 + 63 + 56) / 385), <, 1e-15);
    sgs_assert_cmp(share[3], ==, 1);
}

/* Random lognormal-ish values against the sorted truth, and the same shares after a shuffle. */
static void test_against_sort(void **state)
{
    (void)state;
    const size_t n = 20000;
    double *v = malloc(n * sizeof *v), *sorted = malloc(n * sizeof *sorted);
    assert_non_null(v);
    assert_non_null(sorted);
    uint64_t seed = 7;
    for (size_t i = 0; i < n; i++) {
        double u = ((double)(sgs_rng_u64(seed, 0, i) >> 11) + 0.5) / 9007199254740992.0;
        v[i] = i % 10 == 0 ? 0 : exp(4 * u) * 10; /* a tenth worth nothing */
    }
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, descending);
    const double f[] = {0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 1};
    double share[7], again[7], total;
    assert_int_equal(sgs_value_top_shares(v, n, f, 7, share, &total, NULL), SGS_OK);
    double all = 0;
    for (size_t i = 0; i < n; i++)
        all += sorted[i];
    sgs_assert_close(total, all, 0, 1e-9);
    for (size_t j = 0; j < 7; j++) {
        size_t m = (size_t)llround(f[j] * (double)n);
        double top = 0;
        for (size_t i = 0; i < m; i++)
            top += sorted[i];
        /* the boundary bin is at most 0.55% off; bound by 0.55% of the whole top part */
        sgs_assert_close(share[j], top / all, 1e-12, 0.0055);
    }
    sgs_assert_cmp(share[6], ==, 1);
    /* reversed order: the same shares up to rounding (sums in another order) */
    for (size_t i = 0; i < n / 2; i++) {
        double t = v[i];
        v[i] = v[n - 1 - i];
        v[n - 1 - i] = t;
    }
    assert_int_equal(sgs_value_top_shares(v, n, f, 7, again, NULL, NULL), SGS_OK);
    for (size_t j = 0; j < 7; j++)
        sgs_assert_close(again[j], share[j], 1e-12, 0);
    free(v);
    free(sorted);
}

static void test_edges(void **state)
{
    (void)state;
    const double f[] = {0.5, 1};
    double share[2] = {-1, -1}, total = -1;
    double none[3] = {0, NAN, -5};
    assert_int_equal(sgs_value_top_shares(none, 3, f, 2, share, &total, NULL), SGS_OK);
    sgs_assert_cmp(total, ==, 0);
    sgs_assert_cmp(share[0], ==, 0);
    sgs_assert_cmp(share[1], ==, 0);
    assert_int_equal(sgs_value_top_shares(NULL, 0, f, 2, share, &total, NULL), SGS_OK);
    sgs_assert_cmp(total, ==, 0);
    sgs_assert_cmp(share[1], ==, 0);
    /* all equal: the top half holds half */
    double same[4] = {3, 3, 3, 3};
    assert_int_equal(sgs_value_top_shares(same, 4, f, 2, share, NULL, NULL), SGS_OK);
    sgs_assert_cmp(share[0], ==, 0.5);
    sgs_assert_cmp(share[1], ==, 1);
    sgs_error_t err = {0};
    const double bad[] = {1.5};
    assert_int_equal(sgs_value_top_shares(same, 4, bad, 1, share, NULL, &err), SGS_EINVAL);
    sgs_assert_contains(err.message, "1.5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_against_sort),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
