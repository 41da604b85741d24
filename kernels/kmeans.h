/*
 * kernels/kmeans.h — k-means clustering of a dense float64 matrix: seeding (k-means++ as
 * scikit-learn does it, k-means||, first rows, random rows, given centers), Lloyd
 * iterations, the bounded variants of Hamerly and Elkan that return exactly the Lloyd
 * result, restarts, mini-batch k-means, and the E-step / inertia / tolerance helpers.
 *
 * Data: x is n rows by d columns, row-major (x[i*d + f]), finite. weights, when not NULL,
 * are n finite non-negative sample weights with a positive sum (NULL means all 1).
 * Everything is borrowed: kernels never keep a pointer after returning.
 *
 * Distance and labels: the squared Euclidean distance by direct differences, features in
 * order, t = x[f] - c[f], acc = acc + t * t for f = 0..d-1, no fused multiply-add (the
 * exact operation sequence and its error bound: kernels/kmeans_dist_internal.h in the
 * source tree); the label of a row is the first index of the smallest distance.
 *
 * Semantics follow scikit-learn 1.2 KMeans (sklearn/cluster/_kmeans.py) exactly where they
 * are defined there:
 *  - one iteration: assign every row to its nearest center (labels), new center = weighted
 *    mean of its rows (sum multiplied by 1 / weight, as sklearn's _average_centers);
 *    clusters left empty are re-seeded from the rows farthest from their center (below);
 *  - convergence: after iteration i, stop when the labels equal those of iteration i-1
 *    ("strict convergence"), else when sum_j ||c_j(new) - c_j(old)||^2 <= tol_abs;
 *    tol_abs = tol * mean over features of the (population) variance of x — unweighted,
 *    as sklearn's _tolerance; tol = 0 stops only when the labels stop changing or the
 *    centers do not move at all;
 *  - when the loop ended without strict convergence (tolerance or max_iter), a final
 *    E-step recomputes the labels from the final centers, so that labels and centers are
 *    consistent as sklearn returns them; n_iter counts the loop iterations (sklearn n_iter_);
 *  - inertia = sum_i w_i ||x_i - c_{label_i}||^2 with the final labels and centers;
 *  - restarts: each run i (0-based) is seeded with stream i; a run replaces the best so far
 *    when its inertia is strictly lower and its clustering is not the same partition
 *    (sklearn's _is_same_clustering); initializations from given centers or the first
 *    rows run once (n_init is ignored, as sklearn does for an explicit init array).
 *
 * Empty clusters (sklearn's _relocate_empty_clusters_dense): when cluster sums are formed
 * and some clusters got no weight, the rows farthest from their own (old) center are taken,
 * the farthest for the lowest-numbered empty cluster, ties to the lower row; each such row
 * is moved from its cluster's sums into the empty cluster's (its label is not changed).
 * Two documented differences from sklearn 1.2: when every row coincides with its center
 * (more clusters than distinct points) nothing is relocated (as sklearn >= 1.3 does); a
 * cluster that is still without weight keeps its previous center (sklearn 1.2 puts it at
 * the data mean, sklearn >= 1.3 on the heaviest cluster). The result then reports fewer
 * distinct clusters (n_nonempty < k).
 *
 * Bounded variants: Hamerly (one upper and one lower bound per row; G. Hamerly, "Making
 * k-means even faster", SDM 2010) and Elkan (one upper bound and k lower bounds per row;
 * C. Elkan, "Using the triangle inequality to accelerate k-means", ICML 2003) skip a
 * distance only when the bounds prove, with a margin larger than the rounding error bound
 * of the computed distances, that it cannot change the first-minimum label. They therefore
 * give bit for bit the labels, centers, inertia and iteration count of Lloyd from the same
 * initial centers. Elkan keeps n * k lower bounds (8 n k bytes).
 *
 * Determinism: rows are cut into blocks of SGS_BLOCK_ROWS; cluster sums and every other
 * floating-point total are formed per block and combined in block order; random draws come
 * from sgs_rng_* keyed by (seed, stream, counter). Results are bitwise identical whatever
 * exec->n_threads, and whatever instruction set the distance kernel uses.
 *
 * Threads: exec->n_threads OpenMP threads inside each call; functions are reentrant.
 *
 * Stopping: sgs_kmeans_fit and sgs_kmeans_single ask exec's stop check (kernels/core.h) before
 * each restart and before each iteration (mini-batch: each step), and return its code when it
 * says stop; the outputs are then unspecified. The seeding and one iteration are not
 * interrupted.
 */
