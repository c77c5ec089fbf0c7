/*
 * The memory system's ceilings for a forward op of n floats, measured with
 * loops that do nothing but move data at the CPU's widest vector width:
 *  - store: write n floats. A forward op stores as much, so it cannot run
 *    faster than this (in L1: the store port; beyond: write-allocate).
 *  - load: read 2n floats. Once the arrays outgrow L1, a core reads each
 *    output line for ownership before it writes it, so a forward op brings
 *    2n floats into L1: its input and its output's old lines. (Inside L1
 *    nothing is brought in, and this ceiling does not bind.)
 * Neither loop computes anything; both keep four vectors in flight, and the
 * load loop ORs the bits together (a one-cycle op) so that nothing waits.
 *
 * A third is what a streaming call (arrays beyond the caches) has:
 *  - stream: read n floats and write them back with non-temporal stores,
 *    which skip the read for ownership, four equal parts in lockstep as
 *    the library's streaming kernels go (kernels/body/common.h,
 *    fr_map1_parts). Beyond the caches this is a streaming forward op's
 *    ceiling; in cache it is not one, as its stores still go to DRAM.
 *
 * A fourth loop bounds ELU's forward by its arithmetic, not by memory:
 *  - elu: load n floats and store n, and in between issue per vector the
 *    ops that kernels/body/elu.h's forward issues with FMA (AVX2 and
 *    AVX-512): 9 multiplies or FMAs (the FMA pipes' ops) and 7 others (max,
 *    two subtractions, a shift, a compare, an integer add, a blend). Its
 *    longest chain is 6 ops, 4 of them FMAs; the kernel's is 10, 7 of them
 *    FMAs or multiplies. The forward cannot issue its ops faster than this
 *    loop does, so this is its ceiling in cache.
 */
#include "ceiling.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

/*
 * The two loops for vectors of `bytes` bytes, compiled for `target`: GCC's
 * vector types become zmm, ymm or xmm code under the target attribute.
 */
