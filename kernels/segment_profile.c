/*
 * kernels/segment_profile.c — feature matrix, distances to the centres, per-segment sums and
 * counts (see segment_profile.h). Each parallel kernel is followed by its serial reference
 * twin; both call the same per-row function.
 */
#include "kernels/segment_profile.h"

#include <math.h>
#include <omp.h>

/* ---- Feature matrix --------------------------------------------------------------------- */

static int check_columns(const sgs_feature_column_t *cols, size_t d, size_t n, sgs_error_t *err)
{
    if (d == 0 || !cols)
        return sgs_error_set(err, SGS_EINVAL, "features: no column");
    for (size_t f = 0; f < d && n > 0; f++)
        if (!cols[f].f64 && !cols[f].i32)
            return sgs_error_set(err, SGS_EINVAL, "features: column %zu has no values", f);
    return SGS_OK;
}

static void gather_row(const sgs_feature_column_t *cols, size_t d, size_t c, double *x)
{
    for (size_t f = 0; f < d; f++)
        x[c * d + f] = sgs_feature_column_value(&cols[f], c);
}

int sgs_features_gather(const sgs_feature_column_t *cols, size_t d, size_t n,
                        const sgs_exec_t *exec, double *x, sgs_error_t *err)
{
    int rc = check_columns(cols, d, n, err);
    if (rc != SGS_OK || (n > 0 && !x))
        return rc != SGS_OK ? rc : sgs_error_set(err, SGS_EINVAL, "features: no matrix");
#pragma omp parallel for num_threads(sgs_exec_threads(exec)) schedule(static)
    for (size_t c = 0; c < n; c++)
        gather_row(cols, d, c, x);
    return SGS_OK;
}

int sgs_features_gather_ref(const sgs_feature_column_t *cols, size_t d, size_t n, double *x,
                            sgs_error_t *err)
{
    int rc = check_columns(cols, d, n, err);
    if (rc != SGS_OK || (n > 0 && !x))
        return rc != SGS_OK ? rc : sgs_error_set(err, SGS_EINVAL, "features: no matrix");
    for (size_t c = 0; c < n; c++)
        gather_row(cols, d, c, x);
    return SGS_OK;
}

/* ---- Distances to the centres ----------------------------------------------------------- */

/* The first row whose label is outside 0..k-1 is named. */
static int check_labels(size_t n, const int32_t *labels, size_t k, const sgs_exec_t *exec,
                        sgs_error_t *err)
{
    size_t bad = n;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)               \
    reduction(min                                                                                  \
              : bad)
    for (size_t c = 0; c < n; c++)
        if ((labels[c] < 0 || (size_t)labels[c] >= k) && c < bad)
            bad = c;
    if (bad == n)
        return SGS_OK;
    return sgs_error_set(err, SGS_EINVAL, "segments: row %zu has label %d, not 0..%zu", bad,
                         (int)labels[bad], k - 1);
}

static int check_distance_args(const double *x, size_t n, size_t d, const double *centers, size_t k,
                               const int32_t *labels, const double *dist, const sgs_exec_t *exec,
                               sgs_error_t *err)
{
    if (d == 0 || (n > 0 && (!x || !centers || !labels || !dist || k == 0)))
        return sgs_error_set(err, SGS_EINVAL, "segment distances: a NULL array or no column");
    return check_labels(n, labels, k, exec, err);
}

static double distance_of(const double *x, size_t d, const double *centers, const int32_t *labels,
                          size_t c)
{
    const double *row = x + c * d, *centre = centers + (size_t)labels[c] * d;
    double sum = 0.0;
    for (size_t f = 0; f < d; f++) {
        double t = row[f] - centre[f];
        sum += t * t;
    }
    return sqrt(sum);
}

int sgs_segment_distances(const double *x, size_t n, size_t d, const double *centers, size_t k,
                          const int32_t *labels, const sgs_exec_t *exec, double *dist,
                          sgs_error_t *err)
{
    int rc = check_distance_args(x, n, d, centers, k, labels, dist, exec, err);
    if (rc != SGS_OK)
        return rc;
#pragma omp parallel for num_threads(sgs_exec_threads(exec)) schedule(static)
    for (size_t c = 0; c < n; c++)
        dist[c] = distance_of(x, d, centers, labels, c);
    return SGS_OK;
}

int sgs_segment_distances_ref(const double *x, size_t n, size_t d, const double *centers, size_t k,
                              const int32_t *labels, double *dist, sgs_error_t *err)
{
    int rc = check_distance_args(x, n, d, centers, k, labels, dist, NULL, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t c = 0; c < n; c++)
        dist[c] = distance_of(x, d, centers, labels, c);
    return SGS_OK;
}

/* ---- Per-segment sums and counts -------------------------------------------------------- */

/* sums[labels[c] d + f] += value f of customer c for columns f0 <= f < f1, c in customer
 * order, into acc (k x (f1 - f0), starting from what is there). */
static void add_column_range(const sgs_feature_column_t *cols, size_t f0, size_t f1, size_t n,
                             const int32_t *labels, double *acc)
{
    size_t w = f1 - f0;
    for (size_t c = 0; c < n; c++) {
        double *row = acc + (size_t)labels[c] * w;
        for (size_t f = f0; f < f1; f++)
            row[f - f0] += sgs_feature_column_value(&cols[f], c);
    }
}

/* sums[labels[c] d + f] += value f of customer c, for c in customer order. The columns are
 * independent: each thread sums a range of them over every customer (the customer's columns
 * side by side, so that their additions overlap) into an accumulator of its own, padded
 * apart from the others' (one cache line each way). */
