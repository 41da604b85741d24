/*
 * tests/e2e/test_run_segments.c — the segment step of `segscore run` on generated data:
 * labels and profiles are consistent with each other and with the customer columns
 * (sizes, shares, means recomputed here), k is chosen in range or taken from the config,
 * PCA reports its explained variance, and a bad feature name is a configuration error.
 *
 * And on a crafted input with the shape of issue 11's retail export: 1,000 customers who
 * keep buying to the end and 4 who bought every few days and then stopped, so that the
 * BG/NBD fit finds almost no dropout and P(alive) is near 1 for everybody but those 4. The
 * old pipeline (standard scaling, no spread check, no merging) makes one of 4 segments out
 * of exactly those 4 customers; each of the three defences is checked on its own: p_alive
 * is dropped for its negligible spread, robust scaling keeps them in larger segments when it
 * is not dropped, and a segment under 1% is merged (or, with merging off, reported as kept).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256], input[512], crafted[512];

/* ---- The crafted input ------------------------------------------------------------------ */

#define N_STEADY 1000
#define N_DROPOUT 4
#define FIRST_DROPOUT_ID (N_STEADY + 1) /* customers 1001..1004 */

/* Rows of one customer: a first purchase on day `join` (of 2023), then one every gap_lo..gap_hi
 * days until day `stop`, amounts in [amount_lo, amount_hi]; all draws from (seed 11, id). */
static size_t add_customer(int64_t id, int join, int gap_lo, int gap_hi, int stop, double amount_lo,
                           double amount_hi, int64_t *cid, int64_t *time_s, double *amount,
                           size_t at)
{
    const int64_t day0 = 19358; /* 2023-01-01 */
    uint64_t draw = 0;
    for (int day = join; day <= stop;) {
        cid[at] = id;
        time_s[at] = (day0 + day) * 86400 + 12 * 3600;
        double u = sgs_rng_uniform(11, (uint64_t)id, draw++);
        amount[at] = round((amount_lo + u * (amount_hi - amount_lo)) * 100) / 100;
        at++;
        double g = sgs_rng_uniform(11, (uint64_t)id, draw++);
        day += gap_lo + (int)(g * (gap_hi - gap_lo + 1));
    }
    return at;
}

/* 400 weekly buyers from January (20..40 a purchase), 350 monthly buyers from April-May
 * (80..150), 250 buyers every 10..20 days from September (10..20): all buying until the end
 * of the year. Then 4 customers who bought every 4..6 days until day 100 and stopped. */
static void write_crafted(const char *path)
{
    size_t cap = 80000, n = 0;
    int64_t *cid = malloc(cap * sizeof *cid), *time_s = malloc(cap * sizeof *time_s);
    double *amount = malloc(cap * sizeof *amount);
    for (int64_t id = 1; id <= N_STEADY; id++) {
        double u = sgs_rng_uniform(12, (uint64_t)id, 0);
        if (id <= 400)
            n = add_customer(id, (int)(u * 31), 5, 9, 364, 20, 40, cid, time_s, amount, n);
        else if (id <= 750)
            n = add_customer(id, 100 + (int)(u * 51), 20, 40, 364, 80, 150, cid, time_s, amount, n);
        else
            n = add_customer(id, 250 + (int)(u * 51), 10, 20, 364, 10, 20, cid, time_s, amount, n);
    }
    for (int64_t id = FIRST_DROPOUT_ID; id < FIRST_DROPOUT_ID + N_DROPOUT; id++)
        n = add_customer(id, 0, 4, 6, 100, 30, 30, cid, time_s, amount, n);
    n = add_customer(1, 364, 1, 1, 364, 25, 25, cid, time_s, amount, n); /* as-of: day 364 */
    sgs_assert_cmp(n, <, cap);
    hid_t h = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(h, >=, 0);
    assert_int_equal(
        sgs_h5_write_column(h, "/transactions/customer_id", SGS_H5_I64, cid, n, 0, NULL), 0);
    assert_int_equal(sgs_h5_write_column(h, "/transactions/time", SGS_H5_I64, time_s, n, 0, NULL),
                     0);
    assert_int_equal(sgs_h5_write_column(h, "/transactions/amount", SGS_H5_F64, amount, n, 0, NULL),
                     0);
    H5Fclose(h);
    free(cid);
    free(time_s);
    free(amount);
}

