/*
 * io/h5_guard_chunks.c — the chunks of a chunked dataset, checked before the first read.
 * See h5_guard.h.
 *
 * Sections: the chunk grid; chunks never written; what the chunk index says of each stored
 * chunk; the decoded size of each filtered chunk (io/h5_decoded_size.h), or its deferral to a
 * caller that decodes the chunks itself (io/h5_chunk_decode.h), and the refusals such a caller
 * gives.
 */
#include "io/h5_guard.h"

#include "io/h5_chunk_decode.h"
#include "io/h5_decoded_size.h"
#include "io/h5_guard_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The chunk grid (h5_guard_internal.h) ---------------------------------------------- */

int sgs__guard_chunk_grid(hid_t dcpl, hid_t space, chunk_grid_t *g, sgs_h5_refusal_t *why)
{
    memset(g, 0, sizeof *g);
    g->rank = H5Sget_simple_extent_ndims(space);
    if (g->rank < 1 || g->rank > MAX_RANK ||
        H5Sget_simple_extent_dims(space, g->dims, NULL) != g->rank)
        return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE, "has an unreadable extent");
    if (H5Pget_chunk(dcpl, g->rank, g->cdims) != g->rank)
        return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                                 "has an unreadable chunk shape");
    g->n = 1;
    g->chunk_elems = 1;
    for (int i = 0; i < g->rank; i++) {
        if (g->cdims[i] == 0)
            return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                                     "has an unreadable chunk shape");
        g->across[i] = g->dims[i] / g->cdims[i] + (g->dims[i] % g->cdims[i] != 0);
        if ((g->across[i] && g->n > UINT64_MAX / g->across[i]) ||
            g->chunk_elems > UINT64_MAX / g->cdims[i])
            return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                                     "declares more chunks than any file can hold");
        g->n *= g->across[i];
        g->chunk_elems *= g->cdims[i];
    }
    return SGS_OK;
}

/* The first element of chunk k (row-major order of the grid). */
static void chunk_offset(const chunk_grid_t *g, uint64_t k, hsize_t *offset)
{
    for (int i = g->rank - 1; i >= 0; i--) {
        offset[i] = (hsize_t)(k % g->across[i]) * g->cdims[i];
        k /= g->across[i];
    }
}

/* "rows 4..7", or "rows 4..7, columns 0..2" for two dimensions: what the chunk at offset
 * holds. */
static void chunk_place(const chunk_grid_t *g, const hsize_t *offset, char *buf, size_t size)
{
    hsize_t end[MAX_RANK];
    for (int i = 0; i < g->rank; i++)
        end[i] = offset[i] + g->cdims[i] < g->dims[i] ? offset[i] + g->cdims[i] : g->dims[i];
    int n = snprintf(buf, size, "rows %llu..%llu", (unsigned long long)offset[0],
                     (unsigned long long)(end[0] - 1));
    if (g->rank > 1 && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, ", columns %llu..%llu", (unsigned long long)offset[1],
                 (unsigned long long)(end[1] - 1));
}

/* ---- Chunks never written -------------------------------------------------------------- */

/* Chunked storage: every chunk the extent needs is stored. Chunks never written read as
 * the fill value, so a file whose writer stopped early would give silent zeros. Counting
 * the stored chunks is one pass over the chunk index; only when some are missing is the
 * first one looked up by coordinate (at most stored + 1 lookups) to name its rows. */
int sgs__guard_check_chunked(hid_t dset, hid_t space, const chunk_grid_t *g, sgs_h5_refusal_t *why)
{
    hsize_t stored = 0;
    if (H5Dget_num_chunks(dset, space, &stored) < 0) { /* 1.10 refuses H5S_ALL here */
        H5Eclear2(H5E_DEFAULT);
        return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                                 "its chunk index cannot be read (malformed)");
    }
    if ((uint64_t)stored >= g->n)
        return SGS_OK;
    uint64_t first = g->n;
    hsize_t offset[MAX_RANK];
    for (uint64_t k = 0; k < g->n && k <= (uint64_t)stored; k++) {
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        chunk_offset(g, k, offset);
        if (H5Dget_chunk_info_by_coord(dset, offset, &mask, &addr, &size) < 0 ||
            addr == HADDR_UNDEF) {
            H5Eclear2(H5E_DEFAULT);
            first = k;
            break;
        }
    }
    if (first == g->n)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "%llu of its %llu chunks were never written (they would read as the fill "
            "value)",
            (unsigned long long)(g->n - stored), (unsigned long long)g->n);
    char place[96];
    chunk_place(g, offset, place, sizeof place);
    return sgs__guard_refuse(
        why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
        "%s (chunk %llu) were never written; %llu of its %llu chunks are missing and "
        "would read as the fill value",
        place, (unsigned long long)first, (unsigned long long)(g->n - stored),
        (unsigned long long)g->n);
}

