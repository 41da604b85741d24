/*
 * io/h5_input.c — the validating chunked input reader: its options, the three table readers
 * and the input's identity. See h5_input.h for the contract, h5_reader_internal.h for the
 * files the reader is made of.
 */
#include "io/h5_input.h"

#include "io/h5_crash.h"
#include "io/h5_reader_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- The readers ---------------------------------------------------------------------- */

void sgs_read_options_init(sgs_read_options_t *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->now_s = (int64_t)time(NULL);
    opt->chunk_rows = DEFAULT_CHUNK_ROWS;
    opt->n_threads = 1;
}

/* Give back the tail of a column allocated for more rows than were kept. */
static void *shrink(void *p, size_t n, size_t elem, size_t n_alloc)
{
    if (!p || n >= n_alloc)
        return p;
    void *q = sgs_realloc_array(p, n, elem);
    return q ? q : p;
}

/* The reader's figures to *stats; a share's block hashes move there. */
static void fill_stats(reader_t *r, sgs_read_stats_t *stats)
{
    if (!stats)
        return;
    stats->block_hash = r->block_hash;
    stats->n_block_hash = r->n_block_hash;
    r->block_hash = NULL;
    stats->n_rows_in_file = r->n_rows;
    stats->n_rows_after_as_of = r->n_excluded;
    stats->sorted_by_customer = r->sorted;
    stats->min_time_s = r->n_kept ? r->min_time_s : 0;
    stats->max_time_s = r->n_kept ? r->max_time_s : 0;
    stats->content_hash64 = sgs__reader_content_hash(r);
}

static const column_spec_t tx_specs[] = {
    {"customer_id", 1, 0, SGS_H5_I64}, {"time", 1, 0, SGS_H5_I64},     {"amount", 1, 1, SGS_H5_F64},
    {"channel", 0, 0, SGS_H5_U8},      {"category", 0, 0, SGS_H5_I32},
};

int sgs_h5_read_transactions(const char *path, const sgs_read_options_t *opt,
                             sgs_transactions_t *out, sgs_read_stats_t *stats, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (stats)
        memset(stats, 0, sizeof *stats);
    reader_t r;
    sgs__reader_init(&r, path, opt, err);
    int present = 0;
    sgs_h5_crash_arm(path); /* the file's metadata: opened and checked by HDF5 */
    int rc = sgs__reader_open_file(&r.rep, &r.file);
    /* category is the last spec: leaving it out leaves its column unopened */
    if (rc == SGS_OK)
        rc = sgs__reader_open_group(&r, "/transactions", tx_specs,
                                    opt && opt->skip_category ? 4 : 5, 1, &present);
    sgs_h5_crash_disarm();
    if (rc)
        goto cleanup;
    if (r.n_rows == 0) {
        sgs__reader_report(&r.rep, SGS_CHECK_EMPTY, SGS_EDATA, "/transactions", SGS_NO_ROW,
                           "the table is empty (0 rows); there is nothing to analyze");
        rc = SGS_EDATA;
        goto cleanup;
    }
    size_t n_read = sgs__reader_set_rows(&r, opt);
    rc = n_read == SIZE_MAX ? SGS_ENOMEM
                            : sgs_transactions_alloc(out, n_read ? n_read : 1, r.cols[3].dset >= 0,
                                                     r.cols[4].dset >= 0);
    if (rc) { /* the guard's checks left to the decode come first */
        rc = sgs__reader_settle(&r);
        if (!rc)
            rc = sgs_error_set(err, SGS_ENOMEM, "%s: out of memory for %zu transactions", path,
                               r.n_rows);
        goto cleanup;
    }
    r.cols[0].data = (unsigned char *)out->customer_id;
    r.cols[1].data = (unsigned char *)out->time_s;
    r.cols[2].data = (unsigned char *)out->amount;
    r.cols[3].data = (unsigned char *)out->channel;
    r.cols[4].data = (unsigned char *)out->category;
    r.id = out->customer_id;
    r.time = out->time_s;
    r.amount = out->amount;
    r.hash_kind = 1;
    rc = sgs__reader_read_chunks(&r, opt, "transactions");
    if (rc)
        goto cleanup;
    if (r.n_kept == 0 && !(opt && opt->n_shares > 1)) { /* a share may hold none */
        char end[48];
        sgs__reader_format_iso(r.as_of_end_s, end, sizeof end);
        sgs__reader_report(
            &r.rep, SGS_CHECK_EMPTY, SGS_EDATA, "/transactions", SGS_NO_ROW,
            "all %zu rows are at or after the as-of end %s; there is nothing to analyze", r.n_rows,
            end);
        rc = SGS_EDATA;
        goto cleanup;
    }
    out->customer_id = shrink(out->customer_id, r.n_kept, sizeof(int64_t), n_read);
    out->time_s = shrink(out->time_s, r.n_kept, sizeof(int64_t), n_read);
    out->amount = shrink(out->amount, r.n_kept, sizeof(double), n_read);
    out->channel = shrink(out->channel, r.n_kept, sizeof(uint8_t), n_read);
    out->category = shrink(out->category, r.n_kept, sizeof(int32_t), n_read);
    out->n_rows = r.n_kept;
    fill_stats(&r, stats);
cleanup:
    sgs__reader_close(&r);
    if (rc)
        sgs_transactions_free(out);
    return rc;
}

static const column_spec_t ev_specs[] = {
    {"customer_id", 1, 0, SGS_H5_I64}, {"time", 1, 0, SGS_H5_I64},   {"kind", 1, 0, SGS_H5_U8},
    {"value", 0, 1, SGS_H5_F64},       {"channel", 0, 0, SGS_H5_U8},
};

