/*
 * kernels/optimizer.c — BFGS on log-parameters with a strong-Wolfe line search, starts,
 * penalty and Hessian standard errors. See optimizer.h.
 *
 * BFGS and the line search follow Nocedal & Wright, "Numerical Optimization" (2nd ed.):
 * inverse-Hessian update (6.17), initial scaling (6.20), line search Algorithms 3.5 and 3.6
 * with safeguarded cubic interpolation (3.59).
 */
#include "kernels/optimizer.h"

#include "kernels/linalg.h"

#include <math.h>
#include <string.h>
#include <time.h>

#define THETA_BOUND 40.0
#define WOLFE_C1 1e-4
#define WOLFE_C2 0.9
#define LS_MAX_EVALS 60
#define MAX_STEP 5.0 /* largest change of one log-parameter in one step */

const char *sgs_optim_status_name(sgs_optim_status_t status)
{
    switch (status) {
    case SGS_OPTIM_CONVERGED:
        return "converged";
    case SGS_OPTIM_MAX_ITER:
        return "max_iter";
    case SGS_OPTIM_LINE_SEARCH_FAILED:
        return "line_search_failed";
    case SGS_OPTIM_NON_FINITE:
        return "non_finite";
    case SGS_OPTIM_TIME_LIMIT:
        return "time_limit";
    }
    return "unknown";
}

void sgs_optim_options_init(sgs_optim_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->max_iter = 500;
    o->gtol = 1e-6;
}

sgs_optim_options_t sgs_optim_default_options(void)
{
    sgs_optim_options_t o;
    sgs_optim_options_init(&o);
    return o;
}

/* ---- Objective ------------------------------------------------------------------------- */

typedef struct objective {
    const sgs_optim_problem_t *p;
    const sgs_optim_options_t *options;
    int n;
    int evaluations;
    int start;     /* the run in progress, for the progress hook */
    double t0;     /* CLOCK_MONOTONIC at the call, seconds */
    int timed_out; /* the time limit was reached: every later evaluation is refused */
    int stopped;   /* options.stop said stop: its code is returned, its message in *err */
    sgs_error_t *err;
} objective_t;

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 1 when the time limit is set and reached (sticky): by this clock, or as options.time_up
 * decides. */
static int out_of_time(objective_t *o)
{
    const sgs_optim_options_t *opt = o->options;
    double limit = opt->time_limit_s;
    if (!o->timed_out && limit > 0.0 && isfinite(limit)) {
        double elapsed = monotonic_s() - o->t0;
        o->timed_out =
            opt->time_up ? opt->time_up(opt->time_up_ctx, elapsed, limit) != 0 : elapsed >= limit;
    }
    return o->timed_out;
}

/* f(θ) and ∇f (grad may be NULL); *f = +inf when θ is out of bounds, LL not finite, or the
 * time limit is reached (nothing is evaluated then). Returns the callback's error code. */
static int objective_eval(objective_t *o, const double *theta, double *f, double *grad)
{
    int n = o->n;
    if (out_of_time(o)) {
        *f = HUGE_VAL;
        return SGS_OK;
    }
    for (int j = 0; j < n; j++)
        if (!(fabs(theta[j]) <= THETA_BOUND)) {
            *f = HUGE_VAL;
            return SGS_OK;
        }
    double ll = 0.0, g[SGS_OPTIM_MAX_PARAMS] = {0};
    o->evaluations++;
    int rc = o->p->loglik(theta, &ll, grad ? g : NULL, o->p->ctx);
    if (rc)
        return rc;
    double w = o->p->total_weight, pen = o->p->penalizer, penalty = 0.0;
    for (int j = 0; j < n; j++)
        penalty += exp(2.0 * theta[j]);
    *f = -ll / w + pen * penalty;
    int finite = isfinite(*f);
    if (grad) {
        for (int j = 0; j < n; j++) {
            grad[j] = -g[j] / w + 2.0 * pen * exp(2.0 * theta[j]);
            finite = finite && isfinite(grad[j]);
        }
    }
    if (!finite)
        *f = HUGE_VAL;
    return SGS_OK;
}

static double dot(const double *a, const double *b, int n)
{
    double s = 0.0;
    for (int j = 0; j < n; j++)
        s += a[j] * b[j];
    return s;
}

static double max_abs(const double *a, int n)
{
    double m = 0.0;
    for (int j = 0; j < n; j++)
        m = fmax(m, fabs(a[j]));
    return m;
}

