/*
 * tests/e2e/test_bench_python_pipeline.c — bench/bench_vs_python_pipeline.py at a tiny size
 * (issue 17 item 3): the script generates 3,000 customers, runs `segscore run` and the Python
 * pipeline (pandas, scipy on lifetimes' likelihoods, scikit-learn, to_csv) on them, and must
 * print its table and find every agreement check passed (summary and RFM equal, parameters to
 * 1e-4, scores, CLV from segscore's parameters to 1e-9, segment scaling and inertia); and
 * with segscore's BG/NBD r nudged by 1e-3 after the run (a wrapper around the program), it
 * must say which check failed and exit 1.
 * Runs Debian's /usr/bin/python3, or $SGS_TEST_PYTHON; skips (77) when it cannot import
 * numpy, scipy, pandas, h5py and scikit-learn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];
static const char *python; /* sgs_test_python */

/* Runs the benchmark at 3,000 customers with `segscore` as its program; its exit status, and
 * its output in out. */
static int run_bench(const char *segscore, const char *work, char *out, size_t out_size)
{
    char cmd[1600];
    /* -B: no __pycache__ written into the source tree. One thread: the numbers are not
     * the point here, and the machine may be shared. */
    snprintf(cmd, sizeof cmd,
             "'%s' -B '%s/bench/bench_vs_python_pipeline.py' --customers 3000 --threads 1 "
             "--segscore '%s' --work '%s/%s'",
             python, SGS_SOURCE_DIR, segscore, dir, work);
    int status = sgs_test_shell(cmd, out, out_size);
    fputs(out, stdout);
    return status;
}

static void test_the_benchmark_agrees_at_a_tiny_size(void **state)
{
    (void)state;
    static char out[1 << 16];
    int status = run_bench(SGS_TEST_BINARY, "work", out, sizeof out);
    assert_int_equal(status, 0);
    const char *rows[] = {"read", "summary", "rfm", "value", "segments", "lists", "write", "run"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        sgs_assert_contains(out, rows[i]);
    sgs_assert_contains(out, "ok   summary and RFM, customer by customer: equal");
    sgs_assert_contains(out, "ok   model parameters");
    sgs_assert_contains(out, "ok   clv from segscore's parameters");
    sgs_assert_contains(out, "ok   segment inertia");
    sgs_assert_contains(out, "results agree: yes");
    sgs_assert_not_contains(out, "FAIL");
}

static void test_a_disagreement_fails_the_benchmark(void **state)
{
    (void)state;
    /* segscore as usual, then, after a run, its published BG/NBD r times 1.001 */
    char wrapper[600], script[2400];
    snprintf(wrapper, sizeof wrapper, "%s/nudged-segscore", dir);
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             "'%s' \"$@\" || exit $?\n"
             "[ \"$1\" = run ] || exit 0\n"
             "while [ \"$1\" != -o ]; do shift; done\n"
             "exec '%s' -c 'import sys, h5py\n"
             "with h5py.File(sys.argv[1], \"r+\") as f:\n"
             "    f[\"/models/bgnbd\"].attrs[\"r\"] *= 1.001' \"$2\"\n",
             SGS_TEST_BINARY, python);
    sgs_test_write_file(wrapper, script);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "chmod +x '%s'", wrapper);
    assert_int_equal(sgs_test_shell(cmd, NULL, 0), 0);
    static char out[1 << 16];
    int status = run_bench(wrapper, "nudged", out, sizeof out);
    assert_int_equal(status, 1);
    sgs_assert_contains(out, "FAIL model parameters");
    sgs_assert_contains(out, "FAIL p_alive from segscore's parameters");
    sgs_assert_contains(out, "results agree: NO");
}

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("bench_python_pipeline", dir, sizeof dir);
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
    python = sgs_test_python("h5py, numpy, pandas, scipy, sklearn",
                             "scripts/install-deps with SGS_WITH_PEERS=1 installs them");
    if (!python)
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_benchmark_agrees_at_a_tiny_size),
        cmocka_unit_test(test_a_disagreement_fails_the_benchmark),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
