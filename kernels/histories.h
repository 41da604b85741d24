/*
 * kernels/histories.h — compress per-customer purchase histories (x, t_x, T) to the
 * distinct triples with their counts, so that the likelihoods of the lifetime value models
 * (kernels/bgnbd.h, mbgnbd.h, paretonbd.h) cost one term per distinct history, not per
 * customer (Fader & Hardie's spreadsheets do the same with their "number of customers with
 * this pattern" column; lifetimes calls it weights).
 *
 *   x    repeat purchases in the calibration period (integer >= 0)
 *   t_x  time of the last repeat purchase, from the first purchase (0 when x = 0)
 *   T    time from the first purchase to the end of the calibration period
 * Times are in the caller's unit (days, weeks, ...): the kernel never interprets them.
 *
 * Besides the distinct triples, the table keeps the distinct values of each column with,
 * for every triple, the index of its x, t_x and T among them: a likelihood evaluation then
 * computes ln(alpha + T) once per distinct T, lgamma/digamma terms once per distinct x.
 *
 * Determinism: the result is a pure function of the input (sorted by value; counts summed
 * in row order within a history), whatever the thread count.
 */
#ifndef SGS_HISTORIES_H
#define SGS_HISTORIES_H

#include "kernels/core.h"

#include <stdint.h>

typedef struct sgs_histories {
    size_t n_customers;  /* input rows the table was built from */
    size_t n_unique;     /* distinct (x, t_x, T) triples; 0 for empty input */
    double total_weight; /* Σ count over histories (= n_customers for unit weights) */

    /* One entry per distinct history, ascending by (x, t_x, T). */
    double *x;        /* [n_unique] repeat purchases, integer-valued */
    double *t_x;      /* [n_unique] recency, 0 <= t_x <= T */
    double *T;        /* [n_unique] age */
    double *count;    /* [n_unique] customers (or summed weights) with this history, > 0 */
    uint32_t *x_id;   /* [n_unique] index of x in x_values */
    uint32_t *t_x_id; /* [n_unique] index of t_x in t_x_values */
    uint32_t *T_id;   /* [n_unique] index of T in T_values */

    /* Distinct values of each column, ascending. */
    size_t n_x_values, n_t_x_values, n_T_values;
    double *x_values;   /* [n_x_values] */
    double *t_x_values; /* [n_t_x_values] */
    double *T_values;   /* [n_T_values] */
    double *count_by_x; /* [n_x_values] Σ count of the histories with that x */

    /* Row i of the input has history history_of[i] (0 <= value < n_unique). */
    uint32_t *history_of; /* [n_customers] */
} sgs_histories_t;

/* Build the history table of n customers.
 *
 * x, t_x, T: [n] per customer, in the caller's time unit; weight: [n] or NULL (each row
 * counts 1), finite and > 0 (use it to pass already-aggregated histories).
 * Requirements, checked: every value finite; x >= 0 and integer-valued; 0 <= t_x <= T;
 * t_x == 0 when x == 0 (the first purchase is at time 0); n < 2^32.
 * -0.0 is treated as 0.
 *
 * *h is overwritten; on success it owns its arrays (free with sgs_histories_free). n == 0
 * gives an empty table (n_unique = 0). Sort-based: distinct values of each column are
 * found by hashing (radix sort when a column has very many), the triple of their ranks is
 * radix sorted, equal neighbours are merged. O(n) work, parallel over fixed blocks of
 * SGS_BLOCK_ROWS rows with exec's threads; the output does not depend on the thread count.
 * Temporary memory about 30 bytes per row.
 *
 * @return 0; SGS_EDATA naming the first offending row; SGS_EOVERFLOW (n >= 2^32);
 *         SGS_ENOMEM (nothing is left allocated); SGS_EINVAL for NULL arrays with n > 0.
 */
int sgs_histories_build(sgs_histories_t *h, const double *x, const double *t_x, const double *T,
                        const double *weight, size_t n, const sgs_exec_t *exec, sgs_error_t *err);

/* Serial reference twin of sgs_histories_build (kernels/histories_ref.c): the rows sorted by
 * (x, t_x, T, row) with a comparison sort and walked in that order; the same table, bits,
 * return codes and messages (but for SGS_ENOMEM's). */
int sgs_histories_build_ref(sgs_histories_t *h, const double *x, const double *t_x, const double *T,
                            const double *weight, size_t n, sgs_error_t *err);

/* Free the arrays of a table and zero it. NULL-safe; safe on a zeroed struct. */
void sgs_histories_free(sgs_histories_t *h);

#endif /* SGS_HISTORIES_H */
