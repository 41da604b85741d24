/*
 * tests/e2e/test_run_cli.c — `segscore generate` then `segscore run`, checked against an
 * independent, deliberately simple recomputation of the customer summary written here;
 * determinism across thread counts; every bad input leaves the previous results intact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "kernels/rfm.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static char dir[256];
static char demo[512];

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-run", dir, sizeof dir);
    snprintf(demo, sizeof demo, "%s/demo.h5", dir);
    char args[1024], out[8192];
    snprintf(args, sizeof args, "generate --customers 3000 --seed 7 -o '%s'", demo);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0) {
        print_error("generate failed (%d): %s\n", status, out);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

/* ---- Independent reference: sort rows by (customer, time) with qsort, then walk. ---- */

typedef struct row {
    int64_t customer;
    int64_t day;
    double amount;
} row_t;

static int row_cmp(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    if (x->customer != y->customer)
        return x->customer < y->customer ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

typedef struct reference {
    size_t n;
    int64_t *id;
    double *frequency, *recency, *T, *total_spend, *monetary;
} reference_t;

/* Floor division of Unix seconds to UTC days, written out again on purpose. */
static int64_t day_of(int64_t t)
{
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

static void reference_compute(const char *path, int64_t as_of_day, reference_t *ref)
{
    sgs_test_transactions_t tx;
    sgs_test_read_transactions(path, &tx);
    size_t n = tx.n;
    const int64_t *cid = tx.customer_id, *time = tx.time_s;
    const double *amount = tx.amount;
    row_t *rows = malloc(n * sizeof *rows);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (day_of(time[i]) <= as_of_day)
            rows[m++] = (row_t){cid[i], day_of(time[i]), amount[i]};
    qsort(rows, m, sizeof *rows, row_cmp);
    ref->id = malloc(m * sizeof(int64_t));
    ref->frequency = malloc(m * sizeof(double));
    ref->recency = malloc(m * sizeof(double));
    ref->T = malloc(m * sizeof(double));
    ref->total_spend = malloc(m * sizeof(double));
    ref->monetary = malloc(m * sizeof(double));
    ref->n = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && rows[j].customer == rows[i].customer)
            j++;
        /* Day by day (docs/spend.md): an occasion is a day with a purchase row
         * not fully cancelled the same day; a refund not netted that day takes the latest
         * occasion's net amount down, to 0 at most. */
        int64_t first = -1, last = -1;
        long days = 0;
        double total = 0, repeat_spend = 0, last_net = 0;
        for (size_t k = i; k < j;) {
            int64_t day = rows[k].day;
            double bought = 0, refunded = 0;
            int purchase_row = 0;
            for (; k < j && rows[k].day == day; k++) {
                total += rows[k].amount;
                if (rows[k].amount >= 0) {
                    bought += rows[k].amount;
                    purchase_row = 1;
                } else {
                    refunded += rows[k].amount;
                }
            }
            double net = bought + refunded;
            if (!purchase_row || (refunded < 0 && net <= 1e-9 * bought)) {
                double back = -net < last_net ? -net : last_net;
                if (back > 0) {
                    last_net -= back;
                    if (days > 1)
                        repeat_spend -= back;
                }
                continue;
            }
            if (first < 0)
                first = day;
            else
                repeat_spend += net;
            last = day;
            last_net = net;
            days++;
        }
        if (days > 0) {
            size_t c = ref->n++;
            ref->id[c] = rows[i].customer;
            ref->frequency[c] = (double)(days - 1);
            ref->recency[c] = (double)(last - first);
            ref->T[c] = (double)(as_of_day - first);
            ref->total_spend[c] = total;
            ref->monetary[c] =
                days > 1 ? (repeat_spend > 0 ? repeat_spend : 0) / (double)(days - 1) : 0.0;
        }
        i = j;
    }
    free(rows);
    sgs_test_free_transactions(&tx);
}

static void reference_free(reference_t *ref)
{
    free(ref->id);
    free(ref->frequency);
    free(ref->recency);
    free(ref->T);
    free(ref->total_spend);
    free(ref->monetary);
}

/* Read a results column as double. */
static double *results_column(hid_t f, const char *path, size_t *n)
{
    double *data;
    sgs_error_t err = {0};
    int rc = sgs_h5_read_column(f, path, SGS_H5_F64, (void **)&data, n, &err);
    if (rc)
        fail_msg("%s", err.message);
    return data;
}

