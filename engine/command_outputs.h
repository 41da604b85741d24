/*
 * engine/command_outputs.h — the guarantees around the outputs of the commands that write
 * their files one by one (import, generate, evaluate, kmeans), the same as `run` gives its
 * output set (engine/run_publish.c, docs/publishing.md): before any work every output path is
 * checked, each output is locked (a second command writing it exits 75 naming the holder's
 * pid), the temporaries a killed earlier command left beside it are removed, and SIGINT,
 * SIGTERM and SIGHUP stop the command at its next safe point instead of killing it.
 *
 *   sgs_command_outputs_t outs;
 *   rc = sgs_command_outputs_open("import", in, 1, out, 1, &progress, &outs, &err);
 *   ... the work, asking sgs_interrupt_check / sgs_interrupt_stop (engine/interrupt.h), then
 *   each file written aside and renamed into place (io/atomic_file.h) ...
 *   sgs_command_outputs_close(&outs);
 *   return rc ? sgs_interrupt_exit_status_for(rc) : 0;
 */
#ifndef SGS_COMMAND_OUTPUTS_H
#define SGS_COMMAND_OUTPUTS_H

#include "engine/progress.h"
#include "io/output_lock.h"
#include "io/output_paths.h"

#include <stddef.h>

#define SGS_COMMAND_MAX_OUTPUTS 2

typedef struct sgs_command_outputs {
    size_t n;                                        /* outputs locked */
    sgs_output_lock_t lock[SGS_COMMAND_MAX_OUTPUTS]; /* one per output, in the order given */
    size_t n_stale;                                  /* stale temporaries removed */
} sgs_command_outputs_t;

/* Before any work of `command` ("import": named in the lock files): install the signal
 * handlers (engine/interrupt.h); check every output path, against the inputs and each other
 * (io/output_paths.h); take the lock of each output (io/output_lock.h), all of them before
 * anything is changed; then remove the temporaries ".<name>.tmp-*" that a killed earlier
 * writer left beside each output (io/stale_temporaries.h), saying so through progress (NULL:
 * silently). outputs[i].what names the output in messages. *o is always set: close it.
 * @return 0; the codes of sgs_output_paths_check (64, 73); SGS_ETEMPFAIL (75) when another
 * process holds a lock, naming its pid (nothing was changed); SGS_ECANTCREAT when a lock
 * cannot be made; SGS_EINVAL for more than SGS_COMMAND_MAX_OUTPUTS outputs. */
int sgs_command_outputs_open(const char *command, const sgs_named_path_t *inputs, size_t n_inputs,
                             const sgs_named_path_t *outputs, size_t n_outputs,
                             sgs_progress_t *progress, sgs_command_outputs_t *o, sgs_error_t *err);

/* Release the locks. Safe after a failed open, and twice. */
void sgs_command_outputs_close(sgs_command_outputs_t *o);

#endif
