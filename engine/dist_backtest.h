/*
 * engine/dist_backtest.h — the backtest's models (engine/backtest_models.h) on a cohort spread
 * over processes: every process ends with the result one process holding the whole cohort
 * gets, bit for bit (docs/mpi.md, Design, "The backtest").
 *
 * Everything the backtest decides on is per distinct calibration history: the fits (on the
 * table of distinct histories with their counts), each model's P(buy) and P(alive) per
 * history, the reliability tables and scores (sums over histories weighted by customers and
 * buyers), the two folds' calibration maps and the cross-fitted scores, the choice and the
 * calibration map (isotonic, on the histories). So the processes merge the table
 * (engine/dist_histories.h) and the per-history counts (customers, buyers, and both per fold:
 * integers, summed exactly), and every process then runs the single-process code on the same
 * table and counts. What remains per customer is the forecast error (a serial sum in customer
 * order, carried from process to process: engine/dist_blocks.h sgs_dist_chain) and the mean
 * expected purchases per calibration-frequency bin (sums per block of the cohort's customers:
 * the customers' history and bin realigned into whole blocks of the cohort's order, the
 * blocks' per-bin sums gathered in block order). The tracking curve is made of integer counts
 * per day (repeat purchase days, first purchase days), each process's summed over the processes.
 */
#ifndef SGS_DIST_BACKTEST_H
#define SGS_DIST_BACKTEST_H

#include "engine/backtest_models.h"
#include "engine/backtest_tracking.h"
#include "engine/dist.h"

/* sgs_backtest_models over every process's cohort co (the processes' customers one after
 * another, in rank order, are the single-process cohort, ascending by id; ids distinct over
 * all; a process may have none). o the same on every process, its fits' time_limit_s 0. Written
 * on every process, equal bit for bit to sgs_backtest_models on the whole cohort: n_scored,
 * n_bought_again, by_frequency_customers, by_frequency_actual, n_models, models[] (params, ok,
 * failure, log_score, brier, mae, total_error, raw, cross_ok, cross, calibrated,
 * by_frequency_predicted), chosen, chosen_by_cross, chosen_because, used, calibration; *sc
 * holds the merged table (sc->h, with sc->h.history_of the history of each of this process's n
 * customers, an index into the merged table), its per-history counts and each model's P(buy)
 * and P(alive) per history. @return as sgs_backtest_models, the same on every
 * process (a failure on one process, agreed: "process R of N: " before its message). */
int sgs_dist_backtest_models(const sgs_dist_t *d, const sgs_backtest_cohort_t *co,
                             const sgs_backtest_options_t *o, sgs_backtest_t *bt,
                             sgs_backtest_scores_t *sc, sgs_error_t *err);

/* The backtest's spend check over every process's cohort (engine/run_backtest.c
 * backtest_spend): Gamma-Gamma fitted on the calibration period (x, m: frequency and mean
 * spend; engine/dist_gammagamma.h, without standard errors) against the holdout's spend per
 * occasion of the customers with occasions[i] > 0 and spend[i] > 0 (net holdout spend), the
 * serial sums of kernels/holdout.h sgs_holdout_spend_error carried from process to process.
 * Writes bt->spend_ok, n_spend, spend_mae and spend_total_error on every process as one process
 * would on the whole cohort: spend_ok stays 0 when the fit fails (any error, as the single
 * process, which does not stop the run for it), when q <= 1 or when no customer bought in the
 * holdout with a positive spend. options: as sgs_dist_gg_fit's. Collective. */
void sgs_dist_backtest_spend(const sgs_dist_t *d, const double *x, const double *m,
                             const int32_t *occasions, const double *spend, size_t n,
                             const sgs_model_fit_options_t *options, const sgs_exec_t *exec,
                             sgs_backtest_t *bt);

/* The backtest's tracking curve (engine/backtest_tracking.h sgs_backtest_tracking) over every
 * process's cohort co (co->g: this process's grouped customers; the processes' cohorts one after
 * another are the single-process cohort; a process may have none). cal_end, as_of,
 * days_per_unit, j and bt->models[j] (model, params) the same on every process. Nothing is done
 * when no process has a cohort customer or as_of <= cal_end. Else d0 is the minimum over the
 * processes (of the first-purchase days and cal_end), each process counts its own customers'
 * repeat purchase days and first-purchase days (sgs_tracking_counts), the counts are summed
 * over the processes (integers: exact, the counts of the whole cohort), and every process makes
 * the curve from them (sgs_tracking_curve): bt->n_tracking, tracking_model, tracking_day,
 * tracking_actual and tracking_expected equal, bit for bit, what sgs_backtest_tracking writes
 * on one process holding the whole cohort. What a process sends: a reduction of 2 integers,
 * then one of n_days + n_births integers (8 bytes each; n_days the days from d0 to as_of,
 * n_births those from d0 to cal_end); nothing per customer.
 * @return as sgs_backtest_tracking, the same on every process (a failure on one process,
 * agreed: "process R of N: " before its message); the tracking fields are then unspecified,
 * with n_tracking 0. Collective. */
int sgs_dist_backtest_tracking(const sgs_dist_t *d, const sgs_tracking_cohort_t *co,
                               int32_t cal_end, int32_t as_of, double days_per_unit, int j,
                               const sgs_exec_t *exec, sgs_backtest_t *bt, sgs_error_t *err);

#endif /* SGS_DIST_BACKTEST_H */
