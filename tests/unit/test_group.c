/*
 * tests/unit/test_group.c — customer index (bitmap and sample-sort paths), stable grouping by
 * customer and day, the sorted-input shortcut, and independence from the thread count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/group.h"
#include "tests/support/test_support.h"

#include <stdlib.h>
#include <string.h>

#define DAY SGS_SECONDS_PER_DAY

typedef struct built {
    uint32_t *row_customer;
    sgs_grouped_t g;
    int skipped;
} built_t;

static void *copy_of(const void *p, size_t bytes)
{
    if (!p)
        return NULL;
    void *q = sgs_alloc_array(bytes, 1);
    assert_non_null(q);
    memcpy(q, p, bytes);
    return q;
}

/* Index and group copies of the columns (the grouping takes them over); b->row_customer
 * keeps the index for the checks. order: SGS_ORDER_*; with_spare: hand over a spare
 * 8-byte column as the caller's customer ids would be. */
static void build_with(const int64_t *ids, const int64_t *time_s, const double *amount,
                       const uint8_t *channel, size_t n, int n_threads, int order, int with_spare,
                       built_t *b)
{
    sgs_exec_t exec = {.n_threads = n_threads, .grain = 1}; /* grain 1: every thread works */
    b->row_customer = malloc(n * sizeof *b->row_customer);
    int64_t *distinct = NULL;
    size_t n_customers = 0;
    assert_int_equal(
        sgs_customer_index_build(&exec, ids, n, b->row_customer, &distinct, &n_customers, NULL), 0);
    sgs_row_columns_t rows = {n,
                              copy_of(b->row_customer, n * sizeof(uint32_t)),
                              copy_of(time_s, n * sizeof *time_s),
                              copy_of(amount, n * sizeof *amount),
                              copy_of(channel, channel ? n : 0),
                              with_spare ? copy_of(ids, n * sizeof *ids) : NULL};
    assert_int_equal(
        sgs_group_rows(&exec, &rows, order, distinct, n_customers, &b->g, &b->skipped, NULL), 0);
    assert_null(rows.row_customer); /* taken over */
    assert_null(rows.spare);
}

static void build(const int64_t *ids, const int64_t *time_s, const double *amount,
                  const uint8_t *channel, size_t n, int n_threads, built_t *b)
{
    build_with(ids, time_s, amount, channel, n, n_threads, SGS_ORDER_UNKNOWN, 1, b);
}

static void assert_same_grouping(const sgs_grouped_t *x, const sgs_grouped_t *y)
{
    assert_int_equal(x->n_customers, y->n_customers);
    assert_int_equal(x->n_rows, y->n_rows);
    assert_memory_equal(x->customer_id, y->customer_id, x->n_customers * sizeof(int64_t));
    assert_memory_equal(x->row_offset, y->row_offset, (x->n_customers + 1) * sizeof(size_t));
    assert_memory_equal(x->day, y->day, x->n_rows * sizeof(int32_t));
    assert_memory_equal(x->amount, y->amount, x->n_rows * sizeof(double));
    sgs_assert_cmp((x->channel == NULL), ==, (y->channel == NULL));
    if (x->channel)
        assert_memory_equal(x->channel, y->channel, x->n_rows);
}

static void release(built_t *b)
{
    sgs_free(b->row_customer);
    sgs_grouped_free(&b->g);
}

/* Three customers, rows shuffled, two rows of customer 20 on the same day in file order. */
static void test_groups_by_customer_then_day_stably(void **state)
{
    (void)state;
    const int64_t ids[] = {30, 10, 20, 10, 20, 20, 30};
    const int64_t t[] = {5 * DAY, 3 * DAY + 7,  9 * DAY + 100, 1 * DAY,
                         2 * DAY, 9 * DAY + 50, 4 * DAY};
    const double a[] = {1, 2, 3, 4, 5, 6, 7};
    const uint8_t ch[] = {1, 2, 3, 4, 5, 6, 7};
    built_t b;
    build(ids, t, a, ch, 7, 2, &b);
    assert_int_equal(b.skipped, 0);
    assert_int_equal(b.g.n_customers, 3);
    assert_int_equal(b.g.customer_id[0], 10);
    assert_int_equal(b.g.customer_id[1], 20);
    assert_int_equal(b.g.customer_id[2], 30);
    const size_t offsets[] = {0, 2, 5, 7};
    for (int c = 0; c <= 3; c++)
        assert_int_equal(b.g.row_offset[c], offsets[c]);
    /* customer 10: day 1 (a 4), day 3 (a 2); 20: day 2 (5), day 9 rows in file order (3, 6);
     * 30: day 4 (7), day 5 (1). */
    const int32_t days[] = {1, 3, 2, 9, 9, 4, 5};
    const double amounts[] = {4, 2, 5, 3, 6, 7, 1};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(b.g.day[i], days[i]);
        sgs_assert_cmp(b.g.amount[i], ==, amounts[i]);
        assert_int_equal(b.g.channel[i], (uint8_t)amounts[i]);
    }
    assert_int_equal(b.row_customer[0], 2);
    assert_int_equal(b.row_customer[1], 0);
    release(&b);
}

