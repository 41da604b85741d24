/*
 * engine/command_outputs.c — checks, locks, stale temporaries, signals and publishing for the
 * commands other than run. See command_outputs.h.
 */
#include "engine/command_outputs.h"

#include "engine/interrupt.h"
#include "io/stale_temporaries.h"

#include <stdio.h>
#include <string.h>

/* The outputs' names inside a generation of their set: their file names, the second one
 * prefixed when both have the same. */
static int name_outputs(const sgs_named_path_t *outputs, size_t n, sgs_command_outputs_t *o,
                        sgs_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *slash = strrchr(outputs[i].path, '/');
        const char *base = slash ? slash + 1 : outputs[i].path;
        int clash = i > 0 && strcmp(base, o->name[0]) == 0;
        int w = snprintf(o->name[i], sizeof o->name[i], "%s%s", clash ? "2-" : "", base);
        if (w < 0 || (size_t)w >= sizeof o->name[i])
            return sgs_error_set(err, SGS_EUSAGE, "%s: file name too long: %.200s...",
                                 outputs[i].what, base);
    }
    return SGS_OK;
}

/* Two outputs: their set, which locks the first and removes what a stopped command left. */
static int open_set(const char *command, const sgs_named_path_t *outputs, size_t n,
                    sgs_progress_t *progress, sgs_command_outputs_t *o, sgs_error_t *err)
{
    sgs_publish_output_t set[SGS_COMMAND_MAX_OUTPUTS];
    int rc = name_outputs(outputs, n, o, err);
    for (size_t i = 0; i < n; i++)
        set[i] = (sgs_publish_output_t){outputs[i].path, o->name[i]};
    if (rc == SGS_OK)
        rc = sgs_publish_open(set, n, command, &o->set, err);
    if (rc != SGS_OK)
        return rc;
    o->n_stale = sgs_publish_stale_removed(o->set);
    if (o->n_stale > 0 && progress)
        sgs_progress_note(progress,
                          "removed %zu temporary files or folders that a stopped segscore command "
                          "left beside %s",
                          o->n_stale, outputs[0].path);
    return SGS_OK;
}

int sgs_command_outputs_open(const char *command, const sgs_named_path_t *inputs, size_t n_inputs,
                             const sgs_named_path_t *outputs, size_t n_outputs,
                             sgs_progress_t *progress, sgs_command_outputs_t *o, sgs_error_t *err)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < SGS_COMMAND_MAX_OUTPUTS; i++)
        o->lock[i] = SGS_OUTPUT_LOCK_INIT;
    if (n_outputs > SGS_COMMAND_MAX_OUTPUTS)
        return sgs_error_set(err, SGS_EINVAL, "%s: %zu outputs, at most %d", command, n_outputs,
                             SGS_COMMAND_MAX_OUTPUTS);
    /* From here on a signal is only recorded: the command stops at its next safe point. */
    sgs_interrupt_install();
    int rc = sgs_output_paths_check(inputs, n_inputs, outputs, n_outputs, err);
    /* a set holds its first output's lock: a second lock of the same file by this process
       would be released with it (fcntl locks belong to the process) */
    size_t first_own = n_outputs > 1 ? 1 : 0;
    for (size_t i = first_own; rc == SGS_OK && i < n_outputs; i++)
        rc = sgs_output_lock_take(outputs[i].path, command, "this file", &o->lock[i], err);
    if (rc == SGS_OK && n_outputs > 1)
        rc = open_set(command, outputs, n_outputs, progress, o, err);
    if (rc != SGS_OK) {
        sgs_command_outputs_close(o);
        return rc;
    }
    o->n = n_outputs;
    if (o->set)
        return SGS_OK;
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
    if (n_outputs == 1)
        snprintf(o->single.final_path, sizeof o->single.final_path, "%s", outputs[0].path);
    return SGS_OK;
}

int sgs_command_outputs_begin(sgs_command_outputs_t *o, sgs_error_t *err)
{
    if (o->set)
        return sgs_publish_begin(o->set, err);
    if (o->n == 1) {
        char path[SGS_PATH_MAX];
        snprintf(path, sizeof path, "%s", o->single.final_path);
        return sgs_atomic_begin(path, &o->single, err);
    }
    return SGS_OK;
}

const char *sgs_command_outputs_file(const sgs_command_outputs_t *o, size_t i)
{
    return o->set ? sgs_publish_file(o->set, i) : o->single.temp_path;
}

const char *sgs_command_outputs_path(const sgs_command_outputs_t *o, size_t i)
{
    return o->set ? sgs_publish_path(o->set, i) : o->single.final_path;
}

int sgs_command_outputs_publish(sgs_command_outputs_t *o, const char *pause_at, sgs_error_t *err)
{
    if (o->n == 0)
        return SGS_OK;
    if (!o->set) {
        int rc = sgs_interrupt_checkpoint(pause_at, "before publishing the outputs", err);
        return rc == SGS_OK ? sgs_atomic_commit(&o->single, err) : rc;
    }
    int rc = SGS_OK;
    for (size_t i = 0; rc == SGS_OK && i < o->n; i++)
        rc = sgs_publish_flush(o->set, i, err);
    if (rc == SGS_OK)
        rc = sgs_publish_seal(o->set, err);
    if (rc == SGS_OK)
        rc = sgs_interrupt_checkpoint(pause_at, "before publishing the outputs", err);
    if (rc == SGS_OK)
        rc = sgs_publish_switch(o->set, err);
    if (rc == SGS_OK)
        sgs_publish_prune(o->set);
    return rc;
}

void sgs_command_outputs_close(sgs_command_outputs_t *o)
{
    if (!o)
        return;
    sgs_atomic_abort(&o->single); /* no-op once committed, or never begun */
    sgs_publish_close(o->set);
    o->set = NULL;
    for (size_t i = 0; i < SGS_COMMAND_MAX_OUTPUTS; i++)
        sgs_output_lock_release(&o->lock[i]);
    o->n = 0;
}
