/*
 * engine/measure_write.c — the JSON and HDF5 reports of segscore measure (layouts in
 * docs/measure.md). Both are written into a temporary the caller began and commits
 * (io/atomic_file.h); neither carries a time, so the same inputs give the same bytes.
 */
#include "engine/measure.h"

#include "io/atomic_file.h"
#include "io/h5_columns.h"
#include "io/h5_output.h"
#include "io/json_doc.h"
#include "kernels/dates.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON ---------------------------------------------------------------------------------- */

static void add_finite(cJSON *o, const char *name, double v)
{
    if (isfinite(v)) /* JSON has no NaN */
        cJSON_AddNumberToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

/* {n_treated, n_control, treated, control, diff, ci: [lo, hi], conclusive, reason} */
static cJSON *diff_object(const sgs_measure_diff_t *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n_treated", (double)d->n_treated);
    cJSON_AddNumberToObject(o, "n_control", (double)d->n_control);
    add_finite(o, "treated", d->treated);
    add_finite(o, "control", d->control);
    add_finite(o, "diff", d->diff);
    cJSON *ci = cJSON_CreateArray();
    sgs_json_attach(ci, NULL, isfinite(d->lo) ? cJSON_CreateNumber(d->lo) : cJSON_CreateNull());
    sgs_json_attach(ci, NULL, isfinite(d->hi) ? cJSON_CreateNumber(d->hi) : cJSON_CreateNull());
    sgs_json_attach(o, "ci95", ci);
    cJSON_AddBoolToObject(o, "conclusive", d->reason == SGS_MEASURE_CONCLUSIVE);
    cJSON_AddStringToObject(o, "reason", sgs_measure_reason_name(d->reason));
    return o;
}

static const char *channel_label(int channel)
{
    return channel == SGS_MEASURE_ALL_CHANNELS ? "all" : sgs_channel_name(channel);
}

static char *json_text(const sgs_measure_result_t *res, const sgs_measure_request_t *req)
{
    char text[16];
    long mark = sgs_json_begin();
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "engine_version", SGS_VERSION);
    cJSON *list = cJSON_AddObjectToObject(root, "list");
    cJSON_AddStringToObject(list, "path", req->results_path);
    cJSON_AddStringToObject(list, "engine_version", res->results_version);
    sgs_date_format_day(res->as_of_day, text, sizeof text);
    cJSON_AddStringToObject(list, "as_of", text);
    cJSON_AddNumberToObject(list, "rows", (double)res->n_list_rows);
    cJSON_AddNumberToObject(list, "treated_rows", (double)res->n_treated_rows);
    cJSON_AddNumberToObject(list, "control_rows", (double)res->n_control_rows);
    cJSON_AddNumberToObject(list, "customers", (double)res->n_customers);
    cJSON *in = cJSON_AddObjectToObject(root, "input");
    cJSON_AddStringToObject(in, "path", req->input_path);
    cJSON_AddStringToObject(in, "identity", res->input_identity);
    cJSON_AddBoolToObject(in, "has_events", res->has_events);
    const sgs_measure_counts_t *c = &res->counts;
    cJSON_AddNumberToObject(in, "transactions_in_window", (double)c->tx_in_window);
    cJSON_AddNumberToObject(in, "transactions_before_window", (double)c->tx_history);
    cJSON_AddNumberToObject(in, "transactions_after_window", (double)c->tx_after);
    cJSON_AddNumberToObject(in, "transactions_of_listed_in_window", (double)c->tx_listed);
    cJSON_AddNumberToObject(in, "events_in_window", (double)c->ev_in_window);
    cJSON_AddNumberToObject(in, "events_before_window", (double)c->ev_history);
    cJSON_AddNumberToObject(in, "events_after_window", (double)c->ev_after);
    cJSON_AddNumberToObject(in, "events_of_listed_in_window", (double)c->ev_listed);
    cJSON *w = cJSON_AddObjectToObject(root, "window");
    sgs_date_format_day(res->first_day, text, sizeof text);
    cJSON_AddStringToObject(w, "first_day", text);
    sgs_date_format_day(res->end_day, text, sizeof text);
    cJSON_AddStringToObject(w, "last_day", text);
    cJSON_AddNumberToObject(w, "days", res->end_day - res->as_of_day);
    cJSON_AddNumberToObject(root, "min_arm", (double)res->min_arm);
    cJSON_AddNumberToObject(root, "confidence", 0.95);
    cJSON *lines = cJSON_AddArrayToObject(root, "lines");
    for (size_t i = 0; i < res->n_lines; i++) {
        const sgs_measure_line_t *l = &res->lines[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", sgs_opportunity_kind_name(l->kind));
        cJSON_AddStringToObject(o, "channel", channel_label(l->channel));
        cJSON_AddNumberToObject(o, "treated", (double)l->metric[SGS_MEASURE_REVENUE].n_treated);
        cJSON_AddNumberToObject(o, "control", (double)l->metric[SGS_MEASURE_REVENUE].n_control);
        cJSON *m = cJSON_AddObjectToObject(o, "metrics");
        for (int k = 0; k < SGS_MEASURE_METRIC_COUNT; k++)
            if (l->applies[k])
                sgs_json_attach(m, sgs_measure_metric_name((sgs_measure_metric_t)k),
                                diff_object(&l->metric[k]));
        sgs_json_attach(lines, NULL, o);
    }
    cJSON *kinds = cJSON_AddObjectToObject(root, "incremental_revenue");
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
        if (res->kind_listed[k]) {
            cJSON *o = diff_object(&res->incremental[k]);
            add_finite(o, "assumed_value_per_customer", res->assumed_value[k]);
            sgs_json_attach(kinds, sgs_opportunity_kind_name(k), o);
        }
    if (res->has_segments) {
        cJSON *seg = cJSON_AddArrayToObject(root, "revenue_by_rfm_segment");
        for (size_t i = 0; i < res->n_segment_lines; i++) {
            const sgs_measure_segment_line_t *l = &res->segment_lines[i];
            cJSON *o = diff_object(&l->revenue);
            cJSON_AddStringToObject(o, "kind", sgs_opportunity_kind_name(l->kind));
            cJSON_AddStringToObject(o, "rfm_segment",
                                    l->rfm_segment < SGS_RFM_SEGMENT_COUNT
                                        ? sgs_rfm_segment_name(l->rfm_segment)
                                        : "no purchase");
            cJSON_AddStringToObject(o, "channel", channel_label(l->channel));
            sgs_json_attach(seg, NULL, o);
        }
    }
    cJSON *cum = diff_object(&res->cumulative);
    cJSON_AddNumberToObject(cum, "kinds_included", (double)res->n_kinds_included);
    cJSON_AddNumberToObject(cum, "kinds_without_comparison", (double)res->n_kinds_left_out);
    sgs_json_attach(root, "cumulative_impact", cum);
    cJSON *warnings = cJSON_AddArrayToObject(root, "warnings");
    for (size_t i = 0; i < res->n_warnings; i++)
        sgs_json_attach(warnings, NULL, cJSON_CreateString(res->warnings[i]));
    return sgs_json_finish(root, mark, 1);
}

int sgs_measure_write_json(const sgs_measure_result_t *res, const sgs_measure_request_t *req,
                           const char *file, const char *path, sgs_error_t *err)
{
    char *text = json_text(res, req);
    if (!text)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the JSON report");
    int rc = sgs_write_text_file(file, path, text, err);
    cJSON_free(text);
    return rc;
}

/* ---- HDF5 ---------------------------------------------------------------------------------- */

/* The columns of one metric over the lines: /lines/<metric>/{...}. */
static int write_metric(hid_t f, const sgs_measure_result_t *res, int m, double *v, int64_t *n,
                        uint8_t *u, sgs_error_t *err)
{
    const char *name = sgs_measure_metric_name((sgs_measure_metric_t)m);
    size_t nl = res->n_lines;
    char path[96];
    int rc = SGS_OK;
#define F64_COLUMN(sub, field)                                                                     \
    for (size_t i = 0; i < nl; i++)                                                                \
        v[i] = res->lines[i].applies[m] ? res->lines[i].metric[m].field : (double)NAN;             \
    snprintf(path, sizeof path, "/lines/%s/%s", name, sub);                                        \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_write_column(f, path, SGS_H5_F64, v, nl, 0, err);
    F64_COLUMN("treated", treated)
    F64_COLUMN("control", control)
    F64_COLUMN("diff", diff)
    F64_COLUMN("lo", lo)
    F64_COLUMN("hi", hi)
#undef F64_COLUMN
    for (size_t i = 0; i < nl; i++)
        n[i] = res->lines[i].metric[m].n_treated;
    snprintf(path, sizeof path, "/lines/%s/n_treated", name);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, path, SGS_H5_I64, n, nl, 0, err);
    for (size_t i = 0; i < nl; i++)
        n[i] = res->lines[i].metric[m].n_control;
    snprintf(path, sizeof path, "/lines/%s/n_control", name);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, path, SGS_H5_I64, n, nl, 0, err);
    for (size_t i = 0; i < nl; i++)
        u[i] = res->lines[i].applies[m] ? (uint8_t)res->lines[i].metric[m].reason
                                        : SGS_MEASURE_NOT_APPLICABLE;
    snprintf(path, sizeof path, "/lines/%s/reason", name);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, path, SGS_H5_U8, u, nl, 0, err);
    for (size_t i = 0; i < nl; i++)
        u[i] = res->lines[i].applies[m] && res->lines[i].metric[m].reason == 0;
    snprintf(path, sizeof path, "/lines/%s/conclusive", name);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, path, SGS_H5_U8, u, nl, 0, err);
    return rc;
}

