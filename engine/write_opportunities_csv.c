/*
 * engine/write_opportunities_csv.c — opportunities.csv (docs/opportunities.md has the columns):
 * one line per row of the list, in rank order.
 *
 * A line prints the row's own columns and facts of its customer (the reason, worded from the
 * customer's columns its kind shows (sgs_opportunity_kind_facts), the id, stage, segment and RFM
 * segment). Rows in rank order meet their customers in random order, and at 10M customers each
 * row's columns then cost a cache and a TLB miss apiece: most of this file's time. So one
 * process gathers the facts a chunk of rows at a time with the rows taken in customer order
 * (asking for the rows ahead's columns while it words a row), then formats the chunk's lines
 * in rank order from them; a spread run's customers' processes send the facts
 * (engine/dist_actions.h). Either way the same line for a row, formatted by one function.
 */
#include "engine/dist_actions.h"
#include "engine/dist_text.h"
#include "engine/opportunity_reason.h"
#include "engine/run_actions.h"
#include "kernels/order_keys.h"

#include "io/text_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_LINE_MAX (SGS_OPPORTUNITY_REASON_MAX + 256)

/* The facts of a stretch of rows, from row `first` on: row r's reason is
 * text[start[r - first], end[r - first]). */
typedef struct row_facts {
    size_t first;
    const char *text;
    const size_t *start, *end;
    const int64_t *customer_id;
    const uint8_t *stage;
    const int32_t *segment;     /* -1 without segments */
    const uint8_t *rfm_segment; /* SGS_RFM_SEGMENT_COUNT without a purchase */
} row_facts_t;

static size_t put(char *p, const char *s)
{
    size_t len = strlen(s);
    memcpy(p, s, len);
    return len;
}

enum { REASON_AHEAD = 8 };

/* Rows lo..hi-1 of the list, whose facts f holds, into buf; returns the length. */
static size_t format_rows(const sgs_opportunity_rows_t *rows, const row_facts_t *f, size_t lo,
                          size_t hi, char *buf)
{
    char *p = buf;
    for (size_t r = lo; r < hi; r++) {
        size_t k = r - f->first;
        /* the reasons lie in customer order: ask for a later row's ahead, so that the misses
         * overlap instead of coming one row at a time */
        if (r + REASON_AHEAD < hi) { /* a reason takes about 100 bytes: two lines */
            __builtin_prefetch(f->text + f->start[k + REASON_AHEAD]);
            __builtin_prefetch(f->text + f->start[k + REASON_AHEAD] + 64);
        }
        int kind = rows->kind[r];
        p += sgs_fmt_int(p, rows->rank[r]);
        *p++ = ',';
        p += sgs_fmt_int(p, f->customer_id[k]);
        *p++ = ',';
        p += put(p, sgs_opportunity_kind_name(kind));
        *p++ = ',';
        memcpy(p, f->text + f->start[k], f->end[k] - f->start[k]);
        p += f->end[k] - f->start[k];
        *p++ = ',';
        p += sgs_fmt_fixed(p, rows->value_at_stake[r], 2);
        *p++ = ',';
        p += sgs_fmt_int(p, rows->priority[r]);
        *p++ = ',';
        p += put(p, sgs_channel_name(rows->channel[r]));
        *p++ = ',';
        p += put(p, sgs_stage_name(f->stage[k]));
        *p++ = ',';
        p += sgs_fmt_int(p, f->segment[k]);
        *p++ = ',';
        if (f->rfm_segment[k] < SGS_RFM_SEGMENT_COUNT) /* a buyer */
            p += put(p, sgs_rfm_segment_name(f->rfm_segment[k]));
        *p++ = ',';
        p += put(p, rows->control[r] ? "control" : "treatment");
        *p++ = '\n';
    }
    return (size_t)(p - buf);
}

/* ---- One process: the facts gathered a chunk at a time ---------------------------------- */

/* Rows per chunk: 2^19 rows among 10M customers are about 20 customers apart when taken in
 * customer order, so that each page of a column serves dozens of rows; the chunk's facts take
 * about 100 MB (its reasons) and 40 bytes per row. */
#define CHUNK_ROWS ((size_t)1 << 19)
#define PARTS_PER_THREAD 4

/* CHUNK_ROWS, or fewer for a test (SGS_TEST_CSV_CHUNK_ROWS, rounded up to whole blocks of
 * io/text_format.h), so that a small list spans several chunks. */
