/*
 * tests/e2e/test_run_backtest.c — the backtest inside `segscore run` (docs/backtest.md) on
 * generated data: the holdout rule, the three models scored, value.model=auto taking the best
 * log score, p_buy in [0, 1] and no worse than the model's own probability in sample, the
 * outputs in results.h5, summary.json and the report, the backtest skipped (with the
 * model's own probability and a warning) when the history is too short, and its sample of a
 * large cohort (value.backtest_sample), the same for any thread count and documented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/config.h"
#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256], input[512];

static int setup(void **state)
{
    (void)state;
    char args[1024], out[4096];
    sgs_test_tmpdir("run-backtest", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/in.h5", dir);
    snprintf(args, sizeof args, "generate -q --customers 8000 --no-events --seed 17 -o '%s'",
             input);
    return sgs_test_run(args, out, sizeof out) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

static cJSON *run_summary(const char *name, const char *extra)
{
    char args[2048], out[16384], path[700];
    snprintf(args, sizeof args, "mkdir -p '%s/%s'", dir, name);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/%s/results.h5' %s", input, dir, name, extra);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("run %s failed: %s", extra, out);
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, name);
    char *text = sgs_test_read_file(path, NULL);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    return root;
}

static const cJSON *at(const cJSON *o, const char *a, const char *b, const char *c)
{
    o = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        o = cJSON_GetObjectItemCaseSensitive(o, b);
    if (c)
        o = cJSON_GetObjectItemCaseSensitive(o, c);
    if (!o)
        fail_msg("summary.json: %s.%s.%s missing", a, b ? b : "", c ? c : "");
    return o;
}

/* value.model = auto: the best log score of the calibrated probability on customers its map
 * did not see (every model has one on this base) */
