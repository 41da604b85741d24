/*
 * kernels/kmeans_dist_avx512.c — the AVX-512 distance kernels of k-means: eight rows per
 * vector, the screened labels and the fused Lloyd pass (kmeans_dist_internal.h says what arithmetic
 * they perform, kmeans_dist.c when they are used).
 */
#include "kernels/kmeans_simd_internal.h"

#include <math.h>

#ifdef SGS__X86

/* ---- AVX-512: eight rows per vector ---------------------------------------------------------
 * Same scheme as AVX2 with 8 lanes; two vectors (16 rows) go through the centers together.
 * The running minimum is MINPD (acc < best ? acc : best, the strict "<" of the reference)
 * and the index moves under the mask of the same comparison. */

SGS__AVX512 static inline __attribute__((always_inline)) void transpose8(const double *x, size_t d,
                                                                         size_t dd, __m512d *xt)
{
    /* Full chunks of 4 features: pairs of rows in one vector, then two permute stages
     * (8 shuffles for 8 rows x 4 features). */
    const __m512i ia = _mm512_set_epi64(13, 9, 5, 1, 12, 8, 4, 0);
    const __m512i ib = _mm512_set_epi64(15, 11, 7, 3, 14, 10, 6, 2);
    size_t fc = 0;
#pragma GCC unroll 4
    for (; fc + 4 <= dd; fc += 4) {
        __m512d r01, r23, r45, r67;
        if (dd == 4) {
            r01 = _mm512_loadu_pd(x);
            r23 = _mm512_loadu_pd(x + 8);
            r45 = _mm512_loadu_pd(x + 16);
            r67 = _mm512_loadu_pd(x + 24);
        } else {
            r01 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(x + fc)),
                                     _mm256_loadu_pd(x + d + fc), 1);
            r23 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(x + 2 * d + fc)),
                                     _mm256_loadu_pd(x + 3 * d + fc), 1);
            r45 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(x + 4 * d + fc)),
                                     _mm256_loadu_pd(x + 5 * d + fc), 1);
            r67 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(x + 6 * d + fc)),
                                     _mm256_loadu_pd(x + 7 * d + fc), 1);
        }
        /* a = (x0f0 x1f0 x2f0 x3f0 | x0f1 x1f1 x2f1 x3f1), b = the same for f2, f3. */
        __m512d a = _mm512_permutex2var_pd(r01, ia, r23), b = _mm512_permutex2var_pd(r01, ib, r23);
        __m512d c = _mm512_permutex2var_pd(r45, ia, r67), e = _mm512_permutex2var_pd(r45, ib, r67);
        xt[fc] = _mm512_shuffle_f64x2(a, c, 0x44);
        xt[fc + 1] = _mm512_shuffle_f64x2(a, c, 0xEE);
        xt[fc + 2] = _mm512_shuffle_f64x2(b, e, 0x44);
        xt[fc + 3] = _mm512_shuffle_f64x2(b, e, 0xEE);
    }
    if (fc < dd) {
        /* The last 1..3 features through two 4-row transposes (masked loads). */
        __m256d lo[4], hi[4];
        size_t rem = dd - fc;
        transpose4(x + fc, d, rem, lo);
        transpose4(x + 4 * d + fc, d, rem, hi);
        for (size_t f = 0; f < rem; f++)
            xt[fc + f] = _mm512_insertf64x4(_mm512_castpd256_pd512(lo[f]), hi[f], 1);
    }
}

SGS__AVX512 static inline __attribute__((always_inline)) size_t store8(int32_t *dst, __m256i nw,
                                                                       int count)
{
    size_t ch = 0;
    if (count) {
        __m256i old = _mm256_loadu_si256((const __m256i *)(const void *)dst);
        int eq = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(old, nw)));
        ch = 8 - (size_t)__builtin_popcount((unsigned)eq);
    }
    _mm256_storeu_si256((__m256i *)(void *)dst, nw);
    return ch;
}

