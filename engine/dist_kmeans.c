/*
 * engine/dist_kmeans.c — k-means over rows spread across processes (engine/dist_kmeans.h): the
 * rows realigned into whole blocks of the global order, then sgs_kmeans_fit's steps with every
 * floating-point total made of per-block partials gathered in block order. The arithmetic is
 * kernels/kmeans_blocks.h's; this file moves rows and partials and restates the fit's
 * decisions (kernels/kmeans.c, kernels/kmeans_lloyd.c, kernels/kmeans_init.c), which every
 * process takes on the same totals.
 */
#include "engine/dist_kmeans.h"

#include "engine/dist_blocks.h"

#include "kernels/kmeans_blocks.h"

#include <math.h>
#include <string.h>

/* ---- The fit's state on one process ---------------------------------------------------------- */

typedef struct kfit {
    const sgs_dist_t *dist;
    const sgs_exec_t *exec;
    const sgs_kmeans_options_t *opt;
    size_t d, k, stride; /* stride = k (d + 1): the cluster sums and weights */
    uint64_t n_all;      /* rows of every process */
    uint64_t first;      /* global index of this process's first realigned row */
    size_t n, nb;        /* realigned rows here and their blocks */
    double *x;           /* n x d realigned rows (owned) */
    double *w;           /* n realigned weights, NULL without weights (owned) */
    double *part;        /* block partials: nb x max(4 stride, d, T, 1) */
    double *closest;     /* n: k-means++'s closest distances */
    int32_t *lab_new;    /* n: the labels of an assignment */
} kfit_t;

/* The totals of m values per block over every process's blocks: part (nb x m, this process's
 * blocks) gathered in rank order, which is block order, and combined as the kernels combine
 * them. out: m values, the same on every process. */
static int combine_all(const kfit_t *f, const double *part, size_t m, double *out, sgs_error_t *err)
{
    double *all = NULL;
    size_t bytes = 0;
    int rc = sgs_size_mul(f->nb, m * sizeof *part, &bytes);
    if (rc == SGS_OK)
        rc = sgs_dist_gather_all(f->dist, part, bytes, (void **)&all, NULL, err);
    if (rc == SGS_OK)
        sgs_kmeans_blocks_combine(all, sgs_block_count((size_t)f->n_all, SGS_BLOCK_ROWS), m, out);
    sgs_free(all);
    return rc;
}

/* A fetched row: its position in the request, then label, weight and the d values. */
enum { ROW_POS, ROW_LABEL, ROW_WEIGHT, ROW_X };

/* Rows rows[0..m) (global indices) of every process: each owner sends its requested rows, and
 * every process gets all of them, x into xout (m x d) and, when not NULL, the weights (1
 * without weights) and the labels `labels` gives them. */
static int fetch_rows(const kfit_t *f, const uint64_t *rows, size_t m, const int32_t *labels,
                      double *xout, double *wout, int32_t *lout, sgs_error_t *err)
{
    size_t words = ROW_X + f->d, mine = 0;
    for (size_t q = 0; q < m; q++)
        mine += rows[q] >= f->first && rows[q] - f->first < f->n;
    uint64_t *send = sgs_alloc_array(mine ? mine : 1, words * sizeof *send), *all = NULL;
    size_t *counts = sgs_alloc_array((size_t)f->dist->size, sizeof *counts);
    int rc = send && counts ? SGS_OK
                            : sgs_error_set(err, SGS_ENOMEM, "k-means: no memory for %zu rows", m);
    rc = sgs_dist_agree(f->dist, rc, err);
    if (rc) {
        sgs_free(send);
        sgs_free(counts);
        return rc;
    }
    size_t at = 0;
    for (size_t q = 0; q < m; q++) {
        if (!(rows[q] >= f->first && rows[q] - f->first < f->n))
            continue;
        size_t i = (size_t)(rows[q] - f->first);
        uint64_t *r = send + at++ * words;
        int64_t lab = labels ? labels[i] : -1;
        double wf = f->w ? f->w[i] : 1.0;
        r[ROW_POS] = q;
        memcpy(&r[ROW_LABEL], &lab, sizeof lab);
        memcpy(&r[ROW_WEIGHT], &wf, sizeof wf);
        memcpy(&r[ROW_X], f->x + i * f->d, f->d * sizeof(double));
    }
    rc =
        sgs_dist_gather_all(f->dist, send, mine * words * sizeof *send, (void **)&all, counts, err);
    if (rc == SGS_OK) {
        size_t total = 0;
        for (int p = 0; p < f->dist->size; p++)
            total += counts[p] / (words * sizeof *send);
        for (size_t t = 0; t < total; t++) { /* each requested row has one owner */
            const uint64_t *r = all + t * words;
            size_t q = (size_t)r[ROW_POS];
            memcpy(xout + q * f->d, &r[ROW_X], f->d * sizeof(double));
            if (wout)
                memcpy(&wout[q], &r[ROW_WEIGHT], sizeof(double));
            if (lout) {
                int64_t lab;
                memcpy(&lab, &r[ROW_LABEL], sizeof lab);
                lout[q] = (int32_t)lab;
            }
        }
    }
    sgs_free(all);
    sgs_free(counts);
    sgs_free(send);
    return rc;
}

