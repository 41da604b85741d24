/*
 * tests/unit/test_value_concentration.c — kernels/value_concentration.h: shares of the top x%
 * against a sort of the same values (exact at bin boundaries, within the documented 0.55% of
 * the boundary bin otherwise), the input order changing only rounding, and the edges (zeros, NaN,
 * no value). The two parts: the bins added piece after piece in order equal to the bins of the
 * whole, bit for bit, and the counts of pieces counted apart adding up to them; the walk on the
 * bins of the whole equal to sgs_value_top_shares, bit for bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/value_concentration.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int descending(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Hand-computed: 10 customers, values 1..10 (far apart: each its own bin). */
static void test_hand_computed(void **state)
{
    (void)state;
    double v[10], total;
    for (int i = 0; i < 10; i++)
        v[i] = (double)(10 - i) * 7; /* 70, 63, ..., 7: sum 385 */
    const double f[] = {0, 0.1, 0.3, 1};
    double share[4];
    assert_int_equal(sgs_value_top_shares(v, 10, f, 4, share, &total, NULL), SGS_OK);
    sgs_assert_cmp(total, ==, 385);
    sgs_assert_cmp(share[0], ==, 0);
    sgs_assert_cmp(fabs(share[1] - 70.0 / 385), <, 1e-15);
    sgs_assert_cmp(fabs(share[2] - (70.0 + 63 + 56) / 385), <, 1e-15);
    sgs_assert_cmp(share[3], ==, 1);
}

/* Random lognormal-ish values against the sorted truth, and the same shares after a shuffle. */
static void test_against_sort(void **state)
{
    (void)state;
    const size_t n = 20000;
    double *v = malloc(n * sizeof *v), *sorted = malloc(n * sizeof *sorted);
    assert_non_null(v);
    assert_non_null(sorted);
    uint64_t seed = 7;
    for (size_t i = 0; i < n; i++) {
        double u = ((double)(sgs_rng_u64(seed, 0, i) >> 11) + 0.5) / 9007199254740992.0;
        v[i] = i % 10 == 0 ? 0 : exp(4 * u) * 10; /* a tenth worth nothing */
    }
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, descending);
    const double f[] = {0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 1};
    double share[7], again[7], total;
    assert_int_equal(sgs_value_top_shares(v, n, f, 7, share, &total, NULL), SGS_OK);
    double all = 0;
    for (size_t i = 0; i < n; i++)
        all += sorted[i];
    sgs_assert_close(total, all, 0, 1e-9);
    for (size_t j = 0; j < 7; j++) {
        size_t m = (size_t)llround(f[j] * (double)n);
        double top = 0;
        for (size_t i = 0; i < m; i++)
            top += sorted[i];
        /* the boundary bin is at most 0.55% off; bound by 0.55% of the whole top part */
        sgs_assert_close(share[j], top / all, 1e-12, 0.0055);
    }
    sgs_assert_cmp(share[6], ==, 1);
    /* reversed order: the same shares up to rounding (sums in another order) */
    for (size_t i = 0; i < n / 2; i++) {
        double t = v[i];
        v[i] = v[n - 1 - i];
        v[n - 1 - i] = t;
    }
    assert_int_equal(sgs_value_top_shares(v, n, f, 7, again, NULL, NULL), SGS_OK);
    for (size_t j = 0; j < 7; j++)
        sgs_assert_close(again[j], share[j], 1e-12, 0);
    free(v);
    free(sorted);
}

static void test_edges(void **state)
{
    (void)state;
    const double f[] = {0.5, 1};
    double share[2] = {-1, -1}, total = -1;
    double none[3] = {0, NAN, -5};
    assert_int_equal(sgs_value_top_shares(none, 3, f, 2, share, &total, NULL), SGS_OK);
    sgs_assert_cmp(total, ==, 0);
    sgs_assert_cmp(share[0], ==, 0);
    sgs_assert_cmp(share[1], ==, 0);
    assert_int_equal(sgs_value_top_shares(NULL, 0, f, 2, share, &total, NULL), SGS_OK);
    sgs_assert_cmp(total, ==, 0);
    sgs_assert_cmp(share[1], ==, 0);
    /* all equal: the top half holds half */
    double same[4] = {3, 3, 3, 3};
    assert_int_equal(sgs_value_top_shares(same, 4, f, 2, share, NULL, NULL), SGS_OK);
    sgs_assert_cmp(share[0], ==, 0.5);
    sgs_assert_cmp(share[1], ==, 1);
    sgs_error_t err = {0};
    const double bad[] = {1.5};
    assert_int_equal(sgs_value_top_shares(same, 4, bad, 1, share, NULL, &err), SGS_EINVAL);
    sgs_assert_contains(err.message, "1.5");
}

