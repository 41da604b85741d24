/*
 * kernels/gammagamma.c — Gamma-Gamma spend model. See gammagamma.h.
 *
 * Summed over customers, the log-likelihood separates into terms per distinct x
 * (lnΓ(px+q) - lnΓ(px)), sums that do not depend on the parameters (Σ x ln m, Σ ln m,
 * Σ x ln x, computed once), and Σ (px+q) ln(γ + x m) = p Σ x L + q Σ L with L = ln(γ + x m):
 * one logarithm and one division per customer and evaluation.
 */
#include "kernels/gammagamma.h"

#include "kernels/gammagamma_internal.h"
#include "kernels/special.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

double sgs_gg_loglik_one(const double *params, double x, double m)
{
    double p = params[0], q = params[1], g = params[2], px = p * x;
    return sgs_lgamma(px + q) - sgs_lgamma(px) - sgs_lgamma(q) + q * log(g) + (px - 1.0) * log(m) +
           px * log(x) - (px + q) * log(g + m * x);
}

double sgs_gg_population_mean(const double *params)
{
    double p = params[0], q = params[1], g = params[2];
    return q > 1.0 ? p * g / (q - 1.0) : HUGE_VAL;
}

double sgs_gg_expected_spend(const double *params, double x, double m)
{
    double p = params[0], q = params[1], g = params[2];
    if (!(q > 1.0))
        return HUGE_VAL;
    if (!sgs__gg_usable(x, m))
        return p * g / (q - 1.0);
    return p * (g + x * m) / (p * x + q - 1.0);
}

/* ---- Evaluator ------------------------------------------------------------------------------ */

enum {
    G_L = SGS__GG_L,
    G_XL = SGS__GG_XL,
    G_INV = SGS__GG_INV,
    G_XINV = SGS__GG_XINV,
    G_INV2 = SGS__GG_INV2,
    G_XINV2 = SGS__GG_XINV2,
    G_COUNT = SGS__GG_COUNT
};

#define GG_CACHE 4

typedef struct gg_eval {
    const double *x, *m;
    size_t n, n_blocks;
    int n_threads;
    size_t n_x;       /* distinct x among used customers */
    double *x_values; /* [n_x] */
    double *x_counts; /* [n_x] */
    double N;         /* used customers */
    double sum_xlnm, sum_lnm, sum_xlnx;
    double sum_m; /* Σ m over the used customers in row order: the default start's mean spend */
    double *part; /* [max(n_blocks, n_used_blocks) * G_COUNT] */
    /* the used customers, compacted in row order: the hot loop has no branch */
    size_t n_used, n_used_blocks;
    double *ux;         /* [n_used] x */
    double *uxm;        /* [n_used] x m */
    size_t *block_used; /* [n_blocks + 1] used customers before each block of rows */
    /* the distinct values of x m among the used customers when they are far fewer (amounts
     * repeat): ln(γ + v) and 1/(γ + v) are computed once per value, and each customer's terms
     * taken from the tables (the same expression of the same value: the same bits) */
    size_t n_values;         /* 0: computed customer by customer */
    uint32_t *value_of;      /* [n_used] the number of the customer's x m in values */
    double *values;          /* [n_values] */
    double *log_of, *inv_of; /* [n_values] for the γ of the evaluation in progress */
    /* the sums of the last values of γ, by their bits: the optimizer asks again for points it
     * has seen (the best start, the optimum for its log-likelihood and Hessian), and the
     * same γ gives the same sums */
    double cached_g[GG_CACHE], cached_sums[GG_CACHE][G_COUNT];
    int n_cached, next_cached; /* entries filled; the one to overwrite next */
} gg_eval_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Without the table of values: the customers' terms are computed row by row. */
static void drop_value_table(gg_eval_t *e)
{
    sgs_free(e->value_of);
    sgs_free(e->values);
    sgs_free(e->log_of);
    sgs_free(e->inv_of);
    e->n_values = 0;
    e->value_of = NULL;
    e->values = e->log_of = e->inv_of = NULL;
}

