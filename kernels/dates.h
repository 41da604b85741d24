/*
 * kernels/dates.h — calendar dates in UTC: day numbers (days since 1970-01-01) from and to
 * "YYYY-MM-DD", proleptic Gregorian.
 */
#ifndef SGS_DATES_H
#define SGS_DATES_H

#include "kernels/core.h"

/* Day number of civil date y-m-d (month 1..12, day 1..31); no range check. */
int64_t sgs_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Parse exactly "YYYY-MM-DD" (a real calendar date) into a day number.
 * @return 0 or SGS_EDATA. */
/* Inverse of sgs_days_from_civil: year, month 1..12 and day 1..31 of a day number. */
void sgs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

int sgs_date_parse_day(const char *text, int64_t *day);

/* Write day number `day` as "YYYY-MM-DD" into buf (at least 11 bytes). */
void sgs_date_format_day(int64_t day, char *buf, size_t size);

#endif
