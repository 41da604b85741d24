/*
 * tests/unit/test_optimizer.c — BFGS on log-parameters: closed-form maximum likelihood
 * estimates and standard errors, Rosenbrock, the lifetimes-style penalty, the choice among
 * starting points, honest reports of fits that cannot converge, the progress hook and the
 * wall-time limit, decided by the fit's clock or by the caller's decision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/optimizer.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* Exponential waiting times (n, Σy) for rate λ = e^θ0 and Poisson counts (n, Σk) for mean
 * μ = e^θ1: LL = n ln λ - λ Σy + Σk ln μ - n μ. MLE λ = n/Σy, μ = Σk/n; observed
 * information n/λ² and n/μ, so SE(λ) = λ/√n, SE(μ) = √(μ/n). */
typedef struct expo {
    double n, sum_y, sum_k;
} expo_t;

static int expo_ll(const double *th, double *ll, double *g, void *ctx)
{
    const expo_t *d = ctx;
    double lam = exp(th[0]), mu = exp(th[1]);
    *ll = d->n * th[0] - lam * d->sum_y + d->sum_k * th[1] - d->n * mu;
    if (g) {
        g[0] = d->n - lam * d->sum_y;
        g[1] = d->sum_k - d->n * mu;
    }
    return 0;
}

static void test_closed_form_mle_and_standard_errors(void **state)
{
    (void)state;
    expo_t d = {400.0, 1600.0, 2400.0}; /* λ = 0.25, μ = 6 */
    double starts[] = {0.0, 0.0, 3.0, -2.0};
    sgs_optim_problem_t p = {2, expo_ll, &d, d.n, 0.0, 2, starts, NULL};
    sgs_fit_t fit;
    sgs_optim_options_t o = sgs_optim_default_options();
    o.gtol = 1e-10;
    assert_int_equal(sgs_optim_minimize(&p, &o, &fit, NULL), 0);
    sgs_assert_fit(&fit, fit.converged);
    assert_int_equal(fit.status, SGS_OPTIM_CONVERGED);
    sgs_assert_close(fit.params[0], 0.25, 0, 1e-9);
    sgs_assert_close(fit.params[1], 6.0, 0, 1e-9);
    sgs_assert_close(fit.std_err[0], 0.25 / 20.0, 0, 1e-6);
    sgs_assert_close(fit.std_err[1], sqrt(6.0 / 400.0), 0, 1e-6);
    sgs_assert_close(fit.cov[0][1], 0.0, 1e-10, 0);
    sgs_assert_fit(&fit, fit.hessian_ok);
    double ll = 400 * log(0.25) - 400 + 2400 * log(6.0) - 2400;
    sgs_assert_close(fit.log_likelihood, ll, 0, 1e-13);
    sgs_assert_close(fit.objective, -ll / 400.0, 0, 1e-13);
    sgs_assert_cmp(fit.grad_norm, <=, 1e-10);
    assert_int_equal(fit.n_starts_run, 1);
    sgs_assert_cmp(fit.iterations, >, 0);
    sgs_assert_cmp(fit.n_evaluations, >, fit.iterations);
}

/* LL = -N [100 (θ1 - θ0²)² + (1 - θ0)²]: minimum at θ = (1, 1). */
static int rosen_ll(const double *th, double *ll, double *g, void *ctx)
{
    (void)ctx;
    double a = th[1] - th[0] * th[0], b = 1.0 - th[0];
    *ll = -(100.0 * a * a + b * b);
    if (g) {
        g[0] = -(-400.0 * a * th[0] - 2.0 * b);
        g[1] = -(200.0 * a);
    }
    return 0;
}

static void test_rosenbrock(void **state)
{
    (void)state;
    double starts[] = {-1.2, 1.0};
    sgs_optim_problem_t p = {2, rosen_ll, NULL, 1.0, 0.0, 1, starts, NULL};
    sgs_fit_t fit;
    sgs_optim_options_t o = sgs_optim_default_options();
    o.gtol = 1e-9;
    assert_int_equal(sgs_optim_minimize(&p, &o, &fit, NULL), 0);
    sgs_assert_close(fit.log_params[0], 1.0, 1e-7, 0);
    sgs_assert_close(fit.log_params[1], 1.0, 1e-7, 0);
    sgs_assert_cmp(fit.iterations, <, 100);
}

