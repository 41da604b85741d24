/*
 * tests/unit/test_summary_rfm_twins.c — the parallel summary and RFM kernels against their
 * serial reference twins (kernels/summary.h, kernels/rfm.h) on 1, 2 and 3 threads, on crafted
 * and random data: the same bytes and the same return codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/rfm.h"
#include "kernels/summary.h"
#include "kernels/tables.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Grouped rows: random customers, each with rows in day order ---------------------- */

typedef struct rows {
    sgs_grouped_t g;
    int64_t *id;
    size_t *offset;
    int32_t *day;
    double *amount;
    uint8_t *channel;
} rows_t;

/* n customers with 0..12 rows each over days 0..last_day: same-day rows, refunds (some larger
 * than the day's purchases), zero amounts, cancelled days. */
static void rows_random(rows_t *r, size_t n, int32_t last_day, uint64_t seed)
{
    uint64_t s = seed;
    size_t cap = 12 * n + 1;
    r->id = malloc(n * sizeof *r->id);
    r->offset = malloc((n + 1) * sizeof *r->offset);
    r->day = malloc(cap * sizeof *r->day);
    r->amount = malloc(cap * sizeof *r->amount);
    r->channel = malloc(cap * sizeof *r->channel);
    assert_non_null(r->id);
    assert_non_null(r->offset);
    assert_non_null(r->day);
    assert_non_null(r->amount);
    assert_non_null(r->channel);
    size_t k = 0;
    r->offset[0] = 0;
    for (size_t c = 0; c < n; c++) {
        r->id[c] = (int64_t)(3 * c + 1);
        size_t m = sgs_test_next(&s) % 13;
        int32_t d = (int32_t)(sgs_test_next(&s) % (uint64_t)(last_day + 1));
        for (size_t j = 0; j < m; j++) {
            if (sgs_test_next(&s) % 3 == 0) /* else the same day again */
                d += (int32_t)(sgs_test_next(&s) % 40);
            if (d > last_day)
                break;
            double u = sgs_test_uniform(&s), a = u < 0.15   ? -100.0 * sgs_test_uniform(&s)
                                                 : u < 0.2  ? 0.0
                                                 : u < 0.25 ? 0.1 * (double)(sgs_test_next(&s) % 4)
                                                            : 200.0 * sgs_test_uniform(&s);
            r->day[k] = d;
            r->amount[k] = a;
            r->channel[k] =
                (uint8_t)(sgs_test_next(&s) % (SGS_CHANNEL_COUNT + 2)); /* some out of range */
            k++;
        }
        r->offset[c + 1] = k;
    }
    r->g = (sgs_grouped_t){n, k, r->id, r->offset, r->day, r->amount, r->channel};
}

static void rows_free(rows_t *r)
{
    sgs_free(r->id);
    sgs_free(r->offset);
    sgs_free(r->day);
    sgs_free(r->amount);
    sgs_free(r->channel);
}

/* Fail unless every column allocated in a is byte-identical in b. */
static void assert_summaries_equal(const sgs_summary_t *a, const sgs_summary_t *b, const char *what,
                                   int threads, uint64_t seed)
{
    size_t n = a->n_customers;
    assert_int_equal(n, b->n_customers);
#define SAME(col)                                                                                  \
    do {                                                                                           \
        if ((a->col == NULL) != (b->col == NULL) ||                                                \
            (a->col && memcmp(a->col, b->col, n * sizeof *a->col) != 0))                           \
            fail_msg("%s, seed %llu, %d threads: column " #col " differs from the reference",      \
                     what, (unsigned long long)seed, threads);                                     \
    } while (0)
    SAME(has_purchase);
    SAME(first_day);
    SAME(last_day);
    SAME(n_purchase_days);
    SAME(frequency);
    SAME(recency_days);
    SAME(age_days);
    SAME(days_since_last);
    SAME(total_spend);
    SAME(mean_spend);
    SAME(monetary);
    SAME(refund_total);
    SAME(n_refunds);
    SAME(n_cancelled_days);
    SAME(gap_mean_days);
    SAME(gap_sd_days);
    SAME(main_channel);
#undef SAME
}

