/*
 * io/h5_convert.h — elements of a file's type converted to a column's memory type, bit for bit
 * as libhdf5 1.10.8's H5Dread converts them, for the types the reader decodes itself
 * (io/h5_reader_decode.c, io/h5_chunk_decode.h).
 *
 * Handled (anything else is left to H5Dread, sgs_h5_conv_plan says 0):
 * - integers: HDF5's standard types (8, 16, 32 or 64 bits, signed or not, little- or
 *   big-endian, no padding) into int64, int32, uint8 or int8. A value that fits is the same
 *   value, which is what libhdf5's conversions give (hard ones between native types, soft
 *   H5T__conv_i_i otherwise). A value that does not fit is not converted: the caller lets
 *   H5Dread read the column, whose range check (a conversion callback) and saturation are
 *   libhdf5's. So is a quirk of libhdf5 1.10.8 kept: between integers of one size and opposite
 *   byte orders it only swaps the bytes (H5T__conv_order), whatever the signs, without a range
 *   exception (a big-endian uint64 above INT64_MAX reads as a negative int64, a big-endian
 *   int8 -1 as uint8 255); such a value is out of range here, so H5Dread reads it, as before.
 * - floats into float64: float64 of the machine's order (copied); float64 of the other order
 *   (libhdf5 swaps the bytes, H5T__conv_order: every value, NaN payloads too, checked on 134
 *   million values of every class); float32 of the machine's order (libhdf5's hard
 *   conversion is the C cast; checked on all 2^32 values); float32 of the other order
 *   (libhdf5's soft conversion H5T__conv_f_f: the C cast for every value but NaN, which it
 *   writes as the sign with every exponent and mantissa bit set, 0x7fffffffffffffff or
 *   0xffffffffffffffff; checked on all 2^32 values). Other float layouts (custom fields,
 *   VAX order) are left to H5Dread.
 * tests/unit/test_h5_decode.c compares every case with H5Dread on written files.
 *
 * Thread-safety: sgs_h5_convert is a pure function; sgs_h5_conv_plan calls HDF5.
 */
#ifndef SGS_H5_CONVERT_H
#define SGS_H5_CONVERT_H

#include "io/h5_columns.h"

#include <hdf5.h>
#include <stddef.h>

typedef enum sgs_h5_conv_kind {
    SGS_H5_CONV_COPY,     /* the file's bytes are the memory's */
    SGS_H5_CONV_INT,      /* integer to integer: the value, range-checked */
    SGS_H5_CONV_F64_SWAP, /* float64 of the other byte order: bytes swapped */
    SGS_H5_CONV_F32,      /* float32 of the machine's order to double: the C cast */
    SGS_H5_CONV_F32_SWAP  /* float32 of the other order: swapped, cast, NaN as libhdf5 writes it */
} sgs_h5_conv_kind_t;

/* How one file type becomes one memory type. */
typedef struct sgs_h5_conv {
    sgs_h5_conv_kind_t kind;
    size_t src_size;   /* bytes per element in the file, 1..8 */
    int src_signed;    /* integers: the file's type is signed */
    int src_swapped;   /* the file's byte order is not the machine's */
    sgs_h5_type_t dst; /* the memory type */
} sgs_h5_conv_t;

/* The conversion of elements of the file type `file_type` into `mem`, into *c.
 * @return 1 when sgs_h5_convert does it as H5Dread would (above), 0 when H5Dread must. */
int sgs_h5_conv_plan(hid_t file_type, sgs_h5_type_t mem, sgs_h5_conv_t *c);

/* Convert n elements from src (file type, packed) into dst (memory type, packed; no overlap).
 * @return n, or the index of the first integer that does not fit the memory type (the
 * elements before it are converted; the rest of dst is unspecified). */
size_t sgs_h5_convert(const sgs_h5_conv_t *c, const void *src, size_t n, void *dst);

#endif
