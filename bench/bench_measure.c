/*
 * bench/bench_measure.c — time of the kernels of `segscore measure` on a generated list and
 * input (defaults: 10,000,000 listed customers, 40,000,000 events, 10,000,000 transactions,
 * 2 threads).
 *
 *   bench_measure [n_customers] [n_events] [n_transactions] [threads]
 *
 * Prints the wall time of each step (list index, outcomes, per-arm sums and comparisons)
 * and their total, beside counts to sanity-check a run. Reading the files is the reader's
 * (io/h5_input.h; docs/input.md has its speed) and is not timed here.
 */
#include "kernels/group.h"
#include "kernels/measure.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static void *xmalloc(size_t n, size_t size)
{
    void *p = malloc(n * size > 0 ? n * size : 1);
    if (!p) {
        fprintf(stderr, "bench_measure: out of memory\n");
        exit(1);
    }
    return p;
}

static uint64_t state = 42;
static uint64_t next_u64(void)
{
    uint64_t z = (state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    size_t nc = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    size_t ne = argc > 2 ? strtoull(argv[2], NULL, 10) : 40000000;
    size_t nt = argc > 3 ? strtoull(argv[3], NULL, 10) : 10000000;
    int threads = argc > 4 ? atoi(argv[4]) : 2;
    const int32_t as_of = 19800, end = 19860;
    /* the list: customer ids 0, 3, 6, ... in a shuffled order (ids of the input span 3x) */
    int64_t *list_id = xmalloc(nc, sizeof *list_id);
    uint8_t *kind = xmalloc(nc, 1), *chan = xmalloc(nc, 1), *grp = xmalloc(nc, 1);
    for (size_t i = 0; i < nc; i++) {
        uint64_t x = next_u64();
        list_id[i] = (int64_t)(((i * 2654435761u) % nc) * 3);
        kind[i] = (uint8_t)(1 + x % 9);
        chan[i] = (uint8_t)((x >> 8) % 8);
        grp[i] = (x >> 16) % 10 == 0;
    }
    int64_t *ec = xmalloc(ne, 8), *et = xmalloc(ne, 8), *tc = xmalloc(nt, 8), *tt = xmalloc(nt, 8);
    uint8_t *ek = xmalloc(ne, 1);
    double *ev = xmalloc(ne, 8), *ta = xmalloc(nt, 8);
    for (size_t r = 0; r < ne; r++) {
        uint64_t x = next_u64();
        ec[r] = (int64_t)((x >> 4) % (3 * nc));
        et[r] = (as_of - 300 + (int64_t)((x >> 40) % 361)) * 86400;
        ek[r] = (uint8_t)(1 + (x >> 1) % 8);
        ev[r] = ek[r] == 6 ? (double)((x >> 20) % 11) : (double)NAN;
    }
    for (size_t r = 0; r < nt; r++) {
        uint64_t x = next_u64();
        tc[r] = (int64_t)((x >> 4) % (3 * nc));
        tt[r] = (as_of - 300 + (int64_t)((x >> 40) % 361)) * 86400;
        ta[r] = (double)(x % 10000) / 100.0 - 5.0;
    }
    sgs_exec_t ex = {.n_threads = threads};
    sgs_error_t err = {0};
    double t0 = omp_get_wtime();
    uint32_t *row_customer = xmalloc(nc, sizeof *row_customer);
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if (sgs_customer_index_build(&ex, list_id, nc, row_customer, &ids, &n_ids, &err) != 0) {
        fprintf(stderr, "bench_measure: %s\n", err.message);
        return 1;
    }
    double t1 = omp_get_wtime();
    uint32_t *index = xmalloc(sgs_measure_index_slots(n_ids), sizeof *index);
    sgs_measure_outcomes_t o = {xmalloc(n_ids, 1), xmalloc(n_ids, 1), xmalloc(n_ids, 1),
                                xmalloc(n_ids, 8), xmalloc(n_ids, 8), xmalloc(n_ids, 8),
                                xmalloc(n_ids, 8), xmalloc(n_ids, 8)};
    sgs_measure_counts_t k;
    if (sgs_measure_outcomes(ids, n_ids, tc, tt, ta, nt, ec, et, ek, ev, ne, as_of, end, index, &ex,
                             &o, &k, &err) != 0) {
        fprintf(stderr, "bench_measure: %s\n", err.message);
        return 1;
    }
    double t2 = omp_get_wtime();
    sgs_measure_table_t *ws = xmalloc(sgs_measure_arms_workspace(nc), sizeof *ws);
    static sgs_measure_table_t table;
    if (sgs_measure_arms(row_customer, kind, chan, grp, nc, &o, &ex, ws, &table, &err) != 0) {
        fprintf(stderr, "bench_measure: %s\n", err.message);
        return 1;
    }
    sgs_measure_diff_t d;
    double diff_sum = 0;
    for (int kk = 1; kk < SGS_OPP_KIND_COUNT; kk++) {
        const sgs_measure_arm_t *a = table.arm[kk][SGS_MEASURE_ALL_CHANNELS];
        sgs_measure_compare(&a[0], &a[1], SGS_MEASURE_REVENUE, 30, &d);
        diff_sum += d.diff;
    }
    double t3 = omp_get_wtime();
    printf("customers %zu, events %zu, transactions %zu, threads %d\n", nc, ne, nt, threads);
    printf("index list    %.3f s (%zu distinct)\n", t1 - t0, n_ids);
    printf("outcomes      %.3f s (%lld tx and %lld events in the window of listed customers)\n",
           t2 - t1, (long long)k.tx_listed, (long long)k.ev_listed);
    printf("arms+compare  %.3f s (sum of revenue differences %.6f)\n", t3 - t2, diff_sum);
    printf("total         %.3f s\n", t3 - t0);
    return 0;
}
