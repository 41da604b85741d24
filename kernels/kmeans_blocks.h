/*
 * kernels/kmeans_blocks.h — the per-block pieces of the k-means fit (kernels/kmeans.h), for a
 * caller that holds only some of the rows and combines the pieces itself: engine/dist_kmeans.h
 * runs the fit over rows spread across processes, each holding whole blocks.
 *
 * Every floating-point total of the fit is made of partials, one per block of SGS_BLOCK_ROWS
 * rows, combined in block order from 0 (kernels/kmeans.h, "Determinism"). The functions below
 * compute the partials of the blocks of x (n rows, row-major, n x d) exactly as the kernels do:
 * when x is a run of whole blocks of a larger matrix (its first row's global index a multiple
 * of SGS_BLOCK_ROWS), each partial is bit for bit the kernel's partial of that block, and
 * sgs_kmeans_blocks_combine over the partials of every block, in block order, gives the
 * kernel's total. Local block b holds rows [b SGS_BLOCK_ROWS, min(n, (b + 1) SGS_BLOCK_ROWS));
 * nb = sgs_block_count(n, SGS_BLOCK_ROWS) (0 when n == 0: nothing is written).
 *
 * Threads: exec->n_threads OpenMP threads over the blocks; results do not depend on them.
 * Everything is borrowed; nothing is allocated but by sgs_kmeans_random_rows and
 * sgs_kmeans_parallel_reduce (through the kernels they call). x is assumed finite (checked
 * with sgs_kmeans_first_nonfinite).
 */
#ifndef SGS_KMEANS_BLOCKS_H
#define SGS_KMEANS_BLOCKS_H

#include "kernels/kmeans.h"

#include <stddef.h>
#include <stdint.h>

/* out[e] = ((0 + part[0 m + e]) + part[1 m + e]) + ... + part[(nb - 1) m + e] for e < m: the
 * kernels' combination of block partials (nb blocks of m values each) in block order. */
void sgs_kmeans_blocks_combine(const double *part, size_t nb, size_t m, double *out);

/* The option checks of sgs_kmeans_fit for n rows of d columns, with its messages: SGS_EINVAL
 * or 0. */
int sgs_kmeans_check_options(const sgs_kmeans_options_t *opt, size_t n, size_t d, sgs_error_t *err);

/* The flat index (row d + column) of the first non-finite value of x, SIZE_MAX when every
 * value is finite: the value sgs_kmeans_check_finite names. */
size_t sgs_kmeans_first_nonfinite(const double *x, size_t n, size_t d, const sgs_exec_t *exec);

/* The random-number stream of restart `run` for seeding `init` (the kernels' stream numbers:
 * each restart and purpose its own stream). */
uint64_t sgs_kmeans_seed_stream(int run, sgs_kmeans_init_t init);

/* The m distinct rows of 0..n-1 that SGS_KMEANS_INIT_RANDOM seeds restart `run` with, in the
 * order of selection, into rows (m entries). m <= n. @return 0 or SGS_ENOMEM. */
int sgs_kmeans_random_rows(size_t n, size_t m, uint64_t seed, int run, size_t *rows);

/* ---- Column moments (the tolerance, sgs_kmeans_tolerance) ------------------------------------ */

/* Per block, per column: part[b d + f] = sum over the block's rows of x_if (mean == NULL), or
 * of (x_if - mean[f])^2, each a running sum from 0 in row order (sgs_features_column_moments).
 * The kernel's mean is the combined sum / n_all, its variance the combined squares / n_all. */
void sgs_kmeans_block_column_sums(const double *x, size_t n, size_t d, const double *mean,
                                  const sgs_exec_t *exec, double *part);

/* *tol_abs = tol * (1/d) sum_f var[f], summed in column order (sgs_kmeans_tolerance). */
double sgs_kmeans_tolerance_from_variances(const double *var, size_t d, double tol);

/* ---- One Lloyd iteration --------------------------------------------------------------------- */

/* Per block: the cluster sums of the labelled rows as the Lloyd kernel forms them (row i of
 * the block added to sub-sum i mod 4, x_if w_i and w_i, or x_if and 1 without weights; the
 * block's partial is (S0 + S1) + (S2 + S3)). part: room for nb x 4 k (d + 1) doubles (the
 * four sub-sums of every block); the first nb x k (d + 1) are written with the partials, k x d
 * sums then k weights per block. labels in 0..k-1. */
void sgs_kmeans_block_cluster_sums(const double *x, size_t n, size_t d, const double *weights,
                                   const int32_t *labels, size_t k, const sgs_exec_t *exec,
                                   double *part);

/* A relocation candidate: a row (global index) and its squared distance to its own center. */
typedef struct sgs_kmeans_far {
    double dist;  /* squared distance of the row to the center of its label */
    uint64_t row; /* global row index: first_row + local index */
} sgs_kmeans_far_t;

/* The m rows of x farthest from the centers (k x d) of their labels, in the order of the
 * empty-cluster relocation (larger distance first, then lower row: a total order), into
 * out[0..*len), *len = min(m, n). Rows are named first_row + i. */
void sgs_kmeans_farthest(const double *x, size_t n, size_t d, const double *centers,
                         const int32_t *labels, size_t m, uint64_t first_row, sgs_kmeans_far_t *out,
                         size_t *len);

/* The first m of the n_in candidates in[] in that order, into out[0..*len) (lists of several
 * holders merged: the order is total, so the result does not depend on how they were cut). */
