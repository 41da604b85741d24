/*
 * engine/run_backtest.c — the backtest inside every run (run_backtest.h, docs/backtest.md).
 *
 * The calibration period ends holdout days before the as-of date; the cohort is every customer
 * with a purchase occasion by then. On a large base the backtest takes a sample of the cohort
 * (value.backtest_sample customers, chosen by a hash of the customer id: kernels/sample.h), and
 * reads the calibration history of those customers only. Each purchase model is fitted on their
 * calibration histories and predicts, per distinct history, P(buy in the holdout) and the
 * expected number of purchase occasions in it; these are scored against what each customer
 * did. Scores are computed per distinct history (customers with the same history share the
 * prediction), so the cost is a few fits on the sample and a pass over the cohort, not a
 * second run.
 *
 * Spread over processes (docs/mpi.md), the cohort's customers stay on their processes: the
 * sample is chosen among all of them (engine/dist_sample.h), the models, choice and calibration
 * are made on the merged table of histories (engine/dist_backtest.h), and the tracking curve's
 * counts per day are integers summed over the processes.
 */
#include "engine/run_backtest.h"

#include "engine/backtest_models.h"
#include "engine/backtest_tracking.h"
#include "engine/dist_backtest.h"
#include "engine/dist_run.h"
#include "engine/dist_sample.h"
#include "engine/run_state.h"
#include "kernels/base_totals.h"
#include "kernels/gammagamma.h"
#include "kernels/histories.h"
#include "kernels/holdout.h"
#include "kernels/sample.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Random stream of the backtest's sample ("backtest" in ASCII): the run's other random choices
 * use other streams of the same seed. */
#define SAMPLE_STREAM UINT64_C(0x6261636b74657374)

/* Holdout length in days: the configured one, else the horizon when it is at most half of the
 * observed span, else half of the span (the longer the holdout, the better the
 * calibration carries to the horizon: docs/backtest.md). 0 when the span is too short for any. */
static int32_t holdout_days(const sgs_run_state_t *st, int32_t span_days)
{
    const sgs_config_t *cfg = st->req->config;
    double unit = st->days_per_unit, days;
    if (cfg->backtest_holdout > 0)
        days = cfg->backtest_holdout * unit;
    else if (st->value.horizon * unit <= 0.5 * span_days)
        days = st->value.horizon * unit;
    else
        days = span_days / 2.0;
    int32_t d = (int32_t)lround(days);
    return d >= 1 && d < span_days ? d : 0;
}

/* The cohort and what it did: calibration histories and holdout outcomes. */
typedef struct cohort {
    size_t n;
    double *x, *t_x, *T; /* calibration history, in the unit */
    double *m;           /* Gamma-Gamma input: calibration monetary (0 when net <= 0) */
    int64_t *id;         /* customer id */
    int32_t *occasions;  /* purchase occasions in the holdout */
    double *spend;       /* net spend in the holdout */
    size_t *row;         /* the customer's buyer row in the run */
    size_t *g_row;       /* the customer's row in the grouped rows (st->group.rows) */
    int32_t *first_day;  /* first purchase day */
} cohort_t;

static void cohort_free(cohort_t *c)
{
    sgs_free(c->x);
    sgs_free(c->t_x);
    sgs_free(c->T);
    sgs_free(c->m);
    sgs_free(c->occasions);
    sgs_free(c->id);
    sgs_free(c->spend);
    sgs_free(c->g_row);
    sgs_free(c->first_day);
    sgs_free(c->row);
}

/* The customers the backtest scores, as indices among the run's buyers (ascending): the
 * cohort (bought by the calibration end, which is first_day <= end_day: whether a day is a
 * purchase occasion depends on that day's rows only), or a sample of it when it has more than
 * value.backtest_sample customers. *which is owned by the caller. */
