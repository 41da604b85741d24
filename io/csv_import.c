/*
 * io/csv_import.c — delimited text to /transactions. See csv_import.h for the contract.
 *
 * Sections: field parsers (integers, decimals, times), column references (names,
 * positions, alternatives, products), the distinct-customer set, and the streaming
 * import loop that ties the tokenizer to the HDF5 appenders and publishes atomically.
 */
#include "io/csv_import.h"

#include "io/atomic_file.h"
#include "io/h5_columns.h"
#include "io/h5_output.h"
#include "io/output_paths.h"
#include "kernels/dates.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CHUNK_ROWS ((size_t)65536)
#define PROGRESS_EVERY_ROWS 65536
/* Records between two stop checks: a few microseconds of parsing for short rows, so a stop
 * is seen at once; 1024 rows of 10 KB are 10 MB, still well under a second. */
#define STOP_CHECK_EVERY_RECORDS 1024

/* ---- Small text helpers ---------------------------------------------------------- */
/* No <ctype.h>: its answers depend on the locale. */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Drop blanks at both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_blank((*s)[*len - 1]))
        (*len)--;
}

/* Case-insensitive equality of two byte ranges. */
static int equal_nocase(const char *a, size_t na, const char *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t k = 0; k < na; k++)
        if (to_lower(a[k]) != to_lower(b[k]))
            return 0;
    return 1;
}

/* True for an empty field or a missing-value marker (NA, N/A, NaN, null, None). */
static int is_missing(const char *s, size_t len)
{
    static const char *const markers[] = {"na", "n/a", "nan", "null", "none"};
    trim(&s, &len);
    if (len == 0)
        return 1;
    for (size_t k = 0; k < sizeof markers / sizeof markers[0]; k++)
        if (equal_nocase(s, len, markers[k], strlen(markers[k])))
            return 1;
    return 0;
}

/* Write a field for a message: quoted, at most ~40 bytes, control characters escaped. */
static void show_field(char *dst, size_t size, const char *s, size_t len)
{
    size_t o = 0;
    if (size < 8) {
        if (size)
            dst[0] = '\0';
        return;
    }
    dst[o++] = '"';
    for (size_t k = 0; k < len && o + 6 < size; k++) {
        if (k == 40) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        char c = s[k];
        if (c == '\n' || c == '\r' || c == '\t' || c == '\0') {
            dst[o++] = '\\';
            dst[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '0';
        } else {
            dst[o++] = c;
        }
    }
    dst[o++] = '"';
    dst[o] = '\0';
}

/* ---- Integers ---------------------------------------------------------------------- */

int sgs_import_parse_int64(const char *text, size_t len, int64_t *value, const char **reason)
{
    trim(&text, &len);
    if (len == 0) {
        *reason = "empty";
        return SGS_EDATA;
    }
    size_t k = 0;
    int negative = 0;
    if (text[0] == '+' || text[0] == '-') {
        negative = text[0] == '-';
        k++;
    }
    if (k == len || !is_digit(text[k])) {
        *reason = "not an integer";
        return SGS_EDATA;
    }
    const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    for (; k < len && is_digit(text[k]); k++) {
        uint64_t d = (uint64_t)(text[k] - '0');
        if (acc > (limit - d) / 10) {
            *reason = "outside the 64-bit integer range";
            return SGS_EDATA;
        }
        acc = acc * 10 + d;
    }
    if (k < len && text[k] == '.') { /* "17850.0": a float export of an integer */
        k++;
        while (k < len && text[k] == '0')
            k++;
        if (k < len && is_digit(text[k])) {
            *reason = "not a whole number";
            return SGS_EDATA;
        }
    }
    if (k != len) {
        *reason = "not an integer";
        return SGS_EDATA;
    }
    if (negative)
        *value = acc == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)acc;
    else
        *value = (int64_t)acc;
    return SGS_OK;
}

/* ---- Decimal numbers ------------------------------------------------------------- */

/* Powers of ten that are exact doubles (10^22 < 2^53 * 2^22). */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int sgs_import_parse_double(const char *text, size_t len, double *value, const char **reason)
{
    trim(&text, &len);
    if (len == 0) {
        *reason = "empty";
        return SGS_EDATA;
    }
    size_t k = 0;
    int negative = 0;
    if (text[0] == '+' || text[0] == '-') {
        negative = text[0] == '-';
        k++;
    }
    uint64_t mantissa = 0;
    int n_digits = 0, n_significant = 0, n_fraction = 0, has_exponent = 0;
    for (; k < len && is_digit(text[k]); k++, n_digits++) {
        if (n_significant > 0 || text[k] != '0')
            n_significant++;
        if (n_significant <= 18)
            mantissa = mantissa * 10 + (uint64_t)(text[k] - '0');
    }
    if (k < len && text[k] == '.') {
        k++;
        for (; k < len && is_digit(text[k]); k++, n_digits++, n_fraction++) {
            if (n_significant > 0 || text[k] != '0')
                n_significant++;
            if (n_significant <= 18)
                mantissa = mantissa * 10 + (uint64_t)(text[k] - '0');
        }
    }
    if (n_digits > 0 && k < len && (text[k] == 'e' || text[k] == 'E')) {
        size_t e = k + 1;
        if (e < len && (text[e] == '+' || text[e] == '-'))
            e++;
        if (e < len && is_digit(text[e])) {
            while (e < len && is_digit(text[e]))
                e++;
            k = e;
            has_exponent = 1;
        }
    }
    if (n_digits == 0 || k != len) {
        *reason = memchr(text, ',', len)
                      ? "has a ',' (decimal comma or thousands separator): write numbers "
                        "with a '.' decimal point and no grouping"
                      : "not a number";
        return SGS_EDATA;
    }
    /* Fast path (Clinger 1990): an integer mantissa below 2^53 divided by an exact power
     * of ten is one correctly rounded IEEE operation, so it equals strtod's result. */
    if (!has_exponent && n_significant <= 15 && n_fraction <= 22) {
        double v = (double)mantissa / exact_pow10[n_fraction];
        *value = negative ? -v : v;
        return SGS_OK;
    }
    char buf[128];
    if (len >= sizeof buf) {
        *reason = "number longer than 127 characters";
        return SGS_EDATA;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + len) { /* only when the thread's locale wants another decimal point */
        *reason = "not a number in the C locale";
        return SGS_EDATA;
    }
    if (!isfinite(v)) {
        *reason = "outside the range of a double";
        return SGS_EDATA;
    }
    *value = v;
    return SGS_OK;
}

/* ---- Times ------------------------------------------------------------------------ */

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* A cursor over the text of one time field. */
typedef struct cursor {
    const char *s;
    size_t n, k;
} cursor_t;

