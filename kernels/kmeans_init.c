/*
 * kernels/kmeans_init.c — seeding: greedy k-means++, k-means||, first rows, random rows.
 * Contracts in kernels/kmeans.h.
 */
#include "kernels/kmeans.h"

#include "kernels/kmeans_dist_internal.h"
#include "kernels/kmeans_internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#define CHUNK_ROWS 256

static void block_range(size_t b, size_t n, size_t *r0, size_t *r1)
{
    *r0 = b * SGS_BLOCK_ROWS;
    *r1 = *r0 + SGS_BLOCK_ROWS < n ? *r0 + SGS_BLOCK_ROWS : n;
}

/* ---- Sampling distinct rows ---------------------------------------------------------------- */

int sgs__kmeans_sample_rows(size_t n, size_t m, uint64_t seed, uint64_t stream, size_t *out)
{
    size_t *sorted = sgs_alloc_array(m, sizeof *sorted);
    if (!sorted)
        return SGS_ENOMEM;
    size_t len = 0;
    for (size_t t = 0; t < m; t++) {
        size_t j = n - m + t;
        size_t r = (size_t)(sgs_rng_u64(seed, stream, t) % (uint64_t)(j + 1));
        /* Binary search r in sorted[0..len). */
        size_t lo = 0, hi = len;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sorted[mid] < r)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < len && sorted[lo] == r) {
            r = j; /* j is larger than every member, so it goes at the end */
            lo = len;
        }
        memmove(sorted + lo + 1, sorted + lo, (len - lo) * sizeof *sorted);
        sorted[lo] = r;
        len++;
        out[t] = r;
    }
    sgs_free(sorted);
    return SGS_OK;
}

/* ---- Mass sampling: "first row whose running sum of mass reaches r" -----------------------
 * mass_i = w_i * a_i (a NULL: 1; w NULL: 1). Running sums are block sums prefixed in block
 * order, then rows in order within the block, so the chosen row does not depend on the
 * thread count. */
static inline double mass(const double *a, const double *w, size_t i)
{
    if (a && w)
        return w[i] * a[i];
    if (a)
        return a[i];
    return w ? w[i] : 1.0;
}

/* prefix[b] = bsum[0] + ... + bsum[b - 1], in block order. */
static void block_prefix(const double *bsum, size_t nb, double *prefix)
{
    prefix[0] = 0;
    for (size_t b = 0; b < nb; b++)
        prefix[b + 1] = prefix[b] + bsum[b];
}

static void mass_prefix(const double *a, const double *w, size_t n, size_t nb, int nt, double *bsum,
                        double *prefix)
{
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        double s = 0;
        for (size_t i = r0; i < r1; i++)
            s += mass(a, w, i);
        bsum[b] = s;
    }
    block_prefix(bsum, nb, prefix);
}

static size_t mass_search(const double *a, const double *w, size_t n, size_t nb,
                          const double *prefix, double r)
{
    size_t b = 0;
    while (b < nb && !(prefix[b + 1] >= r))
        b++;
    for (; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        double s = prefix[b];
        for (size_t i = r0; i < r1; i++) {
            s += mass(a, w, i);
            if (s >= r)
                return i;
        }
    }
    return n - 1; /* rounding put r past the total: sklearn clips to the last row */
}

/* ---- Greedy k-means++ ------------------------------------------------------------------------ */

