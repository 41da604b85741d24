/*
 * engine/write_actions.c — the outputs of the stage, influence and opportunity steps:
 * /stages, /influence and /opportunities in the results file, their block of summary.json and the
 * "Whom to contact today" section of report.txt (docs/stages.md and docs/opportunities.md have the
 * schemas). No wall-clock time is written: the same input and config give the same bytes.
 */
#include "engine/dist_actions.h"
#include "engine/dist_run.h"
#include "engine/interrupt.h"
#include "engine/run_actions.h"

#include "io/h5_columns.h"
#include "io/json_doc.h"
#include "io/text_format.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char sgs_opportunities_csv_header[] =
    "rank,customer_id,opportunity,reason,value_at_stake,priority,channel,stage,segment,"
    "rfm_segment,group";

/* ---- results.h5 ------------------------------------------------------------------------- */

static void code_names(const char *(*name)(int), int n, const char **out)
{
    for (int k = 0; k < n; k++)
        out[k] = name(k);
}

/* The scratch of the writers below: one column of int32 or int64 at a time (the stored types of
 * columns kept wider in memory, the referrers' and the rows' customer ids), allocated before the
 * first HDF5 call so that a spread run's processes make the same calls (engine/write_results.c);
 * max(customers, rows) int64. */
typedef union actions_scratch {
    int32_t *i32;
    int64_t *i64;
    void *any;
} actions_scratch_t;

/* n rows of a per-customer column of /stages or /influence (first: the process's first of
 * n_all), or of a per-row column of /opportunities: one process's whole column; in a spread run
 * every process's rows at its offset, written together and agreed (io/h5_columns.h). */
static int part_column(const sgs_run_state_t *st, hid_t f, const char *path, sgs_h5_type_t type,
                       const void *data, size_t first, size_t n, size_t n_all, int z,
                       sgs_error_t *err)
{
    if (st->dist.size == 1)
        return sgs_h5_write_column(f, path, type, data, n, z, err);
    int rc = sgs_h5_write_column_part(f, path, type, data, first, n, n_all, z, err);
    return sgs_dist_run_agree(st, rc, err);
}

static int customer_column(const sgs_run_state_t *st, hid_t f, const char *path, sgs_h5_type_t type,
                           const void *data, int z, sgs_error_t *err)
{
    const sgs_run_actions_t *A = st->actions;
    return part_column(st, f, path, type, data, A->first, A->n, A->n_all, z, err);
}

/* An int64 column stored int32 through the scratch: each value that is not negative plus
 * `offset`, the negative ones (-1: none) as they are. The values fit int32:
 * sgs_stages_compute and sgs_influence_compute take at most INT32_MAX customers, and a row plus
 * the offset is a row of the whole base's customers with a purchase. */
static int customer_column_i32(const sgs_run_state_t *st, hid_t f, const char *path,
                               const int64_t *data, int64_t offset, actions_scratch_t scratch,
                               int z, sgs_error_t *err)
{
    for (size_t i = 0; i < st->actions->n; i++)
        scratch.i32[i] = (int32_t)(data[i] >= 0 ? data[i] + offset : data[i]);
    return customer_column(st, f, path, SGS_H5_I32, scratch.i32, z, err);
}

