/*
 * datasets/continue.c — the continuation's driver: parameters and --effect, reading BASE (a
 * generated file) and the run's list, the customers continued in parallel (one row buffer per
 * fixed sub-block of customers, concatenated in order), the expected effects per kind, and
 * NEXT written atomically. See continue.h; the story of one customer is simulate_continue.c.
 */
#include "datasets/continue.h"

#include "datasets/generate.h"
#include "datasets/generate_internal.h"
#include "datasets/simulate.h"
#include "io/atomic_file.h"
#include "io/h5_columns.h"
#include "io/h5_crash.h"
#include "io/h5_output.h"
#include "kernels/dates.h"
#include "kernels/opportunities.h"
#include "kernels/tables.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUB_BLOCK ((size_t)1024)
#define CHUNK_ROWS ((size_t)1 << 16)
/* The continuation's seed is drawn from the base's seed on this stream, keyed by D: a
 * stream no customer of the base uses (theirs are 8 i + purpose, i < 2^40). */
#define STREAM_CONTINUE_SEED (UINT64_C(5) << 61)

/* ---- Parameters ----------------------------------------------------------------------- */

void sgs_continue_defaults(sgs_continue_params_t *p)
{
    memset(p, 0, sizeof *p);
    p->days = 60;
    for (int k = 0; k < SGS_CONTINUE_KINDS; k++) {
        p->response_prob[k] = SGS_CONTINUE_DEFAULT_RESPONSE;
        p->purchase_lift[k] = SGS_CONTINUE_DEFAULT_LIFT;
    }
    p->deflate_level = 1;
}

static int effect_usage(sgs_error_t *err, const char *text, const char *why)
{
    char names[256];
    size_t used = 0;
    names[0] = '\0';
    for (int k = 1; k < SGS_CONTINUE_KINDS && used < sizeof names; k++) {
        int n = snprintf(names + used, sizeof names - used, "%s, ", sgs_opportunity_kind_name(k));
        if (n > 0)
            used += (size_t)n;
    }
    return sgs_error_set(err, SGS_EUSAGE,
                         "--effect must be KIND=RESP,LIFT (KIND one of %sall; RESP a response "
                         "probability 0..1; LIFT a change of the purchase rate -1..%g), got "
                         "\"%s\": %s",
                         names, SGS_CONTINUE_MAX_LIFT, text, why);
}

