/*
 * tests/unit/test_dates.c — kernels/dates.h: the strict YYYY-MM-DD parser, and day numbers
 * and civil dates as inverses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/dates.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <string.h>

static void test_parse_day_takes_real_dates(void **state)
{
    (void)state;
    int64_t day = -1;
    assert_int_equal(sgs_date_parse_day("1970-01-01", &day), SGS_OK);
    assert_int_equal(day, 0);
    assert_int_equal(sgs_date_parse_day("2024-02-29", &day), SGS_OK);
    assert_int_equal(day, 19782);
    assert_int_equal(sgs_date_parse_day("1969-12-31", &day), SGS_OK);
    assert_int_equal(day, -1);
    assert_int_equal(sgs_date_parse_day("0000-03-01", &day), SGS_OK);
    assert_int_equal(sgs_date_parse_day("9999-12-31", &day), SGS_OK);
    assert_int_equal(day, 2932896);
}

/* Found by fuzz/fuzz_dates.c (tests/fuzz_corpus/dates/regressions/): sscanf's %d let a
 * sign or blanks through, so "+024-06-30" was the year 24 and "-202-01-01" the year -202,
 * accepted as --as-of or config as_of. Whatever the parser accepts must be what
 * sgs_date_format_day writes back. */
static void test_parse_day_is_exactly_yyyy_mm_dd(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "+024-06-30", "-202-01-01", " 202-01-01", "2024-+6-30",  "2024- 6-30", "2024-06- 3",
        "2024-06-+3", "2024-6-30",  "24-06-30",   "2024-06-30 ", "2024/06/30", "2023-02-29",
        "2024-13-01", "2024-00-10", "2024-04-31", "2024-06-00",  "",           "2024-06-3x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t day = 12345;
        if (sgs_date_parse_day(bad[i], &day) != SGS_EDATA)
            fail_msg("\"%s\" accepted as day %lld", bad[i], (long long)day);
        assert_int_equal(day, 12345); /* untouched */
    }
}

static void test_days_and_civil_dates_are_inverse(void **state)
{
    (void)state;
    /* every day of years 0..9999 formats and parses back; a sparse sweep far beyond */
    int64_t first = sgs_days_from_civil(0, 1, 1), last = sgs_days_from_civil(9999, 12, 31);
    for (int64_t z = first; z <= last; z++) {
        char text[32];
        sgs_date_format_day(z, text, sizeof text);
        int64_t back = -1;
        if (sgs_date_parse_day(text, &back) != SGS_OK || back != z)
            fail_msg("day %lld formats as \"%s\", parsed as %lld", (long long)z, text,
                     (long long)back);
    }
    for (int64_t z = -(INT64_C(1) << 40); z < (INT64_C(1) << 40); z += INT64_C(987654321)) {
        int64_t y;
        unsigned m, d;
        sgs_civil_from_days(z, &y, &m, &d);
        sgs_assert_cmp(m, >=, 1);
        sgs_assert_cmp(m, <=, 12);
        sgs_assert_cmp(d, >=, 1);
        sgs_assert_cmp(d, <=, 31);
        assert_int_equal(sgs_days_from_civil(y, m, d), z);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_day_takes_real_dates),
        cmocka_unit_test(test_parse_day_is_exactly_yyyy_mm_dd),
        cmocka_unit_test(test_days_and_civil_dates_are_inverse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
