/*
 * tests/unit/test_value_simulate.c — simulated histories and spend (kernels/value_simulate.h):
 * the parallel kernels against their serial twins on 1, 2 and 3 threads (the same bits: each
 * customer draws from its own stream), sanity of what is drawn, and the argument errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/value_simulate.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_histories_match_the_reference(void **state)
{
    (void)state;
    const sgs_purchase_model_t models[] = {SGS_MODEL_BGNBD, SGS_MODEL_MBGNBD, SGS_MODEL_PARETONBD};
    const double params[4] = {0.6, 12.0, 0.8, 2.5};
    const size_t sizes[] = {1, 999, 40000};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        double *T = malloc(n * sizeof *T), *x_ref = malloc(n * sizeof *x_ref),
               *t_ref = malloc(n * sizeof *t_ref), *x = malloc(n * sizeof *x),
               *t_x = malloc(n * sizeof *t_x);
        assert_true(T && x_ref && t_ref && x && t_x);
        for (size_t i = 0; i < n; i++)
            T[i] = (double)(i % 400) + 0.25 * (double)(i % 3);
        for (size_t k = 0; k < sizeof models / sizeof models[0]; k++)
            for (int grid = 0; grid <= 1; grid++) {
                uint64_t seed = 100 * z + 10 * k + (uint64_t)grid;
                assert_int_equal(sgs_simulate_histories_ref(models[k], params, T, n, seed,
                                                            (double)grid, x_ref, t_ref, NULL),
                                 0);
                for (size_t i = 0; i < n; i++) {
                    sgs_assert_cmp(x_ref[i], >=, 0.0);
                    sgs_assert_cmp(t_ref[i], <=, T[i]);
                }
                for (int t = 1; t <= 3; t++) {
                    sgs_exec_t ex = {.n_threads = t, .grain = 1};
                    assert_int_equal(sgs_simulate_histories(models[k], params, T, n, seed,
                                                            (double)grid, x, t_x, &ex, NULL),
                                     0);
                    if (memcmp(x, x_ref, n * sizeof *x) != 0 ||
                        memcmp(t_x, t_ref, n * sizeof *t_x) != 0)
                        fail_msg("seed %llu, model %zu, %d threads: not the reference's draws",
                                 (unsigned long long)seed, k, t);
                }
            }
        const double gg[3] = {6.25, 3.74, 15.44};
        uint64_t seed = 77 + z;
        assert_int_equal(sgs_simulate_spend_ref(gg, x_ref, n, seed, t_ref, NULL), 0);
        for (size_t i = 0; i < n; i++)
            sgs_assert_cmp(t_ref[i], ==, x_ref[i] > 0 ? t_ref[i] : 0.0);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            assert_int_equal(sgs_simulate_spend(gg, x_ref, n, seed, t_x, &ex, NULL), 0);
            if (memcmp(t_x, t_ref, n * sizeof *t_x) != 0)
                fail_msg("seed %llu, %d threads: spend differs from the reference",
                         (unsigned long long)seed, t);
        }
        free(T);
        free(x_ref);
        free(t_ref);
        free(x);
        free(t_x);
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    double T[2] = {10.0, -1.0}, x[2], t_x[2];
    const double ok[4] = {1, 1, 1, 1}, bad[4] = {1, 0, 1, 1};
    sgs_error_t e_ref = {0}, e = {0};
    assert_int_equal(sgs_simulate_histories_ref(SGS_MODEL_BGNBD, ok, T, 2, 1, 0, x, t_x, &e_ref),
                     SGS_EINVAL);
    assert_int_equal(sgs_simulate_histories(SGS_MODEL_BGNBD, ok, T, 2, 1, 0, x, t_x, NULL, &e),
                     SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
    assert_int_equal(sgs_simulate_histories_ref(SGS_MODEL_BGNBD, bad, T, 1, 1, 0, x, t_x, NULL),
                     SGS_EINVAL);
    assert_int_equal(sgs_simulate_histories_ref(SGS_MODEL_BGNBD, ok, T, 1, 1, -1, x, t_x, NULL),
                     SGS_EINVAL);
    const double gg_bad[3] = {1, 1, NAN};
    assert_int_equal(sgs_simulate_spend_ref(gg_bad, x, 1, 1, t_x, NULL), SGS_EINVAL);
    assert_int_equal(sgs_simulate_spend(gg_bad, x, 1, 1, t_x, NULL, NULL), SGS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histories_match_the_reference),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
