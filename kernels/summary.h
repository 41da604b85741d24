/*
 * kernels/summary.h — one pass per customer over its grouped rows: purchase days,
 * frequency, recency, age, spend, refunds, gaps, main channel.
 *
 * Definitions (README "Customer summary"), all durations in whole UTC days:
 *   - a purchase row has amount >= 0 (0 is a purchase occasion with no spend, as in CDNOW);
 *     a refund row has amount < 0: it reduces spend and is not a purchase;
 *   - purchase days: distinct days with at least one purchase row (several purchases on one
 *     day are one purchase occasion);
 *   - frequency x = purchase days - 1 (repeat purchase days, BG/NBD's x);
 *   - recency t_x = last purchase day - first purchase day; age T = as-of day - first
 *     purchase day; days since last = as-of day - last purchase day;
 *   - total_spend = sum of every row's amount (purchases minus refunds);
 *     mean_spend = total_spend / purchase days;
 *     monetary = mean over repeat purchase days (every purchase day but the first) of the
 *     day's purchase amounts; 0 when x = 0. Refunds are left out of it wherever they fall:
 *     they are not purchases. This is lifetimes' monetary_value and the Gamma-Gamma input.
 *   - gaps: days between consecutive purchase days; mean (NaN when x = 0) and population
 *     standard deviation (NaN when x < 2);
 *   - main channel: the channel code with most purchase rows (ties: lowest code; 0 when the
 *     input has no channel column).
 * A customer with refund rows only has no purchase: flagged has_purchase = 0 so that the
 * caller can leave them out and count them.
 * Per-customer sums run over the rows in order: the result does not depend on threads.
 */
#ifndef SGS_SUMMARY_H
#define SGS_SUMMARY_H

#include "kernels/core.h"
#include "kernels/group.h"

typedef struct sgs_summary {
    size_t n_customers;
    uint8_t *has_purchase;    /* 1 when the customer has at least one purchase row */
    int32_t *first_day;       /* first purchase day (UTC day number) */
    int32_t *last_day;        /* last purchase day */
    int32_t *n_purchase_days; /* distinct purchase days, >= 1 when has_purchase */
    int32_t *frequency;       /* n_purchase_days - 1 */
    int32_t *recency_days;    /* last_day - first_day */
    int32_t *age_days;        /* as_of_day - first_day (T) */
    int32_t *days_since_last; /* as_of_day - last_day */
    double *total_spend;      /* net: purchases minus refunds */
    double *mean_spend;       /* total_spend / n_purchase_days */
    double *monetary;         /* mean purchase spend of repeat days; 0 when frequency = 0 */
    double *refund_total;     /* sum of |refund amounts|, >= 0 */
    int32_t *n_refunds;       /* refund rows */
    double *gap_mean_days;    /* mean inter-purchase gap; NaN when frequency = 0 */
    double *gap_sd_days;      /* population sd of gaps; NaN when frequency < 2 */
    uint8_t *main_channel;    /* most used purchase channel */
} sgs_summary_t;

/* Allocate every column for n customers. @return 0 or SGS_ENOMEM (nothing left). */
int sgs_summary_alloc(sgs_summary_t *s, size_t n_customers);
void sgs_summary_free(sgs_summary_t *s);

/* Copy customer slot `from` to slot `to` in every column (compacting a summary). */
void sgs_summary_copy_row(sgs_summary_t *s, size_t to, size_t from);

/* Summarize every customer of g as of `as_of_day` (>= every row's day).
 * @return 0 or SGS_EINVAL when a row is after as_of_day (the reader excludes them). */
int sgs_summarize(const sgs_exec_t *exec, const sgs_grouped_t *g, int32_t as_of_day,
                  sgs_summary_t *out, sgs_error_t *err);

#endif
