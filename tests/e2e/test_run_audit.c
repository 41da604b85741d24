/*
 * tests/e2e/test_run_audit.c — `segscore run` audits contact activity and applies the contact
 * policy, checked against counts made here from the raw input:
 *   - the whole /audit (per stage and per RFM segment, both windows, every channel, support,
 *     complaints, latest survey, untapped overall and per kind) recounted from /events, the
 *     run's own /stages, /rfm and list (listed = fired: --all-opportunities, no capacity
 *     limit, the contact policy off), and summary.json and report.txt saying the same;
 *   - the contact policy at its defaults, the day after a campaign: no customer contacted in
 *     the last 14 days is listed for a kind below priority 80, the held-back count is what
 *     the raw events give, and no row goes through a channel the customer left unanswered.
 * Input: `segscore generate` (3,000 buyers + 300 prospects, seed 21) with an /events/channel
 * column written here (codes 0..8: 8 is not a channel code and counts as unknown).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "kernels/audit.h"
#include "kernels/dates.h"
#include "kernels/opportunities.h"
#include "kernels/rfm.h"
#include "kernels/stages.h"
#include "kernels/tables.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256], gen[512];

/* The generator's campaigns go out on days 45 + 91 k of the window (2021-07-01): the last one
 * on 2024-05-12, 40 days before AS_OF (in the long window, not the short one), one on
 * 2023-11-12. */
#define AS_OF "2024-06-21"
#define DAY_AFTER_CAMPAIGN "2023-11-13"
#define W_SHORT 30
#define W_LONG 90
#define N_STAGE_ROWS (SGS_STAGE_COUNT + 1)
#define N_RFM_ROWS (SGS_RFM_SEGMENT_COUNT + 2)

typedef struct events {
    size_t n;
    int64_t *id, *time;
    uint8_t *kind, *channel;
    double *value;
} events_t;

static events_t read_events(void)
{
    events_t e;
    hid_t f = H5Fopen(gen, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    e.id = sgs_test_column(f, "/events/customer_id", SGS_H5_I64, &e.n);
    e.time = sgs_test_column(f, "/events/time", SGS_H5_I64, &e.n);
    e.kind = sgs_test_column(f, "/events/kind", SGS_H5_U8, &e.n);
    e.channel = sgs_test_column(f, "/events/channel", SGS_H5_U8, &e.n);
    e.value = sgs_test_column(f, "/events/value", SGS_H5_F64, &e.n);
    H5Fclose(f);
    return e;
}

static void free_events(events_t *e)
{
    free(e->id);
    free(e->time);
    free(e->kind);
    free(e->channel);
    free(e->value);
}

static int32_t parse_day(const char *text)
{
    int64_t day;
    assert_int_equal(sgs_date_parse_day(text, &day), SGS_OK);
    return (int32_t)day;
}

/* A whole int64 dataset of any rank. */
static int64_t *read_i64(hid_t f, const char *path, size_t expect)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        fail_msg("%s: missing", path);
    hid_t s = H5Dget_space(d);
    size_t n = (size_t)H5Sget_simple_extent_npoints(s);
    sgs_assert_cmp(n, ==, expect);
    int64_t *v = malloc(n * sizeof *v);
    sgs_assert_cmp(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), >=, 0);
    H5Sclose(s);
    H5Dclose(d);
    return v;
}

static void run_ok(const char *args)
{
    char out[8192];
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("segscore %s failed (%d): %s", args, status, out);
}

/* ---- The audit, recounted ---------------------------------------------------------------- */

typedef struct recount {
    int64_t customers[N_RFM_ROWS], with_opportunity[N_RFM_ROWS];
    int64_t contacted[N_RFM_ROWS][2], responders[N_RFM_ROWS][2];
    int64_t contacts[N_RFM_ROWS][2][SGS_CHANNEL_COUNT], responses[N_RFM_ROWS][2][SGS_CHANNEL_COUNT];
    int64_t contacted_via[N_RFM_ROWS][2][SGS_CHANNEL_COUNT];
    int64_t support[N_RFM_ROWS][2], complaints[N_RFM_ROWS][2], untapped[N_RFM_ROWS][2];
    int64_t surveyed[N_RFM_ROWS];
    double survey_sum[N_RFM_ROWS];
    int64_t untapped_per_kind[SGS_OPP_KIND_COUNT][2];
} recount_t;

