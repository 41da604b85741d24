/*
 * engine/opportunity_reason.h — the one-line reason of an opportunity, in English, from the
 * numbers the kernel gives (kernels/opportunities.h sgs_opportunity_facts). The words are the
 * engine's (presentation); the thresholds and counts are the kernel's. docs/opportunities.md
 * lists every reason.
 */
#ifndef SGS_OPPORTUNITY_REASON_H
#define SGS_OPPORTUNITY_REASON_H

#include "kernels/opportunities.h"

#include <stddef.h>

/* Longest reason, terminating NUL included. */
#define SGS_OPPORTUNITY_REASON_MAX 256

/* The reason worded from its facts, e.g.
 * "4 support contacts/complaints in the last 30 days (3 support; 1 complaints; threshold 3)";
 * cfg gives the settings a reason quotes (windows, grace period, detractor score, grow ratio,
 * minimum contacts). Contains no commas, quotes or newlines (safe in an unquoted CSV field).
 * Writes at most size bytes including the NUL; returns the length it needed (snprintf
 * style). */
int sgs_opportunity_reason_text(const sgs_opportunity_facts_t *facts,
                                const sgs_opportunity_config_t *cfg, char *buf, size_t size);

/* The reason of (customer i, kind): sgs_opportunity_kind_facts (the facts the kind's reason
 * shows), then sgs_opportunity_reason_text; the text sgs_opportunity_facts' facts give. */
int sgs_opportunity_reason(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                           const sgs_opportunity_stats_t *stats, size_t i, int kind, char *buf,
                           size_t size);

#endif /* SGS_OPPORTUNITY_REASON_H */