#ifndef SGS_KMEANS_H
#define SGS_KMEANS_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

/* ---- Options and result ----------------------------------------------------------------- */

typedef enum sgs_kmeans_algorithm {
    SGS_KMEANS_LLOYD = 0,    /* full assignment every iteration */
    SGS_KMEANS_HAMERLY = 1,  /* bounded, 2 bounds per row, same result as Lloyd */
    SGS_KMEANS_ELKAN = 2,    /* bounded, k + 1 bounds per row, same result as Lloyd */
    SGS_KMEANS_MINIBATCH = 3 /* Sculley 2010 mini-batch updates; approximate */
} sgs_kmeans_algorithm_t;

typedef enum sgs_kmeans_init {
    SGS_KMEANS_INIT_PLUSPLUS = 0, /* greedy k-means++ (sgs_kmeans_plusplus) */
    SGS_KMEANS_INIT_PARALLEL = 1, /* k-means|| (sgs_kmeans_parallel_init), for large n */
    SGS_KMEANS_INIT_FIRST = 2,    /* the first k rows */
    SGS_KMEANS_INIT_RANDOM = 3,   /* k distinct rows drawn uniformly */
    SGS_KMEANS_INIT_GIVEN = 4     /* opt->init_centers */
} sgs_kmeans_init_t;

typedef enum sgs_kmeans_isa {
    SGS_KMEANS_ISA_AUTO = 0,   /* the widest kernel the CPU supports */
    SGS_KMEANS_ISA_SCALAR = 1, /* plain C reference kernel */
    SGS_KMEANS_ISA_AVX2 = 2    /* AVX2 kernel (falls back to scalar without AVX2) */
} sgs_kmeans_isa_t;

/* Called after each iteration of each run (Lloyd/Hamerly/Elkan: one pass over the rows;
 * mini-batch: one batch step), from the calling thread. n_changed = rows whose label
 * changed (0 for mini-batch), shift2 = sum of squared center shifts. The caller may time
 * iterations with it; kernels do not measure time. */
typedef void (*sgs_kmeans_iter_fn)(void *ctx, int run, int iter, size_t n_changed, double shift2);

typedef struct sgs_kmeans_options {
    size_t k;                         /* clusters, 1 <= k <= n, k <= INT32_MAX */
    sgs_kmeans_algorithm_t algorithm; /* default LLOYD */
    sgs_kmeans_init_t init;           /* default PLUSPLUS */
    const double *init_centers;       /* k x d, used when init == GIVEN (borrowed) */
    int max_iter;                     /* >= 1; default 300 (mini-batch: epochs, see below) */
    double tol;                       /* >= 0, relative to the mean feature variance; 1e-4 */
    int n_init;                       /* restarts >= 1; default 1 */
    uint64_t seed;                    /* default 42 */
    int n_local_trials;               /* k-means++ candidates per center; 0 = 2 + floor(ln k) */
    double oversampling;              /* k-means||: expected rows drawn per round = this * k; 2 */
    int n_rounds;                     /* k-means|| rounds; default 5 */
    size_t batch_size;                /* mini-batch rows per step; default 1024 */
    int max_no_improvement;           /* mini-batch: stop after this many steps without a
                                         better smoothed batch inertia; 0 = never; default 10 */
    sgs_kmeans_isa_t isa;             /* distance kernel; default AUTO; never changes results */
    sgs_kmeans_iter_fn on_iter;       /* optional per-iteration callback */
    void *on_iter_ctx;                /* passed to on_iter */
} sgs_kmeans_options_t;

