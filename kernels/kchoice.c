/*
 * kernels/kchoice.c — Calinski-Harabasz, sampled silhouette, and the k table. See kchoice.h.
 */
#include "kernels/kchoice.h"

#include "kernels/kmeans_dist_internal.h"
#include "kernels/kmeans_internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

static void block_range(size_t b, size_t n, size_t *r0, size_t *r1)
{
    *r0 = b * SGS_BLOCK_ROWS;
    *r1 = *r0 + SGS_BLOCK_ROWS < n ? *r0 + SGS_BLOCK_ROWS : n;
}

static int check_labels(const int32_t *labels, size_t n, size_t k, sgs_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= k)
            return sgs_error_set(err, SGS_EINVAL, "label %d of row %zu is not in 0..%zu",
                                 (int)labels[i], i, k - 1);
    return SGS_OK;
}

/* ---- Calinski-Harabasz --------------------------------------------------------------------- */

int sgs_kchoice_calinski_harabasz(const double *x, size_t n, size_t d, const int32_t *labels,
                                  size_t k, const sgs_exec_t *exec, double *score, sgs_error_t *err)
{
    int rc = check_labels(labels, n, k, err);
    if (rc)
        return rc;
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t stride = k * (d + 1);
    double *part = sgs_alloc_array(nb, 4 * stride * sizeof *part);
    double *sums = sgs_calloc_array(stride + d, sizeof *sums);
    double *wpart = sgs_alloc_array(nb, sizeof *wpart);
    if (!part || !sums || !wpart) {
        sgs_free(part);
        sgs_free(sums);
        sgs_free(wpart);
        return sgs_error_set(err, SGS_ENOMEM, "Calinski-Harabasz: out of memory");
    }
    int nt = sgs_exec_threads(exec);
    /* Pass 1: cluster sums and counts per block. */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        double *p = part + b * 4 * stride;
        memset(p, 0, 4 * stride * sizeof *p);
        sgs__kmeans_accumulate(SGS__ISA_SCALAR, x + r0 * d, r1 - r0, d, k, r0, labels + r0, NULL,
                               p);
    }
    double *cs = sums, *cnt = sums + k * d, *mean = sums + stride;
    for (size_t b = 0; b < nb; b++)
        sgs__kmeans_fold4_add(part + b * 4 * stride, stride, sums);
    size_t q = 0;
    for (size_t f = 0; f < d; f++) {
        double s = 0;
        for (size_t j = 0; j < k; j++)
            s += cs[j * d + f];
        mean[f] = s / (double)n;
    }
    for (size_t j = 0; j < k; j++) {
        if (cnt[j] > 0) {
            q++;
            for (size_t f = 0; f < d; f++)
                cs[j * d + f] /= cnt[j];
        }
    }
    /* Pass 2: within-cluster sum of squares W. */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        double s = 0;
        for (size_t i = r0; i < r1; i++)
            s += sgs__kmeans_sqdist(x + i * d, cs + (size_t)labels[i] * d, d);
        wpart[b] = s;
    }
    double W = 0, B = 0;
    for (size_t b = 0; b < nb; b++)
        W += wpart[b];
    for (size_t j = 0; j < k; j++)
        if (cnt[j] > 0)
            B += cnt[j] * sgs__kmeans_sqdist(cs + j * d, mean, d);
    if (q < 2 || q >= n)
        *score = NAN;
    else if (W == 0)
        *score = 1.0;
    else
        *score = B * (double)(n - q) / (W * (double)(q - 1));
    sgs_free(part);
    sgs_free(sums);
    sgs_free(wpart);
    return SGS_OK;
}

/* ---- Silhouette -------------------------------------------------------------------------------
 */

