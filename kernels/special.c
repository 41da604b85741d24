/*
 * kernels/special.c — log-space helpers, digamma, ₂F₁(a, b; a+1; z) and the BG/NBD
 * expectation factor. See special.h for the contracts and the methods.
 */
/* lgamma_r is a GNU/BSD extension; plain lgamma writes the global signgam. */
#define _DEFAULT_SOURCE 1

#include "kernels/special.h"
#include "kernels/special_internal.h"

#include "kernels/core.h"

#include <math.h>

/* ---- Log-space helpers ---------------------------------------------------------------- */

double sgs_lgamma(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

double sgs_digamma(double x)
{
    if (!(x > 0.0))
        return NAN;
    double acc = 0.0;
    while (x < 10.0) {
        acc -= 1.0 / x;
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    /* A&S 6.3.18: Bernoulli terms B_2k / (2k) for k = 1..7 */
    double series =
        f * (1.0 / 12 -
             f * (1.0 / 120 -
                  f * (1.0 / 252 -
                       f * (1.0 / 240 - f * (1.0 / 132 - f * (691.0 / 32760 - f * (1.0 / 12)))))));
    return acc + log(x) - 0.5 / x - series;
}

double sgs_trigamma(double x)
{
    if (!(x > 0.0))
        return NAN;
    double acc = 0.0;
    while (x < 10.0) {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    /* B_2k for k = 1..7: 1/6, -1/30, 1/42, -1/30, 5/66, -691/2730, 7/6 */
    double series =
        f * (1.0 / 6 -
             f * (1.0 / 30 -
                  f * (1.0 / 42 -
                       f * (1.0 / 30 - f * (5.0 / 66 - f * (691.0 / 2730 - f * (7.0 / 6)))))));
    return acc + (1.0 + 0.5 / x + series) / x;
}

double sgs_logaddexp(double a, double b)
{
    if (a == -HUGE_VAL && b == -HUGE_VAL)
        return -HUGE_VAL;
    double hi = a > b ? a : b;
    double lo = a > b ? b : a;
    return hi + log1p(exp(lo - hi));
}

double sgs_log1pexp(double x)
{
    if (x > 0.0)
        return x + log1p(exp(-x));
    return log1p(exp(x));
}

double sgs_log1mexp(double x)
{
    if (x > 0.0)
        return NAN;
    if (x > -0.6931471805599453)
        return log(-expm1(x));
    return log1p(-exp(x));
}

double sgs_sigmoid(double x)
{
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* ---- ₂F₁(a, b; a+1; z) ------------------------------------------------------------------
 *
 * Notation (special.h): p = a + 1 - b > 0, zc = 1 - z, σ0 = ln(zc / z), and
 *   ψ(σ) = (1 - b) σ - p ln(1 + e^σ),   F = a z^-a ∫_{σ0}^∞ e^ψ(σ) dσ.
 * Positions inside the integral are w = σ - σ0 >= 0, so that e^σ = (zc / z) e^w and
 * 1 + e^σ = (1 + zc (e^w - 1)) / z are formed from zc without rounding 1 - z. */

#define HYP_TOL 1e-16           /* truncation of every sum and integral, relative: below rounding */
#define HYP_TOL_D 1e-15         /* the same for the derivatives' own tails, where they are longer */
#define HYP_SERIES_MAX_TERMS 64 /* z <= 1/2: both tail bounds are met within 60 terms */
#define HYP_TRY_TERMS 128       /* z > 1/2: the series is tried when predicted to end this soon */
#define HYP_PFAFF_MAX_TERMS 64  /* Pfaff's series: used when it ends this soon */
#define HYP_EXPAND_MAX_TERMS 64 /* terms shrink at least 2x each: met by term 60 */
#define HYP_MAX_PANELS 64
#define HYP_PANEL_SLOPE 3.0 /* panel width x max |ψ'| on it */
#define HYP_PANEL_CURV 1.0  /* panel width² x max |ψ''| on it */
#define HYP_PANEL_MAX_W 3.0 /* widest panel */

/* Euler's transformation (A&S 15.3.3): F = zc^(1-b) Σ_k t_k, t_0 = 1,
 * t_{k+1} = t_k (p+k)/(a+1+k) z. With b > 0 every ratio is below z, so the tail after t_k
 * is at most t_k z/zc (and that of the z-derivative Σ k t_k / z at most t_k (k zc + 1)/zc²). Writes
 * ln F and its derivatives in a, b, z (∂ ln t_k/∂a = Σ_{j<k} b/((p+j)(a+1+j)), ∂ ln t_k/∂b =
 * -Σ_{j<k} 1/(p+j)). Returns 0, or -1 when the tail bound was not met within max_terms (outputs
 * untouched). */
static int hyp_euler_series(double a, double b, double p, double z, double zc, int max_terms,
                            double lf[2], double d[3], int *work)
{
    double t = 1.0, g = 1.0, g_a = 0.0, g_b = 0.0, g_z = 0.0;
    double s_p = 0.0, s_pe = 0.0;
    int k = 0;
    for (; k < max_terms; k++) {
        double pk = p + k, ie = 1.0 / (a + 1.0 + k), ip = 1.0 / pk, ratio = pk * ie;
        g_z += (k + 1.0) * t * ratio; /* ∂t_{k+1}/∂z = (k+1) t_k ratio */
        s_p += ip;
        s_pe += b * ip * ie;
        t *= ratio * z;
        g += t;
        g_a += t * s_pe;
        g_b -= t * s_p;
        /* tails after t = t_{k+1}: of g below t z/zc, of g_z (Σ j t_j / z) below
         * t ((k+1) zc + 1)/zc² */
        if (t * z <= HYP_TOL * zc * g && t * ((k + 1.0) * zc + 1.0) <= HYP_TOL_D * zc * zc * g_z)
            break;
    }
    *work += k + 1;
    if (k == max_terms)
        return -1;
    double lzc = log(zc);
    lf[0] = lzc + log(g);
    lf[1] = lf[0] - b * lzc;
    d[0] = g_a / g;
    d[1] = -lzc + g_b / g;
    d[2] = (b - 1.0) / zc + g_z / g;
    return 0;
}

/* The series above for z > 1/2, when it will meet its tail bound within HYP_TRY_TERMS
 * terms: t_K <= z^K ((a+1)/(a+1+K))^b (each ratio is 1 - b/(a+1+k)), so the test
 * t_K z/zc <= HYP_TOL says in advance whether to try. Returns -1 when not tried. */
static int hyp_euler_series_tried(double a, double b, double p, double z, double zc, double lf[2],
                                  double d[3], int *work)
{
    double K = HYP_TRY_TERMS - 1;
    if (K * log(z) - b * log1p(K / (a + 1.0)) + log(z / zc) > log(HYP_TOL))
        return -1;
    return hyp_euler_series(a, b, p, z, zc, HYP_TRY_TERMS, lf, d, work);
}

/* Pfaff's transformation (A&S 15.3.4): F = zc^-b ₂F₁(1, b; a+1; w), w = -z/zc, and
 *   ₂F₁(1, b; a+1; w) = a ∫_0^1 (1-u)^(a-1) (1 + |w| u)^-b du = Σ_{k<K} T_k + R_K,
 *   T_k = (b)_k / (a+1)_k w^k.
 * (1 + x)^-b is completely monotone in x >= 0, so its Taylor remainder after K terms is at
 * most the first omitted term in size, and |R_K| <= |T_K| whether or not the series
 * converges (|w| > 1 when z > 1/2): the sum is cut where the next term falls below HYP_TOL
 * of the sum, before the terms start to grow. This is accurate when (a+1) zc / z is large
 * against b: large a, the case the other series converge slowly. Returns 0, or -1 when
 * the terms grow first or max_terms is reached (outputs untouched). */
static int hyp_pfaff_series(double a, double b, double z, double zc, int max_terms, double lf[2],
                            double d[3], int *work)
{
    double r = z / zc, t = 1.0, g = 1.0, g_a = 0.0, g_b = 0.0, g_z = 0.0;
    double s_a = 0.0, s_b = 0.0;
    int k = 0, ok = 0;
    for (; k < max_terms; k++) {
        double ratio = (b + k) / (a + 1.0 + k) * r;
        if (ratio >= 1.0)
            break;
        if (k > 0 && fabs(t) * ratio <= HYP_TOL * fabs(g)) {
            ok = 1;
            break;
        }
        s_a += 1.0 / (a + 1.0 + k);
        s_b += 1.0 / (b + k);
        t *= -ratio;
        g += t;
        g_a -= t * s_a;
        g_b += t * s_b;
        g_z += (k + 1.0) * t;
    }
    *work += k + 1;
    if (!ok || !(g > 0.0))
        return -1;
    double lzc = log(zc);
    lf[0] = log(g);
    lf[1] = lf[0] - b * lzc;
    d[0] = g_a / g;
    d[1] = -lzc + g_b / g;
    d[2] = b / zc + g_z / (g * z * zc);
    return 0;
}

typedef struct hyp_logit {
    double b1;      /* 1 - b */
    double p;       /* a + 1 - b > 0 */
    double zc;      /* 1 - z */
    double lzc, lz; /* ln(1 - z), ln z */
    double ref;     /* max of ψ(σ0 + w) - ψ(σ0) over the range: every integrand is <= 1 */
} hyp_logit_t;

/* Integrals over a range of w, relative to e^(ψ(σ0) + ref): of e^ψ, of -ln(1+e^σ) e^ψ
 * (∂ψ/∂a) and of ln(1+e^-σ) e^ψ (∂ψ/∂b). */
typedef struct hyp_sums {
    double v, ga, gb;
} hyp_sums_t;

/* zc (e^w - 1) = 1 + e^σ times z, minus 1; exp(ln zc + w) for large w cannot overflow. */
static double hyp_x(const hyp_logit_t *q, double w)
{
    return w < 1.0 ? q->zc * expm1(w) : exp(q->lzc + w) - q->zc;
}

/* ψ(σ0 + w) - ψ(σ0), with ds = ln(1 + X) = ln(1 + e^σ) - ln(1 + e^σ0). */
static double hyp_dpsi(const hyp_logit_t *q, double w, double x, double *ds)
{
    *ds = log1p(x);
    return q->b1 * w - q->p * *ds;
}

/* ∫_0^L e^(-y w / L) dw and ∫_0^L w e^(-y w / L) dw for y = -cL >= 0 (c <= 0), given
 * em = e^-y - 1; the second by its series Σ_k (-y)^k / (k! (k+2)) L² below y = 1, where
 * the closed form cancels. */
static void hyp_e12(double y, double em, double L, double *e1, double *e2)
{
    *e1 = y > 0.0 ? -em / y * L : L;
    if (y >= 1.0) {
        *e2 = (-em - y * (1.0 + em)) / (y * y) * L * L;
        return;
    }
    double term = 1.0, sum = 0.5;
    for (int k = 1; k < 30; k++) {
        term *= -y / k;
        double add = term / (k + 2.0);
        sum += add;
        if (fabs(add) <= HYP_TOL * sum)
            break;
    }
    *e2 = sum * L * L;
}

/* The range σ0 <= σ <= σe = σ0 + L, where e^σe = 1/(4 max(p, 1)): with
 * (1 + e^σ)^-p = Σ_j (-1)^j (p)_j / j! e^(jσ), each term integrates in closed form,
 *   ∫ e^((1-b+j) σ) dσ,  anchored at σ0 when c = 1-b+j < 0 and at σe otherwise,
 * so that no exponential grows and nothing divides by c near 0 (e^-|c|L is carried from
 * term to term, and recomputed by expm1 where |c| L < 1). The terms alternate and each is
 * at most (p+j)/(j+1) e^σe <= 1/4 (for the ∂a sum 1/2) of the one before. */
static void hyp_expand(const hyp_logit_t *q, double sigma0, double L, hyp_sums_t *s, int *work)
{
    double p = q->p, c0 = q->b1, sigma_e = sigma0 + L;
    double log_pre = -p * q->lz - q->ref; /* (1 + e^σ0)^p e^-ref, at most e^(1/4) */
    double pre_lo = exp(log_pre), pre_hi = exp(log_pre + c0 * L);
    double x0 = exp(sigma0), xe = exp(sigma_e), eL = exp(L), emL = exp(-L);
    double pow0 = 1.0, powe = 1.0, ey = exp(-fabs(c0) * L); /* e^-|c| L */
    double coef = 1.0, harm = 0.0, sign = 1.0, v = 0.0, ga = 0.0, gs = 0.0;
    int j = 0;
    for (; j < HYP_EXPAND_MAX_TERMS; j++) {
        double c = c0 + j, y = fabs(c) * L, e1, e2, k0, k1;
        hyp_e12(y, y < 1.0 ? expm1(-y) : ey - 1.0, L, &e1, &e2);
        if (c < 0.0) { /* ∫ e^(jσ) e^((1-b)(σ-σ0)) dσ and the same with weight -σ */
            k0 = pre_lo * pow0 * e1;
            k1 = pre_lo * pow0 * (-sigma0 * e1 - e2);
        } else {
            k0 = pre_hi * powe * e1;
            k1 = pre_hi * powe * (-sigma_e * e1 + e2);
        }
        double tv = sign * coef * k0, ta = sign * coef * harm * k0, ts = sign * coef * k1;
        v += tv;
        ga += ta;
        gs += ts;
        if (j > 0 && fabs(tv) <= HYP_TOL * fabs(v) && fabs(ta) <= HYP_TOL * fabs(ga) &&
            fabs(ts) <= HYP_TOL * fabs(gs))
            break;
        harm += 1.0 / (p + j);
        coef *= (p + j) / (j + 1.0);
        sign = -sign;
        pow0 *= x0;
        powe *= xe;
        /* |c| steps down by 1 while c < 0 and up by 1 after */
        double c_next = c + 1.0;
        if (fabs(c_next) * L < 1.0 || (c < 0.0 && !(c_next < 0.0 && ey > 0.0)))
            ey = exp(-fabs(c_next) * L); /* near 0, at the change of sign, after underflow */
        else
            ey *= c_next < 0.0 ? eL : emL;
    }
    *work += j + 1;
    s->v += v;
    s->ga += ga;      /* Σ (-1)^j ∂_p[(p)_j/j!] ... = ∫ -ln(1+e^σ) e^ψ */
    s->gb += gs - ga; /* ∫ (ln(1+e^σ) - σ) e^ψ */
}

/* Gauss-Legendre, 12 points on [0, 1]: the lower half of the nodes and their weights. */
static const double gl_y[6] = {0.0092196828766403746547, 0.047941371814762571661,
                               0.11504866290284765648,   0.20634102285669127635,
                               0.31608425050090990312,   0.43738329574426554226};
static const double gl_w[6] = {0.023587668193255913597, 0.05346966299765921548,
                               0.080039164271673113167, 0.10158371336153296087,
                               0.11674626826917740438,  0.1245735229067013925};

static void hyp_node(const hyp_logit_t *q, double w, double weight, hyp_sums_t *s)
{
    double ds, f = weight * exp(hyp_dpsi(q, w, hyp_x(q, w), &ds) - q->ref);
    s->v += f;
    s->ga += f * (q->lz - ds);
    s->gb += f * (ds - q->lzc - w);
}

/* Panels of Gauss-Legendre from w to w_end. ψ is concave (ψ'' = -p ρ(1-ρ), ρ = the logistic
 * of σ), so each panel is as wide as its bounds on |ψ'| and |ψ''| allow, and the rest of
 * the range is skipped once the tangent bound e^ψ(w) / |ψ'(w)| on it falls below
 * HYP_TOL of the total (beyond = the part of the integral after w_end). Returns 0, or -1
 * after HYP_MAX_PANELS panels. */
static int hyp_panels(const hyp_logit_t *q, double w, double w_end, double beyond, hyp_sums_t *s,
                      int *work)
{
    double p = q->p;
    for (int n = 0; w < w_end; n++) {
        if (n == HYP_MAX_PANELS)
            return -1;
        double x = hyp_x(q, w), ds, rho = (q->zc + x) / (1.0 + x);
        double lam = q->b1 - p * rho; /* ψ'(w) */
        double f = exp(hyp_dpsi(q, w, x, &ds) - q->ref);
        double done = s->v + beyond, rel = lam < 0.0 ? f / (-lam * done) : HUGE_VAL;
        if (rel <= HYP_TOL)
            break;
        /* the rest is at most rel of the total: its panels may be wider, their relative
         * error (about (L/2)^24/24! for 12 points and a slope budget L) only has to stay
         * below HYP_TOL / rel */
        double budget = rel <= 1.3e-12  ? 4.0
                        : rel <= 2.2e-8 ? 8.0 / 3.0
                        : rel <= 2.2e-5 ? 2.0
                                        : 1.0;
        double k_slope = HYP_PANEL_SLOPE * budget, k_curv = HYP_PANEL_CURV * budget * budget;
        /* start from the bounds at w itself, then shrink until they hold over the panel */
        double h = fmin(fmin(w_end - w, HYP_PANEL_MAX_W * budget),
                        fmin(k_slope / fabs(lam), sqrt(k_curv / (p * rho))));
        for (;;) {
            double rho_end = fmin(rho * exp(h), 1.0); /* ρ(w + h) <= ρ(w) e^h */
            double slope = fabs(lam) + p * (rho_end - rho), curv = p * fmin(rho_end, 0.25);
            if (h * slope <= k_slope && h * h * curv <= k_curv)
                break;
            h *= 0.75;
        }
        int last = h >= w_end - w;
        for (int k = 0; k < 6; k++) {
            hyp_node(q, w + h * gl_y[k], h * gl_w[k], s);
            hyp_node(q, w + h * (1.0 - gl_y[k]), h * gl_w[k], s);
        }
        *work += 12;
        if (last)
            break;
        w += h;
    }
    return 0;
}

/* z > 1/2: the integral over σ0 <= σ <= 0 (expansion, then panels) plus the part beyond
 * σ = 0, which is F(a, b; a+1; 1/2) 2^-a / a by the series. */
static int hyp_logit_method(double a, double b, double p, double z, double zc, double lf[2],
                            double d[3], int *work)
{
    hyp_logit_t q = {1.0 - b, p, zc, log(zc), log1p(-zc), 0.0};
    double sigma0 = q.lzc - q.lz, w_end = -sigma0, ds;
    /* ψ' = 1 - b - p ρ vanishes at ρ = (1-b)/p: the maximum over the range */
    double w_max = 0.0;
    if (b < 1.0) {
        double rho = (1.0 - b) / p;
        if (rho >= 0.5)
            w_max = w_end;
        else if (rho > zc)
            w_max = fmin(log(rho / (1.0 - rho)) - sigma0, w_end);
    }
    if (w_max > 0.0)
        q.ref = hyp_dpsi(&q, w_max, hyp_x(&q, w_max), &ds);
    double lf0[2], d0[3];
    hyp_euler_series(a, b, p, 0.5, 0.5, HYP_SERIES_MAX_TERMS, lf0, d0, work);
    /* ln of the part beyond σ = 0 relative to e^(ψ(σ0) + ref); ψ(σ0) = (1-b) ln zc + a ln z */
    double beyond = exp(lf0[1] - a * M_LN2 - log(a) - q.b1 * q.lzc - a * q.lz - q.ref);
    hyp_sums_t s = {0.0, 0.0, 0.0};
    double sigma_e = -log(4.0 * fmax(p, 1.0)), w_start = 0.0;
    if (sigma_e > sigma0) {
        w_start = sigma_e - sigma0;
        hyp_expand(&q, sigma0, w_start, &s, work);
    }
    if (hyp_panels(&q, w_start, w_end, beyond, &s, work) != 0)
        return -1;
    double total = s.v + beyond;
    /* ln F = ln a - a ln z + ψ(σ0) + ref + ln total; ∂a from a F z^a = a ∫, whose part
     * beyond 0 is F(1/2) 2^-a, so that no 1/a cancels; ∂z from the moving end σ0. */
    lf[0] = log(a) + q.lzc + q.ref + log(total);
    lf[1] = lf[0] - b * q.lzc;
    d[0] = -q.lz + s.v / (a * total) + (s.ga + beyond * (d0[0] - M_LN2)) / total;
    d[1] = (s.gb + beyond * d0[1]) / total;
    d[2] = -a / z + exp(-q.ref - log(total) - q.lz - q.lzc);
    return 0;
}

int sgs_hyp2f1_ap1_ex(double a, double b, double p, double z, double zc, sgs_hyp2f1_t *out)
{
    if (!(a > 0.0) || !(b > 0.0) || !(p > 0.0) || !isfinite(a) || !isfinite(b) || !isfinite(p) ||
        !(z >= 0.0) || !(zc > 0.0) || !(zc <= 1.0) ||
        !(fabs(a + 1.0 - b - p) <= 1e-12 * (a + 1.0 + b)) || !(fabs(z + zc - 1.0) <= 1e-12))
        return SGS_EINVAL;
    int work = 0, rc;
    double lf[2], d[3];
    if (z <= 0.5)
        rc = hyp_euler_series(a, b, p, z, zc, HYP_SERIES_MAX_TERMS, lf, d, &work);
    else if ((rc = hyp_euler_series_tried(a, b, p, z, zc, lf, d, &work)) != 0 &&
             (b * z > 0.5 * (a + 1.0) * zc ||
              (rc = hyp_pfaff_series(a, b, z, zc, HYP_PFAFF_MAX_TERMS, lf, d, &work)) != 0))
        rc = hyp_logit_method(a, b, p, z, zc, lf, d, &work);
    if (rc != 0)
        return SGS_EINVAL;
    out->log_fs = lf[0];
    out->log_f = lf[1];
    for (int j = 0; j < 3; j++)
        out->d[j] = d[j];
    out->n_work = work;
    return SGS_OK;
}

int sgs_hyp2f1_ap1(double a, double b, double z, double *log_f, double *d_log_f)
{
    sgs_hyp2f1_t r;
    int rc = sgs_hyp2f1_ap1_ex(a, b, a + 1.0 - b, z, 1.0 - z, &r);
    if (rc != SGS_OK)
        return rc;
    *log_f = r.log_f;
    if (d_log_f)
        for (int j = 0; j < 3; j++)
            d_log_f[j] = r.d[j];
    return SGS_OK;
}

/* Kronrod 15-point abscissae and weights, Gauss 7-point weights (QUADPACK qk15). */
static const double gk_x[8] = {
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0};
static const double gk_w[8] = {
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
static const double g7_w[4] = {
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

/* ---- Expected purchases of the BG/NBD family ------------------------------------------ */

#define BG_U 1.1102230246251565e-16 /* unit roundoff, 2^-53 */
#define BG_EULER_MAX_TERMS 2000
#define BG_EULER_TOL 1e-12
#define BG_SUM_MAX_TERMS 4000
#define BG_SERIES_TERMS 32
#define BG_QUAD_MAX_PANELS 256
#define BG_QUAD_TOL 1e-14

/* Branch 1, Euler's transformation. With c = a+B-1 > 0, d = c-R, e = a-1 and z = u/(1+u),
 *   E = c [(1 - (1-z)^e)/e - (1-z)^e H],  H = Σ_{k>=1} (d)_k (e+1)_(k-1) / ((c)_k k!) z^k,
 * since 2F1(d, e; c; z) = 1 + e H. Summed with a rigorous tail bound (below) and Higham's
 * running error bound; returns -1 (and writes nothing) unless the sum converged within
 * BG_EULER_MAX_TERMS terms and the bound on the rounding error is at most BG_EULER_TOL of
 * the result. */
static int bg_mean_euler(double R, double a, double B, double u, double *out)
{
    double c = a + B - 1.0, d = c - R, e = a - 1.0;
    double z = u / (1.0 + u), l1mz = -log1p(u), el = e * l1mz;
    /* (1 - (1-z)^e)/e, by its series near e ln(1-z) = 0 (exact limit -ln(1-z) at e = 0) */
    double first = fabs(el) < 1e-5 ? -l1mz * (1.0 + el * (0.5 + el / 6.0)) : -expm1(el) / e;
    double e1 = exp(el);
    double h = 0.0, abs_partial = 0.0, weighted = 0.0, tail = 0.0;
    if (d != 0.0) {
        double t = d * z / c;
        h = t;
        abs_partial = fabs(h);
        weighted = 2.0 * fabs(t);
        /* Beyond k > kpos every factor is positive, and the ratio of consecutive terms,
         * z (d+k)(e+k)/((c+k)(k+1)) = z (1 + ((a-2-R) k + de - c)/(k^2 + (c+1) k + c)), is at
         * most z (1 + up/k + uq/k^2) for every later k. */
        double kpos = fmax(fmax(-d, -e), 0.0);
        double up = fmax(a - 2.0 - R, 0.0), uq = fmax(d * e - c, 0.0);
        int done = 0;
        for (int k = 1; k < BG_EULER_MAX_TERMS; k++) {
            t *= (d + k) * (e + k) / ((c + k) * (k + 1.0)) * z;
            h += t;
            abs_partial += fabs(h);
            weighted += (k + 2.0) * fabs(t);
            if (t == 0.0) { /* d is a negative integer: the series ends */
                done = 1;
                break;
            }
            /* every fourth term: the bound is worth computing once the term is negligible */
            double kk = k + 1.0;
            if ((k & 3) == 0 && e1 * fabs(t) <= 1e-14 * fabs(first - e1 * h) && kk > kpos) {
                double rho = z * (1.0 + up / kk + uq / (kk * kk));
                if (rho < 1.0) {
                    tail = fabs(t) * rho / (1.0 - rho);
                    if (e1 * tail <= 0.25 * BG_U * fabs(first - e1 * h)) {
                        done = 1;
                        break;
                    }
                }
            }
        }
        if (!done)
            return -1;
    }
    double q = first - e1 * h;
    /* rounding: 7 operations per term ratio, the running sums, exp and expm1 of el */
    double err = BG_U * (4.0 * fabs(first) + 3.0 * e1 * fabs(l1mz) + fabs(q) +
                         e1 * (8.0 * weighted + abs_partial + (4.0 + 3.0 * fabs(el)) * fabs(h))) +
                 e1 * tail;
    if (!(q > 0.0) || !(err <= BG_EULER_TOL * q))
        return -1;
    *out = c * q;
    return 0;
}

/* Branch 2, the sum over the purchase opportunities. Given λ, the purchases an alive customer
 * would make if never dropping out are Poisson; mixed over λ ~ Gamma they are negative
 * binomial, π_j = (1-z)^R (R)_j z^j / j!. Of j opportunities the customer uses the first
 * min(j, N) where N is the number of purchases before dropping out, so
 *   E = Σ_{j>=1} π_j h_j,  h_j = Σ_{k<j} ρ_k,  ρ_k = E[(1-p)^k] = (B)_k / (a+B)_k,
 * every term positive (no cancellation, for any c). The π_j are computed unnormalized from
 * π_0 = 1 and E = Σ π_j h_j / Σ π_j: (1-z)^R may underflow, and the ratio cancels the drift
 * that the rounding of z would give the powers z^j. Stops when the tail bounds
 * π_j q/(1-q) (denominator) and π_j (h_j q/(1-q) + ρ_j q/(1-q)^2) (numerator) are below
 * 2^-55 of the sums, where q bounds every later ratio π_{i+1}/π_i (non-increasing when
 * R >= 1, below z when R < 1) and h_i <= h_j + (i-j) ρ_j. Rounding: each term carries at
 * most 11 j rounding errors, so both sums are within 12 n 2^-53 after n terms and the ratio
 * within 24 n 2^-53 (1.1e-11 at the term limit). Returns -1 when BG_SUM_MAX_TERMS terms do
 * not reach the bound. */
static int bg_mean_sum(double R, double a, double B, double u, double *out)
{
    double z = u / (1.0 + u);
    double pi = 1.0, num = 0.0, den = 1.0, h = 0.0, rho = 1.0;
    for (int j = 1; j <= BG_SUM_MAX_TERMS; j++) {
        double jm1 = j - 1.0;
        pi *= (R + jm1) / j * z;
        h += rho;
        rho *= (B + jm1) / (a + B + jm1);
        num += pi * h;
        den += pi;
        if (pi > 1e250) {
            pi *= 1e-250;
            num *= 1e-250;
            den *= 1e-250;
        }
        double q = R >= 1.0 ? (R + j) / (j + 1.0) * z : z;
        if (q < 1.0) {
            double tail_den = pi * q / (1.0 - q);
            double tail_num = h * tail_den + pi * rho * q / ((1.0 - q) * (1.0 - q));
            if (tail_num <= 0.25 * BG_U * num && tail_den <= 0.25 * BG_U * den) {
                *out = num / den;
                return 0;
            }
        }
    }
    return -1;
}

/* Branch 3, quadrature. E = N / D with
 *   N = ∫ p^(a-1) (1-p)^(B-1) f(p) dp,  D = ∫ p^(a-1) (1-p)^(B-1) dp = B(a, B),
 *   f(p) = (1 - (1+pu)^-R) / p,
 * both divided by the largest value of p^a (1-p)^B. On [0, P] and [1-Q, 1] the integrands
 * are power series (f and (1-p)^(B-1) in p; (1-q)^(a-2) (1 - (1+u(1-q))^-R) and (1-q)^(a-1)
 * in q = 1-p) integrated term by term, with P and Q small enough that every series'
 * consecutive coefficients shrink by 4 or more (32 terms: truncation below 1e-18). Between,
 * in the logit y = ln(p/(1-p)), dp p^(a-1) (1-p)^(B-1) = p^a (1-p)^B dy: the weight is
 * log-concave with exponential tails and no endpoint singularity, f is smooth and monotone;
 * both are integrated by globally adaptive Gauss-Kronrod (7-15) until the summed error
 * estimates (QUADPACK's) are at most BG_QUAD_TOL of N and of D, or BG_QUAD_MAX_PANELS
 * panels are used. Initial breakpoints: the mode y* = ln(a/B) and, when the weight is
 * narrow, y* ± σ {1, 2, 4, 8, 16} with σ^2 = 1/a + 1/B; panels at most
 * max(4, (y_R - y_L)/48) wide. The ratio cancels the rounding of the normalization. */
typedef struct bg_quad {
    double R, a, B, u;
    double lmode; /* ln max p^a (1-p)^B */
} bg_quad_t;

static void bg_quad_eval(const bg_quad_t *g, double y, double out[2])
{
    double lp = -sgs_log1pexp(-y), lq = -sgs_log1pexp(y);
    double w = exp(g->a * lp + g->B * lq - g->lmode);
    double p = exp(lp);
    out[0] = w * (-expm1(-g->R * log1p(p * g->u)) / p);
    out[1] = w;
}

/* K15 of both integrands over [lo, hi] and QUADPACK's error estimates. */
static void bg_quad_gk15(const bg_quad_t *g, double lo, double hi, double val[2], double err[2])
{
    double c = 0.5 * (lo + hi), hw = 0.5 * (hi - lo);
    double fc[2], f1[7][2], f2[7][2];
    bg_quad_eval(g, c, fc);
    for (int j = 0; j < 7; j++) {
        bg_quad_eval(g, c - hw * gk_x[j], f1[j]);
        bg_quad_eval(g, c + hw * gk_x[j], f2[j]);
    }
    for (int m = 0; m < 2; m++) {
        double k15 = gk_w[7] * fc[m], g7 = g7_w[3] * fc[m];
        for (int j = 0; j < 7; j++) {
            k15 += gk_w[j] * (f1[j][m] + f2[j][m]);
            if (j % 2 == 1)
                g7 += g7_w[j / 2] * (f1[j][m] + f2[j][m]);
        }
        double mean = 0.5 * k15, asc = gk_w[7] * fabs(fc[m] - mean);
        for (int j = 0; j < 7; j++)
            asc += gk_w[j] * (fabs(f1[j][m] - mean) + fabs(f2[j][m] - mean));
        double e = fabs(k15 - g7) * hw;
        asc *= hw;
        if (asc != 0.0 && e != 0.0)
            e = asc * fmin(1.0, pow(200.0 * e / asc, 1.5));
        val[m] = k15 * hw;
        err[m] = e;
    }
}

/* Σ_k c_k / (s + k) for the Cauchy product c of two coefficient lists x and y (scaled by
 * the endpoint's powers already). */
static double bg_series_integral(const double *x, const double *y, double s)
{
    double sum = 0.0;
    for (int k = BG_SERIES_TERMS - 1; k >= 0; k--) {
        double ck = 0.0;
        for (int i = 0; i <= k; i++)
            ck += x[i] * y[k - i];
        sum += ck / (s + k);
    }
    return sum;
}

static double bg_mean_quad(double R, double a, double B, double u)
{
    bg_quad_t g = {R, a, B, u, -a * log1p(B / a) - B * log1p(a / B)};
    double z = u / (1.0 + u);
    double one[BG_SERIES_TERMS], s1[BG_SERIES_TERMS], s2[BG_SERIES_TERMS];
    one[0] = 1.0;
    for (int k = 1; k < BG_SERIES_TERMS; k++)
        one[k] = 0.0;

    /* [0, P]: (1-p)^(B-1) = Σ β_k p^k, f(p) = Σ γ_k p^k, γ_k = (-1)^k (R)_(k+1) u^(k+1)/(k+1)! */
    double P = 0.25 / fmax(fmax(1.0, B - 1.0), fmax(R * u, u));
    s1[0] = 1.0;
    s2[0] = R * u;
    for (int k = 1; k < BG_SERIES_TERMS; k++) {
        s1[k] = s1[k - 1] * ((k - B) / k) * P;
        s2[k] = -s2[k - 1] * ((R + k) / (k + 1.0)) * u * P;
    }
    double wl = exp(a * log(P) - g.lmode);
    double n_left = wl * bg_series_integral(s1, s2, a),
           d_left = wl * bg_series_integral(s1, one, a);

    /* [1-Q, 1]: (1-q)^(a-2) φ(q) with φ(q) = 1 - (1+u(1-q))^-R = 1 - P0 (1-zq)^-R, and
     * (1-q)^(a-1). φ is 1 within 3e-20 on [0, 1/2] when R ln(1+u/2) > 45. */
    int phi_one = R * log1p(0.5 * u) > 45.0;
    double Q = 0.25 / (phi_one ? fmax(2.0, a) : fmax(fmax(2.0, a), R * z));
    double phi[BG_SERIES_TERMS];
    double p0 = phi_one ? 0.0 : exp(-R * log1p(u));
    phi[0] = phi_one ? 1.0 : -expm1(-R * log1p(u));
    double s = p0;
    for (int k = 1; k < BG_SERIES_TERMS; k++) {
        s *= (R + k - 1.0) / k * z * Q;
        phi[k] = -s;
    }
    s1[0] = 1.0; /* (1-q)^(a-2) */
    s2[0] = 1.0; /* (1-q)^(a-1) */
    for (int k = 1; k < BG_SERIES_TERMS; k++) {
        s1[k] = s1[k - 1] * ((k + 1.0 - a) / k) * Q;
        s2[k] = s2[k - 1] * ((k - a) / k) * Q;
    }
    double wr = exp(B * log(Q) - g.lmode);
    double n_right = wr * bg_series_integral(s1, phi, B);
    double d_right = wr * bg_series_integral(s2, one, B);

    /* the logit range between */
    double y_lo = log(P) - log1p(-P), y_hi = log1p(-Q) - log(Q);
    double br[64];
    int nb = 0;
    br[nb++] = y_lo;
    br[nb++] = y_hi;
    double y_mode = log(a / B), sigma = sqrt(1.0 / a + 1.0 / B);
    if (y_mode > y_lo && y_mode < y_hi)
        br[nb++] = y_mode;
    if (sigma < 2.0)
        for (double m = 1.0; m <= 16.0; m *= 2.0)
            for (int sgn = -1; sgn <= 1; sgn += 2) {
                double y = y_mode + sgn * m * sigma;
                if (y > y_lo && y < y_hi)
                    br[nb++] = y;
            }
    for (int i = 1; i < nb; i++) /* insertion sort */
        for (int j = i; j > 0 && br[j - 1] > br[j]; j--) {
            double tmp = br[j];
            br[j] = br[j - 1];
            br[j - 1] = tmp;
        }
    double width = fmax(4.0, (y_hi - y_lo) / 48.0);
    double lo[BG_QUAD_MAX_PANELS], hi[BG_QUAD_MAX_PANELS];
    double val[BG_QUAD_MAX_PANELS][2], err[BG_QUAD_MAX_PANELS][2];
    int n = 0;
    for (int i = 0; i + 1 < nb; i++) {
        int pieces = (int)ceil((br[i + 1] - br[i]) / width);
        for (int j = 0; j < pieces; j++) {
            lo[n] = br[i] + (br[i + 1] - br[i]) * j / pieces;
            hi[n] = j + 1 == pieces ? br[i + 1] : br[i] + (br[i + 1] - br[i]) * (j + 1) / pieces;
            bg_quad_gk15(&g, lo[n], hi[n], val[n], err[n]);
            n++;
        }
    }
    double num = 0.0, den = 0.0;
    for (;;) {
        double en = 0.0, ed = 0.0;
        num = n_left + n_right;
        den = d_left + d_right;
        for (int i = 0; i < n; i++) {
            num += val[i][0];
            den += val[i][1];
            en += err[i][0];
            ed += err[i][1];
        }
        if ((en <= BG_QUAD_TOL * num && ed <= BG_QUAD_TOL * den) || n == BG_QUAD_MAX_PANELS)
            break;
        int worst = 0;
        double worst_err = -1.0;
        for (int i = 0; i < n; i++) {
            double e = fmax(err[i][0] / num, err[i][1] / den);
            if (e > worst_err) {
                worst_err = e;
                worst = i;
            }
        }
        double mid = 0.5 * (lo[worst] + hi[worst]);
        lo[n] = mid;
        hi[n] = hi[worst];
        hi[worst] = mid;
        bg_quad_gk15(&g, lo[worst], hi[worst], val[worst], err[worst]);
        bg_quad_gk15(&g, lo[n], hi[n], val[n], err[n]);
        n++;
    }
    return num / den;
}

int sgs__bg_mean_branch(int branch, double R, double a, double B, double u, double *out)
{
    switch (branch) {
    case 1:
        return a + B - 1.0 > 0.0 && u > 0.0 ? bg_mean_euler(R, a, B, u, out) : -1;
    case 2:
        return u > 0.0 ? bg_mean_sum(R, a, B, u, out) : -1;
    case 3:
        *out = u > 0.0 ? bg_mean_quad(R, a, B, u) : 0.0;
        return 0;
    default:
        return -1;
    }
}

double sgs_bg_mean_purchases(double R, double a, double B, double u)
{
    if (!(R > 0.0) || !(a > 0.0) || !(B > 0.0) || !(u >= 0.0) || !isfinite(R) || !isfinite(a) ||
        !(R * u <= 1e300) || !isfinite(B))
        return NAN;
    if (u == 0.0)
        return 0.0;
    double e;
    if (a + B - 1.0 > 0.0 && 40.0 * (1.0 + u) <= BG_EULER_MAX_TERMS &&
        bg_mean_euler(R, a, B, u, &e) == 0)
        return e;
    double n_est = R * u + 10.0 * sqrt(R * u * (1.0 + u)) + 40.0 * (1.0 + u);
    if (n_est <= BG_SUM_MAX_TERMS && bg_mean_sum(R, a, B, u, &e) == 0)
        return e;
    return bg_mean_quad(R, a, B, u);
}
