/*
 * engine/cmd_run.c — `segscore run`: options into a configuration, then engine/run.
 */
#include "engine/commands.h"
#include "engine/config.h"
#include "engine/interrupt.h"
#include "engine/run.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void print_help(FILE *out)
{
    fprintf(out, "usage: segscore run -i INPUT.h5 -o RESULTS.h5 [options]\n"
                 "\n"
                 "Read transactions (and events and customers when present), summarize every\n"
                 "customer, score RFM and lifetime value, stage every customer, list whom to\n"
                 "contact today (opportunities.csv), and publish the results atomically.\n"
                 "\n"
                 "  -i, --input PATH       input HDF5 file (see README: input schema)\n"
                 "  -o, --output PATH      results HDF5 file; summary.json, customers.csv,\n"
                 "                         opportunities.csv and report.txt are written beside it\n"
                 "  -c, --config PATH      JSON configuration (keys: segscore config --defaults)\n"
                 "      --as-of DATE       analysis date YYYY-MM-DD; later rows are ignored\n"
                 "      --threads N        OpenMP threads (0 = all cores)\n"
                 "      --time-unit U      day or week\n"
                 "      --model M          auto (the backtest's choice, default), bgnbd,\n"
                 "                         paretonbd, mbgnbd or none\n"
                 "      --horizon N        prediction horizon in the time unit\n"
                 "      --compare-as-of DATE  also stage customers at this earlier date:\n"
                 "                         transitions and time in stage (docs/stages.md)\n"
                 "      --all-opportunities  list every opportunity that fired, not only the\n"
                 "                         best one per customer\n"
                 "      --set KEY=VALUE    any configuration key, e.g. --set rfm.bins=4\n"
                 "  -q, --quiet            no progress output\n"
                 "  -h, --help             this help\n"
                 "\n"
                 "Command-line options override the configuration file.\n");
}

/* Apply a "--set key=value" override. */
static int apply_set(sgs_config_t *cfg, const char *assignment, sgs_error_t *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return sgs_error_set(err, SGS_EUSAGE, "--set needs KEY=VALUE, got \"%s\"", assignment);
    char key[128];
    size_t len = (size_t)(eq - assignment);
    if (len >= sizeof key)
        return sgs_error_set(err, SGS_EUSAGE, "--set: key too long");
    memcpy(key, assignment, len);
    key[len] = '\0';
    return sgs_config_set(cfg, key, eq + 1, err);
}

int sgs_cmd_run(int argc, char **argv)
{
    enum {
        OPT_AS_OF = 256,
        OPT_THREADS,
        OPT_TIME_UNIT,
        OPT_MODEL,
        OPT_HORIZON,
        OPT_SET,
        OPT_COMPARE_AS_OF,
        OPT_ALL_OPPORTUNITIES
    };
    static const struct option options[] = {
        {"input", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"as-of", required_argument, NULL, OPT_AS_OF},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"time-unit", required_argument, NULL, OPT_TIME_UNIT},
        {"model", required_argument, NULL, OPT_MODEL},
        {"horizon", required_argument, NULL, OPT_HORIZON},
        {"set", required_argument, NULL, OPT_SET},
        {"compare-as-of", required_argument, NULL, OPT_COMPARE_AS_OF},
        {"all-opportunities", no_argument, NULL, OPT_ALL_OPPORTUNITIES},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    /* Overrides are collected first and applied after the file, whatever their order. */
    const char *overrides[64][2];
    size_t n_overrides = 0;
    const char *input = NULL, *output = NULL, *config_path = NULL;
    int quiet = 0, opt;
    sgs_error_t err = {0};
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":i:o:c:qh", options, NULL)) != -1) {
        const char *key = NULL, *value = optarg;
        switch (opt) {
        case 'i':
            input = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            print_help(stdout);
            return 0;
        case OPT_AS_OF:
            key = "as_of";
            break;
        case OPT_THREADS:
            key = "threads";
            break;
        case OPT_TIME_UNIT:
            key = "time_unit";
            break;
        case OPT_MODEL:
            key = "value.model";
            break;
        case OPT_HORIZON:
            key = "value.horizon";
            break;
        case OPT_SET:
            key = "";
            break;
        case OPT_COMPARE_AS_OF:
            key = "stages.compare_as_of";
            break;
        case OPT_ALL_OPPORTUNITIES:
            key = "actions.all_opportunities";
            value = "true";
            break;
        case ':':
            fprintf(stderr, "segscore run: option %s needs a value\n", argv[optind - 1]);
            return sgs_exit_status(SGS_EUSAGE);
        default:
            fprintf(stderr, "segscore run: unknown option %s (see segscore run --help)\n",
                    argv[optind - 1]);
            return sgs_exit_status(SGS_EUSAGE);
        }
        if (key) {
            if (n_overrides == 64) {
                fprintf(stderr, "segscore run: too many overrides\n");
                return sgs_exit_status(SGS_EUSAGE);
            }
            overrides[n_overrides][0] = key;
            overrides[n_overrides++][1] = value;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "segscore run: unexpected argument \"%s\"\n", argv[optind]);
        return sgs_exit_status(SGS_EUSAGE);
    }
    if (!input || !output) {
        fprintf(stderr, "segscore run: %s is required (see segscore run --help)\n",
                !input ? "-i INPUT" : "-o OUTPUT");
        return sgs_exit_status(SGS_EUSAGE);
    }
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    int rc = config_path ? sgs_config_load_file(&cfg, config_path, &err) : SGS_OK;
    for (size_t i = 0; rc == SGS_OK && i < n_overrides; i++)
        rc = overrides[i][0][0] ? sgs_config_set(&cfg, overrides[i][0], overrides[i][1], &err)
                                : apply_set(&cfg, overrides[i][1], &err);
    if (rc == SGS_OK)
        rc = sgs_config_validate(&cfg, &err);
    if (rc == SGS_OK) {
        sgs_progress_t progress;
        sgs_progress_init(&progress, stderr, quiet);
        sgs_run_request_t req = {.input_path = input,
                                 .output_path = output,
                                 .config_path = config_path,
                                 .config = &cfg,
                                 .progress = &progress,
                                 .now_s = (int64_t)time(NULL)};
        sgs_interrupt_install();
        rc = sgs_run(&req, &err);
    }
    if (rc != SGS_OK) {
        fprintf(stderr, "segscore run: %s%s\n",
                rc == SGS_EINTR ? "" : "error: ", err.message[0] ? err.message : sgs_strerror(rc));
        return rc == SGS_EINTR ? sgs_interrupt_exit_status() : sgs_exit_status(rc);
    }
    return 0;
}
