/*
 * tests/unit/test_calibration.c — isotonic calibration and the reliability table
 * (kernels/calibration.h): a hand-computed pooling, ties, the min-max characterization of
 * isotonic regression on random data, order independence, clipping and interpolation, and a
 * hand-computed reliability table with its Brier and log scores; p_buy from the model (by hand,
 * and the column kernel against its serial twin on 1, 2 and 3 threads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/calibration.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_hand_computed_pooling(void **state)
{
    (void)state;
    double s[] = {0.1, 0.2, 0.3, 0.4}, w[] = {1, 1, 1, 1}, y[] = {0, 1, 0, 1};
    sgs_isotonic_t m;
    assert_int_equal(sgs_isotonic_fit(s, w, y, 4, 0, &m, NULL), 0);
    /* 0 | 1, 0 pooled to 0.5 over [0.2, 0.3] | 1 */
    assert_int_equal(m.n_blocks, 3);
    assert_int_equal(m.n_knots, 4);
    double ks[] = {0.1, 0.2, 0.3, 0.4}, kv[] = {0, 0.5, 0.5, 1};
    for (int k = 0; k < 4; k++) {
        sgs_assert_close(m.score[k], ks[k], 0, 0);
        sgs_assert_close(m.value[k], kv[k], 0, 0);
    }
    sgs_assert_close(sgs_isotonic_predict(&m, 0.35), 0.75, 1e-15, 0); /* interpolated */
    sgs_assert_close(sgs_isotonic_predict(&m, 0.15), 0.25, 1e-15, 0);
    sgs_assert_cmp(sgs_isotonic_predict(&m, -3), ==, 0.0); /* clipped */
    sgs_assert_cmp(sgs_isotonic_predict(&m, 7), ==, 1.0);
    sgs_assert_nan(sgs_isotonic_predict(&m, NAN));
    sgs_isotonic_free(&m);

    /* with Jeffreys' prior: blocks 0/1 -> 0.25, 1/2 -> 0.5, 1/1 -> 0.75; never 0 or 1 */
    assert_int_equal(sgs_isotonic_fit(s, w, y, 4, 1.0, &m, NULL), 0);
    sgs_assert_close(sgs_isotonic_predict(&m, 0.1), 0.25, 1e-15, 0);
    sgs_assert_close(sgs_isotonic_predict(&m, 0.25), 0.5, 1e-15, 0);
    sgs_assert_close(sgs_isotonic_predict(&m, 0.4), 0.75, 1e-15, 0);
    sgs_isotonic_free(&m);

    /* equal means make one step: 0/1, 1/2, 1/2, 1/1 pool the middle into one block */
    double s3[] = {0.1, 0.2, 0.3, 0.4}, w3[] = {1, 2, 2, 1}, y3[] = {0, 1, 1, 1};
    assert_int_equal(sgs_isotonic_fit(s3, w3, y3, 4, 0, &m, NULL), 0);
    assert_int_equal(m.n_blocks, 3);
    sgs_isotonic_free(&m);

    /* equal scores are one value; weight-0 groups are ignored */
    double s2[] = {0.2, 0.2, 0.9}, w2[] = {3, 1, 0}, y2[] = {0, 1, 0};
    assert_int_equal(sgs_isotonic_fit(s2, w2, y2, 3, 0, &m, NULL), 0);
    assert_int_equal(m.n_knots, 1);
    sgs_assert_close(sgs_isotonic_predict(&m, 0.5), 0.25, 0, 0);
    sgs_isotonic_free(&m);
}

/* Isotonic regression at point i is max over j <= i of min over k >= i of the weighted mean
 * of groups j..k (Robertson, Wright & Dykstra 1988, theorem 1.4.4): an O(n^3) definition
 * independent of the pooling algorithm. Scores here are distinct. */
static double minmax(const double *w, const double *y, int n, int i)
{
    double best = -INFINITY;
    for (int j = 0; j <= i; j++) {
        double low = INFINITY;
        for (int k = i; k < n; k++) {
            double sw = 0, sy = 0;
            for (int q = j; q <= k; q++) {
                sw += w[q];
                sy += y[q];
            }
            low = fmin(low, sy / sw);
        }
        best = fmax(best, low);
    }
    return best;
}

