/*
 * engine/report_html_value.c — report.html's value section: the fitted models (report.txt's
 * "What they are worth" lines as a table), CLV per RFM segment, the share of CLV held by the
 * top x% of customers, the backtest's model comparison, the calibration (reliability) chart
 * and the stage check (report.txt's "Backtest" section).
 */
#include "engine/report_html.h"

#include "io/html_doc.h"
#include "io/svg_chart.h"
#include "kernels/dates.h"
#include "kernels/frequency_recency_grid.h"

#include <math.h>
#include <string.h>

static void fit_row(FILE *out, const char *what, const sgs_fit_t *fit, const char *const *names,
                    const char *on)
{
    char b[48];
    fputs("<tr><th scope=\"row\">", out);
    sgs_html_text(out, what);
    fputs("</th><td class=\"text\">", out);
    for (int k = 0; k < fit->n_params; k++) {
        sgs_html_text(out, names[k]);
        fprintf(out, " %s", sgs_html_number(fit->params[k], 4, b, sizeof b));
        if (isfinite(fit->std_err[k]))
            fprintf(out, " (&plusmn;%s)", sgs_html_number(fit->std_err[k], 4, b, sizeof b));
        fputs(k + 1 < fit->n_params ? ", " : "", out);
    }
    fprintf(out, "</td><td>%s</td><td class=\"text\">",
            sgs_html_number(fit->log_likelihood, 1, b, sizeof b));
    sgs_html_text(out, on);
    fprintf(out, "</td><td class=\"text\">%s</td></tr>\n",
            fit->converged ? "converged" : "<strong>did not converge</strong>");
}

static void model_table(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_value_t *v = &st->value;
    const sgs_config_t *cfg = st->req->config;
    char on[96];
    fputs("<p>", out);
    sgs_html_textf(out,
                   "%s repeat purchases and Gamma-Gamma spend, next %g %ss; customer lifetime "
                   "value with margin %g and a discount of %g%% a year.",
                   sgs_purchase_model_name(v->model), v->horizon, cfg->time_unit,
                   cfg->value_clv.margin, 100.0 * cfg->value_clv.annual_discount);
    fputs("</p>\n<table class=\"models\">\n<thead><tr><th>model</th><th class=\"text\">"
          "parameters (&plusmn; standard error)</th><th>log-likelihood</th>"
          "<th class=\"text\">fitted on</th><th class=\"text\">fit</th></tr></thead>\n"
          "<tbody>\n",
          out);
    snprintf(on, sizeof on, "%zu distinct histories", v->n_histories);
    fit_row(out, sgs_purchase_model_name(v->model), &v->model_fit,
            sgs_purchase_model_param_names(v->model), on);
    static const char *const gg[] = {"p", "q", "gamma"};
    snprintf(on, sizeof on, "%zu repeat customers; frequency-spend correlation %.2f",
             v->spend_summary.n_used, v->spend_summary.correlation);
    fit_row(out, "Gamma-Gamma", &v->spend_fit, gg, on);
    fputs("</tbody>\n</table>\n", out);
}

/* CLV per RFM segment as report.txt has it. */
static void clv_table(const sgs_run_state_t *st, FILE *out)
{
    double unlikely = st->req->config->actions.stages.lapsed_p_buy;
    const sgs_report_figures_t *f = &st->figures;
    char a[48], b[48], d[48], e[48];
    fprintf(out,
            "<table class=\"clv-table\">\n<thead><tr><th>RFM segment</th><th>CLV share</th>"
            "<th>CLV per customer</th><th>p_buy (avg)</th><th>customers with p_buy &lt; %s</th>"
            "</tr></thead>\n<tbody>\n",
            sgs_html_number(unlikely, 2, a, sizeof a));
    for (int k = 0; k < SGS_RFM_SEGMENT_COUNT; k++) {
        double count = (double)st->rfm.segment_customers[k];
        if (count == 0)
            continue;
        fputs("<tr><th scope=\"row\">", out);
        sgs_html_text(out, sgs_rfm_segment_name(k));
        fprintf(out, "</th><td>%s%%</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                sgs_html_number(
                    st->value.clv_total != 0 ? 100.0 * f->clv_sum[k] / st->value.clv_total : 0.0, 1,
                    a, sizeof a),
                sgs_html_grouped(f->clv_sum[k] / count, 0, b, sizeof b),
                sgs_html_number(f->p_buy_sum[k] / count, 2, d, sizeof d),
                sgs_html_grouped((double)f->n_unlikely[k], 0, e, sizeof e));
    }
    fputs("</tbody>\n</table>\n", out);
}

