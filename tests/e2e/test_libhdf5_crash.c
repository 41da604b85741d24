/*
 * tests/e2e/test_libhdf5_crash.c — input files that crash libhdf5 1.10.8 itself are
 * reported as damaged, not as a crash of segscore (io/h5_crash.h, the last resort).
 *
 * tests/data/libhdf5_crash/ holds the two files the fuzzer found (README there):
 * a chunked layout that declares no dimensions (a chunk size of 0: SIGFPE while the dataset
 * is opened) and a corrupt local heap
 * (SIGSEGV in a link lookup). `segscore run`, `inspect` and `evaluate` on each, and
 * `segscore kmeans` on a file crafted here with the same damage (a chunked layout that
 * declares no dimensions) in its matrix, initial centers or weights, each exit
 * 65 with the one line "segscore: error: <file>: the HDF5 library crashed reading this
 * file: it is damaged (signal N)" and nothing else; the outputs of earlier good runs (a
 * run's results set, a kmeans result) are byte-identical and no temporary is left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CRASH_DIR SGS_SOURCE_DIR "/tests/data/libhdf5_crash"
#define ROWS 20 /* of the crafted matrix */
#define COLS 3
#define CHUNK_ROWS 5   /* of the matrix /X */
#define WEIGHT_CHUNK 4 /* of the weights /w */

