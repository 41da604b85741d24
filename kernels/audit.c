/*
 * kernels/audit.c — the interaction audit's tallies (kernels/audit.h).
 */
#include "kernels/audit.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

void sgs_audit_config_default(sgs_audit_config_t *cfg)
{
    cfg->window_days[0] = 30;
    cfg->window_days[1] = 90;
}

int sgs_audit_config_check(const sgs_audit_config_t *cfg, sgs_error_t *err)
{
    if (!(cfg->window_days[0] >= 1 && cfg->window_days[0] < cfg->window_days[1] &&
          cfg->window_days[1] <= 100000))
        return sgs_error_set(err, SGS_ECONFIG,
                             "audit: windows of %d and %d days (need 1 <= short < long <= 100000)",
                             (int)cfg->window_days[0], (int)cfg->window_days[1]);
    return SGS_OK;
}

/* What a block adds: a row per group, and the untapped counts per kind; with a second
 * grouping (sgs_audit_compute_two) a row per group of it too. */
typedef struct tally {
    sgs_audit_row_t *rows;                           /* [n_groups] */
    sgs_audit_row_t *rows2;                          /* [n_groups2], or NULL: one grouping */
    int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS]; /* [SGS_OPP_KIND_COUNT] */
} tally_t;

/* What one customer's events within the windows say. */
typedef struct seen {
    int contacted[SGS_AUDIT_WINDOWS], responded[SGS_AUDIT_WINDOWS];
    unsigned via[SGS_AUDIT_WINDOWS]; /* bit c: contacted through channel c */
    double survey;                   /* the latest survey score within the longest window */
    int32_t survey_day;              /* its day, SGS_DAY_NONE when none */
} seen_t;

/* Event e, at age days before t (within the longest window), into r (and r2 unless NULL: the
 * customer's row of a second grouping) and *s. Events come newest first: a survey on the day
 * of the one held is an earlier row and does not replace it (the last row of the latest day
 * counts). */
static void see_event(const sgs_stage_input_t *in, const sgs_audit_config_t *cfg, size_t e,
                      int64_t age, sgs_audit_row_t *r, sgs_audit_row_t *r2, seen_t *s)
{
    int32_t d = in->event_day[e];
    uint8_t kind = in->event_kind[e];
    uint8_t c = in->event_channel ? in->event_channel[e] : 0;
    c = c < SGS_CHANNEL_COUNT ? c : 0;
    double v = kind == SGS_EVENT_SURVEY && in->event_value ? sgs_sparse_value(in->event_value, e)
                                                           : (double)NAN;
    if (isfinite(v) && d > s->survey_day) {
        s->survey = v;
        s->survey_day = d;
    }
    for (int w = 0; w < SGS_AUDIT_WINDOWS; w++) {
        if (age >= cfg->window_days[w])
            continue;
        switch (kind) {
        case SGS_EVENT_CAMPAIGN_CONTACT:
            r->contacts[w][c]++;
            if (r2)
                r2->contacts[w][c]++;
            s->contacted[w] = 1;
            s->via[w] |= 1u << c;
            break;
        case SGS_EVENT_CAMPAIGN_RESPONSE:
            r->responses[w][c]++;
            if (r2)
                r2->responses[w][c]++;
            s->responded[w] = 1;
            break;
        case SGS_EVENT_SUPPORT:
            r->support[w]++;
            if (r2)
                r2->support[w]++;
            break;
        case SGS_EVENT_COMPLAINT:
            r->complaints[w]++;
            if (r2)
                r2->complaints[w]++;
            break;
        default:
            break;
        }
    }
}

/* Customer i's events up to t, newest first: a customer's days ascend (kernels/stages.h), so
 * the walk stops at the first event older than the longest window instead of reading years
 * of history. */
static void see_recent_events(const sgs_stage_input_t *in, int32_t t, const sgs_audit_config_t *cfg,
                              size_t i, sgs_audit_row_t *r, sgs_audit_row_t *r2, seen_t *s)
{
    const int64_t longest = cfg->window_days[SGS_AUDIT_WINDOWS - 1];
    for (size_t e = in->event_offset[i + 1]; e-- > in->event_offset[i];) {
        int32_t d = in->event_day[e];
        if (d > t)
            continue;
        int64_t age = (int64_t)t - d; /* 0 on the as-of day */
        if (age >= longest)
            break;
        see_event(in, cfg, e, age, r, r2, s);
    }
}

