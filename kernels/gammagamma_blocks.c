/*
 * kernels/gammagamma_blocks.c — the Gamma-Gamma fit's per-block partials
 * (kernels/gammagamma_internal.h), for a fit whose rows are spread over processes.
 */
#include "kernels/gammagamma_internal.h"

#include <stdint.h>

void sgs__gg_sums_blocks(const double *ux, const double *uxm, size_t n, double g,
                         const sgs_exec_t *exec, double *part)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int n_threads = sgs_exec_threads_for(exec, n);
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
        sgs__gg_block_sums(ux + b * SGS_BLOCK_ROWS, uxm + b * SGS_BLOCK_ROWS,
                           end - b * SGS_BLOCK_ROWS, g, part + b * SGS__GG_COUNT);
    }
}

/* kernels/gammagamma.c gg_eval_init's first pass, block by block. */
void sgs__gg_row_blocks(const double *x, const double *m, size_t n, const sgs_exec_t *exec,
                        double *part, size_t *used, sgs__gg_rows_t *out)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
    int n_threads = sgs_exec_threads_for(exec, n);
    size_t first_bad = SIZE_MAX, n_used = 0, n_zero = 0, n_nonpos = 0;
    double max_x = 0.0;
    /* ln x of the usual counts from a table: the same bits as log(x), once per count */
    enum { SMALL_X = 1024 };
    double log_small[SMALL_X];
    for (size_t v = 1; v < SMALL_X && n > SMALL_X; v++)
        log_small[v] = log((double)v);
#pragma omp parallel for num_threads(n_threads) schedule(static) \
    reduction(min : first_bad) reduction(+ : n_used, n_zero, n_nonpos) reduction(max : max_x)
    for (size_t b = 0; b < nb; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n, k = 0;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0;
        for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++) {
            double xi = x[i];
            if (!(xi >= 0.0) || !isfinite(xi) || xi != floor(xi)) {
                if (i < first_bad)
                    first_bad = i;
                continue;
            }
            if (xi == 0.0) {
                n_zero++;
            } else if (!sgs__gg_usable(xi, m[i])) {
                n_nonpos++;
            } else {
                n_used++;
                k++;
                max_x = fmax(max_x, xi);
                double lm = log(m[i]);
                s0 += xi * lm;
                s1 += lm;
                s2 += xi * (xi < SMALL_X && n > SMALL_X ? log_small[(size_t)xi] : log(xi));
            }
        }
        part[3 * b] = s0;
        part[3 * b + 1] = s1;
        part[3 * b + 2] = s2;
        used[b] = k;
    }
    out->first_bad = first_bad;
    out->n_used = n_used;
    out->n_zero = n_zero;
    out->n_nonpos = n_nonpos;
    out->max_x = max_x;
}

/* kernels/gammagamma.c correlation's two passes, block by block. */
void sgs__gg_correlation_blocks(const double *x, const double *m, size_t n, int pass, double mx,
                                double mm, int n_threads, double *part)
{
    size_t nb = sgs_block_count(n, SGS_BLOCK_ROWS);
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
        if (pass == 1) {
            double bx = 0.0, bm = 0.0;
            for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++)
                if (sgs__gg_usable(x[i], m[i])) {
                    bx += x[i];
                    bm += m[i];
                }
            part[2 * b] = bx;
            part[2 * b + 1] = bm;
        } else {
            double a1 = 0.0, a2 = 0.0, a3 = 0.0;
            for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++)
                if (sgs__gg_usable(x[i], m[i])) {
                    double dx = x[i] - mx, dm = m[i] - mm;
                    a1 += dx * dx;
                    a2 += dm * dm;
                    a3 += dx * dm;
                }
            part[3 * b] = a1;
            part[3 * b + 1] = a2;
            part[3 * b + 2] = a3;
        }
    }
}

double sgs__gg_correlation_of(double cxx, double cmm, double cxm)
{
    if (!(cxx > 0.0) || !(cmm > 0.0))
        return 0.0;
    return cxm / sqrt(cxx * cmm);
}
