/*
 * engine/dist_opportunities.c — the opportunity list over the processes
 * (engine/dist_opportunities.h): a sample sort of the candidates into one rank range per
 * process, then the capacity walk process after process.
 */
#include "engine/dist_opportunities.h"

#include "kernels/opportunity_rank_internal.h"

#include <stdlib.h>
#include <string.h>

/* Samples each process contributes, about, to the choice of the splitters: a range then holds
 * its share of the candidates give or take 1/256 of it. */
#define SAMPLES_PER_PROCESS 256

/* ---- Records ------------------------------------------------------------------------------ */

/* A candidate (its route packed in it) with what its walk needs from its owner: its
 * customer's id. */
typedef struct rec {
    sgs__opp_cand_t c; /* index: the global customer index */
    int64_t id;        /* customer_id */
} rec_t;

enum { REC = SGS_DIST_OPPORTUNITY_RECORD_BYTES };

static void rec_pack(const sgs__opp_cand_t *c, int64_t id, unsigned char *out)
{
    memcpy(out, &c->value, 8);
    memcpy(out + 8, &c->index, 8);
    memcpy(out + 16, &id, 8);
    out[24] = c->kind;
    out[25] = c->route_own;
    out[26] = c->route_blocked;
    out[27] = c->route_flags;
}

static void rec_unpack(const unsigned char *in, const sgs_opportunity_config_t *cfg, rec_t *r)
{
    memcpy(&r->c.value, in, 8);
    memcpy(&r->c.index, in + 8, 8);
    memcpy(&r->id, in + 16, 8);
    r->c.kind = in[24];
    r->c.priority = r->c.kind < SGS_OPP_KIND_COUNT ? cfg->priority[r->c.kind] : 0;
    r->c.route_own = in[25];
    r->c.route_blocked = in[26];
    r->c.route_flags = in[27];
}

static int cand_compare(const void *pa, const void *pb)
{
    const sgs__opp_cand_t *a = pa, *b = pb;
    return sgs__opp_before(a, b) ? -1 : sgs__opp_before(b, a) ? 1 : 0;
}

/* Candidates of sorted[0..m) that rank before key: a binary search. */
static size_t ranked_before(const sgs__opp_cand_t *sorted, size_t m, const sgs__opp_cand_t *key)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sgs__opp_before(&sorted[mid], key))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The runs [start[j], start[j + 1]) of a[], each sorted, merged into one sorted run, pairwise
 * level by level with tmp of the same size. Returns the buffer holding the result. */
