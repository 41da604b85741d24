/*
 * tests/unit/test_stage_columns.c — the columns the stage kernels read
 * (kernels/stage_columns.h): the purchase index from grouped rows (refunds, cancelled days,
 * customers without rows), the rate while buying, the buyers' model columns, the columns at
 * another day, the gather and the backtest's came-back counts, by hand; each parallel kernel
 * against its serial reference twin bit for bit on 1, 2 and 3 threads (grain 1: every thread
 * works) on a random base whose seed is printed on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/stage_columns.h"
#include "tests/support/test_support.h"
#include "tests/unit/history_builder.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double bg[4] = {0.243, 4.414, 0.793, 2.426}; /* CDNOW BG/NBD, alpha in weeks */

/* ---- purchase index -------------------------------------------------------------------- */

static void test_purchase_index_by_hand(void **state)
{
    (void)state;
    /* grouped customers: 0 buys on 10 (two rows), refunds on 12, buys on 15;
     * 1 buys on 11 and cancels it the same day; 2 buys on 13 */
    int64_t id[3] = {5, 6, 8};
    size_t off[4] = {0, 4, 6, 7};
    int32_t day[7] = {10, 10, 12, 15, 11, 11, 13};
    double amount[7] = {5, 3, -8, 4, 2, -2, 1};
    sgs_grouped_t g = {3, 7, id, off, day, amount, NULL};
    /* the index: 4 (prospect, no rows), 5, 6, 7 (prospect), 8 */
    const int64_t grouped_of[5] = {-1, 0, 1, -1, 2};
    size_t offset[6], ref_offset[6];
    int32_t days[3], ref_days[3];
    const size_t want_offset[6] = {0, 0, 2, 2, 2, 3};
    const int32_t want_days[3] = {10, 15, 13};
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_assert_cmp(sgs_purchase_index_count(&g, grouped_of, 5, &ex, offset, NULL), ==, SGS_OK);
        for (int u = 0; u <= 5; u++)
            sgs_assert_cmp(offset[u], ==, want_offset[u]);
        sgs_assert_cmp(sgs_purchase_index_fill(&g, grouped_of, 5, offset, &ex, days, NULL), ==,
                       SGS_OK);
        for (int k = 0; k < 3; k++)
            sgs_assert_cmp(days[k], ==, want_days[k]);
    }
    sgs_assert_cmp(sgs_purchase_index_count_ref(&g, grouped_of, 5, ref_offset, NULL), ==, SGS_OK);
    sgs_assert_cmp(sgs_purchase_index_fill_ref(&g, grouped_of, 5, ref_offset, ref_days, NULL), ==,
                   SGS_OK);
    assert_memory_equal(ref_offset, offset, sizeof offset);
    assert_memory_equal(ref_days, days, sizeof days);

    const int64_t beyond[2] = {0, 3};
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_purchase_index_count(&g, beyond, 2, NULL, offset, &err), ==, SGS_EINVAL);
    sgs_assert_contains(err.message, "customer 1 ");
    sgs_assert_cmp(sgs_purchase_index_fill(&g, grouped_of, 5, NULL, NULL, days, &err), ==,
                   SGS_EINVAL);
}

