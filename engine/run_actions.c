/*
 * engine/run_actions.c — acting on it: the lifecycle stage of every known customer, the
 * chain of influence, and the ranked list of opportunities (whom to contact today, why,
 * through which channel, what is at stake). The formulas are the kernels' (kernels/stages.h,
 * kernels/influence.h, kernels/opportunities.h); this file reads the optional /events and
 * /customers groups, builds the kernels' view over the combined customer index
 * (engine/run_actions.h explains it), and calls them in order:
 *
 *   events     read /events and /customers; the combined index; purchases and events
 *              grouped by customer
 *   stages     stages at the as-of day (and at --compare-as-of with the transitions and
 *              the mean time in stage); referral forest and network value
 *   act        triggers, one row per customer (or all), ranked, cut to channel capacity
 *
 * Model columns: p_buy (calibrated, engine/run_value.c), the model's own P(buy) and CLV are
 * the value step's. The purchase rate behind a customer's own cycle is the rate while buying
 * (kernels/stage_columns.h: the posterior mean of lambda given the purchases up to the last
 * one). At the compare day and at the backtest's calibration end the same formulas are
 * applied to the history as it was then, so every day is staged by the same rules. The
 * columns are computed by kernels/stage_columns.h; this file maps the customers and orders
 * the steps.
 *
 * Determinism: the index is a merge of sorted id lists; purchases and events are grouped
 * with the stable grouping kernel; every kernel is thread-count independent.
 */
#include "engine/run_actions.h"

#include "kernels/dates.h"

#include "kernels/base_totals.h"
#include "kernels/clv.h"
#include "kernels/group.h"
#include "kernels/stage_columns.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Configuration ---------------------------------------------------------------------- */

static int channel_code(const char *name, size_t len)
{
    for (int c = 1; c < SGS_CHANNEL_COUNT; c++) {
        const char *known = sgs_channel_name(c);
        if (strlen(known) == len && strncmp(known, name, len) == 0)
            return c;
    }
    return 0;
}

int sgs_actions_parse_channels(const char *text, uint8_t out[SGS_CHANNEL_COUNT], sgs_error_t *err)
{
    memset(out, 0, SGS_CHANNEL_COUNT);
    size_t n = 0;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        int code = channel_code(p, len);
        if (!code)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "config actions.spill_order: \"%.*s\" is not a channel (store, "
                                 "web, app, phone, email, sms, mail)",
                                 (int)len, p);
        for (size_t k = 0; k < n; k++)
            if (out[k] == code)
                return sgs_error_set(err, SGS_ECONFIG,
                                     "config actions.spill_order: %s is listed twice",
                                     sgs_channel_name(code));
        out[n++] = (uint8_t)code;
        if (!end)
            break;
        p = end + 1;
    }
    return SGS_OK;
}

int sgs_actions_kernel_config(const sgs_config_t *cfg, sgs_stage_rules_t *rules,
                              sgs_opportunity_config_t *opp, sgs_influence_config_t *influence,
                              sgs_error_t *err)
{
    const sgs_actions_config_t *a = &cfg->actions;
    sgs_stage_rules_t r;
    sgs_stage_rules_default(&r);
    r.min_purchases_own_cycle = a->min_purchases_own_cycle;
    r.segment_min_purchases = a->segment_min_purchases;
    r.default_cycle_days = a->default_cycle_days;
    r.new_cycles = a->new_cycles;
    r.at_risk_overdue_cycles = a->at_risk_overdue_cycles;
    r.at_risk_p_buy = a->at_risk_p_buy;
    r.lapsed_overdue_cycles = a->lapsed_overdue_cycles;
    r.lapsed_p_buy = a->lapsed_p_buy;
    r.reactivated_cycles = a->reactivated_cycles;
    r.loyal_rate_multiple = a->loyal_rate_multiple;
    r.loyal_min_purchases = a->loyal_min_purchases;
    int rc = sgs_stage_rules_check(&r, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "config stages.*");
        return rc;
    }

    sgs_opportunity_config_t o;
    sgs_opportunity_config_default(&o);
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        o.enabled[k] = a->enabled[k] != 0;
        o.priority[k] = a->priority[k];
    }
    o.service_min_contacts = a->service_min_contacts;
    o.service_window_days = a->service_window_days;
    o.service_risk = a->service_risk;
    o.renewal_grace_days = a->renewal_grace_days;
    o.renewal_early_days = a->renewal_early_days;
    o.renewal_lookback_days = a->renewal_lookback_days;
    o.renewal_risk = a->renewal_risk;
    o.win_back_recent_days = a->win_back_recent_days;
    o.save_clv_quantile = a->save_clv_quantile;
    o.save_min_clv = a->save_min_clv;
    o.overdue_margin_cycles = a->overdue_margin_cycles;
    o.overdue_min_p_buy = a->overdue_min_p_buy;
    o.detractor_max_score = a->detractor_max_score;
    o.detractor_window_days = a->detractor_window_days;
    o.detractor_risk = a->detractor_risk;
    o.grow_ratio = a->grow_ratio;
    o.advocate_min_referrals = a->advocate_min_referrals;
    o.advocate_value_quantile = a->advocate_value_quantile;
    o.advocate_min_value = a->advocate_min_value;
    o.unknown_p_buy_risk = a->unknown_p_buy_risk;
    o.all_opportunities = a->all_opportunities != 0;
    for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++)
        o.channel_capacity[ch] = a->capacity[ch];
    rc = sgs_actions_parse_channels(a->spill_order, o.spill_order, err);
    if (rc != SGS_OK)
        return rc;
    o.fallback_channel = (uint8_t)channel_code(a->fallback_channel, strlen(a->fallback_channel));
    rc = sgs_opportunity_config_check(&o, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "config actions.*");
        return rc;
    }

    sgs_influence_config_t infl;
    sgs_influence_config_default(&infl);
    infl.damping = a->damping;
    if (rules)
        *rules = r;
    if (opp)
        *opp = o;
    if (influence)
        *influence = infl;
    return SGS_OK;
}

