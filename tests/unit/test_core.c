/*
 * tests/unit/test_core.c — error table, sizes, blocks, allocation seam, random numbers, days
 * (exit statuses: test_exit_status; the edit distance: test_suggest).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/core.h"
#include "tests/support/test_support.h"

#include <errno.h>
#include <string.h>

static void test_error_table_names_codes(void **state)
{
    (void)state;
    assert_string_equal(sgs_strerror(SGS_EDATA), "input data is invalid");
    assert_string_equal(sgs_strerror(SGS_ENOSPACE), "no space left on device");
    assert_string_equal(sgs_strerror(SGS_OK), "success");
    assert_string_equal(sgs_strerror(-12345), "unknown error");
}

static void test_system_errors_name_the_file_and_the_want_of_space(void **state)
{
    (void)state;
    sgs_error_t err = {0};
    assert_int_equal(sgs_error_set_os(&err, SGS_EIO, ENOSPC, "out/a.csv", "write failed"),
                     SGS_ENOSPACE);
    assert_string_equal(err.message, "out/a.csv: no space left on device");
    assert_int_equal(sgs_error_set_os(&err, SGS_EIO, EFBIG, "b.h5", "write failed"), SGS_ENOSPACE);
    assert_string_equal(err.message, "b.h5: file too large for the file size limit (ulimit -f)");
    assert_int_equal(sgs_error_set_os(&err, SGS_EIO, EIO, "c", "write failed"), SGS_EIO);
    assert_string_equal(err.message, "c: write failed: Input/output error");
    assert_int_equal(sgs_error_set_os(NULL, SGS_EIO, ENOSPC, "c", "x"), SGS_ENOSPACE);

    /* a temporary's name replaced by the published one, every occurrence */
    sgs_error_set(&err, SGS_EIO, "out/.r.h5.tmp-ab12: cannot write (out/.r.h5.tmp-ab12)");
    sgs_error_rename(&err, "out/.r.h5.tmp-ab12", "out/r.h5");
    assert_string_equal(err.message, "out/r.h5: cannot write (out/r.h5)");
    assert_int_equal(err.code, SGS_EIO);
    sgs_error_rename(&err, "absent", "x");
    assert_string_equal(err.message, "out/r.h5: cannot write (out/r.h5)");
    sgs_error_rename(&err, "", "x");
    sgs_error_rename(NULL, "a", "b");
    assert_string_equal(err.message, "out/r.h5: cannot write (out/r.h5)");
    /* a replacement that overflows the message is cut, NUL-terminated */
    char longer[SGS_ERROR_MESSAGE_MAX];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    sgs_error_rename(&err, "r.h5", longer);
    assert_int_equal(strlen(err.message), SGS_ERROR_MESSAGE_MAX - 1);
    assert_memory_equal(err.message, "out/xxx", 7);
}

static void test_threads_follow_the_work(void **state)
{
    (void)state;
    sgs_exec_t two = {.n_threads = 2}, eight = {.n_threads = 8},
               fine = {.n_threads = 2, .grain = 10};
    assert_int_equal(sgs_exec_threads_for(&two, 0), 1);
    assert_int_equal(sgs_exec_threads_for(&two, SGS_BLOCK_ROWS), 1);
    assert_int_equal(sgs_exec_threads_for(&two, SGS_BLOCK_ROWS + 1), 2);
    assert_int_equal(sgs_exec_threads_for(&two, 1000 * SGS_BLOCK_ROWS), 2);
    assert_int_equal(sgs_exec_threads_for(&eight, 3 * SGS_BLOCK_ROWS), 3);
    assert_int_equal(sgs_exec_threads_for(NULL, 1000 * SGS_BLOCK_ROWS), 1);
    assert_int_equal(sgs_exec_threads_for(&fine, 10), 1); /* a grain of 10 items per thread */
    assert_int_equal(sgs_exec_threads_for(&fine, 11), 2);
}

static void test_error_set_and_prefix(void **state)
{
    (void)state;
    sgs_error_t err = {0};
    int rc = sgs_error_set(&err, SGS_EDATA, "row %d: amount is NaN", 7);
    assert_int_equal(rc, SGS_EDATA);
    assert_int_equal(err.code, SGS_EDATA);
    sgs_error_prefix(&err, "demo.h5 /transactions/amount");
    assert_string_equal(err.message, "demo.h5 /transactions/amount: row 7: amount is NaN");
    assert_int_equal(sgs_error_set(NULL, SGS_EIO, "ignored"), SGS_EIO);
}

