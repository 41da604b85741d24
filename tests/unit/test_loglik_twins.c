/*
 * tests/unit/test_loglik_twins.c — the likelihood sums of BG/NBD, MBG/NBD, Pareto/NBD and
 * Gamma-Gamma against their serial reference twins (the per-history terms summed in order) on
 * 1, 2 and 3 threads: the kernels are the same bits for every thread count, and equal to the
 * twins to a relative LOGLIK_TOL (the kernels share terms per distinct value and sum per
 * block, so the roundings differ).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/bgnbd.h"
#include "kernels/gammagamma.h"
#include "kernels/histories.h"
#include "kernels/mbgnbd.h"
#include "kernels/paretonbd.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOGLIK_TOL 1e-12

/* n random histories (x 0..30, T in weeks, whole or not) built into *h; x and m (mean spend,
 * some <= 0 or not finite) returned for Gamma-Gamma. */
static void random_histories(sgs_histories_t *h, size_t n, int whole, uint64_t seed, double **xs,
                             double **ms)
{
    uint64_t s = seed;
    double *x = malloc(n * sizeof *x), *t_x = malloc(n * sizeof *t_x), *T = malloc(n * sizeof *T);
    double *m = malloc(n * sizeof *m);
    assert_true(x && t_x && T && m);
    for (size_t i = 0; i < n; i++) {
        T[i] = whole ? (double)(1 + sgs_test_next(&s) % 78) : 0.5 + 77.0 * sgs_test_uniform(&s);
        x[i] = sgs_test_uniform(&s) < 0.45 ? 0.0 : (double)(sgs_test_next(&s) % 31);
        t_x[i] = x[i] == 0.0 ? 0.0
                 : whole     ? (double)(sgs_test_next(&s) % ((uint64_t)T[i] + 1))
                             : T[i] * sgs_test_uniform(&s);
        double u = sgs_test_uniform(&s);
        m[i] = u < 0.05 ? -3.0 : u < 0.07 ? 0.0 : u < 0.08 ? (double)INFINITY : 1.0 + 300.0 * u;
    }
    sgs_exec_t ex = {.n_threads = 1};
    assert_int_equal(sgs_histories_build(h, x, t_x, T, NULL, n, &ex, NULL), 0);
    free(t_x);
    free(T);
    *xs = x;
    *ms = m;
}

/* The kernel at 1, 2 and 3 threads: the same bits each time; *ll the value. */
typedef int (*loglik_fn)(const double *, const sgs_histories_t *, double *, double *,
                         const sgs_exec_t *, sgs_error_t *);

static double threads_agree(loglik_fn f, const double *p, const sgs_histories_t *h, uint64_t seed)
{
    double ll[3], grad[3][4];
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        assert_int_equal(f(p, h, &ll[t - 1], grad[t - 1], &ex, NULL), 0);
        if (memcmp(&ll[t - 1], &ll[0], sizeof ll[0]) != 0 ||
            memcmp(grad[t - 1], grad[0], sizeof grad[0]) != 0)
            fail_msg("seed %llu: %d threads give other bits than 1", (unsigned long long)seed, t);
    }
    return ll[0];
}

static void test_purchase_likelihoods_match_the_reference(void **state)
{
    (void)state;
    /* Pareto/NBD: alpha >= beta and alpha < beta take different branches */
    const double bg[][4] = {{0.243, 4.414, 0.793, 2.426}, {2.0, 0.5, 3.0, 0.2}};
    const double pn[][4] = {{0.553, 10.578, 0.606, 11.669}, {0.553, 12.0, 0.606, 3.0}};
    const size_t sizes[] = {1, 2000, 40000};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int whole = 0; whole <= 1; whole++) {
            uint64_t seed = 31 * z + (uint64_t)whole;
            sgs_histories_t h;
            double *x, *m;
            random_histories(&h, sizes[z], whole, seed, &x, &m);
            for (int k = 0; k < 2; k++) {
                double ref;
                assert_int_equal(sgs_bgnbd_loglik_ref(bg[k], &h, &ref, NULL), 0);
                sgs_assert_close(threads_agree(sgs_bgnbd_loglik, bg[k], &h, seed), ref, 0,
                                 LOGLIK_TOL);
                assert_int_equal(sgs_mbgnbd_loglik_ref(bg[k], &h, &ref, NULL), 0);
                sgs_assert_close(threads_agree(sgs_mbgnbd_loglik, bg[k], &h, seed), ref, 0,
                                 LOGLIK_TOL);
                assert_int_equal(sgs_paretonbd_loglik_ref(pn[k], &h, &ref, NULL), 0);
                sgs_assert_close(threads_agree(sgs_paretonbd_loglik, pn[k], &h, seed), ref, 0,
                                 LOGLIK_TOL);
            }
            const double bad[4] = {0.2, 0.0, 1.0, 1.0};
            double ll;
            assert_int_equal(sgs_bgnbd_loglik_ref(bad, &h, &ll, NULL), SGS_EINVAL);
            assert_int_equal(sgs_mbgnbd_loglik_ref(bad, &h, &ll, NULL), SGS_EINVAL);
            assert_int_equal(sgs_paretonbd_loglik_ref(bad, &h, &ll, NULL), SGS_EINVAL);
            sgs_histories_free(&h);
            free(x);
            free(m);
        }
}

