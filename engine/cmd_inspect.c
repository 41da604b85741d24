/*
 * engine/cmd_inspect.c — `segscore inspect FILE [--json]`: what an input file holds and
 * what is wrong with it, before a run depends on it.
 *
 * Lists every group and dataset (type, length, chunking, compression), then per table the
 * counts a person checks first (rows, distinct customers, time range, amounts, refunds,
 * sortedness; events per kind; customers with a referrer and prospects), then every
 * problem the reader's checks find. Unlike `run`, inspect does not stop at the first
 * problem: the reader is used in collect mode and the listing is capped per kind of
 * problem (with the full count). Hostile files (links out of the file, virtual or external
 * storage, data never written, filters this library lacks, absurd types) are problems
 * found before any read (io/h5_guard.h); a truncated or malformed file is the one problem
 * there is. Exit status: 0 usable, 65 problems, 66 file missing, 75 locked by a writer.
 */
#include "engine/commands.h"
#include "engine/options.h"
#include "io/h5_input.h"
#include "io/h5_objects.h"
#include "io/json_doc.h"
#include "kernels/core.h"
#include "kernels/dates.h"
#include "kernels/tables.h"

#include <cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LISTED_PER_CHECK 10

/* ---- Problems ------------------------------------------------------------------------- */

typedef struct listed_problem {
    char dataset[128];
    size_t row;
    char message[SGS_ERROR_MESSAGE_MAX];
} listed_problem_t;

typedef struct problem_store {
    size_t total;
    size_t count[SGS_CHECK_COUNT];
    listed_problem_t listed[SGS_CHECK_COUNT][LISTED_PER_CHECK];
} problem_store_t;

static void add_problem(problem_store_t *s, sgs_input_check_t check, const char *dataset,
                        size_t row, const char *message)
{
    s->total++;
    size_t k = s->count[check]++;
    if (k >= LISTED_PER_CHECK)
        return;
    listed_problem_t *p = &s->listed[check][k];
    snprintf(p->dataset, sizeof p->dataset, "%s", dataset);
    p->row = row;
    snprintf(p->message, sizeof p->message, "%s", message);
}

static void on_problem(void *ctx, const sgs_input_problem_t *p)
{
    add_problem(ctx, p->check, p->dataset, p->row, p->message);
}

/* ---- Distinct ids ----------------------------------------------------------------------- */

/* Sort n int64 values ascending: LSD radix sort on 8 bytes (sign bit flipped), using tmp
 * (n values) as the second buffer. Linear time; inspect sorts whole id columns. */
