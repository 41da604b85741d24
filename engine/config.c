/*
 * engine/config.c — the configuration key table and everything derived from it.
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */

#include "engine/config.h"
#include "engine/options.h"

#include "io/json_doc.h"
#include "io/suggest.h"
#include "kernels/dates.h"
#include "kernels/gammagamma.h"
#include "kernels/rfm.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- The key table ------------------------------------------------------------------ */

typedef enum {
    KEY_STRING,
    KEY_DATE,
    KEY_INT,
    KEY_U64,
    KEY_DOUBLE,
    KEY_BOOL,
    KEY_I64,  /* int64_t (the kernels' channel capacities) */
    KEY_FLAG8 /* uint8_t 0/1, written true or false (the kernels' switches) */
} key_type_t;

typedef struct config_key {
    const char *path; /* dotted key path */
    key_type_t type;
    size_t offset;       /* of the field in sgs_config_t */
    size_t size;         /* of the field (strings) */
    const char *deflt;   /* default, as text; NULL: the kernel's, which sgs_config_defaults
                            fills in (the options a kernel takes, config.h, config_actions.h) */
    const char *allowed; /* strings: "a|b|c" or NULL for free text */
    double min, max;     /* numbers: inclusive range */
    const char *doc;
} config_key_t;

#define STR(path, field, deflt, allowed, doc)                                                      \
    {                                                                                              \
        path, KEY_STRING, offsetof(sgs_config_t, field), sizeof(((sgs_config_t *)0)->field),       \
            deflt, allowed, 0, 0, doc                                                              \
    }
#define NUM(path, type, field, deflt, lo, hi, doc)                                                 \
    {                                                                                              \
        path, type, offsetof(sgs_config_t, field), 0, deflt, NULL, lo, hi, doc                     \
    }
/* The text of a kernel's default constant, as the default of a key. */
#define TEXT_OF(x) #x
#define DEFAULT_OF(constant) TEXT_OF(constant)
/* A field of a kernel's rule table, with the kernel's default. */
#define KERNEL(path, type, field, lo, hi, doc) NUM(path, type, actions.field, NULL, lo, hi, doc)

