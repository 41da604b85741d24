/*
 * tests/unit/test_kmeans_lloyd_twins.c — the k-means fit (kernels/kmeans.h) against its serial
 * reference twin (kernels/kmeans_lloyd_ref.c): one run from given centers, sgs_kmeans_single
 * with Lloyd, Hamerly and Elkan, each distance kernel (auto, scalar, AVX2) and 1, 2 and 3
 * threads, against sgs_kmeans_single_ref; then the whole fit with its restarts against
 * sgs_kmeans_fit_ref. Bitwise: labels, centers, inertia, iterations, convergence, relocations,
 * non-empty clusters (the twin sums in the kernel's order; see its file comment). Shapes: k = 1,
 * k = n, d = 1, 3, 4 and 17 (the vector kernels' specialised widths and their tail), k > 255 (int32
 * labels between iterations), several blocks of rows with a short last one, weights with zeros,
 * max_iter reached (the final E-step), the tolerance at its boundary, and empty clusters:
 * relocated to the farthest rows (ties, several at once, rows in different blocks, clusters of
 * zero weight) and left empty when every row sits on its center; restarts that tie. Most data
 * are random from a seed printed on failure (SGS_TEST_SEED replays); the cases that need a
 * property of their data (a later restart kept, a tie, a shift whose two sums differ) are fixed.
 * Mutations of the twin's rules (relocation order, ties, the rows taken, the weights moved, the
 * list of empty clusters, labels' ties, the shift, the tolerance's <=, the final E-step, the
 * summation order, the restart rule and streams) each fail here. Two pass, as they change a
 * result only in states these data never reach: dropping the strict-convergence stop (an
 * iteration whose labels did not change also has a zero shift, unless a relocation moved a
 * center in it) and dropping the same-clustering test of the restarts (a run with the same
 * clustering and a lower inertia needs a kept run with an empty cluster).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/kmeans.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Data ------------------------------------------------------------------------------------ */

/* Seed of the random data: SGS_TEST_SEED in the environment replays a failure. */
static uint64_t test_seed(void)
{
    const char *s = getenv("SGS_TEST_SEED");
    return s ? (uint64_t)strtoull(s, NULL, 10) : UINT64_C(20261207);
}

/* n rows around g centers on a lattice of the given spacing (row i near center i mod g, uniform
 * noise of width `spread` in each feature). */
static double *blobs(size_t n, size_t d, size_t g, double spacing, double spread, uint64_t seed)
{
    double *x = malloc(n * d * sizeof *x);
    assert_non_null(x);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++) {
            double center = spacing * (double)(((i % g) * (f + 3)) % 5);
            x[i * d + f] = center + spread * (sgs_test_uniform(&s) - 0.5);
        }
    return x;
}

/* n weights in [0.5, 2.5), every 23rd row's 0 when `zeros`. */
static double *weights(size_t n, uint64_t seed, int zeros)
{
    double *w = malloc(n * sizeof *w);
    assert_non_null(w);
    uint64_t s = seed ^ UINT64_C(0x5eed);
    for (size_t i = 0; i < n; i++)
        w[i] = zeros && i % 23 == 5 ? 0.0 : 0.5 + 2.0 * sgs_test_uniform(&s);
    return w;
}

/* k centers: k distinct rows of x drawn from the seed (a partial Fisher-Yates shuffle). */
static double *rows_as_centers(const double *x, size_t n, size_t d, size_t k, uint64_t seed)
{
    size_t *idx = malloc(n * sizeof *idx);
    double *c = malloc(k * d * sizeof *c);
    assert_true(idx && c);
    uint64_t s = seed ^ UINT64_C(0xc0ffee);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t j = 0; j < k; j++) {
        size_t r = j + (size_t)(sgs_test_next(&s) % (n - j));
        size_t t = idx[j];
        idx[j] = idx[r];
        idx[r] = t;
        memcpy(c + j * d, x + idx[j] * d, d * sizeof *c);
    }
    free(idx);
    return c;
}