static int write_stages_group(hid_t f, const sgs_run_state_t *st, actions_scratch_t scratch, int z,
                              sgs_error_t *err)
{
    const sgs_run_actions_t *A = st->actions;
    int rc = SGS_OK;
#define COLUMN(name, type, data)                                                                   \
    if (rc == SGS_OK)                                                                              \
        rc = customer_column(st, f, "/stages/" name, type, data, z, err);
    COLUMN("customer_id", SGS_H5_I64, A->customer_id)
    /* Test hook (docs/publishing.md): a spread run's process stopped here, after the first
     * column the write step adds, leaves the others inside the next column's collective write. */
    if (rc == SGS_OK && st->dist.size > 1)
        sgs_test_pause_at("stages-column-written");
    /* a row of /customers, -1 without a purchase; a spread run's buyer rows are the process's
     * own, after the buyers of the processes before it */
    if (rc == SGS_OK)
        rc = customer_column_i32(st, f, "/stages/customer_row", A->buyer_row,
                                 (int64_t)st->summary.first, scratch, z, err);
    COLUMN("stage", SGS_H5_U8, A->stage)
    COLUMN("cycle_days", SGS_H5_F64, A->cycle_days)
    COLUMN("cycle_source", SGS_H5_U8, A->cycle_source)
    COLUMN("observed_gap_days", SGS_H5_F64, A->observed_gap_days)
    COLUMN("days_overdue", SGS_H5_F64, A->days_overdue)
    COLUMN("n_purchase_days", SGS_H5_I32, A->n_purchase_days)
    if (A->has_compare)
        COLUMN("stage_at_compare", SGS_H5_U8, A->stage_compare)
#undef COLUMN
    /* the rest is the whole base's, the same on every process */
    const char *stages[SGS_STAGE_COUNT], *sources[SGS_CYCLE_SOURCE_COUNT];
    code_names(sgs_stage_name, SGS_STAGE_COUNT, stages);
    code_names(sgs_cycle_source_name, SGS_CYCLE_SOURCE_COUNT, sources);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/stages", "stage_names", stages, SGS_STAGE_COUNT, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/stages", "cycle_source_names", sources,
                                 SGS_CYCLE_SOURCE_COUNT, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/stages", "as_of", st->read.as_of_text, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/stages", "global_cycle_days",
                                A->stage_summary.global_cycle_days, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/stages", "customer_row",
                                "row of the customer in /customers, /rfm and /clv; -1 without a "
                                "purchase",
                                err);
    if (rc != SGS_OK || !A->has_compare)
        return rc;
    rc = sgs_h5_attr_string(f, "/stages", "compare_as_of", A->compare_text, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_array(f, "/stages/transitions", SGS_H5_I64, A->transitions, 2,
                                (const size_t[]){SGS_STAGE_COUNT, SGS_STAGE_COUNT}, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/stages/transitions", "rows", "stage at compare_as_of", err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/stages/transitions", "columns", "stage at as_of", err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/stages/transitions", "stage_names", stages, SGS_STAGE_COUNT,
                                 err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/stages/transitions", "interval_days",
                               st->read.as_of_day - A->compare_day, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/stages/mean_days_in_stage", SGS_H5_F64, A->mean_days_in_stage,
                                 SGS_STAGE_COUNT, 0, err);
    return rc;
}

static int write_influence_group(hid_t f, const sgs_run_state_t *st, actions_scratch_t scratch,
                                 int z, sgs_error_t *err)
{
    const sgs_run_actions_t *A = st->actions;
    size_t n = A->n;
    /* The referrer kept (-1: none, unknown or on a cycle) is the customer whose id the row names:
     * its id is the row's referrer_id (a spread run's referrer_index is an index of the whole
     * base, which no process holds) */
    for (size_t i = 0; i < n; i++)
        scratch.i64[i] = A->referrer_index[i] >= 0 ? A->referrer_id[i] : -1;
    int rc = SGS_OK;
    /* The rows of /stages, whose customer_id says whose they are (not stored twice); the
     * counts are int32 on disk: sgs_influence_compute takes at most INT32_MAX customers. */
    rc = customer_column(st, f, "/influence/referrer_id", SGS_H5_I64, scratch.i64, z, err);
    if (rc == SGS_OK)
        rc = customer_column(st, f, "/influence/referral_status", SGS_H5_U8, A->referral_status, z,
                             err);
    if (rc == SGS_OK)
        rc = customer_column_i32(st, f, "/influence/n_direct", A->n_direct, 0, scratch, z, err);
    if (rc == SGS_OK)
        rc = customer_column_i32(st, f, "/influence/n_indirect", A->n_indirect, 0, scratch, z, err);
    if (rc == SGS_OK)
        rc = customer_column(st, f, "/influence/depth", SGS_H5_I32, A->depth, z, err);
    if (rc == SGS_OK)
        rc = customer_column(st, f, "/influence/network_value", SGS_H5_F64, A->network_value, z,
                             err);
    static const char *const status[] = {"none", "ok", "unknown_referrer", "cycle"};
    const sgs_influence_report_t *r = &A->influence;
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/influence", "referral_status_names", status, 4, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/influence", "damping", A->infl_cfg.damping, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/influence", "network_value",
                                A->clv ? "own CLV + damping x network value of each referral"
                                       : "1 + damping x network value of each referral (no CLV)",
                                err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/influence", "n_cycles", r->n_cycles, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/influence", "n_in_cycles", r->n_in_cycles, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/influence", "n_unknown_referrers", r->n_unknown_referrers, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/influence", "max_depth", r->max_depth, err);
    return rc;
}

