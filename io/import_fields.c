/*
 * io/import_fields.c — the field parsers of the CSV import: integers, decimal numbers, times
 * (csv_import.h), channel names and category codes (import_fields_internal.h).
 */
#include "io/csv_import.h"
#include "io/import_fields_internal.h"
#include "io/import_text_internal.h"

#include "kernels/dates.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The last second of 9999-12-31 UTC: every time format accepts four-digit years only. */
#define LAST_UNIX_SECOND INT64_C(253402300799)

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
        if (t > LAST_UNIX_SECOND) { /* dates have four-digit years everywhere else */
            *reason = "after 9999-12-31 (Unix time too large)";
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

int sgs__import_parse_channel(const char *text, size_t len, uint8_t *code, const char **reason)
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

int sgs__import_parse_category(const char *text, size_t len, int32_t *category, const char **reason)
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
