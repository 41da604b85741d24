/*
 * tests/mpi/test_h5_collective.c — one HDF5 file written by every process together
 * (io/h5_columns.h sgs_h5_create_shared, sgs_h5_write_column_part), under mpirun with 1 to 4
 * processes: each writes its rows (uneven counts, some none), and the file holds what one
 * process writing every row makes: the same values and the same stored types; a column of no
 * row at all is an empty dataset; the file reopened by every process together
 * (sgs_h5_open_shared) takes one more column the same way.
 */
#include "engine/dist.h"
#include "io/h5_columns.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <hdf5.h>
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
                                            n_all, &err),
                   ==, SGS_OK);
    sgs_assert_cmp(
        sgs_h5_write_column_part(f, "/customers/value", SGS_H5_F64, value, first, n, n_all, &err),
        ==, SGS_OK);
    sgs_assert_cmp(sgs_h5_write_column_part(f, "/rfm/code", SGS_H5_U8, code, first, n, n_all, &err),
                   ==, SGS_OK);
    sgs_assert_cmp(
        sgs_h5_write_column_part(f, "/rfm/too_far", SGS_H5_U8, code, n_all, 1, n_all, &err), ==,
        SGS_EINVAL);
    sgs_assert_cmp(sgs_h5_write_column_part(f, "/rfm/empty", SGS_H5_U8, code, 0, 0, 0, &err), ==,
                   SGS_OK);
    sgs_assert_cmp(H5Fclose(f), >=, 0);
    f = sgs_h5_open_shared(shared); /* to add to it, every process */
    sgs_assert_cmp(f, >=, 0);
    sgs_assert_cmp(
        sgs_h5_write_column_part(f, "/added/code", SGS_H5_U8, code, first, n, n_all, &err), ==,
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
        free(got);
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

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(columns_equal_one_writer),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
