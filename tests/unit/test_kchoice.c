/*
 * tests/unit/test_kchoice.c — Calinski-Harabasz and silhouette by hand on a tiny example and
 * against scikit-learn's calinski_harabasz_score / silhouette_score on the fixture matrix;
 * the k table finds the planted number of groups; sampled silhouette is the same for 1, 2
 * and 3 threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/kchoice.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/kmeans_sklearn_fixture.h"

static void test_calinski_harabasz_by_hand(void **state)
{
    (void)state;
    /* 1-D rows {0, 2, 10, 12}, clusters {0, 0, 1, 1}: mean 6, cluster means 1 and 11,
     * B = 2 * 25 + 2 * 25 = 100, W = 4 * 1 = 4, CH = (100 / 1) / (4 / 2) = 50. */
    double x[4] = {0, 2, 10, 12};
    int32_t l[4] = {0, 0, 1, 1};
    double ch;
    assert_int_equal(sgs_kchoice_calinski_harabasz(x, 4, 1, l, 2, NULL, &ch, NULL), 0);
    sgs_assert_close(ch, 50, 0, 1e-15);
    /* An empty third cluster does not count (q = 2). */
    assert_int_equal(sgs_kchoice_calinski_harabasz(x, 4, 1, l, 3, NULL, &ch, NULL), 0);
    sgs_assert_close(ch, 50, 0, 1e-15);
    /* One cluster: undefined. */
    int32_t one[4] = {0, 0, 0, 0};
    assert_int_equal(sgs_kchoice_calinski_harabasz(x, 4, 1, one, 1, NULL, &ch, NULL), 0);
    sgs_assert_nan(ch);
}

static void test_silhouette_by_hand(void **state)
{
    (void)state;
    /* Same rows: s(0) = (11 - 2) / 11, s(2) = (9 - 2) / 9, s(10) = 7/9, s(12) = 9/11;
     * mean = (9/11 + 7/9) / 2 = 158 / 198. */
    double x[4] = {0, 2, 10, 12};
    int32_t l[4] = {0, 0, 1, 1};
    double s;
    assert_int_equal(sgs_kchoice_silhouette(x, 4, 1, l, 2, 0, 1, NULL, &s, NULL), 0);
    sgs_assert_close(s, 158.0 / 198.0, 0, 1e-15);
    /* A singleton cluster contributes 0: rows {0, 2, 10}, clusters {0, 0, 1}:
     * s(0) = (10 - 2)/10, s(2) = (8 - 2)/8, s(10) = 0 -> (0.8 + 0.75) / 3. */
    int32_t l2[3] = {0, 0, 1};
    assert_int_equal(sgs_kchoice_silhouette(x, 3, 1, l2, 2, 0, 1, NULL, &s, NULL), 0);
    sgs_assert_close(s, (0.8 + 0.75) / 3, 0, 1e-15);
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void test_indices_match_scikit_learn_on_fixture(void **state)
{
    (void)state;
    double x[900];
    uint64_t st = 12345;
    for (size_t i = 0; i < 300; i++)
        for (size_t f = 0; f < 3; f++) {
            double u = (double)(splitmix(&st) >> 11) * 0x1p-53;
            double o[3] = {(double)(i % 5) * 1.5, (double)(i % 5 % 2) * 2.0,
                           (double)(i % 5 % 3) * 1.0};
            x[i * 3 + f] = o[f] + (u - 0.5) * 2.5;
        }
    double ch, s;
    assert_int_equal(sgs_kchoice_calinski_harabasz(x, 300, 3, sk_plain_labels, 5, NULL, &ch, NULL),
                     0);
    sgs_assert_close(ch, sk_plain_calinski_harabasz, 0, 1e-12);
    assert_int_equal(sgs_kchoice_silhouette(x, 300, 3, sk_plain_labels, 5, 0, 1, NULL, &s, NULL),
                     0);
    sgs_assert_close(s, sk_plain_silhouette, 0, 1e-12);
    assert_int_equal(sgs_kchoice_silhouette(x, 300, 3, sk_tol_labels, 7, 0, 1, NULL, &s, NULL), 0);
    sgs_assert_close(s, sk_tol_silhouette, 0, 1e-12);
}

static double *planted(size_t n, size_t d, size_t g)
{
    double *x = malloc(n * d * sizeof *x);
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++) {
            double c = 8.0 * (double)(((i % g) >> f) & 1) + 8.0 * (double)(f == 0 && i % g == 3);
            x[i * d + f] = c + sgs_rng_uniform(2, 2, i * d + f) - 0.5;
        }
    return x;
}

