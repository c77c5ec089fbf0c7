/*
 * The memory system's ceilings for a forward op of n floats, measured with
 * loops that do nothing but move data at the CPU's widest vector width:
 *  - store: write n floats. A forward op stores as much, so it cannot run
 *    faster than this (in L1: the store port; beyond: write-allocate).
 *  - load: read 2n floats. Once the arrays outgrow L1, a core reads each
 *    output line for ownership before it writes it, so a forward op brings
 *    2n floats into L1: its input and its output's old lines. (Inside L1
 *    nothing is brought in, and this ceiling does not bind.)
 * Neither loop computes anything; both keep four vectors in flight.
 */
#include "ceiling.h"


#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define FRB_AVX512 __attribute__((target("avx512f")))
#define FRB_AVX2 __attribute__((target("avx2")))

static FRB_AVX512 void frb_store_avx512(float *y, size_t n)
{
    __m512 v = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        _mm512_storeu_ps(y + i, v);
        _mm512_storeu_ps(y + i + 16, v);
        _mm512_storeu_ps(y + i + 32, v);
        _mm512_storeu_ps(y + i + 48, v);
    }
    for (; i < n; i++)
        y[i] = 1.0f;
}

static FRB_AVX512 float frb_load_avx512(const float *a, const float *b, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_max_ps(s0, _mm512_loadu_ps(a + i));
        s1 = _mm512_max_ps(s1, _mm512_loadu_ps(a + i + 16));
        s2 = _mm512_max_ps(s2, _mm512_loadu_ps(b + i));
        s3 = _mm512_max_ps(s3, _mm512_loadu_ps(b + i + 16));
    }
    float s = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(s0, s1), _mm512_max_ps(s2, s3)));
    for (; i < n; i++)
        s = s > a[i] + b[i] ? s : a[i] + b[i];
    return s;
}

static FRB_AVX2 void frb_store_avx2(float *y, size_t n)
{
    __m256 v = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm256_storeu_ps(y + i, v);
        _mm256_storeu_ps(y + i + 8, v);
        _mm256_storeu_ps(y + i + 16, v);
        _mm256_storeu_ps(y + i + 24, v);
    }
    for (; i < n; i++)
        y[i] = 1.0f;
}

static FRB_AVX2 float frb_load_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_max_ps(s0, _mm256_loadu_ps(a + i));
        s1 = _mm256_max_ps(s1, _mm256_loadu_ps(a + i + 8));
        s2 = _mm256_max_ps(s2, _mm256_loadu_ps(b + i));
        s3 = _mm256_max_ps(s3, _mm256_loadu_ps(b + i + 8));
    }
    __m256 m = _mm256_max_ps(_mm256_max_ps(s0, s1), _mm256_max_ps(s2, s3));
    float lanes[8], s = 0.0f;
    _mm256_storeu_ps(lanes, m);
    for (int j = 0; j < 8; j++)
        s = s > lanes[j] ? s : lanes[j];
    for (; i < n; i++)
        s = s > a[i] + b[i] ? s : a[i] + b[i];
    return s;
}
#endif

/* Everywhere else (SSE2, NEON): plain loops, which the compiler vectorizes at -O3. */
static void frb_store_plain(float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f;
}

static float frb_load_plain(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++)
        s = s > a[i] + b[i] ? s : a[i] + b[i];
    return s;
}

frb_ceiling frb_ceiling_get(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return (frb_ceiling){"512-bit", frb_store_avx512, frb_load_avx512};
    if (__builtin_cpu_supports("avx2"))
        return (frb_ceiling){"256-bit", frb_store_avx2, frb_load_avx2};
#endif
    return (frb_ceiling){"compiler-vectorized", frb_store_plain, frb_load_plain};
}
