/*
 * kernels/value_simulate.c — simulated customers for the value models. See value_simulate.h.
 */
#include "kernels/value_simulate.h"

#include <math.h>

static double normal(sgs_rng_t *rng)
{
    double u1 = sgs_rng_next_uniform(rng), u2 = sgs_rng_next_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Gamma(k, 1) by Marsaglia & Tsang (2000), "A simple method for generating gamma
 * variables", ACM TOMS 26(3). */
static double gamma1(sgs_rng_t *rng, double k)
{
    if (k < 1.0) {
        double u = sgs_rng_next_uniform(rng);
        return gamma1(rng, k + 1.0) * pow(u, 1.0 / k);
    }
    double d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double z = normal(rng), v = 1.0 + c * z;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        double u = sgs_rng_next_uniform(rng);
        if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
            return d * v;
    }
}

static double exponential(sgs_rng_t *rng, double rate)
{
    return -log(sgs_rng_next_uniform(rng)) / rate;
}

/* One customer: purchases at Poisson(lam) times in (0, min(T, life)]; with drop >= 0 the
 * customer also leaves after each repeat purchase with probability drop. */
static void one_history(sgs_rng_t *rng, double lam, double drop, double life, double T, double grid,
                        double *x_out, double *tx_out)
{
    double end = life < T ? life : T, t = 0.0, last = 0.0;
    long x = 0;
    for (;;) {
        t += exponential(rng, lam);
        if (t > end)
            break;
        double when = grid > 0.0 ? floor(t / grid) * grid : t;
        if (when > last) { /* a new purchase day (always, with continuous times) */
            x++;
            last = when;
        }
        if (drop > 0.0 && sgs_rng_next_uniform(rng) < drop)
            break;
    }
    *x_out = (double)x;
    *tx_out = x ? last : 0.0;
}

/* The arguments of sgs_simulate_histories: 0 or SGS_EINVAL. */
static int check_histories_args(sgs_purchase_model_t model, const double *params, const double *T,
                                size_t n, double grid, sgs_error_t *err)
{
    for (int j = 0; j < 4; j++)
        if (!(params[j] > 0.0) || !isfinite(params[j]))
            return sgs_error_set(err, SGS_EINVAL, "simulate: parameters must be finite and > 0");
    if (!(grid >= 0.0) || (unsigned)model >= SGS_PURCHASE_MODEL_COUNT)
        return sgs_error_set(err, SGS_EINVAL, "simulate: bad grid or model");
    for (size_t i = 0; i < n; i++)
        if (!(T[i] >= 0.0) || !isfinite(T[i]))
            return sgs_error_set(err, SGS_EINVAL, "simulate: T[%zu] = %g", i, T[i]);
    return SGS_OK;
}

/* Customer i's history from its own stream (seed, i). */
static void history_of(sgs_purchase_model_t model, const double *params, double T, uint64_t seed,
                       size_t i, double grid, double *x, double *t_x)
{
    double r = params[0], al = params[1], a = params[2], b = params[3];
    sgs_rng_t rng;
    sgs_rng_init(&rng, seed, i);
    double lam = gamma1(&rng, r) / al;
    if (model == SGS_MODEL_PARETONBD) {
        double mu = gamma1(&rng, a) / b; /* (s, beta) */
        one_history(&rng, lam, 0.0, exponential(&rng, mu), T, grid, x, t_x);
        return;
    }
    double ga = gamma1(&rng, a), gb = gamma1(&rng, b), p = ga / (ga + gb);
    if (model == SGS_MODEL_MBGNBD && sgs_rng_next_uniform(&rng) < p) {
        *x = 0.0; /* gone right after the first purchase */
        *t_x = 0.0;
        return;
    }
    one_history(&rng, lam, p, HUGE_VAL, T, grid, x, t_x);
}

int sgs_simulate_histories(sgs_purchase_model_t model, const double *params, const double *T,
                           size_t n, uint64_t seed, double grid, double *x, double *t_x,
                           const sgs_exec_t *exec, sgs_error_t *err)
{
    int rc = check_histories_args(model, params, T, n, grid, err);
    if (rc)
        return rc;
    int nt = sgs_exec_threads_for(exec, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t i = 0; i < n; i++)
        history_of(model, params, T[i], seed, i, grid, &x[i], &t_x[i]);
    return SGS_OK;
}

/* Customer i's mean repeat spend from its own stream (seed, i); 0 without repeat purchases. */
static double spend_of(const double *gg_params, double x, uint64_t seed, size_t i)
{
    if (!(x > 0.0))
        return 0.0;
    double p = gg_params[0], q = gg_params[1], g = gg_params[2];
    sgs_rng_t rng;
    sgs_rng_init(&rng, seed, i);
    double nu = gamma1(&rng, q) / g;
    return gamma1(&rng, p * x) / nu / x;
}

static int check_spend_args(const double *gg_params, sgs_error_t *err)
{
    double p = gg_params[0], q = gg_params[1], g = gg_params[2];
    if (!(p > 0.0) || !(q > 0.0) || !(g > 0.0) || !isfinite(p + q + g))
        return sgs_error_set(err, SGS_EINVAL, "simulate: Gamma-Gamma parameters must be > 0");
    return SGS_OK;
}

int sgs_simulate_spend(const double *gg_params, const double *x, size_t n, uint64_t seed,
                       double *mean_spend, const sgs_exec_t *exec, sgs_error_t *err)
{
    int rc = check_spend_args(gg_params, err);
    if (rc)
        return rc;
    int nt = sgs_exec_threads_for(exec, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t i = 0; i < n; i++)
        mean_spend[i] = spend_of(gg_params, x[i], seed, i);
    return SGS_OK;
}

/* ---- Serial reference twins ------------------------------------------------------------- */

int sgs_simulate_histories_ref(sgs_purchase_model_t model, const double *params, const double *T,
                               size_t n, uint64_t seed, double grid, double *x, double *t_x,
                               sgs_error_t *err)
{
    int rc = check_histories_args(model, params, T, n, grid, err);
    for (size_t i = 0; rc == SGS_OK && i < n; i++)
        history_of(model, params, T[i], seed, i, grid, &x[i], &t_x[i]);
    return rc;
}

int sgs_simulate_spend_ref(const double *gg_params, const double *x, size_t n, uint64_t seed,
                           double *mean_spend, sgs_error_t *err)
{
    int rc = check_spend_args(gg_params, err);
    for (size_t i = 0; rc == SGS_OK && i < n; i++)
        mean_spend[i] = spend_of(gg_params, x[i], seed, i);
    return rc;
}
