/*
 * tests/e2e/test_run_publish.c — where and how `segscore run` publishes (docs/publishing.md):
 * outputs never replace inputs or each other, unusable paths are refused before any work, one
 * run at a time per output set, signals and kills at known points of a run (the
 * SGS_TEST_PAUSE_AT hook), a failed flush of the third output (SGS_TEST_FAIL_FSYNC_AT), and
 * the first run over plain files of earlier versions. Every case checks the exit status, the
 * message, the previous outputs byte for byte, and that nothing temporary is left. Last, the
 * outputs written past the page cache (the default) and through it (output.direct_io=false)
 * are the same.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[256];
static char demo[512];

/* Every output of a run, by its default name beside the results. */
static const char *const names[] = {"results.h5", "customers.csv", "opportunities.csv",
                                    "report.txt", "report.html",   "summary.json"};
#define N_NAMES (sizeof names / sizeof names[0])

/* A quick run: one thread, no backtest, k given (the publishing does not depend on them). */
#define FAST "--threads 1 --model bgnbd --set value.backtest=false --set segments.k=3"
/* "Today": the same input with another configuration, so that every output differs. */
#define TODAY "--set rfm.bins=4"

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("e2e-publish", dir, sizeof dir);
    snprintf(demo, sizeof demo, "%s/demo.h5", dir);
    char args[1024], out[8192];
    snprintf(args, sizeof args, "generate --customers 1000 --seed 7 -o '%s'", demo);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        print_error("generate failed: %s\n", out);
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

/* ---- helpers ---------------------------------------------------------------------------- */

/* A fresh folder <dir>/<name> (emptied if it exists); its path into out. */
static void fresh_folder(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", dir, name);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", out, out);
    assert_int_equal(system(cmd), 0);
}

/* segscore run -q FAST -i demo -o <folder>/results.h5 <extra>; the exit status. */
static int run_into(const char *folder, const char *extra, char *msg, size_t msg_size)
{
    char args[4096];
    snprintf(args, sizeof args, "run -q " FAST " -i '%s' -o '%s/results.h5' %s", demo, folder,
             extra);
    return sgs_test_run(args, msg, msg_size);
}

/* Copy the bytes every output path shows now into <dir>/<snap> (plain files). */
static void snapshot(const char *folder, const char *snap, char *out, size_t size)
{
    fresh_folder(snap, out, size);
    char cmd[2048];
    for (size_t i = 0; i < N_NAMES; i++) {
        snprintf(cmd, sizeof cmd, "cp -L '%s/%s' '%s/%s'", folder, names[i], out, names[i]);
        assert_int_equal(system(cmd), 0);
    }
}

/* Every output path of folder shows the bytes of the same file in snap. */
static void assert_set_equals(const char *folder, const char *snap, const char *when)
{
    for (size_t i = 0; i < N_NAMES; i++) {
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", folder, names[i]);
        snprintf(b, sizeof b, "%s/%s", snap, names[i]);
        char why[128];
        if (sgs_test_files_differ(a, b, why, sizeof why))
            fail_msg("%s: %s differs from %s (%s)", when, a, b, why);
    }
}

/* The outputs are today's: the deterministic ones equal a reference run of today's
 * configuration, and the summary (which has timings) is today's configuration. */
static void assert_set_is_today(const char *folder, const char *reference, const char *when)
{
    for (size_t i = 0; i + 1 < N_NAMES; i++) {
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", folder, names[i]);
        snprintf(b, sizeof b, "%s/%s", reference, names[i]);
        char why[128];
        if (sgs_test_files_differ(a, b, why, sizeof why))
            fail_msg("%s: %s is not today's (%s: %s)", when, a, b, why);
    }
    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", folder);
    char *summary = sgs_test_read_file(path, NULL);
    assert_non_null(summary);
    if (!strstr(summary, "\"bins\":\t4"))
        fail_msg("%s: %s is not today's", when, path);
    free(summary);
}

/* Number of generation folders in folder's state folder. */
static int count_generations(const char *folder)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "exit $(ls -d '%s/.results.h5.segscore'/gen-* 2>/dev/null | wc -l)",
             folder);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Start `segscore <args>` paused at <point> (sgs_test_start_paused); its stderr goes to
 * <dir>/paused.txt. Returns its pid. */
static pid_t start_paused(const char *args, const char *point)
{
    char log[512];
    snprintf(log, sizeof log, "%s/paused.txt", dir);
    return sgs_test_start_paused(args, point, log);
}

