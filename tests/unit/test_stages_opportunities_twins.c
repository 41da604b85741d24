/*
 * tests/unit/test_stages_opportunities_twins.c — the parallel lifecycle and opportunity kernels
 * against their serial reference twins (kernels/stages.h, kernels/opportunities.h) on 1, 2 and
 * 3 threads, on crafted and random histories: the same bytes and the same return codes and
 * messages. Every compared output is promised thread-count independent, so all comparisons
 * are bitwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/opportunity_reason.h"
#include "kernels/opportunities.h"
#include "kernels/opportunity_rank_internal.h"
#include "kernels/stages.h"
#include "kernels/tables.h"
#include "tests/support/stage_cols.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Random histories ------------------------------------------------------------------ */

typedef struct base {
    sgs_stage_input_t in;
    int64_t *id;
    int32_t *signup;
    size_t *p_off, *e_off;
    int32_t *p_day, *e_day;
    uint8_t *e_kind, *e_channel, *pref, *main_ch;
    double *e_value, *p_buy, *p_model, *rate, *clv;
    sgs_sparse_values_t e_values; /* e_value as the kernels take it */
    int32_t *segment;
} base_t;

#define ALLOC(p, count)                                                                            \
    do {                                                                                           \
        (p) = calloc((size_t)(count) + 1, sizeof *(p));                                            \
        assert_non_null(p);                                                                        \
    } while (0)

/* n customers over days 0..1100 (the as-of days tested are 1000 and 700, so some rows come
 * later): 0..10 purchase rows with same-day repeats, 0..6 events of every kind, surveys with
 * and without a score; model columns with NaN, 0 and tiny rates; segments -1..k-1 with label 2
 * left empty. Every optional column is present; a test turns them off by NULLing them. */
static void base_random(base_t *b, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    ALLOC(b->id, n);
    ALLOC(b->signup, n);
    ALLOC(b->p_off, n + 1);
    ALLOC(b->e_off, n + 1);
    ALLOC(b->p_day, 10 * n);
    ALLOC(b->e_day, 6 * n);
    ALLOC(b->e_kind, 6 * n);
    ALLOC(b->e_channel, 6 * n);
    ALLOC(b->e_value, 6 * n);
    ALLOC(b->pref, n);
    ALLOC(b->main_ch, n);
    ALLOC(b->p_buy, n);
    ALLOC(b->p_model, n);
    ALLOC(b->rate, n);
    ALLOC(b->clv, n);
    ALLOC(b->segment, n);
    int32_t k = 1 + (int32_t)(sgs_test_next(&s) % 6);
    size_t np = 0, ne = 0;
    for (size_t i = 0; i < n; i++) {
        b->id[i] = (int64_t)(2 * i + 5);
        b->signup[i] = sgs_test_next(&s) % 3 ? SGS_DAY_NONE : (int32_t)(sgs_test_next(&s) % 1100);
        size_t m = sgs_test_next(&s) % 11;
        int32_t d = (int32_t)(sgs_test_next(&s) % 1100);
        for (size_t j = 0; j < m && d <= 1100; j++) {
            b->p_day[np++] = d;
            if (sgs_test_next(&s) % 4) /* else the same day again */
                d += 1 + (int32_t)(sgs_test_next(&s) % (sgs_test_next(&s) % 2 ? 30 : 300));
        }
        b->p_off[i + 1] = np;
        size_t me = sgs_test_next(&s) % 7;
        d = (int32_t)(sgs_test_next(&s) % 1100);
        for (size_t j = 0; j < me && d <= 1100; j++) {
            b->e_day[ne] = d;
            b->e_kind[ne] = (uint8_t)(1 + sgs_test_next(&s) % 8);
            b->e_channel[ne] = (uint8_t)(sgs_test_next(&s) % SGS_CHANNEL_COUNT);
            b->e_value[ne] = sgs_test_next(&s) % 3 ? (double)(sgs_test_next(&s) % 11) : (double)NAN;
            ne++;
            d += (int32_t)(sgs_test_next(&s) % 60);
        }
        b->e_off[i + 1] = ne;
        b->pref[i] = (uint8_t)(sgs_test_next(&s) % 3 ? 0 : sgs_test_next(&s) % SGS_CHANNEL_COUNT);
        b->main_ch[i] = (uint8_t)(sgs_test_next(&s) % SGS_CHANNEL_COUNT);
        double u = sgs_test_uniform(&s);
        b->p_buy[i] = u < 0.3 ? (double)NAN : sgs_test_uniform(&s);
        b->p_model[i] = u < 0.25 ? (double)NAN : u < 0.3 ? 0.0 : sgs_test_uniform(&s);
        u = sgs_test_uniform(&s);
        b->rate[i] = u < 0.3    ? (double)NAN
                     : u < 0.35 ? 0.0
                                : 1.0 / (2.0 + 300.0 * sgs_test_uniform(&s));
        u = sgs_test_uniform(&s);
        b->clv[i] = u < 0.1    ? (double)NAN
                    : u < 0.15 ? 0.0
                               : 1.0 + 500.0 * sgs_test_uniform(&s) * sgs_test_uniform(&s);
        int32_t g = (int32_t)(sgs_test_next(&s) % (uint64_t)(k + 1)) - 1;
        b->segment[i] = g == 2 ? 1 : g;
    }
    sgs_exec_t one = {.n_threads = 1};
    assert_int_equal(sgs_sparse_values_build(&one, b->e_value, ne, &b->e_values, NULL), SGS_OK);
    b->in = (sgs_stage_input_t){.n = n,
                                .customer_id = b->id,
                                .signup_day = b->signup,
                                .purchase_offset = b->p_off,
                                .purchase_day = b->p_day,
                                .event_offset = b->e_off,
                                .event_day = b->e_day,
                                .event_kind = b->e_kind,
                                .event_value = &b->e_values,
                                .event_channel = b->e_channel,
                                .p_buy = b->p_buy,
                                .p_buy_model = b->p_model,
                                .rate_per_day = b->rate,
                                .clv = b->clv,
                                .segment = b->segment,
                                .preferred_channel = b->pref,
                                .main_channel = b->main_ch};
}

