/*
 * io/h5_objects.h — describe an HDF5 file for `segscore inspect`: every group and dataset
 * with its type, shape, chunking, filters and storage, without following a link out of the
 * file (io/h5_guard.h) and without reading any data.
 *
 * Thread-safety: HDF5 (serial build) is not thread-safe; call from one thread at a time.
 */
#ifndef SGS_H5_OBJECTS_H
#define SGS_H5_OBJECTS_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sgs_h5_object_info {
    char path[256];         /* "/transactions/amount" */
    int is_group;           /* 1 for a group (the other fields are 0/empty) */
    char type[32];          /* "int64", "uint8", "float64", "string", "compound", ... */
    int rank;               /* number of dimensions */
    uint64_t length;        /* first dimension (elements for rank 0) */
    uint64_t chunk_rows;    /* first dimension of a chunk; 0 when not chunked */
    char filters[64];       /* "shuffle+deflate(4)", "" when none */
    uint64_t storage_bytes; /* bytes the data takes in the file */
} sgs_h5_object_info_t;

/* List every group and dataset of the file, in name order (depth first), through hard and
 * soft links that stay in the file (nothing outside the file is opened). *out is owned
 * by the caller (sgs_free). @return 0, SGS_ENOINPUT, SGS_EDATA (not HDF5, truncated,
 * malformed), SGS_ETEMPFAIL (locked by a writer), SGS_ENOMEM, SGS_EIO. */
int sgs_h5_list_objects(const char *path, sgs_h5_object_info_t **out, size_t *n, sgs_error_t *err);

#endif