static void gg_eval_free(gg_eval_t *e)
{
    sgs_free(e->x_values);
    sgs_free(e->x_counts);
    sgs_free(e->part);
    sgs_free(e->ux);
    sgs_free(e->uxm);
    sgs_free(e->block_used);
    drop_value_table(e);
    e->x_values = e->x_counts = e->part = e->ux = e->uxm = NULL;
    e->block_used = NULL;
}

/* dense[v] = the used customers with x = v, v < len (whole numbers: the same whatever the
 * split); each thread counts a share of the rows into counts of its own when they are few. */
static double *dense_counts(const double *x, const double *m, size_t n, size_t len, int n_threads)
{
    if (len > ((size_t)1 << 16))
        n_threads = 1;
    double *dense = sgs_calloc_array((size_t)n_threads, len * sizeof *dense);
    if (!dense)
        return NULL;
#pragma omp parallel num_threads(n_threads)
    {
        size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
        double *mine = dense + t * len;
        for (size_t i = n * t / nt; i < n * (t + 1) / nt; i++)
            if (sgs__gg_usable(x[i], m[i]))
                mine[(size_t)x[i]] += 1.0;
    }
    for (int t = 1; t < n_threads; t++)
        for (size_t v = 0; v < len; v++)
            dense[v] += dense[(size_t)t * len + v];
    return dense;
}

/* A table of values pays when each value serves this many customers on average. */
#define ROWS_PER_VALUE 4

