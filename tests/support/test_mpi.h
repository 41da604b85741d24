/*
 * tests/support/test_mpi.h — what the tests under tests/mpi share: the test program's main
 * under mpirun, a folder every process knows, the input read by the processes together or by
 * one alone, grouped, to compare the two, and `segscore run` spread over the processes compared
 * output by output with the single-process run.
 */
#ifndef SGS_TEST_MPI_H
#define SGS_TEST_MPI_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>

#include "engine/dist_input.h"
#include "engine/progress.h"
#include "kernels/group.h"
#include "kernels/summary.h"

struct cJSON;

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

/* ---- a spread run against the single-process run ----------------------------------------
 * The comparison tests/mpi/test_dist_run.c and test_dist_cdnow.c make. */

/* Copy the file `from` to `to` byte for byte (fails the test on error). */
void sgs_test_copy_file(const char *from, const char *to);

/* `segscore run` (sgs_run) of `input` into the results file `results` with the settings
 * (KEY=VALUE, NULL-terminated; NULL: none) on top of the keys every such run takes (one
 * thread), "now" 2026-01-01: spread over the test's processes (spread) or by this process
 * alone, its progress printed to progress_out (NULL: quiet) through *progress. Returns the
 * run's code, its message in err. */
int sgs_test_mpi_run_settings(const char *input, const char *results, const char *const *settings,
                              int spread, FILE *progress_out, sgs_progress_t *progress,
                              sgs_error_t *err);

/* The outputs of a run, in the order sgs_test_mpi_expect_same takes them: results.h5 (0), the
 * text files, summary.json (last). */
extern const char *const sgs_test_run_outputs[];
enum { SGS_TEST_N_RUN_OUTPUTS = 6 };

/* The number o[name] of a summary.json (fails the test, naming `what`, when there is none). */
double sgs_test_json_number(const struct cJSON *o, const char *name, const char *what);

/* Output i (sgs_test_run_outputs) of the spread run at `now` equal to the single-process run's
 * copy at `ref` (fails the test, naming `what` and the first difference): results.h5 by h5diff
 * (every dataset and attribute), the text files byte for byte, summary.json without its
 * timings, peak memory and list of steps, its "processes" checked on their own (one entry per
 * process in rank order whose customers and rows add up to the single-process figures, each
 * having sent bytes, steps from read to write; absent from one process's). */
void sgs_test_mpi_expect_same(const char *now, const char *ref, size_t i, const char *what);

/* The run of `input` with the settings (as sgs_test_mpi_run_settings) by process 0 alone into
 * dir/out, its outputs copied aside to dir/ref-<name>, then spread over every process into the
 * same paths (so that summary.json names the same files), every output compared
 * (sgs_test_mpi_expect_same). Called by every process. */
void sgs_test_mpi_compare_run(const char *dir, const char *input, const char *what,
                              const char *const *settings);

/* The number at the path of names (NULL-terminated) in the single-process summary.json that
 * sgs_test_mpi_compare_run last copied aside into dir (process 0; fails the test without one). */
double sgs_test_mpi_ref_number(const char *dir, const char *const *names);

#endif /* SGS_TEST_MPI_H */