/* Read min..max digits as a number; returns the count read, 0 when fewer than min. */
static int read_digits(cursor_t *c, int min, int max, int *out)
{
    int count = 0, v = 0;
    while (count < max && c->k < c->n && is_digit(c->s[c->k])) {
        v = v * 10 + (c->s[c->k] - '0');
        c->k++;
        count++;
    }
    if (count < min)
        return 0;
    *out = v;
    return count;
}

static int accept_char(cursor_t *c, char ch)
{
    if (c->k < c->n && c->s[c->k] == ch) {
        c->k++;
        return 1;
    }
    return 0;
}

/* Optional time of day "H:MM[:SS[.fff]]" after the date (the separator already read),
 * then, for the slashed formats, an optional AM/PM; *seconds gets the time of day. */
static int read_clock(cursor_t *c, int allow_ampm, int64_t *seconds, const char **reason)
{
    int h, mi, sec = 0;
    if (!read_digits(c, 1, 2, &h) || !accept_char(c, ':') || read_digits(c, 2, 2, &mi) != 2) {
        *reason = "time of day is not H:MM or H:MM:SS";
        return SGS_EDATA;
    }
    if (accept_char(c, ':')) {
        if (read_digits(c, 2, 2, &sec) != 2) {
            *reason = "seconds are not two digits";
            return SGS_EDATA;
        }
        if (accept_char(c, '.') || accept_char(c, ',')) {
            int frac;
            if (!read_digits(c, 1, 9, &frac)) {
                *reason = "fraction of a second has no digits";
                return SGS_EDATA;
            }
            while (c->k < c->n && is_digit(c->s[c->k])) /* beyond 9 digits */
                c->k++;
        }
    }
    if (allow_ampm) {
        size_t save = c->k;
        while (c->k < c->n && c->s[c->k] == ' ')
            c->k++;
        if (c->k + 2 <= c->n && to_lower(c->s[c->k + 1]) == 'm' &&
            (to_lower(c->s[c->k]) == 'a' || to_lower(c->s[c->k]) == 'p')) {
            int pm = to_lower(c->s[c->k]) == 'p';
            c->k += 2;
            if (h < 1 || h > 12) {
                *reason = "hour must be 1..12 with AM/PM";
                return SGS_EDATA;
            }
            h = (h % 12) + (pm ? 12 : 0);
        } else {
            c->k = save;
        }
    }
    if (h > 23 || mi > 59 || sec > 60) {
        *reason = "hour, minute or second out of range";
        return SGS_EDATA;
    }
    *seconds = (int64_t)h * 3600 + mi * 60 + sec;
    return SGS_OK;
}

/* Optional UTC offset at the end, after optional blanks: Z, UTC, GMT, +hh, +hhmm, +hh:mm
 * (or -). *offset_s is the local time minus UTC. */
static int read_offset(cursor_t *c, int64_t *offset_s, const char **reason)
{
    *offset_s = 0;
    while (c->k < c->n && c->s[c->k] == ' ')
        c->k++;
    if (c->k == c->n)
        return SGS_OK;
    if (c->n - c->k == 1 && (c->s[c->k] == 'Z' || c->s[c->k] == 'z')) {
        c->k++;
        return SGS_OK;
    }
    if (c->n - c->k == 3 &&
        (equal_nocase(c->s + c->k, 3, "UTC", 3) || equal_nocase(c->s + c->k, 3, "GMT", 3))) {
        c->k += 3;
        return SGS_OK;
    }
    if (c->s[c->k] != '+' && c->s[c->k] != '-') {
        *reason = "unexpected text after the time";
        return SGS_EDATA;
    }
    int sign = c->s[c->k] == '-' ? -1 : 1;
    c->k++;
    int hh, mm = 0;
    if (read_digits(c, 2, 2, &hh) != 2) {
        *reason = "UTC offset is not +hh, +hhmm or +hh:mm";
        return SGS_EDATA;
    }
    if (c->k < c->n) {
        accept_char(c, ':');
        if (read_digits(c, 2, 2, &mm) != 2) {
            *reason = "UTC offset is not +hh, +hhmm or +hh:mm";
            return SGS_EDATA;
        }
    }
    if (c->k < c->n) { /* the offset ends the field: "+0530x" is not a time */
        *reason = "unexpected text after the UTC offset";
        return SGS_EDATA;
    }
    if (hh > 23 || mm > 59) {
        *reason = "UTC offset out of range";
        return SGS_EDATA;
    }
    *offset_s = sign * ((int64_t)hh * 3600 + mm * 60);
    return SGS_OK;
}

/* Combine a checked date, a time of day and an offset into Unix seconds >= 0. */
static int finish_time(int y, int m, int d, int64_t clock_s, int64_t offset_s, int64_t *time_s,
                       const char **reason)
{
    if (m < 1 || m > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)m)) {
        *reason = "not a calendar date";
        return SGS_EDATA;
    }
    int64_t t =
        sgs_days_from_civil(y, (unsigned)m, (unsigned)d) * SGS_SECONDS_PER_DAY + clock_s - offset_s;
    if (t < 0) {
        *reason = "before 1970-01-01 (the schema's times are Unix seconds >= 0)";
        return SGS_EDATA;
    }
    *time_s = t;
    return SGS_OK;
}

static int parse_iso(cursor_t *c, int64_t *time_s, const char **reason)
{
    int y, m, d;
    if (read_digits(c, 4, 4, &y) != 4 || !accept_char(c, '-') || !read_digits(c, 1, 2, &m) ||
        !accept_char(c, '-') || !read_digits(c, 1, 2, &d)) {
        *reason = "not an ISO 8601 date YYYY-MM-DD";
        return SGS_EDATA;
    }
    int64_t clock_s = 0, offset_s = 0;
    if (c->k < c->n && (c->s[c->k] == 'T' || c->s[c->k] == ' ')) {
        while (c->k < c->n && (c->s[c->k] == 'T' || c->s[c->k] == ' '))
            c->k++;
        if (read_clock(c, 0, &clock_s, reason))
            return SGS_EDATA;
    }
    if (read_offset(c, &offset_s, reason))
        return SGS_EDATA;
    return finish_time(y, m, d, clock_s, offset_s, time_s, reason);
}

