/*
 * kernels/kmeans_dist_internal.h — the distance arithmetic of k-means, in one place (internal
 * to kernels/, not installed; the public contract is kernels/kmeans.h).
 *
 * THE distance. Every path of the k-means code (Lloyd, Hamerly, Elkan, k-means++,
 * k-means||, mini-batch, inertia, relocation) computes the squared Euclidean distance
 * between a row x and a center c with exactly this sequence of IEEE double operations:
 *
 *     t = x[0] - c[0];  acc = t * t;
 *     for f = 1 .. d-1:  t = x[f] - c[f];  acc = acc + t * t;
 *
 * (direct differences, features in order, no fused multiply-add — the build passes
 * -ffp-contract=off to every compiler, and the SIMD paths use separate sub/mul/add). The SIMD
 * kernels put 4 rows in the 4 lanes of a vector and perform the same operations per lane,
 * so they give the same bits as the scalar reference. The label of a row is the index of
 * the smallest such distance, the lowest index on ties ("first minimum").
 *
 * Why direct differences rather than ||x||^2 - 2 x.c + ||c||^2 (scikit-learn's GEMM form):
 * the computed value has a relative error bound, |D~ - D| <= gamma_{d+2} D with
 * gamma_m = m u / (1 - m u), u = 2^-53 (Higham, Accuracy and Stability of Numerical
 * Algorithms, 2nd ed., 2002, sec. 3.1), whatever the offset of the data. That bound is what
 * lets Hamerly and Elkan prove, with a small margin, that a skipped distance could not
 * have changed the label, so that they return exactly the Lloyd labels; and it makes
 * centering the data (scikit-learn copies X to subtract its mean) unnecessary.
 * Labels agree with scikit-learn's except where two centers are within rounding of each
 * other, which the label-for-label test checks does not happen on its fixture.
 */
#ifndef SGS_KMEANS_DIST_INTERNAL_H
#define SGS_KMEANS_DIST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Largest d handled by the vector kernels; wider rows use the scalar reference. */
#define SGS__KMEANS_SIMD_DMAX 64

/* Instruction set of the distance kernels. AUTO picks the widest the CPU supports. */
enum { SGS__ISA_AUTO = 0, SGS__ISA_SCALAR = 1, SGS__ISA_AVX2 = 2, SGS__ISA_AVX512 = 3 };

/* Resolve AUTO to what the CPU supports; a request the CPU cannot honour gives SCALAR. */
int sgs__kmeans_isa_resolve(int isa);

/* The distance above. d >= 1. */
static inline double sgs__kmeans_sqdist(const double *x, const double *c, size_t d)
{
    double t = x[0] - c[0];
    double acc = t * t;
    for (size_t f = 1; f < d; f++) {
        t = x[f] - c[f];
        acc = acc + t * t;
    }
    return acc;
}

/* For each of the m rows of x (m x d, row-major): labels[i] = first argmin over the k
 * centers c (k x d, row-major) of the distance above; when best != NULL, best[i] = that
 * smallest distance; when second != NULL, second[i] = the smallest distance to any other
 * center (+inf when k == 1). Bitwise the same for every isa. k >= 1, d >= 1. */
void sgs__kmeans_argmin(int isa, const double *x, size_t m, size_t d, const double *c, size_t k,
                        int32_t *labels, double *best, double *second);

/* out[j * m + i] = distance between row i of x (m x d) and center j of c (k x d), for
 * all i < m, j < k (center-major, so that a vector of rows is stored at once). Bitwise the
 * same for every isa. */
void sgs__kmeans_distances(int isa, const double *x, size_t m, size_t d, const double *c, size_t k,
                           double *out);

/* ---- Labels only: certified screening ----------------------------------------------------
 * When only labels are wanted (Lloyd, predict), the vector kernels first rank centers by
 * e_j = ||c'_j||^2 - 2 x'.c'_j with fused multiply-adds (x' = x - s, c' = c - s, s = the
 * mean of the centers, so that norms stay at the scale of the spread of the data), which
 * costs one FMA per feature and center instead of sub + mul + add. The exact distance is
 * D_j = e_j + ||x'||^2 up to rounding, and the rounding is bounded:
 *   |computed e_j - exact e_j| <= gamma_{2d+1} R^2,  shift rounding moves D_j by <= 2.01 u R^2,
 *   computed direct distance = D_j (1 +- gamma_{d+2}),   R = ||x'|| + max_j ||c'_j||
 * (Higham 2002, sec. 3.1 and 2.6). So when the smallest e (center j*) is below every other e
 * by more than M = (d + 4) 2^-49 * 2 (||x'||^2 + max_j ||c'_j||^2) >= (16 d + 64) u R^2,
 * which exceeds twice the sum of those bounds, j* is also the first minimum of the direct
 * distances of kmeans_dist_internal.h. Rows without that margin (near-ties, duplicates, overflow,
 * anything non-finite, ||x'||^2 + max ||c'||^2 > 1e300) are recomputed with the direct
 * scalar reference. Labels are thus exactly those of sgs__kmeans_argmin, for every isa.
 *
 * Bookkeeping (AVX-512): the running minimum keeps the center index in the low index_bits
 * bits of the mantissa of e_j, so that one MINPD tracks value and index. That moves e_j by
 * less than 2^index_bits ulps, at most 2^(index_bits - 52) R^2, and the margin grows by
 * 2^(index_bits - 45) (||x'||^2 + max ||c'||^2) >= 64 times that, so the certificate
 * still holds for the perturbed values. */
