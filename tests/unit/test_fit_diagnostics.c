/*
 * tests/unit/test_fit_diagnostics.c — identification checks of a fit (kernels/fit_diagnostics.h):
 * the three signs on hand-made fits, no flag on a BG/NBD fit of data that carry both processes,
 * and the dropout parameters flagged on a fit of customers who never stop buying.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/bgnbd.h"
#include "kernels/fit_diagnostics.h"
#include "kernels/value_simulate.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static sgs_fit_t two_params(double p0, double se0, double p1, double se1, int hessian_ok)
{
    sgs_fit_t f;
    memset(&f, 0, sizeof f);
    f.n_params = 2;
    f.params[0] = p0;
    f.std_err[0] = se0;
    f.params[1] = p1;
    f.std_err[1] = se1;
    f.hessian_ok = hessian_ok;
    return f;
}

static void test_signs_on_hand_made_fits(void **state)
{
    (void)state;
    sgs_fit_t f = two_params(2.0, 0.3, 0.5, 0.6, 1);
    assert_int_equal(sgs_fit_param_flags(&f, 0), 0);
    assert_int_equal(sgs_fit_param_flags(&f, 1), SGS_FIT_SE_LARGE);
    assert_string_equal(sgs_fit_flag_text(SGS_FIT_SE_LARGE),
                        "standard error larger than the estimate");
    f = two_params(2.0, NAN, 3e-11, 1e-12, 1);
    assert_int_equal(sgs_fit_param_flags(&f, 0), SGS_FIT_SE_MISSING);
    assert_int_equal(sgs_fit_param_flags(&f, 1), SGS_FIT_AT_BOUND);
    f = two_params(2.0, 0.1, 5e10, 1.0, 0); /* no Hessian: every SE is missing */
    assert_int_equal(sgs_fit_param_flags(&f, 0), SGS_FIT_SE_MISSING);
    assert_int_equal(sgs_fit_param_flags(&f, 1), SGS_FIT_SE_MISSING | SGS_FIT_AT_BOUND);
    assert_string_equal(sgs_fit_flag_text(SGS_FIT_SE_MISSING | SGS_FIT_AT_BOUND),
                        "at a bound of the parameter space");
    assert_string_equal(sgs_fit_flag_text(0), "");
}

#define N 20000

static double T[N], x[N], t_x[N];

/* BG/NBD fit of N customers simulated with `truth`, observed 1 to 2 years (in weeks). */
static void fit_simulated(const double *truth, uint64_t seed, sgs_fit_t *fit)
{
    sgs_exec_t exec = {.n_threads = 2};
    for (size_t i = 0; i < N; i++)
        T[i] = 52.0 + (double)(i % 53);
    sgs_error_t err = {0};
    if (sgs_simulate_histories(SGS_MODEL_BGNBD, truth, T, N, seed, 1.0 / 7.0, x, t_x, &exec, &err))
        fail_msg("simulate: %s", err.message);
    sgs_histories_t h = {0};
    assert_int_equal(sgs_histories_build(&h, x, t_x, T, NULL, N, &exec, &err), 0);
    int rc = sgs_bgnbd_fit(&h, NULL, fit, &exec, &err);
    sgs_histories_free(&h);
    if (rc != 0 && rc != SGS_ENOCONVERGE)
        fail_msg("fit: %s", err.message);
}

static void test_identified_fit_has_no_flag(void **state)
{
    (void)state;
    const double truth[4] = {0.25, 4.0, 0.8, 2.5};
    sgs_fit_t fit;
    fit_simulated(truth, 7, &fit);
    sgs_assert_fit(&fit, fit.converged);
    for (int j = 0; j < 4; j++)
        if (sgs_fit_param_flags(&fit, j) != 0)
            fail_msg("parameter %d = %g (SE %g) flagged %u", j, fit.params[j], fit.std_err[j],
                     sgs_fit_param_flags(&fit, j));
}

/* Nobody stops buying (p ~ Beta(0.001, 1000): a dropout chance of 1e-6 per purchase): the
 * data cannot tell a from 0, and the fit must say so through a or b. */
static void test_customers_who_never_stop_flag_dropout(void **state)
{
    (void)state;
    const double truth[4] = {0.8, 6.0, 0.001, 1000.0};
    sgs_fit_t fit;
    fit_simulated(truth, 11, &fit);
    unsigned a = sgs_fit_param_flags(&fit, 2), b = sgs_fit_param_flags(&fit, 3);
    printf("fit: r %g (SE %g) alpha %g (SE %g) a %g (SE %g) b %g (SE %g), flags a %u b %u, %s\n",
           fit.params[0], fit.std_err[0], fit.params[1], fit.std_err[1], fit.params[2],
           fit.std_err[2], fit.params[3], fit.std_err[3], a, b, sgs_optim_status_name(fit.status));
    if (a == 0 && b == 0)
        fail_msg("neither a nor b flagged (see the fit above)");
    assert_int_equal(sgs_fit_param_flags(&fit, 0), 0); /* the purchase rate is identified */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signs_on_hand_made_fits),
        cmocka_unit_test(test_identified_fit_has_no_flag),
        cmocka_unit_test(test_customers_who_never_stop_flag_dropout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
