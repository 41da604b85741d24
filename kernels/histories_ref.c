/*
 * kernels/histories_ref.c — the serial reference twin of sgs_histories_build
 * (kernels/histories.h): the same table by the plainest route, a comparison sort of the rows by
 * (x, t_x, T, row) and a walk over the sorted rows. Tests compare it with the parallel,
 * radix-sorted build bit for bit.
 */
#include "kernels/histories.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct triple {
    double x, t_x, T;
    uint32_t row;
} triple_t;

static double fold(double v) /* -0 counts as 0 */
{
    return v == 0.0 ? 0.0 : v;
}

static int cmp_double(double a, double b)
{
    return (a > b) - (a < b);
}

static int cmp_triple(const void *pa, const void *pb)
{
    const triple_t *a = pa, *b = pb;
    int c = cmp_double(a->x, b->x);
    if (c == 0)
        c = cmp_double(a->t_x, b->t_x);
    if (c == 0)
        c = cmp_double(a->T, b->T);
    return c ? c : (a->row > b->row) - (a->row < b->row);
}

static int cmp_value(const void *pa, const void *pb)
{
    return cmp_double(*(const double *)pa, *(const double *)pb);
}

/* The distinct values of v[0..n-1] (folded), ascending, into a new array; *m of them. */
static double *distinct(const double *v, size_t n, size_t *m)
{
    double *d = sgs_alloc_array(n ? n : 1, sizeof *d);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = fold(v[i]);
    qsort(d, n, sizeof *d, cmp_value);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || d[i] != d[k - 1])
            d[k++] = d[i];
    *m = k;
    return d;
}

/* Index of value v in the ascending vals[0..m-1], where it is. */
static uint32_t index_of(const double *vals, size_t m, double v)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (vals[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

/* Whether sorted row j starts a history (its triple differs from the previous row's). */
static int starts_history(const triple_t *rows, size_t j)
{
    return j == 0 || rows[j].x != rows[j - 1].x || rows[j].t_x != rows[j - 1].t_x ||
           rows[j].T != rows[j - 1].T;
}

int sgs_histories_build_ref(sgs_histories_t *h, const double *x, const double *t_x, const double *T,
                            const double *weight, size_t n, sgs_error_t *err)
{
    static const char *what[] = {"a value is not finite", "x must be a non-negative integer",
                                 "t_x must satisfy 0 <= t_x <= T", "t_x must be 0 when x is 0",
                                 "weight must be finite and > 0"};
    memset(h, 0, sizeof *h);
    if (n > 0 && (!x || !t_x || !T))
        return sgs_error_set(err, SGS_EINVAL, "histories: NULL column with %zu rows", n);
    if (n >= (size_t)UINT32_MAX)
        return sgs_error_set(err, SGS_EOVERFLOW, "histories: %zu rows, at most 2^32 - 2", n);
    for (size_t i = 0; i < n; i++) {
        int bad = !isfinite(x[i]) || !isfinite(t_x[i]) || !isfinite(T[i]) ? 1
                  : x[i] < 0.0 || x[i] != floor(x[i])                     ? 2
                  : t_x[i] < 0.0 || t_x[i] > T[i]                         ? 3
                  : x[i] == 0.0 && t_x[i] != 0.0                          ? 4
                  : weight && !(weight[i] > 0.0 && isfinite(weight[i]))   ? 5
                                                                          : 0;
        if (bad)
            return sgs_error_set(err, SGS_EDATA, "history of row %zu (x=%g, t_x=%g, T=%g): %s", i,
                                 x[i], t_x[i], T[i], what[bad - 1]);
    }
    int rc = SGS_OK;
    triple_t *rows = sgs_alloc_array(n ? n : 1, sizeof *rows);
    h->history_of = sgs_alloc_array(n ? n : 1, sizeof *h->history_of);
    h->x_values = distinct(x, n, &h->n_x_values);
    h->t_x_values = distinct(t_x, n, &h->n_t_x_values);
    h->T_values = distinct(T, n, &h->n_T_values);
    if (!rows || !h->history_of || !h->x_values || !h->t_x_values || !h->T_values) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        rows[i] = (triple_t){fold(x[i]), fold(t_x[i]), fold(T[i]), (uint32_t)i};
    qsort(rows, n, sizeof *rows, cmp_triple);
    size_t m = 0;
    for (size_t j = 0; j < n; j++)
        m += starts_history(rows, j);
    h->n_customers = n;
    h->n_unique = m;
    h->x = sgs_alloc_array(m ? m : 1, sizeof *h->x);
    h->t_x = sgs_alloc_array(m ? m : 1, sizeof *h->t_x);
    h->T = sgs_alloc_array(m ? m : 1, sizeof *h->T);
    h->count = sgs_alloc_array(m ? m : 1, sizeof *h->count);
    h->x_id = sgs_alloc_array(m ? m : 1, sizeof *h->x_id);
    h->t_x_id = sgs_alloc_array(m ? m : 1, sizeof *h->t_x_id);
    h->T_id = sgs_alloc_array(m ? m : 1, sizeof *h->T_id);
    h->count_by_x = sgs_calloc_array(h->n_x_values ? h->n_x_values : 1, sizeof *h->count_by_x);
    if (!h->x || !h->t_x || !h->T || !h->count || !h->x_id || !h->t_x_id || !h->T_id ||
        !h->count_by_x) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
    size_t cur = 0;
    for (size_t j = 0; j < n; j++) {
        const triple_t *r = &rows[j];
        if (starts_history(rows, j)) {
            cur = j == 0 ? 0 : cur + 1;
            h->x[cur] = r->x;
            h->t_x[cur] = r->t_x;
            h->T[cur] = r->T;
            h->x_id[cur] = index_of(h->x_values, h->n_x_values, r->x);
            h->t_x_id[cur] = index_of(h->t_x_values, h->n_t_x_values, r->t_x);
            h->T_id[cur] = index_of(h->T_values, h->n_T_values, r->T);
            h->count[cur] = 0.0;
        }
        h->count[cur] += weight ? weight[r->row] : 1.0; /* a history's rows in row order */
        h->history_of[r->row] = (uint32_t)cur;
    }
    double total = 0.0;
    for (size_t j = 0; j < m; j++) {
        h->count_by_x[h->x_id[j]] += h->count[j];
        total += h->count[j];
    }
    h->total_weight = total;
cleanup:
    sgs_free(rows);
    if (rc) {
        sgs_histories_free(h);
        sgs_error_set(err, rc, "histories: out of memory for %zu rows", n);
    }
    return rc;
}
