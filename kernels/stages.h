/*
 * kernels/stages.h — purchase cycle and lifecycle stage of every customer at an as-of day,
 * the stage-to-stage transition matrix between two as-of days, and the mean time spent in
 * each stage.
 *
 * Inputs are struct-of-arrays views indexed by the dense customer index 0..n-1 (customers
 * sorted by customer_id ascending); outputs are caller-owned arrays of the same length.
 * Purchases and events come grouped by customer (CSR: offset[n+1] into day arrays sorted
 * within each customer), so that one view serves any as-of day: whatever is dated after
 * the as-of day is ignored. No I/O, no globals.
 *
 * Times are whole UTC days (days since 1970-01-01, see sgs_day_of) in int32_t.
 *
 * The rules (docs/stages.md has them as tables):
 *
 *   purchase cycle (days between purchases), first rule that applies:
 *     model     n_days >= min_purchases_own_cycle and rate_per_day finite > 0: 1 / rate
 *               (the run passes the rate while buying, (r + x) / (alpha + t_x): it does not
 *               grow with the time since the last purchase)
 *     observed  n_days >= min_purchases_own_cycle: observed mean gap (last-first)/(n_days-1)
 *     segment   the median own cycle (model or observed) of the customers of the same
 *               segment with n_days >= segment_min_purchases
 *     global    the same median over all customers (segment < 0, or an empty segment)
 *     default   default_cycle_days (nobody has enough history)
 *   where n_days = distinct purchase days on or before as_of.
 *
 *   days_since_last = as_of - last purchase day;  days_overdue = days_since_last - cycle
 *   (negative: days until the next purchase is due).
 *
 *   stage, first rule that applies:
 *     none         not yet known at as_of: signup_day > as_of, or (no signup day) no
 *                  purchase and no event on or before as_of but a purchase later
 *     cancelled    a cancelled event on day c <= as_of, with no purchase day > c and no
 *                  renewed event on a day > c (a purchase on day c does not undo it)
 *     prospect     known, no purchase on or before as_of
 *     new          as_of - first purchase day <= new_cycles * cycle
 *     lapsed       p_buy known: p_buy < lapsed_p_buy;
 *                  p_buy unknown: days_overdue > lapsed_overdue_cycles * cycle
 *     at_risk      p_buy known: p_buy < at_risk_p_buy;
 *                  p_buy unknown: days_overdue > at_risk_overdue_cycles * cycle
 *     reactivated  as_of - reactivation day <= reactivated_cycles * cycle, where the
 *                  reactivation day is the latest purchase day that either follows a gap
 *                  longer than (1 + lapsed_overdue_cycles) * cycle (the customer had been
 *                  lapsed by the overdue rule) or is the first purchase after a
 *                  cancellation
 *     loyal        own cycle (model or observed), n_days >= loyal_min_purchases, and
 *                  cycle * loyal_rate_multiple <= the segment's cycle (the customer buys at
 *                  least loyal_rate_multiple times as often as the segment's median)
 *     active       everything else
 *   p_buy is known when the column is given and finite for the customer. With it, the
 *   calibrated probability that the backtest validates decides, not the silence measured
 *   in cycles (a cycle estimate is least reliable exactly for customers with few purchases).
 */
#ifndef SGS_STAGES_H
#define SGS_STAGES_H

#include "kernels/core.h"
#include "kernels/sparse_values.h"

/* "No day" in optional day columns (signup_day). */
#define SGS_DAY_NONE INT32_MIN

/* Lifecycle stages. Codes are stable: they are written to results files. */
enum sgs_stage {
    SGS_STAGE_NONE = 0,        /* not yet a known customer at the as-of day */
    SGS_STAGE_PROSPECT = 1,    /* known, never bought */
    SGS_STAGE_NEW = 2,         /* first purchase within new_cycles cycles */
    SGS_STAGE_ACTIVE = 3,      /* buying, not overdue beyond at-risk */
    SGS_STAGE_LOYAL = 4,       /* active and buying much more often than the segment */
    SGS_STAGE_AT_RISK = 5,     /* p_buy low (without p_buy: overdue) */
    SGS_STAGE_LAPSED = 6,      /* p_buy very low (without p_buy: far overdue) */
    SGS_STAGE_REACTIVATED = 7, /* bought again after a lapse or a cancellation, recently */
    SGS_STAGE_CANCELLED = 8    /* explicit cancellation, nothing since */
};
#define SGS_STAGE_COUNT 9

