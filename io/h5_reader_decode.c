/*
 * io/h5_reader_decode.c — compressed columns decoded ahead of the chunk loop: every stored
 * chunk read raw and decoded once, in parallel, straight into its rows of the destination,
 * with the guard's size check on that decode. See h5_reader_internal.h ("Compressed columns
 * decoded ahead").
 *
 * Why: the guard (io/h5_guard.h) decodes each filtered chunk before the first read, only to
 * count its bytes, and H5Dread then decodes it once more, on one thread (HDF5 is not
 * thread-safe), converts it and copies it through its chunk cache. When the guard can leave
 * the count to this decode (sgs_h5_guard_dataset_deferring: shuffle and deflate, or no
 * filter) and the file's type converts as H5Dread would convert it (io/h5_convert.h), the
 * chunk is decoded here instead, once, on every thread.
 *
 * What does not change: the guard's findings and messages (a chunk that decodes short, long or
 * not at all is refused by sgs_h5_guard_refuse_decoded, the first in index order, whatever the
 * thread count); the order of problems (the decode runs before the chunk loop, before any row
 * is checked, as the guard ran before any read; a problem reported before the decode first
 * runs the checks left pending, sgs__reader_settle); the values (io/h5_convert.h); a value out
 * of its type's range, reported by H5Dread's conversion callback (the column is then read by
 * H5Dread, after all of its chunks were checked here).
 *
 * Sections: checks left pending; one column; the table.
 */
#include "io/h5_input.h"

#include "io/h5_chunk_decode.h"
#include "io/h5_crash.h"
#include "io/h5_guard.h"
#include "io/h5_reader_internal.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_BYTES ((size_t)32 << 20) /* stored bytes read (serially) before decoding them */
#define BATCH_CHUNKS ((size_t)1024)    /* chunks a batch holds at most */

/* BATCH_CHUNKS, or fewer for a test (SGS_TEST_DECODE_BATCH_CHUNKS), so that a small file is
 * read in several batches, each read while the one before is decoded. */
static size_t batch_chunks(void)
{
    const char *seam = getenv("SGS_TEST_DECODE_BATCH_CHUNKS");
    long n = seam ? atol(seam) : 0;
    return n > 0 && (size_t)n < BATCH_CHUNKS ? (size_t)n : BATCH_CHUNKS;
}
/* The decode buffers of all threads, at most (fewer threads for larger chunks; 1: any). */
#define WORK_BYTES ((size_t)256 << 20)

/* ---- Checks left pending ------------------------------------------------------------------- */

/* The guard's whole check of column c, decoded sizes included, as at open; a refusal is
 * reported. @return the guard's code (0 for a column whose reopening failed, which is
 * reported as such). */
static int check_now(reader_t *r, column_t *c)
{
    if (c->dset < 0)
        return SGS_OK;
    sgs_h5_column_rule_t rule = sgs__reader_column_rule(c->spec);
    sgs_h5_refusal_t why;
    sgs_h5_crash_arm(r->rep.file);
    int rc = sgs_h5_guard_dataset(r->file, c->dset, &rule, r->nt, &why);
    sgs_h5_crash_disarm();
    if (rc != SGS_OK)
        sgs__reader_report(&r->rep, sgs__reader_refusal_check(why.kind), why.code, c->path,
                           SGS_NO_ROW, "%s", why.text);
    return rc;
}

int sgs__reader_settle(reader_t *r)
{
    r->rep.settle = NULL;
    for (size_t k = 0; k < r->n_cols; k++) {
        column_t *c = &r->cols[k];
        if (!c->deferred)
            continue;
        c->deferred = 0;
        check_now(r, c);
    }
    return r->rep.code;
}

/* ---- One column ---------------------------------------------------------------------------- */

/* A batch of stored chunks, read one after the other into one buffer and decoded in
 * parallel; while one batch is decoded, the next is read. */
