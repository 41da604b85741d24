/*
 * io/csv_reader.c — buffered delimited-text tokenizer. See csv_reader.h for the rules.
 *
 * How it works: the input is read in large blocks into one buffer. A record is parsed by
 * a small state machine with a read index i and a write index o (o <= i always), so that
 * unquoting is done in place: a quoted field's text starts after its opening quote, and
 * bytes are moved only after a doubled quote ("" folds to ") or text after a closing
 * quote, within that field. Each field is NUL-terminated over its delimiter. Field boundaries are
 * kept as offsets from the record start, which makes the parse resumable: when i reaches
 * the end of the data, the partial record is moved to the front of the buffer, more input
 * is read behind it, and parsing continues where it stopped. The buffer grows (doubling)
 * only when one record does not fit in it.
 *
 * The hot path scans 8 bytes at a time for the few bytes that matter (delimiter, newline;
 * quote and newline inside quotes) and copies nothing.
 */
#include "io/csv_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_BUFFER_BYTES ((size_t)1 << 20)
#define DEFAULT_MAX_RECORD_BYTES ((size_t)64 << 20)

/* Byte classes for unquoted text: 0 ordinary, 1 ends a field, 2 ends a record. */
enum { CLS_ORDINARY = 0, CLS_FIELD_END = 1, CLS_LINE_END = 2 };

struct sgs_csv_reader {
    /* input: a file descriptor, or memory */
    int fd;          /* -1 for memory input */
    int close_fd;    /* 1 when the reader opened fd */
    const char *mem; /* memory input (borrowed) */
    size_t mem_size, mem_pos;
    int eof;              /* the input has no more bytes */
    char name[1024];      /* for messages */
    uint64_t total_bytes; /* 0 when unknown */

    /* tokenizer settings */
    sgs_csv_mode_t mode;
    unsigned char delimiter;
    unsigned char cls[256];        /* classes of bytes outside quotes */
    unsigned char cls_quoted[256]; /* 1 for '"' and '\n', the bytes that matter in quotes */
    uint64_t special[4];           /* bytes of class != 0 outside quotes, each repeated 8x */
    int n_special;
    size_t max_record;

    /* the buffer: data in [pos, end); buf has cap + 1 bytes (room for a final NUL) */
    char *buf;
    size_t cap, pos, end;
    uint64_t discarded; /* input bytes dropped from the front of the buffer so far */
    uint64_t line;      /* 1-based line number at pos */
    int bom_checked;

    /* the current record's fields, offsets relative to the record start */
    size_t fields_cap;
    size_t *start;
    size_t *length;
    char **ptr;

    /* sticky error */
    int failed;
    char failed_message[SGS_ERROR_MESSAGE_MAX];
};

/* ---- Scanning ------------------------------------------------------------------------
 * Find the next byte of interest 8 bytes at a time (SWAR): a word x has a byte equal to b
 * exactly when y = x ^ (b * 0x01..01) has a zero byte, and (y - 0x01..01) & ~y & 0x80..80
 * is nonzero exactly then, its lowest set bit marking the first such byte (little-endian
 * loads; "Bit Twiddling Hacks", determine if a word has a zero byte). */

#define SWAR_ONES UINT64_C(0x0101010101010101)
#define SWAR_HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t swar_match(uint64_t x, uint64_t pattern)
{
    uint64_t y = x ^ pattern;
    return (y - SWAR_ONES) & ~y & SWAR_HIGHS;
}

/* First index in [i, end) whose byte has a nonzero class (end if none). `patterns` are
 * the n (1..4) bytes with a nonzero class, each repeated in all 8 bytes. */
static size_t scan_ordinary(const char *buf, size_t i, size_t end, const unsigned char *cls,
                            const uint64_t *patterns, int n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (i + 8 <= end) {
        uint64_t x;
        memcpy(&x, buf + i, 8);
        uint64_t m = swar_match(x, patterns[0]);
        for (int p = 1; p < n; p++)
            m |= swar_match(x, patterns[p]);
        if (m)
            return i + (size_t)(__builtin_ctzll(m) >> 3);
        i += 8;
    }
#else
    (void)patterns;
    (void)n;
#endif
    while (i < end && cls[(unsigned char)buf[i]] == 0)
        i++;
    return i;
}

static const uint64_t quoted_patterns[2] = {SWAR_ONES * '"', SWAR_ONES * '\n'};

/* ---- Opening and closing --------------------------------------------------------- */