/* A finite number that fills `text` exactly. */
static int parse_number(const char *text, double *out)
{
    char *end = NULL;
    if (!*text)
        return 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int sgs_continue_parse_effect(sgs_continue_params_t *p, const char *text, sgs_error_t *err)
{
    const char *eq = strchr(text, '=');
    if (!eq)
        return effect_usage(err, text, "no '='");
    size_t name_len = (size_t)(eq - text);
    int kind = -1;
    if (name_len == 3 && strncmp(text, "all", 3) == 0)
        kind = 0;
    for (int k = 1; k < SGS_CONTINUE_KINDS && kind < 0; k++) {
        const char *name = sgs_opportunity_kind_name(k);
        if (strlen(name) == name_len && strncmp(text, name, name_len) == 0)
            kind = k;
    }
    if (kind < 0)
        return effect_usage(err, text, "unknown kind");
    char value[128];
    if (strlen(eq + 1) >= sizeof value)
        return effect_usage(err, text, "value too long");
    snprintf(value, sizeof value, "%s", eq + 1);
    char *comma = strchr(value, ',');
    if (!comma)
        return effect_usage(err, text, "RESP and LIFT must be separated by a comma");
    *comma = '\0';
    double resp, lift;
    if (!parse_number(value, &resp) || !(resp >= 0.0 && resp <= 1.0))
        return effect_usage(err, text, "RESP is not a number in 0..1");
    if (!parse_number(comma + 1, &lift) || !(lift >= -1.0 && lift <= SGS_CONTINUE_MAX_LIFT))
        return effect_usage(err, text, "LIFT is not a number in -1..100");
    for (int k = kind ? kind : 1; k <= (kind ? kind : SGS_CONTINUE_KINDS - 1); k++) {
        p->response_prob[k] = resp;
        p->purchase_lift[k] = lift;
    }
    return SGS_OK;
}

int sgs_continue_check(const sgs_continue_params_t *p, sgs_error_t *err)
{
    if (!p->base_path || !*p->base_path)
        return sgs_error_set(err, SGS_EUSAGE, "--continue-from BASE must not be empty");
    if (p->list_path && !*p->list_path)
        return sgs_error_set(err, SGS_EUSAGE, "--list RESULTS must not be empty");
    if (p->days < 1 || p->days > SGS_CONTINUE_MAX_DAYS)
        return sgs_error_set(err, SGS_EUSAGE, "--days must be 1..%d, got %lld",
                             SGS_CONTINUE_MAX_DAYS, (long long)p->days);
    for (int k = 1; k < SGS_CONTINUE_KINDS; k++) {
        double r = p->response_prob[k], l = p->purchase_lift[k];
        if (!(r >= 0.0 && r <= 1.0) || !(l >= -1.0 && l <= SGS_CONTINUE_MAX_LIFT))
            return sgs_error_set(err, SGS_EUSAGE,
                                 "--effect of %s: response %g must be 0..1 and lift %g -1..%g",
                                 sgs_opportunity_kind_name(k), r, l, SGS_CONTINUE_MAX_LIFT);
    }
    if (p->deflate_level < 0 || p->deflate_level > 9)
        return sgs_error_set(err, SGS_EUSAGE, "deflate level must be 0..9, got %d",
                             p->deflate_level);
    return SGS_OK;
}

/* ---- BASE ------------------------------------------------------------------------------ */

/* Per-customer columns of the continuation written to /truth (besides the updated ones). */
enum {
    CT_ALIVE_AS_OF,
    CT_KIND,
    CT_GROUP,
    CT_CHANNEL,
    CT_CONTACT,
    CT_RESPONDED,
    CT_N_AFTER,
    CT_SPEND_AFTER,
    CT_P_RESPONSE,
    CT_PB_TREATED,
    CT_PB_CONTROL,
    CT_EP_TREATED,
    CT_EP_CONTROL,
    CT_ER_TREATED,
    CT_ER_CONTROL,
    N_CT
};
static const sgs__gen_column_t ct_cols[N_CT] = {{"/truth/alive_at_as_of", SGS_H5_U8},
                                                {"/truth/list_kind", SGS_H5_U8},
                                                {"/truth/list_group", SGS_H5_I8},
                                                {"/truth/list_channel", SGS_H5_U8},
                                                {"/truth/contact_time", SGS_H5_I64},
                                                {"/truth/responded", SGS_H5_U8},
                                                {"/truth/n_purchases_after", SGS_H5_I32},
                                                {"/truth/spend_after", SGS_H5_F64},
                                                {"/truth/p_response", SGS_H5_F64},
                                                {"/truth/p_bought_treated", SGS_H5_F64},
                                                {"/truth/p_bought_control", SGS_H5_F64},
                                                {"/truth/expected_purchases_treated", SGS_H5_F64},
                                                {"/truth/expected_purchases_control", SGS_H5_F64},
                                                {"/truth/expected_revenue_treated", SGS_H5_F64},
                                                {"/truth/expected_revenue_control", SGS_H5_F64}};

typedef struct cont_state {
    sgs__sim_model_t model; /* the base's, window extended to the new end (attributes) */
    sgs__sim_model_t sim;   /* the same without refunds (simulation) */
    sgs__sim_continuation_t cont;
    uint64_t block;  /* /truth@block_customers of the base */
    int base_events; /* BASE has /events */
    size_t n_tx, n_ev, n_cu;
    void *tx[SGS__GEN_N_TX], *ev[SGS__GEN_N_EV], *cu[SGS__GEN_N_CU], *tr[SGS__GEN_N_TR];
    void *ct[N_CT];
    char as_of[16], end[16];
    /* the list: per customer index */
    size_t n_listed, n_control;
    /* simulation */
    size_t n_sub;
    sgs__sim_rows_t *sub;
} cont_state_t;

/* Read the first n_cols columns of spec, of equal lengths (*n). */
static int read_columns(hid_t f, const sgs__gen_column_t *spec, int n_cols, void **out, size_t *n,
                        sgs_error_t *err)
{
    for (int c = 0; c < n_cols; c++) {
        size_t len = 0;
        int rc = sgs_h5_read_column(f, spec[c].path, spec[c].type, &out[c], &len, err);
        if (rc)
            return rc;
        if (c == 0)
            *n = len;
        else if (len != *n)
            return sgs_error_set(err, SGS_EDATA, "%s has %zu rows, %s has %zu", spec[c].path, len,
                                 spec[0].path, *n);
    }
    return SGS_OK;
}

/* The generator's parameters from /truth's attributes, the model extended by `days`. */
static int read_base_model(hid_t f, const char *path, const sgs_continue_params_t *cp,
                           cont_state_t *s, sgs_error_t *err)
{
    sgs_generate_params_t p;
    sgs_generate_defaults(&p);
    int64_t seed, n_customers, n_prospects, start_day, end_day, block, with_events, done;
    const struct {
        const char *name;
        int64_t *value;
    } i64[] = {{"seed", &seed},
               {"n_customers", &n_customers},
               {"n_prospects", &n_prospects},
               {"window_start_day", &start_day},
               {"window_end_day", &end_day},
               {"block_customers", &block},
               {"with_events", &with_events}};
    const struct {
        const char *name;
        double *value;
    } dbl[] = {{"r", &p.r},
               {"alpha", &p.alpha},
               {"a", &p.a},
               {"b", &p.b},
               {"p", &p.p},
               {"q", &p.q},
               {"gamma", &p.gamma},
               {"prospect_share", &p.prospect_share},
               {"refund_share", &p.refund_share}};
    sgs_error_t why = {0};
    int rc = SGS_OK;
    for (size_t k = 0; k < sizeof i64 / sizeof i64[0] && !rc; k++)
        rc = sgs_h5_attr_read_int64(f, "/truth", i64[k].name, i64[k].value, &why);
    for (size_t k = 0; k < sizeof dbl / sizeof dbl[0] && !rc; k++)
        rc = sgs_h5_attr_read_double(f, "/truth", dbl[k].name, dbl[k].value, &why);
    if (rc == SGS_EDATA)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: not a file segscore generate wrote (its /truth holds the "
                             "hidden state to continue from): %s",
                             path, why.message);
    if (rc) {
        if (err)
            *err = why;
        return rc;
    }
    if (sgs_h5_attr_read_int64(f, "/truth", "continuation_days", &done, NULL) == SGS_OK)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: already a continuation (/truth@continuation_days): continue "
                             "from the file segscore generate wrote",
                             path);
    if (seed < 0 || n_customers < 1 || n_prospects < 0 || block < 0 || block > (1 << 24))
        return sgs_error_set(err, SGS_EDATA, "%s: /truth attributes out of range", path);
    p.seed = (uint64_t)seed;
    p.n_customers = (uint64_t)n_customers;
    p.start_day = start_day;
    p.end_day = end_day;
    p.with_events = with_events != 0;
    p.block_customers = (size_t)block;
    p.deflate_level = cp->deflate_level;
    rc = sgs_generate_check(&p, &why);
    if (!rc && (end_day > INT64_MAX - cp->days || end_day + cp->days > 2932896))
        rc = sgs_error_set(&why, SGS_EUSAGE, "the continued window ends after 9999-12-31");
    if (rc)
        return sgs_error_set(err, SGS_EDATA, "%s: /truth attributes are not a generator's: %s",
                             path, why.message);
    sgs_date_format_day(start_day, p.start_date, sizeof p.start_date);
    sgs_date_format_day(end_day, s->as_of, sizeof s->as_of);
    p.end_day = end_day + cp->days;
    sgs_date_format_day(p.end_day, p.end_date, sizeof p.end_date);
    snprintf(s->end, sizeof s->end, "%s", p.end_date);
    sgs__sim_model_init(&s->model, &p);
    if (s->model.n_total - s->model.n_buyers != (uint64_t)n_prospects)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /truth@n_prospects %lld disagrees with "
                             "prospect_share",
                             path, (long long)n_prospects);
    p.refund_share = 0.0; /* the continuation writes no refunds */
    sgs__sim_model_init(&s->sim, &p);
    s->block = (uint64_t)block;
    s->base_events = p.with_events;

    sgs__sim_continuation_t *c = &s->cont;
    c->first_day = end_day + 1 - start_day; /* window day number of D + 1 */
    c->n_days = cp->days;
    c->first_s = (end_day + 1) * SGS_SECONDS_PER_DAY;
    c->end_s = c->first_s + cp->days * SGS_SECONDS_PER_DAY;
    c->seed = sgs_rng_u64(p.seed, STREAM_CONTINUE_SEED, (uint64_t)end_day);
    for (int k = 0; k < SGS__SIM_OPP_KINDS; k++) {
        c->response_prob[k] = k ? cp->response_prob[k] : 0.0;
        c->purchase_lift[k] = k ? cp->purchase_lift[k] : 0.0;
    }
    return SGS_OK;
}

