/*
 * kernels/value_concentration.c — share of a value held by the top x% (value_concentration.h).
 */
#include "kernels/value_concentration.h"

#include <math.h>
#include <string.h>

#define KEY_SHIFT 45                               /* 64 - 1 sign - 11 exponent - 7 mantissa */
#define N_BINS ((size_t)1 << (64 - 1 - KEY_SHIFT)) /* 2^18 */

int sgs_value_top_shares(const double *v, size_t n, const double *fraction, size_t n_fractions,
                         double *share, double *total, sgs_error_t *err)
{
    if ((!v && n > 0) || (!fraction && n_fractions > 0) || (!share && n_fractions > 0))
        return sgs_error_set(err, SGS_EINVAL, "value concentration: NULL array");
    for (size_t j = 0; j < n_fractions; j++)
        if (!(fraction[j] >= 0 && fraction[j] <= 1))
            return sgs_error_set(err, SGS_EINVAL,
                                 "value concentration: fraction %g is outside [0, 1]", fraction[j]);
    uint64_t *count = sgs_alloc_array(N_BINS, sizeof *count);
    double *sum = sgs_alloc_array(N_BINS, sizeof *sum);
    if (!count || !sum) {
        sgs_free(count);
        sgs_free(sum);
        return sgs_error_set(err, SGS_ENOMEM, "value concentration: no memory for %zu bins",
                             N_BINS);
    }
    memset(count, 0, N_BINS * sizeof *count);
    memset(sum, 0, N_BINS * sizeof *sum);
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (!(x > 0) || !isfinite(x))
            continue;
        uint64_t bits;
        memcpy(&bits, &x, sizeof bits);
        size_t key = (size_t)(bits >> KEY_SHIFT);
        count[key]++;
        sum[key] += x;
    }
    double all = 0;
    for (size_t b = N_BINS; b-- > 0;) /* the order of the walk below: share(1) is 1 exactly */
        all += sum[b];
    for (size_t j = 0; j < n_fractions; j++) {
        double want = round(fraction[j] * (double)n), held = 0;
        for (size_t b = N_BINS; b-- > 0 && want > 0;) {
            if (count[b] == 0)
                continue;
            double c = (double)count[b];
            if (c <= want) {
                held += sum[b];
                want -= c;
            } else {
                held += sum[b] * (want / c);
                want = 0;
            }
        }
        share[j] = all > 0 ? held / all : 0;
    }
    if (total)
        *total = all;
    sgs_free(count);
    sgs_free(sum);
    return SGS_OK;
}
