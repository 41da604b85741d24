/*
 * kernels/kmeans.c — the public driver of k-means: the default options, the checks of the
 * input (options, finite values, weights) and sgs_kmeans_fit, which seeds each restart and
 * keeps the best run. One run from given centers is kernels/kmeans_lloyd.c; the E-step,
 * inertia and tolerance helpers are kernels/kmeans_assign.c. The contract and the
 * scikit-learn semantics followed are in kernels/kmeans.h.
 */
#include "kernels/kmeans.h"

#include "kernels/kmeans_blocks.h"
#include "kernels/kmeans_internal.h"
#include "kernels/kmeans_lloyd_internal.h"

#include <math.h>
#include <string.h>

/* ---- Options and checks ------------------------------------------------------------------- */

void sgs_kmeans_options_init(sgs_kmeans_options_t *opt, size_t k)
{
    memset(opt, 0, sizeof *opt);
    opt->k = k;
    opt->algorithm = SGS_KMEANS_LLOYD;
    opt->init = SGS_KMEANS_INIT_PLUSPLUS;
    opt->max_iter = 300;
    opt->tol = 1e-4;
    opt->n_init = 1;
    opt->seed = 42;
    opt->oversampling = 2.0;
    opt->n_rounds = 5;
    opt->batch_size = 1024;
    opt->max_no_improvement = 10;
    opt->isa = SGS_KMEANS_ISA_AUTO;
}

int sgs_kmeans_check_finite(const double *x, size_t n, size_t d, const sgs_exec_t *exec,
                            sgs_error_t *err)
{
    size_t first_bad = sgs_kmeans_first_nonfinite(x, n, d, exec); /* flat index */
    if (first_bad == SIZE_MAX)
        return SGS_OK;
    double v = x[first_bad];
    return sgs_error_set(err, SGS_EDATA, "row %zu column %zu is %s", first_bad / d, first_bad % d,
                         isnan(v) ? "NaN" : (v > 0 ? "+inf" : "-inf"));
}

/* Check weights: finite, >= 0, positive total. */
static int check_weights(const double *w, size_t n, sgs_error_t *err)
{
    if (!w)
        return SGS_OK;
    int any_positive = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(w[i]) || w[i] < 0)
            return sgs_error_set(err, SGS_EDATA,
                                 "sample weight of row %zu is %g (must be finite "
                                 "and >= 0)",
                                 i, w[i]);
        any_positive |= w[i] > 0;
    }
    if (!any_positive)
        return sgs_error_set(err, SGS_EDATA, "all %zu sample weights are zero", n);
    return SGS_OK;
}

int sgs__kmeans_check_options(const sgs_kmeans_options_t *opt, size_t n, size_t d, sgs_error_t *err)
{
    if (opt->k == 0)
        return sgs_error_set(err, SGS_EINVAL, "k must be at least 1");
    if (opt->k > (size_t)INT32_MAX)
        return sgs_error_set(err, SGS_EINVAL, "k = %zu is too large", opt->k);
    if (d == 0)
        return sgs_error_set(err, SGS_EINVAL, "the matrix has no columns");
    if (n < opt->k)
        return sgs_error_set(err, SGS_EINVAL, "n = %zu rows, fewer than k = %zu clusters", n,
                             opt->k);
    if (opt->max_iter < 1)
        return sgs_error_set(err, SGS_EINVAL, "max_iter must be at least 1 (got %d)",
                             opt->max_iter);
    if (!(opt->tol >= 0) || !isfinite(opt->tol))
        return sgs_error_set(err, SGS_EINVAL, "tol must be finite and >= 0 (got %g)", opt->tol);
    if (opt->n_init < 1)
        return sgs_error_set(err, SGS_EINVAL, "n_init must be at least 1 (got %d)", opt->n_init);
    if (opt->init == SGS_KMEANS_INIT_GIVEN && !opt->init_centers)
        return sgs_error_set(err, SGS_EINVAL, "init = given but no initial centers");
    if ((unsigned)opt->init > SGS_KMEANS_INIT_GIVEN)
        return sgs_error_set(err, SGS_EINVAL, "unknown init %d", (int)opt->init);
    if ((unsigned)opt->algorithm > SGS_KMEANS_MINIBATCH)
        return sgs_error_set(err, SGS_EINVAL, "unknown algorithm %d", (int)opt->algorithm);
    if (opt->algorithm == SGS_KMEANS_MINIBATCH && opt->batch_size == 0)
        return sgs_error_set(err, SGS_EINVAL, "batch_size must be at least 1");
    if (opt->init == SGS_KMEANS_INIT_PARALLEL && (!(opt->oversampling > 0) || opt->n_rounds < 1))
        return sgs_error_set(err, SGS_EINVAL, "k-means|| needs oversampling > 0 and rounds >= 1");
    return SGS_OK;
}

