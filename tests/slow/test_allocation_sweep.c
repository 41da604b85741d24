/*
 * tests/slow/test_allocation_sweep.c — every allocation of whole commands failed in turn
 * (SGS_TEST_FAIL_ALLOC_AFTER, engine/main.c), the way the kernels' out-of-memory sweeps fail
 * theirs: run, import, generate, evaluate, kmeans, inspect and config on small inputs, one
 * thread (so that the n-th allocation is the same one each time). Every time: exit 71 with the
 * reason (or 0 when the allocation was optional), never a crash or another status, no leak (the
 * sanitizer build fails the exit status), no temporary left and, for a run, the previous
 * outputs byte-identical.
 *
 * A run makes about 3,000 allocations (most of them cJSON nodes of the summary), evaluate with
 * its JSON report 1,400: each command is swept at no more than 150 evenly spaced allocations
 * (all of them for import, generate, kmeans and inspect), a few minutes in all. SGS_SWEEP_FULL=1
 * fails every allocation of every command (about 45 minutes). A failure prints the allocation
 * number; SGS_TEST_FAIL_ALLOC_AFTER=<that number> replays it by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256], input[512], csv[512], matrix[512], previous[512], config[512];

static const char *const OUTPUTS[] = {"results.h5", "customers.csv", "opportunities.csv",
                                      "report.txt", "report.html",   "summary.json"};
enum { N_OUTPUTS = sizeof OUTPUTS / sizeof OUTPUTS[0] };

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("slow-alloc-sweep", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/in.h5", dir);
    snprintf(csv, sizeof csv, "%s/tx.csv", dir);
    snprintf(matrix, sizeof matrix, "%s/x.h5", dir);
    snprintf(previous, sizeof previous, "%s/previous", dir);
    snprintf(config, sizeof config, "%s/config.json", dir);
    char args[2048], out[8192];
    snprintf(args, sizeof args, "generate -q --customers 100 --seed 5 -o '%s'", input);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        print_error("generate failed: %s\n", out);
        return -1;
    }
    FILE *f = fopen(csv, "w");
    if (!f)
        return -1;
    fprintf(f, "customer,date,amount\n");
    for (int i = 0; i < 500; i++)
        fprintf(f, "%d,2023-%02d-%02d,%d.%02d\n", 1 + (i * 7919) % 60, 1 + i % 12, 1 + i % 28,
                (i * 31) % 200, i % 100);
    fclose(f);
    double x[200 * 3];
    for (int i = 0; i < 600; i++)
        x[i] = (double)((i * 2654435761u) % 1000) / 100.0 + 10.0 * (i / 3 % 4);
    hid_t h = H5Fcreate(matrix, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (h < 0 || sgs_h5_write_matrix(h, "/X", x, 200, 3, NULL) != 0)
        return -1;
    H5Fclose(h);
    sgs_test_write_file(config, "{\"segments\": {\"k\": 3}, \"rfm\": {\"bins\": 4}}\n");
    /* HDF5 1.10.8 keeps what it allocated for writes that failed (io/h5_output.h): only blocks
     * allocated inside HDF5 are not reported. */
    char suppressions[600], lsan[700];
    snprintf(suppressions, sizeof suppressions, "%s/lsan-hdf5.supp", dir);
    sgs_test_write_file(suppressions, "leak:libhdf5\n");
    snprintf(lsan, sizeof lsan, "suppressions=%s:print_suppressions=0", suppressions);
    setenv("LSAN_OPTIONS", lsan, 1);
    mkdir(previous, 0755);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --threads 1", input, previous);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        print_error("run failed: %s\n", out);
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

/* Fresh copy of the previous outputs in `to`. */
static void copy_previous(const char *to)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, previous, to);
    assert_int_equal(system(cmd), 0);
}

/* The previous outputs are byte-identical in `at`, with no temporary left and the publish
 * state clean (docs/publishing.md). */
