/*
 * io/svg_chart.c — bar chart, line chart and heat map as inline SVG in a figure, with the
 * numbers in a table (io/svg_chart.h). Sizes are in SVG user units; the SVG scales to the
 * page's width through its viewBox.
 */
#include "io/svg_chart.h"

#include "io/html_doc.h"

#include <math.h>
#include <string.h>

/* Okabe-Ito blue (dark) and orange (light), then bluish green and vermillion. */
static const char *const fill[SGS_CHART_MAX_SERIES] = {"#0072B2", "#E69F00", "#009E73", "#D55E00"};

#define WIDTH 720.0
#define LABEL_MAX 40 /* characters of a bar's label drawn; longer ones are cut with "..." */
#define FONT "font-size=\"12\""

/* ---- pieces -------------------------------------------------------------------------------- */

/* label, or its first LABEL_MAX - 3 characters and "..." (cut at a UTF-8 character start). */
static void cut_label(const char *label, char *buf, size_t size)
{
    size_t len = label ? strlen(label) : 0;
    if (len <= LABEL_MAX) {
        snprintf(buf, size, "%s", label ? label : "");
        return;
    }
    size_t keep = LABEL_MAX - 3;
    while (keep > 0 && ((unsigned char)label[keep] & 0xC0) == 0x80)
        keep--;
    snprintf(buf, size, "%.*s...", (int)keep, label);
}

static int check(const sgs_chart_t *c)
{
    if (!c || !c->name || !c->name[0] || c->n == 0 || !c->labels || c->n_series == 0 ||
        c->n_series > SGS_CHART_MAX_SERIES)
        return SGS_EINVAL;
    for (size_t s = 0; s < c->n_series; s++)
        if (!c->series[s].values)
            return SGS_EINVAL;
    return SGS_OK;
}

static size_t n_drawn(const sgs_chart_t *c)
{
    size_t k = 0;
    while (k < c->n_series && !c->series[k].table_only)
        k++;
    return k ? k : 1;
}

double sgs_chart_nice_step(double max, int target, double *top)
{
    if (!(max > 0) || !isfinite(max) || target < 1) {
        *top = 1;
        return max > 0 && isfinite(max) ? max : 1;
    }
    double raw = max / target, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    *top = ceil(max / step - 1e-9) * step;
    if (*top < max)
        *top += step;
    return step;
}

/* Decimals that show a tick step exactly (0 for steps >= 1). */
static int step_decimals(double step)
{
    int d = 0;
    while (d < 6 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6)
        d++;
    return d;
}

static void num(FILE *out, double v)
{
    char b[48];
    fputs(sgs_html_number(v, 1, b, sizeof b), out);
}

/* The top of the value axis: configured, or the data's largest drawn value rounded up. With
 * `bottom` (bar charts), *bottom gets the axis' other end: 0, or below the most negative drawn
 * value by whole steps of the same spacing. */
static double value_range(const sgs_chart_t *c, size_t n_values, double *step, double *bottom)
{
    double max = 0, min = 0, top;
    for (size_t s = 0; s < n_drawn(c); s++)
        for (size_t i = 0; i < n_values; i++) {
            const double *ends[3] = {c->series[s].values, s == 0 ? c->lo : NULL,
                                     s == 0 ? c->hi : NULL};
            for (int e = 0; e < (bottom ? 3 : 1); e++) {
                double v = ends[e] ? ends[e][i] : (double)NAN;
                if (isfinite(v) && v > max)
                    max = v;
                if (isfinite(v) && v < min)
                    min = v;
            }
        }
    if (c->value_max > 0)
        max = c->value_max;
    if (!bottom || min == 0) {
        *step = sgs_chart_nice_step(max, 5, &top);
        if (bottom)
            *bottom = 0;
        return top;
    }
    double span;
    *step = sgs_chart_nice_step(max - min, 5, &span);
    *bottom = -ceil(-min / *step - 1e-9) * *step;
    if (min - *bottom < 0.25 * *step) /* room for the number written left of the bar */
        *bottom -= *step;
    top = ceil(max / *step - 1e-9) * *step;
    return top > *bottom ? top : *bottom + *step;
}

static double value_top(const sgs_chart_t *c, size_t n_values, double *step)
{
    return value_range(c, n_values, step, NULL);
}

