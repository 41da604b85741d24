/*
 * kernels/holdout.c — a model's holdout forecast against what the customers did (see
 * holdout.h). Each parallel kernel is followed by its serial reference twin.
 */
#include "kernels/holdout.h"

#include "kernels/evaluate_probs.h"
#include "kernels/gammagamma.h"
#include "kernels/summary.h"

#include <math.h>
#include <omp.h>

/* ---- Per-customer errors ------------------------------------------------------------- */

/* Partial sums of one block of customers. */
typedef struct block_sums {
    double pred_bin[SGS_HOLDOUT_MAX_BINS]; /* Σ E_i per bin */
    int64_t n_bin[SGS_HOLDOUT_MAX_BINS];   /* customers per bin */
    int64_t actual;                        /* Σ x*_i (exact) */
    double pred, abs_err, sq_err;          /* first pass */
    double cross, pred_sq, act_sq;         /* centred, second pass */
} block_sums_t;

static int check_errors_args(size_t n, const uint32_t *history_of, const double *history_expected,
                             const int32_t *actual, const double *x, int n_bins,
                             const double *by_bin_predicted, const sgs_holdout_errors_t *out,
                             sgs_error_t *err)
{
    if (n == 0 || !history_of || !history_expected || !actual || !x || !by_bin_predicted || !out)
        return sgs_error_set(err, SGS_EINVAL, "holdout errors: no customers or a NULL array");
    if (n_bins < 1 || n_bins > SGS_HOLDOUT_MAX_BINS)
        return sgs_error_set(err, SGS_EINVAL, "holdout errors: %d bins (1 to %d)", n_bins,
                             SGS_HOLDOUT_MAX_BINS);
    return SGS_OK;
}

static void first_pass(const uint32_t *history_of, const double *e, const int32_t *actual,
                       const double *x, int n_bins, size_t lo, size_t hi, block_sums_t *b)
{
    for (size_t i = lo; i < hi; i++) {
        double p = e[history_of[i]], d = p - actual[i];
        int bin = sgs_holdout_bin(x[i], n_bins);
        b->pred_bin[bin] += p;
        b->n_bin[bin]++;
        b->actual += actual[i];
        b->pred += p;
        b->abs_err += fabs(d);
        b->sq_err += d * d;
    }
}

static void second_pass(const uint32_t *history_of, const double *e, const int32_t *actual,
                        double mean_p, double mean_a, size_t lo, size_t hi, block_sums_t *b)
{
    for (size_t i = lo; i < hi; i++) {
        double dp = e[history_of[i]] - mean_p, da = actual[i] - mean_a;
        b->cross += dp * da;
        b->pred_sq += dp * dp;
        b->act_sq += da * da;
    }
}

/* Block k's rows [*lo, *hi) of n. */
static void block_rows(size_t k, size_t n, size_t *lo, size_t *hi)
{
    *lo = k * SGS_BLOCK_ROWS;
    *hi = *lo + SGS_BLOCK_ROWS < n ? *lo + SGS_BLOCK_ROWS : n;
}

/* The first pass's totals, the blocks combined in block order. */
static block_sums_t combine_first(const block_sums_t *blk, size_t nb, int n_bins)
{
    block_sums_t tot = {0};
    for (size_t k = 0; k < nb; k++) {
        for (int j = 0; j < n_bins; j++) {
            tot.pred_bin[j] += blk[k].pred_bin[j];
            tot.n_bin[j] += blk[k].n_bin[j];
        }
        tot.actual += blk[k].actual;
        tot.pred += blk[k].pred;
        tot.abs_err += blk[k].abs_err;
        tot.sq_err += blk[k].sq_err;
    }
    return tot;
}

static void combine_second(const block_sums_t *blk, size_t nb, block_sums_t *tot)
{
    for (size_t k = 0; k < nb; k++) {
        tot->cross += blk[k].cross;
        tot->pred_sq += blk[k].pred_sq;
        tot->act_sq += blk[k].act_sq;
    }
}

static void finish_errors(const block_sums_t *tot, size_t n, int n_bins, double *by_bin_predicted,
                          sgs_holdout_errors_t *out)
{
    for (int j = 0; j < n_bins; j++)
        by_bin_predicted[j] = tot->n_bin[j] > 0 ? tot->pred_bin[j] / (double)tot->n_bin[j] : 0.0;
    out->predicted_total = tot->pred;
    out->mae = tot->abs_err / (double)n;
    out->rmse = sqrt(tot->sq_err / (double)n);
    out->correlation =
        tot->pred_sq > 0 && tot->act_sq > 0 ? tot->cross / sqrt(tot->pred_sq * tot->act_sq) : 0.0;
}

