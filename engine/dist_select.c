/*
 * engine/dist_select.c — order statistics over the processes (engine/dist_select.h).
 */
#include "engine/dist_select.h"

#include "kernels/rfm.h"

#include <stdlib.h>

void sgs_dist_select_keys(const sgs_dist_t *d, const uint64_t *sorted, size_t n,
                          const uint64_t *rank, size_t n_rank, uint64_t *out)
{
    int64_t below[8];
    for (size_t j0 = 0; j0 < n_rank; j0 += 8) { /* eight ranks per round of sums */
        size_t m = n_rank - j0 < 8 ? n_rank - j0 : 8;
        uint64_t found[8] = {0};
        for (int bit = 63; bit >= 0; bit--) {
            for (size_t j = 0; j < m; j++)
                below[j] = (int64_t)sgs_keys_below(sorted, n, found[j] | (UINT64_C(1) << bit));
            sgs_dist_reduce_i64(d, below, m, SGS_DIST_SUM);
            /* keep the bit when at most rank keys lie below the candidate */
            for (size_t j = 0; j < m; j++)
                if ((uint64_t)below[j] <= rank[j0 + j])
                    found[j] |= UINT64_C(1) << bit;
        }
        for (size_t j = 0; j < m; j++)
            out[j0 + j] = found[j];
    }
}

int sgs_dist_rfm_score(const sgs_dist_t *d, const sgs_exec_t *exec, const double *values, size_t n,
                       int higher_is_better, int n_bins, uint8_t *score, sgs_error_t *err)
{
    if (n_bins < SGS_RFM_MIN_BINS || n_bins > SGS_RFM_MAX_BINS)
        return sgs_error_set(err, SGS_EINVAL, "rfm: %d bins (must be %d..%d)", n_bins,
                             SGS_RFM_MIN_BINS, SGS_RFM_MAX_BINS);
    uint64_t *keys = sgs_alloc_array(n ? n : 1, sizeof *keys);
    int rc = keys ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "rfm: no memory for %zu keys", n);
    rc = sgs_dist_agree(d, rc, err);
    if (rc) {
        sgs_free(keys);
        return rc;
    }
    int64_t counts[2] = {(int64_t)n,
                         (int64_t)sgs_rfm_sorted_keys(values, n, higher_is_better, keys)};
    sgs_dist_reduce_i64(d, counts, 2, SGS_DIST_SUM);
    if (counts[1]) {
        sgs_free(keys);
        return sgs_error_set(err, SGS_EINVAL, "rfm: %lld values are NaN", (long long)counts[1]);
    }
    if (counts[0] > 0) {
        uint64_t rank[8], cut[8];
        for (int s = 1; s < n_bins; s++)
            rank[s - 1] = sgs_rfm_cut_rank((size_t)counts[0], n_bins, s);
        sgs_dist_select_keys(d, keys, n, rank, (size_t)(n_bins - 1), cut);
        sgs_rfm_score_from_cuts(exec, values, n, higher_is_better, cut, n_bins, score);
    }
    sgs_free(keys);
    return SGS_OK;
}