static void base_free(base_t *b)
{
    sgs_free(b->id);
    sgs_free(b->signup);
    sgs_free(b->p_off);
    sgs_free(b->e_off);
    sgs_free(b->p_day);
    sgs_free(b->e_day);
    sgs_free(b->e_kind);
    sgs_free(b->e_channel);
    sgs_free(b->e_value);
    sgs_sparse_values_free(&b->e_values);
    sgs_free(b->pref);
    sgs_free(b->main_ch);
    sgs_free(b->p_buy);
    sgs_free(b->p_model);
    sgs_free(b->rate);
    sgs_free(b->clv);
    sgs_free(b->segment);
}

/* ---- Stages ------------------------------------------------------------------------------ */

static void assert_cols_equal(const stage_cols_t *a, const stage_cols_t *b, size_t n,
                              const char *what, uint64_t seed, int threads)
{
#define SAME(col, count)                                                                           \
    do {                                                                                           \
        if (memcmp(a->col, b->col, (count) * sizeof a->col[0]) != 0)                               \
            fail_msg("%s, seed %llu, %d threads: " #col " differs from the reference", what,       \
                     (unsigned long long)seed, threads);                                           \
    } while (0)
    SAME(stage, n);
    SAME(source, n);
    SAME(cycle, n);
    SAME(overdue, n);
    SAME(gap, n);
    SAME(n_days, n);
    SAME(seg_cycle, 8);
#undef SAME
    if (memcmp(&a->summary, &b->summary, sizeof a->summary) != 0)
        fail_msg("%s, seed %llu, %d threads: the summary differs from the reference", what,
                 (unsigned long long)seed, threads);
}

/* Which optional columns a variant keeps. */
enum { KEEP_MODEL = 1, KEEP_SEGMENT = 2, KEEP_EVENTS = 4, KEEP_SIGNUP = 8, KEEP_ALL = 15 };

static sgs_stage_input_t variant(const base_t *b, int keep)
{
    sgs_stage_input_t in = b->in;
    if (!(keep & KEEP_MODEL))
        in.p_buy = in.rate_per_day = NULL;
    if (!(keep & KEEP_SEGMENT))
        in.segment = NULL;
    if (!(keep & KEEP_EVENTS))
        in.event_offset = NULL;
    if (!(keep & KEEP_SIGNUP))
        in.signup_day = NULL;
    return in;
}

static void test_stages_match_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 37, 5000, 40009};
    const int keeps[] = {KEEP_ALL, 0, KEEP_SEGMENT | KEEP_EVENTS, KEEP_MODEL | KEEP_SIGNUP};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 5000 + z;
        size_t n = sizes[z];
        base_t b;
        base_random(&b, n, seed);
        stage_cols_t ref, got;
        stage_cols_alloc(&ref, n);
        stage_cols_alloc(&got, n);
        for (size_t v = 0; v < sizeof keeps / sizeof keeps[0]; v++)
            for (int as_of = 700; as_of <= 1000; as_of += 300) {
                sgs_stage_input_t in = variant(&b, keeps[v]);
                sgs_stage_rules_t rules;
                sgs_stage_rules_default(&rules);
                if (v == 3) { /* other thresholds: more customers reach loyal and new */
                    rules.loyal_rate_multiple = 1.1;
                    rules.loyal_min_purchases = 2;
                    rules.new_cycles = 2.5;
                }
                assert_int_equal(
                    sgs_stages_compute_ref(&in, as_of, &rules, &ref.out, &ref.summary, NULL), 0);
                for (int t = 1; t <= 3; t++) {
                    sgs_exec_t ex = {.n_threads = t, .grain = 1};
                    assert_int_equal(
                        sgs_stages_compute(&in, as_of, &rules, &ex, &got.out, &got.summary, NULL),
                        0);
                    assert_cols_equal(&ref, &got, n, "stages", seed, t);
                }
            }
        stage_cols_free(&ref);
        stage_cols_free(&got);
        base_free(&b);
    }
}

/* Bad rows and labels: the first bad customer in index order, the same code and message. */
static void test_stages_errors_match_the_reference(void **state)
{
    (void)state;
    const size_t n = 3001;
    base_t b;
    base_random(&b, n, 77);
    stage_cols_t ref, got;
    stage_cols_alloc(&ref, n);
    stage_cols_alloc(&got, n);
    for (int which = 0; which < 3; which++) {
        base_t c = b;
        int32_t *seg = malloc(n * sizeof *seg);
        int32_t *day = malloc(b.p_off[n] * sizeof *day);
        assert_non_null(seg);
        assert_non_null(day);
        memcpy(seg, b.segment, n * sizeof *seg);
        memcpy(day, b.p_day, b.p_off[n] * sizeof *day);
        c.in.segment = seg;
        c.in.purchase_day = day;
        size_t late = 2500, early = 1200;
        if (which == 0 || which == 2)
            seg[late] = (int32_t)n; /* a label not below n */
        if (which >= 1) {           /* days out of order at an earlier customer */
            while (b.p_off[early + 1] - b.p_off[early] < 2)
                early++;
            day[b.p_off[early]] = day[b.p_off[early] + 1] + 1;
        }
        sgs_error_t e_ref = {0};
        int rc = sgs_stages_compute_ref(&c.in, 1000, NULL, &ref.out, NULL, &e_ref);
        assert_int_equal(rc, SGS_EDATA);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            sgs_error_t e = {0};
            assert_int_equal(sgs_stages_compute(&c.in, 1000, NULL, &ex, &got.out, NULL, &e),
                             SGS_EDATA);
            assert_string_equal(e.message, e_ref.message);
        }
        free(seg);
        free(day);
    }
    sgs_stage_rules_t bad;
    sgs_stage_rules_default(&bad);
    bad.lapsed_p_buy = 0.9;
    sgs_exec_t ex = {.n_threads = 2, .grain = 1};
    assert_int_equal(sgs_stages_compute_ref(&b.in, 1000, &bad, &ref.out, NULL, NULL), SGS_ECONFIG);
    assert_int_equal(sgs_stages_compute(&b.in, 1000, &bad, &ex, &got.out, NULL, NULL), SGS_ECONFIG);
    stage_cols_free(&ref);
    stage_cols_free(&got);
    base_free(&b);
}

