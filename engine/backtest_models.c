/*
 * engine/backtest_models.c — the backtest's models on its cohort (engine/backtest_models.h):
 * fits on the distinct calibration histories, scores per history against the customers'
 * holdout, the choice and the calibration map. Scores are computed per distinct history
 * (customers with the same history share the prediction).
 */
#include "engine/backtest_models.h"

#include "kernels/base_totals.h"
#include "kernels/holdout.h"
#include "kernels/sample.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The candidate models, in the order they are reported. */
static const sgs_purchase_model_t candidates[] = {SGS_MODEL_BGNBD, SGS_MODEL_MBGNBD,
                                                  SGS_MODEL_PARETONBD};

void sgs_backtest_scores_free(sgs_backtest_scores_t *sc)
{
    if (!sc)
        return;
    sgs_histories_free(&sc->h);
    sgs_free(sc->work);
    memset(sc, 0, sizeof *sc);
}

int sgs__backtest_scores_alloc(sgs_backtest_scores_t *sc, size_t nh, double **folds,
                               sgs_error_t *err)
{
    sc->nh = nh;
    sc->work = sgs_alloc_array(nh ? (6 + 2 * SGS_PURCHASE_MODEL_COUNT) * nh : 1, sizeof *sc->work);
    if (!sc->work)
        return sgs_error_set(err, SGS_ENOMEM, "backtest: no memory for %zu histories", nh);
    /* per history: weight, buyers, each model's P(buy) and P(alive), and weight and buyers in
       each of the two folds */
    sc->weight = sc->work;
    sc->bought = sc->work + nh;
    sc->p_buy_of = sc->work + 2 * nh;
    sc->p_alive_of = sc->p_buy_of + SGS_PURCHASE_MODEL_COUNT * nh;
    *folds = sc->p_alive_of + SGS_PURCHASE_MODEL_COUNT * nh;
    return SGS_OK;
}

void sgs_backtest_fold_outcomes(size_t n, const int64_t *customer_id, const uint32_t *history_of,
                                const int32_t *occasions, uint64_t seed, size_t nh, double *weight2,
                                double *bought2)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t key = sgs_sample_key(seed, SGS_BACKTEST_FOLD_STREAM, customer_id[i]);
        size_t at = (size_t)(key >> 63) * nh + history_of[i];
        weight2[at] += 1.0;
        bought2[at] += occasions[i] > 0;
    }
}

/* The processes' agreement on rc (sgs__backtest_models_on), or rc for one process. */
typedef struct agreement {
    sgs_backtest_agree_fn fn;
    void *ctx;
} agreement_t;

static int agreed(const agreement_t *a, int rc, sgs_error_t *err)
{
    return a->fn ? a->fn(a->ctx, rc, err) : rc;
}

/* Score one fitted model on the holdout; p_buy receives P(buy in the holdout) and p_alive
 * P(alive at the calibration end) per history; expected is scratch of nh. */
static int score_model(const sgs_backtest_options_t *o, const sgs_backtest_scores_t *sc,
                       sgs_backtest_customer_errors_fn errors, void *errors_ctx,
                       const agreement_t *agree, sgs_backtest_model_t *bm, double *p_buy,
                       double *p_alive, double *expected, sgs_error_t *err)
{
    const sgs_histories_t *h = &sc->h;
    /* no discounted sum asked for: one expectation per distinct (x, T) (kernels/clv.h) */
    sgs_clv_options_t co = {o->holdout, 1.0, 0.0, 1.0};
    int rc = sgs_clv_score_histories(bm->model, bm->params, h, &co, p_alive, expected, p_buy, NULL,
                                     o->exec, err);
    size_t bad_p = sgs_first_not_finite(h->n_unique, p_buy),
           bad_e = sgs_first_not_finite(h->n_unique, expected), j = bad_p < bad_e ? bad_p : bad_e;
    if (rc == SGS_OK && j < h->n_unique)
        rc = sgs_error_set(err, SGS_ENUMERIC,
                           "a score is not finite for the history x = %g, t_x = %g, T = %g",
                           h->x[j], h->t_x[j], h->T[j]);
    /* P(no purchase) -> P(buy), the model's own (kernels/calibration.h sgs_p_buy), in place */
    if (rc == SGS_OK)
        rc = sgs_p_buy_column(h->n_unique, NULL, NULL, p_buy, o->exec, p_buy, err);
    rc = agreed(agree, rc, err);
    if (rc)
        return rc;
    rc = errors(errors_ctx, expected, bm, err);
    if (rc)
        return rc;
    rc = sgs_reliability(p_buy, sc->weight, sc->bought, h->n_unique, SGS_BACKTEST_BINS, &bm->raw,
                         err);
    rc = agreed(agree, rc, err);
    if (rc)
        return rc;
    bm->brier = bm->raw.brier;
    bm->log_score = bm->raw.log_score;
    return SGS_OK;
}

