/*
 * kernels/stage_columns.c — the columns the stage and opportunity kernels read (see
 * stage_columns.h). Each parallel kernel is followed by its serial reference twin; both call
 * the same per-customer function, so they agree bit for bit by construction.
 */
#include "kernels/stage_columns.h"

#include "kernels/summary.h"

#include <math.h>

/* ---- Purchase index ------------------------------------------------------------------- */

static int check_index_args(const sgs_grouped_t *g, const int64_t *grouped_of, size_t n,
                            const void *out, sgs_error_t *err)
{
    if (!g || !out || (g->n_customers > 0 && (!g->row_offset || !g->day || !g->amount)))
        return sgs_error_set(err, SGS_EINVAL, "purchase index: a NULL array");
    if (!grouped_of && n > g->n_customers) /* the identity map */
        return sgs_error_set(err, SGS_EINVAL,
                             "purchase index: customer %zu maps to grouped customer %zu of %zu",
                             g->n_customers, g->n_customers, g->n_customers);
    for (size_t u = 0; grouped_of && u < n; u++)
        if (grouped_of[u] >= 0 && (uint64_t)grouped_of[u] >= g->n_customers)
            return sgs_error_set(
                err, SGS_EINVAL,
                "purchase index: customer %zu maps to grouped customer %lld of %zu", u,
                (long long)grouped_of[u], g->n_customers);
    return SGS_OK;
}

/* Purchase occasions of grouped customer c; written to day (when not NULL). */
static size_t occasions(const sgs_grouped_t *g, size_t c, int32_t *day)
{
    size_t count = 0, hi = g->row_offset[c + 1];
    for (size_t r = g->row_offset[c]; r < hi;) {
        sgs_purchase_day_t pd = sgs_purchase_day_read(g->day, g->amount, r, hi);
        if (pd.occasion) {
            if (day)
                day[count] = g->day[r];
            count++;
        }
        r = pd.end;
    }
    return count;
}

/* The grouped customer of customer u: grouped_of[u], or u itself when grouped_of is NULL. */
static inline int64_t grouped_customer(const int64_t *grouped_of, size_t u)
{
    return grouped_of ? grouped_of[u] : (int64_t)u;
}

static void prefix_sum(size_t n, size_t *offset)
{
    offset[0] = 0;
    for (size_t u = 0; u < n; u++) /* serial prefix sum: exact */
        offset[u + 1] += offset[u];
}

int sgs_purchase_index_count(const sgs_grouped_t *g, const int64_t *grouped_of, size_t n,
                             const sgs_exec_t *exec, size_t *offset, sgs_error_t *err)
{
    int rc = check_index_args(g, grouped_of, n, offset, err);
    if (rc != SGS_OK)
        return rc;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)
    for (size_t u = 0; u < n; u++)
        offset[u + 1] = grouped_customer(grouped_of, u) >= 0
                            ? occasions(g, (size_t)grouped_customer(grouped_of, u), NULL)
                            : 0;
    prefix_sum(n, offset);
    return SGS_OK;
}

int sgs_purchase_index_fill(const sgs_grouped_t *g, const int64_t *grouped_of, size_t n,
                            const size_t *offset, const sgs_exec_t *exec, int32_t *day,
                            sgs_error_t *err)
{
    int rc = check_index_args(g, grouped_of, n, day, err);
    if (rc != SGS_OK || !offset)
        return rc != SGS_OK ? rc : sgs_error_set(err, SGS_EINVAL, "purchase index: no offsets");
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)
    for (size_t u = 0; u < n; u++)
        if (grouped_customer(grouped_of, u) >= 0)
            (void)occasions(g, (size_t)grouped_customer(grouped_of, u), day + offset[u]);
    return SGS_OK;
}

int sgs_purchase_index_take(sgs_grouped_t *g, const sgs_exec_t *exec, size_t *offset,
                            int32_t **day_out, sgs_error_t *err)
{
    const size_t n = g ? g->n_customers : 0;
    int rc = check_index_args(g, NULL, n, offset, err);
    if (rc != SGS_OK)
        return rc;
    const int n_threads = sgs_exec_threads_for(exec, n);
    /* occasions() writes day[k] after reading the rows of its k-th occasion, all at or past
     * row_offset[c] + k: the write lands on a row already read */
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t c = 0; c < n; c++)
        offset[c + 1] = occasions(g, c, g->day + g->row_offset[c]);
    prefix_sum(n, offset);
    int32_t *day = sgs_alloc_array(offset[n] ? offset[n] : 1, sizeof *day);
    if (!day)
        return sgs_error_set(err, SGS_ENOMEM, "purchase index: no memory for %zu purchase days",
                             offset[n]);
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t c = 0; c < n; c++) {
        const int32_t *from = g->day + g->row_offset[c];
        int32_t *to = day + offset[c];
        for (size_t k = 0, m = offset[c + 1] - offset[c]; k < m; k++)
            to[k] = from[k];
    }
    *day_out = day;
    return SGS_OK;
}

