/*
 * engine/report_html_actions.c — report.html's stage, audit and opportunity sections:
 * customers per lifecycle stage (summary.json's stages.per_stage), the transitions between
 * the two as-of dates, contacts and response rate per stage (the audit), opportunities listed
 * per kind and per channel, the top of the list, and what a measurement taught the run
 * (report.txt's "Where they are", "Contact activity" and "Whom to contact today").
 */
#include "engine/report_html.h"
#include "engine/run_actions.h"

#include "io/html_doc.h"
#include "io/svg_chart.h"

#include <math.h>

/* ---- stages -------------------------------------------------------------------------------- */

static void stage_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_actions_t *A = st->actions;
    const char *labels[SGS_STAGE_COUNT];
    double now[SGS_STAGE_COUNT], before[SGS_STAGE_COUNT], days[SGS_STAGE_COUNT];
    size_t n = 0;
    for (int s = 0; s < SGS_STAGE_COUNT; s++) {
        if (A->stage_summary.n_per_stage[s] == 0)
            continue;
        labels[n] = sgs_stage_name(s);
        now[n] = (double)A->stage_summary.n_per_stage[s];
        before[n] = A->has_compare ? (double)A->compare_summary.n_per_stage[s] : (double)NAN;
        days[n] = A->has_compare ? A->mean_days_in_stage[s] : (double)NAN;
        n++;
    }
    if (n == 0)
        return;
    char title[96], at_compare[64];
    snprintf(title, sizeof title, "Customers per lifecycle stage on %s", st->read.as_of_text);
    snprintf(at_compare, sizeof at_compare, "customers on %s", A->compare_text);
    sgs_chart_t c = {
        .name = "stages",
        .title = title,
        .caption = A->has_compare ? "One bar per stage with customers; the table adds the "
                                    "count at the compared date and the mean days in the stage."
                                  : "One bar per stage with customers (docs/stages.md).",
        .x_title = "customers",
        .y_title = "stage",
        .n = n,
        .labels = labels,
        .n_series = A->has_compare ? 3 : 1,
        .series = {{"customers", now, 0, 0},
                   {at_compare, before, 0, 1},
                   {"mean days in stage", days, 1, 1}},
    };
    sgs_svg_bar_chart(out, &c);
}

static void transition_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A->has_compare)
        return;
    int keep[SGS_STAGE_COUNT];
    const char *names[SGS_STAGE_COUNT];
    size_t n = 0;
    for (int s = 0; s < SGS_STAGE_COUNT; s++)
        if (A->stage_summary.n_per_stage[s] > 0 || A->compare_summary.n_per_stage[s] > 0) {
            keep[n] = s;
            names[n] = sgs_stage_name(s);
            n++;
        }
    if (n == 0)
        return;
    double cells[SGS_STAGE_COUNT * SGS_STAGE_COUNT];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            cells[i * n + j] = (double)A->transitions[keep[i] * SGS_STAGE_COUNT + keep[j]];
    char title[128], x_title[64], y_title[64];
    snprintf(title, sizeof title, "Stage transitions from %s to %s", A->compare_text,
             st->read.as_of_text);
    snprintf(x_title, sizeof x_title, "stage on %s", st->read.as_of_text);
    snprintf(y_title, sizeof y_title, "stage on %s", A->compare_text);
    sgs_chart_t c = {
        .name = "transitions",
        .title = title,
        .caption = "Rows: the stage at the earlier date; columns: the stage now. Each cell "
                   "counts the customers who moved that way (the diagonal stayed). Darker cells "
                   "hold more customers.",
        .x_title = x_title,
        .y_title = y_title,
        .n = n,
        .labels = names,
        .n_rows = n,
        .row_labels = names,
        .label_join = " to ",
        .n_series = 1,
        .series = {{"customers", cells, 0, 0}},
    };
    sgs_svg_heat_map(out, &c);
}

/* ---- audit --------------------------------------------------------------------------------- */

