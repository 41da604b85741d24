/*
 * engine/dist_histories.c — one table of histories from every process's (engine/dist_histories.h).
 */
#include "engine/dist_histories.h"

#include <string.h>

/* A distinct history on the move: x, t_x, T, count. */
enum { FIELDS = 4 };

/* Every process's distinct histories, packed, in rank order: *gathered (sgs_free), *m of them. */
static int gather_histories(const sgs_dist_t *d, const sgs_histories_t *mine, double **gathered,
                            size_t *m, sgs_error_t *err)
{
    size_t n = mine->n_unique;
    double *packed = sgs_alloc_array(n ? n * FIELDS : 1, sizeof *packed);
    size_t *bytes = sgs_alloc_array((size_t)d->size, sizeof *bytes);
    int rc = packed && bytes
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "value: no memory for %zu histories", n);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK) {
        for (size_t i = 0; i < n; i++) {
            packed[FIELDS * i] = mine->x[i];
            packed[FIELDS * i + 1] = mine->t_x[i];
            packed[FIELDS * i + 2] = mine->T[i];
            packed[FIELDS * i + 3] = mine->count[i];
        }
        rc = sgs_dist_gather_all(d, packed, n * FIELDS * sizeof *packed, (void **)gathered, bytes,
                                 err);
    }
    *m = 0;
    for (int p = 0; rc == SGS_OK && p < d->size; p++)
        *m += bytes[p] / (FIELDS * sizeof **gathered);
    sgs_free(packed);
    sgs_free(bytes);
    return rc;
}

int sgs_dist_histories_merge(const sgs_dist_t *d, const sgs_exec_t *exec,
                             const sgs_histories_t *mine, sgs_histories_t *all, sgs_error_t *err)
{
    memset(all, 0, sizeof *all);
    double *gathered = NULL;
    size_t m = 0;
    int rc = gather_histories(d, mine, &gathered, &m, err);
    if (rc)
        return rc;
    /* from here a failure is this process's alone: the processes agree on it once */
    double *cols = sgs_alloc_array(m ? m * FIELDS : 1, sizeof *cols);
    int built =
        cols ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "value: no memory for %zu histories", m);
    if (built == SGS_OK) {
        /* the columns the build takes: x, t_x, T, weight */
        for (size_t i = 0; i < m; i++)
            for (size_t f = 0; f < FIELDS; f++)
                cols[f * m + i] = gathered[FIELDS * i + f];
        built = sgs_histories_build(all, cols, cols + m, cols + 2 * m, cols + 3 * m, m, exec, err);
    }
    sgs_free(cols);
    sgs_free(gathered);
    rc = sgs_dist_agree(d, built, err);
    if (rc) {
        sgs_histories_free(all);
        return rc;
    }
    /* the table counts every process's customers; which history each has is known where the
     * customer is (its process's own table), not here */
    int64_t customers = (int64_t)mine->n_customers;
    sgs_dist_reduce_i64(d, &customers, 1, SGS_DIST_SUM);
    all->n_customers = (size_t)customers;
    sgs_free(all->history_of);
    all->history_of = NULL;
    return SGS_OK;
}
