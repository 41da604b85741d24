/*
 * tests/reference/test_cdnow_p_buy.c — p_buy out of sample on the CDNOW master file: a run as
 * of 1997-09-30 in weeks with a 39-week horizon sees nothing later; the purchases of
 * 1997-10-01..1998-06-30, read here from the text file, say who bought. p_buy must beat the
 * model's own probability of buying (1 - prob_no_purchase) on the Brier score and on the
 * largest gap between predicted and observed share in a decile (docs/backtest.md gives the
 * figures). Skipped (77) when ../shared/data is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256], master[512];

static int setup(void **state)
{
    (void)state;
    char args[2048], out[8192];
    if (!sgs_test_shared_data("cdnow/CDNOW_master.txt", master, sizeof master))
        return -1;
    sgs_test_tmpdir("cdnow-p-buy", dir, sizeof dir);
    snprintf(args, sizeof args, "import -q --preset cdnow -i '%s' -o '%s/m.h5'", master, dir);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        fprintf(stderr, "import failed: %s\n", out);
        return -1;
    }
    snprintf(args, sizeof args,
             "run -q -i '%s/m.h5' -o '%s/results.h5' --as-of 1997-09-30 --time-unit week "
             "--set value.horizon=39",
             dir, dir);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        fprintf(stderr, "run failed: %s\n", out);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (dir[0])
        sgs_test_rmdir(dir);
    return 0;
}

typedef struct scored {
    double p;
    int bought;
    int64_t id;
} scored_t;

/* By p, ties by customer id: deciles that do not depend on the C library's sort. */
static int scored_cmp(const void *a, const void *b)
{
    const scored_t *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Brier score and the largest |mean p - share bought| over deciles of p. */
static void assess(scored_t *s, size_t n, double *brier, double *max_gap)
{
    qsort(s, n, sizeof *s, scored_cmp);
    double b = 0;
    for (size_t i = 0; i < n; i++)
        b += (s[i].bought - s[i].p) * (s[i].bought - s[i].p);
    *brier = b / (double)n;
    *max_gap = 0;
    for (size_t d = 0; d < 10; d++) {
        size_t lo = d * n / 10, hi = (d + 1) * n / 10;
        double sp = 0, sb = 0;
        for (size_t i = lo; i < hi; i++) {
            sp += s[i].p;
            sb += s[i].bought;
        }
        double gap = fabs(sp - sb) / (double)(hi - lo);
        *max_gap = gap > *max_gap ? gap : *max_gap;
    }
}

static void test_p_buy_beats_the_model_out_of_sample(void **state)
{
    (void)state;
    /* who bought in the 39 weeks after the as-of date (ids run 1..23570) */
    enum { MAX_ID = 23571 };
    static int bought[MAX_ID];
    FILE *f = fopen(master, "r");
    assert_non_null(f);
    char line[256];
    while (fgets(line, sizeof line, f)) {
        long id, date;
        if (sscanf(line, "%ld %ld", &id, &date) == 2 && id > 0 && id < MAX_ID && date >= 19971001 &&
            date <= 19980630)
            bought[id] = 1;
    }
    fclose(f);

    char path[600];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(h >= 0);
    int64_t *id = NULL;
    double *p_buy = NULL, *no_buy = NULL;
    size_t n, n2, n3;
    id = sgs_test_column(h, "/customers/customer_id", SGS_H5_I64, &n);
    p_buy = sgs_test_column(h, "/clv/p_buy", SGS_H5_F64, &n2);
    no_buy = sgs_test_column(h, "/clv/prob_no_purchase", SGS_H5_F64, &n3);
    H5Fclose(h);
    assert_int_equal(n, 23570);
    assert_true(n2 == n && n3 == n);
    scored_t *cal = malloc(n * sizeof *cal), *raw = malloc(n * sizeof *raw);
    for (size_t i = 0; i < n; i++) {
        int b = id[i] > 0 && id[i] < MAX_ID && bought[id[i]];
        cal[i] = (scored_t){p_buy[i], b, id[i]};
        raw[i] = (scored_t){1 - no_buy[i], b, id[i]};
    }
    double brier_cal, gap_cal, brier_raw, gap_raw;
    assess(cal, n, &brier_cal, &gap_cal);
    assess(raw, n, &brier_raw, &gap_raw);
    printf("out of sample: Brier %.4f (model) -> %.4f (p_buy); largest decile gap %.3f -> %.3f\n",
           brier_raw, brier_cal, gap_raw, gap_cal);
    assert_true(brier_cal < brier_raw);
    assert_true(gap_cal < gap_raw);
    free(cal);
    free(raw);
    free(id);
    free(p_buy);
    free(no_buy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p_buy_beats_the_model_out_of_sample),
    };
    char probe[512];
    if (!sgs_test_shared_data("cdnow/CDNOW_master.txt", probe, sizeof probe)) {
        fprintf(stderr, "skipped: ../shared/data/cdnow is absent\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
