/*
 * kernels/paretonbd.h — the Pareto/NBD model of repeat purchasing (Schmittlein, Morrison &
 * Colombo 1987, "Counting Your Customers: Who Are They and What Will They Do Next?",
 * Management Science 33(1), 1-24; hereafter SMC), in the formulation of Fader & Hardie
 * (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions" (note 009;
 * hereafter FH).
 *
 * While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α) and stays
 * alive for an exponential time with rate μ ~ Gamma(s, β). Parameters (r, alpha, s, beta),
 * all > 0, in that order; alpha and beta in the caller's time unit.
 *
 * Likelihood (FH eq. 22-23), with a = r+s+x and F(z) = ₂F₁(a, b; a+1; z):
 *   L = Γ(r+x) α^r β^s / Γ(r) · [ 1/((α+T)^(r+x) (β+T)^s) + s/a · A0 ]
 *   α >= β: A0 = F(z(t_x))/(α+t_x)^a - F(z(T))/(α+T)^a,  b = s+1,  z(t) = (α-β)/(α+t)
 *   α <  β: A0 = F(w(t_x))/(β+t_x)^a - F(w(T))/(β+T)^a,  b = r+x,  w(t) = (β-α)/(β+t)
 * The branch keeps the argument in [0, 1), where ₂F₁ converges; everything is computed in
 * logs (ln F from sgs_hyp2f1_ap1, special.h; ln A0 = h1 + ln(1 - e^(h2-h1))), so that no
 * power or ₂F₁ overflows in either branch, whatever x. The gradient is analytic, through
 * the derivatives of ln F with respect to its parameters and argument.
 *
 * Per customer:
 *   P(alive)     FH eq. 24: (1/((α+T)^(r+x)(β+T)^s)) / [ ... ] above, i.e. the share of the
 *                first term in L
 *   E[Y(t)|...]  SMC eq. 22 (FH eq. 27): (r+x)(β+T) / ((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)]
 *                P(alive); the bracket over (s-1) by expm1, exactly ln(1 + t/(β+T)) at s = 1
 *   E[X(t)]      SMC eq. 17: rβ/(α(s-1)) [1 - (β/(β+t))^(s-1)]
 *   P(no purchase in (T, T+t] | ...) = 1 - P(alive) + P(alive) P0, where P0 is the
 *                probability of no purchase in t of a new customer with the posterior
 *                parameters (r+x, α+T, s, β+T): given alive at T, λ and μ are independent
 *                Gamma(r+x, α+T) and Gamma(s, β+T) (FH section 4) and the process starts
 *                afresh (memoryless lifetimes). P0 is the likelihood above at x = 0,
 *                t_x = 0, T = t (Fader & Hardie, note 012, P(X(t) = 0)).
 */
#ifndef SGS_PARETONBD_H
#define SGS_PARETONBD_H

#include "kernels/bgnbd.h" /* sgs_model_fit_options_t */
#include "kernels/core.h"
#include "kernels/histories.h"
#include "kernels/optimizer.h"

#define SGS_PARETONBD_N_PARAMS 4 /* r, alpha, s, beta */

/* ln L of one history; grad (4, may be NULL) gets ∂ln L/∂(r, α, s, β). NaN only outside
 * the domain. */
double sgs_paretonbd_loglik_one(const double *params, double x, double t_x, double T, double *grad);

/* Σ count ln L over histories and its gradient with respect to (ln r, ln α, ln s, ln β),
 * as sgs_bgnbd_loglik (parallel, fixed blocks, thread-count independent). */
int sgs_paretonbd_loglik(const double *params, const sgs_histories_t *h, double *ll,
                         double *grad_log, const sgs_exec_t *exec, sgs_error_t *err);

/* Maximum likelihood fit. Default starts, with s_x = Σ count T / Σ count x and T̄ the mean
 * T: (1, s_x, 1, T̄), (0.5, s_x/2, 0.5, T̄/2), (2, 2 s_x, 2, 2 T̄). Errors as sgs_bgnbd_fit. */
int sgs_paretonbd_fit(const sgs_histories_t *h, const sgs_model_fit_options_t *options,
                      sgs_fit_t *fit, const sgs_exec_t *exec, sgs_error_t *err);

double sgs_paretonbd_p_alive(const double *params, double x, double t_x, double T);
double sgs_paretonbd_expected(const double *params, double t, double x, double t_x, double T);
double sgs_paretonbd_expected_new(const double *params, double t);
double sgs_paretonbd_prob_no_purchase(const double *params, double t, double x, double t_x,
                                      double T);
/* Given alive at T (depend on x and T only): E[Y(t) | alive] and P0 above. */
double sgs_paretonbd_expected_if_alive(const double *params, double t, double x, double T);
double sgs_paretonbd_prob_no_purchase_if_alive(const double *params, double t, double x, double T);

#endif /* SGS_PARETONBD_H */