/* Allocate a reader with options checked and the class table built. */
static int reader_new(const sgs_csv_options_t *opt, const char *name, sgs_csv_reader_t **out,
                      sgs_error_t *err)
{
    sgs_csv_options_t o = {0};
    if (opt)
        o = *opt;
    if (o.mode != SGS_CSV_DELIMITED && o.mode != SGS_CSV_WHITESPACE)
        return sgs_error_set(err, SGS_EINVAL, "csv reader: unknown mode %d", (int)o.mode);
    if (o.delimiter == 0)
        o.delimiter = ',';
    if (o.mode == SGS_CSV_DELIMITED &&
        (o.delimiter == '"' || o.delimiter == '\n' || o.delimiter == '\r'))
        return sgs_error_set(err, SGS_EINVAL,
                             "csv reader: the delimiter cannot be a quote, "
                             "carriage return or newline");
    if (o.buffer_bytes == 0)
        o.buffer_bytes = DEFAULT_BUFFER_BYTES;
    if (o.buffer_bytes < 2)
        o.buffer_bytes = 2;
    if (o.max_record_bytes == 0)
        o.max_record_bytes = DEFAULT_MAX_RECORD_BYTES;
    if (o.buffer_bytes > o.max_record_bytes)
        o.buffer_bytes = o.max_record_bytes;

    sgs_csv_reader_t *r = calloc(1, sizeof *r);
    if (!r)
        return sgs_error_set(err, SGS_ENOMEM, "%s: out of memory", name);
    r->fd = -1;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->mode = o.mode;
    r->delimiter = (unsigned char)o.delimiter;
    r->max_record = o.max_record_bytes;
    r->cap = o.buffer_bytes;
    r->line = 1;
    r->buf = sgs_alloc_array(r->cap + 1, 1);
    r->fields_cap = 16;
    r->start = sgs_alloc_array(r->fields_cap, sizeof *r->start);
    r->length = sgs_alloc_array(r->fields_cap, sizeof *r->length);
    r->ptr = sgs_alloc_array(r->fields_cap, sizeof *r->ptr);
    if (!r->buf || !r->start || !r->length || !r->ptr) {
        sgs_csv_close(r);
        return sgs_error_set(err, SGS_ENOMEM, "%s: out of memory for the read buffer", name);
    }
    r->cls['\n'] = CLS_LINE_END;
    if (r->mode == SGS_CSV_WHITESPACE) {
        r->cls[' '] = CLS_FIELD_END;
        r->cls['\t'] = CLS_FIELD_END;
        r->cls['\r'] = CLS_FIELD_END;
    } else {
        r->cls[r->delimiter] = CLS_FIELD_END;
    }
    for (int b = 0; b < 256; b++)
        if (r->cls[b] != CLS_ORDINARY)
            r->special[r->n_special++] = SWAR_ONES * (uint64_t)b;
    r->cls_quoted['"'] = 1;
    r->cls_quoted['\n'] = 1;
    *out = r;
    return SGS_OK;
}

int sgs_csv_open(const char *path, const sgs_csv_options_t *opt, sgs_csv_reader_t **out,
                 sgs_error_t *err)
{
    *out = NULL;
    int use_stdin = strcmp(path, "-") == 0;
    sgs_csv_reader_t *r;
    int rc = reader_new(opt, use_stdin ? "<stdin>" : path, &r, err);
    if (rc)
        return rc;
    if (use_stdin) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY);
        if (r->fd < 0) {
            int e = errno;
            sgs_csv_close(r);
            return sgs_error_set(err, SGS_ENOINPUT, "%s: cannot open: %s", path, strerror(e));
        }
        r->close_fd = 1;
    }
    struct stat st;
    if (fstat(r->fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            sgs_csv_close(r);
            return sgs_error_set(err, SGS_ENOINPUT, "%s: is a folder, not a file", path);
        }
        if (S_ISREG(st.st_mode))
            r->total_bytes = (uint64_t)st.st_size;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    *out = r;
    return SGS_OK;
}

int sgs_csv_open_memory(const char *data, size_t size, const char *name,
                        const sgs_csv_options_t *opt, sgs_csv_reader_t **out, sgs_error_t *err)
{
    *out = NULL;
    sgs_csv_reader_t *r;
    int rc = reader_new(opt, name ? name : "<memory>", &r, err);
    if (rc)
        return rc;
    r->mem = data;
    r->mem_size = size;
    r->total_bytes = size;
    *out = r;
    return SGS_OK;
}

void sgs_csv_close(sgs_csv_reader_t *r)
{
    if (!r)
        return;
    if (r->close_fd && r->fd >= 0)
        close(r->fd);
    sgs_free(r->buf);
    sgs_free(r->start);
    sgs_free(r->length);
    sgs_free(r->ptr);
    free(r);
}

uint64_t sgs_csv_bytes_read(const sgs_csv_reader_t *r)
{
    return r->discarded + r->pos;
}

uint64_t sgs_csv_total_bytes(const sgs_csv_reader_t *r)
{
    return r->total_bytes;
}

const char *sgs_csv_name(const sgs_csv_reader_t *r)
{
    return r->name;
}

