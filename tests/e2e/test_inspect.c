/*
 * tests/e2e/test_inspect.c — `segscore inspect` on a good file (hand-computed counts in
 * text and JSON, exit 0), on a file with many problems (each listed with dataset and row,
 * capped per kind with the full count, exit 65), on a file that is not HDF5 (65), on a
 * missing file (66) and with bad usage (64).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */

static char dir[256];

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-inspect", dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

static void col(hid_t file, const char *path, sgs_h5_type_t type, const void *data, size_t n)
{
    sgs_error_t err = {0};
    if (sgs_h5_write_column(file, path, type, data, n, 0, &err))
        fail_msg("%s", err.message);
}

/* 10 transactions of customers 1, 2, 3, 5, 9 over 2024-01-01 .. 2024-01-10, one refund,
 * one zero amount; 4 events; 7 known customers of whom 4 and 11 never bought and 3 were
 * referred. */
static void write_good(const char *path)
{
    static const int64_t ids[10] = {1, 1, 1, 2, 2, 3, 5, 5, 5, 9};
    static const int64_t days[10] = {0, 1, 5, 0, 0, 0, 2, 3, 4, 9};
    static const double amounts[10] = {10.5, -3.25, 0.0, 7.0, 8.125, 100.0, 1e-3, 2.5, 3.5, 42.0};
    int64_t times[10];
    for (int i = 0; i < 10; i++)
        times[i] = T0 + days[i] * 86400 + i;
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(file, >=, 0);
    col(file, "/transactions/customer_id", SGS_H5_I64, ids, 10);
    col(file, "/transactions/time", SGS_H5_I64, times, 10);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, 10);
    static const int64_t ev_ids[4] = {1, 2, 2, 9};
    static const uint8_t kinds[4] = {1, 1, 6, 3};
    col(file, "/events/customer_id", SGS_H5_I64, ev_ids, 4);
    col(file, "/events/time", SGS_H5_I64, times, 4);
    col(file, "/events/kind", SGS_H5_U8, kinds, 4);
    static const int64_t cu_ids[7] = {1, 2, 3, 4, 5, 9, 11};
    static const int64_t refs[7] = {-1, 1, -1, 1, 2, -1, -1};
    col(file, "/customers/customer_id", SGS_H5_I64, cu_ids, 7);
    col(file, "/customers/referrer_id", SGS_H5_I64, refs, 7);
    H5Fclose(file);
}

static void test_good_file_text(void **state)
{
    (void)state;
    char path[512], args[1024], out[16384];
    snprintf(path, sizeof path, "%s/good.h5", dir);
    write_good(path);
    snprintf(args, sizeof args, "inspect '%s'", path);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("exit %d:\n%s", status, out);
    sgs_assert_contains(out, "/transactions/amount");
    sgs_assert_contains(out, "float64");
    sgs_assert_contains(out, "10 rows");
    sgs_assert_contains(out, "distinct customers     5\n");
    sgs_assert_contains(out, "time range             2024-01-01 .. 2024-01-10\n");
    sgs_assert_contains(out, "min -3.25  mean 17.0376  max 100\n");
    sgs_assert_contains(out, "refunds (amount < 0)   1\n");
    sgs_assert_contains(out, "zero-amount rows       1\n");
    sgs_assert_contains(out, "sorted                 yes");
    sgs_assert_contains(out, "1 support_contact      2\n");
    sgs_assert_contains(out, "6 survey               1\n");
    sgs_assert_contains(out, "3 renewal_due          1\n");
    sgs_assert_contains(out, "with a referrer        3\n");
    sgs_assert_contains(out, "prospects              2 ");
    sgs_assert_contains(out, "problems: none; the file is usable");
}

