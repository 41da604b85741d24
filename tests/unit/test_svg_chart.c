/*
 * tests/unit/test_svg_chart.c — io/svg_chart.h: the markup contract (figure, svg with role
 * and aria-labelledby, figcaption, table.chart-data), one mark per value with data-label and
 * data-value equal to the input, labels escaped, axes and their titles present, the same
 * bytes for the same data, and the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/html_doc.h"
#include "io/svg_chart.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*chart_fn)(FILE *, const sgs_chart_t *);

/* The markup chart_fn writes for c (its return code in *rc). */
static char *render(chart_fn fn, const sgs_chart_t *c, int *rc)
{
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    assert_non_null(mem);
    *rc = fn(mem, c);
    assert_int_equal(fclose(mem), 0);
    return text;
}

static size_t count(const char *text, const char *part)
{
    size_t n = 0;
    for (const char *p = strstr(text, part); p; p = strstr(p + 1, part))
        n++;
    return n;
}

/* The value of attribute `name` of the k-th mark (0-based), into buf. */
static const char *mark_attr(const char *text, size_t k, const char *name, char *buf, size_t size)
{
    const char *p = strstr(text, "class=\"mark\"");
    for (size_t i = 0; i < k && p; i++)
        p = strstr(p + 1, "class=\"mark\"");
    assert_non_null(p);
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *a = strstr(p, key);
    const char *end_of_tag = strchr(p, '>');
    assert_non_null(a);
    if (!end_of_tag || !(a < end_of_tag))
        fail_msg("mark %zu: %s=\" after the end of its tag: %.200s", k, name, p);
    a += strlen(key);
    size_t len = strcspn(a, "\"");
    sgs_assert_cmp(len, <, size);
    memcpy(buf, a, len);
    buf[len] = '\0';
    return buf;
}

static void assert_contract(const char *text, const char *name)
{
    char want[256];
    snprintf(want, sizeof want, "<figure class=\"chart\" id=\"chart-%s\">", name);
    sgs_assert_contains(text, want);
    snprintf(want, sizeof want,
             "<svg role=\"img\" aria-labelledby=\"chart-%s-title chart-%s-desc\"", name, name);
    sgs_assert_contains(text, want);
    snprintf(want, sizeof want, "<title id=\"chart-%s-title\">", name);
    sgs_assert_contains(text, want);
    assert_int_equal(count(text, "<svg"), 1);
    assert_int_equal(count(text, "<figcaption>"), 1);
    assert_int_equal(count(text, "<table class=\"chart-data\">"), 1);
    /* svg, then figcaption, then the table, then the end of the figure */
    const char *svg_end = strstr(text, "</svg>"), *cap = strstr(text, "<figcaption>"),
               *table = strstr(text, "<table class=\"chart-data\">"),
               *fig_end = strstr(text, "</figure>");
    assert_non_null(svg_end);
    assert_non_null(cap);
    assert_non_null(table);
    assert_non_null(fig_end);
    sgs_assert_cmp(svg_end - text, <, cap - text);
    sgs_assert_cmp(cap - text, <, table - text);
    sgs_assert_cmp(table - text, <, fig_end - text);
    sgs_assert_not_contains(text, "http");
    sgs_assert_not_contains(text, "<script");
}

static void test_bar_chart_marks(void **state)
{
    (void)state;
    const char *labels[] = {"Champions", "At <risk> & \"lost\"", "Lost's"};
    const double customers[] = {266, 1234567, 0};
    const double share[] = {8.94, 11.0, 0};
    sgs_chart_t c = {
        .name = "rfm-segments",
        .title = "Customers per segment",
        .x_title = "customers",
        .y_title = "RFM segment",
        .n = 3,
        .labels = labels,
        .n_series = 2,
        .series = {{"customers", customers, 0, 0}, {"share (%)", share, 1, 1}},
    };
    int rc;
    char *text = render(sgs_svg_bar_chart, &c, &rc);
    assert_int_equal(rc, SGS_OK);
    assert_contract(text, "rfm-segments");
    /* one mark per category (the table-only series draws none) */
    assert_int_equal(count(text, "class=\"mark\""), 3);
    char b[256], esc[256], num[48];
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(mark_attr(text, i, "data-value", b, sizeof b),
                            sgs_html_number(customers[i], 0, num, sizeof num));
        assert_string_equal(mark_attr(text, i, "data-label", b, sizeof b),
                            sgs_html_escape(labels[i], esc, sizeof esc));
    }
    assert_string_equal(mark_attr(text, 1, "data-label", b, sizeof b),
                        "At &lt;risk&gt; &amp; &quot;lost&quot;");
    sgs_assert_not_contains(text, "<risk>");
    sgs_assert_not_contains(text, "Lost's");
    /* the table: every value, the table-only series too, as data-value writes them */
    sgs_assert_contains(text, "<td>1234567</td><td>11.0</td>");
    sgs_assert_contains(text, "<td>266</td><td>8.9</td>");
    /* axes, tick labels with separators, axis titles */
    assert_int_equal(count(text, "class=\"axis\""), 2);
    sgs_assert_contains(text, "class=\"axis-title\">customers</text>");
    sgs_assert_contains(text, "class=\"axis-title\">RFM segment</text>");
    sgs_assert_contains(text, ">1,500,000</text>");
    /* the same data give the same bytes */
    int rc2;
    char *again = render(sgs_svg_bar_chart, &c, &rc2);
    assert_string_equal(text, again);
    free(again);
    free(text);
}

