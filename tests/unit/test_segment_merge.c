/*
 * tests/unit/test_segment_merge.c — folding small segments into their nearest neighbour:
 * a hand-computed chain of merges (centres, labels, sizes, the merge list with final
 * numbers), ties, nothing to merge, merging down to one segment, bad labels leaving the
 * input unchanged, and the same labels whatever the thread count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/segment_merge.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* n = 20 rows: segment 0 has 10, segment 1 has 7, segment 2 has 2 and segment 3 has 1. */
static void chain_labels(int32_t *labels)
{
    for (int i = 0; i < 20; i++)
        labels[i] = i < 10 ? 0 : i < 17 ? 1 : i < 19 ? 2 : 3;
}

static void test_chain_of_merges_hand_computed(void **state)
{
    (void)state;
    /* Centres c0 = (0,0), c1 = (10,0), c2 = (9,1), c3 = (8.5,1); min_share 0.2 of 20 rows:
     * a segment is small under 4 rows.
     * 1. Segment 3 (1 row) is the smallest; nearest is c2 (squared distance 0.25, c1: 3.25):
     *    c2 = (2 (9,1) + 1 (8.5,1)) / 3 = (26.5/3, 1), size 3.
     * 2. Segment 2 (3 rows) is still small; nearest is c1 (1.1667^2 + 1 = 2.36; c0: 79):
     *    c1 = (7 (10,0) + 3 (26.5/3, 1)) / 10 = (9.65, 0.3), size 10.
     * 3. Segments 0 and 1 hold 10 rows each: done. k_out = 2, and the rows of segments 2 and
     *    3 are now in final segment 1. */
    int32_t labels[20];
    chain_labels(labels);
    double centers[8] = {0, 0, 10, 0, 9, 1, 8.5, 1};
    sgs_segment_merge_t merges[4];
    size_t k_out = 0, n_merges = 0, sizes[4] = {0};
    assert_int_equal(sgs_segments_merge_small(labels, 20, centers, 4, 2, 0.2, NULL, &k_out, merges,
                                              &n_merges, sizes, NULL),
                     0);
    assert_int_equal(k_out, 2);
    assert_int_equal(n_merges, 2);
    assert_int_equal(merges[0].from, 3);
    assert_int_equal(merges[0].customers, 1);
    assert_int_equal(merges[0].into, 1); /* joined 2, which then joined final segment 1 */
    assert_int_equal(merges[1].from, 2);
    assert_int_equal(merges[1].customers, 3);
    assert_int_equal(merges[1].into, 1);
    assert_int_equal(sizes[0], 10);
    assert_int_equal(sizes[1], 10);
    sgs_assert_close(centers[0], 0, 0, 0);
    sgs_assert_close(centers[1], 0, 0, 0);
    sgs_assert_close(centers[2], 9.65, 1e-14, 1e-14);
    sgs_assert_close(centers[3], 0.3, 1e-15, 1e-14);
    for (int i = 0; i < 20; i++)
        assert_int_equal(labels[i], i < 10 ? 0 : 1);
}

static void test_ties_and_renumbering(void **state)
{
    (void)state;
    /* Segment 1 (1 row) sits at (5,0), halfway between segment 0 at (0,0) and segment 2 at
     * (10,0): it joins the lower number, 0. Segment 2 becomes final segment 1. Segments 3 and
     * 4 hold one row each and are both small: the lower number goes first. */
    int32_t labels[12] = {0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 3, 4};
    double centers[10] = {0, 0, 5, 0, 10, 0, 10, 1, 0, 1};
    sgs_segment_merge_t merges[5];
    size_t k_out = 0, n_merges = 0;
    assert_int_equal(sgs_segments_merge_small(labels, 12, centers, 5, 2, 0.1, NULL, &k_out, merges,
                                              &n_merges, NULL, NULL),
                     0);
    /* threshold 1.2 rows: segments 1, 3, 4 (one row each) merge, in the order 1, 3, 4 */
    assert_int_equal(k_out, 2);
    assert_int_equal(n_merges, 3);
    assert_int_equal(merges[0].from, 1);
    assert_int_equal(merges[0].into, 0);
    assert_int_equal(merges[1].from, 3);
    assert_int_equal(merges[1].into, 1); /* (10,1) is nearest to (10,0): old 2, final 1 */
    assert_int_equal(merges[2].from, 4);
    assert_int_equal(merges[2].into, 0); /* (0,1) is nearest to segment 0's centre */
    const int32_t want[12] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0};
    assert_memory_equal(labels, want, sizeof want);
    /* segment 0: (5 (0,0) + (5,0)) / 6, then with (0,1): (6 c + (0,1)) / 7 = (5/7, 1/7) */
    sgs_assert_close(centers[0], 5.0 / 7.0, 0, 1e-15);
    sgs_assert_close(centers[1], 1.0 / 7.0, 0, 1e-15);
    sgs_assert_close(centers[2], 10, 0, 1e-15);
    sgs_assert_close(centers[3], 0.2, 1e-16, 1e-15);
}

