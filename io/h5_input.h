/*
 * io/h5_input.h — read the input tables of DESIGN.md "Input schema" from an HDF5 file,
 * in chunks, validating every column as it arrives.
 *
 * A bad file is an error naming the file, the dataset and, where it applies, the 0-based
 * row: missing file (SGS_ENOINPUT), not HDF5, missing or misspelled dataset (with the
 * closest existing name), wrong element class (e.g. float customer ids), not 1-D,
 * columns of different lengths, NaN or infinite amounts, times before 1970, times later
 * than now + 1 day when no as-of is given (a bad clock must not move "today"), an empty
 * /transactions table (all SGS_EDATA). Integer columns of any width/sign that convert
 * without loss are accepted (HDF5 converts); floats are not accepted for integer columns.
 */
#ifndef SGS_H5_INPUT_H
#define SGS_H5_INPUT_H

#include "kernels/core.h"
#include "kernels/tables.h"

#include <stdint.h>

/* Progress callback: `done` of `total` rows of the table named `what` have been read. */
typedef void (*sgs_read_progress_fn)(void *ctx, const char *what, size_t done, size_t total);

typedef struct sgs_read_options {
    int has_as_of;        /* 1: rows with time_s >= as_of_end_s are excluded and counted */
    int64_t as_of_end_s;  /* exclusive end (Unix s) of the as-of day, when has_as_of */
    int64_t now_s;        /* current time (Unix s); without as-of, times > now + 1 day fail */
    size_t chunk_rows;    /* rows per read; 0 = a default (1 << 20) */
    sgs_read_progress_fn progress; /* optional */
    void *progress_ctx;
} sgs_read_options_t;

typedef struct sgs_read_stats {
    size_t n_rows_in_file;     /* rows of the table in the file */
    size_t n_rows_after_as_of; /* rows excluded because they are at or after the as-of end */
    int sorted_by_customer;    /* 1 when the kept rows are sorted by (customer_id, time_s) */
    int64_t min_time_s;        /* over kept rows; 0 when none */
    int64_t max_time_s;
    uint64_t content_fnv1a64;  /* FNV-1a 64 over the required columns' bytes of every row in
                                  file order (excluded rows too): the data's fingerprint */
} sgs_read_stats_t;

/* Read /transactions (customer_id, time, amount required; channel, category optional)
 * into *out (allocated here; free with sgs_transactions_free). Rows after the as-of end
 * are dropped while reading, so memory is proportional to the kept rows.
 * @return 0, SGS_ENOINPUT, SGS_EDATA, SGS_ENOMEM or SGS_EIO. On error *out is empty. */
int sgs_h5_read_transactions(const char *path, const sgs_read_options_t *opt,
                             sgs_transactions_t *out, sgs_read_stats_t *stats, sgs_error_t *err);

/* Read /events when the file has the group (*present = 0 and *out empty otherwise).
 * Same as-of rule. kind must be 1..8 (row named otherwise). */
int sgs_h5_read_events(const char *path, const sgs_read_options_t *opt, sgs_events_t *out,
                       int *present, sgs_read_stats_t *stats, sgs_error_t *err);

/* Read /customers when the file has the group (*present = 0 otherwise). No as-of rule:
 * every known customer is kept. Duplicate customer ids are an error naming both rows. */
int sgs_h5_read_customers(const char *path, sgs_customers_t *out, int *present,
                          sgs_error_t *err);

/* The input's identity, recorded in results so that a result can be traced to its input:
 * "<basename> size=<bytes> mtime=<YYYY-MM-DDTHH:MM:SSZ> rows=<n_rows_in_file>
 * fnv1a64=<16 hex digits>" from the file's metadata and the stats of
 * sgs_h5_read_transactions. @return 0 or SGS_ENOINPUT. */
int sgs_h5_input_identity(const char *path, const sgs_read_stats_t *tx_stats, char *buf,
                          size_t size, sgs_error_t *err);

#endif