/* The score the choice compares, and its Brier score beside it (see choose_model). */
static double choice_log_score(const sgs_backtest_t *bt, const sgs_backtest_model_t *bm)
{
    return bt->chosen_by_cross ? bm->cross.log_score : bm->log_score;
}

static double choice_brier(const sgs_backtest_t *bt, const sgs_backtest_model_t *bm)
{
    return bt->chosen_by_cross ? bm->cross.brier : bm->brier;
}

/* The chosen model: the best cross-fitted log score of the calibrated probability when every
 * fitted model has one (what the run publishes is the calibrated p_buy, so that is what is
 * compared), else the best log score of the model's own probability. -1 when none fitted. */
static void choose_model(sgs_backtest_t *bt)
{
    bt->chosen_by_cross = 1;
    for (int j = 0; j < bt->n_models; j++)
        if (bt->models[j].ok && !bt->models[j].cross_ok)
            bt->chosen_by_cross = 0;
    bt->chosen = -1;
    for (int j = 0; j < bt->n_models; j++)
        if (bt->models[j].ok &&
            (bt->chosen < 0 ||
             choice_log_score(bt, &bt->models[j]) > choice_log_score(bt, &bt->models[bt->chosen])))
            bt->chosen = j;
}

/* The rule in words, with the winner's and the runner-up's figures. */
static void describe_choice(sgs_backtest_t *bt)
{
    const sgs_backtest_model_t *win = &bt->models[bt->chosen], *second = NULL;
    for (int j = 0; j < bt->n_models; j++)
        if (j != bt->chosen && bt->models[j].ok &&
            (!second || choice_log_score(bt, &bt->models[j]) > choice_log_score(bt, second)))
            second = &bt->models[j];
    const char *rule = bt->chosen_by_cross
                           ? "best log score of the calibrated probability of buying in the "
                             "holdout, on customers its calibration did not see"
                           : "best log score of \"bought again in the holdout\"";
    if (second)
        snprintf(bt->chosen_because, sizeof bt->chosen_because,
                 "%s (%.4f; runner-up %s %.4f, Brier %.4f against %.4f)", rule,
                 choice_log_score(bt, win), sgs_purchase_model_name(second->model),
                 choice_log_score(bt, second), choice_brier(bt, win), choice_brier(bt, second));
    else
        snprintf(bt->chosen_because, sizeof bt->chosen_because,
                 "the only model fitted (log score %.4f)", choice_log_score(bt, win));
}

int sgs__backtest_models_on(const sgs_backtest_options_t *o, sgs_backtest_scores_t *sc,
                            const double *weight2, const double *bought2,
                            sgs_backtest_customer_errors_fn errors, void *errors_ctx,
                            sgs_backtest_agree_fn agree_fn, void *agree_ctx, sgs_backtest_t *bt,
                            sgs_error_t *err)
{
    const agreement_t agree = {agree_fn, agree_ctx};
    size_t nh = sc->nh;
    double *expected = NULL;
    int rc = SGS_OK;
    bt->chosen = -1;
    expected = sgs_alloc_array(nh ? nh : 1, sizeof *expected);
    rc = agreed(&agree,
                expected
                    ? SGS_OK
                    : sgs_error_set(err, SGS_ENOMEM, "backtest: no memory for %zu histories", nh),
                err);
    if (rc) {
        sgs_free(expected);
        return rc;
    }
    bt->n_models = (int)(sizeof candidates / sizeof candidates[0]);
    for (int j = 0; j < bt->n_models; j++) {
        sgs_backtest_model_t *bm = &bt->models[j];
        bm->model = candidates[j];
        char what[48];
        snprintf(what, sizeof what, "backtest: %s fit", sgs_purchase_model_name(bm->model));
        sgs_fit_watch_t watch;
        sgs_model_fit_options_t fo = o->fit_options(o->fit_options_ctx, what, &watch);
        fo.optim.no_hessian = 1; /* only the point estimates are used */
        sgs_fit_t fit;
        sgs_error_t fit_err = {0};
        int frc = sgs_purchase_model_fit(bm->model, &sc->h, &fo, &fit, o->exec, &fit_err);
        frc = agreed(&agree, frc, &fit_err); /* the same fit everywhere but for memory */
        if (frc == SGS_EINTR) {              /* a signal: its message as it is */
            *err = fit_err;
            rc = frc;
            goto cleanup;
        }
        if (frc == SGS_ENOMEM) {
            rc = sgs_error_set(err, frc, "backtest: %s", fit_err.message);
            goto cleanup;
        }
        if (frc != SGS_OK) {
            snprintf(bm->failure, sizeof bm->failure, "%s", fit_err.message);
            continue;
        }
        memcpy(bm->params, fit.params, sizeof bm->params);
        sgs_error_t score_err = {0};
        if (score_model(o, sc, errors, errors_ctx, &agree, bm, sc->p_buy_of + (size_t)j * nh,
                        sc->p_alive_of + (size_t)j * nh, expected, &score_err) != SGS_OK) {
            snprintf(bm->failure, sizeof bm->failure, "%s", score_err.message);
            continue;
        }
        bm->ok = 1;
        /* a fold the calibration cannot learn from (EDATA) leaves the model's own score to
           decide; anything else is the run's failure */
        sgs_error_t cross_err = {0};
        int crc = sgs_alive_calibration_cross(sc->p_alive_of + (size_t)j * nh,
                                              sc->p_buy_of + (size_t)j * nh, weight2, bought2, nh,
                                              SGS_BACKTEST_BINS, &bm->cross, &cross_err);
        crc = agreed(&agree, crc, &cross_err);
        if (crc != SGS_OK && crc != SGS_EDATA) {
            rc = sgs_error_set(err, crc, "backtest: %s", cross_err.message);
            goto cleanup;
        }
        bm->cross_ok = crc == SGS_OK;
    }
    choose_model(bt);
    if (bt->chosen < 0)
        goto cleanup;
    describe_choice(bt);
    /* The calibration of the model the run uses: the chosen one, or the configured one. */
    bt->used = bt->chosen;
    if (strcmp(o->model, "auto") != 0) {
        bt->used = -1;
        for (int j = 0; j < bt->n_models; j++)
            if (bt->models[j].ok &&
                strcmp(sgs_purchase_model_name(bt->models[j].model), o->model) == 0)
                bt->used = j;
    }
    if (bt->used >= 0) {
        sgs_backtest_model_t *bm = &bt->models[bt->used];
        /* scored in the loop above */
        double *p_buy = sc->p_buy_of + (size_t)bt->used * nh,
               *p_alive = sc->p_alive_of + (size_t)bt->used * nh;
        rc = sgs_alive_calibration_fit(p_alive, p_buy, sc->weight, sc->bought, nh, &bt->calibration,
                                       err);
        if (rc == SGS_OK)
            rc = sgs_calibrated_p_buy_column(nh, &bt->calibration, p_alive, p_buy, o->exec, p_buy,
                                             err);
        if (rc == SGS_OK)
            rc = sgs_reliability(p_buy, sc->weight, sc->bought, nh, SGS_BACKTEST_BINS,
                                 &bm->calibrated, err);
        rc = agreed(&agree, rc, err);
    }
cleanup:
    sgs_free(expected);
    return rc;
}