/* Seed of the random cases: SGS_TEST_SEED in the environment replays a failure. */
static uint64_t test_seed(void)
{
    const char *s = getenv("SGS_TEST_SEED");
    uint64_t seed = s ? (uint64_t)strtoull(s, NULL, 10) : 20261207u;
    print_message("seed %llu (SGS_TEST_SEED replays)\n", (unsigned long long)seed);
    return seed;
}

/* A value as a base of customers' CLV holds them, with what the bins leave out: zeros of both
 * signs, negative values, NaN, infinities, the smallest subnormal and a value near the largest,
 * and values repeated, so that a bin collects values of every piece. */
static double awkward_value(uint64_t seed, uint64_t i)
{
    uint64_t r = sgs_rng_u64(seed, 1, i);
    double u = ((double)(r >> 11) + 0.5) / 9007199254740992.0;
    switch (r % 23) {
    case 0:
        return 0.0;
    case 1:
        return -0.0;
    case 2:
        return -u * 100;
    case 3:
        return NAN;
    case 4:
        return i % 2 ? INFINITY : -INFINITY;
    case 5:
        return 4.9406564584124654e-324;
    case 6:
        return 1e300; /* large, but their sum stays finite */
    case 7:
        return 12.5; /* the same value again and again */
    default:
        return exp(12 * u - 4); /* 0.018 to 3e3: some thousands of bins */
    }
}

/* The bins added piece after piece (the pieces cut at random, empty ones among them) equal the
 * bins of the whole, every bit of every count and sum; pieces counted apart from zeros add up to
 * the same counts; the walk on the whole's bins is sgs_value_top_shares, bit for bit. */
static void test_pieces_in_order_equal_the_whole(void **state)
{
    (void)state;
    const uint64_t seed = test_seed();
    const size_t n = 30011;
    double *v = malloc(n * sizeof *v);
    uint64_t *count = calloc(SGS_VALUE_BINS, sizeof *count);
    uint64_t *piece_count = calloc(SGS_VALUE_BINS, sizeof *piece_count);
    uint64_t *apart = calloc(SGS_VALUE_BINS, sizeof *apart);
    double *sum = calloc(SGS_VALUE_BINS, sizeof *sum);
    double *piece_sum = calloc(SGS_VALUE_BINS, sizeof *piece_sum);
    double *scratch = calloc(SGS_VALUE_BINS, sizeof *scratch);
    assert_true(v && count && piece_count && apart && sum && piece_sum && scratch);
    for (size_t i = 0; i < n; i++)
        v[i] = awkward_value(seed, i);
    sgs_value_bins_add(v, n, count, sum);
    for (int round = 0; round < 8; round++) {
        memset(piece_count, 0, SGS_VALUE_BINS * sizeof *piece_count);
        memset(piece_sum, 0, SGS_VALUE_BINS * sizeof *piece_sum);
        memset(apart, 0, SGS_VALUE_BINS * sizeof *apart);
        size_t at = 0;
        for (uint64_t k = 0; at < n; k++) {
            uint64_t r = sgs_rng_u64(seed, 2 + (uint64_t)round, k);
            /* one piece in three empty; the others up to a third of the values */
            size_t len = r % 3 == 0 ? 0 : (size_t)(r >> 8) % (n / 3) + 1;
            if (len > n - at)
                len = n - at;
            sgs_value_bins_add(v + at, len, piece_count, piece_sum);
            /* the same piece from zeros, into a scratch sum: only its counts are kept */
            uint64_t *own = calloc(SGS_VALUE_BINS, sizeof *own);
            assert_non_null(own);
            memset(scratch, 0, SGS_VALUE_BINS * sizeof *scratch);
            sgs_value_bins_add(len ? v + at : NULL, len, own, scratch);
            for (size_t b = 0; b < SGS_VALUE_BINS; b++)
                apart[b] += own[b];
            free(own);
            at += len;
        }
        if (memcmp(piece_count, count, SGS_VALUE_BINS * sizeof *count) != 0 ||
            memcmp(piece_sum, sum, SGS_VALUE_BINS * sizeof *sum) != 0)
            fail_msg("round %d: the bins added piece after piece differ from the whole's "
                     "(seed %llu)",
                     round, (unsigned long long)seed);
        if (memcmp(apart, count, SGS_VALUE_BINS * sizeof *count) != 0)
            fail_msg("round %d: the pieces' counts do not add up to the whole's (seed %llu)", round,
                     (unsigned long long)seed);
    }
    /* the walk on these bins is the composition's */
    const double f[] = {0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.9, 1};
    double share[10], whole[10], total, whole_total;
    assert_int_equal(sgs_value_bins_shares(count, sum, n, f, 10, share, &total, NULL), SGS_OK);
    assert_int_equal(sgs_value_top_shares(v, n, f, 10, whole, &whole_total, NULL), SGS_OK);
    assert_memory_equal(share, whole, sizeof share);
    assert_memory_equal(&total, &whole_total, sizeof total);
    sgs_assert_cmp(total, >, 0);
    sgs_assert_cmp(share[9], ==, 1);
    free(v);
    free(count);
    free(piece_count);
    free(apart);
    free(sum);
    free(piece_sum);
    free(scratch);
}

