/*
 * tests/e2e/test_hostile_input.c — hostile and broken HDF5 inputs are refused up front
 * (io/h5_guard.h, docs/input.md "Input validation rules"): external links, soft links out of the
 * file, virtual datasets, external storage, a 65,544-byte integer type and a wrong class on
 * a column, chunks never written, contiguous data past the end of the file, a truncated
 * file, filters this libhdf5 lacks, a corrupt compressed chunk (of /transactions, and of /events
 * as segscore generate writes it), chunks that decode to another
 * size than their shape's, and an input locked by its writer.
 *
 * Every file is crafted here with the HDF5 C API. For each: `segscore run` exits 65 (75 for
 * a locked input) with a message naming the file and the dataset or cause; `segscore
 * inspect` refuses the file too; and the results set of an earlier good run into the same
 * output is byte-identical afterwards (the output links and the state folder of
 * docs/publishing.md, all but the lock's pid), with no file added or removed and no
 * temporary left behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define T0 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */
#define N 10                   /* rows of the crafted tables */
#define WIDE_BYTES 65544       /* the fuzzed channel type of issue 13, item 5 */
#define DUMMY_FILTER 65000     /* a private filter id segscore's libhdf5 does not have */

static char dir[256], good[512], out_dir[512], results[600];

/* ---- The results set of a good run ----------------------------------------------------- */

static sgs_test_snapshot_t before;

/* The output folder holds exactly the good run's entries, byte for byte (all but the lock's
 * pid), and nothing a run leaves behind. */
static void assert_results_unchanged(void)
{
    sgs_test_assert_snapshot_unchanged(out_dir, &before);
}

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    unsetenv("HDF5_USE_FILE_LOCKING");
    sgs_test_tmpdir("e2e-hostile", dir, sizeof dir);
    snprintf(good, sizeof good, "%s/good.h5", dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    snprintf(results, sizeof results, "%s/results.h5", out_dir);
    if (mkdir(out_dir, 0755) != 0)
        return -1;
    char args[2048], out[8192];
    snprintf(args, sizeof args, "generate --customers 300 --seed 7 -o '%s'", good);
    int status = sgs_test_run(args, out, sizeof out);
    if (status == 0) {
        snprintf(args, sizeof args, "run -q -i '%s' -o '%s'", good, results);
        status = sgs_test_run(args, out, sizeof out);
    }
    if (status != 0) {
        print_error("the good run failed (%d): %s\n", status, out);
        return -1;
    }
    sgs_test_snapshot(out_dir, &before);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_snapshot_free(&before);
    sgs_test_rmdir(dir);
    return 0;
}

/* ---- Crafting files ------------------------------------------------------------------- */

static void col(hid_t file, const char *path, sgs_h5_type_t type, const void *data, size_t n)
{
    sgs_error_t err = {0};
    if (sgs_h5_write_column(file, path, type, data, n, 0, &err))
        fail_msg("%s", err.message);
}

static const double amounts[N] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};

/* A fresh file at dir/<name> (path written to `path`) with /transactions/customer_id and
 * /transactions/time of N good rows, open for writing; the caller adds the rest. */
static hid_t base(const char *name, char *path, size_t size, hid_t fapl)
{
    snprintf(path, size, "%s/%s", dir, name);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    sgs_assert_cmp(file, >=, 0);
    int64_t ids[N], times[N];
    for (int i = 0; i < N; i++) {
        ids[i] = 1 + i / 2;
        times[i] = T0 + i * 86400;
    }
    col(file, "/transactions/customer_id", SGS_H5_I64, ids, N);
    col(file, "/transactions/time", SGS_H5_I64, times, N);
    return file;
}

