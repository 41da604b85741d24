/*
 * tests/unit/test_opportunity_reason.c — the reasons of opportunities.csv, put together piece
 * by piece (engine/opportunity_reason.c), are byte for byte what snprintf wrote before: a
 * plain reference twin below (the earlier code) against the fast one, for every kind, on
 * random facts of every kind of value (ties of the last decimal, NaN, infinities, negative
 * zero, huge and negative numbers, days outside 0000..9999) and with buffers too small, where
 * both must truncate alike and return the length they needed.
 *
 * Randomized: the seed is fixed (SEED); a failure prints the case number, replayed by it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/opportunity_reason.h"
#include "kernels/core.h"
#include "kernels/dates.h"
#include "kernels/opportunities.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SEED 20261206u

/* ---- The reference: the reasons as snprintf worded them -------------------------------- */

/* "0.42" or "unknown" */
static void format_p(double p, char out[16])
{
    if (isfinite(p))
        snprintf(out, 16, "%.2f", p);
    else
        snprintf(out, 16, "unknown");
}

static int reference_reason(const sgs_opportunity_facts_t *f, const sgs_opportunity_config_t *cfg,
                            char *buf, size_t size)
{
    const int32_t t = f->as_of_day;
    const double cycle = f->cycle_days, overdue = f->days_overdue, clv = f->clv;
    const long long since_last = (long long)f->days_since_last;
    char day[64], p[16];
    format_p(f->p_buy, p);
    switch (f->kind) {
    case SGS_OPP_SERVICE_RECOVERY:
        return snprintf(buf, size,
                        "%d support contacts/complaints in the last %d days (%d support; %d "
                        "complaints; threshold %d)",
                        (int)(f->n_support + f->n_complaints), (int)cfg->service_window_days,
                        (int)f->n_support, (int)f->n_complaints, (int)cfg->service_min_contacts);
    case SGS_OPP_RENEWAL_AT_RISK:
        if (f->event_day == SGS_DAY_NONE)
            return snprintf(buf, size, "no renewal due");
        sgs_date_format_day(f->event_day, day, sizeof day);
        return snprintf(buf, size,
                        "renewal due %s (%lld days ago) not renewed within the %d-day grace "
                        "period",
                        day, (long long)t - f->event_day, (int)cfg->renewal_grace_days);
    case SGS_OPP_WIN_BACK:
        if (f->stage_then >= 0) {
            sgs_date_format_day(f->compare_day, day, sizeof day);
            return snprintf(buf, size,
                            "lapsed since %s (then %s); %lld days since last purchase (cycle "
                            "%.1f days); p_buy %s",
                            day, sgs_stage_name(f->stage_then), since_last, cycle, p);
        }
        if (isfinite(f->p_buy))
            return snprintf(buf, size,
                            "lapsed: p_buy %s (below %.2f); %lld days since last purchase "
                            "(cycle %.1f days); worth %.2f if they buy again",
                            p, f->lapsed_p_buy, since_last, cycle, f->value_if_back);
        return snprintf(buf, size,
                        "lapsed: %lld days since last purchase (cycle %.1f days; lapse after "
                        "%.1f days overdue); p_buy unknown",
                        since_last, cycle, f->lapse_overdue_days);
    case SGS_OPP_SAVE_HIGH_VALUE:
        if (!isfinite(f->p_buy))
            return snprintf(buf, size,
                            "at risk: %lld days since last purchase (cycle %.1f days; %.1f "
                            "overdue); p_buy unknown; CLV %.2f >= %.2f",
                            since_last, cycle, overdue, clv, f->save_clv_threshold);
        return snprintf(buf, size,
                        "at risk: p_buy %s (below %.2f); %lld days since last purchase (cycle "
                        "%.1f days); CLV %.2f >= %.2f; worth %.2f if they buy again",
                        p, f->at_risk_p_buy, since_last, cycle, clv, f->save_clv_threshold,
                        f->value_if_back);
    case SGS_OPP_OVERDUE_REMINDER:
        return snprintf(buf, size, "overdue by %.1f days (cycle %.1f days; margin %.1f); p_buy %s",
                        overdue, cycle, f->overdue_margin_days, p);
    case SGS_OPP_ONBOARDING:
        if (f->n_purchase_days == 0)
            return snprintf(buf, size, "no purchase yet");
        sgs_date_format_day(f->first_purchase_day, day, sizeof day);
        return snprintf(buf, size,
                        "first purchase %s (%lld days ago); %d purchase day(s); cycle %.1f "
                        "days",
                        day, (long long)t - f->first_purchase_day, (int)f->n_purchase_days, cycle);
    case SGS_OPP_DETRACTOR_FOLLOW_UP:
        if (f->event_day == SGS_DAY_NONE)
            return snprintf(buf, size, "no survey answer");
        sgs_date_format_day(f->event_day, day, sizeof day);
        return snprintf(buf, size, "survey score %g on %s (%lld days ago); detractor at <= %g",
                        f->survey_score, day, (long long)t - f->event_day,
                        cfg->detractor_max_score);
    case SGS_OPP_GROW:
        if (f->potential_segment >= 0)
            return snprintf(buf, size, "CLV %.2f below %g x %.2f (median CLV of segment %d)", clv,
                            cfg->grow_ratio, f->potential, (int)f->potential_segment);
        return snprintf(buf, size, "CLV %.2f below %g x %.2f (median CLV of all customers)", clv,
                        cfg->grow_ratio, f->potential);
    case SGS_OPP_ADVOCATE:
        return snprintf(buf, size,
                        "%lld direct and %lld indirect referrals brought in %.2f (network "
                        "value %.2f; threshold %.2f)",
                        (long long)f->n_direct_referrals, (long long)f->n_indirect_referrals,
                        f->brought_in, f->network_value, f->advocate_value_threshold);
    default:
        return snprintf(buf, size, "unknown opportunity kind %d", f->kind);
    }
}

