/*
 * datasets/continue.h — continue a generated population past a run's as-of date with a known
 * effect of the run's list: `segscore generate --continue-from BASE.h5 --list RESULTS.h5
 * --days T -o NEXT.h5` (docs/generate.md "Continuing past a run").
 *
 * BASE is a file segscore generate wrote (its /truth holds every customer's hidden state at
 * the window's last day D); RESULTS is a segscore run results file made with --as-of D (its
 * /opportunities list: customer, kind, channel, group 0 treatment / 1 control). NEXT holds
 * BASE's rows unchanged followed by the simulated days D+1..D+T:
 *  - a customer alive at D keeps buying in a Poisson process of rate lambda (BG/NBD is
 *    memoryless, so the continuation is exact), dropping out after each purchase with
 *    probability p; a treated customer (listed, group 0) of kind k is contacted (event 7) on
 *    day D+1 at 10:00 (within 2 hours), responds (event 8) within 14 days with probability
 *    resp_k, and from the contact on buys at rate lambda (1 + lift_k). Control and unlisted
 *    customers are not contacted and their rows do not depend on the list or the effects;
 *  - spend per occasion Gamma(p, rate nu), at most one occasion a day, no refunds;
 *  - /customers unchanged; /truth extended to the new end, per-customer continuation columns
 *    and the effect truth per kind in /truth/effects.
 * Deterministic: the same bytes whatever the thread count.
 */
#ifndef SGS_CONTINUE_H
#define SGS_CONTINUE_H

#include "kernels/core.h"

#include <stdint.h>

#define SGS_CONTINUE_KINDS 10 /* opportunity kinds 1..9 (kernels/opportunities.h); [0] unused */
#define SGS_CONTINUE_DEFAULT_RESPONSE 0.10
#define SGS_CONTINUE_DEFAULT_LIFT 0.3
#define SGS_CONTINUE_MAX_DAYS 3660 /* ten years */
#define SGS_CONTINUE_MAX_LIFT 100.0

typedef struct sgs_continue_params {
    const char *base_path;                    /* a file segscore generate wrote (borrowed) */
    const char *list_path;                    /* a segscore run results file; NULL: no list,
                                                 nobody is contacted (the baseline) */
    int64_t days;                             /* days continued, 1..SGS_CONTINUE_MAX_DAYS */
    double response_prob[SGS_CONTINUE_KINDS]; /* [kind]: P(response | contact), 0..1 */
    double purchase_lift[SGS_CONTINUE_KINDS]; /* [kind]: rate x (1 + lift), -1..100 */
    int deflate_level;                        /* 0..9 for every dataset */
} sgs_continue_params_t;

typedef struct sgs_continue_stats {
    uint64_t n_customers;    /* rows of /customers (buyers and prospects) */
    uint64_t n_listed;       /* customers on the list */
    uint64_t n_control;      /* of them in the control group */
    uint64_t n_contacts;     /* campaign contacts written (the treatment group) */
    uint64_t n_responses;    /* campaign responses written */
    uint64_t n_purchases;    /* purchase occasions simulated after D */
    uint64_t n_transactions; /* /transactions rows added */
    uint64_t n_events;       /* /events rows added */
    char as_of[16];          /* D, YYYY-MM-DD */
    char end[16];            /* D + days, YYYY-MM-DD */
    double seconds;          /* wall time */
} sgs_continue_stats_t;

/* Defaults: days 60, every kind resp SGS_CONTINUE_DEFAULT_RESPONSE and lift
 * SGS_CONTINUE_DEFAULT_LIFT, deflate 1, no paths. */
void sgs_continue_defaults(sgs_continue_params_t *p);

/* Parse one --effect value "KIND=RESP,LIFT" (KIND a name of sgs_opportunity_kind_name, or
 * "all" for every kind) into p. @return 0, or SGS_EUSAGE with a message naming the value
 * and the kind names. */
int sgs_continue_parse_effect(sgs_continue_params_t *p, const char *text, sgs_error_t *err);

/* Check every field. @return 0 or SGS_EUSAGE naming the option. */
int sgs_continue_check(const sgs_continue_params_t *p, sgs_error_t *err);

/* Read BASE and the list whole (memory proportional to BASE), simulate, and write NEXT at
 * `path` atomically (a temporary sibling renamed into place; on failure it is removed and an
 * existing file at `path` is untouched). exec: threads (NULL = 1) and the stop check, asked
 * before writing and before the rename. stats may be NULL.
 * @return 0; SGS_EUSAGE (bad params); SGS_ENOINPUT (BASE or the list missing); SGS_EDATA
 * (BASE not a file segscore generate wrote, already a continuation, or damaged; the list not
 * a results file, several rows of one customer, a customer BASE does not have, or its as-of
 * date not BASE's last day); SGS_ECANTCREAT; SGS_EIO; SGS_ENOSPACE; SGS_ENOMEM; the stop
 * check's code. */
int sgs_continue_file(const char *path, const sgs_continue_params_t *p, const sgs_exec_t *exec,
                      sgs_continue_stats_t *stats, sgs_error_t *err);

#endif
