/*
 * tests/unit/test_frequency_recency_grid.c — kernels/frequency_recency_grid.h: the rows stop at
 * the 99th percentile of repeat purchases (spread over 12 rows past that), the columns span 0 to
 * the base's longest age in the time unit, and every cell is the model at (x, t_x, T_max):
 * P(alive) against BG/NBD's closed form written out here (Fader, Hardie & Lee 2005, eq. 11),
 * with CDNOW's published parameters; then the refusals. The two parts: the counts made piece
 * after piece in order, and of pieces counted apart then added, equal to the counts of the whole,
 * and the grid from them equal to sgs_fr_grid_compute's, bit for bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/frequency_recency_grid.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* BG/NBD on the CDNOW sample, in weeks (Fader, Hardie & Lee 2005). */
static const double CDNOW[4] = {0.2426, 4.4136, 0.7929, 2.4259}; /* r, alpha, a, b */

static double bgnbd_p_alive(double x, double t_x, double T)
{
    if (x == 0)
        return 1;
    double r = CDNOW[0], alpha = CDNOW[1], a = CDNOW[2], b = CDNOW[3];
    return 1 / (1 + a / (b + x - 1) * pow((alpha + T) / (alpha + t_x), r + x));
}

static void test_rows_columns_and_cells(void **state)
{
    (void)state;
    /* 200 customers: x = c % 5 (0..4), and two outliers with 60 and 90 repeat purchases: the
     * 99th percentile is 4. Ages up to 546 days = 78 weeks. */
    int32_t x[200], age[200];
    for (int c = 0; c < 200; c++) {
        x[c] = c % 5;
        age[c] = 7 * (c % 79);
    }
    x[10] = 60;
    x[11] = 90;
    sgs_fr_grid_t g;
    assert_int_equal(sgs_fr_grid_compute(SGS_MODEL_BGNBD, CDNOW, 39, x, age, 200, 7, &g, NULL),
                     SGS_OK);
    assert_int_equal(g.n_rows, 5);
    assert_int_equal(g.n_cols, SGS_FR_GRID_COLS);
    sgs_assert_close(g.age, 78, 0, 0);
    for (size_t r = 0; r < g.n_rows; r++)
        sgs_assert_close(g.frequency[r], (double)r, 0, 0);
    sgs_assert_close(g.recency[0], 0, 0, 0);
    sgs_assert_close(g.recency[g.n_cols - 1], 78, 1e-12, 0);
    sgs_assert_close(g.recency[1], 7.8, 1e-12, 0);
    for (size_t r = 0; r < g.n_rows; r++)
        for (size_t j = 0; j < g.n_cols; j++) {
            double fx = g.frequency[r], tx = g.recency[j];
            sgs_assert_close(g.p_alive[r * g.n_cols + j], bgnbd_p_alive(fx, tx, 78), 1e-12, 0);
            sgs_assert_close(g.expected[r * g.n_cols + j],
                             sgs_purchase_expected(SGS_MODEL_BGNBD, CDNOW, 39, fx, tx, 78), 0, 0);
        }
    /* the model's shape: a frequent buyer who has gone quiet is less likely alive than one who
     * bought recently, and expects fewer purchases */
    size_t last = g.n_cols - 1;
    sgs_assert_cmp(g.p_alive[4 * g.n_cols + 1], <, g.p_alive[4 * g.n_cols + last]);
    sgs_assert_cmp(g.expected[4 * g.n_cols + 1], <, g.expected[4 * g.n_cols + last]);
}