static int choose_customers(const sgs_run_state_t *st, int32_t end_day, size_t **which,
                            size_t *n_which, size_t *n_cohort, sgs_error_t *err)
{
    const sgs_config_t *cfg = st->req->config;
    size_t n = st->summary.n_customers;
    size_t want = cfg->backtest_sample > 0 ? (size_t)cfg->backtest_sample : SIZE_MAX;
    uint8_t *eligible = sgs_alloc_array(n, sizeof *eligible);
    *which = sgs_alloc_array(want < n && st->dist.size == 1 ? want : n, sizeof **which);
    int rc = !eligible || !*which
                 ? sgs_error_set(err, SGS_ENOMEM, "backtest: no memory for %zu customers", n)
                 : SGS_OK;
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK) {
        sgs_free(eligible);
        return rc;
    }
    for (size_t k = 0; k < n; k++)
        eligible[k] = st->summary.columns.first_day[k] <= end_day;
    if (st->dist.size > 1) /* the customers one process would choose among all */
        rc = sgs_dist_sample_by_key(&st->dist, st->summary.customer_id, eligible, n, want,
                                    cfg->seed, SAMPLE_STREAM, *which, n_which, n_cohort, err);
    else
        rc = sgs_sample_by_key(st->summary.customer_id, eligible, n, want, cfg->seed, SAMPLE_STREAM,
                               *which, n_which, n_cohort, &st->exec, err);
    sgs_free(eligible);
    return rc;
}

/* The cohort's calibration histories and what it did in the holdout, for the buyers which[]
 * (ascending): their grouped rows are found by walking both id lists, which are ascending. */
static int build_cohort(const sgs_run_state_t *st, int32_t end_day, const size_t *which,
                        size_t n_which, cohort_t *co, sgs_error_t *err)
{
    const sgs_grouped_t *g = &st->group.rows;
    const sgs_summary_t *full = &st->summary.columns;
    double unit = st->days_per_unit;
    sgs_summary_t cal = {0};
    size_t *rows = sgs_alloc_array(n_which, sizeof *rows);
    int rc = sgs_summary_alloc_history(&cal, n_which);
    co->x = sgs_alloc_array(n_which, sizeof *co->x);
    co->t_x = sgs_alloc_array(n_which, sizeof *co->t_x);
    co->T = sgs_alloc_array(n_which, sizeof *co->T);
    co->m = sgs_alloc_array(n_which, sizeof *co->m);
    co->occasions = sgs_alloc_array(n_which, sizeof *co->occasions);
    co->id = sgs_alloc_array(n_which, sizeof *co->id);
    co->spend = sgs_alloc_array(n_which, sizeof *co->spend);
    co->row = sgs_alloc_array(n_which, sizeof *co->row);
    co->g_row = sgs_alloc_array(n_which, sizeof *co->g_row);
    co->first_day = sgs_alloc_array(n_which, sizeof *co->first_day);
    if (rc || !rows || !co->x || !co->t_x || !co->T || !co->m || !co->occasions || !co->id ||
        !co->spend || !co->row || !co->g_row || !co->first_day) {
        rc = sgs_error_set(err, SGS_ENOMEM, "backtest: no memory for %zu customers", n_which);
        goto cleanup;
    }
    for (size_t j = 0, c = 0; j < n_which; j++) {
        int64_t id = st->summary.customer_id[which[j]];
        while (c < g->n_customers && g->customer_id[c] < id)
            c++;
        assert(c < g->n_customers && g->customer_id[c] == id); /* every buyer has rows */
        rows[j] = c;
    }
    rc = sgs_summarize_until_subset(&st->exec, g, end_day, rows, n_which, &cal, err);
    if (rc)
        goto cleanup;
    size_t i = 0;
    for (size_t j = 0; j < n_which; j++) {
        size_t k = which[j];
        /* an occasion by the calibration end (first_day <= end_day) is one in its summary */
        assert(cal.has_purchase[j]);
        if (!cal.has_purchase[j])
            continue;
        co->x[i] = cal.n_purchase_days[j] - 1;
        co->t_x[i] = cal.recency_days[j] / unit;
        co->T[i] = cal.age_days[j] / unit;
        co->m[i] = cal.total_spend[j] > 0.0 ? cal.monetary[j] : 0.0;
        co->occasions[i] = full->n_purchase_days[k] - cal.n_purchase_days[j];
        co->id[i] = st->summary.customer_id[k];
        co->spend[i] = full->total_spend[k] - cal.total_spend[j];
        co->row[i] = k;
        co->g_row[i] = rows[j];
        co->first_day[i] = full->first_day[k]; /* by the calibration end: the same day */
        i++;
    }
    co->n = i;
cleanup:
    sgs_free(rows);
    sgs_summary_free(&cal);
    return rc;
}

