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
#include <sys/types.h>

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

/* Run the shell command line `cmd`, its stdout and stderr into `output` (may be NULL;
 * truncated to output_size - 1 bytes, NUL-terminated). Returns its exit status, -1 when a
 * signal killed it. sgs_test_run is this with the segscore binary in front. */
int sgs_test_shell(const char *cmd, char *output, size_t output_size);

/* Read a whole file into a malloc'd NUL-terminated buffer (caller frees); NULL if
 * missing. *size gets the byte count when size is not NULL. */
char *sgs_test_read_file(const char *path, size_t *size);

/* The JSON file at `path`, parsed (cJSON_Delete it); fails the test when it is missing or
 * not JSON. */
struct cJSON *sgs_test_read_json(const char *path);

/* Index of id in the strictly ascending ids[0..n-1] (a binary search), or -1. */
long sgs_test_find_id(const int64_t *ids, size_t n, int64_t id);

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

/* Start the segscore binary with a shell-quoted argument string and SGS_TEST_PAUSE_AT=<point>
 * (engine/interrupt.h), its standard error into the file `log` (its standard output to
 * /dev/null), and wait until it says it paused there. Fails the test when it ends before, or
 * does not pause within 60 s. Returns its pid: signal it with sgs_test_signal_and_wait. */
pid_t sgs_test_start_paused(const char *args, const char *point, const char *log);

/* Send sig to pid (a child) and wait for it: its exit status, or 128 + n when signal n killed
 * it. */
int sgs_test_signal_and_wait(pid_t pid, int sig);

/* Write `text` to `path` (created or truncated). Fails the test on error. */
void sgs_test_write_file(const char *path, const char *text);

/* True when both files exist and have identical bytes. */
int sgs_test_files_equal(const char *a, const char *b);

/* 0 when both files exist and have identical bytes; else 1 with `why` saying how they differ:
 * "cannot read a", or "N and M bytes, differ from byte K on", for a failure message. */
int sgs_test_files_differ(const char *a, const char *b, char *why, size_t size);

/* Fail unless folder `dir` holds nothing a run left behind: no temporary ".NAME.tmp-*", and in
 * each state folder ".NAME.segscore" (docs/publishing.md) only `lock`, `current` and at most two
 * generations gen-<n>, one of them the generation `current` names. */
void sgs_test_assert_no_leftovers(const char *dir);

/* Every entry under a folder, recursively, for "the previous outputs are byte-identical":
 * names relative to the folder (sorted), bytes of files, "-> target" of symlinks. The lock
 * file of an output set's state folder (docs/publishing.md) holds the pid of the last run
 * that took it and is left out. */
#define SGS_TEST_SNAPSHOT_MAX 64
typedef struct sgs_test_snapshot {
    size_t n;
    char name[SGS_TEST_SNAPSHOT_MAX][256]; /* relative to the folder */
    char *data[SGS_TEST_SNAPSHOT_MAX];     /* bytes, or "-> target" for a symlink */
    size_t size[SGS_TEST_SNAPSHOT_MAX];
} sgs_test_snapshot_t;

/* Take a snapshot of folder `dir` (fails the test beyond SGS_TEST_SNAPSHOT_MAX entries). */
void sgs_test_snapshot(const char *dir, sgs_test_snapshot_t *s);

/* Fail unless `dir` holds nothing a run leaves behind (sgs_test_assert_no_leftovers) and
 * exactly the entries of `before`, byte for byte (names the first difference). */
void sgs_test_assert_snapshot_unchanged(const char *dir, const sgs_test_snapshot_t *before);

/* Free what a snapshot holds (it may be taken again). */
void sgs_test_snapshot_free(sgs_test_snapshot_t *s);

/* Replace, in the file at `path`, the one occurrence of the n bytes `find` by the n bytes
 * `repl` (fails the test when `find` occurs 0 or several times): a damaged or hostile
 * header made from a good one (HDF5 object headers of the default format carry no
 * checksum). */
void sgs_test_patch_once(const char *path, const void *find, const void *repl, size_t n);

/* Path of ../shared/data/<relative> when it exists (written to out), else 0. Tests that
 * need real data return 77 (ctest "skipped") when this is 0. */
int sgs_test_shared_data(const char *relative, char *out, size_t out_size);

