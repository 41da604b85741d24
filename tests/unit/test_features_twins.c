/*
 * tests/unit/test_features_twins.c — the parallel feature kernels (kernels/features.h:
 * transform, column moments, standardize, quantiles, robust scaling, PCA projection) against
 * their serial reference twins on 1, 2 and 3 threads, on crafted and random matrices: the
 * same bytes (the header promises thread-count independence for each) and the same return
 * codes and messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/features.h"
#include "kernels/segment_profile.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* n x d: column 0 counts 0..20, column 1 skewed money (some negative: refunds), column 2
 * constant, column 3 a few repeated values, the rest wide-ranged with outliers. No -0. */
static double *matrix_random(size_t n, size_t d, uint64_t seed)
{
    uint64_t s = seed;
    double *x = malloc((n ? n : 1) * d * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++) {
            double u = sgs_test_uniform(&s), v;
            switch (f) {
            case 0:
                v = (double)(sgs_test_next(&s) % 21);
                break;
            case 1:
                v = u < 0.1 ? -30.0 * sgs_test_uniform(&s) : 1000.0 * u * u * u;
                break;
            case 2:
                v = 7.25;
                break;
            case 3:
                v = (double)(sgs_test_next(&s) % 4) * 0.5;
                break;
            default:
                v = u < 0.01 ? 1e6 * sgs_test_uniform(&s) : 100.0 * (sgs_test_uniform(&s) - 0.3);
            }
            x[i * d + f] = v;
        }
    return x;
}

static double *copy_of(const double *x, size_t count)
{
    double *y = malloc((count ? count : 1) * sizeof *y);
    assert_non_null(y);
    memcpy(y, x, count * sizeof *y);
    return y;
}

static void assert_same(const void *a, const void *b, size_t bytes, const char *what, uint64_t seed,
                        int threads)
{
    if (memcmp(a, b, bytes) != 0)
        fail_msg("%s, seed %llu, %d threads: differs from the reference", what,
                 (unsigned long long)seed, threads);
}

static const size_t sizes[] = {1, 3, 16385, 50001};
enum { D = 6 };

static void test_transform_moments_standardize(void **state)
{
    (void)state;
    const sgs_feature_transform_t kinds[D] = {SGS_FEATURE_LOG1P,    SGS_FEATURE_SIGNED_LOG1P,
                                              SGS_FEATURE_IDENTITY, SGS_FEATURE_LOG1P,
                                              SGS_FEATURE_IDENTITY, SGS_FEATURE_SIGNED_LOG1P};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 300 + z;
        size_t n = sizes[z];
        double *x = matrix_random(n, D, seed);
        double *ref = copy_of(x, n * D);
        assert_int_equal(sgs_features_transform_ref(ref, n, D, kinds, NULL), 0);
        double m_ref[D], v_ref[D], s_ref[D], m[D], v[D], sc[D];
        assert_int_equal(sgs_features_column_moments_ref(ref, n, D, m_ref, v_ref), 0);
        double *std_ref = copy_of(ref, n * D);
        assert_int_equal(sgs_features_standardize_ref(std_ref, n, D, m_ref, s_ref, NULL), 0);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            double *got = copy_of(x, n * D);
            assert_int_equal(sgs_features_transform(got, n, D, kinds, &ex, NULL), 0);
            assert_same(ref, got, n * D * sizeof *got, "transform", seed, t);
            assert_int_equal(sgs_features_column_moments(got, n, D, &ex, m, v), 0);
            assert_same(m_ref, m, sizeof m, "column means", seed, t);
            assert_same(v_ref, v, sizeof v, "column variances", seed, t);
            assert_int_equal(sgs_features_standardize(got, n, D, &ex, m, sc, NULL), 0);
            assert_same(std_ref, got, n * D * sizeof *got, "standardized matrix", seed, t);
            assert_same(m_ref, m, sizeof m, "standardize mean", seed, t);
            assert_same(s_ref, sc, sizeof sc, "standardize scale", seed, t);
            free(got);
        }
        sgs_assert_cmp(s_ref[2], ==, 1.0); /* the constant column */
        free(std_ref);
        free(ref);
        free(x);
    }
}

/* The transform with tables for int32 columns against the plain twin on the gathered matrix:
 * days (log1p, divisor 1 and 7), signed counts with negatives, a column too wide for a table,
 * a double column beside them; the same bits on 1, 2 and 3 threads; and a value log1p refuses
 * in an int column (the generic path, the same message). */