static int parse_slashed(cursor_t *c, int month_first, int64_t *time_s, const char **reason)
{
    int a, b, y;
    char sep = c->k < c->n ? c->s[c->k] : 0;
    if (!read_digits(c, 1, 2, &a) || c->k >= c->n ||
        (c->s[c->k] != '/' && c->s[c->k] != '.' && c->s[c->k] != '-')) {
        *reason = month_first ? "not a date M/D/YYYY" : "not a date D/M/YYYY";
        return SGS_EDATA;
    }
    sep = c->s[c->k++];
    int ny;
    if (!read_digits(c, 1, 2, &b) || !accept_char(c, sep) || (ny = read_digits(c, 1, 4, &y)) == 0) {
        *reason = month_first ? "not a date M/D/YYYY" : "not a date D/M/YYYY";
        return SGS_EDATA;
    }
    if (ny != 4) {
        *reason = "the year must have four digits";
        return SGS_EDATA;
    }
    int64_t clock_s = 0, offset_s = 0;
    if (c->k < c->n && (c->s[c->k] == 'T' || c->s[c->k] == ' ')) {
        while (c->k < c->n && (c->s[c->k] == 'T' || c->s[c->k] == ' '))
            c->k++;
        if (read_clock(c, 1, &clock_s, reason))
            return SGS_EDATA;
    }
    if (read_offset(c, &offset_s, reason))
        return SGS_EDATA;
    return finish_time(y, month_first ? a : b, month_first ? b : a, clock_s, offset_s, time_s,
                       reason);
}

int sgs_import_parse_time(const char *text, size_t len, sgs_time_format_t format, int64_t *time_s,
                          const char **reason)
{
    trim(&text, &len);
    if (len == 0) {
        *reason = "empty";
        return SGS_EDATA;
    }
    cursor_t c = {text, len, 0};
    int all_digits = 1;
    for (size_t k = 0; k < len && all_digits; k++)
        all_digits = is_digit(text[k]);
    switch (format) {
    case SGS_TIME_AUTO:
        if (len == 8 && all_digits)
            return sgs_import_parse_time(text, len, SGS_TIME_YYYYMMDD, time_s, reason);
        if (len >= 8 && is_digit(text[0]) && is_digit(text[3]) && text[4] == '-')
            return parse_iso(&c, time_s, reason);
        *reason = memchr(text, '/', len) || memchr(text, '.', len)
                      ? "day/month order is ambiguous (12/9/2011): give --time-format mdy or dmy"
                      : "not a date (expected YYYY-MM-DD[ HH:MM[:SS]] or YYYYMMDD; see "
                        "--time-format)";
        return SGS_EDATA;
    case SGS_TIME_ISO:
        return parse_iso(&c, time_s, reason);
    case SGS_TIME_YYYYMMDD: {
        if (len != 8 || !all_digits) {
            *reason = "not a date YYYYMMDD";
            return SGS_EDATA;
        }
        int y =
            (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
        int m = (text[4] - '0') * 10 + (text[5] - '0');
        int d = (text[6] - '0') * 10 + (text[7] - '0');
        return finish_time(y, m, d, 0, 0, time_s, reason);
    }
    case SGS_TIME_MDY:
    case SGS_TIME_DMY:
        return parse_slashed(&c, format == SGS_TIME_MDY, time_s, reason);
    case SGS_TIME_UNIX: {
        int64_t t;
        if (sgs_import_parse_int64(text, len, &t, reason))
            return SGS_EDATA;
        if (t < 0) {
            *reason = "before 1970-01-01 (negative Unix time)";
            return SGS_EDATA;
        }
        *time_s = t;
        return SGS_OK;
    }
    }
    *reason = "unknown time format";
    return SGS_EDATA;
}

/* ---- Channel codes ----------------------------------------------------------------- */

static int parse_channel(const char *text, size_t len, uint8_t *code, const char **reason)
{
    static const char *const names[8] = {"unknown", "store", "web", "app",
                                         "phone",   "email", "sms", "mail"};
    trim(&text, &len);
    if (len == 0) {
        *code = 0;
        return SGS_OK;
    }
    int64_t v;
    const char *ignored;
    if (sgs_import_parse_int64(text, len, &v, &ignored) == SGS_OK) {
        if (v < 0 || v > 7) {
            *reason = "channel code outside 0..7";
            return SGS_EDATA;
        }
        *code = (uint8_t)v;
        return SGS_OK;
    }
    for (int k = 0; k < 8; k++)
        if (equal_nocase(text, len, names[k], strlen(names[k]))) {
            *code = (uint8_t)k;
            return SGS_OK;
        }
    *reason = "not a channel (0..7 or unknown, store, web, app, phone, email, sms, mail)";
    return SGS_EDATA;
}

static int parse_category(const char *text, size_t len, int32_t *category, const char **reason)
{
    if (is_missing(text, len)) {
        *category = -1;
        return SGS_OK;
    }
    int64_t v;
    if (sgs_import_parse_int64(text, len, &v, reason))
        return SGS_EDATA;
    if (v < INT32_MIN || v > INT32_MAX) {
        *reason = "outside the 32-bit integer range";
        return SGS_EDATA;
    }
    *category = (int32_t)v;
    return SGS_OK;
}

/* ---- Column references ----------------------------------------------------------- */

/* What the header looks like when column names are resolved. */
typedef struct header_view {
    char *const *names; /* NULL when the file has no header */
    const size_t *length;
    size_t n_fields; /* fields of the header, or of the first data row */
} header_view_t;

/* True when the reference is a 1-based position (digits only). */
static int is_position(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t k = 0; k < len; k++)
        if (!is_digit(s[k]))
            return 0;
    return 1;
}

/* True when any alternative of `spec` (split at '|' and '*') is a name. */
static int spec_has_names(const char *spec)
{
    const char *s = spec;
    while (1) {
        size_t len = strcspn(s, "|*");
        const char *t = s;
        size_t tl = len;
        trim(&t, &tl);
        if (!is_position(t, tl))
            return 1;
        if (!s[len])
            return 0;
        s += len + 1;
    }
}

/* Find one alternative (no '|', no '*') in the header; returns 1 and *index when found. */
static int find_one(const header_view_t *h, const char *ref, size_t len, size_t *index)
{
    if (h->names) {
        for (size_t k = 0; k < h->n_fields; k++)
            if (h->length[k] == len && memcmp(h->names[k], ref, len) == 0) {
                *index = k;
                return 1;
            }
        for (size_t k = 0; k < h->n_fields; k++) {
            const char *name = h->names[k];
            size_t nl = h->length[k];
            trim(&name, &nl);
            if (equal_nocase(name, nl, ref, len)) {
                *index = k;
                return 1;
            }
        }
    }
    if (is_position(ref, len) && len < 10) {
        size_t p = (size_t)strtoul(ref, NULL, 10);
        if (p >= 1 && p <= h->n_fields) {
            *index = p - 1;
            return 1;
        }
    }
    return 0;
}

