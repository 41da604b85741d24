/*
 * kernels/kmeans_labels_loop_internal.h — the labels loop of the screened vector kernels, the same
 * for every instruction set (kmeans_dist_internal.h, "Labels only: certified screening"). A kernel
 * file includes it once, after defining: SGS__LL_TARGET  the target attribute of the functions made
 * here; SGS__LL_W       rows per vector (4 for AVX2, 8 for AVX-512); SGS__LL_SCREEN  unsigned
 * screen(x, d, dd, p, labels, two): labels of one vector of rows (two = 0) or two (two = 1), with a
 * bit set per row the certificate could not decide; SGS__LL_NAME    the entry point made here:
 *                   size_t SGS__LL_NAME(x, m, p, labels, n_changed), as sgs__kmeans_labels.
 * Rows go two vectors at a time while there are, then one; undecided rows and the last rows
 * are recomputed by the scalar reference. Specialised copies for d = 1..16 let the compiler
 * unroll the feature loops of the screen.
 */
#define SGS__LL_CAT2(a, b) a##b
#define SGS__LL_CAT(a, b) SGS__LL_CAT2(a, b)
#define SGS__LL_ROWS SGS__LL_CAT(SGS__LL_NAME, _rows)

SGS__LL_TARGET static inline __attribute__((always_inline)) size_t
SGS__LL_ROWS(const double *x, size_t m, size_t d, size_t dd, const sgs__kmeans_prep_t *p,
             int32_t *labels, size_t *n_changed)
{
    size_t i = 0, nfall = 0, nchg = 0;
    int32_t tmp[2 * SGS__LL_W];
    for (; i + SGS__LL_W <= m; i += i + 2 * SGS__LL_W <= m ? 2 * SGS__LL_W : SGS__LL_W) {
        for (size_t q = 0; q < 2 * SGS__LL_W * dd; q += 8)
            _mm_prefetch((const char *)(x + (i + SGS__PREFETCH_ROWS) * d + q), _MM_HINT_T0);
        size_t cnt = i + 2 * SGS__LL_W <= m ? 2 * SGS__LL_W : SGS__LL_W;
        unsigned bad = cnt == 2 * SGS__LL_W ? SGS__LL_SCREEN(x + i * d, d, dd, p, tmp, 1)
                                            : SGS__LL_SCREEN(x + i * d, d, dd, p, tmp, 0);
        for (unsigned r = 0; bad; r++, bad >>= 1)
            if (bad & 1) {
                sgs__kmeans_argmin_ref(x + (i + r) * d, 1, d, p->c, p->k, tmp + r, NULL, NULL);
                nfall++;
            }
        nchg += sgs__kmeans_store_labels(labels + i, tmp, cnt, n_changed != NULL);
    }
    if (i < m) {
        sgs__kmeans_argmin_ref(x + i * d, m - i, d, p->c, p->k, tmp, NULL, NULL);
        nchg += sgs__kmeans_store_labels(labels + i, tmp, m - i, n_changed != NULL);
    }
    if (n_changed)
        *n_changed = nchg;
    return nfall;
}

#define SGS__LL_CASE(D)                                                                            \
    case D:                                                                                        \
        return SGS__LL_ROWS(x, m, d, D, p, labels, n_changed);

SGS__LL_TARGET size_t SGS__LL_NAME(const double *x, size_t m, const sgs__kmeans_prep_t *p,
                                   int32_t *labels, size_t *n_changed)
{
    size_t d = p->d;
    switch (d) {
        SGS__LL_CASE(1)
        SGS__LL_CASE(2)
        SGS__LL_CASE(3)
        SGS__LL_CASE(4)
        SGS__LL_CASE(5)
        SGS__LL_CASE(6)
        SGS__LL_CASE(7)
        SGS__LL_CASE(8)
        SGS__LL_CASE(9)
        SGS__LL_CASE(10)
        SGS__LL_CASE(11)
        SGS__LL_CASE(12)
        SGS__LL_CASE(13)
        SGS__LL_CASE(14)
        SGS__LL_CASE(15)
        SGS__LL_CASE(16)
    default:
        return SGS__LL_ROWS(x, m, d, d, p, labels, n_changed);
    }
}

#undef SGS__LL_CASE
#undef SGS__LL_ROWS
#undef SGS__LL_CAT
#undef SGS__LL_CAT2
#undef SGS__LL_NAME
#undef SGS__LL_SCREEN
#undef SGS__LL_W
#undef SGS__LL_TARGET
