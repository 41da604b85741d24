/*
 * engine/run_actions.h — the stage, influence and opportunity steps of a run
 * (engine/run_actions.c and the files it calls: run_events.c, run_stages.c,
 * run_opportunities.c; the configuration in run_actions_config.c) and their writers
 * (engine/write_actions.c). Internal to engine/.
 *
 * The combined customer index. The earlier steps know two sets of customers: st->group.rows
 * (every customer with a transaction row, refund-only ones included) and st->summary.customer_id
 * (those with a purchase: the rows of /customers, /rfm and /clv in the results). Stages
 * need more: a customer known from /customers (or from /events) who never bought is a
 * prospect and has a stage too. So this step builds its own dense index, the union of
 *   - st->group.rows.customer_id   (transactions, refund-only customers included),
 *   - /customers/customer_id    (known customers, prospects included),
 *   - /events/customer_id       (anyone with an event on or before the as-of day),
 * sorted ascending by customer_id (the order the kernels require). buyer_row[i] maps it
 * back to the results' customer rows (-1 for a customer without a purchase), so
 * per-buyer columns (P(alive), CLV, RFM segment, main channel) are looked up there and
 * are NaN / unknown for the others. /stages and /influence in the results have one row
 * per customer of this index, with their own customer_id column.
 */
#ifndef SGS_RUN_ACTIONS_H
#define SGS_RUN_ACTIONS_H

#include "engine/opportunity_reason.h"
#include "engine/run_state.h"
#include "io/h5_measure_file.h"
#include "kernels/audit.h"
#include "kernels/contact_policy.h"
#include "kernels/influence.h"
#include "kernels/opportunities.h"
#include "kernels/rfm.h"
#include "kernels/stages.h"

#include <hdf5.h>
#include <stdio.h>

struct cJSON;

/* What a run learned from a measurement (engine/run_learn.c, actions.learn_from). */
typedef struct sgs_run_learned {
    int ran; /* a measurement was given */
    sgs_measure_file_t file;
    int applied[SGS_OPP_KIND_COUNT];          /* the kind's value at stake was rescaled */
    double measured[SGS_OPP_KIND_COUNT];      /* incremental revenue per contacted customer */
    double scale[SGS_OPP_KIND_COUNT];         /* measured / assumed, or 1 */
    const char *kept_why[SGS_OPP_KIND_COUNT]; /* why the assumption stays (static text) */
} sgs_run_learned_t;

/* Rows at the top of the list the reports show (report.txt the first 10, report.html the first
 * SGS_REPORT_HTML_TOP_ROWS): the first SGS_RUN_TOP_ROWS rows of opportunities.csv. */
#define SGS_RUN_TOP_ROWS 25

/* One of them, as the reports print it. */
typedef struct sgs_run_top_row {
    int64_t rank;                            /* 1, 2, ... */
    int64_t customer_id;                     /* the row's customer */
    double value_at_stake;                   /* the row's */
    uint8_t kind, channel;                   /* opportunity kind and assigned channel */
    uint8_t control;                         /* 1: control group (not contacted) */
    char reason[SGS_OPPORTUNITY_REASON_MAX]; /* the reason opportunities.csv gives, NUL-ended */
} sgs_run_top_row_t;

