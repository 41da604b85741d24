/*
 * tests/unit/test_kmeans.c — k-means: label-for-label agreement with scikit-learn, Hamerly
 * and Elkan equal to Lloyd bit for bit, vector kernel equal to the scalar reference,
 * determinism across thread counts, planted clusters recovered (adjusted Rand index),
 * hand-computed relocation and tolerance, degenerate inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/kmeans.h"
#include "kernels/kmeans_dist_internal.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/kmeans_sklearn_fixture.h"

/* ---- Data ----------------------------------------------------------------------------------- */

/* The C twin of bench/sklearn_fixture.py's matrix(): same integers, same double ops. */
static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double fixture_offset(size_t c, size_t f)
{
    const double o[3] = {(double)c * 1.5, (double)(c % 2) * 2.0, (double)(c % 3) * 1.0};
    return o[f];
}

static double *fixture_matrix(void)
{
    double *x = malloc(300 * 3 * sizeof *x);
    assert_non_null(x);
    uint64_t state = 12345;
    for (size_t i = 0; i < 300; i++)
        for (size_t f = 0; f < 3; f++) {
            double u = (double)(splitmix(&state) >> 11) * 0x1p-53;
            x[i * 3 + f] = fixture_offset(i % 5, f) + (u - 0.5) * 2.5;
        }
    return x;
}

/* Standard normal from two counter-RNG uniforms (Box-Muller). */
static double normal(uint64_t seed, uint64_t counter)
{
    double u1 = sgs_rng_uniform(seed, 7, 2 * counter),
           u2 = sgs_rng_uniform(seed, 7, 2 * counter + 1);
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* n rows around g planted centers (row i in group i % g), spread sd; truth[i] = group. */
static double *blobs(size_t n, size_t d, size_t g, double spacing, double sd, uint64_t seed,
                     int32_t *truth)
{
    double *x = malloc(n * d * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        size_t c = i % g;
        if (truth)
            truth[i] = (int32_t)c;
        for (size_t f = 0; f < d; f++) {
            /* Group centers: a seeded pseudo-random lattice point per group. */
            double center = spacing * (double)(sgs_rng_u64(seed, 99, c * d + f) % 5);
            x[i * d + f] = center + sd * normal(seed, i * d + f);
        }
    }
    return x;
}

/* Adjusted Rand index (Hubert and Arabie, J. Classification 2, 1985, eq. 5). */
static double ari(const int32_t *a, const int32_t *b, size_t n, size_t ka, size_t kb)
{
    double *t = calloc(ka * kb + ka + kb, sizeof *t);
    assert_non_null(t);
    double *ra = t + ka * kb, *cb = ra + ka;
    for (size_t i = 0; i < n; i++) {
        t[(size_t)a[i] * kb + (size_t)b[i]] += 1;
        ra[a[i]] += 1;
        cb[b[i]] += 1;
    }
    double idx = 0, sa = 0, sb = 0;
    for (size_t e = 0; e < ka * kb; e++)
        idx += t[e] * (t[e] - 1) / 2;
    for (size_t i = 0; i < ka; i++)
        sa += ra[i] * (ra[i] - 1) / 2;
    for (size_t j = 0; j < kb; j++)
        sb += cb[j] * (cb[j] - 1) / 2;
    sgs_free(t);
    double expected = sa * sb / ((double)n * (double)(n - 1) / 2);
    double mx = (sa + sb) / 2;
    return (idx - expected) / (mx - expected);
}

static sgs_exec_t threads(int n)
{
    sgs_exec_t e = {.n_threads = n, .grain = 1}; /* grain 1: every thread works */
    return e;
}

/* ---- scikit-learn agreement --------------------------------------------------------------- */

static void test_fixture_matrix_matches_python(void **state)
{
    (void)state;
    double *x = fixture_matrix();
    for (int f = 0; f < 3; f++) {
        sgs_assert_cmp(x[f], ==, fixture_x0[f]);
        sgs_assert_cmp(x[299 * 3 + f], ==, fixture_x299[f]);
    }
    free(x);
}

static void check_sklearn_case(size_t k, double tol, int weighted, const int32_t *want_labels,
                               double want_inertia, int want_iter, const double *want_centers,
                               sgs_kmeans_algorithm_t alg)
{
    double *x = fixture_matrix();
    double w[300];
    for (size_t i = 0; i < 300; i++)
        w[i] = 1.0 + (double)(i % 3);
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, k);
    opt.init = SGS_KMEANS_INIT_FIRST;
    opt.tol = tol;
    opt.algorithm = alg;
    int32_t labels[300];
    double centers[7 * 3];
    sgs_kmeans_result_t res;
    sgs_error_t err = {0};
    sgs_exec_t ex = threads(2);
    int rc = sgs_kmeans_fit(x, 300, 3, weighted ? w : NULL, &opt, &ex, labels, centers, &res, &err);
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < 300; i++)
        if (labels[i] != want_labels[i])
            fail_msg("row %zu: label %d, scikit-learn %d", i, labels[i], want_labels[i]);
    sgs_assert_close(res.inertia, want_inertia, 0, 1e-9);
    assert_int_equal(res.n_iter, want_iter);
    for (size_t e = 0; e < k * 3; e++)
        sgs_assert_close(centers[e], want_centers[e], 1e-12, 1e-12);
    free(x);
}

