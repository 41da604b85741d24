/*
 * tests/unit/test_browser_dom.c — the text side of the browser check
 * (tests/support/browser_check.h), without a browser:
 *   - the charts of a DOM: marks counted per chart, labels with character references decoded,
 *     values, a missing chart, marks of one chart not counted in another, script text skipped;
 *   - the chart contract and each way to break it;
 *   - network references found in an HTML file's text, and what is not one;
 *   - the PNG summary on images made here with each row filter, and on broken files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/browser_check.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* As Chromium's --dump-dom writes it: double quotes, & and " as references. */
static const char *const dom =
    "<!DOCTYPE html><html><head><script>var s = '<rect class=\"mark\" data-label=\"x\">';"
    "</script></head><body>"
    "<figure class=\"chart wide\" id=\"chart-rfm-segments\"><svg role=\"img\" width=\"10\">"
    "<g><rect class=\"mark\" data-label=\"Champions\" data-value=\"123\"></rect>"
    "<rect class=\"bar mark\" data-label=\"R&amp;D &quot;x&quot; &lt;1&gt;\" "
    "data-value=\"7.5\"></rect><rect class=\"marker\" data-label=\"no\"></rect>"
    "<!-- <rect class=\"mark\" data-label=\"commented\" data-value=\"1\"> -->"
    "<circle class=\"mark\" data-label=\"Lost\" data-value=\"-4e1\"/></g></svg>"
    "<figcaption>Customers</figcaption><table class=\"chart-data\"><tr><td>1</td></tr>"
    "</table></figure>"
    "<figure class=\"chart\" id=\"chart-stages\"><svg role=\"img\">"
    "<rect class=\"mark\" data-label=\"new\" data-value=\"10\"></rect></svg>"
    "<figcaption>Stages</figcaption><table class=\"chart-data\"></table></figure>"
    "<figure id=\"chart-not-a-chart\"><svg></svg></figure>"
    "</body></html>";

static void test_marks_are_read_per_chart(void **state)
{
    (void)state;
    assert_int_equal(sgs_test_dom_chart_count(dom), 2);
    sgs_test_mark_t marks[8];
    assert_int_equal(sgs_test_dom_chart_marks(dom, "rfm-segments", marks, 8), 3);
    assert_string_equal(marks[0].tag, "rect");
    assert_string_equal(marks[0].label, "Champions");
    assert_string_equal(marks[0].value, "123");
    assert_string_equal(marks[1].label, "R&D \"x\" <1>");
    sgs_assert_close(marks[1].number, 7.5, 0, 0);
    assert_string_equal(marks[2].tag, "circle");
    sgs_assert_close(marks[2].number, -40, 0, 0);
    assert_int_equal(sgs_test_dom_chart_marks(dom, "stages", NULL, 0), 1);
    assert_int_equal(sgs_test_dom_chart_marks(dom, "rfm", NULL, 0), (size_t)-1);
    assert_int_equal(sgs_test_dom_chart_marks(dom, "not-a-chart", NULL, 0), (size_t)-1);

    double v = 0;
    assert_int_equal(sgs_test_dom_mark_value(dom, "rfm-segments", "Champions", &v), 1);
    sgs_assert_close(v, 123, 0, 0);
    assert_int_equal(sgs_test_dom_mark_value(dom, "rfm-segments", "new", &v), 0);
    assert_int_equal(sgs_test_dom_mark_value(dom, "rfm-segments", "commented", &v), 0);
    assert_int_equal(sgs_test_dom_mark_value(dom, "nope", "new", &v), -1);
    sgs_assert_chart_marks(dom, "rfm-segments", 3);
    sgs_assert_chart_mark_value(dom, "rfm-segments", "R&D \"x\" <1>", 7.5);
    sgs_assert_chart_mark_value(dom, "stages", "new", 10);
    sgs_assert_chart_contract(dom, "rfm-segments");
    sgs_assert_chart_contract(dom, "stages");
}

/* `why` of the contract check of chart "c" in `figure_inside` (wrapped in its figure). */
static int contract(const char *figure_inside, char *why, size_t size)
{
    char page[2048];
    snprintf(page, sizeof page, "<body><figure class=\"chart\" id=\"chart-c\">%s</figure></body>",
             figure_inside);
    return sgs_test_dom_chart_contract(page, "c", why, size);
}

