/*
 * engine/dist_sample.h — the sample of kernels/sample.h over customers spread over processes:
 * the same customers as one process holding all of them would choose (docs/mpi.md).
 */
#ifndef SGS_DIST_SAMPLE_H
#define SGS_DIST_SAMPLE_H

#include "engine/dist.h"

/* sgs_sample_by_key over every process's rows, whose ids must be distinct across all of them
 * (customers): *n_chosen of this process's rows are chosen (their indices ascending in
 * chosen, room for n), the min(n_sample, eligible rows of all) with the smallest keys among
 * all; *n_eligible_all counts the eligible rows of all (may be NULL). The key of rank
 * n_sample - 1 is found by engine/dist_select.h: no id moves. @return 0 or SGS_ENOMEM, the same
 * on every process. */
int sgs_dist_sample_by_key(const sgs_dist_t *d, const int64_t *id, const uint8_t *eligible,
                           size_t n, size_t n_sample, uint64_t seed, uint64_t stream,
                           size_t *chosen, size_t *n_chosen, size_t *n_eligible_all,
                           sgs_error_t *err);

#endif /* SGS_DIST_SAMPLE_H */