static void test_sklearn_lloyd_tol0_label_for_label(void **state)
{
    (void)state;
    check_sklearn_case(sk_plain_k, sk_plain_tol, 0, sk_plain_labels, sk_plain_inertia,
                       sk_plain_n_iter, sk_plain_centers, SGS_KMEANS_LLOYD);
}

static void test_sklearn_weighted_label_for_label(void **state)
{
    (void)state;
    check_sklearn_case(sk_weighted_k, sk_weighted_tol, 1, sk_weighted_labels, sk_weighted_inertia,
                       sk_weighted_n_iter, sk_weighted_centers, SGS_KMEANS_LLOYD);
}

static void test_sklearn_tolerance_and_final_estep(void **state)
{
    (void)state;
    check_sklearn_case(sk_tol_k, sk_tol_tol, 0, sk_tol_labels, sk_tol_inertia, sk_tol_n_iter,
                       sk_tol_centers, SGS_KMEANS_LLOYD);
    check_sklearn_case(sk_tol_k, sk_tol_tol, 0, sk_tol_labels, sk_tol_inertia, sk_tol_n_iter,
                       sk_tol_centers, SGS_KMEANS_HAMERLY);
    check_sklearn_case(sk_tol_k, sk_tol_tol, 0, sk_tol_labels, sk_tol_inertia, sk_tol_n_iter,
                       sk_tol_centers, SGS_KMEANS_ELKAN);
}

/* ---- Bounded variants and vector kernels give the Lloyd bits --------------------------------- */

typedef struct fit_out {
    int32_t *labels;
    double *centers;
    sgs_kmeans_result_t res;
} fit_out_t;

static fit_out_t run_fit(const double *x, size_t n, size_t d, const double *w,
                         const sgs_kmeans_options_t *opt, int nt)
{
    fit_out_t o;
    o.labels = malloc(n * sizeof *o.labels);
    o.centers = malloc(opt->k * d * sizeof *o.centers);
    assert_non_null(o.labels);
    assert_non_null(o.centers);
    sgs_error_t err = {0};
    sgs_exec_t ex = threads(nt);
    int rc = sgs_kmeans_fit(x, n, d, w, opt, &ex, o.labels, o.centers, &o.res, &err);
    if (rc)
        fail_msg("fit failed: %s", err.message);
    return o;
}

static void fit_free(fit_out_t *o)
{
    sgs_free(o->labels);
    sgs_free(o->centers);
}

static void assert_same_fit(const fit_out_t *a, const fit_out_t *b, size_t n, size_t kd,
                            const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (a->labels[i] != b->labels[i])
            fail_msg("%s: row %zu label %d vs %d", what, i, a->labels[i], b->labels[i]);
    if (memcmp(a->centers, b->centers, kd * sizeof(double)) != 0)
        fail_msg("%s: centers differ", what);
    if (memcmp(&a->res.inertia, &b->res.inertia, sizeof(double)) != 0)
        fail_msg("%s: inertia %.17g vs %.17g", what, a->res.inertia, b->res.inertia);
    assert_int_equal(a->res.n_iter, b->res.n_iter);
    assert_int_equal(a->res.converged, b->res.converged);
    assert_int_equal(a->res.n_relocated, b->res.n_relocated);
}

static void check_bounded_equal_lloyd(const double *x, size_t n, size_t d, const double *w,
                                      size_t k, double tol, sgs_kmeans_init_t init)
{
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, k);
    opt.tol = tol;
    opt.init = init;
    opt.max_iter = 100;
    fit_out_t lloyd = run_fit(x, n, d, w, &opt, 2);
    opt.algorithm = SGS_KMEANS_HAMERLY;
    fit_out_t ham = run_fit(x, n, d, w, &opt, 2);
    opt.algorithm = SGS_KMEANS_ELKAN;
    fit_out_t elk = run_fit(x, n, d, w, &opt, 2);
    assert_same_fit(&lloyd, &ham, n, k * d, "hamerly vs lloyd");
    assert_same_fit(&lloyd, &elk, n, k * d, "elkan vs lloyd");
    /* The bounds must actually skip work after the first iterations. */
    if (lloyd.res.n_iter > 3) {
        sgs_assert_cmp(ham.res.n_distances, <, lloyd.res.n_distances);
        sgs_assert_cmp(elk.res.n_distances, <, lloyd.res.n_distances);
    }
    fit_free(&lloyd);
    fit_free(&ham);
    fit_free(&elk);
}

static void test_hamerly_elkan_equal_lloyd(void **state)
{
    (void)state;
    size_t n = 6000, d = 4;
    double *x = blobs(n, d, 9, 1.0, 0.6, 3, NULL); /* overlapping groups: many iterations */
    double *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++)
        w[i] = 0.5 + (double)(i % 7);
    check_bounded_equal_lloyd(x, n, d, NULL, 12, 0, SGS_KMEANS_INIT_PLUSPLUS);
    check_bounded_equal_lloyd(x, n, d, w, 12, 0, SGS_KMEANS_INIT_PLUSPLUS);
    check_bounded_equal_lloyd(x, n, d, NULL, 7, 1e-4, SGS_KMEANS_INIT_RANDOM);
    check_bounded_equal_lloyd(x, n, 1, NULL, 5, 0, SGS_KMEANS_INIT_FIRST); /* d = 1 view */
    free(x);
    free(w);
}

