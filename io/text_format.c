/*
 * io/text_format.c — integer, fixed-point and date formatting without printf, and the
 * parallel writer of text rows (io/text_format.h).
 */
#include "io/text_format.h"

#include "io/direct_file.h"
#include "kernels/dates.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

const char sgs_fmt_digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

const uint64_t sgs_fmt_powers_of_ten[20] = {1ULL,
                                            10ULL,
                                            100ULL,
                                            1000ULL,
                                            10000ULL,
                                            100000ULL,
                                            1000000ULL,
                                            10000000ULL,
                                            100000000ULL,
                                            1000000000ULL,
                                            10000000000ULL,
                                            100000000000ULL,
                                            1000000000000ULL,
                                            10000000000000ULL,
                                            100000000000000ULL,
                                            1000000000000000ULL,
                                            10000000000000000ULL,
                                            100000000000000000ULL,
                                            1000000000000000000ULL,
                                            10000000000000000000ULL};

/* 10^decimals for the fixed-point formatters (0..6). */
static const double scale[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};

/* u / 10^decimals with its `decimals` digits after the point (decimals 0..6). */
static size_t put_scaled(char *out, uint64_t u, int decimals)
{
    uint64_t unit = sgs_fmt_powers_of_ten[decimals];
    size_t len = sgs_fmt_uint(out, u / unit);
    if (decimals == 0)
        return len;
    out[len++] = '.';
    uint64_t frac = u % unit;
    for (int k = decimals - 1; k >= 0; k--) {
        out[len + (size_t)k] = (char)('0' + frac % 10);
        frac /= 10;
    }
    return len + (size_t)decimals;
}

size_t sgs_fmt_fixed_any(char *out, double v, int decimals)
{
    if (isnan(v))
        return 0;
    /* the scaled magnitude below 2^64, where its whole part is an integer of ours (with 5 and
     * 6 decimals values under 1e15 reach past it) */
    double a = decimals >= 0 && decimals <= 6 ? fabs(v) * scale[decimals] : 0;
    if (!(fabs(v) < 1e15) || !(a < 0x1p64) || decimals < 0 || decimals > 6) {
        int n = snprintf(out, 32, "%.*f", decimals < 0 ? 0 : decimals, v);
        return n > 0 && n < 32 ? (size_t)n : 0;
    }
    uint64_t u = sgs_fmt_round_half_away(a);
    size_t len = 0;
    if (v < 0 && u != 0)
        out[len++] = '-';
    return len + put_scaled(out + len, u, decimals);
}

size_t sgs_fmt_fixed_exact(char *out, double v, int decimals)
{
    if (decimals < 0 || decimals > 6) {
        int n = snprintf(out, SGS_FMT_FIXED_EXACT_MAX, "%.*f", decimals < 0 ? 0 : decimals, v);
        return n > 0 && n < SGS_FMT_FIXED_EXACT_MAX ? (size_t)n : 0;
    }
    /* s is a * 10^d rounded once: within 2^-13 of the exact product below 1e12, so away
     * from a tie (frac within 1e-3 of 0.5) the nearest integer to s is that of the exact
     * product, which is what printf rounds to. Near a tie printf decides on the exact value. */
    double a = fabs(v), s = a * scale[decimals];
    double whole = s < 1e12 ? (double)(uint64_t)s : 0, frac = s - whole; /* floor(s) */
    if (!(s < 1e12) || fabs(frac - 0.5) < 1e-3) {
        int n = snprintf(out, SGS_FMT_FIXED_EXACT_MAX, "%.*f", decimals, v);
        return n > 0 && n < SGS_FMT_FIXED_EXACT_MAX ? (size_t)n : 0;
    }
    uint64_t u = (uint64_t)whole + (frac > 0.5);
    size_t len = 0;
    if (signbit(v))
        out[len++] = '-';
    return len + put_scaled(out + len, u, decimals);
}

size_t sgs_fmt_date(char *out, int64_t day)
{
    int64_t y;
    unsigned m, d;
    sgs_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        int n = snprintf(out, 32, "%lld-%02u-%02u", (long long)y, m, d);
        return n > 0 && n < 32 ? (size_t)n : 0;
    }
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    return 10;
}

void sgs_date_texts_init(sgs_date_texts_t *t, int64_t first, int64_t last)
{
    *t = (sgs_date_texts_t){first, 0, NULL};
    if (last < first || (uint64_t)last - (uint64_t)first >= (uint64_t)1 << 20)
        return;
    /* years outside 0..9999 (a year grows with the day): computed, as sgs_fmt_date spells them */
    char a[32], b[32];
    if (sgs_fmt_date(a, first) != 10 || a[0] == '-' || sgs_fmt_date(b, last) != 10 || b[0] == '-')
        return;
    size_t n = (size_t)(last - first) + 1;
    t->text = sgs_alloc_array(n, 10);
    if (!t->text)
        return;
    for (size_t k = 0; k < n; k++)
        sgs_fmt_date(t->text + 10 * k, first + (int64_t)k);
    t->n = n;
}

void sgs_date_texts_free(sgs_date_texts_t *t)
{
    sgs_free(t->text);
    *t = (sgs_date_texts_t){0, 0, NULL};
}

/* Whose turn it is to write: the block number, advanced by each writer. Threads that wait
 * for their turn sleep on the condition instead of spinning as they do in an `omp ordered`
 * (with blocks of 250 KB that spinning took more CPU time than the formatting). */
typedef struct write_turn {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t next; /* the block to be written next */
} write_turn_t;

