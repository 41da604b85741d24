/*
 * kernels/kmeans_lloyd_ref.c — the serial reference twin of the k-means fit (kernels/kmeans.h):
 * one Lloyd run from given centers (sgs_kmeans_single_ref) and the restarts that keep the best
 * run (sgs_kmeans_fit_ref). Plain loops over the rows and the centers with the scalar distance:
 * no threads, no bounds, no screen, no byte labels, no per-block candidate lists. Each rule of
 * the contract is restated here rather than taken from the kernel's helpers: the first-minimum
 * label, the weighted means, the relocation of empty clusters, the center shift and the
 * stopping rules, the final E-step, the inertia, the counts, and the choice among restarts.
 * tests/unit/test_kmeans_lloyd_twins.c compares the kernels with it on 1, 2 and 3 threads.
 *
 * Summation order, and why the comparison is bitwise. The kernel's cluster sums and inertia
 * are formed per block of SGS_BLOCK_ROWS rows and combined in block order, and within a block
 * the cluster sums go to 4 sub-sums by row index, folded as (S0 + S1) + (S2 + S3) (the
 * canonical order of kernels/kmeans_dist_internal.h, "Cluster sums"). A plain running sum over
 * the rows differs from that in the last bits, and a last bit of a center can move a row that
 * sits near a boundary, after which the two runs go apart: no tolerance on centers could be
 * stated. So the twin forms its sums in that same order, written out as plain loops
 * (cluster_sums and inertia below). The order is part of the kernel's contract (kmeans.h,
 * "Determinism": it is what makes the result independent of the thread count), and with it
 * every result of the twin is the kernel's, bit for bit: labels, centers, inertia, counts.
 * Everything else (which center, which row moves, when to stop) is the plain definition.
 */
#include "kernels/kmeans.h"

#include "kernels/features.h"
#include "kernels/kmeans_internal.h"

#include <math.h>
#include <string.h>

/* ---- The definitions ------------------------------------------------------------------------- */

/* The squared distance of kmeans.h: direct differences, features in order, acc = acc + t * t,
 * no fused multiply-add (the build passes -ffp-contract=off). */
static double sqdist(const double *a, const double *b, size_t d)
{
    double t = a[0] - b[0];
    double acc = t * t;
    for (size_t f = 1; f < d; f++) {
        t = a[f] - b[f];
        acc = acc + t * t;
    }
    return acc;
}

/* The label of a row: the first center at the smallest distance (a later center wins only when
 * strictly closer; 0 when every distance overflows). */
static int32_t nearest(const double *xi, const double *c, size_t k, size_t d)
{
    int32_t best = 0;
    double db = INFINITY;
    for (size_t j = 0; j < k; j++) {
        double dj = sqdist(xi, c + j * d, d);
        if (dj < db) {
            db = dj;
            best = (int32_t)j;
        }
    }
    return best;
}

/* The sums of the labelled rows, tot = k x d sums then k weights, in the kernel's order: each
 * block of SGS_BLOCK_ROWS rows deals row i to sub-sum i mod 4, where rows are added in order
 * (s = s + x_f w and sw = sw + w; without weights s = s + x_f and sw = sw + 1); the block's
 * total (S0 + S1) + (S2 + S3) is added to tot block after block. sub: 4 k (d + 1) doubles. */
static void cluster_sums(const double *x, size_t n, size_t d, const double *w,
                         const int32_t *labels, size_t k, double *sub, double *tot)
{
    size_t stride = k * (d + 1);
    for (size_t e = 0; e < stride; e++)
        tot[e] = 0;
    for (size_t r0 = 0; r0 < n; r0 += SGS_BLOCK_ROWS) {
        size_t r1 = n - r0 < SGS_BLOCK_ROWS ? n : r0 + SGS_BLOCK_ROWS;
        for (size_t e = 0; e < 4 * stride; e++)
            sub[e] = 0;
        for (size_t i = r0; i < r1; i++) {
            double *s = sub + (i % 4) * stride;
            size_t a = (size_t)labels[i];
            for (size_t f = 0; f < d; f++)
                s[a * d + f] = s[a * d + f] + (w ? x[i * d + f] * w[i] : x[i * d + f]);
            s[k * d + a] = s[k * d + a] + (w ? w[i] : 1.0);
        }
        for (size_t e = 0; e < stride; e++)
            tot[e] =
                tot[e] + ((sub[e] + sub[stride + e]) + (sub[2 * stride + e] + sub[3 * stride + e]));
    }
}

