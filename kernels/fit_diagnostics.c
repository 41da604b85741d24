/*
 * kernels/fit_diagnostics.c — identification checks of a fit (fit_diagnostics.h).
 */
#include "kernels/fit_diagnostics.h"

#include <math.h>

unsigned sgs_fit_param_flags(const sgs_fit_t *fit, int j)
{
    unsigned flags = 0;
    double p = fit->params[j], se = fit->std_err[j];
    if (!fit->hessian_ok || !isfinite(se))
        flags |= SGS_FIT_SE_MISSING;
    else if (se > p)
        flags |= SGS_FIT_SE_LARGE;
    if (!(fabs(log(p)) < SGS_FIT_LOG_BOUND))
        flags |= SGS_FIT_AT_BOUND;
    return flags;
}

const char *sgs_fit_flag_text(unsigned flags)
{
    if (flags & SGS_FIT_AT_BOUND)
        return "at a bound of the parameter space";
    if (flags & SGS_FIT_SE_MISSING)
        return "standard error not computable";
    if (flags & SGS_FIT_SE_LARGE)
        return "standard error larger than the estimate";
    return "";
}
