/*
 * tests/mpi/test_dist_value.c — the value step's pieces over customers spread across processes,
 * under mpirun with 1 to 4 processes, against the single-process functions on the same data,
 * bit for bit (memcmp): the Gamma-Gamma fit and its summary (engine/dist_gammagamma.h) on
 * generated customers and on rows dealt unevenly (a process with none, cuts off the blocks);
 * a bad x on one process and no usable customer being every process's error. The backtest's
 * models (engine/dist_backtest.h) on a sampled cohort of generated customers: the merged table,
 * the per-history outcomes, every model's fit, scores per history, reliability tables and
 * cross-fitted scores, the choice and the calibration map's knots, for value.model auto and a
 * named model; the Gamma-Gamma fit on the cohort (rows off every block boundary) and the
 * backtest's spend check; then p_buy of
 * every customer, made on its own process from its own history, the model refitted on the
 * merged histories and the map; and a bad history on the last process failing every process.
 * The backtest's tracking curve (engine/dist_backtest.h sgs_dist_backtest_tracking) against
 * sgs_backtest_tracking on the whole cohort, memcmp, for several holdouts and the grouped
 * customers dealt evenly, unevenly, all on one process and none on the last; a first purchase day
 * out of range on the last process and every allocation failing in turn there failing every
 * process.
 */
#include "engine/dist_backtest.h"
#include "engine/dist_gammagamma.h"
#include "engine/dist_histories.h"
#include "engine/dist_sample.h"
#include "kernels/base_totals.h"
#include "kernels/calibration.h"
#include "kernels/dates.h"
#include "kernels/holdout.h"
#include "kernels/sample.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[512], generated[600];

static int setup_file(void **state)
{
    (void)state;
    sgs_test_mpi_tmpdir("dist_value", dir, sizeof dir);
    snprintf(generated, sizeof generated, "%s/in.h5", dir);
    sgs_test_mpi_generate(generated, 60000, 23, 0);
    return 0;
}

static int remove_file(void **state)
{
    (void)state;
    sgs_test_mpi_rmdir(dir);
    return 0;
}

static void assert_same_bits(const void *a, const void *b, size_t bytes)
{
    if (bytes)
        assert_memory_equal(a, b, bytes);
}

/* The fields of two fits that a fit computes (not the padding). */
static void assert_same_fit(const sgs_fit_t *a, const sgs_fit_t *b)
{
    sgs_assert_cmp(a->n_params, ==, b->n_params);
    size_t k = (size_t)a->n_params;
    assert_same_bits(a->params, b->params, k * sizeof(double));
    assert_same_bits(a->log_params, b->log_params, k * sizeof(double));
    assert_same_bits(a->std_err, b->std_err, k * sizeof(double));
    for (size_t i = 0; i < k; i++)
        assert_same_bits(a->cov[i], b->cov[i], k * sizeof(double));
    assert_same_bits(&a->log_likelihood, &b->log_likelihood, sizeof(double));
    assert_same_bits(&a->objective, &b->objective, sizeof(double));
    assert_same_bits(&a->grad_norm, &b->grad_norm, sizeof(double));
    sgs_assert_cmp(a->iterations, ==, b->iterations);
    sgs_assert_cmp(a->n_evaluations, ==, b->n_evaluations);
    sgs_assert_cmp(a->start_index, ==, b->start_index);
    sgs_assert_cmp(a->status, ==, b->status);
    sgs_assert_cmp(a->hessian_ok, ==, b->hessian_ok);
}

static void assert_same_summary(const sgs_gg_summary_t *a, const sgs_gg_summary_t *b)
{
    sgs_assert_cmp(a->n_used, ==, b->n_used);
    sgs_assert_cmp(a->n_no_repeat, ==, b->n_no_repeat);
    sgs_assert_cmp(a->n_nonpositive, ==, b->n_nonpositive);
    assert_same_bits(&a->correlation, &b->correlation, sizeof(double));
    sgs_assert_cmp(a->correlation_warning, ==, b->correlation_warning);
}

/* x (repeat purchases) and m (mean spend) of the buyers among grouped customers g, as of
 * as_of_day, in weeks: the value step's Gamma-Gamma inputs. *n rows, owned by the caller. */
static void spend_inputs(const sgs_grouped_t *g, int32_t as_of_day, double **x, double **m,
                         size_t *n)
{
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    sgs_summary_t s;
    sgs_test_buyers_summary(g, as_of_day, &s);
    size_t k = s.n_customers;
    double *col = malloc((k ? k : 1) * 4 * sizeof *col);
    sgs_assert_cmp(
        sgs_value_inputs(&s, k, 7.0, &exec, col, col + k, col + 2 * k, col + 3 * k, &err), ==,
        SGS_OK);
    *x = malloc((k ? k : 1) * sizeof **x);
    *m = malloc((k ? k : 1) * sizeof **m);
    for (size_t i = 0; i < k; i++) {
        (*x)[i] = col[i];
        (*m)[i] = s.total_spend[i] > 0.0 ? s.monetary[i] : 0.0;
    }
    *n = k;
    free(col);
    sgs_summary_free(&s);
}

