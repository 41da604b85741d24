/*
 * engine/evaluate.c — the computation of segscore evaluate (definitions in
 * engine/evaluate.h): read up to the holdout end, group and summarize as a run does, split
 * the rows at the calibration end and summarize the calibration part, then fit and score
 * every model.
 */
#include "engine/evaluate.h"

#include "engine/config.h"

#include "engine/group_transactions.h"
#include "engine/interrupt.h"

#include "io/h5_input.h"
#include "kernels/base_totals.h"
#include "kernels/dates.h"
#include "kernels/evaluate_probs.h"
#include "kernels/group.h"
#include "kernels/holdout.h"
#include "kernels/summary.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static void warn(sgs_eval_result_t *res, sgs_progress_t *progress, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(sgs_eval_result_t *res, sgs_progress_t *progress, const char *fmt, ...)
{
    if (res->n_warnings == SGS_EVAL_MAX_WARNINGS)
        return;
    char *slot = res->warnings[res->n_warnings++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot, sizeof res->warnings[0], fmt, ap);
    va_end(ap);
    sgs_progress_note(progress, "warning: %s", slot);
}

/* ---- read ------------------------------------------------------------------------------ */

static int step_read(const sgs_eval_request_t *req, const sgs_exec_t *exec, sgs_eval_result_t *res,
                     sgs_transactions_t *tx, sgs_error_t *err)
{
    char cal_text[16], end_text[16] = "", first_text[16], last_text[16];
    sgs_date_format_day(req->calibration_end_day, cal_text, sizeof cal_text);
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.now_s = req->now_s;
    opt.n_threads = exec->n_threads;
    opt.progress = sgs_progress_update;
    opt.progress_ctx = req->progress;
    if (req->has_holdout_end) {
        opt.has_as_of = 1;
        opt.as_of_end_s = ((int64_t)req->holdout_end_day + 1) * SGS_SECONDS_PER_DAY;
        sgs_date_format_day(req->holdout_end_day, end_text, sizeof end_text);
    }
    sgs_progress_begin(req->progress, "read");
    sgs_read_stats_t stats;
    int rc = sgs_h5_read_transactions(req->input_path, &opt, tx, &stats, err);
    if (rc == SGS_OK && tx->n_rows == 0)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /transactions: no rows on or before the holdout end %s",
                             req->input_path, end_text);
    if (rc == SGS_OK)
        rc = sgs_h5_input_identity(req->input_path, &stats, res->input_identity,
                                   sizeof res->input_identity, err);
    if (rc != SGS_OK)
        return rc;
    res->n_rows_in_file = stats.n_rows_in_file;
    res->n_rows_after_holdout_end = stats.n_rows_after_as_of;
    res->n_rows_used = tx->n_rows;
    int64_t first_day = sgs_day_of(stats.min_time_s);
    res->last_transaction_day = (int32_t)sgs_day_of(stats.max_time_s);
    res->holdout_end_day = req->has_holdout_end ? req->holdout_end_day : res->last_transaction_day;
    res->calibration_end_day = req->calibration_end_day;
    sgs_date_format_day(first_day, first_text, sizeof first_text);
    sgs_date_format_day(res->last_transaction_day, last_text, sizeof last_text);
    if (req->calibration_end_day < first_day)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: calibration end %s is before the first transaction (%s): no "
                             "customer has a calibration period; choose a date from %s to the day "
                             "before %s",
                             req->input_path, cal_text, first_text, first_text, last_text);
    if (req->calibration_end_day >= res->last_transaction_day)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: calibration end %s is on or after the last transaction (%s%s): "
                             "no holdout period is left; choose an earlier --calibration-end%s",
                             req->input_path, cal_text, last_text,
                             req->has_holdout_end ? " up to the holdout end" : "",
                             req->has_holdout_end ? "" : " or give a later --holdout-end");
    sgs_progress_end(req->progress, "%zu rows (%zu after the holdout end left out)", tx->n_rows,
                     stats.n_rows_after_as_of);
    if (req->has_holdout_end && res->last_transaction_day < req->holdout_end_day)
        warn(res, req->progress,
             "the data end on %s, before the holdout end %s: purchases after %s are missing "
             "from the actual holdout counts",
             last_text, end_text, last_text);
    return SGS_OK;
}

/* ---- group ------------------------------------------------------------------------------ */

static int step_group(const sgs_eval_request_t *req, const sgs_exec_t *exec, sgs_transactions_t *tx,
                      sgs_grouped_t *grouped, sgs_error_t *err)
{
    sgs_progress_begin(req->progress, "group");
    int sorted_skipped = 0;
    int rc = sgs_group_transactions(exec, tx, SGS_ORDER_UNKNOWN, grouped, &sorted_skipped, err);
    if (rc != SGS_OK)
        return rc;
    sgs_progress_end(req->progress, "%zu customers", grouped->n_customers);
    return SGS_OK;
}

