/*
 * engine/cmd_evaluate.c — `segscore evaluate`: options into an evaluation request
 * (engine/evaluate.h), then the table on standard output and the optional JSON and HDF5
 * reports.
 */
#include "engine/commands.h"
#include "engine/evaluate.h"
#include "engine/interrupt.h"
#include "engine/options.h"
#include "engine/report_pair.h"
#include "kernels/dates.h"

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The reports' writers, in the form engine/report_pair.h calls them. */
static int write_h5(const void *res, const void *req, const char *file, const char *path,
                    sgs_error_t *err)
{
    return sgs_eval_write_h5(res, ((const sgs_eval_request_t *)req)->input_path, file, path, err);
}

static int write_json(const void *res, const void *req, const char *file, const char *path,
                      sgs_error_t *err)
{
    return sgs_eval_write_json(res, ((const sgs_eval_request_t *)req)->input_path, file, path, err);
}

static void print_help(FILE *out)
{
    fprintf(out, "usage: segscore evaluate -i INPUT.h5 --calibration-end DATE [options]\n"
                 "\n"
                 "Split the transactions at the calibration end, fit each purchase model on the\n"
                 "calibration period, predict the holdout period and compare: log-likelihood,\n"
                 "AIC, BIC, parameters, holdout purchases by calibration frequency, per-customer\n"
                 "errors, totals, the weekly cumulative tracking curve and the distribution of\n"
                 "calibration repeat purchases.\n"
                 "\n"
                 "  -i, --input PATH          input HDF5 file (see README: input schema)\n"
                 "      --calibration-end D   last day of the calibration period, YYYY-MM-DD\n"
                 "      --holdout-end D       last day of the holdout period (default: the day of\n"
                 "                            the last transaction); later rows are ignored\n"
                 "      --time-unit U         day (default) or week\n"
                 "      --models LIST         comma-separated, default bgnbd,paretonbd,mbgnbd\n"
                 "      --penalizer X         L2 penalty of the fits (default 0)\n"
                 "      --threads N           OpenMP threads (0 = all cores, the default)\n"
                 "      --json PATH           write the full report as JSON\n"
                 "  -o, --output PATH         write the datasets for plotting as HDF5\n"
                 "  -q, --quiet               no progress output (the table is still printed)\n"
                 "  -h, --help                this help\n");
}

/* --models: comma-separated model names into req->models (an option's CALL). */
static int parse_models(void *ctx, const char *name, const char *list, sgs_error_t *err)
{
    (void)name;
    sgs_eval_request_t *req = ctx;
    req->n_models = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char model[32];
        if (len == 0 || len >= sizeof model)
            return sgs_error_set(err, SGS_EUSAGE,
                                 "--models: bad list \"%s\" (expected names like bgnbd,paretonbd)",
                                 list);
        memcpy(model, p, len);
        model[len] = '\0';
        sgs_purchase_model_t m;
        if (sgs_purchase_model_parse(model, &m, NULL) != SGS_OK)
            return sgs_error_set(err, SGS_EUSAGE,
                                 "--models: unknown model \"%s\" (expected bgnbd, paretonbd or "
                                 "mbgnbd)",
                                 model);
        for (int k = 0; k < req->n_models; k++)
            if (req->models[k] == m)
                return sgs_error_set(err, SGS_EUSAGE, "--models: \"%s\" is listed twice", model);
        req->models[req->n_models++] = m;
        if (!comma)
            return SGS_OK;
        p = comma + 1;
    }
}

int sgs_cmd_evaluate(int argc, char **argv)
{
    sgs_eval_request_t req;
    memset(&req, 0, sizeof req);
    req.n_models = 3;
    req.models[0] = SGS_MODEL_BGNBD;
    req.models[1] = SGS_MODEL_PARETONBD;
    req.models[2] = SGS_MODEL_MBGNBD;
    const char *output = NULL, *json = NULL, *time_unit = "day";
    int quiet = 0, threads = 0, rc;
    int64_t calibration_end = 0, holdout_end = 0;
    enum { HOLDOUT_END = 2 }; /* its place in the table */
    const sgs_option_t options[] = {
        SGS_OPTION_INPUT(&req.input_path, 1),
        {.name = "calibration-end",
         .kind = SGS_OPT_DAY,
         .target = &calibration_end,
         .metavar = "DATE",
         .required = 1},
        {.name = "holdout-end", .kind = SGS_OPT_DAY, .target = &holdout_end},
        {.name = "time-unit", .kind = SGS_OPT_CHOICE, .target = &time_unit, .choices = "day|week"},
        {.name = "models",
         .kind = SGS_OPT_CALL,
         .call = parse_models,
         .ctx = &req,
         .takes_value = 1},
        {.name = "penalizer",
         .kind = SGS_OPT_NUMBER,
         .target = &req.penalizer,
         .lo = 0,
         .hi = INFINITY},
        SGS_OPTION_THREADS(&threads),
        {.name = "json", .kind = SGS_OPT_TEXT, .target = &json},
        SGS_OPTION_OUTPUT(&output, 0),
        SGS_OPTION_QUIET(&quiet),
    };
    int seen[sizeof options / sizeof options[0]];
    const sgs_command_line_t command_line = {.command = "evaluate",
                                             .help = print_help,
                                             .options = options,
                                             .n_options = sizeof options / sizeof options[0],
                                             .seen = seen};
    int status = sgs_command_line_parse(&command_line, argc, argv);
    if (status >= 0)
        return status;
    /* dates are of years 1..9999 (kernels/dates.h): their day numbers fit 32 bits */
    req.calibration_end_day = (int32_t)calibration_end;
    req.has_holdout_end = seen[HOLDOUT_END];
    req.holdout_end_day = (int32_t)holdout_end;
    req.time_unit = strcmp(time_unit, "day") == 0 ? "day" : "week";
    req.days_per_unit = strcmp(time_unit, "day") == 0 ? 1.0 : 7.0;
    char cal_text[16];
    sgs_date_format_day(calibration_end, cal_text, sizeof cal_text);
    if (req.has_holdout_end && req.holdout_end_day <= req.calibration_end_day)
        return sgs_usage_error("evaluate", "--holdout-end must be after --calibration-end %s",
                               cal_text);

    /* Before any work: the outputs are usable, none is an input or the other, each is
     * locked, stale temporaries are removed, signals are caught (engine/report_pair.h). */
    const sgs_named_path_t inputs[] = {{"input", req.input_path}};
    sgs_progress_t progress;
    sgs_progress_init(&progress, stderr, quiet);
    sgs_report_pair_t reports;
    status = sgs_report_pair_open(&reports, "evaluate", inputs, 1, output, json, &progress);
    if (status)
        return status;

    req.n_threads = threads > 0 ? threads : omp_get_num_procs();
    req.now_s = (int64_t)time(NULL);
    req.progress = &progress;
    sgs_error_t err = {0};
    sgs_eval_result_t res;
    rc = sgs_evaluate(&req, &res, &err);
    rc = sgs_report_pair_publish(&reports, rc, write_h5, write_json, &res, &req, &err);
    if (rc == SGS_OK)
        sgs_eval_print(&res, req.input_path, stdout);
    sgs_eval_result_free(&res);
    return sgs_report_pair_exit(&reports, rc, &err, &progress);
}
