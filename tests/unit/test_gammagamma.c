/*
 * tests/unit/test_gammagamma.c — Gamma-Gamma spend model: the likelihood against the
 * per-customer formula, the gradient against finite differences, the conditional mean by
 * hand, left-out customers counted, the correlation recomputed, thread independence, the
 * table of repeated amounts against customer-by-customer terms bit for bit, and clear errors
 * for unusable data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/gammagamma.h"
#include "kernels/gammagamma_internal.h"
#include "kernels/special.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 40000

static double xs[N], ms[N];

/* spend from the model itself: ν ~ Gamma(q, γ), each transaction ~ Gamma(p, ν) (sums of
 * exponentials for integer p), mean of x transactions; some customers left out on purpose */
static void make_data(uint64_t seed)
{
    sgs_rng_t rng;
    for (size_t i = 0; i < N; i++) {
        sgs_rng_init(&rng, seed, i);
        int x = (int)(-3.0 * log(sgs_rng_next_uniform(&rng)));
        double nu = 0.0; /* Gamma(3, 20): sum of 3 exponentials with rate 20 */
        for (int k = 0; k < 3; k++)
            nu += -log(sgs_rng_next_uniform(&rng)) / 20.0;
        double total = 0.0;
        for (int t = 0; t < x; t++)
            for (int k = 0; k < 4; k++) /* p = 4 */
                total += -log(sgs_rng_next_uniform(&rng)) / nu;
        xs[i] = x;
        ms[i] = x > 0 ? total / x : 0.0;
        if (i % 1000 == 7 && x > 0)
            ms[i] = -5.0; /* refunds: left out */
    }
}

static void test_loglik_sum_and_gradient(void **state)
{
    (void)state;
    make_data(3);
    const double points[2][3] = {{4.0, 3.0, 20.0}, {0.7, 9.0, 300.0}};
    sgs_exec_t ex = {.n_threads = 2};
    for (int k = 0; k < 2; k++) {
        const double *p = points[k];
        double ll, g[3];
        assert_int_equal(sgs_gg_loglik(p, xs, ms, N, &ll, g, &ex, NULL), 0);
        double sum = 0.0;
        for (size_t i = 0; i < N; i++)
            if (xs[i] > 0 && ms[i] > 0)
                sum += sgs_gg_loglik_one(p, xs[i], ms[i]);
        sgs_assert_close(ll, sum, 0, 1e-11);
        for (int j = 0; j < 3; j++) {
            double up[3], dn[3], lu, ld, eps = 1e-5;
            memcpy(up, p, sizeof up);
            memcpy(dn, p, sizeof dn);
            up[j] *= exp(eps);
            dn[j] *= exp(-eps);
            assert_int_equal(sgs_gg_loglik(up, xs, ms, N, &lu, NULL, &ex, NULL), 0);
            assert_int_equal(sgs_gg_loglik(dn, xs, ms, N, &ld, NULL, &ex, NULL), 0);
            sgs_assert_close(g[j], (lu - ld) / (2 * eps), 1e-3, 1e-6);
        }
    }
}

static void test_one_customer_by_hand(void **state)
{
    (void)state;
    /* p = 1, q = 2, γ = 3, x = 1, m = 2: Γ(3)/(Γ(1)Γ(2)) 3^2 2^0 1 / (3+2)^3 = 18/125 */
    double p[3] = {1.0, 2.0, 3.0};
    sgs_assert_close(sgs_gg_loglik_one(p, 1.0, 2.0), log(18.0 / 125.0), 0, 1e-14);
    /* E[M|x,m] = p(γ + x m)/(px + q - 1): (3 + 2*5)/(2 + 1) */
    sgs_assert_close(sgs_gg_expected_spend(p, 2.0, 5.0), 13.0 / 3.0, 0, 1e-15);
    sgs_assert_close(sgs_gg_expected_spend(p, 0.0, 0.0), 3.0, 0, 1e-15); /* pγ/(q-1) */
    sgs_assert_close(sgs_gg_expected_spend(p, 2.0, -1.0), 3.0, 0, 1e-15);
    sgs_assert_close(sgs_gg_population_mean(p), 3.0, 0, 1e-15);
    double q[3] = {1.0, 0.9, 3.0};
    sgs_assert_cmp(sgs_gg_population_mean(q), ==, HUGE_VAL);
}

