/*
 * tests/unit/test_options.c — the command-line parser every command shares
 * (engine/options.h): each kind of value with its range, long and short forms, required
 * options and operands, help, and the wording of each usage error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/options.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct values {
    const char *input, *unit, *operand;
    int quiet, threads, called;
    size_t k;
    uint64_t seed;
    double rate;
    int64_t day;
    char last_call[32];
} values_t;

static int remember(void *ctx, const char *name, const char *value, sgs_error_t *err)
{
    values_t *v = ctx;
    if (value && strcmp(value, "bad") == 0)
        return sgs_error_set(err, SGS_EUSAGE, "--%s: \"bad\" is bad", name);
    v->called++;
    snprintf(v->last_call, sizeof v->last_call, "%s=%s", name, value ? value : "(none)");
    return SGS_OK;
}

#define N_OPTIONS 9

/* Parse the words of `line` (space-separated, at most 15) against the test table. */
static int parse(const char *line, values_t *v, int *seen, int with_operand, sgs_error_t *err)
{
    static char buf[512];
    char *argv[16] = {"cmd"};
    int argc = 1;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *w = strtok(buf, " "); w && argc < 16; w = strtok(NULL, " "))
        argv[argc++] = w;
    const sgs_option_t options[N_OPTIONS] = {
        SGS_OPTION_INPUT(&v->input, 1),
        SGS_OPTION_QUIET(&v->quiet),
        SGS_OPTION_THREADS(&v->threads),
        {.name = "k", .kind = SGS_OPT_COUNT, .target = &v->k, .lo = 1, .hi = SGS_OPTION_NO_MAX},
        {.name = "seed", .kind = SGS_OPT_U64, .target = &v->seed, .lo = 0, .hi = SGS_OPTION_NO_MAX},
        {.name = "rate", .kind = SGS_OPT_NUMBER, .target = &v->rate, .lo = 0, .hi = 1},
        {.name = "day", .kind = SGS_OPT_DAY, .target = &v->day},
        {.name = "unit", .kind = SGS_OPT_CHOICE, .target = &v->unit, .choices = "day|week"},
        {.name = "call", .kind = SGS_OPT_CALL, .call = remember, .ctx = v, .takes_value = 1},
    };
    memset(err, 0, sizeof *err);
    return sgs_options_parse(options, N_OPTIONS, argc, argv, seen,
                             with_operand ? &v->operand : NULL, "FILE", err);
}

static void test_every_kind_of_value(void **state)
{
    (void)state;
    values_t v = {.threads = 7};
    int seen[N_OPTIONS];
    sgs_error_t err;
    assert_int_equal(parse("-i in.h5 -q --k 12 --seed 9223372036854775807 --rate 0.25 "
                           "--day 2024-02-29 --unit week --call x",
                           &v, seen, 0, &err),
                     SGS_OK);
    assert_string_equal(v.input, "in.h5");
    assert_int_equal(v.quiet, 1);
    assert_int_equal(v.threads, 7); /* not given: the caller's default stays */
    assert_int_equal(seen[2], 0);
    sgs_assert_cmp(v.k, ==, 12);
    sgs_assert_cmp(v.seed, ==, (uint64_t)INT64_MAX);
    sgs_assert_close(v.rate, 0.25, 0, 0);
    sgs_assert_cmp(v.day, ==, 19782); /* 2024-02-29 */
    assert_string_equal(v.unit, "week");
    assert_string_equal(v.last_call, "call=x");
    assert_int_equal(seen[0] + seen[1] + seen[3] + seen[8], 4);
    /* long forms with '=', and a later value wins */
    assert_int_equal(parse("--input=a.h5 --threads=0 --threads 3", &v, seen, 0, &err), SGS_OK);
    assert_string_equal(v.input, "a.h5");
    assert_int_equal(v.threads, 3);
}

static void test_values_out_of_range_say_what_is_wanted(void **state)
{
    (void)state;
    static const struct {
        const char *line, *message;
    } cases[] = {
        {"-i a --k 0", "--k needs a positive integer, got \"0\""},
        {"-i a --k -3", "--k needs a positive integer, got \"-3\""},
        {"-i a --k 1e3", "--k needs a positive integer, got \"1e3\""},
        {"-i a --threads 4097", "--threads needs an integer 0..4096, got \"4097\""},
        {"-i a --seed 9223372036854775808", "--seed needs an integer >= 0, got"},
        {"-i a --rate 1.5", "--rate needs a number 0..1, got \"1.5\""},
        {"-i a --rate nan", "--rate needs a number 0..1, got \"nan\""},
        {"-i a --rate 0.5x", "--rate needs a number 0..1, got \"0.5x\""},
        {"-i a --day 2024-02-30", "--day needs a date YYYY-MM-DD, got \"2024-02-30\""},
        {"-i a --unit month", "--unit needs one of day, week, got \"month\""},
        {"-i a --unit da", "--unit needs one of day, week, got \"da\""},
        {"-i a --call bad", "--call: \"bad\" is bad"},
        {"-i a --bogus", "unknown option --bogus"},
        {"-i a -x", "unknown option -x"},
        {"-i a --k", "option --k needs a value"},
        {"-i", "option -i needs a value"},
        {"-q", "-i INPUT is required"},
        {"-i a stray", "unexpected argument \"stray\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        values_t v = {0};
        sgs_error_t err;
        int rc = parse(cases[i].line, &v, NULL, 0, &err);
        if (rc != SGS_EUSAGE || !strstr(err.message, cases[i].message))
            fail_msg("\"%s\": rc %d, message \"%s\", expected \"%s\"", cases[i].line, rc,
                     err.message, cases[i].message);
    }
}

static void test_help_and_operand(void **state)
{
    (void)state;
    values_t v = {0};
    sgs_error_t err;
    assert_int_equal(parse("--k 0 -h", &v, NULL, 0, &err), SGS_EUSAGE); /* in order */
    assert_int_equal(parse("-h --k 0", &v, NULL, 0, &err), SGS_OPTIONS_HELP);
    assert_int_equal(parse("--help", &v, NULL, 0, &err), SGS_OPTIONS_HELP);
    /* one operand, anywhere (GNU getopt permutes) */
    assert_int_equal(parse("file.h5 -i a", &v, NULL, 1, &err), SGS_OK);
    assert_string_equal(v.operand, "file.h5");
    assert_int_equal(parse("-i a", &v, NULL, 1, &err), SGS_EUSAGE);
    sgs_assert_contains(err.message, "FILE is required");
    assert_int_equal(parse("-i a one two", &v, NULL, 1, &err), SGS_EUSAGE);
    sgs_assert_contains(err.message, "unexpected argument \"two\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_of_value),
        cmocka_unit_test(test_values_out_of_range_say_what_is_wanted),
        cmocka_unit_test(test_help_and_operand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
