/*
 * engine/dist_blocks.h — rows spread over processes made into whole blocks of their global
 * order, and serial sums carried from process to process (docs/mpi.md, Design): what a kernel's
 * floating-point totals need to come out the same bits on any number of processes.
 *
 * Realignment (as engine/dist_kmeans.c does for its rows): the processes' rows one after
 * another, in rank order, are the global rows; process p passes rows starting at global index
 * o_p and afterwards holds the rows [a_p, a_{p+1}), a_p = o_p rounded to the nearest multiple
 * of SGS_BLOCK_ROWS (a_0 = 0, a_N = every row), so that each process holds whole blocks of
 * SGS_BLOCK_ROWS global rows (the last one's may end with a part) and a per-block partial made
 * there is the kernel's. A row moves only to a process whose new range overlaps the rows it
 * was given: at most a block's worth across each cut.
 *
 * A chain carries a state from process 0 to process N - 1: process p continues what the
 * processes before it computed, in turn, as one process walking every row in order would. N
 * small collective rounds; for a serial sum over rows in order (a sum a kernel makes without
 * blocks), whose bits depend on every addition's order.
 */
#ifndef SGS_DIST_BLOCKS_H
#define SGS_DIST_BLOCKS_H

#include "engine/dist.h"

/* Where every process's rows are, given and realigned. */
typedef struct sgs_dist_align {
    uint64_t n_all;  /* rows of every process */
    uint64_t *given; /* [size + 1] global index of each process's first given row; given[size] =
                        n_all */
    uint64_t *start; /* [size + 1] the same after realignment */
    uint64_t first;  /* this process's first realigned row, global index */
    size_t n;        /* realigned rows on this process */
} sgs_dist_align_t;

/* The layout of every process's n given rows (collective). @return 0 or SGS_ENOMEM, the same
 * on every process; *al is freed by sgs_dist_align_free in either case. */
int sgs_dist_align_init(const sgs_dist_t *d, size_t n, sgs_dist_align_t *al, sgs_error_t *err);

void sgs_dist_align_free(sgs_dist_align_t *al);

/* Move `words` 8-byte words per row from the given layout to the realigned one, or back when
 * `back` (rows given as realigned, returned to where they were given). *out: the rows this
 * process gets, in global order (allocated, free with sgs_free; NULL when none). Collective.
 * @return 0 or SGS_ENOMEM, the same on every process. */
int sgs_dist_align_move(const sgs_dist_t *d, const sgs_dist_align_t *al, const void *rows,
                        size_t words, int back, void **out, sgs_error_t *err);

/* Totals of m values per block: part (this process's nb blocks x m, block-major) gathered from
 * every process in rank order, which is block order after realignment, and added in block order
 * from 0, one value at a time (out[k] = ((0 + part_0[k]) + part_1[k]) + ...), as the kernels
 * combine their blocks. out: m values, the same on every process. @return 0 or SGS_ENOMEM. */
int sgs_dist_blocks_sum(const sgs_dist_t *d, const double *part, size_t nb, size_t m, double *out,
                        sgs_error_t *err);

/* A step of sgs_dist_chain_bytes, on one process: the state in[0..in_bytes) that the
 * processes before it made (NULL and 0 on process 0) continued into a state of its own, *out
 * (allocated with sgs_alloc_array, *out_bytes long; NULL and 0 for an empty state; NULL on
 * failure). Returns 0 or an SGS_E* code with err set. */
typedef int (*sgs_dist_chain_step_fn)(void *ctx, const void *in, size_t in_bytes, void **out,
                                      size_t *out_bytes, sgs_error_t *err);

/* The chain with a state of bytes whose length may change from process to process (the
 * non-empty bins of a histogram, say): for p = 0 .. N - 1 in turn, process p calls step on the
 * state process p - 1 sent it, and sends the state step made to process p + 1 alone. The last
 * process keeps its state in *last (free with sgs_free; NULL on every other process; freed when
 * last is NULL), *last_bytes long. Each step's outcome is agreed before its state moves, so that
 * a step failing on one process fails every process with its message. What a process sends:
 * the state it made, once, to the next process (counted by sgs_dist_bytes_sent). Collective: N
 * agreements and N - 1 exchanges, the steps one after another. @return 0, the failing step's
 * code or SGS_ENOMEM, the same on every process. */
int sgs_dist_chain_bytes(const sgs_dist_t *d, sgs_dist_chain_step_fn step, void *ctx, void **last,
                         size_t *last_bytes, sgs_error_t *err);

/* The chain: for p = 0 .. N - 1 in turn, process p calls step(state, ctx), then every process
 * gets its state (k doubles, their bits). Every process starts from the same state and ends
 * with the last process's. Collective; no allocation. */
void sgs_dist_chain(const sgs_dist_t *d, double *state, size_t k,
                    void (*step)(double *state, void *ctx), void *ctx);

#endif /* SGS_DIST_BLOCKS_H */
