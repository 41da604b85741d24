/*
 * engine/write_backtest.c — the backtest (engine/run_backtest.h) in the results file
 * (/backtest), the run summary ("backtest") and the report (docs/backtest.md).
 */
#include "engine/run_state.h"

#include "io/json_doc.h"
#include "kernels/dates.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

/* The score the choice compared (engine/run_backtest.c choose_model). */
static const char *chosen_by(const sgs_backtest_t *bt)
{
    return bt->chosen_by_cross ? "calibrated_log_score" : "log_score";
}

/* ---- Results file ------------------------------------------------------------------------ */

int sgs_write_backtest_h5(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    if (!bt->ran)
        return SGS_OK;
    int m = bt->n_models;
    const char *names[SGS_PURCHASE_MODEL_COUNT];
    double log_score[SGS_PURCHASE_MODEL_COUNT], brier[SGS_PURCHASE_MODEL_COUNT],
        mae[SGS_PURCHASE_MODEL_COUNT], total_error[SGS_PURCHASE_MODEL_COUNT],
        cross_log_score[SGS_PURCHASE_MODEL_COUNT], cross_brier[SGS_PURCHASE_MODEL_COUNT];
    for (int j = 0; j < m; j++) {
        const sgs_backtest_model_t *bm = &bt->models[j];
        names[j] = sgs_purchase_model_name(bm->model);
        log_score[j] = bm->ok ? bm->log_score : (double)NAN;
        brier[j] = bm->ok ? bm->brier : (double)NAN;
        mae[j] = bm->ok ? bm->mae : (double)NAN;
        total_error[j] = bm->ok ? bm->total_error : (double)NAN;
        cross_log_score[j] = bm->ok && bm->cross_ok ? bm->cross.log_score : (double)NAN;
        cross_brier[j] = bm->ok && bm->cross_ok ? bm->cross.brier : (double)NAN;
    }
    char cal_end[16];
    sgs_date_format_day(bt->calibration_end_day, cal_end, sizeof cal_end);
    int rc =
        sgs_h5_write_column(f, "/backtest/log_score", SGS_H5_F64, log_score, (size_t)m, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/brier", SGS_H5_F64, brier, (size_t)m, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/mae", SGS_H5_F64, mae, (size_t)m, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/total_error", SGS_H5_F64, total_error, (size_t)m, 0,
                                 err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/calibrated_log_score", SGS_H5_F64, cross_log_score,
                                 (size_t)m, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/calibrated_brier", SGS_H5_F64, cross_brier,
                                 (size_t)m, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/backtest", "models", names, (size_t)m, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/backtest", "calibration_end", cal_end, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/backtest", "holdout", bt->holdout, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/backtest", "n_customers", (int64_t)bt->n_scored, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/backtest", "n_cohort", (int64_t)bt->n_cohort, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/backtest", "n_bought_again", (int64_t)bt->n_bought_again, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/backtest", "chosen_model",
                                sgs_purchase_model_name(bt->models[bt->chosen].model), err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/backtest", "chosen_because", bt->chosen_because, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/backtest", "chosen_by", chosen_by(bt), err);
    if (rc != SGS_OK || bt->used < 0)
        return rc;
    const sgs_backtest_model_t *u = &bt->models[bt->used];
    size_t nb = (size_t)u->raw.n_bins;
    rc = sgs_h5_write_column(f, "/backtest/reliability/weight", SGS_H5_F64, u->raw.weight, nb, 0,
                             err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/reliability/predicted", SGS_H5_F64, u->raw.predicted,
                                 nb, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/reliability/observed", SGS_H5_F64, u->raw.observed,
                                 nb, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/calibration/score", SGS_H5_F64,
                                 bt->calibration.score, bt->calibration.n_knots, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/calibration/value", SGS_H5_F64,
                                 bt->calibration.value, bt->calibration.n_knots, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/backtest", "used_model", sgs_purchase_model_name(u->model),
                                err);
    return rc;
}

int sgs_write_backtest_stages_h5(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    if (!st->value.ran || !bt->ran || bt->used < 0 || !bt->stages_ran)
        return SGS_OK;
    int rc = sgs_h5_write_column(f, "/backtest/stages/customers", SGS_H5_I64, bt->stage_customers,
                                 SGS_STAGE_COUNT, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/backtest/stages/bought_again", SGS_H5_I64, bt->stage_bought,
                                 SGS_STAGE_COUNT, 0, err);
    return rc;
}

/* ---- Run summary ------------------------------------------------------------------------- */

