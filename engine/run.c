/*
 * engine/run.c — the order of a nightly run: read, group, summarize, score, publish.
 * Each step is a small function over the run state (engine/run_state.h); the steps that
 * follow (value models, segments, stages, opportunities) plug in between score and publish.
 */
#include "engine/run_state.h"

#include "engine/group_transactions.h"
#include "engine/interrupt.h"
#include "engine/run_actions.h"
#include "kernels/base_totals.h"
#include "kernels/dates.h"

#include <float.h>
#include <math.h>
#include <omp.h> /* omp_get_num_procs: the default thread count */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- read ----------------------------------------------------------------------------- */

static int step_read(sgs_run_state_t *st, sgs_transactions_t *tx, sgs_error_t *err)
{
    const sgs_config_t *cfg = st->req->config;
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.now_s = st->req->now_s;
    opt.n_threads = st->exec.n_threads;
    opt.skip_category = 1; /* no step uses it yet: 4 bytes a row neither read nor held */
    opt.progress = sgs_progress_update;
    opt.progress_ctx = st->req->progress;
    static const sgs_stop_point_t while_reading = {"read-chunks", "while reading the input"};
    opt.stop = sgs_interrupt_stop;
    opt.stop_ctx = (void *)&while_reading;
    if (cfg->as_of[0]) {
        int64_t day;
        if (sgs_date_parse_day(cfg->as_of, &day) != SGS_OK)
            return sgs_error_set(err, SGS_ECONFIG, "as_of \"%s\" is not a date YYYY-MM-DD",
                                 cfg->as_of);
        opt.has_as_of = 1;
        opt.as_of_end_s = (day + 1) * SGS_SECONDS_PER_DAY;
    }
    sgs_progress_begin(st->req->progress, "read");
    int rc = sgs_h5_read_transactions(st->req->input_path, &opt, tx, &st->tx_stats, err);
    if (rc == SGS_OK && tx->n_rows == 0)
        rc = sgs_error_set(err, SGS_EDATA,
                           "%s: /transactions: no rows on or before the as-of date %s",
                           st->req->input_path, cfg->as_of);
    if (rc == SGS_OK)
        rc = sgs_h5_input_identity(st->req->input_path, &st->tx_stats, st->input_identity,
                                   sizeof st->input_identity, err);
    if (rc != SGS_OK)
        return rc;
    int64_t as_of_day = opt.has_as_of ? opt.as_of_end_s / SGS_SECONDS_PER_DAY - 1
                                      : sgs_day_of(st->tx_stats.max_time_s);
    st->as_of_day = (int32_t)as_of_day;
    sgs_date_format_day(as_of_day, st->as_of_text, sizeof st->as_of_text);
    sgs_progress_end(st->req->progress, "%zu rows (%zu after the as-of date %s left out)",
                     tx->n_rows, st->tx_stats.n_rows_after_as_of, st->as_of_text);
    return SGS_OK;
}

/* ---- group ---------------------------------------------------------------------------- */

static int step_group(sgs_run_state_t *st, sgs_transactions_t *tx, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "group");
    int order = st->tx_stats.sorted_by_customer ? SGS_ORDER_SORTED : SGS_ORDER_SCATTERED;
    int rc =
        sgs_group_transactions(&st->exec, tx, order, &st->grouped, &st->sorted_input_skipped, err);
    if (rc != SGS_OK)
        return rc;
    sgs_progress_end(st->req->progress, "%zu customers%s", st->grouped.n_customers,
                     st->sorted_input_skipped ? " (input already sorted: no sort needed)" : "");
    return SGS_OK;
}

/* ---- summarize -------------------------------------------------------------------------- */

/* Keep customers with at least one purchase: compact every summary column in place. */
static int keep_buyers(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_summary_t *s = &st->summary;
    const sgs_grouped_t *g = &st->grouped;
    size_t n_all = g->n_customers, k = 0;
    st->customer_id = sgs_alloc_array(n_all, sizeof *st->customer_id);
    if (!st->customer_id)
        return sgs_error_set(err, SGS_ENOMEM, "summary: no memory for %zu ids", n_all);
    for (size_t c = 0; c < n_all; c++) {
        if (!s->has_purchase[c])
            continue;
        st->customer_id[k] = g->customer_id[c];
        if (k != c)
            sgs_summary_copy_row(s, k, c);
        k++;
    }
    st->n_customers = k;
    st->n_no_purchase = n_all - k;
    s->n_customers = k;
    return SGS_OK;
}

