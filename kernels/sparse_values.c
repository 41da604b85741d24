/*
 * kernels/sparse_values.c — see sparse_values.h.
 */
#include "kernels/sparse_values.h"

#include <string.h>

/* Blocks of SGS_BLOCK_ROWS entries: whole bitmap words (16,384 = 256 x 64). */
enum { WORDS_PER_BLOCK = (int)(SGS_BLOCK_ROWS / 64) };

int sgs_sparse_values_build(const sgs_exec_t *exec, const double *dense, size_t n,
                            sgs_sparse_values_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    const size_t n_words = (n + 63) / 64, n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
    out->present = sgs_alloc_array(n_words ? n_words : 1, sizeof *out->present);
    out->before = sgs_alloc_array(n_words ? n_words : 1, sizeof *out->before);
    size_t *block_start = sgs_calloc_array(n_blocks + 1, sizeof *block_start);
    if (!out->present || !out->before || !block_start) {
        sgs_free(block_start);
        sgs_sparse_values_free(out);
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the bitmap of %zu values", n);
    }
    const int n_threads = sgs_exec_threads_for(exec, n);
    const long nb = (long)n_blocks;
    /* the bitmap and each word's count within its block */
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (long b = 0; b < nb; b++) {
        size_t w0 = (size_t)b * WORDS_PER_BLOCK, w1 = w0 + WORDS_PER_BLOCK;
        w1 = w1 < n_words ? w1 : n_words;
        size_t count = 0;
        for (size_t w = w0; w < w1; w++) {
            size_t lo = w * 64, hi = lo + 64 < n ? lo + 64 : n;
            uint64_t bits = 0;
            for (size_t e = lo; e < hi; e++)
                bits |= (uint64_t)!isnan(dense[e]) << (e - lo);
            out->present[w] = bits;
            out->before[w] = count;
            count += (size_t)__builtin_popcountll(bits);
        }
        block_start[b + 1] = count;
    }
    for (size_t b = 0; b < n_blocks; b++)
        block_start[b + 1] += block_start[b];
    out->n = n;
    out->n_present = block_start[n_blocks];
    out->values = sgs_alloc_array(out->n_present ? out->n_present : 1, sizeof *out->values);
    if (!out->values) {
        sgs_free(block_start);
        sgs_sparse_values_free(out);
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu values", out->n_present);
    }
    /* each word's count made global, and the present values copied in order */
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (long b = 0; b < nb; b++) {
        size_t w0 = (size_t)b * WORDS_PER_BLOCK, w1 = w0 + WORDS_PER_BLOCK;
        w1 = w1 < n_words ? w1 : n_words;
        size_t to = block_start[b];
        for (size_t w = w0; w < w1; w++) {
            out->before[w] += block_start[b];
            size_t lo = w * 64, hi = lo + 64 < n ? lo + 64 : n;
            for (size_t e = lo; e < hi; e++)
                if (!isnan(dense[e]))
                    out->values[to++] = dense[e];
        }
    }
    sgs_free(block_start);
    return SGS_OK;
}

void sgs_sparse_values_fill(const double *dense, size_t n, uint64_t *present, uint64_t *before,
                            double *values, sgs_sparse_values_t *out)
{
    *out = (sgs_sparse_values_t){n, present, before, values, 0};
    for (size_t e = 0; e < n; e++) {
        if (e % 64 == 0) {
            present[e / 64] = 0;
            before[e / 64] = out->n_present;
        }
        if (!isnan(dense[e])) {
            present[e / 64] |= (uint64_t)1 << (e % 64);
            values[out->n_present++] = dense[e];
        }
    }
}

void sgs_sparse_values_free(sgs_sparse_values_t *s)
{
    if (!s)
        return;
    sgs_free(s->present);
    sgs_free(s->before);
    sgs_free(s->values);
    memset(s, 0, sizeof *s);
}