SGS__AVX512 static inline __attribute__((always_inline)) void
tiles_avx512(const double *x, size_t m8, size_t d, size_t dd, const double *c, size_t k,
             int32_t *labels, double *best, double *second, int want_second, size_t *nchg)
{
    size_t ch = 0;
    int count = nchg != NULL;
    const __m512d inf = _mm512_set1_pd(INFINITY);
    __m512d xa[SGS__KMEANS_SIMD_DMAX], xb[SGS__KMEANS_SIMD_DMAX];
    size_t i = 0;
    for (; i + 16 <= m8; i += 16) {
        for (size_t q = 0; q < 16 * dd; q += 8)
            _mm_prefetch((const char *)(x + (i + SGS__PREFETCH_ROWS) * d + q), _MM_HINT_T0);
        transpose8(x + i * d, d, dd, xa);
        transpose8(x + (i + 8) * d, d, dd, xb);
        __m512d bva = inf, sva = inf, bia = _mm512_setzero_pd();
        __m512d bvb = inf, svb = inf, bib = _mm512_setzero_pd();
        for (size_t j = 0; j < k; j++) {
            const double *cj = c + j * dd;
            __m512d c0 = _mm512_set1_pd(cj[0]);
            __m512d t = _mm512_sub_pd(xa[0], c0), u = _mm512_sub_pd(xb[0], c0);
            __m512d acca = _mm512_mul_pd(t, t), accb = _mm512_mul_pd(u, u);
#pragma GCC unroll 16
            for (size_t f = 1; f < dd; f++) {
                __m512d cf = _mm512_set1_pd(cj[f]);
                t = _mm512_sub_pd(xa[f], cf);
                u = _mm512_sub_pd(xb[f], cf);
                acca = _mm512_add_pd(acca, _mm512_mul_pd(t, t));
                accb = _mm512_add_pd(accb, _mm512_mul_pd(u, u));
            }
            __m512d jv = _mm512_set1_pd((double)j);
            __mmask8 lta = _mm512_cmp_pd_mask(acca, bva, _CMP_LT_OQ);
            __mmask8 ltb = _mm512_cmp_pd_mask(accb, bvb, _CMP_LT_OQ);
            if (want_second) {
                sva = _mm512_min_pd(_mm512_max_pd(acca, bva), sva);
                svb = _mm512_min_pd(_mm512_max_pd(accb, bvb), svb);
            }
            bva = _mm512_min_pd(acca, bva);
            bvb = _mm512_min_pd(accb, bvb);
            bia = _mm512_mask_mov_pd(bia, lta, jv);
            bib = _mm512_mask_mov_pd(bib, ltb, jv);
        }
        ch += store8(labels + i, _mm512_cvttpd_epi32(bia), count);
        ch += store8(labels + i + 8, _mm512_cvttpd_epi32(bib), count);
        if (best) {
            _mm512_storeu_pd(best + i, bva);
            _mm512_storeu_pd(best + i + 8, bvb);
        }
        if (want_second) {
            _mm512_storeu_pd(second + i, sva);
            _mm512_storeu_pd(second + i + 8, svb);
        }
    }
    for (; i < m8; i += 8) {
        transpose8(x + i * d, d, dd, xa);
        __m512d bv = inf, sv = inf, bi = _mm512_setzero_pd();
        for (size_t j = 0; j < k; j++) {
            const double *cj = c + j * dd;
            __m512d t = _mm512_sub_pd(xa[0], _mm512_set1_pd(cj[0]));
            __m512d acc = _mm512_mul_pd(t, t);
#pragma GCC unroll 16
            for (size_t f = 1; f < dd; f++) {
                t = _mm512_sub_pd(xa[f], _mm512_set1_pd(cj[f]));
                acc = _mm512_add_pd(acc, _mm512_mul_pd(t, t));
            }
            __mmask8 lt = _mm512_cmp_pd_mask(acc, bv, _CMP_LT_OQ);
            if (want_second)
                sv = _mm512_min_pd(_mm512_max_pd(acc, bv), sv);
            bv = _mm512_min_pd(acc, bv);
            bi = _mm512_mask_mov_pd(bi, lt, _mm512_set1_pd((double)j));
        }
        ch += store8(labels + i, _mm512_cvttpd_epi32(bi), count);
        if (best)
            _mm512_storeu_pd(best + i, bv);
        if (want_second)
            _mm512_storeu_pd(second + i, sv);
    }
    if (nchg)
        *nchg += ch;
}

/* Both outputs or only the nearest: want_second a constant, for the inlined loop. */
#define SGS__TILES(D)                                                                              \
    do {                                                                                           \
        if (second)                                                                                \
            tiles_avx512(x, m8, d, D, c, k, labels, best, second, 1, nchg);                        \
        else                                                                                       \
            tiles_avx512(x, m8, d, D, c, k, labels, best, NULL, 0, nchg);                          \
    } while (0)

