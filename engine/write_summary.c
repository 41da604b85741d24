/*
 * engine/write_summary.c — summary.json: what a run read, left out, found and how long each
 * step took (docs/outputs.md "Run summary"). Meant to be compared night over night by scripts.
 */
#include "engine/run_actions.h"
#include "engine/run_state.h"
#include "io/json_doc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *input_object(const sgs_run_state_t *st)
{
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "path", st->req->input_path);
    cJSON_AddStringToObject(in, "identity", st->read.input_identity);
    cJSON_AddNumberToObject(in, "rows_in_file", (double)st->read.tx_stats.n_rows_in_file);
    cJSON_AddNumberToObject(in, "rows_after_as_of_left_out",
                            (double)st->read.tx_stats.n_rows_after_as_of);
    cJSON_AddNumberToObject(in, "rows_used", (double)st->group.n_rows_used);
    cJSON_AddNumberToObject(in, "purchase_rows", (double)st->summary.n_purchase_rows);
    cJSON_AddNumberToObject(in, "refund_rows", (double)st->summary.n_refund_rows);
    cJSON_AddNumberToObject(in, "zero_amount_rows", (double)st->summary.n_zero_amount_rows);
    cJSON_AddBoolToObject(in, "sorted_by_customer", st->group.sorted_input_skipped);
    return in;
}

static cJSON *customers_object(const sgs_run_state_t *st)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "with_purchases", (double)st->summary.n_customers);
    cJSON_AddNumberToObject(c, "no_purchase_left_out", (double)st->summary.n_no_purchase);
    cJSON_AddNumberToObject(c, "purchase_days_cancelled_same_day",
                            (double)st->summary.n_cancelled_days);
    cJSON_AddNumberToObject(c, "nonpositive_net_spend", (double)st->summary.n_nonpositive_net);
    cJSON_AddNumberToObject(c, "revenue_total", st->summary.revenue_total);
    return c;
}

static cJSON *rfm_object(const sgs_run_state_t *st)
{
    cJSON *rfm = cJSON_CreateObject();
    cJSON_AddNumberToObject(rfm, "bins", st->req->config->rfm_bins);
    cJSON_AddStringToObject(rfm, "monetary", st->req->config->rfm_monetary);
    cJSON *segments = cJSON_AddArrayToObject(rfm, "segments");
    for (int k = 0; k < SGS_RFM_SEGMENT_COUNT; k++) {
        cJSON *seg = cJSON_CreateObject();
        cJSON_AddStringToObject(seg, "name", sgs_rfm_segment_name(k));
        cJSON_AddNumberToObject(seg, "code", k);
        cJSON_AddNumberToObject(seg, "customers", (double)st->rfm.segment_customers[k]);
        cJSON_AddNumberToObject(seg, "revenue", st->rfm.segment_revenue[k]);
        sgs_json_attach(segments, NULL, seg);
    }
    return rfm;
}

static cJSON *fit_object(const sgs_fit_t *fit, const char *const *names)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    cJSON *se = cJSON_AddObjectToObject(o, "std_err");
    for (int k = 0; k < fit->n_params; k++) {
        cJSON_AddNumberToObject(params, names[k], fit->params[k]);
        if (isfinite(fit->std_err[k])) /* JSON has no NaN */
            cJSON_AddNumberToObject(se, names[k], fit->std_err[k]);
        else
            cJSON_AddNullToObject(se, names[k]);
    }
    cJSON_AddNumberToObject(o, "log_likelihood", fit->log_likelihood);
    cJSON_AddBoolToObject(o, "converged", fit->converged);
    cJSON_AddNumberToObject(o, "iterations", fit->iterations);
    cJSON_AddNumberToObject(o, "gradient_norm", fit->grad_norm);
    cJSON_AddStringToObject(o, "stop_reason", sgs_optim_status_name(fit->status));
    return o;
}

