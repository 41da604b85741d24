/*
 * kernels/sample.c — rows chosen by the smallest keys of their ids. See sample.h.
 *
 * The n_sample-th smallest key is found without sorting every key: per-block histograms of the
 * keys' top bits give the bucket it falls in, how many rows lie below that bucket and where
 * each block's rows go; one more pass collects the rows of the buckets up to it, and only that
 * bucket's rows are sorted. Two hashes per row in all. Which rows are kept is a pure function
 * of the keys, so the result does not depend on the thread count.
 */
#include "kernels/sample.h"

#include <stdlib.h>

#define BUCKET_BITS 8
#define N_BUCKETS ((size_t)1 << BUCKET_BITS)

/* sgs_rng_u64 (core.c) with its first two rounds, which depend on (seed, stream) only, done
 * once per call, and inlined: a key is then two multiplications and a few shifts.
 * tests/unit/test_sample.c checks that the two agree. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t key_base(uint64_t seed, uint64_t stream)
{
    return mix64(mix64(seed + UINT64_C(0x9e3779b97f4a7c15)) ^
                 (stream * UINT64_C(0xd1b54a32d192ed03)));
}

static uint64_t key_of(uint64_t base, int64_t id)
{
    return mix64(base + (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15));
}

uint64_t sgs_sample_key(uint64_t seed, uint64_t stream, int64_t id)
{
    return key_of(key_base(seed, stream), id);
}

/* A row's place in the order of sample.h: (key, id, row). */
typedef struct entry {
    uint64_t key;
    int64_t id;
    size_t row;
} entry_t;

static int entry_cmp(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* The bucket of a key: its top BUCKET_BITS bits. */
#define BUCKET_OF(key) ((size_t)((key) >> (64 - BUCKET_BITS)))

static size_t block_end(size_t b, size_t n)
{
    return (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
}

int sgs_sample_by_key(const int64_t *id, const uint8_t *eligible, size_t n, size_t n_sample,
                      uint64_t seed, uint64_t stream, size_t *chosen, size_t *n_chosen,
                      size_t *n_eligible, const sgs_exec_t *exec, sgs_error_t *err)
{
    if (n > 0 && (!id || !chosen || !n_chosen))
        return sgs_error_set(err, SGS_EINVAL, "sample: NULL ids or output with %zu rows", n);
    if (n_chosen)
        *n_chosen = 0;
    if (n_eligible)
        *n_eligible = 0;
    if (n == 0)
        return SGS_OK;
    int nt = sgs_exec_threads_for(exec, n);
    uint64_t base = key_base(seed, stream);
    size_t n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
    /* pass 1: eligible rows per (block, bucket); a block has at most SGS_BLOCK_ROWS rows */
    uint32_t *hist = sgs_calloc_array(n_blocks, N_BUCKETS * sizeof *hist);
    size_t *offset = sgs_alloc_array(n_blocks, sizeof *offset), *low = NULL;
    entry_t *cand = NULL;
    int rc = SGS_OK;
    if (!hist || !offset) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < n_blocks; b++) {
        uint32_t *h = hist + b * N_BUCKETS;
        for (size_t i = b * SGS_BLOCK_ROWS; i < block_end(b, n); i++)
            if (!eligible || eligible[i])
                h[BUCKET_OF(key_of(base, id[i]))]++;
    }
    size_t total_of[N_BUCKETS] = {0}, total = 0;
    for (size_t b = 0; b < n_blocks; b++)
        for (size_t k = 0; k < N_BUCKETS; k++)
            total_of[k] += hist[b * N_BUCKETS + k];
    for (size_t k = 0; k < N_BUCKETS; k++)
        total += total_of[k];
    if (n_eligible)
        *n_eligible = total;
    if (n_sample == 0)
        goto cleanup;

    /* The bucket where the n_sample-th smallest falls (the last one when all are wanted), and
     * the rows below it. */
    size_t bucket = 0, below = 0;
    int all = n_sample >= total;
    if (all)
        bucket = N_BUCKETS - 1, below = total - total_of[bucket];
    else
        while (below + total_of[bucket] < n_sample)
            below += total_of[bucket++];
    /* pass 2: the rows of the buckets up to it, in row order (each block from its offset) */
    size_t n_low = below + total_of[bucket], at = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        offset[b] = at;
        for (size_t k = 0; k <= bucket; k++)
            at += hist[b * N_BUCKETS + k];
    }
    low = all ? chosen : sgs_alloc_array(n_low, sizeof *low);
    cand = all ? NULL : sgs_alloc_array(total_of[bucket], sizeof *cand);
    if (!low || (!all && !cand)) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t k = offset[b];
        for (size_t i = b * SGS_BLOCK_ROWS; i < block_end(b, n); i++)
            if ((!eligible || eligible[i]) && (all || BUCKET_OF(key_of(base, id[i])) <= bucket))
                low[k++] = i;
    }
    if (all) {
        *n_chosen = total;
        goto cleanup;
    }
    /* the threshold: the (n_sample - below)-th smallest row of that bucket; then keep the rows
     * below the bucket and those of it up to the threshold */
    size_t m = 0;
    for (size_t j = 0; j < n_low; j++) {
        uint64_t key = key_of(base, id[low[j]]);
        if (BUCKET_OF(key) == bucket)
            cand[m++] = (entry_t){key, id[low[j]], low[j]};
    }
    qsort(cand, m, sizeof *cand, entry_cmp);
    entry_t limit = cand[n_sample - below - 1];
    size_t k = 0;
    for (size_t j = 0; j < n_low; j++) {
        size_t i = low[j];
        entry_t e = {key_of(base, id[i]), id[i], i};
        if (BUCKET_OF(e.key) < bucket || entry_cmp(&e, &limit) <= 0)
            chosen[k++] = i;
    }
    *n_chosen = k; /* = n_sample */