static void test_purchase_index_threads_and_twin(void **state)
{
    (void)state;
    enum { n_grouped = 30000, n = 36000, max_rows = 8 * n_grouped };
    static int64_t id[n_grouped], grouped_of[n];
    static size_t off[n_grouped + 1], ref_offset[n + 1], got_offset[n + 1];
    static int32_t day[max_rows], ref_days[max_rows], got_days[max_rows];
    static double amount[max_rows];
    const uint64_t seed = 3;
    size_t r = 0;
    for (size_t c = 0; c < n_grouped; c++) {
        id[c] = (int64_t)c;
        off[c] = r;
        int32_t d = (int32_t)(sgs_rng_u64(seed, 0, c) % 500);
        size_t rows = sgs_rng_u64(seed, 1, c) % 8;
        for (size_t k = 0; k < rows; k++) {
            day[r] = d;
            amount[r] = sgs_rng_u64(seed, 2, r) % 4 == 0 ? -10.0 : 10.0;
            r++;
            d += (int32_t)(sgs_rng_u64(seed, 3, r) % 3); /* many days with several rows */
        }
    }
    off[n_grouped] = r;
    sgs_grouped_t g = {n_grouped, r, id, off, day, amount, NULL};
    for (size_t u = 0, c = 0; u < n; u++) /* every grouped customer once, in order, plus others */
        grouped_of[u] = c < n_grouped && sgs_rng_u64(seed, 4, u) % 6 != 0 ? (int64_t)c++ : -1;
    sgs_assert_cmp(sgs_purchase_index_count_ref(&g, grouped_of, n, ref_offset, NULL), ==, SGS_OK);
    sgs_assert_cmp(sgs_purchase_index_fill_ref(&g, grouped_of, n, ref_offset, ref_days, NULL), ==,
                   SGS_OK);
    sgs_assert_cmp(ref_offset[n], >, (size_t)n_grouped);
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_assert_cmp(sgs_purchase_index_count(&g, grouped_of, n, &ex, got_offset, NULL), ==,
                       SGS_OK);
        sgs_assert_cmp(sgs_purchase_index_fill(&g, grouped_of, n, got_offset, &ex, got_days, NULL),
                       ==, SGS_OK);
        if (memcmp(got_offset, ref_offset, sizeof got_offset) != 0 ||
            memcmp(got_days, ref_days, ref_offset[n] * sizeof *got_days) != 0)
            fail_msg("seed %llu, %d threads: not the reference's index", (unsigned long long)seed,
                     t);
    }
    /* grouped_of NULL: the index of the grouped customers themselves. Its days are the spread
     * index's days, in the same order, and its offsets the spread ones at each grouped
     * customer (the run takes them over for the combined index: engine/run_events.c). */
    static size_t own_offset[n_grouped + 1];
    static int32_t own_days[max_rows];
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        memset(own_days, 0, sizeof own_days);
        sgs_assert_cmp(sgs_purchase_index_count(&g, NULL, n_grouped, &ex, own_offset, NULL), ==,
                       SGS_OK);
        sgs_assert_cmp(own_offset[n_grouped], ==, ref_offset[n]);
        sgs_assert_cmp(
            sgs_purchase_index_fill(&g, NULL, n_grouped, own_offset, &ex, own_days, NULL), ==,
            SGS_OK);
        if (memcmp(own_days, ref_days, ref_offset[n] * sizeof *own_days) != 0)
            fail_msg("seed %llu, %d threads: the grouped customers' days differ",
                     (unsigned long long)seed, t);
        for (size_t u = 0; u < n; u++)
            if (grouped_of[u] >= 0) {
                sgs_assert_cmp(own_offset[grouped_of[u]], ==, ref_offset[u]);
                sgs_assert_cmp(own_offset[grouped_of[u] + 1], ==, ref_offset[u + 1]);
            }
    }
    sgs_assert_cmp(sgs_purchase_index_count_ref(&g, NULL, n_grouped, ref_offset, NULL), ==, SGS_OK);
    sgs_assert_cmp(ref_offset[n_grouped], ==, own_offset[n_grouped]);
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_purchase_index_count(&g, NULL, n_grouped + 1, NULL, got_offset, &err), ==,
                   SGS_EINVAL);
    sgs_assert_contains(err.message, "grouped customer 30000 of 30000");
}

/* sgs_purchase_index_take: the grouped customers' own index in one pass, over a copy of the
 * days (it overwrites them), against the twins' count and fill with grouped_of NULL; random
 * customers with 0 to 11 rows, refunds that cancel whole days (no occasion), and several rows
 * a day; 1, 2 and 3 threads; no customers at all. */
