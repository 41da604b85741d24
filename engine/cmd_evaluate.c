/*
 * engine/cmd_evaluate.c — `segscore evaluate`: options into an evaluation request
 * (engine/evaluate.h), then the table on standard output and the optional JSON and HDF5
 * reports.
 */
#include "engine/command_outputs.h"
#include "engine/commands.h"
#include "engine/evaluate.h"
#include "engine/interrupt.h"
#include "io/atomic_file.h"
#include "kernels/dates.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "segscore evaluate: <message> (see ...)" and return the usage exit status. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "segscore evaluate: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see segscore evaluate --help)\n");
    va_end(ap);
    return sgs_exit_status(SGS_EUSAGE);
}

/* Comma-separated model names into req->models; 0 or an exit status after a message. */
static int parse_models(const char *list, sgs_eval_request_t *req)
{
    req->n_models = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char name[32];
        if (len == 0 || len >= sizeof name)
            return usage_error("--models: bad list \"%s\" (expected names like bgnbd,paretonbd)",
                               list);
        memcpy(name, p, len);
        name[len] = '\0';
        sgs_purchase_model_t m;
        if (sgs_purchase_model_parse(name, &m, NULL) != SGS_OK)
            return usage_error("--models: unknown model \"%s\" (expected bgnbd, paretonbd or "
                               "mbgnbd)",
                               name);
        for (int k = 0; k < req->n_models; k++)
            if (req->models[k] == m)
                return usage_error("--models: \"%s\" is listed twice", name);
        req->models[req->n_models++] = m;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int parse_day(const char *option, const char *text, int32_t *day)
{
    int64_t d;
    if (sgs_date_parse_day(text, &d) != SGS_OK || d < INT32_MIN || d > INT32_MAX) {
        fprintf(stderr,
                "segscore evaluate: %s \"%s\" is not a date YYYY-MM-DD (see segscore evaluate "
                "--help)\n",
                option, text);
        return sgs_exit_status(SGS_EUSAGE);
    }
    *day = (int32_t)d;
    return 0;
}

int sgs_cmd_evaluate(int argc, char **argv)
{
    enum {
        OPT_CAL_END = 256,
        OPT_HOLDOUT_END,
        OPT_TIME_UNIT,
        OPT_MODELS,
        OPT_PENALIZER,
        OPT_THREADS,
        OPT_JSON
    };
    static const struct option options[] = {
        {"input", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"calibration-end", required_argument, NULL, OPT_CAL_END},
        {"holdout-end", required_argument, NULL, OPT_HOLDOUT_END},
        {"time-unit", required_argument, NULL, OPT_TIME_UNIT},
        {"models", required_argument, NULL, OPT_MODELS},
        {"penalizer", required_argument, NULL, OPT_PENALIZER},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"json", required_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    sgs_eval_request_t req;
    memset(&req, 0, sizeof req);
    req.time_unit = "day";
    req.days_per_unit = 1.0;
    req.n_models = 3;
    req.models[0] = SGS_MODEL_BGNBD;
    req.models[1] = SGS_MODEL_PARETONBD;
    req.models[2] = SGS_MODEL_MBGNBD;
    const char *output = NULL, *json = NULL, *cal_text = NULL;
    int quiet = 0, threads = 0, opt, rc;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":i:o:qh", options, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'i':
            req.input_path = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            print_help(stdout);
            return 0;
        case OPT_CAL_END:
            cal_text = optarg;
            if ((rc = parse_day("--calibration-end", optarg, &req.calibration_end_day)) != 0)
                return rc;
            break;
        case OPT_HOLDOUT_END:
            req.has_holdout_end = 1;
            if ((rc = parse_day("--holdout-end", optarg, &req.holdout_end_day)) != 0)
                return rc;
            break;
        case OPT_TIME_UNIT:
            if (strcmp(optarg, "day") != 0 && strcmp(optarg, "week") != 0)
                return usage_error("--time-unit must be day or week, not \"%s\"", optarg);
            req.time_unit = strcmp(optarg, "day") == 0 ? "day" : "week";
            req.days_per_unit = strcmp(optarg, "day") == 0 ? 1.0 : 7.0;
            break;
        case OPT_MODELS:
            if ((rc = parse_models(optarg, &req)) != 0)
                return rc;
            break;
        case OPT_PENALIZER:
            errno = 0;
            req.penalizer = strtod(optarg, &end);
            if (errno || end == optarg || *end || !isfinite(req.penalizer) || req.penalizer < 0)
                return usage_error("--penalizer must be a number >= 0, not \"%s\"", optarg);
            break;
        case OPT_THREADS: {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 0 || v > 4096)
                return usage_error("--threads must be an integer 0..4096, not \"%s\"", optarg);
            threads = (int)v;
            break;
        }
        case OPT_JSON:
            json = optarg;
            break;
        case ':':
            return usage_error("option %s needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    if (!req.input_path)
        return usage_error("%s is required", "-i INPUT");
    if (!cal_text)
        return usage_error("%s is required", "--calibration-end DATE");
    if (req.has_holdout_end && req.holdout_end_day <= req.calibration_end_day)
        return usage_error("--holdout-end must be after --calibration-end %s", cal_text);

    /* Before any work: the outputs are usable, neither is the input nor the other, each is
     * locked, a killed evaluation's temporaries are removed, and signals are caught
     * (engine/command_outputs.h). */
    const sgs_named_path_t inputs[] = {{"input", req.input_path}};
    sgs_named_path_t outputs[2];
    size_t n_outputs = 0;
    if (output)
        outputs[n_outputs++] = (sgs_named_path_t){"output (-o)", output};
    if (json)
        outputs[n_outputs++] = (sgs_named_path_t){"--json output", json};
    sgs_error_t err = {0};
    sgs_progress_t progress;
    sgs_progress_init(&progress, stderr, quiet);
    sgs_command_outputs_t outs;
    rc =
        sgs_command_outputs_open("evaluate", inputs, 1, outputs, n_outputs, &progress, &outs, &err);
    if (rc != SGS_OK) {
        sgs_command_outputs_close(&outs);
        fprintf(stderr, "segscore evaluate: error: %s\n", err.message);
        return sgs_exit_status(rc);
    }

    req.n_threads = threads > 0 ? threads : omp_get_num_procs();
    req.now_s = (int64_t)time(NULL);
    req.progress = &progress;
    sgs_eval_result_t res;
    rc = sgs_evaluate(&req, &res, &err);
    /* Both reports are written aside first; only then, unless a signal came, is each renamed
     * into place, one right after the other. */
    sgs_atomic_t h5 = {{0}, {0}}, js = {{0}, {0}};
    if (rc == SGS_OK)
        rc = sgs_interrupt_checkpoint("evaluate-write", "before writing the outputs", &err);
    if (rc == SGS_OK && output) {
        rc = sgs_atomic_begin(output, &h5, &err);
        if (rc == SGS_OK)
            rc = sgs_eval_write_h5(&res, req.input_path, &h5, &err);
    }
    if (rc == SGS_OK && json) {
        rc = sgs_atomic_begin(json, &js, &err);
        if (rc == SGS_OK)
            rc = sgs_eval_write_json(&res, req.input_path, &js, &err);
    }
    if (rc == SGS_OK && (output || json))
        rc = sgs_interrupt_checkpoint("evaluate-written", "before publishing the outputs", &err);
    if (rc == SGS_OK && output)
        rc = sgs_atomic_commit(&h5, &err);
    if (rc == SGS_OK && json)
        rc = sgs_atomic_commit(&js, &err);
    sgs_atomic_abort(&h5); /* no-op once committed */
    sgs_atomic_abort(&js);
    sgs_command_outputs_close(&outs);
    if (rc == SGS_OK) {
        sgs_eval_print(&res, req.input_path, stdout);
        if (output || json)
            sgs_progress_note(&progress, "wrote%s%s%s%s", output ? " " : "", output ? output : "",
                              json ? " " : "", json ? json : "");
    }
    sgs_eval_result_free(&res);
    if (rc != SGS_OK) {
        fprintf(stderr, "segscore evaluate: %s%s\n",
                rc == SGS_EINTR ? "" : "error: ", err.message[0] ? err.message : sgs_strerror(rc));
        return sgs_interrupt_exit_status_for(rc);
    }
    return 0;
}
