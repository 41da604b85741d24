/*
 * kernels/order_stats.h — order statistics used by the lifecycle and opportunity kernels:
 * the k-th smallest value, medians, nearest-rank quantiles, and medians per group (per
 * segment) in linear expected time.
 *
 * Every function here ignores non-finite values (NaN, +-inf): they mark "no value" in the
 * callers' columns. A result over an empty set is NaN.
 *
 * Determinism: an order statistic is a property of the multiset of values, not of their
 * order, so results are the same bits whatever the thread count or the input order.
 */
#ifndef SGS_ORDER_STATS_H
#define SGS_ORDER_STATS_H

#include "kernels/core.h"

/* k-th smallest (0-based) of x[0..n-1], rearranging x in place (introselect: quickselect
 * with median-of-three pivots, falling back to sorting a range after 2*log2(n) rounds, so
 * the worst case is O(n log n)). Preconditions: k < n, no NaN in x. */
double sgs_select_kth(double *x, size_t n, size_t k);

/* Median of x[0..n-1] in place (x is rearranged): the middle order statistic for odd n,
 * the mean of the two middle ones for even n. NaN for n == 0. Precondition: no NaN. */
double sgs_median_inplace(double *x, size_t n);

/* Whether x[0..n-1] holds both a -0.0 and a +0.0. They compare equal, so which of the two a
 * selection leaves at rank k depends on how it moved the values: only then can two correct
 * selections return different bits. */
int sgs_has_both_zeros(const double *x, size_t n);

/* sgs_select_kth and sgs_median_inplace by Floyd and Rivest's selection (R. W. Floyd,
 * R. L. Rivest, "Algorithm 489: the algorithm SELECT", CACM 18(3), 1975): the pivot is taken
 * from a small range selected recursively around rank k, so that it lands next to the k-th
 * value and one partition leaves about n^(2/3) values: n + min(k, n - k) + o(n) comparisons
 * (1.5 n for a median) against about 2.75 n for quickselect with a median-of-three pivot.
 * Same partition property as sgs_select_kth (x[0..k) <= x[k] <= x(k..n)) and the same value,
 * bit for bit, unless x holds both zeros (sgs_has_both_zeros: callers that must give
 * sgs_select_kth's bits use it then); x is left in another order. sgs_select_kth finishes the
 * range when a round keeps half of it or more (many values equal to the pivot) or after
 * 2*log2(n) rounds. Preconditions: k < n, no NaN in x. */
double sgs_select_kth_fr(double *x, size_t n, size_t k);
double sgs_median_inplace_fr(double *x, size_t n);

/* Nearest-rank quantile of x[0..n-1] in place: the order statistic of 1-based rank
 * ceil(q * n) (rank 1 for q == 0). q in [0, 1]. NaN for n == 0 or q NaN. Precondition: no
 * NaN in x.
 * Example: q = 0.8, n = 5 gives the 4th smallest. */
double sgs_quantile_nearest_rank_inplace(double *x, size_t n, double q);

/* Medians per group. value[i] belongs to group group[i] (NULL group: every row in group
 * -1). For g in 0..n_groups-1, group_median[g] = median of the finite values of group g
 * (NaN when it has none); *overall_median (when not NULL) = median of all finite values,
 * groups < 0 included. Rows with a non-finite value are ignored.
 *   n: rows; value: [n]; group: [n] or NULL, labels -1..n_groups-1 (other negatives
 *   count as -1); group_median: [n_groups] written, may be NULL when n_groups == 0.
 * Allocates one scratch copy of the finite values (O(n) doubles) per call and counters per
 * block of rows (n_groups + 1 per 16,384 rows); the values are counted and copied per block
 * and the groups processed in parallel with exec's threads.
 * @return 0; SGS_EDATA when a label is >= n_groups (message names the row);
 * SGS_ENOMEM. */
int sgs_group_medians(size_t n, const double *value, const int32_t *group, int32_t n_groups,
                      double *group_median, double *overall_median, const sgs_exec_t *exec,
                      sgs_error_t *err);

/* sgs_group_medians with caller-owned scratch: scratch holds at least as many doubles as
 * value has finite entries (n always suffices) and is overwritten; only the counters are
 * allocated, so a caller computing the medians of several columns reuses one scratch (its
 * pages touched once). Same results, errors (but never SGS_ENOMEM for the values) and thread
 * behaviour as sgs_group_medians. */
int sgs_group_medians_into(size_t n, const double *value, const int32_t *group, int32_t n_groups,
                           double *group_median, double *overall_median, double *scratch,
                           const sgs_exec_t *exec, sgs_error_t *err);

/* Serial reference twin of sgs_group_medians: each group's finite values gathered and sorted
 * (qsort), the middle one or the mean of the two middle ones; the same bits (values -0 and +0
 * are equal for the order and either may be returned where both occur), codes and messages
 * (but for SGS_ENOMEM's). */
int sgs_group_medians_ref(size_t n, const double *value, const int32_t *group, int32_t n_groups,
                          double *group_median, double *overall_median, sgs_error_t *err);

/* Nearest-rank quantile (see above) of the finite values value[i] with keep[i] != 0 (keep
 * NULL: all rows). Copies them into one scratch array (allocated per call).
 * @return 0 or SGS_ENOMEM; *out = NaN when nothing qualifies or q is NaN. */
int sgs_quantile_of(size_t n, const double *value, const uint8_t *keep, double q, double *out,
                    sgs_error_t *err);

#endif /* SGS_ORDER_STATS_H */