static size_t chunk_rows(void)
{
    const char *seam = getenv("SGS_TEST_CSV_CHUNK_ROWS");
    long rows = seam ? atol(seam) : 0;
    return rows > 0 && (size_t)rows < CHUNK_ROWS
               ? sgs_block_count((size_t)rows, SGS_TEXT_BLOCK_ROWS) * SGS_TEXT_BLOCK_ROWS
               : CHUNK_ROWS;
}

typedef struct chunk {
    const sgs_run_state_t *st;
    size_t rows;    /* rows per chunk (chunk_rows()) */
    uint64_t *keys; /* [rows] i << ROW_BITS | j for the chunk's row j (from its first) of
                       customer i, sorted: the rows in customer order */
    char *text;     /* [rows * SGS_OPPORTUNITY_REASON_MAX]: piece k of n words its reasons from
                       the slot of its first key on */
    size_t *start, *end;
    int64_t *customer_id;
    uint8_t *stage, *rfm_segment;
    int32_t *segment;
    row_facts_t facts;
} chunk_t;

#define ROW_BITS 24 /* a chunk's rows (at most CHUNK_ROWS) below 2^24; customers below 2^40 */

/* The chunk's rows in customer order (kernels/order_keys.h: a radix sort). */
static void chunk_begin(void *ctx, size_t lo, size_t hi)
{
    chunk_t *c = ctx;
    const int64_t *customer = c->st->actions->rows.customer_index;
    for (size_t j = 0; j < hi - lo; j++)
        c->keys[j] = (uint64_t)customer[lo + j] << ROW_BITS | j;
    sgs_order_keys_sort(c->keys, hi - lo);
    c->facts.first = lo;
}

/* Rows ahead of the one being gathered whose facts are asked of the memory: the rows of a chunk
 * in customer order are about 20 customers apart at 10M customers, so that every column of
 * every row is a cache miss; asked for in two steps (the columns, then what the columns point
 * to: the customer's RFM segment through buyer_row, its purchase rows through the offsets),
 * they arrive while the rows before are worded instead of one after the other. */
enum { FACTS_AHEAD = 8 };

/* Step 0 or 1 of the facts of the row whose key is `key` (chunk_part reads them). */
static void prefetch_facts(const chunk_t *c, size_t lo, uint64_t key, int step)
{
    const sgs_run_actions_t *A = c->st->actions;
    size_t j = key & (((uint64_t)1 << ROW_BITS) - 1);
    size_t i = key >> ROW_BITS;
    sgs_opportunity_kind_facts_prefetch(&A->opp_in, i, A->rows.kind[lo + j], step);
    if (step == 0) {
        __builtin_prefetch(&A->customer_id[i]);
        __builtin_prefetch(&A->stage[i]);
        __builtin_prefetch(&A->buyer_row[i]);
        if (A->input.segment)
            __builtin_prefetch(&A->input.segment[i]);
    } else {
        if (A->buyer_row[i] >= 0)
            __builtin_prefetch(&c->st->rfm.rfm_segment[A->buyer_row[i]]);
        /* the row's slots, written at its place in rank order: a miss each too */
        __builtin_prefetch(&c->start[j], 1);
        __builtin_prefetch(&c->end[j], 1);
        __builtin_prefetch(&c->customer_id[j], 1);
        __builtin_prefetch(&c->stage[j], 1);
        __builtin_prefetch(&c->segment[j], 1);
        __builtin_prefetch(&c->rfm_segment[j], 1);
    }
}

/* Piece k of n: the facts of its share of the chunk's rows, taken in customer order. */
static void chunk_part(void *ctx, size_t lo, size_t hi, size_t k, size_t n)
{
    chunk_t *c = ctx;
    const sgs_run_state_t *st = c->st;
    const sgs_run_actions_t *A = st->actions;
    size_t m = hi - lo, a = m * k / n, b = m * (k + 1) / n;
    size_t at = a * SGS_OPPORTUNITY_REASON_MAX;
    for (size_t s = a; s < b; s++) {
        if (s + 2 * FACTS_AHEAD < b)
            prefetch_facts(c, lo, c->keys[s + 2 * FACTS_AHEAD], 0);
        if (s + FACTS_AHEAD < b)
            prefetch_facts(c, lo, c->keys[s + FACTS_AHEAD], 1);
        size_t j = c->keys[s] & (((uint64_t)1 << ROW_BITS) - 1);
        size_t i = c->keys[s] >> ROW_BITS;
        int len =
            sgs_opportunity_reason(&A->opp_in, &A->opp_cfg, &A->opp_stats, i, A->rows.kind[lo + j],
                                   c->text + at, SGS_OPPORTUNITY_REASON_MAX);
        c->start[j] = at;
        if (len > 0)
            at += len < SGS_OPPORTUNITY_REASON_MAX ? (size_t)len : SGS_OPPORTUNITY_REASON_MAX - 1;
        c->end[j] = at;
        c->customer_id[j] = A->customer_id[i];
        c->stage[j] = A->stage[i];
        c->segment[j] = A->input.segment ? A->input.segment[i] : -1;
        c->rfm_segment[j] =
            A->buyer_row[i] >= 0 ? st->rfm.rfm_segment[A->buyer_row[i]] : SGS_RFM_SEGMENT_COUNT;
    }
}

