/*
 * io/direct_file.c — large outputs written past the page cache. See direct_file.h.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include "io/direct_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int direct_enabled = 1;
static atomic_long refuse_at; /* sgs_test_direct_refuse_at: direct writes until the refused one */

void sgs_direct_io_enable(int on)
{
    direct_enabled = on != 0;
}

void sgs_test_direct_refuse_at(long n)
{
    atomic_store(&refuse_at, n > 0 ? n : 0);
}

/* pwrite on the O_DIRECT descriptor, or the refusal the test seam asks for. */
static ssize_t pwrite_direct(int fd, const void *p, size_t n, uint64_t offset)
{
    if (atomic_load(&refuse_at) > 0 && atomic_fetch_sub(&refuse_at, 1) == 1) {
        errno = EINVAL;
        return -1;
    }
    return pwrite(fd, p, n, (off_t)offset);
}

int sgs_direct_is_direct(const sgs_direct_file_t *f)
{
    return f->direct_fd >= 0 && !atomic_load(&f->refused);
}

static uint64_t align_down(uint64_t v)
{
    return v & ~(uint64_t)(SGS_DIRECT_ALIGN - 1);
}

static uint64_t align_up(uint64_t v)
{
    return align_down(v + SGS_DIRECT_ALIGN - 1);
}

static int write_failed(const sgs_direct_file_t *f, int e, sgs_error_t *err)
{
    return sgs_error_set_os(err, SGS_EIO, e, f->path, "write failed");
}

/* ---- The two ways down ---------------------------------------------------------------- */