static int64_t sum_channels(const int64_t v[SGS_CHANNEL_COUNT])
{
    int64_t s = 0;
    for (int c = 0; c < SGS_CHANNEL_COUNT; c++)
        s += v[c];
    return s;
}

static void audit_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_actions_t *A = st->actions;
    const int l = SGS_AUDIT_WINDOWS - 1;
    const char *labels[SGS_STAGE_COUNT];
    double contacts[SGS_STAGE_COUNT], responses[SGS_STAGE_COUNT], rate[SGS_STAGE_COUNT],
        customers[SGS_STAGE_COUNT];
    size_t n = 0;
    for (int s = 0; s < SGS_STAGE_COUNT; s++) {
        const sgs_audit_row_t *r = &A->audit_stage[s];
        if (r->customers == 0)
            continue;
        labels[n] = sgs_stage_name(s);
        customers[n] = (double)r->customers;
        contacts[n] = (double)sum_channels(r->contacts[l]);
        responses[n] = (double)sum_channels(r->responses[l]);
        rate[n] = contacts[n] > 0 ? 100.0 * responses[n] / contacts[n] : (double)NAN;
        n++;
    }
    if (n == 0)
        return;
    char title[128], contacts_name[48], rate_name[48];
    snprintf(title, sizeof title, "Campaign contacts per stage, last %d days",
             (int)A->audit_cfg.window_days[l]);
    snprintf(contacts_name, sizeof contacts_name, "contacts (%dd)",
             (int)A->audit_cfg.window_days[l]);
    snprintf(rate_name, sizeof rate_name, "response rate (%%, %dd)",
             (int)A->audit_cfg.window_days[l]);
    sgs_chart_t c = {
        .name = "audit",
        .title = title,
        .caption = "Campaign contacts sent to the customers of each stage, with the responses "
                   "and the response rate (responses / contacts, NaN without contacts) in the "
                   "table.",
        .x_title = "campaign contacts",
        .y_title = "stage",
        .n = n,
        .labels = labels,
        .n_series = 4,
        .series = {{contacts_name, contacts, 0, 0},
                   {"responses", responses, 0, 1},
                   {rate_name, rate, 1, 1},
                   {"customers", customers, 0, 1}},
    };
    sgs_svg_bar_chart(out, &c);
}

static int audit_section(const sgs_run_state_t *st, FILE *out, sgs_error_t *err)
{
    const sgs_run_actions_t *A = st->actions;
    int rc = SGS_OK;
    sgs__html_section_begin(out, "audit", "Contact activity (audit)");
    if (!A->audit_ran) {
        fputs("<p>No /events in the input, so there is nothing to audit.</p>\n", out);
    } else {
        audit_chart(st, out);
        rc = sgs__html_text_section(st, out, sgs_report_audit,
                                    "Contact activity by stage, RFM segment and channel, as in "
                                    "report.txt",
                                    1, err);
    }
    sgs__html_section_end(out);
    return rc;
}

/* ---- opportunities ------------------------------------------------------------------------- */

static void kind_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_actions_t *A = st->actions;
    const sgs_opportunity_list_summary_t *l = &A->list;
    const char *labels[SGS_OPP_KIND_COUNT];
    double listed[SGS_OPP_KIND_COUNT], fired[SGS_OPP_KIND_COUNT], control[SGS_OPP_KIND_COUNT],
        value[SGS_OPP_KIND_COUNT];
    size_t n = 0;
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        if (l->n_listed_per_kind[k] == 0)
            continue;
        labels[n] = sgs_opportunity_kind_name(k);
        listed[n] = (double)l->n_listed_per_kind[k];
        fired[n] = (double)A->opp_stats.n_fired[k];
        control[n] = (double)l->n_control_per_kind[k];
        value[n] = A->value_listed_per_kind[k];
        n++;
    }
    if (n == 0)
        return;
    sgs_chart_t c = {
        .name = "opportunities-kind",
        .title = "Opportunities listed per kind",
        .caption = "Rows of opportunities.csv per kind (control rows included); the table adds "
                   "how often the kind fired, the control rows and the value at stake listed.",
        .x_title = "rows listed",
        .y_title = "opportunity",
        .n = n,
        .labels = labels,
        .n_series = 4,
        .series = {{"listed", listed, 0, 0},
                   {"fired", fired, 0, 1},
                   {"control", control, 0, 1},
                   {"value at stake", value, 0, 1}},
    };
    sgs_svg_bar_chart(out, &c);
}

