/*
 * tests/mpi/test_dist_run.c — `segscore run` spread over the processes (engine/dist_run.h,
 * docs/mpi.md), under mpirun with 1 to 4 processes: on a generated base of 40,000 customers
 * with events, prospects and referrals (cut at multiples of 16,384 customers: three blocks, so
 * that with 4 processes one at least owns none; on a copy where a fifth of them have refunds
 * only, the customers with a purchase, the rows of every output, are not cut at the blocks),
 * process 0 first runs the single-process run alone, then every process runs the spread run
 * into the same output paths; every dataset and attribute of results.h5 (h5diff: /stages,
 * /influence, /audit, /opportunities and /backtest/stages among them), every byte of
 * customers.csv, opportunities.csv, report.txt and report.html, and summary.json but its timings
 * and peak memory are the single-process run's (its "processes", each process's figures, checked
 * on their own: they add up to the base's), for several configurations, the actions step in
 * all but one (stages at a compare day, every opportunity listed, channel capacities, what
 * changed since an earlier run, no opportunity kind at all: an empty list; every model fit
 * stopped by value.fit_time_limit, which process 0's clock decides for all). A bad row in the last
 * process's share of /transactions, and one of /events (read by the actions step), fails every
 * process with the single-process message named by that process and exit status 65, the
 * previous outputs intact and no generation left; so do the last process's allocations failing
 * from the n-th on, over the whole run and within the actions step (71). A run that learns from
 * a measurement (actions.learn_from: values scaled, channels avoided per kind and per RFM
 * segment) and one with compressed results (output.compression) equal one process's too; a
 * measurement missing, not a measurement or of outcomes after the as-of date fails every
 * process with the single-process message and exit status, named by process 0.
 */
#define _GNU_SOURCE /* fopencookie: the progress lines watched as they are written */

#include "engine/config.h"
#include "engine/exit_status.h"
#include "engine/measure.h"
#include "engine/run.h"
#include "kernels/opportunities.h"
#include "kernels/tables.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N_CUSTOMERS 40000

static char dir[512], input[700], good_input[700], refunds_input[700];