/* One customer's purchase days out of order at its last pair (pass 1 checks a customer's rows
 * and summarises those up to the as-of day in one pass: the pair may be before, at or after
 * the first row past the as-of day), or its offsets decreasing: the same code and message as
 * the reference, for each of many customers alone and at both as-of days. */
static void test_stages_late_disorder_matches_the_reference(void **state)
{
    (void)state;
    const size_t n = 2000;
    base_t b;
    base_random(&b, n, 91);
    stage_cols_t ref, got;
    stage_cols_alloc(&ref, n);
    stage_cols_alloc(&got, n);
    int32_t *day = malloc((b.p_off[n] + 1) * sizeof *day);
    size_t *off = malloc((n + 1) * sizeof *off);
    assert_non_null(day);
    assert_non_null(off);
    size_t n_tried = 0;
    for (size_t i = 0; i < n && n_tried < 120; i++) {
        size_t lo = b.p_off[i], hi = b.p_off[i + 1];
        if (hi - lo < 2 || b.p_day[hi - 1] == 0)
            continue;
        n_tried++;
        for (int how = 0; how < 2; how++) {
            if (how == 1 && lo == 0)
                continue;
            memcpy(day, b.p_day, b.p_off[n] * sizeof *day);
            memcpy(off, b.p_off, (n + 1) * sizeof *off);
            if (how == 0)
                day[hi - 1] = day[hi - 2] - 1;
            else
                off[i + 1] = lo - 1; /* offsets decrease */
            base_t c = b;
            c.in.purchase_day = day;
            c.in.purchase_offset = off;
            for (int as_of = 700; as_of <= 1000; as_of += 300) {
                sgs_error_t e_ref = {0}, e = {0};
                assert_int_equal(sgs_stages_compute_ref(&c.in, as_of, NULL, &ref.out, NULL, &e_ref),
                                 SGS_EDATA);
                sgs_exec_t ex = {.n_threads = 2, .grain = 1};
                assert_int_equal(sgs_stages_compute(&c.in, as_of, NULL, &ex, &got.out, NULL, &e),
                                 SGS_EDATA);
                assert_string_equal(e.message, e_ref.message);
            }
        }
    }
    sgs_assert_cmp(n_tried, ==, 120);
    free(day);
    free(off);
    stage_cols_free(&ref);
    stage_cols_free(&got);
    base_free(&b);
}

/* An empty base: both give a zeroed summary with the default cycle. */
static void test_stages_empty(void **state)
{
    (void)state;
    sgs_stage_input_t in = {0};
    uint8_t stage[1];
    double cycle[1], overdue[1];
    sgs_stage_output_t out = {.stage = stage, .cycle_days = cycle, .days_overdue = overdue};
    sgs_stage_summary_t a, b;
    memset(&a, 0x5A, sizeof a);
    memset(&b, 0x5A, sizeof b);
    assert_int_equal(sgs_stages_compute_ref(&in, 10, NULL, &out, &a, NULL), 0);
    sgs_exec_t ex = {.n_threads = 3, .grain = 1};
    assert_int_equal(sgs_stages_compute(&in, 10, NULL, &ex, &out, &b, NULL), 0);
    assert_memory_equal(&a, &b, sizeof a);
    sgs_assert_cmp(a.global_cycle_days, ==, 90.0);
}

static void test_transitions_match_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 999, 70001};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 600 + z, s = seed;
        size_t n = sizes[z];
        uint8_t *a, *b;
        ALLOC(a, n);
        ALLOC(b, n);
        for (size_t i = 0; i < n; i++) {
            a[i] = (uint8_t)(sgs_test_next(&s) % SGS_STAGE_COUNT);
            b[i] = sgs_test_next(&s) % 4 ? a[i] : (uint8_t)(sgs_test_next(&s) % SGS_STAGE_COUNT);
        }
        int64_t ref[SGS_STAGE_COUNT * SGS_STAGE_COUNT], got[SGS_STAGE_COUNT * SGS_STAGE_COUNT];
        assert_int_equal(sgs_stage_transitions_ref(n, a, b, ref, NULL), 0);
        int64_t total = 0;
        for (int c = 0; c < SGS_STAGE_COUNT * SGS_STAGE_COUNT; c++)
            total += ref[c];
        assert_int_equal(total, (int64_t)n);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            assert_int_equal(sgs_stage_transitions(n, a, b, &ex, got, NULL), 0);
            if (memcmp(ref, got, sizeof ref) != 0)
                fail_msg("seed %llu, %d threads: transition counts differ",
                         (unsigned long long)seed, t);
        }
        if (n > 100) { /* two bad codes: the first one is named */
            a[n - 7] = SGS_STAGE_COUNT;
            b[n / 3] = 200;
            sgs_error_t e_ref = {0};
            assert_int_equal(sgs_stage_transitions_ref(n, a, b, ref, &e_ref), SGS_EDATA);
            for (int t = 1; t <= 3; t++) {
                sgs_exec_t ex = {.n_threads = t, .grain = 1};
                sgs_error_t e = {0};
                assert_int_equal(sgs_stage_transitions(n, a, b, &ex, got, &e), SGS_EDATA);
                assert_string_equal(e.message, e_ref.message);
            }
        }
        sgs_free(a);
        sgs_free(b);
    }
}

/* ---- Opportunities ----------------------------------------------------------------------- */

typedef struct opp_extra {
    int64_t *direct, *indirect;
    double *network;
    uint8_t *blocked, *rfm, *compare;
} opp_extra_t;

