/*
 * bench/bench_first_touch.c — what the first write to fresh memory costs on this machine,
 * and the write past the page cache against the write through it.
 *
 *   bench_first_touch [MiB] [idle_s]        (defaults: 1024 MiB, 30 s)
 *
 * Anonymous memory is touched one byte per page: with 4 KiB pages (what segscore asks for)
 * on 1 and then 2 threads, and with transparent huge pages advised (MADV_HUGEPAGE) on 1
 * thread, each time on memory the system has had free for idle_s seconds (the program sleeps
 * first: a virtual machine's host may take back guest memory that stays free, and the next
 * first touch then faults it in again), and once more on memory this process has just freed. Then
 * the same number of bytes is written to a file in the current folder, through the page cache and
 * past it (O_DIRECT, 4 MiB writes), each after the same idle time, and fsynced. Prints seconds and
 * seconds per GB (10^9 bytes) of each. docs/benchmarks.md, "Writing past the page cache", has the
 * figures of the benchmark VM: they are why segscore writes its large outputs past the cache and
 * why a run's peak memory costs time as well as room.
 */
#define _GNU_SOURCE /* O_DIRECT */

#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(const char *what, double seconds, size_t bytes)
{
    printf("%-46s %7.3f s  %6.2f s/GB\n", what, seconds, seconds / ((double)bytes / 1e9));
    fflush(stdout);
}

/* Map `bytes` of fresh memory and time touching one byte per page on `threads` threads,
 * with huge pages advised or refused; `keep` returns the mapping instead of unmapping it. */
static double touch(size_t bytes, int threads, int huge, char **keep)
{
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    double t = wall_s();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < bytes; i += 4096)
        p[i] = 1;
    t = wall_s() - t;
    if (keep)
        *keep = p;
    else
        munmap(p, bytes);
    return t;
}

/* Write `bytes` to path from an aligned buffer of 4 MiB, direct or not, and fsync. */
static double write_file(const char *path, size_t bytes, int direct)
{
    enum { BLOCK = 4 << 20 };
    void *buf = NULL;
    if (posix_memalign(&buf, 4096, BLOCK) != 0) {
        perror("posix_memalign");
        exit(1);
    }
    memset(buf, 'x', BLOCK);
    double t = wall_s();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0), 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    for (size_t done = 0; done < bytes; done += BLOCK)
        if (write(fd, buf, BLOCK) != BLOCK) {
            perror("write");
            exit(1);
        }
    if (fsync(fd) != 0)
        perror("fsync");
    close(fd);
    t = wall_s() - t;
    unlink(path);
    free(buf);
    return t;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 1024;
    unsigned idle = argc > 2 ? (unsigned)atoi(argv[2]) : 30;
    size_t bytes = mib << 20;
    printf("%zu MiB, memory idle %u s before each cold measurement\n", mib, idle);
    sleep(idle);
    report("anonymous memory, cold, 1 thread", touch(bytes, 1, 0, NULL), bytes);
    sleep(idle);
    report("anonymous memory, cold, 1 thread, huge pages", touch(bytes, 1, 1, NULL), bytes);
    sleep(idle);
    char *warm = NULL;
    report("anonymous memory, cold, 2 threads", touch(bytes, 2, 0, &warm), bytes);
    munmap(warm, bytes);
    report("anonymous memory, just freed, 2 threads", touch(bytes, 2, 0, NULL), bytes);
    sleep(idle);
    report("file through the page cache, cold, fsync",
           write_file("bench_first_touch.tmp", bytes, 0), bytes);
    sleep(idle);
    report("file past the page cache (O_DIRECT), fsync",
           write_file("bench_first_touch.tmp", bytes, 1), bytes);
    return 0;
}