static void radix_sort_i64(int64_t *v, int64_t *tmp, size_t n)
{
    uint64_t *a = (uint64_t *)v, *b = (uint64_t *)tmp;
    const uint64_t flip = UINT64_C(1) << 63;
    for (size_t i = 0; i < n; i++)
        a[i] ^= flip;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((a[i] >> shift) & 0xff) + 1]++;
        if (count[1] == n || count[256] == n) /* all in one bucket: nothing moves */
            continue;
        for (int d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++)
            b[count[(a[i] >> shift) & 0xff]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    if (a != (uint64_t *)v)
        memcpy(v, a, n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        ((uint64_t *)v)[i] ^= flip;
}

/* The distinct values of ids (sorted when `sorted`), as a new sorted array (sgs_free).
 * @return 0 or SGS_ENOMEM. */
static int distinct_ids(const int64_t *ids, size_t n, int sorted, int64_t **out, size_t *n_out)
{
    int64_t *v = sgs_alloc_array(n, sizeof *v);
    if (!v)
        return SGS_ENOMEM;
    memcpy(v, ids, n * sizeof *v);
    if (!sorted) {
        int64_t *tmp = sgs_alloc_array(n, sizeof *tmp);
        if (!tmp) {
            sgs_free(v);
            return SGS_ENOMEM;
        }
        radix_sort_i64(v, tmp, n);
        sgs_free(tmp);
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (w == 0 || v[w - 1] != v[i])
            v[w++] = v[i];
    *out = v;
    *n_out = w;
    return SGS_OK;
}

static int contains_id(const int64_t *sorted, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && sorted[lo] == id;
}

/* ---- Summaries ------------------------------------------------------------------------ */

typedef struct tx_summary {
    int read;               /* 1 when the table could be read */
    sgs_read_stats_t stats; /* from the reader */
    size_t n_rows;          /* kept rows */
    size_t n_customers;     /* distinct customer ids */
    size_t n_finite;        /* rows with a finite amount (the amount statistics) */
    double amount_min, amount_mean, amount_max;
    size_t n_refunds; /* amount < 0 */
    size_t n_zero;    /* amount == 0 */
    int has_channel, has_category;
} tx_summary_t;

typedef struct ev_summary {
    int present, read;
    sgs_read_stats_t stats;
    size_t n_rows;
    size_t by_kind[256];
} ev_summary_t;

typedef struct cu_summary {
    int present, read;
    size_t n_rows;
    int has_referrer;
    size_t n_with_referrer;
    int prospects_known;
    size_t n_prospects; /* customers without a transaction */
} cu_summary_t;

static void summarize_tx(const sgs_transactions_t *t, tx_summary_t *s)
{
    s->n_rows = t->n_rows;
    s->has_channel = t->channel != NULL;
    s->has_category = t->category != NULL;
    double sum = 0; /* serial, in file order: the same bits every time */
    s->amount_min = HUGE_VAL;
    s->amount_max = -HUGE_VAL;
    for (size_t i = 0; i < t->n_rows; i++) {
        double a = t->amount[i];
        if (!isfinite(a))
            continue;
        s->n_finite++;
        sum += a;
        s->amount_min = a < s->amount_min ? a : s->amount_min;
        s->amount_max = a > s->amount_max ? a : s->amount_max;
        s->n_refunds += a < 0;
        s->n_zero += a == 0;
    }
    s->amount_mean = s->n_finite ? sum / (double)s->n_finite : 0;
    if (!s->n_finite)
        s->amount_min = s->amount_max = 0;
}

/* ---- Output ---------------------------------------------------------------------------- */

static void iso_date(int64_t t, char *buf, size_t size)
{
    sgs_date_format_day(sgs_day_of(t), buf, size);
}

static void print_objects(FILE *out, const sgs_h5_object_info_t *objs, size_t n)
{
    fprintf(out, "groups and datasets:\n");
    if (n == 0)
        fprintf(out, "  (none)\n");
    for (size_t i = 0; i < n; i++) {
        const sgs_h5_object_info_t *o = &objs[i];
        if (o->is_group) {
            fprintf(out, "  %s/\n", o->path);
            continue;
        }
        char shape[48], chunks[48];
        if (o->rank == 1)
            snprintf(shape, sizeof shape, "%llu rows", (unsigned long long)o->length);
        else
            snprintf(shape, sizeof shape, "%d-D, %llu x ...", o->rank,
                     (unsigned long long)o->length);
        if (o->chunk_rows)
            snprintf(chunks, sizeof chunks, "chunks of %llu", (unsigned long long)o->chunk_rows);
        else
            snprintf(chunks, sizeof chunks, "contiguous");
        fprintf(out, "  %-36s %-8s %16s  %-18s %s\n", o->path, o->type, shape, chunks,
                o->filters[0] ? o->filters : "uncompressed");
    }
}

static void print_text(FILE *out, const char *path, long long size_bytes,
                       const sgs_h5_object_info_t *objs, size_t n_objs, const tx_summary_t *tx,
                       const ev_summary_t *ev, const cu_summary_t *cu, const problem_store_t *ps,
                       int has_as_of, int is_hdf5)
{
    char a[16], b[16];
    fprintf(out, "%s: %lld bytes\n", path, size_bytes);
    if (!is_hdf5)
        goto problems; /* nothing inside to describe */
    fprintf(out, "\n");
    print_objects(out, objs, n_objs);
    fprintf(out, "\ntransactions:\n");
    if (!tx->read) {
        fprintf(out, "  not readable (see problems)\n");
    } else {
        fprintf(out, "  %-22s %zu\n", "rows", tx->stats.n_rows_in_file);
        if (has_as_of)
            fprintf(out, "  %-22s %zu excluded, %zu kept\n", "after the as-of end",
                    tx->stats.n_rows_after_as_of, tx->n_rows);
        fprintf(out, "  %-22s %zu\n", "distinct customers", tx->n_customers);
        iso_date(tx->stats.min_time_s, a, sizeof a);
        iso_date(tx->stats.max_time_s, b, sizeof b);
        fprintf(out, "  %-22s %s .. %s\n", "time range", a, b);
        fprintf(out, "  %-22s min %.6g  mean %.6g  max %.6g\n", "amount", tx->amount_min,
                tx->amount_mean, tx->amount_max);
        fprintf(out, "  %-22s %zu\n", "refunds (amount < 0)", tx->n_refunds);
        fprintf(out, "  %-22s %zu\n", "zero-amount rows", tx->n_zero);
        fprintf(out, "  %-22s %s\n", "sorted",
                tx->stats.sorted_by_customer ? "yes, by (customer_id, time)"
                                             : "no (a run sorts it)");
        fprintf(out, "  %-22s %s%s%s\n", "optional columns", tx->has_channel ? "channel " : "",
                tx->has_category ? "category" : "",
                !tx->has_channel && !tx->has_category ? "none" : "");
        fprintf(out, "  %-22s %016llx\n", "content hash64",
                (unsigned long long)tx->stats.content_hash64);
    }
    fprintf(out, "\nevents:\n");
    if (!ev->present) {
        fprintf(out, "  none (no /events group)\n");
    } else if (!ev->read) {
        fprintf(out, "  not readable (see problems)\n");
    } else {
        fprintf(out, "  %-22s %zu\n", "rows", ev->stats.n_rows_in_file);
        if (has_as_of)
            fprintf(out, "  %-22s %zu excluded\n", "after the as-of end",
                    ev->stats.n_rows_after_as_of);
        for (int k = 1; k < SGS_EVENT_KIND_COUNT; k++)
            fprintf(out, "  %d %-20s %zu\n", k, sgs_event_kind_name(k), ev->by_kind[k]);
        size_t other = ev->n_rows;
        for (int k = 1; k < SGS_EVENT_KIND_COUNT; k++)
            other -= ev->by_kind[k];
        if (other)
            fprintf(out, "  %-22s %zu\n", "other kinds (invalid)", other);
    }
    fprintf(out, "\ncustomers:\n");
    if (!cu->present) {
        fprintf(out, "  none (no /customers group)\n");
    } else if (!cu->read) {
        fprintf(out, "  not readable (see problems)\n");
    } else {
        fprintf(out, "  %-22s %zu\n", "rows", cu->n_rows);
        if (cu->has_referrer)
            fprintf(out, "  %-22s %zu\n", "with a referrer", cu->n_with_referrer);
        if (cu->prospects_known)
            fprintf(out, "  %-22s %zu (customers without transactions)\n", "prospects",
                    cu->n_prospects);
    }
problems:
    if (ps->total == 0) {
        fprintf(out, "\nproblems: none; the file is usable\n");
        return;
    }
    fprintf(out, "\nproblems: %zu; the file is not usable as it is\n", ps->total);
    for (int c = 0; c < SGS_CHECK_COUNT; c++) {
        if (!ps->count[c])
            continue;
        fprintf(out, "  %s (%zu):\n", sgs_input_check_name((sgs_input_check_t)c), ps->count[c]);
        size_t shown = ps->count[c] < LISTED_PER_CHECK ? ps->count[c] : LISTED_PER_CHECK;
        for (size_t i = 0; i < shown; i++)
            fprintf(out, "    %s\n", ps->listed[c][i].message);
        if (ps->count[c] > shown)
            fprintf(out, "    ... and %zu more\n", ps->count[c] - shown);
    }
}

/* Add a number that may exceed what a double holds exactly only beyond 2^53 rows. */
static void json_count(cJSON *obj, const char *name, size_t v)
{
    cJSON_AddNumberToObject(obj, name, (double)v);
}

static cJSON *json_report(const char *path, long long size_bytes, const sgs_h5_object_info_t *objs,
                          size_t n_objs, const tx_summary_t *tx, const ev_summary_t *ev,
                          const cu_summary_t *cu, const problem_store_t *ps)
{
    char a[48], b[48];
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "file", path);
    cJSON_AddNumberToObject(root, "size_bytes", (double)size_bytes);
    cJSON_AddBoolToObject(root, "usable", ps->total == 0);
    cJSON *list = cJSON_AddArrayToObject(root, "objects");
    for (size_t i = 0; i < n_objs; i++) {
        const sgs_h5_object_info_t *o = &objs[i];
        cJSON *it = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "path", o->path);
        cJSON_AddStringToObject(it, "kind", o->is_group ? "group" : "dataset");
        if (!o->is_group) {
            cJSON_AddStringToObject(it, "type", o->type);
            cJSON_AddNumberToObject(it, "rank", o->rank);
            cJSON_AddNumberToObject(it, "length", (double)o->length);
            cJSON_AddNumberToObject(it, "chunk_rows", (double)o->chunk_rows);
            cJSON_AddStringToObject(it, "filters", o->filters);
            cJSON_AddNumberToObject(it, "storage_bytes", (double)o->storage_bytes);
        }
        sgs_json_attach(list, NULL, it);
    }
    if (tx->read) {
        cJSON *t = cJSON_AddObjectToObject(root, "transactions");
        json_count(t, "rows_in_file", tx->stats.n_rows_in_file);
        json_count(t, "rows_after_as_of", tx->stats.n_rows_after_as_of);
        json_count(t, "rows", tx->n_rows);
        json_count(t, "distinct_customers", tx->n_customers);
        iso_date(tx->stats.min_time_s, a, sizeof a);
        iso_date(tx->stats.max_time_s, b, sizeof b);
        cJSON_AddStringToObject(t, "first_date", a);
        cJSON_AddStringToObject(t, "last_date", b);
        cJSON_AddNumberToObject(t, "first_time_s", (double)tx->stats.min_time_s);
        cJSON_AddNumberToObject(t, "last_time_s", (double)tx->stats.max_time_s);
        cJSON_AddNumberToObject(t, "amount_min", tx->amount_min);
        cJSON_AddNumberToObject(t, "amount_mean", tx->amount_mean);
        cJSON_AddNumberToObject(t, "amount_max", tx->amount_max);
        json_count(t, "refunds", tx->n_refunds);
        json_count(t, "zero_amount", tx->n_zero);
        cJSON_AddBoolToObject(t, "sorted_by_customer", tx->stats.sorted_by_customer);
        cJSON_AddBoolToObject(t, "has_channel", tx->has_channel);
        cJSON_AddBoolToObject(t, "has_category", tx->has_category);
        snprintf(a, sizeof a, "%016llx", (unsigned long long)tx->stats.content_hash64);
        cJSON_AddStringToObject(t, "content_hash64", a);
    } else {
        cJSON_AddNullToObject(root, "transactions");
    }
    if (ev->present && ev->read) {
        cJSON *e = cJSON_AddObjectToObject(root, "events");
        json_count(e, "rows_in_file", ev->stats.n_rows_in_file);
        json_count(e, "rows_after_as_of", ev->stats.n_rows_after_as_of);
        cJSON *k = cJSON_AddObjectToObject(e, "by_kind");
        size_t other = ev->n_rows;
        for (int c = 1; c < SGS_EVENT_KIND_COUNT; c++) {
            json_count(k, sgs_event_kind_name(c), ev->by_kind[c]);
            other -= ev->by_kind[c];
        }
        json_count(e, "other_kind", other);
    } else {
        cJSON_AddNullToObject(root, "events");
    }
    if (cu->present && cu->read) {
        cJSON *c = cJSON_AddObjectToObject(root, "customers");
        json_count(c, "rows", cu->n_rows);
        if (cu->has_referrer)
            json_count(c, "with_referrer", cu->n_with_referrer);
        if (cu->prospects_known)
            json_count(c, "prospects", cu->n_prospects);
    } else {
        cJSON_AddNullToObject(root, "customers");
    }
    cJSON *p = cJSON_AddObjectToObject(root, "problems");
    json_count(p, "count", ps->total);
    cJSON *by = cJSON_AddObjectToObject(p, "by_check");
    cJSON *items = cJSON_AddArrayToObject(p, "list");
    for (int c = 0; c < SGS_CHECK_COUNT; c++) {
        if (!ps->count[c])
            continue;
        json_count(by, sgs_input_check_name((sgs_input_check_t)c), ps->count[c]);
        size_t shown = ps->count[c] < LISTED_PER_CHECK ? ps->count[c] : LISTED_PER_CHECK;
        for (size_t i = 0; i < shown; i++) {
            const listed_problem_t *lp = &ps->listed[c][i];
            cJSON *it = cJSON_CreateObject();
            cJSON_AddStringToObject(it, "check", sgs_input_check_name((sgs_input_check_t)c));
            cJSON_AddStringToObject(it, "dataset", lp->dataset);
            if (lp->row == SGS_NO_ROW)
                cJSON_AddNullToObject(it, "row");
            else
                cJSON_AddNumberToObject(it, "row", (double)lp->row);
            cJSON_AddStringToObject(it, "message", lp->message);
            sgs_json_attach(items, NULL, it);
        }
    }
    return root;
}

