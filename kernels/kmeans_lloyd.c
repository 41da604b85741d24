/*
 * kernels/kmeans_lloyd.c — one k-means run from given centers: Lloyd iterations and their
 * bounded variants (Hamerly, Elkan), which give the same result with fewer distances; the
 * workspace a run uses, shared by the restarts of sgs_kmeans_fit; and sgs_kmeans_single.
 * The distance arithmetic is in kernels/kmeans_dist_internal.h, empty clusters in
 * kernels/kmeans_empty.c.
 */
#include "kernels/kmeans.h"

#include "kernels/kmeans_dist_internal.h"
#include "kernels/kmeans_internal.h"
#include "kernels/kmeans_lloyd_internal.h"

#include <math.h>
#include <string.h>

/* Rows handed to the distance kernel at once: labels of a chunk are kept on the stack and
 * the chunk's rows are still in L1 when they are added to the cluster sums. */
#define CHUNK_ROWS 256

/* Bound arithmetic (see kmeans.h, "Bounded variants"). rho >= 2 gamma_{d+2} + several u
 * covers the relative error of a computed distance, of its square root and of one
 * multiplication; BOUND_UP / BOUND_DOWN cover the rounding of one addition or subtraction
 * when bounds are moved by center shifts. */
#define BOUND_UP (1.0 + 0x1p-50)
#define BOUND_DOWN (1.0 - 0x1p-50)

/* ---- The workspace of a run -------------------------------------------------------------- */

void sgs__kmeans_ws_free(sgs__kmeans_ws_t *w)
{
    sgs_free(w->centers_new);
    sgs_free(w->part);
    sgs_free(w->wsum);
    sgs_free(w->part_total);
    sgs_free(w->changed);
    sgs_free(w->ndist);
    sgs_free(w->rechecked);
    sgs_free(w->shift);
    sgs_free(w->sigma);
    sgs_free(w->sigma_other);
    sgs_free(w->half);
    sgs_free(w->halfcc);
    sgs_free(w->upper);
    sgs_free(w->lower);
    sgs_free(w->far);
    sgs_free(w->empty);
    sgs_free(w->prep_ws);
    sgs_free(w->lab8);
    memset(w, 0, sizeof *w);
}

int sgs__kmeans_ws_alloc(sgs__kmeans_ws_t *w, size_t n, size_t d, size_t k, int algorithm)
{
    memset(w, 0, sizeof *w);
    w->n = n;
    w->d = d;
    w->k = k;
    w->nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    if (sgs_size_mul(k, d + 1, &w->stride))
        return SGS_ENOMEM;
    w->centers_new = sgs_alloc_array(k * d, sizeof(double));
    w->part = sgs_alloc_array(w->nb, 4 * w->stride * sizeof(double));
    w->wsum = sgs_alloc_array(k, sizeof(double));
    w->part_total = sgs_alloc_array(w->stride, sizeof(double));
    w->changed = sgs_alloc_array(w->nb, sizeof(size_t));
    w->ndist = sgs_alloc_array(w->nb, sizeof(uint64_t));
    w->rechecked = sgs_alloc_array(w->nb, sizeof(uint64_t));
    w->shift = sgs_alloc_array(k, sizeof(double));
    w->sigma = sgs_alloc_array(k, sizeof(double));
    w->sigma_other = sgs_alloc_array(k, sizeof(double));
    w->half = sgs_alloc_array(k, sizeof(double));
    w->far = sgs_alloc_array(w->nb + 1, k * sizeof(sgs__kmeans_far_row_t));
    w->empty = sgs_alloc_array(k, sizeof(int32_t));
    w->prep_ws = sgs_alloc_array(sgs__kmeans_prep_size(k, d), sizeof(double));
    int ok = w->centers_new && w->part && w->wsum && w->part_total && w->changed && w->ndist &&
             w->rechecked && w->shift && w->sigma && w->sigma_other && w->half && w->far &&
             w->empty && w->prep_ws;
    if (ok && algorithm == SGS_KMEANS_LLOYD && k <= 255) {
        /* Lloyd keeps its labels in one byte per row between iterations: at d = 4 a row
         * is 32 bytes, and reading and writing int32 labels would add a quarter to the
         * memory traffic of an iteration. The int32 labels are written once, at the end. */
        w->lab8 = sgs_alloc_array(n, sizeof(uint8_t));
        ok = w->lab8 != NULL;
    } else if (ok && algorithm == SGS_KMEANS_HAMERLY) {
        w->upper = sgs_alloc_array(n, sizeof(double));
        w->lower = sgs_alloc_array(n, sizeof(double));
        ok = w->upper && w->lower;
    } else if (ok && algorithm == SGS_KMEANS_ELKAN) {
        size_t nk;
        ok = sgs_size_mul(n, k, &nk) == SGS_OK;
        w->upper = sgs_alloc_array(n, sizeof(double));
        w->lower = ok ? sgs_alloc_array(nk, sizeof(double)) : NULL;
        w->halfcc = sgs_alloc_array(k * k, sizeof(double));
        ok = w->upper && w->lower && w->halfcc;
    }
    if (!ok) {
        sgs__kmeans_ws_free(w);
        return SGS_ENOMEM;
    }
    return SGS_OK;
}