static void concentration_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_report_figures_t *f = &st->figures;
    if (!f->has_top_shares || !(f->clv_positive_total > 0))
        return;
    enum { N = SGS_REPORT_TOP_POINTS };
    const double *percent = sgs_report_top_percent, *share = f->top_share;
    double share_pct[N], x[N];
    char names[N][24];
    const char *labels[N];
    for (size_t j = 0; j < N; j++) {
        share_pct[j] = 100 * share[j];
        x[j] = percent[j];
        snprintf(names[j], sizeof names[j], "top %g%%", percent[j]);
        labels[j] = names[j];
    }
    sgs_chart_t c = {
        .name = "clv-concentration",
        .title = "Share of customer lifetime value held by the top customers",
        .caption = "Customers ranked by CLV, most valuable first: the point at x holds the share "
                   "of all CLV that the top x% of customers hold. A steep start means value is "
                   "concentrated in few customers. Shares are exact to within 0.55% of the last "
                   "partial value bin (docs/report.md).",
        .x_title = "top customers by CLV (%)",
        .y_title = "share of CLV (%)",
        .n = N,
        .labels = labels,
        .x = x,
        .x_hi = 100,
        .label_title = "customers",
        .value_max = 100,
        .n_series = 1,
        .series = {{"share of CLV (%)", share_pct, 1, 0}},
    };
    sgs_svg_line_chart(out, &c);
}

/* The model over (repeat purchases, recency) at the base's longest age, as lifetimes draws it:
 * expected purchases over the horizon, then P(alive). */
static void frequency_recency_maps(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_value_t *v = &st->value;
    if (!st->figures.has_fr_grid)
        return;
    const sgs_fr_grid_t g = st->figures.fr_grid;
    const char *unit = st->req->config->time_unit;
    char row_names[SGS_FR_GRID_MAX_ROWS][24], col_names[SGS_FR_GRID_COLS][24];
    const char *rows[SGS_FR_GRID_MAX_ROWS], *cols[SGS_FR_GRID_COLS];
    for (size_t r = 0; r < g.n_rows; r++) {
        snprintf(row_names[r], sizeof row_names[r], "x=%.0f", g.frequency[r]);
        rows[r] = row_names[r];
    }
    for (size_t j = 0; j < g.n_cols; j++) {
        sgs_html_number(g.recency[j], g.age >= 100 ? 0 : 1, col_names[j] + 4,
                        sizeof col_names[j] - 4);
        memcpy(col_names[j], "t_x=", 4);
        cols[j] = col_names[j];
    }
    const char *model = sgs_purchase_model_name(v->model);
    char title[160], caption[640], x_title[96], series[64], age[32];
    sgs_html_number(g.age, g.age >= 100 ? 0 : 1, age, sizeof age);
    snprintf(x_title, sizeof x_title, "recency t_x: age at the last purchase (%ss)", unit);
    snprintf(title, sizeof title,
             "Expected purchases in the next %g %ss by repeat purchases and "
             "recency (%s)",
             v->horizon, unit, model);
    snprintf(caption, sizeof caption,
             "Each cell is a customer first seen %s %ss ago (the oldest in the base) with x repeat "
             "purchases, the last one at age t_x, as the fitted %s scores them (lifetimes' "
             "frequency-recency matrix). Bottom right: frequent and recent, the best; bottom "
             "left: frequent buyers gone quiet. Cells with x > 0 and t_x = 0 cannot occur.",
             age, unit, model);
    snprintf(series, sizeof series, "expected purchases (next %g %ss)", v->horizon, unit);
    sgs_chart_t c = {
        .name = "frequency-recency-expected",
        .title = title,
        .caption = caption,
        .x_title = x_title,
        .y_title = "repeat purchases x",
        .n = g.n_cols,
        .labels = cols,
        .n_rows = g.n_rows,
        .row_labels = rows,
        .n_series = 1,
        .series = {{series, g.expected, 2, 0}},
    };
    sgs_svg_heat_map(out, &c);
    if (!v->p_alive_informative) {
        fputs("<p>", out);
        sgs_html_textf(out,
                       "No P(alive) map: the %s fit does not identify dropout (see the "
                       "warnings), so the run treats P(alive) as unknown.",
                       model);
        fputs("</p>\n", out);
        return;
    }
    snprintf(title, sizeof title,
             "Probability a customer is still active by repeat purchases "
             "and recency (%s)",
             model);
    c.name = "frequency-recency-p-alive";
    c.title = title;
    c.caption = "The same customers as above, the model's probability that each is still a "
                "customer (lifetimes' probability-alive matrix). Under BG/NBD a customer without "
                "a repeat purchase (x=0) is alive by assumption, whatever the time since.";
    c.value_max = 1;
    c.series[0] = (sgs_chart_series_t){.name = "P(alive)", .values = g.p_alive, .decimals = 2};
    sgs_svg_heat_map(out, &c);
}