void sgs_kmeans_farthest_merge(const sgs_kmeans_far_t *in, size_t n_in, size_t m,
                               sgs_kmeans_far_t *out, size_t *len);

/* One relocation (kernels/kmeans.h, "Empty clusters") on the combined sums (k x d) and
 * weights (k): row xrow (d values) of weight wf (1 without weights) and label `from` leaves
 * its cluster's sums and becomes the sums of the empty cluster `to`. */
void sgs_kmeans_move_row(double *sums, double *wsum, size_t k, size_t d, const double *xrow,
                         double wf, size_t from, size_t to);

/* The update step's centers from the combined sums (k x d) and weights (k): sums times
 * 1 / weight; a cluster without weight keeps its center in centers_old. Returns the summed
 * squared shift of the centers as the kernel forms it (sum_j s_j s_j, s_j = the square root
 * of the squared distance between the new and the old center j). */
double sgs_kmeans_update_centers(const double *sums, const double *wsum, const double *centers_old,
                                 size_t k, size_t d, double *centers_new);

/* Per block: part[b] = sum over the block's rows of w_i ||x_i - c_{label_i}||^2 (d_i without
 * weights), a running sum from 0 in row order (sgs_kmeans_inertia). labels in 0..k-1. */
void sgs_kmeans_block_inertia(const double *x, size_t n, size_t d, const double *weights,
                              const double *centers, const int32_t *labels, const sgs_exec_t *exec,
                              double *part);

/* sqdist[i] = ||x_i - c_{label_i}||^2 by the distance of kernels/kmeans.h. */
void sgs_kmeans_label_distances(const double *x, size_t n, size_t d, const double *centers,
                                const int32_t *labels, const sgs_exec_t *exec, double *sqdist);

/* ---- Greedy k-means++ (sgs_kmeans_plusplus) -------------------------------------------------- */

/* closest[i] = the squared distance of row i to center c (d values) when init, else
 * min(closest[i], that distance): the closest distances k-means++ keeps. */
void sgs_kmeans_closest_update(const double *x, size_t n, size_t d, const double *c, int init,
                               const sgs_exec_t *exec, double *closest);

/* Per block: part[b] = the running sum from 0 of the rows' mass, w_i a_i (a NULL: w_i; w NULL:
 * a_i; both NULL: 1): k-means++'s block sums, prefixed in block order by the caller
 * (prefix[0] = 0, prefix[b + 1] = prefix[b] + part[b]). */
void sgs_kmeans_block_mass(const double *a, const double *w, size_t n, const sgs_exec_t *exec,
                           double *part);

/* The first local row, searching the blocks from local block `from_block` in order, whose
 * running sum of mass reaches r, the running sum of block b starting at prefix[b] (the sum of
 * every row of every block before it, local or not); SIZE_MAX when none does. */
size_t sgs_kmeans_mass_search(const double *a, const double *w, size_t n, const double *prefix,
                              size_t from_block, double r);

/* Per block, for each of the n_cand candidate centers cand (n_cand x d): part[b n_cand + t] =
 * the running sum from 0 over the block's rows of w_i min(closest_i, D(x_i, cand_t)) (without
 * weights min(...)): the potentials among which k-means++ keeps the lowest. */
void sgs_kmeans_block_potentials(const double *x, size_t n, size_t d, const double *weights,
                                 const double *closest, const double *cand, size_t n_cand,
                                 const sgs_exec_t *exec, double *part);

/* ---- k-means|| (sgs_kmeans_parallel_init) ---------------------------------------------------- */

/* closest[i] = the squared distance of row i to center c[0] and nearest[i] = 0 (init), or, for
 * each of the n_c centers c (n_c x d) in order, when strictly closer than closest[i]:
 * closest[i] = that distance, nearest[i] = c0 + its index. */
void sgs_kmeans_nearest_update(const double *x, size_t n, size_t d, const double *c, size_t n_c,
                               size_t c0, int init, const sgs_exec_t *exec, double *closest,
                               int32_t *nearest);

/* The rows of round draw k-means|| takes: row i (global index first_row + i) when
 * sgs_rng_uniform(seed, stream, base + first_row + i) < ell m_i / phi, m_i = w_i closest_i
 * (closest_i without weights). Writes their local indices, ascending, to rows when not NULL;
 * returns how many. */
size_t sgs_kmeans_parallel_draws(const double *closest, const double *w, size_t n,
                                 uint64_t first_row, double ell, double phi, uint64_t seed,
                                 uint64_t stream, uint64_t base, size_t *rows);

/* Per block: part[b nc + j] = the running sum from 0 of the weights (1 without) of the block's
 * rows whose nearest candidate is j: the candidates' weights, combined in block order. */
void sgs_kmeans_block_candidate_weights(const int32_t *nearest, const double *w, size_t n,
                                        size_t nc, const sgs_exec_t *exec, double *part);

/* k-means||'s last step, the same on every holder of the candidates: the nc weighted
 * candidates (nc x d, weights cw) reduced to k centers by weighted greedy k-means++ (stream
 * `stream` ^ 2^63) then Lloyd (tol 1e-4, 300 iterations at most). @return as sgs_kmeans_fit. */
int sgs_kmeans_parallel_reduce(const double *cand_x, size_t nc, size_t d, const double *cw,
                               size_t k, uint64_t seed, uint64_t stream, const sgs_exec_t *exec,
                               double *centers, sgs_error_t *err);

#endif /* SGS_KMEANS_BLOCKS_H */
