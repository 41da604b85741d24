/*
 * tests/e2e/test_generate_continue.c — `segscore generate --continue-from BASE --list RESULTS`
 * (datasets/continue.h, docs/generate.md "Continuing past a run"): a base population is
 * generated, `segscore run --as-of` its last day D lists customers, and the continuation
 * simulates D+1..D+60 with a known effect. Checked: the same bytes for 1, 2 and 3 threads;
 * BASE's rows, customers and hidden state kept; the new rows in the new days, contacts only
 * for the treatment group through the list's channel; control and unlisted customers' rows
 * the same with or without the list and whatever the effects (and a treated customer's
 * purchases with lift 0 the same as without a contact); the simulated responses, share who
 * bought, purchases and revenue of each arm against the stored expectations (z-tests at
 * Z_MAX, which a wrong formula fails: a lift of 1 measured against the no-lift expectation);
 * the per-kind truth as the averages of the per-customer columns; one customer's truth by
 * hand; the errors (64, 65, 66) leaving no file behind; `segscore run` on the continued file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "datasets/continue.h"
#include "datasets/generate.h"
#include "io/h5_columns.h"
#include "kernels/tables.h"
#include "tests/support/test_support.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N_BUYERS 20000
#define SEED 11
#define DAYS 60
#define Z_MAX 4.5
#define AS_OF "2024-06-30"          /* the default window's last day */
#define END_DATE "2024-08-29"       /* + 60 days */
#define FIRST_S INT64_C(1719792000) /* 2024-07-01 00:00 UTC */

static char dir[256];
static char base[512], results[512], next[512], nolist[512], lift1[512], noeffect[512];

/* ---- Files ---------------------------------------------------------------------------------- */

static void run_ok(const char *args)
{
    char out[8192];
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0)
        fail_msg("segscore %s: exit %d: %s", args, status, out);
}

static void continue_to(const char *path, const char *options)
{
    char args[4096];
    snprintf(args, sizeof args, "generate -q --continue-from '%s' --days %d -o '%s' %s", base, DAYS,
             path, options);
    run_ok(args);
}

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("generate_continue", dir, sizeof dir);
    snprintf(base, sizeof base, "%s/base.h5", dir);
    snprintf(results, sizeof results, "%s/run/results.h5", dir);
    snprintf(next, sizeof next, "%s/next.h5", dir);
    snprintf(nolist, sizeof nolist, "%s/nolist.h5", dir);
    snprintf(lift1, sizeof lift1, "%s/lift1.h5", dir);
    snprintf(noeffect, sizeof noeffect, "%s/noeffect.h5", dir);
    char args[2048], run_dir[512];
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    mkdir(run_dir, 0755);
    snprintf(args, sizeof args, "generate -q --customers %d --seed %d -o '%s'", N_BUYERS, SEED,
             base);
    run_ok(args);
    snprintf(args, sizeof args, "run -i '%s' -o '%s' --as-of " AS_OF, base, results);
    run_ok(args);
    char options[1024];
    snprintf(options, sizeof options, "--list '%s' --threads 2", results);
    continue_to(next, options);
    continue_to(nolist, "--threads 2");
    snprintf(options, sizeof options, "--list '%s' --effect all=0.2,1", results);
    continue_to(lift1, options);
    snprintf(options, sizeof options, "--list '%s' --effect all=0,0", results);
    continue_to(noeffect, options);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

/* What a test reads of a file: the rows and the per-customer truth. */
typedef struct file {
    size_t n_tx, n_ev, n_cu;
    int64_t *tx_id, *tx_time;
    double *tx_amount;
    uint8_t *tx_channel;
    int32_t *tx_category;
    int64_t *ev_id, *ev_time;
    uint8_t *ev_kind, *ev_channel;
    int64_t *cu_id;
    uint8_t *cu_pref;
    /* /truth */
    double *lambda, *p_drop, *nu, *mean_spend;
    uint8_t *alive, *prospect;
    int64_t *death;
    int32_t *n_purchases;
    /* continuation columns (NULL in BASE) */
    uint8_t *alive_as_of, *kind, *channel, *responded;
    int8_t *group;
    int64_t *contact;
    int32_t *n_after;
    double *spend_after, *p_response, *pb_t, *pb_c, *ep_t, *ep_c, *er_t, *er_c;
    int64_t base_tx, base_ev;
} file_t;

#define COL(f, path, type, dst, want)                                                              \
    do {                                                                                           \
        size_t n_;                                                                                 \
        (dst) = sgs_test_column((f), (path), (type), &n_);                                         \
        if (n_ != (want))                                                                          \
            fail_msg("%s: %zu rows, expected %zu", (path), n_, (size_t)(want));                    \
    } while (0)