/* The fit over the processes and the single-process fit on all rows, compared. */
static void check_gg(const double *x_all, const double *m_all, const double *x, const double *m,
                     size_t n, int hessian)
{
    sgs_exec_t exec = {.n_threads = 1};
    sgs_model_fit_options_t o;
    sgs_model_fit_options_init(&o);
    o.optim.no_hessian = !hessian;
    size_t n_all = n;
    int64_t total = (int64_t)n;
    sgs_dist_reduce_i64(&sgs_test_world, &total, 1, SGS_DIST_SUM);
    n_all = (size_t)total;
    sgs_fit_t a, b;
    sgs_gg_summary_t sa, sb;
    sgs_error_t ea = {0}, eb = {0};
    int ra = sgs_gg_fit(x_all, m_all, n_all, &o, &a, &sa, &exec, &ea);
    int rb = sgs_dist_gg_fit(&sgs_test_world, x, m, n, &o, &b, &sb, &exec, &eb);
    sgs_assert_cmp(ra, ==, SGS_OK);
    sgs_assert_cmp(rb, ==, SGS_OK);
    assert_same_fit(&a, &b);
    assert_same_summary(&sa, &sb);
}

static void gg_fit_on_generated_customers(void **state)
{
    (void)state;
    sgs_read_options_t opt = sgs_test_mpi_read_options();
    sgs_grouped_t g_all, g;
    sgs_read_stats_t st_all, st;
    sgs_dist_owners_t own;
    sgs_test_read_grouped(generated, &opt, &g_all, &st_all);
    sgs_test_mpi_read_grouped(generated, &opt, &g, &st, &own);
    int32_t as_of_day = (int32_t)sgs_day_of(st_all.max_time_s);
    double *x_all, *m_all, *x, *m;
    size_t n_all, n;
    spend_inputs(&g_all, as_of_day, &x_all, &m_all, &n_all);
    spend_inputs(&g, as_of_day, &x, &m, &n);
    check_gg(x_all, m_all, x, m, n, 1);
    check_gg(x_all, m_all, x, m, n, 0);
    free(x_all);
    free(m_all);
    free(x);
    free(m);
    sgs_grouped_free(&g);
    sgs_grouped_free(&g_all);
    sgs_dist_owners_free(&own);
}

/* n_all rows drawn from seed: x from 0 to 40 (a third 0), m log-normal-ish, a few m <= 0 or
 * NaN; with `levels`, m is one of that many amounts, so that the values of x m repeat (the
 * single-process fit then takes each value's terms from a table, the spread fit computes them
 * row by row: the same bits). */
static void random_rows(uint64_t seed, size_t n_all, int levels, double *x, double *m)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n_all; i++) {
        double u = sgs_test_uniform(&s);
        x[i] = u < 0.33 ? 0.0 : floor(-8.0 * log(sgs_test_uniform(&s) + 1e-300)) + 1.0;
        if (x[i] > 40.0)
            x[i] = 40.0;
        m[i] = 20.0 * exp(1.2 * (sgs_test_uniform(&s) + sgs_test_uniform(&s) - 1.0));
        if (levels > 0)
            m[i] = 4.99 + 2.5 * floor(m[i] * levels / 70.0);
        double v = sgs_test_uniform(&s);
        if (v < 0.01)
            m[i] = -m[i];
        else if (v < 0.015)
            m[i] = NAN;
    }
}

/* Where process p's rows start: the cut for `layout` (0 even, 1 growing with p, so that the
 * first process holds few, 2 every row on the first process, 3 none on the last). */
static size_t cut(int layout, size_t n_all, int p, int np)
{
    if (p == np)
        return n_all;
    switch (layout) {
    case 1:
        return (size_t)((double)n_all * p * p / ((double)np * np));
    case 2:
        return p == 0 ? 0 : n_all;
    case 3:
        return np == 1                                        ? 0
               : n_all * (size_t)p / (size_t)(np - 1) < n_all ? n_all * (size_t)p / (size_t)(np - 1)
                                                              : n_all;
    default:
        return n_all * (size_t)p / (size_t)np;
    }
}

static void gg_fit_on_rows_dealt_unevenly(void **state)
{
    (void)state;
    const size_t sizes[] = {7, 5000, 16384, 40123, 70001};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (int layout = 0; layout < 4; layout++)
            /* repeated amounts from 16,384 rows on (5,000 such rows put the fit at the
             * edge: it does not converge, whichever way the terms are computed) */
            for (int levels = 0; levels <= (sizes[c] < 16384 ? 0 : 30); levels += 30) {
                size_t n_all = sizes[c];
                double *x = malloc(n_all * sizeof *x), *m = malloc(n_all * sizeof *m);
                random_rows(100 + c, n_all, levels, x, m);
                int np = sgs_test_world.size, me = sgs_test_world.rank;
                size_t lo = cut(layout, n_all, me, np), hi = cut(layout, n_all, me + 1, np);
                check_gg(x, m, x + lo, m + lo, hi - lo, c % 2 == 0);
                free(x);
                free(m);
            }
}

