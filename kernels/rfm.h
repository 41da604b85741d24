/*
 * kernels/rfm.h — RFM scores by equal-frequency ranks and the named RFM segments.
 *
 * Scores. For a measure v over n customers and B bins, each customer's score is
 *     score = 1 + floor(B * below / n)
 * where `below` is the number of customers whose value is strictly worse. Customers with
 * equal values therefore always get the same score (ties take the score of the lowest rank
 * they share, like pandas' rank(method="min")), and a value shared by many customers can
 * leave some scores unused. "Better" is: fewer days since the last purchase (R), more
 * purchase days (F), more spend (M).
 *
 * Segments, from R and F scaled to 1..5 (s5 = ceil(5 s / B)), first matching row wins:
 *     Champions          R 5      F 4-5
 *     Loyal              R 3-5    F 4-5   (R 3-4, or R 5 with F 4-5 caught above)
 *     Potential loyalist R 4-5    F 2-3
 *     New                R 5      F 1
 *     Promising          R 4      F 1
 *     Need attention     R 3      F 3
 *     About to sleep     R 3      F 1-2
 *     Cannot lose them   R 1-2    F 5
 *     At risk            R 1-2    F 3-4
 *     Hibernating        R 1-2    F 1-2   but not R 1 F 1
 *     Lost               R 1      F 1
 * which is the widely used R-F segment map, with its lowest cell split off as Lost.
 */
#ifndef SGS_RFM_H
#define SGS_RFM_H

#include "kernels/core.h"

/* Bins of the scores: 2..9 (one decimal digit per score in the cell code 100 r + 10 f + m),
 * 5 (quintiles, the common choice) by default. The configuration key rfm.bins takes its
 * range and default from here. */
#define SGS_RFM_MIN_BINS 2
#define SGS_RFM_MAX_BINS 9
#define SGS_RFM_DEFAULT_BINS 5

enum sgs_rfm_segment {
    SGS_RFM_CHAMPIONS = 0,
    SGS_RFM_LOYAL,
    SGS_RFM_POTENTIAL_LOYALIST,
    SGS_RFM_NEW,
    SGS_RFM_PROMISING,
    SGS_RFM_NEED_ATTENTION,
    SGS_RFM_ABOUT_TO_SLEEP,
    SGS_RFM_CANNOT_LOSE,
    SGS_RFM_AT_RISK,
    SGS_RFM_HIBERNATING,
    SGS_RFM_LOST,
    SGS_RFM_SEGMENT_COUNT
};

/* Display name of a segment code ("Cannot lose them"); "unknown" outside the table. */
const char *sgs_rfm_segment_name(int code);

/* Segment of R and F scores given on 1..n_bins. */
uint8_t sgs_rfm_segment_of(int r_score, int f_score, int n_bins);

/* Scores 1..n_bins of `values` (n customers) by equal-frequency ranks as above;
 * higher_is_better selects the direction. NaN values are not allowed (SGS_EINVAL).
 * Needs a caller-provided workspace of sgs_rfm_workspace_size(n) bytes (8 per customer; only
 * the part holding values near the score boundaries is touched). Deterministic and
 * independent of threads. @return 0, SGS_EINVAL (n_bins outside
 * SGS_RFM_MIN_BINS..SGS_RFM_MAX_BINS, NaN value) or SGS_ENOMEM. */
size_t sgs_rfm_workspace_size(size_t n);
int sgs_rfm_score(const sgs_exec_t *exec, const double *values, size_t n, int higher_is_better,
                  int n_bins, void *workspace, uint8_t *score, sgs_error_t *err);

/* Segment codes and combined scores for n customers from their r, f, m scores:
 * segment[i] (enum sgs_rfm_segment), cell[i] = 100 r + 10 f + m, total[i] = r + f + m. */
void sgs_rfm_segments(const sgs_exec_t *exec, const uint8_t *r, const uint8_t *f, const uint8_t *m,
                      size_t n, int n_bins, uint8_t *segment, uint16_t *cell, uint8_t *total);

/* The pieces of sgs_rfm_score for customers spread over processes (engine/dist_select.h), where
 * the cuts come from a selection over all of them:
 * - sgs_rfm_cut_rank: the 0-based rank, in ascending key order among n customers, of cut
 *   s = 1 .. n_bins - 1: ceil(s n / B) - 1; a customer's `below` reaches ceil(s n / B)
 *   exactly when its key exceeds the key of that rank;
 * - sgs_rfm_score_from_cuts: score = 1 + the number of the n_bins - 1 cut keys a customer's
 *   key exceeds (the last step of sgs_rfm_score);
 * - sgs_rfm_sorted_keys: the keys of n values, ascending; returns how many values are NaN
 *   (whose keys mean nothing);
 * - sgs_keys_below: how many of n ascending keys are below `key`. */
size_t sgs_rfm_cut_rank(size_t n, int n_bins, int s);
void sgs_rfm_score_from_cuts(const sgs_exec_t *exec, const double *values, size_t n,
                             int higher_is_better, const uint64_t *cut, int n_bins, uint8_t *score);
size_t sgs_rfm_sorted_keys(const double *values, size_t n, int higher_is_better, uint64_t *keys);
size_t sgs_keys_below(const uint64_t *sorted, size_t n, uint64_t key);

/* Serial reference twin of sgs_rfm_score: the definition above computed directly (the n keys
 * sorted, `below` found by binary search), the same scores and return codes. workspace:
 * sgs_rfm_workspace_size(n) bytes, all of it written. */
int sgs_rfm_score_ref(const double *values, size_t n, int higher_is_better, int n_bins,
                      void *workspace, uint8_t *score, sgs_error_t *err);

/* Serial reference twin of sgs_rfm_segments. */
void sgs_rfm_segments_ref(const uint8_t *r, const uint8_t *f, const uint8_t *m, size_t n,
                          int n_bins, uint8_t *segment, uint16_t *cell, uint8_t *total);

#endif
