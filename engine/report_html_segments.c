/*
 * engine/report_html_segments.c — report.html's k-means section: customers per segment as a
 * bar chart (summary.json's segments profiles), with each segment's label, revenue and CLV
 * shares and typical (median) feature values, and how the segments were made (report.txt's
 * "Segments" section, as it is written there).
 */
#include "engine/report_html.h"

#include "io/html_doc.h"
#include "io/svg_chart.h"

#include <math.h>
#include <string.h>

#define MAX_SEGMENTS_CHARTED 64

static void size_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_segments_t *s = &st->segments;
    size_t k = s->k < MAX_SEGMENTS_CHARTED ? s->k : MAX_SEGMENTS_CHARTED;
    if (k == 0)
        return;
    char names[MAX_SEGMENTS_CHARTED][112];
    const char *labels[MAX_SEGMENTS_CHARTED];
    double size[MAX_SEGMENTS_CHARTED], revenue[MAX_SEGMENTS_CHARTED], clv[MAX_SEGMENTS_CHARTED];
    for (size_t j = 0; j < k; j++) {
        snprintf(names[j], sizeof names[j], "%zu: %s", j, s->profile_label[j]);
        labels[j] = names[j];
        size[j] = (double)s->profile_size[j];
        revenue[j] = 100.0 * s->profile_revenue_share[j];
        clv[j] = st->value.ran ? 100.0 * s->profile_clv_share[j] : (double)NAN;
    }
    sgs_chart_t c = {
        .name = "segments",
        .title = "Customers per k-means segment",
        .caption = "One bar per segment, named by number and by what sets it apart; the table "
                   "adds each segment's share of revenue and of CLV.",
        .x_title = "customers",
        .y_title = "segment",
        .n = k,
        .labels = labels,
        .n_series = 3,
        .series = {{"customers", size, 0, 0},
                   {"share of revenue (%)", revenue, 1, 1},
                   {"share of CLV (%)", clv, 1, 1}},
    };
    sgs_svg_bar_chart(out, &c);
}

/* About three significant digits, as report.txt's %.3g, but never in exponent form. */
static const char *median_text(double v, char *buf, size_t size)
{
    double a = fabs(v);
    return sgs_html_number(v, a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3, buf, size);
}

static void profile_table(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_segments_t *s = &st->segments;
    size_t d = s->n_features;
    char b[48];
    fputs("<table class=\"profiles\">\n<thead><tr><th>segment</th>", out);
    for (size_t f = 0; f < d; f++) {
        fputs("<th>", out);
        sgs_html_text(out, s->feature_names[f]);
        fputs(" (median)</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (size_t j = 0; j < s->k; j++) {
        fprintf(out, "<tr><th scope=\"row\">%zu: ", j);
        sgs_html_text(out, s->profile_label[j]);
        fputs("</th>", out);
        for (size_t f = 0; f < d; f++)
            fprintf(out, "<td>%s</td>", median_text(s->profile_median[j * d + f], b, sizeof b));
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

/* The base's median of feature f (original units), from the feature checks; NaN if absent. */
static double base_median(const sgs_run_segments_t *s, size_t f)
{
    for (size_t i = 0; i < s->n_feature_check; i++)
        if (strcmp(s->feature_check[i].name, s->feature_names[f]) == 0)
            return s->feature_check[i].median;
    return NAN;
}

/* One chart per segment: how far its mean lies from the base's on each clustered feature, in
 * the base's standard deviations; the label names the furthest (beyond half a deviation). */
static void profile_charts(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_segments_t *s = &st->segments;
    size_t d = s->n_features, k = s->k < MAX_SEGMENTS_CHARTED ? s->k : MAX_SEGMENTS_CHARTED;
    if (d == 0 || d > 8)
        return;
    const char *labels[8];
    double base[8];
    for (size_t f = 0; f < d; f++) {
        labels[f] = s->feature_names[f];
        base[f] = base_median(s, f);
    }
    fputs("<h3>What sets each segment apart</h3>\n<p>One chart per segment. Each bar: how far "
          "the segment's mean lies from the whole base's on one feature as it was clustered (log "
          "scale for counts and money), in the base's standard deviations; right is more, left "
          "is less. The label names the features beyond half a deviation. Each table adds the "
          "medians in the features' own units.</p>\n",
          out);
    for (size_t j = 0; j < k; j++) {
        char name[32], title[160];
        snprintf(name, sizeof name, "segment-profile-%zu", j);
        snprintf(title, sizeof title, "Segment %zu: %s", j, s->profile_label[j]);
        sgs_chart_t c = {
            .name = name,
            .title = title,
            .x_title = "segment mean - base mean (standard deviations)",
            .y_title = "feature",
            .n = d,
            .labels = labels,
            .n_series = 3,
            .series = {{"deviation (sd)", s->profile_deviation + j * d, 2, 0},
                       {"segment median", s->profile_median + j * d, 2, 1},
                       {"base median", base, 2, 1}},
        };
        sgs_svg_bar_chart(out, &c);
    }
}

int sgs__html_segments(const sgs_run_state_t *st, FILE *out, sgs_error_t *err)
{
    sgs__html_section_begin(out, "segments", "Segments found by k-means");
    fputs("<p>", out);
    sgs_html_textf(out, "%zu segments (k chosen by %s", st->segments.k, st->segments.k_chosen_by);
    if (st->segments.n_merges > 0)
        sgs_html_textf(out, "; %zu found, %zu small one%s merged", st->segments.k_fitted,
                       st->segments.n_merges, st->segments.n_merges > 1 ? "s" : "");
    fputs(").</p>\n", out);
    size_chart(st, out);
    profile_table(st, out);
    profile_charts(st, out);
    int rc = sgs__html_text_section(st, out, sgs_report_segments,
                                    "The segments as report.txt has them, and how they were made",
                                    0, err);
    sgs__html_section_end(out);
    return rc;
}
