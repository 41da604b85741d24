/*
 * kernels/paretonbd.c — Pareto/NBD likelihood (Fader & Hardie note 009, branch on
 * alpha >= beta, grouped so that no large terms cancel), analytic gradient, fit,
 * per-customer expressions. See paretonbd.h.
 */
#include "kernels/paretonbd.h"

#include "kernels/bgnbd_internal.h"
#include "kernels/special.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- ln Γ(r+x) - ln Γ(r) ------------------------------------------------------------------ */

/* Stirling's series of ln Γ(y) - (y - 1/2) ln y + y - ln(2π)/2 and of ψ(y) - ln y + 1/(2y)
 * (A&S 6.1.41, 6.3.18), for y >= 10: seven terms, error below 1e-17. */
static double stirling_rest(double y, double *psi_rest)
{
    double f = 1.0 / (y * y);
    *psi_rest =
        -f * (1.0 / 12 -
              f * (1.0 / 120 -
                   f * (1.0 / 252 -
                        f * (1.0 / 240 - f * (1.0 / 132 - f * (691.0 / 32760 - f * (1.0 / 12)))))));
    return (1.0 / 12 -
            f * (1.0 / 360 -
                 f * (1.0 / 1260 - f * (1.0 / 1680 - f * (1.0 / 1188 - f * (691.0 / 360360 -
                                                                            f * (1.0 / 156))))))) /
           y;
}

/* ln Γ(r+x) - ln Γ(r), and ψ(r+x) - ψ(r) in *dpsi. For r >= 10 from Stirling's series as
 * (r - 1/2) ln(1 + x/r) + x ln(r+x) - x + rest(r+x) - rest(r), so that nothing of size
 * r ln r cancels (lgamma(r+x) - lgamma(r) loses r ln r · 1e-16, which at r = 1e12 is
 * 3e-3). */
static double lgamma_ratio(double r, double x, double *dpsi)
{
    if (x == 0.0) {
        *dpsi = 0.0;
        return 0.0;
    }
    if (r < 10.0) {
        *dpsi = sgs_digamma(r + x) - sgs_digamma(r);
        return sgs_lgamma(r + x) - sgs_lgamma(r);
    }
    double p1, p0, l1 = stirling_rest(r + x, &p1), l0 = stirling_rest(r, &p0);
    double lq = log1p(x / r);
    *dpsi = lq + x / (2.0 * r * (r + x)) + (p1 - p0);
    return (r - 0.5) * lq + x * log(r + x) - x + (l1 - l0);
}

/* ---- One history --------------------------------------------------------------------------- */

/* One end t of the interval (FH eq. 23): with k = max(α, β), F = ₂F₁(a, b; a+1; z(t)),
 *   α >= β: b = s+1, z = (α-β)/(α+t);   α < β: b = r+x, z = (β-α)/(β+t),
 * returns ln G = ln F + b ln(1 - z), the part of F that stays moderate as z -> 1 (formed by
 * the ₂F₁ itself: special.h), and in d (may be NULL) its derivatives with respect to
 * (r, α, s, β). 1 - z and a + 1 - b are passed exactly. NaN when the ₂F₁ fails. */
static double end_term(const double *p, double x, double t, int branch_alpha, double *d)
{
    double r = p[0], al = p[1], s = p[2], be = p[3], a = r + s + x;
    double k = branch_alpha ? al : be, other = branch_alpha ? be : al, kt = k + t;
    double b = branch_alpha ? s + 1.0 : r + x, q = branch_alpha ? r + x : s + 1.0;
    double z = (k - other) / kt, zc = (other + t) / kt;
    if (z < 0.0) /* k >= other by the branch; guard the rounding of k - other */
        z = 0.0;
    sgs_hyp2f1_t f;
    if (sgs_hyp2f1_ap1_ex(a, b, q, z, zc, &f) != SGS_OK)
        return NAN;
    if (d) {
        /* ln(1-z) = ln(other + t) - ln(k + t); ∂z/∂k = zc/kt, ∂z/∂other = -1/kt */
        double lzc = log(zc), d_k = (f.d[2] * zc - b) / kt, d_o = -f.d[2] / kt + b / (other + t);
        d[0] = f.d[0] + (branch_alpha ? 0.0 : f.d[1] + lzc);
        d[2] = f.d[0] + (branch_alpha ? f.d[1] + lzc : 0.0);
        d[1] = branch_alpha ? d_k : d_o;
        d[3] = branch_alpha ? d_o : d_k;
    }
    return f.log_fs;
}

/* At one time t (t_x or T): ln(α+t), ln(1 + t/α), ln(1 + t/β), and e = ln((α+t)/(β+t))
 * when α >= β, else 0. */
