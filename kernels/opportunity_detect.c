/*
 * kernels/opportunity_detect.c — candidate generation: whether each trigger fires for a
 * customer, its value at stake, the base-wide thresholds and the detection pass over every
 * customer, and the numbers behind a reason. See opportunities.h for the definitions.
 */
#include "kernels/opportunities.h"

#include "kernels/order_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Per-customer helpers -------------------------------------------------------------- */

typedef struct ctx {
    const sgs_opportunity_input_t *in;
    const sgs_stage_input_t *cu;
    const sgs_opportunity_config_t *cfg;
    const sgs_opportunity_stats_t *st;
    sgs_stage_rules_t rules;
} ctx_t;

static void ctx_init(ctx_t *c, const sgs_opportunity_input_t *in,
                     const sgs_opportunity_config_t *cfg, const sgs_opportunity_stats_t *st)
{
    c->in = in;
    c->cu = in->customers;
    c->cfg = cfg;
    c->st = st;
    if (in->stage_rules)
        c->rules = *in->stage_rules;
    else
        sgs_stage_rules_default(&c->rules);
}

static int is_alive_stage(uint8_t s)
{
    return s == SGS_STAGE_NEW || s == SGS_STAGE_ACTIVE || s == SGS_STAGE_LOYAL ||
           s == SGS_STAGE_REACTIVATED;
}

static double clv_of(const ctx_t *c, size_t i)
{
    return c->cu->clv ? c->cu->clv[i] : (double)NAN;
}

static double p_buy_of(const ctx_t *c, size_t i)
{
    return c->cu->p_buy ? c->cu->p_buy[i] : (double)NAN;
}

/* 1 - p_buy, or the configured risk when p_buy is unknown. */
static double risk_of(const ctx_t *c, size_t i)
{
    double p = p_buy_of(c, i);
    return isfinite(p) ? 1.0 - p : c->cfg->unknown_p_buy_risk;
}

/* The customer's value if they buy again within the horizon: clv / the model's P(buy). */
static double value_if_back(const ctx_t *c, size_t i)
{
    double clv = clv_of(c, i);
    double p = c->cu->p_buy_model ? c->cu->p_buy_model[i] : (double)NAN;
    return p > 0.0 && p <= 1.0 ? clv / p : clv;
}

/* Value brought in through referrals: NV minus own value (1 per customer without CLV,
 * matching sgs_influence_compute). */
static double brought_in_of(const ctx_t *c, size_t i)
{
    if (!c->in->network_value)
        return (double)NAN;
    double own = 1.0;
    if (c->cu->clv)
        own = isfinite(c->cu->clv[i]) ? c->cu->clv[i] : 0.0;
    return c->in->network_value[i] - own;
}

/* Potential value of customer i: its segment's median alive CLV, else the global one. */
static double potential_of(const ctx_t *c, size_t i, int32_t *segment_used)
{
    int32_t seg = c->cu->segment ? c->cu->segment[i] : -1;
    if (seg >= 0 && seg < c->st->n_segments && isfinite(c->st->segment_clv_median[seg])) {
        *segment_used = seg;
        return c->st->segment_clv_median[seg];
    }
    *segment_used = -1;
    return c->st->global_clv_median;
}

/* Numbers behind a trigger, for its test and its reason. */
typedef struct detail {
    int32_t count;  /* service: contacts; */
    int32_t count2; /* service: complaints */
    int32_t day;    /* renewal: due day; detractor: survey day; onboarding: first purchase */
    double score;   /* detractor: score */
} detail_t;

/* Support contacts and complaints of customer i on days lo..hi. */
static void count_contacts(const sgs_stage_input_t *cu, size_t i, int32_t lo, int32_t hi,
                           detail_t *d)
{
    d->count = d->count2 = 0;
    if (!cu->event_offset)
        return;
    for (size_t r = cu->event_offset[i + 1]; r-- > cu->event_offset[i];) {
        int32_t day = cu->event_day[r];
        if (day > hi)
            continue;
        if (day < lo)
            break;
        d->count += cu->event_kind[r] == SGS_EVENT_SUPPORT;
        d->count2 += cu->event_kind[r] == SGS_EVENT_COMPLAINT;
    }
}

