/*
 * kernels/calibration.h — monotone calibration of predicted probabilities: isotonic
 * regression by pool-adjacent-violators, and a reliability table.
 *
 * Isotonic regression (Barlow, Bartholomew, Bremner & Brunk 1972; Zadrozny & Elkan 2002 for
 * calibrating classifier scores): given groups i = 1..n with a score s_i, a weight w_i > 0
 * (observations) and y_i (their summed outcomes, 0 <= y_i <= w_i for 0/1 outcomes), find the
 * non-decreasing step function f of the score minimizing Σ_i w_i (y_i/w_i - f(s_i))². Groups
 * with equal scores are pooled first (a function of the score must give them one value);
 * then adjacent blocks whose means do not increase are pooled until every step rises. The fit is
 * exact, O(n log n) for the sort and O(n) for the pooling.
 *
 * Prediction (as scikit-learn's IsotonicRegression with out_of_bounds="clip"): each block
 * spans [lowest score, highest score] at its mean; between blocks the function is linear
 * between the end of one and the start of the next; outside the fitted scores it is the first
 * or last block's mean. So a new score maps to a value between those of its neighbours, and
 * the map is non-decreasing.
 *
 * Determinism: the fit depends only on the multiset of (score, weight, y) groups, not on
 * their order (ties are pooled, sums taken in sorted order with a total order on the keys).
 * Not parallel: callers calibrate on distinct histories (thousands of groups), not customers;
 * only applying the calibration to every customer (sgs_p_buy_column) is.
 */
#ifndef SGS_CALIBRATION_H
#define SGS_CALIBRATION_H

#include "kernels/core.h"

/* A fitted monotone map: knots ascending in score, values non-decreasing. */
typedef struct sgs_isotonic {
    size_t n_knots;  /* >= 1 after a successful fit */
    double *score;   /* [n_knots] ascending (a block gives one or two knots) */
    double *value;   /* [n_knots] non-decreasing */
    size_t n_blocks; /* pooled blocks (steps) */
} sgs_isotonic_t;

/* Fit the isotonic regression of y/weight on score over n groups (see above). Groups with
 * weight 0 are ignored. prior = 0 gives the exact fit; prior > 0 then replaces each block's
 * mean by (Σy + prior/2) / (Σw + prior) (for 0/1 outcomes and prior = 1, the posterior mean
 * under Jeffreys' Beta(1/2, 1/2) prior), kept non-decreasing, so that no value is 0 or 1 just
 * because a block saw no buyer or only buyers. Allocates the knots (free with
 * sgs_isotonic_free).
 * @return 0; SGS_EDATA when a score is not finite, a weight is negative or not finite, y is not
 *         finite, or no group has weight > 0; SGS_ENOMEM. */
int sgs_isotonic_fit(const double *score, const double *weight, const double *y, size_t n,
                     double prior, sgs_isotonic_t *out, sgs_error_t *err);

/* The calibrated value of a score (see above). Pure; NaN for a NaN score. */
double sgs_isotonic_predict(const sgs_isotonic_t *m, double score);

void sgs_isotonic_free(sgs_isotonic_t *m);

/* ---- Calibrated P(alive) ----------------------------------------------------------------
 *
 * A purchase model's probability of buying within t factors as P(alive) q(t), q(t) the
 * probability of buying within t if alive. The models' q is well determined by the purchases
 * seen; their P(alive) is not (BG/NBD gives every one-time buyer 1, and real bases drift). So
 * the calibration learned on a backtest holdout of length t* is a monotone map A of the
 * model's P(alive) onto a calibrated one, chosen so that A(a_j) q_j(t*) matches the observed
 * share o_j of buyers: least squares Σ w_j (o_j - A(a_j) q_j)² = Σ w_j q_j² (o_j/q_j - A(a_j))²,
 * an isotonic regression of o_j/q_j on a_j with weights w_j q_j² (prior 1 in those units, see
 * sgs_isotonic_fit), clipped to [0, 1]. Being a map of P(alive), it carries to any horizon H:
 * p_buy(H) = min(1, A(a) q(H)). */

/* Fit A over n groups (distinct histories): p_alive a_j, p_buy_model the model's P(buy within
 * the holdout) a_j q_j, weight w_j customers, bought the buyers among them. Groups with
 * a_j q_j = 0 carry no information and are ignored.
 * @return as sgs_isotonic_fit (SGS_EDATA also for a probability outside [0, 1]). */
int sgs_alive_calibration_fit(const double *p_alive, const double *p_buy_model,
                              const double *weight, const double *bought, size_t n,
                              sgs_isotonic_t *out, sgs_error_t *err);

/* The calibrated probability of buying within a horizon: min(1, A(p_alive) q), where
 * q = p_buy_model / p_alive is the model's probability of buying within the horizon if alive
 * (q = 1 when p_alive is 0: nothing is known of q then). Pure; NaN for NaN inputs. */
double sgs_calibrated_p_buy(const sgs_isotonic_t *alive_map, double p_alive, double p_buy_model);

