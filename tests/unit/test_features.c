/*
 * tests/unit/test_features.c — log1p transforms and their inverse, column quantiles (the
 * spread a near-constant column with a few far outliers is judged on), robust scaling,
 * standardization, PCA on hand-made matrices with known eigen-decompositions, determinism
 * across thread counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/features.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_transforms_and_inverse(void **state)
{
    (void)state;
    /* Columns: identity, log1p (counts), signed log1p (money with refunds). */
    double x[9] = {5, 0, -3, -2, 1e-10, 0, 7, 3, 250};
    const sgs_feature_transform_t kinds[3] = {SGS_FEATURE_IDENTITY, SGS_FEATURE_LOG1P,
                                              SGS_FEATURE_SIGNED_LOG1P};
    sgs_error_t err = {0};
    assert_int_equal(sgs_features_transform(x, 3, 3, kinds, NULL, &err), 0);
    sgs_assert_cmp(x[0], ==, 5);
    sgs_assert_cmp(x[3], ==, -2);
    sgs_assert_cmp(x[6], ==, 7);
    sgs_assert_cmp(x[1], ==, 0);
    sgs_assert_close(x[4], 1e-10 - 5e-21, 0, 1e-15); /* log1p keeps tiny values exact */
    sgs_assert_close(x[7], log(4.0), 0, 1e-15);
    sgs_assert_close(x[2], -log(4.0), 0, 1e-15);
    sgs_assert_close(x[8], log(251.0), 0, 1e-15);
    sgs_features_untransform(x, 3, 3, kinds);
    const double want[9] = {5, 0, -3, -2, 1e-10, 0, 7, 3, 250};
    for (int e = 0; e < 9; e++)
        sgs_assert_close(x[e], want[e], 1e-24, 1e-14);
}

static void test_transform_errors_name_row_and_column(void **state)
{
    (void)state;
    const sgs_feature_transform_t kinds[2] = {SGS_FEATURE_LOG1P, SGS_FEATURE_IDENTITY};
    double x[6] = {0, 1, 2, 3, -1, 5};
    sgs_error_t err = {0};
    assert_int_equal(sgs_features_transform(x, 3, 2, kinds, NULL, &err), SGS_EDATA);
    assert_string_equal(err.message, "row 2 column 0 is -1: log1p needs values > -1");
    double y[4] = {0, 1, 2, NAN};
    assert_int_equal(sgs_features_transform(y, 2, 2, kinds, NULL, &err), SGS_EDATA);
    assert_string_equal(err.message, "row 1 column 1 is NaN");
}

static void test_standardize_hand_computed(void **state)
{
    (void)state;
    /* Column 0: 1 2 3 4 -> mean 2.5, population variance 1.25. Column 1 constant 7 ->
     * scale 1 and zeros (scikit-learn StandardScaler). */
    double x[8] = {1, 7, 2, 7, 3, 7, 4, 7};
    double mean[2], scale[2];
    assert_int_equal(sgs_features_standardize(x, 4, 2, NULL, mean, scale, NULL), 0);
    sgs_assert_close(mean[0], 2.5, 0, 1e-15);
    sgs_assert_close(scale[0], sqrt(1.25), 0, 1e-15);
    sgs_assert_cmp(mean[1], ==, 7);
    sgs_assert_cmp(scale[1], ==, 1);
    for (int i = 0; i < 4; i++) {
        sgs_assert_close(x[2 * i], ((double)(i + 1) - 2.5) / sqrt(1.25), 1e-15, 1e-15);
        sgs_assert_cmp(x[2 * i + 1], ==, 0);
    }
    sgs_features_unstandardize(x, 4, 2, mean, scale);
    for (int i = 0; i < 4; i++)
        sgs_assert_close(x[2 * i], (double)(i + 1), 1e-15, 1e-15);
}

