/*
 * tests/e2e/test_run_awkward_data.c — `segscore run` on the shapes real exports have.
 *
 * Spend semantics (docs/spend.md) on a small export shaped like the UCI Online
 * Retail file (imported with --preset online-retail):
 *   - 16446: two small items in May, then 80,995 units bought and cancelled the same day in
 *     December: one purchase occasion worth 2.90, not a repeat buyer worth 168,469.60;
 *   - 12346: the only order cancelled the same day: no purchase, left out and counted;
 *   - 17603: returned more than it bought: kept (it did buy), expected spend and CLV 0;
 *   - 99001: a refund and nothing else: left out, its refund still in the revenue total;
 *   - 99002: a partial same-day refund: the day counts, at its net amount.
 * A few hundred ordinary customers around them make the model fits meaningful.
 *
 * A base whose customers never stop buying: the fit cannot identify the dropout process, the
 * run says so (warning code dropout_not_identified) and the stages stop reading P(alive).
 * Daily buyers who always spend about the same: the spend fit runs off, and the error says
 * what that means.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char dir[256];
static double amount_total; /* sum of every amount written: the revenue net of every refund */

/* One CSV row in the layout of the UCI export; adds to amount_total. */
static void row(FILE *f, const char *invoice, long quantity, const char *when, double price,
                long customer)
{
    price = round(price * 100) / 100; /* as written */
    fprintf(f, "%s,85123A,ITEM,%ld,%s,%.2f,%ld,United Kingdom\n", invoice, quantity, when, price,
            customer);
    amount_total += (double)quantity * price;
}

static unsigned long long lcg_state;

/* Uniform in [0, 1) from a fixed 64-bit LCG: the same file on every machine. */
static double uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) / 9007199254740992.0;
}

static void write_export(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
    amount_total = 0;
    /* Ordinary customers, each with its own mean spend, mean gap and dropout probability
     * after each purchase (a BG/NBD-like story), starting in 2011. */
    lcg_state = 12345;
    for (long c = 0; c < 600; c++) {
        double mean = 8 * exp(2 * uniform()), gap = 5 + 120 * pow(uniform(), 2);
        double p_drop = 0.6 * uniform();
        for (int day = (int)(300 * uniform()); day <= 340;) {
            char when[32];
            int64_t t = (int64_t)(14975 + day) * 86400 + 36000; /* day 14975: 2011-01-01 */
            time_t tt = (time_t)t;
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&tt));
            row(f, "500000", 1 + (long)(3 * uniform()), when, mean * (0.5 + uniform()), 20000 + c);
            if (uniform() < p_drop)
                break;
            day += 1 + (int)(-gap * log(1 - uniform()));
        }
    }
    row(f, "536370", 2, "2011-05-18 09:00:00", 1.45, 16446);
    row(f, "581483", 80995, "2011-12-09 09:15:00", 2.08, 16446);
    row(f, "C581484", -80995, "2011-12-09 09:27:00", 2.08, 16446);
    row(f, "541431", 74215, "2011-01-18 10:01:00", 1.04, 12346);
    row(f, "C541433", -74215, "2011-01-18 10:17:00", 1.04, 12346);
    row(f, "550000", 10, "2011-03-01 11:00:00", 10.0, 17603);
    row(f, "551000", 10, "2011-04-01 11:00:00", 10.0, 17603);
    row(f, "C560000", -1365, "2011-06-01 11:00:00", 1.0, 17603);
    row(f, "C570000", -50, "2011-07-01 11:00:00", 1.0, 99001);
    row(f, "552000", 3, "2011-02-01 11:00:00", 10.0, 99002);
    row(f, "C552001", -1, "2011-02-01 12:00:00", 10.0, 99002);
    row(f, "553000", 4, "2011-08-01 11:00:00", 10.0, 99002);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    char csv[512], h5[512], args[2048], out[8192];
    sgs_test_tmpdir("run-awkward", dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/retail.csv", dir);
    snprintf(h5, sizeof h5, "%s/retail.h5", dir);
    write_export(csv);
    snprintf(args, sizeof args, "import -q -i '%s' -o '%s' --preset online-retail", csv, h5);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        fprintf(stderr, "import failed: %s\n", out);
        return -1;
    }
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --as-of 2011-12-09", h5, dir);
    if (sgs_test_run(args, out, sizeof out) != 0) {
        fprintf(stderr, "run failed: %s\n", out);
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

static const cJSON *json_at(const cJSON *root, const char *a, const char *b)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, a);
    o = b ? cJSON_GetObjectItemCaseSensitive(o, b) : o;
    if (!cJSON_IsNumber(o))
        fail_msg("summary.json: %s.%s is not a number", a, b ? b : "");
    return o;
}

