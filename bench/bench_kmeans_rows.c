/*
 * bench/bench_kmeans_rows.c — cost per row of one Lloyd pass (labels and cluster sums,
 * sgs__kmeans_lloyd_rows) on one thread, with the widest instruction set the CPU has:
 * on a block that stays in cache, and streamed from memory over a large array. The
 * difference between the two is what memory adds to the kernel's own work.
 *
 *   bench_kmeans_rows                       # d = 4, 8, 16 and k = 8, 32
 *   bench_kmeans_rows 16 8 [cache_rows] [stream_rows]
 *
 * Rows: uniform noise around k lattice points (as bench/kmeans_peers.py, which uses Gaussian
 * noise); centers: one row of each group. Prints ns per row (the best of 5 timings) and how
 * many rows the float32 screen left to the exact computation. It calls the kernel's internal
 * entry point (kernels/kmeans_dist_internal.h), as tests/unit/test_kmeans.c does: the public
 * k-means functions wrap it in whole iterations.
 */
#include "kernels/core.h"
#include "kernels/kmeans_dist_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best time of 5 timings of `passes` Lloyd passes over m rows; *fallback gets the rows
 * recomputed exactly in one pass. */
static double time_passes(const double *x, size_t m, const sgs__kmeans_prep_t *prep, int isa,
                          uint8_t *labels, double *part, int passes, size_t *fallback)
{
    double best = 1e300;
    for (int t = 0; t < 5; t++) {
        size_t changed, fb = 0;
        double t0 = now_s();
        for (int p = 0; p < passes; p++)
            fb = sgs__kmeans_lloyd_rows(isa, x, m, 0, prep, NULL, labels, NULL, part, &changed);
        double dt = now_s() - t0;
        best = dt < best ? dt : best;
        *fallback = fb;
    }
    return best / passes;
}

static int run_case(size_t d, size_t k, size_t cache_rows, size_t stream_rows)
{
    size_t n = cache_rows > stream_rows ? cache_rows : stream_rows;
    double *x = sgs_alloc_array(n * d, sizeof *x), *c = sgs_alloc_array(k * d, sizeof *c);
    double *ws = sgs_alloc_array(sgs__kmeans_prep_size(k, d), sizeof *ws);
    double *part = sgs_alloc_array(4 * k * (d + 1), sizeof *part);
    uint8_t *labels = sgs_alloc_array(n, 1);
    if (!x || !c || !ws || !part || !labels) {
        fprintf(stderr, "bench_kmeans_rows: out of memory for %zu rows\n", n);
        return 71;
    }
    /* Row i belongs to group g(i); group j sits at lattice point 4 L[j][f], L in 0..6. */
    for (size_t i = 0; i < n; i++) {
        uint64_t g = sgs_rng_u64(1, 0, i) % k;
        for (size_t f = 0; f < d; f++)
            x[i * d + f] =
                4.0 * (double)(sgs_rng_u64(3, g, f) % 7) + 2.0 * sgs_rng_uniform(2, i, f) - 1.0;
    }
    /* Center j: the first row of group j (the group's lattice point when it has no row). */
    for (size_t j = 0; j < k; j++) {
        size_t i = 0;
        while (i < n && sgs_rng_u64(1, 0, i) % k != j)
            i++;
        for (size_t f = 0; f < d; f++)
            c[j * d + f] = i < n ? x[i * d + f] : 4.0 * (double)(sgs_rng_u64(3, j, f) % 7);
    }
    memset(labels, 0, n);
    memset(part, 0, 4 * k * (d + 1) * sizeof *part);
    sgs__kmeans_prep_t prep;
    sgs__kmeans_prep(c, k, d, ws, &prep);
    int isa = sgs__kmeans_isa_resolve(SGS__ISA_AUTO);
    size_t fb_cache, fb_stream;
    double t_cache = time_passes(x, cache_rows, &prep, isa, labels, part, 200, &fb_cache);
    double t_stream = time_passes(x, stream_rows, &prep, isa, labels, part, 1, &fb_stream);
    printf("d %2zu k %3zu  in cache (%zu rows): %6.2f ns/row   streamed (%zu rows, %.0f MB): "
           "%6.2f ns/row   exact recomputations: %zu and %zu rows   (isa %d)\n",
           d, k, cache_rows, 1e9 * t_cache / (double)cache_rows, stream_rows,
           (double)(stream_rows * d * sizeof *x) / 1e6, 1e9 * t_stream / (double)stream_rows,
           fb_cache, fb_stream, isa);
    sgs_free(x);
    sgs_free(c);
    sgs_free(ws);
    sgs_free(part);
    sgs_free(labels);
    return 0;
}

int main(int argc, char **argv)
{
    size_t cache_rows = argc > 3 ? strtoull(argv[3], NULL, 10) : 8192;
    size_t stream_rows = argc > 4 ? strtoull(argv[4], NULL, 10) : 5000000;
    if (argc > 2)
        return run_case(strtoull(argv[1], NULL, 10), strtoull(argv[2], NULL, 10), cache_rows,
                        stream_rows);
    static const size_t ds[] = {4, 8, 16}, ks[] = {8, 32};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 2; b++) {
            int rc = run_case(ds[a], ks[b], cache_rows, stream_rows);
            if (rc)
                return rc;
        }
    return 0;
}
