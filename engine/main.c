/*
 * engine/main.c — the segscore command-line program. Thin: dispatches to engine/cli.
 */
#include "engine/cli.h"

int main(int argc, char **argv)
{
    return sgs_cli_main(argc, argv);
}