/* Gamma-Gamma on the calibration period against the holdout's spend per occasion. */
static void backtest_spend(const sgs_run_state_t *st, const cohort_t *co, sgs_backtest_t *bt)
{
    sgs_fit_watch_t watch;
    sgs_model_fit_options_t o = sgs_run_fit_options(st, "backtest: Gamma-Gamma fit", &watch);
    o.optim.no_hessian = 1;
    if (st->dist.size > 1) { /* the same check over every process's cohort */
        sgs_dist_backtest_spend(&st->dist, co->x, co->m, co->occasions, co->spend, co->n, &o,
                                &st->exec, bt);
        return;
    }
    sgs_fit_t fit;
    sgs_error_t err = {0};
    if (sgs_gg_fit(co->x, co->m, co->n, &o, &fit, NULL, &st->exec, &err) != SGS_OK ||
        !(fit.params[1] > 1.0))
        return;
    size_t n = 0;
    double mae = 0.0, total_error = 0.0;
    sgs_holdout_spend_error(fit.params, co->n, co->x, co->m, co->occasions, co->spend, &n, &mae,
                            &total_error);
    if (n == 0)
        return;
    bt->spend_ok = 1;
    bt->n_spend = n;
    bt->spend_mae = mae;
    bt->spend_total_error = total_error;
}

/* p_buy over the run's horizon at the calibration end, for the stages checked on the holdout
 * (engine/run_stages.c). p_alive and no_buy are scratch of h->n_unique. */
static int p_buy_over_horizon(const sgs_run_state_t *st, const cohort_t *co,
                              const sgs_histories_t *h, const sgs_backtest_model_t *bm,
                              sgs_backtest_t *bt, double *p_alive, double *no_buy, sgs_error_t *err)
{
    bt->p_buy_at_end =
        sgs_alloc_array(st->summary.n_customers ? st->summary.n_customers : 1, sizeof(double));
    if (!bt->p_buy_at_end)
        return sgs_error_set(err, SGS_ENOMEM, "backtest: no memory for %zu customers",
                             st->summary.n_customers);
    sgs_clv_options_t o = {st->value.horizon, 1.0, 0.0, 1.0};
    int rc = sgs_clv_score_histories(bm->model, bm->params, h, &o, p_alive, NULL, no_buy, NULL,
                                     &st->exec, err);
    if (rc)
        return rc;
    /* P(no purchase) -> the calibrated P(buy) (kernels/calibration.h sgs_p_buy), in place */
    rc = sgs_p_buy_column(h->n_unique, &bt->calibration, p_alive, no_buy, &st->exec, no_buy, err);
    if (rc)
        return rc;
    for (size_t k = 0; k < st->summary.n_customers; k++)
        bt->p_buy_at_end[k] = NAN;
    for (size_t i = 0; i < co->n; i++)
        bt->p_buy_at_end[co->row[i]] = no_buy[h->history_of[i]];
    return SGS_OK;
}

/* The tracking curve of model j over the holdout (run_backtest.h): the cohort's repeat
 * purchase days counted per day over the grouped rows, and the model's expected cumulative
 * repeat purchases of the same customers by their first purchase day, both taken from the
 * calibration end on (engine/backtest_tracking.h): the same kernels as segscore evaluate's
 * tracking (engine/evaluate.c). */
static int backtest_tracking(const sgs_run_state_t *st, const cohort_t *co, sgs_backtest_t *bt,
                             int j, sgs_error_t *err)
{
    sgs_tracking_cohort_t tc = {&st->group.rows, co->n, co->g_row, co->first_day};
    if (st->dist.size > 1) /* the counts of every process's cohort customers, summed */
        return sgs_dist_backtest_tracking(&st->dist, &tc, bt->calibration_end_day,
                                          st->read.as_of_day, st->days_per_unit, j, &st->exec, bt,
                                          err);
    return sgs_backtest_tracking(&tc, bt->calibration_end_day, st->read.as_of_day,
                                 st->days_per_unit, j, &st->exec, bt, err);
}

