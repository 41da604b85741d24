/*
 * engine/progress.h — what a run tells the person or the log watching it, and the step
 * timings and peak memory that go into the run summary.
 *
 * On a terminal, a long step shows a live percentage on one line; otherwise each step
 * writes one line when it ends ("segscore: read 30000000 rows in 2.31 s, peak 1.2 GB").
 * quiet silences the printing but not the measurements.
 */
#ifndef SGS_PROGRESS_H
#define SGS_PROGRESS_H

#include "kernels/optimizer.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SGS_PROGRESS_MAX_STEPS 32

typedef struct sgs_step_record {
    char name[32];         /* "read", "group", ... */
    double seconds;        /* wall time of the step */
    double cpu_seconds;    /* CPU time of the process's threads in the step, user + system */
    double system_seconds; /* of which in the kernel (page faults, I/O) */
    double peak_rss_mb;    /* process peak resident memory at the end of the step, MiB */
    uint64_t bytes_sent;   /* to other processes of a spread run in the step (engine/dist.h
                              sgs_dist_bytes_sent); 0 in one process */
} sgs_step_record_t;

typedef struct sgs_progress {
    FILE *out;  /* stderr by default */
    int quiet;  /* no printing */
    int is_tty; /* live updates allowed */
    size_t n_steps;
    sgs_step_record_t steps[SGS_PROGRESS_MAX_STEPS];
    double step_start;             /* monotonic seconds when the current step began */
    double step_user, step_system; /* the process's CPU seconds then */
    uint64_t step_bytes;           /* the bytes it had sent to other processes then */
    double run_start;
    double last_draw; /* last live update, to draw at most 10 times a second */
    char current[32];
} sgs_progress_t;

void sgs_progress_init(sgs_progress_t *p, FILE *out, int quiet);

/* Begin a named step. */
void sgs_progress_begin(sgs_progress_t *p, const char *step);

/* Live update within a step: done of total units (rows, customers). Matches the
 * progress callback shape of io/ readers: ctx is the sgs_progress_t. */
void sgs_progress_update(void *ctx, const char *what, size_t done, size_t total);

/* The current step's record so far (begun, not ended): its name, time, peak memory and bytes
 * sent up to now; cpu_seconds and system_seconds 0. */
sgs_step_record_t sgs_progress_so_far(const sgs_progress_t *p);

/* End the current step, record time and memory, print one line with `detail`. */
void sgs_progress_end(sgs_progress_t *p, const char *detail_fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line that is not a step (a warning, a note), printed unless quiet. */
void sgs_progress_note(sgs_progress_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Seconds since sgs_progress_init; process peak RSS in MiB. */
double sgs_progress_elapsed(const sgs_progress_t *p);
double sgs_peak_rss_mb(void);

/* ---- Model fits ------------------------------------------------------------------------
 * A fit's progress: a live line on a terminal (iteration of max_iter) and, every 10 s, a note
 * naming the fit, its iteration, objective and gradient. */
typedef struct sgs_fit_watch {
    sgs_progress_t *progress;
    const char *what; /* "bgnbd fit", "backtest: paretonbd fit", ... */
    int max_iter;
    double next_note_s;
} sgs_fit_watch_t;

/* Point o's progress hook at *w (which must outlive the fit), set the time limit, and make
 * the fit stop at its next iteration when a signal came (engine/interrupt.h: test hook point
 * "fit", stopped "during a model fit"). */
void sgs_fit_watch_attach(sgs_fit_watch_t *w, sgs_progress_t *p, const char *what,
                          double time_limit_s, sgs_optim_options_t *o);

#endif
