/*
 * engine/run_events.c — the first part of the actions step (engine/run_actions.c): read the
 * optional /events and /customers groups, build the combined customer index
 * (engine/run_actions.h explains it), group purchases and events by customer over it, and
 * fill the kernels' view (sgs_stage_input_t) with the customer and model columns.
 *
 * Determinism: the index is a merge of sorted id lists; purchases and events are grouped
 * with the stable grouping kernel; every kernel is thread-count independent.
 */
#include "engine/run_actions.h"

#include "engine/dist_input.h"
#include "engine/dist_run.h"
#include "kernels/customer_columns.h"
#include "kernels/dates.h"
#include "kernels/event_codes.h"
#include "kernels/group.h"
#include "kernels/stage_columns.h"

#include <math.h>

/* ---- Reading the optional groups and grouping events ------------------------------------ */

/* Events grouped by their own distinct customers (the grouping kernel, with the event
 * value in the amount column and the kind and channel, packed into one byte by
 * kernels/event_codes.h, in the channel column). */
typedef struct event_groups {
    sgs_grouped_t g; /* n_customers 0 when there are no events */
} event_groups_t;

static int read_and_group_events(sgs_run_state_t *st, sgs_run_actions_t *A,
                                 const sgs_read_options_t *opt, event_groups_t *eg,
                                 sgs_error_t *err)
{
    sgs_events_t ev = {0};
    sgs_read_stats_t stats = {0};
    /* spread: each process holds its customers' rows, the figures are the file's */
    int rc =
        st->dist.size > 1
            ? sgs_dist_read_events(&st->dist, st->req->input_path, opt, &st->owners, &ev,
                                   &A->events_present, &stats, err)
            : sgs_h5_read_events(st->req->input_path, opt, &ev, &A->events_present, &stats, err);
    if (rc != SGS_OK)
        return rc;
    A->n_event_rows = ev.n_rows;
    A->n_event_rows_after = stats.n_rows_after_as_of;
    A->event_channels_present = ev.channel != NULL;
    if (ev.n_rows == 0) {
        sgs_events_free(&ev);
        return SGS_OK;
    }
    uint32_t *row_customer = sgs_alloc_array(ev.n_rows, sizeof *row_customer);
    if (!ev.value) { /* the value column is optional: NaN where absent */
        ev.value = sgs_alloc_array(ev.n_rows, sizeof *ev.value);
        if (ev.value)
            for (size_t i = 0; i < ev.n_rows; i++)
                ev.value[i] = NAN;
    }
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if (!row_customer || !ev.value) {
        sgs_free(row_customer);
        rc = sgs_error_set(err, SGS_ENOMEM, "events: no memory for %zu rows", ev.n_rows);
        goto cleanup;
    }
    rc = sgs_customer_index_build(&st->exec, ev.customer_id, ev.n_rows, row_customer, &ids, &n_ids,
                                  err);
    if (rc != SGS_OK) {
        sgs_free(row_customer);
        goto cleanup;
    }
    sgs_event_codes_pack(&st->exec, ev.kind, ev.channel, ev.n_rows);
    sgs_row_columns_t rows = {ev.n_rows, row_customer, ev.time_s,
                              ev.value,  ev.kind,      ev.customer_id};
    ev.time_s = NULL;
    ev.value = NULL;
    ev.kind = NULL;
    ev.customer_id = NULL;
    int sorted = 0;
    rc = sgs_group_rows(&st->exec, &rows, SGS_ORDER_UNKNOWN, ids, n_ids, &eg->g, &sorted, err);
    if (rc != SGS_OK)
        sgs_free(ids);
cleanup:
    sgs_events_free(&ev);
    if (rc != SGS_OK)
        sgs_error_prefix(err, "%s: /events", st->req->input_path);
    return rc;
}

/* ---- The combined customer index -------------------------------------------------------- */

/* Merge the sorted distinct id lists a (transactions), b (/customers) and c (/events) into
 * A->customer_id. With fill == 0 only counts; with fill == 1 also writes the maps:
 * grouped_of[u] / events_of[u] (index in a / c, or -1), b_to_u[j] (index of b[j]), and
 * A->buyer_row[u] from st->customer_id (a subset of a). */
