/*
 * engine/run_value.c — what customers are worth: the configured repeat-purchase model (by
 * default the one the backtest chooses) and the Gamma-Gamma spend model, fitted over the
 * whole base by maximum likelihood, then P(alive), expected purchases, P(no purchase),
 * expected spend and CLV for every customer (kernels/clv.h has the formulas).
 *
 * The backtest (engine/run_backtest.c) runs first: it may choose the model (value.model =
 * auto) and gives the calibration of p_buy. What the step says about its fits (not
 * converged, running off, not identified) is in engine/value_diagnostics.c; when the dropout
 * process is not identified, the later steps treat P(alive) as unknown. Customers whose net
 * spend is <= 0
 * stay in the purchase model (they did buy) but are left out of the spend fit and are worth
 * nothing: expected spend and CLV 0. Every score is checked before it is handed on: a value
 * that is not finite or outside its range stops the run, naming the customer, its history
 * and the parameters.
 *
 * Spread over processes, each process scores its own customers; the fits are made on every
 * process's customers (the merged table of histories, engine/dist_histories.h; Gamma-Gamma by
 * engine/dist_gammagamma.h), the same fits as one process's, and the totals are exact sums.
 */
#include "engine/run_state.h"

#include "engine/dist_gammagamma.h"
#include "engine/dist_histories.h"
#include "engine/dist_run.h"
#include "engine/interrupt.h"
#include "kernels/base_totals.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- The result ------------------------------------------------------------------------ */

void sgs_run_value_init(sgs_run_value_t *v)
{
    memset(v, 0, sizeof *v);
}

void sgs_run_value_free(sgs_run_value_t *v)
{
    if (!v)
        return;
    sgs_free(v->p_alive);
    sgs_free(v->expected_purchases);
    sgs_free(v->prob_no_purchase);
    sgs_free(v->expected_spend);
    sgs_free(v->clv);
    sgs_free(v->p_buy);
    sgs_backtest_free(&v->backtest);
    sgs_run_value_init(v);
}

/* ---- Fit options and progress ----------------------------------------------------------- */

sgs_model_fit_options_t sgs_run_fit_options(const sgs_run_state_t *st, const char *what,
                                            sgs_fit_watch_t *watch)
{
    const sgs_config_t *cfg = st->req->config;
    sgs_model_fit_options_t o = cfg->value_fit; /* value.penalizer, max_iter, fit_time_limit */
    sgs_fit_watch_attach(watch, st->req->progress, what, o.optim.time_limit_s, &o.optim);
    if (st->dist.size > 1) { /* the same fit everywhere, stopped together (docs/mpi.md): */
        o.optim.time_up = sgs_dist_run_fit_time_up; /* process 0's clock for all */
        o.optim.time_up_ctx = (void *)&st->dist;
        o.optim.stop = sgs_dist_run_fit_stop; /* a signal to any process */
        o.optim.stop_ctx = (void *)&st->dist;
    }
    return o;
}

/* ---- Checks before the scores are handed on ------------------------------------------ */

/* Every score finite and in its range (kernels/base_totals.h sgs_value_scores_check), else
 * SGS_ENUMERIC naming the first customer that is not, with its history and the parameters. */
static int check_scores(const sgs_run_state_t *st, sgs_error_t *err)
{
    const sgs_run_value_t *v = &st->value;
    size_t first = 0;
    const char *what = NULL;
    double value = 0.0;
    size_t n_bad = sgs_value_scores_check(
        st->summary.n_customers, v->p_alive, v->expected_purchases, v->prob_no_purchase,
        v->expected_spend, v->clv, v->p_buy, &first, &what, &value);
    if (n_bad == 0)
        return SGS_OK;
    const sgs_summary_t *s = &st->summary.columns;
    const double *p = st->value.model_fit.params, *g = st->value.spend_fit.params;
    const char *const *names = sgs_purchase_model_param_names(st->value.model);
    const char *unit = st->days_per_unit == 1.0 ? "days" : "weeks";
    return sgs_error_set(
        err, SGS_ENUMERIC,
        "value: %zu customers have a score that is not finite or outside its range (%s first); "
        "the first, customer %lld (x = %d, t_x = %g, T = %g %s, monetary %.6g), has %s = %g over "
        "a horizon "
        "of %g %s with %s %s = %.6g, %s = %.6g, %s = %.6g, %s = %.6g and Gamma-Gamma p = %.6g, "
        "q = %.6g, gamma = %.6g. Nothing was published; run with another value.model, and "
        "please report these numbers",
        n_bad, what, (long long)st->summary.customer_id[first], s->frequency[first],
        s->recency_days[first] / st->days_per_unit, s->age_days[first] / st->days_per_unit, unit,
        s->monetary[first], what, value, st->value.horizon, unit,
        sgs_purchase_model_name(st->value.model), names[0], p[0], names[1], p[1], names[2], p[2],
        names[3], p[3], g[0], g[1], g[2]);
}

