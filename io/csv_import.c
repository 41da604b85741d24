/*
 * io/csv_import.c — delimited text to /transactions. See csv_import.h for the contract.
 *
 * The streaming import loop that ties the tokenizer to the HDF5 appenders and publishes
 * atomically; the field parsers are in import_fields.c, the column references in
 * import_columns.c, the set of distinct customers in id_set.c.
 */
#include "io/csv_import.h"
#include "io/id_set_internal.h"
#include "io/import_columns_internal.h"
#include "io/import_fields_internal.h"
#include "io/import_text_internal.h"

#include "io/atomic_file.h"
#include "io/h5_columns.h"
#include "io/h5_output.h"
#include "io/output_paths.h"
#include "kernels/dates.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CHUNK_ROWS ((size_t)65536)
#define PROGRESS_EVERY_ROWS 65536
/* Records between two stop checks: a few microseconds of parsing for short rows, so a stop
 * is seen at once; 1024 rows of 10 KB are 10 MB, still well under a second. */
#define STOP_CHECK_EVERY_RECORDS 1024

/* ---- The import -------------------------------------------------------------------- */

const char *sgs_import_reason_name(sgs_import_reason_t reason)
{
    switch (reason) {
    case SGS_IMPORT_NO_CUSTOMER:
        return "no customer id";
    case SGS_IMPORT_BAD_FIELDS:
        return "wrong number of fields";
    case SGS_IMPORT_BAD_CUSTOMER:
        return "bad customer id";
    case SGS_IMPORT_BAD_TIME:
        return "bad time";
    case SGS_IMPORT_BAD_AMOUNT:
        return "bad amount";
    case SGS_IMPORT_BAD_CHANNEL:
        return "bad channel";
    case SGS_IMPORT_BAD_CATEGORY:
        return "bad category";
    case SGS_IMPORT_N_REASONS:
        break;
    }
    return "unknown";
}

/* A batch of parsed rows on their way to the HDF5 columns. */
typedef struct batch {
    size_t n;
    int64_t *customer, *time_s;
    double *amount;
    uint8_t *channel;  /* NULL without --channel */
    int32_t *category; /* NULL without --category */
} batch_t;

/* Everything one import holds. */
typedef struct import_state {
    const sgs_import_options_t *opt;
    sgs_import_stats_t *stats;
    const char *file; /* input name for messages */
    column_ref_t customer, time, amount, channel, category;
    size_t expected_fields;
    uint64_t expected_from_line; /* line whose field count is the reference */
    int has_header;
    char header_names[5][64]; /* labels for messages: customer, time, amount x2... */
    /* Two batches: the parser fills batch[fill] while the writer writes the other. */
    size_t batch_rows;
    batch_t batch[2];
    int fill;
    /* owned by the writer while it runs: the HDF5 file, its columns, the customer set */
    hid_t h5;
    sgs_h5_appender_t *a_customer, *a_time, *a_amount, *a_channel, *a_category;
    id_set_t customers;
    /* the background writer (threaded mode); fields below `lock` are shared */
    int threaded, writer_started;
    pthread_t writer;
    pthread_mutex_t lock;
    pthread_cond_t work, idle;
    int pending; /* index of the batch handed to the writer, -1 when it is idle */
    int stop;    /* no more batches will come */
    int writer_rc;
    sgs_error_t writer_err;
} import_state_t;

