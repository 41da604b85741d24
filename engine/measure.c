/*
 * engine/measure.c — the computation of segscore measure (engine/measure.h): read the list
 * and the newer input, fix the outcome window, then the kernels (kernels/measure.h).
 */
#include "engine/measure.h"

#include "engine/interrupt.h"
#include "io/h5_input.h"
#include "io/h5_results_list.h"
#include "kernels/base_totals.h"
#include "kernels/dates.h"
#include "kernels/group.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static void warn(sgs_measure_result_t *res, sgs_progress_t *progress, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(sgs_measure_result_t *res, sgs_progress_t *progress, const char *fmt, ...)
{
    if (res->n_warnings == SGS_MEASURE_MAX_WARNINGS)
        return;
    char *slot = res->warnings[res->n_warnings++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot, sizeof res->warnings[0], fmt, ap);
    va_end(ap);
    sgs_progress_note(progress, "warning: %s", slot);
}

/* ---- read --------------------------------------------------------------------------------- */

/* res->assumed_value: the mean value at stake of each kind's treated rows (what a later run's
 * --learn-from compares the measured incremental revenue with). */
static int assumed_values(const sgs_results_list_t *list, sgs_measure_result_t *res,
                          sgs_error_t *err)
{
    uint8_t *treated_kind = sgs_alloc_array(list->n_rows ? list->n_rows : 1, 1);
    if (!treated_kind)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu list rows", list->n_rows);
    for (size_t r = 0; r < list->n_rows; r++) /* 0: a control row, left out */
        treated_kind[r] = list->group[r] == SGS_MEASURE_CONTROL ? 0 : list->kind[r];
    size_t count[SGS_OPP_KIND_COUNT];
    double sum[SGS_OPP_KIND_COUNT];
    int rc = sgs_category_totals(list->n_rows, treated_kind, SGS_OPP_KIND_COUNT,
                                 list->value_at_stake, count, sum, err);
    for (int k = 0; k < SGS_OPP_KIND_COUNT; k++)
        res->assumed_value[k] =
            rc == SGS_OK && k > 0 && count[k] > 0 ? sum[k] / (double)count[k] : (double)NAN;
    sgs_free(treated_kind);
    return rc;
}

static int step_read_list(const sgs_measure_request_t *req, sgs_measure_result_t *res,
                          sgs_results_list_t *list, sgs_error_t *err)
{
    sgs_progress_begin(req->progress, "read list");
    int rc = sgs_h5_read_results_list(req->results_path, list, err);
    if (rc != SGS_OK)
        return rc;
    snprintf(res->results_version, sizeof res->results_version, "%s", list->engine_version);
    res->as_of_day = list->as_of_day;
    res->n_list_rows = list->n_rows;
    for (size_t r = 0; r < list->n_rows; r++) /* integers */
        res->n_control_rows += list->group[r] == SGS_MEASURE_CONTROL;
    res->n_treated_rows = (int64_t)list->n_rows - res->n_control_rows;
    rc = assumed_values(list, res, err);
    if (rc != SGS_OK)
        return rc;
    char as_of[16];
    sgs_date_format_day(list->as_of_day, as_of, sizeof as_of);
    sgs_progress_end(req->progress, "%zu rows as of %s (%lld treated, %lld control)", list->n_rows,
                     as_of, (long long)res->n_treated_rows, (long long)res->n_control_rows);
    return SGS_OK;
}