static const config_key_t keys[] = {
    STR("time_unit", time_unit, "day", "day|week",
        "unit of every reported duration (frequency is a count; recency, T, horizon are in this "
        "unit)"),
    {"as_of", KEY_DATE, offsetof(sgs_config_t, as_of), sizeof(((sgs_config_t *)0)->as_of), "", NULL,
     0, 0,
     "analysis date YYYY-MM-DD (UTC, inclusive): later transactions are ignored and counted; "
     "empty = the last transaction's day"},
    NUM("threads", KEY_INT, threads, "0", 0, SGS_THREADS_MAX,
        "OpenMP threads; 0 = every available core. Results do not depend on it"),
    NUM("rfm.bins", KEY_INT, rfm_bins, DEFAULT_OF(SGS_RFM_DEFAULT_BINS), SGS_RFM_MIN_BINS,
        SGS_RFM_MAX_BINS, "RFM scores run 1..bins"),
    STR("rfm.monetary", rfm_monetary, "total", "total|mean",
        "M score from net total spend or from mean spend per purchase day"),
    STR("value.model", model, "auto", "auto|bgnbd|paretonbd|mbgnbd|none",
        "repeat-purchase model for P(alive), expected purchases and CLV; auto = the backtest's "
        "choice (BG/NBD when the backtest cannot run); none skips the value step"),
    NUM("value.backtest", KEY_BOOL, backtest, "true", 0, 1,
        "hold out the end of the history, fit every model on the rest, score them on it and "
        "learn the calibration of p_buy"),
    NUM("value.backtest_holdout", KEY_DOUBLE, backtest_holdout, "0", 0, 1e6,
        "backtest holdout length in time_unit; 0 = the horizon, or half of the observed span "
        "when the horizon is more than half of it"),
    NUM("value.backtest_sample", KEY_INT, backtest_sample, "100000", 0, 1e9,
        "customers the backtest fits and scores at most: when more bought by the calibration end, "
        "a sample of them chosen by a hash of the customer id and seed (the same whatever the "
        "thread count); 0 = all. summary.json value.backtest gives cohort and customers (scored)"),
    NUM("value.horizon", KEY_DOUBLE, horizon, "0", 0, 1e6,
        "prediction horizon for expected purchases and CLV, in time_unit; 0 = one year (365 "
        "days, 52.14 weeks)"),
    NUM("value.discount_rate_annual", KEY_DOUBLE, value_clv.annual_discount, NULL, 0, 10,
        "annual discount rate of CLV"),
    NUM("value.margin", KEY_DOUBLE, value_clv.margin, NULL, 0, 1,
        "share of spend that is profit, applied in CLV"),
    NUM("value.penalizer", KEY_DOUBLE, value_fit.penalizer, NULL, 0, 1e6,
        "L2 penalty on model parameters, as lifetimes' penalizer_coef"),
    /* a run's own limits, not the optimizer's defaults (500 iterations, no time limit) */
    NUM("value.max_iter", KEY_INT, value_fit.optim.max_iter, "200", 1, 100000,
        "optimizer iteration limit"),
    NUM("value.fit_time_limit", KEY_DOUBLE, value_fit.optim.time_limit_s, "600", 0, 1e6,
        "wall-time limit of each model fit in seconds; 0 = none. A fit that reaches it stops the "
        "run like one that does not converge; every fit shows its iterations live on a terminal "
        "and notes its progress every 10 s"),
    NUM("value.allow_unconverged", KEY_BOOL, allow_unconverged, "false", 0, 1,
        "publish results of a fit that did not converge, flagged converged=false"),
    NUM("value.gg_correlation_warn", KEY_DOUBLE, gg_correlation_warn,
        DEFAULT_OF(SGS_GG_CORRELATION_WARN), 0, 1,
        "warn when the absolute correlation of frequency and monetary exceeds this (Gamma-Gamma "
        "assumes independence)"),
    NUM("segments.k", KEY_INT, segments_k, "0", 0, 256,
        "k-means segments; 0 = choose k in [k_min, k_max]"),
    NUM("segments.k_min", KEY_INT, segments_k_min, "3", 2, 256, "smallest k tried"),
    NUM("segments.k_max", KEY_INT, segments_k_max, "8", 2, 256, "largest k tried"),
    /* the run's own: the kernel's default is one run */
    NUM("segments.n_init", KEY_INT, segments_kmeans.n_init, "3", 1, 100,
        "k-means restarts on all customers (the lowest inertia is kept)"),
    NUM("segments.max_iter", KEY_INT, segments_kmeans.max_iter, NULL, 1, 100000,
        "k-means iteration limit"),
    NUM("segments.enabled", KEY_BOOL, segments_enabled, "true", 0, 1,
        "run the k-means segment step"),
    STR("segments.features", segments_features, SGS_SEGMENT_FEATURES, NULL,
        "comma-separated features of the segment step, from " SGS_SEGMENT_FEATURES
        " and p_alive, total_spend (clv, p_buy and p_alive need the value step)"),
    NUM("segments.pca_components", KEY_INT, segments_pca_components, "0", 0, 16,
        "principal components kept before k-means; 0 = cluster the standardized features"),
    NUM("segments.choice_sample", KEY_INT, segments_choice_sample, "100000", 0, 100000000,
        "customers (an even spread in id order) on which k is chosen when segments.k is 0; 0 = "
        "all"),
    NUM("segments.silhouette_sample", KEY_INT, segments_silhouette_sample, "5000", 100, 1000000,
        "rows of the seeded sample the silhouette is computed on"),
    STR("segments.scaling", segments_scaling, "robust", "robust|standard",
        "how features are put on one scale: robust = winsorize at the 1% and 99% quantiles, "
        "centre on the median, divide by the central 98% range / 4.65; standard = mean and "
        "standard deviation (scikit-learn's StandardScaler), which lets a few extreme customers "
        "dominate"),
    NUM("segments.min_spread", KEY_DOUBLE, segments_min_spread, "0.01", 0, 1e6,
        "drop a feature whose central 98% range (log units for counts and money, probability "
        "for p_buy and p_alive) is below this; 0 keeps every feature"),
    NUM("segments.min_share", KEY_DOUBLE, segments_min_share, "0.01", 0, 0.5,
        "merge a segment holding under this share of the customers into its nearest segment; "
        "0 keeps every segment"),
    NUM("seed", KEY_U64, seed, "42", 0, 0, "seed of every random choice"),
    /* stages, influence and opportunities (engine/config_actions.h, docs/stages.md) */
    {"stages.compare_as_of", KEY_DATE, offsetof(sgs_config_t, actions.compare_as_of),
     sizeof(((sgs_config_t *)0)->actions.compare_as_of), "", NULL, 0, 0,
     "also stage every customer at this earlier date YYYY-MM-DD: transitions and time in stage"},
    KERNEL("stages.min_purchases_own_cycle", KEY_INT, stages.min_purchases_own_cycle, 2, 1e6,
           "purchase days a customer needs for a cycle of its own"),
    KERNEL("stages.segment_min_purchases", KEY_INT, stages.segment_min_purchases, 2, 1e6,
           "purchase days to count in a segment's median cycle (>= min_purchases_own_cycle)"),
    KERNEL("stages.default_cycle_days", KEY_DOUBLE, stages.default_cycle_days, 1e-6, 1e6,
           "purchase cycle in days when nobody has enough history"),
    KERNEL("stages.new_cycles", KEY_DOUBLE, stages.new_cycles, 1e-6, 1e6,
           "new while the first purchase is at most this many cycles ago"),
    KERNEL("stages.at_risk_overdue_cycles", KEY_DOUBLE, stages.at_risk_overdue_cycles, 1e-6, 1e6,
           "at risk when more than this many cycles overdue"),
    KERNEL(
        "stages.at_risk_p_buy", KEY_DOUBLE, stages.at_risk_p_buy, 0, 1,
        "at risk when p_buy (calibrated probability of buying within the horizon) is below this"),
    KERNEL("stages.lapsed_overdue_cycles", KEY_DOUBLE, stages.lapsed_overdue_cycles, 1e-6, 1e6,
           "lapsed when more than this many cycles overdue (>= at_risk_overdue_cycles)"),
    KERNEL("stages.lapsed_p_buy", KEY_DOUBLE, stages.lapsed_p_buy, 0, 1,
           "lapsed when p_buy is below this (<= at_risk_p_buy)"),
    KERNEL("stages.reactivated_cycles", KEY_DOUBLE, stages.reactivated_cycles, 1e-6, 1e6,
           "reactivated while the return after a lapse or cancellation is at most this many cycles "
           "ago"),
    KERNEL("stages.loyal_rate_multiple", KEY_DOUBLE, stages.loyal_rate_multiple, 1e-6, 1e6,
           "loyal when buying at least this many times as often as the segment's median"),
    KERNEL("stages.loyal_min_purchases", KEY_INT, stages.loyal_min_purchases, 1, 1e6,
           "loyal needs at least this many purchase days"),
    KERNEL("influence.damping", KEY_DOUBLE, influence.damping, 0, 1,
           "network value = own CLV + damping x the network value of each customer referred"),
    KERNEL("actions.all_opportunities", KEY_BOOL, opportunities.all_opportunities, 0, 1,
           "list every opportunity that fired, not only the highest-priority one per customer"),
    KERNEL("actions.service_recovery.enabled", KEY_FLAG8, opportunities.enabled[1], 0, 1,
           "switch of the service_recovery trigger"),
    KERNEL("actions.service_recovery.priority", KEY_INT, opportunities.priority[1], -1000000,
           1000000, "priority of service_recovery (higher ranks first)"),
    KERNEL("actions.service_recovery.min_contacts", KEY_INT, opportunities.service_min_contacts, 1,
           1e6, "support contacts and complaints that fire service_recovery"),
    KERNEL("actions.service_recovery.window_days", KEY_INT, opportunities.service_window_days, 1,
           1e6, "days, ending on the as-of day, in which they are counted"),
    KERNEL("actions.service_recovery.risk", KEY_DOUBLE, opportunities.service_risk, 0, 1,
           "share of CLV at stake"),
    KERNEL("actions.renewal_at_risk.enabled", KEY_FLAG8, opportunities.enabled[2], 0, 1,
           "switch of the renewal_at_risk trigger"),
    KERNEL("actions.renewal_at_risk.priority", KEY_INT, opportunities.priority[2], -1000000,
           1000000, "priority of renewal_at_risk (higher ranks first)"),
    KERNEL("actions.renewal_at_risk.grace_days", KEY_INT, opportunities.renewal_grace_days, 0, 1e6,
           "days after a renewal due date before renewal_at_risk fires"),
    KERNEL("actions.renewal_at_risk.early_days", KEY_INT, opportunities.renewal_early_days, 0, 1e6,
           "a renewal up to this many days before the due date counts"),
    KERNEL("actions.renewal_at_risk.lookback_days", KEY_INT, opportunities.renewal_lookback_days, 1,
           1e6, "due dates more than this many days ago are ignored"),
    KERNEL("actions.renewal_at_risk.risk", KEY_DOUBLE, opportunities.renewal_risk, 0, 1,
           "share of CLV at stake"),
    KERNEL("actions.win_back.enabled", KEY_FLAG8, opportunities.enabled[3], 0, 1,
           "switch of the win_back trigger"),
    KERNEL("actions.win_back.priority", KEY_INT, opportunities.priority[3], -1000000, 1000000,
           "priority of win_back (higher ranks first)"),
    KERNEL("actions.win_back.recent_days", KEY_INT, opportunities.win_back_recent_days, 0, 1e6,
           "without a compare date: lapsed at most this many days ago"),
    KERNEL("actions.save_high_value.enabled", KEY_FLAG8, opportunities.enabled[4], 0, 1,
           "switch of the save_high_value trigger"),
    KERNEL("actions.save_high_value.priority", KEY_INT, opportunities.priority[4], -1000000,
           1000000, "priority of save_high_value (higher ranks first)"),
    KERNEL("actions.save_high_value.clv_quantile", KEY_DOUBLE, opportunities.save_clv_quantile, 0,
           1, "CLV quantile over buyers that at-risk customers must reach"),
    KERNEL("actions.save_high_value.min_clv", KEY_DOUBLE, opportunities.save_min_clv, -1e300, 1e300,
           "absolute CLV floor"),
    KERNEL("actions.overdue_reminder.enabled", KEY_FLAG8, opportunities.enabled[5], 0, 1,
           "switch of the overdue_reminder trigger"),
    KERNEL("actions.overdue_reminder.priority", KEY_INT, opportunities.priority[5], -1000000,
           1000000, "priority of overdue_reminder (higher ranks first)"),
    KERNEL("actions.overdue_reminder.margin_cycles", KEY_DOUBLE,
           opportunities.overdue_margin_cycles, 0, 1e6,
           "days overdue must exceed this many cycles"),
    KERNEL("actions.overdue_reminder.min_p_buy", KEY_DOUBLE, opportunities.overdue_min_p_buy, 0, 1,
           "and p_buy must be at least this"),
    KERNEL("actions.onboarding.enabled", KEY_FLAG8, opportunities.enabled[6], 0, 1,
           "switch of the onboarding trigger"),
    KERNEL("actions.onboarding.priority", KEY_INT, opportunities.priority[6], -1000000, 1000000,
           "priority of onboarding (higher ranks first)"),
    KERNEL("actions.detractor_follow_up.enabled", KEY_FLAG8, opportunities.enabled[7], 0, 1,
           "switch of the detractor_follow_up trigger"),
    KERNEL("actions.detractor_follow_up.priority", KEY_INT, opportunities.priority[7], -1000000,
           1000000, "priority of detractor_follow_up (higher ranks first)"),
    KERNEL("actions.detractor_follow_up.max_score", KEY_DOUBLE, opportunities.detractor_max_score,
           -1e300, 1e300, "survey scores at or below this are detractors"),
    KERNEL("actions.detractor_follow_up.window_days", KEY_INT, opportunities.detractor_window_days,
           1, 1e6, "days, ending on the as-of day, in which the latest survey counts"),
    KERNEL("actions.detractor_follow_up.risk", KEY_DOUBLE, opportunities.detractor_risk, 0, 1,
           "share of CLV at stake"),
    KERNEL("actions.grow.enabled", KEY_FLAG8, opportunities.enabled[8], 0, 1,
           "switch of the grow trigger"),
    KERNEL("actions.grow.priority", KEY_INT, opportunities.priority[8], -1000000, 1000000,
           "priority of grow (higher ranks first)"),
    KERNEL("actions.grow.ratio", KEY_DOUBLE, opportunities.grow_ratio, 0, 1e6,
           "fires when CLV is below this times the segment's median CLV"),
    KERNEL("actions.advocate.enabled", KEY_FLAG8, opportunities.enabled[9], 0, 1,
           "switch of the advocate trigger"),
    KERNEL("actions.advocate.priority", KEY_INT, opportunities.priority[9], -1000000, 1000000,
           "priority of advocate (higher ranks first)"),
    KERNEL("actions.advocate.min_referrals", KEY_INT, opportunities.advocate_min_referrals, 1, 1e9,
           "direct referrals needed"),
    KERNEL("actions.advocate.value_quantile", KEY_DOUBLE, opportunities.advocate_value_quantile, 0,
           1, "quantile of value brought in over customers with enough referrals"),
    KERNEL("actions.advocate.min_value", KEY_DOUBLE, opportunities.advocate_min_value, -1e300,
           1e300, "absolute floor of value brought in"),
    KERNEL("actions.control_share", KEY_DOUBLE, opportunities.control_share, 0, 0.5,
           "share of each opportunity kind's listed customers held out as its control group "
           "(group control in the list: not to be contacted, the baseline the contacted ones are "
           "measured against); drawn from customer, kind, as-of day and seed; 0 = none"),
    KERNEL("actions.min_days_between_contacts", KEY_INT, opportunities.min_days_between_contacts, 0,
           1e6,
           "a customer with a campaign contact (event kind 7) in this many days up to the as-of "
           "day is listed only for an opportunity whose priority reaches "
           "actions.contact_override_priority; 0 = off"),
    KERNEL("actions.contact_override_priority", KEY_INT, opportunities.contact_override_priority,
           -1000000, 1000000,
           "priority an opportunity needs to list a customer contacted recently"),
    KERNEL("actions.max_unanswered_contacts", KEY_INT, opportunities.max_unanswered_contacts, 0,
           1e6,
           "a channel through which a customer got this many campaign contacts and never "
           "responded is not chosen for them (needs /events/channel); 0 = off"),
    KERNEL("audit.short_window_days", KEY_INT, audit.window_days[0], 1, 100000,
           "the audit's short window: days up to the as-of day"),
    KERNEL("audit.long_window_days", KEY_INT, audit.window_days[1], 1, 100000,
           "the audit's long window (longer than the short one); also the survey look-back"),
    KERNEL("actions.unknown_p_buy_risk", KEY_DOUBLE, opportunities.unknown_p_buy_risk, 0, 1,
           "risk of losing a customer whose p_buy is unknown"),
    KERNEL("actions.capacity.store", KEY_I64, opportunities.channel_capacity[1], -1, 1e9,
           "opportunities per day through store: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.web", KEY_I64, opportunities.channel_capacity[2], -1, 1e9,
           "opportunities per day through web: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.app", KEY_I64, opportunities.channel_capacity[3], -1, 1e9,
           "opportunities per day through app: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.phone", KEY_I64, opportunities.channel_capacity[4], -1, 1e9,
           "opportunities per day through phone: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.email", KEY_I64, opportunities.channel_capacity[5], -1, 1e9,
           "opportunities per day through email: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.sms", KEY_I64, opportunities.channel_capacity[6], -1, 1e9,
           "opportunities per day through sms: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.mail", KEY_I64, opportunities.channel_capacity[7], -1, 1e9,
           "opportunities per day through mail: -1 unlimited, 0 not used"),
    STR("actions.spill_order", actions.spill_order, NULL, NULL,
        "channels tried in turn when a customer's own channel is full or not used"),
    STR("actions.fallback_channel", actions.fallback_channel, NULL,
        "store|web|app|phone|email|sms|mail",
        "channel of customers with neither a preferred nor a purchase channel"),
    STR("actions.learn_from", actions.learn_from, "", NULL,
        "a measurement (segscore measure -o): each opportunity kind measured conclusively gets "
        "its value at stake scaled to the measured incremental revenue per contacted customer, "
        "and channels measured to lose money for a kind are not chosen for it; empty = none"),
    STR("output.summary_json", summary_json, "", NULL,
        "run summary path; empty = summary.json next to the results file"),
    STR("output.customers_csv", customers_csv, "", NULL,
        "customer CSV path; empty = customers.csv next to the results file"),
    STR("output.report", report, "", NULL,
        "report path; empty = report.txt next to the results file"),
    STR("output.report_html", report_html, "", NULL,
        "HTML report path (charts and tables, one self-contained file); empty = report.html next "
        "to the results file; none = not written"),
    STR("output.compare_summary", compare_summary, "", NULL,
        "an earlier run's summary.json: report.html and summary.json say what changed since it "
        "(customers, revenue, value, RFM segments, stages, opportunities); empty = none"),
    STR("output.opportunities_csv", opportunities_csv, "", NULL,
        "opportunity list path; empty = opportunities.csv next to the results file"),
    NUM("output.compression", KEY_INT, compression, "0", 0, 9,
        "deflate level of results datasets; 0 = none. HDF5 compresses on one thread: at 1M "
        "customers the results file was 157 MB written in 0.5 s uncompressed, 71 MB in 2.4 s at "
        "level 1, 69 MB in 4.9 s at level 4 (2-core AMD EPYC VM, loaded)"),
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static const config_key_t *find_key(const char *path)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    return NULL;
}

