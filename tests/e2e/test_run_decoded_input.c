/*
 * tests/e2e/test_run_decoded_input.c — `segscore run` on compressed input, whose columns the
 * reader decodes itself (io/h5_reader_decode.c), writes what it writes for the same tables
 * stored contiguous, which libhdf5's H5Dread reads: a generated file (shuffle + deflate,
 * chunks of 65,536 rows, so a partial last chunk) against its tables rewritten contiguous;
 * and the same tables as big-endian int32 ids and times, float32 amounts and values, int16
 * channels (conversions the reader does itself) in deflate chunks of 1,000 rows, against them
 * contiguous. customers.csv and opportunities.csv are compared byte for byte, every numeric
 * dataset of results.h5 value for value, and the input's content fingerprint.
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

static char dir[256], generated[512];

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-decoded", dir, sizeof dir);
    snprintf(generated, sizeof generated, "%s/generated.h5", dir);
    char args[1024], out[4096];
    snprintf(args, sizeof args, "generate -q --customers 20000 --seed 3 -o '%s'", generated);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        print_error("generate failed: %s\n", out);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

/* ---- Rewriting the input tables --------------------------------------------------------- */

typedef struct rewrite {
    int converted; /* 1: big-endian, narrower integers, float32 */
    int chunked;   /* 1: deflate in chunks of 1,000 rows; 0: contiguous */
} rewrite_t;

/* The file type a column is rewritten as: its own, or the converted one. */
static hid_t new_type(hid_t old, const char *name, int converted)
{
    if (!converted)
        return H5Tcopy(old);
    if (H5Tget_class(old) == H5T_FLOAT)
        return H5Tcopy(H5T_IEEE_F32BE);
    if (H5Tget_size(old) == 1)
        return H5Tcopy(strcmp(name, "channel") == 0 ? H5T_STD_I16BE : H5T_STD_U8BE);
    return H5Tcopy(H5T_STD_I32BE);
}

static void rewrite_column(hid_t group, const char *name, const rewrite_t *how)
{
    hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    sgs_assert_cmp(d, >=, 0);
    hid_t old = H5Dget_type(d), space = H5Dget_space(d);
    hid_t native = H5Tget_native_type(old, H5T_DIR_ASCEND);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    void *buf = malloc(((size_t)n + 1) * H5Tget_size(native));
    assert_non_null(buf);
    sgs_assert_cmp(H5Dread(d, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), >=, 0);
    H5Dclose(d);
    sgs_assert_cmp(H5Ldelete(group, name, H5P_DEFAULT), >=, 0);
    hid_t type = new_type(old, name, how->converted), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (how->chunked) {
        hsize_t chunk = 1000;
        H5Pset_chunk(dcpl, 1, &chunk);
        H5Pset_deflate(dcpl, 1);
    }
    hsize_t dims = (hsize_t)n; /* fixed: the generator's extent is unlimited */
    hid_t fixed = H5Screate_simple(1, &dims, NULL);
    d = H5Dcreate2(group, name, type, fixed, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Sclose(fixed);
    sgs_assert_cmp(d, >=, 0);
    sgs_assert_cmp(H5Dwrite(d, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), >=, 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Tclose(type);
    H5Tclose(native);
    H5Tclose(old);
    H5Sclose(space);
    free(buf);
}

/* dir/<name>: a copy of `src` with every column of the three input tables rewritten. */
static void rewritten(const char *src, const char *name, rewrite_t how, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    size_t n = 0;
    char *bytes = sgs_test_read_file(src, &n);
    assert_non_null(bytes);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
    free(bytes);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    sgs_assert_cmp(file, >=, 0);
    static const char *const groups[] = {"/transactions", "/events", "/customers"};
    for (size_t g = 0; g < 3; g++) {
        hid_t group = H5Gopen2(file, groups[g], H5P_DEFAULT);
        sgs_assert_cmp(group, >=, 0);
        /* the names first: the iteration must not see the links it recreates */
        H5G_info_t info;
        sgs_assert_cmp(H5Gget_info(group, &info), >=, 0);
        hsize_t n_links = info.nlinks;
        char names[16][64];
        assert_true(n_links <= 16);
        for (hsize_t i = 0; i < n_links; i++)
            sgs_assert_cmp(H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, names[i],
                                              sizeof names[i], H5P_DEFAULT),
                           >, 0);
        for (hsize_t i = 0; i < n_links; i++)
            rewrite_column(group, names[i], &how);
        H5Gclose(group);
    }
    H5Fclose(file);
}

/* ---- Comparing two runs ------------------------------------------------------------------ */

/* `segscore run` on input into dir/<name>/results.h5 (and its CSV files beside it). */
static void run(const char *input, const char *name, char *out_dir, size_t size)
{
    snprintf(out_dir, size, "%s/%s", dir, name);
    assert_int_equal(mkdir(out_dir, 0755), 0);
    char args[2048], out[8192];
    snprintf(args, sizeof args, "run -q --threads 2 -i '%s' -o '%s/results.h5'", input, out_dir);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("run on %s: exit %d:\n%s", input, status, out);
}

typedef struct compare {
    hid_t other;
    size_t n_compared;
} compare_t;

#if H5_VERSION_GE(1, 12, 0)
typedef H5L_info2_t link_info_t;
#define LVISIT H5Lvisit2
#else
typedef H5L_info_t link_info_t;
#define LVISIT H5Lvisit
#endif

/* Every integer or float dataset of one results file has the same values in the other. */
static herr_t compare_dataset(hid_t obj, const char *name, const link_info_t *info, void *data)
{
    (void)info;
    compare_t *cmp = data;
    H5O_type_t kind = H5O_TYPE_UNKNOWN;
    hid_t o = H5Oopen(obj, name, H5P_DEFAULT);
    if (o >= 0) {
        kind = H5Iget_type(o) == H5I_DATASET ? H5O_TYPE_DATASET : H5O_TYPE_GROUP;
        H5Oclose(o);
    }
    if (kind != H5O_TYPE_DATASET)
        return 0;
    hid_t a = H5Dopen2(obj, name, H5P_DEFAULT), b = H5Dopen2(cmp->other, name, H5P_DEFAULT);
    if (b < 0)
        fail_msg("results.h5: %s is in one run's file only", name);
    hid_t type = H5Dget_type(a);
    H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
        hid_t native = H5Tget_native_type(type, H5T_DIR_ASCEND);
        hid_t space_a = H5Dget_space(a), space_b = H5Dget_space(b);
        hssize_t n = H5Sget_simple_extent_npoints(space_a);
        assert_int_equal(n, H5Sget_simple_extent_npoints(space_b));
        size_t bytes = (size_t)n * H5Tget_size(native);
        unsigned char *va = calloc(bytes + 1, 1), *vb = calloc(bytes + 1, 1);
        assert_non_null(va);
        assert_non_null(vb);
        if (n > 0) {
            sgs_assert_cmp(H5Dread(a, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, va), >=, 0);
            sgs_assert_cmp(H5Dread(b, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, vb), >=, 0);
        }
        if (memcmp(va, vb, bytes) != 0)
            fail_msg("results.h5: %s differs between the runs", name);
        cmp->n_compared++;
        free(va);
        free(vb);
        H5Sclose(space_a);
        H5Sclose(space_b);
        H5Tclose(native);
    }
    H5Tclose(type);
    H5Dclose(a);
    H5Dclose(b);
    return 0;
}

