/*
 * tests/unit/test_config.c — configuration: defaults, files, unknown keys, overrides,
 * serialization; and the date helpers the configuration relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/config.h"
#include "kernels/dates.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Write `text` to <dir>/config.json and return the path in `path`. */
static void write_config(const char *dir, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_defaults_are_documented_values(void **state)
{
    (void)state;
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    assert_string_equal(cfg.time_unit, "day");
    assert_string_equal(cfg.as_of, "");
    assert_int_equal(cfg.rfm_bins, 5);
    assert_string_equal(cfg.model, "auto");
    sgs_assert_close(cfg.value_clv.annual_discount, 0.1, 0, 0);
    assert_int_equal(cfg.seed, 42);
    assert_int_equal(sgs_config_validate(&cfg, NULL), SGS_OK);
}

static void test_file_overrides_nested_keys(void **state)
{
    (void)state;
    char dir[256], path[512];
    sgs_test_tmpdir("config", dir, sizeof dir);
    write_config(dir,
                 "{\"time_unit\": \"week\", \"rfm\": {\"bins\": 4}, "
                 "\"value\": {\"margin\": 0.25, \"allow_unconverged\": true}, "
                 "\"as_of\": \"2024-06-30\"}",
                 path, sizeof path);
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_error_t err = {0};
    assert_int_equal(sgs_config_load_file(&cfg, path, &err), SGS_OK);
    assert_string_equal(cfg.time_unit, "week");
    assert_int_equal(cfg.rfm_bins, 4);
    sgs_assert_close(cfg.value_clv.margin, 0.25, 0, 0);
    assert_int_equal(cfg.allow_unconverged, 1);
    assert_string_equal(cfg.as_of, "2024-06-30");
    sgs_assert_close(sgs_config_days_per_unit(&cfg), 7.0, 0, 0);
    sgs_test_rmdir(dir);
}

static void test_unknown_key_is_an_error_with_suggestion(void **state)
{
    (void)state;
    char dir[256], path[512];
    sgs_test_tmpdir("config", dir, sizeof dir);
    write_config(dir, "{\"rfm\": {\"bin\": 4}}", path, sizeof path);
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_error_t err = {0};
    assert_int_equal(sgs_config_load_file(&cfg, path, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "unknown config key \"rfm.bin\"");
    sgs_assert_contains(err.message, "did you mean \"rfm.bins\"");
    sgs_assert_contains(err.message, path);
    sgs_test_rmdir(dir);
}

static void test_wrong_types_and_ranges_are_errors(void **state)
{
    (void)state;
    char dir[256], path[512];
    sgs_test_tmpdir("config", dir, sizeof dir);
    static const struct {
        const char *text, *message;
    } bad[] = {
        {"{\"rfm\": {\"bins\": \"5\"}}", "config key \"rfm.bins\" has the wrong type"},
        {"{\"rfm\": {\"bins\": 12}}", "config rfm.bins: \"12\" is not an integer in 2..9"},
        {"{\"rfm\": {\"bins\": 4.5}}", "config key \"rfm.bins\" has the wrong type"},
        {"{\"time_unit\": \"month\"}", "config time_unit: \"month\" is not one of day|week"},
        {"{\"as_of\": \"2023-02-30\"}", "config as_of: \"2023-02-30\" is not a date YYYY-MM-DD"},
        {"{\"value\": {\"margin\": 1.5}}", "config value.margin: \"1.5\" is not a number in 0..1"},
        {"{\"threads\": 2\n", "line 2: not a valid JSON object"},
        {"[1, 2]", "line 1: not a valid JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_config(dir, bad[i].text, path, sizeof path);
        sgs_config_t cfg;
        sgs_config_defaults(&cfg);
        sgs_error_t err = {0};
        int rc = sgs_config_load_file(&cfg, path, &err);
        if (rc != SGS_ECONFIG || !strstr(err.message, bad[i].message) || !strstr(err.message, path))
            fail_msg("config %s: expected SGS_ECONFIG with \"%s: ...%s\", got %d (%s)", bad[i].text,
                     path, bad[i].message, rc, err.message);
    }
    sgs_test_rmdir(dir);
}

/* What cJSON took without a word: a key given twice (the last won), a NUL byte (what followed
 * it was ignored) and \u0000 in a string (the string was cut there). Each is refused with the
 * key, or the byte offset and line; the configuration is not applied. An escaped backslash
 * before "u0000" is text, and fine. */
static void test_duplicate_keys_nul_bytes_and_escaped_nul_are_refused(void **state)
{
    (void)state;
    char dir[256], path[512];
    sgs_test_tmpdir("config", dir, sizeof dir);
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
        const char *message;
    } cases[] = {
        {"{\"rfm\": {\"bins\": 4, \"bins\": 5}}", 0, "\"rfm.bins\" appears twice"},
        {"{\"rfm\": {\"bins\": 4}, \"rfm\": {\"monetary\": \"mean\"}}", 0, "\"rfm\" appears twice"},
        {"{\"rfm.bins\": 4, \"rfm\": {\"bins\": 5}}", 0, "\"rfm.bins\" is set twice"},
        {"{\"rfm\": {\"bins\": 4}}\n\0{\"rfm\": {\"bins\": 5}}", 43,
         "byte 21 (line 2): a NUL byte"},
        {"{\"rfm\": {\"bins\":\0 4}}", 20, "byte 16 (line 1): a NUL byte"},
        {"{\n\"output\": {\"report\": \"r.txt\\u0000.html\"}}", 0,
         "byte 29 (line 2): \\u0000 in a string"},
        {"{\"output\": {\"rep\\u0000ort\": \"r.txt\"}}", 0, "byte 16 (line 1): \\u0000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/config.json", dir);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        assert_int_equal(fwrite(cases[i].text, 1, len, f), len);
        fclose(f);
        sgs_config_t cfg;
        sgs_config_defaults(&cfg);
        sgs_error_t err = {0};
        int rc = sgs_config_load_file(&cfg, path, &err);
        if (rc != SGS_ECONFIG || !strstr(err.message, cases[i].message) ||
            !strstr(err.message, path))
            fail_msg("case %zu: expected SGS_ECONFIG with \"%s\", got %d: %s", i, cases[i].message,
                     rc, err.message);
    }
    /* an escaped backslash, then u0000: the text \u0000, not a NUL */
    write_config(dir, "{\"output\": {\"report\": \"a\\\\u0000b\"}}", path, sizeof path);
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_error_t err = {0};
    assert_int_equal(sgs_config_load_file(&cfg, path, &err), SGS_OK);
    assert_string_equal(cfg.report, "a\\u0000b");
    sgs_test_rmdir(dir);
}

/* Every allocation of loading a file failed in turn: SGS_ENOMEM, never "not valid JSON". */
static void test_out_of_memory_is_not_a_syntax_error(void **state)
{
    (void)state;
    char dir[256], path[512];
    sgs_test_tmpdir("config", dir, sizeof dir);
    write_config(dir, "{\"rfm\": {\"bins\": 4}, \"segments\": {\"k\": 3}}", path, sizeof path);
    int n_ok = 0;
    for (long n = 0; n < 100 && !n_ok; n++) {
        sgs_config_t cfg;
        sgs_config_defaults(&cfg);
        sgs_error_t err = {0};
        sgs_test_fail_alloc_after(n);
        int rc = sgs_config_load_file(&cfg, path, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc == SGS_OK)
            n_ok = 1;
        else if (rc != SGS_ENOMEM)
            fail_msg("allocation %ld failing: %d (%s)", n, rc, err.message);
    }
    if (!n_ok)
        fail_msg("no load succeeded, failing allocation n = 0 to 99");
    sgs_test_rmdir(dir);
}

static void test_missing_file_is_enoinput(void **state)
{
    (void)state;
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_error_t err = {0};
    assert_int_equal(sgs_config_load_file(&cfg, "/nonexistent/x.json", &err), SGS_ENOINPUT);
    sgs_assert_contains(err.message, "/nonexistent/x.json");
}

static void test_set_and_cross_field_validation(void **state)
{
    (void)state;
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_error_t err = {0};
    assert_int_equal(sgs_config_set(&cfg, "segments.k_min", "9", &err), SGS_OK);
    assert_int_equal(sgs_config_validate(&cfg, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "segments.k_min");
    assert_int_equal(sgs_config_set(&cfg, "no.such", "1", &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "unknown config key \"no.such\"");
    assert_int_equal(sgs_config_set(&cfg, "value.model", "paretonbd", &err), SGS_OK);
    assert_string_equal(cfg.model, "paretonbd");
}

static void test_effective_json_round_trips(void **state)
{
    (void)state;
    sgs_config_t cfg, back;
    sgs_config_defaults(&cfg);
    assert_int_equal(sgs_config_set(&cfg, "rfm.bins", "7", NULL), SGS_OK);
    assert_int_equal(sgs_config_set(&cfg, "value.horizon", "52.5", NULL), SGS_OK);
    char *json = sgs_config_to_json(&cfg, 1);
    assert_non_null(json);
    char dir[256], path[512];
    sgs_test_tmpdir("config", dir, sizeof dir);
    write_config(dir, json, path, sizeof path);
    sgs_config_defaults(&back);
    sgs_error_t err = {0};
    assert_int_equal(sgs_config_load_file(&back, path, &err), SGS_OK);
    assert_memory_equal(&cfg, &back, sizeof cfg);
    sgs_free(json);
    sgs_test_rmdir(dir);
}

static void test_dates_round_trip_and_reject_invalid(void **state)
{
    (void)state;
    int64_t day;
    assert_int_equal(sgs_date_parse_day("1970-01-01", &day), SGS_OK);
    assert_int_equal(day, 0);
    assert_int_equal(sgs_date_parse_day("2024-02-29", &day), SGS_OK);
    assert_int_equal(day, 19782);
    assert_int_equal(sgs_date_parse_day("2023-02-29", &day), SGS_EDATA);
    assert_int_equal(sgs_date_parse_day("2024-6-30", &day), SGS_EDATA);
    assert_int_equal(sgs_date_parse_day("1969-12-31", &day), SGS_OK);
    assert_int_equal(day, -1);
    char buf[16];
    for (int64_t d = -800; d < 30000; d += 37) {
        int64_t back;
        sgs_date_format_day(d, buf, sizeof buf);
        assert_int_equal(sgs_date_parse_day(buf, &back), SGS_OK);
        assert_int_equal(back, d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_documented_values),
        cmocka_unit_test(test_file_overrides_nested_keys),
        cmocka_unit_test(test_unknown_key_is_an_error_with_suggestion),
        cmocka_unit_test(test_wrong_types_and_ranges_are_errors),
        cmocka_unit_test(test_missing_file_is_enoinput),
        cmocka_unit_test(test_set_and_cross_field_validation),
        cmocka_unit_test(test_effective_json_round_trips),
        cmocka_unit_test(test_dates_round_trip_and_reject_invalid),
        cmocka_unit_test(test_duplicate_keys_nul_bytes_and_escaped_nul_are_refused),
        cmocka_unit_test(test_out_of_memory_is_not_a_syntax_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
