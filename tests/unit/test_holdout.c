/*
 * tests/unit/test_holdout.c — the holdout kernels of segscore evaluate (kernels/holdout.h):
 * hand-computed errors, repeat purchase days, tracking and distribution; each parallel kernel
 * against its serial reference twin bit for bit on 1, 2 and 3 threads (grain 1: every thread
 * works); the distribution against a direct sum over customers; the backtest's forecast and
 * spend checks; information criteria; errors.
 * Randomized cases take a fixed seed and print it when they fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/evaluate_probs.h"
#include "kernels/gammagamma.h"
#include "kernels/holdout.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double bg[4] = {0.243, 4.414, 0.793, 2.426};   /* CDNOW BG/NBD, weeks */
static const double pn[4] = {0.553, 10.578, 0.606, 11.669}; /* CDNOW Pareto/NBD, weeks */

static const double *params_of(int model)
{
    return model == SGS_MODEL_PARETONBD ? pn : bg;
}

/* ---- errors ---------------------------------------------------------------------------- */

static void test_errors_by_hand(void **state)
{
    (void)state;
    /* E = {0.5, 1, 1, 2}, x* = {0, 2, 1, 3}: differences {0.5, -1, 0, -1} */
    const uint32_t hist_of[4] = {0, 1, 1, 2};
    const double expected[3] = {0.5, 1.0, 2.0};
    const int32_t actual[4] = {0, 2, 1, 3};
    const double x[4] = {0, 1, 1, 9}; /* bins 0, 1, 1, 2 (of 3) */
    double by_bin[3], by_bin_ref[3];
    sgs_holdout_errors_t e, r;
    sgs_exec_t ex = {.n_threads = 2, .grain = 1};
    sgs_assert_cmp(sgs_holdout_errors(4, hist_of, expected, actual, x, 3, &ex, by_bin, &e, NULL),
                   ==, SGS_OK);
    sgs_assert_close(e.predicted_total, 4.5, 0, 1e-15);
    sgs_assert_close(e.mae, 2.5 / 4, 0, 1e-15);
    sgs_assert_close(e.rmse, 0.75, 0, 1e-15); /* sqrt(2.25 / 4) */
    /* means 1.125 and 1.5; centred cross 2.25, squares 1.1875 and 5 */
    sgs_assert_close(e.correlation, 2.25 / sqrt(1.1875 * 5.0), 0, 1e-14);
    sgs_assert_close(by_bin[0], 0.5, 0, 0);
    sgs_assert_close(by_bin[1], 1.0, 0, 0);
    sgs_assert_close(by_bin[2], 2.0, 0, 0);
    sgs_assert_cmp(sgs_holdout_errors_ref(4, hist_of, expected, actual, x, 3, by_bin_ref, &r, NULL),
                   ==, SGS_OK);
    assert_memory_equal(&r, &e, sizeof e);
    assert_memory_equal(by_bin_ref, by_bin, sizeof by_bin);

    /* a constant prediction has no variance: correlation 0; an empty bin has mean 0 */
    const double flat[3] = {1.0, 1.0, 1.0};
    double by_bin5[5];
    sgs_assert_cmp(sgs_holdout_errors(4, hist_of, flat, actual, x, 5, &ex, by_bin5, &e, NULL), ==,
                   SGS_OK);
    sgs_assert_cmp(e.correlation, ==, 0.0);
    sgs_assert_cmp(by_bin5[3], ==, 0.0);
    sgs_assert_cmp(by_bin5[4], ==, 1.0); /* x = 9 in the last bin */
}