typedef struct sgs_run_actions {
    /* the combined customer index (above) */
    size_t n;             /* customers in the index */
    int64_t *customer_id; /* [n] strictly ascending */
    int64_t *buyer_row;   /* [n] row in st->summary.customer_id, or -1 without a purchase */
    size_t n_buyers;      /* entries with buyer_row >= 0 (== st->summary.n_customers) */
    /* A spread run's process holds the entries of its range of ids (engine/dist_input.h): its
     * buyers, its /customers rows and the customers of its events; one process holds all. */
    size_t n_all;        /* customers in the whole index (every process's n summed) */
    size_t n_buyers_all; /* of them with a purchase */
    size_t first;        /* this process's first entry in the whole index */

    /* optional input groups; the counts are the whole base's (every process's summed) */
    int events_present, customers_present, referrers_present;
    int event_channels_present; /* /events/channel exists */
    size_t n_event_rows;        /* /events rows used (on or before the as-of day) */
    size_t n_event_rows_after;  /* /events rows after the as-of day, left out */
    size_t n_customer_rows;     /* /customers rows */
    size_t n_only_in_events;    /* customers known only from /events */
    size_t n_only_in_customers; /* customers of /customers without a transaction row */

    /* the kernels' view (kernels/stages.h) and the columns it points to (owned) */
    sgs_stage_input_t input;
    int32_t *signup_day;
    size_t *purchase_offset, *event_offset;
    int32_t *purchase_day, *event_day;
    uint8_t *event_kind, *event_channel; /* event_channel NULL without /events/channel */
    sgs_sparse_values_t event_values;    /* survey scores, the input's event_value when events */
    double *p_buy, *p_buy_model, *rate_per_day, *clv; /* NULL when the value step did not run */
    uint8_t *preferred_channel, *main_channel;
    int32_t *segment;     /* k-means segment of buyers, -1 for others; NULL without segments */
    uint8_t *rfm_segment; /* RFM segment of buyers, SGS_RFM_SEGMENT_COUNT for the others */
    int64_t *referrer_id; /* NULL without /customers/referrer_id */

    /* configuration, as the kernels take it */
    sgs_stage_rules_t rules;
    sgs_opportunity_config_t opp_cfg;
    sgs_influence_config_t infl_cfg;

    /* stages at the as-of day */
    uint8_t *stage, *cycle_source;
    double *cycle_days, *days_overdue, *observed_gap_days;
    int32_t *n_purchase_days;
    sgs_stage_summary_t stage_summary;

    /* --compare-as-of */
    int has_compare;
    int32_t compare_day;
    char compare_text[16];
    uint8_t *stage_compare;
    sgs_stage_summary_t compare_summary;
    int64_t transitions[SGS_STAGE_COUNT * SGS_STAGE_COUNT]; /* [before * 9 + after] */
    double mean_days_in_stage[SGS_STAGE_COUNT];

    /* influence (when /customers/referrer_id exists) */
    int influence_ran;
    int64_t *n_direct, *n_indirect, *referrer_index;
    double *network_value;
    int32_t *depth;
    uint8_t *referral_status;
    sgs_influence_report_t influence;

    /* opportunities */
    sgs_opportunity_input_t opp_in;
    /* detection's thresholds and the whole base's counts (n_fired by detection, n_customers and
       n_candidates after the contact policy); in a spread run the counts are every process's
       summed once the step is done (engine/run_opportunities.c) */
    sgs_opportunity_stats_t opp_stats;
    uint16_t *fired; /* detection's masks, then as the contact policy left them */

    /* the interaction audit (when /events exists), over detection's masks */
    int audit_ran;
    sgs_audit_config_t audit_cfg;
    sgs_audit_row_t audit_stage[SGS_STAGE_COUNT + 1];     /* per stage, then everyone */
    sgs_audit_row_t audit_rfm[SGS_RFM_SEGMENT_COUNT + 2]; /* per RFM segment, no purchase,
                                                             everyone */
    int64_t audit_untapped_per_kind[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];

    /* learned from a measurement (before detection: it changes values and channels) */
    sgs_run_learned_t learned;

    /* the contact policy */
    uint8_t *blocked_channels; /* [n] bit c: channel c not chosen for the customer */
    sgs_contact_policy_stats_t policy;

    /* columns of n_rows rows, in rank order; a spread run's: this process's stretch of the
       list, customer_index global (engine/dist_opportunities.h) */
    sgs_opportunity_rows_t rows;
    size_t n_rows;
    sgs_run_top_row_t top[SGS_RUN_TOP_ROWS]; /* the list's first n_top rows (every process's) */
    size_t n_top;
    sgs_opportunity_list_summary_t list;
    double value_listed_per_kind[SGS_OPP_KIND_COUNT]; /* value at stake of listed rows */
    /* a spread run's: each row's reason, stage and segments (engine/dist_actions.h), the rows'
     * of this process's stretch; NULL on one process */
    struct sgs_dist_actions_list *dist_list;
} sgs_run_actions_t;

