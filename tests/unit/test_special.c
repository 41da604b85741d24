/*
 * tests/unit/test_special.c — log-space helpers, digamma, ₂F₁(a, b; a+1; z) (both the
 * series and the quadrature path, against closed forms and values computed independently
 * with scipy.special.hyp2f1 1.10.1), its derivatives against finite differences, and the
 * BG/NBD expected purchases M(R, a, B, u) (closed forms, its three branches against each
 * other, bounds and monotonicity; the 60-digit grid is tests/unit/test_bg_reference.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/core.h"
#include "kernels/special.h"
#include "kernels/special_internal.h"
#include "tests/support/test_support.h"

#include <math.h>

static void test_log_helpers(void **state)
{
    (void)state;
    sgs_assert_close(sgs_logaddexp(1000.0, 1000.0), 1000.0 + log(2.0), 0, 1e-15);
    sgs_assert_close(sgs_logaddexp(-HUGE_VAL, 3.0), 3.0, 0, 0);
    sgs_assert_cmp(sgs_logaddexp(-HUGE_VAL, -HUGE_VAL), ==, -HUGE_VAL);
    sgs_assert_close(sgs_log1pexp(800.0), 800.0, 0, 1e-15);
    sgs_assert_close(sgs_log1pexp(-800.0), exp(-800.0), 0, 1e-12);
    sgs_assert_close(sgs_log1mexp(-1e-20), log(1e-20), 0, 1e-14);
    sgs_assert_close(sgs_log1mexp(-50.0), -exp(-50.0), 0, 1e-12);
    sgs_assert_cmp(sgs_log1mexp(0.0), ==, -HUGE_VAL);
    sgs_assert_close(sgs_sigmoid(-800.0), 0.0, 1e-300, 0);
    sgs_assert_close(sgs_sigmoid(0.0), 0.5, 0, 0);
    sgs_assert_close(sgs_lgamma(0.5), 0.5 * log(3.14159265358979323846), 0, 1e-15);
}

static void test_digamma(void **state)
{
    (void)state;
    const double euler = 0.57721566490153286;
    sgs_assert_close(sgs_digamma(1.0), -euler, 1e-15, 0);
    sgs_assert_close(sgs_digamma(0.5), -euler - 2.0 * log(2.0), 1e-14, 0);
    /* ψ(x) = -1/x - γ + ζ(2) x + O(x²) */
    sgs_assert_close(sgs_digamma(1e-6), -1e6 - euler + 1.6449340668482264e-6, 0, 1e-15);
    sgs_assert_close(sgs_digamma(100.5), 4.605174352581845, 1e-14, 0); /* scipy.special.psi */
    for (double x = 0.05; x < 40.0; x *= 1.7)                          /* ψ(x+1) = ψ(x) + 1/x */
        sgs_assert_close(sgs_digamma(x + 1.0), sgs_digamma(x) + 1.0 / x, 1e-13, 1e-14);
    sgs_assert_nan(sgs_digamma(0.0));
}

/* {a, b, z, ln 2F1(a, b; a+1; z)} from scipy.special.hyp2f1 or closed forms */
static const double hyp_cases[][4] = {
    {1.5, 2.0, 0.3, 0.4236894863049808},     {0.8, 1.6, 0.9, 1.5649767756141966},
    {0.8, 1.6, 0.999, 4.423877502687363},    {0.8, 1.6, 0.999999, 8.576847598231964},
    {3.0, 0.5, 0.99999, 1.1572339311878994}, {50, 1.2, 0.999, 5.96999816803854},
    {100.3, 100.2, 0.99, 456.843798132324},  {0.3, 0.2, 0.9999, 0.09357184836358609},
    {2.0, 0.5, 0.7, 0.34931285248027688},    {0.5, 1.4, 0.5, 0.32041015344591224},
};

