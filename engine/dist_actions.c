/*
 * engine/dist_actions.c — the actions step over processes (engine/dist_actions.h): stages,
 * transitions, influence, the audit. Each is the single-process kernel's parts with the
 * base-wide pieces (medians, counts, the referral chains, the survey sums) made over every
 * process.
 */
#include "engine/dist_actions.h"

#include "engine/dist_blocks.h"
#include "engine/dist_segments.h"
#include "kernels/stage_columns.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* ---- Stages ------------------------------------------------------------------------------ */

int sgs_dist_stages_compute(const sgs_dist_t *d, const sgs_stage_input_t *in, int32_t as_of_day,
                            const sgs_stage_rules_t *rules, const sgs_exec_t *exec,
                            sgs_stage_output_t *out, sgs_stage_summary_t *summary, sgs_error_t *err)
{
    int rc = sgs_dist_agree(d, sgs_stages_check(in, rules, out, err), err);
    if (rc != SGS_OK)
        return rc;
    const size_t n = in->n, m = n ? n : 1;
    int64_t n_all = (int64_t)n;
    sgs_dist_reduce_i64(d, &n_all, 1, SGS_DIST_SUM);
    uint8_t *own_source = sgs_alloc_array(m, sizeof *own_source);
    double *median_value = sgs_alloc_array(m, sizeof *median_value);
    double *seg_median = NULL;
    rc = own_source && median_value
             ? SGS_OK
             : sgs_error_set(err, SGS_ENOMEM, "stages: out of memory for %zu customers", n);
    int32_t max_label = -1;
    if (rc == SGS_OK)
        rc = sgs_stages_own_cycles(in, as_of_day, rules, n_all, exec, out->cycle_days, own_source,
                                   median_value, &max_label, err);
    rc = sgs_dist_agree(d, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    int64_t top = max_label;
    sgs_dist_reduce_i64(d, &top, 1, SGS_DIST_MAX);
    int32_t n_segments = (int32_t)(top + 1);
    seg_median = sgs_alloc_array(n_segments ? (size_t)n_segments : 1, sizeof *seg_median);
    rc = sgs_dist_agree(d,
                        seg_median ? SGS_OK
                                   : sgs_error_set(err, SGS_ENOMEM,
                                                   "stages: out of memory for %d segments",
                                                   (int)n_segments),
                        err);
    double global = (double)NAN;
    if (rc == SGS_OK)
        rc = sgs_dist_group_medians(d, n, median_value, in->segment, n_segments, seg_median,
                                    &global, err);
    if (rc != SGS_OK)
        goto cleanup;
    sgs_stage_summary_t mine;
    sgs_stages_given_medians(in, as_of_day, rules, seg_median, n_segments, global, own_source, exec,
                             out, &mine);
    if (summary) {
        int64_t counts[SGS_STAGE_COUNT + SGS_CYCLE_SOURCE_COUNT];
        memcpy(counts, mine.n_per_stage, sizeof mine.n_per_stage);
        memcpy(counts + SGS_STAGE_COUNT, mine.n_per_cycle_source, sizeof mine.n_per_cycle_source);
        sgs_dist_reduce_i64(d, counts, SGS_STAGE_COUNT + SGS_CYCLE_SOURCE_COUNT, SGS_DIST_SUM);
        *summary = mine;
        memcpy(summary->n_per_stage, counts, sizeof summary->n_per_stage);
        memcpy(summary->n_per_cycle_source, counts + SGS_STAGE_COUNT,
               sizeof summary->n_per_cycle_source);
    }
cleanup:
    sgs_free(own_source);
    sgs_free(median_value);
    sgs_free(seg_median);
    return rc;
}

int sgs_dist_stage_transitions(const sgs_dist_t *d, size_t n, const uint8_t *stage_before,
                               const uint8_t *stage_after, int32_t interval_days,
                               const sgs_exec_t *exec,
                               int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT],
                               double mean_days[SGS_STAGE_COUNT], sgs_error_t *err)
{
    int rc = sgs_stage_transitions(n, stage_before, stage_after, exec, counts, err);
    rc = sgs_dist_agree(d, rc, err);
    if (rc != SGS_OK)
        return rc;
    sgs_dist_reduce_i64(d, counts, SGS_STAGE_COUNT * SGS_STAGE_COUNT, SGS_DIST_SUM);
    return mean_days ? sgs_stage_mean_days(counts, interval_days, mean_days, err) : SGS_OK;
}

