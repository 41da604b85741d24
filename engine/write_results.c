/*
 * engine/write_results.c — the results HDF5 file (README "Results file"): /customers with
 * the summary columns in the configured time unit, /rfm with scores and segments, and root
 * attributes that say what produced it (engine version, effective config, as-of date,
 * input identity). No wall-clock time goes in: the same input and config give the same
 * bytes.
 */
#include "engine/run_state.h"

#include "io/h5_columns.h"

#include <hdf5.h>
#include <stdlib.h>

/* Durations in days (int32) to the configured unit, into scratch. */
static const double *in_unit(const sgs_run_state_t *st, const int32_t *days, double *scratch)
{
    for (size_t c = 0; c < st->n_customers; c++)
        scratch[c] = (double)days[c] / st->days_per_unit;
    return scratch;
}

static const double *in_unit_f(const sgs_run_state_t *st, const double *days, double *scratch)
{
    for (size_t c = 0; c < st->n_customers; c++)
        scratch[c] = days[c] / st->days_per_unit;
    return scratch;
}

static int write_customers_group(hid_t f, const sgs_run_state_t *st, int z, double *scratch,
                                 sgs_error_t *err)
{
    const sgs_summary_t *s = &st->summary;
    size_t n = st->n_customers;
    int rc =
        sgs_h5_write_column(f, "/customers/customer_id", SGS_H5_I64, st->customer_id, n, z, err);
#define COLUMN(name, type, data)                                                                   \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_h5_write_column(f, "/customers/" name, type, data, n, z, err);
    COLUMN("first_purchase_day", SGS_H5_I32, s->first_day)
    COLUMN("last_purchase_day", SGS_H5_I32, s->last_day)
    COLUMN("n_purchase_days", SGS_H5_I32, s->n_purchase_days)
    COLUMN("frequency", SGS_H5_I32, s->frequency)
    COLUMN("recency", SGS_H5_F64, in_unit(st, s->recency_days, scratch))
    COLUMN("T", SGS_H5_F64, in_unit(st, s->age_days, scratch))
    COLUMN("time_since_last", SGS_H5_F64, in_unit(st, s->days_since_last, scratch))
    COLUMN("total_spend", SGS_H5_F64, s->total_spend)
    COLUMN("mean_spend", SGS_H5_F64, s->mean_spend)
    COLUMN("monetary", SGS_H5_F64, s->monetary)
    COLUMN("refund_total", SGS_H5_F64, s->refund_total)
    COLUMN("n_refunds", SGS_H5_I32, s->n_refunds)
    COLUMN("gap_mean", SGS_H5_F64, in_unit_f(st, s->gap_mean_days, scratch))
    COLUMN("gap_sd", SGS_H5_F64, in_unit_f(st, s->gap_sd_days, scratch))
    COLUMN("main_channel", SGS_H5_U8, s->main_channel)
#undef COLUMN
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/customers", "time_unit", st->req->config->time_unit, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/customers", "day_columns",
                                "first_purchase_day, last_purchase_day: days since 1970-01-01 UTC",
                                err);
    const char *channels[SGS_CHANNEL_COUNT];
    for (int k = 0; k < SGS_CHANNEL_COUNT; k++)
        channels[k] = sgs_channel_name(k);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/customers", "main_channel_names", channels, SGS_CHANNEL_COUNT,
                                 err);
    return rc;
}

static int write_rfm_group(hid_t f, const sgs_run_state_t *st, int z, sgs_error_t *err)
{
    size_t n = st->n_customers;
    int32_t *cell = sgs_alloc_array(n, sizeof *cell);
    if (!cell)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for %zu RFM cells", n);
    for (size_t c = 0; c < n; c++)
        cell[c] = st->rfm_cell[c];
    int rc = sgs_h5_write_column(f, "/rfm/r_score", SGS_H5_U8, st->r_score, n, z, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/rfm/f_score", SGS_H5_U8, st->f_score, n, z, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/rfm/m_score", SGS_H5_U8, st->m_score, n, z, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/rfm/score", SGS_H5_U8, st->rfm_total, n, z, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/rfm/cell", SGS_H5_I32, cell, n, z, err);
    if (rc == SGS_OK)
        rc = sgs_h5_write_column(f, "/rfm/segment", SGS_H5_U8, st->rfm_segment, n, z, err);
    sgs_free(cell);
    const char *names[SGS_RFM_SEGMENT_COUNT];
    for (int k = 0; k < SGS_RFM_SEGMENT_COUNT; k++)
        names[k] = sgs_rfm_segment_name(k);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_strings(f, "/rfm", "segment_names", names, SGS_RFM_SEGMENT_COUNT, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/rfm", "bins", st->req->config->rfm_bins, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/rfm", "monetary", st->req->config->rfm_monetary, err);
    return rc;
}

static int write_root_attributes(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    char *config_json = sgs_config_to_json(st->req->config, 0);
    if (!config_json)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the config JSON");
    int rc = sgs_h5_attr_string(f, "/", "engine_version", SGS_VERSION, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/", "config", config_json, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/", "as_of", st->as_of_text, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/", "time_unit", st->req->config->time_unit, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/", "input", st->input_identity, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/", "n_customers", (int64_t)st->n_customers, err);
    free(config_json);
    return rc;
}

int sgs_write_results_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    sgs_h5_quiet();
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t f = fcpl >= 0 ? H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT) : -1;
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (f < 0)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create HDF5 file", path);
    double *scratch = sgs_alloc_array(st->n_customers, sizeof *scratch);
    int z = st->req->config->compression;
    int rc = scratch ? SGS_OK
                     : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu values", st->n_customers);
    if (rc == SGS_OK)
        rc = write_customers_group(f, st, z, scratch, err);
    if (rc == SGS_OK)
        rc = write_rfm_group(f, st, z, err);
    if (rc == SGS_OK)
        rc = write_root_attributes(f, st, err);
    sgs_free(scratch);
    if (H5Fclose(f) < 0 && rc == SGS_OK)
        rc = sgs_error_set(err, SGS_EIO, "%s: cannot close HDF5 file", path);
    if (rc != SGS_OK)
        sgs_error_prefix(err, "writing results to %s", st->req->output_path);
    return rc;
}