static void test_errors_threads_and_twin(void **state)
{
    (void)state;
    enum { n = 3 * 16384 + 123, n_hist = 997, bins = 8 };
    static uint32_t hist_of[n];
    static int32_t actual[n];
    static double x[n], expected[n_hist];
    const uint64_t seed = 41;
    for (size_t h = 0; h < n_hist; h++)
        expected[h] = 5.0 * sgs_rng_uniform(seed, 0, h);
    for (size_t i = 0; i < n; i++) {
        hist_of[i] = (uint32_t)(sgs_rng_u64(seed, 1, i) % n_hist);
        actual[i] = (int32_t)(sgs_rng_u64(seed, 2, i) % 7);
        x[i] = (double)(sgs_rng_u64(seed, 3, i) % 12);
    }
    double ref_bins[bins];
    sgs_holdout_errors_t ref;
    sgs_assert_cmp(
        sgs_holdout_errors_ref(n, hist_of, expected, actual, x, bins, ref_bins, &ref, NULL), ==,
        SGS_OK);
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        double got_bins[bins];
        sgs_holdout_errors_t got;
        sgs_assert_cmp(
            sgs_holdout_errors(n, hist_of, expected, actual, x, bins, &ex, got_bins, &got, NULL),
            ==, SGS_OK);
        if (memcmp(&got, &ref, sizeof got) != 0 || memcmp(got_bins, ref_bins, sizeof got_bins))
            fail_msg("seed %llu, %d threads: not the reference's bits (rmse %.17g vs %.17g)",
                     (unsigned long long)seed, t, got.rmse, ref.rmse);
    }
    /* against a plain two-pass computation in long double */
    long double sp = 0, sabs = 0, ssq = 0;
    for (size_t i = 0; i < n; i++) {
        long double p = expected[hist_of[i]], d = p - actual[i];
        sp += p;
        sabs += fabsl(d);
        ssq += d * d;
    }
    sgs_assert_close(ref.predicted_total, (double)sp, 0, 1e-12);
    sgs_assert_close(ref.mae, (double)(sabs / n), 0, 1e-12);
    sgs_assert_close(ref.rmse, (double)sqrtl(ssq / n), 0, 1e-12);
    sgs_assert_cmp(fabs(ref.correlation), <, 0.05); /* independent draws */
}

static void test_errors_refused(void **state)
{
    (void)state;
    const uint32_t hist_of[1] = {0};
    const double expected[1] = {1.0}, x[1] = {0};
    const int32_t actual[1] = {1};
    double by_bin[SGS_HOLDOUT_MAX_BINS + 1];
    sgs_holdout_errors_t e;
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_holdout_errors(0, hist_of, expected, actual, x, 8, NULL, by_bin, &e, &err),
                   ==, SGS_EINVAL);
    sgs_assert_cmp(sgs_holdout_errors(1, hist_of, expected, actual, x, 0, NULL, by_bin, &e, &err),
                   ==, SGS_EINVAL);
    sgs_assert_cmp(sgs_holdout_errors(1, hist_of, expected, actual, x, SGS_HOLDOUT_MAX_BINS + 1,
                                      NULL, by_bin, &e, &err),
                   ==, SGS_EINVAL);
    sgs_assert_contains(err.message, "bins");
    sgs_assert_cmp(sgs_holdout_bin(0.0, 8), ==, 0);
    sgs_assert_cmp(sgs_holdout_bin(6.0, 8), ==, 6);
    sgs_assert_cmp(sgs_holdout_bin(7.0, 8), ==, 7);
    sgs_assert_cmp(sgs_holdout_bin(250.0, 8), ==, 7);
    sgs_assert_cmp(sgs_holdout_bin(3.0, 1), ==, 0);
}

/* ---- repeat purchase days -------------------------------------------------------------- */

static void test_repeat_days_by_hand(void **state)
{
    (void)state;
    /* customer 7: occasions on days 10 (two rows) and 15; day 12 only refunds (not an occasion)
     * customer 8: not in the cohort
     * customer 9: occasions on 11 and 14 (two rows); day 16 fully cancelled the same day */
    int64_t id[3] = {7, 8, 9};
    size_t off[4] = {0, 4, 6, 11};
    int32_t day[11] = {10, 10, 12, 15, 11, 13, 11, 14, 14, 16, 16};
    double amount[11] = {5, 3, -8, 4, 1, 1, 2, 1, 1, 5, -5};
    sgs_grouped_t g = {3, 11, id, off, day, amount, NULL};
    uint8_t in_cohort[3] = {1, 0, 1};
    int32_t first[3] = {10, 11, 11};
    int64_t counts[7], ref[7];
    const int64_t want[7] = {0, 0, 0, 0, 1, 1, 0}; /* days 10..16: 14 and 15 */
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_assert_cmp(sgs_holdout_repeat_days(&g, in_cohort, first, 10, 7, &ex, counts, NULL), ==,
                       SGS_OK);
        for (int d = 0; d < 7; d++)
            sgs_assert_cmp(counts[d], ==, want[d]);
    }
    sgs_assert_cmp(sgs_holdout_repeat_days_ref(&g, in_cohort, first, 10, 7, ref, NULL), ==, SGS_OK);
    assert_memory_equal(ref, counts, sizeof ref);

    /* day 15 outside days 10..14: refused, naming customer 7 */
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_holdout_repeat_days(&g, in_cohort, first, 10, 5, NULL, counts, &err), ==,
                   SGS_EINVAL);
    sgs_assert_contains(err.message, "customer 7 ");
    sgs_assert_cmp(sgs_holdout_repeat_days_ref(&g, in_cohort, first, 10, 5, counts, &err), ==,
                   SGS_EINVAL);
    sgs_assert_cmp(sgs_holdout_repeat_days(&g, in_cohort, first, 10, 0, NULL, counts, &err), ==,
                   SGS_EINVAL);
}

