/*
 * engine/backtest_tracking.h — the backtest's tracking curve (engine/run_backtest.h,
 * docs/backtest.md): at weekly points over the holdout, the cohort's repeat purchase
 * occasions since the calibration end, actual and expected by one model. Internal to engine/.
 *
 * It is made in two parts so that a cohort spread over processes gives the same bits as one
 * process (engine/dist_backtest.h sgs_dist_backtest_tracking):
 *   - the counts: per day, the cohort's repeat purchase occasions (kernels/holdout.h
 *     sgs_holdout_repeat_days over the grouped rows) and per day, the cohort's customers whose
 *     first purchase it is (sgs_holdout_births). Integers: counts over any split of the cohort
 *     add up exactly to the counts over all of it;
 *   - the curve from the counts: the actual one cumulated (sgs_holdout_cumulative), the
 *     expected one from the first-purchase days (sgs_holdout_tracking_expected), both taken
 *     from the calibration end on.
 * Both parts are indexed by days from d0, the cohort's first first-purchase day (no later than
 * the calibration end), which every process must agree on before counting.
 */
#ifndef SGS_BACKTEST_TRACKING_H
#define SGS_BACKTEST_TRACKING_H

#include "engine/run_backtest.h"
#include "kernels/group.h"

/* The days of a tracking curve. */
typedef struct sgs_tracking_days {
    int32_t d0;      /* the cohort's first first-purchase day, <= cal_end */
    int32_t cal_end; /* the calibration end day */
    int32_t as_of;   /* the as-of day, > cal_end */
    size_t n_days;   /* days d0 .. as_of: the repeat purchase counts */
    size_t n_births; /* days d0 .. cal_end: the first-purchase counts */
    size_t n_points; /* points of the curve, 1 .. SGS_BACKTEST_TRACK_MAX */
    /* [0] = cal_end, then the points: weekly (longer steps beyond SGS_BACKTEST_TRACK_MAX
       weeks), the last at as_of */
    int32_t point_day[SGS_BACKTEST_TRACK_MAX + 1];
} sgs_tracking_days_t;

/* The cohort's customers among one process's grouped rows. */
typedef struct sgs_tracking_cohort {
    const sgs_grouped_t *g;   /* the grouped rows holding them (all of a process's customers) */
    size_t n;                 /* the cohort's customers here (may be 0) */
    const size_t *g_row;      /* [n] each one's customer index in g, distinct */
    const int32_t *first_day; /* [n] each one's first purchase day, <= the calibration end */
} sgs_tracking_cohort_t;

/* The days of the curve for a cohort whose first first-purchase day is d0 (<= cal_end), from
 * cal_end to as_of (> cal_end). Pure. */
void sgs_tracking_days_init(int32_t d0, int32_t cal_end, int32_t as_of, sgs_tracking_days_t *t);

/* The counts of the cohort co over t's days: per_day[d - d0] its repeat purchase occasions on
 * day d (t->n_days entries), births[b] its customers whose first purchase is day d0 + b
 * (t->n_births entries); both overwritten. Integer counts, exact; exec's threads.
 * @return 0; SGS_EINVAL (a first purchase day or a repeat occasion outside t's days: err names
 * it); SGS_ENOMEM. */
int sgs_tracking_counts(const sgs_tracking_cohort_t *co, const sgs_tracking_days_t *t,
                        const sgs_exec_t *exec, int64_t *per_day, int64_t *births,
                        sgs_error_t *err);

/* The curve of model j of bt (bt->models[j]: model and params) from the whole cohort's counts
 * (as sgs_tracking_counts writes them): writes bt->n_tracking, tracking_model = j,
 * tracking_day, tracking_actual (cumulative repeat occasions after cal_end, integers) and
 * tracking_expected (the model's expected cumulative repeat purchases since cal_end).
 * days_per_unit: days in the models' time unit. Deterministic (the kernels' order, whatever
 * the threads). @return 0; SGS_EINVAL, SGS_ENOMEM (kernels/holdout.h); bt is unchanged then. */
int sgs_tracking_curve(const sgs_tracking_days_t *t, const int64_t *per_day, const int64_t *births,
                       double days_per_unit, int j, const sgs_exec_t *exec, sgs_backtest_t *bt,
                       sgs_error_t *err);

/* The whole curve of the cohort co on one process: nothing when the cohort is empty or
 * as_of <= cal_end (bt->n_tracking left as it is, 0 in a fresh result); else the counts and the
 * curve above, d0 the first of the cohort's first-purchase days and cal_end.
 * @return as sgs_tracking_counts and sgs_tracking_curve. */
int sgs_backtest_tracking(const sgs_tracking_cohort_t *co, int32_t cal_end, int32_t as_of,
                          double days_per_unit, int j, const sgs_exec_t *exec, sgs_backtest_t *bt,
                          sgs_error_t *err);

#endif /* SGS_BACKTEST_TRACKING_H */
