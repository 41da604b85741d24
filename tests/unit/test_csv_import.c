/*
 * tests/unit/test_csv_import.c — the field parsers of io/csv_import: integers (customer
 * ids), decimals (amounts; the exact fast path against strtod, the decimal comma), and
 * times (ISO 8601 with offsets, YYYYMMDD, month/day and day/month orders, Unix seconds).
 * Expected Unix times were computed with Python's calendar.timegm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/csv_import.h"
#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- integers ---------------------------------------------------------------------- */

static int64_t int_ok(const char *text)
{
    int64_t v = 0;
    const char *reason = NULL;
    if (sgs_import_parse_int64(text, strlen(text), &v, &reason) != SGS_OK)
        fail_msg("\"%s\" rejected: %s", text, reason);
    return v;
}

static void int_bad(const char *text, const char *reason_part)
{
    int64_t v = 0;
    const char *reason = NULL;
    if (sgs_import_parse_int64(text, strlen(text), &v, &reason) != SGS_EDATA)
        fail_msg("\"%s\" accepted as %lld", text, (long long)v);
    if (!strstr(reason, reason_part))
        fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", text, reason, reason_part);
}

static void test_integers(void **state)
{
    (void)state;
    assert_int_equal(int_ok("17850"), 17850);
    assert_int_equal(int_ok(" 17850.0 "), 17850); /* float export of an id */
    assert_int_equal(int_ok("17850."), 17850);
    assert_int_equal(int_ok("17850.000"), 17850);
    assert_int_equal(int_ok("00004"), 4);
    assert_int_equal(int_ok("-5"), -5);
    assert_int_equal(int_ok("+7"), 7);
    sgs_assert_cmp(int_ok("9223372036854775807"), ==, INT64_MAX);
    sgs_assert_cmp(int_ok("-9223372036854775808"), ==, INT64_MIN);
    int_bad("9223372036854775808", "range");
    int_bad("17850.5", "whole");
    int_bad("1e3", "not an integer");
    int_bad("12a", "not an integer");
    int_bad(".0", "not an integer");
    int_bad("-", "not an integer");
    int_bad("", "empty");
    int_bad("   ", "empty");
}

/* ---- decimals ---------------------------------------------------------------------- */

static double dbl_ok(const char *text)
{
    double v = 0;
    const char *reason = NULL;
    if (sgs_import_parse_double(text, strlen(text), &v, &reason) != SGS_OK)
        fail_msg("\"%s\" rejected: %s", text, reason);
    return v;
}

static void dbl_bad(const char *text, const char *reason_part)
{
    double v = 0;
    const char *reason = NULL;
    if (sgs_import_parse_double(text, strlen(text), &v, &reason) != SGS_EDATA)
        fail_msg("\"%s\" accepted as %.17g", text, v);
    if (!strstr(reason, reason_part))
        fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", text, reason, reason_part);
}

static void test_decimals(void **state)
{
    (void)state;
    sgs_assert_cmp(dbl_ok("2.55"), ==, 2.55);
    sgs_assert_cmp(dbl_ok("-27.50"), ==, -27.5);
    sgs_assert_cmp(dbl_ok(" 11.77\t"), ==, 11.77);
    sgs_assert_cmp(dbl_ok(".5"), ==, 0.5);
    sgs_assert_cmp(dbl_ok("5."), ==, 5.0);
    sgs_assert_cmp(dbl_ok("+0"), ==, 0.0);
    sgs_assert_cmp(dbl_ok("1e3"), ==, 1000.0);
    sgs_assert_cmp(dbl_ok("1.5E-2"), ==, 0.015);
    sgs_assert_cmp(dbl_ok("15.299999999999999"), ==, 15.299999999999999);
    sgs_assert_cmp(dbl_ok("0.1000000000000000055511151231257827"), ==, 0.1);
    sgs_assert_cmp(dbl_ok("123456789012345678901234567890"), ==, 123456789012345678901234567890.0);
    dbl_bad("1,5", "decimal comma");
    dbl_bad("1,234.50", "decimal comma");
    dbl_bad("nan", "not a number");
    dbl_bad("inf", "not a number");
    dbl_bad("1e400", "range");
    dbl_bad("0x10", "not a number");
    dbl_bad("$5", "not a number");
    dbl_bad("5 EUR", "not a number");
    dbl_bad("1e", "not a number");
    dbl_bad(".", "not a number");
    dbl_bad("-", "not a number");
    dbl_bad("", "empty");
}

