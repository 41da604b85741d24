/*
 * tests/mpi/test_dist_detect.c — opportunity detection over customers spread over processes
 * (engine/dist_detect.h), under mpirun with 1 to 4 processes: every process builds the same
 * base, detects on its own slice with the thresholds selected over all of them, and its
 * masks, the thresholds (save_high_value's quantile, the medians per segment and overall,
 * advocate's quantile) and the counts summed over the processes equal, bit for bit,
 * sgs_opportunities_detect on the whole base (the thresholds' bits but for the sign of a zero:
 * both zeros have one key); random bases with ties, NaN and zero CLV, labels below -1,
 * segments left empty, a process with no customers and no columns; a bad segment label on the
 * last process holding customers is every process's error, naming the customer; processes
 * that disagree on the columns present are every process's error.
 */
#include "engine/dist_detect.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AS_OF 2000

typedef struct base {
    size_t n;
    int64_t *id, *direct;
    int32_t *segment, *purchase_day, *event_day;
    size_t *purchase_offset, *event_offset;
    uint8_t *event_kind, *stage;
    double *clv, *p_buy, *p_model, *cycle, *overdue, *network, *event_value;
    sgs_sparse_values_t event_values; /* event_value as the kernels take it */
    sgs_stage_input_t cu;
    sgs_opportunity_input_t in;
} base_t;

#define ALLOC(p, count) assert_non_null((p) = calloc((count) + 1, sizeof *(p)))

/* n customers with purchases, events, stages and model columns drawn from seed; values from a
 * handful when `ties` (many equal CLVs, zeros of both signs). Segments 0..5 but 4 (empty). */
static void base_make(base_t *b, size_t n, uint64_t seed, int ties)
{
    uint64_t s = seed;
    memset(b, 0, sizeof *b);
    b->n = n;
    ALLOC(b->id, n);
    ALLOC(b->direct, n);
    ALLOC(b->segment, n);
    ALLOC(b->purchase_offset, n + 1);
    ALLOC(b->event_offset, n + 1);
    ALLOC(b->stage, n);
    ALLOC(b->clv, n);
    ALLOC(b->p_buy, n);
    ALLOC(b->p_model, n);
    ALLOC(b->cycle, n);
    ALLOC(b->overdue, n);
    ALLOC(b->network, n);
    ALLOC(b->purchase_day, 6 * n);
    ALLOC(b->event_day, 8 * n);
    ALLOC(b->event_kind, 8 * n);
    ALLOC(b->event_value, 8 * n);
    static const double few[] = {(double)NAN, 0.0, -0.0, 12.5, 40.0, 40.0, 300.0};
    static const uint8_t stages[] = {SGS_STAGE_NONE,   SGS_STAGE_PROSPECT,   SGS_STAGE_NEW,
                                     SGS_STAGE_ACTIVE, SGS_STAGE_LOYAL,      SGS_STAGE_AT_RISK,
                                     SGS_STAGE_LAPSED, SGS_STAGE_REACTIVATED};
    size_t np = 0, ne = 0;
    for (size_t i = 0; i < n; i++) {
        b->id[i] = 5 * (int64_t)i + 2;
        b->stage[i] = stages[sgs_test_next(&s) % (sizeof stages)];
        int32_t seg = (int32_t)(sgs_test_next(&s) % 7) - 1;          /* -1..5 */
        b->segment[i] = seg == 4 ? 5 : seg == 3 && i % 2 ? -7 : seg; /* -7 counts as -1 */
        b->clv[i] = ties ? few[sgs_test_next(&s) % 7] : 1000.0 * sgs_test_uniform(&s);
        if (!ties && sgs_test_next(&s) % 10 == 0)
            b->clv[i] = (double)NAN;
        b->p_buy[i] = sgs_test_uniform(&s);
        b->p_model[i] = sgs_test_uniform(&s);
        b->cycle[i] = 5.0 + 100.0 * sgs_test_uniform(&s);
        b->overdue[i] = 200.0 * sgs_test_uniform(&s) - 100.0;
        b->direct[i] = (int64_t)(sgs_test_next(&s) % 4);
        b->network[i] = ties ? few[sgs_test_next(&s) % 7] + 50.0 : 2000.0 * sgs_test_uniform(&s);
        int purchases = b->stage[i] == SGS_STAGE_PROSPECT ? 0 : 1 + (int)(sgs_test_next(&s) % 5);
        int32_t day = AS_OF - 900 + (int32_t)(sgs_test_next(&s) % 300);
        for (int k = 0; k < purchases; k++) {
            b->purchase_day[np++] = day;
            day += 1 + (int32_t)(sgs_test_next(&s) % 150);
            if (day > AS_OF)
                day = AS_OF;
        }
        b->purchase_offset[i + 1] = np;
        int events = (int)(sgs_test_next(&s) % 8);
        day = AS_OF - 200;
        for (int k = 0; k < events; k++) {
            day += (int32_t)(sgs_test_next(&s) % 40);
            b->event_day[ne] = day < AS_OF ? day : AS_OF;
            b->event_kind[ne] = (uint8_t)(1 + sgs_test_next(&s) % 8);
            b->event_value[ne] = (double)(sgs_test_next(&s) % 11);
            ne++;
        }
        b->event_offset[i + 1] = ne;
    }
    sgs_exec_t one = {.n_threads = 1};
    assert_int_equal(sgs_sparse_values_build(&one, b->event_value, ne, &b->event_values, NULL),
                     SGS_OK);
}

