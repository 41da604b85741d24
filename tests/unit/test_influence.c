/*
 * tests/unit/test_influence.c — referral forest: hand-computed chain values, referral
 * counts and depths, cycles and unknown referrers reported, long chains without
 * recursion, the id lookup against brute force, and identical bits for 1, 2, 3 threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/influence.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct res {
    int64_t direct[16], indirect[16], ref_index[16];
    double nv[16];
    int32_t depth[16];
    uint8_t status[16];
    sgs_influence_report_t report;
} res_t;

static void run(size_t n, const int64_t *id, const int64_t *ref, const double *clv, double damping,
                res_t *r)
{
    sgs_influence_config_t cfg = {damping};
    sgs_influence_output_t out = {r->direct, r->indirect, r->nv, r->ref_index, r->depth, r->status};
    sgs_exec_t exec = {.n_threads = 2};
    sgs_error_t err = {0};
    if (sgs_influence_compute(n, id, ref, clv, &cfg, &exec, &out, &r->report, &err))
        fail_msg("%s", err.message);
}

static void test_chain_hand_computed(void **state)
{
    (void)state;
    /* 10 referred 20 and 30; 20 referred 40; 40 referred 50; 60 alone. */
    int64_t id[] = {10, 20, 30, 40, 50, 60};
    int64_t ref[] = {-1, 10, 10, 20, 40, -1};
    double clv[] = {100, 50, 20, 10, 8, 5};
    res_t r;
    run(6, id, ref, clv, 0.5, &r);
    /* NV(50) = 8; NV(40) = 10 + 0.5*8 = 14; NV(20) = 50 + 0.5*14 = 57; NV(30) = 20;
     * NV(10) = 100 + 0.5*(57 + 20) = 138.5 = 100 + 0.5*70 + 0.25*10 + 0.125*8 */
    double expected_nv[] = {138.5, 57, 20, 14, 8, 5};
    int64_t expected_direct[] = {2, 1, 0, 1, 0, 0};
    int64_t expected_indirect[] = {2, 1, 0, 0, 0, 0};
    int32_t expected_depth[] = {0, 1, 1, 2, 3, 0};
    int64_t expected_ref[] = {-1, 0, 0, 1, 3, -1};
    for (int i = 0; i < 6; i++) {
        sgs_assert_close(r.nv[i], expected_nv[i], 1e-12, 0);
        assert_int_equal(r.direct[i], expected_direct[i]);
        assert_int_equal(r.indirect[i], expected_indirect[i]);
        assert_int_equal(r.depth[i], expected_depth[i]);
        assert_int_equal(r.ref_index[i], expected_ref[i]);
    }
    assert_int_equal(r.status[0], SGS_REFERRAL_NONE);
    assert_int_equal(r.status[1], SGS_REFERRAL_OK);
    assert_int_equal(r.report.n_with_referrer, 4);
    assert_int_equal(r.report.n_referrers, 3);
    assert_int_equal(r.report.max_depth, 3);
    assert_int_equal(r.report.n_cycles, 0);
    assert_int_equal(r.report.n_unknown_referrers, 0);

    /* damping 0: network value is own value; damping 1: the whole tree's value */
    run(6, id, ref, clv, 0.0, &r);
    sgs_assert_close(r.nv[0], 100.0, 0, 0);
    run(6, id, ref, clv, 1.0, &r);
    sgs_assert_close(r.nv[0], 188.0, 1e-12, 0);

    /* no CLV: damped head count 1 + 0.5*2 + 0.25*1 + 0.125*1 */
    run(6, id, ref, NULL, 0.5, &r);
    sgs_assert_close(r.nv[0], 2.375, 1e-15, 0);
    /* NaN CLV counts as 0 */
    clv[1] = NAN;
    run(6, id, ref, clv, 0.5, &r);
    sgs_assert_close(r.nv[1], 7.0, 1e-15, 0);
    sgs_assert_close(r.nv[0], 100.0 + 0.5 * (7.0 + 20.0), 1e-12, 0);
}

