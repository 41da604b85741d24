/*
 * engine/write_segments.c — the segment step in the results file (/clusters, /profiles),
 * in the run summary and in the report (docs/segments.md): the segments and
 * their profiles, and how the features were checked and scaled and which small segments
 * were merged, so that a reader can tell why the segments are what they are.
 */
#include "engine/run_state.h"

#include "engine/dist_run.h"
#include "io/json_doc.h"
#include "io/text_format.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int write_k_table(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    size_t m = st->segments.n_k_table;
    double k[SGS_SEGMENTS_MAX_K], inertia[SGS_SEGMENTS_MAX_K], ch[SGS_SEGMENTS_MAX_K],
        silhouette[SGS_SEGMENTS_MAX_K];
    for (size_t i = 0; i < m; i++) {
        k[i] = (double)st->segments.k_table[i].k;
        inertia[i] = st->segments.k_table[i].inertia;
        ch[i] = st->segments.k_table[i].calinski_harabasz;
        silhouette[i] = st->segments.k_table[i].silhouette;
    }
    int rc = sgs_h5_write_column(f, "/clusters/k_table/k", SGS_H5_F64, k, m, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/clusters/k_table/inertia", SGS_H5_F64, inertia, m, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/clusters/k_table/calinski_harabasz", SGS_H5_F64, ch, m, 0,
                                 err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/clusters/k_table/silhouette", SGS_H5_F64, silhouette, m, 0,
                                 err);
    return rc;
}

/* Which datasets a call writes. Parallel HDF5 cannot write variable-length data: a spread run
 * writes the string datasets in a second pass, by process 0 alone once every process has closed
 * the file (engine/write_results.c). */
typedef enum write_mode {
    WRITE_ALL,        /* one process: everything, in one pass */
    WRITE_COLLECTIVE, /* a spread run's first pass: all but the string datasets */
    WRITE_STRINGS     /* its second pass: the string datasets only */
} write_mode_t;

/* /clusters/features/...: one row per feature of segments.features, in config order. */
static int write_feature_checks(hid_t f, const sgs_run_state_t *st, write_mode_t mode,
                                sgs_error_t *err)
{
    int strings = mode != WRITE_COLLECTIVE, others = mode != WRITE_STRINGS;
    size_t m = st->segments.n_feature_check;
    const char *name[8], *units[8], *dropped[8];
    int32_t used[8];
    int64_t clipped[8];
    double q01[8], median[8], q99[8], spread[8], center[8], scale[8];
    for (size_t i = 0; i < m; i++) {
        const sgs_segment_feature_check_t *c = &st->segments.feature_check[i];
        name[i] = c->name;
        units[i] = c->units;
        dropped[i] = c->dropped ? c->dropped : "";
        used[i] = c->dropped == NULL;
        clipped[i] = (int64_t)c->n_clipped;
        q01[i] = c->q01;
        median[i] = c->median;
        q99[i] = c->q99;
        spread[i] = c->spread;
        center[i] = c->center;
        scale[i] = c->scale;
    }
    int rc = strings ? sgs_h5_write_strings(f, "/clusters/features/name", name, m, err) : SGS_OK;
    if (rc == SGS_OK && others)
        rc = sgs_h5_write_column(f, "/clusters/features/used", SGS_H5_I32, used, m, 0, err);
    if (rc == SGS_OK && strings)
        rc = sgs_h5_write_strings(f, "/clusters/features/dropped", dropped, m, err);
    if (rc == SGS_OK && strings)
        rc = sgs_h5_write_strings(f, "/clusters/features/units", units, m, err);
    const struct {
        const char *path;
        const double *v;
    } cols[] = {{"/clusters/features/q01", q01},       {"/clusters/features/median", median},
                {"/clusters/features/q99", q99},       {"/clusters/features/spread", spread},
                {"/clusters/features/center", center}, {"/clusters/features/scale", scale}};
    for (size_t i = 0; rc == SGS_OK && others && i < sizeof cols / sizeof cols[0]; i++)
        rc = sgs_h5_write_column(f, cols[i].path, SGS_H5_F64, cols[i].v, m, 0, err);
    if (rc == SGS_OK && others)
        rc = sgs_h5_write_column(f, "/clusters/features/n_clipped", SGS_H5_I64, clipped, m, 0, err);
    return rc;
}

