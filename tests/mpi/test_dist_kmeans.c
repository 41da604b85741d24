/*
 * tests/mpi/test_dist_kmeans.c — k-means over processes (engine/dist_kmeans.h) under mpirun
 * with 1 to 4 processes: on every case of tests/support/dist_kmeans_cases.h the centers,
 * inertia, iterations and the other results, and every process's rows' labels and distances,
 * are those of the single-process kernel on all rows, bitwise; and bad input on one process
 * (a NaN, a negative weight) or bad options are every process's error, with the kernel's
 * message naming the global row; a stop asked on one process stops every process.
 */
#include "engine/dist_kmeans.h"
#include "tests/support/dist_kmeans_cases.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>

static void fits_equal_the_single_process_fit(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof km_cases / sizeof km_cases[0]; c++)
        km_check_case(&sgs_test_world, &km_cases[c], 1, 1);
}

/* Cases drawn at random (seeds 1 to 8; SGS_TEST_SEED=s replays seed s alone): the
 * configuration in the failure message. */
static void random_cases_equal_the_single_process_fit(void **state)
{
    (void)state;
    const char *replay = getenv("SGS_TEST_SEED");
    uint64_t lo = replay ? strtoull(replay, NULL, 10) : 1, hi = replay ? lo : 8;
    for (uint64_t seed = lo; seed <= hi; seed++) {
        char name[200];
        km_case_t c = km_random_case(seed, name);
        if (sgs_test_world.rank == 0)
            print_message("%s\n", name);
        km_check_case(&sgs_test_world, &c, 1, 1);
    }
}

/* Rows dealt evenly; `bad_row` (global) gets a NaN in column 1 or a negative weight. */
static int fit_with_bad_row(size_t n_all, size_t k, size_t bad_row, int bad_weight,
                            sgs_error_t *err)
{
    const sgs_dist_t *world = &sgs_test_world;
    size_t first = n_all * (size_t)world->rank / (size_t)world->size;
    size_t n = n_all * (size_t)(world->rank + 1) / (size_t)world->size - first;
    double *x = malloc((n ? n : 1) * 2 * sizeof *x), *w = malloc((n ? n : 1) * sizeof *w);
    for (size_t i = 0; i < n; i++) {
        km_row(KM_CLUSTERED, first + i, 2, x + i * 2);
        w[i] = 1.0;
        if (first + i == bad_row) {
            if (bad_weight)
                w[i] = -2.0;
            else
                x[i * 2 + 1] = NAN;
        }
    }
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, k);
    sgs_exec_t exec = {.n_threads = 1};
    int32_t *lab = malloc((n ? n : 1) * sizeof *lab);
    double *cen = malloc(k * 2 * sizeof *cen);
    sgs_kmeans_result_t res;
    int rc = sgs_dist_kmeans_fit(world, x, n, 2, bad_weight ? w : NULL, &opt, &exec, lab, NULL, cen,
                                 &res, err);
    free(x);
    free(w);
    free(lab);
    free(cen);
    return rc;
}

static void bad_input_on_one_process_fails_all(void **state)
{
    (void)state;
    sgs_error_t err = {0};
    /* The last row belongs to the last process; every process must return its error. */
    sgs_assert_cmp(fit_with_bad_row(20001, 3, 20000, 0, &err), ==, SGS_EDATA);
    sgs_assert_contains(err.message, "row 20000 column 1 is NaN");
    sgs_assert_cmp(fit_with_bad_row(20001, 3, 12345, 1, &err), ==, SGS_EDATA);
    sgs_assert_contains(err.message, "sample weight of row 12345 is -2");
    sgs_assert_cmp(fit_with_bad_row(5, 6, SIZE_MAX, 0, &err), ==, SGS_EINVAL);
    sgs_assert_contains(err.message, "n = 5 rows, fewer than k = 6 clusters");
    /* The same messages as the kernel's on all rows. */
    double x[4] = {0, 1, 2, NAN};
    int32_t lab[2];
    double cen[2];
    sgs_kmeans_result_t res;
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, 1);
    sgs_error_t one = {0};
    sgs_assert_cmp(sgs_kmeans_fit(x, 2, 2, NULL, &opt, NULL, lab, cen, &res, &one), ==, SGS_EDATA);
    sgs_assert_contains(one.message, "row 1 column 1 is NaN");
}

/* The last process's stop check says stop at its third call (the second iteration of the first
 * run); the others never do. */
static int stop_on_last(void *ctx, sgs_error_t *err)
{
    int *calls = ctx;
    if (sgs_test_world.rank == sgs_test_world.size - 1 && ++*calls == 3)
        return sgs_error_set(err, SGS_EINTR, "stopped as asked");
    return SGS_OK;
}

static void a_stop_on_one_process_stops_all(void **state)
{
    (void)state;
    const sgs_dist_t *world = &sgs_test_world;
    size_t n_all = 20001;
    size_t first = n_all * (size_t)world->rank / (size_t)world->size;
    size_t n = n_all * (size_t)(world->rank + 1) / (size_t)world->size - first;
    double *x = malloc((n ? n : 1) * 2 * sizeof *x);
    for (size_t i = 0; i < n; i++)
        km_row(KM_CLUSTERED, first + i, 2, x + i * 2);
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, 4);
    opt.tol = 0;
    int calls = 0;
    sgs_exec_t exec = {.n_threads = 1, .stop = stop_on_last, .stop_ctx = &calls};
    int32_t *lab = malloc((n ? n : 1) * sizeof *lab);
    double cen[8];
    sgs_kmeans_result_t res;
    sgs_error_t err = {0};
    sgs_assert_cmp(
        sgs_dist_kmeans_fit(world, x, n, 2, NULL, &opt, &exec, lab, NULL, cen, &res, &err), ==,
        SGS_EINTR);
    sgs_assert_contains(err.message, "stopped as asked");
    free(x);
    free(lab);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fits_equal_the_single_process_fit),
        cmocka_unit_test(random_cases_equal_the_single_process_fit),
        cmocka_unit_test(bad_input_on_one_process_fails_all),
        cmocka_unit_test(a_stop_on_one_process_stops_all),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
