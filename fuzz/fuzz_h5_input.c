/*
 * fuzz/fuzz_h5_input.c — libFuzzer target for the HDF5 input reader (io/h5_input.h).
 *
 * Input: the bytes of an HDF5 file. They are written to a file in memory (fuzz_support.h:
 * io/h5_input.h opens paths, and the hostile-file work owns the reader's files, so no
 * file-image entry point is added to them) and the reader runs on it as `segscore inspect`
 * and `segscore run` would:
 *
 *   C. inspect's mode: a problem callback (every problem reported, reading goes on) with an
 *      as-of and 2-row chunks, then the object listing. When the file cannot be opened at
 *      all, that is the end;
 *   A. /transactions, /events and /customers with 2 threads and 3-row chunks (the chunk
 *      loop turns many times);
 *   B. the same with 1 thread and the default chunk. h5_input.h promises that outputs,
 *      stats and the first problem do not depend on threads or chunk_rows, so A and B must
 *      agree on the return code, the message, every column and every statistic.
 *
 * Properties beyond "no crash, no leak, no undefined behaviour": A == B as above; on
 * success the columns keep the promises of h5_input.h and kernels/tables.h (amounts
 * finite, times in [0, now + 1 day] or before the as-of end, event kinds 1..8, referrers
 * -1 or a known customer); a failed read sets an error message naming the file; every
 * HDF5 object is closed afterwards (a leaked file id would also make the next input read
 * stale data from HDF5's open-file cache).
 *
 * "Now" is fixed, so that a crash reproduces on any day.
 */
#include "fuzz/fuzz_support.h"
#include "io/h5_input.h"
#include "io/h5_objects.h"

#include <hdf5.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_S INT64_C(1893456000)   /* 2030-01-01T00:00:00Z */
#define AS_OF_S INT64_C(1719792000) /* 2024-07-01T00:00:00Z, the as-of end of pass C */
#define DAY_S INT64_C(86400)

static sgs_fuzz_file_t file = {-1, ""};
static int verbose; /* SGS_FUZZ_VERBOSE=1: print what each read returned */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the readers report through sgs_error_t */
    /* Let HDF5 keep what it frees for reuse, without limits: every file open allocates
     * and clears its metadata cache (about a megabyte), which under ASan is a fresh mmap,
     * page faults and a TLB flush each time; reused, it is a memset. This halves the time
     * of an input. (HDF5 itself is not instrumented, so nothing is hidden from ASan.) Once
     * the lists hold what the largest input needed, an input frees what it allocates, so
     * libFuzzer's per-input leak check (run when mallocs outnumber frees) stays quiet; the
     * lists are not emptied after each input (H5garbage_collect), which cost a third more. */
    H5set_free_list_limits(-1, -1, -1, -1, -1, -1);
    const char *v = getenv("SGS_FUZZ_VERBOSE");
    verbose = v && *v && strcmp(v, "0") != 0;
    return 0;
}

/* ---- Comparing two reads -------------------------------------------------------------
 * The first disagreement between passes A and B is written to `disagreement` and the
 * comparison stops there. */

static char disagreement[1024];
#define DISAGREE(...) (snprintf(disagreement, sizeof disagreement, __VA_ARGS__), 1)

static int same_column(const void *a, const void *b, size_t n, size_t elem, const char *what)
{
    if ((a == NULL) != (b == NULL))
        return DISAGREE("%s: present in one read only", what);
    if (!a || n == 0 || memcmp(a, b, n * elem) == 0)
        return 0;
    size_t i = 0;
    while (memcmp((const char *)a + i * elem, (const char *)b + i * elem, elem) == 0)
        i++;
    uint64_t va = 0, vb = 0; /* the element's bytes, little-endian */
    memcpy(&va, (const char *)a + i * elem, elem < 8 ? elem : 8);
    memcpy(&vb, (const char *)b + i * elem, elem < 8 ? elem : 8);
    return DISAGREE("%s: row %zu of %zu differs: 0x%llx (3-row chunks, 2 threads), 0x%llx "
                    "(default)",
                    what, i, n, (unsigned long long)va, (unsigned long long)vb);
}

static int same_result(int rc_a, const sgs_error_t *ea, int rc_b, const sgs_error_t *eb,
                       const char *what)
{
    if (rc_a != rc_b)
        return DISAGREE("%s: rc %d with 3-row chunks and 2 threads, %d by default: %s / %s", what,
                        rc_a, rc_b, ea->message, eb->message);
    if (rc_a && strcmp(ea->message, eb->message) != 0)
        return DISAGREE("%s: first problem differs:\n  %s\n  %s", what, ea->message, eb->message);
    return 0;
}

