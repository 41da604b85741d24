/*
 * tests/e2e/test_run_compare_summary.c — `segscore run --compare-summary` (docs/report.md,
 * "Since the previous run"): a run as of 2024-06-30 compared with the same input's run as of
 * 2024-03-31 carries the earlier figures beside its own in summary.json (since_previous) and
 * in report.html (the table at a glance; RFM segments, stages and kinds as paired bars whose
 * marks equal both summaries' counts); a summary from an older segscore with fewer members
 * reads, its missing figures NaN; a missing file exits 66, a file that is not JSON or not a
 * run summary 65, each naming the key and the file, before any work and with the earlier
 * outputs left as they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256], input[512];

static int run_into(const char *sub, const char *extra, char *msg, size_t size)
{
    char cmd[1024], args[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", dir, sub);
    assert_int_equal(system(cmd), 0);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/%s/results.h5' %s", input, dir, sub, extra);
    return sgs_test_run(args, msg, size);
}

static cJSON *summary_of(const char *sub)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, sub);
    cJSON *j = sgs_test_read_json(path);
    assert_non_null(j);
    return j;
}

static char *report_of(const char *sub)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s/report.html", dir, sub);
    char *text = sgs_test_read_file(path, NULL);
    assert_non_null(text);
    return text;
}

/* The data-value of the mark labelled `label` in series `series` of chart `chart`, as a
 * number; fails when there is none. */
