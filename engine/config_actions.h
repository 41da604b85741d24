/*
 * engine/config_actions.h — the configuration of the stage, influence and opportunity
 * steps of a run (engine/run_actions.c): one field per configuration key ("stages.*",
 * "influence.*", "actions.*"; engine/config.c has the table with defaults and ranges,
 * docs/stages.md and docs/opportunities.md document them). Plain ints, doubles and strings so that
 * the generic key table can set them; sgs_actions_kernel_config (engine/run_actions.h) turns them
 * into the kernels' rule tables (kernels/stages.h, kernels/opportunities.h, kernels/influence.h),
 * whose defaults they repeat (a unit test checks that they agree).
 */
#ifndef SGS_CONFIG_ACTIONS_H
#define SGS_CONFIG_ACTIONS_H

#define SGS_ACTIONS_KINDS 10   /* opportunity kind codes 1..9 (kernels/opportunities.h) */
#define SGS_ACTIONS_CHANNELS 8 /* channel codes 0..7 (kernels/tables.h) */

typedef struct sgs_actions_config {
    /* stages (sgs_stage_rules_t) */
    char compare_as_of[16];      /* "" or YYYY-MM-DD before the as-of day: stages there too */
    int min_purchases_own_cycle; /* purchase days for an own cycle, >= 2 */
    int segment_min_purchases;   /* purchase days to count in a segment's median cycle */
    double default_cycle_days;   /* cycle when nobody has enough history, days */
    double new_cycles;           /* new while the first purchase is <= this many cycles ago */
    double at_risk_overdue_cycles;
    double at_risk_p_buy;
    double lapsed_overdue_cycles;
    double lapsed_p_buy;
    double reactivated_cycles;
    double loyal_rate_multiple;
    int loyal_min_purchases;
    /* influence (sgs_influence_config_t) */
    double damping; /* weight of each further generation of referrals, 0..1 */
    /* opportunities (sgs_opportunity_config_t) */
    int all_opportunities;              /* 1: every fired kind per customer */
    int enabled[SGS_ACTIONS_KINDS];     /* switch per kind code 1..9 ([0] unused) */
    int priority[SGS_ACTIONS_KINDS];    /* priority per kind code ([0] unused) */
    int service_min_contacts;           /* support contacts + complaints */
    int service_window_days;            /* window ending on the as-of day */
    double service_risk;                /* share of CLV at stake */
    int renewal_grace_days;             /* days after the due date before firing */
    int renewal_early_days;             /* a renewal this many days before the due counts */
    int renewal_lookback_days;          /* older due dates are ignored */
    double renewal_risk;                /* share of CLV at stake */
    int win_back_recent_days;           /* "recently lapsed" without a compare day */
    double save_clv_quantile;           /* quantile of CLV over buyers */
    double save_min_clv;                /* absolute CLV floor */
    double overdue_margin_cycles;       /* days overdue must exceed this many cycles */
    double overdue_min_p_buy;           /* still likely to buy */
    double detractor_max_score;         /* survey scores <= this are detractors */
    int detractor_window_days;          /* window ending on the as-of day */
    double detractor_risk;              /* share of CLV at stake */
    double grow_ratio;                  /* fires when CLV < this x potential */
    int advocate_min_referrals;         /* direct referrals needed */
    double advocate_value_quantile;     /* quantile of value brought in */
    double advocate_min_value;          /* absolute floor of value brought in */
    double unknown_p_buy_risk;          /* risk used when p_buy is unknown */
    int capacity[SGS_ACTIONS_CHANNELS]; /* rows per channel and day: -1 unlimited, 0 none;
                                           [0] unused */
    char spill_order[96];               /* channel names, comma-separated */
    char fallback_channel[16];          /* channel name when a customer's is unknown */
} sgs_actions_config_t;

#endif
