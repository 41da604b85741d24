/*
 * engine/dist_histories.h — the purchase histories of customers spread over processes, as one
 * table (docs/mpi.md): what the value models are fitted on.
 */
#ifndef SGS_DIST_HISTORIES_H
#define SGS_DIST_HISTORIES_H

#include "engine/dist.h"
#include "kernels/histories.h"

/* *all = the table of distinct (x, t_x, T) over every process's customers, built from each
 * process's own table (kernels/histories.h): every process gathers the distinct histories of
 * all (32 bytes each, not one per customer) and builds the table of them weighted by their
 * counts. With integer counts (below 2^53: customers) the table is the one a single process
 * builds from every customer, bit for bit, so that a fit on it is the same fit whatever the
 * number of processes. Its history_of is NULL: which history a customer has is in its own
 * process's table. @return 0, SGS_ENOMEM or the build's error, the same everywhere. */
int sgs_dist_histories_merge(const sgs_dist_t *d, const sgs_exec_t *exec,
                             const sgs_histories_t *mine, sgs_histories_t *all, sgs_error_t *err);

#endif /* SGS_DIST_HISTORIES_H */
