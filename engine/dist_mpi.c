/*
 * engine/dist_mpi.c — engine/dist.h over MPI_COMM_WORLD (the -DSGS_MPI=ON build).
 *
 * MPI counts are int: byte counts of any size go in rounds of at most SGS_DIST_ROUND_BYTES
 * between any two processes, as many rounds as the largest pair needs, every process
 * taking part in each. MPI's own errors stay fatal (MPI_ERRORS_ARE_FATAL): a broken network
 * ends the job through mpirun, which names the process.
 */
#include "engine/dist.h"
#include "kernels/page_pool.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sgs_dist_start(int *argc, char ***argv)
{
    int provided = 0;
    /* Before MPI starts: Open MPI's and UCX's memory hooks mishandle the page pool's
     * mremap (kernels/page_pool.h), so large arrays come from malloc in an MPI process. */
    sgs_page_pool_disable();
    /* Only the thread that called MPI_Init_thread calls MPI; OpenMP threads compute. */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS ||
        provided < MPI_THREAD_FUNNELED)
        return SGS_EINVAL;
    return SGS_OK;
}

void sgs_dist_end(void)
{
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
        MPI_Finalize();
}

static uint64_t bytes_sent; /* to other processes, by exchanges and gathers */

uint64_t sgs_dist_bytes_sent(void)
{
    return bytes_sent;
}

sgs_dist_t sgs_dist_world(void)
{
    sgs_dist_t d;
    MPI_Comm_rank(MPI_COMM_WORLD, &d.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d.size);
    return d;
}

int sgs_dist_agree(const sgs_dist_t *d, int rc, sgs_error_t *err)
{
    if (d->size == 1)
        return rc;
    /* the lowest failing rank: MIN over (failed ? rank : size) */
    int mine = rc != SGS_OK ? d->rank : d->size, first = d->size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == d->size)
        return SGS_OK;
    struct {
        int code;
        char message[SGS_ERROR_MESSAGE_MAX];
    } what = {rc, ""};
    if (d->rank == first && err)
        snprintf(what.message, sizeof what.message, "%s", err->message);
    MPI_Bcast(&what, (int)sizeof what, MPI_BYTE, first, MPI_COMM_WORLD);
    what.message[sizeof what.message - 1] = '\0';
    /* an error agreed before (passed on by a later step) names its process once */
    char prefix[64];
    for (int r = 0; r < d->size; r++) {
        snprintf(prefix, sizeof prefix, "process %d of %d: ", r, d->size);
        if (strstr(what.message, prefix))
            return sgs_error_set(err, what.code, "%s", what.message);
    }
    snprintf(prefix, sizeof prefix, "process %d of %d: ", first, d->size);
    return sgs_error_set(err, what.code, "%s%s", prefix, what.message);
}

void sgs_dist_reduce_i64(const sgs_dist_t *d, int64_t *values, size_t n, sgs_dist_op_t op)
{
    if (d->size == 1 || n == 0)
        return;
    MPI_Op mop = op == SGS_DIST_SUM ? MPI_SUM : op == SGS_DIST_MIN ? MPI_MIN : MPI_MAX;
    MPI_Allreduce(MPI_IN_PLACE, values, (int)n, MPI_INT64_T, mop, MPI_COMM_WORLD);
}