/* A bad row: stop with SGS_EDATA, or count it and keep the first messages. */
static int bad_row(import_state_t *s, uint64_t line, sgs_import_reason_t reason, sgs_error_t *err,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int bad_row(import_state_t *s, uint64_t line, sgs_import_reason_t reason, sgs_error_t *err,
                   const char *fmt, ...)
{
    char what[SGS_IMPORT_EXAMPLE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!s->opt->skip_bad_rows) {
        s->stats->error_line = line;
        return sgs_error_set(err, SGS_EDATA, "%s:%llu: %s", s->file, (unsigned long long)line,
                             what);
    }
    s->stats->n_skipped[reason]++;
    if (s->stats->n_examples < SGS_IMPORT_MAX_EXAMPLES) {
        char full[SGS_ERROR_MESSAGE_MAX + SGS_IMPORT_EXAMPLE_MAX];
        snprintf(full, sizeof full, "%s:%llu: %s", s->file, (unsigned long long)line, what);
        size_t n = strlen(full);
        if (n >= SGS_IMPORT_EXAMPLE_MAX)
            n = SGS_IMPORT_EXAMPLE_MAX - 1;
        char *dst = s->stats->examples[s->stats->n_examples++];
        memcpy(dst, full, n);
        dst[n] = '\0';
    }
    return SGS_OK;
}

/* Label of column k for messages: "column 5 (InvoiceDate)" or "column 5". */
static void column_label(const import_state_t *s, const char *header_name, size_t k, char *buf,
                         size_t size)
{
    if (s->has_header && header_name && header_name[0])
        snprintf(buf, size, "column %zu \"%s\"", k + 1, header_name);
    else
        snprintf(buf, size, "column %zu", k + 1);
}

/* ---- Writing batches, optionally in a second thread --------------------------------
 * Compression (deflate) costs more than parsing, so by default the parser hands full
 * batches to a writer thread and goes on with the next one. Only the writer calls HDF5
 * while it runs; the batches are appended in file order, so the output bytes are the
 * same with and without the thread. */

/* Count the batch's customers and append it to the HDF5 columns; empties the batch. */
static int write_batch(import_state_t *s, batch_t *b, sgs_error_t *err)
{
    if (b->n == 0)
        return SGS_OK;
    int rc = SGS_OK;
    if (sgs__id_set_add_many(&s->customers, b->customer, b->n) != SGS_OK)
        rc = sgs_error_set(err, SGS_ENOMEM, "out of memory counting %zu customers", s->customers.n);
    if (!rc)
        rc = sgs_h5_appender_append(s->a_customer, b->customer, b->n, err);
    if (!rc)
        rc = sgs_h5_appender_append(s->a_time, b->time_s, b->n, err);
    if (!rc)
        rc = sgs_h5_appender_append(s->a_amount, b->amount, b->n, err);
    if (!rc && s->a_channel)
        rc = sgs_h5_appender_append(s->a_channel, b->channel, b->n, err);
    if (!rc && s->a_category)
        rc = sgs_h5_appender_append(s->a_category, b->category, b->n, err);
    b->n = 0;
    return rc;
}

static void *writer_main(void *arg)
{
    import_state_t *s = arg;
    sgs_h5_quiet(); /* HDF5's error handling is per thread (a thread-safe build) */
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->pending < 0 && !s->stop)
            pthread_cond_wait(&s->work, &s->lock);
        if (s->pending < 0)
            break; /* stopped and idle */
        batch_t *b = &s->batch[s->pending];
        pthread_mutex_unlock(&s->lock);
        sgs_error_t e = {0};
        int rc = write_batch(s, b, &e);
        pthread_mutex_lock(&s->lock);
        if (rc && !s->writer_rc) {
            s->writer_rc = rc;
            s->writer_err = e;
        }
        s->pending = -1;
        pthread_cond_signal(&s->idle);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Start the writer thread; without it (threads off, or creation failed) batches are
 * written in the calling thread. */
static void writer_start(import_state_t *s)
{
    s->pending = -1;
    if (!s->threaded)
        return;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        s->threaded = 0;
        return;
    }
    if (pthread_cond_init(&s->work, NULL) != 0) {
        pthread_mutex_destroy(&s->lock);
        s->threaded = 0;
        return;
    }
    if (pthread_cond_init(&s->idle, NULL) != 0) {
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->lock);
        s->threaded = 0;
        return;
    }
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        pthread_cond_destroy(&s->idle);
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->lock);
        s->threaded = 0;
        return;
    }
    s->writer_started = 1;
}

/* Hand the filled batch to the writer (waiting until it has finished the previous one)
 * and continue in the other batch; or write it here when there is no writer. */
