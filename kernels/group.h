/*
 * kernels/group.h — group transaction rows by customer.
 *
 * Two steps, so that the caller can free the customer_id column between them and keep the
 * peak memory of a run near 34 bytes per transaction:
 *   1. sgs_customer_index_build: the sorted distinct customer ids (the dense customer index
 *      0..n-1 shared by every per-customer column) and, for each row, its customer's index.
 *   2. sgs_group_rows: a stable counting scatter of the rows into customer order, then a
 *      stable sort by day inside each customer. Skipped when the rows are already in
 *      (customer, time) order. It takes over the row columns and reuses them.
 * Results are the same bits whatever the thread count: the scatter is stable (rows of one
 * customer keep their file order, then are ordered by day), so it does not depend on how
 * rows were split among threads.
 */
#ifndef SGS_GROUP_H
#define SGS_GROUP_H

#include "kernels/core.h"

#include <stdint.h>

/* Rows grouped by customer: rows of customer c are row_offset[c] .. row_offset[c+1]-1,
 * ordered by day, rows of the same day in file order. */
typedef struct sgs_grouped {
    size_t n_customers;
    size_t n_rows;
    int64_t *customer_id; /* n_customers, strictly ascending */
    size_t *row_offset;   /* n_customers + 1; row_offset[0] = 0, row_offset[n] = n_rows */
    int32_t *day;         /* n_rows: whole UTC day number (sgs_day_of) of each row */
    double *amount;       /* n_rows: as in the input; < 0 is a refund */
    uint8_t *channel;     /* n_rows, or NULL when the input has no channel column */
} sgs_grouped_t;

/* Free every column of *g (NULL-safe) and zero it. */
void sgs_grouped_free(sgs_grouped_t *g);

/* Distinct customer ids and the dense index of each row.
 * customer_id: n_rows ids, any order. Writes row_customer[i] = index of customer_id[i] in
 * *ids_out (caller-owned array of n_rows). *ids_out is allocated here (sgs_free), strictly
 * ascending, *n_customers long. Ids spanning a range up to 8 times the row count use a
 * bitmap (parallel, cache friendly); other ids a parallel sample sort.
 * @return 0; SGS_EINVAL when n_rows == 0 or more than UINT32_MAX distinct customers;
 * SGS_ENOMEM. */
int sgs_customer_index_build(const sgs_exec_t *exec, const int64_t *customer_id, size_t n_rows,
                             uint32_t *row_customer, int64_t **ids_out, size_t *n_customers,
                             sgs_error_t *err);

/* For each id of a (na ids, strictly ascending) its index in b (nb ids, strictly ascending),
 * or -1 when b lacks it: pos[i], caller-owned [na]. A linear merge, serial: O(na + nb). */
void sgs_customer_ids_match(const int64_t *a, size_t na, const int64_t *b, size_t nb, int64_t *pos);

/* The row columns handed over to sgs_group_rows, which takes them: each is freed there or
 * becomes an output column (so the grouping needs little fresh memory, which is slow to
 * fault in), on success and on error. All allocated with sgs_alloc_array, n_rows long. */
typedef struct sgs_row_columns {
    size_t n_rows;
    uint32_t *row_customer; /* from sgs_customer_index_build */
    int64_t *time_s;        /* Unix seconds */
    double *amount;
    uint8_t *channel; /* may be NULL */
    void *spare;      /* n_rows * 8 bytes the caller no longer needs (its customer_id column,
                         once indexed), used as scratch; may be NULL */
} sgs_row_columns_t;

/* What the caller knows of the row order. */
enum { SGS_ORDER_UNKNOWN = -1, SGS_ORDER_SCATTERED = 0, SGS_ORDER_SORTED = 1 };

/* Group rows by customer index. rows is taken over (above) and zeroed. order: whether the
 * rows are in (customer, time) order, SGS_ORDER_UNKNOWN to have it checked here.
 * ids (n_customers, owned by the caller until this call succeeds) becomes
 * out->customer_id. *sorted_input_skipped tells whether the rows were in order (no
 * scatter was needed).
 * @return 0, SGS_ENOMEM (ids still owned by the caller) or SGS_EINVAL. */
int sgs_group_rows(const sgs_exec_t *exec, sgs_row_columns_t *rows, int order, int64_t *ids,
                   size_t n_customers, sgs_grouped_t *out, int *sorted_input_skipped,
                   sgs_error_t *err);

/* The cursors of a stable scatter by bucket (the grouping's, the customer index's sample sort,
 * kernels/customer_columns.c): on entry cursor[q * n_buckets + b] holds how many of range q's
 * rows go to bucket b; on return it holds where the first of them goes, the buckets one after
 * the other and, within a bucket, the ranges in order; bucket_start[b] (n_buckets + 1 entries)
 * where bucket b begins, bucket_start[n_buckets] the total. */
void sgs_bucket_cursors(size_t n_ranges, size_t n_buckets, size_t *cursor, size_t *bucket_start);

/* Serial reference twin of sgs_customer_index_build: the ids copied, sorted (qsort) and made
 * distinct, each row's index found by binary search; the same ids, indices, codes and messages
 * (but for SGS_ENOMEM's). *ids_out is allocated here (sgs_free). */
int sgs_customer_index_build_ref(const int64_t *customer_id, size_t n_rows, uint32_t *row_customer,
                                 int64_t **ids_out, size_t *n_customers, sgs_error_t *err);

/* Serial reference twin of sgs_group_rows: the rows sorted (qsort) by (customer index, day,
 * position in the input), then gathered; the same columns and offsets (bitwise), whatever the
 * row order. Unlike the kernel it only reads rows and ids (out gets copies of its own, freed by
 * sgs_grouped_free; rows->spare is not used). Preconditions as the kernel's: every customer
 * index < n_customers. @return 0, SGS_EINVAL (no rows) or SGS_ENOMEM (out zeroed). */
int sgs_group_rows_ref(const sgs_row_columns_t *rows, const int64_t *ids, size_t n_customers,
                       sgs_grouped_t *out, sgs_error_t *err);

#endif
