/*
 * tests/unit/test_pareto_reference.c — the Pareto/NBD kernels against 80-digit reference
 * values (tests/data/make_pareto_reference.py, mpmath 1.3.0, from the published formulas):
 * ln ₂F₁(a, b; a+1; z) and its three derivatives at the end points the likelihood uses and
 * at seeded random arguments; per customer the log-likelihood, its gradient, P(alive),
 * expected purchases and P(no purchase), on a grid with the corners fits reach (s -> 0,
 * beta up to 1e6, r and alpha up to 1e4, x up to 1e4, t_x = T, alpha = beta, alpha >> beta,
 * beta >> alpha). Every value must be finite and within the tolerances below (stated in
 * kernels/special.h and kernels/paretonbd.h), and the work of every ₂F₁ within its bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/histories.h"
#include "kernels/paretonbd.h"
#include "kernels/special.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tolerances, relative to max(1, |reference|). */
#define TOL_LOG_F 1e-13   /* ln 2F1 */
#define TOL_D_LOG_F 1e-11 /* its derivatives in a, b, z */
#define TOL_LOGLIK 1e-12  /* ln L of one customer */
#define TOL_GRAD 1e-11    /* ∂ln L/∂(r, alpha, s, beta) */
#define TOL_SCORE 1e-11   /* P(alive), E[Y(t)], P(no purchase) (relative to the value) */
/* The measured maximum of sgs_hyp2f1_ap1_ex's work (terms + integrand evaluations) over
 * 10^6 random arguments is 325; a regression beyond 400 fails here. */
#define MAX_WORK 400

#define MAX_ROWS 1024
#define MAX_COLS 16

/* Reads a CSV of numbers with one header line into rows[MAX_ROWS][MAX_COLS]. */
static int read_csv(const char *name, int n_cols, double (*rows)[MAX_COLS])
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/%s", SGS_SOURCE_DIR, name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char line[2048];
    int n = 0;
    if (!fgets(line, sizeof line, f))
        fail_msg("%s is empty", path);
    while (fgets(line, sizeof line, f)) {
        if (n == MAX_ROWS)
            fail_msg("%s: more than %d rows", path, MAX_ROWS);
        char *p = line;
        for (int c = 0; c < n_cols; c++) {
            char *end;
            rows[n][c] = strtod(p, &end);
            if (end == p || (c + 1 < n_cols && *end != ','))
                fail_msg("%s: row %d column %d is not a number", path, n + 2, c + 1);
            p = end + 1;
        }
        n++;
    }
    fclose(f);
    return n;
}

/* |got - ref| <= tol max(1, |ref|) and finite; tracks the worst relative error. */
static void check(const char *what, int row, double got, double ref, double tol, double *worst)
{
    double scale = fabs(ref) > 1.0 ? fabs(ref) : 1.0, e = fabs(got - ref) / scale;
    if (!isfinite(got) || !(e <= tol))
        fail_msg("row %d %s: expected %.17g, got %.17g (error %.3g, tolerance %.3g)", row, what,
                 ref, got, e, tol);
    if (e > *worst)
        *worst = e;
}

/* got/ref within TOL_SCORE of 1; a reference below the double range (P(alive) = 1e-2374)
 * must give 0 or a subnormal. */
static void check_relative(const char *what, int row, double got, double ref, double *worst)
{
    if (fabs(ref) < 1e-290) {
        if (!(fabs(got) < 1e-290))
            fail_msg("row %d %s: expected %.17g, got %.17g", row, what, ref, got);
        return;
    }
    check(what, row, got / ref, 1.0, TOL_SCORE, worst);
}

static double rows[MAX_ROWS][MAX_COLS];