/* The "hash64=..." of the input line of report.txt (static buffer). */
static const char *fingerprint(const char *out_dir)
{
    static char hash[2][32];
    static int which;
    char path[600];
    snprintf(path, sizeof path, "%s/report.txt", out_dir);
    char *text = sgs_test_read_file(path, NULL);
    assert_non_null(text);
    const char *at = strstr(text, "hash64=");
    assert_non_null(at);
    which ^= 1;
    snprintf(hash[which], sizeof hash[which], "%.23s", at);
    free(text);
    return hash[which];
}

/* The outputs of runs on a (decoded by the reader) and b (read by H5Dread), into
 * dir/<tag>-a and dir/<tag>-b, are the same. */
static void assert_same_outputs(const char *a, const char *b, const char *tag)
{
    char dir_a[512], dir_b[512], path_a[600], path_b[600], name[64];
    snprintf(name, sizeof name, "%s-a", tag);
    run(a, name, dir_a, sizeof dir_a);
    snprintf(name, sizeof name, "%s-b", tag);
    run(b, name, dir_b, sizeof dir_b);
    static const char *const files[] = {"customers.csv", "opportunities.csv"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path_a, sizeof path_a, "%s/%s", dir_a, files[i]);
        snprintf(path_b, sizeof path_b, "%s/%s", dir_b, files[i]);
        sgs_assert_files_equal(path_a, path_b);
    }
    assert_string_equal(fingerprint(dir_a), fingerprint(dir_b));
    snprintf(path_a, sizeof path_a, "%s/results.h5", dir_a);
    snprintf(path_b, sizeof path_b, "%s/results.h5", dir_b);
    hid_t fa = H5Fopen(path_a, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t fb = H5Fopen(path_b, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(fa, >=, 0);
    sgs_assert_cmp(fb, >=, 0);
    compare_t cmp = {fb, 0};
    sgs_assert_cmp(LVISIT(fa, H5_INDEX_NAME, H5_ITER_INC, compare_dataset, &cmp), >=, 0);
    sgs_assert_cmp(cmp.n_compared, >=, 50);
    H5Fclose(fa);
    H5Fclose(fb);
}

static void test_generated_file(void **state)
{
    (void)state;
    char plain[512];
    rewritten(generated, "plain.h5", (rewrite_t){0, 0}, plain, sizeof plain);
    assert_same_outputs(generated, plain, "generated");
}

static void test_converted_big_endian(void **state)
{
    (void)state;
    char chunked[512], plain[512];
    rewritten(generated, "be-chunked.h5", (rewrite_t){1, 1}, chunked, sizeof chunked);
    rewritten(generated, "be-plain.h5", (rewrite_t){1, 0}, plain, sizeof plain);
    assert_same_outputs(chunked, plain, "converted");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_file),
        cmocka_unit_test(test_converted_big_endian),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
