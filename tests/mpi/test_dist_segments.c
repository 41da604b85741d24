/*
 * tests/mpi/test_dist_segments.c — the segment step's pieces over customers spread over
 * processes (engine/dist_segments.h), under mpirun with 1 to 4 processes: every process
 * generates the same rows and passes its slice (dealt evenly, or with the last process holding
 * none, or all on process 0); the features' quantiles, the robust scaling of each process's
 * rows and the clipped counts, standard scaling (the moments' block sums over rows off the
 * block boundaries), the principal components (every field of the fit), the choice of k (its table
 * and the k chosen), the merge of small segments (labels, centres, merges, sizes), the profiles'
 * sums (carried from process to process) and counts, and the medians per segment equal, memcmp, the
 * single-process kernels on all rows, as engine/run_segments.c calls them, and so does the
 * inertia after the merge (its bytes sent equal to their count). A NaN and a bad label on the last
 * process holding rows fail every process with the kernel's words, the row named by its global
 * index; every allocation of the inertia failing in turn on the last process fails every process.
 * `SGS_TEST_SEED=s` replays a seed.
 */
#include "engine/dist_blocks.h"
#include "engine/dist_segments.h"
#include "kernels/features.h"
#include "kernels/order_stats.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 4

static uint64_t test_seed(void)
{
    const char *s = getenv("SGS_TEST_SEED");
    return s ? strtoull(s, NULL, 10) : 20261207;
}

/* n rows of D features in working units: log1p counts with many ties (column 0, zeros +0),
 * heavy tails (1), a signed log of money, 60% of it -0 (2: its median and most segments' are
 * -0, which the zeros' one key must give back as -0), a probability (3). */
static double *features_make(size_t n, uint64_t seed)
{
    uint64_t s = seed;
    double *x = calloc(n * D + 1, sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        x[i * D] = log1p((double)(sgs_test_next(&s) % 6));
        double u = sgs_test_uniform(&s);
        x[i * D + 1] = u < 0.01 ? 50.0 * u : log1p(1.0 / (1.0 - 0.99 * u));
        double v = 400.0 * sgs_test_uniform(&s) - 60.0;
        x[i * D + 2] = sgs_test_next(&s) % 5 < 3 ? -0.0 : (v < 0 ? -log1p(-v) : log1p(v));
        x[i * D + 3] = sgs_test_uniform(&s);
    }
    return x;
}

/* This process's rows [*first, *first + *n) of n_all by `deal`: 0 even, 1 the last process
 * none, 2 all on process 0, 3 growing with the rank (process p's share (p + 1)^2 / sum). */
static void my_rows(size_t n_all, int deal, size_t *first, size_t *n)
{
    size_t p = (size_t)sgs_test_world.rank, size = (size_t)sgs_test_world.size;
    size_t parts = deal == 1 && size > 1 ? size - 1 : size;
    if (deal == 2) {
        *first = 0;
        *n = p == 0 ? n_all : 0;
        return;
    }
    if (deal == 3) {
        size_t all = size * (size + 1) * (2 * size + 1) / 6, before = p * (p + 1) * (2 * p + 1) / 6;
        *first = n_all * before / all;
        *n = n_all * (before + (p + 1) * (p + 1)) / all - *first;
        return;
    }
    if (p >= parts) {
        *first = n_all;
        *n = 0;
        return;
    }
    *first = n_all * p / parts;
    *n = n_all * (p + 1) / parts - *first;
}

/* The last process holding rows under `deal`. */
static int last_holder(int deal)
{
    int size = sgs_test_world.size;
    return deal == 2 ? 0 : deal == 1 && size > 1 ? size - 2 : size - 1;
}