int sgs_kmeans_plusplus(const double *x, size_t n, size_t d, const double *weights, size_t k,
                        int n_local_trials, uint64_t seed, uint64_t stream, const sgs_exec_t *exec,
                        double *centers, size_t *indices, sgs_error_t *err)
{
    if (k == 0 || k > n || d == 0)
        return sgs_error_set(err, SGS_EINVAL, "k-means++: k = %zu with n = %zu rows", k, n);
    size_t T = n_local_trials > 0 ? (size_t)n_local_trials : 2 + (size_t)floor(log((double)k));
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
    int isa = sgs__kmeans_isa_resolve(SGS__ISA_AUTO);
    double *closest = sgs_alloc_array(n, sizeof *closest);
    double *bsum = sgs_alloc_array(nb, sizeof *bsum);
    double *prefix = sgs_alloc_array(nb + 1, sizeof *prefix);
    double *pot = sgs_alloc_array(nb, T * sizeof *pot);
    size_t *cand = sgs_alloc_array(T, sizeof *cand);
    double *cand_x = sgs_alloc_array(T, d * sizeof *cand_x);
    double *dist = sgs_alloc_array((size_t)nt, (size_t)CHUNK_ROWS * T * sizeof *dist);
    int rc = SGS_OK;
    if (!closest || !bsum || !prefix || !pot || !cand || !cand_x || !dist) {
        rc = sgs_error_set(err, SGS_ENOMEM, "k-means++: out of memory for n = %zu", n);
        goto cleanup;
    }
    uint64_t counter = 0;

    /* First center: a row drawn with probability w_i / sum w. */
    size_t first;
    double u = sgs_rng_uniform(seed, stream, counter++);
    if (!weights) {
        first = (size_t)(u * (double)n);
        if (first >= n)
            first = n - 1;
    } else {
        mass_prefix(NULL, weights, n, nb, nt, bsum, prefix);
        first = mass_search(NULL, weights, n, nb, prefix, u * prefix[nb]);
    }
    memcpy(centers, x + first * d, d * sizeof *centers);
    if (indices)
        indices[0] = first;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        double *buf = dist + (size_t)omp_get_thread_num() * CHUNK_ROWS * T;
        for (size_t i0 = r0; i0 < r1; i0 += CHUNK_ROWS) {
            size_t m = r1 - i0 < CHUNK_ROWS ? r1 - i0 : CHUNK_ROWS;
            sgs__kmeans_distances(isa, x + i0 * d, m, d, centers, 1, buf);
            memcpy(closest + i0, buf, m * sizeof *closest);
        }
    }
    mass_prefix(closest, weights, n, nb, nt, bsum, prefix);

    for (size_t c = 1; c < k; c++) {
        double current_pot = prefix[nb];
        for (size_t t = 0; t < T; t++) {
            double r = sgs_rng_uniform(seed, stream, counter++) * current_pot;
            cand[t] = mass_search(closest, weights, n, nb, prefix, r);
            memcpy(cand_x + t * d, x + cand[t] * d, d * sizeof *cand_x);
        }
        /* Potential of each candidate: sum_i w_i min(D_i, D(x_i, cand)). */
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t b = 0; b < nb; b++) {
            size_t r0, r1;
            block_range(b, n, &r0, &r1);
            double *p = pot + b * T;
            double *buf = dist + (size_t)omp_get_thread_num() * CHUNK_ROWS * T;
            for (size_t t = 0; t < T; t++)
                p[t] = 0;
            for (size_t i0 = r0; i0 < r1; i0 += CHUNK_ROWS) {
                size_t m = r1 - i0 < CHUNK_ROWS ? r1 - i0 : CHUNK_ROWS;
                sgs__kmeans_distances(isa, x + i0 * d, m, d, cand_x, T, buf);
                for (size_t q = 0; q < m; q++) {
                    size_t i = i0 + q;
                    for (size_t t = 0; t < T; t++) {
                        double dd = buf[t * m + q];
                        double mn = dd < closest[i] ? dd : closest[i];
                        p[t] += weights ? weights[i] * mn : mn;
                    }
                }
            }
        }
        size_t best = 0;
        double best_pot = INFINITY;
        for (size_t t = 0; t < T; t++) {
            double s = 0;
            for (size_t b = 0; b < nb; b++)
                s += pot[b * T + t];
            if (s < best_pot) {
                best_pot = s;
                best = t;
            }
        }
        const double *cb = cand_x + best * d;
        memcpy(centers + c * d, cb, d * sizeof *centers);
        if (indices)
            indices[c] = cand[best];
            /* Closest distances with the new center. */
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t b = 0; b < nb; b++) {
            size_t r0, r1;
            block_range(b, n, &r0, &r1);
            double *buf = dist + (size_t)omp_get_thread_num() * CHUNK_ROWS * T;
            for (size_t i0 = r0; i0 < r1; i0 += CHUNK_ROWS) {
                size_t m = r1 - i0 < CHUNK_ROWS ? r1 - i0 : CHUNK_ROWS;
                sgs__kmeans_distances(isa, x + i0 * d, m, d, cb, 1, buf);
                for (size_t q = 0; q < m; q++)
                    if (buf[q] < closest[i0 + q])
                        closest[i0 + q] = buf[q];
            }
        }
        mass_prefix(closest, weights, n, nb, nt, bsum, prefix);
    }

