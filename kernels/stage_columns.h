/*
 * kernels/stage_columns.h — the columns the stage and opportunity kernels read
 * (kernels/stages.h sgs_stage_input_t), built from the grouped transactions and the value
 * step's scores, over a customer index of n customers that maps onto the grouped customers
 * and onto the buyers (customers with a purchase, the rows the value step scored):
 *
 *   purchase index  each customer's purchase occasion days (kernels/summary.h
 *                   sgs_purchase_day_read: refunds net against the same day, a day fully
 *                   cancelled is not an occasion), CSR: count, then fill
 *   rate            the purchase rate while buying, per day:
 *                       rate = (r + x) / (alpha + t_x) / days_per_unit,
 *                   the posterior mean of lambda given x repeat purchases over the t_x time
 *                   units from the first purchase to the last, under the Gamma(r, alpha)
 *                   prior that BG/NBD, MBG/NBD and Pareto/NBD share (Fader, Hardie and Lee
 *                   2005, Marketing Science 24(2), eq. 2 and the conditional expectation of
 *                   lambda; params[0] = r, params[1] = alpha in time units). With T in place
 *                   of t_x the cycle 1 / rate would grow with the silence it is meant to
 *                   measure (docs/stages.md)
 *   p_buy           the model's P(buy within the horizon), calibrated when a calibration is
 *                   given (kernels/calibration.h sgs_p_buy)
 *
 * Every output of customer u is a pure function of u's rows and the parameters, so the
 * parallel kernels give the same bits for any thread count; each has a serial reference twin
 * (suffix _ref) that tests compare with bit for bit. No I/O, no globals.
 */
#ifndef SGS_STAGE_COLUMNS_H
#define SGS_STAGE_COLUMNS_H

#include "kernels/calibration.h"
#include "kernels/clv.h"
#include "kernels/core.h"
#include "kernels/group.h"
#include "kernels/stages.h"

#include <stdint.h>

/* ---- Purchase index ------------------------------------------------------------------- */

/* offset[u + 1] - offset[u] = the purchase occasions of customer u, offset[0] = 0 (a prefix
 * sum: offset[n] is the total), where customer u of the index is grouped customer
 * grouped_of[u] of g, or has no transaction row when grouped_of[u] < 0; grouped_of NULL:
 * customer u is grouped customer u (n <= g->n_customers). offset: [n + 1], caller-owned. Parallel
 * over customers (exec's threads, at most one per exec->grain).
 * @return 0; SGS_EINVAL (NULL array; grouped_of[u] >= g->n_customers: err names u; grouped_of
 * NULL and n > g->n_customers). */
int sgs_purchase_index_count(const sgs_grouped_t *g, const int64_t *grouped_of, size_t n,
                             const sgs_exec_t *exec, size_t *offset, sgs_error_t *err);

/* day[offset[u] ..] = customer u's purchase occasion days, ascending, with offset from
 * sgs_purchase_index_count (day: [offset[n]], caller-owned). @return 0 or SGS_EINVAL. */
int sgs_purchase_index_fill(const sgs_grouped_t *g, const int64_t *grouped_of, size_t n,
                            const size_t *offset, const sgs_exec_t *exec, int32_t *day,
                            sgs_error_t *err);

/* The index of the grouped customers themselves (sgs_purchase_index_count and _fill with
 * grouped_of NULL and n = g->n_customers: the same offset and days) in one pass over the rows
 * instead of two: each customer's occasion days are written over the start of its own rows in
 * g->day (a customer never has more occasions than rows) and counted, then gathered into a new
 * array. g->day is overwritten: the caller reads no row of g after this. offset:
 * [g->n_customers + 1], caller-owned; *day_out: [offset[n]] (at least 1), returned owned.
 * Parallel over customers; the result does not depend on the thread count.
 * @return 0; SGS_EINVAL (NULL array); SGS_ENOMEM (nothing returned, g->day overwritten). */
int sgs_purchase_index_take(sgs_grouped_t *g, const sgs_exec_t *exec, size_t *offset,
                            int32_t **day_out, sgs_error_t *err);

/* Serial reference twins. */
int sgs_purchase_index_count_ref(const sgs_grouped_t *g, const int64_t *grouped_of, size_t n,
                                 size_t *offset, sgs_error_t *err);
int sgs_purchase_index_fill_ref(const sgs_grouped_t *g, const int64_t *grouped_of, size_t n,
                                const size_t *offset, int32_t *day, sgs_error_t *err);

/* ---- Purchase rate while buying ------------------------------------------------------- */

/* (params[0] + x) / (params[1] + t_x) / days_per_unit: purchases per day (above); x and t_x in
 * the unit of params[1]. The one formula of the rate: every column below uses it. Pure. */
double sgs_rate_while_buying(const double *params, double x, double t_x, double days_per_unit);

/* ---- Model columns of the buyers at the as-of day ------------------------------------- */

