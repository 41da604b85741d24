/*
 * kernels/core.h — what every layer of segscore shares: error codes and the error
 * struct, the execution context, overflow-checked sizes, fixed-size work blocks, and the
 * counter-based random generator.
 *
 * Depends on nothing but the C library. Every other header of the project includes it.
 */
#ifndef SGS_CORE_H
#define SGS_CORE_H

#include <stddef.h>
#include <stdint.h>

/* ---- Error codes -----------------------------------------------------------------
 * One table. Each row: enum name, value (negative), and a short description. Fallible
 * functions return 0 or one of these. What each code means to the command-line program's
 * caller (its exit status) is the engine's: engine/exit_status.h.
 */
#define SGS_ERROR_TABLE(X)                                                                         \
    X(SGS_EUSAGE, -1, "command-line usage error")                                                  \
    X(SGS_EDATA, -2, "input data is invalid")                                                      \
    X(SGS_ENOINPUT, -3, "input file missing or unreadable")                                        \
    X(SGS_ECANTCREAT, -4, "output location unusable")                                              \
    X(SGS_EIO, -5, "input/output error")                                                           \
    X(SGS_ETEMPFAIL, -6, "temporary failure, retry later")                                         \
    X(SGS_ECONFIG, -7, "configuration error")                                                      \
    X(SGS_ENOMEM, -8, "out of memory")                                                             \
    X(SGS_EINVAL, -9, "invalid argument (internal error)")                                         \
    X(SGS_EOVERFLOW, -10, "size overflow")                                                         \
    X(SGS_ENOCONVERGE, -11, "model fit did not converge")                                          \
    X(SGS_ENUMERIC, -12, "a model result is not a finite number")                                  \
    X(SGS_EINTR, -13, "stopped by a signal")                                                       \
    X(SGS_ENOSPACE, -14, "no space left on device")

enum sgs_error_code {
    SGS_OK = 0,
#define SGS__ERROR_ENUM(name, value, text) name = value,
    SGS_ERROR_TABLE(SGS__ERROR_ENUM)
#undef SGS__ERROR_ENUM
};

/* Short description of an error code; "unknown error" for codes not in the table. */
const char *sgs_strerror(int code);

/* The error channel. Functions take an optional `sgs_error_t *err` last parameter (NULL
 * allowed) and fill it on failure with the code and a message a user can act on: which
 * file, which dataset, which row, what was expected. */
#define SGS_ERROR_MESSAGE_MAX 1024
typedef struct sgs_error {
    int code;                            /* 0 or a negative SGS_E* code */
    char message[SGS_ERROR_MESSAGE_MAX]; /* NUL-terminated, human readable */
} sgs_error_t;

/* Set *err (when err is not NULL) to `code` with a printf-style message; returns `code`
 * so that `return sgs_error_set(err, SGS_EDATA, "...")` reads naturally. */
