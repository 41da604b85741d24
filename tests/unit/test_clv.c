/*
 * tests/unit/test_clv.c — value scores: CLV against lifetimes' monthly loop recomputed here
 * from the scalar expectations, partial last month, no discount, per-history vs per-customer
 * (both the (x, T) table path and the direct path against the scalar functions), thread
 * independence, model names, and errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/clv.h"
#include "kernels/gammagamma.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double bg[4] = {0.243, 4.414 * 7, 0.793, 2.426}; /* CDNOW, alpha in days */
static const double pn[4] = {0.553, 10.578 * 7, 0.606, 11.669 * 7};
static const double gg[3] = {6.25, 3.74, 15.44};

/* lifetimes' _customer_lifetime_value with freq "D" (factor 30) and monthly rate d_m */
static double lifetimes_clv(sgs_purchase_model_t m, const double *p, double spend, int months,
                            double d_m, double x, double t_x, double T)
{
    double clv = 0.0;
    for (int k = 1; k <= months; k++) {
        double i = 30.0 * k;
        double e = sgs_purchase_expected(m, p, i, x, t_x, T) -
                   sgs_purchase_expected(m, p, i - 30.0, x, t_x, T);
        clv += spend * e / pow(1.0 + d_m, i / 30.0);
    }
    return clv;
}

static void make(size_t n, uint64_t seed, double *x, double *tx, double *T, double *m)
{
    for (size_t i = 0; i < n; i++) {
        int dT = (int)(sgs_rng_uniform(seed, 0, i) * 600);
        int xi = (int)(-2.0 * log(sgs_rng_uniform(seed, 1, i)));
        int dtx = xi ? 1 + (int)(sgs_rng_uniform(seed, 2, i) * dT) : 0;
        if (dtx > dT)
            dtx = dT;
        x[i] = xi;
        tx[i] = dtx;
        T[i] = dT;
        m[i] = xi ? 5.0 + 100.0 * sgs_rng_uniform(seed, 3, i) : 0.0;
    }
}

static void test_clv_equals_lifetimes_loop(void **state)
{
    (void)state;
    enum { n = 500 };
    static double x[n], tx[n], T[n], m[n], clv[n], spend[n], pa[n], ex[n], np[n];
    make(n, 21, x, tx, T, m);
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, n, NULL, NULL), 0);
    double d = 0.1, d_m = pow(1.1, 1.0 / 12.0) - 1.0;
    sgs_clv_options_t o = {360.0, SGS_CLV_DAYS_PER_MONTH, d, 0.3};
    for (int model = 0; model < SGS_PURCHASE_MODEL_COUNT; model++) {
        const double *p = model == SGS_MODEL_PARETONBD ? pn : bg;
        assert_int_equal(
            sgs_clv_score_customers(model, p, gg, &h, x, m, &o, pa, ex, np, spend, clv, NULL, NULL),
            0);
        for (size_t i = 0; i < n; i += 7) {
            double s = sgs_gg_expected_spend(gg, x[i], m[i]);
            sgs_assert_close(spend[i], s, 0, 1e-15);
            sgs_assert_close(clv[i], 0.3 * lifetimes_clv(model, p, s, 12, d_m, x[i], tx[i], T[i]),
                             1e-12, 1e-11);
            sgs_assert_close(pa[i], sgs_purchase_p_alive(model, p, x[i], tx[i], T[i]), 0, 1e-15);
            sgs_assert_close(ex[i], sgs_purchase_expected(model, p, 360.0, x[i], tx[i], T[i]),
                             1e-15, 1e-13);
            sgs_assert_close(np[i],
                             sgs_purchase_prob_no_purchase(model, p, 360.0, x[i], tx[i], T[i]),
                             1e-15, 1e-13);
            sgs_assert_cmp(pa[i], >=, 0);
            sgs_assert_cmp(pa[i], <=, 1);
            sgs_assert_cmp(np[i], >=, 0);
            sgs_assert_cmp(np[i], <=, 1);
        }
    }
    /* a horizon of 45 days: a full month then half a month, discounted at 30 and 45 days */
    o.horizon = 45.0;
    double disc[n];
    assert_int_equal(
        sgs_clv_score_histories(SGS_MODEL_BGNBD, bg, &h, &o, NULL, NULL, NULL, disc, NULL, NULL),
        0);
    for (size_t j = 0; j < h.n_unique; j += 11) {
        double e30 = sgs_bgnbd_expected(bg, 30, h.x[j], h.t_x[j], h.T[j]);
        double e45 = sgs_bgnbd_expected(bg, 45, h.x[j], h.t_x[j], h.T[j]);
        double want = e30 / pow(1.1, 30.0 / 360.0) + (e45 - e30) / pow(1.1, 45.0 / 360.0);
        sgs_assert_close(disc[j], want, 1e-15, 1e-12);
    }
    /* no discount: the sum telescopes to E[Y(H)] */
    o.annual_discount = 0.0;
    o.horizon = 365.0;
    double ex2[n];
    assert_int_equal(
        sgs_clv_score_histories(SGS_MODEL_BGNBD, bg, &h, &o, NULL, ex2, NULL, disc, NULL, NULL), 0);
    for (size_t j = 0; j < h.n_unique; j++)
        sgs_assert_close(disc[j], ex2[j], 1e-14, 1e-12);
    sgs_histories_free(&h);
}