static int setup(void **state)
{
    (void)state;
    sgs_test_mpi_tmpdir("dist_run", dir, sizeof dir);
    snprintf(good_input, sizeof good_input, "%s/input.h5", dir);
    snprintf(refunds_input, sizeof refunds_input, "%s/refunds.h5", dir);
    snprintf(input, sizeof input, "%s", good_input);
    sgs_test_mpi_generate(input, N_CUSTOMERS, 20261207, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_mpi_rmdir(dir);
    return 0;
}

/* One quiet run of the current input (tests/support/test_mpi.h sgs_test_mpi_run_settings). */
static int run(const char *results, const char *const *settings, int spread, sgs_error_t *err)
{
    sgs_progress_t progress;
    return sgs_test_mpi_run_settings(input, results, settings, spread, NULL, &progress, err);
}

/* A copy of the input where every row of the customers whose id is 2 modulo 5 is a refund:
 * they are left out as customers without a purchase, so that the rows of every output (the
 * customers with one) are no longer cut at the processes' blocks of customers. */
static void make_refunds_input(void)
{
    if (sgs_test_world.rank == 0) {
        sgs_test_copy_file(good_input, refunds_input);
        hid_t f = H5Fopen(refunds_input, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        hid_t did = H5Dopen2(f, "/transactions/customer_id", H5P_DEFAULT);
        hid_t dam = H5Dopen2(f, "/transactions/amount", H5P_DEFAULT);
        assert_true(did >= 0 && dam >= 0);
        hid_t space = H5Dget_space(dam);
        hsize_t n = 0;
        H5Sget_simple_extent_dims(space, &n, NULL);
        int64_t *id = malloc(n * sizeof *id);
        double *amount = malloc(n * sizeof *amount);
        assert_true(id && amount);
        assert_true(H5Dread(did, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, id) >= 0);
        assert_true(H5Dread(dam, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, amount) >= 0);
        for (hsize_t i = 0; i < n; i++)
            if (id[i] % 5 == 2)
                amount[i] = -fabs(amount[i]) - 1.0;
        assert_true(H5Dwrite(dam, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, amount) >= 0);
        free(id);
        free(amount);
        H5Sclose(space);
        H5Dclose(did);
        H5Dclose(dam);
        H5Fclose(f);
    }
    sgs_test_mpi_wait();
}

/* summary.json without what depends on the run's clock and memory, and without the list of
 * steps: one process writes the customer outputs right after the segment step (its step
 * `write customers`, so that their columns are freed before the actions step), a spread run
 * writes every output at the end. */
/* What the actions step put in the single-process outputs of the last comparison (process 0):
 * so that the comparison compares something. The stages of every customer of the combined
 * index (prospects too), the audit, referrals, and a list of opportunities whose rows are those
 * of opportunities.csv. */
static void expect_actions_outputs(void)
{
    if (sgs_test_world.rank != 0)
        return;
    double customers =
        sgs_test_mpi_ref_number(dir, (const char *const[]){"stages", "customers", NULL});
    double buyers =
        sgs_test_mpi_ref_number(dir, (const char *const[]){"customers", "with_purchases", NULL});
    double listed =
        sgs_test_mpi_ref_number(dir, (const char *const[]){"opportunities", "listed", NULL});
    sgs_assert_cmp(customers, >, buyers);
    sgs_assert_cmp(listed, >, 1000.0);
    sgs_assert_cmp(
        sgs_test_mpi_ref_number(dir, (const char *const[]){"influence", "with_referrer", NULL}), >,
        0.0);
    sgs_assert_cmp(sgs_test_mpi_ref_number(
                       dir, (const char *const[]){"audit", "by_stage", "all", "customers", NULL}),
                   ==, customers);
    char path[700];
    snprintf(path, sizeof path, "%s/ref-opportunities.csv", dir);
    size_t n = 0, lines = 0;
    char *text = sgs_test_read_file(path, &n);
    for (size_t k = 0; k < n; k++)
        lines += text[k] == '\n';
    free(text);
    sgs_assert_cmp((double)lines, ==, listed + 1);
}

/* A spread run, as one process's, ends by naming the outputs it published: process 0 says
 * "wrote" and every path, among them results.h5's and customers.csv's. */
static void spread_run_says_what_it_wrote(void **state)
{
    (void)state;
    char folder[600], results[700], said[600];
    snprintf(folder, sizeof folder, "%s/said", dir);
    snprintf(results, sizeof results, "%s/results.h5", folder);
    snprintf(said, sizeof said, "%s/said-%d.txt", dir, sgs_test_world.rank);
    if (sgs_test_world.rank == 0)
        (void)mkdir(folder, 0755);
    sgs_test_mpi_wait();
    FILE *out = fopen(said, "w");
    assert_non_null(out);
    sgs_progress_t progress;
    sgs_error_t err = {0};
    int rc = sgs_test_mpi_run_settings(input, results, NULL, 1, out, &progress, &err);
    fclose(out);
    if (rc != SGS_OK)
        fail_msg("spread run: %s", err.message);
    if (sgs_test_world.rank == 0) {
        size_t n = 0;
        char *text = sgs_test_read_file(said, &n);
        char *wrote = strstr(text, "wrote ");
        if (!wrote || !strstr(wrote, results) || !strstr(wrote, "/customers.csv") ||
            !strstr(wrote, "/summary.json"))
            fail_msg("process 0's progress does not name what it wrote:\n%s", text);
        free(text);
    }
    sgs_test_mpi_wait();
}

static void spread_run_equals_one_process(void **state)
{
    (void)state;
    static const char *const defaults[] = {NULL};
    sgs_test_mpi_compare_run(dir, input, "defaults", defaults);
    expect_actions_outputs();
    /* stages 120 days before the as-of day too (transitions, mean days in stage), one row per
     * opportunity that fires, channels filling up (phone, email) and one not allowed (sms); what
     * changed since the defaults' run (its summary.json kept aside: the reports' comparisons of
     * stages and opportunities) */
    static char previous[800];
    snprintf(previous, sizeof previous, "output.compare_summary=%s/previous-summary.json", dir);
    if (sgs_test_world.rank == 0) {
        char from[700];
        snprintf(from, sizeof from, "%s/ref-summary.json", dir);
        sgs_test_copy_file(from, strchr(previous, '=') + 1);
    }
    sgs_test_mpi_wait();
    const char *const list[] = {"stages.compare_as_of=2024-03-02",
                                "actions.all_opportunities=true",
                                "actions.capacity.phone=50",
                                "actions.capacity.email=2000",
                                "actions.capacity.sms=0",
                                previous,
                                NULL};
    sgs_test_mpi_compare_run(dir, input, "compare day, every opportunity, capacities", list);
    expect_actions_outputs();
    if (sgs_test_world.rank == 0) {
        const char *const phone[] = {"opportunities", "per_channel", "phone", "listed", NULL};
        const char *const email[] = {"opportunities", "per_channel", "email", "listed", NULL};
        const char *const left[] = {"opportunities", "left_out", NULL};
        const char *const stayed[] = {"stages", "transitions", "lapsed", "lapsed", NULL};
        sgs_assert_cmp(sgs_test_mpi_ref_number(dir, phone), ==, 50.0);
        sgs_assert_cmp(sgs_test_mpi_ref_number(dir, email), ==, 2000.0);
        sgs_assert_cmp(sgs_test_mpi_ref_number(dir, left), >, 0.0);
        sgs_assert_cmp(sgs_test_mpi_ref_number(dir, stayed), >, 0.0);
        const char *const since[] = {"since_previous", "listed", "previous", NULL};
        sgs_assert_cmp(sgs_test_mpi_ref_number(dir, since), >, 1000.0);
    }
    static const char *const no_actions[] = {"actions.enabled=false", NULL};
    sgs_test_mpi_compare_run(dir, input, "no actions step", no_actions);
    /* every kind of opportunity off: stages and the audit, an empty list (empty datasets) */
    static const char *const nothing_listed[] = {"actions.service_recovery.enabled=false",
                                                 "actions.renewal_at_risk.enabled=false",
                                                 "actions.win_back.enabled=false",
                                                 "actions.save_high_value.enabled=false",
                                                 "actions.overdue_reminder.enabled=false",
                                                 "actions.onboarding.enabled=false",
                                                 "actions.detractor_follow_up.enabled=false",
                                                 "actions.grow.enabled=false",
                                                 "actions.advocate.enabled=false",
                                                 NULL};
    sgs_test_mpi_compare_run(dir, input, "no opportunity kind: an empty list", nothing_listed);
    if (sgs_test_world.rank == 0) {
        const char *const listed[] = {"opportunities", "listed", NULL};
        const char *const staged[] = {"stages", "customers", NULL};
        sgs_assert_cmp(sgs_test_mpi_ref_number(dir, listed), ==, 0.0);
        sgs_assert_cmp(sgs_test_mpi_ref_number(dir, staged), >, (double)N_CUSTOMERS);
    }
    static const char *const weeks[] = {"time_unit=week",
                                        "value.model=mbgnbd",
                                        "value.backtest_sample=5000",
                                        "rfm.bins=4",
                                        "segments.k=4",
                                        "segments.scaling=standard",
                                        NULL};
    sgs_test_mpi_compare_run(dir, input, "weeks, mbgnbd, backtest sample, k 4, standard scaling",
                             weeks);
    static const char *const as_of[] = {"as_of=2023-12-31",
                                        "stages.compare_as_of=2023-09-30",
                                        "rfm.monetary=mean",
                                        "value.model=paretonbd",
                                        "segments.pca_components=3",
                                        "segments.min_share=0.15",
                                        NULL};
    sgs_test_mpi_compare_run(dir, input,
                             "as-of, mean monetary, paretonbd, PCA, small segments merged", as_of);
    static const char *const no_value[] = {
        "value.model=none", "segments.features=recency,frequency,monetary,tenure", NULL};
    sgs_test_mpi_compare_run(dir, input, "no value step", no_value);
    static const char *const no_segments[] = {"segments.enabled=false", "value.backtest=false",
                                              NULL};
    sgs_test_mpi_compare_run(dir, input, "no segment step, no backtest", no_segments);
    /* every fit stopped by its time limit at its first check, on process 0's clock for all the
     * processes (value.allow_unconverged: the run goes on with the fits as they stopped) */
    static const char *const timed_out[] = {"value.fit_time_limit=1e-9",
                                            "value.allow_unconverged=true", NULL};
    sgs_test_mpi_compare_run(dir, input, "every fit stopped by a time limit of 1 ns", timed_out);
    if (sgs_test_world.rank == 0) {
        char path[700];
        snprintf(path, sizeof path, "%s/ref-summary.json", dir);
        cJSON *j = sgs_test_read_json(path);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
        static const char *const fits[] = {"purchase_model", "spend_model"};
        for (size_t f = 0; f < 2; f++) {
            const cJSON *fit = cJSON_GetObjectItemCaseSensitive(v, fits[f]);
            const char *why =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fit, "stop_reason"));
            assert_non_null(why);
            assert_string_equal(why, "time_limit");
        }
        cJSON_Delete(j);
    }
    make_refunds_input();
    snprintf(input, sizeof input, "%s", refunds_input);
    sgs_test_mpi_compare_run(dir, input, "customers without a purchase: rows off the blocks",
                             defaults);
    if (sgs_test_world.rank == 0) { /* about a fifth of the customers left out */
        char path[700];
        snprintf(path, sizeof path, "%s/ref-summary.json", dir);
        char *text = sgs_test_read_file(path, NULL);
        cJSON *j = cJSON_Parse(text);
        const cJSON *left =
            cJSON_GetObjectItem(cJSON_GetObjectItem(j, "customers"), "no_purchase_left_out");
        assert_true(cJSON_IsNumber(left));
        sgs_assert_cmp(left->valuedouble, >, 0.15 * N_CUSTOMERS);
        cJSON_Delete(j);
        free(text);
    }
    sgs_test_mpi_compare_run(dir, input, "customers without a purchase, PCA, small segments merged",
                             as_of);
    snprintf(input, sizeof input, "%s", good_input);
}

