/*
 * fuzz/fuzz_csv_import.c — libFuzzer target for CSV import: the tokenizer on a buffer
 * (io/csv_reader.h), the field parsers and the whole conversion to HDF5 (io/csv_import.h).
 *
 * Input layout (tests/fuzz_corpus/make_seeds.sh writes seeds in it):
 *   byte 0   options: bits 0-2 time format (mod 6: auto iso yyyymmdd mdy dmy unix),
 *            bit 3 whitespace mode, bits 4-5 header (auto yes no auto), bit 6 a column
 *            line follows, bit 7 skip bad rows
 *   byte 1   bits 0-1 the delimiter (, ; TAB |), bits 2-7 a small buffer size 2..65
 *   [line]   with bit 6: the column references "customer\ttime\tamount\tchannel\tcategory"
 *            up to '\n' (an empty or missing entry leaves it out); else 1, 2, 3
 *   rest     the text to import
 *
 * What runs, and the properties checked beyond "no crash, no leak, no undefined
 * behaviour":
 * 1. The tokenizer, from memory, with the default 1 MiB buffer and with the small buffer
 *    (records cross buffer ends and the buffer grows), against a plain byte-at-a-time
 *    reference of the rules in csv_reader.h written here: the same records (fields, their
 *    bytes and lengths, line numbers), the same end or error (line included), and every
 *    byte consumed. A third pass with a 24-byte record limit only has to stop cleanly.
 * 2. The field parsers on every field: an accepted integer is what strtoll reads, an
 *    accepted decimal is bit for bit what strtod (C locale) reads, an accepted time is at
 *    or after 1970.
 * 3. The import (one thread, 3-row batches, the small buffer) from an in-memory file to a
 *    scratch folder in memory: the row counts add up; on success the output reads back
 *    through io/h5_input.h with as many rows, the same time range and refund count; on
 *    failure no output and no temporary file is left; no file descriptor is leaked.
 */
#include "fuzz/fuzz_support.h"
#include "io/csv_import.h"
#include "io/csv_reader.h"
#include "io/h5_input.h"

#include <hdf5.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SPEC 200
/* 10000-01-01: every time the import accepts (4-digit years, offsets) is before it */
#define FAR_FUTURE_S INT64_C(253402300800)

static sgs_fuzz_file_t input_file = {-1, ""};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the readers report through sgs_error_t */
    /* Let HDF5 keep what it frees for reuse, without limits: every file open allocates
     * and clears its metadata cache (about a megabyte), which under ASan is a fresh mmap,
     * page faults and a TLB flush each time; reused, it is a memset. This halves the time
     * of an input. (HDF5 itself is not instrumented, so nothing is hidden from ASan.) */
    H5set_free_list_limits(-1, -1, -1, -1, -1, -1);
    return 0;
}

/* ---- The reference tokenizer ------------------------------------------------------------
 * The rules of csv_reader.h, one byte at a time, over the whole input in memory. Records
 * are stored one after the other: for each, its line, field count, then per field its
 * length and bytes. */

typedef struct ref_records {
    unsigned char *bytes;
    size_t used, cap;
    size_t n_records;
    int failed;           /* 1: a quoted field open at the end */
    uint64_t failed_line; /* the line where that record began */
} ref_records_t;

static void ref_put(ref_records_t *r, const void *p, size_t n)
{
    if (r->used + n > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->used + n)
            cap *= 2;
        r->bytes = realloc(r->bytes, cap);
        SGS_FUZZ_CHECK(r->bytes != NULL, "out of memory in the harness");
        r->cap = cap;
    }
    memcpy(r->bytes + r->used, p, n);
    r->used += n;
}

typedef struct ref_field {
    size_t start, len;
} ref_field_t;

