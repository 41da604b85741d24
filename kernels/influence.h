/*
 * kernels/influence.h — the chain of influence: the referral forest from
 * /customers/referrer_id, each customer's direct and indirect referrals, and network
 * value = own CLV plus a damped sum of the value of those they brought in.
 *
 * Definitions. parent(i) = the customer whose customer_id equals referrer_id[i]. The
 * referral graph (an edge from every customer to its referrer) has out-degree <= 1, so
 * every connected piece is a tree or a single cycle with trees hanging off it.
 *   - referrer_id == -1: no referrer.
 *   - referrer_id not found among customer_id (including other negative values): unknown
 *     referrer; counted, reported (first examples by customer_id) and treated as none.
 *   - a cycle (a customer who is, through the chain, their own referrer; self-referral
 *     is a cycle of length 1): counted and reported; the referral edges of every cycle
 *     member are dropped, so each member becomes the root of its tree and keeps the
 *     referrals that do not lie on the cycle. Nothing ever walks around a cycle.
 * On the forest that remains, with children(i) the customers i referred and d the
 * damping,
 *   direct(i)   = |children(i)|
 *   indirect(i) = descendants(i) - direct(i)      (referrals of referrals, any depth)
 *   NV(i)       = clv(i) + d * sum_{c in children(i)} NV(c)
 *               = clv(i) + sum_{g >= 1} d^g * (sum of clv over generation g below i)
 *   depth(i)    = generations between i and its root (0 for a root)
 * A non-finite clv counts as 0; with clv NULL every customer counts 1, so NV becomes a
 * damped head count (1 + d * direct + d^2 * second generation + ...).
 *
 * Linear time: referrers are looked up in the sorted customer_id array (interpolation-
 * guided binary search, parallel); then one iterative leaves-first pass (Kahn 1962 on the
 * referral edges) accumulates NV, counts and depths and leaves exactly the cycle members
 * unprocessed. No recursion, so chains of any length are fine.
 */
#ifndef SGS_INFLUENCE_H
#define SGS_INFLUENCE_H

#include "kernels/core.h"

/* Per-customer status of the referral edge. */
enum sgs_referral_status {
    SGS_REFERRAL_NONE = 0,    /* referrer_id == -1 */
    SGS_REFERRAL_OK = 1,      /* referrer found, edge kept */
    SGS_REFERRAL_UNKNOWN = 2, /* referrer_id not among the customers: edge ignored */
    SGS_REFERRAL_CYCLE = 3    /* customer lies on a referral cycle: edge dropped */
};

/* How many examples the report keeps of each anomaly. */
#define SGS_INFLUENCE_EXAMPLES 5

typedef struct sgs_influence_config {
    double damping; /* d in [0, 1]: weight of each further generation; default 0.5 */
} sgs_influence_config_t;

void sgs_influence_config_default(sgs_influence_config_t *cfg);

/* Caller-owned outputs, [n] each; optional ones may be NULL. */
typedef struct sgs_influence_output {
    int64_t *n_direct;        /* required: customers this one referred */
    int64_t *n_indirect;      /* required: referrals of referrals, any depth */
    double *network_value;    /* required: NV, currency (or head count without clv) */
    int64_t *referrer_index;  /* optional: dense index of the referrer kept, -1 none */
    int32_t *depth;           /* optional: generations below the root */
    uint8_t *referral_status; /* optional: enum sgs_referral_status */
} sgs_influence_output_t;

/* What was found, for the run summary and the warnings. Examples are in customer_id
 * order: the unknown ones with the smallest customer_id, and for cycles the smallest
 * customer_id on each cycle, for the cycles whose smallest id is smallest. */
typedef struct sgs_influence_report {
    int64_t n_with_referrer;     /* referrer_id != -1 */
    int64_t n_unknown_referrers; /* referrer_id not found */
    int64_t n_cycles;            /* referral cycles */
    int64_t n_in_cycles;         /* customers on a cycle */
    int64_t n_referrers;         /* customers with n_direct > 0 */
    int64_t max_depth;           /* deepest generation in the forest */
    int n_unknown_examples;
    int64_t unknown_customer_id[SGS_INFLUENCE_EXAMPLES];
    int64_t unknown_referrer_id[SGS_INFLUENCE_EXAMPLES];
    int n_cycle_examples;
    int64_t cycle_customer_id[SGS_INFLUENCE_EXAMPLES]; /* smallest customer_id on the cycle */
    int64_t cycle_length[SGS_INFLUENCE_EXAMPLES];
} sgs_influence_report_t;

/* Referral forest, counts and network value (definitions above).
 *   n: customers; customer_id: [n] strictly ascending; referrer_id: [n], -1 for none;
 *   clv: [n] or NULL; cfg: NULL = defaults; out: caller-owned; report: may be NULL.
 * Allocates O(n) scratch once per call. The lookups run in parallel; the leaves-first pass
 * is serial (it touches only customers on referral chains), so every output is the same
 * bits whatever the thread count. n == 0 is valid.
 * @return 0; SGS_ECONFIG for a damping outside [0, 1]; SGS_EINVAL for a missing required
 * pointer; SGS_EDATA when customer_id is not strictly ascending (the message names the
 * row); SGS_ENOMEM. */
int sgs_influence_compute(size_t n, const int64_t *customer_id, const int64_t *referrer_id,
                          const double *clv, const sgs_influence_config_t *cfg,
                          const sgs_exec_t *exec, sgs_influence_output_t *out,
                          sgs_influence_report_t *report, sgs_error_t *err);

/* Serial reference twin of sgs_influence_compute, from the definitions above: referrers by
 * binary search, cycles found by walking up the referral chains, depths by walking up to the
 * root, then the customers deepest first (by index within a depth) hand their NV and counts to
 * their referrer. Every output and the report are the same as the kernel's, but NV to a
 * relative 1e-12 only: a referrer's children are summed in index order here, in leaves-first
 * queue order there. Quadratic in the longest chain (tests only). Codes and messages as the
 * kernel's (but for SGS_ENOMEM's). */
int sgs_influence_compute_ref(size_t n, const int64_t *customer_id, const int64_t *referrer_id,
                              const double *clv, const sgs_influence_config_t *cfg,
                              sgs_influence_output_t *out, sgs_influence_report_t *report,
                              sgs_error_t *err);

/* Dense index of `id` in the strictly ascending customer_id[0..n-1], or -1. Interpolation
 * guess, then galloping and binary search: O(1) expected probes for evenly spread ids,
 * O(log n) worst case. */
int64_t sgs_customer_index_of(const int64_t *customer_id, size_t n, int64_t id);

#endif /* SGS_INFLUENCE_H */
