/*
 * tests/unit/test_evaluate_probs.c — P(X(t) = x) of a new customer (kernels/evaluate_probs.h):
 * the BG/NBD against the values printed by the BTYD R package for the CDNOW estimates (as
 * checked in lifetimes' tests/test_estimation.py); for every model, that the probabilities
 * sum to 1, that their mean equals the model's own E[X(t)] (an independent formula: FHL
 * eq. 9, SMC eq. 17, the MBG/NBD expectation), that P(X(t) = 0) equals the model's
 * P(no purchase) of a customer at x = t_x = T = 0, and that they match a simulation of the
 * model's story; the Pareto/NBD integral against a plain Simpson rule in long double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "datasets/sim_random.h"
#include "kernels/evaluate_probs.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>

static const double cdnow_bg[4] = {0.243, 4.414, 0.793, 2.426};

static void test_bgnbd_btyd_values(void **state)
{
    (void)state;
    /* BTYD bgnbd.pmf(params, t, x), printed in its manual and lifetimes' tests; to half a unit
       of the last printed digit */
    sgs_assert_close(sgs_bgnbd_prob_count(cdnow_bg, 2.0, 10), 1.07869e-07, 5e-13, 0);
    sgs_assert_close(sgs_bgnbd_prob_count(cdnow_bg, 39.0, 0), 0.5737864, 5e-8, 0);
    static const double pmf30[10] = {0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148,
                                     0.0007023638, 0.0005517902, 0.0004361913, 0.0003467171,
                                     0.0002769613, 0.0002222260};
    for (int k = 0; k < 10; k++)
        sgs_assert_close(sgs_bgnbd_prob_count(cdnow_bg, 30.0, 11 + k), pmf30[k], 5e-11, 0);
}

static const double pareto_points[][4] = {
    {0.553, 10.578, 0.606, 11.669}, /* CDNOW (FHL 2005), alpha < beta */
    {0.8, 30.0, 1.3, 4.0},          /* alpha > beta */
    {2.0, 6.0, 3.0, 30.0},
    {0.3, 3.0, 0.9, 400.0},
};
static const double bg_points[][4] = {
    {0.243, 4.414, 0.793, 2.426}, /* CDNOW BG/NBD */
    {0.525, 6.183, 0.891, 1.614}, /* CDNOW MBG/NBD (BTYDplus) */
    {2.0, 10.0, 3.0, 5.0},
    {1.2, 2.0, 0.4, 9.0},
};

/* Σ P = 1, Σ x P = E[X(t)], P(0) = P(no purchase | x = t_x = T = 0). */
static void check_identities(sgs_purchase_model_t model, const double *p, double t)
{
    double sum = 0.0, mean = 0.0;
    int x = 0;
    for (; x < 20000; x++) {
        double v = sgs_purchase_prob_count(model, p, t, x);
        sgs_assert_finite(v);
        sgs_assert_cmp(v, >=, 0.0);
        sgs_assert_cmp(v, <=, 1.0);
        sum += v;
        mean += x * v;
        if (1.0 - sum < 1e-13 && x * v < 1e-15)
            break; /* what is left changes neither sum nor mean at the tolerances below */
    }
    if (x == 20000)
        fail_msg("model %d, t %g: the distribution does not decay", (int)model, t);
    sgs_assert_close(sum, 1.0, 1e-11, 0);
    sgs_assert_close(mean, sgs_purchase_expected_new(model, p, t), 1e-11, 1e-9);
    sgs_assert_close(sgs_purchase_prob_count(model, p, t, 0),
                     sgs_purchase_prob_no_purchase(model, p, t, 0, 0, 0), 1e-14, 1e-12);
}

static void test_identities(void **state)
{
    (void)state;
    static const double times[] = {0.5, 3.0, 39.0, 78.0};
    for (size_t i = 0; i < 4; i++)
        for (size_t k = 0; k < sizeof times / sizeof times[0]; k++) {
            check_identities(SGS_MODEL_BGNBD, bg_points[i], times[k]);
            check_identities(SGS_MODEL_MBGNBD, bg_points[i], times[k]);
            check_identities(SGS_MODEL_PARETONBD, pareto_points[i], times[k]);
        }
}

/* The Pareto/NBD's death-time integral by Simpson's rule on 200000 panels, long double. */
static double pareto_by_simpson(const double *p, double t, int x)
{
    long double r = p[0], al = p[1], s = p[2], be = p[3];
    long double lc = lgammal(r + x) - lgammal(r) - lgammal(x + 1.0L);
    long double alive = expl(lc + r * logl(al / (al + t)) + (x ? x * logl(t / (al + t)) : 0) +
                             s * logl(be / (be + t)));
    int n = 200000;
    long double h = (long double)t / n, sum = 0;
    for (int i = 0; i <= n; i++) {
        long double tau = i * h, f;
        if (tau == 0 && x > 0)
            f = 0;
        else
            f = s * expl(s * logl(be) - (s + 1) * logl(be + tau) + lc + r * logl(al) -
                         (r + x) * logl(al + tau) + (x ? x * logl(tau) : 0));
        sum += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
    }
    return (double)(alive + sum * h / 3);
}