/* The Python interpreter the tests run: $SGS_TEST_PYTHON when set (to try another, or the
 * skip), else Debian's /usr/bin/python3; NULL, after printing "skipped: ... cannot import
 * <modules> (<install>)", when it cannot import the comma-separated `modules`. */
const char *sgs_test_python(const char *modules, const char *install);

/* A whole one-dimensional dataset of an open HDF5 file read as `type` (fails the test, with
 * the reader's message, on error); the caller frees it with sgs_free (a large one is the page
 * pool's: kernels/page_pool.h). */
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

/* Fail unless `a op b` (op one of == != < <= > >=), printing both sides' expressions and
 * values. Numbers of any arithmetic type; compared as long double, which holds every 64-bit
 * integer and every double exactly. */
#define sgs_assert_cmp(a, op, b)                                                                   \
    do {                                                                                           \
        long double sgs_a_ = (long double)(a), sgs_b_ = (long double)(b);                          \
        if (!(sgs_a_ op sgs_b_))                                                                   \
            sgs__fail_cmp(#a, #op, #b, sgs_a_, sgs_b_, __FILE__, __LINE__);                        \
    } while (0)
void sgs__fail_cmp(const char *a, const char *op, const char *b, long double va, long double vb,
                   const char *file, int line);

/* Fail unless `part` occurs in `text`, printing both (the whole text). A NULL text fails. */
#define sgs_assert_contains(text, part)                                                            \
    sgs__assert_contains((text), (part), 1, #text, __FILE__, __LINE__)

/* Fail when `part` occurs in `text`, printing where: the byte offset and the text around the
 * first occurrence. A NULL text fails. */
#define sgs_assert_not_contains(text, part)                                                        \
    sgs__assert_contains((text), (part), 0, #text, __FILE__, __LINE__)
void sgs__assert_contains(const char *text, const char *part, int want, const char *expr,
                          const char *file, int line);

/* Fail unless x is finite (neither infinite nor NaN), printing it otherwise. */
#define sgs_assert_finite(x) sgs__assert_finite((double)(x), #x, __FILE__, __LINE__)
void sgs__assert_finite(double x, const char *expr, const char *file, int line);

/* Fail unless the cJSON predicate `pred` (cJSON_IsTrue, cJSON_IsFalse, cJSON_IsNull,
 * cJSON_IsNumber, cJSON_IsString, ...) holds for `item`, printing the item as JSON, or saying
 * that it is missing (NULL). */
#define sgs_assert_json(pred, item)                                                                \
    sgs__assert_json((pred), #pred, (item), #item, __FILE__, __LINE__)
void sgs__assert_json(int (*pred)(const struct cJSON *), const char *pred_name,
                      const struct cJSON *item, const char *expr, const char *file, int line);

/* Fail unless x is a NaN, printing it otherwise. */
#define sgs_assert_nan(x) sgs__assert_nan((double)(x), #x, __FILE__, __LINE__)
void sgs__assert_nan(double x, const char *expr, const char *file, int line);

/* Fail saying `why` and printing `item` as JSON (or that it is missing): for a search through
 * a JSON document that found nothing, e.g. no warning with a given code among the warnings. */
#define sgs_fail_json(why, item) sgs__fail_json((why), (item), __FILE__, __LINE__)
void sgs__fail_json(const char *why, const struct cJSON *item, const char *file, int line);

/* Fail unless `cond` holds, printing the fit (kernels/optimizer.h): its status, iterations,
 * gradient, objective, log-likelihood, parameters and standard errors. For conditions on a
 * fit's flags: sgs_assert_fit(&fit, fit.converged), sgs_assert_fit(&fit, !fit.hessian_ok). */
#define sgs_assert_fit(fit, cond)                                                                  \
    do {                                                                                           \
        if (!(cond))                                                                               \
            sgs__fail_fit((fit), #cond, __FILE__, __LINE__);                                       \
    } while (0)
struct sgs_fit;
void sgs__fail_fit(const struct sgs_fit *fit, const char *cond, const char *file, int line);

/* Fail unless files a and b have the same bytes, printing their sizes and the first offset
 * where they differ. */
#define sgs_assert_files_equal(a, b) sgs__assert_files_equal((a), (b), __FILE__, __LINE__)
void sgs__assert_files_equal(const char *a, const char *b, const char *file, int line);

#endif