/* Cohort columns from the two summaries. */
static int build_cohort(const sgs_grouped_t *g, const sgs_summary_t *full, const sgs_summary_t *cal,
                        double unit, sgs_eval_result_t *res, sgs_error_t *err)
{
    size_t n_all = g->n_customers, n = 0;
    for (size_t c = 0; c < n_all; c++) {
        n += cal->has_purchase[c] != 0;
        res->n_first_in_holdout += full->has_purchase[c] && !cal->has_purchase[c];
        res->n_no_purchase += !full->has_purchase[c];
    }
    res->n_customers = n;
    char cal_text[16];
    sgs_date_format_day(res->calibration_end_day, cal_text, sizeof cal_text);
    if (n == 0)
        return sgs_error_set(
            err, SGS_EDATA,
            "no customer has a purchase on or before the calibration end %s "
            "(%zu first buy later, %zu have no purchase: refunds only or cancelled the same day)",
            cal_text, res->n_first_in_holdout, res->n_no_purchase);
    res->customer_id = sgs_alloc_array(n, sizeof *res->customer_id);
    res->first_purchase_day = sgs_alloc_array(n, sizeof *res->first_purchase_day);
    res->x = sgs_alloc_array(n, sizeof *res->x);
    res->t_x = sgs_alloc_array(n, sizeof *res->t_x);
    res->T = sgs_alloc_array(n, sizeof *res->T);
    res->holdout_actual = sgs_alloc_array(n, sizeof *res->holdout_actual);
    if (!res->customer_id || !res->first_purchase_day || !res->x || !res->t_x || !res->T ||
        !res->holdout_actual)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu customers", n);
    size_t i = 0;
    for (size_t c = 0; c < n_all; c++) {
        if (!cal->has_purchase[c])
            continue;
        res->customer_id[i] = g->customer_id[c];
        res->first_purchase_day[i] = cal->first_day[c];
        res->x[i] = cal->frequency[c];
        res->t_x[i] = cal->recency_days[c] / unit;
        res->T[i] = cal->age_days[c] / unit;
        res->holdout_actual[i] = full->n_purchase_days[c] - cal->n_purchase_days[c];
        i++;
    }
    res->first_day = sgs_day_min(n, res->first_purchase_day, INT32_MAX);
    return sgs_holdout_actual_by_bin(
        n, res->x, res->holdout_actual, SGS_EVAL_BINS, 0.0, res->bin_count,
        res->by_frequency_actual, &res->calibration_repeat_total, &res->holdout_actual_total, err);
}

/* Weekly points and the cohort's cumulative repeat purchase days at each
 * (kernels/holdout.h). */
static int build_tracking(const sgs_exec_t *exec, const sgs_grouped_t *g, const sgs_summary_t *cal,
                          sgs_eval_result_t *res, sgs_error_t *err)
{
    int32_t d0 = res->first_day, end = res->holdout_end_day;
    size_t n_days = (size_t)(end - d0) + 1;
    res->n_points = (n_days + 6) / 7;
    res->point_day = sgs_alloc_array(res->n_points, sizeof *res->point_day);
    res->tracking_actual = sgs_alloc_array(res->n_points, sizeof *res->tracking_actual);
    int64_t *per_day = sgs_alloc_array(n_days, sizeof *per_day);
    if (!res->point_day || !res->tracking_actual || !per_day) {
        sgs_free(per_day);
        return sgs_error_set(err, SGS_ENOMEM, "tracking: no memory for %zu days", n_days);
    }
    for (size_t k = 0; k < res->n_points; k++) {
        int32_t day = d0 + (int32_t)(7 * k + 6);
        res->point_day[k] = day < end ? day : end;
    }
    int rc = sgs_holdout_repeat_days(g, cal->has_purchase, cal->first_day, d0, n_days, exec,
                                     per_day, err);
    if (rc == SGS_OK)
        sgs_holdout_cumulative(per_day, 0, d0, res->point_day, res->n_points, res->tracking_actual);
    sgs_free(per_day);
    return rc;
}