static int hand_off(import_state_t *s, sgs_error_t *err)
{
    batch_t *b = &s->batch[s->fill];
    if (b->n == 0)
        return SGS_OK;
    if (!s->writer_started)
        return write_batch(s, b, err);
    pthread_mutex_lock(&s->lock);
    while (s->pending >= 0)
        pthread_cond_wait(&s->idle, &s->lock);
    int rc = s->writer_rc;
    if (rc) {
        if (err)
            *err = s->writer_err;
    } else {
        s->pending = s->fill;
        pthread_cond_signal(&s->work);
    }
    pthread_mutex_unlock(&s->lock);
    if (!rc)
        s->fill ^= 1; /* the writer emptied the other batch before going idle */
    return rc;
}

/* Wait for the writer to finish what it has, stop it and join it; returns its error. */
static int writer_finish(import_state_t *s, sgs_error_t *err)
{
    if (!s->writer_started)
        return SGS_OK;
    pthread_mutex_lock(&s->lock);
    while (s->pending >= 0)
        pthread_cond_wait(&s->idle, &s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->work);
    int rc = s->writer_rc;
    if (rc && err)
        *err = s->writer_err;
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->writer, NULL);
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->lock);
    s->writer_started = 0;
    return rc;
}

/* Parse one data record and queue it, or count/report why not. */
static int import_record(import_state_t *s, const sgs_csv_record_t *rec, sgs_error_t *err)
{
    sgs_import_stats_t *st = s->stats;
    st->n_rows_read++;
    char label[128], shown[64];
    if (rec->n_fields != s->expected_fields) {
        const char *hint = "";
        if (rec->n_fields == 1 && s->opt->mode == SGS_CSV_DELIMITED &&
            (strchr(rec->fields[0], ' ') || strchr(rec->fields[0], '\t') ||
             strchr(rec->fields[0], ';')))
            hint = " (is the file whitespace- or ';'-separated? see --format and --delimiter)";
        else if (rec->n_fields > s->expected_fields && s->opt->mode == SGS_CSV_DELIMITED)
            hint = " (a delimiter inside a field that is not quoted?)";
        return bad_row(s, rec->line, SGS_IMPORT_BAD_FIELDS, err,
                       "expected %zu fields as in %s %llu, found %zu%s", s->expected_fields,
                       s->has_header ? "the header on line" : "the first row, line",
                       (unsigned long long)s->expected_from_line, rec->n_fields, hint);
    }
    const char *reason = NULL;

    size_t k = s->customer.index[0];
    if (is_missing(rec->fields[k], rec->length[k])) {
        st->n_skipped[SGS_IMPORT_NO_CUSTOMER]++;
        return SGS_OK;
    }
    int64_t customer;
    if (sgs_import_parse_int64(rec->fields[k], rec->length[k], &customer, &reason)) {
        column_label(s, s->header_names[0], k, label, sizeof label);
        show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
        return bad_row(s, rec->line, SGS_IMPORT_BAD_CUSTOMER, err,
                       "customer id %s in %s: %s (customer ids must be integers)", shown, label,
                       reason);
    }

    k = s->time.index[0];
    int64_t time_s;
    if (sgs_import_parse_time(rec->fields[k], rec->length[k], s->opt->time_format, &time_s,
                              &reason)) {
        column_label(s, s->header_names[1], k, label, sizeof label);
        show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
        return bad_row(s, rec->line, SGS_IMPORT_BAD_TIME, err, "time %s in %s: %s", shown, label,
                       reason);
    }

    double amount = 1.0;
    for (int f = 0; f < s->amount.n_factors; f++) {
        double v;
        k = s->amount.index[f];
        if (sgs_import_parse_double(rec->fields[k], rec->length[k], &v, &reason)) {
            column_label(s, s->header_names[2 + f], k, label, sizeof label);
            show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
            return bad_row(s, rec->line, SGS_IMPORT_BAD_AMOUNT, err, "%s %s in %s: %s",
                           s->amount.n_factors == 2 ? "amount factor" : "amount", shown, label,
                           reason);
        }
        amount = f == 0 ? v : amount * v;
    }
    if (!isfinite(amount))
        return bad_row(s, rec->line, SGS_IMPORT_BAD_AMOUNT, err,
                       "amount product outside the range of a double");

    uint8_t channel = 0;
    if (s->channel.present) {
        k = s->channel.index[0];
        if (sgs__import_parse_channel(rec->fields[k], rec->length[k], &channel, &reason)) {
            column_label(s, s->header_names[4], k, label, sizeof label);
            show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
            return bad_row(s, rec->line, SGS_IMPORT_BAD_CHANNEL, err, "channel %s in %s: %s", shown,
                           label, reason);
        }
    }
    int32_t category = -1;
    if (s->category.present) {
        k = s->category.index[0];
        if (sgs__import_parse_category(rec->fields[k], rec->length[k], &category, &reason)) {
            column_label(s, NULL, k, label, sizeof label);
            show_field(shown, sizeof shown, rec->fields[k], rec->length[k]);
            return bad_row(s, rec->line, SGS_IMPORT_BAD_CATEGORY, err, "category %s in %s: %s",
                           shown, label, reason);
        }
    }

    /* queue the row */
    batch_t *b = &s->batch[s->fill];
    size_t r = b->n++;
    b->customer[r] = customer;
    b->time_s[r] = time_s;
    b->amount[r] = amount;
    if (b->channel)
        b->channel[r] = channel;
    if (b->category)
        b->category[r] = category;
    if (st->n_imported == 0 || time_s < st->min_time_s)
        st->min_time_s = time_s;
    if (st->n_imported == 0 || time_s > st->max_time_s)
        st->max_time_s = time_s;
    st->n_imported++;
    st->n_refunds += amount < 0;
    st->n_zero_amount += amount == 0;
    return b->n == s->batch_rows ? hand_off(s, err) : SGS_OK;
}

