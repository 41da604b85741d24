/*
 * fuzz/fuzz_support.c — the input files and scratch folders of the fuzz targets. See
 * fuzz_support.h.
 */
#define _GNU_SOURCE /* mkdtemp, O_CLOEXEC */

#include "fuzz/fuzz_support.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sgs__fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\n%s:%d: fuzz property failed: %s\n  ", file, line, cond);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

#define MAX_FILES 4
static char scratch[256];
static char files[MAX_FILES][320];
static size_t n_files;

static char outputs[300];

static void remove_scratch(void)
{
    for (size_t i = 0; i < n_files; i++)
        (void)unlink(files[i]);
    if (outputs[0])
        (void)rmdir(outputs);
    if (scratch[0])
        (void)rmdir(scratch);
}

const char *sgs_fuzz_file_set(sgs_fuzz_file_t *f, const char *name, const uint8_t *data,
                              size_t size)
{
    if (f->path[0] == '\0') {
        if (n_files == MAX_FILES) {
            fprintf(stderr, "fuzz: more than %d input files\n", MAX_FILES);
            abort();
        }
        snprintf(f->path, sizeof f->path, "%s/%s", sgs_fuzz_scratch_dir(), name);
        f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (f->fd < 0) {
            fprintf(stderr, "fuzz: %s: %s\n", f->path, strerror(errno));
            abort();
        }
        snprintf(files[n_files++], sizeof files[0], "%s", f->path);
    }
    if (ftruncate(f->fd, 0) != 0) {
        fprintf(stderr, "fuzz: ftruncate %s: %s\n", f->path, strerror(errno));
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(f->fd, data + done, size - done, (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fprintf(stderr, "fuzz: writing %s: %s\n", f->path, strerror(errno));
            abort();
        }
        done += (size_t)w;
    }
    return f->path;
}

const char *sgs_fuzz_scratch_dir(void)
{
    if (scratch[0])
        return scratch;
    const char *bases[] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        if (!bases[i] || access(bases[i], W_OK) != 0)
            continue;
        snprintf(scratch, sizeof scratch, "%s/sgs-fuzz-XXXXXX", bases[i]);
        if (mkdtemp(scratch)) {
            atexit(remove_scratch);
            return scratch;
        }
    }
    fprintf(stderr, "fuzz: no writable scratch folder (/dev/shm, $TMPDIR, /tmp)\n");
    abort();
}

const char *sgs_fuzz_output_dir(void)
{
    if (outputs[0])
        return outputs;
    snprintf(outputs, sizeof outputs, "%s/out", sgs_fuzz_scratch_dir());
    if (mkdir(outputs, 0700) != 0) {
        fprintf(stderr, "fuzz: mkdir %s: %s\n", outputs, strerror(errno));
        abort();
    }
    return outputs;
}
