/*
 * engine/dist_figures.h — the reports' figures of the customer columns (engine/report_figures.h)
 * over customers spread over processes (docs/mpi.md, Design: "The reports' figures"), made
 * where the customers are instead of on one process holding every customer's columns.
 * Internal to engine/.
 */
#ifndef SGS_DIST_FIGURES_H
#define SGS_DIST_FIGURES_H

#include "engine/report_figures.h"

struct sgs_run_state;

/* *f, on every process, equal to sgs_report_figures_compute over every process's customers (the
 * processes' customers one after another, in rank order, are the whole base in its order:
 * st->summary.first is this process's first among st->summary.n_all), bit for bit, whatever the
 * number of processes. The sums in customer order (per RFM segment, the RFM grid, each CLV
 * bin's sum: kernels/value_concentration.h) are carried from process to process
 * (engine/dist_blocks.h sgs_dist_chain_bytes), each process continuing them over its customers;
 * the repeat-purchase counts of the frequency-recency grid are integers summed over the
 * processes and the largest age a maximum; the last process makes the CLV concentration and
 * the grid (sgs_report_figures_value_finish) and sends the figures to the others. One process
 * (st->dist.size 1) computes them alone, making no collective call.
 * What a process sends: the sums and counts of the figures (about 4.5 KB) and 24 bytes per
 * non-empty CLV bin of the customers up to its last (a few thousand bins), once, to the next
 * process; the last process the figures to every other; nothing per customer. The counts of
 * repeat purchases go through two sums of integers (MPI_Allreduce, not counted: up to 4,097
 * integers, as many as the largest repeat-purchase value counted one by one).
 * Collective. @return 0; SGS_ENOMEM; SGS_EINVAL for a negative repeat-purchase count, the
 * customer named by its index in the whole base (kernels/frequency_recency_grid.h); the same
 * on every process, with the failing process's message. */
int sgs_dist_report_figures(const struct sgs_run_state *st, sgs_report_figures_t *f,
                            sgs_error_t *err);

#endif /* SGS_DIST_FIGURES_H */
