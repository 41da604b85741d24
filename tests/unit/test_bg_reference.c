/*
 * tests/unit/test_bg_reference.c — every per-customer output of the BG/NBD and MBG/NBD
 * (expected purchases if alive and overall, the new-customer expectation, P(alive),
 * P(no purchase)) against tests/data/bg_expected_reference.csv: the published closed forms
 * evaluated by mpmath at 60 digits (checked at 90, and against the defining integral) by
 * tests/data/make_bg_reference.py, on a grid with the corners of issue 11 (a down to 1e-4,
 * a + b < 1 and = 1, a = 1, r and alpha up to 1e4, x up to 1e4, t_x = T, T = 0 and 3,
 * horizons 1 to 3650, large-r fits).
 *
 * Tolerances: 1e-10 relative for expectations and P(alive) (the kernels' own bounds are
 * 1e-12 and below; see kernels/special.h); P(no purchase) = 1 - P(alive)(1 - P0) is a
 * difference from 1, so 1e-10 relative or 1e-15 absolute. Values below 1e-290 (underflow
 * of P(alive) far in the tail) are compared absolutely. Every output must be finite,
 * expectations >= 0 and probabilities in [0, 1].
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/bgnbd.h"
#include "kernels/mbgnbd.h"
#include "tests/support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFERENCE_CSV SGS_SOURCE_DIR "/tests/data/bg_expected_reference.csv"
#define TOL_REL 1e-10
#define MIN_ROWS 3000

enum { C_EA, C_PA, C_E, C_NP, C_NEW, N_COLS };
static const char *const col_name[N_COLS] = {"expected_if_alive", "p_alive", "expected",
                                             "prob_no_purchase (beyond 1e-15 absolute)",
                                             "expected_new"};

typedef struct worst {
    double rel;
    char row[256];
} worst_t;

/* |got - want| <= TOL_REL |want| + tol_abs (absolute below 1e-290); records the largest
 * relative error outside tol_abs. */
static int check(worst_t *w, const char *row, double got, double want, double tol_abs)
{
    double diff = fabs(got - want), scale = fabs(want);
    int tiny = scale < 1e-290;
    int within = tiny ? diff < 1e-290 : diff <= TOL_REL * scale + tol_abs;
    double rel = tiny ? (within ? 0.0 : 1.0) : (diff <= tol_abs ? 0.0 : diff / scale);
    if (!isnan(w->rel) && !(rel <= w->rel)) { /* a NaN, once seen, stays */
        w->rel = rel;
        snprintf(w->row, sizeof w->row, "%.180s (got %.17g, want %.17g)", row, got, want);
    }
    return isfinite(got) && within;
}

static void test_reference_grid(void **state)
{
    (void)state;
    FILE *fh = fopen(REFERENCE_CSV, "r");
    if (!fh)
        fail_msg("cannot open %s", REFERENCE_CSV);
    char line[1024];
    worst_t worst[N_COLS];
    memset(worst, 0, sizeof worst);
    int n_rows = 0, n_bad = 0, n_models[2] = {0, 0}, n_limit = 0;
    while (fgets(line, sizeof line, fh)) {
        if (line[0] == '#' || strncmp(line, "model,", 6) == 0)
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        char row[1024];
        snprintf(row, sizeof row, "%s", line);
        char *fields[16];
        int nf = 0;
        for (char *tok = strtok(line, ","); tok && nf < 16; tok = strtok(NULL, ","))
            fields[nf++] = tok;
        if (nf != 14)
            fail_msg("%s: %d fields in row '%s'", REFERENCE_CSV, nf, row);
        int m = strcmp(fields[0], "mbgnbd") == 0;
        if (!m && strcmp(fields[0], "bgnbd") != 0)
            fail_msg("%s: unknown model in row '%s'", REFERENCE_CSV, row);
        double v[8], ref[4];
        for (int j = 0; j < 8; j++)
            v[j] = strtod(fields[1 + j], NULL);
        for (int j = 0; j < 4; j++)
            ref[j] = strtod(fields[10 + j], NULL);
        n_limit += strcmp(fields[9], "limit") == 0;
        const double *p = v;
        double x = v[4], t_x = v[5], T = v[6], t = v[7];
        double got[N_COLS];
        got[C_EA] =
            m ? sgs_mbgnbd_expected_if_alive(p, t, x, T) : sgs_bgnbd_expected_if_alive(p, t, x, T);
        got[C_PA] = m ? sgs_mbgnbd_p_alive(p, x, t_x, T) : sgs_bgnbd_p_alive(p, x, t_x, T);
        got[C_E] = m ? sgs_mbgnbd_expected(p, t, x, t_x, T) : sgs_bgnbd_expected(p, t, x, t_x, T);
        got[C_NP] = m ? sgs_mbgnbd_prob_no_purchase(p, t, x, t_x, T)
                      : sgs_bgnbd_prob_no_purchase(p, t, x, t_x, T);
        int ok = 1;
        ok &= check(&worst[C_EA], row, got[C_EA], ref[0], 0.0);
        ok &= check(&worst[C_PA], row, got[C_PA], ref[1], 0.0);
        ok &= check(&worst[C_E], row, got[C_E], ref[2], 0.0);
        ok &= check(&worst[C_NP], row, got[C_NP], ref[3], 1e-15);
        if (x == 0.0 && t_x == 0.0 && T == 0.0) {
            got[C_NEW] = m ? sgs_mbgnbd_expected_new(p, t) : sgs_bgnbd_expected_new(p, t);
            ok &= check(&worst[C_NEW], row, got[C_NEW], ref[2], 0.0);
        }
        /* nothing negative where the quantity cannot be */
        ok &= got[C_EA] >= 0.0 && got[C_E] >= 0.0;
        ok &= got[C_PA] >= 0.0 && got[C_PA] <= 1.0 && got[C_NP] >= 0.0 && got[C_NP] <= 1.0;
        if (!ok && n_bad++ < 10)
            print_error("outside tolerance or range: %s -> %.17g %.17g %.17g %.17g\n", row,
                        got[C_EA], got[C_PA], got[C_E], got[C_NP]);
        n_rows++;
        n_models[m]++;
    }
    fclose(fh);
    for (int j = 0; j < N_COLS; j++)
        print_message("%-18s largest relative error %.3g%s%s\n", col_name[j], worst[j].rel,
                      worst[j].rel > 0 ? " at " : "", worst[j].row);
    print_message("%d rows (%d BG/NBD, %d MBG/NBD, %d at a = 1 or c = 0), %d outside\n", n_rows,
                  n_models[0], n_models[1], n_limit, n_bad);
    sgs_assert_cmp(n_rows, >=, MIN_ROWS);
    sgs_assert_cmp(n_models[0], >, 0);
    sgs_assert_cmp(n_models[1], >, 0);
    sgs_assert_cmp(n_limit, >, 0);
    assert_int_equal(n_bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
