/*
 * kernels/calibration.c — isotonic calibration and reliability (calibration.h).
 */
#include "kernels/calibration.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Sorting groups by a key, with a total order on (key, weight, y) ------------------- */

typedef struct keyed {
    double key, weight, y;
} keyed_t;

static int keyed_cmp(const void *pa, const void *pb)
{
    const keyed_t *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->weight != b->weight)
        return a->weight < b->weight ? -1 : 1;
    return (a->y > b->y) - (a->y < b->y);
}

/* Copy the groups with weight > 0, checked, sorted by key. *out owned by the caller. */
static int sorted_groups(const double *key, const double *weight, const double *y, size_t n,
                         int key_is_probability, keyed_t **out, size_t *n_out, sgs_error_t *err)
{
    keyed_t *g = sgs_alloc_array(n ? n : 1, sizeof *g);
    if (!g)
        return sgs_error_set(err, SGS_ENOMEM, "calibration: no memory for %zu groups", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int key_ok = isfinite(key[i]) && (!key_is_probability || (key[i] >= 0 && key[i] <= 1));
        if (!key_ok || !(weight[i] >= 0) || !isfinite(weight[i]) || !isfinite(y[i]) || y[i] < 0) {
            sgs_free(g);
            return sgs_error_set(err, SGS_EDATA,
                                 "calibration: group %zu has score %g, weight %g, outcome %g", i,
                                 key[i], weight[i], y[i]);
        }
        if (weight[i] > 0)
            g[m++] = (keyed_t){key[i], weight[i], y[i]};
    }
    if (m == 0) {
        sgs_free(g);
        return sgs_error_set(err, SGS_EDATA, "calibration: no group has a positive weight");
    }
    qsort(g, m, sizeof *g, keyed_cmp);
    *out = g;
    *n_out = m;
    return SGS_OK;
}

/* ---- Isotonic regression --------------------------------------------------------------- */

typedef struct block {
    double lo, hi; /* scores spanned */
    double weight, y;
} block_t;

int sgs_isotonic_fit(const double *score, const double *weight, const double *y, size_t n,
                     double prior, sgs_isotonic_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    keyed_t *g;
    size_t m;
    int rc = sorted_groups(score, weight, y, n, 0, &g, &m, err);
    if (rc)
        return rc;
    block_t *st = sgs_alloc_array(m, sizeof *st);
    if (!st) {
        sgs_free(g);
        return sgs_error_set(err, SGS_ENOMEM, "calibration: no memory for %zu blocks", m);
    }
    size_t top = 0;
    for (size_t i = 0; i < m;) {
        block_t b = {g[i].key, g[i].key, 0.0, 0.0};
        for (; i < m && g[i].key == b.lo; i++) { /* equal scores: one value */
            b.weight += g[i].weight;
            b.y += g[i].y;
        }
        /* Pool while the previous block's mean is not below this one's: y1/w1 >= y2/w2 (equal
         * means make one step). */
        while (top > 0 && st[top - 1].y * b.weight >= b.y * st[top - 1].weight) {
            block_t *p = &st[--top];
            b.lo = p->lo;
            b.weight += p->weight;
            b.y += p->y;
        }
        st[top++] = b;
    }
    sgs_free(g);
    out->score = sgs_alloc_array(2 * top, sizeof *out->score);
    out->value = sgs_alloc_array(2 * top, sizeof *out->value);
    if (!out->score || !out->value) {
        sgs_free(st);
        sgs_isotonic_free(out);
        return sgs_error_set(err, SGS_ENOMEM, "calibration: no memory for %zu knots", 2 * top);
    }
    size_t k = 0;
    double floor_value = -INFINITY;
    for (size_t j = 0; j < top; j++) {
        /* With a prior, (y + prior/2) / (w + prior): the block means shrunk toward 1/2 by
         * `prior` pseudo-observations, kept non-decreasing. */
        double mean = (st[j].y + 0.5 * prior) / (st[j].weight + prior);
        mean = fmax(mean, floor_value);
        floor_value = mean;
        out->score[k] = st[j].lo;
        out->value[k++] = mean;
        if (st[j].hi > st[j].lo) {
            out->score[k] = st[j].hi;
            out->value[k++] = mean;
        }
    }
    out->n_knots = k;
    out->n_blocks = top;
    sgs_free(st);
    return SGS_OK;
}

