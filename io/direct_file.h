/*
 * io/direct_file.h — a large output written past the page cache (O_DIRECT) where the file
 * system allows it, through the page cache where it does not.
 *
 * Why: a run's outputs are gigabytes (customers.csv, opportunities.csv and the columns of
 * results.h5: 5 GB at 10M customers) and every one is flushed to disk before it is published
 * (io/publish.h). Written through the page cache, each byte is first copied into a newly
 * allocated cache page, which the disk then reads; the copy was a quarter of the whole 10M
 * run's CPU time on the benchmark VM (docs/benchmarks.md), and the gigabytes of cache it
 * fills push out what the machine's other programs had cached. Written direct, the disk
 * takes the bytes from a small aligned buffer of ours.
 *
 * How: O_DIRECT needs file offsets, lengths and memory aligned to the device's block; the
 * bytes of a write are copied into an aligned staging buffer and the aligned middle of each
 * write goes direct, its unaligned head and tail (less than SGS_DIRECT_ALIGN bytes each)
 * through the page cache on a second descriptor. A page is thus written one way only, as long
 * as writes do not overlap. When the file system refuses O_DIRECT (tmpfs before Linux 6.6,
 * some network file systems), at open or at a write, that write and every later one go
 * through the page cache: the bytes on disk are the same either way.
 *
 * A direct write returns only once the device has the bytes (about 2 ms for 4 MiB on the
 * benchmark VM), so a full staging buffer is written on a thread of its own while the caller
 * fills another: formatting and the disk overlap instead of taking turns. Up to
 * SGS_DIRECT_WRITES such writes are in flight, so that a moment the disk is slower does not stop
 * the caller; a failure is reported by the call that next waits for that write (the buffer
 * handed over that reuses its slot, the end of sgs_direct_write_at, or the close). A refusal
 * seen by one of them sends the later writes through the cache (the O_DIRECT descriptor stays
 * open until the close, as the other writes may be using it).
 */
#ifndef SGS_DIRECT_FILE_H
#define SGS_DIRECT_FILE_H

#include "io/background_task.h"
#include "kernels/core.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Alignment of offsets, lengths and memory for direct writes: the page size, which covers
 * the 512- and 4096-byte logical blocks of disks. */
#define SGS_DIRECT_ALIGN ((size_t)4096)

/* Staging buffers written at once, at most. */
#define SGS_DIRECT_WRITES 3

/* A staging buffer's write slot (the module's). */
typedef struct sgs_direct_write {
    struct sgs_direct_file *file;
    unsigned char *bytes; /* the slot's buffer (NULL until first needed), maybe being written */
    void *block;          /* the allocation it lies in */
    size_t n;             /* a multiple of SGS_DIRECT_ALIGN */
    uint64_t offset;
    int in_flight;                 /* `writing` runs: wait for it before reusing the slot */
    sgs_background_task_t writing; /* the thread it runs on */
    sgs_error_t err;               /* its own: the caller's is in use meanwhile */
} sgs_direct_write_t;

/* Caller-owned; the fields are the module's. */
typedef struct sgs_direct_file {
    const char *path;     /* borrowed, for messages */
    int fd;               /* through the page cache: heads, tails, everything when not direct */
    int direct_fd;        /* O_DIRECT, or -1 when the file system refused it at open */
    atomic_int refused;   /* a direct write was refused: every later one goes through the cache */
    unsigned char *stage; /* SGS_DIRECT_ALIGN-aligned, stage_size bytes: being filled */
    void *stage_block;    /* the allocation it lies in */
    size_t stage_size;    /* a multiple of SGS_DIRECT_ALIGN */
    uint64_t append_at;   /* sgs_direct_append: file offset of stage[0] */
    size_t staged;        /* sgs_direct_append: bytes waiting in stage */
    sgs_direct_write_t slot[SGS_DIRECT_WRITES]; /* the writes, taken in turn */
    unsigned next_slot;                         /* the one to take next: the oldest write */
} sgs_direct_file_t;

/* Open `path` for writing: created empty when `create` (else it must exist and keeps its
 * bytes), with a staging buffer of about stage_bytes (rounded up to SGS_DIRECT_ALIGN; 4 MiB
 * is a good size). Direct writes are used unless sgs_direct_io_enable(0) was called or the
 * file system refuses them. @return 0; SGS_ECANTCREAT (create) or SGS_EIO naming path;
 * SGS_ENOMEM. On failure nothing is left open. */
int sgs_direct_open(sgs_direct_file_t *f, const char *path, int create, size_t stage_bytes,
                    sgs_error_t *err);

/* Write the n bytes at data at file offset `offset`. Writes must not overlap one another.
 * @return 0 or SGS_EIO naming the path (ENOSPC: "no space left"). */
int sgs_direct_write_at(sgs_direct_file_t *f, uint64_t offset, const void *data, size_t n,
                        sgs_error_t *err);

/* Append n bytes: the file is written from offset 0 on, in order, through the staging
 * buffer (do not mix with sgs_direct_write_at on the same file). @return as above. */
int sgs_direct_append(sgs_direct_file_t *f, const void *data, size_t n, sgs_error_t *err);

/* Write what sgs_direct_append staged and close; rc is the caller's status so far (the
 * staged bytes are written only when it is 0). NULL-safe on a file never opened (fd < 0).
 * @return rc, else the first failure of the flush or close (SGS_EIO naming the path). */
int sgs_direct_close(sgs_direct_file_t *f, int rc, sgs_error_t *err);

/* Whether sgs_direct_open tries O_DIRECT (on by default). For a user whose file system
 * takes O_DIRECT badly and for tests of the page-cache path; set before writing starts
 * (not thread-safe against opens in flight). */
void sgs_direct_io_enable(int on);

/* Test seam: the n-th direct write from now fails with EINVAL, as on a file system that
 * wants another alignment (n <= 0: off). Not thread-safe, like sgs_test_fail_fsync_at. */
void sgs_test_direct_refuse_at(long n);

/* Whether the file's writes go direct (0 once the file system refused them); settled after
 * sgs_direct_write_at, not while appends may have writes in flight. */
int sgs_direct_is_direct(const sgs_direct_file_t *f);

#endif /* SGS_DIRECT_FILE_H */