static void test_transform_ints(void **state)
{
    (void)state;
    enum { DI = 5 };
    const sgs_feature_transform_t kinds[DI] = {SGS_FEATURE_LOG1P, SGS_FEATURE_LOG1P,
                                               SGS_FEATURE_SIGNED_LOG1P, SGS_FEATURE_LOG1P,
                                               SGS_FEATURE_SIGNED_LOG1P};
    const size_t ns[] = {1, 16385, 50001};
    for (size_t z = 0; z < sizeof ns / sizeof ns[0]; z++)
        for (int refused = 0; refused <= 1; refused++) {
            size_t n = ns[z];
            uint64_t seed = 900 + z, s = seed;
            int32_t *days = malloc(n * sizeof *days), *weeks = malloc(n * sizeof *weeks),
                    *signed_count = malloc(n * sizeof *signed_count),
                    *wide = malloc(n * sizeof *wide);
            double *money = malloc(n * sizeof *money);
            assert_true(days && weeks && signed_count && wide && money);
            for (size_t i = 0; i < n; i++) {
                days[i] = (int32_t)(sgs_test_next(&s) % 3000);
                weeks[i] = (int32_t)(sgs_test_next(&s) % 500);
                signed_count[i] = (int32_t)(sgs_test_next(&s) % 61) - 30;
                wide[i] = (int32_t)(sgs_test_next(&s) % 2000000000u);
                money[i] = (double)(int64_t)(sgs_test_next(&s) % 200001 - 100000) / 100.0;
            }
            if (refused && n > 10)
                days[n - 5] = -1; /* log1p(-1): refused, by the generic path */
            sgs_feature_column_t cols[DI] = {{NULL, 0, days, 1.0},
                                             {NULL, 0, weeks, 7.0},
                                             {NULL, 0, signed_count, 1.0},
                                             {NULL, 0, wide, 1.0},
                                             {money, 1, NULL, 1.0}};
            const int32_t *src[DI] = {days, weeks, signed_count, wide, NULL};
            const double divisor[DI] = {1.0, 7.0, 1.0, 1.0, 1.0};
            double *x = malloc(n * DI * sizeof *x);
            assert_non_null(x);
            assert_int_equal(sgs_features_gather_ref(cols, DI, n, x, NULL), 0);
            double *ref = copy_of(x, n * DI);
            sgs_error_t e_ref = {0};
            int rc_ref = sgs_features_transform_ref(ref, n, DI, kinds, &e_ref);
            assert_int_equal(rc_ref, refused && n > 10 ? SGS_EDATA : SGS_OK);
            for (int t = 1; t <= 3; t++) {
                sgs_exec_t ex = {.n_threads = t, .grain = 1};
                double *got = copy_of(x, n * DI);
                sgs_error_t e = {0};
                assert_int_equal(
                    sgs_features_transform_ints(got, n, DI, kinds, src, divisor, &ex, &e), rc_ref);
                if (rc_ref == SGS_OK)
                    assert_same(ref, got, n * DI * sizeof *got, "transform with tables", seed, t);
                else
                    assert_string_equal(e.message, e_ref.message);
                free(got);
            }
            free(ref);
            free(x);
            free(days);
            free(weeks);
            free(signed_count);
            free(wide);
            free(money);
        }
}

/* Bad values: the first in row-major order is named, whichever block and thread meets it. */
static void test_transform_errors(void **state)
{
    (void)state;
    const size_t n = 40000;
    const sgs_feature_transform_t kinds[D] = {SGS_FEATURE_LOG1P,    SGS_FEATURE_IDENTITY,
                                              SGS_FEATURE_IDENTITY, SGS_FEATURE_LOG1P,
                                              SGS_FEATURE_IDENTITY, SGS_FEATURE_IDENTITY};
    for (int which = 0; which < 3; which++) {
        double *x = matrix_random(n, D, 41);
        x[35000 * D + 4] = (double)NAN;
        if (which >= 1)
            x[20000 * D + 3] = -1.0; /* log1p(-1): an earlier row, another block */
        if (which == 2)
            x[3 * D + 5] = INFINITY;
        double *ref = copy_of(x, n * D);
        sgs_error_t e_ref = {0};
        assert_int_equal(sgs_features_transform_ref(ref, n, D, kinds, &e_ref), SGS_EDATA);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            double *got = copy_of(x, n * D);
            sgs_error_t e = {0};
            assert_int_equal(sgs_features_transform(got, n, D, kinds, &ex, &e), SGS_EDATA);
            assert_string_equal(e.message, e_ref.message);
            free(got);
        }
        free(ref);
        free(x);
    }
    sgs_feature_transform_t bad[D] = {0};
    bad[4] = (sgs_feature_transform_t)7;
    double x1[D] = {0};
    sgs_error_t e_ref = {0}, e = {0};
    assert_int_equal(sgs_features_transform_ref(x1, 1, D, bad, &e_ref), SGS_EINVAL);
    assert_int_equal(sgs_features_transform(x1, 1, D, bad, NULL, &e), SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
}