static void extra_random(opp_extra_t *x, const base_t *b, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    ALLOC(x->direct, n);
    ALLOC(x->indirect, n);
    ALLOC(x->network, n);
    ALLOC(x->blocked, n);
    ALLOC(x->rfm, n);
    ALLOC(x->compare, n);
    for (size_t i = 0; i < n; i++) {
        x->direct[i] = sgs_test_next(&s) % 3 ? 0 : (int64_t)(sgs_test_next(&s) % 5);
        x->indirect[i] = x->direct[i] ? (int64_t)(sgs_test_next(&s) % 9) : 0;
        double own = isfinite(b->clv[i]) ? b->clv[i] : 0.0;
        x->network[i] = own + (double)x->direct[i] * 80.0 * sgs_test_uniform(&s);
        x->blocked[i] = sgs_test_next(&s) % 5 ? 0 : (uint8_t)(sgs_test_next(&s) & 0xFE);
        x->rfm[i] = (uint8_t)(sgs_test_next(&s) % (SGS_RFM_SEGMENT_COUNT + 1));
        x->compare[i] = (uint8_t)(sgs_test_next(&s) % SGS_STAGE_COUNT);
    }
}

static void extra_free(opp_extra_t *x)
{
    free(x->direct);
    free(x->indirect);
    free(x->network);
    free(x->blocked);
    free(x->rfm);
    free(x->compare);
}

typedef struct list {
    sgs_opportunity_rows_t rows;
    size_t n_rows;
    sgs_opportunity_list_summary_t summary;
} list_t;

static void list_alloc(list_t *l, size_t cap)
{
    ALLOC(l->rows.customer_index, cap);
    ALLOC(l->rows.kind, cap);
    ALLOC(l->rows.priority, cap);
    ALLOC(l->rows.value_at_stake, cap);
    ALLOC(l->rows.channel, cap);
    ALLOC(l->rows.rank, cap);
    ALLOC(l->rows.control, cap);
    l->n_rows = 0;
    memset(&l->summary, 0, sizeof l->summary);
}

static void list_free(list_t *l)
{
    sgs_free(l->rows.customer_index);
    sgs_free(l->rows.kind);
    sgs_free(l->rows.priority);
    sgs_free(l->rows.value_at_stake);
    sgs_free(l->rows.channel);
    sgs_free(l->rows.rank);
    sgs_free(l->rows.control);
}

static void assert_lists_equal(const list_t *a, const list_t *b, uint64_t seed, int threads)
{
    if (a->n_rows != b->n_rows)
        fail_msg("seed %llu, %d threads: %zu rows, the reference %zu", (unsigned long long)seed,
                 threads, b->n_rows, a->n_rows);
    size_t n = a->n_rows;
#define SAME(col)                                                                                  \
    do {                                                                                           \
        if (memcmp(a->rows.col, b->rows.col, n * sizeof a->rows.col[0]) != 0)                      \
            fail_msg("seed %llu, %d threads: rows." #col " differs from the reference",            \
                     (unsigned long long)seed, threads);                                           \
    } while (0)
    SAME(customer_index);
    SAME(kind);
    SAME(priority);
    SAME(value_at_stake);
    SAME(channel);
    SAME(rank);
    SAME(control);
#undef SAME
    if (memcmp(&a->summary, &b->summary, sizeof a->summary) != 0)
        fail_msg("seed %llu, %d threads: the list summary differs from the reference",
                 (unsigned long long)seed, threads);
}

static void assert_stats_equal(const sgs_opportunity_stats_t *a, const sgs_opportunity_stats_t *b,
                               uint64_t seed, int threads)
{
    int same =
        memcmp(a->n_fired, b->n_fired, sizeof a->n_fired) == 0 &&
        a->n_customers == b->n_customers && a->n_candidates == b->n_candidates &&
        a->kinds_without_input == b->kinds_without_input &&
        a->all_opportunities == b->all_opportunities && a->n_segments == b->n_segments &&
        memcmp(&a->save_clv_threshold, &b->save_clv_threshold, sizeof(double)) == 0 &&
        memcmp(&a->advocate_value_threshold, &b->advocate_value_threshold, sizeof(double)) == 0 &&
        memcmp(&a->global_clv_median, &b->global_clv_median, sizeof(double)) == 0 &&
        (a->n_segments == 0 || memcmp(a->segment_clv_median, b->segment_clv_median,
                                      (size_t)a->n_segments * sizeof(double)) == 0);
    if (!same)
        fail_msg("seed %llu, %d threads: detection stats differ from the reference",
                 (unsigned long long)seed, threads);
}

/* Detection and ranking on random bases, with and without every optional column, one kind per
 * customer and every kind, tight channel capacities (spills, rows left out), blocked and
 * avoided channels. */