static uint64_t bits_of(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

/* The first slot to look at for value v: the top bits of a multiplicative hash of its bits
 * (64 - shift of them: the slots' log2). */
static size_t slot_of(double v, int shift)
{
    return (size_t)((bits_of(v) * UINT64_C(0x9E3779B97F4A7C15)) >> shift);
}

/* The distinct values of v[0..n) by their bits, numbered in the order they first appear:
 * value_of[i] = the number of v[i]'s value, (*values)[j] the value numbered j (open
 * addressing on the bits). Returns their count, or 0 when there are more than max_values or
 * no memory (nothing is kept then). */
static size_t number_values(const double *v, size_t n, size_t max_values, uint32_t *value_of,
                            double **values)
{
    size_t cap = 1024, n_values = 0, slots = 4096, i = 0;
    int shift = 64 - 12; /* the top bits of the hash: log2(slots) of them */
    double *d = sgs_alloc_array(cap, sizeof *d);
    uint32_t *slot = sgs_calloc_array(slots, sizeof *slot); /* a value's number + 1; 0: free */
    /* a row's slot, then the value it names, asked of the memory while the rows before it
     * look theirs up */
    enum { AHEAD = 8 };
    for (; d && slot && i < n; i++) {
        if (i + 2 * AHEAD < n)
            __builtin_prefetch(&slot[slot_of(v[i + 2 * AHEAD], shift)]);
        if (i + AHEAD < n) {
            uint32_t at = slot[slot_of(v[i + AHEAD], shift)];
            if (at)
                __builtin_prefetch(&d[at - 1]);
        }
        uint64_t key = bits_of(v[i]);
        size_t h = slot_of(v[i], shift);
        while (slot[h] && bits_of(d[slot[h] - 1]) != key)
            h = (h + 1) & (slots - 1);
        if (slot[h]) {
            value_of[i] = slot[h] - 1;
            continue;
        }
        if (n_values == max_values)
            break;
        if (n_values == cap) {
            double *more = sgs_realloc_array(d, 2 * cap, sizeof *d);
            if (!more)
                break;
            d = more;
            cap *= 2;
        }
        d[n_values] = v[i];
        value_of[i] = (uint32_t)n_values;
        slot[h] = (uint32_t)++n_values;
        if (2 * n_values > slots) { /* twice the slots, every value placed again */
            sgs_free(slot);
            slots *= 2;
            shift--;
            slot = sgs_calloc_array(slots, sizeof *slot);
            for (size_t j = 0; slot && j < n_values; j++) {
                size_t g = slot_of(d[j], shift);
                while (slot[g])
                    g = (g + 1) & (slots - 1);
                slot[g] = (uint32_t)(j + 1);
            }
        }
    }
    int complete = d && slot && i == n;
    sgs_free(slot);
    if (complete) {
        *values = d;
        return n_values;
    }
    sgs_free(d);
    return 0;
}

/* Σ m over the used customers, in row order. */
static double sum_used_m(const double *x, const double *m, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        if (sgs__gg_usable(x[i], m[i]))
            s += m[i];
    return s;
}

/* Validate x, count used/left out, distinct x with counts, constant sums. */
static int gg_eval_init(gg_eval_t *e, const double *x, const double *m, size_t n,
                        const sgs_exec_t *exec, int by_value, sgs_gg_summary_t *summary,
                        sgs_error_t *err)
{
    memset(e, 0, sizeof *e);
    e->x = x;
    e->m = m;
    e->n = n;
    e->n_threads = sgs_exec_threads_for(exec, n);
    e->n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t nb = e->n_blocks;
    e->part = sgs_calloc_array(nb * G_COUNT, sizeof *e->part);
    e->block_used = sgs_calloc_array(nb + 1, sizeof *e->block_used);
    if (!e->part || !e->block_used)
        return sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
    /* per block: first bad x, counts, max used x, constant sums (into part, 3 per block,
       reused below; the same pass as a fit spread over processes makes) */
    sgs__gg_rows_t rows;
    sgs__gg_row_blocks(x, m, n, exec, e->part, e->block_used + 1, &rows);
    size_t first_bad = rows.first_bad, n_used = rows.n_used;
    double max_x = rows.max_x;
    if (first_bad != SIZE_MAX)
        return sgs_error_set(err, SGS_EDATA,
                             "gamma-gamma: row %zu: x = %g must be a non-negative integer",
                             first_bad, x[first_bad]);
    if (summary) {
        summary->n_used = n_used;
        summary->n_no_repeat = rows.n_zero;
        summary->n_nonpositive = rows.n_nonpos;
    }
    for (size_t b = 0; b < nb; b++) {
        e->sum_xlnm += e->part[3 * b + 0];
        e->sum_lnm += e->part[3 * b + 1];
        e->sum_xlnx += e->part[3 * b + 2];
    }
    e->N = (double)n_used;
    if (n_used == 0)
        return SGS_OK;

    /* compact the used customers (x, x m) in row order */
    for (size_t b = 0; b < nb; b++)
        e->block_used[b + 1] += e->block_used[b];
    e->n_used = n_used;
    e->n_used_blocks = sgs_block_count(n_used, SGS_BLOCK_ROWS);
    e->ux = sgs_alloc_array(n_used, sizeof *e->ux);
    e->uxm = sgs_alloc_array(n_used, sizeof *e->uxm);
    if (e->n_used_blocks > nb) {
        sgs_free(e->part);
        e->part = sgs_calloc_array(e->n_used_blocks * G_COUNT, sizeof *e->part);
    }
    if (!e->ux || !e->uxm || !e->part)
        return sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
#pragma omp parallel for num_threads(e->n_threads) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
        size_t k = e->block_used[b];
        for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++)
            if (sgs__gg_usable(x[i], m[i])) {
                e->ux[k] = x[i];
                e->uxm[k++] = x[i] * m[i];
            }
    }

    /* the values of x m numbered when they repeat (amounts do); x m row by row is then
     * not needed any more (by_value 0: row by row, what the tests compare with) */
    if (by_value && n_used >= ROWS_PER_VALUE && n_used < UINT32_MAX)
        e->value_of = sgs_alloc_array(n_used, sizeof *e->value_of);
        /* two serial passes side by side: the numbering and the sum of the used m */
