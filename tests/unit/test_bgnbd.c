/*
 * tests/unit/test_bgnbd.c — BG/NBD: hand-computed likelihoods, the total over histories
 * against the per-customer sum, the analytic gradient against finite differences, P(alive),
 * expectations against an independent direct series of FHL eq. 10, P(no purchase), thread
 * independence, the penalty, and degenerate inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/bgnbd.h"
#include "kernels/special.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_RANDOM 3000

static double rx[N_RANDOM], rtx[N_RANDOM], rT[N_RANDOM];

/* Histories on a day grid in weeks, roughly like the CDNOW sample. */
static void make_random(uint64_t seed)
{
    for (size_t i = 0; i < N_RANDOM; i++) {
        int days_T = 1 + (int)(sgs_rng_uniform(seed, 0, i) * 272);
        int xi = (int)(-2.0 * log(sgs_rng_uniform(seed, 1, i)));
        int days_tx = xi ? 1 + (int)(sgs_rng_uniform(seed, 2, i) * days_T) : 0;
        if (days_tx > days_T)
            days_tx = days_T;
        rx[i] = xi;
        rtx[i] = days_tx / 7.0;
        rT[i] = days_T / 7.0;
    }
}

static void test_hand_computed_likelihood(void **state)
{
    (void)state;
    /* x = 0: L = (α/(α+T))^r */
    double p[4] = {0.7, 3.0, 1.3, 2.2};
    sgs_assert_close(sgs_bgnbd_loglik_one(p, 0, 0, 5.0), 0.7 * log(3.0 / 8.0), 0, 1e-14);
    /* r = a = b = 1, x = 1: L = α/(α+T)² / 2 + α/(α+t_x)² / 2 */
    double q[4] = {1.0, 2.0, 1.0, 1.0};
    double L = 0.5 * 2.0 / (6.0 * 6.0) + 0.5 * 2.0 / (3.0 * 3.0);
    sgs_assert_close(sgs_bgnbd_loglik_one(q, 1, 1.0, 4.0), log(L), 0, 1e-14);
    /* P(alive) = 1 / (1 + a/(b+x-1) ((α+T)/(α+t_x))^(r+x)) */
    double pa = 1.0 / (1.0 + 1.3 / (2.2 + 1.0) * pow((3.0 + 9.0) / (3.0 + 4.0), 2.7));
    sgs_assert_close(sgs_bgnbd_p_alive(p, 2, 4.0, 9.0), pa, 0, 1e-14);
    sgs_assert_cmp(sgs_bgnbd_p_alive(p, 0, 0, 9.0), ==, 1.0);
    sgs_assert_cmp(sgs_bgnbd_p_alive(p, 0, 0, 1e9), ==, 1.0);
}

static void test_total_equals_sum_and_gradient_matches_differences(void **state)
{
    (void)state;
    make_random(5);
    sgs_histories_t h;
    sgs_exec_t ex = {.n_threads = 2};
    assert_int_equal(sgs_histories_build(&h, rx, rtx, rT, NULL, N_RANDOM, &ex, NULL), 0);
    const double points[3][4] = {
        {0.25, 4.4, 0.8, 2.4}, {1.7, 0.3, 3.0, 0.4}, {0.05, 60.0, 1.0, 9.0}};
    for (int k = 0; k < 3; k++) {
        const double *p = points[k];
        double ll, g[4];
        assert_int_equal(sgs_bgnbd_loglik(p, &h, &ll, g, &ex, NULL), 0);
        double sum = 0.0;
        for (size_t i = 0; i < N_RANDOM; i++)
            sum += sgs_bgnbd_loglik_one(p, rx[i], rtx[i], rT[i]);
        sgs_assert_close(ll, sum, 0, 1e-12);
        for (int j = 0; j < 4; j++) {
            double up[4], dn[4], lu, ld, eps = 1e-5;
            memcpy(up, p, sizeof up);
            memcpy(dn, p, sizeof dn);
            up[j] *= exp(eps);
            dn[j] *= exp(-eps);
            assert_int_equal(sgs_bgnbd_loglik(up, &h, &lu, NULL, &ex, NULL), 0);
            assert_int_equal(sgs_bgnbd_loglik(dn, &h, &ld, NULL, &ex, NULL), 0);
            sgs_assert_close(g[j], (lu - ld) / (2 * eps), 1e-4, 1e-6);
        }
    }
    sgs_histories_free(&h);
}

