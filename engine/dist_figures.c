/*
 * engine/dist_figures.c — the reports' figures over customers spread over processes
 * (engine/dist_figures.h).
 */
#include "engine/dist_figures.h"

#include "engine/dist_blocks.h"
#include "engine/run_state.h"
#include "kernels/value_concentration.h"

#include <string.h>

/* A non-empty CLV bin as it travels from process to process: its index, its count and its
 * sum's bits, three 8-byte words. A bin is empty when its count is 0, and its sum then +0
 * (only positive values are added): the bins left out are known. */
enum { BIN_WORDS = 3, BIN_BYTES = BIN_WORDS * 8 };

/* ---- The repeat-purchase counts --------------------------------------------------------- */

/* The counts of every process's customers on every process: the largest age and the largest
 * repeat-purchase value counted (maxima), then the counts up to it (sums). Integers: exact in
 * any order. */
static void sum_fr_counts(const sgs_dist_t *d, sgs_fr_grid_counts_t *fr)
{
    enum { CHUNK = 512 };
    int64_t top[2] = {fr->max_age_days, 0};
    for (int64_t x = 0; x <= SGS_FR_GRID_COUNTED; x++)
        if (fr->count[x] != 0)
            top[1] = x;
    sgs_dist_reduce_i64(d, top, 2, SGS_DIST_MAX);
    fr->max_age_days = (int32_t)top[0];
    size_t n = (size_t)top[1] + 1;
    for (size_t at = 0; at < n; at += CHUNK) {
        int64_t v[CHUNK];
        size_t m = n - at < CHUNK ? n - at : CHUNK;
        for (size_t j = 0; j < m; j++)
            v[j] = (int64_t)fr->count[at + j];
        sgs_dist_reduce_i64(d, v, m, SGS_DIST_SUM);
        for (size_t j = 0; j < m; j++)
            fr->count[at + j] = (uint64_t)v[j];
    }
}

/* ---- The sums in customer order, from process to process ------------------------------- */

typedef struct figures_chain {
    const sgs_run_state_t *st;
    sgs_report_figures_t *f;
    uint64_t *count; /* the CLV bins (SGS_VALUE_BINS each) when the value figures are made */
    double *sum;
} figures_chain_t;

/* A process's turn (sgs_dist_chain_bytes): the figures and the CLV bins the processes before it
 * left (the figures' bytes, then the non-empty bins; nothing on process 0, whose figures are
 * begun and bins zero) continued over its customers, and passed on the same way, but by the
 * last process, which keeps them. */
static int figures_turn(void *ctx, const void *in, size_t in_bytes, void **out, size_t *out_bytes,
                        sgs_error_t *err)
{
    figures_chain_t *c = ctx;
    const sgs_dist_t *d = &c->st->dist;
    const unsigned char *at = in;
    if (in) {
        memcpy(c->f, at, sizeof *c->f);
        size_t n_bins = (in_bytes - sizeof *c->f) / BIN_BYTES;
        at += sizeof *c->f;
        for (size_t i = 0; i < n_bins; i++, at += BIN_BYTES) {
            uint64_t w[BIN_WORDS];
            memcpy(w, at, sizeof w);
            c->count[w[0]] = w[1];
            memcpy(&c->sum[w[0]], &w[2], sizeof c->sum[0]);
        }
    }
    sgs_report_figures_add(c->st, c->f);
    if (c->count)
        sgs_value_bins_add(c->st->value.clv, c->st->summary.n_customers, c->count, c->sum);
    if (d->rank == d->size - 1)
        return SGS_OK;
    size_t n_bins = 0;
    for (size_t b = 0; c->count && b < SGS_VALUE_BINS; b++)
        n_bins += c->count[b] != 0;
    size_t bytes = sizeof *c->f + n_bins * BIN_BYTES;
    unsigned char *o = sgs_alloc_array(bytes, 1);
    if (!o)
        return sgs_error_set(err, SGS_ENOMEM, "the report's figures: no memory for %zu CLV bins",
                             n_bins);
    memcpy(o, c->f, sizeof *c->f);
    unsigned char *to = o + sizeof *c->f;
    for (size_t b = 0; c->count && b < SGS_VALUE_BINS; b++) {
        if (c->count[b] == 0)
            continue;
        uint64_t w[BIN_WORDS] = {b, c->count[b], 0};
        memcpy(&w[2], &c->sum[b], sizeof w[2]);
        memcpy(to, w, sizeof w);
        to += BIN_BYTES;
    }
    *out = o;
    *out_bytes = bytes;
    return SGS_OK;
}

/* ---- The figures ------------------------------------------------------------------------ */

/* The last process's figures on every process. */
static int figures_from_last(const sgs_dist_t *d, sgs_report_figures_t *f, sgs_error_t *err)
{
    void *recv = NULL;
    size_t bytes = d->rank == d->size - 1 ? sizeof *f : 0;
    int rc = sgs_dist_gather_all(d, f, bytes, &recv, NULL, err);
    if (rc == SGS_OK)
        memcpy(f, recv, sizeof *f);
    sgs_free(recv);
    return rc;
}

int sgs_dist_report_figures(const sgs_run_state_t *st, sgs_report_figures_t *f, sgs_error_t *err)
{
    const sgs_dist_t *d = &st->dist;
    if (d->size <= 1)
        return sgs_report_figures_compute(st, f, err);
    sgs_report_figures_begin(st, f);
    const int value = sgs_report_figures_value_wanted(st);
    sgs_report_value_parts_t parts = {NULL, NULL, NULL};
    int rc = value ? sgs_report_value_parts_begin(st, &parts, err) : SGS_OK;
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK && value)
        sum_fr_counts(d, parts.fr);
    figures_chain_t chain = {st, f, parts.count, parts.sum};
    if (rc == SGS_OK)
        rc = sgs_dist_chain_bytes(d, figures_turn, &chain, NULL, NULL, err);
    if (rc == SGS_OK) {
        if (value && d->rank == d->size - 1)
            rc = sgs_report_figures_value_finish(st, &parts, f, err);
        rc = sgs_dist_agree(d, rc, err);
    }
    if (rc == SGS_OK)
        rc = figures_from_last(d, f, err);
    sgs_report_value_parts_free(&parts);
    return rc;
}