static const char *closest_key(const char *path)
{
    const char *best = keys[0].path;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < N_KEYS; i++) {
        size_t d = sgs_edit_distance(path, strlen(path), keys[i].path, strlen(keys[i].path), 0);
        if (d < best_d) {
            best_d = d;
            best = keys[i].path;
        }
    }
    return best;
}

/* ---- Setting one value ---------------------------------------------------------------- */

/* True when `value` is one of the '|'-separated words of `allowed`. */
static int word_allowed(const char *allowed, const char *value)
{
    size_t len = strlen(value);
    for (const char *p = allowed; *p;) {
        const char *end = strchr(p, '|');
        size_t wlen = end ? (size_t)(end - p) : strlen(p);
        if (wlen == len && strncmp(p, value, len) == 0)
            return 1;
        p += wlen + (end ? 1 : 0);
    }
    return 0;
}

static int set_from_text(sgs_config_t *cfg, const config_key_t *k, const char *value,
                         sgs_error_t *err)
{
    char *field = (char *)cfg + k->offset;
    char *end = NULL;
    switch (k->type) {
    case KEY_STRING:
    case KEY_DATE:
        if (strlen(value) >= k->size)
            return sgs_error_set(err, SGS_ECONFIG, "config %s: value too long (max %zu)", k->path,
                                 k->size - 1);
        if (k->allowed && !word_allowed(k->allowed, value))
            return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not one of %s", k->path,
                                 value, k->allowed);
        if (k->type == KEY_DATE && value[0]) {
            int64_t day;
            if (sgs_date_parse_day(value, &day) != SGS_OK)
                return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not a date YYYY-MM-DD",
                                     k->path, value);
        }
        memcpy(field, value, strlen(value) + 1);
        return SGS_OK;
    case KEY_BOOL:
    case KEY_FLAG8: {
        int on = strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
        if (!on && strcmp(value, "false") != 0 && strcmp(value, "0") != 0)
            return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not true or false",
                                 k->path, value);
        if (k->type == KEY_BOOL)
            *(int *)field = on;
        else
            *(uint8_t *)field = (uint8_t)on;
        return SGS_OK;
    }
    case KEY_INT:
    case KEY_I64: {
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < (long)k->min || v > (long)k->max)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "config %s: \"%s\" is not an integer in %.0f..%.0f", k->path,
                                 value, k->min, k->max);
        if (k->type == KEY_INT)
            *(int *)field = (int)v;
        else
            *(int64_t *)field = (int64_t)v;
        return SGS_OK;
    }
    case KEY_U64: {
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end || value[0] == '-')
            return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not a whole number",
                                 k->path, value);
        *(uint64_t *)field = (uint64_t)v;
        return SGS_OK;
    }
    case KEY_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v) || v < k->min || v > k->max)
            return sgs_error_set(err, SGS_ECONFIG, "config %s: \"%s\" is not a number in %g..%g",
                                 k->path, value, k->min, k->max);
        *(double *)field = v;
        return SGS_OK;
    }
    }
    return SGS_EINVAL;
}