static int write_opportunities_group(hid_t f, const sgs_run_state_t *st, actions_scratch_t scratch,
                                     int z, sgs_error_t *err)
{
    const sgs_run_actions_t *A = st->actions;
    size_t n = A->n_rows, first = 0, n_all = n;
    const int64_t *ids = scratch.i64;
    if (st->dist.size > 1) { /* this process's stretch of the list, its customers' ids */
        first = (size_t)(A->dist_list->list.first_rank - 1);
        n_all = (size_t)A->list.n_listed;
        ids = A->dist_list->list.customer_id;
    } else {
        for (size_t r = 0; r < n; r++)
            scratch.i64[r] = A->customer_id[A->rows.customer_index[r]];
    }
    /* No rank column: the rows are in rank order, rank is the row number + 1. */
    int rc = SGS_OK;
#define COLUMN(name, type, data)                                                                   \
    if (rc == SGS_OK)                                                                              \
        rc = part_column(st, f, "/opportunities/" name, type, data, first, n, n_all, z, err);
    COLUMN("customer_id", SGS_H5_I64, ids)
    COLUMN("kind", SGS_H5_U8, A->rows.kind)
    COLUMN("priority", SGS_H5_I32, A->rows.priority)
    COLUMN("value_at_stake", SGS_H5_F64, A->rows.value_at_stake)
    COLUMN("channel", SGS_H5_U8, A->rows.channel)
    COLUMN("group", SGS_H5_U8, A->rows.control)
#undef COLUMN
    const char *kinds[SGS_OPP_KIND_COUNT], *channels[SGS_CHANNEL_COUNT];
    code_names(sgs_opportunity_kind_name, SGS_OPP_KIND_COUNT, kinds);
    code_names(sgs_channel_name, SGS_CHANNEL_COUNT, channels);
    const char *g = "/opportunities";
    if (rc == SGS_OK)
        rc = sgs_h5_group_ensure(f, g, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, g, "kind_names", kinds, SGS_OPP_KIND_COUNT, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, g, "channel_names", channels, SGS_CHANNEL_COUNT, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, g, "all_opportunities", A->opp_cfg.all_opportunities, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, g, "n_candidates", A->list.n_candidates, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, g, "n_spilled", A->list.n_spilled, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, g, "n_left_out", A->list.n_left_out, err);
    static const char *const groups[2] = {"treatment", "control"};
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, g, "group_names", groups, 2, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, g, "n_control", A->list.n_control, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, g, "control_share", A->opp_cfg.control_share, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, g, "as_of", st->read.as_of_text, err);
    return rc;
}

/* The scratch of the columns written converted: m values of 8 bytes. */
static int alloc_scratch(const sgs_run_state_t *st, size_t m, actions_scratch_t *scratch,
                         sgs_error_t *err)
{
    scratch->any = sgs_alloc_array(m ? m : 1, sizeof(int64_t));
    int rc = scratch->any
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu customers' columns", m);
    return sgs_dist_run_agree(st, rc, err);
}

/* In a spread run each group's columns are written together (every process's rows at its
 * offset, agreed after each) before its small datasets and attributes (the whole base's, the
 * same on every process), and the outcome is agreed after each group, as the models' part
 * does (engine/write_results.c). */

int sgs_write_stages_h5(const sgs_run_state_t *st, hid_t file, int deflate_level, sgs_error_t *err)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A)
        return SGS_OK;
    actions_scratch_t scratch;
    int rc = alloc_scratch(st, A->n, &scratch, err);
    if (rc == SGS_OK)
        rc = write_stages_group(file, st, scratch, deflate_level, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK && A->influence_ran)
        rc = write_influence_group(file, st, scratch, deflate_level, err);
    sgs_free(scratch.any);
    return sgs_dist_run_agree(st, rc, err);
}

int sgs_write_actions_h5(const sgs_run_state_t *st, hid_t file, int deflate_level, sgs_error_t *err)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A)
        return SGS_OK;
    actions_scratch_t scratch;
    int rc = alloc_scratch(st, A->n_rows, &scratch, err);
    if (rc == SGS_OK)
        rc = sgs_write_audit_h5(st, file, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK)
        rc = write_opportunities_group(file, st, scratch, deflate_level, err);
    sgs_free(scratch.any);
    return sgs_dist_run_agree(st, rc, err);
}

/* ---- summary.json ----------------------------------------------------------------------- */

