/*
 * kernels/opportunities.h — behaviour-driven triggers and the prioritized opportunity
 * list: who to contact today, why, through which channel, and what is at stake.
 *
 * Two calls and the numbers of a reason:
 *   1. sgs_opportunities_detect: every enabled trigger is evaluated for every customer;
 *      a bit per kind that fired goes into a caller-owned mask [n], and base-wide
 *      thresholds (CLV quantile, segment CLV medians, ...) into an sgs_opportunity_stats_t.
 *   2. sgs_opportunities_rank: one candidate per customer (the highest-priority kind that
 *      fired) or every fired kind (all_opportunities), ranked by priority desc, value at
 *      stake desc, customer_id asc (the dense index follows customer_id), kind asc; then
 *      channels are assigned in rank order within per-channel daily capacity, spilling to
 *      the next allowed channel of spill_order or leaving the row out (counted).
 *   3. sgs_opportunity_facts: the numbers behind the reason of a (customer, kind), computed
 *      on demand (no per-row storage); the engine words them (engine/opportunity_reason.h).
 * No I/O, no text; stage, segment and RFM segment of a row are the caller's columns at
 * customer_index.
 *
 * Triggers (t = as_of day; cycle, days_overdue and stage from sgs_stages_compute; clv,
 * p_buy (calibrated) and the model's own P(buy) from the value step, all over the value
 * horizon; "alive stages" = new, active, loyal, reactivated):
 *   service_recovery     >= service_min_contacts support contacts or complaints (event
 *                        kinds 1, 2) on days t-service_window_days+1 .. t; stage != none
 *   renewal_at_risk      the latest renewal-due event (kind 3) on day d <= t has
 *                        renewal_grace_days < t-d <= renewal_lookback_days and no renewed
 *                        event (kind 4) on days d-renewal_early_days .. t; stage is not
 *                        none or cancelled
 *   win_back             stage lapsed, and: with stage_compare, not lapsed at the compare
 *                        day; without, the overdue threshold of lapse
 *                        (lapsed_overdue_cycles * cycle) was crossed at most
 *                        win_back_recent_days ago (customers lapsed by p_buy count as recent:
 *                        their value at stake ranks them)
 *   save_high_value      stage at_risk and clv >= save threshold = max(save_min_clv, the
 *                        nearest-rank save_clv_quantile of clv over customers who bought)
 *   overdue_reminder     alive stage, days_overdue > overdue_margin_cycles * cycle and
 *                        p_buy >= overdue_min_p_buy (unknown p_buy: no condition)
 *   onboarding           stage new and exactly one purchase day so far
 *   detractor_follow_up  the latest survey answer (kind 6, finite value) on days
 *                        t-detractor_window_days+1 .. t scored <= detractor_max_score;
 *                        stage != none
 *   grow                 alive stage and clv < grow_ratio * potential, potential = median
 *                        clv of the alive customers of the customer's segment (all alive
 *                        customers for segment -1 or an empty segment), potential > 0
 *   advocate             n_direct_referrals >= advocate_min_referrals and value brought in
 *                        = network_value - own clv >= max(advocate_min_value, the
 *                        nearest-rank advocate_value_quantile of it over customers with
 *                        that many referrals); stage not none, lapsed or cancelled
 * Value at stake: an expected amount of money (currency; non-finite results count as 0).
 *   back  = clv / P_model(buy), the value of the customer if they buy again within the
 *           horizon (the model's expectation given at least one purchase; clv when the
 *           model's P(buy) is 0 or unknown)
 *   risk  = 1 - p_buy, the calibrated probability that they do not buy again within the
 *           horizon; unknown_p_buy_risk when p_buy is unknown
 *   win_back, save_high_value, overdue_reminder   back * risk (what is lost if they do not
 *           come back, times the probability that they do not);
 *   service_recovery clv * service_risk; renewal_at_risk clv * renewal_risk;
 *   detractor_follow_up clv * detractor_risk; onboarding clv; grow potential - clv;
 *   advocate value brought in.
 * Each is then multiplied by value_scale[kind] (1 unless learned from a measurement: the
 * measured incremental revenue per contacted customer over the mean value assumed for them).
 * Example: CLV 40, the model's P(buy) 0.25, p_buy 0.30: back = 160, risk = 0.70, a
 * win-back is worth 112.
 * Triggers whose input column is missing (clv for save_high_value and grow, network_value
 * and n_direct_referrals for advocate) do not fire; stats.kinds_without_input says which.
 */
