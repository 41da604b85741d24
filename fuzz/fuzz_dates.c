/*
 * fuzz/fuzz_dates.c — libFuzzer target for the date parsers: kernels/dates.h (the
 * YYYY-MM-DD days of --as-of, as_of, generate's --start/--end) and the time field parser
 * of the CSV import in every --time-format (io/csv_import.h sgs_import_parse_time).
 *
 * Input: the text of one date or time (any bytes). Properties beyond "no crash, no
 * undefined behaviour":
 * - sgs_date_parse_day accepts exactly "YYYY-MM-DD": whatever it accepts is what
 *   sgs_date_format_day writes for the day it returns;
 * - day numbers and civil dates are inverse (sgs_civil_from_days, sgs_days_from_civil) for
 *   any day within 2^40 days of 1970 (the first 8 input bytes), and the days of years
 *   0..9999 format and parse back;
 * - a time any format accepts is at or after 1970; a letter after an accepted time makes
 *   it a bad time (nothing is silently ignored at the end of a field); what AUTO accepts,
 *   ISO (or YYYYMMDD for 8 digits) reads the same; the canonical ISO text of an accepted
 *   time ("YYYY-MM-DDTHH:MM:SSZ") reads back to the same second.
 */
#include "fuzz/fuzz_support.h"
#include "io/csv_import.h"
#include "kernels/dates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT 256 /* a time field is short; longer inputs are cut here */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* ---- kernels/dates.h ------------------------------------------------------------------ */

static void fuzz_parse_day(const char *text)
{
    int64_t day = 0;
    if (sgs_date_parse_day(text, &day) != SGS_OK)
        return;
    char back[32];
    sgs_date_format_day(day, back, sizeof back);
    SGS_FUZZ_CHECK(strcmp(back, text) == 0,
                   "sgs_date_parse_day accepted \"%s\" as day %lld, which is %s", text,
                   (long long)day, back);
}

static void fuzz_day_numbers(const uint8_t *data, size_t size)
{
    if (size < 8)
        return;
    int64_t z;
    memcpy(&z, data, sizeof z);
    z %= INT64_C(1) << 40;
    int64_t y;
    unsigned m, d;
    sgs_civil_from_days(z, &y, &m, &d);
    SGS_FUZZ_CHECK(m >= 1 && m <= 12 && d >= 1 && d <= 31, "day %lld is month %u day %u",
                   (long long)z, m, d);
    int64_t back = sgs_days_from_civil(y, m, d);
    SGS_FUZZ_CHECK(back == z, "day %lld -> %lld-%u-%u -> day %lld", (long long)z, (long long)y, m,
                   d, (long long)back);
    if (y < 0 || y > 9999)
        return;
    char text[32];
    sgs_date_format_day(z, text, sizeof text);
    int64_t parsed = -1;
    SGS_FUZZ_CHECK(sgs_date_parse_day(text, &parsed) == SGS_OK && parsed == z,
                   "day %lld formats as \"%s\", which parses as %lld", (long long)z, text,
                   (long long)parsed);
}

/* ---- io/csv_import.h time fields -------------------------------------------------------- */

static const char *const format_names[] = {"auto", "iso", "yyyymmdd", "mdy", "dmy", "unix"};

/* "YYYY-MM-DDTHH:MM:SSZ" for t >= 0; 0 when the year has more than four digits. */
static int format_iso(int64_t t, char *buf, size_t size)
{
    int64_t day = t / SGS_SECONDS_PER_DAY, s = t % SGS_SECONDS_PER_DAY;
    int64_t y;
    unsigned m, d;
    sgs_civil_from_days(day, &y, &m, &d);
    if (y > 9999)
        return 0;
    snprintf(buf, size, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", (long long)y, m, d,
             (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
    return 1;
}

static void fuzz_parse_time(const char *text, size_t len)
{
    for (int f = SGS_TIME_AUTO; f <= SGS_TIME_UNIX; f++) {
        int64_t t = -1;
        const char *reason = NULL;
        int rc = sgs_import_parse_time(text, len, (sgs_time_format_t)f, &t, &reason);
        if (rc != SGS_OK) {
            SGS_FUZZ_CHECK(rc == SGS_EDATA && reason && reason[0], "%s: rc %d without a reason",
                           format_names[f], rc);
            continue;
        }
        SGS_FUZZ_CHECK(t >= 0, "%s: \"%.*s\" is %lld, before 1970", format_names[f], (int)len, text,
                       (long long)t);

        /* a letter after an accepted time: "2024-01-01 10:00+0100x" is not a time */
        char longer[MAX_TEXT + 2];
        memcpy(longer, text, len);
        longer[len] = 'x';
        int64_t t2;
        const char *reason2;
        SGS_FUZZ_CHECK(sgs_import_parse_time(longer, len + 1, (sgs_time_format_t)f, &t2,
                                             &reason2) == SGS_EDATA,
                       "%s: \"%.*s\" is accepted, and so is \"%.*sx\" (as %lld)", format_names[f],
                       (int)len, text, (int)len, text, (long long)t2);

        if (f == SGS_TIME_AUTO) {
            /* the field as the parser sees it: blanks (' ', '\t', '\r', '\n') trimmed */
            size_t lo = 0, hi = len;
            while (lo < hi && strchr(" \t\r\n", text[lo]) && text[lo])
                lo++;
            while (hi > lo && strchr(" \t\r\n", text[hi - 1]) && text[hi - 1])
                hi--;
            int is_8_digits = hi - lo == 8;
            for (size_t k = lo; k < hi; k++)
                is_8_digits &= text[k] >= '0' && text[k] <= '9';
            sgs_time_format_t same = is_8_digits ? SGS_TIME_YYYYMMDD : SGS_TIME_ISO;
            int64_t t3 = -1;
            SGS_FUZZ_CHECK(sgs_import_parse_time(text, len, same, &t3, &reason2) == SGS_OK &&
                               t3 == t,
                           "auto reads \"%.*s\" as %lld, %s as %lld", (int)len, text, (long long)t,
                           format_names[same], (long long)t3);
        }

        char iso[64];
        if (format_iso(t, iso, sizeof iso)) {
            int64_t t4 = -1;
            SGS_FUZZ_CHECK(sgs_import_parse_time(iso, strlen(iso), SGS_TIME_ISO, &t4, &reason2) ==
                                   SGS_OK &&
                               t4 == t,
                           "%s: \"%.*s\" is %lld = %s, which reads back as %lld", format_names[f],
                           (int)len, text, (long long)t, iso, (long long)t4);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = size < MAX_TEXT ? size : MAX_TEXT;
    char text[MAX_TEXT + 1];
    memcpy(text, data, len);
    text[len] = '\0';
    fuzz_parse_day(text); /* the C string: up to the first NUL */
    fuzz_day_numbers(data, size);
    fuzz_parse_time(text, len); /* the field: every byte, NULs included */
    return 0;
}
