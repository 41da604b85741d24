/*
 * tests/unit/test_paretonbd.c — Pareto/NBD: the likelihood against an independent
 * quadrature of its integral form (no hypergeometric function), in both branches
 * (alpha >= beta and alpha < beta) and for large x; the analytic gradient against finite
 * differences; P(no purchase) against simulation; expectations; threads; degenerate inputs;
 * the two fits issue 11 reported (a retail export drifting to s -> 0, beta -> large: 78 s
 * and NaN standard errors; generated data with r = 500, alpha = 2000: not finished in 15
 * minutes), which must finish with finite values and bounded work; the fit's time limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/clv.h"
#include "kernels/paretonbd.h"
#include "kernels/special.h"
#include "kernels/value_simulate.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ln L by SMC's integral form: Γ(r+x)α^r β^s/Γ(r) [ (α+T)^-(r+x) (β+T)^-s
 *   + s ∫_{t_x}^T (α+τ)^-(r+x) (β+τ)^-(s+1) dτ ], Simpson's rule in long double on
 * u = ln(min(α,β) + τ) with 20000 panels. */
static double ll_by_quadrature(const double *p, double x, double t_x, double T)
{
    long double r = p[0], al = p[1], s = p[2], be = p[3], c = al < be ? al : be;
    long double lc = lgammal(r + x) - lgammal(r) + r * logl(al) + s * logl(be);
    long double first = expl(-(r + x) * logl(al + T) - s * logl(be + T));
    long double integral = 0;
    if (T > t_x) {
        long double u0 = logl(c + t_x), u1 = logl(c + T);
        int n = 20000;
        long double hstep = (u1 - u0) / n;
        for (int i = 0; i <= n; i++) {
            long double u = u0 + i * hstep, tau = expl(u) - c;
            long double f = expl(-(r + x) * logl(al + tau) - (s + 1) * logl(be + tau)) * expl(u);
            integral += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
        }
        integral *= hstep / 3;
    }
    return (double)(lc + logl(first + s * integral));
}

static const double points[][4] = {
    {0.553, 10.578, 0.606, 11.669}, /* CDNOW, alpha < beta */
    {0.8, 30.0, 1.3, 4.0},          /* alpha > beta */
    {2.0, 5.0, 0.2, 5.0},           /* alpha == beta */
    {0.3, 0.5, 0.9, 400.0},         /* z close to 1 in the alpha < beta branch */
    {1.5, 900.0, 0.1, 2.0},         /* z close to 1 in the alpha >= beta branch */
};
static const double hist[][3] = {{0, 0, 39},   {2, 30.43, 38.86}, {1, 0.1, 50},
                                 {15, 20, 21}, {60, 35, 39},      {3, 7, 7}};

static void test_likelihood_against_quadrature(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof points / sizeof points[0]; k++)
        for (size_t i = 0; i < sizeof hist / sizeof hist[0]; i++) {
            double ll =
                sgs_paretonbd_loglik_one(points[k], hist[i][0], hist[i][1], hist[i][2], NULL);
            sgs_assert_close(ll, ll_by_quadrature(points[k], hist[i][0], hist[i][1], hist[i][2]),
                             1e-9, 1e-10);
            double pa = sgs_paretonbd_p_alive(points[k], hist[i][0], hist[i][1], hist[i][2]);
            sgs_assert_cmp(pa, >, 0.0);
            sgs_assert_cmp(pa, <=, 1.0);
        }
}

static void test_gradient_matches_differences(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof points / sizeof points[0]; k++)
        for (size_t i = 0; i < sizeof hist / sizeof hist[0]; i++) {
            double g[4];
            const double *h = hist[i];
            sgs_paretonbd_loglik_one(points[k], h[0], h[1], h[2], g);
            for (int j = 0; j < 4; j++) {
                double up[4], dn[4], eps = 1e-6 * points[k][j];
                memcpy(up, points[k], sizeof up);
                memcpy(dn, points[k], sizeof dn);
                up[j] += eps;
                dn[j] -= eps;
                double fd = (sgs_paretonbd_loglik_one(up, h[0], h[1], h[2], NULL) -
                             sgs_paretonbd_loglik_one(dn, h[0], h[1], h[2], NULL)) /
                            (2 * eps);
                sgs_assert_close(g[j], fd, 1e-6, 1e-5);
            }
        }
}

