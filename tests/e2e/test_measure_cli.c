/*
 * tests/e2e/test_measure_cli.c — `segscore measure` end to end.
 *
 * Generated data: `segscore generate --customers 20000 --seed 5` (2021-07-01 .. 2024-06-30),
 * `segscore run --as-of 2024-03-31` on it gives the list; the same generated file is the
 * newer input (it goes on to 2024-06-30). Checked: the table, JSON and HDF5 agree; identical
 * bytes for 1, 2 and 3 threads; one kind's revenue per customer against a recomputation from
 * the input's columns; --days; a list without control groups; every error with its exit
 * status, the earlier outputs left byte for byte.
 *
 * Hand-built files: a list and a newer input where the effect is known exactly (win_back:
 * 60 of 100 treated buy 30 and one refunds 10, 20 of 100 controls buy 30; responses 30 and 5
 * of 100; renewal_at_risk: 30 of 40 against 10 of 20 renew; detractor_follow_up: a survey
 * change of +4 for 35 treated and +1 for 30 controls), and the computed differences,
 * intervals and flags asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "kernels/dates.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256], input[512], results[512], results0[512];

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-measure", dir, sizeof dir);
    snprintf(input, sizeof input, "%s/gen.h5", dir);
    snprintf(results, sizeof results, "%s/run/results.h5", dir);
    snprintf(results0, sizeof results0, "%s/run0/results.h5", dir);
    char args[4096], out[4096];
    snprintf(args, sizeof args,
             "mkdir -p '%s/run' '%s/run0' && '%s' generate -q --customers 20000 --seed 5 -o '%s' "
             "&& '%s' run -q -i '%s' -o '%s' --as-of 2024-03-31 && '%s' run -q -i '%s' -o '%s' "
             "--as-of 2024-03-31 --set actions.control_share=0",
             dir, dir, SGS_TEST_BINARY, input, SGS_TEST_BINARY, input, results, SGS_TEST_BINARY,
             input, results0);
    int status = sgs_test_shell(args, out, sizeof out);
    if (status != 0) {
        print_error("generate or run failed (%d): %s\n", status, out);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

static int measure(const char *extra, char *out, size_t size)
{
    char args[8192];
    snprintf(args, sizeof args, "measure -q %s", extra);
    return sgs_test_run(args, out, size);
}

static cJSON *load_json(const char *path)
{
    char *text = sgs_test_read_file(path, NULL);
    if (!text)
        fail_msg("%s is missing", path);
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root)
        fail_msg("%s does not parse as JSON", path);
    return root;
}

static cJSON *item(const cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItem(o, key);
    if (!v)
        fail_msg("JSON key \"%s\" missing", key);
    return v;
}

static double num(const cJSON *o, const char *key)
{
    cJSON *v = item(o, key);
    return cJSON_IsNull(v) ? (double)NAN : v->valuedouble;
}

/* The line of `kind` and `channel` ("all" for the kind's total). */
static cJSON *line_of(const cJSON *root, const char *kind, const char *channel)
{
    cJSON *l;
    cJSON_ArrayForEach(l, item(root, "lines"))
    {
        if (strcmp(item(l, "kind")->valuestring, kind) == 0 &&
            strcmp(item(l, "channel")->valuestring, channel) == 0)
            return l;
    }
    fail_msg("no line %s / %s", kind, channel);
    return NULL;
}

static void *read_col(hid_t f, const char *path, sgs_h5_type_t type, size_t *n)
{
    void *data = NULL;
    sgs_error_t err = {0};
    if (sgs_h5_read_column(f, path, type, &data, n, &err) != 0)
        fail_msg("%s", err.message);
    return data;
}

static double attr_d(hid_t f, const char *name)
{
    double v = NAN;
    sgs_error_t err = {0};
    if (sgs_h5_attr_read_double(f, "/", name, &v, &err) != 0)
        fail_msg("%s", err.message);
    return v;
}

