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

/* ---- ₂F₁(a, b; a+1; z): series after Euler's transformation ---------------------------- */

#define HYP_SERIES_MAX_TERMS 500

/* Σ_k t_k with t_0 = 1, t_{k+1} = t_k (d+k)/(e+k) z, 0 < d < e, 0 <= z < 1, and the sums
 * of ∂t_k/∂d, ∂t_k/∂e, ∂t_k/∂z. Returns 0 when the tail bound t_k z/(1-z) fell below
 * 1e-17 of the sum within HYP_SERIES_MAX_TERMS terms, -1 otherwise. */
static int hyp_series(double d, double e, double z, double *g, double *g_d, double *g_e,
                      double *g_z)
{
    double t = 1.0, sum = 1.0, sum_d = 0.0, sum_e = 0.0, sum_z = 0.0;
    double sd = 0.0, se = 0.0; /* Σ_{j<k} 1/(d+j), Σ_{j<k} 1/(e+j) */
    double tail_factor = z / (1.0 - z);
    for (int k = 0; k < HYP_SERIES_MAX_TERMS; k++) {
        double ratio = (d + k) / (e + k);
        double dz = (double)(k + 1) * t * ratio; /* ∂t_{k+1}/∂z = (k+1) t_{k+1} / z */
        sd += 1.0 / (d + k);
        se += 1.0 / (e + k);
        t *= ratio * z;
        sum += t;
        sum_d += t * sd;
        sum_e -= t * se;
        sum_z += dz;
        if (t * tail_factor < 1e-17 * sum) {
            *g = sum;
            *g_d = sum_d;
            *g_e = sum_e;
            *g_z = sum_z;
            return 0;
        }
    }
    return -1;
}

/* ---- ₂F₁(a, b; a+1; z): adaptive Gauss-Kronrod on Euler's integral -------------------- */

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

typedef struct hyp_integrand {
    double inv_a;     /* 1/a */
    double b, z;      /* */
    double log_scale; /* ln(1-z) when b > 0 (scale the integrand by (1-z)^b), else 0 */
} hyp_integrand_t;

/* The four integrands at v in (0, 1): g = (1 - z v^(1/a))^(-b) (1-z)^b-scaled, then
 * -ln(q) g, (w/q) g and (w ln v / q) g with w = v^(1/a), q = 1 - z w. */
static void hyp_eval(const hyp_integrand_t *p, double v, double out[4])
{
    double lv = log(v);
    double w = exp(lv * p->inv_a);
    double q = 1.0 - p->z * w;
    double lq = log(q);
    double g = exp(p->b * (p->log_scale - lq));
    out[0] = g;
    out[1] = -lq * g;
    out[2] = (w / q) * g;
    out[3] = (w * lv / q) * g;
}

/* K15 and G7 estimates of the four integrals over [lo, hi]. */
static void hyp_gk15(const hyp_integrand_t *p, double lo, double hi, double k15[4], double g7[4])
{
    double c = 0.5 * (lo + hi), h = 0.5 * (hi - lo);
    double f[4];
    hyp_eval(p, c, f);
    for (int m = 0; m < 4; m++) {
        k15[m] = gk_w[7] * f[m];
        g7[m] = g7_w[3] * f[m];
    }
    for (int j = 0; j < 7; j++) {
        double f1[4], f2[4];
        hyp_eval(p, c - h * gk_x[j], f1);
        hyp_eval(p, c + h * gk_x[j], f2);
        for (int m = 0; m < 4; m++) {
            k15[m] += gk_w[j] * (f1[m] + f2[m]);
            if (j % 2 == 1)
                g7[m] += g7_w[j / 2] * (f1[m] + f2[m]);
        }
    }
    for (int m = 0; m < 4; m++) {
        k15[m] *= h;
        g7[m] *= h;
    }
}

#define HYP_QUAD_MAX_INTERVALS 1000

/* Globally adaptive Gauss-Kronrod (QUADPACK qag without extrapolation): the interval with
 * the largest error estimate |K15 - G7| of the value integral is bisected until the sum of
 * the estimates is at most 1e-14 of the integral, or HYP_QUAD_MAX_INTERVALS is reached.
 * Ties go to the leftmost interval, so the sequence of bisections, and the result, is a
 * pure function of the arguments. */
