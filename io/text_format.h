/*
 * io/text_format.h — fast number and date formatting for large text outputs
 * (customers.csv has one line per customer: printf would dominate the write), and the writer
 * that formats blocks of rows in parallel. It writes files, so it lives in io/ (engine/ holds
 * no OpenMP loop: scripts/check-layers); what each row says is the engine's callback.
 * Each sgs_fmt_* function writes at `out` without a terminating NUL and returns the characters
 * written; `out` must have room for 32 characters.
 */
#ifndef SGS_TEXT_FORMAT_H
#define SGS_TEXT_FORMAT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/core.h"

/* The formatters the writers call per field are inline: at 10M customers the CSV files
 * format about 200 million numbers, and a call each cost a fifth of their time. */

extern const char sgs_fmt_digit_pairs[201];      /* "00" .. "99": two digits per division */
extern const uint64_t sgs_fmt_powers_of_ten[20]; /* 10^0 .. 10^19 */

/* The decimal digits of u >= 10: the number of bits says it to within one, a power of ten
 * decides. */
static inline unsigned sgs_fmt_digit_count(uint64_t u)
{
    unsigned bits = 64 - (unsigned)__builtin_clzll(u);
    unsigned guess = bits * 1233 >> 12; /* 1233 / 4096 is just above log10(2); <= 19 */
    return guess + (u >= sgs_fmt_powers_of_ten[guess]);
}

/* Decimal unsigned integer: its digits counted first and written backwards into place. */
static inline size_t sgs_fmt_uint(char *out, uint64_t u)
{
    size_t len = u < 10 ? 1 : sgs_fmt_digit_count(u);
    char *end = out + len;
    while (u >= 100) {
        end -= 2;
        memcpy(end, &sgs_fmt_digit_pairs[2 * (u % 100)], 2);
        u /= 100;
    }
    if (u >= 10)
        memcpy(end - 2, &sgs_fmt_digit_pairs[2 * u], 2);
    else
        end[-1] = (char)('0' + u);
    return len;
}

/* Decimal integer. */
static inline size_t sgs_fmt_int(char *out, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + sgs_fmt_uint(out + 1, 0 - (uint64_t)v);
    }
    return sgs_fmt_uint(out, (uint64_t)v);
}

/* round(a) for 0 <= a < 2^64, halves away from zero, without the libm call: a - u is exact
 * below 2^53 and zero above it, where a is a whole number. */
static inline uint64_t sgs_fmt_round_half_away(double a)
{
    uint64_t u = (uint64_t)a;
    return u + (a - (double)u >= 0.5);
}

/* sgs_fmt_fixed, not inline: its cases other than 2 and 4 decimals below 1e15 are here. */
size_t sgs_fmt_fixed_any(char *out, double v, int decimals);

/* v rounded to `decimals` (0..6) places, like printf("%.*f") except that halves are
 * rounded away from zero on the scaled value; NaN writes nothing (an empty CSV field);
 * infinities, |v| >= 1e15 and values whose scaled magnitude reaches 2^64 (5 and 6 decimals)
 * fall back to printf. 2 decimals (money) and 4 (probabilities) are the writers' own, here. */
static inline size_t sgs_fmt_fixed(char *out, double v, int decimals)
{
    if ((decimals != 2 && decimals != 4) || !(fabs(v) < 1e15))
        return sgs_fmt_fixed_any(out, v, decimals);
    uint64_t u = sgs_fmt_round_half_away(fabs(v) * (decimals == 2 ? 100.0 : 1e4));
    size_t len = 0;
    if (v < 0 && u != 0) /* a value that rounds to zero has no "-" */
        out[len++] = '-';
    if (decimals == 2) {
        len += sgs_fmt_uint(out + len, u / 100);
        out[len] = '.';
        memcpy(out + len + 1, &sgs_fmt_digit_pairs[2 * (u % 100)], 2);
        return len + 3;
    }
    unsigned f = (unsigned)(u % 10000);
    len += sgs_fmt_uint(out + len, u / 10000);
    out[len] = '.';
    memcpy(out + len + 1, &sgs_fmt_digit_pairs[2 * (f / 100)], 2);
    memcpy(out + len + 3, &sgs_fmt_digit_pairs[2 * (f % 100)], 2);
    return len + 5;
}

/* Exactly the characters of printf("%.*f", decimals, v) (decimals 0..6): the decimal nearest
 * to the binary value, "-" for every negative value (also -0.0 and those that round to
 * zero), "nan" and "inf" spelled by printf. Fast for |v| * 10^decimals < 1e12 that is not
 * within 1e-3 of a tie; printf does the others (at most 330 characters: `out` must have room
 * for SGS_FMT_FIXED_EXACT_MAX). For text that is also written with printf elsewhere and must
 * match it byte for byte (sgs_fmt_fixed rounds ties differently). */
