/*
 * kernels/bgnbd.c — BG/NBD likelihood, gradient, fit and per-customer expressions; the
 * MBG/NBD (kernels/mbgnbd.c) shares this code with m = 1. See bgnbd.h for the formulas.
 *
 * Likelihood evaluation over histories: the terms that depend on x alone (lgamma,
 * digamma) are computed once per distinct x, ln(α+T) and 1/(α+T) once per distinct T,
 * the same for t_x; the loop over histories then costs one exp and one log1p each (the
 * mixture weight reuses the exp).
 */
#include "kernels/bgnbd.h"
#include "kernels/bgnbd_internal.h"

#include "kernels/special.h"

#include <math.h>
#include <string.h>

sgs_model_fit_options_t sgs_model_fit_default_options(void)
{
    sgs_model_fit_options_t o;
    sgs_model_fit_options_init(&o);
    return o;
}

void sgs_model_fit_options_init(sgs_model_fit_options_t *o)
{
    memset(o, 0, sizeof *o);
    sgs_optim_options_init(&o->optim);
}

static int params_ok(const double *p, int n)
{
    for (int j = 0; j < n; j++)
        if (!(p[j] > 0.0) || !isfinite(p[j]))
            return 0;
    return 1;
}

double sgs__histories_time_per_purchase(const sgs_histories_t *h)
{
    double sx = 0.0, sT = 0.0;
    for (size_t j = 0; j < h->n_unique; j++) {
        sx += h->count[j] * h->x[j];
        sT += h->count[j] * h->T[j];
    }
    double s = sx > 0.0 ? sT / sx : 1.0;
    return s > 1e-6 && isfinite(s) ? s : 1.0;
}

/* ---- Per customer ---------------------------------------------------------------------------- */

double sgs__bg_loglik_one(int m, const double *p, double x, double t_x, double T)
{
    double r = p[0], al = p[1], a = p[2], b = p[3];
    double a1 = sgs_lgamma(r + x) - sgs_lgamma(r) + r * log(al);
    double a2 =
        sgs_lgamma(a + b) + sgs_lgamma(b + x + m) - sgs_lgamma(b) - sgs_lgamma(a + b + x + m);
    double a3 = -(r + x) * log(al + T);
    if (x > 0.0 || m) {
        double a4 = log(a) - log(b + x - 1.0 + m) - (r + x) * log(al + t_x);
        return a1 + a2 + sgs_logaddexp(a3, a4);
    }
    return a1 + a2 + a3;
}

double sgs_bgnbd_loglik_one(const double *params, double x, double t_x, double T)
{
    return sgs__bg_loglik_one(0, params, x, t_x, T);
}

/* ln of the odds of "gone" against "alive": ln(a/(b+x-1+m)) + (r+x) ln((α+T)/(α+t_x)) */
static double log_odds_gone(int m, const double *p, double x, double t_x, double T)
{
    double r = p[0], al = p[1], a = p[2], b = p[3];
    return log(a / (b + x - 1.0 + m)) + (r + x) * log1p((T - t_x) / (al + t_x));
}

double sgs__bg_p_alive(int m, const double *p, double x, double t_x, double T)
{
    if (x == 0.0 && !m)
        return 1.0;
    return sgs_sigmoid(-log_odds_gone(m, p, x, t_x, T));
}

double sgs_bgnbd_p_alive(const double *params, double x, double t_x, double T)
{
    return sgs__bg_p_alive(0, params, x, t_x, T);
}

double sgs__bg_expected_if_alive(int m, const double *p, double t, double x, double T)
{
    /* E over p ~ Beta(a, b+x+m) and λ ~ Gamma(r+x, α+T), special.h */
    return sgs_bg_mean_purchases(p[0] + x, p[2], p[3] + x + m, t / (p[1] + T));
}

double sgs__bg_expected(int m, const double *p, double t, double x, double t_x, double T)
{
    return sgs__bg_expected_if_alive(m, p, t, x, T) * sgs__bg_p_alive(m, p, x, t_x, T);
}

double sgs_bgnbd_expected_if_alive(const double *params, double t, double x, double T)
{
    return sgs__bg_expected_if_alive(0, params, t, x, T);
}

double sgs_bgnbd_expected(const double *params, double t, double x, double t_x, double T)
{
    return sgs__bg_expected(0, params, t, x, t_x, T);
}

