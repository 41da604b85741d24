/*
 * io/h5_columns.h — one-dimensional HDF5 columns: write a whole column, append to a
 * chunked column in pieces (streaming writers: generate, import), read a whole column,
 * and scalar/string attributes. Knows HDF5, nothing of models.
 *
 * Every function reports failures through sgs_error_t with the file (when known),
 * the dataset path and what went wrong; HDF5's own error printing must be off
 * (sgs_h5_quiet()).
 */
#ifndef SGS_H5_COLUMNS_H
#define SGS_H5_COLUMNS_H

#include "kernels/core.h"

#include <hdf5.h>

/* Element types of project columns. */
typedef enum sgs_h5_type {
    SGS_H5_I64, /* int64_t, little-endian on disk */
    SGS_H5_I32, /* int32_t */
    SGS_H5_U8,  /* uint8_t */
    SGS_H5_I8,  /* int8_t */
    SGS_H5_F64  /* double, IEEE little-endian */
} sgs_h5_type_t;

/* Bytes per element of a column type. */
size_t sgs_h5_type_size(sgs_h5_type_t type);

/* The native HDF5 memory type of a column type (owned by HDF5, never closed). */
hid_t sgs_h5_mem_type(sgs_h5_type_t type);

/* Turn off HDF5's automatic error printing for the calling thread (idempotent; a thread-safe
 * HDF5 keeps one setting per thread, so every thread that calls HDF5 calls this). In its place
 * a silent handler remembers what a failure was (sgs_h5_take_failure). */
void sgs_h5_quiet(void);

/* Why the HDF5 calls of this thread that failed since the previous call failed, and forget it:
 * SGS_ENOMEM when HDF5 could not allocate memory (or a system call said ENOMEM), SGS_ENOSPACE
 * when a system call ran out of room to write (ENOSPC, EDQUOT, EFBIG), else SGS_EIO. A failure
 * HDF5 gives no cause for counts as SGS_ENOMEM when 8 MB cannot be allocated at that moment
 * (HDF5 1.10.8 reports a chunk it could not compress for want of memory only as "can't close
 * dataset"). *os_errno
 * (may be NULL) gets the errno of the last failed system call, 0 if none. Needs
 * sgs_h5_quiet(). */
int sgs_h5_take_failure(int *os_errno);

/* Report a failed HDF5 write into the file that holds `obj` (a file or any object in it) and
 * return the code, by sgs_h5_take_failure: SGS_ENOMEM with "<message>: out of memory";
 * SGS_ENOSPACE with the one-line "<file name>: no space left on device" (see
 * sgs_error_set_os); else SGS_EIO with the printf-style message, followed by ": <reason>"
 * when HDF5 reported a failed system call. */
