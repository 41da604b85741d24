/*
 * tests/support/test_support.h — helpers shared by the cmocka tests: temporary folders,
 * running the segscore program, reading whole files and transaction columns, and assertions that
 * print both the expected and the actual value.
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>.
 */
#ifndef SGS_TEST_SUPPORT_H
#define SGS_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "io/h5_columns.h"

/* Make a fresh empty folder under $TMPDIR (or /tmp) named after `tag`; the path is
 * written to `out` (at least 256 bytes). Fails the test on error. */
void sgs_test_tmpdir(const char *tag, char *out, size_t out_size);

/* Remove a folder made by sgs_test_tmpdir and everything in it. */
void sgs_test_rmdir(const char *path);

/* Run the segscore binary with a shell-quoted argument string ("run -i a.h5 -o b.h5"),
 * capturing stdout+stderr into `output` (may be NULL). Returns the exit status, or -1
 * when the program was killed by a signal (a crash is never an acceptable outcome). */
int sgs_test_run(const char *args, char *output, size_t output_size);

/* Read a whole file into a malloc'd NUL-terminated buffer (caller frees); NULL if
 * missing. *size gets the byte count when size is not NULL. */
char *sgs_test_read_file(const char *path, size_t *size);

/* 1 in a ThreadSanitizer build (SGS_TSAN), else 0. There, a program running libomp threads
 * under a file size limit (RLIMIT_FSIZE) dies of SIGBUS inside the sanitizer's runtime, so the
 * tests of write failures that use one skip; every other build runs them. */
#if defined(__SANITIZE_THREAD__)
#define SGS_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SGS_TEST_TSAN 1
#endif
#endif
#ifndef SGS_TEST_TSAN
#define SGS_TEST_TSAN 0
#endif

/* Limits for sgs_test_run_limited; a 0 field means "none". */
typedef struct sgs_test_limits {
    size_t address_space_bytes; /* RLIMIT_AS, as `ulimit -v` sets it */
    size_t file_size_bytes;     /* RLIMIT_FSIZE, with SIGXFSZ ignored so that writes fail with
                                   EFBIG instead of killing the program */
    int timeout_s;              /* killed (SIGKILL) when still running after this; 0: 120 */
    const char *env;            /* one "NAME=value" added to the program's environment, or NULL */
} sgs_test_limits_t;

/* sgs_test_run under limits, in a forked child: the exit status; -1 when the program was
 * killed by a signal (a crash); -2 when it ran past the timeout and was killed (a hang). The
 * limits apply to the program only, not to the test. */
int sgs_test_run_limited(const sgs_test_limits_t *limits, const char *args, char *output,
                         size_t output_size);

/* Write `text` to `path` (created or truncated). Fails the test on error. */
void sgs_test_write_file(const char *path, const char *text);

/* True when both files exist and have identical bytes. */
int sgs_test_files_equal(const char *a, const char *b);

/* Fail unless folder `dir` holds nothing a run left behind: no temporary ".NAME.tmp-*", and in
 * each state folder ".NAME.segscore" (docs/publishing.md) only `lock`, `current` and at most two
 * generations gen-<n>, one of them the generation `current` names. */
void sgs_test_assert_no_leftovers(const char *dir);

/* Path of ../shared/data/<relative> when it exists (written to out), else 0. Tests that
 * need real data return 77 (ctest "skipped") when this is 0. */
int sgs_test_shared_data(const char *relative, char *out, size_t out_size);

/* A whole one-dimensional dataset of an open HDF5 file read as `type` (fails the test, with
 * the reader's message, on error); the caller frees it. */
void *sgs_test_column(hid_t file, const char *path, sgs_h5_type_t type, size_t *n);

/* The three required /transactions columns of an HDF5 file, as read by the io layer. */
typedef struct sgs_test_transactions {
    size_t n;
    int64_t *customer_id, *time_s;
    double *amount;
} sgs_test_transactions_t;

/* Read them (fails the test when a column is missing or the lengths differ); free with
 * sgs_test_free_transactions. */
void sgs_test_read_transactions(const char *path, sgs_test_transactions_t *t);
void sgs_test_free_transactions(sgs_test_transactions_t *t);

/* |got - expected| <= tol_abs + tol_rel * |expected|, else fail printing both values. */
#define sgs_assert_close(got, expected, tol_abs, tol_rel)                                          \
    sgs__assert_close((double)(got), (double)(expected), (tol_abs), (tol_rel), #got, __FILE__,     \
                      __LINE__)
void sgs__assert_close(double got, double expected, double tol_abs, double tol_rel,
                       const char *expr, const char *file, int line);

#endif
