/*
 * tests/unit/test_page_pool.c — the pool of touched pages (kernels/page_pool.h): a freed
 * array's pages serve the next arrays whatever their sizes (the process's resident memory
 * does not grow when the next array is no larger than what was freed); calloc's arrays are
 * zero even on reused pages; realloc keeps the contents when an array grows in one mapping
 * or in several and when it shrinks; pointers that are not the pool's are left alone;
 * threads allocating and freeing at once each keep their own bytes; kernels/core.h's
 * allocation functions use the pool for large arrays where the build can, and malloc once the
 * pool is turned off.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kernels/core.h"
#include "kernels/page_pool.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

#if defined(__linux__)

/* The process's resident bytes now (/proc/self/statm). */
static size_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    unsigned long size = 0, resident = 0;
    assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 131 + seed) >> 3);
}

static int filled(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)((i * 131 + seed) >> 3))
            return 0;
    return 1;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void expect_usage(size_t live, size_t kept)
{
    size_t l, k;
    sgs_page_pool_usage(&l, &k);
    assert_int_equal(l, live);
    assert_int_equal(k, kept);
}

/* The bytes the pool keeps, checking that no array is live: each test frees what it takes,
 * and kept pages carry over from one test to the next, so tests compare with this. */
static size_t kept_now(void)
{
    size_t l, k;
    sgs_page_pool_usage(&l, &k);
    assert_int_equal(l, 0);
    return k;
}

static void test_pages_serve_other_sizes(void **state)
{
    (void)state;
    size_t k0 = kept_now();
    unsigned char *a = sgs_page_pool_alloc(64 * MIB, 0);
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % 4096, 0);
    assert_int_equal(sgs_page_pool_size(a), 64 * MIB);
    memset(a, 1, 64 * MIB);
    size_t touched = resident_bytes();
    assert_int_equal(sgs_page_pool_free(a), 1);
    assert_int_equal(sgs_page_pool_size(a), 0);
    expect_usage(0, k0 + 64 * MIB);

    /* three arrays of other sizes from the same pages: no fresh page is touched */
    unsigned char *b = sgs_page_pool_alloc(40 * MIB + 123, 0);
    unsigned char *c = sgs_page_pool_alloc(20 * MIB, 1);
    assert_true(all_zero(c, 20 * MIB)); /* calloc's zero on reused pages */
    fill(b, 40 * MIB + 123, 7);
    fill(c, 20 * MIB, 9);
    assert_true(resident_bytes() < touched + 4 * MIB);
    assert_true(filled(b, 40 * MIB + 123, 7));
    assert_true(filled(c, 20 * MIB, 9));
    sgs_page_pool_free(b);
    sgs_page_pool_free(c);

    /* one array larger than any kept piece: assembled from several, then fresh pages */
    unsigned char *d = sgs_page_pool_alloc(80 * MIB, 1);
    assert_non_null(d);
    assert_true(all_zero(d, 80 * MIB));
    fill(d, 80 * MIB, 3);
    assert_true(filled(d, 80 * MIB, 3));
    assert_true(resident_bytes() < touched + 20 * MIB);
    sgs_page_pool_free(d);
    expect_usage(0, k0 + 80 * MIB);
}

static void test_realloc_keeps_contents(void **state)
{
    (void)state;
    size_t k0 = kept_now();
    /* one mapping, grown */
    unsigned char *a = sgs_page_pool_alloc(3 * MIB, 0);
    fill(a, 3 * MIB, 1);
    a = sgs_page_pool_realloc(a, 9 * MIB + 5);
    assert_non_null(a);
    assert_true(filled(a, 3 * MIB, 1));
    fill(a, 9 * MIB + 5, 2);
    /* shrunk: the tail goes to the pool, the head stays */
    unsigned char *s = sgs_page_pool_realloc(a, 2 * MIB);
    assert_ptr_equal(s, a);
    assert_true(filled(s, 2 * MIB, 2));
    size_t live, kept;
    sgs_page_pool_usage(&live, &kept);
    assert_int_equal(live, 2 * MIB);
    assert_int_equal(live + kept, k0); /* every page came from the pool and went back */
    /* several mappings (an array assembled from kept pieces), grown */
    unsigned char *b = sgs_page_pool_alloc(kept + 4 * MIB, 0);
    fill(b, kept + 4 * MIB, 5);
    unsigned char *g = sgs_page_pool_realloc(b, kept + 12 * MIB);
    assert_non_null(g);
    assert_true(filled(g, kept + 4 * MIB, 5));
    fill(g, kept + 12 * MIB, 6);
    assert_true(filled(g, kept + 12 * MIB, 6));
    sgs_page_pool_free(g);
    sgs_page_pool_free(s);
    kept_now();
}

static void test_foreign_pointers_left_alone(void **state)
{
    (void)state;
    void *m = calloc(2 * MIB, 1);
    assert_int_equal(sgs_page_pool_size(m), 0);
    assert_int_equal(sgs_page_pool_free(m), 0);
    assert_int_equal(sgs_page_pool_free(NULL), 0);
    assert_null(sgs_page_pool_realloc(m, 4 * MIB));
    free(m);
}

