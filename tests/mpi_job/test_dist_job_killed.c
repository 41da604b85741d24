/*
 * tests/mpi_job/test_dist_job_killed.c — a spread run whose last process is killed (SIGKILL), as a
 * user meets it: this program is no MPI process itself; it starts `mpirun -np N segscore run ...`
 * (docs/mpi.md "Running it", "Failures") with N = 2, 3 and 4 on 40,000 generated customers, the
 * outputs of a good run of the same command in place. The last process alone is started with the
 * test hook SGS_TEST_PAUSE_AT=<point> (docs/publishing.md "Test hooks": an MPMD command line,
 * `mpirun -np N-1 segscore run ... : -np 1 env SGS_TEST_PAUSE_AT=<point> segscore run ...`), so
 * that it stops there while the others go on to the next collective call and wait for it; then
 * it is killed. The job must end within a bounded time with a non-zero status and Open MPI's
 * message naming the rank and the signal, no process of it left.
 *
 * Killed before the set is switched (at a step, in a model fit, or inside the collective write of
 * results.h5: after the first column of its models' part or of its stages' part, the others inside
 * the next column's H5Dwrite, seen with gdb in its MPI_Allreduce): the previous outputs byte for
 * byte; nothing left but the unfinished generation in the set's state folder, which the next run
 * of the same command removes (saying so) before it publishes.
 *
 * Killed after process 0's switch (the point `switched`; the others then wait in MPI_Finalize,
 * seen with gdb): the new set is published, complete: `current` names a new generation, every
 * output at its final name is readable and equal to the outputs of a good run of the same
 * command (the next one: the text files and results.h5 byte for byte, summary.json but its
 * timings and peak memory), the previous generation kept as a publish keeps it; the job still
 * ends non-zero (mpirun's status and message as above), and the next run of the same command
 * publishes as usual.
 *
 * Every point is tested with 2, 3 and 4 processes but the steps' (segments and write with 2, the
 * fit with 3, actions with 4): 13 jobs killed, 90 s in all on a 2-core VM, 167 s when it was
 * loaded with other builds (load average 6); the ctest limit is 600 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "kernels/core.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <hdf5.h>

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
#define SETTLE_MS 500      /* after the pause: the others reach their next collective call */
/* The previous outputs of the case killed after the switch: another command's, so that a new
 * set at the final names is told from them. */
#define OTHER_RUN "--set rfm.bins=4"

/* The outputs of a run (docs/publishing.md), at their final names beside results.h5. */
static const char *const outputs[] = {"results.h5", "customers.csv", "opportunities.csv",
                                      "report.txt", "report.html",   "summary.json"};
enum { N_OUTPUTS = sizeof outputs / sizeof outputs[0], SUMMARY = N_OUTPUTS - 1 };

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

/* `segscore run` of the outputs here, with its arguments shell-quoted and `extra` after them. */
static void run_args(char *buf, size_t size, const char *extra)
{
    int n = snprintf(buf, size, "'%s' run -i '%s' -o '%s' --threads 1 %s", SGS_TEST_BINARY, input,
                     results, extra);
    sgs_assert_cmp((size_t)n, <, size);
}

/* The job of n processes run to its end (`extra`: more arguments of segscore run): its exit
 * status, its standard error in log. */
static int run_job(int n, const char *extra, char *log, size_t log_size)
{
    char args[2048], cmd[8192];
    run_args(args, sizeof args, extra);
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
    run_args(args, sizeof args, "");
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

/* The generation ("gen-<n>") that the set's `current` names in a snapshot of the outputs'
 * folder. */
static const char *current_generation(const sgs_test_snapshot_t *s)
{
    const char *current = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->name[i], ".results.h5.segscore/current") == 0)
            current = s->data[i]; /* "-> gen-<n>" */
    assert_non_null(current);
    assert_true(strncmp(current, "-> ", 3) == 0);
    return current + 3;
}

/* Every entry of the snapshot `before` of the outputs' folder is in `now`, byte for byte (the
 * published outputs, the set's `current` and the generations it names); an entry of now that
 * before has not is in a generation folder that `current` does not name, the unfinished one. */
