/*
 * engine/run_rfm.c — the RFM step: recency, frequency and monetary scores of every customer
 * of the summary by equal-frequency ranks, their named segments and cells, and customers
 * and revenue per segment (kernels/rfm.h). Fills st->rfm (engine/run_rfm.h). In a spread run
 * the cuts are selected among every process's customers (engine/dist_select.h) and the
 * per-segment counts and revenue summed over the processes.
 */
#include "engine/run_state.h"

#include "engine/dist_run.h"
#include "engine/dist_select.h"
#include "kernels/base_totals.h"

#include <string.h>

/* ---- the result ------------------------------------------------------------------------- */

void sgs_run_rfm_init(sgs_run_rfm_t *r)
{
    memset(r, 0, sizeof *r);
}

void sgs_run_rfm_free(sgs_run_rfm_t *r)
{
    if (!r)
        return;
    sgs_free(r->r_score);
    sgs_free(r->f_score);
    sgs_free(r->m_score);
    sgs_free(r->rfm_segment);
    sgs_free(r->rfm_total);
    sgs_free(r->rfm_cell);
    sgs_run_rfm_init(r);
}

/* ---- score: RFM ------------------------------------------------------------------------- */

int sgs_run_rfm(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_run_rfm_t *r = &st->rfm; /* this step's result */
    sgs_progress_begin(st->req->progress, "rfm");
    size_t n = st->summary.n_customers;
    const sgs_summary_t *s = &st->summary.columns;
    int bins = st->req->config->rfm_bins;
    int rc = SGS_OK;
    double *values = sgs_alloc_array(n, sizeof *values);
    void *workspace = sgs_alloc_array(sgs_rfm_workspace_size(n), 1);
    r->r_score = sgs_alloc_array(n, 1);
    r->f_score = sgs_alloc_array(n, 1);
    r->m_score = sgs_alloc_array(n, 1);
    r->rfm_segment = sgs_alloc_array(n, 1);
    r->rfm_total = sgs_alloc_array(n, 1);
    r->rfm_cell = sgs_alloc_array(n, sizeof *r->rfm_cell);
    sgs_exact_sum_t revenue[SGS_RFM_SEGMENT_COUNT];
    if (!values || !workspace || !r->r_score || !r->f_score || !r->m_score || !r->rfm_segment ||
        !r->rfm_total || !r->rfm_cell)
        rc = sgs_error_set(err, SGS_ENOMEM, "rfm: no memory for %zu customers", n);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    /* Money is ranked in millionths (sgs_money_key, kernels/base_totals.h). */
    int monetary = strcmp(st->req->config->rfm_monetary, "mean") == 0 ? SGS_RFM_MONETARY_MEAN
                                                                      : SGS_RFM_MONETARY_TOTAL;
    for (int k = 0; k < 3 && rc == SGS_OK; k++) {
        int measure = k == 0 ? SGS_RFM_RECENCY : k == 1 ? SGS_RFM_FREQUENCY : monetary;
        rc = sgs_dist_run_agree(st, sgs_rfm_measure_values(s, n, measure, &st->exec, values, err),
                                err);
        uint8_t *out = k == 0 ? r->r_score : k == 1 ? r->f_score : r->m_score;
        if (rc == SGS_OK && st->dist.size > 1) /* cuts among every process's customers */
            rc = sgs_dist_rfm_score(&st->dist, &st->exec, values, n, k != 0, bins, out, err);
        else if (rc == SGS_OK)
            rc = sgs_rfm_score(&st->exec, values, n, k != 0, bins, workspace, out, err);
    }
    if (rc != SGS_OK)
        goto cleanup;
    sgs_rfm_segments(&st->exec, r->r_score, r->f_score, r->m_score, n, bins, r->rfm_segment,
                     r->rfm_cell, r->rfm_total);
    rc = sgs_category_sums(n, r->rfm_segment, SGS_RFM_SEGMENT_COUNT, s->total_spend,
                           r->segment_customers, revenue, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    sgs_dist_run_sum_sizes(&st->dist, r->segment_customers, SGS_RFM_SEGMENT_COUNT);
    sgs_dist_run_exact_sums(&st->dist, revenue, SGS_RFM_SEGMENT_COUNT);
    for (int j = 0; j < SGS_RFM_SEGMENT_COUNT; j++)
        r->segment_revenue[j] = sgs_exact_sum_value(&revenue[j]);
    sgs_progress_end(st->req->progress, "%d bins, %zu Champions, %zu At risk", bins,
                     r->segment_customers[SGS_RFM_CHAMPIONS],
                     r->segment_customers[SGS_RFM_AT_RISK]);
cleanup:
    sgs_free(values);
    sgs_free(workspace);
    return rc;
}