static void figure_open(FILE *out, const sgs_chart_t *c, double height)
{
    fprintf(out, "<figure class=\"chart\" id=\"chart-%s\">\n", c->name);
    fprintf(out,
            "<svg role=\"img\" aria-labelledby=\"chart-%s-title chart-%s-desc\" "
            "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" " FONT
            " font-family=\"sans-serif\">\n",
            c->name, c->name, WIDTH, height, WIDTH, height);
    fprintf(out, "<title id=\"chart-%s-title\">", c->name);
    sgs_html_text(out, c->title);
    fprintf(out, "</title>\n<desc id=\"chart-%s-desc\">", c->name);
    sgs_html_text(out, c->caption ? c->caption : c->title);
    fputs("</desc>\n", out);
}

static void text_at(FILE *out, double x, double y, const char *anchor, const char *extra,
                    const char *s)
{
    fputs("<text x=\"", out);
    num(out, x);
    fputs("\" y=\"", out);
    num(out, y);
    fprintf(out, "\" text-anchor=\"%s\"%s%s>", anchor, extra ? " " : "", extra ? extra : "");
    sgs_html_text(out, s);
    fputs("</text>\n", out);
}

/* The x and y axis lines of a plot area and the two axis titles. */
static void axes(FILE *out, double left, double top_pad, double plot_w, double plot_h,
                 double height, const char *x_title, const char *y_title)
{
    fprintf(out,
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#333\"/>\n",
            left, top_pad + plot_h, left + plot_w, top_pad + plot_h);
    fprintf(out,
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#333\"/>\n",
            left, top_pad, left, top_pad + plot_h);
    text_at(out, left + plot_w / 2, height - 8, "middle", "class=\"axis-title\"", x_title);
    text_at(out, 4, 12, "start", "class=\"axis-title\"", y_title);
}

/* Legend of the drawn series, one line at y, when there are two or more. */
static void legend(FILE *out, const sgs_chart_t *c, double x, double y, int lines)
{
    size_t k = n_drawn(c);
    if (k < 2)
        return;
    for (size_t s = 0; s < k; s++) {
        double lx = x + (double)s * 200;
        if (lines)
            fprintf(out,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2\"%s/>\n",
                    lx, y - 4, lx + 18, y - 4, fill[s], s ? " stroke-dasharray=\"5 3\"" : "");
        else
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\" "
                    "stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                    lx, y - 10, s ? "#ffffff" : fill[s], s ? "#8a5a00" : fill[s]);
        text_at(out, lx + 24, y, "start", NULL, c->series[s].name);
    }
}

static void mark_attrs(FILE *out, const sgs_chart_t *c, size_t s, const char *label, double v)
{
    char b[48];
    fputs(" class=\"mark\" data-label=\"", out);
    sgs_html_text(out, label);
    fprintf(out, "\" data-value=\"%s\"", sgs_html_number(v, c->series[s].decimals, b, sizeof b));
    if (n_drawn(c) > 1) {
        fputs(" data-series=\"", out);
        sgs_html_text(out, c->series[s].name);
        fputs("\"", out);
    }
}

/* The closing of the figure: the caption, then the table of the chart's numbers: one row per
 * category, or the heat map's grid. */
