/*
 * tests/e2e/test_run_learn.c — `segscore run --learn-from`: a list, its measurement
 * (`segscore measure -o`), and a later run that learns from it, checked against the same run
 * without learning: every listed (customer, kind) keeps its place in the list and its value at
 * stake is the unlearned one times the kind's learned scale, which is measured / assumed from
 * the measurement file exactly where that file says conclusive and 1 elsewhere; a channel
 * measured to lose money for a kind (the measurement edited here) is never used for it, nor
 * one measured so for a kind in one RFM segment for that segment's customers; measure's lines
 * per RFM segment count the list's rows of each kind and segment exactly; and
 * the errors: a measurement of outcomes after the run's as-of date, a file that is not a
 * measurement, a missing file, each with its exit status and yesterday's outputs intact.
 * Input: `segscore generate` (20,000 buyers, seed 5); lists of 2024-03-31 and 2024-06-30.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "io/html_doc.h"
#include "kernels/opportunities.h"
#include "kernels/rfm.h"
#include "kernels/tables.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256], gen[512], measure[600];

/* Every channel unlimited, no channel left for being unanswered, every kind listed: the rows
 * are the same with and without learning, only their values and order change, and each row
 * goes through its customer's own channel unless learning avoids it. */
#define LIST_ARGS                                                                                  \
    "--model bgnbd --set segments.enabled=false --all-opportunities "                              \
    "--set actions.capacity.phone=-1 --set actions.max_unanswered_contacts=0"

static void run_ok(const char *args)
{
    char out[8192];
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("segscore %s failed (%d): %s", args, status, out);
}

/* A run as of 2024-06-30 into dir/<name>, with extra arguments. */
static void later_run(const char *name, const char *extra)
{
    char sub[512], args[2048];
    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    mkdir(sub, 0755);
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s/results.h5' --as-of 2024-06-30 " LIST_ARGS " %s", gen, sub,
             extra);
    run_ok(args);
}

static cJSON *summary_of(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, name);
    return sgs_test_read_json(path);
}

typedef struct list {
    size_t n;
    int64_t *id;
    uint8_t *kind, *channel;
    double *value;
} list_t;

static list_t read_list(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s/results.h5", dir, name);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    list_t l;
    l.id = sgs_test_column(f, "/opportunities/customer_id", SGS_H5_I64, &l.n);
    l.kind = sgs_test_column(f, "/opportunities/kind", SGS_H5_U8, &l.n);
    l.channel = sgs_test_column(f, "/opportunities/channel", SGS_H5_U8, &l.n);
    l.value = sgs_test_column(f, "/opportunities/value_at_stake", SGS_H5_F64, &l.n);
    H5Fclose(f);
    return l;
}

static void free_list(list_t *l)
{
    free(l->id);
    free(l->kind);
    free(l->channel);
    free(l->value);
}

/* Row of (id, kind) in l, or -1 (a linear scan: lists of a few thousand rows). */
static long row_of(const list_t *l, int64_t id, uint8_t kind)
{
    for (size_t r = 0; r < l->n; r++)
        if (l->id[r] == id && l->kind[r] == kind)
            return (long)r;
    return -1;
}

/* measured / assumed per kind from the measurement file, NaN where it is not conclusive. */
static void expected_scales(const char *path, double scale[SGS_OPP_KIND_COUNT])
{
    for (int k = 0; k < SGS_OPP_KIND_COUNT; k++)
        scale[k] = 1.0;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n;
    uint8_t *kind = sgs_test_column(f, "/kinds/kind", SGS_H5_U8, &n);
    uint8_t *conclusive = sgs_test_column(f, "/kinds/conclusive", SGS_H5_U8, &n);
    int64_t *nt = sgs_test_column(f, "/kinds/n_treated", SGS_H5_I64, &n);
    double *inc = sgs_test_column(f, "/kinds/incremental_revenue", SGS_H5_F64, &n);
    double *assumed = sgs_test_column(f, "/kinds/assumed_value", SGS_H5_F64, &n);
    H5Fclose(f);
    for (size_t r = 0; r < n; r++)
        if (conclusive[r])
            scale[kind[r]] = inc[r] / (double)nt[r] / assumed[r];
    sgs_free(kind);
    sgs_free(conclusive);
    sgs_free(nt);
    sgs_free(inc);
    sgs_free(assumed);
}

