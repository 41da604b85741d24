/*
 * engine/report_html_compare.c — report.html's comparison with an earlier run
 * (output.compare_summary, `segscore run --compare-summary`): the figures at a glance then and
 * now, and the counts per RFM segment, stage and opportunity kind as paired bars. The earlier
 * figures are those of its summary.json (io/previous_summary.h).
 */
#include "engine/report_html.h"
#include "engine/run_actions.h"

#include "io/html_doc.h"
#include "io/svg_chart.h"

#include <math.h>
#include <string.h>

/* One row: what, then, now, the change and the change in percent of then. */
static void change_row(FILE *out, const char *what, double then, double now, int decimals)
{
    char a[48], b[48], c[48], d[48];
    double change = now - then;
    fputs("<tr><th scope=\"row\">", out);
    sgs_html_text(out, what);
    fprintf(out, "</th><td>%s</td><td>%s</td><td>%s%s</td><td>%s</td></tr>\n",
            sgs_html_grouped(then, decimals, a, sizeof a),
            sgs_html_grouped(now, decimals, b, sizeof b), change > 0 ? "+" : "",
            sgs_html_grouped(change, decimals, c, sizeof c),
            then != 0 && isfinite(then) && isfinite(now)
                ? sgs_html_number(100.0 * change / fabs(then), 1, d, sizeof d)
                : "NaN");
}

void sgs__html_compare_glance(const sgs_run_state_t *st, FILE *out)
{
    if (!st->has_previous)
        return;
    const sgs_previous_summary_t *p = &st->previous;
    fputs("<h3>Since the previous run</h3>\n<p>", out);
    sgs_html_textf(out, "Compared with the run as of %s (%s", p->as_of,
                   st->req->config->compare_summary);
    if (p->engine_version[0]) /* an older or hand-made summary may not say */
        sgs_html_textf(out, ", segscore %s", p->engine_version);
    if (p->input_identity[0])
        sgs_html_textf(out, "; input %s", p->input_identity);
    fputs(").", out);
    fputs("</p>\n<table class=\"since-previous\">\n<thead><tr><th></th>", out);
    fputs("<th>previous run</th><th>this run</th><th>change</th><th>change (%)</th></tr>"
          "</thead>\n<tbody>\n",
          out);
    change_row(out, "customers with purchases", p->customers, (double)st->summary.n_customers, 0);
    change_row(out, "revenue", p->revenue, st->summary.revenue_total, 0);
    if (st->value.ran && isfinite(p->clv)) {
        change_row(out, "expected purchases", p->expected_purchases,
                   st->value.expected_purchases_total, 0);
        change_row(out, "customer lifetime value", p->clv, st->value.clv_total, 0);
    }
    if (st->actions && isfinite(p->listed))
        change_row(out, "opportunities listed", p->listed, (double)st->actions->list.n_listed, 0);
    fputs("</tbody>\n</table>\n", out);
    if (st->value.ran && isfinite(p->horizon) && p->horizon != st->value.horizon) {
        fputs("<p>", out);
        sgs_html_textf(out,
                       "The value figures are over different horizons (%g then, %g now %ss): "
                       "their change is not a change in value.",
                       p->horizon, st->value.horizon, st->req->config->time_unit);
        fputs("</p>\n", out);
    }
}

void sgs__html_compare_counts(const sgs_run_state_t *st, FILE *out, const char *name,
                              const char *title, const char *what, const char *category,
                              const char *const *names, const double *then, const double *now,
                              size_t n_names)
{
    enum { MAX = 16 };
    const char *labels[MAX];
    double a[MAX], b[MAX], change[MAX];
    size_t n = 0;
    for (size_t i = 0; i < n_names && n < MAX; i++) {
        if (!names[i] || !((isfinite(then[i]) && then[i] > 0) || now[i] > 0))
            continue;
        labels[n] = names[i];
        a[n] = then[i];
        b[n] = now[i];
        change[n] = isfinite(then[i]) ? now[i] - then[i] : (double)NAN;
        n++;
    }
    if (n == 0)
        return;
    char previous[64], caption[256];
    snprintf(previous, sizeof previous, "previous run (%s)", st->previous.as_of);
    snprintf(
        caption, sizeof caption,
        "Bars: %s in the previous run (as of %s, solid) and in this one (hollow); the table adds "
        "the change. NaN: the previous summary does not have the figure.",
        what, st->previous.as_of);
    sgs_chart_t c = {
        .name = name,
        .title = title,
        .caption = caption,
        .x_title = what,
        .y_title = category,
        .n = n,
        .labels = labels,
        .n_series = 3,
        .series = {{previous, a, 0, 0}, {"this run", b, 0, 0}, {"change", change, 0, 1}},
    };
    sgs_svg_bar_chart(out, &c);
}
