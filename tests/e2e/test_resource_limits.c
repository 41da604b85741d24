/*
 * tests/e2e/test_resource_limits.c — the program under the limits of a real machine: an
 * address-space limit (ulimit -v) at several sizes, every allocation of a whole command failed
 * in turn (a sample; tests/slow/test_allocation_sweep.c takes them all), a file size limit
 * (ulimit -f: EFBIG), a full disk (a small tmpfs, when mounting is permitted: ENOSPC) and a full
 * standard output (/dev/full). Each time: the program ends promptly (no hang: it is killed
 * after a timeout), never by a signal, with the documented status (0, or 71 for memory, 74 for
 * room to write) and a one-line message that names the file; no temporary file is left and
 * the previous outputs are untouched.
 */
#define _GNU_SOURCE /* unshare(CLONE_NEWNS) for the full-disk case */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/test_support.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MB ((size_t)1 << 20)

static char dir[256];
static char input[512];    /* generated, 300 customers */
static char csv[512];      /* the same kind of data as text, for import */
static char previous[512]; /* a folder holding a finished run's six outputs */
static char config[512];   /* a small configuration file */

static const char *const OUTPUTS[] = {"results.h5", "customers.csv", "opportunities.csv",
                                      "report.txt", "report.html",   "summary.json"};
enum { N_OUTPUTS = sizeof OUTPUTS / sizeof OUTPUTS[0] };

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("e2e-limits", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/in.h5", dir);
    snprintf(csv, sizeof csv, "%s/tx.csv", dir);
    snprintf(previous, sizeof previous, "%s/previous", dir);
    char args[2048], out[8192];
    snprintf(args, sizeof args, "generate -q --customers 300 --seed 3 -o '%s'", input);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        print_error("generate failed: %s\n", out);
        return -1;
    }
    FILE *f = fopen(csv, "w");
    if (!f)
        return -1;
    fprintf(f, "customer,date,amount\n");
    for (int i = 0; i < 3000; i++)
        fprintf(f, "%d,2023-%02d-%02d,%d.%02d\n", 1 + (i * 7919) % 400, 1 + i % 12, 1 + i % 28,
                (i * 31) % 200, i % 100);
    fclose(f);
    snprintf(config, sizeof config, "%s/config.json", dir);
    sgs_test_write_file(config, "{\"segments\": {\"k\": 4, \"features\": \"recency,frequency\"},"
                                " \"rfm\": {\"bins\": 4}}\n");
    /* HDF5 1.10.8 does not free what it allocated for writes that failed (io/h5_output.h):
     * under the sanitizer build those blocks, and only blocks allocated inside HDF5, are not
     * reported. Every other leak fails the program's exit status. */
    char suppressions[600], lsan[700];
    snprintf(suppressions, sizeof suppressions, "%s/lsan-hdf5.supp", dir);
    sgs_test_write_file(suppressions, "leak:libhdf5\n");
    snprintf(lsan, sizeof lsan, "suppressions=%s:print_suppressions=0", suppressions);
    setenv("LSAN_OPTIONS", lsan, 1);
    mkdir(previous, 0755);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5'", input, previous);
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

/* ---- Helpers ------------------------------------------------------------------------- */

/* Copy the previous outputs into a fresh folder `to` (made here). */
static void copy_previous(const char *to)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, previous, to);
    assert_int_equal(system(cmd), 0);
}

/* Every previous output in folder `at` is byte-identical to the reference set, and the folder
 * holds nothing else (no temporary left by the failed run). */
static void assert_previous_intact(const char *at, const char *context)
{
    for (size_t i = 0; i < N_OUTPUTS; i++) {
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", previous, OUTPUTS[i]);
        snprintf(b, sizeof b, "%s/%s", at, OUTPUTS[i]);
        char why[128];
        if (sgs_test_files_differ(a, b, why, sizeof why))
            fail_msg("%s: %s changed (%s)", context, b, why);
    }
    (void)context;
    sgs_test_assert_no_leftovers(at); /* docs/publishing.md: the state folder beside them */
}

/* The output is one line (no HDF5 error stack, no second message) holding `needle`. */
static void assert_one_line_with(const char *output, const char *needle, const char *context)
{
    const char *nl = strchr(output, '\n');
    if (!nl || nl[1] != '\0' || !strstr(output, needle))
        fail_msg("%s: expected one line with \"%s\", got:\n%s", context, needle, output);
}

