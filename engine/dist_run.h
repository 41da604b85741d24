/*
 * engine/dist_run.h — what a run spread over processes adds to the single-process run
 * (docs/mpi.md, "Status" and "A spread run"). Internal to engine/.
 *
 * A spread run is engine/run.c's run on every process, with the same request: each step keeps
 * its single-process code for the part a process does with its own customers (the processes own
 * ranges of customer id, engine/dist_input.h, so that their rows one after the other are the
 * single-process run's rows in its order) and calls the spread pieces (engine/dist_*.h) for the
 * part over the whole base: the RFM cuts, the fits, the backtest, the totals. The helpers below
 * are the glue the steps share. Each one, given a run of one process (d->size == 1), does
 * nothing or the single-process thing and makes no collective call: a test's process may run
 * the single-process run alone while the others wait.
 */
#ifndef SGS_DIST_RUN_H
#define SGS_DIST_RUN_H

#include "engine/dist.h"
#include "engine/run.h"
#include "io/h5_input.h"
#include "kernels/exact_sum.h"

struct sgs_run_state;
struct sgs_run_process;

/* The outcome of a part each process did alone, agreed (engine/dist.h sgs_dist_agree). */
int sgs_dist_run_agree(const struct sgs_run_state *st, int rc, sgs_error_t *err);

/* values[0..n) replaced by their sums over the processes. */
void sgs_dist_run_sum_sizes(const sgs_dist_t *d, size_t *values, size_t n);

/* The minimum of v over the processes. */
int32_t sgs_dist_run_min_i32(const sgs_dist_t *d, int32_t v);

/* The exact sums s[0..k) of every process merged (kernels/exact_sum.h: digits added), on every
 * process: the sum over the whole base, rounded the same as one process's over all of it. */
void sgs_dist_run_exact_sums(const sgs_dist_t *d, sgs_exact_sum_t *s, size_t k);

/* The read step's reading of /transactions spread over the processes
 * (engine/dist_input.h): *tx this process's customers' rows, st->read.tx_stats the file's
 * figures, st->owners the ranges of ids. */
int sgs_dist_run_read(struct sgs_run_state *st, const sgs_read_options_t *opt,
                      sgs_transactions_t *tx, sgs_error_t *err);

/* Process 0's view of the run's state at the end, for the outputs it writes alone
 * (summary.json, the reports) by the single-process writers: a copy of *st without any
 * per-customer column (the writers at the end read none: one process has freed them by then,
 * engine/run.c), one process's (dist), with the whole base's customer count. Every figure of the
 * state is the whole base's already (engine/run_state.h), the actions step's and the reports'
 * figures' too (engine/dist_figures.h). *view (free with sgs_free) is NULL on the other
 * processes. Not collective. @return 0 or SGS_ENOMEM. */
int sgs_dist_run_whole_view(const struct sgs_run_state *st, struct sgs_run_state **view,
                            sgs_error_t *err);

/* value.fit_time_limit in a spread run (kernels/optimizer.h sgs_optim_time_up_fn; ctx: the
 * run's sgs_dist_t, read only): process 0's clock decides, and every process gets its answer,
 * so that every process's fit stops at the same check. Collective: the processes run the same
 * fits on the same figures (the merged histories, the spread Gamma-Gamma's totals), so that
 * their fits ask at the same checks. One sum of one integer per check. */
int sgs_dist_run_fit_time_up(void *ctx, double elapsed_s, double limit_s);

/* A spread run's fits' stop check (kernels/optimizer.h options.stop; ctx: the run's
 * sgs_dist_t, read only), asked before each iteration: each process's own check (a signal, the
 * test hook's pause point "fit": engine/interrupt.h sgs_interrupt_stop) agreed over the
 * processes, so that a signal to any process stops every process's fit at the same iteration,
 * with the lowest signalled process's message (instead of one process leaving a fit whose
 * checks the others still make together). Collective, as sgs_dist_run_fit_time_up.
 * @return 0 or SGS_EINTR, the same on every process. */
int sgs_dist_run_fit_stop(void *ctx, sgs_error_t *err);

/* Every process's figures for summary.json's "processes" (engine/run_state.h
 * sgs_run_process_t), sent to process 0 alone and received in rank order: what the process held
 * (st->held and its customers with a purchase), the bytes it sent to the others so far, in all
 * and per step (its progress's steps, then the current one so far), and its peak memory now.
 * *out (free with sgs_free) has d->size entries on process 0 and is NULL elsewhere; NULL for one
 * process, which makes no call. Collective: about 2.5 KB from each process to process 0.
 * @return 0 or SGS_ENOMEM, the same on every process. */
int sgs_dist_run_processes(const struct sgs_run_state *st, struct sgs_run_process **out,
                           sgs_error_t *err);

#endif /* SGS_DIST_RUN_H */