/* ---- Line search (Nocedal & Wright Algorithms 3.5, 3.6) ------------------------------- */

typedef struct ls_point {
    double a, f, d; /* step, φ(a), φ'(a) */
    double theta[SGS_OPTIM_MAX_PARAMS], grad[SGS_OPTIM_MAX_PARAMS];
} ls_point_t;

static int ls_eval(objective_t *o, const double *theta0, const double *dir, double a,
                   ls_point_t *pt)
{
    int n = o->n;
    pt->a = a;
    for (int j = 0; j < n; j++)
        pt->theta[j] = theta0[j] + a * dir[j];
    int rc = objective_eval(o, pt->theta, &pt->f, pt->grad);
    pt->d = isfinite(pt->f) ? dot(pt->grad, dir, n) : HUGE_VAL;
    return rc;
}

/* Minimizer of the cubic through (a, fa, da), (b, fb, db), kept inside the middle 80% of
 * the interval; bisection when the cubic has no usable minimizer (N&W 3.59). */
static double cubic_step(const ls_point_t *lo, const ls_point_t *hi)
{
    double a = lo->a, b = hi->a, lo_edge = fmin(a, b), width = fabs(b - a);
    double mid = 0.5 * (a + b), t = mid;
    if (isfinite(hi->f) && isfinite(hi->d)) {
        double d1 = lo->d + hi->d - 3.0 * (lo->f - hi->f) / (a - b);
        double disc = d1 * d1 - lo->d * hi->d;
        if (disc >= 0.0) {
            double d2 = (b > a ? 1.0 : -1.0) * sqrt(disc);
            double denom = hi->d - lo->d + 2.0 * d2;
            if (denom != 0.0)
                t = b - (b - a) * (hi->d + d2 - d1) / denom;
        }
    }
    if (!isfinite(t) || t < lo_edge + 0.1 * width || t > lo_edge + 0.9 * width)
        t = mid;
    return t;
}

/* Strong-Wolfe step along dir from (theta0, f0, d0 = ∇f·dir < 0). On success *out is the
 * accepted point and 0 is returned; 1 when no acceptable point was found (out then holds
 * the best point with f < f0 if any, with out->a = 0 when none); < 0 on callback error. */
static int line_search(objective_t *o, const double *theta0, double f0, double d0,
                       const double *dir, double a_init, ls_point_t *out)
{
    ls_point_t prev = {0}, cur = {0}, lo = {0}, hi = {0}, best;
    prev.a = 0.0;
    prev.f = f0;
    prev.d = d0;
    best = prev;
    double a = a_init;
    int evals = 0, rc;
    for (;;) {
        if (evals++ >= LS_MAX_EVALS)
            goto fail;
        if ((rc = ls_eval(o, theta0, dir, a, &cur)) != 0)
            return rc;
        if (cur.f < best.f)
            best = cur;
        if (!isfinite(cur.f)) { /* infeasible: shrink towards the last good point */
            a = prev.a + 0.25 * (a - prev.a);
            if (a - prev.a < 1e-14 * fmax(1.0, a))
                goto fail;
            continue;
        }
        if (cur.f > f0 + WOLFE_C1 * a * d0 || (prev.a > 0.0 && cur.f >= prev.f)) {
            lo = prev;
            hi = cur;
            break;
        }
        if (fabs(cur.d) <= -WOLFE_C2 * d0) {
            *out = cur;
            return 0;
        }
        if (cur.d >= 0.0) {
            lo = cur;
            hi = prev;
            break;
        }
        prev = cur;
        a *= 2.0;
    }
    /* zoom: lo satisfies sufficient decrease and has the lowest f so far */
    for (;;) {
        if (evals++ >= LS_MAX_EVALS || fabs(hi.a - lo.a) < 1e-15 * fmax(1.0, lo.a))
            goto fail;
        double t = cubic_step(&lo, &hi);
        if ((rc = ls_eval(o, theta0, dir, t, &cur)) != 0)
            return rc;
        if (cur.f < best.f)
            best = cur;
        if (!isfinite(cur.f) || cur.f > f0 + WOLFE_C1 * t * d0 || cur.f >= lo.f) {
            hi = cur;
            continue;
        }
        if (fabs(cur.d) <= -WOLFE_C2 * d0) {
            *out = cur;
            return 0;
        }
        if (cur.d * (hi.a - lo.a) >= 0.0)
            hi = lo;
        lo = cur;
    }
fail:
    *out = best;
    return 1;
}

