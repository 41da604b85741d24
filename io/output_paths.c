/*
 * io/output_paths.c — output path checks and file identity. See output_paths.h.
 */
#define _DEFAULT_SOURCE /* realpath */
#include "io/output_paths.h"

#include "io/atomic_file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folder part of path ("." when there is none) into dir. */
static void folder_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, size, ".");
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

int sgs_output_path_check(const char *what, const char *path, sgs_error_t *err)
{
    if (!path || !path[0])
        return sgs_error_set(err, SGS_EUSAGE, "%s: the output path is empty", what);
    size_t len = strlen(path);
    /* Room for the temporary suffixes added beside it. */
    if (len >= SGS_PATH_MAX - 64)
        return sgs_error_set(err, SGS_EUSAGE, "%s: output path too long: %.200s...", what, path);
    struct stat st;
    if (path[len - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: is a folder, not a file", path);
    /* An output is replaced, not written into: never a device such as /dev/null. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return sgs_error_set(err, SGS_ECANTCREAT,
                             "%s: is a device, pipe or socket, not a file; outputs are replaced "
                             "as a whole, so give the path of a file",
                             path);
    char dir[SGS_PATH_MAX];
    folder_of(path, dir, sizeof dir);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: output folder %s does not exist", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: output folder %s is not writable: %s", path,
                             dir, strerror(errno));
    return SGS_OK;
}

/* Where a path that does not exist would be created: the real path of its folder and its
 * name. 0 on success, -1 when the folder cannot be resolved. */
static int future_location(const char *path, char *out, size_t size)
{
    char dir[SGS_PATH_MAX], real[PATH_MAX];
    folder_of(path, dir, sizeof dir);
    if (!realpath(dir, real))
        return -1;
    const char *slash = strrchr(path, '/');
    int n = snprintf(out, size, "%s/%s", real, slash ? slash + 1 : path);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int sgs_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea || eb)
        return 0;
    char la[SGS_PATH_MAX], lb[SGS_PATH_MAX];
    return future_location(a, la, sizeof la) == 0 && future_location(b, lb, sizeof lb) == 0 &&
           strcmp(la, lb) == 0;
}

int sgs_output_paths_check(const sgs_named_path_t *inputs, size_t n_inputs,
                           const sgs_named_path_t *outputs, size_t n_outputs, sgs_error_t *err)
{
    for (size_t i = 0; i < n_outputs; i++) {
        int rc = sgs_output_path_check(outputs[i].what, outputs[i].path, err);
        if (rc != SGS_OK)
            return rc;
    }
    struct stat st;
    for (size_t i = 0; i < n_outputs; i++) {
        const sgs_named_path_t *o = &outputs[i];
        for (size_t j = 0; j < n_inputs; j++) {
            const sgs_named_path_t *in = &inputs[j];
            if (!in->path || !in->path[0] || strcmp(in->path, "-") == 0 || stat(in->path, &st))
                continue;
            if (sgs_same_file(o->path, in->path))
                return sgs_error_set(err, SGS_EUSAGE,
                                     "the %s %s is the %s %s (the same file, possibly through a "
                                     "link): an output never replaces an input; choose another "
                                     "path",
                                     o->what, o->path, in->what, in->path);
        }
        for (size_t j = 0; j < i; j++)
            if (sgs_same_file(o->path, outputs[j].path))
                return sgs_error_set(err, SGS_EUSAGE,
                                     "the %s %s and the %s %s are the same file (possibly "
                                     "through a link): give each output its own path",
                                     outputs[j].what, outputs[j].path, o->what, o->path);
    }
    return SGS_OK;
}
