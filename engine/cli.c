/*
 * engine/cli.c — command dispatch (placeholder until the commands land).
 */
#include "engine/cli.h"

#include "kernels/core.h"

#include <stdio.h>
#include <string.h>

int sgs_cli_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("segscore %s\n", SGS_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: segscore <command> [options]\n");
    return sgs_exit_status(SGS_EUSAGE);
}