static void test_hamerly_elkan_equal_lloyd_with_ties(void **state)
{
    (void)state;
    /* Small integer grid: many exact distance ties and duplicate rows, so the first-minimum
     * rule and the bound margins are exercised. */
    size_t n = 2000, d = 2, k = 9;
    double *x = malloc(n * d * sizeof *x);
    for (size_t i = 0; i < n * d; i++)
        x[i] = (double)(sgs_rng_u64(11, 1, i) % 7);
    check_bounded_equal_lloyd(x, n, d, NULL, k, 0, SGS_KMEANS_INIT_FIRST);
    check_bounded_equal_lloyd(x, n, d, NULL, k, 0, SGS_KMEANS_INIT_PLUSPLUS);
    free(x);
}

/* Every vector kernel (argmin with best and second, all distances, screened labels, cluster
 * sums) against the scalar reference, bit for bit, on three kinds of data: generic values,
 * a small integer grid (exact ties, duplicate centers) and a large offset (1e8 + spread 1,
 * where the expanded form ||c||^2 - 2 x.c would lose every digit without the shift). */
static void check_kernels_on(const double *x, size_t m, size_t d, const double *c, size_t k,
                             int isa, size_t *n_fallback)
{
    int32_t l1[103], l2[103], l3[103];
    double b1[103], b2[103], s1[103], s2[103];
    sgs__kmeans_argmin_ref(x, m, d, c, k, l1, b1, s1);
    sgs__kmeans_argmin(isa, x, m, d, c, k, l2, b2, s2);
    assert_memory_equal(l1, l2, m * sizeof *l1);
    assert_memory_equal(b1, b2, m * sizeof *b1);
    assert_memory_equal(s1, s2, m * sizeof *s1);
    double *ws = malloc(sgs__kmeans_prep_size(k, d) * sizeof *ws);
    sgs__kmeans_prep_t prep;
    sgs__kmeans_prep(c, k, d, ws, &prep);
    /* Start from other labels so that the change count is checked too. */
    size_t changed = 0, want_changed = 0;
    for (size_t i = 0; i < m; i++) {
        l3[i] = i % 3 == 0 ? l1[i] : l1[i] + 1;
        want_changed += i % 3 != 0;
    }
    *n_fallback += sgs__kmeans_labels(isa, x, m, &prep, l3, &changed);
    assert_int_equal(changed, want_changed);
    for (size_t i = 0; i < m; i++)
        if (l3[i] != l1[i])
            fail_msg("isa %d d %zu k %zu row %zu: screened label %d, reference %d", isa, d, k, i,
                     l3[i], l1[i]);
    double *o1 = malloc(m * k * sizeof *o1), *o2 = malloc(m * k * sizeof *o2);
    sgs__kmeans_distances(SGS__ISA_SCALAR, x, m, d, c, k, o1);
    sgs__kmeans_distances(isa, x, m, d, c, k, o2);
    assert_memory_equal(o1, o2, m * k * sizeof *o1);
    for (size_t i = 0; i < m; i++)
        sgs_assert_cmp(o1[(size_t)l1[i] * m + i], ==, b1[i]);
    double *w = malloc(m * sizeof *w);
    for (size_t i = 0; i < m; i++)
        w[i] = 0.25 + (double)(i % 5);
    for (int weighted = 0; weighted < 2; weighted++) {
        size_t stride = k * (d + 1);
        double *sa = calloc(4 * stride, sizeof *sa), *sb = calloc(4 * stride, sizeof *sb);
        /* Start at global row 3 so that the dealing to sub-partials wraps mid-chunk. */
        sgs__kmeans_accumulate(SGS__ISA_SCALAR, x, m, d, k, 3, l1, weighted ? w : NULL, sa);
        sgs__kmeans_accumulate(isa, x, m, d, k, 3, l1, weighted ? w : NULL, sb);
        assert_memory_equal(sa, sb, 4 * stride * sizeof *sa);
        free(sa);
        free(sb);
    }
    /* Lloyd rows (labels and sums in one pass) against the reference labels and sums, with
     * int32 and one-byte label stores, with and without weights. */
    for (int weighted = 0; weighted < 2; weighted++)
        for (int narrow = 0; narrow < 2; narrow++) {
            if (narrow && k > 255)
                continue;
            size_t stride = k * (d + 1), chg = 0, want = 0;
            double *sa = calloc(4 * stride, sizeof *sa), *sb = calloc(4 * stride, sizeof *sb);
            int32_t l4[103];
            uint8_t l8[103];
            for (size_t i = 0; i < m; i++) {
                l4[i] = i % 3 == 0 ? l1[i] : (int32_t)((l1[i] + 1) % k);
                l8[i] = i % 5 == 0 ? 255 : (uint8_t)l4[i];
                want += narrow ? l8[i] != (uint8_t)l1[i] : l4[i] != l1[i];
            }
            /* Non-zero sums on entry: the kernel must add to them. */
            for (size_t e = 0; e < 4 * stride; e++)
                sa[e] = sb[e] = (double)(e % 7);
            sgs__kmeans_accumulate(SGS__ISA_SCALAR, x, m, d, k, 3, l1, weighted ? w : NULL, sa);
            *n_fallback += sgs__kmeans_lloyd_rows(isa, x, m, 3, &prep, weighted ? w : NULL,
                                                  narrow ? l8 : NULL, narrow ? NULL : l4, sb, &chg);
            assert_int_equal(chg, want);
            for (size_t i = 0; i < m; i++) {
                int32_t got = narrow ? (int32_t)l8[i] : l4[i];
                if (got != l1[i])
                    fail_msg("isa %d d %zu k %zu row %zu: lloyd label %d, reference %d", isa, d, k,
                             i, got, l1[i]);
            }
            assert_memory_equal(sa, sb, 4 * stride * sizeof *sa);
            free(sa);
            free(sb);
        }
    free(ws);
    free(w);
    free(o1);
    free(o2);
}

