/*
 * tests/unit/test_suggest.c — the edit distance behind "did you mean" (io/suggest.h):
 * hand-computed distances, symmetry, case folding, the empty string and the length limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/suggest.h"
#include "tests/support/test_support.h"

#include <stdint.h>
#include <string.h>

static size_t dist(const char *a, const char *b, int ignore_case)
{
    return sgs_edit_distance(a, strlen(a), b, strlen(b), ignore_case);
}

static void test_hand_computed(void **state)
{
    (void)state;
    sgs_assert_cmp(dist("kitten", "sitting", 0), ==, 3); /* k->s, e->i, +g */
    sgs_assert_cmp(dist("sitting", "kitten", 0), ==, 3);
    sgs_assert_cmp(dist("flaw", "lawn", 0), ==, 2);
    sgs_assert_cmp(dist("rfm.bins", "rfm.bins", 0), ==, 0);
    sgs_assert_cmp(dist("rfm.bin", "rfm.bins", 0), ==, 1);
    sgs_assert_cmp(dist("", "abc", 0), ==, 3);
    sgs_assert_cmp(dist("abc", "", 0), ==, 3);
    sgs_assert_cmp(dist("", "", 0), ==, 0);
    /* case: folded only when asked, ASCII letters only */
    sgs_assert_cmp(dist("Customer_ID", "customer_id", 1), ==, 0);
    sgs_assert_cmp(dist("Customer_ID", "customer_id", 0), ==, 3);
    /* a prefix of a longer string: only its first na characters count */
    sgs_assert_cmp(sgs_edit_distance("amountXYZ", 6, "amount", 6, 0), ==, 0);
}

static void test_long_strings_are_never_closest(void **state)
{
    (void)state;
    char a[80];
    memset(a, 'a', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    sgs_assert_cmp(dist(a, "a", 0), ==, SIZE_MAX);
    sgs_assert_cmp(sgs_edit_distance(a, 64, a, 64, 0), ==, 0); /* 64 is still measured */
    sgs_assert_cmp(sgs_edit_distance(a, 65, a, 64, 0), ==, SIZE_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_long_strings_are_never_closest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