typedef struct batch {
    size_t n;                              /* chunks in the batch */
    size_t at[BATCH_CHUNKS];               /* where chunk j's stored bytes start */
    size_t bytes[BATCH_CHUNKS];            /* its stored size */
    unsigned mask[BATCH_CHUNKS];           /* its filter mask */
    sgs_h5_decoded_t result[BATCH_CHUNKS]; /* its decode */
    size_t decoded[BATCH_CHUNKS];          /* decoded bytes (result OK) */
    unsigned char converted[BATCH_CHUNKS]; /* 1: its rows are in the destination */
    unsigned char *raw;                    /* the stored bytes */
    size_t cap;                            /* raw's size */
    int read_rc;                           /* the read's outcome: 0, or why it stopped */
    sgs_h5_refusal_t read_failure;         /* its text is reported when read_rc != 0 */
} batch_t;

/* The chunk shape and file element size of c's dataset, and its pipeline. @return 0 when
 * the decode cannot take it after all (the guard deferred it, so this is not expected). */
static int column_layout(const column_t *c, size_t *cdim, size_t *file_elem,
                         sgs_h5_chunk_pipeline_t *pipe)
{
    hid_t dcpl = H5Dget_create_plist(c->dset), ftype = H5Dget_type(c->dset);
    hsize_t dim = 0;
    *file_elem = ftype >= 0 ? H5Tget_size(ftype) : 0;
    int ok = dcpl >= 0 && *file_elem > 0 && H5Pget_layout(dcpl) == H5D_CHUNKED &&
             H5Pget_chunk(dcpl, 1, &dim) == 1 && dim > 0 && dim <= SIZE_MAX / *file_elem &&
             dim * *file_elem <= SGS_H5_CHUNK_DECODE_MAX_BYTES &&
             sgs_h5_chunk_pipeline_get(dcpl, *file_elem, pipe);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (ftype >= 0)
        H5Tclose(ftype);
    H5Eclear2(H5E_DEFAULT);
    *cdim = (size_t)dim;
    return ok;
}

/* Read chunks [k0, n_chunks) raw into b->raw (growing it for a chunk larger than it), as many
 * as fit BATCH_BYTES and BATCH_CHUNKS (at least one), filling b. A chunk that cannot be read
 * ends the batch before it, with b->read_rc and b->read_failure saying why (as the guard says
 * it); the caller reports it once the batch before is checked, so that findings come in index
 * order. Calls HDF5: one thread at a time. */
static void read_batch(reader_t *r, column_t *c, size_t cdim, size_t k0, size_t n_chunks,
                       batch_t *b)
{
    size_t used = 0, most = batch_chunks();
    b->read_rc = SGS_OK;
    sgs_h5_crash_arm(r->rep.file);
    for (b->n = 0; b->n < most && k0 + b->n < n_chunks; b->n++) {
        hsize_t offset = (hsize_t)((k0 + b->n) * cdim), bytes = 0;
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        uint32_t raw_mask = 0;
        if (H5Dget_chunk_info_by_coord(c->dset, &offset, &mask, &addr, &bytes) < 0 ||
            addr == HADDR_UNDEF) {
            b->read_rc = sgs_h5_guard_refuse_chunk_read(c->dset, &offset, &b->read_failure);
            break;
        }
        if (b->n > 0 && bytes > b->cap - used)
            break;            /* the next batch's */
        if (bytes > b->cap) { /* one chunk larger than a batch: a batch of its own */
            unsigned char *grown = sgs_realloc_array(b->raw, (size_t)bytes, 1);
            if (!grown) {
                b->read_rc = SGS_ENOMEM;
                snprintf(b->read_failure.text, sizeof b->read_failure.text,
                         "out of memory for a stored chunk of %llu bytes",
                         (unsigned long long)bytes);
                break;
            }
            b->raw = grown;
            b->cap = (size_t)bytes;
        }
        if (H5Dread_chunk(c->dset, H5P_DEFAULT, &offset, &raw_mask, b->raw + used) < 0) {
            b->read_rc = sgs_h5_guard_refuse_chunk_read(c->dset, &offset, &b->read_failure);
            break;
        }
        b->at[b->n] = used;
        b->bytes[b->n] = (size_t)bytes;
        b->mask[b->n] = raw_mask;
        used += (size_t)bytes;
    }
    sgs_h5_crash_disarm();
}