/* ---- Checks ---------------------------------------------------------------------------------- */

/* The kernel's checks on every process's rows, named by global row (kernels/kmeans.c). */
static int check_input(const sgs_dist_t *dist, const double *x, size_t n, size_t d,
                       const double *weights, uint64_t offset, uint64_t n_all,
                       const sgs_kmeans_options_t *opt, const sgs_exec_t *exec, sgs_error_t *err)
{
    int rc = sgs_kmeans_check_options(opt, (size_t)n_all, d, err);
    if (rc) /* the same on every process: options and sizes are */
        return rc;
    size_t bad = sgs_kmeans_first_nonfinite(x, n, d, exec);
    if (bad != SIZE_MAX) {
        double v = x[bad];
        rc = sgs_error_set(err, SGS_EDATA, "row %llu column %zu is %s",
                           (unsigned long long)(offset + bad / d), bad % d,
                           isnan(v) ? "NaN" : (v > 0 ? "+inf" : "-inf"));
    }
    rc = sgs_dist_agree(dist, rc, err); /* the lowest process: the first bad row */
    if (rc)
        return rc;
    /* Weights: on every process with rows or on none. */
    int64_t has[2] = {weights && n > 0, -(int64_t)(n == 0 || weights)}; /* max, -min */
    sgs_dist_reduce_i64(dist, has, 2, SGS_DIST_MAX);
    if (has[0] && has[1] == 0)
        return sgs_error_set(err, SGS_EINVAL,
                             "k-means: sample weights given by some processes only");
    if (has[0]) {
        int64_t any_positive = 0;
        for (size_t i = 0; i < n && rc == SGS_OK; i++) {
            if (!isfinite(weights[i]) || weights[i] < 0)
                rc = sgs_error_set(err, SGS_EDATA,
                                   "sample weight of row %llu is %g (must be finite and >= 0)",
                                   (unsigned long long)(offset + i), weights[i]);
            any_positive |= weights[i] > 0;
        }
        rc = sgs_dist_agree(dist, rc, err);
        if (rc)
            return rc;
        sgs_dist_reduce_i64(dist, &any_positive, 1, SGS_DIST_MAX);
        if (!any_positive)
            return sgs_error_set(err, SGS_EDATA, "all %llu sample weights are zero",
                                 (unsigned long long)n_all);
    }
    if (opt->init == SGS_KMEANS_INIT_GIVEN &&
        sgs_kmeans_first_nonfinite(opt->init_centers, opt->k, d, exec) != SIZE_MAX) {
        size_t e = sgs_kmeans_first_nonfinite(opt->init_centers, opt->k, d, exec);
        double v = opt->init_centers[e];
        return sgs_error_set(err, SGS_EDATA, "initial centers: row %zu column %zu is %s", e / d,
                             e % d, isnan(v) ? "NaN" : (v > 0 ? "+inf" : "-inf"));
    }
    if (opt->algorithm == SGS_KMEANS_MINIBATCH)
        return sgs_error_set(err, SGS_EINVAL,
                             "k-means: mini-batch is not yet spread over processes");
    return SGS_OK;
}

/* ---- Tolerance ------------------------------------------------------------------------------- */

/* sgs_kmeans_tolerance over every process's rows: column means, then the mean squared
 * deviations, each made of block partials; tol * their mean. */
static int tolerance(const kfit_t *f, double *tol_abs, sgs_error_t *err)
{
    *tol_abs = 0;
    if (f->opt->tol == 0 || f->n_all == 0)
        return SGS_OK;
    size_t d = f->d;
    double *mom = sgs_alloc_array(2 * d, sizeof *mom); /* means, then variances */
    int rc = mom ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "tolerance: out of memory");
    rc = sgs_dist_agree(f->dist, rc, err);
    for (int pass = 0; pass < 2 && rc == SGS_OK; pass++) {
        sgs_kmeans_block_column_sums(f->x, f->n, d, pass ? mom : NULL, f->exec, f->part);
        rc = combine_all(f, f->part, d, mom + pass * d, err);
        for (size_t c = 0; c < d && rc == SGS_OK; c++)
            mom[pass * d + c] = mom[pass * d + c] / (double)f->n_all;
    }
    if (rc == SGS_OK)
        *tol_abs = sgs_kmeans_tolerance_from_variances(mom + d, d, f->opt->tol);
    sgs_free(mom);
    return rc;
}

/* ---- Seeding --------------------------------------------------------------------------------- */

/* k-means++'s running sums over every process's rows: prefix[0..nb_all], prefix[b + 1] =
 * prefix[b] + the mass of global block b (kernels/kmeans_init.c, mass_prefix). */
static int mass_prefix(const kfit_t *f, const double *a, double *prefix, sgs_error_t *err)
{
    size_t nb_all = sgs_block_count((size_t)f->n_all, SGS_BLOCK_ROWS);
    double *all = NULL;
    sgs_kmeans_block_mass(a, f->w, f->n, f->exec, f->part);
    int rc =
        sgs_dist_gather_all(f->dist, f->part, f->nb * sizeof(double), (void **)&all, NULL, err);
    if (rc == SGS_OK) {
        prefix[0] = 0;
        for (size_t b = 0; b < nb_all; b++)
            prefix[b + 1] = prefix[b] + all[b];
    }
    sgs_free(all);
    return rc;
}