static void test_hyp2f1_against_reference(void **state)
{
    (void)state;
    int n = read_csv("pareto_hyp2f1_reference.csv", 10, rows);
    sgs_assert_cmp(n, >=, 200);
    double worst[5] = {0}, worst_work = 0;
    for (int i = 0; i < n; i++) {
        const double *v = rows[i];
        sgs_hyp2f1_t f;
        int rc = sgs_hyp2f1_ap1_ex(v[0], v[1], v[2], v[3], v[4], &f);
        if (rc != 0)
            fail_msg("row %d: a %.17g b %.17g z %.17g: error %d", i + 2, v[0], v[1], v[3], rc);
        check("ln F", i + 2, f.log_f, v[5], TOL_LOG_F, &worst[0]);
        check("ln F + b ln(1-z)", i + 2, f.log_fs, v[6], TOL_LOG_F, &worst[1]);
        check("d/da ln F", i + 2, f.d[0], v[7], TOL_D_LOG_F, &worst[2]);
        check("d/db ln F", i + 2, f.d[1], v[8], TOL_D_LOG_F, &worst[3]);
        check("d/dz ln F", i + 2, f.d[2], v[9], TOL_D_LOG_F, &worst[4]);
        if (f.n_work > MAX_WORK)
            fail_msg("row %d: work %d above %d", i + 2, f.n_work, MAX_WORK);
        worst_work = fmax(worst_work, f.n_work);
        /* the plain entry point, where it gets the same arguments: 1 - z and a + 1 - b exact
         * (it forms them itself) */
        if (v[4] == 1.0 - v[3] && v[2] == v[0] + 1.0 - v[1]) {
            double lf, d[3];
            assert_int_equal(sgs_hyp2f1_ap1(v[0], v[1], v[3], &lf, d), 0);
            check("ln F (sgs_hyp2f1_ap1)", i + 2, lf, v[5], TOL_LOG_F, &worst[0]);
        }
    }
    print_message("%d rows; worst relative errors: ln F %.2g, scaled %.2g, d/da %.2g, d/db %.2g, "
                  "d/dz %.2g; most work %.0f\n",
                  n, worst[0], worst[1], worst[2], worst[3], worst[4], worst_work);
}

static void test_customers_against_reference(void **state)
{
    (void)state;
    int n = read_csv("pareto_reference.csv", 16, rows);
    sgs_assert_cmp(n, >=, 100);
    double worst[5] = {0};
    for (int i = 0; i < n; i++) {
        const double *v = rows[i], *p = v;
        double x = v[4], t_x = v[5], T = v[6], t = v[7], g[4];
        double ll = sgs_paretonbd_loglik_one(p, x, t_x, T, g);
        check("ln L", i + 2, ll, v[8], TOL_LOGLIK, &worst[0]);
        for (int j = 0; j < 4; j++)
            check("gradient", i + 2, g[j], v[9 + j], TOL_GRAD, &worst[1]);
        /* scores: relative to the value itself (they are probabilities and counts) */
        double pa = sgs_paretonbd_p_alive(p, x, t_x, T);
        double ex = sgs_paretonbd_expected(p, t, x, t_x, T);
        double np = sgs_paretonbd_prob_no_purchase(p, t, x, t_x, T);
        check_relative("P(alive)", i + 2, pa, v[13], &worst[2]);
        check_relative("E[Y(t)]", i + 2, ex, v[14], &worst[3]);
        check_relative("P(no purchase)", i + 2, np, v[15], &worst[4]);
        sgs_assert_cmp(pa, >=, 0.0);
        sgs_assert_cmp(pa, <=, 1.0);
        sgs_assert_cmp(ex, >=, 0.0);
        sgs_assert_cmp(np, >=, 0.0);
        sgs_assert_cmp(np, <=, 1.0);
    }
    print_message("%d rows; worst relative errors: ln L %.2g, gradient %.2g, P(alive) %.2g, "
                  "E[Y] %.2g, P(no purchase) %.2g\n",
                  n, worst[0], worst[1], worst[2], worst[3], worst[4]);
}

/* The likelihood over histories (end terms tabulated per distinct (x, t)) gives the sum of
 * the reference values, per parameter set of the grid. */
static void test_totals_against_reference(void **state)
{
    (void)state;
    int n = read_csv("pareto_reference.csv", 16, rows);
    double x[MAX_ROWS], t_x[MAX_ROWS], T[MAX_ROWS];
    for (int i = 0; i < n;) {
        int j = i;
        double sum = 0.0;
        while (j < n && memcmp(rows[j], rows[i], 4 * sizeof rows[i][0]) == 0) {
            x[j - i] = rows[j][4];
            t_x[j - i] = rows[j][5];
            T[j - i] = rows[j][6];
            sum += rows[j][8];
            j++;
        }
        sgs_histories_t h;
        sgs_exec_t ex = {.n_threads = 2};
        double ll, g[4];
        assert_int_equal(sgs_histories_build(&h, x, t_x, T, NULL, (size_t)(j - i), &ex, NULL), 0);
        assert_int_equal(sgs_paretonbd_loglik(rows[i], &h, &ll, g, &ex, NULL), 0);
        double worst = 0.0;
        check("total ln L", i + 2, ll, sum, TOL_LOGLIK * (j - i), &worst);
        for (int k = 0; k < 4; k++)
            sgs_assert_finite(g[k]);
        sgs_histories_free(&h);
        i = j;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hyp2f1_against_reference),
        cmocka_unit_test(test_customers_against_reference),
        cmocka_unit_test(test_totals_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
