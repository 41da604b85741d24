/*
 * engine/run_learn.c — iterate: a run that is given a measurement of an earlier list
 * (actions.learn_from, `segscore run --learn-from MEASURE.h5`) replaces what it assumed with
 * what was measured, where the measurement is conclusive (docs/opportunities.md, "Learning
 * from a measurement"):
 *   - value at stake: a kind whose incremental revenue was measured conclusively has every
 *     value at stake scaled by measured / assumed, measured the incremental revenue per
 *     contacted customer and assumed the mean value at stake the measured list had given its
 *     contacted customers: the values keep their order within the kind and, on average,
 *     become what a contact of that kind was measured to bring;
 *   - channels: a channel whose revenue difference for the kind was measured conclusively
 *     and lies wholly below zero (contacts through it lost money) is not chosen for the kind;
 *     the same per RFM segment (a segment's rows of the measured list, against the customer's
 *     RFM segment today: RFM segments, unlike k-means labels, mean the same in both runs).
 * Everything else stays as assumed, and the report says which and why.
 *
 * A run spread over processes (docs/mpi.md) learns the same on every process: process 0 alone
 * reads the measurement, which every process then receives from it (a few kilobytes), so that
 * all learn from the same bytes even where the processes' machines see different files; a
 * measurement process 0 cannot read fails every process with its message.
 */
#include "engine/run_actions.h"

#include "engine/dist_run.h"
#include "kernels/dates.h"
#include "kernels/measure.h"

#include <math.h>
#include <string.h>

_Static_assert(SGS_MEASURE_FILE_RFM_GROUPS == SGS_RFM_SEGMENT_COUNT + 1,
               "a measurement's RFM groups are the run's: the segments, then no purchase");

/* Why a comparison measure flagged cannot replace an assumption, in words. */
static const char *why_inconclusive(int reason)
{
    switch (reason) {
    case SGS_MEASURE_NO_CONTROL:
        return "no control group to compare with";
    case SGS_MEASURE_NO_TREATED:
        return "nobody was contacted";
    case SGS_MEASURE_SMALL_TREATED:
        return "too few contacted customers to say";
    case SGS_MEASURE_SMALL_CONTROL:
        return "control group too small to say";
    case SGS_MEASURE_NO_VARIANCE:
        return "no revenue in either group";
    default:
        return "not conclusive";
    }
}

/* The kind's learned scale, or why the assumption stays. */
static void learn_kind(const sgs_measure_file_kind_t *m, sgs_run_learned_t *L, int k)
{
    L->scale[k] = 1.0;
    L->measured[k] = (double)NAN;
    if (!m->listed) {
        L->kept_why[k] = "not on the measured list";
        return;
    }
    if (m->n_treated > 0)
        L->measured[k] = m->incremental_revenue / (double)m->n_treated;
    if (!m->conclusive) {
        L->kept_why[k] = why_inconclusive(m->reason);
        return;
    }
    if (!isfinite(L->measured[k])) {
        L->kept_why[k] = "no incremental revenue measured";
        return;
    }
    if (!(isfinite(m->assumed_value) && m->assumed_value > 0)) {
        L->kept_why[k] = "the measured list assumed no value for it";
        return;
    }
    L->scale[k] = L->measured[k] / m->assumed_value;
    L->applied[k] = 1;
}

/* The measurement at path into *out: read by process 0, sent to the others in a spread run
 * (the outcome agreed first: every process returns process 0's error). */
static int read_measurement(const sgs_run_state_t *st, const char *path, sgs_measure_file_t *out,
                            sgs_error_t *err)
{
    const sgs_dist_t *d = &st->dist;
    int rc = d->rank == 0 ? sgs_h5_read_measure_file(path, out, err) : SGS_OK;
    if (rc != SGS_OK)
        sgs_error_prefix(err, "actions.learn_from");
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK || d->size == 1)
        return rc;
    void *sent = NULL; /* process 0's bytes alone: the others send none */
    rc = sgs_dist_gather_all(d, out, d->rank == 0 ? sizeof *out : 0, &sent, NULL, err);
    if (rc == SGS_OK)
        memcpy(out, sent, sizeof *out);
    sgs_free(sent);
    return rc;
}

int sgs__run_actions_learn(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    const char *path = st->req->config->actions.learn_from;
    if (!path[0])
        return SGS_OK;
    sgs_run_learned_t *L = &A->learned;
    int rc = read_measurement(st, path, &L->file, err);
    if (rc != SGS_OK)
        return rc;
    if (L->file.window_last_day > st->read.as_of_day) {
        char last[16];
        sgs_date_format_day(L->file.window_last_day, last, sizeof last);
        return sgs_error_set(err, SGS_EDATA,
                             "actions.learn_from: %s measured what customers did up to %s, after "
                             "this run's as-of date %s: a run cannot learn from what happened "
                             "after it",
                             path, last, st->read.as_of_text);
    }
    L->ran = 1;
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        const sgs_measure_file_kind_t *m = &L->file.kind[k];
        learn_kind(m, L, k);
        A->opp_cfg.value_scale[k] = L->scale[k];
        for (int c = 1; c < SGS_CHANNEL_COUNT; c++) {
            if (m->has_line[c] && m->revenue_conclusive[c] && m->revenue_hi[c] < 0)
                A->opp_cfg.avoid_channels[k] |= (uint8_t)(1u << c);
            for (int g = 0; g < SGS_MEASURE_FILE_RFM_GROUPS; g++)
                if (m->seg_conclusive[g][c] && m->seg_revenue_hi[g][c] < 0)
                    A->opp_cfg.avoid_channels_by_rfm[k][g] |= (uint8_t)(1u << c);
        }
    }
    return sgs_opportunity_config_check(&A->opp_cfg, err);
}