static size_t merge_ids(const sgs_run_state_t *st, sgs_run_actions_t *A, const int64_t *b,
                        size_t nb, const int64_t *c, size_t nc, int fill, int64_t *grouped_of,
                        int64_t *events_of, int64_t *b_to_u)
{
    const int64_t *a = st->group.rows.customer_id;
    size_t na = st->group.rows.n_customers, ia = 0, ib = 0, ic = 0, ibuy = 0, u = 0;
    size_t only_c = 0, only_b = 0;
    while (ia < na || ib < nb || ic < nc) {
        int64_t id = 0;
        int have = 0;
        if (ia < na) {
            id = a[ia];
            have = 1;
        }
        if (ib < nb && (!have || b[ib] < id)) {
            id = b[ib];
            have = 1;
        }
        if (ic < nc && (!have || c[ic] < id))
            id = c[ic];
        int in_a = ia < na && a[ia] == id, in_b = ib < nb && b[ib] == id,
            in_c = ic < nc && c[ic] == id;
        only_c += in_c && !in_a && !in_b;
        only_b += in_b && !in_a;
        if (fill) {
            A->customer_id[u] = id;
            grouped_of[u] = in_a ? (int64_t)ia : -1;
            events_of[u] = in_c ? (int64_t)ic : -1;
            if (in_b)
                b_to_u[ib] = (int64_t)u;
            if (in_a && ibuy < st->summary.n_customers && st->summary.customer_id[ibuy] == id)
                A->buyer_row[u] = (int64_t)ibuy++;
            else
                A->buyer_row[u] = -1;
        }
        ia += (size_t)in_a;
        ib += (size_t)in_b;
        ic += (size_t)in_c;
        u++;
    }
    if (fill) {
        A->n_only_in_events = only_c;
        A->n_only_in_customers = only_b;
        A->n_buyers = ibuy;
    }
    return u;
}

/* Purchase occasions (kernels/summary.h) of every grouped customer, CSR over the grouped
 * customers (kernels/stage_columns.h), then the grouped transactions are released: nothing
 * after this step reads their rows (the value step's backtest was their last other reader;
 * write_summary.c reads only n_rows), and at 10 M customers they are 540 MB that would
 * otherwise be held while /events is read. Their customer ids stay for the merge. */
static int build_purchases_grouped(sgs_run_state_t *st, size_t **offset_out, int32_t **day_out,
                                   sgs_error_t *err)
{
    sgs_grouped_t *g = &st->group.rows;
    size_t na = g->n_customers;
    size_t *offset = sgs_alloc_array(na + 1, sizeof *offset);
    int32_t *day = NULL;
    if (!offset)
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", na);
    /* in one pass over the rows, over the grouped days (released below; after an error the
     * run frees them with the rest of its state) */
    int rc = sgs_purchase_index_take(g, &st->exec, offset, &day, err);
    if (rc != SGS_OK) {
        sgs_free(offset);
        return rc;
    }
    sgs_free(g->row_offset);
    sgs_free(g->day);
    sgs_free(g->amount);
    sgs_free(g->channel);
    g->row_offset = NULL;
    g->day = NULL;
    g->amount = NULL;
    g->channel = NULL;
    *offset_out = offset;
    *day_out = day;
    return SGS_OK;
}

/* The purchase CSR over the combined index from the one over the grouped customers: both list
 * customers by ascending id and every grouped customer is in the index, so the days are the
 * same array in the same order (taken over) and only the offsets spread out, customers
 * without a grouped row getting none. The offsets are spread in place, from the last: entry
 * u comes from entry k <= u, where k is the number of grouped customers before u. */
static int build_purchases(sgs_run_actions_t *A, const int64_t *grouped_of, size_t na,
                           size_t **offset_g, int32_t **day_g, sgs_error_t *err)
{
    size_t n = A->n;
    size_t *offset = sgs_realloc_array(*offset_g, n + 1, sizeof *offset);
    if (!offset)
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    *offset_g = NULL;
    size_t k = na; /* grouped customers before u + 1 */
    for (size_t u = n; u-- > 0;) {
        offset[u + 1] = offset[k];
        k -= grouped_of[u] >= 0;
    }
    offset[0] = 0;
    A->purchase_offset = offset;
    A->purchase_day = *day_g;
    *day_g = NULL;
    return SGS_OK;
}

/* Events of every customer of the index, CSR; takes the arrays of eg and unpacks the kind
 * and channel of each row. */
