/*
 * kernels/opportunity_rank_internal.h — the pieces of sgs_opportunities_rank
 * (kernels/opportunities.h) that a caller ranking the candidates of several processes needs
 * (engine/dist_opportunities.h): the candidate, its order, what routes it, and the walk within
 * the channel capacities taken from a given state. Internal, not installed: the public
 * contract is kernels/opportunities.h, whose rules these pieces implement; one process calls
 * them in the order candidates -> sort -> route -> walk (from zero counts) and gets exactly
 * the rows of sgs_opportunities_rank, which is made of them.
 */
#ifndef SGS_OPPORTUNITY_RANK_INTERNAL_H
#define SGS_OPPORTUNITY_RANK_INTERNAL_H

#include "kernels/opportunities.h"

/* One candidate row: a (customer, kind) with its value at stake and priority, and its route
 * (sgs__opp_route_t) packed into what would be the struct's padding: worked out where the
 * candidate is made, in customer order, its customer's columns are read in order instead of
 * at random after the sort. */
typedef struct sgs__opp_cand {
    double value;          /* value at stake, finite, +0 for zero (sgs_opportunity_value) */
    int64_t index;         /* customer index; its order is the customer_id order */
    int32_t priority;      /* cfg->priority[kind] */
    uint8_t kind;          /* enum sgs_opportunity_kind */
    uint8_t route_own;     /* the route's own */
    uint8_t route_blocked; /* the route's blocked (channels 1..7: bits 1..7) */
    uint8_t route_flags;   /* bit 0: the route's own_unanswered, bit 1: its control */
} sgs__opp_cand_t;

/* a ranks before b: priority desc, value desc, index (= customer_id) asc, kind asc. A total
 * order on candidates with distinct (index, kind). */
static inline int sgs__opp_before(const sgs__opp_cand_t *a, const sgs__opp_cand_t *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    if (a->value != b->value)
        return a->value > b->value;
    if (a->index != b->index)
        return a->index < b->index;
    return a->kind < b->kind;
}

/* What routes a candidate, from its customer's columns: its own channel, the channels it must
 * not go through (unanswered ones, and those avoided for its kind and RFM segment), and
 * whether it is in the control group. A pure function of the candidate. */
typedef struct sgs__opp_route {
    uint16_t blocked;       /* bit c: channel c is not to be used (bits 1..7 only) */
    uint8_t own;            /* the customer's own channel */
    uint8_t own_unanswered; /* the own channel is blocked because it went unanswered */
    uint8_t control;        /* in the control group (kept on the list, not contacted) */
} sgs__opp_route_t;

/* The candidates of in's customers from the masks fired (one per customer, or every fired kind
 * with st->all_opportunities), in customer order, index = the customer's index in `in`, each
 * with its route packed (sgs__opportunity_route of it, in->blocked_channels as given), into
 * *cand (allocated here, free with sgs_free; *m gets the count). Parallel by blocks; the
 * result does not depend on the thread count. Checks the count against st->n_candidates.
 * @return 0; SGS_EINVAL (the masks give another count than st->n_candidates); SGS_ENOMEM
 * (the messages of sgs_opportunities_rank). */
int sgs__opportunity_candidates(const sgs_opportunity_input_t *in,
                                const sgs_opportunity_config_t *cfg,
                                const sgs_opportunity_stats_t *st, const uint16_t *fired,
                                const sgs_exec_t *exec, sgs__opp_cand_t **cand, size_t *m,
                                sgs_error_t *err);

/* a[0..m) sorted by sgs__opp_before in place, with tmp[0..m / 2] as scratch: fixed runs
 * sorted in parallel, merged pairwise. Returns a. */
sgs__opp_cand_t *sgs__opportunity_sort(sgs__opp_cand_t *a, sgs__opp_cand_t *tmp, size_t m,
                                       int n_threads);

/* a[0..m), candidates as sgs__opportunity_candidates makes them (in (index, kind) order),
 * sorted by sgs__opp_before in place, with tmp[0..m / 2] as scratch (as sgs__opportunity_sort):
 * each quarter by a stable radix sort by (priority desc, value desc), whose ties keep the
 * input's order, which is the rest of sgs__opp_before's; then the quarters merged in pairs and
 * the halves merged. Two quarters at a time with n_threads > 1. Returns a. */
sgs__opp_cand_t *sgs__opportunity_sort_made(sgs__opp_cand_t *a, sgs__opp_cand_t *tmp, size_t m,
                                            int n_threads);

/* The route of candidate *cd, whose index is a customer of in, from its customer's columns
 * (the route fields of *cd are not read). */
sgs__opp_route_t sgs__opportunity_route(const sgs_opportunity_input_t *in,
                                        const sgs_opportunity_config_t *cfg,
                                        const sgs__opp_cand_t *cd);

/* *cd with route r packed into its route fields. */
void sgs__opportunity_route_pack(sgs__opp_cand_t *cd, sgs__opp_route_t r);

/* The route packed in *cd. */
sgs__opp_route_t sgs__opportunity_route_unpack(const sgs__opp_cand_t *cd);

/* The capacity walk over m candidates sorted[] in rank order, continuing from used[] (rows
 * already listed per assigned channel by the rows before; updated): the rules of
 * sgs_opportunities_rank, each candidate routed by the route packed in it. The listed rows go
 * to rows
 * (customer_index = the candidate's index), ranked first_rank, first_rank + 1, ...; *sum
 * is added to (not reset), n_candidates and n_listed included. Serial. Returns the number of
 * rows written. */
size_t sgs__opportunity_walk(const sgs_opportunity_config_t *cfg, const sgs__opp_cand_t *sorted,
                             size_t m, int64_t used[SGS_CHANNEL_COUNT], int64_t first_rank,
                             sgs_opportunity_rows_t *rows, sgs_opportunity_list_summary_t *sum);

#endif /* SGS_OPPORTUNITY_RANK_INTERNAL_H */