/* The twin's walk: every event of customer i in row order, none assumed about their order,
 * each rule restated rather than shared with the kernel's see_event. */
static void see_every_event(const sgs_stage_input_t *in, int32_t t, const sgs_audit_config_t *cfg,
                            size_t i, sgs_audit_row_t *r, seen_t *s)
{
    for (size_t e = in->event_offset[i]; e < in->event_offset[i + 1]; e++) {
        int32_t d = in->event_day[e];
        if (d > t)
            continue;
        int64_t age = (int64_t)t - d;
        uint8_t kind = in->event_kind[e];
        uint8_t c = in->event_channel && in->event_channel[e] < SGS_CHANNEL_COUNT
                        ? in->event_channel[e]
                        : 0;
        double v = kind == SGS_EVENT_SURVEY && age < cfg->window_days[SGS_AUDIT_WINDOWS - 1] &&
                           in->event_value
                       ? sgs_sparse_value(in->event_value, e)
                       : (double)NAN;
        if (isfinite(v) && d >= s->survey_day) {
            s->survey = v;
            s->survey_day = d;
        }
        for (int w = 0; w < SGS_AUDIT_WINDOWS; w++) {
            if (age >= cfg->window_days[w])
                continue;
            if (kind == SGS_EVENT_CAMPAIGN_CONTACT) {
                r->contacts[w][c]++;
                s->contacted[w] = 1;
                s->via[w] |= 1u << c;
            } else if (kind == SGS_EVENT_CAMPAIGN_RESPONSE) {
                r->responses[w][c]++;
                s->responded[w] = 1;
            } else if (kind == SGS_EVENT_SUPPORT) {
                r->support[w]++;
            } else if (kind == SGS_EVENT_COMPLAINT) {
                r->complaints[w]++;
            }
        }
    }
}

/* What customer i's walk saw, into its group's row r. */
static void add_seen(const seen_t *s, uint16_t kinds, sgs_audit_row_t *r)
{
    r->customers++;
    r->with_opportunity += kinds != 0;
    for (int w = 0; w < SGS_AUDIT_WINDOWS; w++) {
        r->contacted[w] += s->contacted[w];
        for (unsigned via = s->via[w]; via; via &= via - 1) /* the channels contacted through */
            r->contacted_via[w][__builtin_ctz(via)]++;
        r->responders[w] += s->responded[w];
        r->untapped[w] += kinds && !s->contacted[w];
    }
    if (s->survey_day != SGS_DAY_NONE) {
        r->surveyed++;
        r->survey_sum += s->survey;
    }
}

/* Add customer i to row r (and to r2 unless NULL) and its untapped kinds to the tally: its
 * events through the kernel's walk, or the twin's (ref, one grouping only). */
static void add_customer(const sgs_stage_input_t *in, int32_t t, const sgs_audit_config_t *cfg,
                         size_t i, uint16_t fired, int ref, sgs_audit_row_t *r, sgs_audit_row_t *r2,
                         tally_t *tally)
{
    seen_t s = {.survey = (double)NAN, .survey_day = SGS_DAY_NONE};
    if (in->event_offset) {
        if (ref)
            see_every_event(in, t, cfg, i, r, &s);
        else
            see_recent_events(in, t, cfg, i, r, r2, &s);
    }
    const uint16_t kinds = (uint16_t)(fired & 0x3FEu);
    add_seen(&s, kinds, r);
    if (r2)
        add_seen(&s, kinds, r2);
    for (int w = 0; w < SGS_AUDIT_WINDOWS; w++)
        if (kinds && !s.contacted[w])
            for (int k = 1; k < SGS_OPP_KIND_COUNT; k++)
                tally->untapped_per_kind[k][w] += (kinds >> k) & 1u;
}

static void row_add(sgs_audit_row_t *to, const sgs_audit_row_t *from)
{
    to->customers += from->customers;
    to->with_opportunity += from->with_opportunity;
    for (int w = 0; w < SGS_AUDIT_WINDOWS; w++) {
        to->contacted[w] += from->contacted[w];
        to->responders[w] += from->responders[w];
        to->support[w] += from->support[w];
        to->complaints[w] += from->complaints[w];
        to->untapped[w] += from->untapped[w];
        for (int c = 0; c < SGS_CHANNEL_COUNT; c++) {
            to->contacts[w][c] += from->contacts[w][c];
            to->contacted_via[w][c] += from->contacted_via[w][c];
            to->responses[w][c] += from->responses[w][c];
        }
    }
    to->surveyed += from->surveyed;
    to->survey_sum += from->survey_sum;
}