static void channel_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_opportunity_list_summary_t *l = &st->actions->list;
    const char *labels[SGS_CHANNEL_COUNT];
    double listed[SGS_CHANNEL_COUNT];
    size_t n = 0;
    for (int ch = 0; ch < SGS_CHANNEL_COUNT; ch++) {
        if (l->n_listed_per_channel[ch] == 0)
            continue;
        labels[n] = sgs_channel_name(ch);
        listed[n] = (double)l->n_listed_per_channel[ch];
        n++;
    }
    if (n == 0)
        return;
    sgs_chart_t c = {
        .name = "opportunities-channel",
        .title = "Opportunities listed per channel",
        .caption = "Rows of opportunities.csv by the channel assigned, after capacity.",
        .x_title = "rows listed",
        .y_title = "channel",
        .n = n,
        .labels = labels,
        .n_series = 1,
        .series = {{"listed", listed, 0, 0}},
    };
    sgs_svg_bar_chart(out, &c);
}

/* Channels with a daily capacity: the share of it the list uses (control rows take their
 * place like the others), and the rows left out whose own channel it was. */
static void capacity_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_opportunity_list_summary_t *l = &st->actions->list;
    const int64_t *cap = st->actions->opp_cfg.channel_capacity;
    const char *labels[SGS_CHANNEL_COUNT];
    double use[SGS_CHANNEL_COUNT], listed[SGS_CHANNEL_COUNT], capacity[SGS_CHANNEL_COUNT],
        left_out[SGS_CHANNEL_COUNT];
    size_t n = 0;
    for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++) {
        if (cap[ch] < 0 || (cap[ch] == 0 && l->n_left_out_per_channel[ch] == 0))
            continue; /* unlimited, or not allowed and nobody wanted it */
        labels[n] = sgs_channel_name(ch);
        listed[n] = (double)l->n_listed_per_channel[ch];
        capacity[n] = (double)cap[ch];
        use[n] = cap[ch] > 0 ? 100.0 * listed[n] / capacity[n] : (double)NAN;
        left_out[n] = (double)l->n_left_out_per_channel[ch];
        n++;
    }
    if (n == 0) {
        fputs("<p>No channel has a daily capacity (actions.capacity.*): nothing was left "
              "out for lack of room.</p>\n",
              out);
        return;
    }
    sgs_chart_t c = {
        .name = "capacity",
        .title = "Capacity use per channel",
        .caption = "Rows listed on each channel with a daily capacity, as a share of it "
                   "(actions.capacity.*; control rows take their place like the others). "
                   "The table adds the rows, the capacity and the rows left out whose own "
                   "channel it was; a channel that is not allowed (capacity 0) shows NaN.",
        .x_title = "capacity used (%)",
        .y_title = "channel",
        .n = n,
        .labels = labels,
        .value_max = 100,
        .n_series = 4,
        .series = {{"capacity used (%)", use, 1, 0},
                   {"listed", listed, 0, 1},
                   {"capacity", capacity, 0, 1},
                   {"left out (own channel)", left_out, 0, 1}},
    };
    sgs_svg_bar_chart(out, &c);
}

/* With actions.learn_from: the measured incremental revenue per contacted customer of each
 * kind on the measured list, with its 95% interval, beside the value the list assumed. */
