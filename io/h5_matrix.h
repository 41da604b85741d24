/*
 * io/h5_matrix.h — read a two-dimensional numeric HDF5 dataset as a row-major float64
 * matrix (io/h5_columns.h reads only 1-D columns; sgs_h5_write_matrix there writes 2-D).
 *
 * Any storage layout, chunking, filter and numeric element type HDF5 can convert to
 * double is accepted. The destination is allocated once and its pages are touched in
 * parallel before HDF5 fills it (DESIGN.md, "Scale": reading into fresh pages is the slow
 * part), then the dataset is read in slabs of rows into it.
 */
#ifndef SGS_H5_MATRIX_H
#define SGS_H5_MATRIX_H

#include "kernels/core.h"

#include <hdf5.h>

/* Read dataset `dataset` ("/X") of the open file into a new n_rows x n_cols array
 * (caller frees with sgs_free). `file_name` is only used in messages.
 * @return 0; SGS_EDATA when the dataset does not exist ("... has no dataset /X"), is not
 * 2-D ("... has 1 dimension, expected 2 (rows x columns)"), is not numeric, or is empty
 * in either dimension; SGS_ENOMEM; SGS_EIO when HDF5 fails to read. */
int sgs_h5_matrix_read(hid_t file, const char *file_name, const char *dataset, int n_threads,
                       double **out, size_t *n_rows, size_t *n_cols, sgs_error_t *err);

/* Open `path` read-only and read `dataset` as above.
 * @return as sgs_h5_matrix_read, plus SGS_ENOINPUT when the file is missing or not HDF5. */
int sgs_h5_matrix_read_file(const char *path, const char *dataset, int n_threads, double **out,
                            size_t *n_rows, size_t *n_cols, sgs_error_t *err);

#endif