/* ---- Model choice and calibration (engine/run_backtest.h) ----------------------------- */

/* The configured model, or with "auto" the backtest's choice (BG/NBD when it could not run). */
static int choose_model(sgs_run_state_t *st, sgs_error_t *err)
{
    const char *name = st->req->config->model;
    const sgs_backtest_t *bt = &st->value.backtest;
    if (strcmp(name, "auto") != 0)
        return sgs_purchase_model_parse(name, &st->value.model, err);
    if (bt->ran) {
        st->value.model = bt->models[bt->chosen].model;
        return SGS_OK;
    }
    st->value.model = SGS_MODEL_BGNBD;
    sgs_run_warn(st, "backtest_skipped",
                 "value.model is auto but the backtest did not run (%s): BG/NBD is used",
                 bt->skipped);
    return SGS_OK;
}

/* p_buy: the model's P(buy within the horizon) with its P(alive) replaced by the calibrated
 * one the backtest learned (kernels/calibration.h, docs/backtest.md); the model's own
 * probability when no calibration is available. Returns the map, or NULL. */
static const sgs_isotonic_t *p_buy_calibration(sgs_run_state_t *st)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    st->value.p_buy_calibrated = bt->ran && bt->used >= 0;
    return st->value.p_buy_calibrated ? &bt->calibration : NULL;
}

/* The warning when p_buy is the model's own probability. */
static void warn_p_buy_uncalibrated(sgs_run_state_t *st)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    if (!st->value.p_buy_calibrated)
        sgs_run_warn(st, "p_buy_uncalibrated",
                     "p_buy is the model's own probability of buying within the horizon, not "
                     "calibrated: %s",
                     bt->ran ? "the configured model could not be fitted in the backtest"
                             : bt->skipped);
}

/* The scores' columns, allocated only when the scoring is next: by then the fits' and the
 * histories' scratch and the inputs no longer needed have gone back to the page pool
 * (kernels/page_pool.h), and the columns take those pages instead of fresh ones, whose first
 * touch costs more than the scoring's own work. */
static int alloc_outputs(const sgs_run_state_t *st, sgs_run_value_t *v, size_t n, sgs_error_t *err)
{
    v->p_alive = sgs_alloc_array(n, sizeof(double));
    v->expected_purchases = sgs_alloc_array(n, sizeof(double));
    v->prob_no_purchase = sgs_alloc_array(n, sizeof(double));
    v->expected_spend = sgs_alloc_array(n, sizeof(double));
    v->clv = sgs_alloc_array(n, sizeof(double));
    v->p_buy = sgs_alloc_array(n, sizeof(double));
    int rc = v->p_alive && v->expected_purchases && v->prob_no_purchase && v->expected_spend &&
                     v->clv && v->p_buy
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "value: no memory for %zu customers", n);
    return sgs_dist_run_agree(st, rc, err);
}