static void test_good_file_json(void **state)
{
    (void)state;
    char path[512], args[1024], out[32768];
    snprintf(path, sizeof path, "%s/good.h5", dir);
    write_good(path);
    snprintf(args, sizeof args, "inspect --json '%s' 2>/dev/null", path);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    cJSON *root = cJSON_Parse(out);
    if (!root)
        fail_msg("not JSON:\n%s", out);
    sgs_assert_json(cJSON_IsTrue, cJSON_GetObjectItem(root, "usable"));
    cJSON *tx = cJSON_GetObjectItem(root, "transactions");
    assert_int_equal(cJSON_GetObjectItem(tx, "rows")->valuedouble, 10);
    assert_int_equal(cJSON_GetObjectItem(tx, "distinct_customers")->valuedouble, 5);
    assert_string_equal(cJSON_GetObjectItem(tx, "first_date")->valuestring, "2024-01-01");
    assert_string_equal(cJSON_GetObjectItem(tx, "last_date")->valuestring, "2024-01-10");
    sgs_assert_close(cJSON_GetObjectItem(tx, "amount_mean")->valuedouble, 170.376 / 10, 0, 1e-12);
    assert_int_equal(cJSON_GetObjectItem(tx, "refunds")->valuedouble, 1);
    cJSON *kinds = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "events"), "by_kind");
    assert_int_equal(cJSON_GetObjectItem(kinds, "support_contact")->valuedouble, 2);
    assert_int_equal(cJSON_GetObjectItem(kinds, "complaint")->valuedouble, 0);
    cJSON *cu = cJSON_GetObjectItem(root, "customers");
    assert_int_equal(cJSON_GetObjectItem(cu, "prospects")->valuedouble, 2);
    assert_int_equal(cJSON_GetObjectItem(cu, "with_referrer")->valuedouble, 3);
    cJSON *objects = cJSON_GetObjectItem(root, "objects");
    assert_int_equal(cJSON_GetArraySize(objects), 11); /* 3 groups + 8 datasets */
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "problems"), "count")->valuedouble, 0);
    cJSON_Delete(root);
}

/* 40 transactions: NaN amounts at rows 5 and 20..34 (16), a negative time at row 3, a
 * float customer id column in /customers, an event kind 0. */
static void write_bad(const char *path)
{
    int64_t ids[40], times[40];
    double amounts[40];
    for (int i = 0; i < 40; i++) {
        ids[i] = i / 4;
        times[i] = T0 + i;
        amounts[i] = 1.0;
    }
    amounts[5] = NAN;
    for (int i = 20; i < 35; i++)
        amounts[i] = NAN;
    times[3] = -7;
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(file, >=, 0);
    col(file, "/transactions/customer_id", SGS_H5_I64, ids, 40);
    col(file, "/transactions/time", SGS_H5_I64, times, 40);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, 40);
    uint8_t kinds[2] = {2, 0};
    col(file, "/events/customer_id", SGS_H5_I64, ids, 2);
    col(file, "/events/time", SGS_H5_I64, times + 4, 2);
    col(file, "/events/kind", SGS_H5_U8, kinds, 2);
    double float_ids[3] = {1, 2, 3};
    col(file, "/customers/customer_id", SGS_H5_F64, float_ids, 3);
    H5Fclose(file);
}

