/*
 * io/csv_reader.h — a buffered, streaming tokenizer for delimited text: CSV in the sense
 * of RFC 4180 (with any one-byte delimiter) and whitespace-separated columns.
 *
 * The reader holds one buffer (default 1 MiB, grown only when a single record is longer
 * than the buffer, up to a limit) and hands out one record at a time; memory does not
 * depend on the file size. Fields are unquoted in place inside the buffer.
 *
 * Rules (both modes):
 * - A UTF-8 byte order mark (EF BB BF) at the very start of the input is dropped.
 * - A record ends at "\n" or "\r\n" (a "\r" right before the "\n" is not part of the last
 *   field unless it was inside quotes). The last record needs no final newline.
 * - A field that starts with the quote character (") is quoted: inside it the delimiter,
 *   "\r" and "\n" are ordinary characters and a doubled quote ("") stands for one quote.
 *   Characters after the closing quote, up to the next delimiter, are appended as they
 *   are (lenient, like Python's csv module). A quote inside an unquoted field is an
 *   ordinary character (12" vinyl). A quoted field still open at the end of the input is
 *   an error naming the line where the record began.
 * - Blank lines (nothing, or in whitespace mode only blanks, before the newline) are not
 *   records; they are skipped, and line numbers still count them.
 * Delimited mode: fields are separated by every single delimiter byte; ",," is an empty
 * field and a line "a," has two fields. Whitespace mode: fields are separated by runs of
 * spaces and tabs; blanks at the start and end of a line are ignored, so there are no
 * empty fields (except a quoted "").
 *
 * Not thread-safe: one reader per thread. Bytes are not validated as UTF-8.
 */
#ifndef SGS_CSV_READER_H
#define SGS_CSV_READER_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

typedef enum sgs_csv_mode {
    SGS_CSV_DELIMITED = 0, /* fields split at every `delimiter` byte (RFC 4180) */
    SGS_CSV_WHITESPACE = 1 /* fields split at runs of ' ' and '\t' */
} sgs_csv_mode_t;

typedef struct sgs_csv_options {
    sgs_csv_mode_t mode;
    char delimiter;          /* delimited mode: the separator byte; 0 = ','. Not '"', '\r',
                                '\n' or NUL. Ignored in whitespace mode. */
    size_t buffer_bytes;     /* initial buffer size; 0 = 1 MiB. Tests use tiny buffers to
                                exercise records that cross buffer boundaries. >= 2. */
    size_t max_record_bytes; /* a record longer than this is an error; 0 = 64 MiB */
} sgs_csv_options_t;

/* One record. Pointers stay valid until the next sgs_csv_next or sgs_csv_close. */
typedef struct sgs_csv_record {
    size_t n_fields;      /* >= 1 */
    char **fields;        /* n_fields NUL-terminated field texts, unquoted; modifiable */
    const size_t *length; /* length[i] = bytes of fields[i] (fields may contain NUL bytes
                             from the input; length is authoritative) */
    uint64_t line;        /* 1-based line number where the record starts */
} sgs_csv_record_t;

typedef struct sgs_csv_reader sgs_csv_reader_t;

/* Open `path` for reading ("-" is standard input). The reader is owned by the caller:
 * close it with sgs_csv_close. `opt` may be NULL (delimited, ','). `opt->buffer_bytes`
 * bytes are allocated here.
 * @return 0; SGS_ENOINPUT when the file cannot be opened (message names it and why);
 * SGS_EINVAL for a bad option; SGS_ENOMEM. */
int sgs_csv_open(const char *path, const sgs_csv_options_t *opt, sgs_csv_reader_t **out,
                 sgs_error_t *err);

/* Read from `size` bytes of memory instead of a file (borrowed: must outlive the reader;
 * it is copied through the buffer, never modified). `name` is used in messages. */
int sgs_csv_open_memory(const char *data, size_t size, const char *name,
                        const sgs_csv_options_t *opt, sgs_csv_reader_t **out, sgs_error_t *err);

/* Read the next record into *rec.
 * @return 1 when a record was read; 0 at the end of the input (rec untouched); SGS_EDATA
 * for an unterminated quoted field or a record longer than max_record_bytes (message:
 * "<name>:<line>: ..."); SGS_EIO when reading fails; SGS_ENOMEM. After an error the reader
 * only returns the same error. */
int sgs_csv_next(sgs_csv_reader_t *r, sgs_csv_record_t *rec, sgs_error_t *err);

/* Bytes of input consumed so far (including the byte order mark), for progress. */
uint64_t sgs_csv_bytes_read(const sgs_csv_reader_t *r);

/* Total size of the input in bytes when known (a regular file, or memory), else 0. */
uint64_t sgs_csv_total_bytes(const sgs_csv_reader_t *r);

/* Name used in messages (the path, "<stdin>", or the memory name). */
const char *sgs_csv_name(const sgs_csv_reader_t *r);

/* Close the input and free the reader. NULL is fine. */
void sgs_csv_close(sgs_csv_reader_t *r);

#endif