/* For each r[t]: the first global row whose running sum of mass reaches it, searching from the
 * first block whose prefix reaches it (mass_search), the last row when none does. One search
 * per process on its blocks, the lowest hit of all. */
static void mass_search(const kfit_t *f, const double *a, const double *prefix, const double *r,
                        size_t m, uint64_t *rows)
{
    size_t nb_all = sgs_block_count((size_t)f->n_all, SGS_BLOCK_ROWS);
    size_t b0 = (size_t)(f->first / SGS_BLOCK_ROWS); /* this process's first global block */
    int64_t *hit = (int64_t *)rows;                  /* same size, reduced in place */
    for (size_t t = 0; t < m; t++) {
        size_t b = 0;
        while (b < nb_all && !(prefix[b + 1] >= r[t]))
            b++;
        size_t from = b > b0 ? b - b0 : 0;
        size_t i = f->n ? sgs_kmeans_mass_search(a, f->w, f->n, prefix + b0, from, r[t]) : SIZE_MAX;
        hit[t] = i == SIZE_MAX ? INT64_MAX : (int64_t)(f->first + i);
    }
    sgs_dist_reduce_i64(f->dist, hit, m, SGS_DIST_MIN);
    for (size_t t = 0; t < m; t++)
        rows[t] = hit[t] == INT64_MAX ? f->n_all - 1 : (uint64_t)hit[t];
}

/* Greedy k-means++ (sgs_kmeans_plusplus) over every process's rows, with n_local_trials
 * candidates per center (0: 2 + floor(ln k)) drawn on `stream`. */
static int plusplus(kfit_t *f, int n_local_trials, uint64_t stream, double *centers,
                    sgs_error_t *err)
{
    const sgs_kmeans_options_t *opt = f->opt;
    size_t k = f->k, d = f->d;
    size_t T = n_local_trials > 0 ? (size_t)n_local_trials : 2 + (size_t)floor(log((double)k));
    size_t nb_all = sgs_block_count((size_t)f->n_all, SGS_BLOCK_ROWS);
    uint64_t counter = 0;
    double *prefix = sgs_alloc_array(nb_all + 1, sizeof *prefix);
    double *r = sgs_alloc_array(T, sizeof *r);
    double *pot = sgs_alloc_array(T, sizeof *pot);
    uint64_t *cand = sgs_alloc_array(T, sizeof *cand);
    double *cand_x = sgs_alloc_array(T, d * sizeof *cand_x);
    int rc = prefix && r && pot && cand && cand_x
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "k-means++: out of memory");
    rc = sgs_dist_agree(f->dist, rc, err);
    if (rc)
        goto cleanup;
    /* First center: a row drawn with probability w_i / sum w. */
    double u = sgs_rng_uniform(opt->seed, stream, counter++);
    uint64_t first;
    if (!f->w) {
        first = (uint64_t)(u * (double)f->n_all);
        if (first >= f->n_all)
            first = f->n_all - 1;
    } else {
        rc = mass_prefix(f, NULL, prefix, err);
        if (rc)
            goto cleanup;
        double rr = u * prefix[nb_all];
        mass_search(f, NULL, prefix, &rr, 1, &first);
    }
    rc = fetch_rows(f, &first, 1, NULL, centers, NULL, NULL, err);
    if (rc)
        goto cleanup;
    sgs_kmeans_closest_update(f->x, f->n, d, centers, 1, f->exec, f->closest);
    rc = mass_prefix(f, f->closest, prefix, err);
    for (size_t c = 1; c < k && rc == SGS_OK; c++) {
        double current_pot = prefix[nb_all];
        for (size_t t = 0; t < T; t++)
            r[t] = sgs_rng_uniform(opt->seed, stream, counter++) * current_pot;
        mass_search(f, f->closest, prefix, r, T, cand);
        rc = fetch_rows(f, cand, T, NULL, cand_x, NULL, NULL, err);
        if (rc)
            break;
        /* The candidates' potentials sum_i w_i min(D_i, D(x_i, cand)); the lowest is kept. */
        sgs_kmeans_block_potentials(f->x, f->n, d, f->w, f->closest, cand_x, T, f->exec, f->part);
        rc = combine_all(f, f->part, T, pot, err);
        if (rc)
            break;
        size_t best = 0;
        double best_pot = INFINITY;
        for (size_t t = 0; t < T; t++)
            if (pot[t] < best_pot) {
                best_pot = pot[t];
                best = t;
            }
        memcpy(centers + c * d, cand_x + best * d, d * sizeof *centers);
        sgs_kmeans_closest_update(f->x, f->n, d, centers + c * d, 0, f->exec, f->closest);
        rc = mass_prefix(f, f->closest, prefix, err);
    }
