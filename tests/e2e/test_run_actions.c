/*
 * tests/e2e/test_run_actions.c — `segscore run` stages, influence and opportunities on
 * generated data with planted behaviours (datasets/generate.h, /truth), checked against
 * sets computed here independently from the raw /transactions, /events and /customers
 * (and, for the value-based kinds, from the run's own published model columns), and
 * against the generator's truth flags; the list's capacity, one-per-customer rule and
 * ranking order; identical outputs for 1, 2 and 3 threads, and opportunities.csv's bytes
 * whatever chunks its rows are formatted in; a referral cycle reported as a
 * warning; and a run on an input without /events and /customers.
 *
 * Runs (seed 11, 20,000 buyers + 2,000 prospects, window 2021-07-01..2024-06-30):
 *   all   --as-of 2024-06-30 --compare-as-of 2024-03-31 --all-opportunities, every channel
 *         unlimited, renewal lookback 2000 days (every missed renewal is current)
 *   cap   the same without --all-opportunities and with tight capacities (all channels
 *         capped, sms not used), at 1, 2 and 3 threads
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "kernels/dates.h"
#include "kernels/opportunities.h"
#include "kernels/stages.h"
#include "kernels/tables.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256], gen[512];
static int32_t T, C; /* as-of and compare days */

#define AS_OF "2024-06-30"
#define COMPARE "2024-03-31"
#define LOOKBACK 2000
/* The triggers and the list are checked here without the contact policy, which is checked
 * on its own (tests/e2e/test_run_audit.c): generated customers have campaign contacts through
 * known channels, and some would have every channel blocked. */
#define POLICY_OFF                                                                                 \
    "--set actions.max_unanswered_contacts=0 --set actions.min_days_between_contacts=0"
#define CAP_ARGS                                                                                   \
    "--set actions.capacity.phone=50 --set actions.capacity.sms=0 "                                \
    "--set actions.capacity.email=300 --set actions.capacity.app=100 "                             \
    "--set actions.capacity.web=100 --set actions.capacity.mail=100 "                              \
    "--set actions.capacity.store=100"
static const int64_t capacity[SGS_CHANNEL_COUNT] = {0, 100, 100, 100, 50, 300, 0, 100};
static const uint8_t spill[] = {SGS_CHANNEL_PHONE, SGS_CHANNEL_SMS, SGS_CHANNEL_EMAIL,
                                SGS_CHANNEL_APP,   SGS_CHANNEL_WEB, SGS_CHANNEL_MAIL,
                                SGS_CHANNEL_STORE};

/* ---- Reading ----------------------------------------------------------------------------- */