static void turn_wait(write_turn_t *t, size_t b)
{
    pthread_mutex_lock(&t->lock);
    while (t->next != b)
        pthread_cond_wait(&t->changed, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

static void turn_pass(write_turn_t *t)
{
    pthread_mutex_lock(&t->lock);
    t->next++;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
}

/* The writer's staging buffer: formatted blocks are gathered into it and go to the disk
 * past the page cache 4 MiB at a time (io/direct_file.h). */
#define TEXT_STAGE_BYTES ((size_t)4 << 20)

/* The blocks of rows lo..hi-1 (lo a multiple of SGS_TEXT_BLOCK_ROWS), formatted in parallel
 * and appended to out in block order. Blocks are dealt to the threads in turn (schedule(static,
 * 1), each thread taking its blocks in increasing order) and each written when the one before
 * it is: while one thread writes its block, the others format theirs, so the write overlaps
 * the formatting instead of following it, and each thread needs one block buffer (it reuses it
 * only after its write). @return 0 or the first failed append's error. */
static int write_blocks(sgs_direct_file_t *out, size_t lo, size_t hi, sgs_format_rows_fn format,
                        const void *ctx, char *buffers, size_t block_bytes, int threads,
                        sgs_error_t *err)
{
    size_t first = lo / SGS_TEXT_BLOCK_ROWS, n_blocks = sgs_block_count(hi, SGS_TEXT_BLOCK_ROWS);
    int ok = 1;
    sgs_error_t write_err = {0}; /* the first failed append's, set by the writer in turn */
    write_turn_t turn = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, first};
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (size_t b = first; b < n_blocks; b++) {
        int going;
#pragma omp atomic read
        going = ok;
        char *buf = buffers + ((b - first) % (size_t)threads) * block_bytes;
        size_t a = b * SGS_TEXT_BLOCK_ROWS;
        size_t z = a + SGS_TEXT_BLOCK_ROWS < hi ? a + SGS_TEXT_BLOCK_ROWS : hi;
        size_t len = going ? format(ctx, a, z, buf) : 0;
        turn_wait(&turn, b);
        if (ok && sgs_direct_append(out, buf, len, &write_err) != SGS_OK) {
#pragma omp atomic write
            ok = 0;
        }
        turn_pass(&turn);
    }
    pthread_cond_destroy(&turn.changed);
    pthread_mutex_destroy(&turn.lock);
    if (ok)
        return SGS_OK;
    if (err)
        *err = write_err;
    return write_err.code;
}

int sgs_write_text_chunks(const char *path, const char *header, size_t n_rows, size_t max_line,
                          const sgs_text_chunks_t *chunks, sgs_format_rows_fn format, void *ctx,
                          int n_threads, sgs_error_t *err)
{
    if (chunks &&
        (chunks->rows == 0 || chunks->rows % SGS_TEXT_BLOCK_ROWS != 0 || chunks->n_parts == 0))
        return sgs_error_set(err, SGS_EINVAL, "%s: chunks of %zu rows in %zu parts", path,
                             chunks->rows, chunks->n_parts);
    size_t chunk_rows = chunks ? chunks->rows : n_rows;
    size_t n_blocks = sgs_block_count(n_rows, SGS_TEXT_BLOCK_ROWS);
    int threads = n_threads > 0 ? n_threads : 1;
    if ((size_t)threads > n_blocks)
        threads = n_blocks > 0 ? (int)n_blocks : 1;
    size_t block_bytes;
    int rc = sgs_size_mul(SGS_TEXT_BLOCK_ROWS, max_line, &block_bytes);
    char *buffers = rc == SGS_OK ? sgs_alloc_array((size_t)threads, block_bytes) : NULL;
    if (!buffers)
        return sgs_error_set(err, SGS_ENOMEM, "no memory to format %s", path);
    sgs_direct_file_t out;
    rc = sgs_direct_open(&out, path, 1, TEXT_STAGE_BYTES, err);
    if (rc != SGS_OK) {
        sgs_free(buffers);
        return rc;
    }
    rc = sgs_direct_append(&out, header, strlen(header), err);
    for (size_t lo = 0; rc == SGS_OK && lo < n_rows; lo += chunk_rows) {
        size_t hi = n_rows - lo > chunk_rows ? lo + chunk_rows : n_rows;
        if (chunks) {
            chunks->begin(ctx, lo, hi);
            size_t n_parts = chunks->n_parts;
#pragma omp parallel for num_threads(n_threads > 0 ? n_threads : 1) schedule(dynamic, 1)
            for (size_t k = 0; k < n_parts; k++)
                chunks->part(ctx, lo, hi, k, n_parts);
        }
        rc = write_blocks(&out, lo, hi, format, ctx, buffers, block_bytes, threads, err);
    }
    rc = sgs_direct_close(&out, rc, err);
    sgs_free(buffers);
    return rc;
}

int sgs_write_text_rows(const char *path, const char *header, size_t n_rows, size_t max_line,
                        sgs_format_rows_fn format, const void *ctx, int n_threads, sgs_error_t *err)
{
    return sgs_write_text_chunks(path, header, n_rows, max_line, NULL, format, (void *)ctx,
                                 n_threads, err);
}

const char *sgs_fmt_grouped(double v, char *buf, size_t size)
{
    char digits[400];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t len = strlen(digits), k = 0;
    if (size == 0)
        return buf;
    if (v <= -0.5 && k + 1 < size)
        buf[k++] = '-';
    for (size_t i = 0; i < len && k + 1 < size; i++) {
        buf[k++] = digits[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len && k + 1 < size)
            buf[k++] = ',';
    }
    buf[k] = '\0';
    return buf;
}