static void test_vector_kernels_equal_scalar_reference(void **state)
{
    (void)state;
    const int isas[] = {SGS__ISA_AVX2, SGS__ISA_AVX512};
    size_t m = 103;
    for (size_t v = 0; v < 2; v++) {
        int isa = sgs__kmeans_isa_resolve(isas[v]);
        if (isa != isas[v]) {
            print_message("isa %d not supported here: skipped\n", isas[v]);
            continue;
        }
        size_t fallback_generic = 0, fallback_ties = 0, fallback_offset = 0;
        for (size_t d = 1; d <= 20; d++) {
            for (size_t k = 1; k <= 37; k += 6) {
                double *x = malloc(m * d * sizeof *x), *c = malloc(k * d * sizeof *c);
                for (size_t kind = 0; kind < 3; kind++) {
                    for (size_t e = 0; e < m * d; e++) {
                        double u = sgs_rng_uniform(d, k, e);
                        x[e] = kind == 0   ? u * 10 - 5
                               : kind == 1 ? (double)(sgs_rng_u64(d, k, e) % 3)
                                           : 1e8 + u;
                    }
                    for (size_t e = 0; e < k * d; e++) {
                        double u = sgs_rng_uniform(d, k + 1000, e);
                        c[e] = kind == 0   ? u * 10 - 5
                               : kind == 1 ? (double)(sgs_rng_u64(d, k + 1000, e) % 3)
                                           : 1e8 + u;
                    }
                    /* Duplicate centers make ties the kernels must break like the reference. */
                    if (k > 2)
                        memcpy(c + 2 * d, c, d * sizeof *c);
                    size_t *fb = kind == 0   ? &fallback_generic
                                 : kind == 1 ? &fallback_ties
                                             : &fallback_offset;
                    check_kernels_on(x, m, d, c, k, isa, fb);
                }
                free(x);
                free(c);
            }
        }
        /* Many centers (9 index bits in the mantissa) and values whose squares overflow
         * (the screen must give way to the exact reference). */
        {
            size_t d = 4, k = 300;
            double *x = malloc(m * d * sizeof *x), *c = malloc(k * d * sizeof *c);
            for (int kind = 0; kind < 2; kind++) {
                double scale = kind == 0 ? 1.0 : 1e160;
                for (size_t e = 0; e < m * d; e++)
                    x[e] = (sgs_rng_uniform(9, 1, e) - 0.5) * scale;
                for (size_t e = 0; e < k * d; e++)
                    c[e] = (sgs_rng_uniform(9, 2, e) - 0.5) * scale;
                size_t fb = 0;
                check_kernels_on(x, m, d, c, k, isa, &fb);
                if (kind == 1)
                    sgs_assert_cmp(fb + 8, >, m); /* every tiled row fell back (tails are exact) */
            }
            free(x);
            free(c);
        }
        /* The certificate holds on generic data (duplicate centers aside) and gives way to
         * the exact fallback on ties. */
        print_message("isa %d: fallback rows generic %zu, ties %zu, offset %zu\n", isa,
                      fallback_generic, fallback_ties, fallback_offset);
        sgs_assert_cmp(fallback_ties, >, 0);
        sgs_assert_cmp(fallback_generic, <, fallback_ties);
    }
}

static void test_scalar_and_vector_fits_identical(void **state)
{
    (void)state;
    size_t n = 5000, d = 6, k = 10;
    double *x = blobs(n, d, 10, 1.0, 0.7, 5, NULL);
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, k);
    opt.isa = SGS_KMEANS_ISA_SCALAR;
    fit_out_t a = run_fit(x, n, d, NULL, &opt, 1);
    opt.isa = SGS_KMEANS_ISA_AUTO;
    fit_out_t b = run_fit(x, n, d, NULL, &opt, 2);
    assert_same_fit(&a, &b, n, k * d, "scalar vs vector");
    fit_free(&a);
    fit_free(&b);
    free(x);
}