/* Random decimal strings: the parser equals strtod bit for bit (both correctly
 * rounded); the seed is printed on failure. */
static void test_decimals_match_strtod(void **state)
{
    (void)state;
    const uint64_t seed = 20240601;
    sgs_rng_t rng;
    sgs_rng_init(&rng, seed, 0);
    char text[64];
    for (int k = 0; k < 200000; k++) {
        int n_digits = 1 + (int)(sgs_rng_next_u64(&rng) % 19);
        int point = (int)(sgs_rng_next_u64(&rng) % (uint64_t)(n_digits + 1));
        size_t u = 0;
        if (sgs_rng_next_u64(&rng) % 4 == 0)
            text[u++] = '-';
        for (int d = 0; d < n_digits; d++) {
            if (d == point && d > 0)
                text[u++] = '.';
            text[u++] = (char)('0' + sgs_rng_next_u64(&rng) % 10);
        }
        if (sgs_rng_next_u64(&rng) % 8 == 0)
            u += (size_t)sprintf(text + u, "e%d", (int)(sgs_rng_next_u64(&rng) % 40) - 20);
        text[u] = '\0';
        double got = 0;
        const char *reason = NULL;
        if (sgs_import_parse_double(text, u, &got, &reason) != SGS_OK)
            fail_msg("seed %llu: \"%s\" rejected: %s", (unsigned long long)seed, text, reason);
        double want = strtod(text, NULL);
        if (memcmp(&got, &want, sizeof got) != 0)
            fail_msg("seed %llu: \"%s\": expected %.17g, got %.17g", (unsigned long long)seed, text,
                     want, got);
    }
}

/* ---- times ------------------------------------------------------------------------- */

static int64_t time_ok(const char *text, sgs_time_format_t format)
{
    int64_t t = -1;
    const char *reason = NULL;
    if (sgs_import_parse_time(text, strlen(text), format, &t, &reason) != SGS_OK)
        fail_msg("\"%s\" (format %d) rejected: %s", text, (int)format, reason);
    return t;
}

static void time_bad(const char *text, sgs_time_format_t format, const char *reason_part)
{
    int64_t t = -1;
    const char *reason = NULL;
    if (sgs_import_parse_time(text, strlen(text), format, &t, &reason) != SGS_EDATA)
        fail_msg("\"%s\" (format %d) accepted as %lld", text, (int)format, (long long)t);
    if (!strstr(reason, reason_part))
        fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", text, reason, reason_part);
}

static void test_iso_times(void **state)
{
    (void)state;
    const sgs_time_format_t A = SGS_TIME_AUTO, I = SGS_TIME_ISO;
    assert_int_equal(time_ok("2011-12-09", A), 1323388800);
    assert_int_equal(time_ok("2011-12-09 12:50", A), 1323435000);
    assert_int_equal(time_ok("2011-12-09T12:50:00", A), 1323435000);
    assert_int_equal(time_ok("2011-12-09T12:50:00Z", I), 1323435000);
    assert_int_equal(time_ok("2011-12-09 12:50:00.999", A), 1323435000); /* fraction dropped */
    assert_int_equal(time_ok("2011-12-09T14:50:00+02:00", A), 1323435000);
    assert_int_equal(time_ok("2011-12-09T14:50:00+0200", A), 1323435000);
    assert_int_equal(time_ok("2011-12-09T07:50-05", A), 1323435000);
    assert_int_equal(time_ok("2011-12-09 13:50:00 +01:00", A), 1323435000);
    assert_int_equal(time_ok("2011-12-09 12:50:00 UTC", A), 1323435000);
    assert_int_equal(time_ok("2011-12-09 12:50 gmt", A), 1323435000);
    assert_int_equal(time_ok("2011-12-09 0:50", A), 1323391800);
    assert_int_equal(time_ok("2000-03-01", A), 951868800);
    assert_int_equal(time_ok("2012-02-29", A), 1330473600);
    assert_int_equal(time_ok("2038-01-19T03:14:08Z", A), INT64_C(2147483648));
    assert_int_equal(time_ok("2400-02-29 23:59:59", A), INT64_C(13574649599));
    assert_int_equal(time_ok("1970-01-01", A), 0);
    time_bad("2011-02-29", A, "calendar");
    time_bad("1900-02-29", A, "calendar");
    time_bad("2011-13-01", A, "calendar");
    time_bad("2011-12-32", A, "calendar");
    time_bad("1969-12-31", A, "before 1970");
    time_bad("1970-01-01T00:30+01:00", A, "before 1970");
    time_bad("2011-12-09 25:00", A, "out of range");
    time_bad("2011-12-09 12:5", A, "H:MM");
    time_bad("2011-12-09x", A, "unexpected text");
    time_bad("2011-12-09T12:50+5", A, "offset");
    time_bad("2011-12-09T12:50 CET", A, "unexpected text");
    time_bad("2011-12-09T12:50ZZ", A, "unexpected text");
    /* found by fuzz/fuzz_dates.c (tests/fuzz_corpus/dates/regressions/): text after a
     * numeric offset used to be ignored */
    time_bad("2011-12-09T14:50+0200x", A, "after the UTC offset");
    time_bad("2011-12-09T14:50:00+02:00:30", A, "after the UTC offset");
    time_bad("2011-12-09 14:50 +02:00 x", I, "after the UTC offset");
    time_bad("9/12/2011 7:50 -0500 EST", SGS_TIME_DMY, "after the UTC offset");
    time_bad("", A, "empty");
    time_bad("yesterday", A, "not a date");
}