static void measured_impact_chart(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_learned_t *L = &st->actions->learned;
    const char *labels[SGS_OPP_KIND_COUNT];
    double measured[SGS_OPP_KIND_COUNT], lo[SGS_OPP_KIND_COUNT], hi[SGS_OPP_KIND_COUNT],
        assumed[SGS_OPP_KIND_COUNT];
    size_t n = 0;
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        const sgs_measure_file_kind_t *m = &L->file.kind[k];
        if (!m->listed || m->n_treated <= 0)
            continue;
        double per = 1.0 / (double)m->n_treated;
        labels[n] = sgs_opportunity_kind_name(k);
        measured[n] = m->incremental_revenue * per;
        lo[n] = m->lo * per;
        hi[n] = m->hi * per;
        assumed[n] = m->assumed_value;
        n++;
    }
    if (n == 0)
        return;
    sgs_chart_t c = {
        .name = "measured-impact",
        .title = "Measured incremental revenue per contacted customer, by kind",
        .caption = "Per kind of the measured list: revenue per contacted customer minus the "
                   "control group's, with its 95% interval (the whisker; segscore measure), "
                   "beside the value at stake the list assumed (hollow). An interval that "
                   "crosses 0 is not conclusive; one wholly left of 0 means the contacts lost "
                   "money.",
        .x_title = "revenue per contacted customer",
        .y_title = "opportunity",
        .n = n,
        .labels = labels,
        .lo = lo,
        .hi = hi,
        .n_series = 4,
        .series = {{.name = "measured", .values = measured, .decimals = 2},
                   {.name = "assumed", .values = assumed, .decimals = 2},
                   {.name = "95% low", .values = lo, .decimals = 2, .table_only = 1},
                   {.name = "95% high", .values = hi, .decimals = 2, .table_only = 1}},
    };
    sgs_svg_bar_chart(out, &c);
}

/* With output.compare_summary: customers per stage and rows per kind, previous run and this. */
static void since_previous_stages(const sgs_run_state_t *st, FILE *out)
{
    const char *names[SGS_STAGE_COUNT];
    double now[SGS_STAGE_COUNT];
    for (int s = 0; s < SGS_STAGE_COUNT; s++) {
        names[s] = sgs_stage_name(s);
        now[s] = (double)st->actions->stage_summary.n_per_stage[s];
    }
    sgs__html_compare_counts(st, out, "stages-since-previous",
                             "Customers per lifecycle stage, previous run and this one",
                             "customers", "stage", names, st->previous.stage_customers, now,
                             SGS_STAGE_COUNT);
}

static void since_previous_kinds(const sgs_run_state_t *st, FILE *out)
{
    const char *names[SGS_OPP_KIND_COUNT] = {NULL};
    double now[SGS_OPP_KIND_COUNT] = {0};
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        names[k] = sgs_opportunity_kind_name(k);
        now[k] = (double)st->actions->list.n_listed_per_kind[k];
    }
    sgs__html_compare_counts(st, out, "opportunities-since-previous",
                             "Opportunities listed per kind, previous run and this one",
                             "rows listed", "opportunity", names, st->previous.listed_per_kind, now,
                             SGS_OPP_KIND_COUNT);
}

