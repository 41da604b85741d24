/*
 * engine/opportunity_reason.c — the reason of an opportunity in words (see
 * opportunity_reason.h).
 */
#include "engine/opportunity_reason.h"

#include "io/text_format.h"
#include "kernels/dates.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The reasons are written for every listed row (millions at 10M customers), so the common
 * ones are put together piece by piece instead of by snprintf, whose %f was most of the time
 * of opportunities.csv; each piece gives the characters snprintf gives (sgs_fmt_fixed_exact),
 * and tests/unit/test_opportunity_reason.c compares the two for every kind. */

/* Longest text the pieces can give: a reason has at most six numbers (each at most
 * SGS_FMT_FIXED_EXACT_MAX characters) and 200 characters of words. */
#define TEXT_MAX (8 * SGS_FMT_FIXED_EXACT_MAX)

static char *put(char *p, const char *s)
{
    size_t len = strlen(s);
    memcpy(p, s, len);
    return p + len;
}

static char *put_int(char *p, long long v)
{
    return p + sgs_fmt_int(p, v);
}

static char *put_fixed(char *p, double v, int decimals)
{
    return p + sgs_fmt_fixed_exact(p, v, decimals);
}

/* "%04lld-%02u-%02u" of a day (sgs_date_format_day). */
static char *put_day(char *p, int64_t day)
{
    int64_t y;
    unsigned m, d;
    sgs_civil_from_days(day, &y, &m, &d);
    if (y >= 0 && y <= 9999)
        return p + sgs_fmt_date(p, day);
    char buf[64];
    sgs_date_format_day(day, buf, sizeof buf);
    return put(p, buf);
}

/* "%.2f" of a probability, or "unknown"; at most 15 characters, as the 16-byte buffer it
 * was printed into held (only a value far outside 0..1 is that long). */
static char *put_p(char *p, double v)
{
    if (!isfinite(v))
        return put(p, "unknown");
    char buf[SGS_FMT_FIXED_EXACT_MAX];
    size_t len = sgs_fmt_fixed_exact(buf, v, 2);
    len = len < 15 ? len : 15;
    memcpy(p, buf, len);
    return p + len;
}

/* "N days since last purchase (cycle C", C with one decimal: the start every lapse and risk
 * reason shares. */
static char *put_since_last(char *p, long long since_last, double cycle)
{
    p = put_int(p, since_last);
    p = put(p, " days since last purchase (cycle ");
    return put_fixed(p, cycle, 1);
}

/* Copy text[0..len) into buf as snprintf would (at most size - 1 characters and a NUL);
 * returns len. */
static int finish(const char *text, size_t len, char *buf, size_t size)
{
    if (size > 0) {
        size_t copy = len < size - 1 ? len : size - 1;
        memcpy(buf, text, copy);
        buf[copy] = '\0';
    }
    return (int)len;
}

/* The reasons worded with %g (rare kinds), by snprintf. */
static int reason_printf(const sgs_opportunity_facts_t *f, const sgs_opportunity_config_t *cfg,
                         char *buf, size_t size)
{
    const int32_t t = f->as_of_day;
    const double clv = f->clv;
    char day[64];
    switch (f->kind) {
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
    default:
        return snprintf(buf, size, "unknown opportunity kind %d", f->kind);
    }
}

