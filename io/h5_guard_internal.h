/*
 * io/h5_guard_internal.h — what the files of the HDF5 guard share (internal to io/, not
 * installed): the refusal, a chunked dataset's filter pipeline and chunk grid, and the chunk
 * checks of io/h5_guard_chunks.c that io/h5_guard_dataset.c runs. The contract of the guard
 * is io/h5_guard.h; its entry points for files and link paths are io/h5_guard.c.
 */
#ifndef SGS_H5_GUARD_INTERNAL_H
#define SGS_H5_GUARD_INTERNAL_H

#include "io/h5_guard.h"

#include <hdf5.h>
#include <stdint.h>

/* Fill *why with code, kind and the printf-style text; @return code. */
__attribute__((format(printf, 4, 5))) int sgs__guard_refuse(sgs_h5_refusal_t *why, int code,
                                                            sgs_h5_refusal_kind_t kind,
                                                            const char *fmt, ...);

/* The pipeline of a chunked dataset as the walk over its chunks needs it. */
typedef struct pipeline {
    int n;
    H5Z_filter_t id[H5Z_MAX_NFILTERS];
    unsigned optional_missing; /* bits of optional filters this library lacks */
} pipeline_t;

/* The chunk grid of a chunked dataset of one or two dimensions. */
#define MAX_RANK 2

typedef struct chunk_grid {
    int rank;                  /* 1 or 2 */
    hsize_t dims[MAX_RANK];    /* extent */
    hsize_t cdims[MAX_RANK];   /* chunk shape, each >= 1 */
    uint64_t across[MAX_RANK]; /* chunks along each dimension */
    uint64_t n;                /* chunks the extent needs */
    uint64_t chunk_elems;      /* elements of one whole chunk */
} chunk_grid_t;

/* The chunk grid of the dataset with creation list dcpl and dataspace space into *g;
 * SGS_EDATA (refused) when its extent or chunk shape cannot be read or is absurd. */
int sgs__guard_chunk_grid(hid_t dcpl, hid_t space, chunk_grid_t *g, sgs_h5_refusal_t *why);

/* Every chunk the extent needs is stored (io/h5_guard_chunks.c says why). */
int sgs__guard_check_chunked(hid_t dset, hid_t space, const chunk_grid_t *g, sgs_h5_refusal_t *why);

/* Every stored chunk inside the file, through filters this library has, and of its chunk's
 * size once decoded (io/h5_guard_chunks.c says how). With `deferred` not NULL, the decoded
 * sizes are left to the caller's own decode when io/h5_chunk_decode.h decodes every chunk
 * (*deferred = 1; else 0 and they are checked here). */
int sgs__guard_check_stored_chunks(hid_t file, hid_t dset, hid_t dcpl, const pipeline_t *p,
                                   const chunk_grid_t *g, size_t elem, int n_threads, int *deferred,
                                   sgs_h5_refusal_t *why);

#endif
