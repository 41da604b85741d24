/*
 * tests/unit/test_h5_input.c — the validating chunked input reader (io/h5_input.h): exact
 * read-back across chunk boundaries and integer widths, as-of exclusion, sortedness, every
 * validation rule with its message, the content hash against an independent
 * recomputation, problem collection for inspect, identity and the object listing.
 *
 * Files are built with the HDF5 C API (through io/h5_columns.h where it fits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/exit_status.h"
#include "io/h5_columns.h"
#include "io/h5_input.h"
#include "io/h5_objects.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2024-01-01T00:00:00Z and a "now" a year later, so that test data is never "future". */
#define T0 INT64_C(1704067200)
#define NOW (T0 + 366 * 86400)

/* ---- Building files ------------------------------------------------------------------ */

typedef struct fixture {
    char dir[256];
    char path[512];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    sgs_test_tmpdir("h5input", f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/demo.h5", f->dir);
    *state = f;
    sgs_h5_quiet();
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    sgs_test_rmdir(f->dir);
    free(f);
    return 0;
}

static hid_t create_file(const char *path)
{
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(file, >=, 0);
    return file;
}

static void write_col(hid_t file, const char *path, sgs_h5_type_t type, const void *data, size_t n)
{
    sgs_error_t err = {0};
    int rc = sgs_h5_write_column(file, path, type, data, n, 0, &err);
    if (rc)
        fail_msg("%s", err.message);
}

/* Write a column through the appender: file chunks of `chunk` rows, deflate-compressed. */
static void write_chunked(hid_t file, const char *path, sgs_h5_type_t type, const void *data,
                          size_t n, size_t chunk)
{
    sgs_error_t err = {0};
    sgs_h5_appender_t *a = NULL;
    assert_int_equal(sgs_h5_appender_create(file, path, type, chunk, 4, &a, &err), 0);
    assert_int_equal(sgs_h5_appender_append(a, data, n, &err), 0);
    assert_int_equal(sgs_h5_appender_close(a, &err), 0);
}

/* Write a column with an explicit file type through the raw API (uint64, float32, 2-D). */
static void write_raw(hid_t file, const char *path, hid_t ftype, hid_t mtype, const void *data,
                      int rank, const hsize_t *dims)
{
    sgs_error_t err = {0};
    assert_int_equal(sgs_h5_group_ensure(file, "/transactions", &err), 0);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dset = H5Dcreate2(file, path, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(dset, >=, 0);
    sgs_assert_cmp(H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), >=, 0);
    H5Dclose(dset);
    H5Sclose(space);
}

/* The reference table: 10 rows, sorted by (customer_id, time). */
#define N10 10
static const int64_t ids10[N10] = {1, 1, 1, 2, 2, 3, 5, 5, 5, 9};
static const int64_t times10[N10] = {
    T0,       T0 + 86400,     T0 + 5 * 86400, T0 + 3600,      T0 + 7200,
    T0 + 100, T0 + 2 * 86400, T0 + 3 * 86400, T0 + 4 * 86400, T0 + 9 * 86400};
static const double amounts10[N10] = {10.5, -3.25, 0.0, 7.0, 8.125, 100.0, 1e-3, 2.5, 3.5, 42.0};
static const uint8_t channels10[N10] = {1, 2, 3, 1, 1, 7, 0, 2, 2, 4};
static const int32_t categories10[N10] = {11, 12, 13, -1, 0, 5, 6, 7, 8, 2147483647};

/* Write the reference table, with ids as int32 when `ids_int32`, in file chunks of 4
 * compressed rows when `chunked`, and with the optional columns when `optional`. */
static void write_tx10(const char *path, int ids_int32, int chunked, int optional,
                       const double *amounts)
{
    hid_t file = create_file(path);
    int32_t ids32[N10];
    for (size_t i = 0; i < N10; i++)
        ids32[i] = (int32_t)ids10[i];
    void (*w)(hid_t, const char *, sgs_h5_type_t, const void *, size_t) = write_col;
    if (chunked) {
        write_chunked(file, "/transactions/customer_id", ids_int32 ? SGS_H5_I32 : SGS_H5_I64,
                      ids_int32 ? (const void *)ids32 : (const void *)ids10, N10, 4);
        write_chunked(file, "/transactions/time", SGS_H5_I64, times10, N10, 4);
        write_chunked(file, "/transactions/amount", SGS_H5_F64, amounts, N10, 4);
        if (optional) {
            write_chunked(file, "/transactions/channel", SGS_H5_U8, channels10, N10, 4);
            write_chunked(file, "/transactions/category", SGS_H5_I32, categories10, N10, 4);
        }
    } else {
        w(file, "/transactions/customer_id", ids_int32 ? SGS_H5_I32 : SGS_H5_I64,
          ids_int32 ? (const void *)ids32 : (const void *)ids10, N10);
        w(file, "/transactions/time", SGS_H5_I64, times10, N10);
        w(file, "/transactions/amount", SGS_H5_F64, amounts, N10);
        if (optional) {
            w(file, "/transactions/channel", SGS_H5_U8, channels10, N10);
            w(file, "/transactions/category", SGS_H5_I32, categories10, N10);
        }
    }
    H5Fclose(file);
}

/* Write /transactions from arrays of n rows (int64 ids and times, float64 amounts). */
static void write_tx(const char *path, const int64_t *ids, const int64_t *times,
                     const double *amounts, size_t n)
{
    hid_t file = create_file(path);
    write_col(file, "/transactions/customer_id", SGS_H5_I64, ids, n);
    write_col(file, "/transactions/time", SGS_H5_I64, times, n);
    write_col(file, "/transactions/amount", SGS_H5_F64, amounts, n);
    H5Fclose(file);
}

static sgs_read_options_t options(size_t chunk_rows)
{
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.now_s = NOW;
    opt.chunk_rows = chunk_rows;
    return opt;
}

/* Read and expect failure with `code`; returns the message (static buffer). */
static const char *expect_tx_error(const char *path, const sgs_read_options_t *opt, int code)
{
    static sgs_error_t err;
    memset(&err, 0, sizeof err);
    sgs_transactions_t t;
    sgs_read_stats_t st;
    int rc = sgs_h5_read_transactions(path, opt, &t, &st, &err);
    if (rc != code)
        fail_msg("expected code %d, got %d (%s)", code, rc, err.message);
    assert_int_equal(err.code, code);
    assert_int_equal(t.n_rows, 0);
    assert_null(t.customer_id);
    assert_null(t.amount);
    return err.message;
}

/* ---- Reading back exactly ------------------------------------------------------------ */

static void check_tx10(const sgs_transactions_t *t, const sgs_read_stats_t *st, int optional)
{
    assert_int_equal(t->n_rows, N10);
    for (size_t i = 0; i < N10; i++) {
        assert_int_equal(t->customer_id[i], ids10[i]);
        assert_int_equal(t->time_s[i], times10[i]);
        assert_memory_equal(&t->amount[i], &amounts10[i], sizeof(double));
        if (optional) {
            assert_int_equal(t->channel[i], channels10[i]);
            assert_int_equal(t->category[i], categories10[i]);
        }
    }
    if (!optional) {
        assert_null(t->channel);
        assert_null(t->category);
    }
    assert_int_equal(st->n_rows_in_file, N10);
    assert_int_equal(st->n_rows_after_as_of, 0);
    assert_int_equal(st->sorted_by_customer, 1);
    assert_int_equal(st->min_time_s, T0);
    assert_int_equal(st->max_time_s, T0 + 9 * 86400);
}

static void test_good_file_reads_back_exactly(void **state)
{
    fixture_t *f = *state;
    const size_t chunks[] = {0, 3, 1, 10, 11};
    for (int layout = 0; layout < 2; layout++) {
        for (int ids32 = 0; ids32 < 2; ids32++) {
            write_tx10(f->path, ids32, layout, 1, amounts10);
            for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
                sgs_read_options_t opt = options(chunks[c]);
                opt.n_threads = 2;
                sgs_transactions_t t;
                sgs_read_stats_t st;
                sgs_error_t err = {0};
                int rc = sgs_h5_read_transactions(f->path, &opt, &t, &st, &err);
                if (rc)
                    fail_msg("layout %d ids32 %d chunk %zu: %s", layout, ids32, chunks[c],
                             err.message);
                check_tx10(&t, &st, 1);
                sgs_transactions_free(&t);
            }
        }
    }
    /* Without the optional columns; options NULL means defaults. */
    write_tx10(f->path, 0, 0, 0, amounts10);
    sgs_transactions_t t;
    sgs_read_stats_t st;
    assert_int_equal(sgs_h5_read_transactions(f->path, NULL, &t, &st, NULL), 0);
    check_tx10(&t, &st, 0);
    sgs_transactions_free(&t);
}