/* Channel names of `codes` (0-terminated), comma-separated. */
static void channel_names(const uint8_t *codes, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < SGS_CHANNEL_COUNT && codes[i] && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? "," : "", sgs_channel_name(codes[i]));
        used += w > 0 ? (size_t)w : 0;
    }
}

void sgs_config_defaults(sgs_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    /* the keys without a default of their own take the kernels': the options they point into
     * start as each kernel's defaults */
    sgs_model_fit_options_init(&cfg->value_fit); /* (padding zero: configs compare bytewise) */
    cfg->value_clv = sgs_clv_options_default();
    sgs_kmeans_options_init(&cfg->segments_kmeans, 0);
    sgs_actions_config_t *a = &cfg->actions;
    sgs_stage_rules_default(&a->stages);
    sgs_influence_config_default(&a->influence);
    sgs_opportunity_config_default(&a->opportunities);
    sgs_audit_config_default(&a->audit);
    channel_names(a->opportunities.spill_order, a->spill_order, sizeof a->spill_order);
    snprintf(a->fallback_channel, sizeof a->fallback_channel, "%s",
             sgs_channel_name(a->opportunities.fallback_channel));
    for (size_t i = 0; i < N_KEYS; i++) {
        if (!keys[i].deflt)
            continue;
        int rc = set_from_text(cfg, &keys[i], keys[i].deflt, NULL);
        (void)rc;
        /* a default that fails its own validation is a programming error */
        if (rc != SGS_OK)
            abort();
    }
}