static void figure_close(FILE *out, const sgs_chart_t *c, const char *first_heading)
{
    fputs("</svg>\n<figcaption><strong>", out);
    sgs_html_text(out, c->title);
    fputs("</strong>", out);
    if (c->caption) {
        fputs(" ", out);
        sgs_html_text(out, c->caption);
    }
    fputs("</figcaption>\n<table class=\"chart-data\">\n", out);
    char b[48];
    if (c->n_rows) { /* heat map: the grid, one block of rows per series */
        fputs("<thead><tr><th scope=\"col\">", out);
        sgs_html_text(out, first_heading);
        fputs("</th>", out);
        for (size_t i = 0; i < c->n; i++) {
            fputs("<th scope=\"col\">", out);
            sgs_html_text(out, c->labels[i]);
            fputs("</th>", out);
        }
        fputs("</tr></thead>\n", out);
        for (size_t s = 0; s < c->n_series; s++) {
            fputs("<tbody>\n", out);
            for (size_t r = 0; r < c->n_rows; r++) {
                fputs("<tr><th scope=\"row\">", out);
                sgs_html_text(out, c->row_labels[r]);
                if (c->n_series > 1) {
                    fputs(": ", out);
                    sgs_html_text(out, c->series[s].name);
                }
                fputs("</th>", out);
                for (size_t i = 0; i < c->n; i++)
                    fprintf(out, "<td>%s</td>",
                            sgs_html_number(c->series[s].values[r * c->n + i],
                                            c->series[s].decimals, b, sizeof b));
                fputs("</tr>\n", out);
            }
            fputs("</tbody>\n", out);
        }
        fputs("</table>\n</figure>\n", out);
        return;
    }
    fputs("<thead><tr><th scope=\"col\">", out);
    sgs_html_text(out, first_heading);
    fputs("</th>", out);
    for (size_t s = 0; s < c->n_series; s++) {
        fputs("<th scope=\"col\">", out);
        sgs_html_text(out, c->series[s].name);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (size_t i = 0; i < c->n; i++) {
        fputs("<tr><th scope=\"row\">", out);
        sgs_html_text(out, c->labels[i]);
        fputs("</th>", out);
        for (size_t s = 0; s < c->n_series; s++)
            fprintf(out, "<td>%s</td>",
                    sgs_html_number(c->series[s].values[i], c->series[s].decimals, b, sizeof b));
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n</figure>\n", out);
}

/* ---- bar chart ----------------------------------------------------------------------------- */

int sgs_svg_bar_chart(FILE *out, const sgs_chart_t *c)
{
    if (check(c) != SGS_OK)
        return SGS_EINVAL;
    const size_t k = n_drawn(c);
    size_t longest = 0;
    for (size_t i = 0; i < c->n; i++) {
        size_t len = c->labels[i] ? strlen(c->labels[i]) : 0;
        longest = len > longest ? len : longest;
    }
    if (longest > LABEL_MAX)
        longest = LABEL_MAX;
    const double left = 24 + 6.8 * (double)(longest < 10 ? 10 : longest), right = 90,
                 top_pad = k > 1 ? 44 : 20, bar_h = 16, gap = 8;
    const double row_h = (double)k * bar_h + gap;
    const double plot_h = (double)c->n * row_h, plot_w = WIDTH - left - right;
    const double height = top_pad + plot_h + 52;
    double step, bottom, top = value_range(c, c->n, &step, &bottom);
    const double span = top - bottom, zero = left + plot_w * -bottom / span;
    figure_open(out, c, height);
    legend(out, c, left, 32, 0);
    /* grid and ticks on the value axis */
    const int dec = step_decimals(step);
    char b[48], b2[48];
    for (double t = bottom; t <= top + step * 1e-9; t += step) {
        double x = left + plot_w * (t - bottom) / span;
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d0d0d0\"/>\n",
                x, top_pad, x, top_pad + plot_h + 4);
        text_at(out, x, top_pad + plot_h + 18, "middle", NULL,
                sgs_html_grouped(t, dec, b, sizeof b));
    }
    axes(out, left, top_pad, plot_w, plot_h, height, c->x_title, c->y_title);
    if (bottom < 0)
        fprintf(out,
                "<line class=\"zero\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#333\"/>\n",
                zero, top_pad, zero, top_pad + plot_h);
    for (size_t i = 0; i < c->n; i++) {
        double y0 = top_pad + (double)i * row_h + gap / 2;
        char shown[LABEL_MAX + 4];
        cut_label(c->labels[i], shown, sizeof shown);
        text_at(out, left - 6, y0 + (double)k * bar_h / 2 + 4, "end", NULL, shown);
        for (size_t s = 0; s < k; s++) {
            double v = c->series[s].values[i];
            double end = isfinite(v) ? (v > top ? top : v) : 0;
            double w = plot_w * fabs(end) / span, x = end < 0 ? zero - w : zero;
            double y = y0 + (double)s * bar_h;
            fputs("<rect", out);
            mark_attrs(out, c, s, c->labels[i], v);
            double lo = s == 0 && c->lo ? c->lo[i] : (double)NAN,
                   hi = s == 0 && c->hi ? c->hi[i] : (double)NAN;
            int whisker = isfinite(lo) && isfinite(hi);
            if (whisker)
                fprintf(out, " data-lo=\"%s\" data-hi=\"%s\"",
                        sgs_html_number(lo, c->series[s].decimals, b, sizeof b),
                        sgs_html_number(hi, c->series[s].decimals, b2, sizeof b2));
            fprintf(out,
                    " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                    "stroke=\"%s\" stroke-width=\"1.5\"><title>",
                    x, y + 1, w, bar_h - 2, s == 1 ? "#ffffff" : fill[s],
                    s == 1 ? "#8a5a00" : fill[s]);
            sgs_html_text(out, c->labels[i]);
            fputs(": ", out);
            fputs(sgs_html_grouped(v, c->series[s].decimals, b, sizeof b), out);
            if (whisker)
                fprintf(out, " (%s to %s)",
                        sgs_html_grouped(lo, c->series[s].decimals, b, sizeof b),
                        sgs_html_grouped(hi, c->series[s].decimals, b2, sizeof b2));
            fputs("</title></rect>\n", out);
            double text_x = end < 0 ? x - 4 : x + w + 4;
            if (whisker) { /* a line from lo to hi with end caps, the number past its end */
                double x_lo = zero + plot_w * (lo > top ? top : lo) / span,
                       x_hi = zero + plot_w * (hi > top ? top : hi) / span, mid = y + bar_h / 2;
                fprintf(out,
                        "<path class=\"interval\" d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f "
                        "%.1fV%.1f\" stroke=\"#111\" stroke-width=\"1.5\" fill=\"none\"/>\n",
                        x_lo, mid - 5, mid + 5, x_lo, mid, x_hi, x_hi, mid - 5, mid + 5);
                text_x = end < 0 ? (x_lo < x ? x_lo : x) - 4 : (x_hi > x + w ? x_hi : x + w) + 4;
            }
            text_at(out, text_x, y + bar_h - 4, end < 0 ? "end" : "start", NULL,
                    sgs_html_grouped(v, c->series[s].decimals, b, sizeof b));
        }
    }
    figure_close(out, c, c->label_title ? c->label_title : c->y_title);
    return SGS_OK;
}

/* ---- line chart ---------------------------------------------------------------------------- */

int sgs_svg_line_chart(FILE *out, const sgs_chart_t *c)
{
    if (check(c) != SGS_OK || !c->x)
        return SGS_EINVAL;
    const size_t k = n_drawn(c);
    const double left = 70, right = 30, top_pad = 44, plot_h = 240, plot_w = WIDTH - left - right;
    const double height = top_pad + plot_h + 56;
    double x_min = c->x[0], x_max = c->x[c->n - 1];
    if (c->x_hi > c->x_lo) {
        x_min = c->x_lo;
        x_max = c->x_hi;
    }
    if (!(x_max > x_min))
        x_max = x_min + 1;
    double step, top = value_top(c, c->n, &step);
    figure_open(out, c, height);
    legend(out, c, left, 32, 1);
    char b[48];
    const int dec = step_decimals(step);
    for (double t = 0; t <= top + step * 1e-9; t += step) {
        double y = top_pad + plot_h - plot_h * t / top;
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d0d0d0\"/>\n",
                left - 4, y, left + plot_w, y);
        text_at(out, left - 8, y + 4, "end", NULL, sgs_html_grouped(t, dec, b, sizeof b));
    }
    double x_top, x_step = sgs_chart_nice_step(x_max - x_min, 6, &x_top);
    const int x_dec = step_decimals(x_step);
    for (double t = ceil(x_min / x_step - 1e-9) * x_step; t <= x_max + x_step * 1e-9; t += x_step) {
        double x = left + plot_w * (t - x_min) / (x_max - x_min);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d0d0d0\"/>\n",
                x, top_pad, x, top_pad + plot_h + 4);
        text_at(out, x, top_pad + plot_h + 18, "middle", NULL,
                sgs_html_grouped(t, x_dec, b, sizeof b));
    }
    axes(out, left, top_pad, plot_w, plot_h, height, c->x_title, c->y_title);
    for (size_t s = 0; s < k; s++) {
        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                fill[s], s ? " stroke-dasharray=\"6 4\"" : "");
        int first = 1;
        for (size_t i = 0; i < c->n; i++) {
            double v = c->series[s].values[i];
            if (!isfinite(v))
                continue;
            fprintf(out, "%s%.1f,%.1f", first ? "" : " ",
                    left + plot_w * (c->x[i] - x_min) / (x_max - x_min),
                    top_pad + plot_h - plot_h * (v > top ? top : v) / top);
            first = 0;
        }
        fputs("\"/>\n", out);
        for (size_t i = 0; i < c->n; i++) {
            double v = c->series[s].values[i];
            if (!isfinite(v))
                continue;
            double x = left + plot_w * (c->x[i] - x_min) / (x_max - x_min);
            double y = top_pad + plot_h - plot_h * (v > top ? top : v) / top;
            if (s == 0)
                fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"", x, y, fill[s]);
            else
                fprintf(out,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"#ffffff\" "
                        "stroke=\"%s\" stroke-width=\"2\"",
                        x - 4, y - 4, fill[s]);
            mark_attrs(out, c, s, c->labels[i], v);
            fputs("><title>", out);
            sgs_html_text(out, c->labels[i]);
            fputs(": ", out);
            fputs(sgs_html_grouped(v, c->series[s].decimals, b, sizeof b), out);
            fputs(s == 0 ? "</title></circle>\n" : "</title></rect>\n", out);
        }
    }
    figure_close(out, c, c->label_title ? c->label_title : c->x_title);
    return SGS_OK;
}