static void add_sums(const sgs_feature_column_t *cols, size_t d, size_t n, const int32_t *labels,
                     size_t k, int n_threads, double *sums)
{
    enum { PAD = 8 };
    size_t span = k * d + 2 * PAD;
    double *acc = n_threads > 1 ? sgs_alloc_array((size_t)n_threads, span * sizeof *acc) : NULL;
    if (!acc) {
        add_column_range(cols, 0, d, n, labels, sums);
        return;
    }
#pragma omp parallel num_threads(n_threads)
    {
        size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
        size_t f0 = d * t / nt, f1 = d * (t + 1) / nt, w = f1 - f0;
        double *a = acc + t * span + PAD;
        for (size_t j = 0; j < k; j++)
            for (size_t f = f0; f < f1; f++)
                a[j * w + f - f0] = sums[j * d + f];
        add_column_range(cols, f0, f1, n, labels, a);
        for (size_t j = 0; j < k; j++)
            for (size_t f = f0; f < f1; f++)
                sums[j * d + f] = a[j * w + f - f0];
    }
    sgs_free(acc);
}

static int check_sums_args(const sgs_feature_column_t *cols, size_t d, size_t n,
                           const int32_t *labels, size_t k, const sgs_exec_t *exec,
                           const double *sums, sgs_error_t *err)
{
    int rc = check_columns(cols, d, n, err);
    if (rc == SGS_OK && (!sums || k == 0 || (n > 0 && !labels)))
        rc = sgs_error_set(err, SGS_EINVAL, "segment sums: a NULL array or no segment");
    return rc == SGS_OK ? check_labels(n, labels, k, exec, err) : rc;
}

static void sums_on_threads(const sgs_feature_column_t *cols, size_t d, size_t n,
                            const int32_t *labels, size_t k, const sgs_exec_t *exec, double *sums)
{
    int n_threads = sgs_exec_threads_for(exec, n);
    add_sums(cols, d, n, labels, k, n_threads < (int)d ? n_threads : (int)d, sums);
}

int sgs_segment_sums(const sgs_feature_column_t *cols, size_t d, size_t n, const int32_t *labels,
                     size_t k, const sgs_exec_t *exec, double *sums, sgs_error_t *err)
{
    int rc = check_sums_args(cols, d, n, labels, k, exec, sums, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t e = 0; e < k * d; e++)
        sums[e] = 0.0;
    sums_on_threads(cols, d, n, labels, k, exec, sums);
    return SGS_OK;
}

int sgs_segment_sums_add(const sgs_feature_column_t *cols, size_t d, size_t n,
                         const int32_t *labels, size_t k, const sgs_exec_t *exec, double *sums,
                         sgs_error_t *err)
{
    int rc = check_sums_args(cols, d, n, labels, k, exec, sums, err);
    if (rc == SGS_OK)
        sums_on_threads(cols, d, n, labels, k, exec, sums);
    return rc;
}

int sgs_segment_counts(size_t n, const int32_t *labels, size_t k, const uint8_t *code,
                       size_t n_codes, const sgs_exec_t *exec, size_t *counts, sgs_error_t *err)
{
    if (!counts || k == 0 || (n > 0 && !labels) || (code && n_codes == 0))
        return sgs_error_set(err, SGS_EINVAL, "segment counts: a NULL array or no segment");
    int rc = check_labels(n, labels, k, exec, err);
    if (rc != SGS_OK)
        return rc;
    size_t width = code ? n_codes : 1, cells = k * width;
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS), bad = n;
    size_t *part = sgs_calloc_array(nb ? nb : 1, cells * sizeof *part);
    if (!part)
        return sgs_error_set(err, SGS_ENOMEM, "segment counts: out of memory");
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)               \
    reduction(min                                                                                  \
              : bad)
    for (size_t b = 0; b < nb; b++) {
        size_t *count = part + b * cells;
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
        for (size_t c = b * SGS_BLOCK_ROWS; c < end; c++) {
            size_t v = code ? code[c] : 0;
            if (v < width)
                count[(size_t)labels[c] * width + v]++;
            else if (c < bad)
                bad = c;
        }
    }
    if (bad < n) {
        sgs_free(part);
        return sgs_error_set(err, SGS_EINVAL, "segment counts: row %zu has code %zu, not 0..%zu",
                             bad, (size_t)code[bad], width - 1);
    }
    for (size_t e = 0; e < cells; e++)
        counts[e] = 0;
    for (size_t b = 0; b < nb; b++)
        for (size_t e = 0; e < cells; e++)
            counts[e] += part[b * cells + e];
    sgs_free(part);
    return SGS_OK;
}

/* ---- Profiles from the sums ---------------------------------------------------------- */

void sgs_segment_profile_means(size_t k, size_t d, const size_t *size, const double *base_mean,
                               const double *base_var, double *mean, double *deviation)
{
    for (size_t j = 0; j < k; j++) {
        double n_j = (double)size[j];
        for (size_t f = 0; f < d; f++) {
            mean[j * d + f] = n_j > 0 ? mean[j * d + f] / n_j : (double)NAN;
            double sd = sqrt(base_var[f]);
            deviation[j * d + f] =
                n_j > 0 && sd > 0 ? (deviation[j * d + f] / n_j - base_mean[f]) / sd : 0.0;
        }
    }
}

void sgs_segment_shares(size_t k, const double *sum, double total, double *share)
{
    for (size_t j = 0; j < k; j++)
        share[j] = total != 0 ? sum[j] / total : (double)NAN;
}
