/*
 * kernels/sample.c — rows chosen by the smallest keys of their ids. See sample.h.
 *
 * The n_sample-th smallest key is found without sorting every key: a histogram of the keys'
 * top bits gives the bucket it falls in and how many rows lie below that bucket; only that
 * bucket's rows are sorted. Rows are then kept by comparing with that threshold, so the
 * result is a pure function of the keys, whatever the thread count.
 */
#include "kernels/sample.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define BUCKET_BITS 14
#define N_BUCKETS ((size_t)1 << BUCKET_BITS)

uint64_t sgs_sample_key(uint64_t seed, uint64_t stream, int64_t id)
{
    return sgs_rng_u64(seed, stream, (uint64_t)id);
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

/* Which rows a pass keeps: every eligible row (KEEP_ALL), the eligible rows of one bucket
 * (KEEP_BUCKET), or the eligible rows at or below a threshold (KEEP_UP_TO). */
enum { KEEP_ALL, KEEP_BUCKET, KEEP_UP_TO };

typedef struct filter {
    const int64_t *id;
    const uint8_t *eligible;
    uint64_t seed, stream;
    int mode;
    uint64_t bucket; /* KEEP_BUCKET */
    entry_t limit;   /* KEEP_UP_TO */
} filter_t;

static int keeps(const filter_t *f, size_t i)
{
    if (f->eligible && !f->eligible[i])
        return 0;
    if (f->mode == KEEP_ALL)
        return 1;
    entry_t e = {sgs_sample_key(f->seed, f->stream, f->id[i]), f->id[i], i};
    if (f->mode == KEEP_BUCKET)
        return e.key >> (64 - BUCKET_BITS) == f->bucket;
    return entry_cmp(&e, &f->limit) <= 0;
}

/* The rows f keeps, ascending, into out (room for every kept row; the caller knows how many):
 * counted per block, prefix-summed in block order, then written. @return 0 or SGS_ENOMEM. */
static int keep_rows(const filter_t *f, size_t n, int nt, size_t *out)
{
    size_t n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t *start = sgs_alloc_array(n_blocks + 1, sizeof *start);
    if (!start)
        return SGS_ENOMEM;
    start[0] = 0;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n, c = 0;
        for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++)
            c += (size_t)keeps(f, i);
        start[b + 1] = c;
    }
    for (size_t b = 0; b < n_blocks; b++)
        start[b + 1] += start[b];
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n, k = start[b];
        for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++)
            if (keeps(f, i))
                out[k++] = i;
    }
    sgs_free(start);
    return SGS_OK;
}

/* Eligible rows per bucket of the keys' top bits, summed over threads (integer sums: exact in
 * any order). hist: [N_BUCKETS] written. @return 0 or SGS_ENOMEM. */
static int bucket_histogram(const filter_t *f, size_t n, int nt, size_t *hist)
{
    size_t *per_thread = sgs_calloc_array((size_t)nt * N_BUCKETS, sizeof *per_thread);
    if (!per_thread)
        return SGS_ENOMEM;
    size_t n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
#pragma omp parallel num_threads(nt)
    {
        size_t *h = per_thread + (size_t)omp_get_thread_num() * N_BUCKETS;
#pragma omp for schedule(static)
        for (size_t b = 0; b < n_blocks; b++) {
            size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
            for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++)
                if (!f->eligible || f->eligible[i])
                    h[sgs_sample_key(f->seed, f->stream, f->id[i]) >> (64 - BUCKET_BITS)]++;
        }
    }
    memset(hist, 0, N_BUCKETS * sizeof *hist);
    for (int t = 0; t < nt; t++)
        for (size_t k = 0; k < N_BUCKETS; k++)
            hist[k] += per_thread[(size_t)t * N_BUCKETS + k];
    sgs_free(per_thread);
    return SGS_OK;
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
    filter_t f = {.id = id, .eligible = eligible, .seed = seed, .stream = stream};
    size_t *hist = sgs_alloc_array(N_BUCKETS, sizeof *hist);
    size_t *bucket_rows = NULL;
    entry_t *cand = NULL;
    size_t total = 0, below = 0, bucket = 0, m = 0;
    int rc = hist ? bucket_histogram(&f, n, nt, hist) : SGS_ENOMEM;
    if (rc)
        goto cleanup;
    for (size_t k = 0; k < N_BUCKETS; k++)
        total += hist[k];
    if (n_sample >= total) {
        f.mode = KEEP_ALL;
        rc = keep_rows(&f, n, nt, chosen);
        if (rc == SGS_OK)
            *n_chosen = total;
        goto cleanup;
    }
    if (n_sample == 0)
        goto cleanup;
    while (below + hist[bucket] < n_sample)
        below += hist[bucket++];
    /* the threshold: the (n_sample - below)-th smallest row of that bucket */
    m = hist[bucket];
    bucket_rows = sgs_alloc_array(m, sizeof *bucket_rows);
    cand = sgs_alloc_array(m, sizeof *cand);
    if (!bucket_rows || !cand) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
    f.mode = KEEP_BUCKET;
    f.bucket = bucket;
    rc = keep_rows(&f, n, nt, bucket_rows);
    if (rc)
        goto cleanup;
    for (size_t j = 0; j < m; j++) {
        size_t i = bucket_rows[j];
        cand[j] = (entry_t){sgs_sample_key(seed, stream, id[i]), id[i], i};
    }
    qsort(cand, m, sizeof *cand, entry_cmp);
    f.mode = KEEP_UP_TO;
    f.limit = cand[n_sample - below - 1];
    rc = keep_rows(&f, n, nt, chosen);
    if (rc == SGS_OK)
        *n_chosen = n_sample;
cleanup:
    if (rc == SGS_OK && n_eligible)
        *n_eligible = total;
    sgs_free(hist);
    sgs_free(bucket_rows);
    sgs_free(cand);
    if (rc)
        return sgs_error_set(err, rc, "sample: out of memory choosing %zu of %zu rows", n_sample,
                             n);
    return SGS_OK;
}