/* Tokenize data[0, size) in `mode` with `delim`; the records go to *out. */
static void ref_tokenize(const unsigned char *data, size_t size, int ws, unsigned char delim,
                         ref_records_t *out)
{
    memset(out, 0, sizeof *out);
    unsigned char *text = malloc(size + 1); /* the current record's field bytes */
    ref_field_t *fields = malloc((size + 1) * sizeof *fields);
    SGS_FUZZ_CHECK(text && fields, "out of memory in the harness");
    size_t p = size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    uint64_t line = 1;
    enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_SEEN } st;
    while (p < size) {
        uint64_t rec_line = line;
        size_t n_text = 0, nf = 0, field_start = 0;
        long protect = -1; /* field length at its last closing quote, -1 when none */
        int field_quoted = 0, ended_by_newline = 0;
        st = FIELD_START;
        while (p < size && !ended_by_newline) {
            unsigned char c = data[p];
            int field_end = ws ? (c == ' ' || c == '\t' || c == '\r') : c == delim;
            switch (st) {
            case FIELD_START:
                if (ws && field_end) {
                    p++;
                } else if (c == '"') {
                    field_quoted = 1;
                    st = QUOTED;
                    p++;
                } else if (c == '\n') {
                    ended_by_newline = 1;
                    p++;
                } else {
                    st = UNQUOTED;
                }
                break;
            case UNQUOTED:
                p++;
                if (c == '\n') {
                    ended_by_newline = 1;
                } else if (field_end) {
                    fields[nf].start = field_start;
                    fields[nf].len = n_text - field_start;
                    nf++;
                    field_start = n_text;
                    field_quoted = 0;
                    protect = -1;
                    st = FIELD_START;
                } else {
                    text[n_text++] = c;
                }
                break;
            case QUOTED:
                p++;
                if (c == '"') {
                    st = QUOTE_SEEN;
                } else {
                    line += c == '\n';
                    text[n_text++] = c;
                }
                break;
            case QUOTE_SEEN:
                if (c == '"') {
                    text[n_text++] = '"';
                    st = QUOTED;
                    p++;
                } else {
                    protect = (long)(n_text - field_start);
                    st = UNQUOTED; /* c is looked at again there */
                }
                break;
            }
        }
        if (!ended_by_newline && st == QUOTED) {
            out->failed = 1;
            out->failed_line = rec_line;
            break;
        }
        if (!ended_by_newline && st == QUOTE_SEEN)
            protect = (long)(n_text - field_start);
        if (ended_by_newline)
            line++;
        if (ws ? st != FIELD_START : 1) {
            size_t len = n_text - field_start;
            if (!ws && len > 0 && (long)len > protect && text[n_text - 1] == '\r')
                len--;
            fields[nf].start = field_start;
            fields[nf].len = len;
            nf++;
        }
        if (nf == 0 || (nf == 1 && fields[0].len == 0 && !field_quoted))
            continue; /* a blank line */
        ref_put(out, &rec_line, sizeof rec_line);
        ref_put(out, &nf, sizeof nf);
        for (size_t k = 0; k < nf; k++) {
            ref_put(out, &fields[k].len, sizeof fields[k].len);
            ref_put(out, text + fields[k].start, fields[k].len);
        }
        out->n_records++;
    }
    free(text);
    free(fields);
}

/* ---- 1. The tokenizer against the reference -------------------------------------------- */