/* ---- generated data ------------------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Mean window revenue of the rows of `kind` and group `group` of the list, from the columns. */
static double recompute_revenue_mean(int kind, int group, int64_t *n_out)
{
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n, n2, n3;
    int64_t *id = read_col(f, "/opportunities/customer_id", SGS_H5_I64, &n);
    uint8_t *k = read_col(f, "/opportunities/kind", SGS_H5_U8, &n2);
    uint8_t *g = read_col(f, "/opportunities/group", SGS_H5_U8, &n3);
    H5Fclose(f);
    sgs_test_transactions_t t;
    sgs_test_read_transactions(input, &t);
    size_t m = 0;
    int64_t *sel = malloc(n * sizeof *sel);
    for (size_t i = 0; i < n; i++)
        if (k[i] == kind && g[i] == group)
            sel[m++] = id[i];
    qsort(sel, m, sizeof *sel, cmp_i64);
    double *sum = calloc(m, sizeof *sum);
    int64_t as_of = 0;
    sgs_date_parse_day("2024-03-31", &as_of);
    for (size_t r = 0; r < t.n; r++) {
        int64_t day = t.time_s[r] / 86400;
        if (day <= as_of)
            continue;
        int64_t *hit = bsearch(&t.customer_id[r], sel, m, sizeof *sel, cmp_i64);
        if (hit)
            sum[hit - sel] += t.amount[r];
    }
    double total = 0;
    for (size_t i = 0; i < m; i++)
        total += sum[i];
    *n_out = (int64_t)m;
    free(sel);
    free(sum);
    free(id);
    free(k);
    free(g);
    sgs_test_free_transactions(&t);
    return total / (double)m;
}

