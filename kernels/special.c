/*
 * kernels/special.c — log-space helpers, digamma, ₂F₁(a, b; a+1; z) and the BG/NBD
 * expectation factor. See special.h for the contracts and the methods.
 */
/* lgamma_r is a GNU/BSD extension; plain lgamma writes the global signgam. */
#define _DEFAULT_SOURCE 1

#include "kernels/special.h"

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

/* ---- BG/NBD expectation factor --------------------------------------------------------- */

double sgs_hyp2f1_euler_q(double d, double e, double c, double z)
{
    if (!(c > 0.0) || !(z >= 0.0) || !(z < 1.0) || !isfinite(d) || !isfinite(e))
        return NAN;
    double l1mz = log1p(-z);
    double el = e * l1mz;
    /* -expm1(e L)/e with its series near e L = 0 (exact limit -L at e = 0) */
    double first;
    if (fabs(el) < 1e-5)
        first = -l1mz * (1.0 + el * (0.5 + el / 6.0));
    else
        first = -expm1(el) / e;
    /* H = Σ_{k>=1} (d)_k (e+1)_(k-1) / ((c)_k k!) z^k */
    double h = 0.0;
    if (z > 0.0 && d != 0.0) {
        double term = d * z / c;
        h = term;
        double past_signs = fmax(-d, -e); /* beyond this k every factor is positive */
        for (int k = 1; k < 100000; k++) {
            term *= (d + k) * (e + k) / ((c + k) * (k + 1.0)) * z;
            h += term;
            if (k > past_signs && fabs(term) <= 1e-17 * fabs(h))
                break;
            if (term == 0.0)
                break;
        }
    }
    return first - exp(el) * h;
}
