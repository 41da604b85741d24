/*
 * io/h5_results_list.c — the opportunity list of an earlier run's results file
 * (io/h5_results_list.h).
 */
#include "io/h5_results_list.h"

#include "io/h5_columns.h"
#include "io/h5_crash.h"
#include "io/h5_guard.h"
#include "kernels/dates.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void sgs_results_list_free(sgs_results_list_t *l)
{
    if (!l)
        return;
    sgs_free(l->customer_id);
    sgs_free(l->kind);
    sgs_free(l->channel);
    sgs_free(l->group);
    sgs_free(l->value_at_stake);
    memset(l, 0, sizeof *l);
}

/* Open read-only as every input is opened (io/h5_matrix.c): 66 when missing or not HDF5,
 * else the guard's classification of a failed open. */
static int open_results(const char *path, hid_t *out, sgs_error_t *err)
{
    *out = -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return sgs_error_set(err, SGS_ENOINPUT, "%s: no such file", path);
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs_error_set(err, SGS_ENOINPUT, "%s: not an HDF5 file (or not readable)", path);
    }
    *out = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*out < 0) {
        sgs_h5_refusal_t why;
        int code = sgs_h5_guard_open_failure(path, &why);
        return sgs_error_set(err, code, "%s: %s", path, why.text);
    }
    return SGS_OK;
}

/* 1 when the object at `path` exists (every component checked, links guarded), 0 when not,
 * negative with err set when a link leaves the file. */
static int exists(hid_t f, const char *file_name, const char *path, sgs_error_t *err)
{
    sgs_h5_refusal_t why;
    if (sgs_h5_guard_path(f, path, &why) != SGS_OK)
        return sgs_error_set(err, why.code, "%s: %s: %s", file_name, path, why.text);
    char part[256];
    for (const char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            snprintf(part, sizeof part, "%.*s", (int)(p - path), path);
            if (H5Lexists(f, part, H5P_DEFAULT) <= 0) {
                H5Eclear2(H5E_DEFAULT);
                return 0;
            }
            if (*p == '\0')
                return 1;
        }
    }
}

/* The version rule (header): present, and not of a newer major.minor than this engine. */
static int check_version(hid_t f, const char *path, sgs_results_list_t *out, sgs_error_t *err)
{
    if (H5Aexists_by_name(f, "/", "engine_version", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /@engine_version is missing: not a segscore results file, or "
                             "one from an engine older than 0.1.0; run segscore run again with "
                             "this engine (%s)",
                             path, SGS_VERSION);
    }
    int rc = sgs_h5_attr_read_string(f, "/", "engine_version", out->engine_version,
                                     sizeof out->engine_version, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "%s", path);
        return rc;
    }
    unsigned f_major, f_minor, my_major, my_minor;
    if (sscanf(out->engine_version, "%u.%u", &f_major, &f_minor) != 2)
        return sgs_error_set(err, SGS_EDATA, "%s: /@engine_version \"%s\" is not a version", path,
                             out->engine_version);
    if (sscanf(SGS_VERSION, "%u.%u", &my_major, &my_minor) == 2 &&
        (f_major > my_major || (f_major == my_major && f_minor > my_minor)))
        return sgs_error_set(err, SGS_EDATA,
                             "%s: written by segscore %s, newer than this engine (%s): its layout "
                             "may differ; measure it with segscore %s or later",
                             path, out->engine_version, SGS_VERSION, out->engine_version);
    return SGS_OK;
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
    int rc = exists(f, path, "/opportunities", err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /opportunities is missing: not the results file of a run "
                             "(segscore run writes the list there)",
                             path);
    for (int k = 0; k < 5; k++) {
        rc = exists(f, path, names[k], err);
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

int sgs_h5_read_results_list(const char *path, sgs_results_list_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    sgs_h5_quiet();
    sgs_h5_crash_arm(path);
    hid_t f = -1;
    int rc = open_results(path, &f, err);
    if (rc == SGS_OK)
        rc = check_version(f, path, out, err);
    if (rc == SGS_OK)
        rc = read_as_of(f, path, out, err);
    if (rc == SGS_OK)
        rc = read_columns(f, path, out, err);
    if (f >= 0)
        H5Fclose(f);
    sgs_h5_crash_disarm();
    if (rc != SGS_OK)
        sgs_results_list_free(out);
    return rc;
}
