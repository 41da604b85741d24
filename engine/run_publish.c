/*
 * engine/run_publish.c — where a run's outputs go and how they appear: every path checked
 * against the input and the other outputs before any work, the output set locked for the
 * run, and all outputs published together by io/publish.h (docs/publishing.md). A run spread
 * over processes publishes through engine/dist_publish.h: the results file and customers.csv
 * are written by every process together, the others by process 0 from the whole base.
 */
#include "engine/run_state.h"

#include "engine/dist_publish.h"
#include "engine/dist_run.h"
#include "engine/interrupt.h"
#include "io/atomic_file.h"
#include "io/background_task.h"
#include "io/output_paths.h"
#include "io/publish.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define RESULTS_ITSELF ((size_t)-1)

/* The outputs of a run, in the order they are written; adding one is adding a row. The
 * summary is written last so that it carries the timing of the other writes. An output
 * that can be turned off is off when its path is "none". */
static const struct {
    const char *what;     /* in messages: the configuration key */
    const char *name;     /* default file name beside the results, and name in a generation */
    size_t config_offset; /* offsetof the sgs_config_t path ("" = default); RESULTS_ITSELF */
    int (*write)(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
    int can_be_off;   /* the path "none" turns it off */
    int beside_first; /* written while the first output (results) is written on a thread of
                         its own; these follow it directly in this table */
    int spread;       /* in a spread run, written by every process together (its writer is
                         collective); else by process 0 from the whole base */
} outputs[] = {
    {"results", "results.h5", RESULTS_ITSELF, sgs_write_results_h5, 0, 0, 1},
    {"output.customers_csv", "customers.csv", offsetof(sgs_config_t, customers_csv),
     sgs_write_customers_csv, 0, 1, 1},
    {"output.opportunities_csv", "opportunities.csv", offsetof(sgs_config_t, opportunities_csv),
     sgs_write_opportunities_csv, 0, 1, 0},
    {"output.report", "report.txt", offsetof(sgs_config_t, report), sgs_write_report, 0, 0, 0},
    {"output.report_html", "report.html", offsetof(sgs_config_t, report_html),
     sgs_write_report_html, 1, 0, 0},
    {"output.summary_json", "summary.json", offsetof(sgs_config_t, summary_json),
     sgs_write_summary_json, 0, 0, 0},
};
enum { N_OUTPUTS = sizeof outputs / sizeof outputs[0] };

/* The indices in outputs[] of the outputs this run writes, in order, into active[N_OUTPUTS];
 * returns how many. The publish set's output j is outputs[active[j]]. */
static size_t active_outputs(const sgs_run_request_t *req, size_t active[N_OUTPUTS])
{
    size_t n = 0;
    for (size_t i = 0; i < N_OUTPUTS; i++) {
        const char *configured = outputs[i].config_offset == RESULTS_ITSELF
                                     ? ""
                                     : (const char *)req->config + outputs[i].config_offset;
        if (!(outputs[i].can_be_off && strcmp(configured, "none") == 0))
            active[n++] = i;
    }
    return n;
}

/* The configured path of output i, else its default name in the results file's folder. */
static int resolve_path(const sgs_run_request_t *req, size_t i, char *out, size_t size,
                        sgs_error_t *err)
{
    const char *results = req->output_path;
    const char *configured = outputs[i].config_offset == RESULTS_ITSELF
                                 ? results
                                 : (const char *)req->config + outputs[i].config_offset;
    int n;
    if (configured[0] || outputs[i].config_offset == RESULTS_ITSELF) {
        n = snprintf(out, size, "%s", configured);
    } else {
        const char *slash = strrchr(results, '/');
        int dir_len = slash ? (int)(slash - results) + 1 : 0;
        n = snprintf(out, size, "%.*s%s", dir_len, results, outputs[i].name);
    }
    if (n < 0 || (size_t)n >= size)
        return sgs_error_set(err, SGS_EUSAGE, "%s: output path too long: %.200s...",
                             outputs[i].what, out);
    return SGS_OK;
}

int sgs_run_publish_open(sgs_run_state_t *st, sgs_error_t *err)
{
    const sgs_run_request_t *req = st->req;
    char paths[N_OUTPUTS][SGS_PATH_MAX];
    sgs_named_path_t named[N_OUTPUTS];
    sgs_publish_output_t set[N_OUTPUTS];
    size_t active[N_OUTPUTS], n = active_outputs(req, active);
    for (size_t j = 0; j < n; j++) {
        size_t i = active[j];
        int rc = resolve_path(req, i, paths[j], sizeof paths[j], err);
        if (rc != SGS_OK)
            return rc;
        named[j] = (sgs_named_path_t){outputs[i].what, paths[j]};
        set[j] = (sgs_publish_output_t){paths[j], outputs[i].name};
    }
    const sgs_named_path_t inputs[] = {{"input", req->input_path},
                                       {"configuration file", req->config_path}};
    int rc = sgs_output_paths_check(inputs, sizeof inputs / sizeof inputs[0], named, n, err);
    if (st->dist.size > 1) { /* process 0 holds the set for all (engine/dist_publish.h) */
        rc = sgs_dist_run_agree(st, rc, err);
        if (rc == SGS_OK)
            rc = sgs_dist_publish_open(&st->dist, set, n, "run", &st->dist_publish, err);
        return rc;
    }
    if (rc == SGS_OK)
        rc = sgs_publish_open(set, n, "run", &st->publish, err);
    if (rc == SGS_OK && sgs_publish_stale_removed(st->publish) > 0)
        sgs_progress_note(req->progress,
                          "removed %zu temporary files or folders that a stopped run of these "
                          "outputs left",
                          sgs_publish_stale_removed(st->publish));
    return rc;
}

/* Name the file asked for in err, not its place in the generation. */
static void name_output(sgs_publish_t *p, size_t j, sgs_error_t *err)
{
    if (!err)
        return;
    sgs_error_rename(err, sgs_publish_file(p, j), sgs_publish_path(p, j));
    if (!strstr(err->message, sgs_publish_path(p, j)))
        sgs_error_prefix(err, "writing %s", sgs_publish_path(p, j));
}

/* Write outputs[i], the set's output j, into the new generation; flush it when asked. */
static int write_one(const sgs_run_state_t *st, size_t i, size_t j, int flush, sgs_error_t *err)
{
    sgs_publish_t *p = st->publish;
    int rc = outputs[i].write(st, sgs_publish_file(p, j), err);
    if (rc == SGS_OK && flush)
        rc = sgs_publish_flush(p, j, err);
    if (rc != SGS_OK)
        name_output(p, j, err);
    return rc;
}

/* The first output, written on a thread of its own. */
typedef struct first_output {
    const sgs_run_state_t *st;
    size_t i;        /* its row in outputs[] */
    sgs_error_t err; /* its own: the caller's is in use meanwhile */
} first_output_t;

static int write_first(void *arg)
{
    first_output_t *w = arg;
    return write_one(w->st, w->i, 0, 0, &w->err);
}

/* Write the first output (results.h5, one thread: HDF5) and, meanwhile, the outputs marked
 * beside_first (the CSV files, formatted on the run's threads); then flush them in the
 * order of the table, as if written one after another. The first error in that order is
 * reported; every write has ended when this returns. *n_done gets how many outputs of the
 * set this wrote. */
static int write_first_outputs(sgs_run_state_t *st, const size_t *active, size_t n, size_t *n_done,
                               sgs_error_t *err)
{
    sgs_publish_t *p = st->publish;
    first_output_t first = {st, active[0], {0}};
    sgs_background_task_t task;
    sgs_background_start(&task, write_first, &first);
    size_t k = 1;
    int rc = SGS_OK;
    while (rc == SGS_OK && k < n && outputs[active[k]].beside_first) {
        rc = sgs_interrupt_check("while writing the outputs", err);
        if (rc == SGS_OK)
            rc = write_one(st, active[k], k, 0, err);
        k++;
    }
    int first_rc = sgs_background_finish(&task);
    if (first_rc != SGS_OK) {
        if (err)
            *err = first.err;
        return first_rc;
    }
    for (size_t j = 0; rc == SGS_OK && j < k; j++) {
        rc = sgs_publish_flush(p, j, err);
        if (rc != SGS_OK)
            name_output(p, j, err);
    }
    *n_done = k;
    return rc;
}

/* A spread run's outputs: first those every process writes together (each writer agrees on
 * its outcome), then those process 0 writes alone from the whole base's state, in the table's
 * order; then the commit, which agrees on every process's outcome and publishes only when all
 * succeeded (engine/dist_publish.h). */
static int publish_spread(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_dist_publish_t *p = st->dist_publish;
    sgs_progress_begin(st->req->progress, "write");
    size_t active[N_OUTPUTS], n = active_outputs(st->req, active);
    sgs_run_state_t *whole = NULL;
    int rc = sgs_dist_run_whole_state(st, &whole, err);
    for (int pass = 1; pass >= 0; pass--) {
        for (size_t j = 0; rc == SGS_OK && j < n; j++) {
            size_t i = active[j];
            if (outputs[i].spread != pass || (pass == 0 && !whole))
                continue;
            if (j == n - 1)
                sgs_progress_end(st->req->progress, "results, csv files and reports");
            rc = outputs[i].write(pass ? st : whole, sgs_dist_publish_file(p, j), err);
            if (rc != SGS_OK && err && !strstr(err->message, "writing"))
                sgs_error_prefix(err, "writing %s", outputs[i].what);
        }
        if (pass == 1) /* the collective writes agree; process 0's alone are the commit's */
            rc = sgs_dist_run_agree(st, rc, err);
    }
    sgs_dist_run_whole_free(whole);
    return sgs_dist_publish_commit(p, rc, err);
}

int sgs_run_publish(sgs_run_state_t *st, sgs_error_t *err)
{
    if (st->dist.size > 1)
        return publish_spread(st, err);
    sgs_publish_t *p = st->publish;
    sgs_progress_begin(st->req->progress, "write");
    size_t active[N_OUTPUTS], n = active_outputs(st->req, active), done = 0;
    int rc = sgs_publish_begin(p, err);
    /* With one thread the run uses one thread: the outputs one after another. n - 1: the
     * last output (the summary) is written on its own, after the step's time is taken. */
    if (rc == SGS_OK && st->exec.n_threads > 1 && n > 1 && outputs[active[1]].beside_first)
        rc = write_first_outputs(st, active, n - 1, &done, err);
    for (size_t j = done; rc == SGS_OK && j < n; j++) {
        if (j == n - 1)
            sgs_progress_end(st->req->progress, "results, csv files and reports");
        rc = sgs_interrupt_check("while writing the outputs", err);
        if (rc == SGS_OK)
            rc = write_one(st, active[j], j, 1, err);
    }
    if (rc == SGS_OK)
        rc = sgs_publish_seal(p, err);
    /* The last point where the run can still step back: after the switch it is done. */
    if (rc == SGS_OK) {
        sgs_test_pause_at("written");
        rc = sgs_interrupt_check("before publishing the outputs", err);
    }
    if (rc == SGS_OK)
        rc = sgs_publish_switch(p, err);
    if (rc != SGS_OK)
        return rc;
    sgs_test_pause_at("switched");
    sgs_publish_prune(p);
    char list[4 * SGS_PATH_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s",
                         i == 0 ? "" : (i + 1 == n ? " and " : ", "), sgs_publish_path(p, i));
        used += w > 0 ? (size_t)w : 0;
    }
    sgs_progress_note(st->req->progress, "wrote %s", list);
    return SGS_OK;
}

void sgs_run_publish_close(sgs_run_state_t *st)
{
    sgs_publish_close(st->publish);
    st->publish = NULL;
    if (st->dist.size > 1) /* collective: every process gets here */
        sgs_dist_publish_close(st->dist_publish);
    st->dist_publish = NULL;
}
