/*
 * tests/unit/test_linalg.c — the small dense linear algebra of kernels/linalg.h: inverses
 * known exactly (a 2 x 2 by hand, the 4 x 4 Hilbert matrix), eigen-decompositions known in
 * closed form (the second-difference matrix), identities on seeded random matrices
 * (A A^-1 = I, A V = V diag(w), V^T V = I, ascending w) including repeated eigenvalues and
 * extreme scales, and the errors: not positive definite, non-finite entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/linalg.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NMAX 8
#define PI 3.14159265358979323846

/* Seed of the random cases: SGS_TEST_SEED in the environment replays a failure. */
static uint64_t test_seed(void)
{
    const char *s = getenv("SGS_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : 20240601u;
    print_message("seed %llu (SGS_TEST_SEED replays)\n", (unsigned long long)seed);
    return seed;
}

/* A random orthogonal matrix q (n x n): Gram-Schmidt, twice, on uniform columns. */
static void random_orthogonal(double *q, size_t n, uint64_t seed, uint64_t stream)
{
    for (size_t e = 0; e < n * n; e++)
        q[e] = sgs_rng_uniform(seed, stream, e) - 0.5;
    for (size_t j = 0; j < n; j++)
        for (int pass = 0; pass < 2; pass++) {
            for (size_t k = 0; k < j; k++) {
                double dot = 0;
                for (size_t r = 0; r < n; r++)
                    dot += q[r * n + j] * q[r * n + k];
                for (size_t r = 0; r < n; r++)
                    q[r * n + j] -= dot * q[r * n + k];
            }
            double norm = 0;
            for (size_t r = 0; r < n; r++)
                norm += q[r * n + j] * q[r * n + j];
            norm = sqrt(norm);
            for (size_t r = 0; r < n; r++)
                q[r * n + j] /= norm;
        }
}

/* a = q diag(lambda) q^T. */
static void compose(double *a, const double *q, const double *lambda, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t k = 0; k < n; k++)
                s += q[i * n + k] * lambda[k] * q[j * n + k];
            a[i * n + j] = s;
        }
}

/* ---- Inverse ------------------------------------------------------------------------- */

static void test_inverse_by_hand(void **state)
{
    (void)state;
    /* [[4, 2], [2, 3]]^-1 = [[3, -2], [-2, 4]] / 8; the lower triangle is not read. */
    double a[4] = {4, 2, NAN, 3}, work[4];
    assert_int_equal(sgs_linalg_spd_inverse(a, 2, work), 0);
    const double want[4] = {3.0 / 8, -2.0 / 8, -2.0 / 8, 4.0 / 8};
    for (int e = 0; e < 4; e++)
        sgs_assert_close(a[e], want[e], 0, 1e-15);
    double one[1] = {0.25};
    assert_int_equal(sgs_linalg_spd_inverse(one, 1, work), 0);
    sgs_assert_cmp(one[0], ==, 4.0);
}

static void test_inverse_of_hilbert_4(void **state)
{
    (void)state;
    double a[16], work[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            a[i * 4 + j] = 1.0 / (i + j + 1);
    const double want[16] = {16,  -120,  240,  -140,  -120, 1200, -2700, 1680,
                             240, -2700, 6480, -4200, -140, 1680, -4200, 2800};
    assert_int_equal(sgs_linalg_spd_inverse(a, 4, work), 0);
    /* condition number 1.55e4: about 1e-12 relative is what double precision allows */
    for (int e = 0; e < 16; e++)
        sgs_assert_close(a[e], want[e], 0, 1e-11);
}

static void test_inverse_identity_on_random_matrices(void **state)
{
    (void)state;
    uint64_t seed = test_seed();
    for (size_t n = 1; n <= NMAX; n++)
        for (int scale_kind = 0; scale_kind < 3; scale_kind++) {
            double scale = scale_kind == 0 ? 1.0 : scale_kind == 1 ? 1e-150 : 1e150;
            double q[NMAX * NMAX], lambda[NMAX], a[NMAX * NMAX], inv[NMAX * NMAX],
                work[NMAX * NMAX];
            random_orthogonal(q, n, seed, 100 + n);
            for (size_t k = 0; k < n; k++) /* eigenvalues 1 .. 1000: condition <= 1e3 */
                lambda[k] = scale * pow(10.0, 3.0 * sgs_rng_uniform(seed, 200 + n, k));
            compose(a, q, lambda, n);
            memcpy(inv, a, n * n * sizeof *a);
            assert_int_equal(sgs_linalg_spd_inverse(inv, n, work), 0);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double s = 0;
                    for (size_t k = 0; k < n; k++)
                        s += a[i * n + k] * inv[k * n + j];
                    sgs_assert_close(s, i == j ? 1.0 : 0.0, 1e-11, 0);
                    sgs_assert_cmp(inv[i * n + j], ==, inv[j * n + i]);
                }
        }
}

