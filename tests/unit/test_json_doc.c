/*
 * tests/unit/test_json_doc.c — a JSON document built under failing allocations is either
 * whole or reported as out of memory, never written with a part missing, and nothing leaks
 * (the sanitizer build checks the leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/config.h"
#include "io/json_doc.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A document with nested objects and arrays attached through sgs_json_attach. */
static char *build_document(void)
{
    long mark = sgs_json_begin();
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; i < 4; i++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "i", i);
        cJSON_AddStringToObject(row, "name", "a customer segment");
        cJSON *values = cJSON_CreateArray();
        for (int j = 0; j < 3; j++)
            sgs_json_attach(values, NULL, cJSON_CreateNumber(i * 10 + j));
        sgs_json_attach(row, "values", values);
        char key[16];
        snprintf(key, sizeof key, "row%d", i);
        sgs_json_attach(root, key, row);
    }
    return sgs_json_finish(root, mark, 1);
}

/* Allocation n failing, for every n up to the document's whole need: NULL or the whole text. */
static void test_document_is_whole_or_missing(void **state)
{
    (void)state;
    char *whole = build_document();
    assert_non_null(whole);
    sgs_assert_contains(whole, "\"row3\"");
    int n_null = 0, n_whole = 0;
    for (long n = 0; n_whole == 0; n++) {
        sgs_assert_cmp(n, <, 10000);
        sgs_test_fail_alloc_after(n);
        char *text = build_document();
        sgs_test_fail_alloc_after(-1);
        if (!text) {
            n_null++;
            continue;
        }
        assert_string_equal(text, whole);
        cJSON_free(text);
        n_whole++;
    }
    sgs_assert_cmp(n_null, >, 20); /* every allocation on the way failed once */
    cJSON_free(whole);
}

/* Attaching to nothing, or nothing, frees what was given. */
static void test_attach_frees_what_it_cannot_attach(void **state)
{
    (void)state;
    sgs_json_begin();
    sgs_json_attach(NULL, "x", cJSON_CreateString("left over"));
    sgs_json_attach(NULL, NULL, cJSON_CreateNumber(1));
    cJSON *o = cJSON_CreateObject();
    sgs_json_attach(o, "x", NULL);
    assert_null(o->child);
    cJSON_Delete(o);
}

/* The effective configuration as JSON (what summary.json and the results file record). */
static void test_config_json_is_whole_or_missing(void **state)
{
    (void)state;
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    char *whole = sgs_config_to_json(&cfg, 1);
    assert_non_null(whole);
    int n_null = 0;
    for (long n = 0;; n++) {
        sgs_assert_cmp(n, <, 100000);
        sgs_test_fail_alloc_after(n);
        char *text = sgs_config_to_json(&cfg, 1);
        sgs_test_fail_alloc_after(-1);
        if (!text) {
            n_null++;
            continue;
        }
        assert_string_equal(text, whole);
        cJSON_free(text);
        break;
    }
    sgs_assert_cmp(n_null, >, 50);
    cJSON_free(whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document_is_whole_or_missing),
        cmocka_unit_test(test_attach_frees_what_it_cannot_attach),
        cmocka_unit_test(test_config_json_is_whole_or_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