/* The measured-impact chart of report.html: one bar per kind of the measurement with treated
 * customers, valued at incremental revenue / treated, with data-lo and data-hi the interval
 * per treated customer (2 decimals, as the chart writes them). */
static void check_impact_chart(const char *html, const char *path)
{
    const char *fig = strstr(html, "<figure class=\"chart\" id=\"chart-measured-impact\">");
    assert_non_null(fig);
    const char *end = strstr(fig, "</figure>");
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n;
    uint8_t *kind = sgs_test_column(f, "/kinds/kind", SGS_H5_U8, &n);
    int64_t *nt = sgs_test_column(f, "/kinds/n_treated", SGS_H5_I64, &n);
    double *inc = sgs_test_column(f, "/kinds/incremental_revenue", SGS_H5_F64, &n);
    double *lo = sgs_test_column(f, "/kinds/lo", SGS_H5_F64, &n);
    double *hi = sgs_test_column(f, "/kinds/hi", SGS_H5_F64, &n);
    H5Fclose(f);
    size_t checked = 0;
    for (size_t r = 0; r < n; r++) {
        if (nt[r] <= 0)
            continue;
        char want[256], v[48], a[48], b[48];
        double per = 1.0 / (double)nt[r];
        sgs_html_number(inc[r] * per, 2, v, sizeof v);
        if (isfinite(lo[r]) && isfinite(hi[r]))
            snprintf(want, sizeof want,
                     "data-label=\"%s\" data-value=\"%s\" data-series=\"measured\" "
                     "data-lo=\"%s\" data-hi=\"%s\"",
                     sgs_opportunity_kind_name(kind[r]), v,
                     sgs_html_number(lo[r] * per, 2, a, sizeof a),
                     sgs_html_number(hi[r] * per, 2, b, sizeof b));
        else /* nothing measured (no control group): no interval drawn */
            snprintf(want, sizeof want,
                     "data-label=\"%s\" data-value=\"%s\" data-series=\"measured\" x=",
                     sgs_opportunity_kind_name(kind[r]), v);
        const char *at = strstr(fig, want);
        if (!at || at > end)
            fail_msg("measured-impact: no mark %s", want);
        checked++;
    }
    sgs_assert_cmp(checked, >=, 2);
    sgs_free(kind);
    sgs_free(nt);
    sgs_free(inc);
    sgs_free(lo);
    sgs_free(hi);
}

static void test_values_are_scaled_where_conclusive(void **state)
{
    (void)state;
    later_run("plain", "");
    char extra[700];
    snprintf(extra, sizeof extra, "--learn-from '%s'", measure);
    later_run("learned", extra);
    double scale[SGS_OPP_KIND_COUNT];
    expected_scales(measure, scale);
    int applied = 0, kept = 0;
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        applied += scale[k] != 1.0;
        kept += scale[k] == 1.0;
    }
    sgs_assert_cmp(applied, >=, 2); /* the input gives both cases */
    sgs_assert_cmp(kept, >=, 2);

    cJSON *sum = summary_of("learned");
    const cJSON *per_kind = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "opportunities"), "learned"), "per_kind");
    assert_non_null(per_kind);
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        const cJSON *c = cJSON_GetObjectItem(per_kind, sgs_opportunity_kind_name(k));
        assert_non_null(c);
        sgs_assert_close(cJSON_GetObjectItem(c, "value_scale")->valuedouble, scale[k], 0, 1e-12);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(c, "applied")), scale[k] != 1.0);
        assert_int_equal(cJSON_IsString(cJSON_GetObjectItem(c, "kept_because")), scale[k] == 1.0);
    }
    cJSON_Delete(sum);

    list_t a = read_list("plain"), b = read_list("learned");
    assert_int_equal(a.n, b.n);
    sgs_assert_cmp(a.n, >, 1000);
    for (size_t r = 0; r < b.n; r++) {
        long ra = row_of(&a, b.id[r], b.kind[r]);
        sgs_assert_cmp(ra, >=, 0);
        double want = a.value[ra] * scale[b.kind[r]];
        sgs_assert_close(b.value[r], want == 0.0 ? 0.0 : want, 1e-9, 1e-12);
    }
    char path[700];
    snprintf(path, sizeof path, "%s/learned/report.txt", dir);
    char *report = sgs_test_read_file(path, NULL);
    sgs_assert_contains(report, "Learned from");
    sgs_assert_contains(report, "assumption kept:");
    sgs_assert_contains(report, "against");
    free(report);
    /* report.html says the same (docs/report.md) */
    snprintf(path, sizeof path, "%s/learned/report.html", dir);
    report = sgs_test_read_file(path, NULL);
    assert_non_null(report);
    sgs_assert_contains(report, "What the run learned from a measurement");
    check_impact_chart(report, measure);
    sgs_assert_contains(report, "Learned from");
    sgs_assert_contains(report, "assumption kept:");
    free(report);
    free_list(&a);
    free_list(&b);
}

