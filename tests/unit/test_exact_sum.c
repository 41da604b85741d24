/*
 * tests/unit/test_exact_sum.c — kernels/exact_sum.h: the exactly rounded sum, the same in any
 * order and from any split into partial sums, equal to Python's math.fsum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/exact_sum.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void assert_same_bits(double got, double expected)
{
    if (memcmp(&got, &expected, sizeof got) != 0)
        fail_msg("got %a, expected %a", got, expected);
}

/* Doubles over the whole range: both signs, exponents from the subnormals to 2^1000, and
 * clusters of equal magnitude that cancel. */
static double *wide_terms(size_t n, uint64_t seed)
{
    double *x = malloc(n * sizeof *x);
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        double m = sgs_test_uniform(&state) + 0.5;
        int e = (int)(sgs_test_next(&state) % 2100) - 1090;
        x[i] = ldexp(m, e) * (sgs_test_next(&state) & 1 ? -1.0 : 1.0);
        if (i % 7 == 3)
            x[i] = -x[i - 1]; /* exact cancellation */
    }
    return x;
}

static void known_sums(void **state)
{
    (void)state;
    const double cancel[] = {1e100, 1.0, -1e100};
    assert_same_bits(sgs_exact_sum_of(cancel, 3), 1.0);
    double tenths[10];
    for (int i = 0; i < 10; i++)
        tenths[i] = 0.1;
    assert_same_bits(sgs_exact_sum_of(tenths, 10),
                     1.0); /* a running sum gives 0.9999999999999999 */
    /* ties to even, and a tie broken by a bit far below */
    const double tie[] = {1.0, ldexp(1.0, -53)};
    assert_same_bits(sgs_exact_sum_of(tie, 2), 1.0);
    const double above_tie[] = {1.0, ldexp(1.0, -53), ldexp(1.0, -100)};
    assert_same_bits(sgs_exact_sum_of(above_tie, 3), 1.0 + ldexp(1.0, -52));
    const double odd_tie[] = {1.0 + ldexp(1.0, -52), ldexp(1.0, -53)};
    assert_same_bits(sgs_exact_sum_of(odd_tie, 2), 1.0 + ldexp(1.0, -51));
    /* the largest doubles: past DBL_MAX on the way, back in range at the end */
    const double big[] = {DBL_MAX, DBL_MAX, -DBL_MAX};
    assert_same_bits(sgs_exact_sum_of(big, 3), DBL_MAX);
    assert_same_bits(sgs_exact_sum_of(big, 2), INFINITY);
    const double neg_big[] = {-DBL_MAX, -DBL_MAX};
    assert_same_bits(sgs_exact_sum_of(neg_big, 2), -INFINITY);
    /* subnormals add exactly */
    const double tiny[] = {ldexp(1.0, -1074), ldexp(3.0, -1074), -ldexp(1.0, -1073)};
    assert_same_bits(sgs_exact_sum_of(tiny, 3), ldexp(2.0, -1074));
    const double negative[] = {-2.5, 1.25, -0.125};
    assert_same_bits(sgs_exact_sum_of(negative, 3), -1.375);
    assert_same_bits(sgs_exact_sum_of(NULL, 0), 0.0);
}

static void non_finite_terms(void **state)
{
    (void)state;
    const double inf_plus[] = {1.0, INFINITY, -5.0};
    assert_same_bits(sgs_exact_sum_of(inf_plus, 3), INFINITY);
    const double inf_minus[] = {-INFINITY, 5.0};
    assert_same_bits(sgs_exact_sum_of(inf_minus, 2), -INFINITY);
    const double both[] = {INFINITY, -INFINITY};
    sgs_assert_nan(sgs_exact_sum_of(both, 2));
    const double with_nan[] = {1.0, NAN};
    sgs_assert_nan(sgs_exact_sum_of(with_nan, 2));
}

/* Any order, any split into merged partial sums, carries at any point: the same bits. */
static void order_and_split_do_not_matter(void **state)
{
    (void)state;
    const size_t n = 20000;
    double *x = wide_terms(n, 11);
    double whole = sgs_exact_sum_of(x, n);
    uint64_t rng = 5;
    for (int trial = 0; trial < 20; trial++) {
        for (size_t i = n - 1; i > 0; i--) { /* shuffle */
            size_t j = (size_t)(sgs_test_next(&rng) % (i + 1));
            double t = x[i];
            x[i] = x[j];
            x[j] = t;
        }
        sgs_exact_sum_t total, part;
        sgs_exact_sum_init(&total);
        sgs_exact_sum_init(&part);
        for (size_t i = 0; i < n; i++) {
            sgs_exact_sum_add(&part, x[i]);
            if (sgs_test_next(&rng) % 500 == 0) {
                sgs_exact_sum_merge(&total, &part);
                sgs_exact_sum_init(&part);
            }
            if (sgs_test_next(&rng) % 3000 == 0)
                sgs_exact_sum_carry(&total);
        }
        sgs_exact_sum_merge(&total, &part);
        assert_same_bits(sgs_exact_sum_value(&total), whole);
    }
    free(x);
}

/* Against Python's math.fsum, which is exactly rounded (Shewchuk's algorithm). */
static void equals_python_fsum(void **state)
{
    (void)state;
    const char *python = sgs_test_python("math", "python3");
    if (!python)
        skip();
    char dir[512], path[600], cmd[1400], out[256];
    sgs_test_tmpdir("exact_sum", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/terms.txt", dir);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        const size_t n = 5000;
        double *x = wide_terms(n, seed * 101);
        if (seed == 4) /* money-like: many amounts of two decimals */
            for (size_t i = 0; i < n; i++)
                x[i] = ((double)((i * 7919) % 100000) - 30000.0) / 100.0;
        FILE *f = fopen(path, "w");
        sgs_assert_cmp(f != NULL, ==, 1);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%a\n", x[i]);
        fclose(f);
        snprintf(cmd, sizeof cmd,
                 "%s -c 'import math,sys; print(math.fsum(float.fromhex(l) for l in "
                 "open(sys.argv[1])).hex())' %s",
                 python, path);
        sgs_assert_cmp(sgs_test_shell(cmd, out, sizeof out), ==, 0);
        double expected = strtod(out, NULL);
        assert_same_bits(sgs_exact_sum_of(x, n), expected);
        free(x);
    }
    sgs_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_sums),
        cmocka_unit_test(non_finite_terms),
        cmocka_unit_test(order_and_split_do_not_matter),
        cmocka_unit_test(equals_python_fsum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