/* Latest day <= hi of an event of `kind` for customer i (with a finite value when
 * need_value), SGS_DAY_NONE when none; *value gets its value. */
static int32_t latest_event(const sgs_stage_input_t *cu, size_t i, int32_t hi, uint8_t kind,
                            int need_value, double *value)
{
    if (!cu->event_offset)
        return SGS_DAY_NONE;
    for (size_t r = cu->event_offset[i + 1]; r-- > cu->event_offset[i];) {
        if (cu->event_day[r] > hi || cu->event_kind[r] != kind)
            continue;
        double v = cu->event_value ? sgs_sparse_value(cu->event_value, r) : (double)NAN;
        if (need_value && !isfinite(v))
            continue;
        *value = v;
        return cu->event_day[r];
    }
    return SGS_DAY_NONE;
}

/* Whether trigger `kind` fires for customer i; *d gets the numbers behind it. */
static int fires(const ctx_t *c, size_t i, int kind, detail_t *d)
{
    const sgs_opportunity_config_t *cfg = c->cfg;
    const sgs_stage_input_t *cu = c->cu;
    const int32_t t = c->in->as_of_day;
    const uint8_t stage = c->in->stage[i];
    memset(d, 0, sizeof *d);
    d->day = SGS_DAY_NONE;
    d->score = (double)NAN;
    switch (kind) {
    case SGS_OPP_SERVICE_RECOVERY: {
        int64_t lo = (int64_t)t - cfg->service_window_days + 1;
        count_contacts(cu, i, lo < INT32_MIN ? INT32_MIN : (int32_t)lo, t, d);
        return stage != SGS_STAGE_NONE && d->count + d->count2 >= cfg->service_min_contacts;
    }
    case SGS_OPP_RENEWAL_AT_RISK: {
        if (stage == SGS_STAGE_NONE || stage == SGS_STAGE_CANCELLED)
            return 0;
        double unused;
        int32_t due = latest_event(cu, i, t, SGS_EVENT_RENEWAL_DUE, 0, &unused);
        d->day = due;
        if (due == SGS_DAY_NONE)
            return 0;
        int64_t age = (int64_t)t - due;
        if (age <= cfg->renewal_grace_days || age > cfg->renewal_lookback_days)
            return 0;
        int32_t renewed = latest_event(cu, i, t, SGS_EVENT_RENEWED, 0, &unused);
        return renewed == SGS_DAY_NONE || (int64_t)renewed < (int64_t)due - cfg->renewal_early_days;
    }
    case SGS_OPP_WIN_BACK: {
        if (stage != SGS_STAGE_LAPSED)
            return 0;
        if (c->in->stage_compare)
            return c->in->stage_compare[i] != SGS_STAGE_LAPSED;
        if (isfinite(p_buy_of(c, i)))
            return 1; /* lapsed by p_buy: no crossing day to measure, the value ranks them */
        double since =
            c->in->days_overdue[i] - c->rules.lapsed_overdue_cycles * c->in->cycle_days[i];
        return !(since > (double)cfg->win_back_recent_days);
    }
    case SGS_OPP_SAVE_HIGH_VALUE: {
        double v = clv_of(c, i);
        return stage == SGS_STAGE_AT_RISK && isfinite(v) && v >= c->st->save_clv_threshold;
    }
    case SGS_OPP_OVERDUE_REMINDER: {
        double p = p_buy_of(c, i);
        return is_alive_stage(stage) &&
               c->in->days_overdue[i] > cfg->overdue_margin_cycles * c->in->cycle_days[i] &&
               (!isfinite(p) || p >= cfg->overdue_min_p_buy);
    }
    case SGS_OPP_ONBOARDING: {
        if (stage != SGS_STAGE_NEW)
            return 0;
        sgs_purchase_summary_t ps;
        sgs_purchase_summary(cu, i, t, &ps);
        d->day = ps.first_day;
        d->count = ps.n_days;
        return ps.n_days == 1;
    }
    case SGS_OPP_DETRACTOR_FOLLOW_UP: {
        if (stage == SGS_STAGE_NONE)
            return 0;
        double score = (double)NAN;
        int32_t day = latest_event(cu, i, t, SGS_EVENT_SURVEY, 1, &score);
        d->day = day;
        d->score = score;
        return day != SGS_DAY_NONE && (int64_t)t - day < cfg->detractor_window_days &&
               score <= cfg->detractor_max_score;
    }
    case SGS_OPP_GROW: {
        double v = clv_of(c, i);
        int32_t seg;
        double potential = potential_of(c, i, &seg);
        return is_alive_stage(stage) && isfinite(v) && potential > 0.0 &&
               v < cfg->grow_ratio * potential;
    }
    case SGS_OPP_ADVOCATE: {
        if (!c->in->n_direct_referrals || !c->in->network_value || stage == SGS_STAGE_NONE ||
            stage == SGS_STAGE_LAPSED || stage == SGS_STAGE_CANCELLED)
            return 0;
        double b = brought_in_of(c, i);
        return c->in->n_direct_referrals[i] >= cfg->advocate_min_referrals && isfinite(b) &&
               b >= c->st->advocate_value_threshold;
    }
    default:
        return 0;
    }
}