int sgs_purchase_index_count_ref(const sgs_grouped_t *g, const int64_t *grouped_of, size_t n,
                                 size_t *offset, sgs_error_t *err)
{
    int rc = check_index_args(g, grouped_of, n, offset, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t u = 0; u < n; u++)
        offset[u + 1] = grouped_customer(grouped_of, u) >= 0
                            ? occasions(g, (size_t)grouped_customer(grouped_of, u), NULL)
                            : 0;
    prefix_sum(n, offset);
    return SGS_OK;
}

int sgs_purchase_index_fill_ref(const sgs_grouped_t *g, const int64_t *grouped_of, size_t n,
                                const size_t *offset, int32_t *day, sgs_error_t *err)
{
    int rc = check_index_args(g, grouped_of, n, day, err);
    if (rc != SGS_OK || !offset)
        return rc != SGS_OK ? rc : sgs_error_set(err, SGS_EINVAL, "purchase index: no offsets");
    for (size_t u = 0; u < n; u++)
        if (grouped_customer(grouped_of, u) >= 0)
            (void)occasions(g, (size_t)grouped_customer(grouped_of, u), day + offset[u]);
    return SGS_OK;
}

/* ---- Purchase rate while buying ------------------------------------------------------- */

double sgs_rate_while_buying(const double *params, double x, double t_x, double days_per_unit)
{
    return (params[0] + x) / (params[1] + t_x) / days_per_unit;
}

/* ---- Model columns of the buyers at the as-of day ------------------------------------- */

static int check_buyer_args(size_t n, const int64_t *buyer_row, const sgs_buyer_scores_t *s,
                            const double *p_buy, const double *p_buy_model, const double *clv,
                            const double *rate, sgs_error_t *err)
{
    if (n > 0 && (!buyer_row || !s || !s->prob_no_purchase || !s->clv || !s->frequency ||
                  !s->recency_days || !s->params || !p_buy || !p_buy_model || !clv || !rate))
        return sgs_error_set(err, SGS_EINVAL, "buyer columns: a NULL array");
    return SGS_OK;
}

static void buyer_columns_one(size_t u, const int64_t *buyer_row, const sgs_buyer_scores_t *s,
                              double *p_buy, double *p_buy_model, double *clv, double *rate)
{
    int64_t b = buyer_row[u];
    if (b < 0) {
        p_buy[u] = p_buy_model[u] = rate[u] = clv[u] = NAN;
        return;
    }
    const double unit = s->days_per_unit;
    p_buy[u] = s->p_buy ? s->p_buy[b] : (double)NAN;
    p_buy_model[u] = 1.0 - s->prob_no_purchase[b];
    clv[u] = s->clv[b];
    rate[u] = sgs_rate_while_buying(s->params, s->frequency[b], s->recency_days[b] / unit, unit);
}

int sgs_stage_buyer_columns(size_t n, const int64_t *buyer_row, const sgs_buyer_scores_t *s,
                            const sgs_exec_t *exec, double *p_buy, double *p_buy_model, double *clv,
                            double *rate_per_day, sgs_error_t *err)
{
    int rc = check_buyer_args(n, buyer_row, s, p_buy, p_buy_model, clv, rate_per_day, err);
    if (rc != SGS_OK)
        return rc;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)
    for (size_t u = 0; u < n; u++)
        buyer_columns_one(u, buyer_row, s, p_buy, p_buy_model, clv, rate_per_day);
    return SGS_OK;
}

int sgs_stage_buyer_columns_ref(size_t n, const int64_t *buyer_row, const sgs_buyer_scores_t *s,
                                double *p_buy, double *p_buy_model, double *clv,
                                double *rate_per_day, sgs_error_t *err)
{
    int rc = check_buyer_args(n, buyer_row, s, p_buy, p_buy_model, clv, rate_per_day, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t u = 0; u < n; u++)
        buyer_columns_one(u, buyer_row, s, p_buy, p_buy_model, clv, rate_per_day);
    return SGS_OK;
}

/* ---- Model columns at another day ------------------------------------------------------- */

static int check_model_at_args(const sgs_stage_input_t *in, const sgs_stage_model_t *m,
                               const double *rate, sgs_error_t *err)
{
    if (!in || !m || !m->params || !rate || !(m->days_per_unit > 0.0) ||
        (in->n > 0 && (!in->purchase_offset || !in->purchase_day)))
        return sgs_error_set(err, SGS_EINVAL, "model columns: a NULL array or a unit <= 0");
    return SGS_OK;
}

