/*
 * engine/measure_print.c — the terminal report of segscore measure (docs/measure.md "On the
 * terminal"): one line per kind and channel and a kind total with the arms and the key
 * differences, then each kind's treated and control values, then the incremental revenue
 * and the cumulative impact. Readable in a minute; every flag spelled out.
 */
#include "engine/measure.h"

#include "kernels/dates.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Print a line of the table without the padding an empty last column leaves. */
static void put_line(FILE *out, char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == ' ')
        line[--n] = '\0';
    fprintf(out, "%s\n", line);
}

/* What a flag says, in words ("control 14 < 30"). */
static void reason_text(const sgs_measure_diff_t *d, int64_t min_arm, char *buf, size_t size)
{
    switch (d->reason) {
    case SGS_MEASURE_CONCLUSIVE:
        snprintf(buf, size, "%s", "");
        break;
    case SGS_MEASURE_NO_CONTROL:
        snprintf(buf, size, "no control group: no comparison");
        break;
    case SGS_MEASURE_NO_TREATED:
        snprintf(buf, size, "no treated customers: no comparison");
        break;
    case SGS_MEASURE_SMALL_TREATED:
        snprintf(buf, size, "inconclusive: treated %lld < %lld", (long long)d->n_treated,
                 (long long)min_arm);
        break;
    case SGS_MEASURE_SMALL_CONTROL:
        snprintf(buf, size, "inconclusive: control %lld < %lld", (long long)d->n_control,
                 (long long)min_arm);
        break;
    default:
        snprintf(buf, size, "inconclusive: no variance in either arm");
        break;
    }
}

/* A difference with its interval: "+3.1 [-5.2, +9.9]" (scale 100: percentage points), or
 * the treated value alone when there is no comparison, or "-". */
static void diff_text(const sgs_measure_diff_t *d, double scale, int decimals, char *buf,
                      size_t size)
{
    if (isfinite(d->diff) && isfinite(d->lo))
        snprintf(buf, size, "%+.*f [%+.*f, %+.*f]", decimals, d->diff * scale, decimals,
                 d->lo * scale, decimals, d->hi * scale);
    else if (isfinite(d->diff))
        snprintf(buf, size, "%+.*f [no interval]", decimals, d->diff * scale);
    else if (isfinite(d->treated))
        snprintf(buf, size, "treated %.*f%s", decimals, d->treated * scale,
                 scale == 100 ? "%" : "");
    else
        snprintf(buf, size, "-");
}

/* "12.0% vs 9.0%" or "45.20 vs 40.10" ("-" for an empty arm). */
static void values_text(const sgs_measure_diff_t *d, int percent, char *buf, size_t size)
{
    char t[32] = "-", c[32] = "-";
    if (isfinite(d->treated))
        snprintf(t, sizeof t, percent ? "%.1f%%" : "%+.2f", d->treated * (percent ? 100 : 1));
    if (isfinite(d->control))
        snprintf(c, sizeof c, percent ? "%.1f%%" : "%+.2f", d->control * (percent ? 100 : 1));
    snprintf(buf, size, "%s vs %s", t, c);
}

/* The first flag of a line's metrics, in metric order. */
static const sgs_measure_diff_t *first_flag(const sgs_measure_line_t *l)
{
    for (int m = 0; m < SGS_MEASURE_METRIC_COUNT; m++)
        if (l->applies[m] && l->metric[m].reason != SGS_MEASURE_CONCLUSIVE)
            return &l->metric[m];
    return NULL;
}

static void print_lines(const sgs_measure_result_t *res, FILE *out)
{
    fprintf(out, "%-24s %8s %8s  %-24s %-24s %-34s %s\n", "kind / channel", "treated", "control",
            "response rate (pts)", "bought (pts)", "revenue per customer", "flag");
    for (size_t i = 0; i < res->n_lines; i++) {
        const sgs_measure_line_t *l = &res->lines[i];
        if (i == 0 || res->lines[i - 1].kind != l->kind)
            fprintf(out, "%s\n", sgs_opportunity_kind_name(l->kind));
        char name[32], resp[64], bought[64], rev[80], flag[96] = "";
        snprintf(name, sizeof name, "  %s",
                 l->channel == SGS_MEASURE_ALL_CHANNELS ? "all channels"
                                                        : sgs_channel_name(l->channel));
        diff_text(&l->metric[SGS_MEASURE_RESPONSE], 100, 1, resp, sizeof resp);
        diff_text(&l->metric[SGS_MEASURE_BOUGHT], 100, 1, bought, sizeof bought);
        diff_text(&l->metric[SGS_MEASURE_REVENUE], 1, 2, rev, sizeof rev);
        const sgs_measure_diff_t *f = first_flag(l);
        if (f)
            reason_text(f, res->min_arm, flag, sizeof flag);
        const sgs_measure_diff_t *n = &l->metric[SGS_MEASURE_REVENUE];
        char text[512];
        snprintf(text, sizeof text, "%-24s %8lld %8lld  %-24s %-24s %-34s %s", name,
                 (long long)n->n_treated, (long long)n->n_control, resp, bought, rev, flag);
        put_line(out, text);
    }
}