/* Explain why `factor` (alternatives separated by '|') matched nothing. */
static int not_found(const header_view_t *h, const char *option, const char *factor,
                     const char *file, sgs_error_t *err)
{
    char first[128];
    size_t fl = strcspn(factor, "|");
    snprintf(first, sizeof first, "%.*s", (int)(fl < 100 ? fl : 100), factor);
    if (!spec_has_names(factor) || !h->names) {
        const char *hint = "";
        if (h->n_fields == 1 && h->names && strcspn(h->names[0], " \t;|") < h->length[0])
            hint = " (is the file whitespace-separated or ';'-delimited? see --format and "
                   "--delimiter)";
        if (!h->names && spec_has_names(factor))
            return sgs_error_set(err, SGS_EDATA,
                                 "%s \"%s\": the file %s has no header line to find names in; "
                                 "give 1-based column positions (1..%zu), or --header",
                                 option, factor, file, h->n_fields);
        return sgs_error_set(err, SGS_EDATA, "%s %s: %s has only %zu column%s%s", option, factor,
                             file, h->n_fields, h->n_fields == 1 ? "" : "s", hint);
    }
    /* list the columns, and the closest name to the first alternative */
    char list[400];
    size_t used = 0, best_k = 0, best_d = (size_t)-1;
    list[0] = '\0';
    for (size_t k = 0; k < h->n_fields; k++) {
        size_t d = sgs_edit_distance(first, strlen(first), h->names[k], h->length[k], 1);
        if (d < best_d) {
            best_d = d;
            best_k = k;
        }
        if (used + 8 < sizeof list) {
            int n = snprintf(list + used, sizeof list - used, "%s\"%.*s\"", k ? ", " : "",
                             (int)(h->length[k] < 60 ? h->length[k] : 60), h->names[k]);
            if (n > 0)
                used += (size_t)n < sizeof list - used ? (size_t)n : sizeof list - used - 1;
        }
    }
    char hint[128] = "";
    if (best_d != (size_t)-1 && best_d <= 2 + strlen(first) / 3 && h->n_fields > 0)
        snprintf(hint, sizeof hint, " Did you mean \"%.*s\"?",
                 (int)(h->length[best_k] < 60 ? h->length[best_k] : 60), h->names[best_k]);
    return sgs_error_set(err, SGS_EDATA,
                         "%s \"%s\": no such column in the header of %s (columns: %s).%s", option,
                         factor, file, list, hint);
}

/* Resolve a factor with alternatives "A|B|3" to a column index. */
static int resolve_factor(const header_view_t *h, const char *option, const char *factor,
                          size_t factor_len, const char *file, size_t *index, sgs_error_t *err)
{
    char copy[256];
    if (factor_len >= sizeof copy)
        return sgs_error_set(err, SGS_EUSAGE, "%s: column reference too long", option);
    memcpy(copy, factor, factor_len);
    copy[factor_len] = '\0';
    const char *s = copy;
    while (1) {
        size_t len = strcspn(s, "|");
        const char *t = s;
        size_t tl = len;
        trim(&t, &tl);
        if (tl == 0)
            return sgs_error_set(err, SGS_EUSAGE, "%s \"%s\": empty column reference", option,
                                 copy);
        if (find_one(h, t, tl, index))
            return SGS_OK;
        if (!s[len])
            break;
        s += len + 1;
    }
    return not_found(h, option, copy, file, err);
}

/* A resolved column reference: one column, or the product of two. */
typedef struct column_ref {
    int present;
    size_t index[2];
    int n_factors; /* 1 or 2 */
} column_ref_t;

static int resolve_ref(const header_view_t *h, const char *option, const char *spec,
                       int allow_product, const char *file, column_ref_t *ref, sgs_error_t *err)
{
    memset(ref, 0, sizeof *ref);
    if (!spec)
        return SGS_OK;
    ref->present = 1;
    ref->n_factors = 1;
    size_t len = strlen(spec);
    /* a header name containing '*' wins over the product reading */
    if (h->names && find_one(h, spec, len, &ref->index[0]) && !is_position(spec, len))
        return SGS_OK;
    const char *star = allow_product ? strchr(spec, '*') : NULL;
    if (!star)
        return resolve_factor(h, option, spec, len, file, &ref->index[0], err);
    if (strchr(star + 1, '*'))
        return sgs_error_set(err, SGS_EUSAGE, "%s \"%s\": at most two columns can be multiplied",
                             option, spec);
    ref->n_factors = 2;
    int rc = resolve_factor(h, option, spec, (size_t)(star - spec), file, &ref->index[0], err);
    if (rc == SGS_OK)
        rc = resolve_factor(h, option, star + 1, strlen(star + 1), file, &ref->index[1], err);
    return rc;
}

/* Append "name = column N "Header"" to the mapping description. */
static void describe_ref(char *buf, size_t size, const char *name, const column_ref_t *ref,
                         const header_view_t *h)
{
    if (!ref->present)
        return;
    size_t used = strlen(buf);
    int n = snprintf(buf + used, size - used, "%s%s =", used ? "; " : "", name);
    for (int f = 0; f < ref->n_factors && n > 0; f++) {
        used = strlen(buf);
        size_t k = ref->index[f];
        if (h->names)
            n = snprintf(buf + used, size - used, "%s column %zu \"%.*s\"", f ? " *" : "", k + 1,
                         (int)(h->length[k] < 40 ? h->length[k] : 40), h->names[k]);
        else
            n = snprintf(buf + used, size - used, "%s column %zu", f ? " *" : "", k + 1);
    }
}

/* ---- The set of distinct customer ids ------------------------------------------------
 * Open addressing with linear probing, power-of-two capacity, at most half full. Empty
 * slots hold EMPTY_KEY (INT64_MIN); the id INT64_MIN itself is remembered by a flag, so
 * that a lookup touches one array. Ids are added a batch at a time with the slot of a
 * later id prefetched, which hides most cache misses when ids come in random order. */

#define EMPTY_KEY INT64_MIN
#define PREFETCH_AHEAD 8

typedef struct id_set {
    int64_t *keys;
    size_t cap, n;
    int has_min; /* INT64_MIN was added (counted in n) */
} id_set_t;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static int id_set_init(id_set_t *s, size_t cap)
{
    s->cap = cap;
    s->n = 0;
    s->has_min = 0;
    s->keys = sgs_alloc_array(cap, sizeof *s->keys);
    if (!s->keys)
        return SGS_ENOMEM;
    for (size_t k = 0; k < cap; k++)
        s->keys[k] = EMPTY_KEY;
    return SGS_OK;
}

static void id_set_free(id_set_t *s)
{
    sgs_free(s->keys);
    s->keys = NULL;
}

/* Insert into a table known to have room; returns 1 when the key is new. */
static int id_set_put(id_set_t *s, int64_t key)
{
    if (key == EMPTY_KEY) {
        int added = !s->has_min;
        s->has_min = 1;
        s->n += (size_t)added;
        return added;
    }
    size_t mask = s->cap - 1;
    size_t k = (size_t)mix64((uint64_t)key) & mask;
    while (s->keys[k] != EMPTY_KEY) {
        if (s->keys[k] == key)
            return 0;
        k = (k + 1) & mask;
    }
    s->keys[k] = key;
    s->n++;
    return 1;
}

