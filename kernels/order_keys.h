/*
 * kernels/order_keys.h — doubles as unsigned 64-bit keys in the same order, for order
 * statistics over values spread over processes (engine/dist_select.h selects keys, not
 * doubles): the key of a value and the value of a key.
 *
 * The key is the IEEE-754 bit pattern with the sign bit flipped for positives and every bit
 * flipped for negatives, after adding +0 (which turns -0 into +0, so both zeros have one
 * key): for finite values and infinities, a < b exactly when key(a) < key(b), a == b exactly
 * when the keys are equal. A NaN's key lies beyond the infinities (on the side of its sign
 * bit) and means nothing: callers count NaN apart or leave it out.
 */
#ifndef SGS_ORDER_KEYS_H
#define SGS_ORDER_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The key of v's own bits: the transform above without the +0, so that -0 keys just below +0
 * and sgs_order_bits_value gives every value's bits back (a selection that must return the
 * data's own zero: kernels/radix_select.c). Inline for passes over every value. */
static inline uint64_t sgs_order_bits_key(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : (u | (UINT64_C(1) << 63));
}

/* The value whose bits' key is k (sgs_order_bits_key's inverse). */
static inline double sgs_order_bits_value(uint64_t k)
{
    uint64_t u = (k >> 63) ? (k & ~(UINT64_C(1) << 63)) : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* The key of v. Pure. */
uint64_t sgs_order_key(double v);

/* The value whose key is k (+0 for the key of either zero). Pure. */
double sgs_order_key_value(uint64_t k);

/* keys[0..n) in ascending order. Serial (a radix sort; it takes a scratch copy of the keys, and
 * sorts by comparisons without one). */
void sgs_order_keys_sort(uint64_t *keys, size_t n);

/* The keys of the finite values v[i] with keep[i] != 0 (keep NULL: every row), ascending,
 * into keys (room for n); returns their count. Serial (a sort). */
size_t sgs_order_keys_sorted(const double *v, const uint8_t *keep, size_t n, uint64_t *keys);

#endif /* SGS_ORDER_KEYS_H */
