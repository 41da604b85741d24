/*
 * tests/unit/test_segment_profile.c — the numbers around a segmentation
 * (kernels/segment_profile.h): typed columns gathered into a feature matrix (a divisor of 1
 * leaves values exactly, -0 and NaN included), distances to the centres (a 3-4-5 triangle),
 * per-segment sums and counts by hand; the gather and the distances against their serial twins
 * bit for bit on 1, 2 and 3 threads (grain 1) on random data whose seed is printed on failure;
 * the sums against sums added in customer order, bit for bit, and the counts, on 1 to 4
 * threads, with the first customer out of range named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/segment_profile.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void test_gather_by_hand(void **state)
{
    (void)state;
    const int32_t days[3] = {14, 0, 3};
    const double money[3] = {-0.0, NAN, 2.5};
    const double matrix[6] = {1, 10, 2, 20, 3, 30}; /* 3 x 2, the second column taken */
    sgs_feature_column_t cols[3] = {
        {NULL, 0, days, 7.0}, {money, 1, NULL, 1.0}, {matrix + 1, 2, NULL, 1.0}};
    double x[9], ref[9];
    sgs_exec_t ex = {.n_threads = 2, .grain = 1};
    sgs_assert_cmp(sgs_features_gather(cols, 3, 3, &ex, x, NULL), ==, SGS_OK);
    sgs_assert_cmp(x[0], ==, 2.0); /* 14 days = 2 weeks */
    sgs_assert_cmp(x[3], ==, 0.0);
    sgs_assert_close(x[6], 3.0 / 7.0, 0, 1e-16);
    if (!signbit(x[1])) /* -0 stays -0 */
        fail_msg("x[1]: expected -0, got %g", x[1]);
    sgs_assert_nan(x[4]);
    sgs_assert_cmp(x[7], ==, 2.5);
    sgs_assert_cmp(x[2], ==, 10.0);
    sgs_assert_cmp(x[5], ==, 20.0);
    sgs_assert_cmp(x[8], ==, 30.0);
    sgs_assert_cmp(sgs_features_gather_ref(cols, 3, 3, ref, NULL), ==, SGS_OK);
    assert_memory_equal(ref, x, sizeof x);
    sgs_feature_column_t empty = {NULL, 0, NULL, 1.0};
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_features_gather(&empty, 1, 3, NULL, x, &err), ==, SGS_EINVAL);
    sgs_assert_cmp(sgs_features_gather(cols, 0, 3, NULL, x, &err), ==, SGS_EINVAL);
}

static void test_distances_by_hand(void **state)
{
    (void)state;
    const double x[6] = {3, 4, 1, 1, 0, 0}; /* 3 rows, 2 columns */
    const double centers[4] = {0, 0, 1, 2}; /* 2 centres */
    const int32_t labels[3] = {0, 1, 1};    /* rows 1 and 2 on the second */
    double dist[3], ref[3];
    sgs_exec_t ex = {.n_threads = 3, .grain = 1};
    sgs_assert_cmp(sgs_segment_distances(x, 3, 2, centers, 2, labels, &ex, dist, NULL), ==, SGS_OK);
    sgs_assert_cmp(dist[0], ==, 5.0);
    sgs_assert_cmp(dist[1], ==, 1.0);
    sgs_assert_close(dist[2], sqrt(5.0), 0, 1e-16);
    sgs_assert_cmp(sgs_segment_distances_ref(x, 3, 2, centers, 2, labels, ref, NULL), ==, SGS_OK);
    assert_memory_equal(ref, dist, sizeof dist);
    const int32_t bad[3] = {0, 2, 1};
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_segment_distances(x, 3, 2, centers, 2, bad, NULL, dist, &err), ==,
                   SGS_EINVAL);
    sgs_assert_contains(err.message, "row 1 ");
}

