/*
 * engine/run_opportunities.c — the last part of the actions step (engine/run_actions.c):
 * triggers over the stages and the events, the audit of contact activity
 * (engine/run_audit.c), the contact policy (kernels/contact_policy.h), one row per customer
 * (or all), ranked and cut to channel capacity (kernels/opportunities.h), with the value
 * listed per kind.
 */
#include "engine/run_actions.h"

#include "engine/dist_actions.h"
#include "engine/dist_run.h"
#include "kernels/base_totals.h"

#include <string.h>

/* ---- Opportunities ----------------------------------------------------------------------- */

/* Row r of one process's list as the reports show it, its reason given. */
static sgs_run_top_row_t top_row(const sgs_opportunity_rows_t *rows, size_t r, int64_t customer_id,
                                 const char *reason, size_t reason_len)
{
    sgs_run_top_row_t t;
    memset(&t, 0, sizeof t); /* the padding too: a spread run sends it */
    t.rank = rows->rank[r];
    t.customer_id = customer_id;
    t.value_at_stake = rows->value_at_stake[r];
    t.kind = rows->kind[r];
    t.channel = rows->channel[r];
    t.control = rows->control[r];
    size_t len = reason_len < sizeof t.reason ? reason_len : sizeof t.reason - 1;
    memcpy(t.reason, reason, len);
    return t;
}

/* The first rows of one process's list with their reasons, worded from its customers. */
static void top_rows(sgs_run_actions_t *A)
{
    A->n_top = A->n_rows < SGS_RUN_TOP_ROWS ? A->n_rows : SGS_RUN_TOP_ROWS;
    for (size_t r = 0; r < A->n_top; r++) {
        size_t i = (size_t)A->rows.customer_index[r];
        char reason[SGS_OPPORTUNITY_REASON_MAX];
        int len = sgs_opportunity_reason(&A->opp_in, &A->opp_cfg, &A->opp_stats, i, A->rows.kind[r],
                                         reason, sizeof reason);
        A->top[r] = top_row(&A->rows, r, A->customer_id[i], reason, len > 0 ? strlen(reason) : 0);
    }
}

/* A spread run's first rows of the list: each process's first ones (its stretch's, with the
 * reasons its owners worded), gathered on every process in rank order, which is the list's. */
static int top_rows_spread(const sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    const sgs_dist_actions_list_t *L = A->dist_list;
    sgs_run_top_row_t mine[SGS_RUN_TOP_ROWS], *all = NULL;
    size_t n_mine = A->n_rows < SGS_RUN_TOP_ROWS ? A->n_rows : SGS_RUN_TOP_ROWS;
    for (size_t r = 0; r < n_mine; r++) {
        size_t at = L->facts.reason_offset[r];
        mine[r] = top_row(&A->rows, r, L->list.customer_id[r], L->facts.reason_text + at,
                          L->facts.reason_offset[r + 1] - at);
    }
    int64_t total = (int64_t)n_mine;
    sgs_dist_reduce_i64(&st->dist, &total, 1, SGS_DIST_SUM);
    int rc = sgs_dist_gather_all(&st->dist, mine, n_mine * sizeof *mine, (void **)&all, NULL, err);
    if (rc != SGS_OK)
        return rc;
    /* each process's first rows, all of them where it has fewer: the first of them are the
     * list's first */
    A->n_top = (size_t)total < SGS_RUN_TOP_ROWS ? (size_t)total : SGS_RUN_TOP_ROWS;
    if (A->n_top)
        memcpy(A->top, all, A->n_top * sizeof *all);
    sgs_free(all);
    return SGS_OK;
}

/* A spread run's opportunity step, the same parts in the same order over every process's
 * customers (engine/dist_actions.h sgs_dist_actions_opportunities): A->fired and
 * A->blocked_channels per customer and the audit rows, the policy's counts, the list's summary
 * and the value listed per kind the whole base's, as one process's; A->rows this process's
 * stretch of the list (global customer index and rank) with each row's facts in A->dist_list;
 * A->opp_stats detection's thresholds and, once the step is done, the whole base's counts; the
 * list's first rows in A->top on every process. Collective. */