static int same_stats(const sgs_read_stats_t *a, const sgs_read_stats_t *b, const char *what)
{
    if (memcmp(a, b, sizeof *a) == 0)
        return 0;
    return DISAGREE("%s: stats differ (rows %zu/%zu, sorted %d/%d, hash %016llx/%016llx)", what,
                    a->n_rows_in_file, b->n_rows_in_file, a->sorted_by_customer,
                    b->sorted_by_customer, (unsigned long long)a->content_hash64,
                    (unsigned long long)b->content_hash64);
}

/* A failed read names the file it read (h5_input.h: "<file>: <dataset>: ..."). */
static void names_file(int rc, const sgs_error_t *err, const char *path, const char *what)
{
    if (rc)
        SGS_FUZZ_CHECK(rc < 0 && strstr(err->message, path) != NULL,
                       "%s: rc %d with message \"%s\"", what, rc, err->message);
}

/* ---- Promises on what was read --------------------------------------------------------- */

static void check_times(const int64_t *t, size_t n, const sgs_read_options_t *opt, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        SGS_FUZZ_CHECK(t[i] >= 0, "%s: row %zu time %lld before 1970", what, i, (long long)t[i]);
        if (opt->has_as_of)
            SGS_FUZZ_CHECK(t[i] < opt->as_of_end_s, "%s: row %zu kept after the as-of", what, i);
        else
            SGS_FUZZ_CHECK(t[i] <= opt->now_s + DAY_S, "%s: row %zu in the future", what, i);
    }
}

static void check_transactions(const sgs_transactions_t *tx, const sgs_read_stats_t *st,
                               const sgs_read_options_t *opt)
{
    SGS_FUZZ_CHECK(tx->n_rows > 0 && tx->n_rows + st->n_rows_after_as_of == st->n_rows_in_file,
                   "transactions: %zu kept + %zu after the as-of != %zu in the file", tx->n_rows,
                   st->n_rows_after_as_of, st->n_rows_in_file);
    for (size_t i = 0; i < tx->n_rows; i++)
        SGS_FUZZ_CHECK(isfinite(tx->amount[i]), "transactions: row %zu amount %g", i,
                       tx->amount[i]);
    check_times(tx->time_s, tx->n_rows, opt, "transactions");
    int sorted = 1;
    for (size_t i = 1; i < tx->n_rows && sorted; i++)
        sorted =
            tx->customer_id[i - 1] < tx->customer_id[i] ||
            (tx->customer_id[i - 1] == tx->customer_id[i] && tx->time_s[i - 1] <= tx->time_s[i]);
    SGS_FUZZ_CHECK(sorted == st->sorted_by_customer, "transactions: sorted %d, stats say %d",
                   sorted, st->sorted_by_customer);
}