/* What decoding column c needs besides its batches. */
typedef struct decode_job {
    column_t *c;
    sgs_h5_chunk_pipeline_t pipe;
    size_t cdim, file_elem, want, n_rows, lo_row, hi_row;
    unsigned char *work; /* 2 * want bytes per thread */
    int fallback;        /* a chunk's values did not convert: H5Dread reads the column */
} decode_job_t;

/* Decode chunk j of batch b (its first chunk k0) into its rows of the destination. */
static void decode_chunk(const decode_job_t *job, batch_t *b, size_t k0, size_t j)
{
    const column_t *c = job->c;
    const size_t cdim = job->cdim, want = job->want;
    unsigned char *mine = job->work + (size_t)omp_get_thread_num() * 2 * want;
    size_t row0 = (k0 + j) * cdim;
    size_t rows = job->n_rows - row0 < cdim ? job->n_rows - row0 : cdim;
    /* the chunk's rows within the share: [lo, hi) */
    size_t lo = row0 > job->lo_row ? row0 : job->lo_row;
    size_t hi = row0 + rows < job->hi_row ? row0 + rows : job->hi_row;
    unsigned char *dest = c->data + (lo - job->lo_row) * c->elem;
    /* a whole chunk of the memory type decodes straight into place */
    int direct =
        c->conv.kind == SGS_H5_CONV_COPY && rows == cdim && lo == row0 && hi == row0 + rows;
    b->decoded[j] = 0;
    b->result[j] = sgs_h5_chunk_decode(&job->pipe, b->mask[j], b->raw + b->at[j], b->bytes[j],
                                       direct ? dest : mine, want, mine + want, &b->decoded[j]);
    b->converted[j] = (unsigned char)direct;
    if (!direct && !job->fallback && b->result[j] == SGS_H5_DECODED_OK && b->decoded[j] == want)
        b->converted[j] =
            sgs_h5_convert(&c->conv, mine + (lo - row0) * job->file_elem, hi - lo, dest) == hi - lo;
}

/* Decode every chunk of column c (deferred by the guard) into c->data, each row at its file
 * row. The first chunk that does not decode to its size, in index order, is refused as the
 * guard would refuse it; a value out of the column's range leaves c->decoded 0 (H5Dread reads
 * the column, and reports it) once every chunk was checked. The calling thread reads the next
 * batch (HDF5) while the others decode the current one, then decodes with them. @return 0,
 * SGS_EDATA (reported), SGS_ENOMEM, SGS_EIO, or the code of opt->stop. */
