/*
 * engine/dist_kmeans.h — k-means over rows spread across processes, the same fit bit for bit as
 * one process holding every row (kernels/kmeans.h, sgs_kmeans_fit), whatever the number of
 * processes (docs/mpi.md, Design, "k-means").
 *
 * The rows. Each process passes its rows of one matrix; the processes' rows one after another,
 * in rank order, are the matrix of the single-process fit (global row order). A process may
 * pass none. The rows need not be cut where the kernels cut their blocks (the segment step
 * clusters a subset of the customers, whose rows are not cut at the customers' blocks), so they
 * are first realigned: process p takes the global rows [a_p, a_{p+1}), a_p = its first row's
 * global index rounded to the nearest multiple of SGS_BLOCK_ROWS (a_0 = 0, a_N = all rows), so
 * that every process holds whole blocks of the global order; a row moves only to a process whose
 * new range overlaps the rows it was given. Every floating-point total of the fit (the column
 * moments of the tolerance, k-means++'s running sums and potentials, k-means||'s candidate
 * weights, the cluster sums, the inertia) is then made of per-block partials
 * (kernels/kmeans_blocks.h), gathered from every process in block order and combined as the
 * kernel combines them; every process holds the same totals and so makes the same choices (the
 * seeds, the relocations, when to stop, which restart is kept).
 */
#ifndef SGS_DIST_KMEANS_H
#define SGS_DIST_KMEANS_H

#include "engine/dist.h"
#include "kernels/kmeans.h"

/* sgs_kmeans_fit over every process's rows: x (n x d, row-major, this process's rows), weights
 * (n, or NULL; NULL on every process that has rows, or on none), opt the same on every process.
 * Algorithms LLOYD, HAMERLY and ELKAN all run Lloyd's iterations (the kernel's bounded variants
 * give Lloyd's result bit for bit); every seeding: PLUSPLUS and PARALLEL (k-means||, what the
 * segment step uses above 2 million rows), FIRST, RANDOM, GIVEN; restarts, empty clusters and
 * the stopping rules as the kernel. Written: labels[i] (0..k-1) and, when sqdist is not NULL,
 * sqdist[i] = the squared distance of row i to the center of its label, for this process's n
 * rows; centers (k x d) and *result on every process. Equal, bitwise, to what sgs_kmeans_fit on all
 * rows gives: centers, labels, inertia, tol_abs, n_iter, converged, best_run, n_nonempty,
 * n_relocated; n_distances is Lloyd's count (all rows x k x n_iter, also for HAMERLY and ELKAN,
 * which compute fewer) and n_rechecked is 0 (no float32 screen). Errors are the kernel's, with its
 * messages (rows named by global index), agreed by every process (sgs_dist_agree: the lowest
 * failing process's, prefixed "process R of N: " when there is more than one). @return 0;
 * SGS_EINVAL for the kernel's bad options, for weights on some processes only, and for algorithm
 * MINIBATCH, not spread over processes; SGS_EDATA for a non-finite value or a bad weight;
 * SGS_ENOMEM; exec's stop code (asked, and agreed, before each restart and each iteration). The
 * same code on every process; the outputs are then unspecified. Threads: exec->n_threads within
 * each process; the results depend on neither. Collective: every process calls it with the same
 * opt. */
int sgs_dist_kmeans_fit(const sgs_dist_t *dist, const double *x, size_t n, size_t d,
                        const double *weights, const sgs_kmeans_options_t *opt,
                        const sgs_exec_t *exec, int32_t *labels, double *sqdist, double *centers,
                        sgs_kmeans_result_t *result, sgs_error_t *err);

#endif /* SGS_DIST_KMEANS_H */
