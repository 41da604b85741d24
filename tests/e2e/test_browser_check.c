/*
 * tests/e2e/test_browser_check.c — the headless-browser check (tests/support/browser_check.h)
 * in a real headless Chromium, on pages made for it (issue 16 item 2; report.html is tested
 * with it once it exists):
 *   - tests/fixtures/report_fixture.html, a page obeying the chart contract, passes: no
 *     console message, no network reference, charts and marks as written, its script ran, the
 *     screenshot is not blank;
 *   - each way a page can fail is caught: an uncaught exception and a console.log are console
 *     messages; an image on http://example.invalid is a network reference (in the HTML, and in
 *     Chromium's net log), a fetch() from a script is one (only in the net log), a file beside
 *     the page is one (only in the HTML); an empty page's screenshot is blank; a browser that
 *     is named ($SGS_CHROMIUM) but does not run fails the check instead of skipping it.
 * Skips (77) when no Chromium is found (scripts/install-deps installs chromium-headless-shell).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/browser_check.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];

/* Open a page made of `html` (written to dir/<name>.html) without judging it. */
static void open_page(const char *name, const char *html, sgs_test_browser_t *b)
{
    char path[512], why[1024];
    snprintf(path, sizeof path, "%s/%s.html", dir, name);
    sgs_test_write_file(path, html);
    int status = sgs_test_browser_open(path, b, why, sizeof why);
    if (status != 0)
        fail_msg("%s: %s\nChromium's log:\n%s", path, why, b->log);
}

static void test_the_fixture_passes(void **state)
{
    (void)state;
    sgs_test_browser_t b;
    sgs_test_browser_check(SGS_SOURCE_DIR "/tests/fixtures/report_fixture.html", &b);
    assert_int_equal(b.n_console, 0);
    assert_int_equal(b.n_network, 0);
    assert_int_equal(b.blank, 0);
    print_message("screenshot: %ux%u, %zu colours, %zu pixels not background\n", b.shot.width,
                  b.shot.height, b.shot.n_colours, b.shot.n_non_background);
    assert_int_equal(b.shot.width, 1200);
    assert_int_equal(b.shot.height, 2000);
    sgs_assert_cmp(b.shot.n_colours, >=, 3); /* white, text, the bars' blue (and anti-aliasing) */

    /* The DOM after load, alone (Chromium's messages go to its log): the inline script ran
     * (it counts the marks into the body). */
    assert_memory_equal(b.dom, "<!DOCTYPE html>", 15);
    sgs_assert_not_contains(b.dom, "bytes written to file");
    sgs_assert_contains(b.dom, "data-rendered=\"7\"");
    assert_int_equal(sgs_test_dom_chart_count(b.dom), 2);
    sgs_assert_chart_contract(b.dom, "rfm-segments");
    sgs_assert_chart_contract(b.dom, "stages");
    sgs_assert_chart_marks(b.dom, "rfm-segments", 4);
    sgs_assert_chart_marks(b.dom, "stages", 3);
    sgs_assert_chart_mark_value(b.dom, "rfm-segments", "Champions", 123);
    sgs_assert_chart_mark_value(b.dom, "rfm-segments", "R&D \"test\"", 7);
    sgs_assert_chart_mark_value(b.dom, "stages", "active", 25);
    sgs_test_browser_free(&b);
}

static void test_console_messages_are_caught(void **state)
{
    (void)state;
    sgs_test_browser_t b;
    open_page("throws",
              "<!DOCTYPE html><html><body><h1>A heading that is not blank</h1>"
              "<script>throw new Error(\"x\")</script></body></html>",
              &b);
    assert_int_equal(b.n_console, 1);
    sgs_assert_contains(b.console, "Uncaught Error: x");
    assert_int_equal(b.n_network, 0);
    sgs_test_browser_free(&b);

    /* Chromium logs every console level alike: a console.log counts too. */
    open_page("logs",
              "<!DOCTYPE html><html><body><p>text</p><script>console.log(\"hello\");"
              "console.warn(\"careful\")</script></body></html>",
              &b);
    assert_int_equal(b.n_console, 2);
    sgs_assert_contains(b.console, "\"hello\"");
    sgs_assert_contains(b.console, "\"careful\"");
    sgs_test_browser_free(&b);
}

