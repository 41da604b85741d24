/*
 * io/atomic_file.c — temporary sibling, fsync, rename. See atomic_file.h.
 */
#include "io/atomic_file.h"

#include "io/output_paths.h"

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
    a->final_path[0] = '\0';
    int rc = sgs_output_path_check("output", final_path, err);
    if (rc != SGS_OK)
        return rc;
    if (split_path(final_path, dir, base, sizeof dir) != SGS_OK)
        return sgs_error_set(err, SGS_EINVAL, "output path too long: %.200s...", final_path);
    snprintf(a->final_path, sizeof a->final_path, "%s", final_path);
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

static long fsync_fail_at; /* sgs_test_fail_fsync_at: calls until the failing one, 0 off */

void sgs_test_fail_fsync_at(long n)
{
    fsync_fail_at = n > 0 ? n : 0;
}

/* Opened read-only: works for files and, on Linux, folders. */
int sgs_fsync_path(const char *path)
{
    if (fsync_fail_at > 0 && --fsync_fail_at == 0) {
        errno = EIO;
        return -1;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int sgs_atomic_commit(sgs_atomic_t *a, sgs_error_t *err)
{
    if (!a->temp_path[0])
        return sgs_error_set(err, SGS_EINVAL, "%s: nothing to commit", a->final_path);
    if (sgs_fsync_path(a->temp_path) != 0) {
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
        (void)sgs_fsync_path(dir); /* best effort: the rename is already visible */
    return SGS_OK;
}

void sgs_atomic_abort(sgs_atomic_t *a)
{
    if (a && a->temp_path[0]) {
        unlink(a->temp_path);
        a->temp_path[0] = '\0';
    }
}

int sgs_write_text_file(const char *file, const char *shown, const char *text, sgs_error_t *err)
{
    errno = 0;
    FILE *f = fopen(file, "wb");
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? SGS_OK : sgs_error_set_os(err, SGS_EIO, errno ? errno : EIO, shown, "write failed");
}
