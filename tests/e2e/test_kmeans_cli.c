/*
 * tests/e2e/test_kmeans_cli.c — `segscore kmeans` on matrices written to HDF5: the
 * scikit-learn fixture label for label through the command line, the output schema, an
 * independent recomputation of the inertia, identical output bytes for 1, 2 and 3
 * threads, and each input error with its message and exit status, leaving a previous
 * output untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "kernels/core.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/kmeans_sklearn_fixture.h"

static char dir[512];

/* Same generator as tests/unit/test_kmeans.c and bench/sklearn_fixture.py. */
static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void fixture_matrix(double *x)
{
    uint64_t state = 12345;
    for (size_t i = 0; i < 300; i++)
        for (size_t f = 0; f < 3; f++) {
            double u = (double)(splitmix(&state) >> 11) * 0x1p-53;
            double o[3] = {(double)(i % 5) * 1.5, (double)(i % 5 % 2) * 2.0,
                           (double)(i % 5 % 3) * 1.0};
            x[i * 3 + f] = o[f] + (u - 0.5) * 2.5;
        }
}

static void path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static hid_t create_file(const char *name)
{
    char p[600];
    path_of(p, sizeof p, name);
    sgs_h5_quiet();
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    return f;
}

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("kmeans-cli", dir, sizeof dir);
    double *x = malloc(300 * 3 * sizeof *x);
    fixture_matrix(x);
    hid_t f = create_file("fixture.h5");
    assert_int_equal(sgs_h5_write_matrix(f, "/X", x, 300, 3, NULL), 0);
    assert_int_equal(sgs_h5_write_matrix(f, "/C_bad", x, 4, 3, NULL), 0);
    assert_int_equal(sgs_h5_write_column(f, "/one_d", SGS_H5_F64, x, 300, 0, NULL), 0);
    x[17 * 3 + 2] = NAN;
    assert_int_equal(sgs_h5_write_matrix(f, "/with_nan", x, 300, 3, NULL), 0);
    H5Fclose(f);
    free(x);
    /* A larger matrix (4 blocks of rows) for the thread test. */
    size_t n = 50000, d = 4;
    x = malloc(n * d * sizeof *x);
    for (size_t i = 0; i < n; i++)
        for (size_t q = 0; q < d; q++)
            x[i * d + q] = 3.0 * (double)((i % 6) * (q + 1) % 5) + sgs_rng_uniform(5, 1, i * d + q);
    f = create_file("big.h5");
    assert_int_equal(sgs_h5_write_matrix(f, "/X", x, n, d, NULL), 0);
    H5Fclose(f);
    free(x);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

static int run(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int run(char *out, size_t size, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return sgs_test_run(args, out, size);
}

static void test_sklearn_fixture_through_the_command_line(void **state)
{
    (void)state;
    char out[8192];
    int rc = run(out, sizeof out,
                 "kmeans -i %s/fixture.h5 --k 5 --init first --tol 0 --algorithm lloyd -o "
                 "%s/fx.h5",
                 dir, dir);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, out);
    sgs_assert_contains(out, "time per iteration");
    char p[600];
    path_of(p, sizeof p, "fx.h5");
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    int32_t *labels = NULL;
    size_t n = 0;
    assert_int_equal(sgs_h5_read_column(f, "/labels", SGS_H5_I32, (void **)&labels, &n, NULL), 0);
    assert_int_equal(n, 300);
    for (size_t i = 0; i < n; i++)
        if (labels[i] != sk_plain_labels[i])
            fail_msg("row %zu: label %d, scikit-learn %d", i, labels[i], sk_plain_labels[i]);
    double inertia;
    int64_t iters;
    assert_int_equal(sgs_h5_attr_read_double(f, "/", "inertia", &inertia, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_int64(f, "/", "iterations", &iters, NULL), 0);
    sgs_assert_close(inertia, sk_plain_inertia, 0, 1e-9);
    assert_int_equal(iters, sk_plain_n_iter);
    /* /centers is 5 x 3; recompute the inertia from the file's labels and centers. */
    hid_t ds = H5Dopen2(f, "/centers", H5P_DEFAULT);
    sgs_assert_cmp(ds, >=, 0);
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[2];
    assert_int_equal(H5Sget_simple_extent_ndims(sp), 2);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    assert_int_equal(dims[0], 5);
    assert_int_equal(dims[1], 3);
    double c[15], x[900];
    sgs_assert_cmp(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c), >=, 0);
    H5Sclose(sp);
    H5Dclose(ds);
    H5Fclose(f);
    fixture_matrix(x);
    double s = 0;
    for (size_t i = 0; i < 300; i++)
        for (size_t q = 0; q < 3; q++) {
            double t = x[i * 3 + q] - c[labels[i] * 3 + q];
            s += t * t;
        }
    sgs_assert_close(inertia, s, 0, 1e-12);
    for (size_t e = 0; e < 15; e++)
        sgs_assert_close(c[e], sk_plain_centers[e], 1e-12, 1e-12);
    sgs_free(labels);
}