/* ---- Comparison ------------------------------------------------------------------------------ */

static const char *const alg_names[] = {"Lloyd", "Hamerly", "Elkan"};
static const char *const isa_names[] = {"auto", "scalar", "AVX2"};

/* Fail unless the kernel's outputs (labels, centers, *got) are the twin's, bit for bit; `what`
 * names the case, the seed and the configuration. n_distances is compared for Lloyd only (the
 * bounded variants skip distances), n_rechecked never (the twin has no screen). */
static void assert_same(const char *what, const int32_t *lab_ref, const int32_t *lab, size_t n,
                        const double *c_ref, const double *c, size_t kd,
                        const sgs_kmeans_result_t *ref, const sgs_kmeans_result_t *got, int lloyd)
{
    for (size_t i = 0; i < n; i++)
        if (lab[i] != lab_ref[i])
            fail_msg("%s: row %zu has label %d, the twin's is %d", what, i, lab[i], lab_ref[i]);
    for (size_t e = 0; e < kd; e++)
        if (memcmp(&c[e], &c_ref[e], sizeof c[e]) != 0)
            fail_msg("%s: center value %zu is %.17g, the twin's %.17g", what, e, c[e], c_ref[e]);
    if (memcmp(&got->inertia, &ref->inertia, sizeof ref->inertia) != 0 ||
        memcmp(&got->tol_abs, &ref->tol_abs, sizeof ref->tol_abs) != 0)
        fail_msg("%s: inertia %.17g, tol_abs %.17g; the twin's %.17g, %.17g", what, got->inertia,
                 got->tol_abs, ref->inertia, ref->tol_abs);
    if (got->n_iter != ref->n_iter || got->converged != ref->converged ||
        got->best_run != ref->best_run || got->n_nonempty != ref->n_nonempty ||
        got->n_relocated != ref->n_relocated || (lloyd && got->n_distances != ref->n_distances))
        fail_msg("%s: n_iter %d, converged %d, best_run %d, n_nonempty %zu, n_relocated %zu, "
                 "n_distances %llu; the twin's %d, %d, %d, %zu, %zu, %llu",
                 what, got->n_iter, got->converged, got->best_run, got->n_nonempty,
                 got->n_relocated, (unsigned long long)got->n_distances, ref->n_iter,
                 ref->converged, ref->best_run, ref->n_nonempty, ref->n_relocated,
                 (unsigned long long)ref->n_distances);
}

/* One run from `init` (k x d): the twin, then sgs_kmeans_single with each algorithm, distance
 * kernel and 1, 2, 3 threads, compared with it. Returns the twin's result. */
