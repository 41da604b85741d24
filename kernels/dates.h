/*
 * kernels/dates.h — calendar dates in UTC: day numbers (days since 1970-01-01) from and to
 * "YYYY-MM-DD", proleptic Gregorian.
 */
#ifndef SGS_DATES_H
#define SGS_DATES_H

#include "kernels/core.h"

/* Day number of civil date y-m-d (month 1..12, day 1..31); no range check. |y| below
 * 2^40 keeps every intermediate in range. */
int64_t sgs_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Inverse of sgs_days_from_civil: year, month 1..12 and day 1..31 of a day number.
 * |z| below 2^40 (far beyond any date the program meets) keeps it in range; near
 * INT64_MAX the arithmetic would overflow. */
void sgs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Parse exactly "YYYY-MM-DD" (ten characters: four, two and two digits, a real calendar
 * date of years 0000..9999; no sign, no blanks) into a day number.
 * @return 0 or SGS_EDATA. */
int sgs_date_parse_day(const char *text, int64_t *day);

/* Write day number `day` as "YYYY-MM-DD" into buf (at least 11 bytes). */
void sgs_date_format_day(int64_t day, char *buf, size_t size);

#endif