/* Per known customer (index of /stages): whether contacted or answered in each window, the
 * latest survey, the kinds listed. */
typedef struct person {
    int contacted[2], responded[2];
    unsigned via[2]; /* bit c: contacted through channel c */
    int32_t survey_day;
    double survey;
    uint16_t kinds;
} person_t;

static void recount(const char *results, int32_t t, recount_t *rs, recount_t *rr)
{
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n, nb, nl;
    int64_t *sid = sgs_test_column(f, "/stages/customer_id", SGS_H5_I64, &n);
    uint8_t *stage = sgs_test_column(f, "/stages/stage", SGS_H5_U8, &n);
    int64_t *bid = sgs_test_column(f, "/customers/customer_id", SGS_H5_I64, &nb);
    uint8_t *seg = sgs_test_column(f, "/rfm/segment", SGS_H5_U8, &nb);
    int64_t *lid = sgs_test_column(f, "/opportunities/customer_id", SGS_H5_I64, &nl);
    uint8_t *lkind = sgs_test_column(f, "/opportunities/kind", SGS_H5_U8, &nl);
    H5Fclose(f);
    person_t *p = calloc(n, sizeof *p);
    uint8_t *rfm = malloc(n);
    for (size_t u = 0; u < n; u++) {
        long b = sgs_test_find_id(bid, nb, sid[u]);
        rfm[u] = b >= 0 ? seg[b] : (uint8_t)SGS_RFM_SEGMENT_COUNT;
        p[u].survey_day = INT32_MIN;
    }
    for (size_t r = 0; r < nl; r++) {
        long u = sgs_test_find_id(sid, n, lid[r]);
        sgs_assert_cmp(u, >=, 0);
        p[u].kinds |= (uint16_t)(1u << lkind[r]);
    }
    memset(rs, 0, sizeof *rs);
    memset(rr, 0, sizeof *rr);
    events_t e = read_events();
    const int32_t w[2] = {W_SHORT, W_LONG};
    for (size_t k = 0; k < e.n; k++) {
        int64_t d = e.time[k] >= 0 ? e.time[k] / 86400 : -1;
        if (d > t)
            continue;
        long u = sgs_test_find_id(sid, n, e.id[k]);
        sgs_assert_cmp(u, >=, 0); /* every customer with an event is known */
        uint8_t c = e.channel[k] < SGS_CHANNEL_COUNT ? e.channel[k] : 0;
        recount_t *both[2] = {rs, rr};
        size_t row[2] = {stage[u], rfm[u]};
        if (e.kind[k] == SGS_EVENT_SURVEY && t - d < W_LONG && isfinite(e.value[k]) &&
            d >= p[u].survey_day) {
            p[u].survey_day = (int32_t)d;
            p[u].survey = e.value[k];
        }
        for (int j = 0; j < 2; j++) {
            if (t - d >= w[j])
                continue;
            for (int g = 0; g < 2; g++) {
                recount_t *x = both[g];
                if (e.kind[k] == SGS_EVENT_CAMPAIGN_CONTACT)
                    x->contacts[row[g]][j][c]++;
                if (e.kind[k] == SGS_EVENT_CAMPAIGN_RESPONSE)
                    x->responses[row[g]][j][c]++;
                x->support[row[g]][j] += e.kind[k] == SGS_EVENT_SUPPORT;
                x->complaints[row[g]][j] += e.kind[k] == SGS_EVENT_COMPLAINT;
            }
            p[u].contacted[j] |= e.kind[k] == SGS_EVENT_CAMPAIGN_CONTACT;
            if (e.kind[k] == SGS_EVENT_CAMPAIGN_CONTACT)
                p[u].via[j] |= 1u << c;
            p[u].responded[j] |= e.kind[k] == SGS_EVENT_CAMPAIGN_RESPONSE;
        }
    }
    for (size_t u = 0; u < n; u++) {
        recount_t *both[2] = {rs, rr};
        size_t row[2] = {stage[u], rfm[u]};
        for (int g = 0; g < 2; g++) {
            recount_t *x = both[g];
            x->customers[row[g]]++;
            x->with_opportunity[row[g]] += p[u].kinds != 0;
            for (int j = 0; j < 2; j++) {
                x->contacted[row[g]][j] += p[u].contacted[j];
                for (int c = 0; c < SGS_CHANNEL_COUNT; c++)
                    x->contacted_via[row[g]][j][c] += (p[u].via[j] >> c) & 1u;
                x->responders[row[g]][j] += p[u].responded[j];
                x->untapped[row[g]][j] += p[u].kinds && !p[u].contacted[j];
            }
            if (p[u].survey_day != INT32_MIN) {
                x->surveyed[row[g]]++;
                x->survey_sum[row[g]] += p[u].survey;
            }
        }
        for (int j = 0; j < 2; j++)
            for (int kind = 1; kind < SGS_OPP_KIND_COUNT && !p[u].contacted[j]; kind++)
                rs->untapped_per_kind[kind][j] += (p[u].kinds >> kind) & 1u;
    }
    /* the last row of each grouping is everyone */
    recount_t *both[2] = {rs, rr};
    size_t last[2] = {SGS_STAGE_COUNT, SGS_RFM_SEGMENT_COUNT + 1};
    for (int g = 0; g < 2; g++) {
        recount_t *x = both[g];
        for (size_t r = 0; r < last[g]; r++) {
            x->customers[last[g]] += x->customers[r];
            x->with_opportunity[last[g]] += x->with_opportunity[r];
            x->surveyed[last[g]] += x->surveyed[r];
            x->survey_sum[last[g]] += x->survey_sum[r];
            for (int j = 0; j < 2; j++) {
                x->contacted[last[g]][j] += x->contacted[r][j];
                x->responders[last[g]][j] += x->responders[r][j];
                x->support[last[g]][j] += x->support[r][j];
                x->complaints[last[g]][j] += x->complaints[r][j];
                x->untapped[last[g]][j] += x->untapped[r][j];
                for (int c = 0; c < SGS_CHANNEL_COUNT; c++) {
                    x->contacts[last[g]][j][c] += x->contacts[r][j][c];
                    x->contacted_via[last[g]][j][c] += x->contacted_via[r][j][c];
                    x->responses[last[g]][j][c] += x->responses[r][j][c];
                }
            }
        }
    }
    free_events(&e);
    free(p);
    free(rfm);
    sgs_free(sid);
    sgs_free(stage);
    sgs_free(bid);
    sgs_free(seg);
    sgs_free(lid);
    sgs_free(lkind);
}