static int step_summarize(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "summarize");
    const sgs_grouped_t *g = &st->grouped;
    int rc = sgs_summary_alloc(&st->summary, g->n_customers);
    if (rc != SGS_OK)
        return sgs_error_set(err, rc, "summary: no memory for %zu customers", g->n_customers);
    rc = sgs_summarize(&st->exec, g, st->as_of_day, &st->summary, err);
    if (rc == SGS_EDATA) /* a customer's spend overflows: say in which file */
        sgs_error_prefix(err, "%s: /transactions", st->req->input_path);
    if (rc != SGS_OK)
        return rc;
    /* Totals over every customer, those left out included: their refunds are revenue lost
     * (kernels/base_totals.h). */
    sgs_spend_totals_t all, buyers;
    sgs_spend_totals(&st->summary, g->n_customers, &all);
    /* Every total of spend over customers (revenue, per segment, per profile, of buyers) is at
     * most this sum of magnitudes, in any order: when it is finite, so are they all. */
    if (!isfinite(all.magnitude))
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /transactions: the customers' net spend adds up beyond the "
                             "largest number a double holds (%.3g): revenue totals would be "
                             "infinite; are the amounts in the right unit?",
                             st->req->input_path, DBL_MAX);
    st->revenue_total = all.revenue;
    st->n_cancelled_days = all.n_cancelled_days;
    rc = keep_buyers(st, err);
    if (rc != SGS_OK)
        return rc;
    sgs_spend_totals(&st->summary, st->n_customers, &buyers);
    st->n_nonpositive_net = buyers.n_nonpositive;
    st->revenue_buyers = buyers.revenue;
    sgs_amount_signs(g->n_rows, g->amount, &st->exec, &st->n_refund_rows, &st->n_zero_amount_rows);
    st->n_purchase_rows = g->n_rows - st->n_refund_rows;
    if (st->n_customers == 0)
        return sgs_error_set(err, SGS_EDATA, "%s: /transactions: no customer has a purchase",
                             st->req->input_path);
    sgs_progress_end(st->req->progress,
                     "%zu customers with purchases, %zu without a purchase occasion (refunds or "
                     "same-day cancellations only), %zu purchase days cancelled the same day",
                     st->n_customers, st->n_no_purchase, st->n_cancelled_days);
    return SGS_OK;
}

/* ---- score: RFM ------------------------------------------------------------------------- */

static int step_rfm(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "rfm");
    size_t n = st->n_customers;
    const sgs_summary_t *s = &st->summary;
    int bins = st->req->config->rfm_bins;
    int rc = SGS_OK;
    double *values = sgs_alloc_array(n, sizeof *values);
    void *workspace = sgs_alloc_array(sgs_rfm_workspace_size(n), 1);
    st->r_score = sgs_alloc_array(n, 1);
    st->f_score = sgs_alloc_array(n, 1);
    st->m_score = sgs_alloc_array(n, 1);
    st->rfm_segment = sgs_alloc_array(n, 1);
    st->rfm_total = sgs_alloc_array(n, 1);
    st->rfm_cell = sgs_alloc_array(n, sizeof *st->rfm_cell);
    if (!values || !workspace || !st->r_score || !st->f_score || !st->m_score || !st->rfm_segment ||
        !st->rfm_total || !st->rfm_cell) {
        rc = sgs_error_set(err, SGS_ENOMEM, "rfm: no memory for %zu customers", n);
        goto cleanup;
    }
    /* Money is ranked in millionths (sgs_money_key, kernels/base_totals.h). */
    int monetary = strcmp(st->req->config->rfm_monetary, "mean") == 0 ? SGS_RFM_MONETARY_MEAN
                                                                      : SGS_RFM_MONETARY_TOTAL;
    for (int k = 0; k < 3 && rc == SGS_OK; k++) {
        int measure = k == 0 ? SGS_RFM_RECENCY : k == 1 ? SGS_RFM_FREQUENCY : monetary;
        rc = sgs_rfm_measure_values(s, n, measure, &st->exec, values, err);
        uint8_t *out = k == 0 ? st->r_score : k == 1 ? st->f_score : st->m_score;
        if (rc == SGS_OK)
            rc = sgs_rfm_score(&st->exec, values, n, k != 0, bins, workspace, out, err);
    }
    if (rc != SGS_OK)
        goto cleanup;
    sgs_rfm_segments(&st->exec, st->r_score, st->f_score, st->m_score, n, bins, st->rfm_segment,
                     st->rfm_cell, st->rfm_total);
    rc = sgs_category_totals(n, st->rfm_segment, SGS_RFM_SEGMENT_COUNT, s->total_spend,
                             st->segment_customers, st->segment_revenue, err);
    if (rc != SGS_OK)
        goto cleanup;
    sgs_progress_end(st->req->progress, "%d bins, %zu Champions, %zu At risk", bins,
                     st->segment_customers[SGS_RFM_CHAMPIONS],
                     st->segment_customers[SGS_RFM_AT_RISK]);
