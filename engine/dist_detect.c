/*
 * engine/dist_detect.c — opportunity detection over processes (engine/dist_detect.h).
 */
#include "engine/dist_detect.h"

#include "engine/dist_segments.h"
#include "engine/dist_select.h"
#include "kernels/order_keys.h"

#include <math.h>
#include <string.h>

/* The nearest-rank quantile q (kernels/order_stats.h) of the finite values of every process:
 * the value of 1-based rank ceil(q m), at least 1, at most m, among all m of them; NaN when
 * m is 0. keys: scratch of n. */
static double quantile_over(const sgs_dist_t *d, const double *v, size_t n, double q,
                            uint64_t *keys)
{
    size_t mine = sgs_order_keys_sorted(v, NULL, n, keys);
    int64_t m = (int64_t)mine;
    sgs_dist_reduce_i64(d, &m, 1, SGS_DIST_SUM);
    if (m == 0)
        return (double)NAN;
    double r = ceil(q * (double)m);
    uint64_t rank = r < 1.0 ? 0 : (r > (double)m ? (uint64_t)m - 1 : (uint64_t)r - 1), key;
    sgs_dist_select_keys(d, keys, mine, &rank, 1, &key);
    return sgs_order_key_value(key);
}

/* The first customer whose segment label is not below the customer count of every process:
 * the single-process check. */
static int check_labels(const sgs_dist_t *d, const sgs_opportunity_input_t *in, int32_t *n_segments,
                        sgs_error_t *err)
{
    const sgs_stage_input_t *cu = in->customers;
    int64_t sizes[2] = {(int64_t)cu->n, -1}; /* customers, largest label */
    sgs_dist_reduce_i64(d, sizes, 1, SGS_DIST_SUM);
    int rc = SGS_OK;
    for (size_t i = 0; cu->segment && i < cu->n; i++) {
        if ((int64_t)cu->segment[i] >= sizes[0]) {
            rc = sgs_error_set(err, SGS_EDATA,
                               "customer_id %lld: segment label %d is not below the customer "
                               "count %lld",
                               (long long)cu->customer_id[i], (int)cu->segment[i],
                               (long long)sizes[0]);
            break;
        }
        if (cu->segment[i] > sizes[1])
            sizes[1] = cu->segment[i];
    }
    rc = sgs_dist_agree(d, rc, err);
    sgs_dist_reduce_i64(d, sizes + 1, 1, SGS_DIST_MAX);
    *n_segments = (int32_t)(sizes[1] + 1);
    return rc;
}

/* The optional columns that decide which collective calls are made, as bits. */
enum { HAS_CLV = 1, HAS_SEGMENT = 2, HAS_REFERRALS = 4, ALL_COLUMNS = 7 };

/* Every process must make the same collective calls: the optional columns present on the
 * processes that hold customers (one without any may pass NULL columns) and whether the
 * counts over all are wanted must agree. *present gets the agreed columns. */
static int agree_columns(const sgs_dist_t *d, const sgs_opportunity_input_t *in, int want_whole,
                         int *present, sgs_error_t *err)
{
    const sgs_stage_input_t *cu = in->customers;
    int64_t mine = (cu->clv ? HAS_CLV : 0) | (cu->segment ? HAS_SEGMENT : 0) |
                   (in->network_value && in->n_direct_referrals ? HAS_REFERRALS : 0);
    /* [columns, whole wanted]: a process without customers takes no part in the columns */
    int64_t low[2] = {cu->n ? mine : ALL_COLUMNS, want_whole != 0},
            high[2] = {cu->n ? mine : 0, want_whole != 0};
    sgs_dist_reduce_i64(d, low, 2, SGS_DIST_MIN);
    sgs_dist_reduce_i64(d, high, 2, SGS_DIST_MAX);
    int nobody = low[0] == ALL_COLUMNS && high[0] == 0; /* no process holds customers */
    *present = nobody ? 0 : (int)high[0];
    if ((!nobody && low[0] != high[0]) || low[1] != high[1])
        return sgs_error_set(err, SGS_EINVAL,
                             "opportunities: the processes disagree on the columns present "
                             "(CLV, segments, referrals) or on the counts wanted");
    return SGS_OK;
}

