/*
 * tests/support/test_mpi.c — see test_mpi.h.
 */
#include "tests/support/test_mpi.h"

#include "datasets/generate.h"
#include "engine/config.h"
#include "engine/group_transactions.h"
#include "engine/run.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

sgs_dist_t sgs_test_world;

int sgs_test_mpi_main(int *argc, char ***argv, const struct CMUnitTest *tests, size_t n_tests,
                      CMFixtureFunction setup, CMFixtureFunction teardown)
{
    if (sgs_dist_start(argc, argv) != SGS_OK)
        return 1;
    sgs_test_world = sgs_dist_world();
    int failed = _cmocka_run_group_tests("tests", tests, n_tests, setup, teardown);
    sgs_dist_end();
    return failed;
}

void sgs_test_mpi_wait(void)
{
    int64_t here = 1;
    sgs_dist_reduce_i64(&sgs_test_world, &here, 1, SGS_DIST_SUM);
}

void sgs_test_mpi_tmpdir(const char *tag, char *out, size_t size)
{
    char dir[512] = "";
    if (sgs_test_world.rank == 0)
        sgs_test_tmpdir(tag, dir, sizeof dir);
    char *all = NULL;
    size_t len = sgs_test_world.rank == 0 ? strlen(dir) + 1 : 0;
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_dist_gather_all(&sgs_test_world, dir, len, (void **)&all, NULL, &err), ==,
                   SGS_OK);
    snprintf(out, size, "%s", all);
    sgs_free(all);
}

void sgs_test_mpi_rmdir(const char *dir)
{
    sgs_test_mpi_wait();
    if (sgs_test_world.rank == 0)
        sgs_test_rmdir(dir);
}

void sgs_test_mpi_generate(const char *path, uint64_t n_customers, uint64_t seed, int with_events)
{
    if (sgs_test_world.rank == 0) {
        sgs_generate_params_t p;
        sgs_generate_defaults(&p);
        p.n_customers = n_customers;
        p.seed = seed;
        p.with_events = with_events;
        sgs_exec_t exec = {.n_threads = 2};
        sgs_error_t err = {0};
        sgs_assert_cmp(sgs_generate_file(path, &p, &exec, NULL, NULL, NULL, &err), ==, SGS_OK);
    }
    sgs_test_mpi_wait();
}

void sgs_test_buyers_summary(const sgs_grouped_t *g, int32_t as_of_day, sgs_summary_t *s)
{
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_summary_alloc(s, g->n_customers ? g->n_customers : 1), ==, SGS_OK);
    s->n_customers = g->n_customers;
    if (g->n_customers)
        sgs_assert_cmp(sgs_summarize(&exec, g, as_of_day, s, &err), ==, SGS_OK);
    size_t k = 0;
    for (size_t c = 0; c < g->n_customers; c++)
        if (s->has_purchase[c])
            sgs_summary_copy_row(s, k++, c);
    s->n_customers = k;
}

sgs_read_options_t sgs_test_mpi_read_options(void)
{
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.n_threads = 2;
    opt.skip_category = 1;
    opt.now_s = 1900000000;
    return opt;
}

void sgs_test_mpi_read_grouped(const char *path, const sgs_read_options_t *opt, sgs_grouped_t *g,
                               sgs_read_stats_t *st, sgs_dist_owners_t *own)
{
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    sgs_transactions_t tx;
    int skipped = 0;
    memset(g, 0, sizeof *g);
    sgs_assert_cmp(
        sgs_dist_read_transactions(&sgs_test_world, &exec, path, opt, &tx, st, own, &err), ==,
        SGS_OK);
    if (tx.n_rows)
        sgs_assert_cmp(sgs_group_transactions(&exec, &tx, SGS_ORDER_SCATTERED, g, &skipped, &err),
                       ==, SGS_OK);
    sgs_transactions_free(&tx);
}