static void quantiles_and_scaling(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 1};
    static const size_t sizes[] = {1, 2, 7, 100, 1001, 40123};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (int deal = 0; deal < 3; deal++) {
            size_t n_all = sizes[c], first, n;
            uint64_t seed = test_seed() + c;
            double *x = features_make(n_all, seed);
            my_rows(n_all, deal, &first, &n);
            double lo[D], med[D], hi[D], lo1[D], med1[D], hi1[D];
            sgs_error_t err = {0};
            sgs_assert_cmp(sgs_features_quantiles(x, n_all, D, 0.01, &exec, lo1, med1, hi1, &err),
                           ==, SGS_OK);
            int rc = sgs_dist_features_quantiles(&sgs_test_world, x + first * D, n, D, 0.01, lo,
                                                 med, hi, &err);
            if (rc != SGS_OK || memcmp(lo, lo1, sizeof lo) || memcmp(med, med1, sizeof med) ||
                memcmp(hi, hi1, sizeof hi))
                fail_msg("seed %llu, %zu rows, deal %d: rc %d (%s), quantiles differ",
                         (unsigned long long)seed, n_all, deal, rc, err.message);
            double center[D], scale[D];
            sgs_features_robust_params(D, lo1, med1, hi1, center, scale);
            size_t clipped[D], clipped1[D];
            double *mine = calloc(n * D + 1, sizeof *mine);
            assert_non_null(mine);
            memcpy(mine, x + first * D, n * D * sizeof *mine);
            sgs_features_robust_scale(x, n_all, D, lo1, hi1, center, scale, &exec, clipped1);
            sgs_dist_features_robust_scale(&sgs_test_world, mine, n, D, lo, hi, center, scale,
                                           &exec, clipped);
            if (memcmp(mine, x + first * D, n * D * sizeof *mine) ||
                memcmp(clipped, clipped1, sizeof clipped))
                fail_msg("seed %llu, %zu rows, deal %d: scaled rows or clipped counts differ",
                         (unsigned long long)seed, n_all, deal);
            free(mine);
            free(x);
        }
}

static void standard_scaling(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 1};
    static const size_t sizes[] = {1, 5, 16384, 16385, 40123, 70001};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (int deal = 0; deal < 3; deal++) {
            size_t n_all = sizes[c], first, n;
            uint64_t seed = test_seed() + 50 + c;
            double *x = features_make(n_all, seed);
            my_rows(n_all, deal, &first, &n);
            double *mine = calloc(n * D + 1, sizeof *mine);
            assert_non_null(mine);
            memcpy(mine, x + first * D, n * D * sizeof *mine);
            double mean[D], scale[D], mean1[D], scale1[D];
            sgs_error_t err = {0};
            sgs_assert_cmp(sgs_features_standardize(x, n_all, D, &exec, mean1, scale1, &err), ==,
                           SGS_OK);
            int rc = sgs_dist_features_standardize(&sgs_test_world, mine, n, D, &exec, mean, scale,
                                                   &err);
            if (rc != SGS_OK || memcmp(mean, mean1, sizeof mean) ||
                memcmp(scale, scale1, sizeof scale) ||
                memcmp(mine, x + first * D, n * D * sizeof *mine))
                fail_msg("seed %llu, %zu rows, deal %d: rc %d (%s), standardized rows differ",
                         (unsigned long long)seed, n_all, deal, rc, err.message);
            free(mine);
            free(x);
        }
}

/* Bytes of a PCA's fields. */
static int pca_equal(const sgs_pca_t *a, const sgs_pca_t *b)
{
    size_t m = a->n_components, d = a->d;
    return a->d == b->d && m == b->n_components &&
           !memcmp(&a->total_variance, &b->total_variance, sizeof a->total_variance) &&
           !memcmp(a->mean, b->mean, d * sizeof *a->mean) &&
           !memcmp(a->components, b->components, m * d * sizeof *a->components) &&
           !memcmp(a->explained_variance, b->explained_variance, m * sizeof(double)) &&
           !memcmp(a->explained_variance_ratio, b->explained_variance_ratio, m * sizeof(double));
}

