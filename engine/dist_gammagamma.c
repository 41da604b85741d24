/*
 * engine/dist_gammagamma.c — the Gamma-Gamma fit over processes (engine/dist_gammagamma.h):
 * kernels/gammagamma.c's sgs_gg_fit, step by step, with each floating-point total made of the
 * kernel's block partials gathered in block order.
 */
#include "engine/dist_gammagamma.h"

#include "engine/dist_blocks.h"
#include "kernels/gammagamma_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The fit's state on one process. */
typedef struct dgg {
    const sgs_dist_t *d;
    const sgs_exec_t *exec;
    sgs__gg_terms_t terms;
    const double *ux, *uxm; /* this process's realigned used rows: x, x m */
    size_t n_used, nb_used; /* and their blocks */
    double *part;           /* nb_used x SGS__GG_COUNT */
    sgs_error_t err;        /* a failed gather inside the optimizer's callback */
} dgg_t;

/* The sums of the used customers at γ = g, the same on every process. */
static int dgg_sums(dgg_t *f, double g, double *s)
{
    sgs__gg_sums_blocks(f->ux, f->uxm, f->n_used, g, f->exec, f->part);
    return sgs_dist_blocks_sum(f->d, f->part, f->nb_used, SGS__GG_COUNT, s, &f->err);
}

static int dgg_callback(const double *theta, double *ll, double *grad, void *ctx)
{
    dgg_t *f = ctx;
    double p[3] = {exp(theta[0]), exp(theta[1]), exp(theta[2])}, s[SGS__GG_COUNT];
    int rc = dgg_sums(f, p[2], s);
    if (rc == SGS_OK)
        sgs__gg_eval_terms(&f->terms, s, p, ll, grad);
    return rc;
}