static int64_t day_of(int64_t t)
{
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

static int32_t parse_day(const char *text)
{
    int64_t day;
    assert_int_equal(sgs_date_parse_day(text, &day), SGS_OK);
    return (int32_t)day;
}

/* ---- The raw input, grouped here with qsort ---------------------------------------------- */

typedef struct event {
    int64_t cid;
    int32_t day;
    uint8_t kind;
    double value;
} event_t;

typedef struct purchase {
    int64_t cid;
    int32_t day;
    double amount; /* while loading: the row's amount */
} purchase_t;

static int event_cmp(const void *a, const void *b)
{
    const event_t *x = a, *y = b;
    if (x->cid != y->cid)
        return x->cid < y->cid ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

static int purchase_cmp(const void *a, const void *b)
{
    const purchase_t *x = a, *y = b;
    if (x->cid != y->cid)
        return x->cid < y->cid ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int f64_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A row of /customers with its /truth row (same order in the file), sorted by id here. */
typedef struct customer {
    int64_t cid, referrer;
    uint8_t preferred, support_burst, missed_renewal, cancelled, stopped_buying;
} customer_t;

static int customer_cmp(const void *a, const void *b)
{
    return i64_cmp(a, b);
}

static struct input {
    size_t n_ev, n_pu, n_cust;
    size_t n_no_occasion; /* customers with rows by T but no purchase occasion */
    event_t *ev;
    purchase_t *pu;
    customer_t *cust;
} in;

static void load_input(void)
{
    hid_t f = H5Fopen(gen, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n, n2;
    int64_t *cid = sgs_test_column(f, "/events/customer_id", SGS_H5_I64, &n);
    int64_t *time = sgs_test_column(f, "/events/time", SGS_H5_I64, &n2);
    uint8_t *kind = sgs_test_column(f, "/events/kind", SGS_H5_U8, &n2);
    double *value = sgs_test_column(f, "/events/value", SGS_H5_F64, &n2);
    in.ev = malloc(n * sizeof *in.ev);
    for (size_t i = 0; i < n; i++)
        in.ev[i] = (event_t){cid[i], (int32_t)day_of(time[i]), kind[i], value[i]};
    in.n_ev = n;
    qsort(in.ev, n, sizeof *in.ev, event_cmp);
    sgs_free(cid);
    sgs_free(time);
    sgs_free(kind);
    sgs_free(value);

    cid = sgs_test_column(f, "/transactions/customer_id", SGS_H5_I64, &n);
    time = sgs_test_column(f, "/transactions/time", SGS_H5_I64, &n2);
    double *amount = sgs_test_column(f, "/transactions/amount", SGS_H5_F64, &n2);
    /* Purchase occasions: days with a purchase row not fully cancelled by refunds of the same
     * day (docs/spend.md), one entry per customer and day. */
    purchase_t *rows = malloc(n * sizeof *rows);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (day_of(time[i]) <= T)
            rows[m++] = (purchase_t){cid[i], (int32_t)day_of(time[i]), amount[i]};
    qsort(rows, m, sizeof *rows, purchase_cmp);
    in.pu = malloc(m * sizeof *in.pu);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        double bought = 0, refunded = 0;
        int purchase_row = 0;
        for (; j < m && rows[j].cid == rows[i].cid && rows[j].day == rows[i].day; j++) {
            purchase_row |= rows[j].amount >= 0;
            *(rows[j].amount >= 0 ? &bought : &refunded) += rows[j].amount;
        }
        if (purchase_row && (refunded == 0 || bought + refunded > 1e-9 * bought))
            in.pu[in.n_pu++] = rows[i];
        i = j;
    }
    for (size_t i = 0; i < m; i++) /* customers with rows, less those with an occasion */
        in.n_no_occasion += i == 0 || rows[i].cid != rows[i - 1].cid;
    for (size_t k = 0; k < in.n_pu; k++)
        in.n_no_occasion -= k == 0 || in.pu[k].cid != in.pu[k - 1].cid;
    free(rows);
    sgs_free(cid);
    sgs_free(time);
    sgs_free(amount);

    int64_t *truth_id = sgs_test_column(f, "/truth/customer_id", SGS_H5_I64, &n);
    uint8_t *burst = sgs_test_column(f, "/truth/support_burst", SGS_H5_U8, &n);
    uint8_t *missed = sgs_test_column(f, "/truth/missed_renewal", SGS_H5_U8, &n);
    uint8_t *cancelled = sgs_test_column(f, "/truth/cancelled", SGS_H5_U8, &n);
    uint8_t *stopped = sgs_test_column(f, "/truth/stopped_buying", SGS_H5_U8, &n);
    cid = sgs_test_column(f, "/customers/customer_id", SGS_H5_I64, &in.n_cust);
    int64_t *referrer = sgs_test_column(f, "/customers/referrer_id", SGS_H5_I64, &n);
    uint8_t *preferred = sgs_test_column(f, "/customers/preferred_channel", SGS_H5_U8, &n);
    H5Fclose(f);
    in.cust = malloc(in.n_cust * sizeof *in.cust);
    for (size_t k = 0; k < in.n_cust; k++) {
        sgs_assert_cmp(truth_id[k], ==, cid[k]);
        in.cust[k] = (customer_t){cid[k],    referrer[k],  preferred[k], burst[k],
                                  missed[k], cancelled[k], stopped[k]};
    }
    qsort(in.cust, in.n_cust, sizeof *in.cust, customer_cmp);
    void *done[] = {truth_id, burst, missed, cancelled, stopped, cid, referrer, preferred};
    for (size_t k = 0; k < sizeof done / sizeof done[0]; k++)
        free(done[k]);
}

/* The /customers row (with its truth) of a customer id; fails when there is none. */
static const customer_t *customer(int64_t id)
{
    customer_t key = {id, 0, 0, 0, 0, 0, 0};
    const customer_t *c = bsearch(&key, in.cust, in.n_cust, sizeof *in.cust, customer_cmp);
    if (!c)
        fail_msg("customer %lld is not in /customers", (long long)id);
    return c;
}

/* Rows lo..hi-1 of a sorted array of structs whose first field is the customer id. */
static void range_of(const void *base, size_t n, size_t size, int64_t id, size_t *lo, size_t *hi)
{
    const char *b = base;
    size_t l = 0, h = n;
    while (l < h) {
        size_t mid = l + (h - l) / 2;
        if (*(const int64_t *)(const void *)(b + mid * size) < id)
            l = mid + 1;
        else
            h = mid;
    }
    *lo = l;
    while (l < n && *(const int64_t *)(const void *)(b + l * size) == id)
        l++;
    *hi = l;
}

/* Distinct purchase days of a customer on or before day, and the last one. */
static int purchase_days(int64_t id, int32_t day, int32_t *last)
{
    size_t lo, hi;
    range_of(in.pu, in.n_pu, sizeof *in.pu, id, &lo, &hi);
    int n = 0;
    *last = INT32_MIN;
    for (size_t k = lo; k < hi; k++)
        if (in.pu[k].day <= day && in.pu[k].day != *last) {
            *last = in.pu[k].day;
            n++;
        }
    return n;
}

/* ---- A run's outputs ------------------------------------------------------------------- */

typedef struct csv_row {
    int64_t rank, cid;
    int kind, priority, channel, stage, segment;
    double value;
} csv_row_t;

typedef struct results {
    size_t n, n_buyers, n_rows, n_opp;
    int64_t *cid, *row;
    uint8_t *stage, *stage_compare;
    double *cycle, *overdue;
    int32_t *n_days;
    int64_t *buyer_id;
    int32_t *segment_label; /* /clusters/label, per buyer */
    uint8_t *main_channel;
    double *clv, *p_buy, *no_buy;   /* per buyer row */
    int64_t *n_direct, *n_indirect; /* /influence: the rows of /stages, no ids of its own */
    size_t n_infl;
    double *network_value;
    int64_t *opp_cid;
    uint8_t *opp_kind, *opp_channel;
    int32_t *opp_priority;
    double *opp_value;
    csv_row_t *rows;
    cJSON *summary;
    double r, alpha;
} results_t;

static int code_of(const char *(*name)(int), int n, const char *text)
{
    for (int k = 0; k < n; k++)
        if (strcmp(name(k), text) == 0)
            return k;
    fail_msg("unknown name \"%s\" in opportunities.csv", text);
    return -1;
}

static const cJSON *json_get(const cJSON *root, const char *a, const char *b, const char *c)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, a);
    if (o && b)
        o = cJSON_GetObjectItemCaseSensitive(o, b);
    if (o && c)
        o = cJSON_GetObjectItemCaseSensitive(o, c);
    return o;
}

static void parse_csv(const char *path, results_t *r)
{
    char *text = sgs_test_read_file(path, NULL);
    assert_non_null(text);
    char *line = strtok(text, "\n");
    assert_non_null(line);
    assert_string_equal(line, "rank,customer_id,opportunity,reason,value_at_stake,priority,"
                              "channel,stage,segment,rfm_segment,group");
    size_t cap = 1024;
    r->rows = malloc(cap * sizeof *r->rows);
    while ((line = strtok(NULL, "\n")) != NULL) {
        char *field[12];
        int nf = 0;
        for (char *p = line; nf < 12;) {
            field[nf++] = p;
            char *comma = strchr(p, ',');
            if (!comma)
                break;
            *comma = '\0';
            p = comma + 1;
        }
        if (nf != 11)
            fail_msg("%s: line %zu has %d fields", path, r->n_rows + 2, nf);
        if (r->n_rows == cap)
            r->rows = realloc(r->rows, (cap *= 2) * sizeof *r->rows);
        csv_row_t *row = &r->rows[r->n_rows++];
        row->rank = strtoll(field[0], NULL, 10);
        row->cid = strtoll(field[1], NULL, 10);
        row->kind = code_of(sgs_opportunity_kind_name, SGS_OPP_KIND_COUNT, field[2]);
        sgs_assert_cmp(strlen(field[3]), >, 10); /* a reason with numbers */
        row->value = strtod(field[4], NULL);
        row->priority = (int)strtol(field[5], NULL, 10);
        row->channel = code_of(sgs_channel_name, SGS_CHANNEL_COUNT, field[6]);
        row->stage = code_of(sgs_stage_name, SGS_STAGE_COUNT, field[7]);
        row->segment = (int)strtol(field[8], NULL, 10);
    }
    free(text);
}

static void load_results(const char *sub, results_t *r)
{
    memset(r, 0, sizeof *r);
    char path[700];
    snprintf(path, sizeof path, "%s/%s/results.h5", dir, sub);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n;
    r->cid = sgs_test_column(f, "/stages/customer_id", SGS_H5_I64, &r->n);
    r->row = sgs_test_column(f, "/stages/customer_row", SGS_H5_I64, &n);
    r->stage = sgs_test_column(f, "/stages/stage", SGS_H5_U8, &n);
    r->stage_compare = sgs_test_column(f, "/stages/stage_at_compare", SGS_H5_U8, &n);
    r->cycle = sgs_test_column(f, "/stages/cycle_days", SGS_H5_F64, &n);
    r->overdue = sgs_test_column(f, "/stages/days_overdue", SGS_H5_F64, &n);
    r->n_days = sgs_test_column(f, "/stages/n_purchase_days", SGS_H5_I32, &n);
    r->buyer_id = sgs_test_column(f, "/customers/customer_id", SGS_H5_I64, &r->n_buyers);
    r->main_channel = sgs_test_column(f, "/customers/main_channel", SGS_H5_U8, &n);
    r->segment_label = sgs_test_column(f, "/clusters/label", SGS_H5_I32, &n);
    r->clv = sgs_test_column(f, "/clv/clv", SGS_H5_F64, &n);
    r->p_buy = sgs_test_column(f, "/clv/p_buy", SGS_H5_F64, &n);
    r->no_buy = sgs_test_column(f, "/clv/prob_no_purchase", SGS_H5_F64, &n);
    r->n_direct = sgs_test_column(f, "/influence/n_direct", SGS_H5_I64, &r->n_infl);
    r->n_indirect = sgs_test_column(f, "/influence/n_indirect", SGS_H5_I64, &n);
    r->network_value = sgs_test_column(f, "/influence/network_value", SGS_H5_F64, &n);
    r->opp_cid = sgs_test_column(f, "/opportunities/customer_id", SGS_H5_I64, &r->n_opp);
    r->opp_kind = sgs_test_column(f, "/opportunities/kind", SGS_H5_U8, &n);
    r->opp_channel = sgs_test_column(f, "/opportunities/channel", SGS_H5_U8, &n);
    r->opp_priority = sgs_test_column(f, "/opportunities/priority", SGS_H5_I32, &n);
    r->opp_value = sgs_test_column(f, "/opportunities/value_at_stake", SGS_H5_F64, &n);
    H5Fclose(f);
    snprintf(path, sizeof path, "%s/%s/opportunities.csv", dir, sub);
    parse_csv(path, r);
    assert_int_equal(r->n_rows, r->n_opp);
    /* The CSV's segment is the buyer's k-means segment, -1 for customers without purchase. */
    for (size_t i = 0; i < r->n_rows; i++) {
        size_t lo = 0, hi = r->n_buyers;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (r->buyer_id[mid] < r->rows[i].cid)
                lo = mid + 1;
            else
                hi = mid;
        }
        int expected =
            lo < r->n_buyers && r->buyer_id[lo] == r->rows[i].cid ? r->segment_label[lo] : -1;
        assert_int_equal(r->rows[i].segment, expected);
    }
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, sub);
    char *text = sgs_test_read_file(path, NULL);
    assert_non_null(text);
    r->summary = cJSON_Parse(text);
    assert_non_null(r->summary);
    free(text);
    /* the model the run used (value.model = auto: the backtest's choice) */
    const cJSON *model = json_get(r->summary, "value", "model", NULL);
    sgs_assert_json(cJSON_IsString, model);
    char group[64];
    snprintf(group, sizeof group, "/models/%s", model->valuestring);
    snprintf(path, sizeof path, "%s/%s/results.h5", dir, sub);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    assert_int_equal(sgs_h5_attr_read_double(f, group, "r", &r->r, NULL), 0);
    assert_int_equal(sgs_h5_attr_read_double(f, group, "alpha", &r->alpha, NULL), 0);
    H5Fclose(f);
}