void sgs_test_read_grouped(const char *path, const sgs_read_options_t *opt, sgs_grouped_t *g,
                           sgs_read_stats_t *st)
{
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    sgs_transactions_t tx;
    int skipped = 0;
    memset(g, 0, sizeof *g);
    sgs_assert_cmp(sgs_h5_read_transactions(path, opt, &tx, st, &err), ==, SGS_OK);
    sgs_assert_cmp(sgs_group_transactions(&exec, &tx, SGS_ORDER_SCATTERED, g, &skipped, &err), ==,
                   SGS_OK);
    sgs_transactions_free(&tx);
}

void sgs_test_mpi_alloc_sweep(sgs_test_mpi_call_fn call, void *ctx, const char *name,
                              long min_allocations)
{
    const sgs_dist_t *d = &sgs_test_world;
    const int last = d->rank == d->size - 1;
    sgs_error_t err = {0};
    sgs_test_fail_alloc_after(last ? 1L << 30 : -1);
    int rc = call(ctx, &err);
    int64_t granted = last ? sgs_test_allocations_granted() : 0;
    sgs_test_fail_alloc_after(-1);
    if (rc != SGS_OK)
        fail_msg("%s: code %d (%s) without a failing allocation", name, rc, err.message);
    sgs_dist_reduce_i64(d, &granted, 1, SGS_DIST_MAX);
    sgs_assert_cmp(granted, >=, min_allocations);
    for (int64_t k = 0; k < granted; k++) {
        sgs_test_fail_alloc_after(last ? (long)k : -1);
        rc = call(ctx, &err);
        sgs_test_fail_alloc_after(-1);
        if (rc != SGS_ENOMEM)
            fail_msg("%s: allocation %lld failing on the last process: code %d (%s)", name,
                     (long long)k, rc, err.message);
        if (d->size > 1) {
            char who[64];
            snprintf(who, sizeof who, "process %d of %d: ", d->size - 1, d->size);
            sgs_assert_contains(err.message, who);
        }
    }
    rc = call(ctx, &err);
    if (rc != SGS_OK)
        fail_msg("%s: code %d (%s) after the sweep", name, rc, err.message);
}

/* ---- a spread run against the single-process run ---------------------------------------- */

void sgs_test_copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *text = sgs_test_read_file(from, &n);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_true(fwrite(text, 1, n, f) == n);
    assert_int_equal(fclose(f), 0);
    free(text);
}

int sgs_test_mpi_run_settings(const char *input, const char *results, const char *const *settings,
                              int spread, FILE *progress_out, sgs_progress_t *progress,
                              sgs_error_t *err)
{
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    static const char *const base[] = {"threads=1", NULL};
    for (int pass = 0; pass < 2; pass++) {
        for (const char *const *s = pass ? settings : base; s && *s; s++) {
            char key[128];
            const char *eq = strchr(*s, '=');
            snprintf(key, sizeof key, "%.*s", (int)(eq - *s), *s);
            sgs_assert_cmp(sgs_config_set(&cfg, key, eq + 1, err), ==, SGS_OK);
        }
    }
    sgs_assert_cmp(sgs_config_validate(&cfg, err), ==, SGS_OK);
    sgs_progress_init(progress, progress_out ? progress_out : stderr, progress_out == NULL);
    sgs_run_request_t req = {.input_path = input,
                             .output_path = results,
                             .config = &cfg,
                             .progress = progress,
                             .now_s = 1767225600, /* 2026-01-01 */
                             .dist = spread ? &sgs_test_world : NULL};
    return sgs_run(&req, err);
}

const char *const sgs_test_run_outputs[SGS_TEST_N_RUN_OUTPUTS] = {
    "results.h5", "customers.csv", "opportunities.csv",
    "report.txt", "report.html",   "summary.json"};

/* summary.json without what depends on the run's clock and memory, and without the list of
 * steps: one process writes the customer outputs right after the segment step (its step
 * `write customers`, so that their columns are freed before the actions step), a spread run
 * writes every output at the end. */
static void drop_timings(cJSON *o)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, "steps");
    static const char *const keys[] = {"seconds", "seconds_total", "peak_rss_mb"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, keys[k]);
    for (cJSON *c = o ? o->child : NULL; c; c = c->next)
        drop_timings(c);
}

