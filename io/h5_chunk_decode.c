/*
 * io/h5_chunk_decode.c — a stored chunk's filters undone into the caller's buffer. See
 * h5_chunk_decode.h.
 */
#include "io/h5_chunk_decode.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

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

/* Transpose the 8 x 8 bytes of r[0..8) (byte j of r[b] is byte b of element j, as loaded
 * from a little-endian machine's memory) into r[j] = element j's bytes: three rounds swapping
 * bytes, then byte pairs, then quads across rows 1, 2 and 4 apart. */
static inline void transpose8x8(uint64_t r[8])
{
    static const uint64_t mask[3] = {UINT64_C(0x00ff00ff00ff00ff), UINT64_C(0x0000ffff0000ffff),
                                     UINT64_C(0x00000000ffffffff)};
    for (int round = 0, step = 1; round < 3; round++, step *= 2)
        for (int i = 0; i < 8; i++)
            if (!(i & step)) {
                unsigned shift = 8u * (unsigned)step;
                uint64_t t = ((r[i] >> shift) ^ r[i + step]) & mask[round];
                r[i] ^= t << shift;
                r[i + step] ^= t;
            }
}

void sgs_h5_unshuffle(const void *in, size_t n, size_t size, void *out)
{
    const unsigned char *s = in;
    unsigned char *d = out;
    size_t j = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (size == 8) /* the usual case (int64, float64): eight elements a step */
        for (; j + 8 <= n; j += 8) {
            uint64_t r[8];
            for (size_t b = 0; b < 8; b++)
                memcpy(&r[b], s + b * n + j, 8);
            transpose8x8(r);
            memcpy(d + 8 * j, r, sizeof r);
        }
#endif
    for (size_t b = 0; b < size; b++) { /* the rest, byte by byte */
        const unsigned char *sb = s + b * n;
        for (size_t k = j; k < n; k++)
            d[k * size + b] = sb[k];
    }
}

/* ---- Inflating ------------------------------------------------------------------------- */

/* Inflate `in` into out[0..want), then, past want, into a small window that is overwritten,
 * only counting, as io/h5_decoded_size.c does: past `want` bytes the chunk is too big; a
 * stream that runs out of input before its end is broken (libhdf5: "inflate() failed"). The
 * loop is that of inflated_size there, with the first `want` bytes kept. */
static sgs_h5_decoded_t inflate_into(const unsigned char *in, size_t n_in, unsigned char *out,
                                     size_t want, size_t *n_out)
{
    unsigned char window[256];
    z_stream z;
    memset(&z, 0, sizeof z);
    if (n_in > UINT_MAX || want > UINT_MAX)
        return SGS_H5_DECODED_BROKEN; /* a chunk is below 4 GiB (HDF5) */
    z.next_in = (unsigned char *)in;  /* zlib does not write through it */
    z.avail_in = (uInt)n_in;
    z.next_out = out;
    z.avail_out = (uInt)want;
    int status = inflateInit(&z);
    if (status != Z_OK)
        return status == Z_MEM_ERROR ? SGS_H5_DECODED_NOMEM : SGS_H5_DECODED_BROKEN;
    sgs_h5_decoded_t result = SGS_H5_DECODED_BROKEN;
    for (;;) {
        if (z.avail_out == 0) { /* out is full: what follows is only counted */
            z.next_out = window;
            z.avail_out = sizeof window;
        }
        status = inflate(&z, Z_SYNC_FLUSH);
        if (z.total_out > want) {
            result = SGS_H5_DECODED_TOO_BIG;
            break;
        }
        if (status == Z_STREAM_END) {
            result = SGS_H5_DECODED_OK;
            *n_out = z.total_out;
            break;
        }
        if (status == Z_MEM_ERROR)
            result = SGS_H5_DECODED_NOMEM;
        if (status != Z_OK)
            break;
    }
    inflateEnd(&z);
    return result;
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
    int shuffled = p->shuffle_at >= 0 && !skipped(mask, p->shuffle_at);
    int deflated = p->deflate_at >= 0 && !skipped(mask, p->deflate_at);
    const unsigned char *data = raw;
    size_t size = n_raw;
    if (deflated) { /* reading undoes the last filter first: deflate, then shuffle */
        unsigned char *to = shuffled ? tmp : out;
        sgs_h5_decoded_t r = inflate_into(raw, n_raw, to, want, &size);
        if (r != SGS_H5_DECODED_OK)
            return r;
        data = to;
    } else if (size > want) {
        return SGS_H5_DECODED_TOO_BIG;
    }
    *n_out = size;
    if (size != want)
        return SGS_H5_DECODED_OK; /* short: the caller refuses the chunk */
    if (shuffled && p->elem_size > 1 && want / p->elem_size > 1)
        sgs_h5_unshuffle(data, want / p->elem_size, p->elem_size, out);
    else if (data != out)
        memcpy(out, data, want);
    return SGS_H5_DECODED_OK;
}
