/*
 * engine/cmd_import.c — `segscore import`: delimited text (CSV, whitespace-separated
 * columns) to the input schema, with presets for the CDNOW logs and the UCI Online
 * Retail export. The work is io/csv_import; this file parses options and prints.
 */
#include "engine/command_outputs.h"
#include "engine/commands.h"
#include "engine/interrupt.h"
#include "engine/options.h"
#include "engine/progress.h"
#include "io/csv_import.h"
#include "io/h5_columns.h"
#include "kernels/dates.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(FILE *out)
{
    fprintf(
        out,
        "usage: segscore import -i FILE -o OUT.h5 --customer COL --time COL --amount COL[*COL]\n"
        "                       [--channel COL] [--category COL] [--format csv|whitespace]\n"
        "                       [--delimiter C] [--header|--no-header] [--time-format F]\n"
        "                       [--skip-bad-rows] [--preset cdnow|online-retail]\n"
        "                       [--compression 0-9] [--threads 1|2] [-q]\n"
        "\n"
        "Convert delimited text to the input schema (/transactions/customer_id, time, amount,\n"
        "and optionally channel and category). Streams: memory does not grow with the rows.\n"
        "The output is replaced only when the import succeeds.\n"
        "\n"
        "  -i, --input FILE      text file to read (\"-\" = standard input)\n"
        "  -o, --output FILE     HDF5 file to write\n"
        "  --customer COL        customer id column (integers; \"17850.0\" is read as 17850;\n"
        "                        rows with an empty id are skipped and counted)\n"
        "  --time COL            purchase time column\n"
        "  --amount COL[*COL]    amount column, or the product of two (Quantity*UnitPrice);\n"
        "                        negative amounts are kept as refunds\n"
        "  --channel COL         optional channel: 0..7 or store, web, app, phone, email,\n"
        "                        sms, mail, unknown\n"
        "  --category COL        optional integer product category (empty gives -1)\n"
        "      COL is a header name (exact, else ignoring case) or a 1-based position;\n"
        "      alternatives separated by '|' are tried in order: \"CustomerID|Customer ID\"\n"
        "  --format F            csv (default) or whitespace (columns split by blanks)\n"
        "  --delimiter C         csv delimiter: one character, or tab (default ',')\n"
        "  --header, --no-header the first line is / is not a header; by default it is when\n"
        "                        a column is given by name, else when its customer field is\n"
        "                        not a number\n"
        "  --time-format F       auto (default): YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], with 'T',\n"
        "                        optional Z or +hh:mm offset (converted to UTC), or YYYYMMDD;\n"
        "                        iso, yyyymmdd, unix (seconds), mdy (12/9/2011 12:50 is\n"
        "                        9 Dec 2011), dmy (9/12/2011 12:50). Times without an offset\n"
        "                        are taken as UTC\n"
        "  --skip-bad-rows       count and skip bad rows instead of stopping at the first\n"
        "  --preset P            cdnow: whitespace, customer 1, time 2 (YYYYMMDD), amount 4;\n"
        "                        online-retail: CSV with header, CustomerID|Customer ID,\n"
        "                        InvoiceDate, Quantity*UnitPrice|Price. Options given\n"
        "                        explicitly win over the preset\n"
        "  --compression N       deflate level of the output columns (default 1, 0 = none)\n"
        "  --threads N           1: one thread; 2 (default): compress and write in a second\n"
        "                        thread while parsing (same output bytes)\n"
        "  -q, --quiet           print nothing but errors\n"
        "\n"
        "Exit status: 0 ok, 64 usage, 65 bad data (file:line: reason), 66 input missing,\n"
        "73 output folder unusable, 74 I/O error, 75 another command is writing the output;\n"
        "stopped by SIGHUP, SIGINT or SIGTERM 129, 130, 143 (the output left as it was).\n");
}