int sgs_run_value(sgs_run_state_t *st, sgs_error_t *err)
{
    const sgs_config_t *cfg = st->req->config;
    sgs_run_value_t *v = &st->value; /* this step's result */
    if (strcmp(cfg->model, "none") == 0)
        return SGS_OK;
    sgs_progress_begin(st->req->progress, "value");
    size_t n = st->summary.n_customers;
    const sgs_summary_t *s = &st->summary.columns;
    double unit = st->days_per_unit;
    sgs_histories_t hist = {0}, merged = {0}; /* this process's; of every process (spread) */
    const sgs_histories_t *fit_on = &hist;
    double *x = sgs_alloc_array(n, sizeof *x);
    double *t_x = sgs_alloc_array(n, sizeof *t_x);
    double *age = sgs_alloc_array(n, sizeof *age);
    double *spend = sgs_alloc_array(n, sizeof *spend); /* Gamma-Gamma's m per customer */
    int rc = SGS_OK;
    if (!x || !t_x || !age || !spend)
        rc = sgs_error_set(err, SGS_ENOMEM, "value: no memory for %zu customers", n);
    /* the purchase models' histories, and Gamma-Gamma's m per customer: net spend <= 0 has
     * nothing to learn about spend per purchase, and is worth nothing */
    if (rc == SGS_OK)
        rc = sgs_value_inputs(s, n, unit, &st->exec, x, t_x, age, spend, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    v->horizon = cfg->horizon > 0 ? cfg->horizon : 365.0 / unit;
    rc = sgs_run_backtest(st, &v->backtest, err);
    if (rc == SGS_OK) /* the fits take the time of this step: stop between them */
        rc = sgs_dist_run_agree(st, sgs_interrupt_check("after the backtest", err), err);
    if (rc == SGS_OK)
        rc = choose_model(st, err);
    if (rc == SGS_OK)
        rc = sgs_dist_run_agree(
            st, sgs_histories_build(&hist, x, t_x, age, NULL, n, &st->exec, err), err);
    /* t_x and T are in the histories now: their pages go back for the fits' scratch */
    sgs_free(t_x);
    sgs_free(age);
    t_x = age = NULL;
    if (rc == SGS_OK && st->dist.size > 1) {
        rc = sgs_dist_histories_merge(&st->dist, &st->exec, &hist, &merged, err);
        fit_on = &merged;
    }
    if (rc != SGS_OK)
        goto cleanup;
    v->n_histories = fit_on->n_unique;

    const char *model_name = sgs_purchase_model_name(v->model);
    char what[48];
    snprintf(what, sizeof what, "%s fit", model_name);
    sgs_fit_watch_t watch;
    sgs_model_fit_options_t fit_options = sgs_run_fit_options(st, what, &watch);
    rc = sgs_purchase_model_fit(v->model, fit_on, &fit_options, &v->model_fit, &st->exec, err);
    rc = sgs_dist_run_agree(st, rc, err); /* the same fit everywhere but for memory */
    rc = sgs_value_accept_fit(st, rc, 0, &v->model_fit, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "value: %s", model_name);
        goto cleanup;
    }
    rc = sgs_dist_run_agree(st, sgs_interrupt_check("before the Gamma-Gamma fit", err), err);
    if (rc != SGS_OK)
        goto cleanup;
    fit_options = sgs_run_fit_options(st, "Gamma-Gamma fit", &watch);
    rc = st->dist.size > 1 ? sgs_dist_gg_fit(&st->dist, x, spend, n, &fit_options, &v->spend_fit,
                                             &v->spend_summary, &st->exec, err)
                           : sgs_gg_fit(x, spend, n, &fit_options, &v->spend_fit, &v->spend_summary,
                                        &st->exec, err);
    rc = sgs_value_accept_fit(st, rc, 1, &v->spend_fit, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "value: Gamma-Gamma spend model");
        goto cleanup;
    }
    if (fabs(v->spend_summary.correlation) > cfg->gg_correlation_warn)
        sgs_run_warn(st, "spend_frequency_correlation",
                     "frequency and repeat spend are correlated (r = %.2f): Gamma-Gamma "
                     "assumes they are independent, so expected spend may be biased",
                     v->spend_summary.correlation);

    sgs_clv_options_t clv_options = cfg->value_clv; /* value.discount_rate_annual, margin */
    clv_options.horizon = v->horizon;
    clv_options.units_per_month = unit == 1.0 ? SGS_CLV_DAYS_PER_MONTH : SGS_CLV_WEEKS_PER_MONTH;
    rc = alloc_outputs(st, v, n, err);
    if (rc != SGS_OK)
        goto cleanup;
    /* the scores, and p_buy from the same per-history P(alive) and P(no purchase) */
    sgs_clv_customer_scores_t scores = {
        v->p_alive, v->expected_purchases, v->prob_no_purchase, v->expected_spend, v->clv,
        v->p_buy,   p_buy_calibration(st)};
    rc = sgs_clv_score_customers_to(v->model, v->model_fit.params, v->spend_fit.params, &hist, x,
                                    spend, &clv_options, &scores, &st->exec, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "value: scoring");
        goto cleanup;
    }
    sgs_value_zero_without_spend(n, s->total_spend, v->expected_spend, v->clv);
    warn_p_buy_uncalibrated(st);
    if (rc == SGS_OK)
        rc = check_scores(st, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    sgs_value_check_identification(st);
    /* exact sums: the same bits in any order and over any split of the customers */
    sgs_exact_sum_t sums[4]; /* CLV, its magnitude, expected purchases, their magnitude */
    sgs_column_sums(n, v->clv, &st->exec, &sums[0], &sums[1]);
    sgs_column_sums(n, v->expected_purchases, &st->exec, &sums[2], &sums[3]);
    sgs_dist_run_exact_sums(&st->dist, sums, 4);
    double clv_total = sgs_exact_sum_value(&sums[0]), clv_magnitude = sgs_exact_sum_value(&sums[1]);
    double purchases_total = sgs_exact_sum_value(&sums[2]);
    /* Each CLV is finite (check_scores); their sum of magnitudes bounds every total of CLV or
     * of value at stake (CLV x a probability) over customers, in any order. */
    if (!isfinite(clv_magnitude) || !isfinite(purchases_total)) {
        rc = sgs_error_set(err, SGS_ENUMERIC,
                           "value: the customers' CLVs add up beyond the largest number a "
                           "double holds (%.3g): totals would be infinite; nothing was published",
                           DBL_MAX);
        goto cleanup;
    }
    v->clv_total = clv_total;
    v->expected_purchases_total = purchases_total;
    v->ran = 1;
    sgs_progress_end(st->req->progress, "%s over %zu histories, log-likelihood %.1f%s", model_name,
                     v->n_histories, v->model_fit.log_likelihood,
                     v->model_fit.converged && v->spend_fit.converged ? "" : " (NOT CONVERGED)");
cleanup:
    sgs_histories_free(&hist);
    sgs_histories_free(&merged);
    sgs_free(x);
    sgs_free(t_x);
    sgs_free(age);
    sgs_free(spend);
    return rc;
}
