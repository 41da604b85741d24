/*
 * engine/dist_text.c — a text file from every process's part (engine/dist_text.h).
 */
#include "engine/dist_text.h"

#include "io/direct_file.h"
#include "io/file_part.h"

#include <string.h>

#define TEXT_STAGE_BYTES ((size_t)4 << 20) /* the direct writer's staging buffer */

int sgs_dist_write_text(const sgs_dist_t *d, const char *path, const void *bytes, size_t n,
                        sgs_error_t *err)
{
    uint64_t offset = sgs_dist_offset(d, n);
    int64_t total = (int64_t)n;
    sgs_dist_reduce_i64(d, &total, 1, SGS_DIST_SUM);
    int rc = d->rank == 0 ? sgs_file_part_create(path, (uint64_t)total, err) : SGS_OK;
    rc = sgs_dist_agree(d, rc, err); /* the file exists before anyone writes into it */
    if (rc)
        return rc;
    if (n > 0) { /* past the page cache where it can, as one process writes (io/direct_file.h) */
        sgs_direct_file_t f;
        rc = sgs_direct_open(&f, path, 0, TEXT_STAGE_BYTES, err);
        if (rc == SGS_OK)
            rc = sgs_direct_close(&f, sgs_direct_write_at(&f, offset, bytes, n, err), err);
    }
    return sgs_dist_agree(d, rc, err);
}

int sgs_dist_write_text_rows(const sgs_dist_t *d, const char *path, const char *header,
                             size_t n_rows, size_t max_line, sgs_format_rows_fn format,
                             const void *ctx, sgs_error_t *err)
{
    enum { ROWS = 1024 };
    size_t head = d->rank == 0 ? strlen(header) : 0;
    char *block = sgs_alloc_array(ROWS, max_line), *text = NULL;
    size_t len = head;
    for (size_t lo = 0; block && lo < n_rows; lo += ROWS)
        len += format(ctx, lo, lo + ROWS < n_rows ? lo + ROWS : n_rows, block);
    sgs_free(block);
    text = block ? sgs_alloc_array(len + max_line, 1) : NULL;
    int rc = text ? SGS_OK
                  : sgs_error_set(err, SGS_ENOMEM, "no memory for the text of %zu rows", n_rows);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK) {
        memcpy(text, header, head);
        for (size_t lo = 0, at = head; lo < n_rows; lo += ROWS)
            at += format(ctx, lo, lo + ROWS < n_rows ? lo + ROWS : n_rows, text + at);
        rc = sgs_dist_write_text(d, path, text, len, err);
    }
    sgs_free(text);
    return rc;
}
