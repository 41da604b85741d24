/*
 * kernels/clv.c — model dispatch and per-history / per-customer value scores. See clv.h.
 */
#include "kernels/clv.h"

#include "kernels/calibration.h"
#include "kernels/gammagamma.h"
#include "kernels/mbgnbd.h"
#include "kernels/paretonbd.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- Model dispatch ------------------------------------------------------------------------ */

typedef struct model_ops {
    const char *name;
    const char *const params[4];
    int (*fit)(const sgs_histories_t *, const sgs_model_fit_options_t *, sgs_fit_t *,
               const sgs_exec_t *, sgs_error_t *);
    double (*p_alive)(const double *, double, double, double);
    double (*expected)(const double *, double, double, double, double);
    double (*expected_new)(const double *, double);
    double (*no_purchase)(const double *, double, double, double, double);
    double (*expected_if_alive)(const double *, double, double, double);
    double (*no_purchase_if_alive)(const double *, double, double, double);
} model_ops_t;

static const model_ops_t models[SGS_PURCHASE_MODEL_COUNT] = {
    [SGS_MODEL_BGNBD] = {"bgnbd",
                         {"r", "alpha", "a", "b"},
                         sgs_bgnbd_fit,
                         sgs_bgnbd_p_alive,
                         sgs_bgnbd_expected,
                         sgs_bgnbd_expected_new,
                         sgs_bgnbd_prob_no_purchase,
                         sgs_bgnbd_expected_if_alive,
                         sgs_bgnbd_prob_no_purchase_if_alive},
    [SGS_MODEL_PARETONBD] = {"paretonbd",
                             {"r", "alpha", "s", "beta"},
                             sgs_paretonbd_fit,
                             sgs_paretonbd_p_alive,
                             sgs_paretonbd_expected,
                             sgs_paretonbd_expected_new,
                             sgs_paretonbd_prob_no_purchase,
                             sgs_paretonbd_expected_if_alive,
                             sgs_paretonbd_prob_no_purchase_if_alive},
    [SGS_MODEL_MBGNBD] = {"mbgnbd",
                          {"r", "alpha", "a", "b"},
                          sgs_mbgnbd_fit,
                          sgs_mbgnbd_p_alive,
                          sgs_mbgnbd_expected,
                          sgs_mbgnbd_expected_new,
                          sgs_mbgnbd_prob_no_purchase,
                          sgs_mbgnbd_expected_if_alive,
                          sgs_mbgnbd_prob_no_purchase_if_alive},
};

static const model_ops_t *ops_of(sgs_purchase_model_t model)
{
    return (unsigned)model < SGS_PURCHASE_MODEL_COUNT ? &models[model] : NULL;
}

const char *sgs_purchase_model_name(sgs_purchase_model_t model)
{
    const model_ops_t *o = ops_of(model);
    return o ? o->name : NULL;
}

int sgs_purchase_model_parse(const char *name, sgs_purchase_model_t *model, sgs_error_t *err)
{
    for (int k = 0; k < SGS_PURCHASE_MODEL_COUNT; k++)
        if (name && strcmp(name, models[k].name) == 0) {
            *model = (sgs_purchase_model_t)k;
            return SGS_OK;
        }
    return sgs_error_set(err, SGS_ECONFIG,
                         "unknown model '%s' (expected bgnbd, paretonbd or mbgnbd)",
                         name ? name : "(null)");
}

const char *const *sgs_purchase_model_param_names(sgs_purchase_model_t model)
{
    const model_ops_t *o = ops_of(model);
    return o ? o->params : NULL;
}

int sgs_purchase_model_fit(sgs_purchase_model_t model, const sgs_histories_t *h,
                           const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                           const sgs_exec_t *exec, sgs_error_t *err)
{
    const model_ops_t *o = ops_of(model);
    if (!o)
        return sgs_error_set(err, SGS_EINVAL, "unknown purchase model %d", (int)model);
    return o->fit(h, options, fit, exec, err);
}

sgs_clv_options_t sgs_clv_options_default(void)
{
    return (sgs_clv_options_t){.horizon = 365.0,
                               .units_per_month = SGS_CLV_DAYS_PER_MONTH,
                               .annual_discount = 0.1,
                               .margin = 1.0};
}

double sgs_purchase_p_alive(sgs_purchase_model_t model, const double *params, double x, double t_x,
                            double T)
{
    const model_ops_t *o = ops_of(model);
    return o ? o->p_alive(params, x, t_x, T) : (double)NAN;
}

double sgs_purchase_expected(sgs_purchase_model_t model, const double *params, double t, double x,
                             double t_x, double T)
{
    const model_ops_t *o = ops_of(model);
    return o ? o->expected(params, t, x, t_x, T) : (double)NAN;
}