SGS__AVX512 void sgs__kmeans_argmin_avx512(const double *x, size_t m, size_t d, const double *c,
                                           size_t k, int32_t *labels, double *best, double *second,
                                           size_t *nchg)
{
    size_t m8 = m & ~(size_t)7;
    SGS__WITH_CONSTANT_DIM(d, SGS__TILES)
    if (m8 < m)
        sgs__kmeans_tail_ref(x + m8 * d, m - m8, d, c, k, labels + m8, best ? best + m8 : NULL,
                             second ? second + m8 : NULL, nchg);
}
#undef SGS__TILES

/* Screened labels, AVX-512: 8 rows per vector, two vectors at once. */
SGS__AVX512 static inline __attribute__((always_inline)) unsigned
screen8_pair(const double *x, size_t d, size_t dd, const sgs__kmeans_prep_t *p, int32_t *labels,
             int two)
{
    __m512d xa[SGS__KMEANS_SIMD_DMAX], xb[SGS__KMEANS_SIMD_DMAX];
    transpose8(x, d, dd, xa);
    if (two)
        transpose8(x + 8 * d, d, dd, xb);
    __m512d nxa = _mm512_setzero_pd(), nxb = _mm512_setzero_pd();
#pragma GCC unroll 16
    for (size_t f = 0; f < dd; f++) {
        __m512d sf = _mm512_set1_pd(p->s[f]);
        xa[f] = _mm512_sub_pd(xa[f], sf);
        nxa = _mm512_fmadd_pd(xa[f], xa[f], nxa);
        if (two) {
            xb[f] = _mm512_sub_pd(xb[f], sf);
            nxb = _mm512_fmadd_pd(xb[f], xb[f], nxb);
        }
    }
    const __m512d inf = _mm512_set1_pd(INFINITY);
    const __m512i low = _mm512_set1_epi64((long long)(((uint64_t)1 << p->index_bits) - 1));
    const __m512i one = _mm512_set1_epi64(1);
    __m512i jb = _mm512_setzero_si512();
    __m512d bva = inf, sva = inf, bvb = inf, svb = inf;
    for (size_t j = 0; j < p->k; j++) {
        const double *mj = p->m + j * dd;
        __m512d cn = _mm512_set1_pd(p->cn[j]);
        __m512d ea = cn, eb = cn;
#pragma GCC unroll 16
        for (size_t f = 0; f < dd; f++) {
            __m512d mf = _mm512_set1_pd(mj[f]);
            ea = _mm512_fmadd_pd(xa[f], mf, ea);
            if (two)
                eb = _mm512_fmadd_pd(xb[f], mf, eb);
        }
        /* e with its low bits replaced by j: bitwise (low ? j : e), ternary logic 0xB8. */
        ea = _mm512_castsi512_pd(_mm512_ternarylogic_epi64(_mm512_castpd_si512(ea), low, jb, 0xB8));
        sva = _mm512_min_pd(_mm512_max_pd(ea, bva), sva);
        bva = _mm512_min_pd(ea, bva);
        if (two) {
            eb = _mm512_castsi512_pd(
                _mm512_ternarylogic_epi64(_mm512_castpd_si512(eb), low, jb, 0xB8));
            svb = _mm512_min_pd(_mm512_max_pd(eb, bvb), svb);
            bvb = _mm512_min_pd(eb, bvb);
        }
        jb = _mm512_add_epi64(jb, one);
    }
    const __m512d kappa = _mm512_set1_pd(p->kappa);
    const __m512d c2 = _mm512_set1_pd(p->cmax2), big = _mm512_set1_pd(1e300);
    __m512d ra = _mm512_add_pd(nxa, c2);
    unsigned bad = (unsigned)(_mm512_cmp_pd_mask(sva, _mm512_add_pd(bva, _mm512_mul_pd(kappa, ra)),
                                                 _CMP_NGT_UQ) |
                              _mm512_cmp_pd_mask(ra, big, _CMP_NLE_UQ));
    _mm256_storeu_si256((__m256i *)(void *)labels,
                        _mm512_cvtepi64_epi32(_mm512_and_si512(_mm512_castpd_si512(bva), low)));
    if (two) {
        __m512d rb = _mm512_add_pd(nxb, c2);
        bad |= (unsigned)(_mm512_cmp_pd_mask(svb, _mm512_add_pd(bvb, _mm512_mul_pd(kappa, rb)),
                                             _CMP_NGT_UQ) |
                          _mm512_cmp_pd_mask(rb, big, _CMP_NLE_UQ))
               << 8;
        _mm256_storeu_si256((__m256i *)(void *)(labels + 8),
                            _mm512_cvtepi64_epi32(_mm512_and_si512(_mm512_castpd_si512(bvb), low)));
    }
    return bad;
}

