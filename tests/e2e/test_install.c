/*
 * tests/e2e/test_install.c — `cmake --install` into a temporary prefix, and what a user
 * finds there (docs/building.md "Install layout"):
 *   - bin/segscore runs and says its version;
 *   - the public headers are exactly kernels/ and io/ minus *_internal.h, each one compiles
 *     on its own with nothing but `pkg-config --cflags segscore` and strict warnings, and
 *     none names an internal (sgs__) symbol or includes an internal header;
 *   - segscore.pc gives the version, and a program written against the installed library
 *     (tests/data/install_consumer.c: a BG/NBD fit, its parameters through an HDF5 file)
 *     builds with `pkg-config --cflags --libs segscore` and prints, character for character,
 *     the numbers the same fit gives in this build tree;
 *   - a man page for segscore and for every command `segscore --help` lists, each naming
 *     every --option its command's --help names, and rendering without groff warnings.
 * The prefix is a fresh temporary folder, so the pkg-config file must be relocatable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/bgnbd.h"
#include "kernels/histories.h"
#include "tests/support/test_support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char prefix[512];
static char work[512];

/* snprintf that fails the test instead of truncating. */
static void fmt(char *out, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t size, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(out, size, format, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        fail_msg("a path or command line is longer than %zu bytes", size);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void assert_exists(const char *path)
{
    if (!exists(path))
        fail_msg("not installed: %s", path);
}

/* PKG_CONFIG_PATH pointing at the installed segscore.pc, as a shell prefix. */
static void pkg_config_env(char *out, size_t size)
{
    fmt(out, size, "PKG_CONFIG_PATH='%s/%s/pkgconfig' '%s'", prefix, SGS_INSTALL_LIBDIR,
        SGS_PKG_CONFIG);
}

static int setup_group(void **state)
{
    (void)state;
    char dir[256], cmd[2048], out[8192];
    sgs_test_tmpdir("install", dir, sizeof dir);
    fmt(work, sizeof work, "%s", dir);
    fmt(prefix, sizeof prefix, "%s/prefix", dir);
    fmt(cmd, sizeof cmd, "'%s' --install '%s' --prefix '%s'", SGS_CMAKE_COMMAND, SGS_BINARY_DIR,
        prefix);
    if (sgs_test_shell(cmd, out, sizeof out) != 0) {
        print_error("%s failed:\n%s\n", cmd, out);
        return -1;
    }
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    if (work[0])
        sgs_test_rmdir(work);
    return 0;
}

static void test_program_runs(void **state)
{
    (void)state;
    char path[1024], cmd[2048], out[1024], want[256];
    fmt(path, sizeof path, "%s/%s/segscore", prefix, SGS_INSTALL_BINDIR);
    assert_exists(path);
    fmt(cmd, sizeof cmd, "'%s' --version", path);
    assert_int_equal(sgs_test_shell(cmd, out, sizeof out), 0);
    fmt(want, sizeof want, "segscore %s\n", SGS_VERSION);
    assert_string_equal(out, want);
}

/* The header names of folder `dir` ("kernels") under `root`, sorted, one per line into out;
 * with `public_only`, *_internal.h left out. */
static void list_headers(const char *root, const char *dir, int public_only, char *out, size_t size)
{
    char path[1024];
    fmt(path, sizeof path, "%s/%s", root, dir);
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0)
        fail_msg("cannot list %s", path);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        size_t len = strlen(name);
        int header = len > 2 && strcmp(name + len - 2, ".h") == 0;
        int internal = len > 11 && strcmp(name + len - 11, "_internal.h") == 0;
        if (header && !(public_only && internal)) {
            size_t used = strlen(out);
            snprintf(out + used, size - used, "%s/%s\n", dir, name);
        }
        free(names[i]);
    }
    free(names);
}