static void test_many_rows_are_spread(void **state)
{
    (void)state;
    /* x = 0..99 once each: the 99th percentile is 98 (99 of 100 customers at or below it) */
    int32_t x[100], age[100];
    for (int c = 0; c < 100; c++) {
        x[c] = c;
        age[c] = 365;
    }
    sgs_fr_grid_t g;
    assert_int_equal(sgs_fr_grid_compute(SGS_MODEL_PARETONBD,
                                         (const double[]){0.55, 10.58, 0.61, 11.67}, 365, x, age,
                                         100, 1, &g, NULL),
                     SGS_OK);
    assert_int_equal(g.n_rows, SGS_FR_GRID_MAX_ROWS);
    sgs_assert_close(g.frequency[0], 0, 0, 0);
    sgs_assert_close(g.frequency[g.n_rows - 1], 98, 0, 0);
    for (size_t r = 1; r < g.n_rows; r++)
        sgs_assert_cmp(g.frequency[r], >, g.frequency[r - 1]);
    for (size_t i = 0; i < g.n_rows * g.n_cols; i++) {
        sgs_assert_cmp(g.p_alive[i], >=, 0);
        sgs_assert_cmp(g.p_alive[i], <=, 1);
        sgs_assert_cmp(g.expected[i], >=, 0);
    }
    /* only one-time buyers: one row of them and one of a single repeat purchase */
    int32_t zero[3] = {0, 0, 0}, ages[3] = {10, 20, 30};
    assert_int_equal(sgs_fr_grid_compute(SGS_MODEL_BGNBD, CDNOW, 39, zero, ages, 3, 7, &g, NULL),
                     SGS_OK);
    assert_int_equal(g.n_rows, 2);
    sgs_assert_close(g.age, 30.0 / 7, 1e-15, 0);
}

static void test_refusals(void **state)
{
    (void)state;
    int32_t x[2] = {1, -1}, age[2] = {10, 20};
    sgs_fr_grid_t g;
    sgs_error_t err = {0};
    assert_int_equal(sgs_fr_grid_compute(SGS_MODEL_BGNBD, CDNOW, 39, x, age, 0, 7, &g, &err),
                     SGS_EINVAL);
    assert_int_equal(sgs_fr_grid_compute(SGS_MODEL_BGNBD, CDNOW, 39, x, age, 2, 7, &g, &err),
                     SGS_EINVAL);
    sgs_assert_contains(err.message, "customer 1");
    assert_int_equal(sgs_fr_grid_compute(SGS_MODEL_BGNBD, CDNOW, 39, x, age, 1, 0, &g, &err),
                     SGS_EINVAL);
}

/* Seed of the random cases: SGS_TEST_SEED in the environment replays a failure. */
static uint64_t test_seed(void)
{
    const char *s = getenv("SGS_TEST_SEED");
    uint64_t seed = s ? (uint64_t)strtoull(s, NULL, 10) : 20261207u;
    print_message("seed %llu (SGS_TEST_SEED replays)\n", (unsigned long long)seed);
    return seed;
}

/* Random customers (repeat purchases mostly small, some past SGS_FR_GRID_COUNTED; ages up to
 * three years) counted piece after piece in order, and piece by piece from zeros with the counts
 * added and the larger age taken: both are the counts of the whole, and the grid from them is
 * sgs_fr_grid_compute's, every byte. */