static void test_each_breach_of_the_contract_is_named(void **state)
{
    (void)state;
    char why[512];
    const char *ok_rest = "<figcaption>c</figcaption><table class=\"chart-data\"></table>";
    char inside[1024];
    snprintf(inside, sizeof inside,
             "<svg role=\"img\"><rect class=\"mark\" data-label=\"a\" data-value=\"1\"></rect>"
             "</svg>%s",
             ok_rest);
    assert_int_equal(contract(inside, why, sizeof why), 0);

    snprintf(inside, sizeof inside,
             "<svg><rect class=\"mark\" data-label=\"a\" data-value=\"1\"></rect></svg>%s",
             ok_rest);
    assert_int_equal(contract(inside, why, sizeof why), 1);
    sgs_assert_contains(why, "role=\"img\"");

    snprintf(inside, sizeof inside,
             "<svg role=\"img\"><rect class=\"mark\" data-label=\"a\" data-value=\"1\"></rect>"
             "</svg><svg role=\"img\"></svg>%s",
             ok_rest);
    assert_int_equal(contract(inside, why, sizeof why), 1);
    sgs_assert_contains(why, "2 svg");

    snprintf(inside, sizeof inside,
             "<svg role=\"img\"><rect class=\"mark\" data-label=\"a\" data-value=\"1\"></rect>"
             "</svg><figcaption>c</figcaption><table></table>");
    assert_int_equal(contract(inside, why, sizeof why), 1);
    sgs_assert_contains(why, "chart-data");

    snprintf(inside, sizeof inside, "<svg role=\"img\"></svg>%s", ok_rest);
    assert_int_equal(contract(inside, why, sizeof why), 1);
    sgs_assert_contains(why, "0 marks");

    snprintf(inside, sizeof inside,
             "<svg role=\"img\"><rect class=\"mark\" data-label=\"a\" data-value=\"1\"></rect>"
             "</svg><figcaption>c</figcaption><table class=\"chart-data\"><tr><td class=\"mark\" "
             "data-label=\"b\" data-value=\"2\"></td></tr></table>");
    assert_int_equal(contract(inside, why, sizeof why), 1);
    sgs_assert_contains(why, "1 outside the svg");

    snprintf(inside, sizeof inside,
             "<svg role=\"img\"><rect class=\"mark\" data-label=\"a\" data-value=\"12px\"></rect>"
             "</svg>%s",
             ok_rest);
    assert_int_equal(contract(inside, why, sizeof why), 1);
    sgs_assert_contains(why, "\"12px\"");

    snprintf(inside, sizeof inside,
             "<svg role=\"img\"><rect class=\"mark\" data-value=\"1\"></rect></svg>%s", ok_rest);
    assert_int_equal(contract(inside, why, sizeof why), 1);
    sgs_assert_contains(why, "data-label \"\"");

    assert_int_equal(
        sgs_test_dom_chart_contract("<figure id=\"chart-c\"></figure>", "c", why, sizeof why), 1);
    sgs_assert_contains(why, "no <figure class=\"chart\" id=\"chart-c\">");
}

static void test_network_references_in_the_html(void **state)
{
    (void)state;
    char out[4096];
    const char *clean =
        "<html><head><style>.a{background:url(data:image/png;base64,AAAA)} .b{fill:url(#g)}"
        "</style></head><body><svg xmlns=\"http://www.w3.org/2000/svg\"><use href=\"#sym\"/>"
        "</svg><a href=\"https://example.org/docs\">docs</a><img src=\"data:image/gif;base64,R0\">"
        "<p>see http://example.org</p></body></html>";
    assert_int_equal(sgs_test_html_external_refs(clean, out, sizeof out), 0);
    assert_string_equal(out, "");

    const char *dirty =
        "<html><head><link rel=\"stylesheet\" href=\"https://cdn.example/x.css\">"
        "<script src='//cdn.example/d3.js'></script>"
        "<style>@import \"fonts.css\"; body{background:url( 'http://example.invalid/b.png' )}"
        "</style></head><body><img src=logo.png alt=x><svg><image href=\"http://x.invalid/i.png\"/>"
        "</svg><a href=\"https://example.org/ok\">ok</a></body></html>";
    assert_int_equal(sgs_test_html_external_refs(dirty, out, sizeof out), 6);
    sgs_assert_contains(out, "in the HTML: <link href=\"https://cdn.example/x.css\">");
    sgs_assert_contains(out, "in the HTML: <script src=\"//cdn.example/d3.js\">");
    sgs_assert_contains(out, "in the HTML: <img src=\"logo.png\">");
    sgs_assert_contains(out, "in the HTML: <image href=\"http://x.invalid/i.png\">");
    sgs_assert_contains(out, "url( 'http://example.invalid/b.png' )");
    sgs_assert_contains(out, "in the HTML: @import \"fonts.css\"");
}

