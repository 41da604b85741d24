/*
 * tests/mpi/test_dist_figures.c — the reports' figures of the customer columns over customers
 * spread over processes (engine/dist_figures.h), under mpirun with 1 to 4 processes: every
 * process's figures (the sums per RFM segment, the RFM grid, the CLV concentration and the
 * frequency-recency grid, every byte of sgs_report_figures_t) equal sgs_report_figures_compute
 * over all customers, which this process computes alone; on generated columns of 0 to 40,123
 * customers dealt evenly, growing with the rank, all on one process and none on the last; CLVs
 * with NaN, zeros of both signs, negative values, infinities, subnormals and one value repeated
 * on every process; repeat purchases past the ones counted one by one; 2, 5 and 9 RFM bins with
 * scores out of range; without the value step and without report.html. The bytes each process
 * sends equal their count (the figures and the non-empty CLV bins of the customers up to its
 * last, to the next process; the figures from the last process to the others). A negative
 * repeat-purchase count on the last process holding customers fails every process, naming the
 * customer by its index in the whole base; every allocation failing in turn on the last process
 * fails every process.
 */
#include "engine/dist_figures.h"
#include "engine/run_state.h"
#include "kernels/value_concentration.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* BG/NBD on the CDNOW sample, in weeks (Fader, Hardie & Lee 2005). */
static const double CDNOW[4] = {0.2426, 4.4136, 0.7929, 2.4259};

/* Every customer's columns, the same on every process (generated from the seed). */
typedef struct base {
    size_t n;
    int32_t *days_since_last, *n_purchase_days, *frequency, *age_days;
    double *total_spend, *clv, *p_buy;
    uint8_t *r_score, *f_score, *rfm_segment;
} base_t;

static double clv_of(uint64_t r)
{
    double u = ((double)(r >> 11) + 0.5) / 9007199254740992.0;
    switch (r % 29) {
    case 0:
        return NAN;
    case 1:
        return 0.0;
    case 2:
        return -0.0;
    case 3:
        return -u * 50;
    case 4:
        return r % 2 ? INFINITY : -INFINITY;
    case 5:
        return 4.9406564584124654e-324;
    case 6:
        return 37.25; /* on every process: one bin continued by each */
    default:
        return exp(14 * u - 4);
    }
}

static void base_make(base_t *b, size_t n, int bins, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->n = n;
    size_t m = n ? n : 1;
    b->days_since_last = malloc(m * sizeof(int32_t));
    b->n_purchase_days = malloc(m * sizeof(int32_t));
    b->frequency = malloc(m * sizeof(int32_t));
    b->age_days = malloc(m * sizeof(int32_t));
    b->total_spend = malloc(m * sizeof(double));
    b->clv = malloc(m * sizeof(double));
    b->p_buy = malloc(m * sizeof(double));
    b->r_score = malloc(m);
    b->f_score = malloc(m);
    b->rfm_segment = malloc(m);
    assert_true(b->days_since_last && b->n_purchase_days && b->frequency && b->age_days &&
                b->total_spend && b->clv && b->p_buy && b->r_score && b->f_score && b->rfm_segment);
    for (size_t c = 0; c < n; c++) {
        uint64_t r = sgs_rng_u64(seed, 1, c), q = sgs_rng_u64(seed, 2, c);
        double u = ((double)(q >> 11) + 0.5) / 9007199254740992.0;
        b->n_purchase_days[c] = 1 + (int32_t)((r >> 8) % 3 == 0 ? r % 40 : r % 3);
        b->frequency[c] = r % 97 == 0 ? (int32_t)(SGS_FR_GRID_COUNTED + (r >> 20) % 5000)
                                      : b->n_purchase_days[c] - 1;
        b->age_days[c] = (int32_t)((r >> 12) % 1400);
        b->days_since_last[c] = (int32_t)((r >> 24) % 1400);
        b->total_spend[c] = (q % 11 == 0 ? -1 : 1) * exp(8 * u);
        b->clv[c] = clv_of(sgs_rng_u64(seed, 3, c));
        b->p_buy[c] = q % 31 == 0 ? (double)NAN : u;
        /* scores 0 .. bins + 1: the ones out of range are not on the grid */
        b->r_score[c] = (uint8_t)((q >> 8) % (uint64_t)(bins + 2));
        b->f_score[c] = (uint8_t)((q >> 16) % (uint64_t)(bins + 2));
        b->rfm_segment[c] = (uint8_t)((q >> 24) % SGS_RFM_SEGMENT_COUNT);
    }
}