/* The kernels' rule tables from the configuration (the "stages.*", "influence.*" and
 * "actions.*" keys), each checked by its kernel. Any output pointer may be NULL.
 * @return 0 or SGS_ECONFIG naming the key. */
int sgs_actions_kernel_config(const sgs_config_t *cfg, sgs_stage_rules_t *rules,
                              sgs_opportunity_config_t *opp, sgs_influence_config_t *influence,
                              sgs_error_t *err);

/* Parse a comma-separated list of channel names ("phone,sms,email") into codes,
 * 0-terminated, at most SGS_CHANNEL_COUNT - 1 codes. @return 0 or SGS_ECONFIG. */
int sgs_actions_parse_channels(const char *text, uint8_t out[SGS_CHANNEL_COUNT], sgs_error_t *err);

/* The parts of the step (engine/run_actions.c calls them in this order), each filling its
 * part of *A; what they allocate is A's, freed by sgs_run_actions_free. @return 0 or an
 * SGS_E* code with err set. */
/* engine/run_learn.c: with actions.learn_from, read the measurement and set the learned
 * value scales and avoided channels in A->opp_cfg. */
int sgs__run_actions_learn(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err);
/* engine/run_events.c: read /events and /customers, the combined index, the kernels' view. */
int sgs__run_actions_events(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err);
/* engine/run_stages.c: stages at the as-of day, on the backtest, at --compare-as-of;
 * influence when /customers/referrer_id exists. */
int sgs__run_actions_stages(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err);
/* engine/run_opportunities.c: triggers, the audit, the contact policy, ranking, channel
 * capacity. */
int sgs__run_actions_opportunities(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err);
/* engine/run_audit.c: the interaction audit by stage and RFM segment (when /events exists),
 * over the masks of detection. */
int sgs__run_actions_audit(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err);

/* p_buy and the rate while buying at an earlier day, from the purchase days on or before it,
 * the given model parameters and calibration (NULL: the model's own probability); both
 * returned owned, n entries. *p_buy_out is NULL (unknown for everyone, as NaN is to the
 * stage rules) unless the run's p_buy is usable (engine/run_events.c). */
int sgs__run_actions_model_columns_at(const sgs_run_state_t *st, const sgs_run_actions_t *A,
                                      int32_t day, sgs_purchase_model_t model, const double *params,
                                      const sgs_isotonic_t *calibration, double **p_buy_out,
                                      double **rate_out, sgs_error_t *err);

/* Writers (engine/write_actions.c), called by the results, summary and report writers:
 * results.h5's /stages and /influence (made by the stage step), then /audit and
 * /opportunities. */
int sgs_write_stages_h5(const sgs_run_state_t *st, hid_t file, int deflate_level, sgs_error_t *err);
int sgs_write_actions_h5(const sgs_run_state_t *st, hid_t file, int deflate_level,
                         sgs_error_t *err);
void sgs_actions_summary_add(const sgs_run_state_t *st,
                             struct cJSON *root); /* stages,
                                               influence, opportunities */
void sgs_write_actions_report(const sgs_run_state_t *st, FILE *out);

/* The audit's parts of the outputs (engine/write_audit.c): /audit, summary.json "audit", the
 * report's "Contact activity" section. */
int sgs_write_audit_h5(const sgs_run_state_t *st, hid_t file, sgs_error_t *err);
struct cJSON *sgs_audit_json(const sgs_run_state_t *st);
void sgs_report_audit(const sgs_run_state_t *st, FILE *out);

/* What the run learned (engine/write_learn.c): summary.json opportunities.learned, the
 * report's lines. */
struct cJSON *sgs_learned_json(const sgs_run_state_t *st);
void sgs_report_learned(const sgs_run_state_t *st, FILE *out);

/* Header of opportunities.csv (docs/opportunities.md), without the newline. */
extern const char sgs_opportunities_csv_header[];

#endif
