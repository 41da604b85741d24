/*
 * tests/unit/test_histories_clv_twins.c — the history table and the CLV scores against their
 * serial reference twins (kernels/histories.h, kernels/clv.h) on 1, 2 and 3 threads, on
 * crafted and random histories: the same bytes and the same return codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/calibration.h"
#include "kernels/clv.h"
#include "kernels/histories.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct hist_input {
    size_t n;
    double *x, *t_x, *T, *w, *m;
} hist_input_t;

/* n histories: x in 0..40, T whole weeks (few distinct values: the dense (x, T) table) or any
 * real (many: the per-history path), t_x <= T, some -0.0; weights, mean spends. */
static void random_input(hist_input_t *in, size_t n, int continuous, uint64_t seed)
{
    uint64_t s = seed;
    in->n = n;
    in->x = malloc(n * sizeof(double));
    in->t_x = malloc(n * sizeof(double));
    in->T = malloc(n * sizeof(double));
    in->w = malloc(n * sizeof(double));
    in->m = malloc(n * sizeof(double));
    assert_true(in->x && in->t_x && in->T && in->w && in->m);
    for (size_t i = 0; i < n; i++) {
        double T = continuous ? 78.0 * sgs_test_uniform(&s) : (double)(sgs_test_next(&s) % 79);
        double x = sgs_test_uniform(&s) < 0.4 ? 0.0 : (double)(sgs_test_next(&s) % 41);
        double t_x = x == 0.0     ? (sgs_test_next(&s) % 5 == 0 ? -0.0 : 0.0)
                     : continuous ? T * sgs_test_uniform(&s)
                                  : (double)(sgs_test_next(&s) % ((uint64_t)T + 1));
        in->x[i] = x;
        in->t_x[i] = t_x;
        in->T[i] = T;
        in->w[i] = 0.25 + (double)(sgs_test_next(&s) % 8) * 0.5;
        in->m[i] = x > 0 ? 5.0 + 200.0 * sgs_test_uniform(&s) : 0.0;
    }
}

static void input_free(hist_input_t *in)
{
    free(in->x);
    free(in->t_x);
    free(in->T);
    free(in->w);
    free(in->m);
}

static void assert_same(const void *a, const void *b, size_t bytes, const char *what, uint64_t seed,
                        int threads)
{
    if ((a == NULL) != (b == NULL) || (bytes && memcmp(a, b, bytes) != 0))
        fail_msg("seed %llu, %d threads: %s differs from the reference", (unsigned long long)seed,
                 threads, what);
}

static void assert_tables_equal(const sgs_histories_t *a, const sgs_histories_t *b, uint64_t seed,
                                int t)
{
    assert_int_equal(a->n_customers, b->n_customers);
    assert_int_equal(a->n_unique, b->n_unique);
    assert_int_equal(a->n_x_values, b->n_x_values);
    assert_int_equal(a->n_t_x_values, b->n_t_x_values);
    assert_int_equal(a->n_T_values, b->n_T_values);
    assert_same(&a->total_weight, &b->total_weight, sizeof(double), "total_weight", seed, t);
    size_t m = a->n_unique, d = sizeof(double), u = sizeof(uint32_t);
    assert_same(a->x, b->x, m * d, "x", seed, t);
    assert_same(a->t_x, b->t_x, m * d, "t_x", seed, t);
    assert_same(a->T, b->T, m * d, "T", seed, t);
    assert_same(a->count, b->count, m * d, "count", seed, t);
    assert_same(a->x_id, b->x_id, m * u, "x_id", seed, t);
    assert_same(a->t_x_id, b->t_x_id, m * u, "t_x_id", seed, t);
    assert_same(a->T_id, b->T_id, m * u, "T_id", seed, t);
    assert_same(a->x_values, b->x_values, a->n_x_values * d, "x_values", seed, t);
    assert_same(a->t_x_values, b->t_x_values, a->n_t_x_values * d, "t_x_values", seed, t);
    assert_same(a->T_values, b->T_values, a->n_T_values * d, "T_values", seed, t);
    assert_same(a->count_by_x, b->count_by_x, a->n_x_values * d, "count_by_x", seed, t);
    assert_same(a->history_of, b->history_of, a->n_customers * u, "history_of", seed, t);
}