static void base_free(base_t *b)
{
    sgs_free(b->days_since_last);
    sgs_free(b->n_purchase_days);
    sgs_free(b->frequency);
    sgs_free(b->age_days);
    sgs_free(b->total_spend);
    sgs_free(b->clv);
    sgs_free(b->p_buy);
    sgs_free(b->r_score);
    sgs_free(b->f_score);
    sgs_free(b->rfm_segment);
}

/* A run's state as the customer outputs find it, over customers [first, first + n) of *b, on
 * the processes d. */
typedef struct fig_run {
    sgs_config_t cfg;
    sgs_run_request_t req;
    sgs_run_state_t st;
} fig_run_t;

static void run_prepare(fig_run_t *r, const base_t *b, size_t first, size_t n, sgs_dist_t d,
                        int bins, int value, const char *report_html)
{
    memset(r, 0, sizeof *r);
    sgs_error_t err = {0};
    sgs_config_defaults(&r->cfg);
    char text[16];
    snprintf(text, sizeof text, "%d", bins);
    sgs_assert_cmp(sgs_config_set(&r->cfg, "rfm.bins", text, &err), ==, SGS_OK);
    snprintf(r->cfg.report_html, sizeof r->cfg.report_html, "%s", report_html);
    r->req.config = &r->cfg;
    sgs_run_state_t *st = &r->st;
    st->req = &r->req;
    st->exec.n_threads = 1;
    st->dist = d;
    st->days_per_unit = 7;
    st->summary.n_customers = n;
    st->summary.columns.n_customers = n;
    st->summary.n_all = b->n;
    st->summary.first = first;
    sgs_summary_t *s = &st->summary.columns;
    s->days_since_last = b->days_since_last + first;
    s->n_purchase_days = b->n_purchase_days + first;
    s->frequency = b->frequency + first;
    s->age_days = b->age_days + first;
    s->total_spend = b->total_spend + first;
    st->rfm.r_score = b->r_score + first;
    st->rfm.f_score = b->f_score + first;
    st->rfm.rfm_segment = b->rfm_segment + first;
    st->value.ran = value;
    if (value) {
        st->value.model = SGS_MODEL_BGNBD;
        st->value.model_fit.n_params = 4;
        memcpy(st->value.model_fit.params, CDNOW, sizeof CDNOW);
        st->value.horizon = 39;
        st->value.clv = b->clv + first;
        st->value.p_buy = b->p_buy + first;
    }
}

/* Process p's first customer of n dealt by `deal`: 0 evenly, 1 growing with the rank (p + 1
 * shares), 2 all on process 0, 3 evenly but none on the last. */
static size_t deal_first(int deal, int p, int np, size_t n)
{
    uint64_t N = (uint64_t)np, P = (uint64_t)p;
    switch (deal) {
    case 0:
        return (size_t)(n * P / N);
    case 1:
        return (size_t)(n * (P * (P + 1) / 2) / (N * (N + 1) / 2));
    case 2:
        return p == 0 ? 0 : n;
    default:
        return np == 1 ? (size_t)(n * P) : p >= np - 1 ? n : (size_t)(n * P / (N - 1));
    }
}

/* The non-empty CLV bins of customers [0, end). */
static size_t bins_up_to(const base_t *b, size_t end)
{
    uint64_t *count = calloc(SGS_VALUE_BINS, sizeof *count);
    double *sum = calloc(SGS_VALUE_BINS, sizeof *sum);
    assert_true(count && sum);
    sgs_value_bins_add(b->clv, end, count, sum);
    size_t k = 0;
    for (size_t i = 0; i < SGS_VALUE_BINS; i++)
        k += count[i] != 0;
    free(count);
    free(sum);
    return k;
}