/* ---- Random facts ------------------------------------------------------------------------ */

/* A double of a kind picked by u: ordinary, a tie of 1 or 2 decimals, NaN, an infinity,
 * negative zero, huge, tiny, negative. */
static double pick_double(uint64_t stream, uint64_t n)
{
    double u = sgs_rng_uniform(SEED, stream, n), w = sgs_rng_uniform(SEED, stream + 1000, n);
    switch ((int)(u * 12)) {
    case 0:
        return (double)NAN;
    case 1:
        return w < 0.5 ? (double)INFINITY : -(double)INFINITY;
    case 2:
        return -0.0;
    case 3:
        return floor(w * 4000.0) / 8.0; /* halves, quarters and eighths: ties */
    case 4:
        return -floor(w * 4000.0) / 8.0;
    case 5:
        return w * 1e300;
    case 6:
        return w * 1e-7 - 5e-8;
    case 7:
        return floor(w * 1e6) / 200.0; /* x.xx5 */
    default:
        return (w - 0.3) * pow(10.0, 12.0 * u - 2.0);
    }
}

static int32_t pick_day(uint64_t stream, uint64_t n)
{
    double u = sgs_rng_uniform(SEED, stream, n);
    if (u < 0.1)
        return SGS_DAY_NONE;
    if (u < 0.15)
        return -800000 + (int32_t)(u * 1000); /* before year 0 */
    if (u < 0.2)
        return 3000000 + (int32_t)(u * 1000); /* after 9999 */
    return (int32_t)(sgs_rng_uniform(SEED, stream + 1, n) * 40000.0);
}

static void random_facts(uint64_t n, sgs_opportunity_facts_t *f)
{
    memset(f, 0, sizeof *f);
    f->kind = 1 + (int)(n % 9);
    f->as_of_day = 20000 + (int32_t)(n % 1000);
    f->cycle_days = pick_double(1, n);
    f->days_overdue = pick_double(2, n);
    f->clv = pick_double(3, n);
    f->p_buy = sgs_rng_uniform(SEED, 4, n) < 0.2 ? (double)NAN : pick_double(5, n);
    f->value_if_back = pick_double(6, n);
    f->n_purchase_days = sgs_rng_uniform(SEED, 7, n) < 0.2 ? 0 : (int32_t)(n % 50);
    f->first_purchase_day = pick_day(8, n);
    f->days_since_last = sgs_rng_uniform(SEED, 9, n) < 0.1 ? -1 : (int64_t)(n % 5000);
    f->n_support = (int32_t)(n % 7);
    f->n_complaints = (int32_t)(n % 3);
    f->event_day = pick_day(10, n);
    f->survey_score = pick_double(11, n);
    f->stage_then = sgs_rng_uniform(SEED, 12, n) < 0.5 ? -1 : (int)(n % 9);
    f->compare_day = pick_day(13, n);
    f->potential = pick_double(14, n);
    f->potential_segment = sgs_rng_uniform(SEED, 15, n) < 0.5 ? -1 : (int32_t)(n % 8);
    f->n_direct_referrals = (int64_t)(n % 11) - 1;
    f->n_indirect_referrals = (int64_t)(n * 7919 % 100000);
    f->brought_in = pick_double(16, n);
    f->network_value = pick_double(17, n);
    f->lapsed_p_buy = pick_double(18, n);
    f->at_risk_p_buy = pick_double(19, n);
    f->lapse_overdue_days = pick_double(20, n);
    f->overdue_margin_days = pick_double(21, n);
    f->save_clv_threshold = pick_double(22, n);
    f->advocate_value_threshold = pick_double(23, n);
}

/* ---- Tests -------------------------------------------------------------------------------- */

static void compare(const sgs_opportunity_facts_t *f, const sgs_opportunity_config_t *cfg,
                    size_t size, uint64_t n)
{
    char got[4096], want[4096];
    memset(got, 'x', sizeof got);
    memset(want, 'x', sizeof want);
    int got_len = sgs_opportunity_reason_text(f, cfg, got, size);
    int want_len = reference_reason(f, cfg, want, size);
    if (got_len != want_len || memcmp(got, want, size < sizeof got ? size + 1 : sizeof got) != 0)
        fail_msg("case %llu (kind %d, size %zu): got %d \"%.*s\", snprintf %d \"%.*s\"",
                 (unsigned long long)n, f->kind, size, got_len, (int)(size ? size - 1 : 0), got,
                 want_len, (int)(size ? size - 1 : 0), want);
}

/* Every kind, random facts, a buffer large enough for any reason. */
static void test_same_as_snprintf(void **state)
{
    (void)state;
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    sgs_opportunity_facts_t f;
    for (uint64_t n = 0; n < 200000; n++) {
        random_facts(n, &f);
        if (n % 1000 == 0)
            f.kind = (int)(n / 1000 % 13) - 1; /* unknown kinds too */
        compare(&f, &cfg, 4000, n);
    }
}

/* The reason buffer of the CSV writer and smaller ones: truncated alike, same length. */
static void test_truncated_alike(void **state)
{
    (void)state;
    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    static const size_t sizes[] = {SGS_OPPORTUNITY_REASON_MAX, 64, 17, 2, 1, 0};
    sgs_opportunity_facts_t f;
    for (uint64_t n = 0; n < 20000; n++) {
        random_facts(n, &f);
        compare(&f, &cfg, sizes[n % (sizeof sizes / sizeof sizes[0])], n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_snprintf),
        cmocka_unit_test(test_truncated_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
