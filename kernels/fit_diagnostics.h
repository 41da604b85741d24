/*
 * kernels/fit_diagnostics.h — does a maximum likelihood fit identify its parameters?
 *
 * A fit can converge (zero gradient) and still tell nothing about a parameter: the
 * likelihood is flat along it, so its standard error is huge, not computable, or the
 * estimate ran to the edge of the parameter space. Such a parameter's value is an accident
 * of the starting point and the tolerance, and what depends on it (P(alive) depends on the
 * dropout parameters) is not informative. Three signs are checked per parameter:
 *
 *   SGS_FIT_SE_MISSING   the standard error is not finite (the observed information was not
 *                        positive definite: the likelihood is flat or not curved there);
 *   SGS_FIT_SE_LARGE     SE(p) > p: the approximate 95% interval p ± 1.96 SE reaches far
 *                        below 0, so the data do not bound the parameter away from 0 or from
 *                        many times its value (on the log scale the fit works in,
 *                        SE(ln p) = SE(p)/p > 1, a factor e either way at one SE);
 *   SGS_FIT_AT_BOUND     |ln p| >= SGS_FIT_LOG_BOUND: the estimate went to 0 or to infinity
 *                        (the optimizer, optimizer.h, treats |ln p| > 40 as infeasible).
 */
#ifndef SGS_FIT_DIAGNOSTICS_H
#define SGS_FIT_DIAGNOSTICS_H

#include "kernels/optimizer.h"

enum {
    SGS_FIT_SE_MISSING = 1,
    SGS_FIT_SE_LARGE = 2,
    SGS_FIT_AT_BOUND = 4,
};

/* |ln p| at or beyond which a parameter is taken to be at a bound: p <= 1e-10 or p >= 1e10. */
#define SGS_FIT_LOG_BOUND 23.0

/* Flags (the enum above, OR-ed) for parameter j of a fit; 0 when it is identified.
 * Pure; any j in 0..fit->n_params-1. */
unsigned sgs_fit_param_flags(const sgs_fit_t *fit, int j);

/* "standard error not computable", "standard error larger than the estimate", "at a bound
 * of the parameter space": the first sign present in flags, for messages; "" for 0. */
const char *sgs_fit_flag_text(unsigned flags);

#endif /* SGS_FIT_DIAGNOSTICS_H */