static void test_outputs_agree_and_threads(void **state)
{
    (void)state;
    char args[4096], out[65536], j[3][512], h[3][512];
    for (int t = 0; t < 3; t++) {
        snprintf(j[t], sizeof j[t], "%s/m%d.json", dir, t + 1);
        snprintf(h[t], sizeof h[t], "%s/m%d.h5", dir, t + 1);
        snprintf(args, sizeof args, "-r '%s' -i '%s' --threads %d --json '%s' -o '%s'", results,
                 input, t + 1, j[t], h[t]);
        int status = measure(args, out, sizeof out);
        if (status != 0)
            fail_msg("measure --threads %d: exit %d: %s", t + 1, status, out);
    }
    sgs_assert_files_equal(j[0], j[1]);
    sgs_assert_files_equal(j[0], j[2]);
    sgs_assert_files_equal(h[0], h[1]);
    sgs_assert_files_equal(h[0], h[2]);
    /* the table */
    sgs_assert_contains(out, "outcome window: 2024-04-01 .. 2024-06-30 (91 days)");
    sgs_assert_contains(out, "win_back");
    sgs_assert_contains(out, "  all channels");
    sgs_assert_contains(out, "cumulative impact");
    sgs_assert_contains(out, "inconclusive: control");

    cJSON *root = load_json(j[0]);
    cJSON *list = item(root, "list");
    assert_string_equal(item(list, "as_of")->valuestring, "2024-03-31");
    hid_t r = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    size_t n_rows;
    uint8_t *grp = read_col(r, "/opportunities/group", SGS_H5_U8, &n_rows);
    H5Fclose(r);
    int64_t n_control = 0;
    for (size_t i = 0; i < n_rows; i++)
        n_control += grp[i];
    free(grp);
    sgs_assert_cmp(num(list, "rows"), ==, (double)n_rows);
    sgs_assert_cmp(num(list, "control_rows"), ==, (double)n_control);
    sgs_assert_cmp(n_control, >, 0);

    /* win_back over all channels: the treated revenue per customer from the columns */
    cJSON *wb = item(item(line_of(root, "win_back", "all"), "metrics"), "revenue_per_customer");
    int64_t n_t = 0, n_c = 0;
    double mean_t = recompute_revenue_mean(3, 0, &n_t), mean_c = recompute_revenue_mean(3, 1, &n_c);
    sgs_assert_cmp(num(wb, "n_treated"), ==, (double)n_t);
    sgs_assert_cmp(num(wb, "n_control"), ==, (double)n_c);
    sgs_assert_close(num(wb, "treated"), mean_t, 1e-9, 1e-12);
    sgs_assert_close(num(wb, "control"), mean_c, 1e-9, 1e-12);
    sgs_assert_close(num(wb, "diff"), mean_t - mean_c, 1e-9, 1e-12);
    cJSON *ci = item(wb, "ci95");
    sgs_assert_cmp(cJSON_GetArrayItem(ci, 0)->valuedouble, <, num(wb, "diff"));
    sgs_assert_cmp(cJSON_GetArrayItem(ci, 1)->valuedouble, >, num(wb, "diff"));
    /* the incremental revenue of win_back and the cumulative impact */
    cJSON *inc = item(item(root, "incremental_revenue"), "win_back");
    sgs_assert_close(num(inc, "diff"), (mean_t - mean_c) * (double)n_t, 1e-6, 1e-9);

    /* the HDF5 report says the same */
    hid_t f = H5Fopen(h[0], H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t nl, n2;
    uint8_t *kind = read_col(f, "/lines/kind", SGS_H5_U8, &nl);
    uint8_t *chan = read_col(f, "/lines/channel", SGS_H5_U8, &n2);
    double *diff = read_col(f, "/lines/revenue_per_customer/diff", SGS_H5_F64, &n2);
    int64_t *nt = read_col(f, "/lines/n_treated", SGS_H5_I64, &n2);
    sgs_assert_cmp(nl, ==, (size_t)cJSON_GetArraySize(item(root, "lines")));
    int found = 0;
    for (size_t i = 0; i < nl; i++)
        if (kind[i] == 3 && chan[i] == 8) {
            found = 1;
            sgs_assert_close(diff[i], num(wb, "diff"), 0, 0);
            sgs_assert_cmp(nt[i], ==, n_t);
        }
    if (!found)
        fail_msg("no line of kind 3 on channel 8 among the %zu of /lines", nl);
    cJSON *cum = item(root, "cumulative_impact");
    sgs_assert_close(attr_d(f, "cumulative_impact"), num(cum, "diff"), 0, 0);
    sgs_assert_close(attr_d(f, "cumulative_lo"),
                     cJSON_GetArrayItem(item(cum, "ci95"), 0)->valuedouble, 0, 0);
    H5Fclose(f);
    free(kind);
    free(chan);
    free(diff);
    free(nt);
    cJSON_Delete(root);
}

static void test_days_and_no_control(void **state)
{
    (void)state;
    char args[4096], out[65536], js[512];
    snprintf(js, sizeof js, "%s/days.json", dir);
    snprintf(args, sizeof args, "-r '%s' -i '%s' --days 30 --json '%s'", results, input, js);
    assert_int_equal(measure(args, out, sizeof out), 0);
    cJSON *root = load_json(js);
    cJSON *w = item(root, "window");
    assert_string_equal(item(w, "first_day")->valuestring, "2024-04-01");
    assert_string_equal(item(w, "last_day")->valuestring, "2024-04-30");
    sgs_assert_cmp(num(w, "days"), ==, 30);
    sgs_assert_cmp(num(item(root, "input"), "transactions_after_window"), ==, 0); /* not read */
    cJSON_Delete(root);

    /* a list without control groups: the treated figures, no comparison, exit 0 */
    snprintf(js, sizeof js, "%s/nocontrol.json", dir);
    snprintf(args, sizeof args, "-r '%s' -i '%s' --json '%s'", results0, input, js);
    int status = measure(args, out, sizeof out);
    if (status != 0)
        fail_msg("exit %d: %s", status, out);
    sgs_assert_contains(out, "no control group");
    sgs_assert_contains(out, "no kind has a comparison");
    root = load_json(js);
    sgs_assert_cmp(num(item(root, "list"), "control_rows"), ==, 0);
    cJSON *m = item(item(line_of(root, "win_back", "all"), "metrics"), "bought_share");
    assert_string_equal(item(m, "reason")->valuestring, "no_control");
    sgs_assert_finite(num(m, "treated"));
    sgs_assert_nan(num(m, "diff"));
    cJSON *cum = item(root, "cumulative_impact");
    sgs_assert_cmp(num(cum, "kinds_included"), ==, 0);
    sgs_assert_json(cJSON_IsFalse, item(cum, "conclusive"));
    sgs_assert_cmp(cJSON_GetArraySize(item(root, "warnings")), >=, 1);
    cJSON_Delete(root);
}

/* ---- hand-built files ------------------------------------------------------------------------ */

typedef struct list_spec {
    const char *version; /* NULL: no /@engine_version */
    const char *as_of;   /* NULL: no /@as_of */
    int with_list;       /* 0: no /opportunities */
    int with_group;      /* 0: no /opportunities/group */
    int bad_group_row;   /* >= 0: that row's group is 3 */
} list_spec_t;

/* The list of the known-effect case: ids 1..200 win_back on email (1..100 treated), 201..260
 * renewal_at_risk on phone (201..240 treated), 301..380 detractor_follow_up on mail
 * (301..340 treated). */
static size_t list_rows(int64_t *id, uint8_t *kind, uint8_t *chan, uint8_t *grp)
{
    size_t n = 0;
    for (int64_t c = 1; c <= 380; c++) {
        if (c > 260 && c <= 300)
            continue;
        id[n] = c;
        kind[n] = c <= 200 ? 3 : c <= 260 ? 2 : 7;
        chan[n] = c <= 200 ? 5 : c <= 260 ? 4 : 7;
        grp[n] = c <= 200 ? c > 100 : c <= 260 ? c > 240 : c > 340;
        n++;
    }
    return n;
}

static void write_list(const char *path, const list_spec_t *s)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    sgs_error_t err = {0};
    int64_t id[400];
    uint8_t kind[400], chan[400], grp[400];
    size_t n = list_rows(id, kind, chan, grp);
    if (s->bad_group_row >= 0)
        grp[s->bad_group_row] = 3;
    int rc = 0;
    if (s->with_list) {
        rc |= sgs_h5_write_column(f, "/opportunities/customer_id", SGS_H5_I64, id, n, 0, &err);
        rc |= sgs_h5_write_column(f, "/opportunities/kind", SGS_H5_U8, kind, n, 0, &err);
        rc |= sgs_h5_write_column(f, "/opportunities/channel", SGS_H5_U8, chan, n, 0, &err);
        if (s->with_group)
            rc |= sgs_h5_write_column(f, "/opportunities/group", SGS_H5_U8, grp, n, 0, &err);
        double value[400]; /* what the run assumed: 10 + id mod 7 */
        for (size_t r = 0; r < n; r++)
            value[r] = 10.0 + (double)(id[r] % 7);
        rc |=
            sgs_h5_write_column(f, "/opportunities/value_at_stake", SGS_H5_F64, value, n, 0, &err);
    }
    if (s->version)
        rc |= sgs_h5_attr_string(f, "/", "engine_version", s->version, &err);
    if (s->as_of)
        rc |= sgs_h5_attr_string(f, "/", "as_of", s->as_of, &err);
    assert_int_equal(rc, 0);
    H5Fclose(f);
}

