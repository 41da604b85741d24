/*
 * io/html_doc.c — escaping, deterministic numbers and the page frame (io/html_doc.h).
 */
#include "io/html_doc.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* The entity of c, or NULL when c is written as it is. */
static const char *entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

void sgs_html_text(FILE *out, const char *s)
{
    if (!s)
        return;
    const char *run = s;
    for (; *s; s++) {
        const char *e = entity(*s);
        if (!e)
            continue;
        fwrite(run, 1, (size_t)(s - run), out);
        fputs(e, out);
        run = s + 1;
    }
    fwrite(run, 1, (size_t)(s - run), out);
}

char *sgs_html_escape(const char *s, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    size_t k = 0;
    for (; s && *s; s++) {
        const char *e = entity(*s);
        size_t len = e ? strlen(e) : 1;
        if (k + len >= size)
            break;
        if (e)
            memcpy(buf + k, e, len);
        else
            buf[k] = *s;
        k += len;
    }
    buf[k] = '\0';
    return buf;
}

void sgs_html_textf(FILE *out, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sgs_html_text(out, buf);
}

const char *sgs_html_number(double v, int decimals, char *buf, size_t size)
{
    if (decimals < 0)
        decimals = 0;
    if (decimals > 9)
        decimals = 9;
    if (isnan(v))
        snprintf(buf, size, "NaN");
    else if (isinf(v))
        snprintf(buf, size, "%s", v < 0 ? "-Inf" : "Inf");
    else {
        snprintf(buf, size, "%.*f", decimals, v);
        /* "-0", "-0.00": a negative number that rounds to zero is zero */
        if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
            memmove(buf, buf + 1, strlen(buf));
    }
    return buf;
}

const char *sgs_html_grouped(double v, int decimals, char *buf, size_t size)
{
    char plain[64];
    sgs_html_number(v, decimals, plain, sizeof plain);
    const char *digits = plain[0] == '-' ? plain + 1 : plain;
    size_t int_len = strcspn(digits, ".");
    if (!isfinite(v) || int_len <= 3) {
        snprintf(buf, size, "%s", plain);
        return buf;
    }
    char tmp[96];
    size_t k = 0;
    if (plain[0] == '-')
        tmp[k++] = '-';
    for (size_t i = 0; i < int_len; i++) {
        tmp[k++] = digits[i];
        if ((int_len - i - 1) % 3 == 0 && i + 1 < int_len)
            tmp[k++] = ',';
    }
    snprintf(tmp + k, sizeof tmp - k, "%s", digits + int_len);
    snprintf(buf, size, "%s", tmp);
    return buf;
}

void sgs_html_begin(FILE *out, const char *title, const char *css)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          out);
    sgs_html_text(out, title);
    fputs("</title>\n<style>\n", out);
    fputs(css ? css : "", out);
    fputs("</style>\n</head>\n<body>\n", out);
}

void sgs_html_end(FILE *out)
{
    fputs("</body>\n</html>\n", out);
}