/* ---- As-of --------------------------------------------------------------------------- */

static void test_as_of_excludes_and_counts(void **state)
{
    fixture_t *f = *state;
    write_tx10(f->path, 0, 1, 1, amounts10);
    /* as-of end T0 + 3 days: keeps rows with time < T0 + 3*86400: 0,1,3,4,5,6 */
    const size_t kept_rows[] = {0, 1, 3, 4, 5, 6};
    for (size_t chunk = 0; chunk <= 4; chunk++) {
        sgs_read_options_t opt = options(chunk);
        opt.has_as_of = 1;
        opt.as_of_end_s = T0 + 3 * 86400;
        sgs_transactions_t t;
        sgs_read_stats_t st;
        sgs_error_t err = {0};
        assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, &err), 0);
        assert_int_equal(t.n_rows, 6);
        for (size_t k = 0; k < 6; k++) {
            size_t i = kept_rows[k];
            assert_int_equal(t.customer_id[k], ids10[i]);
            assert_int_equal(t.time_s[k], times10[i]);
            sgs_assert_cmp(t.amount[k], ==, amounts10[i]);
            assert_int_equal(t.channel[k], channels10[i]);
            assert_int_equal(t.category[k], categories10[i]);
        }
        assert_int_equal(st.n_rows_in_file, 10);
        assert_int_equal(st.n_rows_after_as_of, 4);
        assert_int_equal(st.min_time_s, T0);
        assert_int_equal(st.max_time_s, T0 + 2 * 86400);
        sgs_transactions_free(&t);
    }
}

static void test_as_of_before_everything_is_an_error(void **state)
{
    fixture_t *f = *state;
    write_tx10(f->path, 0, 0, 0, amounts10);
    sgs_read_options_t opt = options(3);
    opt.has_as_of = 1;
    opt.as_of_end_s = T0;
    const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg, "all 10 rows are at or after the as-of end 2024-01-01T00:00:00Z");
}

/* ---- Sortedness ---------------------------------------------------------------------- */

static int read_sorted(const char *path, size_t chunk, int has_as_of, int64_t as_of_end)
{
    sgs_read_options_t opt = options(chunk);
    opt.has_as_of = has_as_of;
    opt.as_of_end_s = as_of_end;
    sgs_transactions_t t;
    sgs_read_stats_t st;
    sgs_error_t err = {0};
    int rc = sgs_h5_read_transactions(path, &opt, &t, &st, &err);
    if (rc)
        fail_msg("%s", err.message);
    sgs_transactions_free(&t);
    return st.sorted_by_customer;
}

static void test_sorted_detection(void **state)
{
    fixture_t *f = *state;
    double a[6] = {1, 1, 1, 1, 1, 1};
    /* sorted, with ties in (id, time) */
    int64_t ids[6] = {1, 1, 2, 2, 2, 3}, times[6] = {5, 5, 1, 2, 2, 0};
    write_tx(f->path, ids, times, a, 6);
    assert_int_equal(read_sorted(f->path, 0, 0, 0), 1);
    assert_int_equal(read_sorted(f->path, 1, 0, 0), 1);
    /* ids out of order across the boundary of chunks of 3 (rows 2 and 3) */
    int64_t ids2[6] = {1, 2, 3, 2, 4, 5}, times2[6] = {0, 0, 0, 0, 0, 0};
    write_tx(f->path, ids2, times2, a, 6);
    assert_int_equal(read_sorted(f->path, 3, 0, 0), 0);
    assert_int_equal(read_sorted(f->path, 0, 0, 0), 0);
    /* same id, time going back inside a chunk */
    int64_t ids3[6] = {1, 1, 1, 2, 2, 2}, times3[6] = {1, 3, 2, 0, 1, 2};
    write_tx(f->path, ids3, times3, a, 6);
    assert_int_equal(read_sorted(f->path, 0, 0, 0), 0);
    /* the only out-of-order row is excluded by the as-of: the kept rows are sorted */
    int64_t ids4[6] = {1, 1, 1, 2, 2, 2}, times4[6] = {1, 9, 2, 3, 4, 5};
    write_tx(f->path, ids4, times4, a, 6);
    assert_int_equal(read_sorted(f->path, 0, 0, 0), 0);
    assert_int_equal(read_sorted(f->path, 2, 1, 9), 1);
}

/* ---- Validation: values -------------------------------------------------------------- */

