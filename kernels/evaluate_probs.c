/*
 * kernels/evaluate_probs.c — P(X(t) = x) of a new customer under BG/NBD, MBG/NBD and
 * Pareto/NBD (formulas and sources in kernels/evaluate_probs.h).
 */
#include "kernels/evaluate_probs.h"

#include "kernels/special.h"

#include <math.h>

/* ---- Shared pieces ------------------------------------------------------------------------ */

static int params_ok(const double *p)
{
    for (int k = 0; k < 4; k++)
        if (!(isfinite(p[k]) && p[k] > 0.0))
            return 0;
    return 1;
}

static int args_ok(const double *p, double t, int x)
{
    return p && params_ok(p) && isfinite(t) && t >= 0.0 && x >= 0;
}

static double log_beta(double a, double b)
{
    return sgs_lgamma(a) + sgs_lgamma(b) - sgs_lgamma(a + b);
}

/* ln NBD(j; t) for t > 0 (see the header): j purchases in t with λ ~ Gamma(r, α). */
static double log_nbd(double r, double alpha, double t, int j)
{
    double lp = -log1p(t / alpha); /* ln(α/(α+t)) */
    double v = r * lp;
    if (j > 0)
        v += sgs_lgamma(r + j) - sgs_lgamma(r) - sgs_lgamma((double)j + 1.0) -
             (double)j * log1p(alpha / t); /* j ln(t/(α+t)) */
    return v;
}

/* S(x; t) = P(N(t) >= x) = 1 - Σ_{j<x} NBD(j; t), clamped to [0, 1]. */
static double nbd_at_least(double r, double alpha, double t, int x)
{
    double head = 0.0;
    for (int j = 0; j < x; j++)
        head += exp(log_nbd(r, alpha, t, j));
    double s = 1.0 - head;
    return s < 0.0 ? 0.0 : s > 1.0 ? 1.0 : s;
}

/* The BG/NBD (m = 0) and MBG/NBD (m = 1):
 * B(a, b+x+m)/B(a,b) NBD(x) + [x + m > 0] B(a+1, b+x-1+m)/B(a,b) S(x). */
static double bg_prob_count(int m, const double *p, double t, int x)
{
    if (!args_ok(p, t, x))
        return NAN;
    double r = p[0], alpha = p[1], a = p[2], b = p[3];
    if (t == 0.0)
        return x == 0 ? 1.0 : 0.0;
    double lb = log_beta(a, b);
    double v = exp(log_beta(a, b + x + m) - lb + log_nbd(r, alpha, t, x));
    if (x + m > 0)
        v += exp(log_beta(a + 1.0, b + x - 1 + m) - lb) * nbd_at_least(r, alpha, t, x);
    return v;
}

double sgs_bgnbd_prob_count(const double *params, double t, int x)
{
    return bg_prob_count(0, params, t, x);
}

double sgs_mbgnbd_prob_count(const double *params, double t, int x)
{
    return bg_prob_count(1, params, t, x);
}

/* ---- Pareto/NBD: the death-time integral ----------------------------------------------------- */

typedef struct death_integrand {
    double r, alpha, s, beta;
    int x;
    double c;         /* min(α, β): the scale of the substitution τ = c (e^v - 1) */
    double log_const; /* ln s + s ln β + lnΓ(r+x) - lnΓ(r) - ln x! + r ln α */
} death_integrand_t;

/* The integrand in v = ln(1 + τ/c) (dτ = (c + τ) dv), which spreads the scales α and β of
 * its rise and decay evenly: (c + τ) s β^s (β+τ)^-(s+1) NBD(x; τ). */
static double death_integrand(const death_integrand_t *f, double v)
{
    double tau = f->c * expm1(v);
    if (!(tau > 0.0))
        return f->x > 0 ? 0.0
                        : exp(f->log_const - (f->s + 1.0) * log(f->beta) - (f->r) * log(f->alpha) +
                              log(f->c));
    double lv = f->log_const + log(f->c + tau) - (f->s + 1.0) * log(f->beta + tau) -
                (f->r + f->x) * log(f->alpha + tau);
    if (f->x > 0)
        lv += f->x * log(tau);
    return exp(lv);
}