/* Double the capacity, rehashing every key. */
static int id_set_grow(id_set_t *s)
{
    id_set_t bigger = {NULL, 0, 0, 0};
    if (s->cap > SIZE_MAX / 32 || id_set_init(&bigger, 2 * s->cap) != SGS_OK) {
        id_set_free(&bigger);
        return SGS_ENOMEM;
    }
    for (size_t k = 0; k < s->cap; k++)
        if (s->keys[k] != EMPTY_KEY)
            (void)id_set_put(&bigger, s->keys[k]);
    bigger.has_min = s->has_min;
    bigger.n += (size_t)s->has_min;
    id_set_free(s);
    *s = bigger;
    return SGS_OK;
}

/* Add n ids (consecutive repeats are cheap). */
static int id_set_add_many(id_set_t *s, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && ids[i] == ids[i - 1])
            continue;
        if (i + PREFETCH_AHEAD < n)
            __builtin_prefetch(
                &s->keys[(size_t)mix64((uint64_t)ids[i + PREFETCH_AHEAD]) & (s->cap - 1)]);
        if (id_set_put(s, ids[i]) && 2 * s->n > s->cap && id_set_grow(s) != SGS_OK)
            return SGS_ENOMEM;
    }
    return SGS_OK;
}

/* ---- The import -------------------------------------------------------------------- */

const char *sgs_import_reason_name(sgs_import_reason_t reason)
{
    switch (reason) {
    case SGS_IMPORT_NO_CUSTOMER:
        return "no customer id";
    case SGS_IMPORT_BAD_FIELDS:
        return "wrong number of fields";
    case SGS_IMPORT_BAD_CUSTOMER:
        return "bad customer id";
    case SGS_IMPORT_BAD_TIME:
        return "bad time";
    case SGS_IMPORT_BAD_AMOUNT:
        return "bad amount";
    case SGS_IMPORT_BAD_CHANNEL:
        return "bad channel";
    case SGS_IMPORT_BAD_CATEGORY:
        return "bad category";
    case SGS_IMPORT_N_REASONS:
        break;
    }
    return "unknown";
}

/* A batch of parsed rows on their way to the HDF5 columns. */
typedef struct batch {
    size_t n;
    int64_t *customer, *time_s;
    double *amount;
    uint8_t *channel;  /* NULL without --channel */
    int32_t *category; /* NULL without --category */
} batch_t;

/* Everything one import holds. */
typedef struct import_state {
    const sgs_import_options_t *opt;
    sgs_import_stats_t *stats;
    const char *file; /* input name for messages */
    column_ref_t customer, time, amount, channel, category;
    size_t expected_fields;
    uint64_t expected_from_line; /* line whose field count is the reference */
    int has_header;
    char header_names[5][64]; /* labels for messages: customer, time, amount x2... */
    /* Two batches: the parser fills batch[fill] while the writer writes the other. */
    size_t batch_rows;
    batch_t batch[2];
    int fill;
    /* owned by the writer while it runs: the HDF5 file, its columns, the customer set */
    hid_t h5;
    sgs_h5_appender_t *a_customer, *a_time, *a_amount, *a_channel, *a_category;
    id_set_t customers;
    /* the background writer (threaded mode); fields below `lock` are shared */
    int threaded, writer_started;
    pthread_t writer;
    pthread_mutex_t lock;
    pthread_cond_t work, idle;
    int pending; /* index of the batch handed to the writer, -1 when it is idle */
    int stop;    /* no more batches will come */
    int writer_rc;
    sgs_error_t writer_err;
} import_state_t;

/* A bad row: stop with SGS_EDATA, or count it and keep the first messages. */
static int bad_row(import_state_t *s, uint64_t line, sgs_import_reason_t reason, sgs_error_t *err,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int bad_row(import_state_t *s, uint64_t line, sgs_import_reason_t reason, sgs_error_t *err,
                   const char *fmt, ...)
{
    char what[SGS_IMPORT_EXAMPLE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!s->opt->skip_bad_rows) {
        s->stats->error_line = line;
        return sgs_error_set(err, SGS_EDATA, "%s:%llu: %s", s->file, (unsigned long long)line,
                             what);
    }
    s->stats->n_skipped[reason]++;
    if (s->stats->n_examples < SGS_IMPORT_MAX_EXAMPLES) {
        char full[SGS_ERROR_MESSAGE_MAX + SGS_IMPORT_EXAMPLE_MAX];
        snprintf(full, sizeof full, "%s:%llu: %s", s->file, (unsigned long long)line, what);
        size_t n = strlen(full);
        if (n >= SGS_IMPORT_EXAMPLE_MAX)
            n = SGS_IMPORT_EXAMPLE_MAX - 1;
        char *dst = s->stats->examples[s->stats->n_examples++];
        memcpy(dst, full, n);
        dst[n] = '\0';
    }
    return SGS_OK;
}

/* Label of column k for messages: "column 5 (InvoiceDate)" or "column 5". */
static void column_label(const import_state_t *s, const char *header_name, size_t k, char *buf,
                         size_t size)
{
    if (s->has_header && header_name && header_name[0])
        snprintf(buf, size, "column %zu \"%s\"", k + 1, header_name);
    else
        snprintf(buf, size, "column %zu", k + 1);
}

/* ---- Writing batches, optionally in a second thread --------------------------------
 * Compression (deflate) costs more than parsing, so by default the parser hands full
 * batches to a writer thread and goes on with the next one. Only the writer calls HDF5
 * while it runs; the batches are appended in file order, so the output bytes are the
 * same with and without the thread. */

/* Count the batch's customers and append it to the HDF5 columns; empties the batch. */
static int write_batch(import_state_t *s, batch_t *b, sgs_error_t *err)
{
    if (b->n == 0)
        return SGS_OK;
    int rc = SGS_OK;
    if (id_set_add_many(&s->customers, b->customer, b->n) != SGS_OK)
        rc = sgs_error_set(err, SGS_ENOMEM, "out of memory counting %zu customers", s->customers.n);
    if (!rc)
        rc = sgs_h5_appender_append(s->a_customer, b->customer, b->n, err);
    if (!rc)
        rc = sgs_h5_appender_append(s->a_time, b->time_s, b->n, err);
    if (!rc)
        rc = sgs_h5_appender_append(s->a_amount, b->amount, b->n, err);
    if (!rc && s->a_channel)
        rc = sgs_h5_appender_append(s->a_channel, b->channel, b->n, err);
    if (!rc && s->a_category)
        rc = sgs_h5_appender_append(s->a_category, b->category, b->n, err);
    b->n = 0;
    return rc;
}

static void *writer_main(void *arg)
{
    import_state_t *s = arg;
    sgs_h5_quiet(); /* HDF5's error handling is per thread (a thread-safe build) */
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->pending < 0 && !s->stop)
            pthread_cond_wait(&s->work, &s->lock);
        if (s->pending < 0)
            break; /* stopped and idle */
        batch_t *b = &s->batch[s->pending];
        pthread_mutex_unlock(&s->lock);
        sgs_error_t e = {0};
        int rc = write_batch(s, b, &e);
        pthread_mutex_lock(&s->lock);
        if (rc && !s->writer_rc) {
            s->writer_rc = rc;
            s->writer_err = e;
        }
        s->pending = -1;
        pthread_cond_signal(&s->idle);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Start the writer thread; without it (threads off, or creation failed) batches are
 * written in the calling thread. */
static void writer_start(import_state_t *s)
{
    s->pending = -1;
    if (!s->threaded)
        return;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        s->threaded = 0;
        return;
    }
    if (pthread_cond_init(&s->work, NULL) != 0) {
        pthread_mutex_destroy(&s->lock);
        s->threaded = 0;
        return;
    }
    if (pthread_cond_init(&s->idle, NULL) != 0) {
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->lock);
        s->threaded = 0;
        return;
    }
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        pthread_cond_destroy(&s->idle);
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->lock);
        s->threaded = 0;
        return;
    }
    s->writer_started = 1;
}