int sgs_config_validate_actions(const sgs_config_t *cfg, sgs_error_t *err)
{
    int rc = sgs_actions_kernel_config(cfg, NULL, NULL, NULL, err);
    if (rc == SGS_OK && cfg->actions.compare_as_of[0] && cfg->as_of[0] &&
        strcmp(cfg->actions.compare_as_of, cfg->as_of) >= 0) /* YYYY-MM-DD sorts as text */
        rc = sgs_error_set(err, SGS_ECONFIG,
                           "config stages.compare_as_of (%s) must be before as_of (%s)",
                           cfg->actions.compare_as_of, cfg->as_of);
    return rc;
}

/* ---- Reading the optional groups and grouping events ------------------------------------ */

/* Events grouped by their own distinct customers (the grouping kernel, with the event
 * value in the amount column and the kind in the channel column). */
typedef struct event_groups {
    sgs_grouped_t g; /* n_customers 0 when there are no events */
} event_groups_t;

static int read_and_group_events(sgs_run_state_t *st, sgs_run_actions_t *A,
                                 const sgs_read_options_t *opt, event_groups_t *eg,
                                 sgs_error_t *err)
{
    sgs_events_t ev = {0};
    sgs_read_stats_t stats = {0};
    int rc = sgs_h5_read_events(st->req->input_path, opt, &ev, &A->events_present, &stats, err);
    if (rc != SGS_OK)
        return rc;
    A->n_event_rows = ev.n_rows;
    A->n_event_rows_after = stats.n_rows_after_as_of;
    if (ev.n_rows == 0) {
        sgs_events_free(&ev);
        return SGS_OK;
    }
    uint32_t *row_customer = sgs_alloc_array(ev.n_rows, sizeof *row_customer);
    if (!ev.value) { /* the value column is optional: NaN where absent */
        ev.value = sgs_alloc_array(ev.n_rows, sizeof *ev.value);
        if (ev.value)
            for (size_t i = 0; i < ev.n_rows; i++)
                ev.value[i] = NAN;
    }
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if (!row_customer || !ev.value) {
        sgs_free(row_customer);
        rc = sgs_error_set(err, SGS_ENOMEM, "events: no memory for %zu rows", ev.n_rows);
        goto cleanup;
    }
    rc = sgs_customer_index_build(&st->exec, ev.customer_id, ev.n_rows, row_customer, &ids, &n_ids,
                                  err);
    if (rc != SGS_OK) {
        sgs_free(row_customer);
        goto cleanup;
    }
    sgs_row_columns_t rows = {ev.n_rows, row_customer, ev.time_s,
                              ev.value,  ev.kind,      ev.customer_id};
    ev.time_s = NULL;
    ev.value = NULL;
    ev.kind = NULL;
    ev.customer_id = NULL;
    int sorted = 0;
    rc = sgs_group_rows(&st->exec, &rows, SGS_ORDER_UNKNOWN, ids, n_ids, &eg->g, &sorted, err);
    if (rc != SGS_OK)
        sgs_free(ids);
cleanup:
    sgs_events_free(&ev);
    if (rc != SGS_OK)
        sgs_error_prefix(err, "%s: /events", st->req->input_path);
    return rc;
}

/* ---- The combined customer index -------------------------------------------------------- */

/* Merge the sorted distinct id lists a (transactions), b (/customers) and c (/events) into
 * A->customer_id. With fill == 0 only counts; with fill == 1 also writes the maps:
 * grouped_of[u] / events_of[u] (index in a / c, or -1), b_to_u[j] (index of b[j]), and
 * A->buyer_row[u] from st->customer_id (a subset of a). */