/* ---- An address-space limit (ulimit -v) ------------------------------------------------ */

/* Under each limit, each command either works (the same outputs as without a limit) or exits
 * 71 saying it is out of memory: never a hang (the BLAS library this program once linked
 * retried a failed allocation forever), never a crash (HDF5 crashes when its initialization
 * runs out of memory). Below about 25 MB the dynamic loader itself cannot map the libraries:
 * exit 127 before any of the program runs, also accepted. */
static void test_address_space_limits(void **state)
{
    (void)state;
    if (UNDER_ASAN)
        skip(); /* AddressSanitizer reserves terabytes of address space at start */
    static const size_t limits_mb[] = {20, 30, 40, 50, 100, 200, 400};
    char out_dir[512], args[2048], out[16384], context[256];
    snprintf(out_dir, sizeof out_dir, "%s/as", dir);
    for (size_t l = 0; l < sizeof limits_mb / sizeof limits_mb[0]; l++) {
        const char *const commands[] = {"--help", "run", "import", "generate", "inspect"};
        for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
            const char *cmd = commands[c];
            copy_previous(out_dir);
            if (strcmp(cmd, "run") == 0)
                snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --threads 2", input,
                         out_dir);
            else if (strcmp(cmd, "import") == 0)
                snprintf(args, sizeof args,
                         "import -q -i '%s' -o '%s/imported.h5' --customer customer --time date "
                         "--amount amount",
                         csv, out_dir);
            else if (strcmp(cmd, "generate") == 0)
                snprintf(args, sizeof args, "generate -q --customers 2000 -o '%s/generated.h5'",
                         out_dir);
            else if (strcmp(cmd, "inspect") == 0)
                snprintf(args, sizeof args, "inspect '%s'", input);
            else
                snprintf(args, sizeof args, "%s", cmd);
            snprintf(context, sizeof context, "ulimit -v %zu MB: segscore %s", limits_mb[l], cmd);
            sgs_test_limits_t lim = {.address_space_bytes = limits_mb[l] * MB, .timeout_s = 120};
            int status = sgs_test_run_limited(&lim, args, out, sizeof out);
            print_message("%s: exit %d\n", context, status);
            if (status == -2)
                fail_msg("%s: still running after %d s (a hang)\n%s", context, lim.timeout_s, out);
            if (status == -1)
                fail_msg("%s: killed by a signal (a crash)\n%s", context, out);
            if (status == 127 && strstr(out, "error while loading shared libraries"))
                continue; /* the loader, before the program */
            if (status == 71) {
                if (!strstr(out, "out of memory") && !strstr(out, "no memory"))
                    fail_msg("%s: exit 71 without saying so:\n%s", context, out);
                if (strcmp(cmd, "run") == 0)
                    assert_previous_intact(out_dir, context);
                continue;
            }
            if (status != 0)
                fail_msg("%s: exit %d (expected 0 or 71):\n%s", context, status, out);
            if (strcmp(cmd, "run") == 0) /* a run that fits gives the same outputs */
                for (size_t i = 0; i < N_OUTPUTS; i++) {
                    char a[700], b[700];
                    snprintf(a, sizeof a, "%s/%s", previous, OUTPUTS[i]);
                    snprintf(b, sizeof b, "%s/%s", out_dir, OUTPUTS[i]);
                    if (strcmp(OUTPUTS[i], "summary.json") != 0 && !sgs_test_files_equal(a, b))
                        fail_msg("%s: %s differs from the run without a limit", context, b);
                }
        }
    }
}

/* ---- Allocation failures, every allocation of a command in turn (sampled) --------------- */

/* How many allocations `args` makes (SGS_TEST_FAIL_ALLOC_AFTER armed with room to spare). */
static long count_allocations(const char *args)
{
    char out[16384];
    sgs_test_limits_t lim = {.env = "SGS_TEST_FAIL_ALLOC_AFTER=1000000000"};
    int status = sgs_test_run_limited(&lim, args, out, sizeof out);
    if (status != 0)
        fail_msg("segscore %s with failure injection armed but not reached: exit %d\n%s", args,
                 status, out);
    const char *at = strstr(out, "segscore: test: ");
    assert_non_null(at);
    return strtol(at + strlen("segscore: test: "), NULL, 10);
}

/* Run `args` with allocation `n` (0-based) failing: exit 71 with the reason (or 0 when the
 * failed allocation was optional), no crash, no leak (the sanitizer build fails the exit
 * status), and for a run, the previous outputs intact. */