static void test_totals_and_threads(void **state)
{
    (void)state;
    enum { n = 3000 };
    static double x[n], tx[n], T[n];
    for (size_t i = 0; i < n; i++) {
        T[i] = (1 + (int)(sgs_rng_uniform(8, 0, i) * 272)) / 7.0;
        x[i] = (int)(-2.0 * log(sgs_rng_uniform(8, 1, i)));
        tx[i] = x[i] > 0 ? (int)(T[i] * 7 * sgs_rng_uniform(8, 2, i)) / 7.0 : 0.0;
    }
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, n, NULL, NULL), 0);
    const double p[4] = {0.553, 10.578, 0.606, 11.669};
    double ll[3], g[3][4], sum = 0.0;
    for (int t = 0; t < 3; t++) {
        sgs_exec_t ex = {.n_threads = t + 1, .grain = 1}; /* grain 1: every thread works */
        assert_int_equal(sgs_paretonbd_loglik(p, &h, &ll[t], g[t], &ex, NULL), 0);
    }
    for (size_t i = 0; i < n; i++)
        sum += sgs_paretonbd_loglik_one(p, x[i], tx[i], T[i], NULL);
    sgs_assert_close(ll[0], sum, 0, 1e-12);
    for (int j = 0; j < 4; j++) {
        double up[4], dn[4], lu, ld, eps = 1e-5;
        memcpy(up, p, sizeof up);
        memcpy(dn, p, sizeof dn);
        up[j] *= exp(eps);
        dn[j] *= exp(-eps);
        assert_int_equal(sgs_paretonbd_loglik(up, &h, &lu, NULL, NULL, NULL), 0);
        assert_int_equal(sgs_paretonbd_loglik(dn, &h, &ld, NULL, NULL, NULL), 0);
        sgs_assert_close(g[0][j], (lu - ld) / (2 * eps), 1e-4, 1e-6);
    }
    for (int t = 1; t < 3; t++) {
        assert_memory_equal(&ll[t], &ll[0], sizeof ll[0]);
        assert_memory_equal(g[t], g[0], sizeof g[0]);
    }
    sgs_histories_free(&h);
}

/* Gamma(k, rate) for integer k: sum of k exponentials */
static double gamma_int(sgs_rng_t *rng, int k, double rate)
{
    double s = 0.0;
    for (int i = 0; i < k; i++)
        s += -log(sgs_rng_next_uniform(rng));
    return s / rate;
}

static void test_no_purchase_against_simulation(void **state)
{
    (void)state;
    /* a new customer (x = t_x = T = 0) with r = 2, alpha = 6, s = 3, beta = 30: no purchase
       in t = 8 iff death before the first purchase or no purchase in 8 */
    const double p[4] = {2.0, 6.0, 3.0, 30.0};
    const double t = 8.0;
    sgs_rng_t rng;
    int n = 400000, none = 0;
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        sgs_rng_init(&rng, 77, (uint64_t)i);
        double lam = gamma_int(&rng, 2, 6.0), mu = gamma_int(&rng, 3, 30.0);
        double life = -log(sgs_rng_next_uniform(&rng)) / mu, end = life < t ? life : t;
        double first = -log(sgs_rng_next_uniform(&rng)) / lam;
        none += first > end;
        /* purchases in (0, end]: Poisson(λ end) mean, for E[X(t)] */
        total += lam * end;
    }
    double p0 = (double)none / n, se = sqrt(p0 * (1 - p0) / n);
    sgs_assert_close(sgs_paretonbd_prob_no_purchase(p, t, 0, 0, 0), p0, 4 * se, 0);
    sgs_assert_close(sgs_paretonbd_expected_new(p, t), total / n, 0, 0.01);
    /* identities: at t = 0 nothing can happen; P(alive) = 1 at x = t_x = T = 0 */
    sgs_assert_cmp(sgs_paretonbd_prob_no_purchase(p, 0.0, 2, 3, 9), ==, 1.0);
    sgs_assert_cmp(sgs_paretonbd_expected(p, 0.0, 2, 3, 9), ==, 0.0);
    sgs_assert_close(sgs_paretonbd_p_alive(p, 0, 0, 0), 1.0, 0, 1e-15);
    /* s = 1 exactly: the limit ln(1 + t/(β+T)) */
    double q[4] = {1.0, 2.0, 1.0, 3.0};
    sgs_assert_close(sgs_paretonbd_expected_if_alive(q, 5.0, 0, 0),
                     1.0 * 3.0 / 2.0 * log(1 + 5.0 / 3.0), 0, 1e-14);
}

