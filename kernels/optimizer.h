/*
 * kernels/optimizer.h — maximum likelihood for the lifetime value models: quasi-Newton
 * (BFGS with a strong-Wolfe line search) on log-parameters, several starting points, an
 * optional L2 penalty like lifetimes' penalizer_coef, convergence diagnostics, and standard
 * errors from the Hessian.
 *
 * The objective minimized is lifetimes' (fitters/beta_geo_fitter.py, _negative_log_likelihood):
 *
 *     f(θ) = -LL(exp θ) / N + penalizer · Σ_j exp(θ_j)²
 *
 * with θ the log-parameters, LL the weighted total log-likelihood, N the total weight
 * (customers): the penalty is on the natural parameters, as lifetimes does. (lifetimes
 * rescales time by 10 / max(T) before fitting, so its penalty acts on the rescaled scale
 * parameter; here it acts on the parameters in the caller's time unit. With penalizer 0,
 * the default, the two agree.)
 *
 * Bounds on the work: at most max_iter BFGS iterations per start (each a line search of at
 * most 60 likelihood evaluations), and, when time_limit_s > 0, a wall-time limit on the whole
 * minimization, checked before every likelihood evaluation and every iteration: a fit that
 * reaches it stops at the best point found so far with status SGS_OPTIM_TIME_LIMIT (one more
 * evaluation gives its log-likelihood; no standard errors). Who decides that the limit is
 * reached may be the caller's (options.time_up): a fit run alike by several processes asks one
 * clock for all of them, so that all stop at the same check. An optional progress hook sees every
 * iteration; kernels never print, the caller decides what to show.
 *
 * Convergence: max_j |∂f/∂θ_j| <= gtol. Parameters with |θ_j| > 40 are treated as
 * infeasible (objective +inf), which keeps exp(θ) finite; a fit running off to such a
 * boundary ends as "line search failed" or "max iterations", never with NaN.
 *
 * Standard errors: the Hessian of N·f at the optimum, analytic when the problem has a Hessian
 * callback, else by central differences (step 1e-4) of the analytic gradient, symmetrized, inverted
 * by Cholesky (kernels/linalg.h): Cov(θ) = (N ∇²f)^-1 — the inverse observed information,
 * including the penalty when there is one. For the natural parameters p_j = exp(θ_j), by the delta
 * method, Cov(p_i, p_j) = p_i p_j Cov(θ_i, θ_j) and SE(p_j) = p_j sqrt(Cov(θ_j, θ_j)).
 *
 * Everything is serial and deterministic; parallelism lives in the likelihood callbacks.
 */
#ifndef SGS_OPTIMIZER_H
#define SGS_OPTIMIZER_H

#include "kernels/core.h"

#define SGS_OPTIM_MAX_PARAMS 4
#define SGS_OPTIM_MAX_STARTS 8

/* Why the minimization stopped. */
typedef enum sgs_optim_status {
    SGS_OPTIM_CONVERGED = 0,          /* gradient criterion met */
    SGS_OPTIM_MAX_ITER = 1,           /* iteration limit reached first */
    SGS_OPTIM_LINE_SEARCH_FAILED = 2, /* no step gave sufficient decrease */
    SGS_OPTIM_NON_FINITE = 3,         /* objective not finite at every starting point */
    SGS_OPTIM_TIME_LIMIT = 4          /* options.time_limit_s reached first */
} sgs_optim_status_t;

/* "converged", "max_iter", "line_search_failed", "non_finite", "time_limit". */
const char *sgs_optim_status_name(sgs_optim_status_t status);

/* Log-likelihood callback. theta: [n_params] log-parameters. Writes the weighted total
 * log-likelihood to *ll and, when grad is not NULL, its gradient with respect to theta to
 * grad[0..n_params). A non-finite *ll is allowed (the point is infeasible). Returns 0, or a
 * negative SGS_E* code that aborts the fit. */
typedef int (*sgs_loglik_fn)(const double *theta, double *ll, double *grad, void *ctx);

/* Optional Hessian callback: the matrix of second derivatives of the weighted total
 * log-likelihood with respect to theta, written row-major to hess[n_params * n_params].
 * When given, the standard errors use it instead of differences of the gradient. */
typedef int (*sgs_loglik_hessian_fn)(const double *theta, double *hess, void *ctx);

typedef struct sgs_optim_problem {
    int n_params;                  /* 1..SGS_OPTIM_MAX_PARAMS */
    sgs_loglik_fn loglik;          /* see above */
    void *ctx;                     /* passed to loglik */
    double total_weight;           /* N > 0: the objective is per customer */
    double penalizer;              /* >= 0, lifetimes' penalizer_coef */
    int n_starts;                  /* 1..SGS_OPTIM_MAX_STARTS */
    const double *starts;          /* [n_starts * n_params] starting log-parameters */
    sgs_loglik_hessian_fn hessian; /* optional, NULL: central differences of the gradient */
} sgs_optim_problem_t;