double sgs_test_json_number(const cJSON *o, const char *name, const char *what)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        fail_msg("%s: summary.json: no number \"%s\"", what, name);
    return v->valuedouble;
}

/* summary.json's "processes" of the spread run (spread) against the single-process run's figures
 * (one), then taken out of spread: one process writes no such key, nor a spread run of one
 * process; a spread run one entry per process in rank order, whose customers and rows add up to
 * the whole base's, each having sent bytes to the others (in all at least the sum over its
 * steps), with its peak memory, and steps from read to write, each with its CPU time. */
static void check_processes(cJSON *spread, const cJSON *one, const char *what)
{
    if (cJSON_GetObjectItemCaseSensitive(one, "processes"))
        fail_msg("%s: one process's summary.json has \"processes\"", what);
    cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(spread, "processes");
    const int n = sgs_test_world.size;
    if (n == 1) {
        if (list)
            fail_msg("%s: a spread run of one process wrote \"processes\"", what);
        return;
    }
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) != n)
        fail_msg("%s: summary.json: \"processes\" is not a list of %d", what, n);
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(one, "stages");
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(one, "optional_inputs");
    double buyers = 0, rows = 0, customers = 0, customer_rows = 0, event_rows = 0;
    int r = 0;
    for (const cJSON *p = list->child; p; p = p->next, r++) {
        sgs_assert_cmp(sgs_test_json_number(p, "rank", what), ==, (double)r);
        buyers += sgs_test_json_number(p, "customers_with_purchases", what);
        rows += sgs_test_json_number(p, "transaction_rows", what);
        if (stages) {
            customers += sgs_test_json_number(p, "customers", what);
            customer_rows += sgs_test_json_number(p, "customer_rows", what);
            event_rows += sgs_test_json_number(p, "event_rows", what);
        } else {
            assert_null(cJSON_GetObjectItemCaseSensitive(p, "customers"));
        }
        double sent = sgs_test_json_number(p, "bytes_sent", what);
        double peak = sgs_test_json_number(p, "peak_rss_mb", what);
        if (!(sent > 0))
            fail_msg("%s: process %d sent no byte to the others", what, r);
        sgs_assert_cmp(peak, >, 1.0);
        const cJSON *steps = cJSON_GetObjectItemCaseSensitive(p, "steps");
        assert_true(cJSON_IsArray(steps));
        double sent_in_steps = 0, peak_before = 0, cpu_in_steps = 0;
        const char *first = NULL, *last = NULL;
        for (const cJSON *s = steps->child; s; s = s->next) {
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "name"));
            assert_non_null(name);
            first = first ? first : name;
            last = name;
            sent_in_steps += sgs_test_json_number(s, "bytes_sent", what);
            double step_peak = sgs_test_json_number(s, "peak_rss_mb", what);
            sgs_assert_cmp(step_peak, >=, peak_before); /* a peak so far */
            sgs_assert_cmp(step_peak, <=, peak);
            peak_before = step_peak;
            sgs_assert_cmp(sgs_test_json_number(s, "seconds", what), >=, 0.0);
            double cpu = sgs_test_json_number(s, "cpu_seconds", what);
            sgs_assert_cmp(cpu, >=, sgs_test_json_number(s, "system_seconds", what));
            cpu_in_steps += cpu;
        }
        if (!(cpu_in_steps > 0))
            fail_msg("%s: process %d's steps took no CPU time", what, r);
        assert_non_null(first);
        assert_string_equal(first, "read");
        assert_string_equal(last, "write");
        sgs_assert_cmp(sent_in_steps, >, 0.0);
        sgs_assert_cmp(sent_in_steps, <=, sent);
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(one, "customers");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(one, "input");
    sgs_assert_cmp(buyers, ==, sgs_test_json_number(c, "with_purchases", what));
    sgs_assert_cmp(rows, ==, sgs_test_json_number(in, "rows_used", what));
    if (stages) {
        sgs_assert_cmp(customers, ==, sgs_test_json_number(stages, "customers", what));
        sgs_assert_cmp(customer_rows, ==, sgs_test_json_number(inputs, "customer_rows", what));
        sgs_assert_cmp(event_rows, ==, sgs_test_json_number(inputs, "event_rows_used", what));
    }
    cJSON_Delete(list);
}

