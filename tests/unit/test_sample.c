/*
 * tests/unit/test_sample.c — rows chosen by the smallest keys of their ids (kernels/sample.h):
 * against its serial twin (a plain sort of every key), the same rows for 1, 2 and 3 threads, exact
 * sizes, the edges (none, all, empty input), nested samples, ties of equal ids, an even spread, and
 * an allocation failure sweep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/sample.h"
#include "tests/support/test_support.h"

#include <stdlib.h>
#include <string.h>

/* The reference twin (kernels/sample.h), its eligible count checked on the way. */
static size_t reference(const int64_t *id, const uint8_t *eligible, size_t n, size_t n_sample,
                        uint64_t seed, uint64_t stream, size_t *out)
{
    size_t k = 0, n_eligible = 0, count = 0;
    assert_int_equal(
        sgs_sample_by_key_ref(id, eligible, n, n_sample, seed, stream, out, &k, &n_eligible, NULL),
        0);
    for (size_t i = 0; i < n; i++)
        count += !eligible || eligible[i];
    assert_int_equal(n_eligible, count);
    return k;
}

/* n ids (ascending, with gaps, as customer ids are) and about 2/3 of them eligible. */
static void make_rows(size_t n, uint64_t seed, int64_t *id, uint8_t *eligible)
{
    int64_t next = 1000;
    for (size_t i = 0; i < n; i++) {
        next += 1 + (int64_t)(sgs_rng_u64(seed, 1, i) % 5);
        id[i] = next;
        eligible[i] = sgs_rng_u64(seed, 2, i) % 3 != 0;
    }
}

static void test_against_reference_for_any_thread_count(void **state)
{
    (void)state;
    const uint64_t seed = 20261206;
    enum { n = 100000 };
    int64_t *id = malloc(n * sizeof *id);
    uint8_t *eligible = malloc(n);
    size_t *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
    assert_non_null(id);
    assert_non_null(eligible);
    assert_non_null(want);
    assert_non_null(got);
    make_rows(n, seed, id, eligible);
    const size_t sizes[] = {1, 7, 1000, 33333, 66000, 66666, 70000, n, SIZE_MAX};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t k = reference(id, eligible, n, sizes[s], seed, 9, want);
        for (int threads = 1; threads <= 3; threads++) {
            sgs_exec_t ex = {.n_threads = threads, .grain = 1};
            size_t n_chosen = 0, n_eligible = 0;
            memset(got, 0xff, n * sizeof *got);
            assert_int_equal(sgs_sample_by_key(id, eligible, n, sizes[s], seed, 9, got, &n_chosen,
                                               &n_eligible, &ex, NULL),
                             0);
            if (n_chosen != k || memcmp(got, want, k * sizeof *got) != 0)
                fail_msg("seed %llu, sample %zu, %d threads: %zu rows chosen, reference %zu, or "
                         "other rows",
                         (unsigned long long)seed, sizes[s], threads, n_chosen, k);
            size_t elig = 0;
            for (size_t i = 0; i < n; i++)
                elig += eligible[i];
            assert_int_equal(n_eligible, elig);
        }
    }
    free(id);
    sgs_free(eligible);
    free(want);
    free(got);
}