#ifndef SGS_OPPORTUNITIES_H
#define SGS_OPPORTUNITIES_H

#include "kernels/core.h"
#include "kernels/rfm.h"
#include "kernels/stages.h"
#include "kernels/tables.h"

/* Opportunity kinds. Codes are stable: they are written to results files. */
enum sgs_opportunity_kind {
    SGS_OPP_SERVICE_RECOVERY = 1,
    SGS_OPP_RENEWAL_AT_RISK = 2,
    SGS_OPP_WIN_BACK = 3,
    SGS_OPP_SAVE_HIGH_VALUE = 4,
    SGS_OPP_OVERDUE_REMINDER = 5,
    SGS_OPP_ONBOARDING = 6,
    SGS_OPP_DETRACTOR_FOLLOW_UP = 7,
    SGS_OPP_GROW = 8,
    SGS_OPP_ADVOCATE = 9
};
#define SGS_OPP_KIND_COUNT 10 /* codes 1..9; 0 unused */

/* Name of a kind ("service_recovery"), "unknown" outside 1..9. */
const char *sgs_opportunity_kind_name(int kind);

/* Thresholds, switches and list settings; sgs_opportunity_config_default gives the
 * defaults listed after each field. */
typedef struct sgs_opportunity_config {
    uint8_t enabled[SGS_OPP_KIND_COUNT];         /* 1 on, 0 off; all on; [0] ignored */
    int32_t priority[SGS_OPP_KIND_COUNT];        /* higher ranks first; 90 service_recovery,
                                                    85 renewal_at_risk, 60 win_back,
                                                    80 save_high_value, 50 overdue_reminder,
                                                    40 onboarding, 70 detractor_follow_up, 20 grow,
                                                    30 advocate */
    int32_t service_min_contacts;                /* support contacts + complaints needed; 3 */
    int32_t service_window_days;                 /* window ending on the as-of day, days; 30 */
    double service_risk;                         /* share of CLV at stake; 0.5 */
    int32_t renewal_grace_days;                  /* days after the due date before firing; 14 */
    int32_t renewal_early_days;                  /* a renewal this many days before the due date
                                                    counts; 30 */
    int32_t renewal_lookback_days;               /* due dates older than this are ignored; 90 */
    double renewal_risk;                         /* share of CLV at stake; 0.5 */
    int32_t win_back_recent_days;                /* "recently lapsed" without a compare day; 30 */
    double save_clv_quantile;                    /* quantile of CLV over buyers; 0.8 (top 20%) */
    double save_min_clv;                         /* absolute CLV floor, currency; 0 */
    double overdue_margin_cycles;                /* days overdue must exceed this * cycle; 0.25 */
    double overdue_min_p_buy;                    /* still likely to buy; 0.5 */
    double detractor_max_score;                  /* survey scores <= this are detractors; 6 */
    int32_t detractor_window_days;               /* window ending on the as-of day, days; 90 */
    double detractor_risk;                       /* share of CLV at stake; 0.3 */
    double grow_ratio;                           /* fires when clv < this * potential; 0.5 */
    int32_t advocate_min_referrals;              /* direct referrals needed; 1 */
    double advocate_value_quantile;              /* quantile of value brought in; 0.8 */
    double advocate_min_value;                   /* absolute floor of value brought in; 0 */
    double unknown_p_buy_risk;                   /* risk used when p_buy is unknown; 0.5 */
    int all_opportunities;                       /* 1: every fired kind; 0: best per customer; 0 */
    int64_t channel_capacity[SGS_CHANNEL_COUNT]; /* rows per channel and day: -1
                                                    unlimited, 0 not allowed; phone 500,
                                                    others -1; [0] ignored */
    uint8_t spill_order[SGS_CHANNEL_COUNT];      /* channel codes, 0-terminated: phone, sms,
                                                    email, app, web, mail, store */
    uint8_t fallback_channel; /* when preferred and main channel are unknown; email */
    double control_share;     /* share of each kind's listed rows held out as its control
                                 group, 0..0.5; 0.1; 0 = none (sgs_opportunity_is_control) */
    uint64_t control_seed;    /* keys the control draw with customer, kind and as-of day; 42 */
    /* contact policy (sgs_contact_policy_apply, kernels/contact_policy.h) */
    int32_t min_days_between_contacts; /* a customer with a campaign contact (event kind 7) on
                                          days t-this+1 .. t is listed only for a kind whose
                                          priority >= contact_override_priority; 14; 0 off */
    int32_t contact_override_priority; /* the bar; 80 (service_recovery, renewal_at_risk,
                                          save_high_value clear it at the defaults) */
    int32_t max_unanswered_contacts;   /* a channel with this many contacts of the customer
                                          and no response through it is not chosen; 3; 0 off */
    /* learned from a measurement (engine/run_learn.c): both neutral by default */
    double value_scale[SGS_OPP_KIND_COUNT];     /* value at stake x this; 1; finite */
    uint8_t avoid_channels[SGS_OPP_KIND_COUNT]; /* bit c: channel c is not chosen for this kind
                                                   (measured to lose money); 0 */
    uint8_t avoid_channels_by_rfm[SGS_OPP_KIND_COUNT][SGS_RFM_SEGMENT_COUNT + 1]; /* the same
                                       for customers of one RFM segment (in->rfm_segment;
                                       index SGS_RFM_SEGMENT_COUNT: no purchase); 0 */
} sgs_opportunity_config_t;

