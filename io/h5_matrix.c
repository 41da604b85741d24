/*
 * io/h5_matrix.c — 2-D float64 matrix reader. See h5_matrix.h.
 */
#include "io/h5_matrix.h"

#include "io/h5_columns.h"

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

int sgs_h5_matrix_read(hid_t file, const char *file_name, const char *dataset, int n_threads,
                       double **out, size_t *n_rows, size_t *n_cols, sgs_error_t *err)
{
    *out = NULL;
    sgs_h5_quiet();
    htri_t exists = H5Lexists(file, dataset, H5P_DEFAULT);
    if (dataset[0] != '/' || exists <= 0)
        return sgs_error_set(err, SGS_EDATA, "%s has no dataset %s", file_name, dataset);
    hid_t dset = H5Dopen2(file, dataset, H5P_DEFAULT);
    if (dset < 0)
        return sgs_error_set(err, SGS_EDATA, "%s: %s is not a dataset", file_name, dataset);
    hid_t space = H5Dget_space(dset), type = H5Dget_type(dset), mspace = -1, fspace = -1;
    int rc = SGS_OK;
    double *data = NULL;
    if (space < 0 || type < 0) {
        rc = sgs_error_set(err, SGS_EIO, "%s: cannot inspect dataset %s", file_name, dataset);
        goto cleanup;
    }
    H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
        rc = sgs_error_set(err, SGS_EDATA, "%s: dataset %s is not numeric", file_name, dataset);
        goto cleanup;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank != 2) {
        rc = sgs_error_set(err, SGS_EDATA,
                           "%s: dataset %s has %d dimension%s, expected 2 (rows x columns)",
                           file_name, dataset, rank, rank == 1 ? "" : "s");
        goto cleanup;
    }
    hsize_t dims[2];
    H5Sget_simple_extent_dims(space, dims, NULL);
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
        if (fspace < 0)
            fspace = H5Dget_space(dset);
        if (mspace >= 0)
            H5Sclose(mspace);
        mspace = H5Screate_simple(2, cnt, NULL);
        if (fspace < 0 || mspace < 0 ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, cnt, NULL) < 0 ||
            H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT,
                    data + (size_t)r0 * (size_t)dims[1]) < 0) {
            rc = sgs_error_set(err, SGS_EIO, "%s: cannot read rows %llu.. of dataset %s", file_name,
                               (unsigned long long)r0, dataset);
            goto cleanup;
        }
    }
    *out = data;
    *n_rows = (size_t)dims[0];
    *n_cols = (size_t)dims[1];
    data = NULL;
cleanup:
    sgs_free(data);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(dset);
    return rc;
}

int sgs_h5_matrix_read_file(const char *path, const char *dataset, int n_threads, double **out,
                            size_t *n_rows, size_t *n_cols, sgs_error_t *err)
{
    sgs_h5_quiet();
    struct stat st;
    if (stat(path, &st) != 0)
        return sgs_error_set(err, SGS_ENOINPUT, "%s: no such file", path);
    if (H5Fis_hdf5(path) <= 0)
        return sgs_error_set(err, SGS_ENOINPUT, "%s: not an HDF5 file (or not readable)", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return sgs_error_set(err, SGS_ENOINPUT, "%s: cannot open", path);
    int rc = sgs_h5_matrix_read(f, path, dataset, n_threads, out, n_rows, n_cols, err);
    H5Fclose(f);
    return rc;
}
