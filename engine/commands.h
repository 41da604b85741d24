/*
 * engine/commands.h — the subcommands of the segscore program. Each takes argv with
 * argv[0] the command name, prints its own errors to stderr ("segscore <cmd>: ...") and
 * returns the process exit status (engine/exit_status.h).
 */
#ifndef SGS_COMMANDS_H
#define SGS_COMMANDS_H

#include "engine/exit_status.h"

int sgs_cmd_run(int argc, char **argv);
int sgs_cmd_generate(int argc, char **argv);
int sgs_cmd_import(int argc, char **argv);
int sgs_cmd_inspect(int argc, char **argv);
int sgs_cmd_config(int argc, char **argv);
int sgs_cmd_kmeans(int argc, char **argv);
int sgs_cmd_evaluate(int argc, char **argv);
int sgs_cmd_measure(int argc, char **argv);

#endif
