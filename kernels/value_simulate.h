/*
 * kernels/value_simulate.h — draw customers from the lifetime value models, for parameter
 * recovery tests and benchmarks: purchase histories (x, t_x, T) from BG/NBD, MBG/NBD or
 * Pareto/NBD, and mean repeat spend from Gamma-Gamma.
 *
 * Customer i draws from its own counter-based stream (seed, i) (core.h), so the result
 * does not depend on the thread count. Gamma variates by Marsaglia & Tsang (2000), with
 * G(k) = G(k+1) U^(1/k) for k < 1; normals by Box-Muller.
 *
 * The generative stories (time 0 is the first purchase):
 *   BG/NBD      λ ~ Gamma(r, α), p ~ Beta(a, b); purchases at Poisson(λ) times until T;
 *               after each repeat purchase the customer drops out with probability p.
 *   MBG/NBD     the same, with a drop-out chance also at time 0.
 *   Pareto/NBD  λ ~ Gamma(r, α), μ ~ Gamma(s, β); lifetime Exp(μ); Poisson(λ) purchases
 *               during the lifetime, until T.
 *   Gamma-Gamma ν ~ Gamma(q, γ); each of the x repeat transactions ~ Gamma(p, ν); their
 *               mean, drawn at once as Gamma(p x, ν) / x.
 * Gamma(k, θ) above has shape k and rate θ.
 */
#ifndef SGS_VALUE_SIMULATE_H
#define SGS_VALUE_SIMULATE_H

#include "kernels/clv.h"
#include "kernels/core.h"

/* Histories of n customers observed for T[i] time units (T[i] >= 0) under `model` with
 * `params` (4). grid > 0 rounds purchase times down to multiples of grid (day granularity
 * when the unit is days and grid = 1) and merges purchases that fall on the same multiple,
 * as a summary of real transactions does; grid = 0 keeps continuous times. Writes x[n],
 * t_x[n]. @return 0, or SGS_EINVAL (parameters, grid < 0, T < 0 or not finite). */
int sgs_simulate_histories(sgs_purchase_model_t model, const double *params, const double *T,
                           size_t n, uint64_t seed, double grid, double *x, double *t_x,
                           const sgs_exec_t *exec, sgs_error_t *err);

/* Mean repeat spend of n customers with x[i] repeat transactions under Gamma-Gamma
 * gg_params (p, q, gamma): mean_spend[i] (0 when x[i] == 0). @return 0 or SGS_EINVAL. */
int sgs_simulate_spend(const double *gg_params, const double *x, size_t n, uint64_t seed,
                       double *mean_spend, const sgs_exec_t *exec, sgs_error_t *err);

/* Serial reference twins of sgs_simulate_histories and sgs_simulate_spend: one plain loop over
 * the customers, each drawing from its stream (seed, i) as above; the same bits and codes. */
int sgs_simulate_histories_ref(sgs_purchase_model_t model, const double *params, const double *T,
                               size_t n, uint64_t seed, double grid, double *x, double *t_x,
                               sgs_error_t *err);
int sgs_simulate_spend_ref(const double *gg_params, const double *x, size_t n, uint64_t seed,
                           double *mean_spend, sgs_error_t *err);

#endif /* SGS_VALUE_SIMULATE_H */
