/*
 * tests/mpi/test_dist_sample.c — the sample by key over customers spread over processes
 * (engine/dist_sample.h), under mpirun with 1 to 4 processes: the customers chosen, gathered
 * from every process, are those one process holding all of them chooses, for samples of none,
 * one, some, exactly all and more than all eligible customers.
 */
#include "engine/dist_sample.h"
#include "kernels/sample.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <stdlib.h>

enum { N_ALL = 50000 };

static void chosen_as_by_one_process(void **state)
{
    (void)state;
    static int64_t id[N_ALL];
    static uint8_t eligible[N_ALL];
    for (size_t g = 0; g < N_ALL; g++) {
        id[g] = (int64_t)g * 7 + 3;
        eligible[g] = g % 5 != 0; /* 40,000 eligible */
    }
    size_t first = N_ALL * (size_t)sgs_test_world.rank / (size_t)sgs_test_world.size;
    size_t n = N_ALL * (size_t)(sgs_test_world.rank + 1) / (size_t)sgs_test_world.size - first;
    static size_t chosen_all[N_ALL], chosen[N_ALL];
    const size_t wanted[] = {0, 1, 1000, 40000, 100000};
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    for (size_t w = 0; w < 5; w++) {
        size_t n_all_chosen = 0, n_eligible = 0, n_chosen = 0, n_eligible_all = 0;
        sgs_assert_cmp(sgs_sample_by_key(id, eligible, N_ALL, wanted[w], 42, 9, chosen_all,
                                         &n_all_chosen, &n_eligible, &exec, &err),
                       ==, SGS_OK);
        sgs_assert_cmp(sgs_dist_sample_by_key(&sgs_test_world, id + first, eligible + first, n,
                                              wanted[w], 42, 9, chosen, &n_chosen, &n_eligible_all,
                                              &err),
                       ==, SGS_OK);
        sgs_assert_cmp(n_eligible_all, ==, n_eligible);
        int64_t *mine = malloc((n_chosen ? n_chosen : 1) * sizeof *mine);
        for (size_t i = 0; i < n_chosen; i++)
            mine[i] = (int64_t)(first + chosen[i]);
        int64_t *gathered = NULL;
        size_t *bytes = calloc((size_t)sgs_test_world.size, sizeof *bytes);
        sgs_assert_cmp(sgs_dist_gather_all(&sgs_test_world, mine, n_chosen * sizeof *mine,
                                           (void **)&gathered, bytes, &err),
                       ==, SGS_OK);
        size_t total = 0;
        for (int p = 0; p < sgs_test_world.size; p++)
            total += bytes[p] / sizeof *gathered;
        sgs_assert_cmp(total, ==, n_all_chosen);
        for (size_t i = 0; i < total; i++)
            sgs_assert_cmp(gathered[i], ==, (int64_t)chosen_all[i]);
        sgs_free(gathered);
        free(bytes);
        free(mine);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chosen_as_by_one_process),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
