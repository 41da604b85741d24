/*
 * kernels/dates.c — civil date arithmetic (H. Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms": days_from_civil and civil_from_days).
 */
#include "kernels/dates.h"

#include <stdio.h>
#include <string.h>

int64_t sgs_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sgs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* The value of n decimal digits (checked by the caller). */
static int digits_value(const char *s, int n)
{
    int v = 0;
    for (int k = 0; k < n; k++)
        v = v * 10 + (s[k] - '0');
    return v;
}

int sgs_date_parse_day(const char *text, int64_t *day)
{
    /* Exactly ten characters, digits but for the two dashes. (sscanf's %d, used before,
     * also took a sign or blanks: "+024-06-30" was year 24, "-202-01-01" year -202.) */
    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return SGS_EDATA;
    for (int k = 0; k < 10; k++)
        if (k != 4 && k != 7 && (text[k] < '0' || text[k] > '9'))
            return SGS_EDATA;
    int y = digits_value(text, 4), m = digits_value(text + 5, 2), d = digits_value(text + 8, 2);
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return SGS_EDATA;
    int64_t candidate = sgs_days_from_civil(y, (unsigned)m, (unsigned)d);
    int64_t yy;
    unsigned mm, dd;
    sgs_civil_from_days(candidate, &yy, &mm, &dd); /* rejects 2023-02-30 and the like */
    if (yy != y || mm != (unsigned)m || dd != (unsigned)d)
        return SGS_EDATA;
    *day = candidate;
    return SGS_OK;
}

void sgs_date_format_day(int64_t day, char *buf, size_t size)
{
    int64_t y;
    unsigned m, d;
    sgs_civil_from_days(day, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02u-%02u", (long long)y, m, d);
}