static char dir[256], out_dir[512], results[600], kmeans_out[600], matrix[600];
static sgs_test_snapshot_t before;

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-libhdf5-crash", dir, sizeof dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    snprintf(results, sizeof results, "%s/results.h5", out_dir);
    snprintf(kmeans_out, sizeof kmeans_out, "%s/clusters.h5", out_dir);
    snprintf(matrix, sizeof matrix, "%s/matrix.h5", dir);
    if (mkdir(out_dir, 0755) != 0)
        return -1;
    /* a good matrix, chunked (CHUNK_ROWS x COLS), for kmeans */
    hid_t file = H5Fcreate(matrix, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {ROWS, COLS}, chunk[2] = {CHUNK_ROWS, COLS};
    hid_t space = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    hid_t d = H5Dcreate2(file, "/X", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    double x[ROWS * COLS];
    for (int i = 0; i < ROWS * COLS; i++)
        x[i] = (double)((i * 7919) % 101) / 10.0;
    herr_t written = H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    /* and weights, chunked (WEIGHT_CHUNK): a one-dimensional dataset */
    hsize_t n = ROWS, wchunk = WEIGHT_CHUNK;
    space = H5Screate_simple(1, &n, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &wchunk);
    d = H5Dcreate2(file, "/w", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    double w[ROWS];
    for (int i = 0; i < ROWS; i++)
        w[i] = 1.0 + i % 2;
    if (written >= 0)
        written = H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(file);
    if (written < 0)
        return -1;
    /* the earlier good outputs: a run's results set and a kmeans result */
    char good[512], args[2048], out[8192];
    snprintf(good, sizeof good, "%s/good.h5", dir);
    snprintf(args, sizeof args, "generate --customers 300 --seed 7 -o '%s'", good);
    int status = sgs_test_run(args, out, sizeof out);
    if (status == 0) {
        snprintf(args, sizeof args, "run -q -i '%s' -o '%s'", good, results);
        status = sgs_test_run(args, out, sizeof out);
    }
    if (status == 0) {
        snprintf(args, sizeof args, "kmeans -q -i '%s' --dataset /X --k 3 -o '%s'", matrix,
                 kmeans_out);
        status = sgs_test_run(args, out, sizeof out);
    }
    if (status != 0) {
        print_error("a good run failed (%d): %s\n", status, out);
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

/* `segscore <args>` exits 65 and prints exactly the line for `input` and `sig`; the
 * earlier outputs are untouched and no temporary is left. */
static void expect_damaged(const char *args, const char *input, int sig)
{
    char out[8192], line[1024];
    int got = sgs_test_run(args, out, sizeof out);
    snprintf(line, sizeof line,
             "segscore: error: %s: the HDF5 library crashed reading this file: it is damaged "
             "(signal %d)\n",
             input, sig);
    if (got != 65 || strcmp(out, line) != 0)
        fail_msg("segscore %s: exit %d, expected 65; output:\n%s\nexpected exactly:\n%s", args, got,
                 out, line);
    sgs_test_assert_snapshot_unchanged(out_dir, &before);
}

/* run, inspect and evaluate (with outputs asked for) on `input`. */
static void commands_on(const char *input, int sig)
{
    char args[2048], eval_out[600], eval_json[600];
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s'", input, results);
    expect_damaged(args, input, sig);
    snprintf(args, sizeof args, "inspect '%s'", input);
    expect_damaged(args, input, sig);
    snprintf(eval_out, sizeof eval_out, "%s/evaluation.h5", out_dir);
    snprintf(eval_json, sizeof eval_json, "%s/evaluation.json", out_dir);
    snprintf(args, sizeof args,
             "evaluate -q -i '%s' --calibration-end 2024-01-01 -o '%s' --json '%s'", input,
             eval_out, eval_json);
    expect_damaged(args, input, sig); /* the snapshot says neither output appeared */
}

static void test_zero_chunk_dimension(void **state)
{
    (void)state;
    commands_on(CRASH_DIR "/chunk-dim-zero-sigfpe-in-libhdf5.h5", SIGFPE);
}

static void test_corrupt_local_heap(void **state)
{
    (void)state;
    commands_on(CRASH_DIR "/local-heap-segv-in-libhdf5.h5", SIGSEGV);
}

/* The layout message of the crafted /w (version 3, chunked: version, class 2, rank + 1,
 * the chunk index address (8 bytes), then the chunk dimension and the element size, 4
 * bytes each) made to declare no dimensions at all, as in the fuzzed file: libhdf5 refuses
 * a declared chunk dimension of 0 ("chunk dimension must be positive", 65 through the
 * guard), but with none declared it divides the extent by a chunk size of 0 while it
 * opens the dataset (SIGFPE in H5D__chunk_set_info). */
static void zero_chunk_rank(const char *path)
{
    static const unsigned char dims[8] = {WEIGHT_CHUNK, 0, 0, 0, 8, 0, 0, 0};
    size_t size = 0, hits = 0, at = 0;
    unsigned char *b = (unsigned char *)sgs_test_read_file(path, &size);
    assert_non_null(b);
    for (size_t i = 0; i + 11 + sizeof dims <= size; i++)
        if (b[i] == 3 && b[i + 1] == 2 && b[i + 2] == 2 &&
            memcmp(b + i + 11, dims, sizeof dims) == 0)
            hits++, at = i + 2;
    assert_int_equal(hits, 1);
    b[at] = 0;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, size, f), size);
    fclose(f);
    free(b);
}

/* kmeans reads its matrix, then the initial centers, then the weights, each armed, and
 * creates its output's temporary only after: a crash in any of them leaves the earlier
 * result as it was and no temporary. */
static void test_kmeans_inputs(void **state)
{
    (void)state;
    char damaged[600], cmd[1400], args[2048];
    snprintf(damaged, sizeof damaged, "%s/matrix-zero-chunk-rank.h5", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", matrix, damaged);
    assert_int_equal(system(cmd), 0);
    zero_chunk_rank(damaged);
    snprintf(args, sizeof args, "kmeans -q -i '%s' --dataset /w --k 3 -o '%s'", damaged,
             kmeans_out);
    expect_damaged(args, damaged, SIGFPE);
    snprintf(args, sizeof args, "kmeans -q -i '%s' --dataset /X --k 3 --init '%s:/w' -o '%s'",
             matrix, damaged, kmeans_out);
    expect_damaged(args, damaged, SIGFPE);
    snprintf(args, sizeof args, "kmeans -q -i '%s' --dataset /X --k 3 --weights /w -o '%s'",
             damaged, kmeans_out);
    expect_damaged(args, damaged, SIGFPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_chunk_dimension),
        cmocka_unit_test(test_corrupt_local_heap),
        cmocka_unit_test(test_kmeans_inputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