static void load(const char *path, file_t *F, int continued)
{
    memset(F, 0, sizeof *F);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    {
        size_t n;
        F->tx_id = sgs_test_column(f, "/transactions/customer_id", SGS_H5_I64, &n);
        F->n_tx = n;
        F->ev_id = sgs_test_column(f, "/events/customer_id", SGS_H5_I64, &n);
        F->n_ev = n;
        F->cu_id = sgs_test_column(f, "/customers/customer_id", SGS_H5_I64, &n);
        F->n_cu = n;
    }
    COL(f, "/transactions/time", SGS_H5_I64, F->tx_time, F->n_tx);
    COL(f, "/transactions/amount", SGS_H5_F64, F->tx_amount, F->n_tx);
    COL(f, "/transactions/channel", SGS_H5_U8, F->tx_channel, F->n_tx);
    COL(f, "/transactions/category", SGS_H5_I32, F->tx_category, F->n_tx);
    COL(f, "/events/time", SGS_H5_I64, F->ev_time, F->n_ev);
    COL(f, "/events/kind", SGS_H5_U8, F->ev_kind, F->n_ev);
    COL(f, "/events/channel", SGS_H5_U8, F->ev_channel, F->n_ev);
    COL(f, "/customers/preferred_channel", SGS_H5_U8, F->cu_pref, F->n_cu);
    COL(f, "/truth/lambda", SGS_H5_F64, F->lambda, F->n_cu);
    COL(f, "/truth/p_drop", SGS_H5_F64, F->p_drop, F->n_cu);
    COL(f, "/truth/nu", SGS_H5_F64, F->nu, F->n_cu);
    COL(f, "/truth/mean_spend", SGS_H5_F64, F->mean_spend, F->n_cu);
    COL(f, "/truth/alive_at_end", SGS_H5_U8, F->alive, F->n_cu);
    COL(f, "/truth/is_prospect", SGS_H5_U8, F->prospect, F->n_cu);
    COL(f, "/truth/death_time", SGS_H5_I64, F->death, F->n_cu);
    COL(f, "/truth/n_purchases", SGS_H5_I32, F->n_purchases, F->n_cu);
    if (continued) {
        COL(f, "/truth/alive_at_as_of", SGS_H5_U8, F->alive_as_of, F->n_cu);
        COL(f, "/truth/list_kind", SGS_H5_U8, F->kind, F->n_cu);
        COL(f, "/truth/list_group", SGS_H5_I8, F->group, F->n_cu);
        COL(f, "/truth/list_channel", SGS_H5_U8, F->channel, F->n_cu);
        COL(f, "/truth/contact_time", SGS_H5_I64, F->contact, F->n_cu);
        COL(f, "/truth/responded", SGS_H5_U8, F->responded, F->n_cu);
        COL(f, "/truth/n_purchases_after", SGS_H5_I32, F->n_after, F->n_cu);
        COL(f, "/truth/spend_after", SGS_H5_F64, F->spend_after, F->n_cu);
        COL(f, "/truth/p_response", SGS_H5_F64, F->p_response, F->n_cu);
        COL(f, "/truth/p_bought_treated", SGS_H5_F64, F->pb_t, F->n_cu);
        COL(f, "/truth/p_bought_control", SGS_H5_F64, F->pb_c, F->n_cu);
        COL(f, "/truth/expected_purchases_treated", SGS_H5_F64, F->ep_t, F->n_cu);
        COL(f, "/truth/expected_purchases_control", SGS_H5_F64, F->ep_c, F->n_cu);
        COL(f, "/truth/expected_revenue_treated", SGS_H5_F64, F->er_t, F->n_cu);
        COL(f, "/truth/expected_revenue_control", SGS_H5_F64, F->er_c, F->n_cu);
        assert_int_equal(
            sgs_h5_attr_read_int64(f, "/truth", "base_transactions", &F->base_tx, NULL), 0);
        assert_int_equal(sgs_h5_attr_read_int64(f, "/truth", "base_events", &F->base_ev, NULL), 0);
    }
    H5Fclose(f);
}

static void unload(file_t *F)
{
    void *all[] = {F->tx_id,   F->tx_time,     F->tx_amount,  F->tx_channel,  F->tx_category,
                   F->ev_id,   F->ev_time,     F->ev_kind,    F->ev_channel,  F->cu_id,
                   F->cu_pref, F->lambda,      F->p_drop,     F->nu,          F->mean_spend,
                   F->alive,   F->prospect,    F->death,      F->n_purchases, F->alive_as_of,
                   F->kind,    F->channel,     F->responded,  F->group,       F->contact,
                   F->n_after, F->spend_after, F->p_response, F->pb_t,        F->pb_c,
                   F->ep_t,    F->ep_c,        F->er_t,       F->er_c};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        free(all[k]);
    memset(F, 0, sizeof *F);
}