#define D0 19753 /* 2024-01-31 as a day number: the list's as-of day */

/* The newer input of the known-effect case (see the top). */
static void write_input(const char *path)
{
    int64_t tc[1000], tt[1000], ec[1000], et[1000];
    double ta[1000], ev[1000];
    uint8_t ek[1000];
    size_t nt = 0, ne = 0;
#define TX(c, day, amount)                                                                         \
    do {                                                                                           \
        tc[nt] = (c);                                                                              \
        tt[nt] = (int64_t)(day)*86400 + 3600;                                                      \
        ta[nt++] = (amount);                                                                       \
    } while (0)
#define EV(c, day, k, v)                                                                           \
    do {                                                                                           \
        ec[ne] = (c);                                                                              \
        et[ne] = (int64_t)(day)*86400 + 7200;                                                      \
        ek[ne] = (k);                                                                              \
        ev[ne++] = (v);                                                                            \
    } while (0)
    for (int64_t c = 1; c <= 380; c++)
        TX(c, D0 - 10, 100.0); /* history: not in the window */
    for (int64_t c = 1; c <= 60; c++)
        TX(c, D0 + 5, 30.0);
    TX(1, D0 + 6, -10.0);
    for (int64_t c = 101; c <= 120; c++)
        TX(c, D0 + 5, 30.0);
    TX(999, D0 + 5, 500.0);   /* not listed */
    TX(998, D0 + 60, 1000.0); /* not listed, on the last day: the window ends there */
    for (int64_t c = 1; c <= 30; c++)
        EV(c, D0 + 2, 8, NAN);
    for (int64_t c = 101; c <= 105; c++)
        EV(c, D0 + 2, 8, NAN);
    EV(106, D0, 8, NAN); /* on the as-of day: history, not a response */
    for (int64_t c = 201; c <= 230; c++)
        EV(c, D0 + 20, 4, NAN);
    for (int64_t c = 241; c <= 250; c++)
        EV(c, D0 + 20, 4, NAN);
    for (int64_t c = 301; c <= 380; c++)
        EV(c, D0 - 3, 6, 2.0);
    for (int64_t c = 301; c <= 335; c++)
        EV(c, D0 + 10, 6, 6.0);
    for (int64_t c = 341; c <= 370; c++)
        EV(c, D0 + 10, 6, 3.0);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    sgs_error_t err = {0};
    int rc = 0;
    rc |= sgs_h5_write_column(f, "/transactions/customer_id", SGS_H5_I64, tc, nt, 0, &err);
    rc |= sgs_h5_write_column(f, "/transactions/time", SGS_H5_I64, tt, nt, 0, &err);
    rc |= sgs_h5_write_column(f, "/transactions/amount", SGS_H5_F64, ta, nt, 0, &err);
    rc |= sgs_h5_write_column(f, "/events/customer_id", SGS_H5_I64, ec, ne, 0, &err);
    rc |= sgs_h5_write_column(f, "/events/time", SGS_H5_I64, et, ne, 0, &err);
    rc |= sgs_h5_write_column(f, "/events/kind", SGS_H5_U8, ek, ne, 0, &err);
    rc |= sgs_h5_write_column(f, "/events/value", SGS_H5_F64, ev, ne, 0, &err);
    assert_int_equal(rc, 0);
    H5Fclose(f);
#undef TX
#undef EV
}

