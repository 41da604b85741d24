/*
 * kernels/stages.c — purchase cycle, lifecycle stage, transitions, time in stage.
 * See stages.h for the contracts and the rule table.
 */
#include "kernels/stages.h"

#include "kernels/order_stats.h"
#include "kernels/tables.h"

#include <math.h>
#include <string.h>

/* ---- Names ------------------------------------------------------------------------- */

const char *sgs_stage_name(int stage)
{
    static const char *const names[SGS_STAGE_COUNT] = {"none",   "prospect",    "new",
                                                       "active", "loyal",       "at_risk",
                                                       "lapsed", "reactivated", "cancelled"};
    return (stage >= 0 && stage < SGS_STAGE_COUNT) ? names[stage] : "unknown";
}

const char *sgs_cycle_source_name(int source)
{
    static const char *const names[SGS_CYCLE_SOURCE_COUNT] = {"model", "observed", "segment",
                                                              "global", "default"};
    return (source >= 0 && source < SGS_CYCLE_SOURCE_COUNT) ? names[source] : "unknown";
}

/* ---- Rules ------------------------------------------------------------------------- */

void sgs_stage_rules_default(sgs_stage_rules_t *rules)
{
    rules->min_purchases_own_cycle = 2;
    rules->segment_min_purchases = 3;
    rules->default_cycle_days = 90.0;
    rules->new_cycles = 1.0;
    rules->at_risk_overdue_cycles = 1.0;
    rules->at_risk_p_buy = 0.5;
    rules->lapsed_overdue_cycles = 3.0;
    rules->lapsed_p_buy = 0.2;
    rules->reactivated_cycles = 1.0;
    rules->loyal_rate_multiple = 1.5;
    rules->loyal_min_purchases = 4;
}

int sgs_stage_rules_check(const sgs_stage_rules_t *r, sgs_error_t *err)
{
    struct {
        const char *name;
        double value;
        double lo, hi; /* allowed closed range */
    } checks[] = {
        {"default_cycle_days", r->default_cycle_days, 1e-9, 1e9},
        {"new_cycles", r->new_cycles, 0.0, 1e6},
        {"at_risk_overdue_cycles", r->at_risk_overdue_cycles, 0.0, 1e6},
        {"at_risk_p_buy", r->at_risk_p_buy, 0.0, 1.0},
        {"lapsed_overdue_cycles", r->lapsed_overdue_cycles, 0.0, 1e6},
        {"lapsed_p_buy", r->lapsed_p_buy, 0.0, 1.0},
        {"reactivated_cycles", r->reactivated_cycles, 0.0, 1e6},
        {"loyal_rate_multiple", r->loyal_rate_multiple, 1e-9, 1e6},
    };
    for (size_t k = 0; k < sizeof checks / sizeof checks[0]; k++) {
        double v = checks[k].value;
        if (!(v >= checks[k].lo && v <= checks[k].hi))
            return sgs_error_set(err, SGS_ECONFIG, "stage rules: %s = %g is outside [%g, %g]",
                                 checks[k].name, v, checks[k].lo, checks[k].hi);
    }
    if (r->min_purchases_own_cycle < 2)
        return sgs_error_set(err, SGS_ECONFIG, "stage rules: min_purchases_own_cycle = %d < 2",
                             (int)r->min_purchases_own_cycle);
    if (r->segment_min_purchases < r->min_purchases_own_cycle)
        return sgs_error_set(err, SGS_ECONFIG,
                             "stage rules: segment_min_purchases = %d < min_purchases_own_cycle "
                             "= %d",
                             (int)r->segment_min_purchases, (int)r->min_purchases_own_cycle);
    if (r->loyal_min_purchases < 1)
        return sgs_error_set(err, SGS_ECONFIG, "stage rules: loyal_min_purchases = %d < 1",
                             (int)r->loyal_min_purchases);
    if (r->lapsed_overdue_cycles < r->at_risk_overdue_cycles)
        return sgs_error_set(err, SGS_ECONFIG,
                             "stage rules: lapsed_overdue_cycles = %g < at_risk_overdue_cycles "
                             "= %g",
                             r->lapsed_overdue_cycles, r->at_risk_overdue_cycles);
    if (r->lapsed_p_buy > r->at_risk_p_buy)
        return sgs_error_set(err, SGS_ECONFIG,
                             "stage rules: lapsed_p_buy = %g > at_risk_p_buy = %g", r->lapsed_p_buy,
                             r->at_risk_p_buy);
    return SGS_OK;
}

