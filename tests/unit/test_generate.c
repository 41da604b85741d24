/*
 * tests/unit/test_generate.c — `segscore generate` and datasets/generate.h: the schema
 * and types of the file, counts that agree across tables, the truth agreeing with the rows
 * (one purchase occasion per purchase day, no purchase after death, birth = first purchase,
 * refunds never on a purchase day, planted flags recomputed from the events), sample moments of the
 * latent parameters against their Gamma/Beta laws, the BG/NBD individual-level expectations E[X]
 * and P(alive) against the simulated counts, referral forest, determinism (seed, threads, blocks),
 * usage errors, unwritable outputs and failures that must leave an existing file intact.
 *
 * Statistical checks are z-tests at 4.5 standard errors (two-sided p ~ 7e-6 each), with
 * the standard error either from the law's variance (written below) or, for sums of
 * independent zero-mean residuals, from the sum of squared residuals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "datasets/generate.h"
#include "datasets/sim_random.h"
#include "io/h5_columns.h"
#include "kernels/tables.h"
#include "tests/support/test_support.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_BUYERS 20000
#define SEED 7
#define Z_MAX 4.5

static char dir[256];
static char demo[512]; /* N_BUYERS customers, seed SEED, defaults, 2 threads */

/* ---- The file, loaded once -------------------------------------------------------------- */

typedef struct loaded {
    size_t n_tx, n_ev, n_cu;
    int64_t *tx_id, *tx_time;
    double *tx_amount;
    uint8_t *tx_channel;
    int32_t *tx_category;
    int64_t *ev_id, *ev_time;
    uint8_t *ev_kind;
    double *ev_value;
    uint8_t *ev_channel;
    int64_t *cu_id, *cu_signup, *cu_referrer;
    uint8_t *cu_channel;
    int64_t *tr_id, *birth, *death;
    uint8_t *prospect, *alive, *subscriber, *burst, *missed, *cancelled, *stopped;
    double *lambda, *p_drop, *nu, *mean_spend;
    int32_t *n_purchases;
    int64_t start_s, end_s;
} loaded_t;

static loaded_t L;

static void *column(hid_t f, const char *path, sgs_h5_type_t type, size_t *n)
{
    void *data = NULL;
    sgs_error_t err = {0};
    if (sgs_h5_read_column(f, path, type, &data, n, &err) != 0)
        fail_msg("%s", err.message);
    return data;
}

static void load(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n;
    L.tx_id = column(f, "/transactions/customer_id", SGS_H5_I64, &L.n_tx);
    L.tx_time = column(f, "/transactions/time", SGS_H5_I64, &n);
    assert_int_equal(n, L.n_tx);
    L.tx_amount = column(f, "/transactions/amount", SGS_H5_F64, &n);
    assert_int_equal(n, L.n_tx);
    L.tx_channel = column(f, "/transactions/channel", SGS_H5_U8, &n);
    assert_int_equal(n, L.n_tx);
    L.tx_category = column(f, "/transactions/category", SGS_H5_I32, &n);
    assert_int_equal(n, L.n_tx);
    L.ev_id = column(f, "/events/customer_id", SGS_H5_I64, &L.n_ev);
    L.ev_time = column(f, "/events/time", SGS_H5_I64, &n);
    assert_int_equal(n, L.n_ev);
    L.ev_kind = column(f, "/events/kind", SGS_H5_U8, &n);
    assert_int_equal(n, L.n_ev);
    L.ev_value = column(f, "/events/value", SGS_H5_F64, &n);
    assert_int_equal(n, L.n_ev);
    L.ev_channel = column(f, "/events/channel", SGS_H5_U8, &n);
    assert_int_equal(n, L.n_ev);
    L.cu_id = column(f, "/customers/customer_id", SGS_H5_I64, &L.n_cu);
    const struct {
        void **dst;
        const char *path;
        sgs_h5_type_t type;
    } per_customer[] = {
        {(void **)&L.cu_signup, "/customers/signup_time", SGS_H5_I64},
        {(void **)&L.cu_referrer, "/customers/referrer_id", SGS_H5_I64},
        {(void **)&L.cu_channel, "/customers/preferred_channel", SGS_H5_U8},
        {(void **)&L.tr_id, "/truth/customer_id", SGS_H5_I64},
        {(void **)&L.birth, "/truth/birth_time", SGS_H5_I64},
        {(void **)&L.death, "/truth/death_time", SGS_H5_I64},
        {(void **)&L.prospect, "/truth/is_prospect", SGS_H5_U8},
        {(void **)&L.alive, "/truth/alive_at_end", SGS_H5_U8},
        {(void **)&L.subscriber, "/truth/subscriber", SGS_H5_U8},
        {(void **)&L.burst, "/truth/support_burst", SGS_H5_U8},
        {(void **)&L.missed, "/truth/missed_renewal", SGS_H5_U8},
        {(void **)&L.cancelled, "/truth/cancelled", SGS_H5_U8},
        {(void **)&L.stopped, "/truth/stopped_buying", SGS_H5_U8},
        {(void **)&L.lambda, "/truth/lambda", SGS_H5_F64},
        {(void **)&L.p_drop, "/truth/p_drop", SGS_H5_F64},
        {(void **)&L.nu, "/truth/nu", SGS_H5_F64},
        {(void **)&L.mean_spend, "/truth/mean_spend", SGS_H5_F64},
        {(void **)&L.n_purchases, "/truth/n_purchases", SGS_H5_I32},
    };
    for (size_t k = 0; k < sizeof per_customer / sizeof per_customer[0]; k++) {
        *per_customer[k].dst = column(f, per_customer[k].path, per_customer[k].type, &n);
        if (n != L.n_cu)
            fail_msg("%s has %zu rows, /customers has %zu", per_customer[k].path, n, L.n_cu);
    }
    assert_int_equal(sgs_h5_attr_read_int64(f, "/truth", "window_start_time", &L.start_s, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_int64(f, "/truth", "window_end_time", &L.end_s, NULL), 0);
    H5Fclose(f);
}

static void unload(void)
{
    sgs_free(L.ev_channel);
    void *all[] = {L.tx_id,     L.tx_time,     L.tx_amount,  L.tx_channel, L.tx_category,
                   L.ev_id,     L.ev_time,     L.ev_kind,    L.ev_value,   L.cu_id,
                   L.cu_signup, L.cu_referrer, L.cu_channel, L.tr_id,      L.birth,
                   L.death,     L.prospect,    L.alive,      L.subscriber, L.burst,
                   L.missed,    L.cancelled,   L.stopped,    L.lambda,     L.p_drop,
                   L.nu,        L.mean_spend,  L.n_purchases};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        sgs_free(all[k]);
    memset(&L, 0, sizeof L);
}

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("generate", dir, sizeof dir);
    snprintf(demo, sizeof demo, "%s/demo.h5", dir);
    char args[1024], out[4096];
    snprintf(args, sizeof args, "generate --customers %d --seed %d --threads 2 -o '%s'", N_BUYERS,
             SEED, demo);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0) {
        print_error("generate failed (%d): %s\n", status, out);
        return -1;
    }
    /* The one-line summary names the counts. */
    if (!strstr(out, "20000 customers + 2000 prospects")) {
        print_error("unexpected summary: %s\n", out);
        return -1;
    }
    load(demo);
    /* ... and the row counts of the file. */
    char expect[128];
    snprintf(expect, sizeof expect, "%zu transactions, %zu events", L.n_tx, L.n_ev);
    if (!strstr(out, expect)) {
        print_error("summary \"%s\" does not say \"%s\"\n", out, expect);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unload();
    sgs_test_rmdir(dir);
    return 0;
}

