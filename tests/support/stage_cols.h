/*
 * tests/support/stage_cols.h — the output columns of kernels/stages.h (sgs_stage_output_t) and
 * the summary, allocated for n customers: what tests/unit/test_stages_opportunities_twins.c
 * and tests/mpi/test_dist_actions.c fill and compare. Header-only: static functions for the
 * test programs.
 */
#ifndef SGS_TEST_STAGE_COLS_H
#define SGS_TEST_STAGE_COLS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/stages.h"

#include <stdlib.h>
#include <string.h>

#define STAGE_COLS_SEGMENTS 8 /* room for the segments' cycles */

typedef struct stage_cols {
    uint8_t *stage, *source;
    double *cycle, *overdue, *gap, seg_cycle[STAGE_COLS_SEGMENTS];
    int32_t *n_days;
    sgs_stage_output_t out; /* the columns above, as the kernels take them */
    sgs_stage_summary_t summary;
} stage_cols_t;

/* Every column of n entries (one more, so that n = 0 allocates), zeroed. */
static void stage_cols_alloc(stage_cols_t *c, size_t n)
{
    memset(c, 0, sizeof *c);
    assert_non_null(c->stage = calloc(n + 1, sizeof *c->stage));
    assert_non_null(c->source = calloc(n + 1, sizeof *c->source));
    assert_non_null(c->cycle = calloc(n + 1, sizeof *c->cycle));
    assert_non_null(c->overdue = calloc(n + 1, sizeof *c->overdue));
    assert_non_null(c->gap = calloc(n + 1, sizeof *c->gap));
    assert_non_null(c->n_days = calloc(n + 1, sizeof *c->n_days));
    c->out = (sgs_stage_output_t){c->stage, c->cycle,  c->overdue,   c->source,
                                  c->gap,   c->n_days, c->seg_cycle, STAGE_COLS_SEGMENTS};
}

static void stage_cols_free(stage_cols_t *c)
{
    free(c->stage);
    free(c->source);
    free(c->cycle);
    free(c->overdue);
    free(c->gap);
    free(c->n_days);
}

#endif
