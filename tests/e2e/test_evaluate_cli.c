/*
 * tests/e2e/test_evaluate_cli.c — `segscore generate --customers 20000 --seed 5` then
 * `segscore evaluate` with the calibration end in the middle of the window (2022-12-31 of
 * 2021-07-01 .. 2024-06-30): exit codes, the JSON keys, the HDF5 datasets, the cohort and
 * holdout counts against an independent recomputation from the input's columns, identical
 * bytes for 1 and 2 threads, the holdout-end and models options, and the errors (dates
 * outside the data, bad options, missing files) with the previous outputs left intact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256];
static char input[512];
static const char *const model_names[3] = {"bgnbd", "paretonbd", "mbgnbd"};

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-evaluate", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/gen.h5", dir);
    char args[1024], out[4096];
    snprintf(args, sizeof args, "generate -q --customers 20000 --seed 5 -o '%s'", input);
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

/* Run evaluate with extra arguments; returns the exit status, output in out. */
static int evaluate(const char *extra, char *out, size_t size)
{
    char args[4096];
    snprintf(args, sizeof args, "evaluate -q -i '%s' %s", input, extra);
    return sgs_test_run(args, out, size);
}

static cJSON *load_json(const char *path)
{
    char *text = sgs_test_read_file(path, NULL);
    if (!text)
        fail_msg("%s is missing", path);
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root)
        fail_msg("%s does not parse as JSON", path);
    return root;
}

static cJSON *item(const cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItem(o, key);
    if (!v)
        fail_msg("JSON key \"%s\" missing", key);
    return v;
}

static void *read_col(hid_t f, const char *path, sgs_h5_type_t type, size_t *n)
{
    void *data = NULL;
    sgs_error_t err = {0};
    if (sgs_h5_read_column(f, path, type, &data, n, &err) != 0)
        fail_msg("%s", err.message);
    return data;
}

/* ---- independent recomputation of the cohort from the input columns ---------------------- */

typedef struct row {
    int64_t customer, day;
    double amount;
} row_t;