static int opportunities_spread(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    size_t m = A->n ? A->n : 1;
    A->fired = sgs_alloc_array(m, sizeof *A->fired);
    A->blocked_channels = sgs_alloc_array(m, 1);
    A->dist_list = sgs_calloc_array(1, sizeof *A->dist_list);
    int rc =
        A->fired && A->blocked_channels && A->dist_list
            ? SGS_OK
            : sgs_error_set(err, SGS_ENOMEM, "opportunities: no memory for %zu customers", A->n);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        return rc;
    A->audit_cfg = st->req->config->actions.audit;
    sgs_dist_actions_list_t *L = A->dist_list;
    rc = sgs_dist_actions_opportunities(&st->dist, &A->opp_in, &A->opp_cfg,
                                        A->events_present ? &A->audit_cfg : NULL, &st->exec,
                                        A->fired, A->blocked_channels, L, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "opportunities");
        return rc;
    }
    A->opp_in.blocked_channels = A->blocked_channels;
    A->opp_stats = L->stats; /* taken over */
    memset(&L->stats, 0, sizeof L->stats);
    A->audit_ran = L->audit_ran;
    memcpy(A->audit_stage, L->audit_stage, sizeof A->audit_stage);
    memcpy(A->audit_rfm, L->audit_rfm, sizeof A->audit_rfm);
    memcpy(A->audit_untapped_per_kind, L->audit_untapped_per_kind,
           sizeof A->audit_untapped_per_kind);
    A->policy = L->policy;
    A->rows = L->list.rows; /* taken over */
    memset(&L->list.rows, 0, sizeof L->list.rows);
    A->n_rows = L->list.n_rows;
    A->list = L->list.summary;
    memcpy(A->value_listed_per_kind, L->value_listed_per_kind, sizeof A->value_listed_per_kind);
    /* the counts the outputs show, the whole base's as one process's: detection's before the
     * policy, the customers and candidates left after it summed (the reasons, which read the
     * thresholds only, are worded) */
    memcpy(A->opp_stats.n_fired, L->detected.n_fired, sizeof A->opp_stats.n_fired);
    int64_t left[2] = {A->opp_stats.n_customers, A->opp_stats.n_candidates};
    sgs_dist_reduce_i64(&st->dist, left, 2, SGS_DIST_SUM);
    A->opp_stats.n_customers = left[0];
    A->opp_stats.n_candidates = left[1];
    rc = top_rows_spread(st, A, err);
    if (rc != SGS_OK)
        return rc;
    sgs_progress_end(st->req->progress,
                     "%lld customers with an opportunity, %lld held back (contacted recently), "
                     "%lld listed (%lld of them control), %lld left out (capacity)",
                     (long long)A->opp_stats.n_customers + A->policy.n_held_back,
                     (long long)A->policy.n_held_back, (long long)A->list.n_listed,
                     (long long)A->list.n_control, (long long)A->list.n_left_out);
    return SGS_OK;
}

int sgs__run_actions_opportunities(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "opportunities");
    sgs_opportunity_input_t *in = &A->opp_in;
    in->customers = &A->input;
    in->as_of_day = st->read.as_of_day;
    in->stage = A->stage;
    in->cycle_days = A->cycle_days;
    in->days_overdue = A->days_overdue;
    in->stage_rules = &A->rules;
    in->stage_compare = A->has_compare ? A->stage_compare : NULL;
    in->compare_day = A->compare_day;
    in->n_direct_referrals = A->influence_ran ? A->n_direct : NULL;
    in->n_indirect_referrals = A->influence_ran ? A->n_indirect : NULL;
    in->network_value = A->influence_ran ? A->network_value : NULL;
    in->rfm_segment = A->rfm_segment;
    if (st->dist.size > 1)
        return opportunities_spread(st, A, err);
    A->fired = sgs_alloc_array(A->n ? A->n : 1, sizeof *A->fired);
    if (!A->fired)
        return sgs_error_set(err, SGS_ENOMEM, "opportunities: no memory for %zu customers", A->n);
    int rc = sgs_opportunities_detect(in, &A->opp_cfg, &st->exec, A->fired, &A->opp_stats, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "opportunities");
        return rc;
    }
    /* the audit counts what fired; the policy then holds some of it back */
    rc = sgs__run_actions_audit(st, A, err);
    if (rc != SGS_OK)
        return rc;
    A->blocked_channels = sgs_alloc_array(A->n ? A->n : 1, 1);
    if (!A->blocked_channels)
        return sgs_error_set(err, SGS_ENOMEM, "opportunities: no memory for %zu customers", A->n);
    rc = sgs_contact_policy_apply(in, &A->opp_cfg, &st->exec, A->fired, A->blocked_channels,
                                  &A->opp_stats, &A->policy, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "opportunities");
        return rc;
    }
    in->blocked_channels = A->blocked_channels;
    size_t cap = (size_t)A->opp_stats.n_candidates, m = cap ? cap : 1;
    sgs_opportunity_rows_t *rows = &A->rows;
    rows->customer_index = sgs_alloc_array(m, sizeof(int64_t));
    rows->kind = sgs_alloc_array(m, 1);
    rows->priority = sgs_alloc_array(m, sizeof(int32_t));
    rows->value_at_stake = sgs_alloc_array(m, sizeof(double));
    rows->channel = sgs_alloc_array(m, 1);
    rows->rank = sgs_alloc_array(m, sizeof(int64_t));
    rows->control = sgs_alloc_array(m, 1);
    if (!rows->customer_index || !rows->kind || !rows->priority || !rows->value_at_stake ||
        !rows->channel || !rows->rank || !rows->control)
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
    top_rows(A);
    sgs_progress_end(st->req->progress,
                     "%lld customers with an opportunity, %lld held back (contacted recently), "
                     "%zu listed (%lld of them control), %lld left out (capacity)",
                     (long long)A->opp_stats.n_customers + A->policy.n_held_back,
                     (long long)A->policy.n_held_back, A->n_rows, (long long)A->list.n_control,
                     (long long)A->list.n_left_out);
    return SGS_OK;
}
