/*
 * tests/unit/test_run_actions_config.c — the stages.*, influence.* and actions.* keys:
 * their documented defaults are the kernels' defaults, every key reaches its kernel
 * field, channel lists parse, and bad values are configuration errors naming the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "engine/config.h"
#include "engine/run_actions.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_defaults_are_the_kernels_defaults(void **state)
{
    (void)state;
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_stage_rules_t rules, want_rules;
    sgs_opportunity_config_t opp, want_opp;
    sgs_influence_config_t infl, want_infl;
    sgs_error_t err = {0};
    assert_int_equal(sgs_actions_kernel_config(&cfg, &rules, &opp, &infl, &err), SGS_OK);
    sgs_stage_rules_default(&want_rules);
    sgs_opportunity_config_default(&want_opp);
    sgs_influence_config_default(&want_infl);
    /* The key table points into the kernels' own tables and takes their defaults
     * (engine/config_actions.h); what can still differ is the channels, which a person names
     * and the kernel reads as codes: they go through names and back here. Field by field: the
     * structs have padding. */
#define SAME(a, b, field)                                                                          \
    if ((a).field != (b).field)                                                                    \
        fail_msg("default of %s differs from the kernel's: %g vs %g", #field, (double)(a).field,   \
                 (double)(b).field);
    SAME(rules, want_rules, min_purchases_own_cycle)
    SAME(rules, want_rules, segment_min_purchases)
    SAME(rules, want_rules, default_cycle_days)
    SAME(rules, want_rules, new_cycles)
    SAME(rules, want_rules, at_risk_overdue_cycles)
    SAME(rules, want_rules, at_risk_p_buy)
    SAME(rules, want_rules, lapsed_overdue_cycles)
    SAME(rules, want_rules, lapsed_p_buy)
    SAME(rules, want_rules, reactivated_cycles)
    SAME(rules, want_rules, loyal_rate_multiple)
    SAME(rules, want_rules, loyal_min_purchases)
    for (int k = 1; k < SGS_OPP_KIND_COUNT; k++) {
        SAME(opp, want_opp, enabled[k])
        SAME(opp, want_opp, priority[k])
    }
    SAME(opp, want_opp, service_min_contacts)
    SAME(opp, want_opp, service_window_days)
    SAME(opp, want_opp, service_risk)
    SAME(opp, want_opp, renewal_grace_days)
    SAME(opp, want_opp, renewal_early_days)
    SAME(opp, want_opp, renewal_lookback_days)
    SAME(opp, want_opp, renewal_risk)
    SAME(opp, want_opp, win_back_recent_days)
    SAME(opp, want_opp, save_clv_quantile)
    SAME(opp, want_opp, save_min_clv)
    SAME(opp, want_opp, overdue_margin_cycles)
    SAME(opp, want_opp, overdue_min_p_buy)
    SAME(opp, want_opp, detractor_max_score)
    SAME(opp, want_opp, detractor_window_days)
    SAME(opp, want_opp, detractor_risk)
    SAME(opp, want_opp, grow_ratio)
    SAME(opp, want_opp, advocate_min_referrals)
    SAME(opp, want_opp, advocate_value_quantile)
    SAME(opp, want_opp, advocate_min_value)
    SAME(opp, want_opp, unknown_p_buy_risk)
    SAME(opp, want_opp, all_opportunities)
    for (int ch = 1; ch < SGS_CHANNEL_COUNT; ch++)
        SAME(opp, want_opp, channel_capacity[ch])
    for (int ch = 0; ch < SGS_CHANNEL_COUNT; ch++)
        SAME(opp, want_opp, spill_order[ch])
    SAME(opp, want_opp, fallback_channel)
    SAME(infl, want_infl, damping)
#undef SAME
    assert_string_equal(cfg.actions.compare_as_of, "");
    assert_string_equal(cfg.opportunities_csv, "");
    assert_int_equal(sgs_config_validate(&cfg, &err), SGS_OK);
}

