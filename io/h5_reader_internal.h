/*
 * io/h5_reader_internal.h — what the files of the HDF5 input reader share (internal to io/,
 * not installed). The contract of the reader is io/h5_input.h; its files are:
 *   io/h5_input.c          the public readers of the three tables, options, identity
 *   io/h5_input_report.c   problems and messages (the reporter)
 *   io/h5_reader_open.c    the file, the group and its columns, checked before any read
 *   io/h5_reader.c         the reader's life, reading a column, the chunk loop
 *   io/h5_reader_decode.c  compressed columns decoded ahead of the chunk loop, in parallel
 *   io/h5_input_checks.c   the content hash, row checks, the fused pass over a chunk
 *   io/h5_customers_check.c  duplicate customer ids and unknown referrers
 *   io/h5_objects.c        the object listing of `segscore inspect` (io/h5_objects.h)
 */
#ifndef SGS_H5_READER_INTERNAL_H
#define SGS_H5_READER_INTERNAL_H

#include "io/h5_columns.h"
#include "io/h5_convert.h"
#include "io/h5_guard.h"
#include "io/h5_input.h"
#include "kernels/core.h"

#include <hdf5.h>

#include <stddef.h>
#include <stdint.h>

#define DEFAULT_CHUNK_ROWS ((size_t)1 << 20) /* rows per read when the options say 0 */
#define MAX_COLUMNS 5                        /* of the widest tables, /transactions and /events */

/* ---- Problems and messages ---------------------------------------------------------- */

/* Where problems go: the first one becomes *err; with a callback every one is passed on. */
typedef struct reporter {
    const char *file;
    sgs_problem_fn fn;
    void *ctx;
    sgs_error_t *err;
    int code; /* code of the first problem, 0 while there is none */
    /* Checks the guard left for later (a column's decoded chunk sizes, io/h5_reader_decode.c):
     * run, once, before any problem is reported, so that their problems come first as they
     * would have at open. NULL when there are none. */
    void (*settle)(void *settle_ctx);
    void *settle_ctx;
} reporter_t;

/* Report a problem as "<file>: <dataset>: row N: <text>" (io/h5_input_report.c). */
__attribute__((format(printf, 6, 7))) int sgs__reader_report(reporter_t *r, sgs_input_check_t check,
                                                             int code, const char *dataset,
                                                             size_t row, const char *fmt, ...);

/* "2024-06-30T12:00:00Z" for a Unix time; raw seconds when the year is out of range. */
void sgs__reader_format_iso(int64_t t, char *buf, size_t size);

/* ---- Links: iteration across HDF5 versions ------------------------------------------- */

#if H5_VERSION_GE(1, 12, 0)
typedef H5L_info2_t sgs_link_info_t;
#define SGS_LITERATE H5Literate2
#define SGS_LVISIT H5Lvisit2
#else
typedef H5L_info_t sgs_link_info_t;
#define SGS_LITERATE H5Literate
#define SGS_LVISIT H5Lvisit
#endif

/* ---- Columns -------------------------------------------------------------------------- */

typedef struct column_spec {
    const char *name; /* "customer_id" */
    int required;
    int is_float;       /* 1: the file must hold floats; 0: integers */
    sgs_h5_type_t type; /* element type in memory */
} column_spec_t;

typedef struct column {
    const column_spec_t *spec;
    char path[128];      /* "/transactions/amount" */
    hid_t dset;          /* -1 when absent */
    hid_t fspace;        /* file dataspace, reselected for each chunk */
    int file_unsigned;   /* the file's integer type is unsigned */
    size_t elem;         /* bytes per element in memory */
    unsigned char *data; /* destination (owned by the table), NULL when absent */
    size_t touched;      /* bytes of data faulted in so far */
    sgs_h5_conv_t conv;  /* file type to memory type without H5Dread (io/h5_convert.h) */
    int deferred;        /* the guard left the decoded chunk sizes to the reader's decode */
    int decoded;         /* every row decoded ahead, at its file row: no H5Dread */
} column_t;

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
    /* the file rows read, [row_begin, row_end): the share of opt, set by
     * sgs__reader_set_rows once the group is open */
    size_t row_begin, row_end;
    uint64_t *block_hash; /* of a share: each hash block's hash (owned; to the stats at the end) */
    size_t n_block_hash;
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

