/*
 * kernels/id_merge.h — the union of a few sorted lists of distinct ids (the customers of the
 * transactions, of /customers and of /events: engine/run_events.c), with where each id of the
 * union lies in each list and where each list's ids lie in the union.
 *
 * The union is merged in parallel over ranges of ids: the ranges start at ids taken from the
 * longest list at even steps, each list is cut where its ids reach a range's start (a binary
 * search), and each range is merged on its own at the place where the ranges before it end.
 * Two passes, as a merge into memory sized for the union must: sgs_id_merge_count counts
 * each range's union, sgs_id_merge_fill writes it. The result is the serial merge's whatever
 * the thread count (integers only).
 */
#ifndef SGS_ID_MERGE_H
#define SGS_ID_MERGE_H

#include "kernels/core.h"

#include <stdint.h>

/* The most lists one merge takes. */
#define SGS_ID_MERGE_MAX_LISTS 4

typedef struct sgs_id_list {
    const int64_t *id; /* [n] strictly ascending */
    size_t n;
    /* written by sgs_id_merge_fill when not NULL: */
    int64_t *index_in; /* [n_union]: the index in this list of the union's id u, or -1 */
    int64_t *union_at; /* [n]: the place in the union of this list's id j */
} sgs_id_list_t;

/* The ranges of a merge and where each one's union starts (sgs_id_merge_count fills it). */
typedef struct sgs_id_merge {
    int k;
    size_t n_ranges;
    size_t *cut; /* [(n_ranges + 1) x k]: list L's range r is [cut[r k + L], cut[(r + 1) k + L]) */
    size_t *start; /* [n_ranges + 1]: range r's first place in the union; start[n_ranges] = all */
} sgs_id_merge_t;

/* Cut lists[0..k) into ranges and count their union: *n_union ids are in at least one list,
 * n_new[L] (n_new may be NULL) of them in lists[L] and in none of the lists before it. m is
 * set up for sgs_id_merge_fill (sgs_id_merge_free releases it, also after a failure).
 * @return 0, SGS_EINVAL (k outside 1..SGS_ID_MERGE_MAX_LISTS, a NULL id array with n > 0) or
 * SGS_ENOMEM. The lists are not checked to be ascending (the index builders made them so). */
int sgs_id_merge_count(sgs_id_merge_t *m, const sgs_id_list_t *lists, int k, const sgs_exec_t *exec,
                       size_t *n_union, size_t *n_new, sgs_error_t *err);

/* The union, ascending, into out[0..n_union) (out may be NULL), and every list's index_in and
 * union_at that is not NULL; lists as given to sgs_id_merge_count, m as it left it. */
void sgs_id_merge_fill(const sgs_id_merge_t *m, const sgs_id_list_t *lists, const sgs_exec_t *exec,
                       int64_t *out);

void sgs_id_merge_free(sgs_id_merge_t *m);

/* Serial reference twin: one merge of the whole lists, the union's ids and maps as
 * sgs_id_merge_fill writes them (out, index_in and union_at when not NULL; out sized for the
 * union), *n_union and n_new as sgs_id_merge_count gives them. @return 0 or SGS_EINVAL. */
int sgs_id_merge_ref(const sgs_id_list_t *lists, int k, int64_t *out, size_t *n_union,
                     size_t *n_new, sgs_error_t *err);

#endif /* SGS_ID_MERGE_H */