/* ---- One run ------------------------------------------------------------------------------ */

/* Combine the per-block partials in block order into sums (k x d, written into
 * ws->centers_new) and ws->wsum. */
static void combine_partials(sgs__kmeans_ws_t *ws)
{
    size_t k = ws->k, d = ws->d, kd = k * d;
    double *tot = ws->part_total;
    for (size_t e = 0; e < ws->stride; e++)
        tot[e] = 0;
    for (size_t b = 0; b < ws->nb; b++)
        sgs__kmeans_fold4_add(ws->part + b * 4 * ws->stride, ws->stride, tot);
    memcpy(ws->centers_new, tot, kd * sizeof *tot);
    memcpy(ws->wsum, tot + kd, k * sizeof *tot);
}

/* Centers from sums: multiply by 1 / weight (sklearn _average_centers); a cluster without
 * weight keeps its previous center (see kmeans.h). */
static void average_centers(sgs__kmeans_ws_t *ws, const double *centers_old)
{
    size_t k = ws->k, d = ws->d;
    for (size_t j = 0; j < k; j++) {
        double *c = ws->centers_new + j * d;
        if (ws->wsum[j] > 0) {
            double alpha = 1.0 / ws->wsum[j];
            for (size_t f = 0; f < d; f++)
                c[f] *= alpha;
        } else {
            memcpy(c, centers_old + j * d, d * sizeof(double));
        }
    }
}

/* Half-distance lower bounds between the (new) centers: halfcc (Elkan) and half[j] =
 * min over the other centers (Hamerly and Elkan), deflated by (1 - rho). */
static void center_bounds(sgs__kmeans_ws_t *ws, const double *c, double rho, int elkan)
{
    size_t k = ws->k, d = ws->d;
    for (size_t j = 0; j < k; j++)
        ws->half[j] = INFINITY;
    for (size_t a = 0; a < k; a++) {
        if (elkan)
            ws->halfcc[a * k + a] = 0;
        for (size_t j = a + 1; j < k; j++) {
            double h = 0.5 * sqrt(sgs__kmeans_sqdist(c + a * d, c + j * d, d)) * (1 - rho);
            if (elkan)
                ws->halfcc[a * k + j] = ws->halfcc[j * k + a] = h;
            if (h < ws->half[a])
                ws->half[a] = h;
            if (h < ws->half[j])
                ws->half[j] = h;
        }
    }
}

/* Lloyd assignment of one block: labels, partial sums, changes; returns the rows the float32
 * screen left to the exact computation. */
static size_t lloyd_block(const double *x, size_t d, const double *w,
                          const sgs__kmeans_prep_t *prep, int isa, size_t r0, size_t r1,
                          uint8_t *lab8, int32_t *labels, double *part, size_t *changed)
{
    return sgs__kmeans_lloyd_rows(isa, x + r0 * d, r1 - r0, r0, prep, w ? w + r0 : NULL,
                                  lab8 ? lab8 + r0 : NULL, lab8 ? NULL : labels + r0, part,
                                  changed);
}