static sgs_kmeans_result_t check_single(const char *name, uint64_t seed, const double *x, size_t n,
                                        size_t d, const double *w, size_t k, const double *init,
                                        double tol_abs, int max_iter)
{
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, k);
    opt.max_iter = max_iter;
    int32_t *lab_ref = malloc(n * sizeof *lab_ref), *lab = malloc(n * sizeof *lab);
    double *c_ref = malloc(k * d * sizeof *c_ref), *c = malloc(k * d * sizeof *c);
    assert_true(lab_ref && lab && c_ref && c);
    memcpy(c_ref, init, k * d * sizeof *c_ref);
    sgs_kmeans_result_t ref, got;
    sgs_error_t err = {0};
    if (sgs_kmeans_single_ref(x, n, d, w, &opt, tol_abs, c_ref, lab_ref, &ref, &err) != 0)
        fail_msg("%s (seed %llu): the twin failed: %s", name, (unsigned long long)seed,
                 err.message);
    sgs_assert_cmp(ref.n_rechecked, ==, 0);
    /* Each algorithm on 1, 2 and 3 threads with the default distance kernel; Lloyd (whose
     * screened and fused paths depend on the kernel) also with the scalar and AVX2 kernels, on
     * 3 threads. {algorithm, isa, threads}: */
    const int configs[11][3] = {{0, 0, 1}, {0, 0, 2}, {0, 0, 3}, {0, 1, 3}, {0, 2, 3}, {1, 0, 1},
                                {1, 0, 2}, {1, 0, 3}, {2, 0, 1}, {2, 0, 2}, {2, 0, 3}};
    for (int q = 0; q < 11; q++) {
        int a = configs[q][0], isa = configs[q][1], t = configs[q][2];
        char what[256];
        snprintf(what, sizeof what, "%s (seed %llu, n %zu, d %zu, k %zu), %s, %s, %d threads", name,
                 (unsigned long long)seed, n, d, k, alg_names[a], isa_names[isa], t);
        opt.algorithm = (sgs_kmeans_algorithm_t)a;
        opt.isa = (sgs_kmeans_isa_t)isa;
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        memcpy(c, init, k * d * sizeof *c);
        if (sgs_kmeans_single(x, n, d, w, &opt, tol_abs, &ex, c, lab, &got, &err) != 0)
            fail_msg("%s: %s", what, err.message);
        assert_same(what, lab_ref, lab, n, c_ref, c, k * d, &ref, &got, a == 0);
    }
    free(lab_ref);
    free(lab);
    free(c_ref);
    free(c);
    return ref;
}

/* tol_abs of a relative tol on x, as the fit computes it. */
static double tolerance(const double *x, size_t n, size_t d, double tol)
{
    double tol_abs;
    assert_int_equal(sgs_kmeans_tolerance(x, n, d, tol, NULL, &tol_abs, NULL), 0);
    return tol_abs;
}

/* ---- One run --------------------------------------------------------------------------------- */

/* Generic shapes: k = 1; d = 1 with weights; d = 3 over three blocks (the last one short),
 * stopped by the tolerance, and with weights (some of them zero) by max_iter;
 * d = 17 (beyond the specialised widths of the vector kernels: their general loop and tail)
 * with and without weights; d = 4 stopped by max_iter (then the final E-step). */
static void test_single_run_matches_the_twin(void **state)
{
    (void)state;
    uint64_t seed = test_seed();
    {
        size_t n = 1000, d = 3;
        double *x = blobs(n, d, 4, 3.0, 2.0, seed);
        sgs_kmeans_result_t r = check_single("k = 1", seed, x, n, d, NULL, 1, x + 7 * d, 0, 300);
        sgs_assert_cmp(r.n_nonempty, ==, 1);
        free(x);
    }
    {
        size_t n = 5000, d = 1, k = 7;
        double *x = blobs(n, d, 9, 1.0, 1.5, seed + 1), *w = weights(n, seed + 1, 0);
        double *init = rows_as_centers(x, n, d, k, seed + 1);
        sgs_kmeans_result_t r = check_single("d = 1, weighted", seed + 1, x, n, d, w, k, init,
                                             tolerance(x, n, d, 1e-4), 300);
        sgs_assert_cmp(r.n_iter, >, 1);
        free(x);
        free(w);
        free(init);
    }
    {
        size_t n = 2 * 16384 + 37, d = 3, k = 8; /* three blocks, the last of 37 rows */
        double *x = blobs(n, d, 7, 2.0, 2.5, seed + 2), *w = weights(n, seed + 2, 1);
        double *init = rows_as_centers(x, n, d, k, seed + 2);
        check_single("d = 3, three blocks", seed + 2, x, n, d, NULL, k, init,
                     tolerance(x, n, d, 1e-4), 300);
        sgs_kmeans_result_t r = check_single("d = 3, three blocks, weights with zeros, max_iter 12",
                                             seed + 2, x, n, d, w, k, init, 0, 12);
        sgs_assert_cmp(r.converged, ==, 0);
        free(x);
        free(w);
        free(init);
    }
    {
        size_t n = 3001, d = 17, k = 5;
        double *x = blobs(n, d, 6, 1.0, 2.0, seed + 3), *w = weights(n, seed + 3, 0);
        double *init = rows_as_centers(x, n, d, k, seed + 3);
        check_single("d = 17", seed + 3, x, n, d, NULL, k, init, 0, 300);
        check_single("d = 17, weighted", seed + 3, x, n, d, w, k, init, 0, 300);
        free(x);
        free(w);
        free(init);
    }
    {
        size_t n = 2000, d = 4, k = 6;
        double *x = blobs(n, d, 5, 1.0, 3.0, seed + 4);
        double *init = rows_as_centers(x, n, d, k, seed + 4);
        sgs_kmeans_result_t r = check_single("max_iter 2", seed + 4, x, n, d, NULL, k, init, 0, 2);
        sgs_assert_cmp(r.converged, ==, 0);
        sgs_assert_cmp(r.n_iter, ==, 2);
        free(x);
        free(init);
    }
}