int sgs_h5_write_error(sgs_error_t *err, hid_t obj, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Open the HDF5 file at `path` read-only into *out (close it with H5Fclose), HDF5's error
 * printing off. A failed open is classified by io/h5_guard.h. Call armed (io/h5_crash.h).
 * @return 0; SGS_ENOINPUT when it does not exist or cannot be read ("<path>: no such file");
 * SGS_EDATA when it is not HDF5 ("<path>: not an HDF5 file"), or truncated or malformed;
 * SGS_ETEMPFAIL when locked by a writer; SGS_EIO. */
int sgs_h5_open_read(const char *path, hid_t *out, sgs_error_t *err);

/* Create the group at `path` ("/customers") and any missing parents; existing groups are
 * fine. @return 0 or SGS_EIO. */
int sgs_h5_group_ensure(hid_t file, const char *path, sgs_error_t *err);

/* Write `n` elements of `data` as a new 1-D dataset `path` (parents created), chunked
 * and deflate-compressed at `deflate_level` (0 = none). n == 0 gives an empty dataset.
 * @return 0 or SGS_EIO (message names the dataset). */
int sgs_h5_write_column(hid_t file, const char *path, sgs_h5_type_t type, const void *data,
                        size_t n, int deflate_level, sgs_error_t *err);

/* An output file of one process created (create != 0) or opened read-write to add to it, with
 * every dataset of 1 MiB or more placed at a multiple of 4 KiB in the file: a column whose
 * memory is page-aligned then goes to disk straight from it (io/direct_file.h). The contents
 * are those H5Fcreate or H5Fopen would hold. Returns the file or -1. */
hid_t sgs_h5_open_output(const char *path, int create);

/* One results file written by every process of a run together (docs/mpi.md). The MPI build
 * creates it through MPI-IO, every process calling with the same path; the single-process
 * build creates it as H5Fcreate does. Returns the file or -1. */
hid_t sgs_h5_create_shared(const char *path);

/* The same file opened again by every process together to add to it (read-write, MPI-IO in
 * the MPI build, as H5Fopen does otherwise). Returns the file or -1. */
hid_t sgs_h5_open_shared(const char *path);

/* Rows [first, first + n) of a one-dimensional dataset of n_all rows (its parent groups made):
 * every process calls it with the same path, type, n_all and deflate_level, and its own rows
 * (n may be 0), so that the dataset is what one process writing all n_all rows with
 * sgs_h5_write_column makes (n_all may be 0: an empty dataset). Uncompressed (deflate_level 0)
 * it is contiguous. Compressed, it has sgs_h5_write_column's chunks (min(n_all, 65,536) rows)
 * and filters (shuffle, deflate at deflate_level), written by parallel HDF5's collective
 * filtered write (a chunk that processes share is put together by one of them); its chunks
 * compress to the same sizes as one writer's, but are allocated when the dataset is created
 * (`h5dump -p`: H5D_ALLOC_TIME_EARLY where one writer's say H5D_ALLOC_TIME_INCR; parallel
 * HDF5 1.10 allocates a chunked dataset at creation whatever is asked). A process whose rows
 * lie beyond n_all still takes part (writing nothing) and gets SGS_EINVAL; the caller agrees
 * on the outcome (engine/dist.h). @return 0, SGS_EINVAL, SGS_EIO, SGS_ENOSPACE or
 * SGS_ENOMEM. */
int sgs_h5_write_column_part(hid_t file, const char *path, sgs_h5_type_t type, const void *data,
                             size_t first, size_t n, size_t n_all, int deflate_level,
                             sgs_error_t *err);

/* sgs_h5_write_column with the elements stored as `stored` (HDF5 converts them on the way):
 * for a column kept wider in memory than its values need (int64 counts that fit int32).
 * Every value must fit `stored`: HDF5 would clip the others. */
int sgs_h5_write_column_as(hid_t file, const char *path, sgs_h5_type_t stored,
                           sgs_h5_type_t in_memory, const void *data, size_t n, int deflate_level,
                           sgs_error_t *err);

/* Write a row-major array of `rank` (1..4) dimensions dims[] as the dataset `path`
 * (parents created), contiguous, without modification times. */
int sgs_h5_write_array(hid_t file, const char *path, sgs_h5_type_t type, const void *data, int rank,
                       const size_t *dims, sgs_error_t *err);

/* Write a 2-D row-major n_rows x n_cols float64 matrix as dataset `path`. */
int sgs_h5_write_matrix(hid_t file, const char *path, const double *data, size_t n_rows,
                        size_t n_cols, sgs_error_t *err);

/* Variable-length UTF-8 string column (e.g. segment names). */
int sgs_h5_write_strings(hid_t file, const char *path, const char *const *strings, size_t n,
                         sgs_error_t *err);

/* Streaming appender: rows are buffered into whole chunks and written as they fill.
 * Memory use is one chunk, whatever the total. */
typedef struct sgs_h5_appender sgs_h5_appender_t;

/* Create an extendible chunked dataset `path` (parents created) in `file`. chunk_rows
 * >= 1. The appender is owned by the caller: close it with sgs_h5_appender_close.
 * @return 0, SGS_ENOMEM or SGS_EIO. */
int sgs_h5_appender_create(hid_t file, const char *path, sgs_h5_type_t type, size_t chunk_rows,
                           int deflate_level, sgs_h5_appender_t **out, sgs_error_t *err);

/* Append n rows (copied). @return 0 or SGS_EIO. */
int sgs_h5_appender_append(sgs_h5_appender_t *a, const void *rows, size_t n, sgs_error_t *err);

/* Rows appended so far. */
size_t sgs_h5_appender_rows(const sgs_h5_appender_t *a);

/* Flush the partial last chunk, close the dataset and free the appender (also on error;
 * NULL is fine). @return 0 or SGS_EIO. */
int sgs_h5_appender_close(sgs_h5_appender_t *a, sgs_error_t *err);

/* Read the whole 1-D dataset `path` converted to `type` into a new array (caller frees
 * with sgs_free); *n gets its length. The dataset goes through the checks of every input
 * first (io/h5_guard.h: no link out of the file, no virtual dataset or external storage,
 * integer or floating-point elements of at most 8 bytes whose declared bits fit them,
 * decodable filters, every element stored); messages start "<file name>: ".
 * @return 0; SGS_EDATA when missing, not 1-D, refused, or its stored data is malformed;
 * SGS_ENOMEM; SGS_EIO. */
int sgs_h5_read_column(hid_t file, const char *path, sgs_h5_type_t type, void **out, size_t *n,
                       sgs_error_t *err);

/* Attributes on the object at `obj_path` ("/" for the root, "/models/bgnbd"). An existing
 * attribute of the same name is replaced. @return 0 or SGS_EIO. */
int sgs_h5_attr_string(hid_t file, const char *obj_path, const char *name, const char *value,
                       sgs_error_t *err);
int sgs_h5_attr_double(hid_t file, const char *obj_path, const char *name, double value,
                       sgs_error_t *err);
int sgs_h5_attr_int64(hid_t file, const char *obj_path, const char *name, int64_t value,
                      sgs_error_t *err);

/* A 1-D attribute of n UTF-8 strings (a code table: names[code]). */
int sgs_h5_attr_strings(hid_t file, const char *obj_path, const char *name,
                        const char *const *values, size_t n, sgs_error_t *err);

/* Read a scalar attribute. @return 0; SGS_EDATA when it does not exist. */
int sgs_h5_attr_read_double(hid_t file, const char *obj_path, const char *name, double *value,
                            sgs_error_t *err);
int sgs_h5_attr_read_int64(hid_t file, const char *obj_path, const char *name, int64_t *value,
                           sgs_error_t *err);
/* Read a string attribute into buf (truncated to size-1). */
int sgs_h5_attr_read_string(hid_t file, const char *obj_path, const char *name, char *buf,
                            size_t size, sgs_error_t *err);

#endif