/* The run's fit options (value.*) with its progress watch. */
static sgs_model_fit_options_t run_fit_options(void *ctx, const char *what, sgs_fit_watch_t *watch)
{
    return sgs_run_fit_options(ctx, what, watch);
}

static int backtest(sgs_run_state_t *st, sgs_backtest_t *bt, sgs_error_t *err)
{
    memset(bt, 0, sizeof *bt);
    bt->chosen = -1;
    const sgs_config_t *cfg = st->req->config;
    if (!cfg->backtest) {
        snprintf(bt->skipped, sizeof bt->skipped, "value.backtest is off");
        return SGS_OK;
    }
    int32_t first = sgs_dist_run_min_i32(
        &st->dist,
        sgs_day_min(st->summary.n_customers, st->summary.columns.first_day, st->read.as_of_day));
    int32_t span = st->read.as_of_day - first, hold = holdout_days(st, span);
    if (hold == 0) {
        snprintf(bt->skipped, sizeof bt->skipped,
                 "the history spans %d days: no holdout of %s fits in it", (int)span,
                 cfg->backtest_holdout > 0 ? "value.backtest_holdout" : "half of it");
        return SGS_OK;
    }
    bt->calibration_end_day = st->read.as_of_day - hold;
    bt->holdout = hold / st->days_per_unit;

    cohort_t co = {0};
    sgs_backtest_scores_t sc = {0};
    size_t *which = NULL, n_which = 0;
    int rc = choose_customers(st, bt->calibration_end_day, &which, &n_which, &bt->n_cohort, err);
    if (rc == SGS_OK)
        rc = sgs_dist_run_agree(
            st, build_cohort(st, bt->calibration_end_day, which, n_which, &co, err), err);
    if (rc)
        goto cleanup;
    /* the fits, scores, choice and calibration (engine/backtest_models.h) */
    sgs_backtest_cohort_t cohort = {co.n, co.id, co.x, co.t_x, co.T, co.occasions};
    sgs_backtest_options_t bo = {bt->holdout,     cfg->seed, cfg->model,
                                 run_fit_options, st,        &st->exec};
    rc = st->dist.size > 1 ? sgs_dist_backtest_models(&st->dist, &cohort, &bo, bt, &sc, err)
                           : sgs_backtest_models(&cohort, &bo, bt, &sc, err);
    if (rc)
        goto cleanup;
    if (bt->chosen < 0) {
        snprintf(bt->skipped, sizeof bt->skipped, "no model could be fitted on the first %d days",
                 (int)(span - hold));
        goto cleanup;
    }
    bt->ran = 1;
    backtest_spend(st, &co, bt);
    if (bt->used >= 0) {
        /* the used model's columns, scratch from here */
        size_t nh = sc.nh, u = (size_t)bt->used;
        rc = p_buy_over_horizon(st, &co, &sc.h, &bt->models[u], bt, sc.p_alive_of + u * nh,
                                sc.p_buy_of + u * nh, err);
        rc = sgs_dist_run_agree(st, rc, err);
    }
    if (rc == SGS_OK)
        rc = backtest_tracking(st, &co, bt, bt->used >= 0 ? bt->used : bt->chosen, err);
cleanup:
    sgs_free(which);
    sgs_backtest_scores_free(&sc);
    cohort_free(&co);
    return rc;
}

int sgs_run_backtest(sgs_run_state_t *st, sgs_backtest_t *bt, sgs_error_t *err)
{
    double start = sgs_progress_elapsed(st->req->progress);
    int rc = backtest(st, bt, err);
    bt->seconds = sgs_progress_elapsed(st->req->progress) - start;
    return rc;
}

void sgs_backtest_free(sgs_backtest_t *bt)
{
    if (!bt)
        return;
    sgs_isotonic_free(&bt->calibration);
    sgs_free(bt->p_buy_at_end);
    bt->p_buy_at_end = NULL;
}
