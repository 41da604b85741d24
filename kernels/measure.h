/*
 * kernels/measure.h — the numbers of `segscore measure` (docs/measure.md): what each listed
 * customer did in the outcome window, the per-arm sums of an earlier run's list (treated,
 * group 0, against control, group 1) per opportunity kind and channel, and the differences
 * with their 95% intervals.
 *
 * Three steps, each a pure function over caller-owned arrays:
 *   1. sgs_measure_outcomes: one pass over the newer input's transactions and events; for
 *      each listed customer (sorted distinct ids): responded (an event of kind 8 in the
 *      window), bought (a transaction with amount > 0 in the window), renewed (kind 4 in the
 *      window), revenue (Σ amount over the window, refunds negative, 0 without a row), the
 *      latest survey score (kind 6 value) on or before the as-of day and the latest in the
 *      window. The window is days as_of_day + 1 .. end_day (whole UTC days, sgs_day_of);
 *      rows after end_day are ignored, rows on or before as_of_day count only for the survey
 *      baseline. "Latest": the greatest time; among rows of equal time the later file row.
 *   2. sgs_measure_arms: per list row (customer, kind, channel, group) the per-arm counts,
 *      sums and centred sums of squares, per (kind, channel) and per kind over all channels.
 *   3. sgs_measure_compare, sgs_measure_incremental, sgs_measure_cumulative: the
 *      differences, intervals and the smallness rule.
 *
 * Intervals (two-sided 95%, z = 1.959963984540054, the normal quantile 0.975):
 *   - difference of proportions p_t - p_c: Newcombe's hybrid score interval (Newcombe 1998,
 *     "Interval estimation for the difference between independent proportions", Statistics
 *     in Medicine 17, method 10) from the Wilson score interval [l, u] of each arm
 *     (Wilson 1927):  l, u = (p + z²/2n ∓ z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n);
 *     lo = d - sqrt((p_t - l_t)² + (u_c - p_c)²), hi = d + sqrt((u_t - p_t)² + (p_c - l_c)²).
 *     Unlike the Wald interval it does not collapse to a point at 0 or n successes.
 *   - difference of means m_t - m_c (revenue per customer, survey change): the unpooled
 *     (Welch) normal interval d ± z sqrt(s_t²/n_t + s_c²/n_c), s² the sample variance
 *     (divisor n - 1). A normal rather than a t quantile: the smallness rule asks for at
 *     least min_arm (30 by default) in each arm, where the two differ by under 4%.
 *   - incremental revenue of a kind: (m_t - m_c) n_t with variance n_t² (s_t²/n_t + s_c²/n_c);
 *     the cumulative impact is the sum over kinds, its variance the sum of the variances
 *     (the kinds' arms are disjoint rows, taken as independent).
 *
 * Smallness rule: a comparison is conclusive when both arms have at least min_arm
 * customers (for the survey change: customers with both scores) and, for a difference of
 * means, not both arms have zero variance. Otherwise it is flagged with the reason
 * (sgs_measure_reason_t); the numbers that can be computed are still given (NaN for those
 * that cannot: no arm, or fewer than 2 customers for a variance).
 *
 * Determinism: outcomes are accumulated per customer in file order by the one thread that
 * owns the customer (owner = a hash of the id modulo the thread count: each thread scans
 * every row and takes its own customers), so a customer's revenue is the same sum in the
 * same order for any thread count; the per-arm sums run over fixed blocks of
 * SGS_BLOCK_ROWS list rows whose partials are combined in block order. Same output bits for
 * any exec->n_threads.
 */
#ifndef SGS_MEASURE_H
#define SGS_MEASURE_H

#include "kernels/core.h"
#include "kernels/opportunities.h"
#include "kernels/tables.h"

#include <stddef.h>
#include <stdint.h>

#define SGS_MEASURE_Z95 1.959963984540054          /* Φ⁻¹(0.975) */
#define SGS_MEASURE_ALL_CHANNELS SGS_CHANNEL_COUNT /* channel index of a kind's total */
#define SGS_MEASURE_TREATED 0                      /* /opportunities/group codes */
#define SGS_MEASURE_CONTROL 1

/* ---- 1. outcomes per listed customer ------------------------------------------------- */

/* Slots of the id hash of n customers: the smallest power of two >= 2n (at least 16). */
size_t sgs_measure_index_slots(size_t n_customers);