static void test_nan_amount_names_file_dataset_row(void **state)
{
    fixture_t *f = *state;
    double a[N10];
    memcpy(a, amounts10, sizeof a);
    a[5] = NAN;
    a[8] = NAN;
    write_tx10(f->path, 0, 1, 1, a);
    char expected[700];
    snprintf(expected, sizeof expected, "%s: /transactions/amount: row 5: amount is NaN", f->path);
    for (size_t chunk = 0; chunk <= 4; chunk++) {
        sgs_read_options_t opt = options(chunk);
        opt.n_threads = 2;
        const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
        assert_string_equal(msg, expected);
        sgs_assert_contains(msg, "demo.h5");
    }
    /* Rows dropped by the as-of before it do not shift the file row number. */
    sgs_read_options_t opt = options(2);
    opt.has_as_of = 1;
    opt.as_of_end_s = T0 + 86400 + 1; /* drops rows 2, 6, 7, 8, 9 */
    sgs_assert_contains(expect_tx_error(f->path, &opt, SGS_EDATA), "row 5: amount is NaN");
}

static void test_first_bad_row_is_deterministic_in_big_chunks(void **state)
{
    fixture_t *f = *state;
    size_t n = 100000;
    int64_t *ids = malloc(n * sizeof *ids), *times = malloc(n * sizeof *times);
    double *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)(i / 10);
        times[i] = T0 + (int64_t)i;
        a[i] = 1.0;
    }
    a[70001] = INFINITY;
    times[40000] = -1;
    a[40000] = NAN;
    write_tx(f->path, ids, times, a, n);
    for (int threads = 1; threads <= 3; threads++) {
        sgs_read_options_t opt = options(0);
        opt.n_threads = threads;
        const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
        /* row 40000 has two problems; the time is checked before the amount */
        sgs_assert_contains(msg, "/transactions/time: row 40000: time -1 is before 1970-01-01");
    }
    free(ids);
    free(times);
    sgs_free(a);
}

static void test_infinite_amount(void **state)
{
    fixture_t *f = *state;
    double a[N10];
    memcpy(a, amounts10, sizeof a);
    a[7] = -INFINITY;
    write_tx10(f->path, 0, 0, 0, a);
    sgs_read_options_t opt = options(3);
    const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg, "/transactions/amount: row 7: amount is infinite (-inf)");
}

static void test_negative_time(void **state)
{
    fixture_t *f = *state;
    int64_t ids[3] = {1, 2, 3}, times[3] = {T0, -86400, T0};
    double a[3] = {1, 2, 3};
    write_tx(f->path, ids, times, a, 3);
    sgs_read_options_t opt = options(0);
    const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg,
                        "demo.h5: /transactions/time: row 1: time -86400 is before 1970-01-01");
    /* an as-of does not make a negative time acceptable */
    opt.has_as_of = 1;
    opt.as_of_end_s = T0 + 86400;
    sgs_assert_contains(expect_tx_error(f->path, &opt, SGS_EDATA), "row 1");
}

static void test_future_time_without_and_with_as_of(void **state)
{
    fixture_t *f = *state;
    /* 2100-01-01T00:00:00Z = 4102444800 */
    int64_t ids[4] = {1, 1, 2, 2}, times[4] = {T0, INT64_C(4102444800), T0, NOW + 86400};
    double a[4] = {1, 2, 3, 4};
    write_tx(f->path, ids, times, a, 4);
    sgs_read_options_t opt = options(0);
    const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg, "/transactions/time: row 1: time 2100-01-01T00:00:00Z is more than "
                             "one day after now (2025-01-01T00:00:00Z)");
    /* now + 1 day exactly is fine; one second later is not */
    times[1] = T0;
    write_tx(f->path, ids, times, a, 4);
    sgs_transactions_t t;
    sgs_read_stats_t st;
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, NULL), 0);
    sgs_transactions_free(&t);
    times[3] = NOW + 86400 + 1;
    write_tx(f->path, ids, times, a, 4);
    sgs_assert_contains(expect_tx_error(f->path, &opt, SGS_EDATA), "row 3");
    /* with an as-of, the late rows are excluded and counted instead */
    times[1] = INT64_C(4102444800);
    write_tx(f->path, ids, times, a, 4);
    opt.has_as_of = 1;
    opt.as_of_end_s = T0 + 86400;
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, NULL), 0);
    assert_int_equal(t.n_rows, 2);
    assert_int_equal(st.n_rows_after_as_of, 2);
    assert_int_equal(t.customer_id[0], 1);
    assert_int_equal(t.customer_id[1], 2);
    sgs_transactions_free(&t);
}

static void test_value_out_of_range_for_type(void **state)
{
    fixture_t *f = *state;
    /* uint64 customer ids: values up to INT64_MAX convert; one above does not */
    uint64_t ids[4] = {1, 2, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1};
    int64_t times[4] = {T0, T0, T0, T0};
    double a[4] = {1, 2, 3, 4};
    hsize_t dims = 4;
    hid_t file = create_file(f->path);
    write_raw(file, "/transactions/customer_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, ids, 1, &dims);
    write_col(file, "/transactions/time", SGS_H5_I64, times, 4);
    write_col(file, "/transactions/amount", SGS_H5_F64, a, 4);
    H5Fclose(file);
    sgs_read_options_t opt = options(0);
    const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg, "/transactions/customer_id: row 3: customer_id 9223372036854775808 "
                             "does not fit in int64");
    /* the first three rows alone are fine */
    file = create_file(f->path);
    dims = 3;
    write_raw(file, "/transactions/customer_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, ids, 1, &dims);
    write_col(file, "/transactions/time", SGS_H5_I64, times, 3);
    write_col(file, "/transactions/amount", SGS_H5_F64, a, 3);
    int32_t channel[3] = {1, 300, 2};
    write_col(file, "/transactions/channel", SGS_H5_I32, channel, 3);
    H5Fclose(file);
    msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg, "/transactions/channel: row 1: channel 300 does not fit in uint8");
    /* a NaN at an earlier row of the same chunk comes first, whatever the chunk size */
    double a_nan[3] = {1, 2, 3};
    a_nan[0] = NAN;
    file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(file, "/transactions/amount", H5P_DEFAULT);
    write_col(file, "/transactions/amount", SGS_H5_F64, a_nan, 3);
    H5Fclose(file);
    for (size_t chunk = 1; chunk <= 3; chunk++) {
        sgs_read_options_t o = options(chunk);
        sgs_assert_contains(expect_tx_error(f->path, &o, SGS_EDATA),
                            "/transactions/amount: row 0: amount is NaN");
    }
    file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(file, "/transactions/amount", H5P_DEFAULT);
    write_col(file, "/transactions/amount", SGS_H5_F64, a, 3);
    H5Fclose(file);
    channel[1] = 7;
    file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(file, "/transactions/channel", H5P_DEFAULT);
    write_col(file, "/transactions/channel", SGS_H5_I32, channel, 3);
    H5Fclose(file);
    sgs_transactions_t t;
    sgs_read_stats_t st;
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, NULL), 0);
    assert_int_equal(t.customer_id[2], INT64_MAX);
    assert_int_equal(t.channel[1], 7);
    sgs_transactions_free(&t);
}

