/*
 * kernels/exact_sum.c — the exactly rounded sum of doubles (kernels/exact_sum.h).
 */
#include "kernels/exact_sum.h"

#include <math.h>
#include <string.h>

#define DIGIT_BASE ((int64_t)1 << 32)
#define CARRY_EVERY ((int64_t)1 << 30) /* terms between carries: digits stay below 2^63 */

void sgs_exact_sum_init(sgs_exact_sum_t *s)
{
    memset(s, 0, sizeof *s);
}

/* floor(v / 2^32) for any sign (a right shift of a negative number is implementation-defined) */
static int64_t floor_digit(int64_t v)
{
    return v >= 0 ? v / DIGIT_BASE : -((-(v + 1)) / DIGIT_BASE) - 1;
}

void sgs_exact_sum_carry(sgs_exact_sum_t *s)
{
    for (int i = 0; i < SGS_EXACT_SUM_DIGITS - 1; i++) {
        int64_t c = floor_digit(s->digit[i]);
        s->digit[i] -= c * DIGIT_BASE;
        s->digit[i + 1] += c;
    }
    s->pending = 0;
}

void sgs_exact_sum_add(sgs_exact_sum_t *s, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int negative = (int)(bits >> 63);
    unsigned exponent = (unsigned)(bits >> 52) & 0x7ffu;
    uint64_t m = bits & (((uint64_t)1 << 52) - 1);
    if (exponent == 0x7ffu) {
        if (m)
            s->n_nan++;
        else if (negative)
            s->n_neg_inf++;
        else
            s->n_pos_inf++;
        return;
    }
    /* x = m 2^(p - 1074): subnormals have p = 0, normal numbers their implicit bit */
    unsigned p = 0;
    if (exponent) {
        m |= (uint64_t)1 << 52;
        p = exponent - 1;
    }
    unsigned i = p / 32, shift = p % 32;
    const uint64_t mask = 0xffffffffu;
    int64_t d0 = (int64_t)((m << shift) & mask);
    int64_t d1 = (int64_t)((shift ? m >> (32 - shift) : m >> 32) & mask);
    int64_t d2 = (int64_t)(shift ? m >> (64 - shift) : 0);
    if (negative) {
        d0 = -d0;
        d1 = -d1;
        d2 = -d2;
    }
    s->digit[i] += d0;
    s->digit[i + 1] += d1;
    s->digit[i + 2] += d2;
    if (++s->pending >= CARRY_EVERY)
        sgs_exact_sum_carry(s);
}

void sgs_exact_sum_merge(sgs_exact_sum_t *into, const sgs_exact_sum_t *from)
{
    sgs_exact_sum_t other = *from;
    sgs_exact_sum_carry(&other);
    if (into->pending >= CARRY_EVERY - 2)
        sgs_exact_sum_carry(into);
    for (int i = 0; i < SGS_EXACT_SUM_DIGITS; i++)
        into->digit[i] += other.digit[i];
    into->pending += 2; /* each digit grew by less than two terms' worth */
    into->n_nan += from->n_nan;
    into->n_pos_inf += from->n_pos_inf;
    into->n_neg_inf += from->n_neg_inf;
}

/* Bit `pos` of the non-negative integer sum digit[i] 2^(32 i) (digits carried). */
static unsigned bit_at(const int64_t *digit, unsigned pos)
{
    return (unsigned)((uint64_t)digit[pos / 32] >> (pos % 32)) & 1u;
}

double sgs_exact_sum_value(const sgs_exact_sum_t *s)
{
    if (s->n_nan || (s->n_pos_inf && s->n_neg_inf))
        return (double)NAN;
    if (s->n_pos_inf)
        return HUGE_VAL;
    if (s->n_neg_inf)
        return -HUGE_VAL;
    sgs_exact_sum_t v = *s;
    sgs_exact_sum_carry(&v);
    const int top = SGS_EXACT_SUM_DIGITS - 1;
    double sign = 1.0;
    if (v.digit[top] < 0) { /* work on the magnitude */
        for (int i = 0; i <= top; i++)
            v.digit[i] = -v.digit[i];
        sgs_exact_sum_carry(&v);
        sign = -1.0;
    }
    /* digits 66 and up lie past 2^1038: beyond the largest double */
    for (int i = 66; i <= top; i++)
        if (v.digit[i])
            return sign * HUGE_VAL;
    int h = 65;
    while (h >= 0 && v.digit[h] == 0)
        h--;
    if (h < 0)
        return 0.0;
    unsigned high = 31;
    while (!((uint64_t)v.digit[h] >> high & 1u))
        high--;
    unsigned msb = 32u * (unsigned)h + high;
    if (msb < 64) { /* below 2^64 units of 2^-1074: one rounding, then an exact scaling */
        uint64_t n = (uint64_t)v.digit[0] | (h ? (uint64_t)v.digit[1] << 32 : 0);
        return sign * ldexp((double)n, -1074);
    }
    /* the 64 bits from msb down, the lowest of them set when any bit below is (sticky): the
     * conversion to double then rounds to nearest, ties to even, as the whole integer would */
    unsigned lo = msb - 63;
    uint64_t t = 0;
    for (unsigned k = 64; k-- > 0;)
        t = t << 1 | bit_at(v.digit, lo + k);
    int sticky = 0;
    for (unsigned pos = 0; pos < lo && !sticky; pos++)
        sticky = (int)bit_at(v.digit, pos);
    t |= (uint64_t)sticky;
    return sign * ldexp((double)t, (int)lo - 1074);
}

double sgs_exact_sum_of(const double *x, size_t n)
{
    sgs_exact_sum_t s;
    sgs_exact_sum_init(&s);
    for (size_t i = 0; i < n; i++)
        sgs_exact_sum_add(&s, x[i]);
    return sgs_exact_sum_value(&s);
}