static int decode_column(reader_t *r, column_t *c, const sgs_read_options_t *opt)
{
    decode_job_t job = {.c = c};
    if (!column_layout(c, &job.cdim, &job.file_elem, &job.pipe))
        return check_now(r, c);
    /* the chunks of the share's rows [row_begin, row_end): all of them unless a run is spread
     * over processes (io/h5_input.h), each row to its place in the share */
    const size_t cdim = job.cdim;
    job.want = cdim * job.file_elem;
    job.n_rows = r->n_rows;
    job.lo_row = r->row_begin;
    job.hi_row = r->row_end;
    const size_t first_chunk = job.lo_row / cdim;
    const size_t n_chunks =
        job.hi_row > job.lo_row ? job.hi_row / cdim + (job.hi_row % cdim != 0) : first_chunk;
    int nt = r->nt;
    while (nt > 1 && job.want > WORK_BYTES / 2 / (size_t)nt)
        nt--;
    /* the raw buffers: a batch each, or the whole stored column when that is less */
    hsize_t stored = H5Dget_storage_size(c->dset);
    size_t cap = stored > 0 && stored < BATCH_BYTES ? (size_t)stored : BATCH_BYTES;
    job.work = sgs_alloc_array(2 * (size_t)nt, job.want);
    batch_t *b = sgs_calloc_array(2, sizeof *b);
    if (b)
        for (int i = 0; i < 2; i++)
            b[i] = (batch_t){.raw = sgs_alloc_array(cap, 1), .cap = cap};
    int rc = SGS_OK;
    if (!job.work || !b || !b[0].raw || !b[1].raw) {
        sgs__reader_report(&r->rep, SGS_CHECK_STORAGE, SGS_ENOMEM, c->path, SGS_NO_ROW,
                           "out of memory for decoding its chunks");
        rc = SGS_ENOMEM;
        goto cleanup;
    }
    if (first_chunk < n_chunks)
        read_batch(r, c, cdim, first_chunk, n_chunks, &b[0]);
    for (size_t k0 = first_chunk, cur = 0; k0 < n_chunks; k0 += b[cur].n, cur ^= 1) {
        batch_t *now = &b[cur], *next = &b[cur ^ 1];
        const size_t next_k0 = k0 + now->n;
        next->n = 0;
        next->read_rc = SGS_OK;
        if (opt && opt->stop && (rc = opt->stop(opt->stop_ctx, r->rep.err)) != SGS_OK)
            goto cleanup;
        const int read_next = now->read_rc == SGS_OK && next_k0 < n_chunks;
        const long long n_batch = (long long)now->n;
#pragma omp parallel num_threads(nt) if (n_batch > 1)
        {
#pragma omp master
            if (read_next)
                read_batch(r, c, cdim, next_k0, n_chunks, next);
#pragma omp for schedule(dynamic, 1) nowait
            for (long long j = 0; j < n_batch; j++)
                decode_chunk(&job, now, k0, (size_t)j);
        }
        for (size_t j = 0; j < now->n; j++) { /* the first finding in index order */
            if (now->result[j] != SGS_H5_DECODED_OK || now->decoded[j] != job.want) {
                hsize_t offset = (hsize_t)((k0 + j) * cdim);
                sgs_h5_refusal_t why;
                sgs_h5_crash_arm(r->rep.file);
                rc = sgs_h5_guard_refuse_decoded(c->dset, &offset, now->result[j], now->decoded[j],
                                                 job.want, &why);
                sgs_h5_crash_disarm();
                sgs__reader_report(&r->rep, SGS_CHECK_STORAGE, rc, c->path, SGS_NO_ROW, "%s",
                                   why.text);
                goto cleanup;
            }
            job.fallback |= !now->converted[j]; /* out of range: H5Dread reads the column */
        }
        if (now->read_rc != SGS_OK) { /* a chunk past this batch could not be read */
            rc = now->read_rc;
            sgs__reader_report(&r->rep, SGS_CHECK_STORAGE, rc, c->path, SGS_NO_ROW, "%s",
                               now->read_failure.text);
            goto cleanup;
        }
    }
    c->decoded = !job.fallback;
cleanup:
    c->touched = (job.hi_row - job.lo_row) * c->elem; /* faulted in by the decode (or read whole) */
    sgs_free(job.work);
    if (b)
        for (int i = 0; i < 2; i++)
            sgs_free(b[i].raw);
    sgs_free(b);
    return rc;
}

/* ---- The table ----------------------------------------------------------------------------- */

int sgs__reader_decode_ahead(reader_t *r, const sgs_read_options_t *opt)
{
    r->rep.settle = NULL; /* every pending check is made here */
    int bad = 0;
    for (size_t k = 0; k < r->n_cols; k++) {
        column_t *c = &r->cols[k];
        if (!c->deferred)
            continue;
        c->deferred = 0;
        int rc = c->data ? decode_column(r, c, opt) : check_now(r, c);
        if (rc == SGS_EDATA) { /* reported; the other columns are checked too, as at open */
            bad = 1;
            continue;
        }
        if (rc)
            return rc;
    }
    return bad ? SGS_EDATA : SGS_OK;
}