static void free_results(results_t *r)
{
    void *p[] = {r->cid,     r->row,          r->stage,       r->stage_compare, r->cycle,
                 r->overdue, r->n_days,       r->buyer_id,    r->main_channel,  r->clv,
                 r->p_buy,   r->no_buy,       r->n_direct,    r->n_indirect,    r->network_value,
                 r->opp_cid, r->opp_kind,     r->opp_channel, r->opp_priority,  r->opp_value,
                 r->rows,    r->segment_label};
    for (size_t k = 0; k < sizeof p / sizeof p[0]; k++)
        free(p[k]);
    cJSON_Delete(r->summary);
}

/* root.a.b.c (b, c may be NULL) */

static double json_number(const cJSON *root, const char *a, const char *b, const char *c)
{
    const cJSON *o = json_get(root, a, b, c);
    if (!o || !cJSON_IsNumber(o))
        fail_msg("summary.json: %s.%s.%s is not a number", a, b ? b : "", c ? c : "");
    return o->valuedouble;
}

static double clv_at(const results_t *r, size_t i)
{
    return r->row[i] >= 0 ? r->clv[r->row[i]] : (double)NAN;
}

static double p_buy_at(const results_t *r, size_t i)
{
    return r->row[i] >= 0 ? r->p_buy[r->row[i]] : (double)NAN;
}

static int is_alive_stage(int s)
{
    return s == SGS_STAGE_NEW || s == SGS_STAGE_ACTIVE || s == SGS_STAGE_LOYAL ||
           s == SGS_STAGE_REACTIVATED;
}

static void run_ok(const char *sub, const char *extra)
{
    char out_dir[400], args[4096], out[16384];
    snprintf(out_dir, sizeof out_dir, "%s/%s", dir, sub);
    mkdir(out_dir, 0755);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --as-of %s %s", gen, out_dir,
             AS_OF, extra);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("segscore %s failed (%d): %s", args, status, out);
}

/* ---- Setup ------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-actions", dir, sizeof dir);
    snprintf(gen, sizeof gen, "%s/gen.h5", dir);
    char args[1024], out[8192];
    snprintf(args, sizeof args, "generate --customers 20000 --seed 11 -o '%s'", gen);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0) {
        print_error("generate failed (%d): %s\n", status, out);
        return -1;
    }
    T = parse_day(AS_OF);
    C = parse_day(COMPARE);
    load_input();
    char extra[1024];
    snprintf(extra, sizeof extra,
             "--threads 2 --compare-as-of " COMPARE " --set actions.capacity.phone=-1 "
             "--set actions.renewal_at_risk.lookback_days=%d " POLICY_OFF,
             LOOKBACK);
    char all_extra[2048];
    snprintf(all_extra, sizeof all_extra, "%s --all-opportunities", extra);
    run_ok("all", all_extra);
    snprintf(all_extra, sizeof all_extra, "%s " CAP_ARGS, extra);
    run_ok("cap", all_extra);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(in.ev);
    free(in.pu);
    free(in.cust);
    sgs_test_rmdir(dir);
    return 0;
}

/* ---- Planted behaviours ------------------------------------------------------------------ */

/* got[kind][i]: kind is listed for stage index i in an --all-opportunities run. */
static uint8_t *listed_kinds(const results_t *r)
{
    uint8_t *got = calloc(SGS_OPP_KIND_COUNT * r->n, 1);
    for (size_t k = 0; k < r->n_rows; k++) {
        long i = sgs_test_find_id(r->cid, r->n, r->rows[k].cid);
        sgs_assert_cmp(i, >=, 0);
        uint8_t *cell = &got[(size_t)r->rows[k].kind * r->n + (size_t)i];
        if (*cell)
            fail_msg("customer %lld listed twice under %s", (long long)r->rows[k].cid,
                     sgs_opportunity_kind_name(r->rows[k].kind));
        *cell = 1;
    }
    return got;
}

/* Compare the listed set of one kind with the expected one; print the first differences. */
static void expect_kind(const results_t *r, const uint8_t *got, int kind, const uint8_t *expected)
{
    size_t n_expected = 0, n_wrong = 0;
    for (size_t i = 0; i < r->n; i++) {
        n_expected += expected[i];
        if (got[(size_t)kind * r->n + i] != expected[i]) {
            if (n_wrong++ < 5)
                print_error("%s: customer %lld (stage %s): expected %d, listed %d\n",
                            sgs_opportunity_kind_name(kind), (long long)r->cid[i],
                            sgs_stage_name(r->stage[i]), expected[i], got[(size_t)kind * r->n + i]);
        }
    }
    if (n_wrong)
        fail_msg("%s: %zu customers differ (%zu expected)", sgs_opportunity_kind_name(kind),
                 n_wrong, n_expected);
    if (n_expected == 0)
        fail_msg("%s: nobody expected: the check is empty", sgs_opportunity_kind_name(kind));
}

