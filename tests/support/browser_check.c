/*
 * tests/support/browser_check.c — headless Chromium as a test instrument, and a small reader of
 * the charts in the DOM it dumps. The contract is in browser_check.h; how Chromium is run and
 * why, in docs/testing.md ("The browser check").
 *
 * Sections: a growable string; the Chromium run; console messages, the net log and the HTML's
 * own references; the PNG; tags and attributes; charts.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/browser_check.h"
#include "tests/support/test_support.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ---- a growable string ------------------------------------------------------------------ */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf_t;

static void buf_add(buf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        assert_non_null(p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_line(buf_t *b, const char *prefix, const char *s, size_t n)
{
    buf_add(b, prefix, strlen(prefix));
    buf_add(b, s, n);
    buf_add(b, "\n", 1);
}

/* The buffer's string, "" when nothing was added (owned by the caller). */
static char *buf_take(buf_t *b)
{
    if (!b->p)
        buf_add(b, "", 0);
    return b->p;
}

static void set_why(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t size, const char *fmt, ...)
{
    if (!why || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

/* ---- finding and running Chromium --------------------------------------------------------- */

int sgs_test_browser_find(char *path, size_t size)
{
    const char *env = getenv("SGS_CHROMIUM");
    if (env && *env) { /* named: found, so that a wrong name fails instead of skipping */
        snprintf(path, size, "%s", env);
        return 1;
    }
    static const char *const names[] = {"chromium-headless-shell", "chromium", "chromium-browser"};
    const char *dirs = getenv("PATH");
    char list[4096];
    snprintf(list, sizeof list, "%s:/usr/bin", dirs ? dirs : "");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *save = NULL, copy[4096];
        snprintf(copy, sizeof copy, "%s", list);
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
            snprintf(path, size, "%s/%s", dir, names[i]);
            if (access(path, X_OK) == 0)
                return 1;
        }
    }
    return 0;
}

/* `path` as a file:// URL: every byte but unreserved ones and '/' percent-encoded. */
static void file_url(const char *path, char *out, size_t size)
{
    size_t k = (size_t)snprintf(out, size, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p && k + 4 < size; p++) {
        if (isalnum(*p) || strchr("/-._~", *p))
            out[k++] = (char)*p;
        else
            k += (size_t)snprintf(out + k, size - k, "%%%02X", *p);
    }
    out[k] = '\0';
}

/* Lines of Chromium's log that are console messages: with --enable-logging=stderr --v=0 it
 * writes each one as `[pid:tid:time:INFO:CONSOLE:LINE] "message", source: URL (LINE)` (older
 * versions: `INFO:CONSOLE(LINE)`), at INFO whatever the console level, so that console.log and
 * console.error cannot be told apart; an uncaught exception is "Uncaught Error: ...". */
static size_t console_messages(const char *log, buf_t *out)
{
    size_t n = 0;
    for (const char *line = log; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *close = memchr(line, ']', len);
        if (line[0] == '[' && close) {
            char header[256];
            snprintf(header, sizeof header, "%.*s", (int)(close - line), line);
            if (strstr(header, ":CONSOLE:") || strstr(header, ":CONSOLE(")) {
                const char *msg = close + 1 + (close[1] == ' ');
                buf_line(out, "", msg, len - (size_t)(msg - line));
                n++;
            }
        }
        line += len + (eol != NULL);
    }
    return n;
}

/* URLs Chromium tried to fetch, from its net log (--log-net-log: JSON whose request events
 * carry "url":"..."): every one whose scheme is not local to the browser. */
static size_t requested_urls(const char *netlog, buf_t *out)
{
    static const char *const local[] = {
        "file:",          "data:",    "about:", "blob:", "chrome:", "chrome-extension:",
        "chrome-search:", "devtools:"};
    size_t n = 0;
    for (const char *p = strstr(netlog, "\"url\":\""); p; p = strstr(p, "\"url\":\"")) {
        p += 7;
        const char *q = p;
        while (*q && !(*q == '"' && q[-1] != '\\'))
            q++;
        int is_local = 0;
        for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
            is_local |= strncmp(p, local[i], strlen(local[i])) == 0;
        char line[1200];
        snprintf(line, sizeof line, "requested: %.*s\n", (int)(q - p), p);
        if (!is_local && !(out->p && strstr(out->p, line))) {
            buf_add(out, line, strlen(line));
            n++;
        }
        p = q;
    }
    return n;
}

/* Run argv (argv[0] a path) in its own process group with `work` as its folder and HOME,
 * standard output to out_path, standard error to err_path, standard input from /dev/null.
 * Returns its exit status; -1 when a signal ended it or it could not be started (127); -2
 * when it ran past SGS_TEST_BROWSER_TIMEOUT_S and was killed. Whatever of its process group
 * remains when it ends (Chromium's helpers) is killed too. */
static int run_browser(char *const argv[], const char *work, const char *out_path,
                       const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
            dup2(err, 2) < 0 || chdir(work) != 0)
            _exit(127);
        char config[600], cache[600];
        snprintf(config, sizeof config, "%s/config", work);
        snprintf(cache, sizeof cache, "%s/cache", work);
        setenv("HOME", work, 1);
        setenv("XDG_CONFIG_HOME", config, 1);
        setenv("XDG_CACHE_HOME", cache, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: whichever of parent and child runs first */
    int status = 0;
    const struct timespec tick = {0, 50 * 1000 * 1000};
    for (long waited_ms = 0;; waited_ms += 50) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            break;
        if (waited_ms >= 1000L * SGS_TEST_BROWSER_TIMEOUT_S) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -2;
        }
        nanosleep(&tick, NULL);
    }
    kill(-pid, SIGKILL); /* helpers left in its group, if any */
    if (WIFEXITED(status) && WEXITSTATUS(status) != 127)
        return WEXITSTATUS(status);
    return -1;
}

