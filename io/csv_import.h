/*
 * io/csv_import.h — convert delimited text (CSV, whitespace-separated columns) into the
 * input schema of DESIGN.md: /transactions/{customer_id int64, time int64 (Unix seconds,
 * UTC), amount float64, optional channel uint8, optional category int32}.
 *
 * The conversion streams: the text is read through io/csv_reader in one buffer, rows are
 * parsed and appended to chunked HDF5 columns (io/h5_columns appenders), so memory does
 * not grow with the number of rows; only the set of distinct customer ids (16 to 32 bytes
 * per customer, for the summary count) grows with the number of customers. By default a
 * second thread compresses and writes while the calling thread parses (n_threads). The
 * output is written to a temporary sibling and renamed into place when complete
 * (io/atomic_file.h): a failed import leaves an existing output file untouched.
 *
 * Rows:
 * - A row whose customer field is empty (or a missing-value marker: NA, N/A, NaN, null,
 *   None, case-insensitive) is skipped and counted (SGS_IMPORT_NO_CUSTOMER).
 * - Any other problem (field count different from the header's or the first row's,
 *   customer id not an integer, unreadable or pre-1970 time, amount not a number, bad
 *   channel or category) is a bad row: the import stops with SGS_EDATA and a message
 *   "<file>:<line>: <reason>", or, with skip_bad_rows, the row is counted under its
 *   reason and the first SGS_IMPORT_MAX_EXAMPLES messages are kept.
 * - Negative amounts are kept (refunds, cancellations).
 *
 * Numbers never depend on the process locale: '.' is the only decimal point, and a
 * decimal comma or a thousands separator ("1,5", "1,234.50") is a bad amount, never read
 * as 1 or 1234.5.
 *
 * io/ does not print: counts, examples and the column mapping come back in the stats.
 */
#ifndef SGS_CSV_IMPORT_H
#define SGS_CSV_IMPORT_H

#include "io/csv_reader.h"
#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

/* How the time column is written. */
typedef enum sgs_time_format {
    SGS_TIME_AUTO = 0,     /* ISO 8601 (below) or YYYYMMDD (8 digits); slashed dates are an
                              error asking for mdy or dmy, because 12/9/2011 is ambiguous */
    SGS_TIME_ISO = 1,      /* YYYY-MM-DD, optionally followed by 'T' or ' ' and HH:MM, HH:MM:SS
                              or HH:MM:SS.fff (fraction dropped), optionally followed (after
                              optional blanks) by Z, UTC, GMT, +hh, +hhmm or +hh:mm (or -);
                              with an offset the time is converted to UTC, without one it is
                              taken as UTC */
    SGS_TIME_YYYYMMDD = 2, /* exactly 8 digits, e.g. 19970101 (midnight UTC) */
    SGS_TIME_MDY = 3,      /* month/day/year [H:MM[:SS] [AM|PM]]: 12/9/2011 12:50 is
                              9 December 2011; '/', '.' or '-' between the parts; the
                              year must have 4 digits */
    SGS_TIME_DMY = 4,      /* day/month/year [H:MM[:SS] [AM|PM]]: 9/12/2011 12:50 */
    SGS_TIME_UNIX = 5      /* integer Unix seconds */
} sgs_time_format_t;

/* Whether the first record is a header line with column names. */
typedef enum sgs_import_header {
    SGS_IMPORT_HEADER_AUTO = 0, /* yes when any column is given by name; with positions
                                   only, yes when the first record's customer field is
                                   non-empty and not an integer (CDNOW master's
                                   "customer_id date ..." line) */
    SGS_IMPORT_HEADER_YES = 1,
    SGS_IMPORT_HEADER_NO = 2
} sgs_import_header_t;

/* Progress callback: `done` of `total` bytes (total 0 when unknown) have been read. */
typedef void (*sgs_import_progress_fn)(void *ctx, const char *what, size_t done, size_t total);

/* Column references: a header name ("Customer ID", exact, else ignoring case and
 * surrounding blanks) or a 1-based position ("3"). Alternatives separated by '|' are
 * tried in order ("CustomerID|Customer ID"). The amount may be a product of two
 * references, "Quantity*UnitPrice|Price" (a header name that itself contains '*' is
 * matched whole first). */