static void test_purchase_index_take_matches_the_twins(void **state)
{
    (void)state;
    enum { n_grouped = 20011, max_rows = 12 * n_grouped };
    static int64_t id[n_grouped];
    static size_t off[n_grouped + 1], ref_offset[n_grouped + 1], got_offset[n_grouped + 1];
    static int32_t day[max_rows], work[max_rows], ref_days[max_rows];
    static double amount[max_rows];
    const uint64_t seed = 17;
    size_t r = 0;
    for (size_t c = 0; c < n_grouped; c++) {
        id[c] = (int64_t)c;
        off[c] = r;
        int32_t d = (int32_t)(sgs_rng_u64(seed, 0, c) % 500) - 250;
        size_t rows = sgs_rng_u64(seed, 1, c) % 12;
        for (size_t k = 0; k < rows; k++) {
            day[r] = d;
            uint64_t a = sgs_rng_u64(seed, 2, r) % 5;
            /* 0: a refund of a line of 10 (a day of one line and its refund has no occasion) */
            amount[r] = a == 0 ? -10.0 : a == 1 ? 0.0 : 10.0;
            r++;
            d += (int32_t)(sgs_rng_u64(seed, 3, r) % 3);
        }
    }
    off[n_grouped] = r;
    sgs_grouped_t g = {n_grouped, r, id, off, day, amount, NULL};
    sgs_assert_cmp(sgs_purchase_index_count_ref(&g, NULL, n_grouped, ref_offset, NULL), ==, SGS_OK);
    sgs_assert_cmp(sgs_purchase_index_fill_ref(&g, NULL, n_grouped, ref_offset, ref_days, NULL), ==,
                   SGS_OK);
    sgs_assert_cmp(ref_offset[n_grouped], <, r); /* some days hold no occasion or several rows */
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        memcpy(work, day, r * sizeof *work);
        sgs_grouped_t w = g;
        w.day = work;
        int32_t *got_days = NULL;
        memset(got_offset, 0xA5, sizeof got_offset);
        sgs_assert_cmp(sgs_purchase_index_take(&w, &ex, got_offset, &got_days, NULL), ==, SGS_OK);
        if (memcmp(got_offset, ref_offset, sizeof got_offset) != 0 ||
            memcmp(got_days, ref_days, ref_offset[n_grouped] * sizeof *got_days) != 0)
            fail_msg("%d threads: not the twins' index", t);
        sgs_free(got_days);
    }
    sgs_grouped_t none = {0, 0, NULL, off, day, amount, NULL};
    size_t one_offset[1] = {99};
    int32_t *none_days = NULL;
    sgs_assert_cmp(sgs_purchase_index_take(&none, NULL, one_offset, &none_days, NULL), ==, SGS_OK);
    sgs_assert_cmp(one_offset[0], ==, 0);
    assert_non_null(none_days);
    sgs_free(none_days);
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_purchase_index_take(&g, NULL, NULL, &none_days, &err), ==, SGS_EINVAL);
}

/* ---- the rate and the buyers' columns --------------------------------------------------- */

static void test_rate_while_buying(void **state)
{
    (void)state;
    /* r = 0.243, alpha = 4.414 weeks; 3 repeat purchases over 5 weeks: (3.243 / 9.414) / 7 */
    sgs_assert_close(sgs_rate_while_buying(bg, 3.0, 5.0, 7.0), 3.243 / 9.414 / 7.0, 0, 1e-15);
    /* no repeat purchase: the prior mean r / alpha */
    sgs_assert_close(sgs_rate_while_buying(bg, 0.0, 0.0, 1.0), 0.243 / 4.414, 0, 1e-15);
}

static void test_buyer_columns(void **state)
{
    (void)state;
    /* buyers 0 and 1; the index has a prospect between them */
    const int64_t buyer_row[3] = {1, -1, 0};
    const double p_buy[2] = {0.25, 0.75}, pnp[2] = {0.5, 0.125}, clv[2] = {10.0, 20.0};
    const int32_t freq[2] = {0, 4}, recency[2] = {0, 35};
    sgs_buyer_scores_t s = {p_buy, pnp, clv, freq, recency, bg, 7.0};
    double pb[3], pm[3], cv[3], rate[3];
    sgs_exec_t ex = {.n_threads = 2, .grain = 1};
    sgs_assert_cmp(sgs_stage_buyer_columns(3, buyer_row, &s, &ex, pb, pm, cv, rate, NULL), ==,
                   SGS_OK);
    sgs_assert_cmp(pb[0], ==, 0.75);
    sgs_assert_cmp(pm[0], ==, 0.875);
    sgs_assert_cmp(cv[0], ==, 20.0);
    sgs_assert_close(rate[0], 4.243 / 9.414 / 7.0, 0, 1e-15); /* 35 days = 5 weeks */
    sgs_assert_nan(pb[1]);
    sgs_assert_nan(pm[1]);
    sgs_assert_nan(cv[1]);
    sgs_assert_nan(rate[1]);
    sgs_assert_cmp(pm[2], ==, 0.5);
    s.p_buy = NULL; /* unknown for everyone */
    double ref[4][3];
    sgs_assert_cmp(
        sgs_stage_buyer_columns_ref(3, buyer_row, &s, ref[0], ref[1], ref[2], ref[3], NULL), ==,
        SGS_OK);
    sgs_assert_nan(ref[0][0]);
    sgs_assert_nan(ref[0][2]);
    sgs_assert_cmp(ref[1][2], ==, 0.5);
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t e = {.n_threads = t, .grain = 1};
        double got[4][3];
        sgs_assert_cmp(
            sgs_stage_buyer_columns(3, buyer_row, &s, &e, got[0], got[1], got[2], got[3], NULL), ==,
            SGS_OK);
        assert_memory_equal(got, ref, sizeof ref);
    }
    sgs_assert_cmp(sgs_stage_buyer_columns(3, NULL, &s, NULL, pb, pm, cv, rate, NULL), ==,
                   SGS_EINVAL);
}