static void test_matches_the_min_max_definition_in_any_order(void **state)
{
    (void)state;
    enum { N = 60 };
    for (uint64_t seed = 1; seed <= 20; seed++) {
        double s[N], w[N], y[N], ps[N], pw[N], py[N];
        for (int i = 0; i < N; i++) {
            s[i] = (i + 0.5) / N; /* ascending, distinct */
            w[i] = 1 + floor(5 * sgs_rng_uniform(seed, 0, (uint64_t)i));
            double p = s[i] * s[i];
            y[i] = 0;
            for (int k = 0; k < (int)w[i]; k++)
                y[i] += sgs_rng_uniform(seed, 1, (uint64_t)(10 * i + k)) < p;
        }
        sgs_isotonic_t m, m2;
        assert_int_equal(sgs_isotonic_fit(s, w, y, N, 0, &m, NULL), 0);
        for (int i = 0; i < N; i++) {
            double want = minmax(w, y, N, i);
            double got = sgs_isotonic_predict(&m, s[i]);
            if (fabs(got - want) > 1e-12)
                fail_msg("seed %llu, group %d: isotonic %.17g, min-max %.17g",
                         (unsigned long long)seed, i, got, want);
        }
        /* reversed order: the same knots */
        for (int i = 0; i < N; i++) {
            ps[i] = s[N - 1 - i];
            pw[i] = w[N - 1 - i];
            py[i] = y[N - 1 - i];
        }
        assert_int_equal(sgs_isotonic_fit(ps, pw, py, N, 0, &m2, NULL), 0);
        assert_int_equal(m.n_knots, m2.n_knots);
        assert_memory_equal(m.score, m2.score, m.n_knots * sizeof(double));
        assert_memory_equal(m.value, m2.value, m.n_knots * sizeof(double));
        /* non-decreasing everywhere */
        double prev = -1;
        for (int k = 0; k <= 1000; k++) {
            double v = sgs_isotonic_predict(&m, k / 1000.0);
            sgs_assert_cmp(v, >=, prev);
            prev = v;
        }
        sgs_isotonic_free(&m);
        sgs_isotonic_free(&m2);
    }
}