static void check_events(const sgs_events_t *ev, const sgs_read_options_t *opt)
{
    for (size_t i = 0; i < ev->n_rows; i++)
        SGS_FUZZ_CHECK(ev->kind[i] >= 1 && ev->kind[i] <= 8, "events: row %zu kind %u", i,
                       ev->kind[i]);
    check_times(ev->time_s, ev->n_rows, opt, "events");
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

static void check_customers(const sgs_customers_t *cu)
{
    if (cu->n_rows == 0)
        return;
    int64_t *ids = malloc(cu->n_rows * sizeof *ids);
    SGS_FUZZ_CHECK(ids != NULL, "out of memory in the harness");
    memcpy(ids, cu->customer_id, cu->n_rows * sizeof *ids);
    qsort(ids, cu->n_rows, sizeof *ids, cmp_i64);
    for (size_t i = 1; i < cu->n_rows; i++)
        SGS_FUZZ_CHECK(ids[i - 1] != ids[i], "customers: id %lld twice", (long long)ids[i]);
    for (size_t i = 0; i < cu->n_rows; i++) {
        if (cu->signup_time_s)
            SGS_FUZZ_CHECK(cu->signup_time_s[i] >= 0, "customers: row %zu signup before 1970", i);
        if (cu->referrer_id && cu->referrer_id[i] != -1)
            SGS_FUZZ_CHECK(bsearch(&cu->referrer_id[i], ids, cu->n_rows, sizeof *ids, cmp_i64),
                           "customers: row %zu referrer %lld unknown", i,
                           (long long)cu->referrer_id[i]);
    }
    free(ids);
}

/* ---- Passes A and B --------------------------------------------------------------------- */

typedef struct pass {
    sgs_read_options_t opt;
    sgs_transactions_t tx;
    sgs_read_stats_t tx_stats;
    sgs_error_t tx_err;
    int tx_rc;
    sgs_events_t ev;
    sgs_read_stats_t ev_stats;
    sgs_error_t ev_err;
    int ev_rc, ev_present;
    sgs_customers_t cu;
    sgs_error_t cu_err;
    int cu_rc, cu_present;
} pass_t;

static void read_all(const char *path, int n_threads, size_t chunk_rows, pass_t *p)
{
    memset(p, 0, sizeof *p);
    sgs_read_options_init(&p->opt);
    p->opt.now_s = NOW_S;
    p->opt.n_threads = n_threads;
    p->opt.chunk_rows = chunk_rows;
    p->tx_rc = sgs_h5_read_transactions(path, &p->opt, &p->tx, &p->tx_stats, &p->tx_err);
    names_file(p->tx_rc, &p->tx_err, path, "transactions");
    p->ev_rc = sgs_h5_read_events(path, &p->opt, &p->ev, &p->ev_present, &p->ev_stats, &p->ev_err);
    names_file(p->ev_rc, &p->ev_err, path, "events");
    p->cu_rc = sgs_h5_read_customers_opt(path, &p->opt, &p->cu, &p->cu_present, &p->cu_err);
    names_file(p->cu_rc, &p->cu_err, path, "customers");
}

static void show_pass(const pass_t *p, const char *name)
{
    fprintf(stderr, "pass %s: transactions rc %d %zu rows %s\n", name, p->tx_rc, p->tx.n_rows,
            p->tx_err.message);
    fprintf(stderr, "pass %s: events rc %d present %d %zu rows %s\n", name, p->ev_rc, p->ev_present,
            p->ev.n_rows, p->ev_err.message);
    fprintf(stderr, "pass %s: customers rc %d present %d %zu rows %s\n", name, p->cu_rc,
            p->cu_present, p->cu.n_rows, p->cu_err.message);
}

static void free_pass(pass_t *p)
{
    sgs_transactions_free(&p->tx);
    sgs_events_free(&p->ev);
    sgs_customers_free(&p->cu);
}

/* 0 when A and B agree (and A keeps its promises), else 1 with `disagreement` set. */
static int compare_passes(const pass_t *a, const pass_t *b)
{
    disagreement[0] = '\0';
    if (same_result(a->tx_rc, &a->tx_err, b->tx_rc, &b->tx_err, "transactions"))
        return 1;
    if (a->tx_rc == 0) {
        size_t n = a->tx.n_rows;
        if (n != b->tx.n_rows)
            return DISAGREE("transactions: %zu rows, %zu rows", n, b->tx.n_rows);
        if (same_column(a->tx.customer_id, b->tx.customer_id, n, 8, "transactions/customer_id") ||
            same_column(a->tx.time_s, b->tx.time_s, n, 8, "transactions/time") ||
            same_column(a->tx.amount, b->tx.amount, n, 8, "transactions/amount") ||
            same_column(a->tx.channel, b->tx.channel, n, 1, "transactions/channel") ||
            same_column(a->tx.category, b->tx.category, n, 4, "transactions/category") ||
            same_stats(&a->tx_stats, &b->tx_stats, "transactions"))
            return 1;
        check_transactions(&a->tx, &a->tx_stats, &a->opt);
    }
    if (same_result(a->ev_rc, &a->ev_err, b->ev_rc, &b->ev_err, "events"))
        return 1;
    if (a->ev_rc == 0) {
        size_t n = a->ev.n_rows;
        if (a->ev_present != b->ev_present || n != b->ev.n_rows)
            return DISAGREE("events: present %d/%d, %zu/%zu rows", a->ev_present, b->ev_present, n,
                            b->ev.n_rows);
        if (same_column(a->ev.customer_id, b->ev.customer_id, n, 8, "events/customer_id") ||
            same_column(a->ev.time_s, b->ev.time_s, n, 8, "events/time") ||
            same_column(a->ev.kind, b->ev.kind, n, 1, "events/kind") ||
            same_column(a->ev.value, b->ev.value, n, 8, "events/value") ||
            (a->ev_present && same_stats(&a->ev_stats, &b->ev_stats, "events")))
            return 1;
        check_events(&a->ev, &a->opt);
    }
    if (same_result(a->cu_rc, &a->cu_err, b->cu_rc, &b->cu_err, "customers"))
        return 1;
    if (a->cu_rc == 0) {
        size_t n = a->cu.n_rows;
        if (a->cu_present != b->cu_present || n != b->cu.n_rows)
            return DISAGREE("customers: present %d/%d, %zu/%zu rows", a->cu_present, b->cu_present,
                            n, b->cu.n_rows);
        if (same_column(a->cu.customer_id, b->cu.customer_id, n, 8, "customers/customer_id") ||
            same_column(a->cu.signup_time_s, b->cu.signup_time_s, n, 8, "customers/signup_time") ||
            same_column(a->cu.referrer_id, b->cu.referrer_id, n, 8, "customers/referrer_id") ||
            same_column(a->cu.preferred_channel, b->cu.preferred_channel, n, 1,
                        "customers/preferred_channel"))
            return 1;
        check_customers(&a->cu);
    }
    return 0;
}

/* ---- Pass C: inspect ------------------------------------------------------------------ */

typedef struct problems {
    size_t n;
    const char *path;
    int first_check; /* check of the first problem, -1 before one */
} problems_t;

static void on_problem(void *ctx, const sgs_input_problem_t *p)
{
    problems_t *seen = ctx;
    if (seen->n++ == 0)
        seen->first_check = (int)p->check;
    SGS_FUZZ_CHECK((int)p->check >= 0 && p->check < SGS_CHECK_COUNT, "problem check %d",
                   (int)p->check);
    SGS_FUZZ_CHECK(p->code < 0 && p->dataset && p->message &&
                       strstr(p->message, seen->path) != NULL,
                   "problem %s: code %d, message \"%s\"", sgs_input_check_name(p->check), p->code,
                   p->message ? p->message : "(null)");
}

/* Returns 1 when the file could not be opened at all (the first problem is at the file
 * level): every other read would stop at the same place. */
static int inspect(const char *path)
{
    problems_t seen = {0, path, -1};
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.now_s = NOW_S;
    opt.has_as_of = 1;
    opt.as_of_end_s = AS_OF_S;
    opt.chunk_rows = 2;
    opt.problem = on_problem;
    opt.problem_ctx = &seen;
    sgs_error_t err = {0, ""};
    sgs_transactions_t tx;
    sgs_read_stats_t stats;
    int rc = sgs_h5_read_transactions(path, &opt, &tx, &stats, &err);
    SGS_FUZZ_CHECK(rc == 0 || seen.n > 0 || rc == SGS_ENOMEM,
                   "inspect: transactions rc %d without a problem reported: %s", rc, err.message);
    sgs_transactions_free(&tx);
    if (seen.first_check == SGS_CHECK_FILE)
        return 1;
    sgs_events_t ev;
    int present;
    (void)sgs_h5_read_events(path, &opt, &ev, &present, &stats, &err);
    sgs_events_free(&ev);
    sgs_customers_t cu;
    (void)sgs_h5_read_customers_opt(path, &opt, &cu, &present, &err);
    sgs_customers_free(&cu);

    sgs_h5_object_info_t *objects = NULL;
    size_t n_objects = 0;
    if (sgs_h5_list_objects(path, &objects, &n_objects, &err) == 0)
        for (size_t i = 0; i < n_objects; i++)
            SGS_FUZZ_CHECK(memchr(objects[i].path, '\0', sizeof objects[i].path) &&
                               memchr(objects[i].type, '\0', sizeof objects[i].type) &&
                               memchr(objects[i].filters, '\0', sizeof objects[i].filters),
                           "listing: object %zu has an unterminated string", i);
    sgs_free(objects);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = sgs_fuzz_file_set(&file, "fuzz.h5", data, size);
    /* C first: most mutants are not HDF5 files any more, and one read says so. (Every open
     * costs HDF5's metadata cache, about a megabyte to allocate and clear.) */
    if (!inspect(path)) {
        pass_t a, b;
        read_all(path, 2, 3, &a);
        read_all(path, 1, 0, &b);
        if (verbose) {
            show_pass(&a, "A");
            show_pass(&b, "B");
        }
        SGS_FUZZ_CHECK(!compare_passes(&a, &b), "passes A and B disagree: %s", disagreement);
        free_pass(&a);
        free_pass(&b);
    }
    ssize_t open_ids = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
    SGS_FUZZ_CHECK(open_ids == 0, "%zd HDF5 objects left open after the reads", open_ids);
    return 0;
}
