/*
 * io/publish.c — generations, one `current` symlink, a lock. See publish.h and
 * docs/publishing.md.
 */
#define _DEFAULT_SOURCE /* realpath */
#include "io/publish.h"

#include "io/atomic_file.h"
#include "io/output_lock.h"
#include "io/stale_temporaries.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct publish_output {
    char path[SGS_PATH_MAX];   /* output path as given */
    char name[256];            /* file name inside a generation */
    char target[SGS_PATH_MAX]; /* the symlink at path: relative, to <state>/current/<name> */
    char file[SGS_PATH_MAX];   /* <state>/gen-<gen>/<name> */
} publish_output_t;

struct sgs_publish {
    size_t n;
    sgs_output_lock_t lock;
    long current; /* generation `current` names; 0 none */
    long gen;     /* generation being written; 0 before sgs_publish_begin */
    int switched; /* current == gen */
    size_t n_stale;
    char state[SGS_PATH_MAX];   /* .<first output's name>.segscore beside it */
    char gen_dir[SGS_PATH_MAX]; /* <state>/gen-<gen> */
    publish_output_t out[SGS_PUBLISH_MAX_OUTPUTS];
};

/* ---- paths ----------------------------------------------------------------------------- */

/* The folder part of path ("." when there is none) and, optionally, its last component. */
static void split(const char *path, char *dir, size_t dir_size, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, dir_size, ".");
    else if (slash == path)
        snprintf(dir, dir_size, "/");
    else
        snprintf(dir, dir_size, "%.*s", (int)(slash - path), path);
    if (base)
        *base = slash ? slash + 1 : path;
}

/* snprintf into a path buffer; -1 when it does not fit. */
__attribute__((format(printf, 3, 4))) static int path_printf(char *out, size_t size,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The path from folder `from` to `to`, both canonical absolute paths ("../s/x", "."). */
static int relative_path(const char *from, const char *to, char *out, size_t size)
{
    size_t common = 0;
    for (size_t i = 0;; i++) {
        int from_end = from[i] == '\0' || from[i] == '/', to_end = to[i] == '\0' || to[i] == '/';
        if (from_end && to_end)
            common = i;
        if (from[i] != to[i] || from[i] == '\0')
            break;
    }
    size_t used = 0;
    out[0] = '\0';
    for (const char *c = from + common; *c; c++)
        if (*c == '/' && c[1] && c[1] != '/') {
            if (used + 3 >= size)
                return -1;
            memcpy(out + used, "../", 4);
            used += 3;
        }
    const char *rest = to + common;
    while (*rest == '/')
        rest++;
    if (path_printf(out + used, size - used, "%s", rest) != 0)
        return -1;
    used = strlen(out);
    if (used > 0 && out[used - 1] == '/')
        out[--used] = '\0';
    if (used == 0)
        snprintf(out, size, ".");
    return 0;
}

/* "gen-<n>" with n >= 1 into *n; 0 when the name is not one. */
static int gen_number(const char *name, long *n)
{
    if (strncmp(name, "gen-", 4) != 0 || name[4] < '1' || name[4] > '9')
        return 0;
    char *end;
    errno = 0;
    long v = strtol(name + 4, &end, 10);
    if (errno || *end)
        return 0;
    *n = v;
    return 1;
}

/* The generation `current` names: 0 when there is none, -1 when it names something else. */
static long read_current(const char *state)
{
    char path[SGS_PATH_MAX], link[256];
    if (path_printf(path, sizeof path, "%s/current", state) != 0)
        return -1;
    ssize_t len = readlink(path, link, sizeof link - 1);
    if (len < 0)
        return errno == ENOENT ? 0 : -1;
    link[len] = '\0';
    long n;
    return gen_number(link, &n) ? n : -1;
}

/* ---- files ------------------------------------------------------------------------------ */

/* Remove a generation folder and the files in it. 0, or -1 when something stays. */
static int remove_generation(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    char path[SGS_PATH_MAX];
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            path_printf(path, sizeof path, "%s/%s", dir, e->d_name) == 0)
            unlink(path);
    closedir(d);
    return rmdir(dir);
}