static int step_summarize(const sgs_eval_request_t *req, const sgs_exec_t *exec,
                          const sgs_grouped_t *g, sgs_eval_result_t *res, sgs_error_t *err)
{
    sgs_progress_begin(req->progress, "summarize");
    sgs_summary_t full = {0}, cal = {0};
    int rc = SGS_OK;
    if (sgs_summary_alloc(&full, g->n_customers) != SGS_OK ||
        sgs_summary_alloc(&cal, g->n_customers) != SGS_OK)
        rc = sgs_error_set(err, SGS_ENOMEM, "summary: no memory for %zu customers", g->n_customers);
    if (rc == SGS_OK)
        rc = sgs_summarize(exec, g, res->holdout_end_day, &full, err);
    if (rc == SGS_OK) /* the calibration period: the same rows, read up to its end */
        rc = sgs_summarize_until(exec, g, req->calibration_end_day, &cal, err);
    if (rc == SGS_OK)
        rc = build_cohort(g, &full, &cal, req->days_per_unit, res, err);
    if (rc == SGS_OK)
        rc = build_tracking(exec, g, &cal, res, err);
    if (rc == SGS_OK)
        rc = sgs_histories_build(&res->hist, res->x, res->t_x, res->T, NULL, res->n_customers, exec,
                                 err);
    sgs_summary_free(&full);
    sgs_summary_free(&cal);
    if (rc != SGS_OK)
        return rc;
    sgs_progress_end(req->progress,
                     "%zu customers (%zu first buying in the holdout left out), %zu histories",
                     res->n_customers, res->n_first_in_holdout, res->hist.n_unique);
    return SGS_OK;
}

/* ---- one model -------------------------------------------------------------------------- */

/* Holdout errors per customer and by frequency (kernels/holdout.h). */
static int holdout_metrics(const sgs_exec_t *exec, sgs_eval_result_t *res, sgs_eval_model_t *m,
                           sgs_error_t *err)
{
    sgs_holdout_errors_t e;
    int rc = sgs_holdout_errors(res->n_customers, res->hist.history_of, m->history_expected,
                                res->holdout_actual, res->x, SGS_EVAL_BINS, exec,
                                m->by_frequency_predicted, &e, err);
    if (rc != SGS_OK)
        return rc;
    m->holdout_predicted_total = e.predicted_total;
    m->mae = e.mae;
    m->rmse = e.rmse;
    m->correlation = e.correlation;
    return SGS_OK;
}

/* Expected cumulative repeat purchases at each tracking point (kernels/holdout.h). */
static int tracking_expected(const sgs_exec_t *exec, const sgs_eval_request_t *req,
                             const sgs_eval_result_t *res, const int64_t *births, size_t n_births,
                             sgs_eval_model_t *m, sgs_error_t *err)
{
    m->tracking_expected = sgs_alloc_array(res->n_points, sizeof *m->tracking_expected);
    if (!m->tracking_expected)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu tracking points", res->n_points);
    return sgs_holdout_tracking_expected(m->model, m->fit.params, req->days_per_unit, births,
                                         n_births, res->first_day, res->point_day, res->n_points,
                                         exec, m->tracking_expected, err);
}

static int evaluate_model(const sgs_eval_request_t *req, const sgs_exec_t *exec,
                          sgs_eval_result_t *res, const int64_t *births, size_t n_births,
                          sgs_eval_model_t *m, sgs_error_t *err)
{
    const char *name = sgs_purchase_model_name(m->model);
    char step[32];
    snprintf(step, sizeof step, "%s", name);
    sgs_progress_begin(req->progress, step);
    sgs_model_fit_options_t opt = sgs_model_fit_default_options();
    opt.penalizer = req->penalizer;
    opt.optim.max_iter = req->max_iter;
    char what[48];
    snprintf(what, sizeof what, "%s fit", name);
    sgs_config_t defaults; /* a fit may take as long as in a run: value.fit_time_limit */
    sgs_config_defaults(&defaults);
    sgs_fit_watch_t watch;
    sgs_fit_watch_attach(&watch, req->progress, what, defaults.value_fit.optim.time_limit_s,
                         &opt.optim);
    int rc = sgs_purchase_model_fit(m->model, &res->hist, &opt, &m->fit, exec, err);
    if (rc == SGS_ENOCONVERGE) {
        warn(res, req->progress,
             "%s fit did not converge (%s after %d iterations, gradient %.3g); its results are "
             "flagged converged = false",
             name, sgs_optim_status_name(m->fit.status), m->fit.iterations, m->fit.grad_norm);
        rc = SGS_OK;
    }
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "%s fit on the calibration period", name);
        return rc;
    }
    double ll = m->fit.log_likelihood;
    sgs_information_criteria(ll, m->fit.n_params, res->n_customers, &m->aic, &m->bic);

    size_t nu = res->hist.n_unique;
    m->history_expected = sgs_alloc_array(nu, sizeof *m->history_expected);
    if (!m->history_expected)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu histories", nu);
    const sgs_histories_t *h = &res->hist;
    /* E[Y(t*) | x, t_x, T] = E[Y(t*) | alive, x, T] P(alive | x, t_x, T), the first factor
       once per distinct (x, T) (kernels/clv.h); one monthly step as long as the horizon, so
       that the discounted sum (not used) costs one term */
    sgs_clv_options_t clv = {res->holdout_length, res->holdout_length, 0.0, 1.0};
    rc = sgs_clv_score_histories(m->model, m->fit.params, h, &clv, NULL, m->history_expected, NULL,
                                 NULL, exec, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "%s: holdout predictions", name);
        return rc;
    }
    size_t u = sgs_first_not_finite(nu, m->history_expected);
    if (u < nu)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: the expected holdout purchases of the history x = %g, "
                             "t_x = %g, T = %g are not finite at the estimate",
                             name, h->x[u], h->t_x[u], h->T[u]);
    rc = holdout_metrics(exec, res, m, err);
    if (rc == SGS_OK)
        rc = tracking_expected(exec, req, res, births, n_births, m, err);
    if (rc == SGS_OK)
        rc = sgs_holdout_count_distribution(m->model, m->fit.params, &res->hist, SGS_EVAL_BINS,
                                            exec, m->distribution_predicted, err);
    if (rc != SGS_OK)
        return rc;
    sgs_progress_end(req->progress,
                     "log-likelihood %.2f, holdout %.1f predicted vs %lld actual, RMSE %.4f%s", ll,
                     m->holdout_predicted_total, (long long)res->holdout_actual_total, m->rmse,
                     m->fit.converged ? "" : " (NOT CONVERGED)");
    return SGS_OK;
}