/* ---- Shared between the reader's files ------------------------------------------------ */

/* A reader for the file at path with options opt (NULL: defaults), nothing open yet. */
void sgs__reader_init(reader_t *r, const char *path, const sgs_read_options_t *opt,
                      sgs_error_t *err);

/* The rows to read once r->n_rows is known: opt's share (every row when opt is NULL).
 * Returns their count, or SIZE_MAX when the share's block hashes cannot be allocated. */
size_t sgs__reader_set_rows(reader_t *r, const sgs_read_options_t *opt);

/* Close everything the reader holds; the destination columns are the caller's. */
void sgs__reader_close(reader_t *r);

/* Path of the column named `name` in the current group ("" when it has none). */
const char *sgs__reader_col_path(const reader_t *r, const char *name);

/* Open r->rep.file read-only into *out (io/h5_reader_open.c says which codes). */
int sgs__reader_open_file(reporter_t *r, hid_t *out);

/* The guard's rule for a column, and the reader's check for a guard refusal
 * (io/h5_reader_open.c). */
sgs_h5_column_rule_t sgs__reader_column_rule(const column_spec_t *spec);
sgs_input_check_t sgs__reader_refusal_check(sgs_h5_refusal_kind_t kind);

/* Open and check the columns of `group` described by specs (io/h5_reader_open.c). */
int sgs__reader_open_group(reader_t *r, const char *group, const column_spec_t *specs,
                           size_t n_specs, int required, int *present);

/* Compressed columns decoded ahead (io/h5_reader_decode.c). A column whose guard check left
 * the decoded chunk sizes to the reader (column_t.deferred) is read raw, chunk by chunk, and
 * decoded in parallel straight into its destination, each row at its file row, with the
 * guard's size check on that decode; the chunk loop then only moves rows down when rows were
 * dropped (as-of). A column with a value out of its type's range is read by H5Dread instead
 * (its range check and messages), after all of its chunks were checked. sgs__reader_settle
 * runs the guard's checks still pending (decode-and-count, as at open) when no decode will
 * follow: before the first problem is reported (reporter_t.settle) or when the read stops
 * before the decode; it returns the code of the first problem (0 when none). */
int sgs__reader_decode_ahead(reader_t *r, const sgs_read_options_t *opt);
int sgs__reader_settle(reader_t *r);

/* Read every row of the open group into the bound destination columns (io/h5_reader.c). */
int sgs__reader_read_chunks(reader_t *r, const sgs_read_options_t *opt, const char *what);

/* The fused pass (io/h5_input_checks.c): begin it for chunks of at most `chunk` rows,
 * run it over one chunk, report the problems of rows, drop and rescan rows after the as-of,
 * and the content fingerprint of the rows read. */
int sgs__reader_scan_begin(reader_t *r, size_t chunk);
void sgs__reader_scan_chunk(reader_t *r, size_t start, size_t m, size_t dst, size_t *first_bad,
                            size_t *n_late);
int sgs__reader_report_rows(reader_t *r, size_t start, size_t dst, size_t first, size_t end);
size_t sgs__reader_exclude_after_as_of(reader_t *r, size_t m, size_t dst);
void sgs__reader_scan_kept(reader_t *r, size_t lo, size_t hi);
uint64_t sgs__reader_content_hash(const reader_t *r);

/* Duplicate customer ids and unknown referrers of /customers (io/h5_customers_check.c). */
int sgs__reader_check_customers(reader_t *r, const sgs_customers_t *c);

#endif
