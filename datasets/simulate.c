/*
 * datasets/simulate.c — one customer's story: birth, purchase occasions until dropout (at
 * most one a day, the pipeline's resolution: see occasion_days), spend per occasion, rows
 * (split baskets, free items, refunds on days without a purchase), events, the
 * customers-table row and the truth. Every constant of the story is in the tables below,
 * and in the README.
 */
#include "datasets/simulate.h"

#include "datasets/sim_random.h"
#include "kernels/tables.h"

#include <math.h>
#include <string.h>

/* ---- Constants of the story ---------------------------------------------------------- */

#define DAY_S INT64_C(86400)
#define YEAR_DAYS 365.25

/* Rows */
static const double split_basket_prob = 0.05; /* occasion written as two rows */
static const double free_row_prob = 0.004;    /* occasion with an extra free row (amount 0) */
static const double refund_full_prob = 0.7;   /* full refund of the row, else half */
static const int refund_max_days = 30;        /* refund 1..30 days after, never on a purchase day */
static const double favourite_channel_prob = 0.7;
static const double favourite_category_prob = 0.5;
/* Transaction channels 1..7: store, web, app, phone, email, sms, mail. */
static const double tx_channel_weight[7] = {0.30, 0.34, 0.20, 0.08, 0.03, 0.02, 0.03};
/* Preferred contact channel 1..7, and the share of customers whose preference is unknown. */
static const double pref_channel_weight[7] = {0.10, 0.10, 0.15, 0.10, 0.35, 0.12, 0.08};
static const double pref_unknown_prob = 0.12;

/* Customers table */
static const double signup_at_purchase_prob = 0.6; /* else signed up earlier, Exp lag */
static const double signup_lag_mean_days = 30.0;
static const double referral_prob = 0.15;

/* Events (rates per year, from the first purchase to the window end) */
static const double support_rate_year = 0.3;
static const double burst_prob = 0.02;           /* planted burst of support contacts */
static const int burst_min = 3, burst_extra = 3; /* 3..5 contacts within 28 days */
static const double burst_complaint_prob = 0.4;
static const double complaint_rate_year = 0.05;
static const double subscriber_prob = 0.2;
static const double renew_grace_days = 14.0; /* renewed/cancelled within 14 days of due */
/* Outcome of a renewal due: {renewed, missed}, the rest cancelled; alive vs dropped out. */
static const double renew_alive[2] = {0.87, 0.08};
static const double renew_dead[2] = {0.45, 0.30};
static const double survey_rate_year = 0.25;
static const double survey_mean = 7.6, survey_sd = 1.7, survey_unhappy_shift = 2.5;
static const int campaign_first_day = 45, campaign_every_days = 91; /* sent at 10:00 */
static const double campaign_contact_prob = 0.35;
static const double campaign_response_alive = 0.08, campaign_response_dead = 0.02;
static const double campaign_response_prospect = 0.03;
/* Channel of a support contact or complaint (/events/channel): phone, web or email. */
static const double service_channel_weight[3] = {0.5, 0.3, 0.2};
static const int service_channel_code[3] = {SGS_CHANNEL_PHONE, SGS_CHANNEL_WEB, SGS_CHANNEL_EMAIL};
static const double burst_window_days = 30.0; /* >= 3 contacts closer than this: a burst */
static const double stopped_min_days = 90.0, stopped_min_gaps = 3.0;

/* Streams: customer index i draws purpose k from stream 8 i + k, so that e.g. switching
 * events off does not change the purchases. */
enum {
    PURPOSE_BIRTH = 0,
    PURPOSE_PARAMS = 1,
    PURPOSE_PURCHASES = 2,
    PURPOSE_DETAILS = 3,
    PURPOSE_PROFILE = 4,
    PURPOSE_EVENTS = 5,
    PURPOSE_EVENT_CHANNELS = 6, /* the channels of support contacts and complaints */
    N_PURPOSES = SGS__SIM_N_PURPOSES
};

static void rng_for(sgs_rng_t *rng, const sgs__sim_model_t *m, uint64_t i, int purpose)
{
    sgs_rng_init(rng, m->params.seed, i * N_PURPOSES + (uint64_t)purpose);
}

/* ---- Model ---------------------------------------------------------------------------- */

static void make_cdf(double *cdf, const double *weight, int n)
{
    double total = 0.0, run = 0.0;
    for (int k = 0; k < n; k++)
        total += weight[k];
    for (int k = 0; k < n; k++) {
        run += weight[k];
        cdf[k] = run / total;
    }
    cdf[n - 1] = 1.0;
}