static void gg_errors_are_everyones(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 1};
    int np = sgs_test_world.size, me = sgs_test_world.rank;
    size_t n_all = 30000;
    double *x = malloc(n_all * sizeof *x), *m = malloc(n_all * sizeof *m);
    random_rows(7, n_all, 0, x, m);
    x[n_all - 5] = 2.5; /* on the last process */
    x[n_all - 2] = -1.0;
    size_t lo = cut(0, n_all, me, np), hi = cut(0, n_all, me + 1, np);
    sgs_fit_t fit;
    sgs_error_t ea = {0}, eb = {0};
    sgs_assert_cmp(sgs_gg_fit(x, m, n_all, NULL, &fit, NULL, &exec, &ea), ==, SGS_EDATA);
    sgs_assert_cmp(
        sgs_dist_gg_fit(&sgs_test_world, x + lo, m + lo, hi - lo, NULL, &fit, NULL, &exec, &eb), ==,
        SGS_EDATA);
    sgs_assert_contains(eb.message, ea.message); /* "process R of N: " before it */
    sgs_assert_contains(ea.message, "row 29995: x = 2.5");
    /* no customer usable: x all 0 */
    for (size_t i = 0; i < n_all; i++)
        x[i] = 0.0;
    sgs_gg_summary_t sa, sb;
    sgs_assert_cmp(sgs_gg_fit(x, m, n_all, NULL, &fit, &sa, &exec, &ea), ==, SGS_EDATA);
    sgs_assert_cmp(
        sgs_dist_gg_fit(&sgs_test_world, x + lo, m + lo, hi - lo, NULL, &fit, &sb, &exec, &eb), ==,
        SGS_EDATA);
    sgs_assert_cmp(strcmp(ea.message, eb.message), ==, 0);
    assert_same_summary(&sa, &sb);
    free(x);
    free(m);
}

/* ---- The backtest ---------------------------------------------------------------------------- */

#define BT_SEED 77u
#define BT_STREAM UINT64_C(0x6261636b74657374)
#define BT_HOLD_DAYS 182

/* A backtest cohort of grouped customers g: those with a purchase by the calibration end, a
 * sample of `want` of them (by key; over the processes when dist), their calibration histories
 * (weeks) and holdout occasions, and the Gamma-Gamma input m. */
typedef struct test_cohort {
    size_t n, n_cohort;
    int64_t *id;
    double *x, *t_x, *T, *m;
    int32_t *occasions;
    double *spend; /* net spend in the holdout */
} test_cohort_t;

static void make_cohort(const sgs_grouped_t *g, int32_t as_of_day, size_t want, int dist,
                        test_cohort_t *co)
{
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    int32_t end_day = as_of_day - BT_HOLD_DAYS;
    size_t n = g->n_customers;
    sgs_summary_t full, cal = {0};
    sgs_assert_cmp(sgs_summary_alloc(&full, n ? n : 1), ==, SGS_OK);
    full.n_customers = n;
    if (n)
        sgs_assert_cmp(sgs_summarize(&exec, g, as_of_day, &full, &err), ==, SGS_OK);
    uint8_t *eligible = malloc(n ? n : 1);
    size_t *which = malloc((n ? n : 1) * sizeof *which), n_which = 0;
    for (size_t c = 0; c < n; c++)
        eligible[c] = full.has_purchase[c] && full.first_day[c] <= end_day;
    if (dist)
        sgs_assert_cmp(sgs_dist_sample_by_key(&sgs_test_world, g->customer_id, eligible, n, want,
                                              BT_SEED, BT_STREAM, which, &n_which, &co->n_cohort,
                                              &err),
                       ==, SGS_OK);
    else
        sgs_assert_cmp(sgs_sample_by_key(g->customer_id, eligible, n, want, BT_SEED, BT_STREAM,
                                         which, &n_which, &co->n_cohort, &exec, &err),
                       ==, SGS_OK);
    sgs_assert_cmp(sgs_summary_alloc_history(&cal, n_which ? n_which : 1), ==, SGS_OK);
    sgs_assert_cmp(sgs_summarize_until_subset(&exec, g, end_day, which, n_which, &cal, &err), ==,
                   SGS_OK);
    size_t k = n_which ? n_which : 1;
    co->n = n_which;
    co->id = malloc(k * sizeof *co->id);
    co->x = malloc(k * sizeof *co->x);
    co->t_x = malloc(k * sizeof *co->t_x);
    co->T = malloc(k * sizeof *co->T);
    co->m = malloc(k * sizeof *co->m);
    co->occasions = malloc(k * sizeof *co->occasions);
    co->spend = malloc(k * sizeof *co->spend);
    for (size_t j = 0; j < n_which; j++) {
        size_t c = which[j];
        assert_true(cal.has_purchase[j]);
        co->id[j] = g->customer_id[c];
        co->x[j] = cal.n_purchase_days[j] - 1;
        co->t_x[j] = cal.recency_days[j] / 7.0;
        co->T[j] = cal.age_days[j] / 7.0;
        co->m[j] = cal.total_spend[j] > 0.0 ? cal.monetary[j] : 0.0;
        co->occasions[j] = full.n_purchase_days[c] - cal.n_purchase_days[j];
        co->spend[j] = full.total_spend[c] - cal.total_spend[j];
    }
    free(eligible);
    free(which);
    sgs_summary_free(&full);
    sgs_summary_free(&cal);
}

