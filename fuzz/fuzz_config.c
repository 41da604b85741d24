/*
 * fuzz/fuzz_config.c — libFuzzer target for the run configuration (engine/config.h): the
 * JSON file parser and the --set KEY=VALUE overrides.
 *
 * Each input is used twice:
 *   1. as a JSON config file: written to an in-memory file (fuzz_support.h; the parser
 *      takes a path) and loaded over the defaults with sgs_config_load_file;
 *   2. as lines of "KEY=VALUE", each applied over the defaults as `segscore run --set`
 *      does (the text before the first '=' is the key, at most 127 bytes; a line's text
 *      ends at its first NUL byte, as an argv string would), up to the first line that
 *      fails, where the command line stops too.
 * Then sgs_config_validate runs on each resulting configuration.
 *
 * Properties beyond "no crash, no leak, no undefined behaviour":
 * - a failure is SGS_ECONFIG (or SGS_ENOMEM) with a message;
 * - what was accepted is what is used: every string, number and boolean member of an
 *   accepted JSON file (the last one when a name repeats), and every accepted --set
 *   value of a string key, reads back unchanged from the effective configuration
 *   (sgs_config_to_json);
 * - the effective configuration, which every result records, loads back as a config file
 *   to the same effective configuration (a round trip).
 */
#include "engine/config.h"
#include "fuzz/fuzz_support.h"

#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

static sgs_fuzz_file_t input_file = {-1, ""};
static sgs_fuzz_file_t echo_file = {-1, ""};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_failure(int rc, const sgs_error_t *err, const char *what)
{
    SGS_FUZZ_CHECK((rc == SGS_ECONFIG || rc == SGS_ENOMEM) && err->message[0],
                   "%s: rc %d, message \"%s\"", what, rc, err->message);
}

/* The member at dotted `path` of the effective configuration `root`, or NULL. */
static const cJSON *member_at(const cJSON *root, const char *path)
{
    char name[256];
    const cJSON *obj = root;
    for (const char *p = path; obj;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof name)
            return NULL;
        memcpy(name, p, len);
        name[len] = '\0';
        obj = cJSON_GetObjectItemCaseSensitive(obj, name);
        if (!dot)
            return obj;
        p = dot + 1;
    }
    return NULL;
}

/* Every scalar member of accepted JSON object `obj` (path prefix `prefix`) reads back from
 * the effective configuration `eff` unchanged. A name that appears again later in the same
 * object is skipped: the later one is the one in force. */
static void check_applied(const cJSON *obj, const char *prefix, const cJSON *eff)
{
    for (const cJSON *item = obj->child; item; item = item->next) {
        int repeated = 0;
        for (const cJSON *later = item->next; later && !repeated; later = later->next)
            repeated = strcmp(later->string, item->string) == 0;
        if (repeated)
            continue;
        char path[512];
        int w = snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", item->string);
        if (w < 0 || (size_t)w >= sizeof path)
            continue; /* longer than any key: it was not a key */
        if (cJSON_IsObject(item)) {
            check_applied(item, path, eff);
            continue;
        }
        const cJSON *got = member_at(eff, path);
        SGS_FUZZ_CHECK(got != NULL, "accepted key \"%s\" is not in the effective configuration",
                       path);
        /* KNOWN ISSUE, left to engine/config_file.c's owner (docs/fuzzing.md "Findings";
         * reproducer tests/fuzz_corpus/config/regressions/long-output-path.json): a JSON
         * string of SGS_CONFIG_STRING_MAX bytes or more is cut to 511 bytes without a word
         * (the loader copies it through a 512-byte buffer before the length check), so a
         * long output path silently names another file. Remove this skip with the fix. */
        if (cJSON_IsString(item) && strlen(item->valuestring) >= SGS_CONFIG_STRING_MAX)
            continue;
        if (cJSON_IsString(item))
            SGS_FUZZ_CHECK(cJSON_IsString(got) && strcmp(got->valuestring, item->valuestring) == 0,
                           "\"%s\": file has \"%.80s\" (%zu bytes), the configuration \"%.80s\" "
                           "(%zu bytes)",
                           path, item->valuestring, strlen(item->valuestring),
                           cJSON_IsString(got) ? got->valuestring : "(not a string)",
                           cJSON_IsString(got) ? strlen(got->valuestring) : 0);
        else if (cJSON_IsBool(item))
            SGS_FUZZ_CHECK(cJSON_IsTrue(item) == cJSON_IsTrue(got), "\"%s\": boolean changed",
                           path);
        else if (cJSON_IsNumber(item) && cJSON_IsNumber(got))
            SGS_FUZZ_CHECK(got->valuedouble == item->valuedouble,
                           "\"%s\": file has %.17g, the configuration %.17g", path,
                           item->valuedouble, got->valuedouble);
    }
}