void sgs__sim_model_init(sgs__sim_model_t *m, const sgs_generate_params_t *p)
{
    memset(m, 0, sizeof *m);
    m->params = *p;
    m->n_buyers = p->n_customers;
    m->n_total = p->n_customers + (uint64_t)llround(p->prospect_share * (double)p->n_customers);
    m->start_s = p->start_day * DAY_S;
    m->end_s = (p->end_day + 1) * DAY_S;
    m->n_days = p->end_day - p->start_day + 1;
    m->log_alpha = log(p->alpha);
    m->log_gamma = log(p->gamma);
    make_cdf(m->tx_channel_cdf, tx_channel_weight, 7);
    make_cdf(m->pref_channel_cdf, pref_channel_weight, 7);
    double zipf[SGS__SIM_N_CATEGORIES]; /* category k has weight 1/k (Zipf, exponent 1) */
    for (int k = 0; k < SGS__SIM_N_CATEGORIES; k++)
        zipf[k] = 1.0 / (k + 1);
    make_cdf(m->category_cdf, zipf, SGS__SIM_N_CATEGORIES);
    for (int64_t day = campaign_first_day;
         day < m->n_days && m->n_campaigns < SGS__SIM_N_CAMPAIGNS_MAX; day += campaign_every_days)
        m->campaign_s[m->n_campaigns++] = m->start_s + day * DAY_S + 10 * 3600;
}

/* ---- Row buffers ---------------------------------------------------------------------- */

void sgs__sim_rows_clear(sgs__sim_rows_t *rows)
{
    rows->n_tx = 0;
    rows->n_ev = 0;
    rows->n_purchases = 0;
    rows->n_refunds = 0;
    rows->failed = 0;
}

void sgs__sim_rows_free(sgs__sim_rows_t *rows)
{
    if (!rows)
        return;
    sgs_free(rows->tx_customer);
    sgs_free(rows->tx_time);
    sgs_free(rows->tx_amount);
    sgs_free(rows->tx_channel);
    sgs_free(rows->tx_category);
    sgs_free(rows->ev_customer);
    sgs_free(rows->ev_time);
    sgs_free(rows->ev_kind);
    sgs_free(rows->ev_value);
    sgs_free(rows->ev_channel);
    sgs_free(rows->scratch);
    memset(rows, 0, sizeof *rows);
}

/* Grow one column to `cap` elements; on failure the old block stays valid. */
static int grow(void **column, size_t cap, size_t size)
{
    void *p = sgs_realloc_array(*column, cap, size);
    if (!p)
        return 0;
    *column = p;
    return 1;
}

/* Room for one more transaction row; 0 when growth failed (rows->failed is set). */
static int tx_room(sgs__sim_rows_t *r)
{
    if (r->n_tx < r->cap_tx)
        return 1;
    if (r->failed)
        return 0;
    size_t cap = r->cap_tx ? 2 * r->cap_tx : 4096;
    int ok = grow((void **)&r->tx_customer, cap, sizeof(int64_t));
    ok = ok && grow((void **)&r->tx_time, cap, sizeof(int64_t));
    ok = ok && grow((void **)&r->tx_amount, cap, sizeof(double));
    ok = ok && grow((void **)&r->tx_channel, cap, sizeof(uint8_t));
    ok = ok && grow((void **)&r->tx_category, cap, sizeof(int32_t));
    if (!ok) {
        r->failed = 1;
        return 0;
    }
    r->cap_tx = cap;
    return 1;
}

static int ev_room(sgs__sim_rows_t *r)
{
    if (r->n_ev < r->cap_ev)
        return 1;
    if (r->failed)
        return 0;
    size_t cap = r->cap_ev ? 2 * r->cap_ev : 4096;
    int ok = grow((void **)&r->ev_customer, cap, sizeof(int64_t));
    ok = ok && grow((void **)&r->ev_time, cap, sizeof(int64_t));
    ok = ok && grow((void **)&r->ev_kind, cap, sizeof(uint8_t));
    ok = ok && grow((void **)&r->ev_value, cap, sizeof(double));
    ok = ok && grow((void **)&r->ev_channel, cap, sizeof(uint8_t));
    if (!ok) {
        r->failed = 1;
        return 0;
    }
    r->cap_ev = cap;
    return 1;
}

int sgs__sim_rows_reserve(sgs__sim_rows_t *r, size_t n_tx, size_t n_ev)
{
    if (n_tx > r->cap_tx) {
        int ok = grow((void **)&r->tx_customer, n_tx, sizeof(int64_t));
        ok = ok && grow((void **)&r->tx_time, n_tx, sizeof(int64_t));
        ok = ok && grow((void **)&r->tx_amount, n_tx, sizeof(double));
        ok = ok && grow((void **)&r->tx_channel, n_tx, sizeof(uint8_t));
        ok = ok && grow((void **)&r->tx_category, n_tx, sizeof(int32_t));
        if (!ok)
            return SGS_ENOMEM;
        r->cap_tx = n_tx;
    }
    if (n_ev > r->cap_ev) {
        int ok = grow((void **)&r->ev_customer, n_ev, sizeof(int64_t));
        ok = ok && grow((void **)&r->ev_time, n_ev, sizeof(int64_t));
        ok = ok && grow((void **)&r->ev_kind, n_ev, sizeof(uint8_t));
        ok = ok && grow((void **)&r->ev_value, n_ev, sizeof(double));
        ok = ok && grow((void **)&r->ev_channel, n_ev, sizeof(uint8_t));
        if (!ok)
            return SGS_ENOMEM;
        r->cap_ev = n_ev;
    }
    return SGS_OK;
}