/* A 1-D dataset `path` of n rows of `type` with creation properties dcpl (not written). */
static hid_t dataset(hid_t file, const char *path, hid_t type, hsize_t n, hid_t dcpl)
{
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(file, path, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Sclose(space);
    sgs_assert_cmp(d, >=, 0);
    return d;
}

/* A file holding only a float64 dataset `path` of the good amounts. */
static void amounts_file(const char *path, const char *dset)
{
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(file, >=, 0);
    col(file, dset, SGS_H5_F64, amounts, N);
    H5Fclose(file);
}

/* ---- Running ---------------------------------------------------------------------------- */

/* `run` into the good run's output and `inspect` both refuse `input` with `status`
 * (inspect: 65, or 75 when the run's is 75), naming the input and each of `parts`; the
 * results set is untouched. */
static void expect_refused(const char *input, int status, const char *const *parts, size_t n_parts)
{
    char args[2048], out[16384];
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s'", input, results);
    int got = sgs_test_run(args, out, sizeof out);
    if (got != status)
        fail_msg("run: exit %d, expected %d:\n%s", got, status, out);
    sgs_assert_contains(out, input);
    for (size_t i = 0; i < n_parts; i++)
        sgs_assert_contains(out, parts[i]);
    assert_results_unchanged();

    snprintf(args, sizeof args, "inspect '%s'", input);
    got = sgs_test_run(args, out, sizeof out);
    int expected = status == 75 ? 75 : 65;
    if (got != expected)
        fail_msg("inspect: exit %d, expected %d:\n%s", got, expected, out);
    sgs_assert_contains(out, input);
    for (size_t i = 0; i < n_parts; i++)
        sgs_assert_contains(out, parts[i]);
    if (expected == 65)
        sgs_assert_contains(out, "the file is not usable");
}

/* `inspect` calls the file usable. */
static void expect_usable(const char *input)
{
    char args[2048], out[16384];
    snprintf(args, sizeof args, "inspect '%s'", input);
    int got = sgs_test_run(args, out, sizeof out);
    if (got != 0)
        fail_msg("inspect: exit %d, expected 0:\n%s", got, out);
    sgs_assert_contains(out, "problems: none; the file is usable");
}

#define REFUSED(input, status, ...)                                                                \
    do {                                                                                           \
        static const char *const parts_[] = {__VA_ARGS__};                                         \
        expect_refused((input), (status), parts_, sizeof parts_ / sizeof parts_[0]);               \
    } while (0)

/* ---- Links ------------------------------------------------------------------------------- */

static void test_external_link(void **state)
{
    (void)state;
    char path[600], other[600];
    snprintf(other, sizeof other, "%s/other.h5", dir);
    amounts_file(other, "/amount");
    /* the dataset itself is an external link: if it were followed, the run would succeed */
    hid_t file = base("elink.h5", path, sizeof path, H5P_DEFAULT);
    sgs_assert_cmp(H5Lcreate_external(other, "/amount", file, "/transactions/amount", H5P_DEFAULT,
                                      H5P_DEFAULT),
                   >=, 0);
    H5Fclose(file);
    REFUSED(path, 65, "/transactions/amount: is an external link to ", "other.h5:/amount",
            "segscore reads only data stored in the input file");
    /* the whole /transactions group is an external link */
    char group_file[600];
    snprintf(group_file, sizeof group_file, "%s/group.h5", dir);
    file = base("group.h5", group_file, sizeof group_file, H5P_DEFAULT);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, N);
    H5Fclose(file);
    snprintf(path, sizeof path, "%s/elink_group.h5", dir);
    file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(H5Lcreate_external(group_file, "/transactions", file, "/transactions",
                                      H5P_DEFAULT, H5P_DEFAULT),
                   >=, 0);
    H5Fclose(file);
    REFUSED(path, 65, "/transactions: is an external link to ", "group.h5:/transactions");
    /* a link to a FIFO: opening it would block forever, so nothing may open it, neither the
     * reader (refused) nor inspect's listing (an unread link elsewhere: usable). SIGALRM
     * fails the test instead of hanging it, should it regress. */
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    file = base("elink_fifo.h5", path, sizeof path, H5P_DEFAULT);
    sgs_assert_cmp(
        H5Lcreate_external(fifo, "/amount", file, "/transactions/amount", H5P_DEFAULT, H5P_DEFAULT),
        >=, 0);
    H5Fclose(file);
    alarm(120);
    REFUSED(path, 65, "/transactions/amount: is an external link to ", "fifo:/amount");
    file = base("elink_fifo_other.h5", path, sizeof path, H5P_DEFAULT);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, N);
    sgs_assert_cmp(H5Lcreate_external(fifo, "/x", file, "/elsewhere", H5P_DEFAULT, H5P_DEFAULT), >=,
                   0);
    sgs_assert_cmp(
        H5Lcreate_soft("/elsewhere/y", file, "/soft_elsewhere", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    H5Fclose(file);
    expect_usable(path);
    alarm(0);
}

static void test_soft_link_out_of_the_file(void **state)
{
    (void)state;
    char path[600], other[600];
    snprintf(other, sizeof other, "%s/other2.h5", dir);
    amounts_file(other, "/amount");
    /* /transactions/amount -> /ext/amount, and /ext is an external link to other2.h5:/ */
    hid_t file = base("softout.h5", path, sizeof path, H5P_DEFAULT);
    sgs_assert_cmp(H5Lcreate_external(other, "/", file, "/ext", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    sgs_assert_cmp(
        H5Lcreate_soft("/ext/amount", file, "/transactions/amount", H5P_DEFAULT, H5P_DEFAULT), >=,
        0);
    H5Fclose(file);
    REFUSED(path, 65,
            "/transactions/amount: is a soft link to /ext/amount, and /ext is an "
            "external link to ",
            "other2.h5:/: it leaves the file");
    /* soft links that stay inside the file are fine, also a chain of them */
    file = base("softin.h5", path, sizeof path, H5P_DEFAULT);
    col(file, "/data/amount", SGS_H5_F64, amounts, N);
    sgs_assert_cmp(H5Lcreate_soft("/data", file, "/alias", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    sgs_assert_cmp(
        H5Lcreate_soft("/alias/amount", file, "/transactions/amount", H5P_DEFAULT, H5P_DEFAULT), >=,
        0);
    H5Fclose(file);
    expect_usable(path);
    /* a loop of soft links is refused, not followed forever */
    file = base("softloop.h5", path, sizeof path, H5P_DEFAULT);
    sgs_assert_cmp(H5Lcreate_soft("/loop_b", file, "/loop_a", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    sgs_assert_cmp(H5Lcreate_soft("/loop_a", file, "/loop_b", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    sgs_assert_cmp(
        H5Lcreate_soft("/loop_a/amount", file, "/transactions/amount", H5P_DEFAULT, H5P_DEFAULT),
        >=, 0);
    H5Fclose(file);
    REFUSED(path, 65, "/transactions/amount: more than 16 soft links in a chain");
    /* "." and repeated slashes (HDF5 stores them as one) resolve as HDF5 resolves them */
    snprintf(other, sizeof other, "%s/other3.h5", dir);
    amounts_file(other, "/amount");
    file = base("softdot.h5", path, sizeof path, H5P_DEFAULT);
    sgs_assert_cmp(
        H5Lcreate_external(other, "/", file, "/transactions/ext", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    sgs_assert_cmp(
        H5Lcreate_soft(".//ext/./amount", file, "/transactions/amount", H5P_DEFAULT, H5P_DEFAULT),
        >=, 0);
    H5Fclose(file);
    REFUSED(path, 65,
            "/transactions/amount: is a soft link to ./ext/./amount, and /transactions/ext is "
            "an external link to ",
            "other3.h5:/: it leaves the file");
}

/* ---- Data stored elsewhere --------------------------------------------------------------- */

static void test_virtual_dataset(void **state)
{
    (void)state;
    char path[600], src[600];
    snprintf(src, sizeof src, "%s/source.h5", dir);
    amounts_file(src, "/amount");
    hid_t file = base("virtual.h5", path, sizeof path, H5P_DEFAULT);
    hsize_t n = N;
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    sgs_assert_cmp(H5Pset_virtual(dcpl, space, src, "/amount", space), >=, 0);
    H5Dclose(dataset(file, "/transactions/amount", H5T_IEEE_F64LE, N, dcpl));
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(file);
    REFUSED(path, 65, "/transactions/amount: is a virtual dataset", "source.h5:/amount");
}

static void test_external_storage(void **state)
{
    (void)state;
    char path[600], payload[600];
    /* bytes that would make plausible amounts if read as float64 */
    snprintf(payload, sizeof payload, "%s/payload.bin", dir);
    FILE *f = fopen(payload, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(amounts, sizeof amounts[0], N, f), N);
    fclose(f);
    hid_t file = base("external.h5", path, sizeof path, H5P_DEFAULT);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    sgs_assert_cmp(H5Pset_external(dcpl, payload, 0, N * sizeof(double)), >=, 0);
    H5Dclose(dataset(file, "/transactions/amount", H5T_IEEE_F64LE, N, dcpl));
    H5Pclose(dcpl);
    H5Fclose(file);
    REFUSED(path, 65, "/transactions/amount: stores its data in 1 external file", "payload.bin");
}

/* ---- Types ---------------------------------------------------------------------------------- */

static void test_wide_integer_type(void **state)
{
    (void)state;
    char path[600];
    hid_t file = base("wide.h5", path, sizeof path, H5P_DEFAULT);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, N);
    /* an 8-bit channel declared in a 65,544-byte integer type, with its bytes written */
    hid_t wide = H5Tcopy(H5T_STD_U8LE);
    sgs_assert_cmp(H5Tset_size(wide, WIDE_BYTES), >=, 0);
    hid_t d = dataset(file, "/transactions/channel", wide, N, H5P_DEFAULT);
    unsigned char *bytes = calloc(N, WIDE_BYTES);
    assert_non_null(bytes);
    for (size_t i = 0; i < N; i++)
        bytes[i * WIDE_BYTES] = (unsigned char)(1 + i % 7);
    sgs_assert_cmp(H5Dwrite(d, wide, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes), >=, 0);
    free(bytes);
    H5Dclose(d);
    H5Tclose(wide);
    H5Fclose(file);
    REFUSED(path, 65,
            "/transactions/channel: elements are 65544-byte unsigned integers; channel "
            "accepts integer types of at most 8 bytes (uint8)");
}

/* Replace, in the file, the one uint8 datatype message (version 1, class integer, little-
 * endian unsigned, size 1, offset 0, precision 8) by the same with `size` bytes: what the
 * fuzzer did. Object headers of the default format carry no checksum. */
static void patch_uint8_size(const char *path, uint32_t size)
{
    static const unsigned char msg[12] = {0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0};
    size_t n = 0;
    unsigned char *b = (unsigned char *)sgs_test_read_file(path, &n);
    assert_non_null(b);
    size_t hits = 0, at = 0;
    for (size_t i = 0; i + sizeof msg <= n; i++)
        if (memcmp(b + i, msg, sizeof msg) == 0)
            hits++, at = i;
    assert_int_equal(hits, 1);
    for (int k = 0; k < 4; k++)
        b[at + 4 + (size_t)k] = (unsigned char)(size >> (8 * k));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
    free(b);
}

/* The reproduction of issue 13 item 5: a compact uint8 channel of N bytes whose header
 * is made to declare a wider element; libhdf5 1.10 reads N x size bytes from the N-byte
 * buffer (ASan: heap-buffer-overflow in H5VM_memcpyvv). Refused before the read: too wide,
 * or, at 8 bytes, more data declared than the compact storage (or, chunked, than the
 * chunks) holds. */
static void test_fuzzed_element_size(void **state)
{
    (void)state;
    static const uint8_t channel[N] = {1, 2, 3, 4, 5, 6, 7, 1, 2, 3};
    static const uint32_t sizes[3] = {WIDE_BYTES, 8, 8};
    static const char *const expected[3] = {
        "/transactions/channel: elements are 65544-byte unsigned integers; channel accepts "
        "integer types of at most 8 bytes (uint8)",
        "/transactions/channel: declares 80 bytes of data (rows x element size) but its compact "
        "storage holds 10",
        "/transactions/channel: rows 0..9 are stored unfiltered in 10 bytes, fewer than the 80 "
        "their chunk needs"};
    for (int k = 0; k < 3; k++) {
        char path[600], name[32];
        snprintf(name, sizeof name, "fuzzed%d.h5", k);
        hid_t file = base(name, path, sizeof path, H5P_DEFAULT);
        col(file, "/transactions/amount", SGS_H5_F64, amounts, N);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        hsize_t chunk = N;
        if (k < 2)
            H5Pset_layout(dcpl, H5D_COMPACT);
        else
            H5Pset_chunk(dcpl, 1, &chunk);
        hid_t d = dataset(file, "/transactions/channel", H5T_STD_U8LE, N, dcpl);
        sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, channel), >=,
                       0);
        H5Dclose(d);
        H5Pclose(dcpl);
        H5Fclose(file);
        patch_uint8_size(path, sizes[k]);
        const char *parts[] = {expected[k]};
        expect_refused(path, 65, parts, 1);
    }
}

static void test_wrong_class(void **state)
{
    (void)state;
    char path[600];
    hid_t file = base("class.h5", path, sizeof path, H5P_DEFAULT);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, N);
    /* channel as 1-byte strings: right width, wrong class */
    hid_t str = H5Tcopy(H5T_C_S1);
    sgs_assert_cmp(H5Tset_size(str, 1), >=, 0);
    hid_t d = dataset(file, "/transactions/channel", str, N, H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, "1234567123"), >=, 0);
    H5Dclose(d);
    H5Tclose(str);
    H5Fclose(file);
    REFUSED(path, 65,
            "/transactions/channel: elements are string; channel must be an integer "
            "type (uint8)");
    /* an opaque 8-byte amount */
    file = base("class2.h5", path, sizeof path, H5P_DEFAULT);
    hid_t opaque = H5Tcreate(H5T_OPAQUE, 8);
    d = dataset(file, "/transactions/amount", opaque, N, H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, opaque, H5S_ALL, H5S_ALL, H5P_DEFAULT, amounts), >=, 0);
    H5Dclose(d);
    H5Tclose(opaque);
    H5Fclose(file);
    REFUSED(path, 65, "/transactions/amount: elements are opaque; amount must be floating point");
}

/* A good file (customer_id, time, amount, channel) whose channel (the one uint8 type) or
 * amount (the one float64 type) datatype message is `find` patched to `repl`. */
static void type_patched(const char *name, char *path, size_t size, const unsigned char *find,
                         const unsigned char *repl, size_t n)
{
    static const uint8_t channel[N] = {1, 2, 3, 4, 5, 6, 7, 1, 2, 3};
    hid_t file = base(name, path, size, H5P_DEFAULT);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, N);
    col(file, "/transactions/channel", SGS_H5_U8, channel, N);
    H5Fclose(file);
    expect_usable(path); /* the good file is: only the patch makes it hostile */
    sgs_test_patch_once(path, find, repl, n);
}

/* Types whose declared bits do not fit their bytes. libhdf5 decodes such a type message as
 * it is (its API would refuse to make one) and its conversion then reads the bits beside
 * each element: the fuzzed file regressions/int-precision-198-bits.h5, an 8-byte integer of
 * 198 bits, read a row as 2 alone and as INT64_MAX with its neighbours. Refused before the
 * read. */
static void test_type_bits_beyond_its_bytes(void **state)
{
    (void)state;
    char path[600];
    /* datatype message, version 1: class and version, 3 bytes of flags, size (4), then for
     * an integer: bit offset (2), precision (2); for a float: bit offset (2), precision (2),
     * exponent location, exponent size, mantissa location, mantissa size, bias (4) */
    static const unsigned char u8[12] = {0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0};
    static const unsigned char u8_wide[12] = {0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 12, 0};
    static const unsigned char u8_shifted[12] = {0x10, 0, 0, 0, 1, 0, 0, 0, 4, 0, 8, 0};
    static const unsigned char f64[20] = {0x11, 0x20, 0x3f, 0,  8, 0,  0,    0,    0, 0,
                                          64,   0,    52,   11, 0, 52, 0xff, 0x03, 0, 0};
    unsigned char f64_wide[20], f64_exponent[20];
    memcpy(f64_wide, f64, sizeof f64);
    f64_wide[10] = 80; /* precision 80 of 64 bits */
    memcpy(f64_exponent, f64, sizeof f64);
    f64_exponent[12] = 60; /* exponent at bits 60..70 of 64 */

    type_patched("bits_u8_wide.h5", path, sizeof path, u8, u8_wide, sizeof u8);
    REFUSED(path, 65,
            "/transactions/channel: elements are uint8 declaring 12 bits of precision at bit "
            "offset 0, more than their 8 bits");
    type_patched("bits_u8_shifted.h5", path, sizeof path, u8, u8_shifted, sizeof u8);
    REFUSED(path, 65,
            "/transactions/channel: elements are uint8 declaring 8 bits of precision at bit "
            "offset 4, more than their 8 bits");
    type_patched("bits_f64_wide.h5", path, sizeof path, f64, f64_wide, sizeof f64);
    REFUSED(path, 65,
            "/transactions/amount: elements are float64 declaring 80 bits of precision at bit "
            "offset 0, more than their 64 bits");
    type_patched("bits_f64_exponent.h5", path, sizeof path, f64, f64_exponent, sizeof f64);
    REFUSED(path, 65,
            "/transactions/amount: elements are float64 whose sign (bit 63), exponent (bits 60 "
            "+ 11) or mantissa (bits 0 + 52) lie beyond their 64 bits");
}

/* ---- Storage ------------------------------------------------------------------------------ */

static void test_chunks_never_written(void **state)
{
    (void)state;
    char path[600];
    /* chunks of 4 rows; only rows 0..3 written: chunks 1 and 2 would read as zeros */
    hid_t file = base("chunks.h5", path, sizeof path, H5P_DEFAULT);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk = 4, start = 0, count = 4;
    H5Pset_chunk(dcpl, 1, &chunk);
    hid_t d = dataset(file, "/transactions/amount", H5T_IEEE_F64LE, N, dcpl);
    hid_t fspace = H5Dget_space(d), mspace = H5Screate_simple(1, &count, NULL);
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, amounts), >=, 0);
    H5Sclose(mspace);
    H5Sclose(fspace);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Fclose(file);
    REFUSED(path, 65, "/transactions/amount: rows 4..7 (chunk 1) were never written",
            "2 of its 3 chunks are missing");
    /* a contiguous dataset never written at all */
    file = base("contig_unwritten.h5", path, sizeof path, H5P_DEFAULT);
    H5Dclose(dataset(file, "/transactions/amount", H5T_IEEE_F64LE, N, H5P_DEFAULT));
    H5Fclose(file);
    REFUSED(path, 65, "/transactions/amount: was never written");
    /* a trillion rows declared in a tiny file: refused before anything is allocated */
    file = base("huge.h5", path, sizeof path, H5P_DEFAULT);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    chunk = 1024;
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Dclose(dataset(file, "/transactions/amount", H5T_IEEE_F64LE, 1000000000000ull, dcpl));
    H5Pclose(dcpl);
    H5Fclose(file);
    REFUSED(path, 65, "/transactions/amount: rows 0..1023 (chunk 0) were never written",
            "976562500 of its 976562500 chunks are missing");
}

/* Patch the end-of-file address of a version-0 superblock (8-byte offsets: byte 40). */
static void patch_superblock_eof(const char *path, uint64_t eof)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(eof >> (8 * i));
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    assert_int_equal(fwrite(b, 1, 8, f), 8);
    fclose(f);
}

static void test_contiguous_data_past_the_end(void **state)
{
    (void)state;
    char path[600];
    /* the amounts, contiguous, are the last bytes of the file (written after every object
     * header, in a second session); cut half of them off and make the superblock agree,
     * so that only the dataset is wrong */
    hid_t file = base("pastend.h5", path, sizeof path, H5P_DEFAULT);
    H5Dclose(dataset(file, "/transactions/amount", H5T_IEEE_F64LE, N, H5P_DEFAULT));
    H5Fclose(file);
    file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, "/transactions/amount", H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, amounts), >=, 0);
    haddr_t offset = H5Dget_offset(d);
    H5Dclose(d);
    H5Fclose(file);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((uint64_t)st.st_size, offset + N * sizeof(double));
    uint64_t cut = (uint64_t)st.st_size - N / 2 * sizeof(double);
    assert_int_equal(truncate(path, (off_t)cut), 0);
    patch_superblock_eof(path, cut);
    REFUSED(path, 65, "/transactions/amount: declares 80 bytes of data at offset ",
            "past the end of the file");
}

