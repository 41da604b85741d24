/*
 * engine/report_figures.h — what the reports (report.txt, report.html) show of the customer
 * columns, made right after the customer outputs are written (engine/run_publish.c): the
 * columns they come from are then freed before the actions step takes its memory
 * (engine/run.c), and the reports, written at the end, read only these figures. Internal to
 * engine/.
 */
#ifndef SGS_REPORT_FIGURES_H
#define SGS_REPORT_FIGURES_H

#include "kernels/frequency_recency_grid.h"
#include "kernels/rfm.h"

#include <stddef.h>

struct sgs_run_state;

#define SGS_REPORT_GRID_MAX_BINS 10 /* the RFM grid chart: up to 10 x 10 scores */
#define SGS_REPORT_TOP_POINTS 14    /* the CLV concentration chart's points */

/* The top shares of customers (percent) the CLV concentration chart has a point at. */
extern const double sgs_report_top_percent[SGS_REPORT_TOP_POINTS];

typedef struct sgs_report_figures {
    /* per RFM segment: sums over its customers */
    double days_since_last_sum[SGS_RFM_SEGMENT_COUNT];
    double purchase_days_sum[SGS_RFM_SEGMENT_COUNT];
    /* the same, of the value step (when it ran) */
    double clv_sum[SGS_RFM_SEGMENT_COUNT], p_buy_sum[SGS_RFM_SEGMENT_COUNT];
    size_t n_unlikely[SGS_RFM_SEGMENT_COUNT]; /* p_buy below actions.stages.lapsed_p_buy */
    /* customers and revenue per (recency score r, frequency score f) at
     * [(bins - r) * bins + f - 1]; has_grid 0 when the scores do not fit the chart */
    int has_grid;
    double grid_customers[SGS_REPORT_GRID_MAX_BINS * SGS_REPORT_GRID_MAX_BINS];
    double grid_revenue[SGS_REPORT_GRID_MAX_BINS * SGS_REPORT_GRID_MAX_BINS];
    /* for report.html, when written and the value step ran: the share of all CLV the top
     * sgs_report_top_percent[j]% of customers hold, the total, and the model over
     * (frequency, recency) (has_fr_grid 0 without customers) */
    int has_top_shares;
    double top_share[SGS_REPORT_TOP_POINTS], clv_positive_total;
    int has_fr_grid;
    sgs_fr_grid_t fr_grid;
} sgs_report_figures_t;

/* *f from st's summary, RFM and value columns. @return 0; the errors of
 * sgs_value_top_shares and sgs_fr_grid_compute (SGS_ENOMEM, SGS_EINVAL). */
int sgs_report_figures_compute(const struct sgs_run_state *st, sgs_report_figures_t *f,
                               sgs_error_t *err);

#endif