double sgs_purchase_expected_new(sgs_purchase_model_t model, const double *params, double t)
{
    const model_ops_t *o = ops_of(model);
    return o ? o->expected_new(params, t) : (double)NAN;
}

double sgs_purchase_prob_no_purchase(sgs_purchase_model_t model, const double *params, double t,
                                     double x, double t_x, double T)
{
    const model_ops_t *o = ops_of(model);
    return o ? o->no_purchase(params, t, x, t_x, T) : (double)NAN;
}

/* ---- Scores -------------------------------------------------------------------------------- */

static int check_inputs(const model_ops_t *o, const double *params, const sgs_clv_options_t *opt,
                        sgs_error_t *err)
{
    if (!o)
        return sgs_error_set(err, SGS_EINVAL, "clv: unknown purchase model");
    for (int j = 0; j < 4; j++)
        if (!(params[j] > 0.0) || !isfinite(params[j]))
            return sgs_error_set(err, SGS_EINVAL,
                                 "clv: %s parameter %s = %g must be finite and > 0", o->name,
                                 o->params[j], params[j]);
    if (!opt || !(opt->horizon >= 0.0) || !isfinite(opt->horizon) ||
        !(opt->units_per_month > 0.0) || !isfinite(opt->units_per_month) ||
        !(opt->annual_discount >= 0.0) || !isfinite(opt->annual_discount) || !isfinite(opt->margin))
        return sgs_error_set(err, SGS_EINVAL,
                             "clv: horizon >= 0, units per month > 0, annual discount >= 0 and a "
                             "finite margin are required");
    return SGS_OK;
}

/* E[Y(H)|alive], P(no purchase in H | alive) and, when with_discounted, the discounted monthly
 * sum of E[Y|alive] (else out[2] = 0). The sum costs one expectation per month of the horizon;
 * without it E[Y(H)|alive] is evaluated once, at H. */
static void pair_scores(const model_ops_t *o, const double *params, const sgs_clv_options_t *opt,
                        int with_discounted, double x, double T, double out[3])
{
    double H = opt->horizon, u = opt->units_per_month;
    double log_disc = log1p(opt->annual_discount) / (12.0 * u); /* per time unit */
    double prev = 0.0, sum = 0.0;
    if (H > 0.0 && !with_discounted) {
        prev = o->expected_if_alive(params, H, x, T);
    } else if (H > 0.0) {
        double steps = ceil(H / u);
        for (double k = 1.0; k <= steps; k += 1.0) {
            double tau = k * u < H ? k * u : H;
            double e = o->expected_if_alive(params, tau, x, T);
            sum += (e - prev) * exp(-tau * log_disc);
            prev = e;
        }
    }
    out[0] = prev; /* E[Y(H) | alive] */
    out[1] = o->no_purchase_if_alive(params, H, x, T);
    out[2] = sum;
}

#define PAIR_UNUSED 0
#define PAIR_USED 1

/* History i's outputs from its (x, T) scores ps and the model's P(alive): each output that
 * is asked for (not NULL), at index i * stride (1 for columns; interleaved records else). */
static void put_scores(const double *ps, double pa, size_t i, size_t stride, double *p_alive,
                       double *expected, double *prob_no_purchase, double *discounted)
{
    i *= stride;
    if (p_alive)
        p_alive[i] = pa;
    if (expected)
        expected[i] = ps[0] * pa;
    if (prob_no_purchase)
        prob_no_purchase[i] = 1.0 - pa * (1.0 - ps[1]);
    if (discounted)
        discounted[i] = ps[2] * pa;
}