/* A contiguous dataset whose layout message declares less storage than its rows need:
 * libhdf5 reads the rows past it from a stale buffer, so that a row's value depended on
 * what was read before (the fuzzed regressions/contiguous-storage-short.h5: 49 bytes for 7
 * int64). Refused before the read. */
static void test_contiguous_storage_short(void **state)
{
    (void)state;
    char path[600];
    hid_t file = base("contig_short.h5", path, sizeof path, H5P_DEFAULT);
    hid_t d = dataset(file, "/transactions/amount", H5T_IEEE_F64LE, N, H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, amounts), >=, 0);
    haddr_t addr = H5Dget_offset(d);
    H5Dclose(d);
    H5Fclose(file);
    sgs_assert_cmp(addr, !=, HADDR_UNDEF);
    expect_usable(path);
    /* layout message, version 3, contiguous: version, class 1, address (8), size (8) */
    unsigned char find[18] = {3, 1}, repl[18];
    for (int i = 0; i < 8; i++) {
        find[2 + i] = (unsigned char)(addr >> (8 * i));
        find[10 + i] = (unsigned char)((uint64_t)(N * sizeof(double)) >> (8 * i));
    }
    memcpy(repl, find, sizeof find);
    repl[10] = 49; /* 49 bytes: six rows and a piece of the seventh */
    for (int i = 11; i < 18; i++)
        repl[i] = 0;
    sgs_test_patch_once(path, find, repl, sizeof find);
    REFUSED(path, 65,
            "/transactions/amount: declares 80 bytes of data (rows x element size) but stores "
            "49");
}

