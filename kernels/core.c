/*
 * kernels/core.c — error table, execution context, sizes, allocation seam, random numbers.
 */
#include "kernels/core.h"

#include "kernels/page_pool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Errors ------------------------------------------------------------------------ */

const char *sgs_strerror(int code)
{
    switch (code) {
    case SGS_OK:
        return "success";
#define SGS__ERROR_TEXT(name, value, text)                                                         \
    case name:                                                                                     \
        return text;
        SGS_ERROR_TABLE(SGS__ERROR_TEXT)
#undef SGS__ERROR_TEXT
    default:
        return "unknown error";
    }
}

int sgs_error_set(sgs_error_t *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void sgs_error_prefix(sgs_error_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[SGS_ERROR_MESSAGE_MAX];
    char old[SGS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    /* Build "prefix: old" piecewise; truncation of an overlong message is acceptable. */
    size_t used = strnlen(prefix, sizeof err->message - 1);
    memcpy(err->message, prefix, used);
    const char *parts[2] = {": ", old};
    for (int i = 0; i < 2; i++) {
        size_t room = sizeof err->message - 1 - used;
        size_t len = strnlen(parts[i], room);
        memcpy(err->message + used, parts[i], len);
        used += len;
    }
    err->message[used] = '\0';
}

int sgs_error_set_os(sgs_error_t *err, int code, int errnum, const char *path, const char *what)
{
    switch (errnum) {
    case ENOSPC:
        return sgs_error_set(err, SGS_ENOSPACE, "%s: no space left on device", path);
#ifdef EDQUOT
    case EDQUOT:
        return sgs_error_set(err, SGS_ENOSPACE, "%s: disk quota exceeded", path);
#endif
    case EFBIG:
        return sgs_error_set(err, SGS_ENOSPACE,
                             "%s: file too large for the file size limit (ulimit -f)", path);
    default:
        return sgs_error_set(err, code, "%s: %s: %s", path, what, strerror(errnum));
    }
}

void sgs_error_rename(sgs_error_t *err, const char *from, const char *to)
{
    if (!err || !from || !*from || !to)
        return;
    char old[SGS_ERROR_MESSAGE_MAX];
    memcpy(old, err->message, sizeof old);
    old[sizeof old - 1] = '\0';
    size_t from_len = strlen(from), to_len = strlen(to), used = 0;
    const char *rest = old;
    for (const char *hit; (hit = strstr(rest, from)) != NULL; rest = hit + from_len) {
        const char *parts[2] = {rest, to};
        size_t lens[2] = {(size_t)(hit - rest), to_len};
        for (int i = 0; i < 2; i++) {
            size_t take =
                lens[i] < sizeof err->message - 1 - used ? lens[i] : sizeof err->message - 1 - used;
            memcpy(err->message + used, parts[i], take);
            used += take;
        }
    }
    size_t take = strlen(rest) < sizeof err->message - 1 - used ? strlen(rest)
                                                                : sizeof err->message - 1 - used;
    memcpy(err->message + used, rest, take);
    err->message[used + take] = '\0';
}

/* ---- Execution context, blocks, sizes -------------------------------------------- */

int sgs_exec_threads(const sgs_exec_t *exec)
{
    return (exec && exec->n_threads > 0) ? exec->n_threads : 1;
}

int sgs_exec_stop(const sgs_exec_t *exec, sgs_error_t *err)
{
    return exec && exec->stop ? exec->stop(exec->stop_ctx, err) : SGS_OK;
}

int sgs_exec_threads_for(const sgs_exec_t *exec, size_t n_items)
{
    int nt = sgs_exec_threads(exec);
    size_t grain = exec && exec->grain > 0 ? exec->grain : SGS_BLOCK_ROWS;
    size_t blocks = sgs_block_count(n_items, grain);
    return blocks < (size_t)nt ? (blocks > 0 ? (int)blocks : 1) : nt;
}

size_t sgs_block_count(size_t n, size_t block_rows)
{
    return block_rows ? (n + block_rows - 1) / block_rows : 0;
}

int sgs_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return SGS_EOVERFLOW;
    *out = a * b;
    return SGS_OK;
}

int sgs_size_add(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a)
        return SGS_EOVERFLOW;
    *out = a + b;
    return SGS_OK;
}

/* ---- Memory ------------------------------------------------------------------------ */

/* The injected-failure budget (< 0: no injection) and the allocations it has let through.
 * Atomic so that a whole command, whose allocations may come from several threads, can be
 * swept without a data race; the order in which threads take the budget is then theirs. */
static _Atomic long alloc_budget = -1;
static _Atomic long alloc_granted = 0;
static _Atomic long alloc_failed = 0;

void sgs_test_fail_alloc_after(long n)
{
    atomic_store(&alloc_budget, n);
    atomic_store(&alloc_granted, 0);
}