/* n bytes at `offset` through the page cache. */
static int write_cached(sgs_direct_file_t *f, uint64_t offset, const unsigned char *p, size_t n,
                        sgs_error_t *err)
{
    while (n > 0) {
        ssize_t w = pwrite(f->fd, p, n, (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return write_failed(f, w < 0 ? errno : ENOSPC, err);
        p += w;
        n -= (size_t)w;
        offset += (uint64_t)w;
    }
    return SGS_OK;
}

/* n bytes of the aligned buffer p at the aligned `offset` (n a multiple of the alignment):
 * direct while the file system takes it. A refusal (EINVAL: the file system or device wants
 * another alignment) turns direct writes off for the rest of the file and the bytes go
 * through the cache; what a short write left goes there too. */
static int write_aligned(sgs_direct_file_t *f, uint64_t offset, const unsigned char *p, size_t n,
                         sgs_error_t *err)
{
    while (n > 0 && sgs_direct_is_direct(f)) {
        ssize_t w = pwrite_direct(f->direct_fd, p, n, offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EINVAL) { /* the descriptor stays open: other writes may use it */
            atomic_store(&f->refused, 1);
            break;
        }
        if (w < 0)
            return write_failed(f, errno, err);
        p += w;
        n -= (size_t)w;
        offset += (uint64_t)w;
        if (n > 0)
            break; /* a short write: the rest, maybe unaligned now, through the cache */
    }
    return write_cached(f, offset, p, n, err);
}

/* ---- Writes in flight ------------------------------------------------------------------- */

static int write_job(void *arg)
{
    sgs_direct_write_t *w = arg;
    return write_aligned(w->file, w->offset, w->bytes, w->n, &w->err);
}

/* Wait for slot w's write, if one is in flight. @return its outcome (its error into err). */
static int wait_for_slot(sgs_direct_write_t *w, sgs_error_t *err)
{
    if (!w->in_flight)
        return SGS_OK;
    w->in_flight = 0;
    int rc = sgs_background_finish(&w->writing);
    if (rc != SGS_OK && err)
        *err = w->err;
    return rc;
}

/* Wait for every write in flight, oldest first. @return the first failure (into err). */
static int wait_for_writes(sgs_direct_file_t *f, sgs_error_t *err)
{
    int rc = SGS_OK;
    for (unsigned k = 0; k < SGS_DIRECT_WRITES; k++) {
        int w = wait_for_slot(&f->slot[(f->next_slot + k) % SGS_DIRECT_WRITES],
                              rc == SGS_OK ? err : NULL);
        if (rc == SGS_OK)
            rc = w;
    }
    return rc;
}

/* The first n bytes of the stage (n aligned) to the file at the aligned `offset`, on a thread
 * of their own in the next slot once that slot's write before has ended; the stage is then
 * the slot's former buffer, free to fill. Without memory for that buffer the writes in flight
 * end and the bytes are written here and now. */
static int write_stage(sgs_direct_file_t *f, uint64_t offset, size_t n, sgs_error_t *err)
{
    sgs_direct_write_t *w = &f->slot[f->next_slot];
    int rc = wait_for_slot(w, err);
    if (rc != SGS_OK)
        return rc;
    if (!w->bytes) {
        w->block = sgs_alloc_array(f->stage_size + SGS_DIRECT_ALIGN, 1);
        if (!w->block) {
            rc = wait_for_writes(f, err);
            return rc != SGS_OK ? rc : write_aligned(f, offset, f->stage, n, err);
        }
        w->bytes = (unsigned char *)(uintptr_t)align_up((uintptr_t)w->block);
    }
    unsigned char *filled = f->stage;
    void *filled_block = f->stage_block;
    f->stage = w->bytes;
    f->stage_block = w->block;
    w->file = f;
    w->bytes = filled;
    w->block = filled_block;
    w->n = n;
    w->offset = offset;
    w->err = (sgs_error_t){0};
    w->in_flight = 1;
    f->next_slot = (f->next_slot + 1) % SGS_DIRECT_WRITES;
    sgs_background_start(&w->writing, write_job, w);
    return SGS_OK;
}

/* ---- Opening and closing --------------------------------------------------------------- */

int sgs_direct_open(sgs_direct_file_t *f, const char *path, int create, size_t stage_bytes,
                    sgs_error_t *err)
{
    memset(f, 0, sizeof *f);
    atomic_init(&f->refused, 0);
    f->path = path;
    f->fd = f->direct_fd = -1;
    f->stage_size = (size_t)align_up(stage_bytes ? stage_bytes : 1);
    f->stage_block = sgs_alloc_array(f->stage_size + SGS_DIRECT_ALIGN, 1);
    if (!f->stage_block)
        return sgs_error_set(err, SGS_ENOMEM, "%s: no memory for a write buffer", path);
    f->stage = (unsigned char *)(uintptr_t)align_up((uintptr_t)f->stage_block);
    f->fd = open(path, O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0666);
    if (f->fd < 0) {
        int e = errno;
        sgs_free(f->stage_block);
        f->stage_block = NULL;
        return sgs_error_set_os(err, create ? SGS_ECANTCREAT : SGS_EIO, e, path,
                                create ? "cannot create" : "cannot open");
    }
    if (direct_enabled)
        f->direct_fd = open(path, O_WRONLY | O_CLOEXEC | O_DIRECT); /* -1: not here */
    return SGS_OK;
}

int sgs_direct_close(sgs_direct_file_t *f, int rc, sgs_error_t *err)
{
    int written = wait_for_writes(f, rc == SGS_OK ? err : NULL);
    if (rc == SGS_OK)
        rc = written;
    if (rc == SGS_OK && f->staged > 0) {
        size_t aligned = (size_t)align_down(f->staged);
        rc = write_aligned(f, f->append_at, f->stage, aligned, err);
        if (rc == SGS_OK)
            rc = write_cached(f, f->append_at + aligned, f->stage + aligned, f->staged - aligned,
                              err);
    }
    if (f->direct_fd >= 0)
        close(f->direct_fd);
    if (f->fd >= 0 && close(f->fd) != 0 && rc == SGS_OK)
        rc = write_failed(f, errno, err);
    sgs_free(f->stage_block);
    for (unsigned k = 0; k < SGS_DIRECT_WRITES; k++) {
        sgs_free(f->slot[k].block);
        f->slot[k].block = f->slot[k].bytes = NULL;
    }
    f->fd = f->direct_fd = -1;
    f->stage_block = NULL;
    f->stage = NULL;
    return rc;
}

/* ---- Writing --------------------------------------------------------------------------- */

/* The largest write straight from the caller's memory. */
#define DIRECT_PIECE_MAX ((size_t)1 << 28)

int sgs_direct_write_at(sgs_direct_file_t *f, uint64_t offset, const void *data, size_t n,
                        sgs_error_t *err)
{
    const unsigned char *p = data;
    uint64_t end = offset + n, first = align_up(offset), last = align_down(end);
    if (!sgs_direct_is_direct(f) || last <= first)
        return write_cached(f, offset, p, n, err);
    int rc = write_cached(f, offset, p, (size_t)(first - offset), err);
    if (((uintptr_t)p - offset) % SGS_DIRECT_ALIGN == 0) {
        /* the bytes' memory is aligned as the file's blocks are: straight from it, no copy
         * (in pieces: one write takes at most 2 GiB less a page) */
        for (; rc == SGS_OK && first < last; first += DIRECT_PIECE_MAX) {
            size_t len =
                last - first < DIRECT_PIECE_MAX ? (size_t)(last - first) : DIRECT_PIECE_MAX;
            rc = write_aligned(f, first, p + (first - offset), len, err);
        }
        first = last;
    }
    for (uint64_t at = first; rc == SGS_OK && at < last;) {
        size_t len = last - at < f->stage_size ? (size_t)(last - at) : f->stage_size;
        memcpy(f->stage, p + (at - offset), len);
        rc = write_stage(f, at, len, err);
        at += len;
    }
    int written = wait_for_writes(f, rc == SGS_OK ? err : NULL);
    if (rc == SGS_OK)
        rc = written;
    if (rc == SGS_OK)
        rc = write_cached(f, last, p + (last - offset), (size_t)(end - last), err);
    return rc;
}

int sgs_direct_append(sgs_direct_file_t *f, const void *data, size_t n, sgs_error_t *err)
{
    const unsigned char *p = data;
    while (n > 0) {
        size_t take = f->stage_size - f->staged < n ? f->stage_size - f->staged : n;
        memcpy(f->stage + f->staged, p, take);
        f->staged += take;
        p += take;
        n -= take;
        if (f->staged == f->stage_size) {
            int rc = write_stage(f, f->append_at, f->stage_size, err);
            if (rc != SGS_OK)
                return rc;
            f->append_at += f->stage_size;
            f->staged = 0;
        }
    }
    return SGS_OK;
}