int sgs_dist_stage_came_back(const sgs_dist_t *d, const sgs_stage_input_t *in, const uint8_t *stage,
                             const double *p_buy, int32_t end, int32_t until,
                             int64_t customers[SGS_STAGE_COUNT], int64_t bought[SGS_STAGE_COUNT],
                             sgs_error_t *err)
{
    int rc = sgs_dist_agree(
        d, sgs_stage_came_back(in, stage, p_buy, end, until, NULL, customers, bought, err), err);
    if (rc != SGS_OK)
        return rc;
    int64_t counts[2 * SGS_STAGE_COUNT];
    memcpy(counts, customers, SGS_STAGE_COUNT * sizeof *counts);
    memcpy(counts + SGS_STAGE_COUNT, bought, SGS_STAGE_COUNT * sizeof *counts);
    sgs_dist_reduce_i64(d, counts, 2 * SGS_STAGE_COUNT, SGS_DIST_SUM);
    memcpy(customers, counts, SGS_STAGE_COUNT * sizeof *counts);
    memcpy(bought, counts + SGS_STAGE_COUNT, SGS_STAGE_COUNT * sizeof *counts);
    return SGS_OK;
}

/* ---- Influence --------------------------------------------------------------------------- */

/* A customer on a referral chain, as it travels (SGS_DIST_REFERRAL_RECORD_BYTES). */
typedef struct referral_record {
    int64_t customer_id, referrer_id;
    double clv;
    int64_t global_index;
} referral_record_t;

_Static_assert(sizeof(referral_record_t) == SGS_DIST_REFERRAL_RECORD_BYTES,
               "the record's size is the documented one");

/* Every process's customer count, first and last id ([3 size], allocated). */
typedef struct id_range {
    int64_t n, first, last;
} id_range_t;

/* The process whose id range holds id, or -1 when none does: range[] ascends with the rank,
 * the processes without customers left out of the search. */
static int owner_of(const id_range_t *range, int size, int64_t id)
{
    int lo = 0, hi = size; /* the first process with customers whose last id is >= id */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, k = mid;
        while (k < hi && range[k].n == 0)
            k++;
        if (k == hi)
            hi = mid;
        else if (range[k].last < id)
            lo = k + 1;
        else
            hi = k;
    }
    while (lo < size && range[lo].n == 0)
        lo++;
    return lo < size && range[lo].first <= id && id <= range[lo].last ? lo : -1;
}

/* The ascending check over every process (the kernel's message, the row global); *range gets
 * every process's count and first and last ids. */
static int check_ascending(const sgs_dist_t *d, size_t n, const int64_t *customer_id,
                           id_range_t **range, sgs_error_t *err)
{
    id_range_t mine = {(int64_t)n, n ? customer_id[0] : 0, n ? customer_id[n - 1] : 0};
    int rc = sgs_dist_gather_all(d, &mine, sizeof mine, (void **)range, NULL, err);
    if (rc != SGS_OK)
        return rc;
    const uint64_t offset = sgs_dist_offset(d, n);
    const id_range_t *r = *range;
    int64_t before = 0;
    int have_before = 0;
    for (int p = 0; p < d->rank; p++)
        if (r[p].n > 0) {
            before = r[p].last;
            have_before = 1;
        }
    for (size_t i = 0; i < n && rc == SGS_OK; i++) {
        int64_t prev = i > 0 ? customer_id[i - 1] : before;
        if ((i > 0 || have_before) && customer_id[i] <= prev)
            rc = sgs_error_set(err, SGS_EDATA,
                               "influence: customer_id is not strictly ascending at row %ld (%lld "
                               "after %lld)",
                               (long)(offset + i), (long long)customer_id[i], (long long)prev);
    }
    return sgs_dist_agree(d, rc, err);
}

/* mark[j] = 1 for this process's customers some customer names as referrer: each referrer id
 * goes to the process whose range holds it. */