/* ---- Per-customer history ---------------------------------------------------------- */

void sgs_purchase_summary(const sgs_stage_input_t *in, size_t i, int32_t as_of_day,
                          sgs_purchase_summary_t *ps)
{
    ps->n_days = 0;
    ps->first_day = SGS_DAY_NONE;
    ps->last_day = SGS_DAY_NONE;
    ps->next_day = SGS_DAY_NONE;
    ps->mean_gap_days = (double)NAN;
    for (size_t r = in->purchase_offset[i]; r < in->purchase_offset[i + 1]; r++) {
        int32_t d = in->purchase_day[r];
        if (d > as_of_day) {
            ps->next_day = d;
            break;
        }
        if (ps->n_days == 0)
            ps->first_day = d;
        if (ps->n_days == 0 || d != ps->last_day)
            ps->n_days++;
        ps->last_day = d;
    }
    if (ps->n_days >= 2)
        ps->mean_gap_days = (double)((int64_t)ps->last_day - ps->first_day) / (ps->n_days - 1);
}

int32_t sgs_purchase_last_day(const sgs_stage_input_t *in, size_t i, int32_t as_of_day)
{
    for (size_t r = in->purchase_offset[i + 1]; r-- > in->purchase_offset[i];)
        if (in->purchase_day[r] <= as_of_day)
            return in->purchase_day[r];
    return SGS_DAY_NONE;
}

/* Rows of customer i in a CSR offset array are valid and their days ascending. */
static int rows_sorted(const size_t *offset, const int32_t *day, size_t i)
{
    if (offset[i + 1] < offset[i])
        return 0;
    for (size_t r = offset[i] + 1; r < offset[i + 1]; r++)
        if (day[r] < day[r - 1])
            return 0;
    return 1;
}

/* The own cycle of a customer: 1/rate (model) or the observed mean gap, NaN when the
 * customer has too little history. *source gets the source when not NaN. */
static double own_cycle(const sgs_stage_input_t *in, size_t i, const sgs_purchase_summary_t *ps,
                        const sgs_stage_rules_t *rules, uint8_t *source)
{
    if (ps->n_days < rules->min_purchases_own_cycle)
        return (double)NAN;
    if (in->rate_per_day) {
        double rate = in->rate_per_day[i];
        if (isfinite(rate) && rate > 0.0 && isfinite(1.0 / rate)) {
            *source = SGS_CYCLE_MODEL;
            return 1.0 / rate;
        }
    }
    *source = SGS_CYCLE_OBSERVED;
    return ps->mean_gap_days;
}

/* Facts from the events of customer i up to as_of that the stage rules use. */
typedef struct event_facts {
    int any_event;        /* an event on or before as_of */
    int32_t last_cancel;  /* day of the latest cancellation <= as_of, SGS_DAY_NONE */
    int32_t last_renewed; /* day of the latest renewed event <= as_of, SGS_DAY_NONE */
} event_facts_t;

static void scan_events(const sgs_stage_input_t *in, size_t i, int32_t as_of, event_facts_t *f)
{
    f->any_event = 0;
    f->last_cancel = SGS_DAY_NONE;
    f->last_renewed = SGS_DAY_NONE;
    if (!in->event_offset)
        return;
    for (size_t r = in->event_offset[i]; r < in->event_offset[i + 1]; r++) {
        int32_t d = in->event_day[r];
        if (d > as_of)
            break;
        f->any_event = 1;
        if (in->event_kind[r] == SGS_EVENT_CANCELLED)
            f->last_cancel = d;
        else if (in->event_kind[r] == SGS_EVENT_RENEWED)
            f->last_renewed = d;
    }
}

/* Latest reactivation day of customer i on or before as_of (SGS_DAY_NONE if none): a
 * purchase day following a gap longer than lapse_gap_days, or the first purchase day
 * strictly after a cancellation (a cancellation on day c is after a purchase on day c). */
