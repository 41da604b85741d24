/*
 * engine/options.c — the shared command-line parser. See options.h.
 */
#include "engine/options.h"

#include "engine/exit_status.h"
#include "kernels/dates.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_LONG 256 /* getopt_long's value of option i is FIRST_LONG + i */

/* What a value of option o must be, for messages: "a positive integer", "a number 0..1". */
static void describe(const sgs_option_t *o, char *buf, size_t size)
{
    switch (o->kind) {
    case SGS_OPT_INT:
    case SGS_OPT_COUNT:
    case SGS_OPT_U64:
        if (o->hi >= SGS_OPTION_NO_MAX && o->lo == 1)
            snprintf(buf, size, "a positive integer");
        else if (o->hi >= SGS_OPTION_NO_MAX)
            snprintf(buf, size, "an integer >= %.0f", o->lo);
        else
            snprintf(buf, size, "an integer %.0f..%.0f", o->lo, o->hi);
        break;
    case SGS_OPT_NUMBER:
        if (isinf(o->lo) && isinf(o->hi))
            snprintf(buf, size, "a number");
        else if (isinf(o->hi))
            snprintf(buf, size, "a number >= %g", o->lo);
        else
            snprintf(buf, size, "a number %g..%g", o->lo, o->hi);
        break;
    case SGS_OPT_DAY:
        snprintf(buf, size, "a date YYYY-MM-DD");
        break;
    case SGS_OPT_CHOICE: {
        size_t used = (size_t)snprintf(buf, size, "one of ");
        for (const char *c = o->choices; *c && used + 2 < size; c++) {
            if (*c == '|') {
                buf[used++] = ',';
                buf[used++] = ' ';
            } else {
                buf[used++] = *c;
            }
        }
        buf[used < size ? used : size - 1] = '\0';
        break;
    }
    default:
        snprintf(buf, size, "a value");
        break;
    }
}

/* `value` is one of the '|'-separated `choices`. */
static int is_choice(const char *choices, const char *value)
{
    size_t len = strlen(value);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t n = bar ? (size_t)(bar - c) : strlen(c);
        if (n == len && strncmp(c, value, n) == 0)
            return 1;
        c += n + (bar != NULL);
    }
    return 0;
}

/* Parse a whole number in [lo, hi]: digits only (a leading '-' for negative ranges). */
static int parse_whole(const char *value, double lo, double hi, int64_t *out)
{
    if (!(isdigit((unsigned char)value[0]) || (value[0] == '-' && lo < 0)))
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end || (double)v < lo || (double)v > hi)
        return 0;
    *out = (int64_t)v;
    return 1;
}

/* Check and store the value of option o. */
static int take(const sgs_option_t *o, const char *value, sgs_error_t *err)
{
    int64_t whole = 0;
    switch (o->kind) {
    case SGS_OPT_FLAG:
        *(int *)o->target = 1;
        return SGS_OK;
    case SGS_OPT_TEXT:
        *(const char **)o->target = value;
        return SGS_OK;
    case SGS_OPT_CALL:
        return o->call(o->ctx, o->name, value, err);
    case SGS_OPT_INT:
    case SGS_OPT_COUNT:
    case SGS_OPT_U64:
        if (!parse_whole(value, o->lo, o->hi, &whole))
            break;
        if (o->kind == SGS_OPT_INT)
            *(int *)o->target = (int)whole;
        else if (o->kind == SGS_OPT_COUNT)
            *(size_t *)o->target = (size_t)whole;
        else
            *(uint64_t *)o->target = (uint64_t)whole;
        return SGS_OK;
    case SGS_OPT_NUMBER: {
        char *end = NULL;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || isspace((unsigned char)value[0]) || !isfinite(v) ||
            v < o->lo || v > o->hi)
            break;
        *(double *)o->target = v;
        return SGS_OK;
    }
    case SGS_OPT_DAY:
        if (sgs_date_parse_day(value, (int64_t *)o->target) != SGS_OK)
            break;
        return SGS_OK;
    case SGS_OPT_CHOICE:
        if (!is_choice(o->choices, value))
            break;
        *(const char **)o->target = value;
        return SGS_OK;
    }
    char want[160];
    describe(o, want, sizeof want);
    return sgs_error_set(err, SGS_EUSAGE, "--%s needs %s, got \"%s\"", o->name, want, value);
}

