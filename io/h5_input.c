/*
 * io/h5_input.c — the validating chunked input reader. See h5_input.h for the contract.
 *
 * Sections: problems and messages; files and groups; columns (open, type checks, chunk
 * cache, range-checked reads); first touch of destination memory; the content hash; row
 * checks; the chunk loop shared by the three tables; the three readers; identity; the
 * object listing of `segscore inspect`.
 */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */

#include "io/h5_input.h"
#include "io/h5_columns.h"
#include "io/h5_crash.h"
#include "io/h5_guard.h"
#include "io/suggest.h"

#include <hdf5.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CHUNK_ROWS ((size_t)1 << 20)
#define CACHE_BYTES ((size_t)64 << 20) /* per dataset, see h5_input.h */
#define CACHE_SLOTS ((size_t)12421)    /* prime, ~100x the chunks a 64 MiB cache holds */
#define PAGE_BYTES ((size_t)4096)
#define MAX_COLUMNS 5
#define MAX_NAMES 64 /* link names remembered per group for suggestions */

/* ---- Problems and messages ------------------------------------------------------------ */

static const char *const check_names[SGS_CHECK_COUNT] = {
    "file",         "missing",    "shape",      "type",          "length",      "empty",
    "range",        "amount_nan", "amount_inf", "time_negative", "time_future", "kind",
    "duplicate_id", "referrer",   "link",       "storage",       "filter"};

const char *sgs_input_check_name(sgs_input_check_t check)
{
    return ((int)check >= 0 && (int)check < SGS_CHECK_COUNT) ? check_names[check] : "unknown";
}

/* Where problems go: the first one becomes *err; with a callback every one is passed on. */
typedef struct reporter {
    const char *file;
    sgs_problem_fn fn;
    void *ctx;
    sgs_error_t *err;
    int code; /* code of the first problem, 0 while there is none */
} reporter_t;

/* Report a problem as "<file>: <dataset>: row N: <text>" (empty parts left out).
 * Returns `code` when reading must stop here (no callback), 0 when it may go on (the
 * callback has it). Fatal problems are returned by the caller whatever this returns. */
