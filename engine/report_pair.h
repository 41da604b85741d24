/*
 * engine/report_pair.h — the two optional reports of `evaluate` and `measure`: an HDF5 file
 * (-o) and a JSON file (--json). Both commands treat them alike: checked against the inputs
 * and each other and locked before any work, written aside once the work is done, and
 * published together (engine/command_outputs.h), so a reader sees yesterday's pair or
 * today's, never one of each.
 *
 *   sgs_report_pair_t pair;
 *   int status = sgs_report_pair_open(&pair, "measure", inputs, 2, output, json, &progress);
 *   if (status) return status;
 *   rc = ... the work ...;
 *   rc = sgs_report_pair_publish(&pair, rc, write_h5, write_json, &res, &req, &err);
 *   if (rc == SGS_OK) ... the table on standard output ...
 *   return sgs_report_pair_exit(&pair, rc, &err, &progress);
 */
#ifndef SGS_REPORT_PAIR_H
#define SGS_REPORT_PAIR_H

#include "engine/command_outputs.h"

/* Write one report of `result` (made for `request`) into `file`, messages naming `path`. */
typedef int (*sgs_report_write_t)(const void *result, const void *request, const char *file,
                                  const char *path, sgs_error_t *err);

typedef struct sgs_report_pair {
    const char *command;        /* "evaluate", "measure" */
    const char *h5, *json;      /* the paths given; NULL when not asked for */
    sgs_command_outputs_t outs; /* h5 first when given */
} sgs_report_pair_t;

/* Before any work (sgs_command_outputs_open): 0, or the exit status after the message
 * "segscore <command>: error: ..." on standard error. */
int sgs_report_pair_open(sgs_report_pair_t *p, const char *command, const sgs_named_path_t *inputs,
                         size_t n_inputs, const char *h5, const char *json,
                         sgs_progress_t *progress);

/* When rc is 0 (the work succeeded): stop if a signal came ("<command>-write"), write each
 * report asked for, and publish them ("<command>-written"). The outputs are closed in every
 * case (what was not published is removed). @return rc, else the first failure. */
int sgs_report_pair_publish(sgs_report_pair_t *p, int rc, sgs_report_write_t write_h5,
                            sgs_report_write_t write_json, const void *result, const void *request,
                            sgs_error_t *err);

/* The command's exit status: 0 after "wrote <paths>" through progress, or the status of rc
 * after its message (engine/interrupt.h: a signal's own). */
int sgs_report_pair_exit(const sgs_report_pair_t *p, int rc, const sgs_error_t *err,
                         sgs_progress_t *progress);

#endif