static int32_t reactivation_day(const sgs_stage_input_t *in, size_t i, int32_t as_of,
                                double lapse_gap_days)
{
    int32_t result = SGS_DAY_NONE;
    int32_t prev = SGS_DAY_NONE;
    size_t e = in->event_offset ? in->event_offset[i] : 0;
    size_t e_end = in->event_offset ? in->event_offset[i + 1] : 0;
    for (size_t r = in->purchase_offset[i]; r < in->purchase_offset[i + 1]; r++) {
        int32_t d = in->purchase_day[r];
        if (d > as_of)
            break;
        if (prev != SGS_DAY_NONE && d == prev)
            continue;
        int flag = prev != SGS_DAY_NONE && (double)((int64_t)d - prev) > lapse_gap_days;
        /* events before d not yet consumed are those on days >= prev */
        for (; e < e_end && in->event_day[e] < d; e++)
            if (in->event_kind[e] == SGS_EVENT_CANCELLED)
                flag = 1;
        if (flag)
            result = d;
        prev = d;
    }
    return result;
}

/* ---- Stage of one customer ------------------------------------------------------- */

typedef struct stage_ctx {
    const sgs_stage_input_t *in;
    const sgs_stage_rules_t *rules;
    int32_t as_of;
    const double *segment_cycle; /* [n_segments] medians (NaN: none) */
    double global_cycle;         /* NaN when nobody qualifies */
} stage_ctx_t;

/* The cycle of a segment label: its median, else the global median, else the default. */
static double cycle_of_segment(const stage_ctx_t *c, int32_t seg, uint8_t *source)
{
    if (seg >= 0 && isfinite(c->segment_cycle[seg])) {
        *source = SGS_CYCLE_SEGMENT;
        return c->segment_cycle[seg];
    }
    if (isfinite(c->global_cycle)) {
        *source = SGS_CYCLE_GLOBAL;
        return c->global_cycle;
    }
    *source = SGS_CYCLE_DEFAULT;
    return c->rules->default_cycle_days;
}

/* Everything sgs_stages_compute writes for customer i. own = the own cycle from pass 1. */
static void stage_one(const stage_ctx_t *c, size_t i, double own, uint8_t own_source,
                      uint8_t *stage_out, double *cycle_out, uint8_t *source_out,
                      double *overdue_out, sgs_purchase_summary_t *ps)
{
    const sgs_stage_input_t *in = c->in;
    const sgs_stage_rules_t *ru = c->rules;
    int32_t as_of = c->as_of;
    sgs_purchase_summary(in, i, as_of, ps);
    int32_t seg = in->segment ? in->segment[i] : -1;
    uint8_t seg_source;
    double seg_cycle = cycle_of_segment(c, seg < 0 ? -1 : seg, &seg_source);
    int has_own = isfinite(own);
    double cycle = has_own ? own : seg_cycle;
    *cycle_out = cycle;
    *source_out = has_own ? own_source : seg_source;
    *overdue_out = ps->n_days > 0 ? (double)((int64_t)as_of - ps->last_day) - cycle : (double)NAN;

    event_facts_t ev;
    scan_events(in, i, as_of, &ev);

    /* none: not yet known */
    if (ps->n_days == 0) {
        int32_t signup = in->signup_day ? in->signup_day[i] : SGS_DAY_NONE;
        int unknown_yet = signup != SGS_DAY_NONE ? signup > as_of
                                                 : (!ev.any_event && ps->next_day != SGS_DAY_NONE);
        if (unknown_yet) {
            *stage_out = SGS_STAGE_NONE;
            return;
        }
    }
    /* cancelled: nothing (purchase or renewal) after the latest cancellation */
    if (ev.last_cancel != SGS_DAY_NONE && (ps->n_days == 0 || ps->last_day <= ev.last_cancel) &&
        (ev.last_renewed == SGS_DAY_NONE || ev.last_renewed <= ev.last_cancel)) {
        *stage_out = SGS_STAGE_CANCELLED;
        return;
    }
    if (ps->n_days == 0) {
        *stage_out = SGS_STAGE_PROSPECT;
        return;
    }
    if ((double)((int64_t)as_of - ps->first_day) <= ru->new_cycles * cycle) {
        *stage_out = SGS_STAGE_NEW;
        return;
    }
    double overdue = *overdue_out;
    double p = in->p_buy ? in->p_buy[i] : (double)NAN;
    int has_p = isfinite(p);
    if (has_p ? p < ru->lapsed_p_buy : overdue > ru->lapsed_overdue_cycles * cycle) {
        *stage_out = SGS_STAGE_LAPSED;
        return;
    }
    if (has_p ? p < ru->at_risk_p_buy : overdue > ru->at_risk_overdue_cycles * cycle) {
        *stage_out = SGS_STAGE_AT_RISK;
        return;
    }
    int32_t react = reactivation_day(in, i, as_of, (1.0 + ru->lapsed_overdue_cycles) * cycle);
    if (react != SGS_DAY_NONE &&
        (double)((int64_t)as_of - react) <= ru->reactivated_cycles * cycle) {
        *stage_out = SGS_STAGE_REACTIVATED;
        return;
    }
    if (has_own && ps->n_days >= ru->loyal_min_purchases &&
        cycle * ru->loyal_rate_multiple <= seg_cycle) {
        *stage_out = SGS_STAGE_LOYAL;
        return;
    }
    *stage_out = SGS_STAGE_ACTIVE;
}