static int read_base(const char *path, const sgs_continue_params_t *cp, cont_state_t *s,
                     sgs_error_t *err)
{
    hid_t f = -1;
    sgs_h5_crash_arm(path);
    int rc = sgs_h5_open_read(path, &f, err);
    if (!rc)
        rc = read_base_model(f, path, cp, s, err);
    if (!rc)
        rc = read_columns(f, sgs__gen_tx_cols, SGS__GEN_N_TX, s->tx, &s->n_tx, err);
    if (!rc && s->base_events) {
        /* /events/channel is new: a file written before it has none (then 0, unknown). */
        htri_t has_channel = H5Lexists(f, "/events/channel", H5P_DEFAULT);
        rc = read_columns(f, sgs__gen_ev_cols, has_channel > 0 ? SGS__GEN_N_EV : EV_CHANNEL, s->ev,
                          &s->n_ev, err);
        if (!rc && has_channel <= 0) {
            s->ev[EV_CHANNEL] = sgs_calloc_array(s->n_ev ? s->n_ev : 1, 1);
            if (!s->ev[EV_CHANNEL])
                rc = sgs_error_set(err, SGS_ENOMEM, "out of memory");
        }
    }
    if (!rc)
        rc = read_columns(f, sgs__gen_cu_cols, SGS__GEN_N_CU, s->cu, &s->n_cu, err);
    size_t n_tr = 0;
    if (!rc)
        rc = read_columns(f, sgs__gen_tr_cols, SGS__GEN_N_TR, s->tr, &n_tr, err);
    if (f >= 0)
        H5Fclose(f);
    sgs_h5_crash_disarm();
    if (rc)
        return rc;
    if (n_tr != s->n_cu || (uint64_t)s->n_cu != s->model.n_total)
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /truth has %zu rows and /customers %zu, /truth's attributes "
                             "say %llu customers",
                             path, n_tr, s->n_cu, (unsigned long long)s->model.n_total);
    const int64_t *cu_id = s->cu[CU_ID], *tr_id = s->tr[TR_ID];
    const uint8_t *prospect = s->tr[TR_PROSPECT];
    for (size_t i = 0; i < s->n_cu; i++) {
        if (cu_id[i] != tr_id[i] || cu_id[i] < 1 || (uint64_t)cu_id[i] > s->model.n_total)
            return sgs_error_set(err, SGS_EDATA,
                                 "%s: row %zu: /truth/customer_id %lld and /customers/customer_id "
                                 "%lld are not a generator's",
                                 path, i, (long long)tr_id[i], (long long)cu_id[i]);
        if (prospect[i] != (i >= s->model.n_buyers))
            return sgs_error_set(err, SGS_EDATA,
                                 "%s: /truth/is_prospect: row %zu is not a "
                                 "generator's",
                                 path, i);
    }
    return SGS_OK;
}

