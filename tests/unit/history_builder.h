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
    double evalue[HB_MAX_ROWS];
    /* model and segment columns, defaults: p_alive 0.9, rate NaN, clv 100, segment -1 */
    double p_alive[HB_MAX_CUSTOMERS];
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
    h->p_alive[i] = 0.9;
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
    h->evalue[r] = value;
}

/* The input view over the builder (every optional column present). */
static inline sgs_stage_input_t hb_input(const hb_t *h)
{
    sgs_stage_input_t in = {0};
    in.n = h->n;
    in.customer_id = h->id;
    in.signup_day = h->signup;
    in.purchase_offset = h->poff;
    in.purchase_day = h->pday;
    in.event_offset = h->eoff;
    in.event_day = h->eday;
    in.event_kind = h->ekind;
    in.event_value = h->evalue;
    in.p_alive = h->p_alive;
    in.rate_per_day = h->rate;
    in.clv = h->clv;
    in.segment = h->segment;
    in.preferred_channel = h->preferred;
    in.main_channel = h->main_channel;
    return in;
}

#endif
