/*
 * engine/config_actions.h — the configuration of the stage, influence and opportunity
 * steps of a run (engine/run_actions.c): the kernels' own rule tables (kernels/stages.h,
 * kernels/influence.h, kernels/opportunities.h, kernels/audit.h), which the key table of
 * engine/config_keys.c points into ("stages.*", "influence.*", "actions.*", "audit.*") and whose
 * defaults are the kernels' (one source: sgs_stage_rules_default and the others); docs/stages.md
 * and docs/opportunities.md document them. Only what a person writes differently from what a kernel
 * reads is kept apart: a date, and channels by name.
 */
#ifndef SGS_CONFIG_ACTIONS_H
#define SGS_CONFIG_ACTIONS_H

#include "kernels/audit.h"
#include "kernels/influence.h"
#include "kernels/opportunities.h"
#include "kernels/stages.h"

typedef struct sgs_actions_config {
    char compare_as_of[16];                 /* "" or YYYY-MM-DD before the as-of day: stages
                                               there too */
    sgs_stage_rules_t stages;               /* stages.* */
    sgs_influence_config_t influence;       /* influence.* */
    sgs_opportunity_config_t opportunities; /* actions.*; its spill_order and fallback_channel
                                               come from the two names below */
    sgs_audit_config_t audit;               /* audit.* */
    char spill_order[96];                   /* channel names, comma-separated */
    char fallback_channel[16];              /* channel name when a customer's is unknown */
    char learn_from[1024];                  /* "" or a measurement (segscore measure -o) whose
                                               conclusive results replace assumed values */
} sgs_actions_config_t;

#endif
