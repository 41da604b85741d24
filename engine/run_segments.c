/*
 * engine/run_segments.c — customer segments: a feature matrix from the summary (and the
 * value step), log1p for counts and money, features whose spread is negligible dropped,
 * robust scaling (or standardization), optional PCA, k given or chosen on a spread sample,
 * k-means on every customer, segments under segments.min_share merged into their nearest
 * neighbour, then a profile of each segment a marketer can read (docs/segments.md).
 *
 * Spread over processes, each process holds its customers' rows of the feature matrix; what
 * is over the whole base (the quantiles, the scaling's moments, PCA, the choice of k, the
 * k-means fit, the merge, the inertia, the profiles' counts, sums and medians) is made by the
 * spread pieces of engine/dist_segments.h and engine/dist_kmeans.h, the same bits as one
 * process's kernels.
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */

#include "engine/run_state.h"

#include "engine/dist_kmeans.h"
#include "engine/dist_run.h"
#include "engine/dist_segments.h"
#include "kernels/features.h"
#include "kernels/kchoice.h"
#include "kernels/kmeans.h"
#include "kernels/kmeans_blocks.h"
#include "kernels/order_stats.h"
#include "kernels/segment_profile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The result ---------------------------------------------------------------------------- */

void sgs_run_segments_init(sgs_run_segments_t *s)
{
    memset(s, 0, sizeof *s);
}

void sgs_run_segments_free(sgs_run_segments_t *s)
{
    if (!s)
        return;
    sgs_free(s->segment);
    sgs_free(s->segment_distance);
    sgs_free(s->centroids);
    sgs_free(s->centroids_original);
    sgs_free(s->profile_mean);
    sgs_free(s->profile_median);
    sgs_free(s->profile_deviation);
    sgs_free(s->profile_size);
    sgs_free(s->profile_revenue_share);
    sgs_free(s->profile_clv_share);
    sgs_free(s->profile_rfm_mix);
    sgs_free(s->profile_label);
    sgs_run_segments_init(s);
}

/* ---- Features ------------------------------------------------------------------------------ */

typedef enum feature_id {
    F_RECENCY,
    F_FREQUENCY,
    F_MONETARY,
    F_TENURE,
    F_CLV,
    F_P_ALIVE,
    F_TOTAL_SPEND,
    F_P_BUY
} feature_id_t;

typedef struct feature_spec {
    const char *name;
    sgs_feature_transform_t transform; /* to the working units spreads are measured in */
    const char *units;                 /* those units, for the outputs */
    int needs_value;                   /* only when the value step ran */
    const char *low_word, *high_word;  /* for segment labels */
} feature_spec_t;

/* Counts and durations are heavy-tailed: log1p. Money can be negative (refunds): signed
 * log1p. P(alive) is a probability, bounded, compared in its own units. */
static const feature_spec_t FEATURES[] = {
    [F_RECENCY] = {"recency", SGS_FEATURE_LOG1P, "log1p", 0, "recent", "lapsed"},
    [F_FREQUENCY] = {"frequency", SGS_FEATURE_LOG1P, "log1p", 0, "one-off", "frequent"},
    [F_MONETARY] = {"monetary", SGS_FEATURE_SIGNED_LOG1P, "signed log1p", 0, "small baskets",
                    "big baskets"},
    [F_TENURE] = {"tenure", SGS_FEATURE_LOG1P, "log1p", 0, "new", "long-standing"},
    [F_CLV] = {"clv", SGS_FEATURE_SIGNED_LOG1P, "signed log1p", 1, "low value", "high value"},
    [F_P_ALIVE] = {"p_alive", SGS_FEATURE_IDENTITY, "probability", 1, "low P(alive)",
                   "high P(alive)"},
    [F_TOTAL_SPEND] = {"total_spend", SGS_FEATURE_SIGNED_LOG1P, "signed log1p", 0, "low spend",
                       "high spend"},
    /* words by level, not by deviation: see label_word */
    [F_P_BUY] = {"p_buy", SGS_FEATURE_IDENTITY, "probability", 1, "unlikely to buy again",
                 "likely to buy again"},
};
#define N_KNOWN_FEATURES (sizeof FEATURES / sizeof FEATURES[0])

/* The spread of a feature is its central 98% range: SPREAD_TAIL of the customers are set
 * aside at each end, so that a handful of extreme customers cannot make a near-constant
 * feature look informative (nor set its scale). */
#define SPREAD_TAIL 0.01
/* Robust scale: kernels/features.h SGS_FEATURES_RANGE98_PER_SD. */

/* Feature f in original units, as a column (kernels/segment_profile.h): recency = time since
 * the last purchase and tenure = T, in the time unit; monetary = mean spend per purchase day. */
