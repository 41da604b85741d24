/*
 * kernels/holdout.h — a purchase model's forecast of a holdout period against what the
 * customers did in it: the numbers of segscore evaluate (engine/evaluate.h defines the
 * cohort, the calibration history (x, t_x, T) and the holdout repeat purchases x*).
 *
 *   errors        per customer, the prediction E_i = E[Y(t*) | x_i, t_x_i, T_i] against x*_i:
 *                 Σ E_i, MAE = mean |E_i - x*_i|, RMSE = sqrt(mean (E_i - x*_i)²), and the
 *                 Pearson correlation of E and x* (two passes: the means, then the centred
 *                 sums; 0 when either has no variance); and per calibration-frequency bin
 *                 the mean E_i (Fader, Hardie & Lee 2005, Marketing Science 24(2), figure 5)
 *   repeat days   the cohort's repeat purchase occasions (every purchase occasion after the
 *                 customer's first, kernels/summary.h) counted per day: cumulated, the
 *                 actual tracking curve (FHL 2005, figure 4)
 *   tracking      the expected cumulative repeat purchases at day d:
 *                 Σ_b births[b] E[X((d - d0 - b) / unit)] over birth days b = 0 .. d - d0,
 *                 births[b] the cohort's customers whose first purchase is day d0 + b and
 *                 E[X(t)] the model's expectation for a new customer (kernels/clv.h)
 *   distribution  Σ_i P(X(T_i) = x) per calibration-frequency bin (kernels/evaluate_probs.h),
 *                 the last bin taking P(X(T_i) >= n_bins - 1)
 *   AIC, BIC      AIC = 2k - 2 LL, BIC = k ln n - 2 LL (Akaike 1974; Schwarz 1978)
 *
 * Calibration frequencies x >= 0 fall in bins 0, 1, ..., n_bins - 2 and the last bin
 * n_bins - 1 for everything above (sgs_holdout_bin).
 *
 * Determinism: sums over customers run over fixed blocks of SGS_BLOCK_ROWS customers, each
 * block summed in customer order, the blocks combined in block order; counts are integers.
 * Every result is the same bits for any thread count. Each parallel kernel has a serial
 * reference twin (suffix _ref) that computes the same sums in the same order, plainly: tests
 * compare the two bit for bit. No I/O, no globals.
 */
#ifndef SGS_HOLDOUT_H
#define SGS_HOLDOUT_H

#include "kernels/clv.h"
#include "kernels/core.h"
#include "kernels/group.h"
#include "kernels/histories.h"

#include <stdint.h>

/* Most calibration-frequency bins a kernel of this file takes. */
#define SGS_HOLDOUT_MAX_BINS 32

/* Bin of a calibration frequency x >= 0 (integer-valued) among n_bins >= 1: x itself below
 * n_bins - 1, else n_bins - 1. */
static inline int sgs_holdout_bin(double x, int n_bins)
{
    return x < (double)(n_bins - 1) ? (int)x : n_bins - 1;
}

/* ---- Per-customer errors ------------------------------------------------------------- */

typedef struct sgs_holdout_errors {
    double predicted_total; /* Σ E_i, purchases */
    double mae;             /* mean |E_i - x*_i|, purchases per customer */
    double rmse;            /* sqrt(mean (E_i - x*_i)²), purchases per customer */
    double correlation;     /* Pearson correlation of E and x*, in [-1, 1]; 0 without variance */
} sgs_holdout_errors_t;

/* The prediction errors of n >= 1 customers (definitions above).
 *   history_of[i]: customer i's history (kernels/histories.h), history_expected[h]: E[Y(t*)]
 *   of history h, finite; actual[i]: x*_i >= 0; x[i]: calibration repeat purchases, the bin;
 *   n_bins: 1 .. SGS_HOLDOUT_MAX_BINS.
 * Writes *out and by_bin_predicted[0 .. n_bins-1] = the mean E_i of the customers in each
 * bin (0 for an empty bin). Parallel over the blocks with exec's threads; allocates one
 * record per block.
 * @return 0; SGS_EINVAL (n == 0, n_bins out of range, a NULL array); SGS_ENOMEM. */
int sgs_holdout_errors(size_t n, const uint32_t *history_of, const double *history_expected,
                       const int32_t *actual, const double *x, int n_bins, const sgs_exec_t *exec,
                       double *by_bin_predicted, sgs_holdout_errors_t *out, sgs_error_t *err);