/* ---- Filling the buffer ------------------------------------------------------------ */

/* Record a sticky error and report it. */
static int fail(sgs_csv_reader_t *r, sgs_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(sgs_csv_reader_t *r, sgs_error_t *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->failed_message, sizeof r->failed_message, fmt, ap);
    va_end(ap);
    r->failed = code;
    return sgs_error_set(err, code, "%s", r->failed_message);
}

/* Read more input behind [keep, end): the bytes from `keep` on are moved to the front of
 * the buffer first (indices *i and *o, which are >= keep, move with them), and the buffer
 * doubles when they fill it. Returns 1 when bytes were added, 0 at the end of the input,
 * or a negative error. */
static int refill(sgs_csv_reader_t *r, size_t keep, size_t *i, size_t *o, uint64_t rec_line,
                  sgs_error_t *err)
{
    if (r->eof)
        return 0;
    if (keep > 0) {
        memmove(r->buf, r->buf + keep, r->end - keep);
        r->end -= keep;
        r->pos -= keep;
        *i -= keep;
        *o -= keep;
        r->discarded += keep;
    }
    if (r->end == r->cap) {
        if (r->cap >= r->max_record)
            return fail(r, err, SGS_EDATA,
                        "%s:%llu: record longer than %zu bytes (a quote that is never closed?)",
                        r->name, (unsigned long long)rec_line, r->max_record);
        size_t new_cap = r->cap > r->max_record / 2 ? r->max_record : 2 * r->cap;
        char *grown = sgs_realloc_array(r->buf, new_cap + 1, 1);
        if (!grown)
            return fail(r, err, SGS_ENOMEM, "%s:%llu: out of memory for a %zu-byte record", r->name,
                        (unsigned long long)rec_line, new_cap);
        r->buf = grown;
        r->cap = new_cap;
    }
    size_t room = r->cap - r->end;
    if (r->fd < 0) {
        size_t take = r->mem_size - r->mem_pos;
        if (take > room)
            take = room;
        memcpy(r->buf + r->end, r->mem + r->mem_pos, take);
        r->mem_pos += take;
        r->end += take;
        if (take == 0)
            r->eof = 1;
        return (int)(take > 0);
    }
    for (;;) {
        ssize_t got = read(r->fd, r->buf + r->end, room);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return fail(r, err, SGS_EIO, "%s: read failed after %llu bytes: %s", r->name,
                        (unsigned long long)(r->discarded + r->end), strerror(errno));
        if (got == 0)
            r->eof = 1;
        r->end += (size_t)got;
        return got > 0;
    }
}

/* Drop a UTF-8 byte order mark at the start of the input. */
static int skip_bom(sgs_csv_reader_t *r, sgs_error_t *err)
{
    r->bom_checked = 1;
    while (r->end - r->pos < 3 && !r->eof) {
        size_t i = r->pos, o = r->pos;
        int got = refill(r, r->pos, &i, &o, 1, err);
        if (got < 0)
            return got;
    }
    if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3) == 0)
        r->pos += 3;
    return SGS_OK;
}

/* ---- Records ---------------------------------------------------------------------- */

/* Make room for field number n (0-based). */
static int ensure_fields(sgs_csv_reader_t *r, size_t n, sgs_error_t *err)
{
    if (n < r->fields_cap)
        return SGS_OK;
    size_t cap = 2 * r->fields_cap;
    size_t *s = sgs_realloc_array(r->start, cap, sizeof *s);
    if (s)
        r->start = s;
    size_t *l = sgs_realloc_array(r->length, cap, sizeof *l);
    if (l)
        r->length = l;
    char **p = sgs_realloc_array(r->ptr, cap, sizeof *p);
    if (p)
        r->ptr = p;
    if (!s || !l || !p)
        return fail(r, err, SGS_ENOMEM, "%s: out of memory for %zu fields", r->name, cap);
    r->fields_cap = cap;
    return SGS_OK;
}

typedef enum {
    ST_FIELD_START, /* before the first byte of a field */
    ST_UNQUOTED,    /* inside an unquoted field, or after a closing quote */
    ST_QUOTED,      /* inside quotes */
    ST_QUOTE_SEEN   /* a quote inside quotes: doubled, or the closing one */
} parse_state_t;

