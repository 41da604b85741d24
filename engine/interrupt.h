/*
 * engine/interrupt.h — SIGINT, SIGTERM and SIGHUP stop a run at its next safe point.
 *
 * The handler only records the signal (nothing else is safe in a handler); the run asks
 * sgs_interrupt_check between its steps and before it switches to the new outputs, and
 * unwinds like any error: temporary files and the unfinished generation are removed, the
 * previous outputs stay, and the process exits 128 + the signal (130 SIGINT, 143 SIGTERM,
 * 129 SIGHUP). A second signal while the first is pending ends the process at once (the
 * next run of the same outputs removes what it left).
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

/* Test hook: when the environment has SGS_TEST_PAUSE_AT=<point>, at that point the process
 * writes "segscore: test hook: paused at <point> (pid N)" to stderr and waits, up to 60 s,
 * for a signal; tests use it to signal or kill a run at a known moment. No effect otherwise. */
void sgs_test_pause_at(const char *point);

#endif