static void test_public_headers(void **state)
{
    (void)state;
    static const char *const dirs[] = {"kernels", "io"};
    char include[1024], pc[2048], cmd[8192], out[8192];
    fmt(include, sizeof include, "%s/%s/segscore", prefix, SGS_INSTALL_INCLUDEDIR);
    pkg_config_env(pc, sizeof pc);
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char installed[8192], source[8192];
        list_headers(include, dirs[d], 0, installed, sizeof installed);
        list_headers(SGS_SOURCE_DIR, dirs[d], 1, source, sizeof source);
        if (strcmp(installed, source) != 0)
            fail_msg("installed %s/ headers differ from the public ones of the source tree\n"
                     "installed:\n%s\nexpected:\n%s",
                     dirs[d], installed, source);
        if (installed[0] == '\0')
            fail_msg("no headers installed in %s/", dirs[d]);
        for (char *name = installed, *end; *name; name = end + 1) {
            end = strchr(name, '\n');
            *end = '\0';
            char path[1024];
            fmt(path, sizeof path, "%s/%s", include, name);
            char *text = sgs_test_read_file(path, NULL);
            assert_non_null(text);
            if (strstr(text, "sgs__"))
                fail_msg("%s declares or names an internal sgs__ symbol", name);
            if (strstr(text, "_internal.h\""))
                fail_msg("%s includes an internal header", name);
            free(text);
            /* On its own, as a user's first include, with the user's flags only. */
            fmt(cmd, sizeof cmd,
                "echo '#include \"%s\"' | '%s' -std=c11 -Wall -Wextra -Wpedantic -Werror "
                "$(%s --cflags segscore) -x c -fsyntax-only -",
                name, SGS_C_COMPILER, pc);
            if (sgs_test_shell(cmd, out, sizeof out) != 0)
                fail_msg("%s does not compile on its own:\n%s", name, out);
        }
    }
}

/* Aggregated histories (repeat purchases, recency, age in weeks; customers sharing each):
 * a small cohort observed for 39 weeks, in the spirit of the CDNOW sample. */
static const double hx[] = {0, 0, 1, 1, 2, 2, 3, 4, 5, 7, 1, 0};
static const double ht_x[] = {0, 0, 4.5, 30.0, 12.0, 35.5, 20.0, 36.0, 38.0, 37.5, 1.0, 0};
static const double hT[] = {39, 38, 39, 38, 39, 37, 39, 38, 39, 39, 36, 35};
static const double hcount[] = {120, 95, 30, 25, 12, 18, 9, 11, 6, 4, 14, 60};
#define N_HISTORIES (sizeof hx / sizeof hx[0])

static void test_program_against_installed_library(void **state)
{
    (void)state;
    char pc[2048], cmd[8192], out[8192], path[1024];
    pkg_config_env(pc, sizeof pc);
    fmt(cmd, sizeof cmd, "%s --modversion segscore", pc);
    assert_int_equal(sgs_test_shell(cmd, out, sizeof out), 0);
    char want[256];
    fmt(want, sizeof want, "%s\n", SGS_VERSION);
    assert_string_equal(out, want);
    fmt(path, sizeof path, "%s/%s/libsegscore.a", prefix, SGS_INSTALL_LIBDIR);
    assert_exists(path);

    /* Build the consumer with the installed headers and library only. */
    fmt(cmd, sizeof cmd,
        "'%s' -std=c11 -Wall -Wextra -Wpedantic -Werror $(%s --cflags segscore) "
        "'%s/tests/data/install_consumer.c' $(%s --libs segscore) -o '%s/consumer'",
        SGS_C_COMPILER, pc, SGS_SOURCE_DIR, pc, work);
    if (sgs_test_shell(cmd, out, sizeof out) != 0)
        fail_msg("building against the installed library failed:\n%s\n%s", cmd, out);

    char histories[1024];
    fmt(histories, sizeof histories, "%s/histories.txt", work);
    FILE *f = fopen(histories, "w");
    assert_non_null(f);
    for (size_t i = 0; i < N_HISTORIES; i++)
        fprintf(f, "%.17g %.17g %.17g %.17g\n", hx[i], ht_x[i], hT[i], hcount[i]);
    assert_int_equal(fclose(f), 0);
    fmt(cmd, sizeof cmd, "'%s/consumer' '%s' '%s/params.h5'", work, histories, work);
    if (sgs_test_shell(cmd, out, sizeof out) != 0)
        fail_msg("the consumer failed:\n%s", out);

    /* The same fit in this build tree: the same bits. */
    sgs_exec_t exec = {.n_threads = 2, .grain = 0};
    sgs_histories_t h = {0};
    assert_int_equal(sgs_histories_build(&h, hx, ht_x, hT, hcount, N_HISTORIES, &exec, NULL), 0);
    sgs_fit_t fit;
    assert_int_equal(sgs_bgnbd_fit(&h, NULL, &fit, &exec, NULL), 0);
    sgs_histories_free(&h);
    char expected[512];
    fmt(expected, sizeof expected, "ll %.17g r %.17g alpha %.17g a %.17g b %.17g\n",
        fit.log_likelihood, fit.params[0], fit.params[1], fit.params[2], fit.params[3]);
    assert_string_equal(out, expected);
}