static size_t merge_ids(const sgs_run_state_t *st, sgs_run_actions_t *A, const int64_t *b,
                        size_t nb, const int64_t *c, size_t nc, int fill, int64_t *grouped_of,
                        int64_t *events_of, int64_t *b_to_u)
{
    const int64_t *a = st->grouped.customer_id;
    size_t na = st->grouped.n_customers, ia = 0, ib = 0, ic = 0, ibuy = 0, u = 0;
    size_t only_c = 0, only_b = 0;
    while (ia < na || ib < nb || ic < nc) {
        int64_t id = 0;
        int have = 0;
        if (ia < na) {
            id = a[ia];
            have = 1;
        }
        if (ib < nb && (!have || b[ib] < id)) {
            id = b[ib];
            have = 1;
        }
        if (ic < nc && (!have || c[ic] < id))
            id = c[ic];
        int in_a = ia < na && a[ia] == id, in_b = ib < nb && b[ib] == id,
            in_c = ic < nc && c[ic] == id;
        only_c += in_c && !in_a && !in_b;
        only_b += in_b && !in_a;
        if (fill) {
            A->customer_id[u] = id;
            grouped_of[u] = in_a ? (int64_t)ia : -1;
            events_of[u] = in_c ? (int64_t)ic : -1;
            if (in_b)
                b_to_u[ib] = (int64_t)u;
            if (in_a && ibuy < st->n_customers && st->customer_id[ibuy] == id)
                A->buyer_row[u] = (int64_t)ibuy++;
            else
                A->buyer_row[u] = -1;
        }
        ia += (size_t)in_a;
        ib += (size_t)in_b;
        ic += (size_t)in_c;
        u++;
    }
    if (fill) {
        A->n_only_in_events = only_c;
        A->n_only_in_customers = only_b;
        A->n_buyers = ibuy;
    }
    return u;
}

/* Purchase occasions (kernels/summary.h) of every customer of the index, CSR
 * (kernels/stage_columns.h). */
static int build_purchases(const sgs_run_state_t *st, sgs_run_actions_t *A,
                           const int64_t *grouped_of, sgs_error_t *err)
{
    const sgs_grouped_t *g = &st->grouped;
    size_t n = A->n;
    A->purchase_offset = sgs_alloc_array(n + 1, sizeof *A->purchase_offset);
    if (!A->purchase_offset)
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    int rc = sgs_purchase_index_count(g, grouped_of, n, &st->exec, A->purchase_offset, err);
    if (rc != SGS_OK)
        return rc;
    size_t total = A->purchase_offset[n];
    A->purchase_day = sgs_alloc_array(total ? total : 1, sizeof *A->purchase_day);
    if (!A->purchase_day)
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu purchase days", total);
    return sgs_purchase_index_fill(g, grouped_of, n, A->purchase_offset, &st->exec, A->purchase_day,
                                   err);
}

/* Events of every customer of the index, CSR; takes the arrays of eg. */
static int build_events(sgs_run_actions_t *A, event_groups_t *eg, const int64_t *events_of,
                        sgs_error_t *err)
{
    size_t n = A->n;
    A->event_offset = sgs_alloc_array(n + 1, sizeof *A->event_offset);
    if (!A->event_offset)
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    A->event_offset[0] = 0;
    const size_t *off = eg->g.row_offset;
    for (size_t u = 0; u < n; u++) {
        int64_t e = events_of[u];
        A->event_offset[u + 1] =
            A->event_offset[u] + (e >= 0 ? off[(size_t)e + 1] - off[(size_t)e] : 0);
    }
    A->event_day = eg->g.day;
    A->event_value = eg->g.amount;
    A->event_kind = eg->g.channel;
    eg->g.day = NULL;
    eg->g.amount = NULL;
    eg->g.channel = NULL;
    return SGS_OK;
}

/* Columns from /customers rows (b_to_u[crow[r]] is the row's index entry). */
static int fill_customer_columns(sgs_run_actions_t *A, const sgs_customers_t *cu,
                                 const uint32_t *crow, const int64_t *b_to_u, sgs_error_t *err)
{
    size_t n = A->n;
    if (cu->signup_time_s) {
        A->signup_day = sgs_alloc_array(n, sizeof *A->signup_day);
        if (!A->signup_day)
            return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        for (size_t u = 0; u < n; u++)
            A->signup_day[u] = SGS_DAY_NONE;
        for (size_t r = 0; r < cu->n_rows; r++)
            A->signup_day[b_to_u[crow[r]]] = (int32_t)sgs_day_of(cu->signup_time_s[r]);
    }
    if (cu->preferred_channel) {
        A->preferred_channel = sgs_calloc_array(n, 1);
        if (!A->preferred_channel)
            return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        for (size_t r = 0; r < cu->n_rows; r++)
            A->preferred_channel[b_to_u[crow[r]]] = cu->preferred_channel[r];
    }
    if (cu->referrer_id) {
        A->referrer_id = sgs_alloc_array(n, sizeof *A->referrer_id);
        if (!A->referrer_id)
            return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        for (size_t u = 0; u < n; u++)
            A->referrer_id[u] = -1;
        for (size_t r = 0; r < cu->n_rows; r++)
            A->referrer_id[b_to_u[crow[r]]] = cu->referrer_id[r];
        A->referrers_present = 1;
    }
    return SGS_OK;
}