static void test_hyp2f1_ap1_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hyp_cases / sizeof hyp_cases[0]; i++) {
        double lf;
        assert_int_equal(
            sgs_hyp2f1_ap1(hyp_cases[i][0], hyp_cases[i][1], hyp_cases[i][2], &lf, NULL), 0);
        sgs_assert_close(lf, hyp_cases[i][3], 1e-12, 1e-12);
    }
    /* closed forms: 2F1(1, b; 2; z) = (1 - (1-z)^(1-b)) / ((1-b) z); 2F1(1,1;2;z) = -ln(1-z)/z */
    double bs[] = {0.3, 1.5, 1.9}; /* 0 < b < a + 1 = 2 */
    double zs[] = {0.2, 0.9, 1.0 - 1e-6, 1.0 - 1e-8};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) {
            double b = bs[i], z = zs[j], lf;
            double exact = log(-expm1((1.0 - b) * log1p(-z)) / ((1.0 - b) * z));
            assert_int_equal(sgs_hyp2f1_ap1(1.0, b, z, &lf, NULL), 0);
            sgs_assert_close(lf, exact, 1e-9, 1e-10);
        }
    double lf;
    assert_int_equal(sgs_hyp2f1_ap1(1.0, 1.0, 0.75, &lf, NULL), 0);
    sgs_assert_close(lf, log(-log(0.25) / 0.75), 0, 1e-14);
    assert_int_equal(sgs_hyp2f1_ap1(2.0, 2.5, 0.0, &lf, NULL), 0);
    sgs_assert_cmp(lf, ==, 0.0);
    assert_int_equal(sgs_hyp2f1_ap1(0.0, 1.0, 0.5, &lf, NULL), SGS_EINVAL);
    assert_int_equal(sgs_hyp2f1_ap1(1.0, 1.0, 1.0, &lf, NULL), SGS_EINVAL);
    assert_int_equal(sgs_hyp2f1_ap1(1.0, NAN, 0.5, &lf, NULL), SGS_EINVAL);
    /* outside 0 < b < a + 1 */
    assert_int_equal(sgs_hyp2f1_ap1(2.0, -1.5, 0.7, &lf, NULL), SGS_EINVAL);
    assert_int_equal(sgs_hyp2f1_ap1(2.0, 0.0, 0.7, &lf, NULL), SGS_EINVAL);
    assert_int_equal(sgs_hyp2f1_ap1(0.5, 3.0, 0.5, &lf, NULL), SGS_EINVAL);
}

static void test_hyp2f1_ap1_derivatives(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hyp_cases / sizeof hyp_cases[0]; i++) {
        double p[3] = {hyp_cases[i][0], hyp_cases[i][1], hyp_cases[i][2]}, lf, d[3];
        assert_int_equal(sgs_hyp2f1_ap1(p[0], p[1], p[2], &lf, d), 0);
        for (int j = 0; j < 3; j++) {
            double h = j == 2 ? 1e-4 * (1.0 - p[2]) : 1e-5 * fmax(1.0, fabs(p[j]));
            double up[3] = {p[0], p[1], p[2]}, dn[3] = {p[0], p[1], p[2]}, l1, l2;
            up[j] += h;
            dn[j] -= h;
            assert_int_equal(sgs_hyp2f1_ap1(up[0], up[1], up[2], &l1, NULL), 0);
            assert_int_equal(sgs_hyp2f1_ap1(dn[0], dn[1], dn[2], &l2, NULL), 0);
            sgs_assert_close(d[j], (l1 - l2) / (2 * h), 1e-6, 1e-5);
        }
    }
}

/* M(R, a, B, u) = E[(1 - (1+pu)^-R)/p], p ~ Beta(a, B): closed forms. */
static void test_bg_mean_closed_forms(void **state)
{
    (void)state;
    const double us[] = {1e-6, 0.1, 0.5, 1.0, 30.0, 1e4, 1e7};
    for (size_t k = 0; k < sizeof us / sizeof us[0]; k++) {
        double u = us[k];
        /* R = a = B = 1: ∫ u/(1+pu) dp = ln(1+u) */
        sgs_assert_close(sgs_bg_mean_purchases(1.0, 1.0, 1.0, u), log1p(u), 0, 1e-13);
        /* R = 1, a = 1, B = 2: ∫ 2(1-p) u/(1+pu) dp = 2((1+u) ln(1+u)/u - 1) */
        if (u >= 0.1)
            sgs_assert_close(sgs_bg_mean_purchases(1.0, 1.0, 2.0, u),
                             2.0 * ((1.0 + u) * log1p(u) / u - 1.0), 0, 1e-12);
        /* a -> 0: nobody drops out, M -> R u (the deviation is O(a)) */
        sgs_assert_close(sgs_bg_mean_purchases(3.0, 1e-12, 2.0, u), 3.0 * u, 0, 1e-9);
    }
    /* scipy.special.hyp2f1 1.10.1: (1 - (1-z)^e 2F1(d, e; c; z))/e = 0.18011102528388645 at
     * d = 2, e = 0.5, c = 3, z = 0.4, i.e. R = 1, a = 1.5, B = 2.5, u = 2/3, M = c Q */
    sgs_assert_close(sgs_bg_mean_purchases(1.0, 1.5, 2.5, 2.0 / 3.0), 3.0 * 0.18011102528388645, 0,
                     1e-13);
    /* u = 0 and arguments out of range */
    sgs_assert_cmp(sgs_bg_mean_purchases(2.0, 0.5, 0.5, 0.0), ==, 0.0);
    sgs_assert_nan(sgs_bg_mean_purchases(0.0, 0.5, 0.5, 1.0));
    sgs_assert_nan(sgs_bg_mean_purchases(1.0, 0.0, 0.5, 1.0));
    sgs_assert_nan(sgs_bg_mean_purchases(1.0, 0.5, -1.0, 1.0));
    sgs_assert_nan(sgs_bg_mean_purchases(1.0, 0.5, 0.5, -1.0));
    sgs_assert_nan(sgs_bg_mean_purchases(1.0, 0.5, 0.5, HUGE_VAL));
    sgs_assert_nan(sgs_bg_mean_purchases(NAN, 0.5, 0.5, 1.0));
}

