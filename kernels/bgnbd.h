/*
 * kernels/bgnbd.h — the BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005,
 * "'Counting Your Customers' the Easy Way: An Alternative to the Pareto/NBD Model",
 * Marketing Science 24(2), 275-284; hereafter FHL).
 *
 * While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
 * repeat purchase the customer drops out with probability p ~ Beta(a, b). Parameters
 * (r, alpha, a, b), all > 0, in that order in every `params` array; alpha is in the
 * caller's time unit (the same as t_x and T).
 *
 * Per customer (x repeat purchases, the last at t_x, observed for T):
 *   likelihood   FHL eq. 6, computed as in Fader & Hardie's note "Overcoming the BG/NBD
 *                model's #NUM! error problem" (2013): ln L = A1 + A2 + ln(e^A3 + δ e^A4),
 *                A1 = lnΓ(r+x) - lnΓ(r) + r ln α,
 *                A2 = lnΓ(a+b) + lnΓ(b+x) - lnΓ(b) - lnΓ(a+b+x),
 *                A3 = -(r+x) ln(α+T),  A4 = ln a - ln(b+x-1) - (r+x) ln(α+t_x),  δ = [x > 0]
 *   P(alive)     Fader, Hardie & Lee, note 021 ("Computing P(alive) using the BG/NBD model"):
 *                1 / (1 + δ a/(b+x-1) ((α+T)/(α+t_x))^(r+x)); exactly 1 when x = 0
 *   E[Y(t)|...]  FHL eq. 10, expected repeat purchases in (T, T+t]:
 *                (a+b+x-1)/(a-1) [1 - ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x-1; z)]
 *                P(alive), z = t/(α+T+t). Computed as M(r+x, a, b+x, t/(α+T)) P(alive) by
 *                sgs_bg_mean_purchases (special.h): M = E[(1 - (1+pu)^-(r+x))/p] over the
 *                posterior p ~ Beta(a, b+x) of an alive customer, which equals the bracket
 *                where the ₂F₁ exists and stays finite where it does not (x = 0 with
 *                a+b < 1, a+b = 1, a = 1). Relative error at most about 1e-11 (the branch
 *                bounds in special.h; at most 1e-13 seen against the 60-digit values of
 *                tests/unit/test_bg_reference.c), >= 0 and at most (r+x) t/(α+T).
 *   E[X(t)]      FHL eq. 9, for a new customer: the conditional expectation at x=t_x=T=0
 *   P(no purchase in (T, T+t] | ...) = 1 - P(alive) (1 - ((α+T)/(α+T+t))^(r+x)).
 *                Derivation: given alive at T, λ | data ~ Gamma(r+x, α+T) (FHL section 5),
 *                and an alive customer can only drop out right after a purchase, so there is
 *                no purchase in (T, T+t] exactly when the Poisson process has no event in t:
 *                E[e^-λt] = ((α+T)/(α+T+t))^(r+x); a customer already gone buys nothing.
 *                (The same as FHL eq. 8 for P(X(t)=0) with the parameters updated to r+x,
 *                α+T, and the posterior Beta(a, b+x) of p.)
 *
 * All scalar functions are pure and thread-safe; they return NaN only for parameters or
 * inputs outside their domain (params > 0, 0 <= t_x <= T, x >= 0, t >= 0, t/(α+T)
 * finite), which callers validate (sgs_histories_build does for histories). Inside it every
 * output is finite: expectations >= 0, probabilities in [0, 1].
 */
#ifndef SGS_BGNBD_H
#define SGS_BGNBD_H

#include "kernels/core.h"
#include "kernels/histories.h"
#include "kernels/optimizer.h"

#define SGS_BGNBD_N_PARAMS 4 /* r, alpha, a, b */

/* Options of the model fits (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma). */
typedef struct sgs_model_fit_options {
    double penalizer;          /* lifetimes' penalizer_coef (optimizer.h), >= 0; default 0 */
    int n_starts;              /* 0: the model's default starting points */
    const double *starts;      /* [n_starts * n_params] natural parameters, or NULL */
    sgs_optim_options_t optim; /* iterations, tolerance, start policy */
} sgs_model_fit_options_t;

/* penalizer 0, default starts, sgs_optim_default_options(). */
sgs_model_fit_options_t sgs_model_fit_default_options(void);

/* The same defaults written into *o, every byte set (padding zero): for options kept inside a
 * structure that is compared byte for byte (engine/config.h). */
void sgs_model_fit_options_init(sgs_model_fit_options_t *o);

/* ln L of one history (FHL eq. 6 as above). */
double sgs_bgnbd_loglik_one(const double *params, double x, double t_x, double T);

/* Σ_h count_h ln L_h over the histories, and its gradient with respect to the
 * log-parameters (ln r, ln α, ln a, ln b) in grad_log[4] when not NULL. Parallel over fixed
 * blocks of histories; bitwise the same for any thread count. Allocates a small workspace
 * (per distinct x, t_x, T value); fits reuse one instead.
 * @return 0, SGS_EINVAL (params not finite and > 0), SGS_ENOMEM. */
int sgs_bgnbd_loglik(const double *params, const sgs_histories_t *h, double *ll, double *grad_log,
                     const sgs_exec_t *exec, sgs_error_t *err);

/* Serial reference twin of sgs_bgnbd_loglik (the value only): Σ_h count_h ln L_h with
 * sgs_bgnbd_loglik_one, in history order. Not the same bits (the kernel shares terms per
 * distinct value and sums per block): tests compare to a relative 1e-12. @return as the kernel
 * but for SGS_ENOMEM. */
int sgs_bgnbd_loglik_ref(const double *params, const sgs_histories_t *h, double *ll,
                         sgs_error_t *err);

/* Maximum likelihood fit (optimizer.h) over the histories. Default starts, with
 * s = Σ count T / Σ count x (time per repeat purchase): (1, s, 1, 1), (0.5, s/2, 0.5, 2),
 * (2, 2s, 2, 5).
 * @return 0 (converged); SGS_ENOCONVERGE with *fit filled and flagged; SGS_EDATA when there
 *         is nothing to fit (no history, no repeat purchase, or every T = 0); SGS_EINVAL,
 *         SGS_ENOMEM. */
int sgs_bgnbd_fit(const sgs_histories_t *h, const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                  const sgs_exec_t *exec, sgs_error_t *err);

/* P(alive | x, t_x, T). */
double sgs_bgnbd_p_alive(const double *params, double x, double t_x, double T);

/* Expected repeat purchases in the next t time units, E[Y(t) | x, t_x, T]. */
double sgs_bgnbd_expected(const double *params, double t, double x, double t_x, double T);

/* Expected repeat purchases of a new customer in (0, t], E[X(t)]. */
double sgs_bgnbd_expected_new(const double *params, double t);

/* P(no purchase in (T, T+t] | x, t_x, T). */
double sgs_bgnbd_prob_no_purchase(const double *params, double t, double x, double t_x, double T);

/* The same two given that the customer is alive at T (they depend on x and T only):
 * E[Y(t) | alive, x, T] = M(r+x, a, b+x, t/(α+T)) and ((α+T)/(α+T+t))^(r+x). Scoring
 * (kernels/clv.h) computes them once per distinct (x, T). */
double sgs_bgnbd_expected_if_alive(const double *params, double t, double x, double T);
double sgs_bgnbd_prob_no_purchase_if_alive(const double *params, double t, double x, double T);

#endif /* SGS_BGNBD_H */
