/*
 * kernels/kmeans_dist.c — first-argmin of the k-means distance over a set of centers:
 * the scalar reference and an AVX2 kernel with 4 rows in the lanes of a vector.
 * See kmeans_dist.h for the arithmetic both must perform.
 */
#include "kernels/kmeans_dist.h"

#include <math.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SGS__X86 1
#endif

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

static void distances_ref(const double *x, size_t m, size_t d, const double *c, size_t k,
                          double *out, size_t ld)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < k; j++)
            out[j * ld + i] = sgs__kmeans_sqdist(x + i * d, c + j * d, d);
}

/* ---- AVX2: four rows per vector ----------------------------------------------------------
 * A tile of 4 consecutive rows is transposed into xt[f] = (x[r0][f], .., x[r3][f]); each
 * center's coordinates are broadcast; lane r accumulates exactly the scalar sequence of
 * the reference for row r. The running minimum uses a strict "<" per lane while centers
 * are visited in increasing index, so each lane keeps the first minimum, as the reference.
 */
#ifdef SGS__X86

#define SGS__AVX2 __attribute__((target("avx2")))

SGS__AVX2 static inline __attribute__((always_inline)) void transpose4(const double *x, size_t d,
                                                                       size_t dd, __m256d *xt)
{
    const double *p0 = x, *p1 = x + d, *p2 = x + 2 * d, *p3 = x + 3 * d;
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

/* Rows [0, m4) in tiles of 4, m4 a multiple of 4; dd == d, a compile-time constant in the
 * specialised copies below so that the feature loop is unrolled and xt lives in registers. */
SGS__AVX2 static inline __attribute__((always_inline)) void
tiles_avx2(const double *x, size_t m4, size_t d, size_t dd, const double *c, size_t k,
           int32_t *labels, double *best, double *second, int want_second)
{
    const __m256d inf = _mm256_set1_pd(INFINITY);
    __m256d xt[SGS__KMEANS_SIMD_DMAX];
    for (size_t i = 0; i < m4; i += 4) {
        transpose4(x + i * d, d, dd, xt);
        __m256d bv = inf, sv = inf, bi = _mm256_setzero_pd();
        for (size_t j = 0; j < k; j++) {
            const double *cj = c + j * dd;
            __m256d t = _mm256_sub_pd(xt[0], _mm256_set1_pd(cj[0]));
            __m256d acc = _mm256_mul_pd(t, t);
            for (size_t f = 1; f < dd; f++) {
                t = _mm256_sub_pd(xt[f], _mm256_set1_pd(cj[f]));
                acc = _mm256_add_pd(acc, _mm256_mul_pd(t, t));
            }
            if (want_second)
                sv = _mm256_min_pd(_mm256_max_pd(acc, bv), sv);
            __m256d lt = _mm256_cmp_pd(acc, bv, _CMP_LT_OQ);
            bv = _mm256_blendv_pd(bv, acc, lt);
            bi = _mm256_blendv_pd(bi, _mm256_set1_pd((double)j), lt);
        }
        _mm_storeu_si128((__m128i *)(void *)(labels + i), _mm256_cvttpd_epi32(bi));
        if (best)
            _mm256_storeu_pd(best + i, bv);
        if (want_second)
            _mm256_storeu_pd(second + i, sv);
    }
}

#define SGS__CASE(D)                                                                               \
    case D:                                                                                        \
        if (second)                                                                                \
            tiles_avx2(x, m4, d, D, c, k, labels, best, second, 1);                                \
        else                                                                                       \
            tiles_avx2(x, m4, d, D, c, k, labels, best, NULL, 0);                                  \
        break;

SGS__AVX2 static void argmin_avx2(const double *x, size_t m, size_t d, const double *c, size_t k,
                                  int32_t *labels, double *best, double *second)
{
    size_t m4 = m & ~(size_t)3;
    switch (d) {
        SGS__CASE(1)
        SGS__CASE(2)
        SGS__CASE(3)
        SGS__CASE(4)
        SGS__CASE(5)
        SGS__CASE(6)
        SGS__CASE(7)
        SGS__CASE(8)
        SGS__CASE(9)
        SGS__CASE(10)
        SGS__CASE(11)
        SGS__CASE(12)
        SGS__CASE(13)
        SGS__CASE(14)
        SGS__CASE(15)
        SGS__CASE(16)
    default:
        if (second)
            tiles_avx2(x, m4, d, d, c, k, labels, best, second, 1);
        else
            tiles_avx2(x, m4, d, d, c, k, labels, best, NULL, 0);
        break;
    }
    if (m4 < m)
        sgs__kmeans_argmin_ref(x + m4 * d, m - m4, d, c, k, labels + m4, best ? best + m4 : NULL,
                               second ? second + m4 : NULL);
}
#undef SGS__CASE

SGS__AVX2 static void distances_avx2(const double *x, size_t m, size_t d, const double *c, size_t k,
                                     double *out)
{
    size_t m4 = m & ~(size_t)3;
    __m256d xt[SGS__KMEANS_SIMD_DMAX];
    for (size_t i = 0; i < m4; i += 4) {
        transpose4(x + i * d, d, d, xt);
        for (size_t j = 0; j < k; j++) {
            const double *cj = c + j * d;
            __m256d t = _mm256_sub_pd(xt[0], _mm256_set1_pd(cj[0]));
            __m256d acc = _mm256_mul_pd(t, t);
            for (size_t f = 1; f < d; f++) {
                t = _mm256_sub_pd(xt[f], _mm256_set1_pd(cj[f]));
                acc = _mm256_add_pd(acc, _mm256_mul_pd(t, t));
            }
            _mm256_storeu_pd(out + j * m + i, acc);
        }
    }
    if (m4 < m)
        distances_ref(x + m4 * d, m - m4, d, c, k, out + m4, m);
}

#endif /* SGS__X86 */

/* ---- Dispatch ---------------------------------------------------------------------------- */

int sgs__kmeans_isa_resolve(int isa)
{
#ifdef SGS__X86
    if ((isa == SGS__ISA_AUTO || isa == SGS__ISA_AVX2) && __builtin_cpu_supports("avx2"))
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
    if (isa == SGS__ISA_AVX2 && d <= SGS__KMEANS_SIMD_DMAX) {
        distances_avx2(x, m, d, c, k, out);
        return;
    }
#endif
    distances_ref(x, m, d, c, k, out, m);
}

void sgs__kmeans_argmin(int isa, const double *x, size_t m, size_t d, const double *c, size_t k,
                        int32_t *labels, double *best, double *second)
{
#ifdef SGS__X86
    if (isa == SGS__ISA_AVX2 && d <= SGS__KMEANS_SIMD_DMAX) {
        argmin_avx2(x, m, d, c, k, labels, best, second);
        return;
    }
#else
    (void)isa;
#endif
    sgs__kmeans_argmin_ref(x, m, d, c, k, labels, best, second);
}
