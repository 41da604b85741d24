/*
 * engine/write_customers_csv.c — customers.csv: one line per customer with the summary in
 * the configured time unit and the RFM scores and segment, for tools that do not read
 * HDF5. Blocks of customers are formatted in parallel into their own buffers and written
 * in block order, so the bytes do not depend on the thread count.
 */
#include "engine/run_state.h"

#include "engine/text_format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CSV_BLOCK ((size_t)16384)
#define CSV_LINE_MAX 768 /* 21 fields of at most 32 characters, and the segment name */

static const char CSV_HEADER[] =
    "customer_id,first_purchase,last_purchase,n_purchase_days,frequency,recency,T,"
    "time_since_last,total_spend,mean_spend,monetary,refund_total,r_score,f_score,m_score,"
    "rfm_cell,rfm_segment";
static const char CSV_VALUE_HEADER[] = ",p_alive,expected_purchases,expected_spend,clv";

/* Format customers lo..hi-1 into buf; returns the length. */
static size_t format_block(const sgs_run_state_t *st, size_t lo, size_t hi, char *buf)
{
    const sgs_summary_t *s = &st->summary;
    double unit = st->days_per_unit;
    int duration_decimals = unit == 1.0 ? 0 : 4;
    char *p = buf;
    for (size_t c = lo; c < hi; c++) {
        p += sgs_fmt_int(p, st->customer_id[c]);
        *p++ = ',';
        p += sgs_fmt_date(p, s->first_day[c]);
        *p++ = ',';
        p += sgs_fmt_date(p, s->last_day[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, s->n_purchase_days[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, s->frequency[c]);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->recency_days[c] / unit, duration_decimals);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->age_days[c] / unit, duration_decimals);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->days_since_last[c] / unit, duration_decimals);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->total_spend[c], 2);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->mean_spend[c], 2);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->monetary[c], 2);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->refund_total[c], 2);
        *p++ = ',';
        p += sgs_fmt_int(p, st->r_score[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, st->f_score[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, st->m_score[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, st->rfm_cell[c]);
        *p++ = ',';
        const char *name = sgs_rfm_segment_name(st->rfm_segment[c]);
        size_t len = strlen(name);
        memcpy(p, name, len);
        p += len;
        if (st->value_ran) {
            *p++ = ',';
            p += sgs_fmt_fixed(p, st->p_alive[c], 4);
            *p++ = ',';
            p += sgs_fmt_fixed(p, st->expected_purchases[c], 4);
            *p++ = ',';
            p += sgs_fmt_fixed(p, st->expected_spend[c], 2);
            *p++ = ',';
            p += sgs_fmt_fixed(p, st->clv[c], 2);
        }
        if (st->segments_ran) {
            *p++ = ',';
            p += sgs_fmt_int(p, st->segment[c]);
        }
        *p++ = '\n';
    }
    return (size_t)(p - buf);
}

int sgs_write_customers_csv(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    int n_threads = st->exec.n_threads;
    size_t n = st->n_customers;
    size_t n_blocks = sgs_block_count(n, CSV_BLOCK);
    size_t lengths[64];
    size_t batch = (size_t)n_threads * 2; /* blocks formatted per round */
    if (batch > 64)
        batch = 64;
    char *buffers = sgs_alloc_array(batch, CSV_BLOCK * CSV_LINE_MAX);
    FILE *out = fopen(path, "wb");
    int rc = SGS_OK;
    if (!buffers || !out) {
        rc = !buffers ? sgs_error_set(err, SGS_ENOMEM, "no memory to format %s", path)
                      : sgs_error_set(err, SGS_ECANTCREAT, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    int ok = fputs(CSV_HEADER, out) >= 0 && (!st->value_ran || fputs(CSV_VALUE_HEADER, out) >= 0) &&
             (!st->segments_ran || fputs(",segment", out) >= 0) && fputc('\n', out) != EOF;
    for (size_t first = 0; ok && first < n_blocks; first += batch) {
        size_t count = n_blocks - first < batch ? n_blocks - first : batch;
#pragma omp parallel for num_threads(n_threads) schedule(static, 1)
        for (size_t b = 0; b < count; b++) {
            size_t lo = (first + b) * CSV_BLOCK;
            size_t hi = lo + CSV_BLOCK < n ? lo + CSV_BLOCK : n;
            lengths[b] = format_block(st, lo, hi, buffers + b * CSV_BLOCK * CSV_LINE_MAX);
        }
        for (size_t b = 0; ok && b < count; b++)
            ok = fwrite(buffers + b * CSV_BLOCK * CSV_LINE_MAX, 1, lengths[b], out) == lengths[b];
    }
    if (!ok)
        rc = sgs_error_set(err, SGS_EIO, "%s: write failed: %s", path, strerror(errno));
cleanup:
    if (out && fclose(out) != 0 && rc == SGS_OK)
        rc = sgs_error_set(err, SGS_EIO, "%s: write failed: %s", path, strerror(errno));
    sgs_free(buffers);
    return rc;
}