/* n_rechecked counts the rows the screen left to the exact computation: none for the scalar
 * kernel, which computes every row exactly; some on an integer grid full of exact ties for
 * a screening kernel (AVX2 or AVX-512), at most one per row and iteration; the fit the
 * same either way. */
static void test_rechecked_rows_counted(void **state)
{
    (void)state;
    size_t n = 4000, d = 4, k = 8;
    double *x = malloc(n * d * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n * d; i++)
        x[i] = (double)(sgs_rng_u64(12, 1, i) % 5);
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, k);
    opt.algorithm = SGS_KMEANS_LLOYD;
    opt.init = SGS_KMEANS_INIT_FIRST;
    opt.tol = 0;
    opt.isa = SGS_KMEANS_ISA_SCALAR;
    fit_out_t a = run_fit(x, n, d, NULL, &opt, 2);
    assert_int_equal(a.res.n_rechecked, 0);
    opt.isa = SGS_KMEANS_ISA_AUTO;
    fit_out_t b = run_fit(x, n, d, NULL, &opt, 2);
    assert_same_fit(&a, &b, n, k * d, "scalar vs vector on a grid");
    if (sgs__kmeans_isa_resolve(SGS__ISA_AUTO) == SGS__ISA_SCALAR) {
        print_message("no vector kernel here: n_rechecked checked for the scalar kernel only\n");
        assert_int_equal(b.res.n_rechecked, 0);
    } else {
        sgs_assert_cmp(b.res.n_rechecked, >, 0);
        sgs_assert_cmp(b.res.n_rechecked, <=, (uint64_t)n * (uint64_t)b.res.n_iter);
    }
    fit_free(&a);
    fit_free(&b);
    free(x);
}

/* ---- Determinism across thread counts -------------------------------------------------------- */

static void test_plusplus_same_for_1_2_3_threads(void **state)
{
    (void)state;
    size_t n = 70000, d = 3, k = 9; /* 5 blocks */
    double *x = blobs(n, d, 9, 2.0, 0.5, 8, NULL);
    double c1[27], c2[27];
    size_t i1[9], i2[9];
    sgs_exec_t e1 = threads(1);
    assert_int_equal(sgs_kmeans_plusplus(x, n, d, NULL, k, 0, 42, 1, &e1, c1, i1, NULL), 0);
    for (int nt = 2; nt <= 3; nt++) {
        sgs_exec_t e = threads(nt);
        assert_int_equal(sgs_kmeans_plusplus(x, n, d, NULL, k, 0, 42, 1, &e, c2, i2, NULL), 0);
        assert_memory_equal(c1, c2, sizeof c1);
        assert_memory_equal(i1, i2, sizeof i1);
    }
    /* The chosen rows are distinct and the centers are those rows. */
    for (size_t j = 0; j < k; j++) {
        assert_memory_equal(c1 + j * d, x + i1[j] * d, d * sizeof(double));
        for (size_t q = 0; q < j; q++)
            sgs_assert_cmp(i1[q], !=, i1[j]);
    }
    free(x);
}

static void test_fit_same_for_1_2_3_threads(void **state)
{
    (void)state;
    size_t n = 50000, d = 5, k = 8;
    double *x = blobs(n, d, 8, 1.0, 0.8, 21, NULL);
    double *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++)
        w[i] = 1.0 + sgs_rng_uniform(3, 3, i);
    const sgs_kmeans_algorithm_t algs[] = {SGS_KMEANS_LLOYD, SGS_KMEANS_HAMERLY, SGS_KMEANS_ELKAN,
                                           SGS_KMEANS_MINIBATCH};
    const sgs_kmeans_init_t inits[] = {SGS_KMEANS_INIT_PLUSPLUS, SGS_KMEANS_INIT_PARALLEL,
                                       SGS_KMEANS_INIT_RANDOM, SGS_KMEANS_INIT_PLUSPLUS};
    for (size_t a = 0; a < 4; a++) {
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, k);
        opt.algorithm = algs[a];
        opt.init = inits[a];
        opt.n_init = 2;
        opt.max_iter = algs[a] == SGS_KMEANS_MINIBATCH ? 3 : 40;
        fit_out_t ref = run_fit(x, n, d, w, &opt, 1);
        for (int nt = 2; nt <= 3; nt++) {
            fit_out_t o = run_fit(x, n, d, w, &opt, nt);
            assert_same_fit(&ref, &o, n, k * d, "threads");
            fit_free(&o);
        }
        fit_free(&ref);
    }
    free(x);
    free(w);
}

/* ---- Planted clusters ------------------------------------------------------------------------ */

