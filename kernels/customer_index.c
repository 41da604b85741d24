/*
 * kernels/customer_index.c — distinct customer ids and the dense index of each row
 * (sgs_customer_index_build, kernels/group.h).
 *
 * Two paths, one result:
 *   - bitmap, when the ids span at most 8 bits per row: one bit per possible id, set in
 *     parallel; the rank of an id is the popcount of the bits before it. Real customer ids
 *     are usually allocated densely, and this is a few passes over memory.
 *   - hash table, for any other ids: serial insertion in first-seen order, then the
 *     distinct ids are sorted and the provisional indices remapped to ranks.
 */
#include "kernels/group.h"

#include <stdlib.h>
#include <string.h>

#define BITMAP_BITS_PER_ROW 8

/* ---- Bitmap path ----------------------------------------------------------------------- */

static int build_with_bitmap(int n_threads, const int64_t *customer_id, size_t n_rows,
                             int64_t min_id, uint64_t range, uint32_t *row_customer,
                             int64_t **ids_out, size_t *n_customers, sgs_error_t *err)
{
    size_t n_words = (size_t)((range + 63) / 64);
    uint64_t *bits = sgs_calloc_array(n_words, sizeof *bits);
    uint32_t *rank_base = sgs_alloc_array(n_words + 1, sizeof *rank_base);
    int64_t *ids = NULL;
    int rc = SGS_OK;
    if (!bits || !rank_base) {
        rc =
            sgs_error_set(err, SGS_ENOMEM, "grouping: no memory for a %zu-word id bitmap", n_words);
        goto cleanup;
    }

#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t i = 0; i < n_rows; i++) {
        uint64_t offset = (uint64_t)customer_id[i] - (uint64_t)min_id;
        __atomic_fetch_or(&bits[offset >> 6], UINT64_C(1) << (offset & 63), __ATOMIC_RELAXED);
    }

    /* Exclusive prefix popcount: serial, one add per 64 possible ids. */
    uint64_t total = 0;
    for (size_t w = 0; w < n_words; w++) {
        rank_base[w] = (uint32_t)total;
        total += (uint64_t)__builtin_popcountll(bits[w]);
        if (total > UINT32_MAX) {
            rc = sgs_error_set(err, SGS_EINVAL, "grouping: more than %u distinct customers",
                               UINT32_MAX);
            goto cleanup;
        }
    }
    rank_base[n_words] = (uint32_t)total;

    ids = sgs_alloc_array((size_t)total, sizeof *ids);
    if (!ids) {
        rc = sgs_error_set(err, SGS_ENOMEM, "grouping: no memory for %zu customer ids",
                           (size_t)total);
        goto cleanup;
    }
#pragma omp parallel num_threads(n_threads)
    {
#pragma omp for schedule(static)
        for (size_t i = 0; i < n_rows; i++) {
            uint64_t offset = (uint64_t)customer_id[i] - (uint64_t)min_id;
            uint64_t below = bits[offset >> 6] & ((UINT64_C(1) << (offset & 63)) - 1);
            row_customer[i] = rank_base[offset >> 6] + (uint32_t)__builtin_popcountll(below);
        }
#pragma omp for schedule(static)
        for (size_t w = 0; w < n_words; w++) {
            uint64_t word = bits[w];
            uint32_t k = rank_base[w];
            while (word) {
                int b = __builtin_ctzll(word);
                ids[k++] = (int64_t)((uint64_t)min_id + (uint64_t)w * 64 + (uint64_t)b);
                word &= word - 1;
            }
        }
    }
    *ids_out = ids;
    *n_customers = (size_t)total;
    ids = NULL;

cleanup:
    sgs_free(ids);
    sgs_free(bits);
    sgs_free(rank_base);
    return rc;
}

/* ---- Hash path --------------------------------------------------------------------------- */

typedef struct id_table {
    size_t capacity; /* power of two */
    size_t count;
    int64_t *keys;
    uint32_t *values; /* provisional index (first-seen order) + 1; 0 = empty slot */
} id_table_t;

static size_t hash_slot(int64_t key, size_t capacity)
{
    uint64_t h = (uint64_t)key * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 17) & (capacity - 1);
}

static int table_alloc(id_table_t *t, size_t capacity)
{
    t->capacity = capacity;
    t->count = 0;
    t->keys = sgs_alloc_array(capacity, sizeof *t->keys);
    t->values = sgs_calloc_array(capacity, sizeof *t->values);
    return (t->keys && t->values) ? SGS_OK : SGS_ENOMEM;
}

static void table_free(id_table_t *t)
{
    sgs_free(t->keys);
    sgs_free(t->values);
    memset(t, 0, sizeof *t);
}

/* Slot of key: where it is, or the empty slot where it belongs. */
static size_t table_find(const id_table_t *t, int64_t key)
{
    size_t s = hash_slot(key, t->capacity);
    while (t->values[s] != 0 && t->keys[s] != key)
        s = (s + 1) & (t->capacity - 1);
    return s;
}

