/*
 * io/id_set.c — the set of distinct customer ids of the CSV import (id_set_internal.h).
 */
#include "io/id_set_internal.h"

#include "kernels/core.h"

#include <string.h>

/* ---- The set of distinct customer ids ------------------------------------------------
 * Open addressing with linear probing, power-of-two capacity, at most half full. Empty
 * slots hold EMPTY_KEY (INT64_MIN); the id INT64_MIN itself is remembered by a flag, so
 * that a lookup touches one array. Ids are added a batch at a time with the slot of a
 * later id prefetched, which hides most cache misses when ids come in random order. */

#define EMPTY_KEY INT64_MIN
#define PREFETCH_AHEAD 8

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

int sgs__id_set_init(id_set_t *s, size_t cap)
{
    s->cap = cap;
    s->n = 0;
    s->has_min = 0;
    s->keys = sgs_alloc_array(cap, sizeof *s->keys);
    if (!s->keys)
        return SGS_ENOMEM;
    for (size_t k = 0; k < cap; k++)
        s->keys[k] = EMPTY_KEY;
    return SGS_OK;
}

void sgs__id_set_free(id_set_t *s)
{
    sgs_free(s->keys);
    s->keys = NULL;
}

/* Insert into a table known to have room; returns 1 when the key is new. */
static int id_set_put(id_set_t *s, int64_t key)
{
    if (key == EMPTY_KEY) {
        int added = !s->has_min;
        s->has_min = 1;
        s->n += (size_t)added;
        return added;
    }
    size_t mask = s->cap - 1;
    size_t k = (size_t)mix64((uint64_t)key) & mask;
    while (s->keys[k] != EMPTY_KEY) {
        if (s->keys[k] == key)
            return 0;
        k = (k + 1) & mask;
    }
    s->keys[k] = key;
    s->n++;
    return 1;
}

/* Double the capacity, rehashing every key. */
static int id_set_grow(id_set_t *s)
{
    id_set_t bigger = {NULL, 0, 0, 0};
    if (s->cap > SIZE_MAX / 32 || sgs__id_set_init(&bigger, 2 * s->cap) != SGS_OK) {
        sgs__id_set_free(&bigger);
        return SGS_ENOMEM;
    }
    for (size_t k = 0; k < s->cap; k++)
        if (s->keys[k] != EMPTY_KEY)
            (void)id_set_put(&bigger, s->keys[k]);
    bigger.has_min = s->has_min;
    bigger.n += (size_t)s->has_min;
    sgs__id_set_free(s);
    *s = bigger;
    return SGS_OK;
}

/* Add n ids (consecutive repeats are cheap). */
int sgs__id_set_add_many(id_set_t *s, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && ids[i] == ids[i - 1])
            continue;
        if (i + PREFETCH_AHEAD < n)
            __builtin_prefetch(
                &s->keys[(size_t)mix64((uint64_t)ids[i + PREFETCH_AHEAD]) & (s->cap - 1)]);
        if (id_set_put(s, ids[i]) && 2 * s->n > s->cap && id_set_grow(s) != SGS_OK)
            return SGS_ENOMEM;
    }
    return SGS_OK;
}
