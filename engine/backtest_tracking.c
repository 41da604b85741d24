/*
 * engine/backtest_tracking.c — the backtest's tracking curve: its counts and the curve from
 * them (engine/backtest_tracking.h).
 */
#include "engine/backtest_tracking.h"

#include "kernels/holdout.h"

void sgs_tracking_days_init(int32_t d0, int32_t cal_end, int32_t as_of, sgs_tracking_days_t *t)
{
    int32_t hold = as_of - cal_end;
    size_t n_points = ((size_t)hold + 6) / 7;
    if (n_points > SGS_BACKTEST_TRACK_MAX)
        n_points = SGS_BACKTEST_TRACK_MAX;
    int32_t step = (int32_t)(((size_t)hold + n_points - 1) / n_points);
    t->d0 = d0;
    t->cal_end = cal_end;
    t->as_of = as_of;
    t->n_days = (size_t)(as_of - d0) + 1;
    t->n_births = (size_t)(cal_end - d0) + 1;
    t->n_points = n_points;
    t->point_day[0] = cal_end;
    for (size_t k = 1; k <= n_points; k++) {
        int32_t day = cal_end + step * (int32_t)k;
        t->point_day[k] = day < as_of ? day : as_of;
    }
}

int sgs_tracking_counts(const sgs_tracking_cohort_t *co, const sgs_tracking_days_t *t,
                        const sgs_exec_t *exec, int64_t *per_day, int64_t *births, sgs_error_t *err)
{
    const sgs_grouped_t *g = co->g;
    /* the kernel's view of the cohort: a flag and the first purchase day per grouped customer */
    size_t m = g->n_customers ? g->n_customers : 1;
    uint8_t *in_cohort = sgs_calloc_array(m, sizeof *in_cohort);
    int32_t *first_day = sgs_calloc_array(m, sizeof *first_day);
    int rc = SGS_OK;
    if (!in_cohort || !first_day) {
        rc = sgs_error_set(err, SGS_ENOMEM, "backtest: no memory for the tracking of %zu days",
                           t->n_days);
        goto cleanup;
    }
    for (size_t i = 0; i < co->n; i++) {
        if (co->first_day[i] < t->d0 || co->first_day[i] > t->cal_end) {
            /* named by id, the same on any number of processes */
            rc = sgs_error_set(err, SGS_EINVAL,
                               "backtest: customer %lld's first purchase day %d is not in the "
                               "tracking's days %d .. %d",
                               (long long)g->customer_id[co->g_row[i]], (int)co->first_day[i],
                               (int)t->d0, (int)t->cal_end);
            goto cleanup;
        }
        in_cohort[co->g_row[i]] = 1;
        first_day[co->g_row[i]] = co->first_day[i];
    }
    rc = sgs_holdout_births(co->n, co->first_day, t->d0, t->n_births, births, err);
    if (rc == SGS_OK)
        rc = sgs_holdout_repeat_days(g, in_cohort, first_day, t->d0, t->n_days, exec, per_day, err);
cleanup:
    sgs_free(in_cohort);
    sgs_free(first_day);
    return rc;
}

int sgs_tracking_curve(const sgs_tracking_days_t *t, const int64_t *per_day, const int64_t *births,
                       double days_per_unit, int j, const sgs_exec_t *exec, sgs_backtest_t *bt,
                       sgs_error_t *err)
{
    double expected[SGS_BACKTEST_TRACK_MAX + 1];
    int rc = sgs_holdout_tracking_expected(bt->models[j].model, bt->models[j].params, days_per_unit,
                                           births, t->n_births, t->d0, t->point_day,
                                           t->n_points + 1, exec, expected, err);
    if (rc)
        return rc;
    /* the repeat purchase days after the calibration end, cumulated */
    sgs_holdout_cumulative(per_day, (size_t)(t->cal_end - t->d0) + 1, t->d0, t->point_day + 1,
                           t->n_points, bt->tracking_actual);
    for (size_t k = 0; k < t->n_points; k++) {
        bt->tracking_day[k] = t->point_day[k + 1];
        bt->tracking_expected[k] = expected[k + 1] - expected[0];
    }
    bt->n_tracking = t->n_points;
    bt->tracking_model = j;
    return SGS_OK;
}

int sgs_backtest_tracking(const sgs_tracking_cohort_t *co, int32_t cal_end, int32_t as_of,
                          double days_per_unit, int j, const sgs_exec_t *exec, sgs_backtest_t *bt,
                          sgs_error_t *err)
{
    if (co->n == 0 || as_of <= cal_end)
        return SGS_OK;
    sgs_tracking_days_t t;
    sgs_tracking_days_init(sgs_day_min(co->n, co->first_day, cal_end), cal_end, as_of, &t);
    int64_t *per_day = sgs_alloc_array(t.n_days, sizeof *per_day);
    int64_t *births = sgs_alloc_array(t.n_births, sizeof *births);
    int rc = per_day && births
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM,
                                 "backtest: no memory for the tracking of %zu days", t.n_days);
    if (rc == SGS_OK)
        rc = sgs_tracking_counts(co, &t, exec, per_day, births, err);
    if (rc == SGS_OK)
        rc = sgs_tracking_curve(&t, per_day, births, days_per_unit, j, exec, bt, err);
    sgs_free(per_day);
    sgs_free(births);
    return rc;
}