static void test_opportunities_match_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 53, 4000, 30011};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        uint64_t seed = 9100 + z;
        size_t n = sizes[z];
        base_t b;
        base_random(&b, n, seed);
        opp_extra_t x;
        extra_random(&x, &b, n, seed + 1);
        stage_cols_t sc;
        stage_cols_alloc(&sc, n);
        uint16_t *f_ref, *f_got;
        ALLOC(f_ref, n);
        ALLOC(f_got, n);
        list_t l_ref, l_got;
        list_alloc(&l_ref, SGS_OPP_KIND_COUNT * n);
        list_alloc(&l_got, SGS_OPP_KIND_COUNT * n);
        for (int v = 0; v < 4; v++) {
            sgs_stage_input_t cu = variant(&b, v == 1 ? KEEP_EVENTS : KEEP_ALL);
            if (v == 1)
                cu.clv = NULL;
            assert_int_equal(sgs_stages_compute_ref(&cu, 1000, NULL, &sc.out, NULL, NULL), 0);
            sgs_opportunity_input_t in = {.customers = &cu,
                                          .as_of_day = 1000,
                                          .stage = sc.stage,
                                          .cycle_days = sc.cycle,
                                          .days_overdue = sc.overdue,
                                          .compare_day = 900};
            if (v != 1) {
                in.n_direct_referrals = x.direct;
                in.n_indirect_referrals = x.indirect;
                in.network_value = x.network;
                in.blocked_channels = x.blocked;
                in.rfm_segment = x.rfm;
            }
            if (v == 2)
                in.stage_compare = x.compare;
            sgs_opportunity_config_t cfg;
            sgs_opportunity_config_default(&cfg);
            cfg.all_opportunities = v >= 2;
            if (v == 3) { /* tight capacities, avoided channels, a kind off */
                for (int c = 1; c < SGS_CHANNEL_COUNT; c++)
                    cfg.channel_capacity[c] = (int64_t)(n / 9 + (size_t)c);
                cfg.channel_capacity[SGS_CHANNEL_COUNT - 1] = 0;
                cfg.avoid_channels[SGS_OPP_GROW] = 1u << 3;
                cfg.avoid_channels_by_rfm[SGS_OPP_WIN_BACK][2] = 1u << 1;
                cfg.enabled[SGS_OPP_ONBOARDING] = 0;
                cfg.service_min_contacts = 1;
                cfg.detractor_window_days = 400;
            }
            sgs_opportunity_stats_t s_ref, s_got;
            assert_int_equal(sgs_opportunities_detect_ref(&in, &cfg, f_ref, &s_ref, NULL), 0);
            assert_int_equal(sgs_opportunities_rank_ref(&in, &cfg, &s_ref, f_ref, &l_ref.rows,
                                                        SGS_OPP_KIND_COUNT * n, &l_ref.n_rows,
                                                        &l_ref.summary, NULL),
                             0);
            for (int t = 1; t <= 3; t++) {
                sgs_exec_t ex = {.n_threads = t, .grain = 1};
                assert_int_equal(sgs_opportunities_detect(&in, &cfg, &ex, f_got, &s_got, NULL), 0);
                if (memcmp(f_ref, f_got, n * sizeof *f_ref) != 0)
                    fail_msg("seed %llu, variant %d, %d threads: fired masks differ",
                             (unsigned long long)seed, v, t);
                assert_stats_equal(&s_ref, &s_got, seed, t);
                memset(&l_got.summary, 0xA5, sizeof l_got.summary);
                assert_int_equal(sgs_opportunities_rank(&in, &cfg, &s_got, f_got, &ex, &l_got.rows,
                                                        SGS_OPP_KIND_COUNT * n, &l_got.n_rows,
                                                        &l_got.summary, NULL),
                                 0);
                assert_lists_equal(&l_ref, &l_got, seed, t);
                sgs_opportunity_stats_free(&s_got);
            }
            sgs_opportunity_stats_free(&s_ref);
        }
        list_free(&l_ref);
        list_free(&l_got);
        free(f_ref);
        free(f_got);
        stage_cols_free(&sc);
        extra_free(&x);
        base_free(&b);
    }
}

/* A random base of n customers and its extra columns (seeds seed and seed + 1), their stages as
 * of day 1000 by the reference, and the opportunity input over them, compared with day 900. */
static sgs_opportunity_input_t random_opportunity_input(base_t *b, opp_extra_t *x, stage_cols_t *sc,
                                                        size_t n, uint64_t seed)
{
    base_random(b, n, seed);
    extra_random(x, b, n, seed + 1);
    stage_cols_alloc(sc, n);
    assert_int_equal(sgs_stages_compute_ref(&b->in, 1000, NULL, &sc->out, NULL, NULL), 0);
    return (sgs_opportunity_input_t){.customers = &b->in,
                                     .as_of_day = 1000,
                                     .stage = sc->stage,
                                     .cycle_days = sc->cycle,
                                     .days_overdue = sc->overdue,
                                     .compare_day = 900,
                                     .n_direct_referrals = x->direct,
                                     .n_indirect_referrals = x->indirect,
                                     .network_value = x->network};
}
/* The routes packed into the candidates where they are made (in customer order) against
 * sgs__opportunity_route of each, worked out from the columns, with blocked and avoided
 * channels, RFM segments and every kind; and packing then unpacking every route value. */
static void test_packed_routes(void **state)
{
    (void)state;
    const size_t n = 30011;
    base_t b;
    opp_extra_t x;
    stage_cols_t sc;
    sgs_opportunity_input_t in = random_opportunity_input(&b, &x, &sc, n, 77);
    in.blocked_channels = x.blocked;
    in.rfm_segment = x.rfm;
    uint16_t *fired;
    ALLOC(fired, n);
    for (int all = 0; all <= 1; all++) {
        sgs_opportunity_config_t cfg;
        sgs_opportunity_config_default(&cfg);
        cfg.all_opportunities = all;
        cfg.avoid_channels[SGS_OPP_GROW] = 1u << 3;
        cfg.avoid_channels_by_rfm[SGS_OPP_WIN_BACK][2] = 1u << 1;
        cfg.control_share = 0.3;
        sgs_opportunity_stats_t st;
        sgs_exec_t ex = {.n_threads = 2, .grain = 1};
        assert_int_equal(sgs_opportunities_detect(&in, &cfg, &ex, fired, &st, NULL), 0);
        sgs__opp_cand_t *cand = NULL;
        size_t m = 0;
        assert_int_equal(sgs__opportunity_candidates(&in, &cfg, &st, fired, &ex, &cand, &m, NULL),
                         0);
        sgs_assert_cmp(m, >, n / 10);
        int seen_blocked = 0, seen_unanswered = 0, seen_control = 0;
        for (size_t k = 0; k < m; k++) {
            sgs__opp_route_t want = sgs__opportunity_route(&in, &cfg, &cand[k]);
            sgs__opp_route_t got = sgs__opportunity_route_unpack(&cand[k]);
            if (got.own != want.own || got.blocked != want.blocked ||
                got.own_unanswered != want.own_unanswered || got.control != want.control)
                fail_msg("all=%d: candidate %zu (customer %lld, kind %d): packed route differs",
                         all, k, (long long)cand[k].index, cand[k].kind);
            seen_blocked |= want.blocked != 0;
            seen_unanswered |= want.own_unanswered;
            seen_control |= want.control;
        }
        assert_true(seen_blocked && seen_unanswered && seen_control);
        sgs_free(cand);
        sgs_opportunity_stats_free(&st);
    }
    for (unsigned v = 0; v < 1u << 13; v++) {
        sgs__opp_route_t r = {.blocked = (uint16_t)(v & 0xFFu),
                              .own = (uint8_t)((v >> 8) & 7u),
                              .own_unanswered = (uint8_t)((v >> 11) & 1u),
                              .control = (uint8_t)((v >> 12) & 1u)};
        sgs__opp_cand_t c = {.value = 1.0, .index = 5, .priority = 3, .kind = 2};
        sgs__opportunity_route_pack(&c, r);
        sgs__opp_route_t u = sgs__opportunity_route_unpack(&c);
        assert_true(u.blocked == r.blocked && u.own == r.own &&
                    u.own_unanswered == r.own_unanswered && u.control == r.control);
        assert_true(c.value == 1.0 && c.index == 5 && c.priority == 3 && c.kind == 2);
    }
    free(fired);
    stage_cols_free(&sc);
    extra_free(&x);
    base_free(&b);
}

