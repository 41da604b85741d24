/*
 * io/h5_customers_check.c — the checks of /customers that look at the whole table: customer
 * ids appear once, and every referrer is a customer. See h5_input.h.
 */
#include "io/h5_input.h"

#include "io/h5_reader_internal.h"
#include "kernels/group.h"

#include <stdlib.h>
#include <string.h>

/* A customer id with the file row it came from, for the duplicate and referrer checks. */
typedef struct id_row {
    int64_t id;
    size_t row;
} id_row_t;

static int cmp_id_row(const void *pa, const void *pb)
{
    const id_row_t *a = pa, *b = pb;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

/* Index of `id` in the sorted keys (stride `stride` bytes apart), or SIZE_MAX. */
static size_t find_id(const void *base, size_t n, size_t stride, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v;
        memcpy(&v, (const unsigned char *)base + mid * stride, sizeof v);
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n) {
        int64_t v;
        memcpy(&v, (const unsigned char *)base + lo * stride, sizeof v);
        if (v == id)
            return lo;
    }
    return SIZE_MAX;
}

/* The ids sorted with their rows (*pairs, n of them, sgs_free), and every duplicate: reported
 * one by one (collect mode), or the pair with the smallest later row as the error. */
static int find_duplicates(reader_t *r, const sgs_customers_t *c, id_row_t **pairs_out)
{
    size_t n = c->n_rows;
    const char *id_path = r->cols[0].path;
    id_row_t *pairs = sgs_alloc_array(n, sizeof *pairs);
    if (!pairs)
        return sgs_error_set(r->rep.err, SGS_ENOMEM, "%s: out of memory", r->rep.file);
    *pairs_out = pairs;
    for (size_t i = 0; i < n; i++)
        pairs[i] = (id_row_t){c->customer_id[i], i};
    qsort(pairs, n, sizeof *pairs, cmp_id_row);
    size_t best = SIZE_MAX; /* index k of the pair (k-1, k) with the smallest later row */
    for (size_t k = 1; k < n; k++) {
        if (pairs[k].id != pairs[k - 1].id)
            continue;
        if (r->rep.fn) {
            sgs__reader_report(&r->rep, SGS_CHECK_DUPLICATE, SGS_EDATA, id_path, SGS_NO_ROW,
                               "rows %zu and %zu both have customer_id %lld", pairs[k - 1].row,
                               pairs[k].row, (long long)pairs[k].id);
        } else if (best == SIZE_MAX || pairs[k].row < pairs[best].row) {
            best = k;
        }
    }
    if (best != SIZE_MAX)
        return sgs__reader_report(&r->rep, SGS_CHECK_DUPLICATE, SGS_EDATA, id_path, SGS_NO_ROW,
                                  "rows %zu and %zu both have customer_id %lld",
                                  pairs[best - 1].row, pairs[best].row, (long long)pairs[best].id);
    return SGS_OK;
}

/* The known customer ids, to look referrers up in: sorted keys (stride bytes apart). When
 * they are a run of consecutive integers, as densely allocated ids are, a lookup is a range
 * check instead of a binary search (1.6 M referrers among 11 M customers: 1.2 s of random
 * reads). */
typedef struct id_lookup {
    const void *keys;
    size_t n, stride;
    int consecutive;
    int64_t first, last;
} id_lookup_t;

static id_lookup_t lookup_over(const void *keys, size_t n, size_t stride)
{
    id_lookup_t L = {keys, n, stride, 0, 0, 0};
    if (n > 0) {
        memcpy(&L.first, keys, sizeof L.first);
        memcpy(&L.last, (const unsigned char *)keys + (n - 1) * stride, sizeof L.last);
        /* strictly ascending keys: n of them in [first, last] fill it when last - first = n-1 */
        L.consecutive = (uint64_t)L.last - (uint64_t)L.first == (uint64_t)(n - 1);
    }
    return L;
}

static int is_customer(const id_lookup_t *L, int64_t id)
{
    if (L->consecutive)
        return L->n > 0 && id >= L->first && id <= L->last;
    return find_id(L->keys, L->n, L->stride, id) != SIZE_MAX;
}

/* Customers: duplicate ids (the first repeated row in file order and the earlier row it
 * repeats), then referrers that are neither -1 nor a customer. The fast path (ids already
 * strictly increasing, the usual case) needs no extra memory. Otherwise the distinct ids
 * come from the parallel customer index (kernels/group.h, which the run builds too): as
 * many as rows means no duplicate, and they are the sorted keys of the referrer lookup. Only
 * a table with duplicates is sorted with its rows, to name them. */
int sgs__reader_check_customers(reader_t *r, const sgs_customers_t *c)
{
    size_t n = c->n_rows;
    const char *id_path = r->cols[0].path;
    int increasing = 1;
#pragma omp parallel for num_threads(r->nt) schedule(static) reduction(& : increasing)         \
    if (n > 32768)
    for (size_t i = 1; i < n; i++)
        increasing &= c->customer_id[i - 1] < c->customer_id[i];
    id_row_t *pairs = NULL;
    int64_t *distinct = NULL;
    const void *keys = c->customer_id;
    size_t stride = sizeof(int64_t);
    int rc = SGS_OK;
    if (!increasing) {
        uint32_t *row_index = sgs_alloc_array(n, sizeof *row_index);
        size_t n_distinct = 0;
        const sgs_exec_t exec = {.n_threads = r->nt};
        int built = row_index ? sgs_customer_index_build(&exec, c->customer_id, n, row_index,
                                                         &distinct, &n_distinct, NULL)
                              : SGS_ENOMEM;
        sgs_free(row_index);
        if (built != SGS_OK) {
            rc = sgs_error_set(r->rep.err, built, "%s: %s: cannot index %zu customer ids: %s",
                               r->rep.file, id_path, n, sgs_strerror(built));
            goto cleanup;
        }
        keys = distinct;
        if (n_distinct < n) /* a duplicate: find and name it */
            rc = find_duplicates(r, c, &pairs);
        if (rc != SGS_OK)
            goto cleanup;
        if (pairs) {
            keys = pairs;
            stride = sizeof *pairs;
        }
    }
    if (c->referrer_id) {
        const int64_t *ref = c->referrer_id;
        const id_lookup_t L = lookup_over(keys, n, stride);
        size_t first = n;
#pragma omp parallel for num_threads(r->nt) schedule(static) reduction(min : first) if (n > 4096)
        for (size_t i = 0; i < n; i++)
            if (ref[i] != -1 && i < first && !is_customer(&L, ref[i]))
                first = i;
        for (size_t i = first; i < n; i++) {
            if (ref[i] == -1 || is_customer(&L, ref[i]))
                continue;
            rc = sgs__reader_report(
                &r->rep, SGS_CHECK_REFERRER, SGS_EDATA, sgs__reader_col_path(r, "referrer_id"), i,
                "referrer_id %lld is not a customer_id of /customers (use -1 for "
                "nobody)",
                (long long)ref[i]);
            if (rc)
                goto cleanup;
        }
    }
cleanup:
    sgs_free(pairs);
    sgs_free(distinct);
    return rc;
}