static int setup(void **state)
{
    (void)state;
    char args[1024], out[4096];
    sgs_test_tmpdir("run-segments", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/in.h5", dir);
    snprintf(crafted, sizeof crafted, "%s/crafted.h5", dir);
    write_crafted(crafted);
    snprintf(args, sizeof args, "generate -q --customers 6000 --seed 21 -o '%s'", input);
    return sgs_test_run(args, out, sizeof out) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

static void run_on(const char *in, const char *name, const char *extra, char *results, size_t size)
{
    char args[2048], out[8192];
    snprintf(results, size, "%s/%s/results.h5", dir, name);
    snprintf(args, sizeof args, "mkdir -p '%s/%s'", dir, name);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s' %s", in, results, extra);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("run %s failed: %s", extra, out);
}

static void run_ok(const char *name, const char *extra, char *results, size_t size)
{
    run_on(input, name, extra, results, size);
}

static void test_chosen_k_and_consistent_profiles(void **state)
{
    (void)state;
    char results[600];
    run_ok("chosen", "", results, sizeof results);
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    int64_t k = 0;
    assert_int_equal(sgs_h5_attr_read_int64(f, "/clusters", "k", &k, NULL), 0);
    assert_in_range(k, 3, 8); /* segments.k_min .. k_max defaults */
    char by[64];
    assert_int_equal(sgs_h5_attr_read_string(f, "/clusters", "k_chosen_by", by, sizeof by, NULL),
                     0);
    assert_string_equal(by, "silhouette");
    size_t n, n2, nk;
    int32_t *label = sgs_test_column(f, "/clusters/label", SGS_H5_I32, &n);
    double *frequency = sgs_test_column(f, "/customers/frequency", SGS_H5_F64, &n2);
    double *spend = sgs_test_column(f, "/customers/total_spend", SGS_H5_F64, &n2);
    double *clv = sgs_test_column(f, "/clv/clv", SGS_H5_F64, &n2);
    double *size = sgs_test_column(f, "/profiles/size", SGS_H5_F64, &nk);
    double *revenue_share = sgs_test_column(f, "/profiles/revenue_share", SGS_H5_F64, &nk);
    double *clv_share = sgs_test_column(f, "/profiles/clv_share", SGS_H5_F64, &nk);
    double *table_k = sgs_test_column(f, "/clusters/k_table/k", SGS_H5_F64, &n2);
    assert_int_equal(n2, 6);
    assert_int_equal(nk, (size_t)k);
    /* Recount sizes and shares from the labels. */
    double count[256] = {0}, revenue[256] = {0}, value[256] = {0}, freq_sum[256] = {0};
    double revenue_total = 0, clv_total = 0;
    for (size_t c = 0; c < n; c++) {
        assert_in_range(label[c], 0, k - 1);
        count[label[c]]++;
        revenue[label[c]] += spend[c];
        value[label[c]] += clv[c];
        freq_sum[label[c]] += frequency[c];
        revenue_total += spend[c];
        clv_total += clv[c];
    }
    /* The profile mean of frequency (feature 1 of the default list) is the segment mean. */
    hid_t d = H5Dopen2(f, "/profiles/mean", H5P_DEFAULT);
    double mean[256 * 8];
    sgs_assert_cmp(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, mean), >=, 0);
    H5Dclose(d);
    for (int64_t j = 0; j < k; j++) {
        sgs_assert_cmp(count[j], >, 0);
        sgs_assert_close(size[j], count[j], 0, 0);
        sgs_assert_close(revenue_share[j], revenue[j] / revenue_total, 1e-12, 1e-9);
        sgs_assert_close(clv_share[j], value[j] / clv_total, 1e-12, 1e-9);
        sgs_assert_close(mean[j * 6 + 1], freq_sum[j] / count[j], 1e-12, 1e-9);
    }
    /* The published inertia is the published labels' sum of squared distances; nothing was
     * merged, so it is the fit's, bit for bit (the run takes it from the fit). */
    double inertia = 0, inertia_final = 0, squares = 0;
    assert_int_equal(sgs_h5_attr_read_double(f, "/clusters", "inertia", &inertia, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_double(f, "/clusters", "inertia_final", &inertia_final, NULL),
                     0);
    double *distance = sgs_test_column(f, "/clusters/distance", SGS_H5_F64, &n2);
    assert_int_equal(n2, n);
    for (size_t c = 0; c < n; c++)
        squares += distance[c] * distance[c];
    sgs_assert_close(inertia_final, squares, 0, 1e-9);
    assert_memory_equal(&inertia_final, &inertia, sizeof inertia);
    sgs_free(distance);
    H5Fclose(f);
    sgs_free(label);
    sgs_free(frequency);
    sgs_free(spend);
    sgs_free(clv);
    sgs_free(size);
    sgs_free(revenue_share);
    sgs_free(clv_share);
    sgs_free(table_k);
}

static void test_configured_k_and_pca(void **state)
{
    (void)state;
    char results[600];
    run_ok("pca", "--set segments.k=4 --set segments.pca_components=2", results, sizeof results);
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    int64_t k = 0;
    assert_int_equal(sgs_h5_attr_read_int64(f, "/clusters", "k", &k, NULL), 0);
    assert_int_equal(k, 4);
    size_t m;
    double *ratio = sgs_test_column(f, "/clusters/pca_explained_variance_ratio", SGS_H5_F64, &m);
    assert_int_equal(m, 2);
    sgs_assert_cmp(ratio[0], >=, ratio[1]);
    sgs_assert_cmp(ratio[1], >, 0);
    sgs_assert_cmp(ratio[0] + ratio[1], <=, 1 + 1e-12);
    sgs_free(ratio);
    H5Fclose(f);

    /* Without the value step, clv and p_alive are dropped from the features. */
    run_ok("novalue", "--model none --set segments.k=3", results, sizeof results);
    f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t a = H5Aopen_by_name(f, "/clusters", "feature_names", H5P_DEFAULT, H5P_DEFAULT);
    hid_t space = H5Aget_space(a);
    assert_int_equal(H5Sget_simple_extent_npoints(space), 4);
    H5Sclose(space);
    H5Aclose(a);
    H5Fclose(f);
}

/* ---- Segments on the crafted input ------------------------------------------------------ */

/* What a run on the crafted input produced: per segment, its customers and how many of them
 * are the 4 dropouts; the summary's segments object; the report. */
typedef struct outcome {
    int64_t k;
    size_t n, size[256], dropouts[256];
    int32_t *label;
    cJSON *summary, *segments;
    char *report;
} outcome_t;

static void outcome_read(const char *name, const char *extra, outcome_t *o)
{
    char results[600], path[700];
    run_on(crafted, name, extra, results, sizeof results);
    memset(o, 0, sizeof *o);
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    assert_int_equal(sgs_h5_attr_read_int64(f, "/clusters", "k", &o->k, NULL), 0);
    size_t n2;
    o->label = sgs_test_column(f, "/clusters/label", SGS_H5_I32, &o->n);
    int64_t *id = sgs_test_column(f, "/customers/customer_id", SGS_H5_I64, &n2);
    assert_int_equal(n2, o->n);
    assert_int_equal(o->n, N_STEADY + N_DROPOUT);
    for (size_t c = 0; c < o->n; c++) {
        assert_in_range(o->label[c], 0, o->k - 1);
        o->size[o->label[c]]++;
        o->dropouts[o->label[c]] += id[c] >= FIRST_DROPOUT_ID;
    }
    sgs_free(id);
    H5Fclose(f);
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, name);
    char *text = sgs_test_read_file(path, NULL);
    assert_non_null(text);
    o->summary = cJSON_Parse(text);
    free(text);
    o->segments = cJSON_GetObjectItem(o->summary, "segments");
    assert_non_null(o->segments);
    snprintf(path, sizeof path, "%s/%s/report.txt", dir, name);
    o->report = sgs_test_read_file(path, NULL);
    assert_non_null(o->report);
}

static void outcome_free(outcome_t *o)
{
    sgs_free(o->label);
    cJSON_Delete(o->summary);
    sgs_free(o->report);
}

/* The summary's check of feature `name`. */
static cJSON *feature_check(const outcome_t *o, const char *name)
{
    cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(o->segments, "feature_checks"))
    {
        if (strcmp(cJSON_GetObjectItem(row, "name")->valuestring, name) == 0)
            return row;
    }
    fail_msg("no feature check for %s", name);
    return NULL;
}

