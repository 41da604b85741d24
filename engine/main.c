/*
 * engine/main.c — the segscore command-line program. Thin: dispatches to engine/cli, with
 * the process-wide settings around it: memory, HDF5, and what happens when resources run out.
 */
#define _DEFAULT_SOURCE /* on_exit, MAP_ANONYMOUS, MAP_NORESERVE */
#include "engine/cli.h"
#include "engine/dist.h"

#include "io/h5_columns.h"
#include "io/h5_crash.h"

#include <errno.h>
#include <hdf5.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Address space that must be free once the program is loaded (under ulimit -v) before
 * anything else runs: HDF5 crashes inside its own initialization when an allocation fails there
 * (1.10.8, H5E__get_stack on a stack it could not allocate), and an OpenMP thread needs its
 * stack. 8 MB is one default thread stack; under it no command can do any work. */
#define STARTUP_HEADROOM_BYTES ((size_t)8 << 20)

/* The OpenMP runtime stops the process with exit(1) when it cannot allocate memory or start a
 * thread (libgomp's gomp_fatal: "Thread creation failed", "Out of memory allocating"), which
 * under an address-space limit (ulimit -v) can happen before any of our allocations fail.
 * segscore itself never exits 1 (0 or 64..78, README "Errors and exit status"), so a status
 * of 1 at exit is a library giving up for want of resources: say so and exit 71 (out of
 * memory) as the documentation promises. Registered first, this runs after every exit handler
 * registered later. */
static void library_exit_is_out_of_memory(int status, void *arg)
{
    (void)arg;
    if (status != 1)
        return;
    fputs("segscore: error: out of memory: a library could not allocate memory or start a "
          "thread (the line above); lower --threads or raise the memory limit (ulimit -v)\n",
          stderr);
    fflush(NULL);
    _exit(71);
}

/* 0 when STARTUP_HEADROOM_BYTES of address space can still be mapped (always, without an
 * address-space limit), else 71 after saying why. */
static int check_startup_headroom(void)
{
    struct rlimit as;
    if (getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY)
        return 0;
    void *p = mmap(NULL, STARTUP_HEADROOM_BYTES, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
        munmap(p, STARTUP_HEADROOM_BYTES);
        return 0;
    }
    fprintf(stderr,
            "segscore: error: out of memory: the address-space limit (ulimit -v %llu) leaves "
            "less than %zu MB once the program is loaded\n",
            (unsigned long long)(as.rlim_cur / 1024), STARTUP_HEADROOM_BYTES >> 20);
    return 71;
}

/* The test seam of kernels/core.h from the environment: SGS_TEST_FAIL_ALLOC_AFTER=n makes
 * every allocation after the first n fail, so that a test can run a whole command with each
 * of its allocations failing in turn. Returns 1 when armed, 0 when not set, -1 when malformed. */
static int arm_allocation_failures(void)
{
    const char *text = getenv("SGS_TEST_FAIL_ALLOC_AFTER");
    if (!text)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || *end || n < 0) {
        fprintf(stderr,
                "segscore: error: SGS_TEST_FAIL_ALLOC_AFTER must be a whole number >= 0, "
                "not \"%s\"\n",
                text);
        return -1;
    }
    sgs_test_fail_alloc_after(n);
    return 1;
}

