/*
 * engine/dist_actions_list.c — the opportunity step over processes (engine/dist_actions.h):
 * detection, the audit, the contact policy, the ranking, the reasons worded on the customers'
 * owners, the value listed per kind.
 */
#include "engine/dist_actions.h"

#include "engine/opportunity_reason.h"
#include "kernels/base_totals.h"
#include "kernels/exact_sum.h"

#include <assert.h>
#include <string.h>

void sgs_dist_row_facts_free(sgs_dist_row_facts_t *f)
{
    if (!f)
        return;
    sgs_free(f->reason_text);
    sgs_free(f->reason_offset);
    sgs_free(f->stage);
    sgs_free(f->segment);
    sgs_free(f->rfm_segment);
    memset(f, 0, sizeof *f);
}

void sgs_dist_actions_list_free(sgs_dist_actions_list_t *l)
{
    if (!l)
        return;
    sgs_opportunity_stats_free(&l->stats);
    sgs_dist_opportunity_list_free(&l->list);
    sgs_dist_row_facts_free(&l->facts);
}

/* ---- Reasons on the owners --------------------------------------------------------------- */

/* The answer to a request for customer i's kind: stage, RFM segment, segment (little-endian),
 * the reason as the opportunities.csv writer keeps it (engine/write_opportunities_csv.c), a NUL;
 * written to out when not NULL. @return its bytes. */
static size_t answer_one(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                         const sgs_opportunity_stats_t *stats, uint64_t request, char *out)
{
    char buf[SGS_OPPORTUNITY_REASON_MAX];
    const size_t i = (size_t)(request >> 8);
    int len = sgs_opportunity_reason(in, cfg, stats, i, (int)(request & 0xFF), buf, sizeof buf);
    size_t kept = len <= 0 ? 0
                           : (len < SGS_OPPORTUNITY_REASON_MAX ? (size_t)len
                                                               : SGS_OPPORTUNITY_REASON_MAX - 1);
    if (out) {
        int32_t seg = in->customers->segment ? in->customers->segment[i] : -1;
        uint32_t u = (uint32_t)seg;
        out[0] = (char)in->stage[i];
        out[1] = (char)(in->rfm_segment ? in->rfm_segment[i] : SGS_RFM_SEGMENT_COUNT);
        for (int k = 0; k < 4; k++)
            out[2 + k] = (char)(u >> (8 * k) & 0xFFu);
        memcpy(out + SGS_DIST_ROW_FACTS_BYTES, buf, kept);
        out[SGS_DIST_ROW_FACTS_BYTES + kept] = '\0';
    }
    return SGS_DIST_ROW_FACTS_BYTES + kept + 1;
}

/* The owner's side: the answers to the requests received (each source's in its order) into
 * *reply with the bytes per source in reply_bytes. */
static int answer(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                  const sgs_opportunity_config_t *cfg, const sgs_opportunity_stats_t *stats,
                  const uint64_t *request, const size_t *request_bytes, char **reply,
                  size_t *reply_bytes, sgs_error_t *err)
{
    size_t total = 0, k = 0;
    for (int p = 0; p < d->size; p++) {
        reply_bytes[p] = 0;
        for (size_t end = k + request_bytes[p] / sizeof *request; k < end; k++)
            reply_bytes[p] += answer_one(in, cfg, stats, request[k], NULL);
        total += reply_bytes[p];
    }
    *reply = sgs_alloc_array(total ? total : 1, 1);
    int rc = sgs_dist_agree(
        d,
        *reply ? SGS_OK
               : sgs_error_set(err, SGS_ENOMEM, "reasons: out of memory for %zu bytes", total),
        err);
    if (rc != SGS_OK)
        return rc;
    for (size_t j = 0, at = 0; j < k; j++)
        at += answer_one(in, cfg, stats, request[j], *reply + at);
    return SGS_OK;
}

static int facts_alloc(sgs_dist_row_facts_t *f, size_t n_rows)
{
    size_t m = n_rows ? n_rows : 1;
    f->reason_offset = sgs_alloc_array(n_rows + 1, sizeof *f->reason_offset);
    f->stage = sgs_alloc_array(m, sizeof *f->stage);
    f->segment = sgs_alloc_array(m, sizeof *f->segment);
    f->rfm_segment = sgs_alloc_array(m, sizeof *f->rfm_segment);
    return f->reason_offset && f->stage && f->segment && f->rfm_segment ? SGS_OK : SGS_ENOMEM;
}

/* Row r's answer (at `a`) into f: the fixed facts, the reason's length. */
static size_t take_answer(const char *a, size_t r, sgs_dist_row_facts_t *f)
{
    uint32_t u = 0;
    for (int k = 0; k < 4; k++)
        u |= (uint32_t)(unsigned char)a[2 + k] << (8 * k);
    f->stage[r] = (uint8_t)a[0];
    f->rfm_segment[r] = (uint8_t)a[1];
    f->segment[r] = (int32_t)u;
    return strlen(a + SGS_DIST_ROW_FACTS_BYTES);
}

