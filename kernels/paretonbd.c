/*
 * kernels/paretonbd.c — Pareto/NBD likelihood (Fader & Hardie note 009, branch on
 * alpha >= beta, everything in logs), analytic gradient, fit, per-customer expressions.
 * See paretonbd.h.
 */
#include "kernels/paretonbd.h"

#include "kernels/special.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ln F and the derivatives of h = ln F(a, b; a+1; z(t)) - a ln(k + t) with respect to
 * (r, α, s, β), for one end t of the interval (FH eq. 23; see the header for branches). */
static double end_term(const double *p, double x, double t, int branch_alpha, double *dh)
{
    double r = p[0], al = p[1], s = p[2], be = p[3], a = r + s + x;
    double k = branch_alpha ? al : be, other = branch_alpha ? be : al;
    double kt = k + t, b = branch_alpha ? s + 1.0 : r + x;
    double z = (k - other) / kt;
    if (z < 0.0) /* k >= other by the branch; guard the rounding of k - other */
        z = 0.0;
    double lf, d[3];
    if (sgs_hyp2f1_ap1(a, b, z, &lf, d) != SGS_OK)
        return NAN;
    double lkt = log(kt);
    if (dh) {
        /* ∂z/∂k = (other + t)/kt², ∂z/∂other = -1/kt */
        double dz_k = (other + t) / (kt * kt), dz_o = -1.0 / kt;
        if (branch_alpha) { /* b = s+1 */
            dh[0] = d[0] - lkt;
            dh[2] = d[0] + d[1] - lkt;
            dh[1] = d[2] * dz_k - a / kt;
            dh[3] = d[2] * dz_o;
        } else { /* b = r+x */
            dh[0] = d[0] + d[1] - lkt;
            dh[2] = d[0] - lkt;
            dh[1] = d[2] * dz_o;
            dh[3] = d[2] * dz_k - a / kt;
        }
    }
    return lf - a * lkt;
}

/* D = ln(e^L1 + e^L2) of FH eq. 22 without the constant lnΓ(r+x) - lnΓ(r) + r ln α + s ln β,
 * its gradient in g (may be NULL), and L1 - D = ln P(alive) in *log_alive (may be NULL). */
/* D = ln(e^L1 + e^L2) from the two end terms h1 = h(t_x), h2 = h(T) (with their gradients
 * d1, d2 when g is wanted); ends_equal when t_x == T (then A0 = 0). */
static double pnbd_combine(const double *p, double x, double T, double l_at, double l_bt,
                           double l_sa, double h1, const double *d1, double h2, const double *d2,
                           int ends_equal, double *g, double *log_alive)
{
    double r = p[0], al = p[1], s = p[2], be = p[3], a = r + s + x;
    double l1 = -(r + x) * l_at - s * l_bt;
    double l2 = -HUGE_VAL, rho = 1.0;
    if (!ends_equal && h2 < h1) { /* A0 = e^h1 - e^h2 > 0 */
        rho = exp(h2 - h1);
        l2 = l_sa + h1 + sgs_log1mexp(h2 - h1);
    }
    double dd = sgs_logaddexp(l1, l2);
    if (log_alive)
        *log_alive = l1 - dd;
    if (g) {
        double w = l2 > -HUGE_VAL ? exp(l2 - dd) : 0.0;
        double dl1[4] = {-l_at, -(r + x) / (al + T), -l_bt, -s / (be + T)};
        for (int j = 0; j < 4; j++) {
            double dl2 = 0.0;
            if (w > 0.0)
                dl2 = (d1[j] - rho * d2[j]) / (1.0 - rho);
            if (j == 0)
                dl2 -= 1.0 / a;
            if (j == 2)
                dl2 += 1.0 / s - 1.0 / a;
            g[j] = (1.0 - w) * dl1[j] + (w > 0.0 ? w * dl2 : 0.0);
        }
    }
    return dd;
}

/* D of FH eq. 22 without the constant lnΓ(r+x) - lnΓ(r) + r ln α + s ln β, its gradient in
 * g (may be NULL), and L1 - D = ln P(alive) in *log_alive (may be NULL). */
static double pnbd_core(const double *p, double x, double t_x, double T, double *g,
                        double *log_alive)
{
    int branch_alpha = p[1] >= p[3];
    double d1[4] = {0}, d2[4] = {0};
    double h1 = end_term(p, x, t_x, branch_alpha, g ? d1 : NULL);
    double h2 = t_x < T ? end_term(p, x, T, branch_alpha, g ? d2 : NULL) : h1;
    return pnbd_combine(p, x, T, log(p[1] + T), log(p[3] + T), log(p[2]) - log(p[0] + p[2] + x), h1,
                        d1, h2, d2, !(t_x < T), g, log_alive);
}

