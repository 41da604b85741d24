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

/* The rows a silhouette is taken on: all of them when m == n, else m drawn with seed (the
 * same for every labeling of the rows). @return 0 or SGS_ENOMEM. */
static int silhouette_rows(size_t n, size_t m, uint64_t seed, size_t *idx)
{
    if (m < n)
        return sgs__kmeans_sample_rows(n, m, seed, SGS__STREAM_SUBSAMPLE, idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    return SGS_OK;
}

/* The mean silhouettes of n_sets labelings of the same rows at once: the sample, and the
 * distances from each sampled row to the others (the m^2 d work and the square roots), do not
 * depend on the labels, so they are computed once and summed into every labeling's clusters.
 * Each labeling's sums are taken in the same order as for it alone: the same bits.
 * labels[s] has ks[s] clusters; scores[s] receives its silhouette. */
static int silhouettes(const double *x, size_t n, size_t d, const int32_t *const *labels,
                       const size_t *ks, size_t n_sets, size_t sample_size, uint64_t seed,
                       const sgs_exec_t *exec, double *scores, sgs_error_t *err)
{
    size_t k_total = 0;
    for (size_t t = 0; t < n_sets; t++) {
        int rc = check_labels(labels[t], n, ks[t], err);
        if (rc)
            return rc;
        k_total += ks[t];
    }
    size_t m = sample_size == 0 || sample_size >= n ? n : sample_size;
    int nt = sgs_exec_threads(exec);
    size_t *idx = sgs_alloc_array(m, sizeof *idx);
    double *xs = sgs_alloc_array(m, d * sizeof *xs);
    int32_t *ls = sgs_alloc_array(m, n_sets * sizeof *ls); /* [t * m + i] */
    double *s = sgs_alloc_array(m, n_sets * sizeof *s);    /* [t * m + i] */
    double *cnt = sgs_calloc_array(k_total, sizeof *cnt);  /* set t from base[t] */
    size_t *base = sgs_alloc_array(n_sets, sizeof *base);
    uint8_t *defined = sgs_alloc_array(n_sets, sizeof *defined);
    double *scratch = sgs_alloc_array((size_t)nt, (m + k_total) * sizeof *scratch);
    int rc = SGS_OK;
    if (!idx || !xs || !ls || !s || !cnt || !base || !defined || !scratch) {
        rc = sgs_error_set(err, SGS_ENOMEM, "silhouette: out of memory for a sample of %zu", m);
        goto cleanup;
    }
    if (silhouette_rows(n, m, seed, idx)) {
        rc = sgs_error_set(err, SGS_ENOMEM, "silhouette: out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < m; i++)
        memcpy(xs + i * d, x + idx[i] * d, d * sizeof *xs);
    for (size_t t = 0, kb = 0; t < n_sets; kb += ks[t], t++) {
        base[t] = kb;
        size_t q = 0;
        for (size_t i = 0; i < m; i++) {
            ls[t * m + i] = labels[t][idx[i]];
            if (cnt[kb + (size_t)ls[t * m + i]]++ == 0)
                q++;
        }
        defined[t] = q >= 2 && q < m;
    }
    int isa = sgs__kmeans_isa_resolve(SGS__ISA_AUTO);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 16)
    for (size_t i = 0; i < m; i++) {
        double *dist = scratch + (size_t)omp_get_thread_num() * (m + k_total);
        double *acc = dist + m; /* set t's clusters from base[t] */
        /* Distances from every sampled row to row i ((a - b)^2 == (b - a)^2 exactly). */
        sgs__kmeans_distances(isa, xs, m, d, xs + i * d, 1, dist);
        for (size_t j = 0; j < k_total; j++)
            acc[j] = 0;
        for (size_t r = 0; r < m; r++) {
            double dr = sqrt(dist[r]);
            for (size_t t = 0; t < n_sets; t++)
                acc[base[t] + (size_t)ls[t * m + r]] += dr;
        }
        for (size_t t = 0; t < n_sets; t++) {
            const double *at = acc + base[t], *ct = cnt + base[t];
            size_t own = (size_t)ls[t * m + i];
            if (ct[own] <= 1) {
                s[t * m + i] = 0;
                continue;
            }
            double a = at[own] / (ct[own] - 1), b = INFINITY;
            for (size_t j = 0; j < ks[t]; j++)
                if (j != own && ct[j] > 0 && at[j] / ct[j] < b)
                    b = at[j] / ct[j];
            double mx = a > b ? a : b;
            s[t * m + i] = mx > 0 ? (b - a) / mx : 0;
        }
    }
    for (size_t t = 0; t < n_sets; t++) {
        double tot = 0;
        for (size_t i = 0; i < m; i++)
            tot += s[t * m + i];
        scores[t] = defined[t] ? tot / (double)m : (double)NAN;
    }
cleanup:
    sgs_free(idx);
    sgs_free(xs);
    sgs_free(ls);
    sgs_free(s);
    sgs_free(cnt);
    sgs_free(base);
    sgs_free(defined);
    sgs_free(scratch);
    return rc;
}

int sgs_kchoice_silhouette(const double *x, size_t n, size_t d, const int32_t *labels, size_t k,
                           size_t sample_size, uint64_t seed, const sgs_exec_t *exec, double *score,
                           sgs_error_t *err)
{
    return silhouettes(x, n, d, &labels, &k, 1, sample_size, seed, exec, score, err);
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
    if (silhouette_rows(n, m, seed, idx)) {
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
    size_t nk = k_max - k_min + 1;
    /* every k's labels, kept for one silhouette pass over them all (silhouettes) */
    int32_t *labels = sgs_alloc_array(n, nk * sizeof *labels);
    double *centers = sgs_alloc_array(k_max, d * sizeof *centers);
    const int32_t **label_sets = sgs_alloc_array(nk, sizeof *label_sets);
    size_t *ks = sgs_alloc_array(nk, sizeof *ks);
    double *sil = sgs_alloc_array(nk, sizeof *sil);
    int rc = SGS_OK;
    if (!labels || !centers || !label_sets || !ks || !sil) {
        rc = sgs_error_set(err, SGS_ENOMEM, "k choice: out of memory");
        goto cleanup;
    }
    for (size_t k = k_min; k <= k_max && !rc; k++) {
        sgs_kmeans_options_t opt = *base;
        opt.k = k;
        sgs_kmeans_result_t res;
        size_t r = k - k_min;
        sgs_kchoice_row_t *row = rows + r;
        int32_t *lk = labels + r * n;
        rc = sgs_kmeans_fit(x, n, d, weights, &opt, exec, lk, centers, &res, err);
        if (!rc)
            rc = sgs_kchoice_calinski_harabasz(x, n, d, lk, k, exec, &row->calinski_harabasz, err);
        if (rc) {
            sgs_error_prefix(err, "k = %zu", k);
            break;
        }
        label_sets[r] = lk;
        ks[r] = k;
        row->k = k;
        row->inertia = res.inertia;
        row->n_iter = res.n_iter;
        row->converged = res.converged;
        row->n_nonempty = res.n_nonempty;
    }
    if (!rc)
        rc = silhouettes(x, n, d, label_sets, ks, nk, sample_size, base->seed, exec, sil, err);
    if (!rc) {
        size_t best = SIZE_MAX;
        for (size_t r = 0; r < nk; r++)
            rows[r].silhouette = sil[r];
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
    sgs_free(label_sets);
    sgs_free(ks);
    sgs_free(sil);
    return rc;
}