typedef struct sgs_kmeans_result {
    double inertia;       /* sum_i w_i ||x_i - c_{label_i}||^2 of the kept run */
    double tol_abs;       /* tol * mean feature variance, the threshold actually used */
    int n_iter;           /* iterations of the kept run (mini-batch: steps) */
    int converged;        /* 1 when it stopped before max_iter (labels stable or shift
                             within tolerance; mini-batch: either early-stop rule) */
    int best_run;         /* 0-based restart that was kept */
    size_t n_nonempty;    /* clusters with positive weight in the final labels */
    size_t n_relocated;   /* empty-cluster relocations in the kept run */
    uint64_t n_distances; /* row-center distances computed in the kept run's iterations
                             (Lloyd: n*k per iteration; less for Hamerly/Elkan) */
    uint64_t n_rechecked; /* Lloyd: rows whose float32 screen was not conclusive and were
                             recomputed in float64, over the kept run's iterations (0 where
                             the kernel does not screen) */
} sgs_kmeans_result_t;

/* Fill *opt with the defaults above for k clusters. */
void sgs_kmeans_options_init(sgs_kmeans_options_t *opt, size_t k);

/* ---- The whole fit ------------------------------------------------------------------------ */

/* Cluster x into opt->k clusters: n_init runs (seeding + iterations), the one with the
 * lowest inertia kept (rules in the file comment).
 * labels: n int32 written (0..k-1); centers: k x d written; *result filled.
 * Mini-batch: each step draws batch_size rows uniformly with replacement, assigns them and
 * moves each center to the running weighted mean of all rows it has received (sklearn's
 * _minibatch_update_dense, without random reassignment); at most max_iter * n / batch_size
 * steps; stops early when the summed squared center shift of a step is <= tol_abs (tol >
 * 0 only) or when the exponentially smoothed batch inertia has not improved for
 * max_no_improvement steps; seeding uses a seeded sample of min(n, 3 * max(batch_size, k))
 * rows; final labels and inertia come from a full E-step.
 * @return 0; SGS_EINVAL for bad options (k == 0, k > n — message "n = .. rows, fewer than
 * k = .." —, d == 0, max_iter < 1, tol < 0, n_init < 1, GIVEN without centers, batch_size
 * == 0); SGS_EDATA for a non-finite value in x (message gives row and column), a negative
 * or non-finite weight or a zero total weight; SGS_ENOMEM. On error the outputs are
 * unspecified. */
int sgs_kmeans_fit(const double *x, size_t n, size_t d, const double *weights,
                   const sgs_kmeans_options_t *opt, const sgs_exec_t *exec, int32_t *labels,
                   double *centers, sgs_kmeans_result_t *result, sgs_error_t *err);

/* Serial reference twin of sgs_kmeans_fit (Lloyd, Hamerly and Elkan, which all give the Lloyd
 * result): the same checks and messages, tol_abs from sgs_features_column_moments_ref, each
 * restart seeded by the seeding twins (sgs_kmeans_plusplus_ref, sgs_kmeans_parallel_init_ref;
 * first rows, random rows and given centers as the kernel) and run by sgs_kmeans_single_ref,
 * the best kept by the rule in the file comment, restated. The same labels, centers and
 * result, bitwise, wherever the seeding twin gives the kernel's seeds (always for first,
 * random and given; see sgs_kmeans_plusplus_ref for k-means++ on more than one block); the
 * kernel gives up its same-clustering check above 2^20 clusters (a run then counts as a
 * different clustering), the twin does not. No threads, no stop check, no on_iter calls.
 * @return as the kernel; SGS_EINVAL also for MINIBATCH, which has no twin. */
int sgs_kmeans_fit_ref(const double *x, size_t n, size_t d, const double *weights,
                       const sgs_kmeans_options_t *opt, int32_t *labels, double *centers,
                       sgs_kmeans_result_t *result, sgs_error_t *err);