static void test_pieces_equal_the_whole(void **state)
{
    (void)state;
    const uint64_t seed = test_seed();
    const size_t n = 20011;
    int32_t *x = malloc(n * sizeof *x), *age = malloc(n * sizeof *age);
    sgs_fr_grid_counts_t *whole = calloc(1, sizeof *whole), *in_order = calloc(1, sizeof *whole);
    sgs_fr_grid_counts_t *apart = calloc(1, sizeof *whole), *piece = calloc(1, sizeof *whole);
    assert_true(x && age && whole && in_order && apart && piece);
    for (size_t c = 0; c < n; c++) {
        uint64_t r = sgs_rng_u64(seed, 1, c);
        x[c] = r % 50 == 0 ? (int32_t)(SGS_FR_GRID_COUNTED + (r >> 40) % 9000)
                           : (int32_t)((r >> 8) % 30 * ((r >> 16) % 3));
        age[c] = (int32_t)((r >> 24) % 1096);
    }
    assert_int_equal(sgs_fr_grid_count(whole, x, age, n, 0, NULL), SGS_OK);
    size_t at = 0;
    for (uint64_t k = 0; at < n; k++) {
        uint64_t r = sgs_rng_u64(seed, 2, k);
        size_t len = r % 4 == 0 ? 0 : (size_t)(r >> 8) % (n / 4) + 1;
        if (len > n - at)
            len = n - at;
        assert_int_equal(
            sgs_fr_grid_count(in_order, len ? x + at : NULL, len ? age + at : NULL, len, at, NULL),
            SGS_OK);
        memset(piece, 0, sizeof *piece);
        assert_int_equal(sgs_fr_grid_count(piece, x + at, age + at, len, at, NULL), SGS_OK);
        for (size_t v = 0; v <= SGS_FR_GRID_COUNTED; v++)
            apart->count[v] += piece->count[v];
        if (piece->max_age_days > apart->max_age_days)
            apart->max_age_days = piece->max_age_days;
        at += len;
    }
    if (memcmp(in_order, whole, sizeof *whole) != 0 || memcmp(apart, whole, sizeof *whole) != 0)
        fail_msg("the counts of the pieces differ from the whole's (seed %llu)",
                 (unsigned long long)seed);
    sgs_assert_cmp(whole->count[SGS_FR_GRID_COUNTED], >, 0);
    sgs_fr_grid_t from_counts, composed;
    memset(&from_counts, 0, sizeof from_counts);
    memset(&composed, 0, sizeof composed);
    assert_int_equal(
        sgs_fr_grid_from_counts(SGS_MODEL_BGNBD, CDNOW, 39, apart, 7, &from_counts, NULL), SGS_OK);
    assert_int_equal(sgs_fr_grid_compute(SGS_MODEL_BGNBD, CDNOW, 39, x, age, n, 7, &composed, NULL),
                     SGS_OK);
    assert_memory_equal(&from_counts, &composed, sizeof composed);
    free(x);
    free(age);
    free(whole);
    free(in_order);
    free(apart);
    free(piece);
}

/* The counting parts' refusals: a negative count named by its index among all customers, with
 * the customers before it counted; counts of no customer. */
static void test_count_refusals(void **state)
{
    (void)state;
    sgs_fr_grid_counts_t c = {{0}, 0};
    sgs_error_t err = {0};
    int32_t x[3] = {2, -4, 1}, age[3] = {50, 70, 90};
    assert_int_equal(sgs_fr_grid_count(&c, x, age, 3, 1000, &err), SGS_EINVAL);
    sgs_assert_contains(err.message, "customer 1001 has -4 repeat purchases");
    sgs_assert_cmp(c.count[2], ==, 1);
    sgs_assert_cmp(c.max_age_days, ==, 50);
    assert_int_equal(sgs_fr_grid_count(&c, NULL, age, 1, 0, &err), SGS_EINVAL);
    assert_int_equal(sgs_fr_grid_count(&c, NULL, NULL, 0, 0, &err), SGS_OK);
    sgs_fr_grid_counts_t none = {{0}, 0};
    sgs_fr_grid_t g;
    assert_int_equal(sgs_fr_grid_from_counts(SGS_MODEL_BGNBD, CDNOW, 39, &none, 7, &g, &err),
                     SGS_EINVAL);
    assert_int_equal(sgs_fr_grid_from_counts(SGS_MODEL_BGNBD, CDNOW, 39, &c, 0, &g, &err),
                     SGS_EINVAL);
    assert_int_equal(sgs_fr_grid_from_counts(SGS_MODEL_BGNBD, CDNOW, 39, &c, 7, &g, &err), SGS_OK);
    assert_int_equal(g.n_rows, 3); /* x = 2 alone: rows 0, 1, 2 */
    sgs_assert_close(g.age, 50.0 / 7, 1e-15, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_columns_and_cells),
        cmocka_unit_test(test_many_rows_are_spread),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_pieces_equal_the_whole),
        cmocka_unit_test(test_count_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