/* ---- The kernel ------------------------------------------------------------------- */

/* Customer i's stage and its outputs (the columns out asks for), from its own cycle and
 * where the cycle came from: the one per-customer step of the kernel and its twin. */
static void stage_and_outputs(const stage_ctx_t *ctx, size_t i, double own_cycle_days,
                              uint8_t own_source, sgs_stage_output_t *out, uint8_t *stage,
                              uint8_t *source)
{
    sgs_purchase_summary_t ps;
    double cycle, overdue;
    stage_one(ctx, i, own_cycle_days, own_source, stage, &cycle, source, &overdue, &ps);
    out->stage[i] = *stage;
    out->cycle_days[i] = cycle;
    out->days_overdue[i] = overdue;
    if (out->cycle_source)
        out->cycle_source[i] = *source;
    if (out->observed_gap_days)
        out->observed_gap_days[i] = ps.mean_gap_days;
    if (out->n_purchase_days)
        out->n_purchase_days[i] = ps.n_days;
}

/* The segments' cycles and the counts, once every customer is staged. */
static void put_summary(sgs_stage_output_t *out, const double *seg_median, int32_t n_segments,
                        double global, const int64_t *per_stage, const int64_t *per_source,
                        const sgs_stage_rules_t *rules, sgs_stage_summary_t *summary)
{
    for (size_t s = 0; s < out->n_segment_slots; s++)
        out->segment_cycle_days[s] = (int64_t)s < (int64_t)n_segments ? seg_median[s] : (double)NAN;
    if (summary) {
        memcpy(summary->n_per_stage, per_stage, sizeof summary->n_per_stage);
        memcpy(summary->n_per_cycle_source, per_source, sizeof summary->n_per_cycle_source);
        summary->n_segments = n_segments;
        summary->global_cycle_days = isfinite(global) ? global : rules->default_cycle_days;
    }
}

/* The checks of the kernel and its twin; *rules becomes `defaults` when NULL. */
static int stages_check(const sgs_stage_input_t *in, const sgs_stage_rules_t **rules,
                        sgs_stage_rules_t *defaults, const sgs_stage_output_t *out,
                        sgs_error_t *err)
{
    if (!*rules) {
        sgs_stage_rules_default(defaults);
        *rules = defaults;
    }
    int rc = sgs_stage_rules_check(*rules, err);
    if (rc)
        return rc;
    if (!in || !out || !out->stage || !out->cycle_days || !out->days_overdue ||
        (in->n > 0 && (!in->customer_id || !in->purchase_offset || !in->purchase_day)) ||
        (in->event_offset && (!in->event_day || !in->event_kind)) ||
        (out->n_segment_slots > 0 && !out->segment_cycle_days))
        return sgs_error_set(err, SGS_EINVAL, "stages: a required array is NULL");
    if (in->n > (size_t)INT32_MAX)
        return sgs_error_set(err, SGS_EINVAL, "stages: %zu customers exceed the int32 range",
                             in->n);
    return SGS_OK;
}

