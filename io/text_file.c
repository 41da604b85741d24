/*
 * io/text_file.c — a small text file read whole. See text_file.h.
 */
#include "io/text_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sgs_text_file_read(const char *path, const char *what, size_t max_bytes, char **text,
                       size_t *len, sgs_error_t *err)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sgs_error_set(err, SGS_ENOINPUT, "%s: cannot open %s: %s", path, what,
                             strerror(errno));
    char *buf = NULL;
    size_t used = 0, cap = 0;
    int rc = SGS_OK;
    for (;;) {
        if (used + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = sgs_realloc_array(buf, cap, 1);
            if (!grown) {
                rc = sgs_error_set(err, SGS_ENOMEM, "%s: no memory to read it", path);
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + used, 1, cap - used - 1, f);
        used += got;
        if (max_bytes > 0 && used > max_bytes) {
            rc = sgs_error_set(err, SGS_EDATA, "%s: larger than %zu bytes: not a %s", path,
                               max_bytes, what);
            break;
        }
        if (got == 0)
            break;
    }
    if (rc == SGS_OK && ferror(f))
        rc = sgs_error_set_os(err, SGS_EIO, errno ? errno : EIO, path, "cannot read");
    fclose(f);
    if (rc != SGS_OK) {
        sgs_free(buf);
        return rc;
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return SGS_OK;
}

void sgs_text_position(const char *text, size_t offset, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            ++*line;
            *column = 1;
        } else {
            ++*column;
        }
    }
}