#pragma omp parallel sections num_threads(e->n_threads > 1 ? 2 : 1)
    {
#pragma omp section
        e->sum_m = sum_used_m(x, m, n);
#pragma omp section
        if (e->value_of)
            e->n_values =
                number_values(e->uxm, n_used, n_used / ROWS_PER_VALUE, e->value_of, &e->values);
    }
    if (e->value_of) {
        e->log_of = e->n_values ? sgs_alloc_array(e->n_values, sizeof *e->log_of) : NULL;
        e->inv_of = e->n_values ? sgs_alloc_array(e->n_values, sizeof *e->inv_of) : NULL;
        if (e->log_of && e->inv_of) {
            sgs_free(e->uxm);
            e->uxm = NULL;
        } else { /* row by row, as without repeats */
            drop_value_table(e);
        }
    }

    /* distinct x of the used customers: dense counts when x is not too large, else sort */
    if (max_x <= 16.0 * (double)n_used + 4096.0) {
        size_t len = (size_t)max_x + 1;
        double *dense = dense_counts(x, m, n, len, e->n_threads);
        if (!dense)
            return sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
        for (size_t v = 0; v < len; v++)
            e->n_x += dense[v] > 0.0;
        e->x_values = sgs_alloc_array(e->n_x, sizeof *e->x_values);
        e->x_counts = sgs_alloc_array(e->n_x, sizeof *e->x_counts);
        if (e->x_values && e->x_counts) {
            size_t k = 0;
            for (size_t v = 0; v < len; v++)
                if (dense[v] > 0.0) {
                    e->x_values[k] = (double)v;
                    e->x_counts[k++] = dense[v];
                }
        }
        sgs_free(dense);
    } else {
        double *xs = sgs_alloc_array(n_used, sizeof *xs);
        if (!xs)
            return sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (sgs__gg_usable(x[i], m[i]))
                xs[k++] = x[i];
        qsort(xs, n_used, sizeof *xs, cmp_double);
        for (size_t i = 0; i < n_used; i++)
            e->n_x += i == 0 || xs[i] != xs[i - 1];
        e->x_values = sgs_alloc_array(e->n_x, sizeof *e->x_values);
        e->x_counts = sgs_alloc_array(e->n_x, sizeof *e->x_counts);
        if (e->x_values && e->x_counts) {
            k = 0;
            for (size_t i = 0; i < n_used; i++) {
                if (i == 0 || xs[i] != xs[i - 1]) {
                    e->x_values[k] = xs[i];
                    e->x_counts[k++] = 0.0;
                }
                e->x_counts[k - 1] += 1.0;
            }
        }
        sgs_free(xs);
    }
    if (!e->x_values || !e->x_counts)
        return sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
    return SGS_OK;
}

/* One customer's terms (x = xi, L = ln(γ + x m), inv = 1/(γ + x m)) added to the sums. */
static inline void add_terms(double *s, double xi, double L, double inv)
{
    s[G_L] += L;
    s[G_XL] += xi * L;
    s[G_INV] += inv;
    s[G_XINV] += xi * inv;
    s[G_INV2] += inv * inv;
    s[G_XINV2] += xi * inv * inv;
}

void sgs__gg_block_sums(const double *ux, const double *uxm, size_t n, double g, double *a)
{
    double s[G_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        double den = g + uxm[i];
        add_terms(s, ux[i], log(den), 1.0 / den);
    }
    memcpy(a, s, sizeof s);
}

/* sgs__gg_block_sums with each customer's logarithm and inverse taken from the tables of its
 * value of x m. */
static void block_sums_by_value(const double *ux, const uint32_t *value_of, size_t n,
                                const double *log_of, const double *inv_of, double *a)
{
    double s[G_COUNT] = {0};
    for (size_t i = 0; i < n; i++)
        add_terms(s, ux[i], log_of[value_of[i]], inv_of[value_of[i]]);
    memcpy(a, s, sizeof s);
}

/* Σ over used customers of L = ln(γ + x m), x L, 1/(γ + x m), x/(γ + x m) and their
 * squares' versions, combined in block order into s[G_COUNT]. */
static void gg_sums_new(gg_eval_t *e, double g, double *s);

static void gg_sums(gg_eval_t *e, double g, double *s)
{
    for (int k = 0; k < e->n_cached; k++)
        if (memcmp(&e->cached_g[k], &g, sizeof g) == 0) {
            memcpy(s, e->cached_sums[k], sizeof e->cached_sums[k]);
            return;
        }
    int k = e->next_cached;
    gg_sums_new(e, g, e->cached_sums[k]);
    e->cached_g[k] = g;
    e->next_cached = (k + 1) % GG_CACHE;
    if (e->n_cached < GG_CACHE)
        e->n_cached++;
    memcpy(s, e->cached_sums[k], sizeof e->cached_sums[k]);
}

