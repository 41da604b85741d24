/*
 * datasets/simulate.h — one customer's story, written as rows. Internal to datasets/
 * (sgs__ prefix): generate.c cuts the customers into blocks and sub-blocks, calls
 * sgs__sim_customer for each customer of a sub-block into that sub-block's row buffer, and
 * writes the rows.
 */
#ifndef SGS_SIMULATE_H
#define SGS_SIMULATE_H

#include "datasets/generate.h"

#define SGS__SIM_N_CAMPAIGNS_MAX 256
#define SGS__SIM_N_CATEGORIES 20
/* Customer index i draws purpose k (0..7) from stream 8 i + k of a seed (simulate.c). */
#define SGS__SIM_N_PURPOSES 8
/* Opportunity kinds are 1..9 (kernels/opportunities.h, SGS_OPP_KIND_COUNT); index 0 unused. */
#define SGS__SIM_OPP_KINDS 10

/* Everything fixed for a run, derived once from the params. Read-only while simulating. */
typedef struct sgs__sim_model {
    sgs_generate_params_t params;
    uint64_t n_buyers; /* customer indices 0..n_buyers-1 buy */
    uint64_t n_total;  /* buyers + prospects */
    int64_t start_s;   /* window start, Unix s (00:00 UTC of start_day) */
    int64_t end_s;     /* window end, exclusive, Unix s (00:00 of end_day + 1) */
    int64_t n_days;    /* D = end_day - start_day + 1 */
    double log_alpha;  /* log(alpha) */
    double log_gamma;  /* log(gamma) */
    double tx_channel_cdf[7];
    double pref_channel_cdf[7];
    double category_cdf[SGS__SIM_N_CATEGORIES];
    int n_campaigns;
    int64_t campaign_s[SGS__SIM_N_CAMPAIGNS_MAX]; /* send times, Unix s */
} sgs__sim_model_t;

/* Growable rows of one sub-block (struct of arrays). Capacity doubles when full, so there
 * is no allocation per row; a failed growth sets `failed` and later rows are dropped. */
typedef struct sgs__sim_rows {
    size_t n_tx, cap_tx;
    int64_t *tx_customer, *tx_time;
    double *tx_amount;
    uint8_t *tx_channel;
    int32_t *tx_category;
    size_t n_ev, cap_ev;
    int64_t *ev_customer, *ev_time;
    uint8_t *ev_kind;
    double *ev_value;
    uint8_t *ev_channel; /* /events/channel: the contact's channel code, 0 when none */
    size_t cap_scratch;
    int64_t *scratch; /* support-contact times of the current customer */
    uint64_t n_purchases, n_refunds;
    int failed; /* an allocation failed: the rows are incomplete */
} sgs__sim_rows_t;

/* The per-customer columns of a block: /customers and /truth, indexed by the position of
 * the customer in its block. */
typedef struct sgs__sim_customers {
    size_t cap;
    int64_t *customer_id, *signup_time, *referrer_id;
    uint8_t *preferred_channel;
    uint8_t *is_prospect, *alive_at_end, *subscriber, *support_burst, *missed_renewal, *cancelled,
        *stopped_buying;
    double *lambda, *p_drop, *nu, *mean_spend;
    int64_t *birth_time, *death_time;
    int32_t *n_purchases;
} sgs__sim_customers_t;

/* Derive the model from checked params. */
void sgs__sim_model_init(sgs__sim_model_t *m, const sgs_generate_params_t *p);

/* Birth time (Unix s of the first purchase) of buyer i < n_buyers: a pure function of
 * (seed, i); non-decreasing day with i. */
int64_t sgs__sim_birth_time(const sgs__sim_model_t *m, uint64_t i);

/* Simulate customer index i (buyer or prospect) appending its rows to *rows and writing
 * its /customers and /truth values at position `pos` of *cust. */
void sgs__sim_customer(const sgs__sim_model_t *m, uint64_t i, sgs__sim_rows_t *rows,
                       sgs__sim_customers_t *cust, size_t pos);

/* A buyer's constants for writing its purchase occasions. */
typedef struct sgs__sim_buyer {
    int64_t id;       /* customer id */
    double nu_log;    /* log nu (Gamma-Gamma) */
    int fav_channel;  /* 1..7 */
    int fav_category; /* 1..SGS__SIM_N_CATEGORIES */
} sgs__sim_buyer_t;

/* The favourite channel and category of buyer i, as its simulation drew them. */
void sgs__sim_buyer_favourites(const sgs__sim_model_t *m, uint64_t i, sgs__sim_buyer_t *b);

/* Write purchase occasion j of a buyer whose occasion days (window day numbers, strictly
 * increasing) are day[0..n-1], at time_s (tod: its seconds after midnight), drawing from rng:
 * spend z ~ Gamma(p, rate nu) in one row or a split basket, maybe a free row, maybe a
 * refund (m->params.refund_share) on a later day without an occasion. */
void sgs__sim_emit_occasion(const sgs__sim_model_t *m, sgs_rng_t *rng, const sgs__sim_buyer_t *b,
                            const int64_t *day, size_t n, size_t j, int64_t time_s, int64_t tod,
                            sgs__sim_rows_t *rows);