int sgs_kchoice_silhouette(const double *x, size_t n, size_t d, const int32_t *labels, size_t k,
                           size_t sample_size, uint64_t seed, const sgs_exec_t *exec, double *score,
                           sgs_error_t *err)
{
    int rc = check_labels(labels, n, k, err);
    if (rc)
        return rc;
    size_t m = sample_size == 0 || sample_size >= n ? n : sample_size;
    int nt = sgs_exec_threads(exec);
    size_t *idx = sgs_alloc_array(m, sizeof *idx);
    double *xs = sgs_alloc_array(m, d * sizeof *xs);
    int32_t *ls = sgs_alloc_array(m, sizeof *ls);
    double *s = sgs_alloc_array(m, sizeof *s);
    double *cnt = sgs_calloc_array(k, sizeof *cnt);
    double *scratch = sgs_alloc_array((size_t)nt, (m + k) * sizeof *scratch);
    if (!idx || !xs || !ls || !s || !cnt || !scratch) {
        rc = sgs_error_set(err, SGS_ENOMEM, "silhouette: out of memory for a sample of %zu", m);
        goto cleanup;
    }
    if (m == n) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
    } else if (sgs__kmeans_sample_rows(n, m, seed, SGS__STREAM_SUBSAMPLE, idx)) {
        rc = sgs_error_set(err, SGS_ENOMEM, "silhouette: out of memory");
        goto cleanup;
    }
    size_t q = 0;
    for (size_t i = 0; i < m; i++) {
        memcpy(xs + i * d, x + idx[i] * d, d * sizeof *xs);
        ls[i] = labels[idx[i]];
        if (cnt[ls[i]]++ == 0)
            q++;
    }
    if (q < 2 || q >= m) {
        *score = NAN;
        goto cleanup;
    }
    int isa = sgs__kmeans_isa_resolve(SGS__ISA_AUTO);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 16)
    for (size_t i = 0; i < m; i++) {
        double *dist = scratch + (size_t)omp_get_thread_num() * (m + k);
        double *acc = dist + m;
        /* Distances from every sampled row to row i ((a - b)^2 == (b - a)^2 exactly). */
        sgs__kmeans_distances(isa, xs, m, d, xs + i * d, 1, dist);
        for (size_t j = 0; j < k; j++)
            acc[j] = 0;
        for (size_t r = 0; r < m; r++)
            acc[ls[r]] += sqrt(dist[r]);
        size_t own = (size_t)ls[i];
        if (cnt[own] <= 1) {
            s[i] = 0;
            continue;
        }
        double a = acc[own] / (cnt[own] - 1), b = INFINITY;
        for (size_t j = 0; j < k; j++)
            if (j != own && cnt[j] > 0 && acc[j] / cnt[j] < b)
                b = acc[j] / cnt[j];
        double mx = a > b ? a : b;
        s[i] = mx > 0 ? (b - a) / mx : 0;
    }
    double tot = 0;
    for (size_t i = 0; i < m; i++)
        tot += s[i];
    *score = tot / (double)m;
cleanup:
    sgs_free(idx);
    sgs_free(xs);
    sgs_free(ls);
    sgs_free(s);
    sgs_free(cnt);
    sgs_free(scratch);
    return rc;
}

/* ---- Serial reference twins --------------------------------------------------------------- */

int sgs_kchoice_calinski_harabasz_ref(const double *x, size_t n, size_t d, const int32_t *labels,
                                      size_t k, double *score, sgs_error_t *err)
{
    int rc = check_labels(labels, n, k, err);
    if (rc)
        return rc;
    double *centre = sgs_calloc_array(k, d * sizeof *centre); /* sums, then means */
    double *cnt = sgs_calloc_array(k, sizeof *cnt);
    double *mean = sgs_calloc_array(d, sizeof *mean);
    if (!centre || !cnt || !mean) {
        rc = sgs_error_set(err, SGS_ENOMEM, "Calinski-Harabasz: out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)labels[i];
        cnt[j] += 1;
        for (size_t f = 0; f < d; f++) {
            centre[j * d + f] += x[i * d + f];
            mean[f] += x[i * d + f];
        }
    }
    size_t q = 0;
    for (size_t f = 0; f < d; f++)
        mean[f] /= (double)n;
    for (size_t j = 0; j < k; j++)
        if (cnt[j] > 0) {
            q++;
            for (size_t f = 0; f < d; f++)
                centre[j * d + f] /= cnt[j];
        }
    double W = 0, B = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++) {
            double t = x[i * d + f] - centre[(size_t)labels[i] * d + f];
            W += t * t;
        }
    for (size_t j = 0; j < k; j++)
        for (size_t f = 0; cnt[j] > 0 && f < d; f++) {
            double t = centre[j * d + f] - mean[f];
            B += cnt[j] * t * t;
        }
    if (q < 2 || q >= n)
        *score = NAN;
    else if (W == 0)
        *score = 1.0;
    else
        *score = B * (double)(n - q) / (W * (double)(q - 1));
cleanup:
    sgs_free(centre);
    sgs_free(cnt);
    sgs_free(mean);
    return rc;
}

