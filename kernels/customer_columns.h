/*
 * kernels/customer_columns.h — the /customers table's columns moved from its rows (in any
 * order) to the entries of a customer index: signup day, preferred channel and referrer.
 */
#ifndef SGS_CUSTOMER_COLUMNS_H
#define SGS_CUSTOMER_COLUMNS_H

#include "kernels/core.h"

#include <stdint.h>

/* The row columns of the table (each NULL when the table lacks it) and where each row goes:
 * row r is index entry b_to_u[crow[r]]. */
typedef struct sgs_customer_rows {
    size_t n_rows;
    const uint32_t *crow;             /* [n_rows]: the row's distinct id */
    const int64_t *b_to_u;            /* [distinct ids]: the id's index entry, < n */
    const int64_t *signup_time_s;     /* [n_rows] Unix seconds, or NULL */
    const uint8_t *preferred_channel; /* [n_rows], or NULL */
    const int64_t *referrer_id;       /* [n_rows], or NULL */
} sgs_customer_rows_t;

/* The index's columns ([n] each, caller-owned, NULL exactly where the row column is NULL). */
typedef struct sgs_customer_columns {
    size_t n;
    int32_t *signup_day;        /* sgs_day_of(signup_time_s) */
    uint8_t *preferred_channel; /* copied */
    int64_t *referrer_id;       /* copied */
} sgs_customer_columns_t;

/* For every row r in row order: column[b_to_u[crow[r]]] = the row's value, in every column
 * both sides have (a repeated entry keeps its last row's values); entries no row names keep
 * what the caller put there. The rows are moved through buckets of consecutive entries (one
 * pass writing a few sequential streams, then each bucket's writes within cache) instead of
 * three random writes a row; stable, so the result is the row loop's (sgs_customer_columns_
 * scatter_ref) whatever the thread count. Scratch of 28 bytes a row is allocated.
 * Precondition: every b_to_u[crow[r]] is in [0, n).
 * @return 0; SGS_ENOMEM (nothing written). */
int sgs_customer_columns_scatter(const sgs_exec_t *exec, const sgs_customer_rows_t *rows,
                                 sgs_customer_columns_t *out, sgs_error_t *err);

/* Serial reference twin: the row loop. */
void sgs_customer_columns_scatter_ref(const sgs_customer_rows_t *rows, sgs_customer_columns_t *out);

#endif