/* Serial reference twin of sgs_holdout_errors: the same bits. */
int sgs_holdout_errors_ref(size_t n, const uint32_t *history_of, const double *history_expected,
                           const int32_t *actual, const double *x, int n_bins,
                           double *by_bin_predicted, sgs_holdout_errors_t *out, sgs_error_t *err);

/* ---- The cohort's repeat purchase days ----------------------------------------------- */

/* counts[d - d0] = the repeat purchase occasions on day d of the customers c of g with
 * in_cohort[c] != 0, for d in d0 .. d0 + n_days - 1 (counts has n_days entries, overwritten);
 * a repeat occasion is a purchase occasion (sgs_purchase_day_read) on a day after
 * first_day[c], the customer's first purchase day. Every repeat occasion of the cohort must
 * fall in the range. Integer counts (per-thread histograms added), exact; allocates one
 * histogram of n_days per thread.
 * @return 0; SGS_EINVAL (NULL array, n_days == 0, an occasion outside the days: err names the
 * customer); SGS_ENOMEM. */
int sgs_holdout_repeat_days(const sgs_grouped_t *g, const uint8_t *in_cohort,
                            const int32_t *first_day, int32_t d0, size_t n_days,
                            const sgs_exec_t *exec, int64_t *counts, sgs_error_t *err);

/* Serial reference twin of sgs_holdout_repeat_days. */
int sgs_holdout_repeat_days_ref(const sgs_grouped_t *g, const uint8_t *in_cohort,
                                const int32_t *first_day, int32_t d0, size_t n_days,
                                int64_t *counts, sgs_error_t *err);

/* ---- Expected tracking curve --------------------------------------------------------- */

/* expected[k] = Σ_{b = 0 .. min(n_births, L_k + 1) - 1, births[b] != 0} births[b] E[X((L_k - b)
 * / days_per_unit)] with L_k = point_day[k] - d0 >= 0: the expected cumulative repeat
 * purchases of the cohort by point_day[k] (definition above). E[X(t)] is
 * sgs_purchase_expected_new of model at params, evaluated once per whole-day lag
 * 0 .. max L_k (the only ages that occur), in parallel; then each point's sum is serial, in
 * birth-day order, parallel over points. Allocates max L_k + 1 doubles.
 * @return 0; SGS_EINVAL (NULL array, days_per_unit <= 0, a point before d0); SGS_ENOMEM. */
int sgs_holdout_tracking_expected(sgs_purchase_model_t model, const double *params,
                                  double days_per_unit, const int64_t *births, size_t n_births,
                                  int32_t d0, const int32_t *point_day, size_t n_points,
                                  const sgs_exec_t *exec, double *expected, sgs_error_t *err);

/* Serial reference twin of sgs_holdout_tracking_expected. */
int sgs_holdout_tracking_expected_ref(sgs_purchase_model_t model, const double *params,
                                      double days_per_unit, const int64_t *births, size_t n_births,
                                      int32_t d0, const int32_t *point_day, size_t n_points,
                                      double *expected, sgs_error_t *err);

/* ---- Expected distribution of calibration repeat purchases ----------------------------- */

/* expected[b] = Σ_i P(X(T_i) = b) for b < n_bins - 1 and Σ_i P(X(T_i) >= n_bins - 1) for the
 * last bin, over the customers of the histories h (each history counted h->count times):
 * P(X(T) = .) once per distinct T (sgs_purchase_count_distribution), in parallel; then
 * expected[b] = Σ_j weight_j P_j(b) over the distinct T in ascending order, weight_j the
 * customers with that T (summed in history order: integer-valued counts, exact).
 * n_bins: 2 .. SGS_HOLDOUT_MAX_BINS. Allocates (n_bins + 1) doubles per distinct T.
 * @return 0; SGS_EINVAL (n_bins out of range; a probability not finite at params: err names
 * the model, expected is all 0); SGS_ENOMEM. */
int sgs_holdout_count_distribution(sgs_purchase_model_t model, const double *params,
                                   const sgs_histories_t *h, int n_bins, const sgs_exec_t *exec,
                                   double *expected, sgs_error_t *err);

