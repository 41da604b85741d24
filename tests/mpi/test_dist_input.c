/*
 * tests/mpi/test_dist_input.c — the input read spread over processes (engine/dist_input.h),
 * run under mpirun with 1 to 4 processes (CMakeLists.txt registers one test per count).
 *
 * Every process also reads the whole file alone, as the single-process run does, and checks
 * that what it owns is exactly its slice of that: the same customers in the same order, each
 * with the same rows in the same order, the same figures of the file; that the slices are cut
 * at multiples of SGS_BLOCK_ROWS customers; and that a bad row in one share is every
 * process's error, the first bad row of the file first.
 */
#include "datasets/generate.h"
#include "engine/dist_input.h"
#include "engine/group_transactions.h"
#include "io/h5_columns.h"
#include "kernels/dates.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[512]; /* made by process 0, known to all */
static char generated[600], damaged[600], odd_chunks[600];

/* 150,000 rows in shuffled, deflated chunks of 40,000 rows: the shares (whole 65,536-row hash
 * blocks) cut chunks, which the reader's own decode then takes in part. */
static void write_odd_chunks(const char *path)
{
    const size_t n = 150000;
    int64_t *id = malloc(n * sizeof *id), *t = malloc(n * sizeof *t);
    double *amount = malloc(n * sizeof *amount);
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)((i * 7919) % 20011) + 1;
        t[i] = 1600000000 + (int64_t)i * 37;
        amount[i] = (double)(i % 1000) / 8.0 - 3.0;
    }
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    H5Gclose(H5Gcreate2(f, "/transactions", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    hsize_t dims = n, chunk = 40000;
    const char *names[] = {"/transactions/customer_id", "/transactions/time",
                           "/transactions/amount"};
    const void *data[] = {id, t, amount};
    for (int k = 0; k < 3; k++) {
        hid_t space = H5Screate_simple(1, &dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(dcpl, 1, &chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 1);
        hid_t type = k == 2 ? H5T_IEEE_F64LE : H5T_STD_I64LE;
        hid_t mem = k == 2 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
        hid_t d = H5Dcreate2(f, names[k], type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        sgs_assert_cmp(H5Dwrite(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data[k]), >=, 0);
        H5Dclose(d);
        H5Pclose(dcpl);
        H5Sclose(space);
    }
    H5Fclose(f);
    free(id);
    free(t);
    free(amount);
}

/* 140,000 rows (three hash blocks of 65,536) with NaN amounts at rows 30,000 (block 0: the
 * first share) and 135,000 (block 2: the last share): two shares fail, the first one is the
 * error. */
static void write_damaged(const char *path)
{
    const size_t n = 140000;
    int64_t *id = malloc(n * sizeof *id), *t = malloc(n * sizeof *t);
    double *amount = malloc(n * sizeof *amount);
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)(i % 5000) + 1;
        t[i] = 1600000000 + (int64_t)i * 60;
        amount[i] = 10.0 + (double)(i % 7);
    }
    amount[30000] = NAN;
    amount[135000] = NAN;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    H5Gclose(H5Gcreate2(f, "/transactions", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    sgs_assert_cmp(sgs_h5_write_column(f, "/transactions/customer_id", SGS_H5_I64, id, n, 0, NULL),
                   ==, SGS_OK);
    sgs_assert_cmp(sgs_h5_write_column(f, "/transactions/time", SGS_H5_I64, t, n, 0, NULL), ==,
                   SGS_OK);
    sgs_assert_cmp(sgs_h5_write_column(f, "/transactions/amount", SGS_H5_F64, amount, n, 0, NULL),
                   ==, SGS_OK);
    H5Fclose(f);
    free(id);
    free(t);
    free(amount);
}

static int setup_files(void **state)
{
    (void)state;
    sgs_test_mpi_tmpdir("dist_input", dir, sizeof dir);
    snprintf(generated, sizeof generated, "%s/in.h5", dir);
    snprintf(damaged, sizeof damaged, "%s/damaged.h5", dir);
    snprintf(odd_chunks, sizeof odd_chunks, "%s/odd_chunks.h5", dir);
    if (sgs_test_world.rank == 0) {
        sgs_generate_params_t p;
        sgs_generate_defaults(&p);
        p.n_customers = 50000; /* four blocks of SGS_BLOCK_ROWS customers */
        p.seed = 7;
        p.block_customers = 4096; /* rows of a customer far apart: shares overlap in ids */
        sgs_exec_t exec = {.n_threads = 2};
        sgs_error_t err = {0};
        sgs_assert_cmp(sgs_generate_file(generated, &p, &exec, NULL, NULL, NULL, &err), ==, SGS_OK);
        write_damaged(damaged);
        write_odd_chunks(odd_chunks);
    }
    sgs_test_mpi_wait(); /* the files are written */
    return 0;
}

static int remove_files(void **state)
{
    (void)state;
    sgs_test_mpi_rmdir(dir);
    return 0;
}

static sgs_read_options_t options(const char *as_of)
{
    sgs_read_options_t opt = sgs_test_mpi_read_options();
    if (as_of) {
        int64_t day = 0;
        assert_int_equal(sgs_date_parse_day(as_of, &day), SGS_OK);
        opt.has_as_of = 1;
        opt.as_of_end_s = (day + 1) * SGS_SECONDS_PER_DAY;
    }
    return opt;
}

static void check_owned_slice(const char *path, const char *as_of)
{
    sgs_read_options_t opt = options(as_of);
    sgs_grouped_t all, mine; /* alone, as the single-process run; spread */
    sgs_read_stats_t st_all, st;
    sgs_dist_owners_t own;
    sgs_test_read_grouped(path, &opt, &all, &st_all);
    sgs_test_mpi_read_grouped(path, &opt, &mine, &st, &own);
    sgs_assert_cmp(own.n_customers_all, ==, all.n_customers);
    if (own.first_customer % SGS_BLOCK_ROWS) /* then it owns nothing, and nothing comes after */
        sgs_assert_cmp(own.first_customer, ==, own.n_customers_all);
    sgs_assert_cmp(st.content_hash64, ==, st_all.content_hash64);
    sgs_assert_cmp(st.n_rows_in_file, ==, st_all.n_rows_in_file);
    sgs_assert_cmp(st.n_rows_after_as_of, ==, st_all.n_rows_after_as_of);
    sgs_assert_cmp(st.min_time_s, ==, st_all.min_time_s);
    sgs_assert_cmp(st.max_time_s, ==, st_all.max_time_s);
    sgs_assert_cmp(st.sorted_by_customer, ==, st_all.sorted_by_customer);
    sgs_assert_cmp(mine.n_customers, ==, own.n_customers);
    size_t c0 = own.first_customer, r0 = all.row_offset[c0];
    for (size_t c = 0; c < mine.n_customers; c++) {
        sgs_assert_cmp(mine.customer_id[c], ==, all.customer_id[c0 + c]);
        sgs_assert_cmp(sgs_dist_owner_of(&own, mine.customer_id[c]), ==, sgs_test_world.rank);
        sgs_assert_cmp(mine.row_offset[c + 1], ==, all.row_offset[c0 + c + 1] - r0);
    }
    for (size_t i = 0; i < mine.n_rows; i++) {
        sgs_assert_cmp(mine.day[i], ==, all.day[r0 + i]);
        assert_memory_equal(&mine.amount[i], &all.amount[r0 + i], sizeof(double));
        if (all.channel)
            sgs_assert_cmp(mine.channel[i], ==, all.channel[r0 + i]);
    }
    /* every customer is somewhere: the counts add up */
    int64_t customers = (int64_t)mine.n_customers, rows = (int64_t)mine.n_rows;
    sgs_dist_reduce_i64(&sgs_test_world, &customers, 1, SGS_DIST_SUM);
    sgs_dist_reduce_i64(&sgs_test_world, &rows, 1, SGS_DIST_SUM);
    sgs_assert_cmp(customers, ==, (int64_t)all.n_customers);
    sgs_assert_cmp(rows, ==, (int64_t)all.n_rows);
    sgs_grouped_free(&mine);
    sgs_grouped_free(&all);
    sgs_dist_owners_free(&own);
}

static void owned_rows_are_the_single_run_slice(void **state)
{
    (void)state;
    check_owned_slice(generated, NULL);
}

static void owned_rows_with_an_as_of(void **state)
{
    (void)state;
    check_owned_slice(generated, "2023-01-31");
}

/* Chunks that straddle the shares: each process decodes its part of them. */
static void owned_rows_from_chunks_cut_by_shares(void **state)
{
    (void)state;
    check_owned_slice(odd_chunks, NULL);
}

/* Each process gets the events of its customers, in file order. */
static void events_go_to_their_customer_owner(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 2};
    sgs_read_options_t opt = options(NULL);
    sgs_error_t err = {0};
    sgs_transactions_t tx;
    sgs_read_stats_t st;
    sgs_dist_owners_t own;
    sgs_assert_cmp(
        sgs_dist_read_transactions(&sgs_test_world, &exec, generated, &opt, &tx, &st, &own, &err),
        ==, SGS_OK);
    sgs_events_t all, ev;
    int present_all = 0, present = 0;
    sgs_read_stats_t es_all, es;
    sgs_assert_cmp(sgs_h5_read_events(generated, &opt, &all, &present_all, &es_all, &err), ==,
                   SGS_OK);
    sgs_assert_cmp(
        sgs_dist_read_events(&sgs_test_world, generated, &opt, &own, &ev, &present, &es, &err), ==,
        SGS_OK);
    sgs_assert_cmp(present, ==, 1);
    sgs_assert_cmp(present_all, ==, 1);
    sgs_assert_cmp(es.content_hash64, ==, es_all.content_hash64);
    size_t k = 0;
    for (size_t i = 0; i < all.n_rows; i++) {
        if (sgs_dist_owner_of(&own, all.customer_id[i]) != sgs_test_world.rank)
            continue;
        sgs_assert_cmp(k, <, ev.n_rows);
        sgs_assert_cmp(ev.customer_id[k], ==, all.customer_id[i]);
        sgs_assert_cmp(ev.time_s[k], ==, all.time_s[i]);
        sgs_assert_cmp(ev.kind[k], ==, all.kind[i]);
        assert_memory_equal(&ev.value[k], &all.value[i], sizeof(double));
        sgs_assert_cmp(ev.channel[k], ==, all.channel[i]);
        k++;
    }
    sgs_assert_cmp(k, ==, ev.n_rows);
    sgs_events_free(&ev);
    sgs_events_free(&all);
    sgs_transactions_free(&tx);
    sgs_dist_owners_free(&own);
}

/* A bad row in any share stops every process with the file's first bad row. */
static void first_bad_row_is_everyones_error(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 2};
    sgs_read_options_t opt = options(NULL);
    sgs_error_t err = {0};
    sgs_transactions_t tx;
    sgs_read_stats_t st;
    sgs_dist_owners_t own;
    int rc =
        sgs_dist_read_transactions(&sgs_test_world, &exec, damaged, &opt, &tx, &st, &own, &err);
    sgs_assert_cmp(rc, ==, SGS_EDATA);
    sgs_assert_contains(err.message, "/transactions/amount: row 30000: amount is NaN");
    sgs_assert_not_contains(err.message, "135000");
    if (sgs_test_world.size > 1)
        sgs_assert_contains(err.message, " of ");
    sgs_assert_cmp(tx.n_rows, ==, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(owned_rows_are_the_single_run_slice),
        cmocka_unit_test(owned_rows_with_an_as_of),
        cmocka_unit_test(owned_rows_from_chunks_cut_by_shares),
        cmocka_unit_test(events_go_to_their_customer_owner),
        cmocka_unit_test(first_bad_row_is_everyones_error),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, setup_files, remove_files);
}