/* ---- Stored chunks --------------------------------------------------------------------- */

/* A chunk stored through an optional filter this library lacks (its filter mask bit clear)
 * cannot be decoded: refused naming the filter. */
static int refuse_missing_filter(hid_t dcpl, unsigned used, const char *place,
                                 sgs_h5_refusal_t *why)
{
    int i = __builtin_ctz(used);
    unsigned flags = 0, config = 0, cd[16];
    size_t n_cd = sizeof cd / sizeof cd[0];
    char name[128] = "";
    H5Z_filter_t id =
        H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_cd, cd, sizeof name, name, &config);
    return sgs__guard_refuse(
        why, SGS_EDATA, SGS_H5_REFUSE_FILTER,
        "%s were stored through filter %d (%s, optional), not available in this "
        "HDF5 library; install the filter plugin (HDF5_PLUGIN_PATH) or rewrite "
        "the file without it (h5repack -f NONE)",
        place, (int)id, sgs_h5_guard_filter_name(id, name));
}

/* One stored chunk as the index describes it. */
typedef struct stored_chunk {
    hsize_t offset[MAX_RANK];
    unsigned mask; /* bit i set: filter i skipped */
    haddr_t addr;
    hsize_t bytes;
} stored_chunk_t;

/* What the index alone says against chunk c (stored through a missing optional filter,
 * past the end of the file, or unfiltered in fewer bytes than its chunk needs: the fuzz
 * finding over-read-in-h5vm-memcpyvv, libhdf5 copying the missing rows from beyond its
 * buffer). @return 0 or the refusal. */
static int check_chunk_index(hid_t dcpl, const pipeline_t *p, const chunk_grid_t *g,
                             const stored_chunk_t *c, uint64_t want, hsize_t file_bytes,
                             sgs_h5_refusal_t *why)
{
    char place[96];
    chunk_place(g, c->offset, place, sizeof place);
    unsigned used = p->optional_missing & ~c->mask;
    unsigned all = p->n >= 32 ? ~0u : (1u << p->n) - 1;
    if ((uint64_t)c->addr > (uint64_t)file_bytes || c->bytes > (uint64_t)file_bytes - c->addr)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "%s are stored at bytes %llu..%llu, past the end of the file (%llu bytes)", place,
            (unsigned long long)c->addr, (unsigned long long)(c->addr + c->bytes),
            (unsigned long long)file_bytes);
    if (used)
        return refuse_missing_filter(dcpl, used, place, why);
    if ((c->mask & all) == all && (uint64_t)c->bytes < want)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "%s are stored unfiltered in %llu bytes, fewer than the %llu their chunk "
            "needs (chunk elements x element size)",
            place, (unsigned long long)c->bytes, (unsigned long long)want);
    return SGS_OK;
}

/* The refusal for a filtered chunk at `offset` that decodes to `r` (`decoded` bytes) instead
 * of want. */
static int refuse_decoded(const chunk_grid_t *g, const hsize_t *offset, sgs_h5_decoded_t r,
                          size_t decoded, uint64_t want, sgs_h5_refusal_t *why)
{
    char place[96];
    chunk_place(g, offset, place, sizeof place);
    switch (r) {
    case SGS_H5_DECODED_OK:
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "%s decode to %zu bytes, not the %llu their chunk needs (chunk elements "
            "x element size): the chunk is damaged",
            place, decoded, (unsigned long long)want);
    case SGS_H5_DECODED_TOO_BIG:
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "%s decode to more than the %llu bytes their chunk needs: the chunk is "
            "damaged",
            place, (unsigned long long)want);
    case SGS_H5_DECODED_NOMEM:
        return sgs__guard_refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE,
                                 "out of memory decoding %s", place);
    default:
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "%s cannot be decoded (a broken compressed stream): the chunk is damaged", place);
    }
}

/* The refusal for a stored chunk at `offset` that H5Dread_chunk failed to read, with the
 * code and cause sgs_h5_guard_read_failure gave. */
static int refuse_chunk_read(const chunk_grid_t *g, const hsize_t *offset, int code,
                             const char *cause, sgs_h5_refusal_t *why)
{
    char place[96];
    chunk_place(g, offset, place, sizeof place);
    return sgs__guard_refuse(why, code, SGS_H5_REFUSE_STORAGE,
                             "cannot read the stored chunk of %s%s%s", place, *cause ? ": " : "",
                             cause);
}

#define DECODE_BATCH_BYTES ((size_t)32 << 20) /* stored bytes read before decoding them */