/* The exponential part of expo_ll alone: LL = n ln λ - λ Σy, one parameter. (Calling expo_ll
 * with n_params = 1 read θ1 from beyond the parameters: uninitialized stack.) */
static int expo_rate_ll(const double *th, double *ll, double *g, void *ctx)
{
    const expo_t *d = ctx;
    double lam = exp(th[0]);
    *ll = d->n * th[0] - lam * d->sum_y;
    if (g)
        g[0] = d->n - lam * d->sum_y;
    return 0;
}

static void test_penalty_is_on_natural_parameters(void **state)
{
    (void)state;
    /* exponential only: minimize -(n ln λ - λ S)/n + c λ² -> 2c λ² + (S/n) λ - 1 = 0 */
    expo_t d = {400.0, 1600.0, 0.0};
    double c = 0.5, m = d.sum_y / d.n;
    double lam = (-m + sqrt(m * m + 8.0 * c)) / (4.0 * c);
    double starts[] = {0.0};
    /* the Poisson part has Σk = 0: its MLE is at μ -> 0, the penalty does not stop that,
       so fit λ alone through a one-parameter wrapper */
    sgs_optim_problem_t p = {1, expo_rate_ll, &d, d.n, c, 1, starts, NULL};
    sgs_fit_t fit;
    sgs_optim_options_t o = sgs_optim_default_options();
    o.gtol = 1e-12;
    assert_int_equal(sgs_optim_minimize(&p, &o, &fit, NULL), 0);
    sgs_assert_close(fit.params[0], lam, 0, 1e-9);
    sgs_assert_cmp(fit.params[0], <, 0.25);
}

/* f(θ) = (θ² - 1)² + 0.3 θ: local minimum near +0.96, global near -1.04. */
static int wells_ll(const double *th, double *ll, double *g, void *ctx)
{
    (void)ctx;
    double t = th[0];
    *ll = -((t * t - 1) * (t * t - 1) + 0.3 * t);
    if (g)
        g[0] = -(4.0 * t * (t * t - 1) + 0.3);
    return 0;
}

static void test_starts_ordered_and_all_run(void **state)
{
    (void)state;
    double starts[] = {0.9, -0.3}; /* f(0.9) = 0.3061 < f(-0.3) = 0.7381 */
    sgs_optim_problem_t p = {1, wells_ll, NULL, 1.0, 0.0, 2, starts, NULL};
    sgs_fit_t fit;
    /* default: best start first, first converged kept -> the local minimum */
    assert_int_equal(sgs_optim_minimize(&p, NULL, &fit, NULL), 0);
    assert_int_equal(fit.start_index, 0);
    assert_int_equal(fit.n_starts_run, 1);
    sgs_assert_cmp(fit.log_params[0], >, 0.9);
    /* run_all_starts: the global minimum wins */
    sgs_optim_options_t o = sgs_optim_default_options();
    o.run_all_starts = 1;
    assert_int_equal(sgs_optim_minimize(&p, &o, &fit, NULL), 0);
    assert_int_equal(fit.start_index, 1);
    assert_int_equal(fit.n_starts_run, 2);
    sgs_assert_cmp(fit.log_params[0], <, -1.0);
}

static int unbounded_ll(const double *th, double *ll, double *g, void *ctx)
{
    (void)ctx;
    *ll = th[0]; /* sup at θ -> +inf */
    if (g)
        g[0] = 1.0;
    return 0;
}

static int nan_ll(const double *th, double *ll, double *g, void *ctx)
{
    (void)ctx;
    (void)th;
    *ll = NAN;
    if (g)
        g[0] = NAN;
    return 0;
}

static int failing_ll(const double *th, double *ll, double *g, void *ctx)
{
    (void)ctx;
    (void)th;
    (void)ll;
    (void)g;
    return SGS_ENOMEM;
}