/* ---- The list ---------------------------------------------------------------------------- */

static int read_list(const char *path, const char *base_path, cont_state_t *s, sgs_error_t *err)
{
    hid_t f = -1;
    void *col[4] = {NULL, NULL, NULL, NULL};
    int64_t *index_of = NULL; /* customer id - 1 -> customer index */
    char as_of[64] = "";
    size_t n = 0;
    sgs_h5_crash_arm(path);
    int rc = sgs_h5_open_read(path, &f, err);
    if (!rc) {
        sgs_error_t why = {0};
        rc = sgs_h5_attr_read_string(f, "/", "as_of", as_of, sizeof as_of, &why);
        static const sgs__gen_column_t list_cols[4] = {{"/opportunities/customer_id", SGS_H5_I64},
                                                       {"/opportunities/kind", SGS_H5_U8},
                                                       {"/opportunities/channel", SGS_H5_U8},
                                                       {"/opportunities/group", SGS_H5_U8}};
        if (!rc)
            rc = read_columns(f, list_cols, 4, col, &n, &why);
        if (rc == SGS_EDATA)
            rc =
                sgs_error_set(err, SGS_EDATA, "%s: not a segscore run results file with a list: %s",
                              path, why.message);
        else if (rc && err) /* out of memory, an I/O error: as they came */
            *err = why;
    }
    if (f >= 0)
        H5Fclose(f);
    sgs_h5_crash_disarm();
    if (rc)
        goto cleanup;
    int64_t as_of_day;
    if (sgs_date_parse_day(as_of, &as_of_day) != SGS_OK) {
        rc = sgs_error_set(err, SGS_EDATA, "%s: /@as_of \"%s\" is not a date YYYY-MM-DD", path,
                           as_of);
        goto cleanup;
    }
    if (strcmp(as_of, s->as_of) != 0) {
        rc = sgs_error_set(err, SGS_EDATA,
                           "%s: the run's as-of date %s is not %s's last day %s: the "
                           "continuation starts the day after it, where the hidden state in "
                           "/truth is known; run with --as-of %s",
                           path, as_of, base_path, s->as_of, s->as_of);
        goto cleanup;
    }
    index_of = sgs_alloc_array(s->n_cu, sizeof(int64_t));
    if (!index_of) {
        rc = sgs_error_set(err, SGS_ENOMEM, "out of memory");
        goto cleanup;
    }
    const int64_t *cu_id = s->cu[CU_ID];
    for (size_t i = 0; i < s->n_cu; i++)
        index_of[cu_id[i] - 1] = (int64_t)i;
    const int64_t *id = col[0];
    const uint8_t *kind = col[1], *channel = col[2], *group = col[3];
    uint8_t *ct_kind = s->ct[CT_KIND], *ct_channel = s->ct[CT_CHANNEL];
    int8_t *ct_group = s->ct[CT_GROUP];
    for (size_t r = 0; r < n; r++) {
        if (id[r] < 1 || (uint64_t)id[r] > (uint64_t)s->n_cu) {
            rc = sgs_error_set(err, SGS_EDATA,
                               "%s: /opportunities/customer_id: row %zu: customer %lld is not "
                               "a customer of %s",
                               path, r, (long long)id[r], base_path);
            goto cleanup;
        }
        if (kind[r] < 1 || kind[r] >= SGS_CONTINUE_KINDS || group[r] > 1 ||
            channel[r] >= SGS_CHANNEL_COUNT) {
            rc = sgs_error_set(err, SGS_EDATA,
                               "%s: /opportunities: row %zu: kind %d, group %d or channel %d "
                               "out of range",
                               path, r, kind[r], group[r], channel[r]);
            goto cleanup;
        }
        size_t i = (size_t)index_of[id[r] - 1];
        if (ct_kind[i]) {
            rc = sgs_error_set(err, SGS_EDATA,
                               "%s: /opportunities: row %zu: customer %lld is listed twice (a "
                               "run with --all-opportunities): a continuation needs one row "
                               "per customer",
                               path, r, (long long)id[r]);
            goto cleanup;
        }
        ct_kind[i] = kind[r];
        ct_group[i] = (int8_t)group[r];
        ct_channel[i] = channel[r];
        s->n_listed++;
        s->n_control += group[r] == 1;
    }
cleanup:
    for (int c = 0; c < 4; c++)
        sgs_free(col[c]);
    sgs_free(index_of);
    return rc;
}

