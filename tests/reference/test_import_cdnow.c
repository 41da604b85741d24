/*
 * tests/reference/test_import_cdnow.c — `segscore import` of the real CDNOW logs in
 * ../shared/data/cdnow: every row of the sample equal to an independent sscanf of the text,
 * the counts of the README, and the master file's header. Exit status 77 (skipped) when
 * the files are absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Distinct values of an int64 array (sorted copy). */
static size_t count_distinct(const int64_t *v, size_t n)
{
    int64_t *c = malloc((n ? n : 1) * sizeof *c);
    assert_non_null(c);
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_i64);
    size_t d = 0;
    for (size_t k = 0; k < n; k++)
        d += k == 0 || c[k] != c[k - 1];
    free(c);
    return d;
}

/* Repeat purchases of `customer` before day `end_day`: distinct purchase days - 1 (a
 * zero-amount row is a purchase). */
static int repeat_purchases(const sgs_test_transactions_t *t, int64_t customer, int64_t end_day)
{
    int64_t days[512];
    size_t nd = 0;
    for (size_t k = 0; k < t->n; k++) {
        if (t->customer_id[k] != customer || t->time_s[k] / 86400 >= end_day)
            continue;
        int64_t d = t->time_s[k] / 86400;
        size_t j = 0;
        while (j < nd && days[j] != d)
            j++;
        if (j == nd) {
            sgs_assert_cmp(nd, <, 512);
            days[nd++] = d;
        }
    }
    return nd ? (int)nd - 1 : 0;
}

/* ---- CDNOW ------------------------------------------------------------------------ */

/* One CDNOW log imported into a fresh folder. */
typedef struct cdnow_import {
    char data[1024];   /* ../shared/data/cdnow/<name> */
    char dir[256];     /* the folder, removed by the test */
    char out[512];     /* <dir>/imported.h5 */
    char output[8192]; /* what segscore import printed */
} cdnow_import_t;

/* Import ../shared/data/cdnow/<name> with `options`; the import must succeed. */
static void import_cdnow(const char *name, const char *options, cdnow_import_t *im)
{
    char relative[256], args[2048];
    snprintf(relative, sizeof relative, "cdnow/%s", name);
    if (!sgs_test_shared_data(relative, im->data, sizeof im->data))
        fail_msg("../shared/data/%s: not found", relative);
    sgs_test_tmpdir("import-cdnow", im->dir, sizeof im->dir);
    snprintf(im->out, sizeof im->out, "%s/imported.h5", im->dir);
    snprintf(args, sizeof args, "import -i '%s' -o '%s' %s", im->data, im->out, options);
    assert_int_equal(sgs_test_run(args, im->output, sizeof im->output), 0);
}

/* The sample: 6,919 rows, 2,357 customers; every row equal to an independent sscanf of
 * the text; the repeat purchases of customers 1..5 in the 39-week calibration period. */