/* Row of customer id in the customers table (ids are unique: checked below). */
typedef struct id_row {
    int64_t id;
    size_t row;
} id_row_t;

static int id_row_cmp(const void *a, const void *b)
{
    const id_row_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static id_row_t *index_customers(void)
{
    id_row_t *ix = malloc(L.n_cu * sizeof *ix);
    for (size_t i = 0; i < L.n_cu; i++)
        ix[i] = (id_row_t){L.cu_id[i], i};
    qsort(ix, L.n_cu, sizeof *ix, id_row_cmp);
    return ix;
}

static long row_of(const id_row_t *ix, int64_t id)
{
    id_row_t key = {id, 0};
    const id_row_t *hit = bsearch(&key, ix, L.n_cu, sizeof *ix, id_row_cmp);
    return hit ? (long)hit->row : -1;
}

/* ---- Schema ------------------------------------------------------------------------------ */

static void expect_type(hid_t f, const char *path, H5T_class_t cls, size_t size, int is_signed)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        fail_msg("%s is missing", path);
    hid_t t = H5Dget_type(d);
    hid_t s = H5Dget_space(d);
    if (H5Tget_class(t) != cls || H5Tget_size(t) != size)
        fail_msg("%s: class %d size %zu, expected class %d size %zu", path, (int)H5Tget_class(t),
                 H5Tget_size(t), (int)cls, size);
    if (cls == H5T_INTEGER && (H5Tget_sign(t) == H5T_SGN_2) != is_signed)
        fail_msg("%s: wrong signedness", path);
    assert_int_equal(H5Sget_simple_extent_ndims(s), 1);
    H5Sclose(s);
    H5Tclose(t);
    H5Dclose(d);
}

