/*
 * engine/interrupt.c — a flag set by the signal handler. See interrupt.h.
 */
#define _DEFAULT_SOURCE /* SA_RESTART */
#include "engine/interrupt.h"

#include "engine/exit_status.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    if (caught) { /* a second signal: the default action, now */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    caught = sig;
}

void sgs_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        sigaction(signals[i], &sa, NULL);
}

int sgs_interrupt_signal(void)
{
    return (int)caught;
}

static const char *signal_name(int sig)
{
    return sig == SIGINT    ? "SIGINT"
           : sig == SIGTERM ? "SIGTERM"
           : sig == SIGHUP  ? "SIGHUP"
                            : "a signal";
}

int sgs_interrupt_check(const char *before, sgs_error_t *err)
{
    int sig = (int)caught;
    if (!sig)
        return SGS_OK;
    return sgs_error_set(err, SGS_EINTR,
                         "stopped by %s %s: the previous outputs are unchanged and no "
                         "temporary file is left",
                         signal_name(sig), before);
}

int sgs_interrupt_exit_status(void)
{
    return 128 + (int)caught;
}

int sgs_interrupt_exit_status_for(int rc)
{
    return rc == SGS_EINTR && caught ? sgs_interrupt_exit_status() : sgs_exit_status(rc);
}

int sgs_interrupt_checkpoint(const char *pause_at, const char *where, sgs_error_t *err)
{
    sgs_test_pause_at(pause_at);
    return sgs_interrupt_check(where, err);
}

int sgs_interrupt_stop(void *point, sgs_error_t *err)
{
    const sgs_stop_point_t *p = point;
    return sgs_interrupt_checkpoint(p->pause_at, p->where, err);
}

void sgs_test_pause_at(const char *point)
{
    const char *want = getenv("SGS_TEST_PAUSE_AT");
    if (!want || strcmp(want, point) != 0 || caught)
        return;
    fprintf(stderr, "segscore: test hook: paused at %s (pid %ld)\n", point, (long)getpid());
    fflush(stderr);
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 6000 && !caught; i++)
        nanosleep(&tick, NULL);
}
