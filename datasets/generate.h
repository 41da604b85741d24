/*
 * datasets/generate.h — the synthetic data generator: customers simulated from known
 * parameters (the "buy till you die" story) into an input file of DESIGN.md's schema,
 * with the true parameters and planted behaviours kept beside the data in /truth so that
 * every model and trigger of the engine can be tested against what really happened.
 *
 * The model (time in DAYS; the window [start_day, end_day] is D days long):
 *  - Buyer i (0 <= i < n_customers) makes a first purchase at birth time b_i, stratified
 *    uniform over the window: b_i = D (i + u_i) / n days after the window start, u_i ~ U(0,1),
 *    at a time of day drawn from a daily profile. Births are non-decreasing in i.
 *  - BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way",
 *    Marketing Science 24(2)): lambda_i ~ Gamma(shape r, rate alpha) purchases per day;
 *    while alive, purchases follow a Poisson process of rate lambda_i; after each REPEAT
 *    purchase the customer drops out for good with probability p_i ~ Beta(a, b) (the
 *    first purchase cannot be followed by dropout: equation 1 of the paper has no dropout
 *    at t = 0). The purchase after which a customer drops out is their death time.
 *  - Purchases at the pipeline's resolution: the pipeline counts purchase DAYS (several
 *    purchases on one day are one occasion; kernels/summary.h), so the generator writes at
 *    most one occasion per customer and day, such that what the pipeline sees is what
 *    BG/NBD's likelihood uses. Each customer is observed for the T whole days that the
 *    pipeline measures (first purchase day to the window's last day). The process runs in
 *    continuous time from a uniform point of the birth day; an arrival at time t falls on
 *    day floor(t); going back from the last arrival, one on the day of the next (or later)
 *    moves to the day before it. Then the repeat occasions x and the last one's day t_x are
 *    exactly BG/NBD's (x, t_x) with t_x rounded down from a uniform offset (unbiased),
 *    and T is exact: the fit in days recovers r, alpha, a, b (tests/slow/
 *    test_value_recovery.c). Only when the arrivals cannot fit between the birth day and
 *    the last one (a repeat arrival on the birth day itself, or more arrivals than days)
 *    are they laid out one day apart from the birth day, and any beyond the window end
 *    are lost. Why not a purchase chance per day, and the bias that remains: README
 *    "Synthetic data: segscore generate".
 *  - Gamma-Gamma spend (Fader, Hardie and Lee 2005, "RFM and CLV: using iso-value curves
 *    for customer base analysis", JMR 42(4), section "Adding monetary value"):
 *    nu_i ~ Gamma(shape q, rate gamma), each purchase OCCASION's spend z ~ Gamma(shape p,
 *    rate nu_i), so E[z | nu_i] = p / nu_i: the day's purchase amount, which is the
 *    pipeline's Gamma-Gamma input. Amounts are rounded to cents.
 *  - Rows: a purchase occasion is one row, or (5%) a basket split into two rows on the same
 *    day summing to its spend; 0.4% of occasions also have a free row (amount 0) on that
 *    day; 2% of occasions are followed 1..30 days later by a refund row (negative amount of
 *    the first row, or half of it) on a day without a purchase occasion (the next such day),
 *    so a refund never changes a purchase day. Channels 1..7 and categories 1..20 per row
 *    around a per-customer favourite.
 *  - Events, customers table, prospects, referrals and the /truth flags: see README
 *    "Synthetic data: segscore generate" (every constant is listed there and in
 *    simulate.c).
 *
 * Determinism: every customer's draws come from the counter generator keyed by (seed,
 * customer index, purpose), and rows are shuffled within fixed blocks of customers with a
 * generator keyed by (seed, block). The output file is byte-identical for equal params
 * whatever the thread count.
 */
#ifndef SGS_GENERATE_H
#define SGS_GENERATE_H

#include "kernels/core.h"

#include <stdint.h>

/* Defaults (documented in the README): BG/NBD and spend as estimated on CDNOW (BG/NBD:
 * Fader, Hardie and Lee 2005, "Counting your customers the easy way", r = 0.243,
 * alpha = 4.414 weeks = 30.898 days, a = 0.793, b = 2.426; spend: "RFM and CLV", p = 6.25,
 * q = 3.74, gamma = 15.44, mean spend 35.2). About 2.7 purchase occasions per buyer over the
 * default 3-year window, 53% one-time buyers. At these rates the fit in days recovers the
 * truth at 200,000 customers (the day resolution moves r and alpha by 0.04 and 0.06
 * standard errors); at higher rates the day resolution shows (README). */
