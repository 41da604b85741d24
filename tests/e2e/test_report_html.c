/*
 * tests/e2e/test_report_html.c — report.html from `segscore run` on 3,000 generated customers
 * with --compare-as-of (docs/report.md): one self-contained file (nothing fetched), every
 * chart of the run present under the chart contract with its table, the RFM segment and stage
 * marks equal to summary.json's counts, under 2 MB, the same bytes for 1 and 3 threads; the
 * off switch (output.report_html=none) and another path; and a failed run leaving the earlier
 * report.html as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/html_doc.h"
#include "tests/support/report_charts.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256];
static char demo[512];

#define DATES "--as-of 2024-06-30 --compare-as-of 2024-03-31"
#define MAX_HTML_BYTES (2u * 1024 * 1024)

/* Every chart this run has the data for (docs/report.md, "Charts"). */
static const char *const *const charts = sgs_test_report_charts;
#define N_CHARTS SGS_TEST_REPORT_CHART_COUNT

/* segscore run -q -i demo -o <dir>/<sub>/results.h5 DATES <extra>; the exit status. */
static int run_into(const char *sub, const char *extra, char *msg, size_t msg_size)
{
    char cmd[1024], args[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", dir, sub);
    assert_int_equal(system(cmd), 0);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/%s/results.h5' " DATES " %s", demo, dir, sub,
             extra);
    return sgs_test_run(args, msg, msg_size);
}

static char *read_output(const char *sub, const char *name, size_t *size)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    char *text = sgs_test_read_file(path, size);
    if (!text)
        fail_msg("%s was not written", path);
    return text;
}

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("e2e-report-html", dir, sizeof dir);
    snprintf(demo, sizeof demo, "%s/demo.h5", dir);
    char args[1024], out[8192];
    snprintf(args, sizeof args, "generate --customers 3000 --seed 11 -o '%s'", demo);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        print_error("generate failed: %s\n", out);
        return -1;
    }
    setenv("SGS_THREAD_GRAIN", "1", 1); /* every loop on every thread, however small */
    if (run_into("t1", "--threads 1", out, sizeof out) != 0 ||
        run_into("t3", "--threads 3", out, sizeof out) != 0) {
        print_error("run failed: %s\n", out);
        return -1;
    }
    unsetenv("SGS_THREAD_GRAIN");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

/* The text of <figure ... id="chart-NAME"> up to its </figure> (owned), or NULL. */
static char *figure_of(const char *html, const char *name)
{
    char open[128];
    snprintf(open, sizeof open, "<figure class=\"chart\" id=\"chart-%s\">", name);
    const char *a = strstr(html, open);
    if (!a)
        return NULL;
    const char *b = strstr(a, "</figure>");
    assert_non_null(b);
    size_t len = (size_t)(b - a) + strlen("</figure>");
    char *out = malloc(len + 1);
    assert_non_null(out);
    memcpy(out, a, len);
    out[len] = '\0';
    return out;
}

static size_t count(const char *text, const char *part)
{
    size_t n = 0;
    for (const char *p = strstr(text, part); p; p = strstr(p + 1, part))
        n++;
    return n;
}

/* The data-value of the mark with data-label `label` in fig, into buf; NULL when none. */
static const char *mark_value(const char *fig, const char *label, char *buf, size_t size)
{
    char esc[256], key[300];
    snprintf(key, sizeof key, "data-label=\"%s\" data-value=\"",
             sgs_html_escape(label, esc, sizeof esc));
    const char *p = strstr(fig, key);
    if (!p)
        return NULL;
    p += strlen(key);
    size_t len = strcspn(p, "\"");
    sgs_assert_cmp(len, <, size);
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}

