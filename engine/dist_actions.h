/*
 * engine/dist_actions.h — the actions step over customers spread over processes
 * (docs/mpi.md): lifecycle stages and their transitions, influence along referrals that cross
 * processes, the interaction audit, and the opportunity step end to end with each row's reason
 * worded on its customer's process. Each function is the spread twin of a single-process
 * kernel: every process passes its own customers of the combined customer index
 * (engine/run_actions.h), which are the global customers [offset, offset + n) in ascending
 * customer_id, offset being the count of the processes before it; every result equals, bit for
 * bit, the kernel's on all customers, whatever the number of processes.
 *
 * Every function is collective (each process calls it, in the same order) and returns the
 * same code on every process: the lowest failing process's, with its message prefixed
 * "process R of N: " (engine/dist.h sgs_dist_agree).
 */
#ifndef SGS_DIST_ACTIONS_H
#define SGS_DIST_ACTIONS_H

#include "engine/dist.h"
#include "engine/dist_detect.h"
#include "engine/dist_opportunities.h"
#include "kernels/audit.h"
#include "kernels/contact_policy.h"
#include "kernels/influence.h"
#include "kernels/rfm.h"
#include "kernels/stages.h"

/* ---- Stages ------------------------------------------------------------------------------ */

/* sgs_stages_compute over every process's customers: out (this process's customers, [in->n]
 * each) and out->segment_cycle_days (the same on every process) equal the kernel's on all
 * customers; *summary (may be NULL) holds the counts over every process (integers, summed) and
 * the medians. How: each process computes its customers' own cycles (pass 1 of the kernel,
 * kernels/stages.h sgs_stages_own_cycles); the medians of the own cycles per segment and
 * overall are selected among every process's values (engine/dist_segments.h
 * sgs_dist_group_medians, no value moves); each process stages its customers from them (pass
 * 2, sgs_stages_given_medians). What a process sends: 3 (k + 1) integers, then 64 rounds of one
 * or two integers per segment and overall (k segments), and 14 integers for the counts;
 * nothing per customer. Segment labels must be below the customer count of all processes (the
 * kernel's check); a process without customers may pass no segment column.
 * @return as sgs_stages_compute (the first bad customer of the lowest failing process, in the
 * kernel's words), the same on every process. */
int sgs_dist_stages_compute(const sgs_dist_t *d, const sgs_stage_input_t *in, int32_t as_of_day,
                            const sgs_stage_rules_t *rules, const sgs_exec_t *exec,
                            sgs_stage_output_t *out, sgs_stage_summary_t *summary,
                            sgs_error_t *err);

/* The transitions between two as-of days over every process's customers: counts (the same on
 * every process) are sgs_stage_transitions over all customers (integers, summed: 81 sent), and
 * mean_days (may be NULL) sgs_stage_mean_days of them over interval_days (> 0).
 * @return 0; SGS_EDATA for a stage code >= SGS_STAGE_COUNT (the row named is the process's own
 * row, prefixed with the process); SGS_EINVAL for interval_days <= 0; the same on every
 * process. */
int sgs_dist_stage_transitions(const sgs_dist_t *d, size_t n, const uint8_t *stage_before,
                               const uint8_t *stage_after, int32_t interval_days,
                               const sgs_exec_t *exec,
                               int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT],
                               double mean_days[SGS_STAGE_COUNT], sgs_error_t *err);

/* The stages checked on the backtest over every process's customers: customers and bought (the
 * same on every process) are sgs_stage_came_back (kernels/stage_columns.h) over all customers,
 * each process counting its own (stage and p_buy at the calibration end `end`, from
 * sgs_dist_stages_compute) and the counts summed (18 integers sent). @return as the kernel (the
 * lowest failing process's message), the same on every process. */
int sgs_dist_stage_came_back(const sgs_dist_t *d, const sgs_stage_input_t *in, const uint8_t *stage,
                             const double *p_buy, int32_t end, int32_t until,
                             int64_t customers[SGS_STAGE_COUNT], int64_t bought[SGS_STAGE_COUNT],
                             sgs_error_t *err);

/* ---- Influence --------------------------------------------------------------------------- */

/* Bytes of a customer on a referral chain in the gather: customer_id, referrer_id, clv and
 * the global customer index (8 each). */
#define SGS_DIST_REFERRAL_RECORD_BYTES 32