static void free_cohort(test_cohort_t *co)
{
    sgs_free(co->id);
    sgs_free(co->x);
    sgs_free(co->t_x);
    sgs_free(co->T);
    sgs_free(co->m);
    sgs_free(co->occasions);
    sgs_free(co->spend);
}

static sgs_model_fit_options_t test_fit_options(void *ctx, const char *what, sgs_fit_watch_t *watch)
{
    (void)ctx;
    (void)what;
    (void)watch;
    sgs_model_fit_options_t o;
    sgs_model_fit_options_init(&o);
    return o;
}

static void assert_same_reliability(const sgs_reliability_t *a, const sgs_reliability_t *b)
{
    sgs_assert_cmp(a->n_bins, ==, b->n_bins);
    size_t k = (size_t)a->n_bins * sizeof(double);
    assert_same_bits(a->weight, b->weight, k);
    assert_same_bits(a->predicted, b->predicted, k);
    assert_same_bits(a->observed, b->observed, k);
    assert_same_bits(&a->brier, &b->brier, sizeof(double));
    assert_same_bits(&a->log_score, &b->log_score, sizeof(double));
    assert_same_bits(&a->max_gap, &b->max_gap, sizeof(double));
}

/* The backtest's result and scores over the processes against one process's. */
static void assert_same_backtest(const sgs_backtest_t *a, const sgs_backtest_scores_t *sa,
                                 const sgs_backtest_t *b, const sgs_backtest_scores_t *sb)
{
    sgs_assert_cmp(a->n_scored, ==, b->n_scored);
    sgs_assert_cmp(a->n_bought_again, ==, b->n_bought_again);
    sgs_assert_cmp(a->n_models, ==, b->n_models);
    sgs_assert_cmp(a->chosen, ==, b->chosen);
    sgs_assert_cmp(a->chosen_by_cross, ==, b->chosen_by_cross);
    sgs_assert_cmp(a->used, ==, b->used);
    assert_string_equal(a->chosen_because, b->chosen_because);
    assert_same_bits(a->by_frequency_customers, b->by_frequency_customers,
                     sizeof a->by_frequency_customers);
    assert_same_bits(a->by_frequency_actual, b->by_frequency_actual, sizeof a->by_frequency_actual);
    size_t nh = sa->nh;
    sgs_assert_cmp(sb->nh, ==, nh);
    assert_same_bits(sa->h.x, sb->h.x, nh * sizeof(double));
    assert_same_bits(sa->h.t_x, sb->h.t_x, nh * sizeof(double));
    assert_same_bits(sa->h.T, sb->h.T, nh * sizeof(double));
    assert_same_bits(sa->weight, sb->weight, nh * sizeof(double));
    assert_same_bits(sa->bought, sb->bought, nh * sizeof(double));
    for (int j = 0; j < a->n_models; j++) {
        const sgs_backtest_model_t *ma = &a->models[j], *mb = &b->models[j];
        sgs_assert_cmp(ma->model, ==, mb->model);
        sgs_assert_cmp(ma->ok, ==, mb->ok);
        assert_string_equal(ma->failure, mb->failure);
        if (!ma->ok)
            continue;
        assert_same_bits(ma->params, mb->params, sizeof ma->params);
        assert_same_bits(&ma->log_score, &mb->log_score, sizeof(double));
        assert_same_bits(&ma->brier, &mb->brier, sizeof(double));
        assert_same_bits(&ma->mae, &mb->mae, sizeof(double));
        assert_same_bits(&ma->total_error, &mb->total_error, sizeof(double));
        assert_same_bits(ma->by_frequency_predicted, mb->by_frequency_predicted,
                         sizeof ma->by_frequency_predicted);
        assert_same_reliability(&ma->raw, &mb->raw);
        sgs_assert_cmp(ma->cross_ok, ==, mb->cross_ok);
        if (ma->cross_ok)
            assert_same_reliability(&ma->cross, &mb->cross);
        /* every model's scores per history (the used one's calibrated) */
        assert_same_bits(sa->p_buy_of + (size_t)j * nh, sb->p_buy_of + (size_t)j * nh,
                         nh * sizeof(double));
        assert_same_bits(sa->p_alive_of + (size_t)j * nh, sb->p_alive_of + (size_t)j * nh,
                         nh * sizeof(double));
    }
    if (a->used >= 0) {
        assert_same_reliability(&a->models[a->used].calibrated, &b->models[b->used].calibrated);
        sgs_assert_cmp(a->calibration.n_knots, ==, b->calibration.n_knots);
        sgs_assert_cmp(a->calibration.n_blocks, ==, b->calibration.n_blocks);
        assert_same_bits(a->calibration.score, b->calibration.score,
                         a->calibration.n_knots * sizeof(double));
        assert_same_bits(a->calibration.value, b->calibration.value,
                         a->calibration.n_knots * sizeof(double));
    }
}

