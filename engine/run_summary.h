/*
 * engine/run_summary.h — the summarize step's result (engine/run_summary.c): one row per
 * customer with at least one purchase, ascending id, and the counts and revenue totals over
 * the base, those left out included. Internal to engine/.
 */
#ifndef SGS_RUN_SUMMARY_H
#define SGS_RUN_SUMMARY_H

#include "kernels/summary.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sgs_run_summary {
    size_t n_customers;       /* customers with a purchase: the rows of every later column */
    size_t n_all;             /* of every process of a spread run (n_customers in one process) */
    size_t first;             /* this process's first row among the n_all (0 in one process) */
    int64_t *customer_id;     /* owned; n_customers, strictly ascending */
    sgs_summary_t columns;    /* owned; n_customers rows (kernels/summary.h) */
    size_t n_no_purchase;     /* customers without a purchase occasion, left out */
    size_t n_cancelled_days;  /* purchase days fully cancelled the same day (every customer) */
    size_t n_nonpositive_net; /* customers kept whose net spend is <= 0: spend and CLV 0 */
    size_t n_purchase_rows, n_refund_rows, n_zero_amount_rows;
    double revenue_total;  /* sum of total_spend over every customer, left-out ones included */
    double revenue_buyers; /* the same over the customers kept: the base of revenue shares */
} sgs_run_summary_t;

/* An empty result (nothing owned). */
void sgs_run_summary_init(sgs_run_summary_t *s);

/* Free what *s owns and leave it empty. NULL-safe. */
void sgs_run_summary_free(sgs_run_summary_t *s);

#endif