cleanup:
    sgs_free(closest);
    sgs_free(bsum);
    sgs_free(prefix);
    sgs_free(pot);
    sgs_free(cand);
    sgs_free(cand_x);
    sgs_free(dist);
    return rc;
}

/* ---- Serial reference twin of the greedy k-means++ ------------------------------------------ */

/* The first row whose plain running sum of w_i a_i (a, w NULL: 1) reaches r; the last row when
 * rounding put r past the total. */
static size_t running_sum_search(const double *a, const double *w, size_t n, double r)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        s += mass(a, w, i);
        if (s >= r)
            return i;
    }
    return n - 1;
}

int sgs_kmeans_plusplus_ref(const double *x, size_t n, size_t d, const double *weights, size_t k,
                            int n_local_trials, uint64_t seed, uint64_t stream, double *centers,
                            size_t *indices, sgs_error_t *err)
{
    if (k == 0 || k > n || d == 0)
        return sgs_error_set(err, SGS_EINVAL, "k-means++: k = %zu with n = %zu rows", k, n);
    size_t T = n_local_trials > 0 ? (size_t)n_local_trials : 2 + (size_t)floor(log((double)k));
    double *closest = sgs_alloc_array(n, sizeof *closest);
    if (!closest)
        return sgs_error_set(err, SGS_ENOMEM, "k-means++: out of memory for n = %zu", n);
    uint64_t counter = 0;
    double u = sgs_rng_uniform(seed, stream, counter++);
    size_t pick;
    if (!weights) {
        pick = (size_t)(u * (double)n);
        pick = pick < n ? pick : n - 1;
    } else {
        double total = 0;
        for (size_t i = 0; i < n; i++)
            total += weights[i];
        pick = running_sum_search(NULL, weights, n, u * total);
    }
    memcpy(centers, x + pick * d, d * sizeof *centers);
    if (indices)
        indices[0] = pick;
    for (size_t i = 0; i < n; i++)
        closest[i] = sgs__kmeans_sqdist(x + i * d, centers, d);
    for (size_t c = 1; c < k; c++) {
        double pot = 0; /* sum_i w_i D_i */
        for (size_t i = 0; i < n; i++)
            pot += mass(closest, weights, i);
        size_t best = 0;
        double best_pot = INFINITY;
        for (size_t t = 0; t < T; t++) { /* the trials' draws come first, in order */
            double r = sgs_rng_uniform(seed, stream, counter + t) * pot;
            size_t cand = running_sum_search(closest, weights, n, r);
            double s = 0;
            for (size_t i = 0; i < n; i++) {
                double dd = sgs__kmeans_sqdist(x + i * d, x + cand * d, d);
                double mn = dd < closest[i] ? dd : closest[i];
                s += weights ? weights[i] * mn : mn;
            }
            if (s < best_pot) {
                best_pot = s;
                best = cand;
            }
        }
        counter += T;
        memcpy(centers + c * d, x + best * d, d * sizeof *centers);
        if (indices)
            indices[c] = best;
        for (size_t i = 0; i < n; i++) {
            double dd = sgs__kmeans_sqdist(x + i * d, centers + c * d, d);
            closest[i] = dd < closest[i] ? dd : closest[i];
        }
    }
    sgs_free(closest);
    return SGS_OK;
}

