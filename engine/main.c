/*
 * engine/main.c — the segscore command-line program. Thin: dispatches to engine/cli.
 */
#include "engine/cli.h"

#include <hdf5.h>
#include <malloc.h>
#include <signal.h>

int main(int argc, char **argv)
{
    /* Keep freed memory in the process instead of returning it to the system: a run frees
     * large columns (the input's customer ids, then its times and amounts) just before it
     * allocates the next ones, and on virtual machines faulting fresh pages in costs more
     * than the work done on them (DESIGN.md "Scale"). Peak memory is unchanged. */
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1);
    /* HDF5 1.10 crashes in its exit handler when a file's close has failed (disk full, a
     * size limit). Outputs are finished through io/h5_output.h, which lets HDF5 release a
     * file it could not write; this is the backstop for any path that does not. Every
     * command closes its files itself. Before any other HDF5 call, or it has no effect. */
    H5dont_atexit();
    /* Over a file size limit a write then fails with EFBIG and the command reports it (74,
     * naming the output) and cleans up, instead of dying with its temporaries left. */
    signal(SIGXFSZ, SIG_IGN);
    return sgs_cli_main(argc, argv);
}