static void test_cycles_and_unknown_reported(void **state)
{
    (void)state;
    /* 1 -> 2 -> 3 -> 1 is a cycle (x -> y: x was referred by y); 4 was referred by 2 and
     * referred 5; 6 refers itself; 7 names an unknown referrer 999, 8 a negative one. */
    int64_t id[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    int64_t ref[] = {2, 3, 1, 2, 4, 6, 999, -5, 6};
    double clv[] = {10, 20, 30, 40, 50, 60, 70, 80, 90};
    res_t r;
    run(9, id, ref, clv, 0.5, &r);
    assert_int_equal(r.report.n_cycles, 2);
    assert_int_equal(r.report.n_in_cycles, 4);
    assert_int_equal(r.report.n_cycle_examples, 2);
    assert_int_equal(r.report.cycle_customer_id[0], 1);
    assert_int_equal(r.report.cycle_length[0], 3);
    assert_int_equal(r.report.cycle_customer_id[1], 6);
    assert_int_equal(r.report.cycle_length[1], 1);
    assert_int_equal(r.report.n_unknown_referrers, 2);
    assert_int_equal(r.report.n_unknown_examples, 2);
    assert_int_equal(r.report.unknown_customer_id[0], 7);
    assert_int_equal(r.report.unknown_referrer_id[0], 999);
    assert_int_equal(r.report.unknown_customer_id[1], 8);
    assert_int_equal(r.report.unknown_referrer_id[1], -5);
    assert_int_equal(r.report.n_with_referrer, 9);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r.status[i], SGS_REFERRAL_CYCLE);
        assert_int_equal(r.ref_index[i], -1);
        assert_int_equal(r.depth[i], 0);
    }
    assert_int_equal(r.status[5], SGS_REFERRAL_CYCLE);
    assert_int_equal(r.status[6], SGS_REFERRAL_UNKNOWN);
    assert_int_equal(r.ref_index[6], -1);
    assert_int_equal(r.status[3], SGS_REFERRAL_OK);
    /* cycle edges dropped: 2 keeps only 4 (and, through 4, 5) */
    assert_int_equal(r.direct[1], 1);
    assert_int_equal(r.indirect[1], 1);
    sgs_assert_close(r.nv[4], 50.0, 0, 0);
    sgs_assert_close(r.nv[3], 40.0 + 0.5 * 50.0, 1e-12, 0);
    sgs_assert_close(r.nv[1], 20.0 + 0.5 * 65.0, 1e-12, 0);
    sgs_assert_close(r.nv[0], 10.0, 0, 0);
    sgs_assert_close(r.nv[2], 30.0, 0, 0);
    /* 6 referred itself (dropped) and 9 (kept) */
    assert_int_equal(r.direct[5], 1);
    sgs_assert_close(r.nv[5], 60.0 + 0.5 * 90.0, 1e-12, 0);
    assert_int_equal(r.depth[8], 1);
    assert_int_equal(r.depth[4], 2);
}

static void test_long_chains_no_recursion(void **state)
{
    (void)state;
    const size_t n = 300000;
    int64_t *id = malloc(n * sizeof *id), *ref = malloc(n * sizeof *ref);
    int64_t *direct = malloc(n * sizeof *direct), *indirect = malloc(n * sizeof *indirect);
    double *nv = malloc(n * sizeof *nv);
    int32_t *depth = malloc(n * sizeof *depth);
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)(5 * i + 1);
        ref[i] = i == 0 ? -1 : id[i - 1]; /* each referred by the previous one */
    }
    sgs_influence_config_t cfg = {1.0};
    sgs_influence_output_t out = {direct, indirect, nv, NULL, depth, NULL};
    sgs_influence_report_t rep;
    sgs_exec_t exec = {.n_threads = 2};
    assert_int_equal(sgs_influence_compute(n, id, ref, NULL, &cfg, &exec, &out, &rep, NULL), 0);
    sgs_assert_close(nv[0], (double)n, 0, 0);
    assert_int_equal(indirect[0], (int64_t)n - 2);
    assert_int_equal(depth[n - 1], (int32_t)n - 1);
    assert_int_equal(rep.max_depth, (int64_t)n - 1);
    /* the other direction, closed into one long cycle: reported, not looped over */
    for (size_t i = 0; i < n; i++)
        ref[i] = id[(i + 1) % n];
    assert_int_equal(sgs_influence_compute(n, id, ref, NULL, &cfg, &exec, &out, &rep, NULL), 0);
    assert_int_equal(rep.n_cycles, 1);
    assert_int_equal(rep.n_in_cycles, (int64_t)n);
    assert_int_equal(rep.cycle_customer_id[0], 1);
    assert_int_equal(rep.cycle_length[0], (int64_t)n);
    sgs_assert_close(nv[7], 1.0, 0, 0);
    free(id);
    free(ref);
    free(direct);
    free(indirect);
    free(nv);
    free(depth);
}

