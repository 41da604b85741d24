/*
 * io/h5_input.h — read the input tables of DESIGN.md "Input schema" from an HDF5 file,
 * in chunks, validating every column as it arrives.
 *
 * A bad file is an error naming the file, the dataset and, where it applies, the 0-based
 * file row ("demo.h5: /transactions/amount: row 5: amount is NaN"): missing file
 * (SGS_ENOINPUT), not HDF5, missing or misspelled dataset (with the closest existing
 * name), wrong element class (e.g. float customer ids), not 1-D, columns of different
 * lengths, NaN or infinite amounts, times before 1970, times later than now + 1 day when
 * no as-of is given (a bad clock must not move "today"), an empty /transactions table, an
 * event kind outside 1..8, duplicate customer ids, a referrer that is not a known
 * customer (all SGS_EDATA). Integer columns of either sign and 1 to 8 bytes are accepted
 * and converted by HDF5; a value that does not fit the column's type (a uint64 id above
 * INT64_MAX, a channel of 300) is an error naming the row. Floats are not accepted for
 * integer columns, and amounts must be floats. Before any read, io/h5_guard.h refuses
 * (SGS_EDATA) links out of the file, virtual datasets, external storage, types wider than
 * 8 bytes, filters this library cannot decode, data never written and storage past the
 * end of the file; a truncated or malformed file is SGS_EDATA, a file locked by a writer
 * SGS_ETEMPFAIL, and only an operating-system read error SGS_EIO. docs/input.md "Input
 * validation rules" has the table of every rule with its message and exit status.
 *
 * Reading: the destination columns are allocated once (file rows), read chunk by chunk
 * (opt->chunk_rows rows per H5Dread) straight into place, and the chunk is validated,
 * hashed and, with an as-of, compacted before the next one is read; the tail is given
 * back at the end. Pages are faulted in (in parallel, huge pages where the kernel allows)
 * just ahead of each chunk, because first touch of fresh memory dominates otherwise
 * (DESIGN.md "Scale"). Columns in shuffle and deflate chunks (or plain chunks) are instead
 * decoded whole before the first chunk is checked, once, on opt->n_threads threads, by the
 * reader itself (io/h5_reader_decode.c: the guard's size check on the same decode, values
 * converted bit for bit as H5Dread converts them). Compressed datasets read by H5Dread
 * get a chunk cache of four chunks (at least 1 MiB), fully read chunks evicted first, so
 * that reads that split a file chunk decompress it once; uncompressed ones bypass the cache
 * and are read straight into the destination.
 *
 * Determinism: outputs, stats and the first reported problem do not depend on
 * opt->n_threads or opt->chunk_rows. Thread-safety: HDF5 (serial build) is not
 * thread-safe; call these from one thread at a time.
 */
#ifndef SGS_H5_INPUT_H
#define SGS_H5_INPUT_H

#include "io/h5_objects.h" /* sgs_h5_list_objects, for includers from before it had its own header */
#include "kernels/core.h"
#include "kernels/tables.h"

#include <stdint.h>

/* ---- Problems -----------------------------------------------------------------------
 * Each rule of the reader has a check code. Normally the first problem stops the read and
 * becomes the error. With a problem callback (segscore inspect), every problem is passed
 * to the callback and reading goes on where it can (see the readers below). */
typedef enum sgs_input_check {
    SGS_CHECK_FILE,          /* missing, unreadable or not an HDF5 file */
    SGS_CHECK_MISSING,       /* required group or dataset missing */
    SGS_CHECK_SHAPE,         /* not a dataset, or not one-dimensional */
    SGS_CHECK_TYPE,          /* wrong element class (float id, integer amount, string) */
    SGS_CHECK_LENGTH,        /* columns of one group differ in length */
    SGS_CHECK_EMPTY,         /* /transactions has no rows (or none before the as-of) */
    SGS_CHECK_RANGE,         /* an integer does not fit the column's type */
    SGS_CHECK_AMOUNT_NAN,    /* amount is NaN */
    SGS_CHECK_AMOUNT_INF,    /* amount is +-infinity */
    SGS_CHECK_TIME_NEGATIVE, /* time (or signup_time) before 1970 */
    SGS_CHECK_TIME_FUTURE,   /* time later than now + 1 day, without as-of */
    SGS_CHECK_KIND,          /* event kind outside 1..8 */
    SGS_CHECK_DUPLICATE,     /* a customer id appears twice in /customers */
    SGS_CHECK_REFERRER,      /* referrer_id neither -1 nor a customer of /customers */
    SGS_CHECK_LINK,          /* an external link, or a soft link leaving the file (h5_guard.h) */
    SGS_CHECK_STORAGE,       /* virtual, external storage, never written, beyond the file */
    SGS_CHECK_FILTER,        /* a filter this HDF5 library cannot decode */
    SGS_CHECK_COUNT
} sgs_input_check_t;