/* ---- Simulation ------------------------------------------------------------------------- */

static void simulate_sub_block(cont_state_t *s, size_t b)
{
    sgs__sim_rows_t *rows = &s->sub[b];
    sgs__sim_rows_clear(rows);
    size_t lo = b * SUB_BLOCK, hi = lo + SUB_BLOCK < s->n_cu ? lo + SUB_BLOCK : s->n_cu;
    const uint8_t *prospect = s->tr[TR_PROSPECT], *alive = s->tr[TR_ALIVE];
    const uint8_t *pref = s->cu[CU_CHANNEL];
    const double *lambda = s->tr[TR_LAMBDA], *p_drop = s->tr[TR_P_DROP], *nu = s->tr[TR_NU];
    const double *mean_spend = s->tr[TR_MEAN_SPEND];
    int64_t *death = s->tr[TR_DEATH];
    uint8_t *alive_at_end = s->tr[TR_ALIVE], *stopped = s->tr[TR_STOPPED];
    int32_t *n_purchases = s->tr[TR_N_PURCHASES];
    const int64_t *id = s->cu[CU_ID];
    for (size_t i = lo; i < hi && !rows->failed; i++) {
        sgs__sim_continued_t cc = {.id = id[i],
                                   .buyer = !prospect[i],
                                   .alive = alive[i] != 0,
                                   .lambda = lambda[i],
                                   .p_drop = p_drop[i],
                                   .nu = nu[i],
                                   .death_s = death[i],
                                   .kind = ((uint8_t *)s->ct[CT_KIND])[i],
                                   .group = ((int8_t *)s->ct[CT_GROUP])[i],
                                   .channel = ((uint8_t *)s->ct[CT_CHANNEL])[i],
                                   .preferred_channel = pref[i]};
        sgs__sim_continue_customer(&s->sim, &s->cont, i, &cc, rows);
        ((uint8_t *)s->ct[CT_ALIVE_AS_OF])[i] = alive[i];
        ((int64_t *)s->ct[CT_CONTACT])[i] = cc.contacted ? cc.contact_s : -1;
        ((uint8_t *)s->ct[CT_RESPONDED])[i] = (uint8_t)cc.responded;
        ((int32_t *)s->ct[CT_N_AFTER])[i] = cc.n_occasions;
        ((double *)s->ct[CT_SPEND_AFTER])[i] = cc.spend;
        ((double *)s->ct[CT_P_RESPONSE])[i] = cc.p_response;
        ((double *)s->ct[CT_PB_TREATED])[i] = cc.p_bought_treated;
        ((double *)s->ct[CT_PB_CONTROL])[i] = cc.p_bought_control;
        ((double *)s->ct[CT_EP_TREATED])[i] = cc.e_purchases_treated;
        ((double *)s->ct[CT_EP_CONTROL])[i] = cc.e_purchases_control;
        /* a prospect's mean spend is NaN: it never buys, so 0 */
        double spend = prospect[i] ? 0.0 : mean_spend[i];
        ((double *)s->ct[CT_ER_TREATED])[i] = cc.e_purchases_treated * spend;
        ((double *)s->ct[CT_ER_CONTROL])[i] = cc.e_purchases_control * spend;
        /* the truth at the new end: alive_at_end goes on being alive_at_end (after D) */
        alive_at_end[i] = (uint8_t)(!prospect[i] && cc.death_s < 0);
        death[i] = cc.death_s;
        n_purchases[i] += cc.n_occasions;
        if (cc.death_s >= 0)
            stopped[i] = (uint8_t)sgs__sim_stopped_buying(&s->model, cc.death_s, lambda[i]);
    }
}

static int simulate(cont_state_t *s, const sgs_exec_t *exec, sgs_error_t *err)
{
    s->n_sub = sgs_block_count(s->n_cu, SUB_BLOCK);
    s->sub = sgs_calloc_array(s->n_sub ? s->n_sub : 1, sizeof(sgs__sim_rows_t));
    if (!s->sub)
        return sgs_error_set(err, SGS_ENOMEM, "out of memory");
    const int n_threads = sgs_exec_threads(exec);
    const size_t n_sub = s->n_sub;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (size_t b = 0; b < n_sub; b++)
        simulate_sub_block(s, b);
    for (size_t b = 0; b < n_sub; b++)
        if (s->sub[b].failed)
            return sgs_error_set(err, SGS_ENOMEM, "out of memory while continuing customers");
    return SGS_OK;
}