static void test_nothing_to_merge_and_down_to_one(void **state)
{
    (void)state;
    int32_t labels[20], before[20];
    chain_labels(labels);
    memcpy(before, labels, sizeof labels);
    double centers[8] = {0, 0, 10, 0, 9, 1, 8.5, 1}, centers_before[8];
    memcpy(centers_before, centers, sizeof centers);
    sgs_segment_merge_t merges[4];
    size_t k_out = 0, n_merges = 9;
    /* min_share 0 merges nothing: an empty segment (5 here) is kept too */
    double centers5[10] = {0, 0, 10, 0, 9, 1, 8.5, 1, 3, 3};
    assert_int_equal(sgs_segments_merge_small(labels, 20, centers5, 5, 2, 0, NULL, &k_out, merges,
                                              &n_merges, NULL, NULL),
                     0);
    assert_int_equal(k_out, 5);
    assert_int_equal(n_merges, 0);
    assert_memory_equal(labels, before, sizeof before);
    /* 0.05 of 20 = 1 row: segment 3 holds exactly 1, which is not under 1 */
    assert_int_equal(sgs_segments_merge_small(labels, 20, centers, 4, 2, 0.05, NULL, &k_out, merges,
                                              &n_merges, NULL, NULL),
                     0);
    assert_int_equal(k_out, 4);
    assert_int_equal(n_merges, 0);
    assert_memory_equal(centers, centers_before, sizeof centers);
    /* min_share 0.9: everything merges until one segment is left */
    assert_int_equal(sgs_segments_merge_small(labels, 20, centers, 4, 2, 0.9, NULL, &k_out, merges,
                                              &n_merges, NULL, NULL),
                     0);
    assert_int_equal(k_out, 1);
    assert_int_equal(n_merges, 3);
    for (int i = 0; i < 20; i++)
        assert_int_equal(labels[i], 0);
    /* the one centre is the mean of all rows' centres: (10 (0,0) + 7 (10,0) + 2 (9,1) +
     * (8.5,1)) / 20 = (96.5 / 20, 3 / 20), whatever the merge order */
    sgs_assert_close(centers[0], 96.5 / 20, 1e-14, 1e-14);
    sgs_assert_close(centers[1], 3.0 / 20, 1e-15, 1e-14);
}

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    int32_t labels[20], before[20];
    chain_labels(labels);
    labels[7] = 4;
    memcpy(before, labels, sizeof labels);
    double centers[8] = {0, 0, 10, 0, 9, 1, 8.5, 1}, centers_before[8];
    memcpy(centers_before, centers, sizeof centers);
    sgs_segment_merge_t merges[4];
    size_t k_out = 0, n_merges = 0;
    sgs_error_t err = {0};
    assert_int_equal(sgs_segments_merge_small(labels, 20, centers, 4, 2, 0.2, NULL, &k_out, merges,
                                              &n_merges, NULL, &err),
                     SGS_EDATA);
    assert_string_equal(err.message, "merge segments: row 7 has label 4 (k = 4)");
    assert_memory_equal(labels, before, sizeof before);
    labels[15] = -1; /* a second bad label, in another thread's share: the first is named */
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1};
        assert_int_equal(sgs_segments_merge_small(labels, 20, centers, 4, 2, 0.2, &ex, &k_out,
                                                  merges, &n_merges, NULL, &err),
                         SGS_EDATA);
        assert_string_equal(err.message, "merge segments: row 7 has label 4 (k = 4)");
    }
    labels[15] = before[15];
    assert_memory_equal(centers, centers_before, sizeof centers);
    assert_int_equal(sgs_segments_merge_small(labels, 20, centers, 4, 2, 1.0, NULL, &k_out, merges,
                                              &n_merges, NULL, &err),
                     SGS_EINVAL);
    assert_int_equal(sgs_segments_merge_small(labels, 20, centers, 0, 2, 0.1, NULL, &k_out, merges,
                                              &n_merges, NULL, &err),
                     SGS_EINVAL);
}

/* The kernel on 1, 2 and 3 threads against its serial twin: the same labels, centres and
 * merges, bitwise. */
static void test_same_labels_for_1_2_3_threads(void **state)
{
    (void)state;
    /* 50,000 rows over 8 segments, three of them small (under 1%). */
    size_t n = 50000, k = 8, d = 3;
    int32_t *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    double centers[8 * 3], c_ref[8 * 3], c_got[8 * 3];
    for (size_t j = 0; j < k * d; j++)
        centers[j] = sgs_rng_uniform(11, 1, j) * 10;
    for (size_t i = 0; i < n; i++) {
        double u = sgs_rng_uniform(11, 2, i);
        ref[i] = u < 0.004 ? 5 : u < 0.01 ? 6 : u < 0.012 ? 7 : (int32_t)(u * 5) % 5;
    }
    sgs_segment_merge_t m_ref[8], m_got[8];
    size_t k_ref, k_got, nm_ref, nm_got;
    memcpy(c_ref, centers, sizeof centers);
    assert_int_equal(
        sgs_segments_merge_small_ref(ref, n, c_ref, k, d, 0.01, &k_ref, m_ref, &nm_ref, NULL, NULL),
        0);
    assert_int_equal(k_ref, 5);
    assert_int_equal(nm_ref, 3);
    for (int t = 1; t <= 3; t++) {
        sgs_exec_t ex = {.n_threads = t, .grain = 1}; /* grain 1: every thread works */
        for (size_t i = 0; i < n; i++) {
            double u = sgs_rng_uniform(11, 2, i);
            got[i] = u < 0.004 ? 5 : u < 0.01 ? 6 : u < 0.012 ? 7 : (int32_t)(u * 5) % 5;
        }
        memcpy(c_got, centers, sizeof centers);
        assert_int_equal(sgs_segments_merge_small(got, n, c_got, k, d, 0.01, &ex, &k_got, m_got,
                                                  &nm_got, NULL, NULL),
                         0);
        assert_int_equal(k_got, k_ref);
        assert_int_equal(nm_got, nm_ref);
        assert_memory_equal(got, ref, n * sizeof *ref);
        assert_memory_equal(c_got, c_ref, k_ref * d * sizeof(double));
        assert_memory_equal(m_got, m_ref, nm_ref * sizeof *m_ref);
    }
    free(ref);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_of_merges_hand_computed),
        cmocka_unit_test(test_ties_and_renumbering),
        cmocka_unit_test(test_nothing_to_merge_and_down_to_one),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_same_labels_for_1_2_3_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
