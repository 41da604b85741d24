/*
 * tests/unit/test_text_format.c — the printf-free formatters behind customers.csv agree
 * with printf where they should, and write nothing for NaN; sgs_fmt_fixed_exact agrees with
 * printf everywhere; dates copied from a table are those computed. The chunked writer
 * (sgs_write_text_chunks) prepares every chunk once, each part once, before its rows are formatted,
 * and writes the bytes sgs_write_text_rows does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/text_format.h"
#include "kernels/core.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    for (int d = 0; d <= 6; d++)
        for (uint64_t i = 0; i < 100000; i++) {
            /* scaled values up to 2e8, as money's up to 2e6 to 2 decimals (the scaled double
             * is what rounds: far larger ones land on halves printf does not see); every 4th
             * value within -1..1, as probabilities */
            double range = d <= 2 ? 2e6 : 2e6 / pow(10, d - 2);
            double v = (sgs_rng_uniform(3, (uint64_t)d, i) - 0.5) * (i % 4 ? range : 2);
            size_t n = sgs_fmt_fixed(buf, v, d);
            snprintf(want, sizeof want, "%.*f", d, v);
            if (want[0] == '-' && strspn(want + 1, "0.") == strlen(want + 1))
                memmove(want, want + 1, strlen(want)); /* no "-0": see -0.004 above */
            if (n != strlen(want) || memcmp(buf, want, n) != 0)
                fail_msg("%.17g to %d decimals: got %.*s, printf %s", v, d, (int)n, buf, want);
        }
}

/* What sgs_fmt_fixed writes by its contract, the plain way: v * 10^d rounded by round() (halves
 * away from zero), its digits printed by printf with the point put in, no "-" for a zero;
 * within the fast range (the scaled magnitude below 2^64). */
static void fixed_by_round(char *want, size_t size, double v, int d)
{
    double r = round(v * pow(10, d));
    char digits[40];
    snprintf(digits, sizeof digits, "%0*.0f", d + 1, fabs(r));
    size_t n = strlen(digits);
    snprintf(want, size, "%s%.*s%s%s", r < 0 ? "-" : "", (int)(n - (size_t)d), digits,
             d > 0 ? "." : "", digits + n - (size_t)d);
}

/* Halves of the scaled value (0.125 to 2 decimals, 2.5 to none, their negatives), values just
 * beside them, -0.0, values that round to zero from below, and random values of every
 * magnitude up to 1e15 with every count of decimals: what round() gives. */
