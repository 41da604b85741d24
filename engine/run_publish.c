/*
 * engine/run_publish.c — where a run's outputs go and how they appear: every path checked
 * against the input and the other outputs before any work, the output set locked for the
 * run, and all outputs published together by io/publish.h (docs/publishing.md). A run spread
 * over processes publishes through engine/dist_publish.h: the results file and the CSV files
 * are written by every process together, the others (the summary and the reports) by process
 * 0 from the whole base's figures.
 */
#include "engine/run_state.h"

#include "engine/dist_figures.h"
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

/* A run writes four times: right after the value step, results.h5's part of the models (its
 * disk time taken while the segment step computes); right after the segment step, what it
 * made and the customer outputs, so that the columns only they read are freed before the
 * actions step (engine/run.c); right after the stage step, results.h5's part of the stages
 * (while the opportunity step computes); then at the end, the rest. Every part goes into the
 * same new generation, published together at the end. */
enum { PART_MODELS, PART_CUSTOMERS, PART_STAGES, PART_END, N_PARTS };

typedef int (*output_writer_t)(const sgs_run_state_t *st, const char *path, sgs_error_t *err);

/* The outputs of a run, in the order they are written; adding one is adding a row. The
 * summary is written last so that it carries the timing of the other writes. An output
 * that can be turned off is off when its path is "none". */