/* Customers lo..hi-1 into *tally (rows zeroed by the caller). @return the first customer
 * whose group is out of range, or hi. */
static size_t tally_range(const sgs_stage_input_t *in, int32_t t, const sgs_audit_config_t *cfg,
                          const uint8_t *group, size_t n_groups, const uint16_t *fired, size_t lo,
                          size_t hi, int ref, tally_t *tally)
{
    for (size_t i = lo; i < hi; i++) {
        if (group[i] >= n_groups)
            return i;
        add_customer(in, t, cfg, i, fired ? fired[i] : 0, ref, &tally->rows[group[i]], NULL, tally);
    }
    return hi;
}

static int check_args(const sgs_stage_input_t *in, const sgs_audit_config_t *cfg,
                      const uint8_t *group, const sgs_audit_row_t *rows, sgs_error_t *err)
{
    int rc = sgs_audit_config_check(cfg, err);
    if (rc)
        return rc;
    if (!in || !rows || (in->n > 0 && !group) ||
        (in->event_offset && (!in->event_day || !in->event_kind)))
        return sgs_error_set(err, SGS_EINVAL, "audit: a required array is NULL");
    return SGS_OK;
}

static int bad_group(const sgs_stage_input_t *in, const uint8_t *group, size_t i, size_t n_groups,
                     sgs_error_t *err)
{
    return sgs_error_set(err, SGS_EDATA, "audit: customer %lld has group %u, outside 0..%zu",
                         in->customer_id ? (long long)in->customer_id[i] : (long long)i,
                         (unsigned)group[i], n_groups - 1);
}

void sgs_audit_add_blocks(const sgs_audit_row_t *block_rows, const sgs_audit_block_kinds_t *kinds,
                          size_t n_blocks, size_t n_groups, sgs_audit_row_t *rows,
                          int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS])
{
    for (size_t b = 0; b < n_blocks; b++) {
        for (size_t g = 0; g < n_groups; g++) {
            row_add(&rows[g], &block_rows[b * n_groups + g]);
            row_add(&rows[n_groups], &block_rows[b * n_groups + g]);
        }
        for (int k = 0; untapped_per_kind && k < SGS_OPP_KIND_COUNT; k++)
            for (int w = 0; w < SGS_AUDIT_WINDOWS; w++)
                untapped_per_kind[k][w] += kinds[b].untapped[k][w];
    }
}

/* The sums of the blocks' tallies, added in block order from zero. */
static void combine(const sgs_audit_row_t *block_rows, const sgs_audit_block_kinds_t *kinds,
                    size_t n_blocks, size_t n_groups, sgs_audit_row_t *rows,
                    int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS])
{
    memset(rows, 0, (n_groups + 1) * sizeof *rows);
    if (untapped_per_kind)
        memset(untapped_per_kind, 0, SGS_OPP_KIND_COUNT * sizeof *untapped_per_kind);
    sgs_audit_add_blocks(block_rows, kinds, n_blocks, n_groups, rows, untapped_per_kind);
}

size_t sgs_audit_block_count(size_t n, size_t head)
{
    size_t first = head < n ? head : n;
    return n == 0 ? 0 : 1 + sgs_block_count(n - first, SGS_BLOCK_ROWS);
}