static void check_case(const base_t *b, int deal, int bins, int value, const char *report_html)
{
    const sgs_dist_t *d = &sgs_test_world;
    size_t first = deal_first(deal, d->rank, d->size, b->n);
    size_t end = deal_first(deal, d->rank + 1, d->size, b->n);
    if (d->rank == d->size - 1)
        end = b->n;
    fig_run_t whole, mine;
    run_prepare(&whole, b, 0, b->n, (sgs_dist_t){0, 1}, bins, value, report_html);
    run_prepare(&mine, b, first, end - first, *d, bins, value, report_html);
    sgs_report_figures_t want, got;
    sgs_error_t err = {0};
    int rc = sgs_report_figures_compute(&whole.st, &want, &err);
    if (rc != SGS_OK)
        fail_msg("one process: code %d (%s)", rc, err.message);
    uint64_t sent = sgs_dist_bytes_sent();
    rc = sgs_dist_report_figures(&mine.st, &got, &err);
    sent = sgs_dist_bytes_sent() - sent;
    if (rc != SGS_OK)
        fail_msg("spread: code %d (%s)", rc, err.message);
    if (memcmp(&want, &got, sizeof want) != 0)
        fail_msg("%zu customers dealt %d, %d bins, value %d, report.html '%s': process %d's "
                 "figures differ from one process's",
                 b->n, deal, bins, value, report_html, d->rank);
    int wanted = value && strcmp(report_html, "none") != 0;
    sgs_assert_cmp(want.has_top_shares, ==, wanted);
    sgs_assert_cmp(want.has_fr_grid, ==, wanted && b->n > 0);
    sgs_assert_cmp(want.has_grid, ==, b->n > 0);
    /* what this process sent: its figures and the bins so far to the next one; the last, the
     * figures to every other */
    uint64_t expect = 0;
    if (d->size > 1 && d->rank < d->size - 1)
        expect = sizeof got + (wanted ? bins_up_to(b, end) * 24 : 0);
    else if (d->size > 1)
        expect = (uint64_t)(d->size - 1) * sizeof got;
    sgs_assert_cmp(sent, ==, expect);
}

static void figures_equal_one_process(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 7, 5000, 40123};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        base_t b;
        base_make(&b, sizes[k], 5, 20261207 + k);
        for (int deal = 0; deal < 4; deal++)
            check_case(&b, deal, 5, 1, "");
        base_free(&b);
    }
    /* 2 and 9 bins, no value step, no report.html */
    base_t b;
    base_make(&b, 40123, 9, 7);
    check_case(&b, 1, 9, 1, "");
    check_case(&b, 3, 9, 0, "");
    check_case(&b, 0, 9, 1, "none");
    base_free(&b);
    base_make(&b, 3001, 2, 8);
    check_case(&b, 0, 2, 1, "");
    base_free(&b);
}

/* A negative repeat-purchase count at the last customer of the last process that holds any: every
 * process fails with its message, the customer named by its index in the whole base. */
static void negative_frequency_fails_every_process(void **state)
{
    (void)state;
    const sgs_dist_t *d = &sgs_test_world;
    base_t b;
    base_make(&b, 5000, 5, 11);
    const int deal = 3; /* none on the last process (with more than one) */
    const int holder = d->size > 1 ? d->size - 2 : 0;
    const size_t at = b.n - 1; /* the holder's last customer */
    b.frequency[at] = -3;
    size_t first = deal_first(deal, d->rank, d->size, b.n);
    size_t end = d->rank == d->size - 1 ? b.n : deal_first(deal, d->rank + 1, d->size, b.n);
    fig_run_t mine;
    run_prepare(&mine, &b, first, end - first, *d, 5, 1, "");
    sgs_report_figures_t got;
    sgs_error_t err = {0};
    assert_int_equal(sgs_dist_report_figures(&mine.st, &got, &err), SGS_EINVAL);
    char want[128];
    snprintf(want, sizeof want, "customer %zu has -3 repeat purchases", at);
    sgs_assert_contains(err.message, want);
    if (d->size > 1) {
        snprintf(want, sizeof want, "process %d of %d: ", holder, d->size);
        sgs_assert_contains(err.message, want);
    }
    base_free(&b);
}

typedef struct sweep_ctx {
    fig_run_t run;
} sweep_ctx_t;

static int call_figures(void *ctx, sgs_error_t *err)
{
    sweep_ctx_t *c = ctx;
    sgs_report_figures_t f;
    return sgs_dist_report_figures(&c->run.st, &f, err);
}

static void allocations_fail_every_process(void **state)
{
    (void)state;
    const sgs_dist_t *d = &sgs_test_world;
    base_t b;
    base_make(&b, 5000, 5, 12);
    size_t first = deal_first(0, d->rank, d->size, b.n);
    size_t end = d->rank == d->size - 1 ? b.n : deal_first(0, d->rank + 1, d->size, b.n);
    sweep_ctx_t c;
    run_prepare(&c.run, &b, first, end - first, *d, 5, 1, "");
    sgs_test_mpi_alloc_sweep(call_figures, &c, "the reports' figures", 3);
    base_free(&b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(figures_equal_one_process),
        cmocka_unit_test(negative_frequency_fails_every_process),
        cmocka_unit_test(allocations_fail_every_process),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
