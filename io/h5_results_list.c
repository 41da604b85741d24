/*
 * io/h5_results_list.c — the opportunity list of an earlier run's results file
 * (io/h5_results_list.h).
 */
#include "io/h5_results_list.h"

#include "io/h5_columns.h"
#include "io/h5_crash.h"
#include "io/h5_own_file.h"
#include "kernels/dates.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sgs_results_list_free(sgs_results_list_t *l)
{
    if (!l)
        return;
    sgs_free(l->customer_id);
    sgs_free(l->kind);
    sgs_free(l->channel);
    sgs_free(l->group);
    sgs_free(l->value_at_stake);
    sgs_free(l->buyer_id);
    sgs_free(l->buyer_rfm);
    memset(l, 0, sizeof *l);
}

static int read_as_of(hid_t f, const char *path, sgs_results_list_t *out, sgs_error_t *err)
{
    if (H5Aexists_by_name(f, "/", "as_of", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /@as_of is missing: the run's as-of date is needed to know "
                             "where the outcome window starts",
                             path);
    }
    char text[64];
    int rc = sgs_h5_attr_read_string(f, "/", "as_of", text, sizeof text, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "%s", path);
        return rc;
    }
    int64_t day;
    if (sgs_date_parse_day(text, &day) != SGS_OK)
        return sgs_error_set(err, SGS_EDATA, "%s: /@as_of \"%s\" is not a date YYYY-MM-DD", path,
                             text);
    out->as_of_day = (int32_t)day;
    return SGS_OK;
}

/* Check a uint8 column's values against [lo, hi], naming the first row outside. */
static int check_range(const char *path, const char *dataset, const uint8_t *v, size_t n,
                       unsigned lo, unsigned hi, const char *what, sgs_error_t *err)
{
    for (size_t r = 0; r < n; r++)
        if (v[r] < lo || v[r] > hi)
            return sgs_error_set(err, SGS_EDATA, "%s: %s: row %zu: %s %u is not %u..%u", path,
                                 dataset, r, what, (unsigned)v[r], lo, hi);
    return SGS_OK;
}

static int read_columns(hid_t f, const char *path, sgs_results_list_t *out, sgs_error_t *err)
{
    static const char *const names[5] = {"/opportunities/customer_id", "/opportunities/kind",
                                         "/opportunities/channel", "/opportunities/group",
                                         "/opportunities/value_at_stake"};
    int rc = sgs_h5_own_exists(f, path, "/opportunities", err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /opportunities is missing: not the results file of a run "
                             "(segscore run writes the list there)",
                             path);
    for (int k = 0; k < 5; k++) {
        rc = sgs_h5_own_exists(f, path, names[k], err);
        if (rc < 0)
            return rc;
        if (rc == 0 && k == 3)
            return sgs_error_set(err, SGS_EDATA,
                                 "%s: /opportunities/group is missing: written by segscore %s "
                                 "before control groups (issue 15); run segscore run again "
                                 "with this engine (%s) to get a list with groups",
                                 path, out->engine_version, SGS_VERSION);
        if (rc == 0)
            return sgs_error_set(err, SGS_EDATA, "%s: %s is missing", path, names[k]);
    }
    void *cols[5] = {NULL, NULL, NULL, NULL, NULL};
    size_t n[5] = {0, 0, 0, 0, 0};
    const sgs_h5_type_t types[5] = {SGS_H5_I64, SGS_H5_U8, SGS_H5_U8, SGS_H5_U8, SGS_H5_F64};
    for (int k = 0; k < 5 && rc >= 0; k++)
        rc = sgs_h5_read_column(f, names[k], types[k], &cols[k], &n[k], err);
    out->customer_id = cols[0];
    out->kind = cols[1];
    out->channel = cols[2];
    out->group = cols[3];
    out->value_at_stake = cols[4];
    if (rc < 0)
        return rc;
    for (int k = 1; k < 5; k++)
        if (n[k] != n[0])
            return sgs_error_set(err, SGS_EDATA,
                                 "%s: %s has %zu rows but /opportunities/customer_id has %zu", path,
                                 names[k], n[k], n[0]);
    out->n_rows = n[0];
    rc = check_range(path, names[1], out->kind, n[0], 1, 9, "kind", err);
    if (rc == SGS_OK)
        rc = check_range(path, names[2], out->channel, n[0], 0, 7, "channel", err);
    if (rc == SGS_OK)
        rc = check_range(path, names[3], out->group, n[0], 0, 1, "group", err);
    for (size_t r = 0; rc == SGS_OK && r < n[0]; r++)
        if (!isfinite(out->value_at_stake[r]))
            rc = sgs_error_set(err, SGS_EDATA, "%s: %s: row %zu: %g is not a finite amount", path,
                               names[4], r, out->value_at_stake[r]);
    return rc;
}

/* The buyers' RFM segments, when the file has them (an older or hand-made list may not). */
static int read_buyers(hid_t f, const char *path, sgs_results_list_t *out, sgs_error_t *err)
{
    int rc_id = sgs_h5_own_exists(f, path, "/customers/customer_id", err);
    if (rc_id < 0)
        return rc_id;
    int rc_rfm = sgs_h5_own_exists(f, path, "/rfm/segment", err);
    if (rc_rfm <= 0)
        return rc_rfm;
    if (rc_id == 0)
        return SGS_OK;
    size_t n = 0, m = 0;
    int rc = sgs_h5_read_column(f, "/customers/customer_id", SGS_H5_I64, (void **)&out->buyer_id,
                                &n, err);
    if (rc == SGS_OK)
        rc = sgs_h5_read_column(f, "/rfm/segment", SGS_H5_U8, (void **)&out->buyer_rfm, &m, err);
    if (rc == SGS_OK && m != n)
        rc = sgs_error_set(err, SGS_EDATA,
                           "%s: /rfm/segment has %zu rows but /customers/customer_id has %zu", path,
                           m, n);
    for (size_t r = 1; rc == SGS_OK && r < n; r++)
        if (out->buyer_id[r] <= out->buyer_id[r - 1])
            rc = sgs_error_set(err, SGS_EDATA,
                               "%s: /customers/customer_id: row %zu: not in ascending order", path,
                               r);
    out->n_buyers = n;
    return rc;
}

int sgs_h5_read_results_list(const char *path, sgs_results_list_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    sgs_h5_quiet();
    sgs_h5_crash_arm(path);
    hid_t f = -1;
    int rc =
        sgs_h5_open_own(path, "results", &f, out->engine_version, sizeof out->engine_version, err);
    if (rc == SGS_OK)
        rc = read_as_of(f, path, out, err);
    if (rc == SGS_OK)
        rc = read_columns(f, path, out, err);
    if (rc == SGS_OK)
        rc = read_buyers(f, path, out, err);
    if (f >= 0)
        H5Fclose(f);
    sgs_h5_crash_disarm();
    if (rc != SGS_OK)
        sgs_results_list_free(out);
    return rc;
}