/* What each listed customer did; every array [n_customers], caller-owned. */
typedef struct sgs_measure_outcomes {
    uint8_t *responded;          /* 1: a campaign response (event kind 8) in the window */
    uint8_t *bought;             /* 1: a transaction with amount > 0 in the window */
    uint8_t *renewed;            /* 1: a renewed event (kind 4) in the window */
    double *revenue;             /* Σ amount over the window (money as in the input), 0: none */
    double *survey_before;       /* latest survey score on or before the as-of day; NaN: none */
    double *survey_after;        /* latest survey score in the window; NaN: none */
    int64_t *survey_before_time; /* scratch: the time (Unix s) of survey_before */
    int64_t *survey_after_time;  /* scratch: the time (Unix s) of survey_after */
} sgs_measure_outcomes_t;

/* Row counts of one outcome pass. */
typedef struct sgs_measure_counts {
    int64_t tx_in_window, tx_history, tx_after; /* transaction rows by day */
    int64_t tx_listed;                          /* in the window, of a listed customer */
    int64_t ev_in_window, ev_history, ev_after; /* event rows by day */
    int64_t
        ev_listed; /* in the window, of a listed customer, of a kind read (4, 6 with a score, 8) */
} sgs_measure_counts_t;

/* Fill *o for the n_customers listed customers `ids` (strictly ascending, as
 * sgs_customer_index_build gives them) from the transactions (tx_*: n_tx rows, any order;
 * may be 0 rows) and the events (ev_*: n_ev rows; ev_value may be NULL: no survey score;
 * a NaN value is no score). index: caller-owned scratch of sgs_measure_index_slots(n) slots.
 * Window: days as_of_day + 1 .. end_day (end_day > as_of_day). counts may be NULL.
 * @return 0; SGS_EINVAL (NULL array, n_customers >= UINT32_MAX, end_day <= as_of_day). */
int sgs_measure_outcomes(const int64_t *ids, size_t n_customers, const int64_t *tx_customer,
                         const int64_t *tx_time_s, const double *tx_amount, size_t n_tx,
                         const int64_t *ev_customer, const int64_t *ev_time_s,
                         const uint8_t *ev_kind, const double *ev_value, size_t n_ev,
                         int32_t as_of_day, int32_t end_day, uint32_t *index,
                         const sgs_exec_t *exec, sgs_measure_outcomes_t *o,
                         sgs_measure_counts_t *counts, sgs_error_t *err);

/* Serial reference twin of sgs_measure_outcomes: every row in file order, its customer found by
 * binary search in ids (no index); the same outcomes (bits), counts, codes and messages. */
int sgs_measure_outcomes_ref(const int64_t *ids, size_t n_customers, const int64_t *tx_customer,
                             const int64_t *tx_time_s, const double *tx_amount, size_t n_tx,
                             const int64_t *ev_customer, const int64_t *ev_time_s,
                             const uint8_t *ev_kind, const double *ev_value, size_t n_ev,
                             int32_t as_of_day, int32_t end_day, sgs_measure_outcomes_t *o,
                             sgs_measure_counts_t *counts, sgs_error_t *err);

/* ---- 2. per-arm sums ----------------------------------------------------------------- */

/* One arm of one cell. Sums of squares are centred on the arm's own mean (two passes). */
typedef struct sgs_measure_arm {
    int64_t n;           /* list rows (customers) */
    int64_t n_responded; /* with responded = 1 */
    int64_t n_bought;    /* with bought = 1 */
    int64_t n_renewed;   /* with renewed = 1 */
    double revenue_sum;  /* Σ revenue */
    double revenue_ss;   /* Σ (revenue - mean)² */
    int64_t n_survey;    /* with both survey scores */
    double survey_sum;   /* Σ (after - before) over those */
    double survey_ss;    /* Σ (change - mean change)² */
} sgs_measure_arm_t;

/* Every cell: [kind 0..9 (0 unused)][channel 0..7, SGS_MEASURE_ALL_CHANNELS][group 0, 1]. */
typedef struct sgs_measure_table {
    sgs_measure_arm_t arm[SGS_OPP_KIND_COUNT][SGS_CHANNEL_COUNT + 1][2];
} sgs_measure_table_t;

/* Tables of workspace sgs_measure_arms needs for n_rows list rows: one per block. */
size_t sgs_measure_arms_workspace(size_t n_rows);

/* Sum the outcomes of list rows into *out (overwritten). Row r is customer row_customer[r]
 * (an index into the arrays of o) of kind kind[r] (1..9), channel channel[r] (0..7) and
 * group group[r] (0 treated, 1 control); it counts in its (kind, channel) cell and in its
 * kind's SGS_MEASURE_ALL_CHANNELS cell. workspace: sgs_measure_arms_workspace(n_rows)
 * tables, caller-owned. @return 0; SGS_EDATA for a kind, channel or group out of range
 * (naming the 0-based row); SGS_EINVAL for a NULL array. */