/* ---- the columns at another day --------------------------------------------------------- */

static void test_model_at_by_hand(void **state)
{
    (void)state;
    hb_t h;
    hb_init(&h);
    hb_customer(&h, 1); /* buys on 100, 114, 128 and 200 */
    hb_buy_every(&h, 100, 14, 3);
    hb_buy(&h, 200);
    hb_customer(&h, 2); /* buys only after the day */
    hb_buy(&h, 190);
    hb_customer(&h, 3); /* never buys */
    sgs_stage_input_t in = hb_input(&h);
    double a[] = {0.2, 0.8}, raw[] = {0.1, 0.4}, w[] = {100, 100}, b[] = {20, 40};
    sgs_isotonic_t cal;
    assert_int_equal(sgs_alive_calibration_fit(a, raw, w, b, 2, &cal, NULL), 0);
    for (int calibrated = 0; calibrated < 2; calibrated++) {
        sgs_stage_model_t m = {SGS_MODEL_BGNBD, bg, 7.0, 52.0, calibrated ? &cal : NULL};
        double p_buy[3], rate[3], ref_p[3], ref_rate[3];
        sgs_exec_t ex = {.n_threads = 2, .grain = 1};
        sgs_assert_cmp(sgs_stage_model_at(&in, 150, &m, &ex, p_buy, rate, NULL), ==, SGS_OK);
        /* customer 1 at day 150: x = 2, t_x = 28 days = 4 weeks, T = 50 days */
        double x = 2, t_x = 4, T = 50 / 7.0;
        sgs_assert_close(rate[0], 2.243 / 8.414 / 7.0, 0, 1e-15);
        double pnp = sgs_purchase_prob_no_purchase(SGS_MODEL_BGNBD, bg, 52.0, x, t_x, T);
        double pa = sgs_purchase_p_alive(SGS_MODEL_BGNBD, bg, x, t_x, T);
        double want = calibrated ? sgs_calibrated_p_buy(&cal, pa, 1.0 - pnp) : 1.0 - pnp;
        sgs_assert_close(p_buy[0], want, 0, 1e-15);
        for (int u = 1; u < 3; u++) { /* nothing on or before day 150 */
            sgs_assert_nan(p_buy[u]);
            sgs_assert_nan(rate[u]);
        }
        sgs_assert_cmp(sgs_stage_model_at_ref(&in, 150, &m, ref_p, ref_rate, NULL), ==, SGS_OK);
        assert_memory_equal(ref_p, p_buy, sizeof p_buy);
        assert_memory_equal(ref_rate, rate, sizeof rate);
        /* without p_buy: the same rates */
        double rate_only[3];
        sgs_assert_cmp(sgs_stage_model_at(&in, 150, &m, &ex, NULL, rate_only, NULL), ==, SGS_OK);
        assert_memory_equal(rate_only, rate, sizeof rate);
    }
    sgs_stage_model_t bad = {SGS_MODEL_BGNBD, bg, 0.0, 52.0, NULL};
    double rate[3];
    sgs_assert_cmp(sgs_stage_model_at(&in, 150, &bad, NULL, NULL, rate, NULL), ==, SGS_EINVAL);
    sgs_isotonic_free(&cal);
}