/* Where a customer's cycle came from. */
enum sgs_cycle_source {
    SGS_CYCLE_MODEL = 0,    /* 1 / posterior purchase rate */
    SGS_CYCLE_OBSERVED = 1, /* observed mean gap between purchase days */
    SGS_CYCLE_SEGMENT = 2,  /* median of the segment */
    SGS_CYCLE_GLOBAL = 3,   /* median of all customers */
    SGS_CYCLE_DEFAULT = 4   /* rules.default_cycle_days */
};
#define SGS_CYCLE_SOURCE_COUNT 5

/* Name of a stage code ("at_risk"); "unknown" outside the enum. */
const char *sgs_stage_name(int stage);
/* Name of a cycle source ("segment"); "unknown" outside the enum. */
const char *sgs_cycle_source_name(int source);

/* The customer histories every lifecycle and opportunity kernel reads. All pointers are
 * borrowed; optional columns may be NULL. Index i is the dense customer index. */
typedef struct sgs_stage_input {
    size_t n;                   /* customers */
    const int64_t *customer_id; /* [n] strictly ascending (the dense index order) */
    const int32_t *signup_day;  /* [n] optional: day the customer became known, or
                                   SGS_DAY_NONE */
    /* purchases: purchase days grouped by customer; duplicates (several transactions on
     * one day) are allowed and count as one purchase day. Which rows are purchases
     * (e.g. refunds excluded) is the caller's choice. */
    const size_t *purchase_offset; /* [n+1] customer i owns rows offset[i]..offset[i+1]-1;
                                      offset[0] == 0, non-decreasing */
    const int32_t *purchase_day;   /* [purchase_offset[n]] day, ascending within customer */
    /* events (DESIGN.md /events): optional as a whole (event_offset NULL = no events) */
    const size_t *event_offset; /* [n+1] as purchase_offset */
    const int32_t *event_day;   /* [event_offset[n]] day, ascending within customer */
    const uint8_t *event_kind;  /* [event_offset[n]] enum sgs_event_kind (kernels/tables.h) */
    const sgs_sparse_values_t *event_value; /* [event_offset[n]] optional: survey score 0..10,
                                               else NaN (kernels/sparse_values.h) */
    const uint8_t *event_channel;           /* [event_offset[n]] optional: channel of a contact or
                                               response (enum sgs_channel, 0 unknown); NULL = unknown */
    /* value model at the as-of day: optional, NULL = no model (fallbacks documented) */
    const double *p_buy;        /* [n] calibrated P(buy within the horizon) in [0,1]; NaN =
                                   unknown for this customer */
    const double *p_buy_model;  /* [n] the model's own P(buy within the horizon): value at
                                   stake (opportunities.h); NaN = unknown */
    const double *rate_per_day; /* [n] posterior mean purchase rate while alive, purchases
                                   per day (e.g. E[lambda | history]); NaN = unknown */
    const double *clv;          /* [n] customer lifetime value, currency; NaN = unknown */
    /* segmentation: optional */
    const int32_t *segment; /* [n] k-means segment 0..n-1, or -1 for none; NULL = none */
    /* channels (enum sgs_channel): optional, 0 = unknown */
    const uint8_t *preferred_channel; /* [n] preferred mode of contact */
    const uint8_t *main_channel;      /* [n] channel of most purchases */
} sgs_stage_input_t;

/* The stage rule table. Cycle multiples are in units of the customer's own cycle. */
typedef struct sgs_stage_rules {
    int32_t min_purchases_own_cycle; /* purchase days for an own cycle; default 2, >= 2 */
    int32_t segment_min_purchases;   /* purchase days to count in a segment's median
                                        cycle; default 3, >= min_purchases_own_cycle */
    double default_cycle_days;       /* cycle when nobody has enough history; default 90 */
    double new_cycles;               /* new while days since first <= this * cycle; 1 */
    double at_risk_overdue_cycles;   /* at risk when days overdue > this * cycle; 1 */
    double at_risk_p_buy;            /* at risk when p_buy < this; 0.5 */
    double lapsed_overdue_cycles;    /* lapsed when days overdue > this * cycle; 3 */
    double lapsed_p_buy;             /* lapsed when p_buy < this; 0.2 */
    double reactivated_cycles;       /* reactivated while days since reactivation <= this *
                                        cycle; 1 */
    double loyal_rate_multiple;      /* loyal when rate >= this * segment rate; 1.5 */
    int32_t loyal_min_purchases;     /* loyal needs at least this many purchase days; 4 */
} sgs_stage_rules_t;

/* Fill *rules with the defaults listed above. */
void sgs_stage_rules_default(sgs_stage_rules_t *rules);