__attribute__((format(printf, 6, 7))) static int report(reporter_t *r, sgs_input_check_t check,
                                                        int code, const char *dataset, size_t row,
                                                        const char *fmt, ...)
{
    char text[512], where[64] = "", msg[SGS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (row != SGS_NO_ROW)
        snprintf(where, sizeof where, "row %zu: ", row);
    snprintf(msg, sizeof msg, "%s: %s%s%s%s", r->file, dataset, *dataset ? ": " : "", where, text);
    if (r->code == 0) {
        r->code = code;
        sgs_error_set(r->err, code, "%s", msg);
    }
    if (!r->fn)
        return code;
    sgs_input_problem_t p = {check, code, dataset, row, msg};
    int armed = sgs_h5_crash_pause(); /* the caller's code is not HDF5's (h5_crash.h) */
    r->fn(r->ctx, &p);
    sgs_h5_crash_resume(armed);
    return 0;
}

/* "2024-06-30T12:00:00Z" for a Unix time; raw seconds when the year is out of range. */
static void format_iso(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if ((int64_t)tt == t && gmtime_r(&tt, &tm) && strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return;
    snprintf(buf, size, "%lld s", (long long)t);
}

/* Link names of one group, for "did you mean". */
typedef struct name_list {
    size_t n;
    char names[MAX_NAMES][64];
} name_list_t;

#if H5_VERSION_GE(1, 12, 0)
typedef H5L_info2_t sgs_link_info_t;
#define SGS_LITERATE H5Literate2
#define SGS_LVISIT H5Lvisit2
#else
typedef H5L_info_t sgs_link_info_t;
#define SGS_LITERATE H5Literate
#define SGS_LVISIT H5Lvisit
#endif

static herr_t collect_name(hid_t group, const char *name, const sgs_link_info_t *info, void *data)
{
    (void)group;
    (void)info;
    name_list_t *list = data;
    if (list->n < MAX_NAMES && strlen(name) < sizeof list->names[0])
        snprintf(list->names[list->n++], sizeof list->names[0], "%s", name);
    return 0;
}

/* Names of the links in group `group` (an open group or file id). */
static void list_names(hid_t group, name_list_t *list)
{
    list->n = 0;
    hsize_t idx = 0;
    SGS_LITERATE(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, list);
}

/* Suggestion for a missing `name` among `list` minus the names in `known` (those are
 * recognized already): "; did you mean /g/x?" when one is close, else what the group has. */
static void suggest(const char *group, const char *name, const name_list_t *list,
                    const char *const *known, size_t n_known, char *buf, size_t size)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX, used = 0;
    char others[256] = "";
    for (size_t i = 0; i < list->n; i++) {
        int is_known = 0;
        for (size_t k = 0; k < n_known; k++)
            is_known |= strcmp(list->names[i], known[k]) == 0;
        if (is_known)
            continue;
        size_t d = sgs_edit_distance(name, strlen(name), list->names[i], strlen(list->names[i]), 0);
        if (d < best_d) {
            best_d = d;
            best = list->names[i];
        }
        if (used < sizeof others) {
            int w = snprintf(others + used, sizeof others - used, "%s%s", used ? ", " : "",
                             list->names[i]);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    size_t limit = strlen(name) / 2 > 2 ? strlen(name) / 2 : 2;
    if (best && best_d <= limit)
        snprintf(buf, size, "; did you mean %s/%s?", strcmp(group, "/") ? group : "", best);
    else if (best)
        snprintf(buf, size, " (%s has: %s)", group, others);
    else
        snprintf(buf, size, " (%s has no other entries)", group);
}

/* ---- Files ---------------------------------------------------------------------------- */

/* Open `r->file` read-only: SGS_ENOINPUT when it is missing or unreadable, SGS_EDATA when
 * it is not HDF5. */
static int open_file(reporter_t *r, hid_t *out)
{
    *out = -1;
    struct stat st;
    if (stat(r->file, &st) != 0) {
        report(r, SGS_CHECK_FILE, SGS_ENOINPUT, "", SGS_NO_ROW, "%s",
               errno == ENOENT ? "no such file" : strerror(errno));
        return SGS_ENOINPUT;
    }
    if (S_ISDIR(st.st_mode)) {
        report(r, SGS_CHECK_FILE, SGS_ENOINPUT, "", SGS_NO_ROW, "is a directory, not a file");
        return SGS_ENOINPUT;
    }
    if (access(r->file, R_OK) != 0) {
        report(r, SGS_CHECK_FILE, SGS_ENOINPUT, "", SGS_NO_ROW, "cannot read: %s", strerror(errno));
        return SGS_ENOINPUT;
    }
    sgs_h5_quiet();
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_h5 = H5Fis_accessible(r->file, H5P_DEFAULT);
#else
    htri_t is_h5 = H5Fis_hdf5(r->file);
#endif
    if (is_h5 <= 0) {
        report(r, SGS_CHECK_FILE, SGS_EDATA, "", SGS_NO_ROW, "not an HDF5 file");
        return SGS_EDATA;
    }
    *out = H5Fopen(r->file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*out < 0) { /* locked (75), truncated or malformed (65), I/O (74): h5_guard.h */
        sgs_h5_refusal_t why;
        int code = sgs_h5_guard_open_failure(r->file, &why);
        report(r, SGS_CHECK_FILE, code, "", SGS_NO_ROW, "%s", why.text);
        return code;
    }
    return SGS_OK;
}

/* Type of the object at path: H5I_GROUP, H5I_DATASET, other, or H5I_BADID when absent.
 * A link that cannot be looked up or an object that cannot be opened is not "absent": it is
 * reported at `path` (65 for malformed metadata, HDF5's cause with it) and its code
 * returned, with *type H5I_BADID. lapl: the link access list (external links refused,
 * h5_guard.h). */
static int object_type(reporter_t *rep, hid_t file, const char *path, hid_t lapl, H5I_type_t *type)
{
    *type = H5I_BADID;
    htri_t exists = H5Lexists(file, path, lapl);
    if (exists == 0)
        return SGS_OK;
    hid_t obj = exists > 0 ? H5Oopen(file, path, lapl) : -1;
    if (obj < 0) {
        char cause[256];
        int code = sgs_h5_guard_read_failure(cause, sizeof cause);
        report(rep, SGS_CHECK_FILE, code, path, SGS_NO_ROW, "cannot be %s%s%s%s",
               exists > 0 ? "opened" : "looked up",
               code == SGS_EDATA ? ": the file's metadata is malformed" : "", *cause ? ": " : "",
               cause);
        return code; /* fatal: the rest of the file's structure is not to be trusted */
    }
    *type = H5Iget_type(obj);
    H5Oclose(obj);
    return SGS_OK;
}

/* ---- Columns -------------------------------------------------------------------------- */

typedef struct column_spec {
    const char *name; /* "customer_id" */
    int required;
    int is_float;       /* 1: the file must hold floats; 0: integers */
    sgs_h5_type_t type; /* element type in memory */
} column_spec_t;

/* The widest element a column accepts in the file: 8 bytes, the widest native type, for
 * every column (README "Input schema": integers of any width up to 64 bits are converted
 * and range-checked, floats of 32 or 64 bits). Wider types are refused before any read
 * (h5_guard.h): libhdf5's conversion of very wide integers reads past its buffers. */
#define MAX_ELEMENT_BYTES ((size_t)8)

/* The guard's rule for a column. */
static sgs_h5_column_rule_t column_rule(const column_spec_t *spec)
{
    const char *type_name = "int64";
    switch (spec->type) {
    case SGS_H5_I64:
        break;
    case SGS_H5_I32:
        type_name = "int32";
        break;
    case SGS_H5_U8:
        type_name = "uint8";
        break;
    case SGS_H5_I8:
        type_name = "int8";
        break;
    case SGS_H5_F64:
        type_name = "float64";
        break;
    }
    return (sgs_h5_column_rule_t){spec->name, spec->is_float ? SGS_H5_FLOATS : SGS_H5_INTEGERS,
                                  MAX_ELEMENT_BYTES, type_name};
}

/* Map a guard refusal to the reader's check. */
static sgs_input_check_t refusal_check(sgs_h5_refusal_kind_t kind)
{
    switch (kind) {
    case SGS_H5_REFUSE_LINK:
        return SGS_CHECK_LINK;
    case SGS_H5_REFUSE_STORAGE:
        return SGS_CHECK_STORAGE;
    case SGS_H5_REFUSE_FILTER:
        return SGS_CHECK_FILTER;
    case SGS_H5_REFUSE_TYPE:
        return SGS_CHECK_TYPE;
    case SGS_H5_REFUSE_FILE:
        break;
    }
    return SGS_CHECK_FILE;
}

typedef struct column {
    const column_spec_t *spec;
    char path[128];      /* "/transactions/amount" */
    hid_t dset;          /* -1 when absent */
    hid_t fspace;        /* file dataspace, reselected for each chunk */
    int file_unsigned;   /* the file's integer type is unsigned */
    size_t elem;         /* bytes per element in memory */
    unsigned char *data; /* destination (owned by the table), NULL when absent */
    size_t touched;      /* bytes of data faulted in so far */
} column_t;

static hid_t native_type(sgs_h5_type_t type)
{
    switch (type) {
    case SGS_H5_I64:
        return H5T_NATIVE_INT64;
    case SGS_H5_I32:
        return H5T_NATIVE_INT32;
    case SGS_H5_U8:
        return H5T_NATIVE_UINT8;
    case SGS_H5_I8:
        return H5T_NATIVE_INT8;
    case SGS_H5_F64:
        return H5T_NATIVE_DOUBLE;
    }
    return H5T_NATIVE_DOUBLE;
}

/* ---- The reader ----------------------------------------------------------------------- */

/* Lane states of one block of the content hash: one stream per required column. */
typedef struct hash_lanes {
    uint64_t h[3];
} hash_lanes_t;

typedef struct reader {
    reporter_t rep;
    int nt;            /* threads */
    size_t chunk_rows; /* rows per read */
    int has_as_of;
    int64_t as_of_end_s;
    int64_t future_limit_s; /* now + 1 day */
    int64_t now_s;
    hid_t file;
    hid_t dapl;         /* dataset and link access: external links refused (h5_guard.h) */
    hid_t dxpl_checked; /* conversions abort on out-of-range integers */
    int conv_failed;    /* set by the conversion callback */
    column_t cols[MAX_COLUMNS];
    size_t n_cols;
    size_t n_rows; /* file rows of the group */
    /* destination columns the checks look at (NULL when the table has none) */
    int64_t *id;
    int64_t *time;
    int64_t *signup;
    double *amount;
    uint8_t *kind;
    /* content hash (hash_kind 0: none, 1: transactions, 2: events) */
    int hash_kind;
    uint64_t hash_total;
    hash_lanes_t hash_carry;
    struct block_scan *blocks; /* per-chunk results of the fused pass */
    void *scratch;             /* chunk_rows 64-bit values, for locating an out-of-range value */
    /* strict mode: the first out-of-range value of the chunk, reported after the value
     * checks of the rows before it so that the first problem does not depend on chunk_rows */
    int pending;
    size_t pending_row;
    const char *pending_dataset;
    char pending_text[160];
    /* kept rows */
    size_t n_kept;
    size_t n_excluded;
    int sorted;
    int64_t min_time_s;
    int64_t max_time_s;
} reader_t;

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

static void reader_init(reader_t *r, const char *path, const sgs_read_options_t *opt,
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

static void reader_close(reader_t *r)
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
    r->blocks = NULL;
    r->scratch = NULL;
}

/* Reopen a dataset with the chunk cache that suits it. HDF5 1.10 sends every chunk that
 * fits the cache through it (a malloc'd chunk buffer, then a copy): right for compressed
 * chunks, which must be decompressed whole and may be split between two reads (the cache,
 * at least 64 MiB and two chunks, keeps them decompressed once), wasteful for
 * uncompressed ones, which are read straight into the destination when the cache is off.
 * Returns the dataset reopened (or as it was when the properties cannot be set), or < 0. */
static hid_t tune_cache(hid_t file, const char *path, hid_t dset, hid_t dapl_base)
{
    hid_t dcpl = H5Dget_create_plist(dset), type = H5Dget_type(dset);
    size_t chunk_bytes = 0;
    int filtered = 0;
    hsize_t cdim = 0;
    if (dcpl >= 0 && type >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED &&
        H5Pget_chunk(dcpl, 1, &cdim) == 1) {
        chunk_bytes = (size_t)cdim * H5Tget_size(type);
        filtered = H5Pget_nfilters(dcpl) > 0;
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (type >= 0)
        H5Tclose(type);
    if (chunk_bytes == 0)
        return dset; /* contiguous or compact: no chunk cache involved */
    size_t nbytes = 0, nslots = 521;
    if (filtered) {
        nbytes = 2 * chunk_bytes > CACHE_BYTES ? 2 * chunk_bytes : CACHE_BYTES;
        nslots = CACHE_SLOTS;
    }
    hid_t dapl = H5Pcopy(dapl_base);
    if (dapl < 0 || H5Pset_chunk_cache(dapl, nslots, nbytes, 1.0) < 0) {
        if (dapl >= 0)
            H5Pclose(dapl);
        return dset;
    }
    /* Close first: a second open of an open dataset shares its cache, built already. */
    H5Dclose(dset);
    hid_t tuned = H5Dopen2(file, path, dapl);
    H5Pclose(dapl);
    return tuned >= 0 ? tuned : H5Dopen2(file, path, dapl_base);
}

/* Open the columns of `group` described by specs. *present = 0 (and 0 returned) when the
 * group is absent and optional. Checks: group and required datasets exist (suggesting the
 * closest name), each is a 1-D dataset of the right class, all have the same length.
 * Sets r->n_rows. With a problem callback every structural problem is reported before
 * SGS_EDATA is returned. */
static int open_group(reader_t *r, const char *group, const column_spec_t *specs, size_t n_specs,
                      int required, int *present)
{
    reporter_t *rep = &r->rep;
    char hint[320];
    sgs_h5_refusal_t why;
    *present = 0;
    if (r->dapl < 0 && (r->dapl = sgs_h5_guard_dapl()) < 0) {
        report(rep, SGS_CHECK_FILE, SGS_EIO, group, SGS_NO_ROW, "cannot set up HDF5 access");
        return SGS_EIO;
    }
    /* Links first: nothing is opened through a link that leaves the file (and r->dapl
     * refuses to traverse an external link, should one be missed) */
    if (sgs_h5_guard_path(r->file, group, &why) != SGS_OK) {
        report(rep, refusal_check(why.kind), why.code, group, SGS_NO_ROW, "%s", why.text);
        return why.code;
    }
    H5I_type_t gt;
    int rc = object_type(rep, r->file, group, r->dapl, &gt);
    if (rc)
        return rc;
    if (gt == H5I_BADID) {
        if (!required)
            return SGS_OK;
        name_list_t root;
        list_names(r->file, &root);
        suggest("/", group + 1, &root, NULL, 0, hint, sizeof hint);
        report(rep, SGS_CHECK_MISSING, SGS_EDATA, group, SGS_NO_ROW, "group is missing%s", hint);
        return SGS_EDATA;
    }
    if (gt != H5I_GROUP) {
        report(rep, SGS_CHECK_SHAPE, SGS_EDATA, group, SGS_NO_ROW,
               "is not a group (the input tables are groups of 1-D datasets)");
        return SGS_EDATA;
    }
    *present = 1;
    name_list_t names;
    hid_t g = H5Gopen2(r->file, group, H5P_DEFAULT);
    names.n = 0;
    if (g >= 0) {
        list_names(g, &names);
        H5Gclose(g);
    }
    const char *known[MAX_COLUMNS];
    for (size_t k = 0; k < n_specs; k++)
        known[k] = specs[k].name;

    int bad = 0;
    r->n_cols = n_specs;
    for (size_t k = 0; k < n_specs; k++) {
        column_t *c = &r->cols[k];
        c->spec = &specs[k];
        c->elem = sgs_h5_type_size(specs[k].type);
        snprintf(c->path, sizeof c->path, "%s/%s", group, specs[k].name);
        if (sgs_h5_guard_path(r->file, c->path, &why) != SGS_OK) {
            report(rep, refusal_check(why.kind), why.code, c->path, SGS_NO_ROW, "%s", why.text);
            bad = 1;
            continue;
        }
        H5I_type_t t;
        int failed = object_type(rep, r->file, c->path, r->dapl, &t);
        if (failed)
            return failed;
        if (t == H5I_BADID) {
            if (specs[k].required) {
                suggest(group, specs[k].name, &names, known, n_specs, hint, sizeof hint);
                report(rep, SGS_CHECK_MISSING, SGS_EDATA, c->path, SGS_NO_ROW,
                       "dataset is missing%s", hint);
                bad = 1;
            }
            continue;
        }
        if (t != H5I_DATASET) {
            report(rep, SGS_CHECK_SHAPE, SGS_EDATA, c->path, SGS_NO_ROW, "is not a dataset");
            bad = 1;
            continue;
        }
        c->dset = H5Dopen2(r->file, c->path, r->dapl);
        if (c->dset < 0) {
            char cause[256];
            int code = sgs_h5_guard_read_failure(cause, sizeof cause);
            report(rep, SGS_CHECK_FILE, code, c->path, SGS_NO_ROW, "cannot open dataset%s%s%s",
                   code == SGS_EDATA ? ": its header is malformed" : "", *cause ? ": " : "", cause);
            return code;
        }
        c->fspace = H5Dget_space(c->dset);
        hid_t ftype = H5Dget_type(c->dset);
        if (c->fspace < 0 || ftype < 0) {
            if (ftype >= 0)
                H5Tclose(ftype);
            report(rep, SGS_CHECK_FILE, SGS_EIO, c->path, SGS_NO_ROW, "cannot read metadata");
            return SGS_EIO;
        }
        c->file_unsigned = H5Tget_class(ftype) == H5T_INTEGER && H5Tget_sign(ftype) == H5T_SGN_NONE;
        H5Tclose(ftype);
        int ndims = H5Sget_simple_extent_ndims(c->fspace);
        if (ndims != 1) {
            report(rep, SGS_CHECK_SHAPE, SGS_EDATA, c->path, SGS_NO_ROW,
                   "is %d-dimensional; columns must be one-dimensional", ndims);
            bad = 1;
            continue;
        }
        /* where the data lives, type, filters, storage: before the first read */
        sgs_h5_column_rule_t rule = column_rule(&specs[k]);
        if (sgs_h5_guard_dataset(r->file, c->dset, &rule, r->nt, &why) != SGS_OK) {
            report(rep, refusal_check(why.kind), why.code, c->path, SGS_NO_ROW, "%s", why.text);
            if (why.code != SGS_EDATA)
                return why.code;
            bad = 1;
            continue;
        }
        c->dset = tune_cache(r->file, c->path, c->dset, r->dapl);
        if (c->dset < 0) {
            report(rep, SGS_CHECK_FILE, SGS_EIO, c->path, SGS_NO_ROW, "cannot open dataset");
            return SGS_EIO;
        }
    }
    if (bad)
        return SGS_EDATA;
    /* Lengths: every present column against the first one (a required column). */
    const column_t *ref = &r->cols[0];
    hsize_t ref_len = 0;
    H5Sget_simple_extent_dims(ref->fspace, &ref_len, NULL);
    for (size_t k = 1; k < n_specs; k++) {
        const column_t *c = &r->cols[k];
        if (c->dset < 0)
            continue;
        hsize_t len = 0;
        H5Sget_simple_extent_dims(c->fspace, &len, NULL);
        if (len != ref_len) {
            report(rep, SGS_CHECK_LENGTH, SGS_EDATA, c->path, SGS_NO_ROW,
                   "has %llu rows but %s has %llu; all columns of %s must have equal length",
                   (unsigned long long)len, ref->path, (unsigned long long)ref_len, group);
            bad = 1;
        }
    }
    r->n_rows = (size_t)ref_len;
    return bad ? SGS_EDATA : SGS_OK;
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
 * mode, see read_chunks). Returns 0 when the caller should re-read with HDF5's saturating
 * conversion, else the code to stop with. */
static int report_range(reader_t *r, column_t *c, hid_t mspace, size_t start, size_t m)
{
    int64_t lo, hi;
    const char *tname;
    type_limits(c->spec->type, &lo, &hi, &tname);
    if (!r->scratch)
        r->scratch = sgs_alloc_array(r->chunk_rows, sizeof(int64_t));
    hid_t wide = c->file_unsigned ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
    if (!r->scratch || H5Dread(c->dset, wide, mspace, c->fspace, H5P_DEFAULT, r->scratch) < 0) {
        int rc = report(&r->rep, SGS_CHECK_RANGE, SGS_EDATA, c->path, SGS_NO_ROW,
                        "rows %zu..%zu: a value does not fit in %s", start, start + m - 1, tname);
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
        report(&r->rep, SGS_CHECK_RANGE, SGS_EDATA, c->path, start + i, "%s %s does not fit in %s",
               c->spec->name, value, tname);
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
        report(&r->rep, SGS_CHECK_FILE, SGS_EIO, c->path, SGS_NO_ROW, "cannot select rows %zu..%zu",
               start, start + m - 1);
        rc = SGS_EIO;
        goto cleanup;
    }
    void *dest = c->data + dst * c->elem;
    hid_t mtype = native_type(c->spec->type);
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
    report(&r->rep, SGS_CHECK_FILE, rc, c->path, SGS_NO_ROW, "cannot read rows %zu..%zu%s%s%s",
           start, start + m - 1, rc == SGS_EDATA ? ": the stored data is malformed" : "",
           *cause ? ": " : "", cause);
cleanup:
    if (mspace >= 0)
        H5Sclose(mspace);
    sgs_h5_crash_disarm();
    return rc;
}

/* ---- First touch ------------------------------------------------------------------------
 * Fresh pages are slow to fault in on these machines (DESIGN.md "Scale"). The destination
 * columns are allocated once; huge pages are requested for them and the pages a chunk is
 * about to fill are touched in parallel just before the read. */

static void advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    uintptr_t begin = ((uintptr_t)p + PAGE_BYTES - 1) & ~(uintptr_t)(PAGE_BYTES - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(uintptr_t)(PAGE_BYTES - 1);
    if (bytes >= ((size_t)4 << 20) && end > begin)
        madvise((void *)begin, end - begin, MADV_HUGEPAGE); /* advice only: result unused */
#else
    (void)p;
    (void)bytes;
#endif
}

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

/* ---- Content hash (h5_input.h, SGS_INPUT_HASH_BLOCK_ROWS) -------------------------------
 * One multiply-rotate-multiply round per 64-bit value (the accumulate round of xxHash64,
 * Y. Collet, with its primes), so a row costs three short dependency chains; byte-wise
 * FNV-1a cost eight multiplications per value and was most of the reading time. */
#define HASH_SEED UINT64_C(0x27d4eb2f165667c5)
#define HASH_P1 UINT64_C(0x9e3779b185ebca87)
#define HASH_P2 UINT64_C(0xc2b2ae3d27d4eb4f)
#define HASH_P3 UINT64_C(0x165667b19e3779f9)

static inline uint64_t hash_round(uint64_t acc, uint64_t v)
{
    acc += v * HASH_P2;
    acc = (acc << 31) | (acc >> 33);
    return acc * HASH_P1;
}

/* The final avalanche, so that every input bit reaches every output bit. */
static inline uint64_t hash_finish(uint64_t h)
{
    h ^= h >> 33;
    h *= HASH_P2;
    h ^= h >> 29;
    h *= HASH_P3;
    return h ^ (h >> 32);
}

/* Continue the lanes over memory rows [lo, hi). The three chains are independent, so the
 * processor overlaps their multiplications. */
static hash_lanes_t hash_rows(const reader_t *r, hash_lanes_t s, size_t lo, size_t hi)
{
    uint64_t h0 = s.h[0], h1 = s.h[1], h2 = s.h[2];
    if (r->hash_kind == 1) {
        for (size_t i = lo; i < hi; i++) {
            uint64_t bits;
            memcpy(&bits, &r->amount[i], sizeof bits);
            h0 = hash_round(h0, (uint64_t)r->id[i]);
            h1 = hash_round(h1, (uint64_t)r->time[i]);
            h2 = hash_round(h2, bits);
        }
    } else if (r->hash_kind == 2) {
        for (size_t i = lo; i < hi; i++) {
            h0 = hash_round(h0, (uint64_t)r->id[i]);
            h1 = hash_round(h1, (uint64_t)r->time[i]);
            h2 = hash_round(h2, r->kind[i]);
        }
    }
    return (hash_lanes_t){{h0, h1, h2}};
}

/* ---- Row checks ----------------------------------------------------------------------- */

enum {
    BIT_TIME_NEGATIVE = 1u,
    BIT_TIME_FUTURE = 2u,
    BIT_AMOUNT_NAN = 4u,
    BIT_AMOUNT_INF = 8u,
    BIT_KIND = 16u,
    BIT_SIGNUP_NEGATIVE = 32u
};

/* Problems of memory row i as bits (0 when the row is fine). */
static inline unsigned row_bits(const reader_t *r, size_t i)
{
    unsigned bits = 0;
    if (r->time) {
        int64_t t = r->time[i];
        if (t < 0)
            bits |= BIT_TIME_NEGATIVE;
        else if (!r->has_as_of && t > r->future_limit_s)
            bits |= BIT_TIME_FUTURE;
    }
    if (r->amount) {
        double a = r->amount[i];
        if (isnan(a))
            bits |= BIT_AMOUNT_NAN;
        else if (isinf(a))
            bits |= BIT_AMOUNT_INF;
    }
    if (r->kind && (r->kind[i] < 1 || r->kind[i] > 8))
        bits |= BIT_KIND;
    if (r->signup && r->signup[i] < 0)
        bits |= BIT_SIGNUP_NEGATIVE;
    return bits;
}

/* Path of the column named `name` in the current group. */
static const char *col_path(const reader_t *r, const char *name)
{
    for (size_t k = 0; k < r->n_cols; k++)
        if (strcmp(r->cols[k].spec->name, name) == 0)
            return r->cols[k].path;
    return "";
}

/* Report each problem of memory row i (file row `row`). */
static int report_row(reader_t *r, size_t i, size_t row, unsigned bits)
{
    reporter_t *rep = &r->rep;
    int rc = SGS_OK;
    char when[48], now[48];
    if (bits & BIT_TIME_NEGATIVE)
        rc = report(rep, SGS_CHECK_TIME_NEGATIVE, SGS_EDATA, col_path(r, "time"), row,
                    "time %lld is before 1970-01-01", (long long)r->time[i]);
    if (!rc && (bits & BIT_TIME_FUTURE)) {
        format_iso(r->time[i], when, sizeof when);
        format_iso(r->now_s, now, sizeof now);
        rc = report(rep, SGS_CHECK_TIME_FUTURE, SGS_EDATA, col_path(r, "time"), row,
                    "time %s is more than one day after now (%s); give an as-of date or fix "
                    "the data",
                    when, now);
    }
    if (!rc && (bits & BIT_AMOUNT_NAN))
        rc = report(rep, SGS_CHECK_AMOUNT_NAN, SGS_EDATA, col_path(r, "amount"), row,
                    "amount is NaN");
    if (!rc && (bits & BIT_AMOUNT_INF))
        rc = report(rep, SGS_CHECK_AMOUNT_INF, SGS_EDATA, col_path(r, "amount"), row,
                    "amount is infinite (%cinf)", r->amount[i] < 0 ? '-' : '+');
    if (!rc && (bits & BIT_KIND))
        rc = report(rep, SGS_CHECK_KIND, SGS_EDATA, col_path(r, "kind"), row,
                    "kind %u is not an event kind (1..8)", (unsigned)r->kind[i]);
    if (!rc && (bits & BIT_SIGNUP_NEGATIVE))
        rc = report(rep, SGS_CHECK_TIME_NEGATIVE, SGS_EDATA, col_path(r, "signup_time"), row,
                    "signup_time %lld is before 1970-01-01", (long long)r->signup[i]);
    return rc;
}

/* Report the problems of memory rows [first, end) = file rows from start + (first - dst),
 * in order. */
static int report_rows(reader_t *r, size_t start, size_t dst, size_t first, size_t end)
{
    for (size_t i = first; i < end; i++) {
        unsigned bits = row_bits(r, i);
        if (bits) {
            int rc = report_row(r, i, start + (i - dst), bits);
            if (rc)
                return rc;
        }
    }
    return SGS_OK;
}

/* ---- The fused pass over a chunk ---------------------------------------------------------
 * After a chunk is read, one parallel loop over its hash blocks finds the first bad row,
 * advances the fingerprint lanes, counts the rows after the as-of end, and checks order
 * and time range; the blocks' results are combined in block order (integers only, so the
 * outcome is the same for any thread count). Few forks per chunk matter: on a shared
 * machine every barrier may wait for a descheduled thread. */

typedef struct block_scan {
    hash_lanes_t lanes; /* fingerprint lanes after this block's rows of the chunk */
    size_t first_bad;   /* first memory row with a problem, SIZE_MAX when none */
    size_t n_late;      /* rows at or after the as-of end */
    int unsorted;       /* some row precedes its predecessor in (customer_id, time) */
    int64_t min_time_s; /* INT64_MAX when the block has no time */
    int64_t max_time_s; /* INT64_MIN when the block has no time */
} block_scan_t;

/* Scan memory rows [lo, hi); b->lanes holds the lane states to continue from. Row lo is
 * compared with row lo - 1 (the previous block, or the last kept row of the previous
 * chunk), which is right as long as no row of this chunk is excluded. */
static void scan_block(const reader_t *r, size_t lo, size_t hi, block_scan_t *b)
{
    b->first_bad = SIZE_MAX;
    for (size_t i = lo; i < hi; i++) {
        if (row_bits(r, i)) {
            b->first_bad = i;
            break;
        }
    }
    if (r->hash_kind)
        b->lanes = hash_rows(r, b->lanes, lo, hi);
    const int64_t *id = r->id, *time = r->time;
    size_t n_late = 0;
    int unsorted = 0;
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    if (time) {
        const int as_of = r->has_as_of;
        const int64_t end_s = r->as_of_end_s;
        for (size_t i = lo; i < hi; i++) {
            int64_t t = time[i];
            tmin = t < tmin ? t : tmin;
            tmax = t > tmax ? t : tmax;
            n_late += as_of && t >= end_s;
            if (i > 0)
                unsorted |= id[i - 1] > id[i] || (id[i - 1] == id[i] && time[i - 1] > t);
        }
    } else {
        for (size_t i = lo > 0 ? lo : 1; i < hi; i++)
            unsorted |= id[i - 1] > id[i];
    }
    b->n_late = n_late;
    b->unsorted = unsorted;
    b->min_time_s = tmin;
    b->max_time_s = tmax;
}

/* The fused pass over file rows [start, start + m) at memory rows [dst, dst + m). Folds
 * finished blocks into the fingerprint and carries a cut block's lanes; *first_bad gets
 * the first memory row with a problem (SIZE_MAX when none), *n_late the rows after the
 * as-of end. Order and time range are applied to the reader only when n_late is 0 (else
 * the caller compacts and rescans). */
static void scan_chunk(reader_t *r, size_t start, size_t m, size_t dst, size_t *first_bad,
                       size_t *n_late)
{
    const size_t B = SGS_INPUT_HASH_BLOCK_ROWS;
    size_t b0 = start / B, b1 = (start + m - 1) / B, nb = b1 - b0 + 1;
    block_scan_t *bs = r->blocks;
    const hash_lanes_t carry = r->hash_carry;
    const hash_lanes_t fresh = {{HASH_SEED, HASH_SEED, HASH_SEED}};
#pragma omp parallel for num_threads(r->nt) schedule(static) if (nb > 1)
    for (size_t k = 0; k < nb; k++) {
        size_t lo = (b0 + k) * B, hi = lo + B;
        bs[k].lanes = fresh;
        if (lo < start) {
            lo = start;
            bs[k].lanes = carry;
        }
        if (hi > start + m)
            hi = start + m;
        scan_block(r, dst + (lo - start), dst + (hi - start), &bs[k]);
    }
    size_t first = SIZE_MAX, late = 0;
    int unsorted = 0;
    int64_t tmin = r->min_time_s, tmax = r->max_time_s;
    for (size_t k = 0; k < nb; k++) {
        if (first == SIZE_MAX)
            first = bs[k].first_bad;
        late += bs[k].n_late;
        unsorted |= bs[k].unsorted;
        tmin = bs[k].min_time_s < tmin ? bs[k].min_time_s : tmin;
        tmax = bs[k].max_time_s > tmax ? bs[k].max_time_s : tmax;
        size_t block_end = (b0 + k + 1) * B;
        if (block_end > r->n_rows)
            block_end = r->n_rows;
        if (start + m < block_end) {
            r->hash_carry = bs[k].lanes;
            continue;
        }
        uint64_t block = HASH_SEED;
        for (int lane = 0; lane < 3; lane++)
            block = hash_round(block, bs[k].lanes.h[lane]);
        r->hash_total = hash_round(r->hash_total, block);
    }
    if (late == 0) {
        r->sorted &= !unsorted;
        r->min_time_s = tmin;
        r->max_time_s = tmax;
    }
    *first_bad = first;
    *n_late = late;
}

/* Keep, in every column, the memory rows [dst, dst + m) whose time is before the as-of
 * end, in order (the time column last, since it decides). Returns the number kept. */
static size_t exclude_after_as_of(reader_t *r, size_t m, size_t dst)
{
    const int64_t *time = r->time;
    const int64_t end_s = r->as_of_end_s;
    column_t *time_col = NULL;
    size_t w = dst;
    for (size_t k = 0; k <= r->n_cols; k++) {
        column_t *c = k < r->n_cols ? &r->cols[k] : time_col;
        if (!c || !c->data)
            continue;
        if (k < r->n_cols && (const void *)c->data == (const void *)time) {
            time_col = c;
            continue;
        }
        w = dst;
        switch (c->elem) { /* typed loops: a memcpy call per value is slow */
        case 8: {
            uint64_t *v = (uint64_t *)(void *)c->data;
            for (size_t i = dst; i < dst + m; i++)
                if (time[i] < end_s)
                    v[w++] = v[i];
            break;
        }
        case 4: {
            uint32_t *v = (uint32_t *)(void *)c->data;
            for (size_t i = dst; i < dst + m; i++)
                if (time[i] < end_s)
                    v[w++] = v[i];
            break;
        }
        default: {
            uint8_t *v = c->data;
            for (size_t i = dst; i < dst + m; i++)
                if (time[i] < end_s)
                    v[w++] = v[i];
            break;
        }
        }
    }
    return w - dst;
}

/* Order and time range over the kept memory rows [lo, hi), which follow the kept rows
 * [0, lo) (used only for chunks where the as-of dropped rows). */
static void scan_kept(reader_t *r, size_t lo, size_t hi)
{
    if (hi <= lo)
        return;
    const int64_t *id = r->id, *time = r->time;
    int unsorted = 0;
    int64_t tmin = r->min_time_s, tmax = r->max_time_s;
    size_t from = lo > 0 ? lo : 1;
    // clang-format off
#pragma omp parallel for num_threads(r->nt) schedule(static) if (hi - lo > 32768) \
    reduction(| : unsorted) reduction(min : tmin) reduction(max : tmax)
    // clang-format on
    for (size_t i = lo; i < hi; i++) {
        tmin = time[i] < tmin ? time[i] : tmin;
        tmax = time[i] > tmax ? time[i] : tmax;
        if (i >= from)
            unsorted |= id[i - 1] > id[i] || (id[i - 1] == id[i] && time[i - 1] > time[i]);
    }
    r->sorted &= !unsorted;
    r->min_time_s = tmin;
    r->max_time_s = tmax;
}

/* ---- The chunk loop ------------------------------------------------------------------- */

/* Read all file rows of the open group into the bound destination columns (allocated for
 * r->n_rows rows): per chunk, fault in, read every column, the fused pass, report, drop
 * rows after the as-of. Sets r->n_kept and r->n_excluded. */
static int read_chunks(reader_t *r, const sgs_read_options_t *opt, const char *what)
{
    size_t chunk = r->chunk_rows < r->n_rows ? r->chunk_rows : r->n_rows;
    r->hash_total = HASH_SEED;
    r->blocks = sgs_alloc_array(chunk / SGS_INPUT_HASH_BLOCK_ROWS + 2, sizeof *r->blocks);
    if (!r->blocks)
        return sgs_error_set(r->rep.err, SGS_ENOMEM, "%s: out of memory", r->rep.file);
    r->dxpl_checked = H5Pcreate(H5P_DATASET_XFER);
    if (r->dxpl_checked >= 0 &&
        H5Pset_type_conv_cb(r->dxpl_checked, conv_range_cb, &r->conv_failed) < 0) {
        H5Pclose(r->dxpl_checked);
        r->dxpl_checked = -1;
    }
    for (size_t k = 0; k < r->n_cols; k++)
        if (r->cols[k].data)
            advise_huge(r->cols[k].data, r->n_rows * r->cols[k].elem);
    for (size_t start = 0; start < r->n_rows; start += chunk) {
        if (opt && opt->stop) {
            int rc = opt->stop(opt->stop_ctx, r->rep.err);
            if (rc)
                return rc;
        }
        size_t m = r->n_rows - start < chunk ? r->n_rows - start : chunk;
        size_t dst = r->n_kept;
        prefault_chunk(r, dst + m);
        for (size_t k = 0; k < r->n_cols; k++) {
            if (!r->cols[k].data)
                continue;
            int rc = read_rows(r, &r->cols[k], start, m, dst);
            if (rc)
                return rc;
        }
        size_t first_bad, n_late;
        scan_chunk(r, start, m, dst, &first_bad, &n_late);
        /* an out-of-range value (strict mode) comes after the value problems before it */
        size_t stop = r->pending ? dst + (r->pending_row - start) : dst + m;
        int rc = report_rows(r, start, dst, first_bad, stop);
        if (rc)
            return rc;
        if (r->pending)
            return report(&r->rep, SGS_CHECK_RANGE, SGS_EDATA, r->pending_dataset, r->pending_row,
                          "%s", r->pending_text);
        size_t kept = m;
        if (n_late) {
            kept = exclude_after_as_of(r, m, dst);
            scan_kept(r, dst, dst + kept);
        }
        r->n_excluded += m - kept;
        r->n_kept += kept;
        if (opt && opt->progress)
            opt->progress(opt->progress_ctx, what, start + m, r->n_rows);
    }
    return SGS_OK;
}

/* Give back the tail of a column allocated for more rows than were kept. */
static void *shrink(void *p, size_t n, size_t elem, size_t n_alloc)
{
    if (!p || n >= n_alloc)
        return p;
    void *q = sgs_realloc_array(p, n, elem);
    return q ? q : p;
}

static void fill_stats(const reader_t *r, sgs_read_stats_t *stats)
{
    if (!stats)
        return;
    stats->n_rows_in_file = r->n_rows;
    stats->n_rows_after_as_of = r->n_excluded;
    stats->sorted_by_customer = r->sorted;
    stats->min_time_s = r->n_kept ? r->min_time_s : 0;
    stats->max_time_s = r->n_kept ? r->max_time_s : 0;
    stats->content_hash64 = hash_finish(r->hash_total);
}

/* ---- The readers ---------------------------------------------------------------------- */

void sgs_read_options_init(sgs_read_options_t *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->now_s = (int64_t)time(NULL);
    opt->chunk_rows = DEFAULT_CHUNK_ROWS;
    opt->n_threads = 1;
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
    reader_init(&r, path, opt, err);
    int present = 0;
    sgs_h5_crash_arm(path); /* the file's metadata: opened and checked by HDF5 */
    int rc = open_file(&r.rep, &r.file);
    /* category is the last spec: leaving it out leaves its column unopened */
    if (rc == SGS_OK)
        rc = open_group(&r, "/transactions", tx_specs, opt && opt->skip_category ? 4 : 5, 1,
                        &present);
    sgs_h5_crash_disarm();
    if (rc)
        goto cleanup;
    if (r.n_rows == 0) {
        report(&r.rep, SGS_CHECK_EMPTY, SGS_EDATA, "/transactions", SGS_NO_ROW,
               "the table is empty (0 rows); there is nothing to analyze");
        rc = SGS_EDATA;
        goto cleanup;
    }
    rc = sgs_transactions_alloc(out, r.n_rows, r.cols[3].dset >= 0, r.cols[4].dset >= 0);
    if (rc) {
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
    rc = read_chunks(&r, opt, "transactions");
    if (rc)
        goto cleanup;
    if (r.n_kept == 0) {
        char end[48];
        format_iso(r.as_of_end_s, end, sizeof end);
        report(&r.rep, SGS_CHECK_EMPTY, SGS_EDATA, "/transactions", SGS_NO_ROW,
               "all %zu rows are at or after the as-of end %s; there is nothing to analyze",
               r.n_rows, end);
        rc = SGS_EDATA;
        goto cleanup;
    }
    out->customer_id = shrink(out->customer_id, r.n_kept, sizeof(int64_t), r.n_rows);
    out->time_s = shrink(out->time_s, r.n_kept, sizeof(int64_t), r.n_rows);
    out->amount = shrink(out->amount, r.n_kept, sizeof(double), r.n_rows);
    out->channel = shrink(out->channel, r.n_kept, sizeof(uint8_t), r.n_rows);
    out->category = shrink(out->category, r.n_kept, sizeof(int32_t), r.n_rows);
    out->n_rows = r.n_kept;
    fill_stats(&r, stats);
cleanup:
    reader_close(&r);
    if (rc)
        sgs_transactions_free(out);
    return rc;
}

static const column_spec_t ev_specs[] = {
    {"customer_id", 1, 0, SGS_H5_I64},
    {"time", 1, 0, SGS_H5_I64},
    {"kind", 1, 0, SGS_H5_U8},
    {"value", 0, 1, SGS_H5_F64},
};

int sgs_h5_read_events(const char *path, const sgs_read_options_t *opt, sgs_events_t *out,
                       int *present, sgs_read_stats_t *stats, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    *present = 0;
    if (stats)
        memset(stats, 0, sizeof *stats);
    reader_t r;
    reader_init(&r, path, opt, err);
    sgs_h5_crash_arm(path);
    int rc = open_file(&r.rep, &r.file);
    if (rc == SGS_OK)
        rc = open_group(&r, "/events", ev_specs, 4, 0, present);
    sgs_h5_crash_disarm();
    if (rc || !*present)
        goto cleanup;
    rc = sgs_events_alloc(out, r.n_rows, r.cols[3].dset >= 0);
    if (rc) {
        rc = sgs_error_set(err, SGS_ENOMEM, "%s: out of memory for %zu events", path, r.n_rows);
        goto cleanup;
    }
    r.cols[0].data = (unsigned char *)out->customer_id;
    r.cols[1].data = (unsigned char *)out->time_s;
    r.cols[2].data = (unsigned char *)out->kind;
    r.cols[3].data = (unsigned char *)out->value;
    r.id = out->customer_id;
    r.time = out->time_s;
    r.kind = out->kind;
    r.hash_kind = 2;
    rc = read_chunks(&r, opt, "events");
    if (rc)
        goto cleanup;
    out->customer_id = shrink(out->customer_id, r.n_kept, sizeof(int64_t), r.n_rows);
    out->time_s = shrink(out->time_s, r.n_kept, sizeof(int64_t), r.n_rows);
    out->kind = shrink(out->kind, r.n_kept, sizeof(uint8_t), r.n_rows);
    out->value = shrink(out->value, r.n_kept, sizeof(double), r.n_rows);
    out->n_rows = r.n_kept;
    fill_stats(&r, stats);
cleanup:
    reader_close(&r);
    if (rc) {
        sgs_events_free(out);
        *present = 0;
    }
    return rc;
}

/* A customer id with the file row it came from, for the duplicate and referrer checks. */
typedef struct id_row {
    int64_t id;
    size_t row;
} id_row_t;

static int cmp_id_row(const void *pa, const void *pb)
{
    const id_row_t *a = pa, *b = pb;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

/* Index of `id` in the sorted keys (stride `stride` bytes apart), or SIZE_MAX. */
static size_t find_id(const void *base, size_t n, size_t stride, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v;
        memcpy(&v, (const unsigned char *)base + mid * stride, sizeof v);
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n) {
        int64_t v;
        memcpy(&v, (const unsigned char *)base + lo * stride, sizeof v);
        if (v == id)
            return lo;
    }
    return SIZE_MAX;
}

/* Customers: duplicate ids (the first repeated row in file order and the earlier row it
 * repeats), then referrers that are neither -1 nor a customer. The fast path (ids already
 * strictly increasing, the usual case) needs no extra memory. */
static int check_customers(reader_t *r, const sgs_customers_t *c)
{
    size_t n = c->n_rows;
    const char *id_path = r->cols[0].path;
    int increasing = 1;
#pragma omp parallel for num_threads(r->nt) schedule(static) reduction(& : increasing)         \
    if (n > 32768)
    for (size_t i = 1; i < n; i++)
        increasing &= c->customer_id[i - 1] < c->customer_id[i];
    id_row_t *pairs = NULL;
    const void *keys = c->customer_id;
    size_t stride = sizeof(int64_t);
    int rc = SGS_OK;
    if (!increasing) {
        pairs = sgs_alloc_array(n, sizeof *pairs);
        if (!pairs)
            return sgs_error_set(r->rep.err, SGS_ENOMEM, "%s: out of memory", r->rep.file);
        for (size_t i = 0; i < n; i++)
            pairs[i] = (id_row_t){c->customer_id[i], i};
        qsort(pairs, n, sizeof *pairs, cmp_id_row);
        keys = pairs;
        stride = sizeof *pairs;
        size_t best = SIZE_MAX; /* index k of the pair (k-1, k) with the smallest later row */
        for (size_t k = 1; k < n; k++) {
            if (pairs[k].id != pairs[k - 1].id)
                continue;
            if (r->rep.fn) {
                report(&r->rep, SGS_CHECK_DUPLICATE, SGS_EDATA, id_path, SGS_NO_ROW,
                       "rows %zu and %zu both have customer_id %lld", pairs[k - 1].row,
                       pairs[k].row, (long long)pairs[k].id);
            } else if (best == SIZE_MAX || pairs[k].row < pairs[best].row) {
                best = k;
            }
        }
        if (best != SIZE_MAX) {
            rc = report(&r->rep, SGS_CHECK_DUPLICATE, SGS_EDATA, id_path, SGS_NO_ROW,
                        "rows %zu and %zu both have customer_id %lld", pairs[best - 1].row,
                        pairs[best].row, (long long)pairs[best].id);
            goto cleanup;
        }
    }
    if (c->referrer_id) {
        const int64_t *ref = c->referrer_id;
        size_t first = n;
#pragma omp parallel for num_threads(r->nt) schedule(static) reduction(min : first) if (n > 4096)
        for (size_t i = 0; i < n; i++)
            if (ref[i] != -1 && i < first && find_id(keys, n, stride, ref[i]) == SIZE_MAX)
                first = i;
        for (size_t i = first; i < n; i++) {
            if (ref[i] == -1 || find_id(keys, n, stride, ref[i]) != SIZE_MAX)
                continue;
            rc = report(&r->rep, SGS_CHECK_REFERRER, SGS_EDATA, col_path(r, "referrer_id"), i,
                        "referrer_id %lld is not a customer_id of /customers (use -1 for "
                        "nobody)",
                        (long long)ref[i]);
            if (rc)
                goto cleanup;
        }
    }
cleanup:
    sgs_free(pairs);
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
    reader_init(&r, path, opt, err);
    r.has_as_of = 0; /* every known customer is kept */
    sgs_h5_crash_arm(path);
    int rc = open_file(&r.rep, &r.file);
    if (rc == SGS_OK)
        rc = open_group(&r, "/customers", cu_specs, 4, 0, present);
    sgs_h5_crash_disarm();
    if (rc || !*present)
        goto cleanup;
    rc = sgs_customers_alloc(out, r.n_rows, r.cols[1].dset >= 0, r.cols[2].dset >= 0,
                             r.cols[3].dset >= 0);
    if (rc) {
        rc = sgs_error_set(err, SGS_ENOMEM, "%s: out of memory for %zu customers", path, r.n_rows);
        goto cleanup;
    }
    r.cols[0].data = (unsigned char *)out->customer_id;
    r.cols[1].data = (unsigned char *)out->signup_time_s;
    r.cols[2].data = (unsigned char *)out->referrer_id;
    r.cols[3].data = (unsigned char *)out->preferred_channel;
    r.id = out->customer_id;
    r.signup = out->signup_time_s;
    rc = read_chunks(&r, opt, "customers");
    if (rc)
        goto cleanup;
    out->n_rows = r.n_kept;
    rc = check_customers(&r, out);
cleanup:
    reader_close(&r);
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
    format_iso((int64_t)st.st_mtime, mtime, sizeof mtime);
    snprintf(buf, size, "%s size=%lld mtime=%s rows=%zu hash64=%016llx", base,
             (long long)st.st_size, mtime, tx_stats ? tx_stats->n_rows_in_file : (size_t)0,
             (unsigned long long)(tx_stats ? tx_stats->content_hash64 : 0));
    return SGS_OK;
}

/* ---- Object listing ------------------------------------------------------------------- */

typedef struct object_list {
    sgs_h5_object_info_t *items;
    size_t n, cap;
    int failed;
    hid_t lapl; /* external links refused (h5_guard.h) */
} object_list_t;

/* Filters of a dataset as "shuffle+deflate(4)". */
static void describe_filters(hid_t dcpl, char *buf, size_t size)
{
    buf[0] = '\0';
    int n = H5Pget_nfilters(dcpl);
    size_t used = 0;
    for (int i = 0; i < n && used < size; i++) {
        unsigned flags = 0, config = 0, cd[8] = {0};
        size_t n_cd = 8;
        char name[64] = "";
        H5Z_filter_t id =
            H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_cd, cd, sizeof name, name, &config);
        char one[80];
        switch (id) {
        case H5Z_FILTER_DEFLATE:
            snprintf(one, sizeof one, "deflate(%u)", n_cd > 0 ? cd[0] : 0);
            break;
        case H5Z_FILTER_SHUFFLE:
            snprintf(one, sizeof one, "shuffle");
            break;
        case H5Z_FILTER_FLETCHER32:
            snprintf(one, sizeof one, "fletcher32");
            break;
        case H5Z_FILTER_SZIP:
            snprintf(one, sizeof one, "szip");
            break;
        case H5Z_FILTER_NBIT:
            snprintf(one, sizeof one, "nbit");
            break;
        case H5Z_FILTER_SCALEOFFSET:
            snprintf(one, sizeof one, "scaleoffset");
            break;
        default:
            snprintf(one, sizeof one, "filter%d%s%s%s", (int)id, *name ? "(" : "", name,
                     *name ? ")" : "");
            break;
        }
        int w = snprintf(buf + used, size - used, "%s%s", used ? "+" : "", one);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* Only hard and soft links are opened, and a soft link's target is never reached through an
 * external link: listing a hostile file opens nothing outside it (the reader names the
 * links it refuses). */
static herr_t visit_object(hid_t root, const char *name, const sgs_link_info_t *info, void *data)
{
    object_list_t *list = data;
    if (info->type != H5L_TYPE_HARD && info->type != H5L_TYPE_SOFT)
        return 0;
    hid_t obj = H5Oopen(root, name, list->lapl);
    if (obj < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0; /* dangling soft link, or one that leaves the file: not an object of it */
    }
    H5I_type_t t = H5Iget_type(obj);
    if (t != H5I_GROUP && t != H5I_DATASET) {
        H5Oclose(obj);
        return 0;
    }
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 32;
        sgs_h5_object_info_t *items = sgs_realloc_array(list->items, cap, sizeof *items);
        if (!items) {
            H5Oclose(obj);
            list->failed = 1;
            return -1;
        }
        list->items = items;
        list->cap = cap;
    }
    sgs_h5_object_info_t *it = &list->items[list->n++];
    memset(it, 0, sizeof *it);
    snprintf(it->path, sizeof it->path, "/%s", name);
    if (t == H5I_GROUP) {
        it->is_group = 1;
        H5Oclose(obj);
        return 0;
    }
    hid_t type = H5Dget_type(obj), space = H5Dget_space(obj), dcpl = H5Dget_create_plist(obj);
    if (type >= 0)
        sgs_h5_type_name(type, it->type, sizeof it->type);
    if (space >= 0) {
        hsize_t dims[H5S_MAX_RANK];
        int rank = H5Sget_simple_extent_dims(space, dims, NULL);
        it->rank = rank > 0 ? rank : 0;
        it->length = rank > 0 ? (uint64_t)dims[0] : (uint64_t)H5Sget_simple_extent_npoints(space);
    }
    if (dcpl >= 0) {
        hsize_t cdims[H5S_MAX_RANK];
        if (H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, H5S_MAX_RANK, cdims) > 0)
            it->chunk_rows = (uint64_t)cdims[0];
        describe_filters(dcpl, it->filters, sizeof it->filters);
    }
    it->storage_bytes = (uint64_t)H5Dget_storage_size(obj);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    H5Oclose(obj);
    return 0;
}

int sgs_h5_list_objects(const char *path, sgs_h5_object_info_t **out, size_t *n, sgs_error_t *err)
{
    *out = NULL;
    *n = 0;
    reporter_t rep = {path, NULL, NULL, err, 0};
    hid_t file;
    sgs_h5_crash_arm(path);
    int rc = open_file(&rep, &file);
    if (rc) {
        sgs_h5_crash_disarm();
        return rc;
    }
    object_list_t list = {0};
    list.lapl = sgs_h5_guard_dapl();
    if (list.lapl < 0) {
        H5Fclose(file);
        sgs_h5_crash_disarm();
        return sgs_error_set(err, SGS_EIO, "%s: cannot list the file's objects", path);
    }
    herr_t st = SGS_LVISIT(file, H5_INDEX_NAME, H5_ITER_INC, visit_object, &list);
    /* why it failed, before the next HDF5 call clears the error stack */
    char cause[256] = "";
    int code = st < 0 ? sgs_h5_guard_read_failure(cause, sizeof cause) : SGS_OK;
    H5Pclose(list.lapl);
    H5Fclose(file);
    sgs_h5_crash_disarm();
    if (list.failed) {
        sgs_free(list.items);
        return sgs_error_set(err, SGS_ENOMEM, "%s: out of memory listing datasets", path);
    }
    if (st < 0) { /* a corrupt object header or group: 65, unless a read(2) failed */
        sgs_free(list.items);
        return sgs_error_set(err, code, "%s: cannot list the file's objects%s%s%s", path,
                             code == SGS_EDATA ? ": its metadata is malformed" : "",
                             *cause ? ": " : "", cause);
    }
    *out = list.items;
    *n = list.n;
    return SGS_OK;
}