/* The effective configuration of cfg loads back (as a file) to itself. */
static void check_round_trip(const sgs_config_t *cfg)
{
    /* KNOWN ISSUE, left to engine/config_print.c's owner (docs/fuzzing.md "Findings"; reproducer
     * tests/fuzz_corpus/config/regressions/seed-2-pow-64-minus-1): a seed of 2^53 or more is
     * written as a JSON string (a double cannot hold it), and the loader refuses a string
     * for an integer key, so such a configuration does not load back. Remove this skip
     * with the fix; the reproducer then checks it. */
    if (cfg->seed >= (UINT64_C(1) << 53))
        return;
    char *json = sgs_config_to_json(cfg, 1);
    SGS_FUZZ_CHECK(json != NULL, "sgs_config_to_json returned NULL");
    const char *path =
        sgs_fuzz_file_set(&echo_file, "echo.json", (const uint8_t *)json, strlen(json));
    sgs_config_t again;
    sgs_config_defaults(&again);
    sgs_error_t err = {0, ""};
    int rc = sgs_config_load_file(&again, path, &err);
    SGS_FUZZ_CHECK(rc == 0, "the effective configuration does not load back: %s\n  %s", err.message,
                   json);
    char *json_again = sgs_config_to_json(&again, 1);
    SGS_FUZZ_CHECK(json_again && strcmp(json, json_again) == 0,
                   "round trip changed the configuration:\n  %s\n  %s", json,
                   json_again ? json_again : "(null)");
    (void)sgs_config_validate(&again, &err);
    sgs_free(json_again);
    sgs_free(json);
}

static void fuzz_file(const uint8_t *data, size_t size)
{
    const char *path = sgs_fuzz_file_set(&input_file, "config.json", data, size);
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_error_t err = {0, ""};
    int rc = sgs_config_load_file(&cfg, path, &err);
    if (rc) {
        check_failure(rc, &err, "config file");
        return;
    }
    /* accepted: parse it the way the loader does, and compare with what is in force */
    char *text = malloc(size + 1);
    SGS_FUZZ_CHECK(text != NULL, "out of memory in the harness");
    memcpy(text, data, size);
    text[size] = '\0';
    cJSON *root = cJSON_ParseWithOpts(text, NULL, 1);
    char *eff_text = sgs_config_to_json(&cfg, 1);
    cJSON *eff = eff_text ? cJSON_Parse(eff_text) : NULL;
    SGS_FUZZ_CHECK(root && eff, "accepted file or effective configuration does not parse");
    check_applied(root, "", eff);
    cJSON_Delete(eff);
    sgs_free(eff_text);
    cJSON_Delete(root);
    free(text);
    (void)sgs_config_validate(&cfg, &err);
    (void)sgs_config_days_per_unit(&cfg);
    check_round_trip(&cfg);
}

/* cmd_run.c's apply_set: "KEY=VALUE", key shorter than 128 bytes. */
static int apply_set(sgs_config_t *cfg, const char *assignment, const char **key_out, char *key,
                     size_t key_size, sgs_error_t *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return sgs_error_set(err, SGS_EUSAGE, "--set needs KEY=VALUE");
    size_t len = (size_t)(eq - assignment);
    if (len >= key_size)
        return sgs_error_set(err, SGS_EUSAGE, "--set: key too long");
    memcpy(key, assignment, len);
    key[len] = '\0';
    *key_out = eq + 1;
    return sgs_config_set(cfg, key, eq + 1, err);
}

static void fuzz_set_lines(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    SGS_FUZZ_CHECK(text != NULL, "out of memory in the harness");
    memcpy(text, data, size);
    text[size] = '\0';
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    for (char *line = text; line;) {
        char *nl = memchr(line, '\n', (size_t)(text + size - line));
        if (nl)
            *nl = '\0';
        char key[128];
        const char *value = NULL;
        sgs_error_t err = {0, ""};
        int rc = apply_set(&cfg, line, &value, key, sizeof key, &err);
        if (rc) { /* the command line stops at the first bad --set */
            if (rc != SGS_EUSAGE)
                check_failure(rc, &err, "--set");
            break;
        } else {
            char *eff_text = sgs_config_to_json(&cfg, 1);
            cJSON *eff = eff_text ? cJSON_Parse(eff_text) : NULL;
            const cJSON *got = eff ? member_at(eff, key) : NULL;
            SGS_FUZZ_CHECK(got != NULL, "--set %s accepted but not in the configuration", key);
            if (cJSON_IsString(got) && strcmp(key, "seed") != 0)
                SGS_FUZZ_CHECK(strcmp(got->valuestring, value) == 0,
                               "--set %s=\"%.80s\" reads back as \"%.80s\"", key, value,
                               got->valuestring);
            cJSON_Delete(eff);
            sgs_free(eff_text);
        }
        line = nl ? nl + 1 : NULL;
    }
    sgs_error_t err = {0, ""};
    (void)sgs_config_validate(&cfg, &err);
    check_round_trip(&cfg);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_file(data, size);
    fuzz_set_lines(data, size);
    return 0;
}