int sgs_kchoice_silhouette_ref(const double *x, size_t n, size_t d, const int32_t *labels, size_t k,
                               size_t sample_size, uint64_t seed, double *score, sgs_error_t *err)
{
    int rc = check_labels(labels, n, k, err);
    if (rc)
        return rc;
    size_t m = sample_size == 0 || sample_size >= n ? n : sample_size;
    size_t *idx = sgs_alloc_array(m, sizeof *idx);
    double *cnt = sgs_calloc_array(k, sizeof *cnt), *sum = sgs_alloc_array(k, sizeof *sum);
    if (!idx || !cnt || !sum) {
        rc = sgs_error_set(err, SGS_ENOMEM, "silhouette: out of memory for a sample of %zu", m);
        goto cleanup;
    }
    if (m == n) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
    } else if (sgs__kmeans_sample_rows(n, m, seed, SGS__STREAM_SUBSAMPLE, idx)) {
        rc = sgs_error_set(err, SGS_ENOMEM, "silhouette: out of memory");
        goto cleanup;
    }
    size_t q = 0;
    for (size_t i = 0; i < m; i++)
        if (cnt[labels[idx[i]]]++ == 0)
            q++;
    if (q < 2 || q >= m) {
        *score = NAN;
        goto cleanup;
    }
    double tot = 0;
    for (size_t i = 0; i < m; i++) {
        const double *xi = x + idx[i] * d;
        size_t own = (size_t)labels[idx[i]];
        for (size_t j = 0; j < k; j++)
            sum[j] = 0;
        for (size_t r = 0; r < m; r++) {
            const double *xr = x + idx[r] * d;
            double s2 = 0;
            for (size_t f = 0; f < d; f++)
                s2 += (xi[f] - xr[f]) * (xi[f] - xr[f]);
            sum[labels[idx[r]]] += sqrt(s2);
        }
        double s = 0;
        if (cnt[own] > 1) {
            double a = sum[own] / (cnt[own] - 1), b = INFINITY;
            for (size_t j = 0; j < k; j++)
                if (j != own && cnt[j] > 0 && sum[j] / cnt[j] < b)
                    b = sum[j] / cnt[j];
            double mx = a > b ? a : b;
            s = mx > 0 ? (b - a) / mx : 0;
        }
        tot += s;
    }
    *score = tot / (double)m;
cleanup:
    sgs_free(idx);
    sgs_free(cnt);
    sgs_free(sum);
    return rc;
}

/* ---- The k table -------------------------------------------------------------------------------
 */

int sgs_kchoice_run(const double *x, size_t n, size_t d, const double *weights, size_t k_min,
                    size_t k_max, const sgs_kmeans_options_t *base, size_t sample_size,
                    const sgs_exec_t *exec, sgs_kchoice_row_t *rows, size_t *chosen_k,
                    sgs_error_t *err)
{
    if (k_min < 2 || k_max < k_min || k_max > n)
        return sgs_error_set(err, SGS_EINVAL, "k range %zu..%zu is invalid for %zu rows", k_min,
                             k_max, n);
    int32_t *labels = sgs_alloc_array(n, sizeof *labels);
    double *centers = sgs_alloc_array(k_max, d * sizeof *centers);
    int rc = SGS_OK;
    if (!labels || !centers) {
        rc = sgs_error_set(err, SGS_ENOMEM, "k choice: out of memory");
        goto cleanup;
    }
    for (size_t k = k_min; k <= k_max && !rc; k++) {
        sgs_kmeans_options_t opt = *base;
        opt.k = k;
        sgs_kmeans_result_t res;
        sgs_kchoice_row_t *row = rows + (k - k_min);
        rc = sgs_kmeans_fit(x, n, d, weights, &opt, exec, labels, centers, &res, err);
        if (!rc)
            rc = sgs_kchoice_calinski_harabasz(x, n, d, labels, k, exec, &row->calinski_harabasz,
                                               err);
        if (!rc)
            rc = sgs_kchoice_silhouette(x, n, d, labels, k, sample_size, base->seed, exec,
                                        &row->silhouette, err);
        if (rc) {
            sgs_error_prefix(err, "k = %zu", k);
            break;
        }
        row->k = k;
        row->inertia = res.inertia;
        row->n_iter = res.n_iter;
        row->converged = res.converged;
        row->n_nonempty = res.n_nonempty;
    }
    if (!rc) {
        size_t nk = k_max - k_min + 1, best = SIZE_MAX;
        for (size_t r = 0; r < nk; r++)
            if (!isnan(rows[r].silhouette) &&
                (best == SIZE_MAX || rows[r].silhouette > rows[best].silhouette))
                best = r;
        if (best == SIZE_MAX)
            for (size_t r = 0; r < nk; r++)
                if (!isnan(rows[r].calinski_harabasz) &&
                    (best == SIZE_MAX || rows[r].calinski_harabasz > rows[best].calinski_harabasz))
                    best = r;
        *chosen_k = best == SIZE_MAX ? k_min : rows[best].k;
    }
cleanup:
    sgs_free(labels);
    sgs_free(centers);
    return rc;
}
