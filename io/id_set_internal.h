/*
 * io/id_set_internal.h — the set of distinct customer ids of the CSV import (internal to io/): open
 * addressing with linear probing, power-of-two capacity, at most half full.
 */
#ifndef SGS_ID_SET_H
#define SGS_ID_SET_H

#include <stddef.h>
#include <stdint.h>

typedef struct id_set {
    int64_t *keys;
    size_t cap, n;
    int has_min; /* INT64_MIN was added (counted in n) */
} id_set_t;

/* An empty set with room for cap ids (a power of two); SGS_ENOMEM. */
int sgs__id_set_init(id_set_t *s, size_t cap);

void sgs__id_set_free(id_set_t *s);

/* Add n ids (consecutive repeats are cheap), growing as needed; SGS_ENOMEM. */
int sgs__id_set_add_many(id_set_t *s, const int64_t *ids, size_t n);

#endif