static int row_cmp(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    if (x->customer != y->customer)
        return x->customer < y->customer ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

/* Customers whose first purchase occasion is on or before cal_end, their repeat occasions up
 * to cal_end and in (cal_end, end]. An occasion is a day with a purchase row (amount >= 0) that
 * is not fully cancelled by refunds of the same day (docs/spend.md). */
static void recompute(int64_t cal_end, int64_t end, long *n_cohort, long *n_later, long *cal_rep,
                      long *hold_rep)
{
    hid_t f = H5Fopen(input, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n, n2, n3;
    int64_t *id = read_col(f, "/transactions/customer_id", SGS_H5_I64, &n);
    int64_t *t = read_col(f, "/transactions/time", SGS_H5_I64, &n2);
    double *amount = read_col(f, "/transactions/amount", SGS_H5_F64, &n3);
    H5Fclose(f);
    sgs_assert_cmp(n, ==, n2);
    sgs_assert_cmp(n, ==, n3);
    row_t *rows = malloc(n * sizeof *rows);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t day = t[i] / 86400;
        if (day > end)
            continue;
        rows[m].customer = id[i];
        rows[m].day = day;
        rows[m++].amount = amount[i];
    }
    qsort(rows, m, sizeof *rows, row_cmp);
    *n_cohort = *n_later = *cal_rep = *hold_rep = 0;
    for (size_t i = 0; i < m;) {
        int64_t customer = rows[i].customer, first = -1;
        long cal = 0, hold = 0;
        while (i < m && rows[i].customer == customer) {
            int64_t day = rows[i].day;
            double bought = 0, refunded = 0;
            int purchase_row = 0;
            for (; i < m && rows[i].customer == customer && rows[i].day == day; i++) {
                purchase_row |= rows[i].amount >= 0;
                if (rows[i].amount >= 0)
                    bought += rows[i].amount;
                else
                    refunded += rows[i].amount;
            }
            if (!purchase_row || (refunded < 0 && bought + refunded <= 1e-9 * bought))
                continue;
            if (first < 0)
                first = day;
            if (day <= cal_end)
                cal++;
            else
                hold++;
        }
        if (first < 0)
            continue;
        if (first <= cal_end) {
            (*n_cohort)++;
            *cal_rep += cal - 1;
            *hold_rep += hold;
        } else {
            (*n_later)++;
        }
    }
    free(rows);
    sgs_free(id);
    sgs_free(t);
    sgs_free(amount);
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_outputs_and_threads(void **state)
{
    (void)state;
    char h5[2][512], json[2][512], args[2048];
    static char out[2][65536];
    for (int k = 0; k < 2; k++) {
        snprintf(h5[k], sizeof h5[k], "%s/eval%d.h5", dir, k + 1);
        snprintf(json[k], sizeof json[k], "%s/eval%d.json", dir, k + 1);
        snprintf(args, sizeof args, "--calibration-end 2022-12-31 --threads %d -o '%s' --json '%s'",
                 k + 1, h5[k], json[k]);
        int status = evaluate(args, out[k], sizeof out[k]);
        if (status != 0)
            fail_msg("evaluate --threads %d: exit %d: %s", k + 1, status, out[k]);
    }
    /* same bytes whatever the thread count: files and the table */
    sgs_assert_files_equal(h5[0], h5[1]);
    sgs_assert_files_equal(json[0], json[1]);
    assert_string_equal(out[0], out[1]);
    sgs_assert_contains(out[0], "lowest AIC");
    sgs_assert_contains(out[0], "<- calibration end");

    long n_cohort, n_later, cal_rep, hold_rep;
    recompute(19357 /* 2022-12-31 */, 19904 /* 2024-06-30 */, &n_cohort, &n_later, &cal_rep,
              &hold_rep);
    sgs_assert_cmp(n_cohort, >, 1000);
    sgs_assert_cmp(n_later, >, 1000);
    sgs_assert_cmp(hold_rep, >, 1000);

    cJSON *root = load_json(json[0]);
    assert_string_equal(item(root, "calibration_end")->valuestring, "2022-12-31");
    assert_string_equal(item(root, "holdout_end")->valuestring, "2024-06-30");
    assert_string_equal(item(root, "time_unit")->valuestring, "day");
    sgs_assert_cmp(item(root, "holdout_length")->valuedouble, ==, 547);
    cJSON *cust = item(root, "customers");
    sgs_assert_cmp(item(cust, "evaluated")->valuedouble, ==, (double)n_cohort);
    sgs_assert_cmp(item(cust, "first_purchase_in_holdout_left_out")->valuedouble, ==,
                   (double)n_later);
    sgs_assert_cmp(item(root, "calibration_repeat_purchases")->valuedouble, ==, (double)cal_rep);
    sgs_assert_cmp(item(root, "holdout_repeat_purchases")->valuedouble, ==, (double)hold_rep);
    cJSON *bf = item(root, "by_frequency");
    assert_int_equal(cJSON_GetArraySize(item(bf, "count")), 8);
    double count_sum = 0;
    for (int b = 0; b < 8; b++)
        count_sum += cJSON_GetArrayItem(item(bf, "count"), b)->valuedouble;
    sgs_assert_cmp(count_sum, ==, (double)n_cohort);
    assert_int_equal(cJSON_GetArraySize(item(item(root, "frequency_distribution"), "actual")), 8);
    cJSON *tracking = item(root, "tracking");
    int n_points = cJSON_GetArraySize(item(tracking, "day"));
    assert_int_equal(n_points, (19904 - 18809 + 1 + 6) / 7); /* weeks from 2021-07-01 */
    assert_int_equal(cJSON_GetArraySize(item(tracking, "actual")), n_points);
    sgs_assert_close(cJSON_GetArrayItem(item(tracking, "actual"), n_points - 1)->valuedouble,
                     (double)(cal_rep + hold_rep), 0, 0);
    cJSON *models = item(root, "models");
    assert_int_equal(cJSON_GetArraySize(models), 3);
    for (int m = 0; m < 3; m++) {
        cJSON *mo = item(models, model_names[m]);
        double ll = item(mo, "log_likelihood")->valuedouble;
        sgs_assert_finite(ll);
        sgs_assert_cmp(ll, <, 0);
        sgs_assert_close(item(mo, "aic")->valuedouble, 2.0 * 4 - 2.0 * ll, 0, 1e-13);
        sgs_assert_cmp(item(mo, "n_params")->valuedouble, ==, 4);
        assert_int_equal(cJSON_GetArraySize(item(mo, "params")), 4);
        assert_int_equal(cJSON_GetArraySize(item(mo, "std_err")), 4);
        sgs_assert_json(cJSON_IsBool, item(mo, "converged"));
        cJSON *h = item(mo, "holdout");
        sgs_assert_cmp(item(h, "actual_total")->valuedouble, ==, (double)hold_rep);
        double pred = item(h, "predicted_total")->valuedouble;
        /* the data follow a BG/NBD story: every model is in the right range */
        sgs_assert_cmp(pred, >, 0.7 * (double)hold_rep);
        sgs_assert_cmp(pred, <, 1.5 * (double)hold_rep);
        sgs_assert_cmp(item(h, "rmse")->valuedouble, >=, item(h, "mae")->valuedouble);
        double r = item(h, "correlation")->valuedouble;
        sgs_assert_cmp(r, >, 0.5);
        sgs_assert_cmp(r, <=, 1);
        assert_int_equal(cJSON_GetArraySize(item(item(mo, "by_frequency"), "predicted")), 8);
        cJSON *fd = item(item(mo, "frequency_distribution"), "predicted");
        assert_int_equal(cJSON_GetArraySize(fd), 8);
        double fd_sum = 0;
        for (int b = 0; b < 8; b++)
            fd_sum += cJSON_GetArrayItem(fd, b)->valuedouble;
        sgs_assert_close(fd_sum, (double)n_cohort, 1e-6, 0);
        assert_int_equal(cJSON_GetArraySize(item(mo, "tracking_expected")), n_points);
    }
    cJSON *best = item(root, "best");
    assert_non_null(cJSON_GetObjectItem(best, "aic"));
    assert_non_null(cJSON_GetObjectItem(best, "holdout_rmse"));
    cJSON_Delete(root);

    /* HDF5: the datasets for plotting */
    hid_t f = H5Fopen(h5[0], H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    static const char *const common[] = {"/tracking/day", "/tracking/actual",
                                         "/frequency_distribution/actual"};
    size_t n;
    for (int k = 0; k < 3; k++) {
        double *v = read_col(f, common[k], SGS_H5_F64, &n);
        assert_int_equal(n, k < 2 ? (size_t)n_points : 8);
        sgs_free(v);
    }
    static const char *const per_model[] = {
        "by_frequency/frequency", "by_frequency/actual",
        "by_frequency/predicted", "by_frequency/count",
        "tracking_expected",      "frequency_distribution/predicted",
        "holdout_expected",       "params"};
    for (int m = 0; m < 3; m++) {
        for (int k = 0; k < 8; k++) {
            char path[128];
            snprintf(path, sizeof path, "/models/%s/%s", model_names[m], per_model[k]);
            double *v = read_col(f, path, SGS_H5_F64, &n);
            size_t expect = k == 4 ? (size_t)n_points : k == 6 ? (size_t)n_cohort : k == 7 ? 4 : 8;
            if (n != expect)
                fail_msg("%s: %zu values, expected %zu", path, n, expect);
            sgs_free(v);
        }
        char group[64];
        snprintf(group, sizeof group, "/models/%s", model_names[m]);
        double aic, bic, rmse;
        sgs_error_t err = {0};
        assert_int_equal(sgs_h5_attr_read_double(f, group, "aic", &aic, &err), 0);
        assert_int_equal(sgs_h5_attr_read_double(f, group, "bic", &bic, &err), 0);
        assert_int_equal(sgs_h5_attr_read_double(f, group, "rmse", &rmse, &err), 0);
        sgs_assert_cmp(bic, >, aic);
        sgs_assert_cmp(rmse, >, 0);
    }
    int32_t *ha = read_col(f, "/customers/holdout_actual", SGS_H5_I32, &n);
    assert_int_equal(n, (size_t)n_cohort);
    long sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ha[i];
    sgs_assert_cmp(sum, ==, hold_rep);
    sgs_free(ha);
    char text[64];
    sgs_error_t err = {0};
    assert_int_equal(sgs_h5_attr_read_string(f, "/", "calibration_end", text, sizeof text, &err),
                     0);
    assert_string_equal(text, "2022-12-31");
    H5Fclose(f);
}

static void test_holdout_end_and_models(void **state)
{
    (void)state;
    char json[512], args[2048], out[65536];
    snprintf(json, sizeof json, "%s/short.json", dir);
    snprintf(args, sizeof args,
             "--calibration-end 2022-12-31 --holdout-end 2023-06-30 --time-unit week "
             "--models bgnbd --penalizer 0.001 --json '%s'",
             json);
    int status = evaluate(args, out, sizeof out);
    if (status != 0)
        fail_msg("exit %d: %s", status, out);
    long n_cohort, n_later, cal_rep, hold_rep;
    recompute(19357, 19538 /* 2023-06-30 */, &n_cohort, &n_later, &cal_rep, &hold_rep);
    cJSON *root = load_json(json);
    assert_string_equal(item(root, "holdout_end")->valuestring, "2023-06-30");
    sgs_assert_cmp(item(root, "holdout_length")->valuedouble, ==, 181.0 / 7.0);
    sgs_assert_cmp(item(item(root, "input"), "rows_after_holdout_end_left_out")->valuedouble, >, 0);
    sgs_assert_cmp(item(root, "holdout_repeat_purchases")->valuedouble, ==, (double)hold_rep);
    sgs_assert_cmp(item(item(root, "customers"), "first_purchase_in_holdout_left_out")->valuedouble,
                   ==, (double)n_later);
    sgs_assert_cmp(item(root, "penalizer")->valuedouble, ==, 0.001);
    cJSON *models = item(root, "models");
    assert_int_equal(cJSON_GetArraySize(models), 1);
    assert_non_null(cJSON_GetObjectItem(models, "bgnbd"));
    cJSON *days = item(item(root, "tracking"), "day");
    assert_string_equal(cJSON_GetArrayItem(days, cJSON_GetArraySize(days) - 1)->valuestring,
                        "2023-06-30");
    cJSON_Delete(root);
}

static void test_errors(void **state)
{
    (void)state;
    char good[512], args[2048], out[8192];
    snprintf(good, sizeof good, "%s/keep.h5", dir);
    snprintf(args, sizeof args, "--calibration-end 2022-12-31 --models mbgnbd -o '%s'", good);
    assert_int_equal(evaluate(args, out, sizeof out), 0);
    size_t before_size = 0;
    char *before = sgs_test_read_file(good, &before_size);
    assert_non_null(before);

    static const struct {
        const char *args;
        int status;
        const char *message;
    } cases[] = {
        {"--calibration-end 2000-01-01", 65, "before the first transaction (2021-07-01)"},
        {"--calibration-end 2030-01-01", 65, "no holdout period is left"},
        {"--calibration-end 2024-06-30", 65, "on or after the last transaction"},
        {"--calibration-end 2030-01-01 --holdout-end 2031-01-01", 65, "no holdout period is left"},
        {"--calibration-end 2022-12-31 --holdout-end 2022-06-30", 64,
         "--holdout-end must be after --calibration-end"},
        {"--calibration-end 2022-13-01", 64,
         "--calibration-end needs a date YYYY-MM-DD, got \"2022-13-01\""},
        {"", 64, "--calibration-end DATE is required"},
        {"--calibration-end 2022-12-31 --models bgnbd,kmeans", 64, "unknown model \"kmeans\""},
        {"--calibration-end 2022-12-31 --models bgnbd,bgnbd", 64, "listed twice"},
        {"--calibration-end 2022-12-31 --time-unit month", 64,
         "--time-unit needs one of day, week, got \"month\""},
        {"--calibration-end 2022-12-31 --penalizer -1", 64,
         "--penalizer needs a number >= 0, got \"-1\""},
        {"--calibration-end 2022-12-31 --threads 5000", 64,
         "--threads needs an integer 0..4096, got \"5000\""},
        {"--calibration-end 2022-12-31 --bogus", 64, "unknown option --bogus"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(args, sizeof args, "%s -o '%s'", cases[k].args, good);
        int status = evaluate(args, out, sizeof out);
        if (status != cases[k].status || !strstr(out, cases[k].message))
            fail_msg("\"%s\": exit %d (expected %d), output: %s", cases[k].args, status,
                     cases[k].status, out);
    }
    /* the earlier output is untouched by every failure */
    size_t after_size = 0;
    char *after = sgs_test_read_file(good, &after_size);
    assert_non_null(after);
    sgs_assert_cmp(after_size, ==, before_size);
    sgs_assert_cmp(memcmp(before, after, before_size), ==, 0);
    free(before);
    free(after);

    /* missing input, and an output folder that does not exist */
    snprintf(args, sizeof args, "evaluate -q -i '%s/nope.h5' --calibration-end 2022-12-31", dir);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 66);
    snprintf(args, sizeof args, "--calibration-end 2022-12-31 --models bgnbd -o '%s/no/x.h5'", dir);
    assert_int_equal(evaluate(args, out, sizeof out), 73);
    struct stat sb;
    sgs_assert_cmp(stat(good, &sb), ==, 0);
    assert_int_equal(sgs_test_run("evaluate --help", out, sizeof out), 0);
    sgs_assert_contains(out, "--calibration-end");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_and_threads),
        cmocka_unit_test(test_holdout_end_and_models),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