#define SGS__LL_TARGET SGS__AVX512
#define SGS__LL_W 8
#define SGS__LL_SCREEN screen8_pair
#define SGS__LL_NAME sgs__kmeans_labels_avx512
#include "kernels/kmeans_labels_loop_internal.h"

/* ---- AVX-512 Lloyd rows: screen, labels and cluster sums in one pass -----------------------
 * One pass over the rows per iteration. Each tile of 16 rows (two tiles at once for d <= 8)
 * is transposed, shifted and screened in float32 (the certificate of kmeans_dist_internal.h,
 * "Float32 screen"), which puts 16 rows in a vector and halves the multiply-adds and minimum
 * updates of the double screen; its ambiguous rows are recomputed exactly; and while the rows are
 * still in L1 they are added to the cluster sums in the canonical order (row after row, sub-partial
 * g & 3). The sums go through a local copy of the sub-partials padded to dp = the multiple of
 * 8 above d: lanes 0..d-1 of a cluster's slot hold its sums, lane d its weight, so that one
 * vector add per 8 features adds a row and the 1.0 of its count (ws = ws + 1.0, the very
 * operation of the reference, in the same order); when d is a multiple of 8 that lane would
 * cost a whole extra vector add, so dp = d and the weights get their own slots. The rows of
 * a tile go four at a time, one per sub-partial. The copy is taken from part on entry and
 * written back at the end. Labels are compared with the previous ones and stored 16 at a
 * time; the narrow store (one byte per row) moves a quarter of the memory traffic of int32
 * labels, which matters at d = 4 where a row is only 32 bytes. */

/* Largest padded local copy of the sub-partials (doubles): 4 k (dp + 1) <= this. */
#define SGS__FUSED_LOCAL 8192

SGS__AVX512 static inline __attribute__((always_inline)) size_t store16(uint8_t *lab8,
                                                                        int32_t *lab32, __m512i nw)
{
    __mmask16 ne;
    if (lab8) {
        __m128i old = _mm_loadu_si128((const __m128i *)(const void *)lab8);
        ne = _mm512_cmpneq_epi32_mask(_mm512_cvtepu8_epi32(old), nw);
        _mm_storeu_si128((__m128i *)(void *)lab8, _mm512_cvtepi32_epi8(nw));
    } else {
        ne = _mm512_cmpneq_epi32_mask(_mm512_loadu_si512((const void *)lab32), nw);
        _mm512_storeu_si512((void *)lab32, nw);
    }
    return (size_t)__builtin_popcount((unsigned)ne);
}

/* Two vectors of 8 doubles rounded to one vector of 16 floats (lo in lanes 0..7). */
SGS__AVX512 static inline __attribute__((always_inline)) __m512 to_f32x16(__m512d lo, __m512d hi)
{
    __m512d l = _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)));
    return _mm512_castpd_ps(_mm512_insertf64x4(l, _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
}

/* In place: r[i] holds row i (16 floats) on entry and feature f = i on return. Unpacks
 * within 128-bit lanes, then 128-bit lane shuffles: 64 shuffles for 16 x 16. */
SGS__AVX512 static inline __attribute__((always_inline)) void transpose16_ps(__m512 *r)
{
    __m512 t[16], u[16];
#pragma GCC unroll 8
    for (size_t i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* u[4 g + j], lane block c: feature 4 c + j of rows 4 g .. 4 g + 3. */
#pragma GCC unroll 4
    for (size_t g = 0; g < 16; g += 4) {
        __m512d a = _mm512_castps_pd(t[g]), b = _mm512_castps_pd(t[g + 1]);
        __m512d c = _mm512_castps_pd(t[g + 2]), e = _mm512_castps_pd(t[g + 3]);
        u[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, e));
        u[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, e));
    }
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; j++) {
        __m512 lo01 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x44);
        __m512 hi01 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xEE);
        __m512 lo23 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x44);
        __m512 hi23 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xEE);
        r[j] = _mm512_shuffle_f32x4(lo01, lo23, 0x88);
        r[4 + j] = _mm512_shuffle_f32x4(lo01, lo23, 0xDD);
        r[8 + j] = _mm512_shuffle_f32x4(hi01, hi23, 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(hi01, hi23, 0xDD);
    }
}

