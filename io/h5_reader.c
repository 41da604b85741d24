/*
 * io/h5_reader.c — the HDF5 input reader at work: its life (init, close), reading one
 * column's rows with range-checked conversion, first touch of the destination memory, and
 * the chunk loop shared by the three tables. See h5_input.h.
 */

#include "io/h5_input.h"

#include "io/h5_crash.h"
#include "io/h5_guard.h"
#include "io/h5_reader_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define PAGE_BYTES ((size_t)4096)

/* ---- The reader ----------------------------------------------------------------------- */

void sgs__reader_init(reader_t *r, const char *path, const sgs_read_options_t *opt,
                      sgs_error_t *err)
{
    memset(r, 0, sizeof *r);
    sgs_read_options_t defaults;
    if (!opt) {
        sgs_read_options_init(&defaults);
        opt = &defaults;
    }
    r->rep.file = path;
    r->rep.fn = opt->problem;
    r->rep.ctx = opt->problem_ctx;
    r->rep.err = err;
    r->nt = opt->n_threads > 0 ? opt->n_threads : 1;
    r->chunk_rows = opt->chunk_rows ? opt->chunk_rows : DEFAULT_CHUNK_ROWS;
    r->has_as_of = opt->has_as_of;
    r->as_of_end_s = opt->as_of_end_s;
    /* 0 is never a plausible "now": a zeroed options struct means "read the clock". */
    r->now_s = opt->now_s ? opt->now_s : (int64_t)time(NULL);
    r->future_limit_s =
        r->now_s > INT64_MAX - SGS_SECONDS_PER_DAY ? INT64_MAX : r->now_s + SGS_SECONDS_PER_DAY;
    r->file = -1;
    r->dapl = -1;
    r->dxpl_checked = -1;
    for (size_t k = 0; k < MAX_COLUMNS; k++) {
        r->cols[k].dset = -1;
        r->cols[k].fspace = -1;
    }
    r->sorted = 1;
    r->min_time_s = INT64_MAX;
    r->max_time_s = INT64_MIN;
}

void sgs__reader_close(reader_t *r)
{
    sgs_h5_crash_arm(r->rep.file);
    for (size_t k = 0; k < MAX_COLUMNS; k++) {
        if (r->cols[k].fspace >= 0)
            H5Sclose(r->cols[k].fspace);
        if (r->cols[k].dset >= 0)
            H5Dclose(r->cols[k].dset);
        r->cols[k].fspace = r->cols[k].dset = -1;
    }
    if (r->dxpl_checked >= 0)
        H5Pclose(r->dxpl_checked);
    if (r->dapl >= 0)
        H5Pclose(r->dapl);
    if (r->file >= 0)
        H5Fclose(r->file);
    sgs_h5_crash_disarm();
    r->dxpl_checked = r->dapl = r->file = -1;
    sgs_free(r->blocks);
    sgs_free(r->scratch);
    sgs_free(r->block_hash);
    r->blocks = NULL;
    r->scratch = NULL;
    r->block_hash = NULL;
}

/* Path of the column named `name` in the current group. */
const char *sgs__reader_col_path(const reader_t *r, const char *name)
{
    for (size_t k = 0; k < r->n_cols; k++)
        if (strcmp(r->cols[k].spec->name, name) == 0)
            return r->cols[k].path;
    return "";
}

/* ---- Reading a column ----------------------------------------------------------------- */

/* The conversion callback of r->dxpl_checked: an integer out of the destination's range sets
 * *user and aborts the read (report_range then finds the rows). */
static H5T_conv_ret_t conv_range_cb(H5T_conv_except_t except, hid_t src, hid_t dst, void *src_buf,
                                    void *dst_buf, void *user)
{
    (void)src;
    (void)dst;
    (void)src_buf;
    (void)dst_buf;
    if (except == H5T_CONV_EXCEPT_RANGE_HI || except == H5T_CONV_EXCEPT_RANGE_LOW) {
        *(int *)user = 1;
        return H5T_CONV_ABORT;
    }
    return H5T_CONV_UNHANDLED;
}

/* Smallest and largest value of a destination type (integers only). */
static void type_limits(sgs_h5_type_t type, int64_t *lo, int64_t *hi, const char **name)
{
    switch (type) {
    case SGS_H5_I32:
        *lo = INT32_MIN, *hi = INT32_MAX, *name = "int32";
        return;
    case SGS_H5_U8:
        *lo = 0, *hi = UINT8_MAX, *name = "uint8";
        return;
    case SGS_H5_I8:
        *lo = INT8_MIN, *hi = INT8_MAX, *name = "int8";
        return;
    default:
        *lo = INT64_MIN, *hi = INT64_MAX, *name = "int64";
        return;
    }
}

/* After a conversion abort: read the chunk again as 64-bit values and find the rows whose
 * value does not fit the column's type: reported (collect mode) or kept as pending (strict
 * mode, see sgs__reader_read_chunks). Returns 0 when the caller should re-read with HDF5's
 * saturating conversion, else the code to stop with. */