static long index_of(const int64_t *id, size_t n, int64_t want)
{
    for (size_t i = 0; i < n; i++)
        if (id[i] == want)
            return (long)i;
    return -1;
}

static void test_cancellations_and_refunds(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n, n2;
    int64_t *id = sgs_test_column(f, "/customers/customer_id", SGS_H5_I64, &n);
    int32_t *freq = sgs_test_column(f, "/customers/frequency", SGS_H5_I32, &n2);
    double *total = sgs_test_column(f, "/customers/total_spend", SGS_H5_F64, &n2);
    double *monetary = sgs_test_column(f, "/customers/monetary", SGS_H5_F64, &n2);
    double *spend = sgs_test_column(f, "/clv/expected_spend", SGS_H5_F64, &n2);
    double *clv = sgs_test_column(f, "/clv/clv", SGS_H5_F64, &n2);
    H5Fclose(f);
    assert_int_equal(n2, n);

    /* 16446: one occasion worth 2.90; its expected spend is the population mean, as for
     * every one-time buyer */
    long k = index_of(id, n, 16446);
    sgs_assert_cmp(k, >=, 0);
    assert_int_equal(freq[k], 0);
    sgs_assert_close(total[k], 2.90, 1e-9, 0);
    sgs_assert_cmp(monetary[k], ==, 0.0);
    long other = -1;
    for (size_t i = 0; i < n && other < 0; i++)
        if (freq[i] == 0 && total[i] > 0 && id[i] != 16446)
            other = (long)i;
    sgs_assert_cmp(other, >=, 0);
    sgs_assert_close(spend[k], spend[other], 0, 1e-15);
    sgs_assert_cmp(clv[k], <, 1000.0);

    /* 12346 (only order cancelled) and 99001 (refund only) are not customers with purchases */
    assert_int_equal(index_of(id, n, 12346), -1);
    assert_int_equal(index_of(id, n, 99001), -1);

    /* 17603: two purchase days, net -1,165: worth nothing */
    k = index_of(id, n, 17603);
    sgs_assert_cmp(k, >=, 0);
    assert_int_equal(freq[k], 1);
    sgs_assert_close(total[k], -1165.0, 1e-9, 0);
    sgs_assert_cmp(spend[k], ==, 0.0);
    sgs_assert_cmp(clv[k], ==, 0.0);

    /* 99002: day 1 net 20, day 2 40: the repeat day's net is the monetary value */
    k = index_of(id, n, 99002);
    sgs_assert_cmp(k, >=, 0);
    assert_int_equal(freq[k], 1);
    sgs_assert_close(total[k], 60.0, 1e-9, 0);
    sgs_assert_close(monetary[k], 40.0, 1e-9, 0);

    /* no customer with net spend <= 0 is worth anything */
    for (size_t i = 0; i < n; i++)
        if (total[i] <= 0 && !(clv[i] == 0.0 && spend[i] == 0.0))
            fail_msg("row %zu: net spend %g, yet clv %g and spend %g", i, total[i], clv[i],
                     spend[i]);

    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *text = sgs_test_read_file(path, NULL);
    cJSON *summary = cJSON_Parse(text);
    free(text);
    assert_non_null(summary);
    assert_int_equal(json_at(summary, "customers", "with_purchases")->valuedouble, n);
    assert_int_equal(json_at(summary, "customers", "no_purchase_left_out")->valuedouble, 2);
    assert_int_equal(json_at(summary, "customers", "purchase_days_cancelled_same_day")->valuedouble,
                     2);
    assert_int_equal(json_at(summary, "customers", "nonpositive_net_spend")->valuedouble, 1);
    /* revenue: every amount of the file, the refunds of customers left out included */
    sgs_assert_close(json_at(summary, "customers", "revenue_total")->valuedouble, amount_total,
                     1e-6, 1e-12);
    /* shares of revenue are of the customers kept: the segments' shares add up to 1 although
     * the total above includes the refunds of customers left out */
    double share_sum = 0;
    const cJSON *profile;
    cJSON_ArrayForEach(profile,
                       cJSON_GetObjectItemCaseSensitive(
                           cJSON_GetObjectItemCaseSensitive(summary, "segments"), "profiles"))
    {
        share_sum += cJSON_GetObjectItemCaseSensitive(profile, "revenue_share")->valuedouble;
    }
    sgs_assert_close(share_sum, 1.0, 1e-12, 0);
    cJSON_Delete(summary);

    snprintf(path, sizeof path, "%s/report.txt", dir);
    text = sgs_test_read_file(path, NULL);
    sgs_assert_contains(text, "2 purchase days cancelled the same day are not purchases");
    sgs_assert_contains(text, "1 customers who returned at least what they bought are worth 0");
    free(text);
    sgs_free(id);
    sgs_free(freq);
    sgs_free(total);
    sgs_free(monetary);
    sgs_free(spend);
    sgs_free(clv);
}

