/*
 * engine/run.c — the order of a nightly run: read, group, summarize, rfm, value, segments,
 * actions, publish. Each step is a function over the run state (engine/run_state.h) that
 * fills its own member of it; read and group are here, the others one file each
 * (engine/run_summary.c, run_rfm.c, run_value.c, run_segments.c, run_actions.c).
 */
#include "engine/run_state.h"

#include "engine/dist_run.h"
#include "engine/group_transactions.h"
#include "engine/interrupt.h"
#include "engine/run_actions.h"
#include "io/direct_file.h"
#include "kernels/dates.h"

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
    opt.stop = st->dist.size == 1 ? sgs_interrupt_stop : NULL; /* spread: between steps only */
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
    /* spread: each process reads a share, then holds the rows of its customers */
    int rc = st->dist.size > 1
                 ? sgs_dist_run_read(st, &opt, tx, err)
                 : sgs_h5_read_transactions(st->req->input_path, &opt, tx, &st->read.tx_stats, err);
    size_t n_rows = tx->n_rows; /* kept, of every process */
    if (rc == SGS_OK)
        sgs_dist_run_sum_sizes(&st->dist, &n_rows, 1);
    if (rc == SGS_OK && n_rows == 0)
        rc = sgs_error_set(err, SGS_EDATA,
                           "%s: /transactions: no rows on or before the as-of date %s",
                           st->req->input_path, cfg->as_of);
    if (rc == SGS_OK)
        rc = sgs_h5_input_identity(st->req->input_path, &st->read.tx_stats, st->read.input_identity,
                                   sizeof st->read.input_identity, err);
    if (rc != SGS_OK)
        return rc;
    int64_t as_of_day = opt.has_as_of ? opt.as_of_end_s / SGS_SECONDS_PER_DAY - 1
                                      : sgs_day_of(st->read.tx_stats.max_time_s);
    st->read.as_of_day = (int32_t)as_of_day;
    sgs_date_format_day(as_of_day, st->read.as_of_text, sizeof st->read.as_of_text);
    sgs_progress_end(st->req->progress, "%zu rows (%zu after the as-of date %s left out)", n_rows,
                     st->read.tx_stats.n_rows_after_as_of, st->read.as_of_text);
    return SGS_OK;
}

/* ---- group ---------------------------------------------------------------------------- */

void sgs_run_group_free(sgs_run_group_t *g)
{
    if (!g)
        return;
    sgs_grouped_free(&g->rows);
    g->sorted_input_skipped = 0;
}

static int step_group(sgs_run_state_t *st, sgs_transactions_t *tx, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "group");
    /* a spread run's rows came from every process: in file order within a customer only */
    int sorted = st->read.tx_stats.sorted_by_customer && st->dist.size == 1;
    int rc = SGS_OK;
    if (tx->n_rows > 0 || st->dist.size == 1) /* a process of a spread run may own none */
        rc = sgs_group_transactions(&st->exec, tx, sorted ? SGS_ORDER_SORTED : SGS_ORDER_SCATTERED,
                                    &st->group.rows, &st->group.sorted_input_skipped, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        return rc;
    if (st->dist.size > 1) /* what one process would say: the file is sorted */
        st->group.sorted_input_skipped = st->read.tx_stats.sorted_by_customer;
    st->held.n_transaction_rows = st->group.rows.n_rows;
    size_t counts[2] = {st->group.rows.n_rows, st->group.rows.n_customers};
    sgs_dist_run_sum_sizes(&st->dist, counts, 2);
    st->group.n_rows_used = counts[0];
    sgs_progress_end(st->req->progress, "%zu customers%s", counts[1],
                     st->group.sorted_input_skipped ? " (input already sorted: no sort needed)"
                                                    : "");
    return SGS_OK;
}

/* ---- the run ----------------------------------------------------------------------------- */

/* output.compare_summary, read before any work so that a wrong path or file fails at once. */
static int read_previous_summary(sgs_run_state_t *st, sgs_error_t *err)
{
    const char *path = st->req->config->compare_summary;
    if (!path[0])
        return SGS_OK;
    int rc = sgs_previous_summary_read(path, &st->previous, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "output.compare_summary");
        return rc;
    }
    st->has_previous = 1;
    return SGS_OK;
}

/* Between steps, after the last one's outcome rc: the test hook's pause point
 * (engine/interrupt.h), then stop if a signal came. In a spread run every process passes here,
 * whatever its rc, and the outcome is agreed: a step that failed on one process alone after its
 * last collective call, or a signal to one process, stops every process. */
static int checkpoint(const sgs_run_state_t *st, const char *step, int rc, sgs_error_t *err)
{
    char before[48];
    snprintf(before, sizeof before, "before the %s step", step);
    if (rc == SGS_OK)
        rc = sgs_interrupt_checkpoint(step, before, err);
    return sgs_dist_run_agree(st, rc, err);
}

/* After the customer outputs are written and the reports' figures made from the columns
 * (sgs_run_publish_customers): the columns no later step reads, about 120 bytes per customer,
 * go back before the actions step takes its memory (docs/benchmarks.md). The rest stays for
 * the actions step, which frees it once copied (engine/run_events.c). */
