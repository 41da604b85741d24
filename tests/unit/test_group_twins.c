/*
 * tests/unit/test_group_twins.c — the parallel customer index and row grouping
 * (kernels/group.h) against their serial reference twins (kernels/group_ref.c: qsort and
 * binary search) on 1, 2 and 3 threads: dense ids (the bitmap path) and sparse ones (the
 * sample sort), scattered and sorted rows, same-day rows, a customer whose days span more
 * than the in-bucket counting sort takes. The same bytes and return codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/group.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* n_rows ids: dense (a range about the row count / 3) or sparse (anywhere in int64, negative
 * ones too, each drawn from a pool so that ids repeat). */
static int64_t *ids_random(size_t n_rows, int dense, uint64_t seed)
{
    uint64_t s = seed;
    int64_t *id = malloc(n_rows * sizeof *id);
    assert_non_null(id);
    size_t pool_n = n_rows / 3 + 1;
    int64_t *pool = malloc(pool_n * sizeof *pool);
    assert_non_null(pool);
    for (size_t k = 0; k < pool_n; k++)
        pool[k] = dense ? (int64_t)(1000 + k) : (int64_t)sgs_test_next(&s);
    if (!dense && pool_n > 2) {
        pool[0] = INT64_MIN;
        pool[1] = INT64_MAX;
    }
    for (size_t i = 0; i < n_rows; i++)
        id[i] = pool[sgs_test_next(&s) % pool_n];
    free(pool);
    return id;
}

static void test_customer_index_matches_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 1000, 200003};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int dense = 0; dense <= 1; dense++) {
            uint64_t seed = 40 + 2 * z + (uint64_t)dense;
            size_t n = sizes[z];
            int64_t *id = ids_random(n, dense, seed);
            uint32_t *rc_ref = malloc(n * sizeof *rc_ref), *rc_got = malloc(n * sizeof *rc_got);
            assert_non_null(rc_ref);
            assert_non_null(rc_got);
            int64_t *ids_ref = NULL;
            size_t m_ref = 0;
            assert_int_equal(sgs_customer_index_build_ref(id, n, rc_ref, &ids_ref, &m_ref, NULL),
                             0);
            for (size_t k = 1; k < m_ref; k++)
                sgs_assert_cmp(ids_ref[k - 1], <, ids_ref[k]);
            for (int t = 1; t <= 3; t++) {
                sgs_exec_t ex = {.n_threads = t, .grain = 1};
                int64_t *ids = NULL;
                size_t m = 0;
                assert_int_equal(sgs_customer_index_build(&ex, id, n, rc_got, &ids, &m, NULL), 0);
                assert_int_equal(m, m_ref);
                if (memcmp(ids, ids_ref, m * sizeof *ids) != 0 ||
                    memcmp(rc_got, rc_ref, n * sizeof *rc_got) != 0)
                    fail_msg("seed %llu (dense %d), %d threads: not the reference's index",
                             (unsigned long long)seed, dense, t);
                sgs_free(ids);
            }
            sgs_free(ids_ref);
            free(rc_ref);
            free(rc_got);
            free(id);
        }
    sgs_error_t e_ref = {0}, e = {0};
    int64_t *ids = NULL;
    size_t m = 0;
    assert_int_equal(sgs_customer_index_build_ref(NULL, 0, NULL, &ids, &m, &e_ref), SGS_EINVAL);
    assert_int_equal(sgs_customer_index_build(NULL, NULL, 0, NULL, &ids, &m, &e), SGS_EINVAL);
    assert_string_equal(e.message, e_ref.message);
}

/* Rows of random customers with times over some years, several on one day; customer 0 (when
 * wide) spans more than 2^16 days. sorted: rows put in (customer, time) order. */
typedef struct rows {
    size_t n;
    uint32_t *customer;
    int64_t *time_s;
    double *amount;
    uint8_t *channel;
    int64_t *ids;
    size_t n_customers;
} rows_t;

static int by_customer_time(const void *pa, const void *pb)
{
    const int64_t *a = pa, *b = pb; /* pairs (customer, time) */
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return (a[1] > b[1]) - (a[1] < b[1]);
}

static void rows_random(rows_t *r, size_t n, int sorted, int wide, uint64_t seed)
{
    uint64_t s = seed;
    int64_t *id = ids_random(n, 1, seed + 7);
    r->n = n;
    r->customer = malloc(n * sizeof *r->customer);
    r->time_s = malloc(n * sizeof *r->time_s);
    r->amount = malloc(n * sizeof *r->amount);
    r->channel = malloc(n * sizeof *r->channel);
    assert_non_null(r->customer);
    assert_non_null(r->time_s);
    assert_non_null(r->amount);
    assert_non_null(r->channel);
    assert_int_equal(
        sgs_customer_index_build_ref(id, n, r->customer, &r->ids, &r->n_customers, NULL), 0);
    free(id);
    for (size_t i = 0; i < n; i++) {
        int64_t day = (int64_t)(sgs_test_next(&s) % 1500) + 15000;
        if (wide && r->customer[i] == 0)
            day = (int64_t)(sgs_test_next(&s) % 100000);
        r->time_s[i] = day * 86400 + (int64_t)(sgs_test_next(&s) % 4) * 3600;
        r->amount[i] = (double)(sgs_test_next(&s) % 100000) / 100.0 - 50.0;
        r->channel[i] = (uint8_t)(sgs_test_next(&s) % 8);
    }
    if (sorted) {
        int64_t *pair = malloc(n * 4 * sizeof *pair);
        assert_non_null(pair);
        for (size_t i = 0; i < n; i++) {
            pair[4 * i] = r->customer[i];
            pair[4 * i + 1] = r->time_s[i];
            pair[4 * i + 2] = (int64_t)r->channel[i];
            memcpy(&pair[4 * i + 3], &r->amount[i], sizeof(double));
        }
        qsort(pair, n, 4 * sizeof *pair, by_customer_time);
        for (size_t i = 0; i < n; i++) {
            r->customer[i] = (uint32_t)pair[4 * i];
            r->time_s[i] = pair[4 * i + 1];
            r->channel[i] = (uint8_t)pair[4 * i + 2];
            memcpy(&r->amount[i], &pair[4 * i + 3], sizeof(double));
        }
        free(pair);
    }
}