static void emit_tx(sgs__sim_rows_t *r, int64_t id, int64_t time_s, double amount, int channel,
                    int category)
{
    if (!tx_room(r))
        return;
    size_t k = r->n_tx++;
    r->tx_customer[k] = id;
    r->tx_time[k] = time_s;
    r->tx_amount[k] = amount;
    r->tx_channel[k] = (uint8_t)channel;
    r->tx_category[k] = (int32_t)category;
}

void sgs__sim_emit_event(sgs__sim_rows_t *r, int64_t id, int64_t time_s, int kind, double value,
                         int channel)
{
    if (!ev_room(r))
        return;
    size_t k = r->n_ev++;
    r->ev_customer[k] = id;
    r->ev_time[k] = time_s;
    r->ev_kind[k] = (uint8_t)kind;
    r->ev_value[k] = value;
    r->ev_channel[k] = (uint8_t)channel;
}

/* ---- Per-customer columns ------------------------------------------------------------- */

int sgs__sim_customers_alloc(sgs__sim_customers_t *c, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->cap = cap;
    int64_t **i64[] = {&c->customer_id, &c->signup_time, &c->referrer_id, &c->birth_time,
                       &c->death_time};
    uint8_t **u8[] = {&c->preferred_channel, &c->is_prospect,   &c->alive_at_end,
                      &c->subscriber,        &c->support_burst, &c->missed_renewal,
                      &c->cancelled,         &c->stopped_buying};
    double **f64[] = {&c->lambda, &c->p_drop, &c->nu, &c->mean_spend};
    int ok = 1;
    for (size_t k = 0; k < sizeof i64 / sizeof i64[0]; k++)
        ok &= (*i64[k] = sgs_alloc_array(cap, sizeof(int64_t))) != NULL;
    for (size_t k = 0; k < sizeof u8 / sizeof u8[0]; k++)
        ok &= (*u8[k] = sgs_alloc_array(cap, sizeof(uint8_t))) != NULL;
    for (size_t k = 0; k < sizeof f64 / sizeof f64[0]; k++)
        ok &= (*f64[k] = sgs_alloc_array(cap, sizeof(double))) != NULL;
    ok &= (c->n_purchases = sgs_alloc_array(cap, sizeof(int32_t))) != NULL;
    if (!ok) {
        sgs__sim_customers_free(c);
        return SGS_ENOMEM;
    }
    return SGS_OK;
}

void sgs__sim_customers_free(sgs__sim_customers_t *c)
{
    if (!c)
        return;
    void *all[] = {c->customer_id,    c->signup_time,
                   c->referrer_id,    c->birth_time,
                   c->death_time,     c->preferred_channel,
                   c->is_prospect,    c->alive_at_end,
                   c->subscriber,     c->support_burst,
                   c->missed_renewal, c->cancelled,
                   c->stopped_buying, c->lambda,
                   c->p_drop,         c->nu,
                   c->mean_spend,     c->n_purchases};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        sgs_free(all[k]);
    memset(c, 0, sizeof *c);
}

/* ---- Small draws ---------------------------------------------------------------------- */

/* Seconds after midnight of a purchase: 10% uniform over the day, 90% around 14:30 with a
 * standard deviation of 4 hours, wrapped into the day. */
int64_t sgs__sim_time_of_day(sgs_rng_t *rng)
{
    double s;
    if (sgs_rng_next_uniform(rng) < 0.1)
        s = sgs_rng_next_uniform(rng) * 86400.0;
    else
        s = fmod(52200.0 + 14400.0 * sgs__rand_normal(rng), 86400.0);
    if (s < 0.0)
        s += 86400.0;
    int64_t tod = (int64_t)s;
    return tod < 0 ? 0 : (tod > 86399 ? 86399 : tod);
}

static double round_cents(double x)
{
    return round(x * 100.0) / 100.0;
}

/* Poisson process of `rate_per_day` on [from_day, n_days): next time after t, or a value
 * >= n_days when none. */
static double next_arrival(sgs_rng_t *rng, double t, double rate_per_day)
{
    return t + sgs__rand_exp(rng) / rate_per_day;
}

static int64_t day_to_s(const sgs__sim_model_t *m, double day)
{
    int64_t s = m->start_s + (int64_t)floor(day * 86400.0);
    return s < m->end_s ? s : m->end_s - 1;
}