static void test_dropout_not_identified_is_said(void **state)
{
    (void)state;
    char h5[512], sub[512], args[2048], out[16384];
    snprintf(h5, sizeof h5, "%s/loyal.h5", dir);
    snprintf(sub, sizeof sub, "%s/loyal", dir);
    snprintf(args, sizeof args,
             "generate -q --customers 5000 --no-events --prospects 0 --seed 3 --r 0.8 --alpha 60 "
             "--a 0.001 --b 1000 -o '%s'",
             h5);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "mkdir -p '%s'", sub);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "run -i '%s' -o '%s/results.h5'", h5, sub);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("run failed: %s", out);
    sgs_assert_contains(out, "P(alive) is not informative");

    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", sub);
    char *text = sgs_test_read_file(path, NULL);
    cJSON *summary = cJSON_Parse(text);
    free(text);
    assert_non_null(summary);
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(summary, "value");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(value, "purchase_model");
    char said[64]; /* the warning names the model the run used */
    snprintf(said, sizeof said, "warning: %s: ",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(value, "model")));
    sgs_assert_contains(out, said);
    sgs_assert_json(cJSON_IsFalse, cJSON_GetObjectItemCaseSensitive(model, "p_alive_informative"));
    int found = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(summary, "warnings"))
    {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(w, "code");
        found |= cJSON_IsString(code) && strcmp(code->valuestring, "dropout_not_identified") == 0;
    }
    if (!found)
        sgs_fail_json("no warning dropout_not_identified",
                      cJSON_GetObjectItemCaseSensitive(summary, "warnings"));
    cJSON_Delete(summary);
    snprintf(path, sizeof path, "%s/report.txt", sub);
    text = sgs_test_read_file(path, NULL);
    sgs_assert_contains(text, "p_buy rests on the backtest's calibration alone");
    free(text);

    /* Without the backtest's calibration the stages do not read p_buy: thresholds that would
     * make every repeat buyer lapsed (p_buy < 1) change nothing. */
    char sub1[600], sub2[600];
    snprintf(sub1, sizeof sub1, "%s/uncalibrated", sub);
    snprintf(sub2, sizeof sub2, "%s/strict", sub);
    snprintf(args, sizeof args, "mkdir -p '%s' '%s'", sub1, sub2);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --set value.backtest=false", h5,
             sub1);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("run failed: %s", out);
    snprintf(path, sizeof path, "%s/report.txt", sub1);
    text = sgs_test_read_file(path, NULL);
    sgs_assert_contains(text, "Stages and opportunities treat p_buy as unknown");
    free(text);
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s/results.h5' --set value.backtest=false "
             "--set stages.at_risk_p_buy=1 --set stages.lapsed_p_buy=1",
             h5, sub2);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("run failed: %s", out);
    size_t n1, n2;
    snprintf(path, sizeof path, "%s/results.h5", sub1);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    uint8_t *stage1 = sgs_test_column(f, "/stages/stage", SGS_H5_U8, &n1);
    H5Fclose(f);
    snprintf(path, sizeof path, "%s/results.h5", sub2);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    uint8_t *stage2 = sgs_test_column(f, "/stages/stage", SGS_H5_U8, &n2);
    H5Fclose(f);
    assert_int_equal(n1, n2);
    assert_memory_equal(stage1, stage2, n1);
    sgs_free(stage1);
    sgs_free(stage2);
}

