/*
 * tests/e2e/test_commands_signals_locks.c — the guarantees `run` gives its outputs, for the
 * commands that write files one by one: import, generate, kmeans, evaluate and measure (HDF5
 * and JSON)
 * (docs/publishing.md, "Other commands"). For each command:
 *  - SIGINT, SIGTERM and SIGHUP at its pause points (SGS_TEST_PAUSE_AT, with a temporary on
 *    disk): exit 130, 143, 129, "segscore <command>: stopped by SIG...", the previous output
 *    byte for byte, no temporary left;
 *  - a second command writing the same output, while the first holds it: 75 at once, naming
 *    the first one's command and pid, nothing changed; the first goes on untroubled;
 *  - a lock file left by a process that is gone: taken over;
 *  - kill -9 at a pause point leaves the temporary (for two outputs, the unpublished generation
 *    of their set); the next command on the output removes it, says so, and writes today's;
 *  - a failing flush of either of two outputs (SGS_TEST_FAIL_FSYNC_AT) exits 74 with both
 *    outputs as they were: the pair is published together, never one of each.
 * And: an import of an endless stream stops within a second of SIGTERM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/test_support.h"

#include "io/h5_matrix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[256];
static char log_path[512];

/* The inputs, made once in dir: transactions for evaluate, yesterday's and today's text for
 * import (over 1024 rows, so that the import pauses between rows), a matrix for k-means. */
static char demo[512], csv_yesterday[512], csv_today[512], matrix[512];

/* ---- the commands ------------------------------------------------------------------------- */

/* One command: how it writes yesterday's outputs and today's, into folder "@" (replaced by the
 * work folder), the outputs' names, and the points where it can be paused with a temporary
 * on disk (or, for evaluate-fit, before any). */
typedef struct command {
    const char *name;
    const char *yesterday, *today; /* arguments; '@' is the work folder, '%' the input folder */
    const char *outputs[2];        /* file names in the work folder; NULL ends */
    const char *points[2];         /* SGS_TEST_PAUSE_AT points; NULL ends */
} command_t;

static const command_t commands[] = {
    {"import",
     "import -i %/yesterday.csv -o @/out.h5 --customer cust --time when --amount amount",
     "import -i %/today.csv -o @/out.h5 --customer cust --time when --amount amount",
     {"out.h5", NULL},
     {"import-rows", NULL}},
    {"generate",
     "generate --customers 1000 --seed 1 -o @/out.h5",
     "generate --customers 1000 --seed 2 -o @/out.h5",
     {"out.h5", NULL},
     {"generate-blocks", NULL}},
    {"kmeans",
     "kmeans -i %/matrix.h5 --k 3 --seed 1 -o @/out.h5",
     "kmeans -i %/matrix.h5 --k 4 --seed 2 -o @/out.h5",
     {"out.h5", NULL},
     {"kmeans-fit", "kmeans-written"}},
    {"evaluate",
     "evaluate -i %/demo.h5 --calibration-end 2022-12-31 --models bgnbd -o @/eval.h5 "
     "--json @/eval.json",
     "evaluate -i %/demo.h5 --calibration-end 2022-10-31 --models bgnbd -o @/eval.h5 "
     "--json @/eval.json",
     {"eval.h5", "eval.json"},
     {"evaluate-fit", "evaluate-written"}},
    {"measure",
     "measure -r %/list/results.h5 -i %/demo.h5 --days 30 -o @/m.h5 --json @/m.json",
     "measure -r %/list/results.h5 -i %/demo.h5 --days 60 -o @/m.h5 --json @/m.json",
     {"m.h5", "m.json"},
     {"measure-outcomes", "measure-written"}},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct {
    int sig, status;
    const char *name;
} signals[] = {{SIGTERM, 143, "SIGTERM"}, {SIGINT, 130, "SIGINT"}, {SIGHUP, 129, "SIGHUP"}};
#define N_SIGNALS (sizeof signals / sizeof signals[0])

/* `text` with '@' replaced by work and '%' by dir. */
static void expand(const char *text, const char *work, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *c = text; *c && used + 1 < size; c++) {
        int n = *c == '@'   ? snprintf(out + used, size - used, "'%s'", work)
                : *c == '%' ? snprintf(out + used, size - used, "'%s'", dir)
                            : snprintf(out + used, size - used, "%c", *c);
        sgs_assert_cmp(n, >, 0);
        sgs_assert_cmp((size_t)n, <, size - used);
        used += (size_t)n;
    }
}

/* ---- files ---------------------------------------------------------------------------------- */