static void test_pareto_against_simpson(void **state)
{
    (void)state;
    static const int xs[] = {0, 1, 2, 7, 40};
    for (size_t i = 0; i < 4; i++)
        for (size_t k = 0; k < 5; k++) {
            double got = sgs_paretonbd_prob_count(pareto_points[i], 39.0, xs[k]);
            sgs_assert_close(got, pareto_by_simpson(pareto_points[i], 39.0, xs[k]), 1e-15, 1e-9);
        }
}

/* Repeat purchases in (0, t] of one simulated customer. */
static int simulate_one(sgs_purchase_model_t model, const double *p, double t, sgs_rng_t *rng)
{
    double lambda = sgs__rand_gamma(rng, p[0]) / p[1];
    if (model == SGS_MODEL_PARETONBD) {
        double mu = sgs__rand_gamma(rng, p[2]) / p[3];
        double end = sgs__rand_exp(rng) / mu;
        if (end > t)
            end = t;
        int n = 0;
        for (double now = sgs__rand_exp(rng) / lambda; now <= end;
             now += sgs__rand_exp(rng) / lambda)
            n++;
        return n;
    }
    double drop = sgs__rand_beta(rng, p[2], p[3]);
    if (model == SGS_MODEL_MBGNBD && sgs__rand_bernoulli(rng, drop))
        return 0; /* gone right after the first purchase */
    int n = 0;
    for (double now = sgs__rand_exp(rng) / lambda; now <= t; now += sgs__rand_exp(rng) / lambda) {
        n++;
        if (sgs__rand_bernoulli(rng, drop))
            break; /* gone right after this repeat purchase */
    }
    return n;
}

static void test_against_simulation(void **state)
{
    (void)state;
    enum { N = 200000, K = 6 };
    const sgs_purchase_model_t models[3] = {SGS_MODEL_BGNBD, SGS_MODEL_MBGNBD, SGS_MODEL_PARETONBD};
    const double *params[3] = {bg_points[2], bg_points[3], pareto_points[2]};
    const double t = 20.0;
    for (int m = 0; m < 3; m++) {
        long counts[K + 1] = {0};
        for (uint64_t i = 0; i < N; i++) {
            sgs_rng_t rng;
            sgs_rng_init(&rng, 2024, i + (uint64_t)m * N);
            int n = simulate_one(models[m], params[m], t, &rng);
            counts[n < K ? n : K]++;
        }
        double probs[K], tail;
        assert_int_equal(sgs_purchase_count_distribution(models[m], params[m], t, K, probs, &tail),
                         0);
        for (int x = 0; x <= K; x++) {
            double p = x < K ? probs[x] : tail, share = (double)counts[x] / N;
            double se = sqrt(p * (1 - p) / N);
            if (fabs(share - p) > 4.5 * se)
                fail_msg("model %d, x %d: simulated %.5f, formula %.5f (se %.5f)", m, x, share, p,
                         se);
        }
    }
}

static void test_edges(void **state)
{
    (void)state;
    double probs[3], tail = -1;
    for (int m = 0; m < 3; m++) {
        const double *p = m == SGS_MODEL_PARETONBD ? pareto_points[0] : bg_points[0];
        sgs_assert_cmp(sgs_purchase_prob_count((sgs_purchase_model_t)m, p, 0.0, 0), ==, 1.0);
        sgs_assert_cmp(sgs_purchase_prob_count((sgs_purchase_model_t)m, p, 0.0, 3), ==, 0.0);
        sgs_assert_nan(sgs_purchase_prob_count((sgs_purchase_model_t)m, p, -1.0, 0));
        sgs_assert_nan(sgs_purchase_prob_count((sgs_purchase_model_t)m, p, 1.0, -1));
        assert_int_equal(
            sgs_purchase_count_distribution((sgs_purchase_model_t)m, p, 0.0, 3, probs, &tail), 0);
        sgs_assert_cmp(probs[0], ==, 1.0);
        sgs_assert_cmp(probs[1], ==, 0.0);
        sgs_assert_cmp(tail, ==, 0.0);
        /* a tiny t: almost surely nothing */
        sgs_assert_cmp(sgs_purchase_prob_count((sgs_purchase_model_t)m, p, 1e-9, 0), >, 1 - 1e-8);
    }
    const double bad[4] = {0.2, -1, 1, 1};
    sgs_assert_nan(sgs_bgnbd_prob_count(bad, 1.0, 0));
    assert_int_equal(sgs_purchase_count_distribution(SGS_MODEL_BGNBD, bad, 1.0, 3, probs, NULL),
                     SGS_EINVAL);
    assert_int_equal(
        sgs_purchase_count_distribution((sgs_purchase_model_t)7, cdnow_bg, 1.0, 3, probs, NULL),
        SGS_EINVAL);
    assert_int_equal(
        sgs_purchase_count_distribution(SGS_MODEL_BGNBD, cdnow_bg, 1.0, 0, probs, NULL),
        SGS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bgnbd_btyd_values),
        cmocka_unit_test(test_identities),
        cmocka_unit_test(test_pareto_against_simpson),
        cmocka_unit_test(test_against_simulation),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