/* /clusters/label of a spread run: this process's labels as uint8, written with every
 * process's at its offset (engine/write_results.c sgs_run_write_column). */
static int write_labels_spread(hid_t f, const sgs_run_state_t *st, int z, sgs_error_t *err)
{
    size_t n = st->summary.n_customers;
    uint8_t *label = sgs_alloc_array(n, sizeof *label);
    int rc = sgs_dist_run_agree(
        st, label ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu labels", n), err);
    for (size_t i = 0; rc == SGS_OK && i < n; i++)
        label[i] = (uint8_t)st->segments.segment[i];
    if (rc == SGS_OK)
        rc = sgs_run_write_column(st, f, "/clusters/label", SGS_H5_U8, label, z, err);
    sgs_free(label);
    return rc;
}

/* /clusters/merged/...: one row per merge, in the order made (empty when none). */

static int write_merges(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    size_t m = st->segments.n_merges;
    int64_t from[SGS_SEGMENTS_MAX_K], customers[SGS_SEGMENTS_MAX_K], into[SGS_SEGMENTS_MAX_K];
    for (size_t i = 0; i < m; i++) {
        from[i] = (int64_t)st->segments.merges[i].from;
        customers[i] = (int64_t)st->segments.merges[i].customers;
        into[i] = (int64_t)st->segments.merges[i].into;
    }
    int rc = sgs_h5_write_column(f, "/clusters/merged/fitted_segment", SGS_H5_I64, from, m, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/clusters/merged/customers", SGS_H5_I64, customers, m, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/clusters/merged/into", SGS_H5_I64, into, m, 0, err);
    return rc;
}

int sgs_write_segments_strings_h5(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    const char *labels[SGS_SEGMENTS_MAX_K];
    for (size_t j = 0; j < st->segments.k; j++)
        labels[j] = st->segments.profile_label[j];
    int rc = write_feature_checks(f, st, WRITE_STRINGS, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_strings(f, "/profiles/label", labels, st->segments.k, err);
    return rc;
}

int sgs_write_segments_h5(hid_t f, const sgs_run_state_t *st, int z, sgs_error_t *err)
{
    const sgs_config_t *cfg = st->req->config;
    write_mode_t mode = st->dist.size > 1 ? WRITE_COLLECTIVE : WRITE_ALL;
    size_t n = st->summary.n_all, k = st->segments.k, d = st->segments.n_features;
    const char *names[8], *labels[SGS_SEGMENTS_MAX_K];
    for (size_t i = 0; i < d; i++)
        names[i] = st->segments.feature_names[i];
    for (size_t j = 0; j < k; j++)
        labels[j] = st->segments.profile_label[j];
    /* uint8 on disk: labels are 0..k-1 and k is at most SGS_SEGMENTS_MAX_K */
    _Static_assert(SGS_SEGMENTS_MAX_K <= 256, "/clusters/label is stored as uint8");
    /* allocated first and agreed: past this point only HDF5 may fail on one process alone */
    double *mix = sgs_alloc_array(k * SGS_RFM_SEGMENT_COUNT, sizeof *mix);
    int rc = sgs_dist_run_agree(
        st, mix ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for the RFM mix"), err);
    if (rc != SGS_OK) {
        sgs_free(mix);
        return rc;
    }
    rc = st->dist.size > 1
             ? write_labels_spread(f, st, z, err)
             : sgs_h5_write_column_as(f, "/clusters/label", SGS_H5_U8, SGS_H5_I32,
                                      st->segments.segment, st->summary.n_customers, z, err);
    if (rc == SGS_OK)
        rc = sgs_run_write_column(st, f, "/clusters/distance", SGS_H5_F64,
                                  st->segments.segment_distance, z, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/clusters/centroids_standardized", st->segments.centroids, k,
                                 st->segments.n_dims, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/clusters/centroids", st->segments.centroids_original, k, d,
                                 err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/clusters", "feature_names", names, d, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/clusters", "k", (int64_t)k, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/clusters", "k_chosen_by", st->segments.k_chosen_by, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/clusters", "inertia", st->segments.kmeans.inertia, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/clusters", "iterations", st->segments.kmeans.n_iter, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/clusters", "converged", st->segments.kmeans.converged, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/clusters", "k_fitted", (int64_t)st->segments.k_fitted, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/clusters", "inertia_final", st->segments.inertia, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/clusters", "scaling", cfg->segments_scaling, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/clusters", "min_spread", cfg->segments_min_spread, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/clusters", "min_share", cfg->segments_min_share, err);
    if (rc == SGS_OK)
        rc = write_feature_checks(f, st, mode, err);
    if (rc == SGS_OK)
        rc = write_merges(f, st, err);
    if (rc == SGS_OK && st->segments.n_dims != d)
        rc =
            sgs_h5_write_column(f, "/clusters/pca_explained_variance_ratio", SGS_H5_F64,
                                st->segments.explained_variance_ratio, st->segments.n_dims, 0, err);
    if (rc == SGS_OK && st->segments.n_k_table > 0)
        rc = write_k_table(f, st, err);

    double size[SGS_SEGMENTS_MAX_K], share[SGS_SEGMENTS_MAX_K];
    for (size_t j = 0; j < k; j++) {
        size[j] = (double)st->segments.profile_size[j];
        share[j] = size[j] / (double)n;
    }
    for (size_t i = 0; mix && i < k * SGS_RFM_SEGMENT_COUNT; i++)
        mix[i] = (double)st->segments.profile_rfm_mix[i];
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/profiles/size", SGS_H5_F64, size, k, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/profiles/customer_share", SGS_H5_F64, share, k, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/profiles/revenue_share", SGS_H5_F64,
                                 st->segments.profile_revenue_share, k, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/profiles/clv_share", SGS_H5_F64,
                                 st->segments.profile_clv_share, k, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/profiles/mean", st->segments.profile_mean, k, d, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/profiles/median", st->segments.profile_median, k, d, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/profiles/rfm_mix", mix, k, SGS_RFM_SEGMENT_COUNT, err);
    if (rc == SGS_OK && mode == WRITE_ALL)
        rc = sgs_h5_write_strings(f, "/profiles/label", labels, k, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/profiles", "feature_names", names, d, err);
    sgs_free(mix);
    return rc;
}

/* A number, or null for NaN (JSON has no NaN). */
static cJSON *number_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

cJSON *sgs_segments_json(const sgs_run_state_t *st)
{
    size_t k = st->segments.k, d = st->segments.n_features;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "k", (double)k);
    cJSON_AddStringToObject(o, "k_chosen_by", st->segments.k_chosen_by);
    cJSON_AddNumberToObject(o, "inertia", st->segments.kmeans.inertia);
    cJSON_AddNumberToObject(o, "iterations", st->segments.kmeans.n_iter);
    cJSON_AddBoolToObject(o, "converged", st->segments.kmeans.converged);
    cJSON_AddNumberToObject(o, "k_fitted", (double)st->segments.k_fitted);
    cJSON_AddNumberToObject(o, "inertia_final", st->segments.inertia);
    cJSON *features = cJSON_AddArrayToObject(o, "features");
    for (size_t f = 0; f < d; f++)
        sgs_json_attach(features, NULL, cJSON_CreateString(st->segments.feature_names[f]));
    const sgs_config_t *cfg = st->req->config;
    cJSON_AddStringToObject(o, "scaling", cfg->segments_scaling);
    cJSON_AddNumberToObject(o, "min_spread", cfg->segments_min_spread);
    cJSON_AddNumberToObject(o, "min_share", cfg->segments_min_share);
    cJSON *checks = cJSON_AddArrayToObject(o, "feature_checks");
    for (size_t i = 0; i < st->segments.n_feature_check; i++) {
        const sgs_segment_feature_check_t *c = &st->segments.feature_check[i];
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "name", c->name);
        cJSON_AddBoolToObject(row, "used", c->dropped == NULL);
        sgs_json_attach(row, "dropped",
                        c->dropped ? cJSON_CreateString(c->dropped) : cJSON_CreateNull());
        cJSON_AddStringToObject(row, "units", c->units);
        sgs_json_attach(row, "q01", number_or_null(c->q01));
        sgs_json_attach(row, "median", number_or_null(c->median));
        sgs_json_attach(row, "q99", number_or_null(c->q99));
        sgs_json_attach(row, "spread", number_or_null(c->spread));
        sgs_json_attach(row, "center", number_or_null(c->center));
        sgs_json_attach(row, "scale", number_or_null(c->scale));
        cJSON_AddNumberToObject(row, "n_clipped", (double)c->n_clipped);
        sgs_json_attach(checks, NULL, row);
    }
    cJSON *merged = cJSON_AddArrayToObject(o, "merged");
    for (size_t i = 0; i < st->segments.n_merges; i++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "fitted_segment", (double)st->segments.merges[i].from);
        cJSON_AddNumberToObject(row, "customers", (double)st->segments.merges[i].customers);
        cJSON_AddNumberToObject(row, "customer_share",
                                (double)st->segments.merges[i].customers /
                                    (double)st->summary.n_customers);
        cJSON_AddNumberToObject(row, "into", (double)st->segments.merges[i].into);
        sgs_json_attach(merged, NULL, row);
    }
    if (st->segments.n_dims != d) {
        cJSON *pca = cJSON_AddArrayToObject(o, "pca_explained_variance_ratio");
        for (size_t i = 0; i < st->segments.n_dims; i++)
            sgs_json_attach(pca, NULL,
                            cJSON_CreateNumber(st->segments.explained_variance_ratio[i]));
    }
    cJSON *table = cJSON_AddArrayToObject(o, "k_table");
    for (size_t i = 0; i < st->segments.n_k_table; i++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "k", (double)st->segments.k_table[i].k);
        cJSON_AddNumberToObject(row, "inertia", st->segments.k_table[i].inertia);
        sgs_json_attach(row, "calinski_harabasz",
                        number_or_null(st->segments.k_table[i].calinski_harabasz));
        sgs_json_attach(row, "silhouette", number_or_null(st->segments.k_table[i].silhouette));
        sgs_json_attach(table, NULL, row);
    }
    cJSON *profiles = cJSON_AddArrayToObject(o, "profiles");
    for (size_t j = 0; j < k; j++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "segment", (double)j);
        cJSON_AddStringToObject(p, "label", st->segments.profile_label[j]);
        cJSON_AddNumberToObject(p, "customers", (double)st->segments.profile_size[j]);
        cJSON_AddNumberToObject(p, "customer_share",
                                (double)st->segments.profile_size[j] /
                                    (double)st->summary.n_customers);
        sgs_json_attach(p, "revenue_share", number_or_null(st->segments.profile_revenue_share[j]));
        sgs_json_attach(p, "clv_share", number_or_null(st->segments.profile_clv_share[j]));
        cJSON *mean = cJSON_AddObjectToObject(p, "mean");
        cJSON *median = cJSON_AddObjectToObject(p, "median");
        for (size_t f = 0; f < d; f++) {
            sgs_json_attach(mean, st->segments.feature_names[f],
                            number_or_null(st->segments.profile_mean[j * d + f]));
            sgs_json_attach(median, st->segments.feature_names[f],
                            number_or_null(st->segments.profile_median[j * d + f]));
        }
        cJSON *mix = cJSON_AddObjectToObject(p, "rfm_mix");
        for (int r = 0; r < SGS_RFM_SEGMENT_COUNT; r++)
            cJSON_AddNumberToObject(
                mix, sgs_rfm_segment_name(r),
                (double)st->segments.profile_rfm_mix[j * SGS_RFM_SEGMENT_COUNT + r]);
        sgs_json_attach(profiles, NULL, p);
    }
    return o;
}