/* Random tables, with and without weights, against the twin. */
static void test_histories_match_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 3, 4097, 30011};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int continuous = 0; continuous <= 1; continuous++)
            for (int weighted = 0; weighted <= 1; weighted++) {
                uint64_t seed = 100 * z + 10 * (uint64_t)continuous + (uint64_t)weighted;
                hist_input_t in;
                random_input(&in, sizes[z], continuous, seed);
                const double *w = weighted ? in.w : NULL;
                sgs_histories_t ref, got;
                assert_int_equal(sgs_histories_build_ref(&ref, in.x, in.t_x, in.T, w, in.n, NULL),
                                 0);
                for (int t = 1; t <= 3; t++) {
                    sgs_exec_t ex = {.n_threads = t, .grain = 1};
                    assert_int_equal(
                        sgs_histories_build(&got, in.x, in.t_x, in.T, w, in.n, &ex, NULL), 0);
                    assert_tables_equal(&ref, &got, seed, t);
                    sgs_histories_free(&got);
                }
                sgs_histories_free(&ref);
                input_free(&in);
            }
}

/* Whole numbers at the edge of the table kernels/histories.c ranks them in (below 2^16), past
 * it, and a column that is whole but for its last row, against the twin on 1, 2 and 3
 * threads. */
static void test_histories_whole_numbers_at_the_table_edge(void **state)
{
    (void)state;
    const size_t n = 5000;
    for (int variant = 0; variant < 4; variant++) {
        hist_input_t in;
        random_input(&in, n, 0, 2000 + (uint64_t)variant);
        for (size_t i = 0; i < n; i += 7) {
            double top = variant == 0   ? 65535.0
                         : variant == 1 ? 65536.0
                         : variant == 2 ? 1e9
                                        : 70.0;
            in.T[i] = top;
            in.x[i] = variant == 0 ? 65535.0 : in.x[i];
            in.t_x[i] = in.x[i] == 0.0 ? -0.0 : top - 1.0;
        }
        if (variant == 3) { /* whole but for the last row: the hash sets take the column */
            in.T[n - 1] = 70.5;
            in.t_x[n - 1] = in.x[n - 1] == 0.0 ? 0.0 : 0.25;
        }
        sgs_histories_t ref, got;
        assert_int_equal(sgs_histories_build_ref(&ref, in.x, in.t_x, in.T, NULL, n, NULL), 0);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            assert_int_equal(sgs_histories_build(&got, in.x, in.t_x, in.T, NULL, n, &ex, NULL), 0);
            assert_tables_equal(&ref, &got, 2000 + (uint64_t)variant, t);
            sgs_histories_free(&got);
        }
        sgs_histories_free(&ref);
        input_free(&in);
    }
}

/* Malformed rows: the same code and message (the first bad row) from both. */
static void test_histories_errors_match_the_reference(void **state)
{
    (void)state;
    hist_input_t in;
    random_input(&in, 9000, 1, 5);
    double *cols[] = {in.x, in.t_x, in.T, in.w};
    const double bad[] = {1.5, -1.0, -1.0, 0.0};
    for (int k = 0; k < 4; k++) {
        size_t row = 8000 - 1000 * (size_t)k;
        double keep = cols[k][row], keep_late = cols[k][8500];
        cols[k][row] = bad[k];
        cols[k][8500] = bad[k];
        sgs_histories_t h;
        sgs_error_t e_ref = {0};
        int rc = sgs_histories_build_ref(&h, in.x, in.t_x, in.T, in.w, in.n, &e_ref);
        assert_int_equal(rc, SGS_EDATA);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            sgs_error_t e = {0};
            assert_int_equal(sgs_histories_build(&h, in.x, in.t_x, in.T, in.w, in.n, &ex, &e), rc);
            assert_string_equal(e.message, e_ref.message);
        }
        cols[k][row] = keep;
        cols[k][8500] = keep_late;
    }
    input_free(&in);
}

/* The models' parameters, Gamma-Gamma's and the CLV options the scoring tests use. */
static const double params[SGS_PURCHASE_MODEL_COUNT][4] = {
    [SGS_MODEL_BGNBD] = {0.243, 4.414, 0.793, 2.426},
    [SGS_MODEL_MBGNBD] = {0.525, 6.183, 0.891, 1.614},
    [SGS_MODEL_PARETONBD] = {0.553, 10.578, 0.606, 11.669}};
static const double gg[3] = {6.25, 3.74, 15.44};
static const sgs_clv_options_t opt = {52.0, 52.0 / 12.0, 0.1, 0.3};