cleanup:
    sgs_free(prefix);
    sgs_free(r);
    sgs_free(pot);
    sgs_free(cand);
    sgs_free(cand_x);
    return rc;
}

/* k-means|| (sgs_kmeans_parallel_init) over every process's rows, restart `run`: the rows each
 * round draws are gathered in global order, so every process holds the kernel's candidates,
 * their weights are combined from block partials, and each process reduces them to the same k
 * centers (sgs_kmeans_parallel_reduce). */
static int parallel_init(kfit_t *f, int run, double *centers, sgs_error_t *err)
{
    const sgs_kmeans_options_t *opt = f->opt;
    size_t k = f->k, d = f->d, n = f->n;
    size_t nb_all = sgs_block_count((size_t)f->n_all, SGS_BLOCK_ROWS);
    uint64_t stream = sgs_kmeans_seed_stream(run, SGS_KMEANS_INIT_PARALLEL), counter = 0;
    double ell = opt->oversampling * (double)k;
    size_t nc = 0, cap = 1 + (size_t)ceil(2 * ell) * (size_t)opt->n_rounds + 16;
    double *prefix = sgs_alloc_array(nb_all + 1, sizeof *prefix);
    int32_t *nearest = sgs_alloc_array(n ? n : 1, sizeof *nearest);
    size_t *drawn = sgs_alloc_array(n ? n : 1, sizeof *drawn);
    double *cand_x = sgs_alloc_array(cap, d * sizeof *cand_x);
    double *send = NULL, *got = NULL, *part = NULL, *cw = NULL;
    int rc = prefix && nearest && drawn && cand_x
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "k-means||: out of memory for n = %zu", n);
    rc = sgs_dist_agree(f->dist, rc, err);
    if (rc)
        goto cleanup;
    /* The first candidate: a row drawn with probability w_i / sum w (1 / n without weights). */
    double u = sgs_rng_uniform(opt->seed, stream, counter++), r0;
    uint64_t first;
    rc = mass_prefix(f, NULL, prefix, err);
    if (rc)
        goto cleanup;
    r0 = u * prefix[nb_all];
    mass_search(f, NULL, prefix, &r0, 1, &first);
    rc = fetch_rows(f, &first, 1, NULL, cand_x, NULL, NULL, err);
    if (rc)
        goto cleanup;
    nc = 1;
    sgs_kmeans_nearest_update(f->x, n, d, cand_x, 1, 0, 1, f->exec, f->closest, nearest);
    rc = mass_prefix(f, f->closest, prefix, err);
    /* Rounds: every row drawn independently; the drawn rows, gathered in global order, are the
     * kernel's new candidates in its order. */
    for (int r = 0; r < opt->n_rounds && rc == SGS_OK; r++) {
        double phi = prefix[nb_all];
        if (!(phi > 0))
            break; /* every row sits on a candidate */
        uint64_t base = 1 + (uint64_t)r * f->n_all;
        size_t mine = sgs_kmeans_parallel_draws(f->closest, f->w, n, f->first, ell, phi, opt->seed,
                                                stream, base, drawn);
        sgs_free(send);
        send = sgs_alloc_array(mine ? mine : 1, d * sizeof *send);
        rc = send ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "k-means||: out of memory");
        rc = sgs_dist_agree(f->dist, rc, err);
        if (rc)
            break;
        for (size_t q = 0; q < mine; q++)
            memcpy(send + q * d, f->x + drawn[q] * d, d * sizeof *send);
        size_t *counts = sgs_alloc_array((size_t)f->dist->size, sizeof *counts);
        rc = counts ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "k-means||: out of memory");
        rc = sgs_dist_agree(f->dist, rc, err);
        if (rc == SGS_OK)
            rc = sgs_dist_gather_all(f->dist, send, mine * d * sizeof *send, (void **)&got, counts,
                                     err);
        size_t add = 0;
        for (int p = 0; p < f->dist->size && rc == SGS_OK; p++)
            add += counts[p] / (d * sizeof *send);
        sgs_free(counts);
        if (rc)
            break;
        if (add == 0)
            continue;
        if (nc + add > cap) {
            size_t ncap = (nc + add) * 2;
            double *x2 = sgs_realloc_array(cand_x, ncap, d * sizeof *cand_x);
            rc = x2 ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "k-means||: out of memory");
            rc = sgs_dist_agree(f->dist, rc, err);
            if (x2)
                cand_x = x2;
            if (rc)
                break;
            cap = ncap;
        }
        memcpy(cand_x + nc * d, got, add * d * sizeof *cand_x);
        sgs_free(got);
        got = NULL;
        /* Closest candidate of every row, with the new candidates (first minimum). */
        sgs_kmeans_nearest_update(f->x, n, d, cand_x + nc * d, add, nc, 0, f->exec, f->closest,
                                  nearest);
        nc += add;
        rc = mass_prefix(f, f->closest, prefix, err);
    }
    if (rc)
        goto cleanup;
    if (nc < k) { /* too few candidates: plain k-means++ on the rows, as the kernel falls back */
        rc = plusplus(f, 0, stream ^ UINT64_C(1) << 62, centers, err);
        goto cleanup;
    }
    /* Candidate weights: the weight of the rows nearest to each, per block, in block order. */
    part = sgs_alloc_array(f->nb ? f->nb : 1, nc * sizeof *part);
    cw = sgs_alloc_array(nc, sizeof *cw);
    rc = part && cw ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "k-means||: out of memory");
    rc = sgs_dist_agree(f->dist, rc, err);
    if (rc)
        goto cleanup;
    sgs_kmeans_block_candidate_weights(nearest, f->w, n, nc, f->exec, part);
    rc = combine_all(f, part, nc, cw, err);
    if (rc == SGS_OK) /* the same candidates and weights everywhere: the same centers */
        rc = sgs_kmeans_parallel_reduce(cand_x, nc, d, cw, k, opt->seed, stream, f->exec, centers,
                                        err);
    rc = sgs_dist_agree(f->dist, rc, err);