static int mark_referrers(const sgs_dist_t *d, size_t n, const int64_t *customer_id,
                          const int64_t *referrer_id, const id_range_t *range, uint8_t *mark,
                          sgs_error_t *err)
{
    const size_t size = (size_t)d->size;
    size_t *send_bytes = sgs_calloc_array(size, sizeof *send_bytes);
    size_t *recv_bytes = sgs_calloc_array(size, sizeof *recv_bytes);
    size_t *at = sgs_calloc_array(size + 1, sizeof *at);
    int32_t *dest = sgs_alloc_array(n ? n : 1, sizeof *dest);
    int64_t *send = NULL, *recv = NULL;
    int rc = send_bytes && recv_bytes && at && dest
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "influence: out of memory for %zu customers", n);
    size_t n_send = 0;
    for (size_t i = 0; rc == SGS_OK && i < n; i++) {
        dest[i] = referrer_id[i] == -1 ? -1 : owner_of(range, d->size, referrer_id[i]);
        if (dest[i] >= 0) {
            at[dest[i] + 1]++;
            n_send++;
        }
    }
    if (rc == SGS_OK) {
        send = sgs_alloc_array(n_send ? n_send : 1, sizeof *send);
        if (!send)
            rc = sgs_error_set(err, SGS_ENOMEM, "influence: out of memory for %zu referrers",
                               n_send);
    }
    rc = sgs_dist_agree(d, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    for (size_t p = 0; p < size; p++) {
        send_bytes[p] = at[p + 1] * sizeof *send;
        at[p + 1] += at[p];
    }
    for (size_t i = 0; i < n; i++)
        if (dest[i] >= 0)
            send[at[dest[i]]++] = referrer_id[i];
    rc = sgs_dist_exchange(d, send, send_bytes, (void **)&recv, recv_bytes, err);
    if (rc != SGS_OK)
        goto cleanup;
    size_t n_recv = 0;
    for (size_t p = 0; p < size; p++)
        n_recv += recv_bytes[p] / sizeof *recv;
    memset(mark, 0, n);
    for (size_t k = 0; k < n_recv; k++) {
        int64_t j = sgs_customer_index_of(customer_id, n, recv[k]);
        if (j >= 0)
            mark[j] = 1;
    }
cleanup:
    sgs_free(send_bytes);
    sgs_free(recv_bytes);
    sgs_free(at);
    sgs_free(dest);
    sgs_free(send);
    sgs_free(recv);
    return rc;
}

/* The kernel's outputs over the gathered customers on referral chains. */
typedef struct chain_outputs {
    int64_t *id, *referrer, *direct, *indirect, *referrer_index;
    double *clv, *nv;
    int32_t *depth;
    uint8_t *status;
} chain_outputs_t;

static void chain_free(chain_outputs_t *c)
{
    void *owned[] = {c->id,  c->referrer, c->direct, c->indirect, c->referrer_index,
                     c->clv, c->nv,       c->depth,  c->status};
    for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++)
        sgs_free(owned[k]);
}

static int chain_alloc(chain_outputs_t *c, size_t m, int with_clv)
{
    size_t k = m ? m : 1;
    c->id = sgs_alloc_array(k, sizeof *c->id);
    c->referrer = sgs_alloc_array(k, sizeof *c->referrer);
    c->direct = sgs_alloc_array(k, sizeof *c->direct);
    c->indirect = sgs_alloc_array(k, sizeof *c->indirect);
    c->referrer_index = sgs_alloc_array(k, sizeof *c->referrer_index);
    c->clv = with_clv ? sgs_alloc_array(k, sizeof *c->clv) : NULL;
    c->nv = sgs_alloc_array(k, sizeof *c->nv);
    c->depth = sgs_alloc_array(k, sizeof *c->depth);
    c->status = sgs_alloc_array(k, sizeof *c->status);
    return c->id && c->referrer && c->direct && c->indirect && c->referrer_index &&
                   (c->clv || !with_clv) && c->nv && c->depth && c->status
               ? SGS_OK
               : SGS_ENOMEM;
}