static int pick_channel(sgs_rng_t *rng, const double *cdf)
{
    return 1 + sgs__rand_categorical(rng, cdf, 7);
}

/* The channel of a support contact or complaint: phone 50%, web 30%, email 20%. */
static int service_channel(sgs_rng_t *rng)
{
    const double cdf[3] = {service_channel_weight[0],
                           service_channel_weight[0] + service_channel_weight[1], 1.0};
    return service_channel_code[sgs__rand_categorical(rng, cdf, 3)];
}

int sgs__sim_contact_channel(int preferred_channel)
{
    return preferred_channel > SGS_CHANNEL_UNKNOWN && preferred_channel < SGS_CHANNEL_COUNT
               ? preferred_channel
               : SGS_CHANNEL_EMAIL;
}

/* ---- Birth, referrer ------------------------------------------------------------------ */

int64_t sgs__sim_birth_time(const sgs__sim_model_t *m, uint64_t i)
{
    sgs_rng_t rng;
    rng_for(&rng, m, i, PURPOSE_BIRTH);
    double u = sgs_rng_next_uniform(&rng);
    double x = (double)m->n_days * (((double)i + u) / (double)m->n_buyers);
    int64_t day = (int64_t)x;
    if (day >= m->n_days)
        day = m->n_days - 1;
    return m->start_s + day * DAY_S + sgs__sim_time_of_day(&rng);
}

/* A buyer index j < limit whose birth is strictly before signup_s, uniform among the
 * buyers whose birth day ends before the signup day; -1 when there is none. Every buyer's
 * birth is strictly before that of anyone it refers, so referral chains cannot cycle. */
static int64_t pick_referrer(const sgs__sim_model_t *m, sgs_rng_t *rng, int64_t signup_s,
                             uint64_t limit)
{
    int64_t signup_day = (signup_s - m->start_s) / DAY_S; /* signup_s may precede start */
    if (signup_s < m->start_s || signup_day <= 0)
        return -1;
    /* Buyer j's birth day is below D (j + 1) / n: those with D (j + 1) / n <= signup_day
     * were born on an earlier day. */
    double bound = (double)m->n_buyers * (double)signup_day / (double)m->n_days - 1.0;
    if (bound < 0.0)
        return -1;
    uint64_t j_max = (uint64_t)bound;
    if (j_max >= limit) {
        if (limit == 0)
            return -1;
        j_max = limit - 1;
    }
    int64_t j = (int64_t)sgs__rand_below(rng, j_max + 1);
    while (j >= 0 && sgs__sim_birth_time(m, (uint64_t)j) >= signup_s)
        j--; /* floating-point edge of a stratum: step to an earlier buyer */
    return j;
}

/* ---- Purchases ------------------------------------------------------------------------ */

/* Room for n values in rows->scratch; 0 when growth failed (rows->failed is set). */
/* The favourite channel and category of buyer i, the first draws of its details stream, which
 * is left in *details for the occasions that follow. */
static void buyer_favourites(const sgs__sim_model_t *m, uint64_t i, sgs_rng_t *details,
                             sgs__sim_buyer_t *b)
{
    rng_for(details, m, i, PURPOSE_DETAILS);
    b->fav_channel = pick_channel(details, m->tx_channel_cdf);
    b->fav_category = 1 + sgs__rand_categorical(details, m->category_cdf, SGS__SIM_N_CATEGORIES);
}

void sgs__sim_buyer_favourites(const sgs__sim_model_t *m, uint64_t i, sgs__sim_buyer_t *b)
{
    sgs_rng_t details;
    buyer_favourites(m, i, &details, b);
}

int sgs__sim_scratch_room(sgs__sim_rows_t *rows, size_t n)
{
    if (n <= rows->cap_scratch)
        return 1;
    if (rows->failed)
        return 0;
    size_t cap = rows->cap_scratch ? rows->cap_scratch : 256;
    while (cap < n)
        cap *= 2;
    if (!grow((void **)&rows->scratch, cap, sizeof(int64_t))) {
        rows->failed = 1;
        return 0;
    }
    rows->cap_scratch = cap;
    return 1;
}

/* Write the purchase occasion j of a customer whose occasion days (window day numbers,
 * strictly increasing) are day[0..n-1], at time_s on day[j] (tod = seconds after midnight):
 * the spend z ~ Gamma(p, rate nu) in one row or (split basket) two rows summing to z, maybe
 * an extra free row, and maybe a refund 1..30 days later on a day without an occasion. */
