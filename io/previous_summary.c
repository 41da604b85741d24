/*
 * io/previous_summary.c — an earlier run's summary.json, read for comparison
 * (io/previous_summary.h).
 */
#include "io/previous_summary.h"

#include "kernels/dates.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file as a NUL-terminated string (owned), or NULL with err set. */
static char *read_text(const char *path, sgs_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sgs_error_set(err, SGS_ENOINPUT, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *text = malloc(cap);
    while (text) {
        len += fread(text + len, 1, cap - len - 1, f);
        if (ferror(f) || feof(f) || len > SGS_PREVIOUS_SUMMARY_MAX_BYTES)
            break;
        cap *= 2;
        char *grown = realloc(text, cap);
        if (!grown) {
            free(text);
            text = NULL;
        } else {
            text = grown;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (!text) {
        sgs_error_set(err, SGS_ENOMEM, "%s: no memory to read it", path);
        return NULL;
    }
    if (failed) {
        free(text);
        sgs_error_set(err, SGS_ENOINPUT, "%s: read failed", path);
        return NULL;
    }
    if (len > SGS_PREVIOUS_SUMMARY_MAX_BYTES) {
        free(text);
        sgs_error_set(err, SGS_EDATA, "%s: larger than %u bytes: not a segscore summary.json", path,
                      SGS_PREVIOUS_SUMMARY_MAX_BYTES);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

/* Line and column (1-based) of `at` in text. */
static void position(const char *text, const char *at, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            ++*line;
            *column = 1;
        } else {
            ++*column;
        }
    }
}

/* root.a.b as a finite number; NaN when absent or anything else (a NaN is written null). */
static double number_at(const cJSON *root, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, a), b);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : (double)NAN;
}

static void copy_string(const cJSON *v, char *buf, size_t size)
{
    snprintf(buf, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static void read_counts(const cJSON *root, sgs_previous_summary_t *out)
{
    const cJSON *seg;
    cJSON_ArrayForEach(seg, cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(root, "rfm"), "segments"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(seg, "name");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(seg, "customers");
        for (int k = 0; k < SGS_RFM_SEGMENT_COUNT && cJSON_IsString(name) && cJSON_IsNumber(n); k++)
            if (strcmp(name->valuestring, sgs_rfm_segment_name(k)) == 0)
                out->rfm_customers[k] = n->valuedouble;
    }
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(root, "stages");
    for (int k = 0; k < SGS_STAGE_COUNT; k++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(stages, "per_stage"), sgs_stage_name(k));
        if (cJSON_IsNumber(n))
            out->stage_customers[k] = n->valuedouble;
    }
    const cJSON *per_kind = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "opportunities"), "per_kind");
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(per_kind, sgs_opportunity_kind_name(k)), "listed");
        if (cJSON_IsNumber(n))
            out->listed_per_kind[k] = n->valuedouble;
    }
}

int sgs_previous_summary_read(const char *path, sgs_previous_summary_t *out, sgs_error_t *err)
{
    char *text = read_text(path, err);
    if (!text)
        return err ? err->code : SGS_ENOINPUT;
    cJSON *root = cJSON_ParseWithOpts(text, NULL, 1);
    if (!root) {
        int line, column;
        const char *at = cJSON_GetErrorPtr();
        position(text, at ? at : text, &line, &column);
        free(text);
        return sgs_error_set(err, SGS_EDATA, "%s: not JSON (line %d, column %d)", path, line,
                             column);
    }
    free(text);
    *out = (sgs_previous_summary_t){0};
    double *nan_fill[] = {out->rfm_customers, out->stage_customers, out->listed_per_kind};
    size_t nan_count[] = {SGS_RFM_SEGMENT_COUNT, SGS_STAGE_COUNT, SGS_OPP_KIND_COUNT};
    for (size_t a = 0; a < 3; a++)
        for (size_t i = 0; i < nan_count[a]; i++)
            nan_fill[a][i] = NAN;
    const cJSON *as_of = cJSON_GetObjectItemCaseSensitive(root, "as_of");
    int64_t day;
    int as_of_ok = cJSON_IsString(as_of) && strlen(as_of->valuestring) == 10 &&
                   sgs_date_parse_day(as_of->valuestring, &day) == SGS_OK;
    copy_string(as_of, out->as_of, sizeof out->as_of);
    copy_string(cJSON_GetObjectItemCaseSensitive(root, "engine_version"), out->engine_version,
                sizeof out->engine_version);
    copy_string(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "input"),
                                                 "identity"),
                out->input_identity, sizeof out->input_identity);
    out->customers = number_at(root, "customers", "with_purchases");
    out->revenue = number_at(root, "customers", "revenue_total");
    out->expected_purchases = number_at(root, "value", "expected_purchases_total");
    out->clv = number_at(root, "value", "clv_total");
    out->horizon = number_at(root, "value", "horizon");
    out->listed = number_at(root, "opportunities", "listed");
    read_counts(root, out);
    cJSON_Delete(root);
    const char *missing = !as_of_ok               ? "as_of"
                          : isnan(out->customers) ? "customers.with_purchases"
                          : isnan(out->revenue)   ? "customers.revenue_total"
                                                  : NULL;
    if (missing)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: not a segscore run summary: \"%s\" is missing or not %s", path,
                             missing, strcmp(missing, "as_of") == 0 ? "a date" : "a finite number");
    return SGS_OK;
}
