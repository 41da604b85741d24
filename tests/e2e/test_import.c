/*
 * tests/e2e/test_import.c — `segscore import` end to end on small Online Retail style CSVs
 * written here (byte order mark, CRLF, quoted fields with commas and newlines, a
 * cancellation, a row without a customer, a bad date). Every output is read back and
 * compared with values computed independently (hand-computed Unix times). The CDNOW logs
 * are imported by tests/reference/test_import_cdnow.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------------- */

/* True when `dir` has a file whose name starts with `prefix` (leftover temporaries). */
static int has_file_with_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            found = 1;
    closedir(d);
    return found;
}

/* ---- Online Retail ----------------------------------------------------------------- */

/* UCI Online Retail layout: BOM, CRLF, a quoted description with a comma, doubled quotes,
 * a description with a newline on a row without customer, a cancellation (negative
 * quantity), an offset time, a bad date on line 9, YYYYMMDD, no final newline. */
static const char RETAIL_CSV[] =
    "\xEF\xBB\xBFInvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,"
    "Country\r\n"
    "536365,85123A,\"WHITE HANGING HEART T-LIGHT HOLDER, LARGE\",6,2010-12-01 08:26:00,2.55,"
    "17850.0,United Kingdom\r\n"
    "536366,22633,\"HAND WARMER \"\"UNION JACK\"\"\",6,2010-12-01T08:28:00Z,1.85,17850,"
    "United Kingdom\r\n"
    "C536379,D,Discount,-1,2010-12-01 09:41:00,27.50,14527.0,United Kingdom\r\n"
    "536414,22139,\"multi\r\nline, description\",56,2010-12-01 11:52:00,0,,United Kingdom\r\n"
    "536415,22140,PLASTERS,3,2010-12-01 12:00:00+01:00,1.25,13047,France\r\n"
    "\r\n"
    "536416,22141,BAD,1,2010-13-45 10:00,1.00,12345,France\r\n"
    "536417,22142,LAST,2,20101209,0.5,12346,France";

static void check_retail_rows(const char *out)
{
    sgs_test_transactions_t t;
    sgs_test_read_transactions(out, &t);
    assert_int_equal(t.n, 5);
    const int64_t customer[5] = {17850, 17850, 14527, 13047, 12346};
    const int64_t time_s[5] = {1291191960, 1291192080, 1291196460, 1291201200, 1291852800};
    const double amount[5] = {6 * 2.55, 6 * 1.85, -1 * 27.50, 3 * 1.25, 2 * 0.5};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(t.customer_id[k], customer[k]);
        assert_int_equal(t.time_s[k], time_s[k]);
        sgs_assert_close(t.amount[k], amount[k], 0, 0);
    }
    sgs_test_free_transactions(&t);
}