/* Two drawn series: a mark per value and series, told apart by data-series and by a hollow
 * bar (not hue alone), with a legend. */
static void test_bar_chart_two_series(void **state)
{
    (void)state;
    const char *labels[] = {"0", "1"};
    const double a[] = {1.5, 2.25}, b2[] = {3, 0.5};
    sgs_chart_t c = {
        .name = "two",
        .title = "t",
        .x_title = "x",
        .y_title = "y",
        .n = 2,
        .labels = labels,
        .n_series = 2,
        .series = {{"predicted", a, 2, 0}, {"actual", b2, 1, 0}},
    };
    int rc;
    char *text = render(sgs_svg_bar_chart, &c, &rc);
    assert_int_equal(rc, SGS_OK);
    assert_int_equal(count(text, "class=\"mark\""), 4);
    assert_int_equal(count(text, "data-series=\"predicted\""), 2);
    assert_int_equal(count(text, "data-series=\"actual\""), 2);
    char buf[64];
    assert_string_equal(mark_attr(text, 1, "data-value", buf, sizeof buf), "3.0");
    assert_string_equal(mark_attr(text, 2, "data-value", buf, sizeof buf), "2.25");
    sgs_assert_contains(text, "fill=\"#ffffff\"");
    sgs_assert_contains(text, ">actual</text>");
    free(text);
}

/* The numeric value of attribute `name` of the k-th mark. */
static double mark_number(const char *text, size_t k, const char *name)
{
    char buf[64];
    return strtod(mark_attr(text, k, name, buf, sizeof buf), NULL);
}

/* Negative values: the axis extends below 0, a line marks 0, a negative bar ends at it from
 * the left and a positive one starts there; a NaN is a zero-width bar at 0. */
static void test_bar_chart_diverging(void **state)
{
    (void)state;
    const char *labels[] = {"spend", "recency", "gap"};
    const double z[] = {1.2, -0.8, NAN};
    sgs_chart_t c = {
        .name = "profile",
        .title = "t",
        .x_title = "standard deviations from the base",
        .y_title = "feature",
        .n = 3,
        .labels = labels,
        .n_series = 1,
        .series = {{"deviation", z, 2, 0}},
    };
    int rc;
    char *text = render(sgs_svg_bar_chart, &c, &rc);
    assert_int_equal(rc, SGS_OK);
    assert_contract(text, "profile");
    assert_int_equal(count(text, "class=\"zero\""), 1);
    const char *zero_line = strstr(text, "class=\"zero\" x1=\"");
    assert_non_null(zero_line);
    double zero = strtod(zero_line + strlen("class=\"zero\" x1=\""), NULL);
    double x0 = mark_number(text, 0, "x"), w0 = mark_number(text, 0, "width");
    double x1 = mark_number(text, 1, "x"), w1 = mark_number(text, 1, "width");
    sgs_assert_close(x0, zero, 0.05, 0);
    sgs_assert_close(x1 + w1, zero, 0.15, 0);
    /* widths in proportion to the values (one decimal in the markup) */
    sgs_assert_close(w1 / w0, 0.8 / 1.2, 0.01, 0);
    sgs_assert_close(mark_number(text, 2, "width"), 0, 0, 0);
    sgs_assert_close(mark_number(text, 2, "x"), zero, 0.05, 0);
    char buf[64];
    assert_string_equal(mark_attr(text, 1, "data-value", buf, sizeof buf), "-0.80");
    assert_string_equal(mark_attr(text, 2, "data-value", buf, sizeof buf), "NaN");
    /* a tick at a negative value, and at 0 */
    sgs_assert_contains(text, ">-1.0</text>");
    free(text);
    /* intervals: a whisker per finite (lo, hi), given as data-lo and data-hi; the axis
     * reaches the interval's ends */
    const double lo[] = {0.5, -2.6, NAN}, hi[] = {1.9, 0.4, NAN};
    c.lo = lo;
    c.hi = hi;
    text = render(sgs_svg_bar_chart, &c, &rc);
    assert_int_equal(rc, SGS_OK);
    assert_int_equal(count(text, "class=\"interval\""), 2);
    assert_int_equal(count(text, "data-lo=\""), 2);
    assert_string_equal(mark_attr(text, 1, "data-lo", buf, sizeof buf), "-2.60");
    assert_string_equal(mark_attr(text, 1, "data-hi", buf, sizeof buf), "0.40");
    sgs_assert_contains(text, ">-3</text>");
    free(text);
    c.lo = c.hi = NULL;
    /* only positive values: no zero line (the value axis is the y axis' left edge) */
    const double pos[] = {1, 2, 3};
    c.series[0].values = pos;
    text = render(sgs_svg_bar_chart, &c, &rc);
    assert_int_equal(rc, SGS_OK);
    assert_int_equal(count(text, "class=\"zero\""), 0);
    free(text);
}

