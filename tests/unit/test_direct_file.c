/*
 * tests/unit/test_direct_file.c — outputs written past the page cache (io/direct_file.h)
 * hold the bytes written, whether the file system takes O_DIRECT or not: pieces at unaligned
 * offsets and of unaligned lengths, appends through a small staging buffer, results.h5's
 * columns written at their address in the file (io/h5_columns.c), a file system that refuses
 * a direct write, a full device (also under a write in flight), a folder that is not there and
 * no memory.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/direct_file.h"
#include "io/h5_columns.h"
#include "kernels/core.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("direct_file", dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_direct_io_enable(1);
    sgs_test_rmdir(dir);
    return 0;
}

/* Whether the file system of folder d takes O_DIRECT (ext4 does, tmpfs does not). */
static int takes_direct(const char *d)
{
    char probe[300];
    snprintf(probe, sizeof probe, "%s/probe", d);
    int fd = open(probe, O_WRONLY | O_CREAT | O_DIRECT, 0644);
    if (fd >= 0)
        close(fd);
    unlink(probe);
    return fd >= 0;
}

static unsigned char *random_bytes(size_t n, uint64_t seed)
{
    unsigned char *b = malloc(n ? n : 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)sgs_test_next(&seed);
    return b;
}

/* At least n bytes starting at a page boundary (free() them). */
static unsigned char *page_memory(size_t n)
{
    unsigned char *m = aligned_alloc(4096, (n + 4095) / 4096 * 4096);
    assert_non_null(m);
    return m;
}

static void assert_file_holds(const char *path, const unsigned char *want, size_t n)
{
    size_t size = 0;
    char *got = sgs_test_read_file(path, &size);
    assert_non_null(got);
    assert_int_equal(size, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)got[i] != want[i])
            fail_msg("%s: byte %zu is %u, written %u", path, i, (unsigned char)got[i], want[i]);
    free(got);
}

/* Pieces cutting [0, N) at offsets on, before and after block boundaries, written out of order
 * (the head and tail pieces through the cache, the middles direct): the file holds every byte
 * once the last is written, direct or not. */
static void test_pieces_out_of_order(void **state)
{
    (void)state;
    const size_t cuts[] = {0,
                           1,
                           4095,
                           4096,
                           4097,
                           8192,
                           12000,
                           65536,
                           65537,
                           1 << 20,
                           (1 << 20) + 4096,
                           (5 << 20) + 3,
                           (9 << 20) + 4095};
    const size_t n_cuts = sizeof cuts / sizeof cuts[0], total = (9 << 20) + 4095 + 17;
    unsigned char *bytes = random_bytes(total, 7);
    for (int direct = 0; direct <= 1; direct++) {
        sgs_direct_io_enable(direct);
        char path[300];
        snprintf(path, sizeof path, "%s/pieces-%d.bin", dir, direct);
        sgs_direct_file_t f;
        sgs_error_t err = {0};
        assert_int_equal(sgs_direct_open(&f, path, 1, 64 << 10, &err), 0);
        assert_int_equal(sgs_direct_is_direct(&f), direct && takes_direct(dir));
        for (size_t k = n_cuts; k-- > 0;) { /* last piece first */
            size_t lo = cuts[k], hi = k + 1 < n_cuts ? cuts[k + 1] : total;
            assert_int_equal(sgs_direct_write_at(&f, lo, bytes + lo, hi - lo, &err), 0);
        }
        assert_int_equal(sgs_direct_close(&f, 0, &err), 0);
        assert_file_holds(path, bytes, total);
    }
    free(bytes);
}

/* Appends of random sizes, from nothing to several staging buffers at once, through a buffer
 * of 8 KiB: the file is their concatenation; an empty file when nothing is appended. */
static void test_appends(void **state)
{
    (void)state;
    const size_t total = (3 << 20) + 1234;
    unsigned char *bytes = random_bytes(total, 11);
    uint64_t rng = 5;
    for (int direct = 0; direct <= 1; direct++) {
        sgs_direct_io_enable(direct);
        char path[300];
        snprintf(path, sizeof path, "%s/appends-%d.bin", dir, direct);
        sgs_direct_file_t f;
        sgs_error_t err = {0};
        assert_int_equal(sgs_direct_open(&f, path, 1, 8192, &err), 0);
        for (size_t at = 0; at < total;) {
            size_t len = (size_t)(sgs_test_next(&rng) % 40000);
            len = len > total - at ? total - at : len;
            assert_int_equal(sgs_direct_append(&f, bytes + at, len, &err), 0);
            at += len;
        }
        assert_int_equal(sgs_direct_close(&f, 0, &err), 0);
        assert_file_holds(path, bytes, total);

        snprintf(path, sizeof path, "%s/empty-%d.bin", dir, direct);
        assert_int_equal(sgs_direct_open(&f, path, 1, 8192, &err), 0);
        assert_int_equal(sgs_direct_close(&f, 0, &err), 0);
        assert_file_holds(path, bytes, 0);
    }
    free(bytes);
}