void sgs_opportunity_config_default(sgs_opportunity_config_t *cfg);

/* Check ranges (quantiles and shares in [0,1], windows >= 1, capacities >= -1, channel
 * codes 1..7 without repeats, ...). @return 0 or SGS_ECONFIG naming the field. */
int sgs_opportunity_config_check(const sgs_opportunity_config_t *cfg, sgs_error_t *err);

/* What the triggers read. All pointers borrowed. */
typedef struct sgs_opportunity_input {
    const sgs_stage_input_t *customers;   /* histories, model columns, segment, channels:
                                             the view sgs_stages_compute validated */
    int32_t as_of_day;                    /* UTC day of the list */
    const uint8_t *stage;                 /* [n] sgs_stages_compute at as_of_day */
    const double *cycle_days;             /* [n] idem */
    const double *days_overdue;           /* [n] idem */
    const sgs_stage_rules_t *stage_rules; /* the rules used for the stages; NULL = defaults */
    const uint8_t *stage_compare;         /* [n] optional: stages at compare_day */
    int32_t compare_day;                  /* earlier day (reasons only) */
    const int64_t *n_direct_referrals;    /* [n] optional (sgs_influence_compute) */
    const int64_t *n_indirect_referrals;  /* [n] optional (reasons only) */
    const double *network_value;          /* [n] optional */
    const uint8_t *blocked_channels;      /* [n] optional: bit c set = channel c is not to be
                                             chosen for customer i (the contact policy's) */
    const uint8_t *rfm_segment;           /* [n] optional: RFM segment code (kernels/rfm.h),
                                             SGS_RFM_SEGMENT_COUNT for no purchase: picks the
                                             row of cfg->avoid_channels_by_rfm */
} sgs_opportunity_input_t;

/* Base-wide results of detection; owns segment_clv_median. */
typedef struct sgs_opportunity_stats {
    int64_t n_fired[SGS_OPP_KIND_COUNT]; /* customers each kind fired for */
    int64_t n_customers;                 /* customers with at least one kind fired */
    int64_t n_candidates;                /* rows before capacity: n_customers, or the sum of
                                            n_fired with all_opportunities */
    uint32_t kinds_without_input;        /* bit k: kind k is enabled but its input is missing */
    double save_clv_threshold;           /* CLV needed by save_high_value (NaN: no CLV) */
    double advocate_value_threshold;     /* value brought in needed by advocate (NaN: none) */
    double global_clv_median;            /* potential for segment -1 (NaN: no CLV) */
    int32_t n_segments;                  /* length of segment_clv_median */
    double *segment_clv_median;          /* [n_segments] owned; NaN for an empty segment */
    int all_opportunities;               /* the setting the candidates were counted with */
} sgs_opportunity_stats_t;

/* Release what stats owns (NULL-safe; stats stays safe to free again). */
void sgs_opportunity_stats_free(sgs_opportunity_stats_t *stats);

/* Evaluate every enabled trigger for every customer (definitions above).
 *   fired: [n] caller-owned, bit k set when kind k fired for customer i;
 *   stats: overwritten (free a previous result first); owns memory afterwards, also
 *   after a failure: release with sgs_opportunity_stats_free.
 * Parallel over customers; each mask is a pure function of the customer's rows and the
 * base-wide thresholds (order statistics), so the bits do not depend on the thread count.
 * @return 0; SGS_ECONFIG; SGS_EINVAL for a missing required column; SGS_EDATA for a
 * segment label >= n; SGS_ENOMEM. */