static int build_events(const sgs_run_state_t *st, sgs_run_actions_t *A, event_groups_t *eg,
                        const int64_t *events_of, sgs_error_t *err)
{
    size_t n = A->n;
    A->event_offset = sgs_alloc_array(n + 1, sizeof *A->event_offset);
    if (A->event_channels_present)
        A->event_channel = sgs_alloc_array(eg->g.n_rows ? eg->g.n_rows : 1, 1);
    if (!A->event_offset || (A->event_channels_present && !A->event_channel))
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    sgs_event_codes_split(&st->exec, eg->g.channel, A->event_channel, eg->g.n_rows);
    A->event_offset[0] = 0;
    const size_t *off = eg->g.row_offset;
    for (size_t u = 0; u < n; u++) {
        int64_t e = events_of[u];
        A->event_offset[u + 1] =
            A->event_offset[u] + (e >= 0 ? off[(size_t)e + 1] - off[(size_t)e] : 0);
    }
    /* the values (survey scores) as a sparse column: most events have none */
    int rc = sgs_sparse_values_build(&st->exec, eg->g.amount, eg->g.n_rows, &A->event_values, err);
    if (rc != SGS_OK)
        return rc;
    sgs_free(eg->g.amount);
    eg->g.amount = NULL;
    A->event_day = eg->g.day;
    A->event_kind = eg->g.channel;
    eg->g.day = NULL;
    eg->g.channel = NULL;
    return SGS_OK;
}

/* Columns from /customers rows (b_to_u[crow[r]] is the row's index entry): the entries no
 * row names hold "none"; the rows moved by kernels/customer_columns.h. */
static int fill_customer_columns(const sgs_run_state_t *st, sgs_run_actions_t *A,
                                 const sgs_customers_t *cu, const uint32_t *crow,
                                 const int64_t *b_to_u, sgs_error_t *err)
{
    size_t n = A->n;
    if (cu->signup_time_s) {
        A->signup_day = sgs_alloc_array(n, sizeof *A->signup_day);
        if (!A->signup_day)
            return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        for (size_t u = 0; u < n; u++)
            A->signup_day[u] = SGS_DAY_NONE;
    }
    if (cu->preferred_channel) {
        A->preferred_channel = sgs_calloc_array(n, 1);
        if (!A->preferred_channel)
            return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    }
    if (cu->referrer_id) {
        A->referrer_id = sgs_alloc_array(n, sizeof *A->referrer_id);
        if (!A->referrer_id)
            return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        for (size_t u = 0; u < n; u++)
            A->referrer_id[u] = -1;
        A->referrers_present = 1;
    }
    sgs_customer_rows_t rows = {
        cu->n_rows, crow, b_to_u, cu->signup_time_s, cu->preferred_channel, cu->referrer_id};
    sgs_customer_columns_t cols = {n, A->signup_day, A->preferred_channel, A->referrer_id};
    return sgs_customer_columns_scatter(&st->exec, &rows, &cols, err);
}

/* Whether the run has a probability of buying the stage rules can use: calibrated by the
 * backtest, or the model's own when its P(alive) is informative (engine/run_value.c). */
static int p_buy_usable(const sgs_run_state_t *st)
{
    return st->value.p_buy_calibrated || st->value.p_alive_informative;
}

/* Model columns of the buyers at the as-of day: p_buy, the model's own P(buy), CLV (the value
 * step's) and the rate while buying; NaN for customers without a purchase, and p_buy NaN
 * (unknown: the stage and opportunity rules that read it stand aside) for everyone when it
 * is neither calibrated nor backed by an informative P(alive). */
static int fill_model_columns(const sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    size_t n = A->n;
    if (!st->value.ran)
        return SGS_OK;
    A->p_buy = sgs_alloc_array(n, sizeof(double));
    A->p_buy_model = sgs_alloc_array(n, sizeof(double));
    A->rate_per_day = sgs_alloc_array(n, sizeof(double));
    A->clv = sgs_alloc_array(n, sizeof(double));
    if (!A->p_buy || !A->p_buy_model || !A->rate_per_day || !A->clv)
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    sgs_buyer_scores_t scores = {p_buy_usable(st) ? st->value.p_buy : NULL,
                                 st->value.prob_no_purchase,
                                 st->value.clv,
                                 st->summary.columns.frequency,
                                 st->summary.columns.recency_days,
                                 st->value.model_fit.params,
                                 st->days_per_unit};
    return sgs_stage_buyer_columns(n, A->buyer_row, &scores, &st->exec, A->p_buy, A->p_buy_model,
                                   A->clv, A->rate_per_day, err);
}

/* The earlier steps' columns this step copied into the index's, read for the last time: the
 * outputs that show them were written after the segment step and the reports' figures made
 * from them (engine/run.c); 45 bytes per customer back before the stages. */
static void release_last_read(sgs_run_state_t *st)
{
    SGS_RUN_RELEASE(st->value.prob_no_purchase);
    SGS_RUN_RELEASE(st->value.p_buy);
    SGS_RUN_RELEASE(st->value.clv);
    SGS_RUN_RELEASE(st->summary.customer_id);
    SGS_RUN_RELEASE(st->summary.columns.frequency);
    SGS_RUN_RELEASE(st->summary.columns.recency_days);
    SGS_RUN_RELEASE(st->summary.columns.main_channel);
    SGS_RUN_RELEASE(st->segments.segment);
}

