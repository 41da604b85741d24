/*
 * bench/bench_value_models.c — fit and scoring times of the lifetime value models on
 * simulated customers (kernels/value_simulate.h), at the sizes given on the command line
 * (default 100000 and 1000000; the full run adds 10000000).
 *
 *   bench_value_models [-t threads] [n ...]
 *
 * Time unit: days; T uniform on 1..730 days; purchase times rounded to days (grid 1), so
 * the histories are what a real summary gives. Per size it reports: distinct histories and
 * the time to build them, the BG/NBD fit (iterations, likelihood evaluations, seconds), the
 * Pareto/NBD fit on Pareto/NBD data, the Gamma-Gamma fit, and the scoring of every customer
 * (P(alive), expected purchases, P(no purchase), expected spend, CLV over 365 days with
 * monthly discounting) in seconds per million customers. Simulation time is not counted.
 */
#include "kernels/clv.h"
#include "kernels/gammagamma.h"
#include "kernels/histories.h"
#include "kernels/value_simulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run(size_t n, int threads)
{
    sgs_exec_t ex = {.n_threads = threads};
    sgs_error_t err = {0};
    double *T = malloc(n * sizeof *T), *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx);
    double *m = malloc(n * sizeof *m), *out = malloc(5 * n * sizeof *out);
    if (!T || !x || !tx || !m || !out) {
        fprintf(stderr, "bench_value_models: out of memory at n = %zu\n", n);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        T[i] = (double)(1 + (int)(730.0 * sgs_rng_uniform(1, 0, i)));
    const double bg[4] = {0.5, 60.0, 0.7, 2.5}, pn[4] = {0.6, 70.0, 0.7, 300.0};
    const double gg[3] = {6.0, 4.0, 15.0};
    sgs_histories_t h;
    sgs_fit_t fit, ggfit;
    sgs_gg_summary_t sum;
    int rc = 0;

    /* BG/NBD data: histories, fit, spend, scoring */
    sgs_simulate_histories(SGS_MODEL_BGNBD, bg, T, n, 2, 1.0, x, tx, &ex, NULL);
    sgs_simulate_spend(gg, x, n, 3, m, &ex, NULL);
    double t0 = now();
    if ((rc = sgs_histories_build(&h, x, tx, T, NULL, n, &ex, &err)) != 0)
        goto fail;
    double t_hist = now() - t0;
    t0 = now();
    rc = sgs_purchase_model_fit(SGS_MODEL_BGNBD, &h, NULL, &fit, &ex, &err);
    double t_bg = now() - t0;
    if (rc)
        goto fail;
    printf("%10zu  histories %9zu  build %7.3f s | BG/NBD fit %7.3f s (%2d it, %3d evals) "
           "r=%.3f alpha=%.2f a=%.3f b=%.3f\n",
           n, h.n_unique, t_hist, t_bg, fit.iterations, fit.n_evaluations, fit.params[0],
           fit.params[1], fit.params[2], fit.params[3]);
    t0 = now();
    rc = sgs_gg_fit(x, m, n, NULL, &ggfit, &sum, &ex, &err);
    double t_gg = now() - t0;
    if (rc)
        goto fail;
    sgs_clv_options_t o = {365.0, SGS_CLV_DAYS_PER_MONTH, 0.1, 1.0};
    t0 = now();
    rc = sgs_clv_score_customers(SGS_MODEL_BGNBD, fit.params, ggfit.params, &h, x, m, &o, out,
                                 out + n, out + 2 * n, out + 3 * n, out + 4 * n, &ex, &err);
    double t_score = now() - t0;
    if (rc)
        goto fail;
    printf("%10s  Gamma-Gamma fit %7.3f s (%zu customers, %2d it) p=%.3f q=%.3f gamma=%.2f | "
           "BG/NBD scoring %7.3f s per million customers\n",
           "", t_gg, sum.n_used, ggfit.iterations, ggfit.params[0], ggfit.params[1],
           ggfit.params[2], t_score / ((double)n / 1e6));
    printf("%10s  BG/NBD: histories + fit + scoring %7.3f s\n", "", t_hist + t_bg + t_score);
    sgs_histories_free(&h);

    /* Pareto/NBD data and fit */
    sgs_simulate_histories(SGS_MODEL_PARETONBD, pn, T, n, 4, 1.0, x, tx, &ex, NULL);
    t0 = now();
    if ((rc = sgs_histories_build(&h, x, tx, T, NULL, n, &ex, &err)) != 0)
        goto fail;
    rc = sgs_purchase_model_fit(SGS_MODEL_PARETONBD, &h, NULL, &fit, &ex, &err);
    double t_pn = now() - t0;
    if (rc)
        goto fail;
    t0 = now();
    rc = sgs_clv_score_customers(SGS_MODEL_PARETONBD, fit.params, ggfit.params, &h, x, m, &o, out,
                                 out + n, out + 2 * n, out + 3 * n, out + 4 * n, &ex, &err);
    t_score = now() - t0;
    if (rc)
        goto fail;
    printf("%10s  histories %9zu | Pareto/NBD build + fit %7.3f s (%2d it, %3d evals) "
           "r=%.3f alpha=%.2f s=%.3f beta=%.1f | scoring %7.3f s per million\n",
           "", h.n_unique, t_pn, fit.iterations, fit.n_evaluations, fit.params[0], fit.params[1],
           fit.params[2], fit.params[3], t_score / ((double)n / 1e6));
    sgs_histories_free(&h);
fail:
    if (rc)
        fprintf(stderr, "bench_value_models: n = %zu: %s\n", n, err.message);
    free(T);
    free(x);
    free(tx);
    free(m);
    free(out);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    int threads = 2, argi = 1, status = 0;
    if (argc > 2 && strcmp(argv[1], "-t") == 0) {
        threads = atoi(argv[2]);
        argi = 3;
    }
    size_t defaults[] = {100000, 1000000};
    printf("bench_value_models: %d threads, time unit days, T uniform 1..730, day grid\n", threads);
    if (argi >= argc)
        for (int k = 0; k < 2; k++)
            status |= run(defaults[k], threads);
    for (int k = argi; k < argc; k++)
        status |= run((size_t)strtoull(argv[k], NULL, 10), threads);
    return status;
}