/* A caller's failure before the close: what was staged is not written, the failure kept. */
static void test_close_keeps_the_callers_failure(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/abandoned.bin", dir);
    sgs_direct_file_t f;
    sgs_error_t err = {0};
    assert_int_equal(sgs_direct_open(&f, path, 1, 8192, &err), 0);
    assert_int_equal(sgs_direct_append(&f, "abc", 3, &err), 0);
    assert_int_equal(sgs_direct_close(&f, SGS_EDATA, &err), SGS_EDATA);
    assert_file_holds(path, (const unsigned char *)"", 0);
}

/* A file system that refuses a direct write (EINVAL: another alignment wanted) in the middle
 * of a file: that write and every later one go through the page cache, the bytes the same. */
static void test_refused_in_the_middle(void **state)
{
    (void)state;
    if (!takes_direct(dir))
        skip(); /* no direct writes here to refuse */
    const size_t total = (1 << 20) + 77;
    unsigned char *bytes = random_bytes(total, 3);
    /* memory one byte off the file's blocks, so that the bytes go through the staging buffer
     * in many writes (an allocator may hand out page-aligned memory, which goes in one) */
    unsigned char *memory = page_memory(total + 1);
    unsigned char *p = memory + 1;
    memcpy(p, bytes, total);
    for (long at = 1; at <= 3; at++) {
        char path[300];
        snprintf(path, sizeof path, "%s/refused-%ld.bin", dir, at);
        sgs_direct_file_t f;
        sgs_error_t err = {0};
        assert_int_equal(sgs_direct_open(&f, path, 1, 16384, &err), 0);
        assert_true(sgs_direct_is_direct(&f));
        sgs_test_direct_refuse_at(at);
        assert_int_equal(sgs_direct_write_at(&f, 100, p + 100, total / 2, &err), 0);
        assert_false(sgs_direct_is_direct(&f));
        assert_int_equal(sgs_direct_write_at(&f, 100 + total / 2, p + 100 + total / 2,
                                             total - 100 - total / 2, &err),
                         0);
        assert_int_equal(sgs_direct_write_at(&f, 0, p, 100, &err), 0);
        assert_int_equal(sgs_direct_close(&f, 0, &err), 0);
        sgs_test_direct_refuse_at(0);
        assert_file_holds(path, bytes, total);
    }
    free(memory);
    free(bytes);
}

/* Bytes whose memory lies as the file's blocks do go direct straight from it: one direct write
 * for a megabyte through a 64 KiB buffer (a refusal armed for the second never comes), the
 * file the same as when they are copied through the buffer (memory one byte off). */
static void test_aligned_memory_without_a_copy(void **state)
{
    (void)state;
    if (!takes_direct(dir))
        skip();
    const size_t total = (1 << 20) + 8192;
    unsigned char *memory = page_memory(total + 1);
    unsigned char *bytes = random_bytes(total, 17);
    for (int off_by_one = 0; off_by_one <= 1; off_by_one++) {
        unsigned char *p = memory + off_by_one;
        memcpy(p, bytes, total);
        char path[300];
        snprintf(path, sizeof path, "%s/aligned-%d.bin", dir, off_by_one);
        sgs_direct_file_t f;
        sgs_error_t err = {0};
        assert_int_equal(sgs_direct_open(&f, path, 1, 64 << 10, &err), 0);
        sgs_test_direct_refuse_at(2);
        /* from 100 on: a cached head of 3,996 bytes, then the middle */
        assert_int_equal(sgs_direct_write_at(&f, 100, p + 100, total - 100, &err), 0);
        assert_int_equal(sgs_direct_is_direct(&f), !off_by_one);
        assert_int_equal(sgs_direct_write_at(&f, 0, p, 100, &err), 0);
        assert_int_equal(sgs_direct_close(&f, 0, &err), 0);
        sgs_test_direct_refuse_at(0);
        assert_file_holds(path, bytes, total);
    }
    free(bytes);
    free(memory);
}