/* The file's grouping `name` against the recount x of `rows` rows. */
static void compare_grouping(hid_t f, const char *name, const recount_t *x, size_t rows)
{
    char path[128];
#define SAME(field, per_row)                                                                       \
    do {                                                                                           \
        snprintf(path, sizeof path, "/audit/%s/" #field, name);                                    \
        int64_t *v = read_i64(f, path, rows * (per_row));                                          \
        if (memcmp(v, x->field, rows * (per_row) * sizeof *v) != 0)                                \
            fail_msg("%s differs from the recount", path);                                         \
        free(v);                                                                                   \
    } while (0)
    SAME(customers, 1);
    SAME(with_opportunity, 1);
    SAME(contacted, 2);
    SAME(responders, 2);
    SAME(contacts, 2 * SGS_CHANNEL_COUNT);
    SAME(contacted_via, 2 * SGS_CHANNEL_COUNT);
    SAME(responses, 2 * SGS_CHANNEL_COUNT);
    SAME(support, 2);
    SAME(complaints, 2);
    SAME(untapped, 2);
    SAME(surveyed, 1);
#undef SAME
    size_t n;
    snprintf(path, sizeof path, "/audit/%s/survey_mean", name);
    double *mean = sgs_test_column(f, path, SGS_H5_F64, &n);
    sgs_assert_cmp(n, ==, rows);
    for (size_t r = 0; r < rows; r++)
        if (x->surveyed[r] == 0)
            sgs_assert_nan(mean[r]);
        else
            sgs_assert_close(mean[r], x->survey_sum[r] / (double)x->surveyed[r], 0, 1e-12);
    sgs_free(mean);
}

static void test_the_audit_is_the_raw_events_recounted(void **state)
{
    (void)state;
    char sub[512], results[600], args[2048];
    snprintf(sub, sizeof sub, "%s/audit", dir);
    mkdir(sub, 0755);
    snprintf(results, sizeof results, "%s/results.h5", sub);
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s' --as-of " AS_OF " --model none --set segments.enabled=false "
             "--all-opportunities --set actions.min_days_between_contacts=0 "
             "--set actions.max_unanswered_contacts=0 --set actions.capacity.phone=-1",
             gen, results);
    run_ok(args);
    recount_t *rs = malloc(sizeof *rs), *rr = malloc(sizeof *rr);
    recount(results, parse_day(AS_OF), rs, rr);
    /* the input exercises what is counted */
    sgs_assert_cmp(rs->contacts[SGS_STAGE_COUNT][1][SGS_CHANNEL_EMAIL], >, 20);
    sgs_assert_cmp(rs->contacts[SGS_STAGE_COUNT][1][0], >, 20); /* unknown: codes 0 and 8 */
    sgs_assert_cmp(rs->responses[SGS_STAGE_COUNT][1][SGS_CHANNEL_SMS], >, 0);
    sgs_assert_cmp(rs->untapped[SGS_STAGE_COUNT][0], >, rs->untapped[SGS_STAGE_COUNT][1]);
    sgs_assert_cmp(rs->untapped[SGS_STAGE_COUNT][1], >, 0);
    sgs_assert_cmp(rs->surveyed[SGS_STAGE_COUNT], >, 20);
    sgs_assert_cmp(rs->complaints[SGS_STAGE_COUNT][1], >, 0);

    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    compare_grouping(f, "by_stage", rs, N_STAGE_ROWS);
    compare_grouping(f, "by_rfm_segment", rr, N_RFM_ROWS);
    int64_t *kinds = read_i64(f, "/audit/untapped_per_kind", SGS_OPP_KIND_COUNT * 2);
    assert_memory_equal(kinds, rs->untapped_per_kind, sizeof rs->untapped_per_kind);
    free(kinds);
    H5Fclose(f);

    /* summary.json and the report say the same */
    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", sub);
    cJSON *sum = sgs_test_read_json(path);
    const cJSON *all = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "audit"), "by_stage"), "all");
    const cJSON *w90 = cJSON_GetObjectItem(all, "90d");
    int64_t contacts = 0, responses = 0;
    for (int c = 0; c < SGS_CHANNEL_COUNT; c++) {
        contacts += rs->contacts[SGS_STAGE_COUNT][1][c];
        responses += rs->responses[SGS_STAGE_COUNT][1][c];
    }
    sgs_assert_cmp(cJSON_GetObjectItem(w90, "contacts")->valuedouble, ==, (double)contacts);
    sgs_assert_close(cJSON_GetObjectItem(w90, "response_rate")->valuedouble,
                     (double)responses / (double)contacts, 0, 1e-12);
    sgs_assert_cmp(cJSON_GetObjectItem(cJSON_GetObjectItem(all, "30d"), "untapped")->valuedouble,
                   ==, (double)rs->untapped[SGS_STAGE_COUNT][0]);
    cJSON_Delete(sum);
    snprintf(path, sizeof path, "%s/report.txt", sub);
    char *text = sgs_test_read_file(path, NULL);
    char line[256];
    snprintf(line, sizeof line,
             "Contact activity (audit) up to " AS_OF ": %lld campaign contacts to %lld customers",
             (long long)contacts, (long long)rs->contacted[SGS_STAGE_COUNT][1]);
    sgs_assert_contains(text, line);
    free(text);
    free(rs);
    free(rr);
}

