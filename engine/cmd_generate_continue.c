/*
 * engine/cmd_generate_continue.c — `segscore generate --continue-from BASE.h5 [--list
 * RESULTS.h5] --days T [--effect KIND=RESP,LIFT ...] -o NEXT.h5`: continue a generated
 * population past a run's as-of date with a known effect of its list (datasets/continue.h,
 * docs/generate.md "Continuing past a run").
 */
#include "datasets/continue.h"
#include "engine/command_outputs.h"
#include "engine/commands.h"
#include "engine/interrupt.h"
#include "engine/options.h"
#include "engine/progress.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>

static int take_effect(void *ctx, const char *name, const char *value, sgs_error_t *err)
{
    (void)name;
    return sgs_continue_parse_effect(ctx, value, err);
}

int sgs__cmd_generate_continue(int argc, char **argv)
{
    sgs_continue_params_t params;
    sgs_continue_defaults(&params);
    const char *output = NULL;
    uint64_t days = (uint64_t)params.days;
    int quiet = 0, threads = 0;
    const sgs_option_t options[] = {
        {.name = "continue-from",
         .kind = SGS_OPT_TEXT,
         .target = &params.base_path,
         .metavar = "BASE",
         .required = 1},
        {.name = "list", .kind = SGS_OPT_TEXT, .target = &params.list_path, .metavar = "RESULTS"},
        {.name = "days",
         .kind = SGS_OPT_U64,
         .target = &days,
         .lo = 1,
         .hi = SGS_CONTINUE_MAX_DAYS,
         .metavar = "T"},
        {.name = "effect",
         .kind = SGS_OPT_CALL,
         .call = take_effect,
         .ctx = &params,
         .takes_value = 1,
         .metavar = "KIND=RESP,LIFT"},
        SGS_OPTION_OUTPUT(&output, 1),
        SGS_OPTION_THREADS(&threads),
        {.name = "compression",
         .kind = SGS_OPT_INT,
         .target = &params.deflate_level,
         .lo = 0,
         .hi = 9},
        SGS_OPTION_QUIET(&quiet),
    };
    const sgs_command_line_t command_line = {.command = "generate",
                                             .help = sgs__generate_usage,
                                             .options = options,
                                             .n_options = sizeof options / sizeof options[0]};
    int status = sgs_command_line_parse(&command_line, argc, argv);
    if (status >= 0)
        return status;
    if (!*output)
        return sgs_usage_error("generate", "-o OUTPUT must not be empty");
    params.days = (int64_t)days;

    sgs_error_t err = {0};
    int rc = sgs_continue_check(&params, &err);
    if (rc)
        return sgs_options_usage_error("generate", &err);
    sgs_progress_t progress;
    sgs_progress_init(&progress, stderr, quiet);
    /* Before any work: the output checked against the inputs and locked, a killed command's
     * temporary removed, signals caught (engine/command_outputs.h). */
    const sgs_named_path_t inputs[] = {{"--continue-from", params.base_path},
                                       {"--list", params.list_path}};
    const sgs_named_path_t outputs[] = {{"output", output}};
    sgs_command_outputs_t outs;
    rc = sgs_command_outputs_open("generate", inputs, params.list_path ? 2 : 1, outputs, 1,
                                  &progress, &outs, &err);
    if (rc) {
        sgs_command_outputs_close(&outs);
        fprintf(stderr, "segscore generate: error: %s\n", err.message);
        return sgs_exit_status(rc);
    }
    sgs_stop_point_t stop = {"generate-continue", "while continuing customers"};
    sgs_exec_t exec = {.n_threads = threads > 0 ? threads : omp_get_max_threads(),
                       .stop = sgs_interrupt_stop,
                       .stop_ctx = &stop};
    sgs_continue_stats_t stats;
    rc = sgs_continue_file(output, &params, &exec, &stats, &err);
    sgs_command_outputs_close(&outs);
    if (rc) {
        fprintf(stderr, "segscore generate: %s%s\n", rc == SGS_EINTR ? "" : "error: ", err.message);
        return sgs_interrupt_exit_status_for(rc);
    }
    if (!quiet)
        printf("segscore generate: %s: %llu customers continued from %s to %s, %llu listed "
               "(%llu control), %llu contacts, %llu responses, %llu purchase occasions, "
               "%llu transactions and %llu events added, %.2f s\n",
               output, (unsigned long long)stats.n_customers, stats.as_of, stats.end,
               (unsigned long long)stats.n_listed, (unsigned long long)stats.n_control,
               (unsigned long long)stats.n_contacts, (unsigned long long)stats.n_responses,
               (unsigned long long)stats.n_purchases, (unsigned long long)stats.n_transactions,
               (unsigned long long)stats.n_events, stats.seconds);
    return 0;
}