static void print_kinds(const sgs_measure_result_t *res, FILE *out)
{
    fprintf(out, "\nper kind, all channels: treated vs control\n");
    for (size_t i = 0; i < res->n_lines; i++) {
        const sgs_measure_line_t *l = &res->lines[i];
        if (l->channel != SGS_MEASURE_ALL_CHANNELS)
            continue;
        char resp[48], bought[48], rev[48];
        values_text(&l->metric[SGS_MEASURE_RESPONSE], 1, resp, sizeof resp);
        values_text(&l->metric[SGS_MEASURE_BOUGHT], 1, bought, sizeof bought);
        values_text(&l->metric[SGS_MEASURE_REVENUE], 0, rev, sizeof rev);
        fprintf(out, "  %-22s response %s, bought %s, revenue per customer %s\n",
                sgs_opportunity_kind_name(l->kind), resp, bought, rev);
        char v[48], d[80], flag[96];
        if (l->applies[SGS_MEASURE_RENEWED]) {
            const sgs_measure_diff_t *m = &l->metric[SGS_MEASURE_RENEWED];
            values_text(m, 1, v, sizeof v);
            diff_text(m, 100, 1, d, sizeof d);
            reason_text(m, res->min_arm, flag, sizeof flag);
            char text[512];
            snprintf(text, sizeof text, "  %-22s renewals kept %s: %s pts %s", "", v, d, flag);
            put_line(out, text);
        }
        if (l->applies[SGS_MEASURE_SURVEY]) {
            const sgs_measure_diff_t *m = &l->metric[SGS_MEASURE_SURVEY];
            values_text(m, 0, v, sizeof v);
            diff_text(m, 1, 2, d, sizeof d);
            reason_text(m, res->min_arm, flag, sizeof flag);
            fprintf(out, "  %-22s survey score change %s (%lld and %lld with both scores): %s %s\n",
                    "", v, (long long)m->n_treated, (long long)m->n_control, d, flag);
        }
    }
}

static void print_impact(const sgs_measure_result_t *res, FILE *out)
{
    fprintf(out, "\nincremental revenue = (treated mean - control mean) x treated customers\n");
    char d[96], flag[160];
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        if (!res->kind_listed[k])
            continue;
        const sgs_measure_diff_t *inc = &res->incremental[k];
        if (isfinite(inc->diff))
            diff_text(inc, 1, 2, d, sizeof d);
        else
            snprintf(d, sizeof d, "-");
        reason_text(inc, res->min_arm, flag, sizeof flag);
        char text[512];
        snprintf(text, sizeof text, "  %-22s %-40s %s", sgs_opportunity_kind_name(k), d, flag);
        put_line(out, text);
    }
    const sgs_measure_diff_t *c = &res->cumulative;
    diff_text(c, 1, 2, d, sizeof d);
    flag[0] = '\0';
    if (res->n_kinds_included == 0) {
        snprintf(flag, sizeof flag, "no kind has a comparison");
    } else if (c->reason != SGS_MEASURE_CONCLUSIVE) { /* name the first kind that is not */
        for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
            const sgs_measure_diff_t *inc = &res->incremental[k];
            if (res->kind_listed[k] && isfinite(inc->diff) && isfinite(inc->variance) &&
                inc->reason != SGS_MEASURE_CONCLUSIVE) {
                char why[96];
                reason_text(inc, res->min_arm, why, sizeof why);
                const char *colon = strstr(why, ": ");
                snprintf(flag, sizeof flag, "inconclusive (%s: %s)", sgs_opportunity_kind_name(k),
                         colon && strncmp(why, "inconclusive", 12) == 0 ? colon + 2 : why);
                break;
            }
        }
    }
    fprintf(out, "  %-22s %-40s %s (%zu kinds in, %zu without a comparison)\n", "cumulative impact",
            d, flag, res->n_kinds_included, res->n_kinds_left_out);
}

void sgs_measure_print(const sgs_measure_result_t *res, const sgs_measure_request_t *req, FILE *out)
{
    char as_of[16], first[16], end[16];
    sgs_date_format_day(res->as_of_day, as_of, sizeof as_of);
    sgs_date_format_day(res->first_day, first, sizeof first);
    sgs_date_format_day(res->end_day, end, sizeof end);
    fprintf(out,
            "list: %s (segscore %s, as of %s): %zu rows, %lld treated, %lld control, %zu "
            "customers\n",
            req->results_path, res->results_version, as_of, res->n_list_rows,
            (long long)res->n_treated_rows, (long long)res->n_control_rows, res->n_customers);
    fprintf(out, "outcome window: %s .. %s (%d days) in %s: %lld transactions, %lld events\n",
            first, end, (int)(res->end_day - res->as_of_day), req->input_path,
            (long long)res->counts.tx_in_window, (long long)res->counts.ev_in_window);
    fprintf(out,
            "differences are treated - control with 95%% intervals; arms under %lld "
            "customers are flagged inconclusive\n\n",
            (long long)res->min_arm);
    if (res->n_lines == 0) {
        fprintf(out, "the list is empty: nothing to measure\n");
    } else {
        print_lines(res, out);
        print_kinds(res, out);
        print_impact(res, out);
    }
    for (size_t i = 0; i < res->n_warnings; i++)
        fprintf(out, "%swarning: %s\n", i == 0 ? "\n" : "", res->warnings[i]);
}