static void test_other_time_formats(void **state)
{
    (void)state;
    assert_int_equal(time_ok("19970101", SGS_TIME_AUTO), 852076800);
    assert_int_equal(time_ok("20111209", SGS_TIME_YYYYMMDD), 1323388800);
    time_bad("2011129", SGS_TIME_YYYYMMDD, "YYYYMMDD");
    time_bad("20110230", SGS_TIME_YYYYMMDD, "calendar");
    time_bad("2011-12-09", SGS_TIME_YYYYMMDD, "YYYYMMDD");

    /* 12/9/2011: ambiguous without a format */
    time_bad("12/9/2011 12:50", SGS_TIME_AUTO, "mdy or dmy");
    time_bad("12/9/2011 12:50", SGS_TIME_ISO, "ISO");
    assert_int_equal(time_ok("12/9/2011 12:50", SGS_TIME_MDY), 1323435000);
    assert_int_equal(time_ok("9/12/2011 12:50", SGS_TIME_DMY), 1323435000);
    assert_int_equal(time_ok("12/9/2011 12:50", SGS_TIME_DMY), 1315831800);
    assert_int_equal(time_ok("09.12.2011", SGS_TIME_DMY), 1323388800);
    assert_int_equal(time_ok("12-09-2011 12:50:00", SGS_TIME_MDY), 1323435000);
    assert_int_equal(time_ok("12/9/2011", SGS_TIME_MDY), 1323388800);
    assert_int_equal(time_ok("12/9/2011 12:50 AM", SGS_TIME_MDY), 1323391800);
    assert_int_equal(time_ok("12/9/2011 12:50:00 pm", SGS_TIME_MDY), 1323435000);
    assert_int_equal(time_ok("12/9/2011 1:50 PM", SGS_TIME_MDY), 1323391800 + 13 * 3600);
    time_bad("12/9/11 12:50", SGS_TIME_MDY, "four digits");
    time_bad("13/9/2011", SGS_TIME_MDY, "calendar");
    time_bad("12/9-2011", SGS_TIME_MDY, "M/D/YYYY");
    time_bad("12/9/2011 13:00 PM", SGS_TIME_MDY, "1..12");

    assert_int_equal(time_ok("1323435000", SGS_TIME_UNIX), 1323435000);
    assert_int_equal(time_ok("0", SGS_TIME_UNIX), 0);
    time_bad("-1", SGS_TIME_UNIX, "before 1970");
    assert_int_equal(time_ok("253402300799", SGS_TIME_UNIX), 253402300799); /* 9999-12-31 */
    time_bad("253402300800", SGS_TIME_UNIX, "after 9999-12-31");
    time_bad("17000000000640", SGS_TIME_UNIX, "after 9999-12-31"); /* found by the fuzzer */
    time_bad("2011-12-09", SGS_TIME_UNIX, "integer");
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(sgs_import_reason_name(SGS_IMPORT_NO_CUSTOMER), "no customer id");
    assert_string_equal(sgs_import_reason_name(SGS_IMPORT_BAD_TIME), "bad time");
    assert_string_equal(sgs_import_reason_name(SGS_IMPORT_N_REASONS), "unknown");
}