static void test_non_convergence_is_reported(void **state)
{
    (void)state;
    double start[] = {0.0};
    sgs_optim_problem_t p = {1, unbounded_ll, NULL, 1.0, 0.0, 1, start, NULL};
    sgs_fit_t fit;
    sgs_error_t err = {0};
    assert_int_equal(sgs_optim_minimize(&p, NULL, &fit, &err), SGS_ENOCONVERGE);
    sgs_assert_fit(&fit, !fit.converged);
    sgs_assert_fit(&fit,
                   fit.status == SGS_OPTIM_LINE_SEARCH_FAILED || fit.status == SGS_OPTIM_MAX_ITER);
    sgs_assert_finite(fit.params[0]);
    sgs_assert_finite(fit.objective);
    sgs_assert_cmp(fit.log_params[0], <=, 40.0);
    sgs_assert_contains(err.message, "did not converge");

    p.loglik = nan_ll;
    assert_int_equal(sgs_optim_minimize(&p, NULL, &fit, &err), SGS_ENOCONVERGE);
    assert_int_equal(fit.status, SGS_OPTIM_NON_FINITE);
    sgs_assert_contains(err.message, "non_finite");

    p.loglik = failing_ll;
    assert_int_equal(sgs_optim_minimize(&p, NULL, &fit, &err), SGS_ENOMEM);

    p.n_starts = 0;
    assert_int_equal(sgs_optim_minimize(&p, NULL, &fit, &err), SGS_EINVAL);
}

/* Progress hook: records what it sees. */
typedef struct seen {
    int calls, last_start, last_iteration, last_evaluations, ordered;
    double last_objective, last_grad, last_elapsed;
} seen_t;

static void record_progress(const sgs_optim_progress_t *pr, void *ctx)
{
    seen_t *s = ctx;
    /* within one start: iterations count 1, 2, ...; the objective never rises; evaluations
       and elapsed time never go back */
    int same_start = s->calls > 0 && pr->start == s->last_start;
    if (pr->iteration != (same_start ? s->last_iteration + 1 : 1) ||
        (same_start && pr->objective > s->last_objective) ||
        pr->n_evaluations <= s->last_evaluations || pr->elapsed_s < s->last_elapsed ||
        !(pr->grad_norm >= 0.0))
        s->ordered = 0;
    s->calls++;
    s->last_start = pr->start;
    s->last_iteration = pr->iteration;
    s->last_objective = pr->objective;
    s->last_grad = pr->grad_norm;
    s->last_evaluations = pr->n_evaluations;
    s->last_elapsed = pr->elapsed_s;
}

static void test_progress_hook_sees_every_iteration(void **state)
{
    (void)state;
    double starts[] = {-1.2, 1.0};
    sgs_optim_problem_t p = {2, rosen_ll, NULL, 1.0, 0.0, 1, starts, NULL};
    sgs_fit_t fit;
    seen_t seen = {0, -1, 0, 0, 1, 0, 0, 0};
    sgs_optim_options_t o = sgs_optim_default_options();
    o.gtol = 1e-9;
    o.progress = record_progress;
    o.progress_ctx = &seen;
    assert_int_equal(sgs_optim_minimize(&p, &o, &fit, NULL), 0);
    sgs_assert_cmp(fit.iterations, >, 10);
    assert_int_equal(seen.calls, fit.iterations);
    assert_int_equal(seen.last_iteration, fit.iterations);
    if (!seen.ordered)
        fail_msg("the %d progress reports were out of order", seen.calls);
    sgs_assert_close(seen.last_objective, fit.objective, 0, 0);
    sgs_assert_close(seen.last_grad, fit.grad_norm, 0, 0);
    sgs_assert_cmp(seen.last_evaluations, <, fit.n_evaluations); /* + final LL and Hessian */

    /* every start is reported, under its own index */
    double two[] = {0.9, -0.3};
    sgs_optim_problem_t w = {1, wells_ll, NULL, 1.0, 0.0, 2, two, NULL};
    seen_t seen2 = {0, -1, 0, 0, 1, 0, 0, 0};
    o.progress_ctx = &seen2;
    o.run_all_starts = 1;
    o.gtol = 1e-6;
    assert_int_equal(sgs_optim_minimize(&w, &o, &fit, NULL), 0);
    assert_int_equal(fit.n_starts_run, 2);
    if (!seen2.ordered)
        fail_msg("the %d progress reports were out of order", seen2.calls);
    assert_int_equal(seen2.last_start, 1); /* ranked second, run second */
}

