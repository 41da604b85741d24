/*
 * engine/interrupt.h — SIGINT, SIGTERM and SIGHUP stop a command at its next safe point.
 *
 * The handler only records the signal (nothing else is safe in a handler); a command asks
 * sgs_interrupt_check between its steps and before it makes its new outputs visible (the run
 * before its switch, the other commands before their rename), and long work inside kernels,
 * io and the generator asks the same through a stop check (kernels/core.h sgs_stop_fn:
 * sgs_interrupt_stop). The command unwinds like on any error: temporary files and the
 * unfinished generation are removed, the previous outputs stay, and the process exits 128 +
 * the signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP). A second signal while the first is pending
 * ends the process at once (the next command on the same outputs removes what it left).
 */
#ifndef SGS_INTERRUPT_H
#define SGS_INTERRUPT_H

#include "kernels/core.h"

/* Install the handlers (SA_RESTART, so that no read or write fails with EINTR). */
void sgs_interrupt_install(void);

/* The signal caught so far, or 0. */
int sgs_interrupt_signal(void);

/* SGS_EINTR with a message naming the signal and `before` (what did not happen: "before the
 * value step") when a signal was caught; else 0. */
int sgs_interrupt_check(const char *before, sgs_error_t *err);

/* The exit status of a command stopped by the caught signal: 128 + its number. */
int sgs_interrupt_exit_status(void);

/* The exit status of a command that failed with code rc: sgs_interrupt_exit_status() for
 * SGS_EINTR when a signal was caught, else sgs_exit_status(rc). */
int sgs_interrupt_exit_status_for(int rc);

/* A checkpoint between two steps of a command: the test hook's pause at `pause_at` (below),
 * then sgs_interrupt_check(where, err). */
int sgs_interrupt_checkpoint(const char *pause_at, const char *where, sgs_error_t *err);

/* Where long work may stop, for sgs_interrupt_stop: its test hook point and what is stopped
 * ("while importing rows"). */
typedef struct sgs_stop_point {
    const char *pause_at;
    const char *where;
} sgs_stop_point_t;

/* A stop check (kernels/core.h sgs_stop_fn) for sgs_exec_t.stop and io's options: ctx is a
 * const sgs_stop_point_t *; each call is sgs_interrupt_checkpoint(pause_at, where, err). */
int sgs_interrupt_stop(void *point, sgs_error_t *err);

/* Test hook: when the environment has SGS_TEST_PAUSE_AT=<point>, at that point the process
 * writes "segscore: test hook: paused at <point> (pid N)" to stderr and waits, up to 60 s,
 * for a signal; tests use it to signal or kill a command at a known moment. Once a signal was
 * caught it no longer waits. No effect otherwise. The points are listed in docs/publishing.md
 * ("Test hooks"). */
void sgs_test_pause_at(const char *point);

#endif