static void test_auto_takes_the_best_calibrated_log_score(void **state)
{
    (void)state;
    cJSON *root = run_summary("auto", "--set value.model=auto");
    const cJSON *value = at(root, "value", NULL, NULL);
    const cJSON *bt = at(value, "backtest", NULL, NULL);
    sgs_assert_json(cJSON_IsTrue, at(bt, "ran", NULL, NULL));
    /* the default holdout is the horizon (365 days) when it is at most half the span (3 years) */
    sgs_assert_cmp(at(bt, "holdout", NULL, NULL)->valuedouble, ==, 365);
    assert_string_equal(at(bt, "calibration_end", NULL, NULL)->valuestring, "2023-07-01");
    const char *names[] = {"bgnbd", "mbgnbd", "paretonbd"};
    const char *best = NULL;
    double best_score = -INFINITY;
    for (int j = 0; j < 3; j++) {
        const cJSON *m = at(bt, "models", names[j], NULL);
        sgs_assert_json(cJSON_IsTrue, at(m, "fitted", NULL, NULL));
        sgs_assert_cmp(at(m, "log_score", NULL, NULL)->valuedouble, <, 0);
        double s = at(m, "calibrated", "log_score", NULL)->valuedouble;
        sgs_assert_cmp(s, <, 0);
        sgs_assert_finite(s);
        if (s > best_score) {
            best_score = s;
            best = names[j];
        }
    }
    assert_string_equal(at(bt, "chosen_by", NULL, NULL)->valuestring, "calibrated_log_score");
    assert_string_equal(at(bt, "chosen_model", NULL, NULL)->valuestring, best);
    /* the chosen model's p_buy within 0.05 of the share who bought in every decile, on
       customers its map did not see (533 per decile here) */
    sgs_assert_cmp(
        cJSON_GetObjectItem(at(bt, "models", best, "calibrated"), "max_gap")->valuedouble, <, 0.05);
    assert_string_equal(at(value, "model", NULL, NULL)->valuestring, best);
    assert_string_equal(at(bt, "used_model", NULL, NULL)->valuestring, best);
    sgs_assert_json(cJSON_IsTrue, at(value, "p_buy_calibrated", NULL, NULL));
    /* in sample, the isotonic calibration cannot make the Brier score worse */
    sgs_assert_cmp(at(bt, "reliability_calibrated", "brier", NULL)->valuedouble, <=,
                   at(bt, "reliability", "brier", NULL)->valuedouble + 1e-12);
    /* the stages checked on the holdout: every customer of the cohort staged once, and the
     * shares are the counts' */
    double staged = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, at(bt, "stages", NULL, NULL))
    {
        double customers = at(s, "customers", NULL, NULL)->valuedouble;
        double bought = at(s, "bought_again", NULL, NULL)->valuedouble;
        sgs_assert_cmp(customers, >, 0);
        sgs_assert_cmp(bought, >=, 0);
        sgs_assert_cmp(bought, <=, customers);
        sgs_assert_close(at(s, "share", NULL, NULL)->valuedouble, bought / customers, 1e-15, 0);
        staged += customers;
    }
    sgs_assert_cmp(staged, ==, at(bt, "customers", NULL, NULL)->valuedouble);
    cJSON_Delete(root);

    char path[700];
    snprintf(path, sizeof path, "%s/auto/results.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    double *p_buy = NULL, *knots = NULL;
    size_t n, nk;
    p_buy = sgs_test_column(f, "/clv/p_buy", SGS_H5_F64, &n);
    knots = sgs_test_column(f, "/backtest/calibration/value", SGS_H5_F64, &nk);
    H5Fclose(f);
    for (size_t i = 0; i < n; i++)
        if (!(p_buy[i] >= 0 && p_buy[i] <= 1))
            fail_msg("/clv/p_buy[%zu] = %.17g, not in [0, 1]", i, p_buy[i]);
    for (size_t k = 1; k < nk; k++)
        sgs_assert_cmp(knots[k], >=, knots[k - 1]); /* monotone */
    sgs_free(p_buy);
    sgs_free(knots);
    snprintf(path, sizeof path, "%s/auto/report.txt", dir);
    char *text = sgs_test_read_file(path, NULL);
    sgs_assert_contains(text, "Do the stages mean what they say?");
    sgs_assert_contains(text, "Backtest: the models fitted on the history up to 2023-07-01");
    sgs_assert_contains(text, "<- chosen");
    sgs_assert_contains(text, "runner-up");
    free(text);
}

static void test_short_history_and_switched_off(void **state)
{
    (void)state;
    /* a holdout as long as the history: skipped, and p_buy is the model's own, with a warning */
    cJSON *root = run_summary("long-holdout", "--set value.backtest_holdout=5000");
    sgs_assert_json(cJSON_IsFalse, at(root, "value", "backtest", "ran"));
    sgs_assert_json(cJSON_IsFalse, at(root, "value", "p_buy_calibrated", NULL));
    int found = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, at(root, "warnings", NULL, NULL))
    {
        found |= strcmp(at(w, "code", NULL, NULL)->valuestring, "p_buy_uncalibrated") == 0;
    }
    if (!found)
        sgs_fail_json("no warning p_buy_uncalibrated", at(root, "warnings", NULL, NULL));
    cJSON_Delete(root);
    /* a horizon longer than half the span (2021-07-01..2024-06-30): half of the span */
    root = run_summary("long-horizon", "--set value.horizon=600");
    double holdout = at(root, "value", "backtest", "holdout")->valuedouble;
    if (!(holdout >= 543 && holdout <= 549))
        fail_msg("holdout %g days, expected half of about 1,095", holdout);
    cJSON_Delete(root);
    root = run_summary("off", "--set value.backtest=false --set value.model=auto");
    assert_string_equal(at(root, "value", "backtest", "skipped")->valuestring,
                        "value.backtest is off");
    assert_string_equal(at(root, "value", "model", NULL)->valuestring, "bgnbd");
    cJSON_Delete(root);
}