void sgs__sim_emit_occasion(const sgs__sim_model_t *m, sgs_rng_t *rng, const sgs__sim_buyer_t *b,
                            const int64_t *day, size_t n, size_t j, int64_t time_s, int64_t tod,
                            sgs__sim_rows_t *rows)
{
    const sgs_generate_params_t *p = &m->params;
    /* Spend z ~ Gamma(p, rate nu): log z = log G(p) - log nu. */
    double z = exp(sgs__rand_log_gamma(rng, p->p) - b->nu_log);
    if (!(z < 1e7))
        z = 1e7;
    z = round_cents(z);
    int channel = sgs__rand_bernoulli(rng, favourite_channel_prob)
                      ? b->fav_channel
                      : pick_channel(rng, m->tx_channel_cdf);
    const int64_t room = 86400 - tod; /* later rows stay on the same day, within 15 minutes */
    const uint64_t later = (uint64_t)(room < 900 ? room : 900);
    int split = sgs__rand_bernoulli(rng, split_basket_prob);
    double amount[2] = {z, 0.0};
    int64_t when[2] = {time_s, time_s};
    if (split) {
        double w = 0.2 + 0.6 * sgs_rng_next_uniform(rng);
        amount[0] = round_cents(z * w);
        amount[1] = round_cents(z - amount[0]);
        if (amount[1] < 0.0)
            amount[1] = 0.0;
        when[1] = time_s + (int64_t)sgs__rand_below(rng, later);
    }
    int category0 = 0;
    for (int k = 0; k <= split; k++) {
        int category = sgs__rand_bernoulli(rng, favourite_category_prob)
                           ? b->fav_category
                           : 1 + sgs__rand_categorical(rng, m->category_cdf, SGS__SIM_N_CATEGORIES);
        if (k == 0)
            category0 = category;
        emit_tx(rows, b->id, when[k], amount[k], channel, category);
    }
    if (sgs__rand_bernoulli(rng, free_row_prob)) /* a free item: the spend is unchanged */
        emit_tx(rows, b->id, time_s + (int64_t)sgs__rand_below(rng, later), 0.0, channel,
                1 + sgs__rand_categorical(rng, m->category_cdf, SGS__SIM_N_CATEGORIES));
    rows->n_purchases++;
    if (sgs__rand_bernoulli(rng, m->params.refund_share) && amount[0] > 0.0) {
        double back =
            sgs__rand_bernoulli(rng, refund_full_prob) ? amount[0] : round_cents(0.5 * amount[0]);
        int64_t d = day[j] + 1 + (int64_t)sgs__rand_below(rng, (uint64_t)refund_max_days);
        int64_t refund_tod = sgs__sim_time_of_day(rng);
        /* Not on a purchase day (the pipeline would net it against that day's spend): the
         * next day without an occasion. */
        for (size_t k = j + 1; k < n && day[k] <= d; k++)
            if (day[k] == d)
                d++;
        if (d < m->n_days && back > 0.0) {
            emit_tx(rows, b->id, m->start_s + d * DAY_S + refund_tod, -back, channel, category0);
            rows->n_refunds++;
        }
    }
}

/* The days of a buyer's purchase occasions, at the pipeline's resolution (docs/generate.md
 * "The story each customer follows", item 3).
 * BG/NBD in continuous time: from the birth, arrivals of a Poisson process of rate lambda,
 * each repeat arrival followed by dropout with probability p_drop, observed for the
 * T = D - 1 - birth day whole days that the pipeline measures (its age T with the as-of
 * date at the window end). The clock starts at a uniform point birth_t of the birth day and
 * arrival k falls on day floor(t_k), so the day count floor(birth_t + t) - birth day is
 * unbiased for any duration t.
 * The pipeline counts purchase days, and BG/NBD's likelihood uses only the number of repeat
 * purchases x and the time of the last one t_x (Fader, Hardie and Lee 2005, equation 6):
 * the days of the others do not matter to it. So instead of merging two arrivals of one
 * day (which loses purchases and biases the fit), going back from the last arrival, an
 * arrival on the day of the next one (or later) moves to the day before it: x and the last
 * day stay as simulated. Only when the arrivals cannot fit between the birth day and the
 * last one (x above the last day's distance: a repeat arrival on the birth day itself, or
 * more arrivals than days) are they laid out one day apart from the birth day, and any
 * beyond the window end are lost (then the customer is alive at the end).
 * Writes day[0..n) (window day numbers, strictly increasing, day[0] = birth day) to
 * rows->scratch and returns n >= 1; *dropped: the customer dropped out after the last
 * occasion. Returns 0 when the scratch could not grow (rows->failed is set). */
