/*
 * tests/support/dist_kmeans_cases.h — the cases on which tests/mpi/test_dist_kmeans.c (1 to 4
 * processes) and tests/unit/test_dist_kmeans_one.c (the single-process build) compare k-means
 * over processes (engine/dist_kmeans.h) with the single-process kernel (sgs_kmeans_fit) on the
 * same rows: centers, inertia and the other results, and every row's label and distance,
 * bitwise. Header-only: static functions for the two test programs.
 */
#ifndef SGS_DIST_KMEANS_CASES_H
#define SGS_DIST_KMEANS_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/dist_kmeans.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How the rows are dealt to the processes. */
typedef enum km_split {
    KM_EVEN,      /* process p: rows [N p / P, N (p + 1) / P): cuts off the blocks */
    KM_FEW_NONE,  /* process 0: 3 rows, process 1 none (from 3 processes), the rest even */
    KM_LAST_NONE, /* the last process none (from 2 processes), the rest even */
    KM_ONE_HOLDS, /* the last process every row */
    KM_RANDOM     /* cuts drawn from n_all (sorted; a third of them repeat the previous cut) */
} km_split_t;

/* The rows. */
typedef enum km_data {
    KM_CLUSTERED, /* six overlapping clusters */
    KM_FEW_POINTS /* three distinct points, repeated */
} km_data_t;

typedef struct km_case {
    const char *name;
    size_t n_all, d, k;
    km_data_t data;
    km_split_t split;
    sgs_kmeans_init_t init;
    sgs_kmeans_algorithm_t algorithm;
    int n_init, max_iter;
    double tol;
    int weighted;          /* weights 0.5 to 2, every 11th row 0 */
    int far_centers;       /* init GIVEN: half the centers far from every row (relocations) */
    int expect_relocation; /* the single-process fit relocates (the case tests that path) */
    double oversampling;   /* k-means||: 0 for the default */
} km_case_t;

/* Row i of the data, d values. */
static void km_row(km_data_t data, size_t i, size_t d, double *row)
{
    for (size_t f = 0; f < d; f++) {
        if (data == KM_FEW_POINTS) {
            row[f] = (double)(i % 3) + (double)f;
        } else {
            size_t c = (size_t)(sgs_rng_u64(11, 0, i) % 6);
            double u = sgs_rng_uniform(11, 1 + f, i) - 0.5;
            row[f] = (double)c * 2.5 + (double)(f * c % 4) * 0.7 + 3.0 * u;
        }
    }
}

static double km_weight(size_t i)
{
    return i % 11 == 0 ? 0.0 : 0.5 + (double)(i % 7) * 0.25;
}

/* counts[0..P) of the split: rows of each process in rank order. */
static void km_counts(km_split_t split, size_t n_all, int P, size_t *counts)
{
    size_t rest = n_all, lo = 0; /* processes [lo, P) share `rest` evenly */
    for (int p = 0; p < P; p++)
        counts[p] = 0;
    if (split == KM_ONE_HOLDS) {
        counts[P - 1] = n_all;
        return;
    }
    if (split == KM_RANDOM) {
        size_t prev = 0;
        size_t *cut = malloc((size_t)P * sizeof *cut);
        for (int p = 0; p + 1 < P; p++)
            cut[p] = (size_t)(sgs_rng_u64(n_all, 1, (uint64_t)p) % (n_all + 1));
        for (int p = 1; p + 1 < P; p++) /* insertion sort */
            for (int q = p; q > 0 && cut[q - 1] > cut[q]; q--) {
                size_t t = cut[q];
                cut[q] = cut[q - 1];
                cut[q - 1] = t;
            }
        for (int p = 1; p + 1 < P; p++)
            if (sgs_rng_u64(n_all, 2, (uint64_t)p) % 3 == 0)
                cut[p] = cut[p - 1];
        for (int p = 0; p < P; p++) {
            size_t end = p + 1 < P ? cut[p] : n_all;
            counts[p] = end - prev;
            prev = end;
        }
        free(cut);
        return;
    }
    int hi = P;
    if (split == KM_FEW_NONE && P >= 2) {
        counts[0] = 3;
        rest -= 3;
        lo = P >= 3 ? 2 : 1;
    } else if (split == KM_LAST_NONE && P >= 2) {
        hi = P - 1;
    }
    size_t m = (size_t)hi - lo;
    for (size_t q = 0; q < m; q++)
        counts[lo + q] = rest * (q + 1) / m - rest * q / m;
}

