/*
 * engine/run_publish.c — write every output of a run aside, then rename them all into
 * place. A failure anywhere before the renames leaves yesterday's files exactly as they
 * were; the temporaries are removed.
 */
#include "engine/run_state.h"

#include "io/atomic_file.h"

#include <stdio.h>
#include <string.h>

typedef struct output {
    const char *what;
    int (*write)(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
    const char *configured;   /* config path, "" = default_name beside the results */
    const char *default_name; /* NULL: the results file itself */
    char path[SGS_PATH_MAX];
    sgs_atomic_t file;
} output_t;

/* `configured` when set, else `default_name` in the results file's folder. */
static int resolve_path(const char *results_path, const char *configured, const char *default_name,
                        char *out, size_t size, sgs_error_t *err)
{
    int n;
    if (configured[0]) {
        n = snprintf(out, size, "%s", configured);
    } else {
        const char *slash = strrchr(results_path, '/');
        int dir_len = slash ? (int)(slash - results_path) + 1 : 0;
        n = snprintf(out, size, "%.*s%s", dir_len, results_path, default_name);
    }
    if (n < 0 || (size_t)n >= size)
        return sgs_error_set(err, SGS_ECANTCREAT, "output path too long: %s", out);
    return SGS_OK;
}

int sgs_run_publish(sgs_run_state_t *st, sgs_error_t *err)
{
    const sgs_config_t *cfg = st->req->config;
    /* The summary is written last so that it carries the timing of the other writes. */
    output_t outputs[] = {
        {"results", sgs_write_results_h5, "", NULL, "", {"", ""}},
        {"customers csv",
         sgs_write_customers_csv,
         cfg->customers_csv,
         "customers.csv",
         "",
         {"", ""}},
        {"opportunities csv",
         sgs_write_opportunities_csv,
         cfg->opportunities_csv,
         "opportunities.csv",
         "",
         {"", ""}},
        {"report", sgs_write_report, cfg->report, "report.txt", "", {"", ""}},
        {"summary", sgs_write_summary_json, cfg->summary_json, "summary.json", "", {"", ""}},
    };
    enum { N_OUTPUTS = sizeof outputs / sizeof outputs[0] };
    int rc = SGS_OK;
    for (size_t i = 0; rc == SGS_OK && i < N_OUTPUTS; i++) {
        output_t *o = &outputs[i];
        if (!o->default_name)
            snprintf(o->path, sizeof o->path, "%s", st->req->output_path);
        else
            rc = resolve_path(st->req->output_path, o->configured, o->default_name, o->path,
                              SGS_PATH_MAX, err);
    }
    if (rc != SGS_OK)
        return rc;

    size_t n_begun = 0;
    sgs_progress_begin(st->req->progress, "write");
    for (; n_begun < N_OUTPUTS; n_begun++) {
        output_t *o = &outputs[n_begun];
        if (n_begun == N_OUTPUTS - 1)
            sgs_progress_end(st->req->progress, "results, csv files and report");
        rc = sgs_atomic_begin(o->path, &o->file, err);
        if (rc == SGS_OK)
            rc = o->write(st, o->file.temp_path, err);
        if (rc != SGS_OK) {
            sgs_error_rename(err, o->file.temp_path, o->path); /* name the file asked for */
            n_begun++;
            break;
        }
    }
    for (size_t i = 0; rc == SGS_OK && i < N_OUTPUTS; i++)
        rc = sgs_atomic_commit(&outputs[i].file, err);
    for (size_t i = 0; i < n_begun; i++)
        sgs_atomic_abort(&outputs[i].file); /* no-op for committed files */
    if (rc == SGS_OK) {
        char list[4 * SGS_PATH_MAX] = "";
        size_t used = 0;
        for (size_t i = 0; i < N_OUTPUTS && used < sizeof list; i++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s",
                             i == 0 ? "" : (i + 1 == N_OUTPUTS ? " and " : ", "), outputs[i].path);
            used += w > 0 ? (size_t)w : 0;
        }
        sgs_progress_note(st->req->progress, "wrote %s", list);
    }
    return rc;
}