static int write_lines(hid_t f, const sgs_measure_result_t *res, sgs_error_t *err)
{
    size_t nl = res->n_lines;
    double v[SGS_MEASURE_MAX_LINES];
    int64_t n[SGS_MEASURE_MAX_LINES];
    uint8_t u[SGS_MEASURE_MAX_LINES];
    int rc = sgs_h5_group_ensure(f, "/lines", err);
    for (size_t i = 0; i < nl; i++)
        u[i] = (uint8_t)res->lines[i].kind;
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/lines/kind", SGS_H5_U8, u, nl, 0, err);
    for (size_t i = 0; i < nl; i++)
        u[i] = (uint8_t)res->lines[i].channel;
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/lines/channel", SGS_H5_U8, u, nl, 0, err);
    for (size_t i = 0; i < nl; i++)
        n[i] = res->lines[i].metric[SGS_MEASURE_REVENUE].n_treated;
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/lines/n_treated", SGS_H5_I64, n, nl, 0, err);
    for (size_t i = 0; i < nl; i++)
        n[i] = res->lines[i].metric[SGS_MEASURE_REVENUE].n_control;
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/lines/n_control", SGS_H5_I64, n, nl, 0, err);
    for (int m = 0; rc == SGS_OK && m < SGS_MEASURE_METRIC_COUNT; m++)
        rc = write_metric(f, res, m, v, n, u, err);
    const char *kinds[SGS_OPP_KIND_COUNT], *channels[SGS_CHANNEL_COUNT + 1];
    const char *reasons[SGS_MEASURE_REASON_COUNT];
    for (int k = 0; k < SGS_OPP_KIND_COUNT; k++)
        kinds[k] = sgs_opportunity_kind_name(k);
    for (int c = 0; c <= SGS_CHANNEL_COUNT; c++)
        channels[c] = channel_label(c);
    for (int r = 0; r < SGS_MEASURE_REASON_COUNT; r++)
        reasons[r] = sgs_measure_reason_name((sgs_measure_reason_t)r);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/lines", "kind_names", kinds, SGS_OPP_KIND_COUNT, err);
    if (rc == SGS_OK)
        rc =
            sgs_h5_attr_strings(f, "/lines", "channel_names", channels, SGS_CHANNEL_COUNT + 1, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/lines", "reason_names", reasons, SGS_MEASURE_REASON_COUNT,
                                 err);
    return rc;
}