/* 100 customers who each buy on about every other day, always about the same amount: the
 * spend fit runs off to the edge of its parameter space; the run stops (exit 65) and says
 * why in plain words. */
static void test_fit_running_off_says_why(void **state)
{
    (void)state;
    char csv[512], h5[512], args[2048], out[16384];
    snprintf(csv, sizeof csv, "%s/daily.csv", dir);
    snprintf(h5, sizeof h5, "%s/daily.h5", dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fprintf(f,
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
    lcg_state = 777;
    for (long c = 0; c < 100; c++) {
        double mean = 10 + 20 * uniform();
        for (int day = 0; day < 300; day++) {
            if (uniform() >= 0.5)
                continue;
            char when[32];
            time_t t = (time_t)((int64_t)(14975 + day) * 86400 + 36000);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&t));
            row(f, "500000", 1, when, mean * (0.9 + 0.2 * uniform()), 30000 + c);
        }
    }
    fclose(f);
    snprintf(args, sizeof args, "import -q -i '%s' -o '%s' --preset online-retail", csv, h5);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/daily-results.h5'", h5, dir);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 65 || !strstr(out, "Gamma-Gamma fit did not converge") ||
        !strstr(out, "runs to infinity: customers do not differ in their average spend"))
        fail_msg("expected exit 65 saying why the spend fit ran off, got %d: %s", status, out);
    char path[600];
    snprintf(path, sizeof path, "%s/daily-results.h5", dir);
    assert_null(fopen(path, "r")); /* nothing published */
}

/* Everyone stops alike (p ~ Beta(2000, 6000): a chance of 0.25 after every purchase for
 * every customer): a and b are not identified, their mean is, and P(alive) stays in use. */
static void test_dropout_alike_keeps_p_alive(void **state)
{
    (void)state;
    char h5[512], args[2048], out[16384], path[600];
    snprintf(h5, sizeof h5, "%s/alike.h5", dir);
    snprintf(args, sizeof args,
             "generate -q --customers 20000 --no-events --prospects 0 --seed 8 --a 2000 "
             "--b 6000 -o '%s'",
             h5);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "mkdir -p '%s/alike'", dir);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/alike/results.h5'", h5, dir);
    if (sgs_test_run(args, out, sizeof out) != 0)
        fail_msg("run failed: %s", out);
    snprintf(path, sizeof path, "%s/alike/summary.json", dir);
    char *text = sgs_test_read_file(path, NULL);
    cJSON *summary = cJSON_Parse(text);
    free(text);
    assert_non_null(summary);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(summary, "value"), "purchase_model");
    sgs_assert_json(cJSON_IsTrue, cJSON_GetObjectItemCaseSensitive(model, "p_alive_informative"));
    int spread = 0, not_identified = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(summary, "warnings"))
    {
        const char *code = cJSON_GetObjectItemCaseSensitive(w, "code")->valuestring;
        spread |= strcmp(code, "dropout_spread_not_identified") == 0;
        not_identified |= strcmp(code, "dropout_not_identified") == 0;
    }
    if (!spread || not_identified)
        sgs_fail_json("expected dropout_spread_not_identified and no dropout_not_identified",
                      cJSON_GetObjectItemCaseSensitive(summary, "warnings"));
    cJSON_Delete(summary);
}

/* Every fit has a time bound: a tiny value.fit_time_limit stops the run with exit 65 saying so. */
static void test_fit_time_limit_stops_the_run(void **state)
{
    (void)state;
    char args[2048], out[16384];
    snprintf(args, sizeof args,
             "run -q -i '%s/loyal.h5' -o '%s/limited.h5' --set value.fit_time_limit=1e-6", dir,
             dir);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 65 || !strstr(out, "time_limit") || !strstr(out, "value.fit_time_limit"))
        fail_msg("expected exit 65 naming the time limit, got %d: %s", status, out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancellations_and_refunds),
        cmocka_unit_test(test_dropout_not_identified_is_said),
        cmocka_unit_test(test_fit_running_off_says_why),
        cmocka_unit_test(test_fit_time_limit_stops_the_run),
        cmocka_unit_test(test_dropout_alike_keeps_p_alive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