int sgs_error_set(sgs_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in *err with more context ("reading demo.h5: ..."),
 * keeping the code. No-op when err is NULL. */
void sgs_error_prefix(sgs_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set *err for a failed system call on `path` that left `errnum` in errno, and return the
 * code. Running out of room to write is SGS_ENOSPACE with the one-line message
 * "<path>: no space left on device" (ENOSPC), "<path>: disk quota exceeded" (EDQUOT) or
 * "<path>: file too large for the file size limit (ulimit -f)" (EFBIG); any other errno is
 * `code` with "<path>: <what>: <strerror(errnum)>". */
int sgs_error_set_os(sgs_error_t *err, int code, int errnum, const char *path, const char *what);

/* Replace each occurrence of `from` in the message of *err by `to`, keeping the code: a
 * temporary file's name by the name it was to be published under, so that a message names
 * the file the user asked for. No-op when err is NULL or `from` is empty. */
void sgs_error_rename(sgs_error_t *err, const char *from, const char *to);

/* ---- Execution context ------------------------------------------------------------
 * Passed to every parallel kernel: the thread count is a per-call choice, never a global
 * set inside the library. n_threads <= 0 means "1". */

/* A caller's stop check, asked by long work at its safe points (between iterations, restarts
 * or blocks; from the calling thread, never inside a parallel region): 0 to go on, or a
 * negative SGS_E* code, with *err filled, to stop there. The work then unwinds as on any error
 * and returns that code. The library never reads a global to know it should stop: the engine
 * supplies a check that looks at the signals it caught (engine/interrupt.h). */
typedef int (*sgs_stop_fn)(void *ctx, sgs_error_t *err);

typedef struct sgs_exec {
    int n_threads;    /* OpenMP threads for this call, >= 1 */
    size_t grain;     /* items per thread at least (sgs_exec_threads_for); 0: SGS_BLOCK_ROWS */
    sgs_stop_fn stop; /* optional stop check (NULL: never stop early); see sgs_exec_stop */
    void *stop_ctx;   /* passed to stop */
} sgs_exec_t;

/* Ask the context's stop check: 0 when exec or exec->stop is NULL or the check says go on,
 * else the code it returned (with *err as it filled it). Kernels that honour it say so in
 * their header. */
int sgs_exec_stop(const sgs_exec_t *exec, sgs_error_t *err);

/* Thread count to use from a context (NULL or n_threads <= 0 gives 1). */
int sgs_exec_threads(const sgs_exec_t *exec);

/* Thread count for a loop over n_items: the context's, but no more than one per exec->grain
 * items (SGS_BLOCK_ROWS by default; at least 1). A second thread does not pay for itself on
 * less than a block: waking it and meeting it at the barrier costs more than the work, and
 * on a loaded machine a waiting thread can stall the loop for tens of milliseconds (the
 * value step on 4,400 customers took 0.05 to 0.86 s on 2 threads, 0.02 s on 1). Results do
 * not depend on the count, so this changes only time; tests set grain = 1 to run every loop
 * on every thread. */
int sgs_exec_threads_for(const sgs_exec_t *exec, size_t n_items);

/* ---- Deterministic work blocks -----------------------------------------------------
 * Index spaces are cut into blocks of SGS_BLOCK_ROWS items, independent of the thread
 * count. Floating-point partials are computed per block and combined in block order. */
#define SGS_BLOCK_ROWS ((size_t)16384)

/* Number of blocks covering n items (0 for n == 0). */
size_t sgs_block_count(size_t n, size_t block_rows);

/* ---- Overflow-checked sizes ------------------------------------------------------- */

/* *out = a * b; returns SGS_EOVERFLOW (and leaves *out unchanged) on overflow. */
int sgs_size_mul(size_t a, size_t b, size_t *out);

/* *out = a + b; returns SGS_EOVERFLOW on overflow. */
int sgs_size_add(size_t a, size_t b, size_t *out);

/* ---- Memory -------------------------------------------------------------------------
 * All project allocations of arrays go through these, so that a test can make the N-th
 * allocation fail (see sgs_test_fail_alloc_after) and check that nothing leaks or is lost.
 * sgs_alloc_array returns NULL for overflow or exhaustion; n == 0 returns a valid
 * 1-byte allocation so that NULL always means failure. What they return is freed with
 * sgs_free, never free(): arrays of SGS_PAGE_POOL_MIN_BYTES or more are mappings of
 * kernels/page_pool.h, not malloc's blocks. */
void *sgs_alloc_array(size_t n, size_t size);
void *sgs_calloc_array(size_t n, size_t size);
void *sgs_realloc_array(void *p, size_t n, size_t size);
void sgs_free(void *p);

/* Test seam: after `n` more successful allocations, every allocation fails; n < 0 turns
 * failure injection off (the default). Safe from any thread, but which allocation is the
 * n-th is reproducible only when one thread allocates. This is the one global of the
 * library, on purpose: it exists only for OOM sweeps. The command-line program sets it from
 * the environment variable SGS_TEST_FAIL_ALLOC_AFTER (engine/main.c). */
void sgs_test_fail_alloc_after(long n);

/* Allocations let through since the last sgs_test_fail_alloc_after(n >= 0): with a budget
 * larger than a command needs, the number of allocations it makes (the length of a sweep). */
long sgs_test_allocations_granted(void);

/* Allocations through these functions that have failed in this process, injected or real:
 * a caller whose library drops a part silently on a failed allocation (cJSON) compares the
 * count before and after (io/json_doc.h). */
long sgs_alloc_failures(void);

/* ---- Counter-based random numbers ---------------------------------------------------
 * Random draws are a pure function of (seed, stream, counter), so that a result does
 * not depend on which thread drew it. SplitMix64 finalizer over a mixed key. */
uint64_t sgs_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter);

/* Uniform double in (0, 1), never 0 or 1 (53 random bits, offset by half a step). */
double sgs_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter);

/* The same draws in two parts, for loops that draw many counters of one stream: two of the
 * three mixing rounds depend on (seed, stream) only. sgs_rng_keyed_u64(sgs_rng_key(seed,
 * stream), counter) == sgs_rng_u64(seed, stream, counter), and sgs_rng_keyed_uniform likewise
 * sgs_rng_uniform, bit for bit (sgs_rng_u64 is computed this way). */
uint64_t sgs_rng_key(uint64_t seed, uint64_t stream);
uint64_t sgs_rng_keyed_u64(uint64_t key, uint64_t counter);
double sgs_rng_keyed_uniform(uint64_t key, uint64_t counter);

/* A small sequential generator for code that draws many numbers for one item: seeded
 * from (seed, stream), so that item i's draws are the same whatever the thread. */
typedef struct sgs_rng {
    uint64_t seed;
    uint64_t stream;
    uint64_t counter;
} sgs_rng_t;

void sgs_rng_init(sgs_rng_t *rng, uint64_t seed, uint64_t stream);
uint64_t sgs_rng_next_u64(sgs_rng_t *rng);
double sgs_rng_next_uniform(sgs_rng_t *rng); /* in (0, 1) */

/* ---- Time ---------------------------------------------------------------------------- */
#define SGS_SECONDS_PER_DAY INT64_C(86400)

/* Whole UTC day number (days since 1970-01-01) of a Unix time in seconds; floor division,
 * so times before 1970 map to negative days. Inline: it runs once per transaction. */
static inline int64_t sgs_day_of(int64_t time_s)
{
    int64_t q = time_s / SGS_SECONDS_PER_DAY;
    return time_s % SGS_SECONDS_PER_DAY < 0 ? q - 1 : q;
}

#endif /* SGS_CORE_H */
