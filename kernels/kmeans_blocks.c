/*
 * kernels/kmeans_blocks.c — the per-block pieces of the k-means fit for a caller that combines
 * them itself (kernels/kmeans_blocks.h). Each function restates, for the blocks it is given,
 * the arithmetic of the kernel it names, with the kernel's own distance and accumulation
 * helpers (kernels/kmeans_dist_internal.h), so that the partials are the kernel's bit for bit.
 */
#include "kernels/kmeans_blocks.h"

#include "kernels/kmeans_dist_internal.h"
#include "kernels/kmeans_internal.h"

#include <math.h>
#include <string.h>

#define CHUNK_ROWS 256

/* ---- Combination, checks, draws -------------------------------------------------------------- */

void sgs_kmeans_blocks_combine(const double *part, size_t nb, size_t m, double *out)
{
    for (size_t e = 0; e < m; e++)
        out[e] = 0;
    for (size_t b = 0; b < nb; b++)
        for (size_t e = 0; e < m; e++)
            out[e] = out[e] + part[b * m + e];
}

int sgs_kmeans_check_options(const sgs_kmeans_options_t *opt, size_t n, size_t d, sgs_error_t *err)
{
    return sgs__kmeans_check_options(opt, n, d, err);
}

size_t sgs_kmeans_first_nonfinite(const double *x, size_t n, size_t d, const sgs_exec_t *exec)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t first_bad = SIZE_MAX; /* integer min: exact whatever the order */
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static) reduction(min : first_bad)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        for (size_t e = r0 * d; e < r1 * d; e++)
            if (!isfinite(x[e])) {
                if (e < first_bad)
                    first_bad = e;
                break;
            }
    }
    return first_bad;
}

uint64_t sgs_kmeans_seed_stream(int run, sgs_kmeans_init_t init)
{
    uint64_t base = (uint64_t)run * SGS__STREAMS;
    switch (init) {
    case SGS_KMEANS_INIT_PLUSPLUS:
        return base + SGS__STREAM_PLUSPLUS;
    case SGS_KMEANS_INIT_PARALLEL:
        return base + SGS__STREAM_PARALLEL;
    case SGS_KMEANS_INIT_RANDOM:
        return base + SGS__STREAM_RANDOM;
    default:
        return base;
    }
}

int sgs_kmeans_random_rows(size_t n, size_t m, uint64_t seed, int run, size_t *rows)
{
    return sgs__kmeans_sample_rows(n, m, seed, sgs_kmeans_seed_stream(run, SGS_KMEANS_INIT_RANDOM),
                                   rows);
}

/* ---- Column moments -------------------------------------------------------------------------- */

void sgs_kmeans_block_column_sums(const double *x, size_t n, size_t d, const double *mean,
                                  const sgs_exec_t *exec, double *part)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        double *p = part + b * d;
        for (size_t f = 0; f < d; f++)
            p[f] = 0;
        if (!mean) {
            for (size_t i = r0; i < r1; i++)
                for (size_t f = 0; f < d; f++)
                    p[f] += x[i * d + f];
        } else {
            for (size_t i = r0; i < r1; i++)
                for (size_t f = 0; f < d; f++) {
                    double t = x[i * d + f] - mean[f];
                    p[f] += t * t;
                }
        }
    }
}

double sgs_kmeans_tolerance_from_variances(const double *var, size_t d, double tol)
{
    double var_sum = 0;
    for (size_t f = 0; f < d; f++)
        var_sum += var[f];
    return var_sum / (double)d * tol;
}

/* ---- One Lloyd iteration --------------------------------------------------------------------- */

/* part has room for nb x 4 x stride doubles (the four sub-sums of every block); each block's
 * folded partial is then moved down to part[b stride], in block order, so that the first
 * nb x stride doubles are the result (block b's fold is read from 4 b stride >= (b + 1) stride
 * for b >= 1, and in place, element by element, for b = 0). */
void sgs_kmeans_block_cluster_sums(const double *x, size_t n, size_t d, const double *weights,
                                   const int32_t *labels, size_t k, const sgs_exec_t *exec,
                                   double *part)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS), stride = k * (d + 1);
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        double *p = part + b * 4 * stride;
        for (size_t e = 0; e < 4 * stride; e++)
            p[e] = 0;
        for (size_t i = r0; i < r1; i++)
            sgs__kmeans_add_row(p, k, d, i, x + i * d, labels[i], weights ? weights + i : NULL);
    }
    for (size_t b = 0; b < nb; b++) {
        const double *p = part + b * 4 * stride;
        double *out = part + b * stride;
        for (size_t e = 0; e < stride; e++)
            out[e] = (p[e] + p[stride + e]) + (p[2 * stride + e] + p[3 * stride + e]);
    }
}

/* The relocation order: larger distance first, then lower row. */
static int far_before(const sgs_kmeans_far_t *a, const sgs_kmeans_far_t *b)
{
    return a->dist > b->dist || (a->dist == b->dist && a->row < b->row);
}