typedef struct pnbd_at_T {
    double l_at, l1_a, l1_b, e;
} pnbd_at_T_t;

_Static_assert(sizeof(pnbd_at_T_t) == 4 * sizeof(double), "pnbd_at_T_t is stored as 4 doubles");

static pnbd_at_T_t at_T(const double *p, double t)
{
    double al = p[1], be = p[3];
    pnbd_at_T_t v = {log(al + t), log1p(t / al), log1p(t / be),
                     al >= be ? log1p((al - be) / (be + t)) : 0.0};
    return v;
}

/* ln L of one history without ln Γ(r+x) - ln Γ(r) (FH eq. 22, rearranged). FH's bracket
 * is the sum of the term of a customer still alive at T and the term A0 of one gone in
 * (t_x, T]; with a = r+s+x, k = max(α, β), the end terms g1, g2 = ln G at t_x and T
 * (end_term), u_α = ln(1 + (T-t_x)/(α+t_x)) and u_β = ln(1 + (T-t_x)/(β+t_x)):
 *   alive:  L_a = -x ln(α+T) - r ln(1 + T/α) - s ln(1 + T/β)
 *   gone:   L_d = -x ln(α+t_x) - r ln(1 + t_x/α) - s ln(1 + t_x/β) + e(t_x) + ln(s/a) + g1
 *                 + ln(1 - e^(g2 - g1 - D)),
 *           α >= β: D = (r+x-1) u_α + (s+1) u_β;  α < β: D = (r+x) u_α + s u_β,
 *   ln L = max(L_a, L_d) + ln(1 + e^-|Δ|),
 *   Δ = L_d - L_a = e(T) + ln(s/a) + g1 + D + ln(1 - e^(g2 - g1 - D)), formed so.
 * Each of L_a, L_d is formed from terms that never cancel, however large r, α, s, β or x (a
 * fit drifting to r, α -> ∞ together, or to s -> ∞ where everyone is gone: the two forms
 * then differ by 3e14), the powers of FH eq. 22 paired with the ₂F₁ values before anything
 * is added (lgamma or ₂F₁ values of size b |ln(1-z)| are never formed). P(alive) =
 * 1/(1 + e^Δ), 1 - P(alive) = 1/(1 + e^-Δ); Δ = -∞ when t_x = T (A0 = 0); *delta_out (may
 * be NULL) gets Δ. g (may be NULL) gets the gradient with respect to (r, α, s, β) without
 * ψ(r+x) - ψ(r), as (1-w) ∂L_a + w ∂L_d with w = 1 - P(alive); d1, d2 are the end terms'
 * derivatives, v_T and v_x the per-time values above at T and t_x, l_sa = ln(s/a). */