static void test_cdnow_sample(void **state)
{
    (void)state;
    cdnow_import_t im;
    import_cdnow("CDNOW_sample.txt", "--preset cdnow --customer 2 --time 3 --amount 5", &im);
    const char *output = im.output;
    sgs_assert_contains(output, "rows read: 6919\n");
    sgs_assert_contains(output, "rows imported: 6919 (0 refunds, 8 with amount 0)");
    sgs_assert_contains(output, "customers: 2357\n");
    sgs_assert_contains(output, "header: none");
    sgs_assert_contains(output, "time range: 1997-01-01 00:00:00 to 1998-06-30 00:00:00");

    sgs_test_transactions_t t;
    sgs_test_read_transactions(im.out, &t);
    assert_int_equal(t.n, 6919);
    assert_int_equal(count_distinct(t.customer_id, t.n), 2357);

    /* independent recomputation from the text */
    FILE *f = fopen(im.data, "r");
    assert_non_null(f);
    long master_id, sample_id, date, cds;
    double dollars;
    size_t row = 0, zero = 0;
    while (fscanf(f, "%ld %ld %ld %ld %lf", &master_id, &sample_id, &date, &cds, &dollars) == 5) {
        sgs_assert_cmp(row, <, t.n);
        int y = (int)(date / 10000), m = (int)(date / 100 % 100), d = (int)(date % 100);
        /* days since 1970-01-01 by counting, not by the importer's formula */
        int64_t days = 0;
        for (int yy = 1970; yy < y; yy++)
            days += (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0 ? 366 : 365;
        static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        for (int mm = 1; mm < m; mm++)
            days += mdays[mm - 1] + (mm == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
        days += d - 1;
        assert_int_equal(t.customer_id[row], sample_id);
        assert_int_equal(t.time_s[row], days * 86400);
        sgs_assert_cmp(t.amount[row], ==, dollars); /* both correctly rounded */
        zero += dollars == 0.0;
        row++;
    }
    fclose(f);
    assert_int_equal(row, 6919);
    assert_int_equal(zero, 8); /* README: 8 zero-dollar rows in the sample */

    /* calibration period: 39 weeks from 1997-01-01 (day 9862) */
    const int64_t end_day = 9862 + 273;
    const int expected[5] = {2, 1, 0, 0, 0};
    for (int c = 1; c <= 5; c++)
        assert_int_equal(repeat_purchases(&t, c, end_day), expected[c - 1]);
    sgs_test_free_transactions(&t);
    sgs_test_rmdir(im.dir);
}

/* The master file, whose first line is a header: 69,659 rows, 23,570 customers, 80 rows
 * of zero dollars (README). */
static void test_cdnow_master(void **state)
{
    (void)state;
    cdnow_import_t im;
    import_cdnow("CDNOW_master.txt", "--preset cdnow", &im);
    const char *data = im.data, *out = im.out;
    char *output = im.output, args[2048];
    sgs_assert_contains(output, "header: line 1");
    sgs_assert_contains(output, "customers: 23570\n");
    sgs_test_transactions_t t;
    sgs_test_read_transactions(out, &t);
    assert_int_equal(t.n, 69659);
    assert_int_equal(count_distinct(t.customer_id, t.n), 23570);
    size_t zero = 0;
    double total = 0;
    for (size_t k = 0; k < t.n; k++) {
        zero += t.amount[k] == 0.0;
        total += t.amount[k];
    }
    assert_int_equal(zero, 80);
    sgs_assert_close(total, 2500315.63, 1e-6, 0); /* the dollar column's sum (pandas) */
    assert_int_equal(t.customer_id[0], 1);
    assert_int_equal(t.time_s[0], 852076800); /* 1997-01-01 */
    sgs_assert_close(t.amount[0], 11.77, 0, 0);
    sgs_test_free_transactions(&t);

    /* --no-header makes the header line a bad row: line 1, customer id "customer_id" */
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --preset cdnow --no-header", data, out);
    assert_int_equal(sgs_test_run(args, output, sizeof im.output), 65);
    sgs_assert_contains(output, "CDNOW_master.txt:1: customer id \"customer_id\"");

    /* forgetting --format whitespace gives a hint */
    snprintf(args, sizeof args, "import -i '%s' -o '%s' --customer 1 --time 2 --amount 4", data,
             out);
    assert_int_equal(sgs_test_run(args, output, sizeof im.output), 65);
    sgs_assert_contains(output, "see --format");
    sgs_test_rmdir(im.dir);
}

int main(void)
{
    char probe[1024];
    if (!sgs_test_shared_data("cdnow/CDNOW_sample.txt", probe, sizeof probe) ||
        !sgs_test_shared_data("cdnow/CDNOW_master.txt", probe, sizeof probe)) {
        print_message("../shared/data/cdnow not found: skipped\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cdnow_sample),
        cmocka_unit_test(test_cdnow_master),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
