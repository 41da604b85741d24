/*
 * kernels/audit.h — the interaction audit: a baseline of today's contact activity per group
 * of customers (a lifecycle stage, an RFM segment), by channel, over two windows ending on
 * the as-of day, and the untapped opportunities (customers with an opportunity and no
 * contact in the window).
 *
 * For every customer i of group g = group[i], window w of W days (days t-W+1 .. t, t the
 * as-of day) and the events of i on those days (kernels/tables.h, enum sgs_event_kind):
 *   customers          1
 *   with_opportunity   fired[i] != 0 (bits 1..9: a kind fired, before the contact policy)
 *   contacted[w]       at least one campaign contact (kind 7)
 *   contacts[w][c]     campaign contacts through channel c (event_channel; 0 unknown, also
 *                      for codes outside 0..7 and without the column)
 *   contacted_via[w][c]  customers with at least one campaign contact through channel c
 *   responses[w][c]    campaign responses (kind 8) through channel c
 *   responders[w]      at least one campaign response
 *   support[w]         support contacts (kind 1); complaints[w]: complaints (kind 2)
 *   untapped[w]        with_opportunity and not contacted[w]
 *   surveyed, survey_sum  customers with a survey answer (kind 6, finite value) in the
 *                      longest window, and the sum of their latest scores (the mean is
 *                      survey_sum / surveyed)
 * untapped_per_kind[k][w] counts the customers with kind k fired and no contact in window w.
 * Response rate is responses / contacts of the same window: responses to contacts made
 * shortly before the window count too (a response carries no link to its contact).
 */
#ifndef SGS_AUDIT_H
#define SGS_AUDIT_H

#include "kernels/opportunities.h"
#include "kernels/stages.h"

#define SGS_AUDIT_WINDOWS 2

typedef struct sgs_audit_config {
    int32_t window_days[SGS_AUDIT_WINDOWS]; /* short then long, 1 <= short < long; 30, 90 */
} sgs_audit_config_t;

void sgs_audit_config_default(sgs_audit_config_t *cfg);

/* @return 0 or SGS_ECONFIG naming the window. */
int sgs_audit_config_check(const sgs_audit_config_t *cfg, sgs_error_t *err);

/* One group's counts (definitions above). */
typedef struct sgs_audit_row {
    int64_t customers;
    int64_t with_opportunity;
    int64_t contacted[SGS_AUDIT_WINDOWS];
    int64_t contacts[SGS_AUDIT_WINDOWS][SGS_CHANNEL_COUNT];
    int64_t contacted_via[SGS_AUDIT_WINDOWS][SGS_CHANNEL_COUNT];
    int64_t responses[SGS_AUDIT_WINDOWS][SGS_CHANNEL_COUNT];
    int64_t responders[SGS_AUDIT_WINDOWS];
    int64_t support[SGS_AUDIT_WINDOWS];
    int64_t complaints[SGS_AUDIT_WINDOWS];
    int64_t untapped[SGS_AUDIT_WINDOWS];
    int64_t surveyed;
    double survey_sum;
} sgs_audit_row_t;

/* Tally the customers of in (events: in->event_offset etc.; no events counts customers and
 * opportunities only) at as_of_day into rows[0 .. n_groups-1] by group[i], and rows[n_groups]
 * over everyone; untapped_per_kind may be NULL. fired may be NULL (no opportunities).
 * Parallel over fixed blocks of customers, partials combined in block order: the same bits
 * for any thread count. @return 0; SGS_ECONFIG; SGS_EINVAL for a NULL array; SGS_EDATA when
 * group[i] >= n_groups (naming the customer); SGS_ENOMEM. */
int sgs_audit_compute(const sgs_stage_input_t *in, int32_t as_of_day, const sgs_audit_config_t *cfg,
                      const uint8_t *group, size_t n_groups, const uint16_t *fired,
                      const sgs_exec_t *exec, sgs_audit_row_t *rows,
                      int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS], sgs_error_t *err);