static sgs_feature_column_t feature_column(const sgs_run_state_t *st, feature_id_t f)
{
    const sgs_summary_t *s = &st->summary.columns;
    switch (f) {
    case F_RECENCY:
        return (sgs_feature_column_t){NULL, 0, s->days_since_last, st->days_per_unit};
    case F_FREQUENCY:
        return (sgs_feature_column_t){NULL, 0, s->frequency, 1.0};
    case F_MONETARY:
        return (sgs_feature_column_t){s->mean_spend, 1, NULL, 1.0};
    case F_TENURE:
        return (sgs_feature_column_t){NULL, 0, s->age_days, st->days_per_unit};
    case F_CLV:
        return (sgs_feature_column_t){st->value.clv, 1, NULL, 1.0};
    case F_P_ALIVE:
        return (sgs_feature_column_t){st->value.p_alive, 1, NULL, 1.0};
    case F_TOTAL_SPEND:
        return (sgs_feature_column_t){s->total_spend, 1, NULL, 1.0};
    case F_P_BUY:
        return (sgs_feature_column_t){st->value.p_buy, 1, NULL, 1.0};
    }
    return (sgs_feature_column_t){NULL, 0, NULL, 1.0};
}

/* The columns of the features ids[0..d-1]. */
static void feature_columns(const sgs_run_state_t *st, const feature_id_t *ids, size_t d,
                            sgs_feature_column_t *cols)
{
    for (size_t f = 0; f < d; f++)
        cols[f] = feature_column(st, ids[f]);
}

/* Why feature f cannot be clustered on in this run, or NULL when it can. */
static const char *unusable_because(const sgs_run_state_t *st, feature_id_t f)
{
    if (FEATURES[f].needs_value && !st->value.ran)
        return "value step off";
    if (f == F_P_ALIVE && !st->value.p_alive_informative)
        return "not identified by the fit"; /* warning dropout_not_identified */
    if (f == F_P_BUY && !st->value.p_alive_informative && !st->value.p_buy_calibrated)
        return "neither calibrated nor identified by the fit";
    return NULL;
}

/* Parse segments.features: every feature gets a check record (st->segments.feature_check, config
 * order); those that can be computed get a column: ids[col] and check_of[col]. Features that
 * need the value step are dropped, and reported, when it did not run. */
static size_t parse_features(sgs_run_state_t *st, feature_id_t *ids, size_t *check_of)
{
    char list[sizeof st->req->config->segments_features];
    snprintf(list, sizeof list, "%s", st->req->config->segments_features);
    size_t d = 0;
    st->segments.n_feature_check = 0;
    for (char *save = NULL, *name = strtok_r(list, ",", &save);
         name && st->segments.n_feature_check < 8; name = strtok_r(NULL, ",", &save)) {
        for (size_t f = 0; f < N_KNOWN_FEATURES; f++) {
            if (strcmp(name, FEATURES[f].name) != 0)
                continue;
            sgs_segment_feature_check_t *c =
                &st->segments.feature_check[st->segments.n_feature_check];
            *c = (sgs_segment_feature_check_t){.units = FEATURES[f].units,
                                               .q01 = NAN,
                                               .median = NAN,
                                               .q99 = NAN,
                                               .spread = NAN,
                                               .center = NAN,
                                               .scale = NAN};
            snprintf(c->name, sizeof c->name, "%s", name);
            c->dropped = unusable_because(st, (feature_id_t)f);
            if (!c->dropped) {
                ids[d] = (feature_id_t)f;
                check_of[d] = st->segments.n_feature_check;
                snprintf(st->segments.feature_names[d], sizeof st->segments.feature_names[d], "%s",
                         name);
                d++;
            }
            st->segments.n_feature_check++;
            break;
        }
    }
    return d;
}

/* Drop the columns whose spread is negligible: the central 98% range of the feature in its
 * working units (log1p for counts and durations, signed log1p for money, probability for
 * P(alive)) below segments.min_spread (0.01: 98% of the customers within one percentage
 * point of P(alive), or within about 1% of each other for the log features). Such a column
 * tells apart at most the 2% of customers in its tails, so clustering on it can only make
 * segments of those few; scaled to unit spread it would instead blow their differences up
 * (the lowest P(alive) of a real export sat 40 standard deviations from the mean). Records
 * the quantiles, spread and decision in st->segments.feature_check; compacts x, ids, kinds,
 * check_of and st->segments.feature_names, and lo, median, hi (the column quantiles, working units)
 * with them.
 * @return the columns kept, or 0 with rc set on error. */