/* ---- The contact policy ------------------------------------------------------------------ */

static void test_the_policy_holds_back_and_avoids_channels(void **state)
{
    (void)state;
    char sub[512], results[600], args[2048];
    snprintf(sub, sizeof sub, "%s/policy", dir);
    mkdir(sub, 0755);
    snprintf(results, sizeof results, "%s/results.h5", sub);
    /* max_unanswered_contacts 2: the generator contacts a customer a few times a year */
    snprintf(args, sizeof args,
             "run -q -i '%s' -o '%s' --as-of " DAY_AFTER_CAMPAIGN " --model none "
             "--set segments.enabled=false --set actions.max_unanswered_contacts=2",
             gen, results);
    run_ok(args);
    const int32_t t = parse_day(DAY_AFTER_CAMPAIGN);
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    size_t nl;
    int64_t *lid = sgs_test_column(f, "/opportunities/customer_id", SGS_H5_I64, &nl);
    int32_t *prio = sgs_test_column(f, "/opportunities/priority", SGS_H5_I32, &nl);
    uint8_t *chan = sgs_test_column(f, "/opportunities/channel", SGS_H5_U8, &nl);
    H5Fclose(f);
    sgs_assert_cmp(nl, >, 100);
    /* per listed row, from the raw events: the latest contact, and contacts and responses by
     * channel */
    events_t e = read_events();
    size_t recent_listed = 0, unanswered_listed = 0;
    for (size_t r = 0; r < nl; r++) {
        int64_t last = INT64_MIN;
        int contacts[SGS_CHANNEL_COUNT] = {0}, answered[SGS_CHANNEL_COUNT] = {0};
        for (size_t k = 0; k < e.n; k++) {
            if (e.id[k] != lid[r] || e.time[k] / 86400 > t)
                continue;
            uint8_t c = e.channel[k] < SGS_CHANNEL_COUNT ? e.channel[k] : 0;
            if (e.kind[k] == SGS_EVENT_CAMPAIGN_CONTACT) {
                contacts[c]++;
                last = e.time[k] / 86400 > last ? e.time[k] / 86400 : last;
            }
            if (e.kind[k] == SGS_EVENT_CAMPAIGN_RESPONSE)
                answered[c] = 1;
        }
        if (last != INT64_MIN && t - last < 14) {
            recent_listed++;
            sgs_assert_cmp(prio[r], >=, 80);
        }
        if (!answered[0] && contacts[chan[r]] >= 2 && !answered[chan[r]])
            unanswered_listed++;
    }
    assert_int_equal(unanswered_listed, 0);
    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", sub);
    cJSON *sum = sgs_test_read_json(path);
    const cJSON *pol =
        cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "opportunities"), "contact_policy");
    sgs_assert_cmp(cJSON_GetObjectItem(pol, "held_back")->valuedouble, >, 50);
    sgs_assert_cmp(cJSON_GetObjectItem(pol, "recently_contacted")->valuedouble, >=,
                   cJSON_GetObjectItem(pol, "held_back")->valuedouble + (double)recent_listed);
    sgs_assert_cmp(cJSON_GetObjectItem(pol, "moved_off_unanswered_channel")->valuedouble, >, 0);
    cJSON_Delete(sum);
    snprintf(path, sizeof path, "%s/report.txt", sub);
    char *text = sgs_test_read_file(path, NULL);
    sgs_assert_contains(text, "customers held back: contacted in the last 14 days");
    sgs_assert_contains(text, "rows moved off a channel the customer never answers");
    free(text);
    free_events(&e);
    sgs_free(lid);
    sgs_free(prio);
    sgs_free(chan);
}