static size_t format_chunk_rows(const void *ctx, size_t lo, size_t hi, char *buf)
{
    const chunk_t *c = ctx;
    return format_rows(&c->st->actions->rows, &c->facts, lo, hi, buf);
}

static void chunk_free(chunk_t *c)
{
    sgs_free(c->keys);
    sgs_free(c->text);
    sgs_free(c->start);
    sgs_free(c->end);
    sgs_free(c->customer_id);
    sgs_free(c->stage);
    sgs_free(c->rfm_segment);
    sgs_free(c->segment);
}

static int chunk_alloc(chunk_t *c, const sgs_run_state_t *st, size_t n_rows)
{
    memset(c, 0, sizeof *c);
    c->st = st;
    c->rows = chunk_rows();
    size_t m = n_rows < c->rows ? n_rows : c->rows;
    c->keys = sgs_alloc_array(m, sizeof *c->keys);
    c->text = sgs_alloc_array(m, SGS_OPPORTUNITY_REASON_MAX);
    c->start = sgs_alloc_array(m, sizeof *c->start);
    c->end = sgs_alloc_array(m, sizeof *c->end);
    c->customer_id = sgs_alloc_array(m, sizeof *c->customer_id);
    c->stage = sgs_alloc_array(m, sizeof *c->stage);
    c->rfm_segment = sgs_alloc_array(m, sizeof *c->rfm_segment);
    c->segment = sgs_alloc_array(m, sizeof *c->segment);
    c->facts = (row_facts_t){0,        c->text,    c->start,      c->end, c->customer_id,
                             c->stage, c->segment, c->rfm_segment};
    return c->keys && c->text && c->start && c->end && c->customer_id && c->stage &&
                   c->rfm_segment && c->segment
               ? SGS_OK
               : SGS_ENOMEM;
}

static int write_one_process(const sgs_run_state_t *st, const char *path, const char *header,
                             sgs_error_t *err)
{
    size_t n_rows = st->actions ? st->actions->n_rows : 0;
    if (n_rows == 0)
        return sgs_write_text_rows(path, header, 0, CSV_LINE_MAX, format_chunk_rows, NULL, 1, err);
    chunk_t c;
    if (chunk_alloc(&c, st, n_rows) != SGS_OK) {
        chunk_free(&c);
        return sgs_error_set(err, SGS_ENOMEM, "no memory to format %s", path);
    }
    int threads = st->exec.n_threads > 0 ? st->exec.n_threads : 1;
    const sgs_text_chunks_t chunks = {c.rows, (size_t)threads * PARTS_PER_THREAD, chunk_begin,
                                      chunk_part};
    int rc = sgs_write_text_chunks(path, header, n_rows, CSV_LINE_MAX, &chunks, format_chunk_rows,
                                   &c, threads, err);
    chunk_free(&c);
    return rc;
}

/* ---- A spread run: the facts its customers' processes sent ------------------------------- */

static size_t format_spread_rows(const void *ctx, size_t lo, size_t hi, char *buf)
{
    const sgs_run_actions_t *A = ((const sgs_run_state_t *)ctx)->actions;
    const sgs_dist_row_facts_t *d = &A->dist_list->facts;
    const row_facts_t f = {0,
                           d->reason_text,
                           d->reason_offset,
                           d->reason_offset + 1,
                           A->dist_list->list.customer_id,
                           d->stage,
                           d->segment,
                           d->rfm_segment};
    return format_rows(&A->rows, &f, lo, hi, buf);
}

int sgs_write_opportunities_csv(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    char header[256];
    snprintf(header, sizeof header, "%s\n", sgs_opportunities_csv_header);
    /* spread: this process's stretch of the list at the sum of the lengths before it
     * (engine/dist_text.h) */
    if (st->dist.size > 1)
        return sgs_dist_write_text_rows(&st->dist, path, header,
                                        st->actions ? st->actions->n_rows : 0, CSV_LINE_MAX,
                                        format_spread_rows, st, err);
    return write_one_process(st, path, header, err);
}
