/*
 * kernels/evaluate_probs.h — the distribution of the number of repeat purchases of a new
 * customer, P(X(t) = x), under the purchase models of kernels/clv.h. Model evaluation
 * (segscore evaluate) compares Σ_i P(X(T_i) = x) over the customers with the observed
 * histogram of calibration repeat purchases (Fader, Hardie & Lee 2005, figure 3; Fader,
 * Hardie & Lee, note 014 "Creating a fit histogram for the BG/NBD model").
 *
 * Notation: NBD(j; t) = Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j, the probability of j
 * purchases in t for a Poisson rate λ ~ Gamma(r, α), and S(x; t) = 1 - Σ_{j<x} NBD(j; t),
 * the probability of at least x (S(0; t) = 1). B is the Beta function.
 *
 *   BG/NBD      FHL eq. 8 (Fader, Hardie & Lee 2005, Marketing Science 24(2), 275-284):
 *               P(X(t)=x) = B(a, b+x)/B(a, b) NBD(x; t)
 *                         + [x > 0] B(a+1, b+x-1)/B(a, b) S(x; t)
 *   MBG/NBD     the same story with a drop-out chance also right after the first purchase
 *               (Batislam, Denizel & Filiztekin 2007): given λ and p, X(t) = min(N(t), D)
 *               with N(t) ~ Poisson(λt) and P(D = d) = p (1-p)^d, d = 0, 1, ..., so
 *               P(X=x | λ, p) = (1-p)^(x+1) Pois(x) + p (1-p)^x P(N >= x); mixing over p and λ:
 *               P(X(t)=x) = B(a, b+x+1)/B(a, b) NBD(x; t) + B(a+1, b+x)/B(a, b) S(x; t)
 *               (lifetimes' ModifiedBetaGeoFitter.probability_of_n_purchases_up_to_time).
 *   Pareto/NBD  by conditioning on the lifetime τ ~ Exp(μ), μ ~ Gamma(s, β) (Schmittlein,
 *               Morrison & Colombo 1987; Fader & Hardie, note 012 "Deriving an expression
 *               for P(X(t) = x) under the Pareto/NBD model", of which this is the integral
 *               form): the customer is alive at t with probability (β/(β+t))^s, else died at
 *               τ < t with density s β^s / (β+τ)^(s+1), having bought NBD(x; τ):
 *               P(X(t)=x) = NBD(x; t) (β/(β+t))^s + ∫_0^t s β^s (β+τ)^-(s+1) NBD(x; τ) dτ.
 *               The integrand is smooth on [0, t]; with v = ln(1 + τ/min(α, β)) it is
 *               integrated by globally adaptive Gauss-Kronrod 7-15 (QUADPACK's dqag
 *               strategy and error estimate) to a relative error estimate of 1e-12, at most
 *               200 pieces.
 * Everything is computed in logs (lgamma, log-Beta); S(x; t) is 1 - a sum of at most x
 * terms, so it has an absolute (not relative) error of a few ulps of 1, clamped at 0.
 *
 * All functions are pure and thread-safe; params (r, alpha, a, b) or (r, alpha, s, beta)
 * in the order of kernels/clv.h, alpha and beta in the unit of t.
 */
#ifndef SGS_EVALUATE_PROBS_H
#define SGS_EVALUATE_PROBS_H

#include "kernels/clv.h"

/* P(X(t) = x) of a new customer under each model, x >= 0 an integer, t >= 0.
 * NaN when params are not finite and > 0, t is negative or not finite, or x < 0.
 * At t = 0: 1 for x = 0, else 0. */
double sgs_bgnbd_prob_count(const double *params, double t, int x);
double sgs_mbgnbd_prob_count(const double *params, double t, int x);
double sgs_paretonbd_prob_count(const double *params, double t, int x);

/* The model's P(X(t) = x) (NaN for an unknown model). */
double sgs_purchase_prob_count(sgs_purchase_model_t model, const double *params, double t, int x);

/* probs[x] = P(X(t) = x) for x = 0 .. n_probs-1 and, when tail is not NULL,
 * *tail = P(X(t) >= n_probs) = 1 - Σ probs, clamped to [0, 1].
 * @return 0; SGS_EINVAL (unknown model, n_probs < 1, NULL probs, parameters or t out of
 *         their domain: checked before anything is written). */
int sgs_purchase_count_distribution(sgs_purchase_model_t model, const double *params, double t,
                                    int n_probs, double *probs, double *tail);

#endif /* SGS_EVALUATE_PROBS_H */