static void test_planted_cases_found_under_their_kind(void **state)
{
    (void)state;
    results_t r;
    load_results("all", &r);
    uint8_t *got = listed_kinds(&r);
    size_t n = r.n;
    uint8_t *expected = calloc(n, 1);
    int32_t *cancel_day = malloc(n * sizeof *cancel_day);

    /* Every customer of the input is staged: buyers and prospects of /customers. */
    assert_int_equal(n, in.n_cust);
    size_t n_prospect_stage = 0;
    for (size_t i = 0; i < n; i++)
        n_prospect_stage += r.stage[i] == SGS_STAGE_PROSPECT;
    sgs_assert_cmp(n_prospect_stage, >, 0);

    /* cancelled (a stage): a cancelled event c with no purchase and no renewal after c. */
    size_t n_cancelled_truth = 0;
    for (size_t i = 0; i < n; i++) {
        size_t lo, hi;
        range_of(in.ev, in.n_ev, sizeof *in.ev, r.cid[i], &lo, &hi);
        int32_t last_purchase, cancel = INT32_MIN, renewed = INT32_MIN;
        purchase_days(r.cid[i], T, &last_purchase);
        for (size_t k = lo; k < hi; k++) {
            if (in.ev[k].kind == SGS_EVENT_CANCELLED)
                cancel = in.ev[k].day;
            if (in.ev[k].kind == SGS_EVENT_RENEWED)
                renewed = in.ev[k].day;
        }
        cancel_day[i] = cancel;
        int want = cancel != INT32_MIN && !(last_purchase > cancel) && !(renewed > cancel);
        if (want != (r.stage[i] == SGS_STAGE_CANCELLED))
            fail_msg("customer %lld: cancelled expected %d, stage %s", (long long)r.cid[i], want,
                     sgs_stage_name(r.stage[i]));
        /* planted cancellation: staged cancelled unless the customer bought again */
        const customer_t *c = customer(r.cid[i]);
        if (c->cancelled) {
            n_cancelled_truth++;
            if (!(r.stage[i] == SGS_STAGE_CANCELLED || last_purchase > cancel_day[i]))
                fail_msg("customer %lld: cancelled on day %d, last purchase on day %d, stage %s",
                         (long long)r.cid[i], cancel_day[i], last_purchase,
                         sgs_stage_name(r.stage[i]));
        }
        if (r.stage[i] == SGS_STAGE_CANCELLED && !c->cancelled)
            fail_msg("customer %lld: stage cancelled, but no cancellation was planted",
                     (long long)r.cid[i]);
    }
    sgs_assert_cmp(n_cancelled_truth, >, 100);

    /* service_recovery: >= 3 support contacts or complaints on days T-29..T. */
    size_t n_planted_found = 0;
    for (size_t i = 0; i < n; i++) {
        size_t lo, hi, contacts = 0, support = 0, complaints = 0;
        range_of(in.ev, in.n_ev, sizeof *in.ev, r.cid[i], &lo, &hi);
        for (size_t k = lo; k < hi; k++)
            if (in.ev[k].day >= T - 29 && in.ev[k].day <= T) {
                support += in.ev[k].kind == SGS_EVENT_SUPPORT;
                complaints += in.ev[k].kind == SGS_EVENT_COMPLAINT;
            }
        contacts = support + complaints;
        expected[i] = contacts >= 3;
        const customer_t *c = customer(r.cid[i]);
        /* a burst inside the window is found; what is found is a burst or has a complaint */
        if (support >= 3) {
            if (!c->support_burst)
                fail_msg("customer %lld: %zu support contacts in the window, no burst planted",
                         (long long)r.cid[i], support);
            if (!got[SGS_OPP_SERVICE_RECOVERY * n + i])
                fail_msg("customer %lld: a burst of %zu support contacts, no service_recovery",
                         (long long)r.cid[i], support);
            n_planted_found++;
        }
        if (got[SGS_OPP_SERVICE_RECOVERY * n + i] && !c->support_burst)
            sgs_assert_cmp(complaints, >, 0);
    }
    expect_kind(&r, got, SGS_OPP_SERVICE_RECOVERY, expected);
    if (n_planted_found < 5)
        fail_msg("only %zu support bursts in the last 30 days were found", n_planted_found);

    /* renewal_at_risk: latest renewal due d <= T, 14 < T-d <= LOOKBACK, no renewal on days
     * d-30..T, stage not none or cancelled. Planted missed renewals are all found (the
     * long lookback makes every one current); the others are cancellations followed by a
     * purchase (the stage is no longer cancelled, the renewal was never made). */
    size_t n_missed_found = 0;
    for (size_t i = 0; i < n; i++) {
        size_t lo, hi;
        range_of(in.ev, in.n_ev, sizeof *in.ev, r.cid[i], &lo, &hi);
        int32_t due = INT32_MIN;
        for (size_t k = lo; k < hi; k++)
            if (in.ev[k].kind == SGS_EVENT_RENEWAL_DUE && in.ev[k].day <= T)
                due = in.ev[k].day;
        int renewed = 0;
        for (size_t k = lo; k < hi; k++)
            renewed |=
                in.ev[k].kind == SGS_EVENT_RENEWED && in.ev[k].day >= due - 30 && in.ev[k].day <= T;
        expected[i] = due != INT32_MIN && T - due > 14 && T - due <= LOOKBACK && !renewed &&
                      r.stage[i] != SGS_STAGE_NONE && r.stage[i] != SGS_STAGE_CANCELLED;
        const customer_t *c = customer(r.cid[i]);
        if (c->missed_renewal && T - due > 14) {
            if (!got[SGS_OPP_RENEWAL_AT_RISK * n + i])
                fail_msg(
                    "customer %lld: a planted missed renewal due on day %d, no renewal_at_risk",
                    (long long)r.cid[i], due);
            n_missed_found++;
        }
        if (got[SGS_OPP_RENEWAL_AT_RISK * n + i] && !c->missed_renewal &&
            !(c->cancelled && r.stage[i] != SGS_STAGE_CANCELLED))
            fail_msg("customer %lld: renewal_at_risk without a planted missed renewal "
                     "(cancellation planted: %d, stage %s)",
                     (long long)r.cid[i], c->cancelled, sgs_stage_name(r.stage[i]));
    }
    expect_kind(&r, got, SGS_OPP_RENEWAL_AT_RISK, expected);
    if (n_missed_found < 20)
        fail_msg("only %zu missed renewals were found", n_missed_found);

    /* detractor_follow_up: the latest scored survey on days T-89..T scored <= 6 (customers
     * with two surveys on that day and different verdicts are left out of the check). */
    for (size_t i = 0; i < n; i++) {
        size_t lo, hi;
        range_of(in.ev, in.n_ev, sizeof *in.ev, r.cid[i], &lo, &hi);
        int32_t day = INT32_MIN;
        int low = 0, high = 0;
        for (size_t k = lo; k < hi; k++) {
            if (in.ev[k].kind != SGS_EVENT_SURVEY || !isfinite(in.ev[k].value) || in.ev[k].day > T)
                continue;
            if (in.ev[k].day > day) {
                day = in.ev[k].day;
                low = high = 0;
            }
            low |= in.ev[k].value <= 6.0;
            high |= in.ev[k].value > 6.0;
        }
        if (low && high)
            got[SGS_OPP_DETRACTOR_FOLLOW_UP * n + i] = expected[i] = 0; /* ambiguous: skip */
        else
            expected[i] = day != INT32_MIN && T - day < 90 && low;
    }
    expect_kind(&r, got, SGS_OPP_DETRACTOR_FOLLOW_UP, expected);

    /* onboarding: stage new with one purchase day (counted here from /transactions). */
    for (size_t i = 0; i < n; i++) {
        int32_t last;
        int days = purchase_days(r.cid[i], T, &last);
        assert_int_equal(days, r.n_days[i]);
        expected[i] = r.stage[i] == SGS_STAGE_NEW && days == 1;
    }
    expect_kind(&r, got, SGS_OPP_ONBOARDING, expected);

    /* The model columns reach the stages: a cycle from the model is 1 / the rate while buying,
     * (alpha + t_x) / (r + x) days (it does not grow with the silence), and days overdue =
     * days since the last purchase - cycle. */
    size_t n_model_cycles = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t last;
        int days = purchase_days(r.cid[i], T, &last);
        if (days == 0) {
            sgs_assert_nan(r.overdue[i]);
            continue;
        }
        sgs_assert_close(r.overdue[i], (double)(T - last) - r.cycle[i], 1e-9, 1e-12);
        if (days < 2)
            continue;
        int32_t first = INT32_MAX;
        size_t lo, hi;
        range_of(in.pu, in.n_pu, sizeof *in.pu, r.cid[i], &lo, &hi);
        for (size_t k = lo; k < hi; k++)
            first = in.pu[k].day < first ? in.pu[k].day : first;
        sgs_assert_close(r.cycle[i],
                         (r.alpha + (double)(last - first)) / (r.r + (double)(days - 1)), 1e-9,
                         1e-12);
        n_model_cycles++;
    }
    sgs_assert_cmp(n_model_cycles, >, 5000);

    /* stopped_buying (the model cannot see dropout, so this one is statistical): customers
     * who stopped are at risk, lapsed or cancelled, all but a few. */
    size_t n_stopped = 0, n_stopped_not_alive = 0;
    for (size_t i = 0; i < n; i++) {
        if (!customer(r.cid[i])->stopped_buying)
            continue;
        n_stopped++;
        n_stopped_not_alive += r.stage[i] == SGS_STAGE_AT_RISK || r.stage[i] == SGS_STAGE_LAPSED ||
                               r.stage[i] == SGS_STAGE_CANCELLED;
    }
    if (n_stopped < 1000 || (double)n_stopped_not_alive < 0.98 * (double)n_stopped)
        fail_msg("stopped buying: %zu of %zu at risk, lapsed or cancelled", n_stopped_not_alive,
                 n_stopped);

    /* win_back (with --compare-as-of): lapsed now and not at the compare date. */
    for (size_t i = 0; i < n; i++)
        expected[i] = r.stage[i] == SGS_STAGE_LAPSED && r.stage_compare[i] != SGS_STAGE_LAPSED;
    expect_kind(&r, got, SGS_OPP_WIN_BACK, expected);

    /* save_high_value: at risk with CLV >= the nearest-rank 0.8 quantile of buyers' CLV. */
    double *sorted = malloc(r.n_buyers * sizeof *sorted);
    memcpy(sorted, r.clv, r.n_buyers * sizeof *sorted);
    qsort(sorted, r.n_buyers, sizeof *sorted, f64_cmp);
    double threshold = sorted[(size_t)ceil(0.8 * (double)r.n_buyers) - 1];
    /* cJSON prints 15 significant digits when they read back within its epsilon. */
    sgs_assert_close(json_number(r.summary, "opportunities", "thresholds", "save_high_value_clv"),
                     threshold, 0, 1e-13);
    for (size_t i = 0; i < n; i++)
        expected[i] = r.stage[i] == SGS_STAGE_AT_RISK && clv_at(&r, i) >= threshold;
    expect_kind(&r, got, SGS_OPP_SAVE_HIGH_VALUE, expected);

    /* overdue_reminder: alive stage, overdue by more than a quarter cycle, p_buy >= 0.5. */
    for (size_t i = 0; i < n; i++)
        expected[i] = is_alive_stage(r.stage[i]) && r.overdue[i] > 0.25 * r.cycle[i] &&
                      p_buy_at(&r, i) >= 0.5;
    expect_kind(&r, got, SGS_OPP_OVERDUE_REMINDER, expected);

    /* value at stake of the kinds that weigh a loss: the CLV if the customer buys again
     * (CLV / the model's P(buy)) times the calibrated probability that they do not; never 0
     * for a customer worth something */
    size_t n_weighed = 0;
    for (size_t k = 0; k < r.n_opp; k++) {
        int kind = r.opp_kind[k];
        if (kind != SGS_OPP_WIN_BACK && kind != SGS_OPP_SAVE_HIGH_VALUE &&
            kind != SGS_OPP_OVERDUE_REMINDER)
            continue;
        long b = sgs_test_find_id(r.buyer_id, r.n_buyers, r.opp_cid[k]);
        sgs_assert_cmp(b, >=, 0);
        double want = r.clv[b] / (1 - r.no_buy[b]) * (1 - r.p_buy[b]);
        sgs_assert_close(r.opp_value[k], want, 1e-9, 1e-12);
        if (r.clv[b] > 0)
            sgs_assert_cmp(r.opp_value[k], >, 0);
        n_weighed++;
    }
    sgs_assert_cmp(n_weighed, >, 100);

    /* grow: alive stage and CLV below half the median CLV of the alive customers of the
     * customer's k-means segment (all alive customers for customers without a segment). */
    int32_t n_segments = 0;
    for (size_t b = 0; b < r.n_buyers; b++)
        n_segments = r.segment_label[b] + 1 > n_segments ? r.segment_label[b] + 1 : n_segments;
    double segment_median[64];
    sgs_assert_cmp(n_segments, <=, 64);
    for (int32_t g = -1; g < n_segments; g++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            int32_t seg = r.row[i] >= 0 ? r.segment_label[r.row[i]] : -1;
            if (is_alive_stage(r.stage[i]) && (g < 0 || seg == g))
                sorted[m++] = clv_at(&r, i);
        }
        qsort(sorted, m, sizeof *sorted, f64_cmp);
        double median = m == 0  ? (double)NAN
                        : m % 2 ? sorted[m / 2]
                                : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);
        if (g < 0)
            segment_median[63] = median;
        else
            segment_median[g] = median;
    }
    for (size_t i = 0; i < n; i++) {
        int32_t seg = r.row[i] >= 0 ? r.segment_label[r.row[i]] : -1;
        double potential =
            seg >= 0 && !isnan(segment_median[seg]) ? segment_median[seg] : segment_median[63];
        expected[i] = is_alive_stage(r.stage[i]) && clv_at(&r, i) < 0.5 * potential;
    }
    expect_kind(&r, got, SGS_OPP_GROW, expected);
    free(sorted);

    free(expected);
    free(cancel_day);
    free(got);
    free_results(&r);
}

