/*
 * io/h5_measure_file.c — a measurement read back (io/h5_measure_file.h).
 */
#include "io/h5_measure_file.h"

#include "io/h5_columns.h"
#include "io/h5_crash.h"
#include "io/h5_own_file.h"

#include <hdf5.h>
#include <string.h>

/* The columns read, per table: /kinds then /lines. */
enum { K_KIND, K_NT, K_NC, K_INC, K_LO, K_HI, K_ASSUMED, K_CONCLUSIVE, K_REASON, K_COUNT };
enum { L_KIND, L_CHANNEL, L_DIFF, L_LO, L_HI, L_CONCLUSIVE, L_COUNT };
enum { S_KIND, S_SEGMENT, S_CHANNEL, S_HI, S_CONCLUSIVE, S_COUNT };

static const struct column {
    const char *path;
    sgs_h5_type_t type;
} kinds_cols[K_COUNT] = {{"/kinds/kind", SGS_H5_U8},
                         {"/kinds/n_treated", SGS_H5_I64},
                         {"/kinds/n_control", SGS_H5_I64},
                         {"/kinds/incremental_revenue", SGS_H5_F64},
                         {"/kinds/lo", SGS_H5_F64},
                         {"/kinds/hi", SGS_H5_F64},
                         {"/kinds/assumed_value", SGS_H5_F64},
                         {"/kinds/conclusive", SGS_H5_U8},
                         {"/kinds/reason", SGS_H5_U8}},
  lines_cols[L_COUNT] = {{"/lines/kind", SGS_H5_U8},
                         {"/lines/channel", SGS_H5_U8},
                         {"/lines/revenue_per_customer/diff", SGS_H5_F64},
                         {"/lines/revenue_per_customer/lo", SGS_H5_F64},
                         {"/lines/revenue_per_customer/hi", SGS_H5_F64},
                         {"/lines/revenue_per_customer/conclusive", SGS_H5_U8}},
  segment_cols[S_COUNT] = {{"/segment_lines/kind", SGS_H5_U8},
                           {"/segment_lines/rfm_segment", SGS_H5_U8},
                           {"/segment_lines/channel", SGS_H5_U8},
                           {"/segment_lines/hi", SGS_H5_F64},
                           {"/segment_lines/conclusive", SGS_H5_U8}};

/* Every column of a table, of equal lengths, into cols[] (freed by the caller). */
static int read_table(hid_t f, const char *path, const struct column *spec, int n_cols, void **cols,
                      size_t *n_rows, sgs_error_t *err)
{
    size_t n0 = 0;
    for (int k = 0; k < n_cols; k++) {
        int rc = sgs_h5_own_exists(f, path, spec[k].path, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return sgs_error_set(err, SGS_EDATA,
                                 "%s: %s is missing: not a measurement written by segscore "
                                 "measure -o",
                                 path, spec[k].path);
        size_t n = 0;
        rc = sgs_h5_read_column(f, spec[k].path, spec[k].type, &cols[k], &n, err);
        if (rc != SGS_OK)
            return rc;
        if (k > 0 && n != n0)
            return sgs_error_set(err, SGS_EDATA, "%s: %s has %zu rows but %s has %zu", path,
                                 spec[k].path, n, spec[0].path, n0);
        n0 = n;
    }
    *n_rows = n0;
    return SGS_OK;
}

static int read_day(hid_t f, const char *path, const char *name, int32_t *day, sgs_error_t *err)
{
    int64_t v = 0;
    int rc = sgs_h5_attr_read_int64(f, "/", name, &v, err);
    if (rc != SGS_OK)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /@%s is missing: not a measurement written by segscore "
                             "measure -o",
                             path, name);
    if (v < INT32_MIN + 1 || v > INT32_MAX)
        return sgs_error_set(err, SGS_EDATA, "%s: /@%s = %lld is not a day", path, name,
                             (long long)v);
    *day = (int32_t)v;
    return SGS_OK;
}

static int fill_kinds(const char *path, void **c, size_t n, sgs_measure_file_t *out,
                      sgs_error_t *err)
{
    const uint8_t *kind = c[K_KIND];
    for (size_t r = 0; r < n; r++) {
        if (kind[r] < 1 || kind[r] >= SGS_MEASURE_FILE_KINDS || out->kind[kind[r]].listed)
            return sgs_error_set(
                err, SGS_EDATA, "%s: /kinds/kind: row %zu: kind %u %s", path, r, (unsigned)kind[r],
                kind[r] >= 1 && kind[r] < SGS_MEASURE_FILE_KINDS ? "appears twice" : "is not 1..9");
        sgs_measure_file_kind_t *k = &out->kind[kind[r]];
        k->listed = 1;
        k->n_treated = ((const int64_t *)c[K_NT])[r];
        k->n_control = ((const int64_t *)c[K_NC])[r];
        k->incremental_revenue = ((const double *)c[K_INC])[r];
        k->lo = ((const double *)c[K_LO])[r];
        k->hi = ((const double *)c[K_HI])[r];
        k->assumed_value = ((const double *)c[K_ASSUMED])[r];
        k->conclusive = ((const uint8_t *)c[K_CONCLUSIVE])[r] != 0;
        k->reason = ((const uint8_t *)c[K_REASON])[r];
    }
    return SGS_OK;
}

