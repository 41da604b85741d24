/*
 * engine/dist_segments.h — the segment step's pieces besides the k-means fit
 * (engine/dist_kmeans.h) over customers spread over processes (docs/mpi.md): the features'
 * quantiles and robust scaling, the choice of k on the spread sample, the merge of small
 * segments and the per-segment medians of the profiles. Each gives every process the results
 * one process holding every customer gets from the kernels engine/run_segments.c calls, bit for
 * bit, and each process's own rows as that process's slice of the single-process rows.
 *
 * Rows: the processes' rows one after another, in rank order, are the single-process rows (a
 * run's customers, ascending id); a process may hold none. Every call is collective and returns
 * the same code on every process; a failure on one process is every process's error, with the
 * lowest failing process's message (sgs_dist_agree).
 *
 * Order statistics are selected among every process's values as order-preserving keys
 * (kernels/order_keys.h, engine/dist_select.h): no value moves. Both zeros have one key; a zero
 * selected is -0 when the values it is selected among hold -0 and no +0, else +0. Where they
 * hold both, the kernels return either zero depending on their selection order; the spread
 * version then returns +0 (the only place it may differ, in the sign of a zero).
 */
#ifndef SGS_DIST_SEGMENTS_H
#define SGS_DIST_SEGMENTS_H

#include "engine/dist.h"
#include "kernels/features.h"
#include "kernels/kchoice.h"
#include "kernels/segment_merge.h"
#include "kernels/segment_profile.h"

/* sgs_features_quantiles over every process's rows: x is this process's n rows of d columns
 * (row-major); lo, median, hi (d each) get the quantiles of all rows of every process, the same
 * on every process. What a process sends: a few integers per round, 64 rounds per column (4
 * ranks per column selected together), nothing per row.
 * @return 0; SGS_EINVAL when no process holds a row, d == 0 or tail is out of [0, 0.5);
 * SGS_EDATA for a non-finite value: the first such row (global index) of the first such
 * column, with the kernel's words; SGS_ENOMEM. */
int sgs_dist_features_quantiles(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                                double tail, double *lo, double *median, double *hi,
                                sgs_error_t *err);

/* sgs_features_robust_scale of this process's rows (each row alone: no exchange), and
 * n_clipped (d entries) the counts of every process's rows pulled in, summed over the processes
 * (integers: exact). Collective. */
void sgs_dist_features_robust_scale(const sgs_dist_t *d, double *x, size_t n, size_t dims,
                                    const double *lo, const double *hi, const double *center,
                                    const double *scale, const sgs_exec_t *exec, size_t *n_clipped);

/* sgs_features_column_moments over every process's rows: mean and var (d each, the same on
 * every process) equal the kernel's on all rows, bit for bit. The rows are realigned into whole
 * blocks of SGS_BLOCK_ROWS global rows (engine/dist_blocks.h: none moves when every process's
 * first row is at a multiple of the block, as a run's customers are), each process makes its
 * blocks' partials with the kernel's arithmetic (sgs_features_column_block_sums) and every
 * process adds all partials in block order. What a process sends: the rows that cross a cut
 * (d doubles each, at most a block's worth per cut), then 2 d doubles per block it holds.
 * @return 0 or SGS_ENOMEM, the same on every process. */
int sgs_dist_features_column_moments(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                                     const sgs_exec_t *exec, double *mean, double *var,
                                     sgs_error_t *err);

/* sgs_features_standardize (segments.scaling = standard) over every process's rows: mean and
 * scale from the moments above, then this process's rows standardized in place, the same bits
 * as the kernel's rows. @return 0; SGS_EINVAL when no process holds a row or d == 0;
 * SGS_ENOMEM; the same on every process. */
int sgs_dist_features_standardize(const sgs_dist_t *d, double *x, size_t n, size_t dims,
                                  const sgs_exec_t *exec, double *mean, double *scale,
                                  sgs_error_t *err);

/* sgs_pca_fit over every process's rows: *out (owned, sgs_pca_destroy; the same on every
 * process) equals the kernel's fit on all rows, bit for bit. The rows are realigned into whole
 * blocks as for the moments; the column means and then the upper triangle of the scatter matrix
 * are block partials (sgs_features_column_block_sums, sgs_pca_block_partials) added over every
 * process in block order, and every process finishes the same fit from the same sums
 * (sgs_pca_from_sums). The projection (sgs_pca_transform) is per row: each process projects its
 * own rows. What a process sends: the rows that cross a cut, then d + d (d + 1) / 2 doubles per
 * block it holds. @return as sgs_pca_fit (n counting every row), the same on every process;
 * *out is NULL on error. */
int sgs_dist_pca_fit(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                     size_t n_components, double min_ratio, const sgs_exec_t *exec, sgs_pca_t **out,
                     sgs_error_t *err);