static size_t occasion_days(const sgs__sim_model_t *m, sgs_rng_t *rng, double lambda, double p_drop,
                            int64_t birth_s, sgs__sim_rows_t *rows, int *dropped)
{
    /* A uniform point of the birth day, whatever time of day the row shows. */
    const int64_t birth_day = (birth_s - m->start_s) / DAY_S;
    const double birth_t = (double)birth_day + sgs_rng_next_uniform(rng);
    const double end_t = birth_t + (double)(m->n_days - 1 - birth_day);
    size_t n = 0;
    *dropped = 0;
    if (!sgs__sim_scratch_room(rows, 1))
        return 0;
    rows->scratch[n++] = birth_day;
    double t = birth_t;
    while (lambda > 0.0) {
        t += sgs__rand_exp(rng) / lambda;
        if (!(t < end_t))
            break;
        if (!sgs__sim_scratch_room(rows, n + 1))
            return 0;
        rows->scratch[n++] = (int64_t)t;
        if (sgs__rand_bernoulli(rng, p_drop)) {
            *dropped = 1;
            break;
        }
    }
    int64_t *day = rows->scratch;
    for (size_t k = n - 1; k >= 2; k--) /* repeat k - 1 strictly before repeat k */
        if (day[k - 1] >= day[k])
            day[k - 1] = day[k] - 1;
    if (n >= 2 && day[1] <= birth_day) { /* no room: one day apart from the birth day on */
        for (size_t k = 1; k < n; k++)
            if (day[k] <= day[k - 1])
                day[k] = day[k - 1] + 1;
        size_t kept = n;
        while (kept > 1 && day[kept - 1] >= m->n_days)
            kept--;
        if (kept < n)
            *dropped = 0; /* the occasion it followed is beyond the window */
        n = kept;
    }
    return n;
}

/* ---- Events --------------------------------------------------------------------------- */

static void sort_i64(int64_t *x, size_t n)
{
    for (size_t i = 1; i < n; i++) { /* insertion sort: a customer has few contacts */
        int64_t v = x[i];
        size_t j = i;
        while (j > 0 && x[j - 1] > v) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = v;
    }
}

/* 1 when the customer's support contacts (rows first..n_ev of kind 1) contain 3 within
 * less than burst_window_days. Uses rows->scratch; on allocation failure sets failed. */
static int has_support_burst(sgs__sim_rows_t *rows, size_t first)
{
    size_t n = 0;
    for (size_t k = first; k < rows->n_ev; k++)
        n += rows->ev_kind[k] == SGS_EVENT_SUPPORT;
    if (n < 3)
        return 0;
    if (n > rows->cap_scratch) {
        if (!grow((void **)&rows->scratch, n, sizeof(int64_t))) {
            rows->failed = 1;
            return 0;
        }
        rows->cap_scratch = n;
    }
    n = 0;
    for (size_t k = first; k < rows->n_ev; k++)
        if (rows->ev_kind[k] == SGS_EVENT_SUPPORT)
            rows->scratch[n++] = rows->ev_time[k];
    sort_i64(rows->scratch, n);
    const int64_t window_s = (int64_t)(burst_window_days * 86400.0);
    for (size_t k = 0; k + 2 < n; k++)
        if (rows->scratch[k + 2] - rows->scratch[k] < window_s)
            return 1;
    return 0;
}

/* Campaign contacts (and responses) of a known customer signed up at signup_s. */
static void emit_campaigns(const sgs__sim_model_t *m, sgs_rng_t *rng, int64_t id, int64_t signup_s,
                           int prospect, int64_t death_s, int preferred_channel,
                           sgs__sim_rows_t *rows)
{
    const int channel = sgs__sim_contact_channel(preferred_channel);
    for (int c = 0; c < m->n_campaigns; c++) {
        if (m->campaign_s[c] < signup_s || !sgs__rand_bernoulli(rng, campaign_contact_prob))
            continue;
        int64_t sent = m->campaign_s[c] + (int64_t)sgs__rand_below(rng, 7200);
        sgs__sim_emit_event(rows, id, sent, SGS_EVENT_CAMPAIGN_CONTACT, NAN, channel);
        double respond = prospect                            ? campaign_response_prospect
                         : (death_s >= 0 && death_s <= sent) ? campaign_response_dead
                                                             : campaign_response_alive;
        if (sgs__rand_bernoulli(rng, respond)) {
            int64_t at = sent + 3600 + (int64_t)sgs__rand_below(rng, 14 * 86400 - 3600);
            if (at < m->end_s)
                sgs__sim_emit_event(rows, id, at, SGS_EVENT_CAMPAIGN_RESPONSE, NAN, channel);
        }
    }
}

/* Support contacts, bursts, complaints, subscription renewals, surveys and campaigns of a
 * buyer; sets the event flags of the truth. */
