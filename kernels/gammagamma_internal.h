/*
 * kernels/gammagamma_internal.h — the pieces of the Gamma-Gamma fit (kernels/gammagamma.c)
 * that a fit over rows spread across processes (engine/dist_gammagamma.h) makes the same way:
 * the per-block partial sums, in the kernel's blocks of SGS_BLOCK_ROWS rows, and the
 * likelihood, gradient and Hessian from the totals. The kernel itself calls
 * sgs__gg_block_sums, sgs__gg_eval_terms and sgs__gg_hessian_terms, so that both make every
 * floating-point operation alike; the row and correlation partials restate the kernel's
 * loops (gg_eval_init, correlation), which the tests check bit for bit against it.
 */
#ifndef SGS_GAMMAGAMMA_INTERNAL_H
#define SGS_GAMMAGAMMA_INTERNAL_H

#include "kernels/gammagamma.h" /* sgs_model_fit_options_t */

#include <math.h>

/* The sums over the used customers that depend on γ, per block, in this order. */
enum {
    SGS__GG_L,     /* Σ ln(γ + x m) */
    SGS__GG_XL,    /* Σ x ln(γ + x m) */
    SGS__GG_INV,   /* Σ 1/(γ + x m) */
    SGS__GG_XINV,  /* Σ x/(γ + x m) */
    SGS__GG_INV2,  /* Σ 1/(γ + x m)² */
    SGS__GG_XINV2, /* Σ x/(γ + x m)² */
    SGS__GG_COUNT
};

/* The totals that do not depend on the parameters. */
typedef struct sgs__gg_terms {
    double N;                           /* used customers */
    double sum_xlnm, sum_lnm, sum_xlnx; /* Σ x ln m, Σ ln m, Σ x ln x over them */
    size_t n_x;                         /* distinct x among them */
    const double *x_values;             /* [n_x] ascending */
    const double *x_counts;             /* [n_x] customers with that x (integer-valued) */
} sgs__gg_terms_t;

/* A customer in the fit: x > 0 and a finite m > 0. */
static inline int sgs__gg_usable(double x, double m)
{
    return x > 0.0 && m > 0.0 && isfinite(m);
}

/* a[SGS__GG_COUNT] = the sums above over the n used customers (ux = x, uxm = x m) of one
 * block, in row order. */
void sgs__gg_block_sums(const double *ux, const double *uxm, size_t n, double g, double *a);

/* part[b SGS__GG_COUNT ..] = sgs__gg_block_sums of each block b of the n used rows, the blocks
 * in parallel with exec's threads (the same bits for any count). */
void sgs__gg_sums_blocks(const double *ux, const double *uxm, size_t n, double g,
                         const sgs_exec_t *exec, double *part);

/* ln L and its gradient in (ln p, ln q, ln γ) (grad_log may be NULL) from the totals and the
 * sums s[SGS__GG_COUNT] (combined over the blocks in block order). */
void sgs__gg_eval_terms(const sgs__gg_terms_t *t, const double *s, const double *params, double *ll,
                        double *grad_log);

/* The Hessian (3 x 3) of ln L in (ln p, ln q, ln γ), likewise. */
void sgs__gg_hessian_terms(const sgs__gg_terms_t *t, const double *s, const double *params,
                           double *hess);

/* What the kernel's first pass finds in the n rows x, m (blocks of SGS_BLOCK_ROWS from row 0).
 * Per block b: part[3 b ..] = Σ x ln m, Σ ln m, Σ x ln x over its used rows (row order),
 * used[b] = its used rows. Over all: the first row whose x is not a non-negative integer
 * (SIZE_MAX when none), the counts and the largest used x (0 when none). */
typedef struct sgs__gg_rows {
    size_t first_bad, n_used, n_zero, n_nonpos;
    double max_x;
} sgs__gg_rows_t;
void sgs__gg_row_blocks(const double *x, const double *m, size_t n, const sgs_exec_t *exec,
                        double *part, size_t *used, sgs__gg_rows_t *out);

/* The fit's starting points, in log space, into starts (room for SGS_OPTIM_MAX_STARTS x 3):
 * - sgs__gg_given_starts: the caller's (o->starts, each parameter finite and > 0); *n_starts
 *   gets their count, 0 when none are given. @return 0 or SGS_EINVAL (the kernel's words).
 * - sgs__gg_default_starts: the three defaults around the mean spend of the used customers
 *   (mean_m); returns their count. */
int sgs__gg_given_starts(const sgs_model_fit_options_t *o, double *starts, int *n_starts,
                         sgs_error_t *err);
int sgs__gg_default_starts(double mean_m, double *starts);

/* The correlation's block partials over the used rows of n rows x, m: pass 1 writes
 * part[2 b ..] = Σ x, Σ m; pass 2, with the means mx, mm, part[3 b ..] = Σ dx², Σ dm², Σ dx dm
 * (dx = x - mx, dm = m - mm). Parallel over blocks, each block's partials the same whatever
 * the thread count. */
void sgs__gg_correlation_blocks(const double *x, const double *m, size_t n, int pass, double mx,
                                double mm, int n_threads, double *part);

/* The correlation from the combined sums: cxm / sqrt(cxx cmm), 0 when a variance is not > 0. */
double sgs__gg_correlation_of(double cxx, double cmm, double cxm);

/* sgs_gg_loglik and sgs_gg_fit with by_value 1, as they are, or 0: every customer's terms
 * computed row by row instead of taken from the table of repeated values of x m (the same
 * bits, which the tests check with this). */
int sgs__gg_loglik_as(int by_value, const double *params, const double *x, const double *m,
                      size_t n, double *ll, double *grad_log, const sgs_exec_t *exec,
                      sgs_error_t *err);
int sgs__gg_fit_as(int by_value, const double *x, const double *m, size_t n,
                   const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                   sgs_gg_summary_t *summary, const sgs_exec_t *exec, sgs_error_t *err);

#endif /* SGS_GAMMAGAMMA_INTERNAL_H */
