/*
 * kernels/exact_sum.h — sums of doubles that do not depend on the order of their terms.
 *
 * A floating-point sum rounds after every term, so its last bits depend on the order of the
 * terms: the same customers summed on 1, 2 or 64 processes, or in another order, give
 * different totals. This accumulator keeps every term exactly, as one wide fixed-point
 * integer (every double is an integer multiple of 2^-1074 below 2^1024), and rounds once, to
 * the nearest double (ties to even), when asked for the value: the result is the exactly
 * rounded sum, the same whatever the order, the grouping or the number of partial sums
 * merged. Python's math.fsum gives the same number.
 *
 * The integer is held in SGS_EXACT_SUM_DIGITS signed 64-bit digits of 32 bits each, so that
 * additions need no carry until about 2^30 terms have gone into one accumulator (it carries
 * by itself then); two accumulators merge by adding digits, which is how partial sums of
 * threads or processes combine (after sgs_exact_sum_carry, a plain integer sum of the digits).
 * A NaN term, or infinities of both signs, make the value NaN; infinities of one sign that
 * value. Cost: a few nanoseconds a term, for totals, not inner loops.
 */
#ifndef SGS_EXACT_SUM_H
#define SGS_EXACT_SUM_H

#include <stddef.h>
#include <stdint.h>

/* 2,098 bits from 2^-1074 to 2^1024, in 32-bit digits, and room for the carries of 2^30
 * terms at the top. */
#define SGS_EXACT_SUM_DIGITS 70

typedef struct sgs_exact_sum {
    int64_t digit[SGS_EXACT_SUM_DIGITS]; /* value = sum digit[i] 2^(32 i - 1074) */
    int64_t pending;                     /* terms added since the digits were last carried */
    int64_t n_nan, n_pos_inf, n_neg_inf; /* terms that are not finite */
} sgs_exact_sum_t;

/* An empty sum (0). */
void sgs_exact_sum_init(sgs_exact_sum_t *s);

/* Add one term. */
void sgs_exact_sum_add(sgs_exact_sum_t *s, double x);

/* Add every term of `from` to `into`. */
void sgs_exact_sum_merge(sgs_exact_sum_t *into, const sgs_exact_sum_t *from);

/* Carry the digits so that each is in [0, 2^32) but the top one, which holds the sign: the
 * form to send elsewhere (adding N such digit arrays stays exact for N < 2^30). */
void sgs_exact_sum_carry(sgs_exact_sum_t *s);

/* The sum rounded once to the nearest double (ties to even); +-infinity past DBL_MAX. */
double sgs_exact_sum_value(const sgs_exact_sum_t *s);

/* The sum of n doubles, exactly rounded. */
double sgs_exact_sum_of(const double *x, size_t n);

#endif /* SGS_EXACT_SUM_H */
