/*
 * kernels/kchoice.h — choosing the number of clusters: for each k of a range, the k-means
 * inertia, the Calinski-Harabasz index and the mean silhouette on a seeded sample; the
 * chosen k and the whole table are returned.
 *
 * Data: x is n rows by d columns, row-major; labels in 0..k-1. Distances are Euclidean,
 * computed as the square root of k-means' squared distance (kernels/kmeans.h). Totals are
 * formed per block of rows and combined in block order, so results are bitwise identical
 * whatever exec->n_threads. Sample weights are not used by the two indices.
 */
#ifndef SGS_KCHOICE_H
#define SGS_KCHOICE_H

#include "kernels/kmeans.h"

#include <stddef.h>
#include <stdint.h>

/* Calinski-Harabasz index (T. Calinski and J. Harabasz, "A dendrite method for cluster
 * analysis", Communications in Statistics 3(1), 1974, eq. 3):
 *   CH = [B / (q - 1)] / [W / (n - q)],  B = sum_j n_j ||m_j - m||^2,
 *   W = sum_i ||x_i - m_{label_i}||^2,
 * m the mean of all rows, m_j and n_j the mean and size of cluster j, q the number of
 * non-empty clusters (as scikit-learn's calinski_harabasz_score, which returns 1 when W =
 * 0). *score = NaN when q < 2 or q = n (undefined).
 * @return 0; SGS_EINVAL for a label outside 0..k-1; SGS_ENOMEM. */
int sgs_kchoice_calinski_harabasz(const double *x, size_t n, size_t d, const int32_t *labels,
                                  size_t k, const sgs_exec_t *exec, double *score,
                                  sgs_error_t *err);

/* Mean silhouette (P. J. Rousseeuw, "Silhouettes: a graphical aid to the interpretation
 * and validation of cluster analysis", J. Comput. Appl. Math. 20, 1987) over a sample of
 * m = min(sample_size, n) distinct rows drawn uniformly with `seed` (all rows when
 * sample_size >= n or 0): for each sampled row i, a = mean distance to the other sampled
 * rows of its cluster, b = the smallest mean distance to the sampled rows of another
 * cluster, s_i = (b - a) / max(a, b), and s_i = 0 when i is alone in its cluster within
 * the sample (as scikit-learn's silhouette_score with sample_size). *score = NaN when the
 * sample holds fewer than 2 clusters or every sampled row is its own cluster. Cost m^2 d.
 * @return 0; SGS_EINVAL for a label outside 0..k-1; SGS_ENOMEM. */
int sgs_kchoice_silhouette(const double *x, size_t n, size_t d, const int32_t *labels, size_t k,
                           size_t sample_size, uint64_t seed, const sgs_exec_t *exec, double *score,
                           sgs_error_t *err);

/* Serial reference twins of sgs_kchoice_calinski_harabasz and sgs_kchoice_silhouette: the
 * definitions above summed row by row in index order (the silhouette on the same sample,
 * distances as sqrt(sum_f (x_if - x_rf)^2)). Equal to the kernels to a relative 1e-10, not
 * bitwise: the kernels sum per block (CH) and take distances from the SIMD distance kernel
 * (kernels/kmeans_dist.c), whose rounding differs. Codes and messages as the kernels' (but for
 * SGS_ENOMEM's). */
int sgs_kchoice_calinski_harabasz_ref(const double *x, size_t n, size_t d, const int32_t *labels,
                                      size_t k, double *score, sgs_error_t *err);
int sgs_kchoice_silhouette_ref(const double *x, size_t n, size_t d, const int32_t *labels, size_t k,
                               size_t sample_size, uint64_t seed, double *score, sgs_error_t *err);

/* One row of the k table. */
typedef struct sgs_kchoice_row {
    size_t k;                 /* number of clusters */
    double inertia;           /* k-means inertia (weighted when weights were given) */
    double calinski_harabasz; /* CH index of the k-means labels (NaN when undefined) */
    double silhouette;        /* mean silhouette on the sample (NaN when undefined) */
    int n_iter;               /* k-means iterations of the kept run */
    int converged;            /* 1 when k-means converged */
    size_t n_nonempty;        /* clusters with at least one row */
} sgs_kchoice_row_t;

/* Run sgs_kmeans_fit (options `base` with k replaced) for every k in k_min..k_max, and fill
 * rows[k - k_min] with the inertia, CH and silhouette (sample_size rows, seed base->seed).
 * The silhouettes of all k are computed in one pass over the sample, whose distances and
 * their square roots do not depend on k: each is bit for bit sgs_kchoice_silhouette of that
 * k's labels, at about the cost of one. Keeps every k's labels (n x (k_max - k_min + 1)
 * int32) until then.
 * *chosen_k = the k of the largest silhouette (the smaller k on ties; rows with NaN
 * silhouette are skipped); when every silhouette is NaN, the largest CH; when that is NaN
 * too, k_min.
 * @return 0; SGS_EINVAL when k_min < 2 or k_max < k_min or k_max > n; errors of
 * sgs_kmeans_fit. */
int sgs_kchoice_run(const double *x, size_t n, size_t d, const double *weights, size_t k_min,
                    size_t k_max, const sgs_kmeans_options_t *base, size_t sample_size,
                    const sgs_exec_t *exec, sgs_kchoice_row_t *rows, size_t *chosen_k,
                    sgs_error_t *err);

/* The sample k is chosen on (engine/run_segments.c): an even spread of the n rows in their
 * order, m = sgs_kchoice_sample_size(n, choice_sample) of them (every row when choice_sample is
 * 0 or at least n), sample row j being row sgs_kchoice_sample_row(j, n, m) = floor(j n / m),
 * ascending in j. Pure; the one definition the run and the spread version
 * (engine/dist_segments.h) take the same rows by. Precondition: j < m, m <= n, j n fits. */
static inline size_t sgs_kchoice_sample_size(size_t n, size_t choice_sample)
{
    return choice_sample > 0 && choice_sample < n ? choice_sample : n;
}
static inline size_t sgs_kchoice_sample_row(size_t j, size_t n, size_t m)
{
    return j * n / m;
}

#endif
