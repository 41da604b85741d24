/*
 * engine/dist_text.h — a text output of a run spread over processes (docs/mpi.md): each
 * process formats its customers' rows, and the file is their bytes in rank order, the rows of
 * one process after the other's, as one process writing every row makes it.
 */
#ifndef SGS_DIST_TEXT_H
#define SGS_DIST_TEXT_H

#include "engine/dist.h"

/* Write `path` as the concatenation, in rank order, of every process's n bytes at `bytes`
 * (a header is process 0's first bytes): process 0 creates the file at its final length,
 * then each writes its part at the sum of the lengths before it. @return 0 or the first
 * failure (the lowest process's), the same on every process; on failure the file is
 * incomplete and the caller removes it. */
int sgs_dist_write_text(const sgs_dist_t *d, const char *path, const void *bytes, size_t n,
                        sgs_error_t *err);

#endif /* SGS_DIST_TEXT_H */