/* Options as given; NULL / -1 means "not given" so that a preset can fill it. */
typedef struct cli_options {
    const char *input, *output;
    const char *customer, *time, *amount, *channel, *category;
    const char *format, *delimiter, *time_format, *preset;
    int header; /* -1 not given, else sgs_import_header_t */
    int skip_bad_rows, quiet, compression, threads;
} cli_options_t;

/* Fill options that were not given from the preset. Returns 0 or an exit status. */
static int apply_preset(cli_options_t *c)
{
    if (!c->preset)
        return 0;
    if (strcmp(c->preset, "cdnow") == 0) {
        /* CDNOW_master.txt (with a header line) and the sample (without): header AUTO. */
        if (!c->format)
            c->format = "whitespace";
        if (!c->customer)
            c->customer = "1";
        if (!c->time)
            c->time = "2";
        if (!c->amount)
            c->amount = "4";
        if (!c->time_format)
            c->time_format = "yyyymmdd";
        return 0;
    }
    if (strcmp(c->preset, "online-retail") == 0) {
        /* UCI Online Retail (InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
         * UnitPrice, CustomerID, Country) and Online Retail II (Invoice, ..., Price,
         * Customer ID, Country). */
        if (!c->format)
            c->format = "csv";
        if (c->header < 0)
            c->header = SGS_IMPORT_HEADER_YES;
        if (!c->customer)
            c->customer = "CustomerID|Customer ID";
        if (!c->time)
            c->time = "InvoiceDate";
        if (!c->amount)
            c->amount = "Quantity*UnitPrice|Price";
        return 0;
    }
    return sgs_usage_error("import", "unknown preset \"%s\" (cdnow, online-retail)", c->preset);
}

/* Translate the textual options into io/ options. Returns 0 or an exit status. */
static int to_import_options(const cli_options_t *c, sgs_import_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->customer = c->customer;
    o->time = c->time;
    o->amount = c->amount;
    o->channel = c->channel;
    o->category = c->category;
    o->skip_bad_rows = c->skip_bad_rows;
    o->deflate_level = c->compression;
    o->n_threads = c->threads;
    o->header = c->header < 0 ? SGS_IMPORT_HEADER_AUTO : (sgs_import_header_t)c->header;
    if (!c->format || strcmp(c->format, "csv") == 0)
        o->mode = SGS_CSV_DELIMITED;
    else if (strcmp(c->format, "whitespace") == 0)
        o->mode = SGS_CSV_WHITESPACE;
    else if (strcmp(c->format, "tsv") == 0) {
        o->mode = SGS_CSV_DELIMITED;
        o->delimiter = '\t';
    } else
        return sgs_usage_error("import", "unknown --format \"%s\" (csv, whitespace)", c->format);
    if (c->delimiter) {
        const char *d = c->delimiter;
        if (strcmp(d, "tab") == 0 || strcmp(d, "\\t") == 0 || strcmp(d, "\t") == 0)
            o->delimiter = '\t';
        else if (strlen(d) == 1 && d[0] != '"' && d[0] != '\n' && d[0] != '\r')
            o->delimiter = d[0];
        else
            return sgs_usage_error("import", "--delimiter \"%s\": give one character (or tab)", d);
        if (o->mode == SGS_CSV_WHITESPACE)
            return sgs_usage_error("import", "--delimiter %s does not apply to --format whitespace",
                                   d);
    }
    static const struct {
        const char *name;
        sgs_time_format_t format;
    } formats[] = {{"auto", SGS_TIME_AUTO}, {"iso", SGS_TIME_ISO}, {"yyyymmdd", SGS_TIME_YYYYMMDD},
                   {"mdy", SGS_TIME_MDY},   {"dmy", SGS_TIME_DMY}, {"unix", SGS_TIME_UNIX}};
    o->time_format = SGS_TIME_AUTO;
    if (c->time_format) {
        size_t k = 0, n = sizeof formats / sizeof formats[0];
        while (k < n && strcmp(c->time_format, formats[k].name) != 0)
            k++;
        if (k == n)
            return sgs_usage_error("import",
                                   "unknown --time-format \"%s\" (auto, iso, yyyymmdd, mdy, dmy, "
                                   "unix)",
                                   c->time_format);
        o->time_format = formats[k].format;
    }
    return 0;
}

