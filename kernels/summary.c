/*
 * kernels/summary.c — per-customer summary (kernels/summary.h for the definitions).
 */
#include "kernels/summary.h"

#include "kernels/tables.h"

#include <math.h>
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

/* Summarize one customer's rows lo..hi-1 (day order) into slot c (summary.h has the rules). */
static void summarize_customer(const sgs_grouped_t *g, size_t lo, size_t hi, int32_t as_of_day,
                               sgs_summary_t *s, size_t c)
{
    const int32_t *day = g->day;
    const double *amount = g->amount;
    uint32_t channel_count[SGS_CHANNEL_COUNT] = {0};
    int32_t first = 0, last = 0, n_days = 0, n_refunds = 0, n_cancelled = 0;
    double total = 0.0, refunds = 0.0, repeat_total = 0.0;
    double last_amount = 0.0; /* net amount of the latest occasion, after attributions */
    double gap_sum = 0.0, gap_sq_sum = 0.0;

    for (size_t i = lo; i < hi;) {
        sgs_purchase_day_t pd = sgs_purchase_day_read(day, amount, i, hi);
        double net = pd.purchases + pd.refunds;
        total += net;
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

    s->has_purchase[c] = n_days > 0;
    s->first_day[c] = first;
    s->last_day[c] = last;
    s->n_purchase_days[c] = n_days;
    s->frequency[c] = n_days > 0 ? n_days - 1 : 0;
    s->recency_days[c] = last - first;
    s->age_days[c] = n_days > 0 ? as_of_day - first : 0;
    s->days_since_last[c] = n_days > 0 ? as_of_day - last : 0;
    s->total_spend[c] = total;
    s->mean_spend[c] = n_days > 0 ? total / n_days : 0.0;
    s->refund_total[c] = refunds;
    s->n_refunds[c] = n_refunds;
    s->n_cancelled_days[c] = n_cancelled;
    int32_t x = s->frequency[c];
    s->monetary[c] = x > 0 ? fmax(0.0, repeat_total) / x : 0.0;
    double gap_mean = x > 0 ? gap_sum / x : (double)NAN;
    s->gap_mean_days[c] = gap_mean;
    s->gap_sd_days[c] = x > 1 ? sqrt(fmax(0.0, gap_sq_sum / x - gap_mean * gap_mean)) : (double)NAN;
    uint8_t best = 0;
    for (uint8_t k = 1; k < SGS_CHANNEL_COUNT; k++)
        if (channel_count[k] > channel_count[best])
            best = k;
    s->main_channel[c] = best;
}

int sgs_summarize(const sgs_exec_t *exec, const sgs_grouped_t *g, int32_t as_of_day,
                  sgs_summary_t *out, sgs_error_t *err)
{
    if (out->n_customers != g->n_customers)
        return sgs_error_set(err, SGS_EINVAL, "summary: %zu slots for %zu customers",
                             out->n_customers, g->n_customers);
    size_t n_late = 0;
    int n_threads = sgs_exec_threads_for(exec, g->n_customers);
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 4096) reduction(+ : n_late)
    for (size_t c = 0; c < g->n_customers; c++) {
        size_t lo = g->row_offset[c], hi = g->row_offset[c + 1];
        n_late += hi > lo && g->day[hi - 1] > as_of_day;
        summarize_customer(g, lo, hi, as_of_day, out, c);
    }
    if (n_late > 0)
        return sgs_error_set(err, SGS_EINVAL,
                             "summary: %zu customers have rows after the as-of day", n_late);
    return SGS_OK;
}