static void principal_components(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 1};
    static const size_t sizes[] = {2, 9, 16385, 40123};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (int deal = 0; deal < 3; deal++)
            for (size_t comps = 0; comps < 3; comps += 2) { /* by ratio 0.9, or 2 */
                size_t n_all = sizes[c], first, n;
                uint64_t seed = test_seed() + 300 + c;
                double *x = features_make(n_all, seed);
                my_rows(n_all, deal, &first, &n);
                sgs_pca_t *pca = NULL, *pca1 = NULL;
                sgs_error_t err = {0};
                sgs_assert_cmp(sgs_pca_fit(x, n_all, D, comps, 0.9, &exec, &pca1, &err), ==,
                               SGS_OK);
                int rc = sgs_dist_pca_fit(&sgs_test_world, x + first * D, n, D, comps, 0.9, &exec,
                                          &pca, &err);
                if (rc != SGS_OK || !pca_equal(pca, pca1))
                    fail_msg("seed %llu, %zu rows, deal %d, %zu components: rc %d (%s), the PCA "
                             "differs",
                             (unsigned long long)seed, n_all, deal, comps, rc, err.message);
                sgs_pca_destroy(pca);
                sgs_pca_destroy(pca1);
                free(x);
            }
    sgs_pca_t *pca = NULL;
    sgs_error_t err = {0};
    /* a row on the first and on the last process: 2 rows when they differ, else 1 (too few) */
    double one[D] = {1, 2, 3, (double)sgs_test_world.rank};
    int holds = sgs_test_world.rank == 0 || sgs_test_world.rank == sgs_test_world.size - 1;
    sgs_assert_cmp(
        sgs_dist_pca_fit(&sgs_test_world, one, (size_t)holds, D, 2, 0.9, &exec, &pca, &err), ==,
        sgs_test_world.size > 1 ? SGS_OK : SGS_EINVAL);
    sgs_pca_destroy(pca);
}

static void a_nan_is_everyones_error(void **state)
{
    (void)state;
    size_t n_all = 5000, first, n;
    for (int deal = 0; deal < 3; deal++) {
        double *x = features_make(n_all, test_seed());
        my_rows(n_all, deal, &first, &n);
        int last = last_holder(deal);
        /* a NaN in column 2 and an infinity in column 1, both in the last holder's rows */
        size_t lf = n_all * (size_t)last /
                    (size_t)(deal == 1 && sgs_test_world.size > 1 ? sgs_test_world.size - 1
                                                                  : sgs_test_world.size);
        if (deal == 2)
            lf = 0;
        x[(lf + 3) * D + 2] = (double)NAN;
        x[(lf + 1) * D + 1] = (double)INFINITY;
        sgs_error_t err = {0}, err1 = {0};
        double lo[D], med[D], hi[D];
        sgs_exec_t exec = {.n_threads = 1};
        int rc1 = sgs_features_quantiles(x, n_all, D, 0.01, &exec, lo, med, hi, &err1);
        int rc = sgs_dist_features_quantiles(&sgs_test_world, x + first * D, n, D, 0.01, lo, med,
                                             hi, &err);
        sgs_assert_cmp(rc1, ==, SGS_EDATA);
        sgs_assert_cmp(rc, ==, SGS_EDATA);
        sgs_assert_contains(err.message, err1.message); /* "row R column 1 is infinite" */
        free(x);
    }
}

/* The single-process choice (engine/run_segments.c choose_k) on all rows. */
static void choose_k_one(const double *x, size_t n, size_t choice_sample, size_t k_min,
                         size_t k_max, const sgs_kmeans_options_t *opt, size_t silhouette,
                         sgs_kchoice_row_t *rows, size_t *n_rows, size_t *k)
{
    sgs_exec_t exec = {.n_threads = 1};
    size_t m = sgs_kchoice_sample_size(n, choice_sample);
    double *sample = calloc(m * D + 1, sizeof *sample);
    assert_non_null(sample);
    for (size_t j = 0; j < m; j++)
        memcpy(sample + j * D, x + sgs_kchoice_sample_row(j, n, m) * D, D * sizeof *sample);
    if (k_max > m)
        k_max = m;
    *n_rows = k_max - k_min + 1;
    sgs_error_t err = {0};
    sgs_assert_cmp(
        sgs_kchoice_run(sample, m, D, NULL, k_min, k_max, opt, silhouette, &exec, rows, k, &err),
        ==, SGS_OK);
    free(sample);
}