/* ---- The effect truth per kind ---------------------------------------------------------- */

enum {
    EF_RESPONSE_PROB,
    EF_PURCHASE_LIFT,
    EF_RESPONSE_DIFF,
    EF_BOUGHT_DIFF,
    EF_PURCHASES_DIFF,
    EF_REVENUE_DIFF,
    EF_BOUGHT_BASE,
    EF_PURCHASES_BASE,
    EF_REVENUE_BASE,
    EF_T_RESPONSE,
    EF_T_BOUGHT,
    EF_T_PURCHASES,
    EF_T_REVENUE,
    EF_C_BOUGHT,
    EF_C_PURCHASES,
    EF_C_REVENUE,
    N_EF
};
static const char *const ef_names[N_EF] = {
    "/truth/effects/response_prob",          "/truth/effects/purchase_lift",
    "/truth/effects/response_rate_diff",     "/truth/effects/bought_share_diff",
    "/truth/effects/purchases_diff",         "/truth/effects/revenue_diff",
    "/truth/effects/baseline_bought_share",  "/truth/effects/baseline_purchases",
    "/truth/effects/baseline_revenue",       "/truth/effects/treatment_response_rate",
    "/truth/effects/treatment_bought_share", "/truth/effects/treatment_purchases",
    "/truth/effects/treatment_revenue",      "/truth/effects/control_bought_share",
    "/truth/effects/control_purchases",      "/truth/effects/control_revenue"};

#define N_EFFECT_KINDS (SGS_CONTINUE_KINDS - 1)

/* Averages over each kind's listed customers (all, treatment, control) of the potential
 * outcomes, summed in customer order (serial: the same bits whatever the threads). */
static void effect_truth(const cont_state_t *s, double ef[N_EF][N_EFFECT_KINDS],
                         int64_t n_t[N_EFFECT_KINDS], int64_t n_c[N_EFFECT_KINDS])
{
    double sum[N_EF][N_EFFECT_KINDS];
    memset(sum, 0, sizeof sum);
    memset(n_t, 0, N_EFFECT_KINDS * sizeof n_t[0]);
    memset(n_c, 0, N_EFFECT_KINDS * sizeof n_c[0]);
    const uint8_t *kind = s->ct[CT_KIND];
    const int8_t *group = s->ct[CT_GROUP];
    const double *pr = s->ct[CT_P_RESPONSE], *pbt = s->ct[CT_PB_TREATED],
                 *pbc = s->ct[CT_PB_CONTROL], *ept = s->ct[CT_EP_TREATED],
                 *epc = s->ct[CT_EP_CONTROL], *ert = s->ct[CT_ER_TREATED],
                 *erc = s->ct[CT_ER_CONTROL];
    for (size_t i = 0; i < s->n_cu; i++) {
        if (!kind[i])
            continue;
        int k = kind[i] - 1;
        sum[EF_RESPONSE_DIFF][k] += pr[i];
        sum[EF_BOUGHT_DIFF][k] += pbt[i] - pbc[i];
        sum[EF_PURCHASES_DIFF][k] += ept[i] - epc[i];
        sum[EF_REVENUE_DIFF][k] += ert[i] - erc[i];
        sum[EF_BOUGHT_BASE][k] += pbc[i];
        sum[EF_PURCHASES_BASE][k] += epc[i];
        sum[EF_REVENUE_BASE][k] += erc[i];
        if (group[i] == 0) {
            n_t[k]++;
            sum[EF_T_RESPONSE][k] += pr[i];
            sum[EF_T_BOUGHT][k] += pbt[i];
            sum[EF_T_PURCHASES][k] += ept[i];
            sum[EF_T_REVENUE][k] += ert[i];
        } else {
            n_c[k]++;
            sum[EF_C_BOUGHT][k] += pbc[i];
            sum[EF_C_PURCHASES][k] += epc[i];
            sum[EF_C_REVENUE][k] += erc[i];
        }
    }
    for (int k = 0; k < N_EFFECT_KINDS; k++) {
        double all = (double)(n_t[k] + n_c[k]), t = (double)n_t[k], c = (double)n_c[k];
        ef[EF_RESPONSE_PROB][k] = s->cont.response_prob[k + 1];
        ef[EF_PURCHASE_LIFT][k] = s->cont.purchase_lift[k + 1];
        for (int e = EF_RESPONSE_DIFF; e < N_EF; e++) {
            double n = e >= EF_C_BOUGHT ? c : (e >= EF_T_RESPONSE ? t : all);
            ef[e][k] = n > 0.0 ? sum[e][k] / n : (double)NAN;
        }
    }
}

/* ---- Writing ----------------------------------------------------------------------------- */