int sgs_opportunities_detect(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                             const sgs_exec_t *exec, uint16_t *fired,
                             sgs_opportunity_stats_t *stats, sgs_error_t *err);

/* For a base spread over processes (engine/dist_detect.h), detection in parts:
 * - sgs_opportunities_detect_check: the configuration and the arrays required (the checks
 *   sgs_opportunities_detect makes first; SGS_ECONFIG, SGS_EINVAL);
 * - sgs_opportunity_threshold_columns: the columns whose order statistics are the base-wide
 *   thresholds, NaN where a customer does not count: buyers_clv (the CLV of a customer whose
 *   stage is neither none nor prospect: save_high_value's quantile), alive_clv (the CLV of an
 *   alive customer: the medians per segment and overall), brought_in (the value brought in
 *   by a customer with at least advocate_min_referrals direct referrals: advocate's
 *   quantile; NaN for everyone without network values). Any output may be NULL. Parallel,
 *   the same bits for any thread count.
 * - sgs_opportunities_detect_given: the triggers of sgs_opportunities_detect with the
 *   thresholds already in *stats (save_clv_threshold, advocate_value_threshold,
 *   global_clv_median, n_segments and segment_clv_median, which stats owns), as
 *   sgs_opportunities_detect computes them over the whole base; writes fired and the counts
 *   of *stats (this base's). @return as sgs_opportunities_detect, but for its SGS_EDATA. */
int sgs_opportunities_detect_check(const sgs_opportunity_input_t *in,
                                   const sgs_opportunity_config_t *cfg, const uint16_t *fired,
                                   sgs_error_t *err);
void sgs_opportunity_threshold_columns(const sgs_opportunity_input_t *in,
                                       const sgs_opportunity_config_t *cfg, const sgs_exec_t *exec,
                                       double *buyers_clv, double *alive_clv, double *brought_in);
int sgs_opportunities_detect_given(const sgs_opportunity_input_t *in,
                                   const sgs_opportunity_config_t *cfg, const sgs_exec_t *exec,
                                   uint16_t *fired, sgs_opportunity_stats_t *stats,
                                   sgs_error_t *err);

/* Serial reference twin of sgs_opportunities_detect: one plain loop over the customers in
 * index order with the same per-customer triggers; the quantile thresholds by sorting the
 * finite values (nearest rank), the segment medians by sgs_group_medians_ref. The same masks,
 * stats (bits), codes and messages (but for SGS_ENOMEM's). stats owns segment_clv_median as
 * with sgs_opportunities_detect. */
int sgs_opportunities_detect_ref(const sgs_opportunity_input_t *in,
                                 const sgs_opportunity_config_t *cfg, uint16_t *fired,
                                 sgs_opportunity_stats_t *stats, sgs_error_t *err);

/* Value at stake of kind for customer i (formula above), finite. */
double sgs_opportunity_value(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                             const sgs_opportunity_stats_t *stats, size_t i, int kind);

/* The numbers behind the reason of (customer i, kind): what made the trigger fire, or not,
 * at in->as_of_day. Every field is filled for every kind (NaN, -1 or SGS_DAY_NONE where it
 * does not apply); the thresholds are the ones the triggers used. */
typedef struct sgs_opportunity_facts {
    int kind;          /* the kind asked for (any value; unknown kinds have no facts) */
    int32_t as_of_day; /* in->as_of_day */
    /* the customer at as_of_day */
    double cycle_days;          /* in->cycle_days[i] */
    double days_overdue;        /* in->days_overdue[i] */
    double clv;                 /* currency; NaN without the column */
    double p_buy;               /* calibrated P(buy); NaN = unknown */
    double value_if_back;       /* clv / the model's P(buy), or clv (see the top) */
    int32_t n_purchase_days;    /* distinct purchase days on or before as_of_day */
    int32_t first_purchase_day; /* SGS_DAY_NONE without purchase */
    int64_t days_since_last;    /* as_of_day - last purchase day; -1 without purchase */
    /* what the trigger looked at */
    int32_t n_support;          /* service_recovery: support contacts in the window */
    int32_t n_complaints;       /* service_recovery: complaints in the window */
    int32_t event_day;          /* renewal_at_risk: the renewal due day; detractor_follow_up: the
                                   survey day; SGS_DAY_NONE when none */
    double survey_score;        /* detractor_follow_up: that survey's score, NaN when none */
    int stage_then;             /* stage at compare_day when in->stage_compare is given, else -1 */
    int32_t compare_day;        /* in->compare_day */
    double potential;           /* grow: the median CLV compared with */
    int32_t potential_segment;  /* grow: its segment, -1 for all customers */
    int64_t n_direct_referrals; /* advocate: 0 without the column */
    int64_t n_indirect_referrals; /* advocate: 0 without the column */
    double brought_in;            /* advocate: network value - own value; NaN without it */
    double network_value;         /* advocate: NaN without the column */
    /* thresholds */
    double lapsed_p_buy;             /* stage rules */
    double at_risk_p_buy;            /* stage rules */
    double lapse_overdue_days;       /* lapsed_overdue_cycles * cycle_days */
    double overdue_margin_days;      /* overdue_margin_cycles * cycle_days */
    double save_clv_threshold;       /* stats */
    double advocate_value_threshold; /* stats */
} sgs_opportunity_facts_t;

