/*
 * engine/run_actions_config.c — the configuration of the stage, influence and opportunity
 * steps (engine/config_actions.h: plain fields the key table sets) copied into the kernels'
 * rule tables (kernels/stages.h, kernels/opportunities.h, kernels/influence.h), each checked
 * by its kernel; also the check `segscore config` and every run make of those keys.
 */
#include "engine/config.h"
#include "engine/run_actions.h"

#include <string.h>

/* ---- Configuration ---------------------------------------------------------------------- */

static int channel_code(const char *name, size_t len)
{
    for (int c = 1; c < SGS_CHANNEL_COUNT; c++) {
        const char *known = sgs_channel_name(c);
        if (strlen(known) == len && strncmp(known, name, len) == 0)
            return c;
    }
    return 0;
}

int sgs_actions_parse_channels(const char *text, uint8_t out[SGS_CHANNEL_COUNT], sgs_error_t *err)
{
    memset(out, 0, SGS_CHANNEL_COUNT);
    size_t n = 0;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        int code = channel_code(p, len);
        if (!code)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "config actions.spill_order: \"%.*s\" is not a channel (store, "
                                 "web, app, phone, email, sms, mail)",
                                 (int)len, p);
        for (size_t k = 0; k < n; k++)
            if (out[k] == code)
                return sgs_error_set(err, SGS_ECONFIG,
                                     "config actions.spill_order: %s is listed twice",
                                     sgs_channel_name(code));
        out[n++] = (uint8_t)code;
        if (!end)
            break;
        p = end + 1;
    }
    return SGS_OK;
}

int sgs_actions_kernel_config(const sgs_config_t *cfg, sgs_stage_rules_t *rules,
                              sgs_opportunity_config_t *opp, sgs_influence_config_t *influence,
                              sgs_error_t *err)
{
    const sgs_actions_config_t *a = &cfg->actions;
    sgs_stage_rules_t r;
    sgs_stage_rules_default(&r);
    r.min_purchases_own_cycle = a->min_purchases_own_cycle;
    r.segment_min_purchases = a->segment_min_purchases;
    r.default_cycle_days = a->default_cycle_days;
    r.new_cycles = a->new_cycles;
    r.at_risk_overdue_cycles = a->at_risk_overdue_cycles;
    r.at_risk_p_buy = a->at_risk_p_buy;
    r.lapsed_overdue_cycles = a->lapsed_overdue_cycles;
    r.lapsed_p_buy = a->lapsed_p_buy;
    r.reactivated_cycles = a->reactivated_cycles;
    r.loyal_rate_multiple = a->loyal_rate_multiple;
    r.loyal_min_purchases = a->loyal_min_purchases;
    int rc = sgs_stage_rules_check(&r, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "config stages.*");
        return rc;
    }

    sgs_opportunity_config_t o;
    sgs_opportunity_config_default(&o);
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        o.enabled[k] = a->enabled[k] != 0;
        o.priority[k] = a->priority[k];
    }
    o.service_min_contacts = a->service_min_contacts;
    o.service_window_days = a->service_window_days;
    o.service_risk = a->service_risk;
    o.renewal_grace_days = a->renewal_grace_days;
    o.renewal_early_days = a->renewal_early_days;
    o.renewal_lookback_days = a->renewal_lookback_days;
    o.renewal_risk = a->renewal_risk;
    o.win_back_recent_days = a->win_back_recent_days;
    o.save_clv_quantile = a->save_clv_quantile;
    o.save_min_clv = a->save_min_clv;
    o.overdue_margin_cycles = a->overdue_margin_cycles;
    o.overdue_min_p_buy = a->overdue_min_p_buy;
    o.detractor_max_score = a->detractor_max_score;
    o.detractor_window_days = a->detractor_window_days;
    o.detractor_risk = a->detractor_risk;
    o.grow_ratio = a->grow_ratio;
    o.advocate_min_referrals = a->advocate_min_referrals;
    o.advocate_value_quantile = a->advocate_value_quantile;
    o.advocate_min_value = a->advocate_min_value;
    o.unknown_p_buy_risk = a->unknown_p_buy_risk;
    o.all_opportunities = a->all_opportunities != 0;
    for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++)
        o.channel_capacity[ch] = a->capacity[ch];
    rc = sgs_actions_parse_channels(a->spill_order, o.spill_order, err);
    if (rc != SGS_OK)
        return rc;
    o.fallback_channel = (uint8_t)channel_code(a->fallback_channel, strlen(a->fallback_channel));
    rc = sgs_opportunity_config_check(&o, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "config actions.*");
        return rc;
    }

    sgs_influence_config_t infl;
    sgs_influence_config_default(&infl);
    infl.damping = a->damping;
    if (rules)
        *rules = r;
    if (opp)
        *opp = o;
    if (influence)
        *influence = infl;
    return SGS_OK;
}

int sgs_config_validate_actions(const sgs_config_t *cfg, sgs_error_t *err)
{
    int rc = sgs_actions_kernel_config(cfg, NULL, NULL, NULL, err);
    if (rc == SGS_OK && cfg->actions.compare_as_of[0] && cfg->as_of[0] &&
        strcmp(cfg->actions.compare_as_of, cfg->as_of) >= 0) /* YYYY-MM-DD sorts as text */
        rc = sgs_error_set(err, SGS_ECONFIG,
                           "config stages.compare_as_of (%s) must be before as_of (%s)",
                           cfg->actions.compare_as_of, cfg->as_of);
    return rc;
}
