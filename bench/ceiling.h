/*
 * Loops that only store, only load, or copy with non-temporal stores, at the
 * CPU's widest vector width, and one that issues ELU forward's ops without
 * their dependency chains: the ceilings that a forward op of n floats is
 * measured against (ceiling.c).
 */
#ifndef FASTRELU_BENCH_CEILING_H
#define FASTRELU_BENCH_CEILING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct frb_ceiling {
    const char *width; /* "512-bit", "256-bit" or "128-bit" */
    /* Writes n floats to y. */
    void (*store)(float *y, size_t n);
    /* Reads n floats of a and n of b; returns a value that depends on all of them. */
    float (*load)(const float *a, const float *b, size_t n);
    /* y = x through non-temporal stores, in four parts; NULL without them (NEON). */
    void (*stream)(const float *x, float *y, size_t n);
    /* y = ELU forward's op mix on x, n floats; NULL without FMA (AVX2 and AVX-512 only). */
    void (*elu)(const float *x, float *y, size_t n);
} frb_ceiling;

/* The widest loops this CPU runs. */
frb_ceiling frb_ceiling_get(void);

#ifdef __cplusplus
}
#endif

#endif