/* labels[i] = lab8[i] (255 = none: -1) for i < n. */
static void expand_labels(const uint8_t *lab8, size_t n, int nt, int32_t *labels)
{
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t i = 0; i < n; i++)
        labels[i] = lab8[i] == 255 ? -1 : (int32_t)lab8[i];
}

/* Hamerly assignment of one block (first == 1: full computation that sets the bounds). */
static void hamerly_block(const double *x, size_t d, const double *w, const double *c, size_t k,
                          int isa, size_t r0, size_t r1, int32_t *labels,
                          const sgs__kmeans_ws_t *ws, double rho, int first, double *part,
                          size_t *changed, uint64_t *ndist)
{
    double *U = ws->upper, *L = ws->lower;
    size_t nchg = 0;
    uint64_t nd = 0;
    if (first) {
        int32_t lab[CHUNK_ROWS];
        double best[CHUNK_ROWS], second[CHUNK_ROWS];
        for (size_t i0 = r0; i0 < r1; i0 += CHUNK_ROWS) {
            size_t m = r1 - i0 < CHUNK_ROWS ? r1 - i0 : CHUNK_ROWS;
            sgs__kmeans_argmin(isa, x + i0 * d, m, d, c, k, lab, best, second);
            for (size_t q = 0; q < m; q++) {
                size_t i = i0 + q;
                nchg += lab[q] != labels[i];
                labels[i] = lab[q];
                U[i] = sqrt(best[q]) * (1 + rho);
                L[i] = sqrt(second[q]) * (1 - rho);
                sgs__kmeans_add_row(part, k, d, i, x + i * d, lab[q], w ? w + i : NULL);
            }
        }
        nd += (uint64_t)(r1 - r0) * k;
    } else {
        for (size_t i = r0; i < r1; i++) {
            const double *xi = x + i * d;
            int32_t a = labels[i];
            /* Move the bounds by the last center shifts. */
            double u = (U[i] + ws->sigma[a]) * BOUND_UP;
            double l = (L[i] - ws->sigma_other[a]) * BOUND_DOWN;
            if (!(l > 0))
                l = 0;
            double bound = l > ws->half[a] ? l : ws->half[a];
            if (!(u * (1 + rho) < bound)) {
                u = sqrt(sgs__kmeans_sqdist(xi, c + (size_t)a * d, d)) * (1 + rho);
                nd++;
                if (!(u * (1 + rho) < bound)) {
                    double best, second;
                    int32_t lab;
                    sgs__kmeans_argmin(isa, xi, 1, d, c, k, &lab, &best, &second);
                    nd += k;
                    nchg += lab != a;
                    a = lab;
                    labels[i] = a;
                    u = sqrt(best) * (1 + rho);
                    l = sqrt(second) * (1 - rho);
                }
            }
            U[i] = u;
            L[i] = l;
            sgs__kmeans_add_row(part, k, d, i, xi, a, w ? w + i : NULL);
        }
    }
    *changed = nchg;
    *ndist = nd;
}