/* Empty clusters (kmeans.h, "Empty clusters"; scikit-learn's _relocate_empty_clusters_dense):
 * the clusters whose weight is 0 after the assignment, taken in increasing order, each take the
 * row farthest from its own center in centers_old among the rows not taken yet (ties: the lower
 * row). The row's contribution leaves its cluster's sums and becomes the empty cluster's sums;
 * the labels are not changed. When the farthest row of all sits on its center, every row does
 * (more clusters than distinct points) and nothing moves. sums: k x d, wsum: k (both updated);
 * empty: k int32 and dist: n doubles of scratch. Returns the number of rows moved. */
static size_t relocate_empty(const double *x, size_t n, size_t d, const double *w,
                             const double *centers_old, const int32_t *labels, size_t k,
                             double *sums, double *wsum, int32_t *empty, double *dist)
{
    size_t n_empty = 0;
    for (size_t j = 0; j < k; j++) /* fixed before anything moves */
        if (wsum[j] == 0)
            empty[n_empty++] = (int32_t)j;
    if (n_empty == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        dist[i] = sqdist(x + i * d, centers_old + (size_t)labels[i] * d, d);
    for (size_t q = 0; q < n_empty; q++) { /* n_empty < k <= n: a row is always left */
        size_t far = 0;
        for (size_t i = 1; i < n; i++)
            if (dist[i] > dist[far])
                far = i;
        if (q == 0 && dist[far] == 0)
            return 0;
        dist[far] = -1; /* taken: below every distance */
        size_t old = (size_t)labels[far], nw = (size_t)empty[q];
        double wf = w ? w[far] : 1.0;
        for (size_t f = 0; f < d; f++) {
            sums[old * d + f] = sums[old * d + f] - x[far * d + f] * wf;
            sums[nw * d + f] = x[far * d + f] * wf;
        }
        wsum[nw] = wf;
        wsum[old] = wsum[old] - wf;
    }
    return n_empty;
}

/* inertia = sum_i w_i ||x_i - c_{label_i}||^2 in the kernel's order: a running sum over the
 * rows of each block of SGS_BLOCK_ROWS from 0 (w_i d_i, or d_i without weights), the block sums
 * added in block order. */
static double inertia(const double *x, size_t n, size_t d, const double *w, const double *c,
                      const int32_t *labels)
{
    double tot = 0;
    for (size_t r0 = 0; r0 < n; r0 += SGS_BLOCK_ROWS) {
        size_t r1 = n - r0 < SGS_BLOCK_ROWS ? n : r0 + SGS_BLOCK_ROWS;
        double s = 0;
        for (size_t i = r0; i < r1; i++) {
            double di = sqdist(x + i * d, c + (size_t)labels[i] * d, d);
            s = s + (w ? di * w[i] : di);
        }
        tot = tot + s;
    }
    return tot;
}

/* ---- One run --------------------------------------------------------------------------------- */

int sgs_kmeans_single_ref(const double *x, size_t n, size_t d, const double *weights,
                          const sgs_kmeans_options_t *opt, double tol_abs, double *centers,
                          int32_t *labels, sgs_kmeans_result_t *result, sgs_error_t *err)
{
    int rc = sgs__kmeans_check_options(opt, n, d, err);
    if (rc)
        return rc;
    if (opt->algorithm == SGS_KMEANS_MINIBATCH)
        return sgs_error_set(err, SGS_EINVAL, "sgs_kmeans_single does not run mini-batch");
    size_t k = opt->k, stride = 0;
    int too_big = sgs_size_mul(k, d + 1, &stride) != SGS_OK;
    double *sub = too_big ? NULL : sgs_alloc_array(stride, 4 * sizeof *sub);
    double *tot = too_big ? NULL : sgs_alloc_array(stride, sizeof *tot);
    double *moved = sgs_alloc_array(k * d, sizeof *moved);
    double *dist = sgs_alloc_array(n, sizeof *dist);
    int32_t *empty = sgs_alloc_array(k, sizeof *empty);
    if (!sub || !tot || !moved || !dist || !empty) {
        rc = sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for n = %zu, k = %zu", n, k);
        goto cleanup;
    }
    double *sums = tot, *wsum = tot + k * d;
    memset(result, 0, sizeof *result);
    result->tol_abs = tol_abs;
    for (size_t i = 0; i < n; i++)
        labels[i] = -1; /* no label yet: every row changes in the first iteration */
    int strict = 0, it;
    for (it = 0; it < opt->max_iter; it++) {
        /* Assignment. */
        size_t changed = 0;
        for (size_t i = 0; i < n; i++) {
            int32_t a = nearest(x + i * d, centers, k, d);
            changed += a != labels[i];
            labels[i] = a;
        }
        /* Update: weighted means, sums multiplied by 1 / weight (sklearn _average_centers);
         * empty clusters first take their rows; a cluster still without weight keeps its
         * center. */
        cluster_sums(x, n, d, weights, labels, k, sub, tot);
        result->n_relocated +=
            relocate_empty(x, n, d, weights, centers, labels, k, sums, wsum, empty, dist);
        for (size_t j = 0; j < k; j++) {
            double *c = moved + j * d;
            if (wsum[j] > 0) {
                double alpha = 1.0 / wsum[j];
                for (size_t f = 0; f < d; f++)
                    c[f] = sums[j * d + f] * alpha;
            } else {
                memcpy(c, centers + j * d, d * sizeof *c);
            }
        }
        /* The shift as scikit-learn sums it: the norm of each center's move, squared (the
         * square root squared again, whose last bit can differ from the squared distance's). */
        double shift2 = 0;
        for (size_t j = 0; j < k; j++) {
            double s = sqrt(sqdist(moved + j * d, centers + j * d, d));
            shift2 = shift2 + s * s;
        }
        memcpy(centers, moved, k * d * sizeof *centers);
        if (changed == 0) { /* the labels of this iteration are the last one's */
            strict = 1;
            break;
        }
        if (shift2 <= tol_abs)
            break;
    }
    result->converged = it < opt->max_iter;
    result->n_iter = it < opt->max_iter ? it + 1 : opt->max_iter;
    result->n_distances = (uint64_t)n * (uint64_t)k * (uint64_t)result->n_iter;
    if (!strict) /* the final E-step: labels of the final centers */
        for (size_t i = 0; i < n; i++)
            labels[i] = nearest(x + i * d, centers, k, d);
    result->inertia = inertia(x, n, d, weights, centers, labels);
    for (size_t j = 0; j < k; j++)
        wsum[j] = 0;
    for (size_t i = 0; i < n; i++)
        wsum[labels[i]] += weights ? weights[i] : 1.0;
    for (size_t j = 0; j < k; j++)
        result->n_nonempty += wsum[j] > 0;
cleanup:
    sgs_free(sub);
    sgs_free(tot);
    sgs_free(moved);
    sgs_free(dist);
    sgs_free(empty);
    return rc;
}

/* ---- The restarts ---------------------------------------------------------------------------- */

/* The checks of sgs_kmeans_fit on the data, with its messages: every value of x (and of the
 * given centers) finite, the first bad one named; weights finite, >= 0, not all zero. */
static int check_finite(const double *x, size_t n, size_t d, sgs_error_t *err)
{
    for (size_t e = 0; e < n * d; e++)
        if (!isfinite(x[e]))
            return sgs_error_set(err, SGS_EDATA, "row %zu column %zu is %s", e / d, e % d,
                                 isnan(x[e]) ? "NaN" : (x[e] > 0 ? "+inf" : "-inf"));
    return SGS_OK;
}

static int check_weights(const double *w, size_t n, sgs_error_t *err)
{
    if (!w)
        return SGS_OK;
    int any_positive = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(w[i]) || w[i] < 0)
            return sgs_error_set(err, SGS_EDATA,
                                 "sample weight of row %zu is %g (must be finite and >= 0)", i,
                                 w[i]);
        any_positive |= w[i] > 0;
    }
    if (!any_positive)
        return sgs_error_set(err, SGS_EDATA, "all %zu sample weights are zero", n);
    return SGS_OK;
}