/* A customer's p_buy from the purchase model: its P(buy within the horizon), 1 - prob_no_purchase
 * clamped to [0, 1], calibrated by alive_map (sgs_calibrated_p_buy with the model's p_alive)
 * when alive_map is not NULL, else as it is (p_alive is then not read). The one formula of
 * p_buy: the value step's column and the stages at an earlier day both use it. Pure. */
double sgs_p_buy(const sgs_isotonic_t *alive_map, double p_alive, double prob_no_purchase);

/* p_buy[i] = sgs_p_buy(alive_map, p_alive[i], prob_no_purchase[i]) for i < n (p_alive may be
 * NULL when alive_map is). Parallel over customers; each value is a pure function of its
 * inputs, the same bits for any thread count. @return 0 or SGS_EINVAL (NULL array). */
int sgs_p_buy_column(size_t n, const sgs_isotonic_t *alive_map, const double *p_alive,
                     const double *prob_no_purchase, const sgs_exec_t *exec, double *p_buy,
                     sgs_error_t *err);

/* Serial reference twin of sgs_p_buy_column. */
int sgs_p_buy_column_ref(size_t n, const sgs_isotonic_t *alive_map, const double *p_alive,
                         const double *prob_no_purchase, double *p_buy, sgs_error_t *err);

/* p_buy[i] = sgs_calibrated_p_buy(alive_map, p_alive[i], p_buy_model[i]) for i < n: the
 * calibrated probabilities of a column of histories (the backtest's). p_buy may be p_buy_model
 * (calibrated in place); otherwise the arrays must not overlap. Parallel over rows; each value
 * is a pure function of its inputs, the same bits for any thread count. NaN in, NaN out.
 * @return 0 or SGS_EINVAL (a NULL array with n > 0, or no map). */
int sgs_calibrated_p_buy_column(size_t n, const sgs_isotonic_t *alive_map, const double *p_alive,
                                const double *p_buy_model, const sgs_exec_t *exec, double *p_buy,
                                sgs_error_t *err);

/* Serial reference twin of sgs_calibrated_p_buy_column. */
int sgs_calibrated_p_buy_column_ref(size_t n, const sgs_isotonic_t *alive_map,
                                    const double *p_alive, const double *p_buy_model, double *p_buy,
                                    sgs_error_t *err);

#define SGS_RELIABILITY_MAX_BINS 20

/* A reliability table and the scores of a set of probabilities against 0/1 outcomes. */
typedef struct sgs_reliability {
    int n_bins;                                 /* as asked, 1..SGS_RELIABILITY_MAX_BINS */
    double weight[SGS_RELIABILITY_MAX_BINS];    /* observations per bin */
    double predicted[SGS_RELIABILITY_MAX_BINS]; /* mean p in the bin; NaN when empty */
    double observed[SGS_RELIABILITY_MAX_BINS];  /* mean outcome in the bin; NaN when empty */
    double brier;                               /* mean (outcome - p)^2 */
    double log_score;                           /* mean ln P(outcome), p clipped to 1e-12 */
    double max_gap;                             /* max |predicted - observed|, non-empty bins */
} sgs_reliability_t;

/* Reliability of predictions p_i for groups of weight w_i (observations) with y_i of them
 * positive: the groups sorted by p are cut into n_bins bins of as nearly equal weight as
 * whole groups allow (a group goes to the bin that holds the middle of its weight), and each
 * bin gets its weight, mean prediction and observed share. Brier score
 * Σ (y_i (1 - p_i)² + (w_i - y_i) p_i²) / Σ w_i; log score
 * Σ (y_i ln p_i + (w_i - y_i) ln(1 - p_i)) / Σ w_i. Groups with weight 0 are ignored.
 * Deterministic for the same multiset of groups. Allocates scratch (n indices).
 * @return 0; SGS_EDATA (p outside [0, 1], weight or y negative or not finite, no weight);
 *         SGS_EINVAL (n_bins out of range); SGS_ENOMEM. */
int sgs_reliability(const double *p, const double *weight, const double *y, size_t n, int n_bins,
                    sgs_reliability_t *out, sgs_error_t *err);

/* The calibrated probability scored on customers it was not learned from (cross-fitting in two
 * folds): the customers of every group are split in two halves, given per group as
 * weight2[0..n) / bought2[0..n) (half 0) and weight2[n..2n) / bought2[n..2n) (half 1). The map
 * A fitted on each half (sgs_alive_calibration_fit) calibrates the other half's groups, and
 * out is the reliability (sgs_reliability, n_bins) of those 2n predictions. This is how well
 * the published probability does on customers the calibration has not seen, which the
 * in-sample table cannot say (the isotonic map fits its own data). Allocates the 2n
 * predictions, and beside them one half's fit at a time (sgs_alive_calibration_fit's scratch
 * and map). @return 0; as sgs_alive_calibration_fit (SGS_EDATA too when a half has no
 * informative group: none with weight > 0 and P(buy) > 0); as sgs_reliability (SGS_EINVAL
 * for n_bins out of range); SGS_ENOMEM. */
int sgs_alive_calibration_cross(const double *p_alive, const double *p_buy_model,
                                const double *weight2, const double *bought2, size_t n, int n_bins,
                                sgs_reliability_t *out, sgs_error_t *err);

#endif /* SGS_CALIBRATION_H */
