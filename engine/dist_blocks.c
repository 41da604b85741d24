/*
 * engine/dist_blocks.c — realignment into whole blocks and chains over processes
 * (engine/dist_blocks.h).
 */
#include "engine/dist_blocks.h"

#include <string.h>

/* The first global row process p holds after realignment (engine/dist_kmeans.c's rule). */
static uint64_t aligned_start(uint64_t offset, uint64_t n_all)
{
    uint64_t a = (offset + SGS_BLOCK_ROWS / 2) / SGS_BLOCK_ROWS * SGS_BLOCK_ROWS;
    return a < n_all ? a : n_all;
}

int sgs_dist_align_init(const sgs_dist_t *d, size_t n, sgs_dist_align_t *al, sgs_error_t *err)
{
    memset(al, 0, sizeof *al);
    int np = d->size;
    uint64_t mine = n, *counts = NULL;
    int rc = sgs_dist_gather_all(d, &mine, sizeof mine, (void **)&counts, NULL, err);
    if (rc)
        return rc;
    al->given = sgs_alloc_array((size_t)np + 1, 2 * sizeof *al->given);
    rc = al->given ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for %d processes", np);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK) {
        al->start = al->given + np + 1;
        al->given[0] = 0;
        for (int p = 0; p < np; p++)
            al->given[p + 1] = al->given[p] + counts[p];
        al->n_all = al->given[np];
        for (int p = 0; p < np; p++)
            al->start[p] = aligned_start(al->given[p], al->n_all);
        al->start[np] = al->n_all;
        al->first = al->start[d->rank];
        al->n = (size_t)(al->start[d->rank + 1] - al->start[d->rank]);
    }
    sgs_free(counts);
    return rc;
}

void sgs_dist_align_free(sgs_dist_align_t *al)
{
    if (!al)
        return;
    sgs_free(al->given);
    al->given = al->start = NULL;
}

int sgs_dist_align_move(const sgs_dist_t *d, const sgs_dist_align_t *al, const void *rows,
                        size_t words, int back, void **out, sgs_error_t *err)
{
    const uint64_t *from = back ? al->start : al->given, *to = back ? al->given : al->start;
    int np = d->size, me = d->rank;
    *out = NULL;
    size_t *send_bytes = sgs_alloc_array((size_t)np, 2 * sizeof *send_bytes);
    int rc = send_bytes ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for %d processes", np);
    rc = sgs_dist_agree(d, rc, err);
    if (rc) {
        sgs_free(send_bytes);
        return rc;
    }
    uint64_t lo = from[me], hi = from[me + 1];
    for (int p = 0; p < np; p++) {
        uint64_t a = to[p] > lo ? to[p] : lo, b = to[p + 1] < hi ? to[p + 1] : hi;
        send_bytes[p] = b > a ? (size_t)(b - a) * words * 8 : 0;
    }
    rc = sgs_dist_exchange(d, rows, send_bytes, out, send_bytes + np, err);
    sgs_free(send_bytes);
    return rc;
}

int sgs_dist_blocks_sum(const sgs_dist_t *d, const double *part, size_t nb, size_t m, double *out,
                        sgs_error_t *err)
{
    double *all = NULL;
    size_t bytes = 0, *counts = sgs_alloc_array((size_t)d->size, sizeof *counts);
    int rc =
        counts ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for %d processes", d->size);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK)
        rc = sgs_size_mul(nb, m * sizeof *part, &bytes);
    if (rc == SGS_OK)
        rc = sgs_dist_gather_all(d, part, bytes, (void **)&all, counts, err);
    if (rc == SGS_OK) {
        size_t total = 0;
        for (int p = 0; p < d->size; p++)
            total += counts[p];
        size_t nb_all = m ? total / (m * sizeof *part) : 0;
        for (size_t k = 0; k < m; k++)
            out[k] = 0.0;
        for (size_t b = 0; b < nb_all; b++)
            for (size_t k = 0; k < m; k++)
                out[k] += all[b * m + k];
    }
    sgs_free(all);
    sgs_free(counts);
    return rc;
}

void sgs_dist_chain(const sgs_dist_t *d, double *state, size_t k,
                    void (*step)(double *state, void *ctx), void *ctx)
{
    enum { MAX_STATE = 16 };
    int64_t bits[MAX_STATE];
    for (int r = 0; r < d->size; r++) {
        if (d->rank == r)
            step(state, ctx);
        if (d->size == 1)
            break;
        /* the state's bits from process r: a sum to which only r adds (exact in integers) */
        for (size_t at = 0; at < k; at += MAX_STATE) {
            size_t m = k - at < MAX_STATE ? k - at : MAX_STATE;
            if (d->rank == r)
                memcpy(bits, state + at, m * sizeof *bits);
            else
                memset(bits, 0, m * sizeof *bits);
            sgs_dist_reduce_i64(d, bits, m, SGS_DIST_SUM);
            memcpy(state + at, bits, m * sizeof *bits);
        }
    }
}

int sgs_dist_chain_bytes(const sgs_dist_t *d, sgs_dist_chain_step_fn step, void *ctx, void **last,
                         size_t *last_bytes, sgs_error_t *err)
{
    const int np = d->size;
    if (last) {
        *last = NULL;
        *last_bytes = 0;
    }
    size_t *bytes = sgs_alloc_array(2 * (size_t)np, sizeof *bytes); /* sent, then received */
    int rc = bytes ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for %d processes", np);
    rc = sgs_dist_agree(d, rc, err);
    void *in = NULL; /* the state process r - 1 sent, on process r */
    size_t in_bytes = 0;
    for (int r = 0; rc == SGS_OK && r < np; r++) {
        void *out = NULL;
        size_t out_bytes = 0;
        if (d->rank == r) {
            rc = step(ctx, in, in_bytes, &out, &out_bytes, err);
            sgs_free(in);
            in = NULL;
        }
        rc = sgs_dist_agree(d, rc, err);
        if (rc != SGS_OK || r == np - 1) {
            if (rc == SGS_OK && last) {
                *last = out;
                *last_bytes = out_bytes;
            } else {
                sgs_free(out);
            }
            break;
        }
        for (int p = 0; p < np; p++)
            bytes[p] = d->rank == r && p == r + 1 ? out_bytes : 0;
        void *recv = NULL;
        rc = sgs_dist_exchange(d, out, bytes, &recv, bytes + np, err);
        sgs_free(out);
        if (rc == SGS_OK && d->rank == r + 1) {
            in = recv;
            in_bytes = bytes[np + r];
        } else {
            sgs_free(recv);
        }
    }
    sgs_free(in);
    sgs_free(bytes);
    return rc;
}