/* Copy src to a new file dst (hard links do not cross file systems). 0 or -1 with errno. */
static int copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int rc = out < 0 ? -1 : 0;
    char buf[1 << 16];
    ssize_t got = 0;
    while (rc == 0 && (got = read(in, buf, sizeof buf)) > 0)
        for (ssize_t done = 0; rc == 0 && done < got;) {
            ssize_t w = write(out, buf + done, (size_t)(got - done));
            rc = w < 0 ? -1 : 0;
            done += w > 0 ? w : 0;
        }
    if (got < 0)
        rc = -1;
    int e = errno;
    if (out >= 0 && close(out) != 0 && rc == 0) {
        e = errno;
        rc = -1;
    }
    close(in);
    if (rc != 0 && out >= 0)
        unlink(dst);
    errno = e;
    return rc;
}

/* Put a symlink to `target` at `path` with one rename, through ".<name>.tmp-link" beside
 * it. 0 or -1 with errno. */
static int place_symlink(const char *path, const char *target)
{
    char dir[SGS_PATH_MAX], tmp[SGS_PATH_MAX];
    const char *base;
    split(path, dir, sizeof dir, &base);
    if (path_printf(tmp, sizeof tmp, "%s/.%s.tmp-link", dir, base) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    unlink(tmp);
    if (symlink(target, tmp) != 0)
        return -1;
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    (void)sgs_fsync_path(dir); /* best effort: the next flush of the folder carries it */
    return 0;
}

/* Point <state>/current at gen-<gen>: a new symlink renamed over the old one. */
static int switch_current(sgs_publish_t *p, long gen, sgs_error_t *err)
{
    char tmp[SGS_PATH_MAX], cur[SGS_PATH_MAX], target[32];
    snprintf(target, sizeof target, "gen-%ld", gen);
    if (path_printf(tmp, sizeof tmp, "%s/current.tmp", p->state) != 0 ||
        path_printf(cur, sizeof cur, "%s/current", p->state) != 0)
        return sgs_error_set(err, SGS_EINVAL, "%s: path too long", p->state);
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, cur) != 0) {
        int e = errno;
        unlink(tmp);
        return sgs_error_set(err, SGS_EIO, "%s: switching to the new outputs failed: %s", cur,
                             strerror(e));
    }
    p->current = gen;
    /* Best effort, as for any rename: the switch is visible; a crash before the folder
     * reaches the disk can only bring back the complete previous set. */
    (void)sgs_fsync_path(p->state);
    return SGS_OK;
}

/* ---- stale files ---------------------------------------------------------------------------- */

/* Remove generations other than the current one and the newest one before it, and a
 * half-made current.tmp. Generations newer than the current one are runs that stopped
 * before their switch. Under the lock nobody else writes here. */
static void remove_old_generations(sgs_publish_t *p)
{
    DIR *d = opendir(p->state);
    if (!d)
        return;
    long previous = 0, n;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (gen_number(e->d_name, &n) && n < p->current && n > previous)
            previous = n;
    rewinddir(d);
    char path[SGS_PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        int is_gen = gen_number(e->d_name, &n);
        if ((is_gen && n != p->current && n != previous) || strcmp(e->d_name, "current.tmp") == 0) {
            if (path_printf(path, sizeof path, "%s/%s", p->state, e->d_name) != 0)
                continue;
            if ((is_gen ? remove_generation(path) : unlink(path)) == 0)
                p->n_stale++;
        }
    }
    closedir(d);
}

/* ---- the set -------------------------------------------------------------------------------- */

/* Names, the symlink each output path gets, and the state folder's place. */
static int describe_outputs(sgs_publish_t *p, const sgs_publish_output_t *outputs, sgs_error_t *err)
{
    char dir[SGS_PATH_MAX], state_real[PATH_MAX], dir_real[PATH_MAX], rel[SGS_PATH_MAX];
    int rc = sgs_output_state_dir(outputs[0].path, p->state, sizeof p->state, err);
    if (rc != SGS_OK)
        return rc;
    if (mkdir(p->state, 0777) != 0 && errno != EEXIST)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create the folder: %s", p->state,
                             strerror(errno));
    struct stat st;
    if (stat(p->state, &st) != 0 || !S_ISDIR(st.st_mode) || !realpath(p->state, state_real))
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: is not a folder segscore can use", p->state);
    for (size_t i = 0; i < p->n; i++) {
        publish_output_t *o = &p->out[i];
        const char *name = outputs[i].name;
        if (!name[0] || strchr(name, '/') || strlen(name) >= sizeof o->name ||
            strncmp(name, "gen-", 4) == 0)
            return sgs_error_set(err, SGS_EINVAL, "bad output name \"%s\"", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->out[j].name, name) == 0)
                return sgs_error_set(err, SGS_EINVAL, "output name \"%s\" given twice", name);
        snprintf(o->name, sizeof o->name, "%s", name);
        if (path_printf(o->path, sizeof o->path, "%s", outputs[i].path) != 0)
            return sgs_error_set(err, SGS_EINVAL, "%s: path too long", outputs[i].path);
        split(o->path, dir, sizeof dir, NULL);
        if (!realpath(dir, dir_real))
            return sgs_error_set(err, SGS_ECANTCREAT, "%s: output folder %s: %s", o->path, dir,
                                 strerror(errno));
        if (relative_path(dir_real, state_real, rel, sizeof rel) != 0 ||
            path_printf(o->target, sizeof o->target, "%s/current/%s", rel, name) != 0)
            return sgs_error_set(err, SGS_EINVAL, "%s: path too long", o->path);
    }
    return SGS_OK;
}