/* The input of customers [lo, hi) of b: every column from lo; the offsets index b's rows. */
static void slice(base_t *b, size_t lo, size_t hi)
{
    sgs_stage_input_t *cu = &b->cu;
    memset(cu, 0, sizeof *cu);
    cu->n = hi - lo;
    cu->customer_id = b->id + lo;
    cu->purchase_offset = b->purchase_offset + lo;
    cu->purchase_day = b->purchase_day;
    cu->event_offset = b->event_offset + lo;
    cu->event_day = b->event_day;
    cu->event_kind = b->event_kind;
    cu->event_value = &b->event_values;
    cu->p_buy = b->p_buy + lo;
    cu->p_buy_model = b->p_model + lo;
    cu->clv = b->clv + lo;
    cu->segment = b->segment + lo;
    sgs_opportunity_input_t *in = &b->in;
    memset(in, 0, sizeof *in);
    in->customers = cu;
    in->as_of_day = AS_OF;
    in->stage = b->stage + lo;
    in->cycle_days = b->cycle + lo;
    in->days_overdue = b->overdue + lo;
    in->n_direct_referrals = b->direct + lo;
    in->network_value = b->network + lo;
    if (hi == lo) { /* a process without customers may pass no optional column */
        cu->clv = NULL;
        cu->segment = NULL;
        in->network_value = NULL;
    }
}

static void base_free(base_t *b)
{
    sgs_free(b->id);
    sgs_free(b->direct);
    sgs_free(b->segment);
    sgs_free(b->purchase_offset);
    sgs_free(b->event_offset);
    sgs_free(b->stage);
    sgs_free(b->clv);
    sgs_free(b->p_buy);
    sgs_free(b->p_model);
    sgs_free(b->cycle);
    sgs_free(b->overdue);
    sgs_free(b->network);
    sgs_free(b->purchase_day);
    sgs_free(b->event_day);
    sgs_free(b->event_kind);
    sgs_free(b->event_value);
    sgs_sparse_values_free(&b->event_values);
}

/* This process's customers of n: uneven shares, the last process none when there are 3+. */
static void share(size_t n, size_t *lo, size_t *hi)
{
    int p = sgs_test_world.rank, size = sgs_test_world.size;
    int with = size >= 3 ? size - 1 : size;
    *lo = p >= with ? n : n * (size_t)p * (size_t)(p + 1) / ((size_t)with * (size_t)(with + 1));
    *hi = p + 1 >= with
              ? n
              : n * (size_t)(p + 1) * (size_t)(p + 2) / ((size_t)with * (size_t)(with + 1));
}

static void same_bits(double a, double b, const char *what)
{
    if (memcmp(&a, &b, sizeof a) != 0 && !(a == 0.0 && b == 0.0))
        fail_msg("%s: %.17g over the processes, %.17g in one", what, a, b);
}