/* RFM segment of each listed row of results file `path` (SGS_RFM_SEGMENT_COUNT: no purchase). */
static uint8_t *rfm_of_rows(const char *path, const list_t *l)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t nb;
    int64_t *bid = sgs_test_column(f, "/customers/customer_id", SGS_H5_I64, &nb);
    uint8_t *seg = sgs_test_column(f, "/rfm/segment", SGS_H5_U8, &nb);
    H5Fclose(f);
    uint8_t *out = malloc(l->n ? l->n : 1);
    for (size_t r = 0; r < l->n; r++) {
        long b = sgs_test_find_id(bid, nb, l->id[r]);
        out[r] = b >= 0 ? seg[b] : (uint8_t)SGS_RFM_SEGMENT_COUNT;
    }
    sgs_free(bid);
    sgs_free(seg);
    return out;
}

/* Measure's revenue lines per RFM segment count exactly the list's rows of each (kind, RFM
 * segment) and add up, over the segments, to its lines per kind and channel. */
static void test_segment_lines_follow_the_list(void **state)
{
    (void)state;
    char first[600];
    snprintf(first, sizeof first, "%s/first/results.h5", dir);
    hid_t f = H5Fopen(first, H5F_ACC_RDONLY, H5P_DEFAULT);
    list_t l;
    l.id = sgs_test_column(f, "/opportunities/customer_id", SGS_H5_I64, &l.n);
    l.kind = sgs_test_column(f, "/opportunities/kind", SGS_H5_U8, &l.n);
    l.channel = sgs_test_column(f, "/opportunities/channel", SGS_H5_U8, &l.n);
    l.value = NULL;
    uint8_t *group = sgs_test_column(f, "/opportunities/group", SGS_H5_U8, &l.n);
    H5Fclose(f);
    uint8_t *rfm = rfm_of_rows(first, &l);
    int64_t want[SGS_OPP_KIND_COUNT][SGS_RFM_SEGMENT_COUNT + 1] = {{0}};
    for (size_t r = 0; r < l.n; r++)
        want[l.kind[r]][rfm[r]] += group[r] == 0;
    f = H5Fopen(measure, H5F_ACC_RDONLY, H5P_DEFAULT);
    size_t ns, nl;
    uint8_t *sk = sgs_test_column(f, "/segment_lines/kind", SGS_H5_U8, &ns);
    uint8_t *ss = sgs_test_column(f, "/segment_lines/rfm_segment", SGS_H5_U8, &ns);
    uint8_t *sc = sgs_test_column(f, "/segment_lines/channel", SGS_H5_U8, &ns);
    int64_t *snt = sgs_test_column(f, "/segment_lines/n_treated", SGS_H5_I64, &ns);
    uint8_t *lk = sgs_test_column(f, "/lines/kind", SGS_H5_U8, &nl);
    uint8_t *lc = sgs_test_column(f, "/lines/channel", SGS_H5_U8, &nl);
    int64_t *lnt = sgs_test_column(f, "/lines/n_treated", SGS_H5_I64, &nl);
    H5Fclose(f);
    int64_t got[SGS_OPP_KIND_COUNT][SGS_RFM_SEGMENT_COUNT + 1] = {{0}};
    int64_t by_channel[SGS_OPP_KIND_COUNT][SGS_CHANNEL_COUNT + 1] = {{0}};
    for (size_t r = 0; r < ns; r++) {
        by_channel[sk[r]][sc[r]] += snt[r];
        if (sc[r] == SGS_CHANNEL_COUNT) /* the all-channel line */
            got[sk[r]][ss[r]] = snt[r];
    }
    assert_memory_equal(got, want, sizeof got);
    for (size_t r = 0; r < nl; r++)
        assert_int_equal(by_channel[lk[r]][lc[r]], lnt[r]);
    sgs_assert_cmp(ns, >, nl);
    sgs_free(group);
    free(rfm);
    sgs_free(sk);
    sgs_free(ss);
    sgs_free(sc);
    sgs_free(snt);
    sgs_free(lk);
    sgs_free(lc);
    sgs_free(lnt);
    free(l.id);
    free(l.kind);
    free(l.channel);
}

