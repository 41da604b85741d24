/*
 * engine/options.h — the command-line parser every command shares.
 *
 * A command describes its options in a table (name, short form, kind of value, where it
 * goes, accepted range) and calls sgs_options_parse once. The parser owns what every
 * command must do the same way: long and short forms, `-h`/`--help`, values checked against
 * their range before any work, the required options, stray arguments, and one wording of
 * every usage error, exit 64 (docs/run.md "Exit status"):
 *
 *   segscore kmeans: --k needs a positive integer, got "0" (see segscore kmeans --help)
 *
 * Help text stays the command's own (its print_help, also the source of the man pages).
 */
#ifndef SGS_OPTIONS_H
#define SGS_OPTIONS_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SGS_OPTIONS_MAX 48 /* options of one command */
#define SGS_OPTIONS_HELP 1 /* sgs_options_parse: -h or --help was given */
/* `hi` of a whole number without an upper bound: INT64_MAX as a double, the parser's limit */
#define SGS_OPTION_NO_MAX 9223372036854775807.0

typedef enum sgs_opt_kind {
    SGS_OPT_FLAG,   /* no value: *(int *)target = 1 */
    SGS_OPT_TEXT,   /* *(const char **)target = the value (argv's string) */
    SGS_OPT_INT,    /* *(int *)target: a whole number in [lo, hi] */
    SGS_OPT_COUNT,  /* *(size_t *)target: a whole number in [lo, hi] */
    SGS_OPT_U64,    /* *(uint64_t *)target: a whole number in [lo, hi] (lo >= 0) */
    SGS_OPT_NUMBER, /* *(double *)target: a finite number in [lo, hi] */
    SGS_OPT_DAY,    /* *(int64_t *)target: the day number of a date YYYY-MM-DD */
    SGS_OPT_CHOICE, /* *(const char **)target: one of `choices` ("day|week") */
    SGS_OPT_CALL    /* call(ctx, name, value, err): the command's own parsing */
} sgs_opt_kind_t;

/* SGS_OPT_CALL: take `value` (NULL for a flag-like call, see takes_value) of option `name`
 * ("--set"); 0, or SGS_EUSAGE with err saying what is wrong. */
typedef int (*sgs_opt_call_fn)(void *ctx, const char *name, const char *value, sgs_error_t *err);

typedef struct sgs_option {
    const char *name; /* long form without "--": "input" */
    char short_name;  /* 'i' for -i; 0: none */
    sgs_opt_kind_t kind;
    void *target;         /* where the value goes (kind says its type); NULL for CALL */
    double lo, hi;        /* accepted range of INT, COUNT, U64, NUMBER (inclusive) */
    const char *choices;  /* CHOICE: the accepted values, '|'-separated */
    sgs_opt_call_fn call; /* CALL */
    void *ctx;            /* CALL: passed to call */
    int takes_value;      /* CALL: 1 when the option has a value */
    const char *metavar;  /* the value's name in messages ("INPUT", "DATE"); NULL: none */
    int required;         /* 1: "-i INPUT is required" when absent */
} sgs_option_t;

/* The options most commands share. */
#define SGS_OPTION_INPUT(p, req)                                                                   \
    {                                                                                              \
        .name = "input", .short_name = 'i', .kind = SGS_OPT_TEXT, .target = (p),                   \
        .metavar = "INPUT", .required = (req)                                                      \
    }
#define SGS_OPTION_OUTPUT(p, req)                                                                  \
    {                                                                                              \
        .name = "output", .short_name = 'o', .kind = SGS_OPT_TEXT, .target = (p),                  \
        .metavar = "OUTPUT", .required = (req)                                                     \
    }
#define SGS_OPTION_QUIET(p)                                                                        \
    {                                                                                              \
        .name = "quiet", .short_name = 'q', .kind = SGS_OPT_FLAG, .target = (p)                    \
    }
/* --threads N (and `run`'s key threads): 0 means every core (OpenMP's default). */
#define SGS_THREADS_MAX 4096
#define SGS_OPTION_THREADS(p)                                                                      \
    {                                                                                              \
        .name = "threads", .kind = SGS_OPT_INT, .target = (p), .lo = 0, .hi = SGS_THREADS_MAX,     \
        .metavar = "N"                                                                             \
    }

/* Parse argv[1..argc-1] (argv[0] is the command's name) against the n options of `opts`.
 * Values are checked and stored as they come (a later one wins); targets of options not
 * given are left as they were (the caller's defaults). `seen`, when not NULL, gets n flags:
 * which options were given. `operand`, when not NULL, takes the one argument that is not an
 * option (`segscore inspect FILE`), which is then required (`operand_name` in messages).
 * @return 0; SGS_OPTIONS_HELP when -h/--help came (parsing stops there); SGS_EUSAGE with
 * err: an unknown option, a missing or bad value, a required option or operand absent, an
 * argument that is not an option (or one too many). */
int sgs_options_parse(const sgs_option_t *opts, size_t n, int argc, char **argv, int *seen,
                      const char **operand, const char *operand_name, sgs_error_t *err);

/* A command's command line, for sgs_command_line_parse. */
typedef struct sgs_command_line {
    const char *command;     /* "run" */
    void (*help)(FILE *out); /* the command's --help text */
    const sgs_option_t *options;
    size_t n_options;
    int *seen;            /* optional: as for sgs_options_parse */
    const char **operand; /* optional: as for sgs_options_parse */
    const char *operand_name;
} sgs_command_line_t;

/* sgs_options_parse, and what every command then does: on -h/--help print the help to
 * stdout, on a usage error print it (sgs_options_usage_error). @return -1 to go on, else the
 * exit status the command returns at once (0 after the help, 64). */
int sgs_command_line_parse(const sgs_command_line_t *cl, int argc, char **argv);

/* Print "segscore <command>: <err's message> (see segscore <command> --help)" to stderr.
 * @return the usage exit status (64). */
int sgs_options_usage_error(const char *command, const sgs_error_t *err);

/* The same for a usage error a command finds after parsing (two options that disagree). */
int sgs_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
