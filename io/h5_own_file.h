/*
 * io/h5_own_file.h — open a file segscore wrote (a run's results, a measurement) to read it
 * back, with the version rule those readers share, and a guarded existence test.
 *
 * Version rule: the root attribute /@engine_version must be present (segscore writes it from
 * 0.1.0 on) and not of a newer major.minor version than this engine (a newer layout may
 * differ). Thread-safety: HDF5 (serial build) is not thread-safe; call from one thread.
 */
#ifndef SGS_H5_OWN_FILE_H
#define SGS_H5_OWN_FILE_H

#include "kernels/core.h"

#include <hdf5.h>

/* Open `path` read-only into *f (close with H5Fclose) and check its version, copied into
 * version[size]. `kind` names the file in messages and the command that makes it:
 * "results" (segscore run) or "measure" (segscore measure). Call armed (io/h5_crash.h).
 * @return 0; SGS_ENOINPUT when missing (sgs_h5_open_read); SGS_EDATA (not HDF5, no
 * /@engine_version, not a version, a newer engine's file, malformed), SGS_ETEMPFAIL (locked
 * by a writer), SGS_EIO. */
int sgs_h5_open_own(const char *path, const char *kind, hid_t *f, char *version, size_t size,
                    sgs_error_t *err);

/* 1 when the object at `object` exists in f (every component checked, links guarded), 0 when
 * not, negative with err set (naming file_name) when a link leaves the file. */
int sgs_h5_own_exists(hid_t f, const char *file_name, const char *object, sgs_error_t *err);

#endif
