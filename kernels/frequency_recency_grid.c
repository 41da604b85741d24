/*
 * kernels/frequency_recency_grid.c — the model over a grid of (x, t_x) histories at the
 * base's longest age (kernels/frequency_recency_grid.h).
 */
#include "kernels/frequency_recency_grid.h"

#include <math.h>
#include <stdlib.h>

/* Repeat purchases counted one by one up to here; above it, in one overflow count. */
#define FREQUENCY_COUNTED 4096

/* The smallest x with at least 99% of the customers at or below it. */
static int32_t frequency_p99(const size_t *count, size_t n)
{
    size_t need = n - n / 100, seen = 0; /* n - floor(n / 100) >= 99% of n */
    for (int32_t x = 0; x < FREQUENCY_COUNTED; x++) {
        seen += count[x];
        if (seen >= need)
            return x;
    }
    return FREQUENCY_COUNTED;
}

int sgs_fr_grid_compute(sgs_purchase_model_t model, const double *params, double horizon,
                        const int32_t *frequency, const int32_t *age_days, size_t n,
                        double days_per_unit, sgs_fr_grid_t *g, sgs_error_t *err)
{
    if (n == 0 || !params || !frequency || !age_days || !g || !(days_per_unit > 0))
        return sgs_error_set(err, SGS_EINVAL, "frequency-recency grid: no customers or no model");
    size_t *count = calloc(FREQUENCY_COUNTED + 1, sizeof *count);
    if (!count)
        return sgs_error_set(err, SGS_ENOMEM, "frequency-recency grid: no memory");
    int32_t max_age = 0;
    for (size_t c = 0; c < n; c++) {
        if (frequency[c] < 0) {
            free(count);
            return sgs_error_set(err, SGS_EINVAL,
                                 "frequency-recency grid: customer %zu has %d repeat purchases", c,
                                 (int)frequency[c]);
        }
        count[frequency[c] < FREQUENCY_COUNTED ? frequency[c] : FREQUENCY_COUNTED]++;
        max_age = age_days[c] > max_age ? age_days[c] : max_age;
    }
    int32_t top = frequency_p99(count, n);
    free(count);
    if (top < 1)
        top = 1;
    g->n_rows = (size_t)top + 1 <= SGS_FR_GRID_MAX_ROWS ? (size_t)top + 1 : SGS_FR_GRID_MAX_ROWS;
    for (size_t r = 0; r < g->n_rows; r++)
        g->frequency[r] = round((double)top * (double)r / (double)(g->n_rows - 1));
    g->n_cols = SGS_FR_GRID_COLS;
    g->age = (double)max_age / days_per_unit;
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
