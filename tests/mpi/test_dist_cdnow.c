/*
 * tests/mpi/test_dist_cdnow.c — `segscore run` spread over the processes (engine/dist_run.h,
 * docs/mpi.md; tracker issue 18) on real data, under mpirun with 1 to 4 processes: the CDNOW
 * master file (../shared/data/cdnow/CDNOW_master.txt: 69,659 rows, 23,570 customers, half of
 * them one-time buyers; no /events, no /customers table). Process 0 imports it as
 * `segscore import --preset cdnow` does (io/csv_import.h, in this process: a segscore program
 * started from inside an MPI job may not run), then for each configuration process 0 runs the
 * single-process run alone and every process the spread run into the same output paths, and
 * every output is compared as tests/mpi/test_dist_run.c compares them
 * (tests/support/test_mpi.h sgs_test_mpi_compare_run: results.h5 by h5diff, customers.csv,
 * opportunities.csv, report.txt and report.html byte for byte, summary.json but its timings,
 * peak memory and steps), for six configurations (the literature's calibration period in weeks,
 * the defaults, k = 4, samples and capacities, and two as-of dates among the first purchases).
 * The customers are cut at multiples of 16,384: two blocks, so that with 3 and 4 processes the
 * last ones own none. The single-process outputs are checked to hold the base (its customers,
 * its one-time buyers), so that the comparison compares something. Skipped (77) when
 * ../shared/data is absent.
 */
#include "io/csv_import.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

enum { CDNOW_CUSTOMERS = 23570, CDNOW_ROWS = 69659 };

static char dir[512], master[512], input[700];

/* The master file imported by process 0 with the options of `segscore import --preset cdnow`
 * (engine/cmd_import.c: whitespace-separated, customer, date and amount in columns 1, 2 and 4,
 * dates YYYYMMDD, the header line found, deflate level 1), which every process then reads. */