int sgs_audit_block_tallies(const sgs_stage_input_t *in, int32_t as_of_day,
                            const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                            const uint16_t *fired, const sgs_exec_t *exec, size_t head,
                            sgs_audit_row_t *block_rows, sgs_audit_block_kinds_t *kinds,
                            sgs_error_t *err)
{
    int rc = check_args(in, cfg, group, block_rows, err);
    if (rc)
        return rc;
    if (head == 0 || head > SGS_BLOCK_ROWS)
        return sgs_error_set(err, SGS_EINVAL, "audit: a first block of %zu customers", head);
    const size_t n = in->n, n_blocks = sgs_audit_block_count(n, head);
    size_t *stopped = sgs_alloc_array(n_blocks ? n_blocks : 1, sizeof *stopped);
    if (!stopped)
        return sgs_error_set(err, SGS_ENOMEM, "audit: out of memory for %zu blocks", n_blocks);
    memset(block_rows, 0, n_blocks * n_groups * sizeof *block_rows);
    memset(kinds, 0, n_blocks * sizeof *kinds);
    const int n_threads = sgs_exec_threads_for(exec, n);
    const long nb = (long)n_blocks;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (long b = 0; b < nb; b++) {
        size_t lo = b == 0 ? 0 : head + (size_t)(b - 1) * SGS_BLOCK_ROWS;
        size_t end = b == 0 ? head : lo + SGS_BLOCK_ROWS;
        size_t hi = end < n ? end : n;
        tally_t part = {block_rows + (size_t)b * n_groups, NULL, kinds[b].untapped};
        size_t at = tally_range(in, as_of_day, cfg, group, n_groups, fired, lo, hi, 0, &part);
        stopped[b] = at < hi ? at : SIZE_MAX;
    }
    for (size_t b = 0; b < n_blocks && rc == SGS_OK; b++)
        if (stopped[b] != SIZE_MAX)
            rc = bad_group(in, group, stopped[b], n_groups, err);
    sgs_free(stopped);
    return rc;
}

void sgs_audit_tally_more(const sgs_stage_input_t *in, int32_t as_of_day,
                          const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                          const uint16_t *fired, size_t lo, size_t hi, sgs_audit_row_t *rows)
{
    sgs_audit_block_kinds_t kinds; /* not asked for */
    memset(&kinds, 0, sizeof kinds);
    tally_t part = {rows, NULL, kinds.untapped};
    size_t at = tally_range(in, as_of_day, cfg, group, n_groups, fired, lo, hi, 0, &part);
    assert(at == hi); /* the labels were checked by sgs_audit_block_tallies */
    (void)at;
}

int sgs_audit_compute(const sgs_stage_input_t *in, int32_t as_of_day, const sgs_audit_config_t *cfg,
                      const uint8_t *group, size_t n_groups, const uint16_t *fired,
                      const sgs_exec_t *exec, sgs_audit_row_t *rows,
                      int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS], sgs_error_t *err)
{
    int rc = check_args(in, cfg, group, rows, err);
    if (rc)
        return rc;
    const size_t n_blocks = sgs_audit_block_count(in->n, SGS_BLOCK_ROWS);
    const size_t nb1 = n_blocks ? n_blocks : 1;
    sgs_audit_block_kinds_t *kinds = sgs_alloc_array(nb1, sizeof *kinds);
    sgs_audit_row_t *block_rows =
        sgs_alloc_array(nb1 * (n_groups ? n_groups : 1), sizeof *block_rows);
    if (!kinds || !block_rows) {
        rc = sgs_error_set(err, SGS_ENOMEM, "audit: out of memory for %zu blocks", n_blocks);
        goto cleanup;
    }
    rc = sgs_audit_block_tallies(in, as_of_day, cfg, group, n_groups, fired, exec, SGS_BLOCK_ROWS,
                                 block_rows, kinds, err);
    if (rc == SGS_OK)
        combine(block_rows, kinds, n_blocks, n_groups, rows, untapped_per_kind);
cleanup:
    sgs_free(kinds);
    sgs_free(block_rows);
    return rc;
}

/* Customers lo..hi-1 into *tally by both groupings (rows zeroed by the caller). @return 0, or
 * 1 at the first customer with a label out of range (the caller finds which). */
static int tally_range_two(const sgs_stage_input_t *in, int32_t t, const sgs_audit_config_t *cfg,
                           const uint8_t *group, size_t n_groups, const uint8_t *group2,
                           size_t n_groups2, const uint16_t *fired, size_t lo, size_t hi,
                           tally_t *tally)
{
    for (size_t i = lo; i < hi; i++) {
        if (group[i] >= n_groups || group2[i] >= n_groups2)
            return 1;
        add_customer(in, t, cfg, i, fired ? fired[i] : 0, 0, &tally->rows[group[i]],
                     &tally->rows2[group2[i]], tally);
    }
    return 0;
}

/* The first customer whose label is out of range, or in->n. */
static size_t first_bad_group(const sgs_stage_input_t *in, const uint8_t *group, size_t n_groups)
{
    for (size_t i = 0; i < in->n; i++)
        if (group[i] >= n_groups)
            return i;
    return in->n;
}

