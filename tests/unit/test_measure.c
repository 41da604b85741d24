/*
 * tests/unit/test_measure.c — the kernels of segscore measure (kernels/measure.h): Wilson and
 * Newcombe intervals against Newcombe (1998) Table II and against values computed
 * independently; the Welch interval of revenue per customer through the per-arm sums;
 * degenerate arms (no control, one customer, no variance, 0 and n successes); the outcome
 * window's edges by hand; the incremental revenue and the cumulative impact; and the
 * parallel kernels on 1, 2 and 3 threads (grain 1) bit for bit against each other and
 * against serial reference twins written here. Randomized cases take a fixed seed and print
 * it when they fail.
 *
 * The reference numbers were computed offline with Python 3's standard library (no scipy on
 * this machine), from the textbook formulas written out independently of the kernel:
 *   z = NormalDist().inv_cdf(0.975) = 1.9599639845400536
 *   wilson(x, n): p = x/n; c = p + z²/2n; h = z sqrt(p(1-p)/n + z²/4n²); (c ∓ h)/(1 + z²/n)
 *   newcombe: d = p_t - p_c; d - sqrt((p_t-l_t)² + (u_c-p_c)²), d + sqrt((u_t-p_t)² + (p_c-l_c)²)
 *   welch: d = mean(t) - mean(c); se² = variance(t)/len(t) + variance(c)/len(c) (statistics
 *          .variance: divisor n - 1); d ∓ z se
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/measure.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY INT64_C(86400)

/* ---- intervals --------------------------------------------------------------------------- */

static void test_z(void **state)
{
    (void)state;
    sgs_assert_close(SGS_MEASURE_Z95, 1.9599639845400536, 1e-15, 0);
}

static void test_wilson(void **state)
{
    (void)state;
    static const struct {
        int64_t x, n;
        double lo, hi;
    } cases[] = {
        {0, 10, 0.0, 0.27753279986288915},
        {10, 10, 0.72246720013711085, 1.0},
        {3, 20, 0.052368745896216609, 0.36041886474075691},
        {81, 263, 0.25528851987827428, 0.36620957698280016},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double lo, hi;
        sgs_measure_wilson(cases[i].x, cases[i].n, SGS_MEASURE_Z95, &lo, &hi);
        sgs_assert_close(lo, cases[i].lo, 1e-12, 0);
        sgs_assert_close(hi, cases[i].hi, 1e-12, 0);
    }
}

/* Newcombe (1998), Table II, method 10 (printed to 4 decimals), and the same cases to full
 * precision from the independent computation above. */
