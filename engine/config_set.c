/*
 * engine/config_set.c — setting configuration values and checking them: a key from its text
 * (type, allowed words, range), the defaults of every key, --set, and the checks across keys
 * (sgs_config_validate).
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */

#include "engine/config_internal.h"

#include "kernels/dates.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Setting one value ---------------------------------------------------------------- */

/* True when `value` is one of the '|'-separated words of `allowed`. */
static int word_allowed(const char *allowed, const char *value)
{
    size_t len = strlen(value);
    for (const char *p = allowed; *p;) {
        const char *end = strchr(p, '|');
        size_t wlen = end ? (size_t)(end - p) : strlen(p);
        if (wlen == len && strncmp(p, value, len) == 0)
            return 1;
        p += wlen + (end ? 1 : 0);
    }
    return 0;
}

int sgs__config_set_from_text(sgs_config_t *cfg, const sgs__config_key_t *k, const char *value,
                              sgs_error_t *err)
{
    char *field = (char *)cfg + k->offset;
    char *end = NULL;
    switch (k->type) {
    case SGS__KEY_STRING:
    case SGS__KEY_DATE:
        if (strlen(value) >= k->size)
            return sgs_error_set(err, SGS_ECONFIG, "config %s: value too long (max %zu)", k->path,
                                 k->size - 1);
        if (k->allowed && !word_allowed(k->allowed, value))
            return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not one of %s", k->path,
                                 value, k->allowed);
        if (k->type == SGS__KEY_DATE && value[0]) {
            int64_t day;
            if (sgs_date_parse_day(value, &day) != SGS_OK)
                return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not a date YYYY-MM-DD",
                                     k->path, value);
        }
        memcpy(field, value, strlen(value) + 1);
        return SGS_OK;
    case SGS__KEY_BOOL:
    case SGS__KEY_FLAG8: {
        int on = strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
        if (!on && strcmp(value, "false") != 0 && strcmp(value, "0") != 0)
            return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not true or false",
                                 k->path, value);
        if (k->type == SGS__KEY_BOOL)
            *(int *)field = on;
        else
            *(uint8_t *)field = (uint8_t)on;
        return SGS_OK;
    }
    case SGS__KEY_INT:
    case SGS__KEY_I64: {
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < (long)k->min || v > (long)k->max)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "config %s: \"%s\" is not an integer in %.0f..%.0f", k->path,
                                 value, k->min, k->max);
        if (k->type == SGS__KEY_INT)
            *(int *)field = (int)v;
        else
            *(int64_t *)field = (int64_t)v;
        return SGS_OK;
    }
    case SGS__KEY_U64: {
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end || value[0] == '-')
            return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not a whole number",
                                 k->path, value);
        *(uint64_t *)field = (uint64_t)v;
        return SGS_OK;
    }
    case SGS__KEY_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v) || v < k->min || v > k->max)
            return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not a number in %g..%g",
                                 k->path, value, k->min, k->max);
        *(double *)field = v;
        return SGS_OK;
    }
    }
    return SGS_EINVAL;
}

/* Channel names of `codes` (0-terminated), comma-separated. */
static void channel_names(const uint8_t *codes, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < SGS_CHANNEL_COUNT && codes[i] && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? "," : "", sgs_channel_name(codes[i]));
        used += w > 0 ? (size_t)w : 0;
    }
}

void sgs_config_defaults(sgs_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    /* the keys without a default of their own take the kernels': the options they point into
     * start as each kernel's defaults */
    sgs_model_fit_options_init(&cfg->value_fit); /* (padding zero: configs compare bytewise) */
    cfg->value_clv = sgs_clv_options_default();
    sgs_kmeans_options_init(&cfg->segments_kmeans, 0);
    sgs_actions_config_t *a = &cfg->actions;
    sgs_stage_rules_default(&a->stages);
    sgs_influence_config_default(&a->influence);
    sgs_opportunity_config_default(&a->opportunities);
    sgs_audit_config_default(&a->audit);
    channel_names(a->opportunities.spill_order, a->spill_order, sizeof a->spill_order);
    snprintf(a->fallback_channel, sizeof a->fallback_channel, "%s",
             sgs_channel_name(a->opportunities.fallback_channel));
    for (size_t i = 0; i < sgs__config_n_keys; i++) {
        if (!sgs__config_keys[i].deflt)
            continue;
        int rc =
            sgs__config_set_from_text(cfg, &sgs__config_keys[i], sgs__config_keys[i].deflt, NULL);
        (void)rc;
        /* a default that fails its own validation is a programming error */
        if (rc != SGS_OK)
            abort();
    }
}

int sgs_config_set(sgs_config_t *cfg, const char *key, const char *value, sgs_error_t *err)
{
    const sgs__config_key_t *k = sgs__config_find_key(key);
    if (!k)
        return sgs_error_set(err, SGS_ECONFIG, "unknown config key \"%s\" (did you mean \"%s\"?)",
                             key, sgs__config_closest_key(key));
    return sgs__config_set_from_text(cfg, k, value, err);
}

/* ---- Checks across keys ---------------------------------------------------------------- */

int sgs_config_validate(const sgs_config_t *cfg, sgs_error_t *err)
{
    char list[sizeof cfg->segments_features];
    snprintf(list, sizeof list, "%s", cfg->segments_features);
    size_t n_features = 0;
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save), n_features++) {
        static const char *const known[] = {"recency", "frequency", "monetary", "tenure",
                                            "clv",     "p_buy",     "p_alive",  "total_spend"};
        int found = 0;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            found |= strcmp(name, known[k]) == 0;
        if (!found)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "config segments.features: unknown feature \"%s\" (known: %s, "
                                 "p_alive, total_spend)",
                                 name, SGS_SEGMENT_FEATURES);
    }
    if (cfg->segments_enabled && n_features == 0)
        return sgs_error_set(err, SGS_ECONFIG, "config segments.features is empty");
    if (cfg->segments_k_min > cfg->segments_k_max)
        return sgs_error_set(err, SGS_ECONFIG,
                             "config segments.k_min (%d) is larger than segments.k_max (%d)",
                             cfg->segments_k_min, cfg->segments_k_max);
    return sgs_config_validate_actions(cfg, err);
}

double sgs_config_days_per_unit(const sgs_config_t *cfg)
{
    return strcmp(cfg->time_unit, "week") == 0 ? 7.0 : 1.0;
}