/* No segment is made of the dropouts alone, and every segment holds at least 1% of the
 * customers. */
static void assert_no_handful(const outcome_t *o)
{
    for (int64_t j = 0; j < o->k; j++) {
        if (o->size[j] == o->dropouts[j])
            fail_msg("segment %d holds only dropouts (%zu customers)", (int)j, o->size[j]);
        if ((double)o->size[j] < 0.01 * (double)o->n)
            fail_msg("segment %d holds %zu of %zu customers", (int)j, o->size[j], o->n);
    }
}

/* The defences are about the model's P(alive), which the default features replace by p_buy. */
#define P_ALIVE_FEATURES "segments.features=recency,frequency,monetary,tenure,clv,p_alive"

static void test_near_constant_p_alive_is_dropped(void **state)
{
    (void)state;
    outcome_t o;
    outcome_read("crafted-default", "--set segments.k=4 --set " P_ALIVE_FEATURES, &o);
    /* P(alive) of the 1,000 steady customers spans far less than 0.01: dropped, and said so. */
    cJSON *p = feature_check(&o, "p_alive");
    sgs_assert_json(cJSON_IsFalse, cJSON_GetObjectItem(p, "used"));
    assert_string_equal(cJSON_GetObjectItem(p, "dropped")->valuestring, "negligible spread");
    double spread = cJSON_GetObjectItem(p, "spread")->valuedouble;
    sgs_assert_cmp(spread, >=, 0);
    sgs_assert_cmp(spread, <, 0.01);
    sgs_assert_cmp(cJSON_GetObjectItem(p, "q01")->valuedouble, >, 0.99);
    sgs_assert_json(cJSON_IsTrue, cJSON_GetObjectItem(feature_check(&o, "recency"), "used"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o.segments, "features")), 5);
    sgs_assert_contains(o.report, "p_alive left out: negligible spread: 98% of customers");
    /* Four segments, none of them a handful, and nothing needed merging. */
    assert_int_equal(o.k, 4);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o.segments, "merged")), 0);
    assert_no_handful(&o);
    outcome_free(&o);

    /* With p_alive alone there is nothing left to cluster on: the step is skipped, with a
     * warning, and the run succeeds without /clusters. */
    char args[2048], out[8192];
    snprintf(args, sizeof args, "mkdir -p '%s/crafted-p-alive-only'", dir);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args,
             "run -i '%s' -o '%s/crafted-p-alive-only/results.h5' --set segments.features=p_alive",
             crafted, dir);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    sgs_assert_contains(out, "segments skipped: every feature's central 98% range is below "
                             "segments.min_spread = 0.01");
    snprintf(args, sizeof args, "%s/crafted-p-alive-only/results.h5", dir);
    hid_t f = H5Fopen(args, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    sgs_assert_cmp(H5Lexists(f, "/clusters", H5P_DEFAULT), ==, 0);
    H5Fclose(f);
}