static void test_threads_and_twins(void **state)
{
    (void)state;
    enum { n = 3 * 16384 + 77, d = 5, k = 6 };
    static double m[n * d], f64[n], x_ref[n * d], x_got[n * d], centers[k * d];
    static double dist_ref[n], dist_got[n];
    static int32_t i32[n], labels[n];
    const uint64_t seed = 29;
    for (size_t i = 0; i < n * d; i++)
        m[i] = sgs_rng_uniform(seed, 0, i) * 10.0 - 5.0;
    for (size_t c = 0; c < n; c++) {
        f64[c] = sgs_rng_uniform(seed, 1, c) * 1000.0;
        i32[c] = (int32_t)(sgs_rng_u64(seed, 2, c) % 2000);
        labels[c] = (int32_t)(sgs_rng_u64(seed, 3, c) % k);
    }
    for (size_t e = 0; e < k * d; e++)
        centers[e] = sgs_rng_uniform(seed, 4, e);
    sgs_feature_column_t cols[d] = {{NULL, 0, i32, 7.0},
                                    {f64, 1, NULL, 1.0},
                                    {m + 2, d, NULL, 1.0},
                                    {NULL, 0, i32, 1.0},
                                    {m, d, NULL, 3.0}};
    sgs_assert_cmp(sgs_features_gather_ref(cols, d, n, x_ref, NULL), ==, SGS_OK);
    sgs_assert_cmp(sgs_segment_distances_ref(x_ref, n, d, centers, k, labels, dist_ref, NULL), ==,
                   SGS_OK);
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_assert_cmp(sgs_features_gather(cols, d, n, &ex, x_got, NULL), ==, SGS_OK);
        sgs_assert_cmp(sgs_segment_distances(x_ref, n, d, centers, k, labels, &ex, dist_got, NULL),
                       ==, SGS_OK);
        if (memcmp(x_got, x_ref, sizeof x_got) != 0 || memcmp(dist_got, dist_ref, sizeof dist_got))
            fail_msg("seed %llu, %d threads: not the reference's bits", (unsigned long long)seed,
                     t);
    }
}

static void test_sums_and_counts_by_hand(void **state)
{
    (void)state;
    const int32_t labels[5] = {1, 0, 1, 1, 0};
    const double spend[5] = {10, 1, 20, 30, 2};
    const int32_t days[5] = {7, 14, 21, 0, 7};
    const uint8_t code[5] = {2, 0, 2, 1, 0};
    sgs_feature_column_t cols[2] = {{spend, 1, NULL, 1.0}, {NULL, 0, days, 7.0}};
    double sums[3 * 2];
    sgs_assert_cmp(sgs_segment_sums(cols, 2, 5, labels, 3, NULL, sums, NULL), ==, SGS_OK);
    sgs_assert_cmp(sums[0], ==, 3.0);  /* segment 0: spend 1 + 2 */
    sgs_assert_cmp(sums[1], ==, 3.0);  /* weeks 2 + 1 */
    sgs_assert_cmp(sums[2], ==, 60.0); /* segment 1 */
    sgs_assert_cmp(sums[3], ==, 4.0);
    sgs_assert_cmp(sums[4], ==, 0.0); /* segment 2 is empty */
    sgs_assert_cmp(sums[5], ==, 0.0);
    size_t size[3], mix[3 * 3];
    sgs_assert_cmp(sgs_segment_counts(5, labels, 3, NULL, 0, NULL, size, NULL), ==, SGS_OK);
    sgs_assert_cmp(size[0], ==, 2);
    sgs_assert_cmp(size[1], ==, 3);
    sgs_assert_cmp(size[2], ==, 0);
    sgs_assert_cmp(sgs_segment_counts(5, labels, 3, code, 3, NULL, mix, NULL), ==, SGS_OK);
    sgs_assert_cmp(mix[0 * 3 + 0], ==, 2);
    sgs_assert_cmp(mix[1 * 3 + 1], ==, 1);
    sgs_assert_cmp(mix[1 * 3 + 2], ==, 2);
    sgs_assert_cmp(mix[2 * 3 + 0] + mix[2 * 3 + 1] + mix[2 * 3 + 2], ==, 0);
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_segment_counts(5, labels, 3, code, 2, NULL, mix, &err), ==, SGS_EINVAL);
    sgs_assert_contains(err.message, "code 2");
    sgs_assert_cmp(sgs_segment_sums(cols, 2, 5, labels, 1, NULL, sums, &err), ==, SGS_EINVAL);
}

/* The sums added one customer after another (the order the kernel keeps per column). */
static void sums_in_customer_order(const sgs_feature_column_t *cols, size_t d, size_t n,
                                   const int32_t *labels, double *sums)
{
    for (size_t c = 0; c < n; c++)
        for (size_t f = 0; f < d; f++)
            sums[(size_t)labels[c] * d + f] += sgs_feature_column_value(&cols[f], c);
}