/* ---- PNG ------------------------------------------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void chunk(FILE *f, const char *type, const unsigned char *data, uint32_t n)
{
    unsigned char head[8], crc[4];
    put32(head, n);
    memcpy(head + 4, type, 4);
    uLong c = crc32(0, head + 4, 4);
    c = crc32(c, data, n);
    put32(crc, (uint32_t)c);
    fwrite(head, 1, 8, f);
    fwrite(data, 1, n, f);
    fwrite(crc, 1, 4, f);
}

static int paeth_ref(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Write an 8-bit RGB PNG of w x h pixels rgb[], row y filtered with filter y % 5. */
static void write_png(const char *path, uint32_t w, uint32_t h, const unsigned char *rgb)
{
    size_t stride = 3 * (size_t)w, n = (stride + 1) * h;
    unsigned char *raw = malloc(n), *z = malloc(compressBound(n)), ihdr[13];
    for (uint32_t y = 0; y < h; y++) {
        const unsigned char *cur = rgb + y * stride, *up = y ? cur - stride : NULL;
        unsigned char *out = raw + y * (stride + 1);
        int filter = (int)(y % 5);
        out[0] = (unsigned char)filter;
        for (size_t x = 0; x < stride; x++) {
            int a = x >= 3 ? cur[x - 3] : 0, b = up ? up[x] : 0, c = up && x >= 3 ? up[x - 3] : 0;
            int pred = filter == 1   ? a
                       : filter == 2 ? b
                       : filter == 3 ? (a + b) / 2
                       : filter == 4 ? paeth_ref(a, b, c)
                                     : 0;
            out[1 + x] = (unsigned char)(cur[x] - pred);
        }
    }
    uLongf zn = compressBound(n);
    assert_int_equal(compress(z, &zn, raw, n), Z_OK);
    put32(ihdr, w);
    put32(ihdr + 4, h);
    ihdr[8] = 8, ihdr[9] = 2, ihdr[10] = 0, ihdr[11] = 0, ihdr[12] = 0;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
    chunk(f, "IHDR", ihdr, 13);
    chunk(f, "IDAT", z, (uint32_t)zn);
    chunk(f, "IEND", (const unsigned char *)"", 0);
    fclose(f);
    free(raw);
    free(z);
}

static void test_png_summary(void **state)
{
    (void)state;
    char dir[256], path[512], why[256];
    sgs_test_tmpdir("browser_png", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.png", dir);
    enum { W = 7, H = 10 };
    static unsigned char rgb[W * H * 3];
    memset(rgb, 255, sizeof rgb);
    /* A white image with a 3 x 4 block of three colours in rows that use every filter. */
    for (int y = 3; y < 7; y++)
        for (int x = 2; x < 5; x++) {
            unsigned char *p = rgb + 3 * (y * W + x);
            p[0] = (unsigned char)(40 * x), p[1] = (unsigned char)(200 - 10 * x), p[2] = 77;
        }
    write_png(path, W, H, rgb);
    sgs_test_png_stats_t s;
    assert_int_equal(sgs_test_png_stats(path, &s, why, sizeof why), 0);
    assert_int_equal(s.width, W);
    assert_int_equal(s.height, H);
    assert_int_equal(s.background, 0xffffffffu);
    assert_int_equal(s.n_colours, 4);
    assert_int_equal(s.n_non_background, 12);

    memset(rgb, 255, sizeof rgb);
    write_png(path, W, H, rgb);
    assert_int_equal(sgs_test_png_stats(path, &s, why, sizeof why), 0);
    assert_int_equal(s.n_colours, 1);
    assert_int_equal(s.n_non_background, 0);

    sgs_test_write_file(path, "not a png");
    assert_int_equal(sgs_test_png_stats(path, &s, why, sizeof why), -1);
    assert_string_equal(why, "not a PNG");
    snprintf(path, sizeof path, "%s/missing.png", dir);
    assert_int_equal(sgs_test_png_stats(path, &s, why, sizeof why), -1);
    assert_string_equal(why, "cannot read it");
    sgs_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks_are_read_per_chart),
        cmocka_unit_test(test_each_breach_of_the_contract_is_named),
        cmocka_unit_test(test_network_references_in_the_html),
        cmocka_unit_test(test_png_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