static void test_bad_file_lists_problems(void **state)
{
    (void)state;
    char path[512], args[1024], out[32768];
    snprintf(path, sizeof path, "%s/bad.h5", dir);
    write_bad(path);
    snprintf(args, sizeof args, "inspect '%s'", path);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 65);
    sgs_assert_contains(out, "problems: 19;");
    sgs_assert_contains(out, "amount_nan (16):");
    sgs_assert_contains(out, "bad.h5: /transactions/amount: row 5: amount is NaN\n");
    sgs_assert_contains(out, "bad.h5: /transactions/amount: row 28: amount is NaN\n");
    if (strstr(out, "row 29: amount is NaN"))
        fail_msg("more than 10 listed per kind:\n%s", out);
    sgs_assert_contains(out, "... and 6 more");
    sgs_assert_contains(out, "bad.h5: /transactions/time: row 3: time -7 is before 1970-01-01");
    sgs_assert_contains(out, "bad.h5: /events/kind: row 1: kind 0 is not an event kind (1..8)");
    sgs_assert_contains(out, "bad.h5: /customers/customer_id: elements are float64");
    sgs_assert_contains(out, "bad.h5 has 19 problems");
    /* the counts of the readable tables are still shown */
    sgs_assert_contains(out, "distinct customers     10\n");
    sgs_assert_contains(out, "customers:\n  not readable (see problems)");

    snprintf(args, sizeof args, "inspect --json '%s' 2>/dev/null", path);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 65);
    /* the capture holds standard error too: the summary line comes first, standard output
     * (kept whole until the end when it is not a terminal) after it */
    cJSON *root = cJSON_Parse(strchr(out, '{') ? strchr(out, '{') : out);
    if (!root)
        fail_msg("not JSON:\n%s", out);
    sgs_assert_json(cJSON_IsFalse, cJSON_GetObjectItem(root, "usable"));
    cJSON *p = cJSON_GetObjectItem(root, "problems");
    assert_int_equal(cJSON_GetObjectItem(p, "count")->valuedouble, 19);
    cJSON *by = cJSON_GetObjectItem(p, "by_check");
    assert_int_equal(cJSON_GetObjectItem(by, "amount_nan")->valuedouble, 16);
    assert_int_equal(cJSON_GetObjectItem(by, "type")->valuedouble, 1);
    cJSON *list = cJSON_GetObjectItem(p, "list");
    assert_int_equal(cJSON_GetArraySize(list), 13); /* 10 + time + kind + type */
    cJSON *first = cJSON_GetArrayItem(list, 1);     /* after the type problem (check order) */
    assert_string_equal(cJSON_GetObjectItem(first, "check")->valuestring, "amount_nan");
    assert_string_equal(cJSON_GetObjectItem(first, "dataset")->valuestring, "/transactions/amount");
    assert_int_equal(cJSON_GetObjectItem(first, "row")->valuedouble, 5);
    sgs_assert_json(cJSON_IsNull, cJSON_GetObjectItem(root, "customers"));
    cJSON_Delete(root);
}

static void test_not_hdf5_missing_and_usage(void **state)
{
    (void)state;
    char path[512], args[1024], out[8192];
    snprintf(path, sizeof path, "%s/text.h5", dir);
    sgs_test_write_file(path, "not hdf5\n");
    snprintf(args, sizeof args, "inspect '%s'", path);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 65);
    sgs_assert_contains(out, "text.h5: not an HDF5 file");
    snprintf(args, sizeof args, "inspect '%s/missing.h5'", dir);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 66);
    sgs_assert_contains(out, "missing.h5: no such file");
    assert_int_equal(sgs_test_run("inspect", out, sizeof out), 64);
    assert_int_equal(sgs_test_run("inspect --as-of 2024-02-30 x.h5", out, sizeof out), 64);
    assert_int_equal(sgs_test_run("inspect --help", out, sizeof out), 0);
    sgs_assert_contains(out, "usage: segscore inspect FILE");
}

static void test_as_of_turns_future_rows_into_exclusions(void **state)
{
    (void)state;
    char path[512], args[1024], out[16384];
    snprintf(path, sizeof path, "%s/future.h5", dir);
    int64_t ids[3] = {1, 2, 3}, times[3] = {T0, T0 + 86400, INT64_C(4102444800)}; /* 2100 */
    double amounts[3] = {1, 2, 3};
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    col(file, "/transactions/customer_id", SGS_H5_I64, ids, 3);
    col(file, "/transactions/time", SGS_H5_I64, times, 3);
    col(file, "/transactions/amount", SGS_H5_F64, amounts, 3);
    H5Fclose(file);
    snprintf(args, sizeof args, "inspect '%s'", path);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 65);
    sgs_assert_contains(out, "row 2: time 2100-01-01T00:00:00Z is more than one day after now");
    snprintf(args, sizeof args, "inspect --as-of 2024-01-01 '%s'", path);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    sgs_assert_contains(out, "after the as-of end    2 excluded, 1 kept");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_file_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_good_file_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_file_lists_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_hdf5_missing_and_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_of_turns_future_rows_into_exclusions, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
