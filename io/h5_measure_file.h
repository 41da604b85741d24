/*
 * io/h5_measure_file.h — read back what `segscore measure -o` wrote (docs/measure.md "HDF5"):
 * the dates it measured, each kind's incremental revenue with the value the run had assumed,
 * and the revenue difference of each kind and channel, and of each kind, RFM segment and
 * channel (/segment_lines, optional). The input of `segscore run
 * --learn-from` (engine/run_learn.c).
 *
 * The file must follow the version rule of io/h5_own_file.h and hold /kinds and /lines with
 * the columns read here; kinds are 1..9 without repeats, channels 0..8 (8: all channels).
 * Thread-safety: HDF5 (serial build) is not thread-safe; call from one thread.
 */
#ifndef SGS_H5_MEASURE_FILE_H
#define SGS_H5_MEASURE_FILE_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

#define SGS_MEASURE_FILE_KINDS 10   /* kind codes 0..9, 0 unused */
#define SGS_MEASURE_FILE_CHANNELS 9 /* channel codes 0..7, then 8: all channels */
#define SGS_MEASURE_FILE_ALL_CHANNELS 8
#define SGS_MEASURE_FILE_RFM_GROUPS 12 /* the 11 RFM segment codes, then no purchase */

typedef struct sgs_measure_file_kind {
    int listed; /* the kind was on the measured list (has a /kinds row) */
    int64_t n_treated, n_control;
    double incremental_revenue, lo, hi; /* (treated mean - control mean) x n_treated */
    double assumed_value; /* mean value at stake the run assumed for the treated rows */
    int conclusive;       /* /kinds/conclusive */
    int reason;           /* /kinds/reason (kernels/measure.h, sgs_measure_reason_t) */
    /* revenue per customer, treated - control, per channel (index SGS_MEASURE_FILE_ALL_CHANNELS:
     * every channel); has_line 0 where the list had no row of the kind on the channel */
    int has_line[SGS_MEASURE_FILE_CHANNELS];
    double revenue_diff[SGS_MEASURE_FILE_CHANNELS], revenue_lo[SGS_MEASURE_FILE_CHANNELS],
        revenue_hi[SGS_MEASURE_FILE_CHANNELS];
    int revenue_conclusive[SGS_MEASURE_FILE_CHANNELS];
    /* the same per RFM segment of the measured list (/segment_lines, when the file has it):
     * [segment code, or SGS_MEASURE_FILE_RFM_GROUPS - 1: no purchase][channel] */
    int seg_conclusive[SGS_MEASURE_FILE_RFM_GROUPS][SGS_MEASURE_FILE_CHANNELS];
    double seg_revenue_hi[SGS_MEASURE_FILE_RFM_GROUPS][SGS_MEASURE_FILE_CHANNELS];
} sgs_measure_file_kind_t;

typedef struct sgs_measure_file {
    char engine_version[64];
    int32_t as_of_day;       /* the measured list's as-of day */
    int32_t window_last_day; /* the last day of the outcome window */
    int has_segment_lines;   /* /segment_lines was read */
    sgs_measure_file_kind_t kind[SGS_MEASURE_FILE_KINDS];
} sgs_measure_file_t;

/* Read `path` into *out. @return 0; SGS_ENOINPUT (missing, not HDF5); SGS_EDATA (the version
 * rule, a dataset or attribute missing — "not a file of segscore measure -o" —, lengths that
 * differ, a kind or channel out of range, naming the dataset and row); SGS_ETEMPFAIL; SGS_ENOMEM;
 * SGS_EIO. */
int sgs_h5_read_measure_file(const char *path, sgs_measure_file_t *out, sgs_error_t *err);

#endif