static int signal_and_wait(pid_t pid, int sig)
{
    return sgs_test_signal_and_wait(pid, sig);
}

/* ---- outputs never touch inputs ------------------------------------------------------------ */

/* -o onto the input, directly, through a symlink and through a hard link; an output on the
 * input, on the configuration file, on another output: 64 naming both, and nothing written. */
static void test_outputs_never_replace_inputs(void **state)
{
    (void)state;
    char work[512], cmd[4096], in[600], link[600], hard[600], cfg[600], out[8192];
    fresh_folder("inputs", work, sizeof work);
    snprintf(in, sizeof in, "%s/in.h5", work);
    snprintf(link, sizeof link, "%s/link.h5", work);
    snprintf(hard, sizeof hard, "%s/hard.h5", work);
    snprintf(cfg, sizeof cfg, "%s/config.json", work);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && ln -s in.h5 '%s' && ln '%s' '%s'", demo, in, link,
             in, hard);
    assert_int_equal(system(cmd), 0);
    sgs_test_write_file(cfg, "{\"rfm\": {\"bins\": 4}}\n");
    const struct {
        const char *input, *results, *extra, *message;
    } cases[] = {
        {in, in, "", "is the input"},
        {in, link, "", "is the input"},
        {in, hard, "", "is the input"},
        {link, hard, "", "is the input"},
        {in, "@/r.h5", "--set output.customers_csv=@/in.h5", "output.customers_csv"},
        {in, "@/r.h5", "--set output.summary_json=@/r.h5", "output.summary_json"},
        {in, "@/r.h5", "--set output.customers_csv=@/report.txt", "output.report"},
        {in, "@/r.h5", "--set output.report=@/link.h5", "is the input"},
        {in, "@/r.h5", "--set output.report_html=@/link.h5", "is the input"},
        {in, "@/r.h5", "--set output.report_html=@/report.txt", "output.report_html"},
        {in, "@/r.h5", "-c @/config.json --set output.report=@/config.json", "configuration"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char results[700], extra[1400] = "", args[4096];
        snprintf(results, sizeof results, "%s%s", cases[i].results[0] == '@' ? work : "",
                 cases[i].results + (cases[i].results[0] == '@'));
        for (const char *c = cases[i].extra; *c; c++) { /* "@" is the folder */
            size_t used = strlen(extra);
            if (*c == '@')
                snprintf(extra + used, sizeof extra - used, "%s", work);
            else
                snprintf(extra + used, sizeof extra - used, "%c", *c);
        }
        snprintf(args, sizeof args, "run " FAST " -i '%s' -o '%s' %s", cases[i].input, results,
                 extra);
        int status = sgs_test_run(args, out, sizeof out);
        if (status != 64 || !strstr(out, cases[i].message) || !strstr(out, work))
            fail_msg("case %zu (%s): expected 64 naming \"%s\", got %d: %s", i, args,
                     cases[i].message, status, out);
        if (strstr(out, "segscore: read")) /* refused before any work */
            fail_msg("case %zu: the run started: %s", i, out);
        char why[128];
        if (sgs_test_files_differ(in, demo, why, sizeof why))
            fail_msg("case %zu: the input changed (%s)", i, why);
        snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 4", work);
        if (system(cmd) != 0)
            fail_msg("case %zu: something was created in %s", i, work);
    }
    /* The same code serves evaluate (-o and --json) and import. */
    snprintf(cmd, sizeof cmd, "evaluate -i '%s' --calibration-end 2023-01-01 -o '%s'", in, link);
    assert_int_equal(sgs_test_run(cmd, out, sizeof out), 64);
    sgs_assert_contains(out, "is the input");
    snprintf(cmd, sizeof cmd,
             "evaluate -i '%s' --calibration-end 2023-01-01 -o '%s/e.h5' --json '%s/e.h5'", in,
             work, work);
    assert_int_equal(sgs_test_run(cmd, out, sizeof out), 64);
    sgs_assert_contains(out, "the same file");
    snprintf(cmd, sizeof cmd, "import -i '%s' -o '%s' --customer 1 --time 2 --amount 3", cfg, cfg);
    assert_int_equal(sgs_test_run(cmd, out, sizeof out), 64);
    sgs_assert_contains(out, "is the input");
    sgs_assert_files_equal(in, demo);
}