#define SGS_GEN_DEFAULT_R 0.243
#define SGS_GEN_DEFAULT_ALPHA 30.898 /* days */
#define SGS_GEN_DEFAULT_A 0.793
#define SGS_GEN_DEFAULT_B 2.426
#define SGS_GEN_DEFAULT_P 6.25
#define SGS_GEN_DEFAULT_Q 3.74
#define SGS_GEN_DEFAULT_GAMMA 15.44
#define SGS_GEN_DEFAULT_PROSPECTS 0.1
#define SGS_GEN_DEFAULT_REFUND_SHARE 0.02
#define SGS_GEN_DEFAULT_SEED 42
#define SGS_GEN_DEFAULT_BLOCK ((size_t)65536)
#define SGS_GEN_MAX_CUSTOMERS ((uint64_t)100000000000) /* 1e11: ids stay below 2^40 */

typedef struct sgs_generate_params {
    uint64_t n_customers;   /* buyers simulated, 1..SGS_GEN_MAX_CUSTOMERS */
    uint64_t seed;          /* 0..INT64_MAX (stored as an int64 attribute) */
    int64_t start_day;      /* first day of the window, days since 1970-01-01 UTC, >= 0 */
    int64_t end_day;        /* last day of the window (inclusive), >= start_day */
    char start_date[16];    /* "YYYY-MM-DD" of start_day, for the attributes ("" = omit) */
    char end_date[16];      /* "YYYY-MM-DD" of end_day */
    double prospect_share;  /* prospects added = round(prospect_share * n_customers), 0..10 */
    double r, alpha;        /* BG/NBD purchase rate lambda ~ Gamma(r, rate alpha), per day */
    double a, b;            /* BG/NBD dropout probability p ~ Beta(a, b) */
    double p, q, gamma;     /* Gamma-Gamma: nu ~ Gamma(q, rate gamma), spend ~ Gamma(p, nu) */
    double refund_share;    /* share of occasions refunded later, 0..1 (default 0.02); refunds
                               are outside the spend model: the truth p, q, gamma is of spend
                               before refunds, what the pipeline sees with refund_share 0 */
    int with_events;        /* 1: simulate and write /events; 0: no /events group */
    int deflate_level;      /* 0..9 for every dataset */
    size_t block_customers; /* customers per shuffle block (0 = SGS_GEN_DEFAULT_BLOCK); part
                               of the output's identity: rows are shuffled within blocks */
} sgs_generate_params_t;

typedef struct sgs_generate_stats {
    uint64_t n_customers;    /* buyers */
    uint64_t n_prospects;    /* customers table rows that never bought */
    uint64_t n_transactions; /* rows of /transactions (purchase rows and refunds) */
    uint64_t n_purchases;    /* purchase occasions (a split basket is one occasion) */
    uint64_t n_refunds;      /* refund rows (amount < 0) */
    uint64_t n_events;       /* rows of /events */
    double seconds;          /* wall time of sgs_generate_file */
} sgs_generate_stats_t;

/* Progress callback: `done` of `total` customers written. */
typedef void (*sgs_generate_progress_fn)(void *ctx, const char *what, size_t done, size_t total);

/* Fill *p with the documented defaults (window 2021-07-01..2024-06-30, n_customers 0 so
 * that the caller must choose, events on, deflate level 1). */
void sgs_generate_defaults(sgs_generate_params_t *p);

/* Check every field. @return 0, or SGS_EUSAGE with a message naming the option
 * ("--alpha must be a positive finite number, got -1"). */
int sgs_generate_check(const sgs_generate_params_t *p, sgs_error_t *err);

/* The customer id of customer index i (buyers 0..n-1 then prospects) among n_total: a
 * keyed permutation of 0..n_total-1 (4-round Feistel network with cycle walking), plus 1.
 * Ids are distinct, dense in 1..n_total like the ids a database hands out, not in index
 * order, and never 0 or -1. Requires i < n_total <= 2^62. */
int64_t sgs_generate_customer_id(uint64_t seed, uint64_t index, uint64_t n_total);

/* Simulate and write the whole file at `path` atomically (a temporary sibling renamed into
 * place on success; on failure the temporary is removed and an existing file at `path`
 * is untouched). Schema: DESIGN.md "Input schema" plus /truth (README). Memory is
 * proportional to one block of customers, not to the output.
 * exec: threads (NULL = 1); the file does not depend on it. Its stop check (kernels/core.h)
 * is asked before each block of customers and once more before the rename: when it says stop,
 * the temporary is removed, `path` is untouched, and its code is returned. progress may be
 * NULL. stats may be NULL. @return 0; SGS_EUSAGE (bad params); SGS_ECANTCREAT (folder missing
 * or not writable); SGS_EIO (HDF5 write failed); SGS_ENOMEM; the stop check's code. */
int sgs_generate_file(const char *path, const sgs_generate_params_t *p, const sgs_exec_t *exec,
                      sgs_generate_progress_fn progress, void *progress_ctx,
                      sgs_generate_stats_t *stats, sgs_error_t *err);

#endif
