/*
 * tests/mpi/test_dist_histories.c — the value models fitted on the histories of customers
 * spread over processes (engine/dist_histories.h), under mpirun with 1 to 4 processes: the
 * merged table is the single-process table and the BG/NBD, MBG/NBD and Pareto/NBD fits on it
 * are the single-process fits, bit for bit.
 */
#include "engine/dist_histories.h"
#include "engine/dist_input.h"
#include "engine/group_transactions.h"
#include "kernels/base_totals.h"
#include "kernels/bgnbd.h"
#include "kernels/dates.h"
#include "kernels/mbgnbd.h"
#include "kernels/paretonbd.h"
#include "kernels/summary.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[512], generated[600];

static int setup_file(void **state)
{
    (void)state;
    sgs_test_mpi_tmpdir("dist_histories", dir, sizeof dir);
    snprintf(generated, sizeof generated, "%s/in.h5", dir);
    sgs_test_mpi_generate(generated, 40000, 19, 0);
    return 0;
}

static int remove_file(void **state)
{
    (void)state;
    sgs_test_mpi_rmdir(dir);
    return 0;
}

/* The histories (in weeks) of the buyers among grouped customers g, as of as_of_day. */
static void histories_of(const sgs_grouped_t *g, int32_t as_of_day, sgs_histories_t *h)
{
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    sgs_summary_t s;
    sgs_test_buyers_summary(g, as_of_day, &s);
    size_t k = s.n_customers;
    double *col = malloc((k ? k : 1) * 4 * sizeof *col);
    sgs_assert_cmp(
        sgs_value_inputs(&s, k, 7.0, &exec, col, col + k, col + 2 * k, col + 3 * k, &err), ==,
        SGS_OK);
    sgs_assert_cmp(sgs_histories_build(h, col, col + k, col + 2 * k, NULL, k, &exec, &err), ==,
                   SGS_OK);
    free(col);
    sgs_summary_free(&s);
}

static void assert_same_bits(const double *a, const double *b, size_t n)
{
    if (n)
        assert_memory_equal(a, b, n * sizeof *a);
}

static void fits_are_the_single_run_fits(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 2};
    sgs_read_options_t opt = sgs_test_mpi_read_options();
    sgs_error_t err = {0};
    sgs_grouped_t g_all, g;
    sgs_read_stats_t st_all, st;
    sgs_dist_owners_t own;
    sgs_test_read_grouped(generated, &opt, &g_all, &st_all);
    sgs_test_mpi_read_grouped(generated, &opt, &g, &st, &own);
    int32_t as_of_day = (int32_t)sgs_day_of(st_all.max_time_s);
    sgs_histories_t h_all, h_mine, h;
    histories_of(&g_all, as_of_day, &h_all);
    histories_of(&g, as_of_day, &h_mine);
    sgs_assert_cmp(sgs_dist_histories_merge(&sgs_test_world, &exec, &h_mine, &h, &err), ==, SGS_OK);
    sgs_assert_cmp(h.n_unique, ==, h_all.n_unique);
    sgs_assert_cmp(h.n_customers, ==, h_all.n_customers);
    sgs_assert_cmp(h.total_weight, ==, h_all.total_weight);
    assert_same_bits(h.x, h_all.x, h.n_unique);
    assert_same_bits(h.t_x, h_all.t_x, h.n_unique);
    assert_same_bits(h.T, h_all.T, h.n_unique);
    assert_same_bits(h.count, h_all.count, h.n_unique);
    if (sgs_test_world.size > 1) /* the merge did merge: no process held every history */
        sgs_assert_cmp(h_mine.n_unique, <, h.n_unique);

    sgs_model_fit_options_t o;
    sgs_model_fit_options_init(&o);
    typedef int (*fit_fn)(const sgs_histories_t *, const sgs_model_fit_options_t *, sgs_fit_t *,
                          const sgs_exec_t *, sgs_error_t *);
    const fit_fn fits[] = {sgs_bgnbd_fit, sgs_mbgnbd_fit, sgs_paretonbd_fit};
    for (size_t k = 0; k < 3; k++) {
        sgs_fit_t a, b;
        sgs_assert_cmp(fits[k](&h_all, &o, &a, &exec, &err), ==, SGS_OK);
        sgs_assert_cmp(fits[k](&h, &o, &b, &exec, &err), ==, SGS_OK);
        assert_same_bits(a.params, b.params, (size_t)a.n_params);
        assert_same_bits(&a.log_likelihood, &b.log_likelihood, 1);
        assert_same_bits(a.std_err, b.std_err, (size_t)a.n_params);
        sgs_assert_cmp(a.iterations, ==, b.iterations);
    }
    sgs_histories_free(&h);
    sgs_histories_free(&h_mine);
    sgs_histories_free(&h_all);
    sgs_grouped_free(&g);
    sgs_grouped_free(&g_all);
    sgs_dist_owners_free(&own);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fits_are_the_single_run_fits),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, setup_file, remove_file);
}