static void test_repeat_days_threads_and_twin(void **state)
{
    (void)state;
    enum { n = 5000, max_rows = 12 * n, n_days = 400 };
    static int64_t id[n];
    static size_t off[n + 1];
    static int32_t day[max_rows], first[n];
    static double amount[max_rows];
    static uint8_t in_cohort[n];
    static int64_t ref[n_days], got[n_days];
    const uint64_t seed = 5;
    size_t r = 0;
    for (size_t c = 0; c < n; c++) {
        id[c] = (int64_t)(3 * c + 1);
        off[c] = r;
        int32_t d = (int32_t)(sgs_rng_u64(seed, 0, c) % 100);
        first[c] = d; /* the first row is a purchase */
        in_cohort[c] = sgs_rng_u64(seed, 1, c) % 4 != 0;
        size_t rows = 1 + sgs_rng_u64(seed, 2, c) % 10;
        for (size_t k = 0; k < rows && d < n_days; k++) {
            day[r] = d;
            amount[r] = k > 0 && sgs_rng_u64(seed, 3, r) % 5 == 0 ? -3.0 : 10.0;
            r++;
            d += (int32_t)(sgs_rng_u64(seed, 4, r) % 30);
        }
    }
    off[n] = r;
    sgs_grouped_t g = {n, r, id, off, day, amount, NULL};
    sgs_assert_cmp(sgs_holdout_repeat_days_ref(&g, in_cohort, first, 0, n_days, ref, NULL), ==,
                   SGS_OK);
    int64_t total = 0;
    for (size_t d = 0; d < n_days; d++)
        total += ref[d];
    sgs_assert_cmp(total, >, 1000);
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_assert_cmp(sgs_holdout_repeat_days(&g, in_cohort, first, 0, n_days, &ex, got, NULL), ==,
                       SGS_OK);
        if (memcmp(got, ref, sizeof got) != 0)
            fail_msg("seed %llu, %d threads: counts differ from the reference",
                     (unsigned long long)seed, t);
    }
}

/* ---- tracking -------------------------------------------------------------------------- */

static void test_tracking_by_hand(void **state)
{
    (void)state;
    /* 2 customers born on day 100, 1 on day 102; points 100, 101 and 103; unit a week */
    const int64_t births[3] = {2, 0, 1};
    const int32_t points[3] = {100, 101, 103};
    double got[3], ref[3];
    for (int model = 0; model < SGS_PURCHASE_MODEL_COUNT; model++) {
        const double *p = params_of(model);
        double e1 = sgs_purchase_expected_new(model, p, 1.0 / 7),
               e3 = sgs_purchase_expected_new(model, p, 3.0 / 7);
        sgs_exec_t ex = {.n_threads = 2, .grain = 1};
        sgs_assert_cmp(
            sgs_holdout_tracking_expected(model, p, 7.0, births, 3, 100, points, 3, &ex, got, NULL),
            ==, SGS_OK);
        sgs_assert_close(got[0], 0.0, 1e-15, 0); /* nobody has had time to buy */
        sgs_assert_close(got[1], 2 * e1, 0, 1e-15);
        sgs_assert_close(got[2], 2 * e3 + e1, 0, 1e-15);
        sgs_assert_cmp(got[1], >, 0.0);
        sgs_assert_cmp(
            sgs_holdout_tracking_expected_ref(model, p, 7.0, births, 3, 100, points, 3, ref, NULL),
            ==, SGS_OK);
        assert_memory_equal(ref, got, sizeof got);
    }
    sgs_error_t err = {0};
    const int32_t early[1] = {99};
    sgs_assert_cmp(sgs_holdout_tracking_expected(SGS_MODEL_BGNBD, bg, 7.0, births, 3, 100, early, 1,
                                                 NULL, got, &err),
                   ==, SGS_EINVAL);
    sgs_assert_cmp(sgs_holdout_tracking_expected(SGS_MODEL_BGNBD, bg, 0.0, births, 3, 100, points,
                                                 3, NULL, got, &err),
                   ==, SGS_EINVAL);
}

