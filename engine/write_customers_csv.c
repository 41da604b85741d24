/*
 * engine/write_customers_csv.c — customers.csv: one line per customer with the summary in
 * the configured time unit and the RFM scores and segment, for tools that do not read
 * HDF5 (written by sgs_write_text_rows: the bytes do not depend on the thread count).
 */
#include "engine/run_state.h"

#include "engine/dist_text.h"
#include "io/text_format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CSV_LINE_MAX 800 /* 22 fields of at most 32 characters, and the segment name */

static const char CSV_HEADER[] =
    "customer_id,first_purchase,last_purchase,n_purchase_days,frequency,recency,T,"
    "time_since_last,total_spend,mean_spend,monetary,refund_total,r_score,f_score,m_score,"
    "rfm_cell,rfm_segment";
static const char CSV_VALUE_HEADER[] = ",p_alive,expected_purchases,expected_spend,clv,p_buy";

/* A duration of whole days in the unit: in days it is the integer itself (what
 * sgs_fmt_fixed writes for it with 0 decimals), without the floating-point detour. */
static size_t put_duration(char *p, int32_t days, double unit, int decimals)
{
    if (unit == 1.0)
        return sgs_fmt_int(p, days);
    return sgs_fmt_fixed(p, days / unit, decimals);
}

/* Days of purchase dates copied from a table: the 44 years up to the as-of day. */
#define DATE_TABLE_DAYS 16384

/* What a block is formatted from: the state, and the texts of recent days. */
typedef struct csv_context {
    const sgs_run_state_t *st;
    sgs_date_texts_t dates;
} csv_context_t;

/* Format customers lo..hi-1 into buf; returns the length. */
static size_t format_block(const void *ctx, size_t lo, size_t hi, char *buf)
{
    const csv_context_t *cx = ctx;
    const sgs_run_state_t *st = cx->st;
    const sgs_summary_t *s = &st->summary.columns;
    double unit = st->days_per_unit;
    int duration_decimals = unit == 1.0 ? 0 : 4;
    char *p = buf;
    for (size_t c = lo; c < hi; c++) {
        p += sgs_fmt_int(p, st->summary.customer_id[c]);
        *p++ = ',';
        p += sgs_fmt_date_in(&cx->dates, p, s->first_day[c]);
        *p++ = ',';
        p += sgs_fmt_date_in(&cx->dates, p, s->last_day[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, s->n_purchase_days[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, s->frequency[c]);
        *p++ = ',';
        p += put_duration(p, s->recency_days[c], unit, duration_decimals);
        *p++ = ',';
        p += put_duration(p, s->age_days[c], unit, duration_decimals);
        *p++ = ',';
        p += put_duration(p, s->days_since_last[c], unit, duration_decimals);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->total_spend[c], 2);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->mean_spend[c], 2);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->monetary[c], 2);
        *p++ = ',';
        p += sgs_fmt_fixed(p, s->refund_total[c], 2);
        *p++ = ',';
        p += sgs_fmt_int(p, st->rfm.r_score[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, st->rfm.f_score[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, st->rfm.m_score[c]);
        *p++ = ',';
        p += sgs_fmt_int(p, st->rfm.rfm_cell[c]);
        *p++ = ',';
        const char *name = sgs_rfm_segment_name(st->rfm.rfm_segment[c]);
        size_t len = strlen(name);
        memcpy(p, name, len);
        p += len;
        if (st->value.ran) {
            *p++ = ',';
            p += sgs_fmt_fixed(p, st->value.p_alive[c], 4);
            *p++ = ',';
            p += sgs_fmt_fixed(p, st->value.expected_purchases[c], 4);
            *p++ = ',';
            p += sgs_fmt_fixed(p, st->value.expected_spend[c], 2);
            *p++ = ',';
            p += sgs_fmt_fixed(p, st->value.clv[c], 2);
            *p++ = ',';
            p += sgs_fmt_fixed(p, st->value.p_buy[c], 4);
        }
        if (st->segments.ran) {
            *p++ = ',';
            p += sgs_fmt_int(p, st->segments.segment[c]);
        }
        *p++ = '\n';
    }
    return (size_t)(p - buf);
}

int sgs_write_customers_csv(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    char header[sizeof CSV_HEADER + sizeof CSV_VALUE_HEADER + 16];
    snprintf(header, sizeof header, "%s%s%s\n", CSV_HEADER, st->value.ran ? CSV_VALUE_HEADER : "",
             st->segments.ran ? ",segment" : "");
    size_t n = st->summary.n_customers;
    /* no purchase day is after the as-of day; earlier than the table, a date is computed */
    const int64_t as_of = st->read.as_of_day;
    csv_context_t cx = {st, {0, 0, NULL}};
    sgs_date_texts_init(&cx.dates, as_of - DATE_TABLE_DAYS + 1, as_of);
    int rc;
    /* spread: this process's rows at the sum of the lengths before them (engine/dist_text.h) */
    if (st->dist.size > 1)
        rc = sgs_dist_write_text_rows(&st->dist, path, header, n, CSV_LINE_MAX, format_block, &cx,
                                      err);
    else
        rc = sgs_write_text_rows(path, header, n, CSV_LINE_MAX, format_block, &cx,
                                 st->exec.n_threads, err);
    sgs_date_texts_free(&cx.dates);
    return rc;
}