double sgs_paretonbd_loglik_one(const double *params, double x, double t_x, double T, double *grad)
{
    double r = params[0], al = params[1], s = params[2], be = params[3];
    double c = sgs_lgamma(r + x) - sgs_lgamma(r) + r * log(al) + s * log(be);
    double d = pnbd_core(params, x, t_x, T, grad, NULL);
    if (grad) {
        grad[0] += sgs_digamma(r + x) - sgs_digamma(r) + log(al);
        grad[1] += r / al;
        grad[2] += log(be);
        grad[3] += s / be;
    }
    return c + d;
}

double sgs_paretonbd_p_alive(const double *params, double x, double t_x, double T)
{
    double la;
    pnbd_core(params, x, t_x, T, NULL, &la);
    return exp(la);
}

/* (r+x)(β+T)/(α+T) · [1 - ((β+T)/(β+T+t))^(s-1)] / (s-1) */
double sgs_paretonbd_expected_if_alive(const double *params, double t, double x, double T)
{
    double r = params[0], al = params[1], s = params[2], be = params[3];
    double l = log1p(t / (be + T)), e = s - 1.0, el = e * l, bracket;
    if (fabs(el) < 1e-5)
        bracket = l * (1.0 - el * (0.5 - el / 6.0));
    else
        bracket = -expm1(-el) / e;
    return (r + x) * (be + T) / (al + T) * bracket;
}

double sgs_paretonbd_expected(const double *params, double t, double x, double t_x, double T)
{
    return sgs_paretonbd_expected_if_alive(params, t, x, T) *
           sgs_paretonbd_p_alive(params, x, t_x, T);
}

double sgs_paretonbd_expected_new(const double *params, double t)
{
    return sgs_paretonbd_expected_if_alive(params, t, 0.0, 0.0);
}

double sgs_paretonbd_prob_no_purchase_if_alive(const double *params, double t, double x, double T)
{
    if (t == 0.0)
        return 1.0;
    double post[4] = {params[0] + x, params[1] + T, params[2], params[3] + T};
    return exp(sgs_paretonbd_loglik_one(post, 0.0, 0.0, t, NULL));
}

double sgs_paretonbd_prob_no_purchase(const double *params, double t, double x, double t_x,
                                      double T)
{
    double pa = sgs_paretonbd_p_alive(params, x, t_x, T);
    return 1.0 - pa * (1.0 - sgs_paretonbd_prob_no_purchase_if_alive(params, t, x, T));
}

/* ---- Likelihood over histories --------------------------------------------------------------- */

/* The end terms h(x, t) depend on x and one time only: per evaluation they are computed
 * once per distinct (x, t_x) and (x, T) pair that occurs (dense tables over the distinct
 * values, when those are not much larger than the number of histories), and the loop over
 * histories only combines them. */
typedef struct pnbd_eval {
    const sgs_histories_t *h;
    int n_threads;
    size_t n_blocks;
    double *ws;        /* [n_x_values * 2] per-x constants, [n_blocks * 5] partials */
    int tables;        /* 1 when the pair tables below are used */
    size_t n_lo, n_hi; /* n_x_values * n_t_x_values, n_x_values * n_T_values */
    uint8_t *used_lo;  /* [n_lo] pair (x, t_x) occurs */
    uint8_t *used_hi;  /* [n_hi] pair (x, T) occurs */
    double *lo, *hi;   /* [n_lo * 5], [n_hi * 5]: h and its 4 derivatives */
} pnbd_eval_t;

static void pnbd_eval_free(pnbd_eval_t *e)
{
    sgs_free(e->ws);
    sgs_free(e->used_lo);
    sgs_free(e->used_hi);
    sgs_free(e->lo);
    sgs_free(e->hi);
    memset(e, 0, sizeof *e);
}