static void test_same_bytes_for_1_2_3_threads(void **state)
{
    (void)state;
    const char *algs[] = {"lloyd", "hamerly", "elkan"};
    for (size_t a = 0; a < 3; a++) {
        char ref[600];
        for (int t = 1; t <= 3; t++) {
            char out[4096], name[64], p[600];
            snprintf(name, sizeof name, "threads_%s_%d.h5", algs[a], t);
            int rc = run(out, sizeof out,
                         "kmeans -i %s/big.h5 --k 7 --n-init 2 --seed 9 --algorithm %s "
                         "--threads %d -o %s/%s",
                         dir, algs[a], t, dir, name);
            if (rc != 0)
                fail_msg("exit %d: %s", rc, out);
            path_of(p, sizeof p, name);
            if (t == 1)
                snprintf(ref, sizeof ref, "%s", p);
            else if (!sgs_test_files_equal(ref, p))
                fail_msg("%s: %s differs from %s", algs[a], p, ref);
        }
    }
}

static void test_input_errors(void **state)
{
    (void)state;
    /* A good previous output that failed runs must leave alone. */
    char out[4096], prev[600], copy[600];
    assert_int_equal(
        run(out, sizeof out, "kmeans -i %s/fixture.h5 --k 3 -q -o %s/prev.h5", dir, dir), 0);
    path_of(prev, sizeof prev, "prev.h5");
    path_of(copy, sizeof copy, "prev_copy.h5");
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", prev, copy);
    assert_int_equal(system(cmd), 0);
    /* "@" in the arguments stands for the test folder. */
    struct {
        const char *args;
        int status;
        const char *message;
    } cases[] = {
        {"-i @/fixture.h5 --dataset /nope --k 3 -o @/prev.h5", 65, "has no dataset /nope"},
        {"-i @/fixture.h5 --dataset /one_d --k 3 -o @/prev.h5", 65, "has 1 dimension, expected 2"},
        {"-i @/fixture.h5 --dataset /with_nan --k 3 -o @/prev.h5", 65, "row 17 column 2 is NaN"},
        {"-i @/fixture.h5 --k 301 -o @/prev.h5", 65, "has 300 rows, fewer than --k 301"},
        {"-i @/missing.h5 --k 3 -o @/prev.h5", 66, "no such file"},
        {"-i @/fixture.h5 --k 5 --init @/fixture.h5:/C_bad -o @/prev.h5", 65,
         "are 4 x 3, expected 5 x 3"},
        {"-i @/fixture.h5 --k 3 --algorithm fast -o @/prev.h5", 64,
         "--algorithm needs one of lloyd, hamerly, elkan, minibatch, got \"fast\""},
        {"-i @/fixture.h5 --k 0 -o @/prev.h5", 64, "--k needs a positive integer"},
        {"-i @/fixture.h5 --k 3 -o @/no/such/dir/o.h5", 73, "does not exist"},
    };
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        char args[4096] = "kmeans ";
        size_t used = strlen(args);
        for (const char *c = cases[q].args; *c && used + sizeof dir + 2 < sizeof args; c++) {
            if (*c == '@') {
                memcpy(args + used, dir, strlen(dir));
                used += strlen(dir);
            } else {
                args[used++] = *c;
            }
        }
        args[used] = '\0';
        int rc = sgs_test_run(args, out, sizeof out);
        if (rc != cases[q].status || !strstr(out, cases[q].message))
            fail_msg("case %zu (%s): exit %d (want %d), output: %s", q, args, rc, cases[q].status,
                     out);
        sgs_assert_files_equal(prev, copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sklearn_fixture_through_the_command_line),
        cmocka_unit_test(test_same_bytes_for_1_2_3_threads),
        cmocka_unit_test(test_input_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