/* 300 histories with 300 distinct x and T: the (x, T) table would be 90000 entries, more
 * than max(4n, 65536), so the direct path runs; both paths equal the scalar functions. */
static void test_direct_path(void **state)
{
    (void)state;
    enum { n = 300 };
    double x[n], tx[n], T[n];
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)i;
        T[i] = 10.0 + (double)i;
        tx[i] = i ? 0.5 * T[i] : 0.0;
    }
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, n, NULL, NULL), 0);
    sgs_assert_cmp(h.n_x_values * h.n_T_values, >, 65536);
    sgs_clv_options_t o = {52.0, SGS_CLV_WEEKS_PER_MONTH, 0.05, 1.0};
    double pa[n], ex[n], np[n];
    const double p[4] = {0.243, 4.414, 0.793, 2.426};
    assert_int_equal(
        sgs_clv_score_histories(SGS_MODEL_BGNBD, p, &h, &o, pa, ex, np, NULL, NULL, NULL), 0);
    for (size_t j = 0; j < n; j++) {
        sgs_assert_close(ex[j], sgs_bgnbd_expected(p, 52.0, h.x[j], h.t_x[j], h.T[j]), 1e-15,
                         1e-13);
        sgs_assert_close(np[j], sgs_bgnbd_prob_no_purchase(p, 52.0, h.x[j], h.t_x[j], h.T[j]),
                         1e-15, 1e-13);
        sgs_assert_finite(pa[j]);
        sgs_assert_finite(ex[j]);
        sgs_assert_finite(np[j]);
    }
    sgs_histories_free(&h);
}

static void test_threads_identical(void **state)
{
    (void)state;
    enum { n = 40000 };
    static double x[n], tx[n], T[n], m[n], out[3][5][n];
    make(n, 33, x, tx, T, m);
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, n, NULL, NULL), 0);
    sgs_clv_options_t o = {365.0, SGS_CLV_DAYS_PER_MONTH, 0.1, 0.25};
    for (int model = 0; model < SGS_PURCHASE_MODEL_COUNT; model++) {
        const double *p = model == SGS_MODEL_PARETONBD ? pn : bg;
        for (int t = 0; t < 3; t++) {
            sgs_exec_t ex = {.n_threads = t + 1, .grain = 1}; /* grain 1: every thread works */
            assert_int_equal(sgs_clv_score_customers(model, p, gg, &h, x, m, &o, out[t][0],
                                                     out[t][1], out[t][2], out[t][3], out[t][4],
                                                     &ex, NULL),
                             0);
        }
        for (int t = 1; t < 3; t++)
            assert_memory_equal(out[t], out[0], sizeof out[0]);
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < 5; k++)
                sgs_assert_finite(out[0][k][i]);
    }
    sgs_histories_free(&h);
}

static void test_names_and_errors(void **state)
{
    (void)state;
    sgs_purchase_model_t m;
    sgs_error_t err = {0};
    assert_int_equal(sgs_purchase_model_parse("paretonbd", &m, NULL), 0);
    assert_int_equal(m, SGS_MODEL_PARETONBD);
    assert_string_equal(sgs_purchase_model_name(SGS_MODEL_MBGNBD), "mbgnbd");
    assert_string_equal(sgs_purchase_model_param_names(SGS_MODEL_PARETONBD)[3], "beta");
    assert_int_equal(sgs_purchase_model_parse("bgbb", &m, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "bgnbd");
    double x[] = {1, 0}, tx[] = {3, 0}, T[] = {5, 5}, mm[] = {10, 0}, out[2];
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, 2, NULL, NULL), 0);
    sgs_clv_options_t o = {30, 30, 0.1, 1};
    double bad_gg[3] = {2.0, 0.8, 10.0};
    assert_int_equal(sgs_clv_score_customers(SGS_MODEL_BGNBD, bg, bad_gg, &h, x, mm, &o, NULL, NULL,
                                             NULL, NULL, out, NULL, &err),
                     SGS_EDATA);
    sgs_assert_contains(err.message, "q = 0.8");
    assert_int_equal(sgs_clv_score_customers(SGS_MODEL_BGNBD, bg, NULL, &h, x, mm, &o, NULL, NULL,
                                             NULL, NULL, out, NULL, &err),
                     SGS_EINVAL);
    o.units_per_month = 0.0;
    assert_int_equal(sgs_clv_score_customers(SGS_MODEL_BGNBD, bg, gg, &h, x, mm, &o, out, NULL,
                                             NULL, NULL, NULL, NULL, &err),
                     SGS_EINVAL);
    o.units_per_month = 30.0;
    double bad[4] = {0.2, NAN, 1, 1};
    assert_int_equal(
        sgs_clv_score_histories(SGS_MODEL_BGNBD, bad, &h, &o, out, NULL, NULL, NULL, NULL, &err),
        SGS_EINVAL);
    /* P(alive) of the BG/NBD customer without repeat purchase is exactly 1 */
    assert_int_equal(sgs_clv_score_customers(SGS_MODEL_BGNBD, bg, gg, &h, x, mm, &o, out, NULL,
                                             NULL, NULL, NULL, NULL, NULL),
                     0);
    sgs_assert_cmp(out[1], ==, 1.0);
    sgs_assert_cmp(out[0], <, 1.0);
    sgs_histories_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clv_equals_lifetimes_loop),
        cmocka_unit_test(test_direct_path),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_names_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
