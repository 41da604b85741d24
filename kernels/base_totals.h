/*
 * kernels/base_totals.h — the per-customer inputs and the whole-base totals of a run that sit
 * between the summary (kernels/summary.h) and the models: spend totals, the sign counts of the
 * transaction amounts, the three RFM measures, the value models' inputs, totals of a score
 * column and per-category counts and sums.
 *
 * Determinism: sums of doubles over customers are exact sums, rounded once
 * (kernels/exact_sum.h): the same bits in any order and from any split of the customers
 * between threads or processes; the parallel kernels compute each customer's values from its own
 * row or count integers, so they give the same bits for any thread count. Each parallel kernel has
 * a serial reference twin (suffix _ref) that tests compare with bit for bit. No I/O, no globals.
 */
#ifndef SGS_BASE_TOTALS_H
#define SGS_BASE_TOTALS_H

#include "kernels/core.h"
#include "kernels/exact_sum.h"
#include "kernels/summary.h"

#include <stdint.h>

/* ---- Spend totals --------------------------------------------------------------------- */

typedef struct sgs_spend_totals {
    double revenue;          /* Σ total_spend (net of refunds), currency, exactly rounded */
    double magnitude;        /* Σ |total_spend|: bounds every partial sum of spend, in any
                                order (finite when it is) */
    size_t n_cancelled_days; /* Σ n_cancelled_days */
    size_t n_nonpositive;    /* customers with total_spend <= 0 */
} sgs_spend_totals_t;

/* Totals over customers 0..n-1 of s (its total_spend and n_cancelled_days columns). Serial. */
void sgs_spend_totals(const sgs_summary_t *s, size_t n, sgs_spend_totals_t *out);

/* The same totals before rounding: *revenue and *magnitude the exact sums (initialized here),
 * which sums over other customers merge into (kernels/exact_sum.h; the totals of customers
 * spread over processes); out's revenue and magnitude are left unset. Parallel (exact: the
 * same sums whatever the thread count). */
void sgs_spend_sums(const sgs_summary_t *s, size_t n, const sgs_exec_t *exec,
                    sgs_exact_sum_t *revenue, sgs_exact_sum_t *magnitude, sgs_spend_totals_t *out);

/* *n_negative = rows with amount < 0 (refunds), *n_zero = rows with amount == 0, over n rows.
 * Integer counts, parallel (at most one thread per exec->grain rows). */
void sgs_amount_signs(size_t n, const double *amount, const sgs_exec_t *exec, size_t *n_negative,
                      size_t *n_zero);

/* Serial reference twin. */
void sgs_amount_signs_ref(size_t n, const double *amount, size_t *n_negative, size_t *n_zero);

/* ---- RFM measures ------------------------------------------------------------------------ */

enum sgs_rfm_measure {
    SGS_RFM_RECENCY = 0,        /* days since the last purchase (fewer is better) */
    SGS_RFM_FREQUENCY = 1,      /* purchase days */
    SGS_RFM_MONETARY_TOTAL = 2, /* money key of total_spend */
    SGS_RFM_MONETARY_MEAN = 3   /* money key of mean_spend (spend per purchase day) */
};

/* round(amount * 1e6): money ranked in millionths, so that amounts that differ only by the
 * rounding noise of adding the same purchases in another order tie, whoever computed them. */
double sgs_money_key(double amount);

/* values[c] = the measure of customer c of s (c < n): the input of sgs_rfm_score (kernels/rfm.h).
 * Parallel. @return 0 or SGS_EINVAL (unknown measure, NULL array). */
int sgs_rfm_measure_values(const sgs_summary_t *s, size_t n, int measure, const sgs_exec_t *exec,
                           double *values, sgs_error_t *err);

/* Serial reference twin. */
int sgs_rfm_measure_values_ref(const sgs_summary_t *s, size_t n, int measure, double *values,
                               sgs_error_t *err);

/* ---- Value model inputs ------------------------------------------------------------------ */

/* For customers c < n of s: x[c] = frequency, t_x[c] = recency_days / days_per_unit,
 * T[c] = age_days / days_per_unit (the purchase models' history, kernels/clv.h), and
 * spend[c] = monetary when total_spend > 0, else 0 (Gamma-Gamma's m: nothing to learn about
 * spend per purchase from a net spend <= 0). Parallel.
 * @return 0 or SGS_EINVAL (days_per_unit <= 0, NULL array). */
int sgs_value_inputs(const sgs_summary_t *s, size_t n, double days_per_unit, const sgs_exec_t *exec,
                     double *x, double *t_x, double *T, double *spend, sgs_error_t *err);

/* Serial reference twin. */
int sgs_value_inputs_ref(const sgs_summary_t *s, size_t n, double days_per_unit, double *x,
                         double *t_x, double *T, double *spend, sgs_error_t *err);

/* expected_spend[c] = clv[c] = 0 for the customers c < n whose total_spend is not > 0: a
 * customer whose purchases net to nothing is worth nothing. Serial (a pass over n). */
void sgs_value_zero_without_spend(size_t n, const double *total_spend, double *expected_spend,
                                  double *clv);

/* *sum = Σ v[i] and *sum_abs = Σ |v[i]| over i < n, exactly rounded. Serial. */
void sgs_column_total(size_t n, const double *v, double *sum, double *sum_abs);

/* The same sums before rounding, into *sum and *sum_abs (initialized here). Parallel (exact:
 * the same sums whatever the thread count). */
void sgs_column_sums(size_t n, const double *v, const sgs_exec_t *exec, sgs_exact_sum_t *sum,
                     sgs_exact_sum_t *sum_abs);

/* The index of the first v[i], i < n, that is not a finite number, or n when every one is. */
size_t sgs_first_not_finite(size_t n, const double *v);

/* The checks of a customer's value scores before they are handed on: P(alive) in
 * [0, 1 + 1e-12], expected purchases finite and >= 0, P(no purchase) in [-1e-12, 1 + 1e-12]
 * (the rounding of probabilities computed as 1 - something), expected spend finite and >= 0,
 * CLV finite, p_buy in [0, 1]; NaN fails each. Over customers 0..n-1 of the six columns:
 * returns the customers failing a check; for the first of them *first gets its index, *what
 * the name of its first failed score ("P(alive)", "expected purchases", "P(no purchase)",
 * "expected spend", "CLV", "p_buy") and *value that score (not written when none fails).
 * Serial. */
size_t sgs_value_scores_check(size_t n, const double *p_alive, const double *expected_purchases,
                              const double *prob_no_purchase, const double *expected_spend,
                              const double *clv, const double *p_buy, size_t *first,
                              const char **what, double *value);

/* ---- Per category --------------------------------------------------------------------- */

/* count[j] = the customers c < n with category[c] == j, and sum[j] = Σ of their value[c],
 * exactly rounded (sum may be NULL, value then unused), for j < n_categories (overwritten).
 * Serial. @return 0, SGS_EINVAL (a category >= n_categories, NULL array) or SGS_ENOMEM. */
int sgs_category_totals(size_t n, const uint8_t *category, size_t n_categories, const double *value,
                        size_t *count, double *sum, sgs_error_t *err);

/* sgs_category_totals with the sums before rounding: acc[j] (n_categories accumulators,
 * initialized here) the exact sum of category j's values, which sums over other customers
 * merge into. @return 0 or SGS_EINVAL as sgs_category_totals. */
int sgs_category_sums(size_t n, const uint8_t *category, size_t n_categories, const double *value,
                      size_t *count, sgs_exact_sum_t *acc, sgs_error_t *err);

#endif /* SGS_BASE_TOTALS_H */
