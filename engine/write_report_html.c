/*
 * engine/write_report_html.c — report.html: report.txt's facts as one self-contained page,
 * charts plus tables (docs/report.md). No script, font, image or link that fetches anything:
 * the style is inline, the charts are SVG written by io/svg_chart.h. No wall-clock time is
 * written: the same input and configuration give the same bytes whatever the thread count.
 * The page's sections are in engine/report_html_*.c; this file writes the frame, the
 * warnings and the figures at a glance.
 */
#include "engine/report_html.h"
#include "engine/run_actions.h"

#include "io/html_doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Readable on a laptop (one column of at most 60em), printable (no navigation, figures kept
 * whole, black text), and independent of colour: charts differ in lightness too. */
static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "color:#1a1a1a;background:#fff;max-width:60em;margin:0 auto;padding:1em 1.5em;"
    "line-height:1.45}\n"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;"
    "padding-bottom:.2em;margin-top:2em}h3{margin-top:1.5em}\n"
    ".meta{color:#555;font-size:.9em}\n"
    "nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4em 1.2em}\n"
    ".glance{display:grid;grid-template-columns:repeat(auto-fit,minmax(11em,1fr));gap:.8em;"
    "margin:1em 0}\n"
    ".glance div{border:1px solid #ccc;border-left:6px solid #0072B2;padding:.5em .8em}\n"
    ".glance .figure{display:block;font-size:1.5em;font-weight:600}\n"
    ".warnings{border:2px solid #D55E00;background:#fff4ec;padding:.6em 1em;margin:1em 0}\n"
    ".warnings h2{border:0;margin:0;font-size:1.1em}\n"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.9em}\n"
    "th,td{border-bottom:1px solid #ddd;padding:.2em .6em;text-align:right;"
    "vertical-align:top}\n"
    "th:first-child,td.text,th.text{text-align:left}thead th{border-bottom:2px solid #555}\n"
    "figure.chart{margin:1.2em 0;break-inside:avoid}\n"
    "figure.chart svg{max-width:100%;height:auto;display:block}\n"
    "figcaption{font-size:.9em;color:#333;margin:.3em 0}\n"
    "table.chart-data{font-size:.8em;color:#333}\n"
    "details summary{cursor:pointer;color:#0072B2}\n"
    "pre{font-size:.8em;white-space:pre-wrap;background:#f6f6f6;padding:.6em}\n"
    "@media print{body{max-width:none;font-size:10pt;padding:0}nav{display:none}"
    "h2{break-after:avoid;border-color:#000}section,figure,table{break-inside:avoid}"
    "details{display:block}.glance div{border-left-color:#000}"
    "a{color:inherit;text-decoration:none}}\n";

void sgs__html_section_begin(FILE *out, const char *id, const char *title)
{
    fprintf(out, "<section id=\"%s\">\n<h2>", id);
    sgs_html_text(out, title);
    fputs("</h2>\n", out);
}

void sgs__html_section_end(FILE *out)
{
    fputs("</section>\n", out);
}

int sgs__html_text_section(const sgs_run_state_t *st, FILE *out,
                           void (*report)(const sgs_run_state_t *, FILE *), const char *summary,
                           int open, sgs_error_t *err)
{
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    if (!mem)
        return sgs_error_set(err, SGS_ENOMEM, "report.html: no memory for the section \"%s\"",
                             summary);
    report(st, mem);
    int ok = !ferror(mem);
    if (fclose(mem) != 0 || !ok) {
        free(text);
        return sgs_error_set(err, SGS_ENOMEM, "report.html: no memory for the section \"%s\"",
                             summary);
    }
    const char *start = text ? text + strspn(text, "\n") : "";
    if (start[0]) {
        fputs(open ? "<details open><summary>" : "<details><summary>", out);
        sgs_html_text(out, summary);
        fputs("</summary>\n<pre>", out);
        sgs_html_text(out, start);
        fputs("</pre></details>\n", out);
    }
    free(text);
    return SGS_OK;
}

/* One figure at a glance: a caption over a large number. */
static void glance_item(FILE *out, const char *what, double v, const char *note)
{
    char b[64];
    fputs("<div><span class=\"what\">", out);
    sgs_html_text(out, what);
    fprintf(out, "</span><span class=\"figure\">%s</span>", sgs_html_grouped(v, 0, b, sizeof b));
    if (note) {
        fputs("<span class=\"note\">", out);
        sgs_html_text(out, note);
        fputs("</span>", out);
    }
    fputs("</div>\n", out);
}

