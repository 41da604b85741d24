/*
 * engine/write_report.c — report.txt: what a person reads in the morning. Plain text,
 * aligned tables, numbers with thousands separators, one suggested action per segment.
 */
#include "engine/report_html.h"
#include "engine/run_actions.h"
#include "engine/run_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* What CRM practice suggests for each RFM segment (kernels/rfm.h order). */
static const char *const segment_action[SGS_RFM_SEGMENT_COUNT] = {
    "reward; early access; ask for reviews and referrals",
    "upsell higher-value products; loyalty programme",
    "membership or loyalty offer; recommend related products",
    "onboarding; help them to a second purchase",
    "build awareness; a free trial or sample",
    "limited-time offer based on past purchases",
    "recommend popular products; reconnect before they go",
    "win them back with renewals or new products; talk to them",
    "personal re-engagement; useful reminders, not discounts first",
    "relevant offers only; do not over-contact",
    "try a win-back campaign once; otherwise leave them",
};

const char *sgs_report_segment_action(int k)
{
    return k >= 0 && k < SGS_RFM_SEGMENT_COUNT ? segment_action[k] : "";
}

/* 1234567.891 -> "1,234,568" (rounded, thousands separators). */
static const char *grouped_number(double v, char *buf, size_t size)
{
    char digits[40];
    snprintf(digits, sizeof digits, "%.0f", v < 0 ? -v : v);
    size_t len = strlen(digits), k = 0;
    if (v <= -0.5 && k + 1 < size)
        buf[k++] = '-';
    for (size_t i = 0; i < len && k + 2 < size; i++) {
        buf[k++] = digits[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len)
            buf[k++] = ',';
    }
    buf[k] = '\0';
    return buf;
}

static void write_segments_table(const sgs_run_state_t *st, FILE *out)
{
    const sgs_report_figures_t *f = &st->figures;
    double n = (double)st->summary.n_customers;
    char a[40], b[40];
    fprintf(out, "%-19s %11s %6s %8s %10s %10s %12s  %s\n", "segment", "customers", "share",
            "revenue", "days since", "purchases", "spend per", "what to do");
    fprintf(out, "%-19s %11s %6s %8s %10s %10s %12s\n", "", "", "", "share", "last (avg)", "(avg)",
            "customer");
    for (int k = 0; k < SGS_RFM_SEGMENT_COUNT; k++) {
        double count = (double)st->rfm.segment_customers[k];
        if (count == 0)
            continue;
        double revenue_share = st->summary.revenue_buyers != 0
                                   ? 100.0 * st->rfm.segment_revenue[k] / st->summary.revenue_buyers
                                   : 0.0;
        fprintf(out, "%-19s %11s %5.1f%% %7.1f%% %10.0f %10.1f %12s  %s\n", sgs_rfm_segment_name(k),
                grouped_number(count, a, sizeof a), 100.0 * count / n, revenue_share,
                f->days_since_last_sum[k] / count, f->purchase_days_sum[k] / count,
                grouped_number(st->rfm.segment_revenue[k] / count, b, sizeof b), segment_action[k]);
    }
}

