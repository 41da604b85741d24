/*
 * tests/unit/test_check_layers.c — scripts/check-layers, the layering check scripts/test runs:
 * the source tree passes; a tree with an include from a lower layer to a higher one and with
 * OpenMP pragmas in engine/ fails with exit status 1, one "file:line: what" per offence (a
 * pragma mentioned in a comment and includes of the same or a lower layer are not offences).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Run scripts/check-layers on root; its output (stdout and stderr) into out. */
static int check_layers(const char *root, char *out, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/scripts/check-layers' '%s' 2>&1", SGS_SOURCE_DIR, root);
    FILE *p = popen(cmd, "r");
    if (!p)
        fail_msg("cannot run %s", cmd);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_in(const char *dir, const char *relative, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, relative);
    sgs_test_write_file(path, text);
}

static void test_the_source_tree_passes(void **state)
{
    (void)state;
    char out[8192];
    int rc = check_layers(SGS_SOURCE_DIR, out, sizeof out);
    if (rc != 0)
        fail_msg("scripts/check-layers exited %d on the source tree:\n%s", rc, out);
}

static void test_offences_are_named(void **state)
{
    (void)state;
    char dir[256], out[8192];
    sgs_test_tmpdir("check_layers", dir, sizeof dir);
    const char *layers[] = {"kernels", "io", "datasets", "engine"};
    for (int k = 0; k < 4; k++) {
        char sub[300];
        snprintf(sub, sizeof sub, "%s/%s", dir, layers[k]);
        sgs_assert_cmp(mkdir(sub, 0755), ==, 0);
    }
    write_in(dir, "kernels/a.h", "#include \"kernels/core.h\"\n#include <stdio.h>\n");
    write_in(dir, "io/b.c", "#include \"kernels/core.h\"\n\n  #  include \"engine/run.h\"\n");
    write_in(dir, "datasets/c.c", "#include \"io/h5_output.h\"\n");
    write_in(dir, "engine/d.c",
             "#include \"datasets/generate.h\"\n"
             "/* no #pragma omp here: a comment */\n"
             "#pragma omp parallel for\n"
             "_Pragma(\"omp for\")\n");
    sgs_assert_cmp(check_layers(dir, out, sizeof out), ==, 1);
    const char *expected[] = {
        "io/b.c:3: includes engine/run.h: io/ is below engine/",
        "engine/d.c:3: OpenMP pragma in engine/",
        "engine/d.c:4: OpenMP pragma in engine/",
    };
    for (size_t k = 0; k < sizeof expected / sizeof expected[0]; k++)
        if (!strstr(out, expected[k]))
            fail_msg("expected \"%s\" in:\n%s", expected[k], out);
    size_t lines = 0;
    for (const char *c = out; *c; c++)
        lines += *c == '\n';
    sgs_assert_cmp(lines, ==, 3); /* nothing else: the comment and the downward includes pass */

    /* a header of a higher layer included from kernels/ */
    write_in(dir, "io/b.c", "#include \"kernels/core.h\"\n");
    write_in(dir, "engine/d.c", "#include \"io/h5_output.h\"\n");
    write_in(dir, "kernels/a.h", "#include \"datasets/generate.h\"\n");
    sgs_assert_cmp(check_layers(dir, out, sizeof out), ==, 1);
    if (!strstr(out, "kernels/a.h:1: includes datasets/generate.h: kernels/ is below datasets/"))
        fail_msg("unexpected report:\n%s", out);
    write_in(dir, "kernels/a.h", "\n");
    sgs_assert_cmp(check_layers(dir, out, sizeof out), ==, 0);
    sgs_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_source_tree_passes),
        cmocka_unit_test(test_offences_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