/* A number, or null when not finite (JSON has no NaN or infinity). */
static void add_number(cJSON *o, const char *name, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

static cJSON *stage_counts(const int64_t counts[SGS_STAGE_COUNT])
{
    cJSON *o = cJSON_CreateObject();
    for (int s = 0; s < SGS_STAGE_COUNT; s++)
        cJSON_AddNumberToObject(o, sgs_stage_name(s), (double)counts[s]);
    return o;
}

static cJSON *stages_object(const sgs_run_state_t *st)
{
    const sgs_run_actions_t *A = st->actions;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "as_of", st->read.as_of_text);
    cJSON_AddNumberToObject(o, "customers", (double)A->n_all);
    cJSON_AddNumberToObject(o, "customers_without_purchase", (double)(A->n_all - A->n_buyers_all));
    sgs_json_attach(o, "per_stage", stage_counts(A->stage_summary.n_per_stage));
    cJSON *src = cJSON_AddObjectToObject(o, "per_cycle_source");
    for (int s = 0; s < SGS_CYCLE_SOURCE_COUNT; s++)
        cJSON_AddNumberToObject(src, sgs_cycle_source_name(s),
                                (double)A->stage_summary.n_per_cycle_source[s]);
    add_number(o, "global_cycle_days", A->stage_summary.global_cycle_days);
    if (!A->has_compare)
        return o;
    cJSON_AddStringToObject(o, "compare_as_of", A->compare_text);
    cJSON_AddNumberToObject(o, "interval_days", st->read.as_of_day - A->compare_day);
    sgs_json_attach(o, "per_stage_at_compare", stage_counts(A->compare_summary.n_per_stage));
    /* transitions[from][to], customers; only the pairs that occur */
    cJSON *tr = cJSON_AddObjectToObject(o, "transitions");
    for (int a = 0; a < SGS_STAGE_COUNT; a++) {
        cJSON *row = NULL;
        for (int b = 0; b < SGS_STAGE_COUNT; b++) {
            int64_t c = A->transitions[a * SGS_STAGE_COUNT + b];
            if (c == 0)
                continue;
            if (!row)
                row = cJSON_AddObjectToObject(tr, sgs_stage_name(a));
            cJSON_AddNumberToObject(row, sgs_stage_name(b), (double)c);
        }
    }
    cJSON *mean = cJSON_AddObjectToObject(o, "mean_days_in_stage");
    for (int s = 0; s < SGS_STAGE_COUNT; s++)
        add_number(mean, sgs_stage_name(s), A->mean_days_in_stage[s]);
    return o;
}

static cJSON *influence_object(const sgs_run_actions_t *A)
{
    const sgs_influence_report_t *r = &A->influence;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "damping", A->infl_cfg.damping);
    cJSON_AddNumberToObject(o, "with_referrer", (double)r->n_with_referrer);
    cJSON_AddNumberToObject(o, "referrers", (double)r->n_referrers);
    cJSON_AddNumberToObject(o, "max_depth", (double)r->max_depth);
    cJSON_AddNumberToObject(o, "unknown_referrers", (double)r->n_unknown_referrers);
    cJSON_AddNumberToObject(o, "cycles", (double)r->n_cycles);
    cJSON_AddNumberToObject(o, "customers_in_cycles", (double)r->n_in_cycles);
    cJSON *ex = cJSON_AddArrayToObject(o, "cycle_examples");
    for (int k = 0; k < r->n_cycle_examples; k++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "customer_id", (double)r->cycle_customer_id[k]);
        cJSON_AddNumberToObject(c, "length", (double)r->cycle_length[k]);
        sgs_json_attach(ex, NULL, c);
    }
    return o;
}

/* What the contact policy held back and why (kernels/contact_policy.h). */
static cJSON *contact_policy_object(const sgs_run_actions_t *A)
{
    const sgs_opportunity_config_t *c = &A->opp_cfg;
    const sgs_contact_policy_stats_t *p = &A->policy;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "min_days_between_contacts", c->min_days_between_contacts);
    cJSON_AddNumberToObject(o, "contact_override_priority", c->contact_override_priority);
    cJSON_AddNumberToObject(o, "recently_contacted", (double)p->n_recently_contacted);
    cJSON_AddNumberToObject(o, "held_back", (double)p->n_held_back);
    cJSON *kinds = cJSON_AddObjectToObject(o, "held_back_per_kind");
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
        cJSON_AddNumberToObject(kinds, sgs_opportunity_kind_name(k),
                                (double)p->n_held_back_per_kind[k]);
    cJSON_AddNumberToObject(o, "max_unanswered_contacts", c->max_unanswered_contacts);
    cJSON_AddBoolToObject(o, "channels_known", A->event_channels_present);
    cJSON_AddNumberToObject(o, "customers_with_unanswered_channel",
                            (double)p->n_with_blocked_channel);
    cJSON *ch = cJSON_AddObjectToObject(o, "unanswered_per_channel");
    for (int k = 1; k < SGS_CHANNEL_COUNT; k++)
        cJSON_AddNumberToObject(ch, sgs_channel_name(k), (double)p->n_blocked_per_channel[k]);
    cJSON_AddNumberToObject(o, "moved_off_unanswered_channel", (double)A->list.n_unanswered_moved);
    cJSON_AddNumberToObject(o, "left_out_no_answered_channel",
                            (double)A->list.n_unanswered_left_out);
    return o;
}