int sgs_publish_open(const sgs_publish_output_t *outputs, size_t n, const char *command,
                     sgs_publish_t **out, sgs_error_t *err)
{
    *out = NULL;
    if (n == 0 || n > SGS_PUBLISH_MAX_OUTPUTS)
        return sgs_error_set(err, SGS_EINVAL, "%zu outputs: 1 to %d can be published together", n,
                             SGS_PUBLISH_MAX_OUTPUTS);
    sgs_publish_t *p = calloc(1, sizeof *p);
    if (!p)
        return sgs_error_set(err, SGS_ENOMEM, "no memory to publish the outputs");
    p->n = n;
    p->lock = SGS_OUTPUT_LOCK_INIT;
    int rc = describe_outputs(p, outputs, err);
    if (rc == SGS_OK)
        rc = sgs_output_lock_take(p->out[0].path, command, "these outputs", &p->lock, err);
    if (rc == SGS_OK) {
        p->current = read_current(p->state);
        if (p->current < 0)
            rc = sgs_error_set(err, SGS_ECANTCREAT,
                               "%s/current: not a link to a generation gen-<n>; move the folder "
                               "%s away to start afresh",
                               p->state, p->state);
    }
    if (rc != SGS_OK) {
        sgs_publish_close(p);
        return rc;
    }
    remove_old_generations(p);
    for (size_t i = 0; i < p->n; i++) /* the lock says nobody else is writing them */
        p->n_stale += sgs_stale_temporaries_remove(p->out[i].path);
    *out = p;
    return SGS_OK;
}

size_t sgs_publish_stale_removed(const sgs_publish_t *p)
{
    return p->n_stale;
}

/* The number after every generation in the state folder. */
static long next_generation(const sgs_publish_t *p)
{
    long max = p->current, n;
    DIR *d = opendir(p->state);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (gen_number(e->d_name, &n) && n > max)
            max = n;
    if (d)
        closedir(d);
    return max + 1;
}

static int make_generation(sgs_publish_t *p, long gen, char *dir, size_t size, sgs_error_t *err)
{
    if (path_printf(dir, size, "%s/gen-%ld", p->state, gen) != 0)
        return sgs_error_set(err, SGS_EINVAL, "%s: path too long", p->state);
    if (mkdir(dir, 0777) != 0)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create the folder: %s", dir,
                             strerror(errno));
    return SGS_OK;
}

/* What readers see now, as a generation of its own that becomes current: a plain file at an
 * output path, else the current generation's file. Nothing visible changes. */
static int adopt(sgs_publish_t *p, const int *plain, sgs_error_t *err)
{
    char gen_dir[SGS_PATH_MAX], src[SGS_PATH_MAX], dst[SGS_PATH_MAX];
    long gen = next_generation(p);
    int rc = make_generation(p, gen, gen_dir, sizeof gen_dir, err);
    if (rc != SGS_OK)
        return rc;
    struct stat st;
    for (size_t i = 0; rc == SGS_OK && i < p->n; i++) {
        const publish_output_t *o = &p->out[i];
        if (plain[i])
            snprintf(src, sizeof src, "%s", o->path);
        else if (p->current == 0 ||
                 path_printf(src, sizeof src, "%s/current/%s", p->state, o->name) != 0 ||
                 stat(src, &st) != 0)
            continue;
        if (path_printf(dst, sizeof dst, "%s/%s", gen_dir, o->name) != 0)
            rc = sgs_error_set(err, SGS_EINVAL, "%s: path too long", gen_dir);
        else if (linkat(AT_FDCWD, src, AT_FDCWD, dst, AT_SYMLINK_FOLLOW) != 0 &&
                 copy_file(src, dst) != 0)
            rc = sgs_error_set(err, SGS_EIO, "%s: cannot keep the previous file as %s: %s", o->path,
                               dst, strerror(errno));
        else if (sgs_fsync_path(dst) != 0)
            rc = sgs_error_set(err, SGS_EIO, "%s: flushing to disk failed: %s", dst,
                               strerror(errno));
    }
    if (rc == SGS_OK && sgs_fsync_path(gen_dir) != 0)
        rc = sgs_error_set(err, SGS_EIO, "%s: flushing to disk failed: %s", gen_dir,
                           strerror(errno));
    if (rc == SGS_OK)
        rc = switch_current(p, gen, err);
    if (rc != SGS_OK)
        remove_generation(gen_dir);
    return rc;
}