static void test_truncated_file(void **state)
{
    (void)state;
    char path[600], cmd[1400];
    snprintf(path, sizeof path, "%s/truncated.h5", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", good, path);
    assert_int_equal(system(cmd), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    off_t half = st.st_size / 2;
    assert_int_equal(truncate(path, half), 0);
    char expected[128];
    snprintf(expected, sizeof expected, "file truncated: %lld bytes, the superblock declares %lld",
             (long long)half, (long long)st.st_size);
    const char *parts[] = {expected};
    expect_refused(path, 65, parts, 1);
}

/* ---- Filters -------------------------------------------------------------------------------- */

static size_t pass_through(unsigned flags, size_t n_cd, const unsigned cd[], size_t nbytes,
                           size_t *buf_size, void **buf)
{
    (void)flags, (void)n_cd, (void)cd, (void)buf_size, (void)buf;
    return nbytes;
}

/* Register the pass-through filter DUMMY_FILTER in this process (segscore has none). */
static void register_dummy(void)
{
    static const H5Z_class2_t cls = {H5Z_CLASS_T_VERS, DUMMY_FILTER, 1,    1,
                                     "sgs_test_dummy", NULL,         NULL, pass_through};
    sgs_assert_cmp(H5Zregister(&cls), >=, 0);
}

/* amount chunked through filter `id` with `flags`. */
static void filtered_file(const char *name, char *path, size_t size, H5Z_filter_t id,
                          unsigned flags)
{
    hid_t file = base(name, path, size, H5P_DEFAULT);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk = 4;
    H5Pset_chunk(dcpl, 1, &chunk);
    sgs_assert_cmp(H5Pset_filter(dcpl, id, flags, 0, NULL), >=, 0);
    hid_t d = dataset(file, "/transactions/amount", H5T_IEEE_F64LE, N, dcpl);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, amounts), >=, 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Fclose(file);
}

static void test_unavailable_filter(void **state)
{
    (void)state;
    char path[600];
    register_dummy();
    /* a required filter: every chunk went through it */
    filtered_file("filter.h5", path, sizeof path, DUMMY_FILTER, H5Z_FLAG_MANDATORY);
    REFUSED(path, 65,
            "/transactions/amount: dataset needs filter 65000 (sgs_test_dummy), not "
            "available in this HDF5 library");
    /* optional, and the chunks went through it here */
    filtered_file("filter_opt.h5", path, sizeof path, DUMMY_FILTER, H5Z_FLAG_OPTIONAL);
    REFUSED(path, 65,
            "/transactions/amount: rows 0..3 were stored through filter 65000 "
            "(sgs_test_dummy, optional), not available in this HDF5 library");
    sgs_assert_cmp(H5Zunregister(DUMMY_FILTER), >=, 0);
    /* optional and unavailable to the writer too: HDF5 skipped it for every chunk (the
     * chunk's filter mask says so), so the data is plain and readable */
    filtered_file("filter_skipped.h5", path, sizeof path, DUMMY_FILTER + 1, H5Z_FLAG_OPTIONAL);
    expect_usable(path);
}

/* A compressed chunk whose bytes are garbage: bad data (65), not an I/O error (74). */
static void test_corrupt_compressed_chunk(void **state)
{
    (void)state;
    char path[600];
    hid_t file = base("corrupt.h5", path, sizeof path, H5P_DEFAULT);
    sgs_error_t err = {0};
    assert_int_equal(
        sgs_h5_write_column(file, "/transactions/amount", SGS_H5_F64, amounts, N, 4, &err), 0);
    hid_t d = H5Dopen2(file, "/transactions/amount", H5P_DEFAULT);
    hsize_t offset = 0, size = 0;
    unsigned mask = 0;
    haddr_t addr = HADDR_UNDEF;
    sgs_assert_cmp(H5Dget_chunk_info_by_coord(d, &offset, &mask, &addr, &size), >=, 0);
    H5Dclose(d);
    H5Fclose(file);
    sgs_assert_cmp(addr, !=, HADDR_UNDEF);
    sgs_assert_cmp(size, >, 0);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)addr, SEEK_SET), 0);
    for (hsize_t i = 0; i < size; i++)
        fputc(0xA5, f);
    fclose(f);
    REFUSED(path, 65,
            "/transactions/amount: rows 0..9 cannot be decoded (a broken compressed stream): the "
            "chunk is damaged");
}