static void gg_sums_new(gg_eval_t *e, double g, double *s)
{
    const double *ux = e->ux, *uxm = e->uxm;
    size_t n = e->n_used;
    long n_values = (long)e->n_values;
#pragma omp parallel for num_threads(e->n_threads) schedule(static)
    for (long j = 0; j < n_values; j++) {
        double den = g + e->values[j]; /* as sgs__gg_block_sums */
        e->log_of[j] = log(den);
        e->inv_of[j] = 1.0 / den;
    }
#pragma omp parallel for num_threads(e->n_threads) schedule(static)
    for (size_t b = 0; b < e->n_used_blocks; b++) {
        size_t first = b * SGS_BLOCK_ROWS,
               end = first + SGS_BLOCK_ROWS < n ? first + SGS_BLOCK_ROWS : n;
        if (n_values > 0)
            block_sums_by_value(ux + first, e->value_of + first, end - first, e->log_of, e->inv_of,
                                e->part + b * G_COUNT);
        else
            sgs__gg_block_sums(ux + first, uxm + first, end - first, g, e->part + b * G_COUNT);
    }
    for (int k = 0; k < G_COUNT; k++)
        s[k] = 0.0;
    for (size_t b = 0; b < e->n_used_blocks; b++)
        for (int k = 0; k < G_COUNT; k++)
            s[k] += e->part[b * G_COUNT + k];
}

static sgs__gg_terms_t gg_terms(const gg_eval_t *e)
{
    sgs__gg_terms_t t = {e->N,   e->sum_xlnm, e->sum_lnm, e->sum_xlnx,
                         e->n_x, e->x_values, e->x_counts};
    return t;
}

static void gg_eval(gg_eval_t *e, const double *params, double *ll, double *grad_log)
{
    double s[G_COUNT];
    gg_sums(e, params[2], s);
    sgs__gg_terms_t t = gg_terms(e);
    sgs__gg_eval_terms(&t, s, params, ll, grad_log);
}

void sgs__gg_eval_terms(const sgs__gg_terms_t *e, const double *s, const double *params, double *ll,
                        double *grad_log)
{
    double p = params[0], q = params[1], g = params[2];
    double lg = 0.0, dp = 0.0, dq = 0.0;
    for (size_t k = 0; k < e->n_x; k++) {
        double xv = e->x_values[k], c = e->x_counts[k], px = p * xv;
        lg += c * (sgs_lgamma(px + q) - sgs_lgamma(px));
        if (grad_log) {
            double ps = sgs_digamma(px + q);
            dp += c * xv * (ps - sgs_digamma(px));
            dq += c * ps;
        }
    }
    double N = e->N;
    *ll = lg - N * sgs_lgamma(q) + N * q * log(g) + p * e->sum_xlnm - e->sum_lnm + p * e->sum_xlnx -
          p * s[G_XL] - q * s[G_L];
    if (grad_log) {
        grad_log[0] = p * (dp + e->sum_xlnm + e->sum_xlnx - s[G_XL]);
        grad_log[1] = q * (dq - N * sgs_digamma(q) + N * log(g) - s[G_L]);
        grad_log[2] = g * (N * q / g - p * s[G_XINV] - q * s[G_INV]);
    }
}

/* Hessian of the total log-likelihood with respect to (ln p, ln q, ln γ): the natural
 * parameters' second derivatives (trigamma terms per distinct x, the sums of gg_sums),
 * then H_θ[i][j] = v_i v_j H[i][j] + δ_ij v_i ∂LL/∂v_i. */
static void gg_hessian(gg_eval_t *e, const double *params, double *hess)
{
    double s[G_COUNT];
    gg_sums(e, params[2], s);
    sgs__gg_terms_t t = gg_terms(e);
    sgs__gg_hessian_terms(&t, s, params, hess);
}

