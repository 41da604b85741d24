/*
 * kernels/summary.h — one pass per customer over its grouped rows: purchase occasions,
 * frequency, recency, age, spend, refunds, gaps, main channel.
 *
 * Spend semantics (docs/spend.md has a worked example), durations in whole UTC
 * days:
 *   - a purchase row has amount >= 0 (0 is a purchase occasion with no spend, as in CDNOW);
 *     a refund row has amount < 0;
 *   - rows are read one day at a time. Refunds net against the purchases of the same day:
 *     the day's net amount is purchases + refunds. A day is a purchase occasion when it has
 *     a purchase row and either no refund or a positive net amount (above 1e-9 of its
 *     purchases, so that rounding does not make a purchase); a day whose refunds take it to
 *     net <= 0 (its purchases fully cancelled, or an exchange for goods bought earlier) is
 *     not an occasion (counted in n_cancelled_days). Several purchases on one day are one
 *     occasion;
 *   - a refund not netted the same day (a refund-only day, or what a cancelled day refunds
 *     beyond its own purchases) returns something bought before: it is attributed to the
 *     latest earlier occasion, reducing that occasion's net amount down to 0 at most; the
 *     rest (more than that occasion's amount, or no occasion before it) reduces only
 *     total_spend (a return of goods bought before the history began, say);
 *   - frequency x = occasions - 1 (BG/NBD's x); recency t_x = last occasion - first
 *     occasion; age T = as-of day - first occasion; days since last = as-of - last occasion;
 *   - total_spend = sum of every row's amount (net of every refund);
 *     mean_spend = total_spend / occasions;
 *     monetary = mean net amount of the repeat occasions (every occasion but the first),
 *     after attribution; 0 when x = 0. lifetimes' monetary_value, the Gamma-Gamma input;
 *   - gaps: days between consecutive occasions; mean (NaN when x = 0) and population
 *     standard deviation (NaN when x < 2);
 *   - main channel: the channel code with most purchase rows on occasion days (ties: lowest
 *     code; 0 when the input has no channel column).
 * A customer with no occasion (refunds only, or every purchase cancelled the same day) is
 * flagged has_purchase = 0 so that the caller can leave them out and count them.
 * Per-customer sums run over the rows in order: the result does not depend on threads.
 */
#ifndef SGS_SUMMARY_H
#define SGS_SUMMARY_H

#include "kernels/core.h"
#include "kernels/group.h"

/* One day of one customer's rows (rows i.. of `day`, which is sorted), read as above. */
typedef struct sgs_purchase_day {
    size_t end;           /* index after the day's last row */
    double purchases;     /* sum of the day's amounts >= 0 */
    double refunds;       /* sum of the day's amounts < 0 (<= 0) */
    int n_refund_rows;    /* rows with amount < 0 */
    int has_purchase_row; /* at least one amount >= 0 */
    int occasion;         /* a purchase occasion: not fully cancelled the same day */
} sgs_purchase_day_t;

/* Read the day starting at row i (< hi). Every reader of purchase days uses this, so that the
 * summary, the backtest and the purchase cycle count the same occasions. */
static inline sgs_purchase_day_t sgs_purchase_day_read(const int32_t *day, const double *amount,
                                                       size_t i, size_t hi)
{
    sgs_purchase_day_t d = {i, 0.0, 0.0, 0, 0, 0};
    int32_t today = day[i];
    for (; d.end < hi && day[d.end] == today; d.end++) {
        double a = amount[d.end];
        if (a < 0.0) {
            d.refunds += a;
            d.n_refund_rows++;
        } else {
            d.purchases += a;
            d.has_purchase_row = 1;
        }
    }
    /* "Fully cancelled" allows for rounding: lines of 0.1 and 0.2 cancelled by one row of -0.3
     * leave 5.6e-17, which is no purchase. */
    d.occasion =
        d.has_purchase_row && (d.refunds == 0.0 || d.purchases + d.refunds > 1e-9 * d.purchases);
    return d;
}

