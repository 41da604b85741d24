/*
 * kernels/special_internal.h — a test seam of kernels/special.c. Internal (sgs__ prefix): not
 * installed, not part of the library's contract (docs/building.md "The library and its
 * public headers"); the public contract is kernels/special.h.
 */
#ifndef SGS_SPECIAL_INTERNAL_H
#define SGS_SPECIAL_INTERNAL_H

#include "kernels/special.h"

/* One branch of sgs_bg_mean_purchases (1 Euler series, 2 opportunity sum, 3 quadrature),
 * for tests that check each against the reference: 0 and *out, or -1 when that branch
 * declines (its accuracy bound or term limit not met). Arguments as sgs_bg_mean_purchases
 * (kernels/special.h), not checked. */
int sgs__bg_mean_branch(int branch, double R, double a, double B, double u, double *out);

#endif /* SGS_SPECIAL_INTERNAL_H */
