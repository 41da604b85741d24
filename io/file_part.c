/*
 * io/file_part.c — one file written in parts at offsets (io/file_part.h).
 */
#include "io/file_part.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

int sgs_file_part_create(const char *path, uint64_t size, sgs_error_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sgs_error_set_os(err, SGS_ECANTCREAT, errno, path, "cannot create");
    int rc = SGS_OK;
    if (ftruncate(fd, (off_t)size) != 0)
        rc = sgs_error_set_os(err, SGS_EIO, errno, path, "cannot size");
    if (close(fd) != 0 && rc == SGS_OK)
        rc = sgs_error_set_os(err, SGS_EIO, errno, path, "cannot close");
    return rc;
}

int sgs_file_part_write(const char *path, uint64_t offset, const void *bytes, size_t n,
                        sgs_error_t *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return sgs_error_set_os(err, SGS_EIO, errno, path, "cannot open");
    int rc = SGS_OK;
    const char *p = bytes;
    while (n > 0 && rc == SGS_OK) {
        ssize_t w = pwrite(fd, p, n, (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = sgs_error_set_os(err, SGS_EIO, w < 0 ? errno : ENOSPC, path, "write failed");
            break;
        }
        p += w;
        n -= (size_t)w;
        offset += (uint64_t)w;
    }
    if (rc == SGS_OK && fsync(fd) != 0)
        rc = sgs_error_set_os(err, SGS_EIO, errno, path, "write failed");
    if (close(fd) != 0 && rc == SGS_OK)
        rc = sgs_error_set_os(err, SGS_EIO, errno, path, "write failed");
    return rc;
}
