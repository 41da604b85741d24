/*
 * tests/mpi/test_dist_rfm.c — RFM scores over customers spread over processes
 * (engine/dist_select.h), run under mpirun with 1 to 4 processes: every process's scores are
 * the single-process scores of its customers, for every measure and several bin counts, and
 * the selection finds every rank of a crafted multiset full of ties.
 */
#include "engine/dist_input.h"
#include "engine/dist_select.h"
#include "engine/group_transactions.h"
#include "kernels/base_totals.h"
#include "kernels/dates.h"
#include "kernels/rfm.h"
#include "kernels/summary.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[512], generated[600];

static int setup_file(void **state)
{
    (void)state;
    sgs_test_mpi_tmpdir("dist_rfm", dir, sizeof dir);
    snprintf(generated, sizeof generated, "%s/in.h5", dir);
    sgs_test_mpi_generate(generated, 60000, 3, 0);
    return 0;
}

static int remove_file(void **state)
{
    (void)state;
    sgs_test_mpi_rmdir(dir);
    return 0;
}

static void scores_are_the_single_run_slice(void **state)
{
    (void)state;
    sgs_exec_t exec = {.n_threads = 2};
    sgs_read_options_t opt = sgs_test_mpi_read_options();
    sgs_error_t err = {0};
    sgs_grouped_t g_all, g;
    sgs_read_stats_t st_all, st;
    sgs_dist_owners_t own;
    sgs_test_read_grouped(generated, &opt, &g_all, &st_all);
    sgs_test_mpi_read_grouped(generated, &opt, &g, &st, &own);
    sgs_summary_t s_all, s;
    sgs_test_buyers_summary(&g_all, (int32_t)sgs_day_of(st_all.max_time_s), &s_all);
    sgs_test_buyers_summary(&g, (int32_t)sgs_day_of(st.max_time_s), &s);
    size_t first = (size_t)sgs_dist_offset(&sgs_test_world, s.n_customers);
    int64_t buyers = (int64_t)s.n_customers;
    sgs_dist_reduce_i64(&sgs_test_world, &buyers, 1, SGS_DIST_SUM);
    sgs_assert_cmp(buyers, ==, (int64_t)s_all.n_customers);

    size_t n = s.n_customers, n_all = s_all.n_customers;
    double *values = malloc((n ? n : 1) * sizeof *values);
    double *values_all = malloc(n_all * sizeof *values_all);
    uint8_t *score = malloc(n ? n : 1), *score_all = malloc(n_all);
    void *workspace = malloc(sgs_rfm_workspace_size(n_all));
    const int measures[] = {SGS_RFM_RECENCY, SGS_RFM_FREQUENCY, SGS_RFM_MONETARY_TOTAL,
                            SGS_RFM_MONETARY_MEAN};
    const int bins[] = {2, 5, 9};
    for (size_t k = 0; k < 4; k++) {
        int better = measures[k] != SGS_RFM_RECENCY; /* as the run ranks them */
        sgs_assert_cmp(sgs_rfm_measure_values(&s_all, n_all, measures[k], &exec, values_all, &err),
                       ==, SGS_OK);
        sgs_assert_cmp(sgs_rfm_measure_values(&s, n, measures[k], &exec, values, &err), ==, SGS_OK);
        for (size_t b = 0; b < 3; b++) {
            sgs_assert_cmp(sgs_rfm_score(&exec, values_all, n_all, better, bins[b], workspace,
                                         score_all, &err),
                           ==, SGS_OK);
            sgs_assert_cmp(
                sgs_dist_rfm_score(&sgs_test_world, &exec, values, n, better, bins[b], score, &err),
                ==, SGS_OK);
            for (size_t c = 0; c < n; c++)
                sgs_assert_cmp(score[c], ==, score_all[first + c]);
        }
    }
    free(values);
    free(values_all);
    free(score);
    free(score_all);
    free(workspace);
    sgs_summary_free(&s);
    sgs_summary_free(&s_all);
    sgs_grouped_free(&g);
    sgs_grouped_free(&g_all);
    sgs_dist_owners_free(&own);
}

/* Keys 0..9 with many ties, dealt to the processes unevenly: every rank of the whole is
 * found, and a NaN anywhere is every process's error. */
static void selection_of_every_rank(void **state)
{
    (void)state;
    const size_t n_all = 1000;
    uint64_t all[1000];
    for (size_t i = 0; i < n_all; i++)
        all[i] = (i * i) % 10; /* squares mod 10: 0,1,4,5,6,9 only, unevenly */
    /* process p takes indices with i % (size + 1) == p, the last one the rest too */
    uint64_t mine[1000];
    size_t n = 0;
    for (size_t i = 0; i < n_all; i++) {
        size_t p = i % (size_t)(sgs_test_world.size + 1);
        if (p == (size_t)sgs_test_world.rank ||
            (p == (size_t)sgs_test_world.size && sgs_test_world.rank == sgs_test_world.size - 1))
            mine[n++] = all[i];
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: ascending */
        for (size_t j = i; j > 0 && mine[j - 1] > mine[j]; j--) {
            uint64_t t = mine[j];
            mine[j] = mine[j - 1];
            mine[j - 1] = t;
        }
    uint64_t sorted_all[1000];
    memcpy(sorted_all, all, sizeof all);
    for (size_t i = 1; i < n_all; i++)
        for (size_t j = i; j > 0 && sorted_all[j - 1] > sorted_all[j]; j--) {
            uint64_t t = sorted_all[j];
            sorted_all[j] = sorted_all[j - 1];
            sorted_all[j - 1] = t;
        }
    uint64_t rank[20], got[20];
    for (size_t j = 0; j < 20; j++)
        rank[j] = j * 50 + (j % 3);
    sgs_dist_select_keys(&sgs_test_world, mine, n, rank, 20, got);
    for (size_t j = 0; j < 20; j++)
        sgs_assert_cmp(got[j], ==, sorted_all[rank[j]]);

    double values[3] = {1.0, 2.0, sgs_test_world.rank == sgs_test_world.size - 1 ? 0.0 / 0.0 : 3.0};
    uint8_t score[3];
    sgs_error_t err = {0};
    sgs_exec_t exec = {.n_threads = 1};
    sgs_assert_cmp(sgs_dist_rfm_score(&sgs_test_world, &exec, values, 3, 1, 5, score, &err), ==,
                   SGS_EINVAL);
    sgs_assert_contains(err.message, "rfm: 1 values are NaN");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scores_are_the_single_run_slice),
        cmocka_unit_test(selection_of_every_rank),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, setup_file, remove_file);
}