/* Hand the filled batch to the writer (waiting until it has finished the previous one)
 * and continue in the other batch; or write it here when there is no writer. */
static int hand_off(import_state_t *s, sgs_error_t *err)
{
    batch_t *b = &s->batch[s->fill];
    if (b->n == 0)
        return SGS_OK;
    if (!s->writer_started)
        return write_batch(s, b, err);
    pthread_mutex_lock(&s->lock);
    while (s->pending >= 0)
        pthread_cond_wait(&s->idle, &s->lock);
    int rc = s->writer_rc;
    if (rc) {
        if (err)
            *err = s->writer_err;
    } else {
        s->pending = s->fill;
        pthread_cond_signal(&s->work);
    }
    pthread_mutex_unlock(&s->lock);
    if (!rc)
        s->fill ^= 1; /* the writer emptied the other batch before going idle */
    return rc;
}

/* Wait for the writer to finish what it has, stop it and join it; returns its error. */
static int writer_finish(import_state_t *s, sgs_error_t *err)
{
    if (!s->writer_started)
        return SGS_OK;
    pthread_mutex_lock(&s->lock);
    while (s->pending >= 0)
        pthread_cond_wait(&s->idle, &s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->work);
    int rc = s->writer_rc;
    if (rc && err)
        *err = s->writer_err;
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->writer, NULL);
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->lock);
    s->writer_started = 0;
    return rc;
}

/* Parse one data record and queue it, or count/report why not. */
static int import_record(import_state_t *s, const sgs_csv_record_t *rec, sgs_error_t *err)
{
    sgs_import_stats_t *st = s->stats;
    st->n_rows_read++;
    char label[128], shown[64];
    if (rec->n_fields != s->expected_fields) {
        const char *hint = "";
        if (rec->n_fields == 1 && s->opt->mode == SGS_CSV_DELIMITED &&
            (strchr(rec->fields[0], ' ') || strchr(rec->fields[0], '\t') ||
             strchr(rec->fields[0], ';')))
            hint = " (is the file whitespace- or ';'-separated? see --format and --delimiter)";
        else if (rec->n_fields > s->expected_fields && s->opt->mode == SGS_CSV_DELIMITED)
            hint = " (a delimiter inside a field that is not quoted?)";
        return bad_row(s, rec->line, SGS_IMPORT_BAD_FIELDS, err,
                       "expected %zu fields as in %s %llu, found %zu%s", s->expected_fields,
                       s->has_header ? "the header on line" : "the first row, line",
                       (unsigned long long)s->expected_from_line, rec->n_fields, hint);
    }
    const char *reason = NULL;

    size_t k = s->customer.index[0];
    if (is_missing(rec->fields[k], rec->length[k])) {
        st->n_skipped[SGS_IMPORT_NO_CUSTOMER]++;
        return SGS_OK;
    }
    int64_t customer;
    if (sgs_import_parse_int64(rec->fields[k], rec->length[k], &customer, &reason)) {
        column_label(s, s->header_names[0], k, label, sizeof label);
        show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
        return bad_row(s, rec->line, SGS_IMPORT_BAD_CUSTOMER, err,
                       "customer id %s in %s: %s (customer ids must be integers)", shown, label,
                       reason);
    }

    k = s->time.index[0];
    int64_t time_s;
    if (sgs_import_parse_time(rec->fields[k], rec->length[k], s->opt->time_format, &time_s,
                              &reason)) {
        column_label(s, s->header_names[1], k, label, sizeof label);
        show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
        return bad_row(s, rec->line, SGS_IMPORT_BAD_TIME, err, "time %s in %s: %s", shown, label,
                       reason);
    }

    double amount = 1.0;
    for (int f = 0; f < s->amount.n_factors; f++) {
        double v;
        k = s->amount.index[f];
        if (sgs_import_parse_double(rec->fields[k], rec->length[k], &v, &reason)) {
            column_label(s, s->header_names[2 + f], k, label, sizeof label);
            show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
            return bad_row(s, rec->line, SGS_IMPORT_BAD_AMOUNT, err, "%s %s in %s: %s",
                           s->amount.n_factors == 2 ? "amount factor" : "amount", shown, label,
                           reason);
        }
        amount = f == 0 ? v : amount * v;
    }
    if (!isfinite(amount))
        return bad_row(s, rec->line, SGS_IMPORT_BAD_AMOUNT, err,
                       "amount product outside the range of a double");

    uint8_t channel = 0;
    if (s->channel.present) {
        k = s->channel.index[0];
        if (parse_channel(rec->fields[k], rec->length[k], &channel, &reason)) {
            column_label(s, s->header_names[4], k, label, sizeof label);
            show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
            return bad_row(s, rec->line, SGS_IMPORT_BAD_CHANNEL, err, "channel %s in %s: %s", shown,
                           label, reason);
        }
    }
    int32_t category = -1;
    if (s->category.present) {
        k = s->category.index[0];
        if (parse_category(rec->fields[k], rec->length[k], &category, &reason)) {
            column_label(s, NULL, k, label, sizeof label);
            show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
            return bad_row(s, rec->line, SGS_IMPORT_BAD_CATEGORY, err, "category %s in %s: %s",
                           shown, label, reason);
        }
    }

    /* queue the row */
    batch_t *b = &s->batch[s->fill];
    size_t r = b->n++;
    b->customer[r] = customer;
    b->time_s[r] = time_s;
    b->amount[r] = amount;
    if (b->channel)
        b->channel[r] = channel;
    if (b->category)
        b->category[r] = category;
    if (st->n_imported == 0 || time_s < st->min_time_s)
        st->min_time_s = time_s;
    if (st->n_imported == 0 || time_s > st->max_time_s)
        st->max_time_s = time_s;
    st->n_imported++;
    st->n_refunds += amount < 0;
    st->n_zero_amount += amount == 0;
    return b->n == s->batch_rows ? hand_off(s, err) : SGS_OK;
}

