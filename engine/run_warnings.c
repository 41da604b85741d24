/*
 * engine/run_warnings.c — the run's warnings: printed as they happen, kept with a code for
 * summary.json and the report.
 */
#include "engine/run_state.h"

#include <stdarg.h>
#include <stdio.h>

void sgs_run_warn(sgs_run_state_t *st, const char *code, const char *fmt, ...)
{
    char message[sizeof st->warnings[0].message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    sgs_progress_note(st->req->progress, "warning: %s", message);
    if (st->n_warnings == SGS_RUN_MAX_WARNINGS)
        return;
    sgs_run_warning_t *w = &st->warnings[st->n_warnings++];
    snprintf(w->code, sizeof w->code, "%s", code);
    snprintf(w->message, sizeof w->message, "%s", message);
}