static void test_planted_clusters_recovered(void **state)
{
    (void)state;
    size_t n = 3000, d = 5, g = 6;
    int32_t *truth = malloc(n * sizeof *truth);
    double *x = blobs(n, d, g, 10.0, 0.5, 17, truth);
    const sgs_kmeans_init_t inits[] = {SGS_KMEANS_INIT_PLUSPLUS, SGS_KMEANS_INIT_PARALLEL};
    const sgs_kmeans_algorithm_t algs[] = {SGS_KMEANS_LLOYD, SGS_KMEANS_MINIBATCH};
    for (size_t v = 0; v < 2; v++) {
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, g);
        opt.init = inits[v];
        opt.algorithm = algs[v];
        opt.batch_size = 256;
        opt.n_init = 3;
        fit_out_t o = run_fit(x, n, d, NULL, &opt, 2);
        double r = ari(truth, o.labels, n, g, g);
        if (!(r > 0.999))
            fail_msg("variant %zu: adjusted Rand index %.6f", v, r);
        assert_int_equal(o.res.n_nonempty, g);
        fit_free(&o);
    }
    /* The ARI itself: identical partitions under renaming give 1. */
    int32_t ren[3000];
    for (size_t i = 0; i < n; i++)
        ren[i] = (int32_t)((truth[i] + 2) % (int32_t)g);
    sgs_assert_close(ari(truth, ren, n, g, g), 1.0, 1e-12, 0);
    free(x);
    free(truth);
}

/* ---- Hand-computed cases --------------------------------------------------------------------- */

static void test_empty_cluster_relocated_to_farthest_row(void **state)
{
    (void)state;
    /* 1-D rows {0, 1, 2, 10}, initial centers {0, 100}: iteration 1 puts every row in
     * cluster 0 (center 0); cluster 1 is empty and takes the farthest row (10, distance
     * 100); cluster 0 keeps {0, 1, 2} -> center 1. Iteration 2 gives labels {0,0,0,1}
     * (changed) and centers that do not move: shift 0 <= tol 0 stops it, n_iter = 2.
     * Inertia = 1 + 0 + 1 + 0 = 2. scikit-learn 1.2.1 gives the same (centers [1, 10],
     * labels [0 0 0 1], inertia 2.0, n_iter_ 2). */
    double x[4] = {0, 1, 2, 10}, init[2] = {0, 100};
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, 2);
    opt.init = SGS_KMEANS_INIT_GIVEN;
    opt.init_centers = init;
    opt.tol = 0;
    for (int a = 0; a < 3; a++) {
        opt.algorithm = (sgs_kmeans_algorithm_t)a;
        fit_out_t o = run_fit(x, 4, 1, NULL, &opt, 1);
        assert_int_equal(o.labels[0], 0);
        assert_int_equal(o.labels[3], 1);
        sgs_assert_cmp(o.centers[0], ==, 1.0);
        sgs_assert_cmp(o.centers[1], ==, 10.0);
        sgs_assert_cmp(o.res.inertia, ==, 2.0);
        assert_int_equal(o.res.n_relocated, 1);
        assert_int_equal(o.res.n_iter, 2);
        assert_int_equal(o.res.converged, 1);
        fit_free(&o);
    }
}

static void test_tolerance_hand_computed(void **state)
{
    (void)state;
    /* Columns (0, 2) and (0, 4): variances 1 and 4, mean 2.5; times 1e-4. */
    double x[4] = {0, 0, 2, 4}, t;
    assert_int_equal(sgs_kmeans_tolerance(x, 2, 2, 1e-4, NULL, &t, NULL), 0);
    sgs_assert_close(t, 2.5e-4, 0, 1e-15);
    assert_int_equal(sgs_kmeans_tolerance(x, 2, 2, 0, NULL, &t, NULL), 0);
    sgs_assert_cmp(t, ==, 0);
}

static void test_same_clustering(void **state)
{
    (void)state;
    int32_t a[5] = {0, 0, 1, 2, 1}, b[5] = {2, 2, 0, 1, 0}, c[5] = {2, 2, 0, 1, 1};
    assert_int_equal(sgs_kmeans_same_clustering(a, b, 5, 3), 1);
    assert_int_equal(sgs_kmeans_same_clustering(a, c, 5, 3), 0);
}

static void test_iteration_callback_counts(void **state);

/* ---- Degenerate inputs ----------------------------------------------------------------------- */

static void test_fewer_rows_than_clusters_is_an_error(void **state)
{
    (void)state;
    double x[6] = {1, 2, 3, 4, 5, 6};
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, 4);
    int32_t labels[3];
    double centers[8];
    sgs_kmeans_result_t res;
    sgs_error_t err = {0};
    assert_int_equal(sgs_kmeans_fit(x, 3, 2, NULL, &opt, NULL, labels, centers, &res, &err),
                     SGS_EINVAL);
    sgs_assert_contains(err.message, "n = 3 rows, fewer than k = 4");
}

static void test_nan_reported_with_row_and_column(void **state)
{
    (void)state;
    double x[8] = {1, 2, 3, 4, 5, NAN, 7, 8};
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, 2);
    int32_t labels[4];
    double centers[4];
    sgs_kmeans_result_t res;
    sgs_error_t err = {0};
    assert_int_equal(sgs_kmeans_fit(x, 4, 2, NULL, &opt, NULL, labels, centers, &res, &err),
                     SGS_EDATA);
    assert_string_equal(err.message, "row 2 column 1 is NaN");
    double w[4] = {0, 0, 0, 0};
    x[5] = 6;
    assert_int_equal(sgs_kmeans_fit(x, 4, 2, w, &opt, NULL, labels, centers, &res, &err),
                     SGS_EDATA);
    sgs_assert_contains(err.message, "weights are zero");
}