static void emit_buyer_events(const sgs__sim_model_t *m, uint64_t i, int64_t id, int64_t birth_s,
                              int64_t signup_s, int64_t death_s, sgs__sim_rows_t *rows,
                              sgs__sim_customers_t *cust, size_t pos)
{
    sgs_rng_t rng, chan; /* chan: the channels of support contacts and complaints */
    rng_for(&rng, m, i, PURPOSE_EVENTS);
    rng_for(&chan, m, i, PURPOSE_EVENT_CHANNELS);
    const double days = (double)m->n_days;
    const double birth_day = (double)(birth_s - m->start_s) / 86400.0;
    size_t first = rows->n_ev;
    int unhappy = 0;

    for (double t = next_arrival(&rng, birth_day, support_rate_year / YEAR_DAYS); t < days;
         t = next_arrival(&rng, t, support_rate_year / YEAR_DAYS))
        sgs__sim_emit_event(rows, id, day_to_s(m, t), SGS_EVENT_SUPPORT, NAN,
                            service_channel(&chan));
    if (sgs__rand_bernoulli(&rng, burst_prob) && days - birth_day >= burst_window_days) {
        double start =
            birth_day + sgs_rng_next_uniform(&rng) * (days - birth_day - burst_window_days);
        int n = burst_min + (int)sgs__rand_below(&rng, (uint64_t)burst_extra);
        for (int k = 0; k < n; k++)
            sgs__sim_emit_event(rows, id, day_to_s(m, start + 28.0 * sgs_rng_next_uniform(&rng)),
                                SGS_EVENT_SUPPORT, NAN, service_channel(&chan));
        if (sgs__rand_bernoulli(&rng, burst_complaint_prob)) {
            sgs__sim_emit_event(rows, id,
                                day_to_s(m, start + burst_window_days * sgs_rng_next_uniform(&rng)),
                                SGS_EVENT_COMPLAINT, NAN, service_channel(&chan));
        }
        unhappy = 1;
    }
    for (double t = next_arrival(&rng, birth_day, complaint_rate_year / YEAR_DAYS); t < days;
         t = next_arrival(&rng, t, complaint_rate_year / YEAR_DAYS)) {
        sgs__sim_emit_event(rows, id, day_to_s(m, t), SGS_EVENT_COMPLAINT, NAN,
                            service_channel(&chan));
        unhappy = 1;
    }

    /* Subscription from the first purchase; due every 365 days. */
    if (sgs__rand_bernoulli(&rng, subscriber_prob)) {
        cust->subscriber[pos] = 1;
        const int64_t grace_s = (int64_t)(renew_grace_days * 86400.0);
        for (int64_t due = birth_s + 365 * DAY_S; due < m->end_s; due += 365 * DAY_S) {
            sgs__sim_emit_event(rows, id, due, SGS_EVENT_RENEWAL_DUE, NAN, SGS_CHANNEL_UNKNOWN);
            const double *prob = (death_s >= 0 && death_s <= due) ? renew_dead : renew_alive;
            double u = sgs_rng_next_uniform(&rng);
            int64_t at = due + (int64_t)sgs__rand_below(&rng, (uint64_t)grace_s);
            if (u < prob[0]) {
                if (at < m->end_s)
                    sgs__sim_emit_event(rows, id, at, SGS_EVENT_RENEWED, NAN, SGS_CHANNEL_UNKNOWN);
                continue;
            }
            if (u < prob[0] + prob[1]) { /* missed: nothing follows the due */
                cust->missed_renewal[pos] = due + grace_s <= m->end_s;
            } else if (at < m->end_s) {
                sgs__sim_emit_event(rows, id, at, SGS_EVENT_CANCELLED, NAN, SGS_CHANNEL_UNKNOWN);
                cust->cancelled[pos] = 1;
            }
            break;
        }
    }

    for (double t = next_arrival(&rng, birth_day, survey_rate_year / YEAR_DAYS); t < days;
         t = next_arrival(&rng, t, survey_rate_year / YEAR_DAYS)) {
        double score = round(survey_mean + survey_sd * sgs__rand_normal(&rng) -
                             (unhappy ? survey_unhappy_shift : 0.0));
        score = score < 0.0 ? 0.0 : (score > 10.0 ? 10.0 : score);
        sgs__sim_emit_event(rows, id, day_to_s(m, t), SGS_EVENT_SURVEY, score, SGS_CHANNEL_UNKNOWN);
    }
    emit_campaigns(m, &rng, id, signup_s, 0, death_s, cust->preferred_channel[pos], rows);
    cust->support_burst[pos] = (uint8_t)has_support_burst(rows, first);
}

int sgs__sim_stopped_buying(const sgs__sim_model_t *m, int64_t death_s, double lambda)
{
    double silent_days = (double)(m->end_s - death_s) / 86400.0;
    return silent_days >= stopped_min_days && silent_days * lambda >= stopped_min_gaps;
}

/* ---- One customer --------------------------------------------------------------------- */

