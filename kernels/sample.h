/*
 * kernels/sample.h — a sample of rows chosen by a hash of their ids: a simple random sample
 * without replacement that is a pure function of (seed, stream, the eligible ids), so that the
 * same customers are chosen whatever the thread count, the row order or the other customers'
 * histories (engine/run_backtest.c samples the backtest's cohort with it).
 *
 * Every row i gets the key sgs_sample_key(seed, stream, id[i]) = sgs_rng_u64(seed, stream,
 * (uint64_t)id[i]) (core.h: SplitMix64 over a mixed key; a bijection of the id for a given
 * seed and stream, so distinct ids never share a key). The sample is the n_sample eligible
 * rows with the smallest (key, id, row) in lexicographic order: each eligible row is equally
 * likely to be in it, and a row in the sample of m rows stays in the sample of any m' > m.
 */
#ifndef SGS_SAMPLE_H
#define SGS_SAMPLE_H

#include "kernels/core.h"

#include <stdint.h>

/* The key of an id (as above). Pure; thread-safe. */
uint64_t sgs_sample_key(uint64_t seed, uint64_t stream, int64_t id);

/* Choose min(n_sample, n_eligible) rows among the rows i < n with eligible[i] != 0 (eligible
 * NULL: every row), those with the smallest (key, id, row) as above.
 *
 *   id:         [n] row ids (any values; equal ids are ordered by row)
 *   eligible:   [n] or NULL
 *   n_sample:   rows wanted; 0 chooses none (a caller meaning "all" passes SIZE_MAX)
 *   chosen:     [min(n_sample, n)] written: the chosen rows in ascending order
 *   n_chosen:   written: min(n_sample, n_eligible)
 *   n_eligible: written when not NULL: the eligible rows
 *
 * Two passes over the rows, parallel over fixed blocks of SGS_BLOCK_ROWS with exec's threads:
 * per-block histograms of the keys' top 8 bits, then the rows of the buckets up to the one where
 * the n_sample-th smallest falls; only that bucket's rows are sorted (about n_eligible / 256
 * for distinct ids). Allocates 1 KiB per block, and 8 bytes per row of those buckets and 24 per
 * row of the last one. The output does not depend on the thread count. n == 0 chooses nothing.
 * @return 0; SGS_EINVAL (NULL id or output with n > 0); SGS_ENOMEM (nothing written). */
int sgs_sample_by_key(const int64_t *id, const uint8_t *eligible, size_t n, size_t n_sample,
                      uint64_t seed, uint64_t stream, size_t *chosen, size_t *n_chosen,
                      size_t *n_eligible, const sgs_exec_t *exec, sgs_error_t *err);

/* Serial reference twin of sgs_sample_by_key: every eligible row's (key, id, row) sorted
 * (qsort), the first min(n_sample, n_eligible) rows kept and put in ascending order; the same
 * output and codes. Allocates 24 bytes per row. */
int sgs_sample_by_key_ref(const int64_t *id, const uint8_t *eligible, size_t n, size_t n_sample,
                          uint64_t seed, uint64_t stream, size_t *chosen, size_t *n_chosen,
                          size_t *n_eligible, sgs_error_t *err);

/* The same sample of rows spread over processes (engine/dist_sample.h), whose ids are
 * distinct across all of them (customers): the sample is then the eligible rows whose key is
 * at most the key of rank n_sample - 1 among every process's eligible keys.
 * - sgs_sample_keys_sorted: the keys of this process's eligible rows, ascending, into keys
 *   (room for n); returns their count;
 * - sgs_sample_rows_up_to: the eligible rows with key <= last_key into chosen, ascending;
 *   returns their count. Serial. */
size_t sgs_sample_keys_sorted(const int64_t *id, const uint8_t *eligible, size_t n, uint64_t seed,
                              uint64_t stream, uint64_t *keys);
size_t sgs_sample_rows_up_to(const int64_t *id, const uint8_t *eligible, size_t n, uint64_t seed,
                             uint64_t stream, uint64_t last_key, size_t *chosen);

#endif /* SGS_SAMPLE_H */