/* Short stable name of a check ("amount_nan"), used by inspect's listing and JSON. */
const char *sgs_input_check_name(sgs_input_check_t check);

#define SGS_NO_ROW SIZE_MAX

typedef struct sgs_input_problem {
    sgs_input_check_t check;
    int code;            /* the error code this problem gives (SGS_EDATA, SGS_ENOINPUT) */
    const char *dataset; /* "/transactions/amount", "/transactions" or "" (file level) */
    size_t row;          /* 0-based file row, SGS_NO_ROW when the problem has none */
    const char *message; /* full message, "demo.h5: /transactions/amount: row 5: ..." */
} sgs_input_problem_t;

/* Receives one problem; the pointers are valid during the call only. */
typedef void (*sgs_problem_fn)(void *ctx, const sgs_input_problem_t *problem);

/* Progress callback: `done` of `total` rows of the table named `what` have been read. */
typedef void (*sgs_read_progress_fn)(void *ctx, const char *what, size_t done, size_t total);

typedef struct sgs_read_options {
    int has_as_of;       /* 1: rows with time_s >= as_of_end_s are excluded and counted */
    int64_t as_of_end_s; /* exclusive end (Unix s) of the as-of day, when has_as_of */
    int64_t now_s;       /* current time (Unix s), 0 = the clock; without as-of, times later
                            than now + 1 day fail */
    size_t chunk_rows;   /* rows per read; 0 = a default (1 << 20) */
    sgs_read_progress_fn progress; /* optional */
    void *progress_ctx;
    int n_threads;          /* OpenMP threads for validation, hashing and page faulting; <= 0: 1.
                               Set it to the run's thread count: one thread reads at about half speed */
    sgs_problem_fn problem; /* optional: collect every problem instead of stopping (inspect) */
    void *problem_ctx;
    int skip_category; /* 1: leave /transactions/category unread (out->category NULL) */
    sgs_stop_fn stop;  /* optional: asked before each chunk_rows rows (kernels/core.h); when it
                          says stop, the read ends with its code and message */
    void *stop_ctx;    /* passed to stop */
    /* One share of the rows, for a run spread over n_shares processes (engine/dist_input.h;
     * every table; /customers then leaves its whole-table checks to the caller): of the hash
     * blocks (SGS_INPUT_HASH_BLOCK_ROWS rows) the share gets blocks [nb * share / n_shares,
     * nb * (share + 1) / n_shares). n_shares 0 or 1: every row. Problems name file rows; a
     * share may keep no row (all after the as-of, or none to read): the caller judges. */
    int share, n_shares;
} sgs_read_options_t;

/* Options with defaults: no as-of, now_s = time(NULL), default chunk, 1 thread. */
void sgs_read_options_init(sgs_read_options_t *opt);

typedef struct sgs_read_stats {
    size_t n_rows_in_file;     /* rows of the table in the file */
    size_t n_rows_after_as_of; /* rows excluded because they are at or after the as-of end */
    int sorted_by_customer;    /* 1 when the kept rows are sorted by (customer_id, time_s) */
    int64_t min_time_s;        /* over kept rows; 0 when none */
    int64_t max_time_s;
    uint64_t content_hash64; /* the data's fingerprint, see below; of the share alone when
                                n_shares > 1 */
    /* n_shares > 1: the hash of each hash block of the share (allocated, free with sgs_free),
     * for sgs_input_fingerprint_of_blocks */
    uint64_t *block_hash;
    size_t n_block_hash;
} sgs_read_stats_t;

