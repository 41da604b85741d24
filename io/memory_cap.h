/*
 * io/memory_cap.h — a bound on the memory one library call may take.
 *
 * libhdf5 1.10.8 follows some damaged metadata without end: listing the objects of one fuzzed
 * file allocates 32-byte blocks forever (a cycle in a group's local heap, tests/fuzz_open's
 * README), about 250 MB a second until the machine's memory is gone, and never calls back
 * into segscore while it does. What stops it is an allocation that fails: libhdf5 then
 * unwinds and returns an error. So, around such a call, the process's address-space limit
 * (RLIMIT_AS, what `ulimit -v` sets) is lowered to what the process maps now plus a margin,
 * and put back afterwards:
 *
 *   sgs_memory_cap_t cap;
 *   sgs_memory_cap_begin(SGS_MEMORY_CAP_LISTING, &cap);
 *   ... the HDF5 call ...
 *   int hit = sgs_memory_cap_end(&cap) && the call failed for want of memory;
 *
 * A limit already lower than the cap stays as it is. The limit belongs to the process: no
 * other thread may be allocating while the cap is on (the callers run it before the run's
 * threads start, or from a command with one thread). Under AddressSanitizer, which reserves
 * its memory up front and maps within that reservation, the limit would not bound anything,
 * and under ThreadSanitizer it fails the sanitizer's own mappings: no cap is set there
 * (sgs_memory_cap_available).
 */
#ifndef SGS_MEMORY_CAP_H
#define SGS_MEMORY_CAP_H

#include <stddef.h>

/* Margin for listing a file's objects: a listing needs a few hundred bytes per object, so
 * this is a million objects and more. */
#define SGS_MEMORY_CAP_LISTING ((size_t)1 << 30)

typedef struct sgs_memory_cap {
    unsigned long long saved_soft; /* the soft limit before, as rlim_t */
    int lowered;                   /* 1 when begin lowered the limit */
} sgs_memory_cap_t;

/* 1 when this build can set a cap: not under AddressSanitizer or ThreadSanitizer. */
int sgs_memory_cap_available(void);

/* Lower the soft RLIMIT_AS to the address space mapped now plus margin_bytes, unless it is
 * lower already (or the mapped size cannot be read, or !sgs_memory_cap_available()).
 * @return 1 when lowered, 0 when nothing was changed. */
int sgs_memory_cap_begin(size_t margin_bytes, sgs_memory_cap_t *cap);

/* Put the soft limit back as it was. @return 1 when a cap had been set (so that a failed
 * allocation since begin may be the cap's doing), else 0. */
int sgs_memory_cap_end(sgs_memory_cap_t *cap);

#endif