/* The three purchase models' scores per history and per customer against the twins, on both
 * paths of sgs_clv_score_histories (dense table of (x, T) pairs, or per history), with and
 * without the discounted sum, 1, 2 and 3 threads. */
static void test_clv_scores_match_the_reference(void **state)
{
    (void)state;
    for (int continuous = 0; continuous <= 1; continuous++) {
        uint64_t seed = 900 + (uint64_t)continuous;
        hist_input_t in;
        random_input(&in, 12007, continuous, seed);
        sgs_histories_t h;
        sgs_exec_t ex1 = {.n_threads = 1};
        assert_int_equal(sgs_histories_build(&h, in.x, in.t_x, in.T, NULL, in.n, &ex1, NULL), 0);
        size_t m = h.n_unique, n = in.n;
        double *ref = malloc(5 * n * sizeof *ref), *got = malloc(5 * n * sizeof *got);
        assert_true(ref && got);
        for (int model = 0; model < SGS_PURCHASE_MODEL_COUNT; model++) {
            const double *p = params[model];
            for (int with_disc = 0; with_disc <= 1; with_disc++) {
                memset(ref, 0, 4 * m * sizeof *ref);
                assert_int_equal(sgs_clv_score_histories_ref((sgs_purchase_model_t)model, p, &h,
                                                             &opt, ref, ref + m, ref + 2 * m,
                                                             with_disc ? ref + 3 * m : NULL, NULL),
                                 0);
                for (int t = 1; t <= 3; t++) {
                    sgs_exec_t ex = {.n_threads = t, .grain = 1};
                    memset(got, 0, 4 * m * sizeof *got);
                    assert_int_equal(sgs_clv_score_histories(
                                         (sgs_purchase_model_t)model, p, &h, &opt, got, got + m,
                                         got + 2 * m, with_disc ? got + 3 * m : NULL, &ex, NULL),
                                     0);
                    assert_same(ref, got, 4 * m * sizeof *ref, "scores of the histories", seed, t);
                }
            }
            assert_int_equal(sgs_clv_score_customers_ref(
                                 (sgs_purchase_model_t)model, p, gg, &h, in.x, in.m, &opt, ref,
                                 ref + n, ref + 2 * n, ref + 3 * n, ref + 4 * n, NULL),
                             0);
            for (int t = 1; t <= 3; t++) {
                sgs_exec_t ex = {.n_threads = t, .grain = 1};
                assert_int_equal(sgs_clv_score_customers(
                                     (sgs_purchase_model_t)model, p, gg, &h, in.x, in.m, &opt, got,
                                     got + n, got + 2 * n, got + 3 * n, got + 4 * n, &ex, NULL),
                                 0);
                assert_same(ref, got, 5 * n * sizeof *ref, "scores of the customers", seed, t);
            }
        }
        /* the same refusals: q <= 1, a parameter <= 0 */
        const double gg_bad[3] = {6.25, 1.0, 15.44}, p_bad[4] = {0.2, -1.0, 0.7, 2.4};
        sgs_exec_t ex = {.n_threads = 2, .grain = 1};
        assert_int_equal(sgs_clv_score_customers_ref(SGS_MODEL_BGNBD, params[0], gg_bad, &h, in.x,
                                                     in.m, &opt, NULL, NULL, NULL, NULL, ref, NULL),
                         SGS_EDATA);
        assert_int_equal(sgs_clv_score_customers(SGS_MODEL_BGNBD, params[0], gg_bad, &h, in.x, in.m,
                                                 &opt, NULL, NULL, NULL, NULL, got, &ex, NULL),
                         SGS_EDATA);
        assert_int_equal(sgs_clv_score_histories_ref(SGS_MODEL_BGNBD, p_bad, &h, &opt, ref, NULL,
                                                     NULL, NULL, NULL),
                         SGS_EINVAL);
        sgs_free(ref);
        sgs_free(got);
        sgs_histories_free(&h);
        input_free(&in);
    }
}

/* sgs_clv_score_customers_to: the five scores as the reference twin gives them and p_buy as
 * sgs_p_buy_column_ref over its P(alive) and P(no purchase) columns, with a calibration map and
 * without, every output or p_buy alone, for 0, 1, 2 and many customers on 1, 2 and 3 threads. */