static void test_quantiles_set_a_few_outliers_aside(void **state)
{
    (void)state;
    /* Column 0 has the shape of P(alive) on a real export: 996 customers at 0.999 + 1e-6 *
     * (i mod 100) and 4 far below, at 0.7. With tail 0.01, m = 10 values are set aside at each
     * end: sorted, the 4 outliers take positions 0..3 and the ten copies of 0.999 positions
     * 4..13, so lo (position 10) is 0.999; from the top, nine copies each of +99e-6 and
     * +98e-6 occupy positions 991..999 and 982..990, so hi (position 989) is 0.999 + 98e-6.
     * The median is the mean of positions 499 and 500, both 0.999 + 49e-6. The outliers move
     * none of them. Column 1 is 1..1000: lo 11, hi 990, median 500.5. */
    size_t n = 1000;
    double *x = malloc(2 * n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        x[2 * i] = i < 996 ? 0.999 + 1e-6 * (double)(i % 100) : 0.7;
        x[2 * i + 1] = (double)(n - i);
    }
    double lo[2], median[2], hi[2];
    assert_int_equal(sgs_features_quantiles(x, n, 2, 0.01, NULL, lo, median, hi, NULL), 0);
    sgs_assert_cmp(lo[0], ==, 0.999);
    sgs_assert_cmp(hi[0], ==, 0.999 + 1e-6 * 98.0);
    sgs_assert_cmp(median[0], ==, 0.999 + 1e-6 * 49.0);
    sgs_assert_cmp(lo[1], ==, 11);
    sgs_assert_cmp(hi[1], ==, 990);
    sgs_assert_cmp(median[1], ==, 500.5);
    /* tail 0: the extremes themselves */
    assert_int_equal(sgs_features_quantiles(x, n, 2, 0, NULL, lo, median, hi, NULL), 0);
    sgs_assert_cmp(lo[0], ==, 0.7);
    sgs_assert_cmp(hi[0], ==, 0.999 + 1e-6 * 99.0);
    sgs_assert_cmp(lo[1], ==, 1);
    sgs_assert_cmp(hi[1], ==, 1000);
    /* the input is not changed */
    sgs_assert_cmp(x[0], ==, 0.999);
    sgs_assert_cmp(x[2 * 999], ==, 0.7);
    sgs_assert_cmp(x[1], ==, 1000);
    free(x);

    /* small n: m = floor(0.3 * 5) = 1; odd n: the middle value */
    double y[5] = {5, 1, 4, 2, 3};
    assert_int_equal(sgs_features_quantiles(y, 5, 1, 0.3, NULL, lo, median, hi, NULL), 0);
    sgs_assert_cmp(lo[0], ==, 2);
    sgs_assert_cmp(median[0], ==, 3);
    sgs_assert_cmp(hi[0], ==, 4);
    assert_int_equal(sgs_features_quantiles(y, 1, 1, 0.49, NULL, lo, median, hi, NULL), 0);
    sgs_assert_cmp(lo[0], ==, 5);
    sgs_assert_cmp(median[0], ==, 5);
    sgs_assert_cmp(hi[0], ==, 5);

    sgs_error_t err = {0};
    double bad[6] = {1, 2, 3, 4, 5, NAN};
    assert_int_equal(sgs_features_quantiles(bad, 3, 2, 0.01, NULL, lo, median, hi, &err),
                     SGS_EDATA);
    assert_string_equal(err.message, "row 2 column 1 is NaN");
    assert_int_equal(sgs_features_quantiles(y, 5, 1, 0.5, NULL, lo, median, hi, &err), SGS_EINVAL);
    assert_int_equal(sgs_features_quantiles(y, 0, 1, 0.01, NULL, lo, median, hi, &err), SGS_EINVAL);
}

static void test_keep_columns(void **state)
{
    (void)state;
    double x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const unsigned char keep[3] = {1, 0, 1};
    assert_int_equal(sgs_features_keep_columns(x, 3, 3, keep), 2);
    const double want[6] = {1, 3, 4, 6, 7, 9};
    for (int e = 0; e < 6; e++)
        sgs_assert_cmp(x[e], ==, want[e]);
    const unsigned char all[2] = {1, 1};
    assert_int_equal(sgs_features_keep_columns(x, 3, 2, all), 2);
    sgs_assert_cmp(x[5], ==, 9);
}