static void model_at_one(const sgs_stage_input_t *in, size_t u, int32_t day,
                         const sgs_stage_model_t *m, double *p_buy, double *rate)
{
    sgs_purchase_summary_t ps;
    sgs_purchase_summary(in, u, day, &ps);
    if (ps.n_days == 0) {
        rate[u] = NAN;
        if (p_buy)
            p_buy[u] = NAN;
        return;
    }
    const double unit = m->days_per_unit;
    double x = ps.n_days - 1, t_x = (ps.last_day - ps.first_day) / unit,
           T = (day - ps.first_day) / unit;
    rate[u] = sgs_rate_while_buying(m->params, x, t_x, unit);
    if (!p_buy)
        return;
    double p_alive =
        m->calibration ? sgs_purchase_p_alive(m->model, m->params, x, t_x, T) : (double)NAN;
    p_buy[u] = sgs_p_buy(m->calibration, p_alive,
                         sgs_purchase_prob_no_purchase(m->model, m->params, m->horizon, x, t_x, T));
}

int sgs_stage_model_at(const sgs_stage_input_t *in, int32_t day, const sgs_stage_model_t *m,
                       const sgs_exec_t *exec, double *p_buy, double *rate_per_day,
                       sgs_error_t *err)
{
    int rc = check_model_at_args(in, m, rate_per_day, err);
    if (rc != SGS_OK)
        return rc;
    size_t n = in->n;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(dynamic, 4096)
    for (size_t u = 0; u < n; u++)
        model_at_one(in, u, day, m, p_buy, rate_per_day);
    return SGS_OK;
}

int sgs_stage_model_at_ref(const sgs_stage_input_t *in, int32_t day, const sgs_stage_model_t *m,
                           double *p_buy, double *rate_per_day, sgs_error_t *err)
{
    int rc = check_model_at_args(in, m, rate_per_day, err);
    if (rc != SGS_OK)
        return rc;
    for (size_t u = 0; u < in->n; u++)
        model_at_one(in, u, day, m, p_buy, rate_per_day);
    return SGS_OK;
}

/* ---- Gathering buyer columns ------------------------------------------------------------ */

int sgs_gather_rows(size_t n, const int64_t *row, const double *src, const sgs_exec_t *exec,
                    double *dst, sgs_error_t *err)
{
    if (n > 0 && (!row || !src || !dst))
        return sgs_error_set(err, SGS_EINVAL, "gather: a NULL array");
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)
    for (size_t u = 0; u < n; u++)
        dst[u] = row[u] >= 0 ? src[row[u]] : (double)NAN;
    return SGS_OK;
}

/* ---- Stages against what customers did next ------------------------------------------- */

int sgs_stage_came_back(const sgs_stage_input_t *in, const uint8_t *stage, const double *p_buy,
                        int32_t end, int32_t until, const sgs_exec_t *exec,
                        int64_t customers[SGS_STAGE_COUNT], int64_t bought[SGS_STAGE_COUNT],
                        sgs_error_t *err)
{
    if (!in || !customers || !bought || (in->n > 0 && (!stage || !p_buy)))
        return sgs_error_set(err, SGS_EINVAL, "stages came back: a NULL array");
    int64_t c[SGS_STAGE_COUNT] = {0}, b[SGS_STAGE_COUNT] = {0};
    size_t n = in->n, bad = n;
    /* integer counts: the same whatever the split; the first customer with a bad code named */
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(static)          \
    reduction(+ : c[:SGS_STAGE_COUNT], b[:SGS_STAGE_COUNT]) reduction(min : bad)
    for (size_t u = 0; u < n; u++) {
        if (!isfinite(p_buy[u]))
            continue;
        if (stage[u] >= SGS_STAGE_COUNT) {
            bad = u < bad ? u : bad;
            continue;
        }
        sgs_purchase_summary_t ps;
        sgs_purchase_summary(in, u, end, &ps);
        c[stage[u]]++;
        b[stage[u]] += ps.next_day != SGS_DAY_NONE && ps.next_day <= until;
    }
    if (bad < n)
        return sgs_error_set(err, SGS_EDATA, "stages came back: stage code %d of customer %lld",
                             (int)stage[bad],
                             (long long)(in->customer_id ? in->customer_id[bad] : (int64_t)bad));
    for (int s = 0; s < SGS_STAGE_COUNT; s++) {
        customers[s] = c[s];
        bought[s] = b[s];
    }
    return SGS_OK;
}