/* p_buy over `horizon` weeks of every buyer of g as of as_of_day: the used model refitted on the
 * merged histories of every process (one process: its own), each customer's P(alive) and
 * P(no purchase) from its own history on its own process, then the map (kernels/calibration.h
 * sgs_p_buy_column). *p_buy: one per buyer, owned by the caller. */
static size_t p_buy_of_buyers(const sgs_grouped_t *g, int32_t as_of_day, int dist,
                              sgs_purchase_model_t model, const sgs_isotonic_t *map, double horizon,
                              double **p_buy)
{
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    sgs_summary_t s;
    sgs_test_buyers_summary(g, as_of_day, &s);
    size_t k = s.n_customers;
    double *col = malloc((k ? k : 1) * 4 * sizeof *col);
    sgs_assert_cmp(
        sgs_value_inputs(&s, k, 7.0, &exec, col, col + k, col + 2 * k, col + 3 * k, &err), ==,
        SGS_OK);
    sgs_histories_t mine, all;
    sgs_assert_cmp(sgs_histories_build(&mine, col, col + k, col + 2 * k, NULL, k, &exec, &err), ==,
                   SGS_OK);
    if (dist)
        sgs_assert_cmp(sgs_dist_histories_merge(&sgs_test_world, &exec, &mine, &all, &err), ==,
                       SGS_OK);
    sgs_model_fit_options_t o;
    sgs_model_fit_options_init(&o);
    sgs_fit_t fit;
    sgs_assert_cmp(sgs_purchase_model_fit(model, dist ? &all : &mine, &o, &fit, &exec, &err), ==,
                   SGS_OK);
    /* local: this process's histories only */
    size_t nh = mine.n_unique;
    double *p_alive = malloc((nh ? nh : 1) * sizeof *p_alive),
           *no_buy = malloc((nh ? nh : 1) * sizeof *no_buy);
    sgs_clv_options_t co = {horizon, 4.345, 0.0, 1.0};
    sgs_assert_cmp(sgs_clv_score_histories(model, fit.params, &mine, &co, p_alive, NULL, no_buy,
                                           NULL, &exec, &err),
                   ==, SGS_OK);
    sgs_assert_cmp(sgs_p_buy_column(nh, map, p_alive, no_buy, &exec, no_buy, &err), ==, SGS_OK);
    *p_buy = malloc((k ? k : 1) * sizeof **p_buy);
    for (size_t i = 0; i < k; i++)
        (*p_buy)[i] = no_buy[mine.history_of[i]];
    free(p_alive);
    free(no_buy);
    free(col);
    if (dist)
        sgs_histories_free(&all);
    sgs_histories_free(&mine);
    sgs_summary_free(&s);
    return k;
}

