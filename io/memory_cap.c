/*
 * io/memory_cap.c — the address-space cap around one call. See memory_cap.h.
 */
#include "io/memory_cap.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* The sanitizers that map their own memory: GCC defines the first two, clang answers
 * __has_feature. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZER_ALLOCATOR 1
#endif
#endif
#ifndef SANITIZER_ALLOCATOR
#define SANITIZER_ALLOCATOR 0
#endif

int sgs_memory_cap_available(void)
{
    return !SANITIZER_ALLOCATOR;
}

/* The address space the process maps now, in bytes (the first field of /proc/self/statm,
 * in pages); 0 when it cannot be read. */
static size_t mapped_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    int ok = f && fscanf(f, "%llu", &pages) == 1;
    if (f)
        fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return ok && page > 0 ? (size_t)(pages * (unsigned long long)page) : 0;
}

int sgs_memory_cap_begin(size_t margin_bytes, sgs_memory_cap_t *cap)
{
    cap->lowered = 0;
    struct rlimit as;
    size_t now = mapped_bytes();
    if (!sgs_memory_cap_available() || now == 0 || getrlimit(RLIMIT_AS, &as) != 0)
        return 0;
    rlim_t want = (rlim_t)now + (rlim_t)margin_bytes;
    if (as.rlim_cur != RLIM_INFINITY && as.rlim_cur <= want)
        return 0;
    cap->saved_soft = (unsigned long long)as.rlim_cur;
    as.rlim_cur = want;
    if (setrlimit(RLIMIT_AS, &as) != 0)
        return 0;
    cap->lowered = 1;
    return 1;
}

int sgs_memory_cap_end(sgs_memory_cap_t *cap)
{
    if (!cap->lowered)
        return 0;
    struct rlimit as;
    if (getrlimit(RLIMIT_AS, &as) == 0) {
        as.rlim_cur = (rlim_t)cap->saved_soft; /* at most the hard limit, as it was */
        (void)setrlimit(RLIMIT_AS, &as);
    }
    cap->lowered = 0;
    return 1;
}