static void test_fit_summary_and_threads(void **state)
{
    (void)state;
    make_data(5);
    size_t used = 0, zero = 0, neg = 0;
    double sx = 0, sm = 0;
    for (size_t i = 0; i < N; i++) {
        if (xs[i] == 0)
            zero++;
        else if (ms[i] <= 0)
            neg++;
        else {
            used++;
            sx += xs[i];
            sm += ms[i];
        }
    }
    double mx = sx / (double)used, mm = sm / (double)used, a = 0, b = 0, c = 0;
    for (size_t i = 0; i < N; i++)
        if (xs[i] > 0 && ms[i] > 0) {
            a += (xs[i] - mx) * (ms[i] - mm);
            b += (xs[i] - mx) * (xs[i] - mx);
            c += (ms[i] - mm) * (ms[i] - mm);
        }
    sgs_fit_t fit[3];
    sgs_gg_summary_t sum[3];
    for (int t = 0; t < 3; t++) {
        sgs_exec_t ex = {.n_threads = t + 1, .grain = 1}; /* grain 1: every thread works */
        assert_int_equal(sgs_gg_fit(xs, ms, N, NULL, &fit[t], &sum[t], &ex, NULL), 0);
    }
    assert_int_equal(sum[0].n_used, used);
    assert_int_equal(sum[0].n_no_repeat, zero);
    assert_int_equal(sum[0].n_nonpositive, neg);
    sgs_assert_cmp(neg, >, 5);
    sgs_assert_close(sum[0].correlation, a / sqrt(b * c), 1e-12, 0);
    sgs_assert_cmp(fabs(sum[0].correlation), <, 0.05); /* spend drawn independently of x */
    if (sum[0].correlation_warning)
        fail_msg("a correlation warning, at correlation %g", sum[0].correlation);
    /* the truth is p = 4, q = 3, γ = 20; mean spend pγ/(q-1) = 40 is well determined */
    sgs_assert_close(sgs_gg_population_mean(fit[0].params), 40.0, 0, 0.05);
    for (int t = 1; t < 3; t++) {
        assert_memory_equal(fit[t].params, fit[0].params, sizeof fit[0].params);
        assert_memory_equal(&fit[t].log_likelihood, &fit[0].log_likelihood, sizeof(double));
        assert_memory_equal(&sum[t].correlation, &sum[0].correlation, sizeof(double));
    }
}

/* Spend in whole amounts repeats (10.00, 12.50, ...): the fit takes each distinct value's
 * terms from a table; computed customer by customer instead (sgs__gg_fit_as with by_value 0),
 * every bit of the fit, its standard errors and its correlation is the same, on 1 and 2
 * threads. */
static void test_repeated_amounts_same_bits(void **state)
{
    (void)state;
    make_data(9);
    for (size_t i = 0; i < N; i++)
        if (ms[i] > 0)
            ms[i] = 2.5 * floor(ms[i] / 2.5) + 2.5;
    for (int t = 1; t <= 2; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_fit_t table, rows;
        sgs_gg_summary_t s_table, s_rows;
        assert_int_equal(sgs__gg_fit_as(1, xs, ms, N, NULL, &table, &s_table, &ex, NULL), 0);
        assert_int_equal(sgs__gg_fit_as(0, xs, ms, N, NULL, &rows, &s_rows, &ex, NULL), 0);
        assert_memory_equal(table.params, rows.params, sizeof table.params);
        assert_memory_equal(table.std_err, rows.std_err, sizeof table.std_err);
        assert_memory_equal(&table.log_likelihood, &rows.log_likelihood, sizeof(double));
        assert_memory_equal(&s_table.correlation, &s_rows.correlation, sizeof(double));
    }
}

/* The table of values as it grows (past 1,024 values), is placed again (past 2,048), holds
 * exactly one value per four customers (the most it takes) and gives up at one more: the
 * log-likelihood and gradient have the row-by-row bits each time. 40,000 customers, x = 1, 2, 3
 * in turn, m one of `period` amounts in turn: period distinct values of x m (3 divides none of
 * the periods but 7,500's, where x m has 7,500 values). */
static void test_value_table_sizes(void **state)
{
    (void)state;
    static const size_t periods[] = {7500, 10000, 10001};
    const double params[3] = {4.0, 3.0, 20.0};
    for (size_t z = 0; z < sizeof periods / sizeof periods[0]; z++) {
        for (size_t i = 0; i < N; i++) {
            xs[i] = periods[z] == 7500 ? (double)(1 + i % 3) : 1.0;
            ms[i] = 1.0 + 0.37 * (double)(i % periods[z]);
        }
        for (int t = 1; t <= 2; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            double ll_table, ll_rows, g_table[3], g_rows[3];
            assert_int_equal(sgs__gg_loglik_as(1, params, xs, ms, N, &ll_table, g_table, &ex, NULL),
                             0);
            assert_int_equal(sgs__gg_loglik_as(0, params, xs, ms, N, &ll_rows, g_rows, &ex, NULL),
                             0);
            if (memcmp(&ll_table, &ll_rows, sizeof ll_rows) ||
                memcmp(g_table, g_rows, sizeof g_rows))
                fail_msg("%zu values, %d threads: the table's sums are not the rows'", periods[z],
                         t);
        }
    }
}