/* A full device: the write fails with "no space left", naming the file, by either way. */
static void test_full_device(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    unsigned char *bytes = random_bytes(3 << 16, 1);
    sgs_direct_file_t f;
    sgs_error_t err = {0};
    assert_int_equal(sgs_direct_open(&f, "/dev/full", 0, 8192, &err), 0);
    assert_int_equal(sgs_direct_write_at(&f, 0, bytes, 3 << 16, &err), SGS_ENOSPACE);
    assert_non_null(strstr(err.message, "/dev/full: no space left on device"));
    assert_int_equal(sgs_direct_close(&f, err.code, &err), SGS_ENOSPACE);

    memset(&err, 0, sizeof err);
    assert_int_equal(sgs_direct_open(&f, "/dev/full", 0, 8192, &err), 0);
    assert_int_equal(sgs_direct_append(&f, bytes, 100, &err), 0); /* staged only */
    assert_int_equal(sgs_direct_close(&f, 0, &err), SGS_ENOSPACE);
    assert_non_null(strstr(err.message, "/dev/full: no space left on device"));
    free(bytes);
}

/* Full buffers are written while the next fill, SGS_DIRECT_WRITES at once: a failed write is
 * reported by the append that hands a buffer to its slot again (which waits for it), naming the
 * file, and the close keeps it. */
static void test_failure_of_a_write_in_flight(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    const size_t stage = 8192, piece = 1000;
    unsigned char *bytes = random_bytes(8 * stage, 2);
    sgs_direct_file_t f;
    sgs_error_t err = {0};
    assert_int_equal(sgs_direct_open(&f, "/dev/full", 0, stage, &err), 0);
    int rc = SGS_OK;
    size_t at = 0;
    for (; rc == SGS_OK && at < 8 * stage; at += piece)
        rc = sgs_direct_append(&f, bytes + at, piece, &err);
    assert_int_equal(rc, SGS_ENOSPACE);
    const size_t reused = (SGS_DIRECT_WRITES + 1) * stage; /* the first slot's second buffer */
    assert_true(at > reused && at - piece < reused);
    assert_non_null(strstr(err.message, "/dev/full: no space left on device"));
    memset(&err, 0, sizeof err);
    assert_int_equal(sgs_direct_close(&f, rc, &err), SGS_ENOSPACE);
    free(bytes);
}

/* Without memory for another buffer the full one is written at once: the same file. */
static void test_appends_without_a_second_buffer(void **state)
{
    (void)state;
    const size_t total = (1 << 20) + 99;
    unsigned char *bytes = random_bytes(total, 13);
    char path[300];
    snprintf(path, sizeof path, "%s/one-buffer.bin", dir);
    sgs_direct_file_t f;
    sgs_error_t err = {0};
    assert_int_equal(sgs_direct_open(&f, path, 1, 8192, &err), 0);
    sgs_test_fail_alloc_after(0);
    for (size_t at = 0; at < total; at += 3000)
        assert_int_equal(
            sgs_direct_append(&f, bytes + at, total - at < 3000 ? total - at : 3000, &err), 0);
    sgs_test_fail_alloc_after(-1);
    for (int k = 0; k < SGS_DIRECT_WRITES; k++)
        assert_null(f.slot[k].bytes);
    assert_int_equal(sgs_direct_close(&f, 0, &err), 0);
    assert_file_holds(path, bytes, total);
    free(bytes);
}

static void test_cannot_open(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/no-such-folder/out.csv", dir);
    sgs_direct_file_t f;
    sgs_error_t err = {0};
    assert_int_equal(sgs_direct_open(&f, path, 1, 8192, &err), SGS_ECANTCREAT);
    assert_non_null(strstr(err.message, path));
    assert_int_equal(sgs_direct_close(&f, err.code, NULL), SGS_ECANTCREAT); /* harmless */

    sgs_test_fail_alloc_after(0);
    snprintf(path, sizeof path, "%s/no-memory.csv", dir);
    memset(&err, 0, sizeof err);
    int rc = sgs_direct_open(&f, path, 1, 8192, &err);
    sgs_test_fail_alloc_after(-1);
    assert_int_equal(rc, SGS_ENOMEM);
    assert_int_equal(access(path, F_OK), -1); /* nothing made */
}

/* results.h5's uncompressed columns are written at their address in the file, past HDF5:
 * what HDF5 reads back is what was written, for lengths around the block size, every type,
 * a column stored in another type than in memory (HDF5 converts it: written through HDF5),
 * and empty columns; the same with direct writes off. */
/* Memory for n elements of `size` bytes, page-aligned when `aligned`. */
static void *column_memory(size_t n, size_t size, int aligned)
{
    size_t bytes = (n + 1) * size;
    void *m = aligned ? page_memory(bytes) : malloc(bytes);
    assert_non_null(m);
    return m;
}

