/*
 * kernels/page_pool.c — large arrays on pages the process has already touched; see
 * page_pool.h for why.
 *
 * Every array is a mapping of its own, made of spans: pieces of address space that each lie
 * inside one kernel mapping (VMA), because mremap moves a range only within one. A fresh
 * array is one span; an array assembled from kept pages has one span per piece moved in,
 * then one fresh span for the rest. Freeing an array keeps its spans as they are; a new
 * array takes kept spans (the smallest that covers what is left of the request, else the
 * largest) and moves them into its address range, splitting the last one it takes. The
 * tables are short (a run keeps a few hundred large arrays over its life) and scanned under
 * one lock; the work per request is a handful of system calls.
 */
#define _GNU_SOURCE /* mremap */
#include "kernels/page_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define SGS__SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(__SANITIZE_HWADDRESS__)
#define SGS__SANITIZED 1
#endif

#if defined(__linux__) && defined(MREMAP_FIXED)
#define SGS__CAN_MOVE_PAGES 1
#endif

/* Set for good once pages must not be moved any more: by sgs_page_pool_disable, or when a
 * move failed (the system short of memory or of mappings, or a library's mremap hook that
 * mishandles MREMAP_FIXED). */
static _Atomic int moves_off;

/* Test seam: the next move fails as the kernel's can, its target already unmapped. */
static _Atomic int fail_next_move;

void sgs_page_pool_test_fail_next_move(void)
{
    atomic_store(&fail_next_move, 1);
}

int sgs_page_pool_available(void)
{
#if defined(SGS__CAN_MOVE_PAGES) && !defined(SGS__SANITIZED)
    return !atomic_load(&moves_off);
#else
    return 0;
#endif
}

#if defined(SGS__CAN_MOVE_PAGES)

typedef struct span {
    char *addr;
    size_t len;
    char *owner; /* the array it belongs to; NULL: kept for reuse */
} span_t;

typedef struct array {
    char *addr;
    size_t len; /* whole pages */
} array_t;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static span_t *spans;
static size_t n_spans, cap_spans;
static array_t *arrays;
static size_t n_arrays, cap_arrays;

static size_t page_bytes(void)
{
    static _Atomic size_t page;
    size_t b = atomic_load_explicit(&page, memory_order_relaxed);
    if (!b) {
        long p = sysconf(_SC_PAGESIZE);
        b = p > 0 ? (size_t)p : 4096;
        atomic_store_explicit(&page, b, memory_order_relaxed);
    }
    return b;
}

/* bytes rounded up to whole pages; 0 on overflow */
static size_t whole_pages(size_t bytes)
{
    size_t page = page_bytes();
    return bytes > SIZE_MAX - (page - 1) ? 0 : (bytes + page - 1) / page * page;
}

/* Room for `more` spans and one array more; 0 when malloc refuses. */
static int reserve(size_t more)
{
    if (n_spans + more > cap_spans) {
        size_t cap = 2 * (n_spans + more) + 16;
        span_t *s = realloc(spans, cap * sizeof *s);
        if (!s)
            return 0;
        spans = s;
        cap_spans = cap;
    }
    if (n_arrays + 1 > cap_arrays) {
        size_t cap = 2 * cap_arrays + 16;
        array_t *a = realloc(arrays, cap * sizeof *a);
        if (!a)
            return 0;
        arrays = a;
        cap_arrays = cap;
    }
    return 1;
}

static size_t n_kept(void)
{
    size_t k = 0;
    for (size_t i = 0; i < n_spans; i++)
        k += spans[i].owner == NULL;
    return k;
}

/* The kept span for `need` bytes: the smallest that covers them, else the largest; n_spans
 * when none is kept. */
static size_t pick_kept(size_t need)
{
    size_t best = n_spans, largest = n_spans;
    for (size_t i = 0; i < n_spans; i++) {
        if (spans[i].owner)
            continue;
        if (spans[i].len >= need && (best == n_spans || spans[i].len < spans[best].len))
            best = i;
        if (largest == n_spans || spans[i].len > spans[largest].len)
            largest = i;
    }
    return best < n_spans ? best : largest;
}

