/*
 * kernels/segment_merge.h — after k-means: fold segments too small to act on into their
 * nearest neighbour, so that no segment of a run is a handful of customers.
 *
 * A segment holding under min_share of the rows is too small to plan a campaign for, and
 * when it arises it is most often a few customers with extreme values that k-means found
 * cheaper to isolate than to leave in a larger group. Merging it into the segment whose
 * centre is nearest is what re-running k-means without that centre would do first; it keeps
 * every other segment as it was, so the result is still readable as "k-means found these
 * groups", with the merges listed.
 */
#ifndef SGS_SEGMENT_MERGE_H
#define SGS_SEGMENT_MERGE_H

#include "kernels/core.h"

#include <stddef.h>
#include <stdint.h>

/* One merge, in the order they were made. */
typedef struct sgs_segment_merge {
    size_t from;      /* the small segment, numbered as the fit numbered it (0..k-1) */
    size_t customers; /* rows it held when it was merged (any rows it had absorbed included) */
    size_t into;      /* the final segment (0..k_out-1) that holds those rows now */
} sgs_segment_merge_t;

/* Merge every segment with fewer than min_share * n rows into its nearest segment.
 *
 * Rule: while more than one segment is left and the smallest one (the lowest number among
 * equals) holds fewer than min_share * n rows, it joins the remaining segment whose centre is
 * nearest to its own (squared Euclidean distance; the lowest number among equals), and the
 * joined centre becomes the size-weighted mean of the two (the mean of the joined rows when
 * the centres were the means of their rows, as after k-means). Then the remaining segments
 * are renumbered 0..k_out-1 in their original order.
 *
 *   labels:    n entries in 0..k-1, rewritten to 0..k_out-1.
 *   centers:   k x d row-major; the first k_out rows are rewritten with the final centres.
 *   min_share: in [0, 1); 0 merges nothing (an empty segment is kept too).
 *   merges:    room for k entries; the first *n_merges are written, in merge order.
 *   sizes:     k entries (may be NULL); the first k_out are written with the final sizes.
 * The sizes are counted and the labels relabelled (not when nothing merges) on exec's
 * threads, the plan made serially: deterministic whatever exec->n_threads.
 * @return 0; SGS_EINVAL when k == 0, d == 0, k > INT32_MAX or min_share is out of range;
 * SGS_EDATA when a label is outside 0..k-1 (the message names the row). Nothing is changed
 * on error. */
int sgs_segments_merge_small(int32_t *labels, size_t n, double *centers, size_t k, size_t d,
                             double min_share, const sgs_exec_t *exec, size_t *k_out,
                             sgs_segment_merge_t *merges, size_t *n_merges, size_t *sizes,
                             sgs_error_t *err);

/* The plan of sgs_segments_merge_small from the segments' sizes alone, without the rows: the
 * rule above applied to counts[0..k) (the rows of each fitted segment, summing to n), the
 * centres, merges, *k_out, *n_merges and sizes written as the kernel writes them, and
 * final[j] (k entries, the caller's) the final number of fitted segment j, so that a row's new
 * label is final[label]. The kernel counts its labels and calls this; a caller whose rows are
 * spread over processes passes the counts summed over them (engine/dist_segments.h). Serial.
 * @return 0; SGS_EINVAL as the kernel; SGS_ENOMEM. */
int sgs_segments_merge_plan(const size_t *counts, size_t n, double *centers, size_t k, size_t d,
                            double min_share, size_t *k_out, sgs_segment_merge_t *merges,
                            size_t *n_merges, size_t *sizes, int32_t *final, sgs_error_t *err);

/* labels[i] = final[labels[i]] for i < n (final from sgs_segments_merge_plan; labels checked
 * in 0..k-1 beforehand): the kernel's relabelling, parallel over rows, per row. */
void sgs_segments_merge_relabel(int32_t *labels, size_t n, const int32_t *final,
                                const sgs_exec_t *exec);

/* Serial reference twin of sgs_segments_merge_small: the same plan, the rows relabelled by a
 * plain loop. @return as the kernel. */
int sgs_segments_merge_small_ref(int32_t *labels, size_t n, double *centers, size_t k, size_t d,
                                 double min_share, size_t *k_out, sgs_segment_merge_t *merges,
                                 size_t *n_merges, size_t *sizes, sgs_error_t *err);

#endif