typedef struct sgs__kmeans_prep {
    size_t k, d;
    const double *c; /* the centers, k x d (borrowed) */
    double *s;       /* d: shift, mean of the centers */
    double *m;       /* k x d: -2 (c - s), exact doubling of the rounded difference */
    double *cn;      /* k: ||c - s||^2 */
    double cmax2;    /* max_j cn_j, inflated by 1e-12 relative */
    int index_bits;  /* smallest b with 2^b >= k: low mantissa bits that carry j */
    double kappa;    /* margin factor: M = kappa (||x - s||^2 + cmax2) */
    float *m32;      /* k x d: m rounded to float (the float32 screen below) */
    float *cn32;     /* k: cn rounded to float */
    float kappa32;   /* margin factor of the float32 screen */
} sgs__kmeans_prep_t;

/* ---- Float32 screen (AVX-512 Lloyd rows) -----------------------------------------------------
 * The fused Lloyd kernel ranks centers in single precision, 16 rows per vector: x' = x - s and
 * ||x'||^2 are computed in double as above, then x' and the prepared centers are rounded to
 * float and e_j = cn_j + sum_f m_jf x'_f is accumulated with float FMAs; the running minimum
 * and second minimum are tracked with MINPS/MAXPS and the index moves under the mask of a
 * strict "<" (no bits of e are borrowed). With u = 2^-24 and Q = ||x'||^2 + cmax2, rounding
 * each x'_f and m_jf to float moves each product by at most (2u + u^2)|m_jf x'_f| (plus
 * absolute underflow terms), and the chain of d FMAs from the rounded cn_j adds at most
 * gamma_d (|cn_j| + sum_f |m_jf x'_f|) (Higham 2002, sec. 3.1); since sum_f |m_jf x'_f| <=
 * 2 ||c'_j|| ||x'|| <= Q and cn_j <= Q, |computed e_j - exact e_j| <= (2d + 5) u Q + A with
 * A < 2^-90 for Q <= 1e30. The double-precision terms of the certificate above are below
 * (d + 5) 2^-51 Q. A row is certified when the second smallest e exceeds the smallest by more
 * than M32 = kappa32 Q + 2^-89, kappa32 = (d + 4) 2^-21 >= 2 (2d + 5) u + 2^-19, twice the
 * float error plus a slack that covers the double-precision terms, the rounding of Q to
 * float and of the test itself. Rows without that margin, with Q > 1e30 (which also keeps
 * every float product and sum far from overflow) or with anything non-finite are
 * recomputed with the direct scalar reference, so the labels are exactly those of
 * sgs__kmeans_argmin. At d = 4 and d = 9..16 the kernel sums ||x'||^2 from the rounded x' in
 * float instead: that Q is >= Q (1 - (d + 4) u) up to underflow terms below 2^-120, and the
 * margin above has a factor 2 to spare (kappa32 / (2 (2d + 5) u) = 2 + 12 / (4d + 10)) and
 * the 2^-89 term, so the certificate still holds. */

/* Doubles of workspace sgs__kmeans_prep needs: d + k d + k, then k d + k floats. */
size_t sgs__kmeans_prep_size(size_t k, size_t d);

/* Prepare centers c (k x d) into *p using ws (sgs__kmeans_prep_size doubles). */
void sgs__kmeans_prep(const double *c, size_t k, size_t d, double *ws, sgs__kmeans_prep_t *p);

/* labels[i] for m rows of x: exactly sgs__kmeans_argmin's labels. When n_changed is not
 * NULL, labels holds the previous labels on entry and *n_changed gets how many changed.
 * Returns how many rows needed the exact fallback (0 for the scalar isa, which computes
 * every row exactly). */
size_t sgs__kmeans_labels(int isa, const double *x, size_t m, const sgs__kmeans_prep_t *p,
                          int32_t *labels, size_t *n_changed);

