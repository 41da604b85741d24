/*
 * engine/dist_run.c — the glue of a run spread over processes (engine/dist_run.h,
 * docs/mpi.md): agreement, sums over the processes, the spread read.
 */
#include "engine/dist_run.h"

#include "engine/dist_input.h"
#include "engine/interrupt.h"
#include "engine/run_state.h"

#include <stdio.h>
#include <string.h>

/* ---- Agreement and sums over the processes ----------------------------------------------- */

int sgs_dist_run_agree(const sgs_run_state_t *st, int rc, sgs_error_t *err)
{
    return st->dist.size > 1 ? sgs_dist_agree(&st->dist, rc, err) : rc;
}

void sgs_dist_run_sum_sizes(const sgs_dist_t *d, size_t *values, size_t n)
{
    enum { CHUNK = 16 };
    for (size_t i = 0; d->size > 1 && i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        int64_t v[CHUNK];
        for (size_t j = 0; j < m; j++)
            v[j] = (int64_t)values[i + j];
        sgs_dist_reduce_i64(d, v, m, SGS_DIST_SUM);
        for (size_t j = 0; j < m; j++)
            values[i + j] = (size_t)v[j];
    }
}

int32_t sgs_dist_run_min_i32(const sgs_dist_t *d, int32_t v)
{
    int64_t m = v;
    if (d->size > 1)
        sgs_dist_reduce_i64(d, &m, 1, SGS_DIST_MIN);
    return (int32_t)m;
}

/* Each accumulator carried (every digit in [0, 2^32)), then its digits and counts added over
 * the processes: the merge of kernels/exact_sum.h, made by an integer sum. */
void sgs_dist_run_exact_sums(const sgs_dist_t *d, sgs_exact_sum_t *s, size_t k)
{
    enum { WORDS = SGS_EXACT_SUM_DIGITS + 3 };
    for (size_t j = 0; d->size > 1 && j < k; j++) {
        int64_t w[WORDS];
        sgs_exact_sum_carry(&s[j]);
        memcpy(w, s[j].digit, sizeof s[j].digit);
        w[SGS_EXACT_SUM_DIGITS] = s[j].n_nan;
        w[SGS_EXACT_SUM_DIGITS + 1] = s[j].n_pos_inf;
        w[SGS_EXACT_SUM_DIGITS + 2] = s[j].n_neg_inf;
        sgs_dist_reduce_i64(d, w, WORDS, SGS_DIST_SUM);
        memcpy(s[j].digit, w, sizeof s[j].digit);
        s[j].n_nan = w[SGS_EXACT_SUM_DIGITS];
        s[j].n_pos_inf = w[SGS_EXACT_SUM_DIGITS + 1];
        s[j].n_neg_inf = w[SGS_EXACT_SUM_DIGITS + 2];
        /* each digit grew by less than `size` terms' worth: carry before the next add */
        sgs_exact_sum_carry(&s[j]);
    }
}

/* ---- A fit's time limit ------------------------------------------------------------------ */

int sgs_dist_run_fit_time_up(void *ctx, double elapsed_s, double limit_s)
{
    const sgs_dist_t *d = ctx;
    int64_t up = d->rank == 0 && elapsed_s >= limit_s; /* the others add nothing */
    sgs_dist_reduce_i64(d, &up, 1, SGS_DIST_SUM);
    return up != 0;
}

int sgs_dist_run_fit_stop(void *ctx, sgs_error_t *err)
{
    static const sgs_stop_point_t during_fit = {"fit", "during a model fit"};
    return sgs_dist_agree(ctx, sgs_interrupt_stop((void *)&during_fit, err), err);
}

/* ---- Read -------------------------------------------------------------------------------- */

int sgs_dist_run_read(sgs_run_state_t *st, const sgs_read_options_t *opt, sgs_transactions_t *tx,
                      sgs_error_t *err)
{
    return sgs_dist_read_transactions(&st->dist, &st->exec, st->req->input_path, opt, tx,
                                      &st->read.tx_stats, &st->owners, err);
}

/* ---- Process 0's view of the state ------------------------------------------------------- */

/* Where the per-customer columns of a run's state are: what process 0's view of the state at
 * the end leaves out. */