/* Whether clv is given: the same on every process holding customers. */
static int agree_clv(const sgs_dist_t *d, size_t n, const double *clv, int *with_clv,
                     sgs_error_t *err)
{
    int64_t low = n ? clv != NULL : 1, high = n ? clv != NULL : 0;
    sgs_dist_reduce_i64(d, &low, 1, SGS_DIST_MIN);
    sgs_dist_reduce_i64(d, &high, 1, SGS_DIST_MAX);
    *with_clv = high == 1;
    if (low != high && !(low == 1 && high == 0))
        return sgs_error_set(err, SGS_EINVAL,
                             "influence: the processes disagree on whether CLV is given");
    return SGS_OK;
}

int sgs_dist_influence_compute(const sgs_dist_t *d, size_t n, const int64_t *customer_id,
                               const int64_t *referrer_id, const double *clv,
                               const sgs_influence_config_t *cfg, const sgs_exec_t *exec,
                               sgs_influence_output_t *out, sgs_influence_report_t *report,
                               sgs_error_t *err)
{
    int rc = SGS_OK;
    if (!out || !out->n_direct || !out->n_indirect || !out->network_value ||
        (n > 0 && (!customer_id || !referrer_id)))
        rc = sgs_error_set(err, SGS_EINVAL, "influence: a required array is NULL");
    rc = sgs_dist_agree(d, rc, err);
    int with_clv = 0;
    if (rc == SGS_OK)
        rc = sgs_dist_agree(d, agree_clv(d, n, clv, &with_clv, err), err);
    if (rc != SGS_OK)
        return rc;
    id_range_t *range = NULL;
    uint8_t *mark = sgs_alloc_array(n ? n : 1, sizeof *mark);
    referral_record_t *mine = NULL, *all = NULL;
    chain_outputs_t c;
    memset(&c, 0, sizeof c);
    rc = check_ascending(d, n, customer_id, &range, err);
    if (rc == SGS_OK)
        rc = sgs_dist_agree(
            d,
            mark ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "influence: out of memory for %zu customers", n),
            err);
    if (rc == SGS_OK)
        rc = mark_referrers(d, n, customer_id, referrer_id, range, mark, err);
    if (rc != SGS_OK)
        goto cleanup;
    /* (2) the customers on referral chains, gathered in id order */
    size_t m_mine = 0;
    for (size_t i = 0; i < n; i++)
        m_mine += referrer_id[i] != -1 || mark[i];
    mine = sgs_alloc_array(m_mine ? m_mine : 1, sizeof *mine);
    rc = sgs_dist_agree(
        d,
        mine ? SGS_OK
             : sgs_error_set(err, SGS_ENOMEM, "influence: out of memory for %zu customers", m_mine),
        err);
    if (rc != SGS_OK)
        goto cleanup;
    const uint64_t offset = sgs_dist_offset(d, n);
    for (size_t i = 0, k = 0; i < n; i++)
        if (referrer_id[i] != -1 || mark[i])
            mine[k++] = (referral_record_t){customer_id[i], referrer_id[i], with_clv ? clv[i] : 0.0,
                                            (int64_t)(offset + i)};
    rc = sgs_dist_gather_all(d, mine, m_mine * sizeof *mine, (void **)&all, NULL, err);
    if (rc != SGS_OK)
        goto cleanup;
    int64_t m_all = (int64_t)m_mine;
    sgs_dist_reduce_i64(d, &m_all, 1, SGS_DIST_SUM);
    const size_t m = (size_t)m_all;
    rc = sgs_dist_agree(
        d,
        chain_alloc(&c, m, with_clv) == SGS_OK
            ? SGS_OK
            : sgs_error_set(err, SGS_ENOMEM, "influence: out of memory for %zu customers", m),
        err);
    if (rc != SGS_OK)
        goto cleanup;
    for (size_t k = 0; k < m; k++) {
        c.id[k] = all[k].customer_id;
        c.referrer[k] = all[k].referrer_id;
        if (with_clv)
            c.clv[k] = all[k].clv;
    }
    /* the kernel on them, the same on every process */
    sgs_influence_output_t chain = {c.direct,         c.indirect, c.nv,
                                    c.referrer_index, c.depth,    c.status};
    rc = sgs_dist_agree(
        d, sgs_influence_compute(m, c.id, c.referrer, c.clv, cfg, exec, &chain, report, err), err);
    if (rc != SGS_OK)
        goto cleanup;
    /* (3) this process's customers: those on a chain from the kernel, the others alone */
    size_t k = (size_t)sgs_dist_offset(d, m_mine);
    for (size_t i = 0; i < n; i++) {
        if (referrer_id[i] != -1 || mark[i]) {
            out->n_direct[i] = c.direct[k];
            out->n_indirect[i] = c.indirect[k];
            out->network_value[i] = c.nv[k];
            if (out->referrer_index)
                out->referrer_index[i] =
                    c.referrer_index[k] >= 0 ? all[c.referrer_index[k]].global_index : -1;
            if (out->depth)
                out->depth[i] = c.depth[k];
            if (out->referral_status)
                out->referral_status[i] = c.status[k];
            k++;
            continue;
        }
        out->n_direct[i] = 0;
        out->n_indirect[i] = 0;
        out->network_value[i] = with_clv ? (isfinite(clv[i]) ? clv[i] : 0.0) : 1.0;
        if (out->referrer_index)
            out->referrer_index[i] = -1;
        if (out->depth)
            out->depth[i] = 0;
        if (out->referral_status)
            out->referral_status[i] = SGS_REFERRAL_NONE;
    }