int sgs_holdout_errors(size_t n, const uint32_t *history_of, const double *history_expected,
                       const int32_t *actual, const double *x, int n_bins, const sgs_exec_t *exec,
                       double *by_bin_predicted, sgs_holdout_errors_t *out, sgs_error_t *err)
{
    int rc = check_errors_args(n, history_of, history_expected, actual, x, n_bins, by_bin_predicted,
                               out, err);
    if (rc != SGS_OK)
        return rc;
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    block_sums_t *blk = sgs_calloc_array(nb, sizeof *blk);
    if (!blk)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu blocks", nb);
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t k = 0; k < nb; k++) {
        size_t lo, hi;
        block_rows(k, n, &lo, &hi);
        first_pass(history_of, history_expected, actual, x, n_bins, lo, hi, &blk[k]);
    }
    block_sums_t tot = combine_first(blk, nb, n_bins);
    double mean_p = tot.pred / (double)n, mean_a = (double)tot.actual / (double)n;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t k = 0; k < nb; k++) {
        size_t lo, hi;
        block_rows(k, n, &lo, &hi);
        second_pass(history_of, history_expected, actual, mean_p, mean_a, lo, hi, &blk[k]);
    }
    combine_second(blk, nb, &tot);
    sgs_free(blk);
    finish_errors(&tot, n, n_bins, by_bin_predicted, out);
    return SGS_OK;
}

int sgs_holdout_errors_ref(size_t n, const uint32_t *history_of, const double *history_expected,
                           const int32_t *actual, const double *x, int n_bins,
                           double *by_bin_predicted, sgs_holdout_errors_t *out, sgs_error_t *err)
{
    int rc = check_errors_args(n, history_of, history_expected, actual, x, n_bins, by_bin_predicted,
                               out, err);
    if (rc != SGS_OK)
        return rc;
    /* The same order of additions, one block at a time, without a record per block. */
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    block_sums_t tot = {0};
    for (size_t k = 0; k < nb; k++) {
        size_t lo, hi;
        block_rows(k, n, &lo, &hi);
        block_sums_t b = {0};
        first_pass(history_of, history_expected, actual, x, n_bins, lo, hi, &b);
        for (int j = 0; j < n_bins; j++) {
            tot.pred_bin[j] += b.pred_bin[j];
            tot.n_bin[j] += b.n_bin[j];
        }
        tot.actual += b.actual;
        tot.pred += b.pred;
        tot.abs_err += b.abs_err;
        tot.sq_err += b.sq_err;
    }
    double mean_p = tot.pred / (double)n, mean_a = (double)tot.actual / (double)n;
    for (size_t k = 0; k < nb; k++) {
        size_t lo, hi;
        block_rows(k, n, &lo, &hi);
        block_sums_t b = {0};
        second_pass(history_of, history_expected, actual, mean_p, mean_a, lo, hi, &b);
        tot.cross += b.cross;
        tot.pred_sq += b.pred_sq;
        tot.act_sq += b.act_sq;
    }
    finish_errors(&tot, n, n_bins, by_bin_predicted, out);
    return SGS_OK;
}

/* ---- The cohort's repeat purchase days ----------------------------------------------- */

static int check_days_args(const sgs_grouped_t *g, const uint8_t *in_cohort,
                           const int32_t *first_day, size_t n_days, const int64_t *counts,
                           sgs_error_t *err)
{
    if (!g ||
        (g->n_customers > 0 &&
         (!g->row_offset || !g->day || !g->amount || !in_cohort || !first_day)) ||
        n_days == 0 || !counts)
        return sgs_error_set(err, SGS_EINVAL, "repeat purchase days: a NULL array or no days");
    return SGS_OK;
}

/* Add customer c's repeat occasions to h (NULL: only look); returns how many fall outside
 * the days. */