/* A fresh folder <dir>/<name>; its path into out. */
static void fresh_folder(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", dir, name);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", out, out);
    assert_int_equal(system(cmd), 0);
}

/* Copy the command's outputs in work to <work>-snap (made afresh); its path into snap. */
static void snapshot(const command_t *c, const char *work, char *snap, size_t size)
{
    snprintf(snap, size, "%s-snap", work);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", snap, snap);
    assert_int_equal(system(cmd), 0);
    for (size_t i = 0; i < 2 && c->outputs[i]; i++) {
        snprintf(cmd, sizeof cmd, "cp '%s/%s' '%s/%s'", work, c->outputs[i], snap, c->outputs[i]);
        assert_int_equal(system(cmd), 0);
    }
}

/* Each output in work has the bytes of the same file in snap. */
static void assert_outputs_equal(const command_t *c, const char *work, const char *snap,
                                 const char *when)
{
    for (size_t i = 0; i < 2 && c->outputs[i]; i++) {
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", work, c->outputs[i]);
        snprintf(b, sizeof b, "%s/%s", snap, c->outputs[i]);
        char why[128];
        if (sgs_test_files_differ(a, b, why, sizeof why))
            fail_msg("%s %s: %s differs from %s (%s)", c->name, when, a, b, why);
    }
}

/* Generation folders "gen-*" in the state folder of output `name` in folder d. */
static int count_generations(const char *d, const char *name)
{
    char state[700];
    snprintf(state, sizeof state, "%s/.%s.segscore", d, name);
    DIR *dh = opendir(state);
    if (!dh)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL)
        n += strncmp(e->d_name, "gen-", 4) == 0;
    closedir(dh);
    return n;
}

/* Temporaries ".<name>.tmp-*" in folder d. */
static int count_temporaries(const char *d)
{
    DIR *dh = opendir(d);
    assert_non_null(dh);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL)
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(dh);
    return n;
}

/* Run `segscore <args with @ = work>`; the exit status, and its output into msg. */
static int run_command(const char *args, const char *work, char *msg, size_t msg_size)
{
    char expanded[4096];
    expand(args, work, expanded, sizeof expanded);
    return sgs_test_run(expanded, msg, msg_size);
}

/* Start `segscore <args with @ = work>` paused at point; its stderr into log_path. */
static pid_t start_paused(const char *args, const char *work, const char *point)
{
    char expanded[4096];
    expand(args, work, expanded, sizeof expanded);
    return sgs_test_start_paused(expanded, point, log_path);
}

/* The log of the last paused command contains `want`, else fail with the log. */
static void assert_log_has(const char *want, const char *when)
{
    char *text = sgs_test_read_file(log_path, NULL);
    if (!text || !strstr(text, want))
        fail_msg("%s: expected \"%s\" in: %s", when, want, text ? text : "(no log)");
    free(text);
}

/* ---- setup ------------------------------------------------------------------------------------
 */

