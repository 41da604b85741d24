/*
 * engine/cmd_measure.c — `segscore measure`: options into a measure request
 * (engine/measure.h), then the table on standard output and the optional JSON and HDF5
 * reports, published as `segscore evaluate` publishes its own (engine/command_outputs.h).
 */
#include "engine/commands.h"
#include "engine/interrupt.h"
#include "engine/measure.h"
#include "engine/options.h"
#include "engine/report_pair.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The reports' writers, in the form engine/report_pair.h calls them. */
static int write_h5(const void *res, const void *req, const char *file, const char *path,
                    sgs_error_t *err)
{
    return sgs_measure_write_h5(res, req, file, path, err);
}

static int write_json(const void *res, const void *req, const char *file, const char *path,
                      sgs_error_t *err)
{
    return sgs_measure_write_json(res, req, file, path, err);
}

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: segscore measure -r RESULTS.h5 -i NEWER_INPUT.h5 [options]\n"
            "\n"
            "Measure an earlier run's opportunity list against what its customers did since:\n"
            "per opportunity kind and channel, treated (contacted) against control (held\n"
            "out): customers per arm, response rate, share who bought, revenue per customer,\n"
            "renewals kept (renewal_at_risk), survey score change (detractor_follow_up), each\n"
            "difference with a 95%% interval; the incremental revenue per kind and the\n"
            "cumulative impact. Arms too small to say anything are flagged, never dropped.\n"
            "\n"
            "  -r, --results PATH        the earlier run's results file (its /opportunities\n"
            "                            list with groups and its as-of date)\n"
            "  -i, --input PATH          the newer input HDF5 file: transactions and events\n"
            "                            that go past the list's as-of date\n"
            "      --days N              outcome window: the N days after the as-of date\n"
            "                            (default: up to the input's last day)\n"
            "      --min-arm N           an arm with fewer customers is flagged inconclusive\n"
            "                            (default 30, at least 2)\n"
            "      --threads N           OpenMP threads (0 = all cores, the default)\n"
            "      --json PATH           write the full report as JSON\n"
            "  -o, --output PATH         write the report as HDF5\n"
            "  -q, --quiet               no progress output (the table is still printed)\n"
            "  -h, --help                this help\n");
}

int sgs_cmd_measure(int argc, char **argv)
{
    sgs_measure_request_t req;
    memset(&req, 0, sizeof req);
    req.min_arm = 30;
    const char *output = NULL, *json = NULL;
    int quiet = 0, threads = 0, days = 0, rc;
    size_t min_arm = 30;
    enum { DAYS = 2 }; /* its place in the table */
    const sgs_option_t options[] = {
        {.name = "results",
         .short_name = 'r',
         .kind = SGS_OPT_TEXT,
         .target = &req.results_path,
         .metavar = "RESULTS",
         .required = 1},
        SGS_OPTION_INPUT(&req.input_path, 1),
        {.name = "days", .kind = SGS_OPT_INT, .target = &days, .lo = 1, .hi = 36500},
        {.name = "min-arm",
         .kind = SGS_OPT_COUNT,
         .target = &min_arm,
         .lo = 2,
         .hi = SGS_OPTION_NO_MAX},
        SGS_OPTION_THREADS(&threads),
        {.name = "json", .kind = SGS_OPT_TEXT, .target = &json},
        SGS_OPTION_OUTPUT(&output, 0),
        SGS_OPTION_QUIET(&quiet),
    };
    int seen[sizeof options / sizeof options[0]];
    const sgs_command_line_t command_line = {.command = "measure",
                                             .help = print_help,
                                             .options = options,
                                             .n_options = sizeof options / sizeof options[0],
                                             .seen = seen};
    int status = sgs_command_line_parse(&command_line, argc, argv);
    if (status >= 0)
        return status;
    req.has_days = seen[DAYS];
    req.days = days;
    req.min_arm = (int64_t)min_arm;

    /* Before any work: the outputs are usable, none is an input or the other, each is
     * locked, stale temporaries are removed, signals are caught (engine/report_pair.h). */
    const sgs_named_path_t inputs[] = {{"results (-r)", req.results_path},
                                       {"input", req.input_path}};
    sgs_progress_t progress;
    sgs_progress_init(&progress, stderr, quiet);
    sgs_report_pair_t reports;
    status = sgs_report_pair_open(&reports, "measure", inputs, 2, output, json, &progress);
    if (status)
        return status;

    req.n_threads = threads > 0 ? threads : omp_get_num_procs();
    req.now_s = (int64_t)time(NULL);
    req.progress = &progress;
    sgs_error_t err = {0};
    static sgs_measure_result_t res; /* 80 KB of fixed-size lines: not on the stack */
    rc = sgs_measure(&req, &res, &err);
    rc = sgs_report_pair_publish(&reports, rc, write_h5, write_json, &res, &req, &err);
    if (rc == SGS_OK)
        sgs_measure_print(&res, &req, stdout);
    return sgs_report_pair_exit(&reports, rc, &err, &progress);
}
