/*
 * tests/mpi/test_dist_publish.c — a spread run's outputs published together
 * (engine/dist_publish.h), under mpirun with 1 to 4 processes: every process writes its part
 * of the new generation's files and the set appears whole; a failure on the last process
 * leaves the previous set as it was, with its message and rank on every process, and no
 * unfinished generation behind; the lock is free again for the next run; a set that cannot
 * be opened is every process's error.
 */
#include "engine/dist_publish.h"
#include "engine/dist_text.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Process p's part of round r's table: a line per process. */
static size_t part_of(int round, int p, char *buf, size_t size)
{
    return (size_t)snprintf(buf, size, "round %d, process %d\n", round, p);
}

/* One round: open the set, every process writes its line of the table and process 0 the
 * note, commit with this process's rc (fails_on: the process that fails, -1 none). */
static int publish_round(const sgs_publish_output_t *outputs, int round, int fails_on,
                         sgs_error_t *err)
{
    sgs_dist_publish_t *p = NULL;
    int rc = sgs_dist_publish_open(&sgs_test_world, outputs, 2, "test", &p, err);
    if (rc)
        return rc;
    char line[64];
    size_t n = part_of(round, sgs_test_world.rank, line, sizeof line);
    rc = sgs_dist_write_text(&sgs_test_world, sgs_dist_publish_file(p, 0), line, n, err);
    if (rc == SGS_OK && sgs_test_world.rank == 0) { /* a failure goes through the commit */
        FILE *f = fopen(sgs_dist_publish_file(p, 1), "w");
        if (!f || fprintf(f, "round %d\n", round) < 0)
            rc = sgs_error_set(err, SGS_EIO, "cannot write the note");
        if (f && fclose(f) != 0)
            rc = sgs_error_set(err, SGS_EIO, "cannot write the note");
    }
    if (rc == SGS_OK && sgs_test_world.rank == fails_on)
        rc = sgs_error_set(err, SGS_EDATA, "bad rows in round %d", round);
    rc = sgs_dist_publish_commit(p, rc, err);
    sgs_dist_publish_close(p);
    return rc;
}

/* What readers see of round `round` (process 0). */
static void expect_round(const char *table, const char *note, int round)
{
    char want[1024] = "", line[64];
    for (int p = 0; p < sgs_test_world.size; p++) {
        part_of(round, p, line, sizeof line);
        strcat(want, line);
    }
    char *got = sgs_test_read_file(table, NULL);
    assert_string_equal(got, want);
    free(got);
    snprintf(want, sizeof want, "round %d\n", round);
    got = sgs_test_read_file(note, NULL);
    assert_string_equal(got, want);
    free(got);
}

/* Generation folders in the state folder. */
static int generations(const char *state)
{
    DIR *dir = opendir(state);
    assert_non_null(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        n += strncmp(e->d_name, "gen-", 4) == 0;
    closedir(dir);
    return n;
}

static void all_or_nothing(void **state)
{
    (void)state;
    char dir[512], table[600], note[600], stat_dir[600];
    sgs_test_mpi_tmpdir("dist_publish", dir, sizeof dir);
    snprintf(table, sizeof table, "%s/table.csv", dir);
    snprintf(note, sizeof note, "%s/note.txt", dir);
    snprintf(stat_dir, sizeof stat_dir, "%s/.table.csv.segscore", dir);
    const sgs_publish_output_t outputs[] = {{table, "table.csv"}, {note, "note.txt"}};
    sgs_error_t err = {0};

    assert_int_equal(publish_round(outputs, 1, -1, &err), SGS_OK);
    sgs_test_mpi_wait();
    if (sgs_test_world.rank == 0)
        expect_round(table, note, 1);

    const int last = sgs_test_world.size - 1;
    memset(&err, 0, sizeof err);
    assert_int_equal(publish_round(outputs, 2, last, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "bad rows in round 2");
    if (sgs_test_world.size > 1) {
        char who[64];
        snprintf(who, sizeof who, "process %d of %d: ", last, sgs_test_world.size);
        sgs_assert_contains(err.message, who);
    }
    sgs_test_mpi_wait();
    if (sgs_test_world.rank == 0) {
        expect_round(table, note, 1); /* the failed round is not seen */
        assert_int_equal(generations(stat_dir), 1);
    }
    sgs_test_mpi_wait();

    /* the lock was released: the next run publishes */
    assert_int_equal(publish_round(outputs, 3, -1, &err), SGS_OK);
    sgs_test_mpi_wait();
    if (sgs_test_world.rank == 0) {
        expect_round(table, note, 3);
        assert_int_equal(generations(stat_dir), 2); /* the current and the previous */
    }
    sgs_test_mpi_rmdir(dir);
}

static void a_set_that_cannot_be_opened(void **state)
{
    (void)state;
    char dir[512], table[700];
    sgs_test_mpi_tmpdir("dist_publish_open", dir, sizeof dir);
    snprintf(table, sizeof table, "%s/no/such/folder/table.csv", dir);
    const sgs_publish_output_t outputs[] = {{table, "table.csv"}};
    sgs_dist_publish_t *p = (sgs_dist_publish_t *)&p; /* must be reset */
    sgs_error_t err = {0};
    int rc = sgs_dist_publish_open(&sgs_test_world, outputs, 1, "test", &p, &err);
    sgs_assert_cmp(rc, !=, SGS_OK);
    assert_null(p);
    sgs_assert_contains(err.message, "no/such/folder");
    if (sgs_test_world.size > 1)
        sgs_assert_contains(err.message, "process 0 of ");
    sgs_test_mpi_rmdir(dir);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_or_nothing),
        cmocka_unit_test(a_set_that_cannot_be_opened),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