/* The measurement with win_back through email made conclusive and below zero. */
static void test_a_losing_channel_is_avoided(void **state)
{
    (void)state;
    char edited[600], cmd[1400], out[256];
    snprintf(edited, sizeof edited, "%s/edited.h5", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", measure, edited);
    assert_int_equal(sgs_test_shell(cmd, out, sizeof out), 0);
    hid_t f = H5Fopen(edited, H5F_ACC_RDWR, H5P_DEFAULT);
    size_t n;
    uint8_t *kind = sgs_test_column(f, "/lines/kind", SGS_H5_U8, &n);
    uint8_t *channel = sgs_test_column(f, "/lines/channel", SGS_H5_U8, &n);
    uint8_t *conclusive =
        sgs_test_column(f, "/lines/revenue_per_customer/conclusive", SGS_H5_U8, &n);
    double *hi = sgs_test_column(f, "/lines/revenue_per_customer/hi", SGS_H5_F64, &n);
    int found = 0;
    for (size_t r = 0; r < n; r++)
        if (kind[r] == SGS_OPP_WIN_BACK && channel[r] == SGS_CHANNEL_EMAIL) {
            conclusive[r] = 1;
            hi[r] = -0.5;
            found = 1;
        }
    if (!found)
        fail_msg("no line of win_back by email among the %zu of /lines", n);
    hid_t d = H5Dopen2(f, "/lines/revenue_per_customer/conclusive", H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, conclusive), >=, 0);
    H5Dclose(d);
    d = H5Dopen2(f, "/lines/revenue_per_customer/hi", H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, hi), >=, 0);
    H5Dclose(d);
    H5Fclose(f);
    sgs_free(kind);
    sgs_free(channel);
    sgs_free(conclusive);
    sgs_free(hi);

    char extra[700];
    snprintf(extra, sizeof extra, "--learn-from '%s'", edited);
    later_run("avoid", extra);
    list_t l = read_list("avoid");
    size_t win_back = 0;
    for (size_t r = 0; r < l.n; r++)
        if (l.kind[r] == SGS_OPP_WIN_BACK) {
            win_back++;
            assert_int_not_equal(l.channel[r], SGS_CHANNEL_EMAIL);
        }
    sgs_assert_cmp(win_back, >, 100);
    list_t plain = read_list("plain");
    size_t email_other = 0, email_before = 0;
    for (size_t r = 0; r < plain.n; r++) {
        email_before += plain.kind[r] == SGS_OPP_WIN_BACK && plain.channel[r] == SGS_CHANNEL_EMAIL;
        email_other += plain.kind[r] != SGS_OPP_WIN_BACK && plain.channel[r] == SGS_CHANNEL_EMAIL;
    }
    sgs_assert_cmp(email_before, >, 0); /* email was used for win_back before */
    size_t email_other_now = 0;
    for (size_t r = 0; r < l.n; r++)
        email_other_now += l.kind[r] != SGS_OPP_WIN_BACK && l.channel[r] == SGS_CHANNEL_EMAIL;
    assert_int_equal(email_other_now, email_other); /* other kinds keep email */
    cJSON *sum = summary_of("avoid");
    const cJSON *learned =
        cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "opportunities"), "learned");
    sgs_assert_cmp(cJSON_GetObjectItem(learned, "rows_moved_off_avoided_channel")->valuedouble, ==,
                   (double)email_before);
    const cJSON *av = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(learned, "per_kind"), "win_back"),
        "avoided_channels");
    assert_int_equal(cJSON_GetArraySize(av), 1);
    assert_string_equal(cJSON_GetArrayItem(av, 0)->valuestring, "email");
    cJSON_Delete(sum);
    free_list(&l);
    free_list(&plain);
}

