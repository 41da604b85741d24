/*
 * kernels/radix_select.h — order statistics of doubles by a radix select on their bits: a
 * histogram of a few leading bits (those where the smallest and the largest value differ),
 * then only the buckets that hold the wanted ranks are kept and the same is done on them,
 * down to a small rest that kernels/order_stats.h's selection finishes. Several ranks of one
 * array (a median's two middle values, a low and a high quantile) share the passes.
 *
 * Each pass reads the values it keeps once and compares nothing but integer keys, where a
 * comparison selection (kernels/order_stats.h) moves about twice as many values and
 * compares each more than once; values equal to the wanted one end the work as soon as a
 * bucket holds only them.
 *
 * The key (kernels/order_keys.h sgs_order_bits_key): a double's 64 bits with the sign bit
 * flipped for positive values and all bits flipped for negative ones orders finite doubles as
 * `<` does, except that -0.0 is below +0.0. Without both zeros in the array (order_stats.h
 * sgs_has_both_zeros) the value a selection returns for a rank is therefore the same bits,
 * whichever correct selection finds it; with both zeros it may not be, and callers that must keep
 * sgs_select_kth's bits use that instead.
 */
#ifndef SGS_RADIX_SELECT_H
#define SGS_RADIX_SELECT_H

#include "kernels/core.h"

/* The most ranks one call selects. */
#define SGS_RADIX_SELECT_MAX_RANKS 4

/* The smallest and largest of x[0..n-1] (n >= 1, no NaN) into *min and *max, in one pass.
 * @return whether x holds both a -0.0 and a +0.0 (as sgs_has_both_zeros). */
int sgs_radix_value_range(const double *x, size_t n, double *min, double *max);

/* The order statistics of 0-based ranks rank[0..n_ranks-1] of x[0..n-1] into
 * out[0..n_ranks-1]: out[r] is the value that sorting x would put at index rank[r].
 *   x: [n] scratch, overwritten (afterwards neither the same values nor a partition);
 *   min, max: the smallest and largest value of x (sgs_radix_value_range);
 *   rank: non-decreasing, each < n; 1 <= n_ranks <= SGS_RADIX_SELECT_MAX_RANKS.
 * Preconditions: n >= 1, every value finite, not both -0.0 and +0.0 in x (then each result
 * is the bits of every correct selection's). Serial; allocates nothing (about 40 KB of
 * stack). Deterministic: the result depends on the multiset of values only. */
void sgs_radix_select(double *x, size_t n, double min, double max, const size_t *rank,
                      size_t n_ranks, double *out);

/* The median of x[0..n-1] by sgs_radix_select: the middle order statistic for odd n, 0.5 *
 * (lower + upper middle) for even n, the bits of sgs_median_inplace's; NaN for n == 0. x is
 * overwritten. Same preconditions (min, max as there; unused when n == 0); x is overwritten. */
double sgs_radix_median(double *x, size_t n, double min, double max);

#endif /* SGS_RADIX_SELECT_H */