/* Check a rule table: finite, positive cycle multiples, 0 <= p thresholds <= 1,
 * lapsed_overdue_cycles >= at_risk_overdue_cycles, lapsed_p_buy <= at_risk_p_buy,
 * min_purchases_own_cycle >= 2, segment_min_purchases >= min_purchases_own_cycle.
 * @return 0 or SGS_ECONFIG with the offending field named in err. */
int sgs_stage_rules_check(const sgs_stage_rules_t *rules, sgs_error_t *err);

/* Caller-owned outputs, [n] each; optional ones may be NULL. */
typedef struct sgs_stage_output {
    uint8_t *stage;             /* required: enum sgs_stage */
    double *cycle_days;         /* required: purchase cycle used, days (also for prospects:
                                   the segment's cycle) */
    double *days_overdue;       /* required: days_since_last - cycle; NaN without purchase */
    uint8_t *cycle_source;      /* optional: enum sgs_cycle_source */
    double *observed_gap_days;  /* optional: observed mean gap between purchase days; NaN
                                   with fewer than 2 purchase days */
    int32_t *n_purchase_days;   /* optional: distinct purchase days on or before as_of */
    double *segment_cycle_days; /* optional: [n_segment_slots] the median cycle of segments
                                   0..n_segment_slots-1 (NaN: nobody qualifies) */
    size_t n_segment_slots;     /* length of segment_cycle_days */
} sgs_stage_output_t;

/* Counts and medians of one sgs_stages_compute call. */
typedef struct sgs_stage_summary {
    int64_t n_per_stage[SGS_STAGE_COUNT];               /* customers per stage */
    int64_t n_per_cycle_source[SGS_CYCLE_SOURCE_COUNT]; /* customers per cycle source */
    int32_t n_segments;       /* 1 + the largest segment label (0 without segments) */
    double global_cycle_days; /* median own cycle over all qualifying customers, or
                                 default_cycle_days when nobody qualifies */
} sgs_stage_summary_t;

/* Purchase cycle and lifecycle stage of every customer at as_of_day (rules above).
 *   in: the histories (model columns describe the customers at as_of_day; for an earlier
 *       as-of day pass model outputs of that day or NULL, which turns the p_buy rules
 *       off and takes cycles from observed gaps); rules: NULL = defaults;
 *   out: caller-owned, written for every customer; summary: may be NULL.
 * Two passes over the purchases and events plus one median per segment; allocates O(n)
 * scratch once per call. Parallel over customers with exec's threads; every output is
 * a pure function of the customer's rows and the segment medians, so the bits do not
 * depend on the thread count. n == 0 is valid (summary zeroed).
 * @return 0; SGS_ECONFIG for a bad rule table; SGS_EINVAL for a missing required
 * pointer; SGS_EDATA for a segment label >= n or an offset array that decreases (the
 * message names the customer_id); SGS_ENOMEM. */
int sgs_stages_compute(const sgs_stage_input_t *in, int32_t as_of_day,
                       const sgs_stage_rules_t *rules, const sgs_exec_t *exec,
                       sgs_stage_output_t *out, sgs_stage_summary_t *summary, sgs_error_t *err);

/* Serial reference twin of sgs_stages_compute: one plain loop over the customers in index
 * order for the validation, the own cycles and the stages (the same per-customer rules), the
 * segment medians from sgs_group_medians_ref (sort and take the middle); the same outputs,
 * bits, summary, return codes and messages (but for SGS_ENOMEM's). */
int sgs_stages_compute_ref(const sgs_stage_input_t *in, int32_t as_of_day,
                           const sgs_stage_rules_t *rules, sgs_stage_output_t *out,
                           sgs_stage_summary_t *summary, sgs_error_t *err);

/* The parts of sgs_stages_compute, for a caller that holds a share of the customers and
 * selects the medians among every share (engine/dist_actions.h): the checks, pass 1 (each
 * customer's own cycle and the values the medians are taken of), pass 2 (cycle and stage
 * from the medians). sgs_stages_compute is exactly: check, own cycles with n_all = in->n,
 * sgs_group_medians of median_value by in->segment over 1 + max_label segments, given
 * medians. */

/* sgs_stages_compute's checks of the rules (NULL: defaults), required arrays and size.
 * @return 0, SGS_ECONFIG or SGS_EINVAL with the kernel's message. */
int sgs_stages_check(const sgs_stage_input_t *in, const sgs_stage_rules_t *rules,
                     const sgs_stage_output_t *out, sgs_error_t *err);