/* Moves kept pages into owner's range [off, end), from off on, until it is full or nothing is
 * kept; returns where the moved pages end, or SIZE_MAX when a failed move left a hole the
 * range could not be mapped again in (the array is then unusable). A failed move turns moves
 * off: MREMAP_FIXED unmaps its target before it can fail, so the target is mapped afresh. The
 * caller reserved a span per kept span. */
static size_t fill_from_kept(char *owner, size_t off, size_t end)
{
    while (off < end && !atomic_load(&moves_off)) {
        size_t k = pick_kept(end - off);
        if (k == n_spans)
            break;
        size_t take = spans[k].len < end - off ? spans[k].len : end - off;
        void *to = MAP_FAILED;
        if (atomic_exchange(&fail_next_move, 0))
            munmap(owner + off, take);
        else
            to = mremap(spans[k].addr, take, take, MREMAP_MAYMOVE | MREMAP_FIXED, owner + off);
        if (to == MAP_FAILED) {
            atomic_store(&moves_off, 1);
            void *again = mmap(owner + off, take, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (again == (void *)(owner + off) || (again == MAP_FAILED && errno == EEXIST))
                break; /* the target is fresh again (or was never unmapped), as is the rest */
            if (again != MAP_FAILED)
                munmap(again, take); /* a kernel without MAP_FIXED_NOREPLACE put it elsewhere */
            return SIZE_MAX;
        }
        spans[n_spans++] = (span_t){owner + off, take, owner};
        spans[k].addr += take;
        spans[k].len -= take;
        if (spans[k].len == 0)
            spans[k] = spans[--n_spans];
        off += take;
    }
    return off;
}

/* Unmaps the spans whose owner is `owner` (NULL: the kept ones) and drops them. */
static void unmap_spans(const char *owner)
{
    for (size_t s = 0; s < n_spans;) {
        if (spans[s].owner == owner) {
            munmap(spans[s].addr, spans[s].len);
            spans[s] = spans[--n_spans];
        } else {
            s++;
        }
    }
}

static size_t find_array(const void *p)
{
    for (size_t i = 0; i < n_arrays; i++)
        if (arrays[i].addr == p)
            return i;
    return n_arrays;
}

void *sgs_page_pool_alloc(size_t bytes, int zero)
{
    size_t len = whole_pages(bytes ? bytes : 1);
    if (!len || atomic_load(&moves_off))
        return NULL;
    char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        return NULL;
    pthread_mutex_lock(&pool_lock);
    if (!reserve(n_kept() + 1)) {
        pthread_mutex_unlock(&pool_lock);
        munmap(a, len);
        return NULL;
    }
    size_t reused = fill_from_kept(a, 0, len);
    if (reused == SIZE_MAX) { /* a hole: give the range up, pages moved in included */
        unmap_spans(a);
        munmap(a, len);
    } else {
        if (reused < len)
            spans[n_spans++] = (span_t){a + reused, len - reused, a};
        arrays[n_arrays++] = (array_t){a, len};
    }
    if (atomic_load(&moves_off))
        unmap_spans(NULL); /* kept pages no array can take any more */
    pthread_mutex_unlock(&pool_lock);
    if (reused == SIZE_MAX)
        return NULL;
    if (zero)
        memset(a, 0, reused); /* fresh pages are zero already */
    return a;
}

/* Gives the pages of array i beyond `keep` bytes (whole pages) to the pool; the span that
 * straddles the cut is split (both halves stay inside its mapping). */
static void give_tail(size_t i, size_t keep)
{
    char *a = arrays[i].addr, *cut = a + keep;
    size_t n = n_spans;
    for (size_t s = 0; s < n; s++) {
        if (spans[s].owner != a || spans[s].addr + spans[s].len <= cut)
            continue;
        if (spans[s].addr >= cut) {
            spans[s].owner = NULL;
        } else {
            size_t head = (size_t)(cut - spans[s].addr);
            spans[n_spans++] = (span_t){cut, spans[s].len - head, NULL};
            spans[s].len = head;
        }
    }
    arrays[i].len = keep;
}

static size_t spans_of(const char *a)
{
    size_t k = 0;
    for (size_t s = 0; s < n_spans; s++)
        k += spans[s].owner == a;
    return k;
}

void *sgs_page_pool_realloc(void *p, size_t bytes)
{
    size_t len = whole_pages(bytes ? bytes : 1);
    if (!len)
        return NULL;
    pthread_mutex_lock(&pool_lock);
    size_t i = find_array(p);
    if (i == n_arrays) { /* not the pool's: the caller's error (see sgs_page_pool_size) */
        pthread_mutex_unlock(&pool_lock);
        return NULL;
    }
    size_t old = arrays[i].len;
    if (len <= old) {
        /* the tail to the pool (or kept by the array when the table cannot grow) */
        if (!atomic_load(&moves_off) && reserve(spans_of(p)))
            give_tail(i, len);
        pthread_mutex_unlock(&pool_lock);
        return p;
    }
    pthread_mutex_unlock(&pool_lock);
    /* A new array and a copy: an array is mostly several mappings, which one mremap cannot
     * move together. */
    void *q = sgs_page_pool_alloc(len, 0);
    if (!q)
        return NULL;
    memcpy(q, p, old);
    sgs_page_pool_free(p);
    return q;
}

size_t sgs_page_pool_size(const void *p)
{
    if (!p || (uintptr_t)p % page_bytes() != 0) /* malloc's blocks are rarely page-aligned */
        return 0;
    pthread_mutex_lock(&pool_lock);
    size_t i = find_array(p), len = i < n_arrays ? arrays[i].len : 0;
    pthread_mutex_unlock(&pool_lock);
    return len;
}

int sgs_page_pool_free(void *p)
{
    if (!p || (uintptr_t)p % page_bytes() != 0)
        return 0;
    pthread_mutex_lock(&pool_lock);
    size_t i = find_array(p);
    int ours = i < n_arrays;
    if (ours && atomic_load(&moves_off)) {
        unmap_spans(p); /* no array can take its pages any more */
        arrays[i] = arrays[--n_arrays];
    } else if (ours) {
        for (size_t s = 0; s < n_spans; s++)
            if (spans[s].owner == p)
                spans[s].owner = NULL;
        arrays[i] = arrays[--n_arrays];
    }
    pthread_mutex_unlock(&pool_lock);
    return ours;
}

void sgs_page_pool_disable(void)
{
    pthread_mutex_lock(&pool_lock);
    atomic_store(&moves_off, 1);
    unmap_spans(NULL);
    pthread_mutex_unlock(&pool_lock);
}

void sgs_page_pool_usage(size_t *live_bytes, size_t *kept_bytes)
{
    size_t live = 0, kept = 0;
    pthread_mutex_lock(&pool_lock);
    for (size_t s = 0; s < n_spans; s++)
        *(spans[s].owner ? &live : &kept) += spans[s].len;
    pthread_mutex_unlock(&pool_lock);
    *live_bytes = live;
    *kept_bytes = kept;
}

#else /* no mremap: nothing is ever the pool's */

void *sgs_page_pool_alloc(size_t bytes, int zero)
{
    (void)bytes;
    (void)zero;
    return NULL;
}

void *sgs_page_pool_realloc(void *p, size_t bytes)
{
    (void)p;
    (void)bytes;
    return NULL;
}

size_t sgs_page_pool_size(const void *p)
{
    (void)p;
    return 0;
}

void sgs_page_pool_disable(void)
{
    atomic_store(&moves_off, 1);
}

int sgs_page_pool_free(void *p)
{
    (void)p;
    return 0;
}

void sgs_page_pool_usage(size_t *live_bytes, size_t *kept_bytes)
{
    *live_bytes = 0;
    *kept_bytes = 0;
}

#endif