/* The options of a case (centers for GIVEN written to given, k x d). */
static sgs_kmeans_options_t km_options(const km_case_t *c, const double *x, double *given)
{
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, c->k);
    opt.init = c->init;
    opt.algorithm = c->algorithm;
    opt.n_init = c->n_init;
    opt.max_iter = c->max_iter;
    opt.tol = c->tol;
    opt.seed = 7;
    if (c->oversampling > 0) {
        opt.oversampling = c->oversampling;
        opt.n_rounds = 1;
    }
    if (c->init == SGS_KMEANS_INIT_GIVEN) {
        for (size_t j = 0; j < c->k; j++)
            for (size_t f = 0; f < c->d; f++)
                given[j * c->d + f] = c->far_centers && j % 2 == 1
                                          ? 1000.0 + (double)(j * 10 + f)
                                          : x[(j * 997) % c->n_all * c->d + f];
        opt.init_centers = given;
    }
    return opt;
}

/* The case on the processes of `world`, each with n_threads threads, against the kernel on all
 * rows with threads_one threads, every value bitwise. */
static void km_check_case(const sgs_dist_t *world, const km_case_t *c, int threads_one,
                          int n_threads)
{
    size_t n_all = c->n_all, d = c->d, k = c->k;
    double *x = malloc(n_all * d * sizeof *x), *w = malloc(n_all * sizeof *w);
    double *given = malloc(k * d * sizeof *given);
    for (size_t i = 0; i < n_all; i++) {
        km_row(c->data, i, d, x + i * d);
        w[i] = km_weight(i);
    }
    sgs_kmeans_options_t opt = km_options(c, x, given);
    sgs_exec_t exec = {.n_threads = threads_one};
    sgs_error_t err = {0};
    int32_t *lab_all = malloc(n_all * sizeof *lab_all);
    double *cen_all = malloc(k * d * sizeof *cen_all);
    sgs_kmeans_result_t res_all;
    sgs_assert_cmp(sgs_kmeans_fit(x, n_all, d, c->weighted ? w : NULL, &opt, &exec, lab_all,
                                  cen_all, &res_all, &err),
                   ==, SGS_OK);
    if (c->expect_relocation)
        sgs_assert_cmp(res_all.n_relocated, >, 0);
    size_t *counts = malloc((size_t)world->size * sizeof *counts);
    km_counts(c->split, n_all, world->size, counts);
    size_t first = 0;
    for (int p = 0; p < world->rank; p++)
        first += counts[p];
    size_t n = counts[world->rank];
    int32_t *lab = malloc((n ? n : 1) * sizeof *lab);
    double *sq = malloc((n ? n : 1) * sizeof *sq), *cen = malloc(k * d * sizeof *cen);
    sgs_kmeans_result_t res;
    memset(&res, 0xff, sizeof res);
    sgs_exec_t exec_dist = {.n_threads = n_threads};
    int rc = sgs_dist_kmeans_fit(world, x + first * d, n, d, c->weighted ? w + first : NULL, &opt,
                                 &exec_dist, lab, sq, cen, &res, &err);
    if (rc != SGS_OK)
        print_error("case %s: %s\n", c->name, err.message);
    sgs_assert_cmp(rc, ==, SGS_OK);
    if (memcmp(cen, cen_all, k * d * sizeof *cen) != 0) {
        for (size_t e = 0; e < k * d; e++)
            if (memcmp(&cen[e], &cen_all[e], sizeof *cen) != 0)
                print_error("case %s: center value %zu: %.17g, single process %.17g\n", c->name, e,
                            cen[e], cen_all[e]);
        fail_msg("case %s: the centers differ", c->name);
    }
    if (memcmp(&res.inertia, &res_all.inertia, sizeof res.inertia) != 0)
        fail_msg("case %s: inertia %.17g, single process %.17g", c->name, res.inertia,
                 res_all.inertia);
    if (memcmp(&res.tol_abs, &res_all.tol_abs, sizeof res.tol_abs) != 0)
        fail_msg("case %s: tol_abs %.17g, single process %.17g", c->name, res.tol_abs,
                 res_all.tol_abs);
    sgs_assert_cmp(res.n_iter, ==, res_all.n_iter);
    sgs_assert_cmp(res.converged, ==, res_all.converged);
    sgs_assert_cmp(res.best_run, ==, res_all.best_run);
    sgs_assert_cmp(res.n_nonempty, ==, res_all.n_nonempty);
    sgs_assert_cmp(res.n_relocated, ==, res_all.n_relocated);
    sgs_assert_cmp(res.n_rechecked, ==, 0);
    sgs_assert_cmp(res.n_distances, ==, (uint64_t)n_all * k * (uint64_t)res.n_iter);
    if (c->algorithm == SGS_KMEANS_LLOYD)
        sgs_assert_cmp(res.n_distances, ==, res_all.n_distances);
    for (size_t i = 0; i < n; i++) {
        size_t g = first + i;
        if (lab[i] != lab_all[g])
            fail_msg("case %s: row %zu: label %d, single process %d", c->name, g, (int)lab[i],
                     (int)lab_all[g]);
        /* The distance of kernels/kmeans.h: direct differences, features in order. */
        const double *xi = x + g * d, *cj = cen_all + (size_t)lab_all[g] * d;
        double t = xi[0] - cj[0], acc = t * t;
        for (size_t f = 1; f < d; f++) {
            t = xi[f] - cj[f];
            acc = acc + t * t;
        }
        if (memcmp(&sq[i], &acc, sizeof acc) != 0)
            fail_msg("case %s: row %zu: distance %.17g, expected %.17g", c->name, g, sq[i], acc);
    }
    free(x);
    free(w);
    free(given);
    free(lab_all);
    free(cen_all);
    free(counts);
    free(lab);
    free(sq);
    free(cen);
}