int sgs_opportunity_reason_text(const sgs_opportunity_facts_t *f,
                                const sgs_opportunity_config_t *cfg, char *buf, size_t size)
{
    const int32_t t = f->as_of_day;
    const double cycle = f->cycle_days, overdue = f->days_overdue, clv = f->clv;
    const long long since_last = (long long)f->days_since_last;
    char text[TEXT_MAX], *p = text;
    switch (f->kind) {
    case SGS_OPP_SERVICE_RECOVERY:
        p = put_int(p, (long long)(int)(f->n_support + f->n_complaints));
        p = put(p, " support contacts/complaints in the last ");
        p = put_int(p, (int)cfg->service_window_days);
        p = put(p, " days (");
        p = put_int(p, (int)f->n_support);
        p = put(p, " support; ");
        p = put_int(p, (int)f->n_complaints);
        p = put(p, " complaints; threshold ");
        p = put_int(p, (int)cfg->service_min_contacts);
        p = put(p, ")");
        break;
    case SGS_OPP_RENEWAL_AT_RISK:
        if (f->event_day == SGS_DAY_NONE) {
            p = put(p, "no renewal due");
            break;
        }
        p = put(p, "renewal due ");
        p = put_day(p, f->event_day);
        p = put(p, " (");
        p = put_int(p, (long long)t - f->event_day);
        p = put(p, " days ago) not renewed within the ");
        p = put_int(p, (int)cfg->renewal_grace_days);
        p = put(p, "-day grace period");
        break;
    case SGS_OPP_WIN_BACK:
        if (f->stage_then >= 0) {
            p = put(p, "lapsed since ");
            p = put_day(p, f->compare_day);
            p = put(p, " (then ");
            p = put(p, sgs_stage_name(f->stage_then));
            p = put(p, "); ");
            p = put_since_last(p, since_last, cycle);
            p = put(p, " days); p_buy ");
            p = put_p(p, f->p_buy);
        } else if (isfinite(f->p_buy)) {
            p = put(p, "lapsed: p_buy ");
            p = put_p(p, f->p_buy);
            p = put(p, " (below ");
            p = put_fixed(p, f->lapsed_p_buy, 2);
            p = put(p, "); ");
            p = put_since_last(p, since_last, cycle);
            p = put(p, " days); worth ");
            p = put_fixed(p, f->value_if_back, 2);
            p = put(p, " if they buy again");
        } else {
            p = put(p, "lapsed: ");
            p = put_since_last(p, since_last, cycle);
            p = put(p, " days; lapse after ");
            p = put_fixed(p, f->lapse_overdue_days, 1);
            p = put(p, " days overdue); p_buy unknown");
        }
        break;
    case SGS_OPP_SAVE_HIGH_VALUE:
        if (!isfinite(f->p_buy)) {
            p = put(p, "at risk: ");
            p = put_since_last(p, since_last, cycle);
            p = put(p, " days; ");
            p = put_fixed(p, overdue, 1);
            p = put(p, " overdue); p_buy unknown; CLV ");
            p = put_fixed(p, clv, 2);
            p = put(p, " >= ");
            p = put_fixed(p, f->save_clv_threshold, 2);
            break;
        }
        p = put(p, "at risk: p_buy ");
        p = put_p(p, f->p_buy);
        p = put(p, " (below ");
        p = put_fixed(p, f->at_risk_p_buy, 2);
        p = put(p, "); ");
        p = put_since_last(p, since_last, cycle);
        p = put(p, " days); CLV ");
        p = put_fixed(p, clv, 2);
        p = put(p, " >= ");
        p = put_fixed(p, f->save_clv_threshold, 2);
        p = put(p, "; worth ");
        p = put_fixed(p, f->value_if_back, 2);
        p = put(p, " if they buy again");
        break;
    case SGS_OPP_OVERDUE_REMINDER:
        p = put(p, "overdue by ");
        p = put_fixed(p, overdue, 1);
        p = put(p, " days (cycle ");
        p = put_fixed(p, cycle, 1);
        p = put(p, " days; margin ");
        p = put_fixed(p, f->overdue_margin_days, 1);
        p = put(p, "); p_buy ");
        p = put_p(p, f->p_buy);
        break;
    case SGS_OPP_ONBOARDING:
        if (f->n_purchase_days == 0) {
            p = put(p, "no purchase yet");
            break;
        }
        p = put(p, "first purchase ");
        p = put_day(p, f->first_purchase_day);
        p = put(p, " (");
        p = put_int(p, (long long)t - f->first_purchase_day);
        p = put(p, " days ago); ");
        p = put_int(p, (int)f->n_purchase_days);
        p = put(p, " purchase day(s); cycle ");
        p = put_fixed(p, cycle, 1);
        p = put(p, " days");
        break;
    case SGS_OPP_ADVOCATE:
        p = put_int(p, (long long)f->n_direct_referrals);
        p = put(p, " direct and ");
        p = put_int(p, (long long)f->n_indirect_referrals);
        p = put(p, " indirect referrals brought in ");
        p = put_fixed(p, f->brought_in, 2);
        p = put(p, " (network value ");
        p = put_fixed(p, f->network_value, 2);
        p = put(p, "; threshold ");
        p = put_fixed(p, f->advocate_value_threshold, 2);
        p = put(p, ")");
        break;
    default:
        return reason_printf(f, cfg, buf, size);
    }
    return finish(text, (size_t)(p - text), buf, size);
}

int sgs_opportunity_reason(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                           const sgs_opportunity_stats_t *stats, size_t i, int kind, char *buf,
                           size_t size)
{
    /* only the facts the kind's reason shows: at 10M customers each column more is a cache
     * miss per listed row (sgs_opportunity_reason_text reads no other field) */
    sgs_opportunity_facts_t facts;
    sgs_opportunity_kind_facts(in, cfg, stats, i, kind, &facts);
    return sgs_opportunity_reason_text(&facts, cfg, buf, size);
}