static void add_number_or_null(cJSON *o, const char *name, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

static cJSON *reliability_json(const sgs_reliability_t *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *w = cJSON_AddArrayToObject(o, "customers");
    cJSON *p = cJSON_AddArrayToObject(o, "predicted");
    cJSON *y = cJSON_AddArrayToObject(o, "observed");
    for (int b = 0; b < r->n_bins; b++) {
        sgs_json_attach(w, NULL, cJSON_CreateNumber(r->weight[b]));
        sgs_json_attach(p, NULL,
                        isfinite(r->predicted[b]) ? cJSON_CreateNumber(r->predicted[b])
                                                  : cJSON_CreateNull());
        sgs_json_attach(y, NULL,
                        isfinite(r->observed[b]) ? cJSON_CreateNumber(r->observed[b])
                                                 : cJSON_CreateNull());
    }
    cJSON_AddNumberToObject(o, "brier", r->brier);
    cJSON_AddNumberToObject(o, "log_score", r->log_score);
    cJSON_AddNumberToObject(o, "max_gap", r->max_gap);
    return o;
}

cJSON *sgs_backtest_json(const sgs_run_state_t *st)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ran", bt->ran);
    cJSON_AddNumberToObject(o, "seconds", bt->seconds);
    if (!bt->ran) {
        cJSON_AddStringToObject(o, "skipped", bt->skipped);
        return o;
    }
    char cal_end[16];
    sgs_date_format_day(bt->calibration_end_day, cal_end, sizeof cal_end);
    cJSON_AddStringToObject(o, "calibration_end", cal_end);
    cJSON_AddNumberToObject(o, "holdout", bt->holdout);
    cJSON_AddNumberToObject(o, "cohort", (double)bt->n_cohort);
    cJSON_AddNumberToObject(o, "customers", (double)bt->n_scored);
    cJSON_AddBoolToObject(o, "sampled", bt->n_scored < bt->n_cohort);
    cJSON_AddNumberToObject(o, "bought_again", (double)bt->n_bought_again);
    cJSON *models = cJSON_AddObjectToObject(o, "models");
    for (int j = 0; j < bt->n_models; j++) {
        const sgs_backtest_model_t *bm = &bt->models[j];
        cJSON *m = cJSON_AddObjectToObject(models, sgs_purchase_model_name(bm->model));
        cJSON_AddBoolToObject(m, "fitted", bm->ok);
        if (!bm->ok) {
            cJSON_AddStringToObject(m, "failure", bm->failure);
            continue;
        }
        cJSON_AddNumberToObject(m, "log_score", bm->log_score);
        cJSON_AddNumberToObject(m, "brier", bm->brier);
        cJSON_AddNumberToObject(m, "mae", bm->mae);
        add_number_or_null(m, "total_error", bm->total_error);
        if (bm->cross_ok)
            sgs_json_attach(m, "calibrated", reliability_json(&bm->cross));
    }
    cJSON_AddStringToObject(o, "chosen_model",
                            sgs_purchase_model_name(bt->models[bt->chosen].model));
    cJSON_AddStringToObject(o, "chosen_because", bt->chosen_because);
    cJSON_AddStringToObject(o, "chosen_by", chosen_by(bt));
    if (bt->used >= 0) {
        const sgs_backtest_model_t *u = &bt->models[bt->used];
        cJSON_AddStringToObject(o, "used_model", sgs_purchase_model_name(u->model));
        sgs_json_attach(o, "reliability", reliability_json(&u->raw));
        sgs_json_attach(o, "reliability_calibrated", reliability_json(&u->calibrated));
    }
    {
        /* holdout purchases by calibration repeat purchases (report.html's chart) */
        const sgs_backtest_model_t *u = &bt->models[bt->used >= 0 ? bt->used : bt->chosen];
        cJSON *f = cJSON_AddArrayToObject(o, "by_frequency");
        for (int k = 0; k < SGS_BACKTEST_FREQ_BINS; k++) {
            if (!(bt->by_frequency_customers[k] > 0))
                continue;
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "repeat_purchases", k);
            cJSON_AddBoolToObject(e, "or_more", k + 1 == SGS_BACKTEST_FREQ_BINS);
            cJSON_AddNumberToObject(e, "customers", bt->by_frequency_customers[k]);
            cJSON_AddNumberToObject(e, "actual_mean", bt->by_frequency_actual[k]);
            cJSON_AddNumberToObject(e, "predicted_mean", u->by_frequency_predicted[k]);
            sgs_json_attach(f, NULL, e);
        }
    }
    if (bt->n_tracking > 0) {
        cJSON *t = cJSON_AddObjectToObject(o, "tracking");
        cJSON_AddStringToObject(t, "model",
                                sgs_purchase_model_name(bt->models[bt->tracking_model].model));
        cJSON *pts = cJSON_AddArrayToObject(t, "points");
        for (size_t k = 0; k < bt->n_tracking; k++) {
            char day[16];
            sgs_date_format_day(bt->tracking_day[k], day, sizeof day);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "date", day);
            cJSON_AddNumberToObject(e, "actual", bt->tracking_actual[k]);
            cJSON_AddNumberToObject(e, "expected", bt->tracking_expected[k]);
            sgs_json_attach(pts, NULL, e);
        }
    }
    if (bt->stages_ran) {
        cJSON *s = cJSON_AddObjectToObject(o, "stages");
        for (int k = 0; k < SGS_STAGE_COUNT; k++) {
            if (bt->stage_customers[k] == 0)
                continue;
            cJSON *e = cJSON_AddObjectToObject(s, sgs_stage_name(k));
            cJSON_AddNumberToObject(e, "customers", (double)bt->stage_customers[k]);
            cJSON_AddNumberToObject(e, "bought_again", (double)bt->stage_bought[k]);
            cJSON_AddNumberToObject(e, "share",
                                    (double)bt->stage_bought[k] / (double)bt->stage_customers[k]);
        }
    }
    if (bt->spend_ok) {
        cJSON *s = cJSON_AddObjectToObject(o, "spend");
        cJSON_AddNumberToObject(s, "customers", (double)bt->n_spend);
        cJSON_AddNumberToObject(s, "mae", bt->spend_mae);
        cJSON_AddNumberToObject(s, "total_error", bt->spend_total_error);
    }
    return o;
}

