/*
 * tests/unit/test_mbgnbd.c — MBG/NBD: the likelihood by hand and over histories, the
 * gradient against finite differences, P(alive) below 1 without repeat purchase, and the
 * new-customer expectation against the closed form of Batislam et al. summed directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/mbgnbd.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <string.h>

static void test_hand_values(void **state)
{
    (void)state;
    /* x = 0: L = Γ(a+b)Γ(b+1)/(Γ(b)Γ(a+b+1)) (α/(α+T))^r + a/b · ... with r = a = b = 1:
       L = (1/2) α/(α+T) + (1/2) α/(α+0)·... A4 uses t_x = 0: ln a - ln b - r ln(α + 0) */
    double p[4] = {1.0, 2.0, 1.0, 1.0};
    double L = 0.5 * (2.0 / (2.0 + 3.0)) + 0.5 * (2.0 / 2.0);
    sgs_assert_close(sgs_mbgnbd_loglik_one(p, 0, 0, 3.0), log(L), 0, 1e-14);
    /* P(alive | x = 0, T) = 1/(1 + a/b ((α+T)/α)^r) */
    sgs_assert_close(sgs_mbgnbd_p_alive(p, 0, 0, 3.0), 1.0 / (1.0 + 2.5), 0, 1e-15);
    double q[4] = {0.525, 6.183, 0.891, 1.614};
    assert_true(sgs_mbgnbd_p_alive(q, 0, 0, 30.0) < 1.0);
    /* E[X(t)] = b/(a-1) [1 - (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))], series summed here */
    double t = 39.0, z = t / (q[1] + t), term = 1.0, sum = 1.0;
    for (int k = 0; k < 5000; k++) {
        term *= (q[0] + k) * (q[3] + 1 + k) / ((q[2] + q[3] + k) * (k + 1)) * z;
        sum += term;
    }
    double e = q[3] / (q[2] - 1) * (1 - pow(q[1] / (q[1] + t), q[0]) * sum);
    sgs_assert_close(sgs_mbgnbd_expected_new(q, t), e, 0, 1e-12);
}

static void test_gradient_matches_differences(void **state)
{
    (void)state;
    enum { n = 2000 };
    static double x[n], tx[n], T[n];
    for (size_t i = 0; i < n; i++) {
        T[i] = (1 + (int)(sgs_rng_uniform(4, 0, i) * 300)) / 7.0;
        x[i] = (int)(-2.0 * log(sgs_rng_uniform(4, 1, i)));
        tx[i] = x[i] > 0 ? T[i] * sgs_rng_uniform(4, 2, i) : 0.0;
    }
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, n, NULL, NULL), 0);
    double p[4] = {0.5, 6.0, 0.9, 1.6}, ll, g[4], sum = 0.0;
    assert_int_equal(sgs_mbgnbd_loglik(p, &h, &ll, g, NULL, NULL), 0);
    for (size_t i = 0; i < n; i++)
        sum += sgs_mbgnbd_loglik_one(p, x[i], tx[i], T[i]);
    sgs_assert_close(ll, sum, 0, 1e-12);
    for (int j = 0; j < 4; j++) {
        double up[4], dn[4], lu, ld, eps = 1e-5;
        memcpy(up, p, sizeof up);
        memcpy(dn, p, sizeof dn);
        up[j] *= exp(eps);
        dn[j] *= exp(-eps);
        assert_int_equal(sgs_mbgnbd_loglik(up, &h, &lu, NULL, NULL, NULL), 0);
        assert_int_equal(sgs_mbgnbd_loglik(dn, &h, &ld, NULL, NULL, NULL), 0);
        sgs_assert_close(g[j], (lu - ld) / (2 * eps), 1e-4, 1e-6);
    }
    /* expectations grow with the horizon, P(no purchase) falls, all finite */
    double prev = 0.0;
    for (double t = 1; t < 1000; t *= 3) {
        double e = sgs_mbgnbd_expected(p, t, 3, 20, 40);
        assert_true(e > prev && isfinite(e));
        prev = e;
        double np = sgs_mbgnbd_prob_no_purchase(p, t, 3, 20, 40);
        assert_true(np > 0 && np < 1);
    }
    sgs_histories_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_gradient_matches_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