/* Referral chains: counts recomputed from /customers/referrer_id, network value by
 * iterating NV = clv + 0.5 * sum of the children's NV to its fixed point, and advocates. */
static void test_referral_chains_and_advocates(void **state)
{
    (void)state;
    results_t r;
    load_results("all", &r);
    size_t n = r.n;
    sgs_assert_cmp(r.n_infl, ==, n);
    long *parent = malloc(n * sizeof *parent);
    int64_t *direct = calloc(n, sizeof *direct);
    for (size_t i = 0; i < n; i++)
        parent[i] = -1;
    for (size_t k = 0; k < in.n_cust; k++) {
        if (in.cust[k].referrer == -1)
            continue;
        long i = sgs_test_find_id(r.cid, n, in.cust[k].cid),
             p = sgs_test_find_id(r.cid, n, in.cust[k].referrer);
        sgs_assert_cmp(i, >=, 0);
        sgs_assert_cmp(p, >=, 0);
        parent[i] = p;
        direct[p]++;
    }
    size_t n_chains = 0; /* referrals of referrals */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r.n_direct[i], direct[i]);
        n_chains += r.n_indirect[i] > 0;
    }
    sgs_assert_cmp(n_chains, >, 50);
    double *nv = malloc(n * sizeof *nv), *next = malloc(n * sizeof *next);
    for (size_t i = 0; i < n; i++)
        nv[i] = isfinite(clv_at(&r, i)) ? clv_at(&r, i) : 0.0;
    for (int round = 0; round < 64; round++) {
        for (size_t i = 0; i < n; i++)
            next[i] = isfinite(clv_at(&r, i)) ? clv_at(&r, i) : 0.0;
        for (size_t i = 0; i < n; i++)
            if (parent[i] >= 0)
                next[parent[i]] += 0.5 * nv[i];
        memcpy(nv, next, n * sizeof *nv);
    }
    for (size_t i = 0; i < n; i++)
        sgs_assert_close(r.network_value[i], nv[i], 1e-9, 1e-12);

    /* advocate: referred someone, value brought in (the published network value, checked
     * above, minus the own CLV) >= its 0.8 quantile over referrers, stage not none, lapsed
     * or cancelled */
    uint8_t *got = listed_kinds(&r);
    double *brought = malloc(n * sizeof *brought), *sorted = malloc(n * sizeof *sorted);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        brought[i] = r.network_value[i] - (isfinite(clv_at(&r, i)) ? clv_at(&r, i) : 0.0);
        if (direct[i] >= 1)
            sorted[m++] = brought[i];
    }
    qsort(sorted, m, sizeof *sorted, f64_cmp);
    double threshold = sorted[(size_t)ceil(0.8 * (double)m) - 1];
    sgs_assert_cmp(
        threshold, ==,
        json_number(r.summary, "opportunities", "thresholds", "advocate_value_brought_in"));
    uint8_t *expected = calloc(n, 1);
    for (size_t i = 0; i < n; i++)
        expected[i] = direct[i] >= 1 && brought[i] >= threshold && r.stage[i] != SGS_STAGE_NONE &&
                      r.stage[i] != SGS_STAGE_LAPSED && r.stage[i] != SGS_STAGE_CANCELLED;
    expect_kind(&r, got, SGS_OPP_ADVOCATE, expected);
    free(expected);
    free(brought);
    free(sorted);
    free(got);
    sgs_free(nv);
    free(next);
    free(parent);
    sgs_free(direct);
    free_results(&r);
}