int sgs_stages_own_cycles(const sgs_stage_input_t *in, int32_t as_of_day,
                          const sgs_stage_rules_t *rules, int64_t n_all, const sgs_exec_t *exec,
                          double *own_cycle_days, uint8_t *own_source, double *median_value,
                          int32_t *max_label, sgs_error_t *err)
{
    sgs_stage_rules_t defaults;
    if (!rules) {
        sgs_stage_rules_default(&defaults);
        rules = &defaults;
    }
    size_t n = in->n;
    long nl = (long)n;
    int n_threads = sgs_exec_threads_for(exec, n);
    long first_bad = nl; /* smallest index with bad rows or a bad label */
    int32_t top = -1;
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(min                     \
                                                                           : first_bad)            \
    reduction(max                                                                                  \
              : top)
    for (long il = 0; il < nl; il++) {
        size_t i = (size_t)il;
        if (!rows_sorted(in->purchase_offset, in->purchase_day, i) ||
            (in->event_offset && !rows_sorted(in->event_offset, in->event_day, i)) ||
            (in->segment && (int64_t)in->segment[i] >= n_all)) {
            if (il < first_bad)
                first_bad = il;
            continue;
        }
        sgs_purchase_summary_t ps;
        sgs_purchase_summary(in, i, as_of_day, &ps);
        uint8_t src = SGS_CYCLE_DEFAULT;
        double own = own_cycle(in, i, &ps, rules, &src);
        own_cycle_days[i] = own;
        own_source[i] = src;
        median_value[i] = ps.n_days >= rules->segment_min_purchases ? own : (double)NAN;
        if (in->segment && in->segment[i] > top)
            top = in->segment[i];
    }
    *max_label = top;
    if (first_bad < nl) {
        size_t i = (size_t)first_bad;
        if (in->segment && (int64_t)in->segment[i] >= n_all)
            return sgs_error_set(err, SGS_EDATA,
                                 "customer_id %lld: segment label %d is not below the customer "
                                 "count %lld",
                                 (long long)in->customer_id[i], (int)in->segment[i],
                                 (long long)n_all);
        return sgs_error_set(err, SGS_EDATA,
                             "customer_id %lld: purchase or event rows are not sorted by day "
                             "(or offsets decrease)",
                             (long long)in->customer_id[i]);
    }
    return SGS_OK;
}

void sgs_stages_given_medians(const sgs_stage_input_t *in, int32_t as_of_day,
                              const sgs_stage_rules_t *rules, const double *segment_median,
                              int32_t n_segments, double global_median, const uint8_t *own_source,
                              const sgs_exec_t *exec, sgs_stage_output_t *out,
                              sgs_stage_summary_t *summary)
{
    sgs_stage_rules_t defaults;
    if (!rules) {
        sgs_stage_rules_default(&defaults);
        rules = &defaults;
    }
    long nl = (long)in->n;
    int n_threads = sgs_exec_threads_for(exec, in->n);
    stage_ctx_t ctx = {in, rules, as_of_day, segment_median, global_median};
    int64_t per_stage[SGS_STAGE_COUNT] = {0};
    int64_t per_source[SGS_CYCLE_SOURCE_COUNT] = {0};
#pragma omp parallel for num_threads(n_threads) schedule(static)                              \
    reduction(+ : per_stage[:SGS_STAGE_COUNT], per_source[:SGS_CYCLE_SOURCE_COUNT])
    for (long il = 0; il < nl; il++) {
        size_t i = (size_t)il;
        uint8_t stage, source;
        stage_and_outputs(&ctx, i, out->cycle_days[i], own_source[i], out, &stage, &source);
        per_stage[stage]++;
        per_source[source]++;
    }
    put_summary(out, segment_median, n_segments, global_median, per_stage, per_source, rules,
                summary);
}

int sgs_stages_check(const sgs_stage_input_t *in, const sgs_stage_rules_t *rules,
                     const sgs_stage_output_t *out, sgs_error_t *err)
{
    sgs_stage_rules_t defaults;
    return stages_check(in, &rules, &defaults, out, err);
}