/* Every branch that accepts a point agrees with the others; bounds 0 <= M <= R u; M grows
 * with u across the branch switches; continuous through c = a + B - 1 = 0 and a = 1. */
static void test_bg_mean_branches(void **state)
{
    (void)state;
    const double pars[][3] = {
        {0.243, 0.793, 2.426},    {84.5, 0.0095, 0.404}, {0.25, 0.05, 0.5},  {1066.0, 1.2, 7.8},
        {3672.0, 0.8, 3.0},       {1e4, 1e-4, 1e4},      {0.01, 30.0, 0.01}, {2.0, 1.0, 1e-3},
        {20000.0, 200.0, 5000.0}, {0.5, 1.0 + 1e-9, 3.0}};
    int accepted[3] = {0, 0, 0};
    for (size_t k = 0; k < sizeof pars / sizeof pars[0]; k++) {
        double R = pars[k][0], a = pars[k][1], B = pars[k][2], prev = 0.0;
        for (double u = 1e-5; u < 1e7; u *= 1.7) {
            double m = sgs_bg_mean_purchases(R, a, B, u);
            sgs_assert_finite(m);
            sgs_assert_cmp(m, >, 0.0);
            sgs_assert_cmp(m, <=, R * u * (1.0 + 1e-14));
            sgs_assert_cmp(m, >=, prev * (1.0 - 1e-13));
            prev = m;
            for (int br = 1; br <= 3; br++) {
                double v;
                if (sgs__bg_mean_branch(br, R, a, B, u, &v) == 0) {
                    accepted[br - 1]++;
                    sgs_assert_close(v, m, 0, 2e-13);
                }
            }
        }
    }
    for (int br = 0; br < 3; br++)
        sgs_assert_cmp(accepted[br], >, 20);
    /* c = a + B - 1 = 0 exactly (x = 0, a + b = 1 in the BG/NBD): finite and continuous */
    for (double u = 0.01; u < 1e4; u *= 10.0) {
        double m0 = sgs_bg_mean_purchases(0.7, 0.25, 0.75, u);
        sgs_assert_finite(m0);
        sgs_assert_cmp(m0, >, 0.0);
        sgs_assert_close(sgs_bg_mean_purchases(0.7, 0.25, 0.75 + 1e-9, u), m0, 0, 1e-8);
        sgs_assert_close(sgs_bg_mean_purchases(0.7, 0.25, 0.75 - 1e-9, u), m0, 0, 1e-8);
    }
    /* a = 1: (a+B-1)/(a-1) [...] has a removable singularity there */
    sgs_assert_close(sgs_bg_mean_purchases(0.5, 1.0, 5.0, 2.0),
                     sgs_bg_mean_purchases(0.5, 1.0 + 1e-8, 5.0, 2.0), 0, 1e-7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_helpers),          cmocka_unit_test(test_digamma),
        cmocka_unit_test(test_hyp2f1_ap1_values),    cmocka_unit_test(test_hyp2f1_ap1_derivatives),
        cmocka_unit_test(test_bg_mean_closed_forms), cmocka_unit_test(test_bg_mean_branches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