static void test_more_clusters_than_distinct_points(void **state)
{
    (void)state;
    /* Ten rows on 3 distinct points, k = 5: documented result = 3 non-empty clusters,
     * inertia 0, no relocation (every row sits on its center), empty clusters keep their
     * previous centers (duplicates of existing ones). */
    double x[10] = {1, 1, 1, 5, 5, 5, 5, 9, 9, 9};
    for (int a = 0; a < 3; a++) {
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, 5);
        opt.algorithm = (sgs_kmeans_algorithm_t)a;
        opt.n_init = 3;
        fit_out_t o = run_fit(x, 10, 1, NULL, &opt, 2);
        assert_int_equal(o.res.n_nonempty, 3);
        sgs_assert_cmp(o.res.inertia, ==, 0);
        for (size_t i = 0; i < 10; i++)
            sgs_assert_cmp(o.centers[o.labels[i]], ==, x[i]);
        fit_free(&o);
    }
}

static void test_constant_features(void **state)
{
    (void)state;
    /* One constant column among informative ones: centers keep it exactly; an all-constant
     * matrix has tolerance 0 and converges at once to one non-empty cluster. */
    size_t n = 600, d = 3;
    int32_t *truth = malloc(n * sizeof *truth);
    double *x = blobs(n, d, 3, 10.0, 0.3, 4, truth);
    for (size_t i = 0; i < n; i++)
        x[i * d + 1] = 7.25;
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, 3);
    opt.n_init = 3;
    fit_out_t o = run_fit(x, n, d, NULL, &opt, 2);
    for (size_t j = 0; j < 3; j++)
        sgs_assert_cmp(o.centers[j * d + 1], ==, 7.25);
    fit_free(&o);
    for (size_t e = 0; e < n * d; e++)
        x[e] = 3.0;
    o = run_fit(x, n, d, NULL, &opt, 2);
    sgs_assert_cmp(o.res.tol_abs, ==, 0);
    sgs_assert_cmp(o.res.inertia, ==, 0);
    assert_int_equal(o.res.n_nonempty, 1);
    fit_free(&o);
    free(x);
    free(truth);
}

typedef struct iter_log {
    int calls, last_iter;
} iter_log_t;

static void on_iter(void *ctx, int run, int iter, size_t n_changed, double shift2)
{
    iter_log_t *l = ctx;
    (void)run;
    (void)n_changed;
    (void)shift2;
    l->calls++;
    l->last_iter = iter;
}

static void test_iteration_callback_counts(void **state)
{
    (void)state;
    double *x = fixture_matrix();
    iter_log_t log = {0, -1};
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, 5);
    opt.init = SGS_KMEANS_INIT_FIRST;
    opt.tol = 0;
    opt.on_iter = on_iter;
    opt.on_iter_ctx = &log;
    fit_out_t o = run_fit(x, 300, 3, NULL, &opt, 1);
    assert_int_equal(log.calls, o.res.n_iter);
    assert_int_equal(log.last_iter, o.res.n_iter - 1);
    /* max_iter = 2 stops unconverged after 2 iterations, then a final E-step. */
    opt.max_iter = 2;
    fit_out_t p = run_fit(x, 300, 3, NULL, &opt, 1);
    assert_int_equal(p.res.n_iter, 2);
    assert_int_equal(p.res.converged, 0);
    int32_t lab[300];
    assert_int_equal(sgs_kmeans_assign(x, 300, 3, p.centers, 5, NULL, lab, NULL, NULL), 0);
    assert_memory_equal(lab, p.labels, sizeof lab);
    fit_free(&o);
    fit_free(&p);
    free(x);
}

/* A stop check that says stop at its n-th call (kernels/core.h sgs_stop_fn); at = 0 never. */
typedef struct stop_after {
    int calls, at;
} stop_after_t;

static int stop_at_call(void *ctx, sgs_error_t *err)
{
    stop_after_t *s = ctx;
    if (++s->calls != s->at)
        return SGS_OK;
    return sgs_error_set(err, SGS_EINTR, "stopped at call %d", s->at);
}

/* Every algorithm asks the stop check before each restart and each iteration (step): a stop
 * returns its code and message at once; a check that never stops changes no result. */