/* sgs_clv_score_histories after its checks, each output at index i * stride. */
static int score_histories(const model_ops_t *o, const double *params, const sgs_histories_t *h,
                           const sgs_clv_options_t *options, size_t stride, double *p_alive,
                           double *expected, double *prob_no_purchase, double *discounted,
                           const sgs_exec_t *exec, sgs_error_t *err)
{
    size_t n = h->n_unique, n_T = h->n_T_values;
    int nt = sgs_exec_threads_for(exec, n);
    /* one table entry per (x, T) pair when the dense table is not much larger than n */
    size_t n_pairs = 0;
    int dense = sgs_size_mul(h->n_x_values, n_T, &n_pairs) == SGS_OK &&
                n_pairs <= (4 * n > 65536 ? 4 * n : 65536);
    double *pair = NULL;
    uint8_t *used = NULL;
    if (dense) {
        pair = sgs_alloc_array(n_pairs, 3 * sizeof *pair);
        used = sgs_calloc_array(n_pairs, sizeof *used);
        if (!pair || !used) {
            sgs_free(pair);
            sgs_free(used);
            return sgs_error_set(err, SGS_ENOMEM, "clv: out of memory for %zu (x, T) pairs",
                                 n_pairs);
        }
        for (size_t i = 0; i < n; i++)
            used[(size_t)h->x_id[i] * n_T + h->T_id[i]] = PAIR_USED;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 64)
        for (size_t k = 0; k < n_pairs; k++)
            if (used[k] == PAIR_USED)
                pair_scores(o, params, options, discounted != NULL, h->x_values[k / n_T],
                            h->T_values[k % n_T], pair + 3 * k);
    }
    size_t n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
        for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++) {
            double local[3];
            const double *ps = local;
            if (dense)
                ps = pair + 3 * ((size_t)h->x_id[i] * n_T + h->T_id[i]);
            else
                pair_scores(o, params, options, discounted != NULL, h->x[i], h->T[i], local);
            double pa = o->p_alive(params, h->x[i], h->t_x[i], h->T[i]);
            put_scores(ps, pa, i, stride, p_alive, expected, prob_no_purchase, discounted);
        }
    }
    sgs_free(pair);
    sgs_free(used);
    return SGS_OK;
}

int sgs_clv_score_histories(sgs_purchase_model_t model, const double *params,
                            const sgs_histories_t *h, const sgs_clv_options_t *options,
                            double *p_alive, double *expected, double *prob_no_purchase,
                            double *discounted, const sgs_exec_t *exec, sgs_error_t *err)
{
    const model_ops_t *o = ops_of(model);
    int rc = check_inputs(o, params, options, err);
    if (rc)
        return rc;
    return score_histories(o, params, h, options, 1, p_alive, expected, prob_no_purchase,
                           discounted, exec, err);
}

/* The inputs of expected spend and CLV: the Gamma-Gamma parameters (q > 1), x, mean spend. */
static int check_spend_inputs(const double *gg_params, const double *x, const double *mean_spend,
                              sgs_error_t *err)
{
    if (!gg_params || !x || !mean_spend)
        return sgs_error_set(err, SGS_EINVAL,
                             "clv: spend needs the Gamma-Gamma parameters, x and mean spend");
    for (int j = 0; j < 3; j++)
        if (!(gg_params[j] > 0.0) || !isfinite(gg_params[j]))
            return sgs_error_set(err, SGS_EINVAL,
                                 "clv: Gamma-Gamma parameters must be finite and > 0");
    if (!(gg_params[1] > 1.0))
        return sgs_error_set(err, SGS_EDATA,
                             "clv: Gamma-Gamma q = %g <= 1: the mean spend per transaction is "
                             "infinite; expected spend and CLV are undefined",
                             gg_params[1]);
    return SGS_OK;
}

/* The checks of the per-customer scores and their twin: the model's inputs, and the spend
 * model's when spend or CLV is asked for. */
static int check_customer_inputs(const model_ops_t *o, const double *params,
                                 const double *gg_params, const double *x, const double *mean_spend,
                                 const sgs_clv_options_t *options, int need_spend, sgs_error_t *err)
{
    int rc = check_inputs(o, params, options, err);
    if (rc == SGS_OK && need_spend)
        rc = check_spend_inputs(gg_params, x, mean_spend, err);
    return rc;
}

/* A history's scores, side by side: each customer reads its history's in one place (the
 * histories are far too many for the cache, and a customer's history is anywhere). */
enum { R_PA, R_EX, R_NP, R_DISC, R_PBUY, R_COUNT };
#define RECORD_AHEAD 32 /* customers between the prefetch of a history's record and its use */

int sgs_clv_score_customers(sgs_purchase_model_t model, const double *params,
                            const double *gg_params, const sgs_histories_t *h, const double *x,
                            const double *mean_spend, const sgs_clv_options_t *options,
                            double *p_alive, double *expected_purchases, double *prob_no_purchase,
                            double *expected_spend, double *clv, const sgs_exec_t *exec,
                            sgs_error_t *err)
{
    sgs_clv_customer_scores_t out = {
        p_alive, expected_purchases, prob_no_purchase, expected_spend, clv, NULL, NULL};
    return sgs_clv_score_customers_to(model, params, gg_params, h, x, mean_spend, options, &out,
                                      exec, err);
}