static void backtest_is_the_single_process_backtest(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 1};
    sgs_read_options_t opt = sgs_test_mpi_read_options();
    sgs_grouped_t g_all, g;
    sgs_read_stats_t st_all, st;
    sgs_dist_owners_t own;
    sgs_test_read_grouped(generated, &opt, &g_all, &st_all);
    sgs_test_mpi_read_grouped(generated, &opt, &g, &st, &own);
    int32_t as_of_day = (int32_t)sgs_day_of(st_all.max_time_s);
    test_cohort_t ca, cb;
    make_cohort(&g_all, as_of_day, 25000, 0, &ca);
    make_cohort(&g, as_of_day, 25000, 1, &cb);
    sgs_assert_cmp(ca.n_cohort, ==, cb.n_cohort);
    sgs_assert_cmp(ca.n, ==, 25000);
    const char *models[] = {"auto", "mbgnbd"};
    for (size_t k = 0; k < 2; k++) {
        sgs_backtest_cohort_t a = {ca.n, ca.id, ca.x, ca.t_x, ca.T, ca.occasions},
                              b = {cb.n, cb.id, cb.x, cb.t_x, cb.T, cb.occasions};
        sgs_backtest_options_t o = {BT_HOLD_DAYS / 7.0, BT_SEED, models[k],
                                    test_fit_options,   NULL,    &exec};
        sgs_backtest_t bta, btb;
        sgs_backtest_scores_t sa, sb;
        sgs_error_t ea = {0}, eb = {0};
        memset(&bta, 0, sizeof bta);
        memset(&btb, 0, sizeof btb);
        sgs_assert_cmp(sgs_backtest_models(&a, &o, &bta, &sa, &ea), ==, SGS_OK);
        sgs_assert_cmp(sgs_dist_backtest_models(&sgs_test_world, &b, &o, &btb, &sb, &eb), ==,
                       SGS_OK);
        sgs_assert_cmp(bta.chosen, >=, 0);
        sgs_assert_cmp(bta.used, >=, 0);
        assert_same_backtest(&bta, &sa, &btb, &sb);
        /* each process's customers' histories in the merged table */
        size_t before = (size_t)sgs_dist_offset(&sgs_test_world, cb.n);
        for (size_t i = 0; i < cb.n; i++)
            sgs_assert_cmp(sb.h.history_of[i], ==, sa.h.history_of[before + i]);
        /* p_buy of every buyer, made locally with the map */
        if (k == 0) {
            double *pa, *pb;
            sgs_purchase_model_t model = bta.models[bta.used].model;
            size_t na = p_buy_of_buyers(&g_all, as_of_day, 0, model, &bta.calibration, 26.0, &pa);
            size_t nb = p_buy_of_buyers(&g, as_of_day, 1, model, &btb.calibration, 26.0, &pb);
            size_t first = (size_t)sgs_dist_offset(&sgs_test_world, nb);
            int64_t n_all = (int64_t)nb;
            sgs_dist_reduce_i64(&sgs_test_world, &n_all, 1, SGS_DIST_SUM);
            sgs_assert_cmp((size_t)n_all, ==, na);
            assert_same_bits(pa + first, pb, nb * sizeof(double));
            free(pa);
            free(pb);
        }
        sgs_backtest_scores_free(&sa);
        sgs_backtest_scores_free(&sb);
        sgs_backtest_free(&bta);
        sgs_backtest_free(&btb);
    }
    /* the backtest's Gamma-Gamma on the cohort: rows of a sample, off the blocks */
    check_gg(ca.x, ca.m, cb.x, cb.m, cb.n, 0);
    /* and its spend check (engine/run_backtest.c backtest_spend on one process) */
    sgs_model_fit_options_t o;
    sgs_model_fit_options_init(&o);
    o.optim.no_hessian = 1;
    sgs_fit_t fit;
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_gg_fit(ca.x, ca.m, ca.n, &o, &fit, NULL, &exec, &err), ==, SGS_OK);
    sgs_assert_cmp(fit.params[1], >, 1.0);
    size_t n_spend = 0;
    double mae = 0.0, total_error = 0.0;
    sgs_holdout_spend_error(fit.params, ca.n, ca.x, ca.m, ca.occasions, ca.spend, &n_spend, &mae,
                            &total_error);
    sgs_assert_cmp(n_spend, >, 0);
    sgs_backtest_t bt;
    memset(&bt, 0, sizeof bt);
    sgs_dist_backtest_spend(&sgs_test_world, cb.x, cb.m, cb.occasions, cb.spend, cb.n, &o, &exec,
                            &bt);
    sgs_assert_cmp(bt.spend_ok, ==, 1);
    sgs_assert_cmp(bt.n_spend, ==, n_spend);
    assert_same_bits(&bt.spend_mae, &mae, sizeof mae);
    assert_same_bits(&bt.spend_total_error, &total_error, sizeof total_error);
    free_cohort(&ca);
    free_cohort(&cb);
    sgs_grouped_free(&g);
    sgs_grouped_free(&g_all);
    sgs_dist_owners_free(&own);
}

/* A history that is no history (t_x > T) on the last process fails every process. */
static void backtest_error_is_everyones(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 1};
    int np = sgs_test_world.size, me = sgs_test_world.rank;
    size_t n = 100;
    int64_t id[100];
    double x[100], t_x[100], T[100];
    int32_t occ[100];
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)(me * 1000 + (int)i);
        x[i] = (double)(i % 4);
        t_x[i] = x[i] > 0 ? 3.0 + (double)(i % 7) : 0.0;
        T[i] = 20.0 + (double)(i % 11);
        occ[i] = (int32_t)(i % 3);
    }
    if (me == np - 1)
        t_x[50] = T[50] + 1.0;
    sgs_backtest_cohort_t co = {n, id, x, t_x, T, occ};
    sgs_backtest_options_t o = {10.0, BT_SEED, "auto", test_fit_options, NULL, &exec};
    sgs_backtest_t bt;
    sgs_backtest_scores_t sc;
    sgs_error_t err = {0};
    memset(&bt, 0, sizeof bt);
    sgs_assert_cmp(sgs_dist_backtest_models(&sgs_test_world, &co, &o, &bt, &sc, &err), ==,
                   SGS_EDATA);
    if (np > 1) {
        char want[64];
        snprintf(want, sizeof want, "process %d of %d: ", np - 1, np);
        sgs_assert_contains(err.message, want);
    }
    sgs_backtest_free(&bt);
}

/* ---- The tracking curve ------------------------------------------------------------------- */

/* The tracking's cohort among grouped customers g: those with a purchase by end_day (one in
 * three left out by id, as a sample leaves customers out), with their first purchase day, and
 * their purchase occasions in the holdout (end_day, as_of_day], summed. */
typedef struct track_cohort {
    size_t n;
    size_t *g_row;
    int32_t *first_day;
    int64_t holdout_occasions;
} track_cohort_t;