static void test_size_checks_detect_overflow(void **state)
{
    (void)state;
    size_t out = 0;
    assert_int_equal(sgs_size_mul(SIZE_MAX / 2 + 1, 2, &out), SGS_EOVERFLOW);
    assert_int_equal(sgs_size_mul(1000, 1000, &out), SGS_OK);
    assert_int_equal(out, 1000000);
    assert_int_equal(sgs_size_add(SIZE_MAX, 1, &out), SGS_EOVERFLOW);
    assert_null(sgs_alloc_array(SIZE_MAX / 4, 8));
    assert_int_equal(sgs_block_count(0, 16), 0);
    assert_int_equal(sgs_block_count(16, 16), 1);
    assert_int_equal(sgs_block_count(17, 16), 2);
}

static void test_alloc_failure_injection(void **state)
{
    (void)state;
    sgs_test_fail_alloc_after(1);
    void *a = sgs_alloc_array(4, 4);
    void *b = sgs_alloc_array(4, 4);
    sgs_test_fail_alloc_after(-1);
    void *c = sgs_alloc_array(4, 4);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    sgs_free(a);
    sgs_free(c);
}

static void test_rng_is_pure_and_uniform_in_open_interval(void **state)
{
    (void)state;
    sgs_assert_cmp(sgs_rng_u64(1, 2, 3), ==, sgs_rng_u64(1, 2, 3));
    sgs_assert_cmp(sgs_rng_u64(1, 2, 3), !=, sgs_rng_u64(1, 2, 4));
    sgs_assert_cmp(sgs_rng_u64(1, 2, 3), !=, sgs_rng_u64(1, 3, 3));
    double sum = 0.0;
    for (uint64_t i = 0; i < 100000; i++) {
        double u = sgs_rng_uniform(42, 0, i);
        sgs_assert_cmp(u, >, 0.0);
        sgs_assert_cmp(u, <, 1.0);
        sum += u;
    }
    /* mean of 1e5 uniforms has standard deviation 0.0009; 5 sigma */
    sgs_assert_close(sum / 100000.0, 0.5, 0.0046, 0.0);
}

/* The keyed form gives the same bits as the plain one, and both the stream every seeded
 * output was made with (values from an independent SplitMix64 computation). */
static void test_rng_keyed_is_the_same_stream(void **state)
{
    (void)state;
    sgs_assert_cmp(sgs_rng_u64(42, 2, 12345), ==, UINT64_C(0xe23341235c561a47));
    sgs_assert_cmp(sgs_rng_u64(7, UINT64_C(1) << 63, 0), ==, UINT64_C(0xffce1053760b6b43));
    const uint64_t seeds[] = {0, 42, UINT64_MAX}, streams[] = {0, 2, UINT64_C(1) << 63};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++) {
            uint64_t key = sgs_rng_key(seeds[a], streams[b]);
            for (uint64_t c = 0; c < 1000; c += 7) {
                sgs_assert_cmp(sgs_rng_keyed_u64(key, c), ==, sgs_rng_u64(seeds[a], streams[b], c));
                double want = sgs_rng_uniform(seeds[a], streams[b], c);
                double got = sgs_rng_keyed_uniform(key, c);
                assert_memory_equal(&want, &got, sizeof want);
            }
        }
}

static void test_day_of_floors_before_epoch(void **state)
{
    (void)state;
    assert_int_equal(sgs_day_of(0), 0);
    assert_int_equal(sgs_day_of(86399), 0);
    assert_int_equal(sgs_day_of(86400), 1);
    assert_int_equal(sgs_day_of(-1), -1);
    assert_int_equal(sgs_day_of(-86400), -1);
    assert_int_equal(sgs_day_of(-86401), -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_table_names_codes),
        cmocka_unit_test(test_system_errors_name_the_file_and_the_want_of_space),
        cmocka_unit_test(test_error_set_and_prefix),
        cmocka_unit_test(test_threads_follow_the_work),
        cmocka_unit_test(test_size_checks_detect_overflow),
        cmocka_unit_test(test_alloc_failure_injection),
        cmocka_unit_test(test_rng_is_pure_and_uniform_in_open_interval),
        cmocka_unit_test(test_rng_keyed_is_the_same_stream),
        cmocka_unit_test(test_day_of_floors_before_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