/* ---- heat map ------------------------------------------------------------------------------ */

/* Light (t = 0) to dark (t = 1) blue, linear in RGB between ColorBrewer Blues' ends. */
static void shade(double t, char *buf, size_t size, int *dark)
{
    static const int lo[3] = {0xf7, 0xfb, 0xff}, hi[3] = {0x08, 0x30, 0x6b};
    if (!(t >= 0))
        t = 0;
    if (t > 1)
        t = 1;
    int rgb[3];
    for (int k = 0; k < 3; k++)
        rgb[k] = (int)lround(lo[k] + (hi[k] - lo[k]) * t);
    snprintf(buf, size, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    *dark = t > 0.5;
}

int sgs_svg_heat_map(FILE *out, const sgs_chart_t *c)
{
    if (check(c) != SGS_OK || c->n_rows == 0 || !c->row_labels)
        return SGS_EINVAL;
    const double left = 130, top_pad = 40, cell_h = 30;
    const double cell_w = (WIDTH - left - 20) / (double)c->n;
    const double height = top_pad + (double)c->n_rows * cell_h + 40;
    const double *v = c->series[0].values;
    double max = 0;
    for (size_t i = 0; i < c->n_rows * c->n; i++)
        if (isfinite(v[i]) && v[i] > max)
            max = v[i];
    if (c->value_max > 0)
        max = c->value_max;
    const char *join = c->label_join ? c->label_join : " ";
    figure_open(out, c, height);
    text_at(out, left + (WIDTH - left - 20) / 2, 14, "middle", "class=\"axis-title\"", c->x_title);
    for (size_t i = 0; i < c->n; i++)
        text_at(out, left + ((double)i + 0.5) * cell_w, top_pad - 6, "middle",
                cell_w < 80 ? "font-size=\"10\"" : NULL, c->labels[i]);
    text_at(out, 4, height - 10, "start", "class=\"axis-title\"", c->y_title);
    char colour[16], b[48], label[512];
    for (size_t r = 0; r < c->n_rows; r++) {
        double y = top_pad + (double)r * cell_h;
        text_at(out, left - 6, y + cell_h / 2 + 4, "end", NULL, c->row_labels[r]);
        for (size_t i = 0; i < c->n; i++) {
            double x = left + (double)i * cell_w, val = v[r * c->n + i];
            int dark;
            shade(max > 0 ? val / max : 0, colour, sizeof colour, &dark);
            snprintf(label, sizeof label, "%s%s%s", c->row_labels[r], join, c->labels[i]);
            fputs("<rect", out);
            mark_attrs(out, c, 0, label, val);
            fprintf(out,
                    " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                    "stroke=\"#ffffff\"><title>",
                    x, y, cell_w, cell_h, colour);
            sgs_html_text(out, label);
            fputs(": ", out);
            fputs(sgs_html_grouped(val, c->series[0].decimals, b, sizeof b), out);
            fputs("</title></rect>\n", out);
            text_at(out, x + cell_w / 2, y + cell_h / 2 + 4, "middle",
                    dark ? "fill=\"#ffffff\"" : "fill=\"#111111\"",
                    sgs_html_grouped(val, c->series[0].decimals, b, sizeof b));
        }
    }
    figure_close(out, c, c->label_title ? c->label_title : "cell");
    return SGS_OK;
}