static void track_cohort_make(const sgs_grouped_t *g, int32_t end_day, int32_t as_of_day,
                              track_cohort_t *tc)
{
    sgs_exec_t exec = {.n_threads = 1};
    sgs_error_t err = {0};
    size_t n = g->n_customers;
    sgs_summary_t full, cal = {0};
    sgs_assert_cmp(sgs_summary_alloc(&full, n), ==, SGS_OK);
    full.n_customers = n;
    sgs_assert_cmp(sgs_summarize(&exec, g, as_of_day, &full, &err), ==, SGS_OK);
    tc->g_row = malloc(n * sizeof *tc->g_row);
    tc->first_day = malloc(n * sizeof *tc->first_day);
    assert_non_null(tc->g_row);
    assert_non_null(tc->first_day);
    tc->n = 0;
    for (size_t c = 0; c < n; c++)
        if (full.has_purchase[c] && full.first_day[c] <= end_day && g->customer_id[c] % 3 != 0) {
            tc->g_row[tc->n] = c;
            tc->first_day[tc->n++] = full.first_day[c];
        }
    sgs_assert_cmp(tc->n, >, 0);
    sgs_assert_cmp(sgs_summary_alloc_history(&cal, tc->n), ==, SGS_OK);
    sgs_assert_cmp(sgs_summarize_until_subset(&exec, g, end_day, tc->g_row, tc->n, &cal, &err), ==,
                   SGS_OK);
    tc->holdout_occasions = 0;
    for (size_t j = 0; j < tc->n; j++)
        tc->holdout_occasions +=
            full.n_purchase_days[tc->g_row[j]] - (int64_t)cal.n_purchase_days[j];
    sgs_summary_free(&full);
    sgs_summary_free(&cal);
}

/* This process's share of g_all and of the cohort tc: the customers [lo, hi) of g_all (the
 * grouped rows a process owning them holds: a view into g_all's rows) and the cohort's
 * customers among them, their rows made local. */
typedef struct track_share {
    sgs_grouped_t g;
    size_t *g_row;
    sgs_tracking_cohort_t co;
} track_share_t;

static void track_share_make(const sgs_grouped_t *g_all, const track_cohort_t *tc, size_t lo,
                             size_t hi, track_share_t *sh)
{
    sh->g = *g_all;
    sh->g.n_customers = hi - lo;
    sh->g.customer_id = g_all->customer_id + lo;
    sh->g.row_offset = g_all->row_offset + lo;
    size_t a = 0, b;
    while (a < tc->n && tc->g_row[a] < lo)
        a++;
    for (b = a; b < tc->n && tc->g_row[b] < hi;)
        b++;
    sh->g_row = malloc((b - a + 1) * sizeof *sh->g_row);
    assert_non_null(sh->g_row);
    for (size_t i = a; i < b; i++)
        sh->g_row[i - a] = tc->g_row[i] - lo;
    sh->co = (sgs_tracking_cohort_t){&sh->g, b - a, sh->g_row, tc->first_day + a};
}

/* Both models the curve may follow, at parameters of the generated customers' order. */
static void tracking_models(sgs_backtest_t *bt)
{
    memset(bt, 0, sizeof *bt);
    bt->models[0] =
        (sgs_backtest_model_t){.model = SGS_MODEL_BGNBD, .params = {0.6, 9.0, 0.7, 3.1}};
    bt->models[1] =
        (sgs_backtest_model_t){.model = SGS_MODEL_PARETONBD, .params = {0.55, 8.0, 0.9, 14.0}};
}

/* The curve over the processes against sgs_backtest_tracking (engine/run_backtest.c's) on the
 * whole cohort, bit for bit: holdouts of 182 days (26 weekly points), 3 days (one point), three
 * quarters of the history (longer steps past 104 weeks when it spans more than 2.7 years), and
 * none (as_of = the calibration end: no curve); customers dealt evenly, growing with the rank,
 * all on the first process and none on the last. The actual curve's last point is checked
 * against the cohort's holdout occasions from its summaries. */
