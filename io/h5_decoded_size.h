/*
 * io/h5_decoded_size.h — how many bytes a stored chunk gives once its filters are undone,
 * found without keeping them.
 *
 * libhdf5 1.10.8 trusts a chunk's filters: when a chunk decodes to fewer bytes than the
 * chunk shape times the element size, H5Dread copies the missing rows from beyond the end
 * of its own buffer (ASan: heap-buffer-overflow in H5VM_memcpyvv under H5D__select_read)
 * and succeeds, so a damaged or crafted file (a deflate stream of 1 row in a chunk of 5, or
 * a chunk whose filter mask says it was stored unfiltered in 13 bytes) gives rows made of
 * whatever the heap held, exit 0. The file's metadata does not say what a chunk decodes to,
 * and libhdf5 does not let a program replace its predefined filters (H5Zregister refuses
 * ids below 256), so the guard (io/h5_guard.h) reads each stored chunk raw
 * (H5Dread_chunk) and asks this function.
 *
 * The filters modelled are the ones segscore's inputs use: deflate (id 1: inflated, the
 * output counted and dropped), shuffle (2: same size) and Fletcher-32 (3: 4 bytes fewer).
 * That covers what h5py (compression="gzip", shuffle, fletcher32), pandas and `segscore
 * import` write. A pipeline with any other filter (szip, n-bit, scale-offset, a plugin),
 * or an order whose sizes depend on more than counting (shuffle undone before deflate, two
 * deflates), is "unknown": libhdf5 decodes it on the read, unchecked.
 *
 * Thread-safety: a pure function of its arguments; no HDF5 call.
 */
#ifndef SGS_H5_DECODED_SIZE_H
#define SGS_H5_DECODED_SIZE_H

#include <hdf5.h>
#include <stddef.h>

typedef enum sgs_h5_decoded {
    SGS_H5_DECODED_OK,      /* *n_out holds the decoded size (<= cap) */
    SGS_H5_DECODED_TOO_BIG, /* it decodes to more than cap bytes (decoding stopped there) */
    SGS_H5_DECODED_BROKEN,  /* a deflate stream that does not end, or fewer than 4 bytes
                               for a checksum: libhdf5 would fail the read */
    SGS_H5_DECODED_UNKNOWN, /* a filter or an order not modelled (above) */
    SGS_H5_DECODED_NOMEM    /* zlib could not allocate its state */
} sgs_h5_decoded_t;

/* 1 when the filters `ids` (n of them) that `mask` leaves applied are ones this function
 * models, in an order whose sizes it can follow (above); 0: "unknown". */
int sgs_h5_decoded_size_known(const H5Z_filter_t *ids, int n, unsigned mask);

/* The size of the chunk `raw` (n_raw bytes as stored) after undoing, last to first, the
 * `n` filters `ids` of the dataset's pipeline, skipping those whose bit is set in `mask`
 * (the chunk's filter mask: bit i set, filter i was not applied). Decoding stops past `cap`
 * bytes. With no filter applied the size is n_raw. UNKNOWN before any decoding when
 * sgs_h5_decoded_size_known says 0. */
sgs_h5_decoded_t sgs_h5_decoded_size(const H5Z_filter_t *ids, int n, unsigned mask, const void *raw,
                                     size_t n_raw, size_t cap, size_t *n_out);

/* Inflate the zlib stream `in` (n_in bytes): its first `cap` bytes go to out (out NULL: they
 * are only counted), *n_out gets its whole size. More than cap bytes is TOO_BIG (decoding
 * stops there); a stream that runs out of input before its end is BROKEN (libhdf5: "inflate()
 * failed"). The guard sizes chunks with it (out NULL: zlib), the reader decodes them
 * (io/h5_chunk_decode.h: libdeflate, zlib for what libdeflate does not decode cleanly; a
 * crafted stream with deflate's reserved codes, which zlib refuses, is decoded by libdeflate:
 * see h5_decoded_size.c). */
sgs_h5_decoded_t sgs_h5_inflate(const unsigned char *in, size_t n_in, unsigned char *out,
                                size_t cap, size_t *n_out);

#endif