/* Whether the run has a probability of buying the stage rules can use: calibrated by the
 * backtest, or the model's own when its P(alive) is informative (engine/run_value.c). */
static int p_buy_usable(const sgs_run_state_t *st)
{
    return st->p_buy_calibrated || st->p_alive_informative;
}

/* Model columns of the buyers at the as-of day: p_buy, the model's own P(buy), CLV (the value
 * step's) and the rate while buying; NaN for customers without a purchase, and p_buy NaN
 * (unknown: the stage and opportunity rules that read it stand aside) for everyone when it
 * is neither calibrated nor backed by an informative P(alive). */
static int fill_model_columns(const sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    size_t n = A->n;
    if (!st->value_ran)
        return SGS_OK;
    A->p_buy = sgs_alloc_array(n, sizeof(double));
    A->p_buy_model = sgs_alloc_array(n, sizeof(double));
    A->rate_per_day = sgs_alloc_array(n, sizeof(double));
    A->clv = sgs_alloc_array(n, sizeof(double));
    if (!A->p_buy || !A->p_buy_model || !A->rate_per_day || !A->clv)
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    sgs_buyer_scores_t scores = {p_buy_usable(st) ? st->p_buy : NULL,
                                 st->prob_no_purchase,
                                 st->clv,
                                 st->summary.frequency,
                                 st->summary.recency_days,
                                 st->model_fit.params,
                                 st->days_per_unit};
    return sgs_stage_buyer_columns(n, A->buyer_row, &scores, &st->exec, A->p_buy, A->p_buy_model,
                                   A->clv, A->rate_per_day, err);
}

/* p_buy and the rate while buying at an earlier day, from the purchase days on or before it,
 * the given model parameters and calibration (NULL: the model's own probability). p_buy is
 * NULL (unknown for everyone, as NaN is to the stage rules) unless p_buy_usable. */
static int model_columns_at(const sgs_run_state_t *st, const sgs_run_actions_t *A, int32_t day,
                            sgs_purchase_model_t model, const double *params,
                            const sgs_isotonic_t *calibration, double **p_buy_out,
                            double **rate_out, sgs_error_t *err)
{
    size_t n = A->n;
    const int usable = p_buy_usable(st);
    double *p_buy = usable ? sgs_alloc_array(n ? n : 1, sizeof *p_buy) : NULL;
    double *rate = sgs_alloc_array(n ? n : 1, sizeof *rate);
    if ((usable && !p_buy) || !rate) {
        sgs_free(p_buy);
        sgs_free(rate);
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    }
    sgs_stage_model_t m = {model, params, st->days_per_unit, st->horizon, calibration};
    int rc = sgs_stage_model_at(&A->input, day, &m, &st->exec, p_buy, rate, err);
    if (rc != SGS_OK) {
        sgs_free(p_buy);
        sgs_free(rate);
        return rc;
    }
    *p_buy_out = p_buy;
    *rate_out = rate;
    return SGS_OK;
}