/* Empty, folder, missing folder, a pipe: refused before any work (64 or 73). */
static void test_unusable_paths_refused_before_work(void **state)
{
    (void)state;
    char work[512], fifo[600], out[8192], args[4096];
    fresh_folder("unusable", work, sizeof work);
    snprintf(fifo, sizeof fifo, "%s/pipe", work);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const struct {
        const char *results, *extra;
        int status;
        const char *message;
    } cases[] = {
        {"", "", 64, "the output path is empty"},
        {"@", "", 73, "is a folder"},
        {"@/", "", 73, "is a folder"},
        {"@/missing/r.h5", "", 73, "output folder"},
        {"@/r.h5", "--set output.report=@/missing/report.txt", 73, "output folder"},
        {"@/pipe", "", 73, "not a file"},
        {"@/r.h5", "--set output.summary_json=@/pipe", 73, "not a file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char results[700], extra[1400];
        snprintf(results, sizeof results, "%s%s", cases[i].results[0] == '@' ? work : "",
                 cases[i].results + (cases[i].results[0] == '@'));
        const char *at = strchr(cases[i].extra, '@');
        if (at)
            snprintf(extra, sizeof extra, "%.*s%s%s", (int)(at - cases[i].extra), cases[i].extra,
                     work, at + 1);
        else
            snprintf(extra, sizeof extra, "%s", cases[i].extra);
        snprintf(args, sizeof args, "run " FAST " -i '%s' -o '%s' %s", demo, results, extra);
        int status = sgs_test_run(args, out, sizeof out);
        if (status != cases[i].status || !strstr(out, cases[i].message))
            fail_msg("case %zu (%s): expected %d with \"%s\", got %d: %s", i, args, cases[i].status,
                     cases[i].message, status, out);
        if (strstr(out, "segscore: read"))
            fail_msg("case %zu: the run started: %s", i, out);
    }
    snprintf(args, sizeof args, "test $(ls -A '%s' | wc -l) -eq 1", work);
    assert_int_equal(system(args), 0);
    /* generate and evaluate say the same before their work. */
    assert_int_equal(sgs_test_run("generate --customers 10 -o ''", out, sizeof out), 64);
    snprintf(args, sizeof args, "evaluate -i '%s' --calibration-end 2023-01-01 --json '%s'", demo,
             work);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 73);
    sgs_assert_not_contains(out, "segscore: read");
}

/* ---- one run at a time ----------------------------------------------------------------------- */

/* The lock held (by this process, with the call segscore uses, and the lock file written as a
 * run writes it): 75 at once, naming this pid, nothing changed. A lock file left by a process
 * that is gone is taken over. */
static void test_second_run_on_the_same_outputs_exits_75(void **state)
{
    (void)state;
    char work[512], snap[512], lock[700], out[8192];
    fresh_folder("lock", work, sizeof work);
    assert_int_equal(run_into(work, "", out, sizeof out), 0);
    snapshot(work, "lock-snap", snap, sizeof snap);

    snprintf(lock, sizeof lock, "%s/.results.h5.segscore/lock", work);
    int fd = open(lock, O_RDWR);
    sgs_assert_cmp(fd, >=, 0);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    assert_int_equal(fcntl(fd, F_SETLK, &fl), 0);
    /* as a run that holds it writes it: its pid and its command (io/output_lock.h) */
    char holder[64];
    int len = snprintf(holder, sizeof holder, "%ld run\n", (long)getpid());
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, holder, (size_t)len, 0), len);
    time_t t0 = time(NULL);
    int status = run_into(work, TODAY, out, sizeof out);
    char pid[32];
    snprintf(pid, sizeof pid, "(pid %ld)", (long)getpid());
    if (status != 75 || !strstr(out, pid) || !strstr(out, "another segscore run"))
        fail_msg("expected 75 naming %s, got %d: %s", pid, status, out);
    sgs_assert_cmp(time(NULL) - t0, <, 10); /* at once, not after the work */
    assert_set_equals(work, snap, "locked");
    sgs_test_assert_no_leftovers(work);
    close(fd); /* releases the lock */

    /* A stale lock file: its pid is of a process long gone, and no lock is held. */
    sgs_test_write_file(lock, "999999999\n");
    assert_int_equal(run_into(work, TODAY, out, sizeof out), 0);
    char *text = sgs_test_read_file(lock, NULL);
    assert_non_null(text);
    sgs_assert_not_contains(text, "999999999");
    sgs_assert_cmp(strtol(text, NULL, 10), >, 0);
    free(text);
    sgs_test_assert_no_leftovers(work);
}

