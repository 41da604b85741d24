/*
 * tests/unit/test_order_stats.c — medians per group into caller-owned scratch
 * (sgs_group_medians_into): a hand-computed case, the same bits as sgs_group_medians on random
 * columns for 1, 2 and 3 threads with one scratch reused across columns, and its errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/order_stats.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seed of the random cases: SGS_TEST_SEED in the environment replays a failure. */
static unsigned test_seed(void)
{
    const char *s = getenv("SGS_TEST_SEED");
    unsigned seed = s ? (unsigned)strtoul(s, NULL, 10) : 20261206u;
    print_message("seed %u (SGS_TEST_SEED replays)\n", seed);
    return seed;
}

static void test_hand_case(void **state)
{
    (void)state;
    double v[] = {1, 2, 3, 10, 20, NAN, 7, 100};
    int32_t g[] = {0, 0, 0, 1, 1, 1, -1, 2};
    double med[4], overall = 0, scratch[8];
    sgs_exec_t exec = {.n_threads = 2};
    assert_int_equal(sgs_group_medians_into(8, v, g, 4, med, &overall, scratch, &exec, NULL), 0);
    sgs_assert_cmp(med[0], ==, 2.0);
    sgs_assert_cmp(med[1], ==, 15.0);
    sgs_assert_cmp(med[2], ==, 100.0);
    sgs_assert_nan(med[3]);
    sgs_assert_cmp(overall, ==, 7.0); /* of {1,2,3,7,10,20,100} */
    /* without the overall median */
    assert_int_equal(sgs_group_medians_into(8, v, g, 4, med, NULL, scratch, &exec, NULL), 0);
    sgs_assert_cmp(med[1], ==, 15.0);
}

static void test_errors(void **state)
{
    (void)state;
    double v[] = {1, 2, 3}, med[2], scratch[3];
    int32_t g[] = {0, 1, 2};
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    assert_int_equal(sgs_group_medians_into(3, v, g, 2, med, NULL, scratch, &exec, &err),
                     SGS_EDATA);
    sgs_assert_contains(err.message, "row 2");
    assert_int_equal(sgs_group_medians_into(3, v, g, 3, med, NULL, NULL, &exec, &err), SGS_EINVAL);
}

/* Random columns with NaNs and unlabelled rows: the same bits as sgs_group_medians, whatever the
 * thread count, with one scratch reused for every column (left dirty by the previous one). */
static void test_same_as_allocating(void **state)
{
    (void)state;
    unsigned seed = test_seed();
    srand(seed);
    enum { N = 20011, G = 5, COLS = 4 };
    double *v = malloc(N * sizeof *v), *scratch = malloc(N * sizeof *scratch);
    int32_t *g = malloc(N * sizeof *g);
    assert_non_null(v);
    assert_non_null(scratch);
    assert_non_null(g);
    for (int c = 0; c < COLS; c++) {
        for (size_t i = 0; i < N; i++) {
            v[i] = rand() % 17 == 0 ? (double)NAN : (double)(rand() % 1000) / (double)(c + 1);
            g[i] = rand() % 11 == 0 ? -1 : (int32_t)(rand() % G);
        }
        double want[G], want_all;
        sgs_exec_t one = {.n_threads = 1};
        assert_int_equal(sgs_group_medians(N, v, g, G, want, &want_all, &one, NULL), 0);
        for (int nt = 1; nt <= 3; nt++) {
            sgs_exec_t exec = {.n_threads = nt};
            double got[G], got_all;
            assert_int_equal(
                sgs_group_medians_into(N, v, g, G, got, &got_all, scratch, &exec, NULL), 0);
            if (memcmp(got, want, sizeof got) != 0 || memcmp(&got_all, &want_all, sizeof got_all))
                fail_msg("seed %u column %d threads %d: medians differ (group 0: %.17g vs %.17g)",
                         seed, c, nt, got[0], want[0]);
        }
    }
    free(v);
    free(scratch);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_same_as_allocating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
