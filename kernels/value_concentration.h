/*
 * kernels/value_concentration.h — how concentrated a value is over customers: the share of
 * the total held by the top x% of customers (a Lorenz curve read from the top), for the
 * report's CLV concentration chart.
 *
 * For values v[0..n-1] (NaN and values <= 0 hold nothing but count as customers) and a
 * fraction f in [0, 1], m = round(f n) customers with the largest values hold
 *   share(f) = (sum of the m largest values) / (sum of all positive values).
 * Computed in one pass without sorting: positive values are binned by the top 18 bits of
 * their IEEE-754 representation (11 exponent and 7 mantissa bits: bins whose ends differ by
 * a factor 2^(1/128), under 0.55%), which orders them exactly; the m largest are whole bins
 * from the top and a part of one bin, counted at that bin's mean value. The part is therefore
 * off by at most 0.55% of its own sum: share(f) is exact when m falls on a bin boundary (as
 * for f = 1) and otherwise within 0.55% of the boundary bin's contribution.
 * Serial, one pass over v and 4 MB of scratch: about 30 ms per 10 million values. The same
 * values in the same order give the same bits (sums run in index order, then bin order); no
 * thread count is involved.
 *
 * The computation is two parts, for values spread over processes (engine/dist_figures.h): the
 * histogram of the bins (a count and a sum per bin, sgs_value_bins_add), which pieces of v
 * continue one after another in order, and the walk over the bins (sgs_value_bins_shares).
 * sgs_value_top_shares is the second applied to the first over all of v.
 */
#ifndef SGS_VALUE_CONCENTRATION_H
#define SGS_VALUE_CONCENTRATION_H

#include "kernels/core.h"

#include <stdint.h>

/* The bins: bin b holds the positive finite values whose IEEE-754 representation, sign bit
 * (0) aside, begins with the 18 bits of b (11 exponent and 7 mantissa bits), so that a larger
 * bin holds larger values. */
#define SGS_VALUE_BINS ((size_t)1 << 18)

/* share[j] = share(fraction[j]) as above, for j < n_fractions; *total (may be NULL) = the sum
 * of the positive finite values, added in bin order. A total of 0 (no positive value, or
 * n == 0) gives share 0 everywhere. Allocates 4 MB of bins (sgs_value_bins_add, then
 * sgs_value_bins_shares).
 * @return 0; SGS_EINVAL for a fraction outside [0, 1] or a NULL array; SGS_ENOMEM. */
int sgs_value_top_shares(const double *v, size_t n, const double *fraction, size_t n_fractions,
                         double *share, double *total, sgs_error_t *err);

/* The bins of v[0..n-1] added to count and sum (SGS_VALUE_BINS each, the caller's: zeros
 * before the first piece, else what the pieces before left), in index order: for each
 * positive finite v[i] of bin b, count[b] += 1 and sum[b] += v[i]; NaN, infinities, zeros and
 * negative values add nothing. Adding consecutive pieces of v one after another, in order,
 * gives the bits of adding v whole (each bin's sum is a serial sum in index order); the counts
 * are integers, which pieces added apart may also combine by addition. v may be NULL when
 * n == 0. Serial, no allocation; cannot fail. */
void sgs_value_bins_add(const double *v, size_t n, uint64_t *count, double *sum);

/* share[j] = share(fraction[j]) and *total (may be NULL) from the bins of n values
 * (sgs_value_bins_add over all of them; n counts every value, those that hold nothing
 * included, for m = round(f n)): the walk of sgs_value_top_shares. Reads the bins only.
 * @return 0; SGS_EINVAL for a fraction outside [0, 1] or a NULL array. */
int sgs_value_bins_shares(const uint64_t *count, const double *sum, size_t n,
                          const double *fraction, size_t n_fractions, double *share, double *total,
                          sgs_error_t *err);

#endif