static void run_with_failing_allocation(const char *args, long n, const char *run_dir)
{
    char env[64], out[16384], context[2300];
    snprintf(env, sizeof env, "SGS_TEST_FAIL_ALLOC_AFTER=%ld", n);
    snprintf(context, sizeof context, "allocation %ld failing in segscore %s", n, args);
    sgs_test_limits_t lim = {.env = env, .timeout_s = 300};
    if (run_dir)
        copy_previous(run_dir);
    int status = sgs_test_run_limited(&lim, args, out, sizeof out);
    if (status == 0)
        return;
    if (status != 71 || (!strstr(out, "out of memory") && !strstr(out, "no memory")))
        fail_msg("%s: exit %d (expected 71 or 0):\n%s", context, status, out);
    if (run_dir)
        assert_previous_intact(run_dir, context);
}

/* The points of a sampled sweep over n_alloc allocations: the first few (setup paths), then an
 * even spread with a seeded offset, and the last. */
static void sweep(const char *args, const char *run_dir, int n_spread)
{
    long n_alloc = count_allocations(args);
    print_message("segscore %.60s...: %ld allocations, %d sampled\n", args, n_alloc, 8 + n_spread);
    sgs_assert_cmp(n_alloc, >, 0);
    for (long n = 0; n < 8 && n < n_alloc; n++)
        run_with_failing_allocation(args, n, run_dir);
    unsigned seed = 12345;
    for (int i = 0; i < n_spread; i++) {
        seed = seed * 1103515245u + 12345u;
        long n =
            8 + (long)((double)(n_alloc - 8) * (i + (double)(seed >> 16) / 65536.0) / n_spread);
        if (n < n_alloc)
            run_with_failing_allocation(args, n, run_dir);
    }
    run_with_failing_allocation(args, n_alloc - 1, run_dir);
}

static void test_failing_allocations_sampled(void **state)
{
    (void)state;
    char out_dir[512], args[2048];
    snprintf(out_dir, sizeof out_dir, "%s/oom", dir);
    copy_previous(out_dir);
    /* one thread: the n-th allocation is then the same one every time */
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --threads 1", input, out_dir);
    sweep(args, out_dir, UNDER_ASAN ? 8 : 24);
    snprintf(args, sizeof args,
             "import -q -i '%s' -o '%s/imported.h5' --customer customer --time date --amount "
             "amount --threads 1",
             csv, dir);
    sweep(args, NULL, 4);
    snprintf(args, sizeof args, "generate -q --customers 200 --threads 1 -o '%s/generated.h5'",
             dir);
    sweep(args, NULL, 4);
    snprintf(args, sizeof args, "config -c '%s' >/dev/null", config);
    sweep(args, NULL, 4);
}

/* ---- A file size limit (EFBIG) --------------------------------------------------------- */

/* Writing beyond `ulimit -f`: exit 74 and one line "<the file asked for>: file too large ...",
 * never the temporary's name or HDF5's error stack; the previous outputs intact. */
static void test_file_size_limit_is_one_line_naming_the_file(void **state)
{
    (void)state;
    char out_dir[512], args[2048], out[16384], want[700];
    snprintf(out_dir, sizeof out_dir, "%s/fsize", dir);
    const char *reason = "file too large for the file size limit (ulimit -f)";
    sgs_test_limits_t lim = {.file_size_bytes = 20000, .timeout_s = 120};

    copy_previous(out_dir);
    /* with two threads the first part of results.h5 fails on a thread of its own, beside the
     * segment step */
    for (int threads = 1; threads <= 2; threads++) {
        snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --threads %d", input,
                 out_dir, threads);
        assert_int_equal(sgs_test_run_limited(&lim, args, out, sizeof out), 74);
        snprintf(want, sizeof want, "%s/results.h5: %s", out_dir, reason);
        assert_one_line_with(out, want, "run");
        assert_previous_intact(out_dir, "run under ulimit -f");
    }

    for (int threads = 1; threads <= 2; threads++) { /* the writer thread and without it */
        snprintf(args, sizeof args,
                 "import -q -i '%s' -o '%s/imported.h5' --customer customer --time date "
                 "--amount amount --threads %d",
                 csv, out_dir, threads);
        lim.file_size_bytes = 4096;
        assert_int_equal(sgs_test_run_limited(&lim, args, out, sizeof out), 74);
        snprintf(want, sizeof want, "%s/imported.h5: %s", out_dir, reason);
        assert_one_line_with(out, want, "import");
    }
    snprintf(args, sizeof args, "generate -q --customers 2000 -o '%s/generated.h5'", out_dir);
    assert_int_equal(sgs_test_run_limited(&lim, args, out, sizeof out), 74);
    snprintf(want, sizeof want, "%s/generated.h5: %s", out_dir, reason);
    assert_one_line_with(out, want, "generate");
    assert_previous_intact(out_dir, "import and generate under ulimit -f");
}