static void list_notes(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_actions_t *A = st->actions;
    const sgs_opportunity_list_summary_t *l = &A->list;
    fputs("<ul class=\"notes\">\n<li>", out);
    sgs_html_textf(out, "%lld opportunities listed", (long long)l->n_listed);
    if (l->n_left_out > 0)
        sgs_html_textf(out, ", %lld left out for lack of channel capacity",
                       (long long)l->n_left_out);
    fputs(" (opportunities.csv).</li>\n", out);
    if (l->n_control > 0) {
        fputs("<li>", out);
        sgs_html_textf(out,
                       "%lld of them are control (group=control, %.0f%% of each kind): do not "
                       "contact them; what they do without a contact is what the others are "
                       "measured against.",
                       (long long)l->n_control, 100.0 * A->opp_cfg.control_share);
        fputs("</li>\n", out);
    }
    if (A->policy.n_held_back > 0) {
        fputs("<li>", out);
        sgs_html_textf(out,
                       "%lld customers held back: contacted in the last %d days, and their "
                       "opportunity is below priority %d (actions.min_days_between_contacts).",
                       (long long)A->policy.n_held_back, (int)A->opp_cfg.min_days_between_contacts,
                       (int)A->opp_cfg.contact_override_priority);
        fputs("</li>\n", out);
    }
    if (l->n_unanswered_moved + l->n_unanswered_left_out > 0) {
        fputs("<li>", out);
        sgs_html_textf(out,
                       "%lld rows moved off a channel the customer never answers (%d or more "
                       "contacts, no response), %lld left out with no other channel.",
                       (long long)l->n_unanswered_moved, (int)A->opp_cfg.max_unanswered_contacts,
                       (long long)l->n_unanswered_left_out);
        fputs("</li>\n", out);
    }
    fputs("<li>", out);
    if (l->n_spilled > 0)
        sgs_html_textf(out, "%lld rows moved to another channel: their own was full or not used.",
                       (long long)l->n_spilled);
    else
        fputs("No row moved to another channel (no spill).", out);
    fputs("</li>\n</ul>\n", out);
}

static void top_table(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_actions_t *A = st->actions;
    _Static_assert(SGS_REPORT_HTML_TOP_ROWS <= SGS_RUN_TOP_ROWS, "its rows are among A->top");
    size_t top = A->n_top < SGS_REPORT_HTML_TOP_ROWS ? A->n_top : SGS_REPORT_HTML_TOP_ROWS;
    if (top == 0)
        return;
    char b[48];
    fprintf(out,
            "<h3>Top %zu</h3>\n<table class=\"top\">\n<thead><tr><th>rank</th><th>customer</th>"
            "<th class=\"text\">opportunity</th><th class=\"text\">channel</th>"
            "<th>value at stake</th><th class=\"text\">group</th><th class=\"text\">why</th>"
            "</tr></thead>\n<tbody>\n",
            top);
    for (size_t r = 0; r < top; r++) {
        const sgs_run_top_row_t *t = &A->top[r];
        fprintf(out, "<tr><td>%lld</td><td>%lld</td><td class=\"text\">", (long long)t->rank,
                (long long)t->customer_id);
        sgs_html_text(out, sgs_opportunity_kind_name(t->kind));
        fputs("</td><td class=\"text\">", out);
        sgs_html_text(out, sgs_channel_name(t->channel));
        fprintf(out, "</td><td>%s</td><td class=\"text\">%s</td><td class=\"text\">",
                sgs_html_grouped(t->value_at_stake, 0, b, sizeof b),
                t->control ? "control: do not contact" : "contact");
        sgs_html_text(out, t->reason);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

int sgs__html_actions(const sgs_run_state_t *st, FILE *out, sgs_error_t *err)
{
    const sgs_run_actions_t *A = st->actions;
    sgs__html_section_begin(out, "stages", "Where they are: lifecycle stages");
    stage_chart(st, out);
    if (st->has_previous)
        since_previous_stages(st, out);
    transition_chart(st, out);
    sgs__html_section_end(out);
    int rc = audit_section(st, out, err);
    if (rc)
        return rc;
    sgs__html_section_begin(out, "opportunities", "Whom to contact today");
    list_notes(st, out);
    kind_chart(st, out);
    if (st->has_previous)
        since_previous_kinds(st, out);
    channel_chart(st, out);
    capacity_chart(st, out);
    if (A->learned.ran)
        measured_impact_chart(st, out);
    if (A->learned.ran)
        rc = sgs__html_text_section(st, out, sgs_report_learned,
                                    "What the run learned from a measurement (actions.learn_from)",
                                    1, err);
    top_table(st, out);
    sgs__html_section_end(out);
    return rc;
}
