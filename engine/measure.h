/*
 * engine/measure.h — `segscore measure` (docs/measure.md): an earlier run's opportunity list
 * (its results file: /opportunities with groups, /@as_of) against what the listed customers
 * did since, read from a newer input: treated (group 0) against control (group 1) per
 * opportunity kind and channel, and per kind over all channels.
 *
 * Steps: read the list (io/h5_results_list.h) and the newer input's transactions and events
 * (io/h5_input.h) up to the window end; the outcome window is days as_of + 1 .. as_of + days
 * (default: up to the last day of the input's transactions and events); map the list's
 * customers to a dense index (kernels/group.h), their outcomes and the per-arm sums, the
 * differences and intervals (kernels/measure.h). This file orders the steps; the numbers are
 * the kernels'. Same output bits for any thread count.
 */
#ifndef SGS_MEASURE_ENGINE_H
#define SGS_MEASURE_ENGINE_H

#include "engine/progress.h"
#include "kernels/measure.h"
#include "kernels/rfm.h"

#include <stdint.h>
#include <stdio.h>

#define SGS_MEASURE_MAX_LINES (SGS_OPP_KIND_COUNT * (SGS_CHANNEL_COUNT + 1))
#define SGS_MEASURE_MAX_WARNINGS 8
#define SGS_MEASURE_NOT_APPLICABLE 255 /* reason code of a metric a kind does not have */

typedef struct sgs_measure_request {
    const char *results_path; /* the earlier run's results file */
    const char *input_path;   /* the newer input */
    int has_days;             /* 0: up to the input's last day */
    int32_t days;             /* window length in days, >= 1, when has_days */
    int64_t min_arm;          /* smallness rule: customers per arm, >= 2 */
    int n_threads;            /* >= 1 */
    int64_t now_s;            /* current time (Unix s): bounds input times without --days */
    sgs_progress_t *progress;
} sgs_measure_request_t;

/* One line of the report: a kind and a channel, or a kind over all channels. */
typedef struct sgs_measure_line {
    int kind;                              /* 1..9 */
    int channel;                           /* 0..7, or SGS_MEASURE_ALL_CHANNELS */
    int applies[SGS_MEASURE_METRIC_COUNT]; /* renewal_kept only for renewal_at_risk, survey
                                              change only for detractor_follow_up */
    sgs_measure_diff_t metric[SGS_MEASURE_METRIC_COUNT];
} sgs_measure_line_t;

/* The revenue difference of one (kind, RFM segment, channel) cell: what a later run's
 * --learn-from uses to choose channels per segment. */
#define SGS_MEASURE_RFM_GROUPS (SGS_RFM_SEGMENT_COUNT + 1) /* the segments, then no purchase */
#define SGS_MEASURE_MAX_SEGMENT_LINES (SGS_MEASURE_MAX_LINES * SGS_MEASURE_RFM_GROUPS)
typedef struct sgs_measure_segment_line {
    int kind;        /* 1..9 */
    int rfm_segment; /* RFM segment code, or SGS_RFM_SEGMENT_COUNT: no purchase */
    int channel;     /* 0..7, or SGS_MEASURE_ALL_CHANNELS */
    sgs_measure_diff_t revenue;
} sgs_measure_segment_line_t;

typedef struct sgs_measure_result {
    /* the list */
    char results_version[64];
    int32_t as_of_day;
    size_t n_list_rows, n_customers;
    int64_t n_treated_rows, n_control_rows;
    /* the newer input and the window */
    char input_identity[1024];
    int has_events;
    int32_t first_day, end_day; /* window days as_of + 1 .. end_day */
    int32_t data_last_day;      /* last day of the rows read */
    sgs_measure_counts_t counts;
    int64_t min_arm;
    /* lines: per kind on the list, its channels ascending, then its all-channel line */
    size_t n_lines;
    sgs_measure_line_t lines[SGS_MEASURE_MAX_LINES];
    int kind_listed[SGS_OPP_KIND_COUNT];
    sgs_measure_diff_t incremental[SGS_OPP_KIND_COUNT]; /* per listed kind */
    double assumed_value[SGS_OPP_KIND_COUNT]; /* mean value at stake the run assumed for the
                                                 kind's treated rows; NaN without any */
    sgs_measure_diff_t cumulative;
    /* revenue per (kind, RFM segment, channel), when the results file has the RFM segments */
    int has_segments;
    size_t n_segment_lines;
    sgs_measure_segment_line_t segment_lines[SGS_MEASURE_MAX_SEGMENT_LINES];
    size_t n_kinds_included, n_kinds_left_out;
    size_t n_warnings;
    char warnings[SGS_MEASURE_MAX_WARNINGS][320];
} sgs_measure_result_t;

/* Measure; *res is overwritten (it owns no memory). @return 0; SGS_ENOINPUT (a file is
 * missing or not HDF5); SGS_EDATA (a results file without /@engine_version, /@as_of,
 * /opportunities or its group column, or from a newer engine; an input whose rows do not go
 * past the as-of date; any reader's error); SGS_ETEMPFAIL, SGS_ENOMEM, SGS_EIO, SGS_EINTR. */
int sgs_measure(const sgs_measure_request_t *req, sgs_measure_result_t *res, sgs_error_t *err);

/* The terminal report (docs/measure.md "On the terminal"). */
void sgs_measure_print(const sgs_measure_result_t *res, const sgs_measure_request_t *req,
                       FILE *out);

/* The JSON report, written into `file` (where engine/command_outputs.h says), messages
 * naming `path`, the output as given. @return 0, SGS_EIO (SGS_ENOSPACE for a full disk),
 * SGS_ENOMEM. */
int sgs_measure_write_json(const sgs_measure_result_t *res, const sgs_measure_request_t *req,
                           const char *file, const char *path, sgs_error_t *err);

/* The HDF5 report (docs/measure.md "HDF5"), into `file` as above.
 * @return 0, SGS_ECANTCREAT, SGS_EIO, SGS_ENOSPACE, SGS_ENOMEM. */
int sgs_measure_write_h5(const sgs_measure_result_t *res, const sgs_measure_request_t *req,
                         const char *file, const char *path, sgs_error_t *err);

#endif /* SGS_MEASURE_ENGINE_H */