static void compare_reader(const unsigned char *data, size_t size, const sgs_csv_options_t *opt,
                           const ref_records_t *ref, const char *what)
{
    sgs_csv_reader_t *r = NULL;
    sgs_error_t err = {0, ""};
    int rc = sgs_csv_open_memory((const char *)data, size, "fuzz.csv", opt, &r, &err);
    SGS_FUZZ_CHECK(rc == 0, "%s: open failed: %s", what, err.message);
    size_t at = 0, n = 0;
    sgs_csv_record_t rec;
    while ((rc = sgs_csv_next(r, &rec, &err)) == 1) {
        SGS_FUZZ_CHECK(n < ref->n_records, "%s: record %zu (line %llu) beyond the reference's %zu",
                       what, n, (unsigned long long)rec.line, ref->n_records);
        uint64_t line;
        size_t nf;
        memcpy(&line, ref->bytes + at, sizeof line);
        memcpy(&nf, ref->bytes + at + sizeof line, sizeof nf);
        at += sizeof line + sizeof nf;
        SGS_FUZZ_CHECK(rec.line == line && rec.n_fields == nf,
                       "%s: record %zu: line %llu with %zu fields, reference line %llu with %zu",
                       what, n, (unsigned long long)rec.line, rec.n_fields,
                       (unsigned long long)line, nf);
        for (size_t k = 0; k < nf; k++) {
            size_t len;
            memcpy(&len, ref->bytes + at, sizeof len);
            at += sizeof len;
            SGS_FUZZ_CHECK(rec.length[k] == len &&
                               memcmp(rec.fields[k], ref->bytes + at, len) == 0 &&
                               rec.fields[k][len] == '\0',
                           "%s: line %llu field %zu: \"%.*s\" (%zu bytes), reference \"%.*s\"",
                           what, (unsigned long long)line, k, (int)rec.length[k], rec.fields[k],
                           rec.length[k], (int)len, (const char *)ref->bytes + at);
            at += len;
        }
        n++;
    }
    SGS_FUZZ_CHECK(n == ref->n_records, "%s: %zu records, reference %zu", what, n, ref->n_records);
    if (ref->failed) {
        char where[48];
        snprintf(where, sizeof where, ":%llu: ", (unsigned long long)ref->failed_line);
        SGS_FUZZ_CHECK(rc == SGS_EDATA && strstr(err.message, where),
                       "%s: rc %d \"%s\", reference: quote open since line %llu", what, rc,
                       err.message, (unsigned long long)ref->failed_line);
        /* the error sticks */
        SGS_FUZZ_CHECK(sgs_csv_next(r, &rec, &err) == SGS_EDATA, "%s: error not sticky", what);
    } else {
        SGS_FUZZ_CHECK(rc == 0, "%s: rc %d \"%s\" where the reference ends", what, rc, err.message);
        SGS_FUZZ_CHECK(sgs_csv_bytes_read(r) == size, "%s: %llu of %zu bytes consumed", what,
                       (unsigned long long)sgs_csv_bytes_read(r), size);
        SGS_FUZZ_CHECK(sgs_csv_next(r, &rec, &err) == 0, "%s: a record after the end", what);
    }
    sgs_csv_close(r);
}

static void limited_reader(const unsigned char *data, size_t size, sgs_csv_options_t opt)
{
    opt.max_record_bytes = 24;
    sgs_csv_reader_t *r = NULL;
    sgs_error_t err = {0, ""};
    SGS_FUZZ_CHECK(sgs_csv_open_memory((const char *)data, size, "fuzz.csv", &opt, &r, &err) == 0,
                   "open failed: %s", err.message);
    sgs_csv_record_t rec;
    int rc;
    while ((rc = sgs_csv_next(r, &rec, &err)) == 1)
        for (size_t k = 0; k < rec.n_fields; k++)
            SGS_FUZZ_CHECK(rec.length[k] <= 24, "a %zu-byte field with a 24-byte record limit",
                           rec.length[k]);
    SGS_FUZZ_CHECK(rc == 0 || rc == SGS_EDATA, "rc %d \"%s\"", rc, err.message);
    sgs_csv_close(r);
}

/* ---- 2. Field parsers ---------------------------------------------------------------------- */

static void trimmed(const char *s, size_t len, char *buf, size_t size)
{
    while (len > 0 && strchr(" \t\r\n", *s) && *s) {
        s++;
        len--;
    }
    while (len > 0 && strchr(" \t\r\n", s[len - 1]) && s[len - 1])
        len--;
    len = len < size - 1 ? len : size - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
}