/* A copy of the input whose last row of `dataset` is made `value` (of HDF5 memory type
 * `type`): a row of the last process's share (the shares are the 65,536-row hash blocks dealt in
 * order). */
static void make_bad_input(const char *path, const char *dataset, hid_t type, const void *value)
{
    if (sgs_test_world.rank == 0) {
        sgs_test_copy_file(input, path);
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
        assert_true(d >= 0);
        hid_t space = H5Dget_space(d);
        hsize_t n = 0, last, one = 1;
        H5Sget_simple_extent_dims(space, &n, NULL);
        last = n - 1;
        H5Sselect_hyperslab(space, H5S_SELECT_SET, &last, NULL, &one, NULL);
        hid_t mem = H5Screate_simple(1, &one, NULL);
        assert_true(H5Dwrite(d, type, mem, space, H5P_DEFAULT, value) >= 0);
        H5Sclose(mem);
        H5Sclose(space);
        H5Dclose(d);
        H5Fclose(f);
    }
    sgs_test_mpi_wait();
}

/* A run spread over the processes on a copy of the input whose last row of `dataset` is
 * `value`: it fails on every process with SGS_EDATA (exit 65), the single-process message (its
 * words naming the dataset, `words`) prefixed with the last process, the previous set (a good
 * spread run's) byte for byte and no generation left. */
