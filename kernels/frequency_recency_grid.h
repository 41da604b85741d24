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
 * Serial: one pass over the customers (a count per repeat-purchase value, the largest age) and
 * rows x columns model evaluations. No globals, no I/O.
 *
 * The computation is two parts, for customers spread over processes (engine/dist_figures.h):
 * the counts over the customers (sgs_fr_grid_count: integers and a maximum, which pieces of the
 * customers counted apart combine into exactly, by adding the counts and taking the larger
 * maximum) and the grid from the counts of every customer (sgs_fr_grid_from_counts).
 * sgs_fr_grid_compute is the second applied to the first over all customers.
 */
#ifndef SGS_FREQUENCY_RECENCY_GRID_H
#define SGS_FREQUENCY_RECENCY_GRID_H

#include "kernels/clv.h"
#include "kernels/core.h"

#include <stdint.h>

#define SGS_FR_GRID_MAX_ROWS 12
#define SGS_FR_GRID_COLS 11
#define SGS_FR_GRID_COUNTED 4096 /* repeat purchases counted one by one below this */

typedef struct sgs_fr_grid {
    size_t n_rows, n_cols;
    double age;                             /* T of every cell: the base's largest */
    double frequency[SGS_FR_GRID_MAX_ROWS]; /* x of each row, ascending from 0 */
    double recency[SGS_FR_GRID_COLS];       /* t_x of each column, ascending from 0 */
    double expected[SGS_FR_GRID_MAX_ROWS * SGS_FR_GRID_COLS]; /* purchases in the horizon */
    double p_alive[SGS_FR_GRID_MAX_ROWS * SGS_FR_GRID_COLS];  /* row-major, rows x columns */
} sgs_fr_grid_t;

/* What the grid needs of the customers: the count per repeat-purchase value and the largest
 * age. Plain data (no pointer); zeros (memset or = {0}) are the counts of no customer. */
typedef struct sgs_fr_grid_counts {
    /* customers with x repeat purchases at [x] for x < SGS_FR_GRID_COUNTED, and those with
     * more at [SGS_FR_GRID_COUNTED] */
    uint64_t count[SGS_FR_GRID_COUNTED + 1];
    int32_t max_age_days; /* the largest age counted (days); 0 when none was larger */
} sgs_fr_grid_counts_t;

/* Fill *g for `model` with `params` over `horizon` (time units) from the customers' repeat
 * purchases frequency[0..n-1] and ages age_days[0..n-1] (days; divided by days_per_unit):
 * sgs_fr_grid_count over all of them from zeros, then sgs_fr_grid_from_counts. Allocates the
 * counts (33 KB).
 * @return 0; SGS_EINVAL for n == 0, a NULL array, days_per_unit <= 0 or a negative frequency
 * (err names the customer); SGS_ENOMEM. */
int sgs_fr_grid_compute(sgs_purchase_model_t model, const double *params, double horizon,
                        const int32_t *frequency, const int32_t *age_days, size_t n,
                        double days_per_unit, sgs_fr_grid_t *g, sgs_error_t *err);

/* The customers frequency[0..n-1] (repeat purchases) and age_days[0..n-1] (days) added to *c
 * (zeros before the first piece, else what the pieces before left). first: the index of
 * frequency[0] among all customers, which a message names. Counting consecutive pieces one
 * after another gives the counts of all customers at once; so do pieces counted apart from
 * zeros, their counts added and the larger max_age_days taken. No allocation.
 * @return 0; SGS_EINVAL for a NULL array with n > 0 or a negative frequency (err names the
 * customer by first + its index; *c then holds the customers before it). */
int sgs_fr_grid_count(sgs_fr_grid_counts_t *c, const int32_t *frequency, const int32_t *age_days,
                      size_t n, size_t first, sgs_error_t *err);

/* Fill *g for `model` with `params` over `horizon` (time units) from the counts of every
 * customer (the rows up to the 99th percentile of their repeat purchases, the columns up to the
 * largest age divided by days_per_unit). Reads *c only.
 * @return 0; SGS_EINVAL when *c counts no customer, for a NULL pointer or days_per_unit <= 0. */
int sgs_fr_grid_from_counts(sgs_purchase_model_t model, const double *params, double horizon,
                            const sgs_fr_grid_counts_t *c, double days_per_unit, sgs_fr_grid_t *g,
                            sgs_error_t *err);

#endif