/* ---- Validation: structure ----------------------------------------------------------- */

static void test_length_mismatch(void **state)
{
    fixture_t *f = *state;
    hid_t file = create_file(f->path);
    write_col(file, "/transactions/customer_id", SGS_H5_I64, ids10, 10);
    write_col(file, "/transactions/time", SGS_H5_I64, times10, 9);
    write_col(file, "/transactions/amount", SGS_H5_F64, amounts10, 10);
    H5Fclose(file);
    sgs_read_options_t opt = options(0);
    const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg, "demo.h5: /transactions/time: has 9 rows but "
                             "/transactions/customer_id has 10");
}

static void test_missing_dataset_suggests_closest(void **state)
{
    fixture_t *f = *state;
    hid_t file = create_file(f->path);
    write_col(file, "/transactions/customer_id", SGS_H5_I64, ids10, 10);
    write_col(file, "/transactions/time", SGS_H5_I64, times10, 10);
    write_col(file, "/transactions/amout", SGS_H5_F64, amounts10, 10);
    write_col(file, "/transactions/zzzzzzzzzzzz", SGS_H5_F64, amounts10, 10);
    H5Fclose(file);
    sgs_read_options_t opt = options(0);
    const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg, "demo.h5: /transactions/amount: dataset is missing; did you mean "
                             "/transactions/amout?");
    /* nothing close: the group's names are listed instead */
    file = create_file(f->path);
    write_col(file, "/transactions/customer_id", SGS_H5_I64, ids10, 10);
    write_col(file, "/transactions/time", SGS_H5_I64, times10, 10);
    write_col(file, "/transactions/value_eur", SGS_H5_F64, amounts10, 10);
    H5Fclose(file);
    msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg, "/transactions/amount: dataset is missing (/transactions has: "
                             "value_eur)");
    /* a missing group is named, with the closest root name */
    file = create_file(f->path);
    write_col(file, "/transaction/customer_id", SGS_H5_I64, ids10, 10);
    H5Fclose(file);
    msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg,
                        "demo.h5: /transactions: group is missing; did you mean /transaction?");
}

static void test_wrong_types_and_shapes(void **state)
{
    fixture_t *f = *state;
    double ids_f[N10];
    for (size_t i = 0; i < N10; i++)
        ids_f[i] = (double)ids10[i];
    hid_t file = create_file(f->path);
    write_col(file, "/transactions/customer_id", SGS_H5_F64, ids_f, 10);
    write_col(file, "/transactions/time", SGS_H5_I64, times10, 10);
    write_col(file, "/transactions/amount", SGS_H5_F64, amounts10, 10);
    H5Fclose(file);
    sgs_read_options_t opt = options(0);
    const char *msg = expect_tx_error(f->path, &opt, SGS_EDATA);
    sgs_assert_contains(msg, f->path);
    sgs_assert_contains(msg, "/transactions/customer_id: elements are float64; customer_id must be "
                             "an integer type");
    /* integer amounts are refused; float32 amounts are accepted */
    int64_t a_int[N10] = {0};
    file = create_file(f->path);
    write_col(file, "/transactions/customer_id", SGS_H5_I64, ids10, 10);
    write_col(file, "/transactions/time", SGS_H5_I64, times10, 10);
    write_col(file, "/transactions/amount", SGS_H5_I64, a_int, 10);
    H5Fclose(file);
    sgs_assert_contains(expect_tx_error(f->path, &opt, SGS_EDATA),
                        "/transactions/amount: elements are int64; amount must be floating point");
    float a32[N10];
    for (size_t i = 0; i < N10; i++)
        a32[i] = (float)amounts10[i];
    hsize_t dims = N10;
    file = create_file(f->path);
    write_col(file, "/transactions/customer_id", SGS_H5_I64, ids10, 10);
    write_col(file, "/transactions/time", SGS_H5_I64, times10, 10);
    write_raw(file, "/transactions/amount", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, a32, 1, &dims);
    H5Fclose(file);
    sgs_transactions_t t;
    sgs_read_stats_t st;
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, NULL), 0);
    for (size_t i = 0; i < N10; i++)
        sgs_assert_cmp(t.amount[i], ==, (double)a32[i]);
    sgs_transactions_free(&t);
    /* a 2-D amount */
    hsize_t dims2[2] = {5, 2};
    file = create_file(f->path);
    write_col(file, "/transactions/customer_id", SGS_H5_I64, ids10, 10);
    write_col(file, "/transactions/time", SGS_H5_I64, times10, 10);
    write_raw(file, "/transactions/amount", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, amounts10, 2, dims2);
    H5Fclose(file);
    sgs_assert_contains(expect_tx_error(f->path, &opt, SGS_EDATA),
                        "/transactions/amount: is 2-dimensional");
}

static void test_empty_table(void **state)
{
    fixture_t *f = *state;
    write_tx(f->path, ids10, times10, amounts10, 0);
    sgs_read_options_t opt = options(0);
    sgs_assert_contains(expect_tx_error(f->path, &opt, SGS_EDATA),
                        "demo.h5: /transactions: the table is empty (0 rows)");
}

static void test_not_hdf5_and_missing_file(void **state)
{
    fixture_t *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("customer_id,time,amount\n1,2,3\n", fp);
    fclose(fp);
    sgs_read_options_t opt = options(0);
    char expected[700];
    snprintf(expected, sizeof expected, "%s: not an HDF5 file", f->path);
    assert_string_equal(expect_tx_error(f->path, &opt, SGS_EDATA), expected);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.h5", f->dir);
    sgs_assert_contains(expect_tx_error(missing, &opt, SGS_ENOINPUT), "nope.h5: no such file");
    assert_int_equal(sgs_exit_status(SGS_ENOINPUT), 66);
    sgs_events_t e;
    int present = 1;
    assert_int_equal(sgs_h5_read_events(missing, &opt, &e, &present, NULL, NULL), SGS_ENOINPUT);
    assert_int_equal(present, 0);
}