static size_t count_repeat_days(const sgs_grouped_t *g, size_t c, int32_t first, int32_t d0,
                                size_t n_days, int64_t *h)
{
    size_t outside = 0, hi = g->row_offset[c + 1];
    for (size_t k = g->row_offset[c]; k < hi;) {
        sgs_purchase_day_t pd = sgs_purchase_day_read(g->day, g->amount, k, hi);
        if (pd.occasion && g->day[k] > first) { /* repeat occasions */
            int64_t d = (int64_t)g->day[k] - d0;
            if (d < 0 || (uint64_t)d >= n_days)
                outside++;
            else if (h)
                h[d]++;
        }
        k = pd.end;
    }
    return outside;
}

/* The error for repeat occasions outside the days, naming the customer of lowest index. */
static int outside_days(const sgs_grouped_t *g, const uint8_t *in_cohort, const int32_t *first_day,
                        int32_t d0, size_t n_days, sgs_error_t *err)
{
    size_t c = 0;
    while (c + 1 < g->n_customers &&
           !(in_cohort[c] && count_repeat_days(g, c, first_day[c], d0, n_days, NULL) > 0))
        c++;
    return sgs_error_set(err, SGS_EINVAL,
                         "repeat purchase days: customer %lld has a repeat purchase outside the "
                         "%zu days from day %d",
                         (long long)(g->customer_id ? g->customer_id[c] : (int64_t)c), n_days,
                         (int)d0);
}

int sgs_holdout_repeat_days(const sgs_grouped_t *g, const uint8_t *in_cohort,
                            const int32_t *first_day, int32_t d0, size_t n_days,
                            const sgs_exec_t *exec, int64_t *counts, sgs_error_t *err)
{
    int rc = check_days_args(g, in_cohort, first_day, n_days, counts, err);
    if (rc != SGS_OK)
        return rc;
    int n_threads = sgs_exec_threads(exec);
    int64_t *per_thread =
        n_threads > 1 ? sgs_calloc_array((size_t)(n_threads - 1) * n_days, sizeof(int64_t)) : NULL;
    if (n_threads > 1 && !per_thread)
        return sgs_error_set(err, SGS_ENOMEM, "tracking: no memory for %zu days", n_days);
    for (size_t d = 0; d < n_days; d++)
        counts[d] = 0;
    size_t bad = 0;
#pragma omp parallel num_threads(n_threads) reduction(+ : bad)
    {
        int t = omp_get_thread_num();
        int64_t *h = t == 0 ? counts : per_thread + (size_t)(t - 1) * n_days;
#pragma omp for schedule(static)
        for (size_t c = 0; c < g->n_customers; c++)
            if (in_cohort[c])
                bad += count_repeat_days(g, c, first_day[c], d0, n_days, h);
    }
    for (int t = 1; t < n_threads; t++) /* integers: exact in any order */
        for (size_t d = 0; d < n_days; d++)
            counts[d] += per_thread[(size_t)(t - 1) * n_days + d];
    sgs_free(per_thread);
    return bad ? outside_days(g, in_cohort, first_day, d0, n_days, err) : SGS_OK;
}

int sgs_holdout_repeat_days_ref(const sgs_grouped_t *g, const uint8_t *in_cohort,
                                const int32_t *first_day, int32_t d0, size_t n_days,
                                int64_t *counts, sgs_error_t *err)
{
    int rc = check_days_args(g, in_cohort, first_day, n_days, counts, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t d = 0; d < n_days; d++)
        counts[d] = 0;
    size_t bad = 0;
    for (size_t c = 0; c < g->n_customers; c++)
        if (in_cohort[c])
            bad += count_repeat_days(g, c, first_day[c], d0, n_days, counts);
    return bad ? outside_days(g, in_cohort, first_day, d0, n_days, err) : SGS_OK;
}

/* ---- Expected tracking curve --------------------------------------------------------- */

/* The largest lag of the points, or SGS_EINVAL. */
static int tracking_lags(const int64_t *births, const int32_t *point_day, size_t n_points,
                         const double *expected, double days_per_unit, int32_t d0, size_t *n_lags,
                         sgs_error_t *err)
{
    if ((n_points > 0 && (!point_day || !expected)) || !births || !(days_per_unit > 0.0))
        return sgs_error_set(err, SGS_EINVAL, "tracking: a NULL array or a unit <= 0");
    size_t max_lag = 0;
    for (size_t k = 0; k < n_points; k++) {
        if (point_day[k] < d0)
            return sgs_error_set(err, SGS_EINVAL, "tracking: point %zu (day %d) is before day %d",
                                 k, (int)point_day[k], (int)d0);
        size_t lag = (size_t)((int64_t)point_day[k] - d0);
        if (lag > max_lag)
            max_lag = lag;
    }
    *n_lags = max_lag + 1;
    return SGS_OK;
}

