/*
 * tests/e2e/test_docs.c — the manual says what the program does, where a test can check it:
 * the configuration table of docs/configuration.md is what `segscore config --defaults`
 * prints; every default quoted in a key table of another page is the program's default; the
 * README's exit-status table lists every status the program can exit with; every relative
 * link of the README and docs/ reaches a file and, with an anchor, a heading of that file;
 * the README stays an entry point (at most 250 lines).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/exit_status.h"
#include "kernels/core.h"
#include "tests/support/test_support.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_MAX (1 << 20)
#define BEGIN_MARK "<!-- segscore config --defaults: generated"
#define END_MARK "<!-- end of segscore config --defaults -->"

static char *read_source(const char *relative)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SGS_SOURCE_DIR, relative);
    char *text = sgs_test_read_file(path, NULL);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

/* `segscore config --defaults`, malloc'd. */
static char *program_table(void)
{
    char *out = malloc(OUTPUT_MAX);
    assert_non_null(out);
    sgs_assert_cmp(sgs_test_run("config --defaults", out, OUTPUT_MAX), ==, 0);
    return out;
}

static void test_configuration_table_is_the_program_s(void **state)
{
    (void)state;
    char *doc = read_source("docs/configuration.md"), *table = program_table();
    char *begin = strstr(doc, BEGIN_MARK), *end = strstr(doc, END_MARK);
    assert_non_null(begin);
    assert_non_null(end);
    begin = strchr(begin, '\n') + 1;
    size_t n = (size_t)(end - begin);
    if (n != strlen(table) || memcmp(begin, table, n) != 0)
        fail_msg("docs/configuration.md: the table between the markers is not what `segscore "
                 "config --defaults` prints now; paste its output there");
    free(doc);
    free(table);
}

/* The default the program documents for `key` (from its table), or NULL. */
static const char *program_default(const char *table, const char *key, char *out, size_t size)
{
    char row[256];
    snprintf(row, sizeof row, "\n| `%s` | ", key);
    const char *at = strstr(table, row);
    if (!at)
        return NULL;
    at = strchr(at + strlen(row), '|'); /* past the type */
    const char *open = strchr(at, '`'), *close = open ? strchr(open + 1, '`') : NULL;
    if (!close)
        return NULL;
    snprintf(out, size, "%.*s", (int)(close - open - 1), open + 1);
    if (strcmp(out, "\"\"") == 0)
        out[0] = '\0';
    return out;
}

/* Rows `| `key` | default | meaning |` of a table whose header has "default" in its second
 * column: the default must be the program's. Returns the number of rows checked. */
static int check_key_tables(const char *page, const char *text, const char *table)
{
    int checked = 0, in_key_table = 0;
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
        if (strncmp(line, "| key | default |", 17) == 0) {
            in_key_table = 1;
            continue;
        }
        if (line[0] != '|') {
            in_key_table = 0;
            continue;
        }
        if (!in_key_table || strncmp(line, "| `", 3) != 0)
            continue;
        char key[128], documented[128], want[128];
        if (sscanf(line, "| `%127[^`]` | %127[^|]|", key, documented) != 2)
            continue;
        for (size_t k = strlen(documented); k > 0 && documented[k - 1] == ' '; k--)
            documented[k - 1] = '\0';
        if (strchr(key, '<')) /* a pattern such as actions.capacity.<channel> */
            continue;
        if (!program_default(table, key, want, sizeof want))
            fail_msg("%s: `%s` is not a configuration key", page, key);
        char given[128];
        const char *d = documented[0] == '`' ? documented + 1 : documented;
        snprintf(given, sizeof given, "%s", d);
        size_t len = strlen(given);
        if (len && given[len - 1] == '`')
            given[len - 1] = '\0';
        if (strcmp(given, "\"\"") == 0)
            given[0] = '\0';
        if (strcmp(want, given) != 0)
            fail_msg("%s: `%s` documented with default %s, the program's is `%s`", page, key,
                     documented, want);
        checked++;
    }
    return checked;
}

static void test_documented_defaults_are_the_program_s(void **state)
{
    (void)state;
    char *table = program_table();
    int checked = 0;
    static const char *const pages[] = {"docs/stages.md", "docs/opportunities.md"};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        char *text = read_source(pages[i]);
        checked += check_key_tables(pages[i], text, table);
        free(text);
    }
    sgs_assert_cmp(checked, >=, 15); /* the stages and actions key tables were found */
    free(table);
}

