/*
 * io/stale_temporaries.c — the hidden ".<name>.tmp-*" beside an output. See
 * stale_temporaries.h.
 */
#include "io/stale_temporaries.h"

#include "io/atomic_file.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

size_t sgs_stale_temporaries_remove(const char *path)
{
    char dir[SGS_PATH_MAX], prefix[SGS_PATH_MAX], entry[2 * SGS_PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int n = snprintf(prefix, sizeof prefix, ".%s.tmp-", base);
    if (n < 0 || (size_t)n >= sizeof prefix || !base[0])
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t removed = 0;
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)n) != 0)
            continue;
        int len = snprintf(entry, sizeof entry, "%s/%s", dir, e->d_name);
        if (len > 0 && (size_t)len < sizeof entry && lstat(entry, &st) == 0 &&
            !S_ISDIR(st.st_mode) && unlink(entry) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}
