/*
 * engine/dist_select.h — order statistics over values spread over the processes: the key of a
 * given rank among all processes' keys, found exactly, without moving the keys (docs/mpi.md).
 */
#ifndef SGS_DIST_SELECT_H
#define SGS_DIST_SELECT_H

#include "engine/dist.h"

/* For each rank[j] (0-based, ascending order, below the total count of keys over every
 * process), out[j] = that key: the largest key K with fewer than rank[j] + 1 keys below it.
 * `sorted`: this process's n keys, ascending. A bitwise search from the top bit: 64 rounds,
 * each a count below a candidate on every process (a binary search) and one sum of n_rank
 * counts over the processes. The same result on every process, whatever their number. */
void sgs_dist_select_keys(const sgs_dist_t *d, const uint64_t *sorted, size_t n,
                          const uint64_t *rank, size_t n_rank, uint64_t *out);

/* sgs_rfm_score (kernels/rfm.h) over the customers of every process: the scores of this
 * process's n customers, from cuts selected among all of them; the same scores as one
 * process holding every customer. @return 0, SGS_EINVAL (bins out of range, NaN values: the
 * count over all processes) or SGS_ENOMEM, the same on every process. */
int sgs_dist_rfm_score(const sgs_dist_t *d, const sgs_exec_t *exec, const double *values, size_t n,
                       int higher_is_better, int n_bins, uint8_t *score, sgs_error_t *err);

#endif /* SGS_DIST_SELECT_H */
