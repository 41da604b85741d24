/*
 * engine/evaluate_write.c — the three forms of an evaluation (engine/evaluate.h): the table
 * on the terminal, the JSON report and the HDF5 datasets for plotting (docs/evaluate.md
 * has both schemas). No wall-clock time goes into the files: the
 * same input and options give the same bytes whatever the thread count.
 */
#include "engine/evaluate.h"

#include "io/atomic_file.h"
#include "io/h5_columns.h"
#include "io/h5_output.h"
#include "io/json_doc.h"
#include "kernels/dates.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const bin_labels[SGS_EVAL_BINS] = {"0", "1", "2", "3", "4", "5", "6", "7+"};

/* Index of the model with the lowest value of a criterion (first one on ties). */
static int best_by(const sgs_eval_result_t *res, int criterion)
{
    int best = 0;
    double best_v = INFINITY;
    for (int k = 0; k < res->n_models; k++) {
        const sgs_eval_model_t *m = &res->models[k];
        double v = criterion == 0   ? m->aic
                   : criterion == 1 ? m->bic
                   : criterion == 2
                       ? m->rmse
                       : fabs(m->holdout_predicted_total - (double)res->holdout_actual_total);
        if (v < best_v) {
            best_v = v;
            best = k;
        }
    }
    return best;
}

static const char *const criterion_names[4] = {"aic", "bic", "holdout_rmse", "holdout_total_error"};

/* ---- terminal ------------------------------------------------------------------------------ */