static void wilson(double x, double n, double *lo, double *hi)
{
    const double z = 1.9599639845400536;
    double p = x / n, c = p + z * z / (2 * n), h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    *lo = (c - h) / (1 + z * z / n);
    *hi = (c + h) / (1 + z * z / n);
}

static void check_metric(const cJSON *line, const char *metric, double diff, double lo, double hi,
                         const char *reason)
{
    cJSON *m = item(item(line, "metrics"), metric);
    sgs_assert_close(num(m, "diff"), diff, 1e-12, 1e-12);
    cJSON *ci = item(m, "ci95");
    sgs_assert_close(cJSON_GetArrayItem(ci, 0)->valuedouble, lo, 1e-9, 1e-12);
    sgs_assert_close(cJSON_GetArrayItem(ci, 1)->valuedouble, hi, 1e-9, 1e-12);
    assert_string_equal(item(m, "reason")->valuestring, reason);
    assert_int_equal(cJSON_IsTrue(item(m, "conclusive")), strcmp(reason, "conclusive") == 0);
}

static void test_known_effect(void **state)
{
    (void)state;
    char list[512], in[512], js[512], h5[512], args[4096], out[65536];
    snprintf(list, sizeof list, "%s/known_list.h5", dir);
    snprintf(in, sizeof in, "%s/known_input.h5", dir);
    snprintf(js, sizeof js, "%s/known.json", dir);
    snprintf(h5, sizeof h5, "%s/known.h5", dir);
    list_spec_t s = {"0.1.0", "2024-01-31", 1, 1, -1};
    write_list(list, &s);
    write_input(in);
    snprintf(args, sizeof args, "-r '%s' -i '%s' --json '%s' -o '%s'", list, in, js, h5);
    int status = measure(args, out, sizeof out);
    if (status != 0)
        fail_msg("exit %d: %s", status, out);
    sgs_assert_contains(out, "outcome window: 2024-02-01 .. 2024-03-31 (60 days)");
    cJSON *root = load_json(js);
    const double z = 1.9599639845400536;

    /* the value the run assumed, per treated win_back row (ids 1..100): 10 + id mod 7 */
    double assumed = 0;
    for (int64_t c = 1; c <= 100; c++)
        assumed += (10.0 + (double)(c % 7)) / 100.0;
    sgs_assert_close(
        num(item(item(root, "incremental_revenue"), "win_back"), "assumed_value_per_customer"),
        assumed, 0, 1e-12);

    /* win_back: revenue treated (60 x 30 - 10) / 100 = 17.9, control 20 x 30 / 100 = 6 */
    cJSON *wb = line_of(root, "win_back", "email");
    double rt[100], rc[100];
    for (int i = 0; i < 100; i++) {
        rt[i] = i < 60 ? 30.0 : 0.0;
        rc[i] = i < 20 ? 30.0 : 0.0;
    }
    rt[0] -= 10.0;
    double mt = 0, mc = 0, st = 0, sc = 0;
    for (int i = 0; i < 100; i++) {
        mt += rt[i] / 100;
        mc += rc[i] / 100;
    }
    for (int i = 0; i < 100; i++) {
        st += (rt[i] - mt) * (rt[i] - mt) / 99;
        sc += (rc[i] - mc) * (rc[i] - mc) / 99;
    }
    double se = sqrt(st / 100 + sc / 100);
    check_metric(wb, "revenue_per_customer", 11.9, 11.9 - z * se, 11.9 + z * se, "conclusive");
    cJSON *rev = item(item(wb, "metrics"), "revenue_per_customer");
    sgs_assert_close(num(rev, "treated"), 17.9, 1e-12, 0);
    sgs_assert_close(num(rev, "control"), 6.0, 1e-12, 0);
    /* bought 60% against 20%, responses 30% against 5%: Newcombe from Wilson */
    double lt, ut, lc, uc;
    wilson(60, 100, &lt, &ut);
    wilson(20, 100, &lc, &uc);
    check_metric(wb, "bought_share", 0.4,
                 0.4 - sqrt((0.6 - lt) * (0.6 - lt) + (uc - 0.2) * (uc - 0.2)),
                 0.4 + sqrt((ut - 0.6) * (ut - 0.6) + (0.2 - lc) * (0.2 - lc)), "conclusive");
    wilson(30, 100, &lt, &ut);
    wilson(5, 100, &lc, &uc);
    check_metric(wb, "response_rate", 0.25,
                 0.25 - sqrt((0.3 - lt) * (0.3 - lt) + (uc - 0.05) * (uc - 0.05)),
                 0.25 + sqrt((ut - 0.3) * (ut - 0.3) + (0.05 - lc) * (0.05 - lc)), "conclusive");
    assert_null(cJSON_GetObjectItem(item(wb, "metrics"), "renewal_kept"));
    /* the email line is the kind's only channel: the total says the same */
    cJSON *wb_all = item(item(line_of(root, "win_back", "all"), "metrics"), "revenue_per_customer");
    sgs_assert_close(num(wb_all, "diff"), 11.9, 1e-12, 1e-12);

    /* renewal_at_risk: 30/40 against 10/20, the control arm is too small */
    cJSON *ren = line_of(root, "renewal_at_risk", "all");
    wilson(30, 40, &lt, &ut);
    wilson(10, 20, &lc, &uc);
    check_metric(ren, "renewal_kept", 0.25,
                 0.25 - sqrt((0.75 - lt) * (0.75 - lt) + (uc - 0.5) * (uc - 0.5)),
                 0.25 + sqrt((ut - 0.75) * (ut - 0.75) + (0.5 - lc) * (0.5 - lc)), "small_control");
    /* detractor_follow_up: +4 for 35 treated, +1 for 30 controls, no variance in either */
    cJSON *det = line_of(root, "detractor_follow_up", "mail");
    check_metric(det, "survey_change", 3.0, 3.0, 3.0, "no_variance");
    cJSON *sv = item(item(det, "metrics"), "survey_change");
    sgs_assert_cmp(num(sv, "n_treated"), ==, 35);
    sgs_assert_cmp(num(sv, "n_control"), ==, 30);

    /* incremental revenue 11.9 x 100; the cumulative impact adds two kinds without revenue
     * (difference 0, variance 0) and is not conclusive: renewal_at_risk's control is small */
    cJSON *inc = item(item(root, "incremental_revenue"), "win_back");
    sgs_assert_close(num(inc, "diff"), 1190.0, 1e-9, 1e-12);
    sgs_assert_close(cJSON_GetArrayItem(item(inc, "ci95"), 0)->valuedouble, 100 * (11.9 - z * se),
                     1e-7, 1e-12);
    cJSON *cum = item(root, "cumulative_impact");
    sgs_assert_close(num(cum, "diff"), 1190.0, 1e-9, 1e-12);
    sgs_assert_close(cJSON_GetArrayItem(item(cum, "ci95"), 1)->valuedouble, 1190.0 + z * 100 * se,
                     1e-7, 1e-12);
    sgs_assert_cmp(num(cum, "kinds_included"), ==, 3);
    sgs_assert_json(cJSON_IsFalse, item(cum, "conclusive"));
    assert_string_equal(item(cum, "reason")->valuestring, "small_control");
    cJSON *inp = item(root, "input");
    sgs_assert_cmp(num(inp, "transactions_before_window"), ==, 380);
    sgs_assert_cmp(num(inp, "events_before_window"), ==, 81);

    /* the HDF5 report agrees */
    hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t nk;
    double *ir = read_col(f, "/kinds/incremental_revenue", SGS_H5_F64, &nk);
    uint8_t *kk = read_col(f, "/kinds/kind", SGS_H5_U8, &nk);
    assert_int_equal(nk, 3);
    assert_int_equal(kk[1], 3);
    sgs_assert_close(ir[1], 1190.0, 1e-9, 1e-12);
    sgs_assert_close(attr_d(f, "cumulative_impact"), 1190.0, 1e-9, 1e-12);
    H5Fclose(f);
    free(ir);
    free(kk);
    cJSON_Delete(root);
}

