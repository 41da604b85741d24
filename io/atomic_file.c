/*
 * io/atomic_file.c — temporary sibling, fsync, rename. See atomic_file.h.
 */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Split path into its folder (".") and base name, both copied into caller buffers. */
static int split_path(const char *path, char *dir, char *base, size_t size)
{
    char tmp1[SGS_PATH_MAX], tmp2[SGS_PATH_MAX];
    if (strlen(path) >= SGS_PATH_MAX)
        return SGS_EINVAL;
    strcpy(tmp1, path);
    strcpy(tmp2, path);
    snprintf(dir, size, "%s", dirname(tmp1));
    snprintf(base, size, "%s", basename(tmp2));
    return SGS_OK;
}

int sgs_atomic_begin(const char *final_path, sgs_atomic_t *a, sgs_error_t *err)
{
    char dir[SGS_PATH_MAX], base[SGS_PATH_MAX];
    a->temp_path[0] = '\0';
    if (split_path(final_path, dir, base, sizeof dir) != SGS_OK)
        return sgs_error_set(err, SGS_EINVAL, "output path too long: %.200s...", final_path);
    snprintf(a->final_path, sizeof a->final_path, "%s", final_path);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: output folder %s does not exist", final_path,
                             dir);
    if (stat(final_path, &st) == 0 && S_ISDIR(st.st_mode))
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: is a folder, not a file", final_path);
    int n = snprintf(a->temp_path, sizeof a->temp_path, "%s/.%s.tmp-XXXXXX", dir, base);
    if (n < 0 || (size_t)n >= sizeof a->temp_path) {
        a->temp_path[0] = '\0';
        return sgs_error_set(err, SGS_EINVAL, "output path too long: %.200s...", final_path);
    }
    int fd = mkstemp(a->temp_path);
    if (fd < 0) {
        int e = errno;
        a->temp_path[0] = '\0';
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create a file in folder %s: %s",
                             final_path, dir, strerror(e));
    }
    /* mkstemp makes 0600; outputs are ordinary files others may read. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        /* not fatal: the file is still correct, only more private */
    }
    close(fd);
    return SGS_OK;
}

/* fsync a path opened read-only (works for files and, on Linux, folders). */
static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int sgs_atomic_commit(sgs_atomic_t *a, sgs_error_t *err)
{
    if (!a->temp_path[0])
        return sgs_error_set(err, SGS_EINVAL, "%s: nothing to commit", a->final_path);
    if (fsync_path(a->temp_path) != 0) {
        int e = errno;
        sgs_atomic_abort(a);
        return sgs_error_set_os(err, SGS_EIO, e, a->final_path, "flushing to disk failed");
    }
    if (rename(a->temp_path, a->final_path) != 0) {
        int e = errno;
        sgs_atomic_abort(a);
        return sgs_error_set(err, SGS_EIO, "%s: rename into place failed: %s", a->final_path,
                             strerror(e));
    }
    a->temp_path[0] = '\0';
    char dir[SGS_PATH_MAX], base[SGS_PATH_MAX];
    if (split_path(a->final_path, dir, base, sizeof dir) == SGS_OK)
        (void)fsync_path(dir); /* best effort: the rename is already visible */
    return SGS_OK;
}

void sgs_atomic_abort(sgs_atomic_t *a)
{
    if (a && a->temp_path[0]) {
        unlink(a->temp_path);
        a->temp_path[0] = '\0';
    }
}
