/*
 * engine/write_learn.c — what a run learned from a measurement (engine/run_learn.c) in
 * summary.json (opportunities.learned) and in the report, kind by kind: the measured value
 * that replaced the assumed one, or why the assumption stays.
 */
#include "engine/run_actions.h"

#include "io/json_doc.h"
#include "kernels/dates.h"

#include <cjson/cJSON.h>
#include <math.h>

static void add_number_or_null(cJSON *o, const char *name, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

/* The channels of a mask, as names ("sms, mail"), or "" when none. */
static void channel_names(uint8_t mask, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 1; c < SGS_CHANNEL_COUNT && used < size; c++)
        if (mask >> c & 1u)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                     sgs_channel_name(c));
}

static cJSON *channel_array(uint8_t mask)
{
    cJSON *a = cJSON_CreateArray();
    for (int c = 1; c < SGS_CHANNEL_COUNT; c++)
        if (mask >> c & 1u)
            cJSON_AddItemToArray(a, cJSON_CreateString(sgs_channel_name(c)));
    return a;
}

static const char *rfm_group_name(int g)
{
    return g < SGS_RFM_SEGMENT_COUNT ? sgs_rfm_segment_name(g) : "no purchase";
}

cJSON *sgs_learned_json(const sgs_run_state_t *st)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A || !A->learned.ran)
        return cJSON_CreateNull();
    const sgs_run_learned_t *L = &A->learned;
    cJSON *o = cJSON_CreateObject();
    char day[16];
    cJSON_AddStringToObject(o, "from", st->req->config->actions.learn_from);
    sgs_date_format_day(L->file.as_of_day, day, sizeof day);
    cJSON_AddStringToObject(o, "measured_list_as_of", day);
    sgs_date_format_day(L->file.window_last_day, day, sizeof day);
    cJSON_AddStringToObject(o, "outcomes_up_to", day);
    cJSON *kinds = cJSON_AddObjectToObject(o, "per_kind");
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        const sgs_measure_file_kind_t *m = &L->file.kind[k];
        cJSON *c = cJSON_AddObjectToObject(kinds, sgs_opportunity_kind_name(k));
        cJSON_AddBoolToObject(c, "measured", m->listed);
        cJSON_AddBoolToObject(c, "applied", L->applied[k]);
        add_number_or_null(c, "measured_per_customer", L->measured[k]);
        double n = (double)m->n_treated;
        cJSON *ci = cJSON_AddArrayToObject(c, "ci95_per_customer");
        if (m->listed && m->n_treated > 0 && isfinite(m->lo) && isfinite(m->hi)) {
            cJSON_AddItemToArray(ci, cJSON_CreateNumber(m->lo / n));
            cJSON_AddItemToArray(ci, cJSON_CreateNumber(m->hi / n));
        }
        add_number_or_null(c, "assumed_per_customer", m->listed ? m->assumed_value : (double)NAN);
        cJSON_AddNumberToObject(c, "value_scale", L->scale[k]);
        if (L->applied[k])
            cJSON_AddNullToObject(c, "kept_because");
        else
            cJSON_AddStringToObject(c, "kept_because", L->kept_why[k]);
        sgs_json_attach(c, "avoided_channels", channel_array(A->opp_cfg.avoid_channels[k]));
        cJSON *by = cJSON_AddObjectToObject(c, "avoided_channels_by_rfm_segment");
        for (int g = 0; g <= SGS_RFM_SEGMENT_COUNT; g++)
            if (A->opp_cfg.avoid_channels_by_rfm[k][g])
                sgs_json_attach(by, rfm_group_name(g),
                                channel_array(A->opp_cfg.avoid_channels_by_rfm[k][g]));
    }
    cJSON_AddNumberToObject(o, "rows_moved_off_avoided_channel", (double)A->list.n_avoided_moved);
    cJSON_AddNumberToObject(o, "rows_left_out_avoided_channel", (double)A->list.n_avoided_left_out);
    return o;
}

void sgs_report_learned(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A || !A->learned.ran)
        return;
    const sgs_run_learned_t *L = &A->learned;
    char as_of[16], last[16];
    sgs_date_format_day(L->file.as_of_day, as_of, sizeof as_of);
    sgs_date_format_day(L->file.window_last_day, last, sizeof last);
    fprintf(out,
            "\nLearned from %s (the list of %s, what customers did up to %s): per contacted "
            "customer, measured against assumed\n",
            st->req->config->actions.learn_from, as_of, last);
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        const sgs_measure_file_kind_t *m = &L->file.kind[k];
        if (!m->listed)
            continue;
        double n = (double)m->n_treated;
        fprintf(out, "  %-20s ", sgs_opportunity_kind_name(k));
        if (L->applied[k])
            fprintf(out, "measured %+.2f [%+.2f, %+.2f] against %.2f assumed: values x %.3f%s\n",
                    L->measured[k], m->lo / n, m->hi / n, m->assumed_value, L->scale[k],
                    m->hi < 0 ? " (contacts of this kind lost money)" : "");
        else
            fprintf(out, "assumption kept: %s\n", L->kept_why[k]);
        char names[96];
        channel_names(A->opp_cfg.avoid_channels[k], names, sizeof names);
        if (names[0])
            fprintf(out, "  %-20s not through %s: measured to lose money there\n", "", names);
        for (int g = 0; g <= SGS_RFM_SEGMENT_COUNT; g++) {
            channel_names(A->opp_cfg.avoid_channels_by_rfm[k][g], names, sizeof names);
            if (names[0])
                fprintf(out, "  %-20s for %s: not through %s, measured to lose money there\n", "",
                        rfm_group_name(g), names);
        }
    }
    if (A->list.n_avoided_moved + A->list.n_avoided_left_out > 0)
        fprintf(out, "  %lld rows moved off an avoided channel, %lld left out with no other\n",
                (long long)A->list.n_avoided_moved, (long long)A->list.n_avoided_left_out);
}