/* What they are worth: the model, its fit, and value per RFM segment. */
static void write_value_section(const sgs_run_state_t *st, FILE *out)
{
    const sgs_fit_t *fit = &st->value.model_fit;
    const char *const *names = sgs_purchase_model_param_names(st->value.model);
    char a[40], b[40];
    fprintf(
        out, "\nWhat they are worth: %s repeat purchases and Gamma-Gamma spend, next %g %ss\n\n",
        sgs_purchase_model_name(st->value.model), st->value.horizon, st->req->config->time_unit);
    fprintf(out,
            "Expected purchases: %s   Customer lifetime value (margin %g, %g%% a year "
            "discount): %s\n",
            grouped_number(st->value.expected_purchases_total, a, sizeof a),
            st->req->config->value_clv.margin, 100.0 * st->req->config->value_clv.annual_discount,
            grouped_number(st->value.clv_total, b, sizeof b));
    fprintf(out, "Model fit: ");
    for (int k = 0; k < fit->n_params; k++)
        fprintf(out, "%s %.4g%s", names[k], fit->params[k], k + 1 < fit->n_params ? ", " : "");
    fprintf(out, "; log-likelihood %.1f over %zu distinct histories; %s\n", fit->log_likelihood,
            st->value.n_histories, fit->converged ? "converged" : "DID NOT CONVERGE");
    fprintf(out,
            "Spend model: p %.4g, q %.4g, gamma %.4g on %zu repeat customers; frequency-spend "
            "correlation %.2f; %s\n\n",
            st->value.spend_fit.params[0], st->value.spend_fit.params[1],
            st->value.spend_fit.params[2], st->value.spend_summary.n_used,
            st->value.spend_summary.correlation,
            st->value.spend_fit.converged ? "converged" : "DID NOT CONVERGE");

    /* "unlikely to buy again" as the stages say it: p_buy below stages.lapsed_p_buy */
    double unlikely = st->req->config->actions.stages.lapsed_p_buy;
    const sgs_report_figures_t *f = &st->figures;
    char below[32];
    snprintf(below, sizeof below, "p_buy < %g", unlikely);
    fprintf(out, "%-19s %8s %12s %10s %14s\n", "segment", "CLV share", "CLV per", "p_buy", below);
    fprintf(out, "%-19s %8s %12s %10s %14s\n", "", "", "customer", "(avg)", "(customers)");
    for (int k = 0; k < SGS_RFM_SEGMENT_COUNT; k++) {
        double count = (double)st->rfm.segment_customers[k];
        if (count == 0)
            continue;
        fprintf(out, "%-19s %7.1f%% %12s %10.2f %14s\n", sgs_rfm_segment_name(k),
                st->value.clv_total != 0 ? 100.0 * f->clv_sum[k] / st->value.clv_total : 0.0,
                grouped_number(f->clv_sum[k] / count, a, sizeof a), f->p_buy_sum[k] / count,
                grouped_number((double)f->n_unlikely[k], b, sizeof b));
    }
}

int sgs_write_report(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    FILE *out = fopen(path, "wb");
    if (!out)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: %s", path, strerror(errno));
    char a[40], b[40], c[40];
    fprintf(out, "segscore %s — customer report as of %s\n\n", SGS_VERSION, st->read.as_of_text);
    fprintf(out, "Input:     %s\n", st->read.input_identity);
    fprintf(out, "Customers: %s with purchases, revenue %s (net of every refund)\n",
            grouped_number((double)st->summary.n_customers, a, sizeof a),
            grouped_number(st->summary.revenue_total, b, sizeof b));
    fprintf(out,
            "Left out:  %s rows after the as-of date, %s customers without a purchase (refunds "
            "only, or every order cancelled the same day)\n",
            grouped_number((double)st->read.tx_stats.n_rows_after_as_of, a, sizeof a),
            grouped_number((double)st->summary.n_no_purchase, c, sizeof c));
    if (st->summary.n_cancelled_days > 0 || st->summary.n_nonpositive_net > 0)
        fprintf(out,
                "Refunds:   %s purchase days cancelled the same day are not purchases; %s "
                "customers who returned at least what they bought are worth 0\n",
                grouped_number((double)st->summary.n_cancelled_days, a, sizeof a),
                grouped_number((double)st->summary.n_nonpositive_net, b, sizeof b));
    for (size_t i = 0; i < st->n_warnings; i++)
        fprintf(out, "%sWarning: %s\n", i == 0 ? "\n" : "", st->warnings[i].message);
    fprintf(out,
            "\nWho your customers are: RFM segments (recency, frequency, monetary scores "
            "1..%d, %s spend)\n\n",
            st->req->config->rfm_bins, st->req->config->rfm_monetary);
    write_segments_table(st, out);
    if (st->value.ran) {
        write_value_section(st, out);
        sgs_report_backtest(st, out);
    }
    if (st->segments.ran)
        sgs_report_segments(st, out);
    sgs_write_actions_report(st, out);
    int ok = !ferror(out);
    if (fclose(out) != 0 || !ok)
        return sgs_error_set_os(err, SGS_EIO, errno ? errno : EIO, path, "write failed");
    return SGS_OK;
}
