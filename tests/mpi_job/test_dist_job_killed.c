/*
 * tests/mpi_job/test_dist_job_killed.c — a spread run whose last process is killed (SIGKILL), as a
 * user meets it: this program is no MPI process itself; it starts `mpirun -np N segscore run ...`
 * (docs/mpi.md "Running it", "Failures") with N = 2, 3 and 4 on 40,000 generated customers, the
 * outputs of a good run of the same command in place. The last process alone is started with the
 * test hook SGS_TEST_PAUSE_AT=<point> (docs/publishing.md "Test hooks": an MPMD command line,
 * `mpirun -np N-1 segscore run ... : -np 1 env SGS_TEST_PAUSE_AT=<point> segscore run ...`), so
 * that it stops at a step while the others go on to the next collective call and wait for it;
 * then it is killed. The job must end within a bounded time with a non-zero status and Open
 * MPI's message naming the rank and the signal, no process of it left; the previous outputs byte
 * for byte; nothing left but the unfinished generation in the set's state folder, which the next
 * run of the same command removes (saying so) before it publishes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/core.h"
#include "tests/support/test_support.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_CUSTOMERS 40000
#define JOB_END_LIMIT_S 60 /* after the kill: mpirun ends the job in about 2 s here */

static char dir[512], input[700], out[700], results[800];

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("dist_job_killed", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/input.h5", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(results, sizeof results, "%s/results.h5", out);
    assert_int_equal(mkdir(out, 0755), 0);
    char args[2048], log[4096];
    snprintf(args, sizeof args, "generate --customers %d --seed 20261207 --threads 1 -q -o '%s'",
             N_CUSTOMERS, input);
    if (sgs_test_run(args, log, sizeof log) != 0)
        fail_msg("segscore %s: %s", args, log);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

/* `segscore run` of the outputs here, with its arguments shell-quoted. */
static void run_args(char *buf, size_t size)
{
    int n = snprintf(buf, size, "'%s' run -i '%s' -o '%s' --threads 1", SGS_TEST_BINARY, input,
                     results);
    sgs_assert_cmp((size_t)n, <, size);
}

/* The job of n processes run to its end: its exit status, its standard error in log. */
static int run_job(int n, char *log, size_t log_size)
{
    char args[2048], cmd[8192];
    run_args(args, sizeof args);
    snprintf(cmd, sizeof cmd, "'%s' --oversubscribe -np %d %s", SGS_TEST_MPIEXEC, n, args);
    return sgs_test_shell(cmd, log, log_size);
}

/* How many running processes have `needle` in their command line (this program aside); only
 * segscore processes (by their name, /proc/PID/comm) when segscore_only. */
static int processes_naming(const char *needle, int segscore_only)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!isdigit((unsigned char)e->d_name[0]) || atol(e->d_name) == (long)getpid())
            continue;
        char path[300], buf[8192];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue; /* ended meanwhile */
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < len; i++) /* the arguments are NUL-separated */
            buf[i] = buf[i] ? buf[i] : ' ';
        buf[len] = '\0';
        int named = strstr(buf, needle) != NULL;
        if (named && segscore_only) {
            snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
            char *comm = sgs_test_read_file(path, NULL);
            named = comm && strncmp(comm, "segscore", 8) == 0;
            free(comm);
        }
        n += named;
    }
    closedir(d);
    return n;
}

static void sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* The job of n processes started, its last process alone with SGS_TEST_PAUSE_AT=point, its
 * standard error into log_path; returns mpirun's pid once the last process said it paused, with
 * that process's pid in *paused. */