int sgs_stages_compute(const sgs_stage_input_t *in, int32_t as_of_day,
                       const sgs_stage_rules_t *rules, const sgs_exec_t *exec,
                       sgs_stage_output_t *out, sgs_stage_summary_t *summary, sgs_error_t *err)
{
    sgs_stage_rules_t defaults;
    int rc = stages_check(in, &rules, &defaults, out, err);
    if (rc)
        return rc;
    size_t n = in->n;
    double *seg_value = NULL;   /* own cycle of customers that count for the medians */
    uint8_t *own_source = NULL; /* source of the own cycle */
    double *seg_median = NULL;
    double global = (double)NAN;

    seg_value = sgs_alloc_array(n, sizeof *seg_value);
    own_source = sgs_alloc_array(n, sizeof *own_source);
    if (!seg_value || !own_source) {
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: out of memory for %zu customers", n);
        goto cleanup;
    }

    /* Pass 1: validate rows, own cycle (kept in out->cycle_days), median candidates. */
    int32_t max_label = -1;
    rc = sgs_stages_own_cycles(in, as_of_day, rules, (int64_t)n, exec, out->cycle_days, own_source,
                               seg_value, &max_label, err);
    if (rc)
        goto cleanup;

    /* Medians of the own cycles per segment and overall. */
    int32_t n_segments = max_label + 1;
    seg_median = sgs_alloc_array((size_t)n_segments, sizeof *seg_median);
    if (!seg_median) {
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: out of memory for %d segments",
                           (int)n_segments);
        goto cleanup;
    }
    rc = sgs_group_medians(n, seg_value, in->segment, n_segments, seg_median, &global, exec, err);
    if (rc)
        goto cleanup;

    /* Pass 2: cycle and stage. */
    sgs_stages_given_medians(in, as_of_day, rules, seg_median, n_segments, global, own_source, exec,
                             out, summary);

cleanup:
    sgs_free(seg_value);
    sgs_free(own_source);
    sgs_free(seg_median);
    return rc;
}

/* ---- Serial reference twin --------------------------------------------------------- */

int sgs_stages_compute_ref(const sgs_stage_input_t *in, int32_t as_of_day,
                           const sgs_stage_rules_t *rules, sgs_stage_output_t *out,
                           sgs_stage_summary_t *summary, sgs_error_t *err)
{
    sgs_stage_rules_t defaults;
    int rc = stages_check(in, &rules, &defaults, out, err);
    if (rc)
        return rc;
    size_t n = in->n;
    /* the first customer in index order with bad rows or a bad label */
    for (size_t i = 0; i < n; i++) {
        if (in->segment && (int64_t)in->segment[i] >= (int64_t)n)
            return sgs_error_set(err, SGS_EDATA,
                                 "customer_id %lld: segment label %d is not below the customer "
                                 "count %zu",
                                 (long long)in->customer_id[i], (int)in->segment[i], n);
        if (!rows_sorted(in->purchase_offset, in->purchase_day, i) ||
            (in->event_offset && !rows_sorted(in->event_offset, in->event_day, i)))
            return sgs_error_set(err, SGS_EDATA,
                                 "customer_id %lld: purchase or event rows are not sorted by day "
                                 "(or offsets decrease)",
                                 (long long)in->customer_id[i]);
    }
    double *own = sgs_alloc_array(n, sizeof *own);
    double *seg_value = sgs_alloc_array(n, sizeof *seg_value);
    uint8_t *own_source = sgs_alloc_array(n, sizeof *own_source);
    double *seg_median = NULL;
    double global = (double)NAN;
    int32_t max_label = -1;
    if (!own || !seg_value || !own_source) {
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: out of memory for %zu customers", n);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        sgs_purchase_summary_t ps;
        sgs_purchase_summary(in, i, as_of_day, &ps);
        own_source[i] = SGS_CYCLE_DEFAULT;
        own[i] = own_cycle(in, i, &ps, rules, &own_source[i]);
        seg_value[i] = ps.n_days >= rules->segment_min_purchases ? own[i] : (double)NAN;
        if (in->segment && in->segment[i] > max_label)
            max_label = in->segment[i];
    }
    int32_t n_segments = max_label + 1;
    seg_median = sgs_alloc_array((size_t)n_segments, sizeof *seg_median);
    if (!seg_median) {
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: out of memory for %d segments",
                           (int)n_segments);
        goto cleanup;
    }
    rc = sgs_group_medians_ref(n, seg_value, in->segment, n_segments, seg_median, &global, err);
    if (rc)
        goto cleanup;
    stage_ctx_t ctx = {in, rules, as_of_day, seg_median, global};
    int64_t per_stage[SGS_STAGE_COUNT] = {0};
    int64_t per_source[SGS_CYCLE_SOURCE_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t stage, source;
        stage_and_outputs(&ctx, i, own[i], own_source[i], out, &stage, &source);
        per_stage[stage]++;
        per_source[source]++;
    }
    put_summary(out, seg_median, n_segments, global, per_stage, per_source, rules, summary);

