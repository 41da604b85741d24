/*
 * engine/main.c — the segscore command-line program. Thin: dispatches to engine/cli.
 */
#include "engine/cli.h"

#include <hdf5.h>
#include <malloc.h>

int main(int argc, char **argv)
{
    /* Keep freed memory in the process instead of returning it to the system: a run frees
     * large columns (the input's customer ids, then its times and amounts) just before it
     * allocates the next ones, and on virtual machines faulting fresh pages in costs more
     * than the work done on them (DESIGN.md "Scale"). Peak memory is unchanged. */
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1);
    /* HDF5 1.10 crashes in its exit handler after a file's close has failed (disk full, a
     * size limit): every command closes its files on every path and reports a failure
     * through its exit status, so the handler has nothing left to do. Before any other
     * HDF5 call, or it has no effect. */
    H5dont_atexit();
    return sgs_cli_main(argc, argv);
}