/* Customer index of an id: ids of a generated file are 1..n (a permutation). */
static size_t *index_of_ids(const file_t *F)
{
    size_t *ix = malloc(F->n_cu * sizeof *ix);
    for (size_t i = 0; i < F->n_cu; i++) {
        sgs_assert_cmp(F->cu_id[i], >=, 1);
        sgs_assert_cmp(F->cu_id[i], <=, F->n_cu);
        ix[F->cu_id[i] - 1] = i;
    }
    return ix;
}

/* ---- Determinism and what is kept --------------------------------------------------------- */

static void test_same_bytes_whatever_threads(void **state)
{
    (void)state;
    char one[512], three[512], options[1024];
    snprintf(one, sizeof one, "%s/next1.h5", dir);
    snprintf(three, sizeof three, "%s/next3.h5", dir);
    snprintf(options, sizeof options, "--list '%s' --threads 1", results);
    continue_to(one, options);
    snprintf(options, sizeof options, "--list '%s' --threads 3", results);
    continue_to(three, options);
    sgs_assert_files_equal(next, one);
    sgs_assert_files_equal(next, three);
    /* and the effects are part of it: another effect gives another file */
    if (sgs_test_files_equal(next, lift1))
        fail_msg("%s and %s: the same bytes from another effect", next, lift1);
    remove(one);
    remove(three);
}

static void test_base_rows_and_customers_kept(void **state)
{
    (void)state;
    file_t B, N;
    load(base, &B, 0);
    load(next, &N, 1);
    assert_int_equal(N.base_tx, B.n_tx);
    assert_int_equal(N.base_ev, B.n_ev);
    sgs_assert_cmp(N.n_tx, >, B.n_tx);
    sgs_assert_cmp(N.n_ev, >, B.n_ev);
    assert_int_equal(N.n_cu, B.n_cu);
    assert_memory_equal(N.tx_id, B.tx_id, B.n_tx * sizeof(int64_t));
    assert_memory_equal(N.tx_time, B.tx_time, B.n_tx * sizeof(int64_t));
    assert_memory_equal(N.tx_amount, B.tx_amount, B.n_tx * sizeof(double));
    assert_memory_equal(N.tx_channel, B.tx_channel, B.n_tx);
    assert_memory_equal(N.tx_category, B.tx_category, B.n_tx * sizeof(int32_t));
    assert_memory_equal(N.ev_id, B.ev_id, B.n_ev * sizeof(int64_t));
    assert_memory_equal(N.ev_time, B.ev_time, B.n_ev * sizeof(int64_t));
    assert_memory_equal(N.ev_kind, B.ev_kind, B.n_ev);
    assert_memory_equal(N.ev_channel, B.ev_channel, B.n_ev);
    assert_memory_equal(N.cu_id, B.cu_id, B.n_cu * sizeof(int64_t));
    assert_memory_equal(N.cu_pref, B.cu_pref, B.n_cu);
    assert_memory_equal(N.lambda, B.lambda, B.n_cu * sizeof(double));
    assert_memory_equal(N.p_drop, B.p_drop, B.n_cu * sizeof(double));
    assert_memory_equal(N.alive_as_of, B.alive, B.n_cu);

    /* The new rows: in the new days, of buyers alive at D; the truth follows them. */
    size_t *ix = index_of_ids(&N);
    int32_t *count = calloc(N.n_cu, sizeof *count);
    for (size_t k = B.n_tx; k < N.n_tx; k++) {
        size_t i = ix[N.tx_id[k] - 1];
        sgs_assert_cmp(N.tx_time[k], >=, FIRST_S);
        sgs_assert_cmp(N.tx_time[k], <, FIRST_S + DAYS * INT64_C(86400));
        sgs_assert_cmp(N.tx_amount[k], >=, 0.0); /* no refunds in the continuation */
        if (!B.alive[i] || B.prospect[i])
            fail_msg("new transaction row %zu of customer %lld, who is not alive at D", k,
                     (long long)N.tx_id[k]);
    }
    size_t n_died = 0;
    for (size_t i = 0; i < N.n_cu; i++) {
        assert_int_equal(N.n_purchases[i], B.n_purchases[i] + N.n_after[i]);
        if (!B.alive[i]) {
            assert_int_equal(N.alive[i], 0);
            assert_int_equal(N.death[i], B.death[i]);
            assert_int_equal(N.n_after[i], 0);
        } else if (!N.alive[i]) {
            n_died++;
            sgs_assert_cmp(N.death[i], >=, FIRST_S);
            sgs_assert_cmp(N.n_after[i], >=, 1);
        }
    }
    sgs_assert_cmp(n_died, >, 0);
    free(count);
    free(ix);
    unload(&B);
    unload(&N);
}

/* Contacts (kind 7) and responses (kind 8) are the only new events, for the treatment group
 * only, contact on D+1 from 10:00 to 12:00 through the list's channel. */
