/*
 * kernels/summary.c — per-customer summary (kernels/summary.h for the definitions).
 */
#include "kernels/summary.h"

#include "kernels/tables.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define SUMMARY_COLUMNS(X)                                                                         \
    X(has_purchase)                                                                                \
    X(first_day)                                                                                   \
    X(last_day)                                                                                    \
    X(n_purchase_days)                                                                             \
    X(frequency)                                                                                   \
    X(recency_days)                                                                                \
    X(age_days)                                                                                    \
    X(days_since_last)                                                                             \
    X(total_spend)                                                                                 \
    X(mean_spend)                                                                                  \
    X(monetary)                                                                                    \
    X(refund_total)                                                                                \
    X(n_refunds)                                                                                   \
    X(n_cancelled_days)                                                                            \
    X(gap_mean_days)                                                                               \
    X(gap_sd_days)                                                                                 \
    X(main_channel)

int sgs_summary_alloc(sgs_summary_t *s, size_t n)
{
    memset(s, 0, sizeof *s);
    int ok = 1;
#define ALLOC_COLUMN(name) ok &= (s->name = sgs_alloc_array(n, sizeof *s->name)) != NULL;
    SUMMARY_COLUMNS(ALLOC_COLUMN)
#undef ALLOC_COLUMN
    if (!ok) {
        sgs_summary_free(s);
        return SGS_ENOMEM;
    }
    s->n_customers = n;
    return SGS_OK;
}

int sgs_summary_alloc_history(sgs_summary_t *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->has_purchase = sgs_alloc_array(n, sizeof *s->has_purchase);
    s->n_purchase_days = sgs_alloc_array(n, sizeof *s->n_purchase_days);
    s->recency_days = sgs_alloc_array(n, sizeof *s->recency_days);
    s->age_days = sgs_alloc_array(n, sizeof *s->age_days);
    s->total_spend = sgs_alloc_array(n, sizeof *s->total_spend);
    s->monetary = sgs_alloc_array(n, sizeof *s->monetary);
    if (!s->has_purchase || !s->n_purchase_days || !s->recency_days || !s->age_days ||
        !s->total_spend || !s->monetary) {
        sgs_summary_free(s);
        return SGS_ENOMEM;
    }
    s->n_customers = n;
    return SGS_OK;
}

void sgs_summary_free(sgs_summary_t *s)
{
    if (!s)
        return;
#define FREE_COLUMN(name) sgs_free(s->name);
    SUMMARY_COLUMNS(FREE_COLUMN)
#undef FREE_COLUMN
    memset(s, 0, sizeof *s);
}

void sgs_summary_copy_row(sgs_summary_t *s, size_t to, size_t from)
{
#define COPY_COLUMN(name) s->name[to] = s->name[from];
    SUMMARY_COLUMNS(COPY_COLUMN)
#undef COPY_COLUMN
}

/* 0 for a net amount within a billionth of the gross purchases it came from, else the amount.
 * Returned in full allows for rounding, as a cancelled day does (sgs_purchase_day_read):
 * purchases of 0.1 and 0.2 and a later refund of 0.3 leave 5.6e-17, which is not spend, and
 * summed in another order the same amounts can leave +3.6e-15 as well as 0. */
static double zero_within_rounding(double net, double gross)
{
    return isfinite(gross) && fabs(net) <= 1e-9 * gross ? 0.0 : net;
}

/* Summarize one customer's rows lo..hi-1 (day order) into slot c (summary.h has the rules).
 * Returns 0, or 1 when a spend sum of the customer is not finite (finite amounts whose sum
 * overflows; the slot is then written all the same, and the caller stops). */
