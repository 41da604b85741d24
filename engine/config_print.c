/*
 * engine/config_print.c — the configuration written out: the effective configuration as
 * JSON (recorded in every result) and the key table as Markdown rows (`segscore config
 * --defaults`, docs/configuration.md).
 */
#include "engine/config_internal.h"

#include "io/json_doc.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <string.h>

/* ---- Serialization and documentation ----------------------------------------------- */

/* The value of key k in cfg as text (strings unquoted). */
void sgs__config_value_text(const sgs_config_t *cfg, const sgs__config_key_t *k, char *buf,
                            size_t size)
{
    const char *field = (const char *)cfg + k->offset;
    switch (k->type) {
    case SGS__KEY_STRING:
    case SGS__KEY_DATE:
        snprintf(buf, size, "%s", field);
        break;
    case SGS__KEY_BOOL:
        snprintf(buf, size, "%s", *(const int *)field ? "true" : "false");
        break;
    case SGS__KEY_FLAG8:
        snprintf(buf, size, "%s", *(const uint8_t *)field ? "true" : "false");
        break;
    case SGS__KEY_INT:
        snprintf(buf, size, "%d", *(const int *)field);
        break;
    case SGS__KEY_I64:
        snprintf(buf, size, "%lld", (long long)*(const int64_t *)field);
        break;
    case SGS__KEY_U64:
        snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)field);
        break;
    case SGS__KEY_DOUBLE:
        snprintf(buf, size, "%.17g", *(const double *)field);
        break;
    }
}

/* Object for dotted path prefix in root, created when missing. */
static cJSON *object_for(cJSON *root, const char *path, const char **leaf)
{
    cJSON *obj = root;
    const char *p = path;
    const char *dot;
    while ((dot = strchr(p, '.')) != NULL) {
        char name[64];
        size_t len = (size_t)(dot - p) < sizeof name - 1 ? (size_t)(dot - p) : sizeof name - 1;
        memcpy(name, p, len);
        name[len] = '\0';
        cJSON *child = cJSON_GetObjectItemCaseSensitive(obj, name);
        if (!child)
            child = cJSON_AddObjectToObject(obj, name);
        obj = child;
        p = dot + 1;
    }
    *leaf = p;
    return obj;
}

char *sgs_config_to_json(const sgs_config_t *cfg, int include_threads)
{
    long mark = sgs_json_begin();
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; root && i < sgs__config_n_keys; i++) {
        const sgs__config_key_t *k = &sgs__config_keys[i];
        if (!include_threads && k->offset == offsetof(sgs_config_t, threads))
            continue;
        const char *leaf;
        cJSON *obj = object_for(root, k->path, &leaf);
        char text[SGS_CONFIG_STRING_MAX];
        sgs__config_value_text(cfg, k, text, sizeof text);
        if (!obj)
            continue;
        switch (k->type) {
        case SGS__KEY_STRING:
        case SGS__KEY_DATE:
            cJSON_AddStringToObject(obj, leaf, text);
            break;
        case SGS__KEY_BOOL:
        case SGS__KEY_FLAG8:
            cJSON_AddBoolToObject(obj, leaf, strcmp(text, "true") == 0);
            break;
        case SGS__KEY_U64:
            /* 64-bit seeds do not fit a JSON double exactly: keep them as text-free numbers
             * only when exact, else as a string */
            if (*(const uint64_t *)((const char *)cfg + k->offset) < (UINT64_C(1) << 53))
                cJSON_AddRawToObject(obj, leaf, text);
            else
                cJSON_AddStringToObject(obj, leaf, text);
            break;
        default:
            cJSON_AddRawToObject(obj, leaf, text);
            break;
        }
    }
    return sgs_json_finish(root, mark, 0);
}

void sgs_config_print_doc(FILE *out)
{
    static const char *const type_names[] = {"string", "date",    "integer", "integer",
                                             "number", "boolean", "integer", "boolean"};
    sgs_config_t defaults;
    sgs_config_defaults(&defaults);
    fprintf(out, "| key | type | default | meaning |\n| --- | --- | --- | --- |\n");
    for (size_t i = 0; i < sgs__config_n_keys; i++) {
        const sgs__config_key_t *k = &sgs__config_keys[i];
        fprintf(out, "| `%s` | %s%s", k->path, type_names[k->type], k->allowed ? ": " : "");
        if (k->type == SGS__KEY_INT || k->type == SGS__KEY_I64 || k->type == SGS__KEY_DOUBLE)
            fprintf(out, " %.10g..%.10g", k->min, k->max);
        /* allowed words are '|'-separated, which would split a Markdown cell */
        for (const char *p = k->allowed; p && *p; p++)
            fputs(*p == '|' ? ", " : (char[]){*p, '\0'}, out);
        char deflt[SGS_CONFIG_STRING_MAX];
        if (k->deflt)
            snprintf(deflt, sizeof deflt, "%s", k->deflt);
        else if (k->type == SGS__KEY_DOUBLE) /* the shortest text that reads back the same */
            snprintf(deflt, sizeof deflt, "%.15g",
                     *(const double *)((const char *)&defaults + k->offset));
        else
            sgs__config_value_text(&defaults, k, deflt, sizeof deflt);
        fprintf(out, " | `%s` | %s |\n", deflt[0] ? deflt : "\"\"", k->doc);
    }
}