static void test_h5_columns(void **state)
{
    (void)state;
    const size_t lengths[] = {0, 1, 511, 512, 513, 4097, 200001};
    const size_t n_lengths = sizeof lengths / sizeof lengths[0];
    /* aligned: an output file (large datasets at multiples of 4 KiB) and page-aligned
     * memory, which direct writes take without a copy */
    for (int run = 0; run < 4; run++) {
        int direct = run & 1, aligned = run >> 1;
        sgs_direct_io_enable(direct);
        char path[300];
        snprintf(path, sizeof path, "%s/columns-%d.h5", dir, run);
        hid_t file = aligned ? sgs_h5_open_output(path, 1)
                             : H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(file >= 0);
        uint64_t rng = 99;
        double *d[8];
        int32_t *i32[8];
        int64_t *i64[8];
        uint8_t *u8[8];
        sgs_error_t err = {0};
        for (size_t k = 0; k < n_lengths; k++) {
            size_t n = lengths[k];
            d[k] = column_memory(n, sizeof(double), aligned);
            i32[k] = column_memory(n, sizeof(int32_t), aligned);
            i64[k] = column_memory(n, sizeof(int64_t), aligned);
            u8[k] = column_memory(n, 1, aligned);
            for (size_t i = 0; i < n; i++) {
                d[k][i] = sgs_test_uniform(&rng) * 1e6 - 5e5;
                i32[k][i] = (int32_t)sgs_test_next(&rng);
                i64[k][i] = (int64_t)(int32_t)sgs_test_next(&rng); /* fits the int32 column */
                u8[k][i] = (uint8_t)sgs_test_next(&rng);
            }
            char name[64];
            snprintf(name, sizeof name, "/d/%zu", k);
            assert_int_equal(sgs_h5_write_column(file, name, SGS_H5_F64, d[k], n, 0, &err), 0);
            snprintf(name, sizeof name, "/i32/%zu", k);
            assert_int_equal(sgs_h5_write_column(file, name, SGS_H5_I32, i32[k], n, 0, &err), 0);
            snprintf(name, sizeof name, "/as_i32/%zu", k);
            assert_int_equal(
                sgs_h5_write_column_as(file, name, SGS_H5_I32, SGS_H5_I64, i64[k], n, 0, &err), 0);
            snprintf(name, sizeof name, "/u8/%zu", k);
            assert_int_equal(sgs_h5_write_column(file, name, SGS_H5_U8, u8[k], n, 0, &err), 0);
        }
        assert_true(H5Fclose(file) >= 0);

        file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true(file >= 0);
        for (size_t k = 0; k < n_lengths; k++) {
            size_t n = lengths[k], got_n;
            char name[64];
            snprintf(name, sizeof name, "/d/%zu", k);
            if (aligned && n * sizeof(double) >= (1 << 20)) {
                hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
                assert_int_equal(H5Dget_offset(dset) % 4096, 0);
                H5Dclose(dset);
            }
            double *gd = sgs_test_column(file, name, SGS_H5_F64, &got_n);
            assert_int_equal(got_n, n);
            if (n)
                assert_memory_equal(gd, d[k], n * sizeof(double));
            snprintf(name, sizeof name, "/i32/%zu", k);
            int32_t *gi = sgs_test_column(file, name, SGS_H5_I32, &got_n);
            assert_int_equal(got_n, n);
            if (n)
                assert_memory_equal(gi, i32[k], n * sizeof(int32_t));
            snprintf(name, sizeof name, "/as_i32/%zu", k);
            int64_t *gl = sgs_test_column(file, name, SGS_H5_I64, &got_n);
            assert_int_equal(got_n, n);
            if (n)
                assert_memory_equal(gl, i64[k], n * sizeof(int64_t));
            snprintf(name, sizeof name, "/u8/%zu", k);
            uint8_t *gu = sgs_test_column(file, name, SGS_H5_U8, &got_n);
            assert_int_equal(got_n, n);
            if (n)
                assert_memory_equal(gu, u8[k], n);
            sgs_free(gd);
            sgs_free(gi);
            sgs_free(gl);
            sgs_free(gu);
            free(d[k]);
            free(i32[k]);
            free(i64[k]);
            free(u8[k]);
        }
        assert_true(H5Fclose(file) >= 0);
    }
}

int main(void)
{
    sgs_h5_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_out_of_order),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_close_keeps_the_callers_failure),
        cmocka_unit_test(test_refused_in_the_middle),
        cmocka_unit_test(test_aligned_memory_without_a_copy),
        cmocka_unit_test(test_full_device),
        cmocka_unit_test(test_failure_of_a_write_in_flight),
        cmocka_unit_test(test_appends_without_a_second_buffer),
        cmocka_unit_test(test_cannot_open),
        cmocka_unit_test(test_h5_columns),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