static void test_robust_scaling_keeps_outliers_in_larger_segments(void **state)
{
    (void)state;
    /* Nothing dropped and nothing merged: robust scaling alone. The dropouts' P(alive) and
     * recency are pulled in to the 1% quantiles, next to other customers. */
    outcome_t o;
    outcome_read("crafted-robust",
                 "--set segments.k=4 --set segments.min_spread=0 --set segments.min_share=0 "
                 "--set " P_ALIVE_FEATURES,
                 &o);
    cJSON *p = feature_check(&o, "p_alive");
    sgs_assert_json(cJSON_IsTrue, cJSON_GetObjectItem(p, "used"));
    sgs_assert_cmp(cJSON_GetObjectItem(p, "n_clipped")->valuedouble, >=, N_DROPOUT);
    assert_int_equal(o.k, 4);
    assert_no_handful(&o);
    outcome_free(&o);
}

static void test_standard_scaling_isolates_them_and_merging_folds_them_in(void **state)
{
    (void)state;
    /* The old pipeline: z-scores put the dropouts tens of standard deviations out, and one of
     * the 4 segments is exactly them. With merging off, the report says why it was kept. */
    outcome_t o;
    outcome_read("crafted-old",
                 "--set segments.k=4 --set segments.scaling=standard --set segments.min_spread=0 "
                 "--set segments.min_share=0",
                 &o);
    assert_int_equal(o.k, 4);
    int isolated = -1;
    for (int j = 0; j < 4; j++)
        if (o.size[j] == N_DROPOUT && o.dropouts[j] == N_DROPOUT)
            isolated = j;
    sgs_assert_cmp(isolated, >=, 0);
    char line[200];
    snprintf(line, sizeof line,
             "segment %d holds 0.4%% of the customers, under 1%%: kept because "
             "segments.min_share = 0 turns merging off",
             isolated);
    if (!strstr(o.report, line))
        fail_msg("report lacks \"%s\":\n%s", line, o.report);
    outcome_free(&o);

    /* A min_share under 0.4% keeps it too, and the report says so. */
    outcome_read("crafted-old-small-share",
                 "--set segments.k=4 --set segments.scaling=standard --set segments.min_spread=0 "
                 "--set segments.min_share=0.001",
                 &o);
    assert_int_equal(o.k, 4);
    sgs_assert_contains(o.report, "under 1%: kept because segments.min_share = 0.001 merges "
                                  "only segments under 0.1%");
    outcome_free(&o);

    /* The same with segments.min_share at its default: the segment of 4 (0.4%) is merged
     * into its nearest neighbour, and k is what was published: 3 of the fit's 4. */
    outcome_read("crafted-merged",
                 "--set segments.k=4 --set segments.scaling=standard --set segments.min_spread=0",
                 &o);
    assert_int_equal(o.k, 3);
    assert_no_handful(&o);
    assert_int_equal(cJSON_GetObjectItem(o.segments, "k")->valuedouble, 3);
    assert_int_equal(cJSON_GetObjectItem(o.segments, "k_fitted")->valuedouble, 4);
    cJSON *merged = cJSON_GetObjectItem(o.segments, "merged");
    assert_int_equal(cJSON_GetArraySize(merged), 1);
    cJSON *m = cJSON_GetArrayItem(merged, 0);
    assert_int_equal(cJSON_GetObjectItem(m, "customers")->valuedouble, N_DROPOUT);
    int into = (int)cJSON_GetObjectItem(m, "into")->valuedouble;
    assert_int_equal(o.dropouts[into], N_DROPOUT); /* they are all there now */
    snprintf(line, sizeof line, "4 customers (0.4%%) into segment %d", into);
    if (!strstr(o.report, line))
        fail_msg("report lacks \"%s\":\n%s", line, o.report);
    sgs_assert_contains(o.report, "(k = 4 chosen by config, 1 small one merged)");
    char results[600];
    snprintf(results, sizeof results, "%s/crafted-merged/results.h5", dir);
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    int64_t k_fitted = 0;
    assert_int_equal(sgs_h5_attr_read_int64(f, "/clusters", "k_fitted", &k_fitted, NULL), 0);
    assert_int_equal(k_fitted, 4);
    size_t nm, nk;
    int64_t *customers = sgs_test_column(f, "/clusters/merged/customers", SGS_H5_I64, &nm);
    double *size = sgs_test_column(f, "/profiles/size", SGS_H5_F64, &nk);
    assert_int_equal(nm, 1);
    assert_int_equal(customers[0], N_DROPOUT);
    assert_int_equal(nk, 3);
    for (size_t j = 0; j < nk; j++)
        sgs_assert_close(size[j], (double)o.size[j], 0, 0);
    sgs_free(customers);
    sgs_free(size);
    H5Fclose(f);
    outcome_free(&o);
}

