/*
 * tests/mpi/test_dist_value.c — the value step's pieces over customers spread across processes,
 * under mpirun with 1 to 4 processes, against the single-process functions on the same data,
 * bit for bit (memcmp): the Gamma-Gamma fit and its summary (engine/dist_gammagamma.h) on
 * generated customers and on rows dealt unevenly (a process with none, cuts off the blocks);
 * a bad x on one process and no usable customer being every process's error.
 */
#include "engine/dist_gammagamma.h"
#include "kernels/base_totals.h"
#include "kernels/dates.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[512], generated[600];

static int setup_file(void **state)
{
    (void)state;
    sgs_test_mpi_tmpdir("dist_value", dir, sizeof dir);
    snprintf(generated, sizeof generated, "%s/in.h5", dir);
    sgs_test_mpi_generate(generated, 60000, 23, 0);
    return 0;
}

static int remove_file(void **state)
{
    (void)state;
    sgs_test_mpi_rmdir(dir);
    return 0;
}

static void assert_same_bits(const void *a, const void *b, size_t bytes)
{
    if (bytes)
        assert_memory_equal(a, b, bytes);
}

/* The fields of two fits that a fit computes (not the padding). */
static void assert_same_fit(const sgs_fit_t *a, const sgs_fit_t *b)
{
    sgs_assert_cmp(a->n_params, ==, b->n_params);
    size_t k = (size_t)a->n_params;
    assert_same_bits(a->params, b->params, k * sizeof(double));
    assert_same_bits(a->log_params, b->log_params, k * sizeof(double));
    assert_same_bits(a->std_err, b->std_err, k * sizeof(double));
    for (size_t i = 0; i < k; i++)
        assert_same_bits(a->cov[i], b->cov[i], k * sizeof(double));
    assert_same_bits(&a->log_likelihood, &b->log_likelihood, sizeof(double));
    assert_same_bits(&a->objective, &b->objective, sizeof(double));
    assert_same_bits(&a->grad_norm, &b->grad_norm, sizeof(double));
    sgs_assert_cmp(a->iterations, ==, b->iterations);
    sgs_assert_cmp(a->n_evaluations, ==, b->n_evaluations);
    sgs_assert_cmp(a->start_index, ==, b->start_index);
    sgs_assert_cmp(a->status, ==, b->status);
    sgs_assert_cmp(a->hessian_ok, ==, b->hessian_ok);
}

static void assert_same_summary(const sgs_gg_summary_t *a, const sgs_gg_summary_t *b)
{
    sgs_assert_cmp(a->n_used, ==, b->n_used);
    sgs_assert_cmp(a->n_no_repeat, ==, b->n_no_repeat);
    sgs_assert_cmp(a->n_nonpositive, ==, b->n_nonpositive);
    assert_same_bits(&a->correlation, &b->correlation, sizeof(double));
    sgs_assert_cmp(a->correlation_warning, ==, b->correlation_warning);
}

/* x (repeat purchases) and m (mean spend) of the buyers among grouped customers g, as of
 * as_of_day, in weeks: the value step's Gamma-Gamma inputs. *n rows, owned by the caller. */
static void spend_inputs(const sgs_grouped_t *g, int32_t as_of_day, double **x, double **m,
                         size_t *n)
{
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    sgs_summary_t s;
    sgs_test_buyers_summary(g, as_of_day, &s);
    size_t k = s.n_customers;
    double *col = malloc((k ? k : 1) * 4 * sizeof *col);
    sgs_assert_cmp(
        sgs_value_inputs(&s, k, 7.0, &exec, col, col + k, col + 2 * k, col + 3 * k, &err), ==,
        SGS_OK);
    *x = malloc((k ? k : 1) * sizeof **x);
    *m = malloc((k ? k : 1) * sizeof **m);
    for (size_t i = 0; i < k; i++) {
        (*x)[i] = col[i];
        (*m)[i] = s.total_spend[i] > 0.0 ? s.monetary[i] : 0.0;
    }
    *n = k;
    free(col);
    sgs_summary_free(&s);
}

/* The fit over the processes and the single-process fit on all rows, compared. */
static void check_gg(const double *x_all, const double *m_all, const double *x, const double *m,
                     size_t n, int hessian)
{
    sgs_exec_t exec = {.n_threads = 1};
    sgs_model_fit_options_t o;
    sgs_model_fit_options_init(&o);
    o.optim.no_hessian = !hessian;
    size_t n_all = n;
    int64_t total = (int64_t)n;
    sgs_dist_reduce_i64(&sgs_test_world, &total, 1, SGS_DIST_SUM);
    n_all = (size_t)total;
    sgs_fit_t a, b;
    sgs_gg_summary_t sa, sb;
    sgs_error_t ea = {0}, eb = {0};
    int ra = sgs_gg_fit(x_all, m_all, n_all, &o, &a, &sa, &exec, &ea);
    int rb = sgs_dist_gg_fit(&sgs_test_world, x, m, n, &o, &b, &sb, &exec, &eb);
    sgs_assert_cmp(ra, ==, SGS_OK);
    sgs_assert_cmp(rb, ==, SGS_OK);
    assert_same_fit(&a, &b);
    assert_same_summary(&sa, &sb);
}

