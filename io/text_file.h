/*
 * io/text_file.h — a small text file read whole (a configuration file, an earlier run's
 * summary.json) and the line and column of a byte in it, for messages that point into it.
 */
#ifndef SGS_TEXT_FILE_H
#define SGS_TEXT_FILE_H

#include "kernels/core.h"

#include <stddef.h>

/* Read `path` whole into a NUL-terminated string *text (free with sgs_free) of *len bytes
 * before the NUL (a NUL inside the file is kept; callers that parse text check for one).
 * `what` names the file in messages ("config file").
 * @return 0; SGS_ENOINPUT "<path>: cannot open <what>: <reason>"; SGS_EIO "<path>: cannot
 * read: <reason>"; SGS_EDATA "<path>: larger than <max_bytes> bytes: not a <what>" when
 * max_bytes > 0 and the file is longer; SGS_ENOMEM. *text is NULL on failure. */
int sgs_text_file_read(const char *path, const char *what, size_t max_bytes, char **text,
                       size_t *len, sgs_error_t *err);

/* Line and column (both from 1) of byte `offset` of text (at most its length). */
void sgs_text_position(const char *text, size_t offset, int *line, int *column);

#endif