static int setup(void **state)
{
    (void)state;
    sgs_test_mpi_tmpdir("dist_cdnow", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/cdnow.h5", dir);
    if (sgs_test_world.rank == 0) {
        sgs_import_options_t opt = {.mode = SGS_CSV_WHITESPACE,
                                    .header = SGS_IMPORT_HEADER_AUTO,
                                    .customer = "1",
                                    .time = "2",
                                    .amount = "4",
                                    .time_format = SGS_TIME_YYYYMMDD,
                                    .deflate_level = 1,
                                    .n_threads = 1};
        sgs_import_stats_t st;
        sgs_error_t err = {0};
        if (sgs_csv_import(master, input, &opt, &st, &err) != SGS_OK)
            fail_msg("import of %s: %s", master, err.message);
        sgs_assert_cmp(st.n_imported, ==, (uint64_t)CDNOW_ROWS);
        sgs_assert_cmp(st.n_customers, ==, (uint64_t)CDNOW_CUSTOMERS);
    }
    sgs_test_mpi_wait();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_mpi_rmdir(dir);
    return 0;
}

/* The customers with a purchase of the single-process run of the last comparison (on process 0;
 * elsewhere the figure it must be, so that every process may assert it). */
static double ref_buyers(void)
{
    int64_t buyers = 0;
    if (sgs_test_world.rank == 0)
        buyers = (int64_t)sgs_test_mpi_ref_number(
            dir, (const char *const[]){"customers", "with_purchases", NULL});
    sgs_dist_reduce_i64(&sgs_test_world, &buyers, 1, SGS_DIST_SUM);
    return (double)buyers;
}

/* What the single-process run of the last comparison was about (process 0): every customer
 * of the master file bought as of the run's date (their first purchases are all in 1997's first
 * quarter), `one_time` of them on one day only (frequency 0: counted from the text file with
 * awk, purchases on one day being one), a row of customers.csv for each. */
static void expect_cdnow_base(size_t one_time)
{
    if (sgs_test_world.rank != 0)
        return;
    const double buyers =
        sgs_test_mpi_ref_number(dir, (const char *const[]){"customers", "with_purchases", NULL});
    sgs_assert_cmp(buyers, ==, (double)CDNOW_CUSTOMERS);
    char path[700];
    snprintf(path, sizeof path, "%s/ref-customers.csv", dir);
    size_t n = 0, lines = 0;
    char *text = sgs_test_read_file(path, &n);
    for (size_t k = 0; k < n; k++)
        lines += text[k] == '\n';
    free(text);
    sgs_assert_cmp((double)lines, ==, buyers + 1);
    snprintf(path, sizeof path, "%s/ref-results.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    double *frequency = sgs_test_column(f, "/customers/frequency", SGS_H5_F64, &n);
    H5Fclose(f);
    sgs_assert_cmp(n, ==, (size_t)CDNOW_CUSTOMERS);
    size_t once = 0;
    for (size_t c = 0; c < n; c++)
        once += frequency[c] == 0;
    sgs_free(frequency);
    sgs_assert_cmp(once, ==, one_time);
}

static void spread_run_equals_one_process_on_cdnow(void **state)
{
    (void)state;
    /* the literature's calibration period (issue 12's acceptance run, as
     * tests/reference/test_cdnow_p_buy.c runs it) */
    static const char *const calibration[] = {"as_of=1997-09-30", "time_unit=week",
                                              "value.horizon=39", NULL};
    sgs_test_mpi_compare_run(dir, input, "as of 1997-09-30, weeks, 39-week horizon", calibration);
    expect_cdnow_base(14119);
    static const char *const defaults[] = {NULL};
    sgs_test_mpi_compare_run(dir, input, "defaults, as of the file's last day", defaults);
    expect_cdnow_base(12054);
    static const char *const k4[] = {"segments.k=4",      "segments.scaling=standard", "rfm.bins=4",
                                     "value.model=bgnbd", "as_of=1997-12-31",          NULL};
    sgs_test_mpi_compare_run(dir, input, "k 4, standard scaling, 4 bins, bgnbd, 1997-12-31", k4);
    expect_cdnow_base(13080);
    /* samples: the backtest's cohort and the k choice's customers chosen among every
     * process's; MBG/NBD; channels filling up */
    static const char *const samples[] = {"value.model=mbgnbd",
                                          "value.backtest_sample=5000",
                                          "segments.choice_sample=3000",
                                          "time_unit=week",
                                          "actions.capacity.phone=100",
                                          "actions.capacity.email=3000",
                                          NULL};
    sgs_test_mpi_compare_run(dir, input, "mbgnbd, samples of 5,000 and 3,000, capacities", samples);
    expect_cdnow_base(12054);
    /* in the middle of the first purchases: 20,894 customers, ids not dense (those whose first
     * purchase comes later are absent), cut within them; stages at a compare day, Pareto/NBD,
     * mean monetary, PCA, small segments merged, every opportunity listed */
    static const char *const early[] = {"as_of=1997-03-15",
                                        "stages.compare_as_of=1997-02-15",
                                        "value.model=paretonbd",
                                        "rfm.monetary=mean",
                                        "segments.pca_components=2",
                                        "segments.min_share=0.15",
                                        "actions.all_opportunities=true",
                                        NULL};
    sgs_test_mpi_compare_run(dir, input, "as of 1997-03-15, paretonbd, PCA, every opportunity",
                             early);
    sgs_assert_cmp(ref_buyers(), ==, 20894.0);
    /* 16,322 customers, fewer than a block: all on process 0, the others none */
    static const char *const one_block[] = {"as_of=1997-02-28", NULL};
    sgs_test_mpi_compare_run(dir, input, "as of 1997-02-28: one block", one_block);
    sgs_assert_cmp(ref_buyers(), ==, 16322.0);
}

int main(int argc, char **argv)
{
    if (!sgs_test_shared_data("cdnow/CDNOW_master.txt", master, sizeof master)) {
        fprintf(stderr, "skipped: ../shared/data/cdnow is absent\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spread_run_equals_one_process_on_cdnow),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, setup, teardown);
}