static void test_online_retail_bad_row_stops_and_output_untouched(void **state)
{
    (void)state;
    char dir[256], csv[512], out[512], saved[512], args[2048], output[8192];
    sgs_test_tmpdir("import-retail", dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/orders.csv", dir);
    snprintf(out, sizeof out, "%s/orders.h5", dir);
    sgs_test_write_file(csv, RETAIL_CSV);

    /* without --skip-bad-rows and no output yet: exit 65, file:line: reason, no output */
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --preset online-retail", csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 65);
    sgs_assert_contains(output, "orders.csv:9: time \"2010-13-45 10:00\" in column 5 "
                                "\"InvoiceDate\": not a calendar date");
    sgs_assert_contains(output, "--skip-bad-rows");
    assert_null(sgs_test_read_file(out, NULL));
    if (has_file_with_prefix(dir, ".orders.h5.tmp"))
        fail_msg("%s: a temporary .orders.h5.tmp* left behind", dir);

    /* a good import first, then the failing one must leave it byte-identical */
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --preset online-retail --skip-bad-rows",
             csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 0);
    snprintf(saved, sizeof saved, "%s/saved.h5", dir);
    size_t size;
    char *bytes = sgs_test_read_file(out, &size);
    assert_non_null(bytes);
    FILE *f = fopen(saved, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    fclose(f);
    free(bytes);
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --preset online-retail", csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 65);
    sgs_assert_files_equal(out, saved);
    if (has_file_with_prefix(dir, ".orders.h5.tmp"))
        fail_msg("%s: a temporary .orders.h5.tmp* left behind", dir);
    check_retail_rows(out);
    sgs_test_rmdir(dir);
}

static void test_online_retail_skip_bad_rows(void **state)
{
    (void)state;
    char dir[256], csv[512], out[512], args[2048], output[8192];
    sgs_test_tmpdir("import-retail", dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/orders.csv", dir);
    snprintf(out, sizeof out, "%s/orders.h5", dir);
    sgs_test_write_file(csv, RETAIL_CSV);
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --preset online-retail --skip-bad-rows",
             csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 0);
    sgs_assert_contains(output, "header: line 1\n");
    sgs_assert_contains(output, "rows read: 7\n");
    sgs_assert_contains(output, "rows imported: 5 (1 refunds, 0 with amount 0)");
    sgs_assert_contains(output, "rows skipped: 2 (1 no customer id, 1 bad time)");
    sgs_assert_contains(output, "customers: 4\n");
    sgs_assert_contains(output, "time range: 2010-12-01 08:26:00 to 2010-12-09 00:00:00");
    sgs_assert_contains(output, "orders.csv:9: time \"2010-13-45 10:00\"");
    sgs_assert_contains(output, "amount = column 4 \"Quantity\" * column 6 \"UnitPrice\"");
    check_retail_rows(out);

    /* explicit columns, Online Retail II names, a semicolon file with a decimal comma */
    snprintf(csv, sizeof csv, "%s/ii.csv", dir);
    sgs_test_write_file(csv, "Invoice;StockCode;Description;Quantity;InvoiceDate;Price;Customer ID;"
                             "Country\n"
                             "489434;85048;\"LED; BLUE\";12;2009-12-01 07:45:00;6.95;13085.0;UK\n"
                             "489435;22350;CAT;-2;2009-12-01 07:46:00;2.5;13085.0;UK\n");
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --preset online-retail --delimiter ';' -q",
             csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 0);
    assert_string_equal(output, ""); /* -q */
    sgs_test_transactions_t t;
    sgs_test_read_transactions(out, &t);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.customer_id[1], 13085);
    sgs_assert_close(t.amount[0], 12 * 6.95, 0, 0);
    sgs_assert_close(t.amount[1], -5.0, 0, 0);
    sgs_test_free_transactions(&t);

    sgs_test_write_file(csv, "Invoice;Quantity;InvoiceDate;Price;Customer ID\n"
                             "1;2;2009-12-01;1,5;7\n");
    assert_int_equal(sgs_test_run(args, output, sizeof output), 65);
    sgs_assert_contains(output, "ii.csv:2: amount factor \"1,5\" in column 4 \"Price\"");
    sgs_assert_contains(output, "decimal comma");
    sgs_test_rmdir(dir);
}

/* Slashed dates need --time-format; mdy and dmy read 12/9/2011 differently. */
static void test_time_formats(void **state)
{
    (void)state;
    char dir[256], csv[512], out[512], args[2048], output[8192];
    sgs_test_tmpdir("import-times", dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/t.csv", dir);
    snprintf(out, sizeof out, "%s/t.h5", dir);
    sgs_test_write_file(csv,
                        "cust,when,value\n5,12/9/2011 12:50,10\n6,\"12/9/2011 12:50:00 PM\",-3\n");
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --customer cust --time when --amount value",
             csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 65);
    sgs_assert_contains(output, "t.csv:2: time \"12/9/2011 12:50\"");
    sgs_assert_contains(output, "--time-format mdy or dmy");

    char with_format[2200];
    snprintf(with_format, sizeof with_format, "%s --time-format mdy", args);
    assert_int_equal(sgs_test_run(with_format, output, sizeof output), 0);
    sgs_test_transactions_t t;
    sgs_test_read_transactions(out, &t);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.time_s[0], 1323435000); /* 2011-12-09 12:50 UTC */
    assert_int_equal(t.time_s[1], 1323435000); /* 12:50 PM is 12:50 */
    sgs_test_free_transactions(&t);

    snprintf(with_format, sizeof with_format, "%s --time-format dmy", args);
    assert_int_equal(sgs_test_run(with_format, output, sizeof output), 0);
    sgs_test_read_transactions(out, &t);
    assert_int_equal(t.time_s[0], 1315831800); /* 2011-09-12 12:50 UTC */
    sgs_test_free_transactions(&t);
    sgs_test_rmdir(dir);
}

