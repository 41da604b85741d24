/*
 * bench/bench_mpi_input.c — the input of a run spread over processes (engine/dist_input.h):
 * time, bytes sent to other processes and peak memory of each process, for /transactions,
 * /events and /customers, on a given file (docs/mpi.md "Measured").
 *
 *   mpirun -np N bench_mpi_input FILE [threads]
 *
 * Every process prints one line; process 0 then the slowest process's times and the bytes
 * sent over all processes per transaction row and per customer.
 */
#include "engine/dist_input.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static double peak_mb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
    if (sgs_dist_start(&argc, &argv) != SGS_OK)
        return 1;
    sgs_dist_t d = sgs_dist_world();
    if (argc < 2) {
        if (d.rank == 0)
            fprintf(stderr, "usage: mpirun -np N bench_mpi_input FILE [threads]\n");
        sgs_dist_end();
        return 64;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    sgs_exec_t exec = {.n_threads = threads};
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.n_threads = threads;
    opt.skip_category = 1;
    sgs_error_t err = {0};
    sgs_transactions_t tx;
    sgs_read_stats_t st;
    sgs_dist_owners_t own;
    sgs_events_t ev;
    sgs_customers_t cu;
    int has_events = 0, has_customers = 0;
    double t0 = omp_get_wtime();
    int rc = sgs_dist_read_transactions(&d, &exec, argv[1], &opt, &tx, &st, &own, &err);
    double t1 = omp_get_wtime();
    uint64_t sent_tx = sgs_dist_bytes_sent();
    if (rc == SGS_OK)
        rc = sgs_dist_read_events(&d, argv[1], &opt, &own, &ev, &has_events, NULL, &err);
    double t2 = omp_get_wtime();
    uint64_t sent_ev = sgs_dist_bytes_sent() - sent_tx;
    if (rc == SGS_OK)
        rc = sgs_dist_read_customers(&d, argv[1], &opt, &own, &cu, &has_customers, &err);
    double t3 = omp_get_wtime();
    uint64_t sent_cu = sgs_dist_bytes_sent() - sent_tx - sent_ev;
    if (rc != SGS_OK) {
        if (d.rank == 0)
            fprintf(stderr, "bench_mpi_input: %s\n", err.message);
        sgs_dist_end();
        return 1;
    }
    printf("process %d of %d: transactions %.3f s (%zu rows, %zu customers), events %.3f s, "
           "customers %.3f s, sent %.1f MB, peak %.0f MB\n",
           d.rank, d.size, t1 - t0, tx.n_rows, own.n_customers, t2 - t1, t3 - t2,
           (double)sgs_dist_bytes_sent() / 1e6, peak_mb());
    fflush(stdout);
    /* the slowest process's times (in ms), the sums of bytes and the largest peak */
    int64_t slowest[4] = {(int64_t)((t1 - t0) * 1e3), (int64_t)((t2 - t1) * 1e3),
                          (int64_t)((t3 - t2) * 1e3), (int64_t)peak_mb()};
    int64_t sums[5] = {(int64_t)sent_tx, (int64_t)sent_ev, (int64_t)sent_cu, (int64_t)tx.n_rows,
                       (int64_t)(has_events ? ev.n_rows : 0)};
    sgs_dist_reduce_i64(&d, slowest, 4, SGS_DIST_MAX);
    sgs_dist_reduce_i64(&d, sums, 5, SGS_DIST_SUM);
    if (d.rank == 0)
        printf("%d processes x %d threads: transactions %.3f s, events %.3f s, customers %.3f s "
               "(slowest process); sent per transaction row %.1f B, per event row %.1f B, per "
               "customer (transactions) %.1f B; largest peak %lld MB\n",
               d.size, threads, (double)slowest[0] / 1e3, (double)slowest[1] / 1e3,
               (double)slowest[2] / 1e3, (double)sums[0] / (double)sums[3],
               sums[4] ? (double)sums[1] / (double)sums[4] : 0.0,
               (double)sums[0] / (double)own.n_customers_all, (long long)slowest[3]);
    sgs_transactions_free(&tx);
    if (has_events)
        sgs_events_free(&ev);
    if (has_customers)
        sgs_customers_free(&cu);
    sgs_dist_owners_free(&own);
    sgs_dist_end();
    return 0;
}
