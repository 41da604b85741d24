/*
 * tests/unit/test_sparse_values.c — kernels/sparse_values.h: every lookup gives the dense
 * column's bits (NaN for the absent entries), the parallel build equals its serial twin on 1,
 * 2 and 3 threads, across the 64-entry words and the 16,384-entry blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/sparse_values.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A column of n entries, a share `present` of them values (signed zeros, infinities,
 * subnormals, ordinary numbers), the rest NaN. */
static double *column(size_t n, double present, uint64_t seed)
{
    double *x = malloc((n ? n : 1) * sizeof *x);
    assert_non_null(x);
    uint64_t s = seed;
    static const double special[] = {0.0, -0.0, INFINITY, -INFINITY, 4.9e-324, 10.0};
    for (size_t e = 0; e < n; e++) {
        if (sgs_test_uniform(&s) >= present)
            x[e] = NAN;
        else if (sgs_test_next(&s) % 8 == 0)
            x[e] = special[sgs_test_next(&s) % 6];
        else
            x[e] = (double)(sgs_test_next(&s) % 11) + sgs_test_uniform(&s);
    }
    return x;
}

static void assert_reads_as(const sgs_sparse_values_t *s, const double *dense, size_t n)
{
    assert_int_equal(s->n, n);
    size_t n_present = 0;
    for (size_t e = 0; e < n; e++) {
        double got = sgs_sparse_value(s, e);
        n_present += !isnan(dense[e]);
        if (isnan(dense[e]) ? !isnan(got) : memcmp(&got, &dense[e], sizeof got) != 0)
            fail_msg("entry %zu of %zu: got %a, expected %a", e, n, got, dense[e]);
    }
    assert_int_equal(s->n_present, n_present);
}

static void lookups_give_the_dense_column(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 63, 64, 65, 1000, 16383, 16384, 16385, 50000};
    static const double shares[] = {0.0, 0.1, 0.5, 1.0};
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
        for (size_t b = 0; b < sizeof shares / sizeof shares[0]; b++) {
            size_t n = sizes[a];
            double *x = column(n, shares[b], 17 + a * 7 + b);
            size_t words = (n + 63) / 64 + 1;
            uint64_t *present = malloc(words * sizeof *present);
            uint64_t *before = malloc(words * sizeof *before);
            double *values = malloc((n + 1) * sizeof *values);
            assert_true(present && before && values);
            sgs_sparse_values_t twin;
            sgs_sparse_values_fill(x, n, present, before, values, &twin);
            assert_reads_as(&twin, x, n);
            for (int threads = 1; threads <= 3; threads++) {
                sgs_exec_t exec = {.n_threads = threads, .grain = 1};
                sgs_sparse_values_t s;
                assert_int_equal(sgs_sparse_values_build(&exec, x, n, &s, NULL), SGS_OK);
                assert_reads_as(&s, x, n);
                /* the same structure as the serial twin, word for word */
                assert_memory_equal(s.present, present, (n + 63) / 64 * sizeof *present);
                assert_memory_equal(s.before, before, (n + 63) / 64 * sizeof *before);
                assert_memory_equal(s.values, values, s.n_present * sizeof *values);
                sgs_sparse_values_free(&s);
                assert_null(s.values);
            }
            free(present);
            free(before);
            free(values);
            free(x);
        }
}

/* A tenth of the entries present costs under a fifth of the dense column. */
static void a_sparse_column_is_small(void **state)
{
    (void)state;
    size_t n = 100000;
    double *x = column(n, 0.1, 5);
    sgs_exec_t exec = {.n_threads = 2};
    sgs_sparse_values_t s;
    assert_int_equal(sgs_sparse_values_build(&exec, x, n, &s, NULL), SGS_OK);
    size_t bytes = (n + 63) / 64 * 16 + s.n_present * sizeof(double);
    sgs_assert_cmp(bytes, <, n * sizeof(double) / 5);
    sgs_sparse_values_free(&s);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lookups_give_the_dense_column),
        cmocka_unit_test(a_sparse_column_is_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