double sgs_opportunity_value(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                             const sgs_opportunity_stats_t *stats, size_t i, int kind)
{
    ctx_t c;
    ctx_init(&c, in, cfg, stats);
    double clv = clv_of(&c, i), v = 0.0;
    switch (kind) {
    case SGS_OPP_SERVICE_RECOVERY:
        v = clv * cfg->service_risk;
        break;
    case SGS_OPP_RENEWAL_AT_RISK:
        v = clv * cfg->renewal_risk;
        break;
    case SGS_OPP_WIN_BACK:
    case SGS_OPP_SAVE_HIGH_VALUE:
    case SGS_OPP_OVERDUE_REMINDER:
        v = value_if_back(&c, i) * risk_of(&c, i);
        break;
    case SGS_OPP_ONBOARDING:
        v = clv;
        break;
    case SGS_OPP_DETRACTOR_FOLLOW_UP:
        v = clv * cfg->detractor_risk;
        break;
    case SGS_OPP_GROW: {
        int32_t seg;
        v = potential_of(&c, i, &seg) - clv;
        break;
    }
    case SGS_OPP_ADVOCATE:
        v = brought_in_of(&c, i);
        break;
    default:
        v = 0.0;
    }
    if (kind > 0 && kind < SGS_OPP_KIND_COUNT)
        v *= cfg->value_scale[kind];
    /* finite, and +0 rather than -0 so that equal values have equal bits */
    return (isfinite(v) && v != 0.0) ? v : 0.0;
}

/* ---- Detection ------------------------------------------------------------------------- */

/* What detection and its twin check and set first: the stats reset, the configuration
 * checked, the arrays required present, and the kinds that lack their input marked. */
int sgs_opportunities_detect_check(const sgs_opportunity_input_t *in,
                                   const sgs_opportunity_config_t *cfg, const uint16_t *fired,
                                   sgs_error_t *err)
{
    int rc = sgs_opportunity_config_check(cfg, err);
    if (rc)
        return rc;
    const sgs_stage_input_t *cu = in ? in->customers : NULL;
    if (!in || !cu || !fired ||
        (cu->n > 0 && (!in->stage || !in->cycle_days || !in->days_overdue || !cu->purchase_offset ||
                       !cu->purchase_day)) ||
        (cu->event_offset && (!cu->event_day || !cu->event_kind)))
        return sgs_error_set(err, SGS_EINVAL, "opportunities: a required array is NULL");
    return SGS_OK;
}

static int detect_begin(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                        const uint16_t *fired, sgs_opportunity_stats_t *st, sgs_error_t *err)
{
    if (!st)
        return sgs_error_set(err, SGS_EINVAL, "opportunities: stats is NULL");
    memset(st, 0, sizeof *st);
    st->save_clv_threshold = st->advocate_value_threshold = st->global_clv_median = (double)NAN;
    int rc = sgs_opportunities_detect_check(in, cfg, fired, err);
    if (rc)
        return rc;
    const sgs_stage_input_t *cu = in->customers;
    st->all_opportunities = cfg->all_opportunities != 0;
    if (cfg->enabled[SGS_OPP_SAVE_HIGH_VALUE] && !cu->clv)
        st->kinds_without_input |= 1u << SGS_OPP_SAVE_HIGH_VALUE;
    if (cfg->enabled[SGS_OPP_GROW] && !cu->clv)
        st->kinds_without_input |= 1u << SGS_OPP_GROW;
    if (cfg->enabled[SGS_OPP_ADVOCATE] && (!in->network_value || !in->n_direct_referrals))
        st->kinds_without_input |= 1u << SGS_OPP_ADVOCATE;
    return SGS_OK;
}

