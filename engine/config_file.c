/*
 * engine/config_file.c — reading a configuration file: JSON text checked for what cJSON
 * would take without a word (a NUL byte, \u0000), parsed, and applied key by key through the
 * key table, refusing unknown keys and keys set twice.
 */
#include "engine/config_internal.h"

#include "io/json_doc.h"
#include "io/text_file.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON file ------------------------------------------------------------------------ */

/* Apply every member of JSON object `obj` whose path prefix is `prefix`. seen[i] counts the
 * times key i was set so far: JSON does not say which of two equal keys counts (cJSON kept the
 * last), so a key given twice, also as "a.b" beside {"a": {"b"}}, is an error. */
static int apply_object(sgs_config_t *cfg, const cJSON *obj, const char *prefix, const char *file,
                        unsigned char *seen, sgs_error_t *err)
{
    for (const cJSON *item = obj->child; item; item = item->next) {
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", item->string);
        for (const cJSON *before = obj->child; before != item; before = before->next)
            if (strcmp(before->string, item->string) == 0)
                return sgs_error_set(
                    err, SGS_ECONFIG,
                    "%s: key \"%s\" appears twice in one object (JSON does not say "
                    "which one counts)",
                    file, path);
        const sgs__config_key_t *k = sgs__config_find_key(path);
        if (!k && cJSON_IsObject(item)) {
            int rc = apply_object(cfg, item, path, file, seen, err);
            if (rc)
                return rc;
            continue;
        }
        if (!k)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "%s: unknown config key \"%s\" (did you mean \"%s\"?)", file, path,
                                 sgs__config_closest_key(path));
        if (seen[k - sgs__config_keys]++)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "%s: config key \"%s\" is set twice (JSON does not say which one "
                                 "counts)",
                                 file, path);
        char text[SGS_CONFIG_STRING_MAX];
        int type_ok = 1;
        switch (k->type) {
        case SGS__KEY_STRING:
        case SGS__KEY_DATE:
            if (cJSON_IsNull(item))
                text[0] = '\0';
            else if (cJSON_IsString(item))
                snprintf(text, sizeof text, "%s", item->valuestring);
            else
                type_ok = 0;
            break;
        case SGS__KEY_BOOL:
        case SGS__KEY_FLAG8:
            type_ok = cJSON_IsBool(item);
            snprintf(text, sizeof text, "%s", cJSON_IsTrue(item) ? "true" : "false");
            break;
        default:
            type_ok = cJSON_IsNumber(item);
            if (type_ok && k->type != SGS__KEY_DOUBLE &&
                item->valuedouble != floor(item->valuedouble))
                type_ok = 0;
            if (k->type == SGS__KEY_DOUBLE)
                snprintf(text, sizeof text, "%.17g", item->valuedouble);
            else
                snprintf(text, sizeof text, "%.0f", item->valuedouble);
            break;
        }
        if (!type_ok)
            return sgs_error_set(err, SGS_ECONFIG, "%s: config key \"%s\" has the wrong type", file,
                                 path);
        int rc = sgs__config_set_from_text(cfg, k, text, err);
        if (rc) {
            sgs_error_prefix(err, "%s", file);
            return rc;
        }
    }
    return SGS_OK;
}

/* Line (from 1) of byte `offset` of text. */
static int line_of(const char *text, size_t offset)
{
    int line, column;
    sgs_text_position(text, offset, &line, &column);
    return line;
}

/* What cJSON would take without a word and must not: a NUL byte in the file (cJSON stops
 * reading there, so whatever follows was ignored) and the escape \u0000 in a string (decoded
 * to a NUL, which cuts the string short: "abc\u0000def" became "abc"). Strings are followed
 * from their quotes, so that an escaped backslash before "u0000" is not taken for one.
 * Returns 0 or SGS_ECONFIG naming the byte offset (from 0) and line. */
static int check_text(const char *text, size_t len, const char *file, sgs_error_t *err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return sgs_error_set(err, SGS_ECONFIG,
                             "%s: byte %zu (line %d): a NUL byte; a configuration file is JSON "
                             "text",
                             file, (size_t)(nul - text), line_of(text, (size_t)(nul - text)));
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (!in_string) {
            in_string = text[i] == '"';
            continue;
        }
        if (text[i] == '"') {
            in_string = 0;
        } else if (text[i] == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 6 <= len && strncmp(text + i + 2, "0000", 4) == 0)
                return sgs_error_set(err, SGS_ECONFIG,
                                     "%s: byte %zu (line %d): \\u0000 in a string: a NUL "
                                     "character would cut the string short",
                                     file, i, line_of(text, i));
            i++; /* the escaped character, a quote or a backslash included */
        }
    }
    return SGS_OK;
}

int sgs_config_load_file(sgs_config_t *cfg, const char *path, sgs_error_t *err)
{
    char *text;
    size_t used;
    int rc = sgs_text_file_read(path, "config file", 0, &text, &used, err);
    if (rc)
        return rc;
    unsigned char seen[SGS__CONFIG_KEYS_MAX] = {0};
    rc = check_text(text, used, path, err);
    if (rc)
        goto cleanup;
    const char *error_at = NULL;
    long mark = sgs_json_begin();
    cJSON *root = cJSON_ParseWithOpts(text, &error_at, 1);
    if (sgs_alloc_failures() != mark) { /* cJSON says "cannot parse" for both */
        cJSON_Delete(root);
        rc = sgs_error_set(err, SGS_ENOMEM, "%s: out of memory reading the configuration", path);
        goto cleanup;
    }
    if (!root || !cJSON_IsObject(root)) {
        size_t at = root || !error_at ? 0 : (size_t)(error_at - text);
        rc = sgs_error_set(err, SGS_ECONFIG, "%s: line %d: not a valid JSON object", path,
                           line_of(text, at > used ? used : at));
        cJSON_Delete(root);
        goto cleanup;
    }
    rc = apply_object(cfg, root, "", path, seen, err);
    cJSON_Delete(root);
cleanup:
    sgs_free(text);
    return rc;
}
