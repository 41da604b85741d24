/*
 * engine/report_html_rfm.c — report.html's RFM section: customers per named RFM segment as
 * a bar chart (the counts of summary.json's rfm.segments and report.txt's table) with the
 * table of report.txt beside it, and the recency x frequency score grid as a heat map.
 */
#include "engine/report_html.h"

#include "io/html_doc.h"
#include "io/svg_chart.h"
#include "kernels/rfm.h"

#include <string.h>

static void segment_chart(const sgs_run_state_t *st, FILE *out)
{
    const char *labels[SGS_RFM_SEGMENT_COUNT];
    double customers[SGS_RFM_SEGMENT_COUNT], share[SGS_RFM_SEGMENT_COUNT],
        revenue_share[SGS_RFM_SEGMENT_COUNT];
    size_t n = 0;
    double total = (double)st->summary.n_customers;
    for (int k = 0; k < SGS_RFM_SEGMENT_COUNT; k++) {
        if (st->rfm.segment_customers[k] == 0)
            continue;
        labels[n] = sgs_rfm_segment_name(k);
        customers[n] = (double)st->rfm.segment_customers[k];
        share[n] = 100.0 * customers[n] / total;
        revenue_share[n] = st->summary.revenue_buyers != 0
                               ? 100.0 * st->rfm.segment_revenue[k] / st->summary.revenue_buyers
                               : 0.0;
        n++;
    }
    if (n == 0)
        return;
    sgs_chart_t c = {
        .name = "rfm-segments",
        .title = "Customers per RFM segment",
        .caption = "One bar per named segment with at least one customer; the table adds each "
                   "segment's share of customers and of revenue.",
        .x_title = "customers",
        .y_title = "RFM segment",
        .n = n,
        .labels = labels,
        .n_series = 3,
        .series = {{"customers", customers, 0, 0},
                   {"share of customers (%)", share, 1, 1},
                   {"share of revenue (%)", revenue_share, 1, 1}},
    };
    sgs_svg_bar_chart(out, &c);
}

/* The table of report.txt: averages per segment (one pass over the customers) and what to do. */
static void segment_table(const sgs_run_state_t *st, FILE *out)
{
    const sgs_report_figures_t *f = &st->figures;
    char a[48], b[48], d[48];
    fputs("<table class=\"rfm-table\">\n<thead><tr><th>segment</th><th>customers</th>"
          "<th>days since last (avg)</th><th>purchases (avg)</th><th>spend per customer</th>"
          "<th class=\"text\">what to do</th></tr></thead>\n<tbody>\n",
          out);
    for (int k = 0; k < SGS_RFM_SEGMENT_COUNT; k++) {
        double count = (double)st->rfm.segment_customers[k];
        if (count == 0)
            continue;
        fputs("<tr><th scope=\"row\">", out);
        sgs_html_text(out, sgs_rfm_segment_name(k));
        fprintf(out, "</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"text\">",
                sgs_html_grouped(count, 0, a, sizeof a),
                sgs_html_number(f->days_since_last_sum[k] / count, 0, b, sizeof b),
                sgs_html_number(f->purchase_days_sum[k] / count, 1, d, sizeof d),
                sgs_html_grouped(st->rfm.segment_revenue[k] / count, 0, a, sizeof a));
        sgs_html_text(out, sgs_report_segment_action(k));
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

/* Customers and revenue per (recency score, frequency score). */
static void grid_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_report_figures_t *f = &st->figures;
    if (!f->has_grid)
        return;
    int bins = st->req->config->rfm_bins;
    char row_names[SGS_REPORT_GRID_MAX_BINS][16], col_names[SGS_REPORT_GRID_MAX_BINS][16];
    const char *rows[SGS_REPORT_GRID_MAX_BINS], *cols[SGS_REPORT_GRID_MAX_BINS];
    for (int i = 0; i < bins; i++) {
        snprintf(row_names[i], sizeof row_names[i], "r%d", bins - i);
        snprintf(col_names[i], sizeof col_names[i], "f%d", i + 1);
        rows[i] = row_names[i];
        cols[i] = col_names[i];
    }
    sgs_chart_t c = {
        .name = "rfm-grid",
        .title = "Customers per recency and frequency score",
        .caption = "Rows: recency score (r5 bought most recently); columns: frequency score (f5 "
                   "buys most often). Darker cells hold more customers; the number is written "
                   "in each cell, and the table adds the cell's revenue.",
        .x_title = "frequency score (1 = fewest purchases)",
        .y_title = "recency score",
        .n = (size_t)bins,
        .labels = cols,
        .n_rows = (size_t)bins,
        .row_labels = rows,
        .n_series = 2,
        .series = {{"customers", f->grid_customers, 0, 0}, {"revenue", f->grid_revenue, 0, 1}},
    };
    sgs_svg_heat_map(out, &c);
}

void sgs__html_rfm(const sgs_run_state_t *st, FILE *out)
{
    sgs__html_section_begin(out, "rfm", "Who your customers are: RFM segments");
    fputs("<p>", out);
    sgs_html_textf(out, "Recency, frequency and monetary scores 1..%d (%s spend).",
                   st->req->config->rfm_bins, st->req->config->rfm_monetary);
    fputs("</p>\n", out);
    segment_chart(st, out);
    segment_table(st, out);
    if (st->has_previous) {
        const char *names[SGS_RFM_SEGMENT_COUNT];
        double now[SGS_RFM_SEGMENT_COUNT];
        for (int k = 0; k < SGS_RFM_SEGMENT_COUNT; k++) {
            names[k] = sgs_rfm_segment_name(k);
            now[k] = (double)st->rfm.segment_customers[k];
        }
        sgs__html_compare_counts(st, out, "rfm-since-previous",
                                 "Customers per RFM segment, previous run and this one",
                                 "customers", "RFM segment", names, st->previous.rfm_customers, now,
                                 SGS_RFM_SEGMENT_COUNT);
    }
    grid_chart(st, out);
    sgs__html_section_end(out);
}