void sgs_opportunity_threshold_columns(const sgs_opportunity_input_t *in,
                                       const sgs_opportunity_config_t *cfg, const sgs_exec_t *exec,
                                       double *buyers_clv, double *alive_clv, double *brought_in)
{
    const sgs_stage_input_t *cu = in->customers;
    const long nl = (long)cu->n;
    ctx_t c;
    ctx_init(&c, in, cfg, NULL);
    const int advocates = in->network_value && in->n_direct_referrals;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, cu->n)) schedule(static)
    for (long il = 0; il < nl; il++) {
        uint8_t s = in->stage[il];
        double clv = cu->clv ? cu->clv[il] : (double)NAN;
        if (buyers_clv)
            buyers_clv[il] = s != SGS_STAGE_NONE && s != SGS_STAGE_PROSPECT ? clv : (double)NAN;
        if (alive_clv)
            alive_clv[il] = is_alive_stage(s) ? clv : (double)NAN;
        if (brought_in)
            brought_in[il] = advocates && in->n_direct_referrals[il] >= cfg->advocate_min_referrals
                                 ? brought_in_of(&c, (size_t)il)
                                 : (double)NAN;
    }
}

/* The triggers of every customer into fired and st's counts, with st's thresholds. */
static void run_triggers(const ctx_t *c, size_t n, int n_threads, uint16_t *fired,
                         sgs_opportunity_stats_t *st)
{
    const sgs_opportunity_config_t *cfg = c->cfg;
    const long nl = (long)n;
    int64_t n_fired[SGS_OPP_KIND_COUNT] = {0};
    int64_t n_customers = 0, n_rows = 0;
#pragma omp parallel for num_threads(n_threads) schedule(static)                              \
    reduction(+ : n_fired[:SGS_OPP_KIND_COUNT], n_customers, n_rows)
    for (long il = 0; il < nl; il++) {
        uint16_t mask = 0;
        int count = 0;
        for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
            detail_t d;
            if (cfg->enabled[k] && fires(c, (size_t)il, k, &d)) {
                mask = (uint16_t)(mask | (1u << k));
                n_fired[k]++;
                count++;
            }
        }
        fired[il] = mask;
        n_customers += count > 0;
        n_rows += cfg->all_opportunities ? count : (count > 0);
    }
    memcpy(st->n_fired, n_fired, sizeof n_fired);
    st->n_customers = n_customers;
    st->n_candidates = n_rows;
}