void sgs_eval_print(const sgs_eval_result_t *res, const char *input_path, FILE *out)
{
    char first[16], cal[16], cal_next[16], end[16];
    sgs_date_format_day(res->first_day, first, sizeof first);
    sgs_date_format_day(res->calibration_end_day, cal, sizeof cal);
    sgs_date_format_day(res->calibration_end_day + 1, cal_next, sizeof cal_next);
    sgs_date_format_day(res->holdout_end_day, end, sizeof end);
    const char *u = res->time_unit;
    fprintf(out, "segscore evaluate: %s\n", input_path);
    fprintf(out, "  calibration %s .. %s, holdout %s .. %s (%.4g %ss)\n", first, cal, cal_next, end,
            res->holdout_length, u);
    fprintf(out,
            "  %zu customers (%zu first buying in the holdout and %zu without a purchase left "
            "out), %zu distinct histories\n",
            res->n_customers, res->n_first_in_holdout, res->n_no_purchase, res->hist.n_unique);
    fprintf(out, "  repeat purchases: %lld in the calibration period, %lld in the holdout\n\n",
            (long long)res->calibration_repeat_total, (long long)res->holdout_actual_total);

    fprintf(out, "%-10s %12s %3s %12s %12s %11s %8s %8s %8s %6s\n", "model", "log-lik", "k", "AIC",
            "BIC", "holdout", "MAE", "RMSE", "corr", "conv");
    for (int k = 0; k < res->n_models; k++) {
        const sgs_eval_model_t *m = &res->models[k];
        fprintf(out, "%-10s %12.2f %3d %12.2f %12.2f %11.1f %8.4f %8.4f %8.4f %6s\n",
                sgs_purchase_model_name(m->model), m->fit.log_likelihood, m->fit.n_params, m->aic,
                m->bic, m->holdout_predicted_total, m->mae, m->rmse, m->correlation,
                m->fit.converged ? "yes" : "NO");
    }
    fprintf(out, "%-10s %12s %3s %12s %12s %11lld\n", "actual", "", "", "", "",
            (long long)res->holdout_actual_total);
    fprintf(out,
            "  lowest AIC: %s; lowest BIC: %s; lowest holdout RMSE: %s; closest holdout "
            "total: %s\n\n",
            sgs_purchase_model_name(res->models[best_by(res, 0)].model),
            sgs_purchase_model_name(res->models[best_by(res, 1)].model),
            sgs_purchase_model_name(res->models[best_by(res, 2)].model),
            sgs_purchase_model_name(res->models[best_by(res, 3)].model));

    fprintf(out, "parameters (standard errors; alpha and beta in %ss)\n", u);
    for (int k = 0; k < res->n_models; k++) {
        const sgs_eval_model_t *m = &res->models[k];
        const char *const *names = sgs_purchase_model_param_names(m->model);
        fprintf(out, "  %-10s", sgs_purchase_model_name(m->model));
        for (int j = 0; j < m->fit.n_params; j++)
            fprintf(out, "  %s %.4f (%.4f)", names[j], m->fit.params[j], m->fit.std_err[j]);
        fprintf(out, "\n");
    }

    fprintf(out, "\nholdout purchases per customer, by calibration repeat purchases\n");
    fprintf(out, "  %-4s %10s %10s", "x", "customers", "actual");
    for (int k = 0; k < res->n_models; k++)
        fprintf(out, " %10s", sgs_purchase_model_name(res->models[k].model));
    fprintf(out, "\n");
    for (int b = 0; b < SGS_EVAL_BINS; b++) {
        fprintf(out, "  %-4s %10lld %10.4f", bin_labels[b], (long long)res->bin_count[b],
                res->by_frequency_actual[b]);
        for (int k = 0; k < res->n_models; k++)
            fprintf(out, " %10.4f", res->models[k].by_frequency_predicted[b]);
        fprintf(out, "\n");
    }

    fprintf(out, "\ncustomers by calibration repeat purchases, actual vs predicted\n");
    fprintf(out, "  %-4s %10s", "x", "actual");
    for (int k = 0; k < res->n_models; k++)
        fprintf(out, " %10s", sgs_purchase_model_name(res->models[k].model));
    fprintf(out, "\n");
    for (int b = 0; b < SGS_EVAL_BINS; b++) {
        fprintf(out, "  %-4s %10lld", bin_labels[b], (long long)res->bin_count[b]);
        for (int k = 0; k < res->n_models; k++)
            fprintf(out, " %10.1f", res->models[k].distribution_predicted[b]);
        fprintf(out, "\n");
    }

    /* at most about 16 rows: every step-th week, the calibration end and the last week */
    size_t step = (res->n_points + 15) / 16;
    fprintf(out, "\ncumulative repeat purchases (weeks from %s; every %zu%s week)\n", first, step,
            step == 1   ? ""
            : step == 2 ? "nd"
            : step == 3 ? "rd"
                        : "th");
    fprintf(out, "  %-5s %-10s %10s", "week", "to", "actual");
    for (int k = 0; k < res->n_models; k++)
        fprintf(out, " %10s", sgs_purchase_model_name(res->models[k].model));
    fprintf(out, "\n");
    int cal_shown = 0;
    for (size_t p = 0; p < res->n_points; p++) {
        int is_cal = !cal_shown && res->point_day[p] >= res->calibration_end_day;
        if ((p + 1) % step != 0 && p + 1 != res->n_points && !is_cal)
            continue;
        cal_shown |= is_cal;
        char day[16];
        sgs_date_format_day(res->point_day[p], day, sizeof day);
        fprintf(out, "  %-5zu %-10s %10.0f", p + 1, day, res->tracking_actual[p]);
        for (int k = 0; k < res->n_models; k++)
            fprintf(out, " %10.1f", res->models[k].tracking_expected[p]);
        fprintf(out, "%s\n",
                !is_cal ? ""
                : res->point_day[p] == res->calibration_end_day
                    ? "   <- calibration end"
                    : "   <- calibration end in this week");
    }
    for (size_t i = 0; i < res->n_warnings; i++)
        fprintf(out, "warning: %s\n", res->warnings[i]);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static cJSON *number_array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        sgs_json_attach(a, NULL, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

static cJSON *int_array(const int64_t *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        sgs_json_attach(a, NULL, cJSON_CreateNumber((double)v[i]));
    return a;
}

static void add_finite(cJSON *o, const char *name, double v)
{
    if (isfinite(v)) /* JSON has no NaN */
        cJSON_AddNumberToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

static cJSON *model_object(const sgs_eval_result_t *res, const sgs_eval_model_t *m)
{
    const char *const *names = sgs_purchase_model_param_names(m->model);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n_params", m->fit.n_params);
    cJSON_AddNumberToObject(o, "log_likelihood", m->fit.log_likelihood);
    cJSON_AddNumberToObject(o, "aic", m->aic);
    cJSON_AddNumberToObject(o, "bic", m->bic);
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    cJSON *se = cJSON_AddObjectToObject(o, "std_err");
    for (int j = 0; j < m->fit.n_params; j++) {
        cJSON_AddNumberToObject(params, names[j], m->fit.params[j]);
        add_finite(se, names[j], m->fit.std_err[j]);
    }
    cJSON_AddBoolToObject(o, "converged", m->fit.converged);
    cJSON_AddStringToObject(o, "stop_reason", sgs_optim_status_name(m->fit.status));
    cJSON_AddNumberToObject(o, "iterations", m->fit.iterations);
    cJSON_AddNumberToObject(o, "gradient_norm", m->fit.grad_norm);
    cJSON *h = cJSON_AddObjectToObject(o, "holdout");
    cJSON_AddNumberToObject(h, "predicted_total", m->holdout_predicted_total);
    cJSON_AddNumberToObject(h, "actual_total", (double)res->holdout_actual_total);
    cJSON_AddNumberToObject(h, "mae", m->mae);
    cJSON_AddNumberToObject(h, "rmse", m->rmse);
    cJSON_AddNumberToObject(h, "correlation", m->correlation);
    cJSON *bf = cJSON_AddObjectToObject(o, "by_frequency");
    sgs_json_attach(bf, "predicted", number_array(m->by_frequency_predicted, SGS_EVAL_BINS));
    cJSON *fd = cJSON_AddObjectToObject(o, "frequency_distribution");
    sgs_json_attach(fd, "predicted", number_array(m->distribution_predicted, SGS_EVAL_BINS));
    sgs_json_attach(o, "tracking_expected", number_array(m->tracking_expected, res->n_points));
    return o;
}

static char *json_text(const sgs_eval_result_t *res, const char *input_path)
{
    char text[16];
    long mark = sgs_json_begin();
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "engine_version", SGS_VERSION);
    cJSON *in = cJSON_AddObjectToObject(root, "input");
    cJSON_AddStringToObject(in, "path", input_path);
    cJSON_AddStringToObject(in, "identity", res->input_identity);
    cJSON_AddNumberToObject(in, "rows_in_file", (double)res->n_rows_in_file);
    cJSON_AddNumberToObject(in, "rows_after_holdout_end_left_out",
                            (double)res->n_rows_after_holdout_end);
    cJSON_AddNumberToObject(in, "rows_used", (double)res->n_rows_used);
    sgs_date_format_day(res->first_day, text, sizeof text);
    cJSON_AddStringToObject(root, "first_purchase", text);
    sgs_date_format_day(res->calibration_end_day, text, sizeof text);
    cJSON_AddStringToObject(root, "calibration_end", text);
    sgs_date_format_day(res->holdout_end_day, text, sizeof text);
    cJSON_AddStringToObject(root, "holdout_end", text);
    cJSON_AddStringToObject(root, "time_unit", res->time_unit);
    cJSON_AddNumberToObject(root, "days_per_unit", res->days_per_unit);
    cJSON_AddNumberToObject(root, "holdout_length", res->holdout_length);
    cJSON_AddNumberToObject(root, "penalizer", res->penalizer);
    cJSON *c = cJSON_AddObjectToObject(root, "customers");
    cJSON_AddNumberToObject(c, "evaluated", (double)res->n_customers);
    cJSON_AddNumberToObject(c, "first_purchase_in_holdout_left_out",
                            (double)res->n_first_in_holdout);
    cJSON_AddNumberToObject(c, "no_purchase_left_out", (double)res->n_no_purchase);
    cJSON_AddNumberToObject(c, "distinct_histories", (double)res->hist.n_unique);
    cJSON_AddNumberToObject(root, "calibration_repeat_purchases",
                            (double)res->calibration_repeat_total);
    cJSON_AddNumberToObject(root, "holdout_repeat_purchases", (double)res->holdout_actual_total);
    cJSON *labels = cJSON_AddArrayToObject(root, "frequency_bins");
    for (int b = 0; b < SGS_EVAL_BINS; b++)
        sgs_json_attach(labels, NULL, cJSON_CreateString(bin_labels[b]));
    cJSON *bf = cJSON_AddObjectToObject(root, "by_frequency");
    sgs_json_attach(bf, "count", int_array(res->bin_count, SGS_EVAL_BINS));
    sgs_json_attach(bf, "actual", number_array(res->by_frequency_actual, SGS_EVAL_BINS));
    cJSON *fd = cJSON_AddObjectToObject(root, "frequency_distribution");
    sgs_json_attach(fd, "actual", int_array(res->bin_count, SGS_EVAL_BINS));
    cJSON *tr = cJSON_AddObjectToObject(root, "tracking");
    cJSON *days = cJSON_AddArrayToObject(tr, "day");
    for (size_t p = 0; p < res->n_points; p++) {
        sgs_date_format_day(res->point_day[p], text, sizeof text);
        sgs_json_attach(days, NULL, cJSON_CreateString(text));
    }
    sgs_json_attach(tr, "actual", number_array(res->tracking_actual, res->n_points));
    cJSON *models = cJSON_AddObjectToObject(root, "models");
    for (int k = 0; k < res->n_models; k++)
        sgs_json_attach(models, sgs_purchase_model_name(res->models[k].model),
                        model_object(res, &res->models[k]));
    cJSON *best = cJSON_AddObjectToObject(root, "best");
    for (int j = 0; j < 4; j++)
        cJSON_AddStringToObject(best, criterion_names[j],
                                sgs_purchase_model_name(res->models[best_by(res, j)].model));
    cJSON *warnings = cJSON_AddArrayToObject(root, "warnings");
    for (size_t i = 0; i < res->n_warnings; i++)
        sgs_json_attach(warnings, NULL, cJSON_CreateString(res->warnings[i]));
    return sgs_json_finish(root, mark, 1);
}

int sgs_eval_write_json(const sgs_eval_result_t *res, const char *input_path, const char *file,
                        const char *path, sgs_error_t *err)
{
    char *text = json_text(res, input_path);
    if (!text)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the JSON report");
    int rc = sgs_write_text_file(file, path, text, err);
    cJSON_free(text);
    return rc;
}

static int write_model_group(hid_t f, const sgs_eval_result_t *res, const sgs_eval_model_t *m,
                             const int32_t *bins, const double *counts, double *scratch,
                             sgs_error_t *err)
{
    const char *name = sgs_purchase_model_name(m->model);
    const char *const *names = sgs_purchase_model_param_names(m->model);
    char g[64], path[128];
    snprintf(g, sizeof g, "/models/%s", name);
    int rc = sgs_h5_group_ensure(f, g, err);
#define COLUMN(sub, type, data, n)                                                                 \
    if (rc == SGS_OK) {                                                                            \
        snprintf(path, sizeof path, "%s/%s", g, sub);                                              \
        rc = sgs_h5_write_column(f, path, type, data, n, 0, err);                                  \
    }
    COLUMN("by_frequency/frequency", SGS_H5_I32, bins, SGS_EVAL_BINS)
    COLUMN("by_frequency/count", SGS_H5_F64, counts, SGS_EVAL_BINS)
    COLUMN("by_frequency/actual", SGS_H5_F64, res->by_frequency_actual, SGS_EVAL_BINS)
    COLUMN("by_frequency/predicted", SGS_H5_F64, m->by_frequency_predicted, SGS_EVAL_BINS)
    COLUMN("frequency_distribution/frequency", SGS_H5_I32, bins, SGS_EVAL_BINS)
    COLUMN("frequency_distribution/predicted", SGS_H5_F64, m->distribution_predicted, SGS_EVAL_BINS)
    COLUMN("tracking_expected", SGS_H5_F64, m->tracking_expected, res->n_points)
    COLUMN("params", SGS_H5_F64, m->fit.params, (size_t)m->fit.n_params)
    COLUMN("std_err", SGS_H5_F64, m->fit.std_err, (size_t)m->fit.n_params)
    if (rc == SGS_OK) {
        for (size_t i = 0; i < res->n_customers; i++)
            scratch[i] = m->history_expected[res->hist.history_of[i]];
    }
    COLUMN("holdout_expected", SGS_H5_F64, scratch, res->n_customers)
#undef COLUMN
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, g, "param_names", names, (size_t)m->fit.n_params, err);
    for (int j = 0; rc == SGS_OK && j < m->fit.n_params; j++) {
        char se[32];
        rc = sgs_h5_attr_double(f, g, names[j], m->fit.params[j], err);
        snprintf(se, sizeof se, "%s_se", names[j]);
        if (rc == SGS_OK)
            rc = sgs_h5_attr_double(f, g, se, m->fit.std_err[j], err);
    }
#define ATTR_D(key, v)                                                                             \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_attr_double(f, g, key, v, err);
#define ATTR_I(key, v)                                                                             \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_attr_int64(f, g, key, (int64_t)(v), err);
    ATTR_D("log_likelihood", m->fit.log_likelihood)
    ATTR_I("n_params", m->fit.n_params)
    ATTR_D("aic", m->aic)
    ATTR_D("bic", m->bic)
    ATTR_I("converged", m->fit.converged)
    ATTR_I("iterations", m->fit.iterations)
    ATTR_D("gradient_norm", m->fit.grad_norm)
    ATTR_D("penalizer", m->fit.penalizer)
    ATTR_D("holdout_predicted_total", m->holdout_predicted_total)
    ATTR_I("holdout_actual_total", res->holdout_actual_total)
    ATTR_D("mae", m->mae)
    ATTR_D("rmse", m->rmse)
    ATTR_D("correlation", m->correlation)
#undef ATTR_D
#undef ATTR_I
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, g, "stop_reason", sgs_optim_status_name(m->fit.status), err);
    return rc;
}