/* The newer input up to the window end (all of it without --days), and the window. */
static int step_read_input(const sgs_measure_request_t *req, const sgs_exec_t *exec,
                           sgs_measure_result_t *res, sgs_transactions_t *tx, sgs_events_t *ev,
                           sgs_error_t *err)
{
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.now_s = req->now_s;
    opt.n_threads = exec->n_threads;
    opt.skip_category = 1;
    opt.progress = sgs_progress_update;
    opt.progress_ctx = req->progress;
    if (req->has_days) {
        opt.has_as_of = 1;
        opt.as_of_end_s = ((int64_t)res->as_of_day + req->days + 1) * SGS_SECONDS_PER_DAY;
    }
    sgs_progress_begin(req->progress, "read input");
    sgs_read_stats_t tx_stats, ev_stats = {0};
    int rc = sgs_h5_read_transactions(req->input_path, &opt, tx, &tx_stats, err);
    if (rc == SGS_OK)
        rc = sgs_h5_read_events(req->input_path, &opt, ev, &res->has_events, &ev_stats, err);
    if (rc == SGS_OK)
        rc = sgs_h5_input_identity(req->input_path, &tx_stats, res->input_identity,
                                   sizeof res->input_identity, err);
    if (rc != SGS_OK)
        return rc;
    int64_t last_tx = tx->n_rows ? sgs_day_of(tx_stats.max_time_s) : INT32_MIN;
    int64_t last_ev = ev->n_rows ? sgs_day_of(ev_stats.max_time_s) : INT32_MIN;
    res->data_last_day = (int32_t)(last_tx > last_ev ? last_tx : last_ev);
    char as_of[16], tx_text[16] = "none", ev_text[16] = "none";
    sgs_date_format_day(res->as_of_day, as_of, sizeof as_of);
    if (tx->n_rows)
        sgs_date_format_day(last_tx, tx_text, sizeof tx_text);
    if (ev->n_rows)
        sgs_date_format_day(last_ev, ev_text, sizeof ev_text);
    if (res->data_last_day <= res->as_of_day)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: the data end on or before the list's as-of date %s (last "
                             "transaction %s, last event %s): nothing happened after the list "
                             "of %s; measure needs an input that goes past %s",
                             req->input_path, as_of, tx_text, ev_text, req->results_path, as_of);
    res->first_day = res->as_of_day + 1;
    res->end_day = req->has_days ? res->as_of_day + req->days : res->data_last_day;
    sgs_progress_end(req->progress, "%zu transactions, %zu events (last %s, %s)", tx->n_rows,
                     ev->n_rows, tx_text, ev_text);
    if (req->has_days && res->data_last_day < res->end_day) {
        char last[16], end[16];
        sgs_date_format_day(res->data_last_day, last, sizeof last);
        sgs_date_format_day(res->end_day, end, sizeof end);
        warn(res, req->progress,
             "the data end on %s, before the window end %s: the last %d days of the window "
             "have no rows",
             last, end, (int)(res->end_day - res->data_last_day));
    }
    if (!res->has_events)
        warn(res, req->progress,
             "%s has no /events: response rate, renewals kept and survey change are 0 for "
             "everyone and say nothing",
             req->input_path);
    return SGS_OK;
}

/* ---- compute ------------------------------------------------------------------------------ */

typedef struct work {
    uint32_t *row_customer;
    int64_t *ids;
    uint32_t *index;
    sgs_measure_outcomes_t o;
    sgs_measure_table_t *ws, *table;
} work_t;

static void work_free(work_t *w)
{
    sgs_free(w->row_customer);
    sgs_free(w->ids);
    sgs_free(w->index);
    sgs_free(w->o.responded);
    sgs_free(w->o.bought);
    sgs_free(w->o.renewed);
    sgs_free(w->o.revenue);
    sgs_free(w->o.survey_before);
    sgs_free(w->o.survey_after);
    sgs_free(w->o.survey_before_time);
    sgs_free(w->o.survey_after_time);
    sgs_free(w->ws);
    sgs_free(w->table);
}

