/*
 * kernels/kmeans_simd_internal.h — what the distance kernels of k-means share across their files
 * (internal to kernels/kmeans_dist*.c): the vector kernels of each instruction set are in
 * their own file (kmeans_dist_avx2.c, kmeans_dist_avx512.c), the scalar reference and the
 * dispatch in kmeans_dist.c, the labels loop of the screened kernels in
 * kmeans_labels_loop_internal.h. kmeans_dist_internal.h says what arithmetic every one performs.
 */
#ifndef SGS_KMEANS_SIMD_H
#define SGS_KMEANS_SIMD_H

#include "kernels/kmeans_dist_internal.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SGS__X86 1
#endif

/* Copy cnt new labels over the old ones; when count is set, return how many differ. */
static inline size_t sgs__kmeans_store_labels(int32_t *dst, const int32_t *src, size_t cnt,
                                              int count)
{
    size_t ch = 0;
    if (count)
        for (size_t q = 0; q < cnt; q++)
            ch += dst[q] != src[q];
    memcpy(dst, src, cnt * sizeof *dst);
    return ch;
}

/* The scalar reference on rows [0, m), 16 at a time, counting changed labels when nchg is
 * not NULL. */
void sgs__kmeans_tail_ref(const double *x, size_t m, size_t d, const double *c, size_t k,
                          int32_t *labels, double *best, double *second, size_t *nchg);

/* The distances of the reference into out[j * ld + i] (rows i < m, centers j < k). */
void sgs__kmeans_distances_ref(const double *x, size_t m, size_t d, const double *c, size_t k,
                               double *out, size_t ld);

#ifdef SGS__X86

#define SGS__AVX2 __attribute__((target("avx2")))
#define SGS__AVX2FMA __attribute__((target("avx2,fma")))
#define SGS__AVX512 __attribute__((target("avx512f")))

/* Loops over features carry "#pragma GCC unroll": with d a compile-time constant in the
 * specialised copies, full unrolling keeps the transposed rows in registers (-O2 alone
 * leaves them on the stack). */

/* Rows ahead of the current tile that the labels kernels prefetch. */
#define SGS__PREFETCH_ROWS 64

/* Four rows transposed into xt[f] = (x[r0][f], .., x[r3][f]) (AVX2; also under AVX-512). */
SGS__AVX2 static inline __attribute__((always_inline)) void transpose4(const double *x, size_t d,
                                                                       size_t dd, __m256d *xt)
{
    const double *p0 = x, *p1 = x + d, *p2 = x + 2 * d, *p3 = x + 3 * d;
#pragma GCC unroll 16
    for (size_t fc = 0; fc < dd; fc += 4) {
        size_t rem = dd - fc;
        __m256d a0, a1, a2, a3;
        if (rem >= 4) {
            a0 = _mm256_loadu_pd(p0 + fc);
            a1 = _mm256_loadu_pd(p1 + fc);
            a2 = _mm256_loadu_pd(p2 + fc);
            a3 = _mm256_loadu_pd(p3 + fc);
        } else {
            /* Masked loads never touch memory past the row (nor past the array). */
            __m256i mask = _mm256_set_epi64x(0, rem > 2 ? -1 : 0, rem > 1 ? -1 : 0, -1);
            a0 = _mm256_maskload_pd(p0 + fc, mask);
            a1 = _mm256_maskload_pd(p1 + fc, mask);
            a2 = _mm256_maskload_pd(p2 + fc, mask);
            a3 = _mm256_maskload_pd(p3 + fc, mask);
        }
        __m256d t0 = _mm256_unpacklo_pd(a0, a1); /* a0[0] a1[0] a0[2] a1[2] */
        __m256d t1 = _mm256_unpackhi_pd(a0, a1); /* a0[1] a1[1] a0[3] a1[3] */
        __m256d t2 = _mm256_unpacklo_pd(a2, a3);
        __m256d t3 = _mm256_unpackhi_pd(a2, a3);
        xt[fc] = _mm256_permute2f128_pd(t0, t2, 0x20);
        if (rem > 1)
            xt[fc + 1] = _mm256_permute2f128_pd(t1, t3, 0x20);
        if (rem > 2)
            xt[fc + 2] = _mm256_permute2f128_pd(t0, t2, 0x31);
        if (rem > 3)
            xt[fc + 3] = _mm256_permute2f128_pd(t1, t3, 0x31);
    }
}

/* The AVX2 kernels (kmeans_dist_avx2.c), d <= SGS__KMEANS_SIMD_DMAX; as their namesakes of
 * kmeans_dist_internal.h. */
SGS__AVX2 void sgs__kmeans_argmin_avx2(const double *x, size_t m, size_t d, const double *c,
                                       size_t k, int32_t *labels, double *best, double *second,
                                       size_t *nchg);
SGS__AVX2 void sgs__kmeans_distances_avx2(const double *x, size_t m, size_t d, const double *c,
                                          size_t k, double *out);
SGS__AVX2 void sgs__kmeans_accumulate_avx2(const double *x, size_t m, size_t d, size_t k, size_t g0,
                                           const int32_t *lab, const double *w, double *part);
SGS__AVX2FMA size_t sgs__kmeans_labels_avx2(const double *x, size_t m, const sgs__kmeans_prep_t *p,
                                            int32_t *labels, size_t *n_changed);

/* The AVX-512 kernels (kmeans_dist_avx512.c). */
SGS__AVX512 void sgs__kmeans_argmin_avx512(const double *x, size_t m, size_t d, const double *c,
                                           size_t k, int32_t *labels, double *best, double *second,
                                           size_t *nchg);
SGS__AVX512 size_t sgs__kmeans_labels_avx512(const double *x, size_t m, const sgs__kmeans_prep_t *p,
                                             int32_t *labels, size_t *n_changed);
/* Whether the fused Lloyd pass fits its local copy of the sums for d features, k clusters. */
int sgs__kmeans_lloyd_avx512_fits(size_t d, size_t k);
SGS__AVX512 size_t sgs__kmeans_lloyd_avx512(const double *x, size_t m, size_t g0,
                                            const sgs__kmeans_prep_t *p, uint8_t *lab8,
                                            int32_t *lab32, double *part, size_t *n_changed);

#endif /* SGS__X86 */

#endif