/* Double the capacity, keeping every key's value. */
static int table_grow(id_table_t *t)
{
    id_table_t bigger;
    if (t->capacity > SIZE_MAX / 4 || table_alloc(&bigger, t->capacity * 2) != SGS_OK) {
        table_free(&bigger);
        return SGS_ENOMEM;
    }
    for (size_t s = 0; s < t->capacity; s++) {
        if (t->values[s] == 0)
            continue;
        size_t d = table_find(&bigger, t->keys[s]);
        bigger.keys[d] = t->keys[s];
        bigger.values[d] = t->values[s];
    }
    bigger.count = t->count;
    table_free(t);
    *t = bigger;
    return SGS_OK;
}

typedef struct id_with_index {
    int64_t id;
    uint32_t provisional;
} id_with_index_t;

static int compare_ids(const void *a, const void *b)
{
    int64_t x = ((const id_with_index_t *)a)->id;
    int64_t y = ((const id_with_index_t *)b)->id;
    return (x > y) - (x < y);
}

static int build_with_hash(int n_threads, const int64_t *customer_id, size_t n_rows,
                           uint32_t *row_customer, int64_t **ids_out, size_t *n_customers,
                           sgs_error_t *err)
{
    id_table_t table = {0};
    id_with_index_t *pairs = NULL;
    uint32_t *rank_of = NULL;
    int64_t *ids = NULL;
    int rc = SGS_OK;
    if (table_alloc(&table, 1024) != SGS_OK)
        goto nomem;

    for (size_t i = 0; i < n_rows; i++) {
        size_t s = table_find(&table, customer_id[i]);
        uint32_t value = table.values[s];
        if (value == 0) {
            if (table.count == UINT32_MAX - 1) {
                rc = sgs_error_set(err, SGS_EINVAL, "grouping: more than %u distinct customers",
                                   UINT32_MAX - 1);
                goto cleanup;
            }
            table.keys[s] = customer_id[i];
            value = (uint32_t)++table.count;
            table.values[s] = value;
            if (table.count * 2 > table.capacity && table_grow(&table) != SGS_OK)
                goto nomem;
        }
        row_customer[i] = value - 1;
    }

    size_t n = table.count;
    pairs = sgs_alloc_array(n, sizeof *pairs);
    rank_of = sgs_alloc_array(n, sizeof *rank_of);
    ids = sgs_alloc_array(n, sizeof *ids);
    if (!pairs || !rank_of || !ids)
        goto nomem;
    size_t k = 0;
    for (size_t s = 0; s < table.capacity; s++)
        if (table.values[s] != 0)
            pairs[k++] = (id_with_index_t){table.keys[s], table.values[s] - 1};
    table_free(&table);
    qsort(pairs, n, sizeof *pairs, compare_ids);
    for (size_t r = 0; r < n; r++) {
        ids[r] = pairs[r].id;
        rank_of[pairs[r].provisional] = (uint32_t)r;
    }
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t i = 0; i < n_rows; i++)
        row_customer[i] = rank_of[row_customer[i]];
    *ids_out = ids;
    *n_customers = n;
    ids = NULL;
    goto cleanup;

nomem:
    rc = sgs_error_set(err, SGS_ENOMEM, "grouping: no memory for the customer id table");
cleanup:
    table_free(&table);
    sgs_free(pairs);
    sgs_free(rank_of);
    sgs_free(ids);
    return rc;
}

/* ---- Entry point ------------------------------------------------------------------------- */

int sgs_customer_index_build(const sgs_exec_t *exec, const int64_t *customer_id, size_t n_rows,
                             uint32_t *row_customer, int64_t **ids_out, size_t *n_customers,
                             sgs_error_t *err)
{
    if (n_rows == 0)
        return sgs_error_set(err, SGS_EINVAL, "grouping: no rows");
    int n_threads = sgs_exec_threads(exec);
    int64_t min_id = customer_id[0];
    int64_t max_id = customer_id[0];
#pragma omp parallel for num_threads(n_threads) reduction(min : min_id) reduction(max : max_id)
    for (size_t i = 0; i < n_rows; i++) {
        min_id = customer_id[i] < min_id ? customer_id[i] : min_id;
        max_id = customer_id[i] > max_id ? customer_id[i] : max_id;
    }
    /* range - 1 fits in uint64 for any pair of int64 ids. */
    uint64_t range_minus_one = (uint64_t)max_id - (uint64_t)min_id;
    if (range_minus_one / BITMAP_BITS_PER_ROW < n_rows)
        return build_with_bitmap(n_threads, customer_id, n_rows, min_id, range_minus_one + 1,
                                 row_customer, ids_out, n_customers, err);
    return build_with_hash(n_threads, customer_id, n_rows, row_customer, ids_out, n_customers, err);
}