/* ---- Report ------------------------------------------------------------------------------ */

/* How the segments were made: scaling, features left out and why, customers winsorized,
 * segments merged, and any segment under 1% of the customers that was kept, with the
 * reason. */
static void report_how_made(const sgs_run_state_t *st, FILE *out)
{
    const sgs_config_t *cfg = st->req->config;
    char a[40];
    if (strcmp(cfg->segments_scaling, "robust") == 0)
        fprintf(out, "\nHow they were made: robust scaling (each feature winsorized at its 1%% "
                     "and 99%% quantiles, centred on its median, divided by its central 98%% "
                     "range / 4.65)\n");
    else
        fprintf(out, "\nHow they were made: standard scaling (mean and standard deviation: a few "
                     "extreme customers can make a segment of their own)\n");
    for (size_t i = 0; i < st->segments.n_feature_check; i++) {
        const sgs_segment_feature_check_t *c = &st->segments.feature_check[i];
        if (!c->dropped)
            continue;
        if (isnan(c->spread)) /* not computed: left out before the spread check */
            fprintf(out, "  %s left out: %s\n", c->name,
                    strcmp(c->dropped, "value step off") == 0 ? "the value step did not run"
                                                              : c->dropped);
        else
            fprintf(out,
                    "  %s left out: %s: 98%% of customers between %.6g and %.6g (a range of "
                    "%.3g in %s units, below segments.min_spread = %g)\n",
                    c->name, c->dropped, c->q01, c->q99, c->spread, c->units,
                    cfg->segments_min_spread);
    }
    int any = 0;
    for (size_t i = 0; i < st->segments.n_feature_check; i++) {
        const sgs_segment_feature_check_t *c = &st->segments.feature_check[i];
        if (c->dropped || c->n_clipped == 0)
            continue;
        fprintf(out, "%s%s %s",
                any ? ", " : "  winsorized (pulled in to the 1% or 99% quantile): ", c->name,
                sgs_fmt_grouped((double)c->n_clipped, a, sizeof a));
        any = 1;
    }
    if (any)
        fprintf(out, " customers\n");
    if (st->segments.n_merges > 0) {
        fprintf(out,
                "  k-means found %zu segments; %zu with under %g%% of the customers merged into "
                "the nearest:",
                st->segments.k_fitted, st->segments.n_merges, 100 * cfg->segments_min_share);
        for (size_t i = 0; i < st->segments.n_merges; i++)
            fprintf(out, "%s %s customers (%.2g%%) into segment %zu", i ? "," : "",
                    sgs_fmt_grouped((double)st->segments.merges[i].customers, a, sizeof a),
                    100.0 * (double)st->segments.merges[i].customers /
                        (double)st->summary.n_customers,
                    st->segments.merges[i].into);
        fprintf(out, "\n");
    }
    for (size_t j = 0; j < st->segments.k; j++) {
        double share = (double)st->segments.profile_size[j] / (double)st->summary.n_customers;
        if (share >= 0.01)
            continue;
        fprintf(out, "  segment %zu holds %.2g%% of the customers, under 1%%: kept because ", j,
                100 * share);
        if (cfg->segments_min_share == 0)
            fprintf(out, "segments.min_share = 0 turns merging off\n");
        else
            fprintf(out, "segments.min_share = %g merges only segments under %g%%\n",
                    cfg->segments_min_share, 100 * cfg->segments_min_share);
    }
}