static void bad_row_fails(const char *dataset, hid_t type, const void *value, const char *words)
{
    char results[700], bad[700], out[600];
    snprintf(results, sizeof results, "%s/out/results.h5", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    sgs_error_t err = {0}, one = {0};
    /* a good set first (spread), its folder's every entry kept */
    static const char *const none[] = {NULL};
    assert_int_equal(run(results, none, 1, &err), SGS_OK);
    sgs_test_mpi_wait();
    sgs_test_snapshot_t before = {0};
    if (sgs_test_world.rank == 0)
        sgs_test_snapshot(out, &before);
    make_bad_input(bad, dataset, type, value);

    snprintf(input, sizeof input, "%s", bad);
    if (sgs_test_world.rank == 0) /* one process's message */
        assert_int_equal(run(results, none, 0, &one), SGS_EDATA);
    sgs_test_mpi_wait();
    memset(&err, 0, sizeof err);
    int rc = run(results, none, 1, &err);
    snprintf(input, sizeof input, "%s", good_input);
    assert_int_equal(rc, SGS_EDATA);
    assert_int_equal(sgs_exit_status(rc), 65);
    sgs_assert_contains(err.message, words);
    if (sgs_test_world.rank == 0)
        sgs_assert_contains(err.message, one.message);
    if (sgs_test_world.size > 1) {
        char who[64];
        snprintf(who, sizeof who, "process %d of %d: ", sgs_test_world.size - 1,
                 sgs_test_world.size);
        sgs_assert_contains(err.message, who);
    }
    sgs_test_mpi_wait();
    if (sgs_test_world.rank == 0) { /* the set before, byte for byte; nothing left behind */
        sgs_test_assert_snapshot_unchanged(out, &before);
        sgs_test_snapshot_free(&before);
    }
    sgs_test_mpi_wait();
}

static void bad_row_fails_every_process(void **state)
{
    (void)state;
    const double nan = NAN;
    bad_row_fails("/transactions/amount", H5T_NATIVE_DOUBLE, &nan, "/transactions/amount");
}

/* The same for a row the actions step reads: an event of no known kind. */
static void bad_event_fails_every_process(void **state)
{
    (void)state;
    const uint8_t kind = 9;
    bad_row_fails("/events/kind", H5T_NATIVE_UINT8, &kind, "/events/kind");
}

/* The allocations counted at the end of the steps of a watched run (the last process's): the
 * progress lines are written through this stream as each step ends. */
static struct {
    const sgs_progress_t *progress;
    size_t n_seen;
    long actions_from, actions_to; /* after "write customers", after "opportunities" */
} watch;

static ssize_t watch_write(void *cookie, const char *buf, size_t size)
{
    (void)cookie;
    (void)buf;
    const sgs_progress_t *p = watch.progress;
    if (p && p->n_steps > watch.n_seen) {
        watch.n_seen = p->n_steps;
        const char *step = p->steps[p->n_steps - 1].name;
        if (strcmp(step, "write customers") == 0)
            watch.actions_from = sgs_test_allocations_granted();
        else if (strcmp(step, "opportunities") == 0)
            watch.actions_to = sgs_test_allocations_granted();
    }
    return (ssize_t)size;
}

/* The last process's allocations failing from the n-th on (the others allocating as they
 * please), for n at each fraction at[0..n_at) of a span of them: those of the whole run, or
 * those of the actions step alone (actions_step). A first run counts them, the last process's
 * progress watched for where the step begins and ends. Then for each n: every process returns
 * SGS_ENOMEM with the last process named, no process waits for ever, the previous set (out)
 * stays and no generation is left. */
static void out_of_memory_sweep(int actions_step, const double *at, size_t n_at)
{
    char results[700], out[600];
    snprintf(results, sizeof results, "%s/out/results.h5", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    static const char *const none[] = {NULL};
    const int last = sgs_test_world.size - 1;
    sgs_error_t err = {0};
    FILE *stream = NULL;
    sgs_progress_t progress;
    memset(&watch, 0, sizeof watch);
    if (sgs_test_world.rank == last) {
        stream = fopencookie(NULL, "w", (cookie_io_functions_t){.write = watch_write});
        assert_non_null(stream);
        assert_int_equal(setvbuf(stream, NULL, _IONBF, 0), 0); /* each line as it is written */
        watch.progress = &progress;
        sgs_test_fail_alloc_after(1L << 40); /* counts the run's allocations */
    }
    assert_int_equal(sgs_test_mpi_run_settings(input, results, none, 1, stream, &progress, &err),
                     SGS_OK);
    int64_t span[3] = {0, 0, 0}; /* the actions step's first and last, the run's total */
    if (sgs_test_world.rank == last) {
        span[0] = watch.actions_from;
        span[1] = watch.actions_to;
        span[2] = sgs_test_allocations_granted();
        fclose(stream);
    }
    sgs_test_fail_alloc_after(-1);
    sgs_dist_reduce_i64(&sgs_test_world, span, 3, SGS_DIST_SUM);
    print_message("process %d: %lld allocations, the actions step's from %lld to %lld\n", last,
                  (long long)span[2], (long long)span[0], (long long)span[1]);
    sgs_assert_cmp(span[2], >, 10);
    int64_t from = 0, to = span[2];
    if (actions_step) {
        sgs_assert_cmp(span[0], >, 0);
        sgs_assert_cmp(span[1], >, span[0] + 20); /* the step allocates (and was seen) */
        from = span[0];
        to = span[1];
    }

    sgs_test_snapshot_t before = {0};
    if (sgs_test_world.rank == 0)
        sgs_test_snapshot(out, &before);
    for (size_t t = 0; t < n_at; t++) {
        long n = (long)from + (long)(at[t] * (double)(to - from));
        if (sgs_test_world.rank == last) {
            print_message("allocations after %ld of %lld fail on process %d\n", n,
                          (long long)span[2], last);
            sgs_test_fail_alloc_after(n);
        }
        memset(&err, 0, sizeof err);
        int rc = run(results, none, 1, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc != SGS_ENOMEM)
            fail_msg("allocation %ld of %lld failing on process %d: code %d (%s)", n,
                     (long long)span[2], last, rc, err.message);
        if (sgs_test_world.size > 1) {
            char who[64];
            snprintf(who, sizeof who, "process %d of %d: ", last, sgs_test_world.size);
            sgs_assert_contains(err.message, who);
        }
        sgs_test_mpi_wait();
        if (sgs_test_world.rank == 0)
            sgs_test_assert_snapshot_unchanged(out, &before);
        sgs_test_mpi_wait();
    }
    sgs_test_snapshot_free(&before);
}

/* Each allocation of the last process failing at a few points of the run, from the first
 * allocation to the last few. */
static void out_of_memory_on_one_process_fails_all(void **state)
{
    (void)state;
    static const double at[] = {0.0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.999};
    out_of_memory_sweep(0, at, sizeof at / sizeof at[0]);
}

/* The same within the actions step. */
static void out_of_memory_in_the_actions_step_fails_all(void **state)
{
    (void)state;
    static const double at[] = {0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99};
    out_of_memory_sweep(1, at, sizeof at / sizeof at[0]);
}

/* ---- Learning from a measurement; compressed results -------------------------------------- */

static char measure_path[700], edited_path[700];

/* Rows of the measurement file f's columns <group>/<conclusive> and <group>/<hi> that `pick`
 * chose (pick[r] != 0) made conclusive with their whole interval below zero: a channel measured
 * to lose money. */
static void make_losing(hid_t f, const char *conclusive_path, const char *hi_path,
                        const uint8_t *pick, size_t n)
{
    size_t m = 0;
    uint8_t *conclusive = sgs_test_column(f, conclusive_path, SGS_H5_U8, &m);
    double *hi = sgs_test_column(f, hi_path, SGS_H5_F64, &m);
    assert_true(m == n);
    for (size_t r = 0; r < n; r++)
        if (pick[r]) {
            conclusive[r] = 1;
            hi[r] = -0.5;
        }
    hid_t d = H5Dopen2(f, conclusive_path, H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, conclusive), >=, 0);
    H5Dclose(d);
    d = H5Dopen2(f, hi_path, H5P_DEFAULT);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, hi), >=, 0);
    H5Dclose(d);
    sgs_free(conclusive);
    sgs_free(hi);
}