double sgs_isotonic_predict(const sgs_isotonic_t *m, double score)
{
    if (isnan(score))
        return NAN;
    size_t n = m->n_knots;
    if (score <= m->score[0])
        return m->value[0];
    if (score >= m->score[n - 1])
        return m->value[n - 1];
    size_t lo = 0, hi = n - 1; /* score[lo] < score < score[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->score[mid] <= score)
            lo = mid;
        else
            hi = mid;
    }
    double t = (score - m->score[lo]) / (m->score[hi] - m->score[lo]);
    return m->value[lo] + t * (m->value[hi] - m->value[lo]);
}

void sgs_isotonic_free(sgs_isotonic_t *m)
{
    if (!m)
        return;
    sgs_free(m->score);
    sgs_free(m->value);
    memset(m, 0, sizeof *m);
}

/* ---- Calibrated P(alive) --------------------------------------------------------------- */

int sgs_alive_calibration_fit(const double *p_alive, const double *p_buy_model,
                              const double *weight, const double *bought, size_t n,
                              sgs_isotonic_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    double *w2 = sgs_alloc_array(n ? 2 * n : 1, sizeof *w2);
    if (!w2)
        return sgs_error_set(err, SGS_ENOMEM, "calibration: no memory for %zu groups", n);
    double *y2 = w2 + n;
    int rc = SGS_OK;
    for (size_t j = 0; j < n; j++) {
        double a = p_alive[j], p = p_buy_model[j];
        if (!(a >= 0.0 && a <= 1.0 && p >= 0.0 && p <= 1.0)) {
            rc = sgs_error_set(err, SGS_EDATA,
                               "calibration: group %zu has P(alive) %g and P(buy) %g, not in "
                               "[0, 1]",
                               j, a, p);
            goto done;
        }
        double q = a > 0.0 ? fmin(1.0, p / a) : 0.0;
        w2[j] = weight[j] * q * q;
        y2[j] = bought[j] * q;
    }
    rc = sgs_isotonic_fit(p_alive, w2, y2, n, 1.0, out, err);
    if (rc == SGS_OK)
        for (size_t k = 0; k < out->n_knots; k++) /* clipping keeps the map non-decreasing */
            out->value[k] = fmin(1.0, fmax(0.0, out->value[k]));
done:
    sgs_free(w2);
    return rc;
}

double sgs_calibrated_p_buy(const sgs_isotonic_t *alive_map, double p_alive, double p_buy_model)
{
    if (isnan(p_alive) || isnan(p_buy_model))
        return NAN;
    double q = p_alive > 0.0 ? fmin(1.0, p_buy_model / p_alive) : 1.0;
    return fmin(1.0, sgs_isotonic_predict(alive_map, p_alive) * q);
}

double sgs_p_buy(const sgs_isotonic_t *alive_map, double p_alive, double prob_no_purchase)
{
    double raw = fmin(1.0, fmax(0.0, 1.0 - prob_no_purchase));
    return alive_map ? sgs_calibrated_p_buy(alive_map, p_alive, raw) : raw;
}

static int check_p_buy_args(size_t n, const sgs_isotonic_t *alive_map, const double *p_alive,
                            const double *prob_no_purchase, const double *p_buy, sgs_error_t *err)
{
    if (n > 0 && (!prob_no_purchase || !p_buy || (alive_map && !p_alive)))
        return sgs_error_set(err, SGS_EINVAL, "p_buy: a NULL array");
    return SGS_OK;
}

int sgs_p_buy_column(size_t n, const sgs_isotonic_t *alive_map, const double *p_alive,
                     const double *prob_no_purchase, const sgs_exec_t *exec, double *p_buy,
                     sgs_error_t *err)
{
    int rc = check_p_buy_args(n, alive_map, p_alive, prob_no_purchase, p_buy, err);
    if (rc != SGS_OK)
        return rc;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)
    for (size_t i = 0; i < n; i++)
        p_buy[i] = sgs_p_buy(alive_map, alive_map ? p_alive[i] : (double)NAN, prob_no_purchase[i]);
    return SGS_OK;
}