static void gg_fit_on_generated_customers(void **state)
{
    (void)state;
    sgs_read_options_t opt = sgs_test_mpi_read_options();
    sgs_grouped_t g_all, g;
    sgs_read_stats_t st_all, st;
    sgs_dist_owners_t own;
    sgs_test_read_grouped(generated, &opt, &g_all, &st_all);
    sgs_test_mpi_read_grouped(generated, &opt, &g, &st, &own);
    int32_t as_of_day = (int32_t)sgs_day_of(st_all.max_time_s);
    double *x_all, *m_all, *x, *m;
    size_t n_all, n;
    spend_inputs(&g_all, as_of_day, &x_all, &m_all, &n_all);
    spend_inputs(&g, as_of_day, &x, &m, &n);
    check_gg(x_all, m_all, x, m, n, 1);
    check_gg(x_all, m_all, x, m, n, 0);
    free(x_all);
    free(m_all);
    free(x);
    free(m);
    sgs_grouped_free(&g);
    sgs_grouped_free(&g_all);
    sgs_dist_owners_free(&own);
}

/* n_all rows drawn from seed: x from 0 to 40 (a third 0), m log-normal-ish, a few m <= 0 or
 * NaN. */
static void random_rows(uint64_t seed, size_t n_all, double *x, double *m)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n_all; i++) {
        double u = sgs_test_uniform(&s);
        x[i] = u < 0.33 ? 0.0 : floor(-8.0 * log(sgs_test_uniform(&s) + 1e-300)) + 1.0;
        if (x[i] > 40.0)
            x[i] = 40.0;
        m[i] = 20.0 * exp(1.2 * (sgs_test_uniform(&s) + sgs_test_uniform(&s) - 1.0));
        double v = sgs_test_uniform(&s);
        if (v < 0.01)
            m[i] = -m[i];
        else if (v < 0.015)
            m[i] = NAN;
    }
}

/* Where process p's rows start: the cut for `layout` (0 even, 1 growing with p, so that the
 * first process holds few, 2 every row on the first process, 3 none on the last). */
static size_t cut(int layout, size_t n_all, int p, int np)
{
    if (p == np)
        return n_all;
    switch (layout) {
    case 1:
        return (size_t)((double)n_all * p * p / ((double)np * np));
    case 2:
        return p == 0 ? 0 : n_all;
    case 3:
        return np == 1                                        ? 0
               : n_all * (size_t)p / (size_t)(np - 1) < n_all ? n_all * (size_t)p / (size_t)(np - 1)
                                                              : n_all;
    default:
        return n_all * (size_t)p / (size_t)np;
    }
}

static void gg_fit_on_rows_dealt_unevenly(void **state)
{
    (void)state;
    const size_t sizes[] = {7, 5000, 16384, 40123, 70001};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (int layout = 0; layout < 4; layout++) {
            size_t n_all = sizes[c];
            double *x = malloc(n_all * sizeof *x), *m = malloc(n_all * sizeof *m);
            random_rows(100 + c, n_all, x, m);
            int np = sgs_test_world.size, me = sgs_test_world.rank;
            size_t lo = cut(layout, n_all, me, np), hi = cut(layout, n_all, me + 1, np);
            check_gg(x, m, x + lo, m + lo, hi - lo, c % 2 == 0);
            free(x);
            free(m);
        }
}

static void gg_errors_are_everyones(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 1};
    int np = sgs_test_world.size, me = sgs_test_world.rank;
    size_t n_all = 30000;
    double *x = malloc(n_all * sizeof *x), *m = malloc(n_all * sizeof *m);
    random_rows(7, n_all, x, m);
    x[n_all - 5] = 2.5; /* on the last process */
    x[n_all - 2] = -1.0;
    size_t lo = cut(0, n_all, me, np), hi = cut(0, n_all, me + 1, np);
    sgs_fit_t fit;
    sgs_error_t ea = {0}, eb = {0};
    sgs_assert_cmp(sgs_gg_fit(x, m, n_all, NULL, &fit, NULL, &exec, &ea), ==, SGS_EDATA);
    sgs_assert_cmp(
        sgs_dist_gg_fit(&sgs_test_world, x + lo, m + lo, hi - lo, NULL, &fit, NULL, &exec, &eb), ==,
        SGS_EDATA);
    sgs_assert_contains(eb.message, ea.message); /* "process R of N: " before it */
    sgs_assert_contains(ea.message, "row 29995: x = 2.5");
    /* no customer usable: x all 0 */
    for (size_t i = 0; i < n_all; i++)
        x[i] = 0.0;
    sgs_gg_summary_t sa, sb;
    sgs_assert_cmp(sgs_gg_fit(x, m, n_all, NULL, &fit, &sa, &exec, &ea), ==, SGS_EDATA);
    sgs_assert_cmp(
        sgs_dist_gg_fit(&sgs_test_world, x + lo, m + lo, hi - lo, NULL, &fit, &sb, &exec, &eb), ==,
        SGS_EDATA);
    sgs_assert_cmp(strcmp(ea.message, eb.message), ==, 0);
    assert_same_summary(&sa, &sb);
    free(x);
    free(m);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gg_fit_on_generated_customers),
        cmocka_unit_test(gg_fit_on_rows_dealt_unevenly),
        cmocka_unit_test(gg_errors_are_everyones),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, setup_file, remove_file);
}
