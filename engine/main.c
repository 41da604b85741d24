/*
 * engine/main.c — the segscore command-line program. Thin: dispatches to engine/cli.
 */
#include "engine/cli.h"

#include <malloc.h>

int main(int argc, char **argv)
{
    /* Keep freed memory in the process instead of returning it to the system: a run frees
     * large columns (the input's customer ids, then its times and amounts) just before it
     * allocates the next ones, and on virtual machines faulting fresh pages in costs more
     * than the work done on them (DESIGN.md "Scale"). Peak memory is unchanged. */
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1);
    return sgs_cli_main(argc, argv);
}