/* Ids spread over the whole int64 range take the sample-sort path and give the same grouping. */
static void test_sparse_ids_use_sample_sort_path(void **state)
{
    (void)state;
    const int64_t ids[] = {INT64_MAX, INT64_MIN, 0, INT64_MIN, -5};
    const int64_t t[] = {DAY, DAY, DAY, 2 * DAY, DAY};
    const double a[] = {1, 2, 3, 4, 5};
    built_t b;
    build(ids, t, a, NULL, 5, 1, &b);
    assert_int_equal(b.g.n_customers, 4);
    sgs_assert_cmp(b.g.customer_id[0], ==, INT64_MIN);
    assert_int_equal(b.g.customer_id[1], -5);
    assert_int_equal(b.g.customer_id[2], 0);
    sgs_assert_cmp(b.g.customer_id[3], ==, INT64_MAX);
    assert_int_equal(b.g.row_offset[1], 2);
    sgs_assert_cmp(b.g.amount[0], ==, 2);
    sgs_assert_cmp(b.g.amount[1], ==, 4);
    sgs_assert_cmp(b.g.amount[4], ==, 1);
    assert_null(b.g.channel);
    release(&b);
}

static void test_sorted_input_skips_the_scatter(void **state)
{
    (void)state;
    const int64_t ids[] = {1, 1, 2, 5, 5, 5};
    const int64_t t[] = {DAY, 3 * DAY, 0, DAY, DAY, 4 * DAY};
    const double a[] = {1, 2, 3, 4, 5, 6};
    built_t b;
    build(ids, t, a, NULL, 6, 2, &b);
    assert_int_equal(b.skipped, 1);
    assert_int_equal(b.g.n_customers, 3);
    assert_int_equal(b.g.row_offset[1], 2);
    assert_int_equal(b.g.row_offset[2], 3);
    assert_int_equal(b.g.row_offset[3], 6);
    assert_int_equal(b.g.day[5], 4);
    /* the caller's word for the order: the shortcut and the scatter agree */
    built_t sorted, scattered;
    build_with(ids, t, a, NULL, 6, 2, SGS_ORDER_SORTED, 0, &sorted);
    build_with(ids, t, a, NULL, 6, 2, SGS_ORDER_SCATTERED, 0, &scattered);
    assert_int_equal(sorted.skipped, 1);
    assert_int_equal(scattered.skipped, 0);
    assert_same_grouping(&sorted.g, &b.g);
    assert_same_grouping(&scattered.g, &b.g);
    release(&sorted);
    release(&scattered);
    release(&b);
}

/* A customer with more rows than the insertion-sort limit, in reverse day order, gets the
 * merge sort; random data grouped with 1, 2 and 3 threads gives identical arrays. */
static void test_large_random_input_is_thread_independent(void **state)
{
    (void)state;
    const size_t n = 200000;
    int64_t *ids = malloc(n * sizeof *ids);
    int64_t *t = malloc(n * sizeof *t);
    double *a = malloc(n * sizeof *a);
    uint8_t *ch = malloc(n);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = sgs_rng_u64(99, 0, i);
        ids[i] = i < 1000 ? 77777 : (int64_t)(r % 40000) * 3;
        t[i] = i < 1000 ? (int64_t)(1000 - i) * DAY : (int64_t)(r >> 20) % (3000 * DAY);
        a[i] = (double)(r % 1000) / 10.0;
        ch[i] = (uint8_t)(r % 8);
    }
    built_t b[3];
    for (int k = 0; k < 3; k++)
        build(ids, t, a, ch, n, k + 1, &b[k]);
    for (int k = 1; k < 3; k++)
        assert_same_grouping(&b[k].g, &b[0].g);
    built_t no_spare; /* scratch of its own instead of the caller's spare column */
    build_with(ids, t, a, ch, n, 2, SGS_ORDER_UNKNOWN, 0, &no_spare);
    assert_same_grouping(&no_spare.g, &b[0].g);
    release(&no_spare);
    /* Every customer's days ascend; the long customer holds days 1..1000 in order. */
    const sgs_grouped_t *g = &b[0].g;
    for (size_t c = 0; c < g->n_customers; c++)
        for (size_t i = g->row_offset[c] + 1; i < g->row_offset[c + 1]; i++)
            sgs_assert_cmp(g->day[i - 1], <=, g->day[i]);
    size_t long_c = 0;
    while (g->customer_id[long_c] != 77777)
        long_c++;
    size_t lo = g->row_offset[long_c];
    sgs_assert_cmp(g->row_offset[long_c + 1] - lo, >=, 1000);
    assert_int_equal(g->day[lo], 1);
    for (int k = 0; k < 3; k++)
        release(&b[k]);
    free(ids);
    free(t);
    free(a);
    free(ch);
}

