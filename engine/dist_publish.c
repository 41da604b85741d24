/*
 * engine/dist_publish.c — a spread run's outputs published together
 * (engine/dist_publish.h).
 */
#include "engine/dist_publish.h"

#include "io/atomic_file.h"

#include <errno.h>
#include <string.h>

struct sgs_dist_publish {
    sgs_dist_t d;
    sgs_publish_t *set; /* process 0's; NULL elsewhere */
    size_t n;
    char *files;                               /* the n file names, each NUL-terminated */
    const char *file[SGS_PUBLISH_MAX_OUTPUTS]; /* into files */
    int committed;
};

/* Process 0's set opened and begun, its files' names in one buffer (NUL after each). */
static int open_on_first(const sgs_publish_output_t *outputs, size_t n, const char *command,
                         sgs_publish_t **set, char **names, size_t *bytes, sgs_error_t *err)
{
    int rc = sgs_publish_open(outputs, n, command, set, err);
    if (rc == SGS_OK)
        rc = sgs_publish_begin(*set, err);
    size_t total = 0;
    for (size_t i = 0; rc == SGS_OK && i < n; i++)
        total += strlen(sgs_publish_file(*set, i)) + 1;
    if (rc == SGS_OK && !(*names = sgs_alloc_array(total, 1)))
        rc = sgs_error_set(err, SGS_ENOMEM, "no memory for the outputs' names");
    for (size_t i = 0, at = 0; rc == SGS_OK && i < n; i++) {
        size_t len = strlen(sgs_publish_file(*set, i)) + 1;
        memcpy(*names + at, sgs_publish_file(*set, i), len);
        at += len;
    }
    *bytes = rc == SGS_OK ? total : 0;
    return rc;
}

int sgs_dist_publish_open(const sgs_dist_t *d, const sgs_publish_output_t *outputs, size_t n,
                          const char *command, sgs_dist_publish_t **out, sgs_error_t *err)
{
    *out = NULL;
    sgs_dist_publish_t *p = sgs_calloc_array(1, sizeof *p);
    int rc = p ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for the outputs");
    if (rc == SGS_OK && n > SGS_PUBLISH_MAX_OUTPUTS)
        rc = sgs_error_set(err, SGS_EINVAL, "%zu outputs: at most %d", n, SGS_PUBLISH_MAX_OUTPUTS);
    char *names = NULL;
    size_t bytes = 0;
    if (rc == SGS_OK && d->rank == 0)
        rc = open_on_first(outputs, n, command, &p->set, &names, &bytes, err);
    rc = sgs_dist_agree(d, rc, err);
    static const char nothing = 0;
    if (rc == SGS_OK) /* only process 0 sends: everyone receives its names */
        rc = sgs_dist_gather_all(d, names ? names : &nothing, bytes, (void **)&p->files, NULL, err);
    sgs_free(names);
    if (rc) {
        sgs_dist_publish_close(p); /* process 0 removes the generation it began */
        return rc;
    }
    p->d = *d;
    p->n = n;
    for (size_t i = 0, at = 0; i < n; i++) {
        p->file[i] = p->files + at;
        at += strlen(p->file[i]) + 1;
    }
    *out = p;
    return SGS_OK;
}

const char *sgs_dist_publish_file(const sgs_dist_publish_t *p, size_t i)
{
    return i < p->n ? p->file[i] : NULL;
}

const char *sgs_dist_publish_path(const sgs_dist_publish_t *p, size_t i)
{
    return p->set && i < p->n ? sgs_publish_path(p->set, i) : NULL;
}

size_t sgs_dist_publish_stale_removed(const sgs_dist_publish_t *p)
{
    return p && p->set ? sgs_publish_stale_removed(p->set) : 0;
}

/* This process's writes of every output on disk. */
static int flush_files(const sgs_dist_publish_t *p, sgs_error_t *err)
{
    for (size_t i = 0; i < p->n; i++)
        if (sgs_fsync_path(p->file[i]) != 0)
            return sgs_error_set_os(err, SGS_EIO, errno, p->file[i], "flushing to disk failed");
    return SGS_OK;
}

int sgs_dist_publish_commit(sgs_dist_publish_t *p, int rc, sgs_error_t *err)
{
    rc = sgs_dist_agree(&p->d, rc, err);
    if (rc == SGS_OK)
        rc = sgs_dist_agree(&p->d, flush_files(p, err), err);
    if (rc == SGS_OK && p->d.rank == 0) {
        rc = sgs_publish_seal(p->set, err);
        if (rc == SGS_OK)
            rc = sgs_publish_switch(p->set, err);
    }
    rc = sgs_dist_agree(&p->d, rc, err);
    p->committed = rc == SGS_OK;
    return rc;
}

void sgs_dist_publish_close(sgs_dist_publish_t *p)
{
    if (!p)
        return;
    if (p->set && p->committed)
        sgs_publish_prune(p->set);
    sgs_publish_close(p->set);
    sgs_free(p->files);
    sgs_free(p);
}