static void test_errors(void **state)
{
    (void)state;
    char good_h5[512], good_js[512], args[4096], out[65536], hand_in[512], bad[512];
    snprintf(good_h5, sizeof good_h5, "%s/keep/keep.h5", dir);
    snprintf(good_js, sizeof good_js, "%s/keep/keep.json", dir);
    snprintf(hand_in, sizeof hand_in, "%s/errors_input.h5", dir);
    snprintf(bad, sizeof bad, "%s/keep", dir);
    mkdir(bad, 0755);
    write_input(hand_in);
    snprintf(args, sizeof args, "-r '%s' -i '%s' -o '%s' --json '%s'", results, input, good_h5,
             good_js);
    assert_int_equal(measure(args, out, sizeof out), 0);
    sgs_test_snapshot_t before;
    sgs_test_snapshot(bad, &before);

    static const struct {
        list_spec_t spec;
        const char *message;
    } lists[] = {
        {{NULL, "2024-01-31", 1, 1, -1}, "/@engine_version is missing"},
        {{"9.0.0", "2024-01-31", 1, 1, -1}, "newer than this engine"},
        {{"0.1.0", NULL, 1, 1, -1}, "/@as_of is missing"},
        {{"0.1.0", "2024-02-30", 1, 1, -1}, "/@as_of \"2024-02-30\" is not a date"},
        {{"0.1.0", "2024-01-31", 0, 0, -1}, "/opportunities is missing"},
        {{"0.1.0", "2024-01-31", 1, 0, -1}, "/opportunities/group is missing"},
        {{"0.1.0", "2024-01-31", 1, 1, 7}, "/opportunities/group: row 7: group 3 is not 0..1"},
        {{"0.1.0", "2024-03-31", 1, 1, -1},
         "the data end on or before the list's as-of date "
         "2024-03-31 (last transaction 2024-03-31"},
    };
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s/bad%zu.h5", dir, k);
        write_list(path, &lists[k].spec);
        snprintf(args, sizeof args, "-r '%s' -i '%s' -o '%s' --json '%s'", path, hand_in, good_h5,
                 good_js);
        int status = measure(args, out, sizeof out);
        if (status != 65 || !strstr(out, lists[k].message) || !strstr(out, path))
            fail_msg("list %zu: exit %d (expected 65 naming %s and \"%s\"): %s", k, status, path,
                     lists[k].message, out);
    }
    static const struct {
        const char *args;
        int status;
        const char *message;
    } cases[] = {
        {"-i IN", 64, "-r RESULTS is required"},
        {"-r RES", 64, "-i INPUT is required"},
        {"-r RES -i IN --days 0", 64, "--days needs an integer 1..36500, got \"0\""},
        {"-r RES -i IN --min-arm 1", 64, "--min-arm needs"},
        {"-r RES -i IN --bogus", 64, "unknown option --bogus"},
        {"-r NOPE -i IN", 66, "no such file"},
        {"-r RES -i NOPE", 66, "no such file"},
        {"-r IN -i IN", 65, "/@engine_version is missing"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char a[1024] = "", *p = a;
        for (const char *s = cases[k].args; *s; s++) {
            if (strncmp(s, "RES", 3) == 0) {
                p += sprintf(p, "'%s'", results);
                s += 2;
            } else if (strncmp(s, "IN", 2) == 0) {
                p += sprintf(p, "'%s'", input);
                s += 1;
            } else if (strncmp(s, "NOPE", 4) == 0) {
                p += sprintf(p, "'%s/nope.h5'", dir);
                s += 3;
            } else {
                *p++ = *s;
                *p = '\0';
            }
        }
        snprintf(args, sizeof args, "%s -o '%s' --json '%s'", a, good_h5, good_js);
        int status = measure(args, out, sizeof out);
        if (status != cases[k].status || !strstr(out, cases[k].message))
            fail_msg("\"%s\": exit %d (expected %d, \"%s\"): %s", args, status, cases[k].status,
                     cases[k].message, out);
    }
    /* every earlier output is as it was, and no temporary is left */
    sgs_test_assert_snapshot_unchanged(bad, &before);
    sgs_test_snapshot_free(&before);
    /* an output folder that does not exist */
    snprintf(args, sizeof args, "-r '%s' -i '%s' -o '%s/no/x.h5'", results, input, dir);
    assert_int_equal(measure(args, out, sizeof out), 73);
    assert_int_equal(sgs_test_run("measure --help", out, sizeof out), 0);
    sgs_assert_contains(out, "--min-arm");
    assert_int_equal(sgs_test_run("--help", out, sizeof out), 0);
    sgs_assert_contains(out, "measure");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_agree_and_threads),
        cmocka_unit_test(test_days_and_no_control),
        cmocka_unit_test(test_known_effect),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
