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
 */
#ifndef SGS_VALUE_CONCENTRATION_H
#define SGS_VALUE_CONCENTRATION_H

#include "kernels/core.h"

/* share[j] = share(fraction[j]) as above, for j < n_fractions; *total (may be NULL) = the sum
 * of the positive finite values, added in bin order. A total of 0 (no positive value, or
 * n == 0) gives share 0 everywhere.
 * @return 0; SGS_EINVAL for a fraction outside [0, 1] or a NULL array; SGS_ENOMEM. */
int sgs_value_top_shares(const double *v, size_t n, const double *fraction, size_t n_fractions,
                         double *share, double *total, sgs_error_t *err);

#endif