/* FHL eq. 10 summed directly in long double: (a+b+x-1)/(a-1) [1 - ((α+T)/(α+T+t))^(r+x)
 * 2F1(r+x, b+x; a+b+x-1; z)] P(alive), an independent recomputation for moderate inputs. */
static double direct_expected(const double *p, double t, double x, double t_x, double T)
{
    long double r = p[0], al = p[1], a = p[2], b = p[3];
    long double z = t / (al + T + t), A = r + x, B = b + x, C = a + b + x - 1;
    long double term = 1, sum = 1;
    for (int k = 0; k < 20000; k++) {
        term *= (A + k) * (B + k) / ((C + k) * (k + 1)) * z;
        sum += term;
        if (term < 1e-22L * sum)
            break;
    }
    long double f = (C / (a - 1)) * (1 - powl((al + T) / (al + T + t), A) * sum);
    return (double)(f * sgs_bgnbd_p_alive(p, x, t_x, T));
}

static void test_expectations(void **state)
{
    (void)state;
    const double p[4] = {0.243, 4.414, 0.793, 2.426};
    const double cases[][3] = {
        {0, 0, 10}, {2, 30.43, 38.86}, {7, 29.4, 38.86}, {25, 35, 39}, {1, 0.5, 0.5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double prev = 0.0, prev_np = 1.0;
        for (double t = 0.5; t < 400.0; t *= 2.0) {
            double e = sgs_bgnbd_expected(p, t, cases[c][0], cases[c][1], cases[c][2]);
            sgs_assert_close(e, direct_expected(p, t, cases[c][0], cases[c][1], cases[c][2]), 1e-12,
                             1e-10);
            sgs_assert_cmp(e, >, prev); /* grows with the horizon */
            prev = e;
            double np = sgs_bgnbd_prob_no_purchase(p, t, cases[c][0], cases[c][1], cases[c][2]);
            sgs_assert_cmp(np, >, 0.0);
            sgs_assert_cmp(np, <, prev_np); /* falls with the horizon */
            prev_np = np;
        }
        sgs_assert_cmp(sgs_bgnbd_expected(p, 0.0, cases[c][0], cases[c][1], cases[c][2]), ==, 0.0);
        sgs_assert_cmp(sgs_bgnbd_prob_no_purchase(p, 0.0, cases[c][0], cases[c][1], cases[c][2]),
                       ==, 1.0);
        /* a very long horizon: only the customers already gone stay without purchase */
        double pa = sgs_bgnbd_p_alive(p, cases[c][0], cases[c][1], cases[c][2]);
        sgs_assert_close(sgs_bgnbd_prob_no_purchase(p, 1e30, cases[c][0], cases[c][1], cases[c][2]),
                         1.0 - pa, 1e-3, 0);
    }
    /* P(no purchase | alive) = ((α+T)/(α+T+t))^(r+x): x = 0 has P(alive) = 1 */
    sgs_assert_close(sgs_bgnbd_prob_no_purchase(p, 10.0, 0, 0, 5.0), pow(9.414 / 19.414, 0.243), 0,
                     1e-14);
    /* E[X(t)] is the conditional expectation at x = t_x = T = 0 */
    sgs_assert_cmp(sgs_bgnbd_expected_new(p, 52.0), ==, sgs_bgnbd_expected(p, 52.0, 0, 0, 0));
    /* a = 1 exactly: the limit is continuous */
    double q[4] = {0.5, 3.0, 1.0, 2.0}, q1[4] = {0.5, 3.0, 1.0 + 1e-7, 2.0};
    sgs_assert_close(sgs_bgnbd_expected(q, 20, 3, 10, 15), sgs_bgnbd_expected(q1, 20, 3, 10, 15),
                     1e-6, 0);
}

static void test_threads_bitwise_identical(void **state)
{
    (void)state;
    make_random(9);
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, rx, rtx, rT, NULL, N_RANDOM, NULL, NULL), 0);
    double p[4] = {0.3, 5.0, 0.9, 2.1}, ll[3], g[3][4];
    sgs_fit_t fit[3];
    for (int t = 0; t < 3; t++) {
        sgs_exec_t ex = {.n_threads = t + 1, .grain = 1}; /* grain 1: every thread works */
        assert_int_equal(sgs_bgnbd_loglik(p, &h, &ll[t], g[t], &ex, NULL), 0);
        assert_int_equal(sgs_bgnbd_fit(&h, NULL, &fit[t], &ex, NULL), 0);
    }
    for (int t = 1; t < 3; t++) {
        assert_memory_equal(&ll[t], &ll[0], sizeof ll[0]);
        assert_memory_equal(g[t], g[0], sizeof g[0]);
        assert_memory_equal(fit[t].params, fit[0].params, sizeof fit[0].params);
        assert_memory_equal(fit[t].std_err, fit[0].std_err, sizeof fit[0].std_err);
        assert_memory_equal(&fit[t].log_likelihood, &fit[0].log_likelihood, sizeof(double));
    }
    sgs_histories_free(&h);
}