static void expect_previous_outputs(const sgs_test_snapshot_t *before,
                                    const sgs_test_snapshot_t *now, const char *what)
{
    char published[300];
    snprintf(published, sizeof published, ".results.h5.segscore/%s/", current_generation(before));
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

/* The job of n processes whose last process is killed (SIGKILL) a moment (SETTLE_MS) after it
 * paused at `point`. Fails unless mpirun ends within JOB_END_LIMIT_S with a non-zero status, its
 * standard error naming the last rank and signal 9, and no process of the job is left; returns
 * mpirun's status. */
static int kill_paused_job(int n, const char *point, const char *what)
{
    char log_path[800];
    snprintf(log_path, sizeof log_path, "%s/job.log", dir);
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
    sleep_ms(SETTLE_MS);
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
    return status;
}

/* The job of n processes whose last process is killed (SIGKILL) while it waits at `point`, before
 * the set is switched, the outputs of a good run of the same job in place: they stay. */
static void kill_last_process(int n, const char *point)
{
    char what[128], log[16384];
    snprintf(what, sizeof what, "%d processes, the last killed at %s", n, point);
    print_message("%s\n", what);
    if (run_job(n, "", log, sizeof log) != 0) /* the previous outputs */
        fail_msg("%s: the good run before: %s", what, log);
    sgs_test_assert_no_leftovers(out);
    sgs_test_snapshot_t before = {0}, now = {0};
    sgs_test_snapshot(out, &before);

    kill_paused_job(n, point, what);

    sgs_test_snapshot(out, &now);
    expect_previous_outputs(&before, &now, what);
    sgs_test_snapshot_free(&now);
    sgs_test_snapshot_free(&before);

    /* the same command again: it removes what the killed job left and publishes */
    int rc = run_job(n, "", log, sizeof log);
    if (rc != 0)
        fail_msg("%s: the run after it exited %d: %s", what, rc, log);
    sgs_assert_contains(log, "removed 1 temporary files or folders that a stopped run");
    sgs_test_assert_no_leftovers(out);
    char summary[800];
    snprintf(summary, sizeof summary, "%s/summary.json", out);
    char *text = sgs_test_read_file(summary, NULL);
    assert_non_null(text);
    sgs_assert_contains(text, "\"processes\"");
    free(text);
}

/* ---- killed after the switch ------------------------------------------------------------- */

/* The outputs at their final names, read through their links. */
typedef struct output_set {
    char *data[N_OUTPUTS];
    size_t size[N_OUTPUTS];
} output_set_t;

static void read_outputs(output_set_t *set, const char *what)
{
    for (size_t i = 0; i < N_OUTPUTS; i++) {
        char path[800];
        snprintf(path, sizeof path, "%s/%s", out, outputs[i]);
        set->data[i] = sgs_test_read_file(path, &set->size[i]);
        if (!set->data[i])
            fail_msg("%s: %s cannot be read", what, path);
    }
}

static void free_outputs(output_set_t *set)
{
    for (size_t i = 0; i < N_OUTPUTS; i++)
        free(set->data[i]);
}

/* summary.json without what depends on the run's clock and memory, as tests/support/test_mpi.c
 * compares it (a program under mpirun; this one is none and does not link it). */
static void drop_timings(cJSON *o)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, "steps");
    static const char *const keys[] = {"seconds", "seconds_total", "peak_rss_mb"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, keys[k]);
    for (cJSON *c = o ? o->child : NULL; c; c = c->next)
        drop_timings(c);
}

/* Two runs' outputs equal (fails naming the first that differs): byte for byte, summary.json
 * without its timings and peak memory. */
static void expect_same_outputs(const output_set_t *got, const output_set_t *want, const char *what)
{
    for (size_t i = 0; i < N_OUTPUTS; i++) {
        if (i == SUMMARY) {
            cJSON *a = cJSON_ParseWithLength(got->data[i], got->size[i]);
            cJSON *b = cJSON_ParseWithLength(want->data[i], want->size[i]);
            if (!a)
                fail_msg("%s: summary.json is no JSON", what);
            assert_non_null(b);
            drop_timings(a);
            drop_timings(b);
            int same = cJSON_Compare(a, b, 1);
            cJSON_Delete(a);
            cJSON_Delete(b);
            if (!same)
                fail_msg("%s: summary.json differs from a good run's (timings aside)", what);
            continue;
        }
        size_t at = 0, n = got->size[i] < want->size[i] ? got->size[i] : want->size[i];
        while (at < n && got->data[i][at] == want->data[i][at])
            at++;
        if (got->size[i] != want->size[i] || at < n)
            fail_msg("%s: %s differs from a good run's: %zu and %zu bytes, from byte %zu on", what,
                     outputs[i], got->size[i], want->size[i], at);
    }
}

/* results.h5 at its final name opened and read as a reader does: /customers/customer_id (the
 * models' part) holds every customer, /stages/customer_id (the stages' part) at least as many. */
static void expect_results_readable(const char *what)
{
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        fail_msg("%s: %s cannot be opened", what, results);
    size_t n_customers = 0, n_staged = 0;
    free(sgs_test_column(f, "/customers/customer_id", SGS_H5_I64, &n_customers));
    free(sgs_test_column(f, "/stages/customer_id", SGS_H5_I64, &n_staged));
    H5Fclose(f);
    sgs_assert_cmp(n_customers, ==, (size_t)N_CUSTOMERS);
    sgs_assert_cmp(n_staged, >=, (size_t)N_CUSTOMERS);
}