int sgs_dist_opportunity_reasons(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                                 const sgs_opportunity_config_t *cfg,
                                 const sgs_opportunity_stats_t *stats,
                                 const sgs_dist_opportunity_list_t *list,
                                 sgs_dist_row_facts_t *facts, sgs_error_t *err)
{
    const size_t size = (size_t)d->size, n_rows = list->n_rows;
    const uint64_t n_mine = in->customers->n;
    memset(facts, 0, sizeof *facts);
    uint64_t *first = NULL, *received = NULL;
    size_t *send_bytes = sgs_calloc_array(size, sizeof *send_bytes);
    size_t *recv_bytes = sgs_calloc_array(size, sizeof *recv_bytes);
    size_t *at = sgs_calloc_array(size + 1, sizeof *at);
    size_t *slot = sgs_alloc_array(n_rows ? n_rows : 1, sizeof *slot); /* row -> request */
    int32_t *owner = sgs_alloc_array(n_rows ? n_rows : 1, sizeof *owner);
    uint64_t *request = sgs_alloc_array(n_rows ? n_rows : 1, sizeof *request);
    char *reply = NULL, *answers = NULL;
    int rc = send_bytes && recv_bytes && at && slot && owner && request &&
                     facts_alloc(facts, n_rows) == SGS_OK
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "reasons: out of memory for %zu rows", n_rows);
    rc = sgs_dist_agree(d, rc, err);
    /* every process's first global customer, ascending */
    uint64_t mine_first = sgs_dist_offset(d, n_mine);
    if (rc == SGS_OK)
        rc = sgs_dist_gather_all(d, &mine_first, sizeof mine_first, (void **)&first, NULL, err);
    if (rc != SGS_OK)
        goto cleanup;
    /* the requests, grouped by owner in row order */
    for (size_t r = 0; r < n_rows; r++) {
        uint64_t g = (uint64_t)list->rows.customer_index[r];
        size_t lo = 0, hi = size; /* the last process whose first customer is <= g */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (first[mid] <= g)
                lo = mid;
            else
                hi = mid;
        }
        owner[r] = (int32_t)lo;
        at[lo + 1]++;
    }
    for (size_t p = 0; p < size; p++) {
        send_bytes[p] = at[p + 1] * sizeof *request;
        at[p + 1] += at[p];
    }
    for (size_t r = 0; r < n_rows; r++) {
        size_t k = at[owner[r]]++;
        slot[r] = k;
        uint64_t local = (uint64_t)list->rows.customer_index[r] - first[owner[r]];
        request[k] = local << 8 | list->rows.kind[r];
    }
    rc = sgs_dist_exchange(d, request, send_bytes, (void **)&received, recv_bytes, err);
    if (rc != SGS_OK)
        goto cleanup;
    /* the owner's side; a bad index is a programming error of the caller's list */
    size_t n_received = 0;
    for (size_t p = 0; p < size; p++)
        n_received += recv_bytes[p] / sizeof *received;
    for (size_t k = 0; k < n_received; k++)
        assert((received[k] >> 8) < n_mine);
    size_t *reply_bytes = send_bytes; /* the requests are sent: reuse */
    rc = answer(d, in, cfg, stats, received, recv_bytes, &reply, reply_bytes, err);
    if (rc == SGS_OK)
        rc = sgs_dist_exchange(d, reply, reply_bytes, (void **)&answers, recv_bytes, err);
    if (rc != SGS_OK)
        goto cleanup;
    /* the answers come in request order (owner by owner): request k's answer's place */
    uint64_t *place = request; /* the requests are sent: reuse */
    for (size_t k = 0, a = 0; k < n_rows; k++) {
        place[k] = a;
        a += SGS_DIST_ROW_FACTS_BYTES + strlen(answers + a + SGS_DIST_ROW_FACTS_BYTES) + 1;
    }
    facts->reason_offset[0] = 0;
    for (size_t r = 0; r < n_rows; r++)
        facts->reason_offset[r + 1] =
            facts->reason_offset[r] + take_answer(answers + place[slot[r]], r, facts);
    size_t text_bytes = facts->reason_offset[n_rows];
    facts->reason_text = sgs_alloc_array(text_bytes ? text_bytes : 1, 1);
    rc = sgs_dist_agree(
        d,
        facts->reason_text
            ? SGS_OK
            : sgs_error_set(err, SGS_ENOMEM, "reasons: out of memory for %zu bytes", text_bytes),
        err);
    if (rc != SGS_OK)
        goto cleanup;
    for (size_t r = 0; r < n_rows; r++)
        memcpy(facts->reason_text + facts->reason_offset[r],
               answers + place[slot[r]] + SGS_DIST_ROW_FACTS_BYTES,
               facts->reason_offset[r + 1] - facts->reason_offset[r]);
