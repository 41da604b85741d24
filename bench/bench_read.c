/*
 * bench/bench_read.c — the input reader alone (io/h5_input.h): /transactions, /events and
 * /customers of one file read `repeat` times on `threads` threads, each read's wall and CPU
 * seconds (user + system of the process, getrusage) printed, then the medians.
 *
 *   bench_read INPUT.h5 [threads] [repeat]        (defaults: 2 threads, 5 reads)
 *
 * A run's summary.json times the read step (transactions) and the events step (events,
 * customers and their indexing) among other work; this times the reads only, so that the
 * decode's CPU is seen without the noise of the rest of a run (docs/benchmarks.md, "Reading
 * compressed input once").
 */
#define _POSIX_C_SOURCE 200809L

#include "io/h5_columns.h"
#include "io/h5_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define TABLES 3
#define MAX_REPEAT 64

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_read INPUT.h5 [threads] [repeat]\n");
        return 64;
    }
    const char *path = argv[1];
    int threads = argc > 2 ? atoi(argv[2]) : 2, repeat = argc > 3 ? atoi(argv[3]) : 5;
    if (threads < 1 || repeat < 1 || repeat > MAX_REPEAT) {
        fprintf(stderr, "bench_read: threads >= 1, repeat 1..%d\n", MAX_REPEAT);
        return 64;
    }
    sgs_h5_quiet();
    static const char *const names[TABLES] = {"transactions", "events", "customers"};
    double wall[TABLES][MAX_REPEAT], cpu[TABLES][MAX_REPEAT];
    for (int r = 0; r < repeat; r++)
        for (int t = 0; t < TABLES; t++) {
            sgs_read_options_t opt;
            sgs_read_options_init(&opt);
            opt.n_threads = threads;
            sgs_error_t err = {0};
            double w0 = wall_s(), c0 = cpu_s();
            int rc, present = 1;
            if (t == 0) {
                sgs_transactions_t tx;
                rc = sgs_h5_read_transactions(path, &opt, &tx, NULL, &err);
                sgs_transactions_free(&tx);
            } else if (t == 1) {
                sgs_events_t ev;
                rc = sgs_h5_read_events(path, &opt, &ev, &present, NULL, &err);
                sgs_events_free(&ev);
            } else {
                sgs_customers_t cu;
                rc = sgs_h5_read_customers_opt(path, &opt, &cu, &present, &err);
                sgs_customers_free(&cu);
            }
            wall[t][r] = wall_s() - w0;
            cpu[t][r] = cpu_s() - c0;
            if (rc) {
                fprintf(stderr, "bench_read: %s\n", err.message);
                return 1;
            }
            printf("read %d %-12s wall %.3f s cpu %.3f s%s\n", r, names[t], wall[t][r], cpu[t][r],
                   present ? "" : " (absent)");
        }
    for (int t = 0; t < TABLES; t++)
        printf("median %-12s wall %.3f s cpu %.3f s (threads %d, %d reads)\n", names[t],
               median(wall[t], repeat), median(cpu[t], repeat), threads, repeat);
    return 0;
}