/* Append the base's column and then every sub-block's new rows of one table's column. */
static int write_table_column(hid_t file, const sgs__gen_column_t *spec, int level,
                              const void *base, size_t n_base, const cont_state_t *s, int table,
                              int col, sgs_error_t *err)
{
    sgs_h5_appender_t *a = NULL;
    int rc = sgs_h5_appender_create(file, spec->path, spec->type, CHUNK_ROWS, level, &a, err);
    if (!rc && n_base)
        rc = sgs_h5_appender_append(a, base, n_base, err);
    for (size_t b = 0; b < s->n_sub && !rc; b++) {
        const sgs__sim_rows_t *r = &s->sub[b];
        const void *data;
        size_t n;
        if (table == 0) {
            const void *tx[SGS__GEN_N_TX] = {r->tx_customer, r->tx_time, r->tx_amount,
                                             r->tx_channel, r->tx_category};
            data = tx[col];
            n = r->n_tx;
        } else {
            const void *ev[SGS__GEN_N_EV] = {r->ev_customer, r->ev_time, r->ev_kind, r->ev_value,
                                             r->ev_channel};
            data = ev[col];
            n = r->n_ev;
        }
        if (n)
            rc = sgs_h5_appender_append(a, data, n, err);
    }
    int close_rc = sgs_h5_appender_close(a, rc ? NULL : err);
    return rc ? rc : close_rc;
}

static int write_effects(hid_t f, const cont_state_t *s, int level, sgs_error_t *err)
{
    double ef[N_EF][N_EFFECT_KINDS];
    int64_t n_t[N_EFFECT_KINDS], n_c[N_EFFECT_KINDS];
    uint8_t kind[N_EFFECT_KINDS];
    effect_truth(s, ef, n_t, n_c);
    for (int k = 0; k < N_EFFECT_KINDS; k++)
        kind[k] = (uint8_t)(k + 1);
    int rc =
        sgs_h5_write_column(f, "/truth/effects/kind", SGS_H5_U8, kind, N_EFFECT_KINDS, level, err);
    if (!rc)
        rc = sgs_h5_write_column(f, "/truth/effects/n_treatment", SGS_H5_I64, n_t, N_EFFECT_KINDS,
                                 level, err);
    if (!rc)
        rc = sgs_h5_write_column(f, "/truth/effects/n_control", SGS_H5_I64, n_c, N_EFFECT_KINDS,
                                 level, err);
    for (int e = 0; e < N_EF && !rc; e++)
        rc = sgs_h5_write_column(f, ef_names[e], SGS_H5_F64, ef[e], N_EFFECT_KINDS, level, err);
    const char *names[N_EFFECT_KINDS];
    for (int k = 0; k < N_EFFECT_KINDS; k++)
        names[k] = sgs_opportunity_kind_name(k + 1);
    if (!rc)
        rc = sgs_h5_attr_strings(f, "/truth/effects", "kind_names", names, N_EFFECT_KINDS, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/truth/effects", "as_of", s->as_of, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/truth/effects", "window_end", s->end, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/truth/effects", "days", s->cont.n_days, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/truth/effects", "response_window_days", 14, err);
    if (!rc)
        rc = sgs_h5_attr_string(
            f, "/truth/effects", "model",
            "listed customers of kind k in the treatment group are contacted on the day after "
            "as_of at 10:00 (within 2 hours), respond within 14 days with probability "
            "response_prob and buy at rate lambda (1 + purchase_lift) from the contact on; "
            "control and unlisted customers are not contacted. Differences are treated minus "
            "control potential outcomes in expectation, averaged over the kind's listed "
            "customers: P(bought) = 1 - exp(-Lambda), E[purchases] = (1 - exp(-p Lambda)) / p "
            "for a customer alive at as_of, Lambda = lambda T without the contact, lambda "
            "(c + (1 + lift)(T - c)) with it (c: the contact, days into the window), revenue = "
            "purchases x p / nu",
            err);
    return rc;
}

static int write_next(hid_t f, const cont_state_t *s, int level, sgs_error_t *err)
{
    int rc = SGS_OK;
    for (int c = 0; c < SGS__GEN_N_TX && !rc; c++)
        rc = write_table_column(f, &sgs__gen_tx_cols[c], level, s->tx[c], s->n_tx, s, 0, c, err);
    size_t n_new_ev = 0;
    for (size_t b = 0; b < s->n_sub; b++)
        n_new_ev += s->sub[b].n_ev;
    const int events = s->base_events || n_new_ev > 0;
    for (int c = 0; c < SGS__GEN_N_EV && !rc && events; c++)
        rc = write_table_column(f, &sgs__gen_ev_cols[c], level, s->ev[c], s->n_ev, s, 1, c, err);
    for (int c = 0; c < SGS__GEN_N_CU && !rc; c++)
        rc = sgs_h5_write_column(f, sgs__gen_cu_cols[c].path, sgs__gen_cu_cols[c].type, s->cu[c],
                                 s->n_cu, level, err);
    for (int c = 0; c < SGS__GEN_N_TR && !rc; c++)
        rc = sgs_h5_write_column(f, sgs__gen_tr_cols[c].path, sgs__gen_tr_cols[c].type, s->tr[c],
                                 s->n_cu, level, err);
    for (int c = 0; c < N_CT && !rc; c++)
        rc =
            sgs_h5_write_column(f, ct_cols[c].path, ct_cols[c].type, s->ct[c], s->n_cu, level, err);
    if (!rc)
        rc = write_effects(f, s, level, err);
    if (!rc) {
        sgs__sim_model_t m = s->model;
        m.params.with_events = events;
        rc = sgs__generate_write_attributes(f, &m, s->block, err);
    }
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/truth", "continuation_days", s->cont.n_days, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/truth", "continued_from_as_of", s->as_of, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/truth", "continuation_first_time", s->cont.first_s, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/truth", "base_transactions", (int64_t)s->n_tx, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/truth", "base_events", (int64_t)s->n_ev, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/truth", "n_listed", (int64_t)s->n_listed, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/truth", "list_group_names",
                                "-1=unlisted,0=treatment,1=control", err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/", "generator",
                                "segscore generate --continue-from " SGS_VERSION, err);
    return rc;
}

