/*
 * engine/write_audit.c — the interaction audit in the outputs (docs/audit.md): /audit in the
 * results file, "audit" in summary.json and the report's "Contact activity" section, from
 * the tallies of engine/run_audit.c.
 */
#include "engine/run_actions.h"

#include "io/h5_columns.h"
#include "io/json_doc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

/* A grouping of the audit: its rows (the last is everyone) and their names. */
typedef struct audit_table {
    const char *name; /* "by_stage", "by_rfm_segment" */
    const sgs_audit_row_t *rows;
    size_t n_rows;
    const char *row_names[SGS_RFM_SEGMENT_COUNT + 2];
} audit_table_t;

static void audit_tables(const sgs_run_actions_t *A, audit_table_t t[2])
{
    t[0] = (audit_table_t){"by_stage", A->audit_stage, SGS_STAGE_COUNT + 1, {0}};
    for (int s = 0; s < SGS_STAGE_COUNT; s++)
        t[0].row_names[s] = sgs_stage_name(s);
    t[0].row_names[SGS_STAGE_COUNT] = "all";
    t[1] = (audit_table_t){"by_rfm_segment", A->audit_rfm, SGS_RFM_SEGMENT_COUNT + 2, {0}};
    for (int s = 0; s < SGS_RFM_SEGMENT_COUNT; s++)
        t[1].row_names[s] = sgs_rfm_segment_name(s);
    t[1].row_names[SGS_RFM_SEGMENT_COUNT] = "no purchase";
    t[1].row_names[SGS_RFM_SEGMENT_COUNT + 1] = "all";
}

static double survey_mean(const sgs_audit_row_t *r)
{
    return r->surveyed > 0 ? r->survey_sum / (double)r->surveyed : (double)NAN;
}

static int64_t sum_channels(const int64_t v[SGS_CHANNEL_COUNT])
{
    int64_t s = 0;
    for (int c = 0; c < SGS_CHANNEL_COUNT; c++)
        s += v[c];
    return s;
}

/* ---- results.h5 ------------------------------------------------------------------------- */

/* The datasets of one grouping under /audit/<name>. */
static int write_table(hid_t f, const audit_table_t *t, sgs_error_t *err)
{
    enum { W = SGS_AUDIT_WINDOWS, C = SGS_CHANNEL_COUNT, G = SGS_RFM_SEGMENT_COUNT + 2 };
    /* on the stack (1.7 KB): nothing here can fail on one process of a spread run alone
     * between its HDF5 calls, which every process must make alike (engine/write_results.c) */
    _Static_assert(SGS_STAGE_COUNT + 1 <= G, "the largest table is by RFM segment");
    const size_t g = t->n_rows;
    int64_t buf[G * W * C];
    double mean[G];
    char path[96];
    int rc = SGS_OK;
/* field of every row, as an array of rank 1 (per row), 2 (per row and window) or 3 (per row,
 * window and channel) */
#define WRITE(field, rank, per_row)                                                                \
    if (rc == SGS_OK) {                                                                            \
        for (size_t r = 0; r < g; r++)                                                             \
            memcpy(buf + r * (per_row), &t->rows[r].field, (per_row) * sizeof *buf);               \
        snprintf(path, sizeof path, "/audit/%s/%s", t->name, #field);                              \
        rc = sgs_h5_write_array(f, path, SGS_H5_I64, buf, rank, (const size_t[]){g, W, C}, err);   \
    }
    WRITE(customers, 1, 1)
    WRITE(with_opportunity, 1, 1)
    WRITE(contacted, 2, W)
    WRITE(contacts, 3, W * C)
    WRITE(contacted_via, 3, W * C)
    WRITE(responses, 3, W * C)
    WRITE(responders, 2, W)
    WRITE(support, 2, W)
    WRITE(complaints, 2, W)
    WRITE(untapped, 2, W)
    WRITE(surveyed, 1, 1)
#undef WRITE
    for (size_t r = 0; r < g; r++)
        mean[r] = survey_mean(&t->rows[r]);
    snprintf(path, sizeof path, "/audit/%s/survey_mean", t->name);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, path, SGS_H5_F64, mean, g, 0, err);
    snprintf(path, sizeof path, "/audit/%s", t->name);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, path, "row_names", t->row_names, g, err);
    return rc;
}

