/*
 * tests/unit/test_h5_decoded_size.c — the decoded size of a stored chunk
 * (io/h5_decoded_size.h): the filters it models, in the orders h5py and HDF5 write them, the
 * chunk's filter mask, the cap that stops a decompression bomb, broken streams, and what it
 * leaves to libhdf5 (unknown).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_decoded_size.h"
#include "tests/support/test_support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define D H5Z_FILTER_DEFLATE
#define S H5Z_FILTER_SHUFFLE
#define F H5Z_FILTER_FLETCHER32

static unsigned char data[4000];

/* data[0..n) deflated, then `tail` bytes appended (a checksum's place). */
static unsigned char *deflated(size_t n, size_t tail, size_t *n_out)
{
    uLongf bound = compressBound((uLong)n);
    unsigned char *z = calloc(bound + tail, 1);
    assert_non_null(z);
    assert_int_equal(compress2(z, &bound, data, (uLong)n, 6), Z_OK);
    *n_out = bound + tail;
    return z;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 % 251);
    return 0;
}

static void test_no_filter_applied_is_the_stored_size(void **state)
{
    (void)state;
    size_t n = 0;
    assert_int_equal(sgs_h5_decoded_size(NULL, 0, 0, data, 40, 40, &n), SGS_H5_DECODED_OK);
    sgs_assert_cmp(n, ==, 40);
    /* every filter skipped by the mask: the raw size, whatever the filters */
    const H5Z_filter_t ids[] = {S, D};
    assert_int_equal(sgs_h5_decoded_size(ids, 2, 3u, data, 13, 40, &n), SGS_H5_DECODED_OK);
    sgs_assert_cmp(n, ==, 13);
    /* more than the cap, stored raw */
    assert_int_equal(sgs_h5_decoded_size(ids, 2, 3u, data, 41, 40, &n), SGS_H5_DECODED_TOO_BIG);
}

static void test_deflate_counts_what_it_inflates(void **state)
{
    (void)state;
    const H5Z_filter_t deflate[] = {D}, shuffle_deflate[] = {S, D};
    size_t n_z, n = 0;
    unsigned char *z = deflated(3000, 0, &n_z);
    assert_int_equal(sgs_h5_decoded_size(deflate, 1, 0, z, n_z, 4000, &n), SGS_H5_DECODED_OK);
    sgs_assert_cmp(n, ==, 3000);
    assert_int_equal(sgs_h5_decoded_size(shuffle_deflate, 2, 0, z, n_z, 4000, &n),
                     SGS_H5_DECODED_OK);
    sgs_assert_cmp(n, ==, 3000);
    /* deflate skipped by the mask: the stored bytes are the data */
    assert_int_equal(sgs_h5_decoded_size(shuffle_deflate, 2, 2u, z, n_z, 4000, &n),
                     SGS_H5_DECODED_OK);
    sgs_assert_cmp(n, ==, n_z);
    free(z);
}

/* A decompression bomb stops at the cap, past several output windows. */
static void test_deflate_stops_past_the_cap(void **state)
{
    (void)state;
    size_t big = (size_t)1 << 22, n_z = compressBound((uLong)big), n = 0;
    unsigned char *zeros = calloc(big, 1), *z = malloc(n_z);
    assert_non_null(zeros);
    assert_non_null(z);
    uLongf len = n_z;
    assert_int_equal(compress2(z, &len, zeros, (uLong)big, 9), Z_OK);
    const H5Z_filter_t deflate[] = {D};
    assert_int_equal(sgs_h5_decoded_size(deflate, 1, 0, z, len, 40, &n), SGS_H5_DECODED_TOO_BIG);
    assert_int_equal(sgs_h5_decoded_size(deflate, 1, 0, z, len, big, &n), SGS_H5_DECODED_OK);
    sgs_assert_cmp(n, ==, big);
    free(zeros);
    free(z);
}

static void test_broken_streams(void **state)
{
    (void)state;
    const H5Z_filter_t deflate[] = {D}, checksum[] = {F};
    size_t n_z, n = 0;
    unsigned char *z = deflated(1000, 0, &n_z);
    /* cut short: the stream never ends */
    assert_int_equal(sgs_h5_decoded_size(deflate, 1, 0, z, n_z / 2, 4000, &n),
                     SGS_H5_DECODED_BROKEN);
    memset(z, 0xA5, n_z); /* garbage */
    assert_int_equal(sgs_h5_decoded_size(deflate, 1, 0, z, n_z, 4000, &n), SGS_H5_DECODED_BROKEN);
    assert_int_equal(sgs_h5_decoded_size(checksum, 1, 0, z, 3, 4000, &n), SGS_H5_DECODED_BROKEN);
    free(z);
}

/* Inflating into a buffer (the reader's decode: libdeflate, zlib when that fails) gives the
 * outcome and the size of only counting (zlib alone), and the data's bytes when it is OK. */
static void expect_inflate(const unsigned char *z, size_t n_z, size_t cap, sgs_h5_decoded_t want,
                           size_t want_n)
{
    unsigned char *out = calloc(cap ? cap : 1, 1);
    assert_non_null(out);
    size_t n = 0, counted = 0;
    assert_int_equal(sgs_h5_inflate(z, n_z, out, cap, &n), want);
    assert_int_equal(sgs_h5_inflate(z, n_z, NULL, cap, &counted), want);
    if (want == SGS_H5_DECODED_OK) {
        sgs_assert_cmp(n, ==, want_n);
        sgs_assert_cmp(counted, ==, want_n);
        assert_memory_equal(out, data, want_n);
    }
    free(out);
}