/* A CSV of n rows, customer ids and amounts varied by `salt`. */
static void write_csv(const char *path, int n, int salt)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("cust,when,amount\n", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%d,2021-%02d-%02d,%d.25\n", 1 + (i * 7 + salt) % 500, 1 + i % 12, 1 + i % 28,
                (i + salt) % 90);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("e2e-cmd-signals", dir, sizeof dir);
    snprintf(log_path, sizeof log_path, "%s/paused.txt", dir);
    snprintf(demo, sizeof demo, "%s/demo.h5", dir);
    snprintf(csv_yesterday, sizeof csv_yesterday, "%s/yesterday.csv", dir);
    snprintf(csv_today, sizeof csv_today, "%s/today.csv", dir);
    snprintf(matrix, sizeof matrix, "%s/matrix.h5", dir);
    char args[1024], out[8192];
    snprintf(args, sizeof args, "generate -q --customers 1000 --seed 7 -o '%s'", demo);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        print_error("generate failed: %s\n", out);
        return -1;
    }
    /* the list measure reads: a run as of three months before the generated data end */
    char shell[4096];
    snprintf(shell, sizeof shell,
             "mkdir -p '%s/list' && '%s' run -q --threads 1 -i '%s' -o "
             "'%s/list/results.h5' --as-of 2024-03-31",
             dir, SGS_TEST_BINARY, demo, dir);
    if (sgs_test_shell(shell, out, sizeof out) != 0) {
        print_error("run failed: %s\n", out);
        return -1;
    }
    write_csv(csv_yesterday, 5000, 0);
    write_csv(csv_today, 6000, 3);
    size_t n = 3000, d = 3;
    double *x = malloc(n * d * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n * d; i++)
        x[i] = (double)(i % 5) * 1.5 + (double)((i * 2654435761u) % 1000) / 1000.0;
    sgs_h5_quiet();
    hid_t f = H5Fcreate(matrix, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    assert_int_equal(sgs_h5_write_matrix(f, "/X", x, n, d, NULL), 0);
    H5Fclose(f);
    free(x);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

/* ---- signals ------------------------------------------------------------------------------------
 */

/* Every command, every pause point, every stopping signal: its exit status, a one-line message
 * naming the signal, the previous outputs byte for byte, no temporary left. */
static void test_signals_keep_the_previous_output(void **state)
{
    (void)state;
    char out[8192];
    for (size_t k = 0; k < N_COMMANDS; k++) {
        const command_t *c = &commands[k];
        char work[512], snap[600], folder[64];
        snprintf(folder, sizeof folder, "signals-%s", c->name);
        fresh_folder(folder, work, sizeof work);
        if (run_command(c->yesterday, work, out, sizeof out) != 0)
            fail_msg("%s: yesterday's command failed: %s", c->name, out);
        snapshot(c, work, snap, sizeof snap);
        for (size_t p = 0; p < 2 && c->points[p]; p++)
            for (size_t s = 0; s < N_SIGNALS; s++) {
                char when[128], want[128];
                snprintf(when, sizeof when, "%s at %s", signals[s].name, c->points[p]);
                pid_t pid = start_paused(c->today, work, c->points[p]);
                int status = sgs_test_signal_and_wait(pid, signals[s].sig);
                snprintf(want, sizeof want, "segscore %s: stopped by %s ", c->name,
                         signals[s].name);
                if (status != signals[s].status)
                    fail_msg("%s %s: expected exit %d, got %d", c->name, when, signals[s].status,
                             status);
                assert_log_has(want, when);
                assert_log_has("the previous outputs are unchanged", when);
                assert_outputs_equal(c, work, snap, when);
                assert_int_equal(count_temporaries(work), 0);
                sgs_test_assert_no_leftovers(work);
            }
        /* Unpaused, today's command still replaces the outputs. */
        assert_int_equal(run_command(c->today, work, out, sizeof out), 0);
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", work, c->outputs[0]);
        snprintf(b, sizeof b, "%s/%s", snap, c->outputs[0]);
        if (sgs_test_files_equal(a, b))
            fail_msg("%s: today's output equals yesterday's", c->name);
    }
}

/* ---- one writer per output ----------------------------------------------------------------- */

/* While a command is paused holding its outputs, a second one writing the same output exits 75
 * at once, naming the first one's command and pid, and changes nothing; the first, once let
 * go, is stopped normally. "The same output" is any output in common: for evaluate the HDF5
 * file or the JSON file alone; across commands (import, then generate or run on its file). */
static void test_second_writer_exits_75_naming_the_first(void **state)
{
    (void)state;
    char out[8192], args[4096];
    for (size_t k = 0; k < N_COMMANDS; k++) {
        const command_t *c = &commands[k];
        char work[512], snap[600], folder[64];
        snprintf(folder, sizeof folder, "lock-%s", c->name);
        fresh_folder(folder, work, sizeof work);
        assert_int_equal(run_command(c->yesterday, work, out, sizeof out), 0);
        snapshot(c, work, snap, sizeof snap);
        pid_t first = start_paused(c->today, work, c->points[0]);
        char want[128];
        snprintf(want, sizeof want, "another segscore %s (pid %ld) is writing", c->name,
                 (long)first);
        const char *seconds[3] = {c->yesterday, NULL, NULL};
        if (strcmp(c->name, "evaluate") == 0) { /* one output in common is enough */
            seconds[1] = "evaluate -i %/demo.h5 --calibration-end 2022-12-31 --models bgnbd "
                         "--json @/eval.json";
            seconds[2] = "evaluate -i %/demo.h5 --calibration-end 2022-12-31 --models bgnbd "
                         "-o @/eval.h5 --json @/other.json";
        }
        if (strcmp(c->name, "import") == 0) { /* another command on the same file */
            seconds[1] = "generate --customers 10 -o @/out.h5";
            seconds[2] = "run --threads 1 --model none -i %/demo.h5 -o @/out.h5";
        }
        for (size_t i = 0; i < 3 && seconds[i]; i++) {
            time_t t0 = time(NULL);
            int status = run_command(seconds[i], work, out, sizeof out);
            if (status != 75 || !strstr(out, want))
                fail_msg("%s: second writer \"%s\": expected 75 with \"%s\", got %d: %s", c->name,
                         seconds[i], want, status, out);
            sgs_assert_cmp(time(NULL) - t0, <, 10); /* at once, not after its work */
            assert_outputs_equal(c, work, snap, "under a held lock");
        }
        int status = sgs_test_signal_and_wait(first, SIGTERM);
        if (status != 143)
            fail_msg("%s: the first writer exited %d after SIGTERM", c->name, status);
        assert_outputs_equal(c, work, snap, "after the first writer stopped");
        snprintf(args, sizeof args, "%s/other.json", work);
        unlink(args); /* never written: refused */
        sgs_test_assert_no_leftovers(work);

        /* A lock file left by a process that is gone: taken over, and rewritten. */
        snprintf(args, sizeof args, "%s/.%s.segscore/lock", work, c->outputs[0]);
        sgs_test_write_file(args, "999999999 import\n");
        if (run_command(c->today, work, out, sizeof out) != 0)
            fail_msg("%s: a stale lock file was not taken over: %s", c->name, out);
        char *text = sgs_test_read_file(args, NULL);
        assert_non_null(text);
        char mine[64];
        snprintf(mine, sizeof mine, " %s\n", c->name);
        if (strstr(text, "999999999") || strtol(text, NULL, 10) <= 0 || !strstr(text, mine))
            fail_msg("%s: the lock file says \"%s\"", c->name, text);
        free(text);
        sgs_test_assert_no_leftovers(work);
    }
}

/* ---- kill -9
 * ------------------------------------------------------------------------------------- */

/* Killed at its last pause point (a temporary on disk, or for two outputs their unpublished
 * generation): the previous outputs stay and what was written too; the next command on the
 * outputs removes it, says so, and writes today's. */
static void test_killed_writer_temporaries_removed_by_the_next(void **state)
{
    (void)state;
    char out[8192];
    for (size_t k = 0; k < N_COMMANDS; k++) {
        const command_t *c = &commands[k];
        char work[512], snap[600], folder[64];
        snprintf(folder, sizeof folder, "kill-%s", c->name);
        fresh_folder(folder, work, sizeof work);
        assert_int_equal(run_command(c->yesterday, work, out, sizeof out), 0);
        snapshot(c, work, snap, sizeof snap);
        const char *point = c->points[1] ? c->points[1] : c->points[0];
        pid_t pid = start_paused(c->today, work, point);
        assert_int_equal(sgs_test_signal_and_wait(pid, SIGKILL), 128 + SIGKILL);
        assert_outputs_equal(c, work, snap, "killed");
        int pair = c->outputs[1] != NULL;
        /* one output: its temporary; two: yesterday's generation and the killed one's */
        int temporaries = count_temporaries(work),
            generations = count_generations(work, c->outputs[0]);
        if (temporaries != (pair ? 0 : 1) || generations != (pair ? 2 : 0))
            fail_msg("%s killed at %s: %d temporaries and %d generations", c->name, point,
                     temporaries, generations);

        int status = run_command(c->today, work, out, sizeof out);
        const char *said = pair ? "removed 1 temporary files or folders that a stopped segscore "
                                  "command left beside"
                                : "removed 1 temporary file that a stopped segscore command "
                                  "left beside";
        if (status != 0 || !strstr(out, said))
            fail_msg("%s after a kill: expected 0 and \"%s\", got %d: %s", c->name, said, status,
                     out);
        assert_int_equal(count_temporaries(work), 0);
        sgs_test_assert_no_leftovers(work);
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", work, c->outputs[0]);
        snprintf(b, sizeof b, "%s/%s", snap, c->outputs[0]);
        if (sgs_test_files_equal(a, b))
            fail_msg("%s: the command after the kill did not write today's output", c->name);
    }
}

/* ---- two outputs, one set ------------------------------------------------------------------ */

/* A flush that fails on the first output, the second, or the generation's folder: exit 74
 * naming the failure, both outputs as they were, nothing left; then today's command publishes
 * both, and both paths lead into the same generation. */
static void test_failed_flush_keeps_the_pair(void **state)
{
    (void)state;
    char out[8192];
    for (size_t k = 0; k < N_COMMANDS; k++) {
        const command_t *c = &commands[k];
        if (!c->outputs[1])
            continue;
        char work[512], snap[600], folder[64];
        snprintf(folder, sizeof folder, "flush-%s", c->name);
        fresh_folder(folder, work, sizeof work);
        assert_int_equal(run_command(c->yesterday, work, out, sizeof out), 0);
        snapshot(c, work, snap, sizeof snap);
        static const char *const fail_at[] = {"1", "2", "3"}; /* 3: the generation's folder */
        for (size_t f = 0; f < sizeof fail_at / sizeof fail_at[0]; f++) {
            const char *at = fail_at[f];
            setenv("SGS_TEST_FAIL_FSYNC_AT", at, 1);
            int status = run_command(c->today, work, out, sizeof out);
            unsetenv("SGS_TEST_FAIL_FSYNC_AT");
            if (status != 74 || !strstr(out, "flushing to disk failed"))
                fail_msg("%s, flush %s failing: expected 74, got %d: %s", c->name, at, status, out);
            assert_outputs_equal(c, work, snap, "after a failed flush");
            sgs_test_assert_no_leftovers(work);
        }
        assert_int_equal(run_command(c->today, work, out, sizeof out), 0);
        char dirs[2][700];
        for (size_t i = 0; i < 2; i++) {
            char a[700], b[700];
            snprintf(a, sizeof a, "%s/%s", work, c->outputs[i]);
            snprintf(b, sizeof b, "%s/%s", snap, c->outputs[i]);
            if (sgs_test_files_equal(a, b))
                fail_msg("%s: today's %s equals yesterday's", c->name, c->outputs[i]);
            ssize_t len = readlink(a, dirs[i], sizeof dirs[i] - 1);
            sgs_assert_cmp(len, >, 0);
            dirs[i][len] = '\0';
            *strrchr(dirs[i], '/') = '\0'; /* ".<first output>.segscore/current" */
        }
        assert_string_equal(dirs[0], dirs[1]); /* one `current`: one switch for both */
        sgs_test_assert_no_leftovers(work);
    }
}

/* ---- reaction time ----------------------------------------------------------------------------
 */

/* An import of an endless stream on standard input (rows written as fast as it reads them):
 * SIGTERM stops it within a second, 143, no output and no temporary. */
static void test_endless_import_stops_within_a_second(void **state)
{
    (void)state;
    char work[512], target[700], cmd[2048];
    fresh_folder("endless", work, sizeof work);
    snprintf(target, sizeof target, "%s/stream.h5", work);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t producer = fork();
    sgs_assert_cmp(producer, >=, 0);
    if (producer == 0) {
        close(fds[0]);
        signal(SIGPIPE, SIG_IGN);
        char rows[1 << 16];
        size_t used = (size_t)snprintf(rows, sizeof rows, "cust,when,amount\n");
        for (unsigned i = 0;; i++) {
            used += (size_t)snprintf(rows + used, sizeof rows - used, "%u,2021-03-%02u,%u.5\n",
                                     1 + i % 9973, 1 + i % 28, i % 100);
            if (used + 64 < sizeof rows)
                continue;
            for (size_t done = 0; done < used;) {
                ssize_t w = write(fds[1], rows + done, used - done);
                if (w < 0 && errno != EINTR)
                    _exit(0); /* the import closed its end */
                done += w > 0 ? (size_t)w : 0;
            }
            used = 0;
        }
    }
    close(fds[1]);
    snprintf(cmd, sizeof cmd,
             "exec '%s' import -q -i - -o '%s' --customer cust --time when --amount amount 2>'%s'",
             SGS_TEST_BINARY, target, log_path);
    pid_t import = fork();
    sgs_assert_cmp(import, >=, 0);
    if (import == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    /* Let it import for a while: its temporary appears, and grows. */
    for (int i = 0; i < 200 && count_temporaries(work) == 0; i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    assert_int_equal(count_temporaries(work), 1);
    nanosleep(&(struct timespec){1, 0}, NULL);
    int still;
    assert_int_equal(waitpid(import, &still, WNOHANG), 0); /* endless: still importing */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status = sgs_test_signal_and_wait(import, SIGTERM);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    int producer_status;
    assert_int_equal(waitpid(producer, &producer_status, 0), producer);
    print_message("endless import: stopped %.3f s after SIGTERM\n", seconds);
    assert_int_equal(status, 143);
    assert_log_has("segscore import: stopped by SIGTERM while importing rows", "endless import");
    if (seconds > 1.5) /* "about a second", with room for a loaded machine */
        fail_msg("the import took %.3f s to stop after SIGTERM", seconds);
    struct stat st;
    assert_int_equal(stat(target, &st), -1);
    sgs_test_assert_no_leftovers(work);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signals_keep_the_previous_output),
        cmocka_unit_test(test_second_writer_exits_75_naming_the_first),
        cmocka_unit_test(test_killed_writer_temporaries_removed_by_the_next),
        cmocka_unit_test(test_failed_flush_keeps_the_pair),
        cmocka_unit_test(test_endless_import_stops_within_a_second),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
