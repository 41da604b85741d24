/*
 * io/atomic_file.h — publish an output file atomically: write it under a temporary name
 * in the target folder, flush it to disk, then rename it over the final name, so that a
 * crash or an error never leaves a half-written file where yesterday's good one was.
 *
 *   sgs_atomic_t a;
 *   sgs_atomic_begin("out/results.h5", &a, &err);   // creates out/.results.h5.tmp-XXXXXX
 *   ... write a.temp_path with stdio or HDF5 ...
 *   sgs_atomic_commit(&a, &err);                      // fsync, rename, fsync folder
 *   // or, on any failure: sgs_atomic_abort(&a);      // unlink the temporary
 */
#ifndef SGS_ATOMIC_FILE_H
#define SGS_ATOMIC_FILE_H

#include "kernels/core.h"

#define SGS_PATH_MAX 4096

typedef struct sgs_atomic {
    char final_path[SGS_PATH_MAX]; /* where the file appears on commit */
    char temp_path[SGS_PATH_MAX];  /* sibling temporary; "" once committed or aborted */
} sgs_atomic_t;

/* Reserve a temporary sibling of final_path (created empty, mode 0644 under umask).
 * @return 0; SGS_ECANTCREAT when the folder does not exist or is not writable (the
 * message names the folder); SGS_EINVAL when the path is too long. */
int sgs_atomic_begin(const char *final_path, sgs_atomic_t *a, sgs_error_t *err);

/* Flush the temporary to disk, rename it to final_path and flush the folder entry.
 * On failure the temporary is removed and final_path is untouched.
 * @return 0; SGS_EIO when fsync or rename fails. */
int sgs_atomic_commit(sgs_atomic_t *a, sgs_error_t *err);

/* Remove the temporary if it still exists. Safe to call twice, or after commit. */
void sgs_atomic_abort(sgs_atomic_t *a);

#endif
