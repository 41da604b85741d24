/*
 * engine/backtest_models.h — the backtest's models on its cohort (docs/backtest.md): each
 * purchase model fitted on the cohort's distinct calibration histories and scored on what the
 * customers did in the holdout, the choice of model by the cross-fitted log score of its
 * calibrated probability, and the calibration map of the model the run uses. Internal to
 * engine/: engine/run_backtest.c calls it on one process's whole cohort; engine/dist_backtest.h
 * makes the same result from a cohort spread over processes.
 */
#ifndef SGS_BACKTEST_MODELS_H
#define SGS_BACKTEST_MODELS_H

#include "engine/progress.h"
#include "engine/run_backtest.h"
#include "kernels/histories.h"

/* Random stream of the two folds that score each model's calibrated probability ("folds"). */
#define SGS_BACKTEST_FOLD_STREAM UINT64_C(0x666f6c6473)

/* The cohort the backtest scores (on one process: its customers), ascending by id. */
typedef struct sgs_backtest_cohort {
    size_t n;
    const int64_t *customer_id; /* [n] */
    const double *x, *t_x, *T;  /* [n] calibration history, in the time unit */
    const int32_t *occasions;   /* [n] purchase occasions in the holdout, >= 0 */
} sgs_backtest_cohort_t;

/* The fit options of a fit named `what` (the run's value.* settings, with its progress watch
 * attached to *watch, which lives as long as the fit). */
typedef sgs_model_fit_options_t (*sgs_backtest_fit_options_fn)(void *ctx, const char *what,
                                                               sgs_fit_watch_t *watch);

typedef struct sgs_backtest_options {
    double holdout;                          /* t*, in the time unit */
    uint64_t seed;                           /* of the folds (the run's seed) */
    const char *model;                       /* value.model: "auto" or a model's name */
    sgs_backtest_fit_options_fn fit_options; /* the fits' options */
    void *fit_options_ctx;
    const sgs_exec_t *exec;
} sgs_backtest_options_t;

/* What the scoring leaves for the rest of the backtest (owned; sgs_backtest_scores_free). */
typedef struct sgs_backtest_scores {
    sgs_histories_t h;       /* the cohort's distinct histories (every process's); h.history_of
                                gives this process's customers' history */
    size_t nh;               /* h.n_unique */
    double *work;            /* the block the arrays below live in */
    double *weight, *bought; /* [nh] customers and buyers in the holdout per history */
    double *p_buy_of;        /* [SGS_PURCHASE_MODEL_COUNT nh] per model j at j nh: P(buy in the
                                holdout) per history, calibrated for the used model */
    double *p_alive_of;      /* [SGS_PURCHASE_MODEL_COUNT nh] P(alive) at the calibration end */
} sgs_backtest_scores_t;

void sgs_backtest_scores_free(sgs_backtest_scores_t *sc);

/* The models on the whole cohort co of one process (engine/run_backtest.c): writes in *bt
 * n_scored, n_bought_again, by_frequency_customers and by_frequency_actual, n_models and
 * models[] (fits, scores, reliability tables, the cross-fitted scores), chosen, chosen_by_cross,
 * chosen_because, used, and, when used >= 0, calibration and models[used].calibrated; chosen = -1
 * when no model could be fitted (not an error). *sc as above. @return 0; SGS_ENOMEM, SGS_EINTR (a
 * fit stopped by a signal), a calibration's error. */
int sgs_backtest_models(const sgs_backtest_cohort_t *co, const sgs_backtest_options_t *o,
                        sgs_backtest_t *bt, sgs_backtest_scores_t *sc, sgs_error_t *err);

/* ---- Shared with engine/dist_backtest.c -------------------------------------------------- */

/* The errors over customers of a model's expected holdout purchases per history (expected[nh]):
 * bm->mae, bm->total_error and bm->by_frequency_predicted. */
typedef int (*sgs_backtest_customer_errors_fn)(void *ctx, const double *expected,
                                               sgs_backtest_model_t *bm, sgs_error_t *err);

/* weight2[2 nh], bought2[2 nh] += the customers and buyers per history in each of the two folds
 * (fold 0 then fold 1), a customer's fold the top bit of SplitMix64(seed, FOLD_STREAM, id). */
void sgs_backtest_fold_outcomes(size_t n, const int64_t *customer_id, const uint32_t *history_of,
                                const int32_t *occasions, uint64_t seed, size_t nh, double *weight2,
                                double *bought2);

/* The outcome of a part each process did alone, agreed over the processes (engine/dist.h
 * sgs_dist_agree): ctx the processes. */
typedef int (*sgs_backtest_agree_fn)(void *ctx, int rc, sgs_error_t *err);

/* The models on the table sc->h, with sc->weight, sc->bought filled and the folds' outcomes
 * weight2, bought2 [2 nh] (every process's customers): what sgs_backtest_models does once
 * the outcomes are counted; errors computes the per-customer errors. agree (NULL for one
 * process) is called on the outcome of every part that may fail on one process alone (its
 * memory) before the next call of errors, which is collective over processes, so that every
 * process takes the same way. */
int sgs__backtest_models_on(const sgs_backtest_options_t *o, sgs_backtest_scores_t *sc,
                            const double *weight2, const double *bought2,
                            sgs_backtest_customer_errors_fn errors, void *errors_ctx,
                            sgs_backtest_agree_fn agree, void *agree_ctx, sgs_backtest_t *bt,
                            sgs_error_t *err);

/* sc->work and its arrays for nh histories, and weight2/bought2 ([4 nh], in the same block).
 * @return 0 or SGS_ENOMEM. */
int sgs__backtest_scores_alloc(sgs_backtest_scores_t *sc, size_t nh, double **folds,
                               sgs_error_t *err);

#endif /* SGS_BACKTEST_MODELS_H */