/* Usage and input errors give the documented exit status and a useful message. */
static void test_errors(void **state)
{
    (void)state;
    char dir[256], csv[512], out[512], args[2048], output[8192];
    sgs_test_tmpdir("import-errors", dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/orders.csv", dir);
    snprintf(out, sizeof out, "%s/orders.h5", dir);
    sgs_test_write_file(csv, RETAIL_CSV);

    snprintf(args, sizeof args,
             "import -i '%s' -o '%s' --customer CustomrID --time InvoiceDate --amount UnitPrice",
             csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 65);
    sgs_assert_contains(output, "--customer \"CustomrID\": no such column");
    sgs_assert_contains(output, "Did you mean \"CustomerID\"?");

    snprintf(args, sizeof args, "import -i '%s/none.csv' -o '%s' --preset online-retail", dir, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 66);
    sgs_assert_contains(output, "none.csv: cannot open");

    snprintf(args, sizeof args, "import -i '%s' -o '%s' --preset online-retail", csv, csv);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 64);

    snprintf(args, sizeof args,
             "import -i '%s' -o '%s/no/such/dir/x.h5' --preset online-retail "
             "--skip-bad-rows",
             csv, dir);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 73);

    snprintf(args, sizeof args, "import -i '%s' -o '%s' --preset nope", csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 64);
    snprintf(args, sizeof args, "import -i '%s' -o '%s'", csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 64);
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --preset cdnow --time-format ymd", csv,
             out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 64);

    /* an unclosed quote names the line where the record began */
    sgs_test_write_file(csv, "c,t,a\n1,2011-01-01,3\n2,\"2011-01-02,4\n");
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --customer c --time t --amount a", csv,
             out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 65);
    sgs_assert_contains(output, "orders.csv:3: quoted field not closed");

    /* only rows without customers: nothing to write */
    sgs_test_write_file(csv, "c,t,a\n,2011-01-01,3\nNA,2011-01-01,3\n");
    assert_int_equal(sgs_test_run(args, output, sizeof output), 65);
    sgs_assert_contains(output, "no rows imported (2 rows read, 2 without customer id");
    assert_null(sgs_test_read_file(out, NULL));

    assert_int_equal(sgs_test_run("import --help", output, sizeof output), 0);
    sgs_assert_contains(output, "--time-format");
    sgs_test_rmdir(dir);
}

/* Optional channel and category columns; a larger file crossing many read buffers and
 * HDF5 chunks; rows come back in file order. */
static void test_channel_category_and_many_rows(void **state)
{
    (void)state;
    char dir[256], csv[512], out[512], args[2048], output[8192];
    sgs_test_tmpdir("import-many", dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/many.tsv", dir);
    snprintf(out, sizeof out, "%s/many.h5", dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fprintf(f, "id\tday\tspent\tvia\tcat\n");
    const char *channels[3] = {"web", "Store", "3"};
    const size_t n = 200000;
    for (size_t k = 0; k < n; k++)
        fprintf(f, "%zu\t2020-01-%02zuT%02zu:00:00+02:00\t%zu.25\t%s\t%s\n", k % 1000, 1 + k % 28,
                k % 24, k % 100, channels[k % 3], k % 7 == 0 ? "" : "12");
    fclose(f);
    snprintf(args, sizeof args,
             "import -i '%s' -o '%s' --delimiter tab --customer id --time day --amount spent "
             "--channel via --category cat --compression 0",
             csv, out);
    assert_int_equal(sgs_test_run(args, output, sizeof output), 0);
    sgs_assert_contains(output, "customers: 1000\n");
    sgs_test_transactions_t t;
    sgs_test_read_transactions(out, &t);
    assert_int_equal(t.n, n);
    hid_t h = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(h, >=, 0);
    uint8_t *channel = NULL;
    int32_t *category = NULL;
    size_t nc, ng;
    sgs_error_t err = {0};
    assert_int_equal(
        sgs_h5_read_column(h, "/transactions/channel", SGS_H5_U8, (void **)&channel, &nc, &err),
        SGS_OK);
    assert_int_equal(
        sgs_h5_read_column(h, "/transactions/category", SGS_H5_I32, (void **)&category, &ng, &err),
        SGS_OK);
    H5Fclose(h);
    assert_int_equal(nc, n);
    assert_int_equal(ng, n);
    const uint8_t codes[3] = {2, 1, 3};
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(t.customer_id[k], (int64_t)(k % 1000));
        /* 2020-01-01 is day 18262; the +02:00 offset moves the time two hours back */
        int64_t want = (18262 + (int64_t)(k % 28)) * 86400 + (int64_t)(k % 24) * 3600 - 7200;
        assert_int_equal(t.time_s[k], want);
        sgs_assert_cmp(t.amount[k], ==, (double)(k % 100) + 0.25);
        assert_int_equal(channel[k], codes[k % 3]);
        assert_int_equal(category[k], k % 7 == 0 ? -1 : 12);
    }
    sgs_free(channel);
    sgs_free(category);
    sgs_test_free_transactions(&t);

    /* the background writer changes nothing: same bytes with one thread, also compressed */
    char out1[512], out2[512];
    snprintf(out1, sizeof out1, "%s/one.h5", dir);
    snprintf(out2, sizeof out2, "%s/two.h5", dir);
    for (int threads = 1; threads <= 2; threads++) {
        snprintf(args, sizeof args,
                 "import -i '%s' -o '%s' --delimiter tab --customer id --time day --amount spent "
                 "--channel via --category cat --threads %d -q",
                 csv, threads == 1 ? out1 : out2, threads);
        assert_int_equal(sgs_test_run(args, output, sizeof output), 0);
    }
    sgs_assert_files_equal(out1, out2);
    sgs_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_online_retail_bad_row_stops_and_output_untouched),
        cmocka_unit_test(test_online_retail_skip_bad_rows),
        cmocka_unit_test(test_time_formats),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_channel_category_and_many_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