static int step_outcomes(const sgs_measure_request_t *req, const sgs_exec_t *exec,
                         const sgs_results_list_t *list, const sgs_transactions_t *tx,
                         const sgs_events_t *ev, sgs_measure_result_t *res, work_t *w,
                         sgs_error_t *err)
{
    sgs_progress_begin(req->progress, "outcomes");
    size_t n = list->n_rows, nc = 0;
    w->row_customer = sgs_alloc_array(n, sizeof *w->row_customer);
    if (!w->row_customer)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu list rows", n);
    int rc =
        sgs_customer_index_build(exec, list->customer_id, n, w->row_customer, &w->ids, &nc, err);
    if (rc != SGS_OK)
        return rc;
    res->n_customers = nc;
    w->index = sgs_alloc_array(sgs_measure_index_slots(nc), sizeof *w->index);
    w->o.responded = sgs_alloc_array(nc, 1);
    w->o.bought = sgs_alloc_array(nc, 1);
    w->o.renewed = sgs_alloc_array(nc, 1);
    w->o.revenue = sgs_alloc_array(nc, sizeof(double));
    w->o.survey_before = sgs_alloc_array(nc, sizeof(double));
    w->o.survey_after = sgs_alloc_array(nc, sizeof(double));
    w->o.survey_before_time = sgs_alloc_array(nc, sizeof(int64_t));
    w->o.survey_after_time = sgs_alloc_array(nc, sizeof(int64_t));
    if (!w->index || !w->o.responded || !w->o.bought || !w->o.renewed || !w->o.revenue ||
        !w->o.survey_before || !w->o.survey_after || !w->o.survey_before_time ||
        !w->o.survey_after_time)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu listed customers", nc);
    rc = sgs_measure_outcomes(w->ids, nc, tx->customer_id, tx->time_s, tx->amount, tx->n_rows,
                              ev->customer_id, ev->time_s, ev->kind, ev->value, ev->n_rows,
                              res->as_of_day, res->end_day, w->index, exec, &w->o, &res->counts,
                              err);
    if (rc != SGS_OK)
        return rc;
    sgs_progress_end(req->progress,
                     "%zu customers; in the window %lld transactions and %lld events of theirs", nc,
                     (long long)res->counts.tx_listed, (long long)res->counts.ev_listed);
    return SGS_OK;
}

/* The lines of the report and the kinds' incremental revenue from the per-arm table. */
static void build_lines(const sgs_measure_table_t *t, sgs_measure_result_t *res)
{
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        const sgs_measure_arm_t *all = t->arm[k][SGS_MEASURE_ALL_CHANNELS];
        res->kind_listed[k] = all[0].n + all[1].n > 0;
        if (!res->kind_listed[k]) { /* not on the list: not in the cumulative impact */
            res->incremental[k] = (sgs_measure_diff_t){.treated = NAN,
                                                       .control = NAN,
                                                       .diff = NAN,
                                                       .lo = NAN,
                                                       .hi = NAN,
                                                       .variance = NAN,
                                                       .reason = SGS_MEASURE_NO_TREATED};
            continue;
        }
        for (int ch = 0; ch <= SGS_CHANNEL_COUNT; ch++) {
            const sgs_measure_arm_t *a = t->arm[k][ch];
            if (a[0].n + a[1].n == 0)
                continue;
            sgs_measure_line_t *line = &res->lines[res->n_lines++];
            line->kind = k;
            line->channel = ch;
            for (int m = 0; m < SGS_MEASURE_METRIC_COUNT; m++) {
                line->applies[m] = (m != SGS_MEASURE_RENEWED || k == SGS_OPP_RENEWAL_AT_RISK) &&
                                   (m != SGS_MEASURE_SURVEY || k == SGS_OPP_DETRACTOR_FOLLOW_UP);
                sgs_measure_compare(&a[SGS_MEASURE_TREATED], &a[SGS_MEASURE_CONTROL],
                                    (sgs_measure_metric_t)m, res->min_arm, &line->metric[m]);
            }
            if (ch == SGS_MEASURE_ALL_CHANNELS)
                sgs_measure_incremental(&line->metric[SGS_MEASURE_REVENUE], &res->incremental[k]);
        }
    }
    sgs_measure_cumulative(res->incremental + 1, SGS_OPP_KIND_COUNT - 1, &res->cumulative,
                           &res->n_kinds_included, &res->n_kinds_left_out);
}

/* The list's rows ordered by the RFM segment of their customer (a counting sort, stable):
 * rows of group g are perm[start[g] .. start[g + 1] - 1]. */