static rec_t *merge_all(rec_t *a, rec_t *tmp, size_t *start, size_t n_runs)
{
    while (n_runs > 1) {
        size_t w = 0;
        for (size_t j = 0; j < n_runs; j += 2) {
            size_t lo = start[j], mid = start[j + 1 < n_runs ? j + 1 : n_runs],
                   hi = start[j + 2 < n_runs ? j + 2 : n_runs];
            size_t i = lo, k = mid, o = lo;
            while (i < mid && k < hi)
                tmp[o++] = sgs__opp_before(&a[k].c, &a[i].c) ? a[k++] : a[i++];
            while (i < mid)
                tmp[o++] = a[i++];
            while (k < hi)
                tmp[o++] = a[k++];
            start[w++] = lo;
        }
        start[w] = start[n_runs];
        n_runs = w;
        rec_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* ---- The list ----------------------------------------------------------------------------- */

void sgs_dist_opportunity_list_free(sgs_dist_opportunity_list_t *list)
{
    if (!list)
        return;
    sgs_free(list->rows.customer_index);
    sgs_free(list->rows.kind);
    sgs_free(list->rows.priority);
    sgs_free(list->rows.value_at_stake);
    sgs_free(list->rows.channel);
    sgs_free(list->rows.rank);
    sgs_free(list->rows.control);
    sgs_free(list->customer_id);
    memset(list, 0, sizeof *list);
}

/* Columns for m rows (at least one each). */
static int list_alloc(sgs_dist_opportunity_list_t *l, size_t m, sgs_error_t *err)
{
    size_t k = m ? m : 1;
    l->rows.customer_index = sgs_alloc_array(k, sizeof *l->rows.customer_index);
    l->rows.kind = sgs_alloc_array(k, sizeof *l->rows.kind);
    l->rows.priority = sgs_alloc_array(k, sizeof *l->rows.priority);
    l->rows.value_at_stake = sgs_alloc_array(k, sizeof *l->rows.value_at_stake);
    l->rows.channel = sgs_alloc_array(k, sizeof *l->rows.channel);
    l->rows.rank = sgs_alloc_array(k, sizeof *l->rows.rank);
    l->rows.control = sgs_alloc_array(k, sizeof *l->rows.control);
    l->customer_id = sgs_alloc_array(k, sizeof *l->customer_id);
    if (!l->rows.customer_index || !l->rows.kind || !l->rows.priority || !l->rows.value_at_stake ||
        !l->rows.channel || !l->rows.rank || !l->rows.control || !l->customer_id)
        return sgs_error_set(err, SGS_ENOMEM, "opportunities: no memory for %zu rows of the list",
                             m);
    return SGS_OK;
}

/* The summary is made of counts only: summed over the processes as one array. */
_Static_assert(sizeof(sgs_opportunity_list_summary_t) % sizeof(int64_t) == 0 &&
                   sizeof(sgs_opportunity_list_summary_t) ==
                       sizeof(int64_t) * (9 + 3 * SGS_OPP_KIND_COUNT + 2 * SGS_CHANNEL_COUNT),
               "sgs_opportunity_list_summary_t holds int64_t counts only");

/* This process's candidates (their routes packed in them): built and sorted, their index made
 * global. The caller frees *cand (*m rows, sorted). */
static int own_candidates(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                          const sgs_opportunity_stats_t *st, const uint16_t *fired,
                          const sgs_exec_t *exec, int64_t offset, sgs__opp_cand_t **cand, size_t *m,
                          sgs_error_t *err)
{
    *cand = NULL;
    *m = 0;
    int rc = sgs_opportunity_config_check(cfg, err);
    if (rc)
        return rc;
    if (!in || !in->customers || !st || (in->customers->n > 0 && !fired) ||
        (in->customers->n > 0 && !in->customers->customer_id))
        return sgs_error_set(err, SGS_EINVAL, "opportunities: a required array is NULL");
    sgs__opp_cand_t *a = NULL, *tmp = NULL;
    size_t n = 0;
    rc = sgs__opportunity_candidates(in, cfg, st, fired, exec, &a, &n, err);
    if (rc)
        return rc;
    tmp = sgs_alloc_array(n / 2 + 1, sizeof *tmp); /* the sort's scratch: half of them */
    if (!tmp) {
        sgs_free(a);
        return sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for %zu candidates", n);
    }
    sgs__opp_cand_t *sorted = sgs__opportunity_sort(a, tmp, n, sgs_exec_threads_for(exec, n));
    sgs_free(tmp);
    for (size_t k = 0; k < n; k++)
        sorted[k].index += offset; /* the same order: every index moves by the same offset */
    *cand = sorted;
    *m = n;
    return SGS_OK;
}

/* The splitters: cut[q] for q = 1 .. size - 1 is the first candidate of process q's range
 * (a range may be empty). Every process gathers every process's samples, a candidate in every
 * `stride` of its sorted list, and takes the samples at q / size of them. Sets *n_cut to the
 * number of cuts found (0 when no process has a sample: every range but the last is empty). */
static int splitters(const sgs_dist_t *d, const sgs_opportunity_config_t *cfg,
                     const sgs__opp_cand_t *cand, size_t m, int64_t total, sgs__opp_cand_t *cut,
                     size_t *n_cut, sgs_error_t *err)
{
    *n_cut = 0;
    const uint64_t want = (uint64_t)d->size * SAMPLES_PER_PROCESS;
    const size_t stride = (size_t)((uint64_t)total / want) + 1;
    const size_t n_mine = m / stride;
    unsigned char *mine = sgs_alloc_array(n_mine ? n_mine : 1, REC);
    int rc = mine ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "opportunities: no memory for samples");
    rc = sgs_dist_agree(d, rc, err);
    if (rc) {
        sgs_free(mine);
        return rc;
    }
    for (size_t j = 0; j < n_mine; j++) {
        size_t k = j * stride + stride / 2;
        rec_pack(&cand[k], 0, mine + j * REC);
    }
    void *all = NULL;
    rc = sgs_dist_gather_all(d, mine, n_mine * REC, &all, NULL, err);
    sgs_free(mine);
    if (rc)
        return rc;
    int64_t n_samples = (int64_t)n_mine; /* every process got the same samples: their count */
    sgs_dist_reduce_i64(d, &n_samples, 1, SGS_DIST_SUM);
    const size_t n_all = (size_t)n_samples;
    sgs__opp_cand_t *keys = sgs_alloc_array(n_all ? n_all : 1, sizeof *keys);
    rc = keys ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "opportunities: no memory for samples");
    rc = sgs_dist_agree(d, rc, err);
    if (rc) {
        sgs_free(all);
        sgs_free(keys);
        return rc;
    }
    for (size_t j = 0; j < n_all; j++) {
        rec_t r;
        rec_unpack((const unsigned char *)all + j * REC, cfg, &r);
        keys[j] = r.c;
    }
    sgs_free(all);
    if (n_all > 0) {
        qsort(keys, n_all, sizeof *keys, cand_compare);
        for (int q = 1; q < d->size; q++)
            cut[q] = keys[(size_t)q * n_all / (size_t)d->size];
        *n_cut = (size_t)d->size - 1;
    }
    sgs_free(keys);
    return SGS_OK;
}