int sgs_audit_compute_two(const sgs_stage_input_t *in, int32_t as_of_day,
                          const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                          const uint8_t *group2, size_t n_groups2, const uint16_t *fired,
                          const sgs_exec_t *exec, sgs_audit_row_t *rows, sgs_audit_row_t *rows2,
                          int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS], sgs_error_t *err)
{
    int rc = check_args(in, cfg, group, rows, err);
    if (rc == SGS_OK)
        rc = check_args(in, cfg, group2, rows2, err);
    if (rc)
        return rc;
    const size_t n = in->n, n_blocks = sgs_audit_block_count(n, SGS_BLOCK_ROWS);
    const size_t nb1 = n_blocks ? n_blocks : 1;
    sgs_audit_block_kinds_t *kinds = sgs_alloc_array(nb1, sizeof *kinds);
    sgs_audit_row_t *block_rows = sgs_alloc_array(nb1 * (n_groups ? n_groups : 1), sizeof(*rows));
    sgs_audit_row_t *block_rows2 =
        sgs_alloc_array(nb1 * (n_groups2 ? n_groups2 : 1), sizeof(*rows2));
    uint8_t *stopped = sgs_calloc_array(nb1, 1);
    if (!kinds || !block_rows || !block_rows2 || !stopped) {
        rc = sgs_error_set(err, SGS_ENOMEM, "audit: out of memory for %zu blocks", n_blocks);
        goto cleanup;
    }
    memset(block_rows, 0, n_blocks * n_groups * sizeof *block_rows);
    memset(block_rows2, 0, n_blocks * n_groups2 * sizeof *block_rows2);
    memset(kinds, 0, n_blocks * sizeof *kinds);
    const long nb = (long)n_blocks;
#pragma omp parallel for num_threads(sgs_exec_threads_for(exec, n)) schedule(dynamic, 1)
    for (long b = 0; b < nb; b++) {
        size_t lo = (size_t)b * SGS_BLOCK_ROWS;
        size_t hi = lo + SGS_BLOCK_ROWS < n ? lo + SGS_BLOCK_ROWS : n;
        tally_t part = {block_rows + (size_t)b * n_groups, block_rows2 + (size_t)b * n_groups2,
                        kinds[b].untapped};
        stopped[b] = (uint8_t)tally_range_two(in, as_of_day, cfg, group, n_groups, group2,
                                              n_groups2, fired, lo, hi, &part);
    }
    int bad = 0;
    for (size_t b = 0; b < n_blocks; b++)
        bad |= stopped[b];
    if (bad) {
        /* the error of the first grouping's call first, as two calls would report it */
        size_t at = first_bad_group(in, group, n_groups);
        rc = at < n ? bad_group(in, group, at, n_groups, err)
                    : bad_group(in, group2, first_bad_group(in, group2, n_groups2), n_groups2, err);
        goto cleanup;
    }
    combine(block_rows, kinds, n_blocks, n_groups, rows, untapped_per_kind);
    combine(block_rows2, kinds, n_blocks, n_groups2, rows2, NULL);

cleanup:
    sgs_free(kinds);
    sgs_free(block_rows);
    sgs_free(block_rows2);
    sgs_free(stopped);
    return rc;
}

int sgs_audit_compute_ref(const sgs_stage_input_t *in, int32_t as_of_day,
                          const sgs_audit_config_t *cfg, const uint8_t *group, size_t n_groups,
                          const uint16_t *fired, sgs_audit_row_t *rows,
                          int64_t (*untapped_per_kind)[SGS_AUDIT_WINDOWS], sgs_error_t *err)
{
    int rc = check_args(in, cfg, group, rows, err);
    if (rc)
        return rc;
    sgs_audit_row_t *one = sgs_calloc_array(n_groups + 1, sizeof *one);
    if (!one)
        return sgs_error_set(err, SGS_ENOMEM, "audit: out of memory");
    sgs_audit_block_kinds_t kinds;
    memset(&kinds, 0, sizeof kinds);
    tally_t tally = {one, NULL, kinds.untapped};
    size_t stop = tally_range(in, as_of_day, cfg, group, n_groups, fired, 0, in->n, 1, &tally);
    if (stop < in->n)
        rc = bad_group(in, group, stop, n_groups, err);
    else
        combine(one, &kinds, 1, n_groups, rows, untapped_per_kind);
    sgs_free(one);
    return rc;
}