int main(int argc, char **argv)
{
    on_exit(library_exit_is_out_of_memory, NULL);
    /* Keep freed memory in the process instead of returning it to the system: a run frees
     * large columns (the input's customer ids, then its times and amounts) just before it
     * allocates the next ones, and on virtual machines faulting fresh pages in costs more
     * than the work done on them (DESIGN.md "Scale"). The project's arrays of 1 MiB or more
     * keep their pages in kernels/page_pool.h; these settings keep the rest (HDF5's and the
     * C library's buffers, small arrays) in malloc's heap. */
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1);
    /* One arena for every thread, so that this kept memory serves them all: the write step
     * writes results.h5 on a thread of its own (engine/run_publish.c), which would otherwise
     * take fresh pages for its columns while the memory the run freed before it sits idle
     * (measured at 10M customers: 228 MB more at the peak). */
    mallopt(M_ARENA_MAX, 1);
    int status = check_startup_headroom();
    if (status != 0)
        return status;
    /* The processes of an MPI run (engine/dist.h; nothing in the single-process build), before
     * HDF5, which the MPI build's parallel HDF5 wants started after MPI. */
    if (sgs_dist_start(&argc, &argv) != SGS_OK) {
        fputs("segscore: error: MPI could not start (MPI_Init_thread with "
              "MPI_THREAD_FUNNELED)\n",
              stderr);
        return sgs_exit_status(SGS_EINVAL);
    }
    /* `segscore run` spreads over the processes (engine/dist_run.h, docs/mpi.md); every other
     * command would run N times and each write the same outputs: refuse before any work. */
    sgs_dist_t world = sgs_dist_world();
    if (world.size > 1 && !(argc > 1 && strcmp(argv[1], "run") == 0)) {
        if (world.rank == 0)
            fprintf(stderr,
                    "segscore: error: started as %d processes: only `segscore run` runs spread "
                    "over processes (docs/mpi.md \"Status\"); start %s with mpirun -np 1\n",
                    world.size, argc > 1 ? argv[1] : "the command");
        sgs_dist_end();
        return sgs_exit_status(SGS_EUSAGE);
    }
    /* Standard output that is not a terminal is kept whole until the end (up to 1 MB), so
     * that a write that fails, on a full disk say, fails in the final flush below, which
     * says why; an earlier failed write leaves only an error flag, without its reason. */
    static char stdout_buffer[1 << 20]; /* glibc ignores the size of a buffer it allocates */
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, stdout_buffer, _IOFBF, sizeof stdout_buffer);
    /* HDF5 1.10 crashes in its exit handler when a file's close has failed (disk full, a
     * size limit). Outputs are finished through io/h5_output.h, which lets HDF5 release a
     * file it could not write; this is the backstop for any path that does not. Every
     * command closes its files itself. Before any other HDF5 call, or it has no effect. */
    H5dont_atexit();
    /* Over a file size limit a write then fails with EFBIG and the command reports it (74,
     * naming the output) and cleans up, instead of dying with its temporaries left. */
    signal(SIGXFSZ, SIG_IGN);
    /* Initialize HDF5 now, while the headroom is known to be there, and keep its error stack
     * off the terminal: every failure is reported through the project's own one-line errors
     * (io/h5_columns.h; the io layer says so again in threads that call HDF5). */
    if (H5open() < 0) {
        fputs("segscore: error: out of memory: the HDF5 library could not start\n", stderr);
        sgs_dist_end();
        return 71;
    }
    sgs_h5_quiet();
    /* The last resort against input files that crash libhdf5 itself (1.10.8 divides by a
     * chunk size of 0, copies through a corrupt local heap): while io/ has HDF5 read an
     * input, SIGSEGV, SIGFPE and SIGBUS say the file is damaged and exit 65 (io/h5_crash.h).
     * The commands read their inputs before they create any output, so nothing is left.
     * (sigaction fails only for a bad signal number; without the handlers a crash stays a
     * crash.) */
    (void)sgs_h5_crash_install("segscore", sgs_exit_status(SGS_EDATA));
    int armed = arm_allocation_failures();
    if (armed < 0) {
        sgs_dist_end();
        return sgs_exit_status(SGS_EUSAGE);
    }
    status = sgs_cli_main(argc, argv);
    sgs_dist_end();
    if (armed) /* the length of a sweep over this command */
        fprintf(stderr, "segscore: test: %ld allocations granted\n",
                sgs_test_allocations_granted());
    /* What was printed must have reached its destination: `segscore inspect x.h5 > full-disk`
     * is a failure, not an empty report. */
    errno = 0;
    int flushed = fflush(stdout) == 0;
    if (!flushed || ferror(stdout)) {
        /* A failed flush says why; an error flag alone (an earlier write) no longer does. */
        int e = !flushed && errno ? errno : EIO;
        sgs_error_t err = {0};
        sgs_error_set_os(&err, SGS_EIO, e, "standard output", "write failed");
        fprintf(stderr, "segscore: error: %s\n", err.message);
        if (status == 0)
            status = sgs_exit_status(err.code);
    }
    return status;
}
