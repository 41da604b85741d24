/*
 * kernels/clv.h — one entry point over the purchase models (BG/NBD, MBG/NBD, Pareto/NBD)
 * and the per-customer scores of the value stage: P(alive), expected purchases over a
 * horizon, P(no purchase in the horizon), expected spend (Gamma-Gamma) and CLV.
 *
 * CLV is computed the way lifetimes' customer_lifetime_value does (lifetimes/utils.py,
 * _customer_lifetime_value): a sum over monthly steps of the expected purchases in the
 * step, times the expected spend, discounted per month:
 *
 *   CLV = margin · E[M] · Σ_{k=1..K} (E[Y(τ_k)] - E[Y(τ_{k-1})]) / (1 + d_m)^(τ_k / u)
 *
 *   u        time units per month (lifetimes: 30 for days, 4.345 for weeks, 1 for months;
 *            SGS_CLV_DAYS_PER_MONTH, SGS_CLV_WEEKS_PER_MONTH)
 *   H        the horizon in time units; K = ceil(H / u) steps, τ_k = min(k u, H), τ_0 = 0
 *            (when H is a whole number of months, exactly lifetimes' steps)
 *   d_m      the monthly rate (1 + d)^(1/12) - 1 of the annual discount rate d; so the
 *            discount factor of τ is (1 + d)^(τ / (12 u)) (lifetimes takes d_m directly)
 *   E[Y(τ)]  the model's conditional expectation for the customer's (x, t_x, T)
 *   E[M]     the Gamma-Gamma conditional mean spend (population mean without repeat
 *            purchase), gammagamma.h; margin multiplies it (lifetimes applies no margin: its
 *            monetary input is already a profit)
 *
 * The scores depend on the customer only through (x, t_x, T) (and the spend), so they are
 * computed once per distinct history (histories.h), and the parts that depend on (x, T)
 * alone ("if alive" expectations, the discounted sum) once per distinct (x, T); each
 * customer then gets its history's values. Parallel over fixed blocks; the output does
 * not depend on the thread count.
 */
#ifndef SGS_CLV_H
#define SGS_CLV_H

#include "kernels/bgnbd.h"
#include "kernels/calibration.h"
#include "kernels/core.h"
#include "kernels/histories.h"
#include "kernels/optimizer.h"

#define SGS_CLV_DAYS_PER_MONTH 30.0   /* lifetimes' factor for freq "D" */
#define SGS_CLV_WEEKS_PER_MONTH 4.345 /* lifetimes' factor for freq "W" */

typedef enum sgs_purchase_model {
    SGS_MODEL_BGNBD = 0,
    SGS_MODEL_PARETONBD = 1,
    SGS_MODEL_MBGNBD = 2
} sgs_purchase_model_t;
#define SGS_PURCHASE_MODEL_COUNT 3

/* "bgnbd", "paretonbd", "mbgnbd"; NULL for other values. */
const char *sgs_purchase_model_name(sgs_purchase_model_t model);

/* Parse a model name (as above). @return 0, or SGS_ECONFIG naming the accepted values. */
int sgs_purchase_model_parse(const char *name, sgs_purchase_model_t *model, sgs_error_t *err);

/* Names of the four parameters in order: {"r","alpha","a","b"} or {"r","alpha","s","beta"}. */
const char *const *sgs_purchase_model_param_names(sgs_purchase_model_t model);

/* Fit the model over histories: sgs_bgnbd_fit, sgs_mbgnbd_fit or sgs_paretonbd_fit. */
int sgs_purchase_model_fit(sgs_purchase_model_t model, const sgs_histories_t *h,
                           const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                           const sgs_exec_t *exec, sgs_error_t *err);

/* The model's per-customer expressions (NaN for an unknown model). */
double sgs_purchase_p_alive(sgs_purchase_model_t model, const double *params, double x, double t_x,
                            double T);
double sgs_purchase_expected(sgs_purchase_model_t model, const double *params, double t, double x,
                             double t_x, double T);
double sgs_purchase_expected_new(sgs_purchase_model_t model, const double *params, double t);
double sgs_purchase_prob_no_purchase(sgs_purchase_model_t model, const double *params, double t,
                                     double x, double t_x, double T);

typedef struct sgs_clv_options {
    double horizon;         /* H >= 0, in the caller's time unit */
    double units_per_month; /* u > 0, time units per month */
    double annual_discount; /* d >= 0, e.g. 0.1 for 10% a year */
    double margin;          /* finite; share of spend that is value (1 = revenue) */
} sgs_clv_options_t;

