/*
 * engine/dist_detect.h — opportunity detection over customers spread over processes
 * (docs/mpi.md): the base-wide thresholds (save_high_value's CLV quantile, the medians of
 * alive CLV per segment and overall, advocate's quantile of the value brought in) selected
 * among every process's customers, then each process's triggers. The thresholds and every
 * customer's mask equal those of one process holding every customer (kernels/opportunities.h
 * sgs_opportunities_detect).
 */
#ifndef SGS_DIST_DETECT_H
#define SGS_DIST_DETECT_H

#include "engine/dist.h"
#include "kernels/opportunities.h"

/* Counts over every process's customers. */
typedef struct sgs_dist_detect_counts {
    int64_t n_fired[SGS_OPP_KIND_COUNT]; /* customers each kind fired for */
    int64_t n_customers;                 /* customers with at least one kind fired */
    int64_t n_candidates;                /* rows before capacity, all processes */
} sgs_dist_detect_counts_t;

/* sgs_opportunities_detect over the n customers of this process (in), every process's
 * customers together: fired[i] for this process's customers; *stats holds the thresholds
 * (the same on every process) and this process's counts, as engine/dist_opportunities.h
 * takes them; *whole (when not NULL) the counts over every process. Segment labels must be
 * below the customer count of all processes. @return as sgs_opportunities_detect, the same
 * on every process (the lowest failing process's message, naming the customer); stats owns
 * memory after a failure too (sgs_opportunity_stats_free). */
int sgs_dist_opportunities_detect(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                                  const sgs_opportunity_config_t *cfg, const sgs_exec_t *exec,
                                  uint16_t *fired, sgs_opportunity_stats_t *stats,
                                  sgs_dist_detect_counts_t *whole, sgs_error_t *err);

#endif /* SGS_DIST_DETECT_H */