/* Base name of a path, for the "source" attribute. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Create the output columns in the temporary file. */
static int create_columns(import_state_t *s, const char *temp_path, sgs_error_t *err)
{
    sgs_h5_quiet(); /* failures are reported through err, in one line */
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0)
        s->h5 = H5Fcreate(temp_path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (s->h5 < 0)
        return sgs_error_set(err, SGS_ECANTCREAT, "cannot create HDF5 file %s", temp_path);
    size_t chunk = s->batch_rows;
    int level = s->opt->deflate_level;
    int rc = sgs_h5_appender_create(s->h5, "/transactions/customer_id", SGS_H5_I64, chunk, level,
                                    &s->a_customer, err);
    if (!rc)
        rc = sgs_h5_appender_create(s->h5, "/transactions/time", SGS_H5_I64, chunk, level,
                                    &s->a_time, err);
    if (!rc)
        rc = sgs_h5_appender_create(s->h5, "/transactions/amount", SGS_H5_F64, chunk, level,
                                    &s->a_amount, err);
    if (!rc && s->channel.present)
        rc = sgs_h5_appender_create(s->h5, "/transactions/channel", SGS_H5_U8, chunk, level,
                                    &s->a_channel, err);
    if (!rc && s->category.present)
        rc = sgs_h5_appender_create(s->h5, "/transactions/category", SGS_H5_I32, chunk, level,
                                    &s->a_category, err);
    return rc;
}

/* Close the columns (flushing; the writer has stopped), write the attributes that
 * explain the file. */