long sgs_test_allocations_granted(void)
{
    return atomic_load(&alloc_granted);
}

long sgs_alloc_failures(void)
{
    return atomic_load(&alloc_failed);
}

static void *counted(void *p)
{
    if (!p)
        atomic_fetch_add(&alloc_failed, 1);
    return p;
}

/* Consume one unit of the injected-failure budget; false when this allocation must fail. */
static int alloc_allowed(void)
{
    long b = atomic_load_explicit(&alloc_budget, memory_order_relaxed);
    while (b > 0)
        if (atomic_compare_exchange_weak(&alloc_budget, &b, b - 1)) {
            atomic_fetch_add(&alloc_granted, 1);
            return 1;
        }
    return b < 0;
}

/* Large arrays are not advised for transparent huge pages (MADV_HUGEPAGE), though a huge
 * page takes one fault instead of 512: where the system's THP defrag setting is "madvise"
 * (Debian's default), a fault in an advised range compacts memory to find a free 2 MB page,
 * and on memory the system has not used for a while that made the first touch 5 times slower
 * on the benchmark VM (2.2 s per GB against 0.42 s with 4 KiB pages; bench/bench_first_touch.c,
 * docs/benchmarks.md "Huge pages"). A nightly run starts on such memory. */

/* Large arrays come from kernels/page_pool.h: pages freed by one step serve the next step's
 * arrays whatever their sizes, where malloc's heap would often take fresh ones. */
static int pooled(size_t bytes)
{
    return bytes >= SGS_PAGE_POOL_MIN_BYTES && sgs_page_pool_available();
}

void *sgs_alloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (sgs_size_mul(n, size, &bytes) != SGS_OK || !alloc_allowed())
        return counted(NULL);
    void *p = pooled(bytes) ? sgs_page_pool_alloc(bytes, 0) : NULL;
    return counted(p ? p : malloc(bytes ? bytes : 1));
}

void *sgs_calloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (sgs_size_mul(n, size, &bytes) != SGS_OK || !alloc_allowed())
        return counted(NULL);
    void *p = pooled(bytes) ? sgs_page_pool_alloc(bytes, 1) : NULL;
    return counted(p ? p : calloc(bytes ? n : 1, bytes ? size : 1));
}

void *sgs_realloc_array(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (sgs_size_mul(n, size, &bytes) != SGS_OK || !alloc_allowed())
        return counted(NULL);
    size_t had = sgs_page_pool_size(p);
    if (had) {
        void *q = sgs_page_pool_realloc(p, bytes);
        if (!q && (q = malloc(bytes ? bytes : 1)) != NULL) { /* no pool: malloc's, a copy */
            memcpy(q, p, had < bytes ? had : bytes);
            sgs_page_pool_free(p);
        }
        return counted(q);
    }
    if (!p) {
        void *q = pooled(bytes) ? sgs_page_pool_alloc(bytes, 0) : NULL;
        return counted(q ? q : malloc(bytes ? bytes : 1));
    }
    return counted(realloc(p, bytes ? bytes : 1)); /* a heap block stays in the heap */
}

void sgs_free(void *p)
{
    if (!sgs_page_pool_free(p))
        free(p);
}

/* ---- Random numbers ---------------------------------------------------------------- */

/* SplitMix64 finalizer (Steele, Lea and Flood 2014): a bijective mix with good avalanche. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t sgs_rng_key(uint64_t seed, uint64_t stream)
{
    uint64_t key = mix64(seed + UINT64_C(0x9e3779b97f4a7c15));
    return mix64(key ^ (stream * UINT64_C(0xd1b54a32d192ed03)));
}

uint64_t sgs_rng_keyed_u64(uint64_t key, uint64_t counter)
{
    return mix64(key + counter * UINT64_C(0x9e3779b97f4a7c15));
}

double sgs_rng_keyed_uniform(uint64_t key, uint64_t counter)
{
    return ((double)(sgs_rng_keyed_u64(key, counter) >> 11) + 0.5) * 0x1.0p-53;
}

uint64_t sgs_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return sgs_rng_keyed_u64(sgs_rng_key(seed, stream), counter);
}

double sgs_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return sgs_rng_keyed_uniform(sgs_rng_key(seed, stream), counter);
}

void sgs_rng_init(sgs_rng_t *rng, uint64_t seed, uint64_t stream)
{
    rng->seed = seed;
    rng->stream = stream;
    rng->counter = 0;
}

uint64_t sgs_rng_next_u64(sgs_rng_t *rng)
{
    return sgs_rng_u64(rng->seed, rng->stream, rng->counter++);
}

double sgs_rng_next_uniform(sgs_rng_t *rng)
{
    return sgs_rng_uniform(rng->seed, rng->stream, rng->counter++);
}
