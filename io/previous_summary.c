/*
 * io/previous_summary.c — an earlier run's summary.json, read for comparison
 * (io/previous_summary.h).
 */
#include "io/previous_summary.h"

#include "io/text_file.h"
#include "kernels/dates.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    char *text;
    size_t len;
    int rc = sgs_text_file_read(path, "segscore summary.json", SGS_PREVIOUS_SUMMARY_MAX_BYTES,
                                &text, &len, err);
    if (rc)
        return rc;
    const char *at = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &at, 1);
    if (!root) {
        int line, column;
        size_t offset = at ? (size_t)(at - text) : 0;
        sgs_text_position(text, offset > len ? len : offset, &line, &column);
        sgs_free(text);
        return sgs_error_set(err, SGS_EDATA, "%s: not JSON (line %d, column %d)", path, line,
                             column);
    }
    sgs_free(text);
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
