/*
 * tests/e2e/test_step_regression.c — bench/step_regression.py (docs/benchmarks.md, "Is a run
 * slower than before?") on summaries made here: a baseline saved from a real run's
 * summary.json, compared with itself (exit 0, every step "ok"), with a copy in which one step
 * took twice as long and one memory peak grew (exit 1 naming that step SLOWER and memory
 * LARGER), with one whose short step doubled by less than --min-seconds (exit 0), and with
 * one on another input (a warning); a file that is not a summary exits 2.
 * Runs Debian's /usr/bin/python3 (standard library only) or $SGS_TEST_PYTHON; skips (77)
 * without it.
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
#include <unistd.h>

static char dir[256], summary[600], baseline[600];
static const char *python; /* sgs_test_python */

/* python bench/step_regression.py ARGS; its exit status, its output in out. */
static int check(const char *args, char *out, size_t size)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' '%s/bench/step_regression.py' %s", python, SGS_SOURCE_DIR,
             args);
    return sgs_test_shell(cmd, out, size);
}

/* A copy of the run's summary.json with step `step`'s seconds times `factor` (and the total
 * accordingly), the peak memory times `memory`, and the input identity replaced when
 * `identity` is set; written to dir/name. */
static void edited(const char *name, const char *step, double factor, double memory,
                   const char *identity, char *path, size_t size)
{
    cJSON *doc = sgs_test_read_json(summary);
    assert_non_null(doc);
    cJSON *s;
    double added = 0;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(doc, "steps"))
    {
        if (strcmp(cJSON_GetObjectItem(s, "name")->valuestring, step) != 0)
            continue;
        cJSON *sec = cJSON_GetObjectItem(s, "seconds");
        added = sec->valuedouble * (factor - 1);
        cJSON_SetNumberValue(sec, sec->valuedouble * factor);
    }
    cJSON *total = cJSON_GetObjectItem(doc, "seconds_total");
    cJSON_SetNumberValue(total, total->valuedouble + added);
    cJSON *peak = cJSON_GetObjectItem(doc, "peak_rss_mb");
    cJSON_SetNumberValue(peak, peak->valuedouble * memory);
    if (identity)
        cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "input"), "identity"),
                             identity);
    char *text = cJSON_Print(doc);
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    cJSON_free(text);
    cJSON_Delete(doc);
}

/* The seconds of `step` in the run's summary. */
static double seconds_of(const char *step)
{
    cJSON *doc = sgs_test_read_json(summary);
    double v = -1;
    cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(doc, "steps"))
    {
        if (strcmp(cJSON_GetObjectItem(s, "name")->valuestring, step) == 0)
            v = cJSON_GetObjectItem(s, "seconds")->valuedouble;
    }
    cJSON_Delete(doc);
    return v;
}

static void test_verdicts(void **state)
{
    (void)state;
    char out[16384], args[2048], path[700];
    snprintf(args, sizeof args, "'%s' '%s'", baseline, summary);
    assert_int_equal(check(args, out, sizeof out), 0);
    sgs_assert_contains(out, "total");
    sgs_assert_not_contains(out, "SLOWER");
    sgs_assert_not_contains(out, "warning");

    /* value twice as long (and at least 0.2 s more: --min-seconds 0 here, the step is short on
     * a small input), memory 30% larger */
    edited("slow.json", "value", 2.0, 1.3, NULL, path, sizeof path);
    snprintf(args, sizeof args, "'%s' '%s' --min-seconds 0", baseline, path);
    assert_int_equal(check(args, out, sizeof out), 1);
    const char *row = strstr(out, "\nvalue ");
    assert_non_null(row);
    const char *eol = strchr(row + 1, '\n');
    const char *verdict = strstr(row, "SLOWER");
    if (!(verdict && eol && verdict < eol))
        fail_msg("expected SLOWER on the value row, got:\n%s", out);
    sgs_assert_contains(out, "LARGER");
    const char *group = strstr(out, "\ngroup ");
    assert_non_null(group);
    const char *ok = strstr(group, "ok"), *group_end = strchr(group + 1, '\n');
    if (!(ok && group_end && ok < group_end))
        fail_msg("expected ok on the group row, got:\n%s", out);

    /* the same doubling stays "ok" when it is under --min-seconds */
    double v = seconds_of("value");
    sgs_assert_cmp(v, >, 0.0);
    edited("jitter.json", "value", 2.0, 1.0, NULL, path, sizeof path);
    snprintf(args, sizeof args, "'%s' '%s' --min-seconds %.6f", baseline, path, v * 1.5);
    assert_int_equal(check(args, out, sizeof out), 0);

    /* another input: a warning, still compared */
    edited("other.json", "value", 1.0, 1.0, "another.h5 size=1", path, sizeof path);
    snprintf(args, sizeof args, "'%s' '%s'", baseline, path);
    assert_int_equal(check(args, out, sizeof out), 0);
    sgs_assert_contains(out, "warning: the input differs");

    /* not a summary */
    snprintf(path, sizeof path, "%s/not.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"steps\": 3}", f);
    assert_int_equal(fclose(f), 0);
    snprintf(args, sizeof args, "'%s' '%s'", baseline, path);
    assert_int_equal(check(args, out, sizeof out), 2);
    sgs_assert_contains(out, "not a segscore run summary");
}

static int setup(void **state)
{
    (void)state;
    python = sgs_test_python("json", "python3 comes with Debian");
    if (!python)
        exit(77);
    sgs_test_tmpdir("e2e-step-regression", dir, sizeof dir);
    char args[2048], out[8192], input[512];
    snprintf(input, sizeof input, "%s/in.h5", dir);
    snprintf(args, sizeof args, "generate -q --customers 2000 --seed 3 -o '%s'", input);
    if (sgs_test_run(args, out, sizeof out) != 0)
        return -1;
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5'", input, dir);
    if (sgs_test_run(args, out, sizeof out) != 0)
        return -1;
    snprintf(summary, sizeof summary, "%s/summary.json", dir);
    snprintf(baseline, sizeof baseline, "%s/baseline.json", dir);
    snprintf(args, sizeof args, "--save '%s' '%s'", baseline, summary);
    if (check(args, out, sizeof out) != 0) {
        print_error("--save failed: %s\n", out);
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_verdicts)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