static void test_network_references_are_caught(void **state)
{
    (void)state;
    sgs_test_browser_t b;
    open_page("image",
              "<!DOCTYPE html><html><body><p>text</p>"
              "<img src=\"http://example.invalid/x.png\"></body></html>",
              &b);
    assert_int_equal(b.n_network, 2);
    sgs_assert_contains(b.network, "requested: http://example.invalid/x.png");
    sgs_assert_contains(b.network, "in the HTML: <img src=\"http://example.invalid/x.png\">");
    sgs_test_browser_free(&b);

    /* A request a script makes is only in the net log. */
    open_page("fetch",
              "<!DOCTYPE html><html><body><p>text</p><script>"
              "fetch(\"http://example.invalid/data.json\").catch(function () {});"
              "</script></body></html>",
              &b);
    sgs_assert_contains(b.network, "requested: http://example.invalid/data.json");
    sgs_test_browser_free(&b);

    /* A file beside the page loads without the network, but the page is not self-contained. */
    open_page("beside",
              "<!DOCTYPE html><html><body><p>text</p><img src=\"logo.png\"></body></html>", &b);
    assert_int_equal(b.n_network, 1);
    sgs_assert_contains(b.network, "in the HTML: <img src=\"logo.png\">");
    sgs_test_browser_free(&b);
}

static void test_a_blank_page_is_caught(void **state)
{
    (void)state;
    sgs_test_browser_t b;
    open_page("blank", "<!DOCTYPE html><html><body></body></html>", &b);
    assert_int_equal(b.blank, 1);
    assert_int_equal(b.shot.n_colours, 1);
    assert_int_equal(b.shot.n_non_background, 0);
    assert_int_equal(b.n_console, 0);
    assert_int_equal(b.n_network, 0);
    sgs_test_browser_free(&b);
}

/* A browser that is named but does not run fails the check: it never skips it. */
static void test_a_browser_that_does_not_run_fails(void **state)
{
    (void)state;
    char path[512], why[1024], old[256];
    snprintf(path, sizeof path, "%s/page.html", dir);
    sgs_test_write_file(path, "<!DOCTYPE html><html><body><p>text</p></body></html>");
    const char *was = getenv("SGS_CHROMIUM");
    snprintf(old, sizeof old, "%s", was ? was : "");
    setenv("SGS_CHROMIUM", "/nonexistent/chromium", 1);
    sgs_test_browser_t b;
    int status = sgs_test_browser_open(path, &b, why, sizeof why);
    if (was)
        setenv("SGS_CHROMIUM", old, 1);
    else
        unsetenv("SGS_CHROMIUM");
    assert_int_equal(status, -1);
    sgs_assert_contains(why, "/nonexistent/chromium");
    sgs_test_browser_free(&b);
}

static int setup(void **state)
{
    (void)state;
    sgs_test_tmpdir("browser_check", dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

int main(void)
{
    char program[256];
    if (!sgs_test_browser_find(program, sizeof program)) {
        printf("skipped: no Chromium (chromium-headless-shell, chromium or chromium-browser, or "
               "$SGS_CHROMIUM); scripts/install-deps installs chromium-headless-shell\n");
        return 77;
    }
    printf("browser: %s\n", program);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_fixture_passes),
        cmocka_unit_test(test_console_messages_are_caught),
        cmocka_unit_test(test_network_references_are_caught),
        cmocka_unit_test(test_a_blank_page_is_caught),
        cmocka_unit_test(test_a_browser_that_does_not_run_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
