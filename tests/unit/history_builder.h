/*
 * tests/unit/history_builder.h — hand-built customer histories for the lifecycle and
 * opportunity tests: customers are added in customer_id order, each followed by its
 * purchase days and events (ascending days), and the builder keeps the CSR offsets.
 *
 *   hb_t h; hb_init(&h);
 *   hb_customer(&h, 10);  hb_buy(&h, 990); hb_event(&h, 995, SGS_EVENT_CANCELLED, NAN);
 *   hb_customer(&h, 11);  ...
 *   sgs_stage_input_t in = hb_input(&h);   (model columns set per customer, see fields)
 *
 * Header-only (static inline) so that several test programs can include it.
 */
#ifndef SGS_TEST_HISTORY_BUILDER_H
#define SGS_TEST_HISTORY_BUILDER_H

#include "kernels/stages.h"
#include "kernels/tables.h"

#include <math.h>
#include <string.h>

#define HB_MAX_CUSTOMERS 64
#define HB_MAX_ROWS 512

typedef struct hb {
    size_t n;
    int64_t id[HB_MAX_CUSTOMERS];
    int32_t signup[HB_MAX_CUSTOMERS];
    size_t poff[HB_MAX_CUSTOMERS + 1];
    int32_t pday[HB_MAX_ROWS];
    size_t eoff[HB_MAX_CUSTOMERS + 1];
    int32_t eday[HB_MAX_ROWS];
    uint8_t ekind[HB_MAX_ROWS];
    uint8_t echannel[HB_MAX_ROWS]; /* 0 unless given with hb_event_via */
    double evalue[HB_MAX_ROWS];
    /* evalue as the kernels take it (hb_input fills it) */
    uint64_t ev_present[HB_MAX_ROWS / 64], ev_before[HB_MAX_ROWS / 64];
    double ev_values[HB_MAX_ROWS];
    sgs_sparse_values_t ev;
    /* model and segment columns, defaults: p_buy 0.9, p_buy_model NaN, rate NaN, clv 100,
     * segment -1 */
    double p_buy[HB_MAX_CUSTOMERS];
    double p_buy_model[HB_MAX_CUSTOMERS];
    double rate[HB_MAX_CUSTOMERS];
    double clv[HB_MAX_CUSTOMERS];
    int32_t segment[HB_MAX_CUSTOMERS];
    uint8_t preferred[HB_MAX_CUSTOMERS];
    uint8_t main_channel[HB_MAX_CUSTOMERS];
    int64_t referrer[HB_MAX_CUSTOMERS];
} hb_t;

static inline void hb_init(hb_t *h)
{
    memset(h, 0, sizeof *h);
}

/* Start customer `id` (ids must be added ascending); returns its dense index. */
static inline size_t hb_customer(hb_t *h, int64_t id)
{
    size_t i = h->n++;
    h->id[i] = id;
    h->signup[i] = SGS_DAY_NONE;
    h->poff[i + 1] = h->poff[i];
    h->eoff[i + 1] = h->eoff[i];
    h->p_buy[i] = 0.9;
    h->p_buy_model[i] = NAN;
    h->rate[i] = NAN;
    h->clv[i] = 100.0;
    h->segment[i] = -1;
    h->preferred[i] = 0;
    h->main_channel[i] = 0;
    h->referrer[i] = -1;
    return i;
}

/* A purchase day of the current customer. */
static inline void hb_buy(hb_t *h, int32_t day)
{
    h->pday[h->poff[h->n]++] = day;
}

/* Purchases of the current customer on days first, first + step, ... (count days). */
static inline void hb_buy_every(hb_t *h, int32_t first, int32_t step, int count)
{
    for (int k = 0; k < count; k++)
        hb_buy(h, first + k * step);
}

/* An event of the current customer. */
static inline void hb_event(hb_t *h, int32_t day, uint8_t kind, double value)
{
    size_t r = h->eoff[h->n]++;
    h->eday[r] = day;
    h->ekind[r] = kind;
    h->echannel[r] = 0;
    h->evalue[r] = value;
}

/* An event of the current customer through a channel (a campaign contact or response). */
static inline void hb_event_via(hb_t *h, int32_t day, uint8_t kind, uint8_t channel)
{
    hb_event(h, day, kind, NAN);
    h->echannel[h->eoff[h->n] - 1] = channel;
}

/* The input view over the builder (every optional column present). */
static inline sgs_stage_input_t hb_input(hb_t *h)
{
    sgs_sparse_values_fill(h->evalue, h->eoff[h->n], h->ev_present, h->ev_before, h->ev_values,
                           &h->ev);
    sgs_stage_input_t in = {0};
    in.n = h->n;
    in.customer_id = h->id;
    in.signup_day = h->signup;
    in.purchase_offset = h->poff;
    in.purchase_day = h->pday;
    in.event_offset = h->eoff;
    in.event_day = h->eday;
    in.event_kind = h->ekind;
    in.event_value = &h->ev;
    in.event_channel = h->echannel;
    in.p_buy = h->p_buy;
    in.p_buy_model = h->p_buy_model;
    in.rate_per_day = h->rate;
    in.clv = h->clv;
    in.segment = h->segment;
    in.preferred_channel = h->preferred;
    in.main_channel = h->main_channel;
    return in;
}

/* ---- A random base ------------------------------------------------------------------
 * n customers with ids 3i+7, up to 11 purchase days from 400..920 on, up to 5 events in
 * 700..~1000 of every kind, model columns, segments -1..5, channels, referrers. */
#include <stdlib.h>