/* ---- Events and customers ------------------------------------------------------------ */

static void test_events_read_and_kind_range(void **state)
{
    fixture_t *f = *state;
    write_tx10(f->path, 0, 0, 0, amounts10);
    sgs_read_options_t opt = options(2);
    sgs_events_t e;
    sgs_read_stats_t st;
    int present = 1;
    sgs_error_t err = {0};
    /* no /events group: present = 0 */
    assert_int_equal(sgs_h5_read_events(f->path, &opt, &e, &present, &st, &err), 0);
    assert_int_equal(present, 0);
    assert_int_equal(e.n_rows, 0);
    int64_t ids[5] = {1, 1, 2, 3, 3}, times[5] = {T0, T0 + 9, T0 + 1, T0 + 5, T0 + 86400 * 30};
    uint8_t kinds[5] = {1, 6, 8, 3, 4};
    double values[5] = {NAN, 9.0, NAN, NAN, NAN};
    hid_t file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    write_col(file, "/events/customer_id", SGS_H5_I64, ids, 5);
    write_col(file, "/events/time", SGS_H5_I64, times, 5);
    write_col(file, "/events/kind", SGS_H5_U8, kinds, 5);
    write_col(file, "/events/value", SGS_H5_F64, values, 5);
    H5Fclose(file);
    opt.has_as_of = 1;
    opt.as_of_end_s = T0 + 86400;
    assert_int_equal(sgs_h5_read_events(f->path, &opt, &e, &present, &st, &err), 0);
    assert_int_equal(present, 1);
    assert_int_equal(e.n_rows, 4);
    assert_int_equal(st.n_rows_in_file, 5);
    assert_int_equal(st.n_rows_after_as_of, 1);
    assert_int_equal(st.sorted_by_customer, 1);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(e.customer_id[i], ids[i]);
        assert_int_equal(e.time_s[i], times[i]);
        assert_int_equal(e.kind[i], kinds[i]);
    }
    sgs_assert_nan(e.value[0]);
    sgs_assert_cmp(e.value[1], ==, 9.0);
    assert_null(e.channel); /* optional and absent */
    sgs_events_free(&e);
    /* the optional channel column comes along with the rows kept */
    uint8_t channels[5] = {4, 0, 5, 6, 7};
    file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    write_col(file, "/events/channel", SGS_H5_U8, channels, 5);
    H5Fclose(file);
    assert_int_equal(sgs_h5_read_events(f->path, &opt, &e, &present, &st, &err), 0);
    assert_int_equal(e.n_rows, 4);
    assert_non_null(e.channel);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(e.channel[i], channels[i]);
    sgs_events_free(&e);
    /* kind 9 at row 3 (and 0 at row 4) */
    kinds[3] = 9;
    kinds[4] = 0;
    file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(file, "/events/kind", H5P_DEFAULT);
    write_col(file, "/events/kind", SGS_H5_U8, kinds, 5);
    H5Fclose(file);
    assert_int_equal(sgs_h5_read_events(f->path, &opt, &e, &present, &st, &err), SGS_EDATA);
    assert_int_equal(present, 0);
    assert_null(e.kind);
    sgs_assert_contains(err.message, "demo.h5: /events/kind: row 3: kind 9 is not an event kind "
                                     "(1..8)");
    /* a missing required events column is an error */
    file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(file, "/events/kind", H5P_DEFAULT);
    H5Fclose(file);
    assert_int_equal(sgs_h5_read_events(f->path, &opt, &e, &present, &st, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "/events/kind: dataset is missing");
}

static void write_customers(const char *path, const int64_t *ids, const int64_t *refs, size_t n)
{
    hid_t file = create_file(path);
    write_col(file, "/customers/customer_id", SGS_H5_I64, ids, n);
    if (refs)
        write_col(file, "/customers/referrer_id", SGS_H5_I64, refs, n);
    H5Fclose(file);
}