static int summarize_customer(const sgs_grouped_t *g, size_t lo, size_t hi, int32_t as_of_day,
                              sgs_summary_t *s, size_t c)
{
    const int32_t *day = g->day;
    const double *amount = g->amount;
    uint32_t channel_count[SGS_CHANNEL_COUNT] = {0};
    int32_t first = 0, last = 0, n_days = 0, n_refunds = 0, n_cancelled = 0;
    double total = 0.0, refunds = 0.0, repeat_total = 0.0, gross = 0.0;
    double last_amount = 0.0; /* net amount of the latest occasion, after attributions */
    double gap_sum = 0.0, gap_sq_sum = 0.0;

    for (size_t i = lo; i < hi;) {
        sgs_purchase_day_t pd = sgs_purchase_day_read(day, amount, i, hi);
        double net = pd.purchases + pd.refunds;
        total += net;
        gross += pd.purchases;
        refunds -= pd.refunds;
        n_refunds += pd.n_refund_rows;
        if (!pd.occasion) {
            n_cancelled += pd.has_purchase_row;
            /* Refunded beyond the day's own purchases: returns an earlier occasion's goods. */
            double returned = fmin(-net, last_amount);
            if (returned > 0.0) {
                last_amount -= returned;
                if (n_days > 1)
                    repeat_total -= returned;
            }
            i = pd.end;
            continue;
        }
        if (g->channel)
            for (size_t k = i; k < pd.end; k++)
                if (amount[k] >= 0.0 && g->channel[k] < SGS_CHANNEL_COUNT)
                    channel_count[g->channel[k]]++;
        if (n_days == 0) {
            first = day[i];
        } else {
            double gap = (double)(day[i] - last);
            gap_sum += gap;
            gap_sq_sum += gap * gap;
            repeat_total += net;
        }
        last = day[i];
        last_amount = net;
        n_days++;
        i = pd.end;
    }

    total = zero_within_rounding(total, gross);
    repeat_total = zero_within_rounding(repeat_total, gross);

    /* Columns left NULL are not wanted (sgs_summary_alloc_history). */
#define SET(column, value)                                                                         \
    do {                                                                                           \
        if (s->column)                                                                             \
            s->column[c] = (value);                                                                \
    } while (0)
    int32_t x = n_days > 0 ? n_days - 1 : 0;
    SET(has_purchase, n_days > 0);
    SET(first_day, first);
    SET(last_day, last);
    SET(n_purchase_days, n_days);
    SET(frequency, x);
    SET(recency_days, last - first);
    SET(age_days, n_days > 0 ? as_of_day - first : 0);
    SET(days_since_last, n_days > 0 ? as_of_day - last : 0);
    SET(total_spend, total);
    SET(mean_spend, n_days > 0 ? total / n_days : 0.0);
    SET(refund_total, refunds);
    SET(n_refunds, n_refunds);
    SET(n_cancelled_days, n_cancelled);
    SET(monetary, x > 0 ? fmax(0.0, repeat_total) / x : 0.0);
    double gap_mean = x > 0 ? gap_sum / x : (double)NAN;
    SET(gap_mean_days, gap_mean);
    SET(gap_sd_days, x > 1 ? sqrt(fmax(0.0, gap_sq_sum / x - gap_mean * gap_mean)) : (double)NAN);
    uint8_t best = 0;
    for (uint8_t k = 1; k < SGS_CHANNEL_COUNT; k++)
        if (channel_count[k] > channel_count[best])
            best = k;
    SET(main_channel, best);
#undef SET
    /* Every spend figure derives from these four sums (a day's purchases and refunds enter
     * total and refunds): finite sums, finite figures. */
    return !(isfinite(total) && isfinite(refunds) && isfinite(repeat_total) &&
             isfinite(last_amount));
}

/* The error for customer c whose spend sums overflow (summarize_customer returned 1). */
static int spend_overflow(const sgs_grouped_t *g, size_t c, size_t n_bad, sgs_error_t *err)
{
    size_t lo = g->row_offset[c], hi = g->row_offset[c + 1];
    double largest = 0.0;
    for (size_t i = lo; i < hi; i++)
        largest = fmax(largest, fabs(g->amount[i]));
    return sgs_error_set(err, SGS_EDATA,
                         "customer %lld: its %zu amounts (the largest %.6g in magnitude) add up "
                         "beyond the largest number a double holds (%.3g), so its spend is not "
                         "a finite number%s",
                         (long long)g->customer_id[c], hi - lo, largest, DBL_MAX,
                         n_bad > 1 ? " (the first of several such customers)" : "");
}

int sgs_summarize_until(const sgs_exec_t *exec, const sgs_grouped_t *g, int32_t end_day,
                        sgs_summary_t *out, sgs_error_t *err)
{
    if (out->n_customers != g->n_customers)
        return sgs_error_set(err, SGS_EINVAL, "summary: %zu slots for %zu customers",
                             out->n_customers, g->n_customers);
    int n_threads = sgs_exec_threads_for(exec, g->n_customers);
    size_t first_bad = SIZE_MAX, n_bad = 0;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 4096)                           \
    reduction(min : first_bad) reduction(+ : n_bad)
    for (size_t c = 0; c < g->n_customers; c++) {
        size_t lo = g->row_offset[c], hi = g->row_offset[c + 1];
        while (hi > lo && g->day[hi - 1] > end_day) /* rows are in day order */
            hi--;
        if (summarize_customer(g, lo, hi, end_day, out, c)) {
            n_bad++;
            first_bad = c < first_bad ? c : first_bad;
        }
    }
    return n_bad ? spend_overflow(g, first_bad, n_bad, err) : SGS_OK;
}

/* The subset's output has one slot per chosen customer, and each is a customer of g. */
static int check_subset(const sgs_grouped_t *g, const size_t *which, size_t n_which,
                        const sgs_summary_t *out, sgs_error_t *err)
{
    if (out->n_customers != n_which)
        return sgs_error_set(err, SGS_EINVAL, "summary: %zu slots for %zu customers",
                             out->n_customers, n_which);
    for (size_t j = 0; j < n_which; j++)
        if (which[j] >= g->n_customers)
            return sgs_error_set(err, SGS_EINVAL, "summary: customer %zu of %zu", which[j],
                                 g->n_customers);
    return SGS_OK;
}