cleanup:
    sgs_free(prefix);
    sgs_free(nearest);
    sgs_free(drawn);
    sgs_free(cand_x);
    sgs_free(send);
    sgs_free(got);
    sgs_free(part);
    sgs_free(cw);
    return rc;
}

/* The seeds of restart `run` (sgs__kmeans_seed in kernels/kmeans_init.c). */
static int seed(kfit_t *f, int run, double *centers, sgs_error_t *err)
{
    const sgs_kmeans_options_t *opt = f->opt;
    size_t k = f->k;
    if (opt->init == SGS_KMEANS_INIT_GIVEN) {
        memcpy(centers, opt->init_centers, k * f->d * sizeof *centers);
        return SGS_OK;
    }
    if (opt->init == SGS_KMEANS_INIT_PLUSPLUS)
        return plusplus(f, opt->n_local_trials,
                        sgs_kmeans_seed_stream(run, SGS_KMEANS_INIT_PLUSPLUS), centers, err);
    if (opt->init == SGS_KMEANS_INIT_PARALLEL)
        return parallel_init(f, run, centers, err);
    /* The first k rows, or k distinct rows drawn as the kernel draws them. */
    size_t *rows = sgs_alloc_array(k, sizeof *rows);
    uint64_t *grows = sgs_alloc_array(k, sizeof *grows);
    int rc = rows && grows ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory");
    if (rc == SGS_OK && opt->init == SGS_KMEANS_INIT_RANDOM &&
        sgs_kmeans_random_rows((size_t)f->n_all, k, opt->seed, run, rows))
        rc = sgs_error_set(err, SGS_ENOMEM, "random init: out of memory");
    rc = sgs_dist_agree(f->dist, rc, err);
    if (rc == SGS_OK) {
        for (size_t j = 0; j < k; j++)
            grows[j] = opt->init == SGS_KMEANS_INIT_RANDOM ? rows[j] : j;
        rc = fetch_rows(f, grows, k, NULL, centers, NULL, NULL, err);
    }
    sgs_free(rows);
    sgs_free(grows);
    return rc;
}

/* ---- One run --------------------------------------------------------------------------------- */

/* Scratch of a run, the same sizes on every process but n. */
typedef struct run_ws {
    double *tot;               /* stride: combined cluster sums, then weights */
    double *centers_new;       /* k x d */
    int32_t *empty;            /* k: the clusters left without weight */
    sgs_kmeans_far_t *far;     /* k: this process's farthest rows, then the merged list */
    double *moved_x, *moved_w; /* k x d, k: the rows relocated */
    int32_t *moved_label;      /* k */
    uint64_t *moved_row;       /* k */
    int64_t *count;            /* k: rows of positive weight per cluster */
} run_ws_t;

/* Empty clusters (sgs__kmeans_relocate_empty): each process's farthest rows gathered and
 * merged in the relocation order; the rows taken are fetched from their owners and moved in
 * the combined sums. Returns the rows moved in *moved. */
static int relocate_empty(kfit_t *f, const double *centers_old, const int32_t *labels, run_ws_t *w,
                          size_t *moved, sgs_error_t *err)
{
    size_t k = f->k, d = f->d, n_empty = 0;
    double *sums = w->tot, *wsum = w->tot + k * d;
    *moved = 0;
    for (size_t j = 0; j < k; j++)
        if (wsum[j] == 0)
            w->empty[n_empty++] = (int32_t)j;
    if (n_empty == 0)
        return SGS_OK;
    size_t len = 0;
    sgs_kmeans_farthest(f->x, f->n, d, centers_old, labels, n_empty, f->first, w->far, &len);
    sgs_kmeans_far_t *all = NULL;
    size_t *counts = sgs_alloc_array((size_t)f->dist->size, sizeof *counts);
    int rc = counts ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "k-means: no memory");
    rc = sgs_dist_agree(f->dist, rc, err);
    if (rc == SGS_OK)
        rc = sgs_dist_gather_all(f->dist, w->far, len * sizeof *w->far, (void **)&all, counts, err);
    if (rc == SGS_OK) {
        size_t n_in = 0;
        for (int p = 0; p < f->dist->size; p++)
            n_in += counts[p] / sizeof *all;
        sgs_kmeans_farthest_merge(all, n_in, n_empty, w->far, &len);
    }
    sgs_free(all);
    sgs_free(counts);
    if (rc || len == 0 || w->far[0].dist == 0)
        return rc; /* every row sits on its center: more clusters than distinct points */
    size_t m = n_empty < len ? n_empty : len;
    for (size_t q = 0; q < m; q++)
        w->moved_row[q] = w->far[q].row;
    rc = fetch_rows(f, w->moved_row, m, labels, w->moved_x, w->moved_w, w->moved_label, err);
    if (rc)
        return rc;
    for (size_t q = 0; q < m; q++)
        sgs_kmeans_move_row(sums, wsum, k, d, w->moved_x + q * d, w->moved_w[q],
                            (size_t)w->moved_label[q], (size_t)w->empty[q]);
    *moved = m;
    return SGS_OK;
}

