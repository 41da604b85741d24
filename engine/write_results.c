/*
 * engine/write_results.c — the results HDF5 file (docs/results-layout.md): /customers with
 * the summary columns in the configured time unit, /rfm with scores and segments, and root
 * attributes that say what produced it (engine version, effective config, as-of date,
 * input identity). No wall-clock time goes in: the same input and config give the same
 * bytes. A run spread over processes writes it with all of them together (docs/mpi.md): each
 * per-customer column is every process's rows at its offset, the rest the same on every
 * process (HDF5's metadata calls are collective).
 */
#include "engine/dist_run.h"
#include "engine/interrupt.h"
#include "engine/run_actions.h"
#include "engine/run_state.h"

#include "io/h5_columns.h"
#include "io/h5_output.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <stdlib.h>

int sgs_run_write_column(const sgs_run_state_t *st, hid_t f, const char *path, sgs_h5_type_t type,
                         const void *data, int deflate_level, sgs_error_t *err)
{
    const sgs_run_summary_t *s = &st->summary;
    if (st->dist.size == 1)
        return sgs_h5_write_column(f, path, type, data, s->n_customers, deflate_level, err);
    int rc = sgs_h5_write_column_part(f, path, type, data, s->first, s->n_customers, s->n_all,
                                      deflate_level, err);
    return sgs_dist_run_agree(st, rc, err);
}

/* Durations in days (int32) to the configured unit, into scratch. */
static const double *in_unit(const sgs_run_state_t *st, const int32_t *days, double *scratch)
{
    for (size_t c = 0; c < st->summary.n_customers; c++)
        scratch[c] = (double)days[c] / st->days_per_unit;
    return scratch;
}

static const double *in_unit_f(const sgs_run_state_t *st, const double *days, double *scratch)
{
    for (size_t c = 0; c < st->summary.n_customers; c++)
        scratch[c] = days[c] / st->days_per_unit;
    return scratch;
}