#define SGS_FMT_FIXED_EXACT_MAX 400
size_t sgs_fmt_fixed_exact(char *out, double v, int decimals);

/* YYYY-MM-DD of a UTC day number. */
size_t sgs_fmt_date(char *out, int64_t day);

/* The YYYY-MM-DD of every day of a span, for a writer that prints many dates of a few
 * years (customers.csv's first and last purchase): a copy instead of a calendar computation
 * per date. Caller-owned; the fields are the module's. */
typedef struct sgs_date_texts {
    int64_t first; /* the span's first day */
    size_t n;      /* its days (0: no table, every date computed) */
    char *text;    /* [n * 10] */
} sgs_date_texts_t;

/* The texts of the days first..last. Spans longer than 2^20 days or reaching outside the
 * years 0..9999 (which sgs_fmt_date spells with more characters), and a table there is no
 * memory for, give none (t->n = 0): sgs_fmt_date_in then computes every date. */
void sgs_date_texts_init(sgs_date_texts_t *t, int64_t first, int64_t last);

void sgs_date_texts_free(sgs_date_texts_t *t);

/* What sgs_fmt_date(out, day) writes: copied from t within its span, computed outside. */
static inline size_t sgs_fmt_date_in(const sgs_date_texts_t *t, char *out, int64_t day)
{
    uint64_t k = (uint64_t)day - (uint64_t)t->first;
    if (k < t->n) {
        memcpy(out, t->text + 10 * k, 10);
        return 10;
    }
    return sgs_fmt_date(out, day);
}

/* For reports, not for the fast writers: v rounded to a whole number with thousands
 * separators ("1,234,568"; "-1,235"; "0" for -0.4), NUL-terminated in buf (truncated to
 * size - 1 characters; 40 is always enough). Returns buf. */
const char *sgs_fmt_grouped(double v, char *buf, size_t size);

/* Formats rows lo..hi-1 (at most SGS_TEXT_BLOCK_ROWS) into buf, each line at most the
 * writer's max_line characters; returns the characters written. */
typedef size_t (*sgs_format_rows_fn)(const void *ctx, size_t lo, size_t hi, char *buf);

/* Rows per block: a block of customers.csv is about 250 KB, still in the cache when the thread
 * that formatted it copies it into the writer's staging buffer (io/direct_file.h; blocks of
 * 2 MB cost three times the CPU time on the benchmark VM when they were written through the
 * page cache). */
#define SGS_TEXT_BLOCK_ROWS ((size_t)2048)

/* Write `header` and then n_rows lines to a new file at path: blocks of rows are formatted
 * in parallel into their own buffers and written in block order, so the bytes do not depend
 * on n_threads. @return 0, SGS_ENOMEM, SGS_ECANTCREAT or SGS_EIO (err names the file). */
int sgs_write_text_rows(const char *path, const char *header, size_t n_rows, size_t max_line,
                        sgs_format_rows_fn format, const void *ctx, int n_threads,
                        sgs_error_t *err);

/* Work done for a chunk of rows before they are formatted, for lines whose facts are cheaper
 * to gather in another order than the file's (opportunities.csv: rows in rank order, each
 * reading a dozen columns at a random customer). begin(ctx, lo, hi) runs first, alone; then
 * part(ctx, lo, hi, k, n_parts) for k = 0 .. n_parts - 1, in parallel, each k once. Neither
 * may fail: what they need is allocated beforehand. */
typedef struct sgs_text_chunks {
    size_t rows;    /* rows per chunk (the last may have fewer): a multiple of
                       SGS_TEXT_BLOCK_ROWS, so that every block lies in one chunk */
    size_t n_parts; /* pieces of each chunk's preparation; > 0 */
    void (*begin)(void *ctx, size_t lo, size_t hi);
    void (*part)(void *ctx, size_t lo, size_t hi, size_t k, size_t n_parts);
} sgs_text_chunks_t;

/* sgs_write_text_rows with the rows taken a chunk at a time: each chunk's rows prepared
 * (chunks->begin, then chunks->part in parallel), then formatted and written as there, with
 * ctx. The same bytes as sgs_write_text_rows when format gives them. @return as
 * sgs_write_text_rows; SGS_EINVAL for chunks of no rows or parts, or not of whole blocks. */
int sgs_write_text_chunks(const char *path, const char *header, size_t n_rows, size_t max_line,
                          const sgs_text_chunks_t *chunks, sgs_format_rows_fn format, void *ctx,
                          int n_threads, sgs_error_t *err);

#endif
