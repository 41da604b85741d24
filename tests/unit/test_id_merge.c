/*
 * tests/unit/test_id_merge.c — the union of sorted id lists (kernels/id_merge.h): a small case
 * by hand (every map and count); random lists that overlap in every way, some empty, merged by
 * ranges on 1 to 4 threads against the serial reference twin, every map and count equal; the
 * errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/id_merge.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <stdlib.h>
#include <string.h>

static void test_by_hand(void **state)
{
    (void)state;
    const int64_t a[] = {2, 5, 9}, b[] = {1, 5, 7}, c[] = {5, 7, 9, 12};
    int64_t a_in[6], c_in[6], b_at[3], out[6];
    sgs_id_list_t lists[3] = {{a, 3, a_in, NULL}, {b, 3, NULL, b_at}, {c, 4, c_in, NULL}};
    sgs_exec_t ex = {.n_threads = 2, .grain = 1};
    sgs_id_merge_t m;
    size_t n_union, n_new[3];
    sgs_assert_cmp(sgs_id_merge_count(&m, lists, 3, &ex, &n_union, n_new, NULL), ==, SGS_OK);
    sgs_assert_cmp(n_union, ==, 6); /* 1 2 5 7 9 12 */
    sgs_assert_cmp(n_new[0], ==, 3);
    sgs_assert_cmp(n_new[1], ==, 2); /* 1 and 7 */
    sgs_assert_cmp(n_new[2], ==, 1); /* 12 */
    sgs_id_merge_fill(&m, lists, &ex, out);
    sgs_id_merge_free(&m);
    const int64_t want[] = {1, 2, 5, 7, 9, 12}, want_a[] = {-1, 0, 1, -1, 2, -1},
                  want_c[] = {-1, -1, 0, 1, 2, 3}, want_b[] = {0, 2, 3};
    assert_memory_equal(out, want, sizeof want);
    assert_memory_equal(a_in, want_a, sizeof want_a);
    assert_memory_equal(c_in, want_c, sizeof want_c);
    assert_memory_equal(b_at, want_b, sizeof want_b);
}

/* n ascending ids drawn from 0..range with probability p each (out of 1000). */
static size_t random_list(uint64_t *s, int64_t range, unsigned p, int64_t *id)
{
    size_t n = 0;
    for (int64_t v = 0; v < range; v++)
        if (sgs_test_next(s) % 1000 < p)
            id[n++] = v * 3 - 1000; /* negative ids too */
    return n;
}

static void test_ranges_against_the_reference(void **state)
{
    (void)state;
    enum { RANGE = 200000, K = 4 };
    static const unsigned density[][K] = {
        {500, 550, 480, 200}, {900, 0, 30, 10}, {0, 0, 0, 0}, {5, 999, 0, 700}, {1, 1, 1, 1}};
    int64_t *id[K], *in_ref[K], *in_got[K], *at_ref[K], *at_got[K];
    int64_t *out_ref = malloc(RANGE * sizeof *out_ref), *out_got = malloc(RANGE * sizeof *out_got);
    for (int l = 0; l < K; l++) {
        id[l] = malloc(RANGE * sizeof *id[l]);
        in_ref[l] = malloc(RANGE * sizeof *in_ref[l]);
        in_got[l] = malloc(RANGE * sizeof *in_got[l]);
        at_ref[l] = malloc(RANGE * sizeof *at_ref[l]);
        at_got[l] = malloc(RANGE * sizeof *at_got[l]);
        assert_true(id[l] && in_ref[l] && in_got[l] && at_ref[l] && at_got[l]);
    }
    assert_true(out_ref && out_got);
    for (size_t d = 0; d < sizeof density / sizeof density[0]; d++) {
        uint64_t s = 77 + d;
        sgs_id_list_t ref[K], got[K];
        for (int l = 0; l < K; l++) {
            size_t n = random_list(&s, RANGE, density[d][l], id[l]);
            ref[l] = (sgs_id_list_t){id[l], n, in_ref[l], at_ref[l]};
            got[l] = (sgs_id_list_t){id[l], n, in_got[l], at_got[l]};
        }
        for (int k = 1; k <= K; k++) {
            size_t n_ref, new_ref[K];
            sgs_assert_cmp(sgs_id_merge_ref(ref, k, out_ref, &n_ref, new_ref, NULL), ==, SGS_OK);
            for (int t = 1; t <= 4; t++) {
                sgs_exec_t ex = {.n_threads = t, .grain = 1};
                sgs_id_merge_t m;
                size_t n_got, new_got[K];
                sgs_assert_cmp(sgs_id_merge_count(&m, got, k, &ex, &n_got, new_got, NULL), ==,
                               SGS_OK);
                if (n_got != n_ref || memcmp(new_got, new_ref, (size_t)k * sizeof *new_ref))
                    fail_msg("density %zu, %d lists, %d threads: counts differ", d, k, t);
                sgs_id_merge_fill(&m, got, &ex, out_got);
                sgs_id_merge_free(&m);
                int same = memcmp(out_got, out_ref, n_ref * sizeof *out_ref) == 0;
                for (int l = 0; l < k; l++)
                    same = same && !memcmp(in_got[l], in_ref[l], n_ref * sizeof *in_ref[l]) &&
                           !memcmp(at_got[l], at_ref[l], got[l].n * sizeof *at_ref[l]);
                if (!same)
                    fail_msg("density %zu, %d lists, %d threads: not the serial merge", d, k, t);
            }
        }
    }
    for (int l = 0; l < K; l++) {
        free(id[l]);
        free(in_ref[l]);
        free(in_got[l]);
        free(at_ref[l]);
        free(at_got[l]);
    }
    free(out_ref);
    free(out_got);
}

static void test_errors(void **state)
{
    (void)state;
    sgs_id_list_t lists[5] = {{NULL, 3, NULL, NULL}};
    sgs_id_merge_t m;
    size_t n;
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_id_merge_count(&m, lists, 1, NULL, &n, NULL, &err), ==, SGS_EINVAL);
    sgs_assert_contains(err.message, "list 0 has no ids");
    sgs_id_merge_free(&m);
    sgs_assert_cmp(sgs_id_merge_count(&m, lists, 5, NULL, &n, NULL, &err), ==, SGS_EINVAL);
    sgs_assert_contains(err.message, "5 lists");
    sgs_id_merge_free(&m);
    sgs_assert_cmp(sgs_id_merge_ref(lists, 0, NULL, &n, NULL, &err), ==, SGS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_ranges_against_the_reference),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