static void fuzz_fields(const char *s, size_t len, sgs_time_format_t format)
{
    char buf[160];
    const char *reason = NULL;
    int64_t i64;
    if (sgs_import_parse_int64(s, len, &i64, &reason) == SGS_OK) {
        trimmed(s, len, buf, sizeof buf);
        errno = 0;
        long long expect = strtoll(buf, NULL, 10);
        SGS_FUZZ_CHECK(errno == 0 && expect == i64, "integer \"%s\" read as %lld, strtoll %lld",
                       buf, (long long)i64, expect);
    }
    double d;
    if (sgs_import_parse_double(s, len, &d, &reason) == SGS_OK) {
        trimmed(s, len, buf, sizeof buf);
        double expect = strtod(buf, NULL);
        SGS_FUZZ_CHECK(isfinite(d) && memcmp(&d, &expect, sizeof d) == 0,
                       "number \"%s\" read as %.17g, strtod %.17g", buf, d, expect);
    }
    int64_t t;
    if (sgs_import_parse_time(s, len, format, &t, &reason) == SGS_OK)
        SGS_FUZZ_CHECK(t >= 0, "time \"%.*s\" is %lld", (int)len, s, (long long)t);
}

static void fuzz_parsers(const unsigned char *data, size_t size, const sgs_csv_options_t *opt,
                         sgs_time_format_t format)
{
    sgs_csv_reader_t *r = NULL;
    sgs_error_t err = {0, ""};
    if (sgs_csv_open_memory((const char *)data, size, "fuzz.csv", opt, &r, &err) != 0)
        return;
    sgs_csv_record_t rec;
    while (sgs_csv_next(r, &rec, &err) == 1)
        for (size_t k = 0; k < rec.n_fields; k++)
            fuzz_fields(rec.fields[k], rec.length[k], format);
    sgs_csv_close(r);
}

/* ---- 3. The import -------------------------------------------------------------------- */

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    SGS_FUZZ_CHECK(d != NULL, "cannot list %s", dir);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void fuzz_import(const unsigned char *data, size_t size, const sgs_import_options_t *opt)
{
    const char *in_path = sgs_fuzz_file_set(&input_file, "fuzz.csv", data, size);
    const char *dir = sgs_fuzz_output_dir();
    char out_path[300];
    snprintf(out_path, sizeof out_path, "%s/out.h5", dir);
    size_t fds_before = count_entries("/proc/self/fd");
    sgs_import_stats_t st;
    sgs_error_t err = {0, ""};
    int rc = sgs_csv_import(in_path, out_path, opt, &st, &err);

    uint64_t skipped = 0;
    for (int q = 0; q < SGS_IMPORT_N_REASONS; q++)
        skipped += st.n_skipped[q];
    SGS_FUZZ_CHECK(st.n_imported + skipped <= st.n_rows_read,
                   "%llu imported + %llu skipped > %llu read", (unsigned long long)st.n_imported,
                   (unsigned long long)skipped, (unsigned long long)st.n_rows_read);
    SGS_FUZZ_CHECK(st.n_examples <= SGS_IMPORT_MAX_EXAMPLES, "%zu examples", st.n_examples);
    if (rc) {
        SGS_FUZZ_CHECK(rc < 0 && err.message[0], "rc %d without a message", rc);
        SGS_FUZZ_CHECK(count_entries(dir) == 0, "a failed import (%s) left a file in %s",
                       err.message, dir);
    } else {
        SGS_FUZZ_CHECK(st.n_imported > 0 && st.n_imported + skipped == st.n_rows_read &&
                           st.n_refunds + st.n_zero_amount <= st.n_imported &&
                           st.min_time_s <= st.max_time_s && st.n_customers <= st.n_imported,
                       "inconsistent stats: read %llu imported %llu skipped %llu refunds %llu "
                       "customers %llu",
                       (unsigned long long)st.n_rows_read, (unsigned long long)st.n_imported,
                       (unsigned long long)skipped, (unsigned long long)st.n_refunds,
                       (unsigned long long)st.n_customers);
        sgs_read_options_t ro;
        sgs_read_options_init(&ro);
        ro.now_s = FAR_FUTURE_S;
        sgs_transactions_t tx;
        sgs_read_stats_t rs;
        rc = sgs_h5_read_transactions(out_path, &ro, &tx, &rs, &err);
        SGS_FUZZ_CHECK(rc == 0, "the imported file does not read back: %s", err.message);
        uint64_t refunds = 0;
        for (size_t i = 0; i < tx.n_rows; i++)
            refunds += tx.amount[i] < 0;
        SGS_FUZZ_CHECK(tx.n_rows == st.n_imported && rs.min_time_s == st.min_time_s &&
                           rs.max_time_s == st.max_time_s && refunds == st.n_refunds &&
                           (tx.channel != NULL) == (opt->channel != NULL) &&
                           (tx.category != NULL) == (opt->category != NULL),
                       "read back %zu rows, times %lld..%lld, %llu refunds; import said %llu, "
                       "%lld..%lld, %llu",
                       tx.n_rows, (long long)rs.min_time_s, (long long)rs.max_time_s,
                       (unsigned long long)refunds, (unsigned long long)st.n_imported,
                       (long long)st.min_time_s, (long long)st.max_time_s,
                       (unsigned long long)st.n_refunds);
        sgs_transactions_free(&tx);
        SGS_FUZZ_CHECK(unlink(out_path) == 0, "cannot remove %s", out_path);
        SGS_FUZZ_CHECK(count_entries(dir) == 0, "the import left a file beside its output");
    }
    size_t fds_after = count_entries("/proc/self/fd");
    SGS_FUZZ_CHECK(fds_after == fds_before, "%zu file descriptors before the import, %zu after",
                   fds_before, fds_after);
    ssize_t open_ids = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
    SGS_FUZZ_CHECK(open_ids == 0, "%zd HDF5 objects left open", open_ids);
}

