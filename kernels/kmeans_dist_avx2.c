/*
 * kernels/kmeans_dist_avx2.c — the AVX2 distance kernels of k-means: four rows per vector,
 * and the screened labels with AVX2 + FMA (kmeans_dist_internal.h says what arithmetic they
 * perform, kmeans_dist.c when they are used).
 */
#include "kernels/kmeans_simd_internal.h"

#include <math.h>

/* ---- AVX2: four rows per vector ----------------------------------------------------------
 * A tile of 4 consecutive rows is transposed into xt[f] = (x[r0][f], .., x[r3][f]); each
 * center's coordinates are broadcast; lane r accumulates exactly the scalar sequence of
 * the reference for row r. The running minimum uses a strict "<" per lane while centers
 * are visited in increasing index, so each lane keeps the first minimum, as the reference.
 */
#ifdef SGS__X86

/* One tile of 4 rows: the distance of center j for the 4 lanes. */
#define SGS__DIST4(acc, xt, cj, dd)                                                                \
    do {                                                                                           \
        __m256d t_ = _mm256_sub_pd((xt)[0], _mm256_set1_pd((cj)[0]));                              \
        acc = _mm256_mul_pd(t_, t_);                                                               \
        for (size_t f_ = 1; f_ < (dd); f_++) {                                                     \
            t_ = _mm256_sub_pd((xt)[f_], _mm256_set1_pd((cj)[f_]));                                \
            acc = _mm256_add_pd(acc, _mm256_mul_pd(t_, t_));                                       \
        }                                                                                          \
    } while (0)

/* Rows [0, m4) in tiles of 4, m4 a multiple of 4; dd == d, a compile-time constant in the
 * specialised copies below so that the feature loop is unrolled and xt lives in registers.
 * Two tiles (8 rows) go through the centers together: the running minimum is a chain of
 * dependent compare/blend per center, and two independent chains keep the core busy. */
/* Store 4 new labels; when count is set, return how many differ from the old ones. */
SGS__AVX2 static inline __attribute__((always_inline)) size_t store4(int32_t *dst, __m128i nw,
                                                                     int count)
{
    size_t ch = 0;
    if (count) {
        __m128i old = _mm_loadu_si128((const __m128i *)(const void *)dst);
        int eq = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(old, nw)));
        ch = 4 - (size_t)__builtin_popcount((unsigned)eq);
    }
    _mm_storeu_si128((__m128i *)(void *)dst, nw);
    return ch;
}

SGS__AVX2 static inline __attribute__((always_inline)) void
tiles_avx2(const double *x, size_t m4, size_t d, size_t dd, const double *c, size_t k,
           int32_t *labels, double *best, double *second, int want_second, size_t *nchg)
{
    size_t ch = 0;
    int count = nchg != NULL;
    const __m256d inf = _mm256_set1_pd(INFINITY);
    __m256d xa[SGS__KMEANS_SIMD_DMAX], xb[SGS__KMEANS_SIMD_DMAX];
    size_t i = 0;
    for (; i + 8 <= m4; i += 8) {
        for (size_t q = 0; q < 8 * dd; q += 8)
            _mm_prefetch((const char *)(x + (i + SGS__PREFETCH_ROWS) * d + q), _MM_HINT_T0);
        transpose4(x + i * d, d, dd, xa);
        transpose4(x + (i + 4) * d, d, dd, xb);
        __m256d bva = inf, sva = inf, bia = _mm256_setzero_pd();
        __m256d bvb = inf, svb = inf, bib = _mm256_setzero_pd();
        for (size_t j = 0; j < k; j++) {
            const double *cj = c + j * dd;
            __m256d acca, accb;
            __m256d t = _mm256_sub_pd(xa[0], _mm256_set1_pd(cj[0]));
            __m256d u = _mm256_sub_pd(xb[0], _mm256_set1_pd(cj[0]));
            acca = _mm256_mul_pd(t, t);
            accb = _mm256_mul_pd(u, u);
#pragma GCC unroll 16
            for (size_t f = 1; f < dd; f++) {
                __m256d cf = _mm256_set1_pd(cj[f]);
                t = _mm256_sub_pd(xa[f], cf);
                u = _mm256_sub_pd(xb[f], cf);
                acca = _mm256_add_pd(acca, _mm256_mul_pd(t, t));
                accb = _mm256_add_pd(accb, _mm256_mul_pd(u, u));
            }
            __m256d jv = _mm256_set1_pd((double)j);
            if (want_second) {
                sva = _mm256_min_pd(_mm256_max_pd(acca, bva), sva);
                svb = _mm256_min_pd(_mm256_max_pd(accb, bvb), svb);
            }
            __m256d lta = _mm256_cmp_pd(acca, bva, _CMP_LT_OQ);
            __m256d ltb = _mm256_cmp_pd(accb, bvb, _CMP_LT_OQ);
            bva = _mm256_blendv_pd(bva, acca, lta);
            bvb = _mm256_blendv_pd(bvb, accb, ltb);
            bia = _mm256_blendv_pd(bia, jv, lta);
            bib = _mm256_blendv_pd(bib, jv, ltb);
        }
        ch += store4(labels + i, _mm256_cvttpd_epi32(bia), count);
        ch += store4(labels + i + 4, _mm256_cvttpd_epi32(bib), count);
        if (best) {
            _mm256_storeu_pd(best + i, bva);
            _mm256_storeu_pd(best + i + 4, bvb);
        }
        if (want_second) {
            _mm256_storeu_pd(second + i, sva);
            _mm256_storeu_pd(second + i + 4, svb);
        }
    }
    for (; i < m4; i += 4) {
        transpose4(x + i * d, d, dd, xa);
        __m256d bv = inf, sv = inf, bi = _mm256_setzero_pd();
        for (size_t j = 0; j < k; j++) {
            __m256d acc;
            SGS__DIST4(acc, xa, c + j * dd, dd);
            if (want_second)
                sv = _mm256_min_pd(_mm256_max_pd(acc, bv), sv);
            __m256d lt = _mm256_cmp_pd(acc, bv, _CMP_LT_OQ);
            bv = _mm256_blendv_pd(bv, acc, lt);
            bi = _mm256_blendv_pd(bi, _mm256_set1_pd((double)j), lt);
        }
        ch += store4(labels + i, _mm256_cvttpd_epi32(bi), count);
        if (best)
            _mm256_storeu_pd(best + i, bv);
        if (want_second)
            _mm256_storeu_pd(second + i, sv);
    }
    if (nchg)
        *nchg += ch;
}

