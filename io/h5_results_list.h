/*
 * io/h5_results_list.h — read the opportunity list of an earlier run's results file (the
 * input of `segscore measure`): the root attributes that say when and by what it was made,
 * and the /opportunities columns measure needs (docs/results-layout.md "/opportunities").
 *
 * Version rule (docs/measure.md "Which results files"): the file must carry
 * /@engine_version (a segscore results file from 0.1.0 on), /@as_of, and /opportunities
 * with customer_id, kind, channel, group and value_at_stake. /opportunities/group came with the
 * control groups (issue 15 item 3): a results file from an engine before them has no group column
 * and is refused, naming what is missing and what to do. A file written by a newer engine
 * (a higher major or minor version than this one) is refused too: its layout may differ.
 *
 * Thread-safety: HDF5 (serial build) is not thread-safe; call from one thread at a time.
 */
#ifndef SGS_H5_RESULTS_LIST_H
#define SGS_H5_RESULTS_LIST_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sgs_results_list {
    char engine_version[64]; /* /@engine_version */
    int32_t as_of_day;       /* /@as_of as a UTC day number */
    size_t n_rows;           /* list rows */
    int64_t *customer_id;    /* [n_rows] /opportunities/customer_id */
    uint8_t *kind;           /* [n_rows] 1..9 */
    uint8_t *channel;        /* [n_rows] 0..7 */
    uint8_t *group;          /* [n_rows] 0 treated, 1 control */
    double *value_at_stake;  /* [n_rows] the value the run assumed (finite) */
    /* the run's customers with a purchase and their RFM segments (/customers/customer_id,
     * /rfm/segment), when the file has both; NULL otherwise */
    size_t n_buyers;
    int64_t *buyer_id;  /* [n_buyers] ascending */
    uint8_t *buyer_rfm; /* [n_buyers] RFM segment code */
} sgs_results_list_t;

/* Read the list of results file `path` into *out (columns allocated here; free with
 * sgs_results_list_free, also after a failure). Every column is checked as io/h5_guard.h
 * checks an input; values are checked: kind 1..9, channel 0..7, group 0 or 1, a
 * finite value at stake (the message
 * names the file, the dataset and the 0-based row).
 * @return 0; SGS_ENOINPUT (missing, not HDF5); SGS_EDATA (no /@engine_version, a newer
 * engine's file, no /@as_of or not a date, no /opportunities or one of its five columns,
 * columns of different lengths, a value out of range, a refused or malformed dataset);
 * SGS_ETEMPFAIL (locked by a writer); SGS_ENOMEM; SGS_EIO. */
int sgs_h5_read_results_list(const char *path, sgs_results_list_t *out, sgs_error_t *err);

void sgs_results_list_free(sgs_results_list_t *l);

#endif
