/*
 * engine/opportunity_reason.c — the reason of an opportunity in words (see
 * opportunity_reason.h).
 */
#include "engine/opportunity_reason.h"

#include "kernels/dates.h"

#include <math.h>
#include <stdio.h>

/* "0.42" or "unknown" */
static void format_p(double p, char out[16])
{
    if (isfinite(p))
        snprintf(out, 16, "%.2f", p);
    else
        snprintf(out, 16, "unknown");
}

int sgs_opportunity_reason_text(const sgs_opportunity_facts_t *f,
                                const sgs_opportunity_config_t *cfg, char *buf, size_t size)
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

int sgs_opportunity_reason(const sgs_opportunity_input_t *in, const sgs_opportunity_config_t *cfg,
                           const sgs_opportunity_stats_t *stats, size_t i, int kind, char *buf,
                           size_t size)
{
    sgs_opportunity_facts_t facts;
    sgs_opportunity_facts(in, cfg, stats, i, kind, &facts);
    return sgs_opportunity_reason_text(&facts, cfg, buf, size);
}
