/*
 * tests/mpi/test_dist_customers.c — /customers read spread over processes
 * (engine/dist_input.h sgs_dist_read_customers), under mpirun with 1 to 4 processes: each
 * process gets the rows of its customers in file order, and a duplicate id or a referrer that
 * is not a customer, anywhere in the table, is every process's error with the single-process
 * message.
 */
#include "engine/dist_input.h"
#include "io/h5_columns.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[512], generated[600], duplicated[600], bad_referrer[600];

/* 140,000 customers (three hash blocks of rows) buying once each, with the customer table's
 * ids in a shuffled order; `damage` 1 repeats ids at rows 70,001 and 130,001 (of rows 5 and
 * 100,000), 2 gives rows 100,000 and 135,000 a referrer that is no customer. */
static void write_table(const char *path, int damage)
{
    const size_t n = 140000;
    int64_t *id = malloc(n * sizeof *id), *t = malloc(n * sizeof *t),
            *ref = malloc(n * sizeof *ref);
    double *amount = malloc(n * sizeof *amount);
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)((i * 7919) % n) * 2 + 1; /* a permutation of odd ids */
        t[i] = 1600000000 + (int64_t)i;
        amount[i] = 5.0;
        ref[i] = i % 3 ? -1 : (int64_t)(((i + 17) * 7919) % n) * 2 + 1;
    }
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    H5Gclose(H5Gcreate2(f, "/transactions", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Gclose(H5Gcreate2(f, "/customers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_h5_write_column(f, "/transactions/customer_id", SGS_H5_I64, id, n, 0, &err),
                   ==, SGS_OK);
    sgs_assert_cmp(sgs_h5_write_column(f, "/transactions/time", SGS_H5_I64, t, n, 0, &err), ==,
                   SGS_OK);
    sgs_assert_cmp(sgs_h5_write_column(f, "/transactions/amount", SGS_H5_F64, amount, n, 0, &err),
                   ==, SGS_OK);
    if (damage == 1) {
        id[70001] = id[5];
        id[130001] = id[100000];
    }
    if (damage == 2) { /* even ids are no customers: the earlier row's is owned by the last
                          process, the later row's by the first */
        ref[100000] = (int64_t)n * 2 + 2;
        ref[135000] = 4;
    }
    sgs_assert_cmp(sgs_h5_write_column(f, "/customers/customer_id", SGS_H5_I64, id, n, 0, &err), ==,
                   SGS_OK);
    sgs_assert_cmp(sgs_h5_write_column(f, "/customers/referrer_id", SGS_H5_I64, ref, n, 0, &err),
                   ==, SGS_OK);
    H5Fclose(f);
    free(id);
    free(t);
    free(ref);
    free(amount);
}

static int setup_files(void **state)
{
    (void)state;
    sgs_test_mpi_tmpdir("dist_customers", dir, sizeof dir);
    snprintf(generated, sizeof generated, "%s/in.h5", dir);
    snprintf(duplicated, sizeof duplicated, "%s/duplicated.h5", dir);
    snprintf(bad_referrer, sizeof bad_referrer, "%s/bad_referrer.h5", dir);
    if (sgs_test_world.rank == 0) {
        write_table(generated, 0);
        write_table(duplicated, 1);
        write_table(bad_referrer, 2);
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

/* The owners from the file's transactions, and /customers read spread: rc and message. */
static int read_spread(const char *path, sgs_customers_t *out, sgs_dist_owners_t *own,
                       sgs_error_t *err)
{
    sgs_exec_t exec = {.n_threads = 2};
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.now_s = 1900000000;
    sgs_transactions_t tx;
    sgs_read_stats_t st;
    sgs_assert_cmp(
        sgs_dist_read_transactions(&sgs_test_world, &exec, path, &opt, &tx, &st, own, err), ==,
        SGS_OK);
    sgs_transactions_free(&tx);
    int present = 0;
    int rc = sgs_dist_read_customers(&sgs_test_world, path, &opt, own, out, &present, err);
    if (rc == SGS_OK)
        sgs_assert_cmp(present, ==, 1);
    return rc;
}

static void rows_go_to_their_owner(void **state)
{
    (void)state;
    sgs_customers_t all, mine;
    int present = 0;
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_h5_read_customers(generated, &all, &present, &err), ==, SGS_OK);
    sgs_dist_owners_t own;
    sgs_assert_cmp(read_spread(generated, &mine, &own, &err), ==, SGS_OK);
    size_t k = 0;
    for (size_t i = 0; i < all.n_rows; i++) {
        if (sgs_dist_owner_of(&own, all.customer_id[i]) != sgs_test_world.rank)
            continue;
        sgs_assert_cmp(k, <, mine.n_rows);
        sgs_assert_cmp(mine.customer_id[k], ==, all.customer_id[i]);
        sgs_assert_cmp(mine.referrer_id[k], ==, all.referrer_id[i]);
        k++;
    }
    sgs_assert_cmp(k, ==, mine.n_rows);
    sgs_customers_free(&all);
    sgs_customers_free(&mine);
    sgs_dist_owners_free(&own);
}

/* The spread read fails as the single-process read does, with its message. */
static void check_message(const char *path)
{
    sgs_customers_t all, mine;
    int present = 0;
    sgs_error_t single = {0}, err = {0};
    sgs_assert_cmp(sgs_h5_read_customers(path, &all, &present, &single), ==, SGS_EDATA);
    sgs_dist_owners_t own;
    sgs_assert_cmp(read_spread(path, &mine, &own, &err), ==, SGS_EDATA);
    sgs_assert_contains(err.message, single.message);
    sgs_assert_cmp(mine.n_rows, ==, 0);
    sgs_dist_owners_free(&own);
}

static void duplicate_named_as_one_process_names_it(void **state)
{
    (void)state;
    check_message(duplicated);
}

static void referrer_named_as_one_process_names_it(void **state)
{
    (void)state;
    check_message(bad_referrer);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_go_to_their_owner),
        cmocka_unit_test(duplicate_named_as_one_process_names_it),
        cmocka_unit_test(referrer_named_as_one_process_names_it),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, setup_files, remove_files);
}
