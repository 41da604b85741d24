/*
 * kernels/tables.h — the input tables as struct-of-arrays: one contiguous column per
 * field, all of length n_rows. These are what io/ reads into and what kernels/ consume.
 *
 * Ownership: a table made by sgs_*_table_alloc owns its columns; destroy it with the
 * matching _free (NULL-safe, idempotent on a zeroed struct). Optional columns are NULL
 * when the input does not have them.
 */
#ifndef SGS_TABLES_H
#define SGS_TABLES_H

#include "kernels/core.h"

/* Event kinds (/events/kind), DESIGN.md "Default codes". */
enum sgs_event_kind {
    SGS_EVENT_SUPPORT = 1,
    SGS_EVENT_COMPLAINT = 2,
    SGS_EVENT_RENEWAL_DUE = 3,
    SGS_EVENT_RENEWED = 4,
    SGS_EVENT_CANCELLED = 5,
    SGS_EVENT_SURVEY = 6,
    SGS_EVENT_CAMPAIGN_CONTACT = 7,
    SGS_EVENT_CAMPAIGN_RESPONSE = 8
};
#define SGS_EVENT_KIND_COUNT 9 /* codes 0..8; 0 is unused */

/* Channel codes (transactions/channel, customers/preferred_channel). */
enum sgs_channel {
    SGS_CHANNEL_UNKNOWN = 0,
    SGS_CHANNEL_STORE = 1,
    SGS_CHANNEL_WEB = 2,
    SGS_CHANNEL_APP = 3,
    SGS_CHANNEL_PHONE = 4,
    SGS_CHANNEL_EMAIL = 5,
    SGS_CHANNEL_SMS = 6,
    SGS_CHANNEL_MAIL = 7
};
#define SGS_CHANNEL_COUNT 8

/* Name of a channel code ("store"), "unknown" outside 0..7. */
const char *sgs_channel_name(int code);
/* Name of an event kind ("support_contact"), "unknown" outside 1..8. */
const char *sgs_event_kind_name(int code);

/* /transactions */
typedef struct sgs_transactions {
    size_t n_rows;
    int64_t *customer_id; /* any int64; not necessarily sorted */
    int64_t *time_s;      /* Unix seconds, UTC, >= 0 */
    double *amount;       /* finite; < 0 is a refund, 0 a purchase with no spend */
    uint8_t *channel;     /* optional: channel code 0..7, NULL when absent */
    int32_t *category;    /* optional: product category, NULL when absent */
} sgs_transactions_t;

/* /events */
typedef struct sgs_events {
    size_t n_rows;
    int64_t *customer_id;
    int64_t *time_s;  /* Unix seconds, UTC */
    uint8_t *kind;    /* enum sgs_event_kind */
    double *value;    /* optional (survey score 0..10, else NaN), NULL when absent */
    uint8_t *channel; /* optional: channel code of a contact or response (0..7, 0 unknown),
                         NULL when absent */
} sgs_events_t;

/* /customers */
typedef struct sgs_customers {
    size_t n_rows;
    int64_t *customer_id;
    int64_t *signup_time_s;     /* optional */
    int64_t *referrer_id;       /* optional: -1 for nobody */
    uint8_t *preferred_channel; /* optional: channel code */
    size_t first_file_row;      /* the file row of row 0 (a share of the table: io/h5_input.h) */
} sgs_customers_t;

/* Allocate the columns for n_rows rows (contents uninitialized). The optional columns are
 * allocated only when the matching flag is non-zero. @return 0 or SGS_ENOMEM (nothing
 * is left allocated). */
int sgs_transactions_alloc(sgs_transactions_t *t, size_t n_rows, int with_channel,
                           int with_category);
void sgs_transactions_free(sgs_transactions_t *t);

int sgs_events_alloc(sgs_events_t *e, size_t n_rows, int with_value, int with_channel);
void sgs_events_free(sgs_events_t *e);

int sgs_customers_alloc(sgs_customers_t *c, size_t n_rows, int with_signup, int with_referrer,
                        int with_channel);
void sgs_customers_free(sgs_customers_t *c);

#endif
