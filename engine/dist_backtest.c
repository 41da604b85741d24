/*
 * engine/dist_backtest.c — the backtest's models over a cohort spread across processes
 * (engine/dist_backtest.h).
 */
#include "engine/dist_backtest.h"

#include "engine/dist_blocks.h"
#include "engine/dist_gammagamma.h"
#include "engine/dist_histories.h"
#include "kernels/holdout.h"

#include <math.h>
#include <string.h>

/* (x, t_x, T) of history a of table ha against history b of hb: -1, 0, 1 (the tables' order). */
static int cmp_history(const sgs_histories_t *ha, size_t a, const sgs_histories_t *hb, size_t b)
{
    const double ka[3] = {ha->x[a], ha->t_x[a], ha->T[a]}, kb[3] = {hb->x[b], hb->t_x[b], hb->T[b]};
    for (int f = 0; f < 3; f++)
        if (ka[f] != kb[f])
            return ka[f] < kb[f] ? -1 : 1;
    return 0;
}

/* The forecast error's serial sums over customers in order (kernels/holdout.c
 * sgs_holdout_forecast_error), continued on each process in turn. */
typedef struct forecast {
    const sgs_backtest_cohort_t *co;
    const uint32_t *history_of;
    const double *expected;
} forecast_t;

static void forecast_step(double *state, void *ctx)
{
    const forecast_t *f = ctx;
    double abs_sum = state[0], predicted = state[1], total = state[2];
    for (size_t i = 0; i < f->co->n; i++) {
        double e = f->expected[f->history_of[i]];
        abs_sum += fabs(e - f->co->occasions[i]);
        predicted += e;
        total += f->co->occasions[i];
    }
    state[0] = abs_sum;
    state[1] = predicted;
    state[2] = total;
}

typedef struct dist_errors {
    const sgs_dist_t *d;
    const sgs_backtest_cohort_t *co;
    const uint32_t *history_of;
    uint64_t n_all;
    /* the cohort's customers realigned into whole blocks of the cohort's order
       (engine/dist_blocks.h): each one's history and calibration-frequency bin */
    size_t n_rows;
    const uint32_t *row_history;
    const uint8_t *row_bin;
    const int64_t *n_bin; /* customers per bin, every process's */
    double *part;         /* blocks x SGS_BACKTEST_FREQ_BINS */
} dist_errors_t;

/* The mean expected purchases per calibration-frequency bin as kernels/holdout.c
 * sgs_holdout_errors makes it: Σ E per bin within each block in row order, the blocks added in
 * block order, divided by the bin's customers (0 for an empty bin). */
static int by_frequency_predicted(const dist_errors_t *c, const double *expected, double *out,
                                  sgs_error_t *err)
{
    size_t nb = sgs_block_count(c->n_rows, SGS_BLOCK_ROWS);
    for (size_t b = 0; b < nb; b++) {
        double pred[SGS_BACKTEST_FREQ_BINS] = {0};
        size_t end = (b + 1) * SGS_BLOCK_ROWS < c->n_rows ? (b + 1) * SGS_BLOCK_ROWS : c->n_rows;
        for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++)
            pred[c->row_bin[i]] += expected[c->row_history[i]];
        memcpy(c->part + b * SGS_BACKTEST_FREQ_BINS, pred, sizeof pred);
    }
    double tot[SGS_BACKTEST_FREQ_BINS];
    int rc = sgs_dist_blocks_sum(c->d, c->part, nb, SGS_BACKTEST_FREQ_BINS, tot, err);
    if (rc)
        return rc;
    for (int j = 0; j < SGS_BACKTEST_FREQ_BINS; j++)
        out[j] = c->n_bin[j] > 0 ? tot[j] / (double)c->n_bin[j] : 0.0;
    return SGS_OK;
}

/* sgs__backtest_models_on's agreement: the processes of d. */
static int agree_on(void *ctx, int rc, sgs_error_t *err)
{
    return sgs_dist_agree(ctx, rc, err);
}

static int dist_errors(void *ctx, const double *expected, sgs_backtest_model_t *bm,
                       sgs_error_t *err)
{
    const dist_errors_t *c = ctx;
    forecast_t f = {c->co, c->history_of, expected};
    double state[3] = {0.0, 0.0, 0.0};
    sgs_dist_chain(c->d, state, 3, forecast_step, &f);
    bm->mae = state[0] / (double)c->n_all;
    bm->total_error = state[2] > 0 ? (state[1] - state[2]) / state[2] : (double)NAN;
    return by_frequency_predicted(c, expected, bm->by_frequency_predicted, err);
}

