/*
 * engine/dist_text.h — a text output of a run spread over processes (docs/mpi.md): each
 * process formats its customers' rows, and the file is their bytes in rank order, the rows of
 * one process after the other's, as one process writing every row makes it.
 */
#ifndef SGS_DIST_TEXT_H
#define SGS_DIST_TEXT_H

#include "engine/dist.h"
#include "io/text_format.h"

/* Write `path` as the concatenation, in rank order, of every process's n bytes at `bytes`
 * (a header is process 0's first bytes): process 0 creates the file at its final length,
 * then each writes its part at the sum of the lengths before it, past the page cache where the
 * file system allows (io/direct_file.h; the parts' unaligned ends through it, so that no page
 * is written both ways). @return 0 or the first
 * failure (the lowest process's), the same on every process; on failure the file is
 * incomplete and the caller removes it. */
int sgs_dist_write_text(const sgs_dist_t *d, const char *path, const void *bytes, size_t n,
                        sgs_error_t *err);

/* A CSV output of a spread run (customers.csv, opportunities.csv): `header` (process 0's) and
 * this process's n_rows lines, each at most max_line characters, formatted by `format` (the
 * single-process writer's, io/text_format.h) in blocks of rows into memory, twice: once for the
 * length, once into the text (a buffer grown as it fills would, with the run's malloc settings
 * of engine/main.c, be copied and held twice at its largest); then written by
 * sgs_dist_write_text. The bytes are those one
 * process writing every process's rows in rank order makes. Collective. @return 0, SGS_ENOMEM
 * (agreed before any byte is written) or sgs_dist_write_text's codes, the same on every
 * process. */
int sgs_dist_write_text_rows(const sgs_dist_t *d, const char *path, const char *header,
                             size_t n_rows, size_t max_line, sgs_format_rows_fn format,
                             const void *ctx, sgs_error_t *err);

#endif /* SGS_DIST_TEXT_H */