uint64_t sgs_dist_offset(const sgs_dist_t *d, uint64_t value)
{
    uint64_t before = 0;
    MPI_Exscan(&value, &before, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    return d->rank == 0 ? 0 : before;
}

/* Everyone's allocation of `bytes` bytes (NULL for none), agreed on. */
static int alloc_agreed(const sgs_dist_t *d, size_t bytes, void **out, sgs_error_t *err)
{
    *out = bytes ? sgs_alloc_array(bytes, 1) : NULL;
    int rc = bytes && !*out ? sgs_error_set(err, SGS_ENOMEM,
                                            "no memory for %zu bytes of exchanged rows", bytes)
                            : SGS_OK;
    rc = sgs_dist_agree(d, rc, err);
    if (rc) {
        sgs_free(*out);
        *out = NULL;
    }
    return rc;
}

/* Bytes each pair moves per round: the staging buffers of a round hold at most
 * SGS_DIST_ROUND_BYTES whatever the process count. */
static size_t pair_cap(const sgs_dist_t *d)
{
    size_t cap = SGS_DIST_ROUND_BYTES / (size_t)d->size;
    return cap < ((size_t)1 << 20) ? (size_t)1 << 20 : cap;
}

/* Most rounds any pair of `bytes` needs, over every process. */
static int64_t rounds_needed(const sgs_dist_t *d, const size_t *bytes, size_t cap)
{
    int64_t rounds = 0;
    for (int p = 0; p < d->size; p++) {
        int64_t need = (int64_t)((bytes[p] + cap - 1) / cap);
        rounds = need > rounds ? need : rounds;
    }
    sgs_dist_reduce_i64(d, &rounds, 1, SGS_DIST_MAX);
    return rounds;
}

/* Counts and displacements of one round's staging buffer: the next piece of at most cap of
 * what is left of each pair. Returns the round's total. */
static size_t round_layout(int n, const size_t *bytes, const size_t *done, size_t cap, int *cnt,
                           int *disp)
{
    size_t at = 0;
    for (int p = 0; p < n; p++) {
        size_t left = bytes[p] - done[p];
        cnt[p] = (int)(left < cap ? left : cap);
        disp[p] = (int)at;
        at += (size_t)cnt[p];
    }
    return at;
}

typedef struct exchange_work {
    size_t *send_at, *recv_at, *sent, *received; /* per process: offsets and progress */
    int *sc, *sd, *rc, *rd;                      /* one round's MPI counts and displacements */
    char *stage_send, *stage_recv;               /* one round's pieces */
} exchange_work_t;

static void exchange_work_free(exchange_work_t *w)
{
    free(w->send_at);
    free(w->sc);
    sgs_free(w->stage_send);
    sgs_free(w->stage_recv);
}

/* The largest piece a pair moves in a round: cap, or less when no pair has that much. */
static size_t piece_size(int n, const size_t *bytes, size_t cap)
{
    size_t most = 1;
    for (int p = 0; p < n; p++)
        most = bytes[p] > most ? bytes[p] : most;
    return most < cap ? most : cap;
}

/* The work arrays and staging buffers of an exchange whose pieces are at most send_piece and
 * recv_piece bytes: a small exchange stages little. */
static int exchange_work_alloc(const sgs_dist_t *d, size_t send_piece, size_t recv_piece,
                               exchange_work_t *w, sgs_error_t *err)
{
    const size_t n = (size_t)d->size;
    memset(w, 0, sizeof *w);
    w->send_at = calloc(4 * n, sizeof *w->send_at);
    w->sc = calloc(4 * n, sizeof *w->sc);
    w->stage_send = sgs_alloc_array(n, send_piece);
    w->stage_recv = sgs_alloc_array(n, recv_piece);
    int rc = !w->send_at || !w->sc || !w->stage_send || !w->stage_recv
                 ? sgs_error_set(err, SGS_ENOMEM, "no memory for the buffers of an exchange")
                 : SGS_OK;
    rc = sgs_dist_agree(d, rc, err);
    if (rc) {
        exchange_work_free(w);
        return rc;
    }
    w->recv_at = w->send_at + n;
    w->sent = w->send_at + 2 * n;
    w->received = w->send_at + 3 * n;
    w->sd = w->sc + n;
    w->rc = w->sc + 2 * n;
    w->rd = w->sc + 3 * n;
    return SGS_OK;
}

int sgs_dist_exchange(const sgs_dist_t *d, const void *send, const size_t *send_bytes, void **recv,
                      size_t *recv_bytes, sgs_error_t *err)
{
    *recv = NULL;
    const int n = d->size;
    MPI_Alltoall(send_bytes, 1, MPI_UINT64_T, recv_bytes, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    size_t total = 0;
    for (int p = 0; p < n; p++)
        total += recv_bytes[p];
    int rc = alloc_agreed(d, total, recv, err);
    if (rc)
        return rc;
    const size_t cap = pair_cap(d);
    exchange_work_t w;
    rc = exchange_work_alloc(d, piece_size(n, send_bytes, cap), piece_size(n, recv_bytes, cap), &w,
                             err);
    if (rc) {
        sgs_free(*recv);
        *recv = NULL;
        return rc;
    }
    for (int p = 1; p < n; p++) {
        w.send_at[p] = w.send_at[p - 1] + send_bytes[p - 1];
        w.recv_at[p] = w.recv_at[p - 1] + recv_bytes[p - 1];
    }
    for (int p = 0; p < n; p++)
        bytes_sent += p == d->rank ? 0 : send_bytes[p];
    int64_t rounds = rounds_needed(d, send_bytes, cap);
    for (int64_t k = 0; k < rounds; k++) {
        round_layout(n, send_bytes, w.sent, cap, w.sc, w.sd);
        round_layout(n, recv_bytes, w.received, cap, w.rc, w.rd);
        for (int p = 0; p < n; p++)
            if (w.sc[p])
                memcpy(w.stage_send + w.sd[p], (const char *)send + w.send_at[p] + w.sent[p],
                       (size_t)w.sc[p]);
        MPI_Alltoallv(w.stage_send, w.sc, w.sd, MPI_BYTE, w.stage_recv, w.rc, w.rd, MPI_BYTE,
                      MPI_COMM_WORLD);
        for (int p = 0; p < n; p++) {
            if (w.rc[p])
                memcpy((char *)*recv + w.recv_at[p] + w.received[p], w.stage_recv + w.rd[p],
                       (size_t)w.rc[p]);
            w.sent[p] += (size_t)w.sc[p];
            w.received[p] += (size_t)w.rc[p];
        }
    }
    exchange_work_free(&w);
    return SGS_OK;
}

int sgs_dist_gather_all(const sgs_dist_t *d, const void *send, size_t bytes, void **recv,
                        size_t *counts, sgs_error_t *err)
{
    /* an exchange that sends the same bytes to every process: each takes its piece of the
     * round from `send` itself, so nothing is repeated in memory */
    *recv = NULL;
    const int n = d->size;
    size_t *all = calloc((size_t)n, sizeof *all);
    int rc = all ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for a gather");
    rc = sgs_dist_agree(d, rc, err);
    if (rc) {
        free(all);
        return rc;
    }
    uint64_t mine = bytes;
    MPI_Allgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    size_t total = 0;
    for (int p = 0; p < n; p++)
        total += all[p];
    rc = alloc_agreed(d, total, recv, err);
    const size_t cap = pair_cap(d);
    exchange_work_t w;
    if (rc == SGS_OK)
        rc = exchange_work_alloc(d, 1, piece_size(n, all, cap), &w, err);
    if (rc) {
        sgs_free(*recv);
        *recv = NULL;
        free(all);
        return rc;
    }
    for (int p = 1; p < n; p++)
        w.recv_at[p] = w.recv_at[p - 1] + all[p - 1];
    bytes_sent += (uint64_t)bytes * (uint64_t)(n - 1);
    int64_t rounds = rounds_needed(d, all, cap);
    for (int64_t k = 0; k < rounds; k++) {
        round_layout(n, all, w.received, cap, w.rc, w.rd);
        const char *piece = (const char *)send + w.received[d->rank];
        MPI_Allgatherv(piece, w.rc[d->rank], MPI_BYTE, w.stage_recv, w.rc, w.rd, MPI_BYTE,
                       MPI_COMM_WORLD);
        for (int p = 0; p < n; p++) {
            if (w.rc[p])
                memcpy((char *)*recv + w.recv_at[p] + w.received[p], w.stage_recv + w.rd[p],
                       (size_t)w.rc[p]);
            w.received[p] += (size_t)w.rc[p];
        }
    }
    if (counts)
        memcpy(counts, all, (size_t)n * sizeof *counts);
    exchange_work_free(&w);
    free(all);
    return SGS_OK;
}