/* Fill *facts for customer i < n and kind (same in, cfg and stats as detection). Pure,
 * thread-safe; O(rows of i). */
void sgs_opportunity_facts(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                           const sgs_opportunity_stats_t *stats, size_t i, int kind,
                           sgs_opportunity_facts_t *facts);

/* The facts of (customer i, kind) that kind's reason shows, the same values as
 * sgs_opportunity_facts gives in these fields:
 *   every kind          kind, as_of_day, compare_day, lapsed_p_buy, at_risk_p_buy,
 *                       save_clv_threshold, advocate_value_threshold, and lapse_overdue_days,
 *                       overdue_margin_days from cycle_days (NaN where it is not filled)
 *   service_recovery    n_support, n_complaints
 *   renewal_at_risk     event_day
 *   win_back            cycle_days, p_buy, value_if_back, days_since_last, stage_then
 *   save_high_value     cycle_days, days_overdue, clv, p_buy, value_if_back, days_since_last
 *   overdue_reminder    cycle_days, days_overdue, p_buy
 *   onboarding          cycle_days, n_purchase_days, first_purchase_day
 *   detractor_follow_up event_day, survey_score
 *   grow                clv, potential, potential_segment
 *   advocate            n_direct_referrals, n_indirect_referrals, brought_in, network_value
 * and the blanks of a fact that does not apply in the others (NaN; 0 for the counts;
 * SGS_DAY_NONE for the days; -1 for days_since_last, stage_then and potential_segment). It
 * reads only the columns of those fields (a listed row costs a cache miss per column it
 * touches at 10M customers), and walks the purchases only back to the last day on or before
 * as_of_day (sgs_purchase_last_day) but for onboarding. Pure, thread-safe. */
void sgs_opportunity_kind_facts(const sgs_opportunity_input_t *in,
                                const sgs_opportunity_config_t *cfg,
                                const sgs_opportunity_stats_t *stats, size_t i, int kind,
                                sgs_opportunity_facts_t *facts);

/* A hint for a later sgs_opportunity_kind_facts(in, ..., i, kind): asks the memory for what
 * it will read of customer i, so that a caller going through many customers overlaps their
 * cache misses instead of waiting for them one customer at a time. Step 0: the customer's
 * columns (and its entries of the purchase and event offsets); step 1, once step 0's have
 * arrived (it reads those offsets): the purchase or event rows they point to. Reads nothing
 * else and writes nothing; changes no result. */
void sgs_opportunity_kind_facts_prefetch(const sgs_opportunity_input_t *in, size_t i, int kind,
                                         int step);

/* Control groups. A listed row of customer `customer_id` and `kind` on the list of
 * `as_of_day` is held out as control (not to be contacted; its outcome is the baseline
 * the contacted rows are measured against) when
 *   sgs_rng_uniform(control_seed, stream, customer_id) < control_share,
 *   stream = kind << 32 | (uint32_t)as_of_day,
 * a draw of its own for every (customer, kind, day, seed): the same customers whatever the
 * thread or process count or the rest of the list, about control_share of each kind, and a
 * new draw every day (no customer is held out for ever). */
int sgs_opportunity_is_control(const sgs_opportunity_config_t *cfg, int64_t customer_id, int kind,
                               int32_t as_of_day);

/* The ranked list: caller-owned columns of `capacity` rows, capacity >= stats->n_candidates. */
typedef struct sgs_opportunity_rows {
    int64_t *customer_index; /* dense customer index */
    uint8_t *kind;           /* enum sgs_opportunity_kind */
    int32_t *priority;       /* cfg priority of the kind */
    double *value_at_stake;  /* currency */
    uint8_t *channel;        /* enum sgs_channel assigned (after spilling) */
    int64_t *rank;           /* 1, 2, ... in list order */
    uint8_t *control;        /* 1: held out as control (sgs_opportunity_is_control), 0: contact */
} sgs_opportunity_rows_t;