/* k beyond 255 (the kernel keeps int32 labels between iterations instead of bytes), and k = n
 * on data with duplicate rows from centers near the rows: clusters empty from the first
 * iteration, some relocated, some left empty once every row sits on its center. */
static void test_many_clusters_match_the_twin(void **state)
{
    (void)state;
    uint64_t seed = test_seed() + 10;
    {
        size_t n = 900, d = 2, k = 300;
        double *x = blobs(n, d, 40, 1.0, 1.0, seed);
        double *init = rows_as_centers(x, n, d, k, seed);
        check_single("k = 300", seed, x, n, d, NULL, k, init, 0, 300);
        free(x);
        free(init);
    }
    {
        size_t n = 48, d = 2, k = 48; /* 20 distinct points */
        double *x = malloc(n * d * sizeof *x), *init = malloc(k * d * sizeof *init);
        assert_true(x && init);
        uint64_t s = seed;
        for (size_t i = 0; i < n; i++) {
            x[i * d] = (double)(i % 20 % 5);
            x[i * d + 1] = (double)(i % 20 / 5) * 1.5;
        }
        for (size_t j = 0; j < k; j++) /* row 47 - j, moved by up to 0.05 */
            for (size_t f = 0; f < d; f++)
                init[j * d + f] = x[(n - 1 - j) * d + f] + 0.1 * (sgs_test_uniform(&s) - 0.5);
        sgs_kmeans_result_t r =
            check_single("k = n, duplicate rows", seed, x, n, d, NULL, k, init, 0, 300);
        sgs_assert_cmp(r.n_relocated, >, 0);
        sgs_assert_cmp(r.n_nonempty, <=, 20);
        free(x);
        free(init);
    }
}

/* The squared distance of kmeans.h, for the test's own arithmetic. */
static double sqdist(const double *a, const double *b, size_t d)
{
    double t = a[0] - b[0], acc = t * t;
    for (size_t f = 1; f < d; f++) {
        t = a[f] - b[f];
        acc = acc + t * t;
    }
    return acc;
}

/* The tolerance at its boundary. A run stops after an iteration whose shift2 <= tol_abs, shift2
 * being the sum over the centers of the square of the norm of their move, as scikit-learn sums
 * it: sqrt(||c_new - c_old||^2) squared, which can differ in its last bit from the squared
 * distance itself. With tol_abs the first iteration's shift2 exactly, kernel and twin stop
 * after that iteration; one ulp below, they go on. On these fixed data the sum of the squared
 * distances is the larger, so a twin that summed those, or compared with <, would go on. */