static void test_degenerate_inputs(void **state)
{
    (void)state;
    /* lifetimes' overflow case: large x, tiny alpha */
    const double p[4] = {10.465, 7.98565181e-03, 3.0516, 2.820};
    const double cases[][3] = {{400, 5, 6}, {500, 1, 37}, {500, 4, 37}, {1e5, 30, 39}, {0, 0, 0}};
    for (int c = 0; c < 5; c++) {
        const double *h = cases[c];
        double g[4];
        double ll = sgs_paretonbd_loglik_one(p, h[0], h[1], h[2], g);
        sgs_assert_finite(ll); /* a density in t_x: may exceed 0 */
        for (int j = 0; j < 4; j++)
            sgs_assert_finite(g[j]);
        double pa = sgs_paretonbd_p_alive(p, h[0], h[1], h[2]);
        double e = sgs_paretonbd_expected(p, 52, h[0], h[1], h[2]);
        double np = sgs_paretonbd_prob_no_purchase(p, 52, h[0], h[1], h[2]);
        sgs_assert_cmp(pa, >=, 0);
        sgs_assert_cmp(pa, <=, 1);
        sgs_assert_finite(e);
        sgs_assert_cmp(e, >=, 0);
        sgs_assert_cmp(np, >=, 0);
        sgs_assert_cmp(np, <=, 1);
    }
    sgs_histories_t hh;
    sgs_fit_t fit;
    sgs_error_t err = {0};
    double x0[] = {0, 0}, t0[] = {0, 0}, T0[] = {5, 9};
    assert_int_equal(sgs_histories_build(&hh, x0, t0, T0, NULL, 2, NULL, NULL), 0);
    assert_int_equal(sgs_paretonbd_fit(&hh, NULL, &fit, NULL, &err), SGS_EDATA);
    sgs_histories_free(&hh);
}

/* Everything a fit can reach is finite: the optimizer keeps |ln θ| <= 40, so parameters run
 * from 4e-18 to 2e17; at 100,000 random points of that box (with x up to 2e4, t_x = T for
 * one in five) the log-likelihood and its gradient are finite, P(alive) and P(no purchase)
 * lie in [0, 1] and expected purchases are finite and >= 0. Seeded; the seed is printed on
 * failure. */
static void test_finite_over_the_reachable_box(void **state)
{
    (void)state;
    const uint64_t seed = 2611;
    for (uint64_t i = 0; i < 100000; i++) {
        double p[4], g[4];
        for (int j = 0; j < 4; j++)
            p[j] = exp(-40.0 + 80.0 * sgs_rng_uniform(seed, (uint64_t)j, i));
        double T = 1.0 + 999.0 * sgs_rng_uniform(seed, 4, i);
        double x = floor(pow(10.0, 4.3 * sgs_rng_uniform(seed, 5, i))) - 1.0;
        double t_x = x == 0.0                            ? 0.0
                     : sgs_rng_uniform(seed, 6, i) < 0.2 ? T
                                                         : T * sgs_rng_uniform(seed, 7, i);
        double ll = sgs_paretonbd_loglik_one(p, x, t_x, T, g);
        double pa = sgs_paretonbd_p_alive(p, x, t_x, T);
        double ex = sgs_paretonbd_expected(p, 365.0, x, t_x, T);
        double np = sgs_paretonbd_prob_no_purchase(p, 365.0, x, t_x, T);
        int ok = isfinite(ll) && pa >= 0.0 && pa <= 1.0 && isfinite(ex) && ex >= 0.0 && np >= 0.0 &&
                 np <= 1.0;
        for (int j = 0; j < 4; j++)
            ok = ok && isfinite(g[j]);
        if (!ok)
            fail_msg("seed %llu point %llu: params %.17g %.17g %.17g %.17g, x %g, t_x %.17g, "
                     "T %.17g: ln L %g, gradient %g %g %g %g, P(alive) %g, E %g, P0 %g",
                     (unsigned long long)seed, (unsigned long long)i, p[0], p[1], p[2], p[3], x,
                     t_x, T, ll, g[0], g[1], g[2], g[3], pa, ex, np);
    }
}

