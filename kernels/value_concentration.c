/*
 * kernels/value_concentration.c — share of a value held by the top x% (value_concentration.h).
 */
#include "kernels/value_concentration.h"

#include <math.h>
#include <string.h>

#define KEY_SHIFT 45 /* 64 - 1 sign - 11 exponent - 7 mantissa */
_Static_assert(SGS_VALUE_BINS == (size_t)1 << (64 - 1 - KEY_SHIFT), "a bin per 18-bit key");

/* The arrays present and every fraction in [0, 1]. */
static int check_fractions(const double *fraction, size_t n_fractions, const double *share,
                           sgs_error_t *err)
{
    if ((!fraction && n_fractions > 0) || (!share && n_fractions > 0))
        return sgs_error_set(err, SGS_EINVAL, "value concentration: NULL array");
    for (size_t j = 0; j < n_fractions; j++)
        if (!(fraction[j] >= 0 && fraction[j] <= 1))
            return sgs_error_set(err, SGS_EINVAL,
                                 "value concentration: fraction %g is outside [0, 1]", fraction[j]);
    return SGS_OK;
}

void sgs_value_bins_add(const double *v, size_t n, uint64_t *count, double *sum)
{
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
}

int sgs_value_bins_shares(const uint64_t *count, const double *sum, size_t n,
                          const double *fraction, size_t n_fractions, double *share, double *total,
                          sgs_error_t *err)
{
    if (!count || !sum)
        return sgs_error_set(err, SGS_EINVAL, "value concentration: NULL array");
    int rc = check_fractions(fraction, n_fractions, share, err);
    if (rc != SGS_OK)
        return rc;
    double all = 0;
    for (size_t b = SGS_VALUE_BINS; b-- > 0;) /* the order of the walk below: share(1) is 1 */
        all += sum[b];
    for (size_t j = 0; j < n_fractions; j++) {
        double want = round(fraction[j] * (double)n), held = 0;
        for (size_t b = SGS_VALUE_BINS; b-- > 0 && want > 0;) {
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
    return SGS_OK;
}

int sgs_value_top_shares(const double *v, size_t n, const double *fraction, size_t n_fractions,
                         double *share, double *total, sgs_error_t *err)
{
    if (!v && n > 0)
        return sgs_error_set(err, SGS_EINVAL, "value concentration: NULL array");
    int rc = check_fractions(fraction, n_fractions, share, err);
    if (rc != SGS_OK)
        return rc;
    uint64_t *count = sgs_calloc_array(SGS_VALUE_BINS, sizeof *count);
    double *sum = sgs_calloc_array(SGS_VALUE_BINS, sizeof *sum);
    if (!count || !sum) {
        sgs_free(count);
        sgs_free(sum);
        return sgs_error_set(err, SGS_ENOMEM, "value concentration: no memory for %zu bins",
                             SGS_VALUE_BINS);
    }
    sgs_value_bins_add(v, n, count, sum);
    rc = sgs_value_bins_shares(count, sum, n, fraction, n_fractions, share, total, err);
    sgs_free(count);
    sgs_free(sum);
    return rc;
}