/* ---- The list: one per customer, ranking, capacity --------------------------------------- */

static void test_one_per_customer_ranking_and_capacity(void **state)
{
    (void)state;
    results_t all, cap;
    load_results("all", &all);
    load_results("cap", &cap);
    size_t n = cap.n;

    /* the CSV is the /opportunities group, rounded */
    for (size_t k = 0; k < cap.n_rows; k++) {
        const csv_row_t *row = &cap.rows[k];
        assert_int_equal(row->rank, (int64_t)k + 1);
        assert_int_equal(cap.opp_cid[k], row->cid);
        assert_int_equal(cap.opp_kind[k], row->kind);
        assert_int_equal(cap.opp_channel[k], row->channel);
        assert_int_equal(cap.opp_priority[k], row->priority);
        sgs_assert_close(row->value, cap.opp_value[k], 0.0051, 0);
    }
    /* ranking: priority desc, value at stake desc, customer_id asc */
    for (size_t k = 1; k < cap.n_rows; k++) {
        int32_t p0 = cap.opp_priority[k - 1], p1 = cap.opp_priority[k];
        double v0 = cap.opp_value[k - 1], v1 = cap.opp_value[k];
        int ordered =
            p0 > p1 || (p0 == p1 && (v0 > v1 || (v0 == v1 && cap.opp_cid[k - 1] < cap.opp_cid[k])));
        if (!ordered)
            fail_msg("rows %zu and %zu out of order", k, k + 1);
    }
    /* one row per customer, under its highest-priority kind (priorities are distinct) */
    int32_t *best = calloc(n, sizeof *best);
    uint8_t *best_kind = calloc(n, 1);
    for (size_t k = 0; k < all.n_rows; k++) {
        long i = sgs_test_find_id(all.cid, all.n, all.rows[k].cid);
        if (!best_kind[i] || all.rows[k].priority > best[i]) {
            best[i] = all.rows[k].priority;
            best_kind[i] = (uint8_t)all.rows[k].kind;
        }
    }
    size_t n_customers_all = 0;
    for (size_t i = 0; i < n; i++)
        n_customers_all += best_kind[i] != 0;
    uint8_t *seen = calloc(n, 1);
    for (size_t k = 0; k < cap.n_rows; k++) {
        long i = sgs_test_find_id(cap.cid, n, cap.rows[k].cid);
        sgs_assert_cmp(i, >=, 0);
        if (seen[i]++)
            fail_msg("customer %lld listed twice", (long long)cap.rows[k].cid);
        assert_int_equal(cap.rows[k].kind, best_kind[i]);
        assert_int_equal(cap.rows[k].stage, cap.stage[i]);
    }
    double left_out = json_number(cap.summary, "opportunities", "left_out", NULL);
    sgs_assert_cmp(left_out, >, 0);
    assert_int_equal((size_t)left_out + cap.n_rows, n_customers_all);
    assert_int_equal(json_number(cap.summary, "opportunities", "candidates", NULL),
                     n_customers_all);

    /* channels: the customer's own (preferred, else main purchase channel, else email)
     * while it has room, else the next channel of the spill order with room; recomputed in
     * rank order (rows left out take no place) */
    int64_t used[SGS_CHANNEL_COUNT] = {0};
    size_t n_spilled = 0;
    for (size_t k = 0; k < cap.n_rows; k++) {
        int64_t id = cap.rows[k].cid;
        const customer_t *c = customer(id);
        long b = sgs_test_find_id(cap.buyer_id, cap.n_buyers, id);
        int own = c->preferred                      ? c->preferred
                  : (b >= 0 && cap.main_channel[b]) ? cap.main_channel[b]
                                                    : SGS_CHANNEL_EMAIL;
        int want = 0;
        if (capacity[own] != 0 && used[own] < capacity[own]) {
            want = own;
        } else {
            size_t start = 0, len = sizeof spill;
            for (size_t s = 0; s < len; s++)
                if (spill[s] == own)
                    start = s + 1;
            for (size_t s = 0; s < len && !want; s++) {
                int ch = spill[(start + s) % len];
                if (ch != own && capacity[ch] != 0 && used[ch] < capacity[ch])
                    want = ch;
            }
        }
        if (cap.rows[k].channel != want)
            fail_msg("rank %lld (customer %lld, own channel %s): channel %s, expected %s",
                     (long long)cap.rows[k].rank, (long long)id, sgs_channel_name(own),
                     sgs_channel_name(cap.rows[k].channel), sgs_channel_name(want));
        used[want]++;
        n_spilled += want != own;
    }
    for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++)
        sgs_assert_cmp(used[ch], <=, capacity[ch]);
    assert_int_equal(used[SGS_CHANNEL_SMS], 0);
    assert_int_equal(json_number(cap.summary, "opportunities", "spilled", NULL), n_spilled);
    sgs_assert_cmp(n_spilled, >, 0);
    free(best);
    free(best_kind);
    free(seen);
    free_results(&all);
    free_results(&cap);
}

/* ---- Determinism ------------------------------------------------------------------------- */

static void test_outputs_identical_for_1_2_3_threads(void **state)
{
    (void)state;
    setenv("SGS_THREAD_GRAIN", "1", 1); /* every loop on every thread, however small */
    char extra[1024];
    for (int t = 1; t <= 3; t += 2) {
        snprintf(extra, sizeof extra,
                 "--threads %d --compare-as-of " COMPARE " --set actions.capacity.phone=-1 "
                 "--set actions.renewal_at_risk.lookback_days=%d " POLICY_OFF " " CAP_ARGS,
                 t, LOOKBACK);
        char sub[16];
        snprintf(sub, sizeof sub, "cap%d", t);
        run_ok(sub, extra);
    }
    const char *files[] = {"results.h5", "opportunities.csv", "customers.csv", "report.txt",
                           "report.html"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        for (int t = 1; t <= 3; t += 2) {
            char a[700], b[700];
            snprintf(a, sizeof a, "%s/cap/%s", dir, files[k]);
            snprintf(b, sizeof b, "%s/cap%d/%s", dir, t, files[k]);
            char why[128];
            if (sgs_test_files_differ(a, b, why, sizeof why))
                fail_msg("%s differs between 2 and %d threads (%s)", files[k], t, why);
        }
    }
    unsetenv("SGS_THREAD_GRAIN");
}

