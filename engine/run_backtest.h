/*
 * engine/run_backtest.h — the backtest inside every run (docs/backtest.md): hold out the end
 * of the observed history, fit every purchase model and Gamma-Gamma on the rest, score them on
 * what customers did in the holdout, pick a model, and learn the monotone calibration of the
 * probability of buying again. Internal to engine/.
 */
#ifndef SGS_RUN_BACKTEST_H
#define SGS_RUN_BACKTEST_H

#include "kernels/calibration.h"
#include "kernels/clv.h"
#include "kernels/stages.h"

#define SGS_BACKTEST_BINS 10
#define SGS_BACKTEST_FREQ_BINS 8   /* calibration repeat purchases 0..6, then 7 or more */
#define SGS_BACKTEST_TRACK_MAX 104 /* points of the tracking curve: weekly, at most this many */

/* How one purchase model did on the holdout. */
typedef struct sgs_backtest_model {
    sgs_purchase_model_t model;
    int ok;                              /* fitted (converged); the rest is valid only then */
    char failure[SGS_ERROR_MESSAGE_MAX]; /* why not, when !ok */
    double params[4];                    /* fitted on the calibration period */
    double log_score;                    /* mean ln P(bought again or not), higher is better */
    double brier;                        /* mean (bought - P(buy))^2 */
    double mae;                          /* mean |E[purchases] - purchases| per customer */
    double total_error;                  /* (Σ E - Σ actual) / Σ actual */
    sgs_reliability_t raw;               /* reliability of the model's P(buy in the holdout) */
    sgs_reliability_t calibrated;        /* of the calibrated probability (in-sample) */
    /* of the calibrated probability on customers its map was not learned from (two folds by
       a hash of the id, kernels/calibration.h sgs_alive_calibration_cross); valid when
       cross_ok. The model choice compares these log scores. */
    int cross_ok;
    sgs_reliability_t cross;
    /* mean expected holdout purchases per calibration frequency bin (kernels/holdout.h
       sgs_holdout_errors); 0 for an empty bin */
    double by_frequency_predicted[SGS_BACKTEST_FREQ_BINS];
} sgs_backtest_model_t;

typedef struct sgs_backtest {
    int ran;
    char skipped[200]; /* why it did not run, when !ran */
    int32_t calibration_end_day;
    double holdout;        /* t*, in the time unit */
    size_t n_cohort;       /* customers who bought by the calibration end */
    size_t n_scored;       /* of them, the customers fitted and scored: all, or a sample of
                              value.backtest_sample chosen by a hash of the id (kernels/sample.h) */
    size_t n_bought_again; /* of those scored, customers with an occasion in the holdout */
    int n_models;
    sgs_backtest_model_t models[SGS_PURCHASE_MODEL_COUNT];
    int chosen;               /* index in models of the chosen model */
    int chosen_by_cross;      /* 1: by the cross-fitted log score of the calibrated
                                 probability; 0: by the model's own (a fold could not be
                                 calibrated) */
    int used;                 /* index of the model the run uses (chosen, or the configured
                                 one), -1 when that one could not be fitted here */
    char chosen_because[320]; /* the rule, in words, with the figures */
    /* customers scored and their mean holdout purchases per calibration frequency bin (0..6
       repeat purchases, then 7 or more); NaN for an empty bin */
    double by_frequency_customers[SGS_BACKTEST_FREQ_BINS];
    double by_frequency_actual[SGS_BACKTEST_FREQ_BINS];
    /* The tracking curve over the holdout (kernels/holdout.h): at each point day, the cohort's
     * repeat purchase occasions since the calibration end, actual and expected by the model
     * tracking_model (the used one, else the chosen one), fitted on the calibration period.
     * Weekly points (longer steps beyond SGS_BACKTEST_TRACK_MAX weeks), the last at the as-of
     * day. */
    size_t n_tracking;
    int tracking_model; /* index in models */
    int32_t tracking_day[SGS_BACKTEST_TRACK_MAX];
    double tracking_actual[SGS_BACKTEST_TRACK_MAX];
    double tracking_expected[SGS_BACKTEST_TRACK_MAX];
    sgs_isotonic_t calibration; /* P(buy) of the used model -> observed share (when used >= 0) */
    /* spend: Gamma-Gamma fitted on the calibration period */
    int spend_ok;
    size_t n_spend;           /* holdout buyers with positive holdout spend */
    double spend_mae;         /* mean |E[M] - holdout spend per occasion| */
    double spend_total_error; /* (Σ E[M] x* - Σ holdout spend) / Σ holdout spend */
    /* The stages checked: p_buy over the horizon at the calibration end, per buyer row of the
     * run (NaN outside the cohort; NULL when used < 0, and once the stages step has read
     * it), and what the stages made of it (engine/run_stages.c): customers per stage and
     * those who bought in the holdout. */
    double *p_buy_at_end;
    int stages_ran;
    int64_t stage_customers[SGS_STAGE_COUNT];
    int64_t stage_bought[SGS_STAGE_COUNT];
    double seconds; /* wall time of the backtest, part of the value step's */
} sgs_backtest_t;

struct sgs_run_state;

/* Run the backtest on the run's grouped rows and summary (engine/run_state.h), as configured;
 * fills *bt (bt->ran = 0 with bt->skipped when it cannot run, which is not an error).
 * @return 0, SGS_ENOMEM. */
int sgs_run_backtest(struct sgs_run_state *st, sgs_backtest_t *bt, sgs_error_t *err);

void sgs_backtest_free(sgs_backtest_t *bt);

#endif /* SGS_RUN_BACKTEST_H */
