/*
 * tests/e2e/test_hostile_matrix.c — `segscore kmeans` refuses hostile and broken HDF5
 * inputs up front, as `run` does (io/h5_guard.h through io/h5_matrix.h and
 * sgs_h5_read_column): the matrix, the initial centers (--init FILE:/C) and the weights
 * (--weights /w) behind an external link or a soft link out of the file, virtual, in
 * external storage, of a string type, 65,544 bytes wide, declaring more bits than their
 * bytes, with chunks never written, with less contiguous storage than their elements, and
 * a truncated file.
 *
 * Every file is crafted here with the HDF5 C API. For each: kmeans exits 65 with a message
 * naming the file and the dataset (or the cause, for the whole file); the result of an
 * earlier good kmeans run into the same output is byte-identical, and no temporary is left.
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

#define ROWS 12
#define COLS 2
#define WIDE_BYTES 65544

static char dir[256], out_dir[512], result[600];
static sgs_test_snapshot_t before;
static double x[ROWS * COLS];

/* ---- Crafting files ------------------------------------------------------------------------- */

/* A 2-D dataset `path` (ROWS x COLS) of `type` with creation properties dcpl, not written. */
static hid_t matrix(hid_t file, const char *path, hid_t type, hid_t dcpl)
{
    hsize_t dims[2] = {ROWS, COLS};
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(file, path, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Sclose(space);
    sgs_assert_cmp(d, >=, 0);
    return d;
}

/* A new file dir/<name> (its path into `path`), open for writing. */
static hid_t create(const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(file, >=, 0);
    return file;
}

/* The good matrix as float64 /X of a new file dir/<name>, closed. */
static void good_file(const char *name, char *path, size_t size)
{
    hid_t file = create(name, path, size);
    hid_t d = matrix(file, "/X", H5T_IEEE_F64LE, H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x), >=, 0);
    H5Dclose(d);
    H5Fclose(file);
}

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    unsetenv("HDF5_USE_FILE_LOCKING");
    for (int i = 0; i < ROWS * COLS; i++)
        x[i] = (double)((i * 37) % 11) + 0.5 * (i % COLS);
    sgs_test_tmpdir("e2e-hostile-matrix", dir, sizeof dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    snprintf(result, sizeof result, "%s/clusters.h5", out_dir);
    if (mkdir(out_dir, 0755) != 0)
        return -1;
    char good[600], args[2048], out[8192];
    good_file("good.h5", good, sizeof good);
    snprintf(args, sizeof args, "kmeans -q -i '%s' --k 3 -o '%s'", good, result);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0) {
        print_error("the good kmeans run failed (%d): %s\n", status, out);
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

/* ---- Running ---------------------------------------------------------------------------- */

/* `segscore kmeans <options> -o result` exits `status`, its message names `file` and holds
 * `part`; the earlier result is untouched and no temporary is left. */
static void expect_refused(const char *options, int status, const char *file, const char *part)
{
    char args[4096], out[8192];
    snprintf(args, sizeof args, "kmeans -q %s --k 3 -o '%s'", options, result);
    int got = sgs_test_run(args, out, sizeof out);
    if (got != status)
        fail_msg("kmeans %s: exit %d, expected %d:\n%s", options, got, status, out);
    sgs_assert_contains(out, "segscore kmeans: error: ");
    sgs_assert_contains(out, file);
    sgs_assert_contains(out, part);
    sgs_test_assert_snapshot_unchanged(out_dir, &before);
}

/* kmeans on /X of `path` refused with 65: "<path>: /X: <part>". */
static void expect_matrix_refused(const char *path, const char *part)
{
    char options[1400], named[4096];
    snprintf(options, sizeof options, "-i '%s' --dataset /X", path);
    snprintf(named, sizeof named, "%s: /X: %s", path, part);
    expect_refused(options, 65, path, named);
}

/* kmeans on /X of `path` works (into another output). */
static void expect_accepted(const char *path, const char *dataset)
{
    char args[4096], out[8192], other[700];
    snprintf(other, sizeof other, "%s/other.h5", dir);
    snprintf(args, sizeof args, "kmeans -q -i '%s' --dataset %s --k 3 -o '%s'", path, dataset,
             other);
    int got = sgs_test_run(args, out, sizeof out);
    if (got != 0)
        fail_msg("kmeans on %s %s: exit %d, expected 0:\n%s", path, dataset, got, out);
}

/* ---- Links --------------------------------------------------------------------------------- */

static void test_links_out_of_the_file(void **state)
{
    (void)state;
    char other[600], path[600];
    good_file("other.h5", other, sizeof other);
    /* /X is an external link: if it were followed, kmeans would succeed */
    hid_t file = create("elink.h5", path, sizeof path);
    sgs_assert_cmp(H5Lcreate_external(other, "/X", file, "/X", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    H5Fclose(file);
    char part[1400];
    snprintf(part, sizeof part,
             "is an external link to %s:/X; segscore reads only data stored in the input file",
             other);
    expect_matrix_refused(path, part);
    /* /X is a soft link to /ext/X, and /ext an external link to other.h5:/ */
    file = create("softout.h5", path, sizeof path);
    sgs_assert_cmp(H5Lcreate_external(other, "/", file, "/ext", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    sgs_assert_cmp(H5Lcreate_soft("/ext/X", file, "/X", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    H5Fclose(file);
    snprintf(part, sizeof part,
             "is a soft link to /ext/X, and /ext is an external link to %s:/: it leaves the file",
             other);
    expect_matrix_refused(path, part);
    /* a soft link inside the file is fine */
    file = create("softin.h5", path, sizeof path);
    H5Gclose(H5Gcreate2(file, "/data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    hid_t d = matrix(file, "/data/X", H5T_IEEE_F64LE, H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x), >=, 0);
    H5Dclose(d);
    sgs_assert_cmp(H5Lcreate_soft("/data/X", file, "/X", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    H5Fclose(file);
    expect_accepted(path, "/X");
    /* the initial centers behind an external link: their file and dataset named */
    char options[2000];
    good_file("good2.h5", other, sizeof other);
    snprintf(options, sizeof options, "-i '%s' --init '%s:/C'", other, path);
    file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    sgs_assert_cmp(H5Lcreate_external(other, "/X", file, "/C", H5P_DEFAULT, H5P_DEFAULT), >=, 0);
    H5Fclose(file);
    char named[1400];
    snprintf(named, sizeof named, "%s: /C: is an external link to ", path);
    expect_refused(options, 65, path, named);
}

/* ---- Where the data lives ---------------------------------------------------------------- */

static void test_virtual_and_external_storage(void **state)
{
    (void)state;
    char source[600], path[600];
    good_file("source.h5", source, sizeof source);
    /* /X maps every element from source.h5:/X */
    hid_t file = create("virtual.h5", path, sizeof path);
    hsize_t dims[2] = {ROWS, COLS};
    hid_t space = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    sgs_assert_cmp(H5Pset_virtual(dcpl, space, source, "/X", space), >=, 0);
    hid_t d = H5Dcreate2(file, "/X", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    sgs_assert_cmp(d, >=, 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(file);
    expect_matrix_refused(path, "is a virtual dataset (its rows come from 1 mapping, the first "
                                "from ");
    /* /X's raw bytes in payload.bin, any file's bytes used as values */
    char payload[600];
    snprintf(payload, sizeof payload, "%s/payload.bin", dir);
    FILE *f = fopen(payload, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(x, sizeof x[0], ROWS * COLS, f), ROWS * COLS);
    fclose(f);
    file = create("external.h5", path, sizeof path);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    sgs_assert_cmp(H5Pset_external(dcpl, "payload.bin", 0, sizeof x), >=, 0);
    d = matrix(file, "/X", H5T_IEEE_F64LE, dcpl);
    H5Dclose(d);
    /* and weights the same way, beside a good matrix */
    hsize_t n = ROWS;
    space = H5Screate_simple(1, &n, NULL);
    H5Pclose(dcpl);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    sgs_assert_cmp(H5Pset_external(dcpl, "payload.bin", 0, ROWS * sizeof(double)), >=, 0);
    d = H5Dcreate2(file, "/w", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    sgs_assert_cmp(d, >=, 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Pclose(dcpl);
    d = matrix(file, "/Y", H5T_IEEE_F64LE, H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x), >=, 0);
    H5Dclose(d);
    H5Fclose(file);
    expect_matrix_refused(path, "stores its data in 1 external file (the first: payload.bin); "
                                "segscore reads only data stored in the input file");
    char options[1400], named[1400];
    snprintf(options, sizeof options, "-i '%s' --dataset /Y --weights /w", path);
    snprintf(named, sizeof named, "%s: /w: stores its data in 1 external file", path);
    expect_refused(options, 65, path, named);
}

/* ---- Types ------------------------------------------------------------------------------------
 */

static void test_types(void **state)
{
    (void)state;
    char path[600];
    /* strings: right width, wrong class */
    hid_t file = create("strings.h5", path, sizeof path);
    hid_t str = H5Tcopy(H5T_C_S1);
    sgs_assert_cmp(H5Tset_size(str, 8), >=, 0);
    hid_t d = matrix(file, "/X", str, H5P_DEFAULT);
    char text[ROWS * COLS * 8];
    memset(text, '1', sizeof text);
    sgs_assert_cmp(H5Dwrite(d, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, text), >=, 0);
    H5Dclose(d);
    H5Tclose(str);
    H5Fclose(file);
    expect_matrix_refused(path, "elements are string; the matrix must be numeric");
    /* an 8-bit value in a 65,544-byte integer type, its bytes written */
    file = create("wide.h5", path, sizeof path);
    hid_t wide = H5Tcopy(H5T_STD_U8LE);
    sgs_assert_cmp(H5Tset_size(wide, WIDE_BYTES), >=, 0);
    d = matrix(file, "/X", wide, H5P_DEFAULT);
    unsigned char *bytes = calloc(ROWS * COLS, WIDE_BYTES);
    assert_non_null(bytes);
    for (size_t i = 0; i < ROWS * COLS; i++)
        bytes[i * WIDE_BYTES] = (unsigned char)(i % 5);
    sgs_assert_cmp(H5Dwrite(d, wide, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes), >=, 0);
    free(bytes);
    H5Dclose(d);
    H5Tclose(wide);
    H5Fclose(file);
    expect_matrix_refused(path, "elements are 65544-byte unsigned integers; the matrix accepts "
                                "integer or floating-point types of at most 8 bytes");
    /* a uint8 matrix (accepted as it is) whose type message is made to declare 12 bits */
    file = create("bits.h5", path, sizeof path);
    d = matrix(file, "/X", H5T_STD_U8LE, H5P_DEFAULT);
    unsigned char small[ROWS * COLS];
    for (size_t i = 0; i < sizeof small; i++)
        small[i] = (unsigned char)(i % 7);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, small), >=, 0);
    H5Dclose(d);
    H5Fclose(file);
    expect_accepted(path, "/X");
    /* datatype message, version 1: class and version, flags (3), size (4), offset, precision */
    static const unsigned char u8[12] = {0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0};
    static const unsigned char u8_wide[12] = {0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 12, 0};
    sgs_test_patch_once(path, u8, u8_wide, sizeof u8);
    expect_matrix_refused(path, "elements are uint8 declaring 12 bits of precision at bit offset "
                                "0, more than their 8 bits");
}

/* ---- Storage ----------------------------------------------------------------------------------
 */

static void test_storage(void **state)
{
    (void)state;
    char path[600];
    /* chunks of 4 x 2; only rows 0..3 written: the other chunks would read as zeros */
    hid_t file = create("chunks.h5", path, sizeof path);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk[2] = {4, COLS}, start[2] = {0, 0}, count[2] = {4, COLS};
    H5Pset_chunk(dcpl, 2, chunk);
    hid_t d = matrix(file, "/X", H5T_IEEE_F64LE, dcpl);
    hid_t fspace = H5Dget_space(d), mspace = H5Screate_simple(2, count, NULL);
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, x), >=, 0);
    H5Sclose(mspace);
    H5Sclose(fspace);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Fclose(file);
    expect_matrix_refused(path, "rows 4..7, columns 0..1 (chunk 1) were never written; 2 of its "
                                "3 chunks are missing");
    /* contiguous, never written */
    file = create("unwritten.h5", path, sizeof path);
    H5Dclose(matrix(file, "/X", H5T_IEEE_F64LE, H5P_DEFAULT));
    H5Fclose(file);
    expect_matrix_refused(path, "was never written");
    /* contiguous, its layout message made to declare less storage than its elements */
    file = create("short.h5", path, sizeof path);
    d = matrix(file, "/X", H5T_IEEE_F64LE, H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x), >=, 0);
    haddr_t addr = H5Dget_offset(d);
    H5Dclose(d);
    H5Fclose(file);
    expect_accepted(path, "/X");
    /* layout message, version 3, contiguous: version, class 1, address (8), size (8) */
    unsigned char find[18] = {3, 1}, repl[18];
    for (int i = 0; i < 8; i++) {
        find[2 + i] = (unsigned char)(addr >> (8 * i));
        find[10 + i] = (unsigned char)((uint64_t)sizeof x >> (8 * i));
    }
    memcpy(repl, find, sizeof find);
    repl[10] = 100;
    repl[11] = 0;
    sgs_test_patch_once(path, find, repl, sizeof find);
    expect_matrix_refused(path, "declares 192 bytes of data (rows x element size) but stores 100");
    /* a truncated file: the whole file refused, before any dataset */
    char cmd[1400], truncated[600];
    good_file("whole.h5", path, sizeof path);
    snprintf(truncated, sizeof truncated, "%s/truncated.h5", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, truncated);
    assert_int_equal(system(cmd), 0);
    struct stat st;
    assert_int_equal(stat(truncated, &st), 0);
    assert_int_equal(truncate(truncated, st.st_size - 64), 0);
    char options[1400];
    snprintf(options, sizeof options, "-i '%s'", truncated);
    expect_refused(options, 65, truncated, "file truncated: ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_links_out_of_the_file),
        cmocka_unit_test(test_virtual_and_external_storage),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_storage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
