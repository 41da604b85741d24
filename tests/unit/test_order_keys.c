/*
 * tests/unit/test_order_keys.c — doubles as ordered keys (kernels/order_keys.h): the keys
 * order as the values do (both zeros one key, infinities at the ends) and give the values
 * back; the sort (a radix sort past a few thousand keys) gives the keys in the order qsort
 * does, for random keys, keys alike in their high or low digits, equal keys and small counts;
 * sgs_order_keys_sorted leaves out NaN and the rows not kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/order_keys.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_keys_order_as_values(void **state)
{
    (void)state;
    const double v[] = {-INFINITY, -1e308, -2.5, -1e-310, -0.0,    0.0,
                        1e-310,    1.0,    3.5,  1e308,   INFINITY};
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++) {
        double back = sgs_order_key_value(sgs_order_key(v[i]));
        assert_true(back == v[i]);
        for (size_t j = 0; j < n; j++) {
            uint64_t a = sgs_order_key(v[i]), b = sgs_order_key(v[j]);
            assert_int_equal(a < b, v[i] < v[j]);
            assert_int_equal(a == b, v[i] == v[j]); /* -0 and +0: one key */
        }
    }
}

/* Sort a copy with sgs_order_keys_sort and with qsort; the same keys in the same order. */
static void expect_sorted_as_qsort(const uint64_t *keys, size_t n)
{
    uint64_t *got = malloc((n ? n : 1) * sizeof *got), *want = malloc((n ? n : 1) * sizeof *want);
    assert_non_null(got);
    assert_non_null(want);
    memcpy(got, keys, n * sizeof *got);
    memcpy(want, keys, n * sizeof *want);
    sgs_order_keys_sort(got, n);
    qsort(want, n, sizeof *want, compare_u64);
    if (n > 0 && memcmp(got, want, n * sizeof *got) != 0)
        fail_msg("%zu keys: not sorted as qsort sorts them", n);
    free(got);
    free(want);
}

static void test_sort_as_qsort(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 2, 100, 2047, 2048, 2049, 100000};
    uint64_t *keys = malloc(100000 * sizeof *keys);
    assert_non_null(keys);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        for (int pattern = 0; pattern < 5; pattern++) {
            for (size_t i = 0; i < n; i++) {
                uint64_t r = (uint64_t)(sgs_rng_uniform(7, (uint64_t)pattern, i) * 0x1p53);
                r = r << 11 ^ (uint64_t)(sgs_rng_uniform(8, (uint64_t)pattern, i) * 2048);
                switch (pattern) {
                case 0: /* random over every bit */
                    keys[i] = r;
                    break;
                case 1: /* the high digits alike: passes that move nothing are skipped */
                    keys[i] = UINT64_C(0xABCD000000000000) | (r & 0xFFFFFFFF);
                    break;
                case 2: /* the low digits alike */
                    keys[i] = r & ~UINT64_C(0xFFFFFFFF);
                    break;
                case 3: /* all equal */
                    keys[i] = UINT64_C(0x8000000000000000);
                    break;
                default: /* the keys of doubles, few distinct, descending */
                    keys[i] = sgs_order_key((double)((n - i) % 97) - 40.5);
                    break;
                }
            }
            expect_sorted_as_qsort(keys, n);
        }
    }
    sgs_free(keys);
}

static void test_sorted_leaves_out(void **state)
{
    (void)state;
    const double v[] = {3.0, NAN, -1.0, 2.0, -INFINITY, 0.5};
    const uint8_t keep[] = {1, 1, 1, 0, 1, 1};
    uint64_t keys[6];
    /* NaN and infinities are not finite: left out, as are the rows not kept */
    assert_int_equal(sgs_order_keys_sorted(v, keep, 6, keys), 3);
    assert_true(sgs_order_key_value(keys[0]) == -1.0);
    assert_true(sgs_order_key_value(keys[1]) == 0.5);
    assert_true(sgs_order_key_value(keys[2]) == 3.0);
    assert_int_equal(sgs_order_keys_sorted(v, NULL, 6, keys), 4);
    assert_true(sgs_order_key_value(keys[2]) == 2.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_order_as_values),
        cmocka_unit_test(test_sort_as_qsort),
        cmocka_unit_test(test_sorted_leaves_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