static void test_contacts_for_the_treatment_group(void **state)
{
    (void)state;
    file_t N;
    load(next, &N, 1);
    size_t *ix = index_of_ids(&N);
    uint8_t *contacts = calloc(N.n_cu, 1), *responses = calloc(N.n_cu, 1);
    for (size_t k = (size_t)N.base_ev; k < N.n_ev; k++) {
        size_t i = ix[N.ev_id[k] - 1];
        if (N.kind[i] == 0 || N.group[i] != 0)
            fail_msg("new event row %zu (kind %d) of customer %lld, kind %d group %d", k,
                     N.ev_kind[k], (long long)N.ev_id[k], N.kind[i], N.group[i]);
        assert_int_equal(N.ev_channel[k], N.channel[i]);
        if (N.ev_kind[k] == SGS_EVENT_CAMPAIGN_CONTACT) {
            contacts[i]++;
            assert_int_equal(N.ev_time[k], N.contact[i]);
            sgs_assert_cmp(N.ev_time[k], >=, FIRST_S + 10 * 3600);
            sgs_assert_cmp(N.ev_time[k], <, FIRST_S + 12 * 3600);
        } else {
            assert_int_equal(N.ev_kind[k], SGS_EVENT_CAMPAIGN_RESPONSE);
            responses[i]++;
            sgs_assert_cmp(N.ev_time[k], >=, N.contact[i] + 3600);
            sgs_assert_cmp(N.ev_time[k], <, N.contact[i] + 14 * 86400);
        }
    }
    size_t n_treated = 0, n_control = 0;
    for (size_t i = 0; i < N.n_cu; i++) {
        int treated = N.kind[i] && N.group[i] == 0;
        assert_int_equal(contacts[i], treated);
        assert_int_equal(responses[i], N.responded[i]);
        if (!treated)
            assert_int_equal(N.contact[i], -1);
        n_treated += treated;
        n_control += N.kind[i] && N.group[i] == 1;
        if (!N.kind[i])
            assert_int_equal(N.group[i], -1);
    }
    sgs_assert_cmp(n_treated, >, 3000);
    sgs_assert_cmp(n_control, >, 300);
    free(contacts);
    free(responses);
    free(ix);
    unload(&N);
}

/* The list as it was written: every row of /opportunities is a customer's list_kind,
 * list_group and list_channel. */
static void test_truth_holds_the_list(void **state)
{
    (void)state;
    file_t N;
    load(next, &N, 1);
    size_t *ix = index_of_ids(&N);
    hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n;
    int64_t *id = sgs_test_column(f, "/opportunities/customer_id", SGS_H5_I64, &n);
    uint8_t *kind = sgs_test_column(f, "/opportunities/kind", SGS_H5_U8, &n);
    uint8_t *group = sgs_test_column(f, "/opportunities/group", SGS_H5_U8, &n);
    uint8_t *channel = sgs_test_column(f, "/opportunities/channel", SGS_H5_U8, &n);
    H5Fclose(f);
    size_t listed = 0;
    for (size_t i = 0; i < N.n_cu; i++)
        listed += N.kind[i] != 0;
    assert_int_equal(listed, n);
    for (size_t r = 0; r < n; r++) {
        size_t i = ix[id[r] - 1];
        assert_int_equal(N.kind[i], kind[r]);
        assert_int_equal(N.group[i], group[r]);
        assert_int_equal(N.channel[i], channel[r]);
    }
    sgs_free(id);
    sgs_free(kind);
    sgs_free(group);
    sgs_free(channel);
    free(ix);
    unload(&N);
}

/* ---- No effect where there is no treatment ------------------------------------------------ */

/* The new rows of customers `pick` says, in file order (the continuation writes them in
 * customer order), as one string of their bytes per table, compared between two files. */
static void assert_same_new_rows(const file_t *A, const file_t *B, const uint8_t *pick,
                                 const size_t *ix, int events, const char *what)
{
    size_t a = (size_t)(events ? A->base_ev : A->base_tx),
           b = (size_t)(events ? B->base_ev : B->base_tx);
    size_t na = events ? A->n_ev : A->n_tx, nb = events ? B->n_ev : B->n_tx;
    const int64_t *ida = events ? A->ev_id : A->tx_id, *idb = events ? B->ev_id : B->tx_id;
    size_t compared = 0;
    for (;;) {
        while (a < na && !pick[ix[ida[a] - 1]])
            a++;
        while (b < nb && !pick[ix[idb[b] - 1]])
            b++;
        if (a >= na || b >= nb)
            break;
        int same = ida[a] == idb[b];
        if (events)
            same = same && A->ev_time[a] == B->ev_time[b] && A->ev_kind[a] == B->ev_kind[b] &&
                   A->ev_channel[a] == B->ev_channel[b];
        else
            same = same && A->tx_time[a] == B->tx_time[b] && A->tx_amount[a] == B->tx_amount[b] &&
                   A->tx_channel[a] == B->tx_channel[b] && A->tx_category[a] == B->tx_category[b];
        if (!same)
            fail_msg("%s: new %s rows %zu and %zu differ (customers %lld and %lld)", what,
                     events ? "event" : "transaction", a, b, (long long)ida[a], (long long)idb[b]);
        compared++;
        a++;
        b++;
    }
    if (a < na || b < nb)
        fail_msg("%s: one file has more new %s rows of these customers (%zu of %zu, %zu of %zu)",
                 what, events ? "event" : "transaction", a, na, b, nb);
    if (!events)
        sgs_assert_cmp(compared, >, 100);
}

