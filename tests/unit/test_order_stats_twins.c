/*
 * tests/unit/test_order_stats_twins.c — medians per group against their serial reference twin
 * (kernels/order_stats.h sgs_group_medians_ref: sort and take the middle) on 1, 2 and 3
 * threads, on crafted and random data: the same bits, the same codes and messages; Floyd-Rivest
 * selection against introselect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/order_stats.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Random values (ties, NaN, infinities; no -0.0, whose bits the order does not fix) in groups
 * -2..n_groups-1, some groups empty; medians, with and without labels, against the twin. */
static void test_group_medians_match_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 2, 999, 20000, 3 * 16384 + 5};
    const int32_t groups[] = {0, 1, 7, 40};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (size_t q = 0; q < sizeof groups / sizeof groups[0]; q++) {
            uint64_t seed = 10 * z + q, s = seed;
            size_t n = sizes[z];
            int32_t ng = groups[q];
            double *v = malloc((n + 1) * sizeof *v), *scratch = malloc((n + 1) * sizeof *v);
            int32_t *g = malloc((n + 1) * sizeof *g);
            double ref[40], got[40], ref_all, got_all;
            assert_true(v && g && scratch);
            for (size_t i = 0; i < n; i++) {
                uint64_t u = sgs_test_next(&s) % 100;
                v[i] = u < 5    ? (double)NAN
                       : u < 7  ? (u == 5 ? 1.0 : -1.0) * (double)INFINITY
                       : u < 40 ? (double)(sgs_test_next(&s) % 9)
                                : (double)(int64_t)(sgs_test_next(&s) % 200001 - 100000) / 7.0;
                g[i] = ng > 0 ? (int32_t)(sgs_test_next(&s) % (uint64_t)(ng + 2)) - 2 : -1;
                if (ng > 3 && g[i] == 3)
                    g[i] = 2; /* group 3 stays empty */
            }
            for (int labelled = 0; labelled <= 1; labelled++) {
                const int32_t *lab = labelled ? g : NULL;
                int32_t k = labelled ? ng : 0;
                assert_int_equal(sgs_group_medians_ref(n, v, lab, k, ref, &ref_all, NULL), 0);
                for (int t = 1; t <= 3; t++) {
                    sgs_exec_t ex = {.n_threads = t, .grain = 1};
                    assert_int_equal(sgs_group_medians(n, v, lab, k, got, &got_all, &ex, NULL), 0);
                    if (memcmp(ref, got, (size_t)k * sizeof ref[0]) != 0 ||
                        memcmp(&ref_all, &got_all, sizeof ref_all) != 0)
                        fail_msg("seed %llu, %d threads: medians differ from the reference",
                                 (unsigned long long)seed, t);
                    assert_int_equal(
                        sgs_group_medians_into(n, v, lab, k, got, &got_all, scratch, &ex, NULL), 0);
                    assert_memory_equal(ref, got, (size_t)k * sizeof ref[0]);
                    assert_memory_equal(&ref_all, &got_all, sizeof ref_all);
                }
            }
            if (n > 10 && ng > 0) { /* a label beyond the count: the same message */
                g[n - 3] = ng;
                v[n - 3] = 1.0;
                g[n / 2] = ng + 1; /* the first of two, in another block of rows */
                v[n / 2] = 2.0;
                sgs_error_t e_ref = {0}, e = {0};
                sgs_exec_t ex = {.n_threads = 3, .grain = 1};
                assert_int_equal(sgs_group_medians_ref(n, v, g, ng, ref, NULL, &e_ref), SGS_EDATA);
                assert_int_equal(sgs_group_medians(n, v, g, ng, got, NULL, &ex, &e), SGS_EDATA);
                assert_string_equal(e.message, e_ref.message);
            }
            free(v);
            free(g);
            free(scratch);
        }
}

/* Floyd-Rivest (sgs_select_kth_fr, sgs_median_inplace_fr) against sgs_select_kth and
 * sgs_median_inplace: the same bits at every rank tried, and the partition property, on random
 * values, heavy ties, sorted, reversed, constant and organ-pipe arrays of sizes around the
 * sample threshold (600) and well beyond it. */