static void test_k_table_finds_planted_groups(void **state)
{
    (void)state;
    size_t n = 4000, d = 2, g = 4;
    double *x = planted(n, d, g);
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, 2);
    opt.n_init = 3;
    sgs_kchoice_row_t rows[6];
    size_t chosen = 0;
    sgs_exec_t ex = {.n_threads = 2};
    sgs_error_t err = {0};
    assert_int_equal(sgs_kchoice_run(x, n, d, NULL, 2, 7, &opt, 1000, &ex, rows, &chosen, &err), 0);
    assert_int_equal(chosen, g);
    for (size_t r = 0; r < 6; r++) {
        assert_int_equal(rows[r].k, r + 2);
        if (r > 0)
            sgs_assert_cmp(rows[r].inertia, <=, rows[r - 1].inertia * (1 + 1e-12));
        if (isnan(rows[r].silhouette))
            fail_msg("k = %d: the silhouette is NaN", (int)rows[r].k);
    }
    /* The table's silhouettes, computed for every k in one pass, are each k's own: the same
     * bits as sgs_kchoice_silhouette on that k's labels (k-means is deterministic). */
    int32_t *labels = malloc(n * sizeof *labels);
    double *centers = malloc(7 * d * sizeof *centers);
    assert_non_null(labels);
    assert_non_null(centers);
    for (size_t r = 0; r < 6; r++) {
        sgs_kmeans_options_t o = opt;
        o.k = rows[r].k;
        sgs_kmeans_result_t res;
        assert_int_equal(sgs_kmeans_fit(x, n, d, NULL, &o, &ex, labels, centers, &res, &err), 0);
        double alone;
        assert_int_equal(
            sgs_kchoice_silhouette(x, n, d, labels, o.k, 1000, opt.seed, &ex, &alone, &err), 0);
        if (memcmp(&alone, &rows[r].silhouette, sizeof alone) != 0)
            fail_msg("k = %zu: silhouette %.17g in the table, %.17g alone", o.k, rows[r].silhouette,
                     alone);
    }
    free(labels);
    free(centers);
    /* CH peaks at the planted k too. */
    for (size_t r = 0; r < 6; r++)
        if (rows[r].k != g)
            sgs_assert_cmp(rows[r].calinski_harabasz, <, rows[g - 2].calinski_harabasz);
    assert_int_equal(sgs_kchoice_run(x, n, d, NULL, 1, 3, &opt, 100, &ex, rows, &chosen, &err),
                     SGS_EINVAL);
    free(x);
}

static void test_sampled_silhouette_same_for_1_2_3_threads(void **state)
{
    (void)state;
    size_t n = 30000, d = 3;
    double *x = planted(n, d, 5);
    int32_t *l = malloc(n * sizeof *l);
    for (size_t i = 0; i < n; i++)
        l[i] = (int32_t)(i % 5);
    double s1 = 0, s2 = 0;
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1}; /* grain 1: every thread works */
        assert_int_equal(
            sgs_kchoice_silhouette(x, n, d, l, 5, 700, 77, &ex, t == 1 ? &s1 : &s2, NULL), 0);
        if (t > 1)
            assert_memory_equal(&s1, &s2, sizeof s1);
    }
    sgs_assert_cmp(s1, >, 0.3);
    sgs_assert_cmp(s1, <, 1);
    free(x);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calinski_harabasz_by_hand),
        cmocka_unit_test(test_silhouette_by_hand),
        cmocka_unit_test(test_indices_match_scikit_learn_on_fixture),
        cmocka_unit_test(test_k_table_finds_planted_groups),
        cmocka_unit_test(test_sampled_silhouette_same_for_1_2_3_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