static void test_control_and_unlisted_do_not_depend_on_the_list(void **state)
{
    (void)state;
    file_t N, L1, Z, NL;
    load(next, &N, 1);
    load(lift1, &L1, 1);
    load(noeffect, &Z, 1);
    load(nolist, &NL, 1);
    size_t *ix = index_of_ids(&N);
    uint8_t *untreated = calloc(N.n_cu, 1), *everyone = calloc(N.n_cu, 1);
    for (size_t i = 0; i < N.n_cu; i++) {
        untreated[i] = !(N.kind[i] && N.group[i] == 0);
        everyone[i] = 1;
    }
    /* control and unlisted: the same rows as with no list at all, whatever the effects */
    assert_same_new_rows(&N, &NL, untreated, ix, 0, "default effects against no list");
    assert_same_new_rows(&L1, &NL, untreated, ix, 0, "lift 1 against no list");
    assert_same_new_rows(&N, &NL, untreated, ix, 1, "default effects against no list");
    /* a contact without effect changes no purchase: every customer's transactions are those
     * of no list */
    assert_same_new_rows(&Z, &NL, everyone, ix, 0, "effect 0,0 against no list");
    /* and the effect is real: with a lift the treatment group's rows differ */
    size_t n_new_nolist = NL.n_tx - (size_t)NL.base_tx, n_new_lift = L1.n_tx - (size_t)L1.base_tx;
    sgs_assert_cmp(n_new_lift, >, n_new_nolist + 500);
    free(untreated);
    free(everyone);
    free(ix);
    unload(&N);
    unload(&L1);
    unload(&Z);
    unload(&NL);
}

/* ---- The simulated outcomes against the stored expectations -------------------------------- */

typedef struct zsum {
    double resid, var; /* sum of (x - E x), sum of the variances or squared residuals */
    size_t n;
} zsum_t;

static double z_of(const zsum_t *s)
{
    if (s->var > 0.0)
        return s->resid / sqrt(s->var);
    return s->resid == 0.0 ? 0.0 : (double)INFINITY; /* an outcome that cannot happen happened */
}

/* z-scores of the treatment group (group 0) or the control group (1) of a continued file:
 * bought (binomial variance p (1 - p)), purchases and revenue (the squared residuals),
 * response (p (1 - p)); `expect_treated` chooses the potential outcome compared against. */
static void arm_z(const file_t *F, int group, int expect_treated, double z[4], size_t *n)
{
    zsum_t s[4] = {{0}};
    *n = 0;
    for (size_t i = 0; i < F->n_cu; i++) {
        if (!F->kind[i] || F->group[i] != group)
            continue;
        (*n)++;
        double pb = expect_treated ? F->pb_t[i] : F->pb_c[i];
        double ep = expect_treated ? F->ep_t[i] : F->ep_c[i];
        double er = expect_treated ? F->er_t[i] : F->er_c[i];
        double bought = F->n_after[i] > 0;
        s[0].resid += bought - pb;
        s[0].var += pb * (1.0 - pb);
        s[1].resid += F->n_after[i] - ep;
        s[1].var += (F->n_after[i] - ep) * (F->n_after[i] - ep);
        s[2].resid += F->spend_after[i] - er;
        s[2].var += (F->spend_after[i] - er) * (F->spend_after[i] - er);
        double pr = group == 0 ? F->p_response[i] : 0.0;
        s[3].resid += F->responded[i] - pr;
        s[3].var += pr * (1.0 - pr);
    }
    for (int k = 0; k < 4; k++)
        z[k] = z_of(&s[k]);
}

static void test_outcomes_match_the_expected_truth(void **state)
{
    (void)state;
    const char *paths[2] = {next, lift1};
    const char *names[4] = {"bought", "purchases", "revenue", "responded"};
    for (int p = 0; p < 2; p++) {
        file_t F;
        load(paths[p], &F, 1);
        for (int group = 0; group <= 1; group++) {
            double z[4];
            size_t n;
            arm_z(&F, group, group == 0, z, &n);
            sgs_assert_cmp(n, >, group == 0 ? 5000 : 500);
            for (int k = 0; k < 4; k++) {
                if (fabs(z[k]) >= Z_MAX)
                    fail_msg("%s, %s group (%zu customers): %s z = %.2f against the truth",
                             paths[p], group ? "control" : "treatment", n, names[k], z[k]);
            }
        }
        unload(&F);
    }
    /* The test can fail: with a lift of 1 the treatment group's purchases are far from what
     * no lift would give (and, at the default 0.3, still beyond Z_MAX). */
    file_t L;
    load(lift1, &L, 1);
    double z[4];
    size_t n;
    arm_z(&L, 0, 0, z, &n);
    for (int k = 0; k < 3; k++)
        if (!(z[k] > 2.0 * Z_MAX))
            fail_msg("lift 1 against no lift: %s z = %.2f, expected > %.1f", names[k], z[k],
                     2.0 * Z_MAX);
    unload(&L);
    file_t D;
    load(next, &D, 1);
    arm_z(&D, 0, 0, z, &n);
    sgs_assert_cmp(z[0], >, Z_MAX); /* lift 0.3 against no lift: bought */
    unload(&D);
}

