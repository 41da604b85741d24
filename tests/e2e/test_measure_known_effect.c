/*
 * tests/e2e/test_measure_known_effect.c — the loop the engine serves, end to end, on a
 * population whose effects are known: `generate` (20,000 buyers, seed 8) -> `run` as of the
 * window's last day (the list, with 20% control groups) -> `generate --continue-from` the
 * next 60 days, contacting the listed treatment customers with a known effect per kind
 * (response 0.15, purchase rate x 2) -> `measure` -> `run --learn-from`.
 *
 * Checked against /truth/effects (the expected differences over each kind's listed customers):
 *   - every conclusive all-channel difference (response rate, share who bought, revenue per
 *     customer) lies within four of its standard errors of the truth (the standard error
 *     read off its reported 95% interval), and the 95% intervals contain the truth in all but
 *     at most 1 + n/5 of the n comparisons (more misses than that has a binomial probability
 *     under 0.1% when the intervals cover 95%);
 *   - the response effect is found: every conclusive response-rate interval lies above 0;
 *   - the control group shows no effect: not one control customer responded (nobody
 *     contacted them), and the share of control customers who bought is the truth's
 *     no-contact expectation within four binomial standard errors;
 *   - a run that learns from the measurement scales each kind measured conclusively.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "kernels/opportunities.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256];

#define Z95 1.959963984540054

static void run_ok(const char *args)
{
    char out[16384];
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("segscore %s failed (%d): %s", args, status, out);
}

typedef struct truth {
    int present;
    int64_t n_treatment, n_control;
    double response_diff, bought_diff, revenue_diff, control_bought;
} truth_t;

static void read_truth(const char *path, truth_t t[SGS_OPP_KIND_COUNT])
{
    memset(t, 0, SGS_OPP_KIND_COUNT * sizeof *t);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n;
    uint8_t *kind = sgs_test_column(f, "/truth/effects/kind", SGS_H5_U8, &n);
    int64_t *nt = sgs_test_column(f, "/truth/effects/n_treatment", SGS_H5_I64, &n);
    int64_t *nc = sgs_test_column(f, "/truth/effects/n_control", SGS_H5_I64, &n);
    double *rd = sgs_test_column(f, "/truth/effects/response_rate_diff", SGS_H5_F64, &n);
    double *bd = sgs_test_column(f, "/truth/effects/bought_share_diff", SGS_H5_F64, &n);
    double *vd = sgs_test_column(f, "/truth/effects/revenue_diff", SGS_H5_F64, &n);
    double *cb = sgs_test_column(f, "/truth/effects/control_bought_share", SGS_H5_F64, &n);
    H5Fclose(f);
    for (size_t r = 0; r < n; r++) {
        sgs_assert_cmp(kind[r], >=, 1);
        sgs_assert_cmp(kind[r], <, SGS_OPP_KIND_COUNT);
        truth_t *x = &t[kind[r]];
        x->present = 1;
        x->n_treatment = nt[r];
        x->n_control = nc[r];
        x->response_diff = rd[r];
        x->bought_diff = bd[r];
        x->revenue_diff = vd[r];
        x->control_bought = cb[r];
    }
    sgs_free(kind);
    sgs_free(nt);
    sgs_free(nc);
    sgs_free(rd);
    sgs_free(bd);
    sgs_free(vd);
    sgs_free(cb);
}

static void test_measured_effects_match_the_truth(void **state)
{
    (void)state;
    char base[512], results[600], next[600], mjson[600], mh5[600], args[4096], sub[512];
    snprintf(base, sizeof base, "%s/base.h5", dir);
    snprintf(sub, sizeof sub, "%s/list", dir);
    mkdir(sub, 0755);
    snprintf(results, sizeof results, "%s/results.h5", sub);
    snprintf(next, sizeof next, "%s/next.h5", dir);
    snprintf(mjson, sizeof mjson, "%s/measure.json", dir);
    snprintf(mh5, sizeof mh5, "%s/measure.h5", dir);
    snprintf(args, sizeof args, "generate -q --customers 20000 --seed 8 -o '%s'", base);
    run_ok(args);
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s' --as-of 2024-06-30 --set actions.control_share=0.2", base,
             results);
    run_ok(args);
    snprintf(args, sizeof args,
             "generate -q --continue-from '%s' --list '%s' --days 60 --effect all=0.15,1 -o '%s'",
             base, results, next);
    run_ok(args);
    snprintf(args, sizeof args, "measure -q -r '%s' -i '%s' --json '%s' -o '%s'", results, next,
             mjson, mh5);
    run_ok(args);

    truth_t truth[SGS_OPP_KIND_COUNT];
    read_truth(next, truth);
    cJSON *m = sgs_test_read_json(mjson);
    const cJSON *lines = cJSON_GetObjectItem(m, "lines");
    static const struct {
        const char *metric;
        size_t offset;
    } metrics[] = {{"response_rate", offsetof(truth_t, response_diff)},
                   {"bought_share", offsetof(truth_t, bought_diff)},
                   {"revenue_per_customer", offsetof(truth_t, revenue_diff)}};
    int n_checked = 0, n_inside = 0, n_response_found = 0, n_kinds = 0;
    const cJSON *line;
    cJSON_ArrayForEach(line, lines)
    {
        const char *kind_name = cJSON_GetObjectItem(line, "kind")->valuestring;
        const char *channel = cJSON_GetObjectItem(line, "channel")->valuestring;
        int kind = 0;
        for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
            if (strcmp(sgs_opportunity_kind_name(k), kind_name) == 0)
                kind = k;
        assert_int_not_equal(kind, 0);
        const cJSON *metrics_of = cJSON_GetObjectItem(line, "metrics");
        /* the control group: never contacted, so never a response, on any line */
        const cJSON *resp = cJSON_GetObjectItem(metrics_of, "response_rate");
        if (cJSON_GetObjectItem(resp, "n_control")->valuedouble > 0)
            sgs_assert_cmp(cJSON_GetObjectItem(resp, "control")->valuedouble, ==, 0.0);
        if (strcmp(channel, "all") != 0)
            continue;
        if (!truth[kind].present)
            fail_msg("%s measured, but not in the truth of the input", kind_name);
        n_kinds++;
        /* the control's share who bought is the no-contact expectation */
        const cJSON *bought = cJSON_GetObjectItem(metrics_of, "bought_share");
        double nc = cJSON_GetObjectItem(bought, "n_control")->valuedouble;
        if (nc >= 30) {
            double p = truth[kind].control_bought, se = sqrt(p * (1 - p) / nc) + 1e-12;
            double got = cJSON_GetObjectItem(bought, "control")->valuedouble;
            if (fabs(got - p) > 4 * se)
                fail_msg("%s: control bought %.4f, truth %.4f (se %.4f)", kind_name, got, p, se);
        }
        for (size_t k = 0; k < sizeof metrics / sizeof metrics[0]; k++) {
            const cJSON *x = cJSON_GetObjectItem(metrics_of, metrics[k].metric);
            if (!cJSON_IsTrue(cJSON_GetObjectItem(x, "conclusive")))
                continue;
            double want = *(const double *)((const char *)&truth[kind] + metrics[k].offset);
            double diff = cJSON_GetObjectItem(x, "diff")->valuedouble;
            const cJSON *ci = cJSON_GetObjectItem(x, "ci95");
            double lo = cJSON_GetArrayItem(ci, 0)->valuedouble,
                   hi = cJSON_GetArrayItem(ci, 1)->valuedouble;
            double se = (hi - lo) / (2 * Z95);
            n_checked++;
            n_inside += lo <= want && want <= hi;
            if (fabs(diff - want) > 4 * se)
                fail_msg("%s %s: measured %.4f [%.4f, %.4f], truth %.4f: %.1f standard errors off",
                         kind_name, metrics[k].metric, diff, lo, hi, want, (diff - want) / se);
            if (k == 0) {
                sgs_assert_cmp(lo, >, 0.0); /* the response effect is found */
                n_response_found++;
            }
        }
    }
    print_message("%d kinds measured, %d conclusive comparisons, %d inside their 95%% interval\n",
                  n_kinds, n_checked, n_inside);
    sgs_assert_cmp(n_kinds, >=, 5);
    sgs_assert_cmp(n_checked, >=, 9);
    sgs_assert_cmp(n_response_found, >=, 3);
    sgs_assert_cmp(n_inside, >=, n_checked - 1 - n_checked / 5);
    cJSON_Delete(m);

    /* the next run learns from it: every kind measured conclusively gets its scale */
    snprintf(sub, sizeof sub, "%s/learned", dir);
    mkdir(sub, 0755);
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s/results.h5' --as-of 2024-08-29 --learn-from '%s'", next, sub,
             mh5);
    run_ok(args);
    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", sub);
    cJSON *s = sgs_test_read_json(path);
    const cJSON *per_kind = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(s, "opportunities"), "learned"), "per_kind");
    int applied = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, per_kind) applied += cJSON_IsTrue(cJSON_GetObjectItem(k, "applied"));
    sgs_assert_cmp(applied, >=, 3);
    cJSON_Delete(s);
}

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-known-effect", dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measured_effects_match_the_truth),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