/* opportunities.csv formatted a chunk of 2,048 rows at a time (engine/write_opportunities_csv.c
 * gathers each chunk's facts in customer order; SGS_TEST_CSV_CHUNK_ROWS makes its chunks small)
 * gives the bytes of the default run, whose list fits one chunk: every opportunity listed
 * (customers with several rows, in different chunks), at 1 and 3 threads. */
static void test_opportunities_csv_in_chunks(void **state)
{
    (void)state;
    setenv("SGS_TEST_CSV_CHUNK_ROWS", "2048", 1);
    for (int t = 1; t <= 3; t += 2) {
        char extra[1024];
        snprintf(extra, sizeof extra,
                 "--threads %d --compare-as-of " COMPARE " --set actions.capacity.phone=-1 "
                 "--set actions.renewal_at_risk.lookback_days=%d " POLICY_OFF
                 " --all-opportunities",
                 t, LOOKBACK);
        char sub[32], a[700], b[700], why[128];
        snprintf(sub, sizeof sub, "all-chunks%d", t);
        run_ok(sub, extra);
        snprintf(a, sizeof a, "%s/all/opportunities.csv", dir);
        snprintf(b, sizeof b, "%s/%s/opportunities.csv", dir, sub);
        if (sgs_test_files_differ(a, b, why, sizeof why))
            fail_msg("%s differs from %s (%s)", b, a, why);
        size_t size = 0, lines = 0;
        char *text = sgs_test_read_file(b, &size);
        assert_non_null(text);
        for (size_t i = 0; i < size; i++)
            lines += text[i] == '\n';
        free(text);
        sgs_assert_cmp(lines, >, 2 * 2048 + 1); /* the header and more than two chunks */
    }
    unsetenv("SGS_TEST_CSV_CHUNK_ROWS");
}

/* ---- Hand-made inputs -------------------------------------------------------------------- */

/* Customers 1..6 buy; 7 is a prospect; 8 has a refund only; 9 is known only from a support
 * contact in /events; 10 signs up after the as-of date. Referrals: 2 -> 3 -> 4 -> 2 is a
 * cycle, 5 refers itself, 6 was referred by 1 and 7 by 6. */
static void write_referral_input(const char *path, uint8_t event_kind)
{
    hid_t h = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(h, >=, 0);
    int64_t cid[13], time[13];
    double amount[13];
    for (int k = 0; k < 12; k++) {
        cid[k] = 1 + k % 6;
        time[k] = INT64_C(1700000000) + (int64_t)k * 86400 * 7;
        amount[k] = 10.0 + k;
    }
    cid[12] = 8;
    time[12] = INT64_C(1700000000) + 3 * 86400;
    amount[12] = -5.0;
    assert_int_equal(
        sgs_h5_write_column(h, "/transactions/customer_id", SGS_H5_I64, cid, 13, 0, NULL), 0);
    assert_int_equal(sgs_h5_write_column(h, "/transactions/time", SGS_H5_I64, time, 13, 0, NULL),
                     0);
    assert_int_equal(
        sgs_h5_write_column(h, "/transactions/amount", SGS_H5_F64, amount, 13, 0, NULL), 0);
    int64_t ids[8] = {1, 2, 3, 4, 5, 6, 7, 10}, referrer[8] = {-1, 4, 2, 3, 5, 1, 6, -1};
    int64_t signup[8];
    for (int k = 0; k < 8; k++)
        signup[k] = k < 7 ? INT64_C(1600000000) : INT64_C(1800000000);
    assert_int_equal(sgs_h5_write_column(h, "/customers/customer_id", SGS_H5_I64, ids, 8, 0, NULL),
                     0);
    assert_int_equal(
        sgs_h5_write_column(h, "/customers/referrer_id", SGS_H5_I64, referrer, 8, 0, NULL), 0);
    assert_int_equal(
        sgs_h5_write_column(h, "/customers/signup_time", SGS_H5_I64, signup, 8, 0, NULL), 0);
    int64_t ev_id[1] = {9}, ev_time[1] = {INT64_C(1700000000) + 86400};
    uint8_t ev_kind[1] = {event_kind};
    assert_int_equal(sgs_h5_write_column(h, "/events/customer_id", SGS_H5_I64, ev_id, 1, 0, NULL),
                     0);
    assert_int_equal(sgs_h5_write_column(h, "/events/time", SGS_H5_I64, ev_time, 1, 0, NULL), 0);
    assert_int_equal(sgs_h5_write_column(h, "/events/kind", SGS_H5_U8, ev_kind, 1, 0, NULL), 0);
    H5Fclose(h);
}

static void test_referral_cycle_is_a_reported_warning(void **state)
{
    (void)state;
    char input[600], sub[600], args[2048], out[8192];
    snprintf(input, sizeof input, "%s/referrals.h5", dir);
    snprintf(sub, sizeof sub, "%s/referrals", dir);
    mkdir(sub, 0755);
    write_referral_input(input, SGS_EVENT_SUPPORT);
    snprintf(args, sizeof args, "run -i '%s' -o '%s/results.h5' --model none", input, sub);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("run failed (%d): %s", status, out);
    sgs_assert_contains(out, "warning: /customers/referrer_id: 2 referral cycles");

    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", sub);
    char *text = sgs_test_read_file(path, NULL);
    cJSON *summary = cJSON_Parse(text);
    free(text);
    assert_non_null(summary);
    const cJSON *warnings = cJSON_GetObjectItemCaseSensitive(summary, "warnings");
    int found = 0;
    for (const cJSON *w = warnings ? warnings->child : NULL; w; w = w->next) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(w, "code");
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(w, "message");
        found |= cJSON_IsString(code) && strcmp(code->valuestring, "referral_cycles") == 0 &&
                 cJSON_IsString(message) &&
                 strstr(message->valuestring, "referral cycle") != NULL &&
                 strstr(message->valuestring, "2 (3 long)") != NULL;
    }
    if (!found)
        fail_msg("no referral cycle warning in summary.json");
    assert_int_equal(json_number(summary, "influence", "cycles", NULL), 2);
    assert_int_equal(json_number(summary, "influence", "customers_in_cycles", NULL), 4);
    /* 7 (no purchase), 8 (refunds only) and 9 (an event only) are prospects; 10 is not
     * known yet */
    assert_int_equal(json_number(summary, "stages", "per_stage", "prospect"), 3);
    assert_int_equal(json_number(summary, "stages", "per_stage", "none"), 1);
    assert_int_equal(json_number(summary, "stages", "customers", NULL), 10);
    assert_int_equal(json_number(summary, "optional_inputs", "customers_only_in_events", NULL), 1);
    assert_int_equal(
        json_number(summary, "optional_inputs", "customers_only_in_customers_table", NULL), 2);
    cJSON_Delete(summary);

    snprintf(path, sizeof path, "%s/results.h5", sub);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n;
    uint8_t *status_col = sgs_test_column(f, "/influence/referral_status", SGS_H5_U8, &n);
    int64_t *direct = sgs_test_column(f, "/influence/n_direct", SGS_H5_I64, &n);
    int64_t *indirect = sgs_test_column(f, "/influence/n_indirect", SGS_H5_I64, &n);
    double *nv = sgs_test_column(f, "/influence/network_value", SGS_H5_F64, &n);
    int64_t *row = sgs_test_column(f, "/stages/customer_row", SGS_H5_I64, &n);
    uint8_t *stage = sgs_test_column(f, "/stages/stage", SGS_H5_U8, &n);
    H5Fclose(f);
    assert_int_equal(n, 10);
    static const uint8_t want_status[10] = {0, 3, 3, 3, 3, 1, 1, 0, 0, 0};
    static const int64_t want_row[10] = {0, 1, 2, 3, 4, 5, -1, -1, -1, -1};
    static const uint8_t want_stage[10] = {0,
                                           0,
                                           0,
                                           0,
                                           0,
                                           0,
                                           SGS_STAGE_PROSPECT,
                                           SGS_STAGE_PROSPECT,
                                           SGS_STAGE_PROSPECT,
                                           SGS_STAGE_NONE};
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(status_col[i], want_status[i]);
        assert_int_equal(row[i], want_row[i]);
        if (i >= 6)
            assert_int_equal(stage[i], want_stage[i]);
    }
    sgs_free(row);
    sgs_free(stage);

    /* An event kind outside 1..8 fails the run (exit 65, the row named) and every output of
     * the previous run, opportunities.csv included, stays as it was. */
    static const char *const names[] = {"results.h5", "summary.json", "customers.csv",
                                        "opportunities.csv", "report.txt"};
    char keep[700];
    snprintf(keep, sizeof keep, "%s/referrals-before", dir);
    snprintf(args, sizeof args, "cp -r '%s' '%s'", sub, keep);
    assert_int_equal(system(args), 0);
    write_referral_input(input, 9);
    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --model none", input, sub);
    status = sgs_test_run(args, out, sizeof out);
    if (status != 65 || !strstr(out, "/events/kind: row 0"))
        fail_msg("bad event kind: expected exit 65 naming /events/kind, got %d: %s", status, out);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char a[800], b[800];
        snprintf(a, sizeof a, "%s/%s", sub, names[k]);
        snprintf(b, sizeof b, "%s/%s", keep, names[k]);
        char why[128];
        if (sgs_test_files_differ(a, b, why, sizeof why))
            fail_msg("%s changed after a failed run (%s)", names[k], why);
    }
    assert_int_equal(direct[0], 1);                             /* 1 referred 6 */
    assert_int_equal(indirect[0], 1);                           /* and, through 6, 7 */
    sgs_assert_close(nv[0], 1.0 + 0.5 * (1.0 + 0.5), 0, 1e-15); /* head count without CLV */
    sgs_free(status_col);
    sgs_free(direct);
    sgs_free(indirect);
    sgs_free(nv);
}

