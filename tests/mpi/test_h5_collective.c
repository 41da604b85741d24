/*
 * tests/mpi/test_h5_collective.c — one HDF5 file written by every process together
 * (io/h5_columns.h sgs_h5_create_shared, sgs_h5_write_column_part), under mpirun with 1 to 4
 * processes: each writes its rows (uneven counts, some none), and the file holds what one
 * process writing every row makes: the same values and the same stored types; a column of no
 * row at all is an empty dataset; the file reopened by every process together
 * (sgs_h5_open_shared) takes one more column the same way. Compressed columns (deflate 6) of
 * several 65,536-row chunks, cut inside chunks by the processes' rows, one process holding none,
 * hold the values, chunks and filters of one writer's (h5diff, `h5dump -p` but for the
 * allocation time); rows beyond the dataset on the last process alone fail that process only,
 * the others' writes going through.
 */
#include "engine/dist.h"
#include "io/h5_columns.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Process p's rows: p = 1 has none, the others a share growing with p. */
static size_t rows_of(int p)
{
    return p == 1 ? 0 : 1000 * (size_t)(p + 1) + 7;
}

static void columns_equal_one_writer(void **state)
{
    (void)state;
    char dir[512];
    sgs_test_mpi_tmpdir("h5_collective", dir, sizeof dir);
    char shared[600], single[600];
    snprintf(shared, sizeof shared, "%s/shared.h5", dir);
    snprintf(single, sizeof single, "%s/single.h5", dir);
    size_t n_all = 0, first = 0;
    for (int p = 0; p < sgs_test_world.size; p++) {
        if (p < sgs_test_world.rank)
            first += rows_of(p);
        n_all += rows_of(p);
    }
    size_t n = rows_of(sgs_test_world.rank);
    int64_t *id = malloc((n ? n : 1) * sizeof *id);
    double *value = malloc((n ? n : 1) * sizeof *value);
    uint8_t *code = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)(first + i) * 3 - 5;
        value[i] = (double)(first + i) / 7.0;
        code[i] = (uint8_t)((first + i) % 11);
    }
    sgs_error_t err = {0};
    hid_t f = sgs_h5_create_shared(shared);
    sgs_assert_cmp(f, >=, 0);
    sgs_assert_cmp(sgs_h5_write_column_part(f, "/customers/customer_id", SGS_H5_I64, id, first, n,
                                            n_all, 0, &err),
                   ==, SGS_OK);
    sgs_assert_cmp(sgs_h5_write_column_part(f, "/customers/value", SGS_H5_F64, value, first, n,
                                            n_all, 0, &err),
                   ==, SGS_OK);
    sgs_assert_cmp(
        sgs_h5_write_column_part(f, "/rfm/code", SGS_H5_U8, code, first, n, n_all, 0, &err), ==,
        SGS_OK);
    sgs_assert_cmp(
        sgs_h5_write_column_part(f, "/rfm/too_far", SGS_H5_U8, code, n_all, 1, n_all, 0, &err), ==,
        SGS_EINVAL);
    sgs_assert_cmp(sgs_h5_write_column_part(f, "/rfm/empty", SGS_H5_U8, code, 0, 0, 0, 0, &err), ==,
                   SGS_OK);
    sgs_assert_cmp(H5Fclose(f), >=, 0);
    f = sgs_h5_open_shared(shared); /* to add to it, every process */
    sgs_assert_cmp(f, >=, 0);
    sgs_assert_cmp(
        sgs_h5_write_column_part(f, "/added/code", SGS_H5_U8, code, first, n, n_all, 0, &err), ==,
        SGS_OK);
    sgs_assert_cmp(H5Fclose(f), >=, 0);
    free(id);
    free(value);
    free(code);
    int64_t written = 1;
    sgs_dist_reduce_i64(&sgs_test_world, &written, 1,
                        SGS_DIST_SUM); /* every process closed the file */
    if (sgs_test_world.rank == 0) {
        /* one process writing every row */
        int64_t *all_id = malloc(n_all * sizeof *all_id);
        double *all_value = malloc(n_all * sizeof *all_value);
        uint8_t *all_code = malloc(n_all);
        for (size_t i = 0; i < n_all; i++) {
            all_id[i] = (int64_t)i * 3 - 5;
            all_value[i] = (double)i / 7.0;
            all_code[i] = (uint8_t)(i % 11);
        }
        hid_t g = H5Fcreate(single, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        sgs_assert_cmp(
            sgs_h5_write_column(g, "/customers/customer_id", SGS_H5_I64, all_id, n_all, 0, &err),
            ==, SGS_OK);
        sgs_assert_cmp(
            sgs_h5_write_column(g, "/customers/value", SGS_H5_F64, all_value, n_all, 0, &err), ==,
            SGS_OK);
        sgs_assert_cmp(sgs_h5_write_column(g, "/rfm/code", SGS_H5_U8, all_code, n_all, 0, &err), ==,
                       SGS_OK);
        sgs_assert_cmp(sgs_h5_write_column(g, "/added/code", SGS_H5_U8, all_code, n_all, 0, &err),
                       ==, SGS_OK);
        H5Fclose(g);
        char cmd[4000], out[4096];
        snprintf(cmd, sizeof cmd,
                 "h5diff -c %s %s /customers /customers && h5diff -c %s %s /rfm/code /rfm/code && "
                 "h5diff -c %s %s /added /added",
                 shared, single, shared, single, shared, single);
        int rc = sgs_test_shell(cmd, out, sizeof out);
        if (rc != 0)
            fail_msg("h5diff: %s", out);
        /* the values themselves, read back */
        hid_t h = H5Fopen(shared, H5F_ACC_RDONLY, H5P_DEFAULT);
        size_t got_n = 0;
        int64_t *got = sgs_test_column(h, "/customers/customer_id", SGS_H5_I64, &got_n);
        sgs_assert_cmp(got_n, ==, n_all);
        for (size_t i = 0; i < n_all; i++)
            sgs_assert_cmp(got[i], ==, all_id[i]);
        sgs_free(got);
        /* the column of no row: an empty dataset of the type */
        hid_t d = H5Dopen2(h, "/rfm/empty", H5P_DEFAULT);
        sgs_assert_cmp(d, >=, 0);
        hid_t space = H5Dget_space(d);
        hsize_t dims = 1;
        sgs_assert_cmp(H5Sget_simple_extent_ndims(space), ==, 1);
        H5Sget_simple_extent_dims(space, &dims, NULL);
        sgs_assert_cmp(dims, ==, 0);
        hid_t type = H5Dget_type(d);
        sgs_assert_cmp(H5Tget_size(type), ==, 1);
        H5Tclose(type);
        H5Sclose(space);
        H5Dclose(d);
        H5Fclose(h);
        free(all_id);
        free(all_value);
        free(all_code);
        sgs_test_rmdir(dir);
    }
}

