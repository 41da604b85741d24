/*
 * tests/unit/test_kchoice_twins.c — the Calinski-Harabasz index and the sampled silhouette
 * (kernels/kchoice.h) against their serial reference twins on 1, 2 and 3 threads: the kernels
 * give the same bits for every thread count, and equal the twins to a relative KCHOICE_TOL
 * (the kernels sum per block and take distances from the SIMD distance kernel, so the roundings
 * differ).
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

#define KCHOICE_TOL 1e-10

/* n rows of d columns around k - 1 centres (label k - 1 stays empty), 10% of the labels wrong. */
static void blobs(size_t n, size_t d, size_t k, uint64_t seed, double **x_out, int32_t **l_out)
{
    double *x = malloc((n * d + 1) * sizeof *x);
    int32_t *l = malloc((n + 1) * sizeof *l);
    assert_true(x && l);
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)(sgs_rng_u64(seed, 0, i) % (k - 1));
        for (size_t f = 0; f < d; f++)
            x[i * d + f] = 4.0 * (double)j * (f % 2 ? -1.0 : 1.0) +
                           3.0 * (sgs_rng_uniform(seed, 1 + f, i) - 0.5);
        l[i] = sgs_rng_uniform(seed, 9, i) < 0.1 ? (int32_t)((j + 1) % (k - 1)) : (int32_t)j;
    }
    *x_out = x;
    *l_out = l;
}

static void assert_near(double ref, double got, const char *what, uint64_t seed)
{
    if (isnan(ref) && isnan(got))
        return;
    if (!(fabs(got - ref) <= KCHOICE_TOL * fabs(ref)))
        fail_msg("%s, seed %llu: kernel %.17g, reference %.17g", what, (unsigned long long)seed,
                 got, ref);
}

static void test_match_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 50, 3000, 20011};
    const size_t samples[] = {0, 0, 0, 0, 1500};
    const size_t d = 3, k = 5;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 60 + z;
        size_t n = sizes[z];
        double *x;
        int32_t *l;
        blobs(n, d, k, seed, &x, &l);
        double ch_ref, sil_ref, ch[3], sil[3];
        assert_int_equal(sgs_kchoice_calinski_harabasz_ref(x, n, d, l, k, &ch_ref, NULL), 0);
        assert_int_equal(
            sgs_kchoice_silhouette_ref(x, n, d, l, k, samples[z], seed, &sil_ref, NULL), 0);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            assert_int_equal(sgs_kchoice_calinski_harabasz(x, n, d, l, k, &ex, &ch[t - 1], NULL),
                             0);
            assert_int_equal(
                sgs_kchoice_silhouette(x, n, d, l, k, samples[z], seed, &ex, &sil[t - 1], NULL), 0);
            if (memcmp(&ch[t - 1], &ch[0], sizeof ch[0]) != 0 ||
                memcmp(&sil[t - 1], &sil[0], sizeof sil[0]) != 0)
                fail_msg("seed %llu: %d threads give other bits than 1", (unsigned long long)seed,
                         t);
        }
        assert_near(ch_ref, ch[0], "Calinski-Harabasz", seed);
        assert_near(sil_ref, sil[0], "silhouette", seed);
        if (n >= 50) {
            sgs_assert_cmp(ch_ref, >, 1.0);
            sgs_assert_cmp(sil_ref, >, 0.0);
        } else {
            sgs_assert_nan(ch_ref);
        }
        free(x);
        sgs_free(l);
    }
}

static void test_bad_label(void **state)
{
    (void)state;
    double *x;
    int32_t *l;
    blobs(100, 2, 3, 5, &x, &l);
    l[70] = 3;
    sgs_error_t e_ref = {0}, e = {0};
    double score;
    assert_int_equal(sgs_kchoice_calinski_harabasz_ref(x, 100, 2, l, 3, &score, &e_ref),
                     SGS_EINVAL);
    assert_int_equal(sgs_kchoice_calinski_harabasz(x, 100, 2, l, 3, NULL, &score, &e), SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
    assert_int_equal(sgs_kchoice_silhouette_ref(x, 100, 2, l, 3, 0, 1, &score, &e_ref), SGS_EINVAL);
    assert_int_equal(sgs_kchoice_silhouette(x, 100, 2, l, 3, 0, 1, NULL, &score, &e), SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
    free(x);
    sgs_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_the_reference),
        cmocka_unit_test(test_bad_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