static int report_range(reader_t *r, column_t *c, hid_t mspace, size_t start, size_t m)
{
    int64_t lo, hi;
    const char *tname;
    type_limits(c->spec->type, &lo, &hi, &tname);
    if (!r->scratch)
        r->scratch = sgs_alloc_array(r->chunk_rows, sizeof(int64_t));
    hid_t wide = c->file_unsigned ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
    if (!r->scratch || H5Dread(c->dset, wide, mspace, c->fspace, H5P_DEFAULT, r->scratch) < 0) {
        int rc = sgs__reader_report(&r->rep, SGS_CHECK_RANGE, SGS_EDATA, c->path, SGS_NO_ROW,
                                    "rows %zu..%zu: a value does not fit in %s", start,
                                    start + m - 1, tname);
        return rc;
    }
    for (size_t i = 0; i < m; i++) {
        int out;
        char value[32];
        if (c->file_unsigned) {
            uint64_t v = ((const uint64_t *)r->scratch)[i];
            out = v > (uint64_t)hi;
            if (out)
                snprintf(value, sizeof value, "%llu", (unsigned long long)v);
        } else {
            int64_t v = ((const int64_t *)r->scratch)[i];
            out = v < lo || v > hi;
            if (out)
                snprintf(value, sizeof value, "%lld", (long long)v);
        }
        if (!out)
            continue;
        if (!r->rep.fn) { /* strict: keep the earliest row (first column on ties) */
            if (!r->pending || start + i < r->pending_row) {
                r->pending = 1;
                r->pending_row = start + i;
                r->pending_dataset = c->path;
                snprintf(r->pending_text, sizeof r->pending_text, "%s %s does not fit in %s",
                         c->spec->name, value, tname);
            }
            return SGS_OK;
        }
        sgs__reader_report(&r->rep, SGS_CHECK_RANGE, SGS_EDATA, c->path, start + i,
                           "%s %s does not fit in %s", c->spec->name, value, tname);
    }
    return SGS_OK;
}

/* Read file rows [start, start + m) of column c into its destination at row `dst`. */
static int read_rows(reader_t *r, column_t *c, size_t start, size_t m, size_t dst)
{
    sgs_h5_crash_arm(r->rep.file);
    hsize_t hstart = start, hcount = m;
    hid_t mspace = H5Screate_simple(1, &hcount, NULL);
    int rc = SGS_OK;
    if (mspace < 0 ||
        H5Sselect_hyperslab(c->fspace, H5S_SELECT_SET, &hstart, NULL, &hcount, NULL) < 0) {
        sgs__reader_report(&r->rep, SGS_CHECK_FILE, SGS_EIO, c->path, SGS_NO_ROW,
                           "cannot select rows %zu..%zu", start, start + m - 1);
        rc = SGS_EIO;
        goto cleanup;
    }
    void *dest = c->data + dst * c->elem;
    hid_t mtype = sgs_h5_mem_type(c->spec->type);
    int checked = !c->spec->is_float && r->dxpl_checked >= 0;
    r->conv_failed = 0;
    if (H5Dread(c->dset, mtype, mspace, c->fspace, checked ? r->dxpl_checked : H5P_DEFAULT, dest) >=
        0)
        goto cleanup;
    if (r->conv_failed) {
        rc = report_range(r, c, mspace, start, m);
        if (rc == SGS_OK && H5Dread(c->dset, mtype, mspace, c->fspace, H5P_DEFAULT, dest) >= 0)
            goto cleanup;
        if (rc)
            goto cleanup;
    }
    char cause[256];
    rc = sgs_h5_guard_read_failure(cause, sizeof cause);
    sgs__reader_report(&r->rep, SGS_CHECK_FILE, rc, c->path, SGS_NO_ROW,
                       "cannot read rows %zu..%zu%s%s%s", start, start + m - 1,
                       rc == SGS_EDATA ? ": the stored data is malformed" : "", *cause ? ": " : "",
                       cause);
cleanup:
    if (mspace >= 0)
        H5Sclose(mspace);
    sgs_h5_crash_disarm();
    return rc;
}

/* ---- First touch ------------------------------------------------------------------------
 * Fresh pages are slow to fault in on these machines (DESIGN.md "Scale"). The destination
 * columns are allocated once, and the pages a chunk is about to fill are touched in parallel
 * just before the read. No huge pages are asked for (kernels/core.c says why). */

/* Fault in, for every column, the pages below `rows` rows that are not yet: one parallel
 * loop over the pages of all columns, so one fork per chunk. Writes a zero byte per page
 * beyond the valid data; never touches a byte holding data. */
