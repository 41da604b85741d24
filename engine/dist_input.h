/*
 * engine/dist_input.h — the input of a run spread over its processes (docs/mpi.md).
 *
 * Each process reads one share of the file's rows (io/h5_input.h, sgs_read_options_t.share),
 * then every row goes to the process that owns its customer, so that each customer's rows
 * are all on one process. Ownership is by ranges of customer id: process p owns the ids in
 * [first_id[p], first_id[p + 1]), in rank order, so that the processes' customers, one after
 * the other, are the single-process run's customers in their order (ascending id) and each
 * writes its rows of every output at an offset it computes. The ranges are cut at multiples of
 * SGS_BLOCK_ROWS customers (kernels/core.h): a sum over customers made of per-block partials
 * is then the same whatever the number of processes.
 */
#ifndef SGS_DIST_INPUT_H
#define SGS_DIST_INPUT_H

#include "engine/dist.h"
#include "io/h5_input.h"
#include "kernels/tables.h"

typedef struct sgs_dist_owners {
    int size;              /* processes */
    int n_owning;          /* cuts in first_id: processes from n_owning on own nothing, and a
                              process before it owns nothing when its cut equals the next one */
    int64_t *first_id;     /* size entries: the first id process p owns (p < n_owning) */
    size_t first_customer; /* this process's first customer in the ascending order of all */
    size_t n_customers;    /* this process's customers (with a kept transaction) */
    size_t n_customers_all;
} sgs_dist_owners_t;

void sgs_dist_owners_free(sgs_dist_owners_t *o);

/* The process owning customer `id`. */
int sgs_dist_owner_of(const sgs_dist_owners_t *o, int64_t id);

/* Read /transactions spread over the processes of d: *out gets every kept row of this
 * process's customers (in file order within a customer), *owners the ranges, *stats the
 * whole file's figures (rows, rows after the as-of, times, whether sorted, the fingerprint),
 * the same on every process. A problem in one share is the run's error on every process,
 * the lowest share's first (as a single process reading the file in order would report it). */
int sgs_dist_read_transactions(const sgs_dist_t *d, const sgs_exec_t *exec, const char *path,
                               const sgs_read_options_t *opt, sgs_transactions_t *out,
                               sgs_read_stats_t *stats, sgs_dist_owners_t *owners,
                               sgs_error_t *err);

/* Read /events spread over the processes and send each row to the owner of its customer
 * (*present the same on every process). */
int sgs_dist_read_events(const sgs_dist_t *d, const char *path, const sgs_read_options_t *opt,
                         const sgs_dist_owners_t *owners, sgs_events_t *out, int *present,
                         sgs_read_stats_t *stats, sgs_error_t *err);

/* Read /customers spread over the processes and send each row to the owner of its customer,
 * in file order (*present the same on every process). The checks that span the table are
 * made over all processes with the single-process messages: duplicate ids (the pair with the
 * earliest later row), then referrers that are not customers (the earliest row). */
int sgs_dist_read_customers(const sgs_dist_t *d, const char *path, const sgs_read_options_t *opt,
                            const sgs_dist_owners_t *owners, sgs_customers_t *out, int *present,
                            sgs_error_t *err);

#endif /* SGS_DIST_INPUT_H */