static void test_tolerance_boundary_matches_the_twin(void **state)
{
    (void)state;
    size_t n = 2000, d = 3, k = 5;
    uint64_t fixed = 3;
    double *x = blobs(n, d, 5, 1.0, 2.0, fixed), *init = rows_as_centers(x, n, d, k, fixed);
    int32_t *lab = malloc(n * sizeof *lab);
    assert_non_null(lab);
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, k);
    opt.max_iter = 1;
    double c1[5 * 3];
    memcpy(c1, init, sizeof c1);
    sgs_kmeans_result_t one;
    assert_int_equal(sgs_kmeans_single(x, n, d, NULL, &opt, 0, NULL, c1, lab, &one, NULL), 0);
    double shift2 = 0, sum_sq = 0;
    for (size_t j = 0; j < k; j++) {
        double v = sqdist(c1 + j * d, init + j * d, d), s = sqrt(v);
        shift2 = shift2 + s * s;
        sum_sq = sum_sq + v;
    }
    if (!(shift2 < sum_sq))
        fail_msg("the data no longer tell the two sums apart: %.17g, %.17g", shift2, sum_sq);
    sgs_kmeans_result_t r =
        check_single("tol_abs = the first shift", fixed, x, n, d, NULL, k, init, shift2, 300);
    sgs_assert_cmp(r.n_iter, ==, 1);
    sgs_assert_cmp(r.converged, ==, 1);
    r = check_single("tol_abs one ulp below the first shift", fixed, x, n, d, NULL, k, init,
                     nextafter(shift2, 0), 300);
    sgs_assert_cmp(r.n_iter, >, 1);
    free(x);
    free(init);
    free(lab);
}

/* Empty clusters, where the relocation rule decides the result. Three blobs in 2-D, over three
 * blocks of rows, and four outlying rows: three copies of (100, 100), row 100 in the first block
 * and rows 17000 and 20000 in the second (weights 1.5, 0.75, 2), and (140, 140) in the third
 * (row 33000, weight 1).
 * Centers 0..2 start on the blobs, centers 3..5 far from every row, so that clusters 3, 4, 5
 * are empty after the first assignment. The rule gives cluster 3 the farthest row (33000),
 * cluster 4 the lower of the tied copies (100), cluster 5 the next (17000); row 20000 stays.
 * A twin that took the clusters in another order, ties to the higher row, the nearest rows,
 * or left the moved row's weight in its cluster, gives other centers (checked by mutating the
 * twin). Then four distinct points with every row on a center: nothing moves, two clusters
 * stay empty; and a cluster whose rows all weigh 0, which counts as empty. */
