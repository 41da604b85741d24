/*
 * kernels/kmeans.c — the k-means iterations (Lloyd, Hamerly, Elkan), empty-cluster
 * relocation, restarts, and the E-step / inertia / tolerance helpers. The contract and the
 * scikit-learn semantics followed are in kernels/kmeans.h; the distance arithmetic is in
 * kernels/kmeans_dist_internal.h.
 */
#include "kernels/kmeans.h"

#include "kernels/features.h"
#include "kernels/kmeans_dist_internal.h"
#include "kernels/kmeans_internal.h"

#include <math.h>
#include <string.h>

/* Rows handed to the distance kernel at once: labels of a chunk are kept on the stack and
 * the chunk's rows are still in L1 when they are added to the cluster sums. */
#define CHUNK_ROWS 256

/* ---- Small helpers ------------------------------------------------------------------------ */

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

static void block_range(size_t b, size_t n, size_t *r0, size_t *r1)
{
    *r0 = b * SGS_BLOCK_ROWS;
    *r1 = *r0 + SGS_BLOCK_ROWS < n ? *r0 + SGS_BLOCK_ROWS : n;
}

int sgs_kmeans_check_finite(const double *x, size_t n, size_t d, const sgs_exec_t *exec,
                            sgs_error_t *err)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t first_bad = SIZE_MAX; /* flat index; integer min is exact whatever the order */
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static) reduction(min : first_bad)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        for (size_t e = r0 * d; e < r1 * d; e++)
            if (!isfinite(x[e])) {
                if (e < first_bad)
                    first_bad = e;
                break;
            }
    }
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

/* ---- E-step, inertia, tolerance --------------------------------------------------------- */

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
        block_range(b, n, &r0, &r1);
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
        block_range(b, n, &r0, &r1);
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

/* ---- One run ------------------------------------------------------------------------------ */

/* Bound arithmetic (see kmeans.h, "Bounded variants"). rho >= 2 gamma_{d+2} + several u
 * covers the relative error of a computed distance, of its square root and of one
 * multiplication; BOUND_UP / BOUND_DOWN cover the rounding of one addition or subtraction
 * when bounds are moved by center shifts. */
#define BOUND_UP (1.0 + 0x1p-50)
#define BOUND_DOWN (1.0 - 0x1p-50)

typedef struct run_ws {
    size_t n, d, k, nb, stride;
    double *centers_new;     /* k x d */
    double *part;            /* nb x 4 x stride: per-block sub-partials (kmeans_dist_internal.h) */
    double *part_total;      /* stride: folded partials combined in block order */
    double *wsum;            /* k, combined weights */
    size_t *changed;         /* nb */
    uint64_t *ndist;         /* nb */
    uint64_t *rechecked;     /* nb */
    double *shift;           /* k, sqrt of squared shift of each center (sklearn center_shift) */
    double *sigma;           /* k, shift inflated to an upper bound of the exact shift */
    double *sigma_other;     /* k, max over the other centers of sigma */
    double *half;            /* k, lower bound of half the distance to the nearest other center */
    double *halfcc;          /* k x k (Elkan), lower bound of half the center-center distance */
    double *upper;           /* n (Hamerly/Elkan) */
    double *lower;           /* n (Hamerly) or n x k (Elkan) */
    struct far_row *far;     /* (nb + 1) x k: relocation candidates per block, then merged */
    int32_t *empty;          /* k */
    uint8_t *lab8;           /* n (Lloyd, k <= 255): labels of the iterations, 255 = none */
    double *prep_ws;         /* sgs__kmeans_prep_size(k, d) */
    sgs__kmeans_prep_t prep; /* the current centers prepared for the labels kernel */
} run_ws_t;

typedef struct far_row {
    double dist;
    size_t row;
} far_row_t;

static void run_ws_free(run_ws_t *w)
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

static int run_ws_alloc(run_ws_t *w, size_t n, size_t d, size_t k, int algorithm)
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
    w->far = sgs_alloc_array(w->nb + 1, k * sizeof(far_row_t));
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
        run_ws_free(w);
        return SGS_ENOMEM;
    }
    return SGS_OK;
}

/* Order of relocation candidates: larger distance first, then lower row. A total order,
 * so the selected rows do not depend on how rows were split into blocks. */
static int far_before(const far_row_t *a, const far_row_t *b)
{
    return a->dist > b->dist || (a->dist == b->dist && a->row < b->row);
}

/* Insert r into the sorted list top[0..*len) kept at most m long. */
static void far_insert(far_row_t *top, size_t *len, size_t m, far_row_t r)
{
    if (*len == m && !far_before(&r, &top[m - 1]))
        return;
    size_t pos = *len < m ? (*len)++ : m - 1;
    while (pos > 0 && far_before(&r, &top[pos - 1])) {
        top[pos] = top[pos - 1];
        pos--;
    }
    top[pos] = r;
}

/* sklearn's _relocate_empty_clusters_dense on the combined sums (`sums`, k x d) and
 * weights (ws->wsum). Returns the number relocated. */