/* The same in an /events column as segscore generate writes it (shuffle + deflate), which the
 * reader decodes itself rather than through H5Dread (io/h5_reader_decode.c): the same finding,
 * with the rows of the damaged chunk. */
static void test_corrupt_compressed_event_chunk(void **state)
{
    (void)state;
    char path[600];
    snprintf(path, sizeof path, "%s/corrupt_events.h5", dir);
    size_t n_bytes = 0;
    char *bytes = sgs_test_read_file(good, &n_bytes);
    assert_non_null(bytes);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n_bytes, f), n_bytes);
    fclose(f);
    free(bytes);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, "/events/time", H5P_DEFAULT);
    sgs_assert_cmp(d, >=, 0);
    hid_t space = H5Dget_space(d);
    hssize_t rows = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    unsigned char garbage[64];
    memset(garbage, 0xA5, sizeof garbage);
    hsize_t offset = 0;
    sgs_assert_cmp(H5Dwrite_chunk(d, H5P_DEFAULT, 0, &offset, sizeof garbage, garbage), >=, 0);
    H5Dclose(d);
    H5Fclose(file);
    char rows_text[64];
    snprintf(rows_text, sizeof rows_text, "/events/time: rows 0..%lld cannot be decoded",
             (long long)rows - 1);
    const char *const parts[] = {rows_text, "(a broken compressed stream): the chunk is damaged"};
    expect_refused(path, 65, parts, 2);
}