/* Segments: who they are, in a line each, with size and value; then how they were made. */
void sgs_report_segments(const sgs_run_state_t *st, FILE *out)
{
    size_t d = st->segments.n_features;
    char a[40];
    if (st->segments.n_merges > 0)
        fprintf(out,
                "\nSegments: %zu groups found by k-means (k = %zu chosen by %s, %zu small "
                "one%s merged) on ",
                st->segments.k, st->segments.k_fitted, st->segments.k_chosen_by,
                st->segments.n_merges, st->segments.n_merges > 1 ? "s" : "");
    else
        fprintf(out, "\nSegments: %zu groups found by k-means (k chosen by %s) on ", st->segments.k,
                st->segments.k_chosen_by);
    for (size_t f = 0; f < d; f++)
        fprintf(out, "%s%s", st->segments.feature_names[f], f + 1 < d ? ", " : "\n\n");
    fprintf(out, "%-3s %-42s %11s %6s %8s %8s  %s\n", "#", "who they are", "customers", "share",
            "revenue", "CLV", "typical (median)");
    for (size_t j = 0; j < st->segments.k; j++) {
        fprintf(out, "%-3zu %-42s %11s %5.1f%% %7.1f%% ", j, st->segments.profile_label[j],
                sgs_fmt_grouped((double)st->segments.profile_size[j], a, sizeof a),
                100.0 * (double)st->segments.profile_size[j] / (double)st->summary.n_customers,
                100.0 * st->segments.profile_revenue_share[j]);
        if (st->value.ran)
            fprintf(out, "%7.1f%%  ", 100.0 * st->segments.profile_clv_share[j]);
        else
            fprintf(out, "%8s  ", "-");
        for (size_t f = 0; f < d; f++)
            fprintf(out, "%s %.3g%s", st->segments.feature_names[f],
                    st->segments.profile_median[j * d + f], f + 1 < d ? ", " : "\n");
    }
    report_how_made(st, out);
}