static void test_sums_and_counts_any_threads(void **state)
{
    (void)state;
    enum { n = 3 * 16384 + 77, d = 5, k = 7, n_codes = 4 };
    static double f64[n], m[n * 2];
    static int32_t i32[n], labels[n];
    static uint8_t code[n];
    const uint64_t seed = 31;
    for (size_t c = 0; c < n; c++) {
        f64[c] = (sgs_rng_uniform(seed, 1, c) - 0.3) * 1e6; /* mixed signs and magnitudes */
        m[2 * c] = sgs_rng_uniform(seed, 2, c) * 1e-3;
        m[2 * c + 1] = sgs_rng_uniform(seed, 3, c);
        i32[c] = (int32_t)(sgs_rng_u64(seed, 4, c) % 5000);
        labels[c] = (int32_t)(sgs_rng_u64(seed, 5, c) % (k - 1)); /* the last segment empty */
        code[c] = (uint8_t)(sgs_rng_u64(seed, 6, c) % n_codes);
    }
    sgs_feature_column_t cols[d] = {{f64, 1, NULL, 1.0},
                                    {NULL, 0, i32, 7.0},
                                    {m, 2, NULL, 1.0},
                                    {m + 1, 2, NULL, 3.0},
                                    {NULL, 0, i32, 1.0}};
    double ref[k * d] = {0}, ref_add[k * d], got[k * d];
    sums_in_customer_order(cols, d, n, labels, ref);
    for (size_t e = 0; e < k * d; e++)
        ref_add[e] = 0.1 * (double)e; /* continuing sums already there */
    sums_in_customer_order(cols, d, n, labels, ref_add);
    size_t size_ref[k] = {0}, mix_ref[k * n_codes] = {0}, size[k], mix[k * n_codes];
    for (size_t c = 0; c < n; c++) {
        size_ref[labels[c]]++;
        mix_ref[(size_t)labels[c] * n_codes + code[c]]++;
    }
    for (int t = 1; t <= 4; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_assert_cmp(sgs_segment_sums(cols, d, n, labels, k, &ex, got, NULL), ==, SGS_OK);
        if (memcmp(got, ref, sizeof got) != 0)
            fail_msg("%d threads: the sums are not those added in customer order", t);
        for (size_t e = 0; e < k * d; e++)
            got[e] = 0.1 * (double)e;
        sgs_assert_cmp(sgs_segment_sums_add(cols, d, n, labels, k, &ex, got, NULL), ==, SGS_OK);
        if (memcmp(got, ref_add, sizeof got) != 0)
            fail_msg("%d threads: the continued sums are not those added in customer order", t);
        sgs_assert_cmp(sgs_segment_counts(n, labels, k, NULL, 0, &ex, size, NULL), ==, SGS_OK);
        assert_memory_equal(size, size_ref, sizeof size);
        sgs_assert_cmp(sgs_segment_counts(n, labels, k, code, n_codes, &ex, mix, NULL), ==, SGS_OK);
        assert_memory_equal(mix, mix_ref, sizeof mix);
    }
    /* the first customer out of range is named, wherever the threads meet it */
    labels[40000] = k;
    labels[20000] = -1;
    code[30000] = n_codes;
    code[45000] = n_codes + 3;
    for (int t = 1; t <= 4; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_error_t err = {0};
        sgs_assert_cmp(sgs_segment_sums(cols, d, n, labels, k, &ex, got, &err), ==, SGS_EINVAL);
        sgs_assert_contains(err.message, "row 20000 has label -1");
        sgs_assert_cmp(sgs_segment_counts(n, labels, k, NULL, 0, &ex, size, &err), ==, SGS_EINVAL);
        sgs_assert_contains(err.message, "row 20000 has label -1");
        labels[20000] = labels[40000] = 0;
        sgs_assert_cmp(sgs_segment_counts(n, labels, k, code, n_codes, &ex, mix, &err), ==,
                       SGS_EINVAL);
        sgs_assert_contains(err.message, "row 30000 has code 4");
        labels[40000] = k;
        labels[20000] = -1;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_by_hand),
        cmocka_unit_test(test_distances_by_hand),
        cmocka_unit_test(test_threads_and_twins),
        cmocka_unit_test(test_sums_and_counts_by_hand),
        cmocka_unit_test(test_sums_and_counts_any_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
