/*
 * tests/mpi/test_dist_fit_time.c — value.fit_time_limit over processes (engine/dist_run.h
 * sgs_dist_run_fit_time_up, docs/mpi.md): every process runs the same fit, and process 0's clock
 * decides for all when its time limit is reached. Here process 0's likelihood is slow (5 ms an
 * evaluation) and the others' fast: every process's fit stops at the same check, with the time
 * limit's status, bit for bit process 0's fit, although the others' own clocks are far from the
 * limit (on their own clocks they would run on to convergence: shown with several processes).
 * And a signal to one process stops every process's fit at the same iteration
 * (sgs_dist_run_fit_stop).
 */
#include "engine/dist_run.h"
#include "engine/interrupt.h"
#include "kernels/optimizer.h"
#include "tests/support/test_mpi.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* LL = -[100 (θ1 - θ0²)² + (1 - θ0)²] (Rosenbrock: many iterations), `delay` per evaluation. */
typedef struct slow {
    struct timespec delay;
    int evaluations;
} slow_t;

static int rosen_ll(const double *th, double *ll, double *g, void *ctx)
{
    slow_t *s = ctx;
    s->evaluations++;
    if (s->delay.tv_nsec > 0)
        nanosleep(&s->delay, NULL);
    double a = th[1] - th[0] * th[0], b = 1.0 - th[0];
    *ll = -(100.0 * a * a + b * b);
    if (g) {
        g[0] = 400.0 * a * th[0] + 2.0 * b;
        g[1] = -200.0 * a;
    }
    return 0;
}

/* This process's fit, its likelihood slow on process 0 alone, with the limit decided by
 * process 0's clock (spread) or by each process's own. Returns the fit's code. */
static int fit(int spread, sgs_fit_t *out, int *evaluations)
{
    static const double starts[] = {-1.2, 1.0, 2.0, 2.0};
    slow_t s = {{0, sgs_test_world.rank == 0 ? 5000000L : 0}, 0};
    sgs_optim_problem_t p = {2, rosen_ll, &s, 1.0, 0.0, 2, starts, NULL};
    sgs_optim_options_t o = sgs_optim_default_options();
    o.gtol = 1e-9;
    o.max_iter = 100000;
    o.time_limit_s = 0.1; /* about 20 of process 0's evaluations; the fit needs more */
    if (spread) {
        o.time_up = sgs_dist_run_fit_time_up;
        o.time_up_ctx = &sgs_test_world;
    }
    int rc = sgs_optim_minimize(&p, &o, out, NULL);
    *evaluations = s.evaluations;
    return rc;
}

static void every_process_stops_where_process_0_does(void **state)
{
    (void)state;
    sgs_fit_t mine;
    int evaluations = 0;
    int rc = fit(1, &mine, &evaluations);
    /* every process's fit gathered before any check (a process failing a check alone would
     * leave the others waiting), then every process's is process 0's, bit for bit */
    sgs_fit_t *all = NULL;
    sgs_error_t err = {0};
    assert_int_equal(
        sgs_dist_gather_all(&sgs_test_world, &mine, sizeof mine, (void **)&all, NULL, &err),
        SGS_OK);
    assert_int_equal(rc, SGS_ENOCONVERGE);
    assert_int_equal(mine.status, SGS_OPTIM_TIME_LIMIT);
    sgs_assert_cmp(evaluations, >=, 1);
    for (int r = 1; r < sgs_test_world.size; r++)
        if (memcmp(&all[r], &all[0], sizeof mine) != 0)
            fail_msg("process %d's fit (%d iterations, status %s) is not process 0's (%d, %s)", r,
                     all[r].iterations, sgs_optim_status_name(all[r].status), all[0].iterations,
                     sgs_optim_status_name(all[0].status));
    sgs_free(all);
    /* each on its own clock, the fast processes converge: the fits differ (why the decision is
     * process 0's) */
    sgs_fit_t own;
    rc = fit(0, &own, &evaluations);
    if (sgs_test_world.rank == 0) {
        assert_int_equal(rc, SGS_ENOCONVERGE);
        assert_int_equal(own.status, SGS_OPTIM_TIME_LIMIT);
    } else {
        assert_int_equal(rc, SGS_OK);
        assert_int_equal(own.status, SGS_OPTIM_CONVERGED);
        sgs_assert_cmp(own.iterations, >, mine.iterations);
    }
}

/* A signal to the last process alone (SIGTERM, raised with the run's handler installed): with
 * the spread stop check every process's fit stops at the same iteration, SGS_EINTR with the last
 * process's message; on its own check only the last process would stop. Last in this program:
 * the signal stays caught. */
static void a_signal_to_one_process_stops_every_fit(void **state)
{
    (void)state;
    static const double starts[] = {-1.2, 1.0};
    slow_t s = {{0, 0}, 0};
    sgs_optim_problem_t p = {2, rosen_ll, &s, 1.0, 0.0, 1, starts, NULL};
    sgs_optim_options_t o = sgs_optim_default_options();
    o.stop = sgs_dist_run_fit_stop;
    o.stop_ctx = &sgs_test_world;
    const int last = sgs_test_world.size - 1;
    sgs_interrupt_install();
    if (sgs_test_world.rank == last)
        assert_int_equal(raise(SIGTERM), 0);
    sgs_fit_t f;
    sgs_error_t err = {0};
    int rc = sgs_optim_minimize(&p, &o, &f, &err);
    int64_t evaluations[2] = {s.evaluations, -s.evaluations}; /* the most and the fewest */
    sgs_dist_reduce_i64(&sgs_test_world, evaluations, 2, SGS_DIST_MAX);
    assert_int_equal(rc, SGS_EINTR);
    sgs_assert_contains(err.message, "SIGTERM");
    sgs_assert_contains(err.message, "during a model fit");
    if (sgs_test_world.size > 1) {
        char who[64];
        snprintf(who, sizeof who, "process %d of %d: ", last, sgs_test_world.size);
        sgs_assert_contains(err.message, who);
    }
    /* stopped before the first iteration everywhere: the starts' and the first point's
     * evaluations only */
    sgs_assert_cmp(evaluations[0], ==, -evaluations[1]);
    sgs_assert_cmp(evaluations[0], <=, 2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_process_stops_where_process_0_does),
        cmocka_unit_test(a_signal_to_one_process_stops_every_fit),
    };
    return sgs_test_mpi_run(&argc, &argv, tests, NULL, NULL);
}