static void test_tracking_threads_and_twin(void **state)
{
    (void)state;
    enum { n_births = 300, n_points = 90 };
    static int64_t births[n_births];
    static int32_t points[n_points];
    static double ref[n_points], got[n_points];
    const uint64_t seed = 8;
    for (size_t b = 0; b < n_births; b++)
        births[b] = sgs_rng_u64(seed, 0, b) % 3 == 0 ? 0 : (int64_t)(sgs_rng_u64(seed, 1, b) % 50);
    for (size_t k = 0; k < n_points; k++)
        points[k] = 2000 + (int32_t)(7 * k + 6);
    for (int model = 0; model < SGS_PURCHASE_MODEL_COUNT; model++) {
        const double *p = params_of(model);
        sgs_assert_cmp(sgs_holdout_tracking_expected_ref(model, p, 7.0, births, n_births, 2000,
                                                         points, n_points, ref, NULL),
                       ==, SGS_OK);
        for (size_t k = 1; k < n_points; k++)
            sgs_assert_cmp(ref[k], >=, ref[k - 1]); /* cumulative */
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            sgs_assert_cmp(sgs_holdout_tracking_expected(model, p, 7.0, births, n_births, 2000,
                                                         points, n_points, &ex, got, NULL),
                           ==, SGS_OK);
            if (memcmp(got, ref, sizeof got) != 0)
                fail_msg("seed %llu, model %d, %d threads: not the reference's bits",
                         (unsigned long long)seed, model, t);
        }
    }
}

/* ---- distribution ---------------------------------------------------------------------- */

static void test_distribution(void **state)
{
    (void)state;
    enum { n = 3000, bins = 8 };
    static double x[n], tx[n], T[n];
    const uint64_t seed = 13;
    for (size_t i = 0; i < n; i++) {
        T[i] = (double)(1 + sgs_rng_u64(seed, 0, i) % 60); /* weeks: many customers per T */
        x[i] = (double)(sgs_rng_u64(seed, 1, i) % 5);
        tx[i] = x[i] > 0 ? T[i] * sgs_rng_uniform(seed, 2, i) : 0.0;
    }
    sgs_histories_t h;
    sgs_assert_cmp(sgs_histories_build(&h, x, tx, T, NULL, n, NULL, NULL), ==, SGS_OK);
    for (int model = 0; model < SGS_PURCHASE_MODEL_COUNT; model++) {
        const double *p = params_of(model);
        double ref[bins], got[bins];
        sgs_assert_cmp(sgs_holdout_count_distribution_ref(model, p, &h, bins, ref, NULL), ==,
                       SGS_OK);
        /* a direct sum over customers; the probabilities of each customer add up to 1 */
        long double direct[bins] = {0}, total = 0;
        for (size_t i = 0; i < n; i++) {
            long double rest = 1;
            for (int b = 0; b < bins - 1; b++) {
                double pb = sgs_purchase_prob_count(model, p, T[i], b);
                direct[b] += pb;
                rest -= pb;
            }
            direct[bins - 1] += rest;
        }
        for (int b = 0; b < bins; b++) {
            sgs_assert_close(ref[b], (double)direct[b], 1e-9, 1e-10);
            total += ref[b];
        }
        sgs_assert_close((double)total, (double)n, 0, 1e-12);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            sgs_assert_cmp(sgs_holdout_count_distribution(model, p, &h, bins, &ex, got, NULL), ==,
                           SGS_OK);
            if (memcmp(got, ref, sizeof got) != 0)
                fail_msg("seed %llu, model %d, %d threads: not the reference's bits",
                         (unsigned long long)seed, model, t);
        }
    }
    /* parameters outside the domain: refused, naming the model, all zero */
    const double bad[4] = {-1.0, 4.0, 0.8, 2.4};
    double got[bins];
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_holdout_count_distribution(SGS_MODEL_MBGNBD, bad, &h, bins, NULL, got, &err),
                   ==, SGS_EINVAL);
    sgs_assert_contains(err.message, "mbgnbd");
    for (int b = 0; b < bins; b++)
        sgs_assert_cmp(got[b], ==, 0.0);
    sgs_assert_cmp(sgs_holdout_count_distribution_ref(SGS_MODEL_MBGNBD, bad, &h, bins, got, &err),
                   ==, SGS_EINVAL);
    sgs_assert_cmp(sgs_holdout_count_distribution(SGS_MODEL_BGNBD, bg, &h, 1, NULL, got, &err), ==,
                   SGS_EINVAL);
    sgs_histories_free(&h);
}