/* /segment_lines: the revenue difference per (kind, RFM segment, channel). */
static int write_segment_lines(hid_t f, const sgs_measure_result_t *res, sgs_error_t *err)
{
    if (!res->has_segments)
        return SGS_OK;
    const size_t nl = res->n_segment_lines;
    uint8_t *u = sgs_alloc_array(nl ? nl : 1, 1);
    int64_t *n = sgs_alloc_array(nl ? nl : 1, sizeof *n);
    double *v = sgs_alloc_array(nl ? nl : 1, sizeof *v);
    int rc = u && n && v ? sgs_h5_group_ensure(f, "/segment_lines", err)
                         : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu lines", nl);
#define COLUMN(name, type, buf, expr)                                                              \
    for (size_t i = 0; rc == SGS_OK && i < nl; i++) {                                              \
        const sgs_measure_segment_line_t *l = &res->segment_lines[i];                              \
        buf[i] = expr;                                                                             \
    }                                                                                              \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_write_column(f, "/segment_lines/" name, type, buf, nl, 0, err);
    COLUMN("kind", SGS_H5_U8, u, (uint8_t)l->kind)
    COLUMN("rfm_segment", SGS_H5_U8, u, (uint8_t)l->rfm_segment)
    COLUMN("channel", SGS_H5_U8, u, (uint8_t)l->channel)
    COLUMN("n_treated", SGS_H5_I64, n, l->revenue.n_treated)
    COLUMN("n_control", SGS_H5_I64, n, l->revenue.n_control)
    COLUMN("diff", SGS_H5_F64, v, l->revenue.diff)
    COLUMN("lo", SGS_H5_F64, v, l->revenue.lo)
    COLUMN("hi", SGS_H5_F64, v, l->revenue.hi)
    COLUMN("reason", SGS_H5_U8, u, (uint8_t)l->revenue.reason)
    COLUMN("conclusive", SGS_H5_U8, u, l->revenue.reason == SGS_MEASURE_CONCLUSIVE)
#undef COLUMN
    const char *names[SGS_MEASURE_RFM_GROUPS];
    for (int g = 0; g < SGS_RFM_SEGMENT_COUNT; g++)
        names[g] = sgs_rfm_segment_name(g);
    names[SGS_RFM_SEGMENT_COUNT] = "no purchase";
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/segment_lines", "rfm_segment_names", names,
                                 SGS_MEASURE_RFM_GROUPS, err);
    sgs_free(u);
    sgs_free(n);
    sgs_free(v);
    return rc;
}