int sgs_config_set(sgs_config_t *cfg, const char *key, const char *value, sgs_error_t *err)
{
    const config_key_t *k = find_key(key);
    if (!k)
        return sgs_error_set(err, SGS_ECONFIG, "unknown config key \"%s\" (did you mean \"%s\"?)",
                             key, closest_key(key));
    return set_from_text(cfg, k, value, err);
}

/* ---- JSON file ------------------------------------------------------------------------ */

/* Apply every member of JSON object `obj` whose path prefix is `prefix`. seen[i] counts the
 * times key i was set so far: JSON does not say which of two equal keys counts (cJSON kept the
 * last), so a key given twice, also as "a.b" beside {"a": {"b"}}, is an error. */
static int apply_object(sgs_config_t *cfg, const cJSON *obj, const char *prefix, const char *file,
                        unsigned char *seen, sgs_error_t *err)
{
    for (const cJSON *item = obj->child; item; item = item->next) {
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", item->string);
        for (const cJSON *before = obj->child; before != item; before = before->next)
            if (strcmp(before->string, item->string) == 0)
                return sgs_error_set(
                    err, SGS_ECONFIG,
                    "%s: key \"%s\" appears twice in one object (JSON does not say "
                    "which one counts)",
                    file, path);
        const config_key_t *k = find_key(path);
        if (!k && cJSON_IsObject(item)) {
            int rc = apply_object(cfg, item, path, file, seen, err);
            if (rc)
                return rc;
            continue;
        }
        if (!k)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "%s: unknown config key \"%s\" (did you mean \"%s\"?)", file, path,
                                 closest_key(path));
        if (seen[k - keys]++)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "%s: config key \"%s\" is set twice (JSON does not say which one "
                                 "counts)",
                                 file, path);
        char text[SGS_CONFIG_STRING_MAX];
        int type_ok = 1;
        switch (k->type) {
        case KEY_STRING:
        case KEY_DATE:
            if (cJSON_IsNull(item))
                text[0] = '\0';
            else if (cJSON_IsString(item))
                snprintf(text, sizeof text, "%s", item->valuestring);
            else
                type_ok = 0;
            break;
        case KEY_BOOL:
        case KEY_FLAG8:
            type_ok = cJSON_IsBool(item);
            snprintf(text, sizeof text, "%s", cJSON_IsTrue(item) ? "true" : "false");
            break;
        default:
            type_ok = cJSON_IsNumber(item);
            if (type_ok && k->type != KEY_DOUBLE && item->valuedouble != floor(item->valuedouble))
                type_ok = 0;
            if (k->type == KEY_DOUBLE)
                snprintf(text, sizeof text, "%.17g", item->valuedouble);
            else
                snprintf(text, sizeof text, "%.0f", item->valuedouble);
            break;
        }
        if (!type_ok)
            return sgs_error_set(err, SGS_ECONFIG, "%s: config key \"%s\" has the wrong type", file,
                                 path);
        int rc = set_from_text(cfg, k, text, err);
        if (rc) {
            sgs_error_prefix(err, "%s", file);
            return rc;
        }
    }
    return SGS_OK;
}

