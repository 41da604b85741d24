/*
 * engine/cli.c — `segscore <command>`: dispatch, top-level help and version.
 */
#include "engine/cli.h"

#include "engine/commands.h"
#include "io/atomic_file.h"
#include "kernels/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"run", sgs_cmd_run, "the nightly job: summary, RFM, value, segments, stages, opportunities"},
    {"generate", sgs_cmd_generate, "simulate customers from known parameters into an input file"},
    {"import", sgs_cmd_import, "convert delimited text (CSV, whitespace) to the input schema"},
    {"inspect", sgs_cmd_inspect, "show an input file's schema, counts, time range and problems"},
    {"evaluate", sgs_cmd_evaluate, "compare purchase models: calibration fit, holdout forecast"},
    {"measure", sgs_cmd_measure, "an earlier run's list: treated against control, with intervals"},
    {"config", sgs_cmd_config, "print the configuration keys and defaults, or a file's effect"},
    {"kmeans", sgs_cmd_kmeans, "cluster the rows of an HDF5 matrix with k-means (benchmarkable)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *out)
{
    fprintf(out, "usage: segscore <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`segscore <command> --help` describes each command's options.\n"
                 "Exit status: 0 ok, 64 usage, 65 bad data, 66 input missing, 70 internal,\n"
                 "71 out of memory, 73 output location unusable, 74 I/O error, 75 retry later\n"
                 "(another command is writing the same output), 78 bad configuration; a command\n"
                 "stopped by SIGHUP, SIGINT or SIGTERM 129, 130, 143.\n");
}

int sgs_cli_main(int argc, char **argv)
{
    /* Test hook (docs/publishing.md, "Test hooks"): the n-th flush of an output fails. */
    const char *fail_fsync = getenv("SGS_TEST_FAIL_FSYNC_AT");
    if (fail_fsync)
        sgs_test_fail_fsync_at(strtol(fail_fsync, NULL, 10));
    if (argc < 2) {
        print_usage(stderr);
        return sgs_exit_status(SGS_EUSAGE);
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("segscore %s\n", SGS_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "segscore: unknown command \"%s\"\n\n", argv[1]);
    print_usage(stderr);
    return sgs_exit_status(SGS_EUSAGE);
}