int sgs_opportunities_detect(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                             const sgs_exec_t *exec, uint16_t *fired, sgs_opportunity_stats_t *st,
                             sgs_error_t *err)
{
    int rc = detect_begin(in, cfg, fired, st, err);
    if (rc)
        return rc;
    const sgs_stage_input_t *cu = in->customers;
    const size_t n = cu->n;
    const long nl = (long)n;
    const int n_threads = sgs_exec_threads_for(exec, n);

    double *scratch = sgs_alloc_array(n, sizeof *scratch);
    if (!scratch)
        return sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for %zu customers", n);
    ctx_t c;
    ctx_init(&c, in, cfg, st);

    /* base-wide thresholds */
    int32_t max_label = -1;
    long first_bad = nl;
    if (cu->segment) {
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(max                     \
                                                                           : max_label)            \
    reduction(min                                                                                  \
              : first_bad)
        for (long il = 0; il < nl; il++) {
            int32_t g = cu->segment[il];
            if ((int64_t)g >= (int64_t)n && il < first_bad)
                first_bad = il;
            if (g > max_label)
                max_label = g;
        }
    }
    if (first_bad < nl) {
        rc = sgs_error_set(err, SGS_EDATA,
                           "customer_id %lld: segment label %d is not below the customer "
                           "count %zu",
                           (long long)cu->customer_id[first_bad], (int)cu->segment[first_bad], n);
        goto cleanup;
    }
    if (cu->clv) {
        /* CLV of buyers: the save_high_value quantile */
        sgs_opportunity_threshold_columns(in, cfg, exec, scratch, NULL, NULL);
        double q = (double)NAN;
        rc = sgs_quantile_of(n, scratch, NULL, cfg->save_clv_quantile, &q, err);
        if (rc)
            goto cleanup;
        st->save_clv_threshold = isfinite(q) ? fmax(q, cfg->save_min_clv) : (double)NAN;
        /* CLV of alive customers: potentials per segment */
        sgs_opportunity_threshold_columns(in, cfg, exec, NULL, scratch, NULL);
        st->n_segments = max_label + 1;
        st->segment_clv_median = sgs_alloc_array((size_t)st->n_segments, sizeof(double));
        if (!st->segment_clv_median) {
            rc = sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for segments");
            goto cleanup;
        }
        rc = sgs_group_medians(n, scratch, cu->segment, st->n_segments, st->segment_clv_median,
                               &st->global_clv_median, exec, err);
        if (rc)
            goto cleanup;
    }
    if (in->network_value && in->n_direct_referrals) {
        sgs_opportunity_threshold_columns(in, cfg, exec, NULL, NULL, scratch);
        double q = (double)NAN;
        rc = sgs_quantile_of(n, scratch, NULL, cfg->advocate_value_quantile, &q, err);
        if (rc)
            goto cleanup;
        st->advocate_value_threshold = isfinite(q) ? fmax(q, cfg->advocate_min_value) : (double)NAN;
    }
    run_triggers(&c, n, n_threads, fired, st);

cleanup:
    sgs_free(scratch);
    return rc;
}

int sgs_opportunities_detect_given(const sgs_opportunity_input_t *in,
                                   const sgs_opportunity_config_t *cfg, const sgs_exec_t *exec,
                                   uint16_t *fired, sgs_opportunity_stats_t *st, sgs_error_t *err)
{
    if (!st)
        return sgs_error_set(err, SGS_EINVAL, "opportunities: stats is NULL");
    const sgs_opportunity_stats_t given = *st;
    int rc = detect_begin(in, cfg, fired, st, err); /* resets the counts */
    st->save_clv_threshold = given.save_clv_threshold;
    st->advocate_value_threshold = given.advocate_value_threshold;
    st->global_clv_median = given.global_clv_median;
    st->n_segments = given.n_segments;
    st->segment_clv_median = given.segment_clv_median; /* still owned by st */
    if (rc)
        return rc;
    ctx_t c;
    ctx_init(&c, in, cfg, st);
    run_triggers(&c, in->customers->n, sgs_exec_threads_for(exec, in->customers->n), fired, st);
    return SGS_OK;
}

/* ---- Serial reference twin -------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank quantile q of the finite values of v[0..n-1] by sorting them (v is
 * overwritten): the value of 1-based rank ceil(q m) (rank 1 for q == 0) of the m finite ones;
 * NaN for m == 0. */
static double quantile_by_sort(double *v, size_t n, double q)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            v[m++] = v[i];
    if (m == 0)
        return (double)NAN;
    qsort(v, m, sizeof *v, compare_doubles);
    double rank = ceil(q * (double)m);
    size_t k = rank < 1.0 ? 0 : (size_t)rank - 1;
    return v[k < m ? k : m - 1];
}