static void choice_of_k(void **state)
{
    (void)state;
    static const struct {
        size_t n, choice_sample, k_max;
    } cases[] = {{3001, 500, 6}, {997, 0, 5}, {700, 699, 4}, {40, 7, 9}, {50000, 1234, 5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int deal = 0; deal < 3; deal++) {
            size_t n_all = cases[c].n, first, n;
            double *x = features_make(n_all, test_seed() + 10 + c);
            my_rows(n_all, deal, &first, &n);
            sgs_kmeans_options_t opt;
            sgs_kmeans_options_init(&opt, 2);
            opt.seed = 7;
            sgs_kchoice_row_t rows[16], rows1[16];
            memset(rows, 0, sizeof rows);
            memset(rows1, 0, sizeof rows1);
            size_t n_rows, n_rows1, k = 0, k1 = 0;
            choose_k_one(x, n_all, cases[c].choice_sample, 2, cases[c].k_max, &opt, 300, rows1,
                         &n_rows1, &k1);
            sgs_exec_t exec = {.n_threads = 1};
            sgs_error_t err = {0};
            int rc =
                sgs_dist_kchoice_run(&sgs_test_world, x + first * D, n, D, cases[c].choice_sample,
                                     2, cases[c].k_max, &opt, 300, &exec, rows, &n_rows, &k, &err);
            if (rc != SGS_OK || n_rows != n_rows1 || k != k1 ||
                memcmp(rows, rows1, n_rows1 * sizeof *rows))
                fail_msg("case %zu deal %d: rc %d (%s), %zu rows k %zu against %zu rows k %zu", c,
                         deal, rc, err.message, n_rows, k, n_rows1, k1);
            free(x);
        }
}

static void merge_and_medians(void **state)
{
    (void)state;
    static const size_t sizes[] = {3, 500, 20011};
    sgs_exec_t exec = {.n_threads = 1};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (int deal = 0; deal < 3; deal++) {
            size_t n_all = sizes[c], first, n, k = 7;
            uint64_t s = test_seed() + 100 + c;
            double *x = features_make(n_all, s);
            int32_t *labels = calloc(n_all + 1, sizeof *labels),
                    *labels1 = calloc(n_all + 1, sizeof *labels1);
            assert_non_null(labels);
            assert_non_null(labels1);
            /* segments 5 and 6 small, 3 empty */
            for (size_t i = 0; i < n_all; i++) {
                uint64_t r = sgs_test_next(&s) % 1000;
                labels[i] = r < 3 ? 5 : r < 8 ? 6 : (int32_t)(r % 5 == 3 ? 4 : r % 5);
            }
            memcpy(labels1, labels, n_all * sizeof *labels);
            double centers[7 * D], centers1[7 * D];
            for (size_t j = 0; j < 7 * D; j++)
                centers[j] = centers1[j] = sgs_test_uniform(&s);
            my_rows(n_all, deal, &first, &n);
            size_t k_out, k_out1, n_merges, n_merges1, sz[7], sz1[7];
            sgs_segment_merge_t merges[7], merges1[7];
            memset(merges, 0, sizeof merges);
            memset(merges1, 0, sizeof merges1);
            sgs_error_t err = {0};
            sgs_assert_cmp(sgs_segments_merge_small(labels1, n_all, centers1, k, D, 0.02, &exec,
                                                    &k_out1, merges1, &n_merges1, sz1, &err),
                           ==, SGS_OK);
            int rc =
                sgs_dist_segments_merge_small(&sgs_test_world, labels + first, n, centers, k, D,
                                              0.02, &exec, &k_out, merges, &n_merges, sz, &err);
            if (rc != SGS_OK || k_out != k_out1 || n_merges != n_merges1 ||
                memcmp(merges, merges1, sizeof merges) ||
                memcmp(centers, centers1, k_out * D * sizeof *centers) ||
                memcmp(sz, sz1, k_out * sizeof *sz) ||
                memcmp(labels + first, labels1 + first, n * sizeof *labels))
                fail_msg("%zu rows deal %d: rc %d (%s), the merge differs (k %zu against %zu)",
                         n_all, deal, rc, err.message, k_out, k_out1);
            /* medians per final segment of each column, NaN and -1 labels among them */
            for (size_t i = 0; i < n_all; i += 17)
                x[i * D + 1] = (double)NAN;
            for (size_t i = 5; i < n_all; i += 23)
                labels1[i] = -1;
            double med[8], med1[8];
            for (size_t f = 0; f < D; f++) {
                double *col = calloc(n_all + 1, sizeof *col);
                assert_non_null(col);
                for (size_t i = 0; i < n_all; i++)
                    col[i] = x[i * D + f];
                sgs_assert_cmp(
                    sgs_group_medians(n_all, col, labels1, (int32_t)k_out, med1, NULL, &exec, &err),
                    ==, SGS_OK);
                rc = sgs_dist_group_medians(&sgs_test_world, n, col + first, labels1 + first,
                                            (int32_t)k_out, med, NULL, &err);
                if (rc != SGS_OK || memcmp(med, med1, k_out * sizeof *med))
                    fail_msg("%zu rows deal %d column %zu: rc %d (%s), medians differ", n_all, deal,
                             f, rc, err.message);
                sgs_free(col);
            }
            free(labels);
            free(labels1);
            free(x);
        }
}

/* The inertia after the merge (engine/run_segments.c: sgs_kmeans_inertia of the merged labels
 * and centres, without weights) over the processes against the kernel on all rows, memcmp:
 * 1 to 70,001 rows (several blocks, the processes' cuts off the block boundaries) dealt evenly,
 * the last process none, all on process 0 and growing with the rank; the labels and centres of
 * a merge of small segments. The bytes sent are exactly the rows it gives away in the
 * realignment (8 (D + 1) each: the values and the label) and 8 bytes per block it then holds and
 * for its row count to each other process. */
static void inertia_after_merge(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 500, 40123, 70001};
    sgs_exec_t exec = {.n_threads = 1};
    const size_t np = (size_t)sgs_test_world.size;
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (int deal = 0; deal < 4; deal++) {
            size_t n_all = sizes[c], first, n, k = 7, k_out, n_merges;
            uint64_t s = test_seed() + 300 + c;
            double *x = features_make(n_all, s);
            int32_t *labels = calloc(n_all + 1, sizeof *labels);
            assert_non_null(labels);
            for (size_t i = 0; i < n_all; i++) {
                uint64_t r = sgs_test_next(&s) % 1000;
                labels[i] = r < 4 ? 5 : r < 9 ? 6 : (int32_t)(r % 5);
            }
            double centers[7 * D];
            for (size_t j = 0; j < 7 * D; j++)
                centers[j] = sgs_test_uniform(&s);
            sgs_segment_merge_t merges[7];
            sgs_error_t err = {0};
            sgs_assert_cmp(sgs_segments_merge_small(labels, n_all, centers, k, D, 0.02, &exec,
                                                    &k_out, merges, &n_merges, NULL, &err),
                           ==, SGS_OK);
            double want, got = -1.0;
            sgs_assert_cmp(
                sgs_kmeans_inertia(x, n_all, D, NULL, centers, k_out, labels, &exec, &want, &err),
                ==, SGS_OK);
            my_rows(n_all, deal, &first, &n);
            uint64_t sent = sgs_dist_bytes_sent();
            int rc = sgs_dist_kmeans_inertia(&sgs_test_world, x + first * D, n, D, centers, k_out,
                                             labels + first, &exec, &got, &err);
            sent = sgs_dist_bytes_sent() - sent;
            if (rc != SGS_OK || memcmp(&got, &want, sizeof want))
                fail_msg("seed %llu, %zu rows deal %d: rc %d (%s), inertia %.17g against %.17g",
                         (unsigned long long)test_seed(), n_all, deal, rc, err.message, got, want);
            /* the rows this process gives away in the realignment (engine/dist_blocks.h), then
               8 bytes per block it holds and its row count (the layout) to each other process */
            sgs_dist_align_t al;
            sgs_assert_cmp(sgs_dist_align_init(&sgs_test_world, n, &al, &err), ==, SGS_OK);
            uint64_t lo = al.start[sgs_test_world.rank], hi = al.start[sgs_test_world.rank + 1];
            uint64_t a = first > lo ? first : lo, b = first + n < hi ? first + n : hi;
            uint64_t kept = b > a ? b - a : 0;
            uint64_t expect = 8 * (D + 1) * (n - kept) +
                              8 * (np - 1) * (sgs_block_count(al.n, SGS_BLOCK_ROWS) + 1);
            sgs_dist_align_free(&al);
            if (sent != expect)
                fail_msg("%zu rows deal %d: %llu bytes sent, not %llu", n_all, deal,
                         (unsigned long long)sent, (unsigned long long)expect);
            if (np > 1 && n_all == 70001 && deal == 0)
                print_message("inertia: process %d sent %llu bytes for %zu rows of %zu\n",
                              sgs_test_world.rank, (unsigned long long)sent, n, n_all);
            free(labels);
            free(x);
        }
}

