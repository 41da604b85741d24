/*
 * io/h5_matrix.c — 2-D float64 matrix reader. See h5_matrix.h.
 */
#include "io/h5_matrix.h"

#include "io/h5_columns.h"
#include "io/h5_crash.h"
#include "io/h5_guard.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rows per H5Dread call: bounded memory for HDF5's conversion buffers. */
#define SLAB_ROWS ((hsize_t)1 << 16)

/* Touch every page of a fresh allocation from n_threads threads, so that the page faults
 * are taken in parallel rather than one by one inside HDF5's copy. */
static void prefault(double *p, size_t count, int n_threads)
{
    const size_t step = 1 << 16; /* doubles: 512 KiB per piece */
    size_t pieces = (count + step - 1) / step;
#pragma omp parallel for num_threads(n_threads > 0 ? n_threads : 1) schedule(static)
    for (size_t q = 0; q < pieces; q++) {
        size_t a = q * step, b = a + step < count ? a + step : count;
        memset(p + a, 0, (b - a) * sizeof *p);
    }
}

/* "<file>: <dataset>: <what the guard refused>", with the guard's code. */
static int refused(sgs_error_t *err, const char *file_name, const char *dataset,
                   const sgs_h5_refusal_t *why)
{
    return sgs_error_set(err, why->code, "%s: %s: %s", file_name, dataset, why->text);
}

/* Open the two-dimensional `dataset` of `file` for reading, through the checks of
 * io/h5_guard.h: its links walked first (nothing outside the file), opened so that no
 * external link is traversed, then where its data lives, its type (`rule`), filters and
 * storage. @return 0 with *out open; SGS_EDATA (missing, not a dataset, not 2-D, refused);
 * SGS_EIO, SGS_ENOMEM. */
static int open_checked(hid_t file, const char *file_name, const char *dataset,
                        const sgs_h5_column_rule_t *rule, int n_threads, hid_t *out,
                        sgs_error_t *err)
{
    *out = -1;
    sgs_h5_refusal_t why;
    if (dataset[0] != '/')
        return sgs_error_set(err, SGS_EDATA, "%s has no dataset %s", file_name, dataset);
    if (sgs_h5_guard_path(file, dataset, &why) != SGS_OK)
        return refused(err, file_name, dataset, &why);
    hid_t dapl = sgs_h5_guard_dapl();
    if (dapl < 0)
        return sgs_error_set(err, SGS_EIO, "%s: cannot set up HDF5 access", file_name);
    int rc = SGS_OK;
    hid_t dset = -1, space = -1;
    htri_t exists = H5Lexists(file, dataset, dapl);
    if (exists <= 0) {
        H5Eclear2(H5E_DEFAULT);
        rc = sgs_error_set(err, SGS_EDATA, "%s has no dataset %s", file_name, dataset);
        goto cleanup;
    }
    hid_t obj = H5Oopen(file, dataset, dapl);
    H5I_type_t kind = obj >= 0 ? H5Iget_type(obj) : H5I_BADID;
    if (obj >= 0)
        H5Oclose(obj);
    if (kind != H5I_DATASET) {
        char cause[256] = "";
        int code = obj < 0 ? sgs_h5_guard_read_failure(cause, sizeof cause) : SGS_EDATA;
        rc = sgs_error_set(err, code, "%s: %s is not a dataset%s%s", file_name, dataset,
                           *cause ? ": " : "", cause);
        goto cleanup;
    }
    dset = H5Dopen2(file, dataset, dapl);
    space = dset >= 0 ? H5Dget_space(dset) : -1;
    if (space < 0) {
        char cause[256];
        int code = sgs_h5_guard_read_failure(cause, sizeof cause);
        rc = sgs_error_set(err, code, "%s: cannot open dataset %s%s%s%s", file_name, dataset,
                           code == SGS_EDATA ? ": its header is malformed" : "", *cause ? ": " : "",
                           cause);
        goto cleanup;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank != 2) {
        rc = sgs_error_set(err, SGS_EDATA,
                           "%s: dataset %s has %d dimension%s, expected 2 (rows x columns)",
                           file_name, dataset, rank, rank == 1 ? "" : "s");
        goto cleanup;
    }
    if (sgs_h5_guard_dataset(file, dset, rule, n_threads, &why) != SGS_OK) {
        rc = refused(err, file_name, dataset, &why);
        goto cleanup;
    }
    *out = dset;
    dset = -1;
cleanup:
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    H5Pclose(dapl);
    return rc;
}

