/*
 * engine/report_figures.c — see report_figures.h.
 */
#include "engine/report_figures.h"

#include "engine/run_state.h"
#include "kernels/value_concentration.h"

#include <string.h>

const double sgs_report_top_percent[SGS_REPORT_TOP_POINTS] = {0,  1,  2,  5,  10, 20, 30,
                                                              40, 50, 60, 70, 80, 90, 100};

void sgs_report_figures_begin(const sgs_run_state_t *st, sgs_report_figures_t *f)
{
    const int bins = st->req->config->rfm_bins;
    memset(f, 0, sizeof *f);
    f->has_grid = bins >= 1 && bins <= SGS_REPORT_GRID_MAX_BINS && st->summary.n_all > 0;
}

/* The sums per RFM segment and the RFM grid, in one pass over the customers. */
void sgs_report_figures_add(const sgs_run_state_t *st, sgs_report_figures_t *f)
{
    const uint8_t *segment = st->rfm.rfm_segment;
    const sgs_summary_t *s = &st->summary.columns;
    const int value = st->value.ran, bins = st->req->config->rfm_bins;
    const double unlikely = st->req->config->actions.stages.lapsed_p_buy;
    for (size_t c = 0; c < st->summary.n_customers; c++) {
        f->days_since_last_sum[segment[c]] += s->days_since_last[c];
        f->purchase_days_sum[segment[c]] += s->n_purchase_days[c];
        if (value) {
            f->clv_sum[segment[c]] += st->value.clv[c];
            f->p_buy_sum[segment[c]] += st->value.p_buy[c];
            f->n_unlikely[segment[c]] += st->value.p_buy[c] < unlikely;
        }
        int r = st->rfm.r_score[c], fs = st->rfm.f_score[c];
        if (!f->has_grid || r < 1 || r > bins || fs < 1 || fs > bins)
            continue;
        /* rows: recency score from the highest (most recent) down */
        size_t cell = (size_t)(bins - r) * (size_t)bins + (size_t)(fs - 1);
        f->grid_customers[cell] += 1;
        f->grid_revenue[cell] += s->total_spend[c];
    }
}

int sgs_report_figures_value_wanted(const sgs_run_state_t *st)
{
    return st->value.ran && strcmp(st->req->config->report_html, "none") != 0;
}

int sgs_report_value_parts_begin(const sgs_run_state_t *st, sgs_report_value_parts_t *p,
                                 sgs_error_t *err)
{
    p->count = sgs_calloc_array(SGS_VALUE_BINS, sizeof *p->count);
    p->sum = sgs_calloc_array(SGS_VALUE_BINS, sizeof *p->sum);
    p->fr = sgs_calloc_array(1, sizeof *p->fr);
    if (!p->count || !p->sum || !p->fr)
        return sgs_error_set(err, SGS_ENOMEM, "the report's figures: no memory for %zu bins",
                             SGS_VALUE_BINS);
    return sgs_fr_grid_count(p->fr, st->summary.columns.frequency, st->summary.columns.age_days,
                             st->summary.n_customers, st->summary.first, err);
}

void sgs_report_value_parts_free(sgs_report_value_parts_t *p)
{
    sgs_free(p->count);
    sgs_free(p->sum);
    sgs_free(p->fr);
    *p = (sgs_report_value_parts_t){NULL, NULL, NULL};
}

int sgs_report_figures_value_finish(const sgs_run_state_t *st, const sgs_report_value_parts_t *p,
                                    sgs_report_figures_t *f, sgs_error_t *err)
{
    double fraction[SGS_REPORT_TOP_POINTS];
    for (size_t j = 0; j < SGS_REPORT_TOP_POINTS; j++)
        fraction[j] = sgs_report_top_percent[j] / 100;
    int rc =
        sgs_value_bins_shares(p->count, p->sum, st->summary.n_all, fraction, SGS_REPORT_TOP_POINTS,
                              f->top_share, &f->clv_positive_total, err);
    if (rc != SGS_OK)
        return rc;
    f->has_top_shares = 1;
    if (st->summary.n_all == 0)
        return SGS_OK;
    const sgs_run_value_t *v = &st->value;
    rc = sgs_fr_grid_from_counts(v->model, v->model_fit.params, v->horizon, p->fr,
                                 st->days_per_unit, &f->fr_grid, err);
    f->has_fr_grid = rc == SGS_OK;
    return rc;
}

int sgs_report_figures_compute(const sgs_run_state_t *st, sgs_report_figures_t *f, sgs_error_t *err)
{
    sgs_report_figures_begin(st, f);
    sgs_report_figures_add(st, f);
    if (!sgs_report_figures_value_wanted(st))
        return SGS_OK;
    sgs_report_value_parts_t parts = {NULL, NULL, NULL};
    int rc = sgs_report_value_parts_begin(st, &parts, err);
    if (rc == SGS_OK) {
        sgs_value_bins_add(st->value.clv, st->summary.n_customers, parts.count, parts.sum);
        rc = sgs_report_figures_value_finish(st, &parts, f, err);
    }
    sgs_report_value_parts_free(&parts);
    return rc;
}
