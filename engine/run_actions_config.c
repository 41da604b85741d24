/*
 * engine/run_actions_config.c — the configuration of the stage, influence and opportunity
 * steps (engine/config_actions.h: the kernels' own rule tables, which the key table sets)
 * checked by their kernels, with the channels named in it turned into codes; also the check
 * `segscore config` and every run make of those keys.
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
    int rc = sgs_stage_rules_check(&a->stages, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "config stages.*");
        return rc;
    }
    sgs_opportunity_config_t o = a->opportunities;
    rc = sgs_actions_parse_channels(a->spill_order, o.spill_order, err);
    if (rc != SGS_OK)
        return rc;
    o.fallback_channel = (uint8_t)channel_code(a->fallback_channel, strlen(a->fallback_channel));
    o.control_seed = cfg->seed; /* the run's one seed of every random choice */
    rc = sgs_opportunity_config_check(&o, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "config actions.*");
        return rc;
    }
    rc = sgs_audit_config_check(&a->audit, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "config audit.*");
        return rc;
    }
    if (rules)
        *rules = a->stages;
    if (opp)
        *opp = o;
    if (influence)
        *influence = a->influence;
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
