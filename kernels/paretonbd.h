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
 * The branch keeps the argument in [0, 1), where ₂F₁ converges (at α = β, z = 0 and F = 1;
 * the two branches agree there, and so do their gradients).
 *
 * Evaluation, arranged so that no two large terms cancel however far a fit drifts (r and α
 * to infinity together in the Poisson limit, s -> 0 with β large when nobody drops out,
 * s -> ∞ when everyone is gone). With g1, g2 = ln F + b ln(1-z) at t_x and T
 * (sgs_hyp2f1_ap1_ex, special.h: the part of F that stays moderate as z -> 1, formed without
 * cancellation), u_α = ln(1 + (T-t_x)/(α+t_x)), u_β = ln(1 + (T-t_x)/(β+t_x)),
 * e(t) = ln((α+t)/(β+t)) when α >= β (else 0), and
 *   α >= β: D = (r+x-1) u_α + (s+1) u_β;   α < β: D = (r+x) u_α + s u_β,
 * FH's bracket is the sum of a term for a customer still alive at T and one for a customer
 * gone in (t_x, T]:
 *   L_a = -x ln(α+T) - r ln(1 + T/α) - s ln(1 + T/β),
 *   L_d = -x ln(α+t_x) - r ln(1 + t_x/α) - s ln(1 + t_x/β) + e(t_x) + ln(s/a) + g1
 *         + ln(1 - e^(g2 - g1 - D)),
 *   Δ = L_d - L_a = e(T) + ln(s/a) + g1 + D + ln(1 - e^(g2 - g1 - D)),
 *   ln L = lnΓ(r+x) - lnΓ(r) + max(L_a, L_d) + ln(1 + e^-|Δ|),
 * every term formed as written. lnΓ(r+x) - lnΓ(r) comes from Stirling's series as
 * (r - 1/2) ln(1 + x/r) + ... for r >= 10 (and ψ(r+x) - ψ(r) likewise), not from two lgamma
 * values of size r ln r. The gradient is analytic: (1-w) ∂L_a + w ∂L_d, w = 1 - P(alive),
 * through the derivatives of the ₂F₁ with respect to its parameters and argument.
 * P(alive) = 1/(1 + e^Δ) and 1 - P(alive) = 1/(1 + e^-Δ); Δ = -∞ when t_x = T (A0 = 0).
 *
 * Accuracy (tests/unit/test_pareto_reference against 80-digit values from the published
 * formulas, on a grid with s down to 1e-6, β up to 1e6, r and α up to 1e4, x up to 1e4,
 * t_x = T, α = β, α >> β and β >> α): ln L within 1e-12 max(1, |ln L|), its gradient
 * within 1e-11 max(1, |g|), P(alive), E[Y(t)] and P(no purchase) within 1e-11 of their
 * value (measured worst: 5e-15, 3e-13, 1e-13); finite, with probabilities in [0, 1], at
 * 10^5 random points of the box |ln θ| <= 40 a fit can reach. Work: one ₂F₁ per distinct
 * (x, t_x) and (x, T) pair, each of bounded cost (special.h), and O(1) per distinct
 * history.
 *
 * Per customer:
 *   P(alive)     FH eq. 24: (1/((α+T)^(r+x)(β+T)^s)) / [ ... ] above, i.e. the share of the
 *                first term in L
 *   E[Y(t)|...]  SMC eq. 22 (FH eq. 27): (r+x)(β+T) / ((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)]
 *                P(alive); the bracket over (s-1) by expm1, exactly ln(1 + t/(β+T)) at s = 1
 *   E[X(t)]      SMC eq. 17: rβ/(α(s-1)) [1 - (β/(β+t))^(s-1)]
 *   P(no purchase in (T, T+t] | ...) = (1 - P(alive)) + P(alive) P0, where P0 is the
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

/* Serial reference twin of sgs_paretonbd_loglik (the value only): Σ_h count_h ln L_h with
 * sgs_paretonbd_loglik_one, in history order; equal to a relative 1e-12 (not the same bits:
 * the kernel shares terms per distinct value and sums per block). */
int sgs_paretonbd_loglik_ref(const double *params, const sgs_histories_t *h, double *ll,
                             sgs_error_t *err);

/* Maximum likelihood fit. Default starts, with s_x = Σ count T / Σ count x and T̄ the mean
 * T: (1, s_x, 1, T̄), (0.5, s_x/2, 0.5, T̄/2), (2, 2 s_x, 2, 2 T̄). The work is bounded by
 * options->optim (max_iter per start, time_limit_s over the fit; progress hook: optimizer.h)
 * and the cost of one evaluation above. Errors as sgs_bgnbd_fit. */
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
