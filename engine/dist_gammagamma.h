/*
 * engine/dist_gammagamma.h — the Gamma-Gamma spend fit (kernels/gammagamma.h) over customers
 * spread across processes, the same fit bit for bit as one process holding every customer,
 * whatever the number of processes (docs/mpi.md, Design, "Gamma-Gamma").
 *
 * The kernel sums in two kinds of block: the first pass (validation, counts, Σ x ln m, Σ ln m,
 * Σ x ln x) and the correlation run over blocks of SGS_BLOCK_ROWS of the input rows; each
 * likelihood evaluation sums over blocks of SGS_BLOCK_ROWS of the used customers (x > 0 and a
 * finite m > 0, compacted in row order). So the rows are realigned twice (engine/dist_blocks.h):
 * the input rows into whole blocks of the input order, then the used rows into whole blocks of
 * the used customers' order; each process makes its blocks' partials with the kernel's
 * arithmetic (kernels/gammagamma_internal.h) and every process adds everyone's, gathered in
 * block order. The counts and the distinct x with their counts are integers, exact in any
 * order. The default start's mean spend is a serial sum over the used customers in row order,
 * carried from process to process (sgs_dist_chain). Every process then holds the same totals
 * and runs the same optimizer, whose every evaluation gathers the 6 sums of each block of used
 * customers (48 bytes per 16,384 used customers).
 */
#ifndef SGS_DIST_GAMMAGAMMA_H
#define SGS_DIST_GAMMAGAMMA_H

#include "engine/dist.h"
#include "kernels/gammagamma.h"

/* sgs_gg_fit over every process's customers: x[n], m[n] this process's (the processes' rows one
 * after another, in rank order, are the single-process fit's rows; any process may pass none).
 * options the same on every process; its optimizer's time_limit_s must be 0 (a limit reached on
 * one process's clock and not another's would part them). Written on every process: *fit and
 * *summary (may be NULL), equal bit for bit to sgs_gg_fit's on all rows. Errors are the
 * kernel's with its messages (a bad x named by its global row), agreed by every process
 * (prefixed "process R of N: " when there is more than one). @return as sgs_gg_fit, the same on
 * every process. Collective; exec's threads within each process. */
int sgs_dist_gg_fit(const sgs_dist_t *d, const double *x, const double *m, size_t n,
                    const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                    sgs_gg_summary_t *summary, const sgs_exec_t *exec, sgs_error_t *err);

#endif /* SGS_DIST_GAMMAGAMMA_H */