static void hyp_quad(const hyp_integrand_t *p, double total[4])
{
    double lo[HYP_QUAD_MAX_INTERVALS], hi[HYP_QUAD_MAX_INTERVALS];
    double val[HYP_QUAD_MAX_INTERVALS][4], err[HYP_QUAD_MAX_INTERVALS];
    double g7[4];
    int n = 1;
    lo[0] = 0.0;
    hi[0] = 1.0;
    hyp_gk15(p, 0.0, 1.0, val[0], g7);
    err[0] = fabs(val[0][0] - g7[0]);
    for (;;) {
        double sum = 0.0, err_sum = 0.0;
        int worst = 0;
        for (int i = 0; i < n; i++) {
            sum += val[i][0];
            err_sum += err[i];
            if (err[i] > err[worst])
                worst = i;
        }
        if (err_sum <= 1e-14 * fabs(sum) || n + 1 > HYP_QUAD_MAX_INTERVALS ||
            hi[worst] - lo[worst] < 1e-15)
            break;
        double mid = 0.5 * (lo[worst] + hi[worst]);
        lo[n] = mid;
        hi[n] = hi[worst];
        hi[worst] = mid;
        hyp_gk15(p, lo[worst], hi[worst], val[worst], g7);
        err[worst] = fabs(val[worst][0] - g7[0]);
        hyp_gk15(p, lo[n], hi[n], val[n], g7);
        err[n] = fabs(val[n][0] - g7[0]);
        n++;
    }
    for (int m = 0; m < 4; m++) {
        total[m] = 0.0;
        for (int i = 0; i < n; i++)
            total[m] += val[i][m];
    }
}

int sgs_hyp2f1_ap1(double a, double b, double z, double *log_f, double *d_log_f)
{
    if (!(a > 0.0) || !isfinite(a) || !isfinite(b) || !(z >= 0.0) || !(z < 1.0))
        return SGS_EINVAL;
    double l1mz = log1p(-z);
    if (z == 0.0) { /* F = 1 for every a and b */
        *log_f = 0.0;
        if (d_log_f) {
            d_log_f[0] = 0.0;
            d_log_f[1] = 0.0;
            d_log_f[2] = a * b / (a + 1.0);
        }
        return SGS_OK;
    }
    if (b == 0.0) { /* F = 1 for every a and z; ∂F/∂b = Σ_k a z^k / (k (a+k)) */
        *log_f = 0.0;
        if (d_log_f) {
            double s = 0.0, zk = 1.0;
            for (int k = 1; k < 100000; k++) {
                zk *= z;
                double term = zk / ((double)k * (a + k));
                s += term;
                if (term < 1e-17 * s)
                    break;
            }
            d_log_f[0] = 0.0;
            d_log_f[1] = a * s;
            d_log_f[2] = 0.0;
        }
        return SGS_OK;
    }
    double d = a + 1.0 - b, e = a + 1.0;
    if (b > 0.0 && d > 0.0) {
        double g, g_d, g_e, g_z;
        if (hyp_series(d, e, z, &g, &g_d, &g_e, &g_z) == 0) {
            *log_f = (1.0 - b) * l1mz + log(g);
            if (d_log_f) {
                d_log_f[0] = (g_d + g_e) / g;
                d_log_f[1] = -l1mz - g_d / g;
                d_log_f[2] = -(1.0 - b) / (1.0 - z) + g_z / g;
            }
            return SGS_OK;
        }
    }
    hyp_integrand_t p = {1.0 / a, b, z, b > 0.0 ? l1mz : 0.0};
    double in[4];
    hyp_quad(&p, in);
    *log_f = -b * p.log_scale + log(in[0]);
    if (d_log_f) {
        d_log_f[0] = -(b * z / (a * a)) * in[3] / in[0];
        d_log_f[1] = in[1] / in[0];
        d_log_f[2] = b * in[2] / in[0];
    }
    return SGS_OK;
}

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