/* "1997-01-01 00:00:00" */
static void format_time(int64_t t, char *buf, size_t size)
{
    int64_t day = sgs_day_of(t);
    unsigned sec = (unsigned)(t - day * SGS_SECONDS_PER_DAY); /* 0..86399 */
    char date[16];
    sgs_date_format_day(day, date, sizeof date);
    snprintf(buf, size, "%s %02u:%02u:%02u", date, sec / 3600 % 24, sec / 60 % 60, sec % 60);
}

static void print_summary(FILE *out, const char *in, const char *outp, const sgs_import_stats_t *st,
                          int failed)
{
    fprintf(out, "segscore import: %s -> %s%s\n", in, outp, failed ? " (not written)" : "");
    if (st->mapping[0])
        fprintf(out, "  columns: %s\n", st->mapping);
    if (st->header_line)
        fprintf(out, "  header: line %llu\n", (unsigned long long)st->header_line);
    else
        fprintf(out, "  header: none\n");
    fprintf(out, "  rows read: %llu\n", (unsigned long long)st->n_rows_read);
    fprintf(out, "  rows imported: %llu (%llu refunds, %llu with amount 0)\n",
            (unsigned long long)st->n_imported, (unsigned long long)st->n_refunds,
            (unsigned long long)st->n_zero_amount);
    uint64_t skipped = 0;
    for (int q = 0; q < SGS_IMPORT_N_REASONS; q++)
        skipped += st->n_skipped[q];
    fprintf(out, "  rows skipped: %llu", (unsigned long long)skipped);
    const char *sep = " (";
    for (int q = 0; q < SGS_IMPORT_N_REASONS; q++) {
        if (!st->n_skipped[q])
            continue;
        fprintf(out, "%s%llu %s", sep, (unsigned long long)st->n_skipped[q],
                sgs_import_reason_name((sgs_import_reason_t)q));
        sep = ", ";
    }
    fprintf(out, "%s\n", skipped ? ")" : "");
    fprintf(out, "  customers: %llu\n", (unsigned long long)st->n_customers);
    if (st->n_imported) {
        char a[64], b[64];
        format_time(st->min_time_s, a, sizeof a);
        format_time(st->max_time_s, b, sizeof b);
        fprintf(out, "  time range: %s to %s UTC\n", a, b);
    }
    if (st->n_examples) {
        fprintf(out, "  bad rows skipped (first %zu):\n", st->n_examples);
        for (size_t k = 0; k < st->n_examples; k++)
            fprintf(out, "    %s\n", st->examples[k]);
    }
}

/* --header and --no-header: the last one given wins. */
static int set_header(void *ctx, const char *name, const char *value, sgs_error_t *err)
{
    (void)value;
    (void)err;
    *(int *)ctx = strcmp(name, "header") == 0 ? SGS_IMPORT_HEADER_YES : SGS_IMPORT_HEADER_NO;
    return SGS_OK;
}