static void test_customers_duplicates_and_referrers(void **state)
{
    fixture_t *f = *state;
    sgs_customers_t c;
    int present = 0;
    sgs_error_t err = {0};
    /* unsorted, unique, referrers -1 or known */
    int64_t ids[6] = {40, 10, 30, 20, 60, 50}, refs[6] = {-1, 40, -1, 10, 10, 60};
    write_customers(f->path, ids, refs, 6);
    assert_int_equal(sgs_h5_read_customers(f->path, &c, &present, &err), 0);
    assert_int_equal(present, 1);
    assert_int_equal(c.n_rows, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(c.customer_id[i], ids[i]);
        assert_int_equal(c.referrer_id[i], refs[i]);
    }
    assert_null(c.signup_time_s);
    sgs_customers_free(&c);
    /* duplicates: 30 at rows 2 and 5, 10 at rows 1 and 4: the first repeat is row 4 */
    int64_t dup[6] = {40, 10, 30, 20, 10, 30};
    write_customers(f->path, dup, NULL, 6);
    assert_int_equal(sgs_h5_read_customers(f->path, &c, &present, &err), SGS_EDATA);
    assert_int_equal(present, 0);
    sgs_assert_contains(err.message, "demo.h5: /customers/customer_id: rows 1 and 4 both have "
                                     "customer_id 10");
    /* sorted ids (fast path) with an unknown referrer at row 2 */
    int64_t sorted_ids[4] = {1, 2, 3, 4}, bad_refs[4] = {-1, 1, 7, 8};
    write_customers(f->path, sorted_ids, bad_refs, 4);
    sgs_read_options_t opt = options(3);
    assert_int_equal(sgs_h5_read_customers_opt(f->path, &opt, &c, &present, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "/customers/referrer_id: row 2: referrer_id 7 is not a "
                                     "customer_id of /customers");
    /* unsorted ids, consecutive (a referrer is looked up by a range check): 0 and 7 are
     * outside 1..6, the first of them at row 3 */
    int64_t run_ids[6] = {4, 1, 3, 2, 6, 5}, run_refs[6] = {-1, 6, 1, 0, 7, 2};
    write_customers(f->path, run_ids, run_refs, 6);
    for (int t = 1; t <= 3; t++) {
        opt = options(4);
        opt.n_threads = t;
        assert_int_equal(sgs_h5_read_customers_opt(f->path, &opt, &c, &present, &err), SGS_EDATA);
        sgs_assert_contains(err.message, "/customers/referrer_id: row 3: referrer_id 0 is not a "
                                         "customer_id of /customers");
    }
    /* unsorted ids with gaps (a binary search): 35 falls between two of them */
    int64_t gap_refs[6] = {-1, 40, 60, 10, 35, 50};
    write_customers(f->path, ids, gap_refs, 6);
    assert_int_equal(sgs_h5_read_customers(f->path, &c, &present, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "/customers/referrer_id: row 4: referrer_id 35 is not a "
                                     "customer_id of /customers");
    /* no /customers group */
    write_tx10(f->path, 0, 0, 0, amounts10);
    assert_int_equal(sgs_h5_read_customers(f->path, &c, &present, &err), 0);
    assert_int_equal(present, 0);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The referrer check on shuffled ids, consecutive or not, against a plain reference (a
 * referrer is known when it equals some id), for 1 to 3 threads. */
static void test_customers_referrers_shuffled(void **state)
{
    fixture_t *f = *state;
    enum { n = 50000 };
    static int64_t ids[n], refs[n], sorted[n];
    const uint64_t seed = 17;
    for (int spaced = 0; spaced <= 1; spaced++) {
        for (size_t i = 0; i < n; i++)
            ids[i] = spaced ? (int64_t)(1000003 * i + 5)
                            : (int64_t)(i + 1000); /* sample sort : bitmap */
        for (size_t i = n - 1; i > 0; i--) {       /* Fisher-Yates */
            size_t j = (size_t)(sgs_rng_u64(seed, (uint64_t)spaced, i) % (i + 1));
            int64_t t = ids[i];
            ids[i] = ids[j];
            ids[j] = t;
        }
        for (size_t i = 0; i < n; i++) { /* a known referrer, -1, or (rarely) any number */
            uint64_t u = sgs_rng_u64(seed, 10 + (uint64_t)spaced, i);
            refs[i] = u % 3 == 0 ? -1 : ids[u % n];
            if (i > n / 3 && u % 5000 == 7)
                refs[i] = (int64_t)(u % (8 * n));
        }
        memcpy(sorted, ids, sizeof sorted);
        qsort(sorted, n, sizeof sorted[0], cmp_i64);
        size_t want = n;
        for (size_t i = 0; i < n && want == n; i++)
            if (refs[i] != -1 && !bsearch(&refs[i], sorted, n, sizeof sorted[0], cmp_i64))
                want = i;
        sgs_assert_cmp(want, <, n);
        write_customers(f->path, ids, refs, n);
        for (int t = 1; t <= 3; t++) {
            sgs_read_options_t opt = options(4096);
            opt.n_threads = t;
            sgs_customers_t c;
            int present = 0;
            sgs_error_t err = {0};
            assert_int_equal(sgs_h5_read_customers_opt(f->path, &opt, &c, &present, &err),
                             SGS_EDATA);
            char expect[96];
            snprintf(expect, sizeof expect, "row %zu: referrer_id %lld is not", want,
                     (long long)refs[want]);
            if (!strstr(err.message, expect))
                fail_msg("seed %llu, spaced %d, %d threads: expected \"%s\" in \"%s\"",
                         (unsigned long long)seed, spaced, t, expect, err.message);
        }
        /* without the unknown ones, the table reads */
        for (size_t i = 0; i < n; i++)
            if (refs[i] != -1 && !bsearch(&refs[i], sorted, n, sizeof sorted[0], cmp_i64))
                refs[i] = -1;
        write_customers(f->path, ids, refs, n);
        sgs_read_options_t opt = options(4096);
        opt.n_threads = 2;
        sgs_customers_t c;
        int present = 0;
        sgs_error_t err = {0};
        assert_int_equal(sgs_h5_read_customers_opt(f->path, &opt, &c, &present, &err), 0);
        assert_int_equal(c.n_rows, n);
        sgs_customers_free(&c);
    }
}

/* ---- Content hash -------------------------------------------------------------------- */

/* The documented fingerprint (io/h5_input.h), written from its definition: blocks of
 * SGS_INPUT_HASH_BLOCK_ROWS rows; in each, one lane per column; the block hash over the
 * three lanes; the total over the block hashes; the avalanche of the total. */
static uint64_t round64(uint64_t acc, uint64_t v)
{
    const uint64_t p1 = 11400714785074694791u, p2 = 14029467366897019727u;
    acc = acc + v * p2;
    acc = (acc << 31) | (acc >> 33);
    return acc * p1;
}

static uint64_t reference_hash(const int64_t *ids, const int64_t *times, const double *a, size_t n)
{
    const uint64_t seed = 2870177450012600261u;
    uint64_t total = seed;
    for (size_t lo = 0; lo < n; lo += SGS_INPUT_HASH_BLOCK_ROWS) {
        size_t hi = lo + SGS_INPUT_HASH_BLOCK_ROWS < n ? lo + SGS_INPUT_HASH_BLOCK_ROWS : n;
        uint64_t lane[3] = {seed, seed, seed};
        for (size_t i = lo; i < hi; i++) {
            uint64_t bits;
            memcpy(&bits, &a[i], 8);
            lane[0] = round64(lane[0], (uint64_t)ids[i]);
            lane[1] = round64(lane[1], (uint64_t)times[i]);
            lane[2] = round64(lane[2], bits);
        }
        uint64_t block = seed;
        for (int k = 0; k < 3; k++)
            block = round64(block, lane[k]);
        total = round64(total, block);
    }
    total ^= total >> 33;
    total *= 14029467366897019727u;
    total ^= total >> 29;
    total *= 1609587929392839161u;
    return total ^ (total >> 32);
}

static uint64_t read_hash(const char *path, size_t chunk, int threads)
{
    sgs_read_options_t opt = options(chunk);
    opt.n_threads = threads;
    sgs_transactions_t t;
    sgs_read_stats_t st;
    sgs_error_t err = {0};
    int rc = sgs_h5_read_transactions(path, &opt, &t, &st, &err);
    if (rc)
        fail_msg("%s", err.message);
    sgs_transactions_free(&t);
    return st.content_hash64;
}

static void test_hash_small(void **state)
{
    fixture_t *f = *state;
    uint64_t expected = reference_hash(ids10, times10, amounts10, N10);
    write_tx10(f->path, 0, 0, 1, amounts10);
    assert_int_equal(read_hash(f->path, 0, 1), expected);
    assert_int_equal(read_hash(f->path, 3, 2), expected);
    /* the same values stored as int32 ids, chunked and compressed: the same fingerprint */
    write_tx10(f->path, 1, 1, 0, amounts10);
    assert_int_equal(read_hash(f->path, 3, 1), expected);
    /* excluded rows count too: an as-of does not change it */
    sgs_read_options_t opt = options(0);
    opt.has_as_of = 1;
    opt.as_of_end_s = T0 + 86400;
    sgs_transactions_t t;
    sgs_read_stats_t st;
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, NULL), 0);
    assert_int_equal(st.content_hash64, expected);
    sgs_transactions_free(&t);
    /* one amount changed by one ulp: a different fingerprint */
    double a[N10];
    memcpy(a, amounts10, sizeof a);
    a[9] = nextafter(a[9], 100.0);
    write_tx10(f->path, 0, 0, 1, a);
    uint64_t changed = read_hash(f->path, 0, 1);
    sgs_assert_cmp(changed, !=, expected);
    assert_int_equal(changed, reference_hash(ids10, times10, a, N10));
}

static void test_hash_across_blocks_chunks_threads(void **state)
{
    fixture_t *f = *state;
    size_t n = 2 * SGS_INPUT_HASH_BLOCK_ROWS + 1234;
    int64_t *ids = malloc(n * sizeof *ids), *times = malloc(n * sizeof *times);
    double *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)(i * 7919 % 1000);
        times[i] = T0 + (int64_t)(i % 86400);
        a[i] = (double)(i % 97) * 0.25 - 3.0;
    }
    write_tx(f->path, ids, times, a, n);
    uint64_t expected = reference_hash(ids, times, a, n);
    const size_t chunks[] = {0, 1000, 65536, 65537, 100000};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++)
        for (int threads = 1; threads <= 3; threads += 2)
            assert_int_equal(read_hash(f->path, chunks[c], threads), expected);
    free(ids);
    free(times);
    sgs_free(a);
}