static int write_customers_group(hid_t f, const sgs_run_state_t *st, int z, double *scratch,
                                 sgs_error_t *err)
{
    const sgs_summary_t *s = &st->summary.columns;
    int rc = sgs_run_write_column(st, f, "/customers/customer_id", SGS_H5_I64,
                                  st->summary.customer_id, z, err);
    /* Test hook (docs/publishing.md): a spread run's process stopped here, after the file's
     * first column, leaves the others inside the next column's collective write. */
    if (rc == SGS_OK && st->dist.size > 1)
        sgs_test_pause_at("customers-column-written");
#define COLUMN(name, type, data)                                                                   \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_run_write_column(st, f, "/customers/" name, type, data, z, err);
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
    size_t n = st->summary.n_customers;
    int32_t *cell = sgs_alloc_array(n, sizeof *cell);
    int rc = sgs_dist_run_agree(
        st, cell ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu RFM cells", n), err);
    if (rc != SGS_OK) {
        sgs_free(cell);
        return rc;
    }
    for (size_t c = 0; c < n; c++)
        cell[c] = st->rfm.rfm_cell[c];
    rc = sgs_run_write_column(st, f, "/rfm/r_score", SGS_H5_U8, st->rfm.r_score, z, err);
    if (rc == SGS_OK)
        rc = sgs_run_write_column(st, f, "/rfm/f_score", SGS_H5_U8, st->rfm.f_score, z, err);
    if (rc == SGS_OK)
        rc = sgs_run_write_column(st, f, "/rfm/m_score", SGS_H5_U8, st->rfm.m_score, z, err);
    if (rc == SGS_OK)
        rc = sgs_run_write_column(st, f, "/rfm/score", SGS_H5_U8, st->rfm.rfm_total, z, err);
    if (rc == SGS_OK)
        rc = sgs_run_write_column(st, f, "/rfm/cell", SGS_H5_I32, cell, z, err);
    if (rc == SGS_OK)
        rc = sgs_run_write_column(st, f, "/rfm/segment", SGS_H5_U8, st->rfm.rfm_segment, z, err);
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

/* Parameters, standard errors and diagnostics of one fit as attributes of `group`. */
static int write_fit(hid_t f, const char *group, const sgs_fit_t *fit, const char *const *names,
                     sgs_error_t *err)
{
    int rc = sgs_h5_group_ensure(f, group, err);
    char name[64];
    for (int k = 0; rc == SGS_OK && k < fit->n_params; k++) {
        rc = sgs_h5_attr_double(f, group, names[k], fit->params[k], err);
        snprintf(name, sizeof name, "%s_se", names[k]);
        if (rc == SGS_OK)
            rc = sgs_h5_attr_double(f, group, name, fit->std_err[k], err);
    }
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, group, "log_likelihood", fit->log_likelihood, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, group, "converged", fit->converged, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, group, "iterations", fit->iterations, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, group, "gradient_norm", fit->grad_norm, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, group, "stop_reason", sgs_optim_status_name(fit->status), err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, group, "penalizer", fit->penalizer, err);
    return rc;
}

static int write_value_groups(hid_t f, const sgs_run_state_t *st, int z, sgs_error_t *err)
{
    int rc = SGS_OK;
#define CLV_COLUMN(name, data)                                                                     \
    if (rc == SGS_OK)                                                                              \
        rc = sgs_run_write_column(st, f, "/clv/" name, SGS_H5_F64, data, z, err);
    CLV_COLUMN("p_alive", st->value.p_alive)
    CLV_COLUMN("expected_purchases", st->value.expected_purchases)
    CLV_COLUMN("prob_no_purchase", st->value.prob_no_purchase)
    CLV_COLUMN("expected_spend", st->value.expected_spend)
    CLV_COLUMN("clv", st->value.clv)
    CLV_COLUMN("p_buy", st->value.p_buy)
#undef CLV_COLUMN
    const sgs_config_t *cfg = st->req->config;
    const char *model = sgs_purchase_model_name(st->value.model);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/clv", "model", model, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/clv", "horizon", st->value.horizon, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/clv", "time_unit", cfg->time_unit, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/clv", "discount_rate_annual", cfg->value_clv.annual_discount,
                                err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/clv", "margin", cfg->value_clv.margin, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/clv", "p_buy_calibrated", st->value.p_buy_calibrated, err);
    if (rc == SGS_OK)
        rc = sgs_write_backtest_h5(f, st, err);

    char group[64];
    snprintf(group, sizeof group, "/models/%s", model);
    if (rc == SGS_OK)
        rc = write_fit(f, group, &st->value.model_fit,
                       sgs_purchase_model_param_names(st->value.model), err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, group, "n_customers", (int64_t)st->summary.n_all, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, group, "n_unique_histories", (int64_t)st->value.n_histories, err);
    static const char *const gg_names[] = {"p", "q", "gamma"};
    const sgs_gg_summary_t *gs = &st->value.spend_summary;
    if (rc == SGS_OK)
        rc = write_fit(f, "/models/gammagamma", &st->value.spend_fit, gg_names, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/models/gammagamma", "n_customers", (int64_t)gs->n_used, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/models/gammagamma", "n_no_repeat_purchase",
                               (int64_t)gs->n_no_repeat, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/models/gammagamma", "n_nonpositive_spend_left_out",
                               (int64_t)gs->n_nonpositive, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_double(f, "/models/gammagamma", "frequency_spend_correlation",
                                gs->correlation, err);
    return rc;
}

static int write_root_attributes(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    char *config_json = sgs_config_to_json(st->req->config, 0);
    int rc = sgs_dist_run_agree(
        st, config_json ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for the config JSON"),
        err);
    if (rc != SGS_OK) {
        cJSON_free(config_json);
        return rc;
    }
    rc = sgs_h5_attr_string(f, "/", "engine_version", SGS_VERSION, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/", "config", config_json, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/", "as_of", st->read.as_of_text, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/", "time_unit", st->req->config->time_unit, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_string(f, "/", "input", st->read.input_identity, err);
    if (rc == SGS_OK)
        rc = sgs_h5_attr_int64(f, "/", "n_customers", (int64_t)st->summary.n_all, err);
    cJSON_free(config_json);
    return rc;
}

/* A spread run's second pass: process 0 alone reopens the file the processes wrote and closed,
 * and writes the string datasets (variable-length data, which parallel HDF5 cannot write). */
static int write_strings_alone(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    if (st->dist.rank != 0 || !st->segments.ran)
        return SGS_OK;
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0)
        return sgs_error_set(err, SGS_EIO, "%s: cannot reopen HDF5 file", path);
    return sgs_h5_finish_output(f, sgs_write_segments_strings_h5(f, st, err), err);
}

/* The models' part: everything the steps up to the value step made (/customers, /rfm, /clv,
 * /models, /backtest), written while the segment step runs. In a spread run every group's
 * writer makes its collective calls (the per-customer columns, its agreements) before
 * anything that may fail on one process alone (small datasets, attributes), and the outcome is
 * agreed after each: every process then takes the same way, up to the file's flush and close,
 * which are collective too. */
static int write_models_part(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    double *scratch = sgs_alloc_array(st->summary.n_customers, sizeof *scratch);
    int z = st->req->config->compression;
    int rc = scratch ? SGS_OK
                     : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu values",
                                     st->summary.n_customers);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK)
        rc = write_customers_group(f, st, z, scratch, err);
    sgs_free(scratch);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK)
        rc = write_rfm_group(f, st, z, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK && st->value.ran)
        rc = write_value_groups(f, st, z, err);
    return sgs_dist_run_agree(st, rc, err);
}

