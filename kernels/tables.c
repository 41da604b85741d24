/*
 * kernels/tables.c — allocation of the input tables and the code-table names.
 */
#include "kernels/tables.h"

#include <string.h>

const char *sgs_channel_name(int code)
{
    static const char *const names[SGS_CHANNEL_COUNT] = {"unknown", "store", "web", "app",
                                                         "phone",   "email", "sms", "mail"};
    return (code >= 0 && code < SGS_CHANNEL_COUNT) ? names[code] : "unknown";
}

const char *sgs_event_kind_name(int code)
{
    static const char *const names[SGS_EVENT_KIND_COUNT] = {
        "unknown",   "support_contact", "complaint",        "renewal_due",      "renewed",
        "cancelled", "survey",          "campaign_contact", "campaign_response"};
    return (code > 0 && code < SGS_EVENT_KIND_COUNT) ? names[code] : "unknown";
}

/* Allocate *column with n elements when wanted; returns 0 on failure only if wanted. */
static int alloc_column(void **column, size_t n, size_t size, int wanted)
{
    *column = wanted ? sgs_alloc_array(n, size) : NULL;
    return !wanted || *column != NULL;
}

int sgs_transactions_alloc(sgs_transactions_t *t, size_t n_rows, int with_channel,
                           int with_category)
{
    memset(t, 0, sizeof *t);
    int ok = alloc_column((void **)&t->customer_id, n_rows, sizeof(int64_t), 1);
    ok &= alloc_column((void **)&t->time_s, n_rows, sizeof(int64_t), 1);
    ok &= alloc_column((void **)&t->amount, n_rows, sizeof(double), 1);
    ok &= alloc_column((void **)&t->channel, n_rows, sizeof(uint8_t), with_channel);
    ok &= alloc_column((void **)&t->category, n_rows, sizeof(int32_t), with_category);
    if (!ok) {
        sgs_transactions_free(t);
        return SGS_ENOMEM;
    }
    t->n_rows = n_rows;
    return SGS_OK;
}

void sgs_transactions_free(sgs_transactions_t *t)
{
    if (!t)
        return;
    sgs_free(t->customer_id);
    sgs_free(t->time_s);
    sgs_free(t->amount);
    sgs_free(t->channel);
    sgs_free(t->category);
    memset(t, 0, sizeof *t);
}

int sgs_events_alloc(sgs_events_t *e, size_t n_rows, int with_value, int with_channel)
{
    memset(e, 0, sizeof *e);
    int ok = alloc_column((void **)&e->customer_id, n_rows, sizeof(int64_t), 1);
    ok &= alloc_column((void **)&e->time_s, n_rows, sizeof(int64_t), 1);
    ok &= alloc_column((void **)&e->kind, n_rows, sizeof(uint8_t), 1);
    ok &= alloc_column((void **)&e->value, n_rows, sizeof(double), with_value);
    ok &= alloc_column((void **)&e->channel, n_rows, sizeof(uint8_t), with_channel);
    if (!ok) {
        sgs_events_free(e);
        return SGS_ENOMEM;
    }
    e->n_rows = n_rows;
    return SGS_OK;
}

void sgs_events_free(sgs_events_t *e)
{
    if (!e)
        return;
    sgs_free(e->customer_id);
    sgs_free(e->time_s);
    sgs_free(e->kind);
    sgs_free(e->value);
    sgs_free(e->channel);
    memset(e, 0, sizeof *e);
}

int sgs_customers_alloc(sgs_customers_t *c, size_t n_rows, int with_signup, int with_referrer,
                        int with_channel)
{
    memset(c, 0, sizeof *c);
    int ok = alloc_column((void **)&c->customer_id, n_rows, sizeof(int64_t), 1);
    ok &= alloc_column((void **)&c->signup_time_s, n_rows, sizeof(int64_t), with_signup);
    ok &= alloc_column((void **)&c->referrer_id, n_rows, sizeof(int64_t), with_referrer);
    ok &= alloc_column((void **)&c->preferred_channel, n_rows, sizeof(uint8_t), with_channel);
    if (!ok) {
        sgs_customers_free(c);
        return SGS_ENOMEM;
    }
    c->n_rows = n_rows;
    return SGS_OK;
}

void sgs_customers_free(sgs_customers_t *c)
{
    if (!c)
        return;
    sgs_free(c->customer_id);
    sgs_free(c->signup_time_s);
    sgs_free(c->referrer_id);
    sgs_free(c->preferred_channel);
    memset(c, 0, sizeof *c);
}