static size_t drop_negligible(sgs_run_state_t *st, double *x, size_t n, size_t d, feature_id_t *ids,
                              sgs_feature_transform_t *kinds, size_t *check_of, double *lo,
                              double *median, double *hi, int *rc, sgs_error_t *err)
{
    double orig[3 * 8];
    *rc = st->dist.size > 1
              ? sgs_dist_features_quantiles(&st->dist, x, n, d, SPREAD_TAIL, lo, median, hi, err)
              : sgs_features_quantiles(x, n, d, SPREAD_TAIL, &st->exec, lo, median, hi, err);
    if (*rc != SGS_OK)
        return 0;
    memcpy(orig, lo, d * sizeof(double)); /* rows q01, median, q99 of a 3 x d matrix */
    memcpy(orig + d, median, d * sizeof(double));
    memcpy(orig + 2 * d, hi, d * sizeof(double));
    sgs_features_untransform(orig, 3, d, kinds);
    unsigned char keep[8];
    double min_spread = st->req->config->segments_min_spread;
    for (size_t f = 0; f < d; f++) {
        sgs_segment_feature_check_t *c = &st->segments.feature_check[check_of[f]];
        c->q01 = orig[f];
        c->median = orig[d + f];
        c->q99 = orig[2 * d + f];
        c->spread = hi[f] - lo[f];
        keep[f] = !(c->spread < min_spread);
        if (!keep[f])
            c->dropped = "negligible spread";
    }
    size_t kept = sgs_features_keep_columns(x, n, d, keep);
    for (size_t f = 0, out = 0; f < d; f++) {
        if (!keep[f])
            continue;
        ids[out] = ids[f];
        kinds[out] = kinds[f];
        check_of[out] = check_of[f];
        lo[out] = lo[f];
        median[out] = median[f];
        hi[out] = hi[f];
        if (out != f)
            memcpy(st->segments.feature_names[out], st->segments.feature_names[f],
                   sizeof st->segments.feature_names[0]);
        out++;
    }
    return kept;
}

/* ---- Choosing k -------------------------------------------------------------------------- */

/* What chose k: the silhouette when the k table has one, else Calinski-Harabasz. Returns rc. */
static int chosen_by(sgs_run_state_t *st, int rc)
{
    int by_silhouette = 0;
    for (size_t i = 0; rc == SGS_OK && i < st->segments.n_k_table; i++)
        by_silhouette |= !isnan(st->segments.k_table[i].silhouette);
    snprintf(st->segments.k_chosen_by, sizeof st->segments.k_chosen_by, "%s",
             by_silhouette ? "silhouette" : "calinski_harabasz");
    return rc;
}

/* k from the config, or the best silhouette over k_min..k_max on an even spread of at most
 * segments.choice_sample rows (the rows are in customer id order, unrelated to behaviour). */
static int choose_k(sgs_run_state_t *st, const double *x, size_t n, size_t dims,
                    const sgs_kmeans_options_t *base, sgs_error_t *err)
{
    const sgs_config_t *cfg = st->req->config;
    if (cfg->segments_k > 0) {
        st->segments.k = (size_t)cfg->segments_k;
        snprintf(st->segments.k_chosen_by, sizeof st->segments.k_chosen_by, "config");
        return SGS_OK;
    }
    size_t choice_sample =
        cfg->segments_choice_sample > 0 ? (size_t)cfg->segments_choice_sample : 0;
    size_t k_min = (size_t)cfg->segments_k_min, k_max = (size_t)cfg->segments_k_max;
    if (st->dist.size > 1) /* the same sample of every process's rows, on every process */
        return chosen_by(st,
                         sgs_dist_kchoice_run(&st->dist, x, n, dims, choice_sample, k_min, k_max,
                                              base, (size_t)cfg->segments_silhouette_sample,
                                              &st->exec, st->segments.k_table,
                                              &st->segments.n_k_table, &st->segments.k, err));
    size_t m = sgs_kchoice_sample_size(n, choice_sample);
    double *sample = sgs_alloc_array(m * dims, sizeof *sample);
    if (!sample)
        return sgs_error_set(err, SGS_ENOMEM, "segments: no memory for a %zu-row sample", m);
    for (size_t j = 0; j < m; j++)
        memcpy(sample + j * dims, x + sgs_kchoice_sample_row(j, n, m) * dims,
               dims * sizeof *sample);
    if (k_max > m)
        k_max = m;
    st->segments.n_k_table = k_max - k_min + 1;
    int rc = sgs_kchoice_run(sample, m, dims, NULL, k_min, k_max, base,
                             (size_t)cfg->segments_silhouette_sample, &st->exec,
                             st->segments.k_table, &st->segments.k, err);
    sgs_free(sample);
    return chosen_by(st, rc);
}