/* ---- One process ----------------------------------------------------------------------------- */

typedef struct customer_errors {
    const sgs_backtest_cohort_t *co;
    const uint32_t *history_of;
    const sgs_exec_t *exec;
} customer_errors_t;

static int one_process_errors(void *ctx, const double *expected, sgs_backtest_model_t *bm,
                              sgs_error_t *err)
{
    const customer_errors_t *c = ctx;
    sgs_holdout_forecast_error(c->co->n, c->history_of, expected, c->co->occasions, &bm->mae,
                               &bm->total_error);
    sgs_holdout_errors_t by_customer;
    return sgs_holdout_errors(c->co->n, c->history_of, expected, c->co->occasions, c->co->x,
                              SGS_BACKTEST_FREQ_BINS, c->exec, bm->by_frequency_predicted,
                              &by_customer, err);
}

int sgs_backtest_models(const sgs_backtest_cohort_t *co, const sgs_backtest_options_t *o,
                        sgs_backtest_t *bt, sgs_backtest_scores_t *sc, sgs_error_t *err)
{
    memset(sc, 0, sizeof *sc);
    double *folds = NULL;
    int rc = sgs_histories_build(&sc->h, co->x, co->t_x, co->T, NULL, co->n, o->exec, err);
    if (rc == SGS_OK)
        rc = sgs__backtest_scores_alloc(sc, sc->h.n_unique, &folds, err);
    if (rc)
        return rc;
    size_t nh = sc->nh;
    bt->n_scored = co->n;
    int64_t bin_count[SGS_BACKTEST_FREQ_BINS];
    rc = sgs_holdout_actual_by_bin(co->n, co->x, co->occasions, SGS_BACKTEST_FREQ_BINS, (double)NAN,
                                   bin_count, bt->by_frequency_actual, NULL, NULL, err);
    if (rc)
        return rc;
    for (int b = 0; b < SGS_BACKTEST_FREQ_BINS; b++)
        bt->by_frequency_customers[b] = (double)bin_count[b];
    sgs_holdout_history_outcomes(co->n, sc->h.history_of, co->occasions, nh, sc->weight, sc->bought,
                                 &bt->n_bought_again);
    memset(folds, 0, 4 * nh * sizeof *folds);
    sgs_backtest_fold_outcomes(co->n, co->customer_id, sc->h.history_of, co->occasions, o->seed, nh,
                               folds, folds + 2 * nh);
    customer_errors_t ce = {co, sc->h.history_of, o->exec};
    return sgs__backtest_models_on(o, sc, folds, folds + 2 * nh, one_process_errors, &ce, NULL,
                                   NULL, bt, err);
}