static void test_newcombe(void **state)
{
    (void)state;
    static const struct {
        int64_t xt, nt, xc, nc;
        double lo4, hi4; /* Newcombe 1998, Table II */
        double lo, hi;   /* Python, full precision */
    } cases[] = {
        {56, 70, 48, 80, 0.0524, 0.3339, 0.052431472402364926, 0.33387265403690586},
        {9, 10, 3, 10, 0.1705, 0.8090, 0.17052272393450307, 0.80901797353548799},
        {5, 56, 0, 29, -0.0381, 0.1926, -0.038137147903536853, 0.19256001385511157},
        {0, 10, 0, 20, -0.1611, 0.2775, -0.1611251580528193, 0.27753279986288915},
        {0, 10, 0, 10, -0.2775, 0.2775, -0.27753279986288915, 0.27753279986288915},
        {10, 10, 0, 20, 0.6791, 1.0000, 0.67908603714191484, 1.0},
        {10, 10, 0, 10, 0.6075, 1.0000, 0.60750935043052434, 1.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double d, lo, hi;
        sgs_measure_newcombe(cases[i].xt, cases[i].nt, cases[i].xc, cases[i].nc, SGS_MEASURE_Z95,
                             &d, &lo, &hi);
        sgs_assert_close(d,
                         (double)cases[i].xt / (double)cases[i].nt -
                             (double)cases[i].xc / (double)cases[i].nc,
                         1e-15, 0);
        sgs_assert_close(lo, cases[i].lo4, 5.1e-5, 0);
        sgs_assert_close(hi, cases[i].hi4, 5.1e-5, 0);
        sgs_assert_close(lo, cases[i].lo, 1e-12, 0);
        sgs_assert_close(hi, cases[i].hi, 1e-12, 0);
        /* never a point, even at 0 or n successes in both arms */
        sgs_assert_cmp(lo, <, hi);
        sgs_assert_cmp(lo, <=, d);
        sgs_assert_cmp(d, <=, hi);
    }
}

/* ---- per-arm sums with hand-made outcomes -------------------------------------------------- */

typedef struct fixture {
    size_t n;
    uint8_t *responded, *bought, *renewed;
    double *revenue, *before, *after;
    int64_t *before_t, *after_t;
    sgs_measure_outcomes_t o;
} fixture_t;

static void fixture_init(fixture_t *f, size_t n)
{
    memset(f, 0, sizeof *f);
    f->n = n;
    f->responded = calloc(n, 1);
    f->bought = calloc(n, 1);
    f->renewed = calloc(n, 1);
    f->revenue = calloc(n, sizeof(double));
    f->before = malloc(n * sizeof(double));
    f->after = malloc(n * sizeof(double));
    f->before_t = calloc(n, sizeof(int64_t));
    f->after_t = calloc(n, sizeof(int64_t));
    for (size_t i = 0; i < n; i++)
        f->before[i] = f->after[i] = NAN;
    f->o = (sgs_measure_outcomes_t){f->responded, f->bought, f->renewed,  f->revenue,
                                    f->before,    f->after,  f->before_t, f->after_t};
}

static void fixture_free(fixture_t *f)
{
    sgs_free(f->responded);
    sgs_free(f->bought);
    sgs_free(f->renewed);
    sgs_free(f->revenue);
    sgs_free(f->before);
    sgs_free(f->after);
    sgs_free(f->before_t);
    sgs_free(f->after_t);
}

static sgs_measure_table_t table, table2;

static void arms(const uint32_t *cust, const uint8_t *kind, const uint8_t *channel,
                 const uint8_t *group, size_t n, const sgs_measure_outcomes_t *o, int threads,
                 sgs_measure_table_t *out)
{
    size_t nw = sgs_measure_arms_workspace(n);
    sgs_measure_table_t *ws = malloc(nw * sizeof *ws);
    assert_non_null(ws);
    sgs_exec_t ex = {.n_threads = threads, .grain = 1};
    sgs_error_t err = {0};
    int rc = sgs_measure_arms(cust, kind, channel, group, n, o, &ex, ws, out, &err);
    if (rc != 0)
        fail_msg("sgs_measure_arms: %s", err.message);
    sgs_free(ws);
}

/* Welch through the sums: treated revenues {12.5, 0, 0, 30.25, -4, 8, 0, 19.5} (one refund),
 * control {0, 0, 5.5, 0, 2.25, 0}, split over two channels; the kind's all-channel cell. */
static void test_welch_revenue(void **state)
{
    (void)state;
    static const double t[8] = {12.5, 0, 0, 30.25, -4.0, 8.0, 0, 19.5};
    static const double c[6] = {0, 0, 5.5, 0, 2.25, 0};
    fixture_t f;
    fixture_init(&f, 14);
    uint32_t cust[14];
    uint8_t kind[14], channel[14], group[14];
    for (size_t i = 0; i < 14; i++) {
        cust[i] = (uint32_t)(13 - i); /* rows need not be in customer order */
        f.revenue[cust[i]] = i < 8 ? t[i] : c[i - 8];
        f.bought[cust[i]] = f.revenue[cust[i]] > 0;
        kind[i] = SGS_OPP_WIN_BACK;
        channel[i] = (uint8_t)(i % 2 ? SGS_CHANNEL_EMAIL : SGS_CHANNEL_SMS);
        group[i] = i < 8 ? 0 : 1;
    }
    arms(cust, kind, channel, group, 14, &f.o, 2, &table);
    const sgs_measure_arm_t *all = table.arm[SGS_OPP_WIN_BACK][SGS_MEASURE_ALL_CHANNELS];
    assert_int_equal(all[0].n, 8);
    assert_int_equal(all[1].n, 6);
    assert_int_equal(all[0].n_bought, 4);
    assert_int_equal(all[1].n_bought, 2);
    assert_int_equal(table.arm[SGS_OPP_WIN_BACK][SGS_CHANNEL_EMAIL][0].n +
                         table.arm[SGS_OPP_WIN_BACK][SGS_CHANNEL_SMS][0].n,
                     8);
    sgs_measure_diff_t d;
    sgs_measure_compare(&all[0], &all[1], SGS_MEASURE_REVENUE, 2, &d);
    sgs_assert_close(d.diff, 6.989583333333333, 1e-12, 0);
    sgs_assert_close(d.lo, -1.4167473512652924, 1e-12, 0);
    sgs_assert_close(d.hi, 15.395914017931958, 1e-12, 0);
    sgs_assert_close(d.variance, 18.395718625992064, 1e-12, 0);
    assert_int_equal(d.reason, SGS_MEASURE_CONCLUSIVE);
    /* the default rule: 8 and 6 customers are too few to say anything */
    sgs_measure_compare(&all[0], &all[1], SGS_MEASURE_REVENUE, 30, &d);
    assert_int_equal(d.reason, SGS_MEASURE_SMALL_TREATED);
    sgs_assert_close(d.diff, 6.989583333333333, 1e-12, 0); /* still given */
    /* bought: 4/8 against 2/6, Newcombe */
    double dd, lo, hi;
    sgs_measure_newcombe(4, 8, 2, 6, SGS_MEASURE_Z95, &dd, &lo, &hi);
    sgs_measure_compare(&all[0], &all[1], SGS_MEASURE_BOUGHT, 2, &d);
    sgs_assert_close(d.diff, dd, 0, 0);
    sgs_assert_close(d.lo, lo, 0, 0);
    sgs_assert_close(d.hi, hi, 0, 0);
    /* the incremental revenue: × 8 treated customers, variance × 64 */
    sgs_measure_diff_t inc;
    sgs_measure_compare(&all[0], &all[1], SGS_MEASURE_REVENUE, 2, &d);
    sgs_measure_incremental(&d, &inc);
    sgs_assert_close(inc.diff, 8 * 6.989583333333333, 1e-11, 0);
    sgs_assert_close(inc.lo, 8 * -1.4167473512652924, 1e-11, 0);
    sgs_assert_close(inc.variance, 64 * 18.395718625992064, 1e-9, 0);
    fixture_free(&f);
}

static void test_degenerate_arms(void **state)
{
    (void)state;
    sgs_measure_arm_t t = {0}, c = {0};
    sgs_measure_diff_t d;
    /* no control: the treated figures, no difference */
    t.n = 40;
    t.n_responded = 4;
    t.revenue_sum = 80;
    t.revenue_ss = 10;
    sgs_measure_compare(&t, &c, SGS_MEASURE_RESPONSE, 30, &d);
    assert_int_equal(d.reason, SGS_MEASURE_NO_CONTROL);
    sgs_assert_close(d.treated, 0.1, 1e-15, 0);
    sgs_assert_nan(d.diff);
    sgs_assert_nan(d.lo);
    sgs_measure_compare(&t, &c, SGS_MEASURE_REVENUE, 30, &d);
    assert_int_equal(d.reason, SGS_MEASURE_NO_CONTROL);
    sgs_assert_close(d.treated, 2.0, 1e-15, 0);
    sgs_assert_nan(d.diff);
    /* one control customer: a difference, no interval for means */
    c.n = 1;
    c.revenue_sum = 5;
    sgs_measure_compare(&t, &c, SGS_MEASURE_REVENUE, 30, &d);
    assert_int_equal(d.reason, SGS_MEASURE_SMALL_CONTROL);
    sgs_assert_close(d.diff, -3.0, 1e-15, 0);
    sgs_assert_nan(d.lo);
    sgs_assert_nan(d.variance);
    /* ... but Wilson-based for a proportion */
    sgs_measure_compare(&t, &c, SGS_MEASURE_RESPONSE, 30, &d);
    sgs_assert_finite(d.lo);
    sgs_assert_finite(d.hi);
    sgs_assert_cmp(d.lo, <, d.hi);
    /* no variance in either arm: flagged, interval a point */
    sgs_measure_arm_t a = {.n = 50, .revenue_sum = 0}, b = {.n = 60, .revenue_sum = 0};
    sgs_measure_compare(&a, &b, SGS_MEASURE_REVENUE, 30, &d);
    assert_int_equal(d.reason, SGS_MEASURE_NO_VARIANCE);
    sgs_assert_close(d.lo, 0, 0, 0);
    sgs_assert_close(d.hi, 0, 0, 0);
    /* 0 successes of 50 and of 60: conclusive, a real interval around 0 */
    sgs_measure_compare(&a, &b, SGS_MEASURE_RESPONSE, 30, &d);
    assert_int_equal(d.reason, SGS_MEASURE_CONCLUSIVE);
    sgs_assert_cmp(d.lo, <, 0);
    sgs_assert_cmp(d.hi, >, 0);
    /* survey change over those with both scores only */
    sgs_measure_arm_t st = {.n = 100, .n_survey = 1, .survey_sum = 2};
    sgs_measure_arm_t sc = {.n = 100, .n_survey = 40, .survey_sum = 20, .survey_ss = 39};
    sgs_measure_compare(&st, &sc, SGS_MEASURE_SURVEY, 30, &d);
    assert_int_equal(d.n_treated, 1);
    assert_int_equal(d.reason, SGS_MEASURE_SMALL_TREATED);
    sgs_assert_close(d.diff, 1.5, 1e-15, 0);
    /* no treated: nothing to compare */
    sgs_measure_arm_t none = {0};
    sgs_measure_compare(&none, &sc, SGS_MEASURE_BOUGHT, 30, &d);
    assert_int_equal(d.reason, SGS_MEASURE_NO_TREATED);
    sgs_assert_nan(d.treated);
    assert_string_equal(sgs_measure_reason_name(SGS_MEASURE_NO_VARIANCE), "no_variance");
    assert_string_equal(sgs_measure_metric_name(SGS_MEASURE_SURVEY), "survey_change");
}

static void test_cumulative(void **state)
{
    (void)state;
    sgs_measure_diff_t k[4];
    for (int i = 0; i < 4; i++)
        k[i] = (sgs_measure_diff_t){
            .n_treated = 100, .n_control = 10, .diff = NAN, .variance = NAN, .lo = NAN, .hi = NAN};
    k[0].diff = 100;
    k[0].variance = 400;
    k[2].diff = -30;
    k[2].variance = 500;
    k[2].reason = SGS_MEASURE_SMALL_CONTROL;
    k[3].n_treated = k[3].n_control = 0; /* not on the list: neither in nor left out */
    sgs_measure_diff_t out;
    size_t in, left;
    sgs_measure_cumulative(k, 4, &out, &in, &left);
    assert_int_equal(in, 2);
    assert_int_equal(left, 1);
    sgs_assert_close(out.diff, 70, 0, 0);
    sgs_assert_close(out.variance, 900, 0, 0);
    sgs_assert_close(out.lo, 70 - SGS_MEASURE_Z95 * 30, 1e-12, 0);
    sgs_assert_close(out.hi, 70 + SGS_MEASURE_Z95 * 30, 1e-12, 0);
    assert_int_equal(out.reason, SGS_MEASURE_SMALL_CONTROL);
    k[2].reason = SGS_MEASURE_CONCLUSIVE;
    sgs_measure_cumulative(k, 4, &out, &in, &left);
    assert_int_equal(out.reason, SGS_MEASURE_CONCLUSIVE);
    sgs_measure_cumulative(k + 3, 1, &out, &in, &left);
    assert_int_equal(in, 0);
    sgs_assert_nan(out.diff);
    assert_int_not_equal(out.reason, SGS_MEASURE_CONCLUSIVE);
}

/* ---- outcomes by hand ---------------------------------------------------------------------- */

static void test_outcomes_window(void **state)
{
    (void)state;
    const int32_t as_of = 19000, end = 19030;
    const int64_t ids[3] = {5, 17, 1000000007};
    /* customer 5: a row on the as-of day (history), one on day 1, a refund, one past the end;
     * 17: only a zero-amount row (not bought) and a refund; 99: not listed */
    const int64_t tx_c[] = {5, 5, 5, 5, 17, 17, 99, 5};
    const int64_t tx_t[] = {as_of * DAY + 86399, (as_of + 1) * DAY, (as_of + 3) * DAY,
                            (end + 1) * DAY,     (as_of + 2) * DAY, end * DAY + 86399,
                            (as_of + 5) * DAY,   end * DAY};
    const double tx_a[] = {100, 10.5, -2.25, 50, 0, -4, 7, 1};
    /* events: 1000000007 responds in the window, renews on the as-of day (history: not kept);
     * 17 renews on the last day; surveys of 5: two before (the later counts), two in the
     * window at the same time (the later file row counts), one after the end */
    const int64_t ev_c[] = {1000000007, 1000000007, 17, 5, 5, 5, 5, 5, 99};
    const int64_t ev_t[] = {(as_of + 10) * DAY, as_of * DAY,       end * DAY,
                            (as_of - 9) * DAY,  (as_of - 1) * DAY, (as_of + 4) * DAY,
                            (as_of + 4) * DAY,  (end + 2) * DAY,   (as_of + 1) * DAY};
    const uint8_t ev_k[] = {8, 4, 4, 6, 6, 6, 6, 6, 8};
    const double ev_v[] = {NAN, NAN, NAN, 2, 3, 9, 7, 10, NAN};
    fixture_t f;
    fixture_init(&f, 3);
    uint32_t *index = malloc(sgs_measure_index_slots(3) * sizeof *index);
    sgs_measure_counts_t k;
    sgs_error_t err = {0};
    for (int threads = 1; threads <= 3; threads++) {
        sgs_exec_t ex = {.n_threads = threads, .grain = 1};
        int rc = sgs_measure_outcomes(ids, 3, tx_c, tx_t, tx_a, 8, ev_c, ev_t, ev_k, ev_v, 9, as_of,
                                      end, index, &ex, &f.o, &k, &err);
        assert_int_equal(rc, 0);
        sgs_assert_close(f.revenue[0], 10.5 - 2.25 + 1, 0, 0);
        assert_int_equal(f.bought[0], 1);
        sgs_assert_close(f.revenue[1], -4, 0, 0);
        assert_int_equal(f.bought[1], 0);
        assert_int_equal(f.renewed[1], 1);
        sgs_assert_close(f.revenue[2], 0, 0, 0);
        assert_int_equal(f.responded[2], 1);
        assert_int_equal(f.renewed[2], 0);
        assert_int_equal(f.responded[0] + f.responded[1], 0);
        sgs_assert_close(f.before[0], 3, 0, 0);
        sgs_assert_close(f.after[0], 7, 0, 0);
        sgs_assert_nan(f.before[1]);
        sgs_assert_nan(f.after[2]);
        assert_int_equal(k.tx_history, 1);
        assert_int_equal(k.tx_after, 1);
        assert_int_equal(k.tx_in_window, 6);
        assert_int_equal(k.tx_listed, 5);
        assert_int_equal(k.ev_after, 1);
        assert_int_equal(k.ev_history, 3);
        assert_int_equal(k.ev_in_window, 5);
        assert_int_equal(k.ev_listed, 4);
    }
    /* a window that ends before it starts is a caller's bug */
    sgs_exec_t ex = {.n_threads = 1};
    assert_int_equal(sgs_measure_outcomes(ids, 3, tx_c, tx_t, tx_a, 8, ev_c, ev_t, ev_k, ev_v, 9,
                                          as_of, as_of, index, &ex, &f.o, &k, &err),
                     SGS_EINVAL);
    free(index);
    fixture_free(&f);
}

static void test_arms_bad_codes(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f, 1);
    uint32_t cust[2] = {0, 0};
    uint8_t kind[2] = {1, 1}, channel[2] = {0, 0}, group[2] = {0, 2};
    sgs_measure_table_t ws;
    sgs_exec_t ex = {.n_threads = 1};
    sgs_error_t err = {0};
    assert_int_equal(sgs_measure_arms(cust, kind, channel, group, 2, &f.o, &ex, &ws, &table, &err),
                     SGS_EDATA);
    sgs_assert_contains(err.message, "row 1: group 2");
    group[1] = 1;
    kind[0] = 10;
    assert_int_equal(sgs_measure_arms(cust, kind, channel, group, 2, &f.o, &ex, &ws, &table, &err),
                     SGS_EDATA);
    sgs_assert_contains(err.message, "row 0: opportunity kind 10");
    fixture_free(&f);
}

