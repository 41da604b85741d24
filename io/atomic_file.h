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
 * The path is checked first (io/output_paths.h: SGS_EUSAGE when empty or too long,
 * SGS_ECANTCREAT for a folder, a missing or unwritable folder, naming it).
 * @return 0 or those codes; SGS_ECANTCREAT when the temporary cannot be created. */
int sgs_atomic_begin(const char *final_path, sgs_atomic_t *a, sgs_error_t *err);

/* Flush the temporary to disk, rename it to final_path and flush the folder entry.
 * On failure the temporary is removed and final_path is untouched.
 * @return 0; SGS_EIO when fsync or rename fails. */
int sgs_atomic_commit(sgs_atomic_t *a, sgs_error_t *err);

/* Write `text` and a newline into the file `file` (created or truncated): a temporary, or a
 * file of a new generation (io/publish.h). @return 0 or SGS_EIO naming `shown` (the path
 * readers know) and the system's reason. */
int sgs_write_text_file(const char *file, const char *shown, const char *text, sgs_error_t *err);

/* Remove the temporary if it still exists. Safe to call twice, or after commit. */
void sgs_atomic_abort(sgs_atomic_t *a);

/* fsync a file or a folder (opened read-only) by path. Every flush of an output goes
 * through here (io/publish.c too), so that a test can make one fail.
 * @return 0, or -1 with errno set. */
int sgs_fsync_path(const char *path);

/* Test seam (SGS_TEST_FAIL_FSYNC_AT, engine/cli.c): the n-th call of sgs_fsync_path from now
 * on (1 = the next) fails with EIO without flushing; n <= 0 turns it off (the default). Not
 * thread-safe, like sgs_test_fail_alloc_after. */
void sgs_test_fail_fsync_at(long n);

#endif