/* ||x'||^2 + cmax2 summed in float from the rounded features (the certificate allows it,
 * kmeans_dist_internal.h); lanes whose sum is not <= 1e30 go to *badq, and *q is clamped there. */
SGS__AVX512 static inline __attribute__((always_inline)) void
norms16_ps(const __m512 *xs, size_t dd, double cmax2, __m512 *q, unsigned *badq)
{
    __m512 nq = _mm512_set1_ps((float)cmax2);
#pragma GCC unroll 16
    for (size_t f = 0; f < dd; f++)
        nq = _mm512_fmadd_ps(xs[f], xs[f], nq);
    const __m512 bigf = _mm512_set1_ps(1e30f);
    *badq = (unsigned)_mm512_cmp_ps_mask(nq, bigf, _CMP_NLE_UQ);
    *q = _mm512_min_ps(nq, bigf);
}

/* Transpose, shift and round 16 rows (x, row length dd) into xs[f] (16 floats per feature);
 * *q = ||x' ||^2 + cmax2 per lane (float) and the lanes whose q is not <= 1e30 in *badq. */
SGS__AVX512 static inline __attribute__((always_inline)) void prep16(const double *x, size_t dd,
                                                                     const sgs__kmeans_prep_t *p,
                                                                     __m512 *xs, __m512 *q,
                                                                     unsigned *badq)
{
    if (dd == 4) {
        /* d = 4: shift and round the rows as they are stored (2 rows per vector of
         * doubles), then transpose 16 rows x 4 features in float: 8 shuffles instead of
         * the 24 of two double transposes. ||x'||^2 is then summed from the rounded
         * values, in float: Q_float >= Q (1 - (d + 4) 2^-24) (minus underflow below
         * 2^-120), which the factor 2 in kappa32 and the 2^-89 term absorb. */
        const __m512d sv = _mm512_broadcast_f64x4(_mm256_loadu_pd(p->s));
        __m512 z[4];
#pragma GCC unroll 4
        for (size_t q4 = 0; q4 < 4; q4++)
            z[q4] = to_f32x16(_mm512_sub_pd(_mm512_loadu_pd(x + 16 * q4), sv),
                              _mm512_sub_pd(_mm512_loadu_pd(x + 16 * q4 + 8), sv));
        /* z[q4] holds rows 4 q4 .. 4 q4 + 3, row-major; in [z0 z1], (r, f) is at 4 r + f. */
        const __m512i i01 =
            _mm512_set_epi32(29, 25, 21, 17, 13, 9, 5, 1, 28, 24, 20, 16, 12, 8, 4, 0);
        const __m512i i23 =
            _mm512_set_epi32(31, 27, 23, 19, 15, 11, 7, 3, 30, 26, 22, 18, 14, 10, 6, 2);
        __m512 a01 = _mm512_permutex2var_ps(z[0], i01, z[1]),
               a23 = _mm512_permutex2var_ps(z[0], i23, z[1]);
        __m512 b01 = _mm512_permutex2var_ps(z[2], i01, z[3]),
               b23 = _mm512_permutex2var_ps(z[2], i23, z[3]);
        xs[0] = _mm512_shuffle_f32x4(a01, b01, 0x44);
        xs[1] = _mm512_shuffle_f32x4(a01, b01, 0xEE);
        xs[2] = _mm512_shuffle_f32x4(a23, b23, 0x44);
        xs[3] = _mm512_shuffle_f32x4(a23, b23, 0xEE);
        norms16_ps(xs, 4, p->cmax2, q, badq);
        return;
    }
    if (dd > 8 && dd <= 16) {
        /* 9 <= d <= 16: each row shifted in double and rounded into one vector of 16
         * floats (lanes d..15 zero), then one 16 x 16 float transpose: 64 shuffles
         * instead of the 96 of four double transposes and the 48 conversions after them. */
        const __mmask8 hi = (__mmask8)((1u << (dd - 8)) - 1);
        const __m512d s_lo = _mm512_loadu_pd(p->s), s_hi = _mm512_maskz_loadu_pd(hi, p->s + 8);
        __m512 r[16];
#pragma GCC unroll 16
        for (size_t i = 0; i < 16; i++) {
            const double *xi = x + i * dd;
            r[i] = to_f32x16(_mm512_sub_pd(_mm512_loadu_pd(xi), s_lo),
                             _mm512_maskz_sub_pd(hi, _mm512_maskz_loadu_pd(hi, xi + 8), s_hi));
        }
        transpose16_ps(r);
#pragma GCC unroll 16
        for (size_t f = 0; f < dd; f++)
            xs[f] = r[f];
        norms16_ps(xs, dd, p->cmax2, q, badq);
        return;
    }
    __m512d xa[SGS__KMEANS_SIMD_DMAX], xb[SGS__KMEANS_SIMD_DMAX];
    transpose8(x, dd, dd, xa);
    transpose8(x + 8 * dd, dd, dd, xb);
    __m512d na = _mm512_setzero_pd(), nb = _mm512_setzero_pd();
#pragma GCC unroll 16
    for (size_t f = 0; f < dd; f++) {
        __m512d sf = _mm512_set1_pd(p->s[f]);
        __m512d a = _mm512_sub_pd(xa[f], sf), b = _mm512_sub_pd(xb[f], sf);
        na = _mm512_fmadd_pd(a, a, na);
        nb = _mm512_fmadd_pd(b, b, nb);
        xs[f] = to_f32x16(a, b);
    }
    const __m512d c2 = _mm512_set1_pd(p->cmax2), big = _mm512_set1_pd(1e30);
    na = _mm512_add_pd(na, c2);
    nb = _mm512_add_pd(nb, c2);
    *badq = (unsigned)_mm512_cmp_pd_mask(na, big, _CMP_NLE_UQ) |
            (unsigned)_mm512_cmp_pd_mask(nb, big, _CMP_NLE_UQ) << 8;
    /* Lanes over 1e30 are flagged; clamp them so that the float conversion stays finite. */
    *q = to_f32x16(_mm512_min_pd(na, big), _mm512_min_pd(nb, big));
}