static int finish_columns(import_state_t *s, const char *in_path, sgs_error_t *err)
{
    int rc = SGS_OK;
    int rc2 = sgs_h5_appender_close(s->a_customer, rc ? NULL : err);
    rc = rc ? rc : rc2;
    rc2 = sgs_h5_appender_close(s->a_time, rc ? NULL : err);
    rc = rc ? rc : rc2;
    rc2 = sgs_h5_appender_close(s->a_amount, rc ? NULL : err);
    rc = rc ? rc : rc2;
    rc2 = sgs_h5_appender_close(s->a_channel, rc ? NULL : err);
    rc = rc ? rc : rc2;
    rc2 = sgs_h5_appender_close(s->a_category, rc ? NULL : err);
    rc = rc ? rc : rc2;
    s->a_customer = s->a_time = s->a_amount = s->a_channel = s->a_category = NULL;
    if (rc)
        return rc;
    const char *source = s->opt->source_name ? s->opt->source_name : base_name(in_path);
    rc = sgs_h5_attr_string(s->h5, "/transactions", "source", source, err);
    if (!rc)
        rc = sgs_h5_attr_string(s->h5, "/transactions", "imported_by",
                                "segscore import " SGS_VERSION, err);
    if (!rc)
        rc = sgs_h5_attr_string(s->h5, "/transactions/time", "unit", "Unix seconds, UTC", err);
    if (!rc)
        rc = sgs_h5_attr_string(s->h5, "/transactions/amount", "meaning",
                                "value of the transaction; negative is a refund", err);
    if (!rc && s->channel.present)
        rc = sgs_h5_attr_string(s->h5, "/transactions/channel", "codes",
                                "0 unknown, 1 store, 2 web, 3 app, 4 phone, 5 email, 6 sms, "
                                "7 mail",
                                err);
    return rc;
}

/* The first record decides the header (see sgs_import_header_t). */
static int looks_like_header(const sgs_csv_record_t *rec, const char *customer_spec)
{
    /* positions only: the first alternative of the customer reference */
    size_t p = (size_t)strtoul(customer_spec, NULL, 10);
    if (p < 1 || p > rec->n_fields)
        return 0;
    const char *f = rec->fields[p - 1];
    size_t len = rec->length[p - 1];
    int64_t ignored;
    const char *reason;
    return !is_missing(f, len) && sgs_import_parse_int64(f, len, &ignored, &reason) != SGS_OK;
}

