/*
 * kernels/contact_policy.c — the contact policy: recent contacts hold back low-priority
 * kinds, unanswered channels are blocked (kernels/contact_policy.h).
 */
#include "kernels/contact_policy.h"

#include <string.h>

/* One customer: its blocked channels, whether it was contacted recently, and its mask after
 * the recent-contact rule. The per-kind counts go to held[]. */
static uint16_t apply_one(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                          size_t i, uint16_t mask, uint8_t *blocked, int *recent,
                          int64_t held[SGS_OPP_KIND_COUNT])
{
    const sgs_stage_input_t *cu = in->customers;
    const int32_t t = in->as_of_day;
    int32_t contacts[SGS_CHANNEL_COUNT] = {0};
    int answered[SGS_CHANNEL_COUNT] = {0};
    int32_t last_contact = SGS_DAY_NONE;
    if (cu->event_offset)
        for (size_t e = cu->event_offset[i]; e < cu->event_offset[i + 1]; e++) {
            if (cu->event_day[e] > t)
                continue;
            uint8_t c = cu->event_channel ? cu->event_channel[e] : 0;
            c = c < SGS_CHANNEL_COUNT ? c : 0;
            if (cu->event_kind[e] == SGS_EVENT_CAMPAIGN_CONTACT) {
                contacts[c]++;
                if (cu->event_day[e] > last_contact)
                    last_contact = cu->event_day[e];
            } else if (cu->event_kind[e] == SGS_EVENT_CAMPAIGN_RESPONSE) {
                answered[c] = 1;
            }
        }
    uint8_t b = 0;
    if (cu->event_channel && cfg->max_unanswered_contacts > 0 && !answered[0])
        for (int c = 1; c < SGS_CHANNEL_COUNT; c++)
            if (contacts[c] >= cfg->max_unanswered_contacts && !answered[c])
                b |= (uint8_t)(1u << c);
    *blocked = b;
    *recent = last_contact != SGS_DAY_NONE &&
              (int64_t)t - last_contact < (int64_t)cfg->min_days_between_contacts;
    if (!*recent)
        return mask;
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
        if ((mask & 1u << k) && cfg->priority[k] < cfg->contact_override_priority) {
            mask = (uint16_t)(mask & ~(1u << k));
            held[k]++;
        }
    return mask;
}

/* Counts of one block of customers (or of all, for the twin). */
typedef struct tally {
    sgs_contact_policy_stats_t s;
    int64_t n_customers, n_candidates;
} tally_t;

static void apply_range(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                        int all, size_t lo, size_t hi, uint16_t *fired, uint8_t *blocked_channels,
                        tally_t *t)
{
    for (size_t i = lo; i < hi; i++) {
        uint16_t before = (uint16_t)(fired[i] & 0x3FEu);
        uint8_t blocked = 0;
        int recent = 0;
        uint16_t after =
            apply_one(in, cfg, i, before, &blocked, &recent, t->s.n_held_back_per_kind);
        fired[i] = (uint16_t)((fired[i] & ~0x3FEu) | after);
        blocked_channels[i] = blocked;
        t->s.n_recently_contacted += recent;
        t->s.n_held_back += before && !after;
        t->s.n_with_blocked_channel += blocked != 0;
        for (int c = 1; c < SGS_CHANNEL_COUNT; c++)
            t->s.n_blocked_per_channel[c] += (blocked >> c) & 1u;
        t->n_customers += after != 0;
        t->n_candidates += all ? __builtin_popcount(after) : after != 0;
    }
}

static void tally_add(tally_t *to, const tally_t *from)
{
    to->s.n_recently_contacted += from->s.n_recently_contacted;
    to->s.n_held_back += from->s.n_held_back;
    to->s.n_with_blocked_channel += from->s.n_with_blocked_channel;
    for (int k = 0; k < SGS_OPP_KIND_COUNT; k++)
        to->s.n_held_back_per_kind[k] += from->s.n_held_back_per_kind[k];
    for (int c = 0; c < SGS_CHANNEL_COUNT; c++)
        to->s.n_blocked_per_channel[c] += from->s.n_blocked_per_channel[c];
    to->n_customers += from->n_customers;
    to->n_candidates += from->n_candidates;
}

static int check_args(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                      const uint16_t *fired, const uint8_t *blocked_channels,
                      const sgs_opportunity_stats_t *stats, const sgs_contact_policy_stats_t *out,
                      sgs_error_t *err)
{
    int rc = sgs_opportunity_config_check(cfg, err);
    if (rc)
        return rc;
    if (!in || !in->customers || !stats || !out ||
        (in->customers->n > 0 && (!fired || !blocked_channels)))
        return sgs_error_set(err, SGS_EINVAL, "contact policy: a required array is NULL");
    return SGS_OK;
}

static void finish(const tally_t *t, sgs_opportunity_stats_t *stats,
                   sgs_contact_policy_stats_t *out)
{
    *out = t->s;
    stats->n_customers = t->n_customers;
    stats->n_candidates = t->n_candidates;
}

int sgs_contact_policy_apply(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                             const sgs_exec_t *exec, uint16_t *fired, uint8_t *blocked_channels,
                             sgs_opportunity_stats_t *stats, sgs_contact_policy_stats_t *out,
                             sgs_error_t *err)
{
    int rc = check_args(in, cfg, fired, blocked_channels, stats, out, err);
    if (rc)
        return rc;
    const size_t n = in->customers->n;
    const size_t n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
    tally_t *part = sgs_calloc_array(n_blocks ? n_blocks : 1, sizeof *part);
    if (!part)
        return sgs_error_set(err, SGS_ENOMEM, "contact policy: out of memory");
    const int all = stats->all_opportunities;
    const int n_threads = sgs_exec_threads_for(exec, n);
    const long nb = (long)n_blocks;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (long b = 0; b < nb; b++) {
        size_t lo = (size_t)b * SGS_BLOCK_ROWS;
        size_t hi = lo + SGS_BLOCK_ROWS < n ? lo + SGS_BLOCK_ROWS : n;
        apply_range(in, cfg, all, lo, hi, fired, blocked_channels, &part[b]);
    }
    tally_t total;
    memset(&total, 0, sizeof total);
    for (size_t b = 0; b < n_blocks; b++)
        tally_add(&total, &part[b]);
    sgs_free(part);
    finish(&total, stats, out);
    return SGS_OK;
}

int sgs_contact_policy_apply_ref(const sgs_opportunity_input_t *in,
                                 const sgs_opportunity_config_t *cfg, uint16_t *fired,
                                 uint8_t *blocked_channels, sgs_opportunity_stats_t *stats,
                                 sgs_contact_policy_stats_t *out, sgs_error_t *err)
{
    int rc = check_args(in, cfg, fired, blocked_channels, stats, out, err);
    if (rc)
        return rc;
    tally_t total;
    memset(&total, 0, sizeof total);
    apply_range(in, cfg, stats->all_opportunities, 0, in->customers->n, fired, blocked_channels,
                &total);
    finish(&total, stats, out);
    return SGS_OK;
}