/* Defaults: one year in days (horizon 365, SGS_CLV_DAYS_PER_MONTH), a discount of 10% a year
 * and margin 1 (CLV in revenue). The configuration keys value.discount_rate_annual and
 * value.margin point into these options and take their defaults from here. */
sgs_clv_options_t sgs_clv_options_default(void);

/* Scores of each distinct history; every output is [h->n_unique] or NULL (skipped):
 * p_alive, expected (E[Y(H)]), prob_no_purchase (in (T, T+H]), discounted (the
 * Σ_k ΔE / (1+d_m)^(τ_k/u) factor of CLV, so that CLV = margin · E[M] · discounted).
 * The discounted sum costs one expectation per monthly step of the horizon; when discounted is
 * NULL it is skipped and E[Y(H)] costs one expectation per distinct (x, T) (what a backtest
 * needs). options->units_per_month still must be valid.
 * @return 0; SGS_EINVAL for bad options or parameters, SGS_ENOMEM. */
int sgs_clv_score_histories(sgs_purchase_model_t model, const double *params,
                            const sgs_histories_t *h, const sgs_clv_options_t *options,
                            double *p_alive, double *expected, double *prob_no_purchase,
                            double *discounted, const sgs_exec_t *exec, sgs_error_t *err);

/* Scores of each customer i < h->n_customers, whose history is h->history_of[i]:
 * x[i] and mean_spend[i] (mean value of the repeat transactions; anything when x = 0) are
 * the inputs of the spend model with gg_params (p, q, gamma; q > 1 required). Outputs are
 * [n_customers] or NULL: p_alive, expected_purchases, prob_no_purchase, expected_spend,
 * clv. Outputs are finite for valid inputs (P(alive) and P(no purchase) in [0, 1]).
 * @return 0; SGS_EDATA when q <= 1 (infinite mean spend, named in the message); SGS_EINVAL
 *         (options, parameters, NULL inputs needed by a requested output); SGS_ENOMEM. */
int sgs_clv_score_customers(sgs_purchase_model_t model, const double *params,
                            const double *gg_params, const sgs_histories_t *h, const double *x,
                            const double *mean_spend, const sgs_clv_options_t *options,
                            double *p_alive, double *expected_purchases, double *prob_no_purchase,
                            double *expected_spend, double *clv, const sgs_exec_t *exec,
                            sgs_error_t *err);

/* The per-customer outputs of sgs_clv_score_customers_to, each [n_customers] or NULL
 * (skipped); p_buy[i] = sgs_p_buy(alive_map, p_alive, prob_no_purchase) of customer i's
 * history (kernels/calibration.h; alive_map NULL: the model's own probability), the same bits
 * as sgs_p_buy_column over the p_alive and prob_no_purchase columns, at a cost per history. */
typedef struct sgs_clv_customer_scores {
    double *p_alive, *expected_purchases, *prob_no_purchase, *expected_spend, *clv;
    double *p_buy;
    const sgs_isotonic_t *alive_map;
} sgs_clv_customer_scores_t;

/* sgs_clv_score_customers with p_buy too (outputs in *out, as above); the same checks and
 * return codes. */
int sgs_clv_score_customers_to(sgs_purchase_model_t model, const double *params,
                               const double *gg_params, const sgs_histories_t *h, const double *x,
                               const double *mean_spend, const sgs_clv_options_t *options,
                               const sgs_clv_customer_scores_t *out, const sgs_exec_t *exec,
                               sgs_error_t *err);

/* Serial reference twin of sgs_clv_score_histories: each history's scores computed on their own
 * (no table of (x, T) pairs), in history order; the same bits and return codes. */
int sgs_clv_score_histories_ref(sgs_purchase_model_t model, const double *params,
                                const sgs_histories_t *h, const sgs_clv_options_t *options,
                                double *p_alive, double *expected, double *prob_no_purchase,
                                double *discounted, sgs_error_t *err);

/* Serial reference twin of sgs_clv_score_customers: each customer's scores computed from its
 * history on their own, in customer order; the same bits and return codes. */
int sgs_clv_score_customers_ref(sgs_purchase_model_t model, const double *params,
                                const double *gg_params, const sgs_histories_t *h, const double *x,
                                const double *mean_spend, const sgs_clv_options_t *options,
                                double *p_alive, double *expected_purchases,
                                double *prob_no_purchase, double *expected_spend, double *clv,
                                sgs_error_t *err);

#endif /* SGS_CLV_H */
