/*
 * tests/support/browser_check.h — open an HTML file in headless Chromium with the network
 * disabled and report what a reader would meet: console messages, network references, the
 * DOM after load and a screenshot; and read the charts of the report's chart contract out of
 * that DOM. docs/testing.md, "The browser check", says how Chromium is run and why.
 *
 * The chart contract (report.html, issue 16): every chart is
 *     <figure class="chart" id="chart-NAME"> <svg role="img" ...> ... </svg>
 *       <figcaption>...</figcaption> <table class="chart-data">...</table> </figure>
 * with one svg, one figcaption and one table, and every data mark an SVG element with
 * class "mark", data-label="..." and data-value="<number>".
 *
 * A test of a page, typically:
 *     sgs_test_browser_t b;
 *     sgs_test_browser_check(path, &b);            // skips (77) without a browser; fails on
 *                                                  // console messages, network, blank
 *     sgs_assert_chart_contract(b.dom, "rfm-segments");
 *     sgs_assert_chart_marks(b.dom, "rfm-segments", 11);
 *     sgs_assert_chart_mark_value(b.dom, "rfm-segments", "Champions", 123);
 *     sgs_test_browser_free(&b);
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>. Not thread-safe (one
 * page at a time per process); each call starts and ends its own Chromium.
 */
#ifndef SGS_BROWSER_CHECK_H
#define SGS_BROWSER_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* A screenshot's pixels, summarized. */
typedef struct sgs_test_png_stats {
    uint32_t width, height;  /* pixels */
    uint32_t background;     /* 0xRRGGBBAA of the top-left pixel, taken as the background */
    size_t n_colours;        /* distinct RGBA colours, at most SGS_TEST_PNG_MAX_COLOURS */
    size_t n_non_background; /* pixels of another colour than `background` */
} sgs_test_png_stats_t;

#define SGS_TEST_PNG_MAX_COLOURS 4096

/* A screenshot is blank when it has fewer than 2 colours or fewer than this many pixels
 * differing from the background (a line of text is several thousand). */
#define SGS_TEST_BROWSER_MIN_INK 500

/* Seconds Chromium may take to open a page before it is killed and the check fails. */
#define SGS_TEST_BROWSER_TIMEOUT_S 120

/* What opening a page gave. Every pointer is owned (malloc'd, NUL-terminated) and released by
 * sgs_test_browser_free. */
typedef struct sgs_test_browser {
    char program[256]; /* the Chromium binary run */
    int exit_status;   /* its exit status (0 expected) */
    char *dom;         /* the DOM after load, serialized by --dump-dom */
    char *log;         /* Chromium's standard error (--enable-logging=stderr) */
    char *console;     /* every console message, one a line: "message", source: url (line) */
    size_t n_console;  /* console messages: any level, uncaught exceptions included */
    char *network;     /* every network reference, one a line: "requested: URL" (what
                          Chromium's net log shows it tried to fetch) or "in the
                          HTML: ..." (a resource the file's text points outside to) */
    size_t n_network;  /* network references */
    sgs_test_png_stats_t shot; /* the screenshot (1200 x 2000) */
    int blank;                 /* 1 when the screenshot is blank (see SGS_TEST_BROWSER_MIN_INK) */
    char screenshot[512];      /* its path, in a temporary folder removed by _free */
    char work_dir[256];        /* that folder: profile, net log, DOM, log, screenshot */
} sgs_test_browser_t;

/* The Chromium program to run, written to `path`: $SGS_CHROMIUM when set (taken as found
 * even when it does not exist: running it then fails the check, a misnamed browser never
 * skips it), else the first of chromium-headless-shell, chromium, chromium-browser found on
 * $PATH or in /usr/bin (Debian's chromium-headless-shell, installed by scripts/install-deps).
 * Returns 1 when found, 0 when not. */
int sgs_test_browser_find(char *path, size_t size);

/* Open the local file `html_path` in headless Chromium (flags: docs/testing.md) with the
 * network disabled, once, giving the DOM after load, the console messages, the net log and a
 * 1200 x 2000 screenshot; scan the file's text for resources outside it; decode the
 * screenshot. Fills *b (free it with sgs_test_browser_free, also after a failure).
 * @return 0 when Chromium ran and produced a DOM, a net log and a screenshot (whatever they
 * hold: the caller judges); 77 when no browser is found; -1 when it was found but failed
 * (did not start, crashed, ran past SGS_TEST_BROWSER_TIMEOUT_S, wrote no DOM or screenshot, an
 * unreadable PNG), with `why` (may be NULL) saying what happened and b->log holding Chromium's
 * words. */