static cJSON *opportunities_object(const sgs_run_state_t *st)
{
    const sgs_run_actions_t *A = st->actions;
    const sgs_opportunity_stats_t *s = &A->opp_stats;
    const sgs_opportunity_list_summary_t *l = &A->list;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "all_opportunities", A->opp_cfg.all_opportunities);
    cJSON_AddNumberToObject(o, "customers_with_opportunity",
                            (double)(s->n_customers + A->policy.n_held_back));
    cJSON_AddNumberToObject(o, "candidates", (double)l->n_candidates);
    cJSON_AddNumberToObject(o, "listed", (double)l->n_listed);
    cJSON_AddNumberToObject(o, "spilled", (double)l->n_spilled);
    cJSON_AddNumberToObject(o, "left_out", (double)l->n_left_out);
    cJSON_AddNumberToObject(o, "control_share", A->opp_cfg.control_share);
    cJSON_AddNumberToObject(o, "control", (double)l->n_control);
    cJSON *kinds = cJSON_AddObjectToObject(o, "per_kind");
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        cJSON *c = cJSON_AddObjectToObject(kinds, sgs_opportunity_kind_name(k));
        cJSON_AddBoolToObject(c, "enabled", A->opp_cfg.enabled[k]);
        cJSON_AddBoolToObject(c, "input_missing", (s->kinds_without_input >> k) & 1u);
        cJSON_AddNumberToObject(c, "fired", (double)s->n_fired[k]);
        cJSON_AddNumberToObject(c, "listed", (double)l->n_listed_per_kind[k]);
        cJSON_AddNumberToObject(c, "control", (double)l->n_control_per_kind[k]);
        cJSON_AddNumberToObject(c, "left_out", (double)l->n_left_out_per_kind[k]);
        cJSON_AddNumberToObject(c, "value_at_stake_listed", A->value_listed_per_kind[k]);
    }
    sgs_json_attach(o, "contact_policy", contact_policy_object(A));
    sgs_json_attach(o, "learned", sgs_learned_json(st));
    cJSON *channels = cJSON_AddObjectToObject(o, "per_channel");
    for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++) {
        cJSON *c = cJSON_AddObjectToObject(channels, sgs_channel_name(ch));
        cJSON_AddNumberToObject(c, "capacity", (double)A->opp_cfg.channel_capacity[ch]);
        cJSON_AddNumberToObject(c, "listed", (double)l->n_listed_per_channel[ch]);
        cJSON_AddNumberToObject(c, "left_out", (double)l->n_left_out_per_channel[ch]);
    }
    cJSON *th = cJSON_AddObjectToObject(o, "thresholds");
    add_number(th, "save_high_value_clv", s->save_clv_threshold);
    add_number(th, "advocate_value_brought_in", s->advocate_value_threshold);
    add_number(th, "grow_potential_all_customers", s->global_clv_median);
    return o;
}

void sgs_actions_summary_add(const sgs_run_state_t *st, cJSON *o)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A)
        return;
    cJSON *in = cJSON_AddObjectToObject(o, "optional_inputs");
    cJSON_AddBoolToObject(in, "events", A->events_present);
    cJSON_AddNumberToObject(in, "event_rows_used", (double)A->n_event_rows);
    cJSON_AddNumberToObject(in, "event_rows_after_as_of_left_out", (double)A->n_event_rows_after);
    cJSON_AddBoolToObject(in, "customers", A->customers_present);
    cJSON_AddNumberToObject(in, "customer_rows", (double)A->n_customer_rows);
    cJSON_AddNumberToObject(in, "customers_only_in_customers_table",
                            (double)A->n_only_in_customers);
    cJSON_AddNumberToObject(in, "customers_only_in_events", (double)A->n_only_in_events);
    sgs_json_attach(o, "stages", stages_object(st));
    if (A->influence_ran)
        sgs_json_attach(o, "influence", influence_object(A));
    sgs_json_attach(o, "audit", sgs_audit_json(st));
    sgs_json_attach(o, "opportunities", opportunities_object(st));
}