/* Pass 1 over in's customers (checked with sgs_stages_check): own_cycle_days[i] the own cycle
 * (model or observed; NaN with too little history), own_source[i] its source, median_value[i]
 * the own cycle when the customer counts for its segment's median (n_days >=
 * segment_min_purchases), else NaN; *max_label the largest segment label (-1 without).
 * n_all: the customer count labels must be below (all shares' customers). [in->n] each,
 * caller-owned. Thread-count independent.
 * @return 0; SGS_EDATA for the first customer with rows not sorted by day or a label >= n_all
 * (the kernel's message, naming the customer_id). */
int sgs_stages_own_cycles(const sgs_stage_input_t *in, int32_t as_of_day,
                          const sgs_stage_rules_t *rules, int64_t n_all, const sgs_exec_t *exec,
                          double *own_cycle_days, uint8_t *own_source, double *median_value,
                          int32_t *max_label, sgs_error_t *err);

/* Pass 2: every customer's stage and outputs from the own cycles (out->cycle_days holds
 * pass 1's own_cycle_days on entry and the cycle used on return), own_source and the medians
 * (segment_median [n_segments], NaN for none; global_median NaN when nobody qualifies);
 * *summary (may be NULL) gets this call's counts and the medians as sgs_stages_compute
 * reports them. Cannot fail. */
void sgs_stages_given_medians(const sgs_stage_input_t *in, int32_t as_of_day,
                              const sgs_stage_rules_t *rules, const double *segment_median,
                              int32_t n_segments, double global_median, const uint8_t *own_source,
                              const sgs_exec_t *exec, sgs_stage_output_t *out,
                              sgs_stage_summary_t *summary);

/* A customer's purchase history up to a day, from the grouped purchase days. */
typedef struct sgs_purchase_summary {
    int32_t n_days;       /* distinct purchase days <= as_of */
    int32_t first_day;    /* first purchase day, SGS_DAY_NONE when n_days == 0 */
    int32_t last_day;     /* last purchase day <= as_of, SGS_DAY_NONE when n_days == 0 */
    int32_t next_day;     /* first purchase day > as_of, SGS_DAY_NONE when none */
    double mean_gap_days; /* (last - first) / (n_days - 1); NaN when n_days < 2 */
} sgs_purchase_summary_t;

/* Summary of customer i's purchases on or before as_of_day (O(rows of i)). */
void sgs_purchase_summary(const sgs_stage_input_t *in, size_t i, int32_t as_of_day,
                          sgs_purchase_summary_t *ps);

/* sgs_purchase_summary's last_day alone: customer i's last purchase day on or before
 * as_of_day, SGS_DAY_NONE when none (then n_days == 0). Walks i's rows from the last one
 * back (days ascending, as sgs_stage_input_t requires), so O(1) when nothing was bought after
 * as_of_day, however long the history. */
int32_t sgs_purchase_last_day(const sgs_stage_input_t *in, size_t i, int32_t as_of_day);

/* ---- Transitions between two as-of days ---------------------------------------------- */

/* counts[a * SGS_STAGE_COUNT + b] = number of customers in stage a at the earlier day and
 * stage b at the later one (stages from two sgs_stages_compute calls over the same
 * customers). Integer counts, exact whatever the thread count.
 * @return 0; SGS_EDATA when a stage code is >= SGS_STAGE_COUNT. */
int sgs_stage_transitions(size_t n, const uint8_t *stage_before, const uint8_t *stage_after,
                          const sgs_exec_t *exec, int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT],
                          sgs_error_t *err);

/* Serial reference twin of sgs_stage_transitions: one counting loop; the same counts, codes
 * and message (the first bad row). */
int sgs_stage_transitions_ref(size_t n, const uint8_t *stage_before, const uint8_t *stage_after,
                              int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT], sgs_error_t *err);

/* Mean time spent in each stage, in days, from the transition counts over interval_days
 * (later day - earlier day, > 0), by Little's law L = lambda W (Little 1961, Oper. Res.
 * 9(3):383-387): W_s = L_s / lambda_s with
 *   L_s      = (customers in s at the earlier day + customers in s at the later day) / 2,
 *   lambda_s = (exits from s + entries into s) / 2 / interval_days,
 * exits = customers in s before and elsewhere after, entries the reverse. Exact for a
 * stage in steady state whose customers change stage at most once per interval;
 * customers who leave and come back within the interval are not seen (bias upward).
 * mean_days[s] = NaN when nobody was in s at either day, +INFINITY when customers were
 * but none moved in or out.
 * @return 0 or SGS_EINVAL when interval_days <= 0. */
int sgs_stage_mean_days(const int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT],
                        int32_t interval_days, double mean_days[SGS_STAGE_COUNT], sgs_error_t *err);

#endif /* SGS_STAGES_H */
