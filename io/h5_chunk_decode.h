/*
 * io/h5_chunk_decode.h — a stored chunk's filters undone into the caller's buffer, with the
 * guard's size check in the same pass.
 *
 * The guard (io/h5_guard.h) decodes every filtered chunk before the first read, only to count
 * its bytes (io/h5_decoded_size.h: libhdf5 1.10.8 trusts a chunk's size and over-reads a short
 * one), and H5Dread then decodes the same chunk again, on one thread. For the pipelines below
 * the reader instead reads each chunk raw (H5Dread_chunk) and decodes it here, once, in
 * parallel over chunks, straight into the destination (io/h5_reader_decode.c); the guard then
 * leaves the size check to this decode (sgs_h5_guard_dataset_deferring).
 *
 * Pipelines decoded: shuffle (id 2) and deflate (id 1), each at most once, shuffle before
 * deflate (as h5py's shuffle=True, compression="gzip", pandas and `segscore import` write
 * them), or no filter at all; the chunk's filter mask may skip either. The parameters must be
 * those libhdf5 accepts and means: deflate one value of at most 9 (else libhdf5 fails the
 * read: "invalid deflate aggression level"), shuffle one value equal to the element size
 * (libhdf5 un-shuffles by its parameter, whatever the type says). Anything else (Fletcher-32,
 * szip, n-bit, scale-offset, plugins, other orders or parameters) is not decoded here: the
 * caller lets libhdf5 read it as before.
 *
 * The bytes written are those libhdf5's own filters give (H5Z__filter_deflate: inflate to
 * the end of the stream, Z_SYNC_FLUSH, anything after the end ignored; H5Z__filter_shuffle:
 * byte i of element j from position i x elements + j). The result is the one
 * sgs_h5_decoded_size gives for the same chunk and pipeline with cap = want, so that the
 * guard's refusals (io/h5_guard.h) are unchanged: a stream that ends short, runs long or
 * breaks is the same finding with the same numbers.
 *
 * Thread-safety: pure functions of their arguments (zlib's state is local); no HDF5 call but
 * sgs_h5_chunk_pipeline_get's.
 */
#ifndef SGS_H5_CHUNK_DECODE_H
#define SGS_H5_CHUNK_DECODE_H

#include "io/h5_decoded_size.h"

#include <hdf5.h>
#include <stddef.h>

/* Chunks above this many bytes (chunk elements x element size) are left to libhdf5: the
 * decode needs two buffers of a chunk per thread, and a declared chunk shape is not bounded
 * by the data (a 10-row dataset may declare chunks of a billion rows). */
#define SGS_H5_CHUNK_DECODE_MAX_BYTES ((size_t)64 << 20)

/* A pipeline this module decodes. */
typedef struct sgs_h5_chunk_pipeline {
    int n;            /* filters in the pipeline: 0, 1 or 2 */
    int shuffle_at;   /* position of the shuffle filter, -1 when there is none */
    int deflate_at;   /* position of the deflate filter, -1 when none; > shuffle_at */
    size_t elem_size; /* bytes per element in the file: the shuffle's unit */
} sgs_h5_chunk_pipeline_t;

/* The pipeline of the dataset creation list `dcpl` for elements of `elem_size` bytes into *p.
 * @return 1 when this module decodes it (above), 0 when not (or when it cannot be read; the
 * HDF5 error stack is then cleared). */
int sgs_h5_chunk_pipeline_get(hid_t dcpl, size_t elem_size, sgs_h5_chunk_pipeline_t *p);

/* Undo, into out, the filters of p that `mask` (the chunk's filter mask: bit i set, filter i
 * was skipped) leaves applied to the stored chunk raw[0..n_raw). out and tmp hold `want`
 * bytes each (the chunk's elements x element size) and overlap neither raw nor each other;
 * tmp is used when both filters were applied. *n_out gets the decoded size when the result is
 * SGS_H5_DECODED_OK: out holds the decoded chunk when *n_out == want; when it is shorter the
 * chunk is damaged and out's content is unspecified. SGS_H5_DECODED_TOO_BIG: it decodes to
 * more than want (decoding stopped there); SGS_H5_DECODED_BROKEN: a deflate stream that does
 * not end or does not decode; SGS_H5_DECODED_NOMEM: zlib could not allocate its state.
 * Chunks with no filter applied are copied when n_raw == want (a size the caller checks
 * against the chunk index; other sizes are not copied and give their size or TOO_BIG). */
sgs_h5_decoded_t sgs_h5_chunk_decode(const sgs_h5_chunk_pipeline_t *p, unsigned mask,
                                     const void *raw, size_t n_raw, void *out, size_t want,
                                     void *tmp, size_t *n_out);

/* Reverse HDF5's shuffle: n elements of `size` bytes, byte b of element j taken from
 * in[b * n + j]. in and out do not overlap. */
void sgs_h5_unshuffle(const void *in, size_t n, size_t size, void *out);

#endif
