/*
 * engine/cmd_kmeans.c — `segscore kmeans`: cluster any float64 n x d matrix stored in HDF5
 * and write labels, centers, inertia and iterations; print the time per iteration. The
 * stand-alone, benchmarkable face of kernels/kmeans.h.
 */
#include "engine/command_outputs.h"
#include "engine/commands.h"
#include "engine/interrupt.h"
#include "engine/options.h"

#include "io/atomic_file.h"
#include "io/h5_columns.h"
#include "io/h5_matrix.h"
#include "io/h5_output.h"
#include "io/output_paths.h"
#include "kernels/kmeans.h"

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CMD "segscore kmeans"

/* The defaults shown are the kernel's own (sgs_kmeans_options_init). */
static void usage(FILE *out)
{
    sgs_kmeans_options_t d;
    sgs_kmeans_options_init(&d, 0);
    fprintf(out,
            "usage: segscore kmeans -i MATRIX.h5 --k K -o OUT.h5 [options]\n"
            "\n"
            "Cluster the rows of a 2-D numeric dataset with k-means.\n"
            "\n"
            "  -i, --input FILE       HDF5 file holding the matrix (n rows x d columns)\n"
            "      --dataset PATH     the matrix dataset (default /X)\n"
            "      --weights PATH     optional 1-D dataset of n sample weights in the input\n"
            "      --k K              number of clusters (1 <= K <= n)\n"
            "      --init WHAT        k-means++ (default) | k-means|| | first | random |\n"
            "                         FILE.h5:/DATASET (K x d initial centers)\n"
            "      --algorithm A      lloyd (default) | hamerly | elkan | minibatch\n"
            "      --max-iter N       iterations per run (default %d; minibatch: epochs)\n"
            "      --tol T            relative tolerance on the center shift (default %g;\n"
            "                         0 = stop only when labels stop changing)\n"
            "      --n-init N         restarts, the lowest inertia kept (default %d)\n"
            "      --seed S           random seed (default %llu)\n"
            "      --batch-size B     minibatch rows per step (default %zu)\n"
            "      --threads N        OpenMP threads (default 1; 0 = every core)\n"
            "  -o, --output FILE      result HDF5: /labels (int32, n), /centers (K x d),\n"
            "                         attributes inertia, iterations, converged, ...\n"
            "  -v, --verbose          print every iteration\n"
            "  -q, --quiet            print nothing but errors\n"
            "  -h, --help             this text\n",
            d.max_iter, d.tol, d.n_init, (unsigned long long)d.seed, d.batch_size);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct iter_clock {
    double last;   /* time of the previous callback or of the start of the fit */
    double *times; /* seconds of each iteration of the kept run, by run */
    int *run_of;   /* run of each recorded iteration */
    size_t n, cap;
    int verbose;
} iter_clock_t;

static void on_iter(void *ctx, int run, int iter, size_t n_changed, double shift2)
{
    iter_clock_t *c = ctx;
    double t = now_s(), dt = t - c->last;
    c->last = t;
    if (c->n < c->cap) {
        c->times[c->n] = dt;
        c->run_of[c->n] = run;
        c->n++;
    }
    if (c->verbose)
        printf("run %d iteration %d: %.3f ms, %zu labels changed, center shift^2 %.6g\n", run,
               iter + 1, dt * 1e3, n_changed, shift2);
}

/* Write the result file into the temporary of `a` (reserved before the fit, so that an
 * unusable output folder is reported before any work) and publish it atomically. */
static int write_output(sgs_atomic_t *a, const int32_t *labels, size_t n, const double *centers,
                        size_t k, size_t d, const sgs_kmeans_result_t *res, const char *alg,
                        const char *init, const sgs_kmeans_options_t *opt, sgs_error_t *err)
{
    const char *path = a->final_path;
    int rc;
    sgs_h5_quiet();
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0)
        H5Pset_obj_track_times(fcpl, 0);
    hid_t f = fcpl >= 0 ? H5Fcreate(a->temp_path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT) : -1;
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (f < 0) {
        sgs_atomic_abort(a);
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create HDF5 file", path);
    }
    rc = sgs_h5_write_column(f, "/labels", SGS_H5_I32, labels, n, 0, err);
    if (!rc)
        rc = sgs_h5_write_matrix(f, "/centers", centers, k, d, err);
    if (!rc)
        rc = sgs_h5_attr_double(f, "/", "inertia", res->inertia, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/", "iterations", res->n_iter, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/", "converged", res->converged, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/", "k", (int64_t)k, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/", "nonempty_clusters", (int64_t)res->n_nonempty, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/", "best_run", res->best_run, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/", "n_init", opt->n_init, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/", "seed", (int64_t)opt->seed, err);
    if (!rc)
        rc = sgs_h5_attr_double(f, "/", "tol", opt->tol, err);
    if (!rc)
        rc = sgs_h5_attr_double(f, "/", "tol_abs", res->tol_abs, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/", "algorithm", alg, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/", "init", init, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/", "engine_version", SGS_VERSION, err);
    rc = sgs_h5_finish_output(f, rc, err);
    if (rc) {
        if (rc == SGS_ENOSPACE) /* "<temporary>: no space left on device" */
            sgs_error_rename(err, a->temp_path, path);
        else
            sgs_error_prefix(err, "%s", path);
        sgs_atomic_abort(a);
        return rc;
    }
    /* The last point where the command can step back. */
    rc = sgs_interrupt_checkpoint("kmeans-written", "before publishing the output", err);
    if (rc) {
        sgs_atomic_abort(a);
        return rc;
    }
    return sgs_atomic_commit(a, err);
}

/* "file.h5:/dataset" -> file and dataset; 0 when the text has that shape. */
static int split_file_dataset(const char *s, char *file, size_t fsize, const char **dataset)
{
    const char *colon = strstr(s, ":/");
    if (!colon || colon == s || (size_t)(colon - s) >= fsize)
        return -1;
    memcpy(file, s, (size_t)(colon - s));
    file[colon - s] = '\0';
    *dataset = colon + 1;
    return 0;
}

static int fail(int rc, const sgs_error_t *err)
{
    fprintf(stderr, CMD ": %s%s\n", rc == SGS_EINTR ? "" : "error: ", err->message);
    return sgs_interrupt_exit_status_for(rc);
}

int sgs_cmd_kmeans(int argc, char **argv)
{
    const char *input = NULL, *output = NULL, *dataset = "/X", *weights_path = NULL;
    const char *init = "k-means++", *alg = "lloyd";
    size_t k = 0;
    int threads = 1, verbose = 0, quiet = 0;
    sgs_kmeans_options_t opt;
    sgs_kmeans_options_init(&opt, 0);
    const sgs_option_t options[] = {
        SGS_OPTION_INPUT(&input, 1),
        SGS_OPTION_OUTPUT(&output, 1),
        {.name = "dataset", .kind = SGS_OPT_TEXT, .target = &dataset},
        {.name = "weights", .kind = SGS_OPT_TEXT, .target = &weights_path},
        {.name = "k",
         .kind = SGS_OPT_COUNT,
         .target = &k,
         .lo = 1,
         .hi = SGS_OPTION_NO_MAX,
         .metavar = "K",
         .required = 1},
        {.name = "init", .kind = SGS_OPT_TEXT, .target = &init},
        {.name = "algorithm",
         .kind = SGS_OPT_CHOICE,
         .target = &alg,
         .choices = "lloyd|hamerly|elkan|minibatch"},
        {.name = "max-iter",
         .kind = SGS_OPT_INT,
         .target = &opt.max_iter,
         .lo = 1,
         .hi = INT32_MAX},
        {.name = "tol", .kind = SGS_OPT_NUMBER, .target = &opt.tol, .lo = 0, .hi = INFINITY},
        {.name = "n-init", .kind = SGS_OPT_INT, .target = &opt.n_init, .lo = 1, .hi = INT32_MAX},
        {.name = "seed",
         .kind = SGS_OPT_U64,
         .target = &opt.seed,
         .lo = 0,
         .hi = SGS_OPTION_NO_MAX},
        {.name = "batch-size",
         .kind = SGS_OPT_COUNT,
         .target = &opt.batch_size,
         .lo = 1,
         .hi = SGS_OPTION_NO_MAX},
        SGS_OPTION_THREADS(&threads),
        {.name = "verbose", .short_name = 'v', .kind = SGS_OPT_FLAG, .target = &verbose},
        SGS_OPTION_QUIET(&quiet),
    };
    const sgs_command_line_t command_line = {.command = "kmeans",
                                             .help = usage,
                                             .options = options,
                                             .n_options = sizeof options / sizeof options[0]};
    int status = sgs_command_line_parse(&command_line, argc, argv);
    if (status >= 0)
        return status;
    if (threads == 0)
        threads = omp_get_max_threads();
    if (strcmp(alg, "lloyd") == 0)
        opt.algorithm = SGS_KMEANS_LLOYD;
    else if (strcmp(alg, "hamerly") == 0)
        opt.algorithm = SGS_KMEANS_HAMERLY;
    else if (strcmp(alg, "elkan") == 0)
        opt.algorithm = SGS_KMEANS_ELKAN;
    else
        opt.algorithm = SGS_KMEANS_MINIBATCH; /* the choices above are the parser's */
    char init_file[4096];
    const char *init_dataset = NULL;
    if (strcmp(init, "k-means++") == 0)
        opt.init = SGS_KMEANS_INIT_PLUSPLUS;
    else if (strcmp(init, "k-means||") == 0)
        opt.init = SGS_KMEANS_INIT_PARALLEL;
    else if (strcmp(init, "first") == 0)
        opt.init = SGS_KMEANS_INIT_FIRST;
    else if (strcmp(init, "random") == 0)
        opt.init = SGS_KMEANS_INIT_RANDOM;
    else if (split_file_dataset(init, init_file, sizeof init_file, &init_dataset) == 0)
        opt.init = SGS_KMEANS_INIT_GIVEN;
    else
        return sgs_usage_error("kmeans",
                               "--init must be k-means++, k-means||, first, random or "
                               "FILE.h5:/DATASET, got \"%s\"",
                               init);
    opt.k = k;

    sgs_error_t err = {0};
    double *x = NULL, *w = NULL, *c0 = NULL, *centers = NULL;
    int32_t *labels = NULL;
    iter_clock_t clk = {0};
    size_t n = 0, d = 0;
    /* Before any work: the output checked against the inputs and locked, a killed command's
     * temporary removed, signals caught (engine/command_outputs.h). */
    const sgs_named_path_t inputs[] = {{"input", input},
                                       {"--init file", init_dataset ? init_file : NULL}};
    const sgs_named_path_t outputs[] = {{"output", output}};
    sgs_progress_t notes; /* for the note on removed temporaries */
    sgs_progress_init(&notes, stderr, quiet);
    sgs_command_outputs_t outs;
    int rc = sgs_command_outputs_open("kmeans", inputs, 2, outputs, 1, &notes, &outs, &err);
    if (rc) {
        sgs_command_outputs_close(&outs);
        return fail(rc, &err);
    }
    sgs_stop_point_t stop = {"kmeans-fit", "while clustering"};
    const sgs_exec_t exec = {.n_threads = threads, .stop = sgs_interrupt_stop, .stop_ctx = &stop};
    /* The output's temporary is created once every input has been read: a damaged input that
     * crashes libhdf5 ends the process at once (io/h5_crash.h), with nothing to clean up. */
    sgs_atomic_t out = {{0}, {0}};
    double t_read = now_s();
    rc = sgs_h5_matrix_read_file(input, dataset, threads, &x, &n, &d, &err);
    if (rc)
        goto done;
    t_read = now_s() - t_read;
    rc = sgs_interrupt_check("after reading the input", &err);
    if (rc)
        goto done;
    rc = sgs_kmeans_check_finite(x, n, d, &exec, &err);
    if (rc) {
        sgs_error_prefix(&err, "%s %s", input, dataset);
        goto done;
    }
    if (n < k) {
        rc = sgs_error_set(&err, SGS_EDATA, "%s %s has %zu rows, fewer than --k %zu", input,
                           dataset, n, k);
        goto done;
    }
    if (weights_path) {
        size_t nw = 0;
        rc = sgs_h5_vector_read_file(input, weights_path, &w, &nw, &err);
        if (!rc && nw != n)
            rc =
                sgs_error_set(&err, SGS_EDATA, "%s: weights %s has %zu values, the matrix %zu rows",
                              input, weights_path, nw, n);
        if (rc)
            goto done;
    }
    if (opt.init == SGS_KMEANS_INIT_GIVEN) {
        size_t kr = 0, kc = 0;
        rc = sgs_h5_matrix_read_file(init_file, init_dataset, 1, &c0, &kr, &kc, &err);
        if (!rc && (kr != k || kc != d))
            rc = sgs_error_set(&err, SGS_EDATA,
                               "initial centers %s %s are %zu x %zu, expected %zu x %zu (--k x "
                               "columns of %s)",
                               init_file, init_dataset, kr, kc, k, d, dataset);
        if (rc)
            goto done;
        opt.init_centers = c0;
    }
    rc = sgs_atomic_begin(output, &out, &err);
    if (rc)
        goto done;
    labels = sgs_alloc_array(n, sizeof *labels);
    centers = sgs_alloc_array(k, d * sizeof *centers);
    clk.cap = (size_t)opt.max_iter * (size_t)opt.n_init;
    if (opt.algorithm == SGS_KMEANS_MINIBATCH)
        clk.cap = 1u << 20;
    clk.times = sgs_alloc_array(clk.cap, sizeof *clk.times);
    clk.run_of = sgs_alloc_array(clk.cap, sizeof *clk.run_of);
    if (!labels || !centers || !clk.times || !clk.run_of) {
        rc = sgs_error_set(&err, SGS_ENOMEM, "out of memory for %zu rows", n);
        goto done;
    }
    clk.verbose = verbose && !quiet;
    opt.on_iter = on_iter;
    opt.on_iter_ctx = &clk;
    if (!quiet)
        printf(CMD ": %s %s: %zu rows x %zu columns read in %.3f s\n", input, dataset, n, d,
               t_read);
    sgs_kmeans_result_t res;
    double t_fit = now_s();
    clk.last = t_fit;
    rc = sgs_kmeans_fit(x, n, d, w, &opt, &exec, labels, centers, &res, &err);
    t_fit = now_s() - t_fit;
    if (rc) {
        if (rc != SGS_EINTR) /* a stop says why */
            sgs_error_prefix(&err, "%s %s", input, dataset);
        goto done;
    }
    rc = write_output(&out, labels, n, centers, k, d, &res, alg, init, &opt, &err);
    if (rc)
        goto done;
    if (!quiet) {
        /* Per-iteration times of the kept run (the first iteration of a run also carries
         * its seeding, so it is reported apart). */
        double sum = 0, mn = INFINITY, mx = 0, first = 0;
        size_t cnt = 0, seen = 0;
        for (size_t q = 0; q < clk.n; q++) {
            if (clk.run_of[q] != res.best_run)
                continue;
            if (seen++ == 0) {
                first = clk.times[q];
                continue;
            }
            sum += clk.times[q];
            mn = clk.times[q] < mn ? clk.times[q] : mn;
            mx = clk.times[q] > mx ? clk.times[q] : mx;
            cnt++;
        }
        printf(CMD ": %s, k = %zu, %d thread%s: %d iteration%s (%s), inertia %.10g\n", alg, k,
               threads, threads == 1 ? "" : "s", res.n_iter, res.n_iter == 1 ? "" : "s",
               res.converged ? "converged" : "max-iter reached", res.inertia);
        if (cnt > 0)
            printf(CMD ": time per iteration %.3f ms (min %.3f, max %.3f; first iteration "
                       "with seeding %.3f ms); fit %.3f s\n",
                   sum / (double)cnt * 1e3, mn * 1e3, mx * 1e3, first * 1e3, t_fit);
        else
            printf(CMD ": one iteration (with seeding) %.3f ms; fit %.3f s\n", first * 1e3, t_fit);
        if (res.n_nonempty < k)
            printf(CMD ": warning: only %zu of %zu clusters are non-empty (fewer distinct rows "
                       "than clusters?)\n",
                   res.n_nonempty, k);
        printf(CMD ": wrote %s\n", output);
    }
done:
    sgs_atomic_abort(&out); /* no-op after a commit */
    sgs_command_outputs_close(&outs);
    sgs_free(x);
    sgs_free(w);
    sgs_free(c0);
    sgs_free(labels);
    sgs_free(centers);
    sgs_free(clk.times);
    sgs_free(clk.run_of);
    return rc ? fail(rc, &err) : 0;
}