/* ---- signals and kills ---------------------------------------------------------------------- */

/* SIGINT, SIGTERM and SIGHUP at several points: 130, 143, 129, "stopped by", the previous
 * outputs byte for byte, no temporary and no new generation. A signal after the switch lets
 * the run finish: today's outputs, exit 0. */
static void test_signals_stop_the_run_and_keep_previous_outputs(void **state)
{
    (void)state;
    char work[512], snap[512], args[4096], out[8192];
    fresh_folder("signals", work, sizeof work);
    assert_int_equal(run_into(work, "", out, sizeof out), 0);
    snapshot(work, "signals-snap", snap, sizeof snap);
    int n_gen = count_generations(work);
    snprintf(args, sizeof args, "run " FAST " " TODAY " -i '%s' -o '%s/results.h5'", demo, work);
    /* the points inside a step (the read's chunks, a fit's iterations) say where they stop */
    static const struct {
        const char *point, *where;
    } points[] = {{"read", ""},     {"read-chunks", "while reading the input"},
                  {"value", ""},    {"fit", "during a model fit"},
                  {"segments", ""}, {"write-customers", ""},
                  {"actions", ""},  {"opportunities", ""},
                  {"write", ""},    {"written", ""}};
    static const struct {
        int sig, status;
        const char *name;
    } sigs[] = {{SIGTERM, 143, "SIGTERM"}, {SIGINT, 130, "SIGINT"}, {SIGHUP, 129, "SIGHUP"}};
    char log[512];
    snprintf(log, sizeof log, "%s/paused.txt", dir);
    for (size_t p = 0; p < sizeof points / sizeof points[0]; p++)
        for (size_t s = 0; s < sizeof sigs / sizeof sigs[0]; s++) {
            pid_t pid = start_paused(args, points[p].point);
            int status = signal_and_wait(pid, sigs[s].sig);
            char *text = sgs_test_read_file(log, NULL);
            char want[64];
            snprintf(want, sizeof want, "stopped by %s", sigs[s].name);
            if (status != sigs[s].status || !text || !strstr(text, want) ||
                !strstr(text, points[p].where))
                fail_msg("%s at %s: expected %d with \"%s\" %s, got %d: %s", sigs[s].name,
                         points[p].point, sigs[s].status, want, points[p].where, status,
                         text ? text : "");
            free(text);
            assert_set_equals(work, snap, points[p].point);
            sgs_test_assert_no_leftovers(work);
            assert_int_equal(count_generations(work), n_gen);
        }

    /* With two threads results.h5's models' part is written on a thread of its own while the
     * segment step runs, its stages' part while the opportunity step runs: stopped there, the
     * run waits for that write and removes it too. */
    snprintf(args, sizeof args,
             "run --threads 2 --model bgnbd --set value.backtest=false --set segments.k=3 " TODAY
             " -i '%s' -o '%s/results.h5'",
             demo, work);
    static const char *const ahead[] = {"segments", "opportunities"};
    for (size_t a = 0; a < 2; a++)
        for (size_t s = 0; s < sizeof sigs / sizeof sigs[0]; s++) {
            int status = signal_and_wait(start_paused(args, ahead[a]), sigs[s].sig);
            sgs_assert_cmp(status, ==, sigs[s].status);
            assert_set_equals(work, snap, ahead[a]);
            sgs_test_assert_no_leftovers(work);
            assert_int_equal(count_generations(work), n_gen);
        }

    char reference[512];
    fresh_folder("signals-today", reference, sizeof reference);
    assert_int_equal(run_into(reference, TODAY, out, sizeof out), 0);
    pid_t pid = start_paused(args, "switched");
    assert_int_equal(signal_and_wait(pid, SIGTERM), 0);
    assert_set_is_today(work, reference, "SIGTERM after the switch");
    sgs_test_assert_no_leftovers(work);
}

/* kill -9 between the new generation written and the switch, and right after the switch: the
 * outputs are all yesterday's, or all today's; the next run cleans up. A reader that opened a
 * file before keeps reading yesterday's bytes. */
