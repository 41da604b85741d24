/*
 * kernels/segment_merge.c — folding small segments into their nearest neighbour. See
 * segment_merge.h.
 */
#include "kernels/segment_merge.h"

#include <math.h>
#include <omp.h>
#include <string.h>

int sgs_segments_merge_plan(const size_t *counts, size_t n, double *centers, size_t k, size_t d,
                            double min_share, size_t *k_out, sgs_segment_merge_t *merges,
                            size_t *n_merges, size_t *sizes, int32_t *final, sgs_error_t *err)
{
    if (k == 0 || d == 0 || k > INT32_MAX)
        return sgs_error_set(err, SGS_EINVAL, "merge segments: k = %zu, d = %zu", k, d);
    if (!(min_share >= 0 && min_share < 1))
        return sgs_error_set(err, SGS_EINVAL, "merge segments: min_share must be in [0, 1), got %g",
                             min_share);
    size_t *size = sgs_alloc_array(k, sizeof *size);
    size_t *root = sgs_alloc_array(k, sizeof *root); /* segment that holds j's rows now */
    if (!size || !root) {
        sgs_free(size);
        sgs_free(root);
        return sgs_error_set(err, SGS_ENOMEM, "merge segments: out of memory");
    }
    memcpy(size, counts, k * sizeof *size);
    for (size_t j = 0; j < k; j++)
        root[j] = j;
    size_t alive = k, made = 0;
    double threshold = min_share * (double)n; /* a segment is small when size < threshold */
    while (alive > 1) {
        size_t small = k;
        for (size_t j = 0; j < k; j++)
            if (root[j] == j && (double)size[j] < threshold &&
                (small == k || size[j] < size[small]))
                small = j;
        if (small == k)
            break;
        const double *cs = centers + small * d;
        size_t near = k;
        double best = INFINITY;
        for (size_t t = 0; t < k; t++) {
            if (t == small || root[t] != t)
                continue;
            double s = 0;
            for (size_t f = 0; f < d; f++)
                s += (centers[t * d + f] - cs[f]) * (centers[t * d + f] - cs[f]);
            if (near == k || s < best) {
                near = t;
                best = s;
            }
        }
        double w_near = (double)size[near], w_small = (double)size[small];
        if (w_near + w_small > 0)
            for (size_t f = 0; f < d; f++)
                centers[near * d + f] =
                    (w_near * centers[near * d + f] + w_small * cs[f]) / (w_near + w_small);
        merges[made].from = small;
        merges[made].customers = size[small];
        merges[made].into = near; /* a fitted number for now; final number below */
        made++;
        size[near] += size[small];
        size[small] = 0;
        for (size_t j = 0; j < k; j++) /* everything that had joined `small` follows it */
            if (root[j] == small)
                root[j] = near;
        alive--;
    }
    /* Renumber the remaining segments in order and move their centres to the front. */
    size_t next = 0;
    for (size_t j = 0; j < k; j++)
        if (root[j] == j) {
            final[j] = (int32_t)next;
            if (next != j)
                memcpy(centers + next * d, centers + j * d, d * sizeof *centers);
            if (sizes)
                sizes[next] = size[j];
            next++;
        }
    for (size_t j = 0; j < k; j++)
        final[j] = final[root[j]];
    for (size_t m = 0; m < made; m++)
        merges[m].into = (size_t) final[merges[m].into];
    *k_out = next;
    *n_merges = made;
    sgs_free(size);
    sgs_free(root);
    return SGS_OK;
}

/* Everything but the relabelling: the labels checked and counted (each thread counts a share
 * of the rows: integer counts, the same whatever the split), then the plan. */
