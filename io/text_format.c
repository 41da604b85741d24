/*
 * io/text_format.c — integer, fixed-point and date formatting without printf, and the
 * parallel writer of text rows (io/text_format.h).
 */
#include "io/text_format.h"

#include "kernels/dates.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

size_t sgs_fmt_int(char *out, int64_t v)
{
    char digits[24];
    size_t n = 0, len = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = digits[--n];
    return len;
}

size_t sgs_fmt_fixed(char *out, double v, int decimals)
{
    static const double scale[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};
    if (isnan(v))
        return 0;
    if (!(fabs(v) < 1e15) || decimals < 0 || decimals > 6) {
        int n = snprintf(out, 32, "%.*f", decimals < 0 ? 0 : decimals, v);
        return n > 0 && n < 32 ? (size_t)n : 0;
    }
    double scaled = round(v * scale[decimals]);
    int negative = scaled < 0;
    uint64_t u = (uint64_t)fabs(scaled);
    uint64_t unit = (uint64_t)scale[decimals];
    size_t len = 0;
    if (negative)
        out[len++] = '-';
    len += sgs_fmt_int(out + len, (int64_t)(u / unit));
    if (decimals > 0) {
        out[len++] = '.';
        uint64_t frac = u % unit;
        for (int k = decimals - 1; k >= 0; k--) {
            out[len + (size_t)k] = (char)('0' + frac % 10);
            frac /= 10;
        }
        len += (size_t)decimals;
    }
    return len;
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

int sgs_write_text_rows(const char *path, const char *header, size_t n_rows, size_t max_line,
                        sgs_format_rows_fn format, const void *ctx, int n_threads, sgs_error_t *err)
{
    enum { MAX_BATCH = 64 };
    size_t n_blocks = sgs_block_count(n_rows, SGS_TEXT_BLOCK_ROWS);
    size_t lengths[MAX_BATCH];
    size_t batch = (size_t)(n_threads > 0 ? n_threads : 1) * 2; /* blocks per round */
    if (batch > MAX_BATCH)
        batch = MAX_BATCH;
    if (batch > n_blocks)
        batch = n_blocks ? n_blocks : 1;
    size_t block_bytes;
    int rc = sgs_size_mul(SGS_TEXT_BLOCK_ROWS, max_line, &block_bytes);
    char *buffers = rc == SGS_OK ? sgs_alloc_array(batch, block_bytes) : NULL;
    FILE *out = fopen(path, "wb");
    if (!buffers || !out) {
        rc = !buffers ? sgs_error_set(err, SGS_ENOMEM, "no memory to format %s", path)
                      : sgs_error_set(err, SGS_ECANTCREAT, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    int ok = fputs(header, out) >= 0;
    for (size_t first = 0; ok && first < n_blocks; first += batch) {
        size_t count = n_blocks - first < batch ? n_blocks - first : batch;
#pragma omp parallel for num_threads(n_threads) schedule(static, 1)
        for (size_t b = 0; b < count; b++) {
            size_t lo = (first + b) * SGS_TEXT_BLOCK_ROWS;
            size_t hi = lo + SGS_TEXT_BLOCK_ROWS < n_rows ? lo + SGS_TEXT_BLOCK_ROWS : n_rows;
            lengths[b] = format(ctx, lo, hi, buffers + b * block_bytes);
        }
        for (size_t b = 0; ok && b < count; b++)
            ok = fwrite(buffers + b * block_bytes, 1, lengths[b], out) == lengths[b];
    }
    if (!ok)
        rc = sgs_error_set_os(err, SGS_EIO, errno ? errno : EIO, path, "write failed");
cleanup:
    if (out && fclose(out) != 0 && rc == SGS_OK)
        rc = sgs_error_set_os(err, SGS_EIO, errno ? errno : EIO, path, "write failed");
    sgs_free(buffers);
    return rc;
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