static int64_t attr_int64(hid_t f, const char *name)
{
    int64_t v = -1;
    hid_t a = H5Aopen_by_name(f, "/backtest", name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_INT64, &v) < 0)
        fail_msg("/backtest attribute %s unreadable", name);
    H5Aclose(a);
    return v;
}

/* value.backtest_sample: a cohort larger than the sample is sampled (summary.json, results.h5
 * and the report say so), the sampled backtest is the same bits for 1, 2 and 3 threads (the
 * same customers chosen: kernels/sample.h), and a cohort within the sample is taken whole. */
static void test_sample_is_the_same_for_any_thread_count(void **state)
{
    (void)state;
    setenv("SGS_THREAD_GRAIN", "1", 1); /* every loop on every thread, however small */
    char name[3][32], path[3][700];
    cJSON *root[3];
    for (int t = 1; t <= 3; t++) {
        char extra[128];
        snprintf(name[t - 1], sizeof name[t - 1], "sample-t%d", t);
        snprintf(extra, sizeof extra, "--threads %d --set value.backtest_sample=1000", t);
        root[t - 1] = run_summary(name[t - 1], extra);
        snprintf(path[t - 1], sizeof path[t - 1], "%s/%s/results.h5", dir, name[t - 1]);
    }
    unsetenv("SGS_THREAD_GRAIN");
    sgs_assert_files_equal(path[0], path[1]);
    sgs_assert_files_equal(path[0], path[2]);

    const cJSON *bt = at(root[0], "value", "backtest", NULL);
    sgs_assert_cmp(at(root[0], "config", "value", "backtest_sample")->valuedouble, ==, 1000);
    sgs_assert_cmp(at(bt, "customers", NULL, NULL)->valuedouble, ==, 1000);
    sgs_assert_json(cJSON_IsTrue, at(bt, "sampled", NULL, NULL));
    sgs_assert_cmp(at(bt, "seconds", NULL, NULL)->valuedouble, >=, 0);
    double cohort = at(bt, "cohort", NULL, NULL)->valuedouble;
    double weight = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, at(bt, "reliability", "customers", NULL))
    {
        weight += w->valuedouble;
    }
    sgs_assert_close(weight, 1000, 1e-9, 0); /* the scores are on the sample */
    sgs_assert_cmp(at(bt, "bought_again", NULL, NULL)->valuedouble, <=, 1000);

    /* the default sample is larger than this cohort: all of it, the same cohort */
    cJSON *whole = run_summary("sample-whole", "");
    const cJSON *wbt = at(whole, "value", "backtest", NULL);
    sgs_assert_cmp(at(wbt, "cohort", NULL, NULL)->valuedouble, ==, cohort);
    sgs_assert_cmp(at(wbt, "customers", NULL, NULL)->valuedouble, ==, cohort);
    sgs_assert_cmp(cohort, >, 2000);
    sgs_assert_json(cJSON_IsFalse, at(wbt, "sampled", NULL, NULL));
    sgs_assert_cmp(at(wbt, "models", "bgnbd", "log_score")->valuedouble, !=,
                   at(bt, "models", "bgnbd", "log_score")->valuedouble);
    cJSON_Delete(whole);

    hid_t f = H5Fopen(path[0], H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    assert_int_equal(attr_int64(f, "n_customers"), 1000);
    sgs_assert_cmp((double)attr_int64(f, "n_cohort"), ==, cohort);
    H5Fclose(f);

    char report[700];
    snprintf(report, sizeof report, "%s/%s/report.txt", dir, name[0]);
    char *text = sgs_test_read_file(report, NULL);
    assert_non_null(text);
    sgs_assert_contains(text, "(1000 customers,");
    sgs_assert_contains(text, "value.backtest_sample");
    free(text);
    for (int t = 0; t < 3; t++)
        cJSON_Delete(root[t]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_takes_the_best_calibrated_log_score),
        cmocka_unit_test(test_short_history_and_switched_off),
        cmocka_unit_test(test_sample_is_the_same_for_any_thread_count),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