/* ---- BFGS from one start ----------------------------------------------------------------- */

typedef struct run {
    double theta[SGS_OPTIM_MAX_PARAMS], grad[SGS_OPTIM_MAX_PARAMS], f;
    int iterations;
    sgs_optim_status_t status;
} run_t;

static int bfgs(objective_t *o, const double *start, int max_iter, double gtol, run_t *r)
{
    int n = o->n, rc;
    double H[SGS_OPTIM_MAX_PARAMS][SGS_OPTIM_MAX_PARAMS];
    memcpy(r->theta, start, (size_t)n * sizeof *start);
    r->iterations = 0;
    if ((rc = objective_eval(o, r->theta, &r->f, r->grad)) != 0)
        return rc;
    if (!isfinite(r->f)) {
        r->status = o->timed_out ? SGS_OPTIM_TIME_LIMIT : SGS_OPTIM_NON_FINITE;
        return SGS_OK;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            H[i][j] = i == j;
    int first = 1;
    for (;;) {
        if (max_abs(r->grad, n) <= gtol) {
            r->status = SGS_OPTIM_CONVERGED;
            return SGS_OK;
        }
        if (r->iterations >= max_iter) {
            r->status = SGS_OPTIM_MAX_ITER;
            return SGS_OK;
        }
        if (out_of_time(o)) {
            r->status = SGS_OPTIM_TIME_LIMIT;
            return SGS_OK;
        }
        if (o->options->stop && (rc = o->options->stop(o->options->stop_ctx, o->err)) != 0) {
            o->stopped = 1;
            return rc;
        }
        double dir[SGS_OPTIM_MAX_PARAMS];
        for (int i = 0; i < n; i++) {
            dir[i] = 0.0;
            for (int j = 0; j < n; j++)
                dir[i] -= H[i][j] * r->grad[j];
        }
        double d0 = dot(r->grad, dir, n);
        if (!(d0 < 0.0)) { /* not a descent direction: restart from steepest descent */
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++)
                    H[i][j] = i == j;
                dir[i] = -r->grad[i];
            }
            d0 = dot(r->grad, dir, n);
            first = 1;
        }
        double a_init = 1.0, step = max_abs(dir, n);
        if (step * a_init > MAX_STEP)
            a_init = MAX_STEP / step;
        ls_point_t pt = {0};
        rc = line_search(o, r->theta, r->f, d0, dir, a_init, &pt);
        if (rc < 0)
            return rc;
        if (rc == 1 && !(pt.a > 0.0 && pt.f < r->f)) { /* no step: not an iteration */
            r->status = o->timed_out ? SGS_OPTIM_TIME_LIMIT : SGS_OPTIM_LINE_SEARCH_FAILED;
            return SGS_OK;
        }
        r->iterations++;
        double s[SGS_OPTIM_MAX_PARAMS], y[SGS_OPTIM_MAX_PARAMS];
        for (int j = 0; j < n; j++) {
            s[j] = pt.theta[j] - r->theta[j];
            y[j] = pt.grad[j] - r->grad[j];
        }
        memcpy(r->theta, pt.theta, (size_t)n * sizeof *r->theta);
        memcpy(r->grad, pt.grad, (size_t)n * sizeof *r->grad);
        r->f = pt.f;
        if (o->options->progress) {
            sgs_optim_progress_t pr = {o->start,       r->iterations,
                                       r->f,           max_abs(r->grad, n),
                                       o->evaluations, monotonic_s() - o->t0};
            o->options->progress(&pr, o->options->progress_ctx);
        }
        if (o->timed_out) { /* the line search was cut short; keep the point it found */
            r->status = SGS_OPTIM_TIME_LIMIT;
            return SGS_OK;
        }
        double sy = dot(s, y, n);
        if (sy > 1e-12 * sqrt(dot(s, s, n) * dot(y, y, n))) {
            if (first) { /* N&W (6.20) */
                double scale = sy / dot(y, y, n);
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                        H[i][j] = (i == j) * scale;
                first = 0;
            }
            /* H <- (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ, ρ = 1 / yᵀs (N&W 6.17) */
            double rho = 1.0 / sy, Hy[SGS_OPTIM_MAX_PARAMS];
            for (int i = 0; i < n; i++) {
                Hy[i] = 0.0;
                for (int j = 0; j < n; j++)
                    Hy[i] += H[i][j] * y[j];
            }
            double yHy = dot(y, Hy, n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    H[i][j] += -rho * (Hy[i] * s[j] + s[i] * Hy[j]) +
                               (rho * rho * yHy + rho) * s[i] * s[j];
        }
    }
}