static void rows_free(rows_t *r)
{
    sgs_free(r->customer);
    sgs_free(r->time_s);
    sgs_free(r->amount);
    sgs_free(r->channel);
    sgs_free(r->ids);
}

/* The row columns handed to sgs_group_rows: copies it may take over. */
static sgs_row_columns_t hand_over(const rows_t *r, int with_channel, int with_spare)
{
    sgs_row_columns_t c = {.n_rows = r->n};
    c.row_customer = sgs_alloc_array(r->n, sizeof *c.row_customer);
    c.time_s = sgs_alloc_array(r->n, sizeof *c.time_s);
    c.amount = sgs_alloc_array(r->n, sizeof *c.amount);
    assert_non_null(c.row_customer);
    assert_non_null(c.time_s);
    assert_non_null(c.amount);
    memcpy(c.row_customer, r->customer, r->n * sizeof *r->customer);
    memcpy(c.time_s, r->time_s, r->n * sizeof *r->time_s);
    memcpy(c.amount, r->amount, r->n * sizeof *r->amount);
    if (with_channel) {
        c.channel = sgs_alloc_array(r->n, sizeof *c.channel);
        assert_non_null(c.channel);
        memcpy(c.channel, r->channel, r->n);
    }
    if (with_spare) {
        c.spare = sgs_alloc_array(r->n, 8);
        assert_non_null(c.spare);
    }
    return c;
}

static void assert_grouped_equal(const sgs_grouped_t *a, const sgs_grouped_t *b, uint64_t seed,
                                 int threads)
{
    assert_int_equal(a->n_customers, b->n_customers);
    assert_int_equal(a->n_rows, b->n_rows);
    size_t n = a->n_rows, m = a->n_customers;
    if (memcmp(a->customer_id, b->customer_id, m * sizeof *a->customer_id) != 0 ||
        memcmp(a->row_offset, b->row_offset, (m + 1) * sizeof *a->row_offset) != 0 ||
        memcmp(a->day, b->day, n * sizeof *a->day) != 0 ||
        memcmp(a->amount, b->amount, n * sizeof *a->amount) != 0 ||
        (a->channel == NULL) != (b->channel == NULL) ||
        (a->channel && memcmp(a->channel, b->channel, n) != 0))
        fail_msg("seed %llu, %d threads: grouped rows differ from the reference",
                 (unsigned long long)seed, threads);
}

static void test_group_rows_matches_the_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 5, 3000, 120001};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int variant = 0; variant < 4; variant++) {
            int sorted = variant & 1, wide = variant == 2, with_channel = variant != 3;
            uint64_t seed = 800 + 4 * z + (uint64_t)variant;
            rows_t r;
            rows_random(&r, sizes[z], sorted, wide, seed);
            sgs_row_columns_t view = {.n_rows = r.n,
                                      .row_customer = r.customer,
                                      .time_s = r.time_s,
                                      .amount = r.amount,
                                      .channel = with_channel ? r.channel : NULL};
            sgs_grouped_t ref;
            assert_int_equal(sgs_group_rows_ref(&view, r.ids, r.n_customers, &ref, NULL), 0);
            assert_int_equal(ref.row_offset[r.n_customers], r.n);
            for (int t = 1; t <= 3; t++)
                for (int order = -1; order <= (sorted ? 1 : 0); order++) {
                    sgs_exec_t ex = {.n_threads = t, .grain = 1};
                    sgs_row_columns_t cols = hand_over(&r, with_channel, t == 2);
                    int64_t *ids = sgs_alloc_array(r.n_customers, sizeof *ids);
                    assert_non_null(ids);
                    memcpy(ids, r.ids, r.n_customers * sizeof *ids);
                    sgs_grouped_t got;
                    int skipped = -1;
                    assert_int_equal(
                        sgs_group_rows(&ex, &cols, order, ids, r.n_customers, &got, &skipped, NULL),
                        0);
                    if (order == SGS_ORDER_UNKNOWN && r.n > 100)
                        assert_int_equal(skipped, sorted);
                    assert_grouped_equal(&ref, &got, seed, t);
                    sgs_grouped_free(&got);
                }
            sgs_grouped_free(&ref);
            rows_free(&r);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_customer_index_matches_the_reference),
        cmocka_unit_test(test_group_rows_matches_the_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