/* A group whose link is there but whose object header is damaged: not "missing" (with a
 * "did you mean" of its own name), but a file whose metadata is malformed. */
static void test_group_that_cannot_be_opened(void **state)
{
    (void)state;
    char path[600];
    hid_t file = base("header.h5", path, sizeof path, H5P_DEFAULT);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, N);
    hid_t g = H5Gopen2(file, "/transactions", H5P_DEFAULT);
    H5O_info_t info;
    sgs_assert_cmp(H5Oget_info2(g, &info, H5O_INFO_BASIC), >=, 0);
    H5Gclose(g);
    H5Fclose(file);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)info.addr, SEEK_SET), 0);
    fputc(0x7F, f); /* the header's version byte: 1 in a version-1 header */
    fclose(f);
    /* inspect lists the objects first, and says so there */
    REFUSED(path, 65, "metadata is malformed: bad object header version number");
    char args[2048], out[8192];
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s'", path, results);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 65);
    sgs_assert_contains(out, "/transactions: cannot be opened: the file's metadata is malformed");
}

/* ---- Chunks that decode to another size than their shape's -------------------------------
 * libhdf5 1.10.8 copies the rows a short chunk lacks from beyond its own buffer and succeeds
 * (io/h5_decoded_size.h; the fuzz finding regressions/over-read-in-h5vm-memcpyvv.h5). */

