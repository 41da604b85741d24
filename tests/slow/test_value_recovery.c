/*
 * tests/slow/test_value_recovery.c — parameter recovery: 200,000 customers simulated from
 * known parameters (kernels/value_simulate.h) are fitted back by each model.
 *
 * Tolerance: |estimate - truth| < 4 SE, with SE the standard error the fit reports (inverse
 * observed information, delta method). Under the usual asymptotics the estimate is normal
 * around the truth with that SE, so each check fails by chance with probability 6e-5
 * (two-sided 4 sigma); the 15 checks together about 1e-3. The seed is fixed (printed on
 * failure), so the test is reproducible. The SE themselves must be small (< 10% of the
 * parameter), which makes "within 4 SE" a real constraint.
 *
 * Times are continuous here (grid 0): rounding to days merges same-day purchases, a small
 * misspecification that recovery at this sample size would detect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/clv.h"
#include "kernels/gammagamma.h"
#include "kernels/histories.h"
#include "kernels/value_simulate.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 200000
#define SEED 20240611u

static double T[N], x[N], t_x[N], spend[N];

static void check_recovery(const char *what, const sgs_fit_t *fit, const double *truth,
                           int n_params)
{
    for (int j = 0; j < n_params; j++) {
        double se = fit->std_err[j], dev = fabs(fit->params[j] - truth[j]);
        printf("  %s param %d: truth %.4f estimate %.4f SE %.4f (%.2f SE)\n", what, j, truth[j],
               fit->params[j], se, dev / se);
        assert_true(fit->hessian_ok && se > 0.0 && se < 0.1 * truth[j]);
        if (!(dev < 4.0 * se))
            fail_msg("%s parameter %d: |%.5f - %.5f| >= 4 SE = %.5f (seed %u)", what, j,
                     fit->params[j], truth[j], 4.0 * se, SEED);
    }
}

static void recover(sgs_purchase_model_t model, const double *truth)
{
    sgs_exec_t ex = {.n_threads = 2};
    for (size_t i = 0; i < N; i++)
        T[i] = 10.0 + 42.0 * sgs_rng_uniform(SEED, 99, i); /* weeks */
    assert_int_equal(
        sgs_simulate_histories(model, truth, T, N, SEED + (uint64_t)model, 0.0, x, t_x, &ex, NULL),
        0);
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, t_x, T, NULL, N, &ex, NULL), 0);
    sgs_fit_t fit;
    sgs_error_t err = {0};
    int rc = sgs_purchase_model_fit(model, &h, NULL, &fit, &ex, &err);
    if (rc)
        fail_msg("%s", err.message);
    printf("%s: %zu histories, %d iterations, LL %.2f\n", sgs_purchase_model_name(model),
           h.n_unique, fit.iterations, fit.log_likelihood);
    check_recovery(sgs_purchase_model_name(model), &fit, truth, 4);
    sgs_histories_free(&h);
}

static void test_bgnbd_recovery(void **state)
{
    (void)state;
    const double truth[4] = {0.5, 8.0, 0.7, 2.5};
    recover(SGS_MODEL_BGNBD, truth);
}

static void test_mbgnbd_recovery(void **state)
{
    (void)state;
    const double truth[4] = {0.5, 8.0, 0.7, 2.5};
    recover(SGS_MODEL_MBGNBD, truth);
}

static void test_paretonbd_recovery(void **state)
{
    (void)state;
    const double truth[4] = {0.6, 10.0, 0.7, 12.0};
    recover(SGS_MODEL_PARETONBD, truth);
}

static void test_gammagamma_recovery(void **state)
{
    (void)state;
    sgs_exec_t ex = {.n_threads = 2};
    for (size_t i = 0; i < N; i++) /* repeat transactions: 1 + geometric-ish counts */
        x[i] = floor(-3.0 * log(sgs_rng_uniform(SEED, 7, i)));
    const double truth[3] = {6.0, 4.0, 15.0};
    assert_int_equal(sgs_simulate_spend(truth, x, N, SEED, spend, &ex, NULL), 0);
    sgs_fit_t fit;
    sgs_gg_summary_t sum;
    sgs_error_t err = {0};
    int rc = sgs_gg_fit(x, spend, N, NULL, &fit, &sum, &ex, &err);
    if (rc)
        fail_msg("%s", err.message);
    printf("gamma-gamma: %zu customers used, correlation %.4f\n", sum.n_used, sum.correlation);
    check_recovery("gammagamma", &fit, truth, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bgnbd_recovery),
        cmocka_unit_test(test_mbgnbd_recovery),
        cmocka_unit_test(test_paretonbd_recovery),
        cmocka_unit_test(test_gammagamma_recovery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