static void test_schema_types_and_attributes(void **state)
{
    (void)state;
    hid_t f = H5Fopen(demo, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    expect_type(f, "/transactions/customer_id", H5T_INTEGER, 8, 1);
    expect_type(f, "/transactions/time", H5T_INTEGER, 8, 1);
    expect_type(f, "/transactions/amount", H5T_FLOAT, 8, 1);
    expect_type(f, "/transactions/channel", H5T_INTEGER, 1, 0);
    expect_type(f, "/transactions/category", H5T_INTEGER, 4, 1);
    expect_type(f, "/events/customer_id", H5T_INTEGER, 8, 1);
    expect_type(f, "/events/time", H5T_INTEGER, 8, 1);
    expect_type(f, "/events/kind", H5T_INTEGER, 1, 0);
    expect_type(f, "/events/value", H5T_FLOAT, 8, 1);
    expect_type(f, "/events/channel", H5T_INTEGER, 1, 0);
    expect_type(f, "/customers/customer_id", H5T_INTEGER, 8, 1);
    expect_type(f, "/customers/signup_time", H5T_INTEGER, 8, 1);
    expect_type(f, "/customers/referrer_id", H5T_INTEGER, 8, 1);
    expect_type(f, "/customers/preferred_channel", H5T_INTEGER, 1, 0);
    expect_type(f, "/truth/lambda", H5T_FLOAT, 8, 1);
    expect_type(f, "/truth/alive_at_end", H5T_INTEGER, 1, 0);

    char buf[512];
    assert_int_equal(sgs_h5_attr_read_string(f, "/events", "kind_names", buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "1=support_contact,2=complaint,3=renewal_due,4=renewed,"
                             "5=cancelled,6=survey,7=campaign_contact,8=campaign_response");
    assert_int_equal(
        sgs_h5_attr_read_string(f, "/transactions", "channel_names", buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "0=unknown,1=store,2=web,3=app,4=phone,5=email,6=sms,7=mail");
    assert_int_equal(sgs_h5_attr_read_string(f, "/events", "channel_names", buf, sizeof buf, NULL),
                     0);
    assert_string_equal(buf, "0=unknown,1=store,2=web,3=app,4=phone,5=email,6=sms,7=mail");
    assert_int_equal(sgs_h5_attr_read_string(f, "/truth", "time_unit", buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "day");
    assert_int_equal(sgs_h5_attr_read_string(f, "/truth", "window_start", buf, sizeof buf, NULL),
                     0);
    assert_string_equal(buf, "2021-07-01");
    double r, alpha, a, b, p, q, gamma;
    int64_t seed;
    assert_int_equal(sgs_h5_attr_read_double(f, "/truth", "r", &r, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_double(f, "/truth", "alpha", &alpha, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_double(f, "/truth", "a", &a, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_double(f, "/truth", "b", &b, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_double(f, "/truth", "p", &p, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_double(f, "/truth", "q", &q, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_double(f, "/truth", "gamma", &gamma, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_int64(f, "/truth", "seed", &seed, NULL), 0);
    sgs_assert_cmp(r, ==, 0.243);
    sgs_assert_cmp(alpha, ==, 30.898);
    sgs_assert_cmp(a, ==, 0.793);
    sgs_assert_cmp(b, ==, 2.426); /* CDNOW */
    sgs_assert_cmp(p, ==, 6.25);
    sgs_assert_cmp(q, ==, 3.74);
    sgs_assert_cmp(gamma, ==, 15.44);
    assert_int_equal(seed, SEED);
    H5Fclose(f);
    /* 2021-07-01 and the exclusive end 2024-07-01, Unix seconds. */
    assert_int_equal(L.start_s, 1625097600);
    assert_int_equal(L.end_s, 1719792000);
}

/* ---- Counts and values ----------------------------------------------------------------- */

static void test_tables_agree(void **state)
{
    (void)state;
    assert_int_equal(L.n_cu, N_BUYERS + N_BUYERS / 10);
    id_row_t *ix = index_customers();
    for (size_t i = 1; i < L.n_cu; i++)
        if (ix[i].id == ix[i - 1].id)
            fail_msg("customer id %lld appears twice", (long long)ix[i].id);
    /* Ids are not the row numbers. */
    size_t in_order = 0;
    for (size_t i = 0; i < L.n_cu; i++)
        in_order += L.cu_id[i] == (int64_t)i || L.cu_id[i] == (int64_t)i + 1;
    sgs_assert_cmp(in_order, <, 10);

    size_t n_prospects = 0;
    for (size_t i = 0; i < L.n_cu; i++) {
        sgs_assert_cmp(L.tr_id[i], ==, L.cu_id[i]);
        n_prospects += L.prospect[i];
        assert_in_range(L.cu_channel[i], 0, 7);
    }
    assert_int_equal(n_prospects, N_BUYERS / 10);

    /* Every transaction belongs to a buyer; every buyer has at least its first purchase. */
    size_t *purchase_rows = calloc(L.n_cu, sizeof(size_t));
    for (size_t k = 0; k < L.n_tx; k++) {
        long row = row_of(ix, L.tx_id[k]);
        if (row < 0 || L.prospect[row])
            fail_msg("transaction %zu: customer %lld is not a buyer", k, (long long)L.tx_id[k]);
        sgs_assert_cmp(L.tx_time[k], >=, L.start_s);
        sgs_assert_cmp(L.tx_time[k], <, L.end_s);
        sgs_assert_finite(L.tx_amount[k]);
        assert_in_range(L.tx_channel[k], 1, 7);
        assert_in_range(L.tx_category[k], 1, 20);
        purchase_rows[row] += L.tx_amount[k] >= 0.0;
    }
    /* An occasion is one row or a basket of two, maybe with a free row. */
    for (size_t i = 0; i < L.n_cu; i++) {
        size_t n = (size_t)L.n_purchases[i];
        if (L.prospect[i]) {
            assert_int_equal(purchase_rows[i], 0);
            continue;
        }
        if (purchase_rows[i] < n || purchase_rows[i] > 3 * n)
            fail_msg("customer row %zu: %zu purchase rows for %zu occasions", i, purchase_rows[i],
                     n);
    }
    /* Events: kinds 1..8, value NaN except surveys (whole scores 0..10), in the window. */
    for (size_t k = 0; k < L.n_ev; k++) {
        sgs_assert_cmp(row_of(ix, L.ev_id[k]), >=, 0);
        assert_in_range(L.ev_kind[k], 1, 8);
        sgs_assert_cmp(L.ev_time[k], >=, 0);
        sgs_assert_cmp(L.ev_time[k], <, L.end_s);
        if (L.ev_kind[k] == SGS_EVENT_SURVEY) {
            sgs_assert_cmp(L.ev_value[k], >=, 0);
            sgs_assert_cmp(L.ev_value[k], <=, 10);
            sgs_assert_cmp(L.ev_value[k], ==, floor(L.ev_value[k]));
        } else {
            sgs_assert_nan(L.ev_value[k]);
        }
    }
    free(purchase_rows);
    free(ix);
}

/* Rows are in random order, neither sorted nor reversed by customer or time: in a random order
 * a value rises from one row to the next as often as it falls (for distinct values the
 * difference rises - falls has mean 0 and variance about n / 3); ties are not counted. */
static void assert_random_order(const int64_t *v, size_t n, const char *what)
{
    long rises = 0, falls = 0;
    for (size_t k = 1; k < n; k++) {
        rises += v[k] > v[k - 1];
        falls += v[k] < v[k - 1];
    }
    double sd = sqrt((double)(rises + falls) / 3.0);
    if (!(rises + falls > 100 && fabs((double)(rises - falls)) < 6.0 * sd))
        fail_msg("%s: %ld rises and %ld falls between consecutive rows: not a random order", what,
                 rises, falls);
}

static void test_rows_are_shuffled(void **state)
{
    (void)state;
    assert_random_order(L.tx_id, L.n_tx, "customer id");
    assert_random_order(L.tx_time, L.n_tx, "time");
}

/* Birth = first purchase; no purchase after death (a basket's other rows are < 900 s after
 * its first, same day); alive_at_end agrees with death_time; signup <= first purchase;
 * zero amounts and ~2% refunds exist, refunds 1..30 days after a purchase. */
static void test_truth_agrees_with_rows(void **state)
{
    (void)state;
    id_row_t *ix = index_customers();
    int64_t *first = malloc(L.n_cu * sizeof(int64_t)), *last = malloc(L.n_cu * sizeof(int64_t));
    for (size_t i = 0; i < L.n_cu; i++) {
        first[i] = INT64_MAX;
        last[i] = INT64_MIN;
    }
    size_t n_zero = 0, n_refund = 0;
    for (size_t k = 0; k < L.n_tx; k++) {
        long row = row_of(ix, L.tx_id[k]);
        if (L.tx_amount[k] < 0) {
            n_refund++;
            continue;
        }
        n_zero += L.tx_amount[k] == 0.0;
        if (L.tx_time[k] < first[row])
            first[row] = L.tx_time[k];
        if (L.tx_time[k] > last[row])
            last[row] = L.tx_time[k];
    }
    uint64_t occasions = 0;
    for (size_t i = 0; i < L.n_cu; i++) {
        if (L.prospect[i]) {
            sgs_assert_cmp(L.birth[i], ==, -1);
            sgs_assert_cmp(L.death[i], ==, -1);
            sgs_assert_nan(L.lambda[i]);
            continue;
        }
        occasions += (uint64_t)L.n_purchases[i];
        if (first[i] != L.birth[i])
            fail_msg("row %zu: first purchase %lld, birth %lld", i, (long long)first[i],
                     (long long)L.birth[i]);
        sgs_assert_cmp(L.cu_signup[i], <=, L.birth[i]);
        assert_int_equal(L.alive[i], L.death[i] == -1);
        if (L.death[i] >= 0) {
            /* No purchase after the one after which the customer dropped out. */
            if (last[i] < L.death[i] || last[i] - L.death[i] >= 900 ||
                last[i] / 86400 != L.death[i] / 86400)
                fail_msg("row %zu: last purchase %lld after death %lld", i, (long long)last[i],
                         (long long)L.death[i]);
            sgs_assert_cmp(L.n_purchases[i], >=, 2); /* dropout follows a repeat purchase */
        } else {
            assert_int_equal(L.stopped[i], 0);
        }
    }
    /* Refunds: 2% of occasions, minus those that would fall after the window end (binomial
     * standard error sqrt(0.02 * 0.98 / n)). */
    double refund_share = (double)n_refund / (double)occasions;
    double se = sqrt(0.02 * 0.98 / (double)occasions);
    sgs_assert_cmp(refund_share, <, 0.02 + Z_MAX * se);
    sgs_assert_cmp(refund_share, >, 0.018 - Z_MAX * se);
    sgs_assert_cmp(n_zero, >, 0);

    /* Each refund is on a later day than a purchase of the same customer, at most 30 days
     * after the last one when the customer dropped out. */
    for (size_t k = 0; k < L.n_tx; k++) {
        if (L.tx_amount[k] >= 0)
            continue;
        long row = row_of(ix, L.tx_id[k]);
        sgs_assert_cmp(L.tx_time[k] / 86400, >, first[row] / 86400);
        if (!(L.death[row] < 0 || L.tx_time[k] / 86400 - L.death[row] / 86400 <= 30))
            fail_msg("return %zu on day %lld, more than 30 days after customer %lld dropped out "
                     "on day %lld",
                     k, (long long)(L.tx_time[k] / 86400), (long long)L.tx_id[k],
                     (long long)(L.death[row] / 86400));
    }
    free(first);
    free(last);
    free(ix);
}

/* The pipeline's purchase occasions are days (kernels/summary.h): each customer's purchase
 * rows fall on exactly n_purchases distinct days, and no refund is on a purchase day (it
 * would change that day's spend). */
typedef struct row_day {
    long row;
    int64_t day;
    int refund;
} row_day_t;

static int row_day_cmp(const void *a, const void *b)
{
    const row_day_t *x = a, *y = b;
    if (x->row != y->row)
        return (x->row > y->row) - (x->row < y->row);
    if (x->day != y->day)
        return (x->day > y->day) - (x->day < y->day);
    return x->refund - y->refund; /* purchases first */
}

static void test_one_occasion_per_purchase_day(void **state)
{
    (void)state;
    id_row_t *ix = index_customers();
    row_day_t *rd = malloc(L.n_tx * sizeof *rd);
    for (size_t k = 0; k < L.n_tx; k++)
        rd[k] = (row_day_t){row_of(ix, L.tx_id[k]), L.tx_time[k] / 86400, L.tx_amount[k] < 0};
    qsort(rd, L.n_tx, sizeof *rd, row_day_cmp);
    int32_t *days = calloc(L.n_cu, sizeof *days);
    size_t n_refunds = 0;
    for (size_t k = 0; k < L.n_tx; k++) {
        int same_day = k > 0 && rd[k - 1].row == rd[k].row && rd[k - 1].day == rd[k].day;
        if (!rd[k].refund) {
            days[rd[k].row] += !same_day;
            continue;
        }
        n_refunds++;
        if (same_day && !rd[k - 1].refund)
            fail_msg("customer row %ld: a refund on purchase day %lld", rd[k].row,
                     (long long)rd[k].day);
    }
    sgs_assert_cmp(n_refunds, >, 0);
    for (size_t i = 0; i < L.n_cu; i++)
        if (days[i] != (L.prospect[i] ? 0 : L.n_purchases[i]))
            fail_msg("customer row %zu: %d purchase days, %d occasions in /truth", i, days[i],
                     L.n_purchases[i]);
    free(days);
    free(rd);
    free(ix);
}

/* ---- The laws of the latent parameters -------------------------------------------------- */

/* Sample mean of lambda, p and nu, and the mean of log lambda (which depends on the shape r
 * alone: E[log lambda] = psi(r) - log(alpha), Var = psi'(r)). */
static void test_parameter_moments(void **state)
{
    (void)state;
    double s_lambda = 0, s_p = 0, s_nu = 0, s_loglambda = 0, s_spend = 0;
    size_t n = 0;
    for (size_t i = 0; i < L.n_cu; i++) {
        if (L.prospect[i])
            continue;
        n++;
        s_lambda += L.lambda[i];
        s_p += L.p_drop[i];
        s_nu += L.nu[i];
        s_loglambda += log(L.lambda[i]);
        s_spend += L.mean_spend[i];
        sgs_assert_cmp(L.p_drop[i], >=, 0);
        sgs_assert_cmp(L.p_drop[i], <=, 1);
        sgs_assert_close(L.mean_spend[i], 6.25 / L.nu[i], 0, 1e-12);
    }
    assert_int_equal(n, N_BUYERS);
    const double dn = (double)n, r = 0.243, alpha = 30.898, a = 0.793, b = 2.426, p = 6.25,
                 q = 3.74, g = 15.44;
    /* Gamma(r, rate alpha): mean r / alpha, variance r / alpha^2. */
    sgs_assert_close(s_lambda / dn, r / alpha, Z_MAX * sqrt(r / (alpha * alpha) / dn), 0);
    /* Beta(a, b): mean a / (a + b), variance a b / ((a + b)^2 (a + b + 1)). */
    double var_p = a * b / ((a + b) * (a + b) * (a + b + 1));
    sgs_assert_close(s_p / dn, a / (a + b), Z_MAX * sqrt(var_p / dn), 0);
    /* Gamma(q, rate gamma). */
    sgs_assert_close(s_nu / dn, q / g, Z_MAX * sqrt(q / (g * g) / dn), 0);
    /* psi(0.243) and psi'(0.243), mpmath 1.3.0 at 30 digits (mp.digamma, mp.polygamma). */
    const double psi = -4.351093864423211;
    const double trigamma = 18.14177978709583;
    sgs_assert_close(s_loglambda / dn, psi - log(alpha), Z_MAX * sqrt(trigamma / dn), 0);
    /* E[p / nu] = p gamma / (q - 1), Var = p^2 gamma^2 / ((q - 1)^2 (q - 2)). */
    double var_spend = p * p * g * g / ((q - 1) * (q - 1) * (q - 2));
    sgs_assert_close(s_spend / dn, p * g / (q - 1), Z_MAX * sqrt(var_spend / dn), 0);
}

/* BG/NBD at the individual level (Fader, Hardie and Lee 2005, section 3): each customer is
 * observed for the T whole days from its first purchase day to the window's last day
 * (the pipeline's age), so repeat occasions X satisfy E[X | lambda, p] =
 * (1 - exp(-lambda p T)) / p and P(alive at T) = exp(-lambda p T) (the few arrivals that do
 * not fit in the days and fall after the window end are too rare to show here). Sums of
 * residuals over customers are tested against their own spread. Also the Gamma-Gamma mean:
 * the total spend of the purchase rows over sum_i n_i p / nu_i. */
static void test_bgnbd_individual_expectations(void **state)
{
    (void)state;
    double res_x = 0, res_x2 = 0, res_alive = 0, var_alive = 0;
    double expected_spend = 0;
    const int64_t last_day = L.end_s / 86400 - 1;
    for (size_t i = 0; i < L.n_cu; i++) {
        if (L.prospect[i])
            continue;
        double T = (double)(last_day - L.birth[i] / 86400);
        double lp = L.lambda[i] * L.p_drop[i];
        double ex = -expm1(-lp * T) / L.p_drop[i];
        double r = (double)(L.n_purchases[i] - 1) - ex;
        res_x += r;
        res_x2 += r * r;
        double pa = exp(-lp * T);
        res_alive += (double)L.alive[i] - pa;
        var_alive += pa * (1 - pa);
        expected_spend += (double)L.n_purchases[i] * L.mean_spend[i];
    }
    if (fabs(res_x) > Z_MAX * sqrt(res_x2))
        fail_msg("repeat purchases: residual sum %g, spread %g", res_x, sqrt(res_x2));
    if (fabs(res_alive) > Z_MAX * sqrt(var_alive))
        fail_msg("alive at end: residual sum %g, sd %g", res_alive, sqrt(var_alive));

    double spend = 0;
    for (size_t k = 0; k < L.n_tx; k++)
        if (L.tx_amount[k] >= 0)
            spend += L.tx_amount[k];
    /* Free rows add nothing and a split basket sums to the occasion's spend; each occasion's
     * spend has relative sd 1/sqrt(p) = 0.4, so over ~5e4 occasions the ratio is within
     * ~0.2% of 1 (one standard error): 1 +- 1% is five of them. */
    double ratio = spend / expected_spend;
    if (ratio < 0.99 || ratio > 1.01)
        fail_msg("spend ratio %g", ratio);
}

/* ---- Customers table --------------------------------------------------------------------- */

static void test_referrals_form_an_acyclic_forest_of_earlier_customers(void **state)
{
    (void)state;
    id_row_t *ix = index_customers();
    size_t referred = 0, chains = 0;
    for (size_t i = 0; i < L.n_cu; i++) {
        if (L.cu_referrer[i] == -1)
            continue;
        referred++;
        long j = row_of(ix, L.cu_referrer[i]);
        if (j < 0)
            fail_msg("row %zu: referrer %lld is not a customer", i, (long long)L.cu_referrer[i]);
        /* Earlier row, a buyer, first purchase strictly before the referee signed up: along
         * a chain the row number strictly falls, so there is no cycle. */
        sgs_assert_cmp((size_t)j, <, i);
        assert_int_equal(L.prospect[j], 0);
        sgs_assert_cmp(L.birth[j], <, L.cu_signup[i]);
        chains += L.cu_referrer[j] != -1;
    }
    double share = (double)referred / (double)L.n_cu;
    sgs_assert_cmp(share, >, 0.12);
    sgs_assert_cmp(share, <, 0.16); /* 15% of those with an earlier customer */
    sgs_assert_cmp(chains, >, 100); /* referred customers who were referred */
    free(ix);
}

/* ---- Planted behaviour, recomputed from the events ------------------------------------- */

typedef struct ev_row {
    int64_t id, time;
    int kind;
} ev_row_t;

static int ev_cmp(const void *a, const void *b)
{
    const ev_row_t *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->time > y->time) - (x->time < y->time);
}

static void test_flags_match_events(void **state)
{
    (void)state;
    ev_row_t *ev = malloc(L.n_ev * sizeof *ev);
    for (size_t k = 0; k < L.n_ev; k++)
        ev[k] = (ev_row_t){L.ev_id[k], L.ev_time[k], L.ev_kind[k]};
    qsort(ev, L.n_ev, sizeof *ev, ev_cmp);
    id_row_t *ix = index_customers();
    uint8_t *burst = calloc(L.n_cu, 1), *missed = calloc(L.n_cu, 1), *cancel = calloc(L.n_cu, 1);
    int64_t *support = malloc(L.n_ev * sizeof(int64_t));
    for (size_t k = 0; k < L.n_ev;) {
        size_t end = k;
        while (end < L.n_ev && ev[end].id == ev[k].id)
            end++;
        long row = row_of(ix, ev[k].id);
        size_t ns = 0;
        int64_t last_due = -1, last_answer = -1;
        for (size_t e = k; e < end; e++) {
            if (ev[e].kind == SGS_EVENT_SUPPORT)
                support[ns++] = ev[e].time;
            if (ev[e].kind == SGS_EVENT_RENEWAL_DUE)
                last_due = ev[e].time;
            if (ev[e].kind == SGS_EVENT_RENEWED || ev[e].kind == SGS_EVENT_CANCELLED)
                last_answer = ev[e].time;
            if (ev[e].kind == SGS_EVENT_CANCELLED)
                cancel[row] = 1;
            if (ev[e].kind == SGS_EVENT_RENEWAL_DUE)
                assert_int_equal(L.subscriber[row], 1);
        }
        for (size_t s = 0; s + 2 < ns; s++) /* sorted by time: 3 within 30 days */
            burst[row] |= support[s + 2] - support[s] < 30 * 86400;
        missed[row] = last_due >= 0 && last_answer < last_due && last_due + 14 * 86400 <= L.end_s;
        k = end;
    }
    size_t n_burst = 0, n_missed = 0, n_sub = 0, n_buyers = 0;
    for (size_t i = 0; i < L.n_cu; i++) {
        if (burst[i] != L.burst[i] || missed[i] != L.missed[i] || cancel[i] != L.cancelled[i])
            fail_msg("row %zu: burst %d/%d missed %d/%d cancelled %d/%d (events/truth)", i,
                     burst[i], L.burst[i], missed[i], L.missed[i], cancel[i], L.cancelled[i]);
        if (L.prospect[i])
            continue;
        n_buyers++;
        n_burst += burst[i];
        n_missed += missed[i];
        n_sub += L.subscriber[i];
    }
    double se = sqrt(0.02 * 0.98 / (double)n_buyers);
    double burst_share = (double)n_burst / (double)n_buyers;
    sgs_assert_cmp(burst_share, >, 0.015 - Z_MAX * se);
    sgs_assert_cmp(burst_share, <, 0.02 + Z_MAX * se);
    double sub_share = (double)n_sub / (double)n_buyers;
    sgs_assert_cmp(fabs(sub_share - 0.2), <, Z_MAX * sqrt(0.2 * 0.8 / (double)n_buyers));
    sgs_assert_cmp(n_missed, >, 0);
    free(support);
    free(burst);
    free(missed);
    free(cancel);
    free(ix);
    free(ev);
}

/* /events/channel: campaign contacts and responses through the preferred channel (email when
 * unknown), support contacts and complaints by phone, web or email in 50/30/20 proportions,
 * 0 for every other kind. */
static void test_event_channels(void **state)
{
    (void)state;
    id_row_t *ix = index_customers();
    size_t n_service = 0, n_by[SGS_CHANNEL_COUNT] = {0}, n_campaign = 0;
    for (size_t k = 0; k < L.n_ev; k++) {
        int kind = L.ev_kind[k], channel = L.ev_channel[k];
        if (kind == SGS_EVENT_CAMPAIGN_CONTACT || kind == SGS_EVENT_CAMPAIGN_RESPONSE) {
            int preferred = L.cu_channel[row_of(ix, L.ev_id[k])];
            int expected = preferred ? preferred : SGS_CHANNEL_EMAIL;
            if (channel != expected)
                fail_msg("event row %zu (kind %d): channel %d, expected %d (preferred %d)", k, kind,
                         channel, expected, preferred);
            n_campaign++;
        } else if (kind == SGS_EVENT_SUPPORT || kind == SGS_EVENT_COMPLAINT) {
            if (channel != SGS_CHANNEL_PHONE && channel != SGS_CHANNEL_WEB &&
                channel != SGS_CHANNEL_EMAIL)
                fail_msg("event row %zu (kind %d): channel %d is not phone, web or email", k, kind,
                         channel);
            n_service++;
            n_by[channel]++;
        } else if (channel != 0) {
            fail_msg("event row %zu (kind %d): channel %d, expected 0", k, kind, channel);
        }
    }
    sgs_assert_cmp(n_campaign, >, 1000);
    sgs_assert_cmp(n_service, >, 1000);
    const int code[3] = {SGS_CHANNEL_PHONE, SGS_CHANNEL_WEB, SGS_CHANNEL_EMAIL};
    const double share[3] = {0.5, 0.3, 0.2};
    for (int c = 0; c < 3; c++) {
        double got = (double)n_by[code[c]] / (double)n_service;
        double se = sqrt(share[c] * (1.0 - share[c]) / (double)n_service);
        sgs_assert_cmp(fabs(got - share[c]), <, Z_MAX * se);
    }
    free(ix);
}

/* ---- Determinism -------------------------------------------------------------------------- */

static void generate_cli(const char *name, const char *options, char *path, size_t size)
{
    char args[1024], out[4096];
    snprintf(path, size, "%s/%s", dir, name);
    snprintf(args, sizeof args, "generate -q --customers 3000 -o '%s' %s", path, options);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("generate %s failed (%d): %s", options, status, out);
}

static void test_same_seed_same_bytes_whatever_threads(void **state)
{
    (void)state;
    char a[512], b[512], c[512], d[512];
    generate_cli("s1t1.h5", "--seed 11 --threads 1", a, sizeof a);
    generate_cli("s1t2.h5", "--seed 11 --threads 2", b, sizeof b);
    generate_cli("s1t3.h5", "--seed 11 --threads 3", c, sizeof c);
    generate_cli("s2t2.h5", "--seed 12 --threads 2", d, sizeof d);
    sgs_assert_files_equal(a, b);
    sgs_assert_files_equal(a, c);
    if (sgs_test_files_equal(a, d))
        fail_msg("%s and %s: the same bytes from another seed", a, d);
    /* Different parameters, different file. */
    generate_cli("s1r.h5", "--seed 11 --r 0.5", d, sizeof d);
    if (sgs_test_files_equal(a, d))
        fail_msg("%s and %s: the same bytes from another r", a, d);
}

/* Many small blocks: the pipeline (write k-2, assemble k-1, simulate k) with 1, 2, 3
 * threads gives the same bytes; the rows per customer do not depend on the block size. */
static void test_blocks_and_threads_through_the_api(void **state)
{
    (void)state;
    sgs_generate_params_t p;
    sgs_generate_defaults(&p);
    p.n_customers = 2500;
    p.seed = 5;
    p.block_customers = 333;
    char paths[4][512];
    size_t n_tx[4];
    for (int t = 1; t <= 4; t++) {
        snprintf(paths[t - 1], sizeof paths[t - 1], "%s/api%d.h5", dir, t);
        sgs_exec_t exec = {.n_threads = t < 4 ? t : 2, .grain = 1};
        if (t == 4)
            p.block_customers = 0; /* default block: one block here */
        sgs_generate_stats_t st;
        sgs_error_t err = {0};
        int rc = sgs_generate_file(paths[t - 1], &p, &exec, NULL, NULL, &st, &err);
        if (rc)
            fail_msg("%s", err.message);
        assert_int_equal(st.n_customers, 2500);
        assert_int_equal(st.n_prospects, 250);
        n_tx[t - 1] = (size_t)st.n_transactions;
    }
    sgs_assert_files_equal(paths[0], paths[1]);
    sgs_assert_files_equal(paths[0], paths[2]);
    if (sgs_test_files_equal(paths[0], paths[3])) /* another shuffle */
        fail_msg("%s and %s: the same bytes", paths[0], paths[3]);
    assert_int_equal(n_tx[0], n_tx[3]); /* the same rows */
}

static void test_no_events_keeps_purchases(void **state)
{
    (void)state;
    char a[512], b[512];
    generate_cli("ev.h5", "--seed 3", a, sizeof a);
    generate_cli("noev.h5", "--seed 3 --no-events", b, sizeof b);
    hid_t fa = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT),
          fb = H5Fopen(b, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(fa, >=, 0);
    sgs_assert_cmp(fb, >=, 0);
    sgs_assert_cmp(H5Lexists(fb, "/events", H5P_DEFAULT), ==, 0);
    size_t na, nb;
    double *xa = column(fa, "/transactions/amount", SGS_H5_F64, &na);
    double *xb = column(fb, "/transactions/amount", SGS_H5_F64, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(xa, xb, na * sizeof(double));
    sgs_free(xa);
    sgs_free(xb);
    H5Fclose(fa);
    H5Fclose(fb);
}

static void test_customer_ids_are_a_bijection(void **state)
{
    (void)state;
    enum { N = 1 << 16 };
    int64_t *ids = malloc(N * sizeof(int64_t));
    for (uint64_t i = 0; i < N; i++) {
        ids[i] = sgs_generate_customer_id(9, i, N);
        sgs_assert_cmp(ids[i], >=, 1);
        sgs_assert_cmp(ids[i], <=, N);
    }
    id_row_t *ix = malloc(N * sizeof *ix);
    for (size_t i = 0; i < N; i++)
        ix[i] = (id_row_t){ids[i], i};
    qsort(ix, N, sizeof *ix, id_row_cmp);
    for (size_t i = 1; i < N; i++)
        sgs_assert_cmp(ix[i].id, !=, ix[i - 1].id);
    sgs_assert_cmp(sgs_generate_customer_id(9, 0, N), !=, sgs_generate_customer_id(10, 0, N));
    /* Not in index order: fewer than 1% of neighbours keep their order by accident. */
    size_t in_order = 0;
    for (size_t i = 1; i < N; i++)
        in_order += ids[i] == ids[i - 1] + 1;
    sgs_assert_cmp(in_order, <, N / 100);
    /* A size that is not a power of two: still a permutation of 1..n. */
    enum { M = 1000 };
    unsigned char seen[M + 1] = {0};
    for (uint64_t i = 0; i < M; i++) {
        int64_t id = sgs_generate_customer_id(3, i, M);
        sgs_assert_cmp(id, >=, 1);
        sgs_assert_cmp(id, <=, M);
        if (seen[id])
            fail_msg("customer id %lld given twice (i = %llu)", (long long)id,
                     (unsigned long long)i);
        seen[id] = 1;
    }
    free(ix);
    sgs_free(ids);
}

/* The variates themselves, 200,000 draws each: Gamma(shape) mean = var = shape (both
 * branches of Marsaglia-Tsang, including tiny shapes), Beta, normal, exponential. The
 * standard error of a sample variance uses the fourth central moment: for Gamma(k),
 * mu4 = 3 k^2 + 6 k, so Var(s^2) ~ (mu4 - k^2) / n. */
static void test_variates_follow_their_laws(void **state)
{
    (void)state;
    const int n = 200000;
    const double shapes[] = {0.05, 0.25, 0.8, 1.0, 3.74, 25.0};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const double a = shapes[k];
        sgs_rng_t rng;
        sgs_rng_init(&rng, 1234, k);
        double s1 = 0, s2 = 0, slog = 0;
        for (int i = 0; i < n; i++) {
            double lx = sgs__rand_log_gamma(&rng, a);
            double x = exp(lx);
            s1 += x;
            s2 += x * x;
            slog += lx;
        }
        double mean = s1 / n, var = s2 / n - mean * mean;
        sgs_assert_close(mean, a, Z_MAX * sqrt(a / n), 0);
        sgs_assert_close(var, a, Z_MAX * sqrt((3 * a * a + 6 * a - a * a) / n), 0);
        if (a == 0.25) /* E[log X] = psi(1/4), Var = psi'(1/4) (see test_parameter_moments) */
            sgs_assert_close(slog / n,
                             -0.5772156649015329 - 1.5707963267948966 - 3 * 0.6931471805599453,
                             Z_MAX * sqrt(17.19732915450711 / n), 0);
    }
    sgs_rng_t rng;
    sgs_rng_init(&rng, 99, 0);
    double sb = 0, sn = 0, sn2 = 0, se = 0;
    for (int i = 0; i < n; i++) {
        double b = sgs__rand_beta(&rng, 0.8, 3.0);
        sgs_assert_cmp(b, >=, 0);
        sgs_assert_cmp(b, <=, 1);
        sb += b;
        double z = sgs__rand_normal(&rng);
        sn += z;
        sn2 += z * z;
        se += sgs__rand_exp(&rng);
    }
    sgs_assert_close(sb / n, 0.8 / 3.8, Z_MAX * sqrt(0.8 * 3.0 / (3.8 * 3.8 * 4.8) / n), 0);
    sgs_assert_close(sn / n, 0, Z_MAX * sqrt(1.0 / n), 0);
    sgs_assert_close(sn2 / n, 1, Z_MAX * sqrt(2.0 / n), 0);
    sgs_assert_close(se / n, 1, Z_MAX * sqrt(1.0 / n), 0);
    /* Tiny Beta shapes: mass near 0 and 1 in proportion a / (a + b), never NaN. */
    double s_tiny = 0;
    for (int i = 0; i < n; i++) {
        double b = sgs__rand_beta(&rng, 0.001, 0.003);
        if (isnan(b))
            fail_msg("draw %d of Beta(0.001, 0.003): NaN", i);
        s_tiny += b;
    }
    sgs_assert_close(s_tiny / n, 0.25, Z_MAX * sqrt(0.25 * 0.75 / n), 0);
}

/* ---- Errors ------------------------------------------------------------------------------- */

static void expect_usage(const char *options, const char *message_part)
{
    char args[1024], out[4096], path[512];
    snprintf(path, sizeof path, "%s/usage.h5", dir);
    snprintf(args, sizeof args, "generate %s", options);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 64 || !strstr(out, message_part))
        fail_msg("generate %s: expected 64 and \"%s\", got %d: %s", options, message_part, status,
                 out);
    struct stat st;
    sgs_assert_cmp(stat(path, &st), !=, 0); /* nothing written */
}

static void test_bad_arguments_exit_64(void **state)
{
    (void)state;
    char o[600];
    snprintf(o, sizeof o, "-o '%s/usage.h5'", dir);
    char args[1024];
#define USAGE(extra, part)                                                                         \
    do {                                                                                           \
        snprintf(args, sizeof args, "%s %s", o, extra);                                            \
        expect_usage(args, part);                                                                  \
    } while (0)
    USAGE("", "--customers");
    USAGE("--customers 0", "--customers");
    USAGE("--customers 12x", "--customers");
    USAGE("--customers -5", "--customers");
    USAGE("--customers 10 --alpha -1", "--alpha");
    USAGE("--customers 10 --alpha abc", "--alpha");
    USAGE("--customers 10 --r 0", "--r");
    USAGE("--customers 10 --b inf", "--b");
    USAGE("--customers 10 --gamma", "--gamma needs a value");
    USAGE("--customers 10 --start 2021-13-01", "--start");
    USAGE("--customers 10 --start 2024-01-01 --end 2023-01-01", "--end");
    USAGE("--customers 10 --prospects -0.5", "--prospects");
    USAGE("--customers 10 --seed -1", "--seed");
    USAGE("--customers 10 --threads many", "--threads");
    USAGE("--customers 10 --frobnicate", "--frobnicate");
    USAGE("--customers 10 extra", "extra");
#undef USAGE
    expect_usage("--customers 10", "-o");
    char out[4096];
    assert_int_equal(sgs_test_run("generate --help", out, sizeof out), 0);
    sgs_assert_contains(out, "--customers");
}

/* No temporary siblings (".name.tmp-XXXXXX") left in folder d. */
static void expect_no_temporaries(const char *d)
{
    DIR *dh = opendir(d);
    assert_non_null(dh);
    struct dirent *e;
    while ((e = readdir(dh)) != NULL)
        if (strstr(e->d_name, ".tmp-"))
            fail_msg("temporary %s left in %s", e->d_name, d);
    closedir(dh);
}

static void test_unwritable_output_exits_73_and_keeps_existing_file(void **state)
{
    (void)state;
    char args[1024], out[4096];
    snprintf(args, sizeof args, "generate --customers 10 -o '%s/no/such/folder/x.h5'", dir);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 73 || !strstr(out, "no/such/folder"))
        fail_msg("expected 73 naming the folder, got %d: %s", status, out);

    /* A folder nobody may create files in, holding an existing file: /proc refuses new
     * files even to root. */
    size_t before_size, after_size;
    char *before = sgs_test_read_file("/proc/version", &before_size);
    if (before) {
        status = sgs_test_run("generate --customers 10 -o /proc/version", out, sizeof out);
        if (status != 73)
            fail_msg("/proc/version: expected 73, got %d: %s", status, out);
        char *after = sgs_test_read_file("/proc/version", &after_size);
        assert_non_null(after);
        assert_int_equal(before_size, after_size);
        assert_memory_equal(before, after, before_size);
        free(after);
        free(before);
    }
    /* A read-only folder of ours (permissions do not bind root, who is tested above). */
    if (geteuid() != 0) {
        char ro[512], file[600];
        snprintf(ro, sizeof ro, "%s/ro", dir);
        mkdir(ro, 0755);
        snprintf(file, sizeof file, "%s/keep.h5", ro);
        FILE *f = fopen(file, "w");
        fputs("yesterday's good file", f);
        fclose(f);
        chmod(ro, 0555);
        snprintf(args, sizeof args, "generate --customers 10 -o '%s'", file);
        status = sgs_test_run(args, out, sizeof out);
        chmod(ro, 0755);
        assert_int_equal(status, 73);
        char *kept = sgs_test_read_file(file, NULL);
        assert_string_equal(kept, "yesterday's good file");
        free(kept);
    }
}

/* A write that fails half way (file size limit, as a full disk would) gives 74, removes the
 * temporary and leaves the existing file as it was: early, in the middle, and in the very
 * last bytes (where HDF5's final flush and truncation fail). */
static void test_failed_write_keeps_existing_file(void **state)
{
    (void)state;
    if (SGS_TEST_TSAN)
        skip(); /* a file size limit kills the sanitizer's runtime (test_support.h) */
    char sub[512], file[600], full[600], args[1024], out[4096];
    snprintf(sub, sizeof sub, "%s/fsize", dir);
    mkdir(sub, 0755);
    snprintf(file, sizeof file, "%s/keep.h5", sub);
    snprintf(full, sizeof full, "%s/full.h5", dir);
    snprintf(args, sizeof args, "generate -q --customers 20000 -o '%s'", full);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    struct stat st;
    assert_int_equal(stat(full, &st), 0);
    const rlim_t size = (rlim_t)st.st_size;
    const rlim_t limits[] = {4096, size / 2, size - 4096, size - 1};
    FILE *f = fopen(file, "w");
    fputs("yesterday's good file", f);
    fclose(f);
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
        struct rlimit old, lim;
        getrlimit(RLIMIT_FSIZE, &old);
        lim = old;
        lim.rlim_cur = limits[k];
        void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN); /* ignored signals survive exec */
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        snprintf(args, sizeof args, "generate --customers 20000 -o '%s'", file);
        int status = sgs_test_run(args, out, sizeof out);
        setrlimit(RLIMIT_FSIZE, &old);
        signal(SIGXFSZ, old_handler);
        if (status != 74 || !strstr(out, "keep.h5"))
            fail_msg("size limit %llu of %llu: expected 74 naming keep.h5, got %d: %s",
                     (unsigned long long)limits[k], (unsigned long long)size, status, out);
        char *kept = sgs_test_read_file(file, NULL);
        assert_string_equal(kept, "yesterday's good file");
        free(kept);
        expect_no_temporaries(sub);
    }
}

/* Every allocation failing in turn: an error (never a crash or leak, checked by the
 * sanitizer build), the previous file intact, no temporary left. */
static void test_allocation_failures_keep_existing_file(void **state)
{
    (void)state;
    char sub[512], file[600];
    snprintf(sub, sizeof sub, "%s/oom", dir);
    mkdir(sub, 0755);
    snprintf(file, sizeof file, "%s/keep.h5", sub);
    sgs_generate_params_t p;
    sgs_generate_defaults(&p);
    p.n_customers = 300;
    p.block_customers = 100;
    sgs_exec_t exec = {.n_threads = 1};
    assert_int_equal(sgs_generate_file(file, &p, &exec, NULL, NULL, NULL, NULL), 0);
    size_t good_size;
    char *good = sgs_test_read_file(file, &good_size);
    int succeeded = 0;
    for (long n = 0; n < 400 && !succeeded; n++) {
        p.seed = 99; /* another file than the one on disk */
        sgs_error_t err = {0};
        sgs_test_fail_alloc_after(n);
        int rc = sgs_generate_file(file, &p, &exec, NULL, NULL, NULL, &err);
        sgs_test_fail_alloc_after(-1);
        p.seed = SGS_GEN_DEFAULT_SEED;
        if (rc == 0) {
            succeeded = 1;
            break;
        }
        if (rc != SGS_ENOMEM)
            fail_msg("allocation %ld: %d %s", n, rc, err.message);
        size_t size;
        char *now = sgs_test_read_file(file, &size);
        assert_non_null(now);
        sgs_assert_cmp(size, ==, good_size);
        sgs_assert_cmp(memcmp(now, good, size), ==, 0);
        free(now);
        expect_no_temporaries(sub);
    }
    if (!succeeded)
        fail_msg("no generation succeeded, failing allocation n = 0 to 399");
    free(good);
}

/* A stop check that says stop at its n-th call (kernels/core.h sgs_stop_fn). */
typedef struct stop_after {
    int calls, at;
} stop_after_t;

static int stop_at_call(void *ctx, sgs_error_t *err)
{
    stop_after_t *s = ctx;
    if (++s->calls != s->at)
        return SGS_OK;
    return sgs_error_set(err, SGS_EINTR, "stopped at call %d", s->at);
}

/* The stop check is asked before each block and before the rename: a stop at any of them
 * returns its code and message, keeps the previous file and leaves no temporary; a check that
 * never stops changes nothing in the file. */
static void test_stop_check_keeps_existing_file(void **state)
{
    (void)state;
    char sub[512], file[600], plain[600];
    snprintf(sub, sizeof sub, "%s/stop", dir);
    mkdir(sub, 0755);
    snprintf(file, sizeof file, "%s/keep.h5", sub);
    snprintf(plain, sizeof plain, "%s/plain.h5", sub);
    sgs_generate_params_t p;
    sgs_generate_defaults(&p);
    p.n_customers = 300;
    p.block_customers = 100;
    sgs_exec_t exec = {.n_threads = 1};
    assert_int_equal(sgs_generate_file(file, &p, &exec, NULL, NULL, NULL, NULL), 0);
    size_t good_size;
    char *good = sgs_test_read_file(file, &good_size);
    p.seed = 99; /* another file than the one on disk */
    /* A check that never stops: the same file; its calls are the checks of this file (one
     * before each step of the block pipeline, one before the rename). */
    stop_after_t never = {0, 0};
    sgs_exec_t stopping = {.n_threads = 1, .stop = stop_at_call, .stop_ctx = &never};
    char checked[600];
    snprintf(checked, sizeof checked, "%s/checked.h5", sub);
    assert_int_equal(sgs_generate_file(plain, &p, &exec, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(sgs_generate_file(checked, &p, &stopping, NULL, NULL, NULL, NULL), 0);
    sgs_assert_files_equal(checked, plain);
    int n_checks = never.calls;
    sgs_assert_cmp(n_checks, >=, 4);
    for (int at = 1; at <= n_checks; at++) {
        stop_after_t stop = {0, at};
        stopping.stop_ctx = &stop;
        sgs_error_t err = {0};
        int rc = sgs_generate_file(file, &p, &stopping, NULL, NULL, NULL, &err);
        char want[64];
        snprintf(want, sizeof want, "stopped at call %d", at);
        if (rc != SGS_EINTR || strcmp(err.message, want) != 0)
            fail_msg("stop at call %d of %d: got %d \"%s\"", at, n_checks, rc, err.message);
        size_t size;
        char *now = sgs_test_read_file(file, &size);
        assert_non_null(now);
        sgs_assert_cmp(size, ==, good_size);
        sgs_assert_cmp(memcmp(now, good, size), ==, 0);
        free(now);
        expect_no_temporaries(sub);
    }
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_types_and_attributes),
        cmocka_unit_test(test_tables_agree),
        cmocka_unit_test(test_rows_are_shuffled),
        cmocka_unit_test(test_truth_agrees_with_rows),
        cmocka_unit_test(test_one_occasion_per_purchase_day),
        cmocka_unit_test(test_parameter_moments),
        cmocka_unit_test(test_bgnbd_individual_expectations),
        cmocka_unit_test(test_referrals_form_an_acyclic_forest_of_earlier_customers),
        cmocka_unit_test(test_flags_match_events),
        cmocka_unit_test(test_event_channels),
        cmocka_unit_test(test_same_seed_same_bytes_whatever_threads),
        cmocka_unit_test(test_blocks_and_threads_through_the_api),
        cmocka_unit_test(test_no_events_keeps_purchases),
        cmocka_unit_test(test_customer_ids_are_a_bijection),
        cmocka_unit_test(test_variates_follow_their_laws),
        cmocka_unit_test(test_bad_arguments_exit_64),
        cmocka_unit_test(test_unwritable_output_exits_73_and_keeps_existing_file),
        cmocka_unit_test(test_failed_write_keeps_existing_file),
        cmocka_unit_test(test_allocation_failures_keep_existing_file),
        cmocka_unit_test(test_stop_check_keeps_existing_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
