/*
 * engine/report_figures.h — what the reports (report.txt, report.html) show of the customer
 * columns, made when the customer outputs are written (engine/run_publish.c; in a run spread
 * over processes over every process's customers, engine/dist_figures.h): the columns they come
 * from are then freed before the actions step takes its memory (engine/run.c), and the
 * reports, written at the end, read only these figures. Internal to engine/.
 */
#ifndef SGS_REPORT_FIGURES_H
#define SGS_REPORT_FIGURES_H

#include "kernels/frequency_recency_grid.h"
#include "kernels/rfm.h"

#include <stddef.h>
#include <stdint.h>

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

/* *f from st's summary, RFM and value columns over every customer of a run of one process:
 * sgs_report_figures_begin, sgs_report_figures_add over all of them, then, when wanted
 * (sgs_report_figures_value_wanted), the value figures from their CLV bins and repeat-purchase
 * counts (sgs_report_figures_value_finish). A spread run makes the same figures over every
 * process's customers from the same parts (engine/dist_figures.h). @return 0; SGS_ENOMEM; the
 * errors of sgs_fr_grid_count and sgs_fr_grid_from_counts (SGS_EINVAL). */
int sgs_report_figures_compute(const struct sgs_run_state *st, sgs_report_figures_t *f,
                               sgs_error_t *err);

/* *f zeroed (every byte: the figures may travel between processes as bytes), with has_grid,
 * which depends on the whole base's count of customers (st->summary.n_all). */
void sgs_report_figures_begin(const struct sgs_run_state *st, sgs_report_figures_t *f);

/* The sums per RFM segment and the RFM grid of *f continued over st's own customers in their
 * order: *f holds what the customers before them left (nothing after sgs_report_figures_begin).
 * The sums are serial sums in customer order, so that the pieces of the customers added one
 * after another, in order, give the bits of adding them all at once; the counts are integers. */
void sgs_report_figures_add(const struct sgs_run_state *st, sgs_report_figures_t *f);

/* Whether the figures of the value step are made (the CLV concentration and the
 * frequency-recency grid, which only report.html shows): the value step ran and report.html is
 * written. */
int sgs_report_figures_value_wanted(const struct sgs_run_state *st);

/* What the value figures are made from: the CLV bins' counts and sums
 * (kernels/value_concentration.h, SGS_VALUE_BINS each) and the repeat-purchase counts. */
typedef struct sgs_report_value_parts {
    uint64_t *count;
    double *sum;
    sgs_fr_grid_counts_t *fr;
} sgs_report_value_parts_t;

/* *p for st's customers: the bins zeroed (sgs_value_bins_add continues them), the
 * repeat-purchase counts of st's own customers (sgs_fr_grid_count, the customers named by their
 * index in the whole base). @return 0; SGS_ENOMEM; sgs_fr_grid_count's errors; *p is freed by
 * sgs_report_value_parts_free in either case. */
int sgs_report_value_parts_begin(const struct sgs_run_state *st, sgs_report_value_parts_t *p,
                                 sgs_error_t *err);

void sgs_report_value_parts_free(sgs_report_value_parts_t *p);

/* The value figures of *f (top_share, clv_positive_total, fr_grid and their has_ flags) from
 * the whole base's parts: the bins added over every customer in order, the repeat-purchase
 * counts over every customer (not read when the base has no customer). The whole base's
 * customer count is st->summary.n_all. @return 0; the errors of sgs_value_bins_shares and
 * sgs_fr_grid_from_counts (SGS_EINVAL). */
int sgs_report_figures_value_finish(const struct sgs_run_state *st,
                                    const sgs_report_value_parts_t *p, sgs_report_figures_t *f,
                                    sgs_error_t *err);

#endif