static void test_bad_groups_are_errors(void **state)
{
    (void)state;
    sgs_isotonic_t m;
    sgs_error_t err = {0};
    double s[] = {0.1, NAN}, w[] = {1, 1}, y[] = {0, 1};
    assert_int_equal(sgs_isotonic_fit(s, w, y, 2, 0, &m, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "group 1");
    double w0[] = {0, 0}, s1[] = {0.1, 0.2};
    assert_int_equal(sgs_isotonic_fit(s1, w0, y, 2, 0, &m, &err), SGS_EDATA);
}

static void test_reliability_by_hand(void **state)
{
    (void)state;
    double p[] = {0.9, 0.1}, w[] = {10, 10}, y[] = {9, 1};
    sgs_reliability_t r;
    assert_int_equal(sgs_reliability(p, w, y, 2, 2, &r, NULL), 0);
    sgs_assert_close(r.weight[0], 10, 0, 0);
    sgs_assert_close(r.predicted[0], 0.1, 1e-15, 0);
    sgs_assert_close(r.observed[0], 0.1, 1e-15, 0);
    sgs_assert_close(r.predicted[1], 0.9, 1e-15, 0);
    sgs_assert_close(r.observed[1], 0.9, 1e-15, 0);
    sgs_assert_close(r.max_gap, 0, 1e-15, 0);
    /* Brier: (1 * 0.81 + 9 * 0.01 + 9 * 0.01 + 1 * 0.81) / 20 */
    sgs_assert_close(r.brier, 1.8 / 20, 1e-15, 0);
    sgs_assert_close(r.log_score, (2 * log(0.1) + 18 * log(0.9)) / 20, 1e-14, 0);
    /* three bins over two groups: one stays empty */
    assert_int_equal(sgs_reliability(p, w, y, 2, 3, &r, NULL), 0);
    sgs_assert_cmp(r.weight[1], ==, 0);
    sgs_assert_nan(r.predicted[1]);
    assert_int_equal(sgs_reliability(p, w, y, 2, 0, &r, NULL), SGS_EINVAL);
    double bad[] = {1.5, 0.1};
    assert_int_equal(sgs_reliability(bad, w, y, 2, 2, &r, NULL), SGS_EDATA);
}

/* The calibrated P(alive) by hand: two groups, o/q pooled with weights w q^2 and prior 1. */
static void test_alive_calibration_by_hand(void **state)
{
    (void)state;
    double a[] = {0.2, 0.8}, raw[] = {0.1, 0.4}, w[] = {100, 100}, b[] = {20, 40};
    sgs_isotonic_t m;
    assert_int_equal(sgs_alive_calibration_fit(a, raw, w, b, 2, &m, NULL), 0);
    /* q = 0.5 for both: A = (q b + 1/2) / (q^2 w + 1) */
    sgs_assert_close(sgs_isotonic_predict(&m, 0.2), 10.5 / 26, 1e-15, 0);
    sgs_assert_close(sgs_isotonic_predict(&m, 0.8), 20.5 / 26, 1e-15, 0);
    /* at a = 0.8 with the model's P(buy within H) 0.6: q(H) = 0.75 */
    sgs_assert_close(sgs_calibrated_p_buy(&m, 0.8, 0.6), 20.5 / 26 * 0.75, 1e-15, 0);
    sgs_assert_nan(sgs_calibrated_p_buy(&m, NAN, 0.5));
    sgs_isotonic_free(&m);

    /* far more buyers than q allows: A is clipped to 1, p_buy to q(H) */
    double a2[] = {0.5}, raw2[] = {0.05}, w2[] = {1000}, b2[] = {500};
    assert_int_equal(sgs_alive_calibration_fit(a2, raw2, w2, b2, 1, &m, NULL), 0);
    sgs_assert_cmp(sgs_isotonic_predict(&m, 0.5), ==, 1.0);
    sgs_assert_close(sgs_calibrated_p_buy(&m, 0.5, 0.3), 0.6, 1e-15, 0);
    sgs_assert_cmp(sgs_calibrated_p_buy(&m, 0.0, 0.0), ==, 1.0); /* P(alive) 0: q taken as 1 */
    sgs_isotonic_free(&m);

    double bad[] = {1.5};
    sgs_error_t err = {0};
    assert_int_equal(sgs_alive_calibration_fit(bad, raw2, w2, b2, 1, &m, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "P(alive)");
}

/* Cross-fitting by hand: one history (P(alive) 0.5, P(buy) 0.25, so q = 0.5), 10 customers in
 * each fold, 5 buyers in fold 0 and 1 in fold 1. Fold 0's map is (q 5 + 1/2) / (q^2 10 + 1) =
 * 3 / 3.5 and calibrates fold 1 (p = 3/7); fold 1's is 1 / 3.5 and calibrates fold 0 (p = 1/7).
 * A map scoring its own fold would give fold 0 3/7 and fold 1 1/7 instead. */
static void test_alive_calibration_cross_by_hand(void **state)
{
    (void)state;
    double a[] = {0.5}, raw[] = {0.25}, w2[] = {10, 10}, b2[] = {5, 1};
    sgs_reliability_t r;
    assert_int_equal(sgs_alive_calibration_cross(a, raw, w2, b2, 1, 2, &r, NULL), 0);
    double p0 = 1.0 / 7, p1 = 3.0 / 7;
    double brier = (5 * (1 - p0) * (1 - p0) + 5 * p0 * p0 + (1 - p1) * (1 - p1) + 9 * p1 * p1) / 20;
    double log_score = (5 * log(p0) + 5 * log1p(-p0) + log(p1) + 9 * log1p(-p1)) / 20;
    sgs_assert_close(r.brier, brier, 1e-15, 0);
    sgs_assert_close(r.log_score, log_score, 1e-15, 0);
    /* two bins of 10 customers: fold 0's prediction, then fold 1's */
    sgs_assert_close(r.predicted[0], p0, 1e-15, 0);
    sgs_assert_close(r.observed[0], 0.5, 1e-15, 0);
    sgs_assert_close(r.predicted[1], p1, 1e-15, 0);
    sgs_assert_close(r.observed[1], 0.1, 1e-15, 0);

    /* a fold without customers cannot calibrate the other */
    double empty[] = {10, 0}, none[] = {5, 0};
    sgs_error_t err = {0};
    assert_int_equal(sgs_alive_calibration_cross(a, raw, empty, none, 1, 2, &r, &err), SGS_EDATA);
    /* nor can fold 0 be empty */
    double empty0[] = {0, 10}, none0[] = {0, 1};
    assert_int_equal(sgs_alive_calibration_cross(a, raw, empty0, none0, 1, 2, &r, &err), SGS_EDATA);
    /* a caller's mistake is not a fold without data (the backtest fails on it, falls back on
       SGS_EDATA only) */
    assert_int_equal(sgs_alive_calibration_cross(a, raw, w2, b2, 1, 0, &r, &err), SGS_EINVAL);
}

/* p_buy from the model: 1 - P(no purchase) clamped, calibrated through the P(alive) map;
 * the column kernel against its serial twin on 1, 2 and 3 threads. */
static void test_p_buy_by_hand_and_column(void **state)
{
    (void)state;
    sgs_assert_close(sgs_p_buy(NULL, NAN, 0.3), 0.7, 1e-15, 0);
    sgs_assert_cmp(sgs_p_buy(NULL, NAN, 1.2), ==, 0.0);  /* clamped */
    sgs_assert_cmp(sgs_p_buy(NULL, NAN, -0.1), ==, 1.0); /* clamped */
    double a[] = {0.2, 0.8}, raw[] = {0.1, 0.4}, w[] = {100, 100}, b[] = {20, 40};
    sgs_isotonic_t m;
    assert_int_equal(sgs_alive_calibration_fit(a, raw, w, b, 2, &m, NULL), 0);
    /* as in test_alive_calibration_by_hand: A(0.8) = 20.5 / 26, q(H) = 0.6 / 0.8 */
    sgs_assert_close(sgs_p_buy(&m, 0.8, 0.4), 20.5 / 26 * 0.75, 1e-15, 0);

    enum { N = 40000 };
    static double pa[N], pnp[N], ref[N], got[N];
    const uint64_t seed = 17;
    for (size_t i = 0; i < N; i++) {
        pa[i] = sgs_rng_uniform(seed, 0, i);
        pnp[i] = 1.0 - pa[i] * sgs_rng_uniform(seed, 1, i);
    }
    for (int calibrated = 0; calibrated < 2; calibrated++) {
        const sgs_isotonic_t *map = calibrated ? &m : NULL;
        assert_int_equal(sgs_p_buy_column_ref(N, map, pa, pnp, ref, NULL), 0);
        for (size_t i = 0; i < N; i += 997)
            sgs_assert_cmp(ref[i], ==, sgs_p_buy(map, pa[i], pnp[i]));
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            assert_int_equal(sgs_p_buy_column(N, map, pa, pnp, &ex, got, NULL), 0);
            if (memcmp(got, ref, sizeof got) != 0)
                fail_msg("seed %llu, calibrated %d, %d threads: not the reference's bits",
                         (unsigned long long)seed, calibrated, t);
        }
    }
    sgs_error_t err = {0};
    assert_int_equal(sgs_p_buy_column(N, &m, NULL, pnp, NULL, got, &err), SGS_EINVAL);
    sgs_isotonic_free(&m);
}

/* The calibrated p_buy column (the backtest's, in place) against its serial twin and the
 * scalar formula on 1, 2 and 3 threads, NaN rows and p_alive 0 included: the same bits. */
static void test_calibrated_p_buy_column(void **state)
{
    (void)state;
    double a[] = {0.2, 0.8}, raw[] = {0.1, 0.4}, w[] = {100, 100}, b[] = {20, 40};
    sgs_isotonic_t m;
    assert_int_equal(sgs_alive_calibration_fit(a, raw, w, b, 2, &m, NULL), 0);
    enum { N = 50021 };
    static double pa[N], pm[N], ref[N], got[N];
    const uint64_t seed = 23;
    for (size_t i = 0; i < N; i++) {
        pa[i] = i % 101 == 0 ? 0.0 : i % 103 == 0 ? (double)NAN : sgs_rng_uniform(seed, 0, i);
        pm[i] = i % 107 == 0 ? (double)NAN : pa[i] * sgs_rng_uniform(seed, 1, i);
    }
    assert_int_equal(sgs_calibrated_p_buy_column_ref(N, &m, pa, pm, ref, NULL), 0);
    for (size_t i = 0; i < N; i += 97) {
        double expected = sgs_calibrated_p_buy(&m, pa[i], pm[i]);
        if (memcmp(&ref[i], &expected, sizeof expected) != 0)
            fail_msg("row %zu: reference %.17g, formula %.17g", i, ref[i], expected);
    }
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        memcpy(got, pm, sizeof got); /* in place, as the backtest calls it */
        assert_int_equal(sgs_calibrated_p_buy_column(N, &m, pa, got, &ex, got, NULL), 0);
        if (memcmp(got, ref, sizeof got) != 0)
            fail_msg("seed %llu, %d threads: not the reference's bits", (unsigned long long)seed,
                     t);
    }
    sgs_error_t err = {0};
    assert_int_equal(sgs_calibrated_p_buy_column(N, &m, NULL, pm, NULL, got, &err), SGS_EINVAL);
    assert_int_equal(sgs_calibrated_p_buy_column(N, NULL, pa, pm, NULL, got, NULL), SGS_EINVAL);
    assert_int_equal(sgs_calibrated_p_buy_column(0, &m, NULL, NULL, NULL, NULL, NULL), 0);
    sgs_isotonic_free(&m);
}

