/*
 * tests/support/test_rng.h — the random numbers of the tests' generated data: SplitMix64
 * (Steele, Lea & Flood 2014) from a caller's state, so that a test's data depend only on
 * its seed.
 */
#ifndef SGS_TEST_RNG_H
#define SGS_TEST_RNG_H

#include <stdint.h>

/* The next 64 random bits of the stream *s. */
static inline uint64_t sgs_test_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A uniform double in [0, 1) with 53 random bits. */
static inline double sgs_test_uniform(uint64_t *s)
{
    return (double)(sgs_test_next(s) >> 11) * 0x1.0p-53;
}

#endif
