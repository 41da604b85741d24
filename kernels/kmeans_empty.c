/*
 * kernels/kmeans_empty.c — empty clusters in a k-means run: after the update step, each
 * cluster left without weight takes the row farthest from its own center (scikit-learn's
 * _relocate_empty_clusters_dense), chosen the same way whatever the thread count.
 */
#include "kernels/kmeans_dist_internal.h"
#include "kernels/kmeans_internal.h"
#include "kernels/kmeans_lloyd_internal.h"

/* Order of relocation candidates: larger distance first, then lower row. A total order,
 * so the selected rows do not depend on how rows were split into blocks. */
static int far_before(const sgs__kmeans_far_row_t *a, const sgs__kmeans_far_row_t *b)
{
    return a->dist > b->dist || (a->dist == b->dist && a->row < b->row);
}

/* Insert r into the sorted list top[0..*len) kept at most m long. */
static void far_insert(sgs__kmeans_far_row_t *top, size_t *len, size_t m, sgs__kmeans_far_row_t r)
{
    if (*len == m && !far_before(&r, &top[m - 1]))
        return;
    size_t pos = *len < m ? (*len)++ : m - 1;
    while (pos > 0 && far_before(&r, &top[pos - 1])) {
        top[pos] = top[pos - 1];
        pos--;
    }
    top[pos] = r;
}

/* Each block keeps its m farthest rows (m = the empty clusters); the block lists are merged
 * in block order (kernels/kmeans_lloyd_internal.h has the contract). */
size_t sgs__kmeans_relocate_empty(const double *x, size_t n, size_t d, const double *weights,
                                  const double *centers_old, const int32_t *labels, double *sums,
                                  sgs__kmeans_ws_t *ws, int nt)
{
    size_t k = ws->k, n_empty = 0;
    for (size_t j = 0; j < k; j++)
        if (ws->wsum[j] == 0)
            ws->empty[n_empty++] = (int32_t)j;
    if (n_empty == 0)
        return 0;
    size_t m = n_empty, nb = ws->nb;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t r0, r1, len = 0;
        sgs__kmeans_block_range(b, n, &r0, &r1);
        sgs__kmeans_far_row_t *top = ws->far + b * k;
        for (size_t i = r0; i < r1; i++) {
            sgs__kmeans_far_row_t r = {
                sgs__kmeans_sqdist(x + i * d, centers_old + (size_t)labels[i] * d, d), i};
            far_insert(top, &len, m, r);
        }
        for (size_t q = len; q < m; q++)
            top[q].row = SIZE_MAX; /* block shorter than m rows */
    }
    /* Merge the block lists, in block order, into the list after the last block's. */
    sgs__kmeans_far_row_t *acc = ws->far + nb * k;
    size_t len = 0;
    for (size_t b = 0; b < nb; b++)
        for (size_t q = 0; q < m && ws->far[b * k + q].row != SIZE_MAX; q++)
            far_insert(acc, &len, m, ws->far[b * k + q]);
    if (len == 0 || acc[0].dist == 0)
        return 0; /* every row sits on its center: more clusters than distinct points */
    size_t moved = 0;
    for (size_t q = 0; q < n_empty && q < len; q++) {
        size_t far = acc[q].row, nw = (size_t)ws->empty[q];
        size_t old = (size_t)labels[far];
        double wf = weights ? weights[far] : 1.0;
        for (size_t f = 0; f < d; f++) {
            sums[old * d + f] -= x[far * d + f] * wf;
            sums[nw * d + f] = x[far * d + f] * wf;
        }
        ws->wsum[nw] = wf;
        ws->wsum[old] -= wf;
        moved++;
    }
    return moved;
}