static void test_index_lookup_matches_brute_force(void **state)
{
    (void)state;
    enum { N = 3000 };
    static int64_t ids[N];
    uint64_t seed = 77;
    for (int layout = 0; layout < 3; layout++) {
        int64_t v = layout == 2 ? INT64_MIN / 2 : -100;
        for (size_t i = 0; i < N; i++) {
            /* 0: dense; 1: random gaps; 2: gaps growing geometrically (skewed) */
            uint64_t r = sgs_rng_u64(seed, (uint64_t)layout, i);
            v += layout == 0 ? 1 : (layout == 1 ? 1 + (int64_t)(r % 50) : 1 + (int64_t)(i * i));
            ids[i] = v;
        }
        if (layout == 2)
            ids[N - 1] = INT64_MAX; /* extreme span */
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(sgs_customer_index_of(ids, N, ids[i]), (int64_t)i);
            if (i + 1 < N && ids[i] + 1 < ids[i + 1])
                assert_int_equal(sgs_customer_index_of(ids, N, ids[i] + 1), -1);
        }
        assert_int_equal(sgs_customer_index_of(ids, N, ids[0] - 1), -1);
        assert_int_equal(sgs_customer_index_of(ids, 0, ids[0]), -1);
    }
    int64_t one = 42;
    assert_int_equal(sgs_customer_index_of(&one, 1, 42), 0);
    assert_int_equal(sgs_customer_index_of(&one, 1, 41), -1);
}

static void test_errors(void **state)
{
    (void)state;
    int64_t id[] = {1, 3, 2};
    int64_t ref[] = {-1, 1, 1};
    res_t r;
    sgs_influence_output_t out = {r.direct, r.indirect, r.nv, NULL, NULL, NULL};
    sgs_error_t err = {0};
    assert_int_equal(sgs_influence_compute(3, id, ref, NULL, NULL, NULL, &out, NULL, &err),
                     SGS_EDATA);
    sgs_assert_contains(err.message, "row 2");
    id[1] = 2;
    id[2] = 3;
    sgs_influence_config_t cfg = {1.5};
    assert_int_equal(sgs_influence_compute(3, id, ref, NULL, &cfg, NULL, &out, NULL, &err),
                     SGS_ECONFIG);
    cfg.damping = NAN;
    assert_int_equal(sgs_influence_compute(3, id, ref, NULL, &cfg, NULL, &out, NULL, &err),
                     SGS_ECONFIG);
    out.network_value = NULL;
    assert_int_equal(sgs_influence_compute(3, id, ref, NULL, NULL, NULL, &out, NULL, &err),
                     SGS_EINVAL);
    out.network_value = r.nv;
    assert_int_equal(sgs_influence_compute(0, NULL, NULL, NULL, NULL, NULL, &out, NULL, &err),
                     SGS_OK);
    for (long k = 0; k < 4; k++) {
        sgs_test_fail_alloc_after(k);
        int rc = sgs_influence_compute(3, id, ref, NULL, NULL, NULL, &out, NULL, &err);
        sgs_test_fail_alloc_after(-1);
        assert_int_equal(rc, SGS_ENOMEM);
    }
}