static void test_quantiles_and_robust_scale(void **state)
{
    (void)state;
    const double tails[] = {0.0, 0.01, 0.3};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 700 + z;
        size_t n = sizes[z];
        double *x = matrix_random(n, D, seed);
        for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
            double lo_r[D], med_r[D], hi_r[D], lo[D], med[D], hi[D];
            assert_int_equal(sgs_features_quantiles_ref(x, n, D, tails[k], lo_r, med_r, hi_r, NULL),
                             0);
            double center[D], scale[D];
            for (size_t f = 0; f < D; f++) {
                center[f] = med_r[f];
                scale[f] = hi_r[f] > lo_r[f] ? (hi_r[f] - lo_r[f]) / 4.65 : 1.0;
            }
            double *ref = copy_of(x, n * D);
            size_t clip_r[D], clip[D];
            sgs_features_robust_scale_ref(ref, n, D, lo_r, hi_r, center, scale, clip_r);
            for (int t = 1; t <= 3; t++) {
                sgs_exec_t ex = {.n_threads = t, .grain = 1};
                assert_int_equal(sgs_features_quantiles(x, n, D, tails[k], &ex, lo, med, hi, NULL),
                                 0);
                assert_same(lo_r, lo, sizeof lo, "lo", seed, t);
                assert_same(med_r, med, sizeof med, "median", seed, t);
                assert_same(hi_r, hi, sizeof hi, "hi", seed, t);
                double *got = copy_of(x, n * D);
                sgs_features_robust_scale(got, n, D, lo, hi, center, scale, &ex, clip);
                assert_same(ref, got, n * D * sizeof *got, "robust-scaled matrix", seed, t);
                assert_same(clip_r, clip, sizeof clip, "clipped counts", seed, t);
                free(got);
            }
            free(ref);
        }
        free(x);
    }
    /* by hand: 1..10, tail 0.1: m = 1, lo the 2nd smallest, hi the 2nd largest */
    double h[10] = {7, 3, 10, 1, 5, 9, 2, 8, 6, 4}, lo, med, hi;
    assert_int_equal(sgs_features_quantiles_ref(h, 10, 1, 0.1, &lo, &med, &hi, NULL), 0);
    sgs_assert_cmp(lo, ==, 2.0);
    sgs_assert_cmp(med, ==, 5.5);
    sgs_assert_cmp(hi, ==, 9.0);
}

static void test_quantiles_errors(void **state)
{
    (void)state;
    const size_t n = 3000;
    double *x = matrix_random(n, D, 9);
    x[2500 * D + 2] = INFINITY;
    x[10 * D + 4] = (double)NAN;
    x[40 * D + 2] = (double)NAN; /* column 2's first bad row */
    double lo[D], med[D], hi[D];
    sgs_error_t e_ref = {0};
    assert_int_equal(sgs_features_quantiles_ref(x, n, D, 0.01, lo, med, hi, &e_ref), SGS_EDATA);
    sgs_assert_contains(e_ref.message, "row 40 column 2");
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_error_t e = {0};
        assert_int_equal(sgs_features_quantiles(x, n, D, 0.01, &ex, lo, med, hi, &e), SGS_EDATA);
        assert_string_equal(e.message, e_ref.message);
    }
    sgs_error_t e = {0};
    assert_int_equal(sgs_features_quantiles_ref(x, n, D, 0.5, lo, med, hi, &e_ref), SGS_EINVAL);
    assert_int_equal(sgs_features_quantiles(x, n, D, 0.5, NULL, lo, med, hi, &e), SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
    free(x);
}

static void test_pca_transform(void **state)
{
    (void)state;
    for (size_t z = 1; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 900 + z;
        size_t n = sizes[z];
        double *x = matrix_random(n, D, seed);
        sgs_exec_t ex2 = {.n_threads = 2, .grain = 1};
        sgs_pca_t *pca = NULL;
        assert_int_equal(sgs_pca_fit(x, n, D, 0, 0.99, &ex2, &pca, NULL), 0);
        size_t m = pca->n_components;
        double *ref = malloc(n * m * sizeof *ref), *got = malloc(n * m * sizeof *got);
        assert_non_null(ref);
        assert_non_null(got);
        sgs_pca_transform_ref(pca, x, n, ref);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            sgs_pca_transform(pca, x, n, &ex, got);
            assert_same(ref, got, n * m * sizeof *got, "PCA projection", seed, t);
        }
        free(ref);
        free(got);
        sgs_pca_destroy(pca);
        free(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transform_moments_standardize),
        cmocka_unit_test(test_transform_errors),
        cmocka_unit_test(test_transform_ints),
        cmocka_unit_test(test_quantiles_and_robust_scale),
        cmocka_unit_test(test_quantiles_errors),
        cmocka_unit_test(test_pca_transform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