cleanup:
    sgs_free(values);
    sgs_free(workspace);
    return rc;
}

/* ---- the run ----------------------------------------------------------------------------- */

/* Between steps: the test hook's pause point (engine/interrupt.h), then stop if a signal came. */
static int checkpoint(const char *step, sgs_error_t *err)
{
    char before[48];
    snprintf(before, sizeof before, "before the %s step", step);
    return sgs_interrupt_checkpoint(step, before, err);
}

static void free_state(sgs_run_state_t *st)
{
    sgs_grouped_free(&st->grouped);
    sgs_summary_free(&st->summary);
    sgs_free(st->customer_id);
    sgs_free(st->r_score);
    sgs_free(st->f_score);
    sgs_free(st->m_score);
    sgs_free(st->rfm_segment);
    sgs_free(st->rfm_total);
    sgs_free(st->rfm_cell);
    sgs_free(st->p_alive);
    sgs_free(st->expected_purchases);
    sgs_free(st->prob_no_purchase);
    sgs_free(st->expected_spend);
    sgs_free(st->clv);
    sgs_free(st->p_buy);
    sgs_backtest_free(&st->backtest);
    sgs_free(st->segment);
    sgs_free(st->segment_distance);
    sgs_free(st->centroids);
    sgs_free(st->centroids_original);
    sgs_free(st->profile_mean);
    sgs_free(st->profile_median);
    sgs_free(st->profile_size);
    sgs_free(st->profile_revenue_share);
    sgs_free(st->profile_clv_share);
    sgs_free(st->profile_rfm_mix);
    sgs_free(st->profile_label);
    sgs_run_actions_free(st);
}

int sgs_run(const sgs_run_request_t *req, sgs_error_t *err)
{
    sgs_run_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the run state");
    st->req = req;
    st->exec.n_threads = req->config->threads > 0 ? req->config->threads : omp_get_num_procs();
    /* SGS_THREAD_GRAIN: items per thread below which a loop runs on fewer threads (kernels/
     * core.h); the determinism tests set 1 so that small inputs still use every thread. */
    const char *grain = getenv("SGS_THREAD_GRAIN");
    st->exec.grain = grain ? (size_t)strtoull(grain, NULL, 10) : 0;
    st->days_per_unit = sgs_config_days_per_unit(req->config);
    sgs_transactions_t tx = {0};
    /* Before any work: the output paths, the lock, what a stopped run left. */
    int rc = sgs_run_publish_open(st, err);
    if (rc == SGS_OK)
        rc = checkpoint("read", err);
    if (rc == SGS_OK)
        rc = step_read(st, &tx, err);
    if (rc == SGS_OK)
        rc = checkpoint("group", err);
    if (rc == SGS_OK)
        rc = step_group(st, &tx, err);
    if (rc == SGS_OK)
        rc = checkpoint("summarize", err);
    if (rc == SGS_OK)
        rc = step_summarize(st, err);
    if (rc == SGS_OK)
        rc = checkpoint("rfm", err);
    if (rc == SGS_OK)
        rc = step_rfm(st, err);
    if (rc == SGS_OK)
        rc = checkpoint("value", err);
    if (rc == SGS_OK)
        rc = sgs_run_value(st, err);
    if (rc == SGS_OK)
        rc = checkpoint("segments", err);
    if (rc == SGS_OK)
        rc = sgs_run_segments(st, err);
    if (rc == SGS_OK)
        rc = checkpoint("actions", err);
    if (rc == SGS_OK)
        rc = sgs_run_actions(st, err);
    if (rc == SGS_OK)
        rc = checkpoint("write", err);
    if (rc == SGS_OK)
        rc = sgs_run_publish(st, err);
    sgs_run_publish_close(st);
    sgs_transactions_free(&tx);
    free_state(st);
    free(st);
    return rc;
}
