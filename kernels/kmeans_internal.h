/*
 * kernels/kmeans_internal.h — helpers shared by the k-means files of kernels/ (not a
 * public contract; see kernels/kmeans.h).
 */
#ifndef SGS_KMEANS_INTERNAL_H
#define SGS_KMEANS_INTERNAL_H

#include "kernels/kmeans.h"

/* Random-number streams: stream = run * SGS__STREAMS + purpose, so that restarts and
 * purposes never share draws. */
enum {
    SGS__STREAM_PLUSPLUS = 1,
    SGS__STREAM_PARALLEL = 2,
    SGS__STREAM_RANDOM = 3,
    SGS__STREAM_MINIBATCH = 4,
    SGS__STREAM_SUBSAMPLE = 5,
    SGS__STREAMS = 8
};

/* Rows [*r0, *r1) of block b when n rows are cut into blocks of SGS_BLOCK_ROWS (core.h). */
static inline void sgs__kmeans_block_range(size_t b, size_t n, size_t *r0, size_t *r1)
{
    *r0 = b * SGS_BLOCK_ROWS;
    *r1 = *r0 + SGS_BLOCK_ROWS < n ? *r0 + SGS_BLOCK_ROWS : n;
}

/* m distinct indices of 0..n-1 drawn uniformly (R. Floyd's algorithm, as described by
 * J. Bentley, "Programming pearls: a sample of brilliance", CACM 30(9), 1987), draw t from
 * sgs_rng_u64(seed, stream, t); written to out (m entries, in order of selection).
 * m <= n. Serial, O(m^2) worst case membership tests on a sorted scratch of m entries.
 * @return 0 or SGS_ENOMEM. */
int sgs__kmeans_sample_rows(size_t n, size_t m, uint64_t seed, uint64_t stream, size_t *out);

/* One mini-batch run (rules in kernels/kmeans.h) from the seeds it draws itself with
 * opt->init (on a subsample) and run number `run`. Writes centers, labels, *res. */
int sgs__kmeans_minibatch(const double *x, size_t n, size_t d, const double *weights,
                          const sgs_kmeans_options_t *opt, double tol_abs, int run,
                          const sgs_exec_t *exec, double *centers, int32_t *labels,
                          sgs_kmeans_result_t *res, sgs_error_t *err);

/* Seed k centers for restart `run` with opt->init from rows of x. */
int sgs__kmeans_seed(const double *x, size_t n, size_t d, const double *weights,
                     const sgs_kmeans_options_t *opt, int run, const sgs_exec_t *exec,
                     double *centers, sgs_error_t *err);

/* sgs__kmeans_seed with scratch for k-means||: closest (n doubles) and nearest (n), or NULL
 * for the seeding to allocate its own. Their contents on return are unspecified. */
int sgs__kmeans_seed_into(const double *x, size_t n, size_t d, const double *weights,
                          const sgs_kmeans_options_t *opt, int run, const sgs_exec_t *exec,
                          double *closest, int32_t *nearest, double *centers, sgs_error_t *err);

/* sgs_kmeans_parallel_init (kernels/kmeans.h) in the caller's scratch closest (n doubles) and
 * nearest (n); their contents on return are unspecified. */
int sgs__kmeans_parallel_init_into(const double *x, size_t n, size_t d, const double *weights,
                                   size_t k, double oversampling, int n_rounds, uint64_t seed,
                                   uint64_t stream, const sgs_exec_t *exec, double *closest,
                                   int32_t *nearest, double *centers, sgs_error_t *err);

/* Validate the options against (n, d); messages name the option. */
/* The clusters of labels[0..n) (each in 0..k-1) holding a row of positive weight (weights
 * NULL: every row weighs 1); on nt threads, the same count whatever nt; wsum (k doubles) is
 * scratch. */
size_t sgs__kmeans_count_nonempty(const int32_t *labels, size_t n, size_t k, const double *weights,
                                  int nt, double *wsum);

int sgs__kmeans_check_options(const sgs_kmeans_options_t *opt, size_t n, size_t d,
                              sgs_error_t *err);

#endif