int sgs_h5_read_events(const char *path, const sgs_read_options_t *opt, sgs_events_t *out,
                       int *present, sgs_read_stats_t *stats, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    *present = 0;
    if (stats)
        memset(stats, 0, sizeof *stats);
    reader_t r;
    sgs__reader_init(&r, path, opt, err);
    sgs_h5_crash_arm(path);
    int rc = sgs__reader_open_file(&r.rep, &r.file);
    if (rc == SGS_OK)
        rc = sgs__reader_open_group(&r, "/events", ev_specs, 5, 0, present);
    sgs_h5_crash_disarm();
    if (rc || !*present)
        goto cleanup;
    size_t n_read = sgs__reader_set_rows(&r, opt);
    rc = n_read == SIZE_MAX
             ? SGS_ENOMEM
             : sgs_events_alloc(out, n_read ? n_read : 1, r.cols[3].dset >= 0, r.cols[4].dset >= 0);
    if (rc) {
        rc = sgs__reader_settle(&r);
        if (!rc)
            rc = sgs_error_set(err, SGS_ENOMEM, "%s: out of memory for %zu events", path, r.n_rows);
        goto cleanup;
    }
    r.cols[0].data = (unsigned char *)out->customer_id;
    r.cols[1].data = (unsigned char *)out->time_s;
    r.cols[2].data = (unsigned char *)out->kind;
    r.cols[3].data = (unsigned char *)out->value;
    r.cols[4].data = (unsigned char *)out->channel;
    r.id = out->customer_id;
    r.time = out->time_s;
    r.kind = out->kind;
    r.hash_kind = 2;
    rc = sgs__reader_read_chunks(&r, opt, "events");
    if (rc)
        goto cleanup;
    out->customer_id = shrink(out->customer_id, r.n_kept, sizeof(int64_t), n_read);
    out->time_s = shrink(out->time_s, r.n_kept, sizeof(int64_t), n_read);
    out->kind = shrink(out->kind, r.n_kept, sizeof(uint8_t), n_read);
    out->value = shrink(out->value, r.n_kept, sizeof(double), n_read);
    out->channel = shrink(out->channel, r.n_kept, sizeof(uint8_t), n_read);
    out->n_rows = r.n_kept;
    fill_stats(&r, stats);
cleanup:
    sgs__reader_close(&r);
    if (rc) {
        sgs_events_free(out);
        *present = 0;
    }
    return rc;
}

static const column_spec_t cu_specs[] = {
    {"customer_id", 1, 0, SGS_H5_I64},
    {"signup_time", 0, 0, SGS_H5_I64},
    {"referrer_id", 0, 0, SGS_H5_I64},
    {"preferred_channel", 0, 0, SGS_H5_U8},
};

int sgs_h5_read_customers_opt(const char *path, const sgs_read_options_t *opt, sgs_customers_t *out,
                              int *present, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    *present = 0;
    reader_t r;
    sgs__reader_init(&r, path, opt, err);
    r.has_as_of = 0; /* every known customer is kept */
    sgs_h5_crash_arm(path);
    int rc = sgs__reader_open_file(&r.rep, &r.file);
    if (rc == SGS_OK)
        rc = sgs__reader_open_group(&r, "/customers", cu_specs, 4, 0, present);
    sgs_h5_crash_disarm();
    if (rc || !*present)
        goto cleanup;
    /* a share skips the checks that span the whole table: the caller makes them over every
     * share (engine/dist_input.h) */
    int whole = !(opt && opt->n_shares > 1);
    size_t n_read = sgs__reader_set_rows(&r, opt);
    rc = n_read == SIZE_MAX ? SGS_ENOMEM
                            : sgs_customers_alloc(out, n_read ? n_read : 1, r.cols[1].dset >= 0,
                                                  r.cols[2].dset >= 0, r.cols[3].dset >= 0);
    if (rc) {
        rc = sgs__reader_settle(&r);
        if (!rc)
            rc = sgs_error_set(err, SGS_ENOMEM, "%s: out of memory for %zu customers", path,
                               r.n_rows);
        goto cleanup;
    }
    r.cols[0].data = (unsigned char *)out->customer_id;
    r.cols[1].data = (unsigned char *)out->signup_time_s;
    r.cols[2].data = (unsigned char *)out->referrer_id;
    r.cols[3].data = (unsigned char *)out->preferred_channel;
    r.id = out->customer_id;
    r.signup = out->signup_time_s;
    rc = sgs__reader_read_chunks(&r, opt, "customers");
    if (rc)
        goto cleanup;
    out->n_rows = r.n_kept;
    out->first_file_row = r.row_begin;
    if (whole)
        rc = sgs__reader_check_customers(&r, out);
cleanup:
    sgs__reader_close(&r);
    if (rc) {
        sgs_customers_free(out);
        *present = 0;
    }
    return rc;
}

int sgs_h5_read_customers(const char *path, sgs_customers_t *out, int *present, sgs_error_t *err)
{
    return sgs_h5_read_customers_opt(path, NULL, out, present, err);
}

/* ---- Identity ------------------------------------------------------------------------- */

int sgs_h5_input_identity(const char *path, const sgs_read_stats_t *tx_stats, char *buf,
                          size_t size, sgs_error_t *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return sgs_error_set(err, SGS_ENOINPUT, "%s: %s", path, strerror(errno));
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char mtime[48];
    sgs__reader_format_iso((int64_t)st.st_mtime, mtime, sizeof mtime);
    snprintf(buf, size, "%s size=%lld mtime=%s rows=%zu hash64=%016llx", base,
             (long long)st.st_size, mtime, tx_stats ? tx_stats->n_rows_in_file : (size_t)0,
             (unsigned long long)(tx_stats ? tx_stats->content_hash64 : 0));
    return SGS_OK;
}