static void test_floyd_rivest_matches_introselect(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 3, 17, 600, 601, 602, 5001, 100000};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int kind = 0; kind < 6; kind++) {
            size_t n = sizes[z];
            uint64_t seed = 1000 + 10 * z + (uint64_t)kind, s = seed;
            double *v = malloc(n * sizeof *v), *a = malloc(n * sizeof *a),
                   *b = malloc(n * sizeof *b);
            assert_true(v && a && b);
            for (size_t i = 0; i < n; i++) {
                double r = (double)(int64_t)(sgs_test_next(&s) % 2000001 - 1000000) / 3.0;
                v[i] = kind == 0   ? r
                       : kind == 1 ? (double)(sgs_test_next(&s) % 4) /* ties everywhere */
                       : kind == 2 ? (double)i
                       : kind == 3 ? (double)(n - i)
                       : kind == 4 ? 2.5
                                   : (double)(i < n / 2 ? i : n - i);
            }
            const size_t ranks[] = {0,     1,    n / 100, (n - 1) / 2, n / 2, n - 1 - n / 100,
                                    n - 2, n - 1};
            for (size_t q = 0; q < sizeof ranks / sizeof ranks[0]; q++) {
                size_t k = ranks[q];
                if (k >= n)
                    continue;
                memcpy(a, v, n * sizeof *v);
                memcpy(b, v, n * sizeof *v);
                double want = sgs_select_kth(a, n, k), got = sgs_select_kth_fr(b, n, k);
                if (memcmp(&want, &got, sizeof want) != 0)
                    fail_msg("seed %llu, n %zu, kind %d, rank %zu: %.17g, introselect %.17g",
                             (unsigned long long)seed, n, kind, k, got, want);
                for (size_t i = 0; i < n; i++)
                    if (i < k ? b[i] > got : i > k && b[i] < got)
                        fail_msg("seed %llu, n %zu, kind %d, rank %zu: x[%zu] = %.17g on the "
                                 "wrong side of %.17g",
                                 (unsigned long long)seed, n, kind, k, i, b[i], got);
            }
            memcpy(a, v, n * sizeof *v);
            memcpy(b, v, n * sizeof *v);
            double want = sgs_median_inplace(a, n), got = sgs_median_inplace_fr(b, n);
            if (memcmp(&want, &got, sizeof want) != 0)
                fail_msg("seed %llu, n %zu, kind %d: median %.17g, introselect's %.17g",
                         (unsigned long long)seed, n, kind, got, want);
            free(v);
            free(a);
            free(b);
        }
    double none = 0;
    assert_true(isnan(sgs_median_inplace_fr(&none, 0)));
}

/* Both zeros: sgs_has_both_zeros, and group medians that then take sgs_median_inplace's order
 * (its zero), as before Floyd-Rivest: one group holding every row, its median and the overall
 * median (selected from what the group's selection left) as sgs_median_inplace gives them. */
static void test_both_zeros_keep_introselect(void **state)
{
    (void)state;
    double z[4] = {1.0, -0.0, 2.0, 0.0};
    assert_int_equal(sgs_has_both_zeros(z, 4), 1);
    assert_int_equal(sgs_has_both_zeros(z, 3), 0);
    assert_int_equal(sgs_has_both_zeros(z + 2, 2), 0);
    assert_int_equal(sgs_has_both_zeros(z, 0), 0);
    size_t n = 5001;
    uint64_t s = 77;
    double *v = malloc(n * sizeof *v), *copy = malloc(n * sizeof *v),
           *scratch = malloc(n * sizeof *v);
    int32_t *g = calloc(n, sizeof *g);
    assert_true(v && copy && scratch && g);
    for (size_t i = 0; i < n; i++) {
        uint64_t u = sgs_test_next(&s) % 4;
        v[i] = u == 0 ? -0.0 : u == 1 ? 0.0 : u == 2 ? 1.0 : -1.0;
    }
    memcpy(copy, v, n * sizeof *v);
    double want_group = sgs_median_inplace(copy, n), want_all = sgs_median_inplace(copy, n);
    double got_group, got_all;
    sgs_exec_t ex = {.n_threads = 2, .grain = 1};
    assert_int_equal(sgs_group_medians_into(n, v, g, 1, &got_group, &got_all, scratch, &ex, NULL),
                     0);
    assert_memory_equal(&want_group, &got_group, sizeof want_group);
    assert_memory_equal(&want_all, &got_all, sizeof want_all);
    free(v);
    free(copy);
    free(scratch);
    free(g);
}