int sgs_dist_backtest_models(const sgs_dist_t *d, const sgs_backtest_cohort_t *co,
                             const sgs_backtest_options_t *o, sgs_backtest_t *bt,
                             sgs_backtest_scores_t *sc, sgs_error_t *err)
{
    memset(sc, 0, sizeof *sc);
    sgs_histories_t mine = {0};
    uint32_t *history_of = NULL, *map = NULL, *row_history = NULL;
    uint8_t *row_bin = NULL;
    uint64_t *moved = NULL;
    int64_t *counts = NULL;
    double *part = NULL;
    sgs_dist_align_t al = {0};
    double *folds = NULL;
    int rc = sgs_histories_build(&mine, co->x, co->t_x, co->T, NULL, co->n, o->exec, err);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK)
        rc = sgs_dist_histories_merge(d, o->exec, &mine, &sc->h, err);
    if (rc)
        goto cleanup;
    size_t nh = sc->h.n_unique, n = co->n;
    rc = sgs__backtest_scores_alloc(sc, nh, &folds, err);
    history_of = sgs_alloc_array(n ? n : 1, sizeof *history_of);
    map = sgs_alloc_array(mine.n_unique ? mine.n_unique : 1, sizeof *map);
    counts = sgs_alloc_array(nh ? 6 * nh : 1, sizeof *counts);
    if (rc == SGS_OK && (!history_of || !map || !counts))
        rc = sgs_error_set(err, SGS_ENOMEM, "backtest: no memory for %zu histories", nh);
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    /* Each of this process's histories in the merged table: both ascending, one walk. */
    for (size_t k = 0, j = 0; k < mine.n_unique; k++) {
        while (cmp_history(&sc->h, j, &mine, k) < 0)
            j++;
        map[k] = (uint32_t)j;
    }
    for (size_t i = 0; i < n; i++)
        history_of[i] = map[mine.history_of[i]];
    /* The counts per history and per fold, summed over the processes (integers, exact). */
    memset(folds, 0, 4 * nh * sizeof *folds);
    size_t bought_here = 0;
    sgs_holdout_history_outcomes(n, history_of, co->occasions, nh, sc->weight, sc->bought,
                                 &bought_here);
    sgs_backtest_fold_outcomes(n, co->customer_id, history_of, co->occasions, o->seed, nh, folds,
                               folds + 2 * nh);
    for (size_t k = 0; k < nh; k++) {
        counts[k] = (int64_t)sc->weight[k];
        counts[nh + k] = (int64_t)sc->bought[k];
    }
    for (size_t k = 0; k < 4 * nh; k++)
        counts[2 * nh + k] = (int64_t)folds[k];
    sgs_dist_reduce_i64(d, counts, 6 * nh, SGS_DIST_SUM);
    int64_t n_all = (int64_t)n, n_bought = 0;
    for (size_t k = 0; k < nh; k++) {
        sc->weight[k] = (double)counts[k];
        sc->bought[k] = (double)counts[nh + k];
        n_bought += counts[nh + k];
    }
    for (size_t k = 0; k < 4 * nh; k++)
        folds[k] = (double)counts[2 * nh + k];
    sgs_dist_reduce_i64(d, &n_all, 1, SGS_DIST_SUM);
    bt->n_scored = (size_t)n_all;
    bt->n_bought_again = (size_t)n_bought;
    /* By calibration-frequency bin: customers and their holdout occasions (integers, exact;
       kernels/holdout.h sgs_holdout_actual_by_bin), then the customers realigned for the
       predicted means' block sums. */
    int64_t by_bin[2 * SGS_BACKTEST_FREQ_BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        int b = sgs_holdout_bin(co->x[i], SGS_BACKTEST_FREQ_BINS);
        by_bin[b]++;
        by_bin[SGS_BACKTEST_FREQ_BINS + b] += co->occasions[i];
    }
    sgs_dist_reduce_i64(d, by_bin, 2 * SGS_BACKTEST_FREQ_BINS, SGS_DIST_SUM);
    for (int b = 0; b < SGS_BACKTEST_FREQ_BINS; b++) {
        bt->by_frequency_customers[b] = (double)by_bin[b];
        bt->by_frequency_actual[b] =
            by_bin[b] > 0 ? (double)by_bin[SGS_BACKTEST_FREQ_BINS + b] / (double)by_bin[b]
                          : (double)NAN;
    }
    uint64_t *packed = sgs_alloc_array(n ? n : 1, sizeof *packed);
    rc = packed ? SGS_OK
                : sgs_error_set(err, SGS_ENOMEM, "backtest: no memory for %zu customers", n);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK) {
        for (size_t i = 0; i < n; i++) /* history, then bin in the top byte */
            packed[i] = (uint64_t)history_of[i] |
                        (uint64_t)sgs_holdout_bin(co->x[i], SGS_BACKTEST_FREQ_BINS) << 56;
        rc = sgs_dist_align_init(d, n, &al, err);
    }
    if (rc == SGS_OK)
        rc = sgs_dist_align_move(d, &al, packed, 1, 0, (void **)&moved, err);
    sgs_free(packed);
    if (rc)
        goto cleanup;
    size_t nr = al.n, nbr = sgs_block_count(nr, SGS_BLOCK_ROWS);
    row_history = sgs_alloc_array(nr ? nr : 1, sizeof *row_history);
    row_bin = sgs_alloc_array(nr ? nr : 1, sizeof *row_bin);
    part = sgs_alloc_array(nbr ? nbr * SGS_BACKTEST_FREQ_BINS : 1, sizeof *part);
    rc = row_history && row_bin && part
             ? SGS_OK
             : sgs_error_set(err, SGS_ENOMEM, "backtest: no memory for %zu customers", nr);
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    for (size_t i = 0; i < nr; i++) {
        row_history[i] = (uint32_t)(moved[i] & UINT32_MAX);
        row_bin[i] = (uint8_t)(moved[i] >> 56);
    }
    /* The table keeps this process's customers' histories. */
    sgs_free(sc->h.history_of);
    sc->h.history_of = history_of;
    history_of = NULL;
    dist_errors_t de = {d,      co,  sc->h.history_of, (uint64_t)n_all, nr, row_history, row_bin,
                        by_bin, part};
    rc = sgs__backtest_models_on(o, sc, folds, folds + 2 * nh, dist_errors, &de, agree_on,
                                 (void *)d, bt, err);
    rc = sgs_dist_agree(d, rc, err);