#define CHUNK_ROWS 5

/* dir/<name> with the good ids and times and an amount column of N rows in chunks of
 * CHUNK_ROWS through `filters` (deflate level 4, shuffle, fletcher32 in the order given,
 * 0-terminated), written by HDF5; then chunk 1 (rows 5..9) replaced by `raw` (n_raw bytes)
 * with filter mask `mask` (H5Dwrite_chunk). raw NULL: left as written. */
static void chunked_amounts(const char *name, char *path, size_t size, const int *filters,
                            const void *raw, size_t n_raw, uint32_t mask)
{
    hid_t file = base(name, path, size, H5P_DEFAULT);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk = CHUNK_ROWS;
    H5Pset_chunk(dcpl, 1, &chunk);
    for (const int *f = filters; *f; f++) {
        if (*f == H5Z_FILTER_DEFLATE)
            H5Pset_deflate(dcpl, 4);
        else if (*f == H5Z_FILTER_SHUFFLE)
            H5Pset_shuffle(dcpl);
        else
            H5Pset_fletcher32(dcpl);
    }
    hid_t d = dataset(file, "/transactions/amount", H5T_IEEE_F64LE, N, dcpl);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, amounts), >=, 0);
    hsize_t offset = CHUNK_ROWS;
    if (raw)
        sgs_assert_cmp(H5Dwrite_chunk(d, H5P_DEFAULT, mask, &offset, n_raw, raw), >=, 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Fclose(file);
}

/* A deflate stream of `n` bytes copied from `data` (heap-allocated; the caller frees). */
static unsigned char *deflated(const void *data, size_t n, size_t *n_out)
{
    uLongf bound = compressBound((uLong)n);
    unsigned char *z = malloc(bound);
    assert_non_null(z);
    assert_int_equal(compress2(z, &bound, data, (uLong)n, 4), Z_OK);
    *n_out = bound;
    return z;
}