static void test_kill_9_around_the_switch(void **state)
{
    (void)state;
    char work[512], snap[512], reference[512], args[4096], out[8192], path[700];
    fresh_folder("kill", work, sizeof work);
    fresh_folder("kill-today", reference, sizeof reference);
    assert_int_equal(run_into(reference, TODAY, out, sizeof out), 0);
    assert_int_equal(run_into(work, "", out, sizeof out), 0);
    snapshot(work, "kill-snap", snap, sizeof snap);
    snprintf(args, sizeof args, "run " FAST " " TODAY " -i '%s' -o '%s/results.h5'", demo, work);

    /* Killed before the switch: yesterday's set; the unfinished generation is left ... */
    int n_gen = count_generations(work);
    assert_int_equal(signal_and_wait(start_paused(args, "written"), SIGKILL), 128 + SIGKILL);
    assert_set_equals(work, snap, "kill -9 before the switch");
    assert_int_equal(count_generations(work), n_gen + 1);
    /* ... and removed by the next run, which says so. */
    snprintf(path, sizeof path, "%s/customers.csv", work);
    FILE *reader = fopen(path, "rb");
    assert_non_null(reader);
    char args2[4096];
    snprintf(args2, sizeof args2, "run " FAST " " TODAY " -i '%s' -o '%s/results.h5'", demo, work);
    assert_int_equal(sgs_test_run(args2, out, sizeof out), 0);
    sgs_assert_contains(out, "a stopped run");
    sgs_test_assert_no_leftovers(work);
    assert_set_is_today(work, reference, "the run after");
    /* The reader's open file is still yesterday's. */
    char expected_path[700];
    snprintf(expected_path, sizeof expected_path, "%s/customers.csv", snap);
    size_t n_expected;
    char *expected = sgs_test_read_file(expected_path, &n_expected);
    char *got = malloc(n_expected + 1);
    assert_non_null(got);
    assert_int_equal(fread(got, 1, n_expected + 1, reader), n_expected);
    assert_memory_equal(got, expected, n_expected);
    fclose(reader);
    free(got);
    free(expected);

    /* Killed right after the switch: today's set; the next run removes the old generation. */
    assert_int_equal(run_into(work, "", out, sizeof out), 0);
    snapshot(work, "kill-snap", snap, sizeof snap);
    assert_int_equal(signal_and_wait(start_paused(args, "switched"), SIGKILL), 128 + SIGKILL);
    assert_set_is_today(work, reference, "kill -9 after the switch");
    assert_int_equal(count_generations(work), 3);
    assert_int_equal(run_into(work, TODAY, out, sizeof out), 0);
    sgs_test_assert_no_leftovers(work);
    assert_set_is_today(work, reference, "the run after");
}

/* ---- a failed write ----------------------------------------------------------------------------
 */

/* The flush of the third output (opportunities.csv) fails: 74 naming it, yesterday's set. */
static void test_failed_flush_of_the_third_output(void **state)
{
    (void)state;
    char work[512], snap[512], out[8192];
    fresh_folder("fsync", work, sizeof work);
    assert_int_equal(run_into(work, "", out, sizeof out), 0);
    snapshot(work, "fsync-snap", snap, sizeof snap);
    int n_gen = count_generations(work);
    static const struct {
        const char *at, *message;
    } cases[] = {{"3", "opportunities.csv: flushing to disk failed"},
                 {"1", "results.h5: flushing to disk failed"},
                 {"7", "flushing to disk failed"}}; /* 7: the generation's folder */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("SGS_TEST_FAIL_FSYNC_AT", cases[i].at, 1);
        int status = run_into(work, TODAY, out, sizeof out);
        unsetenv("SGS_TEST_FAIL_FSYNC_AT");
        if (status != 74 || !strstr(out, cases[i].message))
            fail_msg("fsync %s: expected 74 with \"%s\", got %d: %s", cases[i].at, cases[i].message,
                     status, out);
        assert_set_equals(work, snap, "failed flush");
        sgs_test_assert_no_leftovers(work);
        assert_int_equal(count_generations(work), n_gen);
    }
}

/* ---- from plain files -------------------------------------------------------------------------
 */

/* The first run over the plain files of an earlier version (one output in another folder,
 * temporaries of a killed run beside them): killed before its switch it leaves the plain
 * files' bytes at every path; the next run publishes today's set, removes the temporaries,
 * and every path is a link into the state folder. */