/* By process 0, as `segscore measure -o` makes it (engine/measure.h): the measurement of the
 * list of 2024-03-31 (the single-process run with every opportunity listed) over the 60 days
 * after it, at measure_path; and a copy at edited_path where win_back through email lost money
 * (a channel avoided for a kind) and so did the channel of the largest line of another kind in
 * one RFM segment (avoided for that segment's customers), so that rows move off avoided
 * channels. */
static void make_measurement(void)
{
    snprintf(measure_path, sizeof measure_path, "%s/measure.h5", dir);
    snprintf(edited_path, sizeof edited_path, "%s/measure-edited.h5", dir);
    if (sgs_test_world.rank == 0) {
        char list_dir[600], list[700];
        snprintf(list_dir, sizeof list_dir, "%s/list", dir);
        (void)mkdir(list_dir, 0755);
        snprintf(list, sizeof list, "%s/results.h5", list_dir);
        static const char *const at[] = {"as_of=2024-03-31", "actions.all_opportunities=true",
                                         NULL};
        sgs_error_t err = {0};
        if (run(list, at, 0, &err) != SGS_OK)
            fail_msg("the measured list: %s", err.message);
        sgs_progress_t progress;
        sgs_progress_init(&progress, stderr, 1);
        sgs_measure_request_t req = {.results_path = list,
                                     .input_path = input,
                                     .has_days = 1,
                                     .days = 60,
                                     .min_arm = 30,
                                     .n_threads = 1,
                                     .now_s = 1767225600,
                                     .progress = &progress};
        static sgs_measure_result_t res; /* large: not on the stack */
        if (sgs_measure(&req, &res, &err) != SGS_OK ||
            sgs_measure_write_h5(&res, &req, measure_path, measure_path, &err) != SGS_OK)
            fail_msg("measure: %s", err.message);
        sgs_test_copy_file(measure_path, edited_path);
        hid_t f = H5Fopen(edited_path, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        size_t n = 0;
        uint8_t *kind = sgs_test_column(f, "/lines/kind", SGS_H5_U8, &n);
        uint8_t *channel = sgs_test_column(f, "/lines/channel", SGS_H5_U8, &n);
        uint8_t *pick = calloc(n ? n : 1, 1);
        size_t found = 0;
        for (size_t r = 0; r < n; r++)
            found += pick[r] = kind[r] == SGS_OPP_WIN_BACK && channel[r] == SGS_CHANNEL_EMAIL;
        sgs_assert_cmp(found, ==, 1);
        make_losing(f, "/lines/revenue_per_customer/conclusive", "/lines/revenue_per_customer/hi",
                    pick, n);
        sgs_free(kind);
        sgs_free(channel);
        free(pick);
        kind = sgs_test_column(f, "/segment_lines/kind", SGS_H5_U8, &n);
        channel = sgs_test_column(f, "/segment_lines/channel", SGS_H5_U8, &n);
        int64_t *treated = sgs_test_column(f, "/segment_lines/n_treated", SGS_H5_I64, &n);
        pick = calloc(n ? n : 1, 1);
        size_t best = n;
        for (size_t r = 0; r < n; r++)
            if (kind[r] != SGS_OPP_WIN_BACK && channel[r] >= 1 && channel[r] < SGS_CHANNEL_COUNT &&
                (best == n || treated[r] > treated[best]))
                best = r;
        sgs_assert_cmp(best, <, n);
        sgs_assert_cmp(treated[best], >, 10);
        pick[best] = 1;
        make_losing(f, "/segment_lines/conclusive", "/segment_lines/hi", pick, n);
        sgs_free(kind);
        sgs_free(channel);
        sgs_free(treated);
        free(pick);
        H5Fclose(f);
    }
    sgs_test_mpi_wait();
}

/* Dataset `dataset` of the results file at path deflated at `level` (process 0): so that the
 * comparison of compressed results compares compressed files. */
static void expect_deflated(const char *path, const char *dataset, unsigned level)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t dcpl = H5Dget_create_plist(d);
    unsigned flags = 0, values[4] = {0};
    size_t n_values = 4;
    int found = 0;
    for (int k = 0; k < H5Pget_nfilters(dcpl); k++) {
        n_values = 4;
        if (H5Pget_filter2(dcpl, (unsigned)k, &flags, &n_values, values, 0, NULL, NULL) ==
            H5Z_FILTER_DEFLATE)
            found = n_values >= 1 && values[0] == level;
    }
    if (!found)
        fail_msg("%s: %s is not deflated at level %u", path, dataset, level);
    H5Pclose(dcpl);
    H5Dclose(d);
    H5Fclose(f);
}