/* Both outputs or only the nearest: want_second a constant, for the inlined loop. */
#define SGS__TILES(D)                                                                              \
    do {                                                                                           \
        if (second)                                                                                \
            tiles_avx2(x, m4, d, D, c, k, labels, best, second, 1, nchg);                          \
        else                                                                                       \
            tiles_avx2(x, m4, d, D, c, k, labels, best, NULL, 0, nchg);                            \
    } while (0)

/* nchg: when not NULL, labels holds the old labels and the number changed is added. */
SGS__AVX2 void sgs__kmeans_argmin_avx2(const double *x, size_t m, size_t d, const double *c,
                                       size_t k, int32_t *labels, double *best, double *second,
                                       size_t *nchg)
{
    size_t m4 = m & ~(size_t)3;
    SGS__WITH_CONSTANT_DIM(d, SGS__TILES)
    if (m4 < m)
        sgs__kmeans_tail_ref(x + m4 * d, m - m4, d, c, k, labels + m4, best ? best + m4 : NULL,
                             second ? second + m4 : NULL, nchg);
}
#undef SGS__TILES

SGS__AVX2 void sgs__kmeans_distances_avx2(const double *x, size_t m, size_t d, const double *c,
                                          size_t k, double *out)
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
        sgs__kmeans_distances_ref(x + m4 * d, m - m4, d, c, k, out + m4, m);
}

/* Row sums with 4-wide vector adds (elementwise, so the same bits as the reference);
 * dd == d, a constant in the specialised copies. */
SGS__AVX2 static inline __attribute__((always_inline)) void
accumulate_avx2_d(const double *x, size_t m, size_t dd, size_t k, size_t g0, const int32_t *lab,
                  const double *w, double *part)
{
    size_t d4 = dd & ~(size_t)3, stride = k * (dd + 1);
    for (size_t i = 0; i < m; i++) {
        double *base = part + ((g0 + i) & 3) * stride;
        double *s = base + (size_t)lab[i] * dd, *ws = base + k * dd + lab[i];
        const double *xi = x + i * dd;
        if (w) {
            __m256d wv = _mm256_set1_pd(w[i]);
#pragma GCC unroll 16
            for (size_t f = 0; f < d4; f += 4)
                _mm256_storeu_pd(s + f, _mm256_add_pd(_mm256_loadu_pd(s + f),
                                                      _mm256_mul_pd(_mm256_loadu_pd(xi + f), wv)));
            for (size_t f = d4; f < dd; f++)
                s[f] = s[f] + xi[f] * w[i];
            *ws = *ws + w[i];
        } else {
#pragma GCC unroll 16
            for (size_t f = 0; f < d4; f += 4)
                _mm256_storeu_pd(s + f,
                                 _mm256_add_pd(_mm256_loadu_pd(s + f), _mm256_loadu_pd(xi + f)));
            for (size_t f = d4; f < dd; f++)
                s[f] = s[f] + xi[f];
            *ws = *ws + 1.0;
        }
    }
}

#define SGS__ACASE(D)                                                                              \
    case D:                                                                                        \
        accumulate_avx2_d(x, m, D, k, g0, lab, w, part);                                           \
        break;