int sgs_opportunities_detect_ref(const sgs_opportunity_input_t *in,
                                 const sgs_opportunity_config_t *cfg, uint16_t *fired,
                                 sgs_opportunity_stats_t *st, sgs_error_t *err)
{
    int rc = detect_begin(in, cfg, fired, st, err);
    if (rc)
        return rc;
    const sgs_stage_input_t *cu = in->customers;
    const size_t n = cu->n;
    int32_t max_label = -1;
    for (size_t i = 0; cu->segment && i < n; i++) {
        if ((int64_t)cu->segment[i] >= (int64_t)n)
            return sgs_error_set(err, SGS_EDATA,
                                 "customer_id %lld: segment label %d is not below the customer "
                                 "count %zu",
                                 (long long)cu->customer_id[i], (int)cu->segment[i], n);
        if (cu->segment[i] > max_label)
            max_label = cu->segment[i];
    }
    double *v = sgs_alloc_array(n, sizeof *v);
    if (!v)
        return sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for %zu customers", n);
    ctx_t c;
    ctx_init(&c, in, cfg, st);
    if (cu->clv) {
        for (size_t i = 0; i < n; i++) /* buyers */
            v[i] = in->stage[i] != SGS_STAGE_NONE && in->stage[i] != SGS_STAGE_PROSPECT
                       ? cu->clv[i]
                       : (double)NAN;
        double q = quantile_by_sort(v, n, cfg->save_clv_quantile);
        st->save_clv_threshold = isfinite(q) ? fmax(q, cfg->save_min_clv) : (double)NAN;
        for (size_t i = 0; i < n; i++)
            v[i] = is_alive_stage(in->stage[i]) ? cu->clv[i] : (double)NAN;
        st->n_segments = max_label + 1;
        st->segment_clv_median = sgs_alloc_array((size_t)st->n_segments, sizeof(double));
        if (!st->segment_clv_median) {
            rc = sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for segments");
            goto cleanup;
        }
        rc = sgs_group_medians_ref(n, v, cu->segment, st->n_segments, st->segment_clv_median,
                                   &st->global_clv_median, err);
        if (rc)
            goto cleanup;
    }
    if (in->network_value && in->n_direct_referrals) {
        for (size_t i = 0; i < n; i++)
            v[i] = in->n_direct_referrals[i] >= cfg->advocate_min_referrals ? brought_in_of(&c, i)
                                                                            : (double)NAN;
        double q = quantile_by_sort(v, n, cfg->advocate_value_quantile);
        st->advocate_value_threshold = isfinite(q) ? fmax(q, cfg->advocate_min_value) : (double)NAN;
    }
    for (size_t i = 0; i < n; i++) {
        int count = 0;
        fired[i] = 0;
        for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
            detail_t d;
            if (cfg->enabled[k] && fires(&c, i, k, &d)) {
                fired[i] = (uint16_t)(fired[i] | (1u << k));
                st->n_fired[k]++;
                count++;
            }
        }
        st->n_customers += count > 0;
        st->n_candidates += cfg->all_opportunities ? count : (count > 0);
    }

cleanup:
    sgs_free(v);
    return rc;
}

/* ---- The numbers behind a reason ------------------------------------------------------- */

void sgs_opportunity_facts(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                           const sgs_opportunity_stats_t *stats, size_t i, int kind,
                           sgs_opportunity_facts_t *f)
{
    ctx_t c;
    ctx_init(&c, in, cfg, stats);
    /* the numbers behind the trigger: only these kinds' reasons show them, and the others'
     * tests (a walk over the purchases for onboarding) would be work for nothing */
    detail_t d = {.day = SGS_DAY_NONE, .score = (double)NAN};
    if (kind == SGS_OPP_SERVICE_RECOVERY || kind == SGS_OPP_RENEWAL_AT_RISK ||
        kind == SGS_OPP_DETRACTOR_FOLLOW_UP)
        (void)fires(&c, i, kind, &d);
    const int32_t t = in->as_of_day;
    sgs_purchase_summary_t ps;
    sgs_purchase_summary(c.cu, i, t, &ps);
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->as_of_day = t;
    f->cycle_days = in->cycle_days[i];
    f->days_overdue = in->days_overdue[i];
    f->clv = clv_of(&c, i);
    f->p_buy = p_buy_of(&c, i);
    f->value_if_back = value_if_back(&c, i);
    f->n_purchase_days = ps.n_days;
    f->first_purchase_day = ps.n_days > 0 ? ps.first_day : SGS_DAY_NONE;
    f->days_since_last = ps.n_days > 0 ? (int64_t)t - ps.last_day : -1;
    f->n_support = kind == SGS_OPP_SERVICE_RECOVERY ? d.count : 0;
    f->n_complaints = kind == SGS_OPP_SERVICE_RECOVERY ? d.count2 : 0;
    f->event_day = kind == SGS_OPP_RENEWAL_AT_RISK || kind == SGS_OPP_DETRACTOR_FOLLOW_UP
                       ? d.day
                       : SGS_DAY_NONE;
    f->survey_score = kind == SGS_OPP_DETRACTOR_FOLLOW_UP ? d.score : (double)NAN;
    f->stage_then = in->stage_compare ? (int)in->stage_compare[i] : -1;
    f->compare_day = in->compare_day;
    f->potential = potential_of(&c, i, &f->potential_segment);
    f->n_direct_referrals = in->n_direct_referrals ? in->n_direct_referrals[i] : 0;
    f->n_indirect_referrals = in->n_indirect_referrals ? in->n_indirect_referrals[i] : 0;
    f->brought_in = brought_in_of(&c, i);
    f->network_value = in->network_value ? in->network_value[i] : (double)NAN;
    f->lapsed_p_buy = c.rules.lapsed_p_buy;
    f->at_risk_p_buy = c.rules.at_risk_p_buy;
    f->lapse_overdue_days = c.rules.lapsed_overdue_cycles * f->cycle_days;
    f->overdue_margin_days = cfg->overdue_margin_cycles * f->cycle_days;
    f->save_clv_threshold = stats->save_clv_threshold;
    f->advocate_value_threshold = stats->advocate_value_threshold;
}