void sgs_test_mpi_expect_same(const char *now, const char *ref, size_t i, const char *what)
{
    if (i == 0) {
        char cmd[10000], out[4096];
        snprintf(cmd, sizeof cmd, "h5diff -c '%s' '%s'", ref, now);
        if (sgs_test_shell(cmd, out, sizeof out) != 0)
            fail_msg("%s: results.h5 differs from one process's: %s", what, out);
        return;
    }
    size_t n_now = 0, n_ref = 0;
    char *a = sgs_test_read_file(now, &n_now), *b = sgs_test_read_file(ref, &n_ref);
    if (i == SGS_TEST_N_RUN_OUTPUTS - 1) {
        cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);
        assert_non_null(ja);
        assert_non_null(jb);
        check_processes(ja, jb, what);
        drop_timings(ja);
        drop_timings(jb);
        if (!cJSON_Compare(ja, jb, 1)) {
            char *pa = cJSON_Print(ja), *pb = cJSON_Print(jb);
            fail_msg("%s: summary.json differs:\nspread:\n%s\none process:\n%s", what, pa, pb);
        }
        cJSON_Delete(ja);
        cJSON_Delete(jb);
    } else if (n_now != n_ref || memcmp(a, b, n_now) != 0) {
        size_t k = 0;
        while (k < n_now && k < n_ref && a[k] == b[k])
            k++;
        fail_msg("%s: %s differs from one process's at byte %zu (%zu and %zu bytes)", what,
                 sgs_test_run_outputs[i], k, n_now, n_ref);
    }
    free(a);
    free(b);
}

void sgs_test_mpi_compare_run(const char *dir, const char *input, const char *what,
                              const char *const *settings)
{
    enum { N_OUT = SGS_TEST_N_RUN_OUTPUTS };
    char results[700], path[N_OUT][800], ref[N_OUT][800];
    snprintf(results, sizeof results, "%s/out/results.h5", dir);
    for (size_t i = 0; i < N_OUT; i++) {
        snprintf(path[i], sizeof path[i], "%s/out/%s", dir, sgs_test_run_outputs[i]);
        snprintf(ref[i], sizeof ref[i], "%s/ref-%s", dir, sgs_test_run_outputs[i]);
    }
    sgs_error_t err = {0};
    sgs_progress_t progress;
    if (sgs_test_world.rank == 0) {
        char out_dir[600];
        snprintf(out_dir, sizeof out_dir, "%s/out", dir);
        (void)mkdir(out_dir, 0755);
        if (sgs_test_mpi_run_settings(input, results, settings, 0, NULL, &progress, &err) != SGS_OK)
            fail_msg("%s: one process: %s", what, err.message);
        for (size_t i = 0; i < N_OUT; i++)
            sgs_test_copy_file(path[i], ref[i]);
    }
    sgs_test_mpi_wait();
    int rc = sgs_test_mpi_run_settings(input, results, settings, 1, NULL, &progress, &err);
    if (rc != SGS_OK)
        fail_msg("%s: spread over %d processes: %s", what, sgs_test_world.size, err.message);
    sgs_test_mpi_wait();
    if (sgs_test_world.rank == 0)
        for (size_t i = 0; i < N_OUT; i++)
            sgs_test_mpi_expect_same(path[i], ref[i], i, what);
    sgs_test_mpi_wait();
}

double sgs_test_mpi_ref_number(const char *dir, const char *const *names)
{
    char path[700];
    snprintf(path, sizeof path, "%s/ref-summary.json", dir);
    cJSON *j = sgs_test_read_json(path);
    const cJSON *o = j;
    for (const char *const *name = names; *name; name++)
        o = cJSON_GetObjectItemCaseSensitive(o, *name);
    if (!cJSON_IsNumber(o))
        fail_msg("summary.json: no number at %s...%s", names[0], names[1] ? names[1] : "");
    double v = o->valuedouble;
    cJSON_Delete(j);
    return v;
}