static void prefault_chunk(reader_t *r, size_t rows)
{
    size_t from[MAX_COLUMNS] = {0}, pages[MAX_COLUMNS] = {0}, total = 0;
    unsigned char *base[MAX_COLUMNS] = {NULL};
    for (size_t k = 0; k < r->n_cols; k++) {
        column_t *c = &r->cols[k];
        size_t end = rows * c->elem;
        if (!c->data || end <= c->touched)
            continue;
        base[k] = c->data;
        from[k] = c->touched;
        pages[k] = (end - c->touched + PAGE_BYTES - 1) / PAGE_BYTES;
        total += pages[k];
        c->touched = end;
    }
#pragma omp parallel for num_threads(r->nt) schedule(static) if (total > 1024)
    for (size_t p = 0; p < total; p++) {
        size_t k = 0, q = p;
        while (q >= pages[k]) { /* at most MAX_COLUMNS steps */
            q -= pages[k];
            k++;
        }
        base[k][from[k] + q * PAGE_BYTES] = 0;
    }
}

/* ---- The chunk loop ------------------------------------------------------------------- */

size_t sgs__reader_set_rows(reader_t *r, const sgs_read_options_t *opt)
{
    r->row_begin = 0;
    r->row_end = r->n_rows;
    if (!opt || opt->n_shares <= 1)
        return r->n_rows;
    const size_t B = SGS_INPUT_HASH_BLOCK_ROWS, nb = (r->n_rows + B - 1) / B;
    const size_t k = (size_t)opt->share, n = (size_t)opt->n_shares;
    size_t b0 = nb * k / n, b1 = nb * (k + 1) / n;
    r->row_begin = b0 * B < r->n_rows ? b0 * B : r->n_rows;
    r->row_end = b1 * B < r->n_rows ? b1 * B : r->n_rows;
    r->n_block_hash = b1 - b0;
    r->block_hash = sgs_alloc_array(r->n_block_hash ? r->n_block_hash : 1, sizeof *r->block_hash);
    return r->block_hash ? r->row_end - r->row_begin : SIZE_MAX;
}

/* Read file rows [r->row_begin, r->row_end) of the open group into the bound destination
 * columns (allocated for that many rows, row r->row_begin at 0): the columns the reader
 * decodes itself first, the share's chunks (io/h5_reader_decode.c), then per chunk: fault in,
 * read every other column (the decoded ones' rows moved into place), the fused pass, report,
 * drop rows after the as-of. Sets r->n_kept and r->n_excluded. */
int sgs__reader_read_chunks(reader_t *r, const sgs_read_options_t *opt, const char *what)
{
    size_t n_read = r->row_end - r->row_begin;
    size_t chunk = r->chunk_rows < n_read ? r->chunk_rows : n_read;
    int rc = sgs__reader_decode_ahead(r, opt);
    if (rc)
        return rc;
    rc = sgs__reader_scan_begin(r, chunk);
    if (rc)
        return rc;
    r->dxpl_checked = H5Pcreate(H5P_DATASET_XFER);
    if (r->dxpl_checked >= 0 &&
        H5Pset_type_conv_cb(r->dxpl_checked, conv_range_cb, &r->conv_failed) < 0) {
        H5Pclose(r->dxpl_checked);
        r->dxpl_checked = -1;
    }
    for (size_t start = r->row_begin; start < r->row_end; start += chunk) {
        if (opt && opt->stop) {
            rc = opt->stop(opt->stop_ctx, r->rep.err);
            if (rc)
                return rc;
        }
        size_t m = r->row_end - start < chunk ? r->row_end - start : chunk;
        size_t dst = r->n_kept;
        prefault_chunk(r, dst + m);
        for (size_t k = 0; k < r->n_cols; k++) {
            column_t *c = &r->cols[k];
            if (!c->data)
                continue;
            if (c->decoded) { /* at its rows of the share: down to dst when rows were dropped */
                size_t at = start - r->row_begin;
                if (dst != at)
                    memmove(c->data + dst * c->elem, c->data + at * c->elem, m * c->elem);
                continue;
            }
            rc = read_rows(r, c, start, m, dst);
            if (rc)
                return rc;
        }
        size_t first_bad, n_late;
        sgs__reader_scan_chunk(r, start, m, dst, &first_bad, &n_late);
        /* an out-of-range value (strict mode) comes after the value problems before it */
        size_t stop = r->pending ? dst + (r->pending_row - start) : dst + m;
        rc = sgs__reader_report_rows(r, start, dst, first_bad, stop);
        if (rc)
            return rc;
        if (r->pending)
            return sgs__reader_report(&r->rep, SGS_CHECK_RANGE, SGS_EDATA, r->pending_dataset,
                                      r->pending_row, "%s", r->pending_text);
        size_t kept = m;
        if (n_late) {
            kept = sgs__reader_exclude_after_as_of(r, m, dst);
            sgs__reader_scan_kept(r, dst, dst + kept);
        }
        r->n_excluded += m - kept;
        r->n_kept += kept;
        if (opt && opt->progress)
            opt->progress(opt->progress_ctx, what, start + m - r->row_begin, n_read);
    }
    return SGS_OK;
}
