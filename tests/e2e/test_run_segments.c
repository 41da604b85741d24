/*
 * tests/e2e/test_run_segments.c — the segment step of `segscore run` on generated data:
 * labels and profiles are consistent with each other and with the customer columns
 * (sizes, shares, means recomputed here), k is chosen in range or taken from the config,
 * PCA reports its explained variance, and a bad feature name is a configuration error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256], input[512];

static int setup(void **state)
{
    (void)state;
    char args[1024], out[4096];
    sgs_test_tmpdir("run-segments", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/in.h5", dir);
    snprintf(args, sizeof args, "generate -q --customers 6000 --seed 21 -o '%s'", input);
    return sgs_test_run(args, out, sizeof out) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

static void run_ok(const char *name, const char *extra, char *results, size_t size)
{
    char args[2048], out[8192];
    snprintf(results, size, "%s/%s/results.h5", dir, name);
    snprintf(args, sizeof args, "mkdir -p '%s/%s'", dir, name);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s' %s", input, results, extra);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("run %s failed: %s", extra, out);
}

static void *column(hid_t f, const char *path, sgs_h5_type_t type, size_t *n)
{
    void *data = NULL;
    sgs_error_t err = {0};
    if (sgs_h5_read_column(f, path, type, &data, n, &err) != 0)
        fail_msg("%s", err.message);
    return data;
}

static void test_chosen_k_and_consistent_profiles(void **state)
{
    (void)state;
    char results[600];
    run_ok("chosen", "", results, sizeof results);
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    int64_t k = 0;
    assert_int_equal(sgs_h5_attr_read_int64(f, "/clusters", "k", &k, NULL), 0);
    assert_in_range(k, 3, 8); /* segments.k_min .. k_max defaults */
    char by[64];
    assert_int_equal(sgs_h5_attr_read_string(f, "/clusters", "k_chosen_by", by, sizeof by, NULL),
                     0);
    assert_string_equal(by, "silhouette");
    size_t n, n2, nk;
    int32_t *label = column(f, "/clusters/label", SGS_H5_I32, &n);
    double *frequency = column(f, "/customers/frequency", SGS_H5_F64, &n2);
    double *spend = column(f, "/customers/total_spend", SGS_H5_F64, &n2);
    double *clv = column(f, "/clv/clv", SGS_H5_F64, &n2);
    double *size = column(f, "/profiles/size", SGS_H5_F64, &nk);
    double *revenue_share = column(f, "/profiles/revenue_share", SGS_H5_F64, &nk);
    double *clv_share = column(f, "/profiles/clv_share", SGS_H5_F64, &nk);
    double *table_k = column(f, "/clusters/k_table/k", SGS_H5_F64, &n2);
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
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, mean) >= 0);
    H5Dclose(d);
    for (int64_t j = 0; j < k; j++) {
        assert_true(count[j] > 0);
        sgs_assert_close(size[j], count[j], 0, 0);
        sgs_assert_close(revenue_share[j], revenue[j] / revenue_total, 1e-12, 1e-9);
        sgs_assert_close(clv_share[j], value[j] / clv_total, 1e-12, 1e-9);
        sgs_assert_close(mean[j * 6 + 1], freq_sum[j] / count[j], 1e-12, 1e-9);
    }
    H5Fclose(f);
    free(label);
    free(frequency);
    free(spend);
    free(clv);
    free(size);
    free(revenue_share);
    free(clv_share);
    free(table_k);
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
    double *ratio = column(f, "/clusters/pca_explained_variance_ratio", SGS_H5_F64, &m);
    assert_int_equal(m, 2);
    assert_true(ratio[0] >= ratio[1] && ratio[1] > 0 && ratio[0] + ratio[1] <= 1 + 1e-12);
    free(ratio);
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

static void test_bad_feature_is_a_config_error(void **state)
{
    (void)state;
    char args[2048], out[4096];
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/x.h5' --set segments.features=recency,age",
             input, dir);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 78);
    assert_non_null(strstr(out, "\"age\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chosen_k_and_consistent_profiles),
        cmocka_unit_test(test_configured_k_and_pca),
        cmocka_unit_test(test_bad_feature_is_a_config_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