int sgs_dist_opportunities_rank(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                                const sgs_opportunity_config_t *cfg,
                                const sgs_opportunity_stats_t *st, const uint16_t *fired,
                                const sgs_exec_t *exec, sgs_dist_opportunity_list_t *list,
                                sgs_error_t *err)
{
    memset(list, 0, sizeof *list);
    const int size = d->size;
    const size_t n_local = in && in->customers ? in->customers->n : 0;
    const int64_t offset = (int64_t)sgs_dist_offset(d, n_local);
    sgs__opp_cand_t *cand = NULL, *cut = NULL;
    size_t *send_bytes = NULL, *recv_bytes = NULL, *start = NULL;
    unsigned char *send = NULL;
    void *recv = NULL;
    rec_t *a = NULL, *tmp = NULL;
    size_t m = 0;

    /* 1. this process's candidates, sorted and routed, and the work arrays */
    int rc = own_candidates(in, cfg, st, fired, exec, offset, &cand, &m, err);
    if (rc == SGS_OK) {
        cut = calloc((size_t)size, sizeof *cut);
        send_bytes = calloc(3 * (size_t)size + 1, sizeof *send_bytes);
        if (!cut || !send_bytes)
            rc = sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory");
    }
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    recv_bytes = send_bytes + size;
    start = send_bytes + 2 * size;
    int64_t total = (int64_t)m;
    sgs_dist_reduce_i64(d, &total, 1, SGS_DIST_SUM);

    /* 2. one range of the global order per process, cut at sampled candidates */
    size_t n_cut = 0;
    rc = splitters(d, cfg, cand, m, total, cut, &n_cut, err);
    if (rc)
        goto cleanup;
    size_t at = 0;
    for (int q = 0; q < size; q++) {
        size_t end = q + 1 < size && n_cut ? ranked_before(cand, m, &cut[q + 1]) : m;
        if (q + 1 < size && !n_cut)
            end = 0; /* no samples: everything to the last process */
        send_bytes[q] = (end - at) * REC;
        at = end;
    }
    send = sgs_alloc_array(m ? m : 1, REC);
    rc = send
             ? SGS_OK
             : sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for %zu candidates", m);
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    for (size_t k = 0; k < m; k++) {
        size_t local = (size_t)(cand[k].index - offset);
        rec_pack(&cand[k], in->customers->customer_id[local], send + k * REC);
    }
    sgs_free(cand);
    cand = NULL;

    /* 3. each candidate to the process of its range */
    rc = sgs_dist_exchange(d, send, send_bytes, &recv, recv_bytes, err);
    if (rc)
        goto cleanup;
    sgs_free(send);
    send = NULL;
    size_t here = 0;
    for (int p = 0; p < size; p++) {
        start[p] = here;
        here += recv_bytes[p] / REC;
    }
    start[size] = here;

    /* 4. the runs received merged: this range in rank order. Memory per candidate of the
     * range: the received 28 bytes and two records of 32 for the merge, then the 32 of the
     * merged record, the 39 of its row, and the candidate the walk reads, put in the merge's
     * other buffer. */
    a = sgs_alloc_array(here ? here : 1, sizeof *a);
    tmp = sgs_alloc_array(here ? here : 1, sizeof *tmp);
    rc = a && tmp ? SGS_OK
                  : sgs_error_set(err, SGS_ENOMEM,
                                  "opportunities: out of memory for %zu candidates", here);
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    for (size_t k = 0; k < here; k++)
        rec_unpack((const unsigned char *)recv + k * REC, cfg, &a[k]);
    sgs_free(recv);
    recv = NULL;
    rc = sgs_dist_agree(d, list_alloc(list, here, err), err);
    if (rc)
        goto cleanup;
    const rec_t *sorted = merge_all(a, tmp, start, (size_t)size);
    void *spare = sorted == a ? (void *)tmp : (void *)a;
    sgs__opp_cand_t *walk_cand = spare;
    for (size_t k = 0; k < here; k++)
        walk_cand[k] = sorted[k].c;

    /* 5. the capacity walk, process after process: each starts from the counts per channel
     * the ranges before it left, which the one before passes on (a sum where only it adds) */
    int64_t used[SGS_CHANNEL_COUNT] = {0};
    sgs_opportunity_list_summary_t sum;
    memset(&sum, 0, sizeof sum);
    for (int p = 0; p < size; p++) {
        if (p == d->rank) {
            int64_t before = 0;
            for (int c = 0; c < SGS_CHANNEL_COUNT; c++)
                before += used[c]; /* every listed row counts once, on its channel */
            list->first_rank = before + 1;
            list->n_rows = sgs__opportunity_walk(cfg, walk_cand, here, used, list->first_rank,
                                                 &list->rows, &sum);
        }
        if (p + 1 < size) {
            if (p != d->rank)
                memset(used, 0, sizeof used);
            sgs_dist_reduce_i64(d, used, SGS_CHANNEL_COUNT, SGS_DIST_SUM);
        }
    }
    /* the ids of the listed rows: a subsequence of the candidates, in the same order */
    for (size_t k = 0, w = 0; k < here && w < list->n_rows; k++)
        if (sorted[k].c.index == list->rows.customer_index[w] &&
            sorted[k].c.kind == list->rows.kind[w])
            list->customer_id[w++] = sorted[k].id;
    list->n_candidates = (int64_t)here;
    int64_t counts[sizeof sum / sizeof(int64_t)];
    memcpy(counts, &sum, sizeof sum);
    sgs_dist_reduce_i64(d, counts, sizeof sum / sizeof(int64_t), SGS_DIST_SUM);
    memcpy(&list->summary, counts, sizeof sum);

cleanup:
    sgs_free(cand);
    free(cut);
    free(send_bytes);
    sgs_free(send);
    sgs_free(recv);
    sgs_free(a);
    sgs_free(tmp);
    if (rc)
        sgs_dist_opportunity_list_free(list);
    return rc;
}
