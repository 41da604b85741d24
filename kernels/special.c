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