/* The three summary kernels on random bases against their twins, 1, 2 and 3 threads. */
static void test_summaries_match_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 7, 5000, 20011};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 1000 + z;
        size_t n = sizes[z];
        rows_t r;
        rows_random(&r, n, 700, seed);
        sgs_summary_t ref, got;
        assert_int_equal(sgs_summary_alloc(&ref, n), 0);
        assert_int_equal(sgs_summary_alloc(&got, n), 0);
        /* every column written: compare bytes even where a kernel leaves a slot alone */
        assert_int_equal(sgs_summarize_ref(&r.g, 700, &ref, NULL), 0);
        size_t *which = malloc(n * sizeof *which);
        assert_non_null(which);
        for (size_t j = 0; j < n; j++) /* every customer once (7919 is prime to each n) */
            which[j] = (j * 7919) % n;
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            assert_int_equal(sgs_summarize(&ex, &r.g, 700, &got, NULL), 0);
            assert_summaries_equal(&ref, &got, "sgs_summarize", t, seed);
        }
        assert_int_equal(sgs_summarize_until_ref(&r.g, 350, &ref, NULL), 0);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            assert_int_equal(sgs_summarize_until(&ex, &r.g, 350, &got, NULL), 0);
            assert_summaries_equal(&ref, &got, "sgs_summarize_until", t, seed);
        }
        sgs_summary_t sref, sgot;
        assert_int_equal(sgs_summary_alloc_history(&sref, n), 0);
        assert_int_equal(sgs_summary_alloc_history(&sgot, n), 0);
        assert_int_equal(sgs_summarize_until_subset_ref(&r.g, 420, which, n, &sref, NULL), 0);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            assert_int_equal(sgs_summarize_until_subset(&ex, &r.g, 420, which, n, &sgot, NULL), 0);
            assert_summaries_equal(&sref, &sgot, "sgs_summarize_until_subset", t, seed);
        }
        free(which);
        sgs_summary_free(&sref);
        sgs_summary_free(&sgot);
        sgs_summary_free(&ref);
        sgs_summary_free(&got);
        rows_free(&r);
    }
}

/* Crafted failures: rows after the as-of day, and spend sums that overflow in two customers;
 * the twin and the kernel give the same code and name the same customer. */
static void test_summary_errors_match_the_reference(void **state)
{
    (void)state;
    rows_t r;
    rows_random(&r, 9000, 300, 77);
    /* customers 4321 and 8000 overflow (given rows of their own) */
    for (size_t c = 4321; c < 9000; c += 3679) {
        size_t lo = r.offset[c], hi = r.offset[c + 1];
        if (hi - lo < 2)
            continue;
        r.amount[lo] = r.amount[lo + 1] = DBL_MAX;
    }
    sgs_summary_t ref, got;
    assert_int_equal(sgs_summary_alloc(&ref, 9000), 0);
    assert_int_equal(sgs_summary_alloc(&got, 9000), 0);
    sgs_error_t e_ref = {0};
    int rc_ref = sgs_summarize_ref(&r.g, 300, &ref, &e_ref);
    int rc_late_ref = sgs_summarize_ref(&r.g, 200, &ref, NULL);
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        sgs_error_t e = {0};
        assert_int_equal(sgs_summarize(&ex, &r.g, 300, &got, &e), rc_ref);
        assert_string_equal(e.message, e_ref.message);
        assert_int_equal(sgs_summarize(&ex, &r.g, 200, &got, NULL), rc_late_ref);
    }
    assert_int_equal(rc_late_ref, SGS_EINVAL);
    sgs_summary_free(&ref);
    sgs_summary_free(&got);
    rows_free(&r);
}