/* ---- The command ---------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: segscore inspect FILE [--json] [--as-of YYYY-MM-DD] [--threads N]\n"
            "\n"
            "Show an input file's groups and datasets (type, length, chunking, compression),\n"
            "per table the rows, customers, time range, amounts, refunds, sortedness, events\n"
            "per kind, customers with a referrer and prospects, and every problem the input\n"
            "checks find (at most %d listed per kind, all counted).\n"
            "\n"
            "  --json            one JSON object on stdout instead of text\n"
            "  --as-of DATE      check as a run with this as-of would: later rows are\n"
            "                    excluded (counted) instead of failing the future-time check\n"
            "  --threads N       threads for the checks (0, the default: every core)\n"
            "\n"
            "Exit status: 0 usable, 65 problems found, 66 file missing or unreadable,\n"
            "75 locked by a program writing it (retry later).\n",
            LISTED_PER_CHECK);
}

int sgs_cmd_inspect(int argc, char **argv)
{
    int json = 0, threads = 0;
    int64_t as_of = 0;
    const char *path = NULL;
    const sgs_option_t options[] = {
        {.name = "json", .kind = SGS_OPT_FLAG, .target = &json},
        {.name = "as-of", .kind = SGS_OPT_DAY, .target = &as_of},
        SGS_OPTION_THREADS(&threads),
    };
    enum { AS_OF = 1 }; /* its place in the table */
    int seen[sizeof options / sizeof options[0]];
    const sgs_command_line_t command_line = {.command = "inspect",
                                             .help = usage,
                                             .options = options,
                                             .n_options = sizeof options / sizeof options[0],
                                             .seen = seen,
                                             .operand = &path,
                                             .operand_name = "FILE"};
    int parsed = sgs_command_line_parse(&command_line, argc, argv);
    if (parsed >= 0)
        return parsed;
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.n_threads = threads > 0 ? threads : omp_get_max_threads();
    if (seen[AS_OF]) {
        opt.has_as_of = 1;
        opt.as_of_end_s = (as_of + 1) * SGS_SECONDS_PER_DAY;
    }

    problem_store_t *ps = calloc(1, sizeof *ps);
    if (!ps) {
        fprintf(stderr, "segscore inspect: out of memory\n");
        return sgs_exit_status(SGS_ENOMEM);
    }
    opt.problem = on_problem;
    opt.problem_ctx = ps;
    sgs_error_t err = {0};
    sgs_h5_object_info_t *objs = NULL;
    size_t n_objs = 0;
    sgs_transactions_t t = {0};
    sgs_events_t e = {0};
    sgs_customers_t c = {0};
    tx_summary_t tx = {0};
    ev_summary_t ev = {0};
    cu_summary_t cu = {0};
    int64_t *tx_ids = NULL;
    size_t n_tx_ids = 0;
    int status = 0, is_hdf5 = 1; /* 0: not HDF5, truncated or malformed: nothing to list */

    int rc = sgs_h5_list_objects(path, &objs, &n_objs, &err);
    if (rc == SGS_EDATA) { /* not HDF5: the one problem there is */
        add_problem(ps, SGS_CHECK_FILE, "", SGS_NO_ROW, err.message);
        is_hdf5 = 0;
    } else if (rc) {
        fprintf(stderr, "segscore inspect: error: %s\n", err.message);
        status = sgs_exit_status(rc);
        goto cleanup;
    } else {
        rc = sgs_h5_read_transactions(path, &opt, &t, &tx.stats, &err);
        if (rc == SGS_OK) {
            tx.read = 1;
            summarize_tx(&t, &tx);
            rc = distinct_ids(t.customer_id, t.n_rows, tx.stats.sorted_by_customer, &tx_ids,
                              &n_tx_ids);
            if (rc)
                sgs_error_set(&err, rc, "%s: out of memory counting customers", path);
            tx.n_customers = n_tx_ids;
        }
        if (rc && rc != SGS_EDATA)
            goto fail;
        rc = sgs_h5_read_events(path, &opt, &e, &ev.present, &ev.stats, &err);
        if (rc == SGS_OK && ev.present) {
            ev.read = 1;
            ev.n_rows = e.n_rows;
            for (size_t i = 0; i < e.n_rows; i++)
                ev.by_kind[e.kind[i]]++;
        }
        if (rc == SGS_EDATA)
            ev.present = 1; /* there, but not readable */
        else if (rc)
            goto fail;
        rc = sgs_h5_read_customers_opt(path, &opt, &c, &cu.present, &err);
        if (rc == SGS_OK && cu.present) {
            cu.read = 1;
            cu.n_rows = c.n_rows;
            cu.has_referrer = c.referrer_id != NULL;
            for (size_t i = 0; cu.has_referrer && i < c.n_rows; i++)
                cu.n_with_referrer += c.referrer_id[i] != -1;
            cu.prospects_known = tx.read;
            for (size_t i = 0; tx.read && i < c.n_rows; i++)
                cu.n_prospects += !contains_id(tx_ids, n_tx_ids, c.customer_id[i]);
        }
        if (rc == SGS_EDATA)
            cu.present = 1;
        else if (rc)
            goto fail;
    }

    struct stat st;
    long long size_bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    if (json) {
        long mark = sgs_json_begin();
        cJSON *root = json_report(path, size_bytes, objs, n_objs, &tx, &ev, &cu, ps);
        char *text = sgs_json_finish(root, mark, 1);
        if (!text) {
            rc = sgs_error_set(&err, SGS_ENOMEM, "out of memory writing JSON");
            goto fail;
        }
        printf("%s\n", text);
        cJSON_free(text);
    } else {
        print_text(stdout, path, size_bytes, objs, n_objs, &tx, &ev, &cu, ps, opt.has_as_of,
                   is_hdf5);
    }
    if (ps->total) {
        fprintf(stderr, "segscore inspect: %s has %zu problem%s\n", path, ps->total,
                ps->total == 1 ? "" : "s");
        status = sgs_exit_status(SGS_EDATA);
    }
    goto cleanup;
fail:
    fprintf(stderr, "segscore inspect: error: %s\n", err.message);
    status = sgs_exit_status(rc);
cleanup:
    sgs_free(objs);
    sgs_free(tx_ids);
    sgs_transactions_free(&t);
    sgs_events_free(&e);
    sgs_customers_free(&c);
    free(ps);
    return status;
}