/* Screen V (1 or 2) groups of 16 rows: labels into lab[v], returns the mask of rows (bit
 * 16 v + r) to recompute exactly. */
SGS__AVX512 static inline __attribute__((always_inline)) unsigned
screen16(const double *x, size_t dd, const sgs__kmeans_prep_t *p, int two, __m512i *lab)
{
    __m512 xa[SGS__KMEANS_SIMD_DMAX], xb[SGS__KMEANS_SIMD_DMAX], qa, qb = _mm512_setzero_ps();
    unsigned bqa, bqb = 0;
    prep16(x, dd, p, xa, &qa, &bqa);
    if (two)
        prep16(x + 16 * dd, dd, p, xb, &qb, &bqb);
    const __m512 inf = _mm512_set1_ps(INFINITY);
    __m512 bva = inf, sva = inf, bvb = inf, svb = inf;
    __m512i bia = _mm512_setzero_si512(), bib = _mm512_setzero_si512();
    /* Centers in groups of U (2 for two tiles, 4 for one) so that 4 independent chains of
     * FMAs are in flight; the minimum updates then visit the group's centers in increasing
     * index. The index vector is incremented rather than broadcast from a register. */
    const size_t U = two ? 2 : 4;
    const __m512i one = _mm512_set1_epi32(1);
    __m512i jv = _mm512_setzero_si512();
    size_t j = 0;
    for (; j + U <= p->k; j += U) {
        __m512 ea[4], eb[4];
#pragma GCC unroll 4
        for (size_t u = 0; u < U; u++)
            ea[u] = eb[u] = _mm512_set1_ps(p->cn32[j + u]);
#pragma GCC unroll 16
        for (size_t f = 0; f < dd; f++)
#pragma GCC unroll 4
            for (size_t u = 0; u < U; u++) {
                __m512 mf = _mm512_set1_ps(p->m32[(j + u) * dd + f]);
                ea[u] = _mm512_fmadd_ps(xa[f], mf, ea[u]);
                if (two)
                    eb[u] = _mm512_fmadd_ps(xb[f], mf, eb[u]);
            }
#pragma GCC unroll 4
        for (size_t u = 0; u < U; u++) {
            __mmask16 lta = _mm512_cmp_ps_mask(ea[u], bva, _CMP_LT_OQ);
            sva = _mm512_min_ps(_mm512_max_ps(ea[u], bva), sva);
            bva = _mm512_min_ps(ea[u], bva);
            bia = _mm512_mask_mov_epi32(bia, lta, jv);
            if (two) {
                __mmask16 ltb = _mm512_cmp_ps_mask(eb[u], bvb, _CMP_LT_OQ);
                svb = _mm512_min_ps(_mm512_max_ps(eb[u], bvb), svb);
                bvb = _mm512_min_ps(eb[u], bvb);
                bib = _mm512_mask_mov_epi32(bib, ltb, jv);
            }
            jv = _mm512_add_epi32(jv, one);
        }
    }
    for (; j < p->k; j++) {
        const float *mj = p->m32 + j * dd;
        __m512 ea = _mm512_set1_ps(p->cn32[j]), eb = ea;
#pragma GCC unroll 16
        for (size_t f = 0; f < dd; f++) {
            __m512 mf = _mm512_set1_ps(mj[f]);
            ea = _mm512_fmadd_ps(xa[f], mf, ea);
            if (two)
                eb = _mm512_fmadd_ps(xb[f], mf, eb);
        }
        __mmask16 lta = _mm512_cmp_ps_mask(ea, bva, _CMP_LT_OQ);
        sva = _mm512_min_ps(_mm512_max_ps(ea, bva), sva);
        bva = _mm512_min_ps(ea, bva);
        bia = _mm512_mask_mov_epi32(bia, lta, jv);
        if (two) {
            __mmask16 ltb = _mm512_cmp_ps_mask(eb, bvb, _CMP_LT_OQ);
            svb = _mm512_min_ps(_mm512_max_ps(eb, bvb), svb);
            bvb = _mm512_min_ps(eb, bvb);
            bib = _mm512_mask_mov_epi32(bib, ltb, jv);
        }
        jv = _mm512_add_epi32(jv, one);
    }
    const __m512 kappa = _mm512_set1_ps(p->kappa32), tiny = _mm512_set1_ps(0x1p-89f);
    unsigned bad =
        bqa | (unsigned)_mm512_cmp_ps_mask(
                  sva, _mm512_add_ps(bva, _mm512_fmadd_ps(kappa, qa, tiny)), _CMP_NGT_UQ);
    lab[0] = bia;
    if (two) {
        bad |= (bqb | (unsigned)_mm512_cmp_ps_mask(
                          svb, _mm512_add_ps(bvb, _mm512_fmadd_ps(kappa, qb, tiny)), _CMP_NGT_UQ))
               << 16;
        lab[1] = bib;
    }
    return bad;
}

