/*
 * tests/unit/test_customer_columns.c — /customers' row columns moved to the index
 * (kernels/customer_columns.h) against the row loop, its serial twin: rows in random order,
 * ids repeated (the last row wins), entries no row names left as they were, columns absent,
 * sizes around a bucket, and 1, 2 and 3 threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/customer_columns.h"
#include "kernels/dates.h"
#include "tests/support/test_support.h"

#include <stdlib.h>
#include <string.h>

typedef struct cols_buf {
    int32_t *day;
    uint8_t *channel;
    int64_t *referrer;
} cols_buf_t;

static void cols_alloc(cols_buf_t *c, size_t n)
{
    c->day = malloc((n + 1) * sizeof *c->day);
    c->channel = malloc(n + 1);
    c->referrer = malloc((n + 1) * sizeof *c->referrer);
    assert_non_null(c->day);
    assert_non_null(c->channel);
    assert_non_null(c->referrer);
    for (size_t u = 0; u < n; u++) { /* what the caller puts there: kept where no row goes */
        c->day[u] = INT32_MIN;
        c->channel[u] = 0xEE;
        c->referrer[u] = -1;
    }
}

static void cols_free(cols_buf_t *c)
{
    free(c->day);
    free(c->channel);
    free(c->referrer);
}

/* n_rows rows over n_ids distinct ids (some repeated), spread over n entries (every other
 * entry or so named, in ascending order as the merge gives them). keep: bit 0 signup, bit 1
 * channel, bit 2 referrer. */
static void check_case(size_t n_rows, size_t n_ids, int keep, uint64_t seed)
{
    uint32_t *crow = malloc((n_rows + 1) * sizeof *crow);
    int64_t *b_to_u = malloc((n_ids + 1) * sizeof *b_to_u);
    int64_t *signup = malloc((n_rows + 1) * sizeof *signup);
    uint8_t *channel = malloc(n_rows + 1);
    int64_t *referrer = malloc((n_rows + 1) * sizeof *referrer);
    assert_non_null(crow);
    assert_non_null(b_to_u);
    assert_non_null(signup);
    assert_non_null(channel);
    assert_non_null(referrer);
    size_t u = 0;
    for (size_t j = 0; j < n_ids; j++) {
        u += 1 + sgs_rng_u64(seed, 0, j) % 3;
        b_to_u[j] = (int64_t)u;
    }
    size_t n = u + 2;
    for (size_t r = 0; r < n_rows; r++) {
        uint64_t x = sgs_rng_u64(seed, 1, r);
        crow[r] = (uint32_t)(r < n_ids ? (r * 7919) % n_ids : x % n_ids); /* repeats past n_ids */
        /* times before 1970 too: sgs_day_of floors */
        signup[r] = (int64_t)(x >> 20) % (INT64_C(40000) * SGS_SECONDS_PER_DAY) -
                    INT64_C(1000) * SGS_SECONDS_PER_DAY;
        channel[r] = (uint8_t)(x >> 8);
        referrer[r] = (int64_t)(x >> 3) - (int64_t)(x >> 2);
    }
    sgs_customer_rows_t rows = {n_rows,
                                crow,
                                b_to_u,
                                keep & 1 ? signup : NULL,
                                keep & 2 ? channel : NULL,
                                keep & 4 ? referrer : NULL};
    cols_buf_t ref;
    cols_alloc(&ref, n);
    sgs_customer_columns_t ref_cols = {n, keep & 1 ? ref.day : NULL, keep & 2 ? ref.channel : NULL,
                                       keep & 4 ? ref.referrer : NULL};
    sgs_customer_columns_scatter_ref(&rows, &ref_cols);
    for (int t = 1; t <= 3; t++) {
        cols_buf_t got;
        cols_alloc(&got, n);
        sgs_customer_columns_t cols = {n, keep & 1 ? got.day : NULL, keep & 2 ? got.channel : NULL,
                                       keep & 4 ? got.referrer : NULL};
        sgs_exec_t exec = {.n_threads = t, .grain = 1};
        assert_int_equal(sgs_customer_columns_scatter(&exec, &rows, &cols, NULL), SGS_OK);
        if (memcmp(got.day, ref.day, n * sizeof *got.day) != 0 ||
            memcmp(got.channel, ref.channel, n) != 0 ||
            memcmp(got.referrer, ref.referrer, n * sizeof *got.referrer) != 0)
            fail_msg("%zu rows, %zu ids, keep %d, %d threads: not the row loop's columns", n_rows,
                     n_ids, keep, t);
        cols_free(&got);
    }
    /* the twin itself by hand on the last row of each entry */
    if (n_rows > 0 && (keep & 7) == 7) {
        size_t last = n_rows - 1;
        size_t v = (size_t)b_to_u[crow[last]];
        assert_int_equal(ref.day[v], (int32_t)sgs_day_of(signup[last]));
        assert_int_equal(ref.channel[v], channel[last]);
        sgs_assert_cmp(ref.referrer[v], ==, referrer[last]);
        assert_int_equal(ref.day[n - 1], INT32_MIN); /* no row goes to the last entry */
    }
    cols_free(&ref);
    free(crow);
    free(b_to_u);
    free(signup);
    free(channel);
    free(referrer);
}

static void test_matches_the_row_loop(void **state)
{
    (void)state;
    const size_t rows[] = {0, 1, 2, 3, 4095, 4096, 4097, 30011, 120000};
    for (size_t z = 0; z < sizeof rows / sizeof rows[0]; z++) {
        size_t n_rows = rows[z];
        size_t n_ids = n_rows > 10 ? n_rows - n_rows / 10 : (n_rows ? n_rows : 1);
        for (int keep = 0; keep < 8; keep++)
            check_case(n_rows, n_ids, keep, 100 + z);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_the_row_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