typedef struct inertia_call {
    const double *x;
    const int32_t *labels;
    size_t n;
    double want;
} inertia_call_t;

static int call_inertia(void *ctx, sgs_error_t *err)
{
    const inertia_call_t *c = ctx;
    static const double centers[3 * D] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1};
    sgs_exec_t exec = {.n_threads = 1};
    double got = -1.0;
    int rc = sgs_dist_kmeans_inertia(&sgs_test_world, c->x, c->n, D, centers, 3, c->labels, &exec,
                                     &got, err);
    if (rc == SGS_OK && memcmp(&got, &c->want, sizeof got))
        fail_msg("inertia %.17g against %.17g", got, c->want);
    return rc;
}

/* Every allocation of the inertia failing in turn on the last process (rows crossing its cut)
 * fails every process. */
static void inertia_out_of_memory(void **state)
{
    (void)state;
    static const double centers[3 * D] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1};
    size_t n_all = 20011, first, n;
    sgs_exec_t exec = {.n_threads = 1};
    double *x = features_make(n_all, test_seed() + 400);
    int32_t *labels = calloc(n_all, sizeof *labels);
    assert_non_null(labels);
    for (size_t i = 0; i < n_all; i++)
        labels[i] = (int32_t)(i * 7 % 3);
    inertia_call_t c = {NULL, NULL, 0, 0.0};
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_kmeans_inertia(x, n_all, D, NULL, centers, 3, labels, &exec, &c.want, &err),
                   ==, SGS_OK);
    my_rows(n_all, 0, &first, &n);
    c.x = x + first * D;
    c.labels = labels + first;
    c.n = n;
    sgs_test_mpi_alloc_sweep(call_inertia, &c, "inertia", 3);
    free(labels);
    free(x);
}