static void test_spend_likelihood_matches_the_reference(void **state)
{
    (void)state;
    const double gg[][3] = {{6.25, 3.74, 15.44}, {0.8, 1.6, 40.0}};
    const size_t sizes[] = {1, 3000, 50000};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 700 + z;
        sgs_histories_t h;
        double *x, *m;
        random_histories(&h, sizes[z], 1, seed, &x, &m);
        size_t n = sizes[z];
        x[0] = 1.0; /* at least one usable customer */
        m[0] = 12.0;
        for (int k = 0; k < 2; k++) {
            double ref, ll[3], grad[3][3];
            assert_int_equal(sgs_gg_loglik_ref(gg[k], x, m, n, &ref, NULL), 0);
            for (int t = 1; t <= 3; t++) {
                sgs_exec_t ex = {.n_threads = t, .grain = 1};
                assert_int_equal(sgs_gg_loglik(gg[k], x, m, n, &ll[t - 1], grad[t - 1], &ex, NULL),
                                 0);
                assert_memory_equal(&ll[t - 1], &ll[0], sizeof ll[0]);
                assert_memory_equal(grad[t - 1], grad[0], sizeof grad[0]);
            }
            sgs_assert_close(ll[0], ref, 0, LOGLIK_TOL);
        }
        /* a bad x: the same code and message */
        x[n - 1] = 2.5;
        sgs_error_t e_ref = {0}, e = {0};
        double ll;
        sgs_exec_t ex = {.n_threads = 3, .grain = 1};
        assert_int_equal(sgs_gg_loglik_ref(gg[0], x, m, n, &ll, &e_ref), SGS_EDATA);
        assert_int_equal(sgs_gg_loglik(gg[0], x, m, n, &ll, NULL, &ex, &e), SGS_EDATA);
        assert_string_equal(e.message, e_ref.message);
        sgs_histories_free(&h);
        free(x);
        free(m);
    }
}

/* A fit that ran to its end: converged, or not within its iterations (random histories need
 * not follow the model), with a finite log-likelihood either way. */
#define fit_ran(call)                                                                              \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        assert_true(rc_ == SGS_OK || rc_ == SGS_ENOCONVERGE);                                      \
        assert_true(isfinite(fit.log_likelihood));                                                 \
    } while (0)

/* The fits keep their last evaluations by the parameters' bits (kernels/bgnbd.c,
 * gammagamma.c) and answer a point seen again from them: the fitted log-likelihood, asked again
 * at the optimum, must be the bits a fresh evaluation gives there. Three starts each, so that
 * the best start is met again when its descent begins; 1 and 2 threads. */
static void test_fits_answer_seen_points_as_fresh(void **state)
{
    (void)state;
    for (int whole = 0; whole <= 1; whole++) {
        uint64_t seed = 4100 + (uint64_t)whole;
        sgs_histories_t h;
        double *x, *m;
        size_t n = 20000;
        random_histories(&h, n, whole, seed, &x, &m);
        for (int t = 1; t <= 2; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            sgs_model_fit_options_t o = sgs_model_fit_default_options();
            sgs_fit_t fit;
            double ll;
            fit_ran(sgs_bgnbd_fit(&h, &o, &fit, &ex, NULL));
            assert_int_equal(sgs_bgnbd_loglik(fit.params, &h, &ll, NULL, &ex, NULL), 0);
            assert_memory_equal(&ll, &fit.log_likelihood, sizeof ll);
            fit_ran(sgs_mbgnbd_fit(&h, &o, &fit, &ex, NULL));
            assert_int_equal(sgs_mbgnbd_loglik(fit.params, &h, &ll, NULL, &ex, NULL), 0);
            assert_memory_equal(&ll, &fit.log_likelihood, sizeof ll);
            fit_ran(sgs_gg_fit(x, m, n, &o, &fit, NULL, &ex, NULL));
            assert_int_equal(sgs_gg_loglik(fit.params, x, m, n, &ll, NULL, &ex, NULL), 0);
            assert_memory_equal(&ll, &fit.log_likelihood, sizeof ll);
        }
        sgs_histories_free(&h);
        free(x);
        free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_purchase_likelihoods_match_the_reference),
        cmocka_unit_test(test_spend_likelihood_matches_the_reference),
        cmocka_unit_test(test_fits_answer_seen_points_as_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
