/*
 * engine/group_transactions.c — index the customers, then hand the columns over to the
 * grouping, which frees or reuses them (engine/group_transactions.h).
 */
#include "engine/group_transactions.h"

int sgs_group_transactions(const sgs_exec_t *exec, sgs_transactions_t *tx, int order,
                           sgs_grouped_t *out, int *sorted_input_skipped, sgs_error_t *err)
{
    uint32_t *row_customer = sgs_alloc_array(tx->n_rows, sizeof *row_customer);
    if (!row_customer) {
        sgs_transactions_free(tx);
        return sgs_error_set(err, SGS_ENOMEM, "grouping: no memory for %zu rows", tx->n_rows);
    }
    int64_t *ids = NULL;
    size_t n_customers = 0;
    int rc = sgs_customer_index_build(exec, tx->customer_id, tx->n_rows, row_customer, &ids,
                                      &n_customers, err);
    if (rc != SGS_OK) {
        sgs_free(row_customer);
        sgs_transactions_free(tx);
        return rc;
    }
    sgs_row_columns_t rows = {tx->n_rows, row_customer, tx->time_s,
                              tx->amount, tx->channel,  tx->customer_id};
    tx->time_s = NULL;
    tx->amount = NULL;
    tx->channel = NULL;
    tx->customer_id = NULL;
    sgs_transactions_free(tx); /* the category column: not used by the summary */
    rc = sgs_group_rows(exec, &rows, order, ids, n_customers, out, sorted_input_skipped, err);
    if (rc != SGS_OK)
        sgs_free(ids);
    return rc;
}
