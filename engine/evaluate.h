/*
 * engine/evaluate.h — model evaluation (segscore evaluate, docs/evaluate.md): split the
 * transactions at a calibration end date, fit every purchase model on the calibration period,
 * predict the holdout period, and compare.
 *
 * Definitions (days are whole UTC days; durations are divided by days_per_unit):
 *   - transactions are read up to the holdout end (later rows are left out and counted),
 *     grouped and summarized as a run does (kernels/group.h, kernels/summary.h);
 *   - the cohort: customers whose first purchase day is on or before the calibration end;
 *     customers who first buy in the holdout are left out (counted);
 *   - calibration history: x = purchase days up to the calibration end - 1, t_x = last
 *     calibration purchase day - first day, T = calibration end - first day;
 *   - holdout repeat purchases x*: distinct purchase days in (calibration end, holdout end];
 *   - holdout length t* = (holdout end - calibration end) / days_per_unit;
 *   - prediction: E[Y(t*) | x, t_x, T] of each model (kernels/clv.h), fitted on the cohort's
 *     calibration histories by maximum likelihood;
 *   - by frequency: customers, mean actual x* and mean predicted E[Y(t*)] per calibration x
 *     in bins 0, 1, ..., 6, 7+ (Fader, Hardie & Lee 2005, figure 5);
 *   - per customer: MAE = mean |E - x*|, RMSE = sqrt(mean (E - x*)²), Pearson correlation of
 *     E and x* (two passes: means, then centred sums; 0 when either has no variance);
 *   - tracking: weekly points, day d_k = first + 7k - 1 (k = 1, 2, ...; the last point is the
 *     holdout end); actual = cumulative repeat purchase days of the cohort up to d_k;
 *     expected = Σ_i E[X((d_k - first_i) / unit)] over cohort customers born by d_k, E[X(t)]
 *     the model's expectation for a new customer (FHL 2005, figure 4);
 *   - distribution: actual = customers with calibration x in each bin; predicted =
 *     Σ_i P(X(T_i) = x) (kernels/evaluate_probs.h), the 7+ bin taking the rest.
 *   - AIC = 2k - 2 LL and BIC = k ln n - 2 LL, k = 4 parameters, n = cohort customers, LL the
 *     unpenalized log-likelihood at the estimate.
 *
 * The numbers are the kernels' (kernels/holdout.h: errors, repeat days, tracking, distribution,
 * AIC and BIC); this file orders the steps. Determinism: every sum over customers runs over
 * fixed blocks of SGS_BLOCK_ROWS combined in block order, so the results are the same bits for
 * any thread count.
 */
#ifndef SGS_EVALUATE_H
#define SGS_EVALUATE_H

#include "engine/progress.h"
#include "kernels/clv.h"
#include "kernels/histories.h"

#include <stdint.h>
#include <stdio.h>

#define SGS_EVAL_BINS 8 /* calibration repeat purchases 0, 1, ..., 6 and 7+ */
#define SGS_EVAL_MAX_WARNINGS 8

typedef struct sgs_eval_request {
    const char *input_path;
    int32_t calibration_end_day; /* UTC day number */
    int has_holdout_end;         /* 0: the day of the last transaction */
    int32_t holdout_end_day;     /* when has_holdout_end; > calibration_end_day */
    const char *time_unit;       /* "day" or "week" */
    double days_per_unit;        /* 1 or 7 */
    int n_models;                /* 1..SGS_PURCHASE_MODEL_COUNT, distinct */
    sgs_purchase_model_t models[SGS_PURCHASE_MODEL_COUNT];
    double penalizer; /* >= 0 (kernels/optimizer.h) */
    int max_iter;     /* BFGS iterations per start, <= 0 for the default */
    int n_threads;    /* >= 1 */
    int64_t now_s;    /* current time (Unix s): bounds input times without a holdout end */
    sgs_progress_t *progress;
} sgs_eval_request_t;