static void test_line_chart(void **state)
{
    (void)state;
    const char *labels[] = {"2024-01-01", "2024-01-08", "2024-01-15"};
    const double x[] = {0, 7, 14}, y[] = {0.25, NAN, 0.75};
    sgs_chart_t c = {
        .name = "line",
        .title = "A line",
        .x_title = "days",
        .y_title = "share",
        .n = 3,
        .labels = labels,
        .x = x,
        .value_max = 1,
        .n_series = 1,
        .series = {{"share", y, 3, 0}},
    };
    int rc;
    char *text = render(sgs_svg_line_chart, &c, &rc);
    assert_int_equal(rc, SGS_OK);
    assert_contract(text, "line");
    assert_int_equal(count(text, "class=\"mark\""), 2); /* NaN: no point */
    char buf[64];
    assert_string_equal(mark_attr(text, 0, "data-label", buf, sizeof buf), "2024-01-01");
    assert_string_equal(mark_attr(text, 1, "data-value", buf, sizeof buf), "0.750");
    assert_int_equal(count(text, "<polyline"), 1);
    assert_int_equal(count(text, "class=\"axis\""), 2);
    sgs_assert_contains(text, ">0.2</text>"); /* a y tick */
    sgs_assert_contains(text, "<td>NaN</td>");
    c.x = NULL;
    free(text);
    text = render(sgs_svg_line_chart, &c, &rc);
    assert_int_equal(rc, SGS_EINVAL);
    free(text);
}

static void test_heat_map(void **state)
{
    (void)state;
    const char *rows[] = {"r2", "r1"}, *cols[] = {"f1", "f2", "f3"};
    const double v[] = {1, 2, 3, 40, 5, 0};
    sgs_chart_t c = {
        .name = "grid",
        .title = "Grid",
        .x_title = "frequency score",
        .y_title = "recency score",
        .n = 3,
        .labels = cols,
        .n_rows = 2,
        .row_labels = rows,
        .n_series = 1,
        .series = {{"customers", v, 0, 0}},
    };
    int rc;
    char *text = render(sgs_svg_heat_map, &c, &rc);
    assert_int_equal(rc, SGS_OK);
    assert_contract(text, "grid");
    assert_int_equal(count(text, "class=\"mark\""), 6);
    char buf[64];
    assert_string_equal(mark_attr(text, 3, "data-label", buf, sizeof buf), "r1 f1");
    assert_string_equal(mark_attr(text, 3, "data-value", buf, sizeof buf), "40");
    sgs_assert_contains(text, "fill=\"#08306b\""); /* the largest is the darkest */
    sgs_assert_contains(text, "fill=\"#f7fbff\""); /* 0 the lightest */
    sgs_assert_contains(text, "<th scope=\"row\">r1</th><td>40</td><td>5</td><td>0</td>");
    c.label_join = " to ";
    free(text);
    text = render(sgs_svg_heat_map, &c, &rc);
    assert_string_equal(mark_attr(text, 5, "data-label", buf, sizeof buf), "r1 to f3");
    free(text);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *labels[] = {"a"};
    const double v[] = {1};
    sgs_chart_t c = {.name = "x",
                     .title = "t",
                     .n = 1,
                     .labels = labels,
                     .n_series = 1,
                     .series = {{"v", v, 0, 0}}};
    int rc;
    char *text = render(sgs_svg_heat_map, &c, &rc); /* no rows */
    assert_int_equal(rc, SGS_EINVAL);
    free(text);
    c.n = 0;
    text = render(sgs_svg_bar_chart, &c, &rc);
    assert_int_equal(rc, SGS_EINVAL);
    if (text != NULL && text[0] != '\0')
        fail_msg("expected no text, got:\n%s", text);
    free(text);
    c.n = 1;
    c.n_series = SGS_CHART_MAX_SERIES + 1;
    text = render(sgs_svg_bar_chart, &c, &rc);
    assert_int_equal(rc, SGS_EINVAL);
    free(text);
}

static void test_nice_step(void **state)
{
    (void)state;
    double top;
    sgs_assert_cmp(sgs_chart_nice_step(433, 5, &top), ==, 100);
    sgs_assert_cmp(top, ==, 500);
    sgs_assert_cmp(sgs_chart_nice_step(1, 5, &top), ==, 0.2);
    sgs_assert_cmp(fabs(top - 1), <, 1e-12);
    sgs_assert_cmp(sgs_chart_nice_step(1842, 5, &top), ==, 500);
    sgs_assert_cmp(top, ==, 2000);
    sgs_assert_cmp(sgs_chart_nice_step(0, 5, &top), ==, 1);
    sgs_assert_cmp(top, ==, 1);
    sgs_chart_nice_step(NAN, 5, &top);
    sgs_assert_cmp(top, ==, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bar_chart_marks),
        cmocka_unit_test(test_bar_chart_two_series),
        cmocka_unit_test(test_bar_chart_diverging),
        cmocka_unit_test(test_line_chart),
        cmocka_unit_test(test_heat_map),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_nice_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