/* Padded slot length: d rounded up past lane d when d is not a multiple of 8 (the weight
 * rides in lane d); d itself when it is (the weight then has its own slot, see lw below,
 * rather than a whole extra vector add). */
static inline size_t fused_dp(size_t d)
{
    return (d & 7) ? (d + 8) & ~(size_t)7 : d;
}

/* Add row xi (dd features) to the padded slot s (dp doubles), and its count when dd is not
 * a multiple of 8 (lane dd). */
SGS__AVX512 static inline __attribute__((always_inline)) void
add_row_padded(double *s, const double *xi, size_t dd, size_t dp, __m512d one_at_d)
{
#pragma GCC unroll 8
    for (size_t f = 0; f < dp; f += 8) {
        __m512d v;
        if (f + 8 <= dd)
            v = _mm512_loadu_pd(xi + f);
        else if (f < dd)
            v = _mm512_mask_loadu_pd(one_at_d, (__mmask8)((1u << (dd - f)) - 1), xi + f);
        else
            v = one_at_d;
        _mm512_storeu_pd(s + f, _mm512_add_pd(_mm512_loadu_pd(s + f), v));
    }
}

SGS__AVX512 static inline __attribute__((always_inline)) size_t
lloyd_avx512_d(const double *x, size_t m, size_t g0, size_t dd, const sgs__kmeans_prep_t *p,
               uint8_t *lab8, int32_t *lab32, double *part, size_t *n_changed)
{
    size_t k = p->k, stride = k * (dd + 1), nfall = 0, nchg = 0, i = 0;
    size_t dp = fused_dp(dd);
    const int lane_w = (dd & 7) != 0;
    const int two = dd <= 8;
    const size_t tile = two ? 32 : 16;
    double loc[SGS__FUSED_LOCAL] __attribute__((aligned(64)));
    /* Lane d of the vector holding feature d: 1.0 (the count), the other lanes 0. */
    const __m512d one_at_d = _mm512_maskz_mov_pd((__mmask8)(1u << (dd & 7)), _mm512_set1_pd(1.0));
    double *lw = loc + 4 * k * dp; /* weights when !lane_w: 4 x k */
    for (size_t sub = 0; sub < 4; sub++)
        for (size_t j = 0; j < k; j++) {
            double *sl = loc + (sub * k + j) * dp;
            const double *ps = part + sub * stride;
            memcpy(sl, ps + j * dd, dd * sizeof *sl);
            if (lane_w) {
                sl[dd] = ps[k * dd + j];
                for (size_t f = dd + 1; f < dp; f++)
                    sl[f] = 0;
            } else {
                lw[sub * k + j] = ps[k * dd + j];
            }
        }
    int32_t tmp[32];
    double *base[4], *wbase[4];
    for (size_t u = 0; u < 4; u++) {
        base[u] = loc + ((g0 + u) & 3) * k * dp;
        wbase[u] = lw + ((g0 + u) & 3) * k;
    }
    for (; i + tile <= m; i += tile) {
        const double *xi = x + i * dd;
        __m512i lab[2];
        unsigned bad = two ? screen16(xi, dd, p, 1, lab) : screen16(xi, dd, p, 0, lab);
        _mm512_storeu_si512((void *)tmp, lab[0]);
        if (two)
            _mm512_storeu_si512((void *)(tmp + 16), lab[1]);
        for (unsigned r = 0; bad; r++, bad >>= 1)
            if (bad & 1) {
                sgs__kmeans_argmin_ref(xi + r * dd, 1, dd, p->c, k, tmp + r, NULL, NULL);
                nfall++;
            }
        for (size_t v = 0; v < tile; v += 16)
            nchg += store16(lab8 ? lab8 + i + v : NULL, lab32 ? lab32 + i + v : NULL,
                            _mm512_loadu_si512((const void *)(tmp + v)));
        /* Four rows at a time, one per sub-partial (i is a multiple of 4): the slot of a
         * row is its sub-partial's base plus its label, without index arithmetic. */
        for (size_t r = 0; r < tile; r += 4)
#pragma GCC unroll 4
            for (size_t u = 0; u < 4; u++) {
                size_t a = (size_t)tmp[r + u];
                add_row_padded(base[u] + a * dp, xi + (r + u) * dd, dd, dp, one_at_d);
                if (!lane_w)
                    wbase[u][a] = wbase[u][a] + 1.0;
            }
    }
    for (; i < m; i++) {
        const double *xi = x + i * dd;
        int32_t a;
        sgs__kmeans_argmin_ref(xi, 1, dd, p->c, k, &a, NULL, NULL);
        if (lab8) {
            nchg += lab8[i] != (uint8_t)a;
            lab8[i] = (uint8_t)a;
        } else {
            nchg += lab32[i] != a;
            lab32[i] = a;
        }
        size_t sub = (g0 + i) & 3, slot = sub * k + (size_t)a;
        add_row_padded(loc + slot * dp, xi, dd, dp, one_at_d);
        if (!lane_w)
            lw[slot] = lw[slot] + 1.0;
    }
    for (size_t sub = 0; sub < 4; sub++)
        for (size_t j = 0; j < k; j++) {
            const double *sl = loc + (sub * k + j) * dp;
            double *ps = part + sub * stride;
            memcpy(ps + j * dd, sl, dd * sizeof *sl);
            ps[k * dd + j] = lane_w ? sl[dd] : lw[sub * k + j];
        }
    *n_changed = nchg;
    return nfall;
}