/* What one model predicted. */
typedef struct sgs_eval_model {
    sgs_purchase_model_t model;
    sgs_fit_t fit;                                /* converged may be 0 (warned) */
    double aic, bic;                              /* see above */
    double holdout_predicted_total;               /* Σ E[Y(t*)] over the cohort */
    double mae, rmse, correlation;                /* per customer, holdout purchases */
    double by_frequency_predicted[SGS_EVAL_BINS]; /* mean E[Y(t*)] per bin */
    double distribution_predicted[SGS_EVAL_BINS]; /* expected customers per calibration x bin */
    double *tracking_expected;                    /* [n_points] cumulative expected */
    double *history_expected;                     /* [hist.n_unique] E[Y(t*)] per history */
} sgs_eval_model_t;

typedef struct sgs_eval_result {
    /* input */
    char input_identity[1024];
    size_t n_rows_in_file, n_rows_after_holdout_end, n_rows_used;
    /* dates (UTC day numbers) and units */
    int32_t first_day;            /* first purchase day of the cohort: the tracking origin */
    int32_t calibration_end_day;  /* as requested */
    int32_t holdout_end_day;      /* as requested, or the last transaction's day */
    int32_t last_transaction_day; /* of the rows read */
    char time_unit[8];
    double days_per_unit;
    double holdout_length; /* t* in the unit */
    double penalizer;
    /* customers */
    size_t n_customers;               /* the cohort */
    size_t n_first_in_holdout;        /* first purchase after the calibration end: left out */
    size_t n_no_purchase;             /* customers without a purchase occasion: left out */
    int64_t *customer_id;             /* [n_customers] ascending */
    int32_t *first_purchase_day;      /* [n_customers] */
    double *x, *t_x, *T;              /* [n_customers] calibration history, in the unit */
    int32_t *holdout_actual;          /* [n_customers] x* */
    sgs_histories_t hist;             /* distinct calibration histories of the cohort */
    int64_t calibration_repeat_total; /* Σ x */
    int64_t holdout_actual_total;     /* Σ x* */
    /* by calibration frequency bin */
    int64_t bin_count[SGS_EVAL_BINS];          /* customers (also the actual distribution) */
    double by_frequency_actual[SGS_EVAL_BINS]; /* mean x* per bin (0 for an empty bin) */
    /* tracking */
    size_t n_points;
    int32_t *point_day;      /* [n_points] d_k */
    double *tracking_actual; /* [n_points] cumulative repeat purchase days (integers) */
    /* models, in the requested order */
    int n_models;
    sgs_eval_model_t models[SGS_PURCHASE_MODEL_COUNT];
    size_t n_warnings;
    char warnings[SGS_EVAL_MAX_WARNINGS][256];
} sgs_eval_result_t;

/* Run the evaluation; *res is overwritten and owns its arrays on success (free with
 * sgs_eval_result_free; also after a failure). @return 0; SGS_ENOINPUT/SGS_EDATA from the
 * reader; SGS_EDATA when the calibration end leaves no customer or no holdout period (the
 * message names the dates and what to change) or when the calibration period has no repeat
 * purchase; a fit's error other than non-convergence (which is a warning, the model flagged
 * converged = 0); SGS_ENOMEM. */
int sgs_evaluate(const sgs_eval_request_t *req, sgs_eval_result_t *res, sgs_error_t *err);

void sgs_eval_result_free(sgs_eval_result_t *res);

/* The terminal report: dates, counts, the model table (LL, AIC, BIC, parameters with standard
 * errors, holdout errors), by-frequency, distribution and a thinned tracking table. */
void sgs_eval_print(const sgs_eval_result_t *res, const char *input_path, FILE *out);

/* The JSON report (docs/evaluate.md), written into `file` (where engine/command_outputs.h
 * says: the caller publishes both reports together), messages naming `path`, the output as
 * given. @return 0, SGS_EIO (also SGS_ENOSPACE for a full disk), SGS_ENOMEM. */
int sgs_eval_write_json(const sgs_eval_result_t *res, const char *input_path, const char *file,
                        const char *path, sgs_error_t *err);

/* The HDF5 datasets for plotting (docs/evaluate.md), written into `file` as for
 * sgs_eval_write_json. @return 0, SGS_ECANTCREAT, SGS_EIO, SGS_ENOSPACE, SGS_ENOMEM. */
int sgs_eval_write_h5(const sgs_eval_result_t *res, const char *input_path, const char *file,
                      const char *path, sgs_error_t *err);

#endif /* SGS_EVALUATE_H */