/* ---- threads and reference twins ----------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t next_u64(void)
{
    return sgs_test_next(&rng_state);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_threads_and_reference(void **state)
{
    (void)state;
    const uint64_t seed = 20261206;
    rng_state = seed;
    const size_t nc = 40000, n_tx = 150000, n_ev = 120000;
    const int32_t as_of = 19500, end = 19560;
    int64_t *ids = malloc(nc * sizeof *ids);
    for (size_t i = 0; i < nc; i++)
        ids[i] = (int64_t)(next_u64() >> 20) * 2; /* even: odd ids are not listed */
    qsort(ids, nc, sizeof *ids, cmp_i64);
    size_t u = 0; /* distinct */
    for (size_t i = 0; i < nc; i++)
        if (u == 0 || ids[i] != ids[u - 1])
            ids[u++] = ids[i];
    int64_t *tc = malloc(n_tx * sizeof *tc), *tt = malloc(n_tx * sizeof *tt);
    double *ta = malloc(n_tx * sizeof *ta);
    for (size_t r = 0; r < n_tx; r++) {
        uint64_t x = next_u64();
        tc[r] = x % 7 == 0 ? ids[x % u] + 1 : ids[(x >> 8) % u];
        tt[r] = (as_of - 30 + (int64_t)(x >> 40) % 100) * DAY + (int64_t)(x % 86400);
        ta[r] = (double)((int64_t)(x >> 13) % 20000 - 2000) / 100.0 + 1.0 / 3.0;
    }
    int64_t *ec = malloc(n_ev * sizeof *ec), *et = malloc(n_ev * sizeof *et);
    uint8_t *ek = malloc(n_ev);
    double *ev = malloc(n_ev * sizeof *ev);
    for (size_t r = 0; r < n_ev; r++) {
        uint64_t x = next_u64();
        ec[r] = ids[(x >> 8) % u];
        et[r] = (as_of - 30 + (int64_t)(x >> 40) % 100) * DAY + (int64_t)(x % 3) * 3600;
        ek[r] = (uint8_t)(1 + (x >> 3) % 8);
        ev[r] = ek[r] == 6 ? (double)((x >> 20) % 11) : (double)NAN;
    }
    /* the list: every customer once, kinds, channels, groups at random */
    uint32_t *cust = malloc(u * sizeof *cust);
    uint8_t *kind = malloc(u), *chan = malloc(u), *grp = malloc(u);
    for (size_t i = 0; i < u; i++) {
        uint64_t x = next_u64();
        cust[i] = (uint32_t)((i * 7919) % u); /* a permutation: u is not a multiple of 7919 */
        kind[i] = (uint8_t)(1 + x % 9);
        chan[i] = (uint8_t)((x >> 8) % 8);
        grp[i] = (x >> 16) % 10 == 0;
    }
    fixture_t f[3];
    uint32_t *index = malloc(sgs_measure_index_slots(u) * sizeof *index);
    sgs_error_t err = {0};
    for (int t = 0; t < 3; t++) {
        fixture_init(&f[t], u);
        sgs_exec_t ex = {.n_threads = t + 1, .grain = 1};
        sgs_measure_counts_t k;
        int rc = sgs_measure_outcomes(ids, u, tc, tt, ta, n_tx, ec, et, ek, ev, n_ev, as_of, end,
                                      index, &ex, &f[t].o, &k, &err);
        if (rc != 0)
            fail_msg("seed %llu: %s", (unsigned long long)seed, err.message);
        arms(cust, kind, chan, grp, u, &f[t].o, t + 1, t == 0 ? &table : &table2);
        if (t > 0) {
            if (memcmp(f[t].revenue, f[0].revenue, u * sizeof(double)) != 0 ||
                memcmp(f[t].after, f[0].after, u * sizeof(double)) != 0 ||
                memcmp(f[t].before, f[0].before, u * sizeof(double)) != 0 ||
                memcmp(f[t].responded, f[0].responded, u) != 0 ||
                memcmp(f[t].bought, f[0].bought, u) != 0 ||
                memcmp(f[t].renewed, f[0].renewed, u) != 0)
                fail_msg("seed %llu: outcomes differ between 1 and %d threads",
                         (unsigned long long)seed, t + 1);
            if (memcmp(&table, &table2, sizeof table) != 0)
                fail_msg("seed %llu: per-arm sums differ between 1 and %d threads",
                         (unsigned long long)seed, t + 1);
        }
    }
    /* serial reference twin of the outcomes: a binary search per row, rows in file order */
    double *rev = calloc(u, sizeof *rev);
    int64_t *bt = malloc(u * sizeof *bt);
    double *bv = malloc(u * sizeof *bv);
    uint8_t *resp = calloc(u, 1);
    for (size_t i = 0; i < u; i++) {
        bt[i] = INT64_MIN;
        bv[i] = NAN;
    }
    for (size_t r = 0; r < n_tx; r++) {
        int64_t d = tt[r] / DAY;
        int64_t *hit = bsearch(&tc[r], ids, u, sizeof *ids, cmp_i64);
        if (hit && d > as_of && d <= end)
            rev[hit - ids] += ta[r];
    }
    for (size_t r = 0; r < n_ev; r++) {
        int64_t d = et[r] / DAY;
        size_t c = (size_t)((int64_t *)bsearch(&ec[r], ids, u, sizeof *ids, cmp_i64) - ids);
        if (d > as_of && d <= end && ek[r] == 8)
            resp[c] = 1;
        if (d <= as_of && ek[r] == 6 && et[r] >= bt[c]) {
            bt[c] = et[r];
            bv[c] = ev[r];
        }
    }
    for (size_t c = 0; c < u; c++) {
        if (memcmp(&rev[c], &f[0].revenue[c], sizeof(double)) != 0 ||
            resp[c] != f[0].responded[c] || isnan(bv[c]) != isnan(f[0].before[c]) ||
            (!isnan(bv[c]) && bv[c] != f[0].before[c]))
            fail_msg("seed %llu: customer %zu (id %lld): revenue %.17g vs reference %.17g, "
                     "responded %d vs %d, survey before %g vs %g",
                     (unsigned long long)seed, c, (long long)ids[c], f[0].revenue[c], rev[c],
                     f[0].responded[c], resp[c], f[0].before[c], bv[c]);
    }
    /* the kernel's serial twin (kernels/measure.h): every column and count the same bits */
    {
        fixture_t fr;
        fixture_init(&fr, u);
        sgs_measure_counts_t k_ref, k_got;
        assert_int_equal(sgs_measure_outcomes_ref(ids, u, tc, tt, ta, n_tx, ec, et, ek, ev, n_ev,
                                                  as_of, end, &fr.o, &k_ref, NULL),
                         0);
        sgs_exec_t ex = {.n_threads = 3, .grain = 1};
        assert_int_equal(sgs_measure_outcomes(ids, u, tc, tt, ta, n_tx, ec, et, ek, ev, n_ev, as_of,
                                              end, index, &ex, &f[2].o, &k_got, NULL),
                         0);
        if (memcmp(fr.revenue, f[2].revenue, u * sizeof(double)) != 0 ||
            memcmp(fr.before, f[2].before, u * sizeof(double)) != 0 ||
            memcmp(fr.after, f[2].after, u * sizeof(double)) != 0 ||
            memcmp(fr.before_t, f[2].before_t, u * sizeof(int64_t)) != 0 ||
            memcmp(fr.after_t, f[2].after_t, u * sizeof(int64_t)) != 0 ||
            memcmp(fr.responded, f[2].responded, u) != 0 ||
            memcmp(fr.bought, f[2].bought, u) != 0 || memcmp(fr.renewed, f[2].renewed, u) != 0)
            fail_msg("seed %llu: outcomes differ from the serial twin", (unsigned long long)seed);
        assert_memory_equal(&k_ref, &k_got, sizeof k_ref);
        sgs_assert_cmp(k_ref.tx_listed, >, 0);
        sgs_assert_cmp(k_ref.ev_listed, >, 0);
        fixture_free(&fr);
    }
    /* serial reference twin of the per-arm sums: counts exact, sums to rounding */
    static sgs_measure_arm_t ref[SGS_OPP_KIND_COUNT][SGS_CHANNEL_COUNT + 1][2];
    memset(ref, 0, sizeof ref);
    for (size_t r = 0; r < u; r++) {
        for (int j = 0; j < 2; j++) {
            sgs_measure_arm_t *a = &ref[kind[r]][j ? SGS_MEASURE_ALL_CHANNELS : chan[r]][grp[r]];
            a->n++;
            a->n_responded += f[0].responded[cust[r]];
            a->n_bought += f[0].bought[cust[r]];
            a->revenue_sum += f[0].revenue[cust[r]];
        }
    }
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
        for (int ch = 0; ch <= SGS_CHANNEL_COUNT; ch++)
            for (int g = 0; g < 2; g++) {
                const sgs_measure_arm_t *a = &table.arm[k][ch][g], *b = &ref[k][ch][g];
                assert_int_equal(a->n, b->n);
                assert_int_equal(a->n_responded, b->n_responded);
                assert_int_equal(a->n_bought, b->n_bought);
                sgs_assert_close(a->revenue_sum, b->revenue_sum, 1e-8, 1e-12);
                sgs_assert_cmp(a->revenue_ss, >=, 0);
            }
    sgs_assert_cmp(table.arm[3][SGS_MEASURE_ALL_CHANNELS][1].n, >, 100);
    free(rev);
    free(bt);
    free(bv);
    free(resp);
    for (int t = 0; t < 3; t++)
        fixture_free(&f[t]);
    free(index);
    free(ids);
    free(tc);
    free(tt);
    free(ta);
    free(ec);
    free(et);
    free(ek);
    free(ev);
    free(cust);
    free(kind);
    free(chan);
    free(grp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_z),
        cmocka_unit_test(test_wilson),
        cmocka_unit_test(test_newcombe),
        cmocka_unit_test(test_welch_revenue),
        cmocka_unit_test(test_degenerate_arms),
        cmocka_unit_test(test_cumulative),
        cmocka_unit_test(test_outcomes_window),
        cmocka_unit_test(test_arms_bad_codes),
        cmocka_unit_test(test_threads_and_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
