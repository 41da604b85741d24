/*
 * io/html_doc.h — small helpers for writing an HTML document to a stream: text and attribute
 * escaping, deterministic numbers, and the opening and closing of the page. They know HTML,
 * nothing of what the page says (engine/write_report_html.c).
 *
 * Numbers: every number the page shows is written by sgs_html_number, so the same double
 * always gives the same characters (no locale, no thousands separators, -0 written as 0).
 * Write errors are the stream's: check ferror() once at the end.
 */
#ifndef SGS_HTML_DOC_H
#define SGS_HTML_DOC_H

#include <stddef.h>
#include <stdio.h>

/* Write s with & < > " ' replaced by &amp; &lt; &gt; &quot; &#39;, safe both as element text
 * and inside a double-quoted attribute. NULL writes nothing. */
void sgs_html_text(FILE *out, const char *s);

/* The same escaping into buf (NUL-terminated, truncated to size - 1 bytes at a character
 * boundary of the escaped text: an entity is never cut). Returns buf. */
char *sgs_html_escape(const char *s, char *buf, size_t size);

/* printf-style: format into a buffer of 2048 bytes, then write it escaped. */
void sgs_html_textf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* v with `decimals` (0..9) places, '.' as the decimal point, no grouping, "-0" written "0",
 * NaN as "NaN" and infinities as "Inf" / "-Inf"; NUL-terminated in buf (40 bytes are always
 * enough for |v| < 1e30). Returns buf. Deterministic: the same v and decimals give the same
 * characters on every run. */
const char *sgs_html_number(double v, int decimals, char *buf, size_t size);

/* The same with thousands separators ("1,234,567.8"), for text a person reads. */
const char *sgs_html_grouped(double v, int decimals, char *buf, size_t size);

/* `<!DOCTYPE html>` up to and including `<body>`: charset, viewport, the escaped title and
 * `css` inline in one <style> element (written as given: it must not contain "</style"). */
void sgs_html_begin(FILE *out, const char *title, const char *css);

/* `</body></html>` and a newline. */
void sgs_html_end(FILE *out);

#endif