double sgs_bgnbd_expected_new(const double *params, double t)
{
    return sgs__bg_expected(0, params, t, 0.0, 0.0, 0.0);
}

double sgs_bgnbd_prob_no_purchase_if_alive(const double *p, double t, double x, double T)
{
    /* ((α+T)/(α+T+t))^(r+x) */
    return exp(-(p[0] + x) * log1p(t / (p[1] + T)));
}

double sgs__bg_prob_no_purchase(int m, const double *p, double t, double x, double t_x, double T)
{
    /* 1 - P(alive) (1 - ((α+T)/(α+T+t))^(r+x)), the bracket by expm1 */
    double buy_if_alive = -expm1(-(p[0] + x) * log1p(t / (p[1] + T)));
    return 1.0 - sgs__bg_p_alive(m, p, x, t_x, T) * buy_if_alive;
}

double sgs_bgnbd_prob_no_purchase(const double *params, double t, double x, double t_x, double T)
{
    return sgs__bg_prob_no_purchase(0, params, t, x, t_x, T);
}

/* ---- Likelihood over histories ----------------------------------------------------------------
 */

enum { S_LL, S_R, S_ALPHA, S_WA, S_WB, S_COUNT };

/* The last evaluations of a fit, by their parameters' bits: the optimizer asks again for a
 * point it has seen (the best start when its descent begins, the optimum for its
 * log-likelihood), and the same parameters give the same bits. */
#define BG_CACHE 4

typedef struct bg_cached {
    double p[4], ll, grad_log[4];
} bg_cached_t;

typedef struct bg_eval {
    int m;
    const sgs_histories_t *h;
    int n_threads;
    size_t n_blocks;
    double *ws; /* tables and block partials, see bg_eval_init */
    bg_cached_t cache[BG_CACHE];
    int n_cached, next_cached; /* entries filled; the one to overwrite next */
} bg_eval_t;

static int bg_eval_init(bg_eval_t *e, int m, const sgs_histories_t *h, const sgs_exec_t *exec)
{
    e->m = m;
    e->h = h;
    e->n_cached = e->next_cached = 0;
    e->n_threads = sgs_exec_threads_for(exec, h->n_unique);
    e->n_blocks = sgs_block_count(h->n_unique, SGS_BLOCK_ROWS);
    size_t n = 6 * h->n_x_values + 2 * h->n_T_values + 2 * h->n_t_x_values + S_COUNT * e->n_blocks;
    e->ws = sgs_alloc_array(n, sizeof *e->ws);
    return e->ws ? SGS_OK : SGS_ENOMEM;
}

static void bg_eval_free(bg_eval_t *e)
{
    sgs_free(e->ws);
    e->ws = NULL;
}

/* Σ count ln L and ∂/∂(ln r, ln α, ln a, ln b) (both computed, the gradient written when
 * grad_log is not NULL). */
static void bg_eval_new(bg_eval_t *e, const double *p, double *ll, double *grad_log);

static void bg_eval(bg_eval_t *e, const double *p, double *ll, double *grad_log)
{
    for (int k = 0; k < e->n_cached; k++)
        if (memcmp(e->cache[k].p, p, sizeof e->cache[k].p) == 0) {
            *ll = e->cache[k].ll;
            if (grad_log)
                memcpy(grad_log, e->cache[k].grad_log, sizeof e->cache[k].grad_log);
            return;
        }
    bg_cached_t *c = &e->cache[e->next_cached];
    bg_eval_new(e, p, &c->ll, c->grad_log);
    memcpy(c->p, p, sizeof c->p);
    e->next_cached = (e->next_cached + 1) % BG_CACHE;
    if (e->n_cached < BG_CACHE)
        e->n_cached++;
    *ll = c->ll;
    if (grad_log)
        memcpy(grad_log, c->grad_log, sizeof c->grad_log);
}