/* ---- report.txt ------------------------------------------------------------------------- */

#define REPORT_TOP_ROWS 10
_Static_assert(REPORT_TOP_ROWS <= SGS_RUN_TOP_ROWS, "report.txt's rows are among A->top");

void sgs_write_actions_report(const sgs_run_state_t *st, FILE *out)
{
    const sgs_run_actions_t *A = st->actions;
    if (!A)
        return;
    fprintf(out, "\nWhere they are: lifecycle stages as of %s", st->read.as_of_text);
    if (A->has_compare)
        fprintf(out, " (and %s)", A->compare_text);
    fprintf(out, "\n\n%-12s %11s", "stage", "customers");
    if (A->has_compare)
        fprintf(out, " %11s %15s", "at compare", "mean days");
    fprintf(out, "\n");
    for (int s = 1; s < SGS_STAGE_COUNT; s++) {
        fprintf(out, "%-12s %11lld", sgs_stage_name(s), (long long)A->stage_summary.n_per_stage[s]);
        if (A->has_compare)
            fprintf(out, " %11lld %15.1f", (long long)A->compare_summary.n_per_stage[s],
                    A->mean_days_in_stage[s]);
        fprintf(out, "\n");
    }

    sgs_report_audit(st, out);

    const sgs_opportunity_list_summary_t *l = &A->list;
    fprintf(out, "\nWhom to contact today: %lld opportunities listed", (long long)l->n_listed);
    if (l->n_left_out > 0)
        fprintf(out, ", %lld left out for lack of channel capacity", (long long)l->n_left_out);
    fprintf(out, " (opportunities.csv)\n");
    if (l->n_control > 0)
        fprintf(out,
                "%lld of them are control (group=control, %.0f%% of each kind): do not contact "
                "them; what they do without a contact is what the others are measured against\n",
                (long long)l->n_control, 100.0 * A->opp_cfg.control_share);
    fprintf(out, "\n%-20s %8s %8s %8s %14s\n", "opportunity", "fired", "listed", "control",
            "value at stake");
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        if (A->opp_stats.n_fired[k] == 0)
            continue;
        fprintf(out, "%-20s %8lld %8lld %8lld %14.0f\n", sgs_opportunity_kind_name(k),
                (long long)A->opp_stats.n_fired[k], (long long)l->n_listed_per_kind[k],
                (long long)l->n_control_per_kind[k], A->value_listed_per_kind[k]);
    }
    sgs_report_learned(st, out);
    const sgs_contact_policy_stats_t *p = &A->policy;
    if (p->n_held_back > 0)
        fprintf(out,
                "%lld customers held back: contacted in the last %d days, and their opportunity "
                "is below priority %d (actions.min_days_between_contacts)\n",
                (long long)p->n_held_back, (int)A->opp_cfg.min_days_between_contacts,
                (int)A->opp_cfg.contact_override_priority);
    if (l->n_unanswered_moved + l->n_unanswered_left_out > 0)
        fprintf(out,
                "%lld rows moved off a channel the customer never answers (%d or more contacts, "
                "no response), %lld left out with no other channel\n",
                (long long)l->n_unanswered_moved, (int)A->opp_cfg.max_unanswered_contacts,
                (long long)l->n_unanswered_left_out);
    fprintf(out, "\nChannel mix:");
    for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++)
        if (l->n_listed_per_channel[ch] > 0)
            fprintf(out, " %s %lld", sgs_channel_name(ch), (long long)l->n_listed_per_channel[ch]);
    fprintf(out, "%s\n", l->n_spilled > 0 ? "" : " (no spill)");
    if (l->n_spilled > 0)
        fprintf(out, "%lld rows moved to another channel: their own was full or not used\n",
                (long long)l->n_spilled);
    size_t top = A->n_top < REPORT_TOP_ROWS ? A->n_top : REPORT_TOP_ROWS;
    if (top == 0)
        return;
    fprintf(out, "\nTop %zu:\n", top);
    for (size_t r = 0; r < top; r++) {
        const sgs_run_top_row_t *t = &A->top[r];
        fprintf(out, "%3lld. %lld %s via %s, %.0f at stake%s: %s\n", (long long)t->rank,
                (long long)t->customer_id, sgs_opportunity_kind_name(t->kind),
                sgs_channel_name(t->channel), t->value_at_stake,
                t->control ? " (control: do not contact)" : "", t->reason);
    }
}