/* sgs_audit_compute by two groupings in one pass over the events: rows [n_groups + 1] by
 * group[i] and untapped_per_kind (may be NULL) exactly as sgs_audit_compute(group, n_groups)
 * gives them, rows2 [n_groups2 + 1] by group2[i] exactly as sgs_audit_compute(group2,
 * n_groups2) gives its rows (the same blocks, the same additions in the same order: the same
 * bits). @return SGS_EINVAL for either grouping's arguments first; then as the two calls
 * one after the other: the first grouping's SGS_EDATA (naming its first customer out of
 * range), then the second's; on an error the rows are left as they were. */
int sgs_audit_compute_two(const sgs_stage_input_t *in, int32_t as_of_day,
                          const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                          const uint8_t *group2, size_t n_groups2, const uint16_t *fired,
                          const sgs_exec_t *exec, sgs_audit_row_t *rows, sgs_audit_row_t *rows2,
                          int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS], sgs_error_t *err);

/* The untapped counts per kind of one block of customers. */
typedef struct sgs_audit_block_kinds {
    int64_t untapped[SGS_OPP_KIND_COUNT][SGS_AUDIT_WINDOWS]; /* as untapped_per_kind */
} sgs_audit_block_kinds_t;

/* The parts of sgs_audit_compute, for a caller that holds a share of the customers and
 * continues the sums share after share (engine/dist_actions.h): sgs_audit_compute is exactly
 * the tallies of its blocks of SGS_BLOCK_ROWS customers (head = SGS_BLOCK_ROWS), then their
 * additions in block order (sgs_audit_add_blocks to zeroed rows). */

/* Blocks of n customers whose first block has head customers (0 < head <= SGS_BLOCK_ROWS) and
 * the others SGS_BLOCK_ROWS (the last one fewer): 0 when n is 0. */
size_t sgs_audit_block_count(size_t n, size_t head);

/* Each block's tallies, every block from zero: block 0 is customers [0, head) of in, block b >
 * 0 customers [head + (b - 1) SGS_BLOCK_ROWS, head + b SGS_BLOCK_ROWS) (cut at in->n).
 * block_rows: [n_blocks * n_groups] caller-owned, block b's row of group g at b n_groups + g;
 * kinds: [n_blocks]; n_blocks = sgs_audit_block_count(in->n, head). Both overwritten. Parallel
 * over blocks. @return as sgs_audit_compute (the first bad label's customer); SGS_EINVAL for a
 * head outside (0, SGS_BLOCK_ROWS]; SGS_ENOMEM for its scratch of n_blocks sizes. */
int sgs_audit_block_tallies(const sgs_stage_input_t *in, int32_t as_of_day,
                            const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                            const uint16_t *fired, const sgs_exec_t *exec, size_t head,
                            sgs_audit_row_t *block_rows, sgs_audit_block_kinds_t *kinds,
                            sgs_error_t *err);

/* Customers [lo, hi) of in added to rows [n_groups] (by group[i]) as a block's tally adds
 * them, continuing the sums the rows hold (a block begun elsewhere). The labels must have been
 * checked (sgs_audit_block_tallies). Serial; the untapped counts per kind are not kept. */
void sgs_audit_tally_more(const sgs_stage_input_t *in, int32_t as_of_day,
                          const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                          const uint16_t *fired, size_t lo, size_t hi, sgs_audit_row_t *rows);

/* Adds n_blocks blocks' tallies, in block order, to rows [n_groups + 1] (per group, then
 * everyone) and untapped_per_kind (may be NULL): sgs_audit_compute's sums are these additions
 * to zeroed rows, and continuing the rows of the blocks before continues the same sums. */
void sgs_audit_add_blocks(const sgs_audit_row_t *block_rows, const sgs_audit_block_kinds_t *kinds,
                          size_t n_blocks, size_t n_groups, sgs_audit_row_t *rows,
                          int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS]);

/* Serial reference twin. */
int sgs_audit_compute_ref(const sgs_stage_input_t *in, int32_t as_of_day,
                          const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                          const uint16_t *fired, sgs_audit_row_t *rows,
                          int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS], sgs_error_t *err);

#endif
