/*
 * io/file_part.h — one file written in parts by several writers, each at its own offset: the
 * text outputs (customers.csv, opportunities.csv) of a run spread over processes, each
 * process writing its rows where the rows before it end (engine/dist_text.h, docs/mpi.md).
 */
#ifndef SGS_FILE_PART_H
#define SGS_FILE_PART_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

/* Create `path` empty (or empty it), `size` bytes long, to be filled by parts. @return 0 or
 * the failure of open/ftruncate on path (SGS_ECANTCREAT, SGS_ENOSPACE, SGS_EIO). */
int sgs_file_part_create(const char *path, uint64_t size, sgs_error_t *err);

/* Write the n bytes at `bytes` at `offset` of the existing file `path` and make them durable
 * (fsync). @return 0, SGS_ENOSPACE or SGS_EIO naming path. */
int sgs_file_part_write(const char *path, uint64_t offset, const void *bytes, size_t n,
                        sgs_error_t *err);

#endif /* SGS_FILE_PART_H */
