/*
 * tests/unit/test_histories.c — distinct (x, t_x, T) histories: hand-made tables, counts
 * summing to n, every row mapped to its own triple, validation errors, thread-count
 * independence, weights.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/histories.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_hand_made_table(void **state)
{
    (void)state;
    /* rows:        0    1    2    3    4    5    6 */
    double x[] = {2, 0, 2, 1, 0, 2, -0.0};
    double tx[] = {5, 0, 5, 3, 0, 4, 0};
    double T[] = {9, 7, 9, 9, 8, 9, 7};
    sgs_histories_t h;
    sgs_exec_t ex = {.n_threads = 2};
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, 7, &ex, NULL), 0);
    /* sorted: (0,0,7)x2 (0,0,8) (1,3,9) (2,4,9) (2,5,9)x2 */
    assert_int_equal(h.n_unique, 5);
    assert_int_equal(h.n_customers, 7);
    double ex_x[] = {0, 0, 1, 2, 2}, ex_tx[] = {0, 0, 3, 4, 5}, ex_T[] = {7, 8, 9, 9, 9};
    double ex_c[] = {2, 1, 1, 1, 2};
    for (int j = 0; j < 5; j++) {
        sgs_assert_cmp(h.x[j], ==, ex_x[j]);
        sgs_assert_cmp(h.t_x[j], ==, ex_tx[j]);
        sgs_assert_cmp(h.T[j], ==, ex_T[j]);
        sgs_assert_cmp(h.count[j], ==, ex_c[j]);
        sgs_assert_cmp(h.x_values[h.x_id[j]], ==, h.x[j]);
        sgs_assert_cmp(h.t_x_values[h.t_x_id[j]], ==, h.t_x[j]);
        sgs_assert_cmp(h.T_values[h.T_id[j]], ==, h.T[j]);
    }
    assert_int_equal(h.n_x_values, 3);
    assert_int_equal(h.n_t_x_values, 4);
    assert_int_equal(h.n_T_values, 3);
    sgs_assert_cmp(h.count_by_x[0], ==, 3);
    sgs_assert_cmp(h.count_by_x[1], ==, 1);
    sgs_assert_cmp(h.count_by_x[2], ==, 3);
    uint32_t ex_of[] = {4, 0, 4, 2, 1, 3, 0};
    for (int i = 0; i < 7; i++)
        assert_int_equal(h.history_of[i], ex_of[i]);
    sgs_assert_cmp(h.total_weight, ==, 7.0);
    sgs_histories_free(&h);
    sgs_histories_free(&h); /* idempotent */
}

static void test_validation_names_first_bad_row(void **state)
{
    (void)state;
    double x[] = {1, 0, 1.5, 1}, tx[] = {1, 0, 1, 1}, T[] = {2, 2, 2, 0.5};
    sgs_histories_t h;
    sgs_error_t err = {0};
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, 4, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "row 2");
    sgs_assert_contains(err.message, "integer");
    x[2] = 1;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, 4, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "row 3");
    T[3] = 1;
    tx[1] = 0.5; /* x = 0 with t_x > 0 */
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, 4, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "row 1");
    tx[1] = 0;
    x[0] = NAN;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, 4, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "row 0");
    x[0] = 1;
    double w[] = {1, 0, 1, 1};
    assert_int_equal(sgs_histories_build(&h, x, tx, T, w, 4, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "weight");
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, 0, NULL, &err), 0);
    assert_int_equal(h.n_unique, 0);
    sgs_histories_free(&h);
}

/* Random histories on a day grid (weeks = days / 7), n rows; independent check by brute
 * force: every row's history equals its triple, counts sum to n, strictly ascending. */
static void random_histories(size_t n, uint64_t seed, double *x, double *tx, double *T)
{
    for (size_t i = 0; i < n; i++) {
        int days_T = (int)(sgs_rng_uniform(seed, 1, i) * 400);
        int xi = (int)(sgs_rng_uniform(seed, 2, i) * 6);
        int days_tx = xi ? 1 + (int)(sgs_rng_uniform(seed, 3, i) * days_T) : 0;
        if (days_tx > days_T)
            days_tx = days_T;
        x[i] = xi;
        tx[i] = days_tx / 7.0;
        T[i] = days_T / 7.0;
    }
}

static void check_table(const sgs_histories_t *h, const double *x, const double *tx,
                        const double *T, size_t n)
{
    double sum = 0.0;
    for (size_t j = 0; j < h->n_unique; j++) {
        sum += h->count[j];
        if (j > 0) {
            int asc =
                h->x[j - 1] < h->x[j] ||
                (h->x[j - 1] == h->x[j] && (h->t_x[j - 1] < h->t_x[j] ||
                                            (h->t_x[j - 1] == h->t_x[j] && h->T[j - 1] < h->T[j])));
            if (!asc)
                fail_msg("histories %zu and %zu out of order: (x %g, t_x %g, T %g) then "
                         "(x %g, t_x %g, T %g)",
                         j - 1, j, h->x[j - 1], h->t_x[j - 1], h->T[j - 1], h->x[j], h->t_x[j],
                         h->T[j]);
        }
    }
    sgs_assert_cmp(sum, ==, (double)n);
    double *recount = calloc(h->n_unique, sizeof *recount);
    for (size_t i = 0; i < n; i++) {
        uint32_t j = h->history_of[i];
        sgs_assert_cmp(j, <, h->n_unique);
        sgs_assert_cmp(h->x[j], ==, x[i]);
        sgs_assert_cmp(h->t_x[j], ==, tx[i]);
        sgs_assert_cmp(h->T[j], ==, T[i]);
        recount[j] += 1.0;
    }
    for (size_t j = 0; j < h->n_unique; j++)
        sgs_assert_cmp(recount[j], ==, h->count[j]);
    free(recount);
}