/* ---- Fits that ran away (issue 11) ---------------------------------------------------------- */

/* The largest work of the ₂F₁ over every end term (x, t_x) and (x, T) the likelihood at
 * params evaluates (the arguments as kernels/paretonbd.c forms them), and the number of
 * end terms; fails on any error. */
static int max_end_term_work(const double *p, const sgs_histories_t *h, size_t *n_terms)
{
    int most = 0;
    *n_terms = 0;
    for (size_t i = 0; i < h->n_unique; i++)
        for (int e = 0; e < 2 && h->t_x[i] < h->T[i]; e++) {
            double r = p[0], al = p[1], s = p[2], be = p[3], x = h->x[i];
            double t = e ? h->T[i] : h->t_x[i], k = fmax(al, be), o = fmin(al, be);
            double b = al >= be ? s + 1.0 : r + x, q = al >= be ? r + x : s + 1.0;
            sgs_hyp2f1_t f;
            if (sgs_hyp2f1_ap1_ex(r + s + x, b, q, (k - o) / (k + t), (o + t) / (k + t), &f))
                fail_msg("2F1 failed at x %g t %g", x, t);
            most = f.n_work > most ? f.n_work : most;
            (*n_terms)++;
        }
    return most;
}

/* Fit Pareto/NBD to n simulated customers (T uniform on 1..t_max days, day grid) and check
 * that it ends with finite values, scores every history finitely, and that the work was
 * bounded: evaluations, and ₂F₁ work per end term at the end point (the adaptive quadrature
 * of the old evaluation used up to 1000 intervals of 15 points there). */
static void fit_and_score(sgs_purchase_model_t truth, const double *truth_params, size_t n,
                          double t_max, uint64_t seed, sgs_fit_t *fit)
{
    double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx), *T = malloc(n * sizeof *T);
    assert_non_null(x);
    assert_non_null(tx);
    assert_non_null(T);
    for (size_t i = 0; i < n; i++)
        T[i] = (double)(1 + (int)(t_max * sgs_rng_uniform(seed + 100, 0, i)));
    sgs_exec_t ex = {.n_threads = 2};
    assert_int_equal(sgs_simulate_histories(truth, truth_params, T, n, seed, 1.0, x, tx, &ex, NULL),
                     0);
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, n, &ex, NULL), 0);
    sgs_error_t err = {0};
    int rc = sgs_paretonbd_fit(&h, NULL, fit, &ex, &err);
    if (rc != 0 && rc != SGS_ENOCONVERGE)
        fail_msg("fit failed: %s", err.message);
    sgs_assert_fit(fit, fit->status == SGS_OPTIM_CONVERGED ||
                            fit->status == SGS_OPTIM_LINE_SEARCH_FAILED);
    sgs_assert_finite(fit->log_likelihood);
    sgs_assert_finite(fit->objective);
    for (int j = 0; j < 4; j++) {
        sgs_assert_finite(fit->params[j]);
        sgs_assert_cmp(fit->params[j], >, 0.0);
    }
    /* bounded: three starts of at most a few hundred evaluations (500 iterations allowed) */
    sgs_assert_cmp(fit->n_evaluations, <=, 400);
    size_t n_terms;
    int most = max_end_term_work(fit->params, &h, &n_terms);
    print_message("params %.4g %.4g %.4g %.4g, %d evaluations, %zu end terms, most 2F1 work %d\n",
                  fit->params[0], fit->params[1], fit->params[2], fit->params[3],
                  fit->n_evaluations, n_terms, most);
    sgs_assert_cmp(most, <=, 400);
    /* scores of every history: finite, in range */
    sgs_clv_options_t co = {365.0, 30.0, 0.1, 1.0};
    size_t m = h.n_unique;
    double *pa = malloc(m * sizeof *pa), *ey = malloc(m * sizeof *ey), *np = malloc(m * sizeof *np);
    double *disc = malloc(m * sizeof *disc);
    assert_non_null(pa);
    assert_non_null(ey);
    assert_non_null(np);
    assert_non_null(disc);
    assert_int_equal(sgs_clv_score_histories(SGS_MODEL_PARETONBD, fit->params, &h, &co, pa, ey, np,
                                             disc, &ex, NULL),
                     0);
    for (size_t i = 0; i < m; i++) {
        sgs_assert_cmp(pa[i], >=, 0.0);
        sgs_assert_cmp(pa[i], <=, 1.0);
        sgs_assert_cmp(np[i], >=, 0.0);
        sgs_assert_cmp(np[i], <=, 1.0);
        sgs_assert_finite(ey[i]);
        sgs_assert_cmp(ey[i], >=, 0.0);
        sgs_assert_finite(disc[i]);
        sgs_assert_cmp(disc[i], >=, 0.0);
    }
    sgs_free(pa);
    free(ey);
    sgs_free(np);
    free(disc);
    sgs_histories_free(&h);
    free(x);
    free(tx);
    free(T);
}