static void test_robust_scale_hand_computed(void **state)
{
    (void)state;
    /* Column 0: bounds [1, 4], centre 2.5, scale 0.5: -100 and 1000 are pulled in to 1 and 4,
     * so the column becomes (1 1 2 3 4 4 - 2.5) / 0.5 = -3 -3 -1 1 3 3, with 2 pulled in.
     * Column 1: unbounded, centre 10, scale 2: (x - 10) / 2, nothing pulled in. */
    double x[12] = {-100, 10, 1, 12, 2, 14, 3, 8, 4, 6, 1000, 10};
    const double lo[2] = {1, -INFINITY}, hi[2] = {4, INFINITY};
    const double center[2] = {2.5, 10}, scale[2] = {0.5, 2};
    size_t clipped[2] = {99, 99};
    sgs_features_robust_scale(x, 6, 2, lo, hi, center, scale, NULL, clipped);
    const double want[12] = {-3, 0, -3, 1, -1, 2, 1, -1, 3, -2, 3, 0};
    for (int e = 0; e < 12; e++)
        sgs_assert_close(x[e], want[e], 0, 0);
    assert_int_equal(clipped[0], 2);
    assert_int_equal(clipped[1], 0);
    /* The inverse gives the winsorized values back. */
    sgs_features_unstandardize(x, 6, 2, center, scale);
    const double back[12] = {1, 10, 1, 12, 2, 14, 3, 8, 4, 6, 4, 10};
    for (int e = 0; e < 12; e++)
        sgs_assert_close(x[e], back[e], 0, 0);
}

static void test_pca_two_dimensional_hand_made(void **state)
{
    (void)state;
    /* Rows (3,3), (-3,-3), (1,-1), (-1,1): mean 0, covariance (1/3) [[20,16],[16,20]],
     * eigenvalues 12 and 4/3 with axes (1,1)/sqrt2 and (1,-1)/sqrt2; ratios 0.9 and 0.1. */
    double x[8] = {3, 3, -3, -3, 1, -1, -1, 1};
    sgs_pca_t *p = NULL;
    sgs_error_t err = {0};
    assert_int_equal(sgs_pca_fit(x, 4, 2, 2, 0, NULL, &p, &err), 0);
    assert_int_equal(p->n_components, 2);
    sgs_assert_close(p->explained_variance[0], 12, 0, 1e-14);
    sgs_assert_close(p->explained_variance[1], 4.0 / 3.0, 0, 1e-14);
    sgs_assert_close(p->explained_variance_ratio[0], 0.9, 0, 1e-14);
    sgs_assert_close(p->explained_variance_ratio[1], 0.1, 0, 1e-14);
    sgs_assert_close(p->total_variance, 40.0 / 3.0, 0, 1e-15);
    double r = sqrt(0.5);
    sgs_assert_close(p->components[0], r, 0, 1e-14);
    sgs_assert_close(p->components[1], r, 0, 1e-14);
    sgs_assert_close(p->components[2], r, 0, 1e-14); /* first of equal magnitudes positive */
    sgs_assert_close(p->components[3], -r, 0, 1e-14);
    /* Projections: (3,3) -> (3 sqrt2, 0); (1,-1) -> (0, sqrt2); inverse gives x back. */
    double y[8], back[8];
    sgs_pca_transform(p, x, 4, NULL, y);
    sgs_assert_close(y[0], 3 * sqrt(2.0), 1e-14, 1e-14);
    sgs_assert_close(y[1], 0, 1e-14, 0);
    sgs_assert_close(y[4], 0, 1e-14, 0);
    sgs_assert_close(y[5], sqrt(2.0), 1e-14, 1e-14);
    sgs_pca_inverse(p, y, 4, back);
    for (int e = 0; e < 8; e++)
        sgs_assert_close(back[e], x[e], 1e-13, 0);
    sgs_pca_destroy(p);
}

static void test_pca_keeps_components_up_to_a_ratio(void **state)
{
    (void)state;
    /* Three independent columns with variances 16 : 4 : 1 (values +-4, +-2, +-1 in a full
     * 2^3 design, so the covariance is exactly diagonal): ratios 16/21, 4/21, 1/21. Asking
     * for 90% keeps 2 components (16/21 = 0.762 < 0.9 <= 20/21). */
    double x[8 * 3];
    for (int i = 0; i < 8; i++) {
        x[i * 3 + 0] = (i & 1) ? 4 : -4;
        x[i * 3 + 1] = (i & 2) ? 2 : -2;
        x[i * 3 + 2] = (i & 4) ? 1 : -1;
    }
    sgs_pca_t *p = NULL;
    assert_int_equal(sgs_pca_fit(x, 8, 3, 0, 0.9, NULL, &p, NULL), 0);
    assert_int_equal(p->n_components, 2);
    sgs_assert_close(p->explained_variance[0], 16.0 * 8 / 7, 0, 1e-14);
    sgs_assert_close(p->explained_variance_ratio[0], 16.0 / 21, 0, 1e-14);
    sgs_assert_close(p->explained_variance_ratio[1], 4.0 / 21, 0, 1e-14);
    sgs_assert_close(fabs(p->components[0]), 1, 0, 1e-14);
    sgs_assert_close(fabs(p->components[3 + 1]), 1, 0, 1e-14);
    sgs_pca_destroy(p);
    sgs_error_t err = {0};
    assert_int_equal(sgs_pca_fit(x, 1, 3, 2, 0, NULL, &p, &err), SGS_EINVAL);
    assert_null(p);
}