/* Base name of a path, for the "source" attribute. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Create the output columns in the temporary file. */
static int create_columns(import_state_t *s, const char *temp_path, sgs_error_t *err)
{
    sgs_h5_quiet(); /* failures are reported through err, in one line */
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0)
        s->h5 = H5Fcreate(temp_path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (s->h5 < 0)
        return sgs_error_set(err, SGS_ECANTCREAT, "cannot create HDF5 file %s", temp_path);
    size_t chunk = s->batch_rows;
    int level = s->opt->deflate_level;
    int rc = sgs_h5_appender_create(s->h5, "/transactions/customer_id", SGS_H5_I64, chunk, level,
                                    &s->a_customer, err);
    if (!rc)
        rc = sgs_h5_appender_create(s->h5, "/transactions/time", SGS_H5_I64, chunk, level,
                                    &s->a_time, err);
    if (!rc)
        rc = sgs_h5_appender_create(s->h5, "/transactions/amount", SGS_H5_F64, chunk, level,
                                    &s->a_amount, err);
    if (!rc && s->channel.present)
        rc = sgs_h5_appender_create(s->h5, "/transactions/channel", SGS_H5_U8, chunk, level,
                                    &s->a_channel, err);
    if (!rc && s->category.present)
        rc = sgs_h5_appender_create(s->h5, "/transactions/category", SGS_H5_I32, chunk, level,
                                    &s->a_category, err);
    return rc;
}

/* Close the columns (flushing; the writer has stopped), write the attributes that
 * explain the file. */
static int finish_columns(import_state_t *s, const char *in_path, sgs_error_t *err)
{
    int rc = SGS_OK;
    int rc2 = sgs_h5_appender_close(s->a_customer, rc ? NULL : err);
    rc = rc ? rc : rc2;
    rc2 = sgs_h5_appender_close(s->a_time, rc ? NULL : err);
    rc = rc ? rc : rc2;
    rc2 = sgs_h5_appender_close(s->a_amount, rc ? NULL : err);
    rc = rc ? rc : rc2;
    rc2 = sgs_h5_appender_close(s->a_channel, rc ? NULL : err);
    rc = rc ? rc : rc2;
    rc2 = sgs_h5_appender_close(s->a_category, rc ? NULL : err);
    rc = rc ? rc : rc2;
    s->a_customer = s->a_time = s->a_amount = s->a_channel = s->a_category = NULL;
    if (rc)
        return rc;
    const char *source = s->opt->source_name ? s->opt->source_name : base_name(in_path);
    rc = sgs_h5_attr_string(s->h5, "/transactions", "source", source, err);
    if (!rc)
        rc = sgs_h5_attr_string(s->h5, "/transactions", "imported_by",
                                "segscore import " SGS_VERSION, err);
    if (!rc)
        rc = sgs_h5_attr_string(s->h5, "/transactions/time", "unit", "Unix seconds, UTC", err);
    if (!rc)
        rc = sgs_h5_attr_string(s->h5, "/transactions/amount", "meaning",
                                "value of the transaction; negative is a refund", err);
    if (!rc && s->channel.present)
        rc = sgs_h5_attr_string(s->h5, "/transactions/channel", "codes",
                                "0 unknown, 1 store, 2 web, 3 app, 4 phone, 5 email, 6 sms, "
                                "7 mail",
                                err);
    return rc;
}

/* The first record decides the header (see sgs_import_header_t). */
static int looks_like_header(const sgs_csv_record_t *rec, const char *customer_spec)
{
    /* positions only: the first alternative of the customer reference */
    size_t p = (size_t)strtoul(customer_spec, NULL, 10);
    if (p < 1 || p > rec->n_fields)
        return 0;
    const char *f = rec->fields[p - 1];
    size_t len = rec->length[p - 1];
    int64_t ignored;
    const char *reason;
    return !is_missing(f, len) && sgs_import_parse_int64(f, len, &ignored, &reason) != SGS_OK;
}

