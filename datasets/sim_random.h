/*
 * datasets/sim_random.h — random variates for the synthetic generator, drawn from the
 * counter-based sequential generator of kernels/core.h (sgs_rng_t). Internal to
 * datasets/ (sgs__ prefix).
 *
 * Every function consumes a number of uniforms from `rng` that depends only on the
 * values drawn, so a customer's draws are a pure function of (seed, stream): the same
 * whatever thread simulates the customer. Not thread-safe on one rng; one rng per customer
 * and purpose.
 */
#ifndef SGS_SIM_RANDOM_H
#define SGS_SIM_RANDOM_H

#include "kernels/core.h"

/* Standard exponential variate (mean 1): -log(U), U in (0, 1); always finite and > 0. */
double sgs__rand_exp(sgs_rng_t *rng);

/* Standard normal variate by Box-Muller (Box and Muller 1958): two uniforms per call. */
double sgs__rand_normal(sgs_rng_t *rng);

/* Natural log of a Gamma(shape, rate 1) variate, shape > 0 (finite).
 * shape >= 1: Marsaglia and Tsang (2000), "A simple method for generating gamma
 * variables", ACM TOMS 26(3), section 3 (squeeze then log acceptance test).
 * shape < 1: the boost of their section 6, G(shape) = G(shape + 1) * U^(1/shape), taken in
 * log space so that tiny shapes (whose draws underflow double) still give a finite log. */
double sgs__rand_log_gamma(sgs_rng_t *rng, double shape);

/* Gamma(shape, rate 1) variate = exp(log_gamma); may underflow to 0 for shape << 1. */
double sgs__rand_gamma(sgs_rng_t *rng, double shape);

/* Beta(a, b) variate as X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b), computed from the logs
 * (1 / (1 + exp(log Y - log X))) so that it is defined for tiny a, b. In [0, 1]. */
double sgs__rand_beta(sgs_rng_t *rng, double a, double b);

/* Index k in 0..n-1 drawn with P(k) = cdf[k] - cdf[k-1]; cdf is increasing with
 * cdf[n-1] == 1. One uniform. */
int sgs__rand_categorical(sgs_rng_t *rng, const double *cdf, int n);

/* True with probability prob (one uniform). */
int sgs__rand_bernoulli(sgs_rng_t *rng, double prob);

/* Integer uniform in 0..n-1 for n >= 1 (one uniform; bias below 2^-53 * n, irrelevant for
 * the sizes used here). */
uint64_t sgs__rand_below(sgs_rng_t *rng, uint64_t n);

#endif