int sgs_csv_import(const char *in_path, const char *out_path, const sgs_import_options_t *opt,
                   sgs_import_stats_t *stats, sgs_error_t *err)
{
    sgs_import_stats_t local_stats;
    if (!stats)
        stats = &local_stats;
    memset(stats, 0, sizeof *stats);
    import_state_t s;
    memset(&s, 0, sizeof s);
    s.opt = opt;
    s.stats = stats;
    s.h5 = -1;
    sgs_csv_reader_t *reader = NULL;
    sgs_atomic_t atomic = {{0}, {0}};
    int rc;

    /* Numbers are read in the C locale whatever the process set (per thread). */
    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old_locale = c_locale ? uselocale(c_locale) : (locale_t)0;

    if (!opt->customer || !opt->time || !opt->amount) {
        rc = sgs_error_set(err, SGS_EUSAGE,
                           "the customer, time and amount columns are all "
                           "required (--customer, --time, --amount)");
        goto cleanup;
    }
    const sgs_named_path_t inputs[] = {{"input", in_path}}, outputs[] = {{"output", out_path}};
    rc = sgs_output_paths_check(inputs, 1, outputs, 1, err);
    if (rc)
        goto cleanup;

    sgs_csv_options_t copt = {
        .mode = opt->mode, .delimiter = opt->delimiter, .buffer_bytes = opt->buffer_bytes};
    rc = sgs_csv_open(in_path, &copt, &reader, err);
    if (rc)
        goto cleanup;
    s.file = sgs_csv_name(reader);

    /* the first record: header or data */
    sgs_csv_record_t rec;
    rc = sgs_csv_next(reader, &rec, err);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = sgs_error_set(err, SGS_EDATA, "%s: no records (the file is empty)", s.file);
        goto cleanup;
    }
    int names = sgs__import_spec_has_names(opt->customer) ||
                sgs__import_spec_has_names(opt->time) || sgs__import_spec_has_names(opt->amount) ||
                (opt->channel && sgs__import_spec_has_names(opt->channel)) ||
                (opt->category && sgs__import_spec_has_names(opt->category));
    switch (opt->header) {
    case SGS_IMPORT_HEADER_YES:
        s.has_header = 1;
        break;
    case SGS_IMPORT_HEADER_NO:
        s.has_header = 0;
        break;
    default:
        s.has_header = names || looks_like_header(&rec, opt->customer);
        break;
    }
    header_view_t h = {s.has_header ? rec.fields : NULL, rec.length, rec.n_fields};
    rc = sgs__import_resolve_ref(&h, "--customer", opt->customer, 0, s.file, &s.customer, err);
    if (!rc)
        rc = sgs__import_resolve_ref(&h, "--time", opt->time, 0, s.file, &s.time, err);
    if (!rc)
        rc = sgs__import_resolve_ref(&h, "--amount", opt->amount, 1, s.file, &s.amount, err);
    if (!rc)
        rc = sgs__import_resolve_ref(&h, "--channel", opt->channel, 0, s.file, &s.channel, err);
    if (!rc)
        rc = sgs__import_resolve_ref(&h, "--category", opt->category, 0, s.file, &s.category, err);
    if (rc)
        goto cleanup;
    sgs__import_describe_ref(stats->mapping, sizeof stats->mapping, "customer_id", &s.customer, &h);
    sgs__import_describe_ref(stats->mapping, sizeof stats->mapping, "time", &s.time, &h);
    sgs__import_describe_ref(stats->mapping, sizeof stats->mapping, "amount", &s.amount, &h);
    sgs__import_describe_ref(stats->mapping, sizeof stats->mapping, "channel", &s.channel, &h);
    sgs__import_describe_ref(stats->mapping, sizeof stats->mapping, "category", &s.category, &h);
    if (s.has_header) {
        const column_ref_t *refs[5] = {&s.customer, &s.time, &s.amount, &s.amount, &s.channel};
        const int factor[5] = {0, 0, 0, 1, 0};
        for (int q = 0; q < 5; q++) {
            if (!refs[q]->present || factor[q] >= refs[q]->n_factors)
                continue;
            size_t k = refs[q]->index[factor[q]];
            snprintf(s.header_names[q], sizeof s.header_names[q], "%.*s",
                     (int)(rec.length[k] < 60 ? rec.length[k] : 60), rec.fields[k]);
        }
    }
    s.expected_fields = rec.n_fields;
    s.expected_from_line = rec.line;
    stats->header_line = s.has_header ? rec.line : 0;

    /* buffers and the output */
    s.batch_rows = opt->chunk_rows ? opt->chunk_rows : DEFAULT_CHUNK_ROWS;
    int alloc_ok = sgs__id_set_init(&s.customers, 1024) == SGS_OK;
    for (int q = 0; q < 2; q++) {
        batch_t *b = &s.batch[q];
        b->customer = sgs_alloc_array(s.batch_rows, sizeof *b->customer);
        b->time_s = sgs_alloc_array(s.batch_rows, sizeof *b->time_s);
        b->amount = sgs_alloc_array(s.batch_rows, sizeof *b->amount);
        if (s.channel.present)
            b->channel = sgs_alloc_array(s.batch_rows, sizeof *b->channel);
        if (s.category.present)
            b->category = sgs_alloc_array(s.batch_rows, sizeof *b->category);
        alloc_ok = alloc_ok && b->customer && b->time_s && b->amount &&
                   (!s.channel.present || b->channel) && (!s.category.present || b->category);
    }
    if (!alloc_ok) {
        rc = sgs_error_set(err, SGS_ENOMEM, "out of memory for the import buffers");
        goto cleanup;
    }
    rc = sgs_atomic_begin(out_path, &atomic, err);
    if (rc)
        goto cleanup;
    rc = create_columns(&s, atomic.temp_path, err);
    if (rc)
        goto cleanup;
    s.threaded = opt->n_threads != 1;
    writer_start(&s);

    /* the rows */
    if (!s.has_header) {
        rc = import_record(&s, &rec, err);
        if (rc)
            goto cleanup;
    }
    for (uint64_t n_records = 1;; n_records++) {
        if (opt->stop && n_records % STOP_CHECK_EVERY_RECORDS == 0) {
            rc = opt->stop(opt->stop_ctx, err);
            if (rc)
                goto cleanup;
        }
        rc = sgs_csv_next(reader, &rec, err);
        if (rc == 0)
            break;
        if (rc < 0)
            goto cleanup;
        rc = import_record(&s, &rec, err);
        if (rc)
            goto cleanup;
        if (opt->progress && stats->n_rows_read % PROGRESS_EVERY_ROWS == 0)
            opt->progress(opt->progress_ctx, "import", (size_t)sgs_csv_bytes_read(reader),
                          (size_t)sgs_csv_total_bytes(reader));
    }
    stats->bytes_read = sgs_csv_bytes_read(reader);
    if (opt->progress)
        opt->progress(opt->progress_ctx, "import", (size_t)stats->bytes_read,
                      (size_t)sgs_csv_total_bytes(reader));
    if (stats->n_imported == 0) {
        uint64_t skipped = 0;
        for (int q = 0; q < SGS_IMPORT_N_REASONS; q++)
            skipped += stats->n_skipped[q];
        rc =
            sgs_error_set(err, SGS_EDATA,
                          "%s: no rows imported (%llu rows read, %llu without customer id, "
                          "%llu bad)",
                          s.file, (unsigned long long)stats->n_rows_read,
                          (unsigned long long)stats->n_skipped[SGS_IMPORT_NO_CUSTOMER],
                          (unsigned long long)(skipped - stats->n_skipped[SGS_IMPORT_NO_CUSTOMER]));
        goto cleanup;
    }
    rc = hand_off(&s, err); /* the last, partial batch */
    if (!rc)
        rc = writer_finish(&s, err);
    if (!rc)
        rc = finish_columns(&s, in_path, err);
    if (!rc) {
        rc = sgs_h5_finish_output(s.h5, rc, err);
        s.h5 = -1;
    }
    if (rc == SGS_EIO)
        sgs_error_prefix(err, "writing %s", out_path);
    if (!rc && opt->stop) /* the last point where the import can step back */
        rc = opt->stop(opt->stop_ctx, err);
    if (rc)
        goto cleanup;
    rc = sgs_atomic_commit(&atomic, err);

