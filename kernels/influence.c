/*
 * kernels/influence.c — referral forest, referral counts, network value.
 * See influence.h for the definitions.
 */
#include "kernels/influence.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sgs_influence_config_default(sgs_influence_config_t *cfg)
{
    cfg->damping = 0.5;
}

/* Rows between a prefetch and the lookup or queue step that reads what it fetched. */
#define LOOKUP_AHEAD 16
#define QUEUE_AHEAD 8

/* ---- Lookup -------------------------------------------------------------------------- */

/* Where id would be in ids[0..n) were the ids evenly spread (n > 0, ids[0] <= id <=
 * ids[n - 1]); computed in double so that no int64 difference can overflow. */
static inline size_t interpolation_guess(const int64_t *ids, size_t n, int64_t id)
{
    double span = (double)ids[n - 1] - (double)ids[0];
    double frac = span > 0.0 ? ((double)id - (double)ids[0]) / span : 0.0;
    double gd = frac * (double)(n - 1);
    return gd <= 0.0 ? 0 : (gd >= (double)(n - 1) ? n - 1 : (size_t)gd);
}

/* Ask for the cache line sgs_customer_index_of(ids, n, id) looks at first: the lookups of
 * a run of rows are random reads, and prefetching some rows ahead overlaps their misses. */
static inline void prefetch_index_of(const int64_t *ids, size_t n, int64_t id)
{
    if (n > 0 && id >= ids[0] && id <= ids[n - 1])
        __builtin_prefetch(&ids[interpolation_guess(ids, n, id)]);
}

int64_t sgs_customer_index_of(const int64_t *ids, size_t n, int64_t id)
{
    if (n == 0 || id < ids[0] || id > ids[n - 1])
        return -1;
    size_t g = interpolation_guess(ids, n, id);
    if (ids[g] == id)
        return (int64_t)g;
    size_t lo, hi; /* the id, if present, is in ids[lo..hi-1] */
    size_t base = g, step = 1;
    if (ids[g] < id) {
        /* gallop right keeping ids[base] < id */
        while (base + step < n && ids[base + step] < id) {
            base += step;
            step <<= 1;
        }
        lo = base + 1;
        hi = (base + step < n ? base + step : n - 1) + 1;
    } else {
        /* gallop left keeping ids[base] > id */
        while (step <= base && ids[base - step] > id) {
            base -= step;
            step <<= 1;
        }
        lo = step <= base ? base - step : 0;
        hi = base;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < n && ids[lo] == id) ? (int64_t)lo : -1;
}

/* ---- The forest ---------------------------------------------------------------------- */

/* The checks of the kernel and its twin; *cfg becomes `defaults` when NULL. */
static int influence_check(size_t n, const int64_t *customer_id, const int64_t *referrer_id,
                           const sgs_influence_config_t **cfg_io, sgs_influence_config_t *defaults,
                           const sgs_influence_output_t *out, sgs_error_t *err)
{
    if (!*cfg_io) {
        sgs_influence_config_default(defaults);
        *cfg_io = defaults;
    }
    const sgs_influence_config_t *cfg = *cfg_io;
    if (!(cfg->damping >= 0.0 && cfg->damping <= 1.0))
        return sgs_error_set(err, SGS_ECONFIG, "influence: damping = %g is outside [0, 1]",
                             cfg->damping);
    if (!out || !out->n_direct || !out->n_indirect || !out->network_value ||
        (n > 0 && (!customer_id || !referrer_id)))
        return sgs_error_set(err, SGS_EINVAL, "influence: a required array is NULL");
    if (n > (size_t)INT32_MAX)
        return sgs_error_set(err, SGS_EINVAL, "influence: %zu customers exceed the int32 range", n);
    return SGS_OK;
}