/* Every field of two reports (not their padding) the same. */
static void assert_reports_equal(const sgs_influence_report_t *a, const sgs_influence_report_t *b)
{
    assert_int_equal(a->n_with_referrer, b->n_with_referrer);
    assert_int_equal(a->n_unknown_referrers, b->n_unknown_referrers);
    assert_int_equal(a->n_cycles, b->n_cycles);
    assert_int_equal(a->n_in_cycles, b->n_in_cycles);
    assert_int_equal(a->n_referrers, b->n_referrers);
    assert_int_equal(a->max_depth, b->max_depth);
    assert_int_equal(a->n_unknown_examples, b->n_unknown_examples);
    assert_int_equal(a->n_cycle_examples, b->n_cycle_examples);
    size_t nu = (size_t)a->n_unknown_examples, nc = (size_t)a->n_cycle_examples;
    assert_memory_equal(a->unknown_customer_id, b->unknown_customer_id, nu * sizeof(int64_t));
    assert_memory_equal(a->unknown_referrer_id, b->unknown_referrer_id, nu * sizeof(int64_t));
    assert_memory_equal(a->cycle_customer_id, b->cycle_customer_id, nc * sizeof(int64_t));
    assert_memory_equal(a->cycle_length, b->cycle_length, nc * sizeof(int64_t));
}