/* The cases: sizes off the block boundaries (40,123 rows: 3 blocks, the last partial), rows
 * dealt evenly, to a process with 3, to none, to one; every seeding the function spreads,
 * restarts, weights, k = 1, k larger than a process's rows, empty clusters relocated, more
 * clusters than distinct points, a fit stopped by max_iter. */
static const km_case_t km_cases[] = {
    {"k-means++ hamerly n_init 3", 40123, 3, 5, KM_CLUSTERED, KM_EVEN, SGS_KMEANS_INIT_PLUSPLUS,
     SGS_KMEANS_HAMERLY, 3, 300, 1e-4, 0, 0, 0, 0},
    {"k-means++ weighted, a process with 3 rows and one with none", 40123, 3, 8, KM_CLUSTERED,
     KM_FEW_NONE, SGS_KMEANS_INIT_PLUSPLUS, SGS_KMEANS_LLOYD, 2, 300, 1e-4, 1, 0, 0, 0},
    {"k = 1", 33000, 2, 1, KM_CLUSTERED, KM_EVEN, SGS_KMEANS_INIT_PLUSPLUS, SGS_KMEANS_LLOYD, 2,
     300, 1e-4, 0, 0, 0, 0},
    {"random rows, weighted, n_init 3, last process none", 40123, 4, 6, KM_CLUSTERED, KM_LAST_NONE,
     SGS_KMEANS_INIT_RANDOM, SGS_KMEANS_ELKAN, 3, 300, 1e-4, 1, 0, 0, 0},
    {"first rows, k larger than a process's rows", 20000, 3, 8, KM_CLUSTERED, KM_FEW_NONE,
     SGS_KMEANS_INIT_FIRST, SGS_KMEANS_LLOYD, 1, 300, 0, 0, 0, 0, 0},
    {"given centers far away: empty clusters relocated", 40123, 3, 6, KM_CLUSTERED, KM_EVEN,
     SGS_KMEANS_INIT_GIVEN, SGS_KMEANS_LLOYD, 1, 300, 1e-4, 0, 1, 1, 0},
    {"given centers far away, weighted, one process holds all", 40123, 3, 6, KM_CLUSTERED,
     KM_ONE_HOLDS, SGS_KMEANS_INIT_GIVEN, SGS_KMEANS_HAMERLY, 1, 300, 1e-4, 1, 1, 1, 0},
    {"more clusters than distinct points", 50, 2, 5, KM_FEW_POINTS, KM_EVEN, SGS_KMEANS_INIT_FIRST,
     SGS_KMEANS_LLOYD, 1, 300, 1e-4, 0, 0, 0, 0},
    {"stopped by max_iter 2", 40123, 3, 7, KM_CLUSTERED, KM_FEW_NONE, SGS_KMEANS_INIT_PLUSPLUS,
     SGS_KMEANS_LLOYD, 1, 2, 0, 0, 0, 0, 0},
    {"k-means|| hamerly n_init 2", 40123, 3, 6, KM_CLUSTERED, KM_EVEN, SGS_KMEANS_INIT_PARALLEL,
     SGS_KMEANS_HAMERLY, 2, 300, 1e-4, 0, 0, 0, 0},
    {"k-means|| weighted, a process with 3 rows and one with none", 40123, 4, 5, KM_CLUSTERED,
     KM_FEW_NONE, SGS_KMEANS_INIT_PARALLEL, SGS_KMEANS_LLOYD, 1, 300, 1e-4, 1, 0, 0, 0},
    {"k-means|| with too few candidates: k-means++ instead", 30000, 2, 6, KM_CLUSTERED,
     KM_LAST_NONE, SGS_KMEANS_INIT_PARALLEL, SGS_KMEANS_LLOYD, 1, 300, 1e-4, 0, 0, 0, 1e-5},
};