/* ---- A full disk (ENOSPC), on a small tmpfs --------------------------------------------- */

/* In a child with its own mount namespace (the mount disappears with it): a 64 KB tmpfs at
 * `mnt`, then `cmd` run by the shell with its output in `log`. The child's exit status is the
 * command's, or 77 when mounting is not permitted (not root, or no user namespaces). */
static int run_on_full_disk(const char *mnt, const char *cmd, const char *log)
{
    pid_t pid = fork();
    sgs_assert_cmp(pid, >=, 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0)
            _exit(77);
        char full[4096];
        snprintf(full, sizeof full, "%s > '%s' 2>&1", cmd, log);
        int status = system(full);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 126);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_full_disk_is_one_line_naming_the_file(void **state)
{
    (void)state;
    char mnt[512], log[512], cmd[4096];
    snprintf(mnt, sizeof mnt, "%s/full", dir);
    snprintf(log, sizeof log, "%s/full.log", dir);
    mkdir(mnt, 0755);
    /* the results (300 KB) on the full disk */
    snprintf(cmd, sizeof cmd, "'%s' run -q -i '%s' -o '%s/results.h5'", SGS_TEST_BINARY, input,
             mnt);
    int status = run_on_full_disk(mnt, cmd, log);
    if (status == 77)
        skip(); /* mounting a tmpfs is not permitted here */
    char *out = sgs_test_read_file(log, NULL), want[700];
    assert_non_null(out);
    snprintf(want, sizeof want, "%s/results.h5: no space left on device", mnt);
    if (status != 74)
        fail_msg("run on a full disk: exit %d\n%s", status, out);
    assert_one_line_with(out, want, "run on a full disk");
    free(out);
    /* A CSV configured onto a full disk is no longer a case of its own: every output is
     * written into the results' generation folder and only a link goes elsewhere
     * (docs/publishing.md), so the results' disk is the one that fills. */
    /* import onto the full disk (after a filler: the import is 40 KB) */
    snprintf(cmd, sizeof cmd,
             "head -c 50000 /dev/zero > '%s/filler' && '%s' import -q -i '%s' -o "
             "'%s/imported.h5' --customer customer --time date --amount amount",
             mnt, SGS_TEST_BINARY, csv, mnt);
    status = run_on_full_disk(mnt, cmd, log);
    out = sgs_test_read_file(log, NULL);
    assert_non_null(out);
    snprintf(want, sizeof want, "%s/imported.h5: no space left on device", mnt);
    if (status != 74)
        fail_msg("import on a full disk: exit %d\n%s", status, out);
    assert_one_line_with(out, want, "import on a full disk");
    free(out);
}

/* ---- A full standard output ------------------------------------------------------------- */

/* `segscore inspect x.h5 > file` on a full disk lost the report and exited 0. */
static void test_full_standard_output_is_an_error(void **state)
{
    (void)state;
    char args[1024], out[4096];
    sgs_test_limits_t none = {.timeout_s = 120};
    snprintf(args, sizeof args, "inspect '%s' >/dev/full", input);
    assert_int_equal(sgs_test_run_limited(&none, args, out, sizeof out), 74);
    assert_one_line_with(out, "segscore: error: standard output: no space left on device",
                         "inspect >/dev/full");
    assert_int_equal(sgs_test_run_limited(&none, "config --defaults >/dev/full", out, sizeof out),
                     74);
    assert_one_line_with(out, "segscore: error: standard output: no space left on device",
                         "config >/dev/full");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_space_limits),
        cmocka_unit_test(test_failing_allocations_sampled),
        cmocka_unit_test(test_file_size_limit_is_one_line_naming_the_file),
        cmocka_unit_test(test_full_disk_is_one_line_naming_the_file),
        cmocka_unit_test(test_full_standard_output_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