/* Profile of the customers table: signup, referrer, preferred channel. */
static void simulate_profile(const sgs__sim_model_t *m, uint64_t i, int64_t birth_s,
                             sgs__sim_customers_t *cust, size_t pos)
{
    sgs_rng_t rng;
    rng_for(&rng, m, i, PURPOSE_PROFILE);
    int prospect = i >= m->n_buyers;
    int64_t signup_s;
    if (prospect) {
        signup_s = m->start_s + (int64_t)sgs__rand_below(&rng, (uint64_t)(m->n_days * DAY_S));
    } else if (sgs__rand_bernoulli(&rng, signup_at_purchase_prob)) {
        signup_s = birth_s;
    } else {
        signup_s = birth_s - (int64_t)(sgs__rand_exp(&rng) * signup_lag_mean_days * 86400.0);
        if (signup_s < 0)
            signup_s = 0;
    }
    int64_t referrer = -1;
    if (sgs__rand_bernoulli(&rng, referral_prob)) {
        int64_t j = pick_referrer(m, &rng, signup_s, prospect ? m->n_buyers : i);
        if (j >= 0)
            referrer = sgs_generate_customer_id(m->params.seed, (uint64_t)j, m->n_total);
    }
    cust->signup_time[pos] = signup_s;
    cust->referrer_id[pos] = referrer;
    cust->preferred_channel[pos] = (uint8_t)(sgs__rand_bernoulli(&rng, pref_unknown_prob)
                                                 ? 0
                                                 : pick_channel(&rng, m->pref_channel_cdf));
}

void sgs__sim_customer(const sgs__sim_model_t *m, uint64_t i, sgs__sim_rows_t *rows,
                       sgs__sim_customers_t *cust, size_t pos)
{
    const sgs_generate_params_t *p = &m->params;
    const int64_t id = sgs_generate_customer_id(p->seed, i, m->n_total);
    cust->customer_id[pos] = id;
    cust->is_prospect[pos] = 0;
    cust->alive_at_end[pos] = 0;
    cust->subscriber[pos] = 0;
    cust->support_burst[pos] = 0;
    cust->missed_renewal[pos] = 0;
    cust->cancelled[pos] = 0;
    cust->stopped_buying[pos] = 0;
    cust->death_time[pos] = -1;

    if (i >= m->n_buyers) { /* prospect: known, never bought */
        simulate_profile(m, i, -1, cust, pos);
        cust->is_prospect[pos] = 1;
        cust->lambda[pos] = NAN;
        cust->p_drop[pos] = NAN;
        cust->nu[pos] = NAN;
        cust->mean_spend[pos] = NAN;
        cust->birth_time[pos] = -1;
        cust->n_purchases[pos] = 0;
        if (p->with_events) {
            sgs_rng_t rng;
            rng_for(&rng, m, i, PURPOSE_EVENTS);
            emit_campaigns(m, &rng, id, cust->signup_time[pos], 1, -1, cust->preferred_channel[pos],
                           rows);
        }
        return;
    }

    /* Latent parameters: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b), nu ~ Gamma(q, gamma) */
    sgs_rng_t rng;
    rng_for(&rng, m, i, PURPOSE_PARAMS);
    const double lambda = exp(sgs__rand_log_gamma(&rng, p->r) - m->log_alpha);
    const double p_drop = sgs__rand_beta(&rng, p->a, p->b);
    const double nu_log = sgs__rand_log_gamma(&rng, p->q) - m->log_gamma;

    const int64_t birth_s = sgs__sim_birth_time(m, i);
    simulate_profile(m, i, birth_s, cust, pos);

    sgs_rng_t details;
    sgs__sim_buyer_t b = {.id = id, .nu_log = nu_log};
    buyer_favourites(m, i, &details, &b);

    /* The purchase occasions: their days (occasion_days), the birth's time of day, later
     * ones a time of day from the daily profile; each written with its spend and rows. */
    rng_for(&rng, m, i, PURPOSE_PURCHASES);
    int dropped = 0;
    size_t n_occasions = occasion_days(m, &rng, lambda, p_drop, birth_s, rows, &dropped);
    int64_t last_s = birth_s, death_s = -1;
    for (size_t k = 0; k < n_occasions; k++) {
        int64_t tod = k == 0 ? (birth_s - m->start_s) % DAY_S : sgs__sim_time_of_day(&rng);
        last_s = m->start_s + rows->scratch[k] * DAY_S + tod;
        sgs__sim_emit_occasion(m, &details, &b, rows->scratch, n_occasions, k, last_s, tod, rows);
    }
    if (dropped)
        death_s = last_s;
    int32_t n_purchases = (int32_t)n_occasions;

    cust->lambda[pos] = lambda;
    cust->p_drop[pos] = p_drop;
    cust->nu[pos] = exp(nu_log);
    cust->mean_spend[pos] = p->p * exp(-nu_log);
    cust->birth_time[pos] = birth_s;
    cust->death_time[pos] = death_s;
    cust->alive_at_end[pos] = death_s < 0;
    cust->n_purchases[pos] = n_purchases;
    /* Stopped buying: dropped out, and silent long enough to be seen (>= 90 days and >= 3
     * expected gaps 1/lambda before the window end). */
    if (death_s >= 0)
        cust->stopped_buying[pos] = (uint8_t)sgs__sim_stopped_buying(m, death_s, lambda);
    if (p->with_events)
        emit_buyer_events(m, i, id, birth_s, cust->signup_time[pos], death_s, rows, cust, pos);
}