/* ---- Cluster sums ---------------------------------------------------------------------------
 * The canonical order of every cluster sum of the k-means code. Rows are dealt to 4
 * sub-partials by global row index g (g & 3), so that rows of the same cluster that follow
 * each other do not wait on each other's additions; within a sub-partial, rows are added
 * in row order: s[a][f] = s[a][f] + x[f] * w (the product is skipped without weights:
 * multiplying by 1 is exact) and ws[a] = ws[a] + w. A block's partial is the fold
 * (S0 + S1) + (S2 + S3). Each sub-partial is `stride` = k (d + 1) doubles: the k x d sums,
 * then the k weights; `part` holds 4 of them. */

/* Add row xi (global index g, label a, weight *w or 1 when w == NULL) to part. */
static inline void sgs__kmeans_add_row(double *part, size_t k, size_t d, size_t g, const double *xi,
                                       int32_t a, const double *w)
{
    double *base = part + (g & 3) * k * (d + 1);
    double *s = base + (size_t)a * d, *ws = base + k * d + a;
    if (w) {
        for (size_t f = 0; f < d; f++)
            s[f] = s[f] + xi[f] * *w;
        *ws = *ws + *w;
    } else {
        for (size_t f = 0; f < d; f++)
            s[f] = s[f] + xi[f];
        *ws = *ws + 1.0;
    }
}

/* Add m rows of x (the first has global index g0) with labels lab and weights w (m values
 * or NULL) to part, exactly as sgs__kmeans_add_row row after row. Bitwise the same for
 * every isa. */
void sgs__kmeans_accumulate(int isa, const double *x, size_t m, size_t d, size_t k, size_t g0,
                            const int32_t *lab, const double *w, double *part);

/* ---- Lloyd rows: labels and cluster sums in one pass over the rows ----------------------------
 * For the m rows of x (m x p->d, the first with global index g0): the label of each row,
 * exactly sgs__kmeans_labels's (so exactly sgs__kmeans_argmin's), and the rows added to part
 * exactly as sgs__kmeans_accumulate(isa, x, m, d, k, g0, labels, w, part) adds them.
 * Labels are read and written in one of two stores: lab8 (when not NULL; k <= 255, the
 * value 255 meaning "no label yet") or lab32; on entry they hold the previous labels, and
 * *n_changed gets how many rows changed label. Bitwise the same for every isa.
 * m == 0 does nothing. Rows are not checked for NaN (callers check the matrix once); labels
 * of rows with NaN are whatever the exact fallback gives, as for sgs__kmeans_argmin.
 * Thread-safe for disjoint rows, labels and part; no allocation (the AVX-512 kernel keeps a
 * local copy of part of at most 64 KB on the stack).
 * Returns how many rows needed the exact fallback of the screen. */
size_t sgs__kmeans_lloyd_rows(int isa, const double *x, size_t m, size_t g0,
                              const sgs__kmeans_prep_t *p, const double *w, uint8_t *lab8,
                              int32_t *lab32, double *part, size_t *n_changed);

/* out[e] = out[e] + ((p0[e] + p1[e]) + (p2[e] + p3[e])) for e < stride, the p's being the 4
 * sub-partials of part. */
void sgs__kmeans_fold4_add(const double *part, size_t stride, double *out);

/* Scalar reference of sgs__kmeans_argmin (what the vector kernels are tested against). */
void sgs__kmeans_argmin_ref(const double *x, size_t m, size_t d, const double *c, size_t k,
                            int32_t *labels, double *best, double *second);

/* TILES(D) with the dimension as a compile-time constant D for d = 1..16, so that the
 * distance loops of each instruction set unroll, and with the run-time d beyond: the one
 * dispatch of every argmin kernel. */
// clang-format off
#define SGS__WITH_CONSTANT_DIM(d, TILES)                                                           \
    switch (d) {                                                                                   \
    case 1: TILES(1); break;                                                                       \
    case 2: TILES(2); break;                                                                       \
    case 3: TILES(3); break;                                                                       \
    case 4: TILES(4); break;                                                                       \
    case 5: TILES(5); break;                                                                       \
    case 6: TILES(6); break;                                                                       \
    case 7: TILES(7); break;                                                                       \
    case 8: TILES(8); break;                                                                       \
    case 9: TILES(9); break;                                                                       \
    case 10: TILES(10); break;                                                                     \
    case 11: TILES(11); break;                                                                     \
    case 12: TILES(12); break;                                                                     \
    case 13: TILES(13); break;                                                                     \
    case 14: TILES(14); break;                                                                     \
    case 15: TILES(15); break;                                                                     \
    case 16: TILES(16); break;                                                                     \
    default: TILES(d); break;                                                                      \
    }
// clang-format on

#endif