static int step_events(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "events");
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.now_s = st->req->now_s;
    opt.n_threads = st->exec.n_threads;
    /* Events after the run's as-of day (the last transaction's day without --as-of) are
     * left out and counted, like transactions. */
    opt.has_as_of = 1;
    opt.as_of_end_s = ((int64_t)st->as_of_day + 1) * SGS_SECONDS_PER_DAY;
    event_groups_t eg = {0};
    sgs_customers_t cu = {0};
    uint32_t *crow = NULL;
    int64_t *c_ids = NULL, *grouped_of = NULL, *events_of = NULL, *b_to_u = NULL;
    size_t n_c = 0;
    int rc = read_and_group_events(st, A, &opt, &eg, err);
    if (rc == SGS_OK)
        rc = sgs_h5_read_customers_opt(st->req->input_path, &opt, &cu, &A->customers_present, err);
    if (rc != SGS_OK)
        goto cleanup;
    A->n_customer_rows = cu.n_rows;
    if (cu.n_rows > 0) {
        crow = sgs_alloc_array(cu.n_rows, sizeof *crow);
        if (!crow) {
            rc = sgs_error_set(err, SGS_ENOMEM, "/customers: no memory for %zu rows", cu.n_rows);
            goto cleanup;
        }
        rc =
            sgs_customer_index_build(&st->exec, cu.customer_id, cu.n_rows, crow, &c_ids, &n_c, err);
        if (rc != SGS_OK)
            goto cleanup;
    }

    A->n = merge_ids(st, A, c_ids, n_c, eg.g.customer_id, eg.g.n_customers, 0, NULL, NULL, NULL);
    size_t n = A->n;
    A->customer_id = sgs_alloc_array(n, sizeof *A->customer_id);
    A->buyer_row = sgs_alloc_array(n, sizeof *A->buyer_row);
    grouped_of = sgs_alloc_array(n, sizeof *grouped_of);
    events_of = sgs_alloc_array(n, sizeof *events_of);
    b_to_u = sgs_alloc_array(n_c ? n_c : 1, sizeof *b_to_u);
    A->main_channel = sgs_calloc_array(n, 1);
    if (!A->customer_id || !A->buyer_row || !grouped_of || !events_of || !b_to_u ||
        !A->main_channel) {
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        goto cleanup;
    }
    merge_ids(st, A, c_ids, n_c, eg.g.customer_id, eg.g.n_customers, 1, grouped_of, events_of,
              b_to_u);
    for (size_t u = 0; u < n; u++)
        if (A->buyer_row[u] >= 0)
            A->main_channel[u] = st->summary.main_channel[A->buyer_row[u]];
    rc = build_purchases(st, A, grouped_of, err);
    if (rc == SGS_OK && eg.g.n_customers > 0)
        rc = build_events(A, &eg, events_of, err);
    if (rc == SGS_OK)
        rc = fill_customer_columns(A, &cu, crow, b_to_u, err);
    if (rc == SGS_OK)
        rc = fill_model_columns(st, A, err);
    if (rc != SGS_OK)
        goto cleanup;

    sgs_stage_input_t *in = &A->input;
    in->n = n;
    in->customer_id = A->customer_id;
    in->signup_day = A->signup_day;
    in->purchase_offset = A->purchase_offset;
    in->purchase_day = A->purchase_day;
    in->event_offset = A->event_offset; /* NULL without events */
    in->event_day = A->event_day;
    in->event_kind = A->event_kind;
    in->event_value = A->event_value;
    in->p_buy = A->p_buy;
    in->p_buy_model = A->p_buy_model;
    in->rate_per_day = A->rate_per_day;
    in->clv = A->clv;
    /* k-means segments (buyers); without them cycles fall back to the median of all
     * customers and "grow" compares with all of them. */
    if (st->segments_ran) {
        A->segment = sgs_alloc_array(n, sizeof *A->segment);
        if (!A->segment) {
            rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu segments", n);
            goto cleanup;
        }
        for (size_t u = 0; u < n; u++)
            A->segment[u] = A->buyer_row[u] >= 0 ? st->segment[A->buyer_row[u]] : -1;
    }
    in->segment = A->segment;
    in->preferred_channel = A->preferred_channel;
    in->main_channel = A->main_channel;
    sgs_progress_end(
        st->req->progress,
        "%zu customers (%zu without a purchase), %zu event rows%s, %zu customer rows%s", n,
        n - A->n_buyers, A->n_event_rows, A->events_present ? "" : " (no /events)",
        A->n_customer_rows, A->customers_present ? "" : " (no /customers)");
cleanup:
    sgs_grouped_free(&eg.g);
    sgs_customers_free(&cu);
    sgs_free(crow);
    sgs_free(c_ids);
    sgs_free(grouped_of);
    sgs_free(events_of);
    sgs_free(b_to_u);
    return rc;
}

/* ---- Stages and influence ---------------------------------------------------------------- */

static int alloc_stage_columns(size_t n, uint8_t **stage, double **cycle, double **overdue)
{
    *stage = sgs_alloc_array(n ? n : 1, 1);
    *cycle = sgs_alloc_array(n ? n : 1, sizeof(double));
    *overdue = sgs_alloc_array(n ? n : 1, sizeof(double));
    return *stage && *cycle && *overdue ? SGS_OK : SGS_ENOMEM;
}

static int stages_at_compare_day(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    size_t n = A->n;
    double *p_buy = NULL, *rate = NULL, *cycle = NULL, *overdue = NULL;
    int rc = SGS_OK;
    if (st->value_ran)
        rc = model_columns_at(st, A, A->compare_day, st->model, st->model_fit.params,
                              st->p_buy_calibrated ? &st->backtest.calibration : NULL, &p_buy,
                              &rate, err);
    if (rc != SGS_OK)
        return rc;
    if (alloc_stage_columns(n, &A->stage_compare, &cycle, &overdue) != SGS_OK) {
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        goto cleanup;
    }
    sgs_stage_input_t then = A->input;
    then.p_buy = p_buy;
    then.rate_per_day = rate;
    sgs_stage_output_t out = {A->stage_compare, cycle, overdue, NULL, NULL, NULL, NULL, 0};
    rc = sgs_stages_compute(&then, A->compare_day, &A->rules, &st->exec, &out, &A->compare_summary,
                            err);
    if (rc == SGS_OK)
        rc = sgs_stage_transitions(n, A->stage_compare, A->stage, &st->exec, A->transitions, err);
    if (rc == SGS_OK)
        rc = sgs_stage_mean_days(A->transitions, st->as_of_day - A->compare_day,
                                 A->mean_days_in_stage, err);
cleanup:
    sgs_free(p_buy);
    sgs_free(rate);
    sgs_free(cycle);
    sgs_free(overdue);
    if (rc != SGS_OK)
        sgs_error_prefix(err, "stages at %s", A->compare_text);
    return rc;
}