/* The expected cumulative repeat purchases at lag `last`: a serial sum over birth days. */
static double tracking_point(const int64_t *births, size_t n_births, const double *by_lag,
                             size_t last)
{
    double sum = 0.0;
    for (size_t b = 0; b < n_births && b <= last; b++)
        if (births[b] != 0)
            sum += (double)births[b] * by_lag[last - b];
    return sum;
}

int sgs_holdout_tracking_expected(sgs_purchase_model_t model, const double *params,
                                  double days_per_unit, const int64_t *births, size_t n_births,
                                  int32_t d0, const int32_t *point_day, size_t n_points,
                                  const sgs_exec_t *exec, double *expected, sgs_error_t *err)
{
    size_t n_lags;
    int rc = tracking_lags(births, point_day, n_points, expected, days_per_unit, d0, &n_lags, err);
    if (rc != SGS_OK)
        return rc;
    double *by_lag = sgs_alloc_array(n_lags, sizeof *by_lag);
    if (!by_lag)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu tracking days", n_lags);
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 16)
    for (size_t lag = 0; lag < n_lags; lag++)
        by_lag[lag] = sgs_purchase_expected_new(model, params, (double)lag / days_per_unit);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t k = 0; k < n_points; k++)
        expected[k] =
            tracking_point(births, n_births, by_lag, (size_t)((int64_t)point_day[k] - d0));
    sgs_free(by_lag);
    return SGS_OK;
}

int sgs_holdout_tracking_expected_ref(sgs_purchase_model_t model, const double *params,
                                      double days_per_unit, const int64_t *births, size_t n_births,
                                      int32_t d0, const int32_t *point_day, size_t n_points,
                                      double *expected, sgs_error_t *err)
{
    size_t n_lags;
    int rc = tracking_lags(births, point_day, n_points, expected, days_per_unit, d0, &n_lags, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t k = 0; k < n_points; k++) {
        size_t last = (size_t)((int64_t)point_day[k] - d0);
        double sum = 0.0;
        for (size_t b = 0; b < n_births && b <= last; b++)
            if (births[b] != 0)
                sum += (double)births[b] *
                       sgs_purchase_expected_new(model, params, (double)(last - b) / days_per_unit);
        expected[k] = sum;
    }
    return SGS_OK;
}

/* ---- Expected distribution of calibration repeat purchases ----------------------------- */

static int check_distribution_args(const sgs_histories_t *h, int n_bins, const double *expected,
                                   sgs_error_t *err)
{
    if (!h || !expected || (h->n_unique > 0 && (!h->T_id || !h->count || !h->T_values)))
        return sgs_error_set(err, SGS_EINVAL, "distribution: a NULL array");
    if (n_bins < 2 || n_bins > SGS_HOLDOUT_MAX_BINS)
        return sgs_error_set(err, SGS_EINVAL, "distribution: %d bins (2 to %d)", n_bins,
                             SGS_HOLDOUT_MAX_BINS);
    return SGS_OK;
}

/* Customers per distinct T, in history order (integer-valued counts: exact). */
static void weights_by_T(const sgs_histories_t *h, double *weight)
{
    for (size_t j = 0; j < h->n_T_values; j++)
        weight[j] = 0.0;
    for (size_t u = 0; u < h->n_unique; u++)
        weight[h->T_id[u]] += h->count[u];
}

/* expected[b] = Σ_j weight[j] probs[j][b], in T order. */
static void weighted_sum(size_t nT, int n_bins, const double *weight, const double *probs,
                         double *expected)
{
    for (int b = 0; b < n_bins; b++)
        expected[b] = 0.0;
    for (size_t j = 0; j < nT; j++)
        for (int b = 0; b < n_bins; b++)
            expected[b] += weight[j] * probs[j * (size_t)n_bins + (size_t)b];
}

static int not_finite(sgs_purchase_model_t model, int n_bins, double *expected, sgs_error_t *err)
{
    for (int b = 0; b < n_bins; b++)
        expected[b] = 0.0;
    return sgs_error_set(err, SGS_EINVAL, "%s: P(X(T) = x) is not finite at the estimate",
                         sgs_purchase_model_name(model));
}