/* Line (from 1) of byte `offset` of text. */
static int line_of(const char *text, size_t offset)
{
    int line = 1;
    for (size_t i = 0; i < offset; i++)
        line += text[i] == '\n';
    return line;
}

/* What cJSON would take without a word and must not: a NUL byte in the file (cJSON stops
 * reading there, so whatever follows was ignored) and the escape \u0000 in a string (decoded
 * to a NUL, which cuts the string short: "abc\u0000def" became "abc"). Strings are followed
 * from their quotes, so that an escaped backslash before "u0000" is not taken for one.
 * Returns 0 or SGS_ECONFIG naming the byte offset (from 0) and line. */
static int check_text(const char *text, size_t len, const char *file, sgs_error_t *err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return sgs_error_set(err, SGS_ECONFIG,
                             "%s: byte %zu (line %d): a NUL byte; a configuration file is JSON "
                             "text",
                             file, (size_t)(nul - text), line_of(text, (size_t)(nul - text)));
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (!in_string) {
            in_string = text[i] == '"';
            continue;
        }
        if (text[i] == '"') {
            in_string = 0;
        } else if (text[i] == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 6 <= len && strncmp(text + i + 2, "0000", 4) == 0)
                return sgs_error_set(err, SGS_ECONFIG,
                                     "%s: byte %zu (line %d): \\u0000 in a string: a NUL "
                                     "character would cut the string short",
                                     file, i, line_of(text, i));
            i++; /* the escaped character, a quote or a backslash included */
        }
    }
    return SGS_OK;
}