int sgs_csv_import(const char *in_path, const char *out_path, const sgs_import_options_t *opt,
                   sgs_import_stats_t *stats, sgs_error_t *err)
{
    sgs_import_stats_t local_stats;
    if (!stats)
        stats = &local_stats;
    memset(stats, 0, sizeof *stats);
    import_state_t s;
    memset(&s, 0, sizeof s);
    s.opt = opt;
    s.stats = stats;
    s.h5 = -1;
    sgs_csv_reader_t *reader = NULL;
    sgs_atomic_t atomic = {{0}, {0}};
    int rc;

    /* Numbers are read in the C locale whatever the process set (per thread). */
    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old_locale = c_locale ? uselocale(c_locale) : (locale_t)0;

    if (!opt->customer || !opt->time || !opt->amount) {
        rc = sgs_error_set(err, SGS_EUSAGE,
                           "the customer, time and amount columns are all "
                           "required (--customer, --time, --amount)");
        goto cleanup;
    }
    const sgs_named_path_t inputs[] = {{"input", in_path}}, outputs[] = {{"output", out_path}};
    rc = sgs_output_paths_check(inputs, 1, outputs, 1, err);
    if (rc)
        goto cleanup;

    sgs_csv_options_t copt = {
        .mode = opt->mode, .delimiter = opt->delimiter, .buffer_bytes = opt->buffer_bytes};
    rc = sgs_csv_open(in_path, &copt, &reader, err);
    if (rc)
        goto cleanup;
    s.file = sgs_csv_name(reader);

    /* the first record: header or data */
    sgs_csv_record_t rec;
    rc = sgs_csv_next(reader, &rec, err);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = sgs_error_set(err, SGS_EDATA, "%s: no records (the file is empty)", s.file);
        goto cleanup;
    }
    int names = spec_has_names(opt->customer) || spec_has_names(opt->time) ||
                spec_has_names(opt->amount) || (opt->channel && spec_has_names(opt->channel)) ||
                (opt->category && spec_has_names(opt->category));
    switch (opt->header) {
    case SGS_IMPORT_HEADER_YES:
        s.has_header = 1;
        break;
    case SGS_IMPORT_HEADER_NO:
        s.has_header = 0;
        break;
    default:
        s.has_header = names || looks_like_header(&rec, opt->customer);
        break;
    }
    header_view_t h = {s.has_header ? rec.fields : NULL, rec.length, rec.n_fields};
    rc = resolve_ref(&h, "--customer", opt->customer, 0, s.file, &s.customer, err);
    if (!rc)
        rc = resolve_ref(&h, "--time", opt->time, 0, s.file, &s.time, err);
    if (!rc)
        rc = resolve_ref(&h, "--amount", opt->amount, 1, s.file, &s.amount, err);
    if (!rc)
        rc = resolve_ref(&h, "--channel", opt->channel, 0, s.file, &s.channel, err);
    if (!rc)
        rc = resolve_ref(&h, "--category", opt->category, 0, s.file, &s.category, err);
    if (rc)
        goto cleanup;
    describe_ref(stats->mapping, sizeof stats->mapping, "customer_id", &s.customer, &h);
    describe_ref(stats->mapping, sizeof stats->mapping, "time", &s.time, &h);
    describe_ref(stats->mapping, sizeof stats->mapping, "amount", &s.amount, &h);
    describe_ref(stats->mapping, sizeof stats->mapping, "channel", &s.channel, &h);
    describe_ref(stats->mapping, sizeof stats->mapping, "category", &s.category, &h);
    if (s.has_header) {
        const column_ref_t *refs[5] = {&s.customer, &s.time, &s.amount, &s.amount, &s.channel};
        const int factor[5] = {0, 0, 0, 1, 0};
        for (int q = 0; q < 5; q++) {
            if (!refs[q]->present || factor[q] >= refs[q]->n_factors)
                continue;
            size_t k = refs[q]->index[factor[q]];
            snprintf(s.header_names[q], sizeof s.header_names[q], "%.*s",
                     (int)(rec.length[k] < 60 ? rec.length[k] : 60), rec.fields[k]);
        }
    }
    s.expected_fields = rec.n_fields;
    s.expected_from_line = rec.line;
    stats->header_line = s.has_header ? rec.line : 0;

    /* buffers and the output */
    s.batch_rows = opt->chunk_rows ? opt->chunk_rows : DEFAULT_CHUNK_ROWS;
    int alloc_ok = id_set_init(&s.customers, 1024) == SGS_OK;
    for (int q = 0; q < 2; q++) {
        batch_t *b = &s.batch[q];
        b->customer = sgs_alloc_array(s.batch_rows, sizeof *b->customer);
        b->time_s = sgs_alloc_array(s.batch_rows, sizeof *b->time_s);
        b->amount = sgs_alloc_array(s.batch_rows, sizeof *b->amount);
        if (s.channel.present)
            b->channel = sgs_alloc_array(s.batch_rows, sizeof *b->channel);
        if (s.category.present)
            b->category = sgs_alloc_array(s.batch_rows, sizeof *b->category);
        alloc_ok = alloc_ok && b->customer && b->time_s && b->amount &&
                   (!s.channel.present || b->channel) && (!s.category.present || b->category);
    }
    if (!alloc_ok) {
        rc = sgs_error_set(err, SGS_ENOMEM, "out of memory for the import buffers");
        goto cleanup;
    }
    rc = sgs_atomic_begin(out_path, &atomic, err);
    if (rc)
        goto cleanup;
    rc = create_columns(&s, atomic.temp_path, err);
    if (rc)
        goto cleanup;
    s.threaded = opt->n_threads != 1;
    writer_start(&s);

    /* the rows */
    if (!s.has_header) {
        rc = import_record(&s, &rec, err);
        if (rc)
            goto cleanup;
    }
    for (uint64_t n_records = 1;; n_records++) {
        if (opt->stop && n_records % STOP_CHECK_EVERY_RECORDS == 0) {
            rc = opt->stop(opt->stop_ctx, err);
            if (rc)
                goto cleanup;
        }
        rc = sgs_csv_next(reader, &rec, err);
        if (rc == 0)
            break;
        if (rc < 0)
            goto cleanup;
        rc = import_record(&s, &rec, err);
        if (rc)
            goto cleanup;
        if (opt->progress && stats->n_rows_read % PROGRESS_EVERY_ROWS == 0)
            opt->progress(opt->progress_ctx, "import", (size_t)sgs_csv_bytes_read(reader),
                          (size_t)sgs_csv_total_bytes(reader));
    }
    stats->bytes_read = sgs_csv_bytes_read(reader);
    if (opt->progress)
        opt->progress(opt->progress_ctx, "import", (size_t)stats->bytes_read,
                      (size_t)sgs_csv_total_bytes(reader));
    if (stats->n_imported == 0) {
        uint64_t skipped = 0;
        for (int q = 0; q < SGS_IMPORT_N_REASONS; q++)
            skipped += stats->n_skipped[q];
        rc =
            sgs_error_set(err, SGS_EDATA,
                          "%s: no rows imported (%llu rows read, %llu without customer id, "
                          "%llu bad)",
                          s.file, (unsigned long long)stats->n_rows_read,
                          (unsigned long long)stats->n_skipped[SGS_IMPORT_NO_CUSTOMER],
                          (unsigned long long)(skipped - stats->n_skipped[SGS_IMPORT_NO_CUSTOMER]));
        goto cleanup;
    }
    rc = hand_off(&s, err); /* the last, partial batch */
    if (!rc)
        rc = writer_finish(&s, err);
    if (!rc)
        rc = finish_columns(&s, in_path, err);
    if (!rc) {
        rc = sgs_h5_finish_output(s.h5, rc, err);
        s.h5 = -1;
    }
    if (rc == SGS_EIO)
        sgs_error_prefix(err, "writing %s", out_path);
    if (!rc && opt->stop) /* the last point where the import can step back */
        rc = opt->stop(opt->stop_ctx, err);
    if (rc)
        goto cleanup;
    rc = sgs_atomic_commit(&atomic, err);

cleanup:
    if (rc == SGS_ENOSPACE && atomic.temp_path[0]) /* "<temporary>: no space left on device" */
        sgs_error_rename(err, atomic.temp_path, out_path);
    if (reader && !stats->bytes_read)
        stats->bytes_read = sgs_csv_bytes_read(reader);
    (void)writer_finish(&s, NULL);
    for (int q = 0; q < 2; q++) /* rows queued when a later row failed */
        if (s.batch[q].n && s.customers.keys)
            (void)id_set_add_many(&s.customers, s.batch[q].customer, s.batch[q].n);
    stats->n_customers = s.customers.n;
    sgs_h5_appender_close(s.a_customer, NULL);
    sgs_h5_appender_close(s.a_time, NULL);
    sgs_h5_appender_close(s.a_amount, NULL);
    sgs_h5_appender_close(s.a_channel, NULL);
    sgs_h5_appender_close(s.a_category, NULL);
    if (s.h5 >= 0)
        sgs_h5_finish_output(s.h5, rc, NULL);
    if (rc)
        sgs_atomic_abort(&atomic);
    sgs_csv_close(reader);
    for (int q = 0; q < 2; q++) {
        sgs_free(s.batch[q].customer);
        sgs_free(s.batch[q].time_s);
        sgs_free(s.batch[q].amount);
        sgs_free(s.batch[q].channel);
        sgs_free(s.batch[q].category);
    }
    id_set_free(&s.customers);
    if (c_locale) {
        uselocale(old_locale);
        freelocale(c_locale);
    }
    return rc;
}