static void test_first_run_over_plain_files(void **state)
{
    (void)state;
    char work[512], other[512], snap[512], reference[512], cmd[4096], args[4096], out[8192];
    fresh_folder("plain", work, sizeof work);
    fresh_folder("plain-report", other, sizeof other);
    fresh_folder("plain-today", reference, sizeof reference);
    assert_int_equal(run_into(reference, TODAY, out, sizeof out), 0);
    /* Yesterday, as an earlier version left it: plain files, and two temporaries. */
    char yesterday[512];
    fresh_folder("plain-yesterday", yesterday, sizeof yesterday);
    assert_int_equal(run_into(yesterday, "", out, sizeof out), 0);
    snapshot(yesterday, "plain-snap", snap, sizeof snap);
    snprintf(cmd, sizeof cmd,
             "cp '%s'/* '%s' && mv '%s/report.txt' '%s/report.txt' && "
             "touch '%s/.results.h5.tmp-a1B2c3' '%s/.report.txt.tmp-XyZ123'",
             snap, work, work, other, work, other);
    assert_int_equal(system(cmd), 0);
    char extra[700];
    snprintf(extra, sizeof extra, "--set output.report='%s/report.txt'", other);
    snprintf(args, sizeof args, "run " FAST " " TODAY " -i '%s' -o '%s/results.h5' %s", demo, work,
             extra);

    assert_int_equal(signal_and_wait(start_paused(args, "written"), SIGKILL), 128 + SIGKILL);
    char path[700], want[700];
    for (size_t i = 0; i < N_NAMES; i++) {
        snprintf(path, sizeof path, "%s/%s", i == 3 ? other : work, names[i]);
        snprintf(want, sizeof want, "%s/%s", snap, names[i]);
        if (!sgs_test_files_equal(path, want))
            fail_msg("killed while adopting plain files: %s changed", path);
    }

    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    for (size_t i = 0; i < N_NAMES; i++) {
        snprintf(path, sizeof path, "%s/%s", i == 3 ? other : work, names[i]);
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        if (!S_ISLNK(st.st_mode))
            fail_msg("%s is not a link into the state folder", path);
        /* The results file and the summary hold the configuration, report path included. */
        int same_config = i != 0 && i + 1 < N_NAMES;
        snprintf(want, sizeof want, "%s/%s", same_config ? reference : snap, names[i]);
        if (sgs_test_files_equal(path, want) != same_config)
            fail_msg("%s is not today's", path);
    }
    sgs_test_assert_no_leftovers(work);
    sgs_test_assert_no_leftovers(other);
}

/* ---- past the page cache or through it ---------------------------------------------------
 */

#define ATTR_LIST_SIZE 4096

static herr_t add_name(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)loc;
    (void)info;
    size_t used = strlen(data);
    snprintf((char *)data + used, ATTR_LIST_SIZE - used, "%s,", name);
    return 0;
}

/* The names of the root attributes of the open file f, in name order, each followed by ','. */
static void root_attribute_names(hid_t f, char list[ATTR_LIST_SIZE])
{
    list[0] = '\0';
    hsize_t at = 0;
    assert_true(H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, &at, add_name, list) >= 0);
    sgs_assert_cmp(strlen(list) + 1, <, ATTR_LIST_SIZE); /* not cut */
}

/* The root attribute `name` of f as text: a string's value, a number's with %.17g. */
static void root_attribute(hid_t f, const char *name, char *buf, size_t size)
{
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    assert_true(a >= 0);
    hid_t t = H5Aget_type(a);
    H5T_class_t c = H5Tget_class(t);
    H5Tclose(t);
    H5Aclose(a);
    sgs_error_t err = {0};
    if (c == H5T_STRING) {
        if (sgs_h5_attr_read_string(f, "/", name, buf, size, &err) != SGS_OK)
            fail_msg("/@%s: %s", name, err.message);
        sgs_assert_cmp(strlen(buf) + 1, <, size); /* not cut */
    } else {
        double v = 0;
        if (sgs_h5_attr_read_double(f, "/", name, &v, &err) != SGS_OK)
            fail_msg("/@%s: %s", name, err.message);
        snprintf(buf, size, "%.17g", v);
    }
}

/* output.direct_io (io/direct_file.h; docs/publishing.md, "Past the page cache"): a run with
 * it false writes through the page cache the bytes the default's direct writes put on disk.
 * customers.csv, opportunities.csv, report.txt and report.html byte for byte (summary.json has
 * timings); results.h5 by h5diff, every dataset and every attribute but the root's, which are
 * compared here: the same names, the same values but `config`, whose JSON differs in
 * output.direct_io alone. The outputs are large enough (above 100 KB) for the direct writes to
 * have aligned middles. Where the test folder's file system refuses O_DIRECT both runs write
 * through the cache (said here, not a failure): tests/unit/test_direct_file.c covers that. */
