/*
 * tests/mpi/test_dist_text.c — one text file from every process's rows (engine/dist_text.h),
 * under mpirun with 1 to 4 processes: the file is the rows in rank order, byte for byte, with
 * a process writing nothing; a file that cannot be created is every process's error.
 */
#include "engine/dist_text.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Process p's rows: none for p = 1, else 300 (p + 1) lines naming p; process 0 a header. */
static char *rows_of(int p, size_t *n)
{
    size_t lines = p == 1 ? 0 : 300 * (size_t)(p + 1);
    char *text = malloc(lines * 40 + 64), *at = text;
    if (p == 0)
        at += sprintf(at, "customer_id,process,line\n");
    for (size_t i = 0; i < lines; i++)
        at += sprintf(at, "%zu,%d,%zu\n", 1000000 * (size_t)p + i, p, i);
    *n = (size_t)(at - text);
    return text;
}

static void file_is_the_rows_in_rank_order(void **state)
{
    (void)state;
    char dir[512];
    sgs_test_mpi_tmpdir("dist_text", dir, sizeof dir);
    char path[600], missing[700];
    snprintf(path, sizeof path, "%s/customers.csv", dir);
    snprintf(missing, sizeof missing, "%s/no/such/folder/customers.csv", dir);
    size_t n = 0;
    char *mine = rows_of(sgs_test_world.rank, &n);
    sgs_error_t err = {0};
    sgs_assert_cmp(sgs_dist_write_text(&sgs_test_world, path, mine, n, &err), ==, SGS_OK);
    sgs_assert_cmp(sgs_dist_write_text(&sgs_test_world, missing, mine, n, &err), ==,
                   SGS_ECANTCREAT);
    sgs_assert_contains(err.message, "no/such/folder/customers.csv");
    if (sgs_test_world.size > 1)
        sgs_assert_contains(err.message, "process 0 of ");
    free(mine);
    if (sgs_test_world.rank == 0) {
        size_t size = 0;
        char *got = sgs_test_read_file(path, &size);
        size_t at = 0;
        for (int p = 0; p < sgs_test_world.size; p++) {
            size_t k = 0;
            char *part = rows_of(p, &k);
            sgs_assert_cmp(at + k, <=, size);
            if (k && memcmp(got + at, part, k) != 0)
                fail_msg("process %d's rows are not at byte %zu", p, at);
            at += k;
            free(part);
        }
        sgs_assert_cmp(at, ==, size);
        free(got);
        sgs_test_rmdir(dir);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_is_the_rows_in_rank_order),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
