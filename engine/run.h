/*
 * engine/run.h — one nightly run, from the input file to the published outputs.
 *
 * Order of a run (DESIGN.md "One run"): read, group, summarize, score (RFM, value models),
 * segment, stage, act, write. Every output is written aside and published only when all
 * of them are complete, with one switch: on any error or signal nothing is published and
 * yesterday's files stay (docs/publishing.md).
 */
#ifndef SGS_RUN_H
#define SGS_RUN_H

#include "engine/config.h"
#include "engine/dist.h"
#include "engine/progress.h"

typedef struct sgs_run_request {
    const char *input_path;     /* input HDF5 (DESIGN.md input schema) */
    const char *output_path;    /* results HDF5; the other outputs go beside it by default */
    const char *config_path;    /* the configuration file read, or NULL: never an output */
    const sgs_config_t *config; /* effective configuration */
    sgs_progress_t *progress;   /* where steps are reported and timed */
    int64_t now_s;              /* current time (Unix s): bounds input times without as-of */
    /* the processes of a run spread over several (docs/mpi.md, engine/dist_run.h), every one
       calling sgs_run with the same request; NULL or one process: the single-process run */
    const sgs_dist_t *dist;
} sgs_run_request_t;

/* Execute the run. @return 0 or an SGS_E* code with err naming what failed; SGS_EINTR when
 * a signal stopped it (engine/interrupt.h). Spread over req->dist's processes, collective: the
 * same code on every process, a failure named by its process ("process R of N: "). */
int sgs_run(const sgs_run_request_t *req, sgs_error_t *err);

#endif