/* `actions.learn_from` and `output.compression` spread: every output the single-process run's
 * (results.h5 compressed: h5diff compares the values, tests/mpi/test_h5_collective.c the
 * chunks). */
static void learned_and_compressed_equal_one_process(void **state)
{
    (void)state;
    make_measurement();
    char learn[800];
    snprintf(learn, sizeof learn, "actions.learn_from=%s", edited_path);
    const char *const learned[] = {learn, NULL};
    sgs_test_mpi_compare_run(dir, input, "learned from a measurement", learned);
    expect_actions_outputs();
    if (sgs_test_world.rank == 0) { /* values scaled, channels avoided */
        char path[700];
        snprintf(path, sizeof path, "%s/ref-summary.json", dir);
        cJSON *j = sgs_test_read_json(path);
        const cJSON *l = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "opportunities"), "learned");
        assert_true(cJSON_IsObject(l));
        int applied = 0;
        const cJSON *k = NULL;
        cJSON_ArrayForEach(k, cJSON_GetObjectItem(l, "per_kind")) applied +=
            cJSON_IsTrue(cJSON_GetObjectItem(k, "applied"));
        sgs_assert_cmp(applied, >=, 1);
        sgs_assert_cmp(sgs_test_json_number(l, "rows_moved_off_avoided_channel", "learned"), >,
                       0.0);
        cJSON_Delete(j);
    }
    static const char *const compressed[] = {"output.compression=6", NULL};
    sgs_test_mpi_compare_run(dir, input, "compressed results (deflate 6)", compressed);
    if (sgs_test_world.rank == 0) {
        char ref[700], now[700];
        snprintf(ref, sizeof ref, "%s/ref-results.h5", dir);
        snprintf(now, sizeof now, "%s/out/results.h5", dir);
        static const char *const datasets[] = {"/customers/recency", "/stages/stage",
                                               "/opportunities/value_at_stake"};
        for (size_t k = 0; k < sizeof datasets / sizeof datasets[0]; k++) {
            expect_deflated(ref, datasets[k], 6);
            expect_deflated(now, datasets[k], 6);
        }
    }
    /* both, on the input where the rows of the outputs are not cut at the blocks */
    make_refunds_input();
    snprintf(input, sizeof input, "%s", refunds_input);
    snprintf(learn, sizeof learn, "actions.learn_from=%s", measure_path);
    const char *const both[] = {learn, "output.compression=1", "actions.all_opportunities=true",
                                NULL};
    sgs_test_mpi_compare_run(dir, input, "learned and compressed, customers without a purchase",
                             both);
    snprintf(input, sizeof input, "%s", good_input);
}