cleanup:
    sgs_free(own);
    sgs_free(seg_value);
    sgs_free(own_source);
    sgs_free(seg_median);
    return rc;
}

/* ---- Transitions and time in stage ------------------------------------------------ */

int sgs_stage_transitions(size_t n, const uint8_t *stage_before, const uint8_t *stage_after,
                          const sgs_exec_t *exec, int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT],
                          sgs_error_t *err)
{
    enum { CELLS = SGS_STAGE_COUNT * SGS_STAGE_COUNT };
    int64_t c[CELLS] = {0};
    long nl = (long)n, first_bad = nl;
    int n_threads = sgs_exec_threads_for(exec, n);
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(+ : c[:CELLS])    \
    reduction(min : first_bad)
    for (long i = 0; i < nl; i++) {
        uint8_t a = stage_before[i], b = stage_after[i];
        if (a >= SGS_STAGE_COUNT || b >= SGS_STAGE_COUNT) {
            if (i < first_bad)
                first_bad = i;
            continue;
        }
        c[a * SGS_STAGE_COUNT + b]++;
    }
    if (first_bad < nl)
        return sgs_error_set(err, SGS_EDATA, "stage transitions: row %ld has stage code %d/%d",
                             first_bad, (int)stage_before[first_bad], (int)stage_after[first_bad]);
    memcpy(counts, c, sizeof c);
    return SGS_OK;
}

int sgs_stage_transitions_ref(size_t n, const uint8_t *stage_before, const uint8_t *stage_after,
                              int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT], sgs_error_t *err)
{
    int64_t c[SGS_STAGE_COUNT * SGS_STAGE_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        if (stage_before[i] >= SGS_STAGE_COUNT || stage_after[i] >= SGS_STAGE_COUNT)
            return sgs_error_set(err, SGS_EDATA, "stage transitions: row %ld has stage code %d/%d",
                                 (long)i, (int)stage_before[i], (int)stage_after[i]);
        c[stage_before[i] * SGS_STAGE_COUNT + stage_after[i]]++;
    }
    memcpy(counts, c, sizeof c);
    return SGS_OK;
}

int sgs_stage_mean_days(const int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT],
                        int32_t interval_days, double mean_days[SGS_STAGE_COUNT], sgs_error_t *err)
{
    if (interval_days <= 0)
        return sgs_error_set(err, SGS_EINVAL, "time in stage: interval of %d days is not > 0",
                             (int)interval_days);
    for (int s = 0; s < SGS_STAGE_COUNT; s++) {
        int64_t before = 0, after = 0, exits = 0, entries = 0;
        for (int t = 0; t < SGS_STAGE_COUNT; t++) {
            before += counts[s * SGS_STAGE_COUNT + t];
            after += counts[t * SGS_STAGE_COUNT + s];
            if (t != s) {
                exits += counts[s * SGS_STAGE_COUNT + t];
                entries += counts[t * SGS_STAGE_COUNT + s];
            }
        }
        if (before + after == 0)
            mean_days[s] = (double)NAN;
        else if (exits + entries == 0)
            mean_days[s] = INFINITY;
        else /* W = L / lambda = ((before+after)/2) / ((exits+entries)/2/interval) */
            mean_days[s] =
                (double)interval_days * (double)(before + after) / (double)(exits + entries);
    }
    return SGS_OK;
}