/* Many sparse ids (sample-sort path, every partition used, one heavy customer): the ids come
 * out strictly ascending, every row maps back to its own id, and 1, 2, 3 threads agree. */
static void test_sample_sort_path_maps_every_row(void **state)
{
    (void)state;
    const size_t n = 300000;
    int64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = sgs_rng_u64(7, 0, i) % 50000;
        ids[i] = i % 5 == 0 ? INT64_C(-42) : (int64_t)sgs_rng_u64(7, 1, k); /* spread ids */
    }
    uint32_t *rc[3];
    int64_t *distinct[3];
    size_t n_customers[3];
    for (int t = 0; t < 3; t++) {
        sgs_exec_t exec = {.n_threads = t + 1, .grain = 1}; /* grain 1: every thread works */
        rc[t] = malloc(n * sizeof *rc[t]);
        assert_int_equal(
            sgs_customer_index_build(&exec, ids, n, rc[t], &distinct[t], &n_customers[t], NULL), 0);
    }
    for (size_t c = 1; c < n_customers[0]; c++)
        sgs_assert_cmp(distinct[0][c - 1], <, distinct[0][c]);
    for (size_t i = 0; i < n; i++)
        sgs_assert_cmp(distinct[0][rc[0][i]], ==, ids[i]);
    for (int t = 1; t < 3; t++) {
        assert_int_equal(n_customers[t], n_customers[0]);
        assert_memory_equal(rc[t], rc[0], n * sizeof *rc[0]);
        assert_memory_equal(distinct[t], distinct[0], n_customers[0] * sizeof(int64_t));
    }
    for (int t = 0; t < 3; t++) {
        free(rc[t]);
        sgs_free(distinct[t]);
    }
    free(ids);
}

typedef struct ref_row {
    int64_t id;
    int64_t day;
    size_t row;
} ref_row_t;

static int by_id_day_row(const void *pa, const void *pb)
{
    const ref_row_t *a = pa, *b = pb;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

/* Customers 0..16383 buy within 40 days, customers 16384..32767 over 200,000 days (a span no
 * per-day counter array takes): both in-bucket sorts, checked row by row against a
 * (customer, day, file row) sort done here. */
static void test_narrow_and_wide_day_spans_match_a_reference_sort(void **state)
{
    (void)state;
    const size_t n = 240000;
    int64_t *ids = malloc(n * sizeof *ids), *t = malloc(n * sizeof *t);
    double *a = malloc(n * sizeof *a);
    uint8_t *ch = malloc(n);
    ref_row_t *ref = malloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = sgs_rng_u64(5, 0, i);
        ids[i] = i < 32768 ? (int64_t)i : (int64_t)(r % 32768); /* every customer has rows */
        int64_t span = ids[i] < 16384 ? 40 : 200000; /* a bucket each (kernels/group.c) */
        int64_t day = (int64_t)((r >> 20) % (uint64_t)span);
        t[i] = day * DAY + (int64_t)(r >> 50) % DAY;
        a[i] = (double)i;
        ch[i] = (uint8_t)(r >> 40);
        ref[i] = (ref_row_t){ids[i], day, i};
    }
    qsort(ref, n, sizeof *ref, by_id_day_row);
    for (int threads = 1; threads <= 3; threads++) {
        built_t b;
        build(ids, t, a, ch, n, threads, &b);
        assert_int_equal(b.g.n_customers, 32768);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(b.g.day[k], ref[k].day);
            sgs_assert_cmp(b.g.amount[k], ==, (double)ref[k].row);
            assert_int_equal(b.g.channel[k], ch[ref[k].row]);
        }
        for (size_t c = 0; c < 32768; c++)
            for (size_t k = b.g.row_offset[c]; k < b.g.row_offset[c + 1]; k++)
                assert_int_equal(ref[k].id, b.g.customer_id[c]);
        release(&b);
    }
    free(ids);
    free(t);
    free(a);
    free(ch);
    free(ref);
}