// NOLINTBEGIN(bugprone-macro-parentheses): `target` is an attribute, not an expression
#define FRB_CEILING_LOOPS(name, target, bytes)                                                    \
    typedef uint32_t frb_##name##_v __attribute__((vector_size(bytes)));                          \
    enum { frb_##name##_lanes = (bytes) / 4 };                                                    \
                                                                                                  \
    static target void frb_store_##name(float *y, size_t n)                                       \
    {                                                                                             \
        const frb_##name##_v one = (frb_##name##_v){0} + 0x3f800000u; /* 1.0f */                  \
        size_t i = 0;                                                                             \
        for (; i + 4 * frb_##name##_lanes <= n; i += 4 * frb_##name##_lanes)                      \
            for (int k = 0; k < 4; k++)                                                           \
                memcpy(y + i + k * frb_##name##_lanes, &one, sizeof one);                         \
        for (; i < n; i++)                                                                        \
            y[i] = 1.0f;                                                                          \
    }                                                                                             \
                                                                                                  \
    static target float frb_load_##name(const float *a, const float *b, size_t n)                 \
    {                                                                                             \
        frb_##name##_v s[4] = {{0}}, v;                                                           \
        size_t i = 0;                                                                             \
        for (; i + 2 * frb_##name##_lanes <= n; i += 2 * frb_##name##_lanes)                      \
            for (int k = 0; k < 2; k++) {                                                         \
                memcpy(&v, a + i + k * frb_##name##_lanes, sizeof v);                             \
                s[k] |= v;                                                                        \
                memcpy(&v, b + i + k * frb_##name##_lanes, sizeof v);                             \
                s[2 + k] |= v;                                                                    \
            }                                                                                     \
        v = (s[0] | s[1]) | (s[2] | s[3]);                                                        \
        uint32_t bits = 0;                                                                        \
        for (int k = 0; k < frb_##name##_lanes; k++)                                              \
            bits |= v[k];                                                                         \
        for (; i < n; i++) {                                                                      \
            uint32_t ab[2];                                                                       \
            memcpy(&ab[0], a + i, 4);                                                             \
            memcpy(&ab[1], b + i, 4);                                                             \
            bits |= ab[0] | ab[1];                                                                \
        }                                                                                         \
        return (float)(bits & 1u);                                                                \
    }
// NOLINTEND(bugprone-macro-parentheses)

/* Everywhere (SSE2, NEON): 16-byte vectors, the baseline. */
FRB_CEILING_LOOPS(base, , 16)

#if defined(__x86_64__) && defined(__GNUC__)
FRB_CEILING_LOOPS(avx512, __attribute__((target("avx512f"))), 64)
FRB_CEILING_LOOPS(avx2, __attribute__((target("avx2"))), 32)
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * The ELU forward's op mix for one vector x, spelled with a shim's names: 9
 * FMA-pipe ops (fma, mul), 7 others, every result used. The constants only
 * keep the values finite.
 */
// NOLINTBEGIN(bugprone-macro-parentheses): `target` is an attribute, not an expression
#define FRB_CEILING_ELU(name, target, vec, lanes, fma, mul, max, sub, shl23, addi, ge, blend,     \
                        set1, load, store)                                                        \
    static target vec frb_elu_ops_##name(vec x)                                                   \
    {                                                                                             \
        const vec k1 = set1(0.5f), k2 = set1(0.25f), k3 = set1(-0.5f);                            \
        vec a = fma(x, k1, k2), b = fma(x, k2, k1), c = fma(x, k3, k2);                           \
        a = fma(a, k1, k2);                                                                       \
        b = fma(b, k2, k1);                                                                       \
        c = fma(c, k3, k2);                                                                       \
        vec d = mul(x, x);                                                                        \
        a = fma(a, b, c);                                                                         \
        a = fma(a, k1, d);                                                                        \
        vec s = sub(max(x, k3), k2);                                                              \
        vec e = sub(addi(shl23(s), k1), a);                                                       \
        return blend(ge(x, k2), e, x);                                                            \
    }                                                                                             \
                                                                                                  \
    static target void frb_elu_##name(const float *x, float *y, size_t n)                         \
    {                                                                                             \
        size_t i = 0;                                                                             \
        for (; i + 4 * (lanes) <= n; i += 4 * (lanes))                                            \
            for (int k = 0; k < 4; k++)                                                           \
                store(y + i + k * (lanes), frb_elu_ops_##name(load(x + i + k * (lanes))));        \
        for (; i < n; i++)                                                                        \
            y[i] = x[i];                                                                          \
    }
// NOLINTEND(bugprone-macro-parentheses)

#define FRB_SHL23_512(v) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(v), 23))
#define FRB_ADDI_512(a, b)                                                                        \
    _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define FRB_GE_512(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)
#define FRB_BLEND_512(m, a, b) _mm512_mask_blend_ps(m, a, b)
FRB_CEILING_ELU(avx512, __attribute__((target("avx512f,fma"))), __m512, 16, _mm512_fmadd_ps,
                _mm512_mul_ps, _mm512_max_ps, _mm512_sub_ps, FRB_SHL23_512, FRB_ADDI_512,
                FRB_GE_512, FRB_BLEND_512, _mm512_set1_ps, _mm512_loadu_ps, _mm512_storeu_ps)

#define FRB_SHL23_256(v) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(v), 23))
#define FRB_ADDI_256(a, b)                                                                        \
    _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b)))
#define FRB_GE_256(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define FRB_BLEND_256(m, a, b) _mm256_blendv_ps(a, b, m)
FRB_CEILING_ELU(avx2, __attribute__((target("avx2,fma"))), __m256, 8, _mm256_fmadd_ps,
                _mm256_mul_ps, _mm256_max_ps, _mm256_sub_ps, FRB_SHL23_256, FRB_ADDI_256,
                FRB_GE_256, FRB_BLEND_256, _mm256_set1_ps, _mm256_loadu_ps, _mm256_storeu_ps)
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/* The stream loop: y's head up to a vector boundary in floats, then four parts of whole vectors. */
// NOLINTBEGIN(bugprone-macro-parentheses): `target` is an attribute, not an expression
#define FRB_CEILING_STREAM(name, target, vec, lanes, load, stream)                                \
    static target void frb_stream_##name(const float *x, float *y, size_t n)                      \
    {                                                                                             \
        size_t i = 0;                                                                             \
        for (; i < n && (uintptr_t)(y + i) % ((lanes) * sizeof(float)); i++)                      \
            y[i] = x[i];                                                                          \
        size_t q = (n - i) / (4 * (lanes)) * (lanes);                                             \
        const float *xp = x + i;                                                                  \
        float *yp = y + i;                                                                        \
        for (size_t k = 0; k < q; k += (lanes)) {                                                 \
            vec a = load(xp + k), b = load(xp + q + k);                                           \
            vec c = load(xp + 2 * q + k), d = load(xp + 3 * q + k);                               \
            stream(yp + k, a);                                                                    \
            stream(yp + q + k, b);                                                                \
            stream(yp + 2 * q + k, c);                                                            \
            stream(yp + 3 * q + k, d);                                                            \
        }                                                                                         \
        for (i += 4 * q; i < n; i++)                                                              \
            y[i] = x[i];                                                                          \
        _mm_sfence();                                                                             \
    }
// NOLINTEND(bugprone-macro-parentheses)

FRB_CEILING_STREAM(avx512, __attribute__((target("avx512f"))), __m512, 16, _mm512_loadu_ps,
                   _mm512_stream_ps)
FRB_CEILING_STREAM(avx2, __attribute__((target("avx2"))), __m256, 8, _mm256_loadu_ps,
                   _mm256_stream_ps)
FRB_CEILING_STREAM(base, , __m128, 4, _mm_loadu_ps, _mm_stream_ps)
#define FRB_STREAM(name) frb_stream_##name
#else
#define FRB_STREAM(name) NULL /* no non-temporal store */
#endif

frb_ceiling frb_ceiling_get(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"))
        return (frb_ceiling){"512-bit", frb_store_avx512, frb_load_avx512, FRB_STREAM(avx512),
                              frb_elu_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (frb_ceiling){"256-bit", frb_store_avx2, frb_load_avx2, FRB_STREAM(avx2),
                              frb_elu_avx2};
    if (__builtin_cpu_supports("avx512f"))
        return (frb_ceiling){"512-bit", frb_store_avx512, frb_load_avx512, FRB_STREAM(avx512),
                              NULL};
    if (__builtin_cpu_supports("avx2"))
        return (frb_ceiling){"256-bit", frb_store_avx2, frb_load_avx2, FRB_STREAM(avx2), NULL};
#endif
    return (frb_ceiling){"128-bit", frb_store_base, frb_load_base, FRB_STREAM(base), NULL};
}