static void test_relocation_matches_the_twin(void **state)
{
    (void)state;
    uint64_t seed = test_seed() + 20;
    size_t n = 2 * 16384 + 1000, d = 2, k = 6;
    double *x = blobs(n, d, 3, 6.0, 2.0, seed), *w = weights(n, seed, 0);
    const size_t far_rows[4] = {100, 17000, 20000, 33000};
    const double far_w[4] = {1.5, 0.75, 2.0, 1.0};
    for (size_t q = 0; q < 4; q++) {
        double v = q == 3 ? 140.0 : 100.0;
        x[far_rows[q] * d] = x[far_rows[q] * d + 1] = v;
        w[far_rows[q]] = far_w[q];
    }
    double init[6 * 2];
    for (size_t j = 0; j < 3; j++) /* rows 0, 1, 2: one of each blob */
        memcpy(init + j * d, x + j * d, d * sizeof *init);
    for (size_t j = 3; j < k; j++) {
        init[j * d] = -1000.0 * (double)j;
        init[j * d + 1] = 1000.0;
    }
    sgs_kmeans_result_t r = check_single("relocation, weighted", seed, x, n, d, w, k, init, 0, 300);
    sgs_assert_cmp(r.n_relocated, >=, 3);
    r = check_single("relocation", seed, x, n, d, NULL, k, init, 0, 300);
    sgs_assert_cmp(r.n_relocated, >=, 3);
    /* The first iteration alone: the three relocations, and the centers they give. */
    int32_t *lab = malloc(n * sizeof *lab);
    assert_non_null(lab);
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, k);
    opt.max_iter = 1;
    double c[6 * 2];
    memcpy(c, init, sizeof c);
    sgs_kmeans_result_t one;
    assert_int_equal(sgs_kmeans_single_ref(x, n, d, w, &opt, 0, c, lab, &one, NULL), 0);
    sgs_assert_cmp(one.n_relocated, ==, 3);
    sgs_assert_cmp(c[3 * d], ==, 140.0);
    sgs_assert_cmp(c[4 * d], ==, 100.0 * 1.5 * (1 / 1.5));
    sgs_assert_cmp(c[5 * d], ==, 100.0 * 0.75 * (1 / 0.75));
    check_single("relocation, one iteration", seed, x, n, d, w, k, init, 0, 1);
    free(lab);
    /* Duplicates and no room to relocate: four distinct points, six centers of which two
     * repeat others (the second of two equal centers never wins a row), and every row on a
     * center: nothing is relocated, two clusters stay empty. */
    {
        size_t m = 1024, e = 3; /* 256 copies of each point: exact means */
        double *y = malloc(m * e * sizeof *y), cy[6 * 3];
        assert_non_null(y);
        for (size_t i = 0; i < m; i++)
            for (size_t f = 0; f < e; f++)
                y[i * e + f] = (double)((i % 4) * (f + 1));
        memcpy(cy, y, sizeof cy); /* rows 0..5: points 0, 1, 2, 3, 0, 1 */
        sgs_kmeans_result_t z =
            check_single("duplicates, every row on a center", seed, y, m, e, NULL, 6, cy, 0, 300);
        sgs_assert_cmp(z.n_relocated, ==, 0);
        sgs_assert_cmp(z.n_nonempty, ==, 4);
        sgs_assert_cmp(z.n_iter, ==, 1); /* the centers did not move */
        free(y);
    }
    /* A cluster whose rows all weigh 0 is empty: rows 0..29 near (0, 0), weights 1 to 2;
     * rows 30..47 near (10, 10), weight 0, cluster 1's; cluster 2 far from every row. */
    {
        size_t m = 48, e = 2;
        double y[48 * 2], wy[48], cy[3 * 2] = {0, 0, 10, 10, 500, 500};
        uint64_t s = seed;
        for (size_t i = 0; i < m; i++) {
            for (size_t f = 0; f < e; f++)
                y[i * e + f] = (i < 30 ? 0.0 : 10.0) + sgs_test_uniform(&s) - 0.5;
            wy[i] = i < 30 ? 1.0 + sgs_test_uniform(&s) : 0.0;
        }
        sgs_kmeans_result_t z =
            check_single("a cluster of zero weights", seed, y, m, e, wy, 3, cy, 0, 300);
        sgs_assert_cmp(z.n_relocated, >, 0);
    }
    free(x);
    free(w);
}

/* ---- The whole fit --------------------------------------------------------------------------- */

/* sgs_kmeans_fit on 1, 2, 3 threads (Lloyd, Hamerly, Elkan) against sgs_kmeans_fit_ref with the
 * same options. Returns the twin's result. */
static sgs_kmeans_result_t check_fit(const char *name, uint64_t seed, const double *x, size_t n,
                                     size_t d, const double *w, const sgs_kmeans_options_t *opt)
{
    size_t k = opt->k;
    int32_t *lab_ref = malloc(n * sizeof *lab_ref), *lab = malloc(n * sizeof *lab);
    double *c_ref = malloc(k * d * sizeof *c_ref), *c = malloc(k * d * sizeof *c);
    assert_true(lab_ref && lab && c_ref && c);
    sgs_kmeans_result_t ref, got;
    sgs_error_t err = {0};
    if (sgs_kmeans_fit_ref(x, n, d, w, opt, lab_ref, c_ref, &ref, &err) != 0)
        fail_msg("%s (seed %llu): the twin failed: %s", name, (unsigned long long)seed,
                 err.message);
    sgs_kmeans_options_t o = *opt;
    for (int a = 0; a < 3; a++)
        for (int t = 1; t <= 3; t++) {
            char what[256];
            snprintf(what, sizeof what, "fit %s (seed %llu, n %zu, d %zu, k %zu), %s, %d threads",
                     name, (unsigned long long)seed, n, d, k, alg_names[a], t);
            o.algorithm = (sgs_kmeans_algorithm_t)a;
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            if (sgs_kmeans_fit(x, n, d, w, &o, &ex, lab, c, &got, &err) != 0)
                fail_msg("%s: %s", what, err.message);
            assert_same(what, lab_ref, lab, n, c_ref, c, k * d, &ref, &got, a == 0);
        }
    free(lab_ref);
    free(lab);
    free(c_ref);
    free(c);
    return ref;
}

