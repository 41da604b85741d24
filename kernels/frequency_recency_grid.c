/*
 * kernels/frequency_recency_grid.c — the model over a grid of (x, t_x) histories at the
 * base's longest age (kernels/frequency_recency_grid.h).
 */
#include "kernels/frequency_recency_grid.h"

#include <math.h>

/* The smallest x with at least 99% of the n customers at or below it. */
static int32_t frequency_p99(const uint64_t *count, uint64_t n)
{
    uint64_t need = n - n / 100, seen = 0; /* n - floor(n / 100) >= 99% of n */
    for (int32_t x = 0; x < SGS_FR_GRID_COUNTED; x++) {
        seen += count[x];
        if (seen >= need)
            return x;
    }
    return SGS_FR_GRID_COUNTED;
}

int sgs_fr_grid_count(sgs_fr_grid_counts_t *c, const int32_t *frequency, const int32_t *age_days,
                      size_t n, size_t first, sgs_error_t *err)
{
    if (!c || (n > 0 && (!frequency || !age_days)))
        return sgs_error_set(err, SGS_EINVAL, "frequency-recency grid: a NULL array");
    int32_t max_age = c->max_age_days;
    for (size_t i = 0; i < n; i++) {
        if (frequency[i] < 0) {
            c->max_age_days = max_age;
            return sgs_error_set(err, SGS_EINVAL,
                                 "frequency-recency grid: customer %zu has %d repeat purchases",
                                 first + i, (int)frequency[i]);
        }
        c->count[frequency[i] < SGS_FR_GRID_COUNTED ? frequency[i] : SGS_FR_GRID_COUNTED]++;
        max_age = age_days[i] > max_age ? age_days[i] : max_age;
    }
    c->max_age_days = max_age;
    return SGS_OK;
}

int sgs_fr_grid_from_counts(sgs_purchase_model_t model, const double *params, double horizon,
                            const sgs_fr_grid_counts_t *c, double days_per_unit, sgs_fr_grid_t *g,
                            sgs_error_t *err)
{
    uint64_t n = 0;
    for (size_t x = 0; c && x <= SGS_FR_GRID_COUNTED; x++)
        n += c->count[x];
    if (n == 0 || !params || !g || !(days_per_unit > 0))
        return sgs_error_set(err, SGS_EINVAL, "frequency-recency grid: no customers or no model");
    int32_t top = frequency_p99(c->count, n);
    if (top < 1)
        top = 1;
    g->n_rows = (size_t)top + 1 <= SGS_FR_GRID_MAX_ROWS ? (size_t)top + 1 : SGS_FR_GRID_MAX_ROWS;
    for (size_t r = 0; r < g->n_rows; r++)
        g->frequency[r] = round((double)top * (double)r / (double)(g->n_rows - 1));
    g->n_cols = SGS_FR_GRID_COLS;
    g->age = (double)c->max_age_days / days_per_unit;
    for (size_t j = 0; j < g->n_cols; j++)
        g->recency[j] = g->age * (double)j / (double)(g->n_cols - 1);
    for (size_t r = 0; r < g->n_rows; r++)
        for (size_t j = 0; j < g->n_cols; j++) {
            double x = g->frequency[r], t_x = g->recency[j];
            g->expected[r * g->n_cols + j] =
                sgs_purchase_expected(model, params, horizon, x, t_x, g->age);
            g->p_alive[r * g->n_cols + j] = sgs_purchase_p_alive(model, params, x, t_x, g->age);
        }
    return SGS_OK;
}

int sgs_fr_grid_compute(sgs_purchase_model_t model, const double *params, double horizon,
                        const int32_t *frequency, const int32_t *age_days, size_t n,
                        double days_per_unit, sgs_fr_grid_t *g, sgs_error_t *err)
{
    if (n == 0 || !params || !frequency || !age_days || !g || !(days_per_unit > 0))
        return sgs_error_set(err, SGS_EINVAL, "frequency-recency grid: no customers or no model");
    sgs_fr_grid_counts_t *c = sgs_calloc_array(1, sizeof *c);
    if (!c)
        return sgs_error_set(err, SGS_ENOMEM, "frequency-recency grid: no memory");
    int rc = sgs_fr_grid_count(c, frequency, age_days, n, 0, err);
    if (rc == SGS_OK)
        rc = sgs_fr_grid_from_counts(model, params, horizon, c, days_per_unit, g, err);
    sgs_free(c);
    return rc;
}