static void test_inverse_refuses_what_is_not_positive_definite(void **state)
{
    (void)state;
    double work[9];
    double indefinite[4] = {1, 2, 2, 1};
    assert_int_equal(sgs_linalg_spd_inverse(indefinite, 2, work), SGS_ENUMERIC);
    double singular[4] = {1, 1, 1, 1};
    assert_int_equal(sgs_linalg_spd_inverse(singular, 2, work), SGS_ENUMERIC);
    double zero[1] = {0};
    assert_int_equal(sgs_linalg_spd_inverse(zero, 1, work), SGS_ENUMERIC);
    /* a NaN or an infinity in any entry of the upper triangle */
    for (int e = 0; e < 9; e++) {
        if (e % 3 < e / 3)
            continue;
        for (int kind = 0; kind < 2; kind++) {
            double a[9] = {4, 1, 0, 1, 4, 1, 0, 1, 4};
            a[e] = kind ? INFINITY : NAN;
            assert_int_equal(sgs_linalg_spd_inverse(a, 3, work), SGS_ENUMERIC);
        }
    }
    assert_int_equal(sgs_linalg_spd_inverse(zero, 0, work), SGS_EINVAL);
}

/* ---- Eigen-decomposition ------------------------------------------------------------- */

/* Check a V = V diag(w), V^T V = I and w ascending; tolerances relative to max |w|. */
static void check_eigen(const double *a, const double *v, const double *w, size_t n)
{
    double norm = 0;
    for (size_t k = 0; k < n; k++)
        norm = fmax(norm, fabs(w[k]));
    for (size_t k = 0; k + 1 < n; k++)
        sgs_assert_cmp(w[k], <=, w[k + 1]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double av = 0, vtv = 0;
            for (size_t k = 0; k < n; k++) {
                av += a[i * n + k] * v[k * n + j];
                vtv += v[k * n + i] * v[k * n + j];
            }
            sgs_assert_close(av, v[i * n + j] * w[j], 1e-13 * norm, 0);
            sgs_assert_close(vtv, i == j ? 1.0 : 0.0, 1e-14, 0);
        }
}

static void test_eigen_of_the_second_difference_matrix(void **state)
{
    (void)state;
    /* tridiag(-1, 2, -1), n = 8: eigenvalues 2 - 2 cos(k pi / 9), eigenvectors
     * sin(j k pi / 9) (j, k = 1..8), up to sign and scale. */
    const size_t n = 8;
    double a[64] = {0}, a0[64], w[8], work[64];
    for (size_t i = 0; i < n; i++) {
        a[i * n + i] = 2;
        if (i + 1 < n)
            a[i * n + i + 1] = a[(i + 1) * n + i] = -1;
    }
    memcpy(a0, a, sizeof a);
    assert_int_equal(sgs_linalg_symmetric_eigen(a, n, w, work), 0);
    check_eigen(a0, a, w, n);
    for (size_t k = 1; k <= n; k++) {
        sgs_assert_close(w[k - 1], 2 - 2 * cos((double)k * PI / 9), 1e-15, 1e-14);
        double norm = 0;
        for (size_t j = 1; j <= n; j++)
            norm += pow(sin((double)(j * k) * PI / 9), 2);
        double sign = a[0 * n + k - 1] < 0 ? -1 : 1;
        for (size_t j = 1; j <= n; j++)
            sgs_assert_close(sign * a[(j - 1) * n + k - 1],
                             sin((double)(j * k) * PI / 9) / sqrt(norm), 1e-14, 0);
    }
}

