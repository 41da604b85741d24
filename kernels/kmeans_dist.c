/*
 * kernels/kmeans_dist.c — first-argmin of the k-means distance over a set of centers: the
 * scalar reference, the prepared centers of the screened kernels and the dispatch to the
 * vector kernels of each instruction set (kmeans_dist_avx2.c, kmeans_dist_avx512.c).
 * See kmeans_dist_internal.h for the arithmetic all must perform.
 */
#include "kernels/kmeans_dist_internal.h"
#include "kernels/kmeans_simd_internal.h"

#include <math.h>
#include <string.h>

/* ---- Scalar reference ------------------------------------------------------------------ */

void sgs__kmeans_argmin_ref(const double *x, size_t m, size_t d, const double *c, size_t k,
                            int32_t *labels, double *best, double *second)
{
    for (size_t i = 0; i < m; i++) {
        const double *xi = x + i * d;
        double b = INFINITY, s = INFINITY;
        int32_t lab = 0;
        for (size_t j = 0; j < k; j++) {
            double dist = sgs__kmeans_sqdist(xi, c + j * d, d);
            /* second = min(second, max(dist, best)), written as MAXPD/MINPD define them,
             * so that the vector kernel gives the same bits. */
            double mx = dist > b ? dist : b;
            s = mx < s ? mx : s;
            if (dist < b) {
                b = dist;
                lab = (int32_t)j;
            }
        }
        labels[i] = lab;
        if (best)
            best[i] = b;
        if (second)
            second[i] = s;
    }
}

void sgs__kmeans_distances_ref(const double *x, size_t m, size_t d, const double *c, size_t k,
                               double *out, size_t ld)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < k; j++)
            out[j * ld + i] = sgs__kmeans_sqdist(x + i * d, c + j * d, d);
}

static void accumulate_ref(const double *x, size_t m, size_t d, size_t k, size_t g0,
                           const int32_t *lab, const double *w, double *part)
{
    for (size_t i = 0; i < m; i++)
        sgs__kmeans_add_row(part, k, d, g0 + i, x + i * d, lab[i], w ? w + i : NULL);
}

void sgs__kmeans_fold4_add(const double *part, size_t stride, double *out)
{
    const double *p0 = part, *p1 = part + stride, *p2 = part + 2 * stride, *p3 = part + 3 * stride;
    for (size_t e = 0; e < stride; e++)
        out[e] = out[e] + ((p0[e] + p1[e]) + (p2[e] + p3[e]));
}

/* The scalar reference on the last rows, counting changed labels when nchg != NULL. */
void sgs__kmeans_tail_ref(const double *x, size_t m, size_t d, const double *c, size_t k,
                          int32_t *labels, double *best, double *second, size_t *nchg)
{
    int32_t old[16];
    for (size_t i0 = 0; i0 < m; i0 += 16) {
        size_t cnt = m - i0 < 16 ? m - i0 : 16;
        if (nchg)
            memcpy(old, labels + i0, cnt * sizeof *old);
        sgs__kmeans_argmin_ref(x + i0 * d, cnt, d, c, k, labels + i0, best ? best + i0 : NULL,
                               second ? second + i0 : NULL);
        if (nchg)
            for (size_t q = 0; q < cnt; q++)
                *nchg += old[q] != labels[i0 + q];
    }
}

/* ---- Prepared centers ------------------------------------------------------------------------ */

size_t sgs__kmeans_prep_size(size_t k, size_t d)
{
    return d + k * d + k + (k * d + k + 1) / 2;
}

void sgs__kmeans_prep(const double *c, size_t k, size_t d, double *ws, sgs__kmeans_prep_t *p)
{
    p->k = k;
    p->d = d;
    p->c = c;
    p->s = ws;
    p->m = ws + d;
    p->cn = ws + d + k * d;
    for (size_t f = 0; f < d; f++) {
        double t = 0;
        for (size_t j = 0; j < k; j++)
            t += c[j * d + f];
        p->s[f] = t / (double)k;
    }
    double mx = 0;
    for (size_t j = 0; j < k; j++) {
        double n2 = 0;
        for (size_t f = 0; f < d; f++) {
            double t = c[j * d + f] - p->s[f];
            p->m[j * d + f] = -2 * t;
            n2 += t * t;
        }
        p->cn[j] = n2;
        if (n2 > mx)
            mx = n2;
    }
    p->cmax2 = mx * (1 + 1e-12);
    int b = 0;
    while (b < 62 && ((size_t)1 << b) < k)
        b++;
    p->index_bits = b;
    p->kappa = (double)(d + 4) * 0x1p-48 + ldexp(1.0, b - 45);
    p->m32 = (float *)(void *)(ws + d + k * d + k);
    p->cn32 = p->m32 + k * d;
    for (size_t e = 0; e < k * d; e++)
        p->m32[e] = (float)p->m[e];
    for (size_t j = 0; j < k; j++)
        p->cn32[j] = (float)p->cn[j];
    p->kappa32 = (float)((double)(d + 4) * 0x1p-21);
}

/* Whether the labels kernels screen (see sgs__kmeans_labels). */
static inline int use_screen(int isa, size_t d, size_t k)
{
    return d >= 3 && d * k >= (isa == SGS__ISA_AVX512 ? 24u : 48u);
}

