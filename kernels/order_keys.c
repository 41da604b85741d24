/*
 * kernels/order_keys.c — doubles as ordered 64-bit keys (kernels/order_keys.h).
 */
#include "kernels/order_keys.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t sgs_order_key(double v)
{
    v += 0.0; /* -0 + 0 is +0: one key for both zeros */
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : (u | (UINT64_C(1) << 63));
}

double sgs_order_key_value(uint64_t k)
{
    uint64_t u = (k >> 63) ? (k & ~(UINT64_C(1) << 63)) : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int compare_keys(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void sgs_order_keys_sort(uint64_t *keys, size_t n)
{
    qsort(keys, n, sizeof *keys, compare_keys);
}

size_t sgs_order_keys_sorted(const double *v, const uint8_t *keep, size_t n, uint64_t *keys)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if ((!keep || keep[i]) && isfinite(v[i]))
            keys[m++] = sgs_order_key(v[i]);
    sgs_order_keys_sort(keys, m);
    return m;
}
