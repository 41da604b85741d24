/*
 * datasets/generate_internal.h — what generate.c shares with the continuation (continue.c).
 * Internal to datasets/ (sgs__ prefix).
 */
#ifndef SGS_GENERATE_INTERNAL_H
#define SGS_GENERATE_INTERNAL_H

#include "datasets/simulate.h"
#include "io/h5_columns.h"

/* Write the code tables of /transactions, /events (when m->params.with_events), /customers,
 * the parameters and window of /truth, and the root's `generator`, as a generated file has
 * them (docs/generate.md "What is in the file"); block: /truth@block_customers. The groups
 * exist. @return 0 or SGS_EIO. */
int sgs__generate_write_attributes(hid_t f, const sgs__sim_model_t *m, uint64_t block,
                                   sgs_error_t *err);

/* The columns of a generated file, in the order of the writers' buffers. */
enum { TX_CUSTOMER, TX_TIME, TX_AMOUNT, TX_CHANNEL, TX_CATEGORY, SGS__GEN_N_TX };
enum { EV_CUSTOMER, EV_TIME, EV_KIND, EV_VALUE, EV_CHANNEL, SGS__GEN_N_EV };
enum { CU_ID, CU_SIGNUP, CU_REFERRER, CU_CHANNEL, SGS__GEN_N_CU };
enum {
    TR_ID,
    TR_PROSPECT,
    TR_LAMBDA,
    TR_P_DROP,
    TR_NU,
    TR_MEAN_SPEND,
    TR_BIRTH,
    TR_DEATH,
    TR_ALIVE,
    TR_N_PURCHASES,
    TR_SUBSCRIBER,
    TR_BURST,
    TR_MISSED,
    TR_CANCELLED,
    TR_STOPPED,
    SGS__GEN_N_TR
};

typedef struct sgs__gen_column {
    const char *path;
    sgs_h5_type_t type;
} sgs__gen_column_t;

/* Dataset and type of each column (datasets/generate.c). */
extern const sgs__gen_column_t sgs__gen_tx_cols[SGS__GEN_N_TX];
extern const sgs__gen_column_t sgs__gen_ev_cols[SGS__GEN_N_EV];
extern const sgs__gen_column_t sgs__gen_cu_cols[SGS__GEN_N_CU];
extern const sgs__gen_column_t sgs__gen_tr_cols[SGS__GEN_N_TR];

#endif
