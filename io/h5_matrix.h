/*
 * io/h5_matrix.h — read a two-dimensional numeric HDF5 dataset as a row-major float64
 * matrix (io/h5_columns.h reads only 1-D columns; sgs_h5_write_matrix there writes 2-D),
 * and a one-dimensional one as a float64 vector: the inputs of `segscore kmeans`.
 *
 * Any storage layout, chunking, filter and numeric element type HDF5 can convert to
 * double is accepted, after the checks every input gets (io/h5_guard.h): nothing reached
 * through a link that leaves the file, no virtual dataset or external storage, integer or
 * floating-point elements of at most 8 bytes whose declared bits fit them, decodable
 * filters, every element written and inside the file; refused with SGS_EDATA and
 * "<file>: <dataset>: <why>" before any data is read. HDF5 runs armed against its own
 * crashes on damaged files (io/h5_crash.h). The destination is allocated once and its
 * pages are touched in parallel before HDF5 fills it (DESIGN.md, "Scale": reading into
 * fresh pages is the slow part), then the dataset is read in slabs of rows into it.
 */
#ifndef SGS_H5_MATRIX_H
#define SGS_H5_MATRIX_H

#include "kernels/core.h"

#include <hdf5.h>

/* Read dataset `dataset` ("/X") of the open file into a new n_rows x n_cols array
 * (caller frees with sgs_free). `file_name` is used in messages and names the file should
 * libhdf5 crash on it.
 * @return 0; SGS_EDATA when the dataset does not exist ("... has no dataset /X"), is not
 * 2-D ("... has 1 dimension, expected 2 (rows x columns)"), is refused by the checks above
 * (not numeric, ...), is empty in either dimension, or its stored data cannot be decoded;
 * SGS_ENOMEM; SGS_EIO when the operating system fails a read. */
int sgs_h5_matrix_read(hid_t file, const char *file_name, const char *dataset, int n_threads,
                       double **out, size_t *n_rows, size_t *n_cols, sgs_error_t *err);

/* Open `path` read-only and read `dataset` as above.
 * @return as sgs_h5_matrix_read, plus SGS_ENOINPUT when the file is missing or not HDF5;
 * when HDF5 cannot open it, as io/h5_guard.h classifies it: SGS_EDATA (truncated,
 * malformed), SGS_ETEMPFAIL (locked by a writer), SGS_EIO. */
int sgs_h5_matrix_read_file(const char *path, const char *dataset, int n_threads, double **out,
                            size_t *n_rows, size_t *n_cols, sgs_error_t *err);

/* Open `path` read-only and read the one-dimensional dataset `dataset` (k-means weights)
 * into a new float64 array of *n elements (caller frees with sgs_free), through the same
 * checks (sgs_h5_read_column). @return as sgs_h5_matrix_read_file; SGS_EDATA also when the
 * dataset is not one-dimensional. */
int sgs_h5_vector_read_file(const char *path, const char *dataset, double **out, size_t *n,
                            sgs_error_t *err);

#endif