static void test_direct_io_writes_the_same_bytes(void **state)
{
    (void)state;
    char direct[512], cached[512], out[8192], a[700], b[700];
    fresh_folder("direct", direct, sizeof direct);
    fresh_folder("cached", cached, sizeof cached);
    snprintf(a, sizeof a, "%s/probe", direct);
    int fd = open(a, O_WRONLY | O_CREAT | O_DIRECT, 0644);
    if (fd < 0)
        print_message("%s: O_DIRECT refused (%s): both runs write through the page cache\n", direct,
                      strerror(errno));
    else
        close(fd);
    unlink(a);
    if (run_into(direct, "", out, sizeof out) != 0)
        fail_msg("the default run failed: %s", out);
    if (run_into(cached, "--set output.direct_io=false", out, sizeof out) != 0)
        fail_msg("the run with output.direct_io=false failed: %s", out);

    for (size_t i = 1; i + 1 < N_NAMES; i++) { /* all but results.h5 and summary.json */
        snprintf(a, sizeof a, "%s/%s", direct, names[i]);
        snprintf(b, sizeof b, "%s/%s", cached, names[i]);
        sgs_assert_files_equal(a, b);
    }

    snprintf(a, sizeof a, "%s/results.h5", direct);
    snprintf(b, sizeof b, "%s/results.h5", cached);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "h5diff -c --exclude-attribute / '%s' '%s'", a, b);
    if (sgs_test_shell(cmd, out, sizeof out) != 0)
        fail_msg("results.h5 differs: %s", out);
    hid_t fa = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT),
          fb = H5Fopen(b, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(fa >= 0 && fb >= 0);
    char names_a[ATTR_LIST_SIZE], names_b[ATTR_LIST_SIZE];
    root_attribute_names(fa, names_a);
    root_attribute_names(fb, names_b);
    assert_string_equal(names_a, names_b);
    sgs_assert_contains(names_a, "config,");
    enum { TEXT = 1 << 16 };
    char *va = malloc(TEXT), *vb = malloc(TEXT);
    assert_true(va && vb);
    for (char *name = names_a, *comma; (comma = strchr(name, ',')) != NULL; name = comma + 1) {
        *comma = '\0';
        root_attribute(fa, name, va, TEXT);
        root_attribute(fb, name, vb, TEXT);
        if (strcmp(name, "config") != 0) {
            if (strcmp(va, vb) != 0)
                fail_msg("/@%s: \"%s\" past the page cache, \"%s\" through it", name, va, vb);
            continue;
        }
        cJSON *ca = cJSON_Parse(va), *cb = cJSON_Parse(vb);
        assert_true(ca && cb);
        cJSON *oa = cJSON_GetObjectItemCaseSensitive(ca, "output");
        cJSON *ob = cJSON_GetObjectItemCaseSensitive(cb, "output");
        sgs_assert_json(cJSON_IsTrue, cJSON_GetObjectItemCaseSensitive(oa, "direct_io"));
        sgs_assert_json(cJSON_IsFalse, cJSON_GetObjectItemCaseSensitive(ob, "direct_io"));
        cJSON_DeleteItemFromObjectCaseSensitive(oa, "direct_io");
        cJSON_DeleteItemFromObjectCaseSensitive(ob, "direct_io");
        if (!cJSON_Compare(ca, cb, 1))
            fail_msg("/@config differs in more than output.direct_io:\n%s\n%s", va, vb);
        cJSON_Delete(ca);
        cJSON_Delete(cb);
    }
    free(va);
    free(vb);
    H5Fclose(fa);
    H5Fclose(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_never_replace_inputs),
        cmocka_unit_test(test_unusable_paths_refused_before_work),
        cmocka_unit_test(test_second_run_on_the_same_outputs_exits_75),
        cmocka_unit_test(test_signals_stop_the_run_and_keep_previous_outputs),
        cmocka_unit_test(test_kill_9_around_the_switch),
        cmocka_unit_test(test_failed_flush_of_the_third_output),
        cmocka_unit_test(test_first_run_over_plain_files),
        cmocka_unit_test(test_direct_io_writes_the_same_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
