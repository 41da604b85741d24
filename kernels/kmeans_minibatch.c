/*
 * kernels/kmeans_minibatch.c — mini-batch k-means (D. Sculley, "Web-scale k-means
 * clustering", WWW 2010), with the per-center running weighted means and the early-stop
 * rules of scikit-learn's MiniBatchKMeans (sklearn/cluster/_kmeans.py: _mini_batch_step,
 * _mini_batch_convergence; _k_means_minibatch.pyx: _update_center_dense), without the
 * random reassignment of small centers. Contract in kernels/kmeans.h.
 */
#include "kernels/kmeans.h"

#include "kernels/kmeans_dist_internal.h"
#include "kernels/kmeans_internal.h"

#include <math.h>
#include <string.h>

#define CHUNK_ROWS 256

int sgs__kmeans_minibatch(const double *x, size_t n, size_t d, const double *weights,
                          const sgs_kmeans_options_t *opt, double tol_abs, int run,
                          const sgs_exec_t *exec, double *centers, int32_t *labels,
                          sgs_kmeans_result_t *res, sgs_error_t *err)
{
    size_t k = opt->k, bs = opt->batch_size;
    uint64_t stream = (uint64_t)run * SGS__STREAMS + SGS__STREAM_MINIBATCH;
    int isa = sgs__kmeans_isa_resolve((int)opt->isa);
    int nt = sgs_exec_threads(exec);
    memset(res, 0, sizeof *res);
    res->tol_abs = tol_abs;

    /* Seeds from a sample of min(n, 3 max(batch, k)) distinct rows (all rows when that is n).
     * The first / given initializations take the first rows of x / the given centers. */
    size_t init_size = 3 * (bs > k ? bs : k);
    if (init_size > n)
        init_size = n;
    size_t *idx = sgs_alloc_array(init_size > bs ? init_size : bs, sizeof *idx);
    double *xs = sgs_alloc_array(init_size > bs ? init_size : bs, d * sizeof *xs);
    double *ws = weights ? sgs_alloc_array(init_size > bs ? init_size : bs, sizeof *ws) : NULL;
    double *wsum = sgs_calloc_array(k, sizeof *wsum);
    double *csum = sgs_alloc_array(k, d * sizeof *csum);
    double *bw = sgs_alloc_array(k, sizeof *bw);
    int32_t *blab = sgs_alloc_array(bs, sizeof *blab);
    double *bdist = sgs_alloc_array(bs, sizeof *bdist);
    int rc = SGS_OK;
    if (!idx || !xs || (weights && !ws) || !wsum || !csum || !bw || !blab || !bdist) {
        rc = sgs_error_set(err, SGS_ENOMEM, "mini-batch k-means: out of memory");
        goto cleanup;
    }
    if (opt->init == SGS_KMEANS_INIT_FIRST || opt->init == SGS_KMEANS_INIT_GIVEN ||
        init_size == n) {
        rc = sgs__kmeans_seed(x, n, d, weights, opt, run, exec, centers, err);
    } else {
        rc = sgs__kmeans_sample_rows(n, init_size, opt->seed,
                                     (uint64_t)run * SGS__STREAMS + SGS__STREAM_SUBSAMPLE, idx);
        if (rc) {
            sgs_error_set(err, rc, "mini-batch k-means: out of memory");
            goto cleanup;
        }
        for (size_t q = 0; q < init_size; q++) {
            memcpy(xs + q * d, x + idx[q] * d, d * sizeof *xs);
            if (ws)
                ws[q] = weights[idx[q]];
        }
        rc = sgs__kmeans_seed(xs, init_size, d, ws, opt, run, exec, centers, err);
    }
    if (rc)
        goto cleanup;

    size_t n_steps = (size_t)opt->max_iter * n / bs;
    if (n_steps == 0)
        n_steps = 1;
    double ewa = 0, ewa_min = INFINITY;
    int no_improvement = 0, converged = 0;
    double alpha = (double)bs * 2.0 / ((double)n + 1.0);
    if (alpha > 1)
        alpha = 1;
    size_t step;
    uint64_t counter = 0;
    for (step = 0; step < n_steps && !converged; step++) {
        rc = sgs_exec_stop(exec, err);
        if (rc)
            goto cleanup;
        /* Draw the batch with replacement. */
        for (size_t q = 0; q < bs; q++) {
            idx[q] = (size_t)(sgs_rng_u64(opt->seed, stream, counter++) % (uint64_t)n);
            memcpy(xs + q * d, x + idx[q] * d, d * sizeof *xs);
        }
        size_t nchunk = (bs + CHUNK_ROWS - 1) / CHUNK_ROWS;
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t ch = 0; ch < nchunk; ch++) {
            size_t q0 = ch * CHUNK_ROWS, m = bs - q0 < CHUNK_ROWS ? bs - q0 : CHUNK_ROWS;
            sgs__kmeans_argmin(isa, xs + q0 * d, m, d, centers, k, blab + q0, bdist + q0, NULL);
        }
        /* Batch inertia (per row, as sklearn divides by the batch size). */
        double binertia = 0;
        for (size_t q = 0; q < bs; q++)
            binertia += weights ? bdist[q] * weights[idx[q]] : bdist[q];
        binertia /= (double)bs;
        /* Update: c = (c * W + sum x w) / (W + wsum), per center, rows in batch order. */
        for (size_t j = 0; j < k; j++)
            bw[j] = 0;
        for (size_t q = 0; q < bs; q++)
            bw[blab[q]] += weights ? weights[idx[q]] : 1.0;
        for (size_t j = 0; j < k; j++)
            if (bw[j] > 0)
                for (size_t f = 0; f < d; f++)
                    csum[j * d + f] = centers[j * d + f] * wsum[j];
        for (size_t q = 0; q < bs; q++) {
            size_t j = (size_t)blab[q];
            double wq = weights ? weights[idx[q]] : 1.0;
            for (size_t f = 0; f < d; f++)
                csum[j * d + f] += xs[q * d + f] * wq;
        }
        double shift2 = 0;
        for (size_t j = 0; j < k; j++) {
            if (!(bw[j] > 0))
                continue;
            wsum[j] += bw[j];
            double a = 1 / wsum[j];
            for (size_t f = 0; f < d; f++) {
                double nc = csum[j * d + f] * a;
                double t = nc - centers[j * d + f];
                shift2 += t * t;
                centers[j * d + f] = nc;
            }
        }
        if (opt->on_iter)
            opt->on_iter(opt->on_iter_ctx, run, (int)(step < INT32_MAX ? step : INT32_MAX), 0,
                         shift2);
        /* Convergence (sklearn _mini_batch_convergence); the first step only seeds the EWA. */
        if (step == 0) {
            ewa = binertia;
        } else {
            ewa = ewa * (1 - alpha) + binertia * alpha;
            if (tol_abs > 0 && shift2 <= tol_abs)
                converged = 1;
            if (ewa < ewa_min) {
                no_improvement = 0;
                ewa_min = ewa;
            } else {
                no_improvement++;
            }
            if (opt->max_no_improvement > 0 && no_improvement >= opt->max_no_improvement)
                converged = 1;
        }
        res->n_distances += (uint64_t)bs * k;
    }
    res->n_iter = step > (size_t)INT32_MAX ? INT32_MAX : (int)step;
    res->converged = converged;
    rc = sgs_kmeans_assign(x, n, d, centers, k, exec, labels, NULL, err);
    if (!rc)
        rc = sgs_kmeans_inertia(x, n, d, weights, centers, k, labels, exec, &res->inertia, err);
    if (!rc)
        res->n_nonempty =
            sgs__kmeans_count_nonempty(labels, n, k, weights, sgs_exec_threads(exec), bw);

cleanup:
    sgs_free(idx);
    sgs_free(xs);
    sgs_free(ws);
    sgs_free(wsum);
    sgs_free(csum);
    sgs_free(bw);
    sgs_free(blab);
    sgs_free(bdist);
    return rc;
}