int sgs_influence_compute(size_t n, const int64_t *customer_id, const int64_t *referrer_id,
                          const double *clv, const sgs_influence_config_t *cfg,
                          const sgs_exec_t *exec, sgs_influence_output_t *out,
                          sgs_influence_report_t *report, sgs_error_t *err)
{
    sgs_influence_config_t defaults;
    int rc = influence_check(n, customer_id, referrer_id, &cfg, &defaults, out, err);
    if (rc)
        return rc;
    const double d = cfg->damping;
    const long nl = (long)n;
    const int n_threads = sgs_exec_threads_for(exec, n);

    int32_t *parent = sgs_alloc_array(n, sizeof *parent);   /* -1: none */
    int32_t *pending = sgs_alloc_array(n, sizeof *pending); /* children not yet done */
    int32_t *queue = sgs_alloc_array(n, sizeof *queue);     /* leaves-first order */
    uint8_t *status = out->referral_status;
    uint8_t *status_owned = NULL;
    if (!status)
        status = status_owned = sgs_alloc_array(n, sizeof *status);
    if (!parent || !pending || !queue || !status) {
        rc = sgs_error_set(err, SGS_ENOMEM, "influence: out of memory for %zu customers", n);
        goto cleanup;
    }
    int64_t *direct = out->n_direct;
    int64_t *desc = out->n_indirect; /* descendants until the end */
    double *nv = out->network_value; /* sum of children's NV until a node is done */

    /* 1. ids ascending; referrer lookups; zeroed accumulators */
    long first_bad = nl;
    int64_t n_with = 0, n_unknown = 0;
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(min : first_bad)  \
    reduction(+ : n_with, n_unknown)
    for (long il = 0; il < nl; il++) {
        size_t i = (size_t)il;
        if (i > 0 && customer_id[i] <= customer_id[i - 1] && il < first_bad)
            first_bad = il;
        pending[i] = 0;
        direct[i] = 0;
        desc[i] = 0;
        nv[i] = 0.0;
        if (il + LOOKUP_AHEAD < nl && referrer_id[i + LOOKUP_AHEAD] != -1)
            prefetch_index_of(customer_id, n, referrer_id[i + LOOKUP_AHEAD]);
        int64_t ref = referrer_id[i];
        if (ref == -1) {
            parent[i] = -1;
            status[i] = SGS_REFERRAL_NONE;
            continue;
        }
        n_with++;
        int64_t j = sgs_customer_index_of(customer_id, n, ref);
        parent[i] = (int32_t)j;
        status[i] = j >= 0 ? SGS_REFERRAL_OK : SGS_REFERRAL_UNKNOWN;
        n_unknown += j < 0;
    }
    if (first_bad < nl) {
        rc = sgs_error_set(err, SGS_EDATA,
                           "influence: customer_id is not strictly ascending at row %ld (%lld "
                           "after %lld)",
                           first_bad, (long long)customer_id[first_bad],
                           (long long)customer_id[first_bad - 1]);
        goto cleanup;
    }

    /* 2. children per customer (integer atomics: the same counts whatever the order) */
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (long il = 0; il < nl; il++) {
        int32_t j = parent[il];
        if (j >= 0) {
#pragma omp atomic
            pending[j]++;
        }
    }

    /* 3. customers without children are done: NV = own value; those with a referrer
     * start the queue, in index order */
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (long il = 0; il < nl; il++)
        if (pending[il] == 0)
            nv[il] = clv ? (isfinite(clv[il]) ? clv[il] : 0.0) : 1.0;
    size_t q_len = 0;
    for (size_t i = 0; i < n; i++)
        if (pending[i] == 0 && parent[i] >= 0)
            queue[q_len++] = (int32_t)i;

    /* 4. leaves first (Kahn): hand each finished customer's value to its referrer; a
     * referrer whose last child finished is finished and joins the queue */
    for (size_t head = 0; head < q_len; head++) {
        /* the referrers a little ahead in the queue: their rows are random reads */
        if (head + 2 * QUEUE_AHEAD < q_len)
            __builtin_prefetch(&parent[queue[head + 2 * QUEUE_AHEAD]]);
        if (head + QUEUE_AHEAD < q_len) {
            int32_t a = parent[queue[head + QUEUE_AHEAD]];
            __builtin_prefetch(&nv[a], 1);
            __builtin_prefetch(&direct[a], 1);
            __builtin_prefetch(&desc[a], 1);
            __builtin_prefetch(&pending[a], 1);
        }
        int32_t i = queue[head];
        int32_t j = parent[i];
        nv[j] += nv[i];
        direct[j]++;
        desc[j] += 1 + desc[i];
        if (--pending[j] == 0) {
            double own = clv ? (isfinite(clv[j]) ? clv[j] : 0.0) : 1.0;
            nv[j] = own + d * nv[j];
            if (parent[j] >= 0)
                queue[q_len++] = j;
        }
    }

    /* 5. whoever still waits for a child lies on a cycle (the child is on it too). Walk
     * each cycle once from its smallest index, drop its edges, finish its members. */
    int64_t n_cycles = 0, n_in_cycles = 0;
    int n_cycle_examples = 0;
    int64_t cycle_id[SGS_INFLUENCE_EXAMPLES], cycle_len[SGS_INFLUENCE_EXAMPLES];
    for (size_t i = 0; i < n; i++) {
        if (pending[i] == 0)
            continue;
        int64_t len = 0;
        int32_t k = (int32_t)i;
        while (pending[k] != 0) {
            int32_t next = parent[k];
            double own = clv ? (isfinite(clv[k]) ? clv[k] : 0.0) : 1.0;
            nv[k] = own + d * nv[k];
            pending[k] = 0;
            parent[k] = -1;
            status[k] = SGS_REFERRAL_CYCLE;
            len++;
            k = next;
        }
        if (n_cycle_examples < SGS_INFLUENCE_EXAMPLES) {
            cycle_id[n_cycle_examples] = customer_id[i];
            cycle_len[n_cycle_examples] = len;
            n_cycle_examples++;
        }
        n_cycles++;
        n_in_cycles += len;
    }

    /* 6. depth, parents before children: the queue in reverse (pending is all 0 now and
     * serves as the depth array when the caller did not ask for one) */
    int32_t *depth = out->depth ? out->depth : pending;
    if (out->depth)
        memset(depth, 0, n * sizeof *depth);
    int32_t max_depth = 0;
    for (size_t k = q_len; k-- > 0;) {
        int32_t i = queue[k];
        depth[i] = depth[parent[i]] + 1;
        if (depth[i] > max_depth)
            max_depth = depth[i];
    }

    /* 7. final outputs */
    int64_t n_referrers = 0;
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(+ : n_referrers)
    for (long il = 0; il < nl; il++) {
        desc[il] -= direct[il];
        n_referrers += direct[il] > 0;
        if (out->referrer_index)
            out->referrer_index[il] = parent[il];
    }

    if (report) {
        memset(report, 0, sizeof *report);
        report->n_with_referrer = n_with;
        report->n_unknown_referrers = n_unknown;
        report->n_cycles = n_cycles;
        report->n_in_cycles = n_in_cycles;
        report->n_referrers = n_referrers;
        report->max_depth = max_depth;
        for (size_t i = 0; i < n && report->n_unknown_examples < SGS_INFLUENCE_EXAMPLES; i++) {
            if (status[i] != SGS_REFERRAL_UNKNOWN)
                continue;
            report->unknown_customer_id[report->n_unknown_examples] = customer_id[i];
            report->unknown_referrer_id[report->n_unknown_examples] = referrer_id[i];
            report->n_unknown_examples++;
        }
        report->n_cycle_examples = n_cycle_examples;
        memcpy(report->cycle_customer_id, cycle_id, (size_t)n_cycle_examples * sizeof *cycle_id);
        memcpy(report->cycle_length, cycle_len, (size_t)n_cycle_examples * sizeof *cycle_len);
    }

cleanup:
    sgs_free(parent);
    sgs_free(pending);
    sgs_free(queue);
    sgs_free(status_owned);
    return rc;
}

