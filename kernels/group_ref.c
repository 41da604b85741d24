/*
 * kernels/group_ref.c — serial reference twins of sgs_customer_index_build and sgs_group_rows
 * (kernels/group.h): the definitions computed the plain way, with qsort and binary search
 * instead of bitmaps, sample sorts and two-pass scatters. Tests compare the kernels with them
 * on 1, 2 and 3 threads.
 */
#include "kernels/group.h"

#include <stdlib.h>
#include <string.h>

/* ---- Customer index ---------------------------------------------------------------------- */

static int compare_ids(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

int sgs_customer_index_build_ref(const int64_t *customer_id, size_t n_rows, uint32_t *row_customer,
                                 int64_t **ids_out, size_t *n_customers, sgs_error_t *err)
{
    if (n_rows == 0)
        return sgs_error_set(err, SGS_EINVAL, "grouping: no rows");
    int64_t *ids = sgs_alloc_array(n_rows, sizeof *ids);
    if (!ids)
        return sgs_error_set(err, SGS_ENOMEM, "grouping: no memory for %zu customer ids", n_rows);
    memcpy(ids, customer_id, n_rows * sizeof *ids);
    qsort(ids, n_rows, sizeof *ids, compare_ids);
    size_t m = 0; /* distinct ids, kept at the front */
    for (size_t i = 0; i < n_rows; i++)
        if (m == 0 || ids[i] != ids[m - 1])
            ids[m++] = ids[i];
    if (m > UINT32_MAX) {
        sgs_free(ids);
        return sgs_error_set(err, SGS_EINVAL, "grouping: more than %u distinct customers",
                             UINT32_MAX);
    }
    for (size_t i = 0; i < n_rows; i++) {
        const int64_t *at = bsearch(&customer_id[i], ids, m, sizeof *ids, compare_ids);
        row_customer[i] = (uint32_t)(at - ids);
    }
    *ids_out = ids;
    *n_customers = m;
    return SGS_OK;
}

/* ---- Grouping ---------------------------------------------------------------------------- */

typedef struct row_key {
    uint32_t customer;
    int32_t day;
    size_t row; /* position in the input: ties of (customer, day) keep the file order */
} row_key_t;

static int compare_keys(const void *pa, const void *pb)
{
    const row_key_t *a = pa, *b = pb;
    if (a->customer != b->customer)
        return a->customer < b->customer ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

int sgs_group_rows_ref(const sgs_row_columns_t *rows, const int64_t *ids, size_t n_customers,
                       sgs_grouped_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    size_t n = rows->n_rows;
    if (n == 0 || n_customers == 0)
        return sgs_error_set(err, SGS_EINVAL, "grouping: no rows");
    row_key_t *key = sgs_alloc_array(n, sizeof *key);
    out->n_customers = n_customers;
    out->n_rows = n;
    out->customer_id = sgs_alloc_array(n_customers, sizeof *out->customer_id);
    out->row_offset = sgs_calloc_array(n_customers + 1, sizeof *out->row_offset);
    out->day = sgs_alloc_array(n, sizeof *out->day);
    out->amount = sgs_alloc_array(n, sizeof *out->amount);
    if (rows->channel)
        out->channel = sgs_alloc_array(n, sizeof *out->channel);
    if (!key || !out->customer_id || !out->row_offset || !out->day || !out->amount ||
        (rows->channel && !out->channel)) {
        sgs_free(key);
        sgs_grouped_free(out);
        return sgs_error_set(err, SGS_ENOMEM, "grouping %zu rows of %zu customers: %s", n,
                             n_customers, sgs_strerror(SGS_ENOMEM));
    }
    memcpy(out->customer_id, ids, n_customers * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        key[i] = (row_key_t){rows->row_customer[i], (int32_t)sgs_day_of(rows->time_s[i]), i};
    qsort(key, n, sizeof *key, compare_keys);
    for (size_t k = 0; k < n; k++) {
        size_t i = key[k].row;
        out->day[k] = key[k].day;
        out->amount[k] = rows->amount[i];
        if (rows->channel)
            out->channel[k] = rows->channel[i];
        out->row_offset[key[k].customer + 1]++;
    }
    for (size_t c = 0; c < n_customers; c++)
        out->row_offset[c + 1] += out->row_offset[c];
    sgs_free(key);
    return SGS_OK;
}