static void test_model_at_threads_and_twin(void **state)
{
    (void)state;
    enum { n = 20000 };
    const uint64_t seed = 77;
    big_t base;
    big_make(&base, n, seed);
    sgs_stage_input_t in = big_input(&base);
    static double ref_p[n], ref_rate[n], got_p[n], got_rate[n];
    for (int model = 0; model < SGS_PURCHASE_MODEL_COUNT; model++) {
        sgs_stage_model_t m = {model, bg, 1.0, 365.0, NULL};
        sgs_assert_cmp(sgs_stage_model_at_ref(&in, 800, &m, ref_p, ref_rate, NULL), ==, SGS_OK);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            sgs_assert_cmp(sgs_stage_model_at(&in, 800, &m, &ex, got_p, got_rate, NULL), ==,
                           SGS_OK);
            if (memcmp(got_p, ref_p, sizeof got_p) != 0 ||
                memcmp(got_rate, ref_rate, sizeof got_rate) != 0)
                fail_msg("seed %llu, model %d, %d threads: not the reference's bits",
                         (unsigned long long)seed, model, t);
        }
    }
    big_free(&base);
}

/* ---- gather and came back --------------------------------------------------------------- */

static void test_gather_and_came_back(void **state)
{
    (void)state;
    const int64_t row[4] = {2, -1, 0, 1};
    const double src[3] = {0.5, 0.25, 0.125};
    double dst[4];
    sgs_exec_t ex = {.n_threads = 3, .grain = 1};
    sgs_assert_cmp(sgs_gather_rows(4, row, src, &ex, dst, NULL), ==, SGS_OK);
    sgs_assert_cmp(dst[0], ==, 0.125);
    sgs_assert_nan(dst[1]);
    sgs_assert_cmp(dst[2], ==, 0.5);
    sgs_assert_cmp(dst[3], ==, 0.25);

    hb_t h;
    hb_init(&h);
    hb_customer(&h, 1); /* back on 130, within the holdout */
    hb_buy(&h, 90);
    hb_buy(&h, 130);
    hb_customer(&h, 2); /* back only on 170, after it */
    hb_buy(&h, 95);
    hb_buy(&h, 170);
    hb_customer(&h, 3); /* not back */
    hb_buy(&h, 99);
    hb_customer(&h, 4); /* not scored by the backtest */
    hb_buy(&h, 80);
    hb_buy(&h, 120);
    sgs_stage_input_t in = hb_input(&h);
    const uint8_t stage[4] = {SGS_STAGE_ACTIVE, SGS_STAGE_ACTIVE, SGS_STAGE_AT_RISK,
                              SGS_STAGE_ACTIVE};
    const double p_buy[4] = {0.9, 0.8, 0.3, NAN};
    int64_t customers[SGS_STAGE_COUNT], bought[SGS_STAGE_COUNT];
    for (int t = 1; t <= 3; t++) { /* a customer or two per thread */
        sgs_exec_t per = {.n_threads = t, .grain = 1};
        sgs_assert_cmp(
            sgs_stage_came_back(&in, stage, p_buy, 100, 150, &per, customers, bought, NULL), ==,
            SGS_OK);
        sgs_assert_cmp(customers[SGS_STAGE_ACTIVE], ==, 2);
        sgs_assert_cmp(bought[SGS_STAGE_ACTIVE], ==, 1);
        sgs_assert_cmp(customers[SGS_STAGE_AT_RISK], ==, 1);
        sgs_assert_cmp(bought[SGS_STAGE_AT_RISK], ==, 0);
        sgs_assert_cmp(customers[SGS_STAGE_LAPSED], ==, 0);
        const uint8_t bad_stage[4] = {0, SGS_STAGE_COUNT, SGS_STAGE_COUNT + 1, 0};
        sgs_error_t err = {0};
        sgs_assert_cmp(
            sgs_stage_came_back(&in, bad_stage, p_buy, 100, 150, &per, customers, bought, &err), ==,
            SGS_EDATA);
        sgs_assert_contains(err.message, "stage code 9 of customer 2");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_purchase_index_by_hand),
        cmocka_unit_test(test_purchase_index_threads_and_twin),
        cmocka_unit_test(test_purchase_index_take_matches_the_twins),
        cmocka_unit_test(test_rate_while_buying),
        cmocka_unit_test(test_buyer_columns),
        cmocka_unit_test(test_model_at_by_hand),
        cmocka_unit_test(test_model_at_threads_and_twin),
        cmocka_unit_test(test_gather_and_came_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
