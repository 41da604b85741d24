/*
 * tests/unit/test_html_doc.c — io/html_doc.h: escaping of the five characters that matter in
 * HTML text and attributes, numbers written the same way every time (no "-0", no locale, no
 * exponent for ordinary values), and thousands separators.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/html_doc.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What sgs_html_text writes for s. */
static char *escaped_by_stream(const char *s)
{
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    assert_non_null(mem);
    sgs_html_text(mem, s);
    assert_int_equal(fclose(mem), 0);
    return text;
}

static void test_escaping(void **state)
{
    (void)state;
    const char *in = "<b>Tom & \"Jerry\"'s</b> ok";
    const char *want = "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&#39;s&lt;/b&gt; ok";
    char *got = escaped_by_stream(in);
    assert_string_equal(got, want);
    free(got);
    char buf[128];
    assert_string_equal(sgs_html_escape(in, buf, sizeof buf), want);
    /* text without special characters passes unchanged, UTF-8 included */
    got = escaped_by_stream("Cannot lose them · café");
    assert_string_equal(got, "Cannot lose them · café");
    free(got);
    got = escaped_by_stream(NULL);
    if (got != NULL && got[0] != '\0')
        fail_msg("expected no text, got \"%s\"", got);
    free(got);
}

/* A buffer too small for an entity stops before it, never inside it. */
static void test_escape_truncates_at_entity(void **state)
{
    (void)state;
    char buf[8];
    assert_string_equal(sgs_html_escape("ab&cd", buf, sizeof buf), "ab&amp;");
    char small[6];
    assert_string_equal(sgs_html_escape("ab&cd", small, sizeof small), "ab");
}

static void test_numbers(void **state)
{
    (void)state;
    char b[48];
    assert_string_equal(sgs_html_number(1234.5678, 2, b, sizeof b), "1234.57");
    assert_string_equal(sgs_html_number(3, 0, b, sizeof b), "3");
    assert_string_equal(sgs_html_number(-0.0, 1, b, sizeof b), "0.0");
    assert_string_equal(sgs_html_number(-0.0004, 2, b, sizeof b), "0.00");
    assert_string_equal(sgs_html_number(-2.5, 1, b, sizeof b), "-2.5");
    assert_string_equal(sgs_html_number(NAN, 2, b, sizeof b), "NaN");
    assert_string_equal(sgs_html_number(INFINITY, 2, b, sizeof b), "Inf");
    assert_string_equal(sgs_html_number(-INFINITY, 2, b, sizeof b), "-Inf");
    assert_string_equal(sgs_html_number(1e12, 0, b, sizeof b), "1000000000000");
    /* the same value twice gives the same characters */
    char c[48];
    assert_string_equal(sgs_html_number(0.1 + 0.2, 9, b, sizeof b),
                        sgs_html_number(0.1 + 0.2, 9, c, sizeof c));
}

static void test_grouped(void **state)
{
    (void)state;
    char b[64];
    assert_string_equal(sgs_html_grouped(1234567.891, 0, b, sizeof b), "1,234,568");
    assert_string_equal(sgs_html_grouped(-1234.5, 1, b, sizeof b), "-1,234.5");
    assert_string_equal(sgs_html_grouped(999, 0, b, sizeof b), "999");
    assert_string_equal(sgs_html_grouped(1000, 2, b, sizeof b), "1,000.00");
    assert_string_equal(sgs_html_grouped(-0.2, 0, b, sizeof b), "0");
}

/* The page frame: doctype, charset, escaped title, the style inline; nothing fetched. */
static void test_page_frame(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    assert_non_null(mem);
    sgs_html_begin(mem, "a <report>", "body{color:#000}");
    sgs_html_end(mem);
    assert_int_equal(fclose(mem), 0);
    if (strncmp(text, "<!DOCTYPE html>", 15) != 0)
        fail_msg("expected <!DOCTYPE html> first, got:\n%s", text);
    sgs_assert_contains(text, "<meta charset=\"utf-8\">");
    sgs_assert_contains(text, "<title>a &lt;report&gt;</title>");
    sgs_assert_contains(text, "<style>\nbody{color:#000}</style>");
    sgs_assert_contains(text, "</body>\n</html>\n");
    sgs_assert_not_contains(text, "http");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),   cmocka_unit_test(test_escape_truncates_at_entity),
        cmocka_unit_test(test_numbers),    cmocka_unit_test(test_grouped),
        cmocka_unit_test(test_page_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