/* Elkan assignment of one block. */
static void elkan_block(const double *x, size_t d, const double *w, const double *c, size_t k,
                        size_t r0, size_t r1, int32_t *labels, const sgs__kmeans_ws_t *ws,
                        double rho, int first, double *part, size_t *changed, uint64_t *ndist)
{
    double *U = ws->upper;
    size_t nchg = 0;
    uint64_t nd = 0;
    for (size_t i = r0; i < r1; i++) {
        const double *xi = x + i * d;
        double *L = ws->lower + i * k;
        int32_t a;
        double u;
        if (first) {
            double db = INFINITY;
            a = 0;
            for (size_t j = 0; j < k; j++) {
                double dj = sgs__kmeans_sqdist(xi, c + j * d, d);
                L[j] = sqrt(dj) * (1 - rho);
                if (dj < db) {
                    db = dj;
                    a = (int32_t)j;
                }
            }
            nd += k;
            u = sqrt(db) * (1 + rho);
        } else {
            a = labels[i];
            u = (U[i] + ws->sigma[a]) * BOUND_UP;
            for (size_t j = 0; j < k; j++) {
                double l = (L[j] - ws->sigma[j]) * BOUND_DOWN;
                L[j] = l > 0 ? l : 0;
            }
            if (!(u * (1 + rho) < ws->half[a])) {
                int tight = 0;
                double da = 0;
                for (size_t j = 0; j < k; j++) {
                    if (j == (size_t)a)
                        continue;
                    double u1 = u * (1 + rho);
                    if (u1 < L[j] || u1 < ws->halfcc[(size_t)a * k + j])
                        continue;
                    if (!tight) {
                        da = sgs__kmeans_sqdist(xi, c + (size_t)a * d, d);
                        nd++;
                        u = sqrt(da) * (1 + rho);
                        L[a] = sqrt(da) * (1 - rho);
                        tight = 1;
                        u1 = u * (1 + rho);
                        if (u1 < L[j] || u1 < ws->halfcc[(size_t)a * k + j])
                            continue;
                    }
                    double dj = sgs__kmeans_sqdist(xi, c + j * d, d);
                    nd++;
                    L[j] = sqrt(dj) * (1 - rho);
                    /* First minimum: a later index wins only when strictly closer. */
                    if (dj < da || (dj == da && j < (size_t)a)) {
                        a = (int32_t)j;
                        da = dj;
                        u = sqrt(dj) * (1 + rho);
                    }
                }
            }
        }
        nchg += a != labels[i];
        labels[i] = a;
        U[i] = u;
        sgs__kmeans_add_row(part, k, d, i, xi, a, w ? w + i : NULL);
    }
    *changed = nchg;
    *ndist = nd;
}

/* One run of sgs_kmeans_single in the workspace ws, allocated by sgs__kmeans_ws_alloc for (n, d,
 * opt->k, opt->algorithm): every run sets all of it before reading it, so that restarts share
 * one workspace and touch its pages (2 x 8 n bytes of bounds for Hamerly) only once. */