/* Lloyd or Hamerly for k centres in `dims` dimensions: both give the same labels, centres,
 * inertia and iteration count, bit for bit (kernels/kmeans.h), so this only changes time.
 * Hamerly skips distances but reads and writes two bounds per row (16 bytes) every iteration
 * besides the row itself, and its bounds are 16 n bytes of fresh memory; with few centres the
 * distances it saves are cheaper than that traffic. Measured at 10 M customers, 6 features,
 * 2 threads on an AMD EPYC VM: Lloyd took 2/3 of Hamerly's CPU time at k = 3 and k = 8
 * (docs/benchmarks.md, issue 17). */
static sgs_kmeans_algorithm_t fit_algorithm(size_t k, size_t dims)
{
    return k * dims <= 64 ? SGS_KMEANS_LLOYD : SGS_KMEANS_HAMERLY;
}

/* ---- Profiles ------------------------------------------------------------------------------ */

/* The word for feature column f of segment j, NULL for none. p_buy speaks of a level, not of
 * a difference: "likely to buy again" when the segment's mean p_buy is at least
 * stages.at_risk_p_buy, "unlikely to buy again" below stages.lapsed_p_buy, no word between. */
static const char *label_word(const sgs_run_state_t *st, const feature_id_t *ids, size_t j,
                              size_t f, double deviation)
{
    const feature_spec_t *spec = &FEATURES[ids[f]];
    if (ids[f] != F_P_BUY)
        return deviation > 0 ? spec->high_word : spec->low_word;
    const sgs_stage_rules_t *r = &st->req->config->actions.stages;
    double p = st->segments.profile_mean[j * st->segments.n_features + f];
    return p >= r->at_risk_p_buy ? spec->high_word : p < r->lapsed_p_buy ? spec->low_word : NULL;
}

/* "recent, frequent, big baskets": the (up to three) features whose segment mean, in the
 * clustered units, is furthest from the base's mean, beyond half the base's standard
 * deviation, and that have a word (label_word). `deviation` holds (segment mean - base
 * mean) / base standard deviation. */
static void label_segment(const sgs_run_state_t *st, const feature_id_t *ids, size_t j,
                          const double *deviation, char *label, size_t size)
{
    size_t d = st->segments.n_features, used = 0;
    int taken[8] = {0};
    label[0] = '\0';
    for (int word = 0; word < 3; word++) {
        size_t best = d;
        for (size_t f = 0; f < d; f++)
            if (!taken[f] && fabs(deviation[j * d + f]) > 0.5 &&
                label_word(st, ids, j, f, deviation[j * d + f]) &&
                (best == d || fabs(deviation[j * d + f]) > fabs(deviation[j * d + best])))
                best = f;
        if (best == d)
            break;
        taken[best] = 1;
        const char *w = label_word(st, ids, j, best, deviation[j * d + best]);
        int n = snprintf(label + used, size - used, "%s%s", used ? ", " : "", w);
        used += n > 0 && (size_t)n < size - used ? (size_t)n : 0;
    }
    if (used == 0)
        snprintf(label, size, "typical customers");
}

/* The profiles of st->segments (sizes, RFM mix, shares, means, medians, labels). x_std (n x d,
 * the scaled features) is read for the means and then serves as the scratch of the medians
 * (2 n doubles, when d >= 2): its pages are touched already, and fresh pages are slow to fault
 * in (DESIGN.md, Scale). Its contents are unspecified on return. */