cleanup:
    sgs_free(range);
    sgs_free(mark);
    sgs_free(mine);
    sgs_free(all);
    chain_free(&c);
    return rc;
}

/* ---- The audit --------------------------------------------------------------------------- */

/* The integer fields of a row: every field before survey_sum. */
#define AUDIT_ROW_INTS (offsetof(sgs_audit_row_t, survey_sum) / sizeof(int64_t))
_Static_assert(offsetof(sgs_audit_row_t, survey_sum) + sizeof(double) == sizeof(sgs_audit_row_t),
               "survey_sum is the audit row's last field and its only double");

/* The survey sums carried from process to process: the open block's sums per group (a block
 * may begin on one process and end on another), then the totals per group and everyone. */
typedef struct audit_chain {
    const sgs_stage_input_t *in;
    int32_t as_of_day;
    const sgs_audit_config_t *cfg;
    const uint8_t *group;
    const uint16_t *fired;
    uint64_t offset;                   /* this process's first global customer */
    size_t head, n_blocks, n_groups;   /* its blocks (sgs_audit_block_count) */
    const sgs_audit_row_t *block_rows; /* their tallies, each from zero */
    sgs_audit_row_t *scratch;          /* [2 n_groups + 1] */
} audit_chain_t;

/* The open block (state[0, n_groups)) added to the totals (state[n_groups, 2 n_groups + 1]) as
 * the kernel adds a block's sums (sgs_audit_add_blocks). */
static void close_block(const audit_chain_t *a, double *state)
{
    const size_t ng = a->n_groups;
    sgs_audit_row_t *block = a->scratch, *total = a->scratch + ng;
    memset(a->scratch, 0, (2 * ng + 1) * sizeof *a->scratch);
    for (size_t g = 0; g < ng; g++)
        block[g].survey_sum = state[g];
    for (size_t g = 0; g <= ng; g++)
        total[g].survey_sum = state[ng + g];
    sgs_audit_add_blocks(block, NULL, 1, ng, total, NULL);
    for (size_t g = 0; g <= ng; g++)
        state[ng + g] = total[g].survey_sum;
}

/* This process's customers in the chain: the block the processes before left open continued
 * customer by customer (at most SGS_BLOCK_ROWS - 1 of them), then each of its own blocks, from
 * zero, closing the one before. */
static void audit_survey_step(double *state, void *ctx)
{
    const audit_chain_t *a = ctx;
    const size_t ng = a->n_groups;
    size_t b = 0;
    if (a->n_blocks > 0 && a->offset % SGS_BLOCK_ROWS != 0) {
        size_t hi = a->head < a->in->n ? a->head : a->in->n;
        memset(a->scratch, 0, ng * sizeof *a->scratch);
        for (size_t g = 0; g < ng; g++)
            a->scratch[g].survey_sum = state[g];
        sgs_audit_tally_more(a->in, a->as_of_day, a->cfg, a->group, ng, a->fired, 0, hi,
                             a->scratch);
        for (size_t g = 0; g < ng; g++)
            state[g] = a->scratch[g].survey_sum;
        b = 1;
    }
    for (; b < a->n_blocks; b++) {
        if (a->offset > 0 || b > 0) /* a block before it, now complete */
            close_block(a, state);
        for (size_t g = 0; g < ng; g++)
            state[g] = a->block_rows[b * ng + g].survey_sum;
    }
}

