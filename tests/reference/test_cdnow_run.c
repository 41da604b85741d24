/*
 * tests/reference/test_cdnow_run.c — the whole command line on the CDNOW sample: import,
 * then the nightly run in weeks (BG/NBD named) with the 39-week calibration period as the
 * as-of date. The results must carry the published numbers:
 *   - repeat purchases of customers 1..5 in the first 39 weeks: 2, 1, 0, 0, 0;
 *   - BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way", table 1
 *     discussion): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4;
 *   - customer 1 (x = 2, t_x = 30.43, T = 38.86) expects 1.226 purchases in 39 weeks (ibid.);
 *   - Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV"): p = 6.25, q = 3.74,
 *     gamma = 15.44 on the 946 customers with a repeat purchase.
 * Skipped (77) when ../shared/data is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>

static char dir[256], results[512];

static int setup(void **state)
{
    (void)state;
    char sample[512], args[2048], out[8192];
    if (!sgs_test_shared_data("cdnow/CDNOW_sample.txt", sample, sizeof sample))
        return 0;
    sgs_test_tmpdir("cdnow-run", dir, sizeof dir);
    snprintf(args, sizeof args,
             "import -q --preset cdnow --customer 2 --time 3 --amount 5 -i '%s' -o '%s/s.h5'",
             sample, dir);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        fprintf(stderr, "import failed: %s\n", out);
        return -1;
    }
    snprintf(results, sizeof results, "%s/results.h5", dir);
    snprintf(args, sizeof args,
             "run -q -i '%s/s.h5' -o '%s' --as-of 1997-09-30 --time-unit week --horizon 39 "
             "--model bgnbd",
             dir, results);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        fprintf(stderr, "run failed: %s\n", out);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (dir[0])
        sgs_test_rmdir(dir);
    return 0;
}

static double attr(hid_t f, const char *obj, const char *name)
{
    double v = 0;
    sgs_error_t err = {0};
    if (sgs_h5_attr_read_double(f, obj, name, &v, &err) != 0)
        fail_msg("%s", err.message);
    return v;
}

static void test_published_estimates(void **state)
{
    (void)state;
    if (!dir[0])
        skip();
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    /* Printed precision: 3 decimals for the parameters, 1 for the log-likelihood. */
    sgs_assert_close(attr(f, "/models/bgnbd", "r"), 0.243, 0.0005, 0);
    sgs_assert_close(attr(f, "/models/bgnbd", "alpha"), 4.414, 0.0005, 0);
    sgs_assert_close(attr(f, "/models/bgnbd", "a"), 0.793, 0.0005, 0);
    sgs_assert_close(attr(f, "/models/bgnbd", "b"), 2.426, 0.0005, 0);
    sgs_assert_close(attr(f, "/models/bgnbd", "log_likelihood"), -9582.4, 0.05, 0);
    sgs_assert_close(attr(f, "/models/gammagamma", "p"), 6.25, 0.005, 0);
    sgs_assert_close(attr(f, "/models/gammagamma", "q"), 3.74, 0.005, 0);
    sgs_assert_close(attr(f, "/models/gammagamma", "gamma"), 15.44, 0.005, 0);
    int64_t used = 0, converged = 0;
    assert_int_equal(sgs_h5_attr_read_int64(f, "/models/gammagamma", "n_customers", &used, NULL),
                     0);
    assert_int_equal(used, 946);
    assert_int_equal(sgs_h5_attr_read_int64(f, "/models/bgnbd", "converged", &converged, NULL), 0);
    assert_int_equal(converged, 1);

    double *expected, *frequency, *recency, *T;
    int64_t *id;
    size_t n, n2;
    assert_int_equal(
        sgs_h5_read_column(f, "/customers/customer_id", SGS_H5_I64, (void **)&id, &n, NULL), 0);
    assert_int_equal(n, 2357);
    assert_int_equal(
        sgs_h5_read_column(f, "/customers/frequency", SGS_H5_F64, (void **)&frequency, &n2, NULL),
        0);
    assert_int_equal(
        sgs_h5_read_column(f, "/customers/recency", SGS_H5_F64, (void **)&recency, &n2, NULL), 0);
    assert_int_equal(sgs_h5_read_column(f, "/customers/T", SGS_H5_F64, (void **)&T, &n2, NULL), 0);
    assert_int_equal(
        sgs_h5_read_column(f, "/clv/expected_purchases", SGS_H5_F64, (void **)&expected, &n2, NULL),
        0);
    const double repeat[5] = {2, 1, 0, 0, 0};
    for (int c = 0; c < 5; c++) {
        assert_int_equal(id[c], c + 1);
        sgs_assert_cmp(frequency[c], ==, repeat[c]);
    }
    sgs_assert_close(recency[0], 30.43, 0.005, 0);
    sgs_assert_close(T[0], 38.86, 0.005, 0);
    sgs_assert_close(expected[0], 1.226, 0.0005, 0);
    H5Fclose(f);
    sgs_free(expected);
    sgs_free(frequency);
    sgs_free(recency);
    sgs_free(T);
    sgs_free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_estimates),
    };
    char probe[512];
    if (!sgs_test_shared_data("cdnow/CDNOW_sample.txt", probe, sizeof probe)) {
        fprintf(stderr, "skipped: ../shared/data/cdnow is absent\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