static void test_chunk_decodes_short(void **state)
{
    (void)state;
    static const int deflate_only[] = {H5Z_FILTER_DEFLATE, 0};
    char path[600];
    size_t n_z;
    unsigned char *z = deflated(amounts + CHUNK_ROWS, 1 * sizeof(double), &n_z); /* 1 row of 5 */
    chunked_amounts("decodes_short.h5", path, sizeof path, deflate_only, z, n_z, 0);
    free(z);
    REFUSED(path, 65,
            "/transactions/amount: rows 5..9 decode to 8 bytes, not the 40 their chunk needs");
}

/* A decompression bomb: 1 MiB of zeros where 40 bytes belong; decoding stops at 41. */
static void test_chunk_decodes_long(void **state)
{
    (void)state;
    static const int deflate_only[] = {H5Z_FILTER_DEFLATE, 0};
    char path[600];
    size_t n_z, n_zeros = (size_t)1 << 20;
    unsigned char *zeros = calloc(n_zeros, 1);
    assert_non_null(zeros);
    unsigned char *z = deflated(zeros, n_zeros, &n_z);
    free(zeros);
    chunked_amounts("decodes_long.h5", path, sizeof path, deflate_only, z, n_z, 0);
    free(z);
    REFUSED(path, 65,
            "/transactions/amount: rows 5..9 decode to more than the 40 bytes their chunk needs");
}

/* The chunk's filter mask says deflate was skipped (stored raw), in 16 bytes of 40: the
 * shape of the fuzz finding. */
static void test_chunk_stored_unfiltered_short(void **state)
{
    (void)state;
    static const int deflate_only[] = {H5Z_FILTER_DEFLATE, 0};
    char path[600];
    chunked_amounts("unfiltered_short.h5", path, sizeof path, deflate_only, amounts, 16, 1);
    REFUSED(path, 65,
            "/transactions/amount: rows 5..9 are stored unfiltered in 16 bytes, fewer than the "
            "40 their chunk needs");
}

/* The pipelines the size check models, as HDF5 writes them (h5py's order is shuffle,
 * deflate, fletcher32), are read; a chunk that skipped an optional filter is sized too. */
static void test_checked_pipelines_usable(void **state)
{
    (void)state;
    static const int pipelines[][4] = {
        {H5Z_FILTER_DEFLATE, 0},
        {H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE, 0},
        {H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE, H5Z_FILTER_FLETCHER32, 0},
        {H5Z_FILTER_FLETCHER32, H5Z_FILTER_DEFLATE, 0},
        {H5Z_FILTER_SHUFFLE, 0}};
    for (size_t k = 0; k < sizeof pipelines / sizeof pipelines[0]; k++) {
        char path[600], name[32];
        snprintf(name, sizeof name, "pipeline%zu.h5", k);
        chunked_amounts(name, path, sizeof path, pipelines[k], NULL, 0, 0);
        expect_usable(path);
    }
    char path[600];
    chunked_amounts("skipped_deflate.h5", path, sizeof path, pipelines[1], amounts + CHUNK_ROWS,
                    CHUNK_ROWS * sizeof(double), 2);
    expect_usable(path);
}

/* ---- Locked by its writer --------------------------------------------------------------- */

static void test_locked_input(void **state)
{
    (void)state;
    char path[600], cmd[1400];
    snprintf(path, sizeof path, "%s/locked.h5", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", good, path);
    assert_int_equal(system(cmd), 0);
    /* a writer holds the file open (HDF5 takes an exclusive file lock) */
    hid_t writer = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    sgs_assert_cmp(writer, >=, 0);
    REFUSED(path, 75, "file is locked by another process that has it open for writing");
    H5Fclose(writer);
    expect_usable(path);
    /* without file locks, a version-3 superblock still says a writer has the file open */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t file = base("writing.h5", path, sizeof path, fapl);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, N);
    H5Fclose(file);
    writer = H5Fopen(path, H5F_ACC_RDWR, fapl);
    sgs_assert_cmp(writer, >=, 0);
    setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
    REFUSED(path, 75, "file is marked open for writing in its superblock");
    unsetenv("HDF5_USE_FILE_LOCKING");
    H5Fclose(writer);
    H5Pclose(fapl);
    expect_usable(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_external_link),
        cmocka_unit_test(test_soft_link_out_of_the_file),
        cmocka_unit_test(test_virtual_dataset),
        cmocka_unit_test(test_external_storage),
        cmocka_unit_test(test_wide_integer_type),
        cmocka_unit_test(test_fuzzed_element_size),
        cmocka_unit_test(test_wrong_class),
        cmocka_unit_test(test_type_bits_beyond_its_bytes),
        cmocka_unit_test(test_chunks_never_written),
        cmocka_unit_test(test_contiguous_data_past_the_end),
        cmocka_unit_test(test_contiguous_storage_short),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_unavailable_filter),
        cmocka_unit_test(test_corrupt_compressed_chunk),
        cmocka_unit_test(test_corrupt_compressed_event_chunk),
        cmocka_unit_test(test_group_that_cannot_be_opened),
        cmocka_unit_test(test_chunk_decodes_short),
        cmocka_unit_test(test_chunk_decodes_long),
        cmocka_unit_test(test_chunk_stored_unfiltered_short),
        cmocka_unit_test(test_checked_pipelines_usable),
        cmocka_unit_test(test_locked_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