/* One customer by hand: P(bought) and E[purchases] from lambda, p and the contact time. */
static void test_one_customer_by_hand(void **state)
{
    (void)state;
    file_t F;
    load(lift1, &F, 1);
    size_t checked = 0;
    for (size_t i = 0; i < F.n_cu && checked < 50; i++) {
        if (!F.kind[i] || !F.alive_as_of[i])
            continue;
        double T = DAYS, lambda = F.lambda[i], p = F.p_drop[i];
        /* the contact time of a control customer is not in the file: only treated ones */
        if (F.group[i] != 0)
            continue;
        double c = (double)(F.contact[i] - FIRST_S) / 86400.0;
        double cum_t = lambda * (c + 2.0 * (T - c)), cum_c = lambda * T;
        sgs_assert_close(F.pb_c[i], 1.0 - exp(-cum_c), 1e-12, 1e-9);
        sgs_assert_close(F.pb_t[i], 1.0 - exp(-cum_t), 1e-12, 1e-9);
        sgs_assert_close(F.ep_c[i], (1.0 - exp(-p * cum_c)) / p, 1e-12, 1e-9);
        sgs_assert_close(F.ep_t[i], (1.0 - exp(-p * cum_t)) / p, 1e-12, 1e-9);
        sgs_assert_close(F.er_t[i], F.ep_t[i] * F.mean_spend[i], 1e-12, 1e-12);
        sgs_assert_close(F.p_response[i], 0.2, 0.0, 1e-15); /* 60 days hold every response */
        checked++;
    }
    assert_int_equal(checked, 50);
    /* customers who had dropped out, or never bought: nothing to expect */
    for (size_t i = 0; i < F.n_cu; i++) {
        if (F.alive_as_of[i])
            continue;
        sgs_assert_cmp(F.pb_c[i], ==, 0.0);
        sgs_assert_cmp(F.ep_c[i], ==, 0.0);
        sgs_assert_cmp(F.er_c[i], ==, 0.0);
        if (F.kind[i]) {
            sgs_assert_cmp(F.pb_t[i], ==, 0.0);
            sgs_assert_cmp(F.ep_t[i], ==, 0.0);
        } else {
            sgs_assert_nan(F.pb_t[i]);
        }
    }
    unload(&F);
}