/* The sample k is chosen on (kernels/kchoice.h sgs_kchoice_sample_size and _row over the rows
 * of every process): each process sends the sample's rows it holds and every process gets the
 * whole sample, m rows of dims, in sample order (*sample allocated here, free with sgs_free;
 * NULL when m is 0). What a process sends: dims doubles per sample row it holds (the sample
 * itself: at segments.choice_sample = 100,000 and 6 dimensions, 4.8 MB in all).
 * @return 0 or SGS_ENOMEM, the same on every process. */
int sgs_dist_kchoice_sample(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                            size_t choice_sample, double **sample, size_t *m, sgs_error_t *err);

/* The choice of k of engine/run_segments.c over every process's rows: the sample above, k_max
 * lowered to its row count, then sgs_kchoice_run on it (options base, silhouette_sample) on every
 * process: rows[0..*n_rows) and *chosen_k are those of one process, identical by construction
 * (the same kernel on the same rows; its results do not depend on the thread count).
 * rows: room for k_max - k_min + 1. @return 0 or the kernel's codes, the same on every process
 * (the kernel's message prefixed "process R of N: "). */
int sgs_dist_kchoice_run(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                         size_t choice_sample, size_t k_min, size_t k_max,
                         const sgs_kmeans_options_t *base, size_t silhouette_sample,
                         const sgs_exec_t *exec, sgs_kchoice_row_t *rows, size_t *n_rows,
                         size_t *chosen_k, sgs_error_t *err);

/* sgs_segments_merge_small over every process's rows: labels (this process's n) relabelled
 * as the kernel relabels them; centers, *k_out, merges, *n_merges and sizes (k entries, may
 * be NULL) as the kernel writes them for all rows, the same on every process. The plan
 * (kernels/segment_merge.h sgs_segments_merge_plan) needs only the segments' sizes: k integers
 * summed over the processes are all a process sends.
 * @return as the kernel (a bad label's row is its global index); nothing is changed on error. */
int sgs_dist_segments_merge_small(const sgs_dist_t *d, int32_t *labels, size_t n, double *centers,
                                  size_t k, size_t dims, double min_share, const sgs_exec_t *exec,
                                  size_t *k_out, sgs_segment_merge_t *merges, size_t *n_merges,
                                  size_t *sizes, sgs_error_t *err);

/* sgs_group_medians_into's medians per group over every process's rows: median[g] (n_groups
 * entries, the same on every process) is the median of the finite values of group g among all
 * rows (NaN when none); negative labels are in no group; *overall (when not NULL) the median of
 * every finite value, whatever its label. A zero's sign is the kernels' where the values at the
 * middle are zeros of one sign. What a process sends: 3 (n_groups + 1) integers, then 64 rounds
 * of one or two integers per group (and for the overall median).
 * @return 0; SGS_EDATA for a label >= n_groups on a finite value (the first such row, global
 * index, in the kernel's words); SGS_EINVAL when n_groups < 0; SGS_ENOMEM. */
int sgs_dist_group_medians(const sgs_dist_t *d, size_t n, const double *value, const int32_t *group,
                           int32_t n_groups, double *median, double *overall, sgs_error_t *err);

/* sgs_segment_sums over every process's customers: sums [k x d] (the same on every process)
 * are the kernel's serial sums in customer order over all of them, bit for bit: the sums are
 * carried from process to process (engine/dist_blocks.h sgs_dist_chain), each continuing them
 * over its customers (sgs_segment_sums_add). What a process sends: k d doubles, N rounds.
 * @return 0; SGS_EINVAL as the kernel (a bad label's row is its global index); SGS_ENOMEM; the
 * same on every process. */
int sgs_dist_segment_sums(const sgs_dist_t *d, const sgs_feature_column_t *cols, size_t dims,
                          size_t n, const int32_t *labels, size_t k, double *sums,
                          sgs_error_t *err);

/* sgs_segment_counts over every process's customers: counts (k or k x n_codes, the same on
 * every process) summed over the processes (integers: exact). @return as the kernel (a bad
 * label's or code's row is its global index), the same on every process. */
int sgs_dist_segment_counts(const sgs_dist_t *d, size_t n, const int32_t *labels, size_t k,
                            const uint8_t *code, size_t n_codes, size_t *counts, sgs_error_t *err);

/* sgs_kmeans_inertia (kernels/kmeans.h, no weights) over every process's rows: *inertia (the
 * same on every process) equals the kernel's on all rows, bit for bit: the rows and their
 * labels are realigned into whole blocks of SGS_BLOCK_ROWS global rows (engine/dist_blocks.h),
 * each block's partial is the kernel's own on that block alone, and every process adds all
 * partials in block order. What the segment step reports after merging small segments.
 * What a process sends: the rows that cross a cut (dims + 1 words each), then one double per
 * block it holds. @return 0, SGS_EINVAL as the kernel (a label out of range; its row named
 * within its block) or SGS_ENOMEM, the same on every process. */
int sgs_dist_kmeans_inertia(const sgs_dist_t *d, const double *x, size_t n, size_t dims,
                            const double *centers, size_t k, const int32_t *labels,
                            const sgs_exec_t *exec, double *inertia, sgs_error_t *err);

#endif /* SGS_DIST_SEGMENTS_H */
