/*
 * engine/run_value.h — the value step's result (engine/run_value.c): the fitted purchase and
 * spend models, the backtest that chose and calibrated them (engine/run_backtest.h), and
 * every customer's scores over the horizon, one entry per customer of the summary.
 * Internal to engine/.
 */
#ifndef SGS_RUN_VALUE_H
#define SGS_RUN_VALUE_H

#include "engine/run_backtest.h"
#include "kernels/clv.h"
#include "kernels/gammagamma.h"

#include <stddef.h>

typedef struct sgs_run_value {
    int ran; /* 0 when value.model is "none" (or before the step): the rest is unset */
    sgs_purchase_model_t model;
    sgs_fit_t model_fit; /* repeat purchases; converged may be 0 only with allow_unconverged */
    sgs_fit_t spend_fit; /* Gamma-Gamma */
    sgs_gg_summary_t spend_summary;
    size_t n_histories; /* distinct (x, t_x, T) */
    double horizon;     /* in the time unit */
    /* owned; one entry per customer of the summary */
    double *p_alive, *expected_purchases, *prob_no_purchase, *expected_spend, *clv;
    double *p_buy;           /* calibrated P(buy within the horizon) (engine/run_backtest.h) */
    int p_buy_calibrated;    /* 0: the model's own probability (no calibration available) */
    sgs_backtest_t backtest; /* owns its p_buy_at_end */
    double clv_total, expected_purchases_total;
    int p_alive_informative; /* 0 when the fit does not identify dropout: stages and
                                opportunities then treat P(alive) as unknown */
} sgs_run_value_t;

/* An empty result (nothing owned, ran = 0). */
void sgs_run_value_init(sgs_run_value_t *v);

/* Free what *v owns, the backtest's columns included, and leave it empty. NULL-safe. */
void sgs_run_value_free(sgs_run_value_t *v);

#endif