static void profile_sums_and_counts(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 9, 5000, 33333};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (int deal = 0; deal < 3; deal++) {
            size_t n_all = sizes[c], first, n, k = 5;
            uint64_t s = test_seed() + 200 + c;
            double *x = features_make(n_all, s);
            int32_t *labels = calloc(n_all + 1, sizeof *labels),
                    *days = calloc(n_all + 1, sizeof *days);
            uint8_t *code = calloc(n_all + 1, sizeof *code);
            assert_non_null(labels);
            assert_non_null(days);
            assert_non_null(code);
            for (size_t i = 0; i < n_all; i++) {
                labels[i] = (int32_t)(sgs_test_next(&s) % 4); /* segment 4 empty */
                days[i] = (int32_t)(sgs_test_next(&s) % 900);
                code[i] = (uint8_t)(sgs_test_next(&s) % 11);
            }
            my_rows(n_all, deal, &first, &n);
            /* D columns of the matrix (stride D) and a column of days in weeks */
            sgs_feature_column_t cols[D + 1], mine[D + 1];
            for (size_t f = 0; f < D; f++) {
                cols[f] = (sgs_feature_column_t){x + f, D, NULL, 1.0};
                mine[f] = (sgs_feature_column_t){x + first * D + f, D, NULL, 1.0};
            }
            cols[D] = (sgs_feature_column_t){NULL, 0, days, 7.0};
            mine[D] = (sgs_feature_column_t){NULL, 0, days + first, 7.0};
            double sums[5 * (D + 1)], sums1[5 * (D + 1)];
            size_t counts[5 * 11], counts1[5 * 11];
            sgs_error_t err = {0};
            sgs_assert_cmp(sgs_segment_sums(cols, D + 1, n_all, labels, k, NULL, sums1, &err), ==,
                           SGS_OK);
            int rc = sgs_dist_segment_sums(&sgs_test_world, mine, D + 1, n, labels + first, k, sums,
                                           &err);
            if (rc != SGS_OK || memcmp(sums, sums1, sizeof sums))
                fail_msg("%zu rows deal %d: rc %d (%s), sums differ", n_all, deal, rc, err.message);
            for (int with_code = 0; with_code < 2; with_code++) {
                size_t width = with_code ? 11 : 1;
                sgs_assert_cmp(sgs_segment_counts(n_all, labels, k, with_code ? code : NULL, 11,
                                                  NULL, counts1, &err),
                               ==, SGS_OK);
                rc = sgs_dist_segment_counts(&sgs_test_world, n, labels + first, k,
                                             with_code ? code + first : NULL, 11, counts, &err);
                if (rc != SGS_OK || memcmp(counts, counts1, k * width * sizeof *counts))
                    fail_msg("%zu rows deal %d: rc %d (%s), counts differ", n_all, deal, rc,
                             err.message);
            }
            free(labels);
            free(days);
            free(code);
            free(x);
        }
}