/* ---- Standard errors --------------------------------------------------------------------- */

static int standard_errors(objective_t *o, const double *theta, sgs_fit_t *fit)
{
    int n = o->n, rc;
    double hess[SGS_OPTIM_MAX_PARAMS * SGS_OPTIM_MAX_PARAMS];
    const double h = 1e-4;
    if (o->p->hessian) {
        o->evaluations++;
        if ((rc = o->p->hessian(theta, hess, o->p->ctx)) != 0)
            return rc;
        /* N f = -LL + N pen Σ e^(2θ): add the penalty's diagonal 4 N pen e^(2θ_j) */
        for (int i = 0; i < n * n; i++)
            hess[i] = -hess[i];
        for (int j = 0; j < n; j++)
            hess[j * n + j] += 4.0 * fit->total_weight * fit->penalizer * exp(2.0 * theta[j]);
        for (int i = 0; i < n * n; i++)
            if (!isfinite(hess[i]))
                return SGS_OK;
    }
    for (int j = 0; j < n && !o->p->hessian; j++) {
        double tp[SGS_OPTIM_MAX_PARAMS], tm[SGS_OPTIM_MAX_PARAMS];
        double gp[SGS_OPTIM_MAX_PARAMS], gm[SGS_OPTIM_MAX_PARAMS], fp, fm;
        memcpy(tp, theta, (size_t)n * sizeof *tp);
        memcpy(tm, theta, (size_t)n * sizeof *tm);
        tp[j] += h;
        tm[j] -= h;
        if ((rc = objective_eval(o, tp, &fp, gp)) != 0 ||
            (rc = objective_eval(o, tm, &fm, gm)) != 0)
            return rc;
        if (!isfinite(fp) || !isfinite(fm))
            return SGS_OK; /* hessian_ok stays 0 */
        for (int i = 0; i < n; i++)
            hess[i * n + j] = (gp[i] - gm[i]) / (2.0 * h) * fit->total_weight;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) {
            double v = 0.5 * (hess[i * n + j] + hess[j * n + i]);
            hess[i * n + j] = hess[j * n + i] = v;
        }
    double work[SGS_OPTIM_MAX_PARAMS * SGS_OPTIM_MAX_PARAMS];
    if (sgs_linalg_spd_inverse(hess, (size_t)n, work) != SGS_OK)
        return SGS_OK; /* not positive definite: hessian_ok stays 0 */
    for (int i = 0; i < n; i++) {
        if (!(hess[i * n + i] > 0.0))
            return SGS_OK;
        for (int j = 0; j < n; j++)
            fit->cov[i][j] = fit->params[i] * fit->params[j] * hess[i * n + j];
    }
    for (int j = 0; j < n; j++)
        fit->std_err[j] = fit->params[j] * sqrt(hess[j * n + j]);
    fit->hessian_ok = 1;
    return SGS_OK;
}

/* ---- Driver ---------------------------------------------------------------------------------- */