cleanup:
    if (rc == SGS_ENOSPACE && atomic.temp_path[0]) /* "<temporary>: no space left on device" */
        sgs_error_rename(err, atomic.temp_path, out_path);
    if (reader && !stats->bytes_read)
        stats->bytes_read = sgs_csv_bytes_read(reader);
    (void)writer_finish(&s, NULL);
    for (int q = 0; q < 2; q++) /* rows queued when a later row failed */
        if (s.batch[q].n && s.customers.keys)
            (void)sgs__id_set_add_many(&s.customers, s.batch[q].customer, s.batch[q].n);
    stats->n_customers = s.customers.n;
    sgs_h5_appender_close(s.a_customer, NULL);
    sgs_h5_appender_close(s.a_time, NULL);
    sgs_h5_appender_close(s.a_amount, NULL);
    sgs_h5_appender_close(s.a_channel, NULL);
    sgs_h5_appender_close(s.a_category, NULL);
    if (s.h5 >= 0)
        sgs_h5_finish_output(s.h5, rc, NULL);
    if (rc)
        sgs_atomic_abort(&atomic);
    sgs_csv_close(reader);
    for (int q = 0; q < 2; q++) {
        sgs_free(s.batch[q].customer);
        sgs_free(s.batch[q].time_s);
        sgs_free(s.batch[q].amount);
        sgs_free(s.batch[q].channel);
        sgs_free(s.batch[q].category);
    }
    sgs__id_set_free(&s.customers);
    if (c_locale) {
        uselocale(old_locale);
        freelocale(c_locale);
    }
    return rc;
}
