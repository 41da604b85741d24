/*
 * kernels/opportunities.c — the kinds' names, the configuration (defaults and checks) and
 * the detection statistics' free. The triggers and the numbers behind a reason are
 * kernels/opportunity_detect.c; the ranked list within channel capacity is
 * kernels/opportunity_rank.c. See opportunities.h for the definitions.
 */
#include "kernels/opportunities.h"

#include <math.h>
#include <string.h>

/* ---- Names and configuration ---------------------------------------------------------- */

const char *sgs_opportunity_kind_name(int kind)
{
    static const char *const names[SGS_OPP_KIND_COUNT] = {
        "unknown",    "service_recovery",    "renewal_at_risk",
        "win_back",   "save_high_value",     "overdue_reminder",
        "onboarding", "detractor_follow_up", "grow",
        "advocate"};
    return (kind >= 1 && kind < SGS_OPP_KIND_COUNT) ? names[kind] : "unknown";
}

int sgs_opportunity_is_control(const sgs_opportunity_config_t *cfg, int64_t customer_id, int kind,
                               int32_t as_of_day)
{
    if (!(cfg->control_share > 0.0))
        return 0;
    uint64_t stream = (uint64_t)(uint8_t)kind << 32 | (uint32_t)as_of_day;
    return sgs_rng_uniform(cfg->control_seed, stream, (uint64_t)customer_id) < cfg->control_share;
}

void sgs_opportunity_config_default(sgs_opportunity_config_t *c)
{
    memset(c, 0, sizeof *c);
    static const int32_t prio[SGS_OPP_KIND_COUNT] = {0, 90, 85, 60, 80, 50, 40, 70, 20, 30};
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        c->enabled[k] = 1;
        c->priority[k] = prio[k];
    }
    c->service_min_contacts = 3;
    c->service_window_days = 30;
    c->service_risk = 0.5;
    c->renewal_grace_days = 14;
    c->renewal_early_days = 30;
    c->renewal_lookback_days = 90;
    c->renewal_risk = 0.5;
    c->win_back_recent_days = 30;
    c->save_clv_quantile = 0.8;
    c->save_min_clv = 0.0;
    c->overdue_margin_cycles = 0.25;
    c->overdue_min_p_buy = 0.5;
    c->detractor_max_score = 6.0;
    c->detractor_window_days = 90;
    c->detractor_risk = 0.3;
    c->grow_ratio = 0.5;
    c->advocate_min_referrals = 1;
    c->advocate_value_quantile = 0.8;
    c->advocate_min_value = 0.0;
    c->unknown_p_buy_risk = 0.5;
    c->all_opportunities = 0;
    for (int ch = 0; ch < SGS_CHANNEL_COUNT; ch++)
        c->channel_capacity[ch] = -1;
    c->channel_capacity[SGS_CHANNEL_PHONE] = 500;
    static const uint8_t order[] = {SGS_CHANNEL_PHONE, SGS_CHANNEL_SMS, SGS_CHANNEL_EMAIL,
                                    SGS_CHANNEL_APP,   SGS_CHANNEL_WEB, SGS_CHANNEL_MAIL,
                                    SGS_CHANNEL_STORE};
    memcpy(c->spill_order, order, sizeof order);
    c->spill_order[SGS_CHANNEL_COUNT - 1] = 0;
    c->fallback_channel = SGS_CHANNEL_EMAIL;
    c->control_share = 0.1;
    c->control_seed = 42;
    c->min_days_between_contacts = 14;
    c->contact_override_priority = 80;
    c->max_unanswered_contacts = 3;
    for (int k = 0; k < SGS_OPP_KIND_COUNT; k++) {
        c->value_scale[k] = 1.0;
        c->avoid_channels[k] = 0;
        memset(c->avoid_channels_by_rfm[k], 0, sizeof c->avoid_channels_by_rfm[k]);
    }
}