/* The measurement with win_back through email made conclusive and below zero for the
 * customers of one RFM segment only: they are not contacted through email for win_back,
 * the other segments' customers are as before. */
static void test_a_losing_channel_is_avoided_in_one_segment(void **state)
{
    (void)state;
    char edited[600], cmd[1400], out[256];
    snprintf(edited, sizeof edited, "%s/edited-segment.h5", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", measure, edited);
    assert_int_equal(sgs_test_shell(cmd, out, sizeof out), 0);
    const uint8_t target = SGS_RFM_HIBERNATING;
    hid_t f = H5Fopen(edited, H5F_ACC_RDWR, H5P_DEFAULT);
    size_t n;
    uint8_t *kind = sgs_test_column(f, "/segment_lines/kind", SGS_H5_U8, &n);
    uint8_t *seg = sgs_test_column(f, "/segment_lines/rfm_segment", SGS_H5_U8, &n);
    uint8_t *channel = sgs_test_column(f, "/segment_lines/channel", SGS_H5_U8, &n);
    uint8_t *conclusive = sgs_test_column(f, "/segment_lines/conclusive", SGS_H5_U8, &n);
    double *hi = sgs_test_column(f, "/segment_lines/hi", SGS_H5_F64, &n);
    int found = 0;
    for (size_t r = 0; r < n; r++)
        if (kind[r] == SGS_OPP_WIN_BACK && seg[r] == target && channel[r] == SGS_CHANNEL_EMAIL) {
            conclusive[r] = 1;
            hi[r] = -0.5;
            found = 1;
        }
    if (!found)
        fail_msg("no line of win_back by email in segment %d among the %zu of /segment_lines",
                 (int)target, n);
    hid_t d = H5Dopen2(f, "/segment_lines/conclusive", H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, conclusive), >=, 0);
    H5Dclose(d);
    d = H5Dopen2(f, "/segment_lines/hi", H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, hi), >=, 0);
    H5Dclose(d);
    H5Fclose(f);
    sgs_free(kind);
    sgs_free(seg);
    sgs_free(channel);
    sgs_free(conclusive);
    sgs_free(hi);

    char extra[700], path[700];
    snprintf(extra, sizeof extra, "--learn-from '%s'", edited);
    later_run("avoid-segment", extra);
    list_t l = read_list("avoid-segment"), plain = read_list("plain");
    snprintf(path, sizeof path, "%s/avoid-segment/results.h5", dir);
    uint8_t *rfm = rfm_of_rows(path, &l);
    snprintf(path, sizeof path, "%s/plain/results.h5", dir);
    uint8_t *rfm_plain = rfm_of_rows(path, &plain);
    size_t in_target = 0, email_elsewhere = 0, email_elsewhere_plain = 0, email_target_plain = 0;
    for (size_t r = 0; r < l.n; r++) {
        if (l.kind[r] != SGS_OPP_WIN_BACK)
            continue;
        if (rfm[r] == target) {
            in_target++;
            assert_int_not_equal(l.channel[r], SGS_CHANNEL_EMAIL);
        } else {
            email_elsewhere += l.channel[r] == SGS_CHANNEL_EMAIL;
        }
    }
    for (size_t r = 0; r < plain.n; r++)
        if (plain.kind[r] == SGS_OPP_WIN_BACK && plain.channel[r] == SGS_CHANNEL_EMAIL) {
            email_target_plain += rfm_plain[r] == target;
            email_elsewhere_plain += rfm_plain[r] != target;
        }
    sgs_assert_cmp(in_target, >, 50);
    sgs_assert_cmp(email_target_plain, >, 0);
    assert_int_equal(email_elsewhere, email_elsewhere_plain);
    cJSON *sum = summary_of("avoid-segment");
    const cJSON *learned =
        cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "opportunities"), "learned");
    sgs_assert_cmp(cJSON_GetObjectItem(learned, "rows_moved_off_avoided_channel")->valuedouble, ==,
                   (double)email_target_plain);
    const cJSON *by = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(learned, "per_kind"), "win_back"),
        "avoided_channels_by_rfm_segment");
    const cJSON *hib = cJSON_GetObjectItem(by, sgs_rfm_segment_name(target));
    assert_int_equal(cJSON_GetArraySize(hib), 1);
    assert_string_equal(cJSON_GetArrayItem(hib, 0)->valuestring, "email");
    cJSON_Delete(sum);
    free(rfm);
    free(rfm_plain);
    free_list(&l);
    free_list(&plain);
}