/* ---- Report ------------------------------------------------------------------------------ */

void sgs_report_backtest(const sgs_run_state_t *st, FILE *out)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    if (!bt->ran) {
        fprintf(out, "\nBacktest: not run (%s)\n", bt->skipped);
        return;
    }
    char cal_end[16];
    sgs_date_format_day(bt->calibration_end_day, cal_end, sizeof cal_end);
    const char *unit = st->days_per_unit == 1.0 ? "days" : "weeks";
    fprintf(out,
            "\nBacktest: the models fitted on the history up to %s, checked on the %g %s after "
            "it\n(%zu customers, %zu of them bought again",
            cal_end, bt->holdout, unit, bt->n_scored, bt->n_bought_again);
    if (bt->n_scored < bt->n_cohort)
        fprintf(out,
                "; a sample of the %zu customers who had bought by then, chosen by a hash of the "
                "customer id: value.backtest_sample",
                bt->n_cohort);
    fprintf(out, ")\n\n");
    fprintf(out, "  %-10s %10s %8s %10s %12s %16s %8s\n", "model", "log score", "Brier", "MAE",
            "total error", "p_buy log score", "Brier");
    for (int j = 0; j < bt->n_models; j++) {
        const sgs_backtest_model_t *bm = &bt->models[j];
        char cross[40] = "               -        -";
        if (bm->ok && bm->cross_ok)
            snprintf(cross, sizeof cross, "%16.4f %8.4f", bm->cross.log_score, bm->cross.brier);
        if (bm->ok)
            fprintf(out, "  %-10s %10.4f %8.4f %10.4f %+11.1f%% %s%s\n",
                    sgs_purchase_model_name(bm->model), bm->log_score, bm->brier, bm->mae,
                    100 * bm->total_error, cross, j == bt->chosen ? "  <- chosen" : "");
        else
            fprintf(out, "  %-10s not fitted: %s\n", sgs_purchase_model_name(bm->model),
                    bm->failure);
    }
    fprintf(out,
            "  (the model's own probability of buying in the holdout, then p_buy calibrated on "
            "half of\n  the customers and scored on the other half, both ways)\n");
    fprintf(out, "  chosen: %s, %s\n", sgs_purchase_model_name(bt->models[bt->chosen].model),
            bt->chosen_because);
    if (bt->spend_ok)
        fprintf(out,
                "  spend per purchase (Gamma-Gamma): mean absolute error %.2f over %zu "
                "customers, total %+.1f%%\n",
                fabs(bt->spend_mae), bt->n_spend, 100 * bt->spend_total_error);
    if (bt->used < 0)
        return;
    const sgs_backtest_model_t *u = &bt->models[bt->used];
    fprintf(out,
            "\n  Can P(buy) be trusted? %s's probability of buying in the holdout against what "
            "customers did,\n  by decile of the probability. p_buy replaces the model's P(alive) "
            "by one calibrated\n  on these customers, which carries to any horizon "
            "(docs/backtest.md)\n\n",
            sgs_purchase_model_name(u->model));
    fprintf(out, "  %8s %10s %10s %10s\n", "decile", "customers", "predicted", "observed");
    for (int b = 0; b < u->raw.n_bins; b++)
        if (u->raw.weight[b] > 0)
            fprintf(out, "  %8d %10.0f %10.3f %10.3f\n", b + 1, u->raw.weight[b],
                    u->raw.predicted[b], u->raw.observed[b]);
    fprintf(out,
            "  largest gap %.3f (model), %.3f (calibrated, on the same customers); Brier %.4f "
            "-> %.4f\n",
            u->raw.max_gap, u->calibrated.max_gap, u->raw.brier, u->calibrated.brier);
    if (u->cross_ok)
        fprintf(out, "  on customers the calibration did not see: largest gap %.3f, Brier %.4f\n",
                u->cross.max_gap, u->cross.brier);
    if (!bt->stages_ran)
        return;
    fprintf(out,
            "\n  Do the stages mean what they say? The same customers staged at the calibration "
            "end,\n  and the share of each stage who bought in the holdout:\n\n");
    fprintf(out, "  %-12s %10s %10s\n", "stage", "customers", "bought");
    for (int k = 0; k < SGS_STAGE_COUNT; k++)
        if (bt->stage_customers[k] > 0)
            fprintf(out, "  %-12s %10lld %9.1f%%\n", sgs_stage_name(k),
                    (long long)bt->stage_customers[k],
                    100.0 * (double)bt->stage_bought[k] / (double)bt->stage_customers[k]);
}