cleanup:
    sgs_histories_free(&mine);
    sgs_free(history_of);
    sgs_free(map);
    sgs_free(counts);
    sgs_free(moved);
    sgs_free(row_history);
    sgs_free(row_bin);
    sgs_free(part);
    sgs_dist_align_free(&al);
    if (rc)
        sgs_backtest_scores_free(sc);
    return rc;
}

/* ---- The spend check ---------------------------------------------------------------------- */

typedef struct spend_error {
    const double *params, *x, *m, *spend;
    const int32_t *occasions;
    size_t n;
} spend_error_t;

/* kernels/holdout.c sgs_holdout_spend_error's loop, continued: abs_sum, predicted, total,
 * customers used (a count below 2^53, exact in a double). */
static void spend_step(double *state, void *ctx)
{
    const spend_error_t *c = ctx;
    double abs_sum = state[0], predicted = state[1], total = state[2], used = state[3];
    for (size_t i = 0; i < c->n; i++) {
        if (c->occasions[i] <= 0 || !(c->spend[i] > 0.0))
            continue;
        double e = sgs_gg_expected_spend(c->params, c->x[i], c->m[i]);
        double per_occasion = c->spend[i] / c->occasions[i];
        abs_sum += fabs(e - per_occasion);
        predicted += e * c->occasions[i];
        total += c->spend[i];
        used += 1.0;
    }
    state[0] = abs_sum;
    state[1] = predicted;
    state[2] = total;
    state[3] = used;
}

void sgs_dist_backtest_spend(const sgs_dist_t *d, const double *x, const double *m,
                             const int32_t *occasions, const double *spend, size_t n,
                             const sgs_model_fit_options_t *options, const sgs_exec_t *exec,
                             sgs_backtest_t *bt)
{
    sgs_model_fit_options_t o = options ? *options : sgs_model_fit_default_options();
    o.optim.no_hessian = 1;
    sgs_fit_t fit;
    sgs_error_t err = {0};
    if (sgs_dist_gg_fit(d, x, m, n, &o, &fit, NULL, exec, &err) != SGS_OK ||
        !(fit.params[1] > 1.0)) /* the same on every process */
        return;
    spend_error_t c = {fit.params, x, m, spend, occasions, n};
    double state[4] = {0.0, 0.0, 0.0, 0.0};
    sgs_dist_chain(d, state, 4, spend_step, &c);
    if (state[3] == 0.0)
        return;
    bt->spend_ok = 1;
    bt->n_spend = (size_t)state[3];
    bt->spend_mae = state[0] / state[3];
    bt->spend_total_error = (state[1] - state[2]) / state[2];
}

/* ---- The tracking curve ------------------------------------------------------------------- */

int sgs_dist_backtest_tracking(const sgs_dist_t *d, const sgs_tracking_cohort_t *co,
                               int32_t cal_end, int32_t as_of, double days_per_unit, int j,
                               const sgs_exec_t *exec, sgs_backtest_t *bt, sgs_error_t *err)
{
    /* the first first-purchase day of every process's cohort, and whether any has one */
    int64_t v[2] = {sgs_day_min(co->n, co->first_day, cal_end), co->n == 0};
    sgs_dist_reduce_i64(d, v, 2, SGS_DIST_MIN);
    if (v[1] || as_of <= cal_end)
        return SGS_OK;
    sgs_tracking_days_t t;
    sgs_tracking_days_init((int32_t)v[0], cal_end, as_of, &t);
    size_t m = t.n_days + t.n_births; /* per day, then per first-purchase day */
    int64_t *counts = sgs_alloc_array(m, sizeof *counts);
    int rc = counts ? SGS_OK
                    : sgs_error_set(err, SGS_ENOMEM,
                                    "backtest: no memory for the tracking of %zu days", t.n_days);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK)
        rc = sgs_dist_agree(d, sgs_tracking_counts(co, &t, exec, counts, counts + t.n_days, err),
                            err);
    if (rc == SGS_OK) {
        sgs_dist_reduce_i64(d, counts, m, SGS_DIST_SUM); /* integers: exact */
        rc = sgs_tracking_curve(&t, counts, counts + t.n_days, days_per_unit, j, exec, bt, err);
        rc = sgs_dist_agree(d, rc, err);
    }
    if (rc)
        bt->n_tracking = 0;
    sgs_free(counts);
    return rc;
}