static cJSON *value_object(const sgs_run_state_t *st)
{
    static const char *const gg_names[] = {"p", "q", "gamma"};
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "model", sgs_purchase_model_name(st->value.model));
    cJSON_AddNumberToObject(v, "horizon", st->value.horizon);
    cJSON *m = fit_object(&st->value.model_fit, sgs_purchase_model_param_names(st->value.model));
    cJSON_AddNumberToObject(m, "n_customers", (double)st->summary.n_customers);
    cJSON_AddNumberToObject(m, "n_unique_histories", (double)st->value.n_histories);
    cJSON_AddBoolToObject(m, "p_alive_informative", st->value.p_alive_informative);
    sgs_json_attach(v, "purchase_model", m);
    cJSON *g = fit_object(&st->value.spend_fit, gg_names);
    cJSON_AddNumberToObject(g, "n_customers", (double)st->value.spend_summary.n_used);
    cJSON_AddNumberToObject(g, "n_no_repeat_purchase", (double)st->value.spend_summary.n_no_repeat);
    cJSON_AddNumberToObject(g, "n_nonpositive_spend_left_out",
                            (double)st->value.spend_summary.n_nonpositive);
    cJSON_AddNumberToObject(g, "frequency_spend_correlation", st->value.spend_summary.correlation);
    sgs_json_attach(v, "spend_model", g);
    cJSON_AddBoolToObject(v, "p_buy_calibrated", st->value.p_buy_calibrated);
    sgs_json_attach(v, "backtest", sgs_backtest_json(st));
    cJSON_AddNumberToObject(v, "expected_purchases_total", st->value.expected_purchases_total);
    cJSON_AddNumberToObject(v, "clv_total", st->value.clv_total);
    return v;
}

/* {"previous": then, "now": now}, NaN as null (JSON has no NaN). */
static void add_pair(cJSON *o, const char *name, double then, double now)
{
    cJSON *pair = cJSON_CreateObject();
    if (isfinite(then))
        cJSON_AddNumberToObject(pair, "previous", then);
    else
        cJSON_AddNullToObject(pair, "previous");
    cJSON_AddNumberToObject(pair, "now", now);
    sgs_json_attach(o, name, pair);
}

/* output.compare_summary: the earlier run's figures at a glance beside this run's. */
static cJSON *since_previous_object(const sgs_run_state_t *st)
{
    const sgs_previous_summary_t *p = &st->previous;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "summary", st->req->config->compare_summary);
    cJSON_AddStringToObject(o, "as_of", p->as_of);
    cJSON_AddStringToObject(o, "engine_version", p->engine_version);
    add_pair(o, "customers", p->customers, (double)st->summary.n_customers);
    add_pair(o, "revenue", p->revenue, st->summary.revenue_total);
    if (st->value.ran) {
        add_pair(o, "expected_purchases", p->expected_purchases,
                 st->value.expected_purchases_total);
        add_pair(o, "clv", p->clv, st->value.clv_total);
    }
    if (st->actions)
        add_pair(o, "listed", p->listed, (double)st->actions->list.n_listed);
    return o;
}

static cJSON *steps_array(const sgs_run_state_t *st)
{
    const sgs_progress_t *p = st->req->progress;
    cJSON *steps = cJSON_CreateArray();
    for (size_t i = 0; i < p->n_steps; i++) {
        cJSON *step = cJSON_CreateObject();
        cJSON_AddStringToObject(step, "name", p->steps[i].name);
        cJSON_AddNumberToObject(step, "seconds", p->steps[i].seconds);
        cJSON_AddNumberToObject(step, "cpu_seconds", p->steps[i].cpu_seconds);
        cJSON_AddNumberToObject(step, "system_seconds", p->steps[i].system_seconds);
        cJSON_AddNumberToObject(step, "peak_rss_mb", p->steps[i].peak_rss_mb);
        sgs_json_attach(steps, NULL, step);
    }
    return steps;
}