SGS__AVX2 void sgs__kmeans_accumulate_avx2(const double *x, size_t m, size_t d, size_t k, size_t g0,
                                           const int32_t *lab, const double *w, double *part)
{
    switch (d) {
        SGS__ACASE(1)
        SGS__ACASE(2)
        SGS__ACASE(3)
        SGS__ACASE(4)
        SGS__ACASE(5)
        SGS__ACASE(6)
        SGS__ACASE(7)
        SGS__ACASE(8)
        SGS__ACASE(12)
        SGS__ACASE(16)
    default:
        accumulate_avx2_d(x, m, d, k, g0, lab, w, part);
        break;
    }
}
#undef SGS__ACASE

/* ---- Screened labels, AVX2 + FMA -----------------------------------------------------------
 * See kmeans_dist_internal.h for the certificate. Lanes whose margin test fails get bit 1 in the
 * returned mask and are recomputed by the caller. */

SGS__AVX2FMA static inline __attribute__((always_inline)) unsigned
screen4_pair(const double *x, size_t d, size_t dd, const sgs__kmeans_prep_t *p, int32_t *labels,
             int two)
{
    __m256d xa[SGS__KMEANS_SIMD_DMAX], xb[SGS__KMEANS_SIMD_DMAX];
    transpose4(x, d, dd, xa);
    if (two)
        transpose4(x + 4 * d, d, dd, xb);
    __m256d nxa = _mm256_setzero_pd(), nxb = _mm256_setzero_pd();
#pragma GCC unroll 16
    for (size_t f = 0; f < dd; f++) {
        __m256d sf = _mm256_set1_pd(p->s[f]);
        xa[f] = _mm256_sub_pd(xa[f], sf);
        nxa = _mm256_fmadd_pd(xa[f], xa[f], nxa);
        if (two) {
            xb[f] = _mm256_sub_pd(xb[f], sf);
            nxb = _mm256_fmadd_pd(xb[f], xb[f], nxb);
        }
    }
    const __m256d inf = _mm256_set1_pd(INFINITY);
    __m256d bva = inf, sva = inf, bia = _mm256_setzero_pd();
    __m256d bvb = inf, svb = inf, bib = _mm256_setzero_pd();
    for (size_t j = 0; j < p->k; j++) {
        const double *mj = p->m + j * dd;
        __m256d cn = _mm256_set1_pd(p->cn[j]);
        __m256d ea = cn, eb = cn;
#pragma GCC unroll 16
        for (size_t f = 0; f < dd; f++) {
            __m256d mf = _mm256_set1_pd(mj[f]);
            ea = _mm256_fmadd_pd(xa[f], mf, ea);
            if (two)
                eb = _mm256_fmadd_pd(xb[f], mf, eb);
        }
        __m256d jv = _mm256_set1_pd((double)j);
        __m256d lta = _mm256_cmp_pd(ea, bva, _CMP_LT_OQ);
        sva = _mm256_min_pd(_mm256_max_pd(ea, bva), sva);
        bva = _mm256_min_pd(ea, bva);
        bia = _mm256_blendv_pd(bia, jv, lta);
        if (two) {
            __m256d ltb = _mm256_cmp_pd(eb, bvb, _CMP_LT_OQ);
            svb = _mm256_min_pd(_mm256_max_pd(eb, bvb), svb);
            bvb = _mm256_min_pd(eb, bvb);
            bib = _mm256_blendv_pd(bib, jv, ltb);
        }
    }
    const __m256d kappa = _mm256_set1_pd(p->kappa);
    const __m256d c2 = _mm256_set1_pd(p->cmax2), big = _mm256_set1_pd(1e300);
    __m256d ra = _mm256_add_pd(nxa, c2);
    unsigned bad = (unsigned)_mm256_movemask_pd(
        _mm256_or_pd(_mm256_cmp_pd(sva, _mm256_add_pd(bva, _mm256_mul_pd(kappa, ra)), _CMP_NGT_UQ),
                     _mm256_cmp_pd(ra, big, _CMP_NLE_UQ)));
    _mm_storeu_si128((__m128i *)(void *)labels, _mm256_cvttpd_epi32(bia));
    if (two) {
        __m256d rb = _mm256_add_pd(nxb, c2);
        bad |= (unsigned)_mm256_movemask_pd(_mm256_or_pd(
                   _mm256_cmp_pd(svb, _mm256_add_pd(bvb, _mm256_mul_pd(kappa, rb)), _CMP_NGT_UQ),
                   _mm256_cmp_pd(rb, big, _CMP_NLE_UQ)))
               << 4;
        _mm_storeu_si128((__m128i *)(void *)(labels + 4), _mm256_cvttpd_epi32(bib));
    }
    return bad;
}

#define SGS__LL_TARGET SGS__AVX2FMA
#define SGS__LL_W 4
#define SGS__LL_SCREEN screen4_pair
#define SGS__LL_NAME sgs__kmeans_labels_avx2
#include "kernels/kmeans_labels_loop_internal.h"

#else
typedef int sgs__kmeans_avx2_unused; /* ISO C: no empty file off x86 */
#endif /* SGS__X86 */