static void test_eigen_of_a_diagonal_keeps_ties_in_order(void **state)
{
    (void)state;
    /* diag(3, 1, 1, 2), lower triangle ignored: w = 1, 1, 2, 3 with e1, e2, e3, e0. */
    double a[16] = {3, 0, 0, 0, NAN, 1, 0, 0, NAN, NAN, 1, 0, NAN, NAN, NAN, 2};
    double w[4], work[16];
    assert_int_equal(sgs_linalg_symmetric_eigen(a, 4, w, work), 0);
    const double want_w[4] = {1, 1, 2, 3};
    const size_t unit[4] = {1, 2, 3, 0};
    for (size_t j = 0; j < 4; j++) {
        sgs_assert_cmp(w[j], ==, want_w[j]);
        for (size_t r = 0; r < 4; r++)
            sgs_assert_cmp(a[r * 4 + j], ==, (r == unit[j] ? 1.0 : 0.0));
    }
    double zero[9] = {0}, w3[3];
    assert_int_equal(sgs_linalg_symmetric_eigen(zero, 3, w3, work), 0);
    for (size_t j = 0; j < 3; j++) {
        sgs_assert_cmp(w3[j], ==, 0);
        sgs_assert_cmp(zero[j * 3 + j], ==, 1);
    }
}

static void test_eigen_identities_on_random_matrices(void **state)
{
    (void)state;
    uint64_t seed = test_seed();
    for (size_t n = 1; n <= NMAX; n++)
        for (int kind = 0; kind < 5; kind++) {
            double q[NMAX * NMAX], lambda[NMAX], a[NMAX * NMAX], a0[NMAX * NMAX], w[NMAX],
                work[NMAX * NMAX];
            random_orthogonal(q, n, seed, 300 + n);
            double scale = kind == 3 ? 1e-150 : kind == 4 ? 1e150 : 1.0;
            for (size_t k = 0; k < n; k++) {
                double u = sgs_rng_uniform(seed, 400 + n, k);
                /* kind 0: spread eigenvalues of both signs; 1: repeated ones (a covariance of
                 * correlated columns); 2: rank one, as a covariance of identical columns. */
                lambda[k] = kind == 1   ? (double)(k % 2)
                            : kind == 2 ? (k == 0 ? 5.0 : 0.0)
                                        : scale * (4 * u - 2);
            }
            compose(a, q, lambda, n);
            memcpy(a0, a, sizeof a);
            assert_int_equal(sgs_linalg_symmetric_eigen(a, n, w, work), 0);
            check_eigen(a0, a, w, n);
            double sorted[NMAX];
            memcpy(sorted, lambda, n * sizeof *lambda);
            for (size_t i = 1; i < n; i++) /* insertion sort of the truth */
                for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                    double t = sorted[j];
                    sorted[j] = sorted[j - 1];
                    sorted[j - 1] = t;
                }
            double norm = 0;
            for (size_t k = 0; k < n; k++)
                norm = fmax(norm, fabs(sorted[k]));
            for (size_t k = 0; k < n; k++)
                sgs_assert_close(w[k], sorted[k], 1e-14 * norm, 0);
        }
}

static void test_eigen_refuses_non_finite_entries(void **state)
{
    (void)state;
    double work[4], w[2];
    for (int e = 0; e < 4; e++) {
        if (e == 2)
            continue; /* lower triangle: not read */
        double a[4] = {1, 0.5, 0.5, 1};
        a[e] = e == 1 ? INFINITY : NAN;
        double copy[4];
        memcpy(copy, a, sizeof a);
        assert_int_equal(sgs_linalg_symmetric_eigen(a, 2, w, work), SGS_EDATA);
        assert_memory_equal(a, copy, sizeof a); /* unchanged */
    }
    assert_int_equal(sgs_linalg_symmetric_eigen(w, 0, w, work), SGS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inverse_by_hand),
        cmocka_unit_test(test_inverse_of_hilbert_4),
        cmocka_unit_test(test_inverse_identity_on_random_matrices),
        cmocka_unit_test(test_inverse_refuses_what_is_not_positive_definite),
        cmocka_unit_test(test_eigen_of_the_second_difference_matrix),
        cmocka_unit_test(test_eigen_of_a_diagonal_keeps_ties_in_order),
        cmocka_unit_test(test_eigen_identities_on_random_matrices),
        cmocka_unit_test(test_eigen_refuses_non_finite_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
