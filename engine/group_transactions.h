/*
 * engine/group_transactions.h — the input table grouped by customer, for the commands that
 * summarize customers (run, evaluate).
 */
#ifndef SGS_GROUP_TRANSACTIONS_H
#define SGS_GROUP_TRANSACTIONS_H

#include "kernels/group.h"
#include "kernels/tables.h"

/* Group tx by customer (kernels/group.h) into *out. The table is consumed: its columns are
 * freed as soon as they are no longer needed (customer ids right after the index is built,
 * the rest after the scatter), so that the peak stays near 34 bytes per row. *tx is empty
 * afterwards, on success and on error. *sorted_input_skipped tells whether the rows were
 * already in (customer, time) order. @return 0, SGS_ENOMEM or SGS_EINVAL. */
int sgs_group_transactions(const sgs_exec_t *exec, sgs_transactions_t *tx, sgs_grouped_t *out,
                           int *sorted_input_skipped, sgs_error_t *err);

#endif