/* What the value step computed for the buyers, rows 0 .. n_buyers-1 (borrowed). */
typedef struct sgs_buyer_scores {
    const double *p_buy;            /* [n_buyers] calibrated P(buy), or NULL: unknown for all */
    const double *prob_no_purchase; /* [n_buyers] the model's P(no purchase in the horizon) */
    const double *clv;              /* [n_buyers] currency */
    const int32_t *frequency;       /* [n_buyers] x, repeat purchase days */
    const int32_t *recency_days;    /* [n_buyers] last - first purchase day, days */
    const double *params;           /* the purchase model's parameters, alpha in time units */
    double days_per_unit;           /* 1 or 7 */
} sgs_buyer_scores_t;

/* For every customer u of the index with buyer_row[u] = b >= 0: p_buy[u] = s->p_buy[b] (NaN
 * when s->p_buy is NULL), p_buy_model[u] = 1 - s->prob_no_purchase[b], clv[u] = s->clv[b],
 * rate_per_day[u] = sgs_rate_while_buying(params, frequency[b], recency_days[b] / unit, unit);
 * NaN in all four when buyer_row[u] < 0. Outputs [n], caller-owned. Parallel over customers.
 * @return 0 or SGS_EINVAL (NULL array). */
int sgs_stage_buyer_columns(size_t n, const int64_t *buyer_row, const sgs_buyer_scores_t *s,
                            const sgs_exec_t *exec, double *p_buy, double *p_buy_model, double *clv,
                            double *rate_per_day, sgs_error_t *err);

/* Serial reference twin. */
int sgs_stage_buyer_columns_ref(size_t n, const int64_t *buyer_row, const sgs_buyer_scores_t *s,
                                double *p_buy, double *p_buy_model, double *clv,
                                double *rate_per_day, sgs_error_t *err);

/* ---- Model columns at another day ------------------------------------------------------- */

/* A fitted purchase model, as the columns at an earlier day need it (borrowed). */
typedef struct sgs_stage_model {
    sgs_purchase_model_t model;
    const double *params;              /* its parameters, alpha (and beta) in time units */
    double days_per_unit;              /* 1 or 7 */
    double horizon;                    /* P(buy) within this many time units */
    const sgs_isotonic_t *calibration; /* NULL: the model's own P(buy) */
} sgs_stage_model_t;

/* The model columns of every customer u of in at `day`, from u's purchase days on or before it
 * (sgs_purchase_summary): with n_days of them, x = n_days - 1, t_x = (last - first) / unit and
 * T = (day - first) / unit,
 *   rate_per_day[u] = sgs_rate_while_buying(params, x, t_x, unit),
 *   p_buy[u] = sgs_p_buy(calibration, P(alive | x, t_x, T), P(no purchase in the horizon |
 *              x, t_x, T)) (kernels/clv.h; P(alive) only computed with a calibration),
 * both NaN without a purchase on or before day. p_buy may be NULL (not computed); rate_per_day
 * is required. Parallel over customers (dynamic blocks of 4096).
 * @return 0 or SGS_EINVAL (NULL array or parameters). */
int sgs_stage_model_at(const sgs_stage_input_t *in, int32_t day, const sgs_stage_model_t *m,
                       const sgs_exec_t *exec, double *p_buy, double *rate_per_day,
                       sgs_error_t *err);

/* Serial reference twin. */
int sgs_stage_model_at_ref(const sgs_stage_input_t *in, int32_t day, const sgs_stage_model_t *m,
                           double *p_buy, double *rate_per_day, sgs_error_t *err);

/* ---- Gathering buyer columns ------------------------------------------------------------ */

/* dst[u] = src[row[u]] for row[u] >= 0, NaN otherwise; dst [n], src indexed by row. Parallel.
 * @return 0 or SGS_EINVAL (NULL array). */
int sgs_gather_rows(size_t n, const int64_t *row, const double *src, const sgs_exec_t *exec,
                    double *dst, sgs_error_t *err);

/* ---- Stages against what customers did next ------------------------------------------- */

/* The backtest of the stages: for every customer u with a finite p_buy[u] (those the backtest
 * scored), customers[stage[u]] += 1, and bought[stage[u]] += 1 when u's first purchase day
 * after `end` is on or before `until`. Both arrays are overwritten. Integer counts, parallel,
 * exact. @return 0; SGS_EDATA for a stage code >= SGS_STAGE_COUNT (the first such customer
 * named; the arrays untouched); SGS_EINVAL (NULL). */
int sgs_stage_came_back(const sgs_stage_input_t *in, const uint8_t *stage, const double *p_buy,
                        int32_t end, int32_t until, const sgs_exec_t *exec,
                        int64_t customers[SGS_STAGE_COUNT], int64_t bought[SGS_STAGE_COUNT],
                        sgs_error_t *err);

#endif /* SGS_STAGE_COLUMNS_H */