/* One Lloyd run from `centers` (sgs__kmeans_run; the reference twin sgs_kmeans_single_ref
 * restates it): labels of this process's rows, centers and *res the same on every process. */
static int lloyd(kfit_t *f, double tol_abs, double *centers, int32_t *labels, run_ws_t *w,
                 sgs_kmeans_result_t *res, sgs_error_t *err)
{
    const sgs_kmeans_options_t *opt = f->opt;
    size_t k = f->k, d = f->d;
    int rc = SGS_OK, strict = 0, it;
    memset(res, 0, sizeof *res);
    res->tol_abs = tol_abs;
    for (size_t i = 0; i < f->n; i++)
        labels[i] = -1; /* every row changes in the first iteration */
    for (it = 0; it < opt->max_iter; it++) {
        /* The stop check, then the assignment (the kernels' E-step, the first nearest center);
         * their outcome travels with the count of changed labels, one collective, and is agreed
         * on (with the message) only when some process failed. */
        rc = sgs_exec_stop(f->exec, err);
        if (rc == SGS_OK)
            rc = sgs_kmeans_assign(f->x, f->n, d, centers, k, f->exec, f->lab_new, NULL, err);
        int64_t sum[2] = {0, rc != SGS_OK}; /* changed labels, failed processes */
        for (size_t i = 0; i < f->n && rc == SGS_OK; i++) {
            sum[0] += f->lab_new[i] != labels[i];
            labels[i] = f->lab_new[i];
        }
        sgs_dist_reduce_i64(f->dist, sum, 2, SGS_DIST_SUM);
        if (sum[1])
            return sgs_dist_agree(f->dist, rc, err);
        int64_t changed = sum[0];
        /* Update: the cluster sums of every block, combined in block order. */
        sgs_kmeans_block_cluster_sums(f->x, f->n, d, f->w, labels, k, f->exec, f->part);
        rc = combine_all(f, f->part, f->stride, w->tot, err);
        size_t moved = 0;
        if (rc == SGS_OK)
            rc = relocate_empty(f, centers, labels, w, &moved, err);
        if (rc)
            return rc;
        res->n_relocated += moved;
        double shift2 =
            sgs_kmeans_update_centers(w->tot, w->tot + k * d, centers, k, d, w->centers_new);
        memcpy(centers, w->centers_new, k * d * sizeof *centers);
        if (opt->on_iter)
            opt->on_iter(opt->on_iter_ctx, 0, it, (size_t)changed, shift2);
        if (changed == 0) {
            strict = 1;
            break;
        }
        if (shift2 <= tol_abs)
            break;
    }
    res->converged = it < opt->max_iter;
    res->n_iter = it < opt->max_iter ? it + 1 : opt->max_iter;
    res->n_distances = f->n_all * (uint64_t)k * (uint64_t)res->n_iter;
    if (!strict) /* the final E-step: labels of the final centers */
        rc = sgs_kmeans_assign(f->x, f->n, d, centers, k, f->exec, labels, NULL, err);
    rc = sgs_dist_agree(f->dist, rc, err);
    if (rc)
        return rc;
    sgs_kmeans_block_inertia(f->x, f->n, d, f->w, centers, labels, f->exec, f->part);
    rc = combine_all(f, f->part, 1, &res->inertia, err);
    if (rc)
        return rc;
    /* Non-empty clusters of the final labels: rows of positive weight, counted exactly. */
    for (size_t j = 0; j < k; j++)
        w->count[j] = 0;
    for (size_t i = 0; i < f->n; i++)
        w->count[labels[i]] += !f->w || f->w[i] > 0;
    sgs_dist_reduce_i64(f->dist, w->count, k, SGS_DIST_SUM);
    for (size_t j = 0; j < k; j++)
        res->n_nonempty += w->count[j] > 0;
    return SGS_OK;
}

/* Whether labels a and b of every process's rows are the same clustering as
 * sgs_kmeans_same_clustering decides it (1 or 0; 0 above its 2^20 clusters, as the kernel's
 * -1 counts): each process maps the clusters of a to those of b on its rows, the maps are
 * gathered in rank order, and a cluster's first mapping must hold on every process. */