static cJSON *summary_of(const char *sub)
{
    char *text = read_output(sub, "summary.json", NULL);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

/* ---- tests ------------------------------------------------------------------------------ */

/* Nothing fetched: no URL, no <link>, no @import, no src= except data: URIs, no script. */
static void test_self_contained_and_small(void **state)
{
    (void)state;
    size_t size;
    char *html = read_output("t1", "report.html", &size);
    sgs_assert_cmp(size, <, MAX_HTML_BYTES);
    sgs_assert_cmp(size, >, 10000);
    if (strncmp(html, "<!DOCTYPE html>", 15) != 0)
        fail_msg("expected <!DOCTYPE html> first, got: %.200s", html);
    sgs_assert_not_contains(html, "http:");
    sgs_assert_not_contains(html, "https:");
    sgs_assert_not_contains(html, "<link");
    sgs_assert_not_contains(html, "@import");
    sgs_assert_not_contains(html, "url(");
    sgs_assert_not_contains(html, "<script");
    for (const char *p = strstr(html, "src="); p; p = strstr(p + 1, "src="))
        if (strncmp(p, "src=\"data:", 10) != 0)
            fail_msg("a src= that is not a data: URI: %.60s", p);
    sgs_assert_contains(html, "@media print");
    sgs_assert_contains(html, "</html>\n");
    printf("report.html: %zu bytes for 3,000 customers\n", size);
    free(html);
}

/* Every chart of the run, each a figure with one svg (role img, labelled), a caption, marks
 * with data-label and data-value, and its numbers in a chart-data table. */
static void test_every_chart_under_the_contract(void **state)
{
    (void)state;
    char *html = read_output("t1", "report.html", NULL);
    for (size_t i = 0; i < N_CHARTS; i++) {
        char *fig = figure_of(html, charts[i]);
        if (!fig)
            fail_msg("chart-%s is missing", charts[i]);
        char want[256];
        snprintf(want, sizeof want,
                 "<svg role=\"img\" aria-labelledby=\"chart-%s-title chart-%s-desc\"", charts[i],
                 charts[i]);
        sgs_assert_contains(fig, want);
        assert_int_equal(count(fig, "<svg"), 1);
        assert_int_equal(count(fig, "<figcaption>"), 1);
        assert_int_equal(count(fig, "<table class=\"chart-data\">"), 1);
        sgs_assert_cmp(count(fig, "class=\"mark\""), >, 0);
        assert_int_equal(count(fig, "class=\"mark\""), count(fig, "data-value=\""));
        assert_int_equal(count(fig, "class=\"mark\""), count(fig, "data-label=\""));
        free(fig);
    }
    /* and one profile per k-means segment */
    cJSON *sum = summary_of("t1");
    int k = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "segments"), "k")->valueint;
    cJSON_Delete(sum);
    sgs_assert_cmp(k, >=, 2);
    for (int j = 0; j < k; j++) {
        char name[32];
        snprintf(name, sizeof name, "segment-profile-%d", j);
        char *fig = figure_of(html, name);
        if (!fig)
            fail_msg("chart-%s is missing", name);
        free(fig);
    }
    assert_int_equal(count(html, "<figure class=\"chart\""), N_CHARTS + (size_t)k);
    free(html);
}

/* The frequency-recency maps: a grid of rows x 11 cells, P(alive) in [0, 1], rising to the
 * right in the last row (recent buyers more likely alive); the capacity chart: phone's 500 a
 * day, used in full or in part; a segment profile: one bar per clustered feature. */