static void assert_previous_intact(const char *at, const char *context)
{
    for (size_t i = 0; i < N_OUTPUTS; i++) {
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", previous, OUTPUTS[i]);
        snprintf(b, sizeof b, "%s/%s", at, OUTPUTS[i]);
        if (!sgs_test_files_equal(a, b))
            fail_msg("%s: %s changed", context, b);
    }
    sgs_test_assert_no_leftovers(at);
}

/* Sweep `args` (its outputs in `scratch`; `run_dir` when it is a run keeping the previous
 * outputs there) with allocations failing in turn: every one under SGS_SWEEP_FULL=1, else a
 * stride that makes at most MAX_POINTS runs. */
#define MAX_POINTS 150
static void sweep(const char *name, const char *args, const char *scratch, const char *run_dir)
{
    char out[16384], context[2600], env[64];
    sgs_test_limits_t armed = {.env = "SGS_TEST_FAIL_ALLOC_AFTER=1000000000", .timeout_s = 600};
    if (run_dir)
        copy_previous(run_dir);
    int status = sgs_test_run_limited(&armed, args, out, sizeof out);
    if (status != 0)
        fail_msg("segscore %s: exit %d without a failure\n%s", args, status, out);
    const char *at = strstr(out, "segscore: test: ");
    assert_non_null(at);
    long n_alloc = strtol(at + strlen("segscore: test: "), NULL, 10);
    const char *full = getenv("SGS_SWEEP_FULL");
    long step = full && strcmp(full, "1") == 0 ? 1 : (n_alloc + MAX_POINTS - 1) / MAX_POINTS;
    if (step < 1)
        step = 1;
    print_message("%s: %ld allocations, every %ld-th failed\n", name, n_alloc, step);
    long n_ok = 0;
    for (long n = 0; n < n_alloc; n += step) {
        snprintf(env, sizeof env, "SGS_TEST_FAIL_ALLOC_AFTER=%ld", n);
        snprintf(context, sizeof context, "%s: allocation %ld of %ld failing (segscore %s)", name,
                 n, n_alloc, args);
        sgs_test_limits_t lim = {.env = env, .timeout_s = 600};
        if (run_dir)
            copy_previous(run_dir);
        status = sgs_test_run_limited(&lim, args, out, sizeof out);
        if (status == 0) {
            n_ok++;
            continue;
        }
        if (status != 71 || (!strstr(out, "out of memory") && !strstr(out, "no memory")))
            fail_msg("%s: exit %d (expected 71 or 0):\n%s", context, status, out);
        sgs_test_assert_no_leftovers(scratch);
        if (run_dir)
            assert_previous_intact(run_dir, context);
    }
    print_message("%s: %ld optional allocations\n", name, n_ok);
}

static void test_sweep_run(void **state)
{
    (void)state;
    char run_dir[512], args[2048];
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --threads 1", input, run_dir);
    sweep("run", args, run_dir, run_dir);
}

static void test_sweep_other_commands(void **state)
{
    (void)state;
    char args[2048];
    snprintf(args, sizeof args,
             "import -q -i '%s' -o '%s/imported.h5' --customer customer --time date --amount "
             "amount --threads 1",
             csv, dir);
    sweep("import", args, dir, NULL);
    snprintf(args, sizeof args, "generate -q --customers 50 --threads 1 -o '%s/generated.h5'", dir);
    sweep("generate", args, dir, NULL);
    snprintf(args, sizeof args,
             "evaluate -q -i '%s' --calibration-end 2023-06-30 --threads 1 -o '%s/eval.h5' "
             "--json '%s/eval.json' >/dev/null",
             input, dir, dir);
    sweep("evaluate", args, dir, NULL);
    snprintf(args, sizeof args, "kmeans -q -i '%s' --k 4 --n-init 2 -o '%s/kmeans.h5'", matrix,
             dir);
    sweep("kmeans", args, dir, NULL);
    snprintf(args, sizeof args, "inspect '%s' >/dev/null", input);
    sweep("inspect", args, dir, NULL);
    snprintf(args, sizeof args, "config -c '%s' >/dev/null", config);
    sweep("config", args, dir, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_other_commands),
        cmocka_unit_test(test_sweep_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