int sgs_config_load_file(sgs_config_t *cfg, const char *path, sgs_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sgs_error_set(err, SGS_ENOINPUT, "%s: cannot open config file: %s", path,
                             strerror(errno));
    char *text = NULL;
    size_t used = 0, cap = 0;
    int rc = SGS_OK;
    unsigned char seen[N_KEYS] = {0};
    for (;;) {
        if (used + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = sgs_realloc_array(text, cap, 1);
            if (!grown) {
                rc = sgs_error_set(err, SGS_ENOMEM, "%s: out of memory", path);
                goto cleanup;
            }
            text = grown;
        }
        size_t got = fread(text + used, 1, cap - used - 1, f);
        used += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = sgs_error_set_os(err, SGS_EIO, errno ? errno : EIO, path, "cannot read");
        goto cleanup;
    }
    text[used] = '\0';
    rc = check_text(text, used, path, err);
    if (rc)
        goto cleanup;
    const char *error_at = NULL;
    long mark = sgs_json_begin();
    cJSON *root = cJSON_ParseWithOpts(text, &error_at, 1);
    if (sgs_alloc_failures() != mark) { /* cJSON says "cannot parse" for both */
        cJSON_Delete(root);
        rc = sgs_error_set(err, SGS_ENOMEM, "%s: out of memory reading the configuration", path);
        goto cleanup;
    }
    if (!root || !cJSON_IsObject(root)) {
        size_t at = root || !error_at ? 0 : (size_t)(error_at - text);
        rc = sgs_error_set(err, SGS_ECONFIG, "%s: line %d: not a valid JSON object", path,
                           line_of(text, at > used ? used : at));
        cJSON_Delete(root);
        goto cleanup;
    }
    rc = apply_object(cfg, root, "", path, seen, err);
    cJSON_Delete(root);
cleanup:
    sgs_free(text);
    fclose(f);
    return rc;
}

int sgs_config_validate(const sgs_config_t *cfg, sgs_error_t *err)
{
    char list[sizeof cfg->segments_features];
    snprintf(list, sizeof list, "%s", cfg->segments_features);
    size_t n_features = 0;
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save), n_features++) {
        static const char *const known[] = {"recency", "frequency", "monetary", "tenure",
                                            "clv",     "p_buy",     "p_alive",  "total_spend"};
        int found = 0;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            found |= strcmp(name, known[k]) == 0;
        if (!found)
            return sgs_error_set(err, SGS_ECONFIG,
                                 "config segments.features: unknown feature \"%s\" (known: %s, "
                                 "p_alive, total_spend)",
                                 name, SGS_SEGMENT_FEATURES);
    }
    if (cfg->segments_enabled && n_features == 0)
        return sgs_error_set(err, SGS_ECONFIG, "config segments.features is empty");
    if (cfg->segments_k_min > cfg->segments_k_max)
        return sgs_error_set(err, SGS_ECONFIG,
                             "config segments.k_min (%d) is larger than segments.k_max (%d)",
                             cfg->segments_k_min, cfg->segments_k_max);
    return sgs_config_validate_actions(cfg, err);
}