static void backtest_table(const sgs_run_state_t *st, FILE *out)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    char cal_end[16], b[48];
    sgs_date_format_day(bt->calibration_end_day, cal_end, sizeof cal_end);
    const char *unit = st->days_per_unit == 1.0 ? "days" : "weeks";
    fputs("<p>", out);
    sgs_html_textf(out,
                   "The models fitted on the history up to %s, checked on the %g %s after it "
                   "(%zu customers, %zu of them bought again%s).",
                   cal_end, bt->holdout, unit, bt->n_scored, bt->n_bought_again,
                   bt->n_scored < bt->n_cohort ? "; a sample chosen by a hash of the customer "
                                                 "id: value.backtest_sample"
                                               : "");
    fputs("</p>\n<table class=\"backtest\">\n<thead><tr><th>model</th><th>log score</th>"
          "<th>Brier</th><th>MAE</th><th>total error</th><th></th></tr></thead>\n<tbody>\n",
          out);
    for (int j = 0; j < bt->n_models; j++) {
        const sgs_backtest_model_t *bm = &bt->models[j];
        fputs("<tr><th scope=\"row\">", out);
        sgs_html_text(out, sgs_purchase_model_name(bm->model));
        fputs("</th>", out);
        if (bm->ok) {
            fprintf(out, "<td>%s</td>", sgs_html_number(bm->log_score, 4, b, sizeof b));
            fprintf(out, "<td>%s</td>", sgs_html_number(bm->brier, 4, b, sizeof b));
            fprintf(out, "<td>%s</td>", sgs_html_number(bm->mae, 4, b, sizeof b));
            fprintf(out, "<td>%s%s%%</td>", bm->total_error >= 0 ? "+" : "",
                    sgs_html_number(100 * bm->total_error, 1, b, sizeof b));
            fprintf(out, "<td class=\"text\">%s</td></tr>\n", j == bt->chosen ? "best" : "");
        } else {
            fputs("<td colspan=\"5\" class=\"text\">not fitted: ", out);
            sgs_html_text(out, bm->failure);
            fputs("</td></tr>\n", out);
        }
    }
    fputs("</tbody>\n</table>\n<p>", out);
    sgs_html_textf(out, "Chosen: %s, %s.", sgs_purchase_model_name(bt->models[bt->chosen].model),
                   bt->chosen_because);
    if (bt->spend_ok)
        sgs_html_textf(out,
                       " Spend per purchase (Gamma-Gamma): mean absolute error %.2f over %zu "
                       "customers, total %+.1f%%.",
                       fabs(bt->spend_mae), bt->n_spend, 100 * bt->spend_total_error);
    fputs("</p>\n", out);
}