/* Run `input` with --as-of 2024-03-31 into `results` and check the summary and RFM columns
 * against the reference computed here. */
static void run_and_check_against_reference(const char *input, const char *results)
{
    char args[2048], out[16384];
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s' --as-of 2024-03-31 --threads 2", input,
             results);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("run failed (%d): %s", status, out);

    reference_t ref;
    /* 2024-03-31 is day 19813 */
    reference_compute(input, 19813, &ref);
    sgs_assert_cmp(ref.n, >, 1000);

    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    int64_t *id;
    size_t n;
    assert_int_equal(
        sgs_h5_read_column(f, "/customers/customer_id", SGS_H5_I64, (void **)&id, &n, NULL), 0);
    assert_int_equal(n, ref.n);
    const char *names[] = {"/customers/frequency", "/customers/recency", "/customers/T",
                           "/customers/total_spend", "/customers/monetary"};
    double *expected[] = {ref.frequency, ref.recency, ref.T, ref.total_spend, ref.monetary};
    for (size_t c = 0; c < 5; c++) {
        size_t m;
        double *got = results_column(f, names[c], &m);
        assert_int_equal(m, n);
        for (size_t i = 0; i < n; i++) {
            sgs_assert_cmp(id[i], ==, ref.id[i]);
            if (fabs(got[i] - expected[c][i]) > 1e-9 * (1 + fabs(expected[c][i])))
                fail_msg("%s customer %lld: expected %.17g, got %.17g", names[c], (long long)id[i],
                         expected[c][i], got[i]);
        }
        free(got);
    }
    /* RFM: each score recomputed by brute force: 1 + floor(5 * worse / n), where `worse`
     * counts customers strictly worse (more days since the last purchase, fewer purchase
     * days, less total spend). */
    uint8_t *r, *fs, *m, *seg;
    size_t nr;
    assert_int_equal(sgs_h5_read_column(f, "/rfm/r_score", SGS_H5_U8, (void **)&r, &nr, NULL), 0);
    assert_int_equal(sgs_h5_read_column(f, "/rfm/f_score", SGS_H5_U8, (void **)&fs, &nr, NULL), 0);
    assert_int_equal(sgs_h5_read_column(f, "/rfm/m_score", SGS_H5_U8, (void **)&m, &nr, NULL), 0);
    assert_int_equal(sgs_h5_read_column(f, "/rfm/segment", SGS_H5_U8, (void **)&seg, &nr, NULL), 0);
    assert_int_equal(nr, n);
    for (size_t i = 0; i < n; i++) {
        size_t worse_r = 0, worse_f = 0, worse_m = 0;
        double since_i = ref.T[i] - ref.recency[i];
        for (size_t j = 0; j < n; j++) {
            worse_r += ref.T[j] - ref.recency[j] > since_i;
            worse_f += ref.frequency[j] < ref.frequency[i];
            worse_m += ref.total_spend[j] < ref.total_spend[i];
        }
        assert_int_equal(r[i], 1 + 5 * worse_r / n);
        assert_int_equal(fs[i], 1 + 5 * worse_f / n);
        assert_int_equal(m[i], 1 + 5 * worse_m / n);
        assert_int_equal(seg[i], sgs_rfm_segment_of(r[i], fs[i], 5));
    }
    H5Fclose(f);
    sgs_free(r);
    sgs_free(fs);
    sgs_free(m);
    sgs_free(seg);
    sgs_free(id);
    reference_free(&ref);
}

static void test_run_summary_matches_independent_computation(void **state)
{
    (void)state;
    char results[512];
    snprintf(results, sizeof results, "%s/results.h5", dir);
    run_and_check_against_reference(demo, results);

    /* The other outputs exist beside the results. */
    const char *beside[] = {"summary.json", "customers.csv", "report.txt", "report.html"};
    for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, beside[i]);
        struct stat st;
        if (stat(path, &st) != 0 || st.st_size == 0)
            fail_msg("%s missing or empty", path);
    }
}