size_t sgs__kmeans_labels(int isa, const double *x, size_t m, const sgs__kmeans_prep_t *p,
                          int32_t *labels, size_t *n_changed)
{
#ifdef SGS__X86
    /* Measured on Zen 4: the screen pays off from about 24 (AVX-512) or 48 (AVX2)
     * multiply-adds per row; below that (few centers or features) the direct kernel is as
     * fast or faster. Both give the same labels. */
    int screen = use_screen(isa, p->d, p->k);
    if (screen && isa == SGS__ISA_AVX512 && p->d <= SGS__KMEANS_SIMD_DMAX)
        return sgs__kmeans_labels_avx512(x, m, p, labels, n_changed);
    if (screen && isa == SGS__ISA_AVX2 && p->d <= SGS__KMEANS_SIMD_DMAX &&
        __builtin_cpu_supports("fma"))
        return sgs__kmeans_labels_avx2(x, m, p, labels, n_changed);
#endif
    size_t nchg = 0;
#ifdef SGS__X86
    if (isa == SGS__ISA_AVX512 && p->d <= SGS__KMEANS_SIMD_DMAX)
        sgs__kmeans_argmin_avx512(x, m, p->d, p->c, p->k, labels, NULL, NULL,
                                  n_changed ? &nchg : NULL);
    else if (isa == SGS__ISA_AVX2 && p->d <= SGS__KMEANS_SIMD_DMAX)
        sgs__kmeans_argmin_avx2(x, m, p->d, p->c, p->k, labels, NULL, NULL,
                                n_changed ? &nchg : NULL);
    else
#endif
        sgs__kmeans_tail_ref(x, m, p->d, p->c, p->k, labels, NULL, NULL, n_changed ? &nchg : NULL);
    if (n_changed)
        *n_changed = nchg;
    return 0;
}

/* ---- Lloyd rows --------------------------------------------------------------------------- */

size_t sgs__kmeans_lloyd_rows(int isa, const double *x, size_t m, size_t g0,
                              const sgs__kmeans_prep_t *p, const double *w, uint8_t *lab8,
                              int32_t *lab32, double *part, size_t *n_changed)
{
    size_t d = p->d, k = p->k;
#ifdef SGS__X86
    if (isa == SGS__ISA_AVX512 && !w && use_screen(isa, d, k) && d <= SGS__KMEANS_SIMD_DMAX &&
        sgs__kmeans_lloyd_avx512_fits(d, k))
        return sgs__kmeans_lloyd_avx512(x, m, g0, p, lab8, lab32, part, n_changed);
#endif
    /* Any isa: labels of a chunk into a stack array, then the chunk's rows (still in L1)
     * into the sums. */
    enum { CH = 128 };
    int32_t tmp[CH];
    size_t nfall = 0, nchg = 0;
    for (size_t i0 = 0; i0 < m; i0 += CH) {
        size_t cnt = m - i0 < CH ? m - i0 : CH;
        nfall += sgs__kmeans_labels(isa, x + i0 * d, cnt, p, tmp, NULL);
        for (size_t q = 0; q < cnt; q++) {
            if (lab8) {
                nchg += lab8[i0 + q] != (uint8_t)tmp[q];
                lab8[i0 + q] = (uint8_t)tmp[q];
            } else {
                nchg += lab32[i0 + q] != tmp[q];
                lab32[i0 + q] = tmp[q];
            }
        }
        sgs__kmeans_accumulate(isa, x + i0 * d, cnt, d, k, g0 + i0, tmp, w ? w + i0 : NULL, part);
    }
    *n_changed = nchg;
    return nfall;
}

/* ---- Dispatch ---------------------------------------------------------------------------- */

int sgs__kmeans_isa_resolve(int isa)
{
#ifdef SGS__X86
    if ((isa == SGS__ISA_AUTO || isa == SGS__ISA_AVX512) && __builtin_cpu_supports("avx512f"))
        return SGS__ISA_AVX512;
    if ((isa == SGS__ISA_AUTO || isa == SGS__ISA_AVX2 || isa == SGS__ISA_AVX512) &&
        __builtin_cpu_supports("avx2"))
        return SGS__ISA_AVX2;
#else
    (void)isa;
#endif
    return SGS__ISA_SCALAR;
}

void sgs__kmeans_distances(int isa, const double *x, size_t m, size_t d, const double *c, size_t k,
                           double *out)
{
#ifdef SGS__X86
    if ((isa == SGS__ISA_AVX2 || isa == SGS__ISA_AVX512) && d <= SGS__KMEANS_SIMD_DMAX) {
        sgs__kmeans_distances_avx2(x, m, d, c, k, out);
        return;
    }
#endif
    sgs__kmeans_distances_ref(x, m, d, c, k, out, m);
}

void sgs__kmeans_accumulate(int isa, const double *x, size_t m, size_t d, size_t k, size_t g0,
                            const int32_t *lab, const double *w, double *part)
{
#ifdef SGS__X86
    if (isa == SGS__ISA_AVX2 || isa == SGS__ISA_AVX512) {
        sgs__kmeans_accumulate_avx2(x, m, d, k, g0, lab, w, part);
        return;
    }
#endif
    accumulate_ref(x, m, d, k, g0, lab, w, part);
}

void sgs__kmeans_argmin(int isa, const double *x, size_t m, size_t d, const double *c, size_t k,
                        int32_t *labels, double *best, double *second)
{
#ifdef SGS__X86
    if (isa == SGS__ISA_AVX512 && d <= SGS__KMEANS_SIMD_DMAX) {
        sgs__kmeans_argmin_avx512(x, m, d, c, k, labels, best, second, NULL);
        return;
    }
    if (isa == SGS__ISA_AVX2 && d <= SGS__KMEANS_SIMD_DMAX) {
        sgs__kmeans_argmin_avx2(x, m, d, c, k, labels, best, second, NULL);
        return;
    }
#else
    (void)isa;
#endif
    sgs__kmeans_argmin_ref(x, m, d, c, k, labels, best, second);
}
