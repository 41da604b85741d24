/*
 * engine/cmd_generate.c — `segscore generate`: simulate customers from known parameters
 * into an input file (datasets/generate.h), with the truth kept in /truth.
 */
#include "datasets/generate.h"
#include "engine/command_outputs.h"
#include "engine/commands.h"
#include "engine/interrupt.h"
#include "engine/progress.h"
#include "kernels/dates.h"

#include <errno.h>
#include <getopt.h>
#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: segscore generate --customers N -o OUT.h5 [options]\n"
            "\n"
            "Simulate N buying customers (BG/NBD purchases, Gamma-Gamma spend, events,\n"
            "prospects, referrals) into an input file; the true parameters and planted\n"
            "behaviours are written to /truth. Same options => byte-identical file.\n"
            "\n"
            "  --customers N     buyers to simulate (required)\n"
            "  -o, --output F    output file, written atomically (required)\n"
            "  --seed S          random seed 0..2^63-1 (default %d)\n"
            "  --start DATE      first day of the window, YYYY-MM-DD (default 2021-07-01)\n"
            "  --end DATE        last day of the window, inclusive (default 2024-06-30)\n"
            "  --prospects F     prospects added, as a share of N (default %g)\n"
            "  --r R --alpha A   purchase rate lambda ~ Gamma(r, rate alpha), per day\n"
            "                    (default r %g, alpha %g days)\n"
            "  --a A --b B       dropout probability p ~ Beta(a, b) (default %g, %g)\n"
            "  --p P --q Q --gamma G\n"
            "                    spend ~ Gamma(p, rate nu), nu ~ Gamma(q, rate gamma)\n"
            "                    (default %g, %g, %g)\n"
            "  --refund-rate R   share of purchase occasions refunded 1..30 days later\n"
            "                    (default %g); refunds are outside the spend truth\n"
            "  --threads N       threads, 0 = every core (default 0); the file is the same\n"
            "  --compression L   deflate level 0..9 (default 1)\n"
            "  --no-events       do not simulate /events\n"
            "  -q, --quiet       no summary line\n"
            "  -h, --help        this help\n",
            SGS_GEN_DEFAULT_SEED, SGS_GEN_DEFAULT_PROSPECTS, SGS_GEN_DEFAULT_R,
            SGS_GEN_DEFAULT_ALPHA, SGS_GEN_DEFAULT_A, SGS_GEN_DEFAULT_B, SGS_GEN_DEFAULT_P,
            SGS_GEN_DEFAULT_Q, SGS_GEN_DEFAULT_GAMMA, SGS_GEN_DEFAULT_REFUND_SHARE);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "segscore generate: <message>" and a pointer to --help; the usage exit status. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "segscore generate: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(`segscore generate --help` lists the options)\n");
    va_end(ap);
    return sgs_exit_status(SGS_EUSAGE);
}

