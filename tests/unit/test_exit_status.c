/*
 * tests/unit/test_exit_status.c — the command-line exit status of every error code
 * (engine/exit_status.h): the documented sysexits-style values, and a row for every code of
 * kernels/core.h's table (a code added there without one would exit 70, "internal").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/exit_status.h"
#include "kernels/core.h"
#include "tests/support/test_support.h"

static void test_documented_statuses(void **state)
{
    (void)state;
    sgs_assert_cmp(sgs_exit_status(SGS_OK), ==, 0);
    sgs_assert_cmp(sgs_exit_status(SGS_EUSAGE), ==, 64);
    sgs_assert_cmp(sgs_exit_status(SGS_EDATA), ==, 65);
    sgs_assert_cmp(sgs_exit_status(SGS_ENOINPUT), ==, 66);
    sgs_assert_cmp(sgs_exit_status(SGS_ECANTCREAT), ==, 73);
    sgs_assert_cmp(sgs_exit_status(SGS_EIO), ==, 74);
    sgs_assert_cmp(sgs_exit_status(SGS_ETEMPFAIL), ==, 75);
    sgs_assert_cmp(sgs_exit_status(SGS_ECONFIG), ==, 78);
    sgs_assert_cmp(sgs_exit_status(SGS_ENOMEM), ==, 71);
    sgs_assert_cmp(sgs_exit_status(SGS_EINVAL), ==, 70);
    sgs_assert_cmp(sgs_exit_status(SGS_EOVERFLOW), ==, 65);
    sgs_assert_cmp(sgs_exit_status(SGS_ENOCONVERGE), ==, 65);
    sgs_assert_cmp(sgs_exit_status(SGS_ENUMERIC), ==, 65);
    sgs_assert_cmp(sgs_exit_status(SGS_EINTR), ==, 130);
    sgs_assert_cmp(sgs_exit_status(SGS_ENOSPACE), ==, 74);
    sgs_assert_cmp(sgs_exit_status(-12345), ==, 70); /* not a code: internal */
}

static void test_every_code_has_a_status(void **state)
{
    (void)state;
#define CHECK_ROW(name, value, text)                                                               \
    if (name != SGS_EINVAL && sgs_exit_status(name) == 70)                                         \
        fail_msg("%s (%d, \"%s\") has no exit status of its own", #name, value, text);             \
    sgs_assert_cmp(sgs_exit_status(name), >=, 64);
    SGS_ERROR_TABLE(CHECK_ROW)
#undef CHECK_ROW
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_statuses),
        cmocka_unit_test(test_every_code_has_a_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