static int run_influence(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    size_t n = A->n, m = n ? n : 1;
    A->n_direct = sgs_alloc_array(m, sizeof(int64_t));
    A->n_indirect = sgs_alloc_array(m, sizeof(int64_t));
    A->referrer_index = sgs_alloc_array(m, sizeof(int64_t));
    A->network_value = sgs_alloc_array(m, sizeof(double));
    A->depth = sgs_alloc_array(m, sizeof(int32_t));
    A->referral_status = sgs_alloc_array(m, 1);
    if (!A->n_direct || !A->n_indirect || !A->referrer_index || !A->network_value || !A->depth ||
        !A->referral_status)
        return sgs_error_set(err, SGS_ENOMEM, "influence: no memory for %zu customers", n);
    sgs_influence_output_t out = {A->n_direct,       A->n_indirect, A->network_value,
                                  A->referrer_index, A->depth,      A->referral_status};
    int rc = sgs_influence_compute(n, A->customer_id, A->referrer_id, A->clv, &A->infl_cfg,
                                   &st->exec, &out, &A->influence, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "influence");
        return rc;
    }
    A->influence_ran = 1;
    const sgs_influence_report_t *r = &A->influence;
    if (r->n_cycles > 0) {
        char examples[160] = "";
        size_t used = 0;
        for (int k = 0; k < r->n_cycle_examples && used < sizeof examples; k++) {
            int w = snprintf(examples + used, sizeof examples - used, "%s%lld (%lld long)",
                             k ? ", " : "", (long long)r->cycle_customer_id[k],
                             (long long)r->cycle_length[k]);
            used += w > 0 ? (size_t)w : 0;
        }
        sgs_run_warn(st, "referral_cycles",
                     "/customers/referrer_id: %lld referral cycle%s (%lld customers) ignored: "
                     "customer %s refers back to itself",
                     (long long)r->n_cycles, r->n_cycles == 1 ? "" : "s", (long long)r->n_in_cycles,
                     examples);
    }
    if (r->n_unknown_referrers > 0)
        sgs_run_warn(st, "unknown_referrers",
                     "/customers/referrer_id: %lld referrers are not known customers (e.g. "
                     "customer %lld names %lld); ignored",
                     (long long)r->n_unknown_referrers, (long long)r->unknown_customer_id[0],
                     (long long)r->unknown_referrer_id[0]);
    return SGS_OK;
}

/* Stages with fewer customers than this on the backtest are not compared. */
#define STAGE_CHECK_MIN_CUSTOMERS 20

/* Warn when the backtest's shares of buyers do not order the stages as their names promise:
 * active and loyal above at_risk above lapsed. */
static void warn_unless_ordered(sgs_run_state_t *st)
{
    const sgs_backtest_t *bt = &st->backtest;
    static const int chain[][2] = {{SGS_STAGE_ACTIVE, SGS_STAGE_AT_RISK},
                                   {SGS_STAGE_LOYAL, SGS_STAGE_AT_RISK},
                                   {SGS_STAGE_AT_RISK, SGS_STAGE_LAPSED},
                                   {SGS_STAGE_ACTIVE, SGS_STAGE_LAPSED},
                                   {SGS_STAGE_LOYAL, SGS_STAGE_LAPSED}};
    for (size_t k = 0; k < sizeof chain / sizeof chain[0]; k++) {
        int hi = chain[k][0], lo = chain[k][1];
        if (bt->stage_customers[hi] < STAGE_CHECK_MIN_CUSTOMERS ||
            bt->stage_customers[lo] < STAGE_CHECK_MIN_CUSTOMERS)
            continue;
        double share_hi = (double)bt->stage_bought[hi] / (double)bt->stage_customers[hi];
        double share_lo = (double)bt->stage_bought[lo] / (double)bt->stage_customers[lo];
        if (share_hi > share_lo)
            continue;
        sgs_run_warn(st, "stages_not_ordered",
                     "on the backtest %.1f%% of the customers staged %s bought again, not more "
                     "than the %.1f%% staged %s: the stage thresholds (stages.at_risk_p_buy, "
                     "stages.lapsed_p_buy) do not separate them on this data",
                     100 * share_hi, sgs_stage_name(hi), 100 * share_lo, sgs_stage_name(lo));
        return;
    }
}