/* ---- Driver ------------------------------------------------------------------------------ */

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void state_free(cont_state_t *s)
{
    void **cols[] = {s->tx, s->ev, s->cu, s->tr, s->ct};
    const int n[] = {SGS__GEN_N_TX, SGS__GEN_N_EV, SGS__GEN_N_CU, SGS__GEN_N_TR, N_CT};
    for (int t = 0; t < 5; t++)
        for (int c = 0; c < n[t]; c++)
            sgs_free(cols[t][c]);
    if (s->sub)
        for (size_t b = 0; b < s->n_sub; b++)
            sgs__sim_rows_free(&s->sub[b]);
    sgs_free(s->sub);
}

static int alloc_continuation_columns(cont_state_t *s, sgs_error_t *err)
{
    for (int c = 0; c < N_CT; c++) {
        s->ct[c] = sgs_calloc_array(s->n_cu ? s->n_cu : 1, sgs_h5_type_size(ct_cols[c].type));
        if (!s->ct[c])
            return sgs_error_set(err, SGS_ENOMEM, "out of memory for %zu customers", s->n_cu);
    }
    int8_t *group = s->ct[CT_GROUP];
    for (size_t i = 0; i < s->n_cu; i++)
        group[i] = -1;
    return SGS_OK;
}

int sgs_continue_file(const char *path, const sgs_continue_params_t *p, const sgs_exec_t *exec,
                      sgs_continue_stats_t *stats, sgs_error_t *err)
{
    double t0 = wall_s();
    int rc = sgs_continue_check(p, err);
    if (rc)
        return rc;
    sgs_h5_quiet();
    cont_state_t *s = sgs_calloc_array(1, sizeof *s);
    if (!s)
        return sgs_error_set(err, SGS_ENOMEM, "out of memory");
    hid_t f = -1;
    sgs_atomic_t out;
    int begun = 0;
    rc = read_base(p->base_path, p, s, err);
    if (!rc)
        rc = alloc_continuation_columns(s, err);
    if (!rc && p->list_path)
        rc = read_list(p->list_path, p->base_path, s, err);
    if (!rc)
        rc = simulate(s, exec, err);
    if (!rc)
        rc = sgs_exec_stop(exec, err);
    if (rc)
        goto cleanup;

    rc = sgs_atomic_begin(path, &out, err);
    if (rc)
        goto cleanup;
    begun = 1;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_sec2(fapl) >= 0)
        f = H5Fcreate(out.temp_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (f < 0) {
        rc = sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create an HDF5 file", path);
        goto cleanup;
    }
    rc = write_next(f, s, p->deflate_level, err);
    rc = sgs_h5_finish_output(f, rc, err);
    f = -1;
    if (rc == SGS_ENOSPACE)
        sgs_error_rename(err, out.temp_path, path);
    else if (rc && rc != SGS_EINTR)
        sgs_error_prefix(err, "writing %s", path);
    if (!rc)
        rc = sgs_exec_stop(exec, err);
    if (!rc)
        rc = sgs_atomic_commit(&out, err);
    if (rc)
        goto cleanup;
    begun = 0;
    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->n_customers = s->n_cu;
        stats->n_listed = s->n_listed;
        stats->n_control = s->n_control;
        for (size_t b = 0; b < s->n_sub; b++) {
            stats->n_transactions += s->sub[b].n_tx;
            stats->n_events += s->sub[b].n_ev;
            stats->n_purchases += s->sub[b].n_purchases;
        }
        const int64_t *contact = s->ct[CT_CONTACT];
        const uint8_t *responded = s->ct[CT_RESPONDED];
        for (size_t i = 0; i < s->n_cu; i++) {
            stats->n_contacts += contact[i] >= 0;
            stats->n_responses += responded[i];
        }
        snprintf(stats->as_of, sizeof stats->as_of, "%s", s->as_of);
        snprintf(stats->end, sizeof stats->end, "%s", s->end);
        stats->seconds = wall_s() - t0;
    }
cleanup:
    if (f >= 0)
        H5Fclose(f);
    if (begun)
        sgs_atomic_abort(&out);
    state_free(s);
    sgs_free(s);
    return rc;
}
