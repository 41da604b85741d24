/*
 * tests/unit/test_radix_select.c — the radix select (kernels/radix_select.h) against a sorted
 * copy (qsort) and against kernels/order_stats.h's selections: the same bits for every rank,
 * on random and adversarial data (ties, one value, two values far apart, negatives, one
 * sign of zero, subnormals, huge and tiny magnitudes), sizes around the pass thresholds, one
 * to four ranks with repeats; the value range and its zero flag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/order_stats.h"
#include "kernels/radix_select.h"
#include "tests/support/test_rng.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { N_KINDS = 14 };

/* Value i of data kind `kind` (no NaN, no infinity, never both zeros in one array: kinds
 * 4 and 5 hold one zero each). */
static double value_of(int kind, uint64_t *s)
{
    uint64_t u = sgs_test_next(s);
    double p = sgs_test_uniform(s);
    switch (kind) {
    case 0: /* uniform */
        return p;
    case 1: /* few values: counts after log1p */
        return log1p((double)(u % 7));
    case 2: /* mostly one value, a tail */
        return u % 10 < 8 ? 1.0 : 1.0 + p;
    case 3: /* signs and scales */
        return (u & 1 ? -1.0 : 1.0) * exp(60.0 * (p - 0.5));
    case 4: /* -0.0 among negatives */
        return u % 5 == 0 ? -0.0 : -p;
    case 5: /* +0.0 among both signs */
        return u % 5 == 0 ? 0.0 : p - 0.5;
    case 6: /* subnormals and zero */
        return u % 3 == 0 ? 0.0 : (double)(u % 1000) * DBL_TRUE_MIN;
    case 7: /* two values far apart */
        return u & 1 ? -DBL_MAX : DBL_MAX;
    case 8: /* one value */
        return 3.25;
    case 9: /* a cluster and outliers: the cluster shares a first-pass bucket */
        return u % 1000 == 0 ? 1e300 : 1.0 + p * 1e-9;
    case 10: /* consecutive doubles: keys differing in the last bits only */
        return nextafter(1.0, 2.0) + (double)(u % 5000) * DBL_EPSILON;
    case 11: /* money: log-normal-ish with ties at round amounts */
        return u % 4 == 0 ? 10.0 * (double)(u % 9) : exp(5.0 * p);
    case 12: /* zeros among values of one scale: linear digits beat the keys' bits */
        return u % 3 == 0 ? 0.0 : 4.0 + 3.0 * p;
    default: /* negatives of one scale and a few huge values */
        return u % 500 == 0 ? 1e200 : -100.0 - p;
    }
}

/* Every kind, sizes across the thresholds, random rank sets of 1..4 ranks (repeats, the
 * ends): each result has the sorted copy's bits. x is scratch: refilled for each set. */
static void test_matches_sorting(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 3, 17, 2048, 2049, 5000, 70001, 300000};
    for (int kind = 0; kind < N_KINDS; kind++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            size_t n = sizes[z];
            uint64_t s = 1000 * (uint64_t)kind + z;
            double *x = malloc(n * sizeof *x), *sorted = malloc(n * sizeof *x),
                   *orig = malloc(n * sizeof *x);
            assert_true(x && sorted && orig);
            for (size_t i = 0; i < n; i++)
                orig[i] = value_of(kind, &s);
            memcpy(sorted, orig, n * sizeof *x);
            qsort(sorted, n, sizeof *x, cmp_double);
            for (int trial = 0; trial < 6; trial++) {
                size_t rank[SGS_RADIX_SELECT_MAX_RANKS];
                size_t n_ranks = 1 + (size_t)trial % SGS_RADIX_SELECT_MAX_RANKS;
                for (size_t r = 0; r < n_ranks; r++)
                    rank[r] = trial == 0   ? (r == 0 ? 0 : n - 1)
                              : trial == 1 ? (n - 1) / 2 + (r % 2 && n > 1)
                                           : (size_t)(sgs_test_next(&s) % n);
                if (trial == 5 && n_ranks > 1)
                    rank[1] = rank[0];               /* a repeat */
                for (size_t a = 1; a < n_ranks; a++) /* ascending */
                    for (size_t b = a; b > 0 && rank[b] < rank[b - 1]; b--) {
                        size_t t = rank[b];
                        rank[b] = rank[b - 1];
                        rank[b - 1] = t;
                    }
                double min, max, got[SGS_RADIX_SELECT_MAX_RANKS];
                memcpy(x, orig, n * sizeof *x);
                assert_int_equal(sgs_radix_value_range(x, n, &min, &max), 0);
                assert_memory_equal(&min, &sorted[0], sizeof min);
                assert_memory_equal(&max, &sorted[n - 1], sizeof max);
                sgs_radix_select(x, n, min, max, rank, n_ranks, got);
                for (size_t r = 0; r < n_ranks; r++)
                    if (memcmp(&got[r], &sorted[rank[r]], sizeof got[r]) != 0)
                        fail_msg("kind %d n %zu rank %zu: %.17g, sorted %.17g", kind, n, rank[r],
                                 got[r], sorted[rank[r]]);
            }
            free(orig);
            free(x);
            free(sorted);
        }
}

/* The median has sgs_median_inplace's and sgs_median_inplace_fr's bits (odd and even n, one
 * sign of zero); n == 0 gives NaN. */
static void test_median_matches_introselect(void **state)
{
    (void)state;
    assert_true(isnan(sgs_radix_median(NULL, 0, 0.0, 0.0)));
    const size_t sizes[] = {1, 2, 4, 2050, 99999, 100000, 250001};
    for (int kind = 0; kind < N_KINDS; kind++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            size_t n = sizes[z];
            uint64_t s = 77 + 1000 * (uint64_t)kind + z;
            double *x = malloc(n * sizeof *x), *a = malloc(n * sizeof *x),
                   *b = malloc(n * sizeof *x);
            assert_true(x && a && b);
            for (size_t i = 0; i < n; i++)
                x[i] = value_of(kind, &s);
            memcpy(a, x, n * sizeof *x);
            memcpy(b, x, n * sizeof *x);
            double min, max;
            sgs_radix_value_range(x, n, &min, &max);
            double got = sgs_radix_median(x, n, min, max), want = sgs_median_inplace(a, n),
                   want_fr = sgs_median_inplace_fr(b, n);
            if (memcmp(&got, &want, sizeof got) != 0 || memcmp(&got, &want_fr, sizeof got) != 0)
                fail_msg("kind %d n %zu: median %.17g, introselect %.17g", kind, n, got, want);
            free(x);
            free(a);
            free(b);
        }
}

/* The zero flag is sgs_has_both_zeros; min and max of a hand case. */
static void test_value_range(void **state)
{
    (void)state;
    double x[] = {2.0, -0.0, 5.5, -3.0, 0.0};
    double min, max;
    assert_int_equal(sgs_radix_value_range(x, 5, &min, &max), 1);
    assert_true(min == -3.0 && max == 5.5);
    assert_int_equal(sgs_radix_value_range(x, 4, &min, &max), 0);
    assert_int_equal(sgs_radix_value_range(x + 2, 3, &min, &max), 0);
    assert_int_equal(sgs_has_both_zeros(x, 4), 0);
    double one = -7.0;
    assert_int_equal(sgs_radix_value_range(&one, 1, &min, &max), 0);
    assert_true(min == -7.0 && max == -7.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_sorting),
        cmocka_unit_test(test_median_matches_introselect),
        cmocka_unit_test(test_value_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