/* Filtered chunks [0, end) whose filters h5_decoded_size.h models decode to exactly `want`
 * bytes (libhdf5 copies the rows a short one lacks from beyond its buffer). Chunks are read
 * raw (H5Dread_chunk, serially: HDF5) in batches of about DECODE_BATCH_BYTES and decoded
 * in parallel, their output dropped; the first bad chunk in index order is refused, so the
 * answer does not depend on n_threads. */
static int check_decoded_sizes(hid_t dset, const pipeline_t *p, const chunk_grid_t *g,
                               const stored_chunk_t *chunks, uint64_t end, uint64_t want,
                               int n_threads, sgs_h5_refusal_t *why)
{
    unsigned all = p->n >= 32 ? ~0u : (1u << p->n) - 1;
    size_t cap = DECODE_BATCH_BYTES, n_max = (size_t)end;
    unsigned char *raw = NULL;
    size_t *at = calloc(n_max ? n_max : 1, sizeof *at),
           *decoded = calloc(n_max ? n_max : 1, sizeof *decoded);
    sgs_h5_decoded_t *result = calloc(n_max ? n_max : 1, sizeof *result);
    int rc = SGS_OK;
    if (!at || !decoded || !result) {
        rc = sgs__guard_refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE,
                               "out of memory for the chunk index");
        goto cleanup;
    }
    for (uint64_t lo = 0; lo < end && rc == SGS_OK;) {
        /* the batch: chunks [lo, hi) to decode, packed into raw at at[k] */
        size_t used = 0;
        uint64_t hi = lo;
        for (; hi < end; hi++) {
            const stored_chunk_t *c = &chunks[hi];
            at[hi] = SIZE_MAX; /* not decoded */
            if ((c->mask & all) == all || !sgs_h5_decoded_size_known(p->id, p->n, c->mask))
                continue;
            if (used > 0 && c->bytes > cap - used)
                break;
            if (c->bytes > cap) { /* one chunk larger than a batch: a batch of its own */
                unsigned char *grown = realloc(raw, (size_t)c->bytes);
                if (!grown) {
                    rc = sgs__guard_refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE,
                                           "out of memory for a stored chunk of %llu bytes",
                                           (unsigned long long)c->bytes);
                    goto cleanup;
                }
                raw = grown;
                cap = (size_t)c->bytes;
            } else if (!raw && !(raw = malloc(cap))) {
                rc = sgs__guard_refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE,
                                       "out of memory for the chunks being checked");
                goto cleanup;
            }
            uint32_t raw_mask = 0;
            if (H5Dread_chunk(dset, H5P_DEFAULT, c->offset, &raw_mask, raw + used) < 0) {
                char cause[256];
                int code = sgs_h5_guard_read_failure(cause, sizeof cause);
                rc = refuse_chunk_read(g, c->offset, code, cause, why);
                goto cleanup;
            }
            at[hi] = used;
            used += (size_t)c->bytes;
        }
        long long n_batch = (long long)(hi - lo);
#pragma omp parallel for num_threads(n_threads > 0 ? n_threads : 1) schedule(dynamic, 1)
        for (long long j = 0; j < n_batch; j++) {
            size_t k = (size_t)lo + (size_t)j;
            if (at[k] != SIZE_MAX)
                result[k] = sgs_h5_decoded_size(p->id, p->n, chunks[k].mask, raw + at[k],
                                                (size_t)chunks[k].bytes, (size_t)want, &decoded[k]);
        }
        for (uint64_t k = lo; k < hi; k++)
            if (at[k] != SIZE_MAX && (result[k] != SGS_H5_DECODED_OK || decoded[k] != want)) {
                rc = refuse_decoded(g, chunks[k].offset, result[k], decoded[k], want, why);
                break;
            }
        lo = hi;
    }
cleanup:
    free(raw);
    free(at);
    free(decoded);
    free(result);
    return rc;
}

/* The decoded sizes of the chunks [0, g->n) may be left to a caller that decodes each chunk
 * through io/h5_chunk_decode.h, which checks the size on that decode with the same results:
 * a one-dimensional dataset, a pipeline that module decodes (shuffle, deflate or none, with
 * the parameters libhdf5 accepts), every filter available, chunks of at most
 * SGS_H5_CHUNK_DECODE_MAX_BYTES, and each chunk stored with all its filters skipped of
 * exactly its chunk's size (H5Dread reads such a chunk its own way when it is larger; a
 * smaller one was refused by check_chunk_index). */
