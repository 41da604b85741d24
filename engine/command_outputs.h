/*
 * engine/command_outputs.h — the guarantees around the outputs of the commands other than
 * `run` (import, generate, kmeans, evaluate, measure), the same as `run` gives its output set
 * (engine/run_publish.c, docs/publishing.md): before any work every output path is checked,
 * each output is locked (a second command writing it exits 75 naming the holder's pid), what
 * a killed earlier command left beside it is removed, and SIGINT, SIGTERM and SIGHUP stop the
 * command at its next safe point instead of killing it.
 *
 * Commands of one output write it aside and rename it into place themselves (io/atomic_file.h):
 *
 *   sgs_command_outputs_t outs;
 *   rc = sgs_command_outputs_open("import", in, 1, out, 1, &progress, &outs, &err);
 *   ... the work, asking sgs_interrupt_check / sgs_interrupt_stop (engine/interrupt.h), then
 *   the file written aside and renamed into place ...
 *   sgs_command_outputs_close(&outs);
 *   return rc ? sgs_interrupt_exit_status_for(rc) : 0;
 *
 * Commands of one or two outputs (evaluate, measure: -o and --json) let this publish them:
 * one output is renamed into place; two are one output set published by io/publish.h as
 * `run` publishes its own, so that a reader never sees today's HDF5 file beside yesterday's
 * JSON, whatever fails or is killed:
 *
 *   rc = sgs_command_outputs_begin(&outs, &err);
 *   for each output i: write sgs_command_outputs_file(&outs, i), naming
 *   sgs_command_outputs_path(&outs, i) in messages;
 *   rc = sgs_command_outputs_publish(&outs, "evaluate-written", &err);
 *   sgs_command_outputs_close(&outs);   // not published: what was written is removed
 */
#ifndef SGS_COMMAND_OUTPUTS_H
#define SGS_COMMAND_OUTPUTS_H

#include "engine/progress.h"
#include "io/atomic_file.h"
#include "io/output_lock.h"
#include "io/output_paths.h"
#include "io/publish.h"

#include <stddef.h>

#define SGS_COMMAND_MAX_OUTPUTS 2

typedef struct sgs_command_outputs {
    size_t n;                                        /* outputs locked */
    sgs_output_lock_t lock[SGS_COMMAND_MAX_OUTPUTS]; /* one per output not locked by `set` */
    size_t n_stale;                                  /* stale temporaries removed */
    sgs_publish_t *set;  /* two outputs: their set (it holds the first one's lock) */
    sgs_atomic_t single; /* one output, after sgs_command_outputs_begin */
    char name[SGS_COMMAND_MAX_OUTPUTS][256]; /* the outputs' names in a generation of `set` */
} sgs_command_outputs_t;

/* Before any work of `command` ("import": named in the lock files): install the signal
 * handlers (engine/interrupt.h); check every output path, against the inputs and each other
 * (io/output_paths.h); take the lock of each output (io/output_lock.h), all of them before
 * anything is changed; then remove the temporaries ".<name>.tmp-*" that a killed earlier
 * writer left beside each output (io/stale_temporaries.h), saying so through progress (NULL:
 * silently). Two outputs are opened as one set (io/publish.h sgs_publish_open: its state
 * folder beside the first output holds that output's lock, and a killed command's
 * generation is removed too). outputs[i].what names the output in messages. *o is always
 * set: close it.
 * @return 0; the codes of sgs_output_paths_check (64, 73); SGS_ETEMPFAIL (75) when another
 * process holds a lock, naming its pid (nothing was changed); SGS_ECANTCREAT when a lock
 * cannot be made; SGS_EINVAL for more than SGS_COMMAND_MAX_OUTPUTS outputs. */
int sgs_command_outputs_open(const char *command, const sgs_named_path_t *inputs, size_t n_inputs,
                             const sgs_named_path_t *outputs, size_t n_outputs,
                             sgs_progress_t *progress, sgs_command_outputs_t *o, sgs_error_t *err);

/* Start writing: with one output, its temporary beside it (io/atomic_file.h); with two, the
 * new generation of their set (io/publish.h sgs_publish_begin).
 * @return 0; the codes of sgs_atomic_begin or sgs_publish_begin. */
int sgs_command_outputs_begin(sgs_command_outputs_t *o, sgs_error_t *err);

/* Where output i is to be written, after sgs_command_outputs_begin. */
const char *sgs_command_outputs_file(const sgs_command_outputs_t *o, size_t i);

/* Output i's path as the command was given it: the one messages name. */
const char *sgs_command_outputs_path(const sgs_command_outputs_t *o, size_t i);

/* Every output written: flush them, stop if a signal came (sgs_interrupt_checkpoint at
 * pause_at, "before publishing the outputs"), and make them visible at once: one rename of
 * the file, or of the set's `current` link. @return 0; SGS_EIO naming the output; SGS_EINTR. */
int sgs_command_outputs_publish(sgs_command_outputs_t *o, const char *pause_at, sgs_error_t *err);

/* Release the locks; what was begun and not published is removed. Safe after a failed open,
 * and twice. */
void sgs_command_outputs_close(sgs_command_outputs_t *o);

#endif
