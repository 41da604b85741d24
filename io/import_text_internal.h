/*
 * io/import_text_internal.h — the small text helpers of the CSV import (internal to io/import_*.c
 * and io/csv_import.c). No <ctype.h>: its answers depend on the locale.
 */
#ifndef SGS_IMPORT_TEXT_H
#define SGS_IMPORT_TEXT_H

#include <stddef.h>
#include <string.h>

static inline int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Drop blanks at both ends of [*s, *s + *len). */
static inline void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_blank((*s)[*len - 1]))
        (*len)--;
}

/* Case-insensitive equality of two byte ranges. */
static inline int equal_nocase(const char *a, size_t na, const char *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t k = 0; k < na; k++)
        if (to_lower(a[k]) != to_lower(b[k]))
            return 0;
    return 1;
}

/* True for an empty field or a missing-value marker (NA, N/A, NaN, null, None). */
static inline int is_missing(const char *s, size_t len)
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
static inline void show_field(char *dst, size_t size, const char *s, size_t len)
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

#endif