int sgs_publish_begin(sgs_publish_t *p, sgs_error_t *err)
{
    int plain[SGS_PUBLISH_MAX_OUTPUTS] = {0}, ours[SGS_PUBLISH_MAX_OUTPUTS] = {0};
    int any_plain = 0;
    for (size_t i = 0; i < p->n; i++) {
        const publish_output_t *o = &p->out[i];
        struct stat st;
        char link[SGS_PATH_MAX];
        if (lstat(o->path, &st) != 0) {
            if (errno != ENOENT)
                return sgs_error_set(err, SGS_EIO, "%s: %s", o->path, strerror(errno));
            continue;
        }
        ssize_t len = S_ISLNK(st.st_mode) ? readlink(o->path, link, sizeof link - 1) : -1;
        if (len >= 0) {
            link[len] = '\0';
            ours[i] = strcmp(link, o->target) == 0;
        }
        /* A plain file, or a link someone else made to one: its content is yesterday's. */
        plain[i] = !ours[i] && stat(o->path, &st) == 0 && S_ISREG(st.st_mode);
        any_plain |= plain[i];
    }
    int rc = any_plain ? adopt(p, plain, err) : SGS_OK;
    for (size_t i = 0; rc == SGS_OK && i < p->n; i++)
        if (!ours[i] && place_symlink(p->out[i].path, p->out[i].target) != 0)
            rc = sgs_error_set(err, SGS_EIO, "%s: cannot replace it with a link to %s: %s",
                               p->out[i].path, p->out[i].target, strerror(errno));
    if (rc != SGS_OK)
        return rc;
    long gen = next_generation(p);
    rc = make_generation(p, gen, p->gen_dir, sizeof p->gen_dir, err);
    if (rc != SGS_OK)
        return rc;
    p->gen = gen; /* from here on sgs_publish_close removes gen_dir unless switched */
    for (size_t i = 0; i < p->n; i++)
        if (path_printf(p->out[i].file, sizeof p->out[i].file, "%s/%s", p->gen_dir,
                        p->out[i].name) != 0)
            return sgs_error_set(err, SGS_EINVAL, "%s: path too long", p->gen_dir);
    return SGS_OK;
}

const char *sgs_publish_file(const sgs_publish_t *p, size_t i)
{
    return p->out[i].file;
}

const char *sgs_publish_path(const sgs_publish_t *p, size_t i)
{
    return p->out[i].path;
}

int sgs_publish_flush(sgs_publish_t *p, size_t i, sgs_error_t *err)
{
    if (sgs_fsync_path(p->out[i].file) != 0)
        return sgs_error_set(err, SGS_EIO, "%s: flushing to disk failed: %s", p->out[i].path,
                             strerror(errno));
    return SGS_OK;
}

int sgs_publish_seal(sgs_publish_t *p, sgs_error_t *err)
{
    if (sgs_fsync_path(p->gen_dir) != 0)
        return sgs_error_set(err, SGS_EIO, "%s: flushing to disk failed: %s", p->gen_dir,
                             strerror(errno));
    return SGS_OK;
}

int sgs_publish_switch(sgs_publish_t *p, sgs_error_t *err)
{
    if (p->gen == 0)
        return sgs_error_set(err, SGS_EINVAL, "%s: nothing to publish", p->state);
    int rc = switch_current(p, p->gen, err);
    if (rc == SGS_OK)
        p->switched = 1;
    return rc;
}

void sgs_publish_prune(sgs_publish_t *p)
{
    remove_old_generations(p);
    (void)sgs_fsync_path(p->state);
}

void sgs_publish_close(sgs_publish_t *p)
{
    if (!p)
        return;
    if (p->gen && !p->switched)
        remove_generation(p->gen_dir);
    sgs_output_lock_release(&p->lock);
    free(p);
}