/* ---- Collecting problems (inspect) ---------------------------------------------------- */

typedef struct collected {
    size_t n;
    sgs_input_check_t check[16];
    size_t row[16];
    char message[16][300];
} collected_t;

static void collect(void *ctx, const sgs_input_problem_t *p)
{
    collected_t *c = ctx;
    if (c->n < 16) {
        c->check[c->n] = p->check;
        c->row[c->n] = p->row;
        snprintf(c->message[c->n], sizeof c->message[0], "%s", p->message);
    }
    c->n++;
}

static void test_collect_mode_reports_every_problem(void **state)
{
    fixture_t *f = *state;
    int64_t ids[7] = {1, 1, 2, 2, 3, 3, 3}, times[7] = {T0, T0, -5, T0, T0, T0, NOW * 2};
    double a[7] = {1, NAN, 3, INFINITY, 5, NAN, 7};
    write_tx(f->path, ids, times, a, 7);
    collected_t got = {0};
    sgs_read_options_t opt = options(3);
    opt.problem = collect;
    opt.problem_ctx = &got;
    sgs_transactions_t t;
    sgs_read_stats_t st;
    sgs_error_t err = {0};
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, &err), 0);
    assert_int_equal(t.n_rows, 7); /* rows are kept as read */
    assert_int_equal(got.n, 5);
    const sgs_input_check_t checks[5] = {SGS_CHECK_AMOUNT_NAN, SGS_CHECK_TIME_NEGATIVE,
                                         SGS_CHECK_AMOUNT_INF, SGS_CHECK_AMOUNT_NAN,
                                         SGS_CHECK_TIME_FUTURE};
    const size_t rows[5] = {1, 2, 3, 5, 6};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(got.check[i], checks[i]);
        assert_int_equal(got.row[i], rows[i]);
    }
    assert_string_equal(sgs_input_check_name(SGS_CHECK_AMOUNT_NAN), "amount_nan");
    /* the first problem is still in err */
    sgs_assert_contains(err.message, "row 1: amount is NaN");
    sgs_transactions_free(&t);
    /* structural problems are all reported too, then the read fails */
    hid_t file = create_file(f->path);
    write_col(file, "/transactions/customer_id", SGS_H5_F64, a, 7);
    write_col(file, "/transactions/amonut", SGS_H5_F64, a, 7);
    H5Fclose(file);
    memset(&got, 0, sizeof got);
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, &err), SGS_EDATA);
    assert_int_equal(got.n, 3);
    assert_int_equal(got.check[0], SGS_CHECK_TYPE);
    assert_int_equal(got.check[1], SGS_CHECK_MISSING);
    assert_int_equal(got.check[2], SGS_CHECK_MISSING);
    sgs_assert_contains(got.message[2], "did you mean /transactions/amonut?");
}

/* ---- Identity and listing ------------------------------------------------------------- */

static void test_identity_and_listing(void **state)
{
    fixture_t *f = *state;
    write_tx10(f->path, 1, 1, 1, amounts10);
    sgs_read_options_t opt = options(0);
    sgs_transactions_t t;
    sgs_read_stats_t st;
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, NULL), 0);
    sgs_transactions_free(&t);
    char id[512], expected_tail[128];
    assert_int_equal(sgs_h5_input_identity(f->path, &st, id, sizeof id, NULL), 0);
    sgs_assert_cmp(strncmp(id, "demo.h5 size=", 13), ==, 0);
    snprintf(expected_tail, sizeof expected_tail, " rows=10 hash64=%016llx",
             (unsigned long long)reference_hash(ids10, times10, amounts10, N10));
    sgs_assert_contains(id, expected_tail);
    sgs_assert_contains(id, " mtime=20");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.h5", f->dir);
    assert_int_equal(sgs_h5_input_identity(missing, &st, id, sizeof id, NULL), SGS_ENOINPUT);

    sgs_h5_object_info_t *objs = NULL;
    size_t n = 0;
    sgs_error_t err = {0};
    assert_int_equal(sgs_h5_list_objects(f->path, &objs, &n, &err), 0);
    assert_int_equal(n, 6);
    assert_string_equal(objs[0].path, "/transactions");
    assert_int_equal(objs[0].is_group, 1);
    assert_string_equal(objs[1].path, "/transactions/amount");
    assert_string_equal(objs[1].type, "float64");
    assert_int_equal(objs[1].length, 10);
    assert_int_equal(objs[1].chunk_rows, 4);
    assert_string_equal(objs[1].filters, "shuffle+deflate(4)");
    assert_string_equal(objs[4].path, "/transactions/customer_id");
    assert_string_equal(objs[4].type, "int32");
    assert_string_equal(objs[2].type, "int32"); /* category */
    assert_string_equal(objs[3].type, "uint8"); /* channel */
    sgs_free(objs);
    assert_int_equal(sgs_h5_list_objects(missing, &objs, &n, &err), SGS_ENOINPUT);
}

/* ---- Progress and the zeroed-options default ------------------------------------------ */

typedef struct progress_log {
    size_t calls, last_done, last_total;
    int monotonic;
    char what[32];
} progress_log_t;