/* By hand: a bin's count and sum, values of one bin in two pieces, what adds nothing. */
static void test_bins_by_hand(void **state)
{
    (void)state;
    uint64_t *count = calloc(SGS_VALUE_BINS, sizeof *count);
    double *sum = calloc(SGS_VALUE_BINS, sizeof *sum);
    assert_true(count && sum);
    /* 1 and 1 + 2^-10 share a bin (their first 7 mantissa bits are 0); 3 is another */
    const double a[] = {1, NAN, 3, -2}, b[] = {0x1.004p0, 0.0, INFINITY, 1};
    sgs_value_bins_add(a, 4, count, sum);
    sgs_value_bins_add(b, 4, count, sum);
    uint64_t bits;
    memcpy(&bits, &(double){1}, sizeof bits);
    size_t one = (size_t)(bits >> 45);
    memcpy(&bits, &(double){3}, sizeof bits);
    size_t three = (size_t)(bits >> 45);
    uint64_t n_counted = 0;
    for (size_t k = 0; k < SGS_VALUE_BINS; k++)
        n_counted += count[k];
    sgs_assert_cmp(n_counted, ==, 4);
    sgs_assert_cmp(count[one], ==, 3);
    sgs_assert_cmp(sum[one], ==, (1 + 0x1.004p0) + 1);
    sgs_assert_cmp(count[three], ==, 1);
    sgs_assert_cmp(sum[three], ==, 3);
    /* 8 values, the top quarter (2): 3 and one of the three in 1's bin, at their mean */
    double share, total;
    assert_int_equal(
        sgs_value_bins_shares(count, sum, 8, (const double[]){0.25}, 1, &share, &total, NULL),
        SGS_OK);
    sgs_assert_cmp(total, ==, sum[one] + 3);
    sgs_assert_cmp(share, ==, (3 + sum[one] * (1.0 / 3)) / total);
    sgs_error_t err = {0};
    assert_int_equal(
        sgs_value_bins_shares(NULL, sum, 8, (const double[]){0.25}, 1, &share, NULL, &err),
        SGS_EINVAL);
    assert_int_equal(
        sgs_value_bins_shares(count, sum, 8, (const double[]){-0.5}, 1, &share, NULL, &err),
        SGS_EINVAL);
    sgs_assert_contains(err.message, "-0.5");
    free(count);
    free(sum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_against_sort),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_bins_by_hand),
        cmocka_unit_test(test_pieces_in_order_equal_the_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
