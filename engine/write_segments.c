/*
 * engine/write_segments.c — the segment step in the results file (/clusters, /profiles)
 * and in the run summary (README "Segments in the run").
 */
#include "engine/run_state.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

static int write_k_table(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    size_t m = st->n_k_table;
    double k[SGS_SEGMENTS_MAX_K], inertia[SGS_SEGMENTS_MAX_K], ch[SGS_SEGMENTS_MAX_K],
        silhouette[SGS_SEGMENTS_MAX_K];
    for (size_t i = 0; i < m; i++) {
        k[i] = (double)st->k_table[i].k;
        inertia[i] = st->k_table[i].inertia;
        ch[i] = st->k_table[i].calinski_harabasz;
        silhouette[i] = st->k_table[i].silhouette;
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

int sgs_write_segments_h5(hid_t f, const sgs_run_state_t *st, int z, sgs_error_t *err)
{
    size_t n = st->n_customers, k = st->k, d = st->n_features;
    const char *names[8], *labels[SGS_SEGMENTS_MAX_K];
    for (size_t i = 0; i < d; i++)
        names[i] = st->feature_names[i];
    for (size_t j = 0; j < k; j++)
        labels[j] = st->profile_label[j];
    int rc = sgs_h5_write_column(f, "/clusters/label", SGS_H5_I32, st->segment, n, z, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/clusters/distance", SGS_H5_F64, st->segment_distance, n, z,
                                 err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/clusters/centroids_standardized", st->centroids, k,
                                 st->n_dims, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/clusters/centroids", st->centroids_original, k, d, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/clusters", "feature_names", names, d, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/clusters", "k", (int64_t)k, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/clusters", "k_chosen_by", st->k_chosen_by, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/clusters", "inertia", st->kmeans.inertia, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/clusters", "iterations", st->kmeans.n_iter, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/clusters", "converged", st->kmeans.converged, err);
    if (rc == SGS_OK && st->n_dims != d)
        rc = sgs_h5_write_column(f, "/clusters/pca_explained_variance_ratio", SGS_H5_F64,
                                 st->explained_variance_ratio, st->n_dims, 0, err);
    if (rc == SGS_OK && st->n_k_table > 0)
        rc = write_k_table(f, st, err);

    double size[SGS_SEGMENTS_MAX_K], share[SGS_SEGMENTS_MAX_K];
    for (size_t j = 0; j < k; j++) {
        size[j] = (double)st->profile_size[j];
        share[j] = size[j] / (double)n;
    }
    double *mix = sgs_alloc_array(k * SGS_RFM_SEGMENT_COUNT, sizeof *mix);
    if (rc == SGS_OK && !mix)
        rc = sgs_error_set(err, SGS_ENOMEM, "no memory for the RFM mix");
    for (size_t i = 0; mix && i < k * SGS_RFM_SEGMENT_COUNT; i++)
        mix[i] = (double)st->profile_rfm_mix[i];
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/profiles/size", SGS_H5_F64, size, k, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/profiles/customer_share", SGS_H5_F64, share, k, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/profiles/revenue_share", SGS_H5_F64,
                                 st->profile_revenue_share, k, 0, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/profiles/clv_share", SGS_H5_F64, st->profile_clv_share, k, 0,
                                 err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/profiles/mean", st->profile_mean, k, d, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/profiles/median", st->profile_median, k, d, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_matrix(f, "/profiles/rfm_mix", mix, k, SGS_RFM_SEGMENT_COUNT, err);
    if (rc == SGS_OK)
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
    size_t k = st->k, d = st->n_features;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "k", (double)k);
    cJSON_AddStringToObject(o, "k_chosen_by", st->k_chosen_by);
    cJSON_AddNumberToObject(o, "inertia", st->kmeans.inertia);
    cJSON_AddNumberToObject(o, "iterations", st->kmeans.n_iter);
    cJSON_AddBoolToObject(o, "converged", st->kmeans.converged);
    cJSON *features = cJSON_AddArrayToObject(o, "features");
    for (size_t f = 0; f < d; f++)
        cJSON_AddItemToArray(features, cJSON_CreateString(st->feature_names[f]));
    if (st->n_dims != d) {
        cJSON *pca = cJSON_AddArrayToObject(o, "pca_explained_variance_ratio");
        for (size_t i = 0; i < st->n_dims; i++)
            cJSON_AddItemToArray(pca, cJSON_CreateNumber(st->explained_variance_ratio[i]));
    }
    cJSON *table = cJSON_AddArrayToObject(o, "k_table");
    for (size_t i = 0; i < st->n_k_table; i++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "k", (double)st->k_table[i].k);
        cJSON_AddNumberToObject(row, "inertia", st->k_table[i].inertia);
        cJSON_AddItemToObject(row, "calinski_harabasz",
                              number_or_null(st->k_table[i].calinski_harabasz));
        cJSON_AddItemToObject(row, "silhouette", number_or_null(st->k_table[i].silhouette));
        cJSON_AddItemToArray(table, row);
    }
    cJSON *profiles = cJSON_AddArrayToObject(o, "profiles");
    for (size_t j = 0; j < k; j++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "segment", (double)j);
        cJSON_AddStringToObject(p, "label", st->profile_label[j]);
        cJSON_AddNumberToObject(p, "customers", (double)st->profile_size[j]);
        cJSON_AddNumberToObject(p, "customer_share",
                                (double)st->profile_size[j] / (double)st->n_customers);
        cJSON_AddItemToObject(p, "revenue_share", number_or_null(st->profile_revenue_share[j]));
        cJSON_AddItemToObject(p, "clv_share", number_or_null(st->profile_clv_share[j]));
        cJSON *mean = cJSON_AddObjectToObject(p, "mean");
        cJSON *median = cJSON_AddObjectToObject(p, "median");
        for (size_t f = 0; f < d; f++) {
            cJSON_AddItemToObject(mean, st->feature_names[f],
                                  number_or_null(st->profile_mean[j * d + f]));
            cJSON_AddItemToObject(median, st->feature_names[f],
                                  number_or_null(st->profile_median[j * d + f]));
        }
        cJSON *mix = cJSON_AddObjectToObject(p, "rfm_mix");
        for (int r = 0; r < SGS_RFM_SEGMENT_COUNT; r++)
            cJSON_AddNumberToObject(mix, sgs_rfm_segment_name(r),
                                    (double)st->profile_rfm_mix[j * SGS_RFM_SEGMENT_COUNT + r]);
        cJSON_AddItemToArray(profiles, p);
    }
    return o;
}