int sgs_holdout_count_distribution(sgs_purchase_model_t model, const double *params,
                                   const sgs_histories_t *h, int n_bins, const sgs_exec_t *exec,
                                   double *expected, sgs_error_t *err)
{
    int rc = check_distribution_args(h, n_bins, expected, err);
    if (rc != SGS_OK)
        return rc;
    size_t nT = h->n_T_values, nbins = (size_t)n_bins;
    double *weight = sgs_alloc_array(nT, sizeof *weight);
    double *probs = sgs_alloc_array(nT * nbins, sizeof *probs);
    if (!weight || !probs) {
        sgs_free(weight);
        sgs_free(probs);
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu ages", nT);
    }
    weights_by_T(h, weight);
    int failed = 0;
#pragma omp parallel for num_threads(sgs_exec_threads(exec)) schedule(dynamic, 16)                 \
    reduction(|                                                                                    \
              : failed)
    for (size_t j = 0; j < nT; j++) {
        double *p = probs + j * nbins;
        failed |= sgs_purchase_count_distribution(model, params, h->T_values[j], n_bins - 1, p,
                                                  p + nbins - 1) != SGS_OK;
    }
    if (!failed)
        weighted_sum(nT, n_bins, weight, probs, expected);
    sgs_free(weight);
    sgs_free(probs);
    return failed ? not_finite(model, n_bins, expected, err) : SGS_OK;
}

int sgs_holdout_count_distribution_ref(sgs_purchase_model_t model, const double *params,
                                       const sgs_histories_t *h, int n_bins, double *expected,
                                       sgs_error_t *err)
{
    int rc = check_distribution_args(h, n_bins, expected, err);
    if (rc != SGS_OK)
        return rc;
    size_t nT = h->n_T_values, nbins = (size_t)n_bins;
    double *weight = sgs_alloc_array(nT, sizeof *weight);
    double *probs = sgs_alloc_array(nT * nbins, sizeof *probs);
    if (!weight || !probs) {
        sgs_free(weight);
        sgs_free(probs);
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu ages", nT);
    }
    weights_by_T(h, weight);
    int failed = 0;
    for (size_t j = 0; j < nT && !failed; j++) {
        double *p = probs + j * nbins;
        failed = sgs_purchase_count_distribution(model, params, h->T_values[j], n_bins - 1, p,
                                                 p + nbins - 1) != SGS_OK;
    }
    if (!failed)
        weighted_sum(nT, n_bins, weight, probs, expected);
    sgs_free(weight);
    sgs_free(probs);
    return failed ? not_finite(model, n_bins, expected, err) : SGS_OK;
}

/* ---- The backtest's checks --------------------------------------------------------------- */

void sgs_holdout_forecast_error(size_t n, const uint32_t *history_of,
                                const double *history_expected, const int32_t *actual, double *mae,
                                double *total_error)
{
    double abs_sum = 0.0, predicted = 0.0, total = 0.0; /* serial: a fixed order */
    for (size_t i = 0; i < n; i++) {
        double e = history_expected[history_of[i]];
        abs_sum += fabs(e - actual[i]);
        predicted += e;
        total += actual[i];
    }
    *mae = abs_sum / (double)n;
    *total_error = total > 0 ? (predicted - total) / total : (double)NAN;
}

void sgs_holdout_spend_error(const double *params, size_t n, const double *x, const double *m,
                             const int32_t *occasions, const double *spend, size_t *n_used,
                             double *mae, double *total_error)
{
    double abs_sum = 0.0, predicted = 0.0, total = 0.0; /* serial: a fixed order */
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (occasions[i] <= 0 || !(spend[i] > 0.0))
            continue;
        double e = sgs_gg_expected_spend(params, x[i], m[i]);
        double per_occasion = spend[i] / occasions[i];
        abs_sum += fabs(e - per_occasion);
        predicted += e * occasions[i];
        total += spend[i];
        used++;
    }
    *n_used = used;
    if (used == 0)
        return;
    *mae = abs_sum / (double)used;
    *total_error = (predicted - total) / total;
}

/* ---- Information criteria ------------------------------------------------------------ */

void sgs_information_criteria(double log_likelihood, int n_params, size_t n, double *aic,
                              double *bic)
{
    double k = n_params;
    *aic = 2.0 * k - 2.0 * log_likelihood;
    *bic = k * log((double)n) - 2.0 * log_likelihood;
}