int sgs_summarize_until_subset(const sgs_exec_t *exec, const sgs_grouped_t *g, int32_t end_day,
                               const size_t *which, size_t n_which, sgs_summary_t *out,
                               sgs_error_t *err)
{
    int rc = check_subset(g, which, n_which, out, err);
    if (rc)
        return rc;
    int n_threads = sgs_exec_threads_for(exec, n_which);
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 4096)
    for (size_t j = 0; j < n_which; j++) {
        size_t c = which[j], lo = g->row_offset[c], hi = g->row_offset[c + 1];
        while (hi > lo && g->day[hi - 1] > end_day) /* rows are in day order */
            hi--;
        summarize_customer(g, lo, hi, end_day, out, j);
    }
    return SGS_OK;
}

int sgs_summarize(const sgs_exec_t *exec, const sgs_grouped_t *g, int32_t as_of_day,
                  sgs_summary_t *out, sgs_error_t *err)
{
    if (out->n_customers != g->n_customers)
        return sgs_error_set(err, SGS_EINVAL, "summary: %zu slots for %zu customers",
                             out->n_customers, g->n_customers);
    size_t n_late = 0, first_bad = SIZE_MAX, n_bad = 0;
    int n_threads = sgs_exec_threads_for(exec, g->n_customers);
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 4096)                           \
    reduction(+ : n_late, n_bad) reduction(min : first_bad)
    for (size_t c = 0; c < g->n_customers; c++) {
        size_t lo = g->row_offset[c], hi = g->row_offset[c + 1];
        n_late += hi > lo && g->day[hi - 1] > as_of_day;
        if (summarize_customer(g, lo, hi, as_of_day, out, c)) {
            n_bad++;
            first_bad = c < first_bad ? c : first_bad;
        }
    }
    if (n_late > 0)
        return sgs_error_set(err, SGS_EINVAL,
                             "summary: %zu customers have rows after the as-of day", n_late);
    return n_bad ? spend_overflow(g, first_bad, n_bad, err) : SGS_OK;
}

/* ---- Serial reference twins --------------------------------------------------------- */

int sgs_summarize_until_ref(const sgs_grouped_t *g, int32_t end_day, sgs_summary_t *out,
                            sgs_error_t *err)
{
    if (out->n_customers != g->n_customers)
        return sgs_error_set(err, SGS_EINVAL, "summary: %zu slots for %zu customers",
                             out->n_customers, g->n_customers);
    size_t first_bad = SIZE_MAX, n_bad = 0;
    for (size_t c = 0; c < g->n_customers; c++) {
        size_t lo = g->row_offset[c], hi = g->row_offset[c + 1];
        while (hi > lo && g->day[hi - 1] > end_day)
            hi--;
        if (summarize_customer(g, lo, hi, end_day, out, c) && n_bad++ == 0)
            first_bad = c;
    }
    return n_bad ? spend_overflow(g, first_bad, n_bad, err) : SGS_OK;
}

int sgs_summarize_until_subset_ref(const sgs_grouped_t *g, int32_t end_day, const size_t *which,
                                   size_t n_which, sgs_summary_t *out, sgs_error_t *err)
{
    int rc = check_subset(g, which, n_which, out, err);
    if (rc)
        return rc;
    for (size_t j = 0; j < n_which; j++) {
        size_t c = which[j], lo = g->row_offset[c], hi = g->row_offset[c + 1];
        while (hi > lo && g->day[hi - 1] > end_day)
            hi--;
        summarize_customer(g, lo, hi, end_day, out, j);
    }
    return SGS_OK;
}

int sgs_summarize_ref(const sgs_grouped_t *g, int32_t as_of_day, sgs_summary_t *out,
                      sgs_error_t *err)
{
    if (out->n_customers != g->n_customers)
        return sgs_error_set(err, SGS_EINVAL, "summary: %zu slots for %zu customers",
                             out->n_customers, g->n_customers);
    size_t n_late = 0, first_bad = SIZE_MAX, n_bad = 0;
    for (size_t c = 0; c < g->n_customers; c++) {
        size_t lo = g->row_offset[c], hi = g->row_offset[c + 1];
        n_late += hi > lo && g->day[hi - 1] > as_of_day;
        if (summarize_customer(g, lo, hi, as_of_day, out, c) && n_bad++ == 0)
            first_bad = c;
    }
    if (n_late > 0)
        return sgs_error_set(err, SGS_EINVAL,
                             "summary: %zu customers have rows after the as-of day", n_late);
    return n_bad ? spend_overflow(g, first_bad, n_bad, err) : SGS_OK;
}