/* The facts behind a reason (sgs_opportunity_facts) for every customer and kind: what the
 * customer's columns and purchases give whatever the kind; what the trigger looked at only for
 * the kinds whose reasons show it (the support contacts and complaints in the service window,
 * counted here from the events; the renewal's due day; the latest scored survey) and the
 * documented blanks for the others. */
static void test_facts_of_every_kind(void **state)
{
    (void)state;
    const size_t n = 4000;
    base_t b;
    opp_extra_t x;
    stage_cols_t sc;
    sgs_opportunity_input_t in = random_opportunity_input(&b, &x, &sc, n, 91);
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    uint16_t *fired;
    ALLOC(fired, n);
    sgs_opportunity_stats_t st;
    assert_int_equal(sgs_opportunities_detect_ref(&in, &cfg, fired, &st, NULL), 0);
    const sgs_stage_input_t *cu = &b.in;
    int n_support_seen = 0, n_due_seen = 0, n_survey_seen = 0;
    for (size_t i = 0; i < n; i++) {
        sgs_purchase_summary_t ps;
        sgs_purchase_summary(cu, i, 1000, &ps);
        int32_t support = 0, complaints = 0, due = SGS_DAY_NONE, survey_day = SGS_DAY_NONE;
        double score = (double)NAN;
        for (size_t e = cu->event_offset[i]; e < cu->event_offset[i + 1]; e++) {
            int32_t d = cu->event_day[e];
            if (d > 1000)
                continue;
            int kind = cu->event_kind[e];
            if (d > 1000 - cfg.service_window_days) {
                support += kind == SGS_EVENT_SUPPORT;
                complaints += kind == SGS_EVENT_COMPLAINT;
            }
            if (kind == SGS_EVENT_RENEWAL_DUE && (due == SGS_DAY_NONE || d >= due))
                due = d;
            double v = cu->event_value ? sgs_sparse_value(cu->event_value, e) : (double)NAN;
            if (kind == SGS_EVENT_SURVEY && isfinite(v) &&
                (survey_day == SGS_DAY_NONE || d >= survey_day)) {
                survey_day = d;
                score = v;
            }
        }
        for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
            sgs_opportunity_facts_t f;
            sgs_opportunity_facts(&in, &cfg, &st, i, k, &f);
            assert_int_equal(f.kind, k);
            assert_int_equal(f.n_purchase_days, ps.n_days);
            assert_int_equal(f.first_purchase_day, ps.n_days > 0 ? ps.first_day : SGS_DAY_NONE);
            assert_int_equal(f.days_since_last, ps.n_days > 0 ? 1000 - ps.last_day : -1);
            assert_memory_equal(&f.cycle_days, &sc.cycle[i], sizeof(double));
            assert_int_equal(f.n_direct_referrals, x.direct[i]);
            int service = k == SGS_OPP_SERVICE_RECOVERY, renewal = k == SGS_OPP_RENEWAL_AT_RISK,
                detractor = k == SGS_OPP_DETRACTOR_FOLLOW_UP;
            assert_int_equal(f.n_support, service ? support : 0);
            assert_int_equal(f.n_complaints, service ? complaints : 0);
            /* renewal: the due day is looked up only for a customer with a stage that can
             * renew; detractor: the survey only for a customer with a stage */
            int32_t want_day = SGS_DAY_NONE;
            if (renewal && sc.stage[i] != SGS_STAGE_NONE && sc.stage[i] != SGS_STAGE_CANCELLED)
                want_day = due;
            if (detractor && sc.stage[i] != SGS_STAGE_NONE)
                want_day = survey_day;
            assert_int_equal(f.event_day, want_day);
            if (detractor && sc.stage[i] != SGS_STAGE_NONE && survey_day != SGS_DAY_NONE)
                assert_memory_equal(&f.survey_score, &score, sizeof(double));
            else
                assert_true(isnan(f.survey_score));
            n_support_seen += service && support > 0;
            n_due_seen += renewal && want_day != SGS_DAY_NONE;
            n_survey_seen += detractor && want_day != SGS_DAY_NONE;
        }
    }
    sgs_assert_cmp(n_support_seen, >, 10);
    sgs_assert_cmp(n_due_seen, >, 10);
    sgs_assert_cmp(n_survey_seen, >, 10);
    sgs_opportunity_stats_free(&st);
    free(fired);
    stage_cols_free(&sc);
    extra_free(&x);
    base_free(&b);
}