/* Process p's rows of the compressed columns: p = 1 has none, the others 50,000 (p + 1) + 13,
 * so that the processes' cuts fall inside the 65,536-row chunks. */
static size_t big_rows_of(int p)
{
    return p == 1 ? 0 : 50000 * (size_t)(p + 1) + 13;
}

/* `h5dump -p -H` of one dataset of path without the lines that name the file or where and when
 * its space is allocated, into out. */
static void layout_of(const char *path, const char *dataset, char *out, size_t size)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "h5dump -p -H -d %s '%s' | grep -v -e '^HDF5 ' -e OFFSET -e ALLOC_TIME -e "
             "ALLOCATION_TIME -e '^ *} *$'",
             dataset, path);
    if (sgs_test_shell(cmd, out, size) != 0)
        fail_msg("%s: %s", cmd, out);
}

static void compressed_columns_equal_one_writer(void **state)
{
    (void)state;
    char dir[512];
    sgs_test_mpi_tmpdir("h5_collective_z", dir, sizeof dir);
    char shared[600], single[600];
    snprintf(shared, sizeof shared, "%s/shared.h5", dir);
    snprintf(single, sizeof single, "%s/single.h5", dir);
    const int last = sgs_test_world.size - 1;
    size_t n_all = 0, first = 0;
    for (int p = 0; p < sgs_test_world.size; p++) {
        if (p < sgs_test_world.rank)
            first += big_rows_of(p);
        n_all += big_rows_of(p);
    }
    size_t n = big_rows_of(sgs_test_world.rank);
    int64_t *id = malloc((n ? n : 1) * sizeof *id);
    double *value = malloc((n ? n : 1) * sizeof *value);
    uint8_t *code = malloc(n ? n : 1);
    assert_true(id && value && code);
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)(first + i) * 3 - 5;
        value[i] = (double)((first + i) % 1000) / 7.0;
        code[i] = (uint8_t)((first + i) % 11);
    }
    sgs_error_t err = {0};
    hid_t f = sgs_h5_create_shared(shared);
    sgs_assert_cmp(f, >=, 0);
    sgs_assert_cmp(sgs_h5_write_column_part(f, "/customers/customer_id", SGS_H5_I64, id, first, n,
                                            n_all, 6, &err),
                   ==, SGS_OK);
    sgs_assert_cmp(sgs_h5_write_column_part(f, "/customers/value", SGS_H5_F64, value, first, n,
                                            n_all, 6, &err),
                   ==, SGS_OK);
    sgs_assert_cmp(
        sgs_h5_write_column_part(f, "/rfm/code", SGS_H5_U8, code, first, n, n_all, 6, &err), ==,
        SGS_OK);
    /* the last process's rows beyond the dataset: its error alone, the others' rows written */
    int beyond = sgs_test_world.rank == last;
    int rc = sgs_h5_write_column_part(f, "/rfm/too_far", SGS_H5_U8, code, beyond ? n_all : first,
                                      beyond ? 1 : n, n_all, 6, &err);
    sgs_assert_cmp(rc, ==, beyond ? SGS_EINVAL : SGS_OK);
    sgs_assert_cmp(sgs_h5_write_column_part(f, "/rfm/empty", SGS_H5_U8, code, 0, 0, 0, 6, &err), ==,
                   SGS_OK);
    sgs_assert_cmp(H5Fclose(f), >=, 0);
    free(id);
    free(value);
    free(code);
    sgs_test_mpi_wait(); /* every process closed the file */
    if (sgs_test_world.rank == 0) {
        int64_t *all_id = malloc(n_all * sizeof *all_id);
        double *all_value = malloc(n_all * sizeof *all_value);
        uint8_t *all_code = malloc(n_all);
        assert_true(all_id && all_value && all_code);
        for (size_t i = 0; i < n_all; i++) {
            all_id[i] = (int64_t)i * 3 - 5;
            all_value[i] = (double)(i % 1000) / 7.0;
            all_code[i] = (uint8_t)(i % 11);
        }
        hid_t g = H5Fcreate(single, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        sgs_assert_cmp(g, >=, 0);
        sgs_assert_cmp(
            sgs_h5_write_column(g, "/customers/customer_id", SGS_H5_I64, all_id, n_all, 6, &err),
            ==, SGS_OK);
        sgs_assert_cmp(
            sgs_h5_write_column(g, "/customers/value", SGS_H5_F64, all_value, n_all, 6, &err), ==,
            SGS_OK);
        sgs_assert_cmp(sgs_h5_write_column(g, "/rfm/code", SGS_H5_U8, all_code, n_all, 6, &err), ==,
                       SGS_OK);
        sgs_assert_cmp(sgs_h5_write_column(g, "/rfm/empty", SGS_H5_U8, all_code, 0, 6, &err), ==,
                       SGS_OK);
        H5Fclose(g);
        char cmd[4000], out[4096];
        snprintf(cmd, sizeof cmd,
                 "h5diff -c %s %s /customers /customers && h5diff -c %s %s /rfm/code /rfm/code",
                 shared, single, shared, single);
        if (sgs_test_shell(cmd, out, sizeof out) != 0)
            fail_msg("h5diff: %s", out);
        /* the same chunks, filters and compressed sizes (the chunks' bytes); only the
         * allocation time differs, early in parallel HDF5 */
        static const char *const datasets[] = {"/customers/customer_id", "/customers/value",
                                               "/rfm/code", "/rfm/empty"};
        for (size_t k = 0; k < sizeof datasets / sizeof datasets[0]; k++) {
            char a[4096], b[4096];
            layout_of(shared, datasets[k], a, sizeof a);
            layout_of(single, datasets[k], b, sizeof b);
            if (strcmp(a, b) != 0)
                fail_msg("%s: the layout differs from one writer's:\n%s\none writer:\n%s",
                         datasets[k], a, b);
            if (k < 3 && !strstr(a, "CHUNKED ( 65536 )") && !(n_all < 65536))
                fail_msg("%s: not in chunks of 65,536 rows:\n%s", datasets[k], a);
            if (k < 3 && !strstr(a, "COMPRESSION DEFLATE { LEVEL 6 }"))
                fail_msg("%s: not deflated at level 6:\n%s", datasets[k], a);
        }
        /* the rows the processes before the last wrote into /rfm/too_far */
        hid_t h = H5Fopen(shared, H5F_ACC_RDONLY, H5P_DEFAULT);
        size_t got_n = 0;
        uint8_t *got = sgs_test_column(h, "/rfm/too_far", SGS_H5_U8, &got_n);
        sgs_assert_cmp(got_n, ==, n_all);
        for (size_t i = 0; i < n_all - big_rows_of(last); i++)
            sgs_assert_cmp(got[i], ==, all_code[i]);
        sgs_free(got);
        H5Fclose(h);
        free(all_id);
        free(all_value);
        free(all_code);
        sgs_test_rmdir(dir);
    }
    sgs_test_mpi_wait();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(columns_equal_one_writer),
        cmocka_unit_test(compressed_columns_equal_one_writer),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