int sgs_write_audit_h5(const sgs_run_state_t *st, hid_t f, sgs_error_t *err)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A || !A->audit_ran)
        return SGS_OK;
    audit_table_t t[2];
    audit_tables(A, t);
    const char *channels[SGS_CHANNEL_COUNT], *kinds[SGS_OPP_KIND_COUNT];
    for (int c = 0; c < SGS_CHANNEL_COUNT; c++)
        channels[c] = sgs_channel_name(c);
    for (int k = 0; k < SGS_OPP_KIND_COUNT; k++)
        kinds[k] = k ? sgs_opportunity_kind_name(k) : "";
    int rc = write_table(f, &t[0], err);
    if (rc == SGS_OK)
        rc = write_table(f, &t[1], err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_array(f, "/audit/untapped_per_kind", SGS_H5_I64,
                                A->audit_untapped_per_kind, 2,
                                (const size_t[]){SGS_OPP_KIND_COUNT, SGS_AUDIT_WINDOWS}, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/audit/untapped_per_kind", "kind_names", kinds,
                                 SGS_OPP_KIND_COUNT, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/audit", "as_of", st->read.as_of_text, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/audit", "short_window_days", A->audit_cfg.window_days[0], err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/audit", "long_window_days", A->audit_cfg.window_days[1], err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/audit", "channels_known", A->event_channels_present, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/audit", "channel_names", channels, SGS_CHANNEL_COUNT, err);
    return rc;
}

/* ---- summary.json ----------------------------------------------------------------------- */

static void add_rate(cJSON *o, const char *name, int64_t num, int64_t den)
{
    if (den > 0)
        cJSON_AddNumberToObject(o, name, (double)num / (double)den);
    else
        cJSON_AddNullToObject(o, name);
}

/* One row: counts per window ("30d", "90d") and channel (only channels with a contact or
 * response). */
static cJSON *row_object(const sgs_run_actions_t *A, const sgs_audit_row_t *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "customers", (double)r->customers);
    cJSON_AddNumberToObject(o, "with_opportunity", (double)r->with_opportunity);
    for (int w = 0; w < SGS_AUDIT_WINDOWS; w++) {
        char name[24];
        snprintf(name, sizeof name, "%dd", (int)A->audit_cfg.window_days[w]);
        cJSON *win = cJSON_AddObjectToObject(o, name);
        int64_t contacts = sum_channels(r->contacts[w]), responses = sum_channels(r->responses[w]);
        cJSON_AddNumberToObject(win, "contacted", (double)r->contacted[w]);
        cJSON_AddNumberToObject(win, "contacts", (double)contacts);
        cJSON_AddNumberToObject(win, "responses", (double)responses);
        add_rate(win, "response_rate", responses, contacts);
        cJSON_AddNumberToObject(win, "responders", (double)r->responders[w]);
        cJSON_AddNumberToObject(win, "support_contacts", (double)r->support[w]);
        cJSON_AddNumberToObject(win, "complaints", (double)r->complaints[w]);
        cJSON_AddNumberToObject(win, "untapped", (double)r->untapped[w]);
        cJSON *ch = cJSON_AddObjectToObject(win, "by_channel");
        for (int c = 0; c < SGS_CHANNEL_COUNT; c++) {
            if (r->contacts[w][c] == 0 && r->responses[w][c] == 0)
                continue;
            cJSON *one = cJSON_AddObjectToObject(ch, sgs_channel_name(c));
            cJSON_AddNumberToObject(one, "contacted", (double)r->contacted_via[w][c]);
            cJSON_AddNumberToObject(one, "contacts", (double)r->contacts[w][c]);
            cJSON_AddNumberToObject(one, "responses", (double)r->responses[w][c]);
            add_rate(one, "response_rate", r->responses[w][c], r->contacts[w][c]);
        }
    }
    cJSON_AddNumberToObject(o, "surveyed", (double)r->surveyed);
    double mean = survey_mean(r);
    if (isfinite(mean))
        cJSON_AddNumberToObject(o, "survey_mean", mean);
    else
        cJSON_AddNullToObject(o, "survey_mean");
    return o;
}

cJSON *sgs_audit_json(const sgs_run_state_t *st)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A || !A->audit_ran)
        return cJSON_CreateNull();
    audit_table_t t[2];
    audit_tables(A, t);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "short_window_days", A->audit_cfg.window_days[0]);
    cJSON_AddNumberToObject(o, "long_window_days", A->audit_cfg.window_days[1]);
    cJSON_AddBoolToObject(o, "channels_known", A->event_channels_present);
    for (int k = 0; k < 2; k++) {
        cJSON *tab = cJSON_AddObjectToObject(o, t[k].name);
        for (size_t r = 0; r < t[k].n_rows; r++)
            if (t[k].rows[r].customers > 0 || r + 1 == t[k].n_rows)
                sgs_json_attach(tab, t[k].row_names[r], row_object(A, &t[k].rows[r]));
    }
    cJSON *un = cJSON_AddObjectToObject(o, "untapped_per_kind");
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        cJSON *kind = cJSON_AddObjectToObject(un, sgs_opportunity_kind_name(k));
        for (int w = 0; w < SGS_AUDIT_WINDOWS; w++) {
            char name[24];
            snprintf(name, sizeof name, "%dd", (int)A->audit_cfg.window_days[w]);
            cJSON_AddNumberToObject(kind, name, (double)A->audit_untapped_per_kind[k][w]);
        }
    }
    return o;
}