static void test_fixed_point_rounds_as_round(void **state)
{
    (void)state;
    char buf[64], want[64];
    static const double special[] = {0.125,  2.5,        0.5,   1.5,   0.00005, 1e-300,
                                     -0.0,   -0.004,     -0.5,  -2.5,  0.045,   999999999999999.9,
                                     4.5e14, 123456.785, 0.995, 1.005, 2.675,   9.2233720368e14};
    uint64_t s = 9;
    for (int d = 0; d <= 6; d++)
        for (size_t i = 0; i < 200000; i++) {
            double v;
            if (i < 3 * sizeof special / sizeof special[0]) {
                double base = special[i / 3] * (i % 2 ? -1 : 1);
                v = i % 3 == 2 ? nextafter(base, INFINITY) : base;
            } else {
                int e = (int)(sgs_test_next(&s) % 16);
                v = (sgs_rng_uniform(5, (uint64_t)d, i) - 0.5) * pow(10, e);
                if (i % 5 == 0) /* an exact half of the last decimal */
                    v = (floor(v * pow(10, d)) + 0.5) / pow(10, d);
            }
            if (!(fabs(v) * pow(10, d) < 0x1p64))
                continue; /* printf's, the contract says */
            size_t n = sgs_fmt_fixed(buf, v, d);
            fixed_by_round(want, sizeof want, v, d);
            if (n != strlen(want) || memcmp(buf, want, n) != 0)
                fail_msg("%.17g to %d decimals: got %.*s, by round() %s", v, d, (int)n, buf, want);
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

/* sgs_fmt_date_in writes what sgs_fmt_date does, inside its table's span and outside, and
 * spans it cannot hold get no table. */
static void test_date_texts(void **state)
{
    (void)state;
    const int64_t day_2020 = 18262, day_year_0 = -719528, day_year_10000 = 2932897;
    sgs_date_texts_t t;
    sgs_date_texts_init(&t, day_2020, day_2020 + 1826);
    assert_int_equal(t.n, 1827);
    for (int64_t d = day_2020 - 400; d < day_2020 + 2300; d++) {
        char got[32], want[32];
        size_t n = sgs_fmt_date_in(&t, got, d);
        assert_int_equal(n, sgs_fmt_date(want, d));
        assert_memory_equal(got, want, n);
    }
    sgs_date_texts_free(&t);
    assert_int_equal(t.n, 0);
    /* year 0 is spelled in 10 characters, year -1 and 10000 are not */
    sgs_date_texts_init(&t, day_year_0, day_year_0 + 10);
    assert_int_equal(t.n, 11);
    sgs_date_texts_free(&t);
    const int64_t no_table[][2] = {{day_year_0 - 1, day_year_0 + 10},
                                   {day_year_10000 - 10, day_year_10000},
                                   {0, (int64_t)1 << 20},
                                   {5, 4},
                                   {INT64_MIN, INT64_MAX}};
    for (size_t k = 0; k < sizeof no_table / sizeof no_table[0]; k++) {
        sgs_date_texts_init(&t, no_table[k][0], no_table[k][1]);
        assert_int_equal(t.n, 0);
        char got[32], want[32];
        size_t n = sgs_fmt_date_in(&t, got, day_year_10000);
        assert_int_equal(n, sgs_fmt_date(want, day_year_10000));
        assert_memory_equal(got, want, n);
        sgs_date_texts_free(&t);
    }
}

/* ---- The chunked writer ---------------------------------------------------------------- */

enum { MAX_ROWS = 3 * 2048 + 5, MAX_CHUNKS = 8, PARTS = 5 };

typedef struct chunk_log {
    long prepared[MAX_ROWS]; /* row r's value, set by the part that prepared it */
    size_t n_begun, begun_lo[MAX_CHUNKS], begun_hi[MAX_CHUNKS];
    int part_calls[MAX_CHUNKS][PARTS];
} chunk_log_t;

static void log_begin(void *ctx, size_t lo, size_t hi)
{
    chunk_log_t *g = ctx;
    if (g->n_begun < MAX_CHUNKS) {
        g->begun_lo[g->n_begun] = lo;
        g->begun_hi[g->n_begun] = hi;
    }
    g->n_begun++;
}

static void log_part(void *ctx, size_t lo, size_t hi, size_t k, size_t n)
{
    chunk_log_t *g = ctx;
    __atomic_fetch_add(&g->part_calls[(g->n_begun - 1) % MAX_CHUNKS][k], 1, __ATOMIC_RELAXED);
    for (size_t r = lo + (hi - lo) * k / n; r < lo + (hi - lo) * (k + 1) / n; r++)
        g->prepared[r] = (long)r * 7 + 1;
}

/* "row,value": the value its part left, 0 when none did */
static size_t format_prepared(const void *ctx, size_t lo, size_t hi, char *buf)
{
    const chunk_log_t *g = ctx;
    char *p = buf;
    for (size_t r = lo; r < hi; r++)
        p += sprintf(p, "%zu,%ld\n", r, g->prepared[r]);
    return (size_t)(p - buf);
}

/* what format_prepared writes of prepared rows, without any preparing */
static size_t format_expected(const void *ctx, size_t lo, size_t hi, char *buf)
{
    (void)ctx;
    char *p = buf;
    for (size_t r = lo; r < hi; r++)
        p += sprintf(p, "%zu,%ld\n", r, (long)r * 7 + 1);
    return (size_t)(p - buf);
}

static void test_chunked_writer(void **state)
{
    (void)state;
    char dir[256], path[300], want_path[300];
    sgs_test_tmpdir("text-chunks", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/chunks.csv", dir);
    snprintf(want_path, sizeof want_path, "%s/rows.csv", dir);
    static chunk_log_t g;
    const size_t n_rows[] = {0, 1, 2047, 2048, 2049, MAX_ROWS};
    const size_t chunk_rows[] = {2048, 4096};
    for (size_t a = 0; a < sizeof n_rows / sizeof n_rows[0]; a++)
        for (size_t c = 0; c < 2; c++)
            for (int threads = 1; threads <= 3; threads++) {
                memset(&g, 0, sizeof g);
                const sgs_text_chunks_t chunks = {chunk_rows[c], PARTS, log_begin, log_part};
                sgs_error_t err = {0};
                assert_int_equal(sgs_write_text_chunks(path, "row,value\n", n_rows[a], 32, &chunks,
                                                       format_prepared, &g, threads, &err),
                                 SGS_OK);
                assert_int_equal(sgs_write_text_rows(want_path, "row,value\n", n_rows[a], 32,
                                                     format_expected, NULL, threads, &err),
                                 SGS_OK);
                char why[128];
                if (sgs_test_files_differ(path, want_path, why, sizeof why))
                    fail_msg("%zu rows in chunks of %zu at %d threads: %s", n_rows[a],
                             chunk_rows[c], threads, why);
                /* every chunk begun once, in order, and each of its parts called once */
                size_t n_chunks = (n_rows[a] + chunk_rows[c] - 1) / chunk_rows[c];
                assert_int_equal(g.n_begun, n_chunks);
                for (size_t k = 0; k < n_chunks; k++) {
                    assert_int_equal(g.begun_lo[k], k * chunk_rows[c]);
                    size_t hi = (k + 1) * chunk_rows[c];
                    assert_int_equal(g.begun_hi[k], hi < n_rows[a] ? hi : n_rows[a]);
                    for (int q = 0; q < PARTS; q++)
                        assert_int_equal(g.part_calls[k][q], 1);
                }
            }
    /* chunks that would cut a block, or have no parts: refused before the file is made */
    const sgs_text_chunks_t cut = {1000, PARTS, log_begin, log_part};
    const sgs_text_chunks_t no_parts = {2048, 0, log_begin, log_part};
    sgs_error_t err = {0};
    snprintf(path, sizeof path, "%s/refused.csv", dir);
    assert_int_equal(sgs_write_text_chunks(path, "x\n", 10, 32, &cut, format_prepared, &g, 1, &err),
                     SGS_EINVAL);
    assert_int_equal(
        sgs_write_text_chunks(path, "x\n", 10, 32, &no_parts, format_prepared, &g, 1, &err),
        SGS_EINVAL);
    assert_int_equal(access(path, F_OK), -1);
    sgs_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_and_dates),
        cmocka_unit_test(test_integers_as_printf),
        cmocka_unit_test(test_fixed_point),
        cmocka_unit_test(test_fixed_point_rounds_as_round),
        cmocka_unit_test(test_fixed_exact),
        cmocka_unit_test(test_grouped_numbers),
        cmocka_unit_test(test_chunked_writer),
        cmocka_unit_test(test_date_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