/* ---- k-means|| ------------------------------------------------------------------------------- */

/* The candidates' reduction to k centres, shared by k-means|| and its twin: weighted greedy
 * k-means++ (its serial twin for the reference, and Lloyd on one thread), then Lloyd on the
 * candidates. */
static int reduce_candidates(const double *cand_x, size_t nc, size_t d, const double *cw, size_t k,
                             uint64_t seed, uint64_t stream, int reference, const sgs_exec_t *exec,
                             double *centers, sgs_error_t *err)
{
    uint64_t s2 = stream ^ UINT64_C(1) << 63;
    int rc = reference
                 ? sgs_kmeans_plusplus_ref(cand_x, nc, d, cw, k, 0, seed, s2, centers, NULL, err)
                 : sgs_kmeans_plusplus(cand_x, nc, d, cw, k, 0, seed, s2, exec, centers, NULL, err);
    if (rc)
        return rc;
    const sgs_exec_t one = {.n_threads = 1};
    if (reference)
        exec = &one;
    sgs_kmeans_options_t o;
    sgs_kmeans_options_init(&o, k);
    double tol_abs;
    int32_t *lab = sgs_alloc_array(nc, sizeof *lab);
    sgs_kmeans_result_t res;
    rc = lab ? sgs_kmeans_tolerance(cand_x, nc, d, 1e-4, exec, &tol_abs, err) : SGS_ENOMEM;
    if (!rc)
        rc = sgs_kmeans_single(cand_x, nc, d, cw, &o, tol_abs, exec, centers, lab, &res, err);
    sgs_free(lab);
    return rc;
}

/* sgs_kmeans_parallel_init with the caller's scratch: closest (n doubles, each row's squared
 * distance to its nearest candidate) and nearest (n, the index of that candidate). A fit passes
 * memory its run reuses, so that restarts do not each fault in 12 n bytes of fresh pages. */