typedef struct sgs_summary {
    size_t n_customers;
    uint8_t *has_purchase;     /* 1 when the customer has at least one purchase occasion */
    int32_t *first_day;        /* first purchase day (UTC day number) */
    int32_t *last_day;         /* last purchase day */
    int32_t *n_purchase_days;  /* purchase occasions, >= 1 when has_purchase */
    int32_t *frequency;        /* n_purchase_days - 1 */
    int32_t *recency_days;     /* last_day - first_day */
    int32_t *age_days;         /* as_of_day - first_day (T) */
    int32_t *days_since_last;  /* as_of_day - last_day */
    double *total_spend;       /* net: purchases minus refunds */
    double *mean_spend;        /* total_spend / n_purchase_days */
    double *monetary;          /* mean net amount of repeat occasions; 0 when frequency = 0 */
    double *refund_total;      /* sum of |refund amounts|, >= 0 */
    int32_t *n_refunds;        /* refund rows */
    int32_t *n_cancelled_days; /* days with purchases fully cancelled that day */
    double *gap_mean_days;     /* mean inter-purchase gap; NaN when frequency = 0 */
    double *gap_sd_days;       /* population sd of gaps; NaN when frequency < 2 */
    uint8_t *main_channel;     /* most used purchase channel */
} sgs_summary_t;

/* Allocate every column for n customers. @return 0 or SGS_ENOMEM (nothing left). */
int sgs_summary_alloc(sgs_summary_t *s, size_t n_customers);
void sgs_summary_free(sgs_summary_t *s);

/* Allocate only the columns of a purchase history and its spend: has_purchase,
 * n_purchase_days, recency_days, age_days, total_spend, monetary (the others stay NULL and are
 * not written). 29 bytes per customer, for the backtest's calibration period.
 * @return 0 or SGS_ENOMEM (nothing left). */
int sgs_summary_alloc_history(sgs_summary_t *s, size_t n_customers);

/* Copy customer slot `from` to slot `to` in every column (compacting a full summary). */
void sgs_summary_copy_row(sgs_summary_t *s, size_t to, size_t from);

/* Summarize every customer of g as of `as_of_day` (>= every row's day).
 * @return 0; SGS_EINVAL when a row is after as_of_day (the reader excludes them); SGS_EDATA
 * when a customer's amounts, each finite, add up beyond DBL_MAX (its spend would be infinite):
 * the message names the customer of lowest index among them, whatever the thread count. */
int sgs_summarize(const sgs_exec_t *exec, const sgs_grouped_t *g, int32_t as_of_day,
                  sgs_summary_t *out, sgs_error_t *err);

/* The same as of end_day, reading only the rows on or before it (later rows are ignored, not
 * an error): the history a backtest's calibration period sees. Writes the columns of out that
 * are allocated. @return 0, SGS_EINVAL (slot count) or SGS_EDATA (a spend sum overflows, as
 * above). */
int sgs_summarize_until(const sgs_exec_t *exec, const sgs_grouped_t *g, int32_t end_day,
                        sgs_summary_t *out, sgs_error_t *err);

/* sgs_summarize_until for some customers only: slot j of out is customer which[j] of g
 * (out->n_customers == n_which; which[j] < g->n_customers, in any order). Reads only those
 * customers' rows (a backtest on a sample of a large base). Parallel over the slots; the result
 * does not depend on the thread count. @return 0 or SGS_EINVAL (slot count, a customer out of
 * range). */
int sgs_summarize_until_subset(const sgs_exec_t *exec, const sgs_grouped_t *g, int32_t end_day,
                               const size_t *which, size_t n_which, sgs_summary_t *out,
                               sgs_error_t *err);

/* Serial reference twins of sgs_summarize, sgs_summarize_until and sgs_summarize_until_subset:
 * one plain loop over the customers in index order, the same per-customer rule; the same
 * columns, bits and return codes (tests compare them on 1, 2 and 3 threads). */
int sgs_summarize_ref(const sgs_grouped_t *g, int32_t as_of_day, sgs_summary_t *out,
                      sgs_error_t *err);
int sgs_summarize_until_ref(const sgs_grouped_t *g, int32_t end_day, sgs_summary_t *out,
                            sgs_error_t *err);
int sgs_summarize_until_subset_ref(const sgs_grouped_t *g, int32_t end_day, const size_t *which,
                                   size_t n_which, sgs_summary_t *out, sgs_error_t *err);

#endif
