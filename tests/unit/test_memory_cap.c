/*
 * tests/unit/test_memory_cap.c — io/memory_cap.h: the address-space limit is lowered to what
 * the process maps plus the margin (an allocation beyond the margin fails, one within it
 * succeeds), put back exactly by end, and a lower limit already in place is left alone.
 * Skipped under AddressSanitizer and ThreadSanitizer, where no cap is set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/memory_cap.h"
#include "tests/support/test_support.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MB ((size_t)1 << 20)

static void test_cap_bounds_allocations_and_is_put_back(void **state)
{
    (void)state;
    if (!sgs_memory_cap_available())
        skip();
    struct rlimit before, during, after;
    assert_int_equal(getrlimit(RLIMIT_AS, &before), 0);
    sgs_memory_cap_t cap;
    assert_int_equal(sgs_memory_cap_begin(256 * MB, &cap), 1);
    assert_int_equal(getrlimit(RLIMIT_AS, &during), 0);
    sgs_assert_cmp(during.rlim_cur, !=, RLIM_INFINITY);
    assert_int_equal(during.rlim_max, before.rlim_max);
    void *big = malloc(512 * MB); /* beyond the margin */
    void *small = malloc(16 * MB);
    assert_null(big);
    assert_non_null(small);
    memset(small, 1, 16 * MB);
    free(small);
    assert_int_equal(sgs_memory_cap_end(&cap), 1);
    assert_int_equal(getrlimit(RLIMIT_AS, &after), 0);
    assert_int_equal(after.rlim_cur, before.rlim_cur);
    assert_int_equal(sgs_memory_cap_end(&cap), 0); /* twice: nothing more */
    big = malloc(512 * MB);
    assert_non_null(big);
    free(big);
}

static void test_a_lower_limit_stays(void **state)
{
    (void)state;
    if (!sgs_memory_cap_available())
        skip();
    struct rlimit before, low, during;
    assert_int_equal(getrlimit(RLIMIT_AS, &before), 0);
    sgs_memory_cap_t cap;
    assert_int_equal(sgs_memory_cap_begin(64 * MB, &cap), 1);
    assert_int_equal(getrlimit(RLIMIT_AS, &low), 0);
    /* a second, wider cap inside: the limit in place is lower, nothing is changed */
    sgs_memory_cap_t wider;
    assert_int_equal(sgs_memory_cap_begin(1024 * MB, &wider), 0);
    assert_int_equal(getrlimit(RLIMIT_AS, &during), 0);
    assert_int_equal(during.rlim_cur, low.rlim_cur);
    assert_int_equal(sgs_memory_cap_end(&wider), 0);
    assert_int_equal(sgs_memory_cap_end(&cap), 1);
    assert_int_equal(getrlimit(RLIMIT_AS, &during), 0);
    assert_int_equal(during.rlim_cur, before.rlim_cur);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_bounds_allocations_and_is_put_back),
        cmocka_unit_test(test_a_lower_limit_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