/* p_buy and the rate while buying at an earlier day, from the purchase days on or before it,
 * the given model parameters and calibration (NULL: the model's own probability). p_buy is
 * NULL (unknown for everyone, as NaN is to the stage rules) unless p_buy_usable. */
int sgs__run_actions_model_columns_at(const sgs_run_state_t *st, const sgs_run_actions_t *A,
                                      int32_t day, sgs_purchase_model_t model, const double *params,
                                      const sgs_isotonic_t *calibration, double **p_buy_out,
                                      double **rate_out, sgs_error_t *err)
{
    size_t n = A->n;
    const int usable = p_buy_usable(st);
    double *p_buy = usable ? sgs_alloc_array(n ? n : 1, sizeof *p_buy) : NULL;
    double *rate = sgs_alloc_array(n ? n : 1, sizeof *rate);
    if ((usable && !p_buy) || !rate) {
        sgs_free(p_buy);
        sgs_free(rate);
        return sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
    }
    sgs_stage_model_t m = {model, params, st->days_per_unit, st->value.horizon, calibration};
    int rc = sgs_stage_model_at(&A->input, day, &m, &st->exec, p_buy, rate, err);
    if (rc != SGS_OK) {
        sgs_free(p_buy);
        sgs_free(rate);
        return rc;
    }
    *p_buy_out = p_buy;
    *rate_out = rate;
    return SGS_OK;
}

/* The index's figures over the whole base (a spread run's processes' summed; one process's
 * own, which st->held keeps), and this process's first entry in the whole index: its customers
 * follow those of the processes before it (engine/dist_input.h: ranges of id). Collective in a
 * spread run. */
static void whole_base_counts(sgs_run_state_t *st, sgs_run_actions_t *A)
{
    st->held.actions_ran = 1;
    st->held.n_customers = A->n;
    st->held.n_customer_rows = A->n_customer_rows;
    st->held.n_event_rows = A->n_event_rows;
    size_t c[6] = {A->n,
                   A->n_buyers,
                   A->n_event_rows,
                   A->n_customer_rows,
                   A->n_only_in_events,
                   A->n_only_in_customers};
    A->first = st->dist.size > 1 ? (size_t)sgs_dist_offset(&st->dist, A->n) : 0;
    sgs_dist_run_sum_sizes(&st->dist, c, 6);
    A->n_all = c[0];
    A->n_buyers_all = c[1];
    A->n_event_rows = c[2];
    A->n_customer_rows = c[3];
    A->n_only_in_events = c[4];
    A->n_only_in_customers = c[5];
}