/* Whole decimal number 0..UINT64_MAX, nothing else. */
static int parse_u64(const char *text, uint64_t *out)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* A finite decimal number, nothing else. */
static int parse_double(const char *text, double *out)
{
    if (!text || !*text)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

enum {
    OPT_CUSTOMERS = 256,
    OPT_SEED,
    OPT_START,
    OPT_END,
    OPT_PROSPECTS,
    OPT_REFUND_RATE,
    OPT_R,
    OPT_ALPHA,
    OPT_A,
    OPT_B,
    OPT_P,
    OPT_Q,
    OPT_GAMMA,
    OPT_THREADS,
    OPT_NO_EVENTS,
    OPT_COMPRESSION
};

int sgs_cmd_generate(int argc, char **argv)
{
    static const struct option options[] = {
        {"customers", required_argument, NULL, OPT_CUSTOMERS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"output", required_argument, NULL, 'o'},
        {"start", required_argument, NULL, OPT_START},
        {"end", required_argument, NULL, OPT_END},
        {"prospects", required_argument, NULL, OPT_PROSPECTS},
        {"refund-rate", required_argument, NULL, OPT_REFUND_RATE},
        {"r", required_argument, NULL, OPT_R},
        {"alpha", required_argument, NULL, OPT_ALPHA},
        {"a", required_argument, NULL, OPT_A},
        {"b", required_argument, NULL, OPT_B},
        {"p", required_argument, NULL, OPT_P},
        {"q", required_argument, NULL, OPT_Q},
        {"gamma", required_argument, NULL, OPT_GAMMA},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"compression", required_argument, NULL, OPT_COMPRESSION},
        {"no-events", no_argument, NULL, OPT_NO_EVENTS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};

    sgs_generate_params_t params;
    sgs_generate_defaults(&params);
    const char *output = NULL;
    int have_customers = 0, quiet = 0;
    uint64_t threads = 0;
    optind = 0; /* GNU: full re-initialisation, so the command can run twice in a process */
    opterr = 0;
    int c;
    int longindex = -1;
    while ((c = getopt_long(argc, argv, ":o:qh", options, &longindex)) != -1) {
        /* The option as typed, for messages: after a missing or unknown option argv[optind - 1]
         * is the option itself; long options with values are named from the table. */
        const char *name = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";
        char long_name[32];
        if (c >= OPT_CUSTOMERS && longindex >= 0) {
            snprintf(long_name, sizeof long_name, "--%s", options[longindex].name);
            name = long_name;
        }
        longindex = -1;
        double *dst = NULL;
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'q':
            quiet = 1;
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_NO_EVENTS:
            params.with_events = 0;
            break;
        case OPT_CUSTOMERS:
            if (!parse_u64(optarg, &params.n_customers) || params.n_customers == 0)
                return usage_error("%s: expected a positive whole number, got \"%s\"",
                                   "--customers", optarg);
            have_customers = 1;
            break;
        case OPT_SEED:
            if (!parse_u64(optarg, &params.seed) || params.seed > (uint64_t)INT64_MAX)
                return usage_error("%s: expected a whole number 0..2^63-1, got \"%s\"", "--seed",
                                   optarg);
            break;
        case OPT_THREADS:
            if (!parse_u64(optarg, &threads) || threads > 4096)
                return usage_error("%s: expected a thread count 0..4096, got \"%s\"", "--threads",
                                   optarg);
            break;
        case OPT_COMPRESSION: {
            uint64_t level;
            if (!parse_u64(optarg, &level) || level > 9)
                return usage_error("%s: expected a deflate level 0..9, got \"%s\"", "--compression",
                                   optarg);
            params.deflate_level = (int)level;
            break;
        }
        case OPT_START:
        case OPT_END: {
            int64_t day;
            if (sgs_date_parse_day(optarg, &day) != SGS_OK)
                return usage_error("%s: expected a date YYYY-MM-DD, got \"%s\"",
                                   c == OPT_START ? "--start" : "--end", optarg);
            if (c == OPT_START) {
                params.start_day = day;
                sgs_date_format_day(day, params.start_date, sizeof params.start_date);
            } else {
                params.end_day = day;
                sgs_date_format_day(day, params.end_date, sizeof params.end_date);
            }
            break;
        }
        case OPT_PROSPECTS:
            dst = &params.prospect_share;
            break;
        case OPT_REFUND_RATE:
            dst = &params.refund_share;
            break;
        case OPT_R:
            dst = &params.r;
            break;
        case OPT_ALPHA:
            dst = &params.alpha;
            break;
        case OPT_A:
            dst = &params.a;
            break;
        case OPT_B:
            dst = &params.b;
            break;
        case OPT_P:
            dst = &params.p;
            break;
        case OPT_Q:
            dst = &params.q;
            break;
        case OPT_GAMMA:
            dst = &params.gamma;
            break;
        case ':':
            return usage_error("%s needs a value", name);
        default:
            return usage_error("unknown option \"%s\"", name);
        }
        if (dst && !parse_double(optarg, dst))
            return usage_error("%s: expected a number, got \"%s\"", name, optarg);
    }
    if (optind < argc)
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    if (!have_customers)
        return usage_error("%s is required", "--customers N");
    if (!output || !*output)
        return usage_error("%s is required", "-o OUT.h5");

    sgs_error_t err = {0};
    int rc = sgs_generate_check(&params, &err);
    if (rc) {
        fprintf(stderr, "segscore generate: %s\n", err.message);
        return sgs_exit_status(rc);
    }
    sgs_progress_t progress;
    sgs_progress_init(&progress, stderr, quiet);
    /* Before any work: the output checked and locked, a killed command's temporary removed,
     * signals caught (engine/command_outputs.h). */
    const sgs_named_path_t outputs[] = {{"output", output}};
    sgs_command_outputs_t outs;
    rc = sgs_command_outputs_open("generate", NULL, 0, outputs, 1, &progress, &outs, &err);
    if (rc) {
        sgs_command_outputs_close(&outs);
        fprintf(stderr, "segscore generate: error: %s\n", err.message);
        return sgs_exit_status(rc);
    }
    sgs_stop_point_t stop = {"generate-blocks", "while generating customers"};
    sgs_exec_t exec = {.n_threads = threads > 0 ? (int)threads : omp_get_max_threads(),
                       .stop = sgs_interrupt_stop,
                       .stop_ctx = &stop};
    sgs_progress_begin(&progress, "generate");
    sgs_generate_stats_t stats;
    rc = sgs_generate_file(output, &params, &exec, sgs_progress_update, &progress, &stats, &err);
    sgs_command_outputs_close(&outs);
    if (progress.is_tty && !quiet)
        fprintf(stderr, "\r\033[K");
    if (rc) {
        fprintf(stderr, "segscore generate: %s%s\n", rc == SGS_EINTR ? "" : "error: ", err.message);
        return sgs_interrupt_exit_status_for(rc);
    }
    if (!quiet)
        printf("segscore generate: %s: %llu customers + %llu prospects, %llu transactions, "
               "%llu events, %.2f s\n",
               output, (unsigned long long)stats.n_customers, (unsigned long long)stats.n_prospects,
               (unsigned long long)stats.n_transactions, (unsigned long long)stats.n_events,
               stats.seconds);
    return 0;
}