static void test_edges(void **state)
{
    (void)state;
    int64_t id[5] = {5, 4, 3, 2, 1};
    size_t got[5], n_chosen = 99, n_eligible = 99;
    /* empty input */
    assert_int_equal(
        sgs_sample_by_key(NULL, NULL, 0, 3, 1, 2, NULL, &n_chosen, &n_eligible, NULL, NULL), 0);
    assert_int_equal(n_chosen, 0);
    assert_int_equal(n_eligible, 0);
    /* none wanted */
    assert_int_equal(
        sgs_sample_by_key(id, NULL, 5, 0, 1, 2, got, &n_chosen, &n_eligible, NULL, NULL), 0);
    assert_int_equal(n_chosen, 0);
    assert_int_equal(n_eligible, 5);
    /* all of them, in row order */
    assert_int_equal(sgs_sample_by_key(id, NULL, 5, 5, 1, 2, got, &n_chosen, NULL, NULL, NULL), 0);
    assert_int_equal(n_chosen, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(got[i], i);
    /* nothing eligible */
    uint8_t none[5] = {0};
    assert_int_equal(
        sgs_sample_by_key(id, none, 5, 2, 1, 2, got, &n_chosen, &n_eligible, NULL, NULL), 0);
    assert_int_equal(n_chosen, 0);
    assert_int_equal(n_eligible, 0);
    /* NULL output */
    sgs_error_t err = {0};
    assert_int_equal(sgs_sample_by_key(id, NULL, 5, 2, 1, 2, NULL, &n_chosen, NULL, NULL, &err),
                     SGS_EINVAL);
    assert_int_equal(err.code, SGS_EINVAL);
    /* the key is sgs_rng_u64's, computed with its (seed, stream) rounds hoisted */
    for (uint64_t s = 0; s < 50; s++) {
        int64_t v = (int64_t)sgs_rng_u64(s, 1, 2);
        sgs_assert_cmp(sgs_sample_key(s, s * 7919, v), ==, sgs_rng_u64(s, s * 7919, (uint64_t)v));
    }
}

/* A row in a sample stays in every larger one; equal ids are ordered by row. */
static void test_nested_and_ties(void **state)
{
    (void)state;
    enum { n = 20000 };
    int64_t *id = malloc(n * sizeof *id);
    uint8_t *eligible = malloc(n);
    size_t *small = malloc(n * sizeof *small), *big = malloc(n * sizeof *big);
    assert_non_null(id);
    assert_non_null(eligible);
    assert_non_null(small);
    assert_non_null(big);
    make_rows(n, 77, id, eligible);
    size_t ns, nb;
    assert_int_equal(sgs_sample_by_key(id, eligible, n, 500, 77, 1, small, &ns, NULL, NULL, NULL),
                     0);
    assert_int_equal(sgs_sample_by_key(id, eligible, n, 5000, 77, 1, big, &nb, NULL, NULL, NULL),
                     0);
    assert_int_equal(ns, 500);
    assert_int_equal(nb, 5000);
    for (size_t j = 0, k = 0; j < ns; j++) {
        while (k < nb && big[k] < small[j])
            k++;
        if (k == nb || big[k] != small[j])
            fail_msg("row %zu is in the sample of 500 but not in that of 5000", small[j]);
    }
    /* 20 rows per id: whole groups, the last one cut by row */
    for (size_t i = 0; i < n; i++)
        id[i] = (int64_t)(i % 1000);
    const size_t sizes[] = {1, 19, 20, 21, 555, 19999};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t k = reference(id, NULL, n, sizes[s], 8, 9, small);
        sgs_exec_t ex = {.n_threads = 2, .grain = 1};
        assert_int_equal(sgs_sample_by_key(id, NULL, n, sizes[s], 8, 9, big, &nb, NULL, &ex, NULL),
                         0);
        assert_int_equal(nb, k);
        assert_memory_equal(big, small, k * sizeof *big);
    }
    /* every id twice: the sample of 3 is the smallest key's two rows and the next one's first */
    int64_t twice[8] = {1, 1, 2, 2, 3, 3, 4, 4};
    size_t want[3], got[3], n_chosen;
    assert_int_equal(reference(twice, NULL, 8, 3, 5, 6, want), 3);
    assert_int_equal(sgs_sample_by_key(twice, NULL, 8, 3, 5, 6, got, &n_chosen, NULL, NULL, NULL),
                     0);
    assert_int_equal(n_chosen, 3);
    assert_memory_equal(got, want, sizeof got);
    free(id);
    sgs_free(eligible);
    free(small);
    free(big);
}

/* One customer in ten: about a tenth of every part of the id range and of even and odd ids. */
static void test_even_spread(void **state)
{
    (void)state;
    enum { n = 200000, k = 20000 };
    int64_t *id = malloc(n * sizeof *id);
    size_t *got = malloc(k * sizeof *got), n_chosen;
    assert_non_null(id);
    assert_non_null(got);
    for (size_t i = 0; i < n; i++)
        id[i] = (int64_t)i;
    assert_int_equal(sgs_sample_by_key(id, NULL, n, k, 42, 1, got, &n_chosen, NULL, NULL, NULL), 0);
    size_t quarter[4] = {0}, even = 0;
    for (size_t j = 0; j < n_chosen; j++) {
        quarter[got[j] / (n / 4)]++;
        even += got[j] % 2 == 0;
    }
    /* binomial sd of a quarter's count about 67, of the even count about 71: 5 sd */
    for (int q = 0; q < 4; q++)
        sgs_assert_close((double)quarter[q], k / 4.0, 340, 0);
    sgs_assert_close((double)even, k / 2.0, 360, 0);
    free(id);
    free(got);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    enum { n = 40000 };
    int64_t *id = malloc(n * sizeof *id);
    uint8_t *eligible = malloc(n);
    size_t *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
    assert_non_null(id);
    assert_non_null(eligible);
    assert_non_null(got);
    assert_non_null(want);
    make_rows(n, 3, id, eligible);
    size_t k = reference(id, eligible, n, 1234, 3, 4, want);
    for (long fail_after = 0;; fail_after++) {
        sgs_test_fail_alloc_after(fail_after);
        size_t n_chosen = 0;
        sgs_error_t err = {0};
        int rc = sgs_sample_by_key(id, eligible, n, 1234, 3, 4, got, &n_chosen, NULL, NULL, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc == SGS_OK) {
            assert_int_equal(n_chosen, k);
            assert_memory_equal(got, want, k * sizeof *got);
            break;
        }
        assert_int_equal(rc, SGS_ENOMEM);
        assert_int_equal(err.code, SGS_ENOMEM);
        sgs_assert_cmp(fail_after, <, 20);
    }
    free(id);
    sgs_free(eligible);
    free(got);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference_for_any_thread_count),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_nested_and_ties),
        cmocka_unit_test(test_even_spread),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