/* The entry `name` of a snapshot, or -1. */
static long snapshot_find(const sgs_test_snapshot_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->name[i], name) == 0)
            return (long)i;
    return -1;
}

/* Every file of generation `gen` in the snapshot `before` is in `now`, byte for byte. */
static void expect_generation_kept(const sgs_test_snapshot_t *before,
                                   const sgs_test_snapshot_t *now, const char *gen,
                                   const char *what)
{
    char prefix[300];
    int len = snprintf(prefix, sizeof prefix, ".results.h5.segscore/%s/", gen);
    size_t n = 0;
    for (size_t i = 0; i < before->n; i++) {
        if (strncmp(before->name[i], prefix, (size_t)len) != 0)
            continue;
        long j = snapshot_find(now, before->name[i]);
        if (j < 0 || now->size[j] != before->size[i] ||
            memcmp(now->data[j], before->data[i], before->size[i]) != 0)
            fail_msg("%s: the previous generation's %s/%s is gone or changed", what, out,
                     before->name[i]);
        n++;
    }
    sgs_assert_cmp(n, ==, (size_t)N_OUTPUTS);
}

/* The job of n processes whose last process is killed (SIGKILL) after process 0 switched the set
 * to the new generation (every process is past the commit's last agreement there), the outputs
 * of another command in place: the new set is published and complete; the job ends non-zero all
 * the same (Open MPI aborts it), and the next run of the same command publishes as usual. */
static void kill_last_process_after_switch(int n)
{
    char what[128], log[16384];
    snprintf(what, sizeof what, "%d processes, the last killed at switched", n);
    print_message("%s\n", what);
    if (run_job(n, OTHER_RUN, log, sizeof log) != 0) /* the previous outputs */
        fail_msg("%s: the good run before: %s", what, log);
    sgs_test_assert_no_leftovers(out);
    output_set_t previous = {0}, killed = {0}, again = {0};
    read_outputs(&previous, what);
    sgs_test_snapshot_t before = {0}, now = {0};
    sgs_test_snapshot(out, &before);

    kill_paused_job(n, "switched", what);

    /* published: `current` names the new generation, the previous one kept as a publish keeps
     * it; what the final names show is complete, and not the previous set */
    sgs_test_snapshot(out, &now);
    const char *was = current_generation(&before), *is = current_generation(&now);
    print_message("current: %s, was %s\n", is, was);
    if (strcmp(is, was) == 0)
        fail_msg("%s: current still names %s", what, was);
    expect_generation_kept(&before, &now, was, what);
    sgs_test_snapshot_free(&now);
    sgs_test_snapshot_free(&before);
    read_outputs(&killed, what);
    expect_results_readable(what);
    if (killed.size[0] == previous.size[0] &&
        memcmp(killed.data[0], previous.data[0], previous.size[0]) == 0)
        fail_msg("%s: results.h5 is still the previous run's", what);
    sgs_assert_contains(killed.data[SUMMARY], "\"processes\"");

    /* the same command again: a good run, whose outputs the killed job's equal */
    int rc = run_job(n, "", log, sizeof log);
    if (rc != 0)
        fail_msg("%s: the run after it exited %d: %s", what, rc, log);
    const char *removed = strstr(log, "segscore: removed");
    if (removed)
        print_message("the run after it: %.*s\n", (int)strcspn(removed, "\n"), removed);
    else
        print_message("the run after it removed nothing\n");
    sgs_test_assert_no_leftovers(out);
    read_outputs(&again, what);
    expect_same_outputs(&killed, &again, what);
    free_outputs(&again);
    free_outputs(&killed);
    free_outputs(&previous);
}

/* ---- the cases --------------------------------------------------------------------------- */

static void killed_while_the_others_wait(void **state)
{
    (void)state;
    kill_last_process(2, "segments");
    kill_last_process(2, "write");
    kill_last_process(3, "fit");
    kill_last_process(4, "actions");
}

/* Inside the collective write of results.h5 (engine/write_results.c, engine/write_actions.c):
 * the last process stopped after a part's first column, the others in the next column's
 * collective H5Dwrite. */
static void killed_inside_the_collective_write(void **state)
{
    (void)state;
    for (int n = 2; n <= 4; n++) {
        kill_last_process(n, "customers-column-written");
        kill_last_process(n, "stages-column-written");
    }
}

static void killed_after_the_switch(void **state)
{
    (void)state;
    for (int n = 2; n <= 4; n++)
        kill_last_process_after_switch(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(killed_while_the_others_wait),
        cmocka_unit_test(killed_inside_the_collective_write),
        cmocka_unit_test(killed_after_the_switch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