/* Restarts with each seeding: k-means++ on one block of rows (where its twin is bitwise by
 * contract), with and without weights, on fixed data where a later restart is kept; random rows
 * over three blocks; k-means|| with whole-number weights, and over three blocks; the first rows and
 * given centers (one run whatever n_init) with the relative tolerance. */
static void test_fit_matches_the_twin(void **state)
{
    (void)state;
    uint64_t seed = test_seed() + 30;
    {
        /* Fixed data and seed, on which the last of the restarts is kept (so that the choice
         * among restarts is tested whatever SGS_TEST_SEED). */
        size_t n = 5000, d = 3;
        uint64_t fixed = UINT64_C(20261237);
        double *x = blobs(n, d, 5, 1.0, 1.6, fixed), *w = weights(n, fixed, 0);
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, 6);
        opt.n_init = 6;
        opt.seed = fixed;
        sgs_kmeans_result_t r = check_fit("k-means++, 6 restarts", fixed, x, n, d, NULL, &opt);
        sgs_assert_cmp(r.best_run, ==, 5);
        check_fit("k-means++, 6 restarts, weighted", fixed, x, n, d, w, &opt);
        free(x);
        free(w);
    }
    {
        size_t n = 2 * 16384 + 501, d = 2;
        double *x = blobs(n, d, 6, 1.0, 1.3, seed + 1);
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, 5);
        opt.init = SGS_KMEANS_INIT_RANDOM;
        opt.n_init = 3;
        opt.seed = seed + 1;
        check_fit("random rows, 3 restarts", seed + 1, x, n, d, NULL, &opt);
        free(x);
    }
    {
        size_t n = 3000, d = 3;
        double *x = blobs(n, d, 4, 2.0, 1.0, seed + 2), *w = malloc(n * sizeof *w);
        assert_non_null(w);
        for (size_t i = 0; i < n; i++)
            w[i] = (double)(1 + i % 3);
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, 4);
        opt.init = SGS_KMEANS_INIT_PARALLEL;
        opt.n_init = 2;
        opt.seed = seed + 2;
        check_fit("k-means||, 2 restarts", seed + 2, x, n, d, w, &opt);
        free(x);
        free(w);
    }
    {
        /* k-means|| over three blocks, three restarts: the seeding works in the run's labels
         * and bounds (Hamerly, Elkan) or in one array kept for every restart (Lloyd), which
         * each restart must set before it reads. */
        size_t n = 2 * 16384 + 777, d = 3;
        double *x = blobs(n, d, 5, 1.5, 1.2, seed + 4);
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, 4);
        opt.init = SGS_KMEANS_INIT_PARALLEL;
        opt.n_init = 3;
        opt.seed = seed + 4;
        check_fit("k-means|| over 3 blocks, 3 restarts", seed + 4, x, n, d, NULL, &opt);
        free(x);
    }
    {
        /* Three copies of each corner of the unit square, k = 2: the splits by x and by y
         * both have inertia 3 exactly, so restarts tie; the first of equal inertias is kept
         * (a twin keeping the later one fails here). */
        double sq[12 * 2];
        for (size_t i = 0; i < 12; i++) {
            sq[2 * i] = (double)(i % 4 / 2);
            sq[2 * i + 1] = (double)(i % 2);
        }
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, 2);
        opt.init = SGS_KMEANS_INIT_RANDOM;
        opt.n_init = 10;
        opt.seed = 7;
        sgs_kmeans_result_t r = check_fit("square, tied restarts", 7, sq, 12, 2, NULL, &opt);
        sgs_assert_cmp(r.inertia, ==, 3.0);
    }
    {
        size_t n = 4000, d = 5;
        double *x = blobs(n, d, 5, 1.0, 2.0, seed + 3);
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, 5);
        opt.init = SGS_KMEANS_INIT_FIRST;
        opt.n_init = 4;
        sgs_kmeans_result_t r = check_fit("first rows", seed + 3, x, n, d, NULL, &opt);
        sgs_assert_cmp(r.best_run, ==, 0);
        double *init = rows_as_centers(x, n, d, 5, seed + 3);
        opt.init = SGS_KMEANS_INIT_GIVEN;
        opt.init_centers = init;
        opt.tol = 1e-3;
        check_fit("given centers", seed + 3, x, n, d, NULL, &opt);
        free(init);
        free(x);
    }
}