/* One run of Lloyd, Hamerly or Elkan (opt->algorithm; MINIBATCH is not accepted here) from
 * the k x d centers in `centers` (overwritten with the final centers), with the absolute
 * tolerance tol_abs (see sgs_kmeans_tolerance). Uses opt->k, max_iter, isa, on_iter (run
 * number 0). x is assumed validated. Writes labels (n) and *result (best_run = 0).
 * @return 0, SGS_EINVAL, SGS_ENOMEM. */
int sgs_kmeans_single(const double *x, size_t n, size_t d, const double *weights,
                      const sgs_kmeans_options_t *opt, double tol_abs, const sgs_exec_t *exec,
                      double *centers, int32_t *labels, sgs_kmeans_result_t *result,
                      sgs_error_t *err);

/* Serial reference twin of sgs_kmeans_single (kernels/kmeans_lloyd_ref.c): one Lloyd run from
 * `centers` as plain loops, every row against every center with the scalar distance (first
 * minimum), the empty-cluster relocation, the center shift, the stopping rules, the final
 * E-step and the counts restated from the rules in the file comment. The cluster sums and the
 * inertia are formed in the kernel's order (per block of SGS_BLOCK_ROWS rows, rows dealt to 4
 * sub-sums by row index folded as (S0 + S1) + (S2 + S3), blocks added in order): a plain
 * running sum would differ in the last bits, which can move a row near a boundary; with the
 * same order every output is the kernel's, bit for bit, for Lloyd, Hamerly and Elkan alike.
 * opt->algorithm may be any of those three (the twin runs Lloyd); opt->isa is ignored;
 * on_iter is not called. *result as the kernel's, but n_distances = n k n_iter (Lloyd's count
 * whatever the algorithm) and n_rechecked = 0 (no screen).
 * @return as sgs_kmeans_single (the same messages). */
int sgs_kmeans_single_ref(const double *x, size_t n, size_t d, const double *weights,
                          const sgs_kmeans_options_t *opt, double tol_abs, double *centers,
                          int32_t *labels, sgs_kmeans_result_t *result, sgs_error_t *err);

/* ---- Seeding -------------------------------------------------------------------------------- */

/* Greedy k-means++ exactly as scikit-learn's _kmeans_plusplus (Arthur and Vassilvitskii,
 * "k-means++: the advantages of careful seeding", SODA 2007, with the greedy local trials
 * of their conclusion): the first center is a row drawn with probability w_i / sum w; then
 * for each further center, n_local_trials (0 = 2 + floor(ln k)) candidate rows are drawn
 * with probability proportional to w_i D_i (D_i the distance to the closest chosen center;
 * draw u * potential located in the running sum, first row whose running sum reaches it),
 * and the candidate giving the lowest potential sum_i w_i min(D_i, D(x_i, cand)) is kept
 * (first on ties). Random numbers: sgs_rng_uniform(seed, stream, counter), counter 0 for
 * the first center then one per trial in order. Running sums are per block then prefixed
 * in block order. Writes centers (k x d) and, when not NULL, indices (k rows of x).
 * @return 0, SGS_EINVAL (k == 0 or k > n), SGS_ENOMEM. */
int sgs_kmeans_plusplus(const double *x, size_t n, size_t d, const double *weights, size_t k,
                        int n_local_trials, uint64_t seed, uint64_t stream, const sgs_exec_t *exec,
                        double *centers, size_t *indices, sgs_error_t *err);

/* Serial reference twin of sgs_kmeans_plusplus: the same draws located in plain running sums
 * over the rows, each candidate's potential summed over the rows in order, distances by the
 * scalar formula sum_f (x_f - c_f)^2 (which the SIMD distance kernels reproduce bitwise). The
 * same centers and indices, bitwise, when n <= SGS_BLOCK_ROWS (one block: the kernel's sums
 * are then the same additions in the same order); beyond that the kernel sums per block, and a
 * draw or a potential within rounding of a tie could in principle go the other way (the tests
 * use fixed data where they do not). @return as the kernel (but SGS_ENOMEM's message). */