static const struct {
    const char *what;     /* in messages: the configuration key */
    const char *name;     /* default file name beside the results, and name in a generation */
    size_t config_offset; /* offsetof the sgs_config_t path ("" = default); RESULTS_ITSELF */
    output_writer_t write[N_PARTS]; /* what each part writes of it; NULL: nothing */
    int can_be_off;                 /* the path "none" turns it off */
    int beside_results; /* written while results.h5's part is written on a thread of its own */
    int spread;         /* in a spread run, written by every process together (its writer is
                           collective); else by process 0 alone from the whole base's figures */
} outputs[] = {
    {"results",
     "results.h5",
     RESULTS_ITSELF,
     {sgs_write_results_models_h5, sgs_write_results_segments_h5, sgs_write_results_stages_h5,
      sgs_write_results_actions_h5},
     0,
     0,
     1},
    {"output.customers_csv",
     "customers.csv",
     offsetof(sgs_config_t, customers_csv),
     {NULL, sgs_write_customers_csv, NULL, NULL},
     0,
     1,
     1},
    {"output.opportunities_csv",
     "opportunities.csv",
     offsetof(sgs_config_t, opportunities_csv),
     {NULL, NULL, NULL, sgs_write_opportunities_csv},
     0,
     1,
     1},
    {"output.report",
     "report.txt",
     offsetof(sgs_config_t, report),
     {NULL, NULL, NULL, sgs_write_report},
     0,
     0,
     0},
    {"output.report_html",
     "report.html",
     offsetof(sgs_config_t, report_html),
     {NULL, NULL, NULL, sgs_write_report_html},
     1,
     0,
     0},
    {"output.summary_json",
     "summary.json",
     offsetof(sgs_config_t, summary_json),
     {NULL, NULL, NULL, sgs_write_summary_json},
     0,
     0,
     0},
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
    size_t removed = 0;
    if (st->dist.size > 1) { /* process 0 holds the set for all (engine/dist_publish.h) */
        rc = sgs_dist_run_agree(st, rc, err);
        if (rc == SGS_OK)
            rc = sgs_dist_publish_open(&st->dist, set, n, "run", &st->dist_publish, err);
        if (rc == SGS_OK) /* process 0's count: a killed job's generation among them */
            removed = sgs_dist_publish_stale_removed(st->dist_publish);
    } else {
        if (rc == SGS_OK)
            rc = sgs_publish_open(set, n, "run", &st->publish, err);
        if (rc == SGS_OK)
            removed = sgs_publish_stale_removed(st->publish);
    }
    if (removed > 0)
        sgs_progress_note(req->progress,
                          "removed %zu temporary files or folders that a stopped run of these "
                          "outputs left",
                          removed);
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

/* Write part `part` of outputs[i], the set's output j, into the new generation. */
static int write_one(const sgs_run_state_t *st, int part, size_t i, size_t j, sgs_error_t *err)
{
    sgs_publish_t *p = st->publish;
    int rc = outputs[i].write[part](st, sgs_publish_file(p, j), err);
    if (rc != SGS_OK)
        name_output(p, j, err);
    return rc;
}

/* results.h5's part, written on a thread of its own. */
typedef struct results_part {
    const sgs_run_state_t *st;
    int part;
    sgs_error_t err; /* its own: the caller's is in use meanwhile */
} results_part_t;

static int write_results_part(void *arg)
{
    results_part_t *w = arg;
    return write_one(w->st, w->part, 0, 0, &w->err);
}

/* Write part `part` of every output that has one, in the order of the table. With more than
 * one thread, results.h5's part (HDF5: one thread) is written on a thread of its own while
 * the outputs marked beside_results (the CSV files, formatted on the run's threads) are
 * written; the first error in the order of the table is reported, and every write has ended
 * when this returns. At the end the step's time is taken before the last output, the
 * summary, which carries it. */
static int write_part(sgs_run_state_t *st, int part, const char *detail, sgs_error_t *err)
{
    size_t active[N_OUTPUTS], n = active_outputs(st->req, active);
    int done[N_OUTPUTS] = {0};
    int rc = SGS_OK;
    if (st->exec.n_threads > 1 && outputs[active[0]].write[part]) {
        results_part_t results = {st, part, {0}};
        sgs_background_task_t task;
        sgs_background_start(&task, write_results_part, &results);
        for (size_t j = 1; rc == SGS_OK && j < n; j++) {
            size_t i = active[j];
            if (!outputs[i].write[part] || !outputs[i].beside_results)
                continue;
            rc = sgs_interrupt_check("while writing the outputs", err);
            if (rc == SGS_OK)
                rc = write_one(st, part, i, j, err);
            done[j] = 1;
        }
        int results_rc = sgs_background_finish(&task);
        if (results_rc != SGS_OK) {
            if (err)
                *err = results.err;
            return results_rc;
        }
        done[0] = 1;
    }
    for (size_t j = 0; rc == SGS_OK && j < n; j++) {
        size_t i = active[j];
        if (done[j] || !outputs[i].write[part])
            continue;
        if (part == PART_END && j == n - 1)
            sgs_progress_end(st->req->progress, "%s", detail);
        rc = sgs_interrupt_check("while writing the outputs", err);
        if (rc == SGS_OK)
            rc = write_one(st, part, i, j, err);
    }
    if (rc == SGS_OK && part == PART_CUSTOMERS)
        sgs_progress_end(st->req->progress, "%s", detail);
    return rc;
}

/* A spread run's writes of one part: the outputs every process writes together, each writer
 * collective and agreeing on its outcome, in the table's order. */
static int write_spread_part(sgs_run_state_t *st, int part, sgs_error_t *err)
{
    size_t active[N_OUTPUTS], n = active_outputs(st->req, active);
    int rc = SGS_OK;
    for (size_t j = 0; rc == SGS_OK && j < n; j++) {
        size_t i = active[j];
        if (!outputs[i].spread || !outputs[i].write[part])
            continue;
        rc = outputs[i].write[part](st, sgs_dist_publish_file(st->dist_publish, j), err);
        if (rc != SGS_OK && err && !strstr(err->message, "writing"))
            sgs_error_prefix(err, "writing %s", outputs[i].what);
    }
    return sgs_dist_run_agree(st, rc, err);
}

/* A spread run's customer outputs: the reports' figures made over every process's customers,
 * the same on every process (engine/dist_figures.h; agreed), then the customer part of the
 * outputs every process writes together. */
static int publish_customers_spread(sgs_run_state_t *st, sgs_error_t *err)
{
    int rc = sgs_dist_report_figures(st, &st->figures, err);
    if (rc == SGS_OK)
        rc = write_spread_part(st, PART_CUSTOMERS, err);
    if (rc == SGS_OK)
        sgs_progress_end(st->req->progress, "%s",
                         "results.h5's customer columns and customers.csv");
    return rc;
}

/* A part of results.h5 written ahead in one process, on a thread of its own while the next
 * step computes: its disk time then leaves the write steps. One at a time. */
struct sgs_run_results_ahead {
    results_part_t part;
    sgs_background_task_t task;
};

/* Wait for the part being written ahead, if one is. @return its outcome (err: its error). */
static int finish_ahead(sgs_run_state_t *st, sgs_error_t *err)
{
    struct sgs_run_results_ahead *w = st->results_ahead;
    if (!w)
        return SGS_OK;
    st->results_ahead = NULL;
    int rc = sgs_background_finish(&w->task);
    if (rc != SGS_OK && err)
        *err = w->part.err;
    sgs_free(w);
    return rc;
}

/* results.h5's part `part`: every process together in a spread run; else, once the part
 * before it is written, on a thread of its own when the run has more than one thread (the
 * caller's next step must call no HDF5), or at once. */
static int write_results_ahead(sgs_run_state_t *st, int part, sgs_error_t *err)
{
    if (st->dist.size > 1)
        return write_spread_part(st, part, err);
    int rc = finish_ahead(st, err);
    if (rc != SGS_OK)
        return rc;
    struct sgs_run_results_ahead *w = st->exec.n_threads > 1 ? sgs_alloc_array(1, sizeof *w) : NULL;
    if (!w) /* one thread, or no memory for the task: written now */
        return write_one(st, part, 0, 0, err);
    w->part = (results_part_t){st, part, {0}};
    st->results_ahead = w;
    sgs_background_start(&w->task, write_results_part, &w->part);
    return SGS_OK;
}

int sgs_run_publish_models(sgs_run_state_t *st, sgs_error_t *err)
{
    if (st->dist.size == 1) {
        int rc = sgs_publish_begin(st->publish, err);
        if (rc != SGS_OK)
            return rc;
    }
    return write_results_ahead(st, PART_MODELS, err);
}

int sgs_run_publish_stages(sgs_run_state_t *st, sgs_error_t *err)
{
    return write_results_ahead(st, PART_STAGES, err);
}

int sgs_run_publish_customers(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "write customers");
    if (st->dist.size > 1)
        return publish_customers_spread(st, err);
    int rc = finish_ahead(st, err);
    if (rc == SGS_OK)
        rc = sgs_report_figures_compute(st, &st->figures, err);
    if (rc == SGS_OK)
        rc = write_part(st, PART_CUSTOMERS, "results.h5's customer columns and customers.csv", err);
    return rc;
}