int sgs__run_actions_events(sgs_run_state_t *st, sgs_run_actions_t *A, sgs_error_t *err)
{
    sgs_progress_begin(st->req->progress, "events");
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.now_s = st->req->now_s;
    opt.n_threads = st->exec.n_threads;
    /* Events after the run's as-of day (the last transaction's day without --as-of) are
     * left out and counted, like transactions. */
    opt.has_as_of = 1;
    opt.as_of_end_s = ((int64_t)st->read.as_of_day + 1) * SGS_SECONDS_PER_DAY;
    event_groups_t eg = {0};
    sgs_customers_t cu = {0};
    uint32_t *crow = NULL;
    int64_t *c_ids = NULL, *grouped_of = NULL, *events_of = NULL, *b_to_u = NULL;
    size_t *purchase_offset_g = NULL;
    int32_t *purchase_day_g = NULL;
    const size_t n_grouped = st->group.rows.n_customers;
    size_t n_c = 0;
    /* spread: the reads are collective, every process reaches them with the agreed outcome of
     * the part before (engine/dist_run.h) */
    int rc = build_purchases_grouped(st, &purchase_offset_g, &purchase_day_g, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK)
        rc = read_and_group_events(st, A, &opt, &eg, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK)
        rc = st->dist.size > 1
                 ? sgs_dist_read_customers(&st->dist, st->req->input_path, &opt, &st->owners, &cu,
                                           &A->customers_present, err)
                 : sgs_h5_read_customers_opt(st->req->input_path, &opt, &cu, &A->customers_present,
                                             err);
    if (rc != SGS_OK)
        goto cleanup;
    A->n_customer_rows = cu.n_rows;
    if (cu.n_rows > 0) {
        crow = sgs_alloc_array(cu.n_rows, sizeof *crow);
        if (!crow) {
            rc = sgs_error_set(err, SGS_ENOMEM, "/customers: no memory for %zu rows", cu.n_rows);
            goto cleanup;
        }
        rc =
            sgs_customer_index_build(&st->exec, cu.customer_id, cu.n_rows, crow, &c_ids, &n_c, err);
        if (rc != SGS_OK)
            goto cleanup;
    }

    A->n = merge_ids(st, A, c_ids, n_c, eg.g.customer_id, eg.g.n_customers, 0, NULL, NULL, NULL);
    size_t n = A->n;
    A->customer_id = sgs_alloc_array(n, sizeof *A->customer_id);
    A->buyer_row = sgs_alloc_array(n, sizeof *A->buyer_row);
    grouped_of = sgs_alloc_array(n, sizeof *grouped_of);
    events_of = sgs_alloc_array(n, sizeof *events_of);
    b_to_u = sgs_alloc_array(n_c ? n_c : 1, sizeof *b_to_u);
    A->main_channel = sgs_calloc_array(n, 1);
    if (!A->customer_id || !A->buyer_row || !grouped_of || !events_of || !b_to_u ||
        !A->main_channel) {
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        goto cleanup;
    }
    merge_ids(st, A, c_ids, n_c, eg.g.customer_id, eg.g.n_customers, 1, grouped_of, events_of,
              b_to_u);
    A->rfm_segment = sgs_alloc_array(n ? n : 1, 1);
    if (!A->rfm_segment) {
        rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu customers", n);
        goto cleanup;
    }
    for (size_t u = 0; u < n; u++) {
        int64_t b = A->buyer_row[u];
        if (b >= 0)
            A->main_channel[u] = st->summary.columns.main_channel[b];
        A->rfm_segment[u] = b >= 0 ? st->rfm.rfm_segment[b] : (uint8_t)SGS_RFM_SEGMENT_COUNT;
    }
    /* the grouped customers' ids were needed by the merge only */
    sgs_free(st->group.rows.customer_id);
    st->group.rows.customer_id = NULL;
    rc = build_purchases(A, grouped_of, n_grouped, &purchase_offset_g, &purchase_day_g, err);
    if (rc == SGS_OK && eg.g.n_customers > 0)
        rc = build_events(st, A, &eg, events_of, err);
    if (rc == SGS_OK)
        rc = fill_customer_columns(st, A, &cu, crow, b_to_u, err);
    if (rc == SGS_OK)
        rc = fill_model_columns(st, A, err);
    if (rc != SGS_OK)
        goto cleanup;

    sgs_stage_input_t *in = &A->input;
    in->n = n;
    in->customer_id = A->customer_id;
    in->signup_day = A->signup_day;
    in->purchase_offset = A->purchase_offset;
    in->purchase_day = A->purchase_day;
    in->event_offset = A->event_offset; /* NULL without events */
    in->event_day = A->event_day;
    in->event_kind = A->event_kind;
    in->event_value = A->event_offset ? &A->event_values : NULL;
    in->event_channel = A->event_channel; /* NULL without /events/channel */
    in->p_buy = A->p_buy;
    in->p_buy_model = A->p_buy_model;
    in->rate_per_day = A->rate_per_day;
    in->clv = A->clv;
    /* k-means segments (buyers); without them cycles fall back to the median of all
     * customers and "grow" compares with all of them. */
    if (st->segments.ran) {
        A->segment = sgs_alloc_array(n, sizeof *A->segment);
        if (!A->segment) {
            rc = sgs_error_set(err, SGS_ENOMEM, "stages: no memory for %zu segments", n);
            goto cleanup;
        }
        for (size_t u = 0; u < n; u++)
            A->segment[u] = A->buyer_row[u] >= 0 ? st->segments.segment[A->buyer_row[u]] : -1;
    }
    in->segment = A->segment;
    release_last_read(st);
    in->preferred_channel = A->preferred_channel;
    in->main_channel = A->main_channel;
cleanup:
    sgs_grouped_free(&eg.g);
    sgs_customers_free(&cu);
    sgs_free(crow);
    sgs_free(c_ids);
    sgs_free(grouped_of);
    sgs_free(events_of);
    sgs_free(b_to_u);
    sgs_free(purchase_offset_g);
    sgs_free(purchase_day_g);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        return rc;
    whole_base_counts(st, A);
    sgs_progress_end(
        st->req->progress,
        "%zu customers (%zu without a purchase), %zu event rows%s, %zu customer rows%s", A->n_all,
        A->n_all - A->n_buyers_all, A->n_event_rows, A->events_present ? "" : " (no /events)",
        A->n_customer_rows, A->customers_present ? "" : " (no /customers)");
    return SGS_OK;
}