/* Cumulative repeat purchases over the holdout: actual against the model's expectation. */
static void tracking_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    size_t n = bt->n_tracking;
    if (n == 0)
        return;
    char dates[SGS_BACKTEST_TRACK_MAX][16];
    const char *labels[SGS_BACKTEST_TRACK_MAX];
    double x[SGS_BACKTEST_TRACK_MAX];
    for (size_t k = 0; k < n; k++) {
        sgs_date_format_day(bt->tracking_day[k], dates[k], sizeof dates[k]);
        labels[k] = dates[k];
        x[k] = (double)(bt->tracking_day[k] - bt->calibration_end_day);
    }
    const char *model = sgs_purchase_model_name(bt->models[bt->tracking_model].model);
    char title[160], expected_name[64], caption[512];
    snprintf(title, sizeof title,
             "Repeat purchases over the holdout: %s against what customers did", model);
    snprintf(expected_name, sizeof expected_name, "expected (%s)", model);
    snprintf(caption, sizeof caption,
             "Cumulative repeat purchases of the %zu backtest customers after the calibration "
             "end, as they happened (solid, round points) and as %s fitted on the calibration "
             "period expected them (dashed, square points). Points are dates; the table lists "
             "them.",
             bt->n_scored, model);
    sgs_chart_t c = {
        .name = "backtest-tracking",
        .title = title,
        .caption = caption,
        .x_title = "days after the calibration end",
        .y_title = "cumulative repeat purchases",
        .label_title = "date",
        .n = n,
        .labels = labels,
        .x = x,
        .n_series = 2,
        .series = {{"actual", bt->tracking_actual, 0, 0},
                   {expected_name, bt->tracking_expected, 1, 0}},
    };
    c.x_lo = 0;
    c.x_hi = x[n - 1];
    sgs_svg_line_chart(out, &c);
}

/* Mean holdout purchases by calibration repeat purchases, the model the run uses (else the
 * chosen one) against what customers did. */
static void by_frequency_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    const sgs_backtest_model_t *u = &bt->models[bt->used >= 0 ? bt->used : bt->chosen];
    enum { K = SGS_BACKTEST_FREQ_BINS };
    char names[K][24];
    const char *labels[K];
    double predicted[K], actual[K], customers[K];
    size_t n = 0;
    for (int k = 0; k < K; k++) {
        if (!(bt->by_frequency_customers[k] > 0))
            continue;
        snprintf(names[n], sizeof names[n], k + 1 < K ? "%d" : "%d+", k);
        labels[n] = names[n];
        predicted[n] = u->by_frequency_predicted[k];
        actual[n] = bt->by_frequency_actual[k];
        customers[n] = bt->by_frequency_customers[k];
        n++;
    }
    if (n == 0)
        return;
    char title[160], predicted_name[64];
    snprintf(title, sizeof title,
             "Purchases in the holdout by repeat purchases before it: %s against what customers "
             "did",
             sgs_purchase_model_name(u->model));
    snprintf(predicted_name, sizeof predicted_name, "predicted (%s)",
             sgs_purchase_model_name(u->model));
    sgs_chart_t c = {
        .name = "backtest-by-frequency",
        .title = title,
        .caption = "Customers grouped by their repeat purchases in the calibration period; per "
                   "group, the mean number of purchases in the holdout the model expected "
                   "(solid) and the mean customers made (hollow). Bars of equal length mean the "
                   "model is right for that group.",
        .x_title = "mean purchases in the holdout per customer",
        .y_title = "repeat purchases before the holdout",
        .n = n,
        .labels = labels,
        .n_series = 3,
        .series = {{predicted_name, predicted, 3, 0},
                   {"actual", actual, 3, 0},
                   {"customers", customers, 0, 1}},
    };
    sgs_svg_bar_chart(out, &c);
}