/* ---- The whole fit ------------------------------------------------------------------------ */

int sgs_kmeans_fit(const double *x, size_t n, size_t d, const double *weights,
                   const sgs_kmeans_options_t *opt, const sgs_exec_t *exec, int32_t *labels,
                   double *centers, sgs_kmeans_result_t *result, sgs_error_t *err)
{
    int rc = sgs__kmeans_check_options(opt, n, d, err);
    if (!rc)
        rc = sgs_kmeans_check_finite(x, n, d, exec, err);
    if (!rc)
        rc = check_weights(weights, n, err);
    if (!rc && opt->init == SGS_KMEANS_INIT_GIVEN) {
        rc = sgs_kmeans_check_finite(opt->init_centers, opt->k, d, exec, err);
        if (rc)
            sgs_error_prefix(err, "initial centers");
    }
    if (rc)
        return rc;
    double tol_abs;
    rc = sgs_kmeans_tolerance(x, n, d, opt->tol, exec, &tol_abs, err);
    if (rc)
        return rc;
    size_t k = opt->k;
    int n_runs = opt->n_init;
    if (opt->init == SGS_KMEANS_INIT_FIRST || opt->init == SGS_KMEANS_INIT_GIVEN)
        n_runs = 1;
    int32_t *run_labels = NULL;
    double *run_centers = NULL;
    sgs__kmeans_ws_t ws = {0}; /* shared by the restarts (sgs__kmeans_run) */
    if (opt->algorithm != SGS_KMEANS_MINIBATCH &&
        sgs__kmeans_ws_alloc(&ws, n, d, k, (int)opt->algorithm))
        return sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for n = %zu, k = %zu", n, k);
    if (n_runs > 1) {
        run_labels = sgs_alloc_array(n, sizeof *run_labels);
        run_centers = sgs_alloc_array(k * d, sizeof *run_centers);
        if (!run_labels || !run_centers) {
            sgs_free(run_labels);
            sgs_free(run_centers);
            sgs__kmeans_ws_free(&ws);
            return sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for restarts");
        }
    }
    /* k-means|| keeps a distance and a candidate per row: the run's labels hold the candidates
     * and, for Hamerly and Elkan, the upper bounds the distances (the run sets both before
     * reading them); Lloyd has no such array, so one is allocated for all the restarts. Fresh
     * pages are slow to fault in on the machines this runs on (DESIGN.md, Scale). */
    double *seed_closest = NULL;
    if (opt->init == SGS_KMEANS_INIT_PARALLEL && opt->algorithm != SGS_KMEANS_MINIBATCH) {
        seed_closest = ws.upper ? ws.upper : sgs_alloc_array(n, sizeof *seed_closest);
        if (!seed_closest) {
            sgs_free(run_labels);
            sgs_free(run_centers);
            sgs__kmeans_ws_free(&ws);
            return sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for n = %zu", n);
        }
    }
    for (int run = 0; run < n_runs && !rc; run++) {
        /* Run 0 writes straight into the outputs; later runs into scratch, copied over the
         * outputs when they win. */
        int32_t *lab = run == 0 ? labels : run_labels;
        double *cen = run == 0 ? centers : run_centers;
        sgs_kmeans_result_t res;
        sgs_kmeans_options_t o = *opt;
        rc = sgs_exec_stop(exec, err); /* before the seeding of each restart */
        if (rc)
            break;
        if (opt->algorithm == SGS_KMEANS_MINIBATCH) {
            rc = sgs__kmeans_minibatch(x, n, d, weights, &o, tol_abs, run, exec, cen, lab, &res,
                                       err);
        } else {
            rc = sgs__kmeans_seed_into(x, n, d, weights, &o, run, exec, seed_closest,
                                       seed_closest ? lab : NULL, cen, err);
            if (!rc)
                rc = sgs__kmeans_run(x, n, d, weights, &o, tol_abs, exec, cen, lab, &res, &ws, err);
        }
        if (rc)
            break;
        res.best_run = run;
        if (run == 0) {
            *result = res;
        } else if (res.inertia < result->inertia &&
                   sgs_kmeans_same_clustering(lab, labels, n, k) != 1) {
            memcpy(labels, lab, n * sizeof *labels);
            memcpy(centers, cen, k * d * sizeof *centers);
            *result = res;
        }
    }
    if (seed_closest != ws.upper)
        sgs_free(seed_closest);
    sgs_free(run_labels);
    sgs_free(run_centers);
    sgs__kmeans_ws_free(&ws);
    return rc;
}