static int may_defer(hid_t dcpl, const pipeline_t *p, const chunk_grid_t *g,
                     const stored_chunk_t *chunks, size_t elem, uint64_t want)
{
    sgs_h5_chunk_pipeline_t cp;
    unsigned all = p->n >= 32 ? ~0u : (1u << p->n) - 1;
    if (g->rank != 1 || p->optional_missing || want > SGS_H5_CHUNK_DECODE_MAX_BYTES ||
        !sgs_h5_chunk_pipeline_get(dcpl, elem, &cp))
        return 0;
    for (uint64_t k = 0; k < g->n; k++)
        if ((chunks[k].mask & all) == all && (uint64_t)chunks[k].bytes != want)
            return 0;
    return 1;
}

/* Every stored chunk: the index's own checks (check_chunk_index) and the decoded sizes
 * (check_decoded_sizes, or deferred: may_defer); the first chunk with a problem, in index
 * order, is named. Called after sgs__guard_check_chunked, so the chunks are all stored and
 * the walk (one index lookup per chunk) is bounded by the chunks the file really holds. */
int sgs__guard_check_stored_chunks(hid_t file, hid_t dset, hid_t dcpl, const pipeline_t *p,
                                   const chunk_grid_t *g, size_t elem, int n_threads, int *deferred,
                                   sgs_h5_refusal_t *why)
{
    hsize_t file_bytes = 0;
    if (H5Fget_filesize(file, &file_bytes) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs__guard_refuse(why, SGS_EIO, SGS_H5_REFUSE_STORAGE,
                                 "cannot read the file's size");
    }
    uint64_t want = g->chunk_elems * elem; /* chunk_grid checked chunk_elems x 8 */
    stored_chunk_t *chunks = calloc((size_t)g->n, sizeof *chunks);
    if (!chunks)
        return sgs__guard_refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE,
                                 "out of memory for an index of %llu chunks",
                                 (unsigned long long)g->n);
    int rc = SGS_OK;
    sgs_h5_refusal_t first_bad = {0};
    uint64_t k = 0;
    for (; k < g->n; k++) {
        stored_chunk_t *c = &chunks[k];
        chunk_offset(g, k, c->offset);
        c->addr = HADDR_UNDEF;
        if (H5Dget_chunk_info_by_coord(dset, c->offset, &c->mask, &c->addr, &c->bytes) < 0 ||
            c->addr == HADDR_UNDEF) {
            H5Eclear2(H5E_DEFAULT);
            sgs__guard_refuse(&first_bad, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                              "its chunk index cannot be read (malformed)");
            break;
        }
        if (check_chunk_index(dcpl, p, g, c, want, file_bytes, &first_bad) != SGS_OK)
            break;
    }
    if (deferred && k == g->n && !first_bad.code &&
        may_defer(dcpl, p, g, chunks, elem, (size_t)want)) {
        *deferred = 1; /* the caller's decode checks every chunk */
        free(chunks);
        return SGS_OK;
    }
    rc = check_decoded_sizes(dset, p, g, chunks, k, want, n_threads, why);
    if (rc == SGS_OK && first_bad.code) {
        *why = first_bad;
        rc = first_bad.code;
    }
    free(chunks);
    return rc;
}

/* ---- Refusals for a caller that decodes the chunks itself --------------------------------- */

/* The chunk grid of dset, for naming a chunk's rows; SGS_EIO (why filled) when it cannot be
 * described any more. */
static int grid_of(hid_t dset, chunk_grid_t *g, sgs_h5_refusal_t *why)
{
    hid_t dcpl = H5Dget_create_plist(dset), space = H5Dget_space(dset);
    int rc = dcpl >= 0 && space >= 0 ? sgs__guard_chunk_grid(dcpl, space, g, why) : SGS_EIO;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (rc != SGS_OK) {
        H5Eclear2(H5E_DEFAULT);
        sgs__guard_refuse(why, SGS_EIO, SGS_H5_REFUSE_STORAGE, "cannot read the chunk shape");
    }
    return rc == SGS_OK ? SGS_OK : SGS_EIO;
}

int sgs_h5_guard_refuse_decoded(hid_t dset, const hsize_t *offset, sgs_h5_decoded_t r,
                                size_t decoded, size_t want, sgs_h5_refusal_t *why)
{
    memset(why, 0, sizeof *why);
    chunk_grid_t g;
    if (grid_of(dset, &g, why) != SGS_OK)
        return why->code;
    return refuse_decoded(&g, offset, r, decoded, want, why);
}

int sgs_h5_guard_refuse_chunk_read(hid_t dset, const hsize_t *offset, sgs_h5_refusal_t *why)
{
    char cause[256];
    int code = sgs_h5_guard_read_failure(cause, sizeof cause); /* before any other HDF5 call */
    memset(why, 0, sizeof *why);
    chunk_grid_t g;
    if (grid_of(dset, &g, why) != SGS_OK)
        return why->code;
    return refuse_chunk_read(&g, offset, code, cause, why);
}