/* Insert r into the sorted list top[0..*len) kept at most m long. */
static void far_insert(sgs_kmeans_far_t *top, size_t *len, size_t m, sgs_kmeans_far_t r)
{
    if (m == 0 || (*len == m && !far_before(&r, &top[m - 1])))
        return;
    size_t pos = *len < m ? (*len)++ : m - 1;
    while (pos > 0 && far_before(&r, &top[pos - 1])) {
        top[pos] = top[pos - 1];
        pos--;
    }
    top[pos] = r;
}

void sgs_kmeans_farthest(const double *x, size_t n, size_t d, const double *centers,
                         const int32_t *labels, size_t m, uint64_t first_row, sgs_kmeans_far_t *out,
                         size_t *len)
{
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        sgs_kmeans_far_t r = {sgs__kmeans_sqdist(x + i * d, centers + (size_t)labels[i] * d, d),
                              first_row + i};
        far_insert(out, len, m, r);
    }
}

void sgs_kmeans_farthest_merge(const sgs_kmeans_far_t *in, size_t n_in, size_t m,
                               sgs_kmeans_far_t *out, size_t *len)
{
    *len = 0;
    for (size_t q = 0; q < n_in; q++)
        far_insert(out, len, m, in[q]);
}

void sgs_kmeans_move_row(double *sums, double *wsum, size_t k, size_t d, const double *xrow,
                         double wf, size_t from, size_t to)
{
    (void)k;
    for (size_t f = 0; f < d; f++) {
        sums[from * d + f] -= xrow[f] * wf;
        sums[to * d + f] = xrow[f] * wf;
    }
    wsum[to] = wf;
    wsum[from] -= wf;
}

double sgs_kmeans_update_centers(const double *sums, const double *wsum, const double *centers_old,
                                 size_t k, size_t d, double *centers_new)
{
    double shift2 = 0;
    for (size_t j = 0; j < k; j++) {
        double *c = centers_new + j * d;
        if (wsum[j] > 0) {
            double alpha = 1.0 / wsum[j];
            for (size_t f = 0; f < d; f++)
                c[f] = sums[j * d + f] * alpha;
        } else {
            memcpy(c, centers_old + j * d, d * sizeof *c);
        }
    }
    for (size_t j = 0; j < k; j++) {
        double s = sqrt(sgs__kmeans_sqdist(centers_new + j * d, centers_old + j * d, d));
        shift2 += s * s;
    }
    return shift2;
}

void sgs_kmeans_block_inertia(const double *x, size_t n, size_t d, const double *weights,
                              const double *centers, const int32_t *labels, const sgs_exec_t *exec,
                              double *part)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        double s = 0;
        for (size_t i = r0; i < r1; i++) {
            double dist = sgs__kmeans_sqdist(x + i * d, centers + (size_t)labels[i] * d, d);
            s += weights ? dist * weights[i] : dist;
        }
        part[b] = s;
    }
}

void sgs_kmeans_label_distances(const double *x, size_t n, size_t d, const double *centers,
                                const int32_t *labels, const sgs_exec_t *exec, double *sqdist)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        for (size_t i = r0; i < r1; i++)
            sqdist[i] = sgs__kmeans_sqdist(x + i * d, centers + (size_t)labels[i] * d, d);
    }
}

/* ---- Greedy k-means++ ------------------------------------------------------------------------ */

/* The distances of k-means++ come from the kernel it restates (sgs_kmeans_plusplus):
 * sgs__kmeans_distances in chunks of CHUNK_ROWS rows, one center at a time. */
void sgs_kmeans_closest_update(const double *x, size_t n, size_t d, const double *c, int init,
                               const sgs_exec_t *exec, double *closest)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
    int isa = sgs__kmeans_isa_resolve(SGS__ISA_AUTO);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        double buf[CHUNK_ROWS];
        for (size_t i0 = r0; i0 < r1; i0 += CHUNK_ROWS) {
            size_t m = r1 - i0 < CHUNK_ROWS ? r1 - i0 : CHUNK_ROWS;
            sgs__kmeans_distances(isa, x + i0 * d, m, d, c, 1, buf);
            for (size_t q = 0; q < m; q++)
                if (init || buf[q] < closest[i0 + q])
                    closest[i0 + q] = buf[q];
        }
    }
}

/* The mass of row i, as k-means++ weighs it. */
static inline double mass(const double *a, const double *w, size_t i)
{
    if (a && w)
        return w[i] * a[i];
    if (a)
        return a[i];
    return w ? w[i] : 1.0;
}

void sgs_kmeans_block_mass(const double *a, const double *w, size_t n, const sgs_exec_t *exec,
                           double *part)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        double s = 0;
        for (size_t i = r0; i < r1; i++)
            s += mass(a, w, i);
        part[b] = s;
    }
}

