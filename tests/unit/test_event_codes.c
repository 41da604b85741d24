/*
 * tests/unit/test_event_codes.c — an event's kind and channel in one byte
 * (kernels/event_codes.h): by hand, a round trip, and the parallel loops against their serial
 * twins on 1, 2 and 3 threads (the same bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/event_codes.h"
#include "kernels/tables.h"
#include "tests/support/test_support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void test_by_hand(void **state)
{
    (void)state;
    uint8_t kind[4] = {SGS_EVENT_SUPPORT, SGS_EVENT_CANCELLED, SGS_EVENT_SURVEY, 8};
    const uint8_t channel[4] = {0, 3, SGS_CHANNEL_COUNT, 7}; /* 8: out of range, stored as 0 */
    sgs_event_codes_pack(NULL, kind, channel, 4);
    const uint8_t packed[4] = {1, 5 | 3 << 4, 6, 8 | 7 << 4};
    assert_memory_equal(kind, packed, 4);
    uint8_t got[4];
    sgs_event_codes_split(NULL, kind, got, 4);
    const uint8_t kinds[4] = {1, 5, 6, 8}, channels[4] = {0, 3, 0, 7};
    assert_memory_equal(kind, kinds, 4);
    assert_memory_equal(got, channels, 4);
    sgs_event_codes_pack(NULL, kind, NULL, 4); /* no channel column: unchanged */
    assert_memory_equal(kind, kinds, 4);
}

static void test_match_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 1001, 70001};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        uint64_t seed = 50 + z;
        uint8_t *kind = malloc(n + 1), *channel = malloc(n + 1), *ref = malloc(n + 1),
                *got = malloc(n + 1), *ch_ref = malloc(n + 1), *ch_got = malloc(n + 1);
        assert_true(kind && channel && ref && got && ch_ref && ch_got);
        for (size_t i = 0; i < n; i++) {
            kind[i] = (uint8_t)sgs_rng_u64(seed, 0, i); /* high bits set too: overwritten */
            channel[i] = (uint8_t)(sgs_rng_u64(seed, 1, i) % 12);
        }
        memcpy(ref, kind, n);
        sgs_event_codes_pack_ref(ref, channel, n);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            memcpy(got, kind, n);
            sgs_event_codes_pack(&ex, got, channel, n);
            if (memcmp(got, ref, n) != 0)
                fail_msg("seed %llu, %d threads: packed codes differ", (unsigned long long)seed, t);
        }
        uint8_t *split_ref = malloc(n + 1);
        assert_non_null(split_ref);
        memcpy(split_ref, ref, n);
        sgs_event_codes_split_ref(split_ref, ch_ref, n);
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t ex = {.n_threads = t, .grain = 1};
            memcpy(got, ref, n);
            sgs_event_codes_split(&ex, got, ch_got, n);
            if (memcmp(got, split_ref, n) != 0 || memcmp(ch_got, ch_ref, n) != 0)
                fail_msg("seed %llu, %d threads: split codes differ", (unsigned long long)seed, t);
        }
        free(split_ref);
        sgs_free(kind);
        free(channel);
        free(ref);
        free(got);
        free(ch_ref);
        free(ch_got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_match_the_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