static void test_clv_p_buy_matches_the_columns(void **state)
{
    (void)state;
    /* a calibration map with flat steps and slopes, through 0 and 1 at its ends */
    enum { G = 64 };
    double score[G], weight[G], y[G];
    uint64_t s = 77;
    for (int k = 0; k < G; k++) {
        score[k] = k % 9 == 0 ? 0.5 : sgs_test_uniform(&s); /* ties */
        weight[k] = 1.0 + (double)(sgs_test_next(&s) % 5);
        y[k] = weight[k] * (k < 4 ? 0.0 : k > 60 ? 1.0 : sgs_test_uniform(&s));
    }
    sgs_isotonic_t map = {0};
    assert_int_equal(sgs_isotonic_fit(score, weight, y, G, 1.0, &map, NULL), 0);
    const size_t sizes[] = {0, 1, 2, 12007};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int continuous = 0; continuous <= 1; continuous++) {
            uint64_t seed = 1300 + 10 * z + (uint64_t)continuous;
            hist_input_t in;
            random_input(&in, sizes[z], continuous, seed);
            sgs_histories_t h;
            sgs_exec_t ex1 = {.n_threads = 1};
            assert_int_equal(sgs_histories_build(&h, in.x, in.t_x, in.T, NULL, in.n, &ex1, NULL),
                             0);
            size_t n = in.n, n1 = n ? n : 1;
            double *ref = malloc(6 * n1 * sizeof *ref), *got = malloc(6 * n1 * sizeof *got);
            assert_true(ref && got);
            for (int model = 0; model < SGS_PURCHASE_MODEL_COUNT; model++)
                for (int mapped = 0; mapped <= 1; mapped++) {
                    const sgs_isotonic_t *am = mapped ? &map : NULL;
                    const double *p = params[model];
                    memset(ref, 0, 6 * n1 * sizeof *ref);
                    assert_int_equal(sgs_clv_score_customers_ref(
                                         (sgs_purchase_model_t)model, p, gg, &h, in.x, in.m, &opt,
                                         ref, ref + n, ref + 2 * n, ref + 3 * n, ref + 4 * n, NULL),
                                     0);
                    assert_int_equal(
                        sgs_p_buy_column_ref(n, am, ref, ref + 2 * n, ref + 5 * n, NULL), 0);
                    for (int t = 1; t <= 3; t++) {
                        sgs_exec_t ex = {.n_threads = t, .grain = 1};
                        memset(got, 0xff, 6 * n1 * sizeof *got);
                        sgs_clv_customer_scores_t all = {
                            got, got + n, got + 2 * n, got + 3 * n, got + 4 * n, got + 5 * n, am};
                        assert_int_equal(sgs_clv_score_customers_to((sgs_purchase_model_t)model, p,
                                                                    gg, &h, in.x, in.m, &opt, &all,
                                                                    &ex, NULL),
                                         0);
                        assert_same(ref, got, 6 * n * sizeof *ref, "scores and p_buy", seed, t);
                        memset(got, 0xff, 6 * n1 * sizeof *got);
                        sgs_clv_customer_scores_t only = {NULL, NULL, NULL, NULL, NULL, got, am};
                        assert_int_equal(sgs_clv_score_customers_to((sgs_purchase_model_t)model, p,
                                                                    NULL, &h, NULL, NULL, &opt,
                                                                    &only, &ex, NULL),
                                         0);
                        assert_same(ref + 5 * n, got, n * sizeof *ref, "p_buy alone", seed, t);
                    }
                }
            /* the same refusal as sgs_clv_score_customers: q <= 1 */
            const double gg_bad[3] = {6.25, 1.0, 15.44};
            sgs_clv_customer_scores_t bad = {NULL, NULL, NULL, NULL, got, got + n, &map};
            sgs_exec_t ex = {.n_threads = 2, .grain = 1};
            assert_int_equal(sgs_clv_score_customers_to(SGS_MODEL_BGNBD, params[0], gg_bad, &h,
                                                        in.x, in.m, &opt, &bad, &ex, NULL),
                             SGS_EDATA);
            free(ref);
            free(got);
            sgs_histories_free(&h);
            input_free(&in);
        }
    sgs_isotonic_free(&map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histories_match_the_reference),
        cmocka_unit_test(test_histories_errors_match_the_reference),
        cmocka_unit_test(test_histories_whole_numbers_at_the_table_edge),
        cmocka_unit_test(test_clv_scores_match_the_reference),
        cmocka_unit_test(test_clv_p_buy_matches_the_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