static int build_profiles(sgs_run_state_t *st, const feature_id_t *ids, double *x_std,
                          sgs_error_t *err)
{
    size_t n = st->summary.n_customers, d = st->segments.n_features, k = st->segments.k;
    double *owned = d >= 2 ? NULL : sgs_alloc_array(n, 2 * sizeof *owned);
    double *column = d >= 2 ? x_std : owned;
    double *median_scratch = column ? column + n : NULL; /* every feature's */
    double *std_mean = st->segments.profile_deviation;   /* sums first, then the deviations */
    /* per segment: revenue, CLV, then the d features and the d scaled features */
    size_t n_sums = 2 + 2 * d;
    double *sums = sgs_calloc_array(k, n_sums * sizeof *sums);
    int rc = SGS_OK;
    if (!column || !median_scratch || !sums)
        rc = sgs_error_set(err, SGS_ENOMEM, "segments: no memory for the profiles");
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    const sgs_dist_t *dist = st->dist.size > 1 ? &st->dist : NULL; /* spread: over all */
    /* Sums in customer order: deterministic (kernels/segment_profile.h). */
    sgs_feature_column_t cols[8], summed[2 + 2 * 8];
    feature_columns(st, ids, d, cols);
    summed[0] = (sgs_feature_column_t){st->summary.columns.total_spend, 1, NULL, 1.0};
    /* without the value step the revenue again in CLV's place, its sums unused */
    summed[1] = (sgs_feature_column_t){st->value.ran ? st->value.clv : summed[0].f64, 1, NULL, 1.0};
    for (size_t f = 0; f < d; f++) {
        summed[2 + f] = cols[f];
        summed[2 + d + f] = (sgs_feature_column_t){x_std + f, d, NULL, 1.0};
    }
    const int32_t *seg = st->segments.segment;
    if (dist) {
        rc = sgs_dist_segment_counts(dist, n, seg, k, NULL, 0, st->segments.profile_size, err);
        if (rc == SGS_OK)
            rc = sgs_dist_segment_counts(dist, n, seg, k, st->rfm.rfm_segment,
                                         SGS_RFM_SEGMENT_COUNT, st->segments.profile_rfm_mix, err);
        if (rc == SGS_OK)
            rc = sgs_dist_segment_sums(dist, summed, n_sums, n, seg, k, sums, err);
    } else {
        rc = sgs_segment_counts(n, seg, k, NULL, 0, &st->exec, st->segments.profile_size, err);
        if (rc == SGS_OK)
            rc = sgs_segment_counts(n, seg, k, st->rfm.rfm_segment, SGS_RFM_SEGMENT_COUNT,
                                    &st->exec, st->segments.profile_rfm_mix, err);
        if (rc == SGS_OK)
            rc = sgs_segment_sums(summed, n_sums, n, seg, k, &st->exec, sums, err);
    }
    if (rc != SGS_OK)
        goto cleanup;
    double revenue_sum[SGS_SEGMENTS_MAX_K], clv_sum[SGS_SEGMENTS_MAX_K];
    for (size_t j = 0; j < k; j++) {
        const double *row = sums + j * n_sums;
        revenue_sum[j] = row[0];
        clv_sum[j] = st->value.ran ? row[1] : 0.0; /* shares NaN: a total of 0 */
        memcpy(st->segments.profile_mean + j * d, row + 2, d * sizeof *row);
        memcpy(std_mean + j * d, row + 2 + d, d * sizeof *row);
    }
    /* The base's mean and standard deviation of each clustered column, for the labels. */
    double base_mean[8], base_var[8];
    if (dist)
        rc = sgs_dist_features_column_moments(dist, x_std, n, d, &st->exec, base_mean, base_var,
                                              err);
    else if (sgs_features_column_moments(x_std, n, d, &st->exec, base_mean, base_var))
        rc = sgs_error_set(err, SGS_ENOMEM, "segments: no memory for the profiles");
    if (rc != SGS_OK)
        goto cleanup;
    /* means, deviations and shares (kernels/segment_profile.h); a share of CLV is NaN without
     * the value step (a total of 0) */
    sgs_segment_profile_means(k, d, st->segments.profile_size, base_mean, base_var,
                              st->segments.profile_mean, std_mean);
    sgs_segment_shares(k, revenue_sum, st->summary.revenue_buyers,
                       st->segments.profile_revenue_share);
    sgs_segment_shares(k, clv_sum, st->value.ran ? st->value.clv_total : 0.0,
                       st->segments.profile_clv_share);
    for (size_t j = 0; j < k; j++)
        label_segment(st, ids, j, std_mean, st->segments.profile_label[j],
                      sizeof st->segments.profile_label[j]);
    double median_of_segment[SGS_SEGMENTS_MAX_K]; /* the base's median is not published */
    /* x_std is not read from here on: column and median_scratch may be its pages. */
    for (size_t f = 0; rc == SGS_OK && f < d; f++) {
        rc = sgs_dist_run_agree(st, sgs_features_gather(&cols[f], 1, n, &st->exec, column, err),
                                err);
        if (rc == SGS_OK && dist)
            rc = sgs_dist_group_medians(dist, n, column, seg, (int32_t)k, median_of_segment, NULL,
                                        err);
        else if (rc == SGS_OK)
            rc = sgs_group_medians_into(n, column, st->segments.segment, (int32_t)k,
                                        median_of_segment, NULL, median_scratch, &st->exec, err);
        for (size_t j = 0; rc == SGS_OK && j < k; j++)
            st->segments.profile_median[j * d + f] = median_of_segment[j];
    }
cleanup:
    sgs_free(owned);
    sgs_free(sums);
    return rc;
}

/* ---- The step ---------------------------------------------------------------------------- */