int sgs_p_buy_column_ref(size_t n, const sgs_isotonic_t *alive_map, const double *p_alive,
                         const double *prob_no_purchase, double *p_buy, sgs_error_t *err)
{
    int rc = check_p_buy_args(n, alive_map, p_alive, prob_no_purchase, p_buy, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        p_buy[i] = sgs_p_buy(alive_map, alive_map ? p_alive[i] : (double)NAN, prob_no_purchase[i]);
    return SGS_OK;
}

static int check_calibrated_args(size_t n, const sgs_isotonic_t *alive_map, const double *p_alive,
                                 const double *p_buy_model, const double *p_buy, sgs_error_t *err)
{
    if (!alive_map || (n > 0 && (!p_alive || !p_buy_model || !p_buy)))
        return sgs_error_set(err, SGS_EINVAL, "calibrated p_buy: a NULL array or map");
    return SGS_OK;
}

int sgs_calibrated_p_buy_column(size_t n, const sgs_isotonic_t *alive_map, const double *p_alive,
                                const double *p_buy_model, const sgs_exec_t *exec, double *p_buy,
                                sgs_error_t *err)
{
    int rc = check_calibrated_args(n, alive_map, p_alive, p_buy_model, p_buy, err);
    if (rc != SGS_OK)
        return rc;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)
    for (size_t i = 0; i < n; i++)
        p_buy[i] = sgs_calibrated_p_buy(alive_map, p_alive[i], p_buy_model[i]);
    return SGS_OK;
}

int sgs_calibrated_p_buy_column_ref(size_t n, const sgs_isotonic_t *alive_map,
                                    const double *p_alive, const double *p_buy_model, double *p_buy,
                                    sgs_error_t *err)
{
    int rc = check_calibrated_args(n, alive_map, p_alive, p_buy_model, p_buy, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        p_buy[i] = sgs_calibrated_p_buy(alive_map, p_alive[i], p_buy_model[i]);
    return SGS_OK;
}

/* ---- Reliability ------------------------------------------------------------------------ */

int sgs_reliability(const double *p, const double *weight, const double *y, size_t n, int n_bins,
                    sgs_reliability_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (n_bins < 1 || n_bins > SGS_RELIABILITY_MAX_BINS)
        return sgs_error_set(err, SGS_EINVAL, "reliability: %d bins (1..%d)", n_bins,
                             SGS_RELIABILITY_MAX_BINS);
    keyed_t *g;
    size_t m;
    int rc = sorted_groups(p, weight, y, n, 1, &g, &m, err);
    if (rc)
        return rc;
    double total = 0.0;
    for (size_t i = 0; i < m; i++)
        total += g[i].weight;
    double sum_p[SGS_RELIABILITY_MAX_BINS] = {0}, sum_y[SGS_RELIABILITY_MAX_BINS] = {0};
    double before = 0.0, brier = 0.0, log_score = 0.0;
    for (size_t i = 0; i < m; i++) {
        double w = g[i].weight, yy = g[i].y, pp = g[i].key;
        int b = (int)(n_bins * (before + 0.5 * w) / total);
        b = b < n_bins ? b : n_bins - 1;
        before += w;
        out->weight[b] += w;
        sum_p[b] += w * pp;
        sum_y[b] += yy;
        brier += yy * (1 - pp) * (1 - pp) + (w - yy) * pp * pp;
        double pc = fmin(fmax(pp, 1e-12), 1 - 1e-12);
        log_score += yy * log(pc) + (w - yy) * log1p(-pc);
    }
    sgs_free(g);
    out->n_bins = n_bins;
    out->brier = brier / total;
    out->log_score = log_score / total;
    for (int b = 0; b < n_bins; b++) {
        double w = out->weight[b];
        out->predicted[b] = w > 0 ? sum_p[b] / w : (double)NAN;
        out->observed[b] = w > 0 ? sum_y[b] / w : (double)NAN;
        if (w > 0 && fabs(out->predicted[b] - out->observed[b]) > out->max_gap)
            out->max_gap = fabs(out->predicted[b] - out->observed[b]);
    }
    return SGS_OK;
}

int sgs_alive_calibration_cross(const double *p_alive, const double *p_buy_model,
                                const double *weight2, const double *bought2, size_t n, int n_bins,
                                sgs_reliability_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    double *p_cross = sgs_alloc_array(n ? 2 * n : 1, sizeof *p_cross);
    if (!p_cross)
        return sgs_error_set(err, SGS_ENOMEM, "calibration: no memory for %zu groups", n);
    int rc = SGS_OK;
    for (size_t half = 0; half < 2 && rc == SGS_OK; half++) {
        sgs_isotonic_t map;
        rc = sgs_alive_calibration_fit(p_alive, p_buy_model, weight2 + half * n, bought2 + half * n,
                                       n, &map, err);
        if (rc)
            break;
        /* the map of this half calibrates the other half's groups */
        rc = sgs_calibrated_p_buy_column_ref(n, &map, p_alive, p_buy_model,
                                             p_cross + (1 - half) * n, err);
        sgs_isotonic_free(&map);
    }
    if (rc == SGS_OK)
        rc = sgs_reliability(p_cross, weight2, bought2, 2 * n, n_bins, out, err);
    sgs_free(p_cross);
    return rc;
}