/* Rosenbrock that takes 20 ms per evaluation, counting its evaluations. */
static int slow_rosen_ll(const double *th, double *ll, double *g, void *ctx)
{
    int *count = ctx;
    (*count)++;
    struct timespec ts = {0, 20000000L};
    nanosleep(&ts, NULL);
    return rosen_ll(th, ll, g, NULL);
}

static void test_time_limit_stops_a_slow_fit(void **state)
{
    (void)state;
    double starts[] = {-1.2, 1.0, 2.0, 2.0, -2.0, 3.0};
    int count = 0;
    sgs_optim_problem_t p = {2, slow_rosen_ll, &count, 1.0, 0.0, 3, starts, NULL};
    sgs_fit_t fit;
    sgs_error_t err = {0};
    seen_t seen = {0, -1, 0, 0, 1, 0, 0, 0};
    sgs_optim_options_t o = sgs_optim_default_options();
    o.gtol = 1e-9;
    o.max_iter = 100000;
    o.run_all_starts = 1;
    o.time_limit_s = 0.2;
    o.progress = record_progress;
    o.progress_ctx = &seen;
    assert_int_equal(sgs_optim_minimize(&p, &o, &fit, &err), SGS_ENOCONVERGE);
    assert_int_equal(fit.status, SGS_OPTIM_TIME_LIMIT);
    sgs_assert_fit(&fit, !fit.converged);
    assert_string_equal(sgs_optim_status_name(fit.status), "time_limit");
    sgs_assert_contains(err.message, "time limit");
    /* 20 ms each: at most 0.2 / 0.02 evaluations before the limit, then the final
       log-likelihood; none for standard errors; the later starts never ran */
    sgs_assert_cmp(count, <=, 11);
    assert_int_equal(fit.n_evaluations, count);
    sgs_assert_fit(&fit, !fit.hessian_ok);
    sgs_assert_nan(fit.std_err[0]);
    assert_int_equal(fit.n_starts_run, 1);
    /* the point reached is kept, finite, and no worse than the start */
    sgs_assert_finite(fit.log_likelihood);
    sgs_assert_finite(fit.objective);
    sgs_assert_cmp(fit.objective, <=, 100.0 * (1.0 - 1.44) * (1.0 - 1.44) + 2.2 * 2.2);
    assert_int_equal(seen.calls, fit.iterations);
    if (!seen.ordered)
        fail_msg("the %d progress reports were out of order", seen.calls);
}

/* A time-limit decision (options.time_up) that says the time is up on its `up_at`-th call,
 * recording what it was asked. */
typedef struct decider {
    int calls, up_at;
    double limit_seen, elapsed_before;
    int elapsed_ordered;
} decider_t;

static int up_at_call(void *ctx, double elapsed_s, double limit_s)
{
    decider_t *d = ctx;
    d->calls++;
    d->limit_seen = limit_s;
    d->elapsed_ordered = d->elapsed_ordered && elapsed_s >= d->elapsed_before && elapsed_s >= 0;
    d->elapsed_before = elapsed_s;
    return d->calls >= d->up_at;
}

/* options.time_up decides instead of the fit's own clock: asked at each check (never once it
 * said 1), the fit stops at the check where it first says 1, with the time limit's status, and
 * the same answers give the same fit bit for bit whatever the time taken; one that never says
 * 1 leaves the fit as without a limit. This is how a spread run's processes all stop at the same
 * check, on process 0's clock (engine/dist_run.h sgs_dist_run_fit_time_up). */