int sgs_opportunity_config_check(const sgs_opportunity_config_t *c, sgs_error_t *err)
{
    struct {
        const char *name;
        double value, lo, hi;
    } checks[] = {
        {"service_min_contacts", c->service_min_contacts, 1, 1e6},
        {"service_window_days", c->service_window_days, 1, 1e6},
        {"service_risk", c->service_risk, 0, 1},
        {"renewal_grace_days", c->renewal_grace_days, 0, 1e6},
        {"renewal_early_days", c->renewal_early_days, 0, 1e6},
        {"renewal_lookback_days", c->renewal_lookback_days, 1, 1e6},
        {"renewal_risk", c->renewal_risk, 0, 1},
        {"win_back_recent_days", c->win_back_recent_days, 0, 1e6},
        {"save_clv_quantile", c->save_clv_quantile, 0, 1},
        {"save_min_clv", c->save_min_clv, -1e300, 1e300},
        {"overdue_margin_cycles", c->overdue_margin_cycles, 0, 1e6},
        {"overdue_min_p_buy", c->overdue_min_p_buy, 0, 1},
        {"detractor_max_score", c->detractor_max_score, -1e300, 1e300},
        {"detractor_window_days", c->detractor_window_days, 1, 1e6},
        {"detractor_risk", c->detractor_risk, 0, 1},
        {"grow_ratio", c->grow_ratio, 0, 1e6},
        {"advocate_min_referrals", c->advocate_min_referrals, 1, 1e9},
        {"advocate_value_quantile", c->advocate_value_quantile, 0, 1},
        {"advocate_min_value", c->advocate_min_value, -1e300, 1e300},
        {"unknown_p_buy_risk", c->unknown_p_buy_risk, 0, 1},
        {"control_share", c->control_share, 0, 0.5},
        {"min_days_between_contacts", c->min_days_between_contacts, 0, 1e6},
        {"contact_override_priority", c->contact_override_priority, -1e6, 1e6},
        {"max_unanswered_contacts", c->max_unanswered_contacts, 0, 1e6},
    };
    for (size_t k = 0; k < sizeof checks / sizeof checks[0]; k++) {
        double v = checks[k].value;
        if (!(v >= checks[k].lo && v <= checks[k].hi))
            return sgs_error_set(err, SGS_ECONFIG, "opportunities: %s = %g is outside [%g, %g]",
                                 checks[k].name, v, checks[k].lo, checks[k].hi);
    }
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
        if (!isfinite(c->value_scale[k]))
            return sgs_error_set(err, SGS_ECONFIG, "opportunities: value_scale of %s is %g",
                                 sgs_opportunity_kind_name(k), c->value_scale[k]);
    for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++)
        if (c->channel_capacity[ch] < -1)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "opportunities: capacity of channel %s = %lld (use -1 for "
                                 "unlimited, 0 for not allowed)",
                                 sgs_channel_name(ch), (long long)c->channel_capacity[ch]);
    int seen[SGS_CHANNEL_COUNT] = {0};
    for (int s = 0; s < SGS_CHANNEL_COUNT && c->spill_order[s]; s++) {
        uint8_t ch = c->spill_order[s];
        if (ch >= SGS_CHANNEL_COUNT || seen[ch]++)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "opportunities: spill_order[%d] = %d is not a channel code "
                                 "1..7 listed once",
                                 s, (int)ch);
    }
    if (c->fallback_channel == 0 || c->fallback_channel >= SGS_CHANNEL_COUNT)
        return sgs_error_set(err, SGS_ECONFIG,
                             "opportunities: fallback_channel = %d is not a channel code 1..7",
                             (int)c->fallback_channel);
    return SGS_OK;
}

void sgs_opportunity_stats_free(sgs_opportunity_stats_t *stats)
{
    if (!stats)
        return;
    sgs_free(stats->segment_clv_median);
    stats->segment_clv_median = NULL;
    stats->n_segments = 0;
}
