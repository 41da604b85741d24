/*
 * engine/dist_sample.c — a sample by key over processes (engine/dist_sample.h).
 */
#include "engine/dist_sample.h"

#include "engine/dist_select.h"
#include "kernels/sample.h"

int sgs_dist_sample_by_key(const sgs_dist_t *d, const int64_t *id, const uint8_t *eligible,
                           size_t n, size_t n_sample, uint64_t seed, uint64_t stream,
                           size_t *chosen, size_t *n_chosen, size_t *n_eligible_all,
                           sgs_error_t *err)
{
    *n_chosen = 0;
    uint64_t *keys = sgs_alloc_array(n ? n : 1, sizeof *keys);
    int rc = keys ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "sample: no memory for %zu keys", n);
    rc = sgs_dist_agree(d, rc, err);
    if (rc) {
        sgs_free(keys);
        return rc;
    }
    size_t m = sgs_sample_keys_sorted(id, eligible, n, seed, stream, keys);
    int64_t all = (int64_t)m;
    sgs_dist_reduce_i64(d, &all, 1, SGS_DIST_SUM);
    if (n_eligible_all)
        *n_eligible_all = (size_t)all;
    if (n_sample > 0 && all > 0) {
        uint64_t last = UINT64_MAX; /* every eligible row when there are no more than wanted */
        if ((uint64_t)all > n_sample) {
            uint64_t rank = n_sample - 1;
            sgs_dist_select_keys(d, keys, m, &rank, 1, &last);
        }
        *n_chosen = sgs_sample_rows_up_to(id, eligible, n, seed, stream, last, chosen);
    }
    sgs_free(keys);
    return SGS_OK;
}