static void write_glance(const sgs_run_state_t *st, FILE *out)
{
    char b[64], c[64];
    sgs__html_section_begin(out, "glance", "At a glance");
    fputs("<div class=\"glance\">\n", out);
    glance_item(out, "Customers with purchases", (double)st->summary.n_customers, NULL);
    glance_item(out, "Revenue", st->summary.revenue_total, "net of every refund");
    if (st->value.ran) {
        char note[96];
        snprintf(note, sizeof note, "next %g %ss", st->value.horizon, st->req->config->time_unit);
        glance_item(out, "Expected purchases", st->value.expected_purchases_total, note);
        glance_item(out, "Customer lifetime value", st->value.clv_total, note);
    }
    if (st->actions)
        glance_item(out, "Opportunities listed", (double)st->actions->list.n_listed,
                    "opportunities.csv");
    fputs("</div>\n<p>", out);
    sgs_html_textf(out,
                   "Left out: %s rows after the as-of date, %s customers without a purchase "
                   "(refunds only, or every order cancelled the same day).",
                   sgs_html_grouped((double)st->read.tx_stats.n_rows_after_as_of, 0, b, sizeof b),
                   sgs_html_grouped((double)st->summary.n_no_purchase, 0, c, sizeof c));
    if (st->summary.n_cancelled_days > 0 || st->summary.n_nonpositive_net > 0)
        sgs_html_textf(out,
                       " Refunds: %s purchase days cancelled the same day are not purchases; %s "
                       "customers who returned at least what they bought are worth 0.",
                       sgs_html_grouped((double)st->summary.n_cancelled_days, 0, b, sizeof b),
                       sgs_html_grouped((double)st->summary.n_nonpositive_net, 0, c, sizeof c));
    fputs("</p>\n", out);
    sgs__html_compare_glance(st, out);
    sgs__html_section_end(out);
}

static void write_warnings(const sgs_run_state_t *st, FILE *out)
{
    if (st->n_warnings == 0)
        return;
    fputs("<section class=\"warnings\" id=\"warnings\" role=\"alert\">\n<h2>Warnings</h2>\n<ul>\n",
          out);
    for (size_t i = 0; i < st->n_warnings; i++) {
        fputs("<li><code>", out);
        sgs_html_text(out, st->warnings[i].code);
        fputs("</code> ", out);
        sgs_html_text(out, st->warnings[i].message);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n</section>\n", out);
}

static void write_nav(const sgs_run_state_t *st, FILE *out)
{
    fputs("<nav><ul><li><a href=\"#glance\">At a glance</a></li>"
          "<li><a href=\"#rfm\">RFM segments</a></li>",
          out);
    if (st->value.ran)
        fputs("<li><a href=\"#value\">Value</a></li><li><a href=\"#backtest\">Backtest</a></li>",
              out);
    if (st->segments.ran)
        fputs("<li><a href=\"#segments\">Segments</a></li>", out);
    if (st->actions) {
        fputs("<li><a href=\"#stages\">Stages</a></li>", out);
        if (st->actions->audit_ran)
            fputs("<li><a href=\"#audit\">Contact activity</a></li>", out);
        fputs("<li><a href=\"#opportunities\">Opportunities</a></li>", out);
    }
    fputs("</ul></nav>\n", out);
}

int sgs_write_report_html(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    FILE *out = fopen(path, "wb");
    if (!out)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: %s", path, strerror(errno));
    char title[96];
    snprintf(title, sizeof title, "segscore customer report as of %s", st->read.as_of_text);
    sgs_html_begin(out, title, css);
    fputs("<header>\n<h1>", out);
    sgs_html_text(out, title);
    fputs("</h1>\n<p class=\"meta\">segscore ", out);
    sgs_html_text(out, SGS_VERSION);
    fputs(" &middot; input: ", out);
    sgs_html_text(out, st->read.input_identity);
    fputs("</p>\n</header>\n", out);
    write_nav(st, out);
    write_warnings(st, out);
    write_glance(st, out);
    sgs__html_rfm(st, out);
    int rc = SGS_OK;
    if (st->value.ran)
        sgs__html_value(st, out);
    if (st->segments.ran)
        rc = sgs__html_segments(st, out, err);
    if (rc == SGS_OK && st->actions)
        rc = sgs__html_actions(st, out, err);
    sgs_html_end(out);
    int ok = !ferror(out);
    if (fclose(out) != 0 || !ok) {
        if (rc == SGS_OK)
            rc = sgs_error_set_os(err, SGS_EIO, errno ? errno : EIO, path, "write failed");
    }
    return rc;
}