/* The fit's standard errors come from the analytic Hessian; recompute them from central
 * differences of the analytic gradient and invert by cofactors here. */
static void test_standard_errors_match_numeric_hessian(void **state)
{
    (void)state;
    make_data(9);
    sgs_fit_t fit;
    assert_int_equal(sgs_gg_fit(xs, ms, N, NULL, &fit, NULL, NULL, NULL), 0);
    sgs_assert_fit(&fit, fit.hessian_ok);
    double H[9], h = 1e-4;
    for (int j = 0; j < 3; j++) {
        double up[3], dn[3], gu[3], gd[3], lu, ld;
        for (int k = 0; k < 3; k++)
            up[k] = dn[k] = fit.params[k];
        up[j] *= exp(h);
        dn[j] *= exp(-h);
        assert_int_equal(sgs_gg_loglik(up, xs, ms, N, &lu, gu, NULL, NULL), 0);
        assert_int_equal(sgs_gg_loglik(dn, xs, ms, N, &ld, gd, NULL, NULL), 0);
        for (int i = 0; i < 3; i++)
            H[3 * i + j] = -(gu[i] - gd[i]) / (2 * h);
    }
    /* The diagonal of H^-1 by cofactors (independent of the optimizer's Cholesky), H
     * symmetrized. */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < i; j++)
            H[3 * i + j] = H[3 * j + i] = 0.5 * (H[3 * i + j] + H[3 * j + i]);
    double det = H[0] * (H[4] * H[8] - H[5] * H[7]) - H[1] * (H[3] * H[8] - H[5] * H[6]) +
                 H[2] * (H[3] * H[7] - H[4] * H[6]);
    sgs_assert_cmp(det, >, 0);
    for (int j = 0; j < 3; j++) {
        int k = (j + 1) % 3, l = (j + 2) % 3;
        double inv_jj = (H[3 * k + k] * H[3 * l + l] - H[3 * k + l] * H[3 * l + k]) / det;
        sgs_assert_close(fit.std_err[j], fit.params[j] * sqrt(inv_jj), 0, 1e-5);
    }
    /* trigamma against its recurrence and a known value: ψ1(1) = π²/6 */
    sgs_assert_close(sgs_trigamma(1.0), 1.6449340668482264, 0, 1e-14);
    sgs_assert_close(sgs_trigamma(0.3), sgs_trigamma(1.3) + 1.0 / 0.09, 0, 1e-14);
}

static void test_unusable_data(void **state)
{
    (void)state;
    sgs_fit_t fit;
    sgs_gg_summary_t sum;
    sgs_error_t err = {0};
    double x0[] = {0, 0, 3}, m0[] = {0, 0, -2};
    assert_int_equal(sgs_gg_fit(x0, m0, 3, NULL, &fit, &sum, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "no customer");
    assert_int_equal(sum.n_no_repeat, 2);
    assert_int_equal(sum.n_nonpositive, 1);
    double x1[] = {1, 2.5}, m1[] = {3, 4};
    assert_int_equal(sgs_gg_fit(x1, m1, 2, NULL, &fit, &sum, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "row 1");
    /* every customer with the same spend: the spread is 0, the fit cannot converge; never NaN */
    double x2[] = {1, 2, 3, 4}, m2[] = {10, 10, 10, 10};
    int rc = sgs_gg_fit(x2, m2, 4, NULL, &fit, &sum, NULL, &err);
    if (rc != SGS_ENOCONVERGE && rc != 0)
        fail_msg("fit: %d (%s), expected 0 or SGS_ENOCONVERGE", rc, err.message);
    for (int j = 0; j < 3; j++)
        sgs_assert_finite(fit.params[j]);
    sgs_assert_cmp(sum.correlation, ==, 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loglik_sum_and_gradient),
        cmocka_unit_test(test_one_customer_by_hand),
        cmocka_unit_test(test_fit_summary_and_threads),
        cmocka_unit_test(test_repeated_amounts_same_bits),
        cmocka_unit_test(test_value_table_sizes),
        cmocka_unit_test(test_standard_errors_match_numeric_hessian),
        cmocka_unit_test(test_unusable_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
