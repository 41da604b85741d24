/*
 * kernels/order_keys.c — doubles as ordered 64-bit keys (kernels/order_keys.h).
 */
#include "kernels/order_keys.h"

#include "kernels/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t sgs_order_key(double v)
{
    return sgs_order_bits_key(v + 0.0); /* -0 + 0 is +0: one key for both zeros */
}

double sgs_order_key_value(uint64_t k)
{
    return sgs_order_bits_value(k);
}

static int compare_keys(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Below this many keys a comparison sort is as quick as the radix sort's passes. */
#define RADIX_MIN_KEYS 2048
#define DIGIT_BITS 16
#define DIGITS ((size_t)1 << DIGIT_BITS)

/* One stable counting pass over the digit at bit `shift`, from `from` into `to`; 0 when every
 * key has the same digit there (nothing moved). */
static int radix_pass(const uint64_t *from, uint64_t *to, size_t n, unsigned shift, size_t *count)
{
    memset(count, 0, DIGITS * sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[(from[i] >> shift) & (DIGITS - 1)]++;
    if (count[(from[0] >> shift) & (DIGITS - 1)] == n)
        return 0;
    size_t at = 0;
    for (size_t d = 0; d < DIGITS; d++) {
        size_t c = count[d];
        count[d] = at;
        at += c;
    }
    for (size_t i = 0; i < n; i++)
        to[count[(from[i] >> shift) & (DIGITS - 1)]++] = from[i];
    return 1;
}

/* Ascending by value: equal keys are equal bits, so any correct sort gives these bytes. An
 * LSD radix sort of four 16-bit digits (the spread runs' selections sort millions of keys per
 * column: qsort's comparisons were most of their time); qsort for few keys, or when there is
 * no memory for the scratch copy. */
void sgs_order_keys_sort(uint64_t *keys, size_t n)
{
    uint64_t *scratch = n >= RADIX_MIN_KEYS ? sgs_alloc_array(n, sizeof *scratch) : NULL;
    size_t *count = scratch ? sgs_alloc_array(DIGITS, sizeof *count) : NULL;
    if (!count) {
        sgs_free(scratch);
        qsort(keys, n, sizeof *keys, compare_keys);
        return;
    }
    uint64_t *from = keys, *to = scratch;
    for (unsigned shift = 0; shift < 64; shift += DIGIT_BITS)
        if (radix_pass(from, to, n, shift, count)) {
            uint64_t *t = from;
            from = to;
            to = t;
        }
    if (from != keys)
        memcpy(keys, from, n * sizeof *keys);
    sgs_free(count);
    sgs_free(scratch);
}

size_t sgs_order_keys_sorted(const double *v, const uint8_t *keep, size_t n, uint64_t *keys)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if ((!keep || keep[i]) && isfinite(v[i]))
            keys[m++] = sgs_order_key(v[i]);
    sgs_order_keys_sort(keys, m);
    return m;
}