static int alloc_segment_outputs(sgs_run_state_t *st)
{
    size_t n = st->summary.n_customers, k = st->segments.k, d = st->segments.n_features;
    st->segments.segment = sgs_alloc_array(n, sizeof *st->segments.segment);
    st->segments.segment_distance = sgs_alloc_array(n, sizeof *st->segments.segment_distance);
    st->segments.centroids_original = sgs_alloc_array(k * d, sizeof(double));
    st->segments.profile_mean = sgs_calloc_array(k * d, sizeof(double));
    st->segments.profile_median = sgs_alloc_array(k * d, sizeof(double));
    st->segments.profile_deviation = sgs_calloc_array(k * d, sizeof(double));
    st->segments.profile_size = sgs_calloc_array(k, sizeof(size_t));
    st->segments.profile_revenue_share = sgs_alloc_array(k, sizeof(double));
    st->segments.profile_clv_share = sgs_alloc_array(k, sizeof(double));
    st->segments.profile_rfm_mix = sgs_calloc_array(k * SGS_RFM_SEGMENT_COUNT, sizeof(size_t));
    st->segments.profile_label = sgs_calloc_array(k, sizeof *st->segments.profile_label);
    return st->segments.segment && st->segments.segment_distance &&
                   st->segments.centroids_original && st->segments.profile_mean &&
                   st->segments.profile_median && st->segments.profile_deviation &&
                   st->segments.profile_size && st->segments.profile_revenue_share &&
                   st->segments.profile_clv_share && st->segments.profile_rfm_mix &&
                   st->segments.profile_label
               ? SGS_OK
               : SGS_ENOMEM;
}

/* Centres back to original units: PCA inverse, unstandardize, untransform. */
static int centroids_to_original(sgs_run_state_t *st, const sgs_pca_t *pca, const double *mean,
                                 const double *scale, const sgs_feature_transform_t *kinds)
{
    size_t k = st->segments.k, d = st->segments.n_features;
    if (pca)
        sgs_pca_inverse(pca, st->segments.centroids, k, st->segments.centroids_original);
    else
        memcpy(st->segments.centroids_original, st->segments.centroids, k * d * sizeof(double));
    sgs_features_unstandardize(st->segments.centroids_original, k, d, mean, scale);
    sgs_features_untransform(st->segments.centroids_original, k, d, kinds);
    return SGS_OK;
}

/* Put the kept columns on one scale, in place. robust: winsorize at the column's 1% quantiles
 * (the 11th smallest and 11th largest of 1,000: a handful of extreme customers join the tail
 * of everybody else, so none can pull a centre of its own), centre on the median, divide by
 * the central 98% range / 4.65 (the standard deviation, for normal data; 1 for a column whose
 * range is 0, kept only when min_spread = 0). standard: mean and population standard
 * deviation (scikit-learn's StandardScaler). center and scale (d each) are written. */
static int scale_features(sgs_run_state_t *st, double *x, size_t n, size_t d, const double *lo,
                          const double *median, const double *hi, const size_t *check_of,
                          double *center, double *scale, sgs_error_t *err)
{
    size_t clipped[8] = {0};
    const sgs_dist_t *dist = &st->dist;
    if (strcmp(st->req->config->segments_scaling, "robust") == 0) {
        sgs_features_robust_params(d, lo, median, hi, center, scale);
        if (dist->size > 1) /* the clipped counts of every process */
            sgs_dist_features_robust_scale(dist, x, n, d, lo, hi, center, scale, &st->exec,
                                           clipped);
        else
            sgs_features_robust_scale(x, n, d, lo, hi, center, scale, &st->exec, clipped);
    } else {
        int rc = dist->size > 1
                     ? sgs_dist_features_standardize(dist, x, n, d, &st->exec, center, scale, err)
                     : sgs_features_standardize(x, n, d, &st->exec, center, scale, err);
        if (rc != SGS_OK)
            return rc;
    }
    for (size_t f = 0; f < d; f++) {
        sgs_segment_feature_check_t *c = &st->segments.feature_check[check_of[f]];
        c->center = center[f];
        c->scale = scale[f];
        c->n_clipped = clipped[f];
    }
    return SGS_OK;
}

/* A feature that is not a finite number is a defect of the step that computed it: say which
 * (the value step checks its scores, so this is a backstop). */
static int check_finite(const sgs_run_state_t *st, const double *x, size_t n, size_t d,
                        const feature_id_t *ids, sgs_error_t *err)
{
    size_t bad = sgs_kmeans_first_nonfinite(x, n, d, &st->exec); /* customer bad / d */
    if (bad == SIZE_MAX)
        return SGS_OK;
    size_t c = bad / d, f = bad % d;
    return sgs_error_set(err, SGS_ENUMERIC,
                         "segments: feature %s of customer %lld is %g, as the %s step computed "
                         "it; nothing was published",
                         FEATURES[ids[f]].name, (long long)st->summary.customer_id[c], x[bad],
                         FEATURES[ids[f]].needs_value ? "value" : "summarize");
}

