/*
 * engine/dist_single.c — engine/dist.h for the single-process build: one process, so every
 * collective is a copy or nothing.
 */
#include "engine/dist.h"

#include <string.h>

int sgs_dist_start(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return SGS_OK;
}

void sgs_dist_end(void)
{
}

sgs_dist_t sgs_dist_world(void)
{
    return (sgs_dist_t){.rank = 0, .size = 1};
}

uint64_t sgs_dist_bytes_sent(void)
{
    return 0;
}

int sgs_dist_agree(const sgs_dist_t *d, int rc, sgs_error_t *err)
{
    (void)d;
    (void)err;
    return rc;
}

void sgs_dist_reduce_i64(const sgs_dist_t *d, int64_t *values, size_t n, sgs_dist_op_t op)
{
    (void)d;
    (void)values;
    (void)n;
    (void)op;
}

uint64_t sgs_dist_offset(const sgs_dist_t *d, uint64_t value)
{
    (void)d;
    (void)value;
    return 0;
}

/* A copy of `bytes` bytes into *out (NULL for none). */
static int copy_out(const void *src, size_t bytes, void **out, sgs_error_t *err)
{
    *out = NULL;
    if (bytes == 0)
        return SGS_OK;
    *out = sgs_alloc_array(bytes, 1);
    if (!*out)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu bytes of exchanged rows", bytes);
    memcpy(*out, src, bytes);
    return SGS_OK;
}

int sgs_dist_gather_all(const sgs_dist_t *d, const void *send, size_t bytes, void **recv,
                        size_t *counts, sgs_error_t *err)
{
    (void)d;
    if (counts)
        counts[0] = bytes;
    return copy_out(send, bytes, recv, err);
}

int sgs_dist_exchange(const sgs_dist_t *d, const void *send, const size_t *send_bytes, void **recv,
                      size_t *recv_bytes, sgs_error_t *err)
{
    (void)d;
    recv_bytes[0] = send_bytes[0];
    return copy_out(send, send_bytes[0], recv, err);
}