static void test_results_identical_for_1_2_3_threads(void **state)
{
    (void)state;
    setenv("SGS_THREAD_GRAIN", "1", 1); /* every loop on every thread, however small */
    char paths[3][512];
    for (int t = 1; t <= 3; t++) {
        char sub[400], args[4096], out[8192];
        snprintf(sub, sizeof sub, "%s/t%d", dir, t);
        mkdir(sub, 0755);
        snprintf(paths[t - 1], sizeof paths[t - 1], "%s/results.h5", sub);
        snprintf(args, sizeof args, "run -q -i '%s' -o '%s' --threads %d", demo, paths[t - 1], t);
        int status = sgs_test_run(args, out, sizeof out);
        if (status != 0)
            fail_msg("run --threads %d failed (%d): %s", t, status, out);
    }
    sgs_assert_files_equal(paths[0], paths[1]);
    sgs_assert_files_equal(paths[0], paths[2]);
    unsetenv("SGS_THREAD_GRAIN");
}

typedef struct tx_row {
    int64_t id, time;
    double amount;
    size_t row;
} tx_row_t;

static int tx_row_cmp(const void *a, const void *b)
{
    const tx_row_t *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* The demo's rows sorted by (customer_id, time): the reader sees the order, the grouping
 * skips its scatter (summary.json says so), and the results still match the reference. */
static void test_sorted_input_skips_the_scatter_and_agrees(void **state)
{
    (void)state;
    sgs_test_transactions_t tx;
    sgs_test_read_transactions(demo, &tx);
    size_t n = tx.n;
    int64_t *cid = tx.customer_id, *time_s = tx.time_s;
    double *amount = tx.amount;
    tx_row_t *rows = malloc(n * sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = (tx_row_t){cid[i], time_s[i], amount[i], i};
    qsort(rows, n, sizeof *rows, tx_row_cmp);
    for (size_t i = 0; i < n; i++) {
        cid[i] = rows[i].id;
        time_s[i] = rows[i].time;
        amount[i] = rows[i].amount;
    }
    char sub[400], sorted[512], results[512], summary[512];
    snprintf(sub, sizeof sub, "%s/sorted", dir);
    mkdir(sub, 0755);
    snprintf(sorted, sizeof sorted, "%s/sorted.h5", sub);
    snprintf(results, sizeof results, "%s/results.h5", sub);
    snprintf(summary, sizeof summary, "%s/summary.json", sub);
    hid_t h = H5Fcreate(sorted, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(h, >=, 0);
    assert_int_equal(
        sgs_h5_write_column(h, "/transactions/customer_id", SGS_H5_I64, cid, n, 0, NULL), 0);
    assert_int_equal(sgs_h5_write_column(h, "/transactions/time", SGS_H5_I64, time_s, n, 0, NULL),
                     0);
    assert_int_equal(sgs_h5_write_column(h, "/transactions/amount", SGS_H5_F64, amount, n, 0, NULL),
                     0);
    H5Fclose(h);
    free(rows);
    sgs_test_free_transactions(&tx);

    run_and_check_against_reference(sorted, results);
    char *json = sgs_test_read_file(summary, NULL);
    assert_non_null(json);
    const char *flag = strstr(json, "\"sorted_by_customer\"");
    assert_non_null(flag);
    flag += strlen("\"sorted_by_customer\"");
    flag += strspn(flag, ": \t");
    sgs_assert_cmp(strncmp(flag, "true", 4), ==, 0);
    free(json);
}

/* Run with a bad input over an existing good run: the status and message are the
 * documented ones, and every previous output is byte-for-byte what it was. */
static void expect_failure_keeps_results(const char *input, const char *extra, int status,
                                         const char *message_part)
{
    static const char *const names[] = {"results.h5",        "summary.json", "customers.csv",
                                        "opportunities.csv", "report.txt",   "report.html"};
    char keep[400], args[2048], out[8192];
    snprintf(keep, sizeof keep, "%s/keep", dir);
    mkdir(keep, 0755);
    char first[600];
    snprintf(first, sizeof first, "%s/results.h5", keep);
    struct stat st;
    if (stat(first, &st) != 0) {
        snprintf(args, sizeof args, "run -q -i '%s' -o '%s'", demo, first);
        assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
        snprintf(args, sizeof args, "cp -r '%s' '%s/keep-backup'", keep, dir);
        assert_int_equal(system(args), 0);
    }
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s' %s", input, first, extra);
    int got = sgs_test_run(args, out, sizeof out);
    if (got != status || !strstr(out, message_part))
        fail_msg("input %s: expected status %d with \"%s\", got %d: %s", input, status,
                 message_part, got, out);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char now[700], before[700];
        snprintf(now, sizeof now, "%s/%s", keep, names[i]);
        snprintf(before, sizeof before, "%s/keep-backup/%s", dir, names[i]);
        char why[128];
        if (sgs_test_files_differ(now, before, why, sizeof why))
            fail_msg("%s changed after a failed run on %s (%s)", names[i], input, why);
    }
    /* The outputs and their state folder (docs/publishing.md), and no temporary left. */
    snprintf(args, sizeof args, "test $(ls -A '%s' | wc -l) -eq 7", keep);
    assert_int_equal(system(args), 0);
    sgs_test_assert_no_leftovers(keep);
}

/* A small /transactions file; `variant` breaks it in one documented way. */
static void write_transactions(const char *path, const char *variant)
{
    hid_t h = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(h, >=, 0);
    int64_t ids[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    double float_ids[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int64_t times[8];
    double amounts[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int i = 0; i < 8; i++)
        times[i] = INT64_C(1700000000) + i * 86400;
    size_t n_amount = 8;
    if (strcmp(variant, "nan") == 0)
        amounts[5] = NAN;
    if (strcmp(variant, "inf") == 0)
        amounts[2] = INFINITY;
    if (strcmp(variant, "before-1970") == 0)
        times[3] = -86400;
    if (strcmp(variant, "future") == 0)
        times[6] = (int64_t)time(NULL) + 3 * 86400;
    if (strcmp(variant, "short") == 0)
        n_amount = 7;
    size_t n = strcmp(variant, "empty") == 0 ? 0 : 8;
    if (strcmp(variant, "float-ids") == 0)
        assert_int_equal(
            sgs_h5_write_column(h, "/transactions/customer_id", SGS_H5_F64, float_ids, n, 0, NULL),
            0);
    else
        assert_int_equal(
            sgs_h5_write_column(h, "/transactions/customer_id", SGS_H5_I64, ids, n, 0, NULL), 0);
    assert_int_equal(sgs_h5_write_column(h, "/transactions/time", SGS_H5_I64, times, n, 0, NULL),
                     0);
    const char *amount_name =
        strcmp(variant, "misspelled") == 0 ? "/transactions/amout" : "/transactions/amount";
    assert_int_equal(
        sgs_h5_write_column(h, amount_name, SGS_H5_F64, amounts, n == 0 ? 0 : n_amount, 0, NULL),
        0);
    H5Fclose(h);
}

static void test_bad_inputs_keep_previous_results(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/missing.h5", dir);
    expect_failure_keeps_results(path, "", 66, "missing.h5");

    snprintf(path, sizeof path, "%s/text.h5", dir);
    sgs_test_write_file(path, "customer_id,time,amount\n1,2,3\n");
    expect_failure_keeps_results(path, "", 65, "text.h5");

    static const struct {
        const char *variant, *extra, *message;
    } cases[] = {
        {"nan", "", "/transactions/amount: row 5"},
        {"inf", "", "/transactions/amount: row 2"},
        {"before-1970", "", "/transactions/time: row 3"},
        {"future", "", "/transactions/time: row 6"},
        {"short", "", "/transactions"},
        {"misspelled", "", "/transactions/amount"},
        {"float-ids", "", "/transactions/customer_id"},
        {"empty", "", "/transactions"},
        {"good", "--as-of 2000-01-01", "as-of"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.h5", dir, cases[i].variant);
        write_transactions(path, cases[i].variant);
        expect_failure_keeps_results(path, cases[i].extra, 65, cases[i].message);
    }

    /* A future time is accepted when --as-of says which rows count. */
    char args[2048], out[4096];
    snprintf(path, sizeof path, "%s/future.h5", dir);
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s/future-results.h5' --as-of 2023-11-20 --model none", path, dir);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("future rows with --as-of: %s", out);

    /* unwritable output folder */
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/no/such/folder/r.h5'", demo, dir);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 73);

    /* bad configuration */
    expect_failure_keeps_results(demo, "--set rfm.bins=99", 78, "rfm.bins");
}

/* The file size limit and SIGXFSZ disposition before test_write_failure_keeps_previous_results,
 * restored by its teardown also when an assertion ends it early, with the leak checker's
 * options. */
static struct rlimit saved_fsize;
static char *saved_lsan_options;

static int restore_file_size_limit(void **state)
{
    (void)state;
    setrlimit(RLIMIT_FSIZE, &saved_fsize);
    if (saved_lsan_options)
        setenv("LSAN_OPTIONS", saved_lsan_options, 1);
    else
        unsetenv("LSAN_OPTIONS");
    free(saved_lsan_options);
    saved_lsan_options = NULL;
    return 0;
}

/* Writing fails (a file size limit, as a full disk would): exit 74 naming the output, no
 * crash (HDF5's exit handler is off, engine/main.c), every previous output intact and no
 * temporary left; early, in the middle, and in the last byte of the results file. */
static void test_write_failure_keeps_previous_results(void **state)
{
    (void)state;
    /* Saved first: the teardown restores them even when an assertion below ends the test. */
    getrlimit(RLIMIT_FSIZE, &saved_fsize);
    if (SGS_TEST_TSAN)
        skip(); /* a file size limit kills the sanitizer's runtime (test_support.h) */
    /* A failure without a limit first, so that the previous outputs exist. */
    expect_failure_keeps_results(demo, "--set rfm.bins=99", 78, "rfm.bins");
    char results[600];
    snprintf(results, sizeof results, "%s/keep/results.h5", dir);
    struct stat st;
    assert_int_equal(stat(results, &st), 0);
    const rlim_t size = (rlim_t)st.st_size;
    const rlim_t limits[] = {4096, size / 2, size - 1};
    /* HDF5 1.10.8 does not free what it allocated for writes that failed (io/h5_output.h):
     * under the sanitizer build those blocks, and only blocks allocated inside HDF5, are
     * not reported for these runs. */
    char suppressions[600], lsan[700];
    snprintf(suppressions, sizeof suppressions, "%s/lsan-hdf5.supp", dir);
    sgs_test_write_file(suppressions, "leak:libhdf5\n");
    snprintf(lsan, sizeof lsan, "suppressions=%s", suppressions);
    const char *lsan_before = getenv("LSAN_OPTIONS");
    saved_lsan_options = lsan_before ? strdup(lsan_before) : NULL;
    setenv("LSAN_OPTIONS", lsan, 1);
    /* SIGXFSZ keeps its default action here: segscore ignores it itself (engine/main.c). */
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        struct rlimit lim = saved_fsize;
        lim.rlim_cur = limits[i];
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        expect_failure_keeps_results(demo, "", 74, "keep/");
    }
}

/* A fit stopped by value.max_iter fails the run (65, saying why) and publishes nothing;
 * with value.allow_unconverged the results are published flagged converged = 0, with a
 * warning in the summary. */
static void test_unconverged_fit_fails_unless_allowed(void **state)
{
    (void)state;
    expect_failure_keeps_results(demo, "--set value.max_iter=2", 65, "did not converge");

    char results[600], args[2048], out[8192];
    snprintf(results, sizeof results, "%s/flagged/results.h5", dir);
    snprintf(args, sizeof args, "mkdir -p '%s/flagged'", dir);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s' --model bgnbd --set value.max_iter=2 "
             "--set value.allow_unconverged=true",
             demo, results);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("flagged run failed: %s", out);
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    int64_t converged = 1, iterations = 0;
    assert_int_equal(sgs_h5_attr_read_int64(f, "/models/bgnbd", "converged", &converged, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_int64(f, "/models/bgnbd", "iterations", &iterations, NULL),
                     0);
    H5Fclose(f);
    assert_int_equal(converged, 0);
    sgs_assert_cmp(iterations, <=, 2);
    char summary[700];
    snprintf(summary, sizeof summary, "%s/flagged/summary.json", dir);
    char *text = sgs_test_read_file(summary, NULL);
    assert_non_null(text);
    sgs_assert_contains(text, "did not converge");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_summary_matches_independent_computation),
        cmocka_unit_test(test_results_identical_for_1_2_3_threads),
        cmocka_unit_test(test_sorted_input_skips_the_scatter_and_agrees),
        cmocka_unit_test(test_bad_inputs_keep_previous_results),
        cmocka_unit_test_teardown(test_write_failure_keeps_previous_results,
                                  restore_file_size_limit),
        cmocka_unit_test(test_unconverged_fit_fails_unless_allowed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