/* Seeds of restart `run` from opt->init: the serial twins of the two k-means++ seedings (their
 * own tests compare them with the kernels), the first rows, k distinct rows drawn by the
 * kernel's own serial sampler (a draw, no arithmetic to check), or the given centers; each
 * restart and purpose on its own stream (kernels/kmeans_internal.h). */
static int seed_centers(const double *x, size_t n, size_t d, const double *w,
                        const sgs_kmeans_options_t *opt, int run, double *centers, size_t *rows,
                        sgs_error_t *err)
{
    size_t k = opt->k;
    uint64_t base = (uint64_t)run * SGS__STREAMS;
    switch (opt->init) {
    case SGS_KMEANS_INIT_PLUSPLUS:
        return sgs_kmeans_plusplus_ref(x, n, d, w, k, opt->n_local_trials, opt->seed,
                                       base + SGS__STREAM_PLUSPLUS, centers, NULL, err);
    case SGS_KMEANS_INIT_PARALLEL:
        return sgs_kmeans_parallel_init_ref(x, n, d, w, k, opt->oversampling, opt->n_rounds,
                                            opt->seed, base + SGS__STREAM_PARALLEL, centers, err);
    case SGS_KMEANS_INIT_FIRST:
        memcpy(centers, x, k * d * sizeof *centers);
        return SGS_OK;
    case SGS_KMEANS_INIT_RANDOM:
        if (sgs__kmeans_sample_rows(n, k, opt->seed, base + SGS__STREAM_RANDOM, rows))
            return sgs_error_set(err, SGS_ENOMEM, "random init: out of memory");
        for (size_t j = 0; j < k; j++)
            memcpy(centers + j * d, x + rows[j] * d, d * sizeof *centers);
        return SGS_OK;
    case SGS_KMEANS_INIT_GIVEN:
        memcpy(centers, opt->init_centers, k * d * sizeof *centers);
        return SGS_OK;
    }
    return sgs_error_set(err, SGS_EINVAL, "unknown init %d", (int)opt->init);
}

