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

/* The channel a campaign reaches a customer through (/events/channel of kinds 7 and 8): the
 * customer's preferred channel, or email when it is unknown (0) or not a channel code. */
int sgs__sim_contact_channel(int preferred_channel);

void sgs__sim_rows_clear(sgs__sim_rows_t *rows); /* n = 0, keeps capacity */
/* Capacity for at least n_tx transaction and n_ev event rows. @return 0 or SGS_ENOMEM. */
int sgs__sim_rows_reserve(sgs__sim_rows_t *rows, size_t n_tx, size_t n_ev);
void sgs__sim_rows_free(sgs__sim_rows_t *rows);
int sgs__sim_customers_alloc(sgs__sim_customers_t *c, size_t cap); /* 0 or SGS_ENOMEM */
void sgs__sim_customers_free(sgs__sim_customers_t *c);

#endif