/* The "--name" words of a help text, each once, into out as " --a --b " (a space before and
 * after each). */
static void long_options(const char *help, char *out, size_t size)
{
    snprintf(out, size, " ");
    for (const char *p = strstr(help, "--"); p; p = strstr(p + 2, "--")) {
        if (p > help && !strchr(" [,|(", p[-1]))
            continue;
        int len = 2;
        while (p[len] == '-' || (p[len] >= 'a' && p[len] <= 'z') ||
               (p[len] >= '0' && p[len] <= '9'))
            len++;
        char word[128];
        fmt(word, sizeof word, " %.*s ", len, p);
        if (len > 2 && !strstr(out, word)) {
            size_t used = strlen(out);
            snprintf(out + used, size - used, "%s", word + 1);
        }
    }
}

/* Check one man page: it exists, renders without warnings, and names every option of
 * `help` (written as roff writes them, "\-\-input"). */
static void check_page(const char *page, const char *help, int have_groff)
{
    char path[1024], cmd[2048], out[8192];
    fmt(path, sizeof path, "%s/%s/man1/%s.1", prefix, SGS_INSTALL_MANDIR, page);
    assert_exists(path);
    char *man = sgs_test_read_file(path, NULL);
    assert_non_null(man);
    char options[4096];
    long_options(help, options, sizeof options);
    for (char *o = strtok(options, " "); o; o = strtok(NULL, " ")) {
        char roff[256];
        size_t r = 0;
        for (const char *c = o; *c && r + 3 < sizeof roff; c++) {
            if (*c == '-')
                roff[r++] = '\\';
            roff[r++] = *c;
        }
        roff[r] = '\0';
        if (!strstr(man, roff))
            fail_msg("%s.1 does not mention %s (from its --help)", page, o);
    }
    free(man);
    if (have_groff) {
        fmt(cmd, sizeof cmd, "groff -man -Tutf8 -ww -z '%s'", path);
        assert_int_equal(sgs_test_shell(cmd, out, sizeof out), 0);
        if (out[0])
            fail_msg("%s.1: groff warns:\n%s", page, out);
    }
}

/* Nothing but the pages in man1/. */
static void check_only_pages(void)
{
    char path[1024];
    fmt(path, sizeof path, "%s/%s/man1", prefix, SGS_INSTALL_MANDIR);
    DIR *d = opendir(path);
    if (!d)
        fail_msg("cannot list %s", path);
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            (len < 3 || strcmp(e->d_name + len - 2, ".1") != 0)) {
            closedir(d);
            fail_msg("%s/%s is not a man page of section 1", path, e->d_name);
        }
    }
    closedir(d);
}

static void test_man_pages(void **state)
{
    (void)state;
    if (!SGS_MAN_PAGES)
        skip(); /* configured with -DSGS_MAN=OFF */
    check_only_pages();
    int have_groff = sgs_test_shell("command -v groff", NULL, 0) == 0;
    char top[8192];
    assert_int_equal(sgs_test_run("--help", top, sizeof top), 0);
    check_page("segscore", top, have_groff);
    const char *list = strstr(top, "\ncommands:\n");
    assert_non_null(list);
    int n_commands = 0;
    for (const char *line = list + strlen("\ncommands:\n"); line[0] == ' ';
         line = strchr(line, '\n') + 1) {
        char name[64], page[128], args[128], help[16384];
        assert_int_equal(sscanf(line, " %63s", name), 1);
        fmt(page, sizeof page, "segscore-%s", name);
        fmt(args, sizeof args, "%s --help", name);
        assert_int_equal(sgs_test_run(args, help, sizeof help), 0);
        check_page(page, help, have_groff);
        n_commands++;
    }
    if (n_commands == 0)
        fail_msg("no command listed after \"commands:\" in segscore --help:\n%s", top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_program_runs),
        cmocka_unit_test(test_public_headers),
        cmocka_unit_test(test_program_against_installed_library),
        cmocka_unit_test(test_man_pages),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