static void test_keys_reach_the_kernels(void **state)
{
    (void)state;
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    static const char *const set[][2] = {
        {"stages.lapsed_overdue_cycles", "4.5"},
        {"stages.at_risk_p_buy", "0.4"},
        {"stages.loyal_min_purchases", "6"},
        {"stages.compare_as_of", "2024-03-31"},
        {"influence.damping", "0.25"},
        {"actions.all_opportunities", "true"},
        {"actions.grow.enabled", "false"},
        {"actions.advocate.priority", "95"},
        {"actions.service_recovery.min_contacts", "4"},
        {"actions.renewal_at_risk.lookback_days", "400"},
        {"actions.detractor_follow_up.max_score", "5"},
        {"actions.capacity.phone", "20"},
        {"actions.capacity.sms", "0"},
        {"actions.spill_order", "email, phone,mail"},
        {"actions.fallback_channel", "sms"},
    };
    sgs_error_t err = {0};
    for (size_t k = 0; k < sizeof set / sizeof set[0]; k++)
        if (sgs_config_set(&cfg, set[k][0], set[k][1], &err) != SGS_OK)
            fail_msg("%s=%s: %s", set[k][0], set[k][1], err.message);
    sgs_stage_rules_t rules;
    sgs_opportunity_config_t opp;
    sgs_influence_config_t infl;
    assert_int_equal(sgs_actions_kernel_config(&cfg, &rules, &opp, &infl, &err), SGS_OK);
    sgs_assert_close(rules.lapsed_overdue_cycles, 4.5, 0, 0);
    sgs_assert_close(rules.at_risk_p_buy, 0.4, 0, 0);
    assert_int_equal(rules.loyal_min_purchases, 6);
    sgs_assert_close(infl.damping, 0.25, 0, 0);
    assert_int_equal(opp.all_opportunities, 1);
    assert_int_equal(opp.enabled[SGS_OPP_GROW], 0);
    assert_int_equal(opp.enabled[SGS_OPP_ONBOARDING], 1);
    assert_int_equal(opp.priority[SGS_OPP_ADVOCATE], 95);
    assert_int_equal(opp.service_min_contacts, 4);
    assert_int_equal(opp.renewal_lookback_days, 400);
    sgs_assert_close(opp.detractor_max_score, 5.0, 0, 0);
    assert_int_equal(opp.channel_capacity[SGS_CHANNEL_PHONE], 20);
    assert_int_equal(opp.channel_capacity[SGS_CHANNEL_SMS], 0);
    assert_int_equal(opp.channel_capacity[SGS_CHANNEL_EMAIL], -1);
    static const uint8_t order[SGS_CHANNEL_COUNT] = {SGS_CHANNEL_EMAIL, SGS_CHANNEL_PHONE,
                                                     SGS_CHANNEL_MAIL, 0};
    assert_memory_equal(opp.spill_order, order, SGS_CHANNEL_COUNT);
    assert_int_equal(opp.fallback_channel, SGS_CHANNEL_SMS);
    assert_string_equal(cfg.actions.compare_as_of, "2024-03-31");

    /* the keys go into the effective configuration and come back from a file */
    char *json = sgs_config_to_json(&cfg, 1);
    assert_non_null(json);
    sgs_assert_contains(json, "\"capacity\":{\"store\":-1,\"web\":-1,\"app\":-1,\"phone\":20");
    char dir[256], path[512];
    sgs_test_tmpdir("actions-config", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
    sgs_free(json);
    sgs_config_t back;
    sgs_config_defaults(&back);
    assert_int_equal(sgs_config_load_file(&back, path, &err), SGS_OK);
    assert_memory_equal(&cfg, &back, sizeof cfg);
    sgs_test_rmdir(dir);
}

static void test_channel_lists(void **state)
{
    (void)state;
    uint8_t codes[SGS_CHANNEL_COUNT];
    sgs_error_t err = {0};
    assert_int_equal(sgs_actions_parse_channels("", codes, &err), SGS_OK);
    assert_int_equal(codes[0], 0);
    assert_int_equal(sgs_actions_parse_channels("store,web,app,phone,email,sms,mail", codes, &err),
                     SGS_OK);
    for (int k = 0; k < 7; k++)
        assert_int_equal(codes[k], k + 1);
    assert_int_equal(codes[7], 0);
    assert_int_equal(sgs_actions_parse_channels("phone,fax", codes, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "\"fax\"");
    assert_int_equal(sgs_actions_parse_channels("phone,sms,phone", codes, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "phone is listed twice");
    assert_int_equal(sgs_actions_parse_channels("phone,,sms", codes, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "\"\" is not a channel");
}

/* Each bad setting is refused with SGS_ECONFIG and a message naming what is wrong. */
static void test_bad_values_are_configuration_errors(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value, *message;
        int at_set; /* refused by the key table itself (range), else by validation */
    } cases[] = {
        {"stages.at_risk_p_buy", "1.5", "stages.at_risk_p_buy", 1},
        {"stages.min_purchases_own_cycle", "1", "stages.min_purchases_own_cycle", 1},
        {"stages.lapsed_overdue_cycles", "0.5", "lapsed_overdue_cycles", 0},
        {"stages.lapsed_p_buy", "0.6", "lapsed_p_buy", 0},
        {"stages.compare_as_of", "2024-02-30", "stages.compare_as_of", 1},
        {"influence.damping", "1.5", "influence.damping", 1},
        {"actions.capacity.phone", "-2", "actions.capacity.phone", 1},
        {"actions.service_recovery.window_days", "0", "window_days", 1},
        {"actions.fallback_channel", "fax", "actions.fallback_channel", 1},
        {"actions.spill_order", "phone,pigeon", "pigeon", 0},
        {"actions.save_high_value.clv_quantile", "1.2", "clv_quantile", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sgs_config_t cfg;
        sgs_config_defaults(&cfg);
        sgs_error_t err = {0};
        int rc = sgs_config_set(&cfg, cases[k].key, cases[k].value, &err);
        if (rc == SGS_OK && !cases[k].at_set)
            rc = sgs_config_validate(&cfg, &err);
        if (rc != SGS_ECONFIG || !strstr(err.message, cases[k].message))
            fail_msg("%s=%s: expected SGS_ECONFIG naming %s, got %d: %s", cases[k].key,
                     cases[k].value, cases[k].message, rc, err.message);
    }
    /* the compare date must come before the as-of date */
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_error_t err = {0};
    assert_int_equal(sgs_config_set(&cfg, "as_of", "2024-03-31", &err), SGS_OK);
    assert_int_equal(sgs_config_set(&cfg, "stages.compare_as_of", "2024-03-31", &err), SGS_OK);
    assert_int_equal(sgs_config_validate(&cfg, &err), SGS_ECONFIG);
    sgs_assert_contains(err.message, "must be before as_of");
    assert_int_equal(sgs_config_set(&cfg, "stages.compare_as_of", "2024-03-30", &err), SGS_OK);
    assert_int_equal(sgs_config_validate(&cfg, &err), SGS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_the_kernels_defaults),
        cmocka_unit_test(test_keys_reach_the_kernels),
        cmocka_unit_test(test_channel_lists),
        cmocka_unit_test(test_bad_values_are_configuration_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