static void calibration_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    const sgs_backtest_model_t *u = &bt->models[bt->used];
    double x[SGS_RELIABILITY_MAX_BINS], observed[SGS_RELIABILITY_MAX_BINS],
        predicted[SGS_RELIABILITY_MAX_BINS], weight[SGS_RELIABILITY_MAX_BINS];
    char names[SGS_RELIABILITY_MAX_BINS][24];
    const char *labels[SGS_RELIABILITY_MAX_BINS];
    size_t n = 0;
    for (int b = 0; b < u->raw.n_bins; b++) {
        if (!(u->raw.weight[b] > 0))
            continue;
        x[n] = predicted[n] = u->raw.predicted[b];
        observed[n] = u->raw.observed[b];
        weight[n] = u->raw.weight[b];
        snprintf(names[n], sizeof names[n], "decile %d", b + 1);
        labels[n] = names[n];
        n++;
    }
    if (n == 0)
        return;
    char caption[512];
    snprintf(caption, sizeof caption,
             "%s's probability of buying in the holdout against the share who did, by decile "
             "of the probability (points on the dashed diagonal are perfectly calibrated). "
             "Largest gap %.3f (model), %.3f after calibration; Brier %.4f -> %.4f. p_buy is "
             "the calibrated probability (docs/backtest.md).",
             sgs_purchase_model_name(u->model), u->raw.max_gap, u->calibrated.max_gap, u->raw.brier,
             u->calibrated.brier);
    sgs_chart_t c = {
        .name = "calibration",
        .title = "Can P(buy) be trusted? Predicted against observed, per decile",
        .caption = caption,
        .x_title = "predicted probability of buying in the holdout",
        .y_title = "observed share who bought",
        .n = n,
        .labels = labels,
        .x = x,
        .x_hi = 1,
        .label_title = "decile of the predicted probability",
        .value_max = 1,
        .n_series = 3,
        .series = {{"observed share", observed, 3, 0},
                   {"predicted (diagonal)", predicted, 3, 0},
                   {"customers", weight, 0, 1}},
    };
    sgs_svg_line_chart(out, &c);
}

static void stage_check_table(const sgs_run_state_t *st, FILE *out)
{
    const sgs_backtest_t *bt = &st->value.backtest;
    if (!bt->stages_ran)
        return;
    char a[48], b[48];
    fputs("<h3>Do the stages mean what they say?</h3>\n<p>The same customers staged at the "
          "calibration end, and the share of each stage who bought in the holdout.</p>\n"
          "<table class=\"stage-check\">\n<thead><tr><th>stage</th><th>customers</th>"
          "<th>bought</th></tr></thead>\n<tbody>\n",
          out);
    for (int k = 0; k < SGS_STAGE_COUNT; k++) {
        if (bt->stage_customers[k] == 0)
            continue;
        fputs("<tr><th scope=\"row\">", out);
        sgs_html_text(out, sgs_stage_name(k));
        fprintf(
            out, "</th><td>%s</td><td>%s%%</td></tr>\n",
            sgs_html_grouped((double)bt->stage_customers[k], 0, a, sizeof a),
            sgs_html_number(100.0 * (double)bt->stage_bought[k] / (double)bt->stage_customers[k], 1,
                            b, sizeof b));
    }
    fputs("</tbody>\n</table>\n", out);
}

void sgs__html_value(const sgs_run_state_t *st, FILE *out)
{
    sgs__html_section_begin(out, "value", "What they are worth");
    model_table(st, out);
    clv_table(st, out);
    concentration_chart(st, out);
    frequency_recency_maps(st, out);
    sgs__html_section_end(out);
    const sgs_backtest_t *bt = &st->value.backtest;
    sgs__html_section_begin(out, "backtest", "Backtest: the models checked on held-out history");
    if (!bt->ran) {
        fputs("<p>", out);
        sgs_html_textf(out, "Not run (%s).", bt->skipped);
        fputs("</p>\n", out);
    } else {
        backtest_table(st, out);
        tracking_chart(st, out);
        by_frequency_chart(st, out);
        if (bt->used >= 0) {
            calibration_chart(st, out);
            stage_check_table(st, out);
        }
    }
    sgs__html_section_end(out);
}
