/*
 * kernels/page_pool.h — large arrays on pages the process has already touched.
 *
 * On the virtual machines segscore runs on, the first touch of a page the process never had
 * costs far more than the work done on it (2 us per 4 KiB page by bench/bench_first_touch.c
 * on the benchmark VM, 9 us for the value step's output columns in a profile of a run;
 * docs/benchmarks.md "Pages used again"). A run frees one step's columns just
 * before the next step allocates its own, of other sizes, so a heap that keeps freed memory
 * still meets many requests with fresh pages: its free pieces are rarely where and as large
 * as the next request. This pool keeps the pages of freed large arrays as they are and, for
 * a new array, moves them into place (mremap moves page-table entries, not bytes), however
 * the sizes differ; only what the pool lacks is fresh. The process's resident memory then
 * follows its live arrays instead of the heap's history.
 *
 * kernels/core.c's sgs_alloc_array, sgs_calloc_array, sgs_realloc_array and sgs_free use it
 * for requests of SGS_PAGE_POOL_MIN_BYTES or more, and malloc when it gives nothing. Pages
 * are not returned to the system while the process runs (as the run's heap does not return
 * them: engine/main.c), so the resident memory stays at the high-water mark of the live large
 * arrays. Linux only (mremap); elsewhere, in sanitizer builds (whose allocators track each
 * block) and in MPI processes, sgs_page_pool_available is 0 and every request goes to malloc.
 */
#ifndef SGS_KERNELS_PAGE_POOL_H
#define SGS_KERNELS_PAGE_POOL_H

#include <stddef.h>

#define SGS_PAGE_POOL_MIN_BYTES ((size_t)1 << 20)

/* 1 when this build can move pages (Linux, no sanitizer) and moving has not been turned
 * off (sgs_page_pool_disable, or a move the system refused). */
int sgs_page_pool_available(void);

/* An array of `bytes` (> 0) on page boundaries: the pool's pages first, then fresh ones;
 * zeroed when `zero`. NULL when the system refuses memory or the pool is not available (the
 * caller then uses malloc). Thread-safe. */
void *sgs_page_pool_alloc(size_t bytes, int zero);

/* The length (whole pages) of p when it came from sgs_page_pool_alloc or _realloc and is not
 * freed yet; 0 for any other pointer. */
size_t sgs_page_pool_size(const void *p);

/* p's new size (p from the pool: sgs_page_pool_size > 0): a shrunk array keeps its address
 * and gives its tail to the pool; a grown one is a new array with p's contents copied and p
 * freed. NULL (p unchanged) when the system refuses memory, the pool is not available or p is
 * not the pool's. */
void *sgs_page_pool_realloc(void *p, size_t bytes);

/* Gives p's pages to the pool and returns 1 when p came from sgs_page_pool_alloc (or
 * _realloc); returns 0 and does nothing for any other pointer (NULL included). Once the pool
 * is not available, p's pages go back to the system instead. */
int sgs_page_pool_free(void *p);

/* Turns moving pages off for the rest of the process and gives the kept pages back to the
 * system; arrays already made stay valid and are freed as usual. An MPI process calls it before
 * MPI starts: Open MPI's and UCX's mremap hooks of the versions Debian ships mishandle
 * MREMAP_FIXED (open-mpi/ompi#12180, openucx/ucx#8820). */
void sgs_page_pool_disable(void);

/* Test seam: the next move of kept pages fails as a refused mremap does (its target already
 * unmapped), so that a test can check that the array is still whole and moving turns off. */
void sgs_page_pool_test_fail_next_move(void);

/* What the pool holds: bytes in live arrays and bytes kept for reuse (for tests). */
void sgs_page_pool_usage(size_t *live_bytes, size_t *kept_bytes);

#endif
