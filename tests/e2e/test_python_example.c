/*
 * tests/e2e/test_python_example.c — examples/read_results.py, the Python example of
 * docs/outputs.md, on the results of real runs (issue 16 item 3):
 *   - tests/python/check_read_results.py imports it and compares what it loads with the file
 *     read a second way and with summary.json: row counts, decoded names, the join of
 *     /stages and /customers on customer_id, value scores, segments, the audit;
 *   - its overview (`python3 examples/read_results.py results.h5`) says the counts of
 *     summary.json;
 *   - both again on a run without the value and segment steps (/clv, /clusters and /profiles
 *     absent).
 * Input: `segscore generate` (2,000 buyers + 200 prospects, with events, seed 16).
 * Runs Debian's /usr/bin/python3 (scripts/install-deps gives it h5py and pandas), or
 * $SGS_TEST_PYTHON; skips (77) when the interpreter cannot import either.
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
static const char *python; /* sgs_test_python */

/* The count at `path` ("customers", "with_purchases") of the summary.json in `run_dir`. */
static long summary_count(const char *run_dir, const char *group, const char *key)
{
    char path[600];
    snprintf(path, sizeof path, "%s/summary.json", run_dir);
    char *text = sgs_test_read_file(path, NULL);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    const cJSON *value = cJSON_GetObjectItem(cJSON_GetObjectItem(root, group), key);
    sgs_assert_json(cJSON_IsNumber, value);
    long n = (long)value->valuedouble;
    cJSON_Delete(root);
    free(text);
    return n;
}

/* Run segscore with `options` into dir/<name>/, then the checks and the overview there. */
static void run_and_check(const char *name, const char *options)
{
    char run_dir[600], args[1600], cmd[2400];
    static char out[1 << 16];
    snprintf(run_dir, sizeof run_dir, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", run_dir);
    assert_int_equal(sgs_test_shell(cmd, NULL, 0), 0);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' %s", input, run_dir, options);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        print_error("segscore %s: exit %d: %s\n", args, status, out);
    assert_int_equal(status, 0);

    /* -B: no __pycache__ written into the source tree. */
    snprintf(cmd, sizeof cmd,
             "'%s' -B '%s/tests/python/check_read_results.py' '%s/results.h5' "
             "'%s/summary.json'",
             python, SGS_SOURCE_DIR, run_dir, run_dir);
    status = sgs_test_shell(cmd, out, sizeof out);
    print_message("%s", out);
    if (status != 0)
        print_error("%s: exit %d\n", cmd, status);
    assert_int_equal(status, 0);
    sgs_assert_contains(out, "ok: stages joined with customers on customer_id");

    snprintf(cmd, sizeof cmd, "'%s' -B '%s/examples/read_results.py' '%s/results.h5'", python,
             SGS_SOURCE_DIR, run_dir);
    status = sgs_test_shell(cmd, out, sizeof out);
    if (status != 0)
        print_error("%s: exit %d: %s\n", cmd, status, out);
    assert_int_equal(status, 0);
    char line[200];
    snprintf(line, sizeof line, "customers: %ld with a purchase, %ld known",
             summary_count(run_dir, "customers", "with_purchases"),
             summary_count(run_dir, "stages", "customers"));
    sgs_assert_contains(out, line);
    snprintf(line, sizeof line, "opportunities: %ld listed",
             summary_count(run_dir, "opportunities", "listed"));
    sgs_assert_contains(out, line);
    sgs_assert_contains(out, "RFM segments (customers):");
    sgs_assert_contains(out, "Champions");
    sgs_assert_contains(out, "stages (known customers):");
    sgs_assert_contains(out, "prospect");
    sgs_assert_contains(out, "treatment");
    sgs_assert_contains(out, "control");
}

static void test_the_example_reads_a_full_run(void **state)
{
    (void)state;
    run_and_check("full", "");
}

static void test_the_example_reads_a_run_without_value_and_segments(void **state)
{
    (void)state;
    run_and_check("minimal", "--model none --set segments.enabled=false");
}

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("python_example", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/in.h5", dir);
    char args[700], out[4096];
    snprintf(args, sizeof args, "generate -q --customers 2000 --seed 16 -o '%s'", input);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        print_error("generate failed (%d): %s\n", status, out);
    return status == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

int main(void)
{
    python = sgs_test_python("h5py, pandas",
                             "scripts/install-deps installs python3-h5py and python3-pandas");
    if (!python)
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_example_reads_a_full_run),
        cmocka_unit_test(test_the_example_reads_a_run_without_value_and_segments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