static void test_time_up_decides_instead_of_the_clock(void **state)
{
    (void)state;
    double starts[] = {-1.2, 1.0, 2.0, 2.0};
    sgs_optim_problem_t p = {2, rosen_ll, NULL, 1.0, 0.0, 2, starts, NULL};
    sgs_optim_options_t o = sgs_optim_default_options();
    o.time_limit_s = 1e6; /* never reached by the clock */
    o.time_up = up_at_call;
    sgs_fit_t plain, never, first, again;
    assert_int_equal(sgs_optim_minimize(&p, NULL, &plain, NULL), 0);
    decider_t d = {0, 1 << 30, 0, 0, 1};
    o.time_up_ctx = &d;
    assert_int_equal(sgs_optim_minimize(&p, &o, &never, NULL), 0);
    sgs_assert_cmp(d.calls, >, never.iterations); /* each iteration and evaluation */
    sgs_assert_cmp(d.limit_seen, ==, 1e6);
    assert_true(d.elapsed_ordered);
    assert_int_equal(never.status, SGS_OPTIM_CONVERGED);
    sgs_assert_close(never.params[0], plain.params[0], 0, 0);
    sgs_assert_close(never.params[1], plain.params[1], 0, 0);
    int checks = d.calls;
    /* up at a check: stopped there, the same way twice; from a check of the standard errors on
     * the fit has converged and only they are lost (as with the fit's own clock) */
    for (int at = 1; at <= checks; at += checks / 7 + 1) {
        sgs_error_t err = {0};
        d = (decider_t){0, at, 0, 0, 1};
        int rc = sgs_optim_minimize(&p, &o, &first, &err);
        assert_int_equal(d.calls, at); /* never asked again */
        if (rc == SGS_ENOCONVERGE) {
            assert_int_equal(first.status, SGS_OPTIM_TIME_LIMIT);
            sgs_assert_contains(err.message, "time limit");
            sgs_assert_cmp(first.iterations, <=, never.iterations);
        } else {
            assert_int_equal(rc, SGS_OK);
            sgs_assert_fit(&first, first.converged && !first.hessian_ok);
            sgs_assert_cmp(at, >, 1);
        }
        d = (decider_t){0, at, 0, 0, 1};
        assert_int_equal(sgs_optim_minimize(&p, &o, &again, NULL), rc);
        if (memcmp(&first, &again, sizeof first) != 0)
            fail_msg("up at check %d: two fits with the same answers differ", at);
    }
    /* without a limit the decision is never asked */
    o.time_limit_s = 0;
    d = (decider_t){0, 1, 0, 0, 1};
    assert_int_equal(sgs_optim_minimize(&p, &o, &first, NULL), 0);
    assert_int_equal(d.calls, 0);
}

/* A stop check that says stop on its third call (engine/: a signal came). */
static int stop_on_third(void *ctx, sgs_error_t *err)
{
    int *calls = ctx;
    if (++*calls < 3)
        return SGS_OK;
    return sgs_error_set(err, SGS_EINTR, "stopped by SIGTERM during a model fit");
}

/* The stop check is asked before every iteration; when it says stop, the fit ends at once
 * with its code and its message, not a "likelihood failed". */
static void test_stop_check_ends_the_fit(void **state)
{
    (void)state;
    double starts[] = {-1.2, 1.0};
    sgs_optim_problem_t p = {2, rosen_ll, NULL, 1.0, 0.0, 1, starts, NULL};
    sgs_fit_t fit;
    sgs_error_t err = {0};
    int calls = 0;
    sgs_optim_options_t o = sgs_optim_default_options();
    o.stop = stop_on_third;
    o.stop_ctx = &calls;
    assert_int_equal(sgs_optim_minimize(&p, &o, &fit, &err), SGS_EINTR);
    assert_int_equal(calls, 3);
    assert_string_equal(err.message, "stopped by SIGTERM during a model fit");
    /* a check that never says stop changes nothing */
    calls = -1000000;
    sgs_fit_t plain;
    assert_int_equal(sgs_optim_minimize(&p, &o, &fit, NULL), 0);
    assert_int_equal(sgs_optim_minimize(&p, NULL, &plain, NULL), 0);
    sgs_assert_close(fit.params[0], plain.params[0], 0, 0);
    sgs_assert_cmp(calls, >, -1000000 + fit.iterations - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form_mle_and_standard_errors),
        cmocka_unit_test(test_rosenbrock),
        cmocka_unit_test(test_progress_hook_sees_every_iteration),
        cmocka_unit_test(test_time_limit_stops_a_slow_fit),
        cmocka_unit_test(test_time_up_decides_instead_of_the_clock),
        cmocka_unit_test(test_stop_check_ends_the_fit),
        cmocka_unit_test(test_penalty_is_on_natural_parameters),
        cmocka_unit_test(test_starts_ordered_and_all_run),
        cmocka_unit_test(test_non_convergence_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