static void test_stop_check(void **state)
{
    (void)state;
    double *x = fixture_matrix();
    const sgs_kmeans_algorithm_t algs[] = {SGS_KMEANS_LLOYD, SGS_KMEANS_HAMERLY, SGS_KMEANS_ELKAN,
                                           SGS_KMEANS_MINIBATCH};
    for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, 5);
        opt.algorithm = algs[a];
        opt.n_init = 2;
        opt.batch_size = 64;
        fit_out_t plain = run_fit(x, 300, 3, NULL, &opt, 1);
        int32_t labels[300];
        double centers[5 * 3];
        sgs_kmeans_result_t res;
        stop_after_t never = {0, 0};
        sgs_exec_t exec = {.n_threads = 1, .stop = stop_at_call, .stop_ctx = &never};
        assert_int_equal(sgs_kmeans_fit(x, 300, 3, NULL, &opt, &exec, labels, centers, &res, NULL),
                         0);
        assert_memory_equal(labels, plain.labels, sizeof labels);
        assert_memory_equal(centers, plain.centers, sizeof centers);
        /* one check per restart and one per iteration or step */
        int n_checks = never.calls;
        sgs_assert_cmp(n_checks, >=, 2 + plain.res.n_iter);
        const int ats[] = {1, 2, n_checks / 2, n_checks};
        for (size_t i = 0; i < sizeof ats / sizeof ats[0]; i++) {
            stop_after_t stop = {0, ats[i]};
            exec.stop_ctx = &stop;
            sgs_error_t err = {0};
            int rc = sgs_kmeans_fit(x, 300, 3, NULL, &opt, &exec, labels, centers, &res, &err);
            char want[64];
            snprintf(want, sizeof want, "stopped at call %d", ats[i]);
            if (rc != SGS_EINTR || strcmp(err.message, want) != 0 || stop.calls != ats[i])
                fail_msg("algorithm %zu, stop at call %d of %d: got %d \"%s\" after %d calls", a,
                         ats[i], n_checks, rc, err.message, stop.calls);
        }
        fit_free(&plain);
    }
    free(x);
}

/* Allocation failure sweep (libuv's test-loop-oom style): make the N-th allocation fail
 * for N = 0, 1, ... until the fit succeeds; every failure must be SGS_ENOMEM with a message,
 * and the sanitizer build checks that nothing leaks on any of those paths. */
static void test_allocation_failures_are_clean(void **state)
{
    (void)state;
    size_t n = 2000, d = 3, k = 6;
    double *x = blobs(n, d, 6, 3.0, 0.5, 12, NULL);
    double *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++)
        w[i] = 1 + (double)(i % 2);
    const sgs_kmeans_algorithm_t algs[] = {SGS_KMEANS_LLOYD, SGS_KMEANS_HAMERLY, SGS_KMEANS_ELKAN,
                                           SGS_KMEANS_MINIBATCH, SGS_KMEANS_LLOYD};
    const sgs_kmeans_init_t inits[] = {SGS_KMEANS_INIT_PLUSPLUS, SGS_KMEANS_INIT_RANDOM,
                                       SGS_KMEANS_INIT_PARALLEL, SGS_KMEANS_INIT_PLUSPLUS,
                                       SGS_KMEANS_INIT_PARALLEL};
    int32_t *labels = malloc(n * sizeof *labels);
    double centers[6 * 3];
    for (size_t v = 0; v < 5; v++) {
        sgs_kmeans_options_t opt;
        sgs_kmeans_options_init(&opt, k);
        opt.algorithm = algs[v];
        opt.init = inits[v];
        opt.n_init = 2;
        opt.max_iter = 5;
        opt.batch_size = 100;
        int rc = SGS_ENOMEM;
        long budget;
        for (budget = 0; rc == SGS_ENOMEM && budget < 1000; budget++) {
            sgs_kmeans_result_t res;
            sgs_error_t err = {0};
            sgs_test_fail_alloc_after(budget);
            rc =
                sgs_kmeans_fit(x, n, d, v == 4 ? w : NULL, &opt, NULL, labels, centers, &res, &err);
            sgs_test_fail_alloc_after(-1);
            if (rc == SGS_ENOMEM)
                sgs_assert_cmp(err.message[0], !=, '\0');
        }
        if (rc != SGS_OK)
            fail_msg("variant %zu: rc %d after %ld allocations", v, rc, budget);
        sgs_assert_cmp(budget, >, 3); /* the sweep did go through failing allocations */
    }
    free(labels);
    free(w);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_matrix_matches_python),
        cmocka_unit_test(test_sklearn_lloyd_tol0_label_for_label),
        cmocka_unit_test(test_sklearn_weighted_label_for_label),
        cmocka_unit_test(test_sklearn_tolerance_and_final_estep),
        cmocka_unit_test(test_hamerly_elkan_equal_lloyd),
        cmocka_unit_test(test_hamerly_elkan_equal_lloyd_with_ties),
        cmocka_unit_test(test_vector_kernels_equal_scalar_reference),
        cmocka_unit_test(test_scalar_and_vector_fits_identical),
        cmocka_unit_test(test_rechecked_rows_counted),
        cmocka_unit_test(test_plusplus_same_for_1_2_3_threads),
        cmocka_unit_test(test_fit_same_for_1_2_3_threads),
        cmocka_unit_test(test_planted_clusters_recovered),
        cmocka_unit_test(test_empty_cluster_relocated_to_farthest_row),
        cmocka_unit_test(test_tolerance_hand_computed),
        cmocka_unit_test(test_same_clustering),
        cmocka_unit_test(test_iteration_callback_counts),
        cmocka_unit_test(test_fewer_rows_than_clusters_is_an_error),
        cmocka_unit_test(test_nan_reported_with_row_and_column),
        cmocka_unit_test(test_more_clusters_than_distinct_points),
        cmocka_unit_test(test_constant_features),
        cmocka_unit_test(test_allocation_failures_are_clean),
        cmocka_unit_test(test_stop_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
