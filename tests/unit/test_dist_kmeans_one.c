/*
 * tests/unit/test_dist_kmeans_one.c — k-means over processes (engine/dist_kmeans.h) in the
 * build at hand as one process (the single-process build's engine/dist_single.c): every case of
 * tests/support/dist_kmeans_cases.h equal, bitwise, to the kernel's fit. The same cases run
 * under mpirun with 1 to 4 processes in tests/mpi/test_dist_kmeans.c.
 */
#include "engine/dist_kmeans.h"
#include "tests/support/dist_kmeans_cases.h"
#include "tests/support/test_support.h"

/* One case (the state) equal to the kernel's fit. */
static void fit_equals_the_kernel_fit(void **state)
{
    sgs_dist_t one = sgs_dist_world();
    km_check_case(&one, (const km_case_t *)*state, 2, 3);
}

/* Cases drawn at random (seeds 1 to 8; SGS_TEST_SEED=s replays seed s alone). */
static void random_fits_equal_the_kernel_fit(void **state)
{
    (void)state;
    sgs_dist_t one = sgs_dist_world();
    const char *replay = getenv("SGS_TEST_SEED");
    uint64_t lo = replay ? strtoull(replay, NULL, 10) : 1, hi = replay ? lo : 8;
    for (uint64_t seed = lo; seed <= hi; seed++) {
        char name[200];
        km_case_t c = km_random_case(seed, name);
        print_message("%s\n", name);
        km_check_case(&one, &c, 2, 3);
    }
}

int main(void)
{
    enum { N_CASES = sizeof km_cases / sizeof km_cases[0] };
    struct CMUnitTest tests[N_CASES + 1];
    for (size_t c = 0; c < N_CASES; c++)
        tests[c] = (struct CMUnitTest){km_cases[c].name, fit_equals_the_kernel_fit, NULL, NULL,
                                       (void *)&km_cases[c]};
    tests[N_CASES] = (struct CMUnitTest)cmocka_unit_test(random_fits_equal_the_kernel_fit);
    return _cmocka_run_group_tests("test_dist_kmeans_one", tests, N_CASES + 1, NULL, NULL);
}