static int dgg_hessian(const double *theta, double *hess, void *ctx)
{
    dgg_t *f = ctx;
    double p[3] = {exp(theta[0]), exp(theta[1]), exp(theta[2])}, s[SGS__GG_COUNT];
    int rc = dgg_sums(f, p[2], s);
    if (rc == SGS_OK)
        sgs__gg_hessian_terms(&f->terms, s, p, hess);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The distinct x of every process's used rows with their counts, ascending: each process's
 * (value, count) pairs gathered, sorted by value, equal values merged (integer counts, exact).
 * *values and *counts are allocated here (one block: free *values). */
static int distinct_x(const sgs_dist_t *d, const double *x, const double *m, size_t n,
                      double **values, double **counts, size_t *n_x, sgs_error_t *err)
{
    *values = *counts = NULL;
    *n_x = 0;
    double *xs = sgs_alloc_array(n ? n : 1, sizeof *xs), *pairs = NULL, *all = NULL;
    size_t *bytes = sgs_alloc_array((size_t)d->size, sizeof *bytes);
    int rc = xs && bytes ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    size_t k = 0, mine = 0;
    for (size_t i = 0; i < n; i++)
        if (sgs__gg_usable(x[i], m[i]))
            xs[k++] = x[i];
    qsort(xs, k, sizeof *xs, cmp_double);
    pairs = sgs_alloc_array(k ? 2 * k : 1, sizeof *pairs);
    rc = pairs ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    for (size_t i = 0; i < k; i++) {
        if (i == 0 || xs[i] != xs[i - 1]) {
            pairs[2 * mine] = xs[i];
            pairs[2 * mine++ + 1] = 0.0;
        }
        pairs[2 * mine - 1] += 1.0;
    }
    rc = sgs_dist_gather_all(d, pairs, 2 * mine * sizeof *pairs, (void **)&all, bytes, err);
    if (rc)
        goto cleanup;
    size_t total = 0;
    for (int p = 0; p < d->size; p++)
        total += bytes[p] / (2 * sizeof *pairs);
    /* from here a failure is this process's alone */
    *values = sgs_alloc_array(total ? 2 * total : 1, sizeof **values);
    rc = *values ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
    if (rc == SGS_OK && total) {
        qsort(all, total, 2 * sizeof *all,
              cmp_double); /* by value: each appears once per process */
        *counts = *values + total;
        for (size_t i = 0; i < total; i++) {
            if (*n_x == 0 || all[2 * i] != (*values)[*n_x - 1]) {
                (*values)[*n_x] = all[2 * i];
                (*counts)[(*n_x)++] = 0.0;
            }
            (*counts)[*n_x - 1] += all[2 * i + 1];
        }
    }
    rc = sgs_dist_agree(d, rc, err);
cleanup:
    sgs_free(xs);
    sgs_free(pairs);
    sgs_free(all);
    sgs_free(bytes);
    return rc;
}

/* The default start's Σ m over the used rows, serially in row order (the kernel's loop). */
typedef struct spend_sum {
    const double *x, *m;
    size_t n;
} spend_sum_t;

static void spend_step(double *state, void *ctx)
{
    const spend_sum_t *c = ctx;
    double s = state[0];
    for (size_t i = 0; i < c->n; i++)
        if (sgs__gg_usable(c->x[i], c->m[i]))
            s += c->m[i];
    state[0] = s;
}

int sgs_dist_gg_fit(const sgs_dist_t *d, const double *x, const double *m, size_t n,
                    const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                    sgs_gg_summary_t *summary, const sgs_exec_t *exec, sgs_error_t *err)
{
    sgs_model_fit_options_t o = options ? *options : sgs_model_fit_default_options();
    dgg_t f = {.d = d, .exec = exec};
    sgs_dist_align_t rows = {0}, used = {0};
    double *packed = NULL, *moved = NULL, *rx = NULL, *part = NULL, *x_values = NULL,
           *x_counts = NULL, *upacked = NULL, *umoved = NULL;
    size_t *per_block = NULL;
    int rc = n > 0 && (!x || !m) ? sgs_error_set(err, SGS_EINVAL, "gamma-gamma fit: NULL column")
                                 : SGS_OK;
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK)
        rc = sgs_dist_align_init(d, n, &rows, err);
    if (rc)
        goto cleanup;
    /* The input rows in whole blocks of the input order: (x, m) pairs. */
    packed = sgs_alloc_array(n ? 2 * n : 1, sizeof *packed);
    rc = packed ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        packed[2 * i] = x[i];
        packed[2 * i + 1] = m[i];
    }
    rc = sgs_dist_align_move(d, &rows, packed, 2, 0, (void **)&moved, err);
    if (rc)
        goto cleanup;
    size_t nr = rows.n, nb = sgs_block_count(nr, SGS_BLOCK_ROWS);
    rx = sgs_alloc_array(nr ? 2 * nr : 1, sizeof *rx);
    part = sgs_alloc_array(nb ? 3 * nb : 1, sizeof *part);
    per_block = sgs_alloc_array(nb ? nb : 1, sizeof *per_block);
    rc = rx && part && per_block ? SGS_OK
                                 : sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    const double *rxx = rx, *rmm = rx + nr; /* the realigned x and m */
    for (size_t i = 0; i < nr; i++) {
        rx[i] = moved[2 * i];
        rx[nr + i] = moved[2 * i + 1];
    }
    sgs_free(moved);
    moved = NULL;

    /* The first pass: the first bad row (the lowest process's is the lowest row), the counts,
     * the constant sums. */
    sgs__gg_rows_t r;
    sgs__gg_row_blocks(rxx, rmm, nr, exec, part, per_block, &r);
    if (r.first_bad != SIZE_MAX)
        rc = sgs_error_set(err, SGS_EDATA,
                           "gamma-gamma: row %llu: x = %g must be a non-negative integer",
                           (unsigned long long)(rows.first + r.first_bad), rxx[r.first_bad]);
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    int64_t counts[3] = {(int64_t)r.n_used, (int64_t)r.n_zero, (int64_t)r.n_nonpos}, max_bits;
    sgs_dist_reduce_i64(d, counts, 3, SGS_DIST_SUM);
    memcpy(&max_bits, &r.max_x, sizeof max_bits); /* >= 0: the bits order as the values */
    sgs_dist_reduce_i64(d, &max_bits, 1, SGS_DIST_MAX);
    sgs_gg_summary_t sum = {0};
    sum.n_used = (size_t)counts[0];
    sum.n_no_repeat = (size_t)counts[1];
    sum.n_nonpositive = (size_t)counts[2];
    double consts[3];
    rc = sgs_dist_blocks_sum(d, part, nb, 3, consts, err);
    if (rc)
        goto cleanup;
    f.terms.N = (double)sum.n_used;
    f.terms.sum_xlnm = consts[0];
    f.terms.sum_lnm = consts[1];
    f.terms.sum_xlnx = consts[2];
    double N = f.terms.N;

    /* The correlation: two passes over the input blocks (kernels/gammagamma.c correlation). */
    sum.correlation = 0.0;
    if (N >= 2.0) {
        double sxm[2], c3[3];
        sgs__gg_correlation_blocks(rxx, rmm, nr, 1, 0.0, 0.0, sgs_exec_threads_for(exec, nr), part);
        rc = sgs_dist_blocks_sum(d, part, nb, 2, sxm, err);
        if (rc)
            goto cleanup;
        sgs__gg_correlation_blocks(rxx, rmm, nr, 2, sxm[0] / N, sxm[1] / N,
                                   sgs_exec_threads_for(exec, nr), part);
        rc = sgs_dist_blocks_sum(d, part, nb, 3, c3, err);
        if (rc)
            goto cleanup;
        sum.correlation = sgs__gg_correlation_of(c3[0], c3[1], c3[2]);
    }
    sum.correlation_warning = fabs(sum.correlation) > SGS_GG_CORRELATION_WARN;
    if (summary)
        *summary = sum;
    if (N == 0.0) {
        rc = sgs_error_set(err, SGS_EDATA,
                           "gamma-gamma fit: no customer with a repeat purchase and a positive "
                           "mean spend (%zu without repeat purchase, %zu with mean spend <= 0)",
                           sum.n_no_repeat, sum.n_nonpositive);
        goto cleanup;
    }
    rc = distinct_x(d, rxx, rmm, nr, &x_values, &x_counts, &f.terms.n_x, err);
    if (rc)
        goto cleanup;
    f.terms.x_values = x_values;
    f.terms.x_counts = x_counts;

    /* The starts (the kernel's). */
    double starts[SGS_OPTIM_MAX_STARTS * 3];
    int n_starts;
    rc = sgs__gg_given_starts(&o, starts, &n_starts, err);
    if (rc)
        goto cleanup;
    if (n_starts == 0) { /* the mean spend, summed in row order from process to process */
        double s = 0.0;
        spend_sum_t chain = {rxx, rmm, nr};
        sgs_dist_chain(d, &s, 1, spend_step, &chain);
        n_starts = sgs__gg_default_starts(s / N, starts);
    }

    /* The used rows (x, x m), compacted in row order, in whole blocks of their own order. */
    upacked = sgs_alloc_array(r.n_used ? 2 * r.n_used : 1, sizeof *upacked);
    rc = upacked ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK)
        rc = sgs_dist_align_init(d, r.n_used, &used, err);
    if (rc)
        goto cleanup;
    for (size_t i = 0, k = 0; i < nr; i++)
        if (sgs__gg_usable(rxx[i], rmm[i])) {
            upacked[2 * k] = rxx[i];
            upacked[2 * k++ + 1] = rxx[i] * rmm[i];
        }
    rc = sgs_dist_align_move(d, &used, upacked, 2, 0, (void **)&umoved, err);
    if (rc)
        goto cleanup;
    f.n_used = used.n;
    f.nb_used = sgs_block_count(f.n_used, SGS_BLOCK_ROWS);
    sgs_free(part);
    part = sgs_alloc_array(f.n_used ? 2 * f.n_used + f.nb_used * SGS__GG_COUNT : 1, sizeof *part);
    rc = part ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "gamma-gamma: out of memory");
    rc = sgs_dist_agree(d, rc, err);
    if (rc)
        goto cleanup;
    double *ux = part, *uxm = part + f.n_used;
    for (size_t i = 0; i < f.n_used; i++) {
        ux[i] = umoved[2 * i];
        uxm[i] = umoved[2 * i + 1];
    }
    f.ux = ux;
    f.uxm = uxm;
    f.part = part + 2 * f.n_used;

    sgs_optim_problem_t prob = {3, dgg_callback, &f, N, o.penalizer, n_starts, starts, dgg_hessian};
    rc = sgs_optim_minimize(&prob, &o.optim, fit, err);
    if (rc && f.err.code) /* a gather failed inside an evaluation: its message */
        *err = f.err;
    if (rc)
        sgs_error_prefix(err, "gamma-gamma fit");
cleanup:
    sgs_dist_align_free(&rows);
    sgs_dist_align_free(&used);
    sgs_free(packed);
    sgs_free(moved);
    sgs_free(rx);
    sgs_free(part);
    sgs_free(per_block);
    sgs_free(x_values);
    sgs_free(upacked);
    sgs_free(umoved);
    return rc;
}