/* Each failure exits with its status, names the problem, and leaves the outputs as they were. */
static void test_errors_leave_outputs_intact(void **state)
{
    (void)state;
    char sub[512], results[600], not_measure[600];
    snprintf(sub, sizeof sub, "%s/plain", dir);
    snprintf(results, sizeof results, "%s/results.h5", sub);
    snprintf(not_measure, sizeof not_measure, "%s/first/results.h5", dir);
    sgs_test_snapshot_t before;
    sgs_test_snapshot(sub, &before);
    const struct {
        const char *as_of, *file;
        int status;
        const char *message;
    } cases[] = {
        {"2024-04-15", measure, 65, "a run cannot learn from what happened after it"},
        {"2024-06-30", not_measure, 65, "not a measurement written by segscore measure -o"},
        {"2024-06-30", "/nonexistent/m.h5", 66, "no such file"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char args[2048], out[8192];
        snprintf(args, sizeof args,
                 "run -q -i '%s' -o '%s' --as-of %s " LIST_ARGS " --learn-from '%s'", gen, results,
                 cases[k].as_of, cases[k].file);
        assert_int_equal(sgs_test_run(args, out, sizeof out), cases[k].status);
        sgs_assert_contains(out, cases[k].message);
        sgs_test_assert_snapshot_unchanged(sub, &before);
    }
    sgs_test_snapshot_free(&before);
}

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-learn", dir, sizeof dir);
    snprintf(gen, sizeof gen, "%s/gen.h5", dir);
    snprintf(measure, sizeof measure, "%s/measure.h5", dir);
    char args[2048], out[8192], first[512];
    snprintf(args, sizeof args, "generate -q --customers 20000 --seed 5 -o '%s'", gen);
    if (sgs_test_run(args, out, sizeof out) != 0)
        return -1;
    snprintf(first, sizeof first, "%s/first", dir);
    mkdir(first, 0755);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --as-of 2024-03-31 " LIST_ARGS,
             gen, first);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        print_error("run failed: %s\n", out);
        return -1;
    }
    snprintf(args, sizeof args, "measure -q -r '%s/results.h5' -i '%s' --days 60 -o '%s'", first,
             gen, measure);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        print_error("measure failed: %s\n", out);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_are_scaled_where_conclusive),
        cmocka_unit_test(test_a_losing_channel_is_avoided),
        cmocka_unit_test(test_segment_lines_follow_the_list),
        cmocka_unit_test(test_a_losing_channel_is_avoided_in_one_segment),
        cmocka_unit_test(test_errors_leave_outputs_intact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