/* ---- the whole import, in process -------------------------------------------------- */

static const char SMALL_CSV[] = "\xEF\xBB\xBF"
                                "cust;when;qty;price\r\n"
                                "10;2020-01-01;2;1.5\r\n"
                                "11;2020-01-02;\"1\";-4\r\n"
                                ";2020-01-03;1;1\r\n"
                                "10;2020-01-04;3;0.25\r\n"
                                "12;2020-01-05;1;7\r\n"
                                "13;2020-01-06;1;x\r\n"
                                "10;2020-01-07;1;1\r\n"
                                "14;2020-01-08;5;2\r\n";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static sgs_import_options_t small_options(void)
{
    sgs_import_options_t o;
    memset(&o, 0, sizeof o);
    o.delimiter = ';';
    o.customer = "cust";
    o.time = "when";
    o.amount = "qty*price";
    o.skip_bad_rows = 1;
    return o;
}

/* Tiny read buffers and HDF5 chunks of 2 rows, with and without the writer thread. */
static void test_import_in_process(void **state)
{
    (void)state;
    char dir[256], csv[512], out[512];
    sgs_test_tmpdir("import-unit", dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/small.csv", dir);
    snprintf(out, sizeof out, "%s/small.h5", dir);
    write_text(csv, SMALL_CSV);
    for (int threads = 1; threads <= 2; threads++) {
        for (size_t buffer = 2; buffer <= 64; buffer += 7) {
            sgs_import_options_t o = small_options();
            o.n_threads = threads;
            o.buffer_bytes = buffer;
            o.chunk_rows = 2;
            sgs_import_stats_t st;
            sgs_error_t err = {0};
            int rc = sgs_csv_import(csv, out, &o, &st, &err);
            if (rc != SGS_OK)
                fail_msg("threads %d buffer %zu: %s", threads, buffer, err.message);
            assert_int_equal(st.n_rows_read, 8);
            assert_int_equal(st.n_imported, 6);
            assert_int_equal(st.n_skipped[SGS_IMPORT_NO_CUSTOMER], 1);
            assert_int_equal(st.n_skipped[SGS_IMPORT_BAD_AMOUNT], 1);
            assert_int_equal(st.n_customers, 4);
            assert_int_equal(st.n_refunds, 1);
            assert_int_equal(st.header_line, 1);
            assert_int_equal(st.min_time_s, 1577836800); /* 2020-01-01 */
            assert_int_equal(st.max_time_s, 1577836800 + 7 * 86400);
            assert_int_equal(st.n_examples, 1);
            sgs_assert_contains(st.examples[0], "small.csv:7: amount factor \"x\"");

            hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
            sgs_assert_cmp(f, >=, 0);
            double *amount = NULL;
            int64_t *customer = NULL;
            size_t n = 0, m = 0;
            assert_int_equal(sgs_h5_read_column(f, "/transactions/amount", SGS_H5_F64,
                                                (void **)&amount, &n, &err),
                             SGS_OK);
            assert_int_equal(sgs_h5_read_column(f, "/transactions/customer_id", SGS_H5_I64,
                                                (void **)&customer, &m, &err),
                             SGS_OK);
            char source[64];
            assert_int_equal(
                sgs_h5_attr_read_string(f, "/transactions", "source", source, sizeof source, &err),
                SGS_OK);
            assert_string_equal(source, "small.csv");
            H5Fclose(f);
            const double want_amount[6] = {3.0, -4.0, 0.75, 7.0, 1.0, 10.0};
            const int64_t want_customer[6] = {10, 11, 10, 12, 10, 14};
            assert_int_equal(n, 6);
            assert_int_equal(m, 6);
            for (size_t k = 0; k < 6; k++) {
                sgs_assert_close(amount[k], want_amount[k], 0, 0);
                assert_int_equal(customer[k], want_customer[k]);
            }
            sgs_free(amount);
            sgs_free(customer);
        }
    }
    sgs_test_rmdir(dir);
}

static int temporaries_in(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        found += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return found;
}

/* Make the N-th allocation fail, for every N until the import succeeds: each failure is
 * SGS_ENOMEM, leaves the previous output byte-identical and no temporary behind (and,
 * under AddressSanitizer, leaks nothing). */
static void test_import_allocation_failures(void **state)
{
    (void)state;
    char dir[256], csv[512], out[512], saved[512];
    sgs_test_tmpdir("import-oom", dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/small.csv", dir);
    snprintf(out, sizeof out, "%s/small.h5", dir);
    snprintf(saved, sizeof saved, "%s/saved.csv", dir);
    write_text(csv, SMALL_CSV);
    write_text(out, "previous results");
    write_text(saved, "previous results");
    sgs_import_options_t o = small_options();
    o.n_threads = 1; /* the failure counter is not thread-safe */
    o.buffer_bytes = 16;
    o.chunk_rows = 2;
    int succeeded = 0;
    for (long n = 0; n < 200 && !succeeded; n++) {
        sgs_error_t err = {0};
        sgs_test_fail_alloc_after(n);
        int rc = sgs_csv_import(csv, out, &o, NULL, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc == SGS_OK) {
            succeeded = 1;
            sgs_assert_cmp(n, >, 5);
            break;
        }
        if (rc != SGS_ENOMEM)
            fail_msg("allocation %ld: expected SGS_ENOMEM, got %d: %s", n, rc, err.message);
        sgs_assert_files_equal(out, saved);
        assert_int_equal(temporaries_in(dir), 0);
    }
    if (!succeeded)
        fail_msg("no import succeeded, failing allocation n = 0 to 199");
    assert_int_equal(temporaries_in(dir), 0);
    sgs_test_rmdir(dir);
}

/* A stop check that says stop at its n-th call (kernels/core.h sgs_stop_fn); at = 0 never. */
typedef struct stop_after {
    int calls, at;
} stop_after_t;

static int stop_at_call(void *ctx, sgs_error_t *err)
{
    stop_after_t *s = ctx;
    if (++s->calls != s->at)
        return SGS_OK;
    return sgs_error_set(err, SGS_EINTR, "stopped at call %d", s->at);
}

/* The stop check is asked every 1024 records and before the rename: a stop at any of them, with
 * and without the writer thread, returns its code and message, leaves the previous output
 * byte-identical and no temporary behind. */
static void test_import_stop_check(void **state)
{
    (void)state;
    char dir[256], csv[512], out[512], saved[512];
    sgs_test_tmpdir("import-stop", dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/rows.csv", dir);
    snprintf(out, sizeof out, "%s/rows.h5", dir);
    snprintf(saved, sizeof saved, "%s/saved.csv", dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fputs("cust;when;qty;price\n", f);
    for (int i = 0; i < 5000; i++)
        fprintf(f, "%d;2020-01-%02d;%d;1.5\n", i % 97, 1 + i % 28, 1 + i % 3);
    assert_int_equal(fclose(f), 0);
    write_text(out, "previous results");
    write_text(saved, "previous results");
    for (int threads = 1; threads <= 2; threads++) {
        sgs_import_options_t o = small_options();
        o.n_threads = threads;
        o.chunk_rows = 512;
        o.stop = stop_at_call;
        /* 5000 records: checks at records 1024, 2048, 3072, 4096, then before the rename */
        const int n_checks = 5;
        for (int at = 1; at <= n_checks; at++) {
            stop_after_t stop = {0, at};
            o.stop_ctx = &stop;
            sgs_error_t err = {0};
            int rc = sgs_csv_import(csv, out, &o, NULL, &err);
            char want[64];
            snprintf(want, sizeof want, "stopped at call %d", at);
            if (rc != SGS_EINTR || strcmp(err.message, want) != 0)
                fail_msg("%d threads, stop at call %d: got %d \"%s\"", threads, at, rc,
                         err.message);
            sgs_assert_files_equal(out, saved);
            assert_int_equal(temporaries_in(dir), 0);
        }
        stop_after_t never = {0, 0};
        o.stop_ctx = &never;
        assert_int_equal(sgs_csv_import(csv, out, &o, NULL, NULL), SGS_OK);
        assert_int_equal(never.calls, n_checks);
        if (sgs_test_files_equal(out, saved))
            fail_msg("%d threads: %s still holds the previous results", threads, out);
        write_text(out, "previous results");
    }
    sgs_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_decimals),
        cmocka_unit_test(test_decimals_match_strtod),
        cmocka_unit_test(test_iso_times),
        cmocka_unit_test(test_other_time_formats),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_import_in_process),
        cmocka_unit_test(test_import_allocation_failures),
        cmocka_unit_test(test_import_stop_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