static double mark(const char *html, const char *chart, const char *label, const char *series)
{
    char key[256];
    snprintf(key, sizeof key, "<figure class=\"chart\" id=\"chart-%s\">", chart);
    const char *fig = strstr(html, key), *end = fig ? strstr(fig, "</figure>") : NULL;
    if (!fig || !end)
        fail_msg("no chart %s", chart);
    snprintf(key, sizeof key, "data-label=\"%s\" data-value=\"", label);
    for (const char *p = strstr(fig, key); p && p < end; p = strstr(p + 1, key)) {
        const char *value = p + strlen(key);
        const char *s = strstr(value, "data-series=\"");
        if (s && strncmp(s + strlen("data-series=\""), series, strlen(series)) == 0 &&
            s[strlen("data-series=\"") + strlen(series)] == '"')
            return strtod(value, NULL);
    }
    fail_msg("chart %s: no mark %s in series %s", chart, label, series);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("e2e-compare-summary", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/in.h5", dir);
    char args[1024], out[8192];
    snprintf(args, sizeof args, "generate -q --customers 2000 --seed 5 -o '%s'", input);
    if (sgs_test_run(args, out, sizeof out) != 0 ||
        run_into("prev", "--as-of 2024-03-31", out, sizeof out) != 0) {
        print_error("setup failed: %s\n", out);
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

static void test_figures_then_and_now(void **state)
{
    (void)state;
    char out[8192], extra[700];
    snprintf(extra, sizeof extra, "--as-of 2024-06-30 --compare-summary '%s/prev/summary.json'",
             dir);
    if (run_into("now", extra, out, sizeof out) != 0)
        fail_msg("run failed: %s", out);
    cJSON *then = summary_of("prev"), *now = summary_of("now");
    const cJSON *since = cJSON_GetObjectItem(now, "since_previous");
    assert_non_null(since);
    assert_string_equal(cJSON_GetObjectItem(since, "as_of")->valuestring, "2024-03-31");
    double then_customers =
        cJSON_GetObjectItem(cJSON_GetObjectItem(then, "customers"), "with_purchases")->valuedouble;
    double now_customers =
        cJSON_GetObjectItem(cJSON_GetObjectItem(now, "customers"), "with_purchases")->valuedouble;
    sgs_assert_cmp(then_customers, <, now_customers); /* a later date: more buyers */
    const cJSON *pair = cJSON_GetObjectItem(since, "customers");
    sgs_assert_close(cJSON_GetObjectItem(pair, "previous")->valuedouble, then_customers, 0, 0);
    sgs_assert_close(cJSON_GetObjectItem(pair, "now")->valuedouble, now_customers, 0, 0);
    pair = cJSON_GetObjectItem(since, "clv");
    sgs_assert_close(
        cJSON_GetObjectItem(pair, "previous")->valuedouble,
        cJSON_GetObjectItem(cJSON_GetObjectItem(then, "value"), "clv_total")->valuedouble, 0,
        1e-15);

    char *html = report_of("now");
    sgs_assert_contains(html, "<h3>Since the previous run</h3>");
    /* RFM segments: both runs' counts, per segment */
    const cJSON *seg;
    size_t checked = 0;
    cJSON_ArrayForEach(seg, cJSON_GetObjectItem(cJSON_GetObjectItem(now, "rfm"), "segments"))
    {
        const char *name = cJSON_GetObjectItem(seg, "name")->valuestring;
        double n_now = cJSON_GetObjectItem(seg, "customers")->valuedouble;
        const cJSON *old;
        double n_then = 0;
        cJSON_ArrayForEach(old, cJSON_GetObjectItem(cJSON_GetObjectItem(then, "rfm"), "segments"))
        {
            if (strcmp(cJSON_GetObjectItem(old, "name")->valuestring, name) == 0)
                n_then = cJSON_GetObjectItem(old, "customers")->valuedouble;
        }
        if (n_now == 0 && n_then == 0)
            continue;
        sgs_assert_close(mark(html, "rfm-since-previous", name, "previous run (2024-03-31)"),
                         n_then, 0, 0);
        sgs_assert_close(mark(html, "rfm-since-previous", name, "this run"), n_now, 0, 0);
        checked++;
    }
    sgs_assert_cmp(checked, >=, 5);
    /* stages */
    const cJSON *stage;
    checked = 0;
    cJSON_ArrayForEach(stage, cJSON_GetObjectItem(cJSON_GetObjectItem(now, "stages"), "per_stage"))
    {
        double n_then = cJSON_GetObjectItem(
                            cJSON_GetObjectItem(cJSON_GetObjectItem(then, "stages"), "per_stage"),
                            stage->string)
                            ->valuedouble;
        if (stage->valuedouble == 0 && n_then == 0)
            continue;
        sgs_assert_close(
            mark(html, "stages-since-previous", stage->string, "previous run (2024-03-31)"), n_then,
            0, 0);
        sgs_assert_close(mark(html, "stages-since-previous", stage->string, "this run"),
                         stage->valuedouble, 0, 0);
        checked++;
    }
    sgs_assert_cmp(checked, >=, 3);
    sgs_assert_contains(html, "id=\"chart-opportunities-since-previous\"");
    free(html);
    cJSON_Delete(then);
    cJSON_Delete(now);
}

/* A summary with only the required members (an older segscore, or another tool's): read, the
 * figures it lacks NaN in the charts and null in summary.json. */
static void test_a_summary_with_fewer_members(void **state)
{
    (void)state;
    char path[600], extra[700], out[8192];
    snprintf(path, sizeof path, "%s/old.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"as_of\": \"2024-01-31\", \"engine_version\": \"0.0.9\", \"customers\": "
          "{\"with_purchases\": 1500, \"revenue_total\": 123456.5}, \"rfm\": {\"segments\": "
          "[{\"name\": \"Champions\", \"customers\": 77}, {\"name\": \"Gone fishing\", "
          "\"customers\": 5}]}}\n",
          f);
    assert_int_equal(fclose(f), 0);
    snprintf(extra, sizeof extra, "--as-of 2024-06-30 --compare-summary '%s'", path);
    if (run_into("older", extra, out, sizeof out) != 0)
        fail_msg("run failed: %s", out);
    cJSON *now = summary_of("older");
    const cJSON *since = cJSON_GetObjectItem(now, "since_previous");
    assert_non_null(since);
    sgs_assert_close(
        cJSON_GetObjectItem(cJSON_GetObjectItem(since, "revenue"), "previous")->valuedouble,
        123456.5, 0, 0);
    sgs_assert_json(cJSON_IsNull,
                    cJSON_GetObjectItem(cJSON_GetObjectItem(since, "clv"), "previous"));
    char *html = report_of("older");
    sgs_assert_close(mark(html, "rfm-since-previous", "Champions", "previous run (2024-01-31)"), 77,
                     0, 0);
    sgs_assert_contains(html, "data-label=\"Loyal\" data-value=\"NaN\"");
    sgs_assert_not_contains(html, "Gone fishing");
    sgs_assert_contains(html, "old.json, segscore 0.0.9).");
    free(html);
    cJSON_Delete(now);
}

/* Refusals before any work: the earlier outputs stay as they were. */
static void test_refusals_leave_the_outputs(void **state)
{
    (void)state;
    char folder[600], extra[900], out[8192], path[600];
    snprintf(folder, sizeof folder, "%s/prev", dir);
    sgs_test_snapshot_t before;
    sgs_test_snapshot(folder, &before);

    snprintf(extra, sizeof extra, "--as-of 2024-03-31 --compare-summary '%s/missing.json'", dir);
    assert_int_equal(run_into("prev", extra, out, sizeof out), 66);
    sgs_assert_contains(out, "output.compare_summary");
    sgs_assert_contains(out, "missing.json");

    const struct {
        const char *text, *says;
    } bad[] = {
        {"{\"as_of\": \"2024-01-31\",\n \"customers\": {\"with_purchases\": 3,}}", "line 2"},
        {"{\"as_of\": \"2024-01-31\"}", "\"customers.with_purchases\" is missing"},
        {"{\"as_of\": \"31/01/2024\", \"customers\": {\"with_purchases\": 3, "
         "\"revenue_total\": 1}}",
         "\"as_of\" is missing or not a date"},
        {"[1, 2, 3]", "not a segscore run summary"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s/bad%zu.json", dir, i);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i].text, f);
        assert_int_equal(fclose(f), 0);
        snprintf(extra, sizeof extra, "--as-of 2024-03-31 --compare-summary '%s'", path);
        int status = run_into("prev", extra, out, sizeof out);
        if (status != 65 || !strstr(out, bad[i].says) || !strstr(out, path))
            fail_msg("case %zu: expected 65 saying \"%s\" and the file, got %d: %s", i, bad[i].says,
                     status, out);
    }
    sgs_test_assert_snapshot_unchanged(folder, &before);
    sgs_test_snapshot_free(&before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures_then_and_now),
        cmocka_unit_test(test_a_summary_with_fewer_members),
        cmocka_unit_test(test_refusals_leave_the_outputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
