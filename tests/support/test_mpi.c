/*
 * tests/support/test_mpi.c — see test_mpi.h.
 */
#include "tests/support/test_mpi.h"

#include "datasets/generate.h"
#include "engine/group_transactions.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <string.h>

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