static int same_clustering(const kfit_t *f, const int32_t *a, const int32_t *b, int *same,
                           sgs_error_t *err)
{
    size_t k = f->k;
    *same = 0;
    if (k > ((size_t)1 << 20))
        return SGS_OK;
    int32_t *map = sgs_alloc_array(k + 1, sizeof *map), *all = NULL;
    int rc = map ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "k-means: no memory");
    rc = sgs_dist_agree(f->dist, rc, err);
    if (rc) {
        sgs_free(map);
        return rc;
    }
    map[0] = 1; /* this process's rows map consistently */
    for (size_t j = 0; j < k; j++)
        map[1 + j] = -1;
    for (size_t i = 0; i < f->n && map[0]; i++) {
        if (map[1 + a[i]] == -1)
            map[1 + a[i]] = b[i];
        else if (map[1 + a[i]] != b[i])
            map[0] = 0;
    }
    rc = sgs_dist_gather_all(f->dist, map, (k + 1) * sizeof *map, (void **)&all, NULL, err);
    if (rc == SGS_OK) {
        int ok = 1;
        for (size_t j = 0; j < k; j++)
            map[1 + j] = -1;
        for (int p = 0; p < f->dist->size && ok; p++) {
            const int32_t *pm = all + (size_t)p * (k + 1);
            ok = pm[0];
            for (size_t j = 0; j < k && ok; j++) {
                if (pm[1 + j] == -1)
                    continue;
                if (map[1 + j] == -1)
                    map[1 + j] = pm[1 + j];
                else if (map[1 + j] != pm[1 + j])
                    ok = 0;
            }
        }
        *same = ok;
    }
    sgs_free(all);
    sgs_free(map);
    return rc;
}

/* ---- The whole fit --------------------------------------------------------------------------- */

/* The restarts (sgs_kmeans_fit): run i seeded on the streams of i, the first kept, a later one
 * when its inertia is strictly lower and it is not the same clustering. labels: this
 * process's realigned rows. */
static int restarts(kfit_t *f, double tol_abs, double *centers, int32_t *labels,
                    sgs_kmeans_result_t *result, sgs_error_t *err)
{
    const sgs_kmeans_options_t *opt = f->opt;
    size_t k = f->k, d = f->d, n = f->n;
    int n_runs =
        opt->init == SGS_KMEANS_INIT_FIRST || opt->init == SGS_KMEANS_INIT_GIVEN ? 1 : opt->n_init;
    run_ws_t w = {0};
    int32_t *run_labels = sgs_alloc_array(n ? n : 1, sizeof *run_labels);
    double *run_centers = sgs_alloc_array(k * d, sizeof *run_centers);
    w.tot = sgs_alloc_array(f->stride, sizeof *w.tot);
    w.centers_new = sgs_alloc_array(k * d, sizeof *w.centers_new);
    w.empty = sgs_alloc_array(k, sizeof *w.empty);
    w.far = sgs_alloc_array(k, sizeof *w.far);
    w.moved_x = sgs_alloc_array(k * d, sizeof *w.moved_x);
    w.moved_w = sgs_alloc_array(k, sizeof *w.moved_w);
    w.moved_label = sgs_alloc_array(k, sizeof *w.moved_label);
    w.moved_row = sgs_alloc_array(k, sizeof *w.moved_row);
    w.count = sgs_alloc_array(k, sizeof *w.count);
    int rc = run_labels && run_centers && w.tot && w.centers_new && w.empty && w.far && w.moved_x &&
                     w.moved_w && w.moved_label && w.moved_row && w.count
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "k-means: out of memory for k = %zu", k);
    rc = sgs_dist_agree(f->dist, rc, err);
    for (int run = 0; run < n_runs && rc == SGS_OK; run++) {
        int32_t *lab = run == 0 ? labels : run_labels;
        double *cen = run == 0 ? centers : run_centers;
        sgs_kmeans_result_t res;
        rc = sgs_dist_agree(f->dist, sgs_exec_stop(f->exec, err), err);
        if (rc == SGS_OK)
            rc = seed(f, run, cen, err);
        if (rc == SGS_OK)
            rc = lloyd(f, tol_abs, cen, lab, &w, &res, err);
        if (rc)
            break;
        res.best_run = run;
        if (run == 0) {
            *result = res;
        } else if (res.inertia < result->inertia) {
            int same = 0;
            rc = same_clustering(f, lab, labels, &same, err);
            if (rc == SGS_OK && !same) {
                memcpy(labels, lab, n * sizeof *labels);
                memcpy(centers, cen, k * d * sizeof *centers);
                *result = res;
            }
        }
    }
    sgs_free(run_labels);
    sgs_free(run_centers);
    sgs_free(w.tot);
    sgs_free(w.centers_new);
    sgs_free(w.empty);
    sgs_free(w.far);
    sgs_free(w.moved_x);
    sgs_free(w.moved_w);
    sgs_free(w.moved_label);
    sgs_free(w.moved_row);
    sgs_free(w.count);
    return rc;
}