void sgs_opportunity_kind_facts(const sgs_opportunity_input_t *in,
                                const sgs_opportunity_config_t *cfg,
                                const sgs_opportunity_stats_t *stats, size_t i, int kind,
                                sgs_opportunity_facts_t *f)
{
    ctx_t c;
    ctx_init(&c, in, cfg, stats);
    const int32_t t = in->as_of_day;
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->as_of_day = t;
    f->cycle_days = f->days_overdue = f->clv = f->p_buy = f->value_if_back = (double)NAN;
    f->first_purchase_day = f->event_day = SGS_DAY_NONE;
    f->days_since_last = -1;
    f->survey_score = f->potential = f->brought_in = f->network_value = (double)NAN;
    f->stage_then = -1;
    f->potential_segment = -1;
    f->compare_day = in->compare_day;
    detail_t d;
    switch (kind) {
    case SGS_OPP_SERVICE_RECOVERY:
        (void)fires(&c, i, kind, &d);
        f->n_support = d.count;
        f->n_complaints = d.count2;
        break;
    case SGS_OPP_RENEWAL_AT_RISK:
        (void)fires(&c, i, kind, &d);
        f->event_day = d.day;
        break;
    case SGS_OPP_DETRACTOR_FOLLOW_UP:
        (void)fires(&c, i, kind, &d);
        f->event_day = d.day;
        f->survey_score = d.score;
        break;
    case SGS_OPP_WIN_BACK:
    case SGS_OPP_SAVE_HIGH_VALUE: {
        f->cycle_days = in->cycle_days[i];
        f->p_buy = p_buy_of(&c, i);
        f->value_if_back = value_if_back(&c, i);
        int32_t last = sgs_purchase_last_day(c.cu, i, t);
        f->days_since_last = last != SGS_DAY_NONE ? (int64_t)t - last : -1;
        if (kind == SGS_OPP_WIN_BACK) {
            f->stage_then = in->stage_compare ? (int)in->stage_compare[i] : -1;
        } else {
            f->days_overdue = in->days_overdue[i];
            f->clv = clv_of(&c, i);
        }
        break;
    }
    case SGS_OPP_OVERDUE_REMINDER:
        f->cycle_days = in->cycle_days[i];
        f->days_overdue = in->days_overdue[i];
        f->p_buy = p_buy_of(&c, i);
        break;
    case SGS_OPP_ONBOARDING: {
        f->cycle_days = in->cycle_days[i];
        sgs_purchase_summary_t ps;
        sgs_purchase_summary(c.cu, i, t, &ps);
        f->n_purchase_days = ps.n_days;
        f->first_purchase_day = ps.n_days > 0 ? ps.first_day : SGS_DAY_NONE;
        break;
    }
    case SGS_OPP_GROW:
        f->clv = clv_of(&c, i);
        f->potential = potential_of(&c, i, &f->potential_segment);
        break;
    case SGS_OPP_ADVOCATE:
        f->n_direct_referrals = in->n_direct_referrals ? in->n_direct_referrals[i] : 0;
        f->n_indirect_referrals = in->n_indirect_referrals ? in->n_indirect_referrals[i] : 0;
        f->brought_in = brought_in_of(&c, i);
        f->network_value = in->network_value ? in->network_value[i] : (double)NAN;
        break;
    default:
        break;
    }
    f->lapsed_p_buy = c.rules.lapsed_p_buy;
    f->at_risk_p_buy = c.rules.at_risk_p_buy;
    f->lapse_overdue_days = c.rules.lapsed_overdue_cycles * f->cycle_days;
    f->overdue_margin_days = cfg->overdue_margin_cycles * f->cycle_days;
    f->save_clv_threshold = stats->save_clv_threshold;
    f->advocate_value_threshold = stats->advocate_value_threshold;
}

