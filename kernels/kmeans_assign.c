/*
 * kernels/kmeans_assign.c — the k-means helpers on fixed centers: the E-step (nearest
 * center of every row), the inertia of a labelling, the absolute tolerance from the
 * feature variances, whether two labellings are the same clustering (kernels/kmeans.h), and
 * the number of non-empty clusters of a labelling (kernels/kmeans_internal.h).
 */
#include "kernels/kmeans.h"

#include "kernels/features.h"
#include "kernels/kmeans_dist_internal.h"
#include "kernels/kmeans_internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

int sgs_kmeans_assign(const double *x, size_t n, size_t d, const double *centers, size_t k,
                      const sgs_exec_t *exec, int32_t *labels, double *sqdist, sgs_error_t *err)
{
    if (k == 0 || k > (size_t)INT32_MAX || d == 0)
        return sgs_error_set(err, SGS_EINVAL, "assign: k = %zu, d = %zu", k, d);
    int isa = sgs__kmeans_isa_resolve(SGS__ISA_AUTO);
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
    double *ws = NULL;
    sgs__kmeans_prep_t prep;
    if (!sqdist) {
        ws = sgs_alloc_array(sgs__kmeans_prep_size(k, d), sizeof *ws);
        if (!ws)
            return sgs_error_set(err, SGS_ENOMEM, "assign: out of memory");
        sgs__kmeans_prep(centers, k, d, ws, &prep);
    }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        if (sqdist)
            sgs__kmeans_argmin(isa, x + r0 * d, r1 - r0, d, centers, k, labels + r0, sqdist + r0,
                               NULL);
        else
            sgs__kmeans_labels(isa, x + r0 * d, r1 - r0, &prep, labels + r0, NULL);
    }
    sgs_free(ws);
    return SGS_OK;
}

int sgs_kmeans_inertia(const double *x, size_t n, size_t d, const double *weights,
                       const double *centers, size_t k, const int32_t *labels,
                       const sgs_exec_t *exec, double *inertia, sgs_error_t *err)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    double *part = sgs_alloc_array(nb, sizeof *part);
    if (!part)
        return sgs_error_set(err, SGS_ENOMEM, "inertia: out of memory");
    size_t bad = SIZE_MAX;
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static) reduction(min : bad)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        double s = 0;
        for (size_t i = r0; i < r1; i++) {
            int32_t a = labels[i];
            if (a < 0 || (size_t)a >= k) {
                if (i < bad)
                    bad = i;
                break;
            }
            double dist = sgs__kmeans_sqdist(x + i * d, centers + (size_t)a * d, d);
            s += weights ? dist * weights[i] : dist;
        }
        part[b] = s;
    }
    double tot = 0;
    for (size_t b = 0; b < nb; b++)
        tot += part[b];
    sgs_free(part);
    if (bad != SIZE_MAX)
        return sgs_error_set(err, SGS_EINVAL, "label %d of row %zu is not in 0..%zu",
                             (int)labels[bad], bad, k - 1);
    *inertia = tot;
    return SGS_OK;
}

int sgs_kmeans_tolerance(const double *x, size_t n, size_t d, double tol, const sgs_exec_t *exec,
                         double *tol_abs, sgs_error_t *err)
{
    if (tol == 0 || n == 0) {
        *tol_abs = 0;
        return SGS_OK;
    }
    double *moments = sgs_alloc_array(2 * d, sizeof *moments); /* means, then variances */
    if (!moments || sgs_features_column_moments(x, n, d, exec, moments, moments + d)) {
        sgs_free(moments);
        return sgs_error_set(err, SGS_ENOMEM, "tolerance: out of memory");
    }
    double var_sum = 0;
    for (size_t f = 0; f < d; f++)
        var_sum += moments[d + f];
    sgs_free(moments);
    *tol_abs = var_sum / (double)d * tol;
    return SGS_OK;
}

int sgs_kmeans_same_clustering(const int32_t *a, const int32_t *b, size_t n, size_t k)
{
    if (k > ((size_t)1 << 20))
        return -1;
    int32_t *map = sgs_alloc_array(k, sizeof *map);
    if (!map)
        return -1;
    for (size_t j = 0; j < k; j++)
        map[j] = -1;
    int same = 1;
    for (size_t i = 0; i < n && same; i++) {
        if (a[i] < 0 || (size_t)a[i] >= k || b[i] < 0 || (size_t)b[i] >= k) {
            same = -1;
            break;
        }
        if (map[a[i]] == -1)
            map[a[i]] = b[i];
        else if (map[a[i]] != b[i])
            same = 0;
    }
    sgs_free(map);
    return same;
}

/* The clusters of labels[0..n) holding a row of positive weight (with weights >= 0, those
 * whose weight sums to more than 0, whatever the order): each thread marks the clusters of its
 * share of the rows; serially, marks in wsum, without memory for the threads' marks. */
size_t sgs__kmeans_count_nonempty(const int32_t *labels, size_t n, size_t k, const double *weights,
                                  int nt, double *wsum)
{
    uint8_t *seen = nt > 1 ? sgs_calloc_array((size_t)nt, k) : NULL;
    size_t count = 0;
    if (!seen) {
        for (size_t j = 0; j < k; j++)
            wsum[j] = 0;
        for (size_t i = 0; i < n; i++)
            if (!weights || weights[i] > 0)
                wsum[labels[i]] = 1.0;
        for (size_t j = 0; j < k; j++)
            count += wsum[j] > 0;
        return count;
    }
#pragma omp parallel num_threads(nt)
    {
        size_t t = (size_t)omp_get_thread_num(), m = (size_t)omp_get_num_threads();
        uint8_t *mine = seen + t * k;
        for (size_t i = n * t / m; i < n * (t + 1) / m; i++)
            if (!weights || weights[i] > 0)
                mine[labels[i]] = 1;
    }
    for (size_t j = 0; j < k; j++) {
        int any = 0;
        for (int t = 0; t < nt; t++)
            any |= seen[(size_t)t * k + j];
        count += (size_t)any;
    }
    sgs_free(seen);
    return count;
}
