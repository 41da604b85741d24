/*
 * kernels/base_totals.c — per-customer inputs and whole-base totals (see base_totals.h). Each
 * parallel kernel is followed by its serial reference twin; both call the same per-customer
 * function.
 */
#include "kernels/base_totals.h"

#include "kernels/exact_sum.h"

#include <math.h>
#include <omp.h>

/* ---- Spend totals --------------------------------------------------------------------- */

/* Totals over customers are exact sums (kernels/exact_sum.h): the same bits whatever the
 * order of the customers or how they are split between threads or processes (docs/mpi.md). */

/* The exact sums of v[lo..hi) and of their magnitudes into sum and sum_abs. */
static void add_range(const double *v, size_t lo, size_t hi, sgs_exact_sum_t *sum,
                      sgs_exact_sum_t *sum_abs)
{
    for (size_t i = lo; i < hi; i++) {
        sgs_exact_sum_add(sum, v[i]);
        sgs_exact_sum_add(sum_abs, fabs(v[i]));
    }
}

/* *sum and *sum_abs (initialized here) over v[0..n): each thread sums a share of the rows
 * into accumulators of its own, merged after (exact: any split and any order of the merges
 * give the same sums). */
static void exact_column_sums(size_t n, const double *v, const sgs_exec_t *exec,
                              sgs_exact_sum_t *sum, sgs_exact_sum_t *sum_abs)
{
    sgs_exact_sum_init(sum);
    sgs_exact_sum_init(sum_abs);
#pragma omp parallel num_threads(sgs_exec_threads_for(exec, n))
    {
        size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
        sgs_exact_sum_t mine, mine_abs;
        sgs_exact_sum_init(&mine);
        sgs_exact_sum_init(&mine_abs);
        add_range(v, n * t / nt, n * (t + 1) / nt, &mine, &mine_abs);
#pragma omp critical(sgs_exact_column_sums)
        {
            sgs_exact_sum_merge(sum, &mine);
            sgs_exact_sum_merge(sum_abs, &mine_abs);
        }
    }
}

void sgs_spend_sums(const sgs_summary_t *s, size_t n, const sgs_exec_t *exec,
                    sgs_exact_sum_t *revenue, sgs_exact_sum_t *magnitude, sgs_spend_totals_t *out)
{
    exact_column_sums(n, s->total_spend, exec, revenue, magnitude);
    size_t n_cancelled = 0, n_nonpositive = 0;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n))                               \
    reduction(+ : n_cancelled, n_nonpositive)
    for (size_t c = 0; c < n; c++) {
        n_cancelled += (size_t)s->n_cancelled_days[c];
        n_nonpositive += s->total_spend[c] <= 0.0;
    }
    out->n_cancelled_days = n_cancelled;
    out->n_nonpositive = n_nonpositive;
}

void sgs_spend_totals(const sgs_summary_t *s, size_t n, sgs_spend_totals_t *out)
{
    sgs_exact_sum_t revenue, magnitude;
    sgs_spend_sums(s, n, NULL, &revenue, &magnitude, out);
    out->revenue = sgs_exact_sum_value(&revenue);
    out->magnitude = sgs_exact_sum_value(&magnitude);
}

void sgs_amount_signs(size_t n, const double *amount, const sgs_exec_t *exec, size_t *n_negative,
                      size_t *n_zero)
{
    size_t negative = 0, zero = 0;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) reduction(+ : negative, zero)
    for (size_t i = 0; i < n; i++) {
        negative += amount[i] < 0.0;
        zero += amount[i] == 0.0;
    }
    *n_negative = negative;
    *n_zero = zero;
}

void sgs_amount_signs_ref(size_t n, const double *amount, size_t *n_negative, size_t *n_zero)
{
    size_t negative = 0, zero = 0;
    for (size_t i = 0; i < n; i++) {
        negative += amount[i] < 0.0;
        zero += amount[i] == 0.0;
    }
    *n_negative = negative;
    *n_zero = zero;
}