static void test_model_maps_capacity_and_profiles(void **state)
{
    (void)state;
    char *html = read_output("t1", "report.html", NULL);
    char *fig = figure_of(html, "frequency-recency-p-alive");
    assert_non_null(fig);
    size_t cells = count(fig, "class=\"mark\"");
    sgs_assert_cmp(cells % 11, ==, 0);
    sgs_assert_cmp(cells / 11, >=, 2);
    char got[64], label[64];
    const char *v = mark_value(fig, "x=0 t_x=0", got, sizeof got);
    assert_non_null(v);
    /* no repeat purchase: BG/NBD says alive; the models that let a customer drop out before
       the first repeat purchase say less */
    cJSON *run = summary_of("t1");
    const char *model =
        cJSON_GetObjectItem(cJSON_GetObjectItem(run, "value"), "model")->valuestring;
    if (strcmp(model, "bgnbd") == 0)
        sgs_assert_close(strtod(v, NULL), 1.0, 0, 0);
    else
        sgs_assert_cmp(strtod(v, NULL), <, 1.0);
    cJSON_Delete(run);
    /* the last row: the highest x, from t_x = 0 to the oldest age */
    double first = NAN, last = NAN;
    const char *p = fig;
    size_t seen = 0;
    while ((p = strstr(p, "class=\"mark\" data-label=\"")) != NULL) {
        seen++;
        p += strlen("class=\"mark\" data-label=\"");
        if (seen == cells - 10 || seen == cells) {
            const char *val = strstr(p, "data-value=\"") + strlen("data-value=\"");
            (seen == cells ? &last : &first)[0] = strtod(val, NULL);
        }
    }
    sgs_assert_cmp(first, <, last);
    sgs_assert_cmp(last, <=, 1.0);
    free(fig);
    fig = figure_of(html, "capacity");
    assert_non_null(fig);
    assert_int_equal(count(fig, "class=\"mark\""), 1);
    v = mark_value(fig, "phone", got, sizeof got);
    assert_non_null(v);
    sgs_assert_cmp(strtod(v, NULL), >, 0.0);
    sgs_assert_cmp(strtod(v, NULL), <=, 100.0);
    sgs_assert_contains(fig, "<td>500</td>");
    free(fig);
    fig = figure_of(html, "segment-profile-0");
    assert_non_null(fig);
    cJSON *sum = summary_of("t1");
    const cJSON *features = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "segments"), "features");
    assert_int_equal(count(fig, "class=\"mark\""), (size_t)cJSON_GetArraySize(features));
    const cJSON *f;
    cJSON_ArrayForEach(f, features)
    {
        snprintf(label, sizeof label, "%s", f->valuestring);
        if (!mark_value(fig, label, got, sizeof got))
            fail_msg("segment-profile-0: no bar for %s", label);
    }
    cJSON_Delete(sum);
    free(fig);
    free(html);
}

/* rfm-segments: one mark per RFM segment with customers, valued as summary.json counts them;
 * rfm-grid: one cell per score pair, adding up to the customers. */
static void test_rfm_marks_equal_the_summary(void **state)
{
    (void)state;
    char *html = read_output("t1", "report.html", NULL);
    char *fig = figure_of(html, "rfm-segments");
    assert_non_null(fig);
    cJSON *sum = summary_of("t1");
    const cJSON *segs = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "rfm"), "segments");
    assert_non_null(segs);
    size_t with_customers = 0;
    const cJSON *seg;
    cJSON_ArrayForEach(seg, segs)
    {
        const char *name = cJSON_GetObjectItem(seg, "name")->valuestring;
        double customers = cJSON_GetObjectItem(seg, "customers")->valuedouble;
        char got[64], want[64];
        const char *value = mark_value(fig, name, got, sizeof got);
        if (customers == 0) {
            assert_null(value);
            continue;
        }
        with_customers++;
        if (!value)
            fail_msg("rfm-segments: no mark for %s (%g customers)", name, customers);
        snprintf(want, sizeof want, "%.0f", customers);
        if (strcmp(got, want) != 0)
            fail_msg("rfm-segments: %s is %s, summary.json says %s", name, got, want);
    }
    sgs_assert_cmp(with_customers, >=, 5);
    assert_int_equal(count(fig, "class=\"mark\""), with_customers);
    free(fig);
    /* the grid: bins x bins cells, adding up to the customers with purchases */
    fig = figure_of(html, "rfm-grid");
    assert_non_null(fig);
    int bins = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "rfm"), "bins")->valueint;
    assert_int_equal(count(fig, "class=\"mark\""), (size_t)(bins * bins));
    double total = 0;
    for (int r = 1; r <= bins; r++)
        for (int f = 1; f <= bins; f++) {
            char label[32], got[64];
            snprintf(label, sizeof label, "r%d f%d", r, f);
            const char *v = mark_value(fig, label, got, sizeof got);
            if (!v)
                fail_msg("rfm-grid: no cell %s", label);
            total += strtod(v, NULL);
        }
    double buyers =
        cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "customers"), "with_purchases")->valuedouble;
    sgs_assert_cmp(total, ==, buyers);
    cJSON_Delete(sum);
    free(fig);
    free(html);
}