static void bg_eval_new(bg_eval_t *e, const double *p, double *ll, double *grad_log)
{
    const sgs_histories_t *h = e->h;
    int m = e->m;
    double r = p[0], al = p[1], a = p[2], b = p[3];
    size_t nx = h->n_x_values, nT = h->n_T_values, ntx = h->n_t_x_values;
    double *const_x = e->ws, *c4 = const_x + nx, *dr_x = c4 + nx, *da_x = dr_x + nx;
    double *db_x = da_x + nx, *inv_b = db_x + nx;
    double *lT = inv_b + nx, *iT = lT + nT, *ltx = iT + nT, *itx = ltx + ntx;
    double *part = itx + ntx;

    double ln_al = log(al), lg_r = sgs_lgamma(r), lg_ab = sgs_lgamma(a + b), lg_b = sgs_lgamma(b);
    double ps_r = sgs_digamma(r), ps_ab = sgs_digamma(a + b), ps_b = sgs_digamma(b);
    for (size_t k = 0; k < nx; k++) {
        double x = h->x_values[k], xm = x + m;
        const_x[k] = sgs_lgamma(r + x) - lg_r + r * ln_al + lg_ab + sgs_lgamma(b + xm) - lg_b -
                     sgs_lgamma(a + b + xm);
        int has4 = x > 0.0 || m;
        c4[k] = has4 ? log(a) - log(b + x - 1.0 + m) : -HUGE_VAL;
        inv_b[k] = has4 ? 1.0 / (b + x - 1.0 + m) : 0.0;
        dr_x[k] = sgs_digamma(r + x) - ps_r + ln_al;
        da_x[k] = ps_ab - sgs_digamma(a + b + xm);
        db_x[k] = ps_ab + sgs_digamma(b + xm) - ps_b - sgs_digamma(a + b + xm);
    }
    for (size_t j = 0; j < nT; j++) {
        lT[j] = log(al + h->T_values[j]);
        iT[j] = 1.0 / (al + h->T_values[j]);
    }
    for (size_t j = 0; j < ntx; j++) {
        ltx[j] = log(al + h->t_x_values[j]);
        itx[j] = 1.0 / (al + h->t_x_values[j]);
    }

    size_t n = h->n_unique;
#pragma omp parallel for num_threads(e->n_threads) schedule(static)
    for (size_t blk = 0; blk < e->n_blocks; blk++) {
        double s[S_COUNT] = {0};
        size_t end = (blk + 1) * SGS_BLOCK_ROWS < n ? (blk + 1) * SGS_BLOCK_ROWS : n;
        for (size_t i = blk * SGS_BLOCK_ROWS; i < end; i++) {
            uint32_t k = h->x_id[i], jT = h->T_id[i], jt = h->t_x_id[i];
            double c = h->count[i], rx = r + h->x[i];
            double a3 = -rx * lT[jT], lpart, w;
            if (c4[k] > -HUGE_VAL) {
                /* ln(e^a3 + e^a4) and the weight w = σ(a4 - a3) from one e^-|d|: the
                 * same bits as sgs_sigmoid(d) (up to a NaN's sign), which would take a
                 * second exp */
                double a4 = c4[k] - rx * ltx[jt], d = a4 - a3, em = exp(-fabs(d));
                lpart = (d > 0.0 ? a4 : a3) + log1p(em);
                w = d >= 0.0 ? 1.0 / (1.0 + em) : em / (1.0 + em);
            } else {
                lpart = a3;
                w = 0.0;
            }
            s[S_LL] += c * lpart;
            s[S_R] += c * ((1.0 - w) * lT[jT] + w * ltx[jt]);
            s[S_ALPHA] += c * rx * ((1.0 - w) * iT[jT] + w * itx[jt]);
            s[S_WA] += c * w;
            s[S_WB] += c * w * inv_b[k];
        }
        memcpy(part + blk * S_COUNT, s, sizeof s);
    }
    double s[S_COUNT] = {0};
    for (size_t blk = 0; blk < e->n_blocks; blk++)
        for (int q = 0; q < S_COUNT; q++)
            s[q] += part[blk * S_COUNT + q];
    double sum_const = 0.0, g_r = 0.0, g_a = 0.0, g_b = 0.0;
    for (size_t k = 0; k < nx; k++) {
        double c = h->count_by_x[k];
        sum_const += c * const_x[k];
        g_r += c * dr_x[k];
        g_a += c * da_x[k];
        g_b += c * db_x[k];
    }
    *ll = sum_const + s[S_LL];
    if (grad_log) {
        double W = h->total_weight;
        grad_log[0] = r * (g_r - s[S_R]);
        grad_log[1] = al * (W * r / al - s[S_ALPHA]);
        grad_log[2] = a * (g_a + s[S_WA] / a);
        grad_log[3] = b * (g_b - s[S_WB]);
    }
}

