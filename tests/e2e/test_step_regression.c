/*
 * tests/e2e/test_step_regression.c — bench/step_regression.py (docs/benchmarks.md, "Is a run
 * slower than before?") on summaries made here: a baseline saved from a real run's
 * summary.json, compared with itself (exit 0, every step "ok"), with a copy in which one step
 * took twice as long and one memory peak grew (exit 1 naming that step SLOWER and memory
 * LARGER), with one whose short step doubled by less than --min-seconds (exit 0), and with
 * one on another input (a warning); a file that is not a summary exits 2. The CPU column: the
 * CPU seconds of two summaries whose steps' cpu_seconds the test sets, "-" for a step without
 * them. And the run's own summary.json: every step's cpu_seconds and system_seconds
 * (engine/progress.c) finite and non-negative, the system part at most the whole, and their sums
 * over the steps at most the CPU time the finished program was charged (getrusage of the test's
 * children).
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
#include <sys/resource.h>
#include <unistd.h>

static char dir[256], summary[600], baseline[600];
static const char *python; /* sgs_test_python */
/* CPU seconds, user + system and system alone, of the `segscore run` that wrote summary: what
 * getrusage(RUSAGE_CHILDREN) gained over it (and the shell that started it) */
static double run_cpu_s, run_system_s;

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

/* Every step of the run's summary.json has cpu_seconds and system_seconds. What holds by
 * construction (engine/progress.c: the differences of getrusage(RUSAGE_SELF)'s user and system
 * times at the step's start and end, which Linux keeps from going backwards) is asserted, and
 * nothing else: each is finite and >= 0, the system part is at most the whole (user >= 0 added),
 * and the steps, disjoint spans of the program's life, sum to at most the CPU time the kernel
 * charged the finished program (its parent's RUSAGE_CHILDREN; 0.1 ms of room for
 * the truncation of each reading to microseconds). Neither is compared with wall time: threads
 * make CPU time exceed it, waiting makes it fall short. */
static void test_step_cpu_seconds(void **state)
{
    (void)state;
    cJSON *doc = sgs_test_read_json(summary);
    cJSON *steps = cJSON_GetObjectItem(doc, "steps"), *s;
    sgs_assert_cmp(cJSON_GetArraySize(steps), >, 0);
    double cpu_sum = 0, system_sum = 0;
    cJSON_ArrayForEach(s, steps)
    {
        cJSON *cpu = cJSON_GetObjectItem(s, "cpu_seconds");
        cJSON *sys = cJSON_GetObjectItem(s, "system_seconds");
        sgs_assert_json(cJSON_IsNumber, cpu);
        sgs_assert_json(cJSON_IsNumber, sys);
        print_message("%-16s cpu %.6f system %.6f\n",
                      cJSON_GetStringValue(cJSON_GetObjectItem(s, "name")), cpu->valuedouble,
                      sys->valuedouble);
        sgs_assert_finite(cpu->valuedouble);
        sgs_assert_finite(sys->valuedouble);
        sgs_assert_cmp(sys->valuedouble, >=, 0.0);
        sgs_assert_cmp(cpu->valuedouble, >=, sys->valuedouble);
        cpu_sum += cpu->valuedouble;
        system_sum += sys->valuedouble;
    }
    print_message("steps: cpu %.6f system %.6f; the program: cpu %.6f system %.6f\n", cpu_sum,
                  system_sum, run_cpu_s, run_system_s);
    sgs_assert_cmp(cpu_sum, <=, run_cpu_s + 1e-4);
    sgs_assert_cmp(system_sum, <=, run_system_s + 1e-4);
    cJSON_Delete(doc);
}

/* A copy of the run's summary.json, written to dir/name, with every step's cpu_seconds set to
 * `other` and step `step`'s to `cpu` (removed when cpu < 0: a summary of before 2026-12-07). */
static void with_cpu(const char *name, const char *step, double cpu, double other, char *path,
                     size_t size)
{
    cJSON *doc = sgs_test_read_json(summary);
    cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(doc, "steps"))
    {
        double v = strcmp(cJSON_GetObjectItem(s, "name")->valuestring, step) == 0 ? cpu : other;
        cJSON_DeleteItemFromObject(s, "cpu_seconds");
        if (v >= 0)
            cJSON_AddNumberToObject(s, "cpu_seconds", v);
    }
    char *text = cJSON_Print(doc);
    snprintf(path, size, "%s/%s", dir, name);
    sgs_test_write_file(path, text);
    cJSON_free(text);
    cJSON_Delete(doc);
}

/* Fail unless the row of step `row` in the script's output `out` contains `part`. */
static void assert_row_contains(const char *out, const char *row, const char *part)
{
    char head[64];
    snprintf(head, sizeof head, "\n%s ", row);
    const char *at = strstr(out, head);
    if (!at)
        fail_msg("no row %s in:\n%s", row, out);
    const char *eol = strchr(at + 1, '\n');
    const char *found = strstr(at + 1, part);
    if (!(found && (!eol || found < eol)))
        fail_msg("expected \"%s\" on the %s row, got:\n%s", part, row, out);
}

/* The CPU column: "baseline -> run" CPU seconds of each step and of all, one decimal (the
 * values are chosen so that none is a tie to round), "-" where a summary has none. */
static void test_cpu_column(void **state)
{
    (void)state;
    char out[16384], args[2048], base[700], run[700], old[700];
    with_cpu("cpu-base.json", "value", 3.5, 0.5, base, sizeof base);
    with_cpu("cpu-run.json", "value", 12.5, 1.0, run, sizeof run);
    with_cpu("cpu-old.json", "value", -1, 1.0, old, sizeof old);
    cJSON *doc = sgs_test_read_json(summary);
    int n_steps = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "steps"));
    cJSON_Delete(doc);
    sgs_assert_cmp(n_steps, >, 1);

    snprintf(args, sizeof args, "'%s' '%s'", base, run);
    assert_int_equal(check(args, out, sizeof out), 0);
    sgs_assert_contains(out, "CPU s");
    assert_row_contains(out, "value", "3.5 -> 12.5");
    assert_row_contains(out, "group", "0.5 -> 1.0");
    char total[64];
    snprintf(total, sizeof total, "%.1f -> %.1f", 3.5 + 0.5 * (n_steps - 1),
             12.5 + 1.0 * (n_steps - 1));
    assert_row_contains(out, "total", total);

    /* a step without cpu_seconds: "-" on its row and for the total */
    snprintf(args, sizeof args, "'%s' '%s'", base, old);
    assert_int_equal(check(args, out, sizeof out), 0);
    assert_row_contains(out, "value", "3.5 -> -");
    assert_row_contains(out, "group", "0.5 -> 1.0");
    snprintf(total, sizeof total, "%.1f -> -", 3.5 + 0.5 * (n_steps - 1));
    assert_row_contains(out, "total", total);
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

static double seconds(struct timeval t)
{
    return (double)t.tv_sec + 1e-6 * (double)t.tv_usec;
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
    struct rusage before, after;
    if (getrusage(RUSAGE_CHILDREN, &before) != 0)
        return -1;
    if (sgs_test_run(args, out, sizeof out) != 0)
        return -1;
    if (getrusage(RUSAGE_CHILDREN, &after) != 0)
        return -1;
    run_system_s = seconds(after.ru_stime) - seconds(before.ru_stime);
    run_cpu_s = seconds(after.ru_utime) - seconds(before.ru_utime) + run_system_s;
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
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_verdicts),
                                       cmocka_unit_test(test_step_cpu_seconds),
                                       cmocka_unit_test(test_cpu_column)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
