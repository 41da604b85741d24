/*
 * engine/commands.h — the subcommands of the segscore program. Each takes argv with
 * argv[0] the command name, prints its own errors to stderr ("segscore <cmd>: ...") and
 * returns the process exit status (engine/exit_status.h).
 */
#ifndef SGS_COMMANDS_H
#define SGS_COMMANDS_H

#include "engine/exit_status.h"

#include <stdio.h>

int sgs_cmd_run(int argc, char **argv);
int sgs_cmd_generate(int argc, char **argv);
/* `segscore generate --continue-from ...` (engine/cmd_generate_continue.c), which
 * sgs_cmd_generate hands its argv to; its usage is sgs__generate_usage's. */
int sgs__cmd_generate_continue(int argc, char **argv);
void sgs__generate_usage(FILE *out);
int sgs_cmd_import(int argc, char **argv);
int sgs_cmd_inspect(int argc, char **argv);
int sgs_cmd_config(int argc, char **argv);
int sgs_cmd_kmeans(int argc, char **argv);
int sgs_cmd_evaluate(int argc, char **argv);
int sgs_cmd_measure(int argc, char **argv);

#endif
