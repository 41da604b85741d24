/*
 * tests/e2e/test_report_browser.c — report.html of a real run, opened in headless Chromium
 * with the network disabled (tests/support/browser_check.h): no console message, no network
 * reference, a screenshot that is not blank; every chart of the page obeys the chart
 * contract after the browser has parsed it; and the RFM segment and stage bars the browser
 * shows carry summary.json's counts. Skips (77) only where no browser can be found.
 * Input: `segscore generate` (3,000 buyers, seed 4), run with a compare date so that every
 * chart but none is drawn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/browser_check.h"
#include "tests/support/report_charts.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256];

static const char *const *const charts = sgs_test_report_charts;

static void test_the_report_renders_with_its_numbers(void **state)
{
    (void)state;
    char gen[512], sub[512], args[2048], out[8192], path[700];
    snprintf(gen, sizeof gen, "%s/gen.h5", dir);
    snprintf(sub, sizeof sub, "%s/run", dir);
    mkdir(sub, 0755);
    snprintf(args, sizeof args, "generate -q --customers 3000 --seed 4 -o '%s'", gen);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s/results.h5' --as-of 2024-06-30 --compare-as-of 2024-03-31", gen,
             sub);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("run failed: %s", out);
    snprintf(path, sizeof path, "%s/report.html", sub);

    sgs_test_browser_t b;
    sgs_test_browser_check(path, &b); /* console, network, blank: or skip without a browser */
    snprintf(path, sizeof path, "%s/summary.json", sub);
    char *text = sgs_test_read_file(path, NULL);
    cJSON *sum = cJSON_Parse(text);
    free(text);
    assert_non_null(sum);
    /* the charts above, and one profile per k-means segment */
    int k_segments = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "segments"), "k")->valueint;
    assert_int_equal(sgs_test_dom_chart_count(b.dom),
                     SGS_TEST_REPORT_CHART_COUNT + (size_t)k_segments);
    for (size_t k = 0; k < SGS_TEST_REPORT_CHART_COUNT; k++)
        sgs_assert_chart_contract(b.dom, charts[k]);
    for (int j = 0; j < k_segments; j++) {
        char name[32];
        snprintf(name, sizeof name, "segment-profile-%d", j);
        sgs_assert_chart_contract(b.dom, name);
    }

    size_t n = 0;
    const cJSON *seg;
    cJSON_ArrayForEach(seg, cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "rfm"), "segments"))
    {
        double customers = cJSON_GetObjectItem(seg, "customers")->valuedouble;
        if (customers == 0)
            continue;
        n++;
        sgs_assert_chart_mark_value(b.dom, "rfm-segments",
                                    cJSON_GetObjectItem(seg, "name")->valuestring, customers);
    }
    sgs_assert_cmp(n, >=, 5);
    sgs_assert_chart_marks(b.dom, "rfm-segments", n);
    n = 0;
    const cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "stages"), "per_stage"))
    {
        if (st->valuedouble == 0)
            continue;
        n++;
        sgs_assert_chart_mark_value(b.dom, "stages", st->string, st->valuedouble);
    }
    sgs_assert_chart_marks(b.dom, "stages", n);
    cJSON_Delete(sum);
    sgs_test_browser_free(&b);
}

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("e2e-report-browser", dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_report_renders_with_its_numbers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
