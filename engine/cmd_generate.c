/*
 * engine/cmd_generate.c — `segscore generate`: simulate customers from known parameters
 * into an input file (datasets/generate.h), with the truth kept in /truth.
 */
#include "datasets/continue.h"
#include "datasets/generate.h"
#include "engine/command_outputs.h"
#include "engine/commands.h"
#include "engine/interrupt.h"
#include "engine/options.h"
#include "engine/progress.h"
#include "kernels/dates.h"

#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sgs__generate_usage(FILE *out)
{
    fprintf(out,
            "usage: segscore generate --customers N -o OUT.h5 [options]\n"
            "       segscore generate --continue-from BASE.h5 [--list RESULTS.h5] [--days T]\n"
            "                         [--effect KIND=RESP,LIFT ...] -o NEXT.h5 [options]\n"
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
            "  -h, --help        this help\n"
            "\n"
            "Continue BASE (a file segscore generate wrote) for T days after its last day D,\n"
            "contacting the treatment group of the list of a run made with --as-of D (kind 7\n"
            "on day D+1, response kind 8 within 14 days with probability RESP, purchase rate\n"
            "x (1 + LIFT) from the contact on); control and unlisted customers are not\n"
            "contacted. NEXT holds BASE's rows, the new days, and the effects in /truth.\n"
            "\n"
            "  --continue-from BASE  the file to continue\n"
            "  --list RESULTS    a segscore run results file (/opportunities, /@as_of = D);\n"
            "                    without it nobody is contacted\n"
            "  --days T          days to simulate after D, 1..%d (default 60)\n"
            "  --effect KIND=RESP,LIFT\n"
            "                    the effect of a contact for one opportunity kind (its name,\n"
            "                    or all), repeatable, in order (default %g,%g for every kind)\n"
            "  -o, --output F, --threads N, --compression L, -q: as above\n",
            SGS_GEN_DEFAULT_SEED, SGS_GEN_DEFAULT_PROSPECTS, SGS_GEN_DEFAULT_R,
            SGS_GEN_DEFAULT_ALPHA, SGS_GEN_DEFAULT_A, SGS_GEN_DEFAULT_B, SGS_GEN_DEFAULT_P,
            SGS_GEN_DEFAULT_Q, SGS_GEN_DEFAULT_GAMMA, SGS_GEN_DEFAULT_REFUND_SHARE,
            SGS_CONTINUE_MAX_DAYS, SGS_CONTINUE_DEFAULT_RESPONSE, SGS_CONTINUE_DEFAULT_LIFT);
}

int sgs_cmd_generate(int argc, char **argv)
{
    for (int k = 1; k < argc; k++)
        if (strcmp(argv[k], "--continue-from") == 0)
            return sgs__cmd_generate_continue(argc, argv);
    sgs_generate_params_t params;
    sgs_generate_defaults(&params);
    const char *output = NULL;
    int quiet = 0, threads = 0, no_events = 0;
    int64_t start_day = params.start_day, end_day = params.end_day;
    /* the model's parameters: any finite number here, their ranges are sgs_generate_check's */
#define PARAMETER(opt, field)                                                                      \
    {                                                                                              \
        .name = (opt), .kind = SGS_OPT_NUMBER, .target = &params.field, .lo = -INFINITY,           \
        .hi = INFINITY                                                                             \
    }
    const sgs_option_t options[] = {
        {.name = "customers",
         .kind = SGS_OPT_U64,
         .target = &params.n_customers,
         .lo = 1,
         .hi = SGS_OPTION_NO_MAX,
         .metavar = "N",
         .required = 1},
        SGS_OPTION_OUTPUT(&output, 1),
        {.name = "seed",
         .kind = SGS_OPT_U64,
         .target = &params.seed,
         .lo = 0,
         .hi = SGS_OPTION_NO_MAX},
        {.name = "start", .kind = SGS_OPT_DAY, .target = &start_day},
        {.name = "end", .kind = SGS_OPT_DAY, .target = &end_day},
        PARAMETER("prospects", prospect_share),
        PARAMETER("refund-rate", refund_share),
        PARAMETER("r", r),
        PARAMETER("alpha", alpha),
        PARAMETER("a", a),
        PARAMETER("b", b),
        PARAMETER("p", p),
        PARAMETER("q", q),
        PARAMETER("gamma", gamma),
        SGS_OPTION_THREADS(&threads),
        {.name = "compression",
         .kind = SGS_OPT_INT,
         .target = &params.deflate_level,
         .lo = 0,
         .hi = 9},
        {.name = "no-events", .kind = SGS_OPT_FLAG, .target = &no_events},
        SGS_OPTION_QUIET(&quiet),
    };
#undef PARAMETER
    enum { START = 3, END = 4 }; /* their places in the table */
    int seen[sizeof options / sizeof options[0]];
    const sgs_command_line_t command_line = {.command = "generate",
                                             .help = sgs__generate_usage,
                                             .options = options,
                                             .n_options = sizeof options / sizeof options[0],
                                             .seen = seen};
    int status = sgs_command_line_parse(&command_line, argc, argv);
    if (status >= 0)
        return status;
    if (!*output)
        return sgs_usage_error("generate", "-o OUTPUT must not be empty");
    if (no_events)
        params.with_events = 0;
    if (seen[START]) {
        params.start_day = start_day;
        sgs_date_format_day(start_day, params.start_date, sizeof params.start_date);
    }
    if (seen[END]) {
        params.end_day = end_day;
        sgs_date_format_day(end_day, params.end_date, sizeof params.end_date);
    }

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
    sgs_exec_t exec = {.n_threads = threads > 0 ? threads : omp_get_max_threads(),
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