int sgs_kmeans_plusplus_ref(const double *x, size_t n, size_t d, const double *weights, size_t k,
                            int n_local_trials, uint64_t seed, uint64_t stream, double *centers,
                            size_t *indices, sgs_error_t *err);

/* k-means|| (Bahmani, Moseley, Vattani, Kumar, Vassilvitskii, "Scalable k-means++",
 * PVLDB 5(7), 2012, Algorithm 2): one row drawn with probability w_i / sum w; then
 * n_rounds rounds in which each row is taken independently with probability
 * min(1, l w_i D_i / phi), l = oversampling * k, phi = sum_i w_i D_i (draw for row i in
 * round r: sgs_rng_uniform(seed, stream, 1 + r * n + i)); every candidate is weighted by
 * the weight of the rows nearest to it, and the candidates are reduced to k centers by
 * weighted greedy k-means++ followed by Lloyd (tol 1e-4, at most 300 iterations) on the
 * candidates. When fewer than k distinct candidates are found it falls back to
 * sgs_kmeans_plusplus on x. Writes centers (k x d).
 * @return 0, SGS_EINVAL, SGS_ENOMEM. */
int sgs_kmeans_parallel_init(const double *x, size_t n, size_t d, const double *weights, size_t k,
                             double oversampling, int n_rounds, uint64_t seed, uint64_t stream,
                             const sgs_exec_t *exec, double *centers, sgs_error_t *err);

/* Serial reference twin of sgs_kmeans_parallel_init: the same draws and rules with plain
 * running sums and scalar distances, every row compared with every new candidate; the
 * candidates reduced by sgs_kmeans_plusplus_ref and Lloyd on one thread. The kernel sums by
 * block: with non-integer weights or masses a draw within rounding of a threshold could in
 * principle go the other way (the tests use data where none does). @return as the kernel. */
int sgs_kmeans_parallel_init_ref(const double *x, size_t n, size_t d, const double *weights,
                                 size_t k, double oversampling, int n_rounds, uint64_t seed,
                                 uint64_t stream, double *centers, sgs_error_t *err);

/* ---- E-step and summaries ----------------------------------------------------------------- */

/* labels[i] = nearest of the k centers (first minimum); when sqdist != NULL, sqdist[i] =
 * its squared distance. The same function the fit uses (also for new rows: "predict").
 * @return 0 or SGS_EINVAL (k == 0 or k > INT32_MAX, d == 0). */
int sgs_kmeans_assign(const double *x, size_t n, size_t d, const double *centers, size_t k,
                      const sgs_exec_t *exec, int32_t *labels, double *sqdist, sgs_error_t *err);

/* *inertia = sum_i w_i ||x_i - c_{labels_i}||^2 (block partials in order). Labels must be
 * in 0..k-1. @return 0 or SGS_EINVAL (a label out of range). */
int sgs_kmeans_inertia(const double *x, size_t n, size_t d, const double *weights,
                       const double *centers, size_t k, const int32_t *labels,
                       const sgs_exec_t *exec, double *inertia, sgs_error_t *err);

/* *tol_abs = tol * (1/d) sum_f var_f, var_f = (1/n) sum_i (x_if - mean_f)^2 (two passes,
 * block partials in order); 0 when tol == 0 (scikit-learn _tolerance). n >= 1. */
int sgs_kmeans_tolerance(const double *x, size_t n, size_t d, double tol, const sgs_exec_t *exec,
                         double *tol_abs, sgs_error_t *err);

/* 1 when two labelings of n rows with k clusters are the same partition up to renaming of
 * the clusters as the first labeling's clusters are met (sklearn _is_same_clustering),
 * else 0; -1 when a label is out of range or k is too large for the scratch (> 2^20). */
int sgs_kmeans_same_clustering(const int32_t *a, const int32_t *b, size_t n, size_t k);

/* Check that every value of x is finite; SGS_EDATA names the first bad row and column
 * ("row 12 column 3 is NaN"). */
int sgs_kmeans_check_finite(const double *x, size_t n, size_t d, const sgs_exec_t *exec,
                            sgs_error_t *err);

#endif
