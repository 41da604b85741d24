/*
 * engine/run_actions.c — acting on it: the lifecycle stage of every known customer, the
 * chain of influence, and the ranked list of opportunities (whom to contact today, why,
 * through which channel, what is at stake). The formulas are the kernels' (kernels/stages.h,
 * kernels/influence.h, kernels/opportunities.h); the step reads the optional /events and
 * /customers groups, builds the kernels' view over the combined customer index
 * (engine/run_actions.h explains it), and calls them in order, one file each:
 *
 *   events     read /events and /customers; the combined index; purchases and events
 *              grouped by customer (engine/run_events.c)
 *   stages     stages at the as-of day (and at --compare-as-of with the transitions and
 *              the mean time in stage); referral forest and network value
 *              (engine/run_stages.c)
 *   act        triggers, one row per customer (or all), ranked, cut to channel capacity
 *              (engine/run_opportunities.c)
 *
 * The configuration keys become the kernels' rule tables in engine/run_actions_config.c.
 *
 * Model columns: p_buy (calibrated, engine/run_value.c), the model's own P(buy) and CLV are
 * the value step's. The purchase rate behind a customer's own cycle is the rate while buying
 * (kernels/stage_columns.h: the posterior mean of lambda given the purchases up to the last
 * one). At the compare day and at the backtest's calibration end the same formulas are
 * applied to the history as it was then, so every day is staged by the same rules. The
 * columns are computed by kernels/stage_columns.h; these files map the customers and order
 * the steps.
 *
 * Determinism: the index is a merge of sorted id lists; purchases and events are grouped
 * with the stable grouping kernel; every kernel is thread-count independent.
 */
#include "engine/run_actions.h"

#include "engine/dist_actions.h"
#include "engine/dist_run.h"
#include "engine/interrupt.h"

#include <stdlib.h>

/* ---- The step ---------------------------------------------------------------------------- */

int sgs_run_actions(sgs_run_state_t *st, sgs_error_t *err)
{
    sgs_run_actions_t *A = calloc(1, sizeof *A);
    if (!A)
        return sgs_error_set(err, SGS_ENOMEM, "no memory for the stage step");
    st->actions = A;
    int rc = sgs_actions_kernel_config(st->req->config, &A->rules, &A->opp_cfg, &A->infl_cfg, err);
    if (rc == SGS_OK)
        rc = sgs__run_actions_learn(st, A, err);
    if (rc == SGS_OK)
        rc = sgs__run_actions_events(st, A, err);
    if (rc == SGS_OK)
        rc = sgs__run_actions_stages(st, A, err);
    /* results.h5's stages go to disk while the opportunity step computes */
    if (rc == SGS_OK)
        rc = sgs_run_publish_stages(st, err);
    if (rc == SGS_OK)
        rc = sgs_interrupt_checkpoint("opportunities", "before the opportunities step", err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK)
        rc = sgs__run_actions_opportunities(st, A, err);
    return rc;
}

void sgs_run_actions_free(sgs_run_actions_t *A)
{
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
                     A->event_channel,
                     A->p_buy,
                     A->p_buy_model,
                     A->rate_per_day,
                     A->clv,
                     A->preferred_channel,
                     A->main_channel,
                     A->segment,
                     A->rfm_segment,
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
                     A->blocked_channels,
                     A->rows.customer_index,
                     A->rows.kind,
                     A->rows.priority,
                     A->rows.value_at_stake,
                     A->rows.channel,
                     A->rows.rank,
                     A->rows.control};
    for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++)
        sgs_free(owned[k]);
    sgs_sparse_values_free(&A->event_values);
    sgs_opportunity_stats_free(&A->opp_stats);
    sgs_dist_actions_list_free(A->dist_list);
    sgs_free(A->dist_list);
    free(A);
}