/* A spread run's processes, each what it held, sent and its peak memory (docs/outputs.md). */
static cJSON *processes_array(const sgs_run_state_t *st)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t r = 0; r < st->n_processes; r++) {
        const sgs_run_process_t *p = &st->processes[r];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rank", (double)p->rank);
        cJSON_AddNumberToObject(o, "customers_with_purchases", (double)p->n_buyers);
        cJSON_AddNumberToObject(o, "transaction_rows", (double)p->n_transaction_rows);
        if (p->actions_ran) {
            cJSON_AddNumberToObject(o, "customers", (double)p->n_customers);
            cJSON_AddNumberToObject(o, "customer_rows", (double)p->n_customer_rows);
            cJSON_AddNumberToObject(o, "event_rows", (double)p->n_event_rows);
        }
        cJSON_AddNumberToObject(o, "bytes_sent", (double)p->bytes_sent);
        cJSON_AddNumberToObject(o, "peak_rss_mb", p->peak_rss_mb);
        cJSON *steps = cJSON_AddArrayToObject(o, "steps");
        for (int64_t i = 0; i < p->n_steps; i++) {
            const sgs_step_record_t *s = &p->steps[i];
            cJSON *step = cJSON_CreateObject();
            char name[sizeof s->name + 1];
            snprintf(name, sizeof name, "%.*s", (int)sizeof s->name, s->name);
            cJSON_AddStringToObject(step, "name", name);
            cJSON_AddNumberToObject(step, "seconds", s->seconds);
            cJSON_AddNumberToObject(step, "cpu_seconds", s->cpu_seconds);
            cJSON_AddNumberToObject(step, "system_seconds", s->system_seconds);
            cJSON_AddNumberToObject(step, "bytes_sent", (double)s->bytes_sent);
            cJSON_AddNumberToObject(step, "peak_rss_mb", s->peak_rss_mb);
            sgs_json_attach(steps, NULL, step);
        }
        sgs_json_attach(list, NULL, o);
    }
    return list;
}

int sgs_write_summary_json(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    char *config_json = sgs_config_to_json(st->req->config, 1);
    if (!config_json)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the run summary");
    long mark = sgs_json_begin();
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "engine_version", SGS_VERSION);
    cJSON_AddStringToObject(root, "results", st->req->output_path);
    cJSON_AddStringToObject(root, "as_of", st->read.as_of_text);
    cJSON_AddStringToObject(root, "time_unit", st->req->config->time_unit);
    cJSON_AddNumberToObject(root, "threads", st->exec.n_threads);
    sgs_json_attach(root, "input", input_object(st));
    sgs_json_attach(root, "customers", customers_object(st));
    sgs_json_attach(root, "rfm", rfm_object(st));
    if (st->value.ran)
        sgs_json_attach(root, "value", value_object(st));
    if (st->segments.ran)
        sgs_json_attach(root, "segments", sgs_segments_json(st));
    sgs_actions_summary_add(st, root);
    if (st->has_previous)
        sgs_json_attach(root, "since_previous", since_previous_object(st));
    sgs_json_attach(root, "steps", steps_array(st));
    cJSON_AddNumberToObject(root, "seconds_total", sgs_progress_elapsed(st->req->progress));
    cJSON_AddNumberToObject(root, "peak_rss_mb", sgs_peak_rss_mb());
    if (st->n_processes > 0)
        sgs_json_attach(root, "processes", processes_array(st));
    cJSON *warnings = cJSON_AddArrayToObject(root, "warnings");
    for (size_t i = 0; i < st->n_warnings; i++) {
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "code", st->warnings[i].code);
        cJSON_AddStringToObject(w, "message", st->warnings[i].message);
        sgs_json_attach(warnings, NULL, w);
    }
    sgs_json_attach(root, "config", cJSON_Parse(config_json));
    cJSON_free(config_json);

    char *text = sgs_json_finish(root, mark, 1);
    if (!text)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the run summary");
    FILE *out = fopen(path, "wb");
    int ok = out && fputs(text, out) >= 0 && fputc('\n', out) != EOF;
    if (out && fclose(out) != 0)
        ok = 0;
    cJSON_free(text);
    if (!ok)
        return sgs_error_set_os(err, SGS_EIO, errno ? errno : EIO, path, "write failed");
    return SGS_OK;
}