static void tracking_is_the_single_process_curve(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 1};
    sgs_read_options_t opt = sgs_test_mpi_read_options();
    sgs_grouped_t g_all;
    sgs_read_stats_t st_all;
    sgs_test_read_grouped(generated, &opt, &g_all, &st_all);
    int32_t as_of = (int32_t)sgs_day_of(st_all.max_time_s);
    int32_t first = (int32_t)sgs_day_of(st_all.min_time_s);
    int np = sgs_test_world.size, me = sgs_test_world.rank;
    const int32_t holds[] = {182, 3, (as_of - first) * 3 / 4, 0};
    for (size_t h = 0; h < sizeof holds / sizeof holds[0]; h++) {
        int32_t cal_end = as_of - holds[h];
        track_cohort_t tc;
        track_cohort_make(&g_all, cal_end, as_of, &tc);
        sgs_tracking_cohort_t whole = {&g_all, tc.n, tc.g_row, tc.first_day};
        sgs_backtest_t bta, btb;
        sgs_error_t err = {0};
        int j = (int)(h % 2);
        tracking_models(&bta);
        sgs_assert_cmp(sgs_backtest_tracking(&whole, cal_end, as_of, 7.0, j, &exec, &bta, &err), ==,
                       SGS_OK);
        if (holds[h] == 0) {
            sgs_assert_cmp(bta.n_tracking, ==, 0);
        } else {
            size_t want = holds[h] > 7 * SGS_BACKTEST_TRACK_MAX ? SGS_BACKTEST_TRACK_MAX
                                                                : ((size_t)holds[h] + 6) / 7;
            sgs_assert_cmp(bta.n_tracking, ==, want);
            sgs_assert_cmp(bta.tracking_day[bta.n_tracking - 1], ==, as_of);
            sgs_assert_cmp(bta.tracking_actual[bta.n_tracking - 1], ==, tc.holdout_occasions);
            sgs_assert_cmp(bta.tracking_expected[bta.n_tracking - 1], >, 0.0);
        }
        for (int layout = 0; layout < 4; layout++) {
            track_share_t sh;
            track_share_make(&g_all, &tc, cut(layout, g_all.n_customers, me, np),
                             cut(layout, g_all.n_customers, me + 1, np), &sh);
            tracking_models(&btb);
            int rc = sgs_dist_backtest_tracking(&sgs_test_world, &sh.co, cal_end, as_of, 7.0, j,
                                                &exec, &btb, &err);
            if (rc != SGS_OK || btb.n_tracking != bta.n_tracking ||
                btb.tracking_model != bta.tracking_model ||
                memcmp(btb.tracking_day, bta.tracking_day, sizeof bta.tracking_day) ||
                memcmp(btb.tracking_actual, bta.tracking_actual, sizeof bta.tracking_actual) ||
                memcmp(btb.tracking_expected, bta.tracking_expected, sizeof bta.tracking_expected))
                fail_msg("holdout %d days, layout %d: rc %d (%s), %zu points against %zu, the "
                         "curves differ",
                         (int)holds[h], layout, rc, err.message, btb.n_tracking, bta.n_tracking);
            sgs_free(sh.g_row);
        }
        free(tc.g_row);
        free(tc.first_day);
    }
    sgs_grouped_free(&g_all);
}

typedef struct tracking_call {
    const sgs_tracking_cohort_t *co;
    int32_t cal_end, as_of;
} tracking_call_t;

static int call_tracking(void *ctx, sgs_error_t *err)
{
    const tracking_call_t *c = ctx;
    sgs_exec_t exec = {.n_threads = 1};
    sgs_backtest_t bt;
    tracking_models(&bt);
    int rc = sgs_dist_backtest_tracking(&sgs_test_world, c->co, c->cal_end, c->as_of, 7.0, 0, &exec,
                                        &bt, err);
    if (rc == SGS_OK)
        sgs_assert_cmp(bt.n_tracking, ==, 26);
    else
        sgs_assert_cmp(bt.n_tracking, ==, 0);
    return rc;
}

/* A first purchase day after the calibration end on the last process (customers dealt evenly)
 * is every process's error, with its message; every allocation failing in turn on the last
 * process fails every process. */
static void tracking_errors_are_everyones(void **state)
{
    (void)state;
    sgs_read_options_t opt = sgs_test_mpi_read_options();
    sgs_grouped_t g_all;
    sgs_read_stats_t st_all;
    sgs_test_read_grouped(generated, &opt, &g_all, &st_all);
    int32_t as_of = (int32_t)sgs_day_of(st_all.max_time_s), cal_end = as_of - 182;
    int np = sgs_test_world.size, me = sgs_test_world.rank;
    track_cohort_t tc;
    track_cohort_make(&g_all, cal_end, as_of, &tc);
    track_share_t sh;
    track_share_make(&g_all, &tc, cut(0, g_all.n_customers, me, np),
                     cut(0, g_all.n_customers, me + 1, np), &sh);
    tracking_call_t c = {&sh.co, cal_end, as_of};
    sgs_test_mpi_alloc_sweep(call_tracking, &c, "tracking", 3);
    sgs_assert_cmp(sh.co.n, >, 0);
    int32_t *bad = malloc(sh.co.n * sizeof *bad);
    assert_non_null(bad);
    memcpy(bad, sh.co.first_day, sh.co.n * sizeof *bad);
    if (me == np - 1)
        bad[sh.co.n / 2] = cal_end + 1;
    sh.co.first_day = bad;
    sgs_error_t err = {0};
    sgs_assert_cmp(call_tracking(&c, &err), ==, SGS_EINVAL);
    char want[160];
    snprintf(want, sizeof want, "customer %lld's first purchase day %d is not in",
             (long long)sh.g.customer_id[sh.g_row[sh.co.n / 2]], (int)cal_end + 1);
    if (me == np - 1)
        sgs_assert_contains(err.message, want);
    if (np > 1) {
        snprintf(want, sizeof want, "process %d of %d: backtest: customer ", np - 1, np);
        sgs_assert_contains(err.message, want);
    }
    free(bad);
    sgs_free(sh.g_row);
    free(tc.g_row);
    free(tc.first_day);
    sgs_grouped_free(&g_all);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gg_fit_on_generated_customers),
        cmocka_unit_test(gg_fit_on_rows_dealt_unevenly),
        cmocka_unit_test(gg_errors_are_everyones),
        cmocka_unit_test(backtest_is_the_single_process_backtest),
        cmocka_unit_test(backtest_error_is_everyones),
        cmocka_unit_test(tracking_is_the_single_process_curve),
        cmocka_unit_test(tracking_errors_are_everyones),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, setup_file, remove_file);
}