static int has_value(const sgs_option_t *o)
{
    return o->kind == SGS_OPT_CALL ? o->takes_value : o->kind != SGS_OPT_FLAG;
}

int sgs_options_parse(const sgs_option_t *opts, size_t n, int argc, char **argv, int *seen,
                      const char **operand, const char *operand_name, sgs_error_t *err)
{
    if (n > SGS_OPTIONS_MAX)
        return sgs_error_set(err, SGS_EINVAL, "more than %d options", SGS_OPTIONS_MAX);
    struct option longs[SGS_OPTIONS_MAX + 2];
    char shorts[3 * SGS_OPTIONS_MAX + 4] = ":";
    size_t n_shorts = 1;
    int given[SGS_OPTIONS_MAX] = {0};
    for (size_t i = 0; i < n; i++) {
        longs[i] =
            (struct option){opts[i].name, has_value(&opts[i]) ? required_argument : no_argument,
                            NULL, FIRST_LONG + (int)i};
        if (opts[i].short_name) {
            shorts[n_shorts++] = opts[i].short_name;
            if (has_value(&opts[i]))
                shorts[n_shorts++] = ':';
        }
    }
    longs[n] = (struct option){"help", no_argument, NULL, 'h'};
    longs[n + 1] = (struct option){NULL, 0, NULL, 0};
    shorts[n_shorts++] = 'h';
    shorts[n_shorts] = '\0';

    optind = 0; /* GNU: a full re-initialisation, so that a process can parse twice */
    opterr = 0;
    int rc = SGS_OK, c;
    while (rc == SGS_OK && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const char *typed = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";
        if (c == 'h')
            return SGS_OPTIONS_HELP;
        if (c == ':')
            return sgs_error_set(err, SGS_EUSAGE, "option %s needs a value", typed);
        if (c == '?') {
            if (optopt && optopt < FIRST_LONG)
                return sgs_error_set(err, SGS_EUSAGE, "unknown option -%c", optopt);
            return sgs_error_set(err, SGS_EUSAGE, "unknown option %s", typed);
        }
        size_t i = 0;
        if (c >= FIRST_LONG)
            i = (size_t)(c - FIRST_LONG);
        else
            while (i < n && opts[i].short_name != c)
                i++;
        if (i >= n) /* getopt_long returns only what the tables hold */
            return sgs_error_set(err, SGS_EUSAGE, "unknown option %s", typed);
        given[i] = 1;
        rc = take(&opts[i], optarg, err);
    }
    if (rc != SGS_OK)
        return rc;
    if (operand && optind < argc)
        *operand = argv[optind++];
    else if (operand)
        return sgs_error_set(err, SGS_EUSAGE, "%s is required", operand_name);
    if (optind < argc)
        return sgs_error_set(err, SGS_EUSAGE, "unexpected argument \"%s\"", argv[optind]);
    for (size_t i = 0; i < n; i++) {
        if (opts[i].required && !given[i]) {
            char form[40];
            if (opts[i].short_name)
                snprintf(form, sizeof form, "-%c", opts[i].short_name);
            else
                snprintf(form, sizeof form, "--%s", opts[i].name);
            return sgs_error_set(err, SGS_EUSAGE, "%s%s%s is required", form,
                                 opts[i].metavar ? " " : "",
                                 opts[i].metavar ? opts[i].metavar : "");
        }
        if (seen)
            seen[i] = given[i];
    }
    return SGS_OK;
}

int sgs_command_line_parse(const sgs_command_line_t *cl, int argc, char **argv)
{
    sgs_error_t err = {0};
    int rc = sgs_options_parse(cl->options, cl->n_options, argc, argv, cl->seen, cl->operand,
                               cl->operand_name, &err);
    if (rc == SGS_OPTIONS_HELP) {
        cl->help(stdout);
        return 0;
    }
    return rc == SGS_OK ? -1 : sgs_options_usage_error(cl->command, &err);
}

int sgs_options_usage_error(const char *command, const sgs_error_t *err)
{
    return sgs_usage_error(command, "%s", err->message);
}

int sgs_usage_error(const char *command, const char *fmt, ...)
{
    char text[SGS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fprintf(stderr, "segscore %s: %s (see segscore %s --help)\n", command, text, command);
    return sgs_exit_status(SGS_EUSAGE);
}