/* Whether a and b are the same clustering as scikit-learn's _is_same_clustering decides it:
 * the clusters of a map to those of b by one function, each cluster of a named after the label
 * b gives its first row. map: k int32 of scratch. */
static int same_clustering(const int32_t *a, const int32_t *b, size_t n, size_t k, int32_t *map)
{
    for (size_t j = 0; j < k; j++)
        map[j] = -1;
    for (size_t i = 0; i < n; i++) {
        if (map[a[i]] == -1)
            map[a[i]] = b[i];
        else if (map[a[i]] != b[i])
            return 0;
    }
    return 1;
}

int sgs_kmeans_fit_ref(const double *x, size_t n, size_t d, const double *weights,
                       const sgs_kmeans_options_t *opt, int32_t *labels, double *centers,
                       sgs_kmeans_result_t *result, sgs_error_t *err)
{
    int rc = sgs__kmeans_check_options(opt, n, d, err);
    if (!rc)
        rc = check_finite(x, n, d, err);
    if (!rc)
        rc = check_weights(weights, n, err);
    if (!rc && opt->init == SGS_KMEANS_INIT_GIVEN) {
        rc = check_finite(opt->init_centers, opt->k, d, err);
        if (rc)
            sgs_error_prefix(err, "initial centers");
    }
    if (!rc && opt->algorithm == SGS_KMEANS_MINIBATCH)
        rc = sgs_error_set(err, SGS_EINVAL, "sgs_kmeans_fit_ref has no mini-batch twin");
    if (rc)
        return rc;
    /* tol_abs = tol * mean feature variance (scikit-learn _tolerance), from the column
     * moments' own serial twin. */
    size_t k = opt->k;
    double tol_abs = 0;
    double *moments = sgs_alloc_array(2 * d, sizeof *moments); /* means, then variances */
    int32_t *run_labels = sgs_alloc_array(n, sizeof *run_labels);
    double *run_centers = sgs_alloc_array(k * d, sizeof *run_centers);
    size_t *rows = sgs_alloc_array(k, sizeof *rows);
    int32_t *map = sgs_alloc_array(k, sizeof *map);
    if (!moments || !run_labels || !run_centers || !rows || !map) {
        rc = sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for n = %zu, k = %zu", n, k);
        goto cleanup;
    }
    if (opt->tol != 0) {
        sgs_features_column_moments_ref(x, n, d, moments, moments + d);
        double var_sum = 0;
        for (size_t f = 0; f < d; f++)
            var_sum += moments[d + f];
        tol_abs = var_sum / (double)d * opt->tol;
    }
    /* Restarts: run i seeded on streams of i; the first run is kept, a later one replaces it
     * when its inertia is strictly lower and it is not the same clustering. Given centers and
     * the first rows give one run whatever n_init. */
    int n_runs =
        opt->init == SGS_KMEANS_INIT_FIRST || opt->init == SGS_KMEANS_INIT_GIVEN ? 1 : opt->n_init;
    for (int run = 0; run < n_runs; run++) {
        int32_t *lab = run == 0 ? labels : run_labels;
        double *cen = run == 0 ? centers : run_centers;
        sgs_kmeans_result_t res;
        rc = seed_centers(x, n, d, weights, opt, run, cen, rows, err);
        if (!rc)
            rc = sgs_kmeans_single_ref(x, n, d, weights, opt, tol_abs, cen, lab, &res, err);
        if (rc)
            break;
        res.best_run = run;
        if (run == 0) {
            *result = res;
        } else if (res.inertia < result->inertia && !same_clustering(lab, labels, n, k, map)) {
            memcpy(labels, lab, n * sizeof *labels);
            memcpy(centers, cen, k * d * sizeof *centers);
            *result = res;
        }
    }
cleanup:
    sgs_free(moments);
    sgs_free(run_labels);
    sgs_free(run_centers);
    sgs_free(rows);
    sgs_free(map);
    return rc;
}