int sgs__kmeans_parallel_init_into(const double *x, size_t n, size_t d, const double *weights,
                                   size_t k, double oversampling, int n_rounds, uint64_t seed,
                                   uint64_t stream, const sgs_exec_t *exec, double *closest,
                                   int32_t *nearest, double *centers, sgs_error_t *err)
{
    if (k == 0 || k > n || d == 0 || !(oversampling > 0) || n_rounds < 1)
        return sgs_error_set(err, SGS_EINVAL, "k-means||: bad arguments (k = %zu, n = %zu)", k, n);
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
    int isa = sgs__kmeans_isa_resolve(SGS__ISA_AUTO);
    double ell = oversampling * (double)k;
    size_t cap = 1 + (size_t)ceil(2 * ell) * (size_t)n_rounds + 16;
    double *bsum = sgs_alloc_array(nb, sizeof *bsum);
    double *prefix = sgs_alloc_array(nb + 1, sizeof *prefix);
    size_t *bcount = sgs_alloc_array(nb + 1, sizeof *bcount);
    size_t *cand = sgs_alloc_array(cap, sizeof *cand);
    double *cand_x = sgs_alloc_array(cap, d * sizeof *cand_x);
    double *cw_part = NULL, *cw = NULL;
    int rc = SGS_OK;
    if (!bsum || !prefix || !bcount || !cand || !cand_x) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
    size_t nc = 0;
    uint64_t counter = 0, key = sgs_rng_key(seed, stream);
    double u = sgs_rng_uniform(seed, stream, counter++);
    mass_prefix(NULL, weights, n, nb, nt, bsum, prefix);
    cand[nc++] = mass_search(NULL, weights, n, nb, prefix, u * prefix[nb]);
    memcpy(cand_x, x + cand[0] * d, d * sizeof *cand_x);
    /* Distances to the first candidate, and their block sums in the same pass (the order of
     * mass_prefix's). */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        double s = 0;
        for (size_t i = r0; i < r1; i++) {
            closest[i] = sgs__kmeans_sqdist(x + i * d, cand_x, d);
            nearest[i] = 0;
            s += mass(closest, weights, i);
        }
        bsum[b] = s;
    }
    block_prefix(bsum, nb, prefix);

    for (int r = 0; r < n_rounds; r++) {
        double phi = prefix[nb];
        if (!(phi > 0))
            break; /* every row sits on a candidate */
        uint64_t base = 1 + (uint64_t)r * (uint64_t)n;
        /* Count, then list, the rows drawn this round (same draws both times; the stream's
         * key is mixed once, not per row). */
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t b = 0; b < nb; b++) {
            size_t r0, r1, cnt = 0;
            block_range(b, n, &r0, &r1);
            for (size_t i = r0; i < r1; i++) {
                double p = ell * mass(closest, weights, i) / phi;
                cnt += sgs_rng_keyed_uniform(key, base + i) < p;
            }
            bcount[b + 1] = cnt;
        }
        bcount[0] = 0;
        for (size_t b = 0; b < nb; b++)
            bcount[b + 1] += bcount[b];
        size_t add = bcount[nb];
        if (add == 0)
            continue;
        if (nc + add > cap) {
            size_t ncap = (nc + add) * 2;
            size_t *c2 = sgs_realloc_array(cand, ncap, sizeof *cand);
            if (c2)
                cand = c2;
            double *x2 = c2 ? sgs_realloc_array(cand_x, ncap, d * sizeof *cand_x) : NULL;
            if (!x2) {
                rc = SGS_ENOMEM;
                goto cleanup;
            }
            cand_x = x2;
            cap = ncap;
        }
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t b = 0; b < nb; b++) {
            size_t r0, r1, pos = nc + bcount[b];
            if (bcount[b + 1] == bcount[b])
                continue; /* no row of this block was drawn: its draws need not be repeated */
            block_range(b, n, &r0, &r1);
            for (size_t i = r0; i < r1; i++) {
                double p = ell * mass(closest, weights, i) / phi;
                if (sgs_rng_keyed_uniform(key, base + i) < p) {
                    cand[pos] = i;
                    memcpy(cand_x + pos * d, x + i * d, d * sizeof *cand_x);
                    if (++pos == nc + bcount[b + 1])
                        break; /* the block's last drawn row */
                }
            }
        }
        /* Closest candidate of every row, with the new candidates: the first of the new ones
         * at the smallest distance (sgs__kmeans_argmin's first minimum) replaces the row's
         * candidate when strictly closer, which is what comparing the new candidates one
         * after the other in order gives. The block sums of the new distances follow in
         * the same pass, in mass_prefix's order. */
        const double *newc = cand_x + nc * d;
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t b = 0; b < nb; b++) {
            size_t r0, r1;
            block_range(b, n, &r0, &r1);
            int32_t lab[CHUNK_ROWS];
            double best[CHUNK_ROWS], s = 0;
            for (size_t i0 = r0; i0 < r1; i0 += CHUNK_ROWS) {
                size_t m = r1 - i0 < CHUNK_ROWS ? r1 - i0 : CHUNK_ROWS;
                sgs__kmeans_argmin(isa, x + i0 * d, m, d, newc, add, lab, best, NULL);
                for (size_t q = 0; q < m; q++) {
                    size_t i = i0 + q;
                    if (best[q] < closest[i]) {
                        closest[i] = best[q];
                        nearest[i] = (int32_t)(nc + (size_t)lab[q]);
                    }
                    s += mass(closest, weights, i);
                }
            }
            bsum[b] = s;
        }
        nc += add;
        block_prefix(bsum, nb, prefix);
    }

    if (nc < k) {
        /* Too few candidates (few distinct rows or tiny oversampling): plain k-means++. */
        rc = sgs_kmeans_plusplus(x, n, d, weights, k, 0, seed, stream ^ UINT64_C(1) << 62, exec,
                                 centers, NULL, err);
        goto cleanup;
    }
    /* Candidate weights: weight of the rows nearest to each (per block, in order). */
    cw_part = sgs_calloc_array(nb, nc * sizeof *cw_part);
    cw = sgs_calloc_array(nc, sizeof *cw);
    if (!cw_part || !cw) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        block_range(b, n, &r0, &r1);
        double *p = cw_part + b * nc;
        for (size_t i = r0; i < r1; i++)
            p[nearest[i]] += weights ? weights[i] : 1.0;
    }
    for (size_t b = 0; b < nb; b++)
        for (size_t j = 0; j < nc; j++)
            cw[j] += cw_part[b * nc + j];
    /* Recluster the weighted candidates: greedy k-means++ then Lloyd. */
    rc = reduce_candidates(cand_x, nc, d, cw, k, seed, stream, 0, exec, centers, err);