static void on_progress(void *ctx, const char *what, size_t done, size_t total)
{
    progress_log_t *p = ctx;
    if (done < p->last_done)
        p->monotonic = 0;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    snprintf(p->what, sizeof p->what, "%s", what);
}

static void test_progress_and_zeroed_options(void **state)
{
    fixture_t *f = *state;
    write_tx10(f->path, 0, 0, 0, amounts10);
    sgs_read_options_t opt;
    memset(&opt, 0, sizeof opt); /* now_s = 0: the clock; chunk 0: default; threads 0: 1 */
    progress_log_t log = {0, 0, 0, 1, ""};
    opt.chunk_rows = 4;
    opt.progress = on_progress;
    opt.progress_ctx = &log;
    sgs_transactions_t t;
    sgs_read_stats_t st;
    sgs_error_t err = {0};
    int rc = sgs_h5_read_transactions(f->path, &opt, &t, &st, &err);
    if (rc)
        fail_msg("%s", err.message);
    sgs_transactions_free(&t);
    assert_int_equal(log.calls, 3); /* 4 + 4 + 2 rows */
    assert_int_equal(log.last_done, 10);
    assert_int_equal(log.last_total, 10);
    if (!log.monotonic)
        fail_msg("the rows done went down between two of the %zu progress calls", log.calls);
    assert_string_equal(log.what, "transactions");
}

/* A stop check that says stop when asked the second time. */
static int stop_on_second(void *ctx, sgs_error_t *err)
{
    int *calls = ctx;
    if (++*calls < 2)
        return SGS_OK;
    return sgs_error_set(err, SGS_EINTR, "stopped by SIGINT while reading the input");
}

/* The stop check is asked before each chunk; its code and message end the read. */
static void test_stop_check_ends_the_read(void **state)
{
    fixture_t *f = *state;
    write_tx10(f->path, 0, 0, 0, amounts10);
    sgs_read_options_t opt = options(4);
    int calls = 0;
    opt.stop = stop_on_second;
    opt.stop_ctx = &calls;
    sgs_transactions_t t;
    sgs_read_stats_t st;
    sgs_error_t err = {0};
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, &err), SGS_EINTR);
    assert_int_equal(calls, 2);
    assert_string_equal(err.message, "stopped by SIGINT while reading the input");
    sgs_transactions_free(&t);
    calls = -100; /* never says stop: the whole file, asked once per chunk */
    assert_int_equal(sgs_h5_read_transactions(f->path, &opt, &t, &st, &err), SGS_OK);
    assert_int_equal(t.n_rows, 10);
    assert_int_equal(calls, -100 + 3);
    sgs_transactions_free(&t);
}

static void test_customers_signup_before_1970(void **state)
{
    fixture_t *f = *state;
    int64_t ids[3] = {1, 2, 3}, signup[3] = {T0, 0, -1};
    hid_t file = create_file(f->path);
    write_col(file, "/customers/customer_id", SGS_H5_I64, ids, 3);
    write_col(file, "/customers/signup_time", SGS_H5_I64, signup, 3);
    H5Fclose(file);
    sgs_customers_t c;
    int present;
    sgs_error_t err = {0};
    assert_int_equal(sgs_h5_read_customers(f->path, &c, &present, &err), SGS_EDATA);
    sgs_assert_contains(err.message,
                        "/customers/signup_time: row 2: signup_time -1 is before 1970-01-01");
}

/* ---- Allocation failures ---------------------------------------------------------------- */

/* Make the n-th allocation fail for n = 0, 1, ... until a read succeeds: every failure is
 * SGS_ENOMEM with an empty table (ASan checks that nothing leaks), and the read that
 * succeeds gives the full, right table. */
static void test_allocation_failure_sweep(void **state)
{
    fixture_t *f = *state;
    write_tx10(f->path, 0, 1, 1, amounts10);
    int succeeded = 0;
    for (long n = 0; n < 50 && !succeeded; n++) {
        sgs_read_options_t opt = options(3);
        opt.has_as_of = 1;
        opt.as_of_end_s = T0 + 3 * 86400; /* keeps 6 rows: the tail is given back */
        sgs_transactions_t t;
        sgs_read_stats_t st;
        sgs_error_t err = {0};
        sgs_test_fail_alloc_after(n);
        int rc = sgs_h5_read_transactions(f->path, &opt, &t, &st, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc == SGS_OK) {
            succeeded = 1;
            assert_int_equal(t.n_rows, 6);
            assert_int_equal(t.customer_id[5], ids10[6]);
            assert_int_equal(t.category[5], categories10[6]);
        } else {
            assert_int_equal(rc, SGS_ENOMEM);
            sgs_assert_contains(err.message, "out of memory");
            assert_null(t.customer_id);
        }
        sgs_transactions_free(&t);
    }
    if (!succeeded)
        fail_msg("no read of the transactions succeeded, failing allocation n = 0 to 49");
    /* customers in no order need the (id, row) index */
    int64_t ids[4] = {4, 3, 2, 1}, refs[4] = {-1, 4, 4, 3};
    hid_t file = create_file(f->path);
    write_col(file, "/customers/customer_id", SGS_H5_I64, ids, 4);
    write_col(file, "/customers/referrer_id", SGS_H5_I64, refs, 4);
    H5Fclose(file);
    succeeded = 0;
    for (long n = 0; n < 50 && !succeeded; n++) {
        sgs_customers_t c;
        int present;
        sgs_error_t err = {0};
        sgs_test_fail_alloc_after(n);
        int rc = sgs_h5_read_customers(f->path, &c, &present, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc == SGS_OK) {
            succeeded = 1;
            assert_int_equal(c.n_rows, 4);
            assert_int_equal(c.referrer_id[3], 3);
        } else {
            assert_int_equal(rc, SGS_ENOMEM);
            assert_int_equal(present, 0);
        }
        sgs_customers_free(&c);
    }
    if (!succeeded)
        fail_msg("no read of the customers succeeded, failing allocation n = 0 to 49");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_file_reads_back_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_of_excludes_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_of_before_everything_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sorted_detection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nan_amount_names_file_dataset_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_bad_row_is_deterministic_in_big_chunks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_infinite_amount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_future_time_without_and_with_as_of, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_out_of_range_for_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_length_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_dataset_suggests_closest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types_and_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_hdf5_and_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_read_and_kind_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_customers_duplicates_and_referrers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_customers_referrers_shuffled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_across_blocks_chunks_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_mode_reports_every_problem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_and_listing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_and_zeroed_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_check_ends_the_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_customers_signup_before_1970, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failure_sweep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