int sgs_test_browser_open(const char *html_path, sgs_test_browser_t *b, char *why, size_t why_size)
{
    memset(b, 0, sizeof *b);
    b->exit_status = -1;
    if (!sgs_test_browser_find(b->program, sizeof b->program)) {
        set_why(why, why_size,
                "no Chromium found (chromium-headless-shell, chromium or chromium-browser on "
                "$PATH or in /usr/bin, or $SGS_CHROMIUM): scripts/install-deps installs "
                "Debian's chromium-headless-shell");
        return 77;
    }
    char abs[PATH_MAX], url[3 * PATH_MAX + 16];
    if (!realpath(html_path, abs)) {
        set_why(why, why_size, "%s: no such file", html_path);
        return -1;
    }
    file_url(abs, url, sizeof url);
    sgs_test_tmpdir("browser", b->work_dir, sizeof b->work_dir);
    snprintf(b->screenshot, sizeof b->screenshot, "%s/screenshot.png", b->work_dir);

    /* Why each flag: docs/testing.md, "The browser check". */
    char profile[600], netlog_flag[600], shot_flag[600], dom_path[600], log_path[600];
    snprintf(profile, sizeof profile, "--user-data-dir=%s/profile", b->work_dir);
    snprintf(netlog_flag, sizeof netlog_flag, "--log-net-log=%s/netlog.json", b->work_dir);
    snprintf(shot_flag, sizeof shot_flag, "--screenshot=%s", b->screenshot);
    snprintf(dom_path, sizeof dom_path, "%s/dom.html", b->work_dir);
    snprintf(log_path, sizeof log_path, "%s/chromium.log", b->work_dir);
    char *argv[64];
    size_t argc = 0;
    argv[argc++] = b->program;
    argv[argc++] = "--headless";
    if (geteuid() == 0)
        argv[argc++] = "--no-sandbox";
    static char *const fixed[] = {"--disable-gpu",
                                  "--disable-dev-shm-usage",
                                  "--disable-background-networking",
                                  "--disable-component-update",
                                  "--disable-sync",
                                  "--disable-default-apps",
                                  "--disable-extensions",
                                  "--no-first-run",
                                  "--no-default-browser-check",
                                  "--mute-audio",
                                  "--hide-scrollbars",
                                  "--proxy-server=127.0.0.1:9",
                                  "--proxy-bypass-list=<-loopback>",
                                  "--host-resolver-rules=MAP * ~NOTFOUND",
                                  "--enable-logging=stderr",
                                  "--v=0",
                                  "--window-size=1200,2000"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[argc++] = fixed[i];
    argv[argc++] = profile;
    argv[argc++] = netlog_flag;
    argv[argc++] = shot_flag;
    char extra[1024], *save = NULL;
    snprintf(extra, sizeof extra, "%s",
             getenv("SGS_CHROMIUM_FLAGS") ? getenv("SGS_CHROMIUM_FLAGS") : "");
    for (char *f = strtok_r(extra, " \t", &save); f && argc + 3 < 64;
         f = strtok_r(NULL, " \t", &save))
        argv[argc++] = f;
    argv[argc++] = "--dump-dom";
    argv[argc++] = url;
    argv[argc] = NULL;
    b->exit_status = run_browser(argv, b->work_dir, dom_path, log_path);

    char path[600];
    b->log = sgs_test_read_file(log_path, NULL);
    b->dom = sgs_test_read_file(dom_path, NULL);
    buf_t console = {0}, network = {0};
    b->n_console = b->log ? console_messages(b->log, &console) : 0;
    b->console = buf_take(&console);
    if (!b->log)
        b->log = buf_take(&(buf_t){0});
    if (!b->dom)
        b->dom = buf_take(&(buf_t){0});

    snprintf(path, sizeof path, "%s/netlog.json", b->work_dir);
    char *netlog = sgs_test_read_file(path, NULL);
    b->n_network = netlog ? requested_urls(netlog, &network) : 0;
    char *html = sgs_test_read_file(abs, NULL);
    if (html) {
        char refs[8192];
        b->n_network += sgs_test_html_external_refs(html, refs, sizeof refs);
        buf_add(&network, refs, strlen(refs));
    }
    b->network = buf_take(&network);
    free(html);

    int status = 0;
    char png_why[256];
    if (b->exit_status == -2) {
        set_why(why, why_size, "%s did not finish within %d s (killed)", b->program,
                SGS_TEST_BROWSER_TIMEOUT_S);
        status = -1;
    } else if (b->exit_status == -1) {
        set_why(why, why_size, "%s was killed by a signal, or could not be started", b->program);
        status = -1;
    } else if (b->exit_status != 0) {
        set_why(why, why_size, "%s exited with status %d", b->program, b->exit_status);
        status = -1;
    } else if (!b->dom[0]) {
        set_why(why, why_size, "%s wrote no DOM (--dump-dom)", b->program);
        status = -1;
    } else if (!netlog) {
        set_why(why, why_size,
                "%s wrote no net log (--log-net-log): cannot tell whether "
                "the page used the network",
                b->program);
        status = -1;
    } else if (sgs_test_png_stats(b->screenshot, &b->shot, png_why, sizeof png_why) != 0) {
        set_why(why, why_size, "screenshot %s: %s", b->screenshot, png_why);
        status = -1;
    } else {
        b->blank = b->shot.n_colours < 2 || b->shot.n_non_background < SGS_TEST_BROWSER_MIN_INK;
    }
    free(netlog);
    return status;
}

void sgs_test_browser_free(sgs_test_browser_t *b)
{
    free(b->dom);
    free(b->log);
    free(b->console);
    free(b->network);
    if (b->work_dir[0])
        sgs_test_rmdir(b->work_dir);
    memset(b, 0, sizeof *b);
}

void sgs_test_browser_check(const char *html_path, sgs_test_browser_t *b)
{
    char why[1024];
    int status = sgs_test_browser_open(html_path, b, why, sizeof why);
    if (status == 77) {
        printf("skipped: %s\n", why);
        sgs_test_browser_free(b);
        exit(77);
    }
    if (status != 0)
        fail_msg("browser check of %s: %s\nChromium's log:\n%s", html_path, why, b->log);
    if (b->n_console)
        print_error("%s: %zu console message(s) (the page must write none):\n%s", html_path,
                    b->n_console, b->console);
    if (b->n_network)
        print_error("%s: %zu network reference(s) (the page must need no network):\n%s", html_path,
                    b->n_network, b->network);
    if (b->blank)
        print_error("%s: blank screenshot %s: %zu colour(s), %zu pixel(s) differ from the "
                    "background 0x%08x (at least 2 and %d wanted)\n",
                    html_path, b->screenshot, b->shot.n_colours, b->shot.n_non_background,
                    b->shot.background, SGS_TEST_BROWSER_MIN_INK);
    if (b->n_console || b->n_network || b->blank)
        fail_msg("browser check of %s failed", html_path);
}

/* ---- the HTML's own references ------------------------------------------------------------ */

typedef struct tag {
    const char *start; /* '<' */
    const char *attrs; /* just after the name */
    const char *end;   /* the closing '>' (or the terminating NUL) */
    char name[32];     /* lower case */
    int closing;       /* </name> */
} tag_t;

/* The next tag at or after p, NULL when none. Comments, <!...> and <?...> are skipped, and so
 * is the raw text of script and style elements when `after` is their start tag. */
static const char *next_tag(const char *p, const tag_t *after, tag_t *t)
{
    if (after && !after->closing &&
        (strcmp(after->name, "script") == 0 || strcmp(after->name, "style") == 0)) {
        char close[40];
        size_t n = (size_t)snprintf(close, sizeof close, "</%s", after->name);
        while (*p && strncasecmp(p, close, n) != 0)
            p++;
    }
    for (;; p++) {
        p = strchr(p, '<');
        if (!p)
            return NULL;
        if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p + 4, "-->");
            if (!e)
                return NULL;
            p = e + 2;
            continue;
        }
        if (p[1] == '!' || p[1] == '?') {
            const char *e = strchr(p, '>');
            if (!e)
                return NULL;
            p = e;
            continue;
        }
        int closing = p[1] == '/';
        const char *q = p + 1 + closing;
        if (!isalpha((unsigned char)*q))
            continue;
        size_t k = 0;
        t->start = p;
        t->closing = closing;
        while (isalnum((unsigned char)*q) || *q == '-' || *q == ':' || *q == '_') {
            if (k + 1 < sizeof t->name)
                t->name[k++] = (char)tolower((unsigned char)*q);
            q++;
        }
        t->name[k] = '\0';
        t->attrs = q;
        char quote = 0, last = 0;
        for (; *q; q++) {
            if (quote) {
                if (*q == quote)
                    quote = 0;
            } else if ((*q == '"' || *q == '\'') && last == '=') {
                quote = *q;
            } else if (*q == '>') {
                break;
            }
            if (!isspace((unsigned char)*q))
                last = *q;
        }
        t->end = q;
        return q;
    }
}