/* stages: one mark per stage with customers, valued as summary.json's stages.per_stage. */
static void test_stage_marks_equal_the_summary(void **state)
{
    (void)state;
    char *html = read_output("t1", "report.html", NULL);
    char *fig = figure_of(html, "stages");
    assert_non_null(fig);
    cJSON *sum = summary_of("t1");
    const cJSON *per = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "stages"), "per_stage");
    assert_non_null(per);
    size_t n = 0;
    const cJSON *st;
    cJSON_ArrayForEach(st, per)
    {
        char got[64], want[64];
        const char *value = mark_value(fig, st->string, got, sizeof got);
        if (st->valuedouble == 0) {
            assert_null(value);
            continue;
        }
        n++;
        if (!value)
            fail_msg("stages: no mark for %s", st->string);
        snprintf(want, sizeof want, "%.0f", st->valuedouble);
        if (strcmp(got, want) != 0)
            fail_msg("stages: %s is %s, summary.json says %s", st->string, got, want);
    }
    sgs_assert_cmp(n, >=, 4);
    assert_int_equal(count(fig, "class=\"mark\""), n);
    free(fig);
    /* transitions: a square grid, adding up to the customers known at either date */
    fig = figure_of(html, "transitions");
    assert_non_null(fig);
    size_t marks = count(fig, "class=\"mark\"");
    size_t side = 1;
    while (side * side < marks)
        side++;
    assert_int_equal(side * side, marks);
    cJSON_Delete(sum);
    free(fig);
    free(html);
}

/* backtest-tracking: one actual and one expected point per summary.json tracking point, the
 * actual ones valued as there; the last equals the holdout purchases of the by-frequency
 * table (customers x mean), counted another way. */
static void test_backtest_marks_equal_the_summary(void **state)
{
    (void)state;
    char *html = read_output("t1", "report.html", NULL);
    char *fig = figure_of(html, "backtest-tracking");
    assert_non_null(fig);
    cJSON *sum = summary_of("t1");
    const cJSON *bt = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "value"), "backtest");
    const cJSON *points = cJSON_GetObjectItem(cJSON_GetObjectItem(bt, "tracking"), "points");
    assert_non_null(points);
    int n = cJSON_GetArraySize(points);
    sgs_assert_cmp(n, >=, 40); /* a year of weekly points */
    assert_int_equal(count(fig, "class=\"mark\""), (size_t)(2 * n));
    assert_int_equal(count(fig, "data-series=\"actual\""), (size_t)n);
    double last = 0, previous = 0;
    const cJSON *pt;
    cJSON_ArrayForEach(pt, points)
    {
        char got[64], want[64];
        const char *date = cJSON_GetObjectItem(pt, "date")->valuestring;
        last = cJSON_GetObjectItem(pt, "actual")->valuedouble;
        sgs_assert_cmp(last, >=, previous);
        previous = last;
        if (!mark_value(fig, date, got, sizeof got))
            fail_msg("backtest-tracking: no point for %s", date);
        snprintf(want, sizeof want, "%.0f", last);
        if (strcmp(got, want) != 0)
            fail_msg("backtest-tracking: %s is %s, summary.json says %s", date, got, want);
    }
    double holdout = 0;
    const cJSON *bin;
    cJSON_ArrayForEach(bin, cJSON_GetObjectItem(bt, "by_frequency")) holdout +=
        cJSON_GetObjectItem(bin, "customers")->valuedouble *
        cJSON_GetObjectItem(bin, "actual_mean")->valuedouble;
    sgs_assert_close(last, holdout, 1e-6, 0);
    free(fig);
    fig = figure_of(html, "backtest-by-frequency");
    assert_non_null(fig);
    assert_int_equal(count(fig, "class=\"mark\""),
                     2 * (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(bt, "by_frequency")));
    cJSON_Delete(sum);
    free(fig);
    free(html);
}