int sgs_clv_score_customers_to(sgs_purchase_model_t model, const double *params,
                               const double *gg_params, const sgs_histories_t *h, const double *x,
                               const double *mean_spend, const sgs_clv_options_t *options,
                               const sgs_clv_customer_scores_t *out, const sgs_exec_t *exec,
                               sgs_error_t *err)
{
    const model_ops_t *o = ops_of(model);
    double *p_alive = out->p_alive, *expected_purchases = out->expected_purchases;
    double *prob_no_purchase = out->prob_no_purchase, *expected_spend = out->expected_spend;
    double *clv = out->clv, *p_buy = out->p_buy;
    const sgs_isotonic_t *alive_map = out->alive_map;
    int need_spend = expected_spend || clv;
    int rc = check_customer_inputs(o, params, gg_params, x, mean_spend, options, need_spend, err);
    if (rc)
        return rc;
    size_t m = h->n_unique, n = h->n_customers;
    double *rec = sgs_alloc_array(m, R_COUNT * sizeof *rec);
    if (!rec)
        return sgs_error_set(err, SGS_ENOMEM, "clv: out of memory for %zu histories", m);
    rc = score_histories(o, params, h, options, R_COUNT, rec + R_PA, rec + R_EX, rec + R_NP,
                         rec + R_DISC, exec, err);
    if (rc) {
        sgs_free(rec);
        return rc;
    }
    if (p_buy) { /* sgs_p_buy of the history's P(alive) and P(no purchase), as the customer's */
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, m)) schedule(static)
        for (size_t j = 0; j < m; j++) {
            double *r = rec + R_COUNT * j;
            r[R_PBUY] = sgs_p_buy(alive_map, alive_map ? r[R_PA] : (double)NAN, r[R_NP]);
        }
    }
    int nt = sgs_exec_threads_for(exec, n);
    double margin = options->margin;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t i = 0; i < n; i++) {
        if (i + RECORD_AHEAD < n) { /* a record may straddle two cache lines */
            const double *ahead = rec + R_COUNT * (size_t)h->history_of[i + RECORD_AHEAD];
            __builtin_prefetch(ahead);
            __builtin_prefetch(ahead + R_COUNT - 1);
        }
        const double *r = rec + R_COUNT * (size_t)h->history_of[i];
        if (p_alive)
            p_alive[i] = r[R_PA];
        if (expected_purchases)
            expected_purchases[i] = r[R_EX];
        if (prob_no_purchase)
            prob_no_purchase[i] = r[R_NP];
        if (p_buy)
            p_buy[i] = r[R_PBUY];
        if (need_spend) {
            double s = sgs_gg_expected_spend(gg_params, x[i], mean_spend[i]);
            if (expected_spend)
                expected_spend[i] = s;
            if (clv)
                clv[i] = margin * s * r[R_DISC];
        }
    }
    sgs_free(rec);
    return SGS_OK;
}

/* ---- Serial reference twins --------------------------------------------------------- */

int sgs_clv_score_histories_ref(sgs_purchase_model_t model, const double *params,
                                const sgs_histories_t *h, const sgs_clv_options_t *options,
                                double *p_alive, double *expected, double *prob_no_purchase,
                                double *discounted, sgs_error_t *err)
{
    const model_ops_t *o = ops_of(model);
    int rc = check_inputs(o, params, options, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < h->n_unique; i++) {
        double ps[3];
        pair_scores(o, params, options, discounted != NULL, h->x[i], h->T[i], ps);
        double pa = o->p_alive(params, h->x[i], h->t_x[i], h->T[i]);
        put_scores(ps, pa, i, 1, p_alive, expected, prob_no_purchase, discounted);
    }
    return SGS_OK;
}

int sgs_clv_score_customers_ref(sgs_purchase_model_t model, const double *params,
                                const double *gg_params, const sgs_histories_t *h, const double *x,
                                const double *mean_spend, const sgs_clv_options_t *options,
                                double *p_alive, double *expected_purchases,
                                double *prob_no_purchase, double *expected_spend, double *clv,
                                sgs_error_t *err)
{
    const model_ops_t *o = ops_of(model);
    int need_spend = expected_spend || clv;
    int rc = check_customer_inputs(o, params, gg_params, x, mean_spend, options, need_spend, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < h->n_customers; i++) {
        uint32_t j = h->history_of[i];
        double ps[3];
        pair_scores(o, params, options, 1, h->x[j], h->T[j], ps);
        double pa = o->p_alive(params, h->x[j], h->t_x[j], h->T[j]);
        if (p_alive)
            p_alive[i] = pa;
        if (expected_purchases)
            expected_purchases[i] = ps[0] * pa;
        if (prob_no_purchase)
            prob_no_purchase[i] = 1.0 - pa * (1.0 - ps[1]);
        if (need_spend) {
            double s = sgs_gg_expected_spend(gg_params, x[i], mean_spend[i]);
            if (expected_spend)
                expected_spend[i] = s;
            if (clv)
                clv[i] = options->margin * s * (ps[2] * pa);
        }
    }
    return SGS_OK;
}