#define PREFETCH(column, i)                                                                        \
    do {                                                                                           \
        if (column)                                                                                \
            __builtin_prefetch(&(column)[i]);                                                      \
    } while (0)

void sgs_opportunity_kind_facts_prefetch(const sgs_opportunity_input_t *in, size_t i, int kind,
                                         int step)
{
    const sgs_stage_input_t *cu = in->customers;
    const int purchases =
        kind == SGS_OPP_WIN_BACK || kind == SGS_OPP_SAVE_HIGH_VALUE || kind == SGS_OPP_ONBOARDING;
    const int events = kind == SGS_OPP_SERVICE_RECOVERY || kind == SGS_OPP_RENEWAL_AT_RISK ||
                       kind == SGS_OPP_DETRACTOR_FOLLOW_UP;
    if (step != 0) {
        /* the rows sgs_purchase_last_day, sgs_purchase_summary and the event walks start at */
        if (purchases) {
            size_t r =
                kind == SGS_OPP_ONBOARDING ? cu->purchase_offset[i] : cu->purchase_offset[i + 1];
            if (r > 0)
                PREFETCH(cu->purchase_day, kind == SGS_OPP_ONBOARDING ? r : r - 1);
        } else if (events && cu->event_offset && cu->event_offset[i + 1] > 0) {
            PREFETCH(cu->event_day, cu->event_offset[i + 1] - 1);
            PREFETCH(cu->event_kind, cu->event_offset[i + 1] - 1);
        }
        return;
    }
    switch (kind) {
    case SGS_OPP_WIN_BACK:
    case SGS_OPP_SAVE_HIGH_VALUE:
    case SGS_OPP_OVERDUE_REMINDER:
    case SGS_OPP_ONBOARDING:
        PREFETCH(in->cycle_days, i);
        if (kind != SGS_OPP_ONBOARDING)
            PREFETCH(cu->p_buy, i);
        if (kind == SGS_OPP_WIN_BACK || kind == SGS_OPP_SAVE_HIGH_VALUE) {
            PREFETCH(cu->clv, i);
            PREFETCH(cu->p_buy_model, i);
        }
        if (kind == SGS_OPP_SAVE_HIGH_VALUE || kind == SGS_OPP_OVERDUE_REMINDER)
            PREFETCH(in->days_overdue, i);
        if (kind == SGS_OPP_WIN_BACK)
            PREFETCH(in->stage_compare, i);
        break;
    case SGS_OPP_GROW:
        PREFETCH(cu->clv, i);
        PREFETCH(cu->segment, i);
        break;
    case SGS_OPP_ADVOCATE:
        PREFETCH(cu->clv, i);
        PREFETCH(in->n_direct_referrals, i);
        PREFETCH(in->n_indirect_referrals, i);
        PREFETCH(in->network_value, i);
        break;
    default:
        break;
    }
    if (purchases)
        PREFETCH(cu->purchase_offset, i + (kind != SGS_OPP_ONBOARDING));
    if (events) {
        PREFETCH(in->stage, i);
        PREFETCH(cu->event_offset, i + 1);
    }
}