static void test_readme_lists_every_exit_status(void **state)
{
    (void)state;
    char *readme = read_source("README.md");
    /* every code of the error table, so that a new code needs a row */
#define SGS__CODE(name, value, text) name,
    static const int codes[] = {SGS_ERROR_TABLE(SGS__CODE)};
#undef SGS__CODE
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char row[32], within[32];
        int status = sgs_exit_status(codes[i]);
        snprintf(row, sizeof row, "\n| %d | ", status);
        snprintf(within, sizeof within, " %d,", status); /* "| 129, 130, 143 |" */
        if (!strstr(readme, row) && !strstr(readme, within))
            fail_msg("README.md: the exit-status table has no row for %d (%s)", status,
                     sgs_strerror(codes[i]));
    }
    free(readme);
}

/* GitHub's anchor of a heading: lower case, letters, digits, '-' and '_' kept, spaces to '-'. */
static void anchor_of(const char *heading, size_t len, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < size; i++) {
        unsigned char c = (unsigned char)heading[i];
        if (isalnum(c) || c == '-' || c == '_')
            out[n++] = (char)tolower(c);
        else if (c == ' ')
            out[n++] = '-';
    }
    out[n] = '\0';
}

static int has_anchor(const char *text, const char *anchor)
{
    for (const char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (line[0] != '#')
            continue;
        const char *h = line;
        while (*h == '#')
            h++;
        while (*h == ' ')
            h++;
        const char *eol = strchr(h, '\n');
        char a[256];
        anchor_of(h, eol ? (size_t)(eol - h) : strlen(h), a, sizeof a);
        if (strcmp(a, anchor) == 0)
            return 1;
    }
    return 0;
}

/* Every relative link of `page` (a path from the source folder) reaches its target. */
static int check_links(const char *page)
{
    char *text = read_source(page), folder[256];
    snprintf(folder, sizeof folder, "%s", page);
    char *slash = strrchr(folder, '/');
    if (slash)
        slash[1] = '\0';
    else
        folder[0] = '\0';
    int checked = 0, in_code = 0;
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
        if (strncmp(line, "```", 3) == 0)
            in_code = !in_code;
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        for (const char *p = line; !in_code && (p = strstr(p, "](")) && p < eol; p += 2) {
            const char *target = p + 2, *end = strchr(target, ')');
            if (!end || end > eol || strncmp(target, "http", 4) == 0)
                continue;
            char link[512], file[1024], path[4096];
            snprintf(link, sizeof link, "%.*s", (int)(end - target), target);
            char *hash = strchr(link, '#');
            if (hash)
                *hash++ = '\0';
            if (link[0])
                snprintf(file, sizeof file, "%s%s", folder, link);
            else
                snprintf(file, sizeof file, "%s", page);
            snprintf(path, sizeof path, "%s/%s", SGS_SOURCE_DIR, file);
            char *target_text = sgs_test_read_file(path, NULL);
            if (!target_text)
                fail_msg("%s: link to %s: no such file", page, link);
            if (hash && !has_anchor(target_text, hash))
                fail_msg("%s: link to %s#%s: no such heading there", page, file, hash);
            free(target_text);
            checked++;
        }
    }
    free(text);
    return checked;
}

static void test_links_reach_their_targets(void **state)
{
    (void)state;
    int checked = check_links("README.md");
    sgs_assert_cmp(checked, >=, 20);
    char docs[1024];
    snprintf(docs, sizeof docs, "%s/docs", SGS_SOURCE_DIR);
    DIR *d = opendir(docs);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 3 && strcmp(e->d_name + n - 3, ".md") == 0) {
            char page[512];
            snprintf(page, sizeof page, "docs/%s", e->d_name);
            checked += check_links(page);
        }
    }
    closedir(d);
    sgs_assert_cmp(checked, >=, 60);
}

static void test_readme_is_an_entry_point(void **state)
{
    (void)state;
    char *readme = read_source("README.md");
    int lines = 0;
    for (const char *p = readme; *p; p++)
        lines += *p == '\n';
    sgs_assert_cmp(lines, <=, 250);
    sgs_assert_contains(readme, "\nscripts/quickstart ");
    sgs_assert_contains(readme, "\nscripts/test ");
    free(readme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configuration_table_is_the_program_s),
        cmocka_unit_test(test_documented_defaults_are_the_program_s),
        cmocka_unit_test(test_readme_lists_every_exit_status),
        cmocka_unit_test(test_links_reach_their_targets),
        cmocka_unit_test(test_readme_is_an_entry_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
