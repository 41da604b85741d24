/*
 * engine/dist.h — the processes of one run (docs/mpi.md). The single-process build has one
 * process and every call below is trivial (engine/dist_single.c); the MPI build
 * (-DSGS_MPI=ON) implements them over MPI_COMM_WORLD (engine/dist_mpi.c). Only the engine
 * talks to other processes: kernels see an execution context, io reads and writes files.
 *
 * Every call is collective: each process makes the same calls in the same order, and each
 * returns the same code on every process. A call that needs memory first agrees that every
 * process has it (sgs_dist_agree), so that one process out of memory makes all of them
 * return SGS_ENOMEM instead of leaving the others waiting. Transfers go in rounds through
 * staging buffers of at most SGS_DIST_ROUND_BYTES a side, whatever the data's size.
 */
#ifndef SGS_DIST_H
#define SGS_DIST_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

#define SGS_DIST_ROUND_BYTES ((size_t)256 << 20)

typedef struct sgs_dist {
    int rank; /* this process, 0 .. size - 1 */
    int size; /* processes in the run */
} sgs_dist_t;

/* Start and end the process group (main, around the whole program). In the single-process
 * build both do nothing. sgs_dist_start returns 0 or SGS_EINVAL when MPI cannot start. */
int sgs_dist_start(int *argc, char ***argv);
void sgs_dist_end(void);

/* Bytes this process has sent to other processes so far (exchanges and gathers): what the
 * network carries, for the benchmarks (bench/bench_mpi_input.c). 0 in one process. */
uint64_t sgs_dist_bytes_sent(void);

/* Every process of the program. */
sgs_dist_t sgs_dist_world(void);

/* Agreement on the outcome of a part each process did alone: every process passes its code
 * and error; all return SGS_OK when every code was 0, else the code of the lowest rank that
 * failed, with its message in *err, prefixed "process R of N: " when there is more than one
 * process. */
int sgs_dist_agree(const sgs_dist_t *d, int rc, sgs_error_t *err);

typedef enum sgs_dist_op { SGS_DIST_SUM, SGS_DIST_MIN, SGS_DIST_MAX } sgs_dist_op_t;

/* values[0..n) replaced on every process by the element-wise op over the processes. */
void sgs_dist_reduce_i64(const sgs_dist_t *d, int64_t *values, size_t n, sgs_dist_op_t op);

/* The sum of `value` over the processes before this one (0 on process 0). */
uint64_t sgs_dist_offset(const sgs_dist_t *d, uint64_t value);

/* Every process's `bytes` bytes at `send`, concatenated in rank order, into *recv (allocated
 * here, free with sgs_free; NULL when the total is 0), with each process's byte count in
 * counts[0..size) (caller's array) when counts is not NULL. SGS_ENOMEM on every process when
 * one could not allocate. */
int sgs_dist_gather_all(const sgs_dist_t *d, const void *send, size_t bytes, void **recv,
                        size_t *counts, sgs_error_t *err);

/* All-to-all exchange: this process sends send_bytes[p] bytes to each process p, taken from
 * `send` in process order (the bytes for process 0 first); it receives into *recv (allocated
 * here, free with sgs_free; NULL when nothing comes) what every process sent it, in the
 * senders' rank order, with the count from each in recv_bytes[0..size) (caller's array).
 * SGS_ENOMEM on every process when one could not allocate. */
int sgs_dist_exchange(const sgs_dist_t *d, const void *send, const size_t *send_bytes, void **recv,
                      size_t *recv_bytes, sgs_error_t *err);

#endif /* SGS_DIST_H */
