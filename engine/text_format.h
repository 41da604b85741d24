/*
 * engine/text_format.h — fast number and date formatting for large text outputs
 * (customers.csv has one line per customer: printf would dominate the write).
 * Each function writes at `out` without a terminating NUL and returns the characters
 * written; `out` must have room for 32 characters.
 */
#ifndef SGS_TEXT_FORMAT_H
#define SGS_TEXT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Decimal integer. */
size_t sgs_fmt_int(char *out, int64_t v);

/* v rounded to `decimals` (0..6) places, like printf("%.*f") except that halves are
 * rounded away from zero on the scaled value; NaN writes nothing (an empty CSV field);
 * infinities and |v| >= 1e15 fall back to printf. */
size_t sgs_fmt_fixed(char *out, double v, int decimals);

/* YYYY-MM-DD of a UTC day number. */
size_t sgs_fmt_date(char *out, int64_t day);

#endif