static int rows_by_segment(const sgs_results_list_t *list, const work_t *w, size_t n_customers,
                           uint32_t *perm, size_t start[SGS_MEASURE_RFM_GROUPS + 1],
                           sgs_error_t *err)
{
    int64_t *pos = sgs_alloc_array(n_customers ? n_customers : 1, sizeof *pos);
    uint8_t *group = sgs_alloc_array(n_customers ? n_customers : 1, 1);
    if (!pos || !group) {
        sgs_free(pos);
        sgs_free(group);
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu listed customers", n_customers);
    }
    sgs_customer_ids_match(w->ids, n_customers, list->buyer_id, list->n_buyers, pos);
    for (size_t u = 0; u < n_customers; u++) {
        uint8_t g = pos[u] >= 0 ? list->buyer_rfm[pos[u]] : (uint8_t)SGS_RFM_SEGMENT_COUNT;
        group[u] = g < SGS_MEASURE_RFM_GROUPS ? g : (uint8_t)SGS_RFM_SEGMENT_COUNT;
    }
    size_t count[SGS_MEASURE_RFM_GROUPS + 1] = {0};
    for (size_t r = 0; r < list->n_rows; r++)
        count[group[w->row_customer[r]] + 1]++;
    start[0] = 0;
    for (int g = 0; g < SGS_MEASURE_RFM_GROUPS; g++)
        start[g + 1] = start[g] + count[g + 1];
    size_t next[SGS_MEASURE_RFM_GROUPS];
    for (int g = 0; g < SGS_MEASURE_RFM_GROUPS; g++)
        next[g] = start[g];
    for (size_t r = 0; r < list->n_rows; r++)
        perm[next[group[w->row_customer[r]]]++] = (uint32_t)r;
    sgs_free(pos);
    sgs_free(group);
    return SGS_OK;
}

/* Revenue per (kind, RFM segment, channel): the per-arm sums over each segment's rows. */
static int step_segments(const sgs_measure_request_t *req, const sgs_exec_t *exec,
                         const sgs_results_list_t *list, sgs_measure_result_t *res, work_t *w,
                         sgs_error_t *err)
{
    if (!list->buyer_id)
        return SGS_OK;
    const size_t n = list->n_rows;
    uint32_t *perm = sgs_alloc_array(n, sizeof *perm), *cust = sgs_alloc_array(n, sizeof *cust);
    uint8_t *kind = sgs_alloc_array(n, 1), *chan = sgs_alloc_array(n, 1),
            *grp = sgs_alloc_array(n, 1);
    size_t start[SGS_MEASURE_RFM_GROUPS + 1];
    int rc = perm && cust && kind && chan && grp
                 ? rows_by_segment(list, w, res->n_customers, perm, start, err)
                 : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu list rows", n);
    for (size_t i = 0; rc == SGS_OK && i < n; i++) {
        cust[i] = w->row_customer[perm[i]];
        kind[i] = list->kind[perm[i]];
        chan[i] = list->channel[perm[i]];
        grp[i] = list->group[perm[i]];
    }
    for (int g = 0; rc == SGS_OK && g < SGS_MEASURE_RFM_GROUPS; g++) {
        size_t lo = start[g], m = start[g + 1] - lo;
        if (m == 0)
            continue;
        rc = sgs_measure_arms(cust + lo, kind + lo, chan + lo, grp + lo, m, &w->o, exec, w->ws,
                              w->table, err);
        for (int k = 1; rc == SGS_OK && k < SGS_OPP_KIND_COUNT; k++)
            for (int ch = 0; ch <= SGS_CHANNEL_COUNT; ch++) {
                const sgs_measure_arm_t *a = w->table->arm[k][ch];
                if (a[0].n + a[1].n == 0)
                    continue;
                sgs_measure_segment_line_t *line = &res->segment_lines[res->n_segment_lines++];
                line->kind = k;
                line->rfm_segment = g;
                line->channel = ch;
                sgs_measure_compare(&a[SGS_MEASURE_TREATED], &a[SGS_MEASURE_CONTROL],
                                    SGS_MEASURE_REVENUE, res->min_arm, &line->revenue);
            }
    }
    res->has_segments = rc == SGS_OK;
    sgs_free(perm);
    sgs_free(cust);
    sgs_free(kind);
    sgs_free(chan);
    sgs_free(grp);
    if (rc == SGS_OK)
        sgs_progress_note(req->progress, "%zu lines of revenue per kind, RFM segment and channel",
                          res->n_segment_lines);
    return rc;
}