static void test_threads_keep_their_bytes(void **state)
{
    (void)state;
    size_t k0 = kept_now();
    int bad = 0;
#pragma omp parallel for num_threads(4) schedule(dynamic, 1) reduction(+ : bad)
    for (int i = 0; i < 64; i++) {
        size_t n = MIB + (size_t)(i % 7) * 700 * 1024 + (size_t)i;
        unsigned char *p = sgs_page_pool_alloc(n, i % 2);
        if (!p) {
            bad++;
            continue;
        }
        if (i % 2 && !all_zero(p, n))
            bad++;
        fill(p, n, (unsigned)i);
        unsigned char *q = sgs_page_pool_realloc(p, 2 * n);
        if (!q || !filled(q, n, (unsigned)i))
            bad++;
        if (q)
            sgs_page_pool_free(q);
    }
    assert_int_equal(bad, 0);
    size_t live, kept;
    sgs_page_pool_usage(&live, &kept);
    assert_int_equal(live, 0);
    assert_true(kept >= k0);
}

static void test_core_allocations_use_it(void **state)
{
    (void)state;
    unsigned char *small = sgs_alloc_array(1000, 1);
    assert_int_equal(sgs_page_pool_size(small), 0);
    sgs_free(small);
    unsigned char *big = sgs_alloc_array(3 * MIB, 1);
    assert_non_null(big);
    assert_int_equal(sgs_page_pool_size(big) > 0, sgs_page_pool_available());
    fill(big, 3 * MIB, 4);
    big = sgs_realloc_array(big, 5 * MIB, 1);
    assert_non_null(big);
    assert_true(filled(big, 3 * MIB, 4));
    sgs_free(big);
    double *zeros = sgs_calloc_array(MIB, sizeof *zeros); /* 8 MiB, on the freed pages */
    assert_non_null(zeros);
    for (size_t i = 0; i < MIB; i++)
        assert_true(zeros[i] == 0.0);
    sgs_free(zeros);
    /* a heap block that grows past the pool's size stays a heap block */
    unsigned char *h = sgs_realloc_array(NULL, 100, 1);
    fill(h, 100, 8);
    h = sgs_realloc_array(h, 2 * MIB, 1);
    assert_non_null(h);
    assert_true(filled(h, 100, 8));
    assert_int_equal(sgs_page_pool_size(h), 0);
    sgs_free(h);
}

/* A move the system refuses (its target unmapped first, as the kernel's MREMAP_FIXED does):
 * the array is still whole and usable, moving turns off and the kept pages go back. */
static void test_refused_move_leaves_a_whole_array(void **state)
{
    (void)state;
    if (!sgs_page_pool_available())
        skip();
    unsigned char *a = sgs_alloc_array(8 * MIB, 1);
    memset(a, 7, 8 * MIB);
    sgs_free(a);
    sgs_page_pool_test_fail_next_move();
    unsigned char *b = sgs_calloc_array(6 * MIB, 1); /* would take a's pages */
    assert_non_null(b);
    assert_false(sgs_page_pool_available());
    assert_true(all_zero(b, 6 * MIB)); /* every page mapped: a hole would fault here */
    fill(b, 6 * MIB, 12);
    assert_true(filled(b, 6 * MIB, 12));
    size_t live, kept;
    sgs_page_pool_usage(&live, &kept);
    assert_int_equal(kept, 0);
    assert_int_equal(sgs_page_pool_size(b) > 0, live > 0);
    sgs_free(b);
    sgs_page_pool_usage(&live, &kept);
    assert_int_equal(live + kept, 0);
}

/* Turned off (as an MPI process does, or after a refused move): the kept pages go back to the
 * system, large arrays come from malloc, and an array made before is still freed, shrunk and
 * grown (then by malloc, its contents copied). Last: it is for the rest of the process. */
static void test_disabled_falls_back_to_malloc(void **state)
{
    (void)state;
    unsigned char *before = sgs_alloc_array(4 * MIB, 1);
    int pooled_before = sgs_page_pool_size(before) > 0;
    assert_int_equal(pooled_before, sgs_page_pool_available());
    fill(before, 4 * MIB, 11);
    sgs_page_pool_disable();
    assert_false(sgs_page_pool_available());
    assert_null(sgs_page_pool_alloc(2 * MIB, 0));
    size_t live, kept;
    sgs_page_pool_usage(&live, &kept);
    assert_int_equal(kept, 0);
    assert_int_equal(live, pooled_before ? 4 * MIB : 0);
    unsigned char *big = sgs_calloc_array(3 * MIB, 1);
    assert_non_null(big);
    assert_int_equal(sgs_page_pool_size(big), 0);
    assert_true(all_zero(big, 3 * MIB));
    sgs_free(big);
    before = sgs_realloc_array(before, 2 * MIB, 1); /* shrunk in place */
    assert_true(filled(before, 2 * MIB, 11));
    before = sgs_realloc_array(before, 6 * MIB, 1); /* grown: malloc's now */
    assert_non_null(before);
    assert_int_equal(sgs_page_pool_size(before), 0);
    assert_true(filled(before, 2 * MIB, 11));
    sgs_free(before);
    sgs_page_pool_usage(&live, &kept);
    assert_int_equal(live + kept, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_serve_other_sizes),
        cmocka_unit_test(test_realloc_keeps_contents),
        cmocka_unit_test(test_foreign_pointers_left_alone),
        cmocka_unit_test(test_threads_keep_their_bytes),
        cmocka_unit_test(test_core_allocations_use_it),
        cmocka_unit_test(test_refused_move_leaves_a_whole_array),
        cmocka_unit_test(test_disabled_falls_back_to_malloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
    return 77; /* no mremap: the pool is never used */
}

#endif