size_t sgs_kmeans_mass_search(const double *a, const double *w, size_t n, const double *prefix,
                              size_t from_block, double r)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    for (size_t b = from_block; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        double s = prefix[b];
        for (size_t i = r0; i < r1; i++) {
            s += mass(a, w, i);
            if (s >= r)
                return i;
        }
    }
    return SIZE_MAX;
}

void sgs_kmeans_block_potentials(const double *x, size_t n, size_t d, const double *weights,
                                 const double *closest, const double *cand, size_t n_cand,
                                 const sgs_exec_t *exec, double *part)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
    int isa = sgs__kmeans_isa_resolve(SGS__ISA_AUTO);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        double *p = part + b * n_cand;
        double buf[CHUNK_ROWS];
        for (size_t t = 0; t < n_cand; t++)
            p[t] = 0;
        for (size_t i0 = r0; i0 < r1; i0 += CHUNK_ROWS) {
            size_t m = r1 - i0 < CHUNK_ROWS ? r1 - i0 : CHUNK_ROWS;
            for (size_t t = 0; t < n_cand; t++) {
                sgs__kmeans_distances(isa, x + i0 * d, m, d, cand + t * d, 1, buf);
                for (size_t q = 0; q < m; q++) {
                    size_t i = i0 + q;
                    double mn = buf[q] < closest[i] ? buf[q] : closest[i];
                    p[t] += weights ? weights[i] * mn : mn;
                }
            }
        }
    }
}

/* ---- k-means|| ------------------------------------------------------------------------------- */

/* The first distances are the scalar formula, the later ones sgs__kmeans_distances one
 * candidate at a time: each row's candidates are still met in order, so the updates are those
 * of the kernel's pass over all new candidates at once. */
void sgs_kmeans_nearest_update(const double *x, size_t n, size_t d, const double *c, size_t n_c,
                               size_t c0, int init, const sgs_exec_t *exec, double *closest,
                               int32_t *nearest)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
    int isa = sgs__kmeans_isa_resolve(SGS__ISA_AUTO);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        if (init) {
            for (size_t i = r0; i < r1; i++) {
                closest[i] = sgs__kmeans_sqdist(x + i * d, c, d);
                nearest[i] = (int32_t)c0;
            }
            continue;
        }
        double buf[CHUNK_ROWS];
        for (size_t i0 = r0; i0 < r1; i0 += CHUNK_ROWS) {
            size_t m = r1 - i0 < CHUNK_ROWS ? r1 - i0 : CHUNK_ROWS;
            for (size_t t = 0; t < n_c; t++) {
                sgs__kmeans_distances(isa, x + i0 * d, m, d, c + t * d, 1, buf);
                for (size_t q = 0; q < m; q++)
                    if (buf[q] < closest[i0 + q]) {
                        closest[i0 + q] = buf[q];
                        nearest[i0 + q] = (int32_t)(c0 + t);
                    }
            }
        }
    }
}

size_t sgs_kmeans_parallel_draws(const double *closest, const double *w, size_t n,
                                 uint64_t first_row, double ell, double phi, uint64_t seed,
                                 uint64_t stream, uint64_t base, size_t *rows)
{
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        double p = ell * mass(closest, w, i) / phi;
        if (sgs_rng_uniform(seed, stream, base + first_row + i) < p) {
            if (rows)
                rows[cnt] = i;
            cnt++;
        }
    }
    return cnt;
}

void sgs_kmeans_block_candidate_weights(const int32_t *nearest, const double *w, size_t n,
                                        size_t nc, const sgs_exec_t *exec, double *part)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        double *p = part + b * nc;
        for (size_t j = 0; j < nc; j++)
            p[j] = 0;
        for (size_t i = r0; i < r1; i++)
            p[nearest[i]] += w ? w[i] : 1.0;
    }
}

/* reduce_candidates of kernels/kmeans_init.c, restated with the public kernels it calls. */
int sgs_kmeans_parallel_reduce(const double *cand_x, size_t nc, size_t d, const double *cw,
                               size_t k, uint64_t seed, uint64_t stream, const sgs_exec_t *exec,
                               double *centers, sgs_error_t *err)
{
    uint64_t s2 = stream ^ UINT64_C(1) << 63;
    int rc = sgs_kmeans_plusplus(cand_x, nc, d, cw, k, 0, seed, s2, exec, centers, NULL, err);
    if (rc)
        return rc;
    sgs_kmeans_options_t o;
    sgs_kmeans_options_init(&o, k);
    double tol_abs;
    int32_t *lab = sgs_alloc_array(nc, sizeof *lab);
    sgs_kmeans_result_t res;
    if (!lab)
        return sgs_error_set(err, SGS_ENOMEM, "k-means||: out of memory for %zu candidates", nc);
    rc = sgs_kmeans_tolerance(cand_x, nc, d, 1e-4, exec, &tol_abs, err);
    if (!rc)
        rc = sgs_kmeans_single(cand_x, nc, d, cw, &o, tol_abs, exec, centers, lab, &res, err);
    sgs_free(lab);
    return rc;
}