/* A case drawn from `seed`: 2 to 5 blocks of rows and a part block, cut at random (processes
 * with none among them), k from 1 to 12, any seeding but given centers, any of the three
 * algorithms, weighted or not, 1 to 3 restarts. name: room for 200 characters. */
static km_case_t km_random_case(uint64_t seed, char *name)
{
    km_case_t c = {0};
    c.n_all = SGS_BLOCK_ROWS * (2 + sgs_rng_u64(seed, 1, 0) % 4) + sgs_rng_u64(seed, 1, 1) % 9000;
    c.d = 1 + (size_t)(sgs_rng_u64(seed, 1, 2) % 5);
    c.k = 1 + (size_t)(sgs_rng_u64(seed, 1, 3) % 12);
    c.data = KM_CLUSTERED;
    c.split = KM_RANDOM;
    c.init = (sgs_kmeans_init_t)(sgs_rng_u64(seed, 1, 4) % 4); /* ++, ||, first, random */
    c.algorithm = (sgs_kmeans_algorithm_t)(sgs_rng_u64(seed, 1, 5) % 3);
    c.n_init = 1 + (int)(sgs_rng_u64(seed, 1, 6) % 3);
    c.max_iter = 300;
    c.tol = sgs_rng_u64(seed, 1, 7) % 2 ? 1e-4 : 0;
    c.weighted = (int)(sgs_rng_u64(seed, 1, 8) % 2);
    snprintf(name, 200,
             "random case of seed %llu (n %zu, d %zu, k %zu, init %d, algorithm %d, n_init %d, "
             "tol %g, weighted %d)",
             (unsigned long long)seed, c.n_all, c.d, c.k, (int)c.init, (int)c.algorithm, c.n_init,
             c.tol, c.weighted);
    c.name = name;
    return c;
}

#endif /* SGS_DIST_KMEANS_CASES_H */