int sgs_dist_audit_compute(const sgs_dist_t *d, const sgs_stage_input_t *in, int32_t as_of_day,
                           const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                           const uint16_t *fired, const sgs_exec_t *exec, sgs_audit_row_t *rows,
                           int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS], sgs_error_t *err)
{
    const size_t n = in->n;
    const uint64_t offset = sgs_dist_offset(d, n);
    int64_t n_all = (int64_t)n;
    sgs_dist_reduce_i64(d, &n_all, 1, SGS_DIST_SUM);
    /* this process's first block ends where the global one does */
    const size_t head = SGS_BLOCK_ROWS - (size_t)(offset % SGS_BLOCK_ROWS);
    const size_t n_blocks = sgs_audit_block_count(n, head);
    const size_t nb1 = n_blocks ? n_blocks : 1, ng1 = n_groups ? n_groups : 1;
    sgs_audit_row_t *block_rows = sgs_alloc_array(nb1 * ng1, sizeof *block_rows);
    sgs_audit_block_kinds_t *kinds = sgs_alloc_array(nb1, sizeof *kinds);
    sgs_audit_row_t *scratch = sgs_alloc_array(2 * n_groups + 1, sizeof *scratch);
    double *state = sgs_alloc_array(2 * n_groups + 1, sizeof *state);
    const size_t n_ints = (n_groups + 1) * AUDIT_ROW_INTS + SGS_OPP_KIND_COUNT * SGS_AUDIT_WINDOWS;
    int64_t *ints = sgs_alloc_array(n_ints, sizeof *ints);
    int rc = block_rows && kinds && scratch && state && ints
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "audit: out of memory for %zu blocks", n_blocks);
    if (rc == SGS_OK)
        rc = sgs_audit_block_tallies(in, as_of_day, cfg, group, n_groups, fired, exec, head,
                                     block_rows, kinds, err);
    rc = sgs_dist_agree(d, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    /* the counts: this process's blocks added from zero, summed over the processes */
    int64_t untapped[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];
    memset(rows, 0, (n_groups + 1) * sizeof *rows);
    memset(untapped, 0, sizeof untapped);
    sgs_audit_add_blocks(block_rows, kinds, n_blocks, n_groups, rows, untapped);
    for (size_t g = 0; g <= n_groups; g++)
        memcpy(ints + g * AUDIT_ROW_INTS, &rows[g], AUDIT_ROW_INTS * sizeof *ints);
    memcpy(ints + (n_groups + 1) * AUDIT_ROW_INTS, untapped, sizeof untapped);
    sgs_dist_reduce_i64(d, ints, n_ints, SGS_DIST_SUM);
    for (size_t g = 0; g <= n_groups; g++)
        memcpy(&rows[g], ints + g * AUDIT_ROW_INTS, AUDIT_ROW_INTS * sizeof *ints);
    if (untapped_per_kind)
        memcpy(untapped_per_kind, ints + (n_groups + 1) * AUDIT_ROW_INTS, sizeof untapped);
    /* the survey sums: the kernel's blocks in block order, carried from process to process */
    memset(state, 0, (2 * n_groups + 1) * sizeof *state);
    audit_chain_t chain = {in,   as_of_day, cfg,      group,      fired,  offset,
                           head, n_blocks,  n_groups, block_rows, scratch};
    sgs_dist_chain(d, state, 2 * n_groups + 1, audit_survey_step, &chain);
    if (n_all > 0) /* the last block */
        close_block(&chain, state);
    for (size_t g = 0; g <= n_groups; g++)
        rows[g].survey_sum = state[n_groups + g];
cleanup:
    sgs_free(block_rows);
    sgs_free(kinds);
    sgs_free(scratch);
    sgs_free(state);
    sgs_free(ints);
    return rc;
}