static int step_arms(const sgs_measure_request_t *req, const sgs_exec_t *exec,
                     const sgs_results_list_t *list, sgs_measure_result_t *res, work_t *w,
                     sgs_error_t *err)
{
    sgs_progress_begin(req->progress, "compare");
    w->ws = sgs_alloc_array(sgs_measure_arms_workspace(list->n_rows), sizeof *w->ws);
    w->table = sgs_alloc_array(1, sizeof *w->table);
    if (!w->ws || !w->table)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the per-arm sums");
    int rc = sgs_measure_arms(w->row_customer, list->kind, list->channel, list->group, list->n_rows,
                              &w->o, exec, w->ws, w->table, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "%s: /opportunities", req->results_path);
        return rc;
    }
    build_lines(w->table, res);
    rc = step_segments(req, exec, list, res, w, err);
    if (rc != SGS_OK)
        return rc;
    sgs_progress_end(req->progress, "%zu lines, %zu kinds compared", res->n_lines,
                     res->n_kinds_included);
    return SGS_OK;
}

int sgs_measure(const sgs_measure_request_t *req, sgs_measure_result_t *res, sgs_error_t *err)
{
    memset(res, 0, sizeof *res);
    if (req->min_arm < 2 || (req->has_days && req->days < 1))
        return sgs_error_set(err, SGS_EINVAL, "measure: malformed request");
    res->min_arm = req->min_arm;
    sgs_stop_point_t stop = {"measure-outcomes", "while measuring"};
    sgs_exec_t exec = {.n_threads = req->n_threads > 0 ? req->n_threads : 1,
                       .stop = sgs_interrupt_stop,
                       .stop_ctx = &stop};
    sgs_results_list_t list = {0};
    sgs_transactions_t tx = {0};
    sgs_events_t ev = {0};
    work_t w;
    memset(&w, 0, sizeof w);
    int rc = step_read_list(req, res, &list, err);
    if (rc == SGS_OK)
        rc = sgs_interrupt_checkpoint("measure-read", "before reading the input", err);
    if (rc == SGS_OK)
        rc = step_read_input(req, &exec, res, &tx, &ev, err);
    if (rc == SGS_OK && list.n_rows == 0)
        warn(res, req->progress, "%s: the list is empty: nothing to measure", req->results_path);
    if (rc == SGS_OK && list.n_rows > 0 && res->n_control_rows == 0)
        warn(res, req->progress,
             "%s: the list has no control group (actions.control_share was 0): the treated "
             "customers' figures are given, but no comparison can be made",
             req->results_path);
    if (rc == SGS_OK && list.n_rows > 0)
        rc = sgs_interrupt_checkpoint("measure-outcomes", "before the outcomes", err);
    if (rc == SGS_OK && list.n_rows > 0)
        rc = step_outcomes(req, &exec, &list, &tx, &ev, res, &w, err);
    sgs_transactions_free(&tx);
    sgs_events_free(&ev);
    if (rc == SGS_OK && list.n_rows > 0)
        rc = step_arms(req, &exec, &list, res, &w, err);
    if (rc == SGS_OK && list.n_rows == 0)
        sgs_measure_cumulative(res->incremental + 1, SGS_OPP_KIND_COUNT - 1, &res->cumulative,
                               &res->n_kinds_included, &res->n_kinds_left_out);
    work_free(&w);
    sgs_results_list_free(&list);
    return rc;
}