static int write_kinds(hid_t f, const sgs_measure_result_t *res, sgs_error_t *err)
{
    size_t nk = 0;
    uint8_t kind[SGS_OPP_KIND_COUNT], reason[SGS_OPP_KIND_COUNT], conclusive[SGS_OPP_KIND_COUNT];
    int64_t nt[SGS_OPP_KIND_COUNT], nc[SGS_OPP_KIND_COUNT];
    double inc[SGS_OPP_KIND_COUNT], lo[SGS_OPP_KIND_COUNT], hi[SGS_OPP_KIND_COUNT],
        var[SGS_OPP_KIND_COUNT], assumed[SGS_OPP_KIND_COUNT];
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        if (!res->kind_listed[k])
            continue;
        const sgs_measure_diff_t *d = &res->incremental[k];
        kind[nk] = (uint8_t)k;
        nt[nk] = d->n_treated;
        nc[nk] = d->n_control;
        inc[nk] = d->diff;
        lo[nk] = d->lo;
        hi[nk] = d->hi;
        var[nk] = d->variance;
        assumed[nk] = res->assumed_value[k];
        reason[nk] = (uint8_t)d->reason;
        conclusive[nk] = d->reason == SGS_MEASURE_CONCLUSIVE;
        nk++;
    }
    int rc = sgs_h5_group_ensure(f, "/kinds", err);
