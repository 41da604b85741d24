/*
 * io/background_task.h — one function run on a thread of its own while the caller goes on:
 * a run writes parts of results.h5 (HDF5 on one thread, most of it waiting for the disk) while
 * its other threads format the CSV files or compute the next step. Threads stay out of
 * engine/ (scripts/check-layers), so the engine asks for one here.
 *
 * The function must not share anything with what the caller does meanwhile, except what
 * both only read; in particular only one of the two may call HDF5 (segscore calls it from one
 * thread at a time: a build of the library need not be thread-safe, and parallel HDF5 is not).
 */
#ifndef SGS_BACKGROUND_TASK_H
#define SGS_BACKGROUND_TASK_H

#include <pthread.h>

/* A task: returns 0 or a negative SGS_E* code. */
typedef int (*sgs_background_fn)(void *arg);

/* Caller-owned; the fields are the module's. */
typedef struct sgs_background_task {
    sgs_background_fn fn; /* what runs */
    void *arg;            /* its argument, borrowed */
    int rc;               /* fn's result, once it has returned */
    int started;          /* a thread runs fn: sgs_background_finish joins it */
    pthread_t thread;     /* that thread */
} sgs_background_task_t;

/* Start fn(arg) on a new thread. When no thread can be started, fn runs at once on the
 * calling thread: the outcome is the same, only sooner. Every start is followed by one
 * sgs_background_finish of the same task. */
void sgs_background_start(sgs_background_task_t *task, sgs_background_fn fn, void *arg);

/* Wait for the task to end and return what fn returned. */
int sgs_background_finish(sgs_background_task_t *task);

#endif
