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

/* A spread run's opportunity step, the same parts in the same order over every process's
 * customers (engine/dist_actions.h sgs_dist_actions_opportunities): A->fired and
 * A->blocked_channels per customer and the audit rows, the policy's counts, the list's summary
 * and the value listed per kind the whole base's, as one process's; A->rows this process's
 * stretch of the list (global customer index and rank) with each row's facts in A->dist_list;
 * A->opp_stats detection's thresholds and this process's counts. Collective. */
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
    size_t with = (size_t)A->opp_stats.n_customers;
    sgs_dist_run_sum_sizes(&st->dist, &with, 1);
    sgs_progress_end(st->req->progress,
                     "%zu customers with an opportunity, %lld held back (contacted recently), "
                     "%lld listed (%lld of them control), %lld left out (capacity)",
                     with + (size_t)A->policy.n_held_back, (long long)A->policy.n_held_back,
                     (long long)A->list.n_listed, (long long)A->list.n_control,
                     (long long)A->list.n_left_out);
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
    sgs_progress_end(st->req->progress,
                     "%lld customers with an opportunity, %lld held back (contacted recently), "
                     "%zu listed (%lld of them control), %lld left out (capacity)",
                     (long long)A->opp_stats.n_customers + A->policy.n_held_back,
                     (long long)A->policy.n_held_back, A->n_rows, (long long)A->list.n_control,
                     (long long)A->list.n_left_out);
    return SGS_OK;
}