/* The stages checked on the backtest: every customer staged at the calibration end with the
 * p_buy the backtest gave them (over the run's horizon, calibrated) and the rate while buying
 * of the backtest's fit, without segments (they are the as-of date's); counted per stage
 * with those who bought in the holdout. Customers outside the backtest's cohort are not
 * counted. */
static int stages_on_backtest(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    sgs_backtest_t *bt = &st->backtest;
    if (!bt->ran || bt->used < 0 || !bt->p_buy_at_end)
        return SGS_OK;
    size_t n = A->n;
    const int32_t end = bt->calibration_end_day;
    double *p_buy = sgs_alloc_array(n ? n : 1, sizeof *p_buy);
    double *rate = sgs_alloc_array(n ? n : 1, sizeof *rate);
    double *cycle = NULL, *overdue = NULL;
    uint8_t *stage = NULL;
    int rc = SGS_OK;
    if (!p_buy || !rate || alloc_stage_columns(n, &stage, &cycle, &overdue) != SGS_OK) {
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        goto cleanup;
    }
    /* the p_buy the backtest gave the buyers, the rate while buying of its fit */
    sgs_stage_model_t m = {bt->models[bt->used].model, bt->models[bt->used].params,
                           st->days_per_unit, st->horizon, NULL};
    rc = sgs_gather_rows(n, A->buyer_row, bt->p_buy_at_end, &st->exec, p_buy, err);
    if (rc == SGS_OK)
        rc = sgs_stage_model_at(&A->input, end, &m, &st->exec, NULL, rate, err);
    if (rc != SGS_OK)
        goto cleanup;
    sgs_stage_input_t then = A->input;
    then.p_buy = p_buy;
    then.p_buy_model = NULL;
    then.rate_per_day = rate;
    then.segment = NULL;
    sgs_stage_output_t out = {stage, cycle, overdue, NULL, NULL, NULL, NULL, 0};
    rc = sgs_stages_compute(&then, end, &A->rules, &st->exec, &out, NULL, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "stages at the backtest's calibration end");
        goto cleanup;
    }
    rc = sgs_stage_came_back(&A->input, stage, p_buy, end, st->as_of_day, bt->stage_customers,
                             bt->stage_bought, err);
    if (rc != SGS_OK)
        goto cleanup;
    bt->stages_ran = 1;
    warn_unless_ordered(st);
cleanup:
    sgs_free(p_buy);
    sgs_free(rate);
    sgs_free(stage);
    sgs_free(cycle);
    sgs_free(overdue);
    return rc;
}

static int step_stages(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "stages");
    size_t n = A->n, m = n ? n : 1;
    int rc = alloc_stage_columns(n, &A->stage, &A->cycle_days, &A->days_overdue);
    A->cycle_source = sgs_alloc_array(m, 1);
    A->observed_gap_days = sgs_alloc_array(m, sizeof(double));
    A->n_purchase_days = sgs_alloc_array(m, sizeof(int32_t));
    if (rc != SGS_OK || !A->cycle_source || !A->observed_gap_days || !A->n_purchase_days)
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    sgs_stage_output_t out = {A->stage,
                              A->cycle_days,
                              A->days_overdue,
                              A->cycle_source,
                              A->observed_gap_days,
                              A->n_purchase_days,
                              NULL,
                              0};
    rc = sgs_stages_compute(&A->input, st->as_of_day, &A->rules, &st->exec, &out, &A->stage_summary,
                            err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "stages");
        return rc;
    }
    rc = stages_on_backtest(st, A, err);
    if (rc != SGS_OK)
        return rc;
    const char *compare = st->req->config->actions.compare_as_of;
    if (compare[0]) {
        int64_t day;
        if (sgs_date_parse_day(compare, &day) != SGS_OK)
            return sgs_error_set(err, SGS_ECONFIG, "stages.compare_as_of \"%s\" is not a date",
                                 compare);
        if (day >= st->as_of_day)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "--compare-as-of %s is not before the as-of date %s", compare,
                                 st->as_of_text);
        A->has_compare = 1;
        A->compare_day = (int32_t)day;
        sgs_date_format_day(day, A->compare_text, sizeof A->compare_text);
        rc = stages_at_compare_day(st, A, err);
        if (rc != SGS_OK)
            return rc;
    }
    if (A->referrer_id) {
        rc = run_influence(st, A, err);
        if (rc != SGS_OK)
            return rc;
    }
    const int64_t *k = A->stage_summary.n_per_stage;
    sgs_progress_end(st->req->progress,
                     "%lld prospects, %lld new, %lld active, %lld loyal, %lld at risk, %lld lapsed",
                     (long long)k[SGS_STAGE_PROSPECT], (long long)k[SGS_STAGE_NEW],
                     (long long)k[SGS_STAGE_ACTIVE], (long long)k[SGS_STAGE_LOYAL],
                     (long long)k[SGS_STAGE_AT_RISK], (long long)k[SGS_STAGE_LAPSED]);
    return SGS_OK;
}

