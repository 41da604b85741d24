/*
 * engine/cmd_run.c — `segscore run`: options into a configuration, then engine/run.
 */
#include "engine/commands.h"
#include "engine/config.h"
#include "engine/dist.h"
#include "engine/interrupt.h"
#include "engine/options.h"
#include "engine/run.h"

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
                 "      --learn-from PATH  a measurement of an earlier list (segscore measure\n"
                 "                         -o): measured values replace assumed ones\n"
                 "      --compare-summary PATH  an earlier run's summary.json: the report says\n"
                 "                         what changed since (docs/report.md)\n"
                 "      --set KEY=VALUE    any configuration key, e.g. --set rfm.bins=4\n"
                 "  -q, --quiet            no progress output\n"
                 "  -h, --help             this help\n"
                 "\n"
                 "Command-line options override the configuration file.\n");
}

/* Options that set a configuration key, collected in order and applied after the
 * configuration file, whatever their place on the command line. */
typedef struct overrides {
    const char *key[64], *value[64]; /* key "": a --set KEY=VALUE assignment in value */
    size_t n;
} overrides_t;

static int collect(void *ctx, const char *name, const char *value, sgs_error_t *err)
{
    static const struct {
        const char *option, *key;
    } keys[] = {{"as-of", "as_of"},
                {"threads", "threads"},
                {"time-unit", "time_unit"},
                {"model", "value.model"},
                {"horizon", "value.horizon"},
                {"compare-as-of", "stages.compare_as_of"},
                {"all-opportunities", "actions.all_opportunities"},
                {"learn-from", "actions.learn_from"},
                {"compare-summary", "output.compare_summary"},
                {"set", ""}};
    overrides_t *o = ctx;
    if (o->n == sizeof o->key / sizeof o->key[0])
        return sgs_error_set(err, SGS_EUSAGE, "too many configuration options (at most 64)");
    size_t k = 0;
    while (strcmp(keys[k].option, name) != 0) /* every CALL option below is listed */
        k++;
    o->key[o->n] = keys[k].key;
    o->value[o->n++] = value ? value : "true";
    return SGS_OK;
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
    const char *input = NULL, *output = NULL, *config_path = NULL;
    int quiet = 0;
    overrides_t ov = {.n = 0};
#define CONFIG_OPTION(opt, has_value)                                                              \
    {                                                                                              \
        .name = (opt), .kind = SGS_OPT_CALL, .call = collect, .ctx = &ov,                          \
        .takes_value = (has_value)                                                                 \
    }
    const sgs_option_t options[] = {
        SGS_OPTION_INPUT(&input, 1),
        SGS_OPTION_OUTPUT(&output, 1),
        {.name = "config", .short_name = 'c', .kind = SGS_OPT_TEXT, .target = &config_path},
        CONFIG_OPTION("as-of", 1),
        CONFIG_OPTION("threads", 1),
        CONFIG_OPTION("time-unit", 1),
        CONFIG_OPTION("model", 1),
        CONFIG_OPTION("horizon", 1),
        CONFIG_OPTION("set", 1),
        CONFIG_OPTION("compare-as-of", 1),
        CONFIG_OPTION("all-opportunities", 0),
        CONFIG_OPTION("learn-from", 1),
        CONFIG_OPTION("compare-summary", 1),
        SGS_OPTION_QUIET(&quiet),
    };
#undef CONFIG_OPTION
    const sgs_command_line_t command_line = {.command = "run",
                                             .help = print_help,
                                             .options = options,
                                             .n_options = sizeof options / sizeof options[0]};
    int status = sgs_command_line_parse(&command_line, argc, argv);
    if (status >= 0)
        return status;
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_error_t err = {0};
    int rc = config_path ? sgs_config_load_file(&cfg, config_path, &err) : SGS_OK;
    for (size_t i = 0; rc == SGS_OK && i < ov.n; i++)
        rc = ov.key[i][0] ? sgs_config_set(&cfg, ov.key[i], ov.value[i], &err)
                          : apply_set(&cfg, ov.value[i], &err);
    if (rc == SGS_OK)
        rc = sgs_config_validate(&cfg, &err);
    /* Started as several processes (mpirun -np N), the run is spread over them; process 0
     * alone reports progress and errors (every process has the same error). */
    sgs_dist_t world = sgs_dist_world();
    if (rc == SGS_OK) {
        sgs_progress_t progress;
        sgs_progress_init(&progress, stderr, quiet || world.rank != 0);
        sgs_run_request_t req = {.input_path = input,
                                 .output_path = output,
                                 .config_path = config_path,
                                 .config = &cfg,
                                 .progress = &progress,
                                 .now_s = (int64_t)time(NULL),
                                 .dist = world.size > 1 ? &world : NULL};
        sgs_interrupt_install();
        rc = sgs_run(&req, &err);
    }
    if (rc != SGS_OK && world.rank == 0) {
        fprintf(stderr, "segscore run: %s%s\n",
                rc == SGS_EINTR ? "" : "error: ", err.message[0] ? err.message : sgs_strerror(rc));
    }
    if (rc != SGS_OK)
        return rc == SGS_EINTR ? sgs_interrupt_exit_status() : sgs_exit_status(rc);
    return 0;
}