void sgs__gg_hessian_terms(const sgs__gg_terms_t *e, const double *s, const double *params,
                           double *hess)
{
    double p = params[0], q = params[1], g = params[2], N = e->N;
    double hpp = 0.0, hpq = 0.0, hqq = 0.0, dp = 0.0, dq = 0.0;
    for (size_t k = 0; k < e->n_x; k++) {
        double xv = e->x_values[k], c = e->x_counts[k], px = p * xv;
        double t1 = sgs_trigamma(px + q), ps = sgs_digamma(px + q);
        hpp += c * xv * xv * (t1 - sgs_trigamma(px));
        hpq += c * xv * t1;
        hqq += c * t1;
        dp += c * xv * (ps - sgs_digamma(px));
        dq += c * ps;
    }
    double h[3][3];
    h[0][0] = hpp;
    h[0][1] = h[1][0] = hpq;
    h[1][1] = hqq - N * sgs_trigamma(q);
    h[0][2] = h[2][0] = -s[G_XINV];
    h[1][2] = h[2][1] = N / g - s[G_INV];
    h[2][2] = -N * q / (g * g) + p * s[G_XINV2] + q * s[G_INV2];
    double grad[3] = {dp + e->sum_xlnm + e->sum_xlnx - s[G_XL],
                      dq - N * sgs_digamma(q) + N * log(g) - s[G_L],
                      N * q / g - p * s[G_XINV] - q * s[G_INV]};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            hess[3 * i + j] =
                params[i] * params[j] * h[i][j] + (i == j ? params[i] * grad[i] : 0.0);
}

static int params_ok(const double *p)
{
    for (int j = 0; j < 3; j++)
        if (!(p[j] > 0.0) || !isfinite(p[j]))
            return 0;
    return 1;
}

int sgs__gg_loglik_as(int by_value, const double *params, const double *x, const double *m,
                      size_t n, double *ll, double *grad_log, const sgs_exec_t *exec,
                      sgs_error_t *err)
{
    if (!params_ok(params))
        return sgs_error_set(err, SGS_EINVAL, "gamma-gamma: parameters must be finite and > 0");
    gg_eval_t e;
    int rc = gg_eval_init(&e, x, m, n, exec, by_value, NULL, err);
    if (!rc)
        gg_eval(&e, params, ll, grad_log);
    gg_eval_free(&e);
    return rc;
}

int sgs_gg_loglik(const double *params, const double *x, const double *m, size_t n, double *ll,
                  double *grad_log, const sgs_exec_t *exec, sgs_error_t *err)
{
    return sgs__gg_loglik_as(1, params, x, m, n, ll, grad_log, exec, err);
}

/* ---- Fit --------------------------------------------------------------------------------------
 */

static int gg_callback(const double *theta, double *ll, double *grad, void *ctx)
{
    double p[3] = {exp(theta[0]), exp(theta[1]), exp(theta[2])};
    gg_eval(ctx, p, ll, grad);
    return SGS_OK;
}

static int gg_hessian_callback(const double *theta, double *hess, void *ctx)
{
    double p[3] = {exp(theta[0]), exp(theta[1]), exp(theta[2])};
    gg_hessian(ctx, p, hess);
    return SGS_OK;
}

/* Pearson correlation of x and m over the used customers, in fixed blocks (two passes, the
 * block partials of kernels/gammagamma_blocks.c, added in block order; e->part is scratch
 * here: it holds at least 6 doubles per block). */
static double correlation(const gg_eval_t *e)
{
    size_t nb = e->n_blocks;
    if (e->N < 2.0)
        return 0.0;
    double sx = 0.0, sm = 0.0;
    sgs__gg_correlation_blocks(e->x, e->m, e->n, 1, 0.0, 0.0, e->n_threads, e->part);
    for (size_t b = 0; b < nb; b++) {
        sx += e->part[2 * b];
        sm += e->part[2 * b + 1];
    }
    double cxx = 0.0, cmm = 0.0, cxm = 0.0;
    sgs__gg_correlation_blocks(e->x, e->m, e->n, 2, sx / e->N, sm / e->N, e->n_threads, e->part);
    for (size_t b = 0; b < nb; b++) {
        cxx += e->part[3 * b];
        cmm += e->part[3 * b + 1];
        cxm += e->part[3 * b + 2];
    }
    return sgs__gg_correlation_of(cxx, cmm, cxm);
}