cleanup:
    sgs_free(hist);
    sgs_free(offset);
    if (low != chosen)
        sgs_free(low);
    sgs_free(cand);
    if (rc)
        return sgs_error_set(err, rc, "sample: out of memory choosing %zu of %zu rows", n_sample,
                             n);
    return SGS_OK;
}

/* ---- Serial reference twin -------------------------------------------------------------- */

static int row_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int sgs_sample_by_key_ref(const int64_t *id, const uint8_t *eligible, size_t n, size_t n_sample,
                          uint64_t seed, uint64_t stream, size_t *chosen, size_t *n_chosen,
                          size_t *n_eligible, sgs_error_t *err)
{
    if (n > 0 && (!id || !chosen || !n_chosen))
        return sgs_error_set(err, SGS_EINVAL, "sample: NULL ids or output with %zu rows", n);
    if (n_chosen)
        *n_chosen = 0;
    if (n_eligible)
        *n_eligible = 0;
    if (n == 0)
        return SGS_OK;
    entry_t *e = sgs_alloc_array(n, sizeof *e);
    if (!e)
        return sgs_error_set(err, SGS_ENOMEM, "sample: out of memory choosing %zu of %zu rows",
                             n_sample, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!eligible || eligible[i])
            e[m++] = (entry_t){sgs_sample_key(seed, stream, id[i]), id[i], i};
    qsort(e, m, sizeof *e, entry_cmp);
    size_t k = n_sample < m ? n_sample : m;
    for (size_t j = 0; j < k; j++)
        chosen[j] = e[j].row;
    qsort(chosen, k, sizeof *chosen, row_cmp);
    sgs_free(e);
    *n_chosen = k;
    if (n_eligible)
        *n_eligible = m;
    return SGS_OK;
}

/* ---- For rows spread over processes ------------------------------------------------------ */

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

size_t sgs_sample_keys_sorted(const int64_t *id, const uint8_t *eligible, size_t n, uint64_t seed,
                              uint64_t stream, uint64_t *keys)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!eligible || eligible[i])
            keys[m++] = sgs_sample_key(seed, stream, id[i]);
    qsort(keys, m, sizeof *keys, compare_u64);
    return m;
}

size_t sgs_sample_rows_up_to(const int64_t *id, const uint8_t *eligible, size_t n, uint64_t seed,
                             uint64_t stream, uint64_t last_key, size_t *chosen)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if ((!eligible || eligible[i]) && sgs_sample_key(seed, stream, id[i]) <= last_key)
            chosen[m++] = i;
    return m;
}