/* /truth/effects: one row per kind, the averages of the per-customer columns. */
static void test_effects_are_the_averages_of_the_customers(void **state)
{
    (void)state;
    file_t F;
    load(next, &F, 1);
    hid_t f = H5Fopen(next, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    size_t n;
    uint8_t *kind = sgs_test_column(f, "/truth/effects/kind", SGS_H5_U8, &n);
    assert_int_equal(n, 9);
    int64_t *n_t = sgs_test_column(f, "/truth/effects/n_treatment", SGS_H5_I64, &n);
    int64_t *n_c = sgs_test_column(f, "/truth/effects/n_control", SGS_H5_I64, &n);
    double *resp = sgs_test_column(f, "/truth/effects/response_prob", SGS_H5_F64, &n);
    double *lift = sgs_test_column(f, "/truth/effects/purchase_lift", SGS_H5_F64, &n);
    double *rd = sgs_test_column(f, "/truth/effects/response_rate_diff", SGS_H5_F64, &n);
    double *bd = sgs_test_column(f, "/truth/effects/bought_share_diff", SGS_H5_F64, &n);
    double *pd = sgs_test_column(f, "/truth/effects/purchases_diff", SGS_H5_F64, &n);
    double *vd = sgs_test_column(f, "/truth/effects/revenue_diff", SGS_H5_F64, &n);
    double *bb = sgs_test_column(f, "/truth/effects/baseline_bought_share", SGS_H5_F64, &n);
    double *tb = sgs_test_column(f, "/truth/effects/treatment_bought_share", SGS_H5_F64, &n);
    double *cb = sgs_test_column(f, "/truth/effects/control_bought_share", SGS_H5_F64, &n);
    double *tr = sgs_test_column(f, "/truth/effects/treatment_revenue", SGS_H5_F64, &n);
    char buf[128];
    assert_int_equal(sgs_h5_attr_read_string(f, "/truth/effects", "as_of", buf, sizeof buf, NULL),
                     0);
    assert_string_equal(buf, AS_OF);
    assert_int_equal(sgs_h5_attr_read_string(f, "/truth", "window_end", buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, END_DATE);
    H5Fclose(f);
    for (int k = 0; k < 9; k++) {
        assert_int_equal(kind[k], k + 1);
        sgs_assert_cmp(resp[k], ==, 0.10);
        sgs_assert_cmp(lift[k], ==, 0.3);
        double s[8] = {0};
        int64_t t = 0, c = 0;
        for (size_t i = 0; i < F.n_cu; i++) {
            if (F.kind[i] != k + 1)
                continue;
            s[0] += F.p_response[i];
            s[1] += F.pb_t[i] - F.pb_c[i];
            s[2] += F.ep_t[i] - F.ep_c[i];
            s[3] += F.er_t[i] - F.er_c[i];
            s[4] += F.pb_c[i];
            if (F.group[i] == 0) {
                t++;
                s[5] += F.pb_t[i];
                s[7] += F.er_t[i];
            } else {
                c++;
                s[6] += F.pb_c[i];
            }
        }
        assert_int_equal(n_t[k], t);
        assert_int_equal(n_c[k], c);
        if (t + c == 0)
            continue;
        double all = (double)(t + c);
        sgs_assert_close(rd[k], s[0] / all, 1e-12, 1e-9);
        sgs_assert_close(bd[k], s[1] / all, 1e-12, 1e-9);
        sgs_assert_close(pd[k], s[2] / all, 1e-12, 1e-9);
        sgs_assert_close(vd[k], s[3] / all, 1e-12, 1e-9);
        sgs_assert_close(bb[k], s[4] / all, 1e-12, 1e-9);
        sgs_assert_cmp(bd[k], >, 0.0); /* a positive lift raises the share who bought */
        if (t)
            sgs_assert_close(tb[k], s[5] / (double)t, 1e-12, 1e-9);
        if (t)
            sgs_assert_close(tr[k], s[7] / (double)t, 1e-12, 1e-9);
        if (c)
            sgs_assert_close(cb[k], s[6] / (double)c, 1e-12, 1e-9);
    }
    void *all[] = {kind, n_t, n_c, resp, lift, rd, bd, pd, vd, bb, tb, cb, tr};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        free(all[k]);
    unload(&F);
}

/* ---- The continued file is an input -------------------------------------------------------- */

static void test_run_reads_the_continued_file(void **state)
{
    (void)state;
    char args[2048], out_dir[512];
    snprintf(out_dir, sizeof out_dir, "%s/run2", dir);
    mkdir(out_dir, 0755);
    snprintf(args, sizeof args, "run -i '%s' -o '%s/results.h5' --as-of " END_DATE, next, out_dir);
    run_ok(args);
    snprintf(args, sizeof args, "inspect '%s'", next);
    char out[16384];
    assert_int_equal(sgs_test_run(args, out, sizeof out), 0);
    sgs_assert_contains(out, "2021-07-01 .. " END_DATE);
}

/* ---- Errors -------------------------------------------------------------------------------- */

/* Exit status `expected` with `part` in the message, and no output or temporary left. */
static void expect_error(const char *options, int expected, const char *part)
{
    char args[4096], out[8192], target[512];
    snprintf(target, sizeof target, "%s/err/out.h5", dir);
    snprintf(args, sizeof args, "generate -q -o '%s' %s", target, options);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != expected)
        fail_msg("segscore %s: exit %d, expected %d: %s", args, status, expected, out);
    sgs_assert_contains(out, part);
    struct stat st;
    if (stat(target, &st) == 0)
        fail_msg("segscore %s left %s", args, target);
    char err_dir[512];
    snprintf(err_dir, sizeof err_dir, "%s/err", dir);
    DIR *d = opendir(err_dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp-"))
            fail_msg("segscore %s left %s/%s", args, err_dir, e->d_name);
    closedir(d);
}

static void test_errors_leave_no_file(void **state)
{
    (void)state;
    char err_dir[512], opt[2048], text[512], early_dir[512], early[600];
    snprintf(err_dir, sizeof err_dir, "%s/err", dir);
    mkdir(err_dir, 0755);
    /* BASE not a generated file: a results file, a text file, missing */
    snprintf(opt, sizeof opt, "--continue-from '%s'", results);
    expect_error(opt, 65, "not a file segscore generate wrote");
    snprintf(text, sizeof text, "%s/text.h5", dir);
    sgs_test_write_file(text, "not hdf5\n");
    snprintf(opt, sizeof opt, "--continue-from '%s'", text);
    expect_error(opt, 65, "not an HDF5 file");
    snprintf(opt, sizeof opt, "--continue-from '%s/missing.h5'", dir);
    expect_error(opt, 66, "no such file");
    /* a continuation is not continued again */
    snprintf(opt, sizeof opt, "--continue-from '%s'", next);
    expect_error(opt, 65, "already a continuation");
    /* the list is not a results file */
    snprintf(opt, sizeof opt, "--continue-from '%s' --list '%s'", base, base);
    expect_error(opt, 65, "not a segscore run results file");
    /* the run's as-of date is not BASE's last day */
    snprintf(early_dir, sizeof early_dir, "%s/early", dir);
    mkdir(early_dir, 0755);
    snprintf(early, sizeof early, "%s/results.h5", early_dir);
    snprintf(opt, sizeof opt, "run -i '%s' -o '%s' --as-of 2024-06-01", base, early);
    run_ok(opt);
    snprintf(opt, sizeof opt, "--continue-from '%s' --list '%s'", base, early);
    expect_error(opt, 65, "run with --as-of " AS_OF);
    /* bad options */
    snprintf(opt, sizeof opt, "--continue-from '%s' --effect foo=0.1,0.2", base);
    expect_error(opt, 64, "unknown kind");
    snprintf(opt, sizeof opt, "--continue-from '%s' --effect win_back=2,0", base);
    expect_error(opt, 64, "RESP is not a number in 0..1");
    snprintf(opt, sizeof opt, "--continue-from '%s' --effect win_back=0.1", base);
    expect_error(opt, 64, "separated by a comma");
    snprintf(opt, sizeof opt, "--continue-from '%s' --effect win_back=0.1,-2", base);
    expect_error(opt, 64, "LIFT is not a number");
    snprintf(opt, sizeof opt, "--continue-from '%s' --days 0", base);
    expect_error(opt, 64, "--days");
    snprintf(opt, sizeof opt, "--continue-from '%s' --customers 10", base);
    expect_error(opt, 64, "customers");
    /* the output is an input */
    char args[4096], out[8192];
    snprintf(args, sizeof args, "generate -q --continue-from '%s' -o '%s'", base, base);
    assert_int_equal(sgs_test_run(args, out, sizeof out), 64);
}

/* Every allocation of a continuation failing in turn (through the API, one thread): SGS_ENOMEM,
 * the existing file at the output unchanged and no temporary left, until one succeeds. */
static void test_allocation_failures_keep_existing_file(void **state)
{
    (void)state;
    char sub[512], small[600], list[600], file[600], args[2048];
    snprintf(sub, sizeof sub, "%s/oom", dir);
    mkdir(sub, 0755);
    snprintf(small, sizeof small, "%s/small.h5", sub);
    snprintf(list, sizeof list, "%s/run/results.h5", sub);
    snprintf(file, sizeof file, "%s/keep.h5", sub);
    snprintf(args, sizeof args, "%s/run", sub);
    mkdir(args, 0755);
    snprintf(args, sizeof args, "generate -q --customers 400 --seed 3 -o '%s'", small);
    run_ok(args);
    snprintf(args, sizeof args, "run -i '%s' -o '%s' --as-of " AS_OF, small, list);
    run_ok(args);
    sgs_continue_params_t p;
    sgs_continue_defaults(&p);
    p.base_path = small;
    p.list_path = list;
    sgs_exec_t exec = {.n_threads = 1};
    assert_int_equal(sgs_continue_file(file, &p, &exec, NULL, NULL), 0);
    size_t good_size;
    char *good = sgs_test_read_file(file, &good_size);
    int succeeded = 0;
    long n;
    for (n = 0; n < 2000 && !succeeded; n++) {
        p.days = 30; /* another file than the one on disk */
        sgs_error_t err = {0};
        sgs_test_fail_alloc_after(n);
        int rc = sgs_continue_file(file, &p, &exec, NULL, &err);
        sgs_test_fail_alloc_after(-1);
        p.days = 60;
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
        DIR *d = opendir(sub);
        assert_non_null(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strstr(e->d_name, ".tmp-"))
                fail_msg("allocation %ld: %s/%s left behind", n, sub, e->d_name);
        closedir(d);
    }
    if (!succeeded)
        fail_msg("no continuation succeeded, failing allocation n = 0 to %ld", n - 1);
    sgs_assert_cmp(n, >, 10); /* the sweep went through the reading, simulating and writing */
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes_whatever_threads),
        cmocka_unit_test(test_base_rows_and_customers_kept),
        cmocka_unit_test(test_contacts_for_the_treatment_group),
        cmocka_unit_test(test_truth_holds_the_list),
        cmocka_unit_test(test_control_and_unlisted_do_not_depend_on_the_list),
        cmocka_unit_test(test_outcomes_match_the_expected_truth),
        cmocka_unit_test(test_one_customer_by_hand),
        cmocka_unit_test(test_effects_are_the_averages_of_the_customers),
        cmocka_unit_test(test_run_reads_the_continued_file),
        cmocka_unit_test(test_errors_leave_no_file),
        cmocka_unit_test(test_allocation_failures_keep_existing_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
