/*
 * io/h5_chunk_decode.c — a stored chunk's filters undone into the caller's buffer. See
 * h5_chunk_decode.h.
 */
#include "io/h5_chunk_decode.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* ---- The pipeline ------------------------------------------------------------------------ */

int sgs_h5_chunk_pipeline_get(hid_t dcpl, size_t elem_size, sgs_h5_chunk_pipeline_t *p)
{
    memset(p, 0, sizeof *p);
    p->shuffle_at = p->deflate_at = -1;
    p->elem_size = elem_size;
    int n = H5Pget_nfilters(dcpl);
    if (n < 0 || n > 2) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    p->n = n;
    for (int i = 0; i < n; i++) {
        unsigned flags = 0, config = 0, cd[4] = {0};
        size_t n_cd = sizeof cd / sizeof cd[0];
        char name[8];
        H5Z_filter_t id =
            H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_cd, cd, sizeof name, name, &config);
        if (id == H5Z_FILTER_SHUFFLE && p->shuffle_at < 0 && p->deflate_at < 0 && n_cd == 1 &&
            cd[0] == elem_size) {
            p->shuffle_at = i;
            continue;
        }
        if (id == H5Z_FILTER_DEFLATE && p->deflate_at < 0 && n_cd == 1 && cd[0] <= 9) {
            p->deflate_at = i;
            continue;
        }
        H5Eclear2(H5E_DEFAULT);
        return 0; /* another filter, order or parameter: libhdf5's */
    }
    return 1;
}

/* ---- Un-shuffling ------------------------------------------------------------------------ */

/* Swap the bytes of a that are `shift` bits above those of b where mask is set: one round
 * of an 8 x 8 byte transpose. */
#define SWAP_BYTES(a, b, shift, mask)                                                              \
    do {                                                                                           \
        uint64_t t_ = (((a) >> (shift)) ^ (b)) & (mask);                                           \
        (a) ^= t_ << (shift);                                                                      \
        (b) ^= t_;                                                                                 \
    } while (0)

void sgs_h5_unshuffle(const void *in, size_t n, size_t size, void *out)
{
    const unsigned char *s = in;
    unsigned char *d = out;
    size_t j = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* The usual case (int64, float64), eight elements a step: byte j of word b is byte b of
     * element j (little-endian loads); three rounds swapping bytes, byte pairs and quads
     * between words 1, 2 and 4 apart make word j element j. */
    const uint64_t m1 = UINT64_C(0x00ff00ff00ff00ff), m2 = UINT64_C(0x0000ffff0000ffff),
                   m4 = UINT64_C(0x00000000ffffffff);
    if (size == 8)
        for (; j + 8 <= n; j += 8) {
            uint64_t r0, r1, r2, r3, r4, r5, r6, r7;
            memcpy(&r0, s + 0 * n + j, 8);
            memcpy(&r1, s + 1 * n + j, 8);
            memcpy(&r2, s + 2 * n + j, 8);
            memcpy(&r3, s + 3 * n + j, 8);
            memcpy(&r4, s + 4 * n + j, 8);
            memcpy(&r5, s + 5 * n + j, 8);
            memcpy(&r6, s + 6 * n + j, 8);
            memcpy(&r7, s + 7 * n + j, 8);
            SWAP_BYTES(r0, r1, 8, m1);
            SWAP_BYTES(r2, r3, 8, m1);
            SWAP_BYTES(r4, r5, 8, m1);
            SWAP_BYTES(r6, r7, 8, m1);
            SWAP_BYTES(r0, r2, 16, m2);
            SWAP_BYTES(r1, r3, 16, m2);
            SWAP_BYTES(r4, r6, 16, m2);
            SWAP_BYTES(r5, r7, 16, m2);
            SWAP_BYTES(r0, r4, 32, m4);
            SWAP_BYTES(r1, r5, 32, m4);
            SWAP_BYTES(r2, r6, 32, m4);
            SWAP_BYTES(r3, r7, 32, m4);
            unsigned char *e = d + 8 * j;
            memcpy(e + 0, &r0, 8);
            memcpy(e + 8, &r1, 8);
            memcpy(e + 16, &r2, 8);
            memcpy(e + 24, &r3, 8);
            memcpy(e + 32, &r4, 8);
            memcpy(e + 40, &r5, 8);
            memcpy(e + 48, &r6, 8);
            memcpy(e + 56, &r7, 8);
        }
#endif
    for (size_t b = 0; b < size; b++) { /* the rest, byte by byte */
        const unsigned char *sb = s + b * n;
        for (size_t k = j; k < n; k++)
            d[k * size + b] = sb[k];
    }
}

/* ---- A chunk -------------------------------------------------------------------------- */

/* Filter i was not applied to this chunk. */
static int skipped(unsigned mask, int i)
{
    return i >= 0 && i < (int)(sizeof mask * CHAR_BIT) && (mask >> i) & 1u;
}

sgs_h5_decoded_t sgs_h5_chunk_decode(const sgs_h5_chunk_pipeline_t *p, unsigned mask,
                                     const void *raw, size_t n_raw, void *out, size_t want,
                                     void *tmp, size_t *n_out)
{
    /* un-shuffling one-byte elements, or a single element, changes nothing (libhdf5 skips it) */
    int shuffled = p->shuffle_at >= 0 && !skipped(mask, p->shuffle_at) && p->elem_size > 1 &&
                   want / p->elem_size > 1;
    int deflated = p->deflate_at >= 0 && !skipped(mask, p->deflate_at);
    const unsigned char *data = raw;
    size_t size = n_raw;
    if (deflated) { /* reading undoes the last filter first: deflate, then shuffle */
        unsigned char *to = shuffled ? tmp : out;
        sgs_h5_decoded_t r = sgs_h5_inflate(raw, n_raw, to, want, &size);
        if (r != SGS_H5_DECODED_OK)
            return r;
        data = to;
    } else if (size > want) {
        return SGS_H5_DECODED_TOO_BIG;
    }
    *n_out = size;
    if (size != want)
        return SGS_H5_DECODED_OK; /* short: the caller refuses the chunk */
    if (shuffled)
        sgs_h5_unshuffle(data, want / p->elem_size, p->elem_size, out);
    else if (data != out)
        memcpy(out, data, want);
    return SGS_H5_DECODED_OK;
}