int sgs_csv_next(sgs_csv_reader_t *r, sgs_csv_record_t *rec, sgs_error_t *err)
{
    if (r->failed)
        return sgs_error_set(err, r->failed, "%s", r->failed_message);
    if (!r->bom_checked) {
        int rc = skip_bom(r, err);
        if (rc)
            return rc;
    }
    const int ws = r->mode == SGS_CSV_WHITESPACE;
    for (;;) { /* one line per pass; blank lines go round again */
        size_t rec_start = r->pos;
        size_t i = r->pos, o = r->pos; /* read and write indices into buf */
        size_t nf = 0;                 /* finished fields */
        size_t field_start = 0;        /* current field's start, relative to rec_start */
        size_t protect = 0;            /* relative write offset up to which bytes were quoted */
        int field_quoted = 0;
        uint64_t rec_line = r->line;
        parse_state_t st = ST_FIELD_START;
        int at_eof = 0;

        for (;;) {
            if (i == r->end) {
                int got = refill(r, rec_start, &i, &o, rec_line, err);
                if (got < 0)
                    return got;
                rec_start = r->pos; /* the record moved to the front: i and o moved too */
                if (got == 0) {
                    at_eof = 1;
                    break;
                }
                continue;
            }
            char *buf = r->buf;
            unsigned char c = (unsigned char)buf[i];
            if (st == ST_UNQUOTED) {
                /* Hot loop: ordinary bytes up to a delimiter or the end of the data. */
                const size_t end = r->end;
                size_t j = scan_ordinary(buf, i, end, r->cls, r->special, r->n_special);
                if (o != i)
                    memmove(buf + o, buf + i, j - i);
                o += j - i;
                i = j;
                if (i == end)
                    continue;
                c = (unsigned char)buf[i];
                /* c ends the field (and maybe the record) */
                if (c == '\n')
                    break;
                i++;
                int rc = ensure_fields(r, nf, err);
                if (rc)
                    return rc;
                r->start[nf] = field_start;
                r->length[nf] = o - rec_start - field_start;
                buf[o] = '\0'; /* o < i: over the delimiter or earlier */
                nf++;
                o = i; /* the next field starts right after the delimiter */
                field_start = i - rec_start;
                field_quoted = 0;
                st = ST_FIELD_START;
                continue;
            }
            if (st == ST_QUOTED) {
                size_t j = scan_ordinary(buf, i, r->end, r->cls_quoted, quoted_patterns, 2);
                if (o != i) /* only after a doubled quote */
                    memmove(buf + o, buf + i, j - i);
                o += j - i;
                i = j;
                if (i == r->end)
                    continue;
                if (buf[i] == '\n') {
                    r->line++;
                    buf[o++] = buf[i++];
                } else {
                    i++;
                    st = ST_QUOTE_SEEN;
                }
                continue;
            }
            if (st == ST_QUOTE_SEEN) {
                if (c == '"') { /* doubled quote */
                    buf[o++] = '"';
                    i++;
                    st = ST_QUOTED;
                } else { /* closing quote: the rest is unquoted text */
                    protect = o - rec_start;
                    st = ST_UNQUOTED;
                }
                continue;
            }
            /* ST_FIELD_START */
            if (ws && r->cls[c] == CLS_FIELD_END) {
                i++; /* blanks between fields */
                o = i;
                field_start = o - rec_start;
                continue;
            }
            if (c == '"') {
                i++;
                o = i; /* the field's text starts after the quote */
                field_start = i - rec_start;
                field_quoted = 1;
                st = ST_QUOTED;
                continue;
            }
            if (c == '\n')
                break;
            st = ST_UNQUOTED; /* c is looked at again there */
        }

        /* End of the record: buf[i] is its '\n', or i is at the end of the input. */
        if (at_eof && i == rec_start)
            return 0; /* nothing left */
        if (at_eof && st == ST_QUOTED)
            return fail(r, err, SGS_EDATA,
                        "%s:%llu: quoted field not closed before the end of the file", r->name,
                        (unsigned long long)rec_line);
        if (at_eof && st == ST_QUOTE_SEEN)
            protect = o - rec_start; /* the input ended right after a closing quote */
        if (!at_eof) {
            i++; /* consume the newline */
            r->line++;
        }
        r->pos = i;
        int open_field = ws ? st != ST_FIELD_START : 1;
        if (open_field) {
            size_t len = o - rec_start - field_start;
            /* "\r\n": the '\r' is not data, unless it was inside quotes */
            if (!ws && len > 0 && o - rec_start > protect && r->buf[o - 1] == '\r') {
                o--;
                len--;
            }
            int rc = ensure_fields(r, nf, err);
            if (rc)
                return rc;
            r->start[nf] = field_start;
            r->length[nf] = len;
            r->buf[o] = '\0'; /* o <= i <= end < cap + 1 */
            nf++;
        }
        int blank = nf == 0 || (nf == 1 && r->length[0] == 0 && !field_quoted);
        if (blank) {
            if (at_eof)
                return 0;
            continue;
        }
        for (size_t k = 0; k < nf; k++)
            r->ptr[k] = r->buf + rec_start + r->start[k];
        rec->n_fields = nf;
        rec->fields = r->ptr;
        rec->length = r->length;
        rec->line = rec_line;
        return 1;
    }
}