static size_t relocate_empty(const double *x, size_t n, size_t d, const double *weights,
                             const double *centers_old, const int32_t *labels, double *sums,
                             run_ws_t *ws, int nt)
{
    size_t k = ws->k, n_empty = 0;
    for (size_t j = 0; j < k; j++)
        if (ws->wsum[j] == 0)
            ws->empty[n_empty++] = (int32_t)j;
    if (n_empty == 0)
        return 0;
    size_t m = n_empty, nb = ws->nb;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1, len = 0;
        block_range(b, n, &r0, &r1);
        far_row_t *top = ws->far + b * k;
        for (size_t i = r0; i < r1; i++) {
            far_row_t r = {sgs__kmeans_sqdist(x + i * d, centers_old + (size_t)labels[i] * d, d),
                           i};
            far_insert(top, &len, m, r);
        }
        for (size_t q = len; q < m; q++)
            top[q].row = SIZE_MAX; /* block shorter than m rows */
    }
    /* Merge the block lists, in block order, into the list after the last block's. */
    far_row_t *acc = ws->far + nb * k;
    size_t len = 0;
    for (size_t b = 0; b < nb; b++)
        for (size_t q = 0; q < m && ws->far[b * k + q].row != SIZE_MAX; q++)
            far_insert(acc, &len, m, ws->far[b * k + q]);
    if (len == 0 || acc[0].dist == 0)
        return 0; /* every row sits on its center: more clusters than distinct points */
    size_t moved = 0;
    for (size_t q = 0; q < n_empty && q < len; q++) {
        size_t far = acc[q].row, nw = (size_t)ws->empty[q];
        size_t old = (size_t)labels[far];
        double wf = weights ? weights[far] : 1.0;
        for (size_t f = 0; f < d; f++) {
            sums[old * d + f] -= x[far * d + f] * wf;
            sums[nw * d + f] = x[far * d + f] * wf;
        }
        ws->wsum[nw] = wf;
        ws->wsum[old] -= wf;
        moved++;
    }
    return moved;
}

/* Combine the per-block partials in block order into sums (k x d, written into
 * ws->centers_new) and ws->wsum. */
static void combine_partials(run_ws_t *ws)
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
static void average_centers(run_ws_t *ws, const double *centers_old)
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
static void center_bounds(run_ws_t *ws, const double *c, double rho, int elkan)
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
                          int isa, size_t r0, size_t r1, int32_t *labels, const run_ws_t *ws,
                          double rho, int first, double *part, size_t *changed, uint64_t *ndist)
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
                        size_t r0, size_t r1, int32_t *labels, const run_ws_t *ws, double rho,
                        int first, double *part, size_t *changed, uint64_t *ndist)
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

/* One run of sgs_kmeans_single in the workspace ws, allocated by run_ws_alloc for (n, d,
 * opt->k, opt->algorithm): every run sets all of it before reading it, so that restarts share
 * one workspace and touch its pages (2 x 8 n bytes of bounds for Hamerly) only once. */
static int single_run(const double *x, size_t n, size_t d, const double *weights,
                      const sgs_kmeans_options_t *opt, double tol_abs, const sgs_exec_t *exec,
                      double *centers, int32_t *labels, sgs_kmeans_result_t *result, run_ws_t *wsp,
                      sgs_error_t *err)
{
    int rc;
    int alg = (int)opt->algorithm;
    size_t k = opt->k;
    run_ws_t ws = *wsp;
    int isa = sgs__kmeans_isa_resolve((int)opt->isa);
    int nt = sgs_exec_threads(exec);
    size_t nb = ws.nb;
    double rho = (double)(d + 8) * 0x1p-52;
    memset(result, 0, sizeof *result);
    result->tol_abs = tol_abs;
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
            block_range(b, n, &r0, &r1);
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
            relocate_empty(x, n, d, weights, centers, labels, ws.centers_new, &ws, nt);
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
    /* Non-empty clusters of the final labels. */
    for (size_t j = 0; j < k; j++)
        ws.wsum[j] = 0;
    for (size_t i = 0; i < n; i++)
        ws.wsum[labels[i]] += weights ? weights[i] : 1.0;
    for (size_t j = 0; j < k; j++)
        result->n_nonempty += ws.wsum[j] > 0;
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
    run_ws_t ws;
    if (run_ws_alloc(&ws, n, d, opt->k, alg))
        return sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for n = %zu, k = %zu", n,
                             opt->k);
    rc = single_run(x, n, d, weights, opt, tol_abs, exec, centers, labels, result, &ws, err);
    run_ws_free(&ws);
    return rc;
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
    run_ws_t ws = {0}; /* shared by the restarts (single_run) */
    if (opt->algorithm != SGS_KMEANS_MINIBATCH && run_ws_alloc(&ws, n, d, k, (int)opt->algorithm))
        return sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for n = %zu, k = %zu", n, k);
    if (n_runs > 1) {
        run_labels = sgs_alloc_array(n, sizeof *run_labels);
        run_centers = sgs_alloc_array(k * d, sizeof *run_centers);
        if (!run_labels || !run_centers) {
            sgs_free(run_labels);
            sgs_free(run_centers);
            run_ws_free(&ws);
            return sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for restarts");
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
            rc = sgs__kmeans_seed(x, n, d, weights, &o, run, exec, cen, err);
            if (!rc)
                rc = single_run(x, n, d, weights, &o, tol_abs, exec, cen, lab, &res, &ws, err);
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
    sgs_free(run_labels);
    sgs_free(run_centers);
    run_ws_free(&ws);
    return rc;
}