static void test_merged_labels_same_for_1_2_3_threads(void **state)
{
    (void)state;
    setenv("SGS_THREAD_GRAIN", "1", 1); /* every loop on every thread, however small */
    outcome_t o[3];
    for (int t = 0; t < 3; t++) {
        char name[32], extra[200];
        snprintf(name, sizeof name, "crafted-threads-%d", t + 1);
        snprintf(extra, sizeof extra,
                 "--threads %d --set segments.k=4 --set segments.scaling=standard "
                 "--set segments.min_spread=0",
                 t + 1);
        outcome_read(name, extra, &o[t]);
    }
    assert_int_equal(o[0].k, 3); /* the segment of the 4 dropouts was merged */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o[0].segments, "merged")), 1);
    for (int t = 1; t < 3; t++) {
        assert_int_equal(o[t].k, o[0].k);
        assert_memory_equal(o[t].label, o[0].label, o[0].n * sizeof *o[0].label);
    }
    for (int t = 0; t < 3; t++)
        outcome_free(&o[t]);
    unsetenv("SGS_THREAD_GRAIN");
}

static void test_crafted_without_the_value_step(void **state)
{
    (void)state;
    /* clv and p_buy need the value step: reported as left out; the four summary features
     * are checked and scaled the same way, and no segment is a handful. */
    outcome_t o;
    outcome_read("crafted-novalue", "--model none --set segments.k=4", &o);
    assert_string_equal(cJSON_GetObjectItem(feature_check(&o, "p_buy"), "dropped")->valuestring,
                        "value step off");
    assert_string_equal(cJSON_GetObjectItem(feature_check(&o, "clv"), "dropped")->valuestring,
                        "value step off");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o.segments, "features")), 4);
    sgs_assert_contains(o.report, "p_buy left out: the value step did not run");
    assert_no_handful(&o);
    outcome_free(&o);
}

static void test_bad_feature_is_a_config_error(void **state)
{
    (void)state;
    char args[2048], out[4096];
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/x.h5' --set segments.features=recency,age",
             input, dir);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 78);
    sgs_assert_contains(out, "\"age\"");
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/x.h5' --set segments.scaling=zscore", input,
             dir);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 78);
    sgs_assert_contains(out, "segments.scaling");
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/x.h5' --set segments.min_share=0.6", input,
             dir);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 78);
    sgs_assert_contains(out, "segments.min_share");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chosen_k_and_consistent_profiles),
        cmocka_unit_test(test_configured_k_and_pca),
        cmocka_unit_test(test_bad_feature_is_a_config_error),
        cmocka_unit_test(test_near_constant_p_alive_is_dropped),
        cmocka_unit_test(test_robust_scaling_keeps_outliers_in_larger_segments),
        cmocka_unit_test(test_standard_scaling_isolates_them_and_merging_folds_them_in),
        cmocka_unit_test(test_merged_labels_same_for_1_2_3_threads),
        cmocka_unit_test(test_crafted_without_the_value_step),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