static void release_written_columns(sgs_run_state_t *st)
{
    sgs_summary_t *s = &st->summary.columns;
    SGS_RUN_RELEASE(s->has_purchase);
    SGS_RUN_RELEASE(s->first_day);
    SGS_RUN_RELEASE(s->last_day);
    SGS_RUN_RELEASE(s->mean_spend);
    SGS_RUN_RELEASE(s->monetary);
    SGS_RUN_RELEASE(s->refund_total);
    SGS_RUN_RELEASE(s->n_refunds);
    SGS_RUN_RELEASE(s->n_cancelled_days);
    SGS_RUN_RELEASE(s->gap_mean_days);
    SGS_RUN_RELEASE(s->gap_sd_days);
    SGS_RUN_RELEASE(s->age_days);
    SGS_RUN_RELEASE(s->days_since_last);
    SGS_RUN_RELEASE(s->n_purchase_days);
    SGS_RUN_RELEASE(s->total_spend);
    SGS_RUN_RELEASE(st->rfm.r_score);
    SGS_RUN_RELEASE(st->rfm.f_score);
    SGS_RUN_RELEASE(st->rfm.m_score);
    SGS_RUN_RELEASE(st->rfm.rfm_total);
    SGS_RUN_RELEASE(st->rfm.rfm_cell);
    SGS_RUN_RELEASE(st->value.p_alive);
    SGS_RUN_RELEASE(st->value.expected_purchases);
    SGS_RUN_RELEASE(st->value.expected_spend);
    SGS_RUN_RELEASE(st->segments.segment_distance);
}

/* Each step's result freed by its own free, the last step's first. */
static void free_state(sgs_run_state_t *st)
{
    sgs_run_actions_free(st->actions);
    st->actions = NULL;
    sgs_run_segments_free(&st->segments);
    sgs_run_value_free(&st->value);
    sgs_run_rfm_free(&st->rfm);
    sgs_run_summary_free(&st->summary);
    sgs_run_group_free(&st->group);
    sgs_dist_owners_free(&st->owners);
}

int sgs_run(const sgs_run_request_t *req, sgs_error_t *err)
{
    sgs_run_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the run state");
    st->req = req;
    st->dist = req->dist ? *req->dist : (sgs_dist_t){0, 1};
    sgs_run_summary_init(&st->summary);
    sgs_run_rfm_init(&st->rfm);
    sgs_run_value_init(&st->value);
    sgs_run_segments_init(&st->segments);
    st->exec.n_threads = req->config->threads > 0 ? req->config->threads : omp_get_num_procs();
    /* SGS_THREAD_GRAIN: items per thread below which a loop runs on fewer threads (kernels/
     * core.h); the determinism tests set 1 so that small inputs still use every thread. */
    const char *grain = getenv("SGS_THREAD_GRAIN");
    st->exec.grain = grain ? (size_t)strtoull(grain, NULL, 10) : 0;
    st->days_per_unit = sgs_config_days_per_unit(req->config);
    sgs_direct_io_enable(req->config->direct_io);
    sgs_transactions_t tx = {0};
    /* Before any work: the output paths, the lock, what a stopped run left. */
    int rc = sgs_run_publish_open(st, err);
    if (rc == SGS_OK)
        rc = read_previous_summary(st, err);
    rc = checkpoint(st, "read", rc, err);
    if (rc == SGS_OK)
        rc = step_read(st, &tx, err);
    rc = checkpoint(st, "group", rc, err);
    if (rc == SGS_OK)
        rc = step_group(st, &tx, err);
    rc = checkpoint(st, "summarize", rc, err);
    if (rc == SGS_OK)
        rc = sgs_run_summarize(st, err);
    rc = checkpoint(st, "rfm", rc, err);
    if (rc == SGS_OK)
        rc = sgs_run_rfm(st, err);
    rc = checkpoint(st, "value", rc, err);
    if (rc == SGS_OK)
        rc = sgs_run_value(st, err);
    /* results.h5's part of the models goes to disk while the segment step computes */
    if (rc == SGS_OK)
        rc = sgs_run_publish_models(st, err);
    rc = checkpoint(st, "segments", rc, err);
    if (rc == SGS_OK)
        rc = sgs_run_segments(st, err);
    rc = checkpoint(st, "write-customers", rc, err);
    /* The customer outputs are written now, so that the columns only they read go before the
     * actions step (a spread run: every process its rows, engine/run_publish.c). */
    if (rc == SGS_OK) {
        rc = sgs_run_publish_customers(st, err);
        if (rc == SGS_OK)
            release_written_columns(st);
    }
    rc = checkpoint(st, "actions", rc, err);
    if (rc == SGS_OK && req->config->actions_enabled)
        rc = sgs_run_actions(st, err);
    /* The rows read and grouped are not written: their memory goes back before the write
     * step, whose page cache then takes pages this process has touched already (fresh memory
     * is the slowest thing on these machines: DESIGN.md "Scale"), and the write step's peak
     * is lower by them. */
    if (rc == SGS_OK) {
        sgs_transactions_free(&tx);
        sgs_grouped_free(&st->group.rows);
    }
    rc = checkpoint(st, "write", rc, err);
    if (rc == SGS_OK)
        rc = sgs_run_publish(st, err);
    sgs_run_publish_close(st);
    sgs_transactions_free(&tx);
    free_state(st);
    free(st);
    return rc;
}