/* ---- RFM measures ------------------------------------------------------------------------ */

double sgs_money_key(double amount)
{
    return round(amount * 1e6);
}

static int check_measure(const sgs_summary_t *s, size_t n, int measure, const double *values,
                         sgs_error_t *err)
{
    if (measure < SGS_RFM_RECENCY || measure > SGS_RFM_MONETARY_MEAN)
        return sgs_error_set(err, SGS_EINVAL, "rfm: unknown measure %d", measure);
    if (n > 0 && (!s || !values))
        return sgs_error_set(err, SGS_EINVAL, "rfm: a NULL array");
    return SGS_OK;
}

static double measure_of(const sgs_summary_t *s, int measure, size_t c)
{
    switch (measure) {
    case SGS_RFM_RECENCY:
        return (double)s->days_since_last[c];
    case SGS_RFM_FREQUENCY:
        return (double)s->n_purchase_days[c];
    case SGS_RFM_MONETARY_MEAN:
        return sgs_money_key(s->mean_spend[c]);
    default:
        return sgs_money_key(s->total_spend[c]);
    }
}

int sgs_rfm_measure_values(const sgs_summary_t *s, size_t n, int measure, const sgs_exec_t *exec,
                           double *values, sgs_error_t *err)
{
    int rc = check_measure(s, n, measure, values, err);
    if (rc != SGS_OK)
        return rc;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)
    for (size_t c = 0; c < n; c++)
        values[c] = measure_of(s, measure, c);
    return SGS_OK;
}

int sgs_rfm_measure_values_ref(const sgs_summary_t *s, size_t n, int measure, double *values,
                               sgs_error_t *err)
{
    int rc = check_measure(s, n, measure, values, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t c = 0; c < n; c++)
        values[c] = measure_of(s, measure, c);
    return SGS_OK;
}

/* ---- Value model inputs ------------------------------------------------------------------ */

static int check_value_inputs(const sgs_summary_t *s, size_t n, double days_per_unit,
                              const double *x, const double *t_x, const double *T,
                              const double *spend, sgs_error_t *err)
{
    if (!(days_per_unit > 0.0) || (n > 0 && (!s || !x || !t_x || !T || !spend)))
        return sgs_error_set(err, SGS_EINVAL, "value inputs: a NULL array or a unit <= 0");
    return SGS_OK;
}

static void value_inputs_one(const sgs_summary_t *s, size_t c, double unit, double *x, double *t_x,
                             double *T, double *spend)
{
    x[c] = s->frequency[c];
    t_x[c] = s->recency_days[c] / unit;
    T[c] = s->age_days[c] / unit;
    spend[c] = s->total_spend[c] > 0.0 ? s->monetary[c] : 0.0;
}

int sgs_value_inputs(const sgs_summary_t *s, size_t n, double days_per_unit, const sgs_exec_t *exec,
                     double *x, double *t_x, double *T, double *spend, sgs_error_t *err)
{
    int rc = check_value_inputs(s, n, days_per_unit, x, t_x, T, spend, err);
    if (rc != SGS_OK)
        return rc;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)
    for (size_t c = 0; c < n; c++)
        value_inputs_one(s, c, days_per_unit, x, t_x, T, spend);
    return SGS_OK;
}

int sgs_value_inputs_ref(const sgs_summary_t *s, size_t n, double days_per_unit, double *x,
                         double *t_x, double *T, double *spend, sgs_error_t *err)
{
    int rc = check_value_inputs(s, n, days_per_unit, x, t_x, T, spend, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t c = 0; c < n; c++)
        value_inputs_one(s, c, days_per_unit, x, t_x, T, spend);
    return SGS_OK;
}

void sgs_value_zero_without_spend(size_t n, const double *total_spend, double *expected_spend,
                                  double *clv)
{
    for (size_t c = 0; c < n; c++)
        if (!(total_spend[c] > 0.0))
            expected_spend[c] = clv[c] = 0.0;
}