static int pnbd_eval_init(pnbd_eval_t *e, const sgs_histories_t *h, const sgs_exec_t *exec)
{
    memset(e, 0, sizeof *e);
    e->h = h;
    e->n_threads = sgs_exec_threads_for(exec, h->n_unique);
    e->n_blocks = sgs_block_count(h->n_unique, SGS_BLOCK_ROWS);
    e->ws = sgs_alloc_array(3 * h->n_x_values + 2 * h->n_T_values + 5 * e->n_blocks, sizeof *e->ws);
    if (!e->ws)
        return SGS_ENOMEM;
    size_t limit = 4 * h->n_unique > 65536 ? 4 * h->n_unique : 65536;
    if (sgs_size_mul(h->n_x_values, h->n_t_x_values, &e->n_lo) == SGS_OK &&
        sgs_size_mul(h->n_x_values, h->n_T_values, &e->n_hi) == SGS_OK && e->n_lo <= limit &&
        e->n_hi <= limit) {
        e->used_lo = sgs_calloc_array(e->n_lo, 1);
        e->used_hi = sgs_calloc_array(e->n_hi, 1);
        e->lo = sgs_alloc_array(e->n_lo, 5 * sizeof *e->lo);
        e->hi = sgs_alloc_array(e->n_hi, 5 * sizeof *e->hi);
        if (!e->used_lo || !e->used_hi || !e->lo || !e->hi) {
            pnbd_eval_free(e);
            return SGS_ENOMEM;
        }
        for (size_t i = 0; i < h->n_unique; i++) {
            e->used_lo[(size_t)h->x_id[i] * h->n_t_x_values + h->t_x_id[i]] = 1;
            e->used_hi[(size_t)h->x_id[i] * h->n_T_values + h->T_id[i]] = 1;
        }
        e->tables = 1;
    }
    return SGS_OK;
}

/* Fill a pair table: entry k is (x_values[k / n_t], times[k % n_t]). */
static void fill_table(const pnbd_eval_t *e, const double *p, const uint8_t *used, double *tab,
                       size_t n_pairs, const double *times, size_t n_t, int want_grad)
{
    const sgs_histories_t *h = e->h;
    int branch_alpha = p[1] >= p[3];
#pragma omp parallel for num_threads(e->n_threads) schedule(dynamic, 256)
    for (size_t k = 0; k < n_pairs; k++)
        if (used[k])
            tab[5 * k] = end_term(p, h->x_values[k / n_t], times[k % n_t], branch_alpha,
                                  want_grad ? tab + 5 * k + 1 : NULL);
}

static void pnbd_eval(pnbd_eval_t *e, const double *p, double *ll, double *grad_log)
{
    const sgs_histories_t *h = e->h;
    double r = p[0], al = p[1], s = p[2], be = p[3];
    size_t nx = h->n_x_values, n = h->n_unique;
    size_t nT = h->n_T_values;
    double *cx = e->ws, *dcx = cx + nx, *lsa = dcx + nx, *lat = lsa + nx, *lbt = lat + nT;
    double *part = lbt + nT;
    double lg_r = sgs_lgamma(r), ps_r = sgs_digamma(r), ls = log(s);
    for (size_t k = 0; k < nx; k++) {
        double x = h->x_values[k];
        cx[k] = sgs_lgamma(r + x) - lg_r;
        dcx[k] = sgs_digamma(r + x) - ps_r;
        lsa[k] = ls - log(r + s + x);
    }
    for (size_t k = 0; k < nT; k++) {
        lat[k] = log(al + h->T_values[k]);
        lbt[k] = log(be + h->T_values[k]);
    }
    int want_grad = grad_log != NULL;
    if (e->tables) {
        fill_table(e, p, e->used_lo, e->lo, e->n_lo, h->t_x_values, h->n_t_x_values, want_grad);
        fill_table(e, p, e->used_hi, e->hi, e->n_hi, h->T_values, h->n_T_values, want_grad);
    }
#pragma omp parallel for num_threads(e->n_threads) schedule(dynamic, 1)
    for (size_t blk = 0; blk < e->n_blocks; blk++) {
        double acc[5] = {0};
        size_t end = (blk + 1) * SGS_BLOCK_ROWS < n ? (blk + 1) * SGS_BLOCK_ROWS : n;
        for (size_t i = blk * SGS_BLOCK_ROWS; i < end; i++) {
            double g[4], c = h->count[i], d;
            if (e->tables) {
                const double *lo =
                    e->lo + 5 * ((size_t)h->x_id[i] * h->n_t_x_values + h->t_x_id[i]);
                const double *hi = e->hi + 5 * ((size_t)h->x_id[i] * h->n_T_values + h->T_id[i]);
                int equal = !(h->t_x[i] < h->T[i]);
                d = pnbd_combine(p, h->x[i], h->T[i], lat[h->T_id[i]], lbt[h->T_id[i]],
                                 lsa[h->x_id[i]], lo[0], lo + 1, equal ? lo[0] : hi[0],
                                 equal ? lo + 1 : hi + 1, equal, want_grad ? g : NULL, NULL);
            } else {
                d = pnbd_core(p, h->x[i], h->t_x[i], h->T[i], want_grad ? g : NULL, NULL);
            }
            acc[0] += c * d;
            if (want_grad)
                for (int j = 0; j < 4; j++)
                    acc[1 + j] += c * g[j];
        }
        memcpy(part + blk * 5, acc, sizeof acc);
    }
    double acc[5] = {0};
    for (size_t blk = 0; blk < e->n_blocks; blk++)
        for (int j = 0; j < 5; j++)
            acc[j] += part[blk * 5 + j];
    double sc = 0.0, sdc = 0.0, W = h->total_weight;
    for (size_t k = 0; k < nx; k++) {
        sc += h->count_by_x[k] * cx[k];
        sdc += h->count_by_x[k] * dcx[k];
    }
    *ll = sc + W * (r * log(al) + s * log(be)) + acc[0];
    if (grad_log) {
        grad_log[0] = r * (sdc + W * log(al) + acc[1]);
        grad_log[1] = al * (W * r / al + acc[2]);
        grad_log[2] = s * (W * log(be) + acc[3]);
        grad_log[3] = be * (W * s / be + acc[4]);
    }
}

