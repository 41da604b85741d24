/*
 * engine/dist_opportunities.h — the opportunity list over customers spread over processes
 * (docs/mpi.md): the rows of sgs_opportunities_rank (kernels/opportunities.h) as one process
 * holding every customer ranks them, each process holding a stretch of the list in rank order.
 */
#ifndef SGS_DIST_OPPORTUNITIES_H
#define SGS_DIST_OPPORTUNITIES_H

#include "engine/dist.h"
#include "kernels/opportunities.h"

/* Bytes a candidate travels in between processes: value at stake (8), global customer index
 * (8), customer_id (8), kind, own channel, blocked channels, control and unanswered flags
 * (1 each). The priority is cfg->priority[kind] and does not travel. */
#define SGS_DIST_OPPORTUNITY_RECORD_BYTES 28

/* A process's stretch of the list: owned columns of n_rows rows, the whole list's rows
 * first_rank .. first_rank + n_rows - 1 (the processes' stretches one after another, in
 * rank order, are the list). */
typedef struct sgs_dist_opportunity_list {
    sgs_opportunity_rows_t rows; /* owned columns [n_rows]; customer_index is the global index
                                    (the process's offset plus the owner's local index), rank
                                    the whole list's rank (1, 2, ...) */
    int64_t *customer_id;        /* owned [n_rows]: the customer's id */
    size_t n_rows;               /* rows of this process's stretch */
    int64_t first_rank;          /* rank of its first row (1 + the rows before it), also when
                                    n_rows is 0 */
    int64_t n_candidates;        /* candidates whose rank fell in this process's stretch, listed
                                    or left out */
    sgs_opportunity_list_summary_t summary; /* the whole list's counts: the same on every
                                               process, equal to sgs_opportunities_rank's */
} sgs_dist_opportunity_list_t;

/* Release what list owns (NULL-safe; the list is then empty and safe to free again). */
void sgs_dist_opportunity_list_free(sgs_dist_opportunity_list_t *list);

/* The list of sgs_opportunities_rank over every process's customers. Each process passes its
 * own customers (in, with their masks fired of sgs_opportunities_detect), which are the global
 * customers [offset, offset + in->customers->n) in the global (customer_id) order, offset being
 * the sum of the counts of the processes before (docs/mpi.md, ownership by ranges of id). cfg is
 * the same on every process, and st's thresholds (CLV quantile, medians) those of the whole
 * base; st->n_candidates counts this process's candidates and st->all_opportunities is the
 * same everywhere.
 * How: each process builds, sorts and routes its own candidates (route: own channel, blocked
 * channels, control draw, from its customers' columns); splitters sampled from every process
 * (about 256 per process) cut the global order into one range per process, each candidate
 * goes once to the process of its range (SGS_DIST_OPPORTUNITY_RECORD_BYTES), which merges the
 * runs it received; then the capacity walk runs process after process, each starting from the
 * counts per channel the ranges before it left (one sum of 8 integers per process), so that
 * the rows are exactly those of one serial walk over the whole list.
 * *list (overwritten; free with sgs_dist_opportunity_list_free, also after a failure) gets
 * this process's stretch and the whole list's summary. Concatenated in process order, the
 * stretches' columns equal sgs_opportunities_rank's rows on every customer, byte for byte
 * (customer_index the global index), whatever the number of processes and threads.
 * Collective: every process calls it. @return 0; SGS_ECONFIG (cfg); SGS_EINVAL (a required
 * array is NULL, masks and st->n_candidates disagree); SGS_ENOMEM; the lowest failing
 * process's code and message on every process ("process R of N: ..."). */
int sgs_dist_opportunities_rank(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                                const sgs_opportunity_config_t *cfg,
                                const sgs_opportunity_stats_t *st, const uint16_t *fired,
                                const sgs_exec_t *exec, sgs_dist_opportunity_list_t *list,
                                sgs_error_t *err);

#endif /* SGS_DIST_OPPORTUNITIES_H */