/* The segments' part: /clusters, /profiles and the root attributes (as the models' part). */
static int write_segments_part(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    int rc = SGS_OK;
    if (st->segments.ran)
        rc = sgs_write_segments_h5(f, st, st->req->config->compression, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK)
        rc = write_root_attributes(f, st, err);
    return sgs_dist_run_agree(st, rc, err);
}

/* The stages' part: /stages and /influence (engine/write_actions.c: in a spread run their
 * per-customer columns every process's rows at its offset, the rest the whole base's, agreed
 * as the models' part), written while the opportunity step runs. */
static int write_stages_part(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    return sgs_write_stages_h5(st, f, st->req->config->compression, err);
}

/* The actions part: /backtest/stages, /audit and /opportunities (per-row columns as above). */
static int write_actions_part(hid_t f, const sgs_run_state_t *st, sgs_error_t *err)
{
    int rc = sgs_write_backtest_stages_h5(f, st, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK)
        rc = sgs_write_actions_h5(st, f, st->req->config->compression, err);
    return sgs_dist_run_agree(st, rc, err);
}

/* Create (or open, to add to it) the results file at path, write one part into it, close it;
 * a spread run creates it with every process (MPI-IO) and then writes its strings alone. */
static int write_file_part(const sgs_run_state_t *st, const char *path, int create,
                           int (*part)(hid_t f, const sgs_run_state_t *st, sgs_error_t *err),
                           sgs_error_t *err)
{
    sgs_h5_quiet();
    const int spread = st->dist.size > 1;
    int rc = sgs_h5_output_headroom(path, err);
    if (spread)
        rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        return rc;
    hid_t f = spread ? (create ? sgs_h5_create_shared(path) : sgs_h5_open_shared(path))
                     : sgs_h5_open_output(path, create);
    if (spread && sgs_dist_run_agree(st, f < 0 ? SGS_ECANTCREAT : SGS_OK, err) && f >= 0) {
        sgs_error_t ignored = {0}; /* another process could not: this one's file goes too */
        sgs_h5_finish_output(f, SGS_ECANTCREAT, &ignored);
        return SGS_ECANTCREAT;
    }
    if (f < 0) {
        /* A full disk is that, also when the file cannot even be created: the CSV files are
         * written meanwhile (engine/run_publish.c) and may be the ones that filled it. */
        int os_errno, code = sgs_h5_take_failure(&os_errno);
        const char *what =
            create ? "cannot create HDF5 file" : "cannot open HDF5 file to add to it";
        if (code == SGS_ENOSPACE)
            return sgs_error_set_os(err, SGS_ECANTCREAT, os_errno, path, what);
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: %s", path, what);
    }
    rc = part(f, st, err);
    if (spread && rc != SGS_OK) {
        /* A failure of one process alone (its memory: a small dataset's staging buffer, say)
         * left it with fewer HDF5 calls than the others, and parallel HDF5's close would then
         * wait for ever at a synchronization the processes no longer share: the file is left
         * open, its generation is removed by the publish step (engine/dist_publish.h). */
        sgs_error_prefix(err, "writing results to %s", st->req->output_path);
        return rc;
    }
    rc = sgs_h5_finish_output(f, rc, err);
    if (spread) { /* every process's outcome, then process 0's second pass */
        rc = sgs_dist_run_agree(st, rc, err);
        if (rc == SGS_OK && part == write_segments_part)
            rc = sgs_dist_run_agree(st, write_strings_alone(st, path, err), err);
    }
    if (rc != SGS_OK && rc != SGS_ENOSPACE) /* that one names the file already */
        sgs_error_prefix(err, "writing results to %s", st->req->output_path);
    return rc;
}

int sgs_write_results_models_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    return write_file_part(st, path, 1, write_models_part, err);
}

int sgs_write_results_segments_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    return write_file_part(st, path, 0, write_segments_part, err);
}

int sgs_write_results_stages_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    if (!st->actions)
        return SGS_OK;
    return write_file_part(st, path, 0, write_stages_part, err);
}

int sgs_write_results_actions_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err)
{
    if (!st->actions)
        return SGS_OK;
    return write_file_part(st, path, 0, write_actions_part, err);
}