/* A random base of customers: purchases, events, model columns, segments. */
typedef struct big {
    size_t n;
    int64_t *id;
    int32_t *signup;
    size_t *poff, *eoff;
    int32_t *pday, *eday;
    uint8_t *ekind, *echannel;
    double *evalue, *p_buy, *rate, *clv;
    sgs_sparse_values_t ev; /* evalue as the kernels take it (big_make builds it) */
    int32_t *segment;
    uint8_t *preferred, *main_channel;
    int64_t *referrer;
} big_t;

static inline void big_make(big_t *b, size_t n, uint64_t seed)
{
    b->n = n;
    b->id = malloc(n * sizeof *b->id);
    b->signup = malloc(n * sizeof *b->signup);
    b->poff = malloc((n + 1) * sizeof *b->poff);
    b->eoff = malloc((n + 1) * sizeof *b->eoff);
    b->p_buy = malloc(n * sizeof *b->p_buy);
    b->rate = malloc(n * sizeof *b->rate);
    b->clv = malloc(n * sizeof *b->clv);
    b->segment = malloc(n * sizeof *b->segment);
    b->preferred = malloc(n);
    b->main_channel = malloc(n);
    b->referrer = malloc(n * sizeof *b->referrer);
    b->pday = malloc(n * 12 * sizeof *b->pday);
    b->eday = malloc(n * 6 * sizeof *b->eday);
    b->ekind = malloc(n * 6 * sizeof *b->ekind);
    b->echannel = malloc(n * 6);
    b->evalue = malloc(n * 6 * sizeof *b->evalue);
    b->poff[0] = b->eoff[0] = 0;
    sgs_rng_t rng;
    sgs_rng_init(&rng, seed, 0);
    for (size_t i = 0; i < n; i++) {
        b->id[i] = (int64_t)(i * 3 + 7);
        double u_signup = sgs_rng_next_uniform(&rng);
        b->signup[i] = u_signup < 0.5 ? SGS_DAY_NONE : (u_signup < 0.9 ? 500 : 950);
        int np = (int)(sgs_rng_next_uniform(&rng) * 12.0);
        int32_t d = 400 + (int32_t)(sgs_rng_next_uniform(&rng) * 520.0);
        size_t p = b->poff[i];
        for (int k = 0; k < np; k++) {
            b->pday[p++] = d;
            d += (int32_t)(sgs_rng_next_uniform(&rng) * 60.0);
        }
        b->poff[i + 1] = p;
        int ne = (int)(sgs_rng_next_uniform(&rng) * 6.0);
        int32_t e = 700 + (int32_t)(sgs_rng_next_uniform(&rng) * 200.0);
        size_t q = b->eoff[i];
        for (int k = 0; k < ne; k++) {
            b->eday[q] = e;
            b->ekind[q] = (uint8_t)(1 + sgs_rng_next_u64(&rng) % 8);
            b->evalue[q] = floor(sgs_rng_next_uniform(&rng) * 11.0);
            b->echannel[q] = (uint8_t)((b->id[i] * 7 + (int64_t)k) % 10); /* 8, 9: not codes */
            q++;
            e += (int32_t)(sgs_rng_next_uniform(&rng) * 20.0);
        }
        b->eoff[i + 1] = q;
        b->p_buy[i] = sgs_rng_next_uniform(&rng);
        b->rate[i] =
            sgs_rng_next_uniform(&rng) < 0.2 ? (double)NAN : sgs_rng_next_uniform(&rng) * 0.2;
        b->clv[i] =
            sgs_rng_next_uniform(&rng) < 0.05 ? (double)NAN : sgs_rng_next_uniform(&rng) * 1000;
        b->segment[i] = (int32_t)(sgs_rng_next_u64(&rng) % 7) - 1;
        b->preferred[i] = (uint8_t)(sgs_rng_next_u64(&rng) % 8);
        b->main_channel[i] = (uint8_t)(sgs_rng_next_u64(&rng) % 4);
        uint64_t rr = sgs_rng_next_u64(&rng) % 100;
        /* a referral forest (earlier customers), a few arbitrary (cycles) and unknown */
        b->referrer[i] = rr < 30 && i > 0   ? b->id[sgs_rng_next_u64(&rng) % i]
                         : rr < 31 && i > 0 ? (int64_t)(3 * (sgs_rng_next_u64(&rng) % n) + 7)
                         : rr < 32          ? -99
                                            : -1;
    }
    sgs_exec_t one = {.n_threads = 1};
    if (sgs_sparse_values_build(&one, b->evalue, b->eoff[n], &b->ev, NULL) != SGS_OK)
        abort();
}

static inline void big_free(big_t *b)
{
    free(b->id);
    free(b->signup);
    free(b->poff);
    free(b->eoff);
    free(b->p_buy);
    free(b->rate);
    free(b->clv);
    free(b->segment);
    free(b->preferred);
    free(b->main_channel);
    free(b->referrer);
    free(b->pday);
    free(b->eday);
    free(b->ekind);
    free(b->echannel);
    free(b->evalue);
    sgs_sparse_values_free(&b->ev);
}

static inline sgs_stage_input_t big_input(const big_t *b)
{
    sgs_stage_input_t in = {0};
    in.n = b->n;
    in.customer_id = b->id;
    in.signup_day = b->signup;
    in.purchase_offset = b->poff;
    in.purchase_day = b->pday;
    in.event_offset = b->eoff;
    in.event_day = b->eday;
    in.event_kind = b->ekind;
    in.event_value = &b->ev;
    in.event_channel = b->echannel;
    in.p_buy = b->p_buy;
    in.rate_per_day = b->rate;
    in.clv = b->clv;
    in.segment = b->segment;
    in.preferred_channel = b->preferred;
    in.main_channel = b->main_channel;
    return in;
}

#endif