/* What the progress hook sees, once per completed BFGS iteration. */
typedef struct sgs_optim_progress {
    int start;         /* index into problem.starts of the run in progress */
    int iteration;     /* iterations of that run so far, >= 1 */
    double objective;  /* f at the current point */
    double grad_norm;  /* max_j |∂f/∂θ_j| there */
    int n_evaluations; /* likelihood evaluations so far, every start included */
    double elapsed_s;  /* wall time since sgs_optim_minimize was called, seconds */
} sgs_optim_progress_t;

/* Progress hook: called from the thread that called sgs_optim_minimize, between likelihood
 * evaluations (never concurrently). It cannot stop the fit; time_limit_s does. */
typedef void (*sgs_optim_progress_fn)(const sgs_optim_progress_t *progress, void *ctx);

/* Time-limit decision: 1 when the fit is to stop for its time limit, 0 to go on, given the
 * fit's wall time so far (elapsed_s, this caller's clock) and the limit (time_limit_s > 0).
 * Asked at each check of the limit (before every likelihood evaluation and every iteration),
 * from the thread that called sgs_optim_minimize, in the fit's order, until it says 1 (never
 * again after). The fit depends on its answers only through the check at which the first 1
 * comes: the same answers give the same fit, bit for bit. */
typedef int (*sgs_optim_time_up_fn)(void *ctx, double elapsed_s, double limit_s);

typedef struct sgs_optim_options {
    int max_iter;        /* BFGS iterations per start; <= 0 means 500 */
    double gtol;         /* gradient tolerance; <= 0 means 1e-6 */
    int run_all_starts;  /* 0: starts are tried in order of their objective value and the first
                            that converges is kept; 1: every start is run and the converged one
                            with the lowest objective is kept */
    int no_hessian;      /* 1: skip the standard errors (hessian_ok = 0) */
    double time_limit_s; /* wall-time limit of the whole minimization, seconds
                            (CLOCK_MONOTONIC); <= 0 or not finite: none */
    sgs_optim_progress_fn progress; /* optional (NULL): called once per iteration */
    void *progress_ctx;             /* passed to progress */
    sgs_stop_fn stop; /* optional (NULL): asked before each iteration (kernels/core.h); when it
                         says stop, the fit ends at once with its code and message */
    void *stop_ctx;   /* passed to stop */
    sgs_optim_time_up_fn time_up; /* optional (NULL: elapsed_s >= time_limit_s): who decides
                                     that the time limit is reached; unused without a limit */
    void *time_up_ctx;            /* passed to time_up */
} sgs_optim_options_t;

/* Defaults: max_iter 500, gtol 1e-6, run_all_starts 0, standard errors on, no time limit,
 * no progress hook, no stop check, the fit's own clock. */
sgs_optim_options_t sgs_optim_default_options(void);

/* The same defaults written into *o, every byte set (padding zero): for options kept inside a
 * structure that is compared byte for byte (engine/config.h). */
void sgs_optim_options_init(sgs_optim_options_t *o);

/* Result of a fit (also what the model fits return). */
typedef struct sgs_fit {
    int n_params;
    double params[SGS_OPTIM_MAX_PARAMS];     /* natural parameters exp(θ) */
    double log_params[SGS_OPTIM_MAX_PARAMS]; /* θ */
    double std_err[SGS_OPTIM_MAX_PARAMS]; /* SE of params (delta method); NaN unless hessian_ok */
    double cov[SGS_OPTIM_MAX_PARAMS]
              [SGS_OPTIM_MAX_PARAMS]; /* Cov of params; NaN unless hessian_ok */
    double log_likelihood;            /* weighted total LL at params (without the penalty) */
    double objective;                 /* f at θ: -LL/N + penalty */
    double grad_norm;                 /* max_j |∂f/∂θ_j| at θ */
    int iterations;                   /* BFGS iterations of the kept start */
    int n_evaluations;                /* likelihood evaluations, all starts and the Hessian */
    int start_index;                  /* which of problem.starts was kept */
    int n_starts_run;                 /* how many starts were run */
    sgs_optim_status_t status;
    int converged;       /* status == SGS_OPTIM_CONVERGED */
    int hessian_ok;      /* 1 when the Hessian was positive definite: std_err and cov valid */
    double total_weight; /* N */
    double penalizer;    /* as given */
} sgs_fit_t;

/* Minimize f from the given starts (see the top of this file).
 * Writes *fit in every case except a callback error: on success (converged) returns 0; a
 * fit that did not converge, or was stopped by the time limit, returns SGS_ENOCONVERGE with
 * *fit describing the best point reached (status says why) and err naming the reason and
 * the gradient. Also SGS_EINVAL for a malformed problem, the callback's error code, or the
 * stop check's (options.stop; err as it filled it, *fit not meaningful).
 * Without a time limit the result is a pure function of the problem; with one, a fit that
 * reaches it depends on the machine's speed, or on options.time_up's answers (and says so in
 * its status).
 */
int sgs_optim_minimize(const sgs_optim_problem_t *problem, const sgs_optim_options_t *options,
                       sgs_fit_t *fit, sgs_error_t *err);

#endif /* SGS_OPTIMIZER_H */