/* Gauss-Kronrod 7-15 nodes and weights (Piessens et al. 1983, QUADPACK, dqk15). */
static const double gk_x[8] = {
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0};
static const double gk_wk[8] = {
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
static const double gk_wg[4] = {
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

/* Kronrod estimate over [lo, hi] and its error estimate as QUADPACK's dqk15 makes it:
 * resasc min(1, (200 |K - G| / resasc)^1.5), resasc = ∫|f - mean f| by the Kronrod rule. */
static double gk15(const death_integrand_t *f, double lo, double hi, double *error)
{
    double c = 0.5 * (lo + hi), h = 0.5 * (hi - lo);
    double fv[15];
    fv[7] = death_integrand(f, c);
    for (int j = 0; j < 7; j++) {
        fv[j] = death_integrand(f, c - h * gk_x[j]);
        fv[14 - j] = death_integrand(f, c + h * gk_x[j]);
    }
    double k = gk_wk[7] * fv[7], g = gk_wg[3] * fv[7];
    for (int j = 0; j < 7; j++) {
        double fs = fv[j] + fv[14 - j];
        k += gk_wk[j] * fs;
        if (j % 2 == 1)
            g += gk_wg[j / 2] * fs;
    }
    double mean = 0.5 * k, asc = gk_wk[7] * fabs(fv[7] - mean);
    for (int j = 0; j < 7; j++)
        asc += gk_wk[j] * (fabs(fv[j] - mean) + fabs(fv[14 - j] - mean));
    asc *= fabs(h);
    double e = fabs((k - g) * h);
    if (asc != 0.0 && e != 0.0) {
        double q = pow(200.0 * e / asc, 1.5);
        e = asc * (q < 1.0 ? q : 1.0);
    }
    *error = e;
    return k * h;
}

#define SGS_QUAD_MAX_PIECES 200

/* Globally adaptive integration over [lo, hi] (QUADPACK's dqag strategy): bisect the
 * piece with the largest error estimate until the summed estimate is below rel_tol of the
 * integral, or SGS_QUAD_MAX_PIECES pieces. Serial and deterministic. */
static double integrate(const death_integrand_t *f, double lo, double hi, double rel_tol)
{
    double a[SGS_QUAD_MAX_PIECES], b[SGS_QUAD_MAX_PIECES], val[SGS_QUAD_MAX_PIECES],
        err[SGS_QUAD_MAX_PIECES];
    int n = 1;
    a[0] = lo;
    b[0] = hi;
    val[0] = gk15(f, lo, hi, &err[0]);
    for (;;) {
        double total = 0.0, total_err = 0.0;
        int worst = 0;
        for (int i = 0; i < n; i++) {
            total += val[i];
            total_err += err[i];
            if (err[i] > err[worst])
                worst = i;
        }
        if (total_err <= rel_tol * fabs(total) || n == SGS_QUAD_MAX_PIECES || !isfinite(total))
            return total;
        double mid = 0.5 * (a[worst] + b[worst]);
        a[n] = mid;
        b[n] = b[worst];
        b[worst] = mid;
        val[worst] = gk15(f, a[worst], b[worst], &err[worst]);
        val[n] = gk15(f, a[n], b[n], &err[n]);
        n++;
    }
}

double sgs_paretonbd_prob_count(const double *params, double t, int x)
{
    if (!args_ok(params, t, x))
        return NAN;
    if (t == 0.0)
        return x == 0 ? 1.0 : 0.0;
    double r = params[0], alpha = params[1], s = params[2], beta = params[3];
    /* alive at t: NBD(x; t) (β/(β+t))^s */
    double alive = exp(log_nbd(r, alpha, t, x) - s * log1p(t / beta));
    death_integrand_t f = {r, alpha, s, beta, x, alpha < beta ? alpha : beta, 0.0};
    f.log_const = log(s) + s * log(beta) + sgs_lgamma(r + x) - sgs_lgamma(r) -
                  sgs_lgamma((double)x + 1.0) + r * log(alpha);
    double died = integrate(&f, 0.0, log1p(t / f.c), 1e-12);
    return alive + died;
}

/* ---- Dispatch
 * ------------------------------------------------------------------------------------ */

double sgs_purchase_prob_count(sgs_purchase_model_t model, const double *params, double t, int x)
{
    switch (model) {
    case SGS_MODEL_BGNBD:
        return sgs_bgnbd_prob_count(params, t, x);
    case SGS_MODEL_MBGNBD:
        return sgs_mbgnbd_prob_count(params, t, x);
    case SGS_MODEL_PARETONBD:
        return sgs_paretonbd_prob_count(params, t, x);
    }
    return NAN;
}

int sgs_purchase_count_distribution(sgs_purchase_model_t model, const double *params, double t,
                                    int n_probs, double *probs, double *tail)
{
    if (n_probs < 1 || !probs || !args_ok(params, t, 0) || !sgs_purchase_model_name(model))
        return SGS_EINVAL;
    double sum = 0.0;
    for (int x = 0; x < n_probs; x++) {
        double v = sgs_purchase_prob_count(model, params, t, x);
        if (!isfinite(v))
            return SGS_EINVAL;
        probs[x] = v;
        sum += v;
    }
    if (tail) {
        double rest = 1.0 - sum;
        *tail = rest < 0.0 ? 0.0 : rest > 1.0 ? 1.0 : rest;
    }
    return SGS_OK;
}