int sgs_run_segments(sgs_run_state_t *st, sgs_error_t *err)
{
    const sgs_config_t *cfg = st->req->config;
    if (!cfg->segments_enabled)
        return SGS_OK;
    size_t n = st->summary.n_customers, n_all = st->summary.n_all; /* this process's, all */
    const sgs_dist_t *dist = st->dist.size > 1 ? &st->dist : NULL; /* spread */
    feature_id_t ids[8];
    size_t check_of[8];
    size_t d = parse_features(st, ids, check_of);
    size_t k_needed = cfg->segments_k > 0 ? (size_t)cfg->segments_k : (size_t)cfg->segments_k_min;
    if (d == 0 || n_all < 2 * k_needed) {
        sgs_run_warn(st, "segments_skipped", "segments skipped: %s",
                     d == 0 ? "no usable feature (each is listed with the reason in the "
                              "feature checks)"
                            : "fewer than two customers per segment");
        return SGS_OK;
    }
    sgs_progress_begin(st->req->progress, "segments");
    sgs_feature_transform_t kinds[8];
    for (size_t f = 0; f < d; f++)
        kinds[f] = FEATURES[ids[f]].transform;
    double lo[8], median[8], hi[8], mean[8], scale[8];
    sgs_pca_t *pca = NULL;
    double *x_std = sgs_alloc_array(n * d, sizeof *x_std);
    double *x_pca = NULL;
    int rc =
        x_std ? SGS_OK
              : sgs_error_set(err, SGS_ENOMEM, "segments: no memory for %zu x %zu features", n, d);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    sgs_feature_column_t cols[8];
    feature_columns(st, ids, d, cols);
    rc = sgs_features_gather(cols, d, n, &st->exec, x_std, err);
    if (rc == SGS_OK)
        rc = check_finite(st, x_std, n, d, ids, err);
    const int32_t *int_src[8];
    double divisor[8];
    for (size_t f = 0; f < d; f++) {
        int_src[f] = cols[f].f64 ? NULL : cols[f].i32; /* days and counts: few values */
        divisor[f] = cols[f].divisor;
    }
    if (rc == SGS_OK)
        rc = sgs_features_transform_ints(x_std, n, d, kinds, int_src, divisor, &st->exec, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc == SGS_OK)
        d = drop_negligible(st, x_std, n, d, ids, kinds, check_of, lo, median, hi, &rc, err);
    if (rc == SGS_OK && d == 0) {
        sgs_progress_end(st->req->progress, "skipped: no feature with a usable spread");
        sgs_run_warn(st, "segments_skipped",
                     "segments skipped: every feature's central 98%% range is below "
                     "segments.min_spread = %g",
                     cfg->segments_min_spread);
        goto cleanup;
    }
    st->segments.n_features = d;
    if (rc == SGS_OK)
        rc = scale_features(st, x_std, n, d, lo, median, hi, check_of, mean, scale, err);
    const double *x = x_std;
    st->segments.n_dims = d;
    if (rc == SGS_OK && cfg->segments_pca_components > 0) {
        size_t components = (size_t)cfg->segments_pca_components;
        rc = dist ? sgs_dist_pca_fit(dist, x_std, n, d, components, 1.0, &st->exec, &pca, err)
                  : sgs_pca_fit(x_std, n, d, components, 1.0, &st->exec, &pca, err);
        if (rc == SGS_OK) {
            st->segments.n_dims = pca->n_components;
            memcpy(st->segments.explained_variance_ratio, pca->explained_variance_ratio,
                   st->segments.n_dims * sizeof(double));
            x_pca = sgs_alloc_array(n * st->segments.n_dims, sizeof *x_pca);
            if (!x_pca)
                rc = sgs_error_set(err, SGS_ENOMEM, "segments: no memory for the projection");
            rc = sgs_dist_run_agree(st, rc, err);
            if (rc == SGS_OK)
                sgs_pca_transform(pca, x_std, n, &st->exec, x_pca);
            x = x_pca;
        }
    }
    sgs_kmeans_options_t opt = cfg->segments_kmeans; /* segments.n_init, segments.max_iter */
    opt.init = n_all > 2000000 ? SGS_KMEANS_INIT_PARALLEL : SGS_KMEANS_INIT_PLUSPLUS;
    opt.seed = cfg->seed;
    sgs_kmeans_options_t choice = opt;
    choice.n_init = 1; /* choosing k fits each k once; segments.n_init is the final fit's */
    choice.algorithm = fit_algorithm((size_t)cfg->segments_k_max, st->segments.n_dims);
    if (rc == SGS_OK)
        rc = choose_k(st, x, n, st->segments.n_dims, &choice, err);
    if (rc == SGS_OK && alloc_segment_outputs(st) != SGS_OK)
        rc = sgs_error_set(err, SGS_ENOMEM, "segments: no memory for %zu customers", n);
    if (rc == SGS_OK) {
        st->segments.centroids =
            sgs_alloc_array(st->segments.k * st->segments.n_dims, sizeof(double));
        if (!st->segments.centroids)
            rc = sgs_error_set(err, SGS_ENOMEM, "segments: no memory for the centres");
    }
    rc = sgs_dist_run_agree(st, rc, err);
    opt.k = st->segments.k;
    opt.algorithm = fit_algorithm(opt.k, st->segments.n_dims);
    if (rc == SGS_OK && dist)
        rc = sgs_dist_kmeans_fit(dist, x, n, st->segments.n_dims, NULL, &opt, &st->exec,
                                 st->segments.segment, NULL, st->segments.centroids,
                                 &st->segments.kmeans, err);
    else if (rc == SGS_OK)
        rc = sgs_kmeans_fit(x, n, st->segments.n_dims, NULL, &opt, &st->exec, st->segments.segment,
                            st->segments.centroids, &st->segments.kmeans, err);
    /* Segments under segments.min_share join their nearest neighbour (kernels/segment_merge.h);
     * st->segments.k becomes the number of segments published, st->segments.k_fitted keeps the
     * fit's. The output arrays stay sized for k_fitted >= k. */
    st->segments.k_fitted = st->segments.k;
    if (rc == SGS_OK && dist)
        rc = sgs_dist_segments_merge_small(dist, st->segments.segment, n, st->segments.centroids,
                                           st->segments.k_fitted, st->segments.n_dims,
                                           cfg->segments_min_share, &st->exec, &st->segments.k,
                                           st->segments.merges, &st->segments.n_merges, NULL, err);
    else if (rc == SGS_OK)
        rc = sgs_segments_merge_small(st->segments.segment, n, st->segments.centroids,
                                      st->segments.k_fitted, st->segments.n_dims,
                                      cfg->segments_min_share, &st->exec, &st->segments.k,
                                      st->segments.merges, &st->segments.n_merges, NULL, err);
    if (rc == SGS_OK && dist)
        rc = sgs_dist_kmeans_inertia(dist, x, n, st->segments.n_dims, st->segments.centroids,
                                     st->segments.k, st->segments.segment, &st->exec,
                                     &st->segments.inertia, err);
    else if (rc == SGS_OK && st->segments.n_merges == 0)
        st->segments.inertia = st->segments.kmeans.inertia; /* the same labels and centres */
    else if (rc == SGS_OK)
        rc = sgs_kmeans_inertia(x, n, st->segments.n_dims, NULL, st->segments.centroids,
                                st->segments.k, st->segments.segment, &st->exec,
                                &st->segments.inertia, err);
    if (rc != SGS_OK) {
        if (err && strncmp(err->message, "segments:", strlen("segments:")) != 0)
            sgs_error_prefix(err, "segments"); /* once: "segments: segments: ..." was seen */
        goto cleanup;
    }
    if (!st->segments.kmeans.converged)
        sgs_run_warn(st, "kmeans_not_converged",
                     "k-means stopped at segments.max_iter = %d before converging",
                     cfg->segments_kmeans.max_iter);
    rc = sgs_segment_distances(x, n, st->segments.n_dims, st->segments.centroids, st->segments.k,
                               st->segments.segment, &st->exec, st->segments.segment_distance, err);
    rc = sgs_dist_run_agree(st, rc, err);
    if (rc != SGS_OK)
        goto cleanup;
    centroids_to_original(st, pca, mean, scale, kinds);
    rc = build_profiles(st, ids, x_std, err);
    if (rc != SGS_OK)
        goto cleanup;
    st->segments.ran = 1;
    if (st->segments.n_merges > 0)
        sgs_progress_end(st->req->progress,
                         "%zu segments (k-means k = %zu by %s, %zu under %g%% of customers "
                         "merged) on %zu features, inertia %.4g",
                         st->segments.k, st->segments.k_fitted, st->segments.k_chosen_by,
                         st->segments.n_merges, 100 * cfg->segments_min_share, d,
                         st->segments.inertia);
    else
        sgs_progress_end(st->req->progress, "%zu segments (k by %s) on %zu features, inertia %.4g",
                         st->segments.k, st->segments.k_chosen_by, d, st->segments.kmeans.inertia);
cleanup:
    sgs_pca_destroy(pca);
    sgs_free(x_std);
    sgs_free(x_pca);
    return rc;
}