int sgs__gg_fit_as(int by_value, const double *x, const double *m, size_t n,
                   const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                   sgs_gg_summary_t *summary, const sgs_exec_t *exec, sgs_error_t *err)
{
    sgs_model_fit_options_t o = options ? *options : sgs_model_fit_default_options();
    if (n > 0 && (!x || !m))
        return sgs_error_set(err, SGS_EINVAL, "gamma-gamma fit: NULL column");
    gg_eval_t e;
    sgs_gg_summary_t sum = {0};
    int rc = gg_eval_init(&e, x, m, n, exec, by_value, &sum, err);
    if (rc)
        goto cleanup;
    sum.correlation = correlation(&e);
    sum.correlation_warning = fabs(sum.correlation) > SGS_GG_CORRELATION_WARN;
    if (summary)
        *summary = sum;
    if (e.N == 0.0) {
        rc = sgs_error_set(err, SGS_EDATA,
                           "gamma-gamma fit: no customer with a repeat purchase and a positive "
                           "mean spend (%zu without repeat purchase, %zu with mean spend <= 0)",
                           sum.n_no_repeat, sum.n_nonpositive);
        goto cleanup;
    }
    double starts[SGS_OPTIM_MAX_STARTS * 3];
    int n_starts;
    rc = sgs__gg_given_starts(&o, starts, &n_starts, err);
    if (rc)
        goto cleanup;
    if (n_starts == 0) {
        n_starts = sgs__gg_default_starts(e.sum_m / e.N, starts);
    }
    sgs_optim_problem_t prob = {3,           gg_callback, &e,     e.N,
                                o.penalizer, n_starts,    starts, gg_hessian_callback};
    rc = sgs_optim_minimize(&prob, &o.optim, fit, err);
    if (rc)
        sgs_error_prefix(err, "gamma-gamma fit");
cleanup:
    gg_eval_free(&e);
    return rc;
}

int sgs_gg_fit(const double *x, const double *m, size_t n, const sgs_model_fit_options_t *options,
               sgs_fit_t *fit, sgs_gg_summary_t *summary, const sgs_exec_t *exec, sgs_error_t *err)
{
    return sgs__gg_fit_as(1, x, m, n, options, fit, summary, exec, err);
}

int sgs__gg_given_starts(const sgs_model_fit_options_t *o, double *starts, int *n_starts,
                         sgs_error_t *err)
{
    *n_starts = 0;
    if (!(o->n_starts > 0 && o->starts))
        return SGS_OK;
    if (o->n_starts > SGS_OPTIM_MAX_STARTS)
        return sgs_error_set(err, SGS_EINVAL, "gamma-gamma fit: too many starts");
    for (int k = 0; k < o->n_starts; k++) {
        if (!params_ok(o->starts + 3 * k))
            return sgs_error_set(err, SGS_EINVAL, "gamma-gamma fit: bad starting points");
        for (int j = 0; j < 3; j++)
            starts[3 * k + j] = log(o->starts[3 * k + j]);
    }
    *n_starts = o->n_starts;
    return SGS_OK;
}

int sgs__gg_default_starts(double mean_m, double *starts)
{
    const double def[3][3] = {{1, 2, mean_m}, {5, 3, 0.4 * mean_m}, {0.5, 1.5, mean_m}};
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 3; j++)
            starts[3 * k + j] = log(def[k][j]);
    return 3;
}

/* ---- Serial reference twin ------------------------------------------------------------ */

int sgs_gg_loglik_ref(const double *params, const double *x, const double *m, size_t n, double *ll,
                      sgs_error_t *err)
{
    if (!params_ok(params))
        return sgs_error_set(err, SGS_EINVAL, "gamma-gamma: parameters must be finite and > 0");
    for (size_t i = 0; i < n; i++)
        if (!(x[i] >= 0.0) || !isfinite(x[i]) || x[i] != floor(x[i]))
            return sgs_error_set(err, SGS_EDATA,
                                 "gamma-gamma: row %zu: x = %g must be a non-negative integer", i,
                                 x[i]);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        if (sgs__gg_usable(x[i], m[i]))
            sum += sgs_gg_loglik_one(params, x[i], m[i]);
    *ll = sum;
    return SGS_OK;
}