/* The progress line that names the published outputs ("wrote a, b and c"). */
static void note_written(const sgs_run_state_t *st, const char *const *paths, size_t n)
{
    char list[4 * SGS_PATH_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s",
                         i == 0 ? "" : (i + 1 == n ? " and " : ", "), paths[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    sgs_progress_note(st->req->progress, "wrote %s", list);
}

/* A spread run's end: the rest of the outputs every process writes together (each writer
 * agrees on its outcome), every process's figures gathered to process 0 for summary.json's
 * "processes", then the outputs process 0 writes alone, in the table's order, from a view of
 * the state with the whole base's counts (engine/dist_run.h); then the commit, which agrees
 * on every process's outcome and publishes only when all succeeded (engine/dist_publish.h). */
static int publish_spread(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "write");
    size_t active[N_OUTPUTS], n = active_outputs(st->req, active);
    int rc = write_spread_part(st, PART_END, err);
    sgs_run_process_t *processes = NULL; /* summary.json's "processes", on process 0 */
    if (rc == SGS_OK)
        rc = sgs_dist_run_processes(st, &processes, err);
    sgs_run_state_t *whole = NULL;
    if (rc == SGS_OK)
        rc = sgs_dist_run_whole_view(st, &whole, err);
    if (whole) {
        whole->processes = processes;
        whole->n_processes = (size_t)st->dist.size;
    }
    for (size_t j = 0; rc == SGS_OK && whole && j < n; j++) {
        size_t i = active[j];
        if (outputs[i].spread || !outputs[i].write[PART_END])
            continue;
        if (j == n - 1)
            sgs_progress_end(st->req->progress, "results, csv files and reports");
        rc = outputs[i].write[PART_END](whole, sgs_dist_publish_file(st->dist_publish, j), err);
        if (rc != SGS_OK && err && !strstr(err->message, "writing"))
            sgs_error_prefix(err, "writing %s", outputs[i].what);
    }
    sgs_free(whole);
    sgs_free(processes);
    rc = sgs_dist_publish_commit(st->dist_publish, rc, err);
    /* Every process passes here only once process 0 has switched (the commit's last
     * agreement): a process stopped here is stopped after the set was published. */
    if (rc == SGS_OK)
        sgs_test_pause_at("switched");
    if (rc == SGS_OK && st->dist.rank == 0) {
        const char *paths[N_OUTPUTS];
        for (size_t j = 0; j < n; j++)
            paths[j] = sgs_dist_publish_path(st->dist_publish, j);
        note_written(st, paths, n);
    }
    return rc;
}

int sgs_run_publish(sgs_run_state_t *st, sgs_error_t *err)
{
    if (st->dist.size > 1)
        return publish_spread(st, err);
    sgs_publish_t *p = st->publish;
    sgs_progress_begin(st->req->progress, "write");
    size_t active[N_OUTPUTS], n = active_outputs(st->req, active);
    int rc = finish_ahead(st, err);
    if (rc == SGS_OK)
        rc = write_part(st, PART_END, "results, csv files and reports", err);
    /* Every output to disk, in the order of the table, as if written one after another. */
    for (size_t j = 0; rc == SGS_OK && j < n; j++) {
        rc = sgs_publish_flush(p, j, err);
        if (rc != SGS_OK)
            name_output(p, j, err);
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
    const char *paths[N_OUTPUTS];
    for (size_t i = 0; i < n; i++)
        paths[i] = sgs_publish_path(p, i);
    note_written(st, paths, n);
    return SGS_OK;
}

void sgs_run_publish_close(sgs_run_state_t *st)
{
    finish_ahead(st, NULL); /* a run stopped while a part was written: it ends first */
    sgs_publish_close(st->publish);
    st->publish = NULL;
    if (st->dist.size > 1) /* collective: every process gets here */
        sgs_dist_publish_close(st->dist_publish);
    st->dist_publish = NULL;
}