/* ---- RFM ------------------------------------------------------------------------------ */

/* Values with many ties, signed zeros, infinities and wide ranges; scores for every bin count
 * and both directions against the twin (the definition), 1, 2 and 3 threads. */
static void test_rfm_scores_match_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 10, 1000, 70001};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 2000 + z, s = seed;
        size_t n = sizes[z];
        double *v = malloc(n * sizeof *v);
        uint8_t *ref = malloc(n), *got = malloc(n);
        void *ws = malloc(sgs_rfm_workspace_size(n));
        assert_true(v && ref && got && ws);
        for (size_t i = 0; i < n; i++) {
            double u = sgs_test_uniform(&s);
            v[i] = u < 0.3    ? (double)(sgs_test_next(&s) % 5)
                   : u < 0.35 ? -0.0
                   : u < 0.36 ? (double)INFINITY
                   : u < 0.37 ? -(double)INFINITY
                   : u < 0.7
                       ? ldexp(sgs_test_uniform(&s) - 0.5, (int)(sgs_test_next(&s) % 200) - 100)
                       : 1000.0 * sgs_test_uniform(&s);
        }
        for (int bins = 2; bins <= 9; bins++)
            for (int hib = 0; hib <= 1; hib++) {
                assert_int_equal(sgs_rfm_score_ref(v, n, hib, bins, ws, ref, NULL), 0);
                for (int t = 1; t <= 3; t++) {
                    sgs_exec_t ex = {.n_threads = t, .grain = 1};
                    assert_int_equal(sgs_rfm_score(&ex, v, n, hib, bins, ws, got, NULL), 0);
                    if (memcmp(ref, got, n) != 0)
                        fail_msg("seed %llu, n %zu, %d bins, higher_is_better %d, %d threads: "
                                 "scores differ from the reference",
                                 (unsigned long long)seed, n, bins, hib, t);
                }
            }
        v[n / 2] = NAN;
        sgs_exec_t ex = {.n_threads = 2, .grain = 1};
        assert_int_equal(sgs_rfm_score_ref(v, n, 1, 5, ws, ref, NULL), SGS_EINVAL);
        assert_int_equal(sgs_rfm_score(&ex, v, n, 1, 5, ws, got, NULL), SGS_EINVAL);
        assert_int_equal(sgs_rfm_score_ref(v, n, 1, 10, ws, ref, NULL), SGS_EINVAL);
        free(v);
        sgs_free(ref);
        sgs_free(got);
        free(ws);
    }
}

/* Every (r, f, m) on every bin count: segment, cell and total against the twin. */
static void test_rfm_segments_match_the_reference(void **state)
{
    (void)state;
    enum { N = 9 * 9 * 9 };
    uint8_t r[N], f[N], m[N], seg_ref[N], seg[N], tot_ref[N], tot[N];
    uint16_t cell_ref[N], cell[N];
    for (int bins = 2; bins <= 9; bins++) {
        size_t n = 0;
        for (int a = 1; a <= bins; a++)
            for (int b = 1; b <= bins; b++)
                for (int c = 1; c <= bins; c++, n++) {
                    r[n] = (uint8_t)a;
                    f[n] = (uint8_t)b;
                    m[n] = (uint8_t)c;
                }
        sgs_rfm_segments_ref(r, f, m, n, bins, seg_ref, cell_ref, tot_ref);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            sgs_rfm_segments(&ex, r, f, m, n, bins, seg, cell, tot);
            assert_memory_equal(seg, seg_ref, n);
            assert_memory_equal(cell, cell_ref, n * sizeof cell[0]);
            assert_memory_equal(tot, tot_ref, n);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summaries_match_the_reference),
        cmocka_unit_test(test_summary_errors_match_the_reference),
        cmocka_unit_test(test_rfm_scores_match_the_reference),
        cmocka_unit_test(test_rfm_segments_match_the_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
