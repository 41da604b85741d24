/*
 * tests/support/test_mpi.h — what the tests under tests/mpi share: the test program's main
 * under mpirun, a folder every process knows, and the input read by the processes together
 * or by one alone, grouped, to compare the two.
 */
#ifndef SGS_TEST_MPI_H
#define SGS_TEST_MPI_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/dist_input.h"
#include "kernels/group.h"
#include "kernels/summary.h"

/* The processes of the test program. */
extern sgs_dist_t sgs_test_world;

/* MPI started, the group of tests run by every process, MPI ended: a test program's main.
 * Returns the failed tests' count, as cmocka_run_group_tests. */
int sgs_test_mpi_main(int *argc, char ***argv, const struct CMUnitTest *tests, size_t n_tests,
                      CMFixtureFunction setup, CMFixtureFunction teardown);
#define sgs_test_mpi_run(argc, argv, tests, setup, teardown)                                       \
    sgs_test_mpi_main((argc), (argv), (tests), sizeof(tests) / sizeof((tests)[0]), (setup),        \
                      (teardown))

/* Every process gets here before any goes on (after process 0 wrote the files the others
 * read, before it removes them). */
void sgs_test_mpi_wait(void);

/* A temporary folder made by process 0, its path written to out on every process. */
void sgs_test_mpi_tmpdir(const char *tag, char *out, size_t size);

/* When every process is done with it, process 0 removes the folder. */
void sgs_test_mpi_rmdir(const char *dir);

/* A collective call under test, with its arguments in ctx. */
typedef int (*sgs_test_mpi_call_fn)(void *ctx, sgs_error_t *err);

/* Every allocation of call(ctx, err) failing in turn on the last process (kernels/core.h
 * sgs_test_fail_alloc_after): each time every process must return SGS_ENOMEM, with the last
 * process's message ("process R of N: ") when there are several, none waiting for another;
 * then the call must succeed again. The sweep's length is what the call allocates on the last
 * process, at least min_allocations. name names the call in a failure. */
void sgs_test_mpi_alloc_sweep(sgs_test_mpi_call_fn call, void *ctx, const char *name,
                              long min_allocations);

/* A file of `n_customers` simulated customers (kernels' defaults but those given; events
 * when with_events), written by process 0 at path, which every process then reads. */
void sgs_test_mpi_generate(const char *path, uint64_t n_customers, uint64_t seed, int with_events);

/* The summary of the buyers among grouped customers g as of as_of_day, compacted as the run's
 * summarize step keeps them (free with sgs_summary_free). */
void sgs_test_buyers_summary(const sgs_grouped_t *g, int32_t as_of_day, sgs_summary_t *s);

/* The options the tests read with: every column but category, a fixed "now", 2 threads. */
sgs_read_options_t sgs_test_mpi_read_options(void);

/* /transactions of path read by the processes together and grouped: *g this process's
 * customers, *st the file's figures, *own the owners (fails the test on error). */
void sgs_test_mpi_read_grouped(const char *path, const sgs_read_options_t *opt, sgs_grouped_t *g,
                               sgs_read_stats_t *st, sgs_dist_owners_t *own);

/* The same by this process alone, as the single-process run reads it. */
void sgs_test_read_grouped(const char *path, const sgs_read_options_t *opt, sgs_grouped_t *g,
                           sgs_read_stats_t *st);

#endif /* SGS_TEST_MPI_H */
