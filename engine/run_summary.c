/*
 * engine/run_summary.c — the summarize step: one pass per customer over the grouped rows
 * (kernels/summary.h), then only the customers with a purchase occasion kept, and the
 * counts and revenue totals over the base (kernels/base_totals.h). Fills st->summary
 * (engine/run_summary.h). In a spread run each process summarizes its own customers and the
 * counts and totals are summed over the processes (exact sums: the same bits as one process).
 */
#include "engine/run_state.h"

#include "engine/dist_run.h"
#include "kernels/base_totals.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- the result ------------------------------------------------------------------------- */

void sgs_run_summary_init(sgs_run_summary_t *s)
{
    memset(s, 0, sizeof *s);
}

void sgs_run_summary_free(sgs_run_summary_t *s)
{
    if (!s)
        return;
    sgs_summary_free(&s->columns);
    sgs_free(s->customer_id);
    sgs_run_summary_init(s);
}

/* ---- summarize -------------------------------------------------------------------------- */

/* Keep customers with at least one purchase: compact every summary column in place. */
static int keep_buyers(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_run_summary_t *out = &st->summary; /* this step's result */
    sgs_summary_t *s = &out->columns;
    const sgs_grouped_t *g = &st->group.rows;
    size_t n_all = g->n_customers, k = 0;
    out->customer_id = sgs_alloc_array(n_all, sizeof *out->customer_id);
    if (!out->customer_id)
        return sgs_error_set(err, SGS_ENOMEM, "summary: no memory for %zu ids", n_all);
    for (size_t c = 0; c < n_all; c++) {
        if (!s->has_purchase[c])
            continue;
        out->customer_id[k] = g->customer_id[c];
        if (k != c)
            sgs_summary_copy_row(s, k, c);
        k++;
    }
    out->n_customers = k;
    out->n_no_purchase = n_all - k;
    s->n_customers = k;
    return SGS_OK;
}

int sgs_run_summarize(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_run_summary_t *out = &st->summary; /* this step's result */
    sgs_progress_begin(st->req->progress, "summarize");
    const sgs_grouped_t *g = &st->group.rows;
    int rc = sgs_summary_alloc(&out->columns, g->n_customers);
    if (rc != SGS_OK)
        rc = sgs_error_set(err, rc, "summary: no memory for %zu customers", g->n_customers);
    if (rc == SGS_OK)
        rc = sgs_summarize(&st->exec, g, st->read.as_of_day, &out->columns, err);
    if (rc == SGS_EDATA) /* a customer's spend overflows: say in which file */
        sgs_error_prefix(err, "%s: /transactions", st->req->input_path);
    /* Totals over every customer, those left out included: their refunds are revenue lost
     * (kernels/base_totals.h). */
    sgs_spend_totals_t all, buyers;
    sgs_exact_sum_t sums[4]; /* revenue and magnitude of all, revenue and magnitude of buyers */
    if (rc == SGS_OK) {
        sgs_spend_sums(&out->columns, g->n_customers, &st->exec, &sums[0], &sums[1], &all);
        rc = keep_buyers(st, err);
    }
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        return rc;
    sgs_spend_sums(&out->columns, out->n_customers, &st->exec, &sums[2], &sums[3], &buyers);
    sgs_amount_signs(g->n_rows, g->amount, &st->exec, &out->n_refund_rows,
                     &out->n_zero_amount_rows);
    size_t counts[] = {all.n_cancelled_days, out->n_no_purchase,      buyers.n_nonpositive,
                       out->n_refund_rows,   out->n_zero_amount_rows, g->n_rows,
                       out->n_customers};
    sgs_dist_run_sum_sizes(&st->dist, counts, sizeof counts / sizeof counts[0]);
    sgs_dist_run_exact_sums(&st->dist, sums, 4);
    out->n_cancelled_days = counts[0];
    out->n_no_purchase = counts[1];
    out->n_nonpositive_net = counts[2];
    out->n_refund_rows = counts[3];
    out->n_zero_amount_rows = counts[4];
    out->n_purchase_rows = counts[5] - out->n_refund_rows;
    out->n_all = counts[6];
    out->first = st->dist.size > 1 ? (size_t)sgs_dist_offset(&st->dist, out->n_customers) : 0;
    /* Every total of spend over customers (revenue, per segment, per profile, of buyers) is at
     * most this sum of magnitudes, in any order: when it is finite, so are they all. */
    if (!isfinite(sgs_exact_sum_value(&sums[1])))
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /transactions: the customers' net spend adds up beyond the "
                             "largest number a double holds (%.3g): revenue totals would be "
                             "infinite; are the amounts in the right unit?",
                             st->req->input_path, DBL_MAX);
    out->revenue_total = sgs_exact_sum_value(&sums[0]);
    out->revenue_buyers = sgs_exact_sum_value(&sums[2]);
    if (out->n_all == 0)
        return sgs_error_set(err, SGS_EDATA, "%s: /transactions: no customer has a purchase",
                             st->req->input_path);
    sgs_progress_end(st->req->progress,
                     "%zu customers with purchases, %zu without a purchase occasion (refunds or "
                     "same-day cancellations only), %zu purchase days cancelled the same day",
                     out->n_all, out->n_no_purchase, out->n_cancelled_days);
    return SGS_OK;
}