static int fill_lines(const char *path, void **c, size_t n, sgs_measure_file_t *out,
                      sgs_error_t *err)
{
    const uint8_t *kind = c[L_KIND], *channel = c[L_CHANNEL];
    for (size_t r = 0; r < n; r++) {
        if (kind[r] < 1 || kind[r] >= SGS_MEASURE_FILE_KINDS || !out->kind[kind[r]].listed)
            return sgs_error_set(err, SGS_EDATA,
                                 "%s: /lines/kind: row %zu: kind %u is not a kind of /kinds", path,
                                 r, (unsigned)kind[r]);
        if (channel[r] >= SGS_MEASURE_FILE_CHANNELS)
            return sgs_error_set(err, SGS_EDATA, "%s: /lines/channel: row %zu: %u is not 0..8",
                                 path, r, (unsigned)channel[r]);
        sgs_measure_file_kind_t *k = &out->kind[kind[r]];
        int ch = channel[r];
        k->has_line[ch] = 1;
        k->revenue_diff[ch] = ((const double *)c[L_DIFF])[r];
        k->revenue_lo[ch] = ((const double *)c[L_LO])[r];
        k->revenue_hi[ch] = ((const double *)c[L_HI])[r];
        k->revenue_conclusive[ch] = ((const uint8_t *)c[L_CONCLUSIVE])[r] != 0;
    }
    return SGS_OK;
}

static int fill_segment_lines(const char *path, void **c, size_t n, sgs_measure_file_t *out,
                              sgs_error_t *err)
{
    const uint8_t *kind = c[S_KIND], *seg = c[S_SEGMENT], *channel = c[S_CHANNEL];
    for (size_t r = 0; r < n; r++) {
        if (kind[r] < 1 || kind[r] >= SGS_MEASURE_FILE_KINDS ||
            seg[r] >= SGS_MEASURE_FILE_RFM_GROUPS || channel[r] >= SGS_MEASURE_FILE_CHANNELS)
            return sgs_error_set(err, SGS_EDATA,
                                 "%s: /segment_lines: row %zu: kind %u, RFM segment %u, channel %u "
                                 "out of range",
                                 path, r, (unsigned)kind[r], (unsigned)seg[r],
                                 (unsigned)channel[r]);
        sgs_measure_file_kind_t *k = &out->kind[kind[r]];
        k->seg_conclusive[seg[r]][channel[r]] = ((const uint8_t *)c[S_CONCLUSIVE])[r] != 0;
        k->seg_revenue_hi[seg[r]][channel[r]] = ((const double *)c[S_HI])[r];
    }
    out->has_segment_lines = 1;
    return SGS_OK;
}

int sgs_h5_read_measure_file(const char *path, sgs_measure_file_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    void *kc[K_COUNT] = {0}, *lc[L_COUNT] = {0}, *sc[S_COUNT] = {0};
    size_t nk = 0, nl = 0, ns = 0;
    int segments = 0;
    hid_t f = -1;
    sgs_h5_crash_arm(path);
    int rc =
        sgs_h5_open_own(path, "measure", &f, out->engine_version, sizeof out->engine_version, err);
    if (rc == SGS_OK)
        rc = read_day(f, path, "as_of_day", &out->as_of_day, err);
    if (rc == SGS_OK)
        rc = read_day(f, path, "window_last_day", &out->window_last_day, err);
    if (rc == SGS_OK)
        rc = read_table(f, path, kinds_cols, K_COUNT, kc, &nk, err);
    if (rc == SGS_OK)
        rc = read_table(f, path, lines_cols, L_COUNT, lc, &nl, err);
    if (rc == SGS_OK)
        rc = segments = sgs_h5_own_exists(f, path, "/segment_lines", err);
    if (rc > 0)
        rc = read_table(f, path, segment_cols, S_COUNT, sc, &ns, err);
    if (f >= 0)
        H5Fclose(f);
    sgs_h5_crash_disarm();
    if (rc == SGS_OK)
        rc = fill_kinds(path, kc, nk, out, err);
    if (rc == SGS_OK)
        rc = fill_lines(path, lc, nl, out, err);
    if (rc == SGS_OK && segments)
        rc = fill_segment_lines(path, sc, ns, out, err);
    for (int k = 0; k < S_COUNT; k++)
        sgs_free(sc[k]);
    for (int k = 0; k < K_COUNT; k++)
        sgs_free(kc[k]);
    for (int k = 0; k < L_COUNT; k++)
        sgs_free(lc[k]);
    return rc;
}