/* Bad input: the twin refuses what the kernel refuses, with the same code and message; and
 * mini-batch, which has no twin. */
static void test_fit_errors_match_the_twin(void **state)
{
    (void)state;
    double x[4 * 2] = {0, 1, 2, 3, 4, 5, 6, 7}, w[4] = {0, 0, 0, 0}, c[3 * 2], given[2 * 2] = {0};
    int32_t lab[4];
    sgs_kmeans_result_t res;
    sgs_kmeans_options_t opt;
    sgs_exec_t ex = {.n_threads = 2, .grain = 1};
    for (int which = 0; which < 5; which++) {
        sgs_kmeans_options_init(&opt, 2);
        const double *wt = NULL;
        double keep = x[5];
        if (which == 0)
            opt.k = 5; /* more clusters than rows */
        else if (which == 1)
            x[5] = (double)NAN;
        else if (which == 2)
            wt = w; /* all zero */
        else if (which == 3) {
            opt.init = SGS_KMEANS_INIT_GIVEN;
            opt.init_centers = given;
            given[3] = (double)INFINITY;
        } else {
            opt.max_iter = 0;
        }
        sgs_error_t e_ref = {0}, e = {0};
        int rc_ref = sgs_kmeans_fit_ref(x, 4, 2, wt, &opt, lab, c, &res, &e_ref);
        int rc = sgs_kmeans_fit(x, 4, 2, wt, &opt, &ex, lab, c, &res, &e);
        sgs_assert_cmp(rc, <, 0);
        sgs_assert_cmp(rc_ref, ==, rc);
        assert_string_equal(e_ref.message, e.message);
        x[5] = keep;
    }
    sgs_kmeans_options_init(&opt, 2);
    opt.algorithm = SGS_KMEANS_MINIBATCH;
    assert_int_equal(sgs_kmeans_fit_ref(x, 4, 2, NULL, &opt, lab, c, &res, NULL), SGS_EINVAL);
    sgs_error_t e_ref = {0}, e = {0};
    double cs[2 * 2] = {0, 1, 6, 7};
    assert_int_equal(sgs_kmeans_single_ref(x, 4, 2, NULL, &opt, 0, cs, lab, &res, &e_ref),
                     SGS_EINVAL);
    assert_int_equal(sgs_kmeans_single(x, 4, 2, NULL, &opt, 0, &ex, cs, lab, &res, &e), SGS_EINVAL);
    assert_string_equal(e_ref.message, e.message);
}

int main(void)
{
    print_message("seed %llu (SGS_TEST_SEED replays)\n", (unsigned long long)test_seed());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_run_matches_the_twin),
        cmocka_unit_test(test_many_clusters_match_the_twin),
        cmocka_unit_test(test_tolerance_boundary_matches_the_twin),
        cmocka_unit_test(test_relocation_matches_the_twin),
        cmocka_unit_test(test_fit_matches_the_twin),
        cmocka_unit_test(test_fit_errors_match_the_twin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