int sgs__bg_loglik(int m, const double *params, const sgs_histories_t *h, double *ll,
                   double *grad_log, const sgs_exec_t *exec, sgs_error_t *err)
{
    if (!params_ok(params, 4))
        return sgs_error_set(err, SGS_EINVAL, "%s: parameters must be finite and > 0",
                             m ? "MBG/NBD" : "BG/NBD");
    bg_eval_t e;
    if (bg_eval_init(&e, m, h, exec))
        return sgs_error_set(err, SGS_ENOMEM, "%s: out of memory", m ? "MBG/NBD" : "BG/NBD");
    bg_eval(&e, params, ll, grad_log);
    bg_eval_free(&e);
    return SGS_OK;
}

int sgs_bgnbd_loglik(const double *params, const sgs_histories_t *h, double *ll, double *grad_log,
                     const sgs_exec_t *exec, sgs_error_t *err)
{
    return sgs__bg_loglik(0, params, h, ll, grad_log, exec, err);
}

/* ---- Fit ----------------------------------------------------------------------------------------
 */

static int bg_callback(const double *theta, double *ll, double *grad, void *ctx)
{
    double p[4];
    for (int j = 0; j < 4; j++)
        p[j] = exp(theta[j]);
    bg_eval(ctx, p, ll, grad);
    return SGS_OK;
}

int sgs__bg_fit(int m, const sgs_histories_t *h, const sgs_model_fit_options_t *options,
                sgs_fit_t *fit, const sgs_exec_t *exec, sgs_error_t *err)
{
    const char *name = m ? "MBG/NBD" : "BG/NBD";
    sgs_model_fit_options_t o = options ? *options : sgs_model_fit_default_options();
    double repeat = 0.0, age = 0.0;
    for (size_t j = 0; j < h->n_unique; j++) {
        repeat += h->count[j] * h->x[j];
        age += h->count[j] * h->T[j];
    }
    if (h->n_unique == 0)
        return sgs_error_set(err, SGS_EDATA, "%s fit: no customers", name);
    if (repeat == 0.0)
        return sgs_error_set(err, SGS_EDATA,
                             "%s fit: none of the %.0f customers made a repeat purchase; the "
                             "purchase model cannot be fitted",
                             name, h->total_weight);
    if (age == 0.0)
        return sgs_error_set(err, SGS_EDATA, "%s fit: every customer has T = 0", name);

    double starts[SGS_OPTIM_MAX_STARTS * 4];
    int n_starts;
    if (o.n_starts > 0 && o.starts) {
        if (o.n_starts > SGS_OPTIM_MAX_STARTS || !params_ok(o.starts, 4 * o.n_starts))
            return sgs_error_set(err, SGS_EINVAL, "%s fit: bad starting points", name);
        n_starts = o.n_starts;
        for (int j = 0; j < 4 * n_starts; j++)
            starts[j] = log(o.starts[j]);
    } else {
        double s = sgs__histories_time_per_purchase(h);
        const double def[3][4] = {{1, s, 1, 1}, {0.5, 0.5 * s, 0.5, 2}, {2, 2 * s, 2, 5}};
        n_starts = 3;
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 4; j++)
                starts[4 * k + j] = log(def[k][j]);
    }
    bg_eval_t e;
    if (bg_eval_init(&e, m, h, exec))
        return sgs_error_set(err, SGS_ENOMEM, "%s fit: out of memory", name);
    sgs_optim_problem_t prob = {4,           bg_callback, &e,     h->total_weight,
                                o.penalizer, n_starts,    starts, NULL};
    int rc = sgs_optim_minimize(&prob, &o.optim, fit, err);
    bg_eval_free(&e);
    if (rc)
        sgs_error_prefix(err, "%s fit", name);
    return rc;
}

int sgs_bgnbd_fit(const sgs_histories_t *h, const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                  const sgs_exec_t *exec, sgs_error_t *err)
{
    return sgs__bg_fit(0, h, options, fit, exec, err);
}

/* ---- Serial reference twin ------------------------------------------------------------ */

int sgs_bgnbd_loglik_ref(const double *params, const sgs_histories_t *h, double *ll,
                         sgs_error_t *err)
{
    if (!params_ok(params, 4))
        return sgs_error_set(err, SGS_EINVAL, "BG/NBD: parameters must be finite and > 0");
    double sum = 0.0;
    for (size_t i = 0; i < h->n_unique; i++)
        sum += h->count[i] * sgs_bgnbd_loglik_one(params, h->x[i], h->t_x[i], h->T[i]);
    *ll = sum;
    return SGS_OK;
}