/* sgs_influence_compute over every process's customers: out (this process's n customers) and
 * *report (may be NULL; the same on every process) equal the kernel's on all customers, bit for
 * bit; out->referrer_index (optional) is the referrer's global index.
 * How: the customers that take part in a referral are those with a referrer (referrer_id !=
 * -1) and those some customer names as referrer. (1) Each process sends the referrer_id of its
 * customers with one to the process whose id range holds it (8 bytes; none when no process's
 * range holds it: the referrer is no customer), which marks its customers named. (2) The
 * customers that take part, in id order, are gathered by every process (a
 * SGS_DIST_REFERRAL_RECORD_BYTES record each, in rank order, which is id order), and every
 * process runs the kernel on them: the kernel's order of work (leaves first, in index order)
 * depends only on the relative order of the customers that take part, so the sums of network
 * value are added in the same order as on all customers. (3) Each process takes its customers'
 * results; the others are the kernel's for a customer outside every chain (no referrals, depth
 * 0, network value its own value, status none). Bounded by the customers on referral chains:
 * every process holds all of them (the record, the kernel's columns and scratch: about 105 bytes
 * each). What a process sends: 8 bytes per customer of its with a referrer owned elsewhere,
 * 32 (N - 1) bytes per customer of its on a chain, and its id range (24 bytes) to every other. A
 * process without customers may pass NULL columns; clv must be present on every process holding
 * customers or on none.
 * @return as sgs_influence_compute (the row in the ascending check is the global row); SGS_EINVAL
 * when the processes disagree on clv; the same on every process. */
int sgs_dist_influence_compute(const sgs_dist_t *d, size_t n, const int64_t *customer_id,
                               const int64_t *referrer_id, const double *clv,
                               const sgs_influence_config_t *cfg, const sgs_exec_t *exec,
                               sgs_influence_output_t *out, sgs_influence_report_t *report,
                               sgs_error_t *err);

/* ---- The audit --------------------------------------------------------------------------- */

/* sgs_audit_compute over every process's customers: rows [n_groups + 1] and untapped_per_kind
 * (may be NULL) the same on every process and equal to the kernel's on all customers, bit for
 * bit (the survey sums too), wherever the processes' customers are cut. The counts are integers:
 * each process tallies its customers (sgs_audit_block_tallies, in parallel, each of its blocks
 * from zero) and the counts are summed. The survey sums, the only floating-point ones, are the
 * kernel's sums of its blocks of 16,384 global customers, each block's sum made customer after
 * customer from zero: they are carried from process to process (engine/dist_blocks.h
 * sgs_dist_chain), each continuing the block the processes before it left open with its first
 * customers (at most 16,383 of them, serially: sgs_audit_tally_more), then closing it and each
 * of its own blocks in block order as the kernel adds them (sgs_audit_add_blocks). Where the
 * processes are cut at multiples of 16,384 (a run's buyers are; the combined customer index of
 * the actions step in general is not) no block is continued. What a process sends: the counts
 * (61 integers per group and everyone, 20 for the kinds), N rounds of 2 n_groups + 1 doubles;
 * nothing per customer.
 * @return as sgs_audit_compute, the same on every process. */
int sgs_dist_audit_compute(const sgs_dist_t *d, const sgs_stage_input_t *in, int32_t as_of_day,
                           const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                           const uint16_t *fired, const sgs_exec_t *exec, sgs_audit_row_t *rows,
                           int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS], sgs_error_t *err);

/* ---- Opportunities, end to end ---------------------------------------------------------- */

/* What opportunities.csv prints of a row's customer besides the row
 * (engine/write_opportunities_csv.c), which only the customer's owner holds, for each row of a
 * stretch of the list. All owned. */
typedef struct sgs_dist_row_facts {
    char *reason_text;     /* the rows' reasons one after another, no separator */
    size_t *reason_offset; /* [n_rows + 1]: row r's reason is reason_text [reason_offset[r],
                              reason_offset[r + 1]) */
    uint8_t *stage;        /* [n_rows] the customer's stage (in->stage) */
    int32_t *segment;      /* [n_rows] its k-means segment, -1 without segments */
    uint8_t *rfm_segment;  /* [n_rows] its RFM segment (in->rfm_segment; SGS_RFM_SEGMENT_COUNT
                              for no purchase or without the column) */
} sgs_dist_row_facts_t;

/* Release what f owns (NULL-safe; f is then empty). */
void sgs_dist_row_facts_free(sgs_dist_row_facts_t *f);