typedef struct sgs_opportunity_list_summary {
    int64_t n_candidates; /* rows before capacity */
    int64_t n_listed;     /* rows written */
    int64_t n_spilled;    /* listed on another channel than
                             their own */
    int64_t n_left_out;   /* dropped: no capacity left */
    int64_t n_control;    /* listed rows held out as control */
    int64_t n_listed_per_kind[SGS_OPP_KIND_COUNT];
    int64_t n_control_per_kind[SGS_OPP_KIND_COUNT];
    int64_t n_left_out_per_kind[SGS_OPP_KIND_COUNT];
    int64_t n_listed_per_channel[SGS_CHANNEL_COUNT];   /* by assigned channel */
    int64_t n_left_out_per_channel[SGS_CHANNEL_COUNT]; /* by the customer's own channel */
    int64_t n_unanswered_moved;    /* rows listed on another channel because the customer
                                      never answers their own (in->blocked_channels) */
    int64_t n_unanswered_left_out; /* rows left out: every channel with room is blocked */
    int64_t n_avoided_moved;       /* rows listed on another channel than their own because
                                      it is avoided for their kind (cfg->avoid_channels) */
    int64_t n_avoided_left_out;    /* rows left out so */
} sgs_opportunity_list_summary_t;

/* The customer's own channel: preferred if known (1..7), else main purchase channel if
 * known, else cfg->fallback_channel. */
uint8_t sgs_opportunity_channel_of(const sgs_opportunity_input_t *in,
                                   const sgs_opportunity_config_t *cfg, size_t i);

/* Build, rank and cut the list from the masks of sgs_opportunities_detect (same in and
 * cfg), as the contact policy left them (kernels/contact_policy.h). Rows are written in rank
 * order; *n_rows gets their count.
 * Ranking: priority desc, value at stake desc, customer_id asc, kind asc: a total order,
 * so the list is unique. Per customer without all_opportunities: the kind with the
 * highest priority, then the highest value, then the lowest code.
 * Capacity, in rank order: a row takes its customer's own channel when it is allowed
 * (capacity != 0) and has room; else the first channel after it in spill_order (from the
 * start of spill_order when its own channel is not listed) that is allowed and has room;
 * else it is left out and counted. A channel of in->blocked_channels (or of the kind's
 * cfg->avoid_channels, or of its cfg->avoid_channels_by_rfm for the customer's RFM segment)
 * is never taken: a row whose own channel is blocked spills as if it
 * were full (n_unanswered_moved, or n_unanswered_left_out when no channel is left; for the
 * kind's avoided channels n_avoided_moved and n_avoided_left_out). Rows left out do not
 * free a place for a customer's other kinds. Control rows (sgs_opportunity_is_control) are
 * listed and take their place like the others: the control group is drawn from the very
 * rows that would be contacted, so that the two groups are alike; with a channel's capacity
 * C about C x (1 - share) contacts are made through it.
 * Allocates 2 * candidates * 24 bytes for the sort; sorts in parallel (fixed runs merged
 * pairwise), channels are assigned serially; output independent of the thread count.
 * @return 0; SGS_EINVAL when capacity < stats->n_candidates or a required pointer is
 * NULL; SGS_ENOMEM. */
int sgs_opportunities_rank(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                           const sgs_opportunity_stats_t *stats, const uint16_t *fired,
                           const sgs_exec_t *exec, sgs_opportunity_rows_t *rows, size_t capacity,
                           size_t *n_rows, sgs_opportunity_list_summary_t *summary,
                           sgs_error_t *err);

/* Serial reference twin of sgs_opportunities_rank: the candidates gathered by one loop over
 * the customers, sorted by qsort with the same total order, the channels assigned as there
 * (one serial pass); the same rows, summary, codes and messages (but for SGS_ENOMEM's). */
int sgs_opportunities_rank_ref(const sgs_opportunity_input_t *in,
                               const sgs_opportunity_config_t *cfg,
                               const sgs_opportunity_stats_t *stats, const uint16_t *fired,
                               sgs_opportunity_rows_t *rows, size_t capacity, size_t *n_rows,
                               sgs_opportunity_list_summary_t *summary, sgs_error_t *err);

#endif /* SGS_OPPORTUNITIES_H */
