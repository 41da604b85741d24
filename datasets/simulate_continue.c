/*
 * datasets/simulate_continue.c — one customer's story continued past the base window: the
 * campaign contact and response of a listed customer in the treatment group, purchases of
 * a customer alive at the base's end (BG/NBD goes on: memoryless), their spend, and the
 * expectations of both potential outcomes. See simulate.h and docs/generate.md
 * "Continuing past a run".
 */
#include "datasets/simulate.h"

#include "datasets/sim_random.h"
#include "kernels/tables.h"

#include <math.h>

#define DAY_S INT64_C(86400)

/* The campaign of the continuation: sent on its first day at 10:00 within 2 hours, like the
 * base's campaigns; a response within 14 days (at least an hour after the contact). */
static const int64_t contact_at_s = 10 * 3600, contact_spread_s = 7200;
static const int64_t response_min_s = 3600, response_window_s = 14 * DAY_S;

/* Streams of the continuation's seed (stream 8 i + purpose, like the base's). */
enum { CONT_PURCHASES = 0, CONT_SPEND = 1, CONT_CONTACT = 2 };

double sgs__sim_p_bought(double cum_rate)
{
    return -expm1(-cum_rate);
}

double sgs__sim_expected_purchases(double cum_rate, double p_drop)
{
    /* E[N] = int_0^T lambda(t) exp(-p Lambda(t)) dt = (1 - exp(-p Lambda(T))) / p: after each
     * purchase the customer drops out with probability p, so survival is exp(-p Lambda(t)) for
     * any rate lambda(t) (Fader, Hardie and Lee 2005, section 2, with a time-varying rate). */
    if (!(p_drop > 0.0))
        return cum_rate;
    return -expm1(-p_drop * cum_rate) / p_drop;
}

/* The days (window day numbers) of a continued customer's purchase occasions, at most one a
 * day, into rows->scratch; returns their count (0 also when the scratch could not grow:
 * rows->failed). Arrivals of a unit-rate Poisson process in operational time s are mapped to
 * days since the first continued day by the inverse of the cumulative intensity:
 * Lambda(t) = lambda t before the contact at c (days) and lambda (c + (1 + lift)(t - c))
 * after it (treatment only), so one draw sequence serves both arms and lift 0 gives exactly
 * the rows of no contact. Each purchase is followed by dropout with probability p_drop
 * (*dropped). Same-day arrivals move to earlier days as in the base (simulate.c,
 * occasion_days); when they cannot fit after the window's start they are laid out one day
 * apart from it and any past the end are lost. */
static size_t continued_days(const sgs__sim_continuation_t *c, sgs_rng_t *rng, double lambda,
                             double p_drop, int treated, double contact_day, double lift,
                             sgs__sim_rows_t *rows, int *dropped)
{
    *dropped = 0;
    size_t n = 0;
    const double end_t = (double)c->n_days;
    const double s_contact = lambda * contact_day, rate_after = lambda * (1.0 + lift);
    const int shifted = treated && lift != 0.0;
    double s = 0.0;
    while (lambda > 0.0) {
        s += sgs__rand_exp(rng);
        double t;
        if (shifted && s >= s_contact) {
            if (!(rate_after > 0.0))
                break; /* lift -1: no purchase after the contact */
            t = contact_day + (s - s_contact) / rate_after;
        } else {
            t = s / lambda;
        }
        if (!(t < end_t))
            break;
        if (!sgs__sim_scratch_room(rows, n + 1))
            return 0;
        rows->scratch[n++] = c->first_day + (int64_t)t;
        if (sgs__rand_bernoulli(rng, p_drop)) {
            *dropped = 1;
            break;
        }
    }
    if (n == 0)
        return 0;
    int64_t *day = rows->scratch;
    for (size_t k = n - 1; k >= 1; k--)
        if (day[k - 1] >= day[k])
            day[k - 1] = day[k] - 1;
    if (day[0] < c->first_day) { /* no room: one day apart from the first day on */
        day[0] = c->first_day;
        for (size_t k = 1; k < n; k++)
            if (day[k] <= day[k - 1])
                day[k] = day[k - 1] + 1;
        size_t kept = n;
        while (kept > 0 && day[kept - 1] >= c->first_day + c->n_days)
            kept--;
        if (kept < n)
            *dropped = 0; /* the purchase it followed is beyond the window */
        n = kept;
    }
    return n;
}