static void a_bad_label_is_everyones_error(void **state)
{
    (void)state;
    size_t n_all = 1000, first, n;
    sgs_exec_t exec = {.n_threads = 1};
    for (int deal = 0; deal < 3; deal++) {
        my_rows(n_all, deal, &first, &n);
        int32_t *labels = calloc(n_all + 1, sizeof *labels);
        double *value = calloc(n_all + 1, sizeof *value);
        assert_non_null(labels);
        assert_non_null(value);
        for (size_t i = 0; i < n_all; i++) {
            labels[i] = (int32_t)(i % 3);
            value[i] = (double)i;
        }
        size_t bad = n_all - 2; /* on the last holder when deal 0 or 2; deal 1 too */
        labels[bad] = 3;
        double centers[3 * D] = {0};
        size_t k_out, n_merges;
        sgs_segment_merge_t merges[3];
        sgs_error_t err = {0};
        int rc = sgs_dist_segments_merge_small(&sgs_test_world, labels + first, n, centers, 3, D,
                                               0.01, &exec, &k_out, merges, &n_merges, NULL, &err);
        sgs_assert_cmp(rc, ==, SGS_EDATA);
        sgs_assert_contains(err.message, "merge segments: row 998 has label 3 (k = 3)");
        double med[3];
        rc = sgs_dist_group_medians(&sgs_test_world, n, value + first, labels + first, 3, med, NULL,
                                    &err);
        sgs_assert_cmp(rc, ==, SGS_EDATA);
        sgs_assert_contains(err.message, "row 998: segment label 3 is not below the segment count");
        double sums[3 * 2];
        sgs_feature_column_t col = {value + first, 1, NULL, 1.0};
        rc = sgs_dist_segment_sums(&sgs_test_world, &col, 1, n, labels + first, 3, sums, &err);
        sgs_assert_cmp(rc, ==, SGS_EINVAL);
        sgs_assert_contains(err.message, "segments: row 998 has label 3, not 0..2");
        size_t counts[3];
        rc = sgs_dist_segment_counts(&sgs_test_world, n, labels + first, 3, NULL, 0, counts, &err);
        sgs_assert_cmp(rc, ==, SGS_EINVAL);
        sgs_assert_contains(err.message, "segments: row 998 has label 3, not 0..2");
        double inertia;
        rc = sgs_dist_kmeans_inertia(&sgs_test_world, value + first, n, 1, centers, 3,
                                     labels + first, &exec, &inertia, &err);
        sgs_assert_cmp(rc, ==, SGS_EINVAL);
        sgs_assert_contains(err.message, "label 3 of row 998 is not in 0..2");
        if (sgs_test_world.size > 1) {
            char who[64];
            snprintf(who, sizeof who, "process %d of %d: ", last_holder(deal), sgs_test_world.size);
            sgs_assert_contains(err.message, who);
        }
        free(labels);
        free(value);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantiles_and_scaling),
        cmocka_unit_test(standard_scaling),
        cmocka_unit_test(principal_components),
        cmocka_unit_test(a_nan_is_everyones_error),
        cmocka_unit_test(choice_of_k),
        cmocka_unit_test(merge_and_medians),
        cmocka_unit_test(profile_sums_and_counts),
        cmocka_unit_test(a_bad_label_is_everyones_error),
        cmocka_unit_test(inertia_after_merge),
        cmocka_unit_test(inertia_out_of_memory),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