static void test_same_bytes_for_1_and_3_threads(void **state)
{
    (void)state;
    char a[700], b[700], why[128];
    snprintf(a, sizeof a, "%s/t1/report.html", dir);
    snprintf(b, sizeof b, "%s/t3/report.html", dir);
    if (sgs_test_files_differ(a, b, why, sizeof why))
        fail_msg("report.html differs between 1 and 3 threads (%s)", why);
}

/* output.report_html=none writes none (and the run says so by not naming it); a path puts it
 * there. */
static void test_off_switch_and_path(void **state)
{
    (void)state;
    char out[8192], path[700];
    assert_int_equal(run_into("off", "--threads 2 --set output.report_html=none", out, sizeof out),
                     0);
    struct stat sb;
    snprintf(path, sizeof path, "%s/off/report.html", dir);
    assert_int_not_equal(lstat(path, &sb), 0);
    snprintf(path, sizeof path, "%s/off/.results.h5.segscore/current/report.html", dir);
    assert_int_not_equal(lstat(path, &sb), 0);
    snprintf(path, sizeof path, "%s/off/report.txt", dir);
    assert_int_equal(stat(path, &sb), 0);
    char extra[1024];
    snprintf(extra, sizeof extra, "--threads 2 --set output.report_html='%s/elsewhere.html'", dir);
    assert_int_equal(run_into("path", extra, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/elsewhere.html", dir);
    assert_int_equal(stat(path, &sb), 0);
    snprintf(path, sizeof path, "%s/path/report.html", dir);
    assert_int_not_equal(lstat(path, &sb), 0);
}

/* A run whose flush of report.html fails (the fifth output) exits 74 naming it, and every
 * output, report.html included, shows the earlier run's bytes. */
static void test_failed_run_keeps_the_earlier_report(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(run_into("fail", "--threads 2", out, sizeof out), 0);
    char folder[600];
    snprintf(folder, sizeof folder, "%s/fail", dir);
    sgs_test_snapshot_t before;
    sgs_test_snapshot(folder, &before);
    setenv("SGS_TEST_FAIL_FSYNC_AT", "5", 1);
    int status = run_into("fail", "--threads 2 --set rfm.bins=4", out, sizeof out);
    unsetenv("SGS_TEST_FAIL_FSYNC_AT");
    if (status != 74 || !strstr(out, "report.html: flushing to disk failed"))
        fail_msg("expected 74 naming report.html, got %d: %s", status, out);
    sgs_test_assert_snapshot_unchanged(folder, &before);
    sgs_test_snapshot_free(&before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_contained_and_small),
        cmocka_unit_test(test_every_chart_under_the_contract),
        cmocka_unit_test(test_model_maps_capacity_and_profiles),
        cmocka_unit_test(test_rfm_marks_equal_the_summary),
        cmocka_unit_test(test_stage_marks_equal_the_summary),
        cmocka_unit_test(test_backtest_marks_equal_the_summary),
        cmocka_unit_test(test_same_bytes_for_1_and_3_threads),
        cmocka_unit_test(test_off_switch_and_path),
        cmocka_unit_test(test_failed_run_keeps_the_earlier_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