/* ---- Opportunities ----------------------------------------------------------------------- */

static int step_act(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "opportunities");
    sgs_opportunity_input_t *in = &A->opp_in;
    in->customers = &A->input;
    in->as_of_day = st->as_of_day;
    in->stage = A->stage;
    in->cycle_days = A->cycle_days;
    in->days_overdue = A->days_overdue;
    in->stage_rules = &A->rules;
    in->stage_compare = A->has_compare ? A->stage_compare : NULL;
    in->compare_day = A->compare_day;
    in->n_direct_referrals = A->influence_ran ? A->n_direct : NULL;
    in->n_indirect_referrals = A->influence_ran ? A->n_indirect : NULL;
    in->network_value = A->influence_ran ? A->network_value : NULL;
    A->fired = sgs_alloc_array(A->n ? A->n : 1, sizeof *A->fired);
    if (!A->fired)
        return sgs_error_set(err, SGS_ENOMEM, "opportunities: no memory for %zu customers", A->n);
    int rc = sgs_opportunities_detect(in, &A->opp_cfg, &st->exec, A->fired, &A->opp_stats, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "opportunities");
        return rc;
    }
    size_t cap = (size_t)A->opp_stats.n_candidates, m = cap ? cap : 1;
    sgs_opportunity_rows_t *rows = &A->rows;
    rows->customer_index = sgs_alloc_array(m, sizeof(int64_t));
    rows->kind = sgs_alloc_array(m, 1);
    rows->priority = sgs_alloc_array(m, sizeof(int32_t));
    rows->value_at_stake = sgs_alloc_array(m, sizeof(double));
    rows->channel = sgs_alloc_array(m, 1);
    rows->rank = sgs_alloc_array(m, sizeof(int64_t));
    if (!rows->customer_index || !rows->kind || !rows->priority || !rows->value_at_stake ||
        !rows->channel || !rows->rank)
        return sgs_error_set(err, SGS_ENOMEM, "opportunities: no memory for %zu rows", cap);
    rc = sgs_opportunities_rank(in, &A->opp_cfg, &A->opp_stats, A->fired, &st->exec, rows, cap,
                                &A->n_rows, &A->list, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "opportunities");
        return rc;
    }
    size_t listed_per_kind[SGS_OPP_KIND_COUNT]; /* the list summary has them too */
    rc = sgs_category_totals(A->n_rows, rows->kind, SGS_OPP_KIND_COUNT, rows->value_at_stake,
                             listed_per_kind, A->value_listed_per_kind, err);
    if (rc != SGS_OK)
        return rc;
    sgs_progress_end(st->req->progress,
                     "%lld customers with an opportunity, %zu listed, %lld left out (capacity)",
                     (long long)A->opp_stats.n_customers, A->n_rows, (long long)A->list.n_left_out);
    return SGS_OK;
}

/* ---- The step ---------------------------------------------------------------------------- */

int sgs_run_actions(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_run_actions_t *A = calloc(1, sizeof *A);
    if (!A)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the stage step");
    st->actions = A;
    int rc = sgs_actions_kernel_config(st->req->config, &A->rules, &A->opp_cfg, &A->infl_cfg, err);
    if (rc == SGS_OK)
        rc = step_events(st, A, err);
    if (rc == SGS_OK)
        rc = step_stages(st, A, err);
    if (rc == SGS_OK)
        rc = step_act(st, A, err);
    return rc;
}

void sgs_run_actions_free(sgs_run_state_t *st)
{
    sgs_run_actions_t *A = st->actions;
    if (!A)
        return;
    void *owned[] = {A->customer_id,
                     A->buyer_row,
                     A->signup_day,
                     A->purchase_offset,
                     A->event_offset,
                     A->purchase_day,
                     A->event_day,
                     A->event_kind,
                     A->event_value,
                     A->p_buy,
                     A->p_buy_model,
                     A->rate_per_day,
                     A->clv,
                     A->preferred_channel,
                     A->main_channel,
                     A->segment,
                     A->referrer_id,
                     A->stage,
                     A->cycle_source,
                     A->cycle_days,
                     A->days_overdue,
                     A->observed_gap_days,
                     A->n_purchase_days,
                     A->stage_compare,
                     A->n_direct,
                     A->n_indirect,
                     A->referrer_index,
                     A->network_value,
                     A->depth,
                     A->referral_status,
                     A->fired,
                     A->rows.customer_index,
                     A->rows.kind,
                     A->rows.priority,
                     A->rows.value_at_stake,
                     A->rows.channel,
                     A->rows.rank};
    for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++)
        sgs_free(owned[k]);
    sgs_opportunity_stats_free(&A->opp_stats);
    free(A);
    st->actions = NULL;
}