static void test_inflate_into_a_buffer(void **state)
{
    (void)state;
    size_t n_z;
    unsigned char *z = deflated(3000, 4, &n_z);              /* 4 bytes after the stream: ignored */
    expect_inflate(z, n_z, 3000, SGS_H5_DECODED_OK, 3000);   /* exactly the room */
    expect_inflate(z, n_z, 4000, SGS_H5_DECODED_OK, 3000);   /* room to spare */
    expect_inflate(z, n_z, 2999, SGS_H5_DECODED_TOO_BIG, 0); /* a byte short */
    expect_inflate(z, n_z - 4 - 7, 4000, SGS_H5_DECODED_BROKEN, 0); /* cut short */
    z[n_z - 5] ^= 0x01; /* the stream's Adler-32 no longer matches its data */
    expect_inflate(z, n_z, 4000, SGS_H5_DECODED_BROKEN, 0);
    free(z);

    /* no room at all: a stream of nothing fits, one byte does not */
    z = deflated(0, 0, &n_z);
    expect_inflate(z, n_z, 0, SGS_H5_DECODED_OK, 0);
    free(z);
    z = deflated(1, 0, &n_z);
    expect_inflate(z, n_z, 0, SGS_H5_DECODED_TOO_BIG, 0);
    free(z);

    /* a stream that needs a preset dictionary (FDICT in its header): zlib stops at
       Z_NEED_DICT, libdeflate refuses the header; broken either way */
    unsigned char dz[256];
    z_stream s;
    memset(&s, 0, sizeof s);
    assert_int_equal(deflateInit(&s, 6), Z_OK);
    assert_int_equal(deflateSetDictionary(&s, data, 64), Z_OK);
    s.next_in = data;
    s.avail_in = 64;
    s.next_out = dz;
    s.avail_out = sizeof dz;
    assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
    size_t n_dz = s.total_out;
    assert_int_equal(deflateEnd(&s), Z_OK);
    assert_true(dz[1] & 0x20); /* FDICT */
    expect_inflate(dz, n_dz, 4000, SGS_H5_DECODED_BROKEN, 0);
}

/* Fletcher-32 takes 4 bytes off wherever it sits: after deflate in the pipeline (h5py's
 * order: the checksum of the compressed bytes, stripped before inflating) or before it (the
 * checksum inside the compressed data, stripped after). */
static void test_checksums_in_either_order(void **state)
{
    (void)state;
    const H5Z_filter_t h5py[] = {S, D, F}, inside[] = {F, D};
    size_t n_z, n = 0;
    unsigned char *z = deflated(40, 4, &n_z);
    assert_int_equal(sgs_h5_decoded_size(h5py, 3, 0, z, n_z, 40, &n), SGS_H5_DECODED_OK);
    sgs_assert_cmp(n, ==, 40);
    free(z);
    z = deflated(44, 0, &n_z); /* 40 bytes of data and their checksum, compressed */
    assert_int_equal(sgs_h5_decoded_size(inside, 2, 0, z, n_z, 40, &n), SGS_H5_DECODED_OK);
    sgs_assert_cmp(n, ==, 40);
    /* the checksum skipped by the mask: 44 bytes, more than the 40 the chunk needs */
    assert_int_equal(sgs_h5_decoded_size(inside, 2, 1u, z, n_z, 40, &n), SGS_H5_DECODED_TOO_BIG);
    free(z);
}

static void test_what_is_left_to_libhdf5(void **state)
{
    (void)state;
    const H5Z_filter_t szip[] = {H5Z_FILTER_SZIP}, shuffle_then_deflate_on_read[] = {D, S},
                       twice[] = {D, D}, nbit_deflate[] = {H5Z_FILTER_NBIT, D};
    size_t n = 0;
    assert_int_equal(sgs_h5_decoded_size(szip, 1, 0, data, 40, 40, &n), SGS_H5_DECODED_UNKNOWN);
    assert_int_equal(sgs_h5_decoded_size(shuffle_then_deflate_on_read, 2, 0, data, 40, 40, &n),
                     SGS_H5_DECODED_UNKNOWN);
    assert_int_equal(sgs_h5_decoded_size(nbit_deflate, 2, 0, data, 40, 40, &n),
                     SGS_H5_DECODED_UNKNOWN);
    /* two deflates: the inner stream is not at hand (the outer one is dropped) */
    size_t n_z;
    unsigned char *z = deflated(40, 0, &n_z);
    assert_int_equal(sgs_h5_decoded_size(twice, 2, 0, z, n_z, 400, &n), SGS_H5_DECODED_UNKNOWN);
    /* ... unless the mask skips one of them */
    assert_int_equal(sgs_h5_decoded_size(twice, 2, 1u, z, n_z, 400, &n), SGS_H5_DECODED_OK);
    sgs_assert_cmp(n, ==, 40);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_filter_applied_is_the_stored_size),
        cmocka_unit_test(test_deflate_counts_what_it_inflates),
        cmocka_unit_test(test_deflate_stops_past_the_cap),
        cmocka_unit_test(test_broken_streams),
        cmocka_unit_test(test_inflate_into_a_buffer),
        cmocka_unit_test(test_checksums_in_either_order),
        cmocka_unit_test(test_what_is_left_to_libhdf5),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