/* ---- The input layout ------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const unsigned flags = data[0], shape = data[1];
    static const char delimiters[4] = {',', ';', '\t', '|'};
    const sgs_time_format_t format = (sgs_time_format_t)((flags & 7u) % 6u);
    const int ws = (flags >> 3) & 1u;
    static const sgs_import_header_t headers[4] = {SGS_IMPORT_HEADER_AUTO, SGS_IMPORT_HEADER_YES,
                                                   SGS_IMPORT_HEADER_NO, SGS_IMPORT_HEADER_AUTO};
    const unsigned char delim = (unsigned char)delimiters[shape & 3u];
    const size_t small_buffer = 2 + (shape >> 2);
    data += 2;
    size -= 2;

    /* the column references */
    char spec_text[MAX_SPEC + 1] = "";
    const char *refs[5] = {"1", "2", "3", NULL, NULL};
    if (flags & 0x40u) {
        const unsigned char *nl = memchr(data, '\n', size);
        size_t len = nl ? (size_t)(nl - data) : size;
        if (len > MAX_SPEC)
            return 0;
        memcpy(spec_text, data, len);
        spec_text[len] = '\0';
        data += nl ? len + 1 : len;
        size -= nl ? len + 1 : len;
        char *s = spec_text;
        for (int q = 0; q < 5; q++) {
            char *tab = s ? strchr(s, '\t') : NULL;
            if (tab)
                *tab = '\0';
            refs[q] = s && *s ? s : NULL;
            s = tab ? tab + 1 : NULL;
        }
    }

    ref_records_t ref;
    ref_tokenize(data, size, ws, delim, &ref);
    sgs_csv_options_t copt = {ws ? SGS_CSV_WHITESPACE : SGS_CSV_DELIMITED, (char)delim, 0, 0};
    compare_reader(data, size, &copt, &ref, "default buffer");
    copt.buffer_bytes = small_buffer;
    compare_reader(data, size, &copt, &ref, "small buffer");
    limited_reader(data, size, copt);
    free(ref.bytes);

    fuzz_parsers(data, size, &copt, format);

    sgs_import_options_t opt = {
        .mode = copt.mode,
        .delimiter = (char)delim,
        .header = headers[(flags >> 4) & 3u],
        .customer = refs[0],
        .time = refs[1],
        .amount = refs[2],
        .channel = refs[3],
        .category = refs[4],
        .time_format = format,
        .skip_bad_rows = (int)((flags >> 7) & 1u),
        .deflate_level = 0,
        .n_threads = 1,
        .chunk_rows = 3,
        .buffer_bytes = small_buffer,
        .source_name = "fuzz.csv",
    };
    fuzz_import(data, size, &opt);
    return 0;
}