typedef struct sgs_dist_actions_list {
    sgs_opportunity_stats_t stats;     /* detection's thresholds (the same on every process); this
                                          process's counts, n_customers and n_candidates after the
                                          contact policy (owns segment_clv_median) */
    sgs_dist_detect_counts_t detected; /* detection's counts over every process, before the
                                          policy (the single-process opp_stats.n_fired) */
    sgs_contact_policy_stats_t policy; /* the policy's counts summed over the processes */
    int audit_ran;                     /* an audit configuration was given */
    sgs_audit_row_t audit_stage[SGS_STAGE_COUNT + 1];     /* per stage, then everyone */
    sgs_audit_row_t audit_rfm[SGS_RFM_SEGMENT_COUNT + 2]; /* per RFM segment, none, everyone */
    int64_t audit_untapped_per_kind[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS];
    sgs_dist_opportunity_list_t list; /* this process's stretch of the list, global ranks, the
                                         whole list's summary */
    sgs_dist_row_facts_t facts;       /* each row's reason, stage, segment and RFM segment */
    double value_listed_per_kind[SGS_OPP_KIND_COUNT]; /* value at stake of the whole list's
                                                         rows per kind, exact sums */
} sgs_dist_actions_list_t;

/* Release what l owns (NULL-safe; l is then empty). */
void sgs_dist_actions_list_free(sgs_dist_actions_list_t *l);

/* Bytes a request travels in: the customer's index on its owner and the kind; and the fixed
 * bytes of an answer before the reason and its NUL: stage, RFM segment, segment. */
#define SGS_DIST_REASON_REQUEST_BYTES 8
#define SGS_DIST_ROW_FACTS_BYTES 6

/* The customer's facts of every row of a stretch of the list, each made on the process that
 * owns the row's customer: the reason worded by engine/opportunity_reason.h
 * sgs_opportunity_reason with that process's customers in, and stats, whose thresholds are the
 * same on every process, so that each row's text is the one a single process writes (cut, as
 * opportunities.csv cuts it, at SGS_OPPORTUNITY_REASON_MAX - 1 bytes); its stage, segment and
 * RFM segment. Every process passes its own customers (in, the global customers [offset, offset
 * + n)) and its stretch (list: rows whose customer_index is global, of any process). Each row
 * goes to its customer's owner as an SGS_DIST_REASON_REQUEST_BYTES request; the owner sends back
 * SGS_DIST_ROW_FACTS_BYTES, the text and a NUL. *facts (overwritten; free with
 * sgs_dist_row_facts_free; empty after a failure) gets them in row order. What a process sends:
 * 8 bytes per row of its stretch whose customer is another process's, 7 + the reason's length
 * per row of its customers held elsewhere, 8 (N - 1) bytes. @return 0; SGS_ENOMEM; the same on
 * every process. */
int sgs_dist_opportunity_reasons(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                                 const sgs_opportunity_config_t *cfg,
                                 const sgs_opportunity_stats_t *stats,
                                 const sgs_dist_opportunity_list_t *list,
                                 sgs_dist_row_facts_t *facts, sgs_error_t *err);

/* The opportunity step of a run over every process's customers, in the single-process order
 * (engine/run_opportunities.c): detection with the base-wide thresholds
 * (engine/dist_detect.h); the audit (when audit_cfg is not NULL: by stage with the untapped
 * counts, and by RFM segment, sgs_dist_audit_compute, whose cut at multiples of 16,384
 * customers it needs); the contact policy (per customer, counts summed); the ranking and the
 * capacity walk (engine/dist_opportunities.h); the reasons, each worded on its customer's
 * owner with the customer's stage and segments (sgs_dist_opportunity_reasons); the value listed per
 * kind (exact sums of every process's stretch, merged). in: this process's customers with their
 * stages, cycles, referrals and RFM segments (in->blocked_channels is ignored: the policy's is
 * used); fired and blocked_channels [in->customers->n], caller-owned: the masks after the policy
 * and the blocked channels. *out (overwritten; free with sgs_dist_actions_list_free; after a
 * failure it holds nothing). Concatenated in process order, the stretches and their reasons are the
 * single-process list and its reasons, byte for byte, and the counts, audit rows and values listed
 * are the same. What a process sends: detection's and the audit's integers, the ranking's 28 bytes
 * per candidate sent to another range, the reasons' requests and texts, 10 exact sums (600 bytes
 * each) to every process. @return as the parts, the same on every process. */
int sgs_dist_actions_opportunities(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                                   const sgs_opportunity_config_t *cfg,
                                   const sgs_audit_config_t *audit_cfg, const sgs_exec_t *exec,
                                   uint16_t *fired, uint8_t *blocked_channels,
                                   sgs_dist_actions_list_t *out, sgs_error_t *err);

#endif /* SGS_DIST_ACTIONS_H */
