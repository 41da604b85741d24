/*
 * engine/exit_status.c — error codes to exit statuses (see exit_status.h).
 */
#include "engine/exit_status.h"

#include "kernels/core.h"

int sgs_exit_status(int code)
{
    /* One row per code of kernels/core.h's table; tests/unit/test_exit_status checks that
     * every code has its row. */
    static const struct {
        int code, status;
    } table[] = {
        {SGS_EUSAGE, 64}, {SGS_EDATA, 65},     {SGS_ENOINPUT, 66},    {SGS_ECANTCREAT, 73},
        {SGS_EIO, 74},    {SGS_ETEMPFAIL, 75}, {SGS_ECONFIG, 78},     {SGS_ENOMEM, 71},
        {SGS_EINVAL, 70}, {SGS_EOVERFLOW, 65}, {SGS_ENOCONVERGE, 65}, {SGS_ENUMERIC, 65},
        {SGS_EINTR, 130}, {SGS_ENOSPACE, 74},
    };
    if (code == SGS_OK)
        return 0;
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
        if (table[k].code == code)
            return table[k].status;
    return 70;
}