cleanup:
    sgs_free(first);
    sgs_free(request);
    sgs_free(received);
    sgs_free(send_bytes);
    sgs_free(recv_bytes);
    sgs_free(at);
    sgs_free(slot);
    sgs_free(owner);
    sgs_free(reply);
    sgs_free(answers);
    if (rc != SGS_OK)
        sgs_dist_row_facts_free(facts);
    return rc;
}

/* ---- The step ---------------------------------------------------------------------------- */

/* The value listed per kind over every process's stretch: each process's exact sums, gathered
 * and merged in rank order (exact: any order gives the same bits). */
static int value_listed(const sgs_dist_t *d, const sgs_dist_opportunity_list_t *list,
                        double value[SGS_OPP_KIND_COUNT], sgs_error_t *err)
{
    sgs_exact_sum_t mine[SGS_OPP_KIND_COUNT], *all = NULL;
    size_t count[SGS_OPP_KIND_COUNT];
    int rc = sgs_category_sums(list->n_rows, list->rows.kind, SGS_OPP_KIND_COUNT,
                               list->rows.value_at_stake, count, mine, err);
    rc = sgs_dist_agree(d, rc, err);
    for (int k = 0; rc == SGS_OK && k < SGS_OPP_KIND_COUNT; k++)
        sgs_exact_sum_carry(&mine[k]);
    if (rc == SGS_OK)
        rc = sgs_dist_gather_all(d, mine, sizeof mine, (void **)&all, NULL, err);
    if (rc != SGS_OK)
        return rc;
    for (int k = 0; k < SGS_OPP_KIND_COUNT; k++) {
        sgs_exact_sum_t sum;
        sgs_exact_sum_init(&sum);
        for (int p = 0; p < d->size; p++)
            sgs_exact_sum_merge(&sum, &all[(size_t)p * SGS_OPP_KIND_COUNT + (size_t)k]);
        value[k] = sgs_exact_sum_value(&sum);
    }
    sgs_free(all);
    return SGS_OK;
}

/* The audit as engine/run_audit.c makes it: by stage with the untapped counts, by RFM segment. */
static int audit(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                 const sgs_audit_config_t *cfg, const uint16_t *fired, const sgs_exec_t *exec,
                 sgs_dist_actions_list_t *out, sgs_error_t *err)
{
    int rc =
        sgs_dist_audit_compute(d, in->customers, in->as_of_day, cfg, in->stage, SGS_STAGE_COUNT,
                               fired, exec, out->audit_stage, out->audit_untapped_per_kind, err);
    if (rc == SGS_OK)
        rc = sgs_dist_audit_compute(d, in->customers, in->as_of_day, cfg, in->rfm_segment,
                                    SGS_RFM_SEGMENT_COUNT + 1, fired, exec, out->audit_rfm, NULL,
                                    err);
    out->audit_ran = rc == SGS_OK;
    return rc;
}

int sgs_dist_actions_opportunities(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                                   const sgs_opportunity_config_t *cfg,
                                   const sgs_audit_config_t *audit_cfg, const sgs_exec_t *exec,
                                   uint16_t *fired, uint8_t *blocked_channels,
                                   sgs_dist_actions_list_t *out, sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    sgs_opportunity_input_t now = *in;
    now.blocked_channels = NULL;
    int rc =
        sgs_dist_opportunities_detect(d, &now, cfg, exec, fired, &out->stats, &out->detected, err);
    if (rc == SGS_OK && audit_cfg) /* the audit counts what fired; the policy holds some back */
        rc = audit(d, &now, audit_cfg, fired, exec, out, err);
    if (rc == SGS_OK)
        rc = sgs_dist_agree(d,
                            sgs_contact_policy_apply(&now, cfg, exec, fired, blocked_channels,
                                                     &out->stats, &out->policy, err),
                            err);
    if (rc != SGS_OK) {
        sgs_dist_actions_list_free(out);
        return rc;
    }
    int64_t counts[sizeof out->policy / sizeof(int64_t)];
    _Static_assert(sizeof(sgs_contact_policy_stats_t) % sizeof(int64_t) == 0,
                   "the policy's counts are int64 only");
    memcpy(counts, &out->policy, sizeof counts);
    sgs_dist_reduce_i64(d, counts, sizeof counts / sizeof counts[0], SGS_DIST_SUM);
    memcpy(&out->policy, counts, sizeof counts);
    now.blocked_channels = blocked_channels;
    rc = sgs_dist_opportunities_rank(d, &now, cfg, &out->stats, fired, exec, &out->list, err);
    if (rc == SGS_OK)
        rc = sgs_dist_opportunity_reasons(d, &now, cfg, &out->stats, &out->list, &out->facts, err);
    if (rc == SGS_OK)
        rc = value_listed(d, &out->list, out->value_listed_per_kind, err);
    if (rc != SGS_OK)
        sgs_dist_actions_list_free(out);
    return rc;
}