/* Errors: a label not below n, masks that do not match the stats, too little room. */
static void test_opportunities_errors_match_the_reference(void **state)
{
    (void)state;
    const size_t n = 2000;
    base_t b;
    base_random(&b, n, 31);
    stage_cols_t sc;
    stage_cols_alloc(&sc, n);
    assert_int_equal(sgs_stages_compute_ref(&b.in, 1000, NULL, &sc.out, NULL, NULL), 0);
    sgs_opportunity_input_t in = {.customers = &b.in,
                                  .as_of_day = 1000,
                                  .stage = sc.stage,
                                  .cycle_days = sc.cycle,
                                  .days_overdue = sc.overdue};
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    uint16_t *fired;
    ALLOC(fired, n);
    sgs_opportunity_stats_t st;
    sgs_exec_t ex = {.n_threads = 3, .grain = 1};
    sgs_error_t e_ref = {0}, e = {0};

    b.segment[1500] = (int32_t)n;
    b.segment[1700] = (int32_t)n + 4;
    assert_int_equal(sgs_opportunities_detect_ref(&in, &cfg, fired, &st, &e_ref), SGS_EDATA);
    sgs_opportunity_stats_free(&st);
    assert_int_equal(sgs_opportunities_detect(&in, &cfg, &ex, fired, &st, &e), SGS_EDATA);
    sgs_opportunity_stats_free(&st);
    assert_string_equal(e.message, e_ref.message);
    b.segment[1500] = b.segment[1700] = 0;

    assert_int_equal(sgs_opportunities_detect_ref(&in, &cfg, fired, &st, NULL), 0);
    sgs_assert_cmp(st.n_candidates, >, 1);
    list_t l;
    list_alloc(&l, n);
    size_t room = (size_t)st.n_candidates - 1;
    assert_int_equal(
        sgs_opportunities_rank_ref(&in, &cfg, &st, fired, &l.rows, room, &l.n_rows, NULL, &e_ref),
        SGS_EINVAL);
    assert_int_equal(
        sgs_opportunities_rank(&in, &cfg, &st, fired, &ex, &l.rows, room, &l.n_rows, NULL, &e),
        SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
    size_t k = 0;
    while (fired[k] == 0)
        k++;
    fired[k] = 0; /* one candidate fewer than the stats say */
    assert_int_equal(
        sgs_opportunities_rank_ref(&in, &cfg, &st, fired, &l.rows, n, &l.n_rows, NULL, &e_ref),
        SGS_EINVAL);
    assert_int_equal(
        sgs_opportunities_rank(&in, &cfg, &st, fired, &ex, &l.rows, n, &l.n_rows, NULL, &e),
        SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
    sgs_opportunity_stats_free(&st);
    list_free(&l);
    free(fired);
    stage_cols_free(&sc);
    base_free(&b);
}

/* sgs_purchase_last_day against sgs_purchase_summary's last_day for every customer of a random
 * base (no rows, one row, same-day repeats, rows after the day) at days before, on, between
 * and after each of its purchase days and at the ends of the int32 range. */
static void test_purchase_last_day_matches_the_summary(void **state)
{
    (void)state;
    const size_t n = 3000;
    base_t b;
    base_random(&b, n, 4242);
    size_t n_empty = 0, n_later = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t days[40] = {INT32_MIN, -1, 0, 700, 1000, 1100, INT32_MAX};
        size_t m = 7;
        for (size_t r = b.in.purchase_offset[i]; r < b.in.purchase_offset[i + 1]; r++) {
            days[m++] = b.in.purchase_day[r] - 1;
            days[m++] = b.in.purchase_day[r];
            days[m++] = b.in.purchase_day[r] + 1;
        }
        n_empty += b.in.purchase_offset[i] == b.in.purchase_offset[i + 1];
        for (size_t k = 0; k < m; k++) {
            sgs_purchase_summary_t ps;
            sgs_purchase_summary(&b.in, i, days[k], &ps);
            int32_t got = sgs_purchase_last_day(&b.in, i, days[k]);
            if (got != ps.last_day || (got == SGS_DAY_NONE) != (ps.n_days == 0))
                fail_msg("customer %zu, day %d: last day %d, the summary's %d (%d days)", i,
                         (int)days[k], (int)got, (int)ps.last_day, (int)ps.n_days);
            n_later += ps.next_day != SGS_DAY_NONE && ps.n_days > 0;
        }
    }
    sgs_assert_cmp(n_empty, >, 10);
    sgs_assert_cmp(n_later, >, 100);
    base_free(&b);
}

/* f's fields that sgs_opportunity_kind_facts leaves blank for its kind, blanked (the table in
 * kernels/opportunities.h, written out here again). */
static void blank_other_facts(sgs_opportunity_facts_t *f)
{
    const int k = f->kind;
    const int wb = k == SGS_OPP_WIN_BACK, save = k == SGS_OPP_SAVE_HIGH_VALUE,
              od = k == SGS_OPP_OVERDUE_REMINDER, onb = k == SGS_OPP_ONBOARDING,
              grow = k == SGS_OPP_GROW, adv = k == SGS_OPP_ADVOCATE;
    if (!(wb || save || od || onb))
        f->cycle_days = (double)NAN;
    if (!(save || od))
        f->days_overdue = (double)NAN;
    if (!(save || grow))
        f->clv = (double)NAN;
    if (!(wb || save || od))
        f->p_buy = (double)NAN;
    if (!(wb || save)) {
        f->value_if_back = (double)NAN;
        f->days_since_last = -1;
    }
    if (!onb) {
        f->n_purchase_days = 0;
        f->first_purchase_day = SGS_DAY_NONE;
    }
    if (!wb)
        f->stage_then = -1;
    if (!grow) {
        f->potential = (double)NAN;
        f->potential_segment = -1;
    }
    if (!adv) {
        f->n_direct_referrals = f->n_indirect_referrals = 0;
        f->brought_in = f->network_value = (double)NAN;
    }
    /* n_support, n_complaints, event_day and survey_score: sgs_opportunity_facts blanks them
     * already for the kinds that do not show them; lapse_overdue_days and overdue_margin_days
     * follow cycle_days (the caller's) */
}

#define ASSERT_FACT(want, got, field)                                                              \
    do {                                                                                           \
        if (memcmp(&(want)->field, &(got)->field, sizeof(want)->field) != 0)                       \
            fail_msg("variant %d, day %d, customer %zu, kind %d: %s differs", v, (int)day, i,      \
                     (want)->kind, #field);                                                        \
    } while (0)

/* sgs_opportunity_kind_facts against sgs_opportunity_facts for every customer and kind (the
 * kinds, 0 and an unknown one), with every optional column, without the network columns, with
 * the stages of a compare day, and without the model columns, segments and events (and
 * sgs_opportunity_kind_facts_prefetch called before each, in every case); at a day with
 * purchases after it and one without: its fields bit for bit sgs_opportunity_facts' (the
 * cycle-derived thresholds from the cycle it fills), the others blank, and the reasons worded
 * from the two (engine/opportunity_reason.h) the same bytes and lengths. */
static void test_kind_facts_match_the_facts(void **state)
{
    (void)state;
    const size_t n = 3000;
    base_t b;
    opp_extra_t x;
    stage_cols_t sc;
    sgs_opportunity_input_t in0 = random_opportunity_input(&b, &x, &sc, n, 5151);
    const sgs_stage_input_t cu0 = b.in;
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    cfg.service_min_contacts = 1; /* so that every kind fires for some */
    cfg.detractor_window_days = 400;
    uint16_t *fired;
    ALLOC(fired, n);
    int n_seen[SGS_OPP_KIND_COUNT] = {0};
    sgs_stage_rules_t rules; /* in.stage_rules is NULL: the defaults */
    sgs_stage_rules_default(&rules);
    for (int v = 0; v < 4; v++) {
        for (int32_t day = 1000; day <= 1200; day += 200) {
            sgs_stage_input_t cu = cu0;
            sgs_opportunity_input_t in = in0;
            in.customers = &cu;
            in.as_of_day = day;
            if (v == 1)
                in.n_direct_referrals = in.n_indirect_referrals = NULL, in.network_value = NULL;
            if (v == 2)
                in.stage_compare = x.compare;
            if (v == 3) {
                cu.clv = cu.p_buy = cu.p_buy_model = NULL;
                cu.segment = NULL;
                cu.event_offset = NULL; /* no /events */
            }
            sgs_opportunity_stats_t st;
            assert_int_equal(sgs_opportunities_detect_ref(&in, &cfg, fired, &st, NULL), 0);
            const int kinds[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 77};
            for (size_t i = 0; i < n; i++) {
                for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; q++) {
                    /* the hints first: they must read nothing out of bounds (the sanitizer
                     * builds) and change nothing */
                    sgs_opportunity_kind_facts_prefetch(&in, i, kinds[q], 0);
                    sgs_opportunity_kind_facts_prefetch(&in, i, kinds[q], 1);
                    sgs_opportunity_facts_t want, got;
                    sgs_opportunity_facts(&in, &cfg, &st, i, kinds[q], &want);
                    sgs_opportunity_kind_facts(&in, &cfg, &st, i, kinds[q], &got);
                    blank_other_facts(&want);
                    want.lapse_overdue_days = rules.lapsed_overdue_cycles * want.cycle_days;
                    want.overdue_margin_days = cfg.overdue_margin_cycles * want.cycle_days;
                    ASSERT_FACT(&want, &got, kind);
                    ASSERT_FACT(&want, &got, as_of_day);
                    ASSERT_FACT(&want, &got, cycle_days);
                    ASSERT_FACT(&want, &got, days_overdue);
                    ASSERT_FACT(&want, &got, clv);
                    ASSERT_FACT(&want, &got, p_buy);
                    ASSERT_FACT(&want, &got, value_if_back);
                    ASSERT_FACT(&want, &got, n_purchase_days);
                    ASSERT_FACT(&want, &got, first_purchase_day);
                    ASSERT_FACT(&want, &got, days_since_last);
                    ASSERT_FACT(&want, &got, n_support);
                    ASSERT_FACT(&want, &got, n_complaints);
                    ASSERT_FACT(&want, &got, event_day);
                    ASSERT_FACT(&want, &got, survey_score);
                    ASSERT_FACT(&want, &got, stage_then);
                    ASSERT_FACT(&want, &got, compare_day);
                    ASSERT_FACT(&want, &got, potential);
                    ASSERT_FACT(&want, &got, potential_segment);
                    ASSERT_FACT(&want, &got, n_direct_referrals);
                    ASSERT_FACT(&want, &got, n_indirect_referrals);
                    ASSERT_FACT(&want, &got, brought_in);
                    ASSERT_FACT(&want, &got, network_value);
                    ASSERT_FACT(&want, &got, lapsed_p_buy);
                    ASSERT_FACT(&want, &got, at_risk_p_buy);
                    ASSERT_FACT(&want, &got, lapse_overdue_days);
                    ASSERT_FACT(&want, &got, overdue_margin_days);
                    ASSERT_FACT(&want, &got, save_clv_threshold);
                    ASSERT_FACT(&want, &got, advocate_value_threshold);
                    /* the reasons: from every fact, and from the kind's */
                    sgs_opportunity_facts_t full;
                    sgs_opportunity_facts(&in, &cfg, &st, i, kinds[q], &full);
                    char a[SGS_OPPORTUNITY_REASON_MAX], c[SGS_OPPORTUNITY_REASON_MAX];
                    int la = sgs_opportunity_reason_text(&full, &cfg, a, sizeof a);
                    int lc = sgs_opportunity_reason_text(&got, &cfg, c, sizeof c);
                    if (la != lc || strcmp(a, c) != 0)
                        fail_msg("variant %d, day %d, customer %zu, kind %d: \"%s\" against "
                                 "\"%s\"",
                                 v, (int)day, i, kinds[q], c, a);
                    char r[SGS_OPPORTUNITY_REASON_MAX];
                    int lr = sgs_opportunity_reason(&in, &cfg, &st, i, kinds[q], r, sizeof r);
                    assert_int_equal(lr, la);
                    assert_string_equal(r, a);
                    if (kinds[q] < SGS_OPP_KIND_COUNT && (fired[i] >> kinds[q] & 1u))
                        n_seen[kinds[q]]++;
                }
            }
            sgs_opportunity_stats_free(&st);
        }
    }
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
        if (n_seen[k] < 5)
            fail_msg("kind %d fired for %d customers only", k, n_seen[k]);
    free(fired);
    stage_cols_free(&sc);
    extra_free(&x);
    base_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages_match_the_reference),
        cmocka_unit_test(test_stages_errors_match_the_reference),
        cmocka_unit_test(test_stages_late_disorder_matches_the_reference),
        cmocka_unit_test(test_stages_empty),
        cmocka_unit_test(test_transitions_match_the_reference),
        cmocka_unit_test(test_opportunities_match_the_reference),
        cmocka_unit_test(test_packed_routes),
        cmocka_unit_test(test_facts_of_every_kind),
        cmocka_unit_test(test_purchase_last_day_matches_the_summary),
        cmocka_unit_test(test_kind_facts_match_the_facts),
        cmocka_unit_test(test_opportunities_errors_match_the_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