#define COLUMN(path, type, data)                                                                   \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_write_column(f, path, type, data, nk, 0, err);
    COLUMN("/kinds/kind", SGS_H5_U8, kind)
    COLUMN("/kinds/n_treated", SGS_H5_I64, nt)
    COLUMN("/kinds/n_control", SGS_H5_I64, nc)
    COLUMN("/kinds/incremental_revenue", SGS_H5_F64, inc)
    COLUMN("/kinds/lo", SGS_H5_F64, lo)
    COLUMN("/kinds/hi", SGS_H5_F64, hi)
    COLUMN("/kinds/variance", SGS_H5_F64, var)
    COLUMN("/kinds/assumed_value", SGS_H5_F64, assumed)
    COLUMN("/kinds/reason", SGS_H5_U8, reason)
    COLUMN("/kinds/conclusive", SGS_H5_U8, conclusive)
#undef COLUMN
    return rc;
}

static int write_root(hid_t f, const sgs_measure_result_t *res, const sgs_measure_request_t *req,
                      sgs_error_t *err)
{
    int rc = SGS_OK;
    char text[16];
    const sgs_measure_counts_t *c = &res->counts;
    const sgs_measure_diff_t *cum = &res->cumulative;
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
    ATTR_S("results_path", req->results_path)
    ATTR_S("results_engine_version", res->results_version)
    ATTR_S("input_path", req->input_path)
    ATTR_S("input", res->input_identity)
    sgs_date_format_day(res->as_of_day, text, sizeof text);
    ATTR_S("as_of", text)
    sgs_date_format_day(res->first_day, text, sizeof text);
    ATTR_S("window_first", text)
    sgs_date_format_day(res->end_day, text, sizeof text);
    ATTR_S("window_last", text)
    ATTR_I("as_of_day", res->as_of_day)
    ATTR_I("window_first_day", res->first_day)
    ATTR_I("window_last_day", res->end_day)
    ATTR_I("days", res->end_day - res->as_of_day)
    ATTR_I("min_arm", res->min_arm)
    ATTR_D("confidence", 0.95)
    ATTR_D("z", SGS_MEASURE_Z95)
    ATTR_I("has_events", res->has_events)
    ATTR_I("n_list_rows", res->n_list_rows)
    ATTR_I("n_treated_rows", res->n_treated_rows)
    ATTR_I("n_control_rows", res->n_control_rows)
    ATTR_I("n_customers", res->n_customers)
    ATTR_I("transactions_in_window", c->tx_in_window)
    ATTR_I("events_in_window", c->ev_in_window)
    ATTR_D("cumulative_impact", cum->diff)
    ATTR_D("cumulative_lo", cum->lo)
    ATTR_D("cumulative_hi", cum->hi)
    ATTR_D("cumulative_variance", cum->variance)
    ATTR_I("cumulative_conclusive", cum->reason == SGS_MEASURE_CONCLUSIVE)
    ATTR_S("cumulative_reason", sgs_measure_reason_name(cum->reason))
    ATTR_I("n_kinds_included", res->n_kinds_included)
    ATTR_I("n_kinds_without_comparison", res->n_kinds_left_out)
#undef ATTR_S
#undef ATTR_D
#undef ATTR_I
    return rc;
}

int sgs_measure_write_h5(const sgs_measure_result_t *res, const sgs_measure_request_t *req,
                         const char *file, const char *path, sgs_error_t *err)
{
    sgs_h5_quiet();
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create HDF5 file", path);
    int rc = write_lines(f, res, err);
    if (rc == SGS_OK)
        rc = write_kinds(f, res, err);
    if (rc == SGS_OK)
        rc = write_segment_lines(f, res, err);
    if (rc == SGS_OK)
        rc = write_root(f, res, req, err);
    rc = sgs_h5_finish_output(f, rc, err);
    if (rc == SGS_ENOSPACE) /* "<file>: no space left on device" */
        sgs_error_rename(err, file, path);
    else if (rc != SGS_OK)
        sgs_error_prefix(err, "writing %s", path);
    return rc;
}