static int merge_plan(const int32_t *labels, size_t n, double *centers, size_t k, size_t d,
                      double min_share, const sgs_exec_t *exec, size_t *k_out,
                      sgs_segment_merge_t *merges, size_t *n_merges, size_t *sizes, int32_t *final,
                      sgs_error_t *err)
{
    if (!(min_share >= 0 && min_share < 1))
        return sgs_error_set(err, SGS_EINVAL, "merge segments: min_share must be in [0, 1), got %g",
                             min_share);
    int nt = sgs_exec_threads_for(exec, n);
    size_t *size = sgs_calloc_array((size_t)nt, k * sizeof *size), bad = n;
    if (!size)
        return sgs_error_set(err, SGS_ENOMEM, "merge segments: out of memory");
#pragma omp parallel num_threads(nt) reduction(min : bad)
    {
        size_t t = (size_t)omp_get_thread_num(), m = (size_t)omp_get_num_threads();
        size_t *mine = size + t * k;
        for (size_t i = n * t / m; i < n * (t + 1) / m; i++) {
            if (labels[i] < 0 || (size_t)labels[i] >= k) {
                bad = i < bad ? i : bad;
                break;
            }
            mine[labels[i]]++;
        }
    }
    if (bad < n) {
        sgs_free(size);
        return sgs_error_set(err, SGS_EDATA, "merge segments: row %zu has label %d (k = %zu)", bad,
                             (int)labels[bad], k);
    }
    for (int t = 1; t < nt; t++)
        for (size_t j = 0; j < k; j++)
            size[j] += size[(size_t)t * k + j];
    int rc = sgs_segments_merge_plan(size, n, centers, k, d, min_share, k_out, merges, n_merges,
                                     sizes, final, err);
    sgs_free(size);
    return rc;
}

void sgs_segments_merge_relabel(int32_t *labels, size_t n, const int32_t *final,
                                const sgs_exec_t *exec)
{
    int nt = sgs_exec_threads(exec);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t i = 0; i < n; i++)
        labels[i] = final[labels[i]];
}

/* The plan, then the relabelling: parallel over rows, or (the twin) a plain loop. */
static int merge(int32_t *labels, size_t n, double *centers, size_t k, size_t d, double min_share,
                 const sgs_exec_t *exec, int parallel, size_t *k_out, sgs_segment_merge_t *merges,
                 size_t *n_merges, size_t *sizes, sgs_error_t *err)
{
    if (k == 0 || d == 0 || k > INT32_MAX)
        return sgs_error_set(err, SGS_EINVAL, "merge segments: k = %zu, d = %zu", k, d);
    int32_t *final = sgs_alloc_array(k, sizeof *final);
    if (!final)
        return sgs_error_set(err, SGS_ENOMEM, "merge segments: out of memory");
    int rc = merge_plan(labels, n, centers, k, d, min_share, parallel ? exec : NULL, k_out, merges,
                        n_merges, sizes, final, err);
    if (rc == SGS_OK && *n_merges == 0) {
        /* nothing merged: every label keeps its number */
    } else if (rc == SGS_OK && parallel) {
        sgs_segments_merge_relabel(labels, n, final, exec);
    } else if (rc == SGS_OK) {
        for (size_t i = 0; i < n; i++)
            labels[i] = final[labels[i]];
    }
    sgs_free(final);
    return rc;
}

int sgs_segments_merge_small(int32_t *labels, size_t n, double *centers, size_t k, size_t d,
                             double min_share, const sgs_exec_t *exec, size_t *k_out,
                             sgs_segment_merge_t *merges, size_t *n_merges, size_t *sizes,
                             sgs_error_t *err)
{
    return merge(labels, n, centers, k, d, min_share, exec, 1, k_out, merges, n_merges, sizes, err);
}

int sgs_segments_merge_small_ref(int32_t *labels, size_t n, double *centers, size_t k, size_t d,
                                 double min_share, size_t *k_out, sgs_segment_merge_t *merges,
                                 size_t *n_merges, size_t *sizes, sgs_error_t *err)
{
    return merge(labels, n, centers, k, d, min_share, NULL, 0, k_out, merges, n_merges, sizes, err);
}