void sgs__sim_continue_customer(const sgs__sim_model_t *m, const sgs__sim_continuation_t *c,
                                uint64_t i, sgs__sim_continued_t *cc, sgs__sim_rows_t *rows)
{
    const int listed = cc->kind > 0 && cc->kind < SGS__SIM_OPP_KINDS;
    const int treated = listed && cc->group == 0;
    const double resp = listed ? c->response_prob[cc->kind] : 0.0;
    const double lift = listed ? c->purchase_lift[cc->kind] : 0.0;
    cc->contact_s = -1;
    cc->contacted = 0;
    cc->responded = 0;
    cc->n_occasions = 0;
    cc->spend = 0.0;
    cc->p_response = NAN;
    cc->p_bought_treated = cc->e_purchases_treated = NAN;
    cc->p_bought_control = cc->e_purchases_control = 0.0;

    /* The contact: its time for every listed customer (a control customer's is the time it
     * would have had), the events for the treatment group only. */
    if (listed) {
        sgs_rng_t rng;
        sgs_rng_init(&rng, c->seed, i * SGS__SIM_N_PURPOSES + CONT_CONTACT);
        const int64_t sent =
            c->first_s + contact_at_s + (int64_t)sgs__rand_below(&rng, (uint64_t)contact_spread_s);
        cc->contact_s = sent;
        /* P(response time < end): the offset is uniform on 0..N-1, N = 14 days - 1 h. */
        const double n_offsets = (double)(response_window_s - response_min_s);
        double in_window = (double)(c->end_s - sent - response_min_s) / n_offsets;
        in_window = in_window < 0.0 ? 0.0 : (in_window > 1.0 ? 1.0 : in_window);
        cc->p_response = resp * in_window;
        if (treated) {
            const int channel = cc->channel > SGS_CHANNEL_UNKNOWN && cc->channel < SGS_CHANNEL_COUNT
                                    ? cc->channel
                                    : sgs__sim_contact_channel(cc->preferred_channel);
            sgs__sim_emit_event(rows, cc->id, sent, SGS_EVENT_CAMPAIGN_CONTACT, NAN, channel);
            cc->contacted = 1;
            if (sgs__rand_bernoulli(&rng, resp)) {
                int64_t at =
                    sent + response_min_s +
                    (int64_t)sgs__rand_below(&rng, (uint64_t)(response_window_s - response_min_s));
                if (at < c->end_s) {
                    sgs__sim_emit_event(rows, cc->id, at, SGS_EVENT_CAMPAIGN_RESPONSE, NAN,
                                        channel);
                    cc->responded = 1;
                }
            }
        }
    }
    if (!cc->buyer || !cc->alive) { /* a prospect or a customer who dropped out never buys */
        if (listed)
            cc->p_bought_treated = cc->e_purchases_treated = 0.0;
        return;
    }

    /* Potential outcomes in expectation, given the contact time (days after 00:00 of the
     * first continued day): cumulative intensity lambda T without the contact, lambda
     * (c + (1 + lift)(T - c)) with it. */
    const double T = (double)c->n_days;
    const double contact_day = listed ? (double)(cc->contact_s - c->first_s) / 86400.0 : 0.0;
    const double lambda = cc->lambda, p_drop = cc->p_drop;
    cc->p_bought_control = sgs__sim_p_bought(lambda * T);
    cc->e_purchases_control = sgs__sim_expected_purchases(lambda * T, p_drop);
    if (listed) {
        double cum = lambda * (contact_day + (1.0 + lift) * (T - contact_day));
        cc->p_bought_treated = sgs__sim_p_bought(cum);
        cc->e_purchases_treated = sgs__sim_expected_purchases(cum, p_drop);
    }

    sgs_rng_t rng, spend;
    sgs_rng_init(&rng, c->seed, i * SGS__SIM_N_PURPOSES + CONT_PURCHASES);
    sgs_rng_init(&spend, c->seed, i * SGS__SIM_N_PURPOSES + CONT_SPEND);
    int dropped = 0;
    size_t n = continued_days(c, &rng, lambda, p_drop, treated, contact_day, lift, rows, &dropped);
    sgs__sim_buyer_t b = {.id = cc->id, .nu_log = log(cc->nu)};
    sgs__sim_buyer_favourites(m, i, &b);
    const size_t first_tx = rows->n_tx;
    int64_t last_s = -1;
    for (size_t k = 0; k < n; k++) {
        int64_t tod = sgs__sim_time_of_day(&rng);
        last_s = m->start_s + rows->scratch[k] * DAY_S + tod;
        sgs__sim_emit_occasion(m, &spend, &b, rows->scratch, n, k, last_s, tod, rows);
    }
    for (size_t k = first_tx; k < rows->n_tx; k++)
        cc->spend += rows->tx_amount[k];
    cc->n_occasions = (int32_t)n;
    if (dropped)
        cc->death_s = last_s;
}
