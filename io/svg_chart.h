/*
 * io/svg_chart.h — charts as inline SVG inside an HTML figure: a bar chart, a line chart and a
 * heat map, each with axes, ticks, labels and units, and the chart's numbers in a table below
 * it. Data in, markup out: they know nothing of what the numbers mean.
 *
 * The markup is a contract that tools test against (docs/report.md, "For tool builders"):
 *
 *   <figure class="chart" id="chart-NAME">
 *     <svg role="img" aria-labelledby="chart-NAME-title chart-NAME-desc" ...>
 *       <title id="chart-NAME-title">...</title><desc id="chart-NAME-desc">...</desc>
 *       ... one element per data mark: class="mark" data-label="CATEGORY" data-value="NUMBER"
 *           (and data-series="SERIES NAME" when the chart draws more than one series) ...
 *     </svg>
 *     <figcaption>...</figcaption>
 *     <table class="chart-data">... the same numbers, as data-value writes them ...</table>
 *   </figure>
 *
 * A mark's data-value is sgs_html_number(value, series decimals) (io/html_doc.h), the same
 * characters as in the table. Colours are the Okabe-Ito palette's blue and orange, which
 * differ in lightness too; a second series is also drawn hollow (bars) or dashed with square
 * points (lines), and a heat map is one hue from light to dark with the number in each cell,
 * so no chart relies on hue alone. Nothing depends on time or threads: the same data give the
 * same bytes. Write errors are the stream's (check ferror() once at the end).
 */
#ifndef SGS_SVG_CHART_H
#define SGS_SVG_CHART_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdio.h>

#define SGS_CHART_MAX_SERIES 4

/* One series of numbers: drawn, or a column of the table only. */
typedef struct sgs_chart_series {
    const char *name;     /* legend and table heading, with its unit ("customers") */
    const double *values; /* n values (heat map: n_rows x n, row-major); NaN: no mark, "NaN" */
    int decimals;         /* places in data-value and in the table, 0..9 */
    int table_only;       /* 1: only a column of the table (drawn series come first) */
} sgs_chart_series_t;

typedef struct sgs_chart {
    const char *name;              /* the figure's id is "chart-NAME"; [a-z0-9-] only */
    const char *title;             /* the SVG's <title> and the caption's first sentence */
    const char *caption;           /* how to read it, after the title in the figcaption; or NULL */
    const char *x_title;           /* axis titles with their units */
    const char *y_title;           /* (bar chart: x is the value axis, y the categories) */
    size_t n;                      /* categories (bar), points (line), columns (heat map); >= 1 */
    const char *const *labels;     /* n labels: categories, points, heat-map columns */
    const double *x;               /* line chart: n ascending x positions; else NULL */
    double x_lo, x_hi;             /* line chart: the x axis' range; both 0 = min(x) to max(x) */
    const char *label_title;       /* the table's heading over the labels; NULL = the axis title
                                      of the categories (heat map: "cell") */
    size_t n_rows;                 /* heat map rows (>= 1); else 0 */
    const char *const *row_labels; /* heat map: n_rows labels */
    const char *label_join;        /* heat map: data-label = row + join + column; NULL = " " */
    double value_max;      /* the value axis' top: 0 = from the data (rounded up), else this */
    const double *lo, *hi; /* bar chart: an interval around each value of series[0], drawn as a
                              whisker and given as data-lo and data-hi (NaN: none); NULL: none.
                              The table does not show them: add them as table-only series. */
    size_t n_series;       /* 1..SGS_CHART_MAX_SERIES; the heat map draws series[0] */
    sgs_chart_series_t series[SGS_CHART_MAX_SERIES];
} sgs_chart_t;

/* Horizontal bars, one row per category, one bar per drawn series, the value at the end of
 * each bar; the value axis starts at 0 or below the smallest value. Category labels longer than 40
 * characters are cut with "..." in the drawing (data-label, the tooltip and the table keep them
 * whole). When a drawn value is negative the value axis extends below 0 and the bar runs left from
 * a line at 0 (a diverging chart); a NaN draws no bar (its mark is a zero-width bar at 0, still
 * carrying data-value). @return 0; SGS_EINVAL for a chart without name, categories or series, or
 * more than SGS_CHART_MAX_SERIES. */
int sgs_svg_bar_chart(FILE *out, const sgs_chart_t *c);

/* Lines through points (x[i], series[s].values[i]), one point mark per finite value; both
 * axes linear, from min(x) to max(x) and from 0 to the value axis' top. @return as above, and
 * SGS_EINVAL without x. */
int sgs_svg_line_chart(FILE *out, const sgs_chart_t *c);

/* A grid of n_rows x n cells, each shaded by series[0] from light (0) to dark (the largest
 * value) with its number written in it; the table is the same grid of numbers, one block of
 * rows per series. @return as above, and SGS_EINVAL without rows. */
int sgs_svg_heat_map(FILE *out, const sgs_chart_t *c);

/* Tick spacing for an axis from 0 to `max` with about `target` ticks: 1, 2 or 5 times a power
 * of ten; *top gets the axis' end, the first multiple of the step >= max (max <= 0 or not
 * finite: step 1, top 1). */
double sgs_chart_nice_step(double max, int target, double *top);

#endif
