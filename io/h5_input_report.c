/*
 * io/h5_input_report.c — problems and messages of the HDF5 input reader: the names of its
 * checks, the reporter every problem goes through, and times as messages print them. See
 * h5_input.h ("Problems") and h5_reader_internal.h.
 */
#include "io/h5_input.h"

#include "io/h5_crash.h"
#include "io/h5_reader_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* ---- Problems and messages ------------------------------------------------------------ */

static const char *const check_names[SGS_CHECK_COUNT] = {
    "file",         "missing",    "shape",      "type",          "length",      "empty",
    "range",        "amount_nan", "amount_inf", "time_negative", "time_future", "kind",
    "duplicate_id", "referrer",   "link",       "storage",       "filter"};

const char *sgs_input_check_name(sgs_input_check_t check)
{
    return ((int)check >= 0 && (int)check < SGS_CHECK_COUNT) ? check_names[check] : "unknown";
}

/* Report a problem as "<file>: <dataset>: row N: <text>" (empty parts left out).
 * Returns `code` when reading must stop here (no callback), 0 when it may go on (the
 * callback has it). Fatal problems are returned by the caller whatever this returns. */
int sgs__reader_report(reporter_t *r, sgs_input_check_t check, int code, const char *dataset,
                       size_t row, const char *fmt, ...)
{
    char text[512], where[64] = "", msg[SGS_ERROR_MESSAGE_MAX];
    if (r->settle) { /* checks left for later come first (h5_reader_internal.h) */
        void (*settle)(void *) = r->settle;
        r->settle = NULL;
        settle(r->settle_ctx);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (row != SGS_NO_ROW)
        snprintf(where, sizeof where, "row %zu: ", row);
    snprintf(msg, sizeof msg, "%s: %s%s%s%s", r->file, dataset, *dataset ? ": " : "", where, text);
    if (r->code == 0) {
        r->code = code;
        sgs_error_set(r->err, code, "%s", msg);
    }
    if (!r->fn)
        return code;
    sgs_input_problem_t p = {check, code, dataset, row, msg};
    int armed = sgs_h5_crash_pause(); /* the caller's code is not HDF5's (h5_crash.h) */
    r->fn(r->ctx, &p);
    sgs_h5_crash_resume(armed);
    return 0;
}

/* "2024-06-30T12:00:00Z" for a Unix time; raw seconds when the year is out of range. */
void sgs__reader_format_iso(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if ((int64_t)tt == t && gmtime_r(&tt, &tm) && strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return;
    snprintf(buf, size, "%lld s", (long long)t);
}