/* ---- Serialization and documentation ----------------------------------------------- */

/* The value of key k in cfg as text (strings unquoted). */
static void value_text(const sgs_config_t *cfg, const config_key_t *k, char *buf, size_t size)
{
    const char *field = (const char *)cfg + k->offset;
    switch (k->type) {
    case KEY_STRING:
    case KEY_DATE:
        snprintf(buf, size, "%s", field);
        break;
    case KEY_BOOL:
        snprintf(buf, size, "%s", *(const int *)field ? "true" : "false");
        break;
    case KEY_FLAG8:
        snprintf(buf, size, "%s", *(const uint8_t *)field ? "true" : "false");
        break;
    case KEY_INT:
        snprintf(buf, size, "%d", *(const int *)field);
        break;
    case KEY_I64:
        snprintf(buf, size, "%lld", (long long)*(const int64_t *)field);
        break;
    case KEY_U64:
        snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)field);
        break;
    case KEY_DOUBLE:
        snprintf(buf, size, "%.17g", *(const double *)field);
        break;
    }
}

/* Object for dotted path prefix in root, created when missing. */
static cJSON *object_for(cJSON *root, const char *path, const char **leaf)
{
    cJSON *obj = root;
    const char *p = path;
    const char *dot;
    while ((dot = strchr(p, '.')) != NULL) {
        char name[64];
        size_t len = (size_t)(dot - p) < sizeof name - 1 ? (size_t)(dot - p) : sizeof name - 1;
        memcpy(name, p, len);
        name[len] = '\0';
        cJSON *child = cJSON_GetObjectItemCaseSensitive(obj, name);
        if (!child)
            child = cJSON_AddObjectToObject(obj, name);
        obj = child;
        p = dot + 1;
    }
    *leaf = p;
    return obj;
}

char *sgs_config_to_json(const sgs_config_t *cfg, int include_threads)
{
    long mark = sgs_json_begin();
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; root && i < N_KEYS; i++) {
        const config_key_t *k = &keys[i];
        if (!include_threads && k->offset == offsetof(sgs_config_t, threads))
            continue;
        const char *leaf;
        cJSON *obj = object_for(root, k->path, &leaf);
        char text[SGS_CONFIG_STRING_MAX];
        value_text(cfg, k, text, sizeof text);
        if (!obj)
            continue;
        switch (k->type) {
        case KEY_STRING:
        case KEY_DATE:
            cJSON_AddStringToObject(obj, leaf, text);
            break;
        case KEY_BOOL:
        case KEY_FLAG8:
            cJSON_AddBoolToObject(obj, leaf, strcmp(text, "true") == 0);
            break;
        case KEY_U64:
            /* 64-bit seeds do not fit a JSON double exactly: keep them as text-free numbers
             * only when exact, else as a string */
            if (*(const uint64_t *)((const char *)cfg + k->offset) < (UINT64_C(1) << 53))
                cJSON_AddRawToObject(obj, leaf, text);
            else
                cJSON_AddStringToObject(obj, leaf, text);
            break;
        default:
            cJSON_AddRawToObject(obj, leaf, text);
            break;
        }
    }
    return sgs_json_finish(root, mark, 0);
}

void sgs_config_print_doc(FILE *out)
{
    static const char *const type_names[] = {"string", "date",    "integer", "integer",
                                             "number", "boolean", "integer", "boolean"};
    sgs_config_t defaults;
    sgs_config_defaults(&defaults);
    fprintf(out, "| key | type | default | meaning |\n| --- | --- | --- | --- |\n");
    for (size_t i = 0; i < N_KEYS; i++) {
        const config_key_t *k = &keys[i];
        fprintf(out, "| `%s` | %s%s", k->path, type_names[k->type], k->allowed ? ": " : "");
        if (k->type == KEY_INT || k->type == KEY_I64 || k->type == KEY_DOUBLE)
            fprintf(out, " %.10g..%.10g", k->min, k->max);
        /* allowed words are '|'-separated, which would split a Markdown cell */
        for (const char *p = k->allowed; p && *p; p++)
            fputs(*p == '|' ? ", " : (char[]){*p, '\0'}, out);
        char deflt[SGS_CONFIG_STRING_MAX];
        if (k->deflt)
            snprintf(deflt, sizeof deflt, "%s", k->deflt);
        else if (k->type == KEY_DOUBLE) /* the shortest text that reads back the same */
            snprintf(deflt, sizeof deflt, "%.15g",
                     *(const double *)((const char *)&defaults + k->offset));
        else
            value_text(&defaults, k, deflt, sizeof deflt);
        fprintf(out, " | `%s` | %s |\n", deflt[0] ? deflt : "\"\"", k->doc);
    }
}

double sgs_config_days_per_unit(const sgs_config_t *cfg)
{
    return strcmp(cfg->time_unit, "week") == 0 ? 7.0 : 1.0;
}