/* A measurement that cannot be learned from, spread: every process fails with the
 * single-process message and exit status, named by process 0 (the one that reads the
 * measurement; the as-of check fails on every process alike), the previous set (a good spread
 * run's) byte for byte and no generation left. A missing file (66), a file that is not a
 * measurement (the input, 65), and a measurement of outcomes after the run's as-of date (65). */
static void bad_measurement_fails_every_process(void **state)
{
    (void)state;
    if (!measure_path[0])
        make_measurement();
    char results[700], out[600], missing[800], not_measure[800], later[800];
    snprintf(results, sizeof results, "%s/out/results.h5", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(missing, sizeof missing, "actions.learn_from=%s/no-such-measure.h5", dir);
    snprintf(not_measure, sizeof not_measure, "actions.learn_from=%s", good_input);
    snprintf(later, sizeof later, "actions.learn_from=%s", measure_path);
    static const char *const none[] = {NULL};
    sgs_error_t err = {0};
    assert_int_equal(run(results, none, 1, &err), SGS_OK);
    sgs_test_mpi_wait();
    sgs_test_snapshot_t before = {0};
    if (sgs_test_world.rank == 0)
        sgs_test_snapshot(out, &before);
    const struct {
        const char *settings[3];
        int code, status;
        const char *words;
    } cases[] = {
        {{missing, NULL, NULL}, SGS_ENOINPUT, 66, "no such file"},
        {{not_measure, NULL, NULL}, SGS_EDATA, 65, "not a segscore measure file"},
        {{later, "as_of=2024-04-15", NULL}, SGS_EDATA, 65, "cannot learn from what happened after"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sgs_error_t one = {0};
        if (sgs_test_world.rank == 0) { /* one process's message */
            assert_int_equal(run(results, cases[c].settings, 0, &one), cases[c].code);
            sgs_assert_contains(one.message, "actions.learn_from: ");
            sgs_assert_contains(one.message, cases[c].words);
        }
        sgs_test_mpi_wait();
        memset(&err, 0, sizeof err);
        int rc = run(results, cases[c].settings, 1, &err);
        assert_int_equal(rc, cases[c].code);
        assert_int_equal(sgs_exit_status(rc), cases[c].status);
        sgs_assert_contains(err.message, cases[c].words);
        if (sgs_test_world.rank == 0)
            sgs_assert_contains(err.message, one.message);
        if (sgs_test_world.size > 1) {
            char who[64];
            snprintf(who, sizeof who, "process 0 of %d: ", sgs_test_world.size);
            sgs_assert_contains(err.message, who);
        }
        sgs_test_mpi_wait();
        if (sgs_test_world.rank == 0) /* the set before, byte for byte; nothing left behind */
            sgs_test_assert_snapshot_unchanged(out, &before);
        sgs_test_mpi_wait();
    }
    sgs_test_snapshot_free(&before);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spread_run_equals_one_process),
        cmocka_unit_test(spread_run_says_what_it_wrote),
        cmocka_unit_test(bad_row_fails_every_process),
        cmocka_unit_test(bad_event_fails_every_process),
        cmocka_unit_test(out_of_memory_on_one_process_fails_all),
        cmocka_unit_test(out_of_memory_in_the_actions_step_fails_all),
        cmocka_unit_test(learned_and_compressed_equal_one_process),
        cmocka_unit_test(bad_measurement_fails_every_process),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, setup, teardown);
}