int sgs_optim_minimize(const sgs_optim_problem_t *problem, const sgs_optim_options_t *options,
                       sgs_fit_t *fit, sgs_error_t *err)
{
    const sgs_optim_problem_t *p = problem;
    if (!p || !fit || !p->loglik || p->n_params < 1 || p->n_params > SGS_OPTIM_MAX_PARAMS ||
        p->n_starts < 1 || p->n_starts > SGS_OPTIM_MAX_STARTS || !p->starts ||
        !(p->total_weight > 0.0) || !(p->penalizer >= 0.0))
        return sgs_error_set(err, SGS_EINVAL, "optimizer: malformed problem");
    sgs_optim_options_t o = options ? *options : sgs_optim_default_options();
    if (o.max_iter <= 0)
        o.max_iter = 500;
    if (!(o.gtol > 0.0))
        o.gtol = 1e-6;
    int n = p->n_params, rc;
    objective_t obj = {.p = p, .options = &o, .n = n, .t0 = monotonic_s(), .err = err};

    memset(fit, 0, sizeof *fit);
    fit->n_params = n;
    fit->total_weight = p->total_weight;
    fit->penalizer = p->penalizer;
    for (int i = 0; i < SGS_OPTIM_MAX_PARAMS; i++) {
        fit->std_err[i] = NAN;
        for (int j = 0; j < SGS_OPTIM_MAX_PARAMS; j++)
            fit->cov[i][j] = NAN;
    }

    /* order the starts by their objective value (stable: ties keep their order) */
    int order[SGS_OPTIM_MAX_STARTS];
    double f_start[SGS_OPTIM_MAX_STARTS];
    for (int k = 0; k < p->n_starts; k++) {
        if ((rc = objective_eval(&obj, p->starts + k * n, &f_start[k], NULL)) != 0)
            return sgs_error_set(err, rc, "optimizer: likelihood failed: %s", sgs_strerror(rc));
        int pos = k;
        while (pos > 0 && f_start[order[pos - 1]] > f_start[k]) {
            order[pos] = order[pos - 1];
            pos--;
        }
        order[pos] = k;
    }

    run_t best = {0}, r;
    int have_best = 0, best_start = order[0];
    best.status = SGS_OPTIM_NON_FINITE;
    best.f = HUGE_VAL;
    memcpy(best.theta, p->starts + order[0] * n, (size_t)n * sizeof *best.theta);
    for (int k = 0; k < p->n_starts; k++) {
        int s = order[k];
        if (!isfinite(f_start[s]))
            break; /* the rest are not finite either */
        if (obj.timed_out)
            break;
        obj.start = s;
        if ((rc = bfgs(&obj, p->starts + s * n, o.max_iter, o.gtol, &r)) != 0)
            return obj.stopped ? rc
                               : sgs_error_set(err, rc, "optimizer: likelihood failed: %s",
                                               sgs_strerror(rc));
        fit->n_starts_run++;
        int r_conv = r.status == SGS_OPTIM_CONVERGED;
        int b_conv = have_best && best.status == SGS_OPTIM_CONVERGED;
        if (!have_best || (r_conv && !b_conv) || (r_conv == b_conv && r.f < best.f)) {
            best = r;
            best_start = s;
            have_best = 1;
        }
        if (r_conv && !o.run_all_starts)
            break;
    }

    fit->start_index = best_start;
    fit->iterations = best.iterations;
    fit->objective = best.f;
    fit->grad_norm = have_best ? max_abs(best.grad, n) : HUGE_VAL;
    for (int j = 0; j < n; j++) {
        fit->log_params[j] = best.theta[j];
        fit->params[j] = exp(best.theta[j]);
    }
    fit->log_likelihood = -HUGE_VAL;
    if (have_best && isfinite(best.f)) {
        obj.evaluations++;
        if ((rc = p->loglik(best.theta, &fit->log_likelihood, NULL, p->ctx)) != 0)
            return sgs_error_set(err, rc, "optimizer: likelihood failed: %s", sgs_strerror(rc));
    }
    if (obj.timed_out && best.status != SGS_OPTIM_CONVERGED)
        best.status = SGS_OPTIM_TIME_LIMIT; /* e.g. when it struck while the starts were ranked */
    fit->status = best.status;
    fit->converged = best.status == SGS_OPTIM_CONVERGED;
    if (have_best && isfinite(best.f) && !o.no_hessian && !obj.timed_out) {
        if ((rc = standard_errors(&obj, best.theta, fit)) != 0)
            return sgs_error_set(err, rc, "optimizer: likelihood failed: %s", sgs_strerror(rc));
    }
    fit->n_evaluations = obj.evaluations;
    if (fit->status == SGS_OPTIM_TIME_LIMIT)
        return sgs_error_set(err, SGS_ENOCONVERGE,
                             "model fit stopped by its time limit of %.3g s after %d "
                             "iterations (%d of %d starts run; max |gradient| %.3g, tolerance "
                             "%.3g)",
                             o.time_limit_s, fit->iterations, fit->n_starts_run, p->n_starts,
                             fit->grad_norm, o.gtol);
    if (!fit->converged)
        return sgs_error_set(err, SGS_ENOCONVERGE,
                             "model fit did not converge (%s after %d iterations, %d of %d "
                             "starts; max |gradient| %.3g, tolerance %.3g)",
                             sgs_optim_status_name(fit->status), fit->iterations, fit->n_starts_run,
                             p->n_starts, fit->grad_norm, o.gtol);
    return SGS_OK;
}