static int compare_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* Dense ids (the bitmap path, whose ranks are counted by POPCNT where the CPU has it): every
 * row's index is its id's rank among the distinct ids of a qsort done here, for sizes around
 * a bitmap word and a rank block, ids that start and end on word edges, negative ids and
 * repeats; 1, 2 and 3 threads agree. */
static void test_bitmap_path_ranks_match_a_sorted_reference(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 3, 63, 64, 65, 129, 65535, 65536, 65537, 200003};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        int64_t *ids = malloc(n * sizeof *ids), *sorted = malloc(n * sizeof *sorted);
        assert_non_null(ids);
        assert_non_null(sorted);
        int64_t base = z % 2 ? -1000003 : 64 * 7; /* negative, and on a word edge */
        for (size_t i = 0; i < n; i++) {
            uint64_t r = sgs_rng_u64(31, z, i);
            /* range about 4 ids a row, so the bitmap path; the ends always present */
            ids[i] = i == 0   ? base
                     : i == 1 ? base + (int64_t)(4 * n)
                              : base + (int64_t)(r % (4 * n + 1));
            if (r % 7 == 0 && i > 0)
                ids[i] = ids[i - 1]; /* repeats */
        }
        memcpy(sorted, ids, n * sizeof *ids);
        qsort(sorted, n, sizeof *sorted, compare_i64);
        size_t n_distinct = 0;
        for (size_t i = 0; i < n; i++)
            if (i == 0 || sorted[i] != sorted[n_distinct - 1])
                sorted[n_distinct++] = sorted[i];
        for (int t = 1; t <= 3; t++) {
            sgs_exec_t exec = {.n_threads = t, .grain = 1};
            uint32_t *rc = malloc(n * sizeof *rc);
            assert_non_null(rc);
            int64_t *distinct = NULL;
            size_t n_customers = 0;
            assert_int_equal(
                sgs_customer_index_build(&exec, ids, n, rc, &distinct, &n_customers, NULL), 0);
            assert_int_equal(n_customers, n_distinct);
            assert_memory_equal(distinct, sorted, n_distinct * sizeof *sorted);
            for (size_t i = 0; i < n; i++) {
                const int64_t *at =
                    bsearch(&ids[i], sorted, n_distinct, sizeof *sorted, compare_i64);
                assert_non_null(at);
                assert_int_equal(rc[i], (uint32_t)(at - sorted));
            }
            free(rc);
            sgs_free(distinct);
        }
        free(ids);
        free(sorted);
    }
}

/* Rows in order except for one pair, early (inside the rows looked at first) or late (after
 * them): neither takes the sorted shortcut, and both group as the scatter does; rows wholly
 * in order take it. */
static void test_one_pair_out_of_order_is_not_taken_for_sorted(void **state)
{
    (void)state;
    const size_t n = 20000;
    const size_t bad_at[] = {0, 1, 4094, 4095, 4096, 4097, 19998, 19999, n};
    int64_t *ids = malloc(n * sizeof *ids), *t = malloc(n * sizeof *t);
    double *a = malloc(n * sizeof *a);
    assert_non_null(ids);
    assert_non_null(t);
    assert_non_null(a);
    for (size_t k = 0; k < sizeof bad_at / sizeof bad_at[0]; k++) {
        for (size_t i = 0; i < n; i++) {
            ids[i] = (int64_t)(i / 3);
            t[i] = (int64_t)(i % 3) * DAY;
            a[i] = (double)i;
        }
        size_t b = bad_at[k];
        if (b < n && b + 1 < n) /* swap rows b and b + 1: the pair (b, b + 1) is out of order */
        {
            int64_t x = ids[b], y = t[b];
            ids[b] = ids[b + 1];
            t[b] = t[b + 1];
            ids[b + 1] = x;
            t[b + 1] = y;
        }
        built_t got, scattered;
        build(ids, t, a, NULL, n, 2, &got);
        build_with(ids, t, a, NULL, n, 2, SGS_ORDER_SCATTERED, 0, &scattered);
        assert_int_equal(got.skipped, b + 1 < n ? 0 : 1);
        assert_same_grouping(&got.g, &scattered.g);
        release(&got);
        release(&scattered);
    }
    free(ids);
    free(t);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_by_customer_then_day_stably),
        cmocka_unit_test(test_sparse_ids_use_sample_sort_path),
        cmocka_unit_test(test_sorted_input_skips_the_scatter),
        cmocka_unit_test(test_large_random_input_is_thread_independent),
        cmocka_unit_test(test_sample_sort_path_maps_every_row),
        cmocka_unit_test(test_narrow_and_wide_day_spans_match_a_reference_sort),
        cmocka_unit_test(test_bitmap_path_ranks_match_a_sorted_reference),
        cmocka_unit_test(test_one_pair_out_of_order_is_not_taken_for_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