static void test_backtest_checks_by_hand(void **state)
{
    (void)state;
    /* E = {1.5, 0.5, 1.5}, x* = {1, 0, 3}: |E - x*| = {0.5, 0.5, 1.5}; Σ E = 3.5, Σ x* = 4 */
    const uint32_t hist_of[3] = {0, 1, 0};
    const double expected[2] = {1.5, 0.5};
    const int32_t actual[3] = {1, 0, 3}, none[3] = {0, 0, 0};
    double mae, total_error;
    sgs_holdout_forecast_error(3, hist_of, expected, actual, &mae, &total_error);
    sgs_assert_close(mae, 2.5 / 3, 0, 1e-15);
    sgs_assert_close(total_error, -0.125, 0, 1e-15);
    sgs_holdout_forecast_error(3, hist_of, expected, none, &mae, &total_error);
    sgs_assert_nan(total_error); /* nobody bought in the holdout */

    const double gg[3] = {6.25, 3.74, 15.44};
    const double x[4] = {1, 2, 5, 0}, m[4] = {10, 20, 30, 0};
    const int32_t occasions[4] = {2, 0, 1, 3};
    const double spend[4] = {30, 50, -5, 60}; /* customers 1 (no occasion), 2 (net refund) out */
    size_t used;
    sgs_holdout_spend_error(gg, 4, x, m, occasions, spend, &used, &mae, &total_error);
    double e0 = sgs_gg_expected_spend(gg, 1, 10), e3 = sgs_gg_expected_spend(gg, 0, 0);
    sgs_assert_cmp(used, ==, 2);
    sgs_assert_close(mae, (fabs(e0 - 15.0) + fabs(e3 - 20.0)) / 2, 0, 1e-15);
    sgs_assert_close(total_error, (2 * e0 + 3 * e3 - 90.0) / 90.0, 1e-15, 1e-14);
    mae = total_error = -1.0;
    sgs_holdout_spend_error(gg, 2, x + 1, m + 1, occasions + 1, spend + 1, &used, &mae,
                            &total_error);
    sgs_assert_cmp(used, ==, 0);
    sgs_assert_cmp(mae, ==, -1.0); /* left as it was */
}

static void test_information_criteria(void **state)
{
    (void)state;
    double aic, bic;
    sgs_information_criteria(-100.0, 4, 50, &aic, &bic);
    sgs_assert_close(aic, 208.0, 0, 1e-15);
    sgs_assert_close(bic, 4 * log(50.0) + 200.0, 0, 1e-15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_by_hand),
        cmocka_unit_test(test_errors_threads_and_twin),
        cmocka_unit_test(test_errors_refused),
        cmocka_unit_test(test_repeat_days_by_hand),
        cmocka_unit_test(test_repeat_days_threads_and_twin),
        cmocka_unit_test(test_tracking_by_hand),
        cmocka_unit_test(test_tracking_threads_and_twin),
        cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_backtest_checks_by_hand),
        cmocka_unit_test(test_information_criteria),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