int sgs_dist_kmeans_fit(const sgs_dist_t *dist, const double *x, size_t n, size_t d,
                        const double *weights, const sgs_kmeans_options_t *opt,
                        const sgs_exec_t *exec, int32_t *labels, double *sqdist, double *centers,
                        sgs_kmeans_result_t *result, sgs_error_t *err)
{
    kfit_t f = {.dist = dist, .exec = exec, .opt = opt, .d = d, .k = opt->k};
    uint64_t *packed = NULL, *moved = NULL;
    int32_t *lab = NULL;
    double *dist2 = NULL;
    /* Where every process's rows start in the global order, given and realigned into whole
       blocks (engine/dist_blocks.h). */
    sgs_dist_align_t al = {0};
    int rc = sgs_dist_align_init(dist, n, &al, err);
    if (rc)
        goto cleanup;
    f.n_all = al.n_all;
    rc = check_input(dist, x, n, d, weights, al.given[dist->rank], f.n_all, opt, exec, err);
    if (rc)
        goto cleanup;
    /* Realignment: whole blocks of the global order on every process. */
    int64_t any_weights = weights != NULL && n > 0;
    sgs_dist_reduce_i64(dist, &any_weights, 1, SGS_DIST_MAX);
    size_t words = d + (any_weights ? 1 : 0);
    const void *send = x;
    if (any_weights) {
        packed = sgs_alloc_array(n ? n : 1, words * sizeof *packed);
        rc = packed ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "k-means: no memory for %zu rows", n);
        rc = sgs_dist_agree(dist, rc, err);
        if (rc)
            goto cleanup;
        for (size_t i = 0; i < n; i++) {
            memcpy(packed + i * words, x + i * d, d * sizeof *x);
            memcpy(packed + i * words + d, &weights[i], sizeof *weights);
        }
        send = packed;
    }
    rc = sgs_dist_align_move(dist, &al, send, words, 0, (void **)&moved, err);
    if (rc)
        goto cleanup;
    f.first = al.first;
    f.n = al.n;
    f.nb = sgs_block_count(f.n, SGS_BLOCK_ROWS);
    if (sgs_size_mul(f.k, d + 1, &f.stride) || f.stride > SIZE_MAX / 4) { /* the same everywhere */
        rc = sgs_error_set(err, SGS_ENOMEM, "k-means: k = %zu by d = %zu is too large", f.k, d);
        goto cleanup;
    }
    size_t T =
        opt->n_local_trials > 0 ? (size_t)opt->n_local_trials : 2 + (size_t)floor(log((double)f.k));
    size_t per_block = 4 * f.stride;
    per_block = per_block > d ? per_block : d;
    per_block = per_block > T ? per_block : T;
    f.x = sgs_alloc_array(f.n ? f.n : 1, d * sizeof *f.x);
    f.w = any_weights ? sgs_alloc_array(f.n ? f.n : 1, sizeof *f.w) : NULL;
    f.part = sgs_alloc_array(f.nb ? f.nb : 1, per_block * sizeof *f.part);
    f.closest = sgs_alloc_array(f.n ? f.n : 1, sizeof *f.closest);
    f.lab_new = sgs_alloc_array(f.n ? f.n : 1, sizeof *f.lab_new);
    lab = sgs_alloc_array(f.n ? f.n : 1, sizeof *lab);
    dist2 = sgs_alloc_array(f.n ? f.n : 1, 2 * sizeof *dist2);
    rc = f.x && (f.w || !any_weights) && f.part && f.closest && f.lab_new && lab && dist2
             ? SGS_OK
             : sgs_error_set(err, SGS_ENOMEM, "k-means: no memory for %zu rows", f.n);
    rc = sgs_dist_agree(dist, rc, err);
    if (rc)
        goto cleanup;
    for (size_t i = 0; i < f.n; i++) {
        memcpy(f.x + i * d, moved + i * words, d * sizeof *f.x);
        if (f.w)
            memcpy(&f.w[i], moved + i * words + d, sizeof *f.w);
    }
    sgs_free(moved);
    moved = NULL;
    /* The fit. */
    double tol_abs = 0;
    rc = tolerance(&f, &tol_abs, err);
    if (rc == SGS_OK)
        rc = restarts(&f, tol_abs, centers, lab, result, err);
    if (rc)
        goto cleanup;
    /* Labels and distances back to the rows as they were given. */
    sgs_kmeans_label_distances(f.x, f.n, d, centers, lab, exec, dist2);
    for (size_t i = f.n; i-- > 0;) { /* pairs (distance, label), from the end: in place */
        double lab_d = (double)lab[i];
        dist2[2 * i] = dist2[i];
        dist2[2 * i + 1] = lab_d;
    }
    rc = sgs_dist_align_move(dist, &al, dist2, 2, 1, (void **)&moved, err);
    if (rc)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        double pair[2];
        memcpy(pair, moved + 2 * i, sizeof pair);
        if (sqdist)
            sqdist[i] = pair[0];
        labels[i] = (int32_t)pair[1];
    }
cleanup:
    sgs_dist_align_free(&al);
    sgs_free(packed);
    sgs_free(moved);
    sgs_free(lab);
    sgs_free(dist2);
    sgs_free(f.x);
    sgs_free(f.w);
    sgs_free(f.part);
    sgs_free(f.closest);
    sgs_free(f.lab_new);
    return rc;
}
