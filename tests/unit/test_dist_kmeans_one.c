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

int main(void)
{
    enum { N_CASES = sizeof km_cases / sizeof km_cases[0] };
    struct CMUnitTest tests[N_CASES];
    for (size_t c = 0; c < N_CASES; c++)
        tests[c] = (struct CMUnitTest){km_cases[c].name, fit_equals_the_kernel_fit, NULL, NULL,
                                       (void *)&km_cases[c]};
    return _cmocka_run_group_tests("test_dist_kmeans_one", tests, N_CASES, NULL, NULL);
}
