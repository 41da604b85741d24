/*
 * kernels/id_merge.c — the union of sorted id lists, merged by ranges in parallel (see
 * id_merge.h); the serial reference twin merges the whole lists with the same function.
 */
#include "kernels/id_merge.h"

#include <string.h>

/* Ranges per thread: ids are not spread alike over the lists, so that smaller ranges even
 * out the threads' work. */
#define RANGES_PER_THREAD 4

static int check_lists(const sgs_id_list_t *lists, int k, sgs_error_t *err)
{
    if (k < 1 || k > SGS_ID_MERGE_MAX_LISTS || !lists)
        return sgs_error_set(err, SGS_EINVAL, "id merge: %d lists, not 1..%d", k,
                             SGS_ID_MERGE_MAX_LISTS);
    for (int l = 0; l < k; l++)
        if (lists[l].n > 0 && !lists[l].id)
            return sgs_error_set(err, SGS_EINVAL, "id merge: list %d has no ids", l);
    return SGS_OK;
}

/* The first index of list l whose id is >= id. */
static size_t lower_bound(const sgs_id_list_t *l, int64_t id)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->id[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Merge the lists' stretches [lo[l], hi[l]) into the union from place u0 on: returns the
 * ids of the stretch's union; n_new[l] += those whose first list is l; with fill, writes out
 * and the lists' maps. */
static size_t merge_stretch(const sgs_id_list_t *lists, int k, const size_t *lo, const size_t *hi,
                            size_t u0, int fill, int64_t *out, size_t *n_new)
{
    size_t at[SGS_ID_MERGE_MAX_LISTS], u = u0;
    memcpy(at, lo, (size_t)k * sizeof *at);
    for (;;) {
        int64_t id = 0;
        int have = 0;
        for (int l = 0; l < k; l++)
            if (at[l] < hi[l] && (!have || lists[l].id[at[l]] < id)) {
                id = lists[l].id[at[l]];
                have = 1;
            }
        if (!have)
            break;
        int first = -1;
        for (int l = 0; l < k; l++) {
            int in = at[l] < hi[l] && lists[l].id[at[l]] == id;
            if (in && first < 0)
                first = l;
            if (fill && lists[l].index_in)
                lists[l].index_in[u] = in ? (int64_t)at[l] : -1;
            if (fill && in && lists[l].union_at)
                lists[l].union_at[at[l]] = (int64_t)u;
            at[l] += (size_t)in;
        }
        if (n_new)
            n_new[first]++;
        if (fill && out)
            out[u] = id;
        u++;
    }
    return u - u0;
}

void sgs_id_merge_free(sgs_id_merge_t *m)
{
    sgs_free(m->cut);
    sgs_free(m->start);
    memset(m, 0, sizeof *m);
}

int sgs_id_merge_count(sgs_id_merge_t *m, const sgs_id_list_t *lists, int k, const sgs_exec_t *exec,
                       size_t *n_union, size_t *n_new, sgs_error_t *err)
{
    memset(m, 0, sizeof *m);
    int rc = check_lists(lists, k, err);
    if (rc != SGS_OK)
        return rc;
    int longest = 0;
    size_t total = 0;
    for (int l = 0; l < k; l++) {
        total += lists[l].n;
        if (lists[l].n > lists[longest].n)
            longest = l;
    }
    int n_threads = sgs_exec_threads_for(exec, total);
    size_t n_longest = lists[longest].n;
    size_t r = n_threads > 1 ? (size_t)n_threads * RANGES_PER_THREAD : 1;
    m->k = k;
    m->n_ranges = r < n_longest ? r : 1;
    m->cut = sgs_alloc_array(m->n_ranges + 1, (size_t)k * sizeof *m->cut);
    m->start = sgs_alloc_array(m->n_ranges + 1, sizeof *m->start);
    size_t *new_part = sgs_calloc_array(m->n_ranges, SGS_ID_MERGE_MAX_LISTS * sizeof *new_part);
    if (!m->cut || !m->start || !new_part) {
        sgs_free(new_part);
        sgs_id_merge_free(m);
        return sgs_error_set(err, SGS_ENOMEM, "id merge: out of memory");
    }
    /* range q starts at the longest list's id at n_longest q / n_ranges */
    for (size_t q = 0; q <= m->n_ranges; q++)
        for (int l = 0; l < k; l++) {
            size_t *c = &m->cut[q * (size_t)k + (size_t)l];
            if (q == 0 || q == m->n_ranges)
                *c = q == 0 ? 0 : lists[l].n;
            else
                *c = lower_bound(&lists[l], lists[longest].id[n_longest * q / m->n_ranges]);
        }
    long n_ranges = (long)m->n_ranges;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (long q = 0; q < n_ranges; q++) {
        const size_t *lo = &m->cut[(size_t)q * (size_t)k];
        m->start[q + 1] = merge_stretch(lists, k, lo, lo + k, 0, 0, NULL,
                                        new_part + (size_t)q * SGS_ID_MERGE_MAX_LISTS);
    }
    m->start[0] = 0;
    for (size_t q = 0; q < m->n_ranges; q++)
        m->start[q + 1] += m->start[q];
    *n_union = m->start[m->n_ranges];
    if (n_new)
        for (int l = 0; l < k; l++) {
            n_new[l] = 0;
            for (size_t q = 0; q < m->n_ranges; q++)
                n_new[l] += new_part[q * SGS_ID_MERGE_MAX_LISTS + (size_t)l];
        }
    sgs_free(new_part);
    return SGS_OK;
}

void sgs_id_merge_fill(const sgs_id_merge_t *m, const sgs_id_list_t *lists, const sgs_exec_t *exec,
                       int64_t *out)
{
    long n_ranges = (long)m->n_ranges;
    size_t k = (size_t)m->k;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, m->start[m->n_ranges]))            \
    schedule(dynamic, 1)
    for (long q = 0; q < n_ranges; q++) {
        const size_t *lo = &m->cut[(size_t)q * k];
        merge_stretch(lists, m->k, lo, lo + k, m->start[q], 1, out, NULL);
    }
}

int sgs_id_merge_ref(const sgs_id_list_t *lists, int k, int64_t *out, size_t *n_union,
                     size_t *n_new, sgs_error_t *err)
{
    int rc = check_lists(lists, k, err);
    if (rc != SGS_OK)
        return rc;
    size_t lo[SGS_ID_MERGE_MAX_LISTS] = {0}, hi[SGS_ID_MERGE_MAX_LISTS];
    for (int l = 0; l < k; l++)
        hi[l] = lists[l].n;
    if (n_new)
        memset(n_new, 0, (size_t)k * sizeof *n_new);
    *n_union = merge_stretch(lists, k, lo, hi, 0, 1, out, n_new);
    return SGS_OK;
}
