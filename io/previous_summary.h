/*
 * io/previous_summary.h — the figures of an earlier run's summary.json that a run compares
 * itself with (`segscore run --compare-summary`, output.compare_summary; docs/report.md):
 * the as-of date, customers and revenue, the value totals, the customers per RFM segment and
 * per lifecycle stage, and the opportunities listed in all and per kind. Segments, stages and
 * kinds are matched by name, so a summary written by an older segscore with fewer of them
 * reads; names this version does not know are skipped.
 */
#ifndef SGS_PREVIOUS_SUMMARY_H
#define SGS_PREVIOUS_SUMMARY_H

#include "kernels/core.h"
#include "kernels/opportunities.h"
#include "kernels/rfm.h"
#include "kernels/stages.h"

/* Larger files are refused: a summary.json is tens of kilobytes. */
#define SGS_PREVIOUS_SUMMARY_MAX_BYTES (16u * 1024 * 1024)

/* A figure that the earlier run did not write is NaN. */
typedef struct sgs_previous_summary {
    char as_of[16];          /* YYYY-MM-DD */
    char engine_version[32]; /* of the segscore that wrote it */
    char input_identity[256];
    double customers, revenue;                   /* customers.with_purchases, .revenue_total */
    double expected_purchases, clv, horizon;     /* value.*_total, value.horizon: NaN without */
    double listed;                               /* opportunities.listed: NaN without */
    double rfm_customers[SGS_RFM_SEGMENT_COUNT]; /* rfm.segments[].customers by name */
    double stage_customers[SGS_STAGE_COUNT];     /* stages.per_stage by name */
    double listed_per_kind[SGS_OPP_KIND_COUNT];  /* opportunities.per_kind.*.listed, [0] NaN */
} sgs_previous_summary_t;

/* Read `path`. @return 0; SGS_ENOINPUT when it cannot be opened or read (err names the file and
 * the system's reason); SGS_EDATA when it is not JSON (err gives the line and column), is
 * larger than SGS_PREVIOUS_SUMMARY_MAX_BYTES, or is not a segscore run summary (err names the
 * member that is missing or not a finite number: as_of, customers.with_purchases,
 * customers.revenue_total are required); SGS_ENOMEM. */
int sgs_previous_summary_read(const char *path, sgs_previous_summary_t *out, sgs_error_t *err);

#endif