/* ---- Serial reference twin ------------------------------------------------------------ */

static int compare_ids(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

int sgs_influence_compute_ref(size_t n, const int64_t *customer_id, const int64_t *referrer_id,
                              const double *clv, const sgs_influence_config_t *cfg,
                              sgs_influence_output_t *out, sgs_influence_report_t *report,
                              sgs_error_t *err)
{
    sgs_influence_config_t defaults;
    int rc = influence_check(n, customer_id, referrer_id, &cfg, &defaults, out, err);
    if (rc)
        return rc;
    for (size_t i = 1; i < n; i++)
        if (customer_id[i] <= customer_id[i - 1])
            return sgs_error_set(err, SGS_EDATA,
                                 "influence: customer_id is not strictly ascending at row %ld "
                                 "(%lld after %lld)",
                                 (long)i, (long long)customer_id[i], (long long)customer_id[i - 1]);
    int32_t *parent = sgs_alloc_array(n, sizeof *parent);
    int32_t *depth = sgs_alloc_array(n, sizeof *depth);
    int32_t *order = sgs_alloc_array(n, sizeof *order);
    int32_t *path = sgs_alloc_array(n + 1, sizeof *path); /* a walk; later one slot per depth */
    uint8_t *status = sgs_alloc_array(n, sizeof *status);
    uint8_t *mark = sgs_calloc_array(n, sizeof *mark);
    double *acc = sgs_calloc_array(n, sizeof *acc); /* sum of the children's NV */

    if (!parent || !status || !path || !acc || !depth || !order || !mark) {
        rc = sgs_error_set(err, SGS_ENOMEM, "influence: out of memory for %zu customers", n);
        goto cleanup;
    }
    sgs_influence_report_t rep;
    memset(&rep, 0, sizeof rep);
    /* the referrer of each customer: binary search among the ids */
    for (size_t i = 0; i < n; i++) {
        parent[i] = -1;
        status[i] = SGS_REFERRAL_NONE;
        if (referrer_id[i] == -1)
            continue;
        rep.n_with_referrer++;
        const int64_t *at =
            bsearch(&referrer_id[i], customer_id, n, sizeof *customer_id, compare_ids);
        status[i] = at ? SGS_REFERRAL_OK : SGS_REFERRAL_UNKNOWN;
        if (at) {
            parent[i] = (int32_t)(at - customer_id);
        } else {
            rep.n_unknown_referrers++;
            if (rep.n_unknown_examples < SGS_INFLUENCE_EXAMPLES) {
                rep.unknown_customer_id[rep.n_unknown_examples] = customer_id[i];
                rep.unknown_referrer_id[rep.n_unknown_examples] = referrer_id[i];
                rep.n_unknown_examples++;
            }
        }
    }
    /* cycles: walk up from each customer not yet seen (mark 1: on the current walk, 2: done);
     * reaching a customer of the current walk closes a cycle, whose members lose their edge */
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        int32_t k = (int32_t)i;
        while (k >= 0 && mark[k] == 0) {
            mark[k] = 1;
            path[len++] = k;
            k = parent[k];
        }
        if (k >= 0 && mark[k] == 1) { /* k is on a cycle: the path from k on */
            size_t from = 0;
            while (path[from] != k)
                from++;
            int32_t smallest = k;
            for (size_t p = from; p < len; p++)
                smallest = path[p] < smallest ? path[p] : smallest;
            for (size_t p = from; p < len; p++) { /* depth and order hold the cycle for now */
                status[path[p]] = SGS_REFERRAL_CYCLE;
                parent[path[p]] = -1;
                depth[path[p]] = smallest;
                order[path[p]] = (int32_t)(len - from);
            }
            rep.n_cycles++;
            rep.n_in_cycles += (int64_t)(len - from);
        }
        for (size_t p = 0; p < len; p++)
            mark[path[p]] = 2;
    }
    /* the examples: cycles in the order of their smallest index */
    for (size_t i = 0; i < n && rep.n_cycle_examples < SGS_INFLUENCE_EXAMPLES; i++)
        if (status[i] == SGS_REFERRAL_CYCLE && depth[i] == (int32_t)i) {
            rep.cycle_customer_id[rep.n_cycle_examples] = customer_id[i];
            rep.cycle_length[rep.n_cycle_examples] = order[i];
            rep.n_cycle_examples++;
        }
    /* depth: walk up to the root (no recursion; quadratic in the chain length at worst) */
    for (size_t i = 0; i < n; i++) {
        int32_t g = 0;
        for (int32_t k = parent[i]; k >= 0; k = parent[k])
            g++;
        depth[i] = g;
        rep.max_depth = g > rep.max_depth ? g : rep.max_depth;
    }
    /* the customers deepest first, by index within a depth (a counting sort on the depth;
     * path, no longer needed, holds the first place of each depth) */
    for (size_t g = 0; g <= (size_t)rep.max_depth; g++)
        path[g] = 0;
    for (size_t i = 0; i < n; i++)
        path[depth[i]]++;
    int32_t at = 0;
    for (size_t g = (size_t)rep.max_depth + 1; g-- > 0;) {
        int32_t count = path[g];
        path[g] = at;
        at += count;
    }
    for (size_t i = 0; i < n; i++)
        order[path[depth[i]]++] = (int32_t)i;
    /* NV and counts, deepest first: every child is done before its referrer */
    for (size_t i = 0; i < n; i++) {
        out->n_direct[i] = 0;
        out->n_indirect[i] = 0; /* descendants until the end */
    }
    for (size_t q = 0; q < n; q++) {
        int32_t i = order[q];
        double own = clv ? (isfinite(clv[i]) ? clv[i] : 0.0) : 1.0;
        out->network_value[i] = own + cfg->damping * acc[i];
        int32_t j = parent[i];
        if (j >= 0) {
            acc[j] += out->network_value[i];
            out->n_direct[j]++;
            out->n_indirect[j] += 1 + out->n_indirect[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        out->n_indirect[i] -= out->n_direct[i];
        rep.n_referrers += out->n_direct[i] > 0;
        if (out->referrer_index)
            out->referrer_index[i] = parent[i];
        if (out->depth)
            out->depth[i] = depth[i];
        if (out->referral_status)
            out->referral_status[i] = status[i];
    }
    if (report)
        *report = rep;

cleanup:
    sgs_free(parent);
    sgs_free(status);
    sgs_free(path);
    sgs_free(acc);
    sgs_free(depth);
    sgs_free(order);
    sgs_free(mark);
    return rc;
}