/* ---- report.txt ------------------------------------------------------------------------- */

static void percent(char *buf, size_t size, int64_t num, int64_t den)
{
    if (den > 0)
        snprintf(buf, size, "%.1f%%", 100.0 * (double)num / (double)den);
    else
        snprintf(buf, size, "-");
}

static void report_table(const sgs_run_actions_t *A, const audit_table_t *t, const char *title,
                         FILE *out)
{
    const int s = 0, l = SGS_AUDIT_WINDOWS - 1;
    fprintf(out, "\n%-20s %10s %10s %10s %9s %9s %8s %10s %9s\n", title, "customers", "contacted",
            "resp.rate", "support", "complaint", "survey", "untapped", "untapped");
    fprintf(out, "%-20s %10s %9dd %9dd %8dd %8dd %8s %9dd %8dd\n", "", "",
            (int)A->audit_cfg.window_days[l], (int)A->audit_cfg.window_days[l],
            (int)A->audit_cfg.window_days[l], (int)A->audit_cfg.window_days[l], "mean",
            (int)A->audit_cfg.window_days[s], (int)A->audit_cfg.window_days[l]);
    for (size_t r = 0; r < t->n_rows; r++) {
        const sgs_audit_row_t *row = &t->rows[r];
        if (row->customers == 0)
            continue;
        char contacted[16], rate[16], survey[16];
        percent(contacted, sizeof contacted, row->contacted[l], row->customers);
        percent(rate, sizeof rate, sum_channels(row->responses[l]), sum_channels(row->contacts[l]));
        if (row->surveyed > 0)
            snprintf(survey, sizeof survey, "%.1f", survey_mean(row));
        else
            snprintf(survey, sizeof survey, "-");
        fprintf(out, "%-20s %10lld %10s %10s %9lld %9lld %8s %10lld %9lld\n", t->row_names[r],
                (long long)row->customers, contacted, rate, (long long)row->support[l],
                (long long)row->complaints[l], survey, (long long)row->untapped[s],
                (long long)row->untapped[l]);
    }
}

void sgs_report_audit(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A)
        return;
    if (!A->audit_ran) {
        fprintf(out, "\nContact activity: no /events in the input, so there is nothing to audit\n");
        return;
    }
    audit_table_t t[2];
    audit_tables(A, t);
    const int s = 0, l = SGS_AUDIT_WINDOWS - 1;
    const sgs_audit_row_t *all = &A->audit_stage[SGS_STAGE_COUNT];
    char rate[16];
    percent(rate, sizeof rate, sum_channels(all->responses[l]), sum_channels(all->contacts[l]));
    fprintf(out,
            "\nContact activity (audit) up to %s: %lld campaign contacts to %lld customers in "
            "the last %d days, response rate %s; %lld customers with an opportunity were not "
            "contacted in the last %d days (untapped)\n",
            st->read.as_of_text, (long long)sum_channels(all->contacts[l]),
            (long long)all->contacted[l], (int)A->audit_cfg.window_days[l], rate,
            (long long)all->untapped[s], (int)A->audit_cfg.window_days[s]);
    report_table(A, &t[0], "stage", out);
    report_table(A, &t[1], "RFM segment", out);
    fprintf(out, "\nBy channel, last %d days:", (int)A->audit_cfg.window_days[l]);
    int any = 0;
    for (int c = 0; c < SGS_CHANNEL_COUNT; c++) {
        if (all->contacts[l][c] == 0 && all->responses[l][c] == 0)
            continue;
        percent(rate, sizeof rate, all->responses[l][c], all->contacts[l][c]);
        fprintf(out, "%s %s %lld contacts to %lld customers, %s responded", any ? ";" : "",
                sgs_channel_name(c), (long long)all->contacts[l][c],
                (long long)all->contacted_via[l][c], rate);
        any = 1;
    }
    fprintf(out, "%s\n", any ? "" : " no campaign contacts");
    if (!A->event_channels_present)
        fprintf(out, "(the input has no /events/channel: every contact is on channel unknown)\n");
    fprintf(out, "Untapped in the last %d days, by opportunity:", (int)A->audit_cfg.window_days[s]);
    any = 0;
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
        if (A->audit_untapped_per_kind[k][s] > 0) {
            fprintf(out, "%s %s %lld", any ? "," : "", sgs_opportunity_kind_name(k),
                    (long long)A->audit_untapped_per_kind[k][s]);
            any = 1;
        }
    fprintf(out, "%s\n", any ? "" : " none");
}