cleanup:
    if (rc == SGS_ENOMEM)
        sgs_error_set(err, rc, "k-means||: out of memory for n = %zu", n);
    sgs_free(bsum);
    sgs_free(prefix);
    sgs_free(bcount);
    sgs_free(cand);
    sgs_free(cand_x);
    sgs_free(cw_part);
    sgs_free(cw);
    return rc;
}

int sgs_kmeans_parallel_init(const double *x, size_t n, size_t d, const double *weights, size_t k,
                             double oversampling, int n_rounds, uint64_t seed, uint64_t stream,
                             const sgs_exec_t *exec, double *centers, sgs_error_t *err)
{
    if (k == 0 || k > n || d == 0 || !(oversampling > 0) || n_rounds < 1)
        return sgs_error_set(err, SGS_EINVAL, "k-means||: bad arguments (k = %zu, n = %zu)", k, n);
    double *closest = sgs_alloc_array(n, sizeof *closest);
    int32_t *nearest = sgs_alloc_array(n, sizeof *nearest);
    int rc = closest && nearest
                 ? sgs__kmeans_parallel_init_into(x, n, d, weights, k, oversampling, n_rounds, seed,
                                                  stream, exec, closest, nearest, centers, err)
                 : sgs_error_set(err, SGS_ENOMEM, "k-means||: out of memory for n = %zu", n);
    sgs_free(closest);
    sgs_free(nearest);
    return rc;
}

int sgs_kmeans_parallel_init_ref(const double *x, size_t n, size_t d, const double *weights,
                                 size_t k, double oversampling, int n_rounds, uint64_t seed,
                                 uint64_t stream, double *centers, sgs_error_t *err)
{
    if (k == 0 || k > n || d == 0 || !(oversampling > 0) || n_rounds < 1)
        return sgs_error_set(err, SGS_EINVAL, "k-means||: bad arguments (k = %zu, n = %zu)", k, n);
    double ell = oversampling * (double)k;
    double *closest = sgs_alloc_array(n, sizeof *closest);
    size_t *nearest = sgs_alloc_array(n, sizeof *nearest);
    size_t *cand = sgs_alloc_array(n, sizeof *cand); /* at most every row */
    double *cw = NULL;
    double *cand_x = NULL;
    int rc = SGS_OK;
    if (!closest || !nearest || !cand) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
    size_t nc = 0;
    uint64_t counter = 0;
    double u = sgs_rng_uniform(seed, stream, counter++), total = 0;
    for (size_t i = 0; i < n; i++)
        total += mass(NULL, weights, i);
    cand[nc++] = running_sum_search(NULL, weights, n, u * total);
    for (size_t i = 0; i < n; i++) {
        closest[i] = sgs__kmeans_sqdist(x + i * d, x + cand[0] * d, d);
        nearest[i] = 0;
    }
    for (int r = 0; r < n_rounds; r++) {
        double phi = 0;
        for (size_t i = 0; i < n; i++)
            phi += mass(closest, weights, i);
        if (!(phi > 0))
            break;
        uint64_t base = 1 + (uint64_t)r * (uint64_t)n;
        size_t first_new = nc;
        for (size_t i = 0; i < n; i++)
            if (sgs_rng_uniform(seed, stream, base + i) < ell * mass(closest, weights, i) / phi)
                cand[nc++] = i;
        for (size_t i = 0; i < n; i++) /* the first nearest among equals */
            for (size_t t = first_new; t < nc; t++) {
                double dd = sgs__kmeans_sqdist(x + i * d, x + cand[t] * d, d);
                if (dd < closest[i]) {
                    closest[i] = dd;
                    nearest[i] = t;
                }
            }
    }
    if (nc < k) {
        rc = sgs_kmeans_plusplus_ref(x, n, d, weights, k, 0, seed, stream ^ UINT64_C(1) << 62,
                                     centers, NULL, err);
        goto cleanup;
    }
    cw = sgs_calloc_array(nc, sizeof *cw);
    cand_x = sgs_alloc_array(nc, d * sizeof *cand_x);
    if (!cw || !cand_x) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        cw[nearest[i]] += weights ? weights[i] : 1.0;
    for (size_t j = 0; j < nc; j++)
        memcpy(cand_x + j * d, x + cand[j] * d, d * sizeof *cand_x);
    rc = reduce_candidates(cand_x, nc, d, cw, k, seed, stream, 1, NULL, centers, err);
cleanup:
    if (rc == SGS_ENOMEM)
        sgs_error_set(err, rc, "k-means||: out of memory for n = %zu", n);
    sgs_free(closest);
    sgs_free(nearest);
    sgs_free(cand);
    sgs_free(cw);
    sgs_free(cand_x);
    return rc;
}

