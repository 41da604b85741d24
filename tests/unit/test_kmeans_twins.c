/*
 * tests/unit/test_kmeans_twins.c — greedy k-means++ seeding (kernels/kmeans.h) against its
 * serial reference twin on 1, 2 and 3 threads, with and without weights, on one block of rows
 * and on several: the same centers and rows chosen, bitwise (on several blocks the kernel's
 * sums go by block; these fixed data have no draw within rounding of a tie, see the header);
 * and k-means|| against its twin the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/kmeans.h"
#include "tests/support/test_support.h"

#include <stdlib.h>
#include <string.h>

static void test_plusplus_matches_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 10, 5000, 16384, 40000};
    const size_t ks[] = {1, 3, 8};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (size_t d = 2; d <= 5; d += 3) {
            size_t n = sizes[z];
            uint64_t seed = 900 + 10 * z + d;
            double *x = malloc(n * d * sizeof *x), *w = malloc(n * sizeof *w);
            assert_non_null(x);
            assert_non_null(w);
            for (size_t i = 0; i < n; i++) {
                size_t blob = (size_t)(sgs_rng_u64(seed, 0, i) % 6);
                for (size_t f = 0; f < d; f++)
                    x[i * d + f] = 5.0 * (double)((blob + f) % 6) + sgs_rng_uniform(seed, 1 + f, i);
                w[i] = 0.5 + 2.0 * sgs_rng_uniform(seed, 9, i);
            }
            for (size_t kk = 0; kk < sizeof ks / sizeof ks[0]; kk++) {
                size_t k = ks[kk] <= n ? ks[kk] : n;
                for (int weighted = 0; weighted <= 1; weighted++) {
                    const double *wt = weighted ? w : NULL;
                    double c_ref[8 * 5], c_got[8 * 5];
                    size_t i_ref[8], i_got[8];
                    assert_int_equal(
                        sgs_kmeans_plusplus_ref(x, n, d, wt, k, 0, seed, 3, c_ref, i_ref, NULL), 0);
                    for (int t = 1; t <= 3; t++) {
                        sgs_exec_t ex = {.n_threads = t, .grain = 1};
                        assert_int_equal(sgs_kmeans_plusplus(x, n, d, wt, k, 0, seed, 3, &ex, c_got,
                                                             i_got, NULL),
                                         0);
                        if (memcmp(i_ref, i_got, k * sizeof *i_ref) != 0 ||
                            memcmp(c_ref, c_got, k * d * sizeof *c_ref) != 0)
                            fail_msg("seed %llu, n %zu, d %zu, k %zu, weighted %d, %d threads: "
                                     "not the reference's centers",
                                     (unsigned long long)seed, n, d, k, weighted, t);
                    }
                }
            }
            free(x);
            free(w);
        }
    double x1[2] = {1, 2}, c[2];
    sgs_error_t e_ref = {0}, e = {0};
    assert_int_equal(sgs_kmeans_plusplus_ref(x1, 1, 2, NULL, 2, 0, 1, 1, c, NULL, &e_ref),
                     SGS_EINVAL);
    assert_int_equal(sgs_kmeans_plusplus(x1, 1, 2, NULL, 2, 0, 1, 1, NULL, c, NULL, &e),
                     SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
}

/* k-means|| against its twin, 1, 2 and 3 threads, on one block and on several, unweighted and
 * with whole-number weights (so the kernel's block sums and the twin's running sums are the
 * same numbers), and with too few rounds for k (the fallback to k-means++): bitwise. */
static void test_parallel_init_matches_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {40, 5000, 40000};
    const size_t ks[] = {3, 8};
    const size_t d = 3;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        uint64_t seed = 700 + z;
        double *x = malloc(n * d * sizeof *x), *w = malloc(n * sizeof *w);
        assert_non_null(x);
        assert_non_null(w);
        for (size_t i = 0; i < n; i++) {
            size_t blob = (size_t)(sgs_rng_u64(seed, 0, i) % 7);
            for (size_t f = 0; f < d; f++)
                x[i * d + f] =
                    4.0 * (double)((blob * (f + 1)) % 7) + sgs_rng_uniform(seed, 1 + f, i);
            w[i] = (double)(1 + sgs_rng_u64(seed, 9, i) % 3);
        }
        for (size_t kk = 0; kk < sizeof ks / sizeof ks[0]; kk++)
            for (int weighted = 0; weighted <= 1; weighted++)
                for (int rounds = 1; rounds <= 5; rounds += 4) {
                    size_t k = ks[kk];
                    const double *wt = weighted ? w : NULL;
                    double oversampling = rounds == 1 ? 0.01 : 2.0; /* 0.01: too few */
                    double c_ref[8 * 3], c_got[8 * 3];
                    assert_int_equal(sgs_kmeans_parallel_init_ref(x, n, d, wt, k, oversampling,
                                                                  rounds, seed, 5, c_ref, NULL),
                                     0);
                    for (int t = 1; t <= 3; t++) {
                        sgs_exec_t ex = {.n_threads = t, .grain = 1};
                        assert_int_equal(sgs_kmeans_parallel_init(x, n, d, wt, k, oversampling,
                                                                  rounds, seed, 5, &ex, c_got,
                                                                  NULL),
                                         0);
                        if (memcmp(c_ref, c_got, k * d * sizeof *c_ref) != 0)
                            fail_msg("n %zu, k %zu, weighted %d, %d rounds, %d threads: not the "
                                     "reference's centers (first %.17g against %.17g)",
                                     n, k, weighted, rounds, t, c_got[0], c_ref[0]);
                    }
                }
        free(x);
        free(w);
    }
    double x1[2] = {1, 2}, c[2];
    sgs_error_t e_ref = {0}, e = {0};
    assert_int_equal(sgs_kmeans_parallel_init_ref(x1, 1, 2, NULL, 2, 2.0, 5, 1, 1, c, &e_ref),
                     SGS_EINVAL);
    assert_int_equal(sgs_kmeans_parallel_init(x1, 1, 2, NULL, 2, 2.0, 5, 1, 1, NULL, c, &e),
                     SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plusplus_matches_the_reference),
        cmocka_unit_test(test_parallel_init_matches_the_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
