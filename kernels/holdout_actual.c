/*
 * kernels/holdout_actual.c — what a holdout cohort did (kernels/holdout.h, "The cohort's
 * actual outcomes"): counts by calibration-frequency bin, per distinct history and per birth
 * day, and the cumulative repeat purchases at the tracking points. Serial plain loops: every
 * sum is of integers (exact, in any order), the means divide exact sums.
 */
#include "kernels/holdout.h"

#include <math.h>
#include <string.h>

int sgs_holdout_actual_by_bin(size_t n, const double *x, const int32_t *actual, int n_bins,
                              double empty_mean, int64_t *count, double *mean_actual,
                              int64_t *x_total, int64_t *actual_total, sgs_error_t *err)
{
    if (n_bins < 1 || n_bins > SGS_HOLDOUT_MAX_BINS)
        return sgs_error_set(err, SGS_EINVAL, "holdout: %d bins (must be 1..%d)", n_bins,
                             SGS_HOLDOUT_MAX_BINS);
    if (!count || !mean_actual || (n > 0 && (!x || !actual)))
        return sgs_error_set(err, SGS_EINVAL, "holdout: a NULL array");
    int64_t sum[SGS_HOLDOUT_MAX_BINS] = {0}, xs = 0, as = 0;
    for (int b = 0; b < n_bins; b++)
        count[b] = 0;
    for (size_t i = 0; i < n; i++) {
        int b = sgs_holdout_bin(x[i], n_bins);
        count[b]++;
        sum[b] += actual[i];
        xs += (int64_t)x[i];
        as += actual[i];
    }
    for (int b = 0; b < n_bins; b++)
        mean_actual[b] = count[b] > 0 ? (double)sum[b] / (double)count[b] : empty_mean;
    if (x_total)
        *x_total = xs;
    if (actual_total)
        *actual_total = as;
    return SGS_OK;
}

void sgs_holdout_history_outcomes(size_t n, const uint32_t *history_of, const int32_t *occasions,
                                  size_t n_histories, double *weight, double *bought,
                                  size_t *n_bought)
{
    memset(weight, 0, n_histories * sizeof *weight);
    memset(bought, 0, n_histories * sizeof *bought);
    size_t again = 0;
    for (size_t i = 0; i < n; i++) {
        weight[history_of[i]] += 1.0;
        bought[history_of[i]] += occasions[i] > 0;
        again += occasions[i] > 0;
    }
    *n_bought = again;
}

int sgs_holdout_births(size_t n, const int32_t *first_day, int32_t d0, size_t n_births,
                       int64_t *births, sgs_error_t *err)
{
    memset(births, 0, n_births * sizeof *births);
    for (size_t i = 0; i < n; i++) {
        int64_t b = (int64_t)first_day[i] - d0;
        if (b < 0 || (uint64_t)b >= n_births)
            return sgs_error_set(err, SGS_EINVAL,
                                 "holdout: customer %zu's first purchase day %d is outside the %zu "
                                 "birth days from %d",
                                 i, (int)first_day[i], n_births, (int)d0);
        births[b]++;
    }
    return SGS_OK;
}

void sgs_holdout_cumulative(const int64_t *per_day, size_t from, int32_t d0,
                            const int32_t *point_day, size_t n_points, double *cumulative)
{
    int64_t total = 0; /* integers: exact */
    size_t d = from;
    for (size_t k = 0; k < n_points; k++) {
        for (; d <= (size_t)(point_day[k] - d0); d++)
            total += per_day[d];
        cumulative[k] = (double)total;
    }
}

int32_t sgs_day_min(size_t n, const int32_t *day, int32_t init)
{
    int32_t m = init;
    for (size_t i = 0; i < n; i++)
        m = day[i] < m ? day[i] : m;
    return m;
}