/* ---- Dispatch -------------------------------------------------------------------------------- */

int sgs__kmeans_seed(const double *x, size_t n, size_t d, const double *weights,
                     const sgs_kmeans_options_t *opt, int run, const sgs_exec_t *exec,
                     double *centers, sgs_error_t *err)
{
    return sgs__kmeans_seed_into(x, n, d, weights, opt, run, exec, NULL, NULL, centers, err);
}

int sgs__kmeans_seed_into(const double *x, size_t n, size_t d, const double *weights,
                          const sgs_kmeans_options_t *opt, int run, const sgs_exec_t *exec,
                          double *closest, int32_t *nearest, double *centers, sgs_error_t *err)
{
    size_t k = opt->k;
    uint64_t base = (uint64_t)run * SGS__STREAMS;
    switch (opt->init) {
    case SGS_KMEANS_INIT_PLUSPLUS:
        return sgs_kmeans_plusplus(x, n, d, weights, k, opt->n_local_trials, opt->seed,
                                   base + SGS__STREAM_PLUSPLUS, exec, centers, NULL, err);
    case SGS_KMEANS_INIT_PARALLEL:
        if (closest && nearest)
            return sgs__kmeans_parallel_init_into(
                x, n, d, weights, k, opt->oversampling, opt->n_rounds, opt->seed,
                base + SGS__STREAM_PARALLEL, exec, closest, nearest, centers, err);
        return sgs_kmeans_parallel_init(x, n, d, weights, k, opt->oversampling, opt->n_rounds,
                                        opt->seed, base + SGS__STREAM_PARALLEL, exec, centers, err);
    case SGS_KMEANS_INIT_FIRST:
        memcpy(centers, x, k * d * sizeof *centers);
        return SGS_OK;
    case SGS_KMEANS_INIT_RANDOM: {
        size_t *idx = sgs_alloc_array(k, sizeof *idx);
        if (!idx || sgs__kmeans_sample_rows(n, k, opt->seed, base + SGS__STREAM_RANDOM, idx)) {
            sgs_free(idx);
            return sgs_error_set(err, SGS_ENOMEM, "random init: out of memory");
        }
        for (size_t j = 0; j < k; j++)
            memcpy(centers + j * d, x + idx[j] * d, d * sizeof *centers);
        sgs_free(idx);
        return SGS_OK;
    }
    case SGS_KMEANS_INIT_GIVEN:
        memcpy(centers, opt->init_centers, k * d * sizeof *centers);
        return SGS_OK;
    }
    return sgs_error_set(err, SGS_EINVAL, "unknown init %d", (int)opt->init);
}
