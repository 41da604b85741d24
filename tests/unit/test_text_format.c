/*
 * tests/unit/test_text_format.c — the printf-free formatters behind customers.csv agree
 * with printf where they should, and write nothing for NaN; sgs_fmt_fixed_exact agrees with
 * printf everywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/text_format.h"
#include "kernels/core.h"
#include "tests/support/test_rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void expect(size_t len, const char *buf, const char *want)
{
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
}

static void test_integers_and_dates(void **state)
{
    (void)state;
    char buf[32];
    expect(sgs_fmt_int(buf, 0), buf, "0");
    expect(sgs_fmt_int(buf, -1234567), buf, "-1234567");
    expect(sgs_fmt_int(buf, INT64_MIN), buf, "-9223372036854775808");
    expect(sgs_fmt_date(buf, 0), buf, "1970-01-01");
    expect(sgs_fmt_date(buf, 19904), buf, "2024-06-30");
    expect(sgs_fmt_date(buf, 10227), buf, "1998-01-01");
}

/* Every integer as printf writes it: all of 0..99,999 and their negatives, each power of ten
 * and its neighbours, the extremes, and random 64-bit values. */
static void test_integers_as_printf(void **state)
{
    (void)state;
    char buf[32], want[32];
    uint64_t s = 7;
    for (int64_t k = -200000; k < 200000; k++) {
        int64_t v = k < 100000 && k >= -100000 ? k : (int64_t)sgs_test_next(&s);
        if (k == 100000 || k == -200000)
            v = k == 100000 ? INT64_MAX : INT64_MIN;
        snprintf(want, sizeof want, "%lld", (long long)v);
        expect(sgs_fmt_int(buf, v), buf, want);
    }
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10)
        for (int64_t d = -1; d <= 1; d++)
            for (int sign = -1; sign <= 1; sign += 2) {
                snprintf(want, sizeof want, "%lld", (long long)(sign * (p + d)));
                expect(sgs_fmt_int(buf, sign * (p + d)), buf, want);
            }
}

static void test_fixed_point(void **state)
{
    (void)state;
    char buf[32];
    expect(sgs_fmt_fixed(buf, 12.5, 2), buf, "12.50");
    expect(sgs_fmt_fixed(buf, -0.004, 2), buf, "0.00");
    expect(sgs_fmt_fixed(buf, -15.129, 2), buf, "-15.13");
    expect(sgs_fmt_fixed(buf, 3.0 / 7.0, 4), buf, "0.4286");
    expect(sgs_fmt_fixed(buf, 42.0, 0), buf, "42");
    expect(sgs_fmt_fixed(buf, 1e20, 2), buf, "100000000000000000000.00");
    assert_int_equal(sgs_fmt_fixed(buf, NAN, 2), 0);
    /* Random values agree with printf except possibly at exact binary halves. */
    char want[64];
    for (uint64_t i = 0; i < 100000; i++) {
        double v = (sgs_rng_uniform(3, 0, i) - 0.5) * 2e6;
        size_t n = sgs_fmt_fixed(buf, v, 2);
        snprintf(want, sizeof want, "%.2f", v);
        if (n != strlen(want) || memcmp(buf, want, n) != 0)
            fail_msg("%.17g: got %.*s, printf %s", v, (int)n, buf, want);
    }
}

/* sgs_fmt_fixed_exact gives printf's characters for every value, also at exact binary ties
 * (printf rounds half to even on the exact value), for -0.0 and values that round to -0, and
 * for NaN, infinities and values past its fast range. */
static void check_exact(double v, int decimals)
{
    char buf[SGS_FMT_FIXED_EXACT_MAX], want[SGS_FMT_FIXED_EXACT_MAX];
    size_t n = sgs_fmt_fixed_exact(buf, v, decimals);
    snprintf(want, sizeof want, "%.*f", decimals, v);
    if (n != strlen(want) || memcmp(buf, want, n) != 0)
        fail_msg("%.17g with %d decimals: got %.*s, printf %s", v, decimals, (int)n, buf, want);
}

static void test_fixed_exact(void **state)
{
    (void)state;
    char buf[SGS_FMT_FIXED_EXACT_MAX];
    expect(sgs_fmt_fixed_exact(buf, 0.125, 2), buf, "0.12"); /* a tie, to even */
    expect(sgs_fmt_fixed_exact(buf, 0.375, 2), buf, "0.38");
    expect(sgs_fmt_fixed_exact(buf, 2.5, 0), buf, "2");
    expect(sgs_fmt_fixed_exact(buf, -0.004, 2), buf, "-0.00");
    expect(sgs_fmt_fixed_exact(buf, -0.0, 1), buf, "-0.0");
    expect(sgs_fmt_fixed_exact(buf, 1.005, 2), buf, "1.00"); /* 1.00499999999999989... */
    expect(sgs_fmt_fixed_exact(buf, 123456.789, 1), buf, "123456.8");
    static const double special[] = {
        0.0,  -0.0,  0.5,    1.5,    0.05, 0.15,  0.25, 0.35, 1e11,     99999999999.995, 1e12,
        1e15, 1e300, -1e300, 5e-324, 4.35, 2.675, NAN,  -NAN, INFINITY, -INFINITY};
    for (size_t k = 0; k < sizeof special / sizeof special[0]; k++)
        for (int d = 0; d <= 6; d++)
            check_exact(special[k], d);
    /* Random values of every magnitude; and values on a grid of halves and quarters of the
     * last place, the ties and near-ties. The seed is fixed: a failure names the value. */
    for (uint64_t i = 0; i < 200000; i++) {
        double u = sgs_rng_uniform(11, 0, i);
        double v = (sgs_rng_uniform(11, 1, i) - 0.5) * pow(10.0, 14.0 * u - 4.0);
        check_exact(v, (int)(i % 7));
        double grid = floor((sgs_rng_uniform(11, 2, i) - 0.5) * 4e5) / 8000.0;
        check_exact(grid, (int)(i % 4));
    }
}

static void test_grouped_numbers(void **state)
{
    (void)state;
    char buf[40];
    assert_string_equal(sgs_fmt_grouped(1234567.891, buf, sizeof buf), "1,234,568");
    assert_string_equal(sgs_fmt_grouped(999.4, buf, sizeof buf), "999");
    assert_string_equal(sgs_fmt_grouped(1000, buf, sizeof buf), "1,000");
    assert_string_equal(sgs_fmt_grouped(-1234.6, buf, sizeof buf), "-1,235");
    assert_string_equal(sgs_fmt_grouped(-0.4, buf, sizeof buf), "0");
    assert_string_equal(sgs_fmt_grouped(0, buf, sizeof buf), "0");
    /* truncated to the buffer, always terminated */
    assert_string_equal(sgs_fmt_grouped(1234567, buf, 6), "1,234");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_and_dates), cmocka_unit_test(test_integers_as_printf),
        cmocka_unit_test(test_fixed_point),        cmocka_unit_test(test_fixed_exact),
        cmocka_unit_test(test_grouped_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