/* Decode the character references a serializer writes (&amp; &lt; &gt; &quot; &#39; &apos;
 * &nbsp; &#N; &#xH;) of s[0..n) into out (NUL-terminated, truncated to size). */
static void decode_entities(const char *s, size_t n, char *out, size_t size)
{
    static const struct {
        const char *name, *text;
    } named[] = {{"&amp;", "&"}, {"&lt;", "<"},   {"&gt;", ">"},         {"&quot;", "\""},
                 {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", "\xc2\xa0"}};
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < size;) {
        if (s[i] == '&') {
            size_t j, m = sizeof named / sizeof named[0];
            for (j = 0; j < m; j++) {
                size_t len = strlen(named[j].name);
                if (i + len <= n && strncmp(s + i, named[j].name, len) == 0) {
                    k += (size_t)snprintf(out + k, size - k, "%s", named[j].text);
                    i += len;
                    break;
                }
            }
            if (j < m)
                continue;
            if (i + 2 < n && s[i + 1] == '#') {
                char *e;
                int hex = s[i + 2] == 'x' || s[i + 2] == 'X';
                unsigned long c = strtoul(s + i + 2 + hex, &e, hex ? 16 : 10);
                if (e > s + i + 2 + hex && (size_t)(e - s) < n && *e == ';' && c < 0x110000) {
                    if (c < 0x80) {
                        out[k++] = (char)c;
                    } else if (c < 0x800) {
                        out[k++] = (char)(0xc0 | (c >> 6));
                        out[k++] = (char)(0x80 | (c & 0x3f));
                    } else if (c < 0x10000) {
                        out[k++] = (char)(0xe0 | (c >> 12));
                        out[k++] = (char)(0x80 | ((c >> 6) & 0x3f));
                        out[k++] = (char)(0x80 | (c & 0x3f));
                    } else {
                        out[k++] = (char)(0xf0 | (c >> 18));
                        out[k++] = (char)(0x80 | ((c >> 12) & 0x3f));
                        out[k++] = (char)(0x80 | ((c >> 6) & 0x3f));
                        out[k++] = (char)(0x80 | (c & 0x3f));
                    }
                    i = (size_t)(e - s) + 1;
                    continue;
                }
            }
        }
        out[k++] = s[i++];
    }
    out[k] = '\0';
}

/* The next attribute of a tag from *p: its name (lower case) and raw value; 0 at the end. */
static int next_attr(const char **p, const tag_t *t, char *name, size_t name_size,
                     const char **value, size_t *value_len)
{
    const char *q = *p;
    while (q < t->end && (isspace((unsigned char)*q) || *q == '/'))
        q++;
    if (q >= t->end)
        return 0;
    size_t k = 0;
    while (q < t->end && !isspace((unsigned char)*q) && *q != '=' && *q != '/') {
        if (k + 1 < name_size)
            name[k++] = (char)tolower((unsigned char)*q);
        q++;
    }
    name[k] = '\0';
    while (q < t->end && isspace((unsigned char)*q))
        q++;
    *value = q;
    *value_len = 0;
    if (q < t->end && *q == '=') {
        q++;
        while (q < t->end && isspace((unsigned char)*q))
            q++;
        if (q < t->end && (*q == '"' || *q == '\'')) {
            char quote = *q++;
            *value = q;
            while (q < t->end && *q != quote)
                q++;
            *value_len = (size_t)(q - *value);
            q += q < t->end;
        } else {
            *value = q;
            while (q < t->end && !isspace((unsigned char)*q))
                q++;
            *value_len = (size_t)(q - *value);
        }
    }
    *p = q;
    return 1;
}

/* The value of attribute `want` of tag t, decoded, into out: 1 when present, else 0. */
static int tag_attr(const tag_t *t, const char *want, char *out, size_t size)
{
    const char *p = t->attrs, *value;
    size_t len;
    char name[64];
    while (next_attr(&p, t, name, sizeof name, &value, &len))
        if (strcmp(name, want) == 0) {
            decode_entities(value, len, out, size);
            return 1;
        }
    return 0;
}

/* 1 when the class attribute of t holds the token `token`. */
static int has_class(const tag_t *t, const char *token)
{
    char cls[512];
    if (!tag_attr(t, "class", cls, sizeof cls))
        return 0;
    size_t n = strlen(token);
    for (const char *p = cls; *p;) {
        while (isspace((unsigned char)*p))
            p++;
        const char *e = p;
        while (*e && !isspace((unsigned char)*e))
            e++;
        if ((size_t)(e - p) == n && strncmp(p, token, n) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* A resource reference that leaves the file: not empty, not data:, not a #fragment. */
static int is_external(const char *v)
{
    while (isspace((unsigned char)*v) || *v == '\'' || *v == '"')
        v++;
    return *v && *v != '#' && strncasecmp(v, "data:", 5) != 0;
}

size_t sgs_test_html_external_refs(const char *html, char *out, size_t out_size)
{
    static const char *const loading[] = {"src",        "srcset",     "poster",   "action",
                                          "formaction", "background", "manifest", "data"};
    buf_t refs = {0};
    size_t n = 0;
    tag_t t, prev;
    const tag_t *after = NULL;
    for (const char *p = html; (p = next_tag(p, after, &t)) != NULL; prev = t, after = &prev) {
        if (t.closing)
            continue;
        const char *a = t.attrs, *value;
        size_t len;
        char name[64], decoded[1024];
        while (next_attr(&a, &t, name, sizeof name, &value, &len)) {
            int loads = (strcmp(name, "href") == 0 || strcmp(name, "xlink:href") == 0) &&
                        strcmp(t.name, "a") != 0;
            for (size_t i = 0; i < sizeof loading / sizeof loading[0]; i++)
                loads |= strcmp(name, loading[i]) == 0;
            decode_entities(value, len, decoded, sizeof decoded);
            if (loads && is_external(decoded)) {
                char line[1200];
                snprintf(line, sizeof line, "<%s %s=\"%s\">", t.name, name, decoded);
                buf_line(&refs, "in the HTML: ", line, strlen(line));
                n++;
            }
        }
    }
    /* CSS, in style elements and attributes: url(...) that leaves the file, and @import. */
    for (const char *p = html; (p = strstr(p, "url(")) != NULL; p += 4) {
        const char *e = strchr(p, ')');
        size_t len = e ? (size_t)(e - p - 4) : strlen(p + 4);
        char decoded[1024];
        decode_entities(p + 4, len, decoded, sizeof decoded);
        if (is_external(decoded)) {
            char line[1200];
            snprintf(line, sizeof line, "url(%s)", decoded);
            buf_line(&refs, "in the HTML: ", line, strlen(line));
            n++;
        }
    }
    for (const char *p = html; (p = strstr(p, "@import")) != NULL; p += 7) {
        buf_line(&refs, "in the HTML: ", p, strcspn(p, ";\n"));
        n++;
    }
    snprintf(out, out_size, "%s", refs.p ? refs.p : "");
    free(refs.p);
    return n;
}

/* ---- the PNG ------------------------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

int sgs_test_png_stats(const char *path, sgs_test_png_stats_t *s, char *why, size_t why_size)
{
    memset(s, 0, sizeof *s);
    size_t size = 0;
    unsigned char *file = (unsigned char *)sgs_test_read_file(path, &size);
    unsigned char *idat = NULL, *raw = NULL, palette[256 * 4];
    uint64_t *table = NULL;
    int status = -1;
    if (!file) {
        set_why(why, why_size, "cannot read it");
        goto cleanup;
    }
    if (size < 8 || memcmp(file, "\x89PNG\r\n\x1a\n", 8) != 0) {
        set_why(why, why_size, "not a PNG");
        goto cleanup;
    }
    memset(palette, 0xff, sizeof palette);
    uint32_t width = 0, height = 0;
    int depth = 0, colour = -1, interlace = 0;
    size_t n_idat = 0;
    for (size_t at = 8; at + 12 <= size;) {
        uint32_t len = be32(file + at);
        const unsigned char *type = file + at + 4, *data = file + at + 8;
        if (len > size - at - 12) {
            set_why(why, why_size, "chunk at byte %zu runs past the end", at);
            goto cleanup;
        }
        if (memcmp(type, "IHDR", 4) == 0 && len >= 13) {
            width = be32(data);
            height = be32(data + 4);
            depth = data[8];
            colour = data[9];
            interlace = data[12];
        } else if (memcmp(type, "PLTE", 4) == 0) {
            for (uint32_t i = 0; i < len / 3 && i < 256; i++)
                memcpy(palette + 4 * i, data + 3 * i, 3);
        } else if (memcmp(type, "tRNS", 4) == 0 && colour == 3) {
            for (uint32_t i = 0; i < len && i < 256; i++)
                palette[4 * i + 3] = data[i];
        } else if (memcmp(type, "IDAT", 4) == 0) {
            unsigned char *grown = realloc(idat, n_idat + len + 1);
            assert_non_null(grown);
            idat = grown;
            memcpy(idat + n_idat, data, len);
            n_idat += len;
        } else if (memcmp(type, "IEND", 4) == 0) {
            break;
        }
        at += 12 + (size_t)len;
    }
    int channels = colour == 0 ? 1 : colour == 2 ? 3 : colour == 3 ? 1 : colour == 4 ? 2 : 4;
    if (depth != 8 || colour < 0 || colour == 1 || colour == 5 || colour > 6 || interlace) {
        set_why(why, why_size, "unsupported PNG (bit depth %d, colour type %d, interlace %d)",
                depth, colour, interlace);
        goto cleanup;
    }
    if (width == 0 || height == 0 || width > 16384 || height > 16384) {
        set_why(why, why_size, "unexpected size %ux%u", width, height);
        goto cleanup;
    }
    size_t stride = (size_t)width * (size_t)channels;
    uLongf raw_size = (uLongf)((stride + 1) * height);
    raw = malloc(raw_size);
    assert_non_null(raw);
    uLongf got = raw_size;
    if (uncompress(raw, &got, idat, (uLong)n_idat) != Z_OK || got != raw_size) {
        set_why(why, why_size, "image data does not inflate to %lu bytes", (unsigned long)raw_size);
        goto cleanup;
    }
    /* Undo the per-row filters (PNG spec, section 9) in place. */
    for (uint32_t y = 0; y < height; y++) {
        unsigned char *row = raw + (size_t)y * (stride + 1), *cur = row + 1;
        const unsigned char *up = y ? row - stride : NULL;
        int filter = row[0];
        if (filter > 4) {
            set_why(why, why_size, "row %u: unknown filter %d", y, filter);
            goto cleanup;
        }
        for (size_t x = 0; x < stride; x++) {
            int a = x >= (size_t)channels ? cur[x - channels] : 0, b = up ? up[x] : 0;
            int c = up && x >= (size_t)channels ? up[x - channels] : 0;
            int add = filter == 1   ? a
                      : filter == 2 ? b
                      : filter == 3 ? (a + b) / 2
                      : filter == 4 ? paeth(a, b, c)
                                    : 0;
            cur[x] = (unsigned char)(cur[x] + add);
        }
    }
    /* Distinct colours in an open-addressing table (key + 1; 0 is empty). */
    size_t slots = 2 * SGS_TEST_PNG_MAX_COLOURS;
    table = calloc(slots, sizeof *table);
    assert_non_null(table);
    s->width = width;
    s->height = height;
    for (uint32_t y = 0; y < height; y++) {
        const unsigned char *px = raw + (size_t)y * (stride + 1) + 1;
        for (uint32_t x = 0; x < width; x++, px += channels) {
            unsigned char r, g, bl, al;
            if (colour == 3) {
                const unsigned char *e = palette + 4 * px[0];
                r = e[0], g = e[1], bl = e[2], al = e[3];
            } else if (channels <= 2) {
                r = g = bl = px[0];
                al = channels == 2 ? px[1] : 255;
            } else {
                r = px[0], g = px[1], bl = px[2];
                al = channels == 4 ? px[3] : 255;
            }
            uint32_t rgba = (uint32_t)r << 24 | (uint32_t)g << 16 | (uint32_t)bl << 8 | al;
            if (x == 0 && y == 0)
                s->background = rgba;
            s->n_non_background += rgba != s->background;
            if (s->n_colours < SGS_TEST_PNG_MAX_COLOURS) {
                size_t h = (size_t)((rgba * 2654435761u) % slots);
                while (table[h] && table[h] != (uint64_t)rgba + 1)
                    h = (h + 1) % slots;
                if (!table[h]) {
                    table[h] = (uint64_t)rgba + 1;
                    s->n_colours++;
                }
            }
        }
    }
    status = 0;
cleanup:
    free(table);
    free(raw);
    free(idat);
    free(file);
    return status;
}

/* ---- charts ------------------------------------------------------------------------------- */

/* The inside of chart NAME (between its <figure ...> and the matching </figure>): 1 and the
 * range, or 0 when there is no such chart. */
static int chart_range(const char *dom, const char *name, const char **from, const char **to)
{
    char id[256];
    snprintf(id, sizeof id, "chart-%s", name);
    tag_t t, prev;
    const tag_t *after = NULL;
    for (const char *p = dom; (p = next_tag(p, after, &t)) != NULL; prev = t, after = &prev) {
        char value[256];
        if (t.closing || strcmp(t.name, "figure") != 0 || !has_class(&t, "chart") ||
            !tag_attr(&t, "id", value, sizeof value) || strcmp(value, id) != 0)
            continue;
        *from = *t.end ? t.end + 1 : t.end;
        int depth = 1;
        const tag_t *inner_after = NULL;
        tag_t u, inner_prev;
        for (const char *q = *from; (q = next_tag(q, inner_after, &u)) != NULL;
             inner_prev = u, inner_after = &inner_prev) {
            if (strcmp(u.name, "figure") == 0)
                depth += u.closing ? -1 : 1;
            if (depth == 0) {
                *to = u.start;
                return 1;
            }
        }
        *to = *from + strlen(*from); /* unclosed: to the end */
        return 1;
    }
    return 0;
}

size_t sgs_test_dom_chart_count(const char *dom)
{
    size_t n = 0;
    tag_t t, prev;
    const tag_t *after = NULL;
    for (const char *p = dom; (p = next_tag(p, after, &t)) != NULL; prev = t, after = &prev)
        n += !t.closing && strcmp(t.name, "figure") == 0 && has_class(&t, "chart");
    return n;
}

/* Walk chart NAME's tags; for each mark, fill *m (when m) and count. The counts of svg with
 * role="img", figcaption, chart-data tables, and marks outside an svg go to `parts`. */
typedef struct chart_parts {
    size_t svg, svg_img, figcaption, table, marks, marks_outside_svg;
} chart_parts_t;

static size_t walk_chart(const char *from, const char *to, sgs_test_mark_t *marks, size_t max,
                         chart_parts_t *parts)
{
    memset(parts, 0, sizeof *parts);
    int svg_depth = 0;
    tag_t t, prev;
    const tag_t *after = NULL;
    for (const char *p = from; (p = next_tag(p, after, &t)) != NULL && t.start < to;
         prev = t, after = &prev) {
        if (strcmp(t.name, "svg") == 0) {
            svg_depth += t.closing ? -1 : 1;
            if (!t.closing) {
                char role[64];
                parts->svg++;
                parts->svg_img +=
                    tag_attr(&t, "role", role, sizeof role) && strcmp(role, "img") == 0;
            }
        }
        if (t.closing)
            continue;
        parts->figcaption += strcmp(t.name, "figcaption") == 0;
        parts->table += strcmp(t.name, "table") == 0 && has_class(&t, "chart-data");
        if (!has_class(&t, "mark"))
            continue;
        parts->marks_outside_svg += svg_depth <= 0;
        if (parts->marks < max) {
            sgs_test_mark_t *m = &marks[parts->marks];
            snprintf(m->tag, sizeof m->tag, "%s", t.name);
            if (!tag_attr(&t, "data-label", m->label, sizeof m->label))
                m->label[0] = '\0';
            m->number = NAN;
            if (tag_attr(&t, "data-value", m->value, sizeof m->value)) {
                char *e;
                double v = strtod(m->value, &e);
                if (e != m->value && *e == '\0')
                    m->number = v;
            } else {
                m->value[0] = '\0';
            }
        }
        parts->marks++;
    }
    return parts->marks;
}

size_t sgs_test_dom_chart_marks(const char *dom, const char *name, sgs_test_mark_t *marks,
                                size_t max)
{
    const char *from, *to;
    chart_parts_t parts;
    if (!chart_range(dom, name, &from, &to))
        return (size_t)-1;
    return walk_chart(from, to, marks, max, &parts);
}

/* Every mark of chart NAME, malloc'd (caller frees); *n their count; NULL when no chart. */
static sgs_test_mark_t *all_marks(const char *dom, const char *name, size_t *n)
{
    *n = sgs_test_dom_chart_marks(dom, name, NULL, 0);
    if (*n == (size_t)-1)
        return NULL;
    sgs_test_mark_t *marks = calloc(*n + 1, sizeof *marks);
    assert_non_null(marks);
    sgs_test_dom_chart_marks(dom, name, marks, *n);
    return marks;
}

int sgs_test_dom_mark_value(const char *dom, const char *name, const char *label, double *value)
{
    size_t n, found = 0;
    sgs_test_mark_t *marks = all_marks(dom, name, &n);
    if (!marks)
        return -1;
    int status = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(marks[i].label, label) == 0) {
            found++;
            *value = marks[i].number;
            status = isnan(marks[i].number) || found > 1 ? -2 : 1;
        }
    free(marks);
    return status;
}

int sgs_test_dom_chart_contract(const char *dom, const char *name, char *why, size_t why_size)
{
    const char *from, *to;
    if (!chart_range(dom, name, &from, &to)) {
        set_why(why, why_size, "no <figure class=\"chart\" id=\"chart-%s\">", name);
        return 1;
    }
    chart_parts_t parts;
    size_t n = walk_chart(from, to, NULL, 0, &parts);
    if (parts.svg != 1 || parts.svg_img != 1) {
        set_why(why, why_size, "chart-%s: %zu svg, %zu with role=\"img\" (one wanted)", name,
                parts.svg, parts.svg_img);
        return 1;
    }
    if (parts.figcaption != 1 || parts.table != 1) {
        set_why(why, why_size,
                "chart-%s: %zu figcaption, %zu table class=\"chart-data\" (one each wanted)", name,
                parts.figcaption, parts.table);
        return 1;
    }
    if (n == 0 || parts.marks_outside_svg) {
        set_why(why, why_size, "chart-%s: %zu marks, %zu outside the svg", name, n,
                parts.marks_outside_svg);
        return 1;
    }
    size_t count;
    sgs_test_mark_t *marks = all_marks(dom, name, &count);
    int status = 0;
    for (size_t i = 0; i < count && !status; i++)
        if (!marks[i].label[0] || isnan(marks[i].number)) {
            set_why(why, why_size,
                    "chart-%s: mark %zu (<%s>) has data-label \"%s\" and data-value \"%s\" "
                    "(a label and a number wanted)",
                    name, i, marks[i].tag, marks[i].label, marks[i].value);
            status = 1;
        }
    free(marks);
    return status;
}

void sgs__assert_chart_contract(const char *dom, const char *name, const char *file, int line)
{
    char why[512];
    if (sgs_test_dom_chart_contract(dom, name, why, sizeof why) != 0)
        fail_msg("%s:%d: chart %s breaks the chart contract: %s", file, line, name, why);
}

void sgs__assert_chart_marks(const char *dom, const char *name, size_t n, const char *file,
                             int line)
{
    size_t got = sgs_test_dom_chart_marks(dom, name, NULL, 0);
    if (got == (size_t)-1)
        fail_msg("%s:%d: no chart %s (of %zu charts)", file, line, name,
                 sgs_test_dom_chart_count(dom));
    if (got != n)
        fail_msg("%s:%d: chart %s: expected %zu marks, got %zu", file, line, name, n, got);
}

void sgs__assert_chart_mark_value(const char *dom, const char *name, const char *label,
                                  double value, const char *file, int line)
{
    double got = NAN;
    int status = sgs_test_dom_mark_value(dom, name, label, &got);
    if (status == -1)
        fail_msg("%s:%d: no chart %s", file, line, name);
    if (status == 0)
        fail_msg("%s:%d: chart %s: no mark labelled \"%s\"", file, line, name, label);
    if (status == -2)
        fail_msg("%s:%d: chart %s: several marks labelled \"%s\", or its value is no number", file,
                 line, name, label);
    if (!(fabs(got - value) <= 1e-9 * fmax(1.0, fabs(value))))
        fail_msg("%s:%d: chart %s, mark \"%s\": expected data-value %.17g, got %.17g", file, line,
                 name, label, value, got);
}
