/*
 * io/h5_decoded_size.c — the decoded size of a stored chunk. See h5_decoded_size.h.
 */
#include "io/h5_decoded_size.h"

#include <libdeflate.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

/* zlib's inflate, which can count what does not fit (out NULL or full): the reference for
 * every outcome. */
static sgs_h5_decoded_t inflate_zlib(const unsigned char *in, size_t n_in, unsigned char *out,
                                     size_t cap, size_t *n_out)
{
    unsigned char window[1 << 16]; /* what is only counted: overwritten */
    z_stream z;
    memset(&z, 0, sizeof z);
    if (n_in > UINT_MAX || (out && cap > UINT_MAX))
        return SGS_H5_DECODED_BROKEN; /* a chunk is below 4 GiB (HDF5) */
    z.next_in = (unsigned char *)in;  /* zlib does not write through it */
    z.avail_in = (uInt)n_in;
    z.next_out = out;
    z.avail_out = out ? (uInt)cap : 0;
    int status = inflateInit(&z);
    if (status != Z_OK)
        return status == Z_MEM_ERROR ? SGS_H5_DECODED_NOMEM : SGS_H5_DECODED_BROKEN;
    sgs_h5_decoded_t result = SGS_H5_DECODED_BROKEN;
    for (;;) {
        if (z.avail_out == 0) { /* out is full (or there is none): the rest is only counted */
            z.next_out = window;
            z.avail_out = sizeof window;
        }
        status = inflate(&z, Z_SYNC_FLUSH);
        if (z.total_out > cap) {
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

/* libdeflate decodes a whole zlib stream into a buffer that holds it, with the same checks
 * (header, Adler-32) and the same bytes as zlib, two to three times as fast; trailing bytes
 * after the stream are ignored as zlib ignores them. Anything but a clean decode goes to zlib,
 * whose outcome (too big, broken, the size) is then the answer. The two differ on one kind of
 * stream only: libdeflate 1.14 decodes the reserved codes of deflate (lengths 286 and 287,
 * distances 30 and 31) and overlong code-length repeats, which zlib refuses and no compressor
 * writes (a crafted stream, with an Adler-32 of what libdeflate makes of it); such a chunk is
 * read as libdeflate decodes it (docs/input.md). The decompressor (about 32 KiB) is per call:
 * callers decode chunks on several threads. */
sgs_h5_decoded_t sgs_h5_inflate(const unsigned char *in, size_t n_in, unsigned char *out,
                                size_t cap, size_t *n_out)
{
    if (out) {
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        if (d) {
            size_t used_in = 0, got = 0;
            enum libdeflate_result r =
                libdeflate_zlib_decompress_ex(d, in, n_in, out, cap, &used_in, &got);
            libdeflate_free_decompressor(d);
            if (r == LIBDEFLATE_SUCCESS) {
                *n_out = got;
                return SGS_H5_DECODED_OK;
            }
        }
    }
    return inflate_zlib(in, n_in, out, cap, n_out);
}

/* Filter i was not applied to this chunk. */
static int skipped(unsigned mask, int i)
{
    return i < (int)(sizeof mask * CHAR_BIT) && (mask >> i) & 1u;
}

int sgs_h5_decoded_size_known(const H5Z_filter_t *ids, int n, unsigned mask)
{
    int deflate_at = -1;
    for (int i = 0; i < n; i++) {
        if (skipped(mask, i))
            continue;
        switch (ids[i]) {
        case H5Z_FILTER_DEFLATE:
            if (deflate_at >= 0)
                return 0; /* two deflates: the inner stream is not kept */
            deflate_at = i;
            break;
        case H5Z_FILTER_SHUFFLE:
            if (deflate_at >= 0)
                return 0; /* reading reorders the bytes deflate then sees */
            break;
        case H5Z_FILTER_FLETCHER32:
            break;
        default:
            return 0;
        }
    }
    return 1;
}

sgs_h5_decoded_t sgs_h5_decoded_size(const H5Z_filter_t *ids, int n, unsigned mask, const void *raw,
                                     size_t n_raw, size_t cap, size_t *n_out)
{
    if (!sgs_h5_decoded_size_known(ids, n, mask))
        return SGS_H5_DECODED_UNKNOWN;
    /* Reading undoes filter n-1 first. Until deflate is undone the data is the stored bytes
     * minus the checksums stripped from their end (a prefix of raw); after it, only a size;
     * the checksums still to strip then are the ones deflate's output holds. */
    size_t size = n_raw;
    for (int i = n - 1; i >= 0; i--) {
        if (skipped(mask, i) || ids[i] == H5Z_FILTER_SHUFFLE)
            continue;
        if (ids[i] == H5Z_FILTER_FLETCHER32) {
            if (size < 4)
                return SGS_H5_DECODED_BROKEN;
            size -= 4;
            continue;
        }
        size_t checksums_after = 0;
        for (int j = i - 1; j >= 0; j--)
            checksums_after += ids[j] == H5Z_FILTER_FLETCHER32 && !skipped(mask, j) ? 4 : 0;
        if (cap > SIZE_MAX - checksums_after)
            return SGS_H5_DECODED_UNKNOWN;
        sgs_h5_decoded_t r = sgs_h5_inflate(raw, size, NULL, cap + checksums_after, &size);
        if (r != SGS_H5_DECODED_OK)
            return r;
    }
    if (size > cap)
        return SGS_H5_DECODED_TOO_BIG;
    *n_out = size;
    return SGS_H5_DECODED_OK;
}