static pid_t start_job_paused(int n, const char *point, const char *log_path, pid_t *paused)
{
    char args[2048], cmd[8192];
    run_args(args, sizeof args);
    int len = snprintf(cmd, sizeof cmd,
                       "exec '%s' --oversubscribe -np %d %s : -np 1 env SGS_TEST_PAUSE_AT=%s %s "
                       "2>'%s' >/dev/null",
                       SGS_TEST_MPIEXEC, n - 1, args, point, args, log_path);
    sgs_assert_cmp((size_t)len, <, sizeof cmd);
    unlink(log_path);
    pid_t job = fork();
    if (job < 0)
        fail_msg("fork: %s", strerror(errno));
    if (job == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    char want[128];
    snprintf(want, sizeof want, "paused at %s (pid ", point);
    for (int i = 0; i < 6000; i++) { /* 60 s */
        char *text = sgs_test_read_file(log_path, NULL);
        const char *at = text ? strstr(text, want) : NULL;
        if (at) {
            *paused = (pid_t)atol(at + strlen(want));
            free(text);
            sgs_assert_cmp((long)*paused, >, 0);
            return job;
        }
        free(text);
        int status;
        if (waitpid(job, &status, WNOHANG) == job) {
            text = sgs_test_read_file(log_path, NULL);
            fail_msg("the job of %d processes ended (status %d) before its last process paused "
                     "at %s: %s",
                     n, status, point, text ? text : "");
        }
        sleep_ms(10);
    }
    kill(job, SIGKILL);
    waitpid(job, NULL, 0);
    fail_msg("the last process of the job of %d processes never paused at %s", n, point);
    return -1;
}

/* mpirun's exit status once it ended, within limit_s; fails the test (after killing it) when it
 * is still running then: the job hangs. 128 + n when signal n ended mpirun itself. */
static int wait_job(pid_t job, int limit_s, int n, const char *point)
{
    for (long waited = 0; waited < limit_s * 1000L; waited += 20) {
        int status;
        if (waitpid(job, &status, WNOHANG) == job)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        sleep_ms(20);
    }
    kill(job, SIGKILL);
    waitpid(job, NULL, 0);
    fail_msg("the job of %d processes still ran %d s after its last process was killed (paused "
             "at %s): it hangs",
             n, limit_s, point);
    return -1;
}

/* Every entry of the snapshot `before` of the outputs' folder is in `now`, byte for byte (the
 * published outputs, the set's `current` and the generations it names); an entry of now that
 * before has not is in a generation folder that `current` does not name, the unfinished one. */
static void expect_previous_outputs(const sgs_test_snapshot_t *before,
                                    const sgs_test_snapshot_t *now, const char *what)
{
    const char *current = NULL;
    for (size_t i = 0; i < before->n; i++)
        if (strcmp(before->name[i], ".results.h5.segscore/current") == 0)
            current = before->data[i]; /* "-> gen-<n>" */
    assert_non_null(current);
    assert_true(strncmp(current, "-> ", 3) == 0);
    char published[300];
    snprintf(published, sizeof published, ".results.h5.segscore/%s/", current + 3);
    for (size_t i = 0, j = 0; i < before->n || j < now->n;) {
        int c = i >= before->n ? 1 : j >= now->n ? -1 : strcmp(before->name[i], now->name[j]);
        if (c < 0)
            fail_msg("%s: %s/%s is gone", what, out, before->name[i]);
        if (c > 0) { /* only in now */
            const char *name = now->name[j];
            if (strncmp(name, ".results.h5.segscore/gen-", 25) != 0 ||
                strncmp(name, published, strlen(published)) == 0)
                fail_msg("%s: %s/%s appeared", what, out, name);
            j++;
            continue;
        }
        if (before->size[i] != now->size[j] ||
            memcmp(before->data[i], now->data[j], now->size[j]) != 0)
            fail_msg("%s: %s/%s changed (%zu bytes, was %zu)", what, out, now->name[j],
                     now->size[j], before->size[i]);
        i++;
        j++;
    }
}

/* The job of n processes whose last process is killed (SIGKILL) while it waits at `point`, the
 * outputs of a good run of the same job in place. */
static void kill_last_process(int n, const char *point)
{
    char what[128], log[16384], log_path[800];
    snprintf(what, sizeof what, "%d processes, the last killed at %s", n, point);
    snprintf(log_path, sizeof log_path, "%s/job.log", dir);
    print_message("%s\n", what);
    if (run_job(n, log, sizeof log) != 0) /* the previous outputs */
        fail_msg("%s: the good run before: %s", what, log);
    sgs_test_assert_no_leftovers(out);
    sgs_test_snapshot_t before = {0}, now = {0};
    sgs_test_snapshot(out, &before);

    pid_t paused = 0, job = start_job_paused(n, point, log_path, &paused);
    /* the job's n segscore processes run (the last exec'd by `env`) */
    sgs_assert_cmp(processes_naming(out, 1), ==, n);
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)paused);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(comm, sizeof comm, f));
    fclose(f);
    sgs_assert_contains(comm, "segscore");
    assert_int_equal(kill(paused, SIGKILL), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status = wait_job(job, JOB_END_LIMIT_S, n, point);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    char *text = sgs_test_read_file(log_path, NULL);
    assert_non_null(text);
    const char *said = strstr(text, "test hook: paused"); /* what came after the kill */
    said = said && strchr(said, '\n') ? strchr(said, '\n') + 1 : text;
    print_message("mpirun exited %d %.1f s after the kill:\n%s", status,
                  (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), said);
    if (status == 0)
        fail_msg("%s: the job exited 0", what);
    /* Open MPI's words (4.1: "mpirun noticed that process rank 2 with PID 0 on node vm exited
     * on signal 9 (Killed)."; 5: "prterun noticed ...") */
    char rank[64];
    snprintf(rank, sizeof rank, "process rank %d ", n - 1);
    sgs_assert_contains(text, rank);
    sgs_assert_contains(text, "signal 9");
    free(text);
    /* no process of the job left (mpirun waited for them: allow a moment for /proc) */
    int left = processes_naming(out, 0);
    for (int i = 0; left > 0 && i < 250; i++, sleep_ms(20))
        left = processes_naming(out, 0);
    if (left > 0)
        fail_msg("%s: %d processes of the job still run after mpirun ended", what, left);

    sgs_test_snapshot(out, &now);
    expect_previous_outputs(&before, &now, what);
    sgs_test_snapshot_free(&now);
    sgs_test_snapshot_free(&before);

    /* the same command again: it removes what the killed job left and publishes */
    int rc = run_job(n, log, sizeof log);
    if (rc != 0)
        fail_msg("%s: the run after it exited %d: %s", what, rc, log);
    sgs_assert_contains(log, "removed 1 temporary files or folders that a stopped run");
    sgs_test_assert_no_leftovers(out);
    char summary[800];
    snprintf(summary, sizeof summary, "%s/summary.json", out);
    text = sgs_test_read_file(summary, NULL);
    assert_non_null(text);
    sgs_assert_contains(text, "\"processes\"");
    free(text);
}

static void killed_while_the_others_wait(void **state)
{
    (void)state;
    kill_last_process(2, "segments");
    kill_last_process(2, "write");
    kill_last_process(3, "fit");
    kill_last_process(4, "actions");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(killed_while_the_others_wait),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
