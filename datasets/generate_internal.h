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

#endif
