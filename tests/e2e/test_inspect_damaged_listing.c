/*
 * tests/e2e/test_inspect_damaged_listing.c — a file whose listing makes libhdf5 1.10.8
 * allocate without end (a fuzzing finding, tests/fuzz_corpus/h5_input/regressions/): `inspect`
 * exits 65 calling its metadata malformed, with the memory bound it hit (io/memory_cap.h),
 * instead of taking the machine's memory; `run` on it exits 65 before any work. The first is
 * skipped under AddressSanitizer and ThreadSanitizer, where no address-space cap is set
 * (memory_cap.h says why).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/memory_cap.h"
#include "tests/support/test_support.h"

#include <stdio.h>

#define DAMAGED                                                                                    \
    SGS_SOURCE_DIR                                                                                 \
    "/tests/fuzz_corpus/h5_input/regressions/listing-allocates-without-bound-in-libhdf5.h5"

static void test_inspect_calls_the_endless_listing_malformed(void **state)
{
    (void)state;
    if (!sgs_memory_cap_available())
        skip();
    char out[8192];
    int status = sgs_test_run("inspect '" DAMAGED "'", out, sizeof out);
    assert_int_equal(status, 65);
    sgs_assert_contains(out, "cannot list the file's objects: its metadata is malformed: the "
                             "HDF5 library took more than 1024 MB of memory listing them");
}

static void test_run_refuses_it_before_any_work(void **state)
{
    (void)state;
    char dir[256], args[1024], out[8192];
    sgs_test_tmpdir("e2e-damaged-listing", dir, sizeof dir);
    snprintf(args, sizeof args, "run -q -i '" DAMAGED "' -o '%s/results.h5'", dir);
    int status = sgs_test_run(args, out, sizeof out);
    assert_int_equal(status, 65);
    sgs_assert_contains(out, "the file's metadata is malformed");
    sgs_test_assert_no_leftovers(dir);
    sgs_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inspect_calls_the_endless_listing_malformed),
        cmocka_unit_test(test_run_refuses_it_before_any_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