static int write_h5_contents(hid_t f, const sgs_eval_result_t *res, const char *input_path,
                             sgs_error_t *err)
{
    size_t n = res->n_customers;
    int32_t bins[SGS_EVAL_BINS];
    double counts[SGS_EVAL_BINS], actual_dist[SGS_EVAL_BINS];
    for (int b = 0; b < SGS_EVAL_BINS; b++) {
        bins[b] = b;
        counts[b] = actual_dist[b] = (double)res->bin_count[b];
    }
    double *scratch = sgs_alloc_array(n, sizeof *scratch);
    int32_t *x = sgs_alloc_array(n, sizeof *x);
    int32_t *weeks = sgs_alloc_array(res->n_points, sizeof *weeks);
    int rc = scratch && x && weeks ? SGS_OK
                                   : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu values", n);
    for (size_t i = 0; rc == SGS_OK && i < n; i++)
        x[i] = (int32_t)res->x[i];
    for (size_t p = 0; rc == SGS_OK && p < res->n_points; p++)
        weeks[p] = (int32_t)(p + 1);
#define COLUMN(path, type, data, len)                                                              \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_write_column(f, path, type, data, len, path[1] == 'c' ? 1 : 0, err);
    COLUMN("/customers/customer_id", SGS_H5_I64, res->customer_id, n)
    COLUMN("/customers/first_purchase_day", SGS_H5_I32, res->first_purchase_day, n)
    COLUMN("/customers/x", SGS_H5_I32, x, n)
    COLUMN("/customers/t_x", SGS_H5_F64, res->t_x, n)
    COLUMN("/customers/T", SGS_H5_F64, res->T, n)
    COLUMN("/customers/holdout_actual", SGS_H5_I32, res->holdout_actual, n)
    COLUMN("/by_frequency/frequency", SGS_H5_I32, bins, SGS_EVAL_BINS)
    COLUMN("/by_frequency/count", SGS_H5_F64, counts, SGS_EVAL_BINS)
    COLUMN("/by_frequency/actual", SGS_H5_F64, res->by_frequency_actual, SGS_EVAL_BINS)
    COLUMN("/frequency_distribution/frequency", SGS_H5_I32, bins, SGS_EVAL_BINS)
    COLUMN("/frequency_distribution/actual", SGS_H5_F64, actual_dist, SGS_EVAL_BINS)
    COLUMN("/tracking/day", SGS_H5_I32, res->point_day, res->n_points)
    COLUMN("/tracking/week", SGS_H5_I32, weeks, res->n_points)
    COLUMN("/tracking/actual", SGS_H5_F64, res->tracking_actual, res->n_points)
#undef COLUMN
    for (int k = 0; rc == SGS_OK && k < res->n_models; k++)
        rc = write_model_group(f, res, &res->models[k], bins, counts, scratch, err);
    char text[16];
#define ATTR_S(key, v)                                                                             \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_attr_string(f, "/", key, v, err);
#define ATTR_D(key, v)                                                                             \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_attr_double(f, "/", key, v, err);
#define ATTR_I(key, v)                                                                             \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_attr_int64(f, "/", key, (int64_t)(v), err);
    ATTR_S("engine_version", SGS_VERSION)
    ATTR_S("input", res->input_identity)
    ATTR_S("input_path", input_path)
    sgs_date_format_day(res->first_day, text, sizeof text);
    ATTR_S("first_purchase", text)
    sgs_date_format_day(res->calibration_end_day, text, sizeof text);
    ATTR_S("calibration_end", text)
    sgs_date_format_day(res->holdout_end_day, text, sizeof text);
    ATTR_S("holdout_end", text)
    ATTR_I("calibration_end_day", res->calibration_end_day)
    ATTR_I("holdout_end_day", res->holdout_end_day)
    ATTR_S("time_unit", res->time_unit)
    ATTR_D("days_per_unit", res->days_per_unit)
    ATTR_D("holdout_length", res->holdout_length)
    ATTR_D("penalizer", res->penalizer)
    ATTR_I("n_customers", res->n_customers)
    ATTR_I("n_first_purchase_in_holdout_left_out", res->n_first_in_holdout)
    ATTR_I("n_no_purchase_left_out", res->n_no_purchase)
    ATTR_I("n_histories", res->hist.n_unique)
    ATTR_I("calibration_repeat_purchases", res->calibration_repeat_total)
    ATTR_I("holdout_repeat_purchases", res->holdout_actual_total)
#undef ATTR_S
#undef ATTR_D
#undef ATTR_I
    const char *names[SGS_PURCHASE_MODEL_COUNT];
    for (int k = 0; k < res->n_models; k++)
        names[k] = sgs_purchase_model_name(res->models[k].model);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/models", "order", names, (size_t)res->n_models, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/by_frequency", "labels", bin_labels, SGS_EVAL_BINS, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/tracking", "day_units", "days since 1970-01-01 UTC", err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/customers", "day_units",
                                "first_purchase_day: days since 1970-01-01 UTC; t_x, T in the "
                                "time unit",
                                err);
    sgs_free(scratch);
    sgs_free(x);
    sgs_free(weeks);
    return rc;
}

int sgs_eval_write_h5(const sgs_eval_result_t *res, const char *input_path, const char *file,
                      const char *path, sgs_error_t *err)
{
    sgs_h5_quiet();
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create HDF5 file", path);
    int rc = write_h5_contents(f, res, input_path, err);
    rc = sgs_h5_finish_output(f, rc, err);
    if (rc == SGS_ENOSPACE) /* "<file>: no space left on device" */
        sgs_error_rename(err, file, path);
    else if (rc != SGS_OK)
        sgs_error_prefix(err, "writing %s", path);
    return rc;
}