int sgs_measure_arms(const uint32_t *row_customer, const uint8_t *kind, const uint8_t *channel,
                     const uint8_t *group, size_t n_rows, const sgs_measure_outcomes_t *o,
                     const sgs_exec_t *exec, sgs_measure_table_t *workspace,
                     sgs_measure_table_t *out, sgs_error_t *err);

/* ---- 3. differences and intervals ---------------------------------------------------- */

typedef enum sgs_measure_metric {
    SGS_MEASURE_RESPONSE, /* share with a campaign response: proportion */
    SGS_MEASURE_BOUGHT,   /* share who bought: proportion */
    SGS_MEASURE_REVENUE,  /* revenue per customer: mean */
    SGS_MEASURE_RENEWED,  /* share who renewed (renewal_at_risk): proportion */
    SGS_MEASURE_SURVEY,   /* survey score change (detractor_follow_up): mean */
    SGS_MEASURE_METRIC_COUNT
} sgs_measure_metric_t;

/* Stable name of a metric ("response_rate", "bought_share", "revenue_per_customer",
 * "renewal_kept", "survey_change"). */
const char *sgs_measure_metric_name(sgs_measure_metric_t m);

/* Why a comparison is not conclusive (0: it is). */
typedef enum sgs_measure_reason {
    SGS_MEASURE_CONCLUSIVE = 0,
    SGS_MEASURE_NO_CONTROL,    /* the control arm is empty: no comparison */
    SGS_MEASURE_NO_TREATED,    /* the treated arm is empty: no comparison */
    SGS_MEASURE_SMALL_TREATED, /* the treated arm has fewer than min_arm customers */
    SGS_MEASURE_SMALL_CONTROL, /* the control arm has fewer than min_arm customers */
    SGS_MEASURE_NO_VARIANCE,   /* a difference of means where neither arm varies */
    SGS_MEASURE_REASON_COUNT
} sgs_measure_reason_t;

/* Stable name of a reason ("conclusive", "no_control", "no_treated", "small_treated",
 * "small_control", "no_variance"). */
const char *sgs_measure_reason_name(sgs_measure_reason_t r);

/* One comparison. NaN marks what cannot be computed (an empty arm; for means fewer than 2
 * customers in an arm for the interval). */
typedef struct sgs_measure_diff {
    int64_t n_treated, n_control; /* customers the metric is over */
    double treated, control;      /* the arm's proportion or mean */
    double diff, lo, hi;          /* treated - control and its 95% interval */
    double variance;              /* of diff (means; for proportions the Wald variance) */
    sgs_measure_reason_t reason;  /* SGS_MEASURE_CONCLUSIVE or why not */
} sgs_measure_diff_t;

/* Wilson score interval of x successes in n trials (n >= 1), z as above. */
void sgs_measure_wilson(int64_t x, int64_t n, double z, double *lo, double *hi);

/* Newcombe's hybrid score interval of p_t - p_c (see the top). n_t, n_c >= 1. */
void sgs_measure_newcombe(int64_t x_t, int64_t n_t, int64_t x_c, int64_t n_c, double z,
                          double *diff, double *lo, double *hi);

/* Metric m of the treated arm t against the control arm c under the smallness rule with
 * min_arm (>= 2 for a difference of means to have an interval). Pure; never fails. */
void sgs_measure_compare(const sgs_measure_arm_t *t, const sgs_measure_arm_t *c,
                         sgs_measure_metric_t m, int64_t min_arm, sgs_measure_diff_t *out);

/* Incremental revenue of a kind from its revenue comparison (SGS_MEASURE_REVENUE of the
 * kind's all-channel cell): diff n_t, interval and variance scaled by n_t (n_t²); the
 * reason is the comparison's. */
void sgs_measure_incremental(const sgs_measure_diff_t *revenue, sgs_measure_diff_t *out);

/* The cumulative impact: Σ of the n incremental revenues whose diff is a number (kinds
 * without a comparison are left out and counted in *n_left_out), variance Σ variance,
 * interval ± z sqrt(variance). Conclusive when at least one kind is in and every kind in is
 * conclusive; else the reason of the first kind (in order) that is not, or NO_CONTROL when
 * none is in. */
void sgs_measure_cumulative(const sgs_measure_diff_t *kinds, size_t n, sgs_measure_diff_t *out,
                            size_t *n_included, size_t *n_left_out);

#endif /* SGS_MEASURE_H */