#define SGS__FCASE(D)                                                                              \
    case D:                                                                                        \
        return lloyd_avx512_d(x, m, g0, D, p, lab8, lab32, part, n_changed);

SGS__AVX512 size_t sgs__kmeans_lloyd_avx512(const double *x, size_t m, size_t g0,
                                            const sgs__kmeans_prep_t *p, uint8_t *lab8,
                                            int32_t *lab32, double *part, size_t *n_changed)
{
    switch (p->d) {
        SGS__FCASE(3)
        SGS__FCASE(4)
        SGS__FCASE(5)
        SGS__FCASE(6)
        SGS__FCASE(7)
        SGS__FCASE(8)
        SGS__FCASE(9)
        SGS__FCASE(10)
        SGS__FCASE(11)
        SGS__FCASE(12)
        SGS__FCASE(13)
        SGS__FCASE(14)
        SGS__FCASE(15)
        SGS__FCASE(16)
    default:
        return lloyd_avx512_d(x, m, g0, p->d, p, lab8, lab32, part, n_changed);
    }
}
#undef SGS__FCASE

int sgs__kmeans_lloyd_avx512_fits(size_t d, size_t k)
{
    return 4 * k * (fused_dp(d) + 1) <= SGS__FUSED_LOCAL;
}

#else
typedef int sgs__kmeans_avx512_unused; /* ISO C: no empty file off x86 */
#endif /* SGS__X86 */