int sgs_h5_matrix_read(hid_t file, const char *file_name, const char *dataset, int n_threads,
                       double **out, size_t *n_rows, size_t *n_cols, sgs_error_t *err)
{
    *out = NULL;
    sgs_h5_quiet();
    static const sgs_h5_column_rule_t rule = {"the matrix", SGS_H5_NUMBERS, 8, "read as float64"};
    hid_t dset, space = -1, mspace = -1, fspace = -1;
    sgs_h5_crash_arm(file_name);
    int rc = open_checked(file, file_name, dataset, &rule, n_threads, &dset, err);
    sgs_h5_crash_disarm();
    if (rc)
        return rc;
    double *data = NULL;
    hsize_t dims[2];
    space = H5Dget_space(dset);
    if (space < 0 || H5Sget_simple_extent_dims(space, dims, NULL) != 2) {
        rc = sgs_error_set(err, SGS_EIO, "%s: cannot inspect dataset %s", file_name, dataset);
        goto cleanup;
    }
    if (dims[0] == 0 || dims[1] == 0) {
        rc = sgs_error_set(err, SGS_EDATA, "%s: dataset %s is empty (%llu x %llu)", file_name,
                           dataset, (unsigned long long)dims[0], (unsigned long long)dims[1]);
        goto cleanup;
    }
    size_t count;
    if (sgs_size_mul((size_t)dims[0], (size_t)dims[1], &count) ||
        !(data = sgs_alloc_array(count, sizeof *data))) {
        rc = sgs_error_set(err, SGS_ENOMEM, "%s: no memory for dataset %s (%llu x %llu)", file_name,
                           dataset, (unsigned long long)dims[0], (unsigned long long)dims[1]);
        goto cleanup;
    }
    prefault(data, count, n_threads);
    for (hsize_t r0 = 0; r0 < dims[0]; r0 += SLAB_ROWS) {
        hsize_t start[2] = {r0, 0};
        hsize_t cnt[2] = {dims[0] - r0 < SLAB_ROWS ? dims[0] - r0 : SLAB_ROWS, dims[1]};
        sgs_h5_crash_arm(file_name);
        if (fspace < 0)
            fspace = H5Dget_space(dset);
        if (mspace >= 0)
            H5Sclose(mspace);
        mspace = H5Screate_simple(2, cnt, NULL);
        int ok = fspace >= 0 && mspace >= 0 &&
                 H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, cnt, NULL) >= 0 &&
                 H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT,
                         data + (size_t)r0 * (size_t)dims[1]) >= 0;
        sgs_h5_crash_disarm();
        if (!ok) {
            char cause[256];
            rc = sgs_h5_guard_read_failure(cause, sizeof cause);
            rc = sgs_error_set(err, rc, "%s: cannot read rows %llu.. of dataset %s%s%s%s",
                               file_name, (unsigned long long)r0, dataset,
                               rc == SGS_EDATA ? ": the stored data is malformed" : "",
                               *cause ? ": " : "", cause);
            goto cleanup;
        }
    }
    *out = data;
    *n_rows = (size_t)dims[0];
    *n_cols = (size_t)dims[1];
    data = NULL;
cleanup:
    sgs_free(data);
    sgs_h5_crash_arm(file_name);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(dset);
    sgs_h5_crash_disarm();
    return rc;
}

/* Open `path` read-only, as io/h5_reader_open.c does: SGS_ENOINPUT when it is missing or not
 * HDF5; a failed open classified by io/h5_guard.h (truncated or malformed 65, locked 75,
 * I/O 74). Called armed. */
static int open_input(const char *path, hid_t *out, sgs_error_t *err)
{
    *out = -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return sgs_error_set(err, SGS_ENOINPUT, "%s: no such file", path);
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs_error_set(err, SGS_ENOINPUT, "%s: not an HDF5 file (or not readable)", path);
    }
    *out = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*out < 0) {
        sgs_h5_refusal_t why;
        int code = sgs_h5_guard_open_failure(path, &why);
        return sgs_error_set(err, code, "%s: %s", path, why.text);
    }
    return SGS_OK;
}

int sgs_h5_matrix_read_file(const char *path, const char *dataset, int n_threads, double **out,
                            size_t *n_rows, size_t *n_cols, sgs_error_t *err)
{
    sgs_h5_quiet();
    hid_t f;
    sgs_h5_crash_arm(path);
    int rc = open_input(path, &f, err);
    sgs_h5_crash_disarm();
    if (rc)
        return rc;
    rc = sgs_h5_matrix_read(f, path, dataset, n_threads, out, n_rows, n_cols, err);
    sgs_h5_crash_arm(path);
    H5Fclose(f);
    sgs_h5_crash_disarm();
    return rc;
}

int sgs_h5_vector_read_file(const char *path, const char *dataset, double **out, size_t *n,
                            sgs_error_t *err)
{
    *out = NULL;
    *n = 0;
    sgs_h5_quiet();
    hid_t f;
    sgs_h5_crash_arm(path);
    int rc = open_input(path, &f, err);
    sgs_h5_crash_disarm();
    if (rc)
        return rc;
    /* sgs_h5_read_column checks and arms itself; its messages name the file */
    rc = sgs_h5_read_column(f, dataset, SGS_H5_F64, (void **)out, n, err);
    sgs_h5_crash_arm(path);
    H5Fclose(f);
    sgs_h5_crash_disarm();
    return rc;
}
