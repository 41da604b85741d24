/*
 * kernels/frequency_recency_grid.h — a purchase model's expectation and P(alive) over a grid of
 * histories, as lifetimes' plot_frequency_recency_matrix and plot_probability_alive_matrix draw
 * them: every cell is a customer of the base's longest age T_max with x repeat purchases (row)
 * and the last one at age t_x (column), evaluated by the fitted model. The grid shows what the
 * model makes of a history, whoever has it; it is not an average over the customers.
 *
 * Rows: x = 0, 1, ..., X where X is the 99th percentile of the customers' repeat purchases (at
 * least 1); past SGS_FR_GRID_MAX_ROWS rows, that many values spread evenly over 0..X (rounded).
 * Columns: SGS_FR_GRID_COLS values of t_x spread evenly over 0..T_max. Cells with x > 0 and
 * t_x = 0 cannot occur in data; they are evaluated all the same, as lifetimes does.
 * Serial: one pass over the customers (a count per repeat-purchase value) and
 * rows x columns model evaluations. No globals, no I/O.
 */
#ifndef SGS_FREQUENCY_RECENCY_GRID_H
#define SGS_FREQUENCY_RECENCY_GRID_H

#include "kernels/clv.h"
#include "kernels/core.h"

#include <stdint.h>

#define SGS_FR_GRID_MAX_ROWS 12
#define SGS_FR_GRID_COLS 11

typedef struct sgs_fr_grid {
    size_t n_rows, n_cols;
    double age;                             /* T of every cell: the base's largest */
    double frequency[SGS_FR_GRID_MAX_ROWS]; /* x of each row, ascending from 0 */
    double recency[SGS_FR_GRID_COLS];       /* t_x of each column, ascending from 0 */
    double expected[SGS_FR_GRID_MAX_ROWS * SGS_FR_GRID_COLS]; /* purchases in the horizon */
    double p_alive[SGS_FR_GRID_MAX_ROWS * SGS_FR_GRID_COLS];  /* row-major, rows x columns */
} sgs_fr_grid_t;

/* Fill *g for `model` with `params` over `horizon` (time units) from the customers' repeat
 * purchases frequency[0..n-1] and ages age_days[0..n-1] (days; divided by days_per_unit).
 * @return 0; SGS_EINVAL for n == 0, a NULL array, days_per_unit <= 0 or a negative frequency
 * (err names the customer); SGS_ENOMEM. */
int sgs_fr_grid_compute(sgs_purchase_model_t model, const double *params, double horizon,
                        const int32_t *frequency, const int32_t *age_days, size_t n,
                        double days_per_unit, sgs_fr_grid_t *g, sgs_error_t *err);

#endif
