/*
 * engine/cli.h — command-line dispatch: `segscore <command> [options]`.
 */
#ifndef SGS_CLI_H
#define SGS_CLI_H

#include "engine/exit_status.h"

/* Parse argv, run the command, print errors; returns the process exit status
 * (0, or the sysexits-style status of engine/exit_status.h). */
int sgs_cli_main(int argc, char **argv);

#endif