/* Seconds after midnight from the daily profile (10% uniform, 90% around 14:30). */
int64_t sgs__sim_time_of_day(sgs_rng_t *rng);

/* Append one /events row (channel: its /events/channel code). */
void sgs__sim_emit_event(sgs__sim_rows_t *r, int64_t id, int64_t time_s, int kind, double value,
                         int channel);

/* Room for n values in rows->scratch; 0 when growth failed (rows->failed is set). */
int sgs__sim_scratch_room(sgs__sim_rows_t *rows, size_t n);

/* /truth/stopped_buying of a customer who dropped out at death_s: silent for >= 90 days and
 * >= 3 expected gaps (3 / lambda) before the window end m->end_s. */
int sgs__sim_stopped_buying(const sgs__sim_model_t *m, int64_t death_s, double lambda);

/* The channel a campaign reaches a customer through (/events/channel of kinds 7 and 8): the
 * customer's preferred channel, or email when it is unknown (0) or not a channel code. */
int sgs__sim_contact_channel(int preferred_channel);

/* ---- The continuation (simulate_continue.c; docs/generate.md "Continuing past a run") ---- */

/* Everything fixed for a continuation. Read-only while simulating. */
typedef struct sgs__sim_continuation {
    int64_t first_day; /* window day number of the first continued day D + 1 (the base's D) */
    int64_t n_days;    /* days continued, T >= 1 */
    int64_t first_s;   /* Unix s of 00:00 UTC of the first continued day */
    int64_t end_s;     /* Unix s of the continuation's end, exclusive: first_s + T days */
    uint64_t seed;     /* the continuation's own seed (from the base's seed and D) */
    double response_prob[SGS__SIM_OPP_KINDS]; /* [kind]: P(response | contact), 0..1 */
    double purchase_lift[SGS__SIM_OPP_KINDS]; /* [kind]: purchase rate x (1 + lift), >= -1 */
} sgs__sim_continuation_t;

/* One customer of a continuation: its state at the base's end and its row of the list (in),
 * what happened and the expectations of its potential outcomes (out). */
typedef struct sgs__sim_continued {
    /* in */
    int64_t id;            /* customer id */
    int buyer;             /* 1 buyer, 0 prospect (never buys) */
    int alive;             /* buyer alive at the base's end (/truth/alive_at_end) */
    double lambda, p_drop; /* BG/NBD rate per day and dropout probability (buyers) */
    double nu;             /* Gamma-Gamma nu (buyers) */
    int64_t death_s;       /* base /truth/death_time; out: the death at the new end, -1 alive */
    int kind;              /* opportunity kind 1..SGS__SIM_OPP_KINDS-1 on the list, 0 unlisted */
    int group;             /* 0 treatment, 1 control (listed only) */
    int channel;           /* the list's channel code (listed only) */
    int preferred_channel; /* /customers/preferred_channel, for a list channel of 0 */
    /* out */
    int64_t contact_s;   /* the contact's time, drawn for every listed customer (control
                            customers are not contacted: the time of their potential
                            contact); -1 unlisted */
    int contacted;       /* 1: a campaign contact event was written (treatment) */
    int responded;       /* 1: a campaign response event was written */
    int32_t n_occasions; /* purchase occasions in the continuation */
    double spend;        /* their spend (sum of the amounts written) */
    double p_response;   /* P(response within the window | contacted); 0 unlisted */
    double p_bought_treated, p_bought_control;       /* P(>= 1 purchase in the window) */
    double e_purchases_treated, e_purchases_control; /* E[purchase occasions in the window] */
} sgs__sim_continued_t;

/* Continue customer index i for c->n_days days from 00:00 of c->first_day (m: the base's
 * model with the window extended to the continuation's end and no refunds), appending its
 * rows to *rows and filling the out fields of *cc. Draws come from c->seed's streams of i
 * only: the same whatever thread. A control or unlisted customer's draws and rows do not
 * depend on the list or the effects. Potential outcomes of an unlisted customer under
 * treatment are NaN. */
void sgs__sim_continue_customer(const sgs__sim_model_t *m, const sgs__sim_continuation_t *c,
                                uint64_t i, sgs__sim_continued_t *cc, sgs__sim_rows_t *rows);

/* BG/NBD expectations for a customer alive at the start of a window with cumulative purchase
 * intensity Lambda (= lambda T without a contact) and dropout p after each purchase:
 * P(no purchase) = exp(-Lambda); E[purchases] = (1 - exp(-p Lambda)) / p (Lambda when p = 0). */
double sgs__sim_p_bought(double cum_rate);
double sgs__sim_expected_purchases(double cum_rate, double p_drop);

void sgs__sim_rows_clear(sgs__sim_rows_t *rows); /* n = 0, keeps capacity */
/* Capacity for at least n_tx transaction and n_ev event rows. @return 0 or SGS_ENOMEM. */
int sgs__sim_rows_reserve(sgs__sim_rows_t *rows, size_t n_tx, size_t n_ev);
void sgs__sim_rows_free(sgs__sim_rows_t *rows);
int sgs__sim_customers_alloc(sgs__sim_customers_t *c, size_t cap); /* 0 or SGS_ENOMEM */
void sgs__sim_customers_free(sgs__sim_customers_t *c);

#endif