int sgs_test_browser_open(const char *html_path, sgs_test_browser_t *b, char *why, size_t why_size);

/* sgs_test_browser_open, as a test wants it: exits the process with 77 (ctest "skipped")
 * when no browser is found, printing why; fails the test when Chromium fails, when the page
 * wrote any console message, when there is any network reference, or when the screenshot
 * is blank, printing each. On return *b holds the page (free with sgs_test_browser_free). */
void sgs_test_browser_check(const char *html_path, sgs_test_browser_t *b);

/* Release what *b holds and remove its temporary folder; a zeroed or freed *b is fine. */
void sgs_test_browser_free(sgs_test_browser_t *b);

/* Summarize the PNG file at `path` (8-bit greyscale, RGB, RGBA, grey+alpha or palette,
 * non-interlaced: what Chromium writes). Returns 0, or -1 with `why` saying what is wrong. */
int sgs_test_png_stats(const char *path, sgs_test_png_stats_t *s, char *why, size_t why_size);

/* Network references in the text of an HTML file: the values of src, srcset, poster,
 * action, formaction, background, manifest and data attributes, of href on any element but
 * <a> (link, use, image, ...), of CSS url(...) and @import, that are not `data:`, `#...`
 * or empty: each is something the page would load from outside itself. Written to `out`
 * one a line, "in the HTML: <value>" (NUL-terminated, truncated to out_size); returns how
 * many. */
size_t sgs_test_html_external_refs(const char *html, char *out, size_t out_size);

/* ---- the charts in a DOM (the text --dump-dom gives, or any HTML) ---------------------- */

/* One data mark of a chart. */
typedef struct sgs_test_mark {
    char tag[32];    /* the SVG element: rect, circle, path, ... */
    char label[160]; /* data-label, entities decoded ("" when absent) */
    char value[64];  /* data-value as written ("" when absent) */
    double number;   /* data-value as a number; NaN when absent or not a number */
} sgs_test_mark_t;

/* Figures with class "chart" in `dom`. */
size_t sgs_test_dom_chart_count(const char *dom);

/* The marks (elements with class "mark") of the chart <figure class="chart" id="chart-NAME">,
 * in document order: up to `max` written to marks (may be NULL with max 0). Returns the
 * number of marks in the chart, or (size_t)-1 when there is no such chart. */
size_t sgs_test_dom_chart_marks(const char *dom, const char *name, sgs_test_mark_t *marks,
                                size_t max);

/* The data-value of the mark labelled `label` of chart NAME: 1 and *value when there is
 * exactly one such mark with a numeric value; 0 when there is none; -1 when there is no
 * such chart; -2 when several marks carry that label or the value is not a number. */
int sgs_test_dom_mark_value(const char *dom, const char *name, const char *label, double *value);

/* 0 when chart NAME obeys the chart contract (one svg with role="img", one figcaption, one
 * table with class "chart-data", at least one mark, each mark with a data-label and a
 * numeric data-value); else 1 with `why` saying the first breach. */
int sgs_test_dom_chart_contract(const char *dom, const char *name, char *why, size_t why_size);

/* Assertions on the above that print what they expected and what they found. */
#define sgs_assert_chart_contract(dom, name)                                                       \
    sgs__assert_chart_contract((dom), (name), __FILE__, __LINE__)
#define sgs_assert_chart_marks(dom, name, n)                                                       \
    sgs__assert_chart_marks((dom), (name), (size_t)(n), __FILE__, __LINE__)
#define sgs_assert_chart_mark_value(dom, name, label, value)                                       \
    sgs__assert_chart_mark_value((dom), (name), (label), (double)(value), __FILE__, __LINE__)
void sgs__assert_chart_contract(const char *dom, const char *name, const char *file, int line);
void sgs__assert_chart_marks(const char *dom, const char *name, size_t n, const char *file,
                             int line);
void sgs__assert_chart_mark_value(const char *dom, const char *name, const char *label,
                                  double value, const char *file, int line);

#endif