/* Serial reference twin of sgs_holdout_count_distribution. */
int sgs_holdout_count_distribution_ref(sgs_purchase_model_t model, const double *params,
                                       const sgs_histories_t *h, int n_bins, double *expected,
                                       sgs_error_t *err);

/* ---- The backtest's checks --------------------------------------------------------------- */

/* The purchase forecast of a run's backtest against its holdout, serially in customer order:
 * *mae = mean |E_i - x*_i| and *total_error = (Σ E_i - Σ x*_i) / Σ x*_i (NaN when Σ x*_i is
 * 0), with E_i = history_expected[history_of[i]] and x*_i = actual[i], for n >= 1 customers. */
void sgs_holdout_forecast_error(size_t n, const uint32_t *history_of,
                                const double *history_expected, const int32_t *actual, double *mae,
                                double *total_error);

/* The spend forecast of Gamma-Gamma (params p, q, gamma; kernels/gammagamma.h) against the
 * holdout, serially in customer order, over the customers with occasions[i] > 0 and
 * spend[i] > 0 (net spend in the holdout): with e_i = sgs_gg_expected_spend(params, x_i, m_i)
 * (x_i, m_i the calibration frequency and mean spend), *n_used of them,
 * *mae = mean |e_i - spend_i / occasions_i| and
 * *total_error = (Σ e_i occasions_i - Σ spend_i) / Σ spend_i. *mae and *total_error are left
 * as they are when *n_used is 0. */
void sgs_holdout_spend_error(const double *params, size_t n, const double *x, const double *m,
                             const int32_t *occasions, const double *spend, size_t *n_used,
                             double *mae, double *total_error);

/* ---- The cohort's actual outcomes (kernels/holdout_actual.c) --------------------------- */

/* By calibration-frequency bin (sgs_holdout_bin of x[i], n_bins 1 .. SGS_HOLDOUT_MAX_BINS) of
 * n customers: count[b] the customers, mean_actual[b] their mean actual[i] (Σ actual / count,
 * the sum exact in integers; empty_mean for an empty bin: 0 for segscore evaluate, NaN for the
 * backtest). When not NULL, *x_total = Σ x[i] (x integer-valued) and *actual_total =
 * Σ actual[i]. Serial. @return 0 or SGS_EINVAL (n_bins out of range, a NULL array). */
int sgs_holdout_actual_by_bin(size_t n, const double *x, const int32_t *actual, int n_bins,
                              double empty_mean, int64_t *count, double *mean_actual,
                              int64_t *x_total, int64_t *actual_total, sgs_error_t *err);

/* Per distinct history h < n_histories: weight[h] = the customers i < n with history_of[i] = h,
 * bought[h] = those of them with occasions[i] > 0 (both overwritten; integer-valued doubles,
 * exact); *n_bought = Σ_h bought[h]. Serial. */
void sgs_holdout_history_outcomes(size_t n, const uint32_t *history_of, const int32_t *occasions,
                                  size_t n_histories, double *weight, double *bought,
                                  size_t *n_bought);

/* births[b] = the customers i < n whose first purchase day first_day[i] is d0 + b, for
 * b < n_births (overwritten). @return 0 or SGS_EINVAL (a day outside d0 .. d0 + n_births - 1,
 * named). */
int sgs_holdout_births(size_t n, const int32_t *first_day, int32_t d0, size_t n_births,
                       int64_t *births, sgs_error_t *err);

/* cumulative[k] = Σ per_day[d] for d = from .. point_day[k] - d0 (the days of per_day counted
 * from d0), for ascending point_day[0 .. n_points-1] >= d0 + from - 1: the actual tracking
 * curve from the repeat purchase days of sgs_holdout_repeat_days. Integer sums, exact. */
void sgs_holdout_cumulative(const int64_t *per_day, size_t from, int32_t d0,
                            const int32_t *point_day, size_t n_points, double *cumulative);

/* The smallest of init and day[0 .. n-1]. */
int32_t sgs_day_min(size_t n, const int32_t *day, int32_t init);

/* ---- Information criteria ------------------------------------------------------------ */

/* *aic = 2k - 2 LL and *bic = k ln(n) - 2 LL for a fit of k parameters with log-likelihood
 * LL on n >= 1 observations. Pure. */
void sgs_information_criteria(double log_likelihood, int n_params, size_t n, double *aic,
                              double *bic);

#endif /* SGS_HOLDOUT_H */
