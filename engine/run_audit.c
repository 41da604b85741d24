/*
 * engine/run_audit.c — the interaction audit of a run (kernels/audit.h): contact activity
 * by lifecycle stage and by RFM segment, over the two windows of audit.*, when the input has
 * /events. Called by the opportunity step between detection and the contact policy, so that
 * "untapped" counts every opportunity that fired.
 */
#include "engine/run_actions.h"

int sgs__run_actions_audit(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    if (!A->events_present)
        return SGS_OK;
    A->audit_cfg = st->req->config->actions.audit;
    /* by stage and by RFM segment, in one pass over the events */
    int rc = sgs_audit_compute_two(&A->input, st->read.as_of_day, &A->audit_cfg, A->stage,
                                   SGS_STAGE_COUNT, A->rfm_segment, SGS_RFM_SEGMENT_COUNT + 1,
                                   A->fired, &st->exec, A->audit_stage, A->audit_rfm,
                                   A->audit_untapped_per_kind, err);
    if (rc != SGS_OK)
        return rc;
    A->audit_ran = 1;
    return SGS_OK;
}
