/*
 * tests/unit/test_h5_crash.c — io/h5_crash.h, the last resort against input files that crash
 * libhdf5: each case runs in a forked child, which faults on purpose (a read of a page
 * mapped without access, a read past the end of a mapped empty file, a float division by
 * zero with the exception enabled: none of them undefined behaviour the sanitizers stop
 * first). Armed: exit 65 and exactly the one line naming the file and the signal. Not
 * installed, disarmed, paused, another thread's fault, or a signal sent with raise(3):
 * never 65 nor the line; the process dies by the signal (its previous disposition). The real
 * crashes of libhdf5 are tested end to end (tests/e2e/test_libhdf5_crash.c).
 */
#define _GNU_SOURCE /* feenableexcept */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_crash.h"
#include "tests/support/test_support.h"

#include <errno.h>
#include <fenv.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_NAME "/data/damaged input.h5"
#define LINE_START "segscore: error: " FILE_NAME ": the HDF5 library crashed reading this file: "

/* ---- Faults -------------------------------------------------------------------------------- */

static void fault_segv(void)
{
    volatile char *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fail_msg("mmap: %s", strerror(errno));
    char c = p[0];
    (void)c;
}

static void fault_bus(void)
{
    char path[] = "/tmp/sgs-crash-bus-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        fail_msg("mkstemp(%s): %s", path, strerror(errno));
    unlink(path);
    volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0); /* an empty file */
    if (p == MAP_FAILED)
        fail_msg("mmap: %s", strerror(errno));
    char c = p[0];
    (void)c;
}

static void fault_fpe(void)
{
    feenableexcept(FE_DIVBYZERO);
    volatile double zero = 0.0;
    volatile double x = 1.0 / zero;
    (void)x;
}

static void *fault_in_thread(void *arg)
{
    (void)arg;
    fault_segv();
    return NULL;
}

/* ---- Children -------------------------------------------------------------------------- */

typedef struct outcome {
    int exited;    /* exited (status below) rather than killed */
    int status;    /* exit status, or the signal that killed it */
    char err[512]; /* what it wrote to stderr */
} outcome_t;

/* Run `body` in a child with its stderr in a pipe (no core file); it should not return. */
static void in_child(void (*body)(void), outcome_t *o)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        /* as in the program: cmocka's handlers (which would return into the test runner)
         * are not the previous disposition there */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        signal(SIGFPE, SIG_DFL);
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        body();
        _exit(99); /* the fault did not end it */
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t got;
    while ((got = read(fds[0], o->err + used, sizeof o->err - 1 - used)) > 0)
        used += (size_t)got;
    o->err[used] = '\0';
    close(fds[0]);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    o->exited = WIFEXITED(ws);
    o->status = o->exited ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? WTERMSIG(ws) : -1;
}

/* The child said the file is damaged, with signal `sig`, and exited 65. */
static void expect_caught(const outcome_t *o, int sig)
{
    char line[512];
    snprintf(line, sizeof line, LINE_START "it is damaged (signal %d)\n", sig);
    if (!o->exited || o->status != 65 || strcmp(o->err, line) != 0)
        fail_msg("expected exit 65 and \"%s\", got %s %d and \"%s\"", line,
                 o->exited ? "exit" : "signal", o->status, o->err);
}

/* The child (case `i`) was not called damaged: it died of SIGSEGV. */
static void expect_not_caught(const outcome_t *o, size_t i)
{
    if (o->exited || o->status != SIGSEGV || strstr(o->err, "crashed reading"))
        fail_msg("case %zu: expected the fault to go to its previous disposition, got %s %d and "
                 "\"%s\"",
                 i, o->exited ? "exit" : "signal", o->status, o->err);
}

static void install(void)
{
    assert_int_equal(sgs_h5_crash_install("segscore", 65), 0);
}

static void armed_segv(void)
{
    install();
    sgs_h5_crash_arm(FILE_NAME);
    fault_segv();
}

static void armed_bus(void)
{
    install();
    sgs_h5_crash_arm(FILE_NAME);
    fault_bus();
}

static void armed_fpe(void)
{
    install();
    sgs_h5_crash_arm(FILE_NAME);
    fault_fpe();
}

static void nested(void)
{
    install();
    sgs_h5_crash_arm(FILE_NAME);
    sgs_h5_crash_arm("/inner/file.h5"); /* the outer file is the one named */
    sgs_h5_crash_disarm();
    fault_segv();
}

static void resumed(void)
{
    install();
    sgs_h5_crash_arm(FILE_NAME);
    int armed = sgs_h5_crash_pause();
    sgs_h5_crash_resume(armed);
    fault_segv();
}

static void not_installed(void)
{
    sgs_h5_crash_arm(FILE_NAME);
    fault_segv();
}

static void disarmed(void)
{
    install();
    sgs_h5_crash_arm(FILE_NAME);
    sgs_h5_crash_disarm();
    sgs_h5_crash_disarm(); /* one more than the arms: ignored */
    fault_segv();
}

static void paused(void)
{
    install();
    sgs_h5_crash_arm(FILE_NAME);
    (void)sgs_h5_crash_pause();
    fault_segv();
}

static void other_thread(void)
{
    install();
    sgs_h5_crash_arm(FILE_NAME);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fault_in_thread, NULL), 0);
    pthread_join(t, NULL);
}

static void sent_signal(void)
{
    install();
    sgs_h5_crash_arm(FILE_NAME);
    raise(SIGSEGV);
}

/* ---- Tests ----------------------------------------------------------------------------------- */

static void test_armed_faults_name_the_file(void **state)
{
    (void)state;
    outcome_t o;
    in_child(armed_segv, &o);
    expect_caught(&o, SIGSEGV);
    in_child(armed_bus, &o);
    expect_caught(&o, SIGBUS);
    in_child(armed_fpe, &o);
    expect_caught(&o, SIGFPE);
    in_child(nested, &o);
    expect_caught(&o, SIGSEGV);
    in_child(resumed, &o);
    expect_caught(&o, SIGSEGV);
}

static void test_other_faults_are_not_called_damaged(void **state)
{
    (void)state;
    void (*const bodies[])(void) = {not_installed, disarmed, paused, other_thread, sent_signal};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        outcome_t o;
        in_child(bodies[i], &o);
        expect_not_caught(&o, i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_armed_faults_name_the_file),
        cmocka_unit_test(test_other_faults_are_not_called_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
