/*
 * tests/data/install_consumer.c — a program written against the installed library, as a user
 * of libsegscore would: compiled by tests/e2e/test_install.c with nothing but
 * `pkg-config --cflags --libs segscore` from the install prefix, never the source tree.
 *
 *   install_consumer HISTORIES.txt OUT.h5
 *
 * Reads aggregated purchase histories (one per line: repeat purchases x, recency t_x, age T,
 * customers sharing it), fits the BG/NBD (kernels/bgnbd.h) on two threads, writes the fitted
 * parameters to OUT.h5 as /params and reads them back (io/h5_columns.h: HDF5 through the
 * library), then prints one line: the log-likelihood and r, alpha, a, b as %.17g, which the
 * test compares, character for character, with the same fit made in the build tree.
 * Exit status 0, or 1 after a message on stderr.
 */
#include "io/h5_columns.h"
#include "kernels/bgnbd.h"
#include "kernels/core.h"
#include "kernels/histories.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_HISTORIES 64

static int fail(const char *what, const sgs_error_t *err)
{
    fprintf(stderr, "install_consumer: %s: %s\n", what, err->message);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: install_consumer HISTORIES.txt OUT.h5\n", stderr);
        return 1;
    }
    double x[MAX_HISTORIES], t_x[MAX_HISTORIES], T[MAX_HISTORIES], customers[MAX_HISTORIES];
    size_t n = 0;
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        fprintf(stderr, "install_consumer: cannot read %s\n", argv[1]);
        return 1;
    }
    while (n < MAX_HISTORIES &&
           fscanf(in, "%lf %lf %lf %lf", &x[n], &t_x[n], &T[n], &customers[n]) == 4)
        n++;
    fclose(in);

    sgs_error_t err = {0};
    sgs_exec_t exec = {.n_threads = 2, .grain = 0};
    sgs_histories_t h = {0};
    if (sgs_histories_build(&h, x, t_x, T, customers, n, &exec, &err) != 0)
        return fail("histories", &err);
    sgs_fit_t fit;
    int rc = sgs_bgnbd_fit(&h, NULL, &fit, &exec, &err);
    sgs_histories_free(&h);
    if (rc != 0)
        return fail("BG/NBD fit", &err);

    sgs_h5_quiet();
    hid_t file = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        fprintf(stderr, "install_consumer: cannot create %s\n", argv[2]);
        return 1;
    }
    double *back = NULL;
    size_t n_back = 0;
    rc = sgs_h5_write_column(file, "/params", SGS_H5_F64, fit.params, SGS_BGNBD_N_PARAMS, 0, &err);
    if (rc == 0)
        rc = sgs_h5_read_column(file, "/params", SGS_H5_F64, (void **)&back, &n_back, &err);
    H5Fclose(file);
    if (rc != 0)
        return fail("HDF5 round trip", &err);
    if (n_back != SGS_BGNBD_N_PARAMS) {
        fprintf(stderr, "install_consumer: read %zu parameters back, wrote %d\n", n_back,
                SGS_BGNBD_N_PARAMS);
        sgs_free(back);
        return 1;
    }
    printf("ll %.17g r %.17g alpha %.17g a %.17g b %.17g\n", fit.log_likelihood, back[0], back[1],
           back[2], back[3]);
    sgs_free(back);
    return 0;
}