/* Issue 11 item 4: on a real retail export (3,046 distinct histories, one year in days) the
 * fit drifted to s = 3.3e-5, beta = 6.3e4 and took 78 s. The same shape: customers who
 * almost never drop out (Pareto/NBD with s = 1e-5, beta = 1e5), buying at heterogeneous rates
 * (r = 0.4, alpha = 8 days), observed 1..373 days: 3,313 distinct histories. */
static void test_fit_drifting_to_no_dropout(void **state)
{
    (void)state;
    const double truth[4] = {0.4, 8.0, 1e-5, 1e5};
    sgs_fit_t fit;
    fit_and_score(SGS_MODEL_PARETONBD, truth, 4372, 373.0, 13, &fit);
    sgs_assert_cmp(fit.params[2], <, 1e-3);
    sgs_assert_cmp(fit.params[3], >, 1e3); /* the corner was reached */
}

/* Issue 11 item 9: 2,000 customers from `segscore generate --r 500 --alpha 2000 --a 0.05
 * --b 20` (BG/NBD, nearly homogeneous rates, few dropouts) over three years: the fit did
 * not finish in 15 minutes. Pareto/NBD runs to the Poisson limit (r, alpha -> infinity
 * together), where the ₂F₁ has a = r+s+x of 1e6 and more and z within 1e-5 of 1. */
static void test_fit_drifting_to_poisson_rates(void **state)
{
    (void)state;
    const double truth[4] = {500.0, 2000.0, 0.05, 20.0};
    sgs_fit_t fit;
    fit_and_score(SGS_MODEL_BGNBD, truth, 2000, 1095.0, 5, &fit);
    sgs_assert_cmp(fit.params[0], >, 1e3); /* the corner was reached */
}

/* Model fits pass the optimizer's time limit through: a limit that has passed before the
 * first evaluation stops the fit at once, with a status saying so. */
static void test_fit_time_limit(void **state)
{
    (void)state;
    const double x[] = {2, 0, 5, 1}, tx[] = {30, 0, 35, 3}, T[] = {39, 20, 39, 10};
    sgs_histories_t h;
    assert_int_equal(sgs_histories_build(&h, x, tx, T, NULL, 4, NULL, NULL), 0);
    sgs_model_fit_options_t o = sgs_model_fit_default_options();
    o.optim.time_limit_s = 1e-12;
    sgs_fit_t fit;
    sgs_error_t err = {0};
    assert_int_equal(sgs_paretonbd_fit(&h, &o, &fit, NULL, &err), SGS_ENOCONVERGE);
    assert_int_equal(fit.status, SGS_OPTIM_TIME_LIMIT);
    sgs_assert_contains(err.message, "time limit");
    sgs_assert_cmp(fit.n_evaluations, <=, 1);
    sgs_histories_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_likelihood_against_quadrature),
        cmocka_unit_test(test_gradient_matches_differences),
        cmocka_unit_test(test_totals_and_threads),
        cmocka_unit_test(test_no_purchase_against_simulation),
        cmocka_unit_test(test_degenerate_inputs),
        cmocka_unit_test(test_finite_over_the_reachable_box),
        cmocka_unit_test(test_fit_drifting_to_no_dropout),
        cmocka_unit_test(test_fit_drifting_to_poisson_rates),
        cmocka_unit_test(test_fit_time_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
