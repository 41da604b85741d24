/*
 * engine/dist_histories.c — one table of histories from every process's (engine/dist_histories.h).
 */
#include "engine/dist_histories.h"

#include <string.h>

/* A distinct history on the move: x, t_x, T, count. */
enum { FIELDS = 4 };

int sgs_dist_histories_merge(const sgs_dist_t *d, const sgs_exec_t *exec,
                             const sgs_histories_t *mine, sgs_histories_t *all, sgs_error_t *err)
{
    memset(all, 0, sizeof *all);
    size_t n = mine->n_unique;
    double *packed = sgs_alloc_array(n ? n * FIELDS : 1, sizeof *packed);
    int rc =
        packed ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "value: no memory for %zu histories", n);
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        packed[FIELDS * i] = mine->x[i];
        packed[FIELDS * i + 1] = mine->t_x[i];
        packed[FIELDS * i + 2] = mine->T[i];
        packed[FIELDS * i + 3] = mine->count[i];
    }
    double *gathered = NULL;
    size_t *bytes = sgs_alloc_array((size_t)d->size, sizeof *bytes);
    rc =
        sgs_dist_agree(d, bytes ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "value: no memory"), err);
    if (rc == SGS_OK)
        rc = sgs_dist_gather_all(d, packed, n * FIELDS * sizeof *packed, (void **)&gathered, bytes,
                                 err);
    sgs_free(packed);
    double *cols = NULL;
    size_t m = 0;
    if (rc == SGS_OK) {
        for (int p = 0; p < d->size; p++)
            m += bytes[p] / (FIELDS * sizeof *gathered);
        cols = sgs_alloc_array(m ? m * FIELDS : 1, sizeof *cols);
        rc =
            cols ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "value: no memory for %zu histories", m);
    }
    if (rc == SGS_OK) {
        /* the columns the build takes: x, t_x, T, weight */
        for (size_t i = 0; i < m; i++)
            for (size_t f = 0; f < FIELDS; f++)
                cols[f * m + i] = gathered[FIELDS * i + f];
        rc = sgs_histories_build(all, cols, cols + m, cols + 2 * m, cols + 3 * m, m, exec, err);
    }
    /* one process short of memory stops all; else each built the same table from the same
     * rows */
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK) {
        int64_t customers = (int64_t)mine->n_customers;
        sgs_dist_reduce_i64(d, &customers, 1, SGS_DIST_SUM);
        all->n_customers = (size_t)customers;
    }
    sgs_free(cols);
    sgs_free(gathered);
    sgs_free(bytes);
    return rc;
}
