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
    sgs_assert_cmp(sgs_mbgnbd_p_alive(q, 0, 0, 30.0), <, 1.0);
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
        sgs_assert_cmp(e, >, prev);
        sgs_assert_finite(e);
        prev = e;
        double np = sgs_mbgnbd_prob_no_purchase(p, t, 3, 20, 40);
        sgs_assert_cmp(np, >, 0);
        sgs_assert_cmp(np, <, 1);
    }
    sgs_histories_free(&h);
}

/* Issue 11 item 9: the MBG/NBD fit r = 1066 (from `segscore generate --r 200 --alpha 800
 * --a 0.8 --b 3 --seed 5`) gave -12,138 expected purchases for x = 0, T = 10 days; the
 * reference is Batislam et al.'s closed form evaluated by mpmath at 60 digits
 * (tests/data/make_bg_reference.py). Every (x, T) of such a base is non-negative. */
static void test_issue_11_large_r(void **state)
{
    (void)state;
    const double p[4] = {1065.7371578046036, 4822.68817345393, 1.1964569403883862,
                         6.8399621593068245};
    sgs_assert_close(sgs_mbgnbd_expected(p, 365, 0, 0, 10), 6.056200641508592, 0, 1e-12);
    sgs_assert_close(sgs_mbgnbd_p_alive(p, 0, 0, 10), 0.3860053462998142, 0, 1e-12);
    sgs_assert_close(sgs_mbgnbd_expected(p, 365, 5, 100, 120), 2.449813630623097, 0, 1e-12);
    for (double x = 0; x <= 300; x += 3)
        for (double T = x; T <= 1100; T += 7) {
            double e = sgs_mbgnbd_expected_if_alive(p, 365, x, T);
            sgs_assert_finite(e);
            sgs_assert_cmp(e, >=, 0.0);
            sgs_assert_cmp(e, <=, (p[0] + x) * 365 / (p[1] + T) * (1 + 1e-14));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_gradient_matches_differences),
        cmocka_unit_test(test_issue_11_large_r),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