void sgs_column_sums(size_t n, const double *v, const sgs_exec_t *exec, sgs_exact_sum_t *sum,
                     sgs_exact_sum_t *sum_abs)
{
    exact_column_sums(n, v, exec, sum, sum_abs);
}

void sgs_column_total(size_t n, const double *v, double *sum, double *sum_abs)
{
    sgs_exact_sum_t total, magnitude;
    sgs_column_sums(n, v, NULL, &total, &magnitude);
    *sum = sgs_exact_sum_value(&total);
    *sum_abs = sgs_exact_sum_value(&magnitude);
}

size_t sgs_first_not_finite(size_t n, const double *v)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return i;
    return n;
}

size_t sgs_value_scores_check(size_t n, const double *p_alive, const double *expected_purchases,
                              const double *prob_no_purchase, const double *expected_spend,
                              const double *clv, const double *p_buy, size_t *first,
                              const char **what, double *value)
{
    const double tol = 1e-12; /* rounding of probabilities computed as 1 - something */
    size_t n_bad = 0;
    for (size_t c = 0; c < n; c++) {
        double pa = p_alive[c], e = expected_purchases[c], pn = prob_no_purchase[c];
        double m = expected_spend[c], v = clv[c], pb = p_buy[c];
        const char *bad = NULL;
        double bad_value = 0.0;
        if (!(pa >= 0.0 && pa <= 1.0 + tol))
            bad = "P(alive)", bad_value = pa;
        else if (!(e >= 0.0 && isfinite(e)))
            bad = "expected purchases", bad_value = e;
        else if (!(pn >= -tol && pn <= 1.0 + tol))
            bad = "P(no purchase)", bad_value = pn;
        else if (!(m >= 0.0 && isfinite(m)))
            bad = "expected spend", bad_value = m;
        else if (!isfinite(v))
            bad = "CLV", bad_value = v;
        else if (!(pb >= 0.0 && pb <= 1.0))
            bad = "p_buy", bad_value = pb;
        if (bad && n_bad++ == 0) {
            *first = c;
            *what = bad;
            *value = bad_value;
        }
    }
    return n_bad;
}

/* ---- Per category --------------------------------------------------------------------- */

int sgs_category_sums(size_t n, const uint8_t *category, size_t n_categories, const double *value,
                      size_t *count, sgs_exact_sum_t *acc, sgs_error_t *err)
{
    if (!count || (n > 0 && (!category || (acc && !value))))
        return sgs_error_set(err, SGS_EINVAL, "category totals: a NULL array");
    for (size_t j = 0; j < n_categories; j++) {
        count[j] = 0;
        if (acc)
            sgs_exact_sum_init(&acc[j]);
    }
    for (size_t c = 0; c < n; c++) {
        if (category[c] >= n_categories)
            return sgs_error_set(err, SGS_EINVAL, "category totals: row %zu has category %d", c,
                                 (int)category[c]);
        count[category[c]]++;
        if (acc)
            sgs_exact_sum_add(&acc[category[c]], value[c]);
    }
    return SGS_OK;
}

int sgs_category_totals(size_t n, const uint8_t *category, size_t n_categories, const double *value,
                        size_t *count, double *sum, sgs_error_t *err)
{
    if (!count || (n > 0 && (!category || (sum && !value))))
        return sgs_error_set(err, SGS_EINVAL, "category totals: a NULL array");
    sgs_exact_sum_t *acc = sum ? sgs_alloc_array(n_categories, sizeof *acc) : NULL;
    if (sum && n_categories && !acc)
        return sgs_error_set(err, SGS_ENOMEM, "category totals: no memory");
    int rc = sgs_category_sums(n, category, n_categories, value, count, acc, err);
    for (size_t j = 0; sum && j < n_categories; j++)
        sum[j] = sgs_exact_sum_value(&acc[j]);
    sgs_free(acc);
    return rc;
}