static size_t state_columns(sgs_run_state_t *st, void ***out)
{
    sgs_summary_t *s = &st->summary.columns;
    sgs_run_rfm_t *r = &st->rfm;
    sgs_run_value_t *v = &st->value;
    sgs_run_segments_t *g = &st->segments;
    size_t n = 0;
#define SLOT(member) (out[n++] = (void **)&(member))
    SLOT(st->summary.customer_id);
    SLOT(s->has_purchase);
    SLOT(s->first_day);
    SLOT(s->last_day);
    SLOT(s->n_purchase_days);
    SLOT(s->frequency);
    SLOT(s->recency_days);
    SLOT(s->age_days);
    SLOT(s->days_since_last);
    SLOT(s->total_spend);
    SLOT(s->mean_spend);
    SLOT(s->monetary);
    SLOT(s->refund_total);
    SLOT(s->n_refunds);
    SLOT(s->n_cancelled_days);
    SLOT(s->gap_mean_days);
    SLOT(s->gap_sd_days);
    SLOT(s->main_channel);
    SLOT(r->r_score);
    SLOT(r->f_score);
    SLOT(r->m_score);
    SLOT(r->rfm_segment);
    SLOT(r->rfm_total);
    SLOT(r->rfm_cell);
    if (v->ran) {
        SLOT(v->p_alive);
        SLOT(v->expected_purchases);
        SLOT(v->prob_no_purchase);
        SLOT(v->expected_spend);
        SLOT(v->clv);
        SLOT(v->p_buy);
    }
    if (g->ran) {
        SLOT(g->segment);
        SLOT(g->segment_distance);
    }
#undef SLOT
    return n;
}

enum { MAX_COLUMNS = 32 };

int sgs_dist_run_whole_view(const sgs_run_state_t *st, sgs_run_state_t **view, sgs_error_t *err)
{
    *view = NULL;
    if (st->dist.rank != 0)
        return SGS_OK;
    sgs_run_state_t *w = sgs_alloc_array(1, sizeof *w);
    if (!w)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the run's figures");
    *w = *st;
    void **col[MAX_COLUMNS];
    size_t n_columns = state_columns(w, col);
    for (size_t k = 0; k < n_columns; k++)
        *col[k] = NULL;
    w->dist = (sgs_dist_t){0, 1};
    w->summary.n_customers = st->summary.n_all;
    w->summary.columns.n_customers = st->summary.n_all;
    w->summary.first = 0;
    w->value.backtest.p_buy_at_end = NULL; /* freed by the actions step */
    *view = w;
    return SGS_OK;
}

/* ---- Each process's figures -------------------------------------------------------------- */

int sgs_dist_run_processes(const sgs_run_state_t *st, sgs_run_process_t **out, sgs_error_t *err)
{
    *out = NULL;
    const sgs_dist_t *d = &st->dist;
    if (d->size <= 1)
        return SGS_OK;
    sgs_run_process_t mine;
    memset(&mine, 0, sizeof mine); /* every byte defined: they are sent */
    mine.rank = d->rank;
    mine.n_buyers = (int64_t)st->summary.n_customers;
    mine.n_transaction_rows = (int64_t)st->held.n_transaction_rows;
    mine.actions_ran = st->held.actions_ran;
    mine.n_customers = (int64_t)st->held.n_customers;
    mine.n_customer_rows = (int64_t)st->held.n_customer_rows;
    mine.n_event_rows = (int64_t)st->held.n_event_rows;
    const sgs_progress_t *p = st->req->progress;
    size_t n_steps = p->n_steps < SGS_PROGRESS_MAX_STEPS ? p->n_steps : SGS_PROGRESS_MAX_STEPS;
    memcpy(mine.steps, p->steps, n_steps * sizeof mine.steps[0]);
    mine.steps[n_steps] = sgs_progress_so_far(p);
    mine.n_steps = (int64_t)n_steps + 1;
    mine.bytes_sent = (int64_t)sgs_dist_bytes_sent();
    mine.peak_rss_mb = sgs_peak_rss_mb();
    size_t *sent = sgs_calloc_array((size_t)d->size, sizeof *sent);
    size_t *received = sgs_alloc_array((size_t)d->size, sizeof *received);
    int rc = !sent || !received
                 ? sgs_error_set(err, SGS_ENOMEM, "no memory for the processes' figures")
                 : SGS_OK;
    rc = sgs_dist_agree(d, rc, err);
    void *recv = NULL;
    if (rc == SGS_OK) {
        sent[0] = sizeof mine; /* to process 0 alone */
        rc = sgs_dist_exchange(d, &mine, sent, &recv, received, err);
    }
    sgs_free(sent);
    sgs_free(received);
    if (rc != SGS_OK)
        return rc;
    if (d->rank == 0)
        *out = recv;
    else
        sgs_free(recv);
    return SGS_OK;
}
