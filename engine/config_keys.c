/*
 * engine/config_keys.c — the configuration key table: every key's path, type, field, default,
 * allowed values or range, and meaning; the one list from which a file and --set are read,
 * the effective configuration is written and `segscore config --defaults` prints the
 * documentation. A key that a kernel reads points into that kernel's options and takes the
 * kernel's default (engine/config.h).
 */
#include "engine/config_internal.h"

#include "engine/options.h"
#include "io/suggest.h"
#include "kernels/gammagamma.h"
#include "kernels/rfm.h"

#include <stddef.h>
#include <string.h>

/* ---- The key table ---------------------------------------------------------------------- */

/* A row: path, type, field of sgs_config_t, default as text (NULL: the kernel's, which
 * sgs_config_defaults puts in the options the field belongs to), allowed words or range, and
 * the meaning that `segscore config --defaults` prints. */
#define STR(path, field, deflt, allowed, doc)                                                      \
    {                                                                                              \
        path, SGS__KEY_STRING, offsetof(sgs_config_t, field), sizeof(((sgs_config_t *)0)->field),  \
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

const sgs__config_key_t sgs__config_keys[] = {
    STR("time_unit", time_unit, "day", "day|week",
        "unit of every reported duration (frequency is a count; recency, T, horizon are in this "
        "unit)"),
    {"as_of", SGS__KEY_DATE, offsetof(sgs_config_t, as_of), sizeof(((sgs_config_t *)0)->as_of), "",
     NULL, 0, 0,
     "analysis date YYYY-MM-DD (UTC, inclusive): later transactions are ignored and counted; "
     "empty = the last transaction's day"},
    NUM("threads", SGS__KEY_INT, threads, "0", 0, SGS_THREADS_MAX,
        "OpenMP threads; 0 = every available core. Results do not depend on it"),
    NUM("rfm.bins", SGS__KEY_INT, rfm_bins, DEFAULT_OF(SGS_RFM_DEFAULT_BINS), SGS_RFM_MIN_BINS,
        SGS_RFM_MAX_BINS, "RFM scores run 1..bins"),
    STR("rfm.monetary", rfm_monetary, "total", "total|mean",
        "M score from net total spend or from mean spend per purchase day"),
    STR("value.model", model, "auto", "auto|bgnbd|paretonbd|mbgnbd|none",
        "repeat-purchase model for P(alive), expected purchases and CLV; auto = the backtest's "
        "choice (BG/NBD when the backtest cannot run); none skips the value step"),
    NUM("value.backtest", SGS__KEY_BOOL, backtest, "true", 0, 1,
        "hold out the end of the history, fit every model on the rest, score them on it and "
        "learn the calibration of p_buy"),
    NUM("value.backtest_holdout", SGS__KEY_DOUBLE, backtest_holdout, "0", 0, 1e6,
        "backtest holdout length in time_unit; 0 = the horizon, or half of the observed span "
        "when the horizon is more than half of it"),
    NUM("value.backtest_sample", SGS__KEY_INT, backtest_sample, "100000", 0, 1e9,
        "customers the backtest fits and scores at most: when more bought by the calibration end, "
        "a sample of them chosen by a hash of the customer id and seed (the same whatever the "
        "thread count); 0 = all. summary.json value.backtest gives cohort and customers (scored)"),
    NUM("value.horizon", SGS__KEY_DOUBLE, horizon, "0", 0, 1e6,
        "prediction horizon for expected purchases and CLV, in time_unit; 0 = one year (365 "
        "days, 52.14 weeks)"),
    NUM("value.discount_rate_annual", SGS__KEY_DOUBLE, value_clv.annual_discount, NULL, 0, 10,
        "annual discount rate of CLV"),
    NUM("value.margin", SGS__KEY_DOUBLE, value_clv.margin, NULL, 0, 1,
        "share of spend that is profit, applied in CLV"),
    NUM("value.penalizer", SGS__KEY_DOUBLE, value_fit.penalizer, NULL, 0, 1e6,
        "L2 penalty on model parameters, as lifetimes' penalizer_coef"),
    /* a run's own limits, not the optimizer's defaults (500 iterations, no time limit) */
    NUM("value.max_iter", SGS__KEY_INT, value_fit.optim.max_iter, "200", 1, 100000,
        "optimizer iteration limit"),
    NUM("value.fit_time_limit", SGS__KEY_DOUBLE, value_fit.optim.time_limit_s, "600", 0, 1e6,
        "wall-time limit of each model fit in seconds; 0 = none. A fit that reaches it stops the "
        "run like one that does not converge; every fit shows its iterations live on a terminal "
        "and notes its progress every 10 s"),
    NUM("value.allow_unconverged", SGS__KEY_BOOL, allow_unconverged, "false", 0, 1,
        "publish results of a fit that did not converge, flagged converged=false"),
    NUM("value.gg_correlation_warn", SGS__KEY_DOUBLE, gg_correlation_warn,
        DEFAULT_OF(SGS_GG_CORRELATION_WARN), 0, 1,
        "warn when the absolute correlation of frequency and monetary exceeds this (Gamma-Gamma "
        "assumes independence)"),
    NUM("segments.k", SGS__KEY_INT, segments_k, "0", 0, 256,
        "k-means segments; 0 = choose k in [k_min, k_max]"),
    NUM("segments.k_min", SGS__KEY_INT, segments_k_min, "3", 2, 256, "smallest k tried"),
    NUM("segments.k_max", SGS__KEY_INT, segments_k_max, "8", 2, 256, "largest k tried"),
    /* the run's own: the kernel's default is one run */
    NUM("segments.n_init", SGS__KEY_INT, segments_kmeans.n_init, "3", 1, 100,
        "k-means restarts on all customers (the lowest inertia is kept)"),
    NUM("segments.max_iter", SGS__KEY_INT, segments_kmeans.max_iter, NULL, 1, 100000,
        "k-means iteration limit"),
    NUM("segments.enabled", SGS__KEY_BOOL, segments_enabled, "true", 0, 1,
        "run the k-means segment step"),
    STR("segments.features", segments_features, SGS_SEGMENT_FEATURES, NULL,
        "comma-separated features of the segment step, from " SGS_SEGMENT_FEATURES
        " and p_alive, total_spend (clv, p_buy and p_alive need the value step)"),
    NUM("segments.pca_components", SGS__KEY_INT, segments_pca_components, "0", 0, 16,
        "principal components kept before k-means; 0 = cluster the standardized features"),
    NUM("segments.choice_sample", SGS__KEY_INT, segments_choice_sample, "100000", 0, 100000000,
        "customers (an even spread in id order) on which k is chosen when segments.k is 0; 0 = "
        "all"),
    NUM("segments.silhouette_sample", SGS__KEY_INT, segments_silhouette_sample, "5000", 100,
        1000000, "rows of the seeded sample the silhouette is computed on"),
    STR("segments.scaling", segments_scaling, "robust", "robust|standard",
        "how features are put on one scale: robust = winsorize at the 1% and 99% quantiles, "
        "centre on the median, divide by the central 98% range / 4.65; standard = mean and "
        "standard deviation (scikit-learn's StandardScaler), which lets a few extreme customers "
        "dominate"),
    NUM("segments.min_spread", SGS__KEY_DOUBLE, segments_min_spread, "0.01", 0, 1e6,
        "drop a feature whose central 98% range (log units for counts and money, probability "
        "for p_buy and p_alive) is below this; 0 keeps every feature"),
    NUM("segments.min_share", SGS__KEY_DOUBLE, segments_min_share, "0.01", 0, 0.5,
        "merge a segment holding under this share of the customers into its nearest segment; "
        "0 keeps every segment"),
    NUM("seed", SGS__KEY_U64, seed, "42", 0, 0, "seed of every random choice"),
    /* stages, influence and opportunities (engine/config_actions.h, docs/stages.md) */
    {"stages.compare_as_of", SGS__KEY_DATE, offsetof(sgs_config_t, actions.compare_as_of),
     sizeof(((sgs_config_t *)0)->actions.compare_as_of), "", NULL, 0, 0,
     "also stage every customer at this earlier date YYYY-MM-DD: transitions and time in stage"},
    KERNEL("stages.min_purchases_own_cycle", SGS__KEY_INT, stages.min_purchases_own_cycle, 2, 1e6,
           "purchase days a customer needs for a cycle of its own"),
    KERNEL("stages.segment_min_purchases", SGS__KEY_INT, stages.segment_min_purchases, 2, 1e6,
           "purchase days to count in a segment's median cycle (>= min_purchases_own_cycle)"),
    KERNEL("stages.default_cycle_days", SGS__KEY_DOUBLE, stages.default_cycle_days, 1e-6, 1e6,
           "purchase cycle in days when nobody has enough history"),
    KERNEL("stages.new_cycles", SGS__KEY_DOUBLE, stages.new_cycles, 1e-6, 1e6,
           "new while the first purchase is at most this many cycles ago"),
    KERNEL("stages.at_risk_overdue_cycles", SGS__KEY_DOUBLE, stages.at_risk_overdue_cycles, 1e-6,
           1e6, "at risk when more than this many cycles overdue"),
    KERNEL(
        "stages.at_risk_p_buy", SGS__KEY_DOUBLE, stages.at_risk_p_buy, 0, 1,
        "at risk when p_buy (calibrated probability of buying within the horizon) is below this"),
    KERNEL("stages.lapsed_overdue_cycles", SGS__KEY_DOUBLE, stages.lapsed_overdue_cycles, 1e-6, 1e6,
           "lapsed when more than this many cycles overdue (>= at_risk_overdue_cycles)"),
    KERNEL("stages.lapsed_p_buy", SGS__KEY_DOUBLE, stages.lapsed_p_buy, 0, 1,
           "lapsed when p_buy is below this (<= at_risk_p_buy)"),
    KERNEL("stages.reactivated_cycles", SGS__KEY_DOUBLE, stages.reactivated_cycles, 1e-6, 1e6,
           "reactivated while the return after a lapse or cancellation is at most this many cycles "
           "ago"),
    KERNEL("stages.loyal_rate_multiple", SGS__KEY_DOUBLE, stages.loyal_rate_multiple, 1e-6, 1e6,
           "loyal when buying at least this many times as often as the segment's median"),
    KERNEL("stages.loyal_min_purchases", SGS__KEY_INT, stages.loyal_min_purchases, 1, 1e6,
           "loyal needs at least this many purchase days"),
    KERNEL("influence.damping", SGS__KEY_DOUBLE, influence.damping, 0, 1,
           "network value = own CLV + damping x the network value of each customer referred"),
    NUM("actions.enabled", SGS__KEY_BOOL, actions_enabled, "true", 0, 1,
        "run the actions step: stages, influence, opportunities and the audit (false: none of "
        "them in the outputs, opportunities.csv has its header only)"),
    KERNEL("actions.all_opportunities", SGS__KEY_BOOL, opportunities.all_opportunities, 0, 1,
           "list every opportunity that fired, not only the highest-priority one per customer"),
    KERNEL("actions.service_recovery.enabled", SGS__KEY_FLAG8, opportunities.enabled[1], 0, 1,
           "switch of the service_recovery trigger"),
    KERNEL("actions.service_recovery.priority", SGS__KEY_INT, opportunities.priority[1], -1000000,
           1000000, "priority of service_recovery (higher ranks first)"),
    KERNEL("actions.service_recovery.min_contacts", SGS__KEY_INT,
           opportunities.service_min_contacts, 1, 1e6,
           "support contacts and complaints that fire service_recovery"),
    KERNEL("actions.service_recovery.window_days", SGS__KEY_INT, opportunities.service_window_days,
           1, 1e6, "days, ending on the as-of day, in which they are counted"),
    KERNEL("actions.service_recovery.risk", SGS__KEY_DOUBLE, opportunities.service_risk, 0, 1,
           "share of CLV at stake"),
    KERNEL("actions.renewal_at_risk.enabled", SGS__KEY_FLAG8, opportunities.enabled[2], 0, 1,
           "switch of the renewal_at_risk trigger"),
    KERNEL("actions.renewal_at_risk.priority", SGS__KEY_INT, opportunities.priority[2], -1000000,
           1000000, "priority of renewal_at_risk (higher ranks first)"),
    KERNEL("actions.renewal_at_risk.grace_days", SGS__KEY_INT, opportunities.renewal_grace_days, 0,
           1e6, "days after a renewal due date before renewal_at_risk fires"),
    KERNEL("actions.renewal_at_risk.early_days", SGS__KEY_INT, opportunities.renewal_early_days, 0,
           1e6, "a renewal up to this many days before the due date counts"),
    KERNEL("actions.renewal_at_risk.lookback_days", SGS__KEY_INT,
           opportunities.renewal_lookback_days, 1, 1e6,
           "due dates more than this many days ago are ignored"),
    KERNEL("actions.renewal_at_risk.risk", SGS__KEY_DOUBLE, opportunities.renewal_risk, 0, 1,
           "share of CLV at stake"),
    KERNEL("actions.win_back.enabled", SGS__KEY_FLAG8, opportunities.enabled[3], 0, 1,
           "switch of the win_back trigger"),
    KERNEL("actions.win_back.priority", SGS__KEY_INT, opportunities.priority[3], -1000000, 1000000,
           "priority of win_back (higher ranks first)"),
    KERNEL("actions.win_back.recent_days", SGS__KEY_INT, opportunities.win_back_recent_days, 0, 1e6,
           "without a compare date: lapsed at most this many days ago"),
    KERNEL("actions.save_high_value.enabled", SGS__KEY_FLAG8, opportunities.enabled[4], 0, 1,
           "switch of the save_high_value trigger"),
    KERNEL("actions.save_high_value.priority", SGS__KEY_INT, opportunities.priority[4], -1000000,
           1000000, "priority of save_high_value (higher ranks first)"),
    KERNEL("actions.save_high_value.clv_quantile", SGS__KEY_DOUBLE, opportunities.save_clv_quantile,
           0, 1, "CLV quantile over buyers that at-risk customers must reach"),
    KERNEL("actions.save_high_value.min_clv", SGS__KEY_DOUBLE, opportunities.save_min_clv, -1e300,
           1e300, "absolute CLV floor"),
    KERNEL("actions.overdue_reminder.enabled", SGS__KEY_FLAG8, opportunities.enabled[5], 0, 1,
           "switch of the overdue_reminder trigger"),
    KERNEL("actions.overdue_reminder.priority", SGS__KEY_INT, opportunities.priority[5], -1000000,
           1000000, "priority of overdue_reminder (higher ranks first)"),
    KERNEL("actions.overdue_reminder.margin_cycles", SGS__KEY_DOUBLE,
           opportunities.overdue_margin_cycles, 0, 1e6,
           "days overdue must exceed this many cycles"),
    KERNEL("actions.overdue_reminder.min_p_buy", SGS__KEY_DOUBLE, opportunities.overdue_min_p_buy,
           0, 1, "and p_buy must be at least this"),
    KERNEL("actions.onboarding.enabled", SGS__KEY_FLAG8, opportunities.enabled[6], 0, 1,
           "switch of the onboarding trigger"),
    KERNEL("actions.onboarding.priority", SGS__KEY_INT, opportunities.priority[6], -1000000,
           1000000, "priority of onboarding (higher ranks first)"),
    KERNEL("actions.detractor_follow_up.enabled", SGS__KEY_FLAG8, opportunities.enabled[7], 0, 1,
           "switch of the detractor_follow_up trigger"),
    KERNEL("actions.detractor_follow_up.priority", SGS__KEY_INT, opportunities.priority[7],
           -1000000, 1000000, "priority of detractor_follow_up (higher ranks first)"),
    KERNEL("actions.detractor_follow_up.max_score", SGS__KEY_DOUBLE,
           opportunities.detractor_max_score, -1e300, 1e300,
           "survey scores at or below this are detractors"),
    KERNEL("actions.detractor_follow_up.window_days", SGS__KEY_INT,
           opportunities.detractor_window_days, 1, 1e6,
           "days, ending on the as-of day, in which the latest survey counts"),
    KERNEL("actions.detractor_follow_up.risk", SGS__KEY_DOUBLE, opportunities.detractor_risk, 0, 1,
           "share of CLV at stake"),
    KERNEL("actions.grow.enabled", SGS__KEY_FLAG8, opportunities.enabled[8], 0, 1,
           "switch of the grow trigger"),
    KERNEL("actions.grow.priority", SGS__KEY_INT, opportunities.priority[8], -1000000, 1000000,
           "priority of grow (higher ranks first)"),
    KERNEL("actions.grow.ratio", SGS__KEY_DOUBLE, opportunities.grow_ratio, 0, 1e6,
           "fires when CLV is below this times the segment's median CLV"),
    KERNEL("actions.advocate.enabled", SGS__KEY_FLAG8, opportunities.enabled[9], 0, 1,
           "switch of the advocate trigger"),
    KERNEL("actions.advocate.priority", SGS__KEY_INT, opportunities.priority[9], -1000000, 1000000,
           "priority of advocate (higher ranks first)"),
    KERNEL("actions.advocate.min_referrals", SGS__KEY_INT, opportunities.advocate_min_referrals, 1,
           1e9, "direct referrals needed"),
    KERNEL("actions.advocate.value_quantile", SGS__KEY_DOUBLE,
           opportunities.advocate_value_quantile, 0, 1,
           "quantile of value brought in over customers with enough referrals"),
    KERNEL("actions.advocate.min_value", SGS__KEY_DOUBLE, opportunities.advocate_min_value, -1e300,
           1e300, "absolute floor of value brought in"),
    KERNEL("actions.control_share", SGS__KEY_DOUBLE, opportunities.control_share, 0, 0.5,
           "share of each opportunity kind's listed customers held out as its control group "
           "(group control in the list: not to be contacted, the baseline the contacted ones are "
           "measured against); drawn from customer, kind, as-of day and seed; 0 = none"),
    KERNEL("actions.min_days_between_contacts", SGS__KEY_INT,
           opportunities.min_days_between_contacts, 0, 1e6,
           "a customer with a campaign contact (event kind 7) in this many days up to the as-of "
           "day is listed only for an opportunity whose priority reaches "
           "actions.contact_override_priority; 0 = off"),
    KERNEL("actions.contact_override_priority", SGS__KEY_INT,
           opportunities.contact_override_priority, -1000000, 1000000,
           "priority an opportunity needs to list a customer contacted recently"),
    KERNEL("actions.max_unanswered_contacts", SGS__KEY_INT, opportunities.max_unanswered_contacts,
           0, 1e6,
           "a channel through which a customer got this many campaign contacts and never "
           "responded is not chosen for them (needs /events/channel); 0 = off"),
    KERNEL("audit.short_window_days", SGS__KEY_INT, audit.window_days[0], 1, 100000,
           "the audit's short window: days up to the as-of day"),
    KERNEL("audit.long_window_days", SGS__KEY_INT, audit.window_days[1], 1, 100000,
           "the audit's long window (longer than the short one); also the survey look-back"),
    KERNEL("actions.unknown_p_buy_risk", SGS__KEY_DOUBLE, opportunities.unknown_p_buy_risk, 0, 1,
           "risk of losing a customer whose p_buy is unknown"),
    KERNEL("actions.capacity.store", SGS__KEY_I64, opportunities.channel_capacity[1], -1, 1e9,
           "opportunities per day through store: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.web", SGS__KEY_I64, opportunities.channel_capacity[2], -1, 1e9,
           "opportunities per day through web: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.app", SGS__KEY_I64, opportunities.channel_capacity[3], -1, 1e9,
           "opportunities per day through app: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.phone", SGS__KEY_I64, opportunities.channel_capacity[4], -1, 1e9,
           "opportunities per day through phone: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.email", SGS__KEY_I64, opportunities.channel_capacity[5], -1, 1e9,
           "opportunities per day through email: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.sms", SGS__KEY_I64, opportunities.channel_capacity[6], -1, 1e9,
           "opportunities per day through sms: -1 unlimited, 0 not used"),
    KERNEL("actions.capacity.mail", SGS__KEY_I64, opportunities.channel_capacity[7], -1, 1e9,
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
    NUM("output.compression", SGS__KEY_INT, compression, "0", 0, 9,
        "deflate level of results datasets; 0 = none. HDF5 compresses on one thread: at 1M "
        "customers the results file was 157 MB written in 0.5 s uncompressed, 71 MB in 2.4 s at "
        "level 1, 69 MB in 4.9 s at level 4 (2-core AMD EPYC VM, loaded)"),
    NUM("output.direct_io", SGS__KEY_BOOL, direct_io, "true", 0, 1,
        "write the large outputs (results.h5's columns, customers.csv, opportunities.csv) past "
        "the page cache (O_DIRECT) where the file system takes it; false = through the page "
        "cache. The bytes are the same either way: docs/publishing.md"),
};
const size_t sgs__config_n_keys = sizeof sgs__config_keys / sizeof sgs__config_keys[0];
_Static_assert(sizeof sgs__config_keys / sizeof sgs__config_keys[0] <= SGS__CONFIG_KEYS_MAX,
               "raise SGS__CONFIG_KEYS_MAX (engine/config_internal.h)");

/* ---- Looking a key up ------------------------------------------------------------------- */

const sgs__config_key_t *sgs__config_find_key(const char *path)
{
    for (size_t i = 0; i < sgs__config_n_keys; i++)
        if (strcmp(sgs__config_keys[i].path, path) == 0)
            return &sgs__config_keys[i];
    return NULL;
}

const char *sgs__config_closest_key(const char *path)
{
    const char *best = sgs__config_keys[0].path;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < sgs__config_n_keys; i++) {
        size_t d = sgs_edit_distance(path, strlen(path), sgs__config_keys[i].path,
                                     strlen(sgs__config_keys[i].path), 0);
        if (d < best_d) {
            best_d = d;
            best = sgs__config_keys[i].path;
        }
    }
    return best;
}
