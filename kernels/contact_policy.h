/*
 * kernels/contact_policy.h — who is not listed today, and through which channel a customer
 * is not contacted, from the campaign contacts and responses already in /events.
 *
 * Two rules, between detection (sgs_opportunities_detect) and ranking
 * (sgs_opportunities_rank), with the thresholds of sgs_opportunity_config_t:
 *   recent contact   a customer whose latest campaign contact (event kind 7) is on day d with
 *                    t - d < min_days_between_contacts (t the as-of day) keeps only the fired
 *                    kinds whose priority >= contact_override_priority; the others' bits are
 *                    cleared (held back). min_days_between_contacts 0 turns the rule off.
 *   unanswered channel  with /events/channel, channel c (1..7) is blocked for a customer with
 *                    at least max_unanswered_contacts campaign contacts through c and no
 *                    campaign response (kind 8) through c, nor any response whose channel is
 *                    unknown (it may have been to c). Without the channel column (or with
 *                    max_unanswered_contacts 0) nothing is blocked. Events on or before t.
 * The masks stay those of detection otherwise; stats->n_customers and stats->n_candidates
 * are recounted so that the ranking sees the list it will make (n_fired keeps what fired).
 */
#ifndef SGS_CONTACT_POLICY_H
#define SGS_CONTACT_POLICY_H

#include "kernels/opportunities.h"

typedef struct sgs_contact_policy_stats {
    int64_t n_recently_contacted;                     /* customers with a contact in the window */
    int64_t n_held_back;                              /* customers with a fired kind and none
                                                         left: not listed today */
    int64_t n_held_back_per_kind[SGS_OPP_KIND_COUNT]; /* fired kinds cleared */
    int64_t n_with_blocked_channel;                   /* customers with >= 1 blocked channel */
    int64_t n_blocked_per_channel[SGS_CHANNEL_COUNT]; /* customers for whom c is blocked */
} sgs_contact_policy_stats_t;

/* Apply both rules (above) to the masks of detection for the customers of in->customers at
 * in->as_of_day: fired [n] in/out; blocked_channels [n] out (bit c = channel c blocked),
 * caller-owned; stats (from the same detection) has n_customers and n_candidates recounted;
 * *out the counts. Parallel over customers, integer counts: the same result for any thread
 * count. @return 0, SGS_ECONFIG (sgs_opportunity_config_check) or SGS_EINVAL for a NULL
 * array. */
int sgs_contact_policy_apply(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                             const sgs_exec_t *exec, uint16_t *fired, uint8_t *blocked_channels,
                             sgs_opportunity_stats_t *stats, sgs_contact_policy_stats_t *out,
                             sgs_error_t *err);

/* Serial reference twin (the same results, one plain loop). */
int sgs_contact_policy_apply_ref(const sgs_opportunity_input_t *in,
                                 const sgs_opportunity_config_t *cfg, uint16_t *fired,
                                 uint8_t *blocked_channels, sgs_opportunity_stats_t *stats,
                                 sgs_contact_policy_stats_t *out, sgs_error_t *err);

#endif