int sgs__kmeans_run(const double *x, size_t n, size_t d, const double *weights,
                    const sgs_kmeans_options_t *opt, double tol_abs, const sgs_exec_t *exec,
                    double *centers, int32_t *labels, sgs_kmeans_result_t *result,
                    sgs__kmeans_ws_t *wsp, sgs_error_t *err)
{
    int rc;
    int alg = (int)opt->algorithm;
    size_t k = opt->k;
    sgs__kmeans_ws_t ws = *wsp;
    int isa = sgs__kmeans_isa_resolve((int)opt->isa);
    int nt = sgs_exec_threads(exec);
    size_t nb = ws.nb;
    double rho = (double)(d + 8) * 0x1p-52;
    memset(result, 0, sizeof *result);
    result->tol_abs = tol_abs;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t i = 0; i < n; i++)
        labels[i] = -1;
    if (ws.lab8)
        memset(ws.lab8, 255, n);

    int strict = 0, it;
    uint64_t ndist_total = 0;
    for (it = 0; it < opt->max_iter; it++) {
        rc = sgs_exec_stop(exec, err); /* a safe point: nothing half-updated */
        if (rc)
            return rc;
        int first = it == 0;
        if (alg == SGS_KMEANS_LLOYD)
            sgs__kmeans_prep(centers, k, d, ws.prep_ws, &ws.prep);
            /* Assignment and per-block sums. */
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (size_t b = 0; b < nb; b++) {
            size_t r0, r1;
            sgs__kmeans_block_range(b, n, &r0, &r1);
            double *p = ws.part + b * 4 * ws.stride;
            for (size_t e = 0; e < 4 * ws.stride; e++)
                p[e] = 0;
            ws.ndist[b] = (uint64_t)(r1 - r0) * k;
            ws.rechecked[b] = 0;
            if (alg == SGS_KMEANS_LLOYD)
                ws.rechecked[b] = lloyd_block(x, d, weights, &ws.prep, isa, r0, r1, ws.lab8, labels,
                                              p, &ws.changed[b]);
            else if (alg == SGS_KMEANS_HAMERLY)
                hamerly_block(x, d, weights, centers, k, isa, r0, r1, labels, &ws, rho, first, p,
                              &ws.changed[b], &ws.ndist[b]);
            else
                elkan_block(x, d, weights, centers, k, r0, r1, labels, &ws, rho, first, p,
                            &ws.changed[b], &ws.ndist[b]);
        }
        size_t changed = 0;
        for (size_t b = 0; b < nb; b++) {
            changed += ws.changed[b];
            ndist_total += ws.ndist[b];
            result->n_rechecked += ws.rechecked[b];
        }
        /* Update step. */
        combine_partials(&ws);
        if (ws.lab8) {
            /* Relocation (rare) reads the int32 labels. */
            int any_empty = 0;
            for (size_t j = 0; j < k; j++)
                any_empty |= ws.wsum[j] == 0;
            if (any_empty)
                expand_labels(ws.lab8, n, nt, labels);
        }
        result->n_relocated +=
            sgs__kmeans_relocate_empty(x, n, d, weights, centers, labels, ws.centers_new, &ws, nt);
        average_centers(&ws, centers);
        double shift2 = 0, smax1 = 0, smax2 = 0;
        size_t arg1 = 0;
        for (size_t j = 0; j < k; j++) {
            double s = sqrt(sgs__kmeans_sqdist(ws.centers_new + j * d, centers + j * d, d));
            ws.shift[j] = s;
            shift2 += s * s;
            ws.sigma[j] = s * (1 + rho);
            if (ws.sigma[j] > smax1) {
                smax2 = smax1;
                smax1 = ws.sigma[j];
                arg1 = j;
            } else if (ws.sigma[j] > smax2) {
                smax2 = ws.sigma[j];
            }
        }
        for (size_t j = 0; j < k; j++)
            ws.sigma_other[j] = j == arg1 ? smax2 : smax1;
        memcpy(centers, ws.centers_new, k * d * sizeof(double));
        if (alg != SGS_KMEANS_LLOYD)
            center_bounds(&ws, centers, rho, alg == SGS_KMEANS_ELKAN);
        if (opt->on_iter)
            opt->on_iter(opt->on_iter_ctx, 0, it, changed, shift2);
        if (changed == 0) {
            strict = 1;
            break;
        }
        if (shift2 <= tol_abs)
            break;
    }
    result->converged = it < opt->max_iter;
    result->n_iter = it < opt->max_iter ? it + 1 : opt->max_iter;
    result->n_distances = ndist_total;
    if (strict && ws.lab8)
        expand_labels(ws.lab8, n, nt, labels);
    rc = strict ? SGS_OK : sgs_kmeans_assign(x, n, d, centers, k, exec, labels, NULL, err);
    if (!rc)
        rc = sgs_kmeans_inertia(x, n, d, weights, centers, k, labels, exec, &result->inertia, err);
    if (!rc)
        result->n_nonempty = sgs__kmeans_count_nonempty(labels, n, k, weights, nt, ws.wsum);
    return rc;
}

int sgs_kmeans_single(const double *x, size_t n, size_t d, const double *weights,
                      const sgs_kmeans_options_t *opt, double tol_abs, const sgs_exec_t *exec,
                      double *centers, int32_t *labels, sgs_kmeans_result_t *result,
                      sgs_error_t *err)
{
    int rc = sgs__kmeans_check_options(opt, n, d, err);
    if (rc)
        return rc;
    int alg = (int)opt->algorithm;
    if (alg == SGS_KMEANS_MINIBATCH)
        return sgs_error_set(err, SGS_EINVAL, "sgs_kmeans_single does not run mini-batch");
    sgs__kmeans_ws_t ws;
    if (sgs__kmeans_ws_alloc(&ws, n, d, opt->k, alg))
        return sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for n = %zu, k = %zu", n,
                             opt->k);
    rc = sgs__kmeans_run(x, n, d, weights, opt, tol_abs, exec, centers, labels, result, &ws, err);
    sgs__kmeans_ws_free(&ws);
    return rc;
}