int sgs_cmd_import(int argc, char **argv)
{
    cli_options_t c;
    memset(&c, 0, sizeof c);
    c.header = -1;
    c.compression = 1;
    c.threads = 2;
    const sgs_option_t options[] = {
        SGS_OPTION_INPUT(&c.input, 1),
        SGS_OPTION_OUTPUT(&c.output, 1),
        {.name = "customer", .kind = SGS_OPT_TEXT, .target = &c.customer},
        {.name = "time", .kind = SGS_OPT_TEXT, .target = &c.time},
        {.name = "amount", .kind = SGS_OPT_TEXT, .target = &c.amount},
        {.name = "channel", .kind = SGS_OPT_TEXT, .target = &c.channel},
        {.name = "category", .kind = SGS_OPT_TEXT, .target = &c.category},
        {.name = "format", .kind = SGS_OPT_TEXT, .target = &c.format},
        {.name = "delimiter", .kind = SGS_OPT_TEXT, .target = &c.delimiter},
        {.name = "header", .kind = SGS_OPT_CALL, .call = set_header, .ctx = &c.header},
        {.name = "no-header", .kind = SGS_OPT_CALL, .call = set_header, .ctx = &c.header},
        {.name = "time-format", .kind = SGS_OPT_TEXT, .target = &c.time_format},
        {.name = "skip-bad-rows", .kind = SGS_OPT_FLAG, .target = &c.skip_bad_rows},
        {.name = "preset", .kind = SGS_OPT_TEXT, .target = &c.preset},
        {.name = "compression", .kind = SGS_OPT_INT, .target = &c.compression, .lo = 0, .hi = 9},
        {.name = "compress", .kind = SGS_OPT_INT, .target = &c.compression, .lo = 0, .hi = 9},
        /* the reader and the parser: one thread each, or both in one */
        {.name = "threads", .kind = SGS_OPT_INT, .target = &c.threads, .lo = 1, .hi = 2},
        SGS_OPTION_QUIET(&c.quiet),
    };
    const sgs_command_line_t command_line = {.command = "import",
                                             .help = print_help,
                                             .options = options,
                                             .n_options = sizeof options / sizeof options[0]};
    int status = sgs_command_line_parse(&command_line, argc, argv);
    if (status >= 0)
        return status;
    status = apply_preset(&c);
    if (status)
        return status;
    if (!c.customer || !c.time || !c.amount)
        return sgs_usage_error("import",
                               "--customer, --time and --amount are required (or --preset)");
    sgs_import_options_t opt;
    status = to_import_options(&c, &opt);
    if (status)
        return status;

    sgs_h5_quiet();
    sgs_progress_t progress;
    sgs_progress_init(&progress, stderr, c.quiet);
    sgs_error_t err = {0};
    /* Before any work: the output checked and locked, a killed import's temporary removed,
     * signals caught (engine/command_outputs.h). */
    const sgs_named_path_t inputs[] = {{"input", c.input}}, outputs[] = {{"output", c.output}};
    sgs_command_outputs_t outs;
    int rc = sgs_command_outputs_open("import", inputs, 1, outputs, 1, &progress, &outs, &err);
    if (rc != SGS_OK) {
        sgs_command_outputs_close(&outs);
        fprintf(stderr, "segscore import: error: %s\n", err.message);
        return sgs_exit_status(rc);
    }
    sgs_stop_point_t stop = {"import-rows", "while importing rows"};
    opt.stop = sgs_interrupt_stop;
    opt.stop_ctx = &stop;
    opt.progress = sgs_progress_update;
    opt.progress_ctx = &progress;
    sgs_progress_begin(&progress, "import");
    sgs_import_stats_t stats;
    rc = sgs_csv_import(c.input, c.output, &opt, &stats, &err);
    sgs_command_outputs_close(&outs);
    if (rc != SGS_OK) {
        if (progress.is_tty && !c.quiet)
            fprintf(stderr, "\r\033[K");
        fprintf(stderr, "segscore import: %s%s\n", rc == SGS_EINTR ? "" : "error: ", err.message);
        if (stats.error_line)
            fprintf(stderr,
                    "segscore import: %s was not written; fix the row, or use "
                    "--skip-bad-rows to count and skip bad rows\n",
                    c.output);
        return sgs_interrupt_exit_status_for(rc);
    }
    sgs_progress_end(&progress, "%llu rows, %llu customers", (unsigned long long)stats.n_imported,
                     (unsigned long long)stats.n_customers);
    if (!c.quiet)
        print_summary(stdout, c.input, c.output, &stats, 0);
    return 0;
}