/* ---- Setup ------------------------------------------------------------------------------- */

/* Replace /events/channel (the generator may write one) by codes 0..8 spread over rows. */
static void write_channels(void)
{
    hid_t f = H5Fopen(gen, H5F_ACC_RDWR, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n;
    int64_t *id = sgs_test_column(f, "/events/customer_id", SGS_H5_I64, &n);
    uint8_t *channel = malloc(n);
    for (size_t i = 0; i < n; i++)
        channel[i] = (uint8_t)((uint64_t)(id[i] * 5 + (int64_t)(i % 3)) % 9);
    if (H5Lexists(f, "/events/channel", H5P_DEFAULT) > 0)
        H5Ldelete(f, "/events/channel", H5P_DEFAULT);
    sgs_assert_cmp(sgs_h5_write_column(f, "/events/channel", SGS_H5_U8, channel, n, 0, NULL), ==,
                   0);
    H5Fclose(f);
    sgs_free(id);
    sgs_free(channel);
}

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-audit", dir, sizeof dir);
    snprintf(gen, sizeof gen, "%s/gen.h5", dir);
    char args[1024], out[8192];
    snprintf(args, sizeof args, "generate -q --customers 3000 --seed 21 -o '%s'", gen);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0) {
        print_error("generate failed (%d): %s\n", status, out);
        return -1;
    }
    write_channels();
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
        cmocka_unit_test(test_the_audit_is_the_raw_events_recounted),
        cmocka_unit_test(test_the_policy_holds_back_and_avoids_channels),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