typedef struct sgs_import_options {
    sgs_csv_mode_t mode;        /* delimited (default) or whitespace */
    char delimiter;             /* delimited mode; 0 = ',' */
    sgs_import_header_t header; /* default AUTO */
    const char *customer;       /* required */
    const char *time;           /* required */
    const char *amount;         /* required: one reference or a*b */
    const char *channel;        /* optional (NULL): code 0..7 or name (store, web, app,
                                   phone, email, sms, mail, unknown); empty gives 0 */
    const char *category;       /* optional (NULL): int32; empty gives -1 */
    sgs_time_format_t time_format;
    int skip_bad_rows;               /* 1: count bad rows and go on; 0: stop at the first */
    int deflate_level;               /* HDF5 compression 0..9 of the output columns */
    int n_threads;                   /* 1: parse and write in the calling thread; otherwise
                                        (0 = default) compress and write in a second thread
                                        while parsing. The output bytes are the same. */
    size_t chunk_rows;               /* HDF5 chunk and write batch; 0 = 65536 */
    size_t buffer_bytes;             /* reader buffer; 0 = default (tests use small ones) */
    const char *source_name;         /* recorded as /transactions attribute "source"; NULL =
                                        the input's base name */
    sgs_import_progress_fn progress; /* optional, called every 64 Ki rows */
    void *progress_ctx;
    sgs_stop_fn stop; /* optional stop check (kernels/core.h), asked every 1024 records and
                         before the rename; when it says stop the import returns its code, the
                         temporary is removed and the output is untouched */
    void *stop_ctx;   /* passed to stop */
} sgs_import_options_t;

/* Why a row was not imported. */
typedef enum sgs_import_reason {
    SGS_IMPORT_NO_CUSTOMER = 0, /* empty customer id: always skipped, never an error */
    SGS_IMPORT_BAD_FIELDS,      /* number of fields differs from the header / first row */
    SGS_IMPORT_BAD_CUSTOMER,    /* customer id not an integer or out of int64 range */
    SGS_IMPORT_BAD_TIME,        /* time unreadable, not a real date, or before 1970 */
    SGS_IMPORT_BAD_AMOUNT,      /* amount (or a factor) empty, not a number, or infinite */
    SGS_IMPORT_BAD_CHANNEL,
    SGS_IMPORT_BAD_CATEGORY,
    SGS_IMPORT_N_REASONS
} sgs_import_reason_t;

/* Short name of a reason ("no customer id", "bad time", ...). */
const char *sgs_import_reason_name(sgs_import_reason_t reason);

#define SGS_IMPORT_MAX_EXAMPLES 5
#define SGS_IMPORT_EXAMPLE_MAX 320

typedef struct sgs_import_stats {
    uint64_t n_rows_read; /* data records seen (header and blank lines not counted) */
    uint64_t n_imported;  /* rows written */
    uint64_t n_skipped[SGS_IMPORT_N_REASONS]; /* rows not written, by reason */
    uint64_t n_customers;                     /* distinct customer ids among imported rows */
    uint64_t n_refunds;                       /* imported rows with amount < 0 */
    uint64_t n_zero_amount;                   /* imported rows with amount == 0 */
    int64_t min_time_s;                       /* over imported rows; 0 when none */
    int64_t max_time_s;
    uint64_t header_line; /* line of the header record, 0 when there is none */
    uint64_t error_line;  /* line of the bad row that stopped the import, else 0 */
    uint64_t bytes_read;
    char mapping[512]; /* resolved columns: customer = column 7 "CustomerID", ... */
    size_t n_examples; /* messages kept in examples (<= SGS_IMPORT_MAX_EXAMPLES) */
    char examples[SGS_IMPORT_MAX_EXAMPLES][SGS_IMPORT_EXAMPLE_MAX]; /* "<file>:<line>: ..." */
} sgs_import_stats_t;

/* Convert the text file `in_path` ("-" = standard input) into the HDF5 file `out_path`
 * (replaced atomically on success; never touched on failure). *stats is always filled
 * with what was seen, also on failure (may be NULL).
 * @return 0;
 *   SGS_ENOINPUT when the input cannot be opened;
 *   SGS_EUSAGE for missing or malformed column references, or input == output;
 *   SGS_EDATA for a column that is not in the header (message lists the columns and the
 *     closest name), a header-less file given names, an empty input, a bad row (without
 *     skip_bad_rows), a tokenizer error (unclosed quote), or no row imported at all;
 *   SGS_ECANTCREAT when the output folder is unusable; SGS_EIO; SGS_ENOMEM;
 *   the code of opt->stop when it said stop. */
int sgs_csv_import(const char *in_path, const char *out_path, const sgs_import_options_t *opt,
                   sgs_import_stats_t *stats, sgs_error_t *err);

/* ---- Field parsers (exposed for tests; used per row by sgs_csv_import) ------------------
 * Each parses `len` bytes of `text` (surrounding blanks ignored) and returns 0, or
 * SGS_EDATA with *reason set to a short static explanation. */

/* A 64-bit integer: [+-]digits, optionally followed by '.' and zeros only ("17850.0"). */
int sgs_import_parse_int64(const char *text, size_t len, int64_t *value, const char **reason);

/* A finite decimal number: [+-](digits[.digits]|.digits)[(e|E)[+-]digits]. Correctly
 * rounded (exact fast path for up to 15 significant digits, strtod in the C locale
 * otherwise). A ',' anywhere is rejected with a reason naming the decimal comma. */
int sgs_import_parse_double(const char *text, size_t len, double *value, const char **reason);

/* A time in `format` as Unix seconds (UTC). Times before 1970-01-01 are rejected. */
int sgs_import_parse_time(const char *text, size_t len, sgs_time_format_t format, int64_t *time_s,
                          const char **reason);

#endif