static void test_same_bits_for_1_2_3_threads(void **state)
{
    (void)state;
    size_t n = 40000, d = 5;
    double *x0 = malloc(n * d * sizeof *x0), *x1 = malloc(n * d * sizeof *x1);
    double *orig = malloc(n * d * sizeof *orig);
    for (size_t e = 0; e < n * d; e++)
        orig[e] = x0[e] =
            (sgs_rng_uniform(4, 4, e) - (e % d == 2 ? 0.5 : 0)) * (double)(1 + e % d) * 100;
    const sgs_feature_transform_t kinds[5] = {SGS_FEATURE_LOG1P, SGS_FEATURE_IDENTITY,
                                              SGS_FEATURE_SIGNED_LOG1P, SGS_FEATURE_LOG1P,
                                              SGS_FEATURE_IDENTITY};
    double m0[5], s0[5], m1[5], s1[5], lo0[5], md0[5], hi0[5], lo1[5], md1[5], hi1[5];
    size_t c0[5], c1[5];
    sgs_pca_t *p0 = NULL, *p1 = NULL;
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1}; /* grain 1: every thread works */
        double *x = t == 1 ? x0 : x1;
        if (t > 1)
            memcpy(x1, orig, n * d * sizeof *x1);
        assert_int_equal(sgs_features_transform(x, n, d, kinds, &ex, NULL), 0);
        assert_int_equal(
            sgs_features_standardize(x, n, d, &ex, t == 1 ? m0 : m1, t == 1 ? s0 : s1, NULL), 0);
        assert_int_equal(sgs_pca_fit(x, n, d, 3, 0, &ex, t == 1 ? &p0 : &p1, NULL), 0);
        /* quantiles, then robust scaling of the standardized columns */
        double *lo = t == 1 ? lo0 : lo1, *md = t == 1 ? md0 : md1, *hi = t == 1 ? hi0 : hi1;
        size_t *clipped = t == 1 ? c0 : c1;
        assert_int_equal(sgs_features_quantiles(x, n, d, 0.01, &ex, lo, md, hi, NULL), 0);
        double sc[5];
        for (size_t f = 0; f < d; f++)
            sc[f] = (hi[f] - lo[f]) / 4.6526957480816815;
        sgs_features_robust_scale(x, n, d, lo, hi, md, sc, &ex, clipped);
        if (t > 1) {
            assert_memory_equal(lo0, lo1, sizeof lo0);
            assert_memory_equal(md0, md1, sizeof md0);
            assert_memory_equal(hi0, hi1, sizeof hi0);
            assert_memory_equal(c0, c1, sizeof c0);
            assert_memory_equal(x0, x1, n * d * sizeof *x0);
            assert_memory_equal(m0, m1, sizeof m0);
            assert_memory_equal(s0, s1, sizeof s0);
            assert_memory_equal(p0->components, p1->components, 3 * d * sizeof(double));
            assert_memory_equal(p0->explained_variance, p1->explained_variance, 3 * sizeof(double));
            sgs_pca_destroy(p1);
            p1 = NULL;
        }
    }
    sgs_pca_destroy(p0);
    free(x0);
    free(x1);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transforms_and_inverse),
        cmocka_unit_test(test_transform_errors_name_row_and_column),
        cmocka_unit_test(test_standardize_hand_computed),
        cmocka_unit_test(test_quantiles_set_a_few_outliers_aside),
        cmocka_unit_test(test_keep_columns),
        cmocka_unit_test(test_robust_scale_hand_computed),
        cmocka_unit_test(test_pca_two_dimensional_hand_made),
        cmocka_unit_test(test_pca_keeps_components_up_to_a_ratio),
        cmocka_unit_test(test_same_bits_for_1_2_3_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