/* ---- the evaluation ----------------------------------------------------------------------- */

void sgs_eval_result_free(sgs_eval_result_t *res)
{
    if (!res)
        return;
    sgs_free(res->customer_id);
    sgs_free(res->first_purchase_day);
    sgs_free(res->x);
    sgs_free(res->t_x);
    sgs_free(res->T);
    sgs_free(res->holdout_actual);
    sgs_histories_free(&res->hist);
    sgs_free(res->point_day);
    sgs_free(res->tracking_actual);
    for (int k = 0; k < SGS_PURCHASE_MODEL_COUNT; k++) {
        sgs_free(res->models[k].tracking_expected);
        sgs_free(res->models[k].history_expected);
    }
    memset(res, 0, sizeof *res);
}

int sgs_evaluate(const sgs_eval_request_t *req, sgs_eval_result_t *res, sgs_error_t *err)
{
    memset(res, 0, sizeof *res);
    if (req->n_models < 1 || req->n_models > SGS_PURCHASE_MODEL_COUNT ||
        !(req->days_per_unit > 0.0) || !(req->penalizer >= 0.0))
        return sgs_error_set(err, SGS_EINVAL, "evaluate: malformed request");
    if (req->has_holdout_end && req->holdout_end_day <= req->calibration_end_day)
        return sgs_error_set(err, SGS_EUSAGE, "the holdout end must be after the calibration end");
    sgs_exec_t exec = {.n_threads = req->n_threads > 0 ? req->n_threads : 1};
    snprintf(res->time_unit, sizeof res->time_unit, "%s", req->time_unit);
    res->days_per_unit = req->days_per_unit;
    res->penalizer = req->penalizer;
    res->n_models = req->n_models;
    for (int k = 0; k < req->n_models; k++)
        res->models[k].model = req->models[k];

    sgs_transactions_t tx = {0};
    sgs_grouped_t grouped = {0};
    int64_t *births = NULL;
    int rc = step_read(req, &exec, res, &tx, err);
    /* Between steps a signal stops the evaluation (engine/interrupt.h); a fit is not
     * interrupted (its time limit bounds it). */
    if (rc == SGS_OK)
        rc = sgs_interrupt_checkpoint("evaluate-group", "before the group step", err);
    if (rc == SGS_OK) {
        res->holdout_length =
            (double)(res->holdout_end_day - res->calibration_end_day) / req->days_per_unit;
        rc = step_group(req, &exec, &tx, &grouped, err);
    }
    if (rc == SGS_OK)
        rc = sgs_interrupt_checkpoint("evaluate-summarize", "before the summarize step", err);
    if (rc == SGS_OK)
        rc = step_summarize(req, &exec, &grouped, res, err);
    sgs_grouped_free(&grouped);
    sgs_transactions_free(&tx);
    size_t n_births = 0;
    if (rc == SGS_OK) {
        n_births = (size_t)(res->calibration_end_day - res->first_day) + 1;
        births = sgs_calloc_array(n_births, sizeof *births);
        if (!births)
            rc = sgs_error_set(err, SGS_ENOMEM, "no memory for %zu days", n_births);
        else
            rc = sgs_holdout_births(res->n_customers, res->first_purchase_day, res->first_day,
                                    n_births, births, err);
    }
    for (int k = 0; rc == SGS_OK && k < res->n_models; k++) {
        char before[64];
        snprintf(before, sizeof before, "before the %s fit",
                 sgs_purchase_model_name(res->models[k].model));
        rc = sgs_interrupt_checkpoint("evaluate-fit", before, err);
        if (rc == SGS_OK)
            rc = evaluate_model(req, &exec, res, births, n_births, &res->models[k], err);
    }
    sgs_free(births);
    return rc;
}