static void test_random_counts_sum_and_threads_agree(void **state)
{
    (void)state;
    size_t n = 100000; /* several blocks of SGS_BLOCK_ROWS */
    double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx), *T = malloc(n * sizeof *T);
    random_histories(n, 7, x, tx, T);
    sgs_histories_t h[3];
    for (int t = 0; t < 3; t++) {
        sgs_exec_t ex = {.n_threads = t + 1, .grain = 1}; /* grain 1: every thread works */
        assert_int_equal(sgs_histories_build(&h[t], x, tx, T, NULL, n, &ex, NULL), 0);
    }
    check_table(&h[0], x, tx, T, n);
    sgs_assert_cmp(h[0].n_unique, >, 1000);
    sgs_assert_cmp(h[0].n_unique, <, n);
    for (int t = 1; t < 3; t++) {
        assert_int_equal(h[t].n_unique, h[0].n_unique);
        size_t m = h[0].n_unique;
        assert_memory_equal(h[t].x, h[0].x, m * sizeof(double));
        assert_memory_equal(h[t].t_x, h[0].t_x, m * sizeof(double));
        assert_memory_equal(h[t].T, h[0].T, m * sizeof(double));
        assert_memory_equal(h[t].count, h[0].count, m * sizeof(double));
        assert_memory_equal(h[t].history_of, h[0].history_of, n * sizeof(uint32_t));
    }
    for (int t = 0; t < 3; t++)
        sgs_histories_free(&h[t]);
    free(x);
    free(tx);
    free(T);
}

/* Continuous times: t_x and T have mostly distinct values, which takes the radix-sort path
 * for the distinct values of a column. */
static void test_continuous_times_take_the_sort_path(void **state)
{
    (void)state;
    size_t n = 60000;
    double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx), *T = malloc(n * sizeof *T);
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)(i % 3);
        T[i] = 100.0 * sgs_rng_uniform(11, 0, i / 2); /* pairs of equal rows */
        tx[i] = x[i] > 0 ? T[i] * sgs_rng_uniform(11, 1, i / 2) : 0.0;
    }
    sgs_histories_t h1, h3;
    sgs_exec_t e1 = {.n_threads = 1}, e3 = {.n_threads = 3, .grain = 1};
    assert_int_equal(sgs_histories_build(&h1, x, tx, T, NULL, n, &e1, NULL), 0);
    assert_int_equal(sgs_histories_build(&h3, x, tx, T, NULL, n, &e3, NULL), 0);
    check_table(&h1, x, tx, T, n);
    sgs_assert_cmp(h1.n_T_values, >, 10000);
    assert_int_equal(h3.n_unique, h1.n_unique);
    assert_memory_equal(h3.history_of, h1.history_of, n * sizeof(uint32_t));
    sgs_histories_free(&h1);
    sgs_histories_free(&h3);
    free(x);
    free(tx);
    free(T);
}

static void test_weights_are_summed(void **state)
{
    (void)state;
    double x[] = {1, 1, 0}, tx[] = {2, 2, 0}, T[] = {3, 3, 3}, w[] = {0.5, 2.25, 4};
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, w, 3, NULL, NULL), 0);
    assert_int_equal(h.n_unique, 2);
    sgs_assert_cmp(h.count[0], ==, 4.0);
    sgs_assert_cmp(h.count[1], ==, 2.75);
    sgs_assert_cmp(h.total_weight, ==, 6.75);
    sgs_histories_free(&h);
}

static void test_allocation_failures_leave_nothing(void **state)
{
    (void)state;
    size_t n = 3000;
    double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx), *T = malloc(n * sizeof *T);
    random_histories(n, 3, x, tx, T);
    int failures = 0;
    for (long k = 0; k < 200; k++) {
        sgs_histories_t h;
        sgs_test_fail_alloc_after(k);
        int rc = sgs_histories_build(&h, x, tx, T, NULL, n, NULL, NULL);
        sgs_test_fail_alloc_after(-1);
        if (rc == 0) {
            check_table(&h, x, tx, T, n);
            sgs_histories_free(&h);
            break;
        }
        assert_int_equal(rc, SGS_ENOMEM);
        assert_null(h.x);
        assert_null(h.history_of);
        failures++;
    }
    sgs_assert_cmp(failures, >, 5);
    free(x);
    free(tx);
    free(T);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_made_table),
        cmocka_unit_test(test_validation_names_first_bad_row),
        cmocka_unit_test(test_random_counts_sum_and_threads_agree),
        cmocka_unit_test(test_continuous_times_take_the_sort_path),
        cmocka_unit_test(test_weights_are_summed),
        cmocka_unit_test(test_allocation_failures_leave_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