static double pnbd_history(const double *p, double x, double t_x, double T, pnbd_at_T_t v_T,
                           pnbd_at_T_t v_x, double l_sa, double g1, const double *d1, double g2,
                           const double *d2, double *g, double *delta_out)
{
    double r = p[0], al = p[1], s = p[2], be = p[3], a = r + s + x;
    int branch_alpha = al >= be;
    double l_alive = -x * v_T.l_at - r * v_T.l1_a - s * v_T.l1_b;
    double l_gone = -HUGE_VAL, delta = -HUGE_VAL, rho = 0.0, one_m_rho = 1.0, u_a = 0.0, u_b = 0.0;
    double c_a = branch_alpha ? r + x - 1.0 : r + x, c_b = branch_alpha ? s + 1.0 : s;
    if (t_x < T) {
        u_a = log1p((T - t_x) / (al + t_x));
        u_b = log1p((T - t_x) / (be + t_x));
        double dd = c_a * u_a + c_b * u_b, dh = g2 - g1 - dd; /* ln of A0's terms' ratio, < 0 */
        if (isnan(dh)) {
            l_gone = delta = NAN; /* an end term failed: no value rather than a wrong one */
        } else if (dh < 0.0) {
            /* ln(1 - ρ), ρ = e^dh: by log1p(-ρ) below ρ = 1/2, expm1 above (Mächler 2012) */
            int far = dh < -0.6931471805599453; /* ρ < 1/2: 1 - ρ has no cancellation */
            rho = exp(dh);
            one_m_rho = far ? 1.0 - rho : -expm1(dh);
            double l1mr = far ? log1p(-rho) : log(one_m_rho);
            l_gone = -x * v_x.l_at - r * v_x.l1_a - s * v_x.l1_b + v_x.e + l_sa + g1 + l1mr;
            /* Δ = L_d - L_a with the terms of both paired: no x ln(α+T) to cancel */
            delta = v_T.e + l_sa + g1 + dd + l1mr;
        }
    }
    /* ln(1 + e^-|Δ|) and the weight w = e^Δ/(1 + e^Δ) of A0 in L, from one e^-|Δ| */
    double em = exp(-fabs(delta)), top = delta > 0.0 ? l_gone : l_alive;
    double w = delta > 0.0 ? 1.0 / (1.0 + em) : em / (1.0 + em);
    if (delta_out)
        *delta_out = delta;
    if (g) {
        double ga[4] = {-v_T.l1_a, -x / (al + T) + r * T / (al * (al + T)), -v_T.l1_b,
                        s * T / (be * (be + T))};
        for (int j = 0; j < 4; j++)
            g[j] = (1.0 - w) * ga[j];
        if (w > 0.0) {
            /* ∂L_d = ∂(its t_x terms) + ∂e(t_x) + ∂ln(s/a) + (∂g1 - ρ ∂g2)/(1-ρ) + ρ/(1-ρ) ∂D */
            double q = rho / one_m_rho, gd[4];
            gd[0] = -v_x.l1_a - 1.0 / a + q * u_a;
            gd[1] = -x / (al + t_x) + r * t_x / (al * (al + t_x)) -
                    q * c_a * (T - t_x) / ((al + T) * (al + t_x));
            gd[2] = -v_x.l1_b + 1.0 / s - 1.0 / a + q * u_b;
            gd[3] = s * t_x / (be * (be + t_x)) - q * c_b * (T - t_x) / ((be + T) * (be + t_x));
            if (branch_alpha) {
                gd[1] += 1.0 / (al + t_x);
                gd[3] -= 1.0 / (be + t_x);
            }
            for (int j = 0; j < 4; j++)
                g[j] += w * (gd[j] + (d1[j] - rho * d2[j]) / one_m_rho);
        }
    }
    return top + log1p(em);
}

/* ln L of one history without ln Γ(r+x) - ln Γ(r), its gradient (without ψ(r+x) - ψ(r))
 * and Δ (above), computing both end terms. */
static double pnbd_core(const double *p, double x, double t_x, double T, double *g,
                        double *delta_out)
{
    int branch_alpha = p[1] >= p[3];
    double d1[4] = {0}, d2[4] = {0}, g1 = 0.0, g2 = 0.0;
    if (t_x < T) { /* otherwise A0 = 0 and the end terms are not used */
        g1 = end_term(p, x, t_x, branch_alpha, g ? d1 : NULL);
        g2 = end_term(p, x, T, branch_alpha, g ? d2 : NULL);
    }
    double l_sa = log(p[2] / (p[0] + p[2] + x));
    return pnbd_history(p, x, t_x, T, at_T(p, T), at_T(p, t_x), l_sa, g1, d1, g2, d2, g, delta_out);
}

double sgs_paretonbd_loglik_one(const double *params, double x, double t_x, double T, double *grad)
{
    double dpsi, c = lgamma_ratio(params[0], x, &dpsi);
    double d = pnbd_core(params, x, t_x, T, grad, NULL);
    if (grad)
        grad[0] += dpsi;
    return c + d;
}

double sgs_paretonbd_p_alive(const double *params, double x, double t_x, double T)
{
    double delta = NAN;
    pnbd_core(params, x, t_x, T, NULL, &delta);
    return sgs_sigmoid(-delta);
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
    /* (1 - P(alive)) + P(alive) P0: two terms >= 0, no cancellation when the result is small */
    double delta = NAN;
    pnbd_core(params, x, t_x, T, NULL, &delta);
    double v = sgs_sigmoid(delta) +
               sgs_sigmoid(-delta) * sgs_paretonbd_prob_no_purchase_if_alive(params, t, x, T);
    return v < 1.0 ? v : 1.0; /* the sum of two rounded terms may pass 1 by an ulp */
}

/* ---- Likelihood over histories --------------------------------------------------------------- */

/* The end terms h(x, t) depend on x and one time only: per evaluation they are computed
 * once per distinct (x, t_x) and (x, T) pair that occurs (dense tables over the distinct
 * values, when those are not much larger than the number of histories), and the loop over
 * histories only combines them. */