static void test_threads_identical(void **state)
{
    (void)state;
    const size_t n = 80000;
    int64_t *id = malloc(n * sizeof *id), *ref = malloc(n * sizeof *ref);
    double *clv = malloc(n * sizeof *clv);
    int64_t *direct[3], *indirect[3], *ri[3];
    double *nv[3];
    int32_t *depth[3];
    uint8_t *status[3];
    sgs_influence_report_t rep[3];
    uint64_t seed = 31337;
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)(i * 7 + (i % 3));
        clv[i] = sgs_rng_uniform(seed, 0, i) * 500.0;
    }
    for (size_t i = 0; i < n; i++) {
        double u = sgs_rng_uniform(seed, 1, i);
        size_t j = (size_t)(sgs_rng_uniform(seed, 2, i) * (double)n);
        /* 40% referred by an earlier customer (a forest), 1% by anyone (cycles), 1%
         * unknown, the rest nobody */
        if (u < 0.4 && i > 0)
            ref[i] = id[j % i];
        else if (u < 0.41)
            ref[i] = id[j];
        else if (u < 0.42)
            ref[i] = -7 - (int64_t)i;
        else
            ref[i] = -1;
    }
    /* planted cycles: pairs referring each other, a triangle and self-referrals */
    for (size_t k = 1; k < 20; k++) {
        size_t a = k * 3001;
        ref[a] = id[a + 1];
        ref[a + 1] = id[a];
        ref[a + 2] = id[a + 2];
    }
    ref[10] = id[11];
    ref[11] = id[12];
    ref[12] = id[10];
    for (int t = 0; t < 3; t++) {
        direct[t] = malloc(n * sizeof(int64_t));
        indirect[t] = malloc(n * sizeof(int64_t));
        ri[t] = malloc(n * sizeof(int64_t));
        nv[t] = malloc(n * sizeof(double));
        depth[t] = malloc(n * sizeof(int32_t));
        status[t] = malloc(n);
        sgs_influence_output_t out = {direct[t], indirect[t], nv[t], ri[t], depth[t], status[t]};
        sgs_exec_t exec = {.n_threads = t + 1, .grain = 1}; /* grain 1: every thread works */
        assert_int_equal(sgs_influence_compute(n, id, ref, clv, NULL, &exec, &out, &rep[t], NULL),
                         0);
    }
    for (int t = 1; t < 3; t++) {
        assert_memory_equal(direct[0], direct[t], n * sizeof(int64_t));
        assert_memory_equal(indirect[0], indirect[t], n * sizeof(int64_t));
        assert_memory_equal(ri[0], ri[t], n * sizeof(int64_t));
        assert_memory_equal(nv[0], nv[t], n * sizeof(double));
        assert_memory_equal(depth[0], depth[t], n * sizeof(int32_t));
        assert_memory_equal(status[0], status[t], n);
        assert_memory_equal(&rep[0], &rep[t], sizeof rep[0]);
    }
    /* the serial twin: every output and the report the same, NV to a relative 1e-12 (it
     * sums a referrer's children in another order); with clv NULL (head counts, sums of
     * powers of 1/2: exact) NV the same bits too */
    for (int with_clv = 1; with_clv >= 0; with_clv--) {
        int64_t *dr = malloc(n * sizeof *dr), *ir = malloc(n * sizeof *ir),
                *rr = malloc(n * sizeof *rr);
        double *nr = malloc(n * sizeof *nr);
        int32_t *gr = malloc(n * sizeof *gr);
        uint8_t *sr = malloc(n);
        assert_true(dr && ir && rr && nr && gr && sr);
        sgs_influence_output_t out = {dr, ir, nr, rr, gr, sr};
        sgs_influence_report_t rr_rep;
        memset(&rr_rep, 0x5A, sizeof rr_rep);
        assert_int_equal(
            sgs_influence_compute_ref(n, id, ref, with_clv ? clv : NULL, NULL, &out, &rr_rep, NULL),
            0);
        if (with_clv) {
            for (size_t i = 0; i < n; i++)
                sgs_assert_close(nr[i], nv[0][i], 0, 1e-12);
        } else {
            sgs_influence_output_t o2 = {direct[1], indirect[1], nv[1], ri[1], depth[1], status[1]};
            sgs_exec_t ex = {.n_threads = 3, .grain = 1};
            assert_int_equal(sgs_influence_compute(n, id, ref, NULL, NULL, &ex, &o2, &rep[1], NULL),
                             0);
            assert_memory_equal(nr, nv[1], n * sizeof(double));
        }
        assert_memory_equal(dr, direct[0], n * sizeof(int64_t));
        assert_memory_equal(ir, indirect[0], n * sizeof(int64_t));
        assert_memory_equal(rr, ri[0], n * sizeof(int64_t));
        assert_memory_equal(gr, depth[0], n * sizeof(int32_t));
        assert_memory_equal(sr, status[0], n);
        assert_reports_equal(&rr_rep, &rep[0]);
        free(dr);
        free(ir);
        free(rr);
        free(nr);
        free(gr);
        free(sr);
    }
    /* identities: direct counts sum to the kept edges; NV >= own CLV; a plain recount */
    int64_t sum_direct = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        sum_direct += direct[0][i];
        kept += ri[0][i] >= 0;
        sgs_assert_cmp(nv[0][i], >=, clv[i]);
        if (ri[0][i] >= 0)
            assert_int_equal(depth[0][i], depth[0][ri[0][i]] + 1);
    }
    assert_int_equal(sum_direct, kept);
    /* brute force: every customer walks up its kept referral chain and adds d^g * clv to
     * the ancestor g generations up, and 1 to its descendant count */
    double *nv_ref = calloc(n, sizeof *nv_ref);
    int64_t *desc_ref = calloc(n, sizeof *desc_ref);
    for (size_t i = 0; i < n; i++) {
        nv_ref[i] += clv[i];
        double w = 1.0;
        for (int64_t j = ri[0][i]; j >= 0; j = ri[0][j]) {
            w *= 0.5;
            nv_ref[j] += w * clv[i];
            desc_ref[j]++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        sgs_assert_close(nv[0][i], nv_ref[i], 1e-9, 1e-12);
        assert_int_equal(direct[0][i] + indirect[0][i], desc_ref[i]);
    }
    free(nv_ref);
    free(desc_ref);
    sgs_assert_cmp(rep[0].n_cycles, >=, 39);
    sgs_assert_cmp(rep[0].n_unknown_referrers, >, 0);
    assert_int_equal(kept + rep[0].n_in_cycles + rep[0].n_unknown_referrers,
                     rep[0].n_with_referrer);
    for (int t = 0; t < 3; t++) {
        free(direct[t]);
        free(indirect[t]);
        free(ri[t]);
        free(nv[t]);
        free(depth[t]);
        free(status[t]);
    }
    free(id);
    free(ref);
    sgs_free(clv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_hand_computed),
        cmocka_unit_test(test_cycles_and_unknown_reported),
        cmocka_unit_test(test_long_chains_no_recursion),
        cmocka_unit_test(test_index_lookup_matches_brute_force),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_threads_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
