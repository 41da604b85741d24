/*
 * engine/command_outputs.c — checks, locks, stale temporaries and signals for the commands
 * that write files one by one. See command_outputs.h.
 */
#include "engine/command_outputs.h"

#include "engine/interrupt.h"
#include "io/stale_temporaries.h"

int sgs_command_outputs_open(const char *command, const sgs_named_path_t *inputs, size_t n_inputs,
                             const sgs_named_path_t *outputs, size_t n_outputs,
                             sgs_progress_t *progress, sgs_command_outputs_t *o, sgs_error_t *err)
{
    o->n = 0;
    o->n_stale = 0;
    for (size_t i = 0; i < SGS_COMMAND_MAX_OUTPUTS; i++)
        o->lock[i] = SGS_OUTPUT_LOCK_INIT;
    if (n_outputs > SGS_COMMAND_MAX_OUTPUTS)
        return sgs_error_set(err, SGS_EINVAL, "%s: %zu outputs, at most %d", command, n_outputs,
                             SGS_COMMAND_MAX_OUTPUTS);
    /* From here on a signal is only recorded: the command stops at its next safe point. */
    sgs_interrupt_install();
    int rc = sgs_output_paths_check(inputs, n_inputs, outputs, n_outputs, err);
    for (size_t i = 0; rc == SGS_OK && i < n_outputs; i++) {
        rc = sgs_output_lock_take(outputs[i].path, command, "this file", &o->lock[i], err);
        if (rc == SGS_OK)
            o->n++;
    }
    if (rc != SGS_OK) {
        sgs_command_outputs_close(o);
        return rc;
    }
    /* Every lock is held: nobody else is writing these outputs, so their temporaries are a
     * killed writer's. */
    for (size_t i = 0; i < n_outputs; i++) {
        size_t removed = sgs_stale_temporaries_remove(outputs[i].path);
        if (removed > 0 && progress)
            sgs_progress_note(progress,
                              "removed %zu temporary file%s that a stopped segscore command left "
                              "beside %s",
                              removed, removed == 1 ? "" : "s", outputs[i].path);
        o->n_stale += removed;
    }
    return SGS_OK;
}

void sgs_command_outputs_close(sgs_command_outputs_t *o)
{
    for (size_t i = 0; o && i < SGS_COMMAND_MAX_OUTPUTS; i++)
        sgs_output_lock_release(&o->lock[i]);
    if (o)
        o->n = 0;
}