/* With both zeros the medians' zeros depend on the order of the values: the groups' values
 * are laid out in row order, bucket after bucket (unlabelled rows first), whatever the thread
 * count. Over several blocks of rows and four buckets, on 1 to 3 threads, the bits are those of
 * sgs_median_inplace on that layout, group after group and then the whole. */
static void test_both_zeros_layout_on_threads(void **state)
{
    (void)state;
    size_t n = 3 * 16384 + 11;
    uint64_t s = 91;
    double *v = malloc(n * sizeof *v), *layout = malloc(n * sizeof *v),
           *scratch = malloc(n * sizeof *v);
    int32_t *g = malloc(n * sizeof *g);
    assert_true(v && layout && scratch && g);
    for (size_t i = 0; i < n; i++) {
        uint64_t u = sgs_test_next(&s) % 8;
        v[i] = u < 3 ? -0.0 : u < 6 ? 0.0 : u == 6 ? 1.0 : (double)NAN;
        g[i] = (int32_t)(sgs_test_next(&s) % 4) - 1;
    }
    double want[3], want_all;
    size_t start[4], m = 0;
    for (int32_t b = -1; b < 3; b++) {
        start[b + 1] = m;
        for (size_t i = 0; i < n; i++)
            if (g[i] == b && isfinite(v[i]))
                layout[m++] = v[i];
    }
    for (int32_t b = 0; b < 3; b++) {
        size_t end = b < 2 ? start[b + 2] : m;
        want[b] = sgs_median_inplace(layout + start[b + 1], end - start[b + 1]);
    }
    want_all = sgs_median_inplace(layout, m);
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        double got[3], got_all;
        assert_int_equal(sgs_group_medians_into(n, v, g, 3, got, &got_all, scratch, &ex, NULL), 0);
        if (memcmp(got, want, sizeof want) || memcmp(&got_all, &want_all, sizeof want_all))
            fail_msg("%d threads: not the bits of the medians of the values in row order", t);
    }
    free(v);
    free(layout);
    free(scratch);
    free(g);
}

/* Hand-computed: odd and even counts, an empty group, the overall median. */
static void test_group_medians_by_hand(void **state)
{
    (void)state;
    const double v[] = {5, 1, NAN, 3, 8, 2, 4, INFINITY};
    const int32_t g[] = {0, 0, 0, 1, 0, 1, -1, 1};
    double ref[3], got[3], all;
    assert_int_equal(sgs_group_medians_ref(8, v, g, 3, ref, &all, NULL), 0);
    sgs_assert_cmp(ref[0], ==, 5.0); /* 1, 5, 8 */
    sgs_assert_cmp(ref[1], ==, 2.5); /* 2, 3 */
    sgs_assert_nan(ref[2]);
    sgs_assert_cmp(all, ==, 3.5); /* 1 2 3 4 5 8 */
    sgs_exec_t ex = {.n_threads = 2, .grain = 1};
    assert_int_equal(sgs_group_medians(8, v, g, 3, got, &all, &ex, NULL), 0);
    assert_memory_equal(ref, got, sizeof ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_medians_match_the_reference),
        cmocka_unit_test(test_group_medians_by_hand),
        cmocka_unit_test(test_floyd_rivest_matches_introselect),
        cmocka_unit_test(test_both_zeros_keep_introselect),
        cmocka_unit_test(test_both_zeros_layout_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