typedef struct pnbd_eval {
    const sgs_histories_t *h;
    int n_threads;       /* for the loop over histories */
    int n_threads_terms; /* for the end terms, weighted by their cost */
    size_t n_blocks;
    double *ws;        /* [3 n_x_values] per x, [4 n_T_values] per T, [4 n_t_x_values] per t_x,
                          [5 n_blocks] partials */
    int tables;        /* 1 when the pair tables below are used */
    size_t n_lo, n_hi; /* n_x_values * n_t_x_values, n_x_values * n_T_values */
    uint8_t *used_lo;  /* [n_lo] pair (x, t_x) occurs */
    uint8_t *used_hi;  /* [n_hi] pair (x, T) occurs */
    double *lo, *hi;   /* [n_lo * 5], [n_hi * 5]: ln G and its 4 derivatives */
} pnbd_eval_t;

/* An end term (one ₂F₁ with derivatives, 0.3-3 µs) costs about as much as this many items
 * of the cheap loops SGS_BLOCK_ROWS is sized for: the thread count of the end-term loop
 * follows the work, not the number of terms. */
#define PNBD_TERM_WEIGHT 64

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
    e->ws = sgs_alloc_array(
        3 * h->n_x_values + 4 * (h->n_T_values + h->n_t_x_values) + 5 * e->n_blocks, sizeof *e->ws);
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
        size_t n_used = 0;
        for (size_t i = 0; i < h->n_unique; i++) {
            uint8_t *lo = &e->used_lo[(size_t)h->x_id[i] * h->n_t_x_values + h->t_x_id[i]];
            uint8_t *hi = &e->used_hi[(size_t)h->x_id[i] * h->n_T_values + h->T_id[i]];
            n_used += !*lo + !*hi;
            *lo = *hi = 1;
        }
        e->tables = 1;
        e->n_threads_terms = sgs_exec_threads_for(exec, n_used * PNBD_TERM_WEIGHT);
    }
    return SGS_OK;
}

/* Fill a pair table: entry k is (x_values[k / n_t], times[k % n_t]). */
static void fill_table(const pnbd_eval_t *e, const double *p, const uint8_t *used, double *tab,
                       size_t n_pairs, const double *times, size_t n_t, int want_grad)
{
    const sgs_histories_t *h = e->h;
    int branch_alpha = p[1] >= p[3];
#pragma omp parallel for num_threads(e->n_threads_terms) schedule(dynamic, 256)
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
    size_t nT = h->n_T_values, ntx = h->n_t_x_values;
    double *cx = e->ws, *dcx = cx + nx, *lsa = dcx + nx, *vt = lsa + nx, *vx = vt + 4 * nT;
    double *part = vx + 4 * ntx;
    for (size_t k = 0; k < nx; k++) {
        cx[k] = lgamma_ratio(r, h->x_values[k], &dcx[k]);
        lsa[k] = log(s / (r + s + h->x_values[k]));
    }
    for (size_t k = 0; k < nT; k++) {
        pnbd_at_T_t v = at_T(p, h->T_values[k]);
        memcpy(vt + 4 * k, &v, sizeof v);
    }
    for (size_t k = 0; k < ntx; k++) {
        pnbd_at_T_t v = at_T(p, h->t_x_values[k]);
        memcpy(vx + 4 * k, &v, sizeof v);
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
                pnbd_at_T_t v_T, v_x;
                memcpy(&v_T, vt + 4 * (size_t)h->T_id[i], sizeof v_T);
                memcpy(&v_x, vx + 4 * (size_t)h->t_x_id[i], sizeof v_x);
                if (!(h->t_x[i] < h->T[i]))
                    hi = lo;
                d = pnbd_history(p, h->x[i], h->t_x[i], h->T[i], v_T, v_x, lsa[h->x_id[i]], lo[0],
                                 lo + 1, hi[0], hi + 1, want_grad ? g : NULL, NULL);
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
    double sc = 0.0, sdc = 0.0;
    for (size_t k = 0; k < nx; k++) {
        sc += h->count_by_x[k] * cx[k];
        sdc += h->count_by_x[k] * dcx[k];
    }
    *ll = sc + acc[0];
    if (grad_log) {
        grad_log[0] = r * (sdc + acc[1]);
        grad_log[1] = al * acc[2];
        grad_log[2] = s * acc[3];
        grad_log[3] = be * acc[4];
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

/* ---- Serial reference twin ------------------------------------------------------------ */

int sgs_paretonbd_loglik_ref(const double *params, const sgs_histories_t *h, double *ll,
                             sgs_error_t *err)
{
    if (!params_ok(params, 4))
        return sgs_error_set(err, SGS_EINVAL, "Pareto/NBD: parameters must be finite and > 0");
    double sum = 0.0;
    for (size_t i = 0; i < h->n_unique; i++)
        sum += h->count[i] * sgs_paretonbd_loglik_one(params, h->x[i], h->t_x[i], h->T[i], NULL);
    *ll = sum;
    return SGS_OK;
}