static int params_ok(const double *p, int n)
{
    for (int j = 0; j < n; j++)
        if (!(p[j] > 0.0) || !isfinite(p[j]))
            return 0;
    return 1;
}

int sgs_paretonbd_loglik(const double *params, const sgs_histories_t *h, double *ll,
                         double *grad_log, const sgs_exec_t *exec, sgs_error_t *err)
{
    if (!params_ok(params, 4))
        return sgs_error_set(err, SGS_EINVAL, "Pareto/NBD: parameters must be finite and > 0");
    pnbd_eval_t e;
    if (pnbd_eval_init(&e, h, exec))
        return sgs_error_set(err, SGS_ENOMEM, "Pareto/NBD: out of memory");
    pnbd_eval(&e, params, ll, grad_log);
    pnbd_eval_free(&e);
    return SGS_OK;
}

static int pnbd_callback(const double *theta, double *ll, double *grad, void *ctx)
{
    double p[4];
    for (int j = 0; j < 4; j++)
        p[j] = exp(theta[j]);
    pnbd_eval(ctx, p, ll, grad);
    return SGS_OK;
}

int sgs_paretonbd_fit(const sgs_histories_t *h, const sgs_model_fit_options_t *options,
                      sgs_fit_t *fit, const sgs_exec_t *exec, sgs_error_t *err)
{
    sgs_model_fit_options_t o = options ? *options : sgs_model_fit_default_options();
    double repeat = 0.0, age = 0.0;
    for (size_t j = 0; j < h->n_unique; j++) {
        repeat += h->count[j] * h->x[j];
        age += h->count[j] * h->T[j];
    }
    if (h->n_unique == 0)
        return sgs_error_set(err, SGS_EDATA, "Pareto/NBD fit: no customers");
    if (repeat == 0.0)
        return sgs_error_set(err, SGS_EDATA,
                             "Pareto/NBD fit: none of the %.0f customers made a repeat purchase; "
                             "the purchase model cannot be fitted",
                             h->total_weight);
    if (age == 0.0)
        return sgs_error_set(err, SGS_EDATA, "Pareto/NBD fit: every customer has T = 0");
    double starts[SGS_OPTIM_MAX_STARTS * 4];
    int n_starts;
    if (o.n_starts > 0 && o.starts) {
        if (o.n_starts > SGS_OPTIM_MAX_STARTS || !params_ok(o.starts, 4 * o.n_starts))
            return sgs_error_set(err, SGS_EINVAL, "Pareto/NBD fit: bad starting points");
        n_starts = o.n_starts;
        for (int j = 0; j < 4 * n_starts; j++)
            starts[j] = log(o.starts[j]);
    } else {
        double sx = sgs__histories_time_per_purchase(h), tm = age / h->total_weight;
        const double def[3][4] = {
            {1, sx, 1, tm}, {0.5, 0.5 * sx, 0.5, 0.5 * tm}, {2, 2 * sx, 2, 2 * tm}};
        n_starts = 3;
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 4; j++)
                starts[4 * k + j] = log(def[k][j]);
    }
    pnbd_eval_t e;
    if (pnbd_eval_init(&e, h, exec))
        return sgs_error_set(err, SGS_ENOMEM, "Pareto/NBD fit: out of memory");
    sgs_optim_problem_t prob = {4,           pnbd_callback, &e,     h->total_weight,
                                o.penalizer, n_starts,      starts, NULL};
    int rc = sgs_optim_minimize(&prob, &o.optim, fit, err);
    pnbd_eval_free(&e);
    if (rc)
        sgs_error_prefix(err, "Pareto/NBD fit");
    return rc;
}