/* Recovery: customers alive with probability sqrt(a) (the model's a understates it) and
 * buying within the holdout with probability q if alive; the fitted map recovers sqrt(a). */
static void test_alive_calibration_recovers_the_true_map(void **state)
{
    (void)state;
    enum { N = 2000, W = 50 };
    static double a[N], raw[N], w[N], b[N];
    for (int j = 0; j < N; j++) {
        a[j] = 0.05 + 0.95 * sgs_rng_uniform(7, 0, (uint64_t)j);
        double q = 0.1 + 0.8 * sgs_rng_uniform(7, 1, (uint64_t)j);
        raw[j] = a[j] * q;
        w[j] = W;
        b[j] = 0;
        for (int k = 0; k < W; k++)
            b[j] += sgs_rng_uniform(7, 2, (uint64_t)(W * j + k)) < sqrt(a[j]) * q;
    }
    sgs_isotonic_t m;
    assert_int_equal(sgs_alive_calibration_fit(a, raw, w, b, N, &m, NULL), 0);
    for (double x = 0.2; x < 0.95; x += 0.15) {
        double got = sgs_isotonic_predict(&m, x);
        if (fabs(got - sqrt(x)) > 0.05)
            fail_msg("A(%g) = %g, true %g", x, got, sqrt(x));
    }
    sgs_isotonic_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed_pooling),
        cmocka_unit_test(test_matches_the_min_max_definition_in_any_order),
        cmocka_unit_test(test_bad_groups_are_errors),
        cmocka_unit_test(test_reliability_by_hand),
        cmocka_unit_test(test_alive_calibration_by_hand),
        cmocka_unit_test(test_alive_calibration_cross_by_hand),
        cmocka_unit_test(test_alive_calibration_recovers_the_true_map),
        cmocka_unit_test(test_p_buy_by_hand_and_column),
        cmocka_unit_test(test_calibrated_p_buy_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
