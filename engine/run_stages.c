/*
 * engine/run_stages.c — the second part of the actions step (engine/run_actions.c): the
 * lifecycle stage of every customer of the combined index at the as-of day, checked on the
 * backtest's calibration end, at --compare-as-of with the transitions and the mean time in
 * stage, and the referral forest and network value (kernels/stages.h, kernels/influence.h,
 * kernels/stage_columns.h).
 */
#include "engine/run_actions.h"

#include "engine/dist_actions.h"
#include "engine/dist_run.h"
#include "kernels/dates.h"
#include "kernels/stage_columns.h"

#include <stdio.h>

/* ---- Stages and influence ---------------------------------------------------------------- */

/* The stages of in at day: the kernel's on one process; in a spread run each process's
 * customers' from the medians over every process (engine/dist_actions.h), collective. */
static int stages_compute(const sgs_run_state_t *st, const sgs_run_actions_t *A,
                          const sgs_stage_input_t *in, int32_t day, sgs_stage_output_t *out,
                          sgs_stage_summary_t *summary, sgs_error_t *err)
{
    return st->dist.size > 1 ? sgs_dist_stages_compute(&st->dist, in, day, &A->rules, &st->exec,
                                                       out, summary, err)
                             : sgs_stages_compute(in, day, &A->rules, &st->exec, out, summary, err);
}

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
    if (st->value.ran)
        rc = sgs__run_actions_model_columns_at(
            st, A, A->compare_day, st->value.model, st->value.model_fit.params,
            st->value.p_buy_calibrated ? &st->value.backtest.calibration : NULL, &p_buy, &rate,
            err);
    if (rc == SGS_OK && alloc_stage_columns(n, &A->stage_compare, &cycle, &overdue) != SGS_OK)
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    sgs_stage_input_t then = A->input;
    then.p_buy = p_buy;
    then.rate_per_day = rate;
    sgs_stage_output_t out = {A->stage_compare, cycle, overdue, NULL, NULL, NULL, NULL, 0};
    rc = stages_compute(st, A, &then, A->compare_day, &out, &A->compare_summary, err);
    const int32_t interval = st->read.as_of_day - A->compare_day;
    if (rc == SGS_OK && st->dist.size > 1)
        rc = sgs_dist_stage_transitions(&st->dist, n, A->stage_compare, A->stage, interval,
                                        &st->exec, A->transitions, A->mean_days_in_stage, err);
    else if (rc == SGS_OK)
        rc = sgs_stage_transitions(n, A->stage_compare, A->stage, &st->exec, A->transitions, err);
    if (rc == SGS_OK && st->dist.size == 1)
        rc = sgs_stage_mean_days(A->transitions, interval, A->mean_days_in_stage, err);
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
    int rc = SGS_OK;
    if (!A->n_direct || !A->n_indirect || !A->referrer_index || !A->network_value || !A->depth ||
        !A->referral_status)
        rc = sgs_error_set(err, SGS_ENOMEM, "influence: no memory for %zu customers", n);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        return rc;
    sgs_influence_output_t out = {A->n_direct,       A->n_indirect, A->network_value,
                                  A->referrer_index, A->depth,      A->referral_status};
    /* spread: the referrer's index is its index in the whole combined index, as one process's */
    rc = st->dist.size > 1
             ? sgs_dist_influence_compute(&st->dist, n, A->customer_id, A->referrer_id, A->clv,
                                          &A->infl_cfg, &st->exec, &out, &A->influence, err)
             : sgs_influence_compute(n, A->customer_id, A->referrer_id, A->clv, &A->infl_cfg,
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
    const sgs_backtest_t *bt = &st->value.backtest;
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
    sgs_backtest_t *bt = &st->value.backtest;
    if (!bt->ran || bt->used < 0 || !bt->p_buy_at_end)
        return SGS_OK;
    size_t n = A->n;
    const int32_t end = bt->calibration_end_day;
    double *p_buy = sgs_alloc_array(n ? n : 1, sizeof *p_buy);
    double *rate = sgs_alloc_array(n ? n : 1, sizeof *rate);
    double *cycle = NULL, *overdue = NULL;
    uint8_t *stage = NULL;
    int rc = SGS_OK;
    if (!p_buy || !rate || alloc_stage_columns(n, &stage, &cycle, &overdue) != SGS_OK)
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    /* the p_buy the backtest gave the buyers (each process its own: engine/run_backtest.c),
     * the rate while buying of its fit */
    sgs_stage_model_t m = {bt->models[bt->used].model, bt->models[bt->used].params,
                           st->days_per_unit, st->value.horizon, NULL};
    if (rc == SGS_OK)
        rc = sgs_gather_rows(n, A->buyer_row, bt->p_buy_at_end, &st->exec, p_buy, err);
    if (rc == SGS_OK)
        rc = sgs_stage_model_at(&A->input, end, &m, &st->exec, NULL, rate, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    sgs_stage_input_t then = A->input;
    then.p_buy = p_buy;
    then.p_buy_model = NULL;
    then.rate_per_day = rate;
    then.segment = NULL;
    sgs_stage_output_t out = {stage, cycle, overdue, NULL, NULL, NULL, NULL, 0};
    rc = stages_compute(st, A, &then, end, &out, NULL, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "stages at the backtest's calibration end");
        goto cleanup;
    }
    rc = st->dist.size > 1
             ? sgs_dist_stage_came_back(&st->dist, &A->input, stage, p_buy, end, st->read.as_of_day,
                                        bt->stage_customers, bt->stage_bought, err)
             : sgs_stage_came_back(&A->input, stage, p_buy, end, st->read.as_of_day, &st->exec,
                                   bt->stage_customers, bt->stage_bought, err);
    if (rc != SGS_OK)
        goto cleanup;
    bt->stages_ran = 1;
    warn_unless_ordered(st);
cleanup:
    /* read here only: the rest of the run is lighter without it (80 MB at 10M buyers) */
    sgs_free(bt->p_buy_at_end);
    bt->p_buy_at_end = NULL;
    sgs_free(p_buy);
    sgs_free(rate);
    sgs_free(stage);
    sgs_free(cycle);
    sgs_free(overdue);
    return rc;
}

int sgs__run_actions_stages(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "stages");
    size_t n = A->n, m = n ? n : 1;
    int rc = alloc_stage_columns(n, &A->stage, &A->cycle_days, &A->days_overdue);
    A->cycle_source = sgs_alloc_array(m, 1);
    A->observed_gap_days = sgs_alloc_array(m, sizeof(double));
    A->n_purchase_days = sgs_alloc_array(m, sizeof(int32_t));
    if (rc != SGS_OK || !A->cycle_source || !A->observed_gap_days || !A->n_purchase_days)
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        return rc;
    sgs_stage_output_t out = {A->stage,
                              A->cycle_days,
                              A->days_overdue,
                              A->cycle_source,
                              A->observed_gap_days,
                              A->n_purchase_days,
                              NULL,
                              0};
    rc = stages_compute(st, A, &A->input, st->read.as_of_day, &out, &A->stage_summary, err);
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
        if (day >= st->read.as_of_day)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "--compare-as-of %s is not before the as-of date %s", compare,
                                 st->read.as_of_text);
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
