/*
 * engine/dist_text.c — a text file from every process's part (engine/dist_text.h).
 */
#include "engine/dist_text.h"

#include "io/file_part.h"

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
    rc = n ? sgs_file_part_write(path, offset, bytes, n, err) : SGS_OK;
    return sgs_dist_agree(d, rc, err);
}