static void detect_equals_one_process(size_t n, uint64_t seed, int ties)
{
    base_t b;
    base_make(&b, n, seed, ties);
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    /* one process, the whole base */
    slice(&b, 0, n);
    uint16_t *all = calloc(n + 1, sizeof *all);
    sgs_opportunity_stats_t one;
    assert_int_equal(sgs_opportunities_detect(&b.in, &cfg, &exec, all, &one, &err), SGS_OK);
    /* this process's share, the thresholds over all */
    size_t lo, hi;
    share(n, &lo, &hi);
    slice(&b, lo, hi);
    uint16_t *mine = calloc(hi - lo + 1, sizeof *mine);
    sgs_opportunity_stats_t st;
    sgs_dist_detect_counts_t whole;
    assert_int_equal(
        sgs_dist_opportunities_detect(&sgs_test_world, &b.in, &cfg, &exec, mine, &st, &whole, &err),
        SGS_OK);
    same_bits(st.save_clv_threshold, one.save_clv_threshold, "save_clv_threshold");
    same_bits(st.advocate_value_threshold, one.advocate_value_threshold,
              "advocate_value_threshold");
    same_bits(st.global_clv_median, one.global_clv_median, "global_clv_median");
    assert_int_equal(st.n_segments, one.n_segments);
    for (int32_t g = 0; g < one.n_segments; g++)
        same_bits(st.segment_clv_median[g], one.segment_clv_median[g], "segment median");
    if (hi > lo)
        assert_memory_equal(mine, all + lo, (hi - lo) * sizeof *mine);
    assert_memory_equal(whole.n_fired, one.n_fired, sizeof one.n_fired);
    assert_int_equal(whole.n_customers, one.n_customers);
    assert_int_equal(whole.n_candidates, one.n_candidates);
    sgs_assert_cmp(one.n_customers, >, 0); /* the base exercises the triggers */
    if (n > 1000) {                        /* and the thresholds */
        sgs_assert_finite(one.save_clv_threshold);
        sgs_assert_finite(one.advocate_value_threshold);
        sgs_assert_finite(one.segment_clv_median[0]);
        sgs_assert_nan(one.segment_clv_median[4]); /* the empty segment */
    }
    sgs_opportunity_stats_free(&one);
    sgs_opportunity_stats_free(&st);
    free(all);
    free(mine);
    base_free(&b);
}

static void random_bases(void **state)
{
    (void)state;
    detect_equals_one_process(5000, 11, 0);
    detect_equals_one_process(3001, 12, 1); /* ties, zeros of both signs */
    detect_equals_one_process(7, 13, 1);
}

/* One process with customers but without CLV while the others have it: no selection could
 * match, every process says so. */
static void columns_that_disagree(void **state)
{
    (void)state;
    if (sgs_test_world.size < 2)
        skip();
    base_t b;
    const size_t n = 300;
    base_make(&b, n, 31, 0);
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    sgs_exec_t exec = {.n_threads = 1};
    size_t lo, hi;
    share(n, &lo, &hi);
    slice(&b, lo, hi);
    if (sgs_test_world.rank == 1)
        b.cu.clv = NULL;
    uint16_t *mine = calloc(hi - lo + 1, sizeof *mine);
    sgs_opportunity_stats_t st;
    sgs_error_t err = {0};
    assert_int_equal(
        sgs_dist_opportunities_detect(&sgs_test_world, &b.in, &cfg, &exec, mine, &st, NULL, &err),
        SGS_EINVAL);
    sgs_assert_contains(err.message, "disagree on the columns present");
    sgs_opportunity_stats_free(&st);
    free(mine);
    base_free(&b);
}

static void a_bad_label_is_everyones_error(void **state)
{
    (void)state;
    base_t b;
    const size_t n = 400;
    base_make(&b, n, 21, 0);
    b.segment[n - 1] = (int32_t)n; /* not below the customer count: the last customer's */
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    sgs_exec_t exec = {.n_threads = 1};
    size_t lo, hi;
    share(n, &lo, &hi);
    slice(&b, lo, hi);
    uint16_t *mine = calloc(hi - lo + 1, sizeof *mine);
    sgs_opportunity_stats_t st;
    sgs_error_t err = {0};
    assert_int_equal(
        sgs_dist_opportunities_detect(&sgs_test_world, &b.in, &cfg, &exec, mine, &st, NULL, &err),
        SGS_EDATA);
    char who[64];
    snprintf(who, sizeof who, "customer_id %lld: segment label 400", (long long)b.id[n - 1]);
    sgs_assert_contains(err.message, who);
    sgs_opportunity_stats_free(&st);
    free(mine);
    base_free(&b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_bases),
        cmocka_unit_test(a_bad_label_is_everyones_error),
        cmocka_unit_test(columns_that_disagree),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