/* The content fingerprint: the file rows (excluded ones too, in file order) are cut into
 * blocks of SGS_INPUT_HASH_BLOCK_ROWS rows. In each block every required column has its
 * own lane over its values as unsigned 64-bit integers after conversion (transactions
 * customer_id, time, amount as float64 bits; events customer_id, time, kind), each lane
 * starting from S and taking value v as lane = rotl64(lane + v * P2, 31) * P1 (the
 * accumulate round of xxHash64; S = 0x27d4eb2f165667c5, P1 = 0x9e3779b185ebca87,
 * P2 = 0xc2b2ae3d27d4eb4f). The block's hash is the same round from S over its three
 * lanes, the total the same round from S over the block hashes, and the fingerprint the
 * xxHash64 avalanche of the total (h ^= h >> 33; h *= P2; h ^= h >> 29;
 * h *= P3 = 0x165667b19e3779f9; h ^= h >> 32). It is not xxHash64 of the file.
 * Independent lanes and blocks make it fast and parallel; it is the same for any
 * chunk_rows and thread count, and the same for an int32 and an int64 file of equal
 * values. */
#define SGS_INPUT_HASH_BLOCK_ROWS ((size_t)65536)
/* The fingerprint of a table from the hashes of all its blocks in file order (the shares'
 * sgs_read_stats_t.block_hash, concatenated). */
uint64_t sgs_input_fingerprint_of_blocks(const uint64_t *block_hash, size_t n_blocks);

/* Read /transactions (customer_id, time, amount required; channel, category optional)
 * into *out (allocated here; free with sgs_transactions_free). Rows after the as-of end
 * are dropped while reading, so memory is proportional to the kept rows. stats may be
 * NULL.
 * With opt->problem set, row problems are reported and the rows kept as read, and the
 * return is 0 when the table could be read at all (structural problems still return
 * SGS_EDATA after being reported).
 * @return 0, SGS_ENOINPUT, SGS_EDATA, SGS_ETEMPFAIL (locked by a writer), SGS_ENOMEM or
 * SGS_EIO. On error *out is empty. */
int sgs_h5_read_transactions(const char *path, const sgs_read_options_t *opt,
                             sgs_transactions_t *out, sgs_read_stats_t *stats, sgs_error_t *err);

/* Read /events when the file has the group (*present = 0 and *out empty otherwise).
 * customer_id, time, kind required; value (NaN allowed) and channel optional. Same as-of
 * and time rules. kind must be 1..8 (row named otherwise). stats may be NULL. */
int sgs_h5_read_events(const char *path, const sgs_read_options_t *opt, sgs_events_t *out,
                       int *present, sgs_read_stats_t *stats, sgs_error_t *err);

/* Read /customers when the file has the group (*present = 0 otherwise). customer_id
 * required; signup_time (>= 0), referrer_id (-1 or a customer_id of the table) and
 * preferred_channel optional. No as-of rule: every known customer is kept. Duplicate
 * customer ids are an error naming both rows (the first repeated row in file order and
 * the earlier row it repeats). */
int sgs_h5_read_customers(const char *path, sgs_customers_t *out, int *present, sgs_error_t *err);

/* The same with options (threads, chunking, problem callback; the as-of fields are not
 * used). opt may be NULL for defaults. With opt->n_shares > 1 only the share is read
 * (out->first_file_row its first row) and the checks that span the whole table (duplicate
 * ids, referrers) are the caller's. */
int sgs_h5_read_customers_opt(const char *path, const sgs_read_options_t *opt, sgs_customers_t *out,
                              int *present, sgs_error_t *err);

/* The input's identity, recorded in results so that a result can be traced to its input:
 * "<basename> size=<bytes> mtime=<YYYY-MM-DDTHH:MM:SSZ> rows=<n_rows_in_file>
 * hash64=<16 hex digits>" from the file's metadata and the stats of
 * sgs_h5_read_transactions. @return 0 or SGS_ENOINPUT. */
int sgs_h5_input_identity(const char *path, const sgs_read_stats_t *tx_stats, char *buf,
                          size_t size, sgs_error_t *err);

#endif
