/*
 * kernels/sparse_values.h — a column of doubles where most entries are missing (NaN), kept
 * as the values present and a bitmap: an event's value (/events/value) is a survey score,
 * and surveys are a small share of events (10% in the generated data), so a dense column
 * would hold mostly NaN, 8 bytes each (300 MB at 38M events). Here the absent entries cost
 * an eighth of a byte and the present ones their 8 bytes plus the same.
 *
 * An entry is present when it is not NaN (infinities are present); a lookup of an absent
 * entry gives NaN, so a reader sees exactly the dense column.
 */
#ifndef SGS_SPARSE_VALUES_H
#define SGS_SPARSE_VALUES_H

#include "kernels/core.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sgs_sparse_values {
    size_t n;          /* entries */
    uint64_t *present; /* [ceil(n / 64)] bit e % 64 of word e / 64: entry e is present */
    uint64_t *before;  /* [ceil(n / 64)] entries present in the words before */
    double *values;    /* the present entries' values, in entry order */
    size_t n_present;
} sgs_sparse_values_t;

/* *out from dense[0..n) (each present when not NaN), parallel by blocks; the same whatever
 * the thread count. @return 0 or SGS_ENOMEM (*out empty). */
int sgs_sparse_values_build(const sgs_exec_t *exec, const double *dense, size_t n,
                            sgs_sparse_values_t *out, sgs_error_t *err);

/* The serial twin of sgs_sparse_values_build into the caller's arrays, which *out then
 * points at (not to be freed with sgs_sparse_values_free): present and before of
 * ceil(n / 64) words, values of up to n entries. For small columns and the tests. */
void sgs_sparse_values_fill(const double *dense, size_t n, uint64_t *present, uint64_t *before,
                            double *values, sgs_sparse_values_t *out);

void sgs_sparse_values_free(sgs_sparse_values_t *s);

/* Entry e < s->n: its value, or NaN when absent. */
static inline double sgs_sparse_value(const sgs_sparse_values_t *s, size_t e)
{
    uint64_t word = s->present[e >> 6], bit = (uint64_t)1 << (e & 63);
    if (!(word & bit))
        return (double)NAN;
    return s->values[s->before[e >> 6] + (uint64_t)__builtin_popcountll(word & (bit - 1))];
}

#endif /* SGS_SPARSE_VALUES_H */