/* The transactions of the generated file alone: no /events, no /customers. */
static void test_run_without_events_and_customers(void **state)
{
    (void)state;
    char input[600], sub[600], args[2048], out[8192];
    snprintf(input, sizeof input, "%s/transactions-only.h5", dir);
    snprintf(sub, sizeof sub, "%s/plain", dir);
    mkdir(sub, 0755);
    hid_t src = H5Fopen(gen, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t dst = H5Fcreate(input, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(src, >=, 0);
    sgs_assert_cmp(dst, >=, 0);
    size_t n;
    const char *names[] = {"/transactions/customer_id", "/transactions/time"};
    for (int k = 0; k < 2; k++) {
        int64_t *v = sgs_test_column(src, names[k], SGS_H5_I64, &n);
        assert_int_equal(sgs_h5_write_column(dst, names[k], SGS_H5_I64, v, n, 0, NULL), 0);
        sgs_free(v);
    }
    double *amount = sgs_test_column(src, "/transactions/amount", SGS_H5_F64, &n);
    assert_int_equal(
        sgs_h5_write_column(dst, "/transactions/amount", SGS_H5_F64, amount, n, 0, NULL), 0);
    sgs_free(amount);
    H5Fclose(src);
    H5Fclose(dst);

    snprintf(args, sizeof args, "run -q -i '%s' -o '%s/results.h5' --as-of " AS_OF, input, sub);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("run failed (%d): %s", status, out);
    results_t r = {0};
    char path[700];
    snprintf(path, sizeof path, "%s/opportunities.csv", sub);
    parse_csv(path, &r);
    size_t listed[SGS_OPP_KIND_COUNT] = {0};
    for (size_t k = 0; k < r.n_rows; k++)
        listed[r.rows[k].kind]++;
    sgs_free(r.rows);
    /* triggers on events and referrals cannot fire; the purchase-based ones do */
    assert_int_equal(listed[SGS_OPP_SERVICE_RECOVERY], 0);
    assert_int_equal(listed[SGS_OPP_RENEWAL_AT_RISK], 0);
    assert_int_equal(listed[SGS_OPP_DETRACTOR_FOLLOW_UP], 0);
    assert_int_equal(listed[SGS_OPP_ADVOCATE], 0);
    sgs_assert_cmp(listed[SGS_OPP_ONBOARDING], >, 0);
    sgs_assert_cmp(listed[SGS_OPP_WIN_BACK], >, 0);

    snprintf(path, sizeof path, "%s/summary.json", sub);
    char *text = sgs_test_read_file(path, NULL);
    cJSON *summary = cJSON_Parse(text);
    free(text);
    assert_non_null(summary);
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(summary, "optional_inputs");
    sgs_assert_json(cJSON_IsFalse, cJSON_GetObjectItemCaseSensitive(inputs, "events"));
    sgs_assert_json(cJSON_IsFalse, cJSON_GetObjectItemCaseSensitive(inputs, "customers"));
    assert_null(cJSON_GetObjectItemCaseSensitive(summary, "influence"));
    assert_int_equal(json_number(summary, "stages", "customers", NULL), 20000);
    /* customers whose only purchases were cancelled the same day have no purchase */
    assert_int_equal(json_number(summary, "stages", "per_stage", "prospect"), in.n_no_occasion);
    assert_int_equal(json_number(summary, "stages", "per_stage", "cancelled"), 0);
    const cJSON *per_kind = json_get(summary, "opportunities", "per_kind", NULL);
    sgs_assert_json(cJSON_IsTrue, json_get(per_kind, "advocate", "input_missing", NULL));
    sgs_assert_json(cJSON_IsFalse, json_get(per_kind, "save_high_value", "input_missing", NULL));
    cJSON_Delete(summary);

    /* and without a value model: stages from observed gaps, CLV kinds flagged */
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s/results.h5' --as-of " AS_OF " --model none "
             "--compare-as-of 2024-01-01",
             input, sub);
    status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("run --model none failed (%d): %s", status, out);
    snprintf(path, sizeof path, "%s/summary.json", sub);
    text = sgs_test_read_file(path, NULL);
    summary = cJSON_Parse(text);
    free(text);
    assert_int_equal(json_number(summary, "stages", "per_cycle_source", "model"), 0);
    sgs_assert_cmp(json_number(summary, "stages", "per_cycle_source", "observed"), >, 5000);
    per_kind = json_get(summary, "opportunities", "per_kind", NULL);
    sgs_assert_json(cJSON_IsTrue, json_get(per_kind, "save_high_value", "input_missing", NULL));
    sgs_assert_json(cJSON_IsTrue, json_get(per_kind, "grow", "input_missing", NULL));
    const cJSON *transitions = json_get(summary, "stages", "transitions", NULL);
    assert_non_null(transitions);
    assert_non_null(transitions->child); /* counts per (from, to) pair */
    cJSON_Delete(summary);

    /* a compare date that is not before the as-of date is a configuration error */
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s/results.h5' --as-of " AS_OF " --compare-as-of " AS_OF, input,
             sub);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 78);
    sgs_assert_contains(out, "compare_as_of");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_cases_found_under_their_kind),
        cmocka_unit_test(test_referral_chains_and_advocates),
        cmocka_unit_test(test_one_per_customer_ranking_and_capacity),
        cmocka_unit_test(test_outputs_identical_for_1_2_3_threads),
        cmocka_unit_test(test_opportunities_csv_in_chunks),
        cmocka_unit_test(test_referral_cycle_is_a_reported_warning),
        cmocka_unit_test(test_run_without_events_and_customers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