/* The thresholds of sgs_opportunities_detect over every process into *st, for the columns
 * present (agree_columns). */
static int thresholds(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                      const sgs_opportunity_config_t *cfg, const sgs_exec_t *exec, int present,
                      int32_t n_segments, sgs_opportunity_stats_t *st, sgs_error_t *err)
{
    const sgs_stage_input_t *cu = in->customers;
    const size_t n = cu->n, m = n ? n : 1;
    double *column = sgs_alloc_array(m, sizeof *column);
    uint64_t *keys = sgs_alloc_array(m, sizeof *keys);
    int rc = column && keys ? SGS_OK
                            : sgs_error_set(err, SGS_ENOMEM,
                                            "opportunities: out of memory for %zu customers", n);
    if (rc == SGS_OK && (present & HAS_CLV)) {
        st->n_segments = n_segments;
        st->segment_clv_median =
            sgs_alloc_array(n_segments ? (size_t)n_segments : 1, sizeof *st->segment_clv_median);
        if (!st->segment_clv_median)
            rc = sgs_error_set(err, SGS_ENOMEM, "opportunities: out of memory for segments");
    }
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK && (present & HAS_CLV)) {
        sgs_opportunity_threshold_columns(in, cfg, exec, column, NULL, NULL);
        double q = quantile_over(d, column, n, cfg->save_clv_quantile, keys);
        st->save_clv_threshold = isfinite(q) ? fmax(q, cfg->save_min_clv) : (double)NAN;
        sgs_opportunity_threshold_columns(in, cfg, exec, NULL, column, NULL);
        rc = sgs_dist_group_medians(d, n, column, cu->segment, n_segments, st->segment_clv_median,
                                    &st->global_clv_median, err);
    }
    if (rc == SGS_OK && (present & HAS_REFERRALS)) {
        sgs_opportunity_threshold_columns(in, cfg, exec, NULL, NULL, column);
        double q = quantile_over(d, column, n, cfg->advocate_value_quantile, keys);
        st->advocate_value_threshold = isfinite(q) ? fmax(q, cfg->advocate_min_value) : (double)NAN;
    }
    sgs_free(column);
    sgs_free(keys);
    return rc;
}

int sgs_dist_opportunities_detect(const sgs_dist_t *d, const sgs_opportunity_input_t *in,
                                  const sgs_opportunity_config_t *cfg, const sgs_exec_t *exec,
                                  uint16_t *fired, sgs_opportunity_stats_t *stats,
                                  sgs_dist_detect_counts_t *whole, sgs_error_t *err)
{
    memset(stats, 0, sizeof *stats);
    stats->save_clv_threshold = stats->advocate_value_threshold = stats->global_clv_median =
        (double)NAN;
    /* the kernel's checks first, agreed, so that no process selects alone */
    int rc = sgs_dist_agree(d, sgs_opportunities_detect_check(in, cfg, fired, err), err);
    int present = 0;
    if (rc == SGS_OK)
        rc = sgs_dist_agree(d, agree_columns(d, in, whole != NULL, &present, err), err);
    int32_t n_segments = 0;
    if (rc == SGS_OK)
        rc = check_labels(d, in, &n_segments, err);
    if (rc == SGS_OK)
        rc = thresholds(d, in, cfg, exec, present, n_segments, stats, err);
    if (rc == SGS_OK)
        rc = sgs_dist_agree(d, sgs_opportunities_detect_given(in, cfg, exec, fired, stats, err),
                            err);
    if (rc == SGS_OK && whole) {
        int64_t counts[SGS_OPP_KIND_COUNT + 2];
        memcpy(counts, stats->n_fired, sizeof stats->n_fired);
        counts[SGS_OPP_KIND_COUNT] = stats->n_customers;
        counts[SGS_OPP_KIND_COUNT + 1] = stats->n_candidates;
        sgs_dist_reduce_i64(d, counts, SGS_OPP_KIND_COUNT + 2, SGS_DIST_SUM);
        memcpy(whole->n_fired, counts, sizeof whole->n_fired);
        whole->n_customers = counts[SGS_OPP_KIND_COUNT];
        whole->n_candidates = counts[SGS_OPP_KIND_COUNT + 1];
    }
    return rc;
}
