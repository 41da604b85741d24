/*
 * engine/group_transactions.h — the input table grouped by customer, for the commands that
 * summarize customers (run, evaluate).
 */
#ifndef SGS_GROUP_TRANSACTIONS_H
#define SGS_GROUP_TRANSACTIONS_H

#include "kernels/group.h"
#include "kernels/tables.h"

/* Group tx by customer (kernels/group.h) into *out. The table is consumed: its columns are
 * freed or reused as the grouped columns, so that the grouping needs little fresh memory
 * (peak near 37 bytes per row). *tx is empty afterwards, on success and on error. order:
 * what the reader found of the row order (SGS_ORDER_*). *sorted_input_skipped tells
 * whether the rows were already in (customer, time) order.
 * @return 0, SGS_ENOMEM or SGS_EINVAL. */
int sgs_group_transactions(const sgs_exec_t *exec, sgs_transactions_t *tx, int order,
                           sgs_grouped_t *out, int *sorted_input_skipped, sgs_error_t *err);

#endif