static void test_penalizer_shrinks(void **state)
{
    (void)state;
    make_random(13);
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, rx, rtx, rT, NULL, N_RANDOM, NULL, NULL), 0);
    sgs_fit_t f0, f1;
    sgs_model_fit_options_t o = sgs_model_fit_default_options();
    assert_int_equal(sgs_bgnbd_fit(&h, &o, &f0, NULL, NULL), 0);
    o.penalizer = 0.1;
    assert_int_equal(sgs_bgnbd_fit(&h, &o, &f1, NULL, NULL), 0);
    double s0 = 0, s1 = 0;
    for (int j = 0; j < 4; j++) {
        s0 += f0.params[j] * f0.params[j];
        s1 += f1.params[j] * f1.params[j];
    }
    sgs_assert_cmp(s1, <, s0);
    sgs_assert_cmp(f1.log_likelihood, <, f0.log_likelihood);
    sgs_assert_cmp(f1.penalizer, ==, 0.1);
    sgs_histories_free(&h);
}

static void test_degenerate_inputs(void **state)
{
    (void)state;
    sgs_histories_t h;
    sgs_fit_t fit;
    sgs_error_t err = {0};
    /* every customer without repeat purchase: a clear error */
    double x0[] = {0, 0, 0}, t0[] = {0, 0, 0}, T0[] = {3, 5, 8};
    assert_int_equal(sgs_histories_build(&h, x0, t0, T0, NULL, 3, NULL, NULL), 0);
    assert_int_equal(sgs_bgnbd_fit(&h, NULL, &fit, NULL, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "repeat purchase");
    sgs_histories_free(&h);
    /* every T = 0 */
    double Tz[] = {0, 0, 0};
    assert_int_equal(sgs_histories_build(&h, x0, t0, Tz, NULL, 3, NULL, NULL), 0);
    assert_int_equal(sgs_bgnbd_fit(&h, NULL, &fit, NULL, &err), SGS_EDATA);
    sgs_histories_free(&h);
    /* no customers */
    assert_int_equal(sgs_histories_build(&h, NULL, NULL, NULL, NULL, 0, NULL, NULL), 0);
    assert_int_equal(sgs_bgnbd_fit(&h, NULL, &fit, NULL, &err), SGS_EDATA);
    sgs_histories_free(&h);
    /* a single customer: converges or says it did not; never NaN */
    double x1[] = {3}, t1[] = {10}, T1[] = {20};
    assert_int_equal(sgs_histories_build(&h, x1, t1, T1, NULL, 1, NULL, NULL), 0);
    int rc = sgs_bgnbd_fit(&h, NULL, &fit, NULL, &err);
    if (rc != 0 && rc != SGS_ENOCONVERGE)
        fail_msg("fit: %d (%s), expected 0 or SGS_ENOCONVERGE", rc, err.message);
    for (int j = 0; j < 4; j++) {
        sgs_assert_finite(fit.params[j]);
        sgs_assert_cmp(fit.params[j], >, 0.0);
    }
    sgs_assert_finite(fit.log_likelihood);
    sgs_histories_free(&h);
    /* huge x, T = 0, enormous horizon: finite values */
    const double p[4] = {0.243, 4.414, 0.793, 2.426};
    double cases[][3] = {{1e6, 30, 39}, {0, 0, 0}, {5000, 1e4, 1e4}, {1, 1e-9, 1e-9}};
    for (int c = 0; c < 4; c++) {
        double *v = cases[c];
        double vals[4] = {sgs_bgnbd_p_alive(p, v[0], v[1], v[2]),
                          sgs_bgnbd_expected(p, 52, v[0], v[1], v[2]),
                          sgs_bgnbd_prob_no_purchase(p, 52, v[0], v[1], v[2]),
                          sgs_bgnbd_loglik_one(p, v[0], v[1], v[2])};
        for (int k = 0; k < 4; k++)
            sgs_assert_finite(vals[k]);
        sgs_assert_cmp(vals[0], >=, 0.0);
        sgs_assert_cmp(vals[0], <=, 1.0);
        sgs_assert_cmp(vals[1], >=, 0.0);
        sgs_assert_cmp(vals[2], >=, 0.0);
        sgs_assert_cmp(vals[2], <=, 1.0);
    }
    sgs_assert_finite(sgs_bgnbd_expected(p, 1e9, 2, 30, 39));
    double bad[4] = {0.2, -1.0, 1.0, 1.0}, ll;
    double x2[] = {1}, t2[] = {1}, T2[] = {2};
    assert_int_equal(sgs_histories_build(&h, x2, t2, T2, NULL, 1, NULL, NULL), 0);
    assert_int_equal(sgs_bgnbd_loglik(bad, &h, &ll, NULL, NULL, &err), SGS_EINVAL);
    sgs_histories_free(&h);
}

/* The failures of issue 11 (items 3 and 9), against FHL eq. 10 evaluated by mpmath at 60
 * digits (tests/data/make_bg_reference.py: closed_form and probabilities). Before the fix
 * the first two were NaN and the last two wrong by 1e15 and 1.7e-5 relative. */
static void test_issue_11_corners(void **state)
{
    (void)state;
    /* a -> 0 with large r and alpha (a + b < 1): x = 0, T = 3 days, 365 days ahead */
    const double p3[4] = {84.5, 9006.0, 0.0095, 0.404};
    sgs_assert_close(sgs_bgnbd_expected(p3, 365, 0, 0, 3), 3.3507384451492346, 0, 1e-12);
    /* a + b < 1: every x = 0 customer had NaN (c = a+b-1 < 0 in the 2F1) */
    const double p9[4] = {0.25, 8.0, 0.05, 0.5};
    sgs_assert_close(sgs_bgnbd_expected(p9, 365, 0, 0, 0), 9.194745083799965, 0, 1e-12);
    sgs_assert_close(sgs_bgnbd_expected_new(p9, 365), 9.194745083799965, 0, 1e-12);
    sgs_assert_close(sgs_bgnbd_expected(p9, 365, 0, 0, 30), 2.098024004899033, 0, 1e-12);
    sgs_assert_close(sgs_bgnbd_expected(p9, 30, 0, 0, 700), 0.01056825093741348, 0, 1e-12);
    /* large r: the Euler series alternates and cancels */
    const double pr[4] = {3672.0, 14700.0, 0.8, 3.0};
    sgs_assert_close(sgs_bgnbd_expected(pr, 365, 0, 0, 10), 15.060349385904617, 0, 1e-12);
    sgs_assert_close(sgs_bgnbd_expected(pr, 365, 20, 650, 700), 0.007150115535818216, 0, 1e-12);
    sgs_assert_close(sgs_bgnbd_p_alive(pr, 20, 650, 700), 0.0001678404895744524, 0, 1e-12);
    /* every x = 0 customer of the a + b < 1 fit, over T and the monthly horizons of a CLV:
       finite, positive, at most the no-drop-out value (r+x) t/(α+T), growing with t */
    const double pf[4] = {0.25493809952190855, 9.043517530632624, 0.047523900808845214,
                          0.47760214509149684};
    for (double T = 0; T <= 1100; T += 1) {
        double prev = 0.0;
        for (int k = 1; k <= 12; k++) {
            double t = 30.436875 * k, e = sgs_bgnbd_expected(pf, t, 0, 0, T);
            sgs_assert_finite(e);
            sgs_assert_cmp(e, >, prev);
            sgs_assert_cmp(e, <=, pf[0] * t / (pf[1] + T) * (1 + 1e-14));
            prev = e;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed_likelihood),
        cmocka_unit_test(test_total_equals_sum_and_gradient_matches_differences),
        cmocka_unit_test(test_expectations),
        cmocka_unit_test(test_threads_bitwise_identical),
        cmocka_unit_test(test_penalizer_shrinks),
        cmocka_unit_test(test_degenerate_inputs),
        cmocka_unit_test(test_issue_11_corners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
