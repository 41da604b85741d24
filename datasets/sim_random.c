/*
 * datasets/sim_random.c — variates for the generator. See sim_random.h.
 */
#include "datasets/sim_random.h"

#include <math.h>

double sgs__rand_exp(sgs_rng_t *rng)
{
    return -log(sgs_rng_next_uniform(rng));
}

double sgs__rand_normal(sgs_rng_t *rng)
{
    double u1 = sgs_rng_next_uniform(rng);
    double u2 = sgs_rng_next_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* log of a Gamma(shape >= 1) draw, Marsaglia and Tsang (2000) section 3: d = shape - 1/3,
 * c = 1/sqrt(9d); x ~ N(0,1), v = (1 + c x)^3; accept d v when v > 0 and
 * U < 1 - 0.0331 x^4 (squeeze) or log U < x^2/2 + d (1 - v + log v). */
static double log_gamma_ge1(sgs_rng_t *rng, double shape)
{
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = sgs__rand_normal(rng);
        double v = 1.0 + c * x;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        double u = sgs_rng_next_uniform(rng);
        double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2)
            return log(d) + log(v);
        double log_v = log(v);
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log_v))
            return log(d) + log_v;
    }
}

double sgs__rand_log_gamma(sgs_rng_t *rng, double shape)
{
    if (shape >= 1.0)
        return log_gamma_ge1(rng, shape);
    /* Section 6: G(a) = G(a + 1) U^(1/a); log G(a) = log G(a + 1) + log(U) / a. */
    double lg = log_gamma_ge1(rng, shape + 1.0);
    return lg + log(sgs_rng_next_uniform(rng)) / shape;
}

double sgs__rand_gamma(sgs_rng_t *rng, double shape)
{
    return exp(sgs__rand_log_gamma(rng, shape));
}

double sgs__rand_beta(sgs_rng_t *rng, double a, double b)
{
    double lx = sgs__rand_log_gamma(rng, a);
    double ly = sgs__rand_log_gamma(rng, b);
    /* X / (X + Y) = 1 / (1 + exp(ly - lx)); exp overflow gives inf and the result 0. */
    return 1.0 / (1.0 + exp(ly - lx));
}

int sgs__rand_categorical(sgs_rng_t *rng, const double *cdf, int n)
{
    double u = sgs_rng_next_uniform(rng);
    for (int k = 0; k < n - 1; k++)
        if (u < cdf[k])
            return k;
    return n - 1;
}

int sgs__rand_bernoulli(sgs_rng_t *rng, double prob)
{
    return sgs_rng_next_uniform(rng) < prob;
}

uint64_t sgs__rand_below(sgs_rng_t *rng, uint64_t n)
{
    uint64_t k = (uint64_t)(sgs_rng_next_uniform(rng) * (double)n);
    return k < n ? k : n - 1;
}
